"""federated-learning runs as FAIR provenance.

capture (framework adapters) → `RunRecord` (plain facts) → `build_graph` (one rdflib
Graph in schema.org + PROV-O + the FL vocabulary) → `write_crate` (RO-Crate 1.2).
"""

from __future__ import annotations

from .capture.flower import FLCrateTracker
from .crate import WrittenCrate, read_crate, write_crate
from .errors import (
    CrateWriteError,
    FedcrateError,
    InvalidORCID,
    MetricIRIError,
    NotACrate,
    PyprojectError,
)
from .graph import build_graph
from .metrics import MetricResolver
from .record import RunRecord

__all__ = [
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
    "write_crate",
]

__version__ = "0.1.0"
