"""Prepared shapes kept between processes, so a `fedcrate validate` starts in milliseconds.

Preparing a profile's shapes (parsing the Turtle, compiling every shape with pyshacl's
help, analysing every SPARQL query with rdflib's parser, closing the vocabulary) takes a
second or two; a command-line run validates one crate in a fraction of that. The prepared
form is pickled to `$FEDCRATE_CACHE_DIR` (default `$XDG_CACHE_HOME/fedcrate/validate`, else
`~/.cache/fedcrate/validate`), under a key that changes with anything it depends on: the
shapes' and vocabulary's content, the profile and options, the versions of Python,
fedcrate's validation code, rdflib, pyshacl, owlrl and pyoxigraph, and pyshacl's
environment switch for ontology mixing. Every failure is soft: an unwritable or corrupt
cache only costs the preparation again.

The folder is created private (0700) and a file is only loaded from a folder and file that
belong to the user and that no one else can write, since the files are pickles.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import os
import pickle
import sys
import tempfile
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["cache_dir", "cache_key", "load", "singleton", "store"]

ENV_VAR = "FEDCRATE_CACHE_DIR"
_FORMAT = "1"


def cache_dir() -> Path:
    """Where prepared shapes are kept: `$FEDCRATE_CACHE_DIR`, else the XDG cache folder."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME")
    root = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return root / "fedcrate" / "validate"


@cache
def _code_digest() -> str:
    """The validation code itself: a changed compiler must not read an old pickle."""
    digest = hashlib.sha256()
    folder = Path(__file__).parent
    for path in sorted(folder.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


@cache
def _versions() -> tuple[str, ...]:
    """The libraries prepared shapes depend on (looked up once: each lookup scans site-packages)."""
    found = []
    for distribution in ("rdflib", "pyshacl", "owlrl", "pyoxigraph"):
        try:
            found.append(metadata.version(distribution))
        except metadata.PackageNotFoundError:
            found.append("-")
    return tuple(found)


def cache_key(*parts: str) -> str:
    """A file-name-safe key over `parts` and everything prepared shapes depend on."""
    digest = hashlib.sha256()
    for part in (
        _FORMAT,
        sys.version,
        _code_digest(),
        *_versions(),
        os.environ.get("PYSHACL_USE_FULL_MIXIN", ""),
        *parts,
    ):
        digest.update(part.encode("utf-8") + b"\0")
    return digest.hexdigest()[:32]


# Module-level sentinels that code compares by identity (`x is UNDEF`): pickled as a
# reference to the module attribute, so loading gives back the very object.
_SINGLETONS: dict[int, tuple[str, str]] = {}


def singleton(value: Any, module: str, name: str) -> None:
    """Pickle `value` (found as `module.name`) by reference, keeping its identity."""
    _SINGLETONS[id(value)] = (module, name)


def _attribute(module: str, name: str) -> Any:
    return getattr(importlib.import_module(module), name)


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        found = _SINGLETONS.get(id(obj))
        if found is not None and _attribute(*found) is obj:
            return _attribute, found
        return NotImplemented


def _private(path: Path) -> bool:
    """`path` is this user's and nobody else can write it (POSIX): safe to unpickle."""
    if not hasattr(os, "getuid"):
        return True
    info = path.stat()
    return info.st_uid == os.getuid() and not info.st_mode & 0o022


def load(key: str) -> Any | None:
    """The object stored under `key`, or None (missing, unreadable, from another build, or
    in a file or folder someone else could have written)."""
    try:
        path = cache_dir() / f"prepared-{key}.pickle"
        if not (_private(path.parent) and _private(path)):
            return None
        return pickle.loads(path.read_bytes())
    except Exception:  # a missing, truncated or incompatible file: prepare again
        return None


def store(key: str, value: Any) -> None:
    """Keep `value` under `key` if the cache folder is writable; never raises."""
    folder = cache_dir()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        buffer = io.BytesIO()
        _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
        data = buffer.getvalue()
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".prepared-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, folder / f"prepared-{key}.pickle")
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except Exception:  # read-only home, full disk, unpicklable: the cache is optional
        return
