"""Validate crates against the SHACL shapes of the FL profile (pyshacl + owlrl).

The shapes live in `shapes/fl-crate/{must,should,may}/` — the layout crs4's
rocrate-validator reads, so the same files serve both tools. The folder gives each
shape's severity; it is added when the shapes are loaded (once per process and level),
so the files stay valid for crs4, which takes severity from the folder itself.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.term import Node

from fedcrate.assets import asset_dir, vocabulary
from fedcrate.crate.reader import read_crate
from fedcrate.errors import NotACrate
from fedcrate.rdf.namespaces import SDO

__all__ = ["PROFILE_TOKEN", "Finding", "Level", "Report", "shapes_graph", "validate"]

SH = Namespace("http://www.w3.org/ns/shacl#")
PROFILE_TOKEN = "fl-crate"


class Level(enum.Enum):
    """Requirement levels, as folders of the profile; each includes the stricter ones."""

    MUST = "must"
    SHOULD = "should"
    MAY = "may"

    @property
    def severity(self) -> URIRef:
        return {Level.MUST: SH.Violation, Level.SHOULD: SH.Warning, Level.MAY: SH.Info}[self]

    def included(self) -> list[Level]:
        order = [Level.MUST, Level.SHOULD, Level.MAY]
        return order[: order.index(self) + 1]


_SEVERITY_LEVEL = {level.severity: level for level in Level}


@dataclass(frozen=True)
class Finding:
    """One requirement a crate does not meet."""

    level: Level
    shape: str
    """The reporting shape's IRI (its local name identifies the rule)."""
    name: str
    focus: str
    """The entity that fails, as written in the crate (`./`, `#fl-run`, …)."""
    path: str | None
    message: str
    value: str | None = None

    @property
    def rule(self) -> str:
        return self.shape.rsplit("#", 1)[-1].rsplit("/", 1)[-1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level.value,
            "rule": self.rule,
            "shape": self.shape,
            "name": self.name,
            "focus": self.focus,
            "path": self.path,
            "message": self.message,
            "value": self.value,
        }


@dataclass
class Report:
    """The outcome of validating one crate at one level."""

    source: str
    level: Level
    findings: list[Finding] = field(default_factory=list)
    rules_checked: list[tuple[str, str]] = field(default_factory=list)
    """(rule, name) of every shape applied, for reports that list passing checks too."""

    @property
    def conforms(self) -> bool:
        return not self.findings

    def at(self, level: Level) -> list[Finding]:
        return [f for f in self.findings if f.level is level]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "level": self.level.value,
            "conforms": self.conforms,
            "findings": [f.to_dict() for f in self.findings],
        }


@cache
def shapes_graph(level: Level = Level.SHOULD) -> Graph:
    """The FL profile's shapes up to `level`, each tagged with its folder's severity."""
    graph = Graph()
    profile = asset_dir("shapes").joinpath(PROFILE_TOKEN)
    for included in level.included():
        folder = profile.joinpath(included.value)
        part = Graph()
        for entry in sorted(folder.iterdir(), key=lambda e: e.name) if folder.is_dir() else []:
            if entry.name.endswith(".ttl"):
                part.parse(data=entry.read_text(encoding="utf-8"), format="turtle")
        shapes = set(part.subjects(RDF.type, SH.NodeShape)) | set(
            part.subjects(RDF.type, SH.PropertyShape)
        )
        shapes |= set(part.objects(None, SH.property))
        for shape in shapes:
            part.add((shape, SH.severity, included.severity))
        graph += part
        for prefix, namespace in part.namespaces():
            graph.bind(prefix, namespace, override=False)
    return graph


def _crate_base(graph: Graph) -> str | None:
    for descriptor, root in graph.subject_objects(SDO.about):
        if str(descriptor).endswith("/ro-crate-metadata.json"):
            return str(root)
    return None


def _display(node: Node | None, base: str | None) -> str | None:
    if node is None:
        return None
    text = str(node)
    if base and text.startswith(base):
        return text[len(base) :] or "./"
    return text


def validate(
    source: Path | str | Graph,
    *,
    level: Level | str = Level.SHOULD,
    inference: bool = True,
) -> Report:
    """Check a crate (folder, metadata file or graph) against the FL profile up to `level`.

    With `inference`, the FL vocabulary's schema.org ↔ PROV-O alignment is applied first
    (RDFS closure via owlrl), so a crate may state either vocabulary.

    Raises:
        NotACrate: the input is not a readable crate, or has no RO-Crate metadata descriptor.
        BrokenInstallation: the shipped shapes or vocabulary are missing.
    """
    from pyshacl import validate as shacl_validate  # heavy import, only when validating

    level = Level(level) if isinstance(level, str) else level
    owned = not isinstance(source, Graph)
    graph = source if isinstance(source, Graph) else read_crate(Path(source))
    if _crate_base(graph) is None:
        # Shapes target entities of a crate; without a descriptor nothing is targeted and
        # any JSON-LD (`{"@graph": "x"}`) would "conform".
        where = getattr(source, "identifier", source) if isinstance(source, Graph) else source
        raise NotACrate(
            f"{where}: no RO-Crate metadata descriptor (an entity `ro-crate-metadata.json` "
            "that is `about` the root dataset); not an RO-Crate"
        )
    if not graph.store.context_aware:
        # pyshacl mixes the ontology in through a ConjunctiveGraph, which needs a
        # context-aware store (build_graph's SimpleMemory is not): copy, then own it.
        copy = Graph()
        copy += graph
        graph, owned = copy, True
    shapes = shapes_graph(level)
    _, results, _ = shacl_validate(
        graph,
        shacl_graph=shapes,
        ont_graph=vocabulary() if inference else None,
        inference="rdfs" if inference else "none",
        advanced=True,
        allow_warnings=False,
        # A graph we parsed ourselves may be expanded in place: skips a full copy.
        inplace=owned,
    )
    base = _crate_base(graph)
    findings = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        severity = results.value(result, SH.resultSeverity)
        shape = results.value(result, SH.sourceShape)
        name = shapes.value(shape, SH.name) if shape is not None else None
        message = results.value(result, SH.resultMessage)
        findings.append(
            Finding(
                level=_SEVERITY_LEVEL.get(severity, Level.MUST),
                shape=str(shape),
                name=str(name or shape),
                focus=_display(results.value(result, SH.focusNode), base) or "",
                path=_display(results.value(result, SH.resultPath), None),
                message=str(message) if message is not None else str(name or shape),
                value=_display(results.value(result, SH.value), base),
            )
        )
    order = {lvl: i for i, lvl in enumerate(Level)}
    findings.sort(key=lambda f: (order[f.level], f.rule, f.focus, f.path or ""))
    checked = sorted(
        {
            (str(s).rsplit("#", 1)[-1], str(shapes.value(s, SH.name)))
            for s in shapes.subjects(SH.name, None)
            if isinstance(s, URIRef)
        }
    )
    label = source if isinstance(source, Graph) else Path(source)
    return Report(
        source=str(label.identifier if isinstance(label, Graph) else label),
        level=level,
        findings=findings,
        rules_checked=checked,
    )
