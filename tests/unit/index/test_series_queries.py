"""The shipped queries read rounds through the metric series and answer what the records say.

Every expected answer is computed from the `RunRecord`s the crates were written from
(observations with the gaps the crate fills, final values), never typed in, so the test
holds whatever the records' numbers are. The records have three sides, a metric with a
unit, a gap, a float NaN and a never-computed metric (tests/unit/rdf/test_series.py).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from fedcrate import write_crate
from fedcrate.index import CrateIndex
from fedcrate.index.queries import load_named_query
from fedcrate.rdf.graph import series_finals
from fedcrate.rdf.namespaces import base_iri
from fedcrate.record import Parameter, RunRecord, RunStatus, StrategyFacts
from fedcrate.record.run import complete_observations
from tests.support.paths import REPO
from tests.unit.index.test_store import _fast, _rdflib_triples
from tests.unit.rdf.test_series import as_fact, series_record

UUID = "2c5d6e3f-0000-4000-8000-00000000000{}"
ROUNDS = 4


def _records() -> list[RunRecord]:
    fedavg = StrategyFacts(
        "FedAvg", "flwr.serverapp.strategy.fedavg", (Parameter("fraction_train", 0.5),), "1.42.0"
    )
    a = replace(series_record(ROUNDS, 1.0), name="series a", run_uuid=UUID.format(1))
    b = replace(
        series_record(ROUNDS, 0.8), name="series b", run_uuid=UUID.format(2), strategy=fedavg
    )
    c = replace(
        series_record(ROUNDS - 1, 1.3),  # a shorter, failed run
        name="series c",
        run_uuid=UUID.format(3),
        status=RunStatus.FAILED,
        error="boom",
    )
    return [a, b, c]


RECORDS = _records()


def _run(record: RunRecord) -> str:
    return base_iri(record.run_uuid) + "#fl-run"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    crates = tmp_path_factory.mktemp("series-corpus")
    for record in RECORDS:
        write_crate(record, crates / record.name.replace(" ", "-"), preview=False)
    return crates


@pytest.fixture(scope="module")
def index(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> CrateIndex:
    return CrateIndex(corpus, index=tmp_path_factory.mktemp("series-index"))


def test_fast_path_equals_rdflib_for_series_crates(corpus: Path) -> None:
    crates = sorted(corpus.glob("*/ro-crate"))
    assert len(crates) == len(RECORDS)
    for crate in crates:
        assert _fast(crate) == _rdflib_triples(crate)


def test_metric_history_is_every_observation_of_every_record(index: CrateIndex) -> None:
    rows = index.query("metric-history").records()
    got = Counter(
        (r["run"], r["name"], r["round"], r["side"], r["metric"], as_fact(r["value"])) for r in rows
    )
    expected = Counter(
        (_run(rec), rec.name, o.round, o.side.value, o.metric.name, as_fact(o.value))
        for rec in RECORDS
        for o in complete_observations(rec.observations)
    )
    assert got == expected  # a multiset: no observation twice, none missing


def test_metric_history_filters_by_metric(index: CrateIndex) -> None:
    rows = index.query("metric-history", {"metric": "rmse"}).records()
    assert {r["metric"] for r in rows} == {"rmse"}
    assert len(rows) == sum(
        1 for rec in RECORDS for o in complete_observations(rec.observations)
        if o.metric.name == "rmse"
    )  # fmt: skip


def test_final_metrics_are_the_series_heads(index: CrateIndex) -> None:
    rows = index.query("final-metrics").records()
    got = Counter(
        (r["run"], r["side"], r["metric"], r["propertyID"], as_fact(r["value"]), r["round"])
        for r in rows
    )
    expected = Counter(
        (
            _run(rec),
            f.side.value,
            f.metric.name,
            f.metric.iri or f.metric.name,
            as_fact(f.value),
            f.round,
        )
        for rec in RECORDS
        for f in series_finals(rec)
    )
    assert got == expected
    # where every series has a computed value, the heads are the record's final metrics
    computed = {(rec.run_uuid, f.side, f.metric.name) for rec in RECORDS
                for f in rec.final_metrics()}  # fmt: skip
    assert computed < {(rec.run_uuid, f.side, f.metric.name) for rec in RECORDS
                       for f in series_finals(rec)}  # fmt: skip


def test_run_summary_last_round(index: CrateIndex) -> None:
    rows = {r["name"]: r for r in index.query("run-summary").records()}
    assert {name: r["lastRound"] for name, r in rows.items()} == {
        rec.name: max(rec.rounds()) for rec in RECORDS
    }


def test_runs_final_metrics_text(index: CrateIndex) -> None:
    rows = {r["name"]: r for r in index.query("runs").records()}
    for rec in RECORDS:
        text = rows[rec.name]["finalMetrics"]
        assert isinstance(text, str)
        pairs = (part.rsplit("=", 1) for part in text.split("; "))
        got = {key: as_fact(float(value)) for key, value in pairs}  # the store's STR(double)
        assert got == {
            f"{f.side.value} {f.metric.name}": as_fact(f.value) for f in series_finals(rec)
        }


def test_best_runs_ranks_the_final_values(index: CrateIndex) -> None:
    for metric, pick in (("loss", min), ("accuracy", max)):
        rows = index.query("best-runs", {"metric": metric}).records()
        got = {(r["strategy"], r["side"]): (r["best"], r["name"]) for r in rows}
        finals: dict[tuple[str, str], list[tuple[float, str]]] = {}
        for rec in RECORDS:
            assert rec.strategy is not None
            for f in series_finals(rec):
                if f.metric.name == metric and as_fact(f.value) != "nan":
                    key = (rec.strategy.class_name, f.side.value)
                    finals.setdefault(key, []).append((float(f.value), rec.name))
        expected = {}
        for key, values in finals.items():
            best = pick(v for v, _ in values)
            (name,) = [n for v, n in values if v == best]
            expected[key] = (best, name)
        assert {k: v for k, v in got.items() if k in expected} == expected


def _at_round(metric: str, round_: int) -> Counter[tuple[object, ...]]:
    return Counter(
        (rec.name, o.side.value, as_fact(o.value))
        for rec in RECORDS
        for o in complete_observations(rec.observations)
        if o.round == round_ and metric in (o.metric.name, o.metric.iri)
    )


@pytest.mark.parametrize(("metric", "round_"), [("accuracy", 3), ("loss", 0), ("dice", 2)])
def test_metric_at_round_across_runs(index: CrateIndex, metric: str, round_: int) -> None:
    rows = index.query("metric-at-round", {"metric": metric, "round": str(round_)}).records()
    assert {(r["metric"], r["round"]) for r in rows} == {(metric, round_)}
    got = Counter((r["name"], r["side"], as_fact(r["value"])) for r in rows)
    assert got == _at_round(metric, round_)
    assert got  # every case above has values


def test_metric_at_round_defaults() -> None:
    assert load_named_query("metric-at-round").params == {"metric": '"accuracy"', "round": "1"}


def _readme_query() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### One metric at one round, across runs", 1)[1]
    match = re.search(r"```sparql\n(.*?)```", section, re.S)
    assert match, "the README's subsection has a sparql block"
    return match.group(1)


def test_the_readme_query_answers_from_the_records(index: CrateIndex) -> None:
    text = _readme_query()
    bound = re.search(r'VALUES \(\?metric \?round\) \{ \("(\w+)" (\d+)\) \}', text)
    assert bound, "the README query binds a metric and a round"
    metric, round_ = bound.group(1), int(bound.group(2))
    rows = index.query(text).records()
    got = Counter((r["name"], r["side"], as_fact(r["value"])) for r in rows)
    assert got and got == _at_round(metric, round_)


def test_the_readme_query_by_iri(index: CrateIndex) -> None:
    """As the README says: match schema:propertyID and bind the IRI instead of the name."""
    text = _readme_query()
    assert text.count("schema:name ?metric") == 1
    by_iri = re.sub(r'\("\w+" (\d+)\)', r"(<http://www.w3.org/ns/mex-performance#RMSE> 2)", text)
    by_iri = by_iri.replace("schema:name ?metric", "schema:propertyID ?metric")
    rows = index.query(by_iri).records()
    got = Counter((r["name"], r["side"], as_fact(r["value"])) for r in rows)
    assert got and got == _at_round("http://www.w3.org/ns/mex-performance#RMSE", 2)
