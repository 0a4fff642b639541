"""A crate's triples for validation: rdflib's terms, without rdflib's JSON-LD parser's cost.

`fedcrate.read_crate` parses with rdflib's JSON-LD parser, which re-processes the RO-Crate
context and builds a term per occurrence: ~0.5 s for a 100-round crate. Crates are
flattened, compacted documents against one known context, so this module processes that
context once per process (with rdflib's own `Context`, so terms, prefixes and IRI resolution
follow rdflib exactly) and turns each node into triples directly, creating each distinct
term once. Anything outside that shape (embedded nodes, blank nodes, lists, `@reverse`,
scoped contexts, term coercions, `@vocab`) goes through rdflib's parser, so the triples are
always those of `read_crate`: tests/unit/validate/test_reading.py checks both paths on
every corpus crate. (`fedcrate.index.quads` has the same fast path producing N-Triples
text for the index; the two could share one reader in `crate/`.)

Equal terms are one object (`Terms`), seeded with the vocabulary's terms, so the closure
and the indexes compare terms by identity instead of rdflib's Python-level `__eq__`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from rdflib import RDF, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from fedcrate.assets import data_text
from fedcrate.crate.reader import crate_base, read_document
from fedcrate.errors import NotACrate
from fedcrate.rdf.jsonld import (
    _KNOWN_CONTEXTS,
    RO_CRATE_CONTEXT_URL,
    bundled_context,
    jsonld_to_graph,
)
from fedcrate.rdf.namespaces import register_arcp
from fedcrate.validate import cache as prepared_cache

__all__ = ["CrateTriples", "Terms", "read_triples"]

_XSD_DOUBLE = XSD.double  # a namespace attribute is a Python-level lookup: once

Triple = tuple[Node, Node, Node]


class _Unsupported(Exception):
    """The document uses JSON-LD outside the fast path's subset: use rdflib's parser."""


class Terms:
    """One object per distinct RDF term, so equal terms are identical (`is`)."""

    def __init__(self, seed: Iterable[Node] = ()) -> None:
        self.iris: dict[str, URIRef] = {}
        self.nodes: dict[Node, Node] = {}
        for term in seed:
            self.intern(term)

    def copy(self) -> Terms:
        twin = Terms()
        twin.iris = dict(self.iris)
        twin.nodes = dict(self.nodes)
        return twin

    def iri(self, text: str) -> URIRef:
        found = self.iris.get(text)
        if found is None:
            found = self.iris[text] = URIRef(text)
            self.nodes[found] = found
        return found

    def intern(self, term: Node) -> Node:
        if type(term) is URIRef:
            return self.iri(str(term))
        found = self.nodes.get(term)
        if found is None:
            found = self.nodes[term] = term
        return found

    def triples(self, triples: Iterable[Triple]) -> list[Triple]:
        intern = self.intern
        return [(intern(s), intern(p), intern(o)) for s, p, o in triples]


class CrateTriples:
    """A crate's triples and where they came from."""

    def __init__(self, source: str, base: str | None, triples: list[Triple]) -> None:
        self.source = source
        self.base = base
        self.triples = triples


@lru_cache(maxsize=16)
def _context(extra_context_json: str) -> Any:
    """The processed RO-Crate context plus a document's plain extra terms.

    Once per process, and kept in the prepared-shapes cache: processing the ~2,900 term
    definitions takes longer than reading a small crate.
    """
    from rdflib.plugins.shared.jsonld import context as jsonld_context
    from rdflib.plugins.shared.jsonld.context import Context

    # rdflib tests term attributes with `is UNDEF`: the sentinel must survive pickling.
    prepared_cache.singleton(jsonld_context.UNDEF, jsonld_context.__name__, "UNDEF")
    sources = [bundled_context(), *json.loads(extra_context_json)]
    bundled = hashlib.sha256(data_text(_KNOWN_CONTEXTS[RO_CRATE_CONTEXT_URL]).encode()).hexdigest()
    key = prepared_cache.cache_key("jsonld-context", bundled, extra_context_json)
    context = prepared_cache.load(key)
    if not isinstance(context, Context):
        context = Context()
        context.load(sources)
        prepared_cache.store(key, context)
    if context.vocab or context.language:
        raise _Unsupported("contexts with @vocab or @language take rdflib's parser")
    return context


def _context_key(document: dict[str, Any]) -> str:
    context = document.get("@context")
    entries = context if isinstance(context, list) else [context]
    extras: list[dict[str, str]] = []
    known = False
    for entry in entries:
        if isinstance(entry, str) and entry in _KNOWN_CONTEXTS and not known:
            known = True
        elif isinstance(entry, dict) and all(
            isinstance(k, str) and not k.startswith("@") and isinstance(v, str)
            for k, v in entry.items()
        ):
            extras.append(entry)
        else:
            raise _Unsupported("the context is not the RO-Crate context plus plain terms")
    if not known:
        raise _Unsupported("the document does not use the RO-Crate context")
    return json.dumps(extras, sort_keys=True)


class _Document:
    """Converts one document's nodes, resolving each key, id and type once."""

    def __init__(self, context: Any, base: str, terms: Terms) -> None:
        from rdflib.plugins.shared.jsonld.context import UNDEF

        self.undef = UNDEF
        self.context = context
        context.base = base
        self.base = base
        self.terms = terms
        self.keys: dict[str, URIRef | None] = {}
        self.ids: dict[str, URIRef] = {}
        self.types: dict[str, URIRef] = {}
        self.values: dict[tuple[type, str], Literal] = {}

    def predicate(self, key: str) -> URIRef | None:
        try:
            return self.keys[key]
        except KeyError:
            pass
        term = self.context.terms.get(key)
        if term is not None:
            if term.type is not self.undef or term.container or term.reverse or term.context:
                raise _Unsupported(f"term {key!r} has a coercion or container")
            if term.language is not self.undef:
                raise _Unsupported(f"term {key!r} has a language")
            iri = term.id
        else:
            iri = self.context.expand(key)
        if iri is not None and (iri.startswith("_:") or iri.startswith("@")):
            raise _Unsupported(f"key {key!r} is a keyword alias or blank node")
        result = self.terms.iri(iri) if iri else None
        self.keys[key] = result
        return result

    def node_id(self, value: Any) -> URIRef:
        if not isinstance(value, str):
            raise _Unsupported("non-string @id")
        try:
            return self.ids[value]
        except KeyError:
            pass
        if value.startswith("_:"):
            raise _Unsupported("blank node identifiers")
        if value.startswith("#") and " " not in value:
            iri = self.base + value  # what rdflib's norm_url gives for a fragment
        else:
            iri = self.context.resolve(value)
            if not iri or ":" not in iri:
                raise _Unsupported(f"@id {value!r} does not resolve to an absolute IRI")
        result = self.terms.iri(iri)
        self.ids[value] = result
        return result

    def type_iri(self, value: Any) -> URIRef:
        if not isinstance(value, str):
            raise _Unsupported("non-string @type")
        try:
            return self.types[value]
        except KeyError:
            pass
        iri = self.context.expand(value) or self.context.resolve_iri(value)
        if not iri or iri.startswith("_:"):
            raise _Unsupported(f"@type {value!r}")
        result = self.node_id(iri)  # rdflib resolves the expanded type like an @id
        self.types[value] = result
        return result

    def literal(self, item: Any) -> Literal:
        # As rdflib's parser builds them: a float is an xsd:double, anything else is given
        # to Literal as it is (bool before int: a bool is an int).
        kind = type(item)
        key = (kind, repr(item) if kind is float else str(item))
        found = self.values.get(key)
        if found is None:
            made = Literal(item, datatype=_XSD_DOUBLE) if kind is float else Literal(item)
            found = self.values[key] = self.terms.intern(made)  # type: ignore[assignment]
        return found  # type: ignore[return-value]

    def value(self, item: Any) -> Node | None:
        if isinstance(item, (str, float, bool, int)):
            return self.literal(item)
        if item is None:
            return None
        if isinstance(item, dict):
            if len(item) == 1 and "@id" in item:
                return self.node_id(item["@id"])
            if "@value" in item and set(item) <= {"@value", "@type", "@language"}:
                return self.typed_value(item)
        raise _Unsupported(f"value {str(item)[:60]!r}")

    def typed_value(self, item: dict[str, Any]) -> Node | None:
        value = item["@value"]
        language = item.get("@language")
        datatype = item.get("@type")
        if value is None or isinstance(value, (dict, list)):
            raise _Unsupported("@value that is not a scalar")
        if language:
            if datatype or " " in str(language):
                raise _Unsupported("@language with @type or a space")
            return self.terms.intern(Literal(value, lang=language))
        if datatype:
            if not isinstance(datatype, str) or datatype == "@json":
                raise _Unsupported("@type of a value that is not an IRI")
            return self.terms.intern(Literal(value, datatype=self.context.expand(datatype)))
        return self.terms.intern(Literal(value))

    def triples(self, node: Any) -> Iterator[Triple]:
        if not isinstance(node, dict) or "@id" not in node:
            raise _Unsupported("a node without @id (blank node)")
        subject = self.node_id(node["@id"])
        for key, obj in node.items():
            if key == "@id":
                continue
            items = _flatten(obj)
            if key == "@type":
                for item in items:
                    yield subject, RDF.type, self.type_iri(item)
                continue
            if key.startswith("@"):
                raise _Unsupported(f"keyword {key}")
            predicate = self.predicate(key)
            if predicate is None:
                continue  # JSON-LD drops keys that map to no IRI
            for item in items:
                value = self.value(item)
                if value is not None:
                    yield subject, predicate, value


def _flatten(obj: Any) -> list[Any]:
    if not isinstance(obj, list):
        return [obj]
    out: list[Any] = []
    for item in obj:
        out.extend(_flatten(item))
    return out


def _fast_triples(document: dict[str, Any], base: str, terms: Terms) -> list[Triple]:
    if set(document) - {"@context", "@graph"}:
        raise _Unsupported("top-level keys other than @context and @graph")
    nodes = document["@graph"]
    register_arcp()  # rdflib resolves relative ids with urljoin, which must know arcp://
    converter = _Document(_context(_context_key(document)), base, terms)
    out: list[Triple] = []
    for node in nodes:
        out.extend(converter.triples(node))
    return list(dict.fromkeys(out))  # a graph is a set; keep the document's order


def read_triples(path: Path | str, terms: Terms) -> CrateTriples:
    """The triples `fedcrate.read_crate(path)` gives, as `terms`' objects.

    Raises:
        NotACrate: the path holds no readable JSON-LD crate (the message says why).
    """
    document, metadata = read_document(Path(path))  # a folder, metadata file or zip
    base = crate_base(document, metadata)
    try:
        triples = _fast_triples(document, base, terms)
    except (_Unsupported, ValueError):
        try:
            graph = jsonld_to_graph(document, base)
        except Exception as exc:  # rdflib raises many types for malformed JSON-LD
            raise NotACrate(f"{metadata}: not valid JSON-LD ({exc})") from None
        triples = terms.triples(graph)
    return CrateTriples(str(path), base, triples)
