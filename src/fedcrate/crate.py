"""RunRecord → RO-Crate folder, and RO-Crate folder → Graph.

A crate is built in a hidden staging folder beside its target and renamed into place, so
a reader never sees half a crate. The first run into an output folder gets `ro-crate/`,
later runs `ro-crate-2/`, `ro-crate-3/`, … — a name is claimed by the atomic rename
itself, so two runs finishing at once never overwrite each other.
"""

from __future__ import annotations

import csv
import errno
import gc
import hashlib
import json
import logging
import mimetypes
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rdflib import Graph

from .errors import CrateWriteError, NotACrate
from .graph import METADATA_FILE, build_graph, strategy_description
from .jsonld import graph_to_jsonld, jsonld_to_graph
from .namespaces import base_iri
from .record import PayloadFile, RunRecord, complete_observations

__all__ = [
    "CRATE_FOLDER",
    "WrittenCrate",
    "describe_file",
    "read_crate",
    "sha256_of",
    "write_crate",
]

logger = logging.getLogger("fedcrate")

CRATE_FOLDER = "ro-crate"
METRICS_LOG = "metrics-by-round.csv"
_MAX_CRATES_PER_FOLDER = 100_000
# Formats with a registered media type that `mimetypes` does not know.
_MEDIA_TYPES = {".npz": "application/octet-stream", ".csv": "text/csv", ".json": "application/json"}


@dataclass(frozen=True)
class WrittenCrate:
    """Where a crate was written, and the graph its metadata file serialises."""

    path: Path
    graph: Graph
    record: RunRecord


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read as a stream (constant memory for multi-GB models)."""
    with path.open("rb") as handle:
        if hasattr(hashlib, "file_digest"):  # Python 3.11+
            return hashlib.file_digest(handle, "sha256").hexdigest()
        digest = hashlib.sha256()
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
        return digest.hexdigest()


def _media_type(path: Path) -> str:
    known = _MEDIA_TYPES.get(path.suffix.lower())
    if known:
        return known
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def describe_file(
    path: Path,
    crate_path: str,
    *,
    name: str,
    description: str,
    role: str,
    encoding_format: str | None = None,
) -> PayloadFile:
    """A file's `PayloadFile`: size and streamed sha256 read from `path` as it is now."""
    return PayloadFile(
        crate_path=crate_path,
        name=name,
        description=description,
        encoding_format=encoding_format or _media_type(path),
        sha256=sha256_of(path),
        size=path.stat().st_size,
        role=role,
    )


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


def _stage_metrics_log(record: RunRecord, staging: Path) -> PayloadFile:
    target = staging / METRICS_LOG
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["round", "side", "metric", "metric_iri", "value"])
        for obs in sorted(
            record.observations, key=lambda o: (o.round, o.side.value, o.metric.name)
        ):
            writer.writerow(
                [obs.round, obs.side.value, obs.metric.name, obs.metric.iri or "", obs.value]
            )
    return describe_file(
        target,
        METRICS_LOG,
        name="Per-round metrics",
        description=(
            "Every metric value of every round, one row per round, side and metric; the "
            "same values are in the crate's graph as fl:RoundMetric entities."
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


def _claim_folder(staging: Path, output_dir: Path) -> Path:
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
    from .preview import PREVIEW_FILE, render_preview

    try:
        page = render_preview(graph)
    except Exception:  # the preview is a convenience; the metadata file is the record
        logger.warning(
            "could not render %s; the crate is written without it", PREVIEW_FILE, exc_info=True
        )
        return
    (staging / PREVIEW_FILE).write_text(page, encoding="utf-8")


def write_crate(
    record: RunRecord, output_dir: Path, *, preview: bool = True, copy_model: bool = True
) -> WrittenCrate:
    """Stage payload files, build the graph, write `ro-crate-metadata.json`, rename into place.

    With `copy_model=False` the model is referenced where it lives (a `file://` IRI, with
    its size and streamed sha256) instead of copied: for models of many GB.
    With `preview` (the default), `ro-crate-preview.html` (the RO-Crate Website, a human
    view generated from the graph) is written beside the metadata file.
    Raises `CrateWriteError` when the folder cannot be created or written.
    """
    output_dir = Path(output_dir)
    record = replace(record, observations=complete_observations(record.observations))
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".ro-crate-staging-", dir=output_dir))
    except OSError as exc:
        raise CrateWriteError(
            f"{output_dir}: cannot create the crate folder ({exc.strerror}); "
            "choose an output_dir you can write to"
        ) from None
    try:
        files: list[PayloadFile] = []
        if record.model_source is not None:
            stage = _stage_model if copy_model else _reference_model
            files.append(stage(Path(record.model_source), staging))
        files.append(_stage_metrics_log(record, staging))
        strategy_source = _stage_strategy_source(record, staging)
        if strategy_source is not None:
            files.append(strategy_source)
        final_record = replace(record, files=files)
        with _collector_paused():
            graph = build_graph(final_record)
            document = graph_to_jsonld(graph, base_iri(record.run_uuid))
            text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        (staging / METADATA_FILE).write_text(text, encoding="utf-8")
        if preview:
            _write_preview(graph, staging)
        os.chmod(staging, 0o755)  # mkdtemp makes it private; a crate is meant to be shared
        path = _claim_folder(staging, output_dir)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise CrateWriteError(f"{output_dir}: writing the crate failed ({exc})") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return WrittenCrate(path=path, graph=graph, record=final_record)


def _metadata_path(path: Path) -> Path:
    path = Path(path)
    if path.is_dir():
        path = path / METADATA_FILE
    if not path.is_file():
        raise NotACrate(f"{path}: no {METADATA_FILE}; pass a crate folder or its metadata file")
    return path


def _load_document(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise NotACrate(f"{path}: cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise NotACrate(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None
    except (ValueError, RecursionError) as exc:  # 4,300-digit integers, absurd nesting
        raise NotACrate(f"{path}: not a usable JSON document ({exc})") from None
    if not isinstance(document, dict) or "@graph" not in document:
        raise NotACrate(f"{path}: not an RO-Crate metadata file (no top-level @graph)")
    if not isinstance(document["@graph"], list):
        raise NotACrate(
            f"{path}: `@graph` is a {type(document['@graph']).__name__}, not a list of entities"
        )
    return document


def crate_base(document: dict[str, Any], metadata_path: Path) -> str:
    """The base IRI to read a crate with.

    fedcrate crates name their run UUID in the root's `identifier` (`urn:uuid:…`), which
    gives back the base they were built with; other crates get a base derived from their
    location, stable across reads.
    """
    for node in document.get("@graph", []):
        if isinstance(node, dict) and node.get("@id") == "./":
            identifiers = node.get("identifier", [])
            for ident in identifiers if isinstance(identifiers, list) else [identifiers]:
                text = ident.get("@id") if isinstance(ident, dict) else ident
                if isinstance(text, str) and text.startswith("urn:uuid:"):
                    try:
                        return base_iri(text[len("urn:uuid:") :])
                    except ValueError:
                        break
    location = metadata_path.resolve().parent.as_uri()
    return base_iri(str(uuid.uuid5(uuid.NAMESPACE_URL, location)))


def read_crate(path: Path | str) -> Graph:
    """The graph of an RO-Crate folder (or metadata file), parsed offline.

    Raises `NotACrate` with the path and the problem when it cannot be read.
    """
    metadata_path = _metadata_path(Path(path))
    document = _load_document(metadata_path)
    try:
        return jsonld_to_graph(document, crate_base(document, metadata_path))
    except Exception as exc:  # rdflib raises many types for malformed JSON-LD
        raise NotACrate(f"{metadata_path}: not valid JSON-LD ({exc})") from None
