"""A real Flower simulation of the bundled app, recorded by the tracker: assert the graph."""

from __future__ import annotations

import csv
import hashlib
import json
import os
from pathlib import Path

import pytest
from rdflib import Graph

from fedcrate import read_crate
from fedcrate.demo.runner import DemoResult
from fedcrate.record.redaction import REDACTED

from .conftest import DEMO_NODES, DEMO_ROUNDS

pytestmark = pytest.mark.integration

PREFIXES = """
PREFIX schema: <http://schema.org/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX fl: <https://w3id.org/fedcrate/fl#>
"""


@pytest.fixture(scope="module")
def graph(demo_crate: Path) -> Graph:
    return read_crate(demo_crate)


def select(graph: Graph, query: str) -> list[tuple[str, ...]]:
    return sorted(
        tuple("" if v is None else str(v) for v in row) for row in graph.query(PREFIXES + query)
    )


def test_crate_written_where_asked_and_every_process_stopped(demo_run: DemoResult) -> None:
    assert demo_run.crate_dir.is_absolute()
    assert (demo_run.crate_dir / "ro-crate-metadata.json").is_file()
    assert demo_run.leftover_pids == ()
    for pid in demo_run.leftover_pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_run_facts(graph: Graph) -> None:
    [(status, run_id, fab, nodes, rounds, agent)] = select(
        graph,
        """SELECT ?status ?runId ?fab ?nodes ?rounds ?agent WHERE {
             ?run a schema:CreateAction, prov:Activity ; schema:actionStatus ?status ;
                  fl:runId ?runId ; fl:fabId ?fab ; fl:nodeCount ?nodes ; fl:numRounds ?rounds ;
                  schema:agent ?agent ; prov:wasAssociatedWith ?agent ;
                  schema:startTime ?start ; schema:endTime ?end . }""",
    )
    assert status == "http://schema.org/CompletedActionStatus"
    assert int(run_id) > 0 and fab.endswith("fedcrate-demo")
    assert (int(nodes), int(rounds)) == (DEMO_NODES, DEMO_ROUNDS)
    assert agent == "https://orcid.org/0000-0002-1825-0097"


def test_declarations_come_from_the_apps_pyproject(graph: Graph) -> None:
    # The demo passes no author, license or datasets: [tool.fedcrate] declares them.
    [(author, license_, keywords)] = select(
        graph,
        """SELECT ?author ?license (GROUP_CONCAT(?keyword; separator="|") AS ?keywords)
           WHERE { ?root schema:mentions ?run ; schema:author ?author ;
                         schema:license ?license ; schema:keywords ?keyword . }
           GROUP BY ?author ?license""",
    )
    assert author == "https://orcid.org/0000-0002-1825-0097"
    assert license_ == "https://spdx.org/licenses/Apache-2.0"
    assert "handwritten digits" in keywords.split("|")
    [(dataset,)] = select(
        graph,
        """SELECT ?d WHERE { ?run a schema:CreateAction ; schema:object ?d .
             ?d a schema:Dataset ; schema:license ?l . }""",
    )
    assert (
        dataset
        == "https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits"
    )


def test_instruments_flower_frameworks_and_strategy(graph: Graph) -> None:
    software = select(
        graph,
        """SELECT ?name ?version ?declared WHERE { ?run schema:instrument ?s .
             ?s schema:name ?name ; schema:version ?version .
             OPTIONAL { ?s schema:softwareRequirements ?declared } }""",
    )
    by_name = {name: (version, declared) for name, version, declared in software}
    assert set(by_name) == {"Flower", "scikit-learn", "NumPy", "FedAvg"}
    assert by_name["scikit-learn"][1] == "scikit-learn>=1.3"
    assert by_name["NumPy"][1] == "numpy>=1.26"
    hyper = dict(
        select(
            graph,
            """SELECT ?name ?value WHERE { ?s a fl:AggregationStrategy ;
                 schema:additionalProperty [ schema:name ?name ; schema:value ?value ] }""",
        )
    )
    assert hyper["fraction_train"] == "1.0" and hyper["min_available_nodes"] == str(DEMO_NODES)
    assert hyper["weighted_by_key"] == "num-examples"


def test_run_config_is_the_object_with_secrets_redacted(graph: Graph) -> None:
    config = dict(
        select(
            graph,
            """SELECT ?name ?value WHERE {
                 ?run schema:object [ schema:name ?name ; schema:value ?value ] }""",
        )
    )
    assert config["num-server-rounds"] == str(DEMO_ROUNDS)
    assert config["api-token"] == REDACTED
    assert "demo-not-a-secret" not in json.dumps(config)


def test_every_round_every_metric(graph: Graph) -> None:
    observed = select(
        graph,
        """SELECT ?side ?metric (GROUP_CONCAT(STR(?round); separator=",") AS ?rounds) WHERE {
             SELECT ?side ?metric ?round WHERE {
               ?run schema:result ?series . ?series schema:name ?metric ;
                    fl:side/schema:termCode ?side ; fl:roundValue ?o .
               ?o fl:round ?round ; schema:value ?value }
             ORDER BY ?round }
           GROUP BY ?side ?metric""",
    )
    client_rounds = ",".join(str(r) for r in range(1, DEMO_ROUNDS + 1))
    server_rounds = ",".join(str(r) for r in range(0, DEMO_ROUNDS + 1))
    expected = {
        ("server-evaluate", "loss", server_rounds),
        ("server-evaluate", "accuracy", server_rounds),
        ("client-train", "train_loss", client_rounds),
        ("client-train", "train_accuracy", client_rounds),
        ("client-evaluate", "loss", client_rounds),
        ("client-evaluate", "accuracy", client_rounds),
    }
    assert expected <= set(observed)


def test_round_values_hang_from_series_in_result_and_match_the_csv(
    graph: Graph, demo_crate: Path
) -> None:
    """The per-round CSV (written from the same observations) and the graph, read through
    run → result → series → fl:roundValue, hold the same facts; no round value is a
    PropertyValue, so every PropertyValue metric is in the run's result."""
    facts = select(
        graph,
        """SELECT ?round ?side ?metric ?iri ?value WHERE {
             ?run a fl:FederatedRun ; schema:result ?series .
             ?series a schema:PropertyValue, fl:FinalMetric ; schema:name ?metric ;
                     schema:propertyID ?iri ; fl:side/schema:termCode ?side ;
                     fl:roundValue ?v .
             ?v a fl:RoundValue ; fl:round ?round ; schema:value ?value }""",
    )
    with (demo_crate / "metrics-by-round.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and len(facts) == len(rows)
    from_csv = sorted(
        (r["round"], r["side"], r["metric"], r["metric_iri"] or r["metric"], float(r["value"]))
        for r in rows
    )
    assert sorted((r, s, m, i, float(v)) for r, s, m, i, v in facts) == from_csv
    assert not select(graph, "SELECT ?v WHERE { ?v a fl:RoundValue , schema:PropertyValue }")


def test_final_metrics_linked_from_result_and_model(graph: Graph) -> None:
    finals = select(
        graph,
        """SELECT ?side ?name ?pid ?value WHERE {
             ?run schema:result ?m , ?model . ?model schema:additionalProperty ?m .
             ?m a fl:FinalMetric ; schema:name ?name ; schema:propertyID ?pid ;
                schema:value ?value ; fl:side/schema:termCode ?side }""",
    )
    accuracy = {(side, pid) for side, name, pid, _ in finals if name == "accuracy"}
    stato = "http://purl.obolibrary.org/obo/STATO_0000415"
    assert accuracy == {("server-evaluate", stato), ("client-evaluate", stato)}
    server_accuracy = next(
        float(v) for s, n, _, v in finals if (s, n) == ("server-evaluate", "accuracy")
    )
    assert 0.5 < server_accuracy <= 1.0, "FedAvg on digits should learn something in 3 rounds"


def test_model_checksum_is_the_files_sha256(graph: Graph, demo_crate: Path) -> None:
    [(path, sha, size, fmt)] = select(
        graph,
        """SELECT ?model ?sha ?size ?fmt WHERE { ?run a schema:CreateAction ; schema:result ?model .
             ?model schema:additionalProperty ?m ; schema:sha256 ?sha ; schema:contentSize ?size ;
                    schema:encodingFormat ?fmt . } GROUP BY ?model ?sha ?size ?fmt""",
    )
    model = demo_crate / path.rsplit("/", 1)[-1]
    assert model.name == "global_model.npz"
    assert sha == hashlib.sha256(model.read_bytes()).hexdigest()
    assert int(size) == model.stat().st_size and fmt


def test_no_private_paths(demo_crate: Path) -> None:
    text = (demo_crate / "ro-crate-metadata.json").read_text()
    assert str(Path.home()) + "/" not in text, "paths under the home folder must be ~/…"
