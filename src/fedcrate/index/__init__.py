"""SPARQL across many crates: the embedded index, the shipped queries, remote stores.

`CrateIndex(folders)` keeps a persistent pyoxigraph store of the crates under the folders
(their union, with each crate's PROV-O view materialised, `entailment`), refreshed
incrementally (`ledger` keeps what each crate put in, to take it out again); `quads`
turns crates into N-Triples fast, `workers` parses in parallel, `queries` holds the
shipped `.rq` files, `remote` pushes to and queries a SPARQL server, and `results` gives
every engine's answers one plain form.
"""

from __future__ import annotations

from fedcrate.index.queries import NamedQuery, load_named_query, named_queries
from fedcrate.index.results import QueryResult
from fedcrate.index.store import INDEX_FOLDER, CrateIndex, CrateProblem, IndexReport, find_crates

__all__ = [
    "INDEX_FOLDER",
    "CrateIndex",
    "CrateProblem",
    "IndexReport",
    "NamedQuery",
    "QueryResult",
    "find_crates",
    "load_named_query",
    "named_queries",
]
