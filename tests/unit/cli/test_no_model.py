"""Issue 18, item 1 (the commands): `show` and `verify` say plainly when a run recorded no
model, and name the model when it did."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from typer.testing import CliRunner

from fedcrate import write_crate
from fedcrate.cli import app
from fedcrate.views.terminal import NO_MODEL
from tests.conftest import make_record

runner = CliRunner()
WIDE = {"COLUMNS": "300"}


def _crates(tmp_path: Path) -> tuple[Path, Path]:
    """(a crate without a model, a crate with one)."""
    model = tmp_path / "final_model.npz"
    model.write_bytes(b"x" * 2048)
    bare = write_crate(make_record(), tmp_path / "bare", preview=False).path
    modelled = write_crate(
        replace(make_record(), model_source=model), tmp_path / "model", preview=False
    ).path
    return bare, modelled


def test_show_says_when_no_model_was_recorded(tmp_path: Path) -> None:
    bare, modelled = _crates(tmp_path)
    text = runner.invoke(app, ["show", str(bare)], env=WIDE).stdout
    assert f"model       {NO_MODEL}" in text
    text = runner.invoke(app, ["show", str(modelled)], env=WIDE).stdout
    assert "model       final_model.npz (2.0 kB, sha256 " in text and NO_MODEL not in text
    [run] = json.loads(runner.invoke(app, ["show", str(bare), "--format", "json"]).stdout)["runs"]
    assert run["models"] == []
    [run] = json.loads(runner.invoke(app, ["show", str(modelled), "--format", "json"]).stdout)[
        "runs"
    ]
    assert [(m["name"], m["size"]) for m in run["models"]] == [("final_model.npz", 2048)]


def test_verify_says_when_no_model_was_recorded_and_still_exits_0(tmp_path: Path) -> None:
    bare, modelled = _crates(tmp_path)
    result = runner.invoke(app, ["verify", str(bare)], env=WIDE)
    assert result.exit_code == 0, result.output  # the files that are there are intact
    assert f"NO MODEL  {bare}: the run recorded no model file" in result.stdout
    result = runner.invoke(app, ["verify", str(modelled)], env=WIDE)
    assert result.exit_code == 0 and "NO MODEL" not in result.stdout
    assert f"ok        {modelled}: final_model.npz" in result.stdout


def test_a_crate_without_a_run_is_not_said_to_lack_a_model(tmp_path: Path) -> None:
    """A crate of files only (a FEDn compute package is one) describes no run to blame."""
    (tmp_path / "data.txt").write_text("x")
    document = {
        "@context": "https://w3id.org/ro/crate/1.2/context",
        "@graph": [
            {"@id": "ro-crate-metadata.json", "@type": "CreativeWork", "about": {"@id": "./"}},
            {"@id": "./", "@type": "Dataset", "name": "files", "hasPart": [{"@id": "data.txt"}]},
            {"@id": "data.txt", "@type": "File", "contentSize": 1},
        ],
    }
    (tmp_path / "ro-crate-metadata.json").write_text(json.dumps(document))
    result = runner.invoke(app, ["verify", str(tmp_path)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "NO MODEL" not in result.stdout and "records no file checksums" in result.stdout


def test_text_results_are_not_taken_for_the_model(tmp_path: Path) -> None:
    """A log or JSON metadata in a run's result documents the run; it is not its model."""
    bare, _ = _crates(tmp_path)
    metadata = bare / "ro-crate-metadata.json"
    document = json.loads(metadata.read_text())
    run = next(n for n in document["@graph"] if "CreateAction" in str(n.get("@type")))
    (bare / "train.log").write_text("round 1\n")
    document["@graph"].append({"@id": "train.log", "@type": "File", "encodingFormat": "text/plain"})
    results = run["result"] if isinstance(run["result"], list) else [run["result"]]
    run["result"] = [*results, {"@id": "train.log"}]
    metadata.write_text(json.dumps(document))
    [view] = json.loads(runner.invoke(app, ["show", str(bare), "--format", "json"]).stdout)["runs"]
    assert view["models"] == []
