"""SPARQL across many crates: a persistent, incrementally updated embedded index.

Layout of an index folder (default `<crates dir>/.fedcrate-index/`):

* `store/` — a pyoxigraph (RocksDB) store; each crate is one named graph, named by the
  crate's base IRI (`arcp://uuid,<run uuid>/`), holding the crate's triples plus their
  PROV-O entailments. The store's default graph is kept equal to the union (RDF merge)
  of the named graphs, so simple queries need no GRAPH clause. It is materialised rather
  than asked for with `use_default_graph_as_union`, because pyoxigraph 0.5's union is a
  bag (oxigraph/oxigraph#1919, fixed for 0.6 by #1920): a triple every crate states (the
  `fl:side` terms, a shared author) would come back once per crate, multiplying rows and
  slowing every join through it by the number of crates. Both copies of a batch of crates
  go into the store in one TriG bulk load (`<graph> { … }` blocks plus the bare triples).
* `manifest.json` — metadata-file path → (mtime_ns, size, graph IRI). A refresh stats
  every `ro-crate-metadata.json` under the folders and re-parses only files whose mtime
  or size changed; graphs of vanished files are dropped. The manifest is written after
  the store is flushed; a refresh marks it dirty first, so one that was interrupted is
  repaired by the next (which rebuilds the default graph from the named graphs).

Usage: `CrateIndex("crates/").query("SELECT …")`, or `.query(load_named_query("runs"))`.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import pyoxigraph as ox

from fedcrate.errors import NotACrate, QueryError
from fedcrate.index.quads import ParseResult, parse_job
from fedcrate.index.queries import NamedQuery, resolve_query
from fedcrate.index.results import QueryResult, Value, python_value
from fedcrate.index.workers import WorkerFailed, parse_in_workers
from fedcrate.rdf.entities import METADATA_FILE

__all__ = [
    "INDEX_FOLDER",
    "CrateIndex",
    "CrateProblem",
    "IndexReport",
    "find_crates",
    "oxigraph_result",
]

INDEX_FOLDER = ".fedcrate-index"
_LOG = logging.getLogger(__name__)
_MANIFEST_VERSION = 1
# Crates are parsed in worker processes when at least this many changed.
_PARALLEL_THRESHOLD = 64
_OPTIMIZE_AFTER = 64  # crates loaded in one refresh before the store is compacted
# Crates parsed ahead of loading at most.
_WINDOW = 128
# Characters of N-Triples per bulk load (~70 crates of 100 rounds): bigger batches load
# no faster per crate, smaller ones bound memory (the TriG text holds each crate twice).
_BATCH_CHARS = 200_000_000
# Remove a crate's triples from the default graph unless another crate states them too.
_UNMERGE = """
DELETE { ?s ?p ?o }
WHERE {
  GRAPH $GRAPH { ?s ?p ?o }
  FILTER NOT EXISTS { GRAPH ?other { ?s ?p ?o } FILTER(?other != $GRAPH) }
}
"""


@dataclass(frozen=True)
class CrateProblem:
    """A crate that could not be indexed, and why."""

    path: Path
    message: str


@dataclass
class IndexReport:
    """What a refresh did."""

    added: list[Path] = field(default_factory=list)
    changed: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    unchanged: int = 0
    errors: list[CrateProblem] = field(default_factory=list)
    # Trouble that cost speed, not data (a parse worker that died); also logged.
    warnings: list[str] = field(default_factory=list)


def find_crates(folders: Iterable[Path]) -> list[Path]:
    """Every `ro-crate-metadata.json` under `folders` (real paths), skipping hidden folders.

    Hidden folders hold the index itself and half-written crates (`.ro-crate-staging-*`).
    Symlinked folders are followed, loops are not. Real paths are built while walking, so
    only symlinks cost a `realpath` (the no-change refresh of 10,000 crates is this walk).
    """
    found: set[str] = set()
    seen: set[str] = set()
    for folder in folders:
        if folder.is_file():
            found.add(os.path.realpath(folder))
            continue
        todo = [os.path.realpath(folder)]
        while todo:
            real = todo.pop()
            if real in seen:
                continue
            seen.add(real)
            try:
                entries = list(os.scandir(real))
            except OSError:
                continue  # unreadable or vanished folder: as os.walk, skip it
            for entry in entries:
                name = entry.name
                try:
                    if name == METADATA_FILE and entry.is_file():
                        found.add(_real(entry, real))
                    elif not name.startswith(".") and entry.is_dir():
                        todo.append(_real(entry, real))
                except OSError:
                    continue
    return [Path(path) for path in sorted(found)]


def _real(entry: os.DirEntry[str], real_parent: str) -> str:
    return (
        os.path.realpath(entry.path)
        if entry.is_symlink()
        else os.path.join(real_parent, entry.name)
    )


class CrateIndex:
    """An embedded SPARQL index over every crate under one or more folders.

    The store persists between runs; `refresh()` (called by the first `query()`) brings
    it up to date with the folders. One process at a time may open an index.
    """

    def __init__(
        self,
        folders: Path | str | Sequence[Path | str],
        *,
        index: Path | str | None = None,
        workers: int | None = None,
    ) -> None:
        items = [folders] if isinstance(folders, (str, Path)) else list(folders)
        if not items:
            raise NotACrate("no crates folder given; pass at least one folder")
        self.folders = [Path(f) for f in items]
        for folder in self.folders:
            if not folder.exists():
                raise NotACrate(f"{folder}: no such folder; pass a folder that holds crates")
        first = self.folders[0]
        default = (first if first.is_dir() else first.parent) / INDEX_FOLDER
        self.path = Path(index) if index is not None else default
        self.workers = workers if workers is not None else min(os.cpu_count() or 1, 8)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self.store = ox.Store(str(self.path / "store"))
        except OSError as exc:
            raise NotACrate(
                f"{self.path}: cannot open the index ({exc}); pass --index to a writable "
                "folder, and make sure no other fedcrate process uses it"
            ) from None
        self._refreshed = False
        self._progress: Callable[[int, int], None] | None = None
        self.last_report: IndexReport | None = None

    # -- lifecycle --------------------------------------------------------------------

    def close(self) -> None:
        """Flush and release the store (its files stay for the next run)."""
        self.store.flush()
        del self.store

    def __enter__(self) -> CrateIndex:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- indexing ---------------------------------------------------------------------

    def _manifest_path(self) -> Path:
        return self.path / "manifest.json"

    def _read_manifest(self) -> tuple[dict[str, dict[str, Any]], bool]:
        """(entries, clean); a missing or unreadable manifest is clean only for an empty store."""
        try:
            data = json.loads(self._manifest_path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
        if not isinstance(data, dict) or data.get("version") != _MANIFEST_VERSION:
            return {}, len(self.store) == 0
        crates = data.get("crates")
        return (crates if isinstance(crates, dict) else {}), data.get("clean") is True

    def _write_manifest(self, crates: dict[str, dict[str, Any]], clean: bool = True) -> None:
        text = json.dumps(
            {"version": _MANIFEST_VERSION, "clean": clean, "crates": crates}, sort_keys=True
        )
        handle, temp = tempfile.mkstemp(dir=self.path, prefix=".manifest-")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temp, self._manifest_path())

    def refresh(self, progress: Callable[[int, int], None] | None = None) -> IndexReport:
        """Bring the store up to date: parse new and changed crates, drop removed ones.

        `progress(done, total)` is called as each new or changed crate is processed.
        """
        self._progress = progress
        report = IndexReport()
        manifest, clean = self._read_manifest()
        current: dict[str, tuple[int, int]] = {}
        for path in find_crates(self.folders):
            try:
                stat = path.stat()
            except OSError as exc:
                report.errors.append(CrateProblem(path, f"{path}: cannot be read ({exc})"))
                continue
            current[str(path)] = (stat.st_mtime_ns, stat.st_size)

        removed = sorted(set(manifest) - set(current))
        todo = []
        for key, (mtime, size) in current.items():
            entry = manifest.get(key)
            if entry is not None and entry["mtime_ns"] == mtime and entry["size"] == size:
                report.unchanged += 1
                continue
            todo.append(key)
            (report.changed if entry is not None else report.added).append(Path(key))
        if clean and not removed and not todo:
            self._refreshed = True
            self.last_report = report
            return report  # nothing to do: the common case stays a stat() per crate

        self._write_manifest(manifest, clean=False)
        for key in removed:
            self._drop(manifest.pop(key)["graph"], manifest)
            report.removed.append(Path(key))
        self._load(todo, current, manifest, report)
        self._drop_orphans(manifest)
        if not clean:
            self._rebuild_default_graph()
        self.store.flush()
        if len(todo) >= _OPTIMIZE_AFTER:
            # Compacting after a bulk load halves warm query times (300 crates: `runs`
            # 0.25 → 0.14 s, `best-runs` 0.46 → 0.21 s); it is ~11% of a cold index
            # (1,000 crates: 68 of 618 s, the bulk loads 501 s, on 2 busy cores).
            self.store.optimize()
        self._write_manifest(manifest)
        self._refreshed = True
        self.last_report = report
        return report

    def _drop(self, graph: str, manifest: dict[str, dict[str, Any]]) -> None:
        if not any(entry["graph"] == graph for entry in manifest.values()):
            self._remove_graph(graph)

    def _remove_graph(self, graph: str) -> None:
        """Drop a crate's graph and its triples from the default graph no other crate states."""
        node = ox.NamedNode(graph)
        if not self.store.contains_named_graph(node):
            return
        self.store.update(_UNMERGE.replace("$GRAPH", f"<{graph}>"))
        self.store.remove_graph(node)

    def _drop_orphans(self, manifest: dict[str, dict[str, Any]]) -> None:
        """Remove graphs no manifest entry names (left by an interrupted refresh)."""
        wanted = {entry["graph"] for entry in manifest.values()}
        for graph in list(self.store.named_graphs()):
            if isinstance(graph, ox.NamedNode) and graph.value not in wanted:
                self._remove_graph(graph.value)

    def _rebuild_default_graph(self) -> None:
        self.store.clear_graph(ox.DefaultGraph())
        self.store.update("INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")

    def _parsed(self, todo: list[str], report: IndexReport) -> Iterable[ParseResult]:
        done = 0
        if len(todo) >= _PARALLEL_THRESHOLD and self.workers > 1:
            try:
                for result in parse_in_workers(todo, self.workers, _WINDOW):
                    done += 1  # results come in order: todo[:done] are parsed
                    yield result
            except WorkerFailed as exc:
                # A worker that cannot start or dies (killed for memory, say) costs speed,
                # not the refresh: the rest is parsed in this process.
                report.warnings.append(f"parsing crates in one process: {exc}")
                _LOG.warning("%s", report.warnings[-1])
        for key in todo[done:]:
            yield parse_job(key)

    def _load(
        self,
        todo: list[str],
        current: dict[str, tuple[int, int]],
        manifest: dict[str, dict[str, Any]],
        report: IndexReport,
    ) -> None:
        owners = {entry["graph"]: key for key, entry in manifest.items()}
        batch: list[tuple[str, str, str]] = []
        size = 0
        for done, (key, graph, text) in enumerate(self._parsed(todo, report), start=1):
            if self._progress is not None:
                self._progress(done, len(todo))
            old = manifest.pop(key, None)
            if old is not None:
                owners.pop(old["graph"], None)
                self._drop(old["graph"], manifest)
            if graph is None:
                report.errors.append(CrateProblem(Path(key), text))
                continue
            owner = owners.get(graph)
            if owner is not None and owner != key:
                report.errors.append(
                    CrateProblem(
                        Path(key),
                        f"{key}: same run identifier ({graph}) as {owner}; skipped. "
                        "A copied crate must get a new `identifier` (urn:uuid:…)",
                    )
                )
                continue
            owners[graph] = key
            self._remove_graph(graph)
            batch.append((key, graph, text))
            size += len(text)
            if size >= _BATCH_CHARS:
                self._bulk(batch, current, manifest, report)
                batch, size = [], 0
        self._bulk(batch, current, manifest, report)

    def _bulk(
        self,
        batch: list[tuple[str, str, str]],
        current: dict[str, tuple[int, int]],
        manifest: dict[str, dict[str, Any]],
        report: IndexReport,
    ) -> None:
        if not batch:
            return
        try:
            # N-Triples lines are TriG statements: each crate's text goes in bare (default
            # graph) and inside `<graph> { }`, one parse, no rewriting of megabytes of text.
            # Lenient: crate_quads has validated every IRI and language tag already.
            trig = "".join(f"{t}<{g}> {{\n{t}}}\n" for _, g, t in batch)
            self.store.bulk_load(trig, ox.RdfFormat.TRIG, lenient=True)
            loaded = batch
        except (SyntaxError, ValueError):
            # One crate broke the batch: load them one by one, transactionally.
            loaded = []
            for key, graph, text in batch:
                self._remove_graph(graph)
                try:
                    self.store.load(text, ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph))
                    self.store.load(text, ox.RdfFormat.N_TRIPLES)
                except (SyntaxError, ValueError) as exc:
                    report.errors.append(
                        CrateProblem(Path(key), f"{key}: rejected by the store ({exc})")
                    )
                    continue
                loaded.append((key, graph, text))
        for key, graph, _ in loaded:
            mtime, size = current[key]
            manifest[key] = {"mtime_ns": mtime, "size": size, "graph": graph}

    def quad_count(self) -> int:
        """Quads in the store (crates' triples plus entailments)."""
        return len(self.store)

    def graphs(self) -> list[str]:
        """The named graph of every indexed crate."""
        return sorted(g.value for g in self.store.named_graphs() if isinstance(g, ox.NamedNode))

    # -- querying ---------------------------------------------------------------------

    def query(self, query: str | NamedQuery, params: dict[str, str] | None = None) -> QueryResult:
        """Run SPARQL over the union of all crates (refreshing the index the first time).

        `query` is SPARQL text, a shipped query's name, a `.rq` path or a `NamedQuery`;
        `params` binds its parameters (`{"metric": "loss"}`).

        Raises:
            QueryError: invalid SPARQL (with the parser's line and column), an unknown
                query name or parameter.
        """
        if not self._refreshed:
            self.refresh()
        named = query if isinstance(query, NamedQuery) else resolve_query(query)
        text = named.bound(params)
        try:
            raw = self.store.query(text)
        except SyntaxError as exc:
            raise QueryError(f"invalid SPARQL in {named.name}: {exc}") from None
        except OSError as exc:
            raise QueryError(f"the query {named.name} failed: {exc}") from None
        return oxigraph_result(raw)


def _term(term: Any) -> Value:
    if isinstance(term, ox.Literal):
        return python_value(term.value, term.datatype.value)
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return str(term.value)


def oxigraph_result(raw: Any) -> QueryResult:
    """A pyoxigraph result (solutions, boolean or triples) as a `QueryResult`."""
    if isinstance(raw, ox.QuerySolutions):
        names = [v.value for v in raw.variables]
        rows = [
            tuple(None if solution[n] is None else _term(solution[n]) for n in names)
            for solution in raw
        ]
        return QueryResult(names, rows)
    if isinstance(raw, ox.QueryBoolean):
        return QueryResult(["boolean"], [(bool(raw),)])
    return QueryResult(
        ["subject", "predicate", "object"],
        [(_term(t.subject), _term(t.predicate), _term(t.object)) for t in raw],
    )
