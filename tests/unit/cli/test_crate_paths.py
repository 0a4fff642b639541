"""Issue 18, item 5: folders and paths as a newcomer passes them.

A folder holding one crate (the demo's `--out` folder, which holds `ro-crate/`) is that
crate for `show`, `validate`, `verify` and `zip`; a folder of several crates lists them for
`show` (which needs one) and is every crate for `validate` and `verify`; a missing path is
"no such file or folder"; `validate` names a path once per line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fedcrate import write_crate
from fedcrate.cli import app
from tests.conftest import make_record

runner = CliRunner()
WIDE = {"COLUMNS": "1000"}


@pytest.fixture(autouse=True)
def _prepared_shapes_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEDCRATE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """Like the demo's --out folder after one run: it holds ro-crate/."""
    folder = tmp_path / "fedcrate-demo"
    write_crate(make_record(), folder, preview=False)
    return folder


def test_show_uses_the_one_crate_in_a_folder(out: Path) -> None:
    result = runner.invoke(app, ["show", str(out)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"RO-Crate {out / 'ro-crate'}")
    shown = json.loads(runner.invoke(app, ["show", str(out), "--format", "json"]).stdout)
    assert shown["crate"] == str(out / "ro-crate")


def test_show_lists_the_crates_of_a_folder_holding_several(out: Path) -> None:
    for rounds in (1, 2):
        write_crate(make_record(rounds=rounds), out, preview=False)
    result = runner.invoke(app, ["show", str(out)], env=WIDE)
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line == (
        f"error: {out}: holds 3 crates, not one: {out / 'ro-crate'}, {out / 'ro-crate-2'}, "
        f"{out / 'ro-crate-3'}; pass one of them, e.g. {out / 'ro-crate-3'}"
    )


def test_validate_and_verify_check_every_crate_in_a_folder(out: Path) -> None:
    write_crate(make_record(rounds=2), out, preview=False)
    staged = out / ".ro-crate-staging-x"  # a half-written crate: never looked at
    staged.mkdir()
    (staged / "ro-crate-metadata.json").write_text("{")
    validated = runner.invoke(app, ["validate", str(out), "--format", "json"])
    assert [item["source"] for item in json.loads(validated.stdout)] == [
        str(out / "ro-crate"),
        str(out / "ro-crate-2"),
    ]
    verified = runner.invoke(app, ["verify", str(out)], env=WIDE)
    assert verified.exit_code == 0, verified.output
    assert f"ok        {out / 'ro-crate'}: metrics-by-round.csv" in verified.stdout
    assert f"ok        {out / 'ro-crate-2'}: metrics-by-round.csv" in verified.stdout


def test_zip_packs_the_one_crate_in_a_folder(out: Path) -> None:
    result = runner.invoke(app, ["zip", str(out)])
    assert result.exit_code == 0, result.output
    assert Path(result.stdout.strip()) == (out / "ro-crate.zip").resolve()


@pytest.mark.parametrize("command", ["show", "validate", "verify", "zip"])
def test_a_missing_path_is_no_such_file_or_folder(tmp_path: Path, command: str) -> None:
    missing = tmp_path / "nothere"
    result = runner.invoke(app, [command, str(missing)], env=WIDE)
    assert result.exit_code == 2
    assert f"{missing}: no such file or folder" in result.output
    assert "no ro-crate-metadata.json" not in result.output
    assert "Traceback" not in result.output


def test_validate_names_the_path_once(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for path in (tmp_path / "nothere", tmp_path / "empty"):
        result = runner.invoke(app, ["validate", str(path)], env=WIDE)
        assert result.exit_code == 2
        [line] = result.output.strip().splitlines()
        assert line.startswith(f"✗ {path}: ") and line.count(str(path)) == 1, line


def test_an_empty_folder_says_no_crate_in_or_below_it(tmp_path: Path) -> None:
    result = runner.invoke(app, ["show", str(tmp_path)], env=WIDE)
    assert result.exit_code == 2
    assert "no ro-crate-metadata.json in this folder or below it" in result.output


def test_validate_reports_unusable_paths_in_place_and_checks_the_rest(
    out: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "nothere"
    result = runner.invoke(app, ["validate", str(missing), str(out), "--format", "json"])
    assert result.exit_code == 2
    first, second = json.loads(result.stdout)
    assert first["source"] == str(missing) and "no such file or folder" in first["error"]
    assert second["source"] == str(out / "ro-crate") and "findings" in second
