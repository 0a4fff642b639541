"""Real Flower runs of apps beyond the demo: FLIP-shaped + custom strategy, classic API.

Each app under tests/data/apps/ runs once per session with `flwr run` on a private
simulation SuperLink (fedcrate.demo.runner.run_app), then its crate is asserted and
validated (fedcrate's shapes and the official validator).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import RDF, Graph, Literal, URIRef

from fedcrate import read_crate
from fedcrate.demo.runner import DemoResult, run_app
from fedcrate.rdf.namespaces import FL, SDO
from tests.support.validator import assert_crate_valid

pytestmark = pytest.mark.integration

APPS = Path(__file__).resolve().parents[1] / "data" / "apps"
MODEL_ID = "6f1c2d4e-9a8b-4c3d-8e7f-0a1b2c3d4e5f"
PROJECT_ID = "b7e2a0c1-3d4f-4a5b-9c6d-7e8f9a0b1c2d"
COHORT_QUERY = "SELECT accession_id FROM cohort WHERE age > 40"
ROUNDS = 2


@pytest.fixture(scope="module")
def flip_run(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    config = {
        "num-server-rounds": ROUNDS,
        "flip-model-id": MODEL_ID,
        "flip-project-id": PROJECT_ID,
        "flip-cohort-query": COHORT_QUERY,
    }
    return run_app(APPS / "flip_app", tmp_path_factory.mktemp("flip"), config, nodes=2)


@pytest.fixture(scope="module")
def classic_run(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    config = {"num-server-rounds": ROUNDS}
    return run_app(APPS / "classic_app", tmp_path_factory.mktemp("classic"), config, nodes=2)


def _run(graph: Graph) -> URIRef:
    run = next(graph.subjects(SDO.instrument, None))
    assert isinstance(run, URIRef)
    return run


def _strategy(graph: Graph) -> URIRef:
    strategy = next(graph.subjects(FL.pythonClass, None))
    assert isinstance(strategy, URIRef)
    return strategy


def _history(graph: Graph) -> dict[tuple[int, str, str], float]:
    rows = graph.query(
        """
        PREFIX fl: <https://w3id.org/fedcrate/fl#>
        PREFIX schema: <http://schema.org/>
        SELECT ?round ?side ?name ?value WHERE {
          ?run schema:result ?series . ?series fl:side ?side ; schema:name ?name ;
                                              fl:roundValue ?v .
          ?v fl:round ?round ; schema:value ?value .
        }"""
    )
    return {
        (int(r.round), str(r.side).rsplit("#", 1)[-1], str(r.name)): float(r.value)  # type: ignore[union-attr]
        for r in rows
    }


# -- custom strategy + FLIP ------------------------------------------------------------


def test_custom_strategy_subclass_is_captured_with_its_hyperparameters(
    flip_run: DemoResult,
) -> None:
    graph = read_crate(flip_run.crate_dir)
    strategy = _strategy(graph)
    assert str(graph.value(strategy, FL.pythonClass)) == "flip_app.server_app.FlipFedAdagrad"
    params = {
        str(graph.value(p, SDO.name)): graph.value(p, SDO.value).toPython()  # type: ignore[union-attr]
        for p in graph.objects(strategy, SDO.additionalProperty)
    }
    # Own hyperparameters and inherited ones (FedAdagrad's and FedAvg's).
    assert params["report_every"] == 1
    assert params["eta"] == 0.5 and params["tau"] == 0.01
    assert params["min_available_nodes"] == 2
    assert params["weighted_by_key"] == "num-examples"
    # The strategy is the app's own code: its source file ships in the crate.
    assert str(strategy).endswith("code/server_app.py")
    assert (flip_run.crate_dir / "code" / "server_app.py").is_file()


def test_custom_client_metric_appears_every_round(flip_run: DemoResult) -> None:
    graph = read_crate(flip_run.crate_dir)
    history = _history(graph)
    for server_round in range(1, ROUNDS + 1):
        assert history[(server_round, "ClientTraining", "training_time")] > 0
        assert (server_round, "ClientTraining", "train_mse") in history
        assert (server_round, "ClientEvaluation", "mse") in history
    units = set(graph.objects(None, SDO.unitCode))
    assert URIRef("http://qudt.org/vocab/unit/SEC") in units


def test_flip_model_id_cohort_and_sites(flip_run: DemoResult) -> None:
    graph = read_crate(flip_run.crate_dir)
    run = _run(graph)
    model = next(o for o in graph.objects(run, SDO.result) if str(o).endswith(".npz"))
    assert graph.value(model, SDO.identifier) == URIRef(f"urn:uuid:{MODEL_ID}")
    cohorts = [o for o in graph.objects(run, SDO.object) if (o, FL.cohortQuery, None) in graph]
    assert len(cohorts) == 1
    cohort = cohorts[0]
    assert graph.value(cohort, FL.cohortQuery) == Literal(COHORT_QUERY)
    assert graph.value(cohort, FL.projectId) == Literal(PROJECT_ID)
    assert (cohort, RDF.type, SDO.Dataset) in graph
    # Two sites replied; their names stay out unless the user opts in.
    assert graph.value(run, FL.siteCount) == Literal(2)
    text = (flip_run.crate_dir / "ro-crate-metadata.json").read_text()
    assert "site-0" not in text and "site-1" not in text


def test_flip_crate_is_valid(flip_run: DemoResult, validator_python: Path) -> None:
    assert_crate_valid(flip_run.crate_dir, validator_python)


# -- classic API ---------------------------------------------------------------------


def test_classic_api_strategy_metrics_and_model(classic_run: DemoResult) -> None:
    graph = read_crate(classic_run.crate_dir)
    strategy = _strategy(graph)
    assert str(graph.value(strategy, FL.pythonClass)) == "flwr.server.strategy.fedavg.FedAvg"
    assert str(graph.value(strategy, SDO.url)).endswith("flwr.server.strategy.FedAvg.html")
    params = {
        str(graph.value(p, SDO.name)): graph.value(p, SDO.value).toPython()  # type: ignore[union-attr]
        for p in graph.objects(strategy, SDO.additionalProperty)
    }
    assert params["fraction_fit"] == 1.0 and params["min_fit_clients"] == 2
    history = _history(graph)
    # Centralised evaluation from round 0; federated fit and evaluate from round 1.
    assert (0, "ServerEvaluation", "loss") in history
    for server_round in range(1, ROUNDS + 1):
        assert (server_round, "ServerEvaluation", "mse") in history
        assert (server_round, "ClientEvaluation", "loss") in history
        assert (server_round, "ClientTraining", "train_mse") in history
    # Training improves the held-out loss.
    assert history[(ROUNDS, "ServerEvaluation", "loss")] < history[(0, "ServerEvaluation", "loss")]
    run = _run(graph)
    assert graph.value(run, FL.numRounds) == Literal(ROUNDS)
    assert graph.value(run, FL.nodeCount) == Literal(2)
    # No grid= in a classic app: the Grid comes from the client proxies configure_fit returns.
    assert graph.value(run, FL.runtimeMode) == Literal("simulation")
    assert len(set(graph.objects(run, FL.nodeIdDigest))) == 2
    assert str(graph.value(run, SDO.actionStatus)).endswith("CompletedActionStatus")
    assert any(str(o).endswith("final_model.npz") for o in graph.objects(run, SDO.result))


def test_classic_api_participation(classic_run: DemoResult) -> None:
    graph = read_crate(classic_run.crate_dir)
    counts = {
        (int(r.round), str(r.side).rsplit("#", 1)[-1]): (int(r.s), int(r.r), int(r.f), int(r.e))  # type: ignore[union-attr]
        for r in graph.query(
            """
            PREFIX fl: <https://w3id.org/fedcrate/fl#>
            SELECT ?round ?side ?s ?r ?f ?e WHERE {
              ?run fl:participation [ fl:round ?round ; fl:side ?side ; fl:nodesSampled ?s ;
                   fl:repliesReceived ?r ; fl:repliesFailed ?f ; fl:examplesAggregated ?e ] .
            }"""
        )
    }
    examples = 64 + 80  # partitions 0 and 1 of task.partition
    for server_round in range(1, ROUNDS + 1):
        assert counts[(server_round, "ClientTraining")] == (2, 2, 0, examples)
        assert counts[(server_round, "ClientEvaluation")] == (2, 2, 0, examples)


def test_classic_crate_is_valid(classic_run: DemoResult, validator_python: Path) -> None:
    assert_crate_valid(classic_run.crate_dir, validator_python)
