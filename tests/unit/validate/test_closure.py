"""The semi-naive RDFS closure is owlrl's, as pyshacl runs it, triple for triple."""

from __future__ import annotations

from pathlib import Path

import owlrl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyshacl.inference import CustomRDFSSemantics
from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.term import Node

from fedcrate.assets import vocabulary
from fedcrate.crate.reader import read_crate
from fedcrate.validate.closure import ClosedBase, rdfs_closure
from fedcrate.validate.shacl import _base, _mixed_in_vocabulary
from tests.unit.validate.support import CORPUS_CRATES, crate_id, written_crates

Triple = tuple[Node, Node, Node]


def _owlrl(triples: list[Triple]) -> set[Triple]:
    graph = Graph()
    for triple in triples:
        graph.add(triple)
    owlrl.DeductiveClosure(CustomRDFSSemantics).expand(graph)
    return set(graph)


@pytest.mark.parametrize("crate", CORPUS_CRATES, ids=crate_id)
def test_a_crate_closed_over_the_mixed_in_vocabulary_is_owlrls_closure(crate: Path) -> None:
    triples = list(read_crate(crate))
    mixed = _mixed_in_vocabulary()
    assert ClosedBase(mixed).close(triples) == _owlrl([*mixed, *triples])


def test_crates_fedcrate_writes_and_the_whole_vocabulary(tmp_path: Path) -> None:
    whole = list(vocabulary())
    for crate in written_crates(tmp_path):
        triples = list(read_crate(crate))
        assert ClosedBase(whole).close(triples) == _owlrl([*whole, *triples]), crate.name
        # the interned base the validator uses gives the same set
        base = _base(True)
        interned = base.terms.copy().triples(triples)
        assert base.closed.close(interned) == _owlrl([*_mixed_in_vocabulary(), *triples])


EX = "https://example.org/"
_NODES = [URIRef(EX + n) for n in ("a", "b", "c", "p", "q", "C", "D")]
_NODES += [Literal("x"), Literal(3)]
_PREDICATES = [
    URIRef(EX + "p"),
    URIRef(EX + "q"),
    RDF.type,
    RDFS.domain,
    RDFS.range,
    RDFS.subPropertyOf,
    RDFS.subClassOf,
]
_OBJECTS = [*_NODES, RDF.Property, RDFS.Class, RDFS.Datatype, RDFS.ContainerMembershipProperty]
_TRIPLES = st.tuples(
    st.sampled_from([n for n in _NODES if not isinstance(n, Literal)] + _PREDICATES),
    st.sampled_from(_PREDICATES),
    st.sampled_from(_OBJECTS + _PREDICATES),
)


@settings(max_examples=150)
@given(st.lists(_TRIPLES, max_size=12), st.lists(_TRIPLES, max_size=12))
def test_schema_triples_anywhere_close_like_owlrl(base: list[Triple], crate: list[Triple]) -> None:
    """Random graphs over the RDFS vocabulary: every rule, in either part, in any order."""
    assert ClosedBase(base).close(crate) == _owlrl([*base, *crate])
    assert rdfs_closure([*base, *crate]) == _owlrl([*base, *crate])
