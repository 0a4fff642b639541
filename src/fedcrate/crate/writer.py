"""Writing crates: the one writer every crate kind (Flower runs, FEDn crates) goes through.

A crate is built in a hidden staging folder beside its target (`staging_folder`), its
metadata and preview written there (`write_metadata`), and only then moved into place:
a new run claims the first free `ro-crate/`, `ro-crate-2/`, … by the atomic rename itself
(`claim_new_folder`), so two runs finishing at once never overwrite each other; a crate
that is rewritten whole (FEDn's appended local runs) is swapped in atomically under a
lock (`replace_folder`, `locked`). A reader never sees half a crate.
"""

from __future__ import annotations

import csv
import ctypes
import errno
import gc
import io
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from operator import itemgetter
from pathlib import Path

from rdflib import Graph

from fedcrate.crate.files import describe_file
from fedcrate.errors import CrateWriteError
from fedcrate.rdf.entities import METADATA_FILE
from fedcrate.rdf.graph import build_graph, strategy_description
from fedcrate.rdf.jsonld import graph_to_jsonld
from fedcrate.rdf.jsonld_fast import dumps_indented
from fedcrate.rdf.namespaces import base_iri
from fedcrate.record.run import PayloadFile, RunRecord, complete_observations

__all__ = [
    "CRATE_FOLDER",
    "METRICS_LOG",
    "WrittenCrate",
    "claim_new_folder",
    "locked",
    "replace_folder",
    "staging_folder",
    "write_crate",
    "write_metadata",
]

logger = logging.getLogger("fedcrate")

CRATE_FOLDER = "ro-crate"
METRICS_LOG = "metrics-by-round.csv"
_MAX_CRATES_PER_FOLDER = 100_000


@dataclass(frozen=True)
class WrittenCrate:
    """Where a crate was written, and the graph its metadata file serialises."""

    path: Path
    graph: Graph
    record: RunRecord


def _stage_model(source: Path, staging: Path) -> PayloadFile:
    target = staging / source.name
    shutil.copyfile(source, target)
    return describe_file(
        target,
        source.name,
        name="Final aggregated model",
        description="Global model produced by the last round of the federated run.",
        role="model",
    )


def _reference_model(source: Path, staging: Path) -> PayloadFile:
    """The model kept in place: hashed as a stream where it is, never copied."""
    source = source.resolve()
    if Path.home() in source.parents:
        logger.warning(
            "the model is referenced at %s, under your home folder: the crate records that "
            "path (copy the model into the crate to keep it out)",
            source,
        )
    return describe_file(
        source,
        source.as_uri(),
        name="Final aggregated model",
        description="Global model produced by the last round of the federated run; kept "
        "where it was written (not copied into the crate), with its size and sha256.",
        role="model",
    )


def _csv_fields(*cells: object) -> str:
    """`cells` as csv.writer (the excel dialect) writes them in a row, quoted if needed."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow([*cells, ""])  # a trailing field: a lone "" is quoted
    return buffer.getvalue()[: -len(",\r\n")]


def _stage_metrics_log(record: RunRecord, staging: Path) -> PayloadFile:
    target = staging / METRICS_LOG
    # The text csv.writer writes, ~2x faster (it costs ~2.5 µs a row; a crate of 1,000
    # rounds has 30,000): each (side, metric) prefix is quoted once by csv itself, a
    # round is its digits and a float or int value its repr, which is what csv writes for
    # them; any other value is written by csv itself.
    prefixes: dict[tuple[str, str, str], str] = {}
    rows = []
    for obs in record.observations:
        key = (obs.side.value, obs.metric.name, obs.metric.iri or "")
        prefix = prefixes.get(key)
        if prefix is None:
            prefix = prefixes[key] = _csv_fields(*key)
        rows.append((obs.round, *key[:2], prefix, obs.value))
    rows.sort(key=itemgetter(0, 1, 2))  # by (round, side, metric), stably, as before
    lines = ["round,side,metric,metric_iri,value"]
    for server_round, _, _, prefix, value in rows:
        kind = type(value)
        if kind is float or kind is int:
            lines.append(f"{server_round!r},{prefix},{value!r}")
        else:
            lines.append(f"{server_round!r},{prefix},{_csv_fields(value)}")
    lines.append("")
    target.write_text("\r\n".join(lines), encoding="utf-8", newline="")
    return describe_file(
        target,
        METRICS_LOG,
        name="Per-round metrics",
        description=(
            "Every metric value of every round, one row per round, side and metric; the "
            "same values are in the crate's graph, as the fl:roundValue entries of each "
            "metric's series (the fl:FinalMetric in the run's result)."
        ),
        role="metrics-log",
    )


def _stage_strategy_source(record: RunRecord, staging: Path) -> PayloadFile | None:
    strategy = record.strategy
    if strategy is None or strategy.source_file is None or (strategy.url and strategy.version):
        return None
    source = strategy.source_file
    target = staging / "code" / source.name
    target.parent.mkdir(exist_ok=True)
    shutil.copyfile(source, target)
    return describe_file(
        target,
        f"code/{source.name}",
        name=strategy.class_name,
        description=strategy_description(strategy) + " Source file that defines it.",
        encoding_format="text/x-python",
        role="strategy-source",
    )


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while tens of thousands of terms are made.

    Building a crate allocates many small acyclic objects (triples, literals); in a
    process that has imported Flower and Ray, each full collection walks a large heap,
    which made writing a crate up to twice as slow. Nothing here creates cycles.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _write_preview(graph: Graph, staging: Path) -> None:
    """`ro-crate-preview.html` beside the metadata; a faulty page never costs the crate."""
    from fedcrate.views.preview import PREVIEW_FILE, render_preview

    try:
        page = render_preview(graph)
    except Exception:  # the preview is a convenience; the metadata file is the record
        logger.warning(
            "could not render %s; the crate is written without it", PREVIEW_FILE, exc_info=True
        )
        return
    (staging / PREVIEW_FILE).write_text(page, encoding="utf-8")


# -- the one way a crate folder comes into being -----------------------------------------


@contextmanager
def staging_folder(parent: Path, target: Path) -> Iterator[Path]:
    """A hidden staging folder inside `parent`, removed again on any failure.

    The crate is built there and only then renamed into place (`claim_new_folder`,
    `replace_folder`), so a reader never sees half a crate. An `OSError` becomes one
    `CrateWriteError` naming `target`.

    Raises:
        CrateWriteError: `parent` cannot be created or written.
    """
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".ro-crate-staging-", dir=parent))
    except OSError as exc:
        raise CrateWriteError(
            f"{parent}: cannot create the crate folder ({exc.strerror}); "
            "choose an output folder you can write to"
        ) from None
    try:
        yield staging
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise CrateWriteError(f"{target}: writing the crate failed ({exc})") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_metadata(staging: Path, graph: Graph, base: str, *, preview: bool = True) -> None:
    """`ro-crate-metadata.json` (and `ro-crate-preview.html`) for `graph` into `staging`.

    The text is `json.dumps(document, indent=2, ensure_ascii=False)`'s, written by
    `dumps_indented` (the standard library's indenting encoder is pure Python, 2-3x slower).
    """
    with _collector_paused():
        document = graph_to_jsonld(graph, base)
        text = dumps_indented(document) + "\n"
        (staging / METADATA_FILE).write_text(text, encoding="utf-8")
        if preview:
            _write_preview(graph, staging)
    os.chmod(staging, 0o755)  # mkdtemp makes it private; a crate is meant to be shared


def claim_new_folder(staging: Path, output_dir: Path) -> Path:
    """Rename `staging` to the first free `ro-crate[-N]` name; the rename is the claim."""
    for index in range(1, _MAX_CRATES_PER_FOLDER):
        target = output_dir / (CRATE_FOLDER if index == 1 else f"{CRATE_FOLDER}-{index}")
        if target.exists():
            continue
        try:
            os.rename(staging, target)
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR):
                continue  # another run claimed it between exists() and rename()
            raise
        return target
    raise CrateWriteError(f"{output_dir}: holds {_MAX_CRATES_PER_FOLDER} crates; use a new folder")


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


def replace_folder(staging: Path, target: Path) -> None:
    """Put `staging` at `target`, replacing an earlier crate there in one atomic step where
    the kernel can (Linux `renameat2(RENAME_EXCHANGE)`), else with two renames."""
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
def locked(target: Path) -> Iterator[None]:
    """Serialise writers of the same crate across processes (a lock file beside it)."""
    lock_path = target.with_name(f".{target.name}.lock")
    with lock_path.open("a") as handle:
        try:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
        except ImportError:  # not POSIX: no cross-process lock
            pass
        yield


def write_crate(
    record: RunRecord, output_dir: Path, *, preview: bool = True, copy_model: bool = True
) -> WrittenCrate:
    """Stage payload files, build the graph, write `ro-crate-metadata.json`, rename into place.

    With `copy_model=False` the model is referenced where it lives (a `file://` IRI, with
    its size and streamed sha256) instead of copied: for models of many GB.
    With `preview` (the default), `ro-crate-preview.html` (the RO-Crate Website, a human
    view generated from the graph) is written beside the metadata file.

    Raises:
        CrateWriteError: the folder cannot be created or written.
    """
    output_dir = Path(output_dir)
    # The whole write without the cyclic collector (see `_collector_paused`): the
    # observations, the metrics log and the graph are all made here.
    with _collector_paused(), staging_folder(output_dir, output_dir) as staging:
        # The metrics log states the same completed rounds as the graph (`build_graph`).
        record = replace(record, observations=complete_observations(record.observations))
        files: list[PayloadFile] = []
        if record.model_source is not None:
            stage = _stage_model if copy_model else _reference_model
            files.append(stage(Path(record.model_source), staging))
        files.append(_stage_metrics_log(record, staging))
        strategy_source = _stage_strategy_source(record, staging)
        if strategy_source is not None:
            files.append(strategy_source)
        final_record = replace(record, files=files)
        graph = build_graph(final_record, completed=True)
        write_metadata(staging, graph, base_iri(record.run_uuid), preview=preview)
        path = claim_new_folder(staging, output_dir)
    return WrittenCrate(path=path, graph=graph, record=final_record)
