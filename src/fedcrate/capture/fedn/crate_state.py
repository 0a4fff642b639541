"""The crate of FEDn packaging and local entry-point runs, appended to call by call.

A sequence of `fedcrate fedn run … --crate DIR` calls appends to one crate. Each call
reads the crate's record back (`fedn-record.json`, kept in the crate), adds to it, and the
crate writer (`fedcrate.crate.writer`) builds the whole crate again beside DIR and swaps
it in atomically under a lock, so no run is lost and a reader never sees half a crate.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rdflib import Graph

from fedcrate.crate.files import copy_and_describe, describe_file
from fedcrate.crate.writer import locked, replace_folder, staging_folder, write_metadata
from fedcrate.errors import NotACrate
from fedcrate.rdf.entities import METADATA_FILE
from fedcrate.rdf.fedn import build_fedn_local_graph
from fedcrate.rdf.namespaces import base_iri
from fedcrate.record.fedn import FednLocalRecord
from fedcrate.record.jsonable import from_jsonable, to_jsonable
from fedcrate.record.run import PayloadFile
from fedcrate.views.preview import PREVIEW_FILE

__all__ = [
    "STATE_FILE",
    "StagedCrate",
    "load_local_record",
    "update_local_crate",
]

STATE_FILE = "fedn-record.json"
STATE_SCHEMA = "fedcrate.fedn.local-record/1"
# Rebuilt from the graph on every write, never carried over from the previous crate.
_REGENERATED = frozenset({METADATA_FILE, STATE_FILE, PREVIEW_FILE})


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
        return copy_and_describe(
            source, self.folder, crate_path, name=name, description=description, role=role
        )

    def free_path(self, folder: str, file_name: str) -> str:
        """`folder/file_name`, or `folder/N-file_name` when that is taken."""
        candidate = f"{folder}/{file_name}"
        index = 2
        while (self.folder / candidate).exists():
            candidate = f"{folder}/{index}-{file_name}"
            index += 1
        return candidate


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
    return from_jsonable(FednLocalRecord, document["record"])


@contextmanager
def update_local_crate(crate_dir: Path, new_record: FednLocalRecord) -> Iterator[StagedCrate]:
    """Stage a new version of the crate at `crate_dir`; write and swap it in on exit.

    The record is the crate's own (read back) when it exists, else `new_record`. The body
    adds files (`StagedCrate.add_file`) and facts to `staged.record`; on normal exit the
    graph is built, `ro-crate-metadata.json` written and the folder swapped into place.
    """
    crate_dir = Path(crate_dir).absolute()
    with locked(crate_dir), staging_folder(crate_dir.parent, crate_dir) as staging:
        record = load_local_record(crate_dir) if crate_dir.exists() else new_record
        if crate_dir.exists():
            _carry_over(crate_dir, staging)
        staged = StagedCrate(staging, record, crate_dir)
        yield staged
        staged.graph = _finish(staged)
        replace_folder(staging, crate_dir)


def _carry_over(crate_dir: Path, staging: Path) -> None:
    """The previous crate's payload files, hard-linked (they are never modified in place)."""
    for source in crate_dir.rglob("*"):
        relative = source.relative_to(crate_dir)
        if source.is_dir() or relative.as_posix() in _REGENERATED:
            continue
        target = staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)


def _finish(staged: StagedCrate) -> Graph:
    record = staged.record
    record.extra_files = []
    state = staged.folder / STATE_FILE
    document = {"schema": STATE_SCHEMA, "record": to_jsonable(record)}
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
    write_metadata(staged.folder, graph, base_iri(record.run_uuid), preview=True)
    return graph
