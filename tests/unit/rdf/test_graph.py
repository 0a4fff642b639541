"""RunRecord → graph: every entity, both vocabularies, ids that never collide."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from fedcrate.crate import read_crate, write_crate
from fedcrate.rdf.graph import build_graph
from fedcrate.rdf.namespaces import FL, PROV, SDO, base_iri
from fedcrate.record import Metric, RoundObservation, RunRecord, RunStatus, Side

PREFIXES = """
PREFIX schema: <http://schema.org/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX fl: <https://w3id.org/fedcrate/fl#>
PREFIX dct: <http://purl.org/dc/terms/>
"""


def rows(graph: Graph, query: str) -> list[tuple[str, ...]]:
    return sorted(tuple(str(v) for v in row) for row in graph.query(PREFIXES + query))


def test_run_is_a_create_action_and_a_prov_activity(
    record_factory: Callable[..., RunRecord],
) -> None:
    record = record_factory()
    graph = build_graph(record)
    run = URIRef(base_iri(record.run_uuid) + "#fl-run")
    types = set(graph.objects(run, RDF.type))
    assert {SDO.CreateAction, PROV.Activity, FL.FederatedRun} <= types
    assert (URIRef(base_iri(record.run_uuid)), SDO.mentions, run) in graph
    assert (run, SDO.actionStatus, Literal("http://schema.org/CompletedActionStatus")) in graph
    assert (run, SDO.error, None) not in graph


def test_prov_view_needs_no_inference(record_factory: Callable[..., RunRecord]) -> None:
    graph = build_graph(record_factory())
    found = rows(
        graph,
        """SELECT ?agent ?start ?end (COUNT(DISTINCT ?used) AS ?n) WHERE {
             ?run a prov:Activity ; prov:wasAssociatedWith ?agent ;
                  prov:startedAtTime ?start ; prov:endedAtTime ?end ; prov:used ?used .
           } GROUP BY ?agent ?start ?end""",
    )
    assert found == [
        (
            "https://orcid.org/0000-0002-1825-0097",
            "2026-11-25T10:00:00.123000+00:00",
            "2026-11-25T10:00:43.111000+00:00",
            "5",  # four run-config entries and one dataset
        )
    ]


def test_times_have_milliseconds_and_an_offset(record_factory: Callable[..., RunRecord]) -> None:
    graph = build_graph(record_factory())
    times = rows(graph, "SELECT ?t WHERE { ?r schema:startTime|schema:endTime ?t }")
    assert times == [("2026-11-25T10:00:00.123+00:00",), ("2026-11-25T10:00:43.111+00:00",)]
    pattern = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")
    assert all(pattern.match(t) for (t,) in times)


def test_instruments_have_name_url_and_version(record_factory: Callable[..., RunRecord]) -> None:
    graph = build_graph(record_factory())
    found = rows(
        graph,
        """SELECT ?name ?url ?version WHERE {
             ?run schema:instrument ?s . ?s a schema:SoftwareApplication ; schema:name ?name .
             OPTIONAL { ?s schema:url ?url } OPTIONAL { ?s schema:version ?version } }""",
    )
    assert found == [
        (
            "FedProx",
            "https://flower.ai/docs/framework/ref-api/flwr.serverapp.strategy.FedProx.html",
            "1.42.0",
        ),
        ("Flower", "https://flower.ai/", "1.42.0"),
        ("NumPy", "https://numpy.org/", "2.4.6"),
    ]
    assert rows(graph, "SELECT ?r WHERE { ?s schema:softwareRequirements ?r }") == [
        ("numpy>=1.26",)
    ]


def test_strategy_hyperparameters(record_factory: Callable[..., RunRecord]) -> None:
    graph = build_graph(record_factory())
    found = rows(
        graph,
        """SELECT ?class ?name ?value WHERE {
             ?s a fl:AggregationStrategy ; fl:pythonClass ?class ;
                schema:additionalProperty [ schema:name ?name ; schema:value ?value ] }""",
    )
    assert found == [
        ("flwr.serverapp.strategy.fedprox.FedProx", "fraction_train", "0.5"),
        ("flwr.serverapp.strategy.fedprox.FedProx", "proximal_mu", "0.1"),
    ]


def test_config_keys_that_slug_alike_stay_distinct(
    record_factory: Callable[..., RunRecord],
) -> None:
    # flwrCrate slugged both to #param-num-rounds and silently lost one.
    graph = build_graph(record_factory())
    found = rows(
        graph,
        """SELECT ?id ?name ?value WHERE { ?run schema:object ?id .
             ?id schema:name ?name ; schema:value ?value . FILTER(STRSTARTS(?name, "num")) }""",
    )
    assert [(i.rsplit("#", 1)[1], n, v) for i, n, v in found] == [
        ("param-num-rounds", "num-rounds", "4"),
        ("param-num_rounds", "num_rounds", "3"),
    ]


def test_every_round_every_metric_every_side(record_factory: Callable[..., RunRecord]) -> None:
    record = record_factory(rounds=4)
    graph = build_graph(record)
    counted = rows(
        graph,
        """SELECT ?side (COUNT(?o) AS ?n) (MIN(?r) AS ?first) (MAX(?r) AS ?last) WHERE {
             ?run schema:result ?series . ?series fl:side/schema:termCode ?side ;
                  fl:roundValue ?o . ?o fl:round ?r }
           GROUP BY ?side""",
    )
    assert counted == [
        ("client-evaluate", "8", "1", "4"),
        ("client-train", "8", "1", "4"),
        ("server-evaluate", "10", "0", "4"),
    ]


def test_server_loss_is_not_overwritten_by_client_loss(
    record_factory: Callable[..., RunRecord],
) -> None:
    graph = build_graph(record_factory(rounds=3))
    finals = rows(
        graph,
        """SELECT ?side ?value WHERE { ?run schema:result ?m . ?m a fl:FinalMetric ;
             schema:name "loss" ; schema:value ?value ; fl:side/schema:termCode ?side }""",
    )
    assert finals == [
        ("client-evaluate", "0.75"),
        ("client-train", "0.5"),
        ("server-evaluate", "0.2"),
    ]


def test_final_metrics_carry_property_ids(record_factory: Callable[..., RunRecord]) -> None:
    graph = build_graph(record_factory())
    ids = rows(
        graph,
        """SELECT DISTINCT ?name ?pid WHERE { ?run schema:result ?m . ?m a fl:FinalMetric ;
             schema:name ?name ; schema:propertyID ?pid }""",
    )
    assert ids == [("accuracy", "http://purl.obolibrary.org/obo/STATO_0000415"), ("loss", "loss")]
    assert all(isinstance(p, URIRef) for p in graph.objects(None, SDO.propertyID) if "STATO" in p)


def test_profiles_are_typed_profile(record_factory: Callable[..., RunRecord]) -> None:
    graph = build_graph(record_factory())
    found = rows(
        graph,
        """SELECT ?p ?name WHERE { ?root a schema:Dataset ; dct:conformsTo ?p .
             ?p a schema:CreativeWork, <http://www.w3.org/ns/dx/prof/Profile> ;
                schema:name ?name }""",
    )
    assert [p for p, _ in found] == [
        "https://esciencelab.org.uk/federated-learning-ro-crate-profile/federated-learning-profile.html",
        "https://w3id.org/fedcrate/profile/0.1",
        "https://w3id.org/ro/wfrun/process/0.5",
    ]


def test_failed_run_records_error(record_factory: Callable[..., RunRecord]) -> None:
    record = replace(record_factory(), status=RunStatus.FAILED, error="RuntimeError: round 2 died")
    graph = build_graph(record)
    assert rows(graph, "SELECT ?s ?e WHERE { ?r schema:actionStatus ?s ; schema:error ?e }") == [
        ("http://schema.org/FailedActionStatus", "RuntimeError: round 2 died")
    ]


def test_no_blank_nodes_and_ids_under_the_crate_base(
    record_factory: Callable[..., RunRecord],
) -> None:
    record = record_factory()
    graph = build_graph(record)
    subjects = set(graph.subjects())
    assert all(isinstance(s, URIRef) for s in subjects)
    local = [s for s in subjects if str(s).startswith("arcp://")]
    assert local and all(str(s).startswith(base_iri(record.run_uuid)) for s in local)


def test_non_finite_metric_values_are_kept_as_text(
    record_factory: Callable[..., RunRecord],
) -> None:
    record = record_factory(rounds=1)
    first = record.observations[0]
    record.observations[0] = replace(first, value=float("nan"))
    graph = build_graph(record)
    assert Literal("nan") in set(graph.objects(None, SDO.value))


def test_build_graph_is_the_written_crates_graph_when_a_side_skipped_rounds(
    record_factory: Callable[..., RunRecord], tmp_path: Path
) -> None:
    """Gaps (a metric reported in rounds 1 and 3 only) are stated by the graph itself,
    so `build_graph` and the crate written for the same record agree triple for triple."""
    record = record_factory()
    sparse = Metric("dice")
    record.observations = [
        *record.observations,
        RoundObservation(1, Side.CLIENT_TRAIN, sparse, 0.5),
        RoundObservation(3, Side.CLIENT_TRAIN, sparse, 0.25),
    ]
    written = write_crate(record, tmp_path, preview=False)
    built = build_graph(replace(record, files=written.record.files))
    crate = read_crate(written.path)
    dice = URIRef(base_iri(record.run_uuid) + "#round-2-client-train-dice")
    assert (dice, SDO.value, Literal("nan")) in built
    assert isomorphic(built, crate)
