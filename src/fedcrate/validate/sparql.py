"""SPARQL targets and constraints: in Oxigraph when that gives rdflib's answer, else rdflib.

pyshacl runs SHACL-SPARQL with rdflib's engine, which spends ~1 s on one aggregate
constraint over a 100-round crate; Oxigraph answers in milliseconds. The two engines see
different data in three ways, and a query goes to Oxigraph only when none of them can
reach it (checked per query and crate; otherwise rdflib answers, exactly as in pyshacl):

1. Literals: Oxigraph stores numbers, booleans and date-times by value and prints them in
   its own canonical form (`25.0` comes back as `25`). rdflib also normalises what it
   parses, so a literal maps back to its rdflib term as long as no two rdflib literals share
   an Oxigraph term (and ill-typed literals are never trusted). Functions that read the
   lexical form (`STR`, `REGEX`, `CONCAT`, casts, …) additionally need every literal the
   query can see to be printed alike by both.
2. Literal subjects: the RDFS closure types literals (`"3"^^xsd:integer a rdfs:Resource`),
   which RDF stores cannot hold. A query sees those triples only through an `rdf:type`
   pattern (or a variable predicate) whose subject is a variable; that is allowed only when
   no literal has the class the pattern asks for.
3. Computed values: a projected number computed by the query (an `AVG`, a sum) may differ
   in its last digit between engines; such answers are recomputed by rdflib.

What a query can see comes from its algebra (rdflib's parser, at compile time, cached
with the prepared shapes): the predicates of its triple patterns and paths, its `rdf:type`
patterns, and whether it uses lexical functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import rdflib
from rdflib import RDF, BNode, Graph, Literal, URIRef, Variable
from rdflib.namespace import XSD
from rdflib.term import Node

__all__ = ["Query", "QueryAnalysis", "QueryEngine", "UnparsableQuery", "analyse"]

_TYPE = RDF.type
# Namespace attributes are Python-level lookups: resolved once for the hot paths.
_XSD_STRING = XSD.string
_XSD_INTEGER = XSD.integer
_XSD_BOOLEAN = XSD.boolean
_XSD_PREFIX = str(XSD)
_LEXICAL = {
    "Builtin_STR",
    "Builtin_STRLEN",
    "Builtin_SUBSTR",
    "Builtin_UCASE",
    "Builtin_LCASE",
    "Builtin_STRSTARTS",
    "Builtin_STRENDS",
    "Builtin_CONTAINS",
    "Builtin_STRBEFORE",
    "Builtin_STRAFTER",
    "Builtin_ENCODE_FOR_URI",
    "Builtin_CONCAT",
    "Builtin_REGEX",
    "Builtin_REPLACE",
    "Builtin_MD5",
    "Builtin_SHA1",
    "Builtin_SHA256",
    "Builtin_SHA384",
    "Builtin_SHA512",
    "Builtin_sameTerm",
    "Builtin_IRI",
    "Builtin_BNODE",
    "Builtin_STRDT",
    "Builtin_STRLANG",
    "Builtin_LANG",
    "Aggregate_GroupConcat",
    "Function",  # casts (xsd:string(?x) prints its argument) and extension functions
}
# Algebra the analysis does not vouch for: a named graph, a federated query.
_UNKNOWN = {"Graph", "GraphGraphPattern", "ServiceGraphPattern", "Service"}


@dataclass(frozen=True)
class TypePattern:
    """A pattern that can match a closure-typed literal: `?x rdf:type C` (or any class)."""

    cls: URIRef | None
    """The class it asks for; None: any (a variable class, a path, a variable predicate)."""
    guards: frozenset[URIRef]
    """Predicates `?x` is the object of wherever the pattern's solutions come from: `?x` is
    a literal only if each of them has literal objects."""


@dataclass(frozen=True)
class ValuePattern:
    """A triple pattern with a named predicate, for what its objects' lexical forms reach."""

    predicate: URIRef
    subject: str
    """`this` (the pre-bound focus), `const` (an IRI of the query) or `var`."""
    guards: frozenset[URIRef] = frozenset()
    """For a variable subject: predicates it is the object of, as for `TypePattern`."""
    constant: Node | None = None


@dataclass(frozen=True)
class QueryAnalysis:
    """What a query can see of a data graph."""

    predicates: frozenset[URIRef] | None
    """Every predicate its patterns and paths can match; None: any (a variable predicate)."""
    lexical: bool
    """It reads lexical forms (STR, REGEX, casts, …)."""
    type_patterns: tuple[TypePattern, ...]
    """Its patterns that a closure-typed literal (`"3"^^xsd:integer a rdfs:Resource`) can match."""
    this_sees_types: bool
    """`$this` is the subject of an `rdf:type` or variable-predicate pattern."""
    value_patterns: tuple[ValuePattern, ...] = ()
    """Its patterns with a named predicate: whose literal objects it can read."""


@dataclass(frozen=True)
class Query:
    """A SELECT query as pyshacl runs it: final text and the variables it pre-binds."""

    text: str
    binds: tuple[str, ...]
    analysis: QueryAnalysis | None
    """None: Oxigraph does not parse it, or the analysis cannot vouch for it: rdflib only."""


class UnparsableQuery(Exception):
    """rdflib does not parse the query on its own (e.g. it uses a prefix it does not declare,
    which pyshacl would take from the data graph's namespace bindings)."""


def analyse(text: str, bound: frozenset[str]) -> QueryAnalysis | None:
    """What `text` can see, from rdflib's algebra; None when that cannot be told.

    Raises:
        UnparsableQuery: rdflib cannot parse `text` with only the prefixes it declares.
    """
    from rdflib.plugins.sparql import prepareQuery

    try:
        algebra = prepareQuery(text, initNs={}).algebra
    except Exception as exc:  # rdflib raises many types for queries it does not parse
        raise UnparsableQuery(str(exc)) from None
    try:
        import pyoxigraph as ox

        ox.Store().query(text, substitutions={ox.Variable(v): ox.NamedNode("urn:x") for v in bound})
    except Exception:  # Oxigraph refuses it (syntax, a pre-bound variable not projected, …)
        return None
    walker = _Walker(bound)
    try:
        walker.visit(algebra)
    except _Unanalysable:
        return None
    return QueryAnalysis(
        predicates=None if walker.any_predicate else frozenset(walker.predicates),
        lexical=walker.lexical,
        type_patterns=tuple(dict.fromkeys(walker.type_patterns)),
        this_sees_types=walker.this_sees_types,
        value_patterns=tuple(dict.fromkeys(walker.value_patterns)),
    )


class _Unanalysable(Exception):
    pass


Guards = dict[Variable, frozenset[URIRef]]


# A guard meaning "is the subject of a named predicate other than rdf:type": no literal is
# (the closure types literals, nothing else gives them properties).
IS_SUBJECT = URIRef("urn:fedcrate:validate:is-subject")


def _guards(triples: list[Any], inherited: Guards) -> Guards:
    """`inherited` plus, for each variable, the named predicates it is the object of in
    `triples` (not rdf:type: closure-typed literals are subjects, never such objects), and
    `IS_SUBJECT` when it is the subject of one."""
    out = dict(inherited)
    for s, p, o in triples:
        if isinstance(p, URIRef) and p != _TYPE:
            if isinstance(o, Variable):
                out[o] = out.get(o, frozenset()) | {p}
            if isinstance(s, Variable):
                out[s] = out.get(s, frozenset()) | {IS_SUBJECT}
    return out


def _block_triples(items: list[Any]) -> list[Any]:
    """A BGP holds triples; an EXISTS pattern (translated at evaluation) holds flat lists of
    subject, predicate, object, subject, …."""
    triples: list[Any] = []
    for item in items:
        if isinstance(item, list) and len(item) % 3 == 0:
            triples.extend(item[i : i + 3] for i in range(0, len(item), 3))
        elif isinstance(item, (list, tuple)) and len(item) == 3:
            triples.append(item)
        else:
            raise _Unanalysable("a triple pattern of unknown shape")
    for s, _, o in triples:
        for term in (s, o):
            if not isinstance(term, (Variable, URIRef, Literal, BNode)):
                raise _Unanalysable(f"a term {term!r}")
    return triples


class _Walker:
    """Walks a query's algebra, scope by scope.

    A variable's guards are the named predicates it is the object of in patterns that
    every solution of its own pattern must also match: the same basic graph pattern, both
    sides of a join, the required side of an OPTIONAL, the group an EXISTS filter tests
    (it is correlated). UNION branches inherit the scope around them; MINUS and
    sub-SELECTs start afresh (their patterns are evaluated on their own).
    """

    def __init__(self, bound: frozenset[str]) -> None:
        self.bound = bound
        self.predicates: set[URIRef] = set()
        self.any_predicate = False
        self.lexical = False
        self.type_patterns: list[TypePattern] = []
        self.value_patterns: list[ValuePattern] = []
        self.this_sees_types = False

    def visit(self, node: Any, scope: Guards | None = None) -> None:
        from rdflib.plugins.sparql.parserutils import CompValue

        scope = {} if scope is None else scope
        if isinstance(node, CompValue):
            name = node.name
            if name in _UNKNOWN:
                raise _Unanalysable(name)
            if name in _LEXICAL:
                self.lexical = True
            if name in ("BGP", "TriplesBlock"):
                triples = _block_triples(node.get("triples") or [])
                inner = _guards(triples, scope)
                for s, p, o in triples:
                    self.triple(s, p, o, inner)
                return
            if name == "Join":
                inner = _guards(self._conjunct(node.p1) + self._conjunct(node.p2), scope)
                self.visit(node.p1, inner)
                self.visit(node.p2, inner)
                return
            if name == "LeftJoin":
                left = _guards(self._conjunct(node.p1), scope)
                right = _guards(self._conjunct(node.p2), left)
                self.visit(node.p1, left)
                self.visit(node.p2, right)
                self.visit(node.get("expr"), right)
                return
            if name == "Minus":
                self.visit(node.p1, scope)
                self.visit(node.p2, {})
                return
            if name == "ToMultiSet":
                self.visit(node.p, {})  # a sub-SELECT: evaluated on its own
                return
            if name == "GroupGraphPatternSub":
                parts = node.get("part") or []
                here: list[Any] = []
                for part in parts:
                    if isinstance(part, CompValue) and part.name == "TriplesBlock":
                        here.extend(_block_triples(part.get("triples") or []))
                inner = _guards(here, scope)
                for part in parts:
                    if isinstance(part, CompValue) and part.name in (
                        "MinusGraphPattern",
                        "SubSelect",
                    ):
                        self.visit(part, {})  # evaluated on its own
                    else:
                        self.visit(part, inner)
                return
            inner = _guards(self._conjunct(node), scope)
            for key, value in node.items():
                if key != "_vars":
                    self.visit(value, inner)
        elif isinstance(node, dict):
            for value in node.values():
                self.visit(value, scope)
        elif isinstance(node, (list, tuple)):
            for value in node:
                self.visit(value, scope)

    def _conjunct(self, node: Any) -> list[Any]:
        """The triples every solution of `node` matches (those it certainly joins on)."""
        from rdflib.plugins.sparql.parserutils import CompValue

        if not isinstance(node, CompValue):
            return []
        name = node.name
        if name == "BGP":
            return _block_triples(node.get("triples") or [])
        if name == "Join":
            return self._conjunct(node.p1) + self._conjunct(node.p2)
        if name in ("LeftJoin", "Minus"):
            return self._conjunct(node.p1)
        if name in ("Filter", "Extend", "Project", "Distinct", "Reduced", "OrderBy", "Slice"):
            return self._conjunct(node.get("p"))
        return []

    def _subject(self, s: Any) -> str:
        if isinstance(s, Variable):
            if str(s) == "this" and "this" in self.bound:
                return "this"
            if str(s) in self.bound:
                return "const"
            return "var"
        if isinstance(s, Literal):
            return "literal"
        return "const"

    def triple(self, s: Any, p: Any, o: Any, scope: Guards) -> None:
        from rdflib.paths import Path

        kind = self._subject(s)
        guards = scope.get(s, frozenset()) if kind == "var" else frozenset()
        if isinstance(p, Variable):
            self.any_predicate = True
            self._sees_types(kind, None, guards)
        elif isinstance(p, URIRef):
            self.predicates.add(p)
            if kind == "const" and not isinstance(s, Variable):
                self.value_patterns.append(ValuePattern(p, "const", constant=s))
            elif kind == "this":
                self.value_patterns.append(ValuePattern(p, "this"))
            else:  # a variable (or a pre-bound one other than $this, taken as unknown)
                self.value_patterns.append(ValuePattern(p, "var", guards))
            if p == _TYPE:
                self._sees_types(kind, o if isinstance(o, URIRef) else None, guards)
        elif isinstance(p, Path):
            iris, negated = _path_iris(p)
            if negated:
                self.any_predicate = True
            self.predicates |= iris
            # Along a path, each step's subject is a node the path reached: no guards.
            self.value_patterns.extend(ValuePattern(iri, "var") for iri in iris)
            if negated or _TYPE in iris:
                self._sees_types(kind, None, frozenset())
        else:
            raise _Unanalysable(f"a predicate {p!r}")

    def _sees_types(self, kind: str, cls: URIRef | None, guards: frozenset[URIRef]) -> None:
        if kind == "this":
            self.this_sees_types = True
        elif kind == "literal":
            self.type_patterns.append(TypePattern(cls, frozenset()))
        elif kind == "var":
            self.type_patterns.append(TypePattern(cls, guards))


def _path_iris(path: Any) -> tuple[set[URIRef], bool]:
    from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, SequencePath

    if isinstance(path, URIRef):
        return {path}, False
    if isinstance(path, NegatedPath):
        return set(), True
    if isinstance(path, InvPath):
        return _path_iris(path.arg)
    if isinstance(path, MulPath):
        return _path_iris(path.path)
    if isinstance(path, (SequencePath, AlternativePath)):
        found: set[URIRef] = set()
        negated = False
        for part in path.args:
            iris, neg = _path_iris(part)
            found |= iris
            negated = negated or neg
        return found, negated
    raise _Unanalysable(f"a path {path!r}")


_CANONICAL_INTEGER = re.compile(r"-?[1-9][0-9]*|0")


def _renormalised(term: Literal) -> Literal | None:
    """`term` as rdflib builds it from Oxigraph's answer (its value, normalised), or None
    for literals that must not be trusted to Oxigraph: ill-typed ones, explicit
    xsd:string (rdflib tells it from a plain literal, Oxigraph does not) and language
    tags with capitals (Oxigraph lowercases them)."""
    if getattr(term, "ill_typed", None) is True or term.datatype == _XSD_STRING:
        return None
    if term.language:
        return term if term.language == term.language.lower() else None
    datatype = term.datatype
    if datatype is None:
        return term
    if datatype in _KNOWN_XSD and term.value is None:
        return None  # rdflib could not read it: ill-typed in all but name
    if datatype in _VALUE_UNIQUE and rdflib.NORMALIZE_LITERALS:
        return term  # rdflib writes these in one form per value: `term` is that form
    return Literal(str(term), datatype=datatype)


def _prints_alike(term: Literal) -> bool:
    """Oxigraph's lexical form of `term` is rdflib's: strings, canonical integers, booleans.

    Oxigraph stores other XSD values (doubles, decimals, date-times, …) by value and
    prints them canonically (`25.0` as `25`); STR, REGEX and the like would then differ.
    """
    if term.datatype is None:
        return True
    lexical = str(term)
    if term.datatype == _XSD_INTEGER:
        return _CANONICAL_INTEGER.fullmatch(lexical) is not None
    if term.datatype == _XSD_BOOLEAN:
        return lexical in ("true", "false")
    return not str(term.datatype).startswith(_XSD_PREFIX)


_KNOWN_XSD = {XSD.integer, XSD.double, XSD.float, XSD.decimal, XSD.boolean, XSD.dateTime}
# Datatypes whose normalised rdflib lexical form is a function of the value alone.
_VALUE_UNIQUE = {XSD.integer, XSD.double, XSD.float, XSD.boolean}


@lru_cache(maxsize=256)
def _prepared(text: str) -> Any:
    from rdflib.plugins.sparql import prepareQuery

    return prepareQuery(text)


_INEXACT = {str(XSD.double), str(XSD.float), str(XSD.decimal)}
_XSD_STRING_TEXT = str(XSD.string)


class _Recompute(Exception):
    """Oxigraph's answer holds a computed number: ask rdflib."""


class QueryEngine:
    """Runs compiled queries over one data graph (its triples, closure included)."""

    def __init__(self, triples: Iterable[tuple[Node, Node, Node]]) -> None:
        self.triples = triples
        self._loaded = False
        self._store: Any = None
        self._graphs: dict[frozenset[URIRef] | None, Graph] = {}
        self._by_predicate: dict[Node, list[tuple[Node, Node, Node]]] | None = None
        self._back: dict[Any, Node] = {}
        self._literals: dict[Literal, Literal] = {}
        self._to_ox: dict[Node, Any] = {}
        self._iris: dict[str, URIRef] = {}
        self.literal_classes: set[Node] = set()
        self.literal_objects: set[Node] = set()
        # predicate -> subjects with a literal Oxigraph prints otherwise than rdflib
        self.printed_otherwise: dict[Node, set[Node]] = {}
        self._objects: dict[Node, set[Node]] = {}
        self.loose_bad: set[Node] = set()
        self.strict_bad: set[Node] = set()
        self.answered_by: dict[str, int] = {"oxigraph": 0, "rdflib": 0}

    # -- Oxigraph side -----------------------------------------------------------------

    def _load(self) -> None:
        """Oxigraph terms for the data, and which predicates' literals it renders alike."""
        self._loaded = True
        try:
            import pyoxigraph as ox
        except ImportError:
            return
        # Keyed by object identity: the triples' terms are interned (`reading.Terms`), and
        # an rdflib literal's hash is Python code. Equal terms that are not the same
        # object only cost a second conversion to the same Oxigraph term.
        to_ox: dict[int, Any] = {}
        quads = []
        keep: list[Node] = []  # the converted terms, alive while their ids are keys
        object_literals: list[tuple[Node, Node, Literal]] = []
        get, convert, quad = to_ox.get, self._convert, ox.Quad
        # `type(x) is Literal` first: isinstance on rdflib terms goes through abc, and
        # this loop runs for every triple.
        try:
            for s, p, o in self.triples:
                if type(s) is Literal or isinstance(s, Literal):
                    if p != _TYPE:
                        return  # only rdf:type triples may have literal subjects
                    self.literal_classes.add(o)
                    continue
                cs, cp, co = get(id(s)), get(id(p)), get(id(o))
                if cs is None:
                    cs = to_ox[id(s)] = convert(ox, s)
                    keep.append(s)
                if cp is None:
                    cp = to_ox[id(p)] = convert(ox, p)
                    keep.append(p)
                if co is None:
                    co = to_ox[id(o)] = convert(ox, o)
                    keep.append(o)
                quads.append(quad(cs, cp, co))
                if type(o) is not URIRef and isinstance(o, Literal):
                    object_literals.append((s, p, o))
        except ValueError:  # an IRI, blank node label or language tag Oxigraph refuses
            return
        self.literal_objects.update(p for _, p, _ in object_literals)
        trust: dict[int, bool | None] = {}
        by_value: dict[tuple[Node, Any], Literal] = {}
        for term in keep:
            if isinstance(term, BNode):
                self._back[to_ox[id(term)]] = term
            elif isinstance(term, Literal):
                key = _renormalised(term)
                if key is None:
                    trust[id(term)] = None
                    continue
                if term.datatype is not None and term.datatype not in _VALUE_UNIQUE:
                    # rdflib may hold two terms of one value ("1" and "1.0" as decimals),
                    # which Oxigraph stores as one: trust neither.
                    same = (term.datatype, term.value if term.value is not None else str(term))
                    other = by_value.setdefault(same, term)
                    if other is not term:
                        trust[id(term)] = trust[id(other)] = None
                        continue
                self._literals[key] = term
                trust.setdefault(id(term), _prints_alike(term))
        self._to_ox = {term: to_ox[id(term)] for term in keep if not isinstance(term, Literal)}
        for s, p, o in object_literals:
            trusted = trust[id(o)]
            if not trusted:
                self.strict_bad.add(p)
                self.printed_otherwise.setdefault(p, set()).add(s)
                if trusted is None:
                    self.loose_bad.add(p)
        store = ox.Store()
        store.extend(quads)
        self._store = store

    @staticmethod
    def _convert(ox: Any, term: Node) -> Any:
        if type(term) is URIRef or isinstance(term, URIRef):
            return ox.NamedNode(str(term))
        if isinstance(term, BNode):
            try:
                return ox.BlankNode(str(term))
            except ValueError:
                return ox.BlankNode()
        assert isinstance(term, Literal)
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))

    def _safe(self, query: Query, bindings: dict[str, Node]) -> bool:
        analysis = query.analysis
        if analysis is None:
            return False
        if not self._loaded:
            self._load()
        if self._store is None:
            return False
        for pattern in analysis.type_patterns:
            if pattern.cls is None and not self.literal_classes:
                continue
            if pattern.cls is not None and pattern.cls not in self.literal_classes:
                continue
            if pattern.guards and not pattern.guards <= self.literal_objects:
                continue  # the subject is bound by a predicate no literal is an object of
            return False
        if analysis.this_sees_types and isinstance(bindings.get("this"), Literal):
            return False
        if analysis.predicates is None:
            return not (self.strict_bad if analysis.lexical else self.loose_bad)
        if self.loose_bad & analysis.predicates:
            return False
        if analysis.lexical:
            return not any(self._reads_otherwise(v, bindings) for v in analysis.value_patterns)
        return True

    def _reads_otherwise(self, pattern: ValuePattern, bindings: dict[str, Node]) -> bool:
        """Can `pattern` bind a literal Oxigraph prints otherwise than rdflib?"""
        subjects = self.printed_otherwise.get(pattern.predicate)
        if not subjects:
            return False
        if pattern.subject == "this":
            return bindings.get("this") in subjects
        if pattern.subject == "const":
            return pattern.constant in subjects
        candidates = subjects
        for guard in pattern.guards - {IS_SUBJECT}:
            candidates = candidates & self._objects_of(guard)
            if not candidates:
                return False
        return True

    def _objects_of(self, predicate: Node) -> set[Node]:
        found = self._objects.get(predicate)
        if found is None:
            found = self._objects[predicate] = {o for _, p, o in self.triples if p == predicate}
        return found

    def _from_ox(self, ox: Any, term: Any) -> Node:
        if isinstance(term, ox.NamedNode):
            text = term.value
            found = self._iris.get(text)
            if found is None:
                found = self._iris[text] = URIRef(text)
            return found
        if isinstance(term, ox.Literal):
            datatype = term.datatype.value
            if term.language:
                made = Literal(term.value, lang=term.language)
            elif datatype == _XSD_STRING_TEXT:
                made = Literal(term.value)
            else:
                made = Literal(term.value, datatype=URIRef(datatype))
            # rdflib normalises lexical forms, so a data literal comes back as itself.
            data = self._literals.get(made)
            if data is not None:
                return data
            if datatype in _INEXACT:
                raise _Recompute()  # a computed number: let rdflib do its own arithmetic
            return made
        back = self._back.get(term)
        if back is None:
            raise _Recompute()  # a blank node the data does not have
        return back

    def _oxigraph(self, query: Query, bindings: dict[str, Node]) -> list[dict[str, Node]]:
        import pyoxigraph as ox

        substitutions = {}
        for name, value in bindings.items():
            converted = None if isinstance(value, Literal) else self._to_ox.get(value)
            if converted is None:
                try:
                    converted = self._convert(ox, value)
                except ValueError:
                    raise _Recompute() from None
            substitutions[ox.Variable(name)] = converted
        solutions = self._store.query(query.text, substitutions=substitutions)
        names = [v.value for v in solutions.variables]
        rows = []
        for solution in solutions:
            row = {}
            for name in names:
                value = solution[name]
                if value is not None:
                    row[name] = self._from_ox(ox, value)
            rows.append(row)
        return rows

    # -- rdflib side --------------------------------------------------------------------

    def _rdflib(self, query: Query, bindings: dict[str, Node]) -> list[dict[str, Node]]:
        graph = self._rdflib_graph(query)
        result = graph.query(_prepared(query.text), initBindings=dict(bindings))  # type: ignore[arg-type]
        return [dict(row.asdict()) for row in result]  # type: ignore[union-attr]

    def _rdflib_graph(self, query: Query) -> Graph:
        """The data as an rdflib graph: the triples the query can see, when that is known.

        A query whose patterns all name their predicates matches no other triple, and
        SPARQL functions do not read the graph: its answer over those triples is its
        answer over all of them, at a fraction of the cost of building the whole graph.
        """
        analysis = query.analysis
        if analysis is None or analysis.predicates is None:
            key = None
        else:
            key = frozenset(analysis.predicates)
        graph = self._graphs.get(key)
        if graph is None:
            graph = Graph()
            if key is None:
                graph.addN((s, p, o, graph) for s, p, o in self.triples)
            else:
                if self._by_predicate is None:
                    by_predicate: dict[Node, list[tuple[Node, Node, Node]]] = {}
                    for triple in self.triples:
                        by_predicate.setdefault(triple[1], []).append(triple)
                    self._by_predicate = by_predicate
                for predicate in key:
                    graph.addN(
                        (s, p, o, graph) for s, p, o in self._by_predicate.get(predicate, ())
                    )
            self._graphs[key] = graph
        return graph

    def select(self, query: Query, bindings: dict[str, Node]) -> list[dict[str, Node]]:
        """The solutions of `query` with `bindings` pre-bound: bound variables by name."""
        if self._safe(query, bindings):
            try:
                rows = self._oxigraph(query, bindings)
                self.answered_by["oxigraph"] += 1
                return rows
            except _Recompute:
                pass
        self.answered_by["rdflib"] += 1
        return self._rdflib(query, bindings)
