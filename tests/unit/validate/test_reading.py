"""The validator's crate reader gives `read_crate`'s triples, fast path or not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import BNode, Graph
from rdflib.compare import isomorphic

from fedcrate.crate.reader import read_crate
from fedcrate.errors import NotACrate
from fedcrate.validate.reading import Terms, read_triples
from tests.unit.validate.support import CORPUS_CRATES, crate_id, written_crates


def _graph(triples: list) -> Graph:
    graph = Graph()
    for triple in triples:
        graph.add(triple)
    return graph


def _same(crate: Path) -> None:
    expected = read_crate(crate)
    got = read_triples(crate, Terms()).triples
    assert len(got) == len(set(got)) == len(expected)
    if any(isinstance(t, BNode) for triple in expected for t in triple):
        assert isomorphic(_graph(got), expected)
    else:
        assert set(got) == set(expected)


@pytest.mark.parametrize("crate", CORPUS_CRATES, ids=crate_id)
def test_corpus_crates_read_as_read_crate_reads_them(crate: Path) -> None:
    _same(crate)


def test_crates_fedcrate_writes(tmp_path: Path) -> None:
    for crate in written_crates(tmp_path):
        _same(crate)


def test_documents_outside_the_fast_path_take_rdflibs_parser(tmp_path: Path) -> None:
    [crate, *_] = written_crates(tmp_path)
    document = json.loads((crate / "ro-crate-metadata.json").read_text())
    variants = {
        "embedded node": {"@id": "#x", "author": {"name": "no id"}},
        "blank node id": {"@id": "_:b0", "name": "blank"},
        "list": {"@id": "#y", "keywords": {"@list": ["a", "b"]}},
        "reverse": {"@id": "#z", "@reverse": {"author": {"@id": "./"}}},
        "typed value": {"@id": "#w", "dateCreated": {"@value": "2026-01-01", "@type": "xsd:date"}},
        "language": {"@id": "#v", "name": {"@value": "nom", "@language": "fr"}},
    }
    for name, node in variants.items():
        folder = tmp_path / name.replace(" ", "-")
        folder.mkdir()
        edited = {**document, "@graph": [*document["@graph"], node]}
        (folder / "ro-crate-metadata.json").write_text(json.dumps(edited))
        _same(folder)


def test_equal_terms_are_one_object(tmp_path: Path) -> None:
    [crate, *_] = written_crates(tmp_path)
    triples = read_triples(crate, Terms()).triples
    by_value: dict[object, int] = {}
    for triple in triples:
        for term in triple:
            by_value.setdefault(term, id(term))
            assert by_value[term] == id(term)


def test_unusable_input(tmp_path: Path) -> None:
    with pytest.raises(NotACrate):
        read_triples(tmp_path / "missing", Terms())
    (tmp_path / "ro-crate-metadata.json").write_text('{"@context": 5, "@graph": [{"@id": 1}]}')
    with pytest.raises(NotACrate):
        read_triples(tmp_path, Terms())
