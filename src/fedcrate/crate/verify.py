"""`fedcrate verify`: do the crate's payload files still match their recorded size and sha256?

And, for a crate with per-round model lineage (`record_model_lineage=True`), is the chain
consistent: one `fl:ModelState` per round from the first to the last without a gap, each
`prov:wasDerivedFrom` the previous round's, each with a SHA-256, and a file `fl:savedAs`
of a state holding exactly its bytes (the file's recorded sha256 is the state's)?

A crate states `contentSize` and `sha256` for every file it holds. Files are hashed as
streams (constant memory, so multi-GB models are fine). A file referenced outside the
crate (`file://…`, e.g. a model kept in place with `copy_model=False`) is checked where it
lives; web resources are not fetched. A zipped crate is checked in place: each member is
hashed as a stream from the archive, nothing is unpacked.

The report also names the run's output models (files in its `result` that are `about`
nothing), so a run that recorded no model is said to have none rather than passing quietly.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from fedcrate.crate.files import sha256_of
from fedcrate.crate.reader import read_crate
from fedcrate.crate.zipped import ZippedCrate, is_zip
from fedcrate.rdf.entities import METADATA_FILE
from fedcrate.rdf.namespaces import FL, PROV, SDO
from fedcrate.views.model import describe

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
    lineage_states: int = 0
    """Model states of the run's lineage (0: no lineage recorded)."""
    lineage_problems: list[str] = field(default_factory=list)
    runs: int = 0
    """Runs (`CreateAction`s) the crate describes; a FEDn package crate has none."""
    models: list[str] = field(default_factory=list)
    """The output model files the crate's runs record (empty: no model recorded)."""

    @property
    def problems(self) -> list[FileCheck]:
        return [c for c in self.checks if c.problem is not None]

    @property
    def ok(self) -> bool:
        return not self.problems and not self.lineage_problems


def _crate_path(base: str, entity: URIRef) -> str | None:
    """The entity's path inside the crate ("" for the root), None when it is outside."""
    text = str(entity)
    if base and text.startswith(base):
        return unquote(text[len(base) :].split("#", 1)[0])
    return None


def _outside_path(entity: URIRef) -> Path | None:
    parsed = urlparse(str(entity))
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    return None  # web resources are not fetched


def verify_crate(crate: Path) -> VerifyReport:
    """Re-check the size and sha256 of every file the crate records them for.

    `crate` is a crate folder, its metadata file or a zipped crate.

    Raises:
        NotACrate: `crate` is not a readable crate.
    """
    crate = Path(crate)
    graph = read_crate(crate)
    if is_zip(crate):
        with ZippedCrate(crate) as zipped:
            return _verify(graph, crate, zipped)
    return _verify(graph, crate if crate.is_dir() else crate.parent, None)


def _verify(graph: Graph, folder: Path, zipped: ZippedCrate | None) -> VerifyReport:
    descriptor = next(
        (s for s in graph.subjects(SDO.about, None) if str(s).endswith(METADATA_FILE)), None
    )
    base = str(descriptor)[: -len(METADATA_FILE)] if descriptor is not None else ""
    report = VerifyReport(crate=folder)
    for entity in sorted(set(graph.subjects(SDO.sha256, None)), key=str):
        if not isinstance(entity, URIRef):
            continue
        inside = _crate_path(base, entity)
        if inside == "":
            continue  # the root, or an entity named by a fragment: not a file
        path = folder / inside if inside is not None else _outside_path(entity)
        if path is None:
            continue
        label = str(entity)[len(base) :] if inside is not None else str(entity)
        expected_sha = str(graph.value(entity, SDO.sha256))
        size = graph.value(entity, SDO.contentSize)
        if inside is not None and zipped is not None:
            problem = _member_problem(zipped, inside, path, expected_sha, size)
        else:
            problem = _problem(path, expected_sha, size)
        report.checks.append(FileCheck(label, path, problem))
    for run in sorted(set(graph.subjects(FL.modelState, None)), key=str):
        states = list(graph.objects(run, FL.modelState))
        report.lineage_states += len(states)
        report.lineage_problems += _lineage_problems(graph, states, base)
    views = describe(graph)
    report.runs = len(views)
    report.models = [model.name for view in views for model in view.models]
    return report


def _lineage_problems(graph: Graph, states: list[Node], base: str) -> list[str]:
    """What breaks the chain of one run's model states (empty: consistent)."""

    def label(node: Node) -> str:
        return str(node)[len(base) :] if base and str(node).startswith(base) else str(node)

    problems: list[str] = []
    by_round: dict[int, Node] = {}
    for state in states:
        value = graph.value(state, FL.round)
        number = value.toPython() if isinstance(value, Literal) else None
        if not isinstance(number, int) or number < 0:
            problems.append(f"{label(state)}: no round number")
            continue
        if number in by_round:
            problems.append(f"round {number}: two model states")
        by_round[number] = state
        digest = str(graph.value(state, SDO.sha256) or "")
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            problems.append(f"{label(state)}: no SHA-256 of the arrays")
        for saved in graph.objects(state, FL.savedAs):
            if str(graph.value(saved, SDO.sha256) or "").lower() != digest:
                problems.append(
                    f"{label(state)}: saved as {label(saved)}, whose sha256 is not the state's"
                )
    rounds = sorted(by_round)
    for earlier, later in itertools.pairwise(rounds):
        if later != earlier + 1:
            problems.append(f"rounds {earlier + 1}..{later - 1}: no model state (a gap)")
        elif (by_round[later], PROV.wasDerivedFrom, by_round[earlier]) not in graph:
            problems.append(f"round {later}: not derived from round {earlier}'s state")
    return problems


def _member_problem(
    zipped: ZippedCrate, crate_path: str, shown: Path, expected_sha: str, size: object
) -> str | None:
    info = zipped.member(crate_path)
    if info is None:
        return f"{shown}: missing from the zip"
    if isinstance(size, Literal) and str(size).isdigit() and int(str(size)) != info.file_size:
        return f"{shown}: size {info.file_size} bytes, the crate records {size}"
    try:
        actual_sha = zipped.sha256(info)
    except OSError as exc:
        return f"{shown}: {exc}"
    if actual_sha != expected_sha.lower():
        return f"{shown}: sha256 {actual_sha}, the crate records {expected_sha}"
    return None


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
