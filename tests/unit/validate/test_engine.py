"""The fast path gives exactly pyshacl's findings: every corpus crate, every profile.

The reference is plain `pyshacl.validate(read_crate(crate), shacl_graph=shapes_graph(p),
ont_graph=vocabulary(), inference="rdfs", advanced=True)` (and `inference="none"` without an
ontology), its results graph turned into findings. The fast path reads the crate with its
own reader, computes the closure itself, runs the compiled shapes and SPARQL in Oxigraph;
a finding that differs in level, shape, focus, path, value or message fails the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph

from fedcrate.validate import Level, validate
from fedcrate.validate.engine import Evaluator, Fallback, Unsupported, compile_shapes
from fedcrate.validate.reading import read_triples
from fedcrate.validate.shacl import _base, evaluate, prepared, shapes_graph
from tests.unit.validate.support import (
    CORPUS_CRATES,
    TOKENS,
    crate_id,
    normalised,
    parse_each_query_once,  # noqa: F401 (a fixture)
    pyshacl_findings,
    written_crates,
)


def _fast(crate: Path, token: str, *, inference: bool = True) -> tuple[list, str]:
    return evaluate(read_triples(crate, _base(inference).terms.copy()), token, inference=inference)


@pytest.mark.parametrize("token", TOKENS)
def test_the_shipped_shapes_compile_without_falling_back_to_pyshacl(token: str) -> None:
    ready = prepared(token)
    assert ready.compiled is not None, ready.unsupported
    for query in ready.compiled.queries:
        assert query.analysis is not None, f"Oxigraph cannot vouch for:\n{query.text}"


# fedcrate-0.1 applies every shipped shape (its own and the FL profile's): one run per crate
# compares them all; the FL profile alone is compared on the valid crates.
WIDEST = max(TOKENS, key=lambda t: len(prepared(t).rules_checked))
VALID = [c for c in CORPUS_CRATES if "valid" in c.parts]


@pytest.mark.usefixtures("parse_each_query_once")
@pytest.mark.parametrize("crate", CORPUS_CRATES, ids=crate_id)
def test_every_corpus_crate_gets_pyshacls_findings(crate: Path) -> None:
    fast, engine = _fast(crate, WIDEST)
    assert engine == "compiled"
    assert normalised(fast) == normalised(pyshacl_findings(crate, WIDEST))


@pytest.mark.usefixtures("parse_each_query_once")
@pytest.mark.parametrize("crate", VALID, ids=crate_id)
def test_each_profile_alone_and_without_inference_too(crate: Path) -> None:
    for token in TOKENS:
        for inference in (True, False):
            fast, _ = _fast(crate, token, inference=inference)
            reference = pyshacl_findings(crate, token, inference=inference)
            assert normalised(fast) == normalised(reference), (token, inference)


@pytest.mark.usefixtures("parse_each_query_once")
def test_crates_fedcrate_writes_get_pyshacls_findings(tmp_path: Path) -> None:
    for number, crate in enumerate(written_crates(tmp_path)):
        runs = [(WIDEST, True)] + ([(t, False) for t in TOKENS] if number < 2 else [])
        for token, inference in runs:
            fast, engine = _fast(crate, token, inference=inference)
            reference = pyshacl_findings(crate, token, inference=inference)
            assert engine == "compiled"
            assert normalised(fast) == normalised(reference), (crate.name, token, inference)


def test_sparql_runs_in_oxigraph_for_fedcrate_crates(tmp_path: Path) -> None:
    [crate, *_] = written_crates(tmp_path)
    for token in TOKENS:
        triples = read_triples(crate, _base(True).terms.copy()).triples
        evaluator = Evaluator(prepared(token).compiled, _base(True).closed.close(triples))  # type: ignore[arg-type]
        evaluator.run()
        assert evaluator.sparql.answered_by["rdflib"] == 0, evaluator.sparql.answered_by


def test_a_fallback_in_the_data_runs_pyshacl_and_gives_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [crate, *_] = written_crates(tmp_path)
    expected = normalised(validate(crate, level=Level.MAY).findings)

    def refuse(self: Evaluator) -> list:  # an injected fault: the engine gives up
        raise Fallback("injected")

    monkeypatch.setattr(Evaluator, "run", refuse)
    report = validate(crate, level=Level.MAY)
    assert report.engine == "pyshacl"
    assert normalised(report.findings) == expected


def test_shapes_the_compiler_does_not_cover_are_left_to_pyshacl() -> None:
    extra = Graph()
    extra.parse(
        data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix ex: <https://example.org/> .
        ex:Closed a sh:NodeShape ; sh:targetClass ex:Thing ; sh:closed true ;
            sh:message "closed" .
        """,
        format="turtle",
    )
    with pytest.raises(Unsupported, match="Closed"):
        compile_shapes(shapes_graph(TOKENS[0]) + extra)
    no_message = Graph()
    no_message.parse(
        data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix ex: <https://example.org/> .
        ex:Quiet a sh:NodeShape ; sh:targetClass ex:Thing ;
            sh:property [ sh:path ex:p ; sh:minCount 1 ] .
        """,
        format="turtle",
    )
    with pytest.raises(Unsupported, match="sh:message"):
        compile_shapes(no_message)
