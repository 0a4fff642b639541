"""Validate crates against the SHACL shapes of the profiles fedcrate ships.

The shapes live in `shapes/<profile>/{must,should,may}/` — the layout crs4's
rocrate-validator reads, so the same files serve both tools (`profiles.py`). The folder
gives each shape's severity; it is added when the shapes are loaded, so the files stay
valid for crs4, which takes severity from the folder itself.

Every severity is always evaluated; `level` is the strictest level that *fails*: with the
default `Level.MUST` only MUST findings make a crate non-conforming, SHOULD findings are
warnings and MAY findings notes; `Level.SHOULD` (`--strict`) fails on SHOULD findings too,
`Level.MAY` on everything.

The findings are those of `pyshacl.validate(crate, shacl_graph=shapes, ont_graph=vocabulary,
inference="rdfs", advanced=True)`, computed faster (tests/unit/validate/test_engine.py
checks they are the same on every corpus crate):

- the crate is read without rdflib's JSON-LD parser (`reading.py`);
- the RDFS closure is computed semi-naively over the vocabulary, closed once (`closure.py`);
- the shapes are compiled once, kept between processes (`cache.py`), and evaluated over
  dict indexes, with SPARQL in Oxigraph where it gives rdflib's answer (`engine.py`,
  `sparql.py`);
- shapes the compiler does not cover, and data outside what it vouches for, are validated
  by pyshacl itself, exactly as before.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from rdflib import RDF, BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS
from rdflib.term import Node

from fedcrate.assets import vocabulary
from fedcrate.errors import NotACrate
from fedcrate.rdf.namespaces import SDO
from fedcrate.validate import cache as prepared_cache
from fedcrate.validate.closure import ClosedBase
from fedcrate.validate.engine import (
    CompiledShapes,
    Evaluator,
    Fallback,
    Result,
    Unsupported,
    compile_shapes,
    parse_path,
)
from fedcrate.validate.profiles import (
    DEFAULT_PROFILE,
    Profile,
    choose_profile,
    lineage,
    shape_files,
    shapes_digest,
)
from fedcrate.validate.profiles import profile as find_profile
from fedcrate.validate.reading import CrateTriples, Terms, read_triples

__all__ = [
    "DEFAULT_PROFILE",
    "Finding",
    "Level",
    "Outcome",
    "Report",
    "shapes_graph",
    "validate",
]

SH = Namespace("http://www.w3.org/ns/shacl#")
Triple = tuple[Node, Node, Node]


class Level(enum.Enum):
    """Requirement levels, as folders of a profile, strictest first."""

    MUST = "must"
    SHOULD = "should"
    MAY = "may"

    @property
    def severity(self) -> URIRef:
        return {Level.MUST: SH.Violation, Level.SHOULD: SH.Warning, Level.MAY: SH.Info}[self]

    def included(self) -> list[Level]:
        """This level and the stricter ones: the levels that fail when this is the level."""
        order = [Level.MUST, Level.SHOULD, Level.MAY]
        return order[: order.index(self) + 1]


_SEVERITY_LEVEL: dict[Node, Level] = {level.severity: level for level in Level}


def _level(severity: Node | None) -> Level:
    """A result's level; a severity other than the three SHACL ones counts as MUST."""
    return _SEVERITY_LEVEL.get(severity, Level.MUST) if severity is not None else Level.MUST


_ORDER = {level: i for i, level in enumerate(Level)}


@dataclass(frozen=True)
class Finding:
    """One requirement a crate does not meet, at its shape's level."""

    level: Level
    shape: str
    """The reporting shape's IRI (its local name identifies the rule)."""
    name: str
    focus: str
    """The entity that fails, as written in the crate (`./`, `#fl-run`, …)."""
    path: str | None
    """The property path checked: an IRI, or SPARQL path syntax (`^http://schema.org/result`)."""
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

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            level=Level(data["level"]),
            shape=data["shape"],
            name=data["name"],
            focus=data["focus"],
            path=data["path"],
            message=data["message"],
            value=data["value"],
        )


@dataclass
class Report:
    """The outcome of validating one crate: every finding, and which of them fail."""

    source: str
    level: Level
    """The strictest level that fails (findings at this level or stricter)."""
    findings: list[Finding] = field(default_factory=list)
    rules_checked: list[tuple[str, str]] = field(default_factory=list)
    """(rule, name) of every shape applied, for reports that list passing checks too."""
    profile: str = DEFAULT_PROFILE
    """The token of the profile applied (its shapes and those of the profiles it builds on)."""
    claimed: bool = True
    """Whether the crate claims that profile in its root's `conformsTo`."""
    note: str | None = None
    engine: str = "compiled"
    """How the shapes ran: `compiled` (fedcrate's engine) or `pyshacl` (the fallback)."""

    @property
    def failures(self) -> list[Finding]:
        """Findings at a failing level: any of them makes the crate non-conforming."""
        failing = self.level.included()
        return [f for f in self.findings if f.level in failing]

    @property
    def warnings(self) -> list[Finding]:
        """Findings below the failing level: reported, but the crate still conforms."""
        failing = self.level.included()
        return [f for f in self.findings if f.level not in failing]

    @property
    def conforms(self) -> bool:
        return not self.failures

    def at(self, level: Level) -> list[Finding]:
        return [f for f in self.findings if f.level is level]

    def to_dict(self) -> dict[str, Any]:
        failing = self.level.included()
        return {
            "source": self.source,
            "profile": self.profile,
            "claimed": self.claimed,
            "note": self.note,
            "level": self.level.value,
            "conforms": self.conforms,
            "failures": len(self.failures),
            "warnings": len(self.warnings),
            "findings": [{**f.to_dict(), "fails": f.level in failing} for f in self.findings],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], rules_checked: list[tuple[str, str]]) -> Report:
        return cls(
            source=data["source"],
            level=Level(data["level"]),
            findings=[Finding.from_dict(f) for f in data["findings"]],
            rules_checked=rules_checked,
            profile=data["profile"],
            claimed=data["claimed"],
            note=data["note"],
            engine=data.get("engine", "compiled"),
        )


@dataclass(frozen=True)
class Outcome:
    """A crate's report, or why it could not be validated at all."""

    source: str
    report: Report | None = None
    error: str | None = None


# -- shapes ----------------------------------------------------------------------------


@cache
def shapes_graph(profile_token: str = DEFAULT_PROFILE) -> Graph:
    """The shapes a profile applies (its own and its shipped ancestors'), with severities.

    Raises:
        UnknownProfile: no shipped profile has that token.
        BrokenInstallation: the shipped shapes are missing or unreadable.
    """
    graph = Graph()
    for item in lineage(profile_token):
        by_level: dict[str, Graph] = {}
        for level, text in shape_files(item):
            by_level.setdefault(level, Graph()).parse(data=text, format="turtle")
        for level_name, part in by_level.items():
            severity = Level(level_name).severity
            shapes = set(part.subjects(RDF.type, SH.NodeShape)) | set(
                part.subjects(RDF.type, SH.PropertyShape)
            )
            shapes |= set(part.objects(None, SH.property))
            for shape in shapes:
                part.add((shape, SH.severity, severity))
            graph += part
            for prefix, namespace in part.namespaces():
                graph.bind(prefix, namespace, override=False)
    return graph


@dataclass
class _Prepared:
    """A profile's shapes, ready to run: compiled, or why pyshacl must run them."""

    compiled: CompiledShapes | None
    unsupported: str | None
    names: dict[str, str]
    rules_checked: list[tuple[str, str]]


def _prepare(profile_token: str) -> _Prepared:
    shapes = shapes_graph(profile_token)
    names = {str(s): str(shapes.value(s, SH.name)) for s in set(shapes.subjects(SH.name, None))}
    checked = sorted(
        {
            (str(s).rsplit("#", 1)[-1], str(shapes.value(s, SH.name)))
            for s in shapes.subjects(SH.name, None)
            if isinstance(s, URIRef)
        }
    )
    try:
        compiled: CompiledShapes | None = compile_shapes(shapes)
        unsupported = None
    except Unsupported as exc:
        compiled, unsupported = None, str(exc)
    return _Prepared(compiled, unsupported, names, checked)


@cache
def prepared(profile_token: str) -> _Prepared:
    """The profile's prepared shapes: from this process, the cache folder, or prepared now."""
    lineage(profile_token)  # an unknown token fails here, before any work
    key = prepared_cache.cache_key("shapes", profile_token, shapes_digest())
    found = prepared_cache.load(key)
    if isinstance(found, _Prepared):
        return found
    made = _prepare(profile_token)
    prepared_cache.store(key, made)
    return made


class _Base:
    """What pyshacl adds to every data graph: the vocabulary it mixes in, closed once."""

    def __init__(self, mixed_in: list[Triple]) -> None:
        from rdflib import RDFS

        constants = [RDF.type, RDF.Property, RDFS.Resource, RDFS.Class, RDFS.subClassOf]
        constants += [RDFS.subPropertyOf, RDFS.domain, RDFS.range, RDFS.Datatype]
        constants += [RDFS.ContainerMembershipProperty, RDFS.member, RDFS.Literal]
        self.terms = Terms(constants)
        triples = self.terms.triples(mixed_in)
        self.closed = ClosedBase(triples)
        for s, p, o in self.closed.triples:
            self.terms.intern(s), self.terms.intern(p), self.terms.intern(o)


def _mixed_in_vocabulary() -> list[Triple]:
    """The vocabulary triples pyshacl puts into the data graph (`ont_graph` mixing)."""
    try:
        from pyshacl import validator as validator_module
    except ImportError:  # older pyshacl: the Validator lives in pyshacl.validate
        import importlib

        validator_module = importlib.import_module("pyshacl.validate")
    if getattr(validator_module, "USE_FULL_MIXIN", False):
        return list(vocabulary())
    from pyshacl.rdfutil.inoculate import inoculate

    mixed = Graph()
    inoculate(mixed, vocabulary())  # type: ignore[arg-type]  # any rdflib Graph will do
    return list(mixed)


@cache
def _base(inference: bool) -> _Base:
    if not inference:
        return _Base([])
    key = prepared_cache.cache_key("vocabulary", shapes_digest())
    found = prepared_cache.load(key)
    if not isinstance(found, list):
        found = _mixed_in_vocabulary()
        prepared_cache.store(key, found)
    return _Base(found)


# -- reading ---------------------------------------------------------------------------


def _crate_base(triples: Iterable[Triple]) -> tuple[str | None, Node | None]:
    """(base IRI, root entity) from the metadata descriptor, or (None, None)."""
    for s, p, o in triples:
        if p == SDO.about and str(s).endswith("/ro-crate-metadata.json"):
            return str(o), o
    return None, None


def _display(node: Node | None, base: str | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, BNode):
        return f"_:{node}"
    text = str(node)
    if base and not isinstance(node, Literal) and text.startswith(base):
        return text[len(base) :] or "./"
    return text


def _read(source: Path | str | Graph, terms: Terms) -> CrateTriples:
    if isinstance(source, Graph):
        return CrateTriples(str(source.identifier), None, terms.triples(source))
    return read_triples(source, terms)


# -- validation ------------------------------------------------------------------------


def _findings_from_results(
    results: list[Result], names: dict[str, str], base: str | None
) -> list[Finding]:
    findings = []
    for r in results:
        shape = _display(r.shape, None) or ""
        name = names.get(str(r.shape)) or shape
        findings.append(
            Finding(
                level=_level(r.severity),
                shape=shape,
                name=name,
                focus=_display(r.focus, base) or "",
                path=r.path.render() if r.path is not None else None,
                message=min(r.messages) if r.messages else name,
                value=_display(r.value, base),
            )
        )
    return findings


def findings_from_report(report: Graph, names: dict[str, str], base: str | None) -> list[Finding]:
    """Findings from a pyshacl results graph (each result once, messages as in the engine)."""
    findings = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        shape = report.value(result, SH.sourceShape)
        messages = sorted(str(m) for m in report.objects(result, SH.resultMessage))
        shape_text = _display(shape, None) or ""
        name = names.get(str(shape)) or shape_text
        path_node = report.value(result, SH.resultPath)
        if isinstance(path_node, BNode):
            try:
                path: str | None = parse_path(report, path_node).render()
            except Unsupported:
                path = _display(path_node, None)
        else:
            path = _display(path_node, None)
        findings.append(
            Finding(
                level=_level(report.value(result, SH.resultSeverity)),
                shape=shape_text,
                name=name,
                focus=_display(report.value(result, SH.focusNode), base) or "",
                path=path,
                message=messages[0] if messages else name,
                value=_display(report.value(result, SH.value), base),
            )
        )
    return findings


def run_pyshacl(
    triples: Iterable[Triple], profile_token: str, *, inference: bool, base: str | None
) -> list[Finding]:
    """The findings plain pyshacl reports for `triples` (the reference the engine matches)."""
    from pyshacl import validate as shacl_validate

    graph = Graph()
    graph.addN((s, p, o, graph) for s, p, o in triples)
    shapes = shapes_graph(profile_token)
    _, results, _ = shacl_validate(
        graph,
        shacl_graph=shapes,
        ont_graph=vocabulary() if inference else None,
        inference="rdfs" if inference else "none",
        advanced=True,
        allow_warnings=False,
        inplace=True,
    )
    return findings_from_report(results, prepared(profile_token).names, base)


def _claims(triples: list[Triple], root: Node | None) -> set[str]:
    if root is None:
        return set()
    return {str(o) for s, p, o in triples if s == root and p == DCTERMS.conformsTo}


def _note(chosen: Profile, claimed: bool, explicit: bool) -> str | None:
    if claimed:
        return None
    how = "as asked" if explicit else "by default"
    return (
        f"the crate does not claim {chosen.label} ({chosen.iri}) in its root's conformsTo; "
        f"validated against {chosen.token} {how}"
    )


def evaluate(
    crate: CrateTriples, profile_token: str, *, inference: bool
) -> tuple[list[Finding], str]:
    """(findings, engine) for a crate's triples against a profile's shapes."""
    ready = prepared(profile_token)
    base, _ = _crate_base(crate.triples)
    if ready.compiled is not None:
        closed = _base(inference).closed.close(crate.triples) if inference else set(crate.triples)
        try:
            results = Evaluator(ready.compiled, closed).run()
            return _findings_from_results(results, ready.names, base), "compiled"
        except Fallback:
            pass
    return run_pyshacl(crate.triples, profile_token, inference=inference, base=base), "pyshacl"


def validate(
    source: Path | str | Graph,
    *,
    profile: str | None = None,
    level: Level | str = Level.MUST,
    inference: bool = True,
) -> Report:
    """Check a crate (folder, metadata file or graph) against a shipped profile.

    `profile` is a token (`fl-crate-0.1`, `fedcrate-0.1`); None chooses the most specific
    shipped profile the crate claims in its root's `conformsTo` (the FL profile when it
    claims none, with a note saying so). Every severity is evaluated; `level` is the
    strictest level that fails. With `inference`, the FL vocabulary's schema.org ↔ PROV-O
    alignment is applied first (RDFS closure), so a crate may state either vocabulary.

    Raises:
        NotACrate: the input is not a readable crate, or has no RO-Crate metadata descriptor.
        UnknownProfile: `profile` names no shipped profile.
        BrokenInstallation: the shipped shapes or vocabulary are missing.
    """
    level = Level(level) if isinstance(level, str) else level
    explicit = find_profile(profile) if profile is not None else None
    crate = _read(source, _base(inference).terms.copy())
    base, root = _crate_base(crate.triples)
    if base is None:
        # Shapes target entities of a crate; without a descriptor nothing is targeted and
        # any JSON-LD (`{"@graph": "x"}`) would "conform".
        raise NotACrate(
            f"{crate.source}: no RO-Crate metadata descriptor (an entity `ro-crate-metadata.json` "
            "that is `about` the root dataset); not an RO-Crate"
        )
    claims = _claims(crate.triples, root)
    if explicit is not None:
        chosen, claimed = explicit, explicit.iri in claims
    else:
        chosen, claimed = choose_profile(claims)
    findings, engine = evaluate(crate, chosen.token, inference=inference)
    findings.sort(key=lambda f: (_ORDER[f.level], f.rule, f.focus, f.path or "", f.value or ""))
    return Report(
        source=crate.source,
        level=level,
        findings=findings,
        rules_checked=prepared(chosen.token).rules_checked,
        profile=chosen.token,
        claimed=claimed,
        note=_note(chosen, claimed, explicit is not None),
        engine=engine,
    )
