"""Graph → RO-Crate JSON-LD in one pass over the triples, and its indented text, fast.

rdflib's JSON-LD `Converter` (the reference, `jsonld.graph_to_jsonld_reference`) decides each
triple's key and value form with several generic context lookups (`find_term` per coercion,
a probe for RDF lists on every object, `to_symbol` per datatype), which made serialisation
most of the time a crate takes to write. A crate's compaction context (the bundled RO-Crate
1.2 context + `LOCAL_CONTEXT`) defines only plain terms: no `@type` coercion, `@container`,
`@language`, `@reverse`, scoped context, `@vocab`, `@base` or keyword alias. Under such a
context a triple's key depends only on its predicate, and its value's form only on the
object's kind and datatype, so `compact_nodes` makes each decision once, through rdflib's
own `Context` (the term choices, compact IRIs and full IRIs are rdflib's), and then emits
every node in one pass, reading a SimpleMemory store's subject index directly (rdflib's
`triples` generators cost more than everything else done per triple). Graphs it does not
handle (RDF lists, several named graphs, a context with non-plain terms) get None, and the
caller uses the reference.

The output equals the reference's (as parsed JSON, including the order of repeated values)
except where the reference loses a triple or writes something that is not JSON. Then this
module writes the lossless form, which rdflib parses back to the same triple (rdflib's
parser normalises lexical forms as it reads, so a non-normalised one comes back normalised):

* a non-finite double: the reference writes the bare tokens `NaN` / `Infinity` (not JSON,
  RFC 8259; strict parsers reject the document); here `{"@type": "xsd:double", "@value":
  "nan"}`.
* a literal of a native datatype whose lexical form the native JSON value does not give
  back (ill-typed like `"abc"^^xsd:integer`, or not normalised): the reference writes the
  Python value (or the bare string, dropping the datatype); here the typed lexical form.
* a subject with several values of one key, the first of them falsy (`0`, `""`, `false`):
  the reference overwrites it with the next (it tests the existing value's truth); here
  both are kept.
* `rdf:type` with a literal or blank-node object: the reference puts it under `@type`,
  which only takes IRIs; here under `rdf:type`.
* a relative `@id` that would resolve to another IRI (`base + "a:b"` reads as scheme `a:`,
  `base + "x/../y"` as `base + "y"`): the reference strips the base anyway; here the IRI
  stays absolute.

Integers are native JSON numbers whatever their size, as the reference writes them (and
the crates' tests expect: `tests/unit/test_properties.py`). rdflib and Python read them
back exactly; a JSON-LD 1.1 processor reads one of 10^21 or more as an xsd:double ("object
to RDF conversion"), so for those processors such a value loses its precision.

`dumps_indented` writes a document exactly as `json.dumps(document, indent=2,
ensure_ascii=False)` does, 2-3x faster: with an indent the standard library uses its
pure-Python encoder; this one writes each run of dicts of scalars (a crate's round values,
the `{"@id": …}` references of a list) in one call of the C encoder.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from functools import lru_cache
from json.encoder import encode_basestring as _encode
from typing import Any

from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.plugins.serializers.jsonld import PLAIN_LITERAL_TYPES
from rdflib.plugins.shared.jsonld.context import UNDEF, Context
from rdflib.plugins.stores.memory import SimpleMemory
from rdflib.term import Node

from fedcrate.rdf.entities import XSD_DOUBLE, XSD_INTEGER, CrateStore
from fedcrate.rdf.namespaces import XSD

__all__ = ["compact_nodes", "dumps_indented", "relative_id"]

_METADATA_ID = "ro-crate-metadata.json"
_ROOT_ID = "./"

# The datatypes the reference writes as native JSON values: the installed rdflib's choice
# (`PLAIN_LITERAL_TYPES`), each with the check that its JSON value gives the literal back.
# Keyed by the IRI's text: a plain `str` key is found without rdflib's Python-level `__eq__`.
_KINDS = {str(XSD.boolean): "boolean", str(XSD.integer): "integer", str(XSD.double): "double"}
_KINDS[str(XSD.string)] = "string"
_NATIVE_KIND: dict[str, str] = {str(t): _KINDS.get(str(t), "unknown") for t in PLAIN_LITERAL_TYPES}
# Doubles and integers are written natively by the reference (checked, not assumed).
_INLINE_DOUBLE = XSD_DOUBLE if str(XSD_DOUBLE) in _NATIVE_KIND else None
_INLINE_INTEGER = XSD_INTEGER if str(XSD_INTEGER) in _NATIVE_KIND else None


def _plain_context(context: Context) -> bool:
    """Whether every term of `context` is a plain IRI mapping (see the module docstring)."""
    if context.language or context.vocab or context.base or context._alias:
        return False
    return all(
        term.type is UNDEF
        and not term.container
        and term.language is UNDEF
        and not term.reverse
        and term.context is UNDEF
        for term in context.terms.values()
    )


class _Compactor:
    """The decisions of one compaction context, each made once and kept.

    Keys per predicate and symbols per datatype or class are few (a vocabulary's worth)
    and independent of the crate; entity IRIs are not, and are never kept here.
    """

    _MAX_KEPT = 50_000  # a bound for processes that see arbitrary vocabularies

    def __init__(self, context: Context) -> None:
        self.context = context
        self.usable = _plain_context(context)
        self.keys: dict[Node, tuple[str, bool]] = {}
        self.symbols: dict[Node, str] = {}

    def key(self, predicate: Node) -> tuple[str, bool]:
        """(the key of `predicate`, whether its IRI objects are written as `@type` values)."""
        found = self.keys.get(predicate)
        if found is None:
            if len(self.keys) > self._MAX_KEPT:
                self.keys.clear()
            context = self.context
            term = context.find_term(str(predicate))
            if term is not None:
                found = (term.name, False)
            elif predicate == RDF.type:
                found = (context.type_key, True)
            else:
                found = (str(context.to_symbol(str(predicate))), False)
            self.keys[predicate] = found
        return found

    def symbol(self, iri: Node) -> str:
        """A class or datatype IRI as the context writes it: a term, a compact or full IRI."""
        found = self.symbols.get(iri)
        if found is None:
            if len(self.symbols) > self._MAX_KEPT:
                self.symbols.clear()
            found = self.symbols[iri] = str(self.context.to_symbol(str(iri)))
        return found


@lru_cache(maxsize=8)
def _compactor(context: Context) -> _Compactor:
    # Keyed by the context object (identity); jsonld.py processes its context once.
    return _Compactor(context)


def relative_id(iri: str, base: str) -> str:
    """`iri` relative to `base` when that reference resolves back to `iri`, else `iri`.

    `./` for the base itself, `#fl-run`, `final_model.npz`, `code/strategy.py`. A reference
    whose first segment holds a `:` (it would read as a scheme), that starts with `/`, or
    that has a `.` or `..` segment (resolution removes them) stays absolute.
    """
    if not iri.startswith(base):
        return iri
    rest = iri[len(base) :]
    if not rest:
        return _ROOT_ID
    if rest[0] == "#" or rest[0] == "?":
        return rest
    path = rest.split("#", 1)[0].split("?", 1)[0]
    segments = path.split("/")
    if rest[0] == "/" or ":" in segments[0] or "." in segments or ".." in segments:
        return iri
    return rest


def _node_order(node: dict[str, Any]) -> tuple[int, str]:
    # Descriptor first, root second (RO-Crate convention), then by `@id`: the reference's.
    node_id = str(node.get("@id", ""))
    return (0 if node_id == _METADATA_ID else 1 if node_id == _ROOT_ID else 2, node_id)


_SubjectIndex = dict[Node, dict[Node, Iterable[Node]]]


def _subject_index(graph: Graph) -> _SubjectIndex:
    """subject → predicate → objects, in the order the reference reads them.

    The reference reads `graph.predicate_objects(s)` subject by subject. A SimpleMemory
    store (and `entities.CrateStore`, the SimpleMemory of every graph fedcrate builds) keeps
    exactly that order in its subject index, which is read directly: ten times faster than
    `graph.triples`, whose generators cost more than everything else done per triple here.
    Other stores (and a SimpleMemory whose private index is not where rdflib 7 keeps it)
    are read per subject.
    """
    store = graph.store
    if type(store) is SimpleMemory or type(store) is CrateStore:
        spo = getattr(store, "_SimpleMemory__spo", None)
        if isinstance(spo, dict):
            return spo
    index: dict[Node, dict[Node, list[Node]]] = {}
    for subject in set(graph.subjects()):
        by_predicate: dict[Node, list[Node]] = {}
        index[subject] = by_predicate
        for predicate, obj in graph.predicate_objects(subject):
            by_predicate.setdefault(predicate, []).append(obj)
    return index  # type: ignore[return-value]


def compact_nodes(graph: Graph, base: str, context: Context) -> list[dict[str, Any]] | None:
    """The flattened, compacted nodes of `graph` (sorted as the reference sorts them).

    None when the reference must do it: `context` has non-plain terms, the graph holds RDF
    lists (`rdf:first`), or it is a dataset of several graphs.
    """
    compactor = _compactor(context)
    if not compactor.usable or graph.context_aware or (None, RDF.first, None) in graph:
        return None
    shrink = context.shrink_iri
    # An IRI under `base` is never shortened to a compact IRI unless a prefix lives there.
    base_prefixed = any(str(ns).startswith(base) for ns in context._prefixes)
    key_of, symbol, native_kinds = compactor.key, compactor.symbol, _NATIVE_KIND
    keys_get, symbols_get, inf = compactor.keys.get, compactor.symbols.get, math.inf
    ids: dict[Node, str] = {}

    in_document = base + "#"  # `#fl-run`, `#round-…`: a fragment of the base, as it is
    cut = len(base)

    def node_id(term: Node) -> str:
        found = ids.get(term)
        if found is None:
            text = str(term)
            if type(term) is URIRef and not base_prefixed and text.startswith(in_document):
                found = text[cut:]
            elif isinstance(term, BNode):
                found = term.n3()
            elif not base_prefixed and text.startswith(base):
                found = relative_id(text, base)
            else:
                found = relative_id(str(shrink(text)), base)
            ids[term] = found
        return found

    def typed(literal: Literal, datatype: Node) -> dict[str, Any]:
        return {"@type": symbol(datatype), "@value": str(literal)}

    def literal_value(literal: Literal) -> Any:
        datatype = literal.datatype
        if datatype is None:
            language = literal.language
            if language is None:
                return str(literal)
            return {"@language": language, "@value": str(literal)}
        kind = native_kinds.get(str(datatype))
        if kind is None:
            return typed(literal, datatype)
        value = literal.value
        lexical = str(literal)
        value_type = type(value)
        if kind == "double":
            ok = value_type is float and math.isfinite(value) and repr(value) == lexical
        elif kind == "integer":
            ok = value_type is int and str(value) == lexical
        elif kind == "boolean":
            ok = value_type is bool and lexical == ("true" if value else "false")
        elif kind == "string":  # as the reference: a plain string (the same RDF 1.1 literal)
            ok = isinstance(value, str)
        else:  # a native type of a later rdflib: its typed form is lossless
            ok = False
        return value if ok else typed(literal, datatype)

    def value_of(obj: Node) -> Any:
        if isinstance(obj, URIRef):
            return {"@id": node_id(obj)}
        if isinstance(obj, Literal):
            return literal_value(obj)
        if isinstance(obj, BNode):
            if obj not in nodes:  # as the reference: every blank node gets a node
                nodes[obj] = {"@id": node_id(obj)}
            return {"@id": node_id(obj)}
        raise _NotWritable

    nodes: dict[Node, dict[str, Any]] = {}
    try:
        for subject, by_predicate in _subject_index(graph).items():
            node: dict[str, Any] | None = None  # made at its first value: a store may keep
            for predicate, objects in by_predicate.items():  # empty entries after removals
                key, type_values = keys_get(predicate) or key_of(predicate)
                for obj in objects:
                    obj_type = type(obj)
                    item_key = key
                    value: Any
                    if obj_type is URIRef:  # the frequent cases inline
                        if type_values:
                            value = symbols_get(obj) or symbol(obj)
                        else:
                            value = {"@id": ids.get(obj) or node_id(obj)}
                    elif obj_type is Literal and not type_values:
                        # A double or an integer made from a Python number (every value
                        # and round of a crate) inline; everything else `literal_value`.
                        # One whose datatype is the very object `number_literal` gives its
                        # literals was made by it: its lexical form is the number's text.
                        literal: Literal = obj  # type: ignore[assignment]
                        datatype = literal.datatype
                        number = literal.value
                        number_type = type(number)
                        if number_type is float and -inf < number < inf:
                            made_here = datatype is XSD_DOUBLE and _INLINE_DOUBLE is not None
                            if made_here or (
                                datatype == _INLINE_DOUBLE and str(literal) == repr(number)
                            ):
                                value = number
                            else:
                                value = literal_value(literal)
                        elif number_type is int:
                            made_here = datatype is XSD_INTEGER and _INLINE_INTEGER is not None
                            if made_here or (
                                datatype == _INLINE_INTEGER and str(literal) == str(number)
                            ):
                                value = number
                            else:
                                value = literal_value(literal)
                        else:
                            value = literal_value(literal)
                    elif type_values and not isinstance(obj, URIRef):
                        value, item_key = value_of(obj), symbol(predicate)
                    else:
                        value = symbol(obj) if type_values else value_of(obj)
                    if node is None:
                        node = nodes.get(subject)
                        if node is None:
                            if type(subject) is not URIRef and not _identified(subject):
                                return None  # a literal subject: the reference drops it
                            node = nodes[subject] = {"@id": node_id(subject)}
                    existing = node.get(item_key, _MISSING)
                    if existing is _MISSING:
                        node[item_key] = value
                    elif type(existing) is list:
                        existing.append(value)
                    else:
                        node[item_key] = [existing, value]
    except _NotWritable:
        return None  # a variable or a quoted graph: not RDF a crate holds
    result = list(nodes.values())
    result.sort(key=_node_order)
    return result


def _identified(term: Node) -> bool:
    return isinstance(term, (URIRef, BNode))


class _NotWritable(Exception):
    """A term that is neither an IRI, a blank node nor a literal."""


_MISSING: Any = object()


def _float_text(value: float) -> str:
    # json.encoder's floatstr with allow_nan=True
    if value != value:
        return "NaN"
    if value == math.inf:
        return "Infinity"
    if value == -math.inf:
        return "-Infinity"
    return float.__repr__(value)


def dumps_indented(document: Any) -> str:
    """`json.dumps(document, indent=2, ensure_ascii=False)`, the same text, faster.

    Handles what JSON-LD documents hold: dicts with string keys, lists and tuples, strings,
    ints, floats, booleans and None. Anything else raises TypeError, as json.dumps would.
    With an indent, json.dumps uses its pure-Python encoder; this one writes a scalar, and
    an `{"@id": …}` reference (most values of a crate), in one step each.
    """
    chunks: list[str] = []
    _write(document, "\n", chunks.append)
    return "".join(chunks)


def _scalar(value: Any) -> str | None:
    """The JSON text of a scalar, None for a container."""
    kind = type(value)
    if kind is str:
        return _encode(value)
    if kind is float:
        return _float_text(value)
    if kind is int:
        return int.__repr__(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return _encode(value)
    if isinstance(value, (dict, list, tuple)):
        return None
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _float_text(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_SCALARS = frozenset({str, int, float, bool, type(None)})
_STRINGS = frozenset({str})


def _refuse(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_FlatEncoder = Callable[[Any, int], list[str]]


@lru_cache(maxsize=16)
def _flat_encoder(inner: str) -> _FlatEncoder | None:
    """The C encoder with `"," + inner` between items, or None.

    Without an indent json.dumps uses its C encoder, whose item separator can be any text:
    with a newline and the indentation in it, dicts of scalars (every round value of a
    crate) come out as `json.dumps(indent=2)` writes them but for their braces' line
    breaks, which `_flat_run` puts in. None where the interpreter has no C encoder or it
    writes otherwise than json.dumps (then the pure-Python path does it all).
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return None
    probe = [{"a": 'é\n"}', "b": 1, "c": -0.5, "d": math.nan, "e": True, "f": None}] * 2
    try:
        encoder: _FlatEncoder = make(
            None, _refuse, _encode, None, ": ", "," + inner, False, False, True
        )
        text = "".join(encoder(probe, 0))
    except Exception:  # another interpreter's signature: the pure-Python path
        return None
    expected = json.dumps(probe, ensure_ascii=False, separators=("," + inner, ": "))
    return encoder if text == expected else None


def _item_text(item: Any, newline: str) -> str | None:
    """The text of a scalar or an `{"@id": "…"}` reference at `newline`'s depth, else None."""
    kind = type(item)
    if kind is str:
        return _encode(item)
    if kind is dict:
        if len(item) == 1:
            target = item.get("@id")
            if type(target) is str:
                return "{" + newline + '  "@id": ' + _encode(target) + newline + "}"
        return None
    return _scalar(item)


def _write(value: Any, newline: str, emit: Callable[[str], None]) -> None:
    text = _scalar(value)
    if text is not None:
        emit(text)
        return
    inner = newline + "  "
    if isinstance(value, dict):
        if not value:
            emit("{}")
            return
        encoder = _flat_encoder(inner)
        if encoder is not None and _flat(value):
            emit(_flat_run([value], newline, encoder))
            return
        separator = "{" + inner
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"keys must be str, not {type(key).__name__}")
            text = _item_text(item, inner)
            if text is not None:
                emit(separator + _encode(key) + ": " + text)
            else:
                emit(separator + _encode(key) + ": ")
                _write(item, inner, emit)
            separator = "," + inner
        emit(newline + "}")
        return
    if not value:
        emit("[]")
        return
    separator = "[" + inner
    flat_encoder = _flat_encoder(inner + "  ")
    index, count = 0, len(value)
    while index < count:
        item = value[index]
        if flat_encoder is not None and _flat(item):
            end = index + 1
            while end < count and _flat(value[end]):
                end += 1
            emit(separator + _flat_run(value[index:end], inner, flat_encoder))
            index = end
        else:
            text = _item_text(item, inner)
            if text is not None:
                emit(separator + text)
            else:
                emit(separator)
                _write(item, inner, emit)
            index += 1
        separator = "," + inner
    emit(newline + "]")


def _flat(item: Any) -> bool:
    """A non-empty dict of str keys and scalar values (every round value of a crate)."""
    if type(item) is not dict or not item:
        return False
    if len(item) == 1:  # `{"@id": …}`: most list items of a crate
        for key, value in item.items():
            return type(key) is str and type(value) in _SCALARS
    return _SCALARS.issuperset(map(type, item.values())) and _STRINGS.issuperset(map(type, item))


def _flat_run(
    run: list[dict[str, Any]],
    newline: str,
    encoder: _FlatEncoder,
) -> str:
    """Consecutive list items that are flat dicts (`_flat`), as json.dumps(indent=2) writes
    them at `newline`'s depth, in one call of the C encoder.

    The encoder writes `[{k: v<sep>k: v}<sep>{…}]` with `<sep>` = "," + the items' newline
    and indentation. A raw newline occurs in JSON text only in a separator (inside strings
    it is escaped), and a separator followed by `{` only between two of these dicts (keys
    are strings), so `}<sep>{` is exactly where one dict ends and the next begins.
    """
    inner = newline + "  "
    text = "".join(encoder(run, 0))[2:-2]  # without the enclosing `[{` and `}]`
    between = "}," + inner + "{"
    if len(run) > 1:
        text = text.replace(between, newline + "}," + newline + "{" + inner)
    return "{" + inner + text + newline + "}"
