"""Issue 18, item 1 (the tracker): a relative `model_path` resolves like `output_dir`.

Under Flower the ServerApp's working folder is the SuperLink's, so a relative model path
resolved against it finds the model in one deployment and not in another. fedcrate
resolves it under `$FEDCRATE_HOME`, as it does `output_dir`; a `model_path` that names no
file is one logged error saying where it looked, and the run's arrays are saved instead,
so the crate still holds the final model.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from flwr.app import ArrayRecord, Context, RecordDict
from flwr.serverapp.strategy import FedAvg, Result

from fedcrate import FLCrateTracker, read_crate
from fedcrate.rdf.namespaces import SDO


def _context() -> Context:
    return Context(run_id=7, node_id=0, node_config={}, state=RecordDict(), run_config={})  # type: ignore[arg-type]


def _result() -> Result:
    return Result(arrays=ArrayRecord([np.arange(4, dtype=np.float32)]))


def _model_names(crate: Path) -> list[str]:
    graph = read_crate(crate)
    run = next(graph.subjects(SDO.instrument, None))
    return sorted(
        str(o).rsplit("/", 1)[-1]
        for o in graph.objects(run, SDO.result)
        if graph.value(o, SDO.about) is None and str(o).endswith((".pt", ".npz"))
    )


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FEDCRATE_HOME", str(tmp_path / "home"))
    (tmp_path / "superlink-cwd").mkdir()
    monkeypatch.chdir(tmp_path / "superlink-cwd")
    (tmp_path / "home" / "models").mkdir(parents=True)
    return tmp_path / "home"


def test_a_relative_model_path_resolves_under_fedcrate_home(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (home / "models" / "final.pt").write_bytes(b"under FEDCRATE_HOME")
    Path("models").mkdir()
    (Path("models") / "final.pt").write_bytes(b"in the working folder")
    with (
        caplog.at_level(logging.INFO, logger="fedcrate"),
        FLCrateTracker(_context(), FedAvg(), output_dir="crates", license="MIT") as tracker,
    ):
        tracker.record_result(_result(), model_path="models/final.pt")
    assert tracker.crate is not None
    assert tracker.crate.path.parent == home / "crates"
    assert (tracker.crate.path / "final.pt").read_bytes() == b"under FEDCRATE_HOME"
    assert f"resolves to {home / 'models' / 'final.pt'}" in caplog.text


def test_a_model_path_naming_no_file_says_where_and_saves_the_arrays(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    Path("final.pt").write_bytes(b"only in the working folder")
    with (
        caplog.at_level(logging.ERROR, logger="fedcrate"),
        FLCrateTracker(_context(), FedAvg(), output_dir="crates", license="MIT") as tracker,
    ):
        tracker.record_result(_result(), model_path="final.pt")
    [error] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert f"model_path {home / 'final.pt'} is not a file" in error
    assert "resolve under $FEDCRATE_HOME, like output_dir" in error
    assert f"the working folder has {Path.cwd() / 'final.pt'}: pass it absolute" in error
    assert "result.arrays are saved as final_model.npz instead" in error
    assert tracker.crate is not None
    assert _model_names(tracker.crate.path) == ["final_model.npz"]


def test_without_save_arrays_a_missing_model_means_no_model(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.ERROR, logger="fedcrate"),
        FLCrateTracker(
            _context(), FedAvg(), output_dir="crates", license="MIT", save_arrays=False
        ) as tracker,
    ):
        tracker.record_result(_result(), model_path=home / "absent.pt")
    assert "is not a file; no model recorded" in caplog.text
    assert "FEDCRATE_HOME" not in caplog.text  # the path was absolute: nothing to explain
    assert tracker.crate is not None and _model_names(tracker.crate.path) == []


def test_an_absolute_model_path_is_used_as_given(home: Path, tmp_path: Path) -> None:
    model = tmp_path / "elsewhere.pt"
    model.write_bytes(b"absolute")
    with FLCrateTracker(_context(), FedAvg(), output_dir="crates", license="MIT") as tracker:
        tracker.record_result(_result(), model_path=model)
    assert tracker.crate is not None
    assert (tracker.crate.path / "elsewhere.pt").read_bytes() == b"absolute"
