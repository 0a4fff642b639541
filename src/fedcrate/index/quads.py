"""RO-Crate JSON-LD → N-Quads lines, fast, for loading thousands of crates into a store.

rdflib's JSON-LD parser processes the ~2,900-term RO-Crate context and builds rdflib
terms for every crate (~0.5 s for a 100-round crate). Crates are flattened, compacted
documents against one known context, so this module processes that context once (with
rdflib's own `Context`, so terms, prefixes and IRI resolution follow rdflib exactly) and
turns each node into N-Quads text directly. Anything outside that shape (embedded nodes,
blank nodes, lists, `@reverse`, scoped contexts, unknown remote contexts) is handed to
rdflib's parser instead (`fallback_lines`), so the result always equals what
`fedcrate.read_crate` yields; tests/unit/index/test_store.py checks both paths against it.

Each crate's lines carry its PROV-O view too (`index.entailment`), so queries phrased
in PROV-O match crates that state only schema.org.

Every IRI and language tag written here is checked with Oxigraph's own validators (once
per distinct term), so the index can bulk-load the text with `lenient=True` and skip
validating ~17,000 terms per crate a second time.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import RDF, BNode, Literal, URIRef
from rdflib.plugins.shared.jsonld.context import UNDEF, Context
from rdflib.term import Node

from fedcrate.crate.reader import crate_base, load_document
from fedcrate.errors import NotACrate
from fedcrate.index.entailment import Triple, alignment
from fedcrate.rdf.jsonld import _KNOWN_CONTEXTS, bundled_context, jsonld_to_graph
from fedcrate.rdf.namespaces import register_arcp

__all__ = [
    "ParseResult",
    "Unsupported",
    "crate_lines",
    "crate_nquads",
    "fallback_lines",
    "fast_triples",
    "nt_iri",
    "nt_literal",
    "parse_job",
]

ParseResult = tuple[str, str, str] | tuple[str, None, str]
"""(path, graph IRI, N-Triples text), or (path, None, the error) for an unusable crate."""

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
XSD_INTEGER = "<http://www.w3.org/2001/XMLSchema#integer>"
XSD_DOUBLE = "<http://www.w3.org/2001/XMLSchema#double>"
XSD_BOOLEAN = "<http://www.w3.org/2001/XMLSchema#boolean>"
RDF_TYPE = f"<{RDF.type}>"
# Characters N-Triples forbids inside <…>; rdflib accepts them, a SPARQL store does not.
_BAD_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_PLAIN_LABEL = re.compile(r"[A-Za-z0-9]+")
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


class Unsupported(Exception):
    """The document uses JSON-LD the fast path does not handle; use rdflib instead."""


def nt_iri(iri: str) -> str:
    """`<iri>`; raises ValueError for an IRI a SPARQL store would reject."""
    if _BAD_IRI.search(iri):
        raise ValueError(f"{iri!r} is not a valid IRI (space or reserved character)")
    try:
        ox.NamedNode(iri)  # Oxigraph's RFC 3987 check: what its parser would reject
    except ValueError as exc:
        raise ValueError(f"{iri!r} is not a valid IRI ({exc})") from None
    return f"<{iri}>"


def nt_literal(lexical: str, datatype: str | None = None, language: str | None = None) -> str:
    """An N-Triples literal; `datatype` is a bare IRI, xsd:string is left implicit."""
    text = '"' + lexical.translate(_ESCAPES) + '"'
    if language:
        try:
            ox.Literal("", language=language)
        except ValueError as exc:
            raise ValueError(f"{language!r} is not a valid language tag ({exc})") from None
        return f"{text}@{language}"
    if datatype and datatype != XSD_STRING:
        return f"{text}^^{nt_iri(datatype)}"
    return text


def _rdflib_term(node: Node, bnode_prefix: str) -> str:
    if isinstance(node, URIRef):
        return nt_iri(str(node))
    if isinstance(node, BNode):
        # Blank nodes are scoped to one crate: prefix them so two crates never share one.
        # A label from the document may hold characters N-Triples forbids: hash those.
        label = str(node)
        if not _PLAIN_LABEL.fullmatch(label):
            label = hashlib.sha1(label.encode("utf-8")).hexdigest()
        return f"_:{bnode_prefix}{label}"
    if isinstance(node, Literal):
        return nt_literal(str(node), str(node.datatype) if node.datatype else None, node.language)
    raise ValueError(f"unexpected RDF term {node!r}")


# -- the fast path ---------------------------------------------------------------------


class _Resolver:
    """One processed context plus caches; `base` is set per document."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.keys: dict[str, str | None] = {}

    def predicate(self, key: str) -> str | None:
        try:
            return self.keys[key]
        except KeyError:
            pass
        term = self.context.terms.get(key)
        if term is not None:
            if term.type is not UNDEF or term.container or term.reverse or term.context:
                raise Unsupported(f"term {key!r} has a coercion or container")
            if term.language is not UNDEF:
                raise Unsupported(f"term {key!r} has a language")
            iri = term.id
        else:
            iri = self.context.expand(key)
        if iri is not None and (iri.startswith("_:") or iri.startswith("@")):
            raise Unsupported(f"key {key!r} is a keyword alias or blank node")
        result = nt_iri(iri) if iri else None
        self.keys[key] = result
        return result


@lru_cache(maxsize=16)
def _resolver(extra_context_json: str) -> _Resolver:
    """A processed context: the bundled RO-Crate context plus the document's extras."""
    context = Context()
    extras = json.loads(extra_context_json)
    context.load([bundled_context(), *extras])
    if context.vocab or context.language:
        raise Unsupported("contexts with @vocab or @language take the rdflib path")
    return _Resolver(context)


def _context_key(document: dict[str, Any]) -> str:
    """The JSON of the document's inline context entries, after checking the known URL."""
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
            raise Unsupported("the context is not the RO-Crate context plus plain terms")
    if not known:
        raise Unsupported("the document does not use the RO-Crate 1.2 context")
    return json.dumps(extras, sort_keys=True)


class _Document:
    """Converts one document's nodes; caches IRI resolution per document."""

    def __init__(self, resolver: _Resolver, base: str) -> None:
        self.resolver = resolver
        self.context = resolver.context
        self.context.base = base
        self.base = base
        self.ids: dict[str, str] = {}
        self.types: dict[str, str] = {}

    def node_id(self, value: Any) -> str:
        if not isinstance(value, str):
            raise Unsupported("non-string @id")
        try:
            return self.ids[value]
        except KeyError:
            pass
        if value.startswith("_:"):
            raise Unsupported("blank node identifiers")
        if value.startswith("#") and " " not in value:
            iri = self.base + value  # what rdflib's norm_url gives for a fragment
        else:
            iri = self.context.resolve(value)
            if not iri or ":" not in iri:
                raise Unsupported(f"@id {value!r} does not resolve to an absolute IRI")
        result = nt_iri(iri)
        self.ids[value] = result
        return result

    def type_iri(self, value: Any) -> str:
        if not isinstance(value, str):
            raise Unsupported("non-string @type")
        try:
            return self.types[value]
        except KeyError:
            pass
        iri = self.context.expand(value) or self.context.resolve_iri(value)
        if not iri or iri.startswith("_:"):
            raise Unsupported(f"@type {value!r}")
        result = self.node_id(iri)  # rdflib resolves the expanded type like an @id
        self.types[value] = result
        return result

    def value(self, item: Any) -> str | None:
        # Order matters: bool is an int, and rdflib checks float before anything else.
        if isinstance(item, str):
            return nt_literal(item)
        if isinstance(item, float):
            return f'"{item!r}"^^{XSD_DOUBLE}'
        if isinstance(item, bool):
            return f'"{"true" if item else "false"}"^^{XSD_BOOLEAN}'
        if isinstance(item, int):
            return f'"{item}"^^{XSD_INTEGER}'
        if item is None:
            return None
        if isinstance(item, dict):
            if len(item) == 1 and "@id" in item:
                return self.node_id(item["@id"])
            if "@value" in item and set(item) <= {"@value", "@type", "@language"}:
                return self.typed_value(item)
        raise Unsupported(f"value {str(item)[:60]!r}")

    def typed_value(self, item: dict[str, Any]) -> str | None:
        value = item["@value"]
        language = item.get("@language")
        datatype = item.get("@type")
        if value is None or isinstance(value, (dict, list)):
            raise Unsupported("@value that is not a scalar")
        if language:
            if datatype or " " in str(language):
                raise Unsupported("@language with @type or a space")
            literal = Literal(value, lang=language)
        elif datatype:
            if not isinstance(datatype, str) or datatype == "@json":
                raise Unsupported("@type of a value that is not an IRI")
            literal = Literal(value, datatype=self.context.expand(datatype))
        else:
            literal = Literal(value)
        return _rdflib_term(literal, "")

    def triples(self, node: Any) -> Iterator[Triple]:
        if not isinstance(node, dict) or "@id" not in node:
            raise Unsupported("a node without @id (blank node)")
        subject = self.node_id(node["@id"])
        for key, obj in node.items():
            if key == "@id":
                continue
            items = _flatten(obj)
            if key == "@type":
                for item in items:
                    yield subject, RDF_TYPE, self.type_iri(item)
                continue
            if key.startswith("@"):
                raise Unsupported(f"keyword {key}")
            predicate = self.resolver.predicate(key)
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


def fast_triples(document: dict[str, Any], base: str) -> list[Triple]:
    """The document's triples as N-Triples terms; raises `Unsupported` outside the subset."""
    if not isinstance(document, dict) or set(document) - {"@context", "@graph"}:
        raise Unsupported("top-level keys other than @context and @graph")
    nodes = document.get("@graph")
    if not isinstance(nodes, list):
        raise Unsupported("@graph is not a list")
    register_arcp()  # rdflib resolves relative ids with urljoin, which must know arcp://
    converter = _Document(_resolver(_context_key(document)), base)
    out: list[Triple] = []
    for node in nodes:
        out.extend(converter.triples(node))
    return out


def fallback_lines(document: dict[str, Any], base: str, bnode_prefix: str) -> list[Triple]:
    """The document's triples through rdflib's JSON-LD parser (any valid JSON-LD)."""
    register_arcp()
    graph = jsonld_to_graph(document, base)
    return [
        (
            _rdflib_term(s, bnode_prefix),
            _rdflib_term(p, bnode_prefix),
            _rdflib_term(o, bnode_prefix),
        )
        for s, p, o in graph
    ]


def crate_lines(triples: list[Triple], out: list[str]) -> None:
    """Append the N-Triples lines of `triples` plus their PROV-O entailments to `out`.

    Only entailments the crate does not state are written, each once: many of them repeat
    a stated type or each other (a final metric is a `prov:Entity` as a `PropertyValue`
    and as an `fl:FinalMetric`), and every line costs loading time.
    """
    out.extend(f"{s} {p} {o} .\n" for s, p, o in triples)
    stated = set(triples)
    derived = dict.fromkeys(t for t in alignment().entail(triples) if t not in stated)
    out.extend(f"{s} {p} {o} .\n" for s, p, o in derived)


def crate_nquads(metadata: Path) -> tuple[str, str]:
    """(graph IRI, N-Triples text with PROV-O entailments) of one crate.

    Raises:
        NotACrate: the file is not a readable JSON-LD crate (the message names it).
    """
    document = load_document(metadata)
    base = crate_base(document, metadata)
    try:
        try:
            triples = fast_triples(document, base)
        except Unsupported:
            triples = fallback_lines(document, base, bnode_prefix=f"c{abs(hash(base)):x}x")
    except (NotACrate, ValueError, UnicodeError) as exc:
        raise NotACrate(f"{metadata}: not usable JSON-LD ({exc})") from None
    except Exception as exc:  # rdflib raises many types for malformed JSON-LD
        raise NotACrate(f"{metadata}: not valid JSON-LD ({exc})") from None
    lines: list[str] = []
    try:
        crate_lines(triples, lines)
    except ValueError as exc:
        raise NotACrate(f"{metadata}: {exc}; fix the @id or property") from None
    return base, "".join(lines)


def parse_job(metadata: str) -> ParseResult:
    """Worker-process entry: (path, graph, text) or (path, None, error message)."""
    try:
        graph, text = crate_nquads(Path(metadata))
    except NotACrate as exc:
        return metadata, None, str(exc)
    return metadata, graph, text
