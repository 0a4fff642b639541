"""Issue 18, item 2: every command that takes a crate reads the zip `fedcrate zip` writes.

`show`, `validate` and `verify` read a zipped crate in place (nothing is unpacked); a zip
made by zipping the crate's folder (one top folder) is read too; `verify` hashes the
members and finds a changed one; a zip that is not a crate is one clear line, exit 2;
`export mlflow` unpacks the zip for MLflow and names the zip in the run.
"""

from __future__ import annotations

import json
import sys
import types
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from fedcrate import read_crate, write_crate
from fedcrate.cli import app
from fedcrate.crate.zip import zip_crate
from tests.conftest import make_record

runner = CliRunner()


@pytest.fixture(autouse=True)
def _prepared_shapes_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEDCRATE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture
def crate(tmp_path: Path) -> Path:
    model = tmp_path / "final_model.npz"
    model.write_bytes(b"weights of the final model")
    record = replace(make_record(), model_source=model)
    return write_crate(record, tmp_path / "out", preview=False).path


@pytest.fixture
def zipped(crate: Path) -> Path:
    return zip_crate(crate)


def test_show_reads_a_zipped_crate_as_its_folder(crate: Path, zipped: Path) -> None:
    folder = runner.invoke(app, ["show", str(crate), "--format", "json"])
    archive = runner.invoke(app, ["show", str(zipped), "--format", "json"])
    assert archive.exit_code == 0, archive.output
    assert json.loads(archive.stdout)["runs"] == json.loads(folder.stdout)["runs"]
    text = runner.invoke(app, ["show", str(zipped)], env={"COLUMNS": "200"})
    assert text.exit_code == 0 and "unit run" in text.stdout and "final_model.npz" in text.stdout


def test_validate_reads_a_zipped_crate(crate: Path, zipped: Path) -> None:
    folder = runner.invoke(app, ["validate", str(crate), "--format", "json"])
    archive = runner.invoke(app, ["validate", str(zipped), "--format", "json"])
    assert archive.exit_code == folder.exit_code, archive.output
    [from_zip], [from_folder] = json.loads(archive.stdout), json.loads(folder.stdout)
    assert from_zip["source"] == str(zipped)
    assert from_zip["findings"] == from_folder["findings"] and "error" not in from_zip


def test_verify_hashes_the_members_of_a_zipped_crate(zipped: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["verify", str(zipped)])
    assert result.exit_code == 0, result.output
    assert f"ok        {zipped}: final_model.npz" in result.stdout
    assert f"ok        {zipped}: metrics-by-round.csv" in result.stdout
    # The same zip with the model's bytes changed (same size): a mismatch, exit 1.
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(zipped) as source, zipfile.ZipFile(tampered, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "final_model.npz":
                data = data.upper()
            target.writestr(info, data)
    result = runner.invoke(app, ["verify", str(tampered)], env={"COLUMNS": "300"})
    assert result.exit_code == 1
    assert "MISMATCH" in result.stdout and "final_model.npz: sha256" in result.stdout


def test_a_zip_of_the_crate_folder_itself_is_read_too(crate: Path, tmp_path: Path) -> None:
    """`zip -r run.zip ro-crate/` puts the crate under one top folder."""
    archive = tmp_path / "by-hand.zip"
    with zipfile.ZipFile(archive, "w") as target:
        for path in sorted(crate.rglob("*")):
            if path.is_file():
                target.write(path, f"ro-crate/{path.relative_to(crate).as_posix()}")
    assert len(read_crate(archive)) == len(read_crate(crate))
    result = runner.invoke(app, ["verify", str(archive)])
    assert result.exit_code == 0 and "MISMATCH" not in result.stdout, result.output
    assert runner.invoke(app, ["show", str(archive)]).exit_code == 0


@pytest.mark.parametrize("command", ["show", "validate", "verify"])
def test_a_zip_that_is_no_crate_is_one_clear_line(tmp_path: Path, command: str) -> None:
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as target:
        target.writestr("a.txt", "x")
        target.writestr("b/c.txt", "y")
    result = runner.invoke(app, [command, str(archive)], env={"COLUMNS": "300"})
    assert result.exit_code == 2, result.output
    assert "without ro-crate-metadata.json at its root" in result.output
    assert "codec" not in result.output and "Traceback" not in result.output


def test_a_file_that_is_neither_json_nor_zip_says_so(tmp_path: Path) -> None:
    junk = tmp_path / "model.bin"
    junk.write_bytes(b"\x81\x92binary")
    result = runner.invoke(app, ["show", str(junk)], env={"COLUMNS": "300"})
    assert result.exit_code == 2
    assert "not UTF-8 text" in result.output and "codec" not in result.output


def test_export_mlflow_unpacks_a_zip_and_names_it(
    zipped: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLflow itself is faked: only what export_crates hands to export_crate is checked."""
    from fedcrate.export import mlflow as export

    exceptions = types.ModuleType("mlflow.exceptions")

    class MlflowException(Exception):
        message = ""

    exceptions.MlflowException = MlflowException  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "mlflow", types.ModuleType("mlflow"))
    monkeypatch.setitem(sys.modules, "mlflow.exceptions", exceptions)
    monkeypatch.setattr(export, "_mlflow_client", lambda uri: object())
    monkeypatch.setattr(export, "_experiment_id", lambda client, name, location: "1")
    seen: list[dict[str, Any]] = []

    def fake_export(
        client: object, crate_dir: Path, experiment_id: str, *, source: Path | None = None
    ) -> export.ExportedCrate:
        seen.append(
            {
                "metadata": (crate_dir / "ro-crate-metadata.json").is_file(),
                "model": (crate_dir / "final_model.npz").read_bytes(),
                "source": source,
            }
        )
        return export.ExportedCrate(source or crate_dir, "run-1", "created")

    monkeypatch.setattr(export, "export_crate", fake_export)
    report = export.export_crates([zipped], tracking_uri="sqlite:///unused.db")
    assert report.errors == []
    assert seen == [{"metadata": True, "model": b"weights of the final model", "source": zipped}]
    assert [e.crate for e in report.exported] == [zipped]
