"""Validation reports for people (text), scripts (JSON) and CI systems (JUnit XML)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from rich.console import Console
from rich.markup import escape

from fedcrate.validate.shacl import Level, Report

__all__ = ["Outcome", "render_json", "render_junit", "render_text"]


@dataclass(frozen=True)
class Outcome:
    """A crate's report, or why it could not be validated at all."""

    source: str
    report: Report | None = None
    error: str | None = None


_STYLE = {Level.MUST: "bold red", Level.SHOULD: "yellow", Level.MAY: "cyan"}


def render_text(outcomes: list[Outcome], console: Console) -> None:
    """Per crate: a verdict, then findings grouped by level with focus, path and message."""
    for outcome in outcomes:
        if outcome.report is None:
            console.print(f"[bold red]✗ {escape(outcome.source)}[/]: {escape(outcome.error or '')}")
            continue
        report = outcome.report
        if report.conforms:
            console.print(
                f"[green]✓ {escape(report.source)}[/] conforms to the FL profile "
                f"({report.level.value}, {len(report.rules_checked)} rules)"
            )
            continue
        console.print(f"[bold red]✗ {escape(report.source)}[/] ({report.level.value})")
        for level in Level:
            findings = report.at(level)
            if not findings:
                continue
            console.print(f"  [{_STYLE[level]}]{level.value.upper()}[/] ({len(findings)})")
            for finding in findings:
                where = finding.focus + (f" {finding.path}" if finding.path else "")
                console.print(
                    f"    {escape(where)}: {escape(finding.message)} [dim]\\[{finding.rule}][/]",
                    highlight=False,
                )


def render_json(outcomes: list[Outcome]) -> str:
    """One JSON array: a report object per crate, or `{source, error}`."""
    items = [
        o.report.to_dict() if o.report is not None else {"source": o.source, "error": o.error}
        for o in outcomes
    ]
    return json.dumps(items, indent=2, ensure_ascii=False)


def render_junit(outcomes: list[Outcome]) -> str:
    """JUnit XML: a test suite per crate, a test case per rule, failures with messages."""
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
        failing: dict[str, list[str]] = {}
        for finding in report.findings:
            failing.setdefault(finding.rule, []).append(
                f"[{finding.level.value}] {finding.focus} {finding.path or ''}: {finding.message}"
            )
        for rule, name in report.rules_checked:
            case = ET.SubElement(
                suite, "testcase", classname=outcome.source, name=f"{rule}: {name}"
            )
            if rule in failing:
                lines = failing[rule]
                ET.SubElement(case, "failure", message=lines[0]).text = "\n".join(lines)
        suite.set("tests", str(len(report.rules_checked)))
        suite.set("failures", str(len(failing)))
        suite.set("errors", "0")
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)
