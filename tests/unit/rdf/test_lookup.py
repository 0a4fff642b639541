"""`GraphLookup` gives the Graph's own answers, in the Graph's order, on every corpus crate.

The views read crates through it (`describe`); its fast path reads a SimpleMemory store's
dictionaries, so each crate is also copied into a SimpleMemory graph (the store the writer
builds) and every question the views can ask is put to both.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.plugins.stores.memory import SimpleMemory

from fedcrate.crate.reader import read_crate
from fedcrate.rdf import lookup
from fedcrate.rdf.lookup import GraphLookup
from fedcrate.rdf.namespaces import SDO
from fedcrate.views.model import describe
from tests.conftest import make_record

CORPUS = Path(__file__).resolve().parents[2] / "data" / "crates"
CRATES = sorted(p.parent for p in CORPUS.rglob("ro-crate-metadata.json"))


def _in_simple_memory(graph: Graph) -> Graph:
    copy = Graph(store=SimpleMemory(), bind_namespaces="none")
    for triple in graph:
        copy.add(triple)
    return copy


def _assert_same_answers(graph: Graph) -> None:
    lookup = GraphLookup(graph)
    subjects = set(graph.subjects())
    predicates = set(graph.predicates())
    objects = set(graph.objects())
    for subject in subjects:
        for predicate in predicates:
            assert lookup.value(subject, predicate) == graph.value(subject, predicate)
            assert list(lookup.objects(subject, predicate)) == list(
                graph.objects(subject, predicate)
            )
    for predicate in predicates:
        assert list(lookup.subject_objects(predicate)) == list(graph.subject_objects(predicate))
        for obj in objects:
            assert list(lookup.subjects(predicate, obj)) == list(graph.subjects(predicate, obj))
    for triple in list(graph)[:500]:
        assert triple in lookup
    absent = (URIRef("urn:absent"), RDF.type, Literal("nothing"))
    assert absent not in lookup
    assert lookup.value(None, SDO.name) is None
    assert list(lookup.subjects(SDO.name, None)) == list(graph.subjects(SDO.name, None))


@pytest.mark.parametrize("crate", CRATES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_lookup_answers_as_the_graph_does(crate: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    graph = read_crate(crate)
    _assert_same_answers(graph)  # the Graph's own store: every call delegated
    fast = _in_simple_memory(graph)
    assert GraphLookup(fast)._spo is not None  # the fast path is the one exercised
    _assert_same_answers(fast)
    views = describe(fast)
    # The same store read through the Graph's own methods: the same views (compared on
    # one store, since a crate stating two values for one round keeps the store's last).
    monkeypatch.setattr(lookup, "_memory_indices", lambda graph: None)
    assert GraphLookup(fast)._spo is None
    assert describe(fast) == views


def test_lookup_reads_the_writers_store_directly() -> None:
    from fedcrate.rdf.graph import build_graph

    graph = build_graph(make_record(), completed=True)
    assert GraphLookup(graph)._spo is not None
    _assert_same_answers(graph)
