"""Validation reports for people (text), scripts (JSON) and CI systems (JUnit XML).

Every finding keeps its level. Findings at a failing level (the report's `level` or
stricter) are failures; the others are warnings (SHOULD) and notes (MAY): printed, but the
crate still conforms. In JUnit, failures are `<failure>`s and the others go to the test
case's `<system-out>`, so CI shows them without failing the build.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from fedcrate.validate.shacl import Finding, Level, Outcome, Report

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["Outcome", "render_json", "render_junit", "render_text"]

_STYLE = {Level.MUST: "bold red", Level.SHOULD: "yellow", Level.MAY: "cyan"}
_KIND = {Level.MUST: "violation", Level.SHOULD: "warning", Level.MAY: "note"}


def _count(findings: list[Finding], level: Level) -> str:
    n = sum(1 for f in findings if f.level is level)
    kind = _KIND[level]
    return f"{n} {kind}{'s' if n != 1 else ''}"


def _summary(report: Report) -> str:
    parts = [_count(report.findings, level) for level in Level if report.at(level)]
    return f"; {', '.join(parts)}" if parts else ""


def render_text(outcomes: list[Outcome], console: Console) -> None:
    """Per crate: a verdict, the profile applied, then findings grouped by level.

    Failing levels are labelled as such; the levels below are warnings and notes.
    """
    from rich.markup import escape

    for outcome in outcomes:
        if outcome.report is None:
            # Library messages start with the path; the verdict line names it once.
            error = (outcome.error or "").removeprefix(f"{outcome.source}: ")
            console.print(f"[bold red]✗ {escape(outcome.source)}[/]: {escape(error)}")
            continue
        report = outcome.report
        fails = f"fails at {report.level.value}"
        if report.conforms:
            console.print(
                f"[green]✓ {escape(report.source)}[/] conforms to {escape(report.profile)} "
                f"({fails}, {len(report.rules_checked)} rules{escape(_summary(report))})"
            )
        else:
            console.print(
                f"[bold red]✗ {escape(report.source)}[/] does not conform to "
                f"{escape(report.profile)} ({fails}{escape(_summary(report))})"
            )
        if report.note:
            console.print(f"  [dim]note: {escape(report.note)}[/]", highlight=False)
        failing = report.level.included()
        for level in Level:
            findings = report.at(level)
            if not findings:
                continue
            label = "fails" if level in failing else f"{_KIND[level]}s, not failing"
            console.print(f"  [{_STYLE[level]}]{level.value.upper()}[/] ({len(findings)}, {label})")
            for finding in findings:
                where = finding.focus + (f" {finding.path}" if finding.path else "")
                console.print(
                    f"    {escape(where)}: {escape(finding.message)} [dim]\\[{finding.rule}][/]",
                    highlight=False,
                )


def render_json(outcomes: list[Outcome]) -> str:
    """One JSON array: a report per crate (each finding with its level), or `{source, error}`."""
    items = [
        o.report.to_dict() if o.report is not None else {"source": o.source, "error": o.error}
        for o in outcomes
    ]
    return json.dumps(items, indent=2, ensure_ascii=False)


def _line(finding: Finding) -> str:
    return f"[{finding.level.value}] {finding.focus} {finding.path or ''}: {finding.message}"


def render_junit(outcomes: list[Outcome]) -> str:
    """JUnit XML: a test suite per crate, a test case per rule.

    A rule with a finding at a failing level is a `<failure>`; findings below that level
    are listed in the case's `<system-out>` and leave it passing.
    """
    suites = ET.Element("testsuites", name="fedcrate validate")
    for outcome in outcomes:
        suite = ET.SubElement(suites, "testsuite", name=outcome.source)
        if outcome.report is None:
            case = ET.SubElement(suite, "testcase", classname=outcome.source, name="readable crate")
            ET.SubElement(case, "error", message=outcome.error or "").text = outcome.error
            suite.set("tests", "1")
            suite.set("errors", "1")
            suite.set("failures", "0")
            continue
        report = outcome.report
        failing_levels = report.level.included()
        by_rule: dict[str, list[Finding]] = {}
        for finding in report.findings:
            by_rule.setdefault(finding.rule, []).append(finding)
        checked = list(report.rules_checked)
        known = {rule for rule, _ in checked}
        checked += [(rule, found[0].name) for rule, found in by_rule.items() if rule not in known]
        failures = 0
        for rule, name in checked:
            case = ET.SubElement(
                suite, "testcase", classname=outcome.source, name=f"{rule}: {name}"
            )
            found = by_rule.get(rule, [])
            failing = [f for f in found if f.level in failing_levels]
            others = [f for f in found if f.level not in failing_levels]
            if failing:
                failures += 1
                lines = [_line(f) for f in failing]
                ET.SubElement(case, "failure", message=lines[0]).text = "\n".join(lines)
            if others:
                ET.SubElement(case, "system-out").text = "\n".join(_line(f) for f in others)
        suite.set("tests", str(len(checked)))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        properties = ET.Element("properties")
        for name, value in (
            ("profile", report.profile),
            ("fails-at", report.level.value),
            ("claimed", str(report.claimed).lower()),
        ):
            ET.SubElement(properties, "property", name=name, value=value)
        suite.insert(0, properties)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)
