"""SHACL evaluation with pyshacl's semantics at a fraction of its cost: compiled shapes.

pyshacl walks rdflib graphs in Python for every focus node and runs every SPARQL target
and constraint with rdflib's SPARQL engine: ~2.5 s for a 100-round crate, after the RDFS
closure. Here the shapes are compiled once (per process, or loaded from the cache of
prepared shapes) into plain objects: each shape's targets, path and constraints, exactly
as pyshacl reads them — compilation asks pyshacl itself which constraint components a
shape has, what its severity, messages and path are, and the final text of every SPARQL
query (prefixes applied, `$PATH` substituted) — and each constraint component is evaluated
the way pyshacl's evaluates it (the same value nodes, the same comparisons, one result per
failing value or focus node, the same messages), over dict indexes of the data. SPARQL runs
in Oxigraph when that cannot change its answer, in rdflib otherwise (`sparql.py`).

What is not compiled (custom constraint components, SHACL rules and functions, property
pair constraints, `sh:closed`, language constraints, generated messages for shapes without
`sh:message`, …) raises `Unsupported` at compile time: the caller then runs pyshacl itself.
`tests/unit/validate/test_engine.py` checks that the findings are pyshacl's on every
corpus crate, and that the shipped shapes compile without falling back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from functools import partial
from typing import Any

from rdflib import RDF, RDFS, BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import XSD
from rdflib.term import Identifier, Node

from fedcrate.validate.sparql import Query, QueryEngine, UnparsableQuery, analyse

__all__ = [
    "CompiledShape",
    "CompiledShapes",
    "Evaluator",
    "Path",
    "Result",
    "Unsupported",
    "compile_shapes",
    "parse_path",
]

SH = Namespace("http://www.w3.org/ns/shacl#")
_TYPE = RDF.type
_SUB_CLASS = RDFS.subClassOf


class Unsupported(Exception):
    """The shapes use something the compiled engine does not evaluate: run pyshacl instead."""


class Fallback(Exception):
    """The data puts evaluation outside what is known to match pyshacl: run pyshacl instead."""


# -- paths -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Path:
    """A SHACL property path, evaluated as pyshacl's `value_nodes_from_path` does."""

    kind: str  # iri | inverse | sequence | alternative | zeroOrMore | oneOrMore | zeroOrOne
    iri: URIRef | None = None
    parts: tuple[Path, ...] = ()

    def render(self) -> str:
        """SPARQL property path syntax with full IRIs (a predicate path is its bare IRI)."""
        if self.kind == "iri":
            return str(self.iri)
        if self.kind == "inverse":
            return f"^{self.iri}"
        if self.kind == "sequence":
            return "/".join(_grouped(p) for p in self.parts)
        if self.kind == "alternative":
            return "(" + "|".join(p.render() for p in self.parts) + ")"
        suffix = {"zeroOrMore": "*", "oneOrMore": "+", "zeroOrOne": "?"}[self.kind]
        return _grouped(self.parts[0]) + suffix

    def predicates(self) -> set[URIRef]:
        found = {self.iri} if self.iri is not None else set()
        for part in self.parts:
            found |= part.predicates()
        return found


def _grouped(path: Path) -> str:
    text = path.render()
    return text if path.kind in ("iri", "inverse", "alternative") else f"({text})"


def parse_path(graph: Graph, node: Node, depth: int = 0) -> Path:
    """The path a shapes graph states at `node`.

    Raises:
        Unsupported: a malformed path, or one pyshacl versions evaluate differently
            (an inverse of anything but a predicate).
    """
    if isinstance(node, URIRef):
        return Path("iri", node)
    if not isinstance(node, BNode) or depth > 8:
        raise Unsupported(f"sh:path {node!r}")
    if graph.value(node, RDF.first) is not None:
        items = list(graph.items(node))
        if len(items) < 2:
            raise Unsupported("a sequence path with fewer than two items")
        return Path("sequence", parts=tuple(parse_path(graph, i, depth + 1) for i in items))
    predicates = set(graph.predicates(node))
    if predicates == {SH.inversePath}:
        inner = graph.value(node, SH.inversePath)
        if not isinstance(inner, URIRef):
            raise Unsupported("an inverse of a complex path")
        return Path("inverse", inner)
    if predicates == {SH.alternativePath}:
        alternatives = graph.value(node, SH.alternativePath)
        items = list(graph.items(alternatives)) if alternatives is not None else []
        if len(items) < 2:
            raise Unsupported("an alternative path with fewer than two items")
        return Path("alternative", parts=tuple(parse_path(graph, i, depth + 1) for i in items))
    for name in ("zeroOrMore", "oneOrMore", "zeroOrOne"):
        if predicates == {SH[name + "Path"]}:
            inner = graph.value(node, SH[name + "Path"])
            if inner is None:
                raise Unsupported(f"an empty sh:{name}Path")
            return Path(name, parts=(parse_path(graph, inner, depth + 1),))
    raise Unsupported(f"a path node with {sorted(map(str, predicates))}")


# -- results ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """One validation result, as pyshacl would write it into its results graph."""

    shape: Node
    severity: URIRef
    focus: Node
    value: Node | None
    path: Path | None
    messages: tuple[str, ...]


# -- compiled shapes ---------------------------------------------------------------------


@dataclass
class CompiledShape:
    node: Node
    is_property: bool
    path: Path | None
    severity: URIRef
    messages: tuple[Literal, ...]
    deactivated: bool
    target_nodes: tuple[Node, ...] = ()
    target_classes: tuple[Node, ...] = ()
    subjects_of: tuple[Node, ...] = ()
    objects_of: tuple[Node, ...] = ()
    sparql_targets: tuple[Query, ...] = ()
    constraints: list[Any] = field(default_factory=list)

    @property
    def has_targets(self) -> bool:
        return bool(
            self.target_nodes
            or self.target_classes
            or self.subjects_of
            or self.objects_of
            or self.sparql_targets
        )

    def result(
        self,
        focus: Node,
        value: Node | None = None,
        *,
        extra: Iterable[Literal] = (),
        bound: dict[str, Node] | None = None,
        path: Path | None = None,
    ) -> Result:
        """pyshacl's `make_v_result`: the shape's messages (and extra ones), formatted."""
        own = list(self.messages)
        texts = [_format(str(m), bound) for m in extra if m not in own]
        texts += [_format(str(m), bound) for m in own]
        return Result(self.node, self.severity, focus, value, path or self.path, tuple(texts))


def _format(message: str, bound: dict[str, Node] | None) -> str:
    """pyshacl's `_format_sparql_based_result_message`, including its use of `re.sub`."""
    if bound is None:
        return message
    for var, val in bound.items():
        message = re.sub(f"{{[?$]{var}}}", str(val), message)
    return message


@dataclass
class CompiledShapes:
    """Every shape of a shapes graph, compiled; what `Evaluator` runs."""

    shapes: dict[Node, CompiledShape]
    queries: list[Query]

    def top_level(self) -> list[CompiledShape]:
        return [s for s in self.shapes.values() if s.has_targets and not s.deactivated]

    def predicates_read(self) -> set[Node] | None:
        """Every predicate evaluation can look at; None when a query can see any."""
        found: set[Node] = {_TYPE, _SUB_CLASS}
        for shape in self.shapes.values():
            found.update(shape.subjects_of)
            found.update(shape.objects_of)
            if shape.path is not None:
                found |= shape.path.predicates()
        for query in self.queries:
            if query.analysis is None or query.analysis.predicates is None:
                return None
            found |= query.analysis.predicates
        return found


# -- constraint components (each mirrors the pyshacl component of the same name) --------

FocusValues = dict[Node, set[Node]]
Outcome = tuple[bool, list[Result]]


@dataclass
class MinCount:
    count: int

    def evaluate(self, ev: Evaluator, shape: CompiledShape, fv: FocusValues) -> Outcome:
        if self.count == 0:
            return True, []
        out = [shape.result(f) for f, values in fv.items() if not len(values) >= self.count]
        return not out, out


@dataclass
class MaxCount:
    count: int

    def evaluate(self, ev: Evaluator, shape: CompiledShape, fv: FocusValues) -> Outcome:
        out = [shape.result(f) for f, values in fv.items() if not len(values) <= self.count]
        return not out, out


@dataclass
class ClassIs:
    classes: tuple[Node, ...]

    def evaluate(self, ev: Evaluator, shape: CompiledShape, fv: FocusValues) -> Outcome:
        out = []
        for wanted in self.classes:
            seen: dict[int, bool] = {}  # value nodes recur across focus nodes; terms are interned
            for f, values in fv.items():
                for v in values:
                    ok = seen.get(id(v))
                    if ok is None:
                        ok = seen[id(v)] = not isinstance(v, Literal) and ev.is_instance(v, wanted)
                    if not ok:
                        out.append(shape.result(f, v))
        return not out, out


_RDF_LANG_STRING = RDF.langString
# Namespace attributes are Python-level lookups: resolved once for the hot paths.
_XSD_STRING = XSD.string
_XSD_INTEGER = XSD.integer
_XSD_FLOAT = XSD.float
_XSD_DECIMAL = XSD.decimal
_XSD_BOOLEAN = XSD.boolean
_XSD_DATE = XSD.date
_XSD_TIME = XSD.time
_XSD_DATETIME = XSD.dateTime
_RDFS_LITERAL = RDFS.Literal
_RDFS_DATATYPE = RDFS.Datatype


def _actual_datatype(value_node: Literal, rule: Node) -> bool:
    value = value_node.value
    if rule in (_XSD_STRING, _RDF_LANG_STRING):
        return isinstance(value, (str, bytes))
    if rule == _XSD_INTEGER:
        return isinstance(value, int)
    if rule == _XSD_FLOAT:
        return isinstance(value, float)
    if rule == _XSD_DECIMAL:
        return isinstance(value, Decimal)
    if rule == _XSD_BOOLEAN:
        return isinstance(value, bool)
    if rule == _XSD_DATE:
        return isinstance(value, date)
    if rule == _XSD_TIME:
        return isinstance(value, time)
    if rule == _XSD_DATETIME:
        return isinstance(value, datetime)
    return True


@dataclass
class DatatypeIs:
    datatype: Node

    def _matches(self, v: Node) -> bool:
        if not isinstance(v, Literal):
            return False
        rule = self.datatype
        if v.datatype == rule:
            return getattr(v, "ill_typed", None) is not True and _actual_datatype(v, rule)
        if rule == _RDFS_LITERAL:
            return True
        if rule == _RDFS_DATATYPE and v.datatype:
            return True
        if v.datatype is None and v.language is None and rule == _XSD_STRING:
            return _actual_datatype(v, rule)
        if rule == _RDF_LANG_STRING and v.language:
            return _actual_datatype(v, rule)
        return False

    def evaluate(self, ev: Evaluator, shape: CompiledShape, fv: FocusValues) -> Outcome:
        return _per_value(self._matches, shape, fv)


def _per_value(check: Any, shape: CompiledShape, fv: FocusValues) -> Outcome:
    """A result for each value node `check` refuses, checking each distinct node once."""
    seen: dict[int, bool] = {}
    out = []
    for f, values in fv.items():
        for v in values:
            ok = seen.get(id(v))
            if ok is None:
                ok = seen[id(v)] = check(v)
            if not ok:
                out.append(shape.result(f, v))
    return not out, out


_NODE_KINDS = {
    "BlankNode": (SH.BlankNode, SH.BlankNodeOrLiteral, SH.BlankNodeOrIRI),
    "Literal": (SH.Literal, SH.BlankNodeOrLiteral, SH.IRIOrLiteral),
    "IRI": (SH.IRI, SH.IRIOrLiteral, SH.BlankNodeOrIRI),
}


@dataclass
class NodeKindIs:
    kind: Node

    def _matches(self, v: Node) -> bool:
        if isinstance(v, BNode):
            return self.kind in _NODE_KINDS["BlankNode"]
        if isinstance(v, Literal):
            return self.kind in _NODE_KINDS["Literal"]
        if isinstance(v, Identifier):
            return self.kind in _NODE_KINDS["IRI"]
        return False

    def evaluate(self, ev: Evaluator, shape: CompiledShape, fv: FocusValues) -> Outcome:
        return _per_value(self._matches, shape, fv)


def _compare_literal(l1: Literal, l2: Literal) -> int:
    """pyshacl's `rdfutil.compare.compare_literal`."""
    if l1.datatype == _XSD_INTEGER and l2.datatype == _XSD_INTEGER:
        a, b = l1.value, l2.value
        if type(a) is int and type(b) is int:  # rdflib compares integers by value
            return 0 if a == b else (1 if a > b else -1)
    if l1.eq(l2):
        return 0
    if l1.value.__class__ in (datetime, time):
        if l1.value == l2.value:
            return 0
        if l1.value > l2.value:
            return 1
    elif l1 > l2:
        return 1
    return -1


@dataclass
class Range:
    """sh:minExclusive, sh:minInclusive, sh:maxExclusive, sh:maxInclusive."""

    op: str  # one of > >= < <=: how a passing value compares to the bound
    bounds: tuple[Literal, ...]

    def _passes(self, v: Node, bound: Literal, bound_is_string: bool) -> bool:
        if not isinstance(v, Literal):
            return False
        v_is_string = isinstance(v.value, str)
        if bound_is_string != v_is_string:
            return False
        try:
            cmp = _compare_literal(v, bound)
        except (TypeError, NotImplementedError):
            return False
        if self.op == ">":
            return cmp > 0
        if self.op == ">=":
            return cmp >= 0
        if self.op == "<":
            return cmp < 0
        return cmp <= 0

    def evaluate(self, ev: Evaluator, shape: CompiledShape, fv: FocusValues) -> Outcome:
        out = []
        for bound in self.bounds:
            check = partial(self._passes, bound=bound, bound_is_string=isinstance(bound.value, str))
            out.extend(_per_value(check, shape, fv)[1])
        return not out, out


def _node_string(v: Node) -> str:
    """pyshacl's `StringBasedConstraintBase.value_node_to_string`."""
    if (
        isinstance(v, Literal)
        and v.value is not None
        and v.datatype in (None, _RDF_LANG_STRING, _XSD_STRING)
    ):
        return str(v.value)
    return str(v)


@dataclass
class Length:
    at_least: bool
    length: int

    def evaluate(self, ev: Evaluator, shape: CompiledShape, fv: FocusValues) -> Outcome:
        out = []
        for f, values in fv.items():
            for v in values:
                if self.at_least and self.length == 0:
                    ok = True
                elif isinstance(v, BNode):
                    ok = False
                elif self.at_least:
                    ok = len(_node_string(v)) >= self.length
                else:
                    ok = len(_node_string(v)) <= self.length
                if not ok:
                    out.append(shape.result(f, v))
        return not out, out


@dataclass
class Pattern:
    patterns: tuple[re.Pattern[str], ...]

    def evaluate(self, ev: Evaluator, shape: CompiledShape, fv: FocusValues) -> Outcome:
        out = []
        for matcher in self.patterns:
            for f, values in fv.items():
                for v in values:
                    if isinstance(v, BNode):
                        ok = False
                    else:
                        text = _node_string(v)
                        ok = bool(matcher.match(text) or matcher.search(text))
                    if not ok:
                        out.append(shape.result(f, v))
        return not out, out


@dataclass
class In:
    values: frozenset[Node]

    def evaluate(self, ev: Evaluator, shape: CompiledShape, fv: FocusValues) -> Outcome:
        out = [shape.result(f, v) for f, vs in fv.items() for v in vs if v not in self.values]
        return not out, out


@dataclass
class HasValue:
    values: tuple[Node, ...]

    def evaluate(self, ev: Evaluator, shape: CompiledShape, fv: FocusValues) -> Outcome:
        out = []
        for wanted in self.values:
            for f, values in fv.items():
                if not any(v == wanted for v in values):
                    out.append(shape.result(f))
        return not out, out


@dataclass
class Logical:
    """sh:not, sh:and, sh:or, sh:xone: conformance of each value node to other shapes."""

    kind: str
    groups: tuple[tuple[Node, ...], ...]  # sh:not: one shape per group

    def evaluate(self, ev: Evaluator, shape: CompiledShape, fv: FocusValues) -> Outcome:
        out = []
        for group in self.groups:
            members = [ev.shape(n) for n in group]
            for f, values in fv.items():
                for v in values:
                    conforms = [ev.conforms(m, v) for m in members]
                    if self.kind == "not":
                        failed = conforms[0]
                    elif self.kind == "and":
                        failed = not all(conforms)
                    elif self.kind == "or":
                        failed = not any(conforms)
                    else:
                        failed = conforms.count(True) != 1
                    if failed:
                        out.append(shape.result(f, v))
        return not out, out


@dataclass
class NodeIs:
    shapes: tuple[Node, ...]

    def evaluate(self, ev: Evaluator, shape: CompiledShape, fv: FocusValues) -> Outcome:
        if not any(fv.values()):
            return True, []
        out = []
        for node in self.shapes:
            other = ev.shape(node)
            for f, values in fv.items():
                for v in values:
                    ok, details = ev.nested(other, v)
                    if not ok or details:
                        # pyshacl links the nested results as sh:detail; they are results too.
                        out.append(shape.result(f, v))
                        out.extend(details)
        return not out, out


@dataclass
class Property:
    shapes: tuple[Node, ...]

    def evaluate(self, ev: Evaluator, shape: CompiledShape, fv: FocusValues) -> Outcome:
        if not any(fv.values()):
            return True, []
        conforms = True
        out: list[Result] = []
        for node in self.shapes:
            other = ev.shape(node)
            for values in fv.values():
                for v in values:
                    ok, results = ev.nested(other, v)
                    conforms = conforms and ok
                    out.extend(results)
        return conforms, out


@dataclass
class Qualified:
    value_shapes: tuple[Node, ...]
    siblings: dict[Node, tuple[Node, ...]]  # value shape -> sibling shapes when disjoint
    min_count: int | None
    max_count: int | None
    disjoint: bool

    def evaluate(self, ev: Evaluator, shape: CompiledShape, fv: FocusValues) -> Outcome:
        count = sum(len(v) for v in fv.values())
        if not self.disjoint and count < 1 and (self.min_count is None or self.min_count < 1):
            return True, []
        out = []
        for node in self.value_shapes:
            other = ev.shape(node)
            siblings = [ev.shape(s) for s in self.siblings.get(node, ())]
            for f, values in fv.items():
                conforming = 0
                for v in values:
                    if ev.conforms(other, v) and not any(ev.conforms(s, v) for s in siblings):
                        conforming += 1
                if self.max_count is not None and conforming > self.max_count:
                    out.append(shape.result(f))
                if self.min_count is not None and conforming < self.min_count:
                    out.append(shape.result(f))
        return not out, out


@dataclass
class Sparql:
    """sh:sparql: SELECT constraints, each run once per focus node with $this pre-bound."""

    queries: tuple[tuple[Query, tuple[Literal, ...]], ...]  # (query, its own sh:message)

    def evaluate(self, ev: Evaluator, shape: CompiledShape, fv: FocusValues) -> Outcome:
        out = []
        for query, extra in self.queries:
            for f in fv:
                bindings: dict[str, Node] = {}
                if "this" in query.binds:
                    bindings["this"] = f
                if "currentShape" in query.binds:
                    bindings["currentShape"] = shape.node
                result_val = None if shape.is_property else f
                for row in _violations(ev.sparql.select(query, bindings)):
                    if len(row) == 1:  # a `?failure` row, with the row's other variables
                        out.append(shape.result(f, result_val, extra=extra, bound=row[0]))
                        continue
                    t, p, v, others = row
                    if v is None:
                        v = result_val
                    bound = dict(others)
                    for name, term in (("this", t), ("path", p), ("value", v)):
                        if term is not None:
                            bound[name] = term
                    path = Path("iri", p) if isinstance(p, URIRef) else None
                    if p is not None and path is None:
                        raise Fallback("a SPARQL result path that is not an IRI")
                    out.append(shape.result(t or f, v, extra=extra, bound=bound, path=path))
        return not out, out


def _violations(rows: list[dict[str, Node]]) -> list[Any]:
    """pyshacl's `_validate_sparql_query`: one entry per distinct violating row."""
    violations: list[Any] = []
    failed = False
    for row in rows:
        row = dict(row)
        if row.pop("failure", None) is not None:
            if not failed:
                violations.append((row,))
                failed = True
            continue
        p = row.pop("path", None)
        v = row.pop("value", None)
        t = row.pop("this", None)
        if p is None and v is None and t is None:
            continue
        entry = (t, p, v, row)
        if entry not in violations:
            violations.append(entry)
    return violations


# -- compilation -----------------------------------------------------------------------


_GLOBAL_FEATURES = (
    SH.SPARQLFunction,
    SH.JSFunction,
    SH.SHACLFunction,
    SH.TripleRule,
    SH.SPARQLRule,
    SH.JSRule,
    SH.ConstraintComponent,
    SH.SPARQLTargetType,
    SH.JSTargetType,
    SH.JSTarget,
)


def _single(values: list[Node], what: str) -> Node:
    if len(values) != 1:
        raise Unsupported(f"{what}: {len(values)} values")
    return values[0]


def _int(node: Node, what: str) -> int:
    if not isinstance(node, Literal) or not isinstance(node.value, int):
        raise Unsupported(f"{what} is not an integer")
    return int(node.value)


def _compiled_patterns(
    patterns: list[Node], flags: list[Node], node: Node
) -> tuple[re.Pattern[str], ...]:
    """sh:pattern as pyshacl reads it: Python regexes; of sh:flags only `i` and `m` count.

    Compiled here, not taken from pyshacl's component, whose cache is private (older
    pyshacl releases do not have it).
    """
    if not patterns or not all(isinstance(p, Literal) for p in patterns):
        raise Unsupported(f"sh:pattern on {node} is missing or not a literal")
    letters = str(flags[0]).lower() if flags else ""
    re_flags = (re.I if "i" in letters else 0) | (re.M if "m" in letters else 0)
    try:
        return tuple(re.compile(str(p), re_flags) for p in patterns)
    except re.error as error:
        raise Unsupported(f"sh:pattern on {node} is not a Python regex: {error}") from error


def compile_shapes(graph: Graph) -> CompiledShapes:
    """Compile every shape of `graph` as pyshacl (advanced mode) would run it.

    Raises:
        Unsupported: the shapes need pyshacl itself (the message says what).
    """
    try:
        return _compile(graph)
    except Unsupported:
        raise
    except Exception as exc:  # pyshacl refuses the shapes: let it report that itself
        raise Unsupported(f"{type(exc).__name__}: {exc}") from None


def _compile(source: Graph) -> CompiledShapes:
    from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS, CONSTRAINT_PARAMETERS_MAP
    from pyshacl.errors import ConstraintLoadWarning
    from pyshacl.shapes_graph import ShapesGraph

    graph = Graph()
    graph += source  # pyshacl adds its system triples to the graph it is given
    for name in graph.namespaces():
        graph.bind(*name, override=False)
    for feature in _GLOBAL_FEATURES:
        if (None, RDF.type, feature) in graph or (None, RDFS.subClassOf, feature) in graph:
            raise Unsupported(f"the shapes use {feature}")
    for predicate in (SH.rule, SH.expression, SH.js, SH.jsFunctionName):
        if (None, predicate, None) in graph:
            raise Unsupported(f"the shapes use {predicate}")
    sg = ShapesGraph(graph)
    if sg.custom_constraints:
        raise Unsupported("custom constraint components")
    shapes: dict[Node, CompiledShape] = {}
    queries: list[Query] = []
    pyshapes = list(sg.shapes)
    for pyshape in pyshapes:
        pyshape.set_advanced(True)
        severities = list(graph.objects(pyshape.node, SH.severity))
        if len(severities) > 1:
            raise Unsupported(f"{pyshape.node} has {len(severities)} severities")
        path = parse_path(graph, pyshape.path()) if pyshape.is_property_shape else None
        nodes, classes, implicit, objects_of, subjects_of = pyshape.target()
        compiled = CompiledShape(
            node=pyshape.node,
            is_property=bool(pyshape.is_property_shape),
            path=path,
            severity=pyshape.severity,
            messages=tuple(sorted(pyshape.message, key=str)),
            deactivated=bool(pyshape.deactivated),
            target_nodes=tuple(nodes),
            target_classes=tuple(dict.fromkeys([*classes, *implicit])),
            subjects_of=tuple(subjects_of),
            objects_of=tuple(objects_of),
        )
        targets = []
        for target in pyshape.advanced_target().values():
            if target["type"] != SH.SPARQLTarget:
                raise Unsupported(f"a custom target on {pyshape.node}")
            helper = target["qh"]
            targets.append(_query(helper.apply_prefixes(helper.select_text), ()))
        compiled.sparql_targets = tuple(targets)
        queries.extend(targets)
        shapes[pyshape.node] = compiled
    for pyshape in pyshapes:
        compiled = shapes[pyshape.node]
        parameters = [
            p for p, _ in graph.predicate_objects(pyshape.node) if p in ALL_CONSTRAINT_PARAMETERS
        ]
        done = set()
        for parameter in parameters:
            component = CONSTRAINT_PARAMETERS_MAP[parameter]
            if component in done:
                continue
            done.add(component)
            try:
                instance = component(pyshape)
            except ConstraintLoadWarning:
                continue  # pyshacl logs these and skips the component
            built = _component(graph, sg, pyshape, component.__name__, instance, shapes)
            compiled.constraints.append(built)
            if isinstance(built, Sparql):
                queries.extend(q for q, _ in built.queries)
        if not compiled.messages and _may_report(compiled, graph):
            raise Unsupported(f"{pyshape.node} has no sh:message (pyshacl would generate one)")
    _refuse_recursion(shapes)
    return CompiledShapes(shapes, queries)


def _references(shape: CompiledShape) -> set[Node]:
    found: set[Node] = set()
    for c in shape.constraints:
        if isinstance(c, Logical):
            found.update(n for group in c.groups for n in group)
        elif isinstance(c, (NodeIs, Property)):
            found.update(c.shapes)
        elif isinstance(c, Qualified):
            found.update(c.value_shapes)
            found.update(n for sibs in c.siblings.values() for n in sibs)
    return found


def _refuse_recursion(shapes: dict[Node, CompiledShape]) -> None:
    """Recursive shapes are left to pyshacl, whose recursion handling is its own."""
    state: dict[Node, int] = {}

    def visit(node: Node) -> None:
        state[node] = 1
        for ref in _references(shapes[node]):
            if state.get(ref) == 1:
                raise Unsupported(f"recursive shapes through {ref}")
            if ref not in state:
                visit(ref)
        state[node] = 2

    for node in shapes:
        if node not in state:
            visit(node)


def _may_report(shape: CompiledShape, graph: Graph) -> bool:
    """A shape whose results reach the report: it has targets or is a nested property/node."""
    if all(isinstance(c, Property) for c in shape.constraints):
        return False  # only its property shapes report, with their own messages
    return (
        shape.has_targets
        or (None, SH.property, shape.node) in graph
        or (None, SH.node, shape.node) in graph
    )


def _query(text: str, binds: tuple[str, ...]) -> Query:
    try:
        analysis = analyse(text, frozenset(binds))
    except UnparsableQuery as exc:
        raise Unsupported(f"a query rdflib parses only with the data's prefixes ({exc})") from None
    return Query(text=text, binds=binds, analysis=analysis)


def _component(
    graph: Graph, sg: Any, pyshape: Any, name: str, instance: Any, shapes: dict[Node, CompiledShape]
) -> Any:
    node = pyshape.node

    def values(predicate: URIRef) -> list[Node]:
        return list(graph.objects(node, predicate))

    def shape_refs(items: Iterable[Node]) -> tuple[Node, ...]:
        refs = tuple(items)
        for ref in refs:
            if ref not in shapes:
                raise Unsupported(f"{node} refers to {ref}, which is not a shape")
        return refs

    if name == "MinCountConstraintComponent":
        return MinCount(_int(_single(values(SH.minCount), "sh:minCount"), "sh:minCount"))
    if name == "MaxCountConstraintComponent":
        return MaxCount(_int(_single(values(SH.maxCount), "sh:maxCount"), "sh:maxCount"))
    if name == "ClassConstraintComponent":
        return ClassIs(tuple(values(SH["class"])))
    if name == "DatatypeConstraintComponent":
        return DatatypeIs(_single(values(SH.datatype), "sh:datatype"))
    if name == "NodeKindConstraintComponent":
        return NodeKindIs(_single(values(SH.nodeKind), "sh:nodeKind"))
    ranges = {
        "MinExclusiveConstraintComponent": (">", SH.minExclusive),
        "MinInclusiveConstraintComponent": (">=", SH.minInclusive),
        "MaxExclusiveConstraintComponent": ("<", SH.maxExclusive),
        "MaxInclusiveConstraintComponent": ("<=", SH.maxInclusive),
    }
    if name in ranges:
        op, predicate = ranges[name]
        bounds = values(predicate)
        if not all(isinstance(b, Literal) for b in bounds):
            raise Unsupported(f"{predicate} on {node} is not a literal")
        return Range(op, tuple(b for b in bounds if isinstance(b, Literal)))
    if name in ("MinLengthConstraintComponent", "MaxLengthConstraintComponent"):
        at_least = name.startswith("Min")
        rule = _single(values(SH.minLength if at_least else SH.maxLength), name)
        length = _int(rule, name)
        if length < 0:
            raise Unsupported(f"{name} < 0")
        return Length(at_least, length)
    if name == "PatternConstraintComponent":
        return Pattern(_compiled_patterns(values(SH.pattern), values(SH.flags), node))
    if name == "InConstraintComponent":
        return In(frozenset(instance.in_vals))
    if name == "HasValueConstraintComponent":
        return HasValue(tuple(values(SH.hasValue)))
    logical = {
        "NotConstraintComponent": ("not", SH["not"]),
        "AndConstraintComponent": ("and", SH["and"]),
        "OrConstraintComponent": ("or", SH["or"]),
        "XoneConstraintComponent": ("xone", SH.xone),
    }
    if name in logical:
        kind, predicate = logical[name]
        if kind == "not":
            groups = tuple(shape_refs([n]) for n in values(predicate))
        else:
            groups = tuple(shape_refs(graph.items(lst)) for lst in values(predicate))
            if not all(groups):
                raise Unsupported(f"an empty {predicate} list on {node}")
        return Logical(kind, groups)
    if name == "NodeConstraintComponent":
        refs = shape_refs(values(SH.node))
        if any(shapes[r].is_property for r in refs):
            raise Unsupported(f"sh:node on {node} names a property shape")
        return NodeIs(refs)
    if name == "PropertyConstraintComponent":
        refs = shape_refs(values(SH.property))
        if not all(shapes[r].is_property for r in refs):
            raise Unsupported(f"sh:property on {node} names a node shape")
        return Property(refs)
    if name == "QualifiedValueShapeConstraintComponent":
        value_shapes = shape_refs(instance.value_shapes)
        siblings: dict[Node, tuple[Node, ...]] = {}
        if instance.is_disjoint:
            for value_shape in value_shapes:
                found = []
                for parent in graph.subjects(SH.property, node):
                    for sibling_property in graph.objects(parent, SH.property):
                        for sibling in graph.objects(sibling_property, SH.qualifiedValueShape):
                            if sibling != value_shape and sibling in shapes:
                                found.append(sibling)
                siblings[value_shape] = tuple(dict.fromkeys(found))
        return Qualified(
            value_shapes,
            siblings,
            instance.min_count,
            instance.max_count,
            bool(instance.is_disjoint),
        )
    if name == "SPARQLBasedConstraint":
        built = []
        for helper in instance.sparql_constraints:
            if helper.deactivated:
                continue
            binds, text = helper.pre_bind_variables(URIRef("urn:fedcrate:probe"))
            if set(binds) - {"this", "currentShape"}:
                raise Unsupported(f"a SPARQL constraint binding {sorted(binds)}")
            messages = tuple(sorted(helper.messages or (), key=str))
            built.append((_query(helper.apply_prefixes(text), tuple(sorted(binds))), messages))
        return Sparql(tuple(built))
    raise Unsupported(f"{name} on {node}")


# -- evaluation ------------------------------------------------------------------------


class Evaluator:
    """Validates one data graph (a set of triples) against compiled shapes."""

    def __init__(self, compiled: CompiledShapes, triples: Iterable[tuple[Node, Node, Node]]):
        self.compiled = compiled
        self.out: dict[Node, dict[Node, list[Node]]] = {}
        self.inn: dict[Node, dict[Node, list[Node]]] = {}
        self.all_triples = triples if isinstance(triples, (set, frozenset)) else set(triples)
        for s, p, o in self.all_triples:
            by_s = self.out.get(s)
            if by_s is None:
                by_s = self.out[s] = {}
            objects = by_s.get(p)
            if objects is None:
                by_s[p] = [o]
            else:
                objects.append(o)
            by_o = self.inn.get(o)
            if by_o is None:
                by_o = self.inn[o] = {}
            subjects = by_o.get(p)
            if subjects is None:
                by_o[p] = [s]
            else:
                subjects.append(s)
        self.sparql = QueryEngine(self.all_triples)
        self._supers: dict[Node, set[Node]] = {}
        self._nested: dict[tuple[int, Node], tuple[bool, list[Result]]] = {}

    # graph access, as pyshacl reads an rdflib graph

    def objects(self, s: Node, p: Node) -> list[Node]:
        return self.out.get(s, {}).get(p, [])

    def subjects(self, p: Node, o: Node) -> list[Node]:
        return self.inn.get(o, {}).get(p, [])

    def _transitive_objects(self, start: Node, p: Node) -> set[Node]:
        seen = {start}
        pending = [start]
        while pending:
            for o in self.objects(pending.pop(), p):
                if o not in seen:
                    seen.add(o)
                    pending.append(o)
        return seen

    def _transitive_subjects(self, p: Node, start: Node) -> set[Node]:
        seen = {start}
        pending = [start]
        while pending:
            for s in self.subjects(p, pending.pop()):
                if s not in seen:
                    seen.add(s)
                    pending.append(s)
        return seen

    def is_instance(self, node: Node, cls: Node) -> bool:
        for ctype in self.objects(node, _TYPE):
            if ctype == cls:
                return True
            supers = self._supers.get(ctype)
            if supers is None:
                supers = self._supers[ctype] = self._transitive_objects(ctype, _SUB_CLASS)
            if cls in supers:
                return True
        return False

    def shape(self, node: Node) -> CompiledShape:
        return self.compiled.shapes[node]

    # SHACL

    def focus_nodes(self, shape: CompiledShape) -> set[Node]:
        found: set[Node] = set(shape.target_nodes)
        for cls in shape.target_classes:
            found.update(self.subjects(_TYPE, cls))
            for sub in self._transitive_subjects(_SUB_CLASS, cls):
                if sub != cls:
                    found.update(self.subjects(_TYPE, sub))
        for p in shape.subjects_of:
            for s, by_p in self.out.items():
                if p in by_p:
                    found.add(s)
        for p in shape.objects_of:
            for o, by_p in self.inn.items():
                if p in by_p:
                    found.add(o)
        for query in shape.sparql_targets:
            for row in self.sparql.select(query, {}):
                this = row.get("this")
                if this is None:
                    raise Fallback("a SPARQL target row without ?this")
                found.add(this)
        return found

    def path_values(self, path: Path, focus: Node) -> set[Node]:
        kind = path.kind
        if kind == "iri":
            return set(self.objects(focus, path.iri))  # type: ignore[arg-type]
        if kind == "inverse":
            return set(self.subjects(path.iri, focus))  # type: ignore[arg-type]
        if kind == "sequence":
            current = self.path_values(path.parts[0], focus)
            for part in path.parts[1:]:
                nxt: set[Node] = set()
                for node in current:
                    nxt |= self.path_values(part, node)
                current = nxt
            return current
        if kind == "alternative":
            found: set[Node] = set()
            for part in path.parts:
                found |= self.path_values(part, focus)
            return found
        inner = path.parts[0]
        if kind == "zeroOrOne":
            return {focus} | self.path_values(inner, focus)
        collected = {focus} if kind == "zeroOrMore" else set()
        pending = set(self.path_values(inner, focus))
        while pending:
            node = pending.pop()
            if node in collected:
                continue
            collected.add(node)
            pending |= self.path_values(inner, node)
        return collected

    def validate(self, shape: CompiledShape, focus: Iterable[Node]) -> tuple[bool, list[Result]]:
        if shape.deactivated:
            return True, []
        if shape.is_property:
            assert shape.path is not None
            fv = {f: self.path_values(shape.path, f) for f in focus}
        else:
            fv = {f: {f} for f in focus}
        if not fv:
            return True, []
        conforms = True
        results: list[Result] = []
        for constraint in shape.constraints:
            ok, found = constraint.evaluate(self, shape, fv)
            conforms = conforms and ok
            results.extend(found)
        return conforms, results

    def nested(self, shape: CompiledShape, node: Node) -> tuple[bool, list[Result]]:
        """Validate `node` against `shape` as a value node of another shape (memoised)."""
        key = (id(shape), node)
        found = self._nested.get(key)
        if found is None:
            if len(self._nested) > 1_000_000:
                raise Fallback("nested shapes without end")
            self._nested[key] = (True, [])  # a recursive reference conforms, as pyshacl's
            found = self._nested[key] = self.validate(shape, [node])
        return found

    def conforms(self, shape: CompiledShape, node: Node) -> bool:
        return self.nested(shape, node)[0]

    def run(self) -> list[Result]:
        """Every validation result of every shape, as pyshacl's `Validator.run` finds them."""
        results: list[Result] = []
        for shape in self.compiled.top_level():
            focus = self.focus_nodes(shape)
            if focus:
                results.extend(self.validate(shape, focus)[1])
        return results
