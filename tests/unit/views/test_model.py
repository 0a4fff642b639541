"""`fedcrate show` and `views.model.describe`: the facts a person reads first, from the graph."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from rdflib import RDF, Literal, URIRef
from rich.console import Console
from typer.testing import CliRunner

from fedcrate import read_crate, write_crate
from fedcrate.cli import app
from fedcrate.rdf.graph import series_finals
from fedcrate.rdf.namespaces import FL
from fedcrate.record import RunRecord, RunStatus
from fedcrate.record.run import complete_observations
from fedcrate.views.model import describe, format_value, sparkline
from fedcrate.views.terminal import render_terminal
from tests.conftest import STATO_ACCURACY
from tests.unit.rdf.test_series import as_fact, series_record

runner = CliRunner()


@pytest.fixture
def crate(tmp_path: Path, record_factory: Callable[..., RunRecord]) -> Path:
    return write_crate(record_factory(rounds=3), tmp_path / "out").path


def _run(args: list[str]) -> tuple[int, str, str]:
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_describe_reads_every_fact_of_a_written_crate(
    tmp_path: Path, record_factory: Callable[..., RunRecord]
) -> None:
    written = write_crate(record_factory(rounds=3), tmp_path / "out")
    [view] = describe(written.graph)
    assert view.name == "unit run" and view.status == "Completed" and view.error is None
    assert view.start == "2026-11-25T10:00:00.123+00:00"
    assert view.duration_s == pytest.approx(42.988)
    assert [(p.name, p.orcid) for p in view.agents] == [
        ("Ada", "https://orcid.org/0000-0002-1825-0097")
    ]
    assert view.authors == view.agents
    assert (view.license, view.license_url) == ("MIT", "https://spdx.org/licenses/MIT")
    assert view.crate_identifier == "urn:uuid:1b4c5f2e-0000-4000-8000-000000000001"
    assert view.strategy == "FedProx"
    assert view.strategy_class == "flwr.serverapp.strategy.fedprox.FedProx"
    assert {(s.name, s.value) for s in view.hyperparameters} == {
        ("proximal_mu", 0.1),
        ("fraction_train", 0.5),
    }
    config = {s.name: s for s in view.config}
    assert config["lr"].value == 0.01 and not config["lr"].redacted
    assert config["num_rounds"].value == 3 and config["num-rounds"].value == 4
    assert config["api-token"].redacted
    assert [(s.name, s.version, s.requirement) for s in view.software] == [
        ("Flower", "1.42.0", None),
        ("NumPy", "2.4.6", "numpy>=1.26"),
    ]
    assert (view.federation.node_count, view.federation.run_id, view.rounds) == (2, "7", 3)
    finals = {(m.side, m.metric): m for m in view.final_metrics}
    assert finals["server-evaluate", "accuracy"].property_id == STATO_ACCURACY
    assert finals["server-evaluate", "accuracy"].value == pytest.approx(1 / 5)
    assert finals["client-evaluate", "loss"].property_id == "loss"
    assert finals["client-evaluate", "loss"].round == 3
    history = {(s.side, s.metric): s for s in view.history}
    loss = history["server-evaluate", "loss"]
    assert loss.rounds == [0, 1, 2, 3]
    assert loss.values == pytest.approx([1 / 2, 1 / 3, 1 / 4, 1 / 5])
    assert history["client-train", "accuracy"].rounds == [1, 2, 3]


def test_history_and_finals_are_the_records_series(tmp_path: Path) -> None:
    """Per-round values are read through their series (side, name, propertyID stated once
    there): every observation of the record, gaps and NaN shown as missing values."""
    record = series_record()
    [view] = describe(read_crate(write_crate(record, tmp_path / "out").path))
    expected: dict[tuple[str, str, str], dict[int, float | None]] = {}
    for o in complete_observations(record.observations):
        key = (o.side.value, o.metric.name, o.metric.iri or o.metric.name)
        value = None if as_fact(o.value) == "nan" else float(o.value)
        expected.setdefault(key, {})[o.round] = value
    history = {(s.side, s.metric, s.property_id): dict(zip(s.rounds, s.values, strict=True))
               for s in view.history}  # fmt: skip
    assert history == expected
    assert all(s.rounds == sorted(s.rounds) for s in view.history)
    finals = {(m.side, m.metric): (m.property_id, as_fact(m.value), m.round)
              for m in view.final_metrics}  # fmt: skip
    assert finals == {
        (f.side.value, f.metric.name): (f.metric.iri or f.metric.name, as_fact(f.value), f.round)
        for f in series_finals(record)
    }


def test_federation_facts_and_participation_show_when_the_graph_has_them(
    tmp_path: Path, record_factory: Callable[..., RunRecord]
) -> None:
    graph = write_crate(record_factory(rounds=2), tmp_path / "out").graph
    run = next(graph.subjects(RDF.type, FL.FederatedRun))
    graph.add((run, FL.runtimeMode, Literal("deployment")))
    graph.add((run, FL.superlinkAddress, Literal("10.0.0.5:9092")))
    graph.add((run, FL.tlsEnabled, Literal(True)))
    graph.add((run, FL.nodeAuthenticationEnabled, Literal(False)))
    for round_, side, sampled, replied, failed in ((1, FL.ClientTraining, 4, 3, 1),
                                                   (1, FL.ClientEvaluation, 4, 4, 0)):  # fmt: skip
        node = URIRef(f"{run}-participation-{round_}-{side.split('#')[1]}")
        graph.add((run, FL.participation, node))
        graph.add((node, RDF.type, FL.RoundParticipation))
        graph.add((node, FL.round, Literal(round_)))
        graph.add((node, FL.side, side))
        graph.add((node, FL.nodesSampled, Literal(sampled)))
        graph.add((node, FL.repliesReceived, Literal(replied)))
        graph.add((node, FL.repliesFailed, Literal(failed)))
        graph.add((node, FL.examplesAggregated, Literal(replied * 100)))
    [view] = describe(graph)
    fed = view.federation
    assert (fed.runtime_mode, fed.superlink_address) == ("deployment", "10.0.0.5:9092")
    assert (fed.tls_enabled, fed.node_authentication_enabled) == (True, False)
    assert [(p.round, p.side, p.nodes_sampled, p.replies_received, p.replies_failed,
             p.examples_aggregated) for p in fed.participation] == [
        (1, "client-evaluate", 4, 4, 0, 400),
        (1, "client-train", 4, 3, 1, 300),
    ]  # fmt: skip
    console = Console(record=True, width=200)
    render_terminal([view], console)
    text = console.export_text()
    assert "deployment" in text and "10.0.0.5:9092" in text
    assert "TLS" in text and "node auth" in text
    assert "participation" in text and "client training" in text


def test_facts_a_crate_lacks_are_left_out(crate: Path) -> None:
    code, stdout, _ = _run(["show", str(crate)])
    assert code == 0
    labels = {line.split(maxsplit=1)[0] for line in stdout.splitlines() if line.strip()}
    assert "mode" not in labels and "participation" not in stdout and "TLS" not in stdout


def test_show_prints_the_summary_for_people(crate: Path) -> None:
    code, stdout, stderr = _run(["show", str(crate)])
    assert code == 0, stderr
    for expected in (
        "unit run",
        "Completed",
        "42.99 s",
        "Ada (https://orcid.org/0000-0002-1825-0097)",
        "MIT",
        "flwr.serverapp.strategy.fedprox.FedProx",
        "proximal_mu",
        "redacted",
        "numpy>=1.26",
        "2.4.6",
        "stato:STATO_0000415",
        "final metrics",
        "per round",
    ):
        assert expected in stdout, expected
    # The server-side loss falls every round: its sparkline goes from full to empty.
    trends = stdout[stdout.index("per round") :].splitlines()
    loss_row = next(line for line in trends if "loss" in line and "server evaluation" in line)
    assert "█" in loss_row and "▁" in loss_row
    assert loss_row.index("█") < loss_row.index("▁")


def test_show_json_is_for_scripts(crate: Path) -> None:
    code, stdout, _ = _run(["show", str(crate), "--format", "json"])
    assert code == 0
    document = json.loads(stdout)
    assert document["crate"] == str(crate)
    [run] = document["runs"]
    assert run["status"] == "Completed" and run["rounds"] == 3
    assert run["federation"]["node_count"] == 2
    finals = {(m["side"], m["metric"]): m for m in run["final_metrics"]}
    assert finals["server-evaluate", "accuracy"]["property_id"] == STATO_ACCURACY
    steps = {(s["side"], s["metric"]): len(s["rounds"]) for s in run["history"]}
    assert steps["server-evaluate", "loss"] == 4 and steps["client-train", "loss"] == 3


def test_a_failed_run_shows_its_error(
    tmp_path: Path, record_factory: Callable[..., RunRecord]
) -> None:
    record = replace(record_factory(), status=RunStatus.FAILED, error="RuntimeError: <node 3> lost")
    crate = write_crate(record, tmp_path / "out").path
    code, stdout, _ = _run(["show", str(crate)])
    assert code == 0
    assert "Failed" in stdout and "RuntimeError: <node 3> lost" in stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no ro-crate-metadata.json"),
        ("{not json", "not valid JSON"),
        ('{"@context": {}, "name": "x"}', "no top-level @graph"),
        (
            '{"@context": "https://w3id.org/ro/crate/1.2/context", "@graph": ['
            '{"@id": "ro-crate-metadata.json", "@type": "CreativeWork", "about": {"@id": "./"}},'
            '{"@id": "./", "@type": "Dataset", "name": "plain"}]}',
            "no federated run",
        ),
    ],
)
def test_unusable_input_is_one_line_and_exit_code_2(
    tmp_path: Path, content: str | None, message: str
) -> None:
    if content is not None:
        (tmp_path / "ro-crate-metadata.json").write_text(content)
    code, stdout, stderr = _run(["show", str(tmp_path)])
    assert code == 2
    assert stdout == ""
    assert message in stderr and stderr.startswith("error:")
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) <= 2  # one message, wrapped at most once


def test_sparkline_scales_between_min_and_max() -> None:
    assert sparkline([0.0, 1.0, None, 0.5]) == "▁█ ▅"
    assert sparkline([2.0, 2.0]) == "▅▅"
    assert sparkline([]) == ""


def test_floats_keep_looking_like_floats() -> None:
    assert format_value(1.0) == "1.0"
    assert format_value(0.123456) == "0.1235"
    assert format_value(1e-9) == "1e-09"
    assert format_value(3) == "3"
    assert format_value(True) == "True"
