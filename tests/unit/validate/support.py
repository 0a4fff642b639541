"""What the validation tests share: the corpus, crates written for them, pyshacl's answer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from rdflib import Graph

from fedcrate import write_crate
from fedcrate.assets import vocabulary
from fedcrate.crate.reader import read_crate
from fedcrate.record import Metric, RunRecord, RunStatus, StrategyFacts
from fedcrate.validate import Finding, shipped_profiles
from fedcrate.validate.shacl import _crate_base, findings_from_report, prepared, shapes_graph
from tests.conftest import make_record
from tests.support.paths import DATA

CORPUS = DATA / "crates"
CORPUS_CRATES = sorted(p.parent for p in CORPUS.rglob("ro-crate-metadata.json"))
TOKENS = sorted(shipped_profiles())


def crate_id(path: Path) -> str:
    return str(path.relative_to(CORPUS)) if path.is_relative_to(CORPUS) else path.name


def written_crates(folder: Path) -> list[Path]:
    """Crates `write_crate` writes from `make_record` variants: what fedcrate produces."""
    source = folder / "my_strategy.py"
    source.write_text("class MyAvg:\n    pass\n")
    base = make_record(rounds=3)
    rmse = Metric("rmse", "http://mex.aksw.org/mex-perf#rootMeanSquaredError", unit="KGM")
    records: dict[str, RunRecord] = {
        "three-rounds": base,
        "thirty-rounds": make_record(rounds=30, metrics=("loss", "accuracy", "f1", "auc", "mse")),
        "failed": replace(base, status=RunStatus.FAILED, error="RuntimeError: x"),
        "custom-strategy": replace(base, strategy=StrategyFacts("MyAvg", "m", source_file=source)),
        "with-units": replace(
            base, observations=[replace(o, metric=rmse) for o in base.observations]
        ),
        "no-rounds": replace(base, observations=[]),
    }
    return [
        write_crate(record, folder / name, preview=False).path for name, record in records.items()
    ]


def normalised(findings: list[Finding]) -> list[tuple[str, ...]]:
    """Findings as sortable tuples; blank node labels (arbitrary per parse) made equal."""

    def blank(text: str | None) -> str:
        return re.sub(r"_:\S+", "_:", text or "")

    return sorted(
        (
            f.level.value,
            blank(f.shape),
            f.name,
            blank(f.focus),
            blank(f.path),
            f.message,
            blank(f.value),
        )
        for f in findings
    )


def pyshacl_findings(crate: Path, token: str, *, inference: bool = True) -> list[Finding]:
    """Plain pyshacl on `read_crate(crate)`: the reference the fast path must equal."""
    from pyshacl import validate

    graph = read_crate(crate)
    data = Graph()
    data += graph
    _, results, _ = validate(
        data,
        shacl_graph=shapes_graph(token),
        ont_graph=vocabulary() if inference else None,
        inference="rdfs" if inference else "none",
        advanced=True,
    )
    base, _ = _crate_base(list(graph))
    return findings_from_report(results, prepared(token).names, base)


@cache
def _prepared_query(text: str, base: str | None, names: tuple[tuple[str, Any], ...]) -> Any:
    from rdflib.plugins.sparql import processor

    return processor.translateQuery(processor.parseQuery(text), base, dict(names))


@pytest.fixture
def parse_each_query_once(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """rdflib parses a SPARQL text every time pyshacl runs it (~30 ms, ~50 queries per
    validation); parse each once, as rdflib's own prepared queries do. Evaluation is
    untouched: the reference stays rdflib's SPARQL engine under pyshacl."""
    from rdflib.plugins.sparql import processor

    original = processor.SPARQLProcessor.query

    def query(
        self: Any,
        query: Any,
        initBindings: Any = None,
        initNs: Any = None,
        base: Any = None,
        DEBUG: bool = False,
    ) -> Any:
        if isinstance(query, str):
            query = _prepared_query(query, base, tuple(sorted((initNs or {}).items())))
        return original(self, query, initBindings, initNs, base, DEBUG)

    monkeypatch.setattr(processor.SPARQLProcessor, "query", query)
    yield
