"""What each crate put into the embedded index, so it can be taken out again exactly.

The index keeps every crate's triples in the store's one default graph (their RDF merge):
a quad in a named graph costs Oxigraph six index entries, a default-graph triple three,
and the per-crate named graphs of the first design made the index 8x the crates' JSON
and loading 3x slower (benchmarks/bench_sparql.py). Without a graph per crate, the store
alone cannot say which triples to remove when a crate changes or goes, so the ledger
keeps, per crate:

* the exact N-Triples text it loaded, zlib-compressed (`crates/<sha1 of graph>.nt.z`,
  ~0.17x the crate's JSON), read back only to remove or to repair;
* a count, per triple whose subject is not one of the crate's own IRIs (side terms,
  licences, people, datasets, software: the few triples many crates state), of the crates
  that state it, so a triple leaves the store only with the last crate that states it.

A crate's own triples (subject under its base IRI, or one of its blank nodes, which the
parser labels per crate) are stated by no other crate — two crates with the same base are
refused as a conflict — so they need no count.

`manifest.json` holds the crates' file stamps (path → mtime, size, graph IRI) and the
counts; it is marked dirty while a refresh changes the store, and a dirty one makes the
next refresh rebuild the store from the ledger's texts (`CrateIndex._repair`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Ledger", "own_line"]

MANIFEST_VERSION = 2
_SIDECARS = "crates"


def own_line(line: str, graph: str) -> bool:
    """Whether an N-Triples line is about one of the crate's own terms (never shared)."""
    return line.startswith("_:") or line.startswith("<" + graph)


@dataclass
class Ledger:
    """The manifest (file stamps, shared-triple counts) and the per-crate texts."""

    folder: Path
    crates: dict[str, dict[str, Any]] = field(default_factory=dict)
    shared: dict[str, int] = field(default_factory=dict)
    clean: bool = True

    # -- the manifest -------------------------------------------------------------------

    @property
    def manifest_path(self) -> Path:
        return self.folder / "manifest.json"

    @classmethod
    def read(cls, folder: Path, *, store_is_empty: Callable[[], bool]) -> Ledger:
        """The ledger in `folder`; a missing or unreadable manifest is clean only for an
        empty store (otherwise the store holds crates nobody knows how to take out)."""
        try:
            data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
        if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
            return cls(folder, clean=store_is_empty())
        crates = data.get("crates")
        shared = data.get("shared")
        return cls(
            folder,
            crates if isinstance(crates, dict) else {},
            shared if isinstance(shared, dict) else {},
            clean=data.get("clean") is True,
        )

    def write(self, *, clean: bool = True) -> None:
        """Replace the manifest atomically (a reader sees the old one or the new one)."""
        self.clean = clean
        text = json.dumps(
            {
                "version": MANIFEST_VERSION,
                "clean": clean,
                "crates": self.crates,
                "shared": self.shared,
            },
            sort_keys=True,
        )
        handle, temp = tempfile.mkstemp(dir=self.folder, prefix=".manifest-")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temp, self.manifest_path)

    def __post_init__(self) -> None:
        self._keys: dict[str, set[str]] = {}  # graph IRI → the crate files naming it
        for key, entry in self.crates.items():
            self._keys.setdefault(entry["graph"], set()).add(key)

    def add(self, key: str, entry: dict[str, Any]) -> None:
        """Note crate file `key` (its stamps and graph IRI)."""
        self.crates[key] = entry
        self._keys.setdefault(entry["graph"], set()).add(key)

    def pop(self, key: str) -> dict[str, Any] | None:
        """Forget crate file `key`; its entry, or None."""
        entry = self.crates.pop(key, None)
        if entry is not None:
            keys = self._keys.get(entry["graph"], set())
            keys.discard(key)
            if not keys:
                self._keys.pop(entry["graph"], None)
        return entry

    def owner(self, graph: str, *, besides: str | None = None) -> str | None:
        """A crate file (other than `besides`) whose crate has this graph IRI."""
        return min((k for k in self._keys.get(graph, ()) if k != besides), default=None)

    def graphs(self) -> list[str]:
        """Every indexed crate's graph IRI."""
        return sorted(self._keys)

    # -- per-crate texts --------------------------------------------------------------

    def _sidecar(self, graph: str) -> Path:
        digest = hashlib.sha1(graph.encode("utf-8")).hexdigest()
        return self.folder / _SIDECARS / f"{digest}.nt.z"

    def keep(self, graph: str, text: str) -> None:
        """Record that `text` (a crate's N-Triples) is in the store under `graph`."""
        path = self._sidecar(graph)
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_suffix(".tmp")
        temp.write_bytes(zlib.compress(text.encode("utf-8"), 1))
        os.replace(temp, path)
        own = "<" + graph
        shared = self.shared
        for line in dict.fromkeys(text.splitlines(keepends=True)):
            if not (line.startswith(own) or line.startswith("_:")):  # own_line, inlined
                shared[line] = shared.get(line, 0) + 1

    def text(self, graph: str) -> str | None:
        """The N-Triples text loaded for `graph`, None when the ledger has none."""
        try:
            return zlib.decompress(self._sidecar(graph).read_bytes()).decode("utf-8")
        except (OSError, zlib.error, UnicodeDecodeError):
            return None

    def release(self, graph: str) -> str:
        """Forget `graph`: the lines of its text no other crate states (to remove from
        the store). Its text is deleted."""
        text = self.text(graph) or ""
        leaving: list[str] = []
        for line in dict.fromkeys(text.splitlines(keepends=True)):
            if own_line(line, graph):
                if line not in self.shared:  # another crate may state it as foreign
                    leaving.append(line)
                continue
            count = self.shared.get(line, 0) - 1
            if count > 0:
                self.shared[line] = count
                continue
            self.shared.pop(line, None)
            if not self._stated_as_own(line, graph):
                leaving.append(line)
        self._sidecar(graph).unlink(missing_ok=True)
        return "".join(leaving)

    def _stated_as_own(self, line: str, leaving: str) -> bool:
        """Whether an indexed crate other than `leaving` states `line` about its own terms
        (its subject is under that crate's base IRI)."""
        if not line.startswith("<"):
            return False
        subject = line[1 : line.find(">")]
        for at, char in enumerate(subject):
            if char in "/#" and subject[: at + 1] != leaving and subject[: at + 1] in self._keys:
                return True
        return False

    def forget_everything(self) -> None:
        """No counts and no texts but those the manifest's crates name (before a repair)."""
        self.shared.clear()
        wanted = {self._sidecar(graph).name for graph in self._keys}
        folder = self.folder / _SIDECARS
        if folder.is_dir():
            for path in folder.iterdir():
                if path.name not in wanted:
                    path.unlink(missing_ok=True)
