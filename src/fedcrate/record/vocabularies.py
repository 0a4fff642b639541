"""Published vocabularies fedcrate names things with: their namespaces and prefixes.

Plain strings (no rdflib), so adapters resolving metric names and views shortening IRIs
for display share one table of prefixes.
"""

from __future__ import annotations

__all__ = ["BUILTIN_PREFIXES", "MEX_PERF", "STATO", "shorten_iri"]

STATO = "http://purl.obolibrary.org/obo/"
MEX_PERF = "http://mex.aksw.org/mex-perf#"

BUILTIN_PREFIXES: dict[str, str] = {
    "stato": STATO,
    "obo": STATO,
    "mexperf": MEX_PERF,
    "mex-perf": MEX_PERF,
    "mls": "http://www.w3.org/ns/mls#",
    "schema": "http://schema.org/",
    "wd": "http://www.wikidata.org/entity/",
}


def shorten_iri(iri: str) -> str:
    """`stato:STATO_0000415` for display; IRIs outside the built-in prefixes unchanged."""
    best = ""
    for prefix, namespace in BUILTIN_PREFIXES.items():
        if iri.startswith(namespace) and len(namespace) > len(BUILTIN_PREFIXES.get(best, "")):
            best = prefix
    return f"{best}:{iri[len(BUILTIN_PREFIXES[best]) :]}" if best else iri
