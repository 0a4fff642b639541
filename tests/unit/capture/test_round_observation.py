"""Each round's aggregates reach the journal as the strategy returns them (issue 15, part 0).

Real Flower strategies (message API `FedAvg`, classic `FedAvg`) are handed real reply
`Message`s / `FitRes`es, as `Strategy.start` / `Server.fit` would; the fault is injected by
raising inside the `with` block before a `Result` exists.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from flwr.app import ArrayRecord, Context, Error, Message, MetricRecord, RecordDict
from flwr.serverapp.strategy import FedAvg, Result
from flwr.supercore.task_identity import TaskIdentity

from fedcrate import FLCrateTracker, read_crate
from fedcrate.crate.journal import read_journal
from fedcrate.rdf.namespaces import FL, SDO
from fedcrate.record import RunStatus, Side

ROUND_KEYS = ("train_loss", "num-examples")


@pytest.fixture(autouse=True)
def _message_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    # Messages take their run / node / task ids from Flower's process-wide TaskIdentity,
    # which the SuperLink sets in a real run; set here for this test only.
    for name, value in (("_run_id", 7), ("_node_id", 0), ("_task_id", 1)):
        monkeypatch.setattr(TaskIdentity, name, value)


def _context() -> Context:
    return Context(
        run_id=7, node_id=0, node_config={}, state=RecordDict(), run_config={"num-server-rounds": 4}
    )  # type: ignore[arg-type]


def _reply(node: int, kind: str, metrics: dict[str, float | int]) -> Message:
    instruction = Message(RecordDict(), dst_node_id=node, message_type=kind)
    content: dict[str, object] = {"metrics": MetricRecord(metrics)}  # type: ignore[dict-item]
    if kind == "train":
        content["arrays"] = ArrayRecord([np.full(3, float(node))])
    return Message(RecordDict(content), reply_to=instruction)  # type: ignore[arg-type]


def _failed(node: int, kind: str) -> Message:
    instruction = Message(RecordDict(), dst_node_id=node, message_type=kind)
    return Message(Error(code=1, reason="client raised"), reply_to=instruction)


def _one_round(strategy: FedAvg, server_round: int) -> None:
    """What `Strategy.start` does with the replies of one round, minus the network."""
    strategy.aggregate_train(
        server_round,
        [
            _reply(1, "train", {"num-examples": 10, "train_loss": 1.0 / server_round}),
            _reply(2, "train", {"num-examples": 30, "train_loss": 0.5 / server_round}),
            _failed(3, "train"),
        ],
    )
    strategy.aggregate_evaluate(
        server_round,
        [
            _reply(1, "evaluate", {"num-examples": 10, "eval_acc": 0.5}),
            _reply(2, "evaluate", {"num-examples": 30, "eval_acc": 0.9}),
        ],
    )


def _values(crate: Path) -> dict[tuple[int, str, str], float]:
    graph = read_crate(crate)
    out = {}
    for series in graph.subjects(FL.side, None):
        side = str(graph.value(series, FL.side)).rsplit("#", 1)[-1]
        name = str(graph.value(series, SDO.name))
        for point in graph.objects(series, FL.roundValue):
            value = graph.value(point, SDO.value).toPython()  # type: ignore[union-attr]
            out[(int(graph.value(point, FL.round)), side, name)] = value  # type: ignore[arg-type]
    return out


def test_a_run_failing_in_round_2_keeps_round_1s_client_metrics(tmp_path: Path) -> None:
    strategy = FedAvg()
    with (
        pytest.raises(RuntimeError, match="server-side evaluate"),
        FLCrateTracker(_context(), strategy, output_dir=tmp_path, app_name="fails") as tracker,
    ):
        evaluate = tracker.wrap_evaluate(lambda r, a: MetricRecord({"accuracy": 0.1 * r}))
        evaluate(0, None)
        _one_round(strategy, 1)
        evaluate(1, None)
        _one_round(strategy, 2)
        raise RuntimeError("server-side evaluate failed in round 2")
    assert tracker.record.status is RunStatus.FAILED
    values = _values(tracker.crate.path)  # type: ignore[union-attr]
    # Weighted by examples as FedAvg aggregates: (10 * 1.0 + 30 * 0.5) / 40.
    assert values[(1, "ClientTraining", "train_loss")] == pytest.approx(0.625)
    assert values[(1, "ClientEvaluation", "eval_acc")] == pytest.approx(0.8)
    assert values[(2, "ClientTraining", "train_loss")] == pytest.approx(0.3125)
    assert (2, "ServerEvaluation", "accuracy") not in values
    assert values[(1, "ServerEvaluation", "accuracy")] == pytest.approx(0.1)
    # The strategy is the user's again, its class methods showing through.
    assert not {"aggregate_train", "aggregate_evaluate", "start"} & set(vars(strategy))


def test_aggregates_are_journaled_before_the_round_ends(tmp_path: Path) -> None:
    strategy = FedAvg()
    with FLCrateTracker(_context(), strategy, output_dir=tmp_path, app_name="journal"):
        _one_round(strategy, 1)
        (journal,) = tmp_path.glob(".fedcrate-journal-*.jsonl")
        recovered = read_journal(journal).record
        seen = {(o.round, o.side, o.metric.name) for o in recovered.observations}
        assert (1, Side.CLIENT_TRAIN, "train_loss") in seen
        assert (1, Side.CLIENT_EVALUATE, "eval_acc") in seen
        assert recovered.participation, "participation is journaled too"


def test_the_result_confirms_the_journaled_values(tmp_path: Path) -> None:
    strategy = FedAvg()
    with FLCrateTracker(_context(), strategy, output_dir=tmp_path, app_name="ok") as tracker:
        _one_round(strategy, 1)
        tracker.record_result(
            Result(
                arrays=ArrayRecord([np.ones(3)]),
                train_metrics_clientapp={1: MetricRecord({"train_loss": 0.625})},
                evaluate_metrics_clientapp={1: MetricRecord({"eval_acc": 0.8})},
            )
        )
    values = _values(tracker.crate.path)  # type: ignore[union-attr]
    assert sorted(k for k in values if k[0] == 1) == [
        (1, "ClientEvaluation", "eval_acc"),
        (1, "ClientTraining", "train_loss"),
    ]


def test_without_participation_tracking_metrics_are_still_journaled(tmp_path: Path) -> None:
    strategy = FedAvg()
    with FLCrateTracker(
        _context(), strategy, output_dir=tmp_path, app_name="quiet", track_participation=False
    ) as tracker:
        _one_round(strategy, 1)
    assert tracker.record.participation == []
    assert (1, "ClientTraining", "train_loss") in _values(tracker.crate.path)  # type: ignore[union-attr]


def test_a_failing_observer_never_reaches_the_strategy(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    strategy = FedAvg()
    with FLCrateTracker(_context(), strategy, output_dir=tmp_path, app_name="odd") as tracker:

        def broken(name: str) -> None:
            raise ValueError("resolver fault")

        monkeypatch.setattr(tracker._resolver, "resolve", broken)
        with caplog.at_level("ERROR", logger="fedcrate"):
            arrays, metrics = strategy.aggregate_train(
                1, [_reply(1, "train", {"num-examples": 5, "train_loss": 0.2})]
            )
    assert metrics is not None and metrics["train_loss"] == pytest.approx(0.2)
    assert arrays is not None
    assert "round 1 metrics not recorded" in caplog.text
    assert tracker.record.status is RunStatus.COMPLETED


def test_classic_api_aggregates_are_journaled_as_each_round_ends(tmp_path: Path) -> None:
    from flwr.common import Code, EvaluateRes, FitRes, Status, ndarrays_to_parameters
    from flwr.server.strategy import FedAvg as ClassicFedAvg

    def evaluate_fn(server_round: int, ndarrays: object, config: object) -> tuple[float, dict]:
        return 0.5 / (server_round + 1), {"accuracy": 0.2 * server_round}

    strategy = ClassicFedAvg(
        evaluate_fn=evaluate_fn,  # type: ignore[arg-type]
        fit_metrics_aggregation_fn=lambda pairs: {"train_loss": 0.25},
        evaluate_metrics_aggregation_fn=lambda pairs: {"eval_acc": 0.75},
    )
    parameters = ndarrays_to_parameters([np.ones(3)])
    ok = Status(code=Code.OK, message="")
    with (
        pytest.raises(RuntimeError),
        FLCrateTracker(_context(), strategy, output_dir=tmp_path, app_name="classic") as tracker,
    ):
        strategy.evaluate(0, parameters=parameters)
        fit = [(None, FitRes(ok, parameters, 10, {"train_loss": 0.3}))]
        strategy.aggregate_fit(1, fit, [])  # type: ignore[arg-type]
        evaluated = [(None, EvaluateRes(ok, 0.4, 10, {"eval_acc": 0.7}))]
        strategy.aggregate_evaluate(1, evaluated, [])  # type: ignore[arg-type]
        strategy.evaluate(1, parameters=parameters)
        raise RuntimeError("round 2 failed")
    values = _values(tracker.crate.path)  # type: ignore[union-attr]
    assert values[(1, "ClientTraining", "train_loss")] == pytest.approx(0.25)
    assert values[(1, "ClientEvaluation", "eval_acc")] == pytest.approx(0.75)
    assert values[(1, "ClientEvaluation", "loss")] == pytest.approx(0.4)
    assert values[(0, "ServerEvaluation", "loss")] == pytest.approx(0.5)
    assert values[(1, "ServerEvaluation", "accuracy")] == pytest.approx(0.2)


def test_record_clients_keeps_each_sampled_nodes_contribution(tmp_path: Path) -> None:
    from fedcrate.capture.deployment import node_id_digest
    from fedcrate.crate.journal import read_journal
    from fedcrate.record import ReplyStatus

    class Sampling(FedAvg):
        def configure_train(self, server_round: int, *args: object) -> list[Message]:
            return [
                Message(RecordDict(), dst_node_id=n, message_type="train") for n in (1, 2, 3, 4)
            ]

    strategy = Sampling()
    with (
        pytest.raises(KeyboardInterrupt),
        FLCrateTracker(
            _context(), strategy, output_dir=tmp_path, app_name="clients", record_clients=True
        ) as tracker,
    ):
        strategy.configure_train(1, ArrayRecord(), None, None)
        _one_round(strategy, 1)  # nodes 1, 2 replied, 3 failed; 4 never replied
        (journal,) = tmp_path.glob(".fedcrate-journal-*.jsonl")
        journaled = read_journal(journal).record.contributions
        raise KeyboardInterrupt
    by_node = {(c.side, c.node_digest): c for c in tracker.record.contributions if c.round == 1}
    train = {n: by_node[(Side.CLIENT_TRAIN, node_id_digest(n))] for n in (1, 2, 3, 4)}
    assert train[1].status is ReplyStatus.REPLIED and train[1].examples == 10
    assert [(m.metric.name, m.value) for m in train[2].metrics] == [("train_loss", 0.5)]
    assert train[3].status is ReplyStatus.FAILED and train[3].error_kind
    assert "client raised" not in train[3].error_kind, "the error's message stays out"
    assert train[4].status is ReplyStatus.NO_REPLY
    # Evaluation replies of nodes 1 and 2 (configure_evaluate sampled nothing here).
    assert {
        c.node_digest for c in tracker.record.contributions if c.side is Side.CLIENT_EVALUATE
    } == {
        node_id_digest(1),
        node_id_digest(2),
    }
    assert len(journaled) == 6, "journaled as each aggregation ran"
    text = (tracker.crate.path / "ro-crate-metadata.json").read_text()  # type: ignore[union-attr]
    assert node_id_digest(3) in text and '"client raised"' not in text
    from fedcrate.validate import Level, validate

    report = validate(tracker.crate.path)  # type: ignore[union-attr]
    assert [f.rule for f in report.findings if f.level is Level.MUST] == []


@pytest.mark.parametrize(
    ("code", "reason", "kind"),
    [
        # A SuperNode's run_clientapp: the app's own exception class.
        (1, "<class 'RuntimeError'>:<'secret at /home/ada/data'>", "RuntimeError"),
        # The simulation: Ray's wrapper around Flower's ClientAppException.
        (
            1,
            "<class 'ray.exceptions.RayTaskError(ClientAppException)'>:<'x'>",
            "ClientAppException",
        ),
        (3, "no class here, token=abc123", None),
    ],
)
def test_an_error_kind_names_code_and_class_never_the_message(
    code: int, reason: str, kind: str | None
) -> None:
    from flwr.common.constant import ErrorCode

    from fedcrate.capture.clients import error_kind

    names = {v: k for k, v in vars(ErrorCode).items() if k.isupper() and isinstance(v, int)}
    got = error_kind(Error(code=code, reason=reason))
    assert got == (f"{names[code]}: {kind}" if kind else names[code])
    assert "secret" not in got and "abc123" not in got and "/home" not in got
