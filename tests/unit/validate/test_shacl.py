"""SHACL validation of the FL profile: the corpus, crates fedcrate writes, reports, CLI."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from rdflib import URIRef
from typer.testing import CliRunner

from fedcrate import write_crate
from fedcrate.cli import app
from fedcrate.errors import NotACrate
from fedcrate.record import RunRecord, RunStatus, StrategyFacts
from fedcrate.validate import Level, shapes_graph, validate
from fedcrate.validate.shacl import SH
from tests.support.paths import DATA

CORPUS = DATA / "crates"
INVALID = sorted(p for p in (CORPUS / "invalid").iterdir() if p.is_dir())
VALID = sorted(p for p in (CORPUS / "valid").iterdir() if p.is_dir())
runner = CliRunner()


def _reporting_shapes() -> set[str]:
    shapes = shapes_graph(Level.MAY)
    return {
        str(s).rsplit("#", 1)[-1]
        for s in shapes.subjects(SH.message, None)
        if isinstance(s, URIRef)
    }


def test_every_shape_is_named_described_and_has_a_message() -> None:
    shapes = shapes_graph(Level.MAY)
    reporting = [s for s in shapes.subjects(SH.message, None)]
    assert len(reporting) >= 15
    for shape in reporting:
        assert isinstance(shape, URIRef), "reporting shapes need IRIs to be named in reports"
        assert shapes.value(shape, SH.name) is not None, shape
        assert shapes.value(shape, SH.description) is not None, shape


def test_corpus_has_a_broken_crate_for_every_rule() -> None:
    assert len(INVALID) >= 15
    assert _reporting_shapes() <= {p.name for p in INVALID}


@pytest.mark.parametrize("crate", INVALID, ids=lambda p: p.name)
def test_each_broken_crate_fails_exactly_its_rule(crate: Path) -> None:
    expected = json.loads((crate / "expected.json").read_text())
    report = validate(crate, level=Level.MAY)
    assert {f.rule for f in report.findings} == {expected["shape"]}, report.findings
    assert {f.level.value for f in report.findings} == {expected["severity"]}
    assert expected["message"] in {f.message for f in report.findings}


@pytest.mark.parametrize("crate", VALID, ids=lambda p: p.name)
def test_valid_fixtures_conform_at_every_level(crate: Path) -> None:
    report = validate(crate, level=Level.MAY)
    assert report.conforms, report.findings


def test_crates_fedcrate_writes_conform_at_must_and_should(
    tmp_path: Path, record_factory: Callable[..., RunRecord]
) -> None:
    source = tmp_path / "my_strategy.py"
    source.write_text("class MyAvg:\n    pass\n")
    records = {
        "completed": record_factory(rounds=4),
        "failed": replace(record_factory(), status=RunStatus.FAILED, error="RuntimeError: x"),
        "custom": replace(
            record_factory(), strategy=StrategyFacts("MyAvg", "m", source_file=source)
        ),
    }
    for name, record in records.items():
        crate = write_crate(record, tmp_path / name).path
        report = validate(crate, level=Level.SHOULD)
        assert report.conforms, (name, report.findings)


def test_validation_without_inference_agrees_on_fedcrate_crates(
    tmp_path: Path, record_factory: Callable[..., RunRecord]
) -> None:
    crate = write_crate(record_factory(), tmp_path).path
    assert validate(crate, inference=False).conforms


def test_graph_input_and_unusable_input(
    tmp_path: Path, record_factory: Callable[..., RunRecord]
) -> None:
    written = write_crate(record_factory(), tmp_path / "ok")
    assert validate(written.graph).conforms
    with pytest.raises(NotACrate):
        validate(tmp_path / "nothing-here")


def test_cli_exit_codes_and_formats(tmp_path: Path) -> None:
    valid, invalid = VALID[0], INVALID[0]
    ok = runner.invoke(app, ["validate", str(valid)])
    assert ok.exit_code == 0, ok.output
    assert "conforms" in ok.output

    bad = runner.invoke(app, ["validate", str(invalid), "--level", "may", "--format", "json"])
    assert bad.exit_code == 1
    [report] = json.loads(bad.output)
    assert report["conforms"] is False
    assert {f["rule"] for f in report["findings"]} == {invalid.name}

    junit = runner.invoke(
        app, ["validate", str(valid), str(invalid), "--level", "may", "--format", "junit"]
    )
    assert junit.exit_code == 1
    suites = ET.fromstring(junit.output.split("?>", 1)[1])
    assert [s.get("failures") for s in suites] == ["0", "1"]

    (tmp_path / "ro-crate-metadata.json").write_text("{not json")
    unusable = runner.invoke(app, ["validate", str(tmp_path), str(valid)])
    assert unusable.exit_code == 2
    assert "not valid JSON" in unusable.output and "Traceback" not in unusable.output


def test_regression_metrics_with_units_pass_the_unit_rule(
    tmp_path: Path, record_factory: Callable[..., RunRecord]
) -> None:
    from fedcrate.record import Metric

    record = record_factory(rounds=2, metrics=("rmse",))
    rmse = Metric("rmse", "http://mex.aksw.org/mex-perf#rootMeanSquaredError")
    without = replace(record, observations=[replace(o, metric=rmse) for o in record.observations])
    rules = {f.rule for f in validate(write_crate(without, tmp_path / "a").path).findings}
    assert rules == {"MetricUnitCode"}
    with_unit = replace(rmse, unit="KGM")
    fixed = replace(
        record, observations=[replace(o, metric=with_unit) for o in record.observations]
    )
    assert validate(write_crate(fixed, tmp_path / "b").path).conforms
