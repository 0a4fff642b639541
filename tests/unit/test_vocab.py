"""The FL vocabulary: well-formed OWL, and its alignment gives the PROV view by inference."""

from __future__ import annotations

from collections.abc import Callable

import owlrl
from rdflib import OWL, RDF, RDFS, Graph, URIRef

from fedcrate.assets import vocabulary
from fedcrate.rdf.graph import build_graph
from fedcrate.rdf.namespaces import FL, PROV
from fedcrate.record import RunRecord

PROV_ONLY_QUERY = """
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?run ?agent ?start ?end ?used ?generated ?entity WHERE {
  ?run a prov:Activity ;
       prov:wasAssociatedWith ?agent ;
       prov:startedAtTime ?start ;
       prov:endedAtTime ?end ;
       prov:used ?used ;
       prov:generated ?generated .
  ?agent a prov:Person .
  ?generated a prov:Entity ; prov:wasGeneratedBy ?run .
  ?entity a prov:Entity .
}
"""


def test_every_term_is_declared_with_label_and_comment() -> None:
    vocab = vocabulary()
    used = {t for t in set(vocab.subjects()) | set(vocab.objects()) if str(t).startswith(str(FL))}
    for term in used:
        assert (term, RDFS.label, None) in vocab, term
        assert (term, RDFS.comment, None) in vocab, term
    ontology = URIRef("https://w3id.org/fedcrate/fl")
    assert (ontology, RDF.type, OWL.Ontology) in vocab
    assert (ontology, OWL.versionInfo, None) in vocab


def test_terms_minted_by_the_graph_are_in_the_vocabulary(
    record_factory: Callable[..., RunRecord],
) -> None:
    graph = build_graph(record_factory(rounds=1))
    minted = {t for triple in graph for t in triple if str(t).startswith(str(FL))}
    declared = set(vocabulary().subjects())
    assert minted - declared == set()


def test_schema_org_only_crate_gets_its_prov_view_from_owl_rl(
    record_factory: Callable[..., RunRecord],
) -> None:
    crate = build_graph(record_factory(rounds=1))
    schema_only = Graph()
    for s, p, o in crate:
        if not (str(p).startswith(str(PROV)) or str(o).startswith(str(PROV))):
            schema_only.add((s, p, o))
    assert not list(schema_only.query(PROV_ONLY_QUERY)), "no PROV before inference"
    closure = schema_only + vocabulary()
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(closure)
    rows = list(closure.query(PROV_ONLY_QUERY))
    assert rows
    assert {str(r.agent) for r in rows} == {"https://orcid.org/0000-0002-1825-0097"}
    assert {str(r.start) for r in rows} == {"2026-11-25T10:00:00.123+00:00"}
