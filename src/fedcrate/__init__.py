"""Federated-learning runs as FAIR provenance.

capture (framework adapters) → `RunRecord` (plain facts) → `build_graph` (one rdflib
Graph in schema.org + PROV-O + the FL vocabulary) → `write_crate` (RO-Crate 1.2) →
{`validate` (SHACL), `CrateIndex` (SPARQL), views, exports}.
"""

from __future__ import annotations

from fedcrate.capture.flower import FLCrateTracker
from fedcrate.capture.metrics import MetricResolver
from fedcrate.crate.reader import read_crate
from fedcrate.crate.writer import WrittenCrate, write_crate
from fedcrate.errors import (
    CrateWriteError,
    FedcrateError,
    InvalidORCID,
    MetricIRIError,
    NotACrate,
    PyprojectError,
)
from fedcrate.index.store import CrateIndex
from fedcrate.rdf.graph import build_graph
from fedcrate.record.run import RunRecord
from fedcrate.validate.shacl import validate

__all__ = [
    "CrateIndex",
    "CrateWriteError",
    "FLCrateTracker",
    "FedcrateError",
    "InvalidORCID",
    "MetricIRIError",
    "MetricResolver",
    "NotACrate",
    "PyprojectError",
    "RunRecord",
    "WrittenCrate",
    "build_graph",
    "read_crate",
    "validate",
    "write_crate",
]

__version__ = "0.1.0"
