"""SPARQL across many crates: a persistent, incrementally updated embedded index.

Layout of an index folder (default: the user's cache, `index.location`, keyed by the
folders; never inside the crate folders):

* `store/` — a pyoxigraph (RocksDB) store whose default graph is the RDF merge (set
  union) of every crate's triples plus their PROV-O entailments; queries need no GRAPH
  clause and every triple is stored once. There is no named graph per crate: a
  named-graph quad costs Oxigraph six index entries where a default-graph triple costs
  three, and one graph per crate (plus the merged copy pyoxigraph 0.5 needs, its
  union-default-graph being a bag) made the index ~8x the crates' JSON and loading 3x
  slower (benchmarks/bench_sparql.py). Which crate states a triple: a crate's own
  entities are IRIs under its base (`arcp://uuid,<run>/`), and the named graph
  `urn:fedcrate:index` says which file each base was read from
  (`<base> fl:indexedFrom "path"`, one per file; a byte-identical copy adds its path).
* `crates/` and `manifest.json` — the ledger (`index.ledger`): each crate's loaded text,
  compressed, the file stamps (path → mtime_ns, size, base IRI) and, per triple several
  crates state, how many do. A refresh stats every `ro-crate-metadata.json` under the
  folders and re-parses only files whose mtime or size changed; a vanished or changed
  crate's triples are taken out using its kept text. A refresh marks the manifest dirty
  first; one that was interrupted is repaired by the next, which rebuilds the store from
  the kept texts.

Usage: `CrateIndex("crates/").query("SELECT …")`, or `.query(load_named_query("runs"))`.
"""

from __future__ import annotations

import filecmp
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import pyoxigraph as ox

from fedcrate.errors import NotACrate, QueryError
from fedcrate.index.ledger import Ledger
from fedcrate.index.location import default_index_path
from fedcrate.index.quads import ParseResult, parse_job
from fedcrate.index.queries import NamedQuery, resolve_query
from fedcrate.index.results import QueryResult, Value, python_value
from fedcrate.index.workers import WorkerFailed, parse_in_workers
from fedcrate.rdf.entities import METADATA_FILE

__all__ = [
    "INDEX_FOLDER",
    "INDEX_GRAPH",
    "CrateIndex",
    "CrateProblem",
    "IndexReport",
    "find_crates",
    "oxigraph_result",
]

INDEX_FOLDER = ".fedcrate-index"
_LOG = logging.getLogger(__name__)
# Crates are parsed in worker processes when at least this many changed.
_PARALLEL_THRESHOLD = 64
_OPTIMIZE_AFTER = 64  # crates loaded in one refresh before the store is compacted
# Crates parsed ahead of loading at most.
_WINDOW = 128
# Characters of N-Triples per bulk load (~90 crates of 100 rounds): bigger batches load
# no faster per crate, smaller ones bound memory.
_BATCH_CHARS = 100_000_000
INDEX_GRAPH = "urn:fedcrate:index"
_INDEXED_FROM = ox.NamedNode("https://w3id.org/fedcrate/fl#indexedFrom")


def _file_quad(graph: str, key: str) -> ox.Quad:
    """`<base> fl:indexedFrom "path"` in the index graph: which file a crate came from."""
    return ox.Quad(ox.NamedNode(graph), _INDEXED_FROM, ox.Literal(key), ox.NamedNode(INDEX_GRAPH))


def _has_blank_nodes(text: str) -> bool:
    """Whether N-Triples `text` has a blank node (a term starting a line or after a space;
    inside a literal `_:` can follow anything, so this may say yes for none: harmless)."""
    return text.startswith("_:") or "\n_:" in text or " _:" in text


def _same_bytes(a: str, b: str) -> bool:
    try:
        return filecmp.cmp(a, b, shallow=False)
    except OSError:
        return False


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
    # Worth knowing, not wrong (a byte-identical copy of a crate, indexed once).
    notes: list[str] = field(default_factory=list)
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
        # Default: the user's cache, keyed by the folders, never inside a crate folder.
        self.path = Path(index) if index is not None else default_index_path(self.folders)
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

    def refresh(self, progress: Callable[[int, int], None] | None = None) -> IndexReport:
        """Bring the store up to date: parse new and changed crates, drop removed ones.

        `progress(done, total)` is called as each new or changed crate is processed.
        """
        self._progress = progress
        report = IndexReport()
        ledger = Ledger.read(self.path, store_is_empty=self._store_is_empty)
        if not ledger.clean:
            self._repair(ledger, report)
        current: dict[str, tuple[int, int]] = {}
        for path in find_crates(self.folders):
            try:
                stat = path.stat()
            except OSError as exc:
                report.errors.append(CrateProblem(path, f"{path}: cannot be read ({exc})"))
                continue
            current[str(path)] = (stat.st_mtime_ns, stat.st_size)

        removed = sorted(set(ledger.crates) - set(current))
        todo = []
        for key, (mtime, size) in current.items():
            entry = ledger.crates.get(key)
            if entry is not None and entry["mtime_ns"] == mtime and entry["size"] == size:
                report.unchanged += 1
                continue
            todo.append(key)
            (report.changed if entry is not None else report.added).append(Path(key))
        if ledger.clean and not removed and not todo:
            self._refreshed = True
            self.last_report = report
            return report  # nothing to do: the common case stays a stat() per crate

        ledger.write(clean=False)
        for key in removed:
            self._release(ledger, key)
            report.removed.append(Path(key))
        self._load(todo, current, ledger, report)
        self.store.flush()
        if len(todo) >= _OPTIMIZE_AFTER:
            # Compacting after a bulk load speeds warm queries up (300 crates, the
            # earlier layout: `runs` 0.25 → 0.14 s, `best-runs` 0.46 → 0.21 s).
            self.store.optimize()
        ledger.write()
        self._refreshed = True
        self.last_report = report
        return report

    def _repair(self, ledger: Ledger, report: IndexReport) -> None:
        """Rebuild the store from the ledger after a refresh that did not finish.

        The store may hold half a batch, or miss crates the ledger names: it is emptied and
        every crate the manifest names is loaded again from its kept text (no parsing);
        crates whose text is missing are parsed again as new.
        """
        report.warnings.append(
            f"{self.path}: the last refresh did not finish; the index is rebuilt from its "
            "kept crate texts"
        )
        _LOG.warning("%s", report.warnings[-1])
        self.store.clear()
        ledger.forget_everything()
        for graph in ledger.graphs():
            text = ledger.text(graph)
            keys = [k for k, e in ledger.crates.items() if e["graph"] == graph]
            if text is None:
                for key in keys:
                    ledger.pop(key)  # parsed again: it is not in the manifest any more
                continue
            self._insert(text)
            ledger.keep(graph, text)
            for key in keys:
                self._note_file(graph, key)
        self.store.flush()

    def _store_is_empty(self) -> bool:
        # Not len(store): that counts every quad (a second per million).
        return next(iter(self.store.quads_for_pattern(None, None, None, None)), None) is None

    def _note_file(self, graph: str, key: str) -> None:
        self.store.add(_file_quad(graph, key))

    def _release(self, ledger: Ledger, key: str) -> None:
        """Forget crate file `key`; its triples leave the store with its last copy."""
        entry = ledger.pop(key)
        if entry is None:
            return
        graph = entry["graph"]
        self.store.remove(_file_quad(graph, key))
        if ledger.owner(graph) is not None:
            return  # a byte-identical copy still holds the run
        self._delete(ledger.release(graph))

    def _delete(self, text: str) -> None:
        for triple in ox.parse(text, ox.RdfFormat.N_TRIPLES, lenient=True):
            self.store.remove(ox.Quad(triple.subject, triple.predicate, triple.object))

    def _insert(self, text: str) -> None:
        """Load one crate's text. Blank nodes keep their labels (a bulk load would rename
        them, and the ledger could not take them out again)."""
        if _has_blank_nodes(text):
            self.store.bulk_extend(ox.parse(text, ox.RdfFormat.N_TRIPLES, lenient=True))
        else:
            self.store.bulk_load(text, ox.RdfFormat.N_TRIPLES, lenient=True)

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
        ledger: Ledger,
        report: IndexReport,
    ) -> None:
        batch: list[tuple[str, str, str]] = []
        pending: dict[str, str] = {}  # graph → crate file, for the batch not yet loaded
        size = 0
        for done, (key, graph, text) in enumerate(self._parsed(todo, report), start=1):
            if self._progress is not None:
                self._progress(done, len(todo))
            self._release(ledger, key)  # a changed crate: its old triples go first
            if graph is None:
                report.errors.append(CrateProblem(Path(key), text))
                continue
            owner = pending.get(graph) or ledger.owner(graph)
            if owner is not None:
                if _same_bytes(owner, key):
                    mtime, stamp_size = current[key]
                    if owner in pending.values():
                        batch.append((key, graph, ""))  # noted once its original is loaded
                    else:
                        ledger.add(key, {"mtime_ns": mtime, "size": stamp_size, "graph": graph})
                        self._note_file(graph, key)
                    report.notes.append(
                        f"{key} is a byte-identical copy of {owner}: one run, indexed once"
                    )
                else:
                    report.errors.append(
                        CrateProblem(
                            Path(key),
                            f"{key} and {owner} are different crates with the same run "
                            f"identifier ({graph}); {key} is not indexed. A copied and "
                            "edited crate must get a new `identifier` (urn:uuid:…)",
                        )
                    )
                continue
            pending[graph] = key
            batch.append((key, graph, text))
            size += len(text)
            if size >= _BATCH_CHARS:
                self._bulk(batch, current, ledger, report)
                batch, pending, size = [], {}, 0
        self._bulk(batch, current, ledger, report)

    def _bulk(
        self,
        batch: list[tuple[str, str, str]],
        current: dict[str, tuple[int, int]],
        ledger: Ledger,
        report: IndexReport,
    ) -> None:
        """Load a batch of crates in one bulk load (or crate by crate if that fails);
        only then are they in the ledger and the manifest."""
        crates = [(k, g, t) for k, g, t in batch if t]
        plain = [t for _, _, t in crates if not _has_blank_nodes(t)]
        try:
            # Lenient: crate_nquads has validated every IRI and language tag already.
            if plain:
                self.store.bulk_load("".join(plain), ox.RdfFormat.N_TRIPLES, lenient=True)
            for _, _, text in crates:
                if _has_blank_nodes(text):
                    self._insert(text)
            loaded = crates
        except (SyntaxError, ValueError):
            # One crate broke the batch, which may be half written: take out what the
            # rejected crates may have left, then load the others one by one (the store
            # is a set: what the failed bulk load wrote is written again).
            loaded, rejected = [], []
            for key, graph, text in crates:
                try:
                    ox.Store().load(text, ox.RdfFormat.N_TRIPLES)  # strict: finds the bad line
                except (SyntaxError, ValueError) as exc:
                    report.errors.append(
                        CrateProblem(Path(key), f"{key}: rejected by the store ({exc})")
                    )
                    rejected.append((graph, text))
                    continue
                loaded.append((key, graph, text))
            for graph, text in rejected:
                self._delete_unowned(text, ledger, graph)
            for _, _, text in loaded:
                self._insert(text)
        loaded_graphs = {graph for _, graph, _ in loaded}
        for key, graph, text in batch:
            if graph not in loaded_graphs:
                continue
            mtime, size = current[key]
            if text:
                ledger.keep(graph, text)
            ledger.add(key, {"mtime_ns": mtime, "size": size, "graph": graph})
            self._note_file(graph, key)

    def _delete_unowned(self, text: str, ledger: Ledger, graph: str) -> None:
        """Take out what a failed bulk load may have written of a rejected crate."""
        kept = [
            line
            for line in text.splitlines(keepends=True)
            if line not in ledger.shared and not ledger._stated_as_own(line, graph)
        ]
        try:
            self._delete("".join(kept))
        except (SyntaxError, ValueError):
            for line in kept:
                try:
                    self._delete(line)
                except (SyntaxError, ValueError):
                    continue

    def graphs(self) -> list[str]:
        """The base IRI of every indexed crate."""
        pattern = self.store.quads_for_pattern(None, _INDEXED_FROM, None, ox.NamedNode(INDEX_GRAPH))
        return sorted({q.subject.value for q in pattern if isinstance(q.subject, ox.NamedNode)})

    def quad_count(self) -> int:
        """Triples in the store's default graph (crates' triples plus entailments)."""
        index = self.store.quads_for_pattern(None, None, None, ox.NamedNode(INDEX_GRAPH))
        return len(self.store) - sum(1 for _ in index)

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
