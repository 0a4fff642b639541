"""Graph ↔ RO-Crate JSON-LD, offline.

Reading is rdflib's JSON-LD parser. Writing is `jsonld_fast.compact_nodes`, which makes
rdflib's own term choices once per predicate and datatype and emits the document in one
pass (rdflib's serializer took most of the time a crate takes to write); rdflib's
serializer stays as the reference (`graph_to_jsonld_reference`), which the tests compare
against and which writes the graphs the fast path does not take (RDF lists). This module
supplies the bundled RO-Crate 1.2 context (so nothing fetches https://w3id.org at run
time), processes it once per process, and turns the crate's absolute IRIs into the
relative `@id`s RO-Crate uses (`./`, `#fl-run`, `final_model.npz`).
"""

from __future__ import annotations

import json
from functools import cache, lru_cache
from typing import Any

from rdflib import RDF, Graph
from rdflib.plugins.serializers.jsonld import Converter
from rdflib.plugins.shared.jsonld.context import Context

from fedcrate.assets import data_text
from fedcrate.errors import RemoteContextError
from fedcrate.rdf.jsonld_fast import compact_nodes
from fedcrate.rdf.namespaces import FL, PROV, XSD, register_arcp

__all__ = [
    "LOCAL_CONTEXT",
    "RO_CRATE_CONTEXT_URL",
    "bundled_context",
    "graph_to_jsonld",
    "graph_to_jsonld_reference",
    "jsonld_to_graph",
]

RO_CRATE_CONTEXT_URL = "https://w3id.org/ro/crate/1.2/context"
# Terms beyond the RO-Crate context: RO-Crate allows extending it with prefixes.
LOCAL_CONTEXT: dict[str, str] = {"prov": str(PROV), "fl": str(FL), "xsd": str(XSD)}
# RO-Crate contexts are read from the bundled 1.2 copy, never fetched. Crates written for
# 1.1 (most tools until 2025) and for the 1.3 draft (ro-crate-py 0.15, so flwrCrate 0.4)
# are read with the 1.2 terms too: between versions the context only gained terms, so every
# term such a crate shares with 1.2 gets the same IRI; a term only 1.3 defines is not
# understood (as offline JSON-LD processing would treat any undefined term).
_KNOWN_CONTEXTS = {
    f"https://w3id.org/ro/crate/{version}/context{slash}": "ro-crate-1.2-context.jsonld"
    for version in ("1.1", "1.2", "1.3")
    for slash in ("", "/")
}


@cache
def _context_document(filename: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(data_text(filename))
    return document


def bundled_context(url: str = RO_CRATE_CONTEXT_URL) -> dict[str, Any]:
    """The term definitions of a known context URL, from the copy shipped in the package."""
    try:
        filename = _KNOWN_CONTEXTS[url]
    except KeyError:
        raise KeyError(f"no bundled copy of the JSON-LD context {url}") from None
    context: dict[str, Any] = _context_document(filename)["@context"]
    return context


@lru_cache(maxsize=1)
def _compaction_context() -> Context:
    # Processing ~2,900 term definitions takes milliseconds; do it once per process.
    return Context([bundled_context(), LOCAL_CONTEXT])


class _FlatGraphConverter(Converter):
    """rdflib's converter, minus the RDF-list probe it runs for every object.

    Crate graphs hold no RDF lists; skipping the probe roughly halves serialisation time.
    Only used after checking the graph has no `rdf:first`.
    """

    def to_collection(self, graph: Graph, l_: Any) -> None:
        return None


def _relativize(value: Any, base: str) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "@id" and isinstance(item, str) and item.startswith(base):
                out[key] = item[len(base) :] or "./"
            else:
                out[key] = _relativize(item, base)
        return out
    if isinstance(value, list):
        return [_relativize(item, base) for item in value]
    return value


def _node_order(base_relative_id: str) -> tuple[int, str]:
    # Descriptor first, root second (RO-Crate convention), then a stable order.
    first = {"ro-crate-metadata.json": 0, "./": 1}
    return (first.get(base_relative_id, 2), base_relative_id)


def graph_to_jsonld(graph: Graph, base: str, *, fast: bool = True) -> dict[str, Any]:
    """A flattened, compacted RO-Crate document for `graph` whose entities live under `base`.

    `fast` (the default) writes it with `jsonld_fast.compact_nodes`, the reference's
    document but for the cases its docstring lists, where the reference loses a triple;
    `fast=False`, or a graph the fast path does not take, uses rdflib's serializer.
    """
    if fast:
        nodes = compact_nodes(graph, base, _compaction_context())
        if nodes is not None:
            return {"@context": [RO_CRATE_CONTEXT_URL, LOCAL_CONTEXT], "@graph": nodes}
    return graph_to_jsonld_reference(graph, base)


def graph_to_jsonld_reference(graph: Graph, base: str) -> dict[str, Any]:
    """`graph_to_jsonld` by rdflib's JSON-LD serializer: the reference implementation."""
    has_lists = (None, RDF.first, None) in graph
    converter_class = Converter if has_lists else _FlatGraphConverter
    converter = converter_class(_compaction_context(), use_native_types=True, use_rdf_type=False)
    converted = converter.convert(graph)
    if isinstance(converted, dict) and "@graph" in converted:
        nodes = converted["@graph"]
    elif isinstance(converted, dict):
        nodes = [converted] if converted else []
    else:
        nodes = list(converted)
    nodes = [_relativize(node, base) for node in nodes]
    nodes.sort(key=lambda node: _node_order(str(node.get("@id", ""))))
    return {"@context": [RO_CRATE_CONTEXT_URL, LOCAL_CONTEXT], "@graph": nodes}


def _offline_context(context: Any) -> Any:
    """`context` with known context URLs inlined; raises for any other reference."""
    if context is None:
        return None
    if isinstance(context, str):
        if context in _KNOWN_CONTEXTS:
            return bundled_context(context)
        raise RemoteContextError(
            f"the JSON-LD context {context[:200]!r} is not fetched (crates are read "
            f"offline; the only bundled context is {RO_CRATE_CONTEXT_URL}); inline its terms"
        )
    if isinstance(context, list):
        return [_offline_context(item) for item in context]
    if isinstance(context, dict):
        if "@import" in context:
            raise RemoteContextError("`@import` in a JSON-LD context is not fetched; inline it")
        # Term definitions may carry scoped contexts of their own.
        return {key: _offline_nested(value) for key, value in context.items()}
    return context  # not a context at all: rdflib reports it


def _offline_nested(value: Any) -> Any:
    """A copy of `value` whose every `@context` is offline (see `_offline_context`).

    Iterative, so a deeply nested document cannot exhaust the interpreter's stack.
    """
    root: list[Any] = [value]
    stack: list[tuple[Any, Any, Any]] = [(root, 0, value)]  # (parent, key, item)
    while stack:
        parent, key, item = stack.pop()
        if isinstance(item, dict):
            copy: dict[Any, Any] = {}
            parent[key] = copy
            for name, child in item.items():
                if name == "@context":
                    copy[name] = _offline_context(child)
                else:
                    copy[name] = child
                    stack.append((copy, name, child))
        elif isinstance(item, list):
            items: list[Any] = list(item)
            parent[key] = items
            stack.extend((items, index, child) for index, child in enumerate(item))
    return root[0]


def jsonld_to_graph(document: dict[str, Any], base: str) -> Graph:
    """Parse an RO-Crate document, resolving relative `@id`s against `base`.

    Known context URLs (at the top, in nodes or scoped in term definitions) are replaced
    by their bundled copies first, so parsing needs no network. Any other context
    reference raises `RemoteContextError`: nothing is ever fetched or read from disk.
    """
    register_arcp()
    offline = dict(document)
    offline["@context"] = _offline_context(document.get("@context"))
    body = {key: value for key, value in document.items() if key != "@context"}
    text = json.dumps(offline)
    # `"@context"` occurs in the text as a key (or a value equal to it): the top-level one
    # is counted once; walk the nodes only when there may be more.
    if text.count('"@context"') > ("@context" in document) or '"@import"' in text:
        offline.update(_offline_nested(body))
        text = json.dumps(offline)
    graph = Graph(bind_namespaces="none")
    graph.parse(data=text, format="json-ld", base=base)
    return graph
