"""Writing (and re-writing) the crate of FEDn packaging and local entry-point runs.

A sequence of `fedcrate fedn run … --crate DIR` calls appends to one crate. Each call
reads the crate's record back (`fedn-record.json`, kept in the crate), adds to it, builds
the whole crate again in a staging folder beside DIR and swaps it in: with Linux's
`renameat2(RENAME_EXCHANGE)` the swap is one atomic step; elsewhere two renames. A lock
file beside DIR serialises concurrent writers of the same crate, so no run is lost.
"""

from __future__ import annotations

import ctypes
import dataclasses
import errno
import json
import os
import shutil
import tempfile
import types
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from rdflib import Graph

from ..crate import describe_file
from ..errors import CrateWriteError, NotACrate
from ..graph import METADATA_FILE, build_fedn_local_graph
from ..jsonld import graph_to_jsonld
from ..namespaces import base_iri
from ..record import FednLocalRecord, PayloadFile

__all__ = [
    "STATE_FILE",
    "StagedCrate",
    "load_local_record",
    "media_type",
    "stage_file",
    "update_local_crate",
]

STATE_FILE = "fedn-record.json"
STATE_SCHEMA = "fedcrate.fedn.local-record/1"
_MEDIA_TYPES = {
    ".npz": "application/octet-stream",
    ".npy": "application/octet-stream",
    ".json": "application/json",
    ".log": "text/plain",
    ".tgz": "application/gzip",
    ".gz": "application/gzip",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
}


def media_type(path: Path) -> str:
    """The media type fedcrate states for a payload file (by its suffix)."""
    return _MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")


@dataclasses.dataclass
class StagedCrate:
    """The staging folder of a crate being (re)built, its record and, once written, its
    final path and graph."""

    folder: Path
    record: FednLocalRecord
    path: Path
    graph: Graph | None = None

    def add_file(
        self, source: Path, crate_path: str, name: str, description: str, role: str
    ) -> PayloadFile:
        """Copy `source` into the crate at `crate_path` (kept if already there, same bytes)."""
        return stage_file(source, self.folder, crate_path, name, description, role)

    def free_path(self, folder: str, file_name: str) -> str:
        """`folder/file_name`, or `folder/N-file_name` when that is taken."""
        candidate = f"{folder}/{file_name}"
        index = 2
        while (self.folder / candidate).exists():
            candidate = f"{folder}/{index}-{file_name}"
            index += 1
        return candidate


def stage_file(
    source: Path, staging: Path, crate_path: str, name: str, description: str, role: str
) -> PayloadFile:
    """Copy a file into the staging folder and describe it (checksum, size, format)."""
    target = staging / crate_path
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        shutil.copyfile(source, target)
    return describe_file(
        target,
        crate_path,
        name=name,
        description=description,
        encoding_format=media_type(target),
        role=role,
    )


# -- the record kept in the crate ----------------------------------------------------------


def _dump(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _dump(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_dump(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _load(kind: Any, value: Any) -> Any:
    if value is None:
        return None
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        # Scalar unions (parameter and metric values) are stored as JSON scalars.
        return _load(options[0], value) if len(options) == 1 else value
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_load(args[0], v) for v in value)
        return tuple(_load(a, v) for a, v in zip(args, value, strict=True))
    if origin is list:
        return [_load(args[0], v) for v in value]
    if kind is datetime:
        return datetime.fromisoformat(value)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        return kind(
            **{
                f.name: _load(hints[f.name], value[f.name])
                for f in dataclasses.fields(kind)
                if f.name in value
            }
        )
    return value


def load_local_record(crate_dir: Path) -> FednLocalRecord:
    """The record a FEDn crate was written from (its `fedn-record.json`)."""
    path = crate_dir / STATE_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotACrate(
            f"{crate_dir}: not a fedcrate FEDn crate (no {STATE_FILE}); pass a new folder or "
            "one written by `fedcrate fedn package` / `fedcrate fedn run`"
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise NotACrate(f"{path}: cannot be read ({exc})") from None
    if document.get("schema") != STATE_SCHEMA:
        raise NotACrate(f"{path}: unknown record format {document.get('schema')!r}")
    record = _load(FednLocalRecord, document["record"])
    assert isinstance(record, FednLocalRecord)
    return record


# -- atomic replacement ----------------------------------------------------------------------

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(
        _AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), ctypes.c_uint(_RENAME_EXCHANGE)
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _swap_in(staging: Path, target: Path) -> None:
    if not target.exists():
        os.rename(staging, target)
        return
    if _exchange(staging, target):
        shutil.rmtree(staging)  # now holds the previous crate
        return
    previous = target.with_name(f".{target.name}.previous-{os.getpid()}")
    os.rename(target, previous)
    os.rename(staging, target)
    shutil.rmtree(previous, ignore_errors=True)


@contextmanager
def _locked(target: Path) -> Iterator[None]:
    lock_path = target.with_name(f".{target.name}.lock")
    with lock_path.open("a") as handle:
        try:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
        except ImportError:  # not POSIX: no cross-process lock
            pass
        yield


@contextmanager
def update_local_crate(crate_dir: Path, new_record: FednLocalRecord) -> Iterator[StagedCrate]:
    """Stage a new version of the crate at `crate_dir`; write and swap it in on exit.

    The record is the crate's own (read back) when it exists, else `new_record`. The body
    adds files (`StagedCrate.add_file`) and facts to `staged.record`; on normal exit the
    graph is built, `ro-crate-metadata.json` written and the folder swapped into place.
    """
    crate_dir = Path(crate_dir).absolute()
    try:
        crate_dir.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CrateWriteError(f"{crate_dir.parent}: cannot create ({exc.strerror})") from None
    with _locked(crate_dir):
        record = load_local_record(crate_dir) if crate_dir.exists() else new_record
        staging = Path(tempfile.mkdtemp(prefix=".ro-crate-staging-", dir=crate_dir.parent))
        try:
            if crate_dir.exists():
                for source in crate_dir.rglob("*"):
                    relative = source.relative_to(crate_dir)
                    if source.is_dir() or relative.as_posix() in (METADATA_FILE, STATE_FILE):
                        continue
                    target = staging / relative
                    target.parent.mkdir(parents=True, exist_ok=True)
                    try:
                        os.link(source, target)  # payload files are never modified in place
                    except OSError:
                        shutil.copy2(source, target)
            staged = StagedCrate(staging, record, crate_dir)
            yield staged
            staged.graph = _finish(staged)
            os.chmod(staging, 0o755)
            _swap_in(staging, crate_dir)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise CrateWriteError(f"{crate_dir}: writing the crate failed ({exc})") from exc
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise


def _finish(staged: StagedCrate) -> Graph:
    record = staged.record
    record.extra_files = []
    state = staged.folder / STATE_FILE
    document = {"schema": STATE_SCHEMA, "record": _dump(record)}
    state.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    record.extra_files = [
        describe_file(
            state,
            STATE_FILE,
            name="fedcrate's record of this crate",
            description=(
                "The facts this crate was built from, as fedcrate keeps them to append later "
                "runs (`fedcrate fedn run … --crate`)."
            ),
            encoding_format="application/json",
            role="record",
        )
    ]
    graph = build_fedn_local_graph(record)
    document = graph_to_jsonld(graph, base_iri(record.run_uuid))
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    (staged.folder / METADATA_FILE).write_text(text, encoding="utf-8")
    return graph
