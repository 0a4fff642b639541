"""The PROV-O view of a crate, materialised when it is indexed.

The vocabulary's (vocab/fl.ttl) sub-property, sub-class and inverse axioms, closed once
per process into lookup tables of N-Triples IRIs and applied to each crate's triples, so
a query phrased in PROV-O matches a crate that states only schema.org, with no reasoner
at query time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from rdflib import RDF, RDFS, Graph, URIRef
from rdflib.namespace import OWL

from fedcrate.assets import vocabulary

__all__ = ["Alignment", "Triple", "alignment"]

Triple = tuple[str, str, str]
"""(subject, predicate, object) as N-Triples term text."""
RDF_TYPE = f"<{RDF.type}>"


@dataclass(frozen=True)
class Alignment:
    """The vocabulary's axioms as lookup tables of N-Triples IRIs, transitively closed."""

    super_properties: dict[str, tuple[str, ...]]
    super_classes: dict[str, tuple[str, ...]]
    inverses: dict[str, tuple[str, ...]]

    def entail(self, triples: Iterable[Triple]) -> list[Triple]:
        """The triples the axioms add (not including the given ones; may repeat them)."""
        derived: list[Triple] = []
        sub_props, sub_classes, inverses = (
            self.super_properties,
            self.super_classes,
            self.inverses,
        )
        for s, p, o in triples:
            if p == RDF_TYPE:
                for cls in sub_classes.get(o, ()):
                    derived.append((s, RDF_TYPE, cls))
                continue
            supers = sub_props.get(p)
            if supers:
                for sup in supers:
                    derived.append((s, sup, o))
                    for inv in inverses.get(sup, ()):
                        derived.append((o, inv, s))
            for inv in inverses.get(p, ()):
                derived.append((o, inv, s))
                for sup in sub_props.get(inv, ()):
                    derived.append((o, sup, s))
        return derived


def _closure(pairs: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    direct: dict[str, set[str]] = {}
    for sub, sup in pairs:
        if sub != sup:
            direct.setdefault(sub, set()).add(sup)
    closed: dict[str, tuple[str, ...]] = {}
    for start in direct:
        seen: set[str] = set()
        todo = list(direct[start])
        while todo:
            item = todo.pop()
            if item not in seen and item != start:
                seen.add(item)
                todo.extend(direct.get(item, ()))
        closed[start] = tuple(sorted(seen))
    return closed


def _iri_pairs(graph: Graph, predicate: URIRef) -> list[tuple[str, str]]:
    return [
        (f"<{s}>", f"<{o}>")  # the vocabulary's own IRIs: valid by construction
        for s, o in graph.subject_objects(predicate)
        if isinstance(s, URIRef) and isinstance(o, URIRef)
    ]


@lru_cache(maxsize=1)
def alignment() -> Alignment:
    """The schema.org → PROV-O alignment of vocab/fl.ttl, closed once per process."""
    vocab = vocabulary()
    inverse_pairs = _iri_pairs(vocab, OWL.inverseOf)
    inverses: dict[str, set[str]] = {}
    for a, b in inverse_pairs:
        inverses.setdefault(a, set()).add(b)
        inverses.setdefault(b, set()).add(a)
    return Alignment(
        super_properties=_closure(_iri_pairs(vocab, RDFS.subPropertyOf)),
        super_classes=_closure(_iri_pairs(vocab, RDFS.subClassOf)),
        inverses={k: tuple(sorted(v)) for k, v in inverses.items()},
    )
