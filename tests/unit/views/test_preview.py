"""`ro-crate-preview.html`: written beside the metadata, self-contained, escaped, not payload."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rdflib.compare import isomorphic

from fedcrate import read_crate, write_crate
from fedcrate.record import Parameter, RunRecord, RunStatus
from fedcrate.views.preview import PREVIEW_FILE, render_preview

HOSTILE = '<script>alert("x")</script> & <b>bold</b>'
VOID = {"meta", "link", "br", "img", "input", "hr", "circle", "line", "polyline"}


class _Page(HTMLParser):
    """Collects tags, attributes and text; checks that non-void tags are balanced."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.unbalanced: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.open or self.open.pop() != tag:
            self.unbalanced.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


@pytest.fixture
def hostile_record(record_factory: Callable[..., RunRecord]) -> RunRecord:
    record = record_factory(rounds=4)
    return replace(
        record,
        name=HOSTILE,
        config=[*record.config, Parameter("note", HOSTILE), Parameter(HOSTILE, 1)],
    )


def test_the_writer_puts_the_preview_beside_the_metadata(
    tmp_path: Path, record_factory: Callable[..., RunRecord]
) -> None:
    written = write_crate(record_factory(), tmp_path / "out")
    page = written.path / PREVIEW_FILE
    assert page.is_file()
    assert page.read_text(encoding="utf-8") == render_preview(read_crate(written.path))


def test_preview_false_leaves_it_out(
    tmp_path: Path, record_factory: Callable[..., RunRecord]
) -> None:
    written = write_crate(record_factory(), tmp_path / "out", preview=False)
    assert not (written.path / PREVIEW_FILE).exists()
    assert (written.path / "ro-crate-metadata.json").is_file()


def test_the_preview_is_not_payload_and_the_graph_is_unchanged(
    tmp_path: Path, record_factory: Callable[..., RunRecord]
) -> None:
    # RO-Crate 1.2: the website is not part of the payload; it SHOULD NOT be in hasPart.
    written = write_crate(record_factory(), tmp_path / "out")
    document = json.loads((written.path / "ro-crate-metadata.json").read_text())
    assert PREVIEW_FILE not in json.dumps(document)
    assert isomorphic(read_crate(written.path), written.graph)


def test_every_text_from_the_graph_is_escaped(tmp_path: Path, hostile_record: RunRecord) -> None:
    written = write_crate(hostile_record, tmp_path / "out")
    html = (written.path / PREVIEW_FILE).read_text(encoding="utf-8")
    assert "<script" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    page = _parse(html)
    assert page.unbalanced == [] and page.open == []
    text = "".join(page.text)
    assert text.count(HOSTILE) >= 3  # title, run config value, run config name


def test_the_page_is_self_contained(tmp_path: Path, hostile_record: RunRecord) -> None:
    html = render_preview(write_crate(hostile_record, tmp_path / "out").graph)
    page = _parse(html)
    tags = [tag for tag, _ in page.tags]
    assert html.startswith("<!DOCTYPE html>")
    assert "style" in tags and "script" not in tags
    for tag, attrs in page.tags:
        # Only plain links may point elsewhere; nothing is loaded from anywhere.
        assert tag == "a" or not {"src", "srcset"} & attrs.keys(), (tag, attrs)
        assert not (tag == "link" and attrs.get("rel") == "stylesheet")
    assert "@import" not in html and "url(" not in html


def test_one_chart_per_metric_with_one_line_per_side(
    tmp_path: Path, record_factory: Callable[..., RunRecord]
) -> None:
    html = render_preview(write_crate(record_factory(rounds=4), tmp_path / "out").graph)
    page = _parse(html)
    figures = [a["data-metric"] for t, a in page.tags if t == "figure"]
    assert sorted(figures) == ["accuracy", "loss"]
    lines = [a for t, a in page.tags if t == "polyline"]
    assert sorted(a["data-side"] or "" for a in lines) == sorted(
        ["server-evaluate", "client-train", "client-evaluate"] * 2
    )
    server = next(a for a in lines if a["data-side"] == "server-evaluate")
    assert len((server["points"] or "").split()) == 5  # rounds 0..4
    assert sum(1 for t, _ in page.tags if t == "svg") == 2


def test_status_rounds_and_final_metrics_are_on_the_page(
    tmp_path: Path, record_factory: Callable[..., RunRecord]
) -> None:
    html = render_preview(write_crate(record_factory(rounds=4), tmp_path / "out").graph)
    assert 'id="status">Completed<' in html
    assert '<span id="rounds">4</span>' in html
    assert "0.1667" in html  # server-side loss and accuracy after round 4: 1/6
    assert 'href="http://purl.obolibrary.org/obo/STATO_0000415"' in html
    assert 'href="metrics-by-round.csv"' in html


def test_a_failed_run_shows_status_and_error(
    tmp_path: Path, record_factory: Callable[..., RunRecord]
) -> None:
    record = replace(record_factory(), status=RunStatus.FAILED, error="OOM on <node 2>")
    html = render_preview(write_crate(record, tmp_path / "out").graph)
    assert 'id="status">Failed<' in html
    assert "OOM on &lt;node 2&gt;" in html
