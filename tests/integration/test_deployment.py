"""Deployment runtime for real: `flower-superlink` + two `flower-supernode`s on 127.0.0.1.

The bundled app runs with `flwr run <app> <connection> --stream` against our own
SuperLink (own FLWR_HOME, free ports, --insecure, runtime dependency installation off);
every process is stopped by PID when the runner returns (see fedcrate.demo.runner).
About 40-60 s here, once per session.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef

from fedcrate import read_crate
from fedcrate.demo.runner import APP_DIR, DemoResult, run_app
from fedcrate.namespaces import FL, SDO
from tests.support.validator import assert_crate_valid

pytestmark = pytest.mark.integration

NODES = 2
ROUNDS = 2


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    return run_app(
        APP_DIR,
        tmp_path_factory.mktemp("deployment"),
        {"num-server-rounds": ROUNDS, "min-nodes": NODES},
        nodes=NODES,
        mode="deployment",
        timeout=400,
    )


@pytest.fixture(scope="module")
def graph(deployed: DemoResult) -> Graph:
    return read_crate(deployed.crate_dir)


def _run(graph: Graph) -> URIRef:
    run = next(graph.subjects(FL.runtimeMode, None))
    assert isinstance(run, URIRef)
    return run


def test_federation_facts_match_what_flower_reports(deployed: DemoResult, graph: Graph) -> None:
    run = _run(graph)
    assert graph.value(run, FL.runtimeMode) == Literal("deployment")
    assert graph.value(run, FL.nodeCount).toPython() == NODES  # type: ignore[union-attr]
    assert len(set(graph.objects(run, FL.nodeIdDigest))) == NODES
    # The run id the crate states is the one `flwr ls --format json` lists.
    assert deployed.flwr_ls is not None and deployed.run_id is not None
    assert str(deployed.flwr_ls["run-id"]) == deployed.run_id
    assert str(graph.value(run, FL.runId)) == deployed.run_id
    assert str(graph.value(run, FL.fabHash)) == deployed.flwr_ls["fab-hash"]
    assert str(graph.value(run, FL.federationId)) == deployed.flwr_ls["federation-id"]
    assert str(deployed.flwr_ls["status"]) == "finished:completed"


def test_security_posture_is_stated_as_facts(graph: Graph) -> None:
    run = _run(graph)
    # --insecure everywhere, and SuperNodes registered themselves (no node authentication).
    assert graph.value(run, FL.tlsEnabled) == Literal(False)
    assert graph.value(run, FL.nodeAuthenticationEnabled) == Literal(False)
    address = str(graph.value(run, FL.superlinkAddress))
    assert address.startswith("127.0.0.1:")


def test_participation_every_round(graph: Graph) -> None:
    rows = graph.query(
        """
        PREFIX fl: <https://w3id.org/fedcrate/fl#>
        SELECT ?round ?side ?sampled ?received ?failed ?examples WHERE {
          ?run fl:participation [ fl:round ?round ; fl:side ?side ; fl:nodesSampled ?sampled ;
               fl:repliesReceived ?received ; fl:repliesFailed ?failed ;
               fl:examplesAggregated ?examples ] .
        } ORDER BY ?round ?side"""
    )
    seen = {(int(r.round), str(r.side).rsplit("#", 1)[-1]) for r in rows}  # type: ignore[union-attr]
    assert seen == {(r, s) for r in (1, 2) for s in ("ClientTraining", "ClientEvaluation")}
    for row in rows:
        assert (int(row.sampled), int(row.received), int(row.failed)) == (NODES, NODES, 0)  # type: ignore[union-attr]
        assert int(row.examples) > 0  # type: ignore[union-attr]


def test_run_completed_and_crate_is_valid(
    deployed: DemoResult, graph: Graph, validator_python: Path
) -> None:
    run = _run(graph)
    assert str(graph.value(run, SDO.actionStatus)).endswith("CompletedActionStatus")
    assert_crate_valid(deployed.crate_dir, validator_python)
