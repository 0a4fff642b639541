"""Issue 18, items 3, 4, 6 and 8: `fedcrate sparql` as a newcomer meets it.

The default index lives in the user's cache (never in the crate folders) and `zip` packs
no hidden working files; the table is readable at 80 columns (no value cut with "…", IRIs
shortened, a run shown by its crate folder); folders without crates exit 1; JSON gives
final metrics as values; a SPARQL syntax error shows the line and a caret.
"""

from __future__ import annotations

import json
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fedcrate import write_crate
from fedcrate.cli import app
from fedcrate.crate.zip import zip_crate
from fedcrate.index import location
from fedcrate.index.queries import point_at_error
from fedcrate.index.results import final_metrics, query_prefixes, short_value
from fedcrate.index.store import CrateIndex
from tests.conftest import make_record

runner = CliRunner()
SECOND_UUID = "2b4c5f2e-0000-4000-8000-000000000002"


@pytest.fixture
def crates(tmp_path: Path) -> Path:
    folder = tmp_path / "crates"
    write_crate(make_record(), folder / "alpha", preview=False)
    write_crate(
        replace(make_record(), run_uuid=SECOND_UUID, name="second run"),
        folder / "beta",
        preview=False,
    )
    return folder


@pytest.fixture
def index_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "index-home"
    monkeypatch.setenv(location.ENV_VAR, str(home))
    return home


def _tree(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


# -- item 3: the index stays out of the crates ----------------------------------------


def test_default_index_is_in_the_cache_not_in_the_crates(crates: Path, index_home: Path) -> None:
    before = _tree(crates)
    result = runner.invoke(app, ["sparql", "runs", str(crates), "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert _tree(crates) == before
    expected = index_home / location.folders_key([crates])
    assert (expected / "manifest.json").is_file()


def test_the_key_ignores_order_and_spelling_of_the_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    monkeypatch.chdir(tmp_path)
    key = location.folders_key([Path("a"), tmp_path / "b"])
    assert key == location.folders_key([tmp_path / "b", tmp_path / "x" / ".." / "a"])
    assert len(key) == 16 and key != location.folders_key([Path("a")])


def test_the_cache_root_follows_the_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(location.ENV_VAR, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert location.cache_root() == tmp_path / "xdg" / "fedcrate" / "index"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert location.cache_root() == tmp_path / "home" / ".cache" / "fedcrate" / "index"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert location.cache_root() == tmp_path / "home" / "Library" / "Caches" / "fedcrate" / "index"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert location.cache_root() == tmp_path / "local" / "fedcrate" / "index"
    monkeypatch.setenv(location.ENV_VAR, str(tmp_path / "own"))
    assert location.cache_root() == tmp_path / "own"


def test_index_option_still_wins(crates: Path, tmp_path: Path, index_home: Path) -> None:
    own = tmp_path / "own-index"
    with CrateIndex(crates, index=own) as crate_index:
        assert crate_index.path == own
        assert len(crate_index.query("runs")) == 2
    assert (own / "manifest.json").is_file() and not index_home.exists()


def test_zip_never_packs_hidden_files(crates: Path) -> None:
    crate = next((crates / "alpha").glob("*/ro-crate-metadata.json")).parent
    (crate / ".fedcrate-index" / "store").mkdir(parents=True)
    (crate / ".fedcrate-index" / "store" / "000001.sst").write_bytes(b"x" * 1000)
    (crate / ".ro-crate-staging-1").mkdir()
    (crate / ".ro-crate-staging-1" / "ro-crate-metadata.json").write_text("{}")
    (crate / ".DS_Store").write_bytes(b"finder")
    with zipfile.ZipFile(zip_crate(crate)) as archive:
        names = archive.namelist()
    assert names[0] == "ro-crate-metadata.json"
    assert not [n for n in names if any(part.startswith(".") for part in n.split("/"))]


# -- item 4: a table readable at 80 columns -------------------------------------------


def test_the_runs_table_cuts_nothing_at_80_columns(crates: Path, index_home: Path) -> None:
    result = runner.invoke(app, ["sparql", "runs", str(crates)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    assert "alpha/" in result.stdout and "beta/" in result.stdout  # runs by their folder
    assert "arcp:" not in result.stdout and "2026-11-25T10:00:00.123+00:00" in result.stdout
    assert all(len(line) <= 80 for line in result.stdout.splitlines())
    assert result.stdout.rstrip().endswith("2 rows")


def test_a_table_that_fits_is_a_table_with_prefixed_names(crates: Path, index_home: Path) -> None:
    query = (
        "PREFIX my: <http://schema.org/>\n"
        "SELECT DISTINCT ?t WHERE { ?r a ?t FILTER(?t = my:CreateAction) }"
    )
    result = runner.invoke(app, ["sparql", query, str(crates)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "my:CreateAction" in result.stdout and "┃" in result.stdout
    assert result.stdout.rstrip().endswith("1 row")


def test_csv_and_json_stay_complete(crates: Path, index_home: Path) -> None:
    csv = runner.invoke(app, ["sparql", "runs", str(crates), "--format", "csv"])
    assert f"arcp://uuid,{SECOND_UUID}/#fl-run" in csv.stdout
    assert "client-evaluate loss=0.75; " in csv.stdout


def test_short_values() -> None:
    prefixes = query_prefixes("PREFIX ex: <http://example.org/ns#>\nSELECT * {}")
    assert short_value("http://example.org/ns#thing", prefixes) == "ex:thing"
    assert short_value("http://www.w3.org/ns/prov#Activity", prefixes) == "prov:Activity"
    assert short_value("http://example.org/ns#a/b", prefixes) == "http://example.org/ns#a/b"
    assert short_value("just text", prefixes) == "just text"
    run = f"arcp://uuid,{SECOND_UUID}/"
    assert short_value(run + "#fl-run", prefixes) == "run:2b4c5f2e"
    assert short_value(run + "#fl-run", prefixes, {run: "beta"}) == "beta"
    assert short_value(run + "#round-1", prefixes, {run: "beta"}) == "beta/#round-1"


# -- item 6: no crate is not success --------------------------------------------------


def test_a_folder_without_crates_exits_1_and_stays_empty(tmp_path: Path, index_home: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(app, ["sparql", "runs", str(empty)], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "no crate found under" in result.output and "0 rows" not in result.output
    assert list(empty.iterdir()) == []


# -- item 8: help, JSON values, parser errors -----------------------------------------


def test_help_describes_query_and_crates() -> None:
    result = runner.invoke(app, ["sparql", "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    assert "QUERY is SPARQL text" in result.stdout and "CRATES are folders" in result.stdout
    assert "cache" in result.stdout


def test_json_gives_final_metrics_as_values(crates: Path, index_home: Path) -> None:
    result = runner.invoke(app, ["sparql", "runs", str(crates), "--format", "json"])
    assert result.exit_code == 0, result.output
    runs = json.loads(result.stdout)
    metrics = runs[0]["finalMetrics"]
    assert {"side": "server-evaluate", "metric": "loss", "value": 0.2} in metrics
    assert all(isinstance(m["value"], float) for m in metrics) and len(metrics) == 6


def test_final_metrics_parsing() -> None:
    assert final_metrics(None) == [] and final_metrics("") == []
    assert final_metrics("server-evaluate loss=0.5; ? a=b=3; client-train n=x") == [
        {"side": "server-evaluate", "metric": "loss", "value": 0.5},
        {"side": "?", "metric": "a=b", "value": 3},
        {"side": "client-train", "metric": "n", "value": "x"},
    ]


def test_a_syntax_error_points_at_the_line(crates: Path, index_home: Path) -> None:
    query = "SELECT * WHERE { ?s ?p ?o }\n\nLIMIT x"
    result = runner.invoke(app, ["sparql", query, str(crates)], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    lines = result.output.splitlines()
    shown = next(i for i, line in enumerate(lines) if line.endswith("| LIMIT x"))
    assert "error at 3:" in result.output and "Traceback" not in result.output
    assert lines[shown + 1].index("^") == lines[shown].index("x")


def test_point_at_error_leaves_other_messages_alone() -> None:
    assert point_at_error("no position here", "SELECT") == "no position here"
    assert point_at_error("error at 9:1: x", "SELECT") == "error at 9:1: x"
