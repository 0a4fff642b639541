"""Issue 18, item 8: `--version`, `run-summary`'s status, `show | head`, `zip --force`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import fedcrate
from fedcrate import write_crate
from fedcrate.cli import app
from fedcrate.cli.summary import summarize
from fedcrate.crate.reader import read_crate
from fedcrate.index import CrateIndex
from tests.conftest import make_record

runner = CliRunner()


@pytest.fixture
def crate(tmp_path: Path) -> Path:
    return write_crate(make_record(), tmp_path / "out", preview=False).path


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"fedcrate {fedcrate.__version__}\n"


def test_run_summary_states_the_status_as_runs_does(crate: Path, tmp_path: Path) -> None:
    with CrateIndex([crate.parent], index=tmp_path / "index") as index:
        index.refresh()
        [summary] = index.query("run-summary").records()
        [listed] = index.query("runs").records()
    assert summary["status"] == listed["status"] == "Completed"
    assert [run.status for run in summarize(read_crate(crate))] == ["Completed"]


@pytest.mark.parametrize("output", [[], ["--format", "json"]], ids=["text", "json"])
def test_a_reader_that_stops_early_is_not_an_error(crate: Path, output: list[str]) -> None:
    """`fedcrate show CRATE | head`: the pipe is closed before fedcrate writes."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write: EPIPE, every time
    try:
        done = subprocess.run(
            [sys.executable, "-m", "fedcrate", "show", str(crate), *output],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no traceback, no "Exception ignored … BrokenPipeError"


def test_zip_keeps_an_existing_file_unless_forced(crate: Path, tmp_path: Path) -> None:
    target = tmp_path / "shared.zip"
    target.write_bytes(b"someone else's zip")
    refused = runner.invoke(app, ["zip", str(crate), "-o", str(target)], env={"COLUMNS": "300"})
    assert refused.exit_code == 2
    assert refused.output.strip() == (
        f"error: {target}: exists; pass --force (overwrite=True) to replace it, or choose "
        "another name with --output"
    )
    assert target.read_bytes() == b"someone else's zip"
    assert not list(tmp_path.glob(".fedcrate-zip-*"))  # the staged zip is cleaned up
    forced = runner.invoke(app, ["zip", str(crate), "-o", str(target), "--force"])
    assert forced.exit_code == 0, forced.output
    assert target.read_bytes()[:2] == b"PK"
    again = runner.invoke(app, ["zip", str(crate)])  # default name, first time: written
    assert again.exit_code == 0 and Path(again.stdout.strip()) == crate.with_suffix(".zip")
    assert runner.invoke(app, ["zip", str(crate)]).exit_code == 2  # second time: kept


def test_zip_refuses_a_zipped_crate(crate: Path, tmp_path: Path) -> None:
    archive = runner.invoke(app, ["zip", str(crate), "-o", str(tmp_path / "a.zip")])
    assert archive.exit_code == 0
    result = runner.invoke(app, ["zip", str(tmp_path / "a.zip")], env={"COLUMNS": "300"})
    assert result.exit_code == 2 and "already a zipped crate" in result.output
