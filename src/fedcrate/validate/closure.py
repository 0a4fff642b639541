"""The RDFS closure pyshacl computes before validating, computed without owlrl's cost.

`pyshacl.validate(..., inference="rdfs")` expands the data graph with owlrl's RDFS rules
(pyshacl's `CustomRDFSSemantics`: no axiomatic triples, no datatype axioms, no literal
"same as" rule) before any shape sees it. owlrl applies every rule to every triple, cycle
after cycle, until a cycle adds nothing: ~2.5 s for a 100-round crate, most of it spent
re-deriving what is already there. The result is the least set closed under those rules,
so a semi-naive evaluation (each new triple joined once with what is known) reaches the
same set: this module does that, and `tests/unit/validate/test_closure.py` checks it is
the same set as owlrl's, triple for triple, on every corpus crate.

The rules (RDF Semantics 2004 names, as owlrl implements them):

- rdf1: `p rdf:type rdf:Property` for every predicate;
- rdfs4a/4b: `x rdf:type rdfs:Resource` for every subject and object, literals too, but only
  of the triples the graph starts with (owlrl applies them in its first cycle only);
- rdfs2/3: domains and ranges; rdfs5/7: `subPropertyOf` transitivity and inheritance;
  rdfs6, 8, 10, 12, 13: the reflexive and class axioms of typed resources; rdfs9/11:
  `subClassOf` inheritance and transitivity;
- a triple whose predicate would be a literal is never added (owlrl drops it too).
"""

from __future__ import annotations

from collections.abc import Iterable

from rdflib import RDF, RDFS, Literal, URIRef
from rdflib.term import Node

__all__ = ["Triple", "rdfs_closure"]

Triple = tuple[Node, Node, Node]

_TYPE = RDF.type
_PROPERTY = RDF.Property
_RESOURCE = RDFS.Resource
_CLASS = RDFS.Class
_DOMAIN = RDFS.domain
_RANGE = RDFS.range
_SUB_PROPERTY = RDFS.subPropertyOf
_SUB_CLASS = RDFS.subClassOf
_CONTAINER_MEMBERSHIP = RDFS.ContainerMembershipProperty
_MEMBER = RDFS.member
_DATATYPE = RDFS.Datatype
_LITERAL = RDFS.Literal


class _Closure:
    """The closed set and the indexes the rules join on; `add` runs the rules to fixpoint.

    Hot path: most triples of a crate have a predicate with no domain, range or super
    property and are not typings; they cost one set insertion and a few dict misses.
    Indexes of data triples are lists (each triple is indexed once, when it is new), so
    nothing hashes a literal twice.
    """

    def __init__(self) -> None:
        self.triples: set[Triple] = set()
        self.predicates: set[Node] = set()
        self.by_predicate: dict[Node, list[tuple[Node, Node]]] = {}
        self.instances: dict[Node, list[Node]] = {}
        self.domains: dict[Node, set[Node]] = {}
        self.ranges: dict[Node, set[Node]] = {}
        self.super_properties: dict[Node, set[Node]] = {}
        self.sub_properties: dict[Node, set[Node]] = {}
        self.super_classes: dict[Node, set[Node]] = {}
        self.sub_classes: dict[Node, set[Node]] = {}

    def copy(self) -> _Closure:
        twin = _Closure()
        twin.triples = set(self.triples)
        twin.predicates = set(self.predicates)
        twin.by_predicate = {k: list(v) for k, v in self.by_predicate.items()}
        twin.instances = {k: list(v) for k, v in self.instances.items()}
        for name in (
            "domains",
            "ranges",
            "super_properties",
            "sub_properties",
            "super_classes",
            "sub_classes",
        ):
            theirs: dict[Node, set[Node]] = getattr(twin, name)
            theirs.update((k, set(v)) for k, v in getattr(self, name).items())
        return twin

    def add_inert(self, start: list[Triple]) -> list[Triple]:
        """Add the triples no rule can join on (their predicate has no domain, range or
        super property, and is not a schema or typing predicate) without running rules on
        them one by one; return the others, for `add`.

        Such a triple's only consequences are rdf1 for its predicate and rdfs4 for its
        nodes (which the caller adds), and no later triple joins with it unless it is a
        schema triple about its predicate, which only `add` makes (so `close` uses this
        only when the added triples hold no schema triple at all).
        """
        triples = self.triples
        rest: list[Triple] = []
        active = (self.domains, self.ranges, self.super_properties, _SPECIAL)
        grouped: dict[Node, list[tuple[Node, Node]]] = {}
        for triple in start:
            p = triple[1]
            if any(p in table for table in active) or (
                type(p) is not URIRef and isinstance(p, Literal)
            ):
                rest.append(triple)
                continue
            size = len(triples)
            triples.add(triple)
            if len(triples) != size:
                pairs = grouped.get(p)
                if pairs is None:
                    pairs = grouped[p] = []
                pairs.append((triple[0], triple[2]))
        for p, pairs in grouped.items():
            self.by_predicate.setdefault(p, []).extend(pairs)
            if p not in self.predicates:
                rest.append((p, _TYPE, _PROPERTY))  # rdf1, through the rules
        return rest

    def add(self, start: Iterable[Triple]) -> None:
        triples = self.triples
        # (isinstance on rdflib terms goes through abc: skip it for the usual IRI predicate)
        pending = [t for t in start if type(t[1]) is URIRef or not isinstance(t[1], Literal)]
        while pending:
            triple = pending.pop()
            size = len(triples)
            triples.add(triple)
            if len(triples) == size:
                continue
            pending.extend(self._consequences(triple))

    def _consequences(self, triple: Triple) -> list[Triple]:
        """Index `triple`; what the rules derive from it joined with every triple known."""
        s, p, o = triple
        out: list[Triple] = []
        if p not in self.predicates:
            self.predicates.add(p)
            out.append((p, _TYPE, _PROPERTY))  # rdf1
        # `triple` as the data side of a schema triple already known.
        if p in self.domains:
            out.extend((s, _TYPE, c) for c in self.domains[p])  # rdfs2
        if p in self.ranges:
            out.extend((o, _TYPE, c) for c in self.ranges[p])  # rdfs3
        if p in self.super_properties:
            # rdfs7; a literal super property would make a literal predicate: never added
            out.extend((s, q, o) for q in self.super_properties[p] if not isinstance(q, Literal))
        self.by_predicate.setdefault(p, []).append((s, o))
        kind = _SPECIAL.get(p)
        if kind is None:
            return out
        if kind == "type":
            self.instances.setdefault(o, []).append(s)
            if o in self.super_classes:
                out.extend((s, _TYPE, c) for c in self.super_classes[o])  # rdfs9
            axiom = _TYPED.get(o)
            if axiom == "property":
                out.append((s, _SUB_PROPERTY, s))  # rdfs6
            elif axiom == "class":
                out.append((s, _SUB_CLASS, _RESOURCE))  # rdfs8
                out.append((s, _SUB_CLASS, s))  # rdfs10
            elif axiom == "membership":
                out.append((s, _SUB_PROPERTY, _MEMBER))  # rdfs12
            elif axiom == "datatype":
                out.append((s, _SUB_CLASS, _LITERAL))  # rdfs13
        # `triple` as the schema side, joined with the data already known.
        elif kind == "domain":
            self.domains.setdefault(s, set()).add(o)
            out.extend((u, _TYPE, o) for u, _ in self.by_predicate.get(s, ()))  # rdfs2
        elif kind == "range":
            self.ranges.setdefault(s, set()).add(o)
            out.extend((v, _TYPE, o) for _, v in self.by_predicate.get(s, ()))  # rdfs3
        elif kind == "subPropertyOf":
            self.super_properties.setdefault(s, set()).add(o)
            self.sub_properties.setdefault(o, set()).add(s)
            out.extend((s, _SUB_PROPERTY, x) for x in self.super_properties.get(o, ()))  # rdfs5
            out.extend((z, _SUB_PROPERTY, o) for z in self.sub_properties.get(s, ()))  # rdfs5
            if not isinstance(o, Literal):
                out.extend((z, o, w) for z, w in self.by_predicate.get(s, ()))  # rdfs7
        elif kind == "subClassOf":
            self.super_classes.setdefault(s, set()).add(o)
            self.sub_classes.setdefault(o, set()).add(s)
            out.extend((v, _TYPE, o) for v in self.instances.get(s, ()))  # rdfs9
            out.extend((s, _SUB_CLASS, x) for x in self.super_classes.get(o, ()))  # rdfs11
            out.extend((z, _SUB_CLASS, o) for z in self.sub_classes.get(s, ()))  # rdfs11
        return out


# Dispatch by dict: a miss costs one C-level hash, where `==` on rdflib terms is Python code.
_SPECIAL: dict[Node, str] = {
    _TYPE: "type",
    _DOMAIN: "domain",
    _RANGE: "range",
    _SUB_PROPERTY: "subPropertyOf",
    _SUB_CLASS: "subClassOf",
}
# Predicates whose triples make new joins possible (rdf:type only through its objects).
_SCHEMA = frozenset({_DOMAIN, _RANGE, _SUB_PROPERTY, _SUB_CLASS})
_TYPED: dict[Node, str] = {
    _PROPERTY: "property",
    _CLASS: "class",
    _CONTAINER_MEMBERSHIP: "membership",
    _DATATYPE: "datatype",
}


def _resources(triples: Iterable[Triple]) -> list[Triple]:
    """rdfs4a/4b: every subject and object of the starting triples is an rdfs:Resource."""
    nodes: set[Node] = set()
    for s, _, o in triples:
        nodes.add(s)
        nodes.add(o)
    return [(node, _TYPE, _RESOURCE) for node in nodes]


class ClosedBase:
    """A graph closed once (the vocabulary), to which many crates are added in turn.

    The closure of `base ∪ crate` is the closure of the closed base plus the crate's
    triples and their rdfs4 triples: the rules are monotone, and rdfs4 applies to the
    starting triples of both parts alike.
    """

    def __init__(self, base: Iterable[Triple]) -> None:
        start = list(base)
        self.base = frozenset(start)
        self._closure = _Closure()
        self._closure.add([*start, *_resources(start)])

    @property
    def triples(self) -> frozenset[Triple]:
        return frozenset(self._closure.triples)

    def close(self, triples: Iterable[Triple]) -> set[Triple]:
        """The closure of the base and `triples` (a new set; the base is not changed)."""
        start = list(triples)
        closure = self._closure.copy()
        if any(p in _SCHEMA for _, p, _ in start):
            closure.add([*start, *_resources(start)])
        else:
            rest = closure.add_inert(start)
            closure.add([*rest, *_resources(start)])
        return closure.triples


def rdfs_closure(triples: Iterable[Triple]) -> set[Triple]:
    """The RDFS closure owlrl (as pyshacl runs it) computes for `triples`, as a new set."""
    return ClosedBase(triples).close(())
