"""The RO-Crate Website: `ro-crate-preview.html`, a human view of the crate's graph.

One self-contained HTML 5 page (inline CSS, inline SVG charts, no script, no network):
what `fedcrate show` prints, plus a line chart per metric with one line per side. The
page shell and its CSS are data files (`data/preview.html`, `data/preview.css`); every
text that comes from the graph is HTML-escaped here.

RO-Crate 1.2 makes the preview optional and says it is not part of the payload: it is not
listed in the root's `hasPart`, and the graph does not describe it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from html import escape
from string import Template

from rdflib import RDF, Graph, URIRef

from fedcrate.assets import data_text
from fedcrate.rdf.namespaces import SDO
from fedcrate.record.run import Side, side_label
from fedcrate.record.vocabularies import shorten_iri
from fedcrate.views.model import (
    MetricSeries,
    PersonView,
    RunView,
    Setting,
    describe,
    format_duration,
    format_value,
)

__all__ = ["PREVIEW_FILE", "render_preview"]

PREVIEW_FILE = "ro-crate-preview.html"
_KNOWN_SIDES = frozenset(side.value for side in Side)
# Chart geometry (SVG user units; the SVG scales to its box).
_W, _H = 460, 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 14, 12, 34


@lru_cache(maxsize=1)
def _template() -> Template:
    return Template(data_text("preview.html"))


@lru_cache(maxsize=1)
def _style() -> str:
    return data_text("preview.css").strip()


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _link(iri: str | None, text: str | None = None) -> str:
    """An <a> for web IRIs; other IRIs (CURIE-like names, urn:) as plain escaped text."""
    label = _e(text if text is not None else iri or "")
    if iri and iri.startswith(("http://", "https://")):
        return f'<a href="{_e(iri)}">{label}</a>'
    return label


def _facts(rows: Sequence[tuple[str, str | None]]) -> str:
    """A <dl>; values are already HTML (callers escape)."""
    items = "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in rows if v)
    return f'<dl class="facts">{items}</dl>' if items else ""


def _person(person: PersonView) -> str:
    name = _e(person.name or person.orcid or "?")
    if person.orcid:
        return f'{name} (<a href="{_e(person.orcid)}">{_e(person.orcid)}</a>)'
    return name


def _side_class(side: str) -> str:
    return f"side-{side}" if side in _KNOWN_SIDES else "side-other"


def _setting_value(setting: Setting) -> str:
    if setting.redacted:
        return '<span class="redacted">redacted</span>'
    return f'<span class="mono">{_e(format_value(setting.value))}</span>'


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int]) -> str:
    """Rows are HTML already; columns in `numeric` are right-aligned."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# -- charts ------------------------------------------------------------------------------


# Values charted: finite and at most this large in magnitude, so that the y range, its
# ticks and the scaling arithmetic stay finite (two values of ±1.8e308 have a span of inf).
# Anything else (NaN and ±inf are "not computed" and never reach here as numbers; an
# integer like 10**400 cannot even become a float) is left out of the drawing with a note;
# the values table below the chart still states it.
_CHART_LIMIT = 1e300


def _chartable(value: object) -> float | None:
    """`value` as a float the chart can place, None when it is out of the chart's range."""
    if type(value) is float:  # the usual case; NaN fails both comparisons
        return value if -_CHART_LIMIT <= value <= _CHART_LIMIT else None
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):  # OverflowError: int beyond float range
        return None
    return number if math.isfinite(number) and abs(number) <= _CHART_LIMIT else None


def _value_text(value: object) -> str:
    """A value as the page states it (escaped); a number too big to print, in words.

    A float is `format_value`'s text, made here without its generator (a chart has a
    value per round and side); `tests/unit/views/test_preview_extremes.py` holds the two
    equal.
    """
    if type(value) is float:
        text = f"{value:.4g}"
        if "." in text or "e" in text or "n" in text or "i" in text:
            return text
        return text + ".0"
    try:
        text = format_value(value)  # type: ignore[arg-type]
    except (ValueError, OverflowError):  # an int beyond Python's 4,300-digit str limit
        return "(too large to print)"
    return text if type(value) is int else _e(text)  # digits need no escaping


def _nice_range(low: float, high: float) -> tuple[float, float, float]:
    """(low, high, step) widened to round numbers: steps of 1, 2, 2.5 or 5 × 10^k."""
    raw = (high - low) / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def _y_range(values: Sequence[float]) -> tuple[float, float, float]:
    """The chart's (low, high, step) for values within ±`_CHART_LIMIT`."""
    low, high = min(values), max(values)
    if (high - low) / 4 <= 0:  # a flat line (or a span that underflows) needs a range
        pad = abs(low) * 0.1 or 0.5
        low, high = low - pad, high + pad
    return _nice_range(low, high)


def _ticks(low: float, high: float, step: float) -> list[float]:
    count = round((high - low) / step)
    return [low + i * step for i in range(count + 1)]


def _round_ticks(first: int, last: int) -> list[int]:
    span = last - first
    if span <= 12:
        return list(range(first, last + 1))
    step = math.ceil(span / 10)
    return list(range(first, last + 1, step))


def _chart(metric: str, series: Sequence[MetricSeries]) -> str:
    """An inline SVG line chart of one metric: x = round, y = value, one polyline per side.

    Every value (and round position) is formatted once: a 1,000-round crate has 30,000
    points, each in a circle, its tooltip and the values table.
    """
    charted = [[_chartable(v) for v in s.values] for s in series]
    values = [v for line in charted for v in line if v is not None]
    rounds = [r for s in series for r in s.rounds]
    if not values or not rounds:
        return ""
    outside = sum(
        1
        for s, line in zip(series, charted, strict=True)
        for v, c in zip(s.values, line, strict=True)
        if c is None and v is not None
    )
    low, high, step = _y_range(values)
    first, last = min(rounds), max(rounds)
    width, height = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM

    def x(round_: int) -> float:
        return _LEFT + (0.5 if last == first else (round_ - first) / (last - first)) * width

    def y(value: float) -> float:
        return _TOP + (1 - (value - low) / (high - low)) * height

    parts = [
        f'<svg class="chart" viewBox="0 0 {_W} {_H}" role="img" '
        f'aria-label="{_e(metric)} per round" xmlns="http://www.w3.org/2000/svg">'
    ]
    for tick in _ticks(low, high, step):
        ty = y(tick)
        parts.append(
            f'<line class="grid" x1="{_LEFT}" y1="{ty:.1f}" x2="{_W - _RIGHT}" y2="{ty:.1f}"/>'
            f'<text x="{_LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end">{_e(f"{tick:.4g}")}</text>'
        )
    base = _H - _BOTTOM
    parts.append(f'<line class="axis" x1="{_LEFT}" y1="{base}" x2="{_W - _RIGHT}" y2="{base}"/>')
    parts.append(f'<line class="axis" x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{base}"/>')
    for tick in _round_ticks(first, last):
        tx = x(tick)
        parts.append(
            f'<line class="axis" x1="{tx:.1f}" y1="{base}" x2="{tx:.1f}" y2="{base + 4}"/>'
            f'<text x="{tx:.1f}" y="{base + 16}" text-anchor="middle">{tick}</text>'
        )
    parts.append(
        f'<text x="{_LEFT + width / 2:.1f}" y="{_H - 4}" text-anchor="middle">round</text>'
    )
    xs = {r: f"{x(r):.1f}" for r in set(rounds)}
    texts: list[dict[int, str]] = []  # per series: round → the value as the page states it
    for line, line_charted in zip(series, charted, strict=True):
        css = _side_class(line.side)
        label = _e(side_label(line.side))
        stated = {r: _value_text(v) for r, v in zip(line.rounds, line.values, strict=True)}
        texts.append(stated)
        points = [
            (r, xs[r], f"{_TOP + (1 - (c - low) / (high - low)) * height:.1f}")
            for r, c in zip(line.rounds, line_charted, strict=True)
            if c is not None
        ]
        coords = " ".join(f"{px},{py}" for _, px, py in points)
        parts.append(
            f'<polyline class="series {css}" data-side="{_e(line.side)}" points="{coords}"/>'
        )
        parts.extend(
            f'<circle class="{css}" cx="{px}" cy="{py}" r="3">'
            f"<title>{label}, round {r}: {stated[r]}</title></circle>"
            for r, px, py in points
        )
    parts.append("</svg>")
    legend = "".join(
        f'<li class="{_side_class(s.side)}">{_e(side_label(s.side))}</li>' for s in series
    )
    rows = sorted({r for s in series for r in s.rounds})
    table_rows = [[str(r), *(stated.get(r, "") for stated in texts)] for r in rows]
    table = _table(["round", *(side_label(s.side) for s in series)], table_rows, set(range(1, 9)))
    iri = series[0].property_id
    iri_html = f'<span class="iri">{_link(iri, shorten_iri(iri))}</span>' if iri != metric else ""
    note = (
        f'<p class="chart-note">{outside} value{"s" if outside != 1 else ""} outside the '
        "chart's range (beyond ±1e300) not drawn; the values table states "
        f"{'them' if outside != 1 else 'it'}.</p>"
        if outside
        else ""
    )
    return (
        f'<figure class="chart" data-metric="{_e(metric)}">'
        f"<figcaption>{_e(metric)}{iri_html}</figcaption>{''.join(parts)}"
        f'<ul class="legend">{legend}</ul>{note}'
        f"<details><summary>values</summary>{table}</details></figure>"
    )


def _charts(history: Sequence[MetricSeries]) -> str:
    by_metric: dict[str, list[MetricSeries]] = {}
    for series in history:
        by_metric.setdefault(series.metric, []).append(series)
    figures = "".join(_chart(metric, series) for metric, series in by_metric.items())
    return f'<div class="charts">{figures}</div>' if figures else ""


# -- sections ----------------------------------------------------------------------------


def _run(view: RunView) -> str:
    status_class = view.status if view.status in ("Completed", "Failed") else "other"
    out = [
        f'<section class="run" data-run="{_e(view.iri)}">',
        f'<h2>Run <span class="status status-{status_class}" id="status">'
        f"{_e(view.status)}</span></h2>",
    ]
    if view.description:
        out.append(f"<p>{_e(view.description)}</p>")
    if view.error:
        out.append(f'<p class="error">{_e(view.error)}</p>')
    fed = view.federation

    def flag(value: bool | None) -> str | None:
        return None if value is None else ("yes" if value else "no")

    out.append(
        _facts(
            [
                ("started", _e(view.start) if view.start else None),
                ("ended", _e(view.end) if view.end else None),
                (
                    "duration",
                    _e(format_duration(view.duration_s)) if view.duration_s is not None else None,
                ),
                ("agent", ", ".join(_person(p) for p in view.agents) or None),
                ("strategy", _e(view.strategy_class or view.strategy or "") or None),
                ("rounds", f'<span id="rounds">{view.rounds}</span>' if view.rounds else None),
                ("nodes", _e(fed.node_count) if fed.node_count is not None else None),
                ("mode", _e(fed.runtime_mode) if fed.runtime_mode else None),
                ("SuperLink", _e(fed.superlink_address) if fed.superlink_address else None),
                ("TLS", flag(fed.tls_enabled)),
                ("node authentication", flag(fed.node_authentication_enabled)),
                ("Flower run id", _e(fed.run_id) if fed.run_id else None),
                ("federation", _e(fed.federation_id) if fed.federation_id else None),
                (
                    "FAB",
                    _e(" ".join(x for x in (fed.fab_id, fed.fab_version) if x))
                    if fed.fab_id
                    else None,
                ),
                (
                    "FAB hash",
                    f'<span class="mono">{_e(fed.fab_hash)}</span>' if fed.fab_hash else None,
                ),
            ]
        )
    )
    if view.final_metrics:
        out.append('<h3>Final metrics</h3><div id="final-metrics">')
        out.append(
            _table(
                ["side", "metric", "value", "round", "propertyID"],
                [
                    [
                        _e(side_label(m.side)),
                        _e(m.metric),
                        f'<span class="mono">{_e(format_value(m.value))}</span>',
                        "" if m.round is None else str(m.round),
                        _link(m.property_id, shorten_iri(m.property_id)),
                    ]
                    for m in view.final_metrics
                ],
                {2, 3},
            )
        )
        out.append("</div>")
    if view.history:
        out.append("<h3>Per-round metrics</h3>")
        out.append(_charts(view.history))
    if fed.participation:
        out.append("<h3>Participation per round</h3>")
        out.append(
            _table(
                ["round", "side", "nodes sampled", "replies", "failures", "examples aggregated"],
                [
                    [
                        str(p.round),
                        _e(side_label(p.side)),
                        *p.count_cells(),
                    ]
                    for p in fed.participation
                ],
                {0, 2, 3, 4, 5},
            )
        )
    if view.hyperparameters:
        out.append("<h3>Strategy hyperparameters</h3>")
        out.append(
            _table(
                ["name", "value"],
                [[_e(s.name), _setting_value(s)] for s in view.hyperparameters],
                set(),
            )
        )
    if view.config:
        out.append("<h3>Run config</h3>")
        out.append(
            _table(["name", "value"], [[_e(s.name), _setting_value(s)] for s in view.config], set())
        )
    if view.software:
        out.append("<h3>Software</h3>")
        out.append(
            _table(
                ["name", "installed", "declared"],
                [
                    [_link(t.url, t.name), _e(t.version or ""), _e(t.requirement or "")]
                    for t in view.software
                ],
                set(),
            )
        )
    out.append("</section>")
    return "\n".join(out)


def _files(graph: Graph, root: URIRef) -> str:
    """The root's hasPart: local files linked by their relative path, web ones by IRI."""
    rows = []
    for part in sorted(graph.objects(root, SDO.hasPart), key=str):
        iri = str(part)
        local = iri.startswith(str(root))
        target = iri[len(str(root)) :] if local else iri
        name = graph.value(part, SDO.name)
        size = graph.value(part, SDO.contentSize)
        media = graph.value(part, SDO.encodingFormat)
        kind = "Dataset" if (part, RDF.type, SDO.Dataset) in graph else "File"
        link = f'<a href="{_e(target)}">{_e(target)}</a>' if local else _link(iri)
        rows.append(
            [
                link,
                _e(name or ""),
                _e(kind),
                _e(media or ""),
                "" if size is None else _e(size),
            ]
        )
    if not rows:
        return ""
    return "<h3>Contents</h3>" + _table(["path", "name", "type", "format", "bytes"], rows, {4})


def _crate_facts(graph: Graph, root: URIRef) -> str:
    license_iri = graph.value(root, SDO.license)
    license_name = graph.value(license_iri, SDO.name) if license_iri is not None else None
    authors = []
    for author in graph.objects(root, SDO.author):
        text = str(author)
        authors.append(
            _person(
                PersonView(
                    str(graph.value(author, SDO.name) or "") or None,
                    text if "orcid.org/" in text else None,
                )
            )
        )
    profiles = [
        _link(str(p), str(graph.value(p, SDO.name) or p))
        for p in sorted(graph.objects(root, URIRef("http://purl.org/dc/terms/conformsTo")), key=str)
    ]
    identifier = graph.value(root, SDO.identifier)
    published = graph.value(root, SDO.datePublished)
    return _facts(
        [
            ("identifier", f'<span class="mono">{_e(identifier)}</span>' if identifier else None),
            ("published", _e(published) if published else None),
            ("author", ", ".join(authors) or None),
            (
                "license",
                _link(str(license_iri), str(license_name or license_iri)) if license_iri else None,
            ),
            ("conforms to", ", ".join(profiles) or None),
        ]
    )


def _root_of(graph: Graph) -> URIRef | None:
    for descriptor in graph.subjects(SDO.about, None):
        if str(descriptor).endswith("/ro-crate-metadata.json"):
            root = graph.value(descriptor, SDO.about)
            if isinstance(root, URIRef):
                return root
    return None


def render_preview(graph: Graph) -> str:
    """The RO-Crate Website page for a crate's graph (HTML 5, one self-contained file)."""
    from fedcrate import __version__

    views = describe(graph)
    root = _root_of(graph)
    title = (str(graph.value(root, SDO.name) or "") if root is not None else "") or (
        views[0].name if views else "RO-Crate"
    )
    description = graph.value(root, SDO.description) if root is not None else None
    return _template().substitute(
        version=_e(__version__),
        title=_e(title),
        style=_style(),
        crate_description=f"<p>{_e(description)}</p>" if description else "",
        runs="\n".join(_run(v) for v in views),
        crate_facts=_crate_facts(graph, root) if root is not None else "",
        files=_files(graph, root) if root is not None else "",
    )
