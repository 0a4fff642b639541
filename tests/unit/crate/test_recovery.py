"""Issue 6's guarantees, each proven by injecting its fault.

Real processes where the fault is a process fault (SIGTERM, SIGKILL, two writers at
once), real Flower objects (Context, FedAvg, MetricRecord) for the tracker.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from flwr.app import ArrayRecord, Context, MetricRecord, RecordDict
from flwr.serverapp.strategy import FedAvg
from rdflib import RDF, Literal
from typer.testing import CliRunner

from fedcrate import FLCrateTracker, read_crate
from fedcrate.cli import app
from fedcrate.crate.journal import INTERRUPTED, JOURNAL_PREFIX
from fedcrate.rdf.namespaces import FL, SDO
from fedcrate.record import Side
from tests.support.paths import REPO

SERVER = Side.SERVER_EVALUATE


# A ServerApp-like process: a tracker in the main thread, one round per 50 ms. Each round
# hands the strategy real client replies (as `Strategy.start` would) and runs the wrapped
# server-side evaluate, so every side has a value in every round before the signal.
RUN_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from flwr.app import ArrayRecord, Context, Message, MetricRecord, RecordDict
    from flwr.serverapp.strategy import FedAvg
    from flwr.supercore.task_identity import TaskIdentity
    from fedcrate import FLCrateTracker

    TaskIdentity.run_id, TaskIdentity.node_id, TaskIdentity.task_id = 7, 0, 1

    def reply(node, kind, metrics):
        instruction = Message(RecordDict(), dst_node_id=node, message_type=kind)
        content = {"metrics": MetricRecord(metrics)}
        if kind == "train":
            content["arrays"] = ArrayRecord([np.ones(3)])
        return Message(RecordDict(content), reply_to=instruction)

    out, rounds = sys.argv[1], int(sys.argv[2])
    context = Context(run_id=7, node_id=0, node_config={}, state=RecordDict(),
                      run_config={"num-server-rounds": rounds})
    strategy = FedAvg()
    with FLCrateTracker(context, strategy, output_dir=out, app_name="killed") as tracker:
        evaluate = tracker.wrap_evaluate(lambda r, a: MetricRecord({"accuracy": r / 100}))
        for server_round in range(rounds):
            if server_round:
                strategy.aggregate_train(server_round, [
                    reply(n, "train", {"num-examples": 5, "train_loss": 1 / server_round})
                    for n in (1, 2)])
                strategy.aggregate_evaluate(server_round, [
                    reply(n, "evaluate", {"num-examples": 5, "eval_acc": 0.5}) for n in (1, 2)])
            evaluate(server_round, None)
            print(f"round {server_round}", flush=True)
            time.sleep(0.05)
        tracker.record_arrays(ArrayRecord([np.ones(3)]))
    print("finished", flush=True)
    """
)


def _context() -> Context:
    return Context(run_id=1, node_id=0, node_config={}, state=RecordDict(), run_config={"lr": 0.1})  # type: ignore[arg-type]


def _start_run(tmp_path: Path, out: Path, rounds: int = 10_000) -> subprocess.Popen[str]:
    script = tmp_path / "run.py"
    script.write_text(RUN_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.Popen(
        [sys.executable, str(script), str(out), str(rounds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _wait_for_round(proc: subprocess.Popen[str], wanted: int) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        if line.strip() == f"round {wanted}":
            return
        assert time.monotonic() < deadline, "the run did not reach the round in time"
    pytest.fail(f"run ended before round {wanted}: {proc.stderr.read() if proc.stderr else ''}")


def _rounds(crate: Path, side: str = "ServerEvaluation") -> set[int]:
    """The rounds the crate holds a value for on one side (its series' fl:roundValue)."""
    graph = read_crate(crate)
    return {
        int(graph.value(v, FL.round))  # type: ignore[arg-type]
        for series in graph.subjects(FL.side, FL[side])
        for v in graph.objects(series, FL.roundValue)
    }


def test_sigterm_leaves_a_complete_failed_crate(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _start_run(tmp_path, out)
    try:
        _wait_for_round(proc, 5)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    finally:
        proc.kill()
    crate = out / "ro-crate"
    graph = read_crate(crate)
    run = next(graph.subjects(RDF.type, FL.FederatedRun))
    assert str(graph.value(run, SDO.actionStatus)).endswith("FailedActionStatus")
    assert "SIGTERM" in str(graph.value(run, SDO.error))
    assert graph.value(run, SDO.endTime) is not None
    assert set(range(6)) <= _rounds(crate)  # every round completed before the signal
    assert set(range(1, 6)) <= _rounds(crate, "ClientTraining") & _rounds(crate, "ClientEvaluation")
    assert not list(out.glob(f"{JOURNAL_PREFIX}*")), "journal removed once the crate exists"


def test_sigkill_leaves_a_journal_that_recover_turns_into_a_crate(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _start_run(tmp_path, out)
    try:
        _wait_for_round(proc, 5)
        proc.kill()
        proc.wait(timeout=30)
    finally:
        proc.kill()
    assert not (out / "ro-crate").exists()
    (journal,) = out.glob(f"{JOURNAL_PREFIX}*.jsonl")
    result = CliRunner().invoke(app, ["recover", str(out)])
    assert result.exit_code == 0, result.output
    assert "recovered" in result.output
    graph = read_crate(out / "ro-crate")
    run = next(graph.subjects(RDF.type, FL.FederatedRun))
    assert str(graph.value(run, SDO.actionStatus)).endswith("FailedActionStatus")
    assert graph.value(run, SDO.error) == Literal(INTERRUPTED)
    assert set(range(6)) <= _rounds(out / "ro-crate")
    client = _rounds(out / "ro-crate", "ClientTraining") & _rounds(
        out / "ro-crate", "ClientEvaluation"
    )
    assert set(range(1, 6)) <= client, "the client sides' aggregates survive a SIGKILL"
    assert not journal.exists()
    # Nothing left to recover: a second pass says so and succeeds.
    again = CliRunner().invoke(app, ["recover", str(out)])
    assert again.exit_code == 0 and "no run journals" in again.output


def test_a_torn_last_journal_line_is_skipped(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with FLCrateTracker(_context(), FedAvg(), output_dir=out, app_name="torn") as tracker:
        tracker.observe(1, SERVER, {"loss": 0.5})
        (journal,) = out.glob(f"{JOURNAL_PREFIX}*.jsonl")
        kept = journal.read_text()
    journal.write_text(kept + '{"event": "observations", "at": "2026-')  # killed mid-write
    result = CliRunner().invoke(app, ["recover", str(out)])
    assert result.exit_code == 0, result.output
    assert _rounds(out / "ro-crate-2") == {1}


def test_a_bug_in_fedcrate_never_touches_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import fedcrate.crate.writer

    def broken_build(record: object) -> object:
        raise RuntimeError("injected bug in the graph builder")

    monkeypatch.setattr(fedcrate.crate.writer, "build_graph", broken_build)
    out = tmp_path / "out"
    arrays = ArrayRecord([np.arange(4.0)])
    with FLCrateTracker(_context(), FedAvg(), output_dir=out) as tracker:
        evaluate = tracker.wrap_evaluate(lambda r, a: MetricRecord({"loss": 1.0 / (r + 1)}))
        metrics = [evaluate(r, arrays) for r in range(3)]
        tracker.record_arrays(arrays)
    assert [m["loss"] for m in metrics] == [1.0, 0.5, 1.0 / 3]  # the training's own values
    assert "could not be written" in caplog.text and "fedcrate recover" in caplog.text
    # The facts were not lost: the journal is kept, and recovery works once the bug is gone.
    monkeypatch.undo()
    result = CliRunner().invoke(app, ["recover", str(out)])
    assert result.exit_code == 0, result.output
    assert _rounds(out / "ro-crate") == {0, 1, 2}


def test_unwritable_output_dir_is_logged_and_training_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the output folder should be")
    with FLCrateTracker(_context(), FedAvg(), output_dir=blocker / "crates") as tracker:
        evaluate = tracker.wrap_evaluate(lambda r, a: MetricRecord({"loss": 0.1}))
        assert evaluate(1, None)["loss"] == 0.1
    assert tracker.crate is None
    assert "journal" in caplog.text and "could not be written" in caplog.text


def test_unreadable_model_file_is_logged_and_the_crate_still_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model = tmp_path / "model.npz"
    model.write_bytes(b"weights")
    out = tmp_path / "out"
    with FLCrateTracker(_context(), FedAvg(), output_dir=out) as tracker:
        tracker.record_result(object(), model_path=model)
        model.unlink()  # gone before the crate is written (e.g. a temp dir cleaned early)
        tracker.observe(1, SERVER, {"loss": 0.2})
    assert tracker.crate is not None, caplog.text
    assert "cannot be read" in caplog.text
    graph = read_crate(tracker.crate.path)
    assert _rounds(tracker.crate.path) == {1}
    assert not any(str(o).endswith("model.npz") for o in graph.objects(None, SDO.result))


def test_verify_reports_a_changed_payload_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with FLCrateTracker(_context(), FedAvg(), output_dir=out) as tracker:
        tracker.observe(1, SERVER, {"loss": 0.2})
        tracker.record_arrays(ArrayRecord([np.ones(8)]))
    crate = out / "ro-crate"
    ok = CliRunner().invoke(app, ["verify", str(crate)])
    assert ok.exit_code == 0, ok.output
    assert "final_model.npz" in ok.output and "MISMATCH" not in ok.output
    model = crate / "final_model.npz"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one byte changed
    model.write_bytes(bytes(data))
    bad = CliRunner().invoke(app, ["verify", str(crate)])
    assert bad.exit_code == 1
    assert "MISMATCH" in bad.output and "sha256" in bad.output
    (crate / "metrics-by-round.csv").unlink()
    missing = CliRunner().invoke(app, ["verify", str(crate)])
    assert missing.exit_code == 1 and "missing" in missing.output
    unusable = CliRunner().invoke(app, ["verify", str(tmp_path / "nope")])
    assert unusable.exit_code == 2


def test_two_processes_writing_to_one_folder_both_get_complete_crates(tmp_path: Path) -> None:
    out = tmp_path / "out"
    procs = []
    for index in range(2):
        (tmp_path / f"p{index}").mkdir()
        procs.append(_start_run(tmp_path / f"p{index}", out, rounds=20))
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        assert "finished" in stdout
    crates = sorted(p.name for p in out.iterdir())
    assert crates == ["ro-crate", "ro-crate-2"]
    identifiers = set()
    for name in crates:
        assert _rounds(out / name) == set(range(20))
        document = json.loads((out / name / "ro-crate-metadata.json").read_text())
        root = next(n for n in document["@graph"] if n["@id"] == "./")
        identifiers.add(root["identifier"])
    assert len(identifiers) == 2


def test_a_crash_while_writing_leaves_nothing_that_looks_like_a_crate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fedcrate.crate.writer

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fedcrate.crate.writer, "_write_preview", crash)
    out = tmp_path / "out"
    with FLCrateTracker(_context(), FedAvg(), output_dir=out) as tracker:
        tracker.observe(1, SERVER, {"loss": 0.2})
    assert tracker.crate is None
    leftovers = [p.name for p in out.iterdir()]
    assert not any((out / name / "ro-crate-metadata.json").exists() for name in leftovers)
    assert [n for n in leftovers if not n.startswith(JOURNAL_PREFIX)] == []


BIG_MODEL_SCRIPT = textwrap.dedent(
    """
    import resource, sys
    from pathlib import Path
    from flwr.app import Context, RecordDict
    from flwr.serverapp.strategy import FedAvg
    from fedcrate import FLCrateTracker

    model, out = Path(sys.argv[1]), sys.argv[2]
    context = Context(run_id=9, node_id=0, node_config={}, state=RecordDict(), run_config={})
    with FLCrateTracker(context, FedAvg(), output_dir=out, copy_model=False) as tracker:
        tracker.record_result(object(), model_path=model)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)  # MiB
    """
)


def test_a_multi_gb_model_is_referenced_and_hashed_in_constant_memory(tmp_path: Path) -> None:
    model = tmp_path / "big_model.bin"
    size = 2 * 1024**3
    with model.open("wb") as handle:  # sparse: 2 GiB without using the disk
        handle.truncate(size)
    script = tmp_path / "big.py"
    script.write_text(BIG_MODEL_SCRIPT)
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, str(script), str(model), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        check=True,
    )
    peak_mib = int(done.stdout.strip().splitlines()[-1])
    assert peak_mib < 1024, f"hashing a 2 GiB model peaked at {peak_mib} MiB"
    crate = out / "ro-crate"
    assert not (crate / "big_model.bin").exists(), "referenced, not copied"
    graph = read_crate(crate)
    entity = next(s for s in graph.subjects(SDO.sha256, None) if str(s).startswith("file://"))
    assert str(entity) == model.resolve().as_uri()
    assert int(graph.value(entity, SDO.contentSize)) == size  # type: ignore[arg-type]
    ok = CliRunner().invoke(app, ["verify", str(crate)])
    assert ok.exit_code == 0, ok.output
    with model.open("r+b") as handle:  # the referenced file changes after the run
        handle.seek(size // 2)
        handle.write(b"\x01")
    bad = CliRunner().invoke(app, ["verify", str(crate)])
    assert bad.exit_code == 1 and "sha256" in bad.output


def test_the_journals_observation_encoding_is_to_jsonables() -> None:
    import math

    from fedcrate.crate.journal import observation_json
    from fedcrate.record import Metric, RoundObservation
    from fedcrate.record.jsonable import from_jsonable, to_jsonable

    samples = [
        RoundObservation(r, side, Metric(name, iri, unit), value)
        for r, (name, iri, unit), value in zip(
            range(6),
            [("loss", None, None), ("acc", "http://x/acc", None), ("rmse", None, "KGM")] * 2,
            [0.5, 3, "nan", math.inf, -0.0, 2**70],
            strict=True,
        )
        for side in Side
    ]
    for obs in samples:
        assert observation_json(obs) == to_jsonable(obs)
        assert from_jsonable(RoundObservation, observation_json(obs)) == obs
