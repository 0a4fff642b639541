"""Property tests of the graph builder and the tracker (hypothesis).

For arbitrary run configs, hyperparameters and metrics — unicode names, names that slug or
percent-encode alike (`num_rounds` / `num-rounds`, `a b` / `a%20b`, NFC / NFD), NaN, ±inf,
huge and tiny numbers, bools, empty strings — a crate always serialises, reads back
isomorphic to the graph it was built from, passes the profile's MUST shapes, and keeps one
entity per distinct input (flwrCrate silently dropped one of two colliding keys).

Examples per test scale with the hypothesis profile (tests/conftest.py: "ci" by default).
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flwr.app import ArrayRecord, Context, MetricRecord, RecordDict
from flwr.serverapp.strategy import FedAvg, Result
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib.compare import isomorphic

from fedcrate import FLCrateTracker
from fedcrate.crate import WrittenCrate, read_crate, write_crate
from fedcrate.rdf.graph import build_graph
from fedcrate.record import (
    Metric,
    Parameter,
    RoundObservation,
    RunRecord,
    RunStatus,
    Side,
    StrategyFacts,
)
from fedcrate.record.redaction import REDACTED
from fedcrate.record.run import ParameterValue
from fedcrate.validate import Level, validate
from tests.conftest import make_record


def examples(n: int) -> int:
    """`n` examples under the "ci" profile (100 examples), proportionally more under others."""
    profile = settings.default
    return max(1, n * (profile.max_examples if profile else 100) // 100)


# -- strategies ---------------------------------------------------------------------------

# Any unicode but lone surrogates: they cannot be encoded as UTF-8, so no TOML file, Flower
# run config or JSON document can hold one.
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=10)
SPECIAL_NAMES = st.sampled_from(
    ["", " ", "-", "_", "%", "%25", "a b", "a%20b", "a+b", "#", "?", "/", "./", "..", "é", "ß"]
)


def _variants(name: str) -> list[str]:
    """Names that a slug, a case fold, percent-encoding or unicode normalisation confuse."""
    return [
        name,
        name.replace("_", "-"),
        name.replace("-", "_"),
        name.upper(),
        name.lower(),
        quote(name, safe=""),
        quote(name),
        name.replace(" ", "+"),
        unicodedata.normalize("NFD", name),
        unicodedata.normalize("NFC", name),
    ]


@st.composite
def colliding_names(draw: st.DrawFn, max_names: int = 8) -> list[str]:
    """Distinct names, many of them near-collisions of one another."""
    bases = draw(st.lists(st.one_of(TEXT, SPECIAL_NAMES, st.just("num_rounds")), max_size=4))
    pool = sorted({variant for base in bases for variant in _variants(base)})
    chosen = draw(st.lists(st.sampled_from(pool), unique=True, max_size=max_names)) if pool else []
    return chosen + draw(st.lists(TEXT, max_size=2))


def _distinct(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 5e-324, -0.0, 0.0, 2**63, -(2**63), 2**53 + 1]),
)
PARAMETER_VALUES: st.SearchStrategy[ParameterValue] = st.one_of(
    st.none(), st.booleans(), NUMBERS, TEXT
)
METRIC_VALUES: st.SearchStrategy[float | int] = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),  # MetricRecord: int64
    st.floats(allow_nan=True, allow_infinity=True),
)


@st.composite
def records(draw: st.DrawFn) -> RunRecord:
    """A run with arbitrary config, hyperparameters and complete, gap-free observations."""
    config = [Parameter(n, draw(PARAMETER_VALUES)) for n in _distinct(draw(colliding_names()))]
    hyper = [Parameter(n, draw(PARAMETER_VALUES)) for n in _distinct(draw(colliding_names(4)))]
    rounds = draw(st.integers(min_value=1, max_value=3))
    observations = []
    for side in Side:
        names = _distinct(draw(colliding_names(4)))
        first = 0 if side is Side.SERVER_EVALUATE and draw(st.booleans()) else 1
        for server_round in range(first, rounds + 1):
            for name in names:
                value = draw(METRIC_VALUES)
                observations.append(RoundObservation(server_round, side, Metric(name), value))
    base = make_record(rounds=0)
    return replace(
        base,
        name=draw(TEXT.filter(bool)) if draw(st.booleans()) else base.name,
        config=config,
        strategy=StrategyFacts("FedAvg", "flwr.serverapp.strategy.fedavg", tuple(hyper)),
        observations=observations,
    )


# -- helpers ------------------------------------------------------------------------------


@contextmanager
def _workdir() -> Iterator[Path]:
    # Not tmp_path: hypothesis runs many examples per function-scoped fixture.
    with tempfile.TemporaryDirectory(prefix="fedcrate-prop-") as folder:
        yield Path(folder)


def _entities(written: WrittenCrate, prefix: str) -> set[str]:
    document = json.loads((written.path / "ro-crate-metadata.json").read_text(encoding="utf-8"))
    return {n["@id"] for n in document["@graph"] if str(n.get("@id", "")).startswith(prefix)}


def _assert_round_trip(written: WrittenCrate) -> None:
    read = read_crate(written.path)
    assert isomorphic(read, written.graph)
    assert isomorphic(read, build_graph(written.record))


def _assert_must_valid(written: WrittenCrate) -> None:
    """Every MUST of both profiles holds, except the FL profile's output-model MUST when a
    completed run recorded no model (then exactly that one fails, as the text says)."""
    report = validate(written.path, level="must")
    assert report.profile == "fedcrate-0.1" and report.claimed
    failing = [(f.rule, f.focus, f.message) for f in report.findings if f.level is Level.MUST]
    record = written.record
    if record.model_source is None and record.status is RunStatus.COMPLETED:
        assert [rule for rule, _, _ in failing] == ["ResultOutputModel"], failing
    else:
        assert failing == [] and report.conforms, failing


# -- the graph builder --------------------------------------------------------------------


@settings(max_examples=examples(30))
@given(record=records())
def test_any_record_round_trips_and_keeps_one_entity_per_input(record: RunRecord) -> None:
    with _workdir() as work:
        written = write_crate(record, work, preview=False)
        _assert_round_trip(written)
        assert len(_entities(written, "#param-")) == len(record.config)
        assert record.strategy is not None
        assert len(_entities(written, "#strategy-param-")) == len(record.strategy.hyperparameters)
        assert len(_entities(written, "#round-")) == len(record.observations)
        assert len(_entities(written, "#metric-")) == len(record.final_metrics())


@settings(max_examples=examples(8))
@given(record=records())
def test_any_record_passes_the_must_shapes(record: RunRecord) -> None:
    with _workdir() as work:
        written = write_crate(record, work, preview=True)
        _assert_round_trip(written)
        _assert_must_valid(written)


@pytest.mark.parametrize(
    "names",
    [
        ["num_rounds", "num-rounds", "NUM_ROUNDS", "num rounds", "num%20rounds", "num+rounds"],
        ["é", unicodedata.normalize("NFD", "é"), "%C3%A9", "%c3%a9", "e"],
        ["", " ", "%", "%25", "#", "?", "/", "./"],
    ],
    ids=["slugs", "unicode", "reserved"],
)
def test_near_collisions_stay_distinct(tmp_path: Path, names: list[str]) -> None:
    record = replace(
        make_record(rounds=1, metrics=tuple(names)),
        config=[Parameter(n, i) for i, n in enumerate(names)],
    )
    written = write_crate(record, tmp_path, preview=False)
    _assert_round_trip(written)
    _assert_must_valid(written)
    assert len(_entities(written, "#param-")) == len(names)
    assert len(_entities(written, "#metric-server-evaluate-")) == len(names)


def test_non_finite_and_extreme_values_survive(tmp_path: Path) -> None:
    values: list[ParameterValue] = [
        math.nan, math.inf, -math.inf, 1e308, 5e-324, -0.0, 2**70, -(2**70), True, False, None, ""
    ]  # fmt: skip
    record = replace(
        make_record(rounds=1),
        config=[Parameter(f"p{i}", v) for i, v in enumerate(values)],
    )
    written = write_crate(record, tmp_path, preview=False)
    _assert_round_trip(written)
    _assert_must_valid(written)
    document = json.loads((written.path / "ro-crate-metadata.json").read_text(encoding="utf-8"))
    stated = {n["name"]: n.get("value") for n in document["@graph"] if n["@id"].startswith("#p")}
    assert stated["p0"] == "nan" and stated["p1"] == "inf" and stated["p2"] == "-inf"
    assert stated["p6"] == 2**70 and stated["p8"] is True and stated["p9"] is False


# -- the tracker with real Flower objects -------------------------------------------------

PYPROJECT = '[project]\nname = "prop-app"\ndependencies = ["flwr>=1.42"]\n'
CONFIG_VALUES = st.one_of(st.booleans(), NUMBERS, TEXT)  # Flower's UserConfigValue


def _context(run_config: dict[str, Any]) -> Context:
    return Context(run_id=7, node_id=0, node_config={}, state=RecordDict(), run_config=run_config)


def _run_tracker(
    work: Path,
    run_config: dict[str, Any],
    server: dict[int, MetricRecord],
    train: dict[int, MetricRecord],
) -> FLCrateTracker:
    (work / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    logging.getLogger("fedcrate").setLevel(logging.ERROR)  # unmapped-metric warnings
    with FLCrateTracker(
        _context(run_config),
        FedAvg(fraction_train=0.5),
        output_dir=work / "out",
        pyproject_path=work / "pyproject.toml",
        preview=False,
    ) as tracker:
        evaluate = tracker.wrap_evaluate(lambda rnd, arrays: server.get(rnd))
        for server_round in sorted(server):
            evaluate(server_round, None)
        tracker.record_result(Result(arrays=ArrayRecord(), train_metrics_clientapp=train))
    assert tracker.crate is not None, "the tracker wrote no crate"
    return tracker


@st.composite
def tracked_runs(
    draw: st.DrawFn,
) -> tuple[dict[str, Any], dict[int, MetricRecord], dict[int, MetricRecord]]:
    run_config = {name: draw(CONFIG_VALUES) for name in draw(colliding_names())}
    rounds = draw(st.integers(min_value=1, max_value=3))
    server_names = _distinct(draw(colliding_names(4)))
    train_names = _distinct(draw(colliding_names(4)))
    server = {
        r: MetricRecord({n: draw(METRIC_VALUES) for n in server_names}) for r in range(rounds + 1)
    }
    train = {
        r: MetricRecord({n: draw(METRIC_VALUES) for n in train_names}) for r in range(1, rounds + 1)
    }
    return run_config, (server if server_names else {}), (train if train_names else {})


@settings(max_examples=examples(8))
@given(run=tracked_runs())
def test_tracker_records_every_key_and_metric_of_any_run(
    run: tuple[dict[str, Any], dict[int, MetricRecord], dict[int, MetricRecord]],
) -> None:
    run_config, server, train = run
    with _workdir() as work:
        tracker = _run_tracker(work, run_config, server, train)
        written = tracker.crate
        assert written is not None
        _assert_round_trip(written)
        _assert_must_valid(written)
        assert len(_entities(written, "#param-")) == len(run_config)
        observations = sum(len(m) for m in server.values()) + sum(len(m) for m in train.values())
        assert len(_entities(written, "#round-")) == observations


def test_tracker_keeps_colliding_config_keys_apart(tmp_path: Path) -> None:
    run_config = {"num_rounds": 1, "num-rounds": 2, "LR": 0.1, "lr": 0.2, "a b": 3, "a%20b": 4}
    tracker = _run_tracker(tmp_path, run_config, {0: MetricRecord({"loss": 1.0})}, {})
    assert tracker.crate is not None
    document = json.loads(
        (tracker.crate.path / "ro-crate-metadata.json").read_text(encoding="utf-8")
    )
    stated = {n["name"]: n["value"] for n in document["@graph"] if n["@id"].startswith("#param-")}
    assert stated == run_config


def test_tracker_keeps_the_scalar_config_when_one_value_is_not_scalar(tmp_path: Path) -> None:
    run_config = {"lr": 0.1, "layers": [64, 32], "extra": {"a": 1}, "raw": b"\x00"}
    tracker = _run_tracker(tmp_path, run_config, {0: MetricRecord({"loss": 1.0})}, {})
    assert tracker.crate is not None
    assert "#param-lr" in _entities(tracker.crate, "#param-")


def test_tracker_crate_is_valid_when_a_metric_appears_later(tmp_path: Path) -> None:
    server = {0: MetricRecord({"loss": 1.0}), 1: MetricRecord({"loss": 0.5, "accuracy": 0.9})}
    tracker = _run_tracker(tmp_path, {"lr": 0.1}, server, {})
    assert tracker.crate is not None
    _assert_must_valid(tracker.crate)


def test_tracker_crate_is_valid_when_server_evaluates_every_other_round(tmp_path: Path) -> None:
    server = {0: MetricRecord({"loss": 1.0}), 2: MetricRecord({"loss": 0.5})}
    tracker = _run_tracker(tmp_path, {"lr": 0.1}, server, {})
    assert tracker.crate is not None
    _assert_must_valid(tracker.crate)


def test_redacted_entries_keep_their_own_entity(tmp_path: Path) -> None:
    # Redaction replaces the value, never the name: two secrets stay two entities.
    run_config = {"api-token": "t0k-1", "api_token": "t0k-2", "API-TOKEN": "t0k-3"}
    tracker = _run_tracker(tmp_path, run_config, {0: MetricRecord({"loss": 1.0})}, {})
    assert tracker.crate is not None
    document = json.loads(
        (tracker.crate.path / "ro-crate-metadata.json").read_text(encoding="utf-8")
    )
    stated = {n["name"]: n["value"] for n in document["@graph"] if n["@id"].startswith("#param-")}
    assert stated == dict.fromkeys(run_config, REDACTED)
