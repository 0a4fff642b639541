"""Facts → RDF: namespaces, the graph of a run (and FEDn's crates), JSON-LD in and out.

`build_graph(record)` is the one way a record becomes a graph; `rdf.fedn` is imported here
so that FEDn's records are built with their own builder wherever the graph is made.
"""

from __future__ import annotations

from fedcrate.rdf.entities import METADATA_FILE, format_time
from fedcrate.rdf.fedn import build_fedn_local_graph
from fedcrate.rdf.graph import build_graph, register_builder

__all__ = [
    "METADATA_FILE",
    "build_fedn_local_graph",
    "build_graph",
    "format_time",
    "register_builder",
]
