"""Participation, federation facts and failures, from one real in-process Flower simulation.

One simulation (Ray starts once) runs FedAvg on the same nodes several times: bare, under
the tracker, under the tracker with flwrCrate's plain signature (no `grid=`), with a
server-side evaluate that raises in round 2 of 4, with a node that fails on purpose in
round 2, and with a strategy that gives up when a ClientApp raises in round 2 of 4. The
tracker wraps the strategy instance, so the bare and tracked runs must aggregate
byte-identical arrays; the counts it records must match what the ClientApps did, the
failure included (an error reply, counted as failed). Runs with a ClientApp exception go
last: one can cost Ray an actor, which must not disturb the comparison.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import FedAvg
from flwr.simulation import run_simulation
from rdflib import Literal, URIRef

from fedcrate import FLCrateTracker, read_crate
from fedcrate.capture.deployment import node_id_digest
from fedcrate.rdf.namespaces import FL, SDO
from tests.support.validator import assert_crate_valid

pytestmark = pytest.mark.integration

NODES = 3
ROUNDS = 3
FAILING_PARTITION, FAILING_ROUND = 2, 2
AUTHOR, LICENSE = "https://orcid.org/0000-0002-1825-0097", "Apache-2.0"
LONG_ROUNDS = 4  # the failing runs: raise in round FAILING_ROUND of LONG_ROUNDS


def _examples(partition: int) -> int:
    # Dyadic weights (16, 16, 32) and integer updates keep every weighted sum exact in
    # float64, so arrays are byte-identical whatever order the replies arrive in.
    return 32 if partition == 2 else 16


client = ClientApp()


@client.train()
def _train(msg: Message, context: Context) -> Message:
    partition = int(context.node_config["partition-id"])
    server_round = int(msg.content["config"]["server-round"])
    inject = bool(msg.content["config"].get("inject-fault", False))
    if inject and partition == FAILING_PARTITION and server_round == FAILING_ROUND:
        raise RuntimeError("injected client fault")
    arrays = msg.content["arrays"].to_numpy_ndarrays()
    rng = np.random.default_rng(1000 * server_round + partition)
    updated = [a + rng.integers(-8, 8, size=a.shape).astype(a.dtype) for a in arrays]
    metrics = MetricRecord({"num-examples": _examples(partition), "training_time": 0.01})
    content = RecordDict(
        {
            "arrays": ArrayRecord(updated),
            "metrics": metrics,
            "meta": ConfigRecord({"site": f"site-{partition}"}),
        }
    )
    return Message(content, reply_to=msg)


@client.evaluate()
def _evaluate(msg: Message, context: Context) -> Message:
    partition = int(context.node_config["partition-id"])
    metrics = MetricRecord({"num-examples": 5 * (partition + 1), "accuracy": 0.5})
    return Message(RecordDict({"metrics": metrics}), reply_to=msg)


def _strategy() -> FedAvg:
    return FedAvg(fraction_train=1.0, fraction_evaluate=1.0, min_available_nodes=NODES)


class StrictFedAvg(FedAvg):
    """A strategy of the kind many apps write: a failed node fails the run."""

    def aggregate_train(self, server_round: int, replies: Any) -> Any:
        replies = list(replies)
        if any(reply.has_error() for reply in replies):
            raise RuntimeError(f"a ClientApp failed in round {server_round}")
        return super().aggregate_train(server_round, replies)


def _server_evaluate(server_round: int, arrays: ArrayRecord) -> MetricRecord:
    return MetricRecord({"server_accuracy": 0.1 * server_round})


def _server_evaluate_failing(server_round: int, arrays: ArrayRecord) -> MetricRecord:
    if server_round == FAILING_ROUND:
        raise RuntimeError("server-side evaluate failed")
    return _server_evaluate(server_round, arrays)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("participation")
    seen: dict[str, Any] = {}
    server = ServerApp()

    @server.main()
    def _main(grid: Grid, context: Context) -> None:
        initial = ArrayRecord([np.zeros((2, 3)), np.ones(4)])
        # Warm-up: on a loaded machine a ClientApp's first call can fail while Ray starts
        # its actors, which would make the bare run differ for reasons outside the tracker.
        _strategy().start(grid=grid, initial_arrays=initial, num_rounds=1)
        bare = _strategy().start(grid=grid, initial_arrays=initial, num_rounds=ROUNDS)
        seen["bare"] = bare.arrays.to_numpy_ndarrays()
        seen["node_ids"] = sorted(int(n) for n in grid.get_node_ids())
        strategy = _strategy()
        with FLCrateTracker(
            context, strategy, output_dir=out, app_name="participation", grid=grid
        ) as tracker:
            tracked = strategy.start(grid=grid, initial_arrays=initial, num_rounds=ROUNDS)
            tracker.record_result(tracked)
        seen["tracked"] = tracked.arrays.to_numpy_ndarrays()
        seen["crate"] = tracker.crate.path if tracker.crate else None
        seen["restored"] = "aggregate_train" not in vars(strategy)
        # flwrCrate's plain signature, positional as its README shows it: no grid=, and
        # evaluate_fn not passed through wrap_evaluate; the tracker takes both from the
        # strategy's own calls.
        plain = _strategy()
        with FLCrateTracker(
            context, plain, out, None, "plain", AUTHOR, LICENSE, record_model_lineage=True
        ) as tracker:
            result = plain.start(
                grid=grid, initial_arrays=initial, num_rounds=ROUNDS, evaluate_fn=_server_evaluate
            )
            tracker.record_result(result)
        seen["plain_crate"] = tracker.crate.path if tracker.crate else None
        seen["plain_arrays"] = result.arrays
        server_fails = _strategy()
        with (
            pytest.raises(RuntimeError, match="server-side evaluate failed"),
            FLCrateTracker(context, server_fails, out, None, "server fails", AUTHOR, LICENSE) as t,
        ):
            t.record_result(
                server_fails.start(
                    grid=grid,
                    initial_arrays=initial,
                    num_rounds=LONG_ROUNDS,
                    evaluate_fn=t.wrap_evaluate(_server_evaluate_failing),
                )
            )
        seen["server_fails_crate"] = t.crate.path if t.crate else None
        faulty = _strategy()
        with FLCrateTracker(
            context,
            faulty,
            output_dir=out,
            app_name="participation with a fault",
            license=LICENSE,
            grid=grid,
            record_clients=True,
        ) as tracker:
            result = faulty.start(
                grid=grid,
                initial_arrays=initial,
                num_rounds=ROUNDS,
                train_config=ConfigRecord({"inject-fault": True}),
            )
            tracker.record_result(result)
        seen["faulty_crate"] = tracker.crate.path if tracker.crate else None
        client_fails = StrictFedAvg(
            fraction_train=1.0, fraction_evaluate=1.0, min_available_nodes=NODES
        )
        with (
            pytest.raises(RuntimeError, match="a ClientApp failed in round 2"),
            FLCrateTracker(context, client_fails, out, None, "client fails", AUTHOR, LICENSE) as t,
        ):
            t.record_result(
                client_fails.start(
                    grid=grid,
                    initial_arrays=initial,
                    num_rounds=LONG_ROUNDS,
                    train_config=ConfigRecord({"inject-fault": True}),
                    evaluate_fn=t.wrap_evaluate(_server_evaluate),
                )
            )
        seen["client_fails_crate"] = t.crate.path if t.crate else None

    run_simulation(
        server_app=server,
        client_app=client,
        num_supernodes=NODES,
        backend_config={"client_resources": {"num_cpus": 1}},
    )
    return seen


def test_tracked_strategy_aggregates_byte_identical_arrays(simulated: dict[str, Any]) -> None:
    assert len(simulated["bare"]) == len(simulated["tracked"]) == 2
    for bare, tracked in zip(simulated["bare"], simulated["tracked"], strict=True):
        assert bare.dtype == tracked.dtype
        assert bare.tobytes() == tracked.tobytes()
    assert simulated["restored"], "the tracker must remove its wrappers when the run ends"


def test_participation_counts_per_round_and_phase(simulated: dict[str, Any]) -> None:
    graph = read_crate(Path(simulated["faulty_crate"]))
    rows = {
        (int(r.round), str(r.side).rsplit("#", 1)[-1]): (
            r.sampled.toPython(),
            r.received.toPython(),
            r.failed.toPython(),
            r.examples.toPython(),
        )
        for r in graph.query(
            """
            PREFIX fl: <https://w3id.org/fedcrate/fl#>
            SELECT ?round ?side ?sampled ?received ?failed ?examples WHERE {
              ?run fl:participation ?p .
              ?p a fl:RoundParticipation ; fl:round ?round ; fl:side ?side ;
                 fl:nodesSampled ?sampled ; fl:repliesReceived ?received ;
                 fl:repliesFailed ?failed ; fl:examplesAggregated ?examples .
            }"""
        )
    }
    all_train = sum(_examples(p) for p in range(NODES))
    for server_round in range(1, ROUNDS + 1):
        failed = 1 if server_round == FAILING_ROUND else 0
        lost = _examples(FAILING_PARTITION) if failed else 0
        assert rows[(server_round, "ClientTraining")] == (NODES, NODES, failed, all_train - lost)
        assert rows[(server_round, "ClientEvaluation")] == (
            NODES,
            NODES,
            0,
            sum(5 * (p + 1) for p in range(NODES)),
        )
    assert len(rows) == 2 * ROUNDS


def test_federation_facts_of_a_simulation(simulated: dict[str, Any]) -> None:
    graph = read_crate(Path(simulated["crate"]))
    run = next(graph.subjects(FL.participation, None))
    assert graph.value(run, FL.runtimeMode) == Literal("simulation")
    assert graph.value(run, FL.nodeCount).toPython() == NODES  # type: ignore[union-attr]
    digests = {str(o) for o in graph.objects(run, FL.nodeIdDigest)}
    assert digests == {node_id_digest(n) for n in simulated["node_ids"]}
    text = (Path(simulated["crate"]) / "ro-crate-metadata.json").read_text()
    assert not any(str(n) in text for n in simulated["node_ids"]), "raw node ids leaked"
    # Sites are counted, not named, unless the user opts in.
    assert graph.value(run, FL.siteCount).toPython() == NODES  # type: ignore[union-attr]
    assert "site-0" not in text
    # No TLS claim about an in-process simulation.
    assert graph.value(run, FL.tlsEnabled) is None
    assert isinstance(run, URIRef)


def _facts(graph: Any) -> dict[str, Any]:
    run = next(graph.subjects(FL.runtimeMode, None))
    return {
        "mode": graph.value(run, FL.runtimeMode),
        "run id": graph.value(run, FL.runId),
        "nodes": graph.value(run, FL.nodeCount),
        "digests": set(graph.objects(run, FL.nodeIdDigest)),
        "rounds": graph.value(run, FL.numRounds),
    }


def _series_rounds(graph: Any) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for series, side in graph.subject_objects(FL.side):
        rounds = {int(graph.value(v, FL.round)) for v in graph.objects(series, FL.roundValue)}
        out.setdefault(str(side).rsplit("#", 1)[-1], set()).update(rounds)
    return out


def test_the_plain_signature_gets_the_federation_facts_grid_gives(
    simulated: dict[str, Any],
) -> None:
    with_grid = _facts(read_crate(Path(simulated["crate"])))
    plain_graph = read_crate(Path(simulated["plain_crate"]))
    plain = _facts(plain_graph)
    assert plain == with_grid
    assert plain["mode"] == Literal("simulation") and plain["nodes"].toPython() == NODES
    assert plain["digests"] == {Literal(node_id_digest(n)) for n in simulated["node_ids"]}
    # The evaluate_fn the app did not wrap was recorded all the same, every round.
    assert _series_rounds(plain_graph)["ServerEvaluation"] == set(range(ROUNDS + 1))


def test_a_server_side_failure_in_round_2_keeps_every_earlier_round(
    simulated: dict[str, Any],
) -> None:
    graph = read_crate(Path(simulated["server_fails_crate"]))
    run = next(graph.subjects(FL.runtimeMode, None))
    assert "server-side evaluate failed" in str(graph.value(run, SDO.error))
    rounds = _series_rounds(graph)
    # Round 2's client sides were aggregated before the server-side evaluate raised.
    assert rounds["ClientTraining"] == rounds["ClientEvaluation"] == {1, FAILING_ROUND}
    assert rounds["ServerEvaluation"] == {0, 1}


def test_a_clientapp_failure_in_round_2_keeps_every_earlier_round(
    simulated: dict[str, Any],
) -> None:
    graph = read_crate(Path(simulated["client_fails_crate"]))
    run = next(graph.subjects(FL.runtimeMode, None))
    assert "a ClientApp failed in round 2" in str(graph.value(run, SDO.error))
    rounds = _series_rounds(graph)
    assert rounds["ClientTraining"] == rounds["ClientEvaluation"] == {1}
    assert rounds["ServerEvaluation"] == {0, 1}


@pytest.mark.parametrize(
    "crate", ["plain_crate", "server_fails_crate", "client_fails_crate", "faulty_crate"]
)
def test_the_new_runs_crates_are_valid(
    simulated: dict[str, Any], validator_python: Path, crate: str
) -> None:
    assert_crate_valid(Path(simulated[crate]), validator_python)


def test_model_lineage_of_a_real_run(simulated: dict[str, Any]) -> None:
    from fedcrate.capture.lineage import arrays_digest
    from fedcrate.crate.verify import verify_crate
    from fedcrate.rdf.namespaces import PROV

    crate = Path(simulated["plain_crate"])
    graph = read_crate(crate)
    run = next(graph.subjects(FL.modelState, None))
    states = {int(graph.value(s, FL.round)): s for s in graph.objects(run, FL.modelState)}
    assert sorted(states) == list(range(ROUNDS + 1))
    for server_round in range(1, ROUNDS + 1):
        assert (states[server_round], PROV.wasDerivedFrom, states[server_round - 1]) in graph
    last = states[ROUNDS]
    assert str(graph.value(last, SDO.sha256)) == arrays_digest(simulated["plain_arrays"])[0]
    # result.arrays were saved as the model: the file is the last state, byte for byte.
    [model] = list(graph.objects(last, FL.savedAs))
    assert graph.value(model, SDO.sha256) == graph.value(last, SDO.sha256)
    report = verify_crate(crate)
    assert report.ok and report.lineage_states == ROUNDS + 1, report


def test_per_client_contributions_of_a_real_run(simulated: dict[str, Any], tmp_path: Path) -> None:
    from fedcrate.index import CrateIndex

    crate = Path(simulated["faulty_crate"])
    index = CrateIndex(crate.parent, index=tmp_path / "index")
    rows = [r for r in index.query("client-contributions").records() if r["name"].endswith("fault")]
    digests = {node_id_digest(n) for n in simulated["node_ids"]}
    by_phase: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for row in rows:
        by_phase.setdefault((int(row["round"]), str(row["phase"])), []).append(row)
    assert set(by_phase) == {
        (r, p) for r in range(1, ROUNDS + 1) for p in ("client-train", "client-evaluate")
    }
    for (server_round, phase), phase_rows in by_phase.items():
        assert {r["node"] for r in phase_rows} == digests, "every sampled node, by digest"
        if phase == "client-evaluate":
            assert sorted(int(r["examples"]) for r in phase_rows if r["metric"] == "accuracy") == [
                5 * (p + 1) for p in range(NODES)
            ]
            continue
        failed = [r for r in phase_rows if r["status"] == "failed"]
        replied = {r["node"]: r for r in phase_rows if r["status"] == "replied"}
        if server_round == FAILING_ROUND:
            [failure] = failed
            # The simulation's Ray actor replaces the app's exception by Flower's own.
            assert "CLIENT_APP_RAISED_EXCEPTION" in str(failure["error"])
            assert "injected" not in str(failure["error"])
            assert failure["examples"] is None and failure["metric"] is None
        else:
            assert failed == []
        expected = sorted(_examples(p) for p in range(NODES))
        if server_round == FAILING_ROUND:
            expected.remove(_examples(FAILING_PARTITION))
        assert sorted(int(r["examples"]) for r in replied.values()) == expected
        assert {r["metric"] for r in replied.values()} == {"training_time"}
    text = (crate / "ro-crate-metadata.json").read_text()
    assert not any(f'"{n}"' in text for n in simulated["node_ids"]), "raw node ids leaked"
