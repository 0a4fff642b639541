"""`fedcrate validate`: levels that fail, profiles, formats and exit codes.

Exit codes follow the CLI's convention: 0 every crate conforms (warnings and notes may be
printed), 1 a finding at a failing level, 2 unusable input (not a crate, unknown profile).
The expected verdicts come from the library's own report, so the tests hold whatever the
shapes currently require.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fedcrate import write_crate
from fedcrate.cli import app
from fedcrate.validate import Level, shipped_profiles, validate
from tests.conftest import make_record

runner = CliRunner()


@pytest.fixture(autouse=True)
def _prepared_shapes_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.setenv("FEDCRATE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
    yield


@pytest.fixture
def crate(tmp_path: Path) -> Path:
    return write_crate(make_record(), tmp_path / "crate", preview=False).path


def _expected_exit(crate: Path, level: Level, profile: str | None = None) -> int:
    return 0 if validate(crate, level=level, profile=profile).conforms else 1


def test_the_level_sets_what_fails(crate: Path) -> None:
    for level in Level:
        result = runner.invoke(app, ["validate", str(crate), "--level", level.value])
        assert result.exit_code == _expected_exit(crate, level), result.output
    default = runner.invoke(app, ["validate", str(crate)])
    assert default.exit_code == _expected_exit(crate, Level.MUST)
    strict = runner.invoke(app, ["validate", str(crate), "--strict"])
    assert strict.exit_code == _expected_exit(crate, Level.SHOULD)


def test_findings_below_the_level_are_printed_but_do_not_fail(crate: Path) -> None:
    report = validate(crate, level=Level.MUST)
    result = runner.invoke(app, ["validate", str(crate), "--format", "json"])
    [item] = json.loads(result.output)
    assert len(item["findings"]) == len(report.findings)
    for finding in item["findings"]:
        assert finding["fails"] == (finding["level"] == "must")
    text = runner.invoke(app, ["validate", str(crate)]).output
    for level in (Level.SHOULD, Level.MAY):
        if report.at(level):
            assert f"{level.value.upper()} ({len(report.at(level))}, " in text
            assert "not failing" in text


def test_junit_fails_only_the_failing_levels(crate: Path) -> None:
    report = validate(crate, level=Level.MUST)
    result = runner.invoke(app, ["validate", str(crate), "--format", "junit"])
    suite = ET.fromstring(result.output.split("?>", 1)[1])[0]
    failing_rules = {f.rule for f in report.failures}
    assert suite.get("failures") == str(len(failing_rules))
    for case in suite.iter("testcase"):
        rule = case.get("name", "").split(":")[0]
        assert (case.find("failure") is not None) == (rule in failing_rules)


def test_profiles_by_token_and_the_unknown_one(crate: Path) -> None:
    for token in shipped_profiles():
        result = runner.invoke(
            app, ["validate", str(crate), "--profile", token, "--format", "json"]
        )
        [item] = json.loads(result.output)
        assert item["profile"] == token
        assert result.exit_code == _expected_exit(crate, Level.MUST, token)
    unknown = runner.invoke(app, ["validate", str(crate), "--profile", "fl-crate-9.9"])
    assert unknown.exit_code == 2
    assert "unknown profile" in unknown.output and "Traceback" not in unknown.output
    assert all(token in unknown.output for token in shipped_profiles())


def test_a_crate_claiming_no_shipped_profile_gets_a_note(crate: Path, tmp_path: Path) -> None:
    document = json.loads((crate / "ro-crate-metadata.json").read_text())
    root = next(n for n in document["@graph"] if n["@id"] == "./")
    known = {p.iri for p in shipped_profiles().values()}
    root["conformsTo"] = [c for c in root["conformsTo"] if c["@id"] not in known]
    (tmp_path / "unclaimed").mkdir()
    (tmp_path / "unclaimed" / "ro-crate-metadata.json").write_text(json.dumps(document))
    result = runner.invoke(app, ["validate", str(tmp_path / "unclaimed")])
    assert "does not claim" in " ".join(result.output.split())
    [item] = json.loads(
        runner.invoke(app, ["validate", str(tmp_path / "unclaimed"), "--format", "json"]).output
    )
    assert item["claimed"] is False and item["profile"] == "fl-crate-0.1"


def test_unusable_input_exits_2_and_the_others_are_still_reported(
    crate: Path, tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()
    result = runner.invoke(
        app, ["validate", str(tmp_path / "empty"), str(crate), "--format", "json"]
    )
    assert result.exit_code == 2
    items = json.loads(result.output)
    assert "error" in items[0] and items[1]["source"] == str(crate)


def test_many_crates_in_parallel_report_like_one_by_one(crate: Path, tmp_path: Path) -> None:
    crates = [crate] + [
        write_crate(make_record(rounds=r), tmp_path / f"c{r}", preview=False).path for r in (1, 2)
    ]
    args = ["validate", *map(str, crates), "--format", "json", "--level", "may"]
    serial = runner.invoke(app, [*args, "--jobs", "1"])
    parallel = runner.invoke(app, [*args, "--jobs", "2"])
    assert json.loads(serial.output) == json.loads(parallel.output)
    assert serial.exit_code == parallel.exit_code


def test_help_names_the_levels_and_the_profiles() -> None:
    text = " ".join(runner.invoke(app, ["validate", "--help"]).output.split())
    for words in ("--profile", "--level", "--strict", "fl-crate-0.1", "fails"):
        assert words in text
