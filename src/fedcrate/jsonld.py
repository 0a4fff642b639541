"""Graph ↔ RO-Crate JSON-LD, offline.

rdflib does the JSON-LD work; this module only supplies the bundled RO-Crate 1.2 context
(so nothing fetches https://w3id.org at run time), processes it once per process, and
turns the crate's absolute IRIs into the relative `@id`s RO-Crate uses (`./`, `#fl-run`,
`final_model.npz`).
"""

from __future__ import annotations

import json
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from rdflib import RDF, Graph
from rdflib.plugins.serializers.jsonld import Converter
from rdflib.plugins.shared.jsonld.context import Context

from .namespaces import FL, PROV, XSD, register_arcp

__all__ = [
    "LOCAL_CONTEXT",
    "RO_CRATE_CONTEXT_URL",
    "bundled_context",
    "graph_to_jsonld",
    "jsonld_to_graph",
]

RO_CRATE_CONTEXT_URL = "https://w3id.org/ro/crate/1.2/context"
# Terms beyond the RO-Crate context: RO-Crate allows extending it with prefixes.
LOCAL_CONTEXT: dict[str, str] = {"prov": str(PROV), "fl": str(FL), "xsd": str(XSD)}
_KNOWN_CONTEXTS = {
    RO_CRATE_CONTEXT_URL: "ro-crate-1.2-context.jsonld",
    "https://w3id.org/ro/crate/1.2/context/": "ro-crate-1.2-context.jsonld",
}


@cache
def _context_document(filename: str) -> dict[str, Any]:
    text = resources.files("fedcrate").joinpath("data", filename).read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
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


def graph_to_jsonld(graph: Graph, base: str) -> dict[str, Any]:
    """A flattened, compacted RO-Crate document for `graph` whose entities live under `base`."""
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


def _inline_known_contexts(context: Any) -> Any:
    if isinstance(context, str) and context in _KNOWN_CONTEXTS:
        return bundled_context(context)
    if isinstance(context, list):
        return [_inline_known_contexts(item) for item in context]
    return context


def jsonld_to_graph(document: dict[str, Any], base: str) -> Graph:
    """Parse an RO-Crate document, resolving relative `@id`s against `base`.

    Known context URLs are replaced by their bundled copies first, so parsing needs no
    network; unknown remote contexts are left to rdflib (and fail offline).
    """
    register_arcp()
    offline = dict(document)
    offline["@context"] = _inline_known_contexts(document.get("@context"))
    graph = Graph(bind_namespaces="none")
    graph.parse(data=json.dumps(offline), format="json-ld", base=base)
    return graph
