"""One exception type per kind of user mistake.

Every message says what is wrong, where, and how to fix it; the CLI maps each type to one
line on stderr and an exit code (1: the data is wrong, 2: the input is unusable).
"""

from __future__ import annotations

__all__ = [
    "CrateWriteError",
    "EndpointError",
    "FedcrateError",
    "InvalidORCID",
    "MetricIRIError",
    "NotACrate",
    "PyprojectError",
    "QueryError",
]


class FedcrateError(Exception):
    """Base class: a problem fedcrate can explain to its user."""

    exit_code = 2


class InvalidORCID(FedcrateError, ValueError):
    """An ORCID iD is malformed or its ISO 7064 check digit does not match."""

    exit_code = 1


class MetricIRIError(FedcrateError, ValueError):
    """A metric-IRI mapping value is neither an absolute IRI nor a known CURIE."""

    exit_code = 1


class PyprojectError(FedcrateError, ValueError):
    """The app's pyproject.toml cannot be read or parsed."""

    exit_code = 2


class NotACrate(FedcrateError, ValueError):
    """A path that should hold an RO-Crate does not (or its metadata file is unreadable)."""

    exit_code = 2


class CrateWriteError(FedcrateError, OSError):
    """The crate folder could not be written (permissions, disk, name collisions)."""

    exit_code = 2


class QueryError(FedcrateError, ValueError):
    """A SPARQL query is invalid or cannot be run (syntax error, unknown name, bad param)."""

    exit_code = 2


class EndpointError(FedcrateError, OSError):
    """A remote SPARQL endpoint or graph store refused a request or cannot be reached."""

    exit_code = 2
