"""Every error fedcrate shows its user: one base class, one exit code each.

Every message says what is wrong, where, and how to fix it. The CLI has one handler
(`fedcrate.cli.app.main`) that prints the message on one line and exits with the type's
`exit_code`: 1 the data is wrong, 2 the input or the environment is unusable. Library
callers catch `FedcrateError` (or a specific type); each also subclasses the built-in
exception it refines (`ValueError`, `OSError`, …), so older `except` clauses still match.
"""

from __future__ import annotations

__all__ = [
    "BrokenInstallation",
    "CrateWriteError",
    "DemoError",
    "EndpointError",
    "FedcrateError",
    "FednNotFound",
    "FednProjectError",
    "FednSessionError",
    "InvalidORCID",
    "MetricIRIError",
    "MissingExtra",
    "MlflowMissing",
    "NotACrate",
    "PyprojectError",
    "QueryError",
    "RemoteContextError",
]


class FedcrateError(Exception):
    """Base class: a problem fedcrate can explain to its user."""

    exit_code = 2


# -- the data is wrong (exit 1) --------------------------------------------------------


class InvalidORCID(FedcrateError, ValueError):
    """An ORCID iD is malformed or its ISO 7064 check digit does not match."""

    exit_code = 1


class MetricIRIError(FedcrateError, ValueError):
    """A metric-IRI mapping value is neither an absolute IRI nor a known CURIE."""

    exit_code = 1


class DemoError(FedcrateError, RuntimeError):
    """The demo could not produce a crate; the message carries Flower's output tail."""

    exit_code = 1


# -- the input or the environment is unusable (exit 2) ---------------------------------


class PyprojectError(FedcrateError, ValueError):
    """The app's pyproject.toml cannot be read or parsed."""


class NotACrate(FedcrateError, ValueError):
    """A path that should hold an RO-Crate does not (or its metadata file is unreadable)."""


class RemoteContextError(FedcrateError, ValueError):
    """A document names a JSON-LD context fedcrate has no bundled copy of.

    Crates are read offline: fetching a context a crate names would let a crate make its
    reader send requests (to internal hosts too) or read local files (`file:` URLs).
    """


class CrateWriteError(FedcrateError, OSError):
    """The crate folder could not be written (permissions, disk, name collisions)."""


class QueryError(FedcrateError, ValueError):
    """A SPARQL query is invalid or cannot be run (syntax error, unknown name, bad param)."""


class EndpointError(FedcrateError, OSError):
    """A remote SPARQL endpoint or graph store refused a request or cannot be reached."""


class FednProjectError(FedcrateError):
    """A folder is not a usable FEDn compute package (no or malformed `fedn.yaml`)."""


class FednNotFound(FedcrateError):
    """No `fedn` executable: FEDn is not installed where fedcrate can find it."""


class FednSessionError(FedcrateError):
    """A FEDn session cannot be read or is not finished."""


class BrokenInstallation(FedcrateError, FileNotFoundError):
    """A data file fedcrate ships (shapes, vocabulary, queries) is missing: reinstall."""


class MissingExtra(FedcrateError, ImportError):
    """An optional extra is not installed; the message names the `pip install` to run."""


class MlflowMissing(MissingExtra):
    """mlflow is not installed (the `mlflow` extra)."""
