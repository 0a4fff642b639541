"""Crates written by flwrCrate 0.4 (the reference) open offline in every fedcrate command.

flwrCrate writes through ro-crate-py, whose crates name the RO-Crate 1.3 draft context;
users migrating from it validate, show and query their old crates with fedcrate. A real
flwrCrate tracker run (real Flower Context, FedAvg and Result) makes the crate.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from flwr.app import ArrayRecord, Context, MetricRecord, RecordDict
from flwr.serverapp.strategy import FedAvg, Result
from typer.testing import CliRunner

from fedcrate.cli import app

try:
    import flwrcrate
except ImportError:  # the bench extra; CI installs it
    if os.environ.get("CI"):
        raise
    pytest.skip(
        "flwrcrate 0.4.0 not installed: pip install 'fedcrate[bench]'", allow_module_level=True
    )


@pytest.fixture(scope="module")
def flwrcrate_crate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("flwrcrate")
    (work / "pyproject.toml").write_text('[project]\nname = "old-app"\ndependencies = ["flwr"]\n')
    context = Context(
        run_id=3, node_id=0, node_config={}, state=RecordDict(), run_config={"lr": 0.1}
    )  # type: ignore[arg-type]
    result = Result(
        arrays=ArrayRecord([np.ones(3)]),
        evaluate_metrics_serverapp={r: MetricRecord({"accuracy": 0.1 * r}) for r in range(3)},
    )
    with flwrcrate.FLCrateTracker(
        context,
        FedAvg(),
        output_dir=str(work / "out"),
        pyproject_path=str(work / "pyproject.toml"),
        app_name="old run",
    ) as tracker:
        evaluate = tracker.wrap_evaluate(lambda r, a: result.evaluate_metrics_serverapp[r])
        for server_round in range(3):
            evaluate(server_round, None)
        tracker.record_result(result)
    (metadata,) = (work / "out").rglob("ro-crate-metadata.json")
    assert "ro/crate/1.3/context" in metadata.read_text()  # what makes this test needed
    return metadata.parent


def test_validate_reads_it_and_names_what_it_lacks(flwrcrate_crate: Path) -> None:
    result = CliRunner().invoke(app, ["validate", str(flwrcrate_crate), "--strict"])
    assert result.exit_code == 1, result.output  # read fine; the data falls short
    assert "ObjectTrainingDataset" in result.output  # a SHOULD of the FL profile
    assert "not fetched" not in result.output


def test_show_and_sparql_read_it_offline(flwrcrate_crate: Path, tmp_path: Path) -> None:
    shown = CliRunner().invoke(app, ["show", str(flwrcrate_crate), "--format", "json"])
    assert shown.exit_code == 0, shown.output
    assert "old run" in shown.output
    runs = CliRunner().invoke(
        app,
        ["sparql", "runs", str(flwrcrate_crate), "--index", str(tmp_path / "i"), "--format", "csv"],
    )
    assert runs.exit_code == 0, runs.output
    assert len(runs.output.strip().splitlines()) == 2  # header + the one run
