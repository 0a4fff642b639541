"""`fedcrate export mlflow`: crates into a real local MLflow store, read back with MlflowClient."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fedcrate import read_crate, write_crate
from fedcrate.cli import app
from fedcrate.export.mlflow import IDENTIFIER_TAG, PATH_TAG, export_crates
from fedcrate.record import RunRecord, RunStatus
from fedcrate.views.model import describe
from tests.conftest import STATO_ACCURACY

mlflow = pytest.importorskip("mlflow", reason="mlflow is in the test extra; pip install -e .[test]")
from mlflow.tracking import MlflowClient  # noqa: E402

pytestmark = pytest.mark.integration


@pytest.fixture
def store(tmp_path: Path) -> tuple[str, str]:
    """(tracking URI, artifact location) of a fresh sqlite-backed MLflow store in tmp."""
    return f"sqlite:///{tmp_path / 'mlflow.db'}", (tmp_path / "artifacts").as_uri()


@pytest.fixture
def crates(tmp_path: Path, record_factory: Callable[..., RunRecord]) -> Path:
    """A folder with two crates: a completed 3-round run and a failed run."""
    folder = tmp_path / "crates"
    base = record_factory(rounds=3)
    model = tmp_path / "final_model.npz"
    model.write_bytes(b"model bytes")
    write_crate(replace(base, model_source=model), folder)
    failed = replace(
        record_factory(rounds=1),
        run_uuid="1b4c5f2e-0000-4000-8000-00000000fa11",
        status=RunStatus.FAILED,
        error="RuntimeError: node lost",
    )
    write_crate(failed, folder)
    return folder


def _runs(client: MlflowClient, experiment: str) -> dict[str, object]:
    exp = client.get_experiment_by_name(experiment)
    assert exp is not None
    return {
        run.data.tags[IDENTIFIER_TAG]: run
        for run in client.search_runs([exp.experiment_id], max_results=100)
    }


def test_each_crate_becomes_one_run_with_params_steps_and_artifacts(
    crates: Path, store: tuple[str, str]
) -> None:
    uri, artifacts = store
    report = export_crates([crates], tracking_uri=uri, experiment="fl", artifact_location=artifacts)
    assert report.errors == [] and [e.action for e in report.exported] == ["created", "created"]

    client = MlflowClient(tracking_uri=uri)
    runs = _runs(client, "fl")
    assert set(runs) == {
        "urn:uuid:1b4c5f2e-0000-4000-8000-000000000001",
        "urn:uuid:1b4c5f2e-0000-4000-8000-00000000fa11",
    }
    run = runs["urn:uuid:1b4c5f2e-0000-4000-8000-000000000001"]
    assert run.info.status == "FINISHED" and run.info.run_name == "unit run"  # type: ignore[attr-defined]
    assert run.info.start_time == 1795600800123  # type: ignore[attr-defined]  # 2026-11-25T10:00:00.123Z
    assert run.info.end_time == 1795600843111  # type: ignore[attr-defined]
    params = run.data.params  # type: ignore[attr-defined]
    assert params["config.lr"] == "0.01"
    assert params["config.num_rounds"] == "3" and params["config.num-rounds"] == "4"
    assert params["config.api-token"] == "[redacted by fedcrate]"
    assert params["strategy.proximal_mu"] == "0.1" and params["strategy"] == "FedProx"
    tags = run.data.tags  # type: ignore[attr-defined]
    assert tags[PATH_TAG] == str((crates / "ro-crate").resolve())
    assert tags["fedcrate.status"] == "Completed"
    assert tags["fedcrate.propertyID.accuracy"] == STATO_ACCURACY

    run_id = run.info.run_id  # type: ignore[attr-defined]
    loss = client.get_metric_history(run_id, "server-evaluate/loss")
    assert [m.step for m in sorted(loss, key=lambda m: m.step)] == [0, 1, 2, 3]
    assert [m.value for m in sorted(loss, key=lambda m: m.step)] == pytest.approx(
        [1 / 2, 1 / 3, 1 / 4, 1 / 5]
    )
    assert len(client.get_metric_history(run_id, "client-train/accuracy")) == 3
    assert len(client.get_metric_history(run_id, "client-evaluate/accuracy")) == 3
    [final] = client.get_metric_history(run_id, "final/client-evaluate/accuracy")
    assert (final.step, final.value) == (3, pytest.approx(0.75))

    listed = {f.path for f in client.list_artifacts(run_id, "ro-crate")}
    assert {
        "ro-crate/ro-crate-metadata.json",
        "ro-crate/final_model.npz",
        "ro-crate/metrics-by-round.csv",
    } <= listed
    assert [f.path for f in client.list_artifacts(run_id, "model")] == ["model/final_model.npz"]
    local = Path(client.download_artifacts(run_id, "ro-crate/ro-crate-metadata.json", str(crates)))
    assert describe(read_crate(local))[0].crate_identifier == tags[IDENTIFIER_TAG]

    failed = runs["urn:uuid:1b4c5f2e-0000-4000-8000-00000000fa11"]
    assert failed.info.status == "FAILED"  # type: ignore[attr-defined]
    assert failed.data.tags["fedcrate.error"] == "RuntimeError: node lost"  # type: ignore[attr-defined]


def test_exporting_again_updates_instead_of_duplicating(
    crates: Path, store: tuple[str, str]
) -> None:
    uri, artifacts = store
    first = export_crates([crates], tracking_uri=uri, artifact_location=artifacts)
    second = export_crates([crates / "ro-crate", crates / "ro-crate-2"], tracking_uri=uri)
    assert [e.action for e in second.exported] == ["updated", "updated"]
    assert [e.run_id for e in second.exported] == [e.run_id for e in first.exported]

    client = MlflowClient(tracking_uri=uri)
    runs = _runs(client, "fedcrate")
    assert len(runs) == 2
    # The completed 3-round crate: rounds 0..3 of server-side loss, each logged once.
    run_id = next(e.run_id for e in first.exported if e.crate.name == "ro-crate")
    assert len(client.get_metric_history(run_id, "server-evaluate/loss")) == 4
    assert len(client.get_metric_history(run_id, "final/server-evaluate/loss")) == 1


def test_the_demo_crate_exports_through_the_cli(
    demo_crate: Path, store: tuple[str, str], tmp_path: Path
) -> None:
    uri, artifacts = store
    args = ["export", "mlflow", str(demo_crate), "--tracking-uri", uri,
            "--experiment", "demo", "--artifact-location", artifacts]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "1 crate(s) exported" in result.stdout and "created" in result.stderr

    [view] = describe(read_crate(demo_crate))
    client = MlflowClient(tracking_uri=uri)
    [run] = _runs(client, "demo").values()
    for series in view.history:
        history = client.get_metric_history(run.info.run_id, f"{series.side}/{series.metric}")  # type: ignore[attr-defined]
        assert sorted(m.step for m in history) == series.rounds
    assert CliRunner().invoke(app, args).exit_code == 0
    assert len(_runs(client, "demo")) == 1


def test_missing_inputs_and_missing_mlflow_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["export", "mlflow", str(tmp_path / "nope"), "--tracking-uri", "sqlite:///x.db"],
        env={"COLUMNS": "300"},
    )
    assert result.exit_code == 2 and "no such file or folder" in result.stderr
    result = CliRunner().invoke(
        app,
        ["export", "mlflow", str(tmp_path), "--tracking-uri", "sqlite:///x.db"],
        env={"COLUMNS": "300"},
    )
    assert result.exit_code == 2 and "no ro-crate-metadata.json" in result.stderr

    # An interpreter where `import mlflow` fails, as it does without the extra.
    blocked = "import sys; sys.modules['mlflow'] = None; from fedcrate.cli import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", blocked, "export", "mlflow", str(tmp_path),
         "--tracking-uri", "sqlite:///x.db"],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert not (tmp_path / "x.db").exists(), "no store is touched before the inputs are checked"
    message = " ".join(done.stderr.split())  # rich wraps at the terminal width
    assert "install it with: pip install 'fedcrate[mlflow]'" in message
    assert "Traceback" not in message
