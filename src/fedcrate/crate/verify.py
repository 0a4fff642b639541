"""`fedcrate verify`: do the crate's payload files still match their recorded size and sha256?

A crate states `contentSize` and `sha256` for every file it holds. Files are hashed as
streams (constant memory, so multi-GB models are fine). A file referenced outside the
crate (`file://…`, e.g. a model kept in place with `copy_model=False`) is checked where it
lives; web resources are not fetched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from rdflib import Literal, URIRef

from fedcrate.crate.files import sha256_of
from fedcrate.crate.reader import read_crate
from fedcrate.rdf.entities import METADATA_FILE
from fedcrate.rdf.namespaces import SDO

__all__ = ["FileCheck", "VerifyReport", "verify_crate"]


@dataclass(frozen=True)
class FileCheck:
    """One payload file and what was found."""

    entity: str
    path: Path
    problem: str | None = None


@dataclass
class VerifyReport:
    """Every file checked; `ok` when none has a problem."""

    crate: Path
    checks: list[FileCheck] = field(default_factory=list)

    @property
    def problems(self) -> list[FileCheck]:
        return [c for c in self.checks if c.problem is not None]

    @property
    def ok(self) -> bool:
        return not self.problems


def _local_path(crate: Path, base: str, entity: URIRef) -> Path | None:
    text = str(entity)
    if text.startswith(base):
        relative = unquote(text[len(base) :].split("#", 1)[0])
        return crate / relative if relative else None
    parsed = urlparse(text)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    return None  # web resources are not fetched


def verify_crate(crate: Path) -> VerifyReport:
    """Re-check the size and sha256 of every file the crate records them for.

    Raises:
        NotACrate: `crate` is not a readable crate.
    """
    crate = Path(crate)
    folder = crate if crate.is_dir() else crate.parent
    graph = read_crate(crate)
    descriptor = next(
        (s for s in graph.subjects(SDO.about, None) if str(s).endswith(METADATA_FILE)), None
    )
    base = str(descriptor)[: -len(METADATA_FILE)] if descriptor is not None else ""
    report = VerifyReport(crate=folder)
    for entity in sorted(set(graph.subjects(SDO.sha256, None)), key=str):
        if not isinstance(entity, URIRef):
            continue
        path = _local_path(folder, base, entity)
        if path is None:
            continue
        label = str(entity)[len(base) :] if base and str(entity).startswith(base) else str(entity)
        expected_sha = str(graph.value(entity, SDO.sha256))
        size = graph.value(entity, SDO.contentSize)
        report.checks.append(FileCheck(label, path, _problem(path, expected_sha, size)))
    return report


def _problem(path: Path, expected_sha: str, size: object) -> str | None:
    if not path.is_file():
        return f"{path}: missing"
    actual_size = path.stat().st_size
    if isinstance(size, Literal) and str(size).isdigit() and int(str(size)) != actual_size:
        return f"{path}: size {actual_size} bytes, the crate records {size}"
    actual_sha = sha256_of(path)
    if actual_sha != expected_sha.lower():
        return f"{path}: sha256 {actual_sha}, the crate records {expected_sha}"
    return None
