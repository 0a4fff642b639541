"""The preview of crates with values a chart cannot place: rendered, never dropped.

An integer metric value beyond float range (10**400 is a valid xsd:integer) made the page
raise OverflowError, and the writer then left the preview out; finite floats near ±1.8e308
overflowed the y range, and a span below the smallest float its tick step. Such values are
now left out of the drawing with a note, and the values tables still state them.
"""

from __future__ import annotations

import logging
import math
import sys
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedcrate.crate import write_crate
from fedcrate.rdf.graph import build_graph
from fedcrate.record import RunRecord, Side
from fedcrate.views import preview
from fedcrate.views.model import MetricSeries, format_value
from fedcrate.views.preview import PREVIEW_FILE, render_preview
from tests.conftest import make_record
from tests.unit.test_properties import examples


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def _tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def _with_values(record: RunRecord, values: dict[tuple[int, Side, str], object]) -> RunRecord:
    observations = [
        replace(o, value=values.get((o.round, o.side, o.metric.name), o.value))  # type: ignore[arg-type]
        for o in record.observations
    ]
    return replace(record, observations=observations)


def _circles(page: str) -> list[dict[str, str | None]]:
    return [attrs for tag, attrs in _tags(page) if tag == "circle"]


def test_a_huge_integer_metric_value_is_rendered_and_the_preview_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    base = make_record(rounds=2)
    # Not the final value (round 1 of 2) and the final one (round 2).
    huge = {(1, Side.SERVER_EVALUATE, "loss"): 10**400, (2, Side.CLIENT_TRAIN, "loss"): -(10**400)}
    record = _with_values(base, huge)
    page = render_preview(build_graph(record))
    # Every other point is still drawn: the two huge ones (beyond float range) are not.
    assert len(_circles(page)) == len(_circles(render_preview(build_graph(base)))) - 2
    assert str(-(10**400)) in page  # the final value, in the final metrics table
    with caplog.at_level(logging.WARNING, logger="fedcrate"):
        written = write_crate(record, tmp_path / "out")
    assert (written.path / PREVIEW_FILE).is_file()
    assert not [r for r in caplog.records if PREVIEW_FILE in r.getMessage()]


@pytest.mark.parametrize(
    "values",
    [
        [1e308, -1e308, 0.5],  # the span overflows to inf
        [1.7976931348623157e308, 1.7976931348623157e308],  # a flat line at the maximum
        [0.0, 5e-324],  # a span whose quarter underflows to 0
        [5e-324, 5e-324],
        [-0.0, 0.0],
    ],
    ids=["span-overflow", "flat-max", "span-underflow", "flat-tiny", "signed-zeros"],
)
def test_extreme_floats_are_charted_or_noted(values: list[float]) -> None:
    record = make_record(rounds=len(values))
    chosen = {(r, Side.CLIENT_TRAIN, "loss"): v for r, v in enumerate(values, start=1)}
    page = render_preview(build_graph(_with_values(record, chosen)))
    outside = sum(1 for v in values if abs(v) > 1e300)
    figure = page[page.index('data-metric="loss"') :]
    figure = figure[: figure.index("</figure>")]
    if outside:
        assert f"{outside} value{'s' if outside != 1 else ''} outside the chart" in figure
    else:
        assert "outside the chart" not in figure
    for v in values:  # every value is in the values table, as format_value states it
        assert format_value(v) in figure
    for attrs in _circles(figure):
        assert math.isfinite(float(attrs["cx"] or "nan"))
        assert math.isfinite(float(attrs["cy"] or "nan"))


def test_a_series_value_no_float_holds_is_not_drawn_but_stated() -> None:
    """What `_chart` does with an integer beyond float range, should a view pass one on."""
    series = [
        MetricSeries("client-train", "loss", "loss", [1, 2, 3], [0.5, 10**400, None]),  # type: ignore[list-item]
        MetricSeries("server-evaluate", "loss", "loss", [1, 2], [0.25, 0.75]),
    ]
    figure = preview._chart("loss", series)
    assert "1 value outside the chart" in figure
    assert len(_circles(figure)) == 3
    assert str(10**400) in figure  # in the values table


def test_a_value_too_long_to_print_is_said_so() -> None:
    limit = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 0
    if not limit:
        pytest.skip("this Python prints integers of any length")
    series = [MetricSeries("client-train", "loss", "loss", [1, 2], [0.5, 10 ** (limit + 1)])]  # type: ignore[list-item]
    figure = preview._chart("loss", series)
    assert "(too large to print)" in figure and "1 value outside the chart" in figure


def test_only_nan_or_out_of_range_values_make_no_chart() -> None:
    series = [MetricSeries("client-train", "loss", "loss", [1, 2], [None, 1e305])]
    assert preview._chart("loss", series) == ""


@settings(max_examples=examples(300))
@given(value=st.floats(allow_nan=True, allow_infinity=True))
def test_a_float_is_stated_as_format_value_states_it(value: float) -> None:
    assert preview._value_text(value) == format_value(value)


@pytest.mark.parametrize("value", [0, -7, 10**30, True, "a < b", None])
def test_other_values_are_stated_escaped(value: object) -> None:
    assert preview._value_text(value) == preview._e(format_value(value))  # type: ignore[arg-type]
