"""Reports keep every finding's level; only findings at a failing level fail."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

from rich.console import Console

from fedcrate.validate import Finding, Level, Outcome, Report
from fedcrate.validate.reports import render_json, render_junit, render_text


def _finding(level: Level, rule: str) -> Finding:
    return Finding(
        level=level,
        shape=f"https://example.org/shapes#{rule}",
        name=f"{rule} name",
        focus="#fl-run",
        path="http://schema.org/name",
        message=f"{rule} message",
    )


def _report(level: Level) -> Report:
    findings = [
        _finding(Level.MUST, "Hard"),
        _finding(Level.SHOULD, "Soft"),
        _finding(Level.MAY, "Optional"),
    ]
    checked = [("Hard", "Hard name"), ("Soft", "Soft name"), ("Optional", "Optional name")]
    checked.append(("Fine", "Fine name"))
    return Report(
        "crate",
        level,
        findings,
        checked,
        profile="fl-crate-0.1",
        claimed=False,
        note="the crate does not claim it",
    )


def _text(outcomes: list[Outcome]) -> str:
    buffer = io.StringIO()
    render_text(outcomes, Console(file=buffer, width=200, color_system=None))
    return buffer.getvalue()


def test_text_groups_failures_warnings_and_notes() -> None:
    text = _text([Outcome("crate", _report(Level.MUST))])
    assert (
        "does not conform to fl-crate-0.1" in text and "note: the crate does not claim it" in text
    )
    assert "MUST (1, fails)" in text
    assert "SHOULD (1, warnings, not failing)" in text and "MAY (1, notes, not failing)" in text
    soft = Report("crate", Level.MUST, [_finding(Level.SHOULD, "Soft")], [("Soft", "n")])
    text = _text([Outcome("crate", soft), Outcome("broken", error="not a crate")])
    assert "✓ crate conforms" in text and "1 warning" in text and "✗ broken: not a crate" in text
    strict = Report("crate", Level.SHOULD, [_finding(Level.SHOULD, "Soft")], [("Soft", "n")])
    assert "SHOULD (1, fails)" in _text([Outcome("crate", strict)])


def test_json_keeps_each_findings_level_and_whether_it_fails() -> None:
    [item] = json.loads(render_json([Outcome("crate", _report(Level.SHOULD))]))
    assert (
        item["conforms"] is False
        and item["level"] == "should"
        and item["profile"] == "fl-crate-0.1"
    )
    assert [(f["level"], f["fails"]) for f in item["findings"]] == [
        ("must", True),
        ("should", True),
        ("may", False),
    ]
    assert (item["failures"], item["warnings"], item["claimed"]) == (2, 1, False)


def test_junit_fails_only_failing_levels_and_lists_the_others() -> None:
    xml = render_junit([Outcome("crate", _report(Level.MUST)), Outcome("gone", error="unreadable")])
    suites = ET.fromstring(xml.split("?>", 1)[1])
    crate, gone = suites
    cases = {c.get("name", "").split(":")[0]: c for c in crate.iter("testcase")}
    assert crate.get("failures") == "1" and crate.get("tests") == "4"
    assert cases["Hard"].find("failure") is not None
    for rule in ("Soft", "Optional"):
        assert cases[rule].find("failure") is None
        assert f"{rule} message" in (cases[rule].findtext("system-out") or "")
    assert cases["Fine"].find("failure") is None and cases["Fine"].find("system-out") is None
    properties = {p.get("name"): p.get("value") for p in crate.iter("property")}
    assert properties == {"profile": "fl-crate-0.1", "fails-at": "must", "claimed": "false"}
    assert gone.get("errors") == "1"
