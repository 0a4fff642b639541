"""What every crate graph mints, whatever framework captured the run.

One builder base for all crate kinds: the metadata descriptor, the root with its
profiles, licence and author, people, software, settings, metric identity and payload
files. `rdf.graph` (a run of any framework) and the framework modules under `rdf/` extend
it, so a fix to how a person or a licence is stated reaches every crate at once.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.plugins.stores.memory import SimpleMemory
from rdflib.term import Node

from fedcrate.rdf.namespaces import (
    DCT,
    FEDCRATE_PROFILE,
    FL,
    FL_PROFILE,
    PROCESS_RUN_CRATE,
    PROV,
    RO_CRATE_1_2,
    SDO,
    base_iri,
    crate_path_iri,
    fragment,
    side_iri,
)
from fedcrate.record.redaction import REDACTED
from fedcrate.record.run import (
    License,
    Metric,
    Parameter,
    PayloadFile,
    Person,
    Side,
    SoftwareFacts,
)

__all__ = [
    "METADATA_FILE",
    "CrateBuilder",
    "Triple",
    "format_time",
    "identifier_term",
    "literal_value",
    "new_graph",
]

# Attribute access on rdflib namespaces builds a URIRef each time (microseconds); a crate
# of 100 rounds × 10 metrics mints ~12,400 triples, so the terms are looked up once here.
S = SimpleNamespace(**{name: SDO[name] for name in (
    "CreateAction", "CreativeWork", "Dataset", "DefinedTerm", "MediaObject", "Organization",
    "Person", "PropertyValue", "SoftwareApplication", "SoftwareSourceCode", "about",
    "actionStatus", "additionalProperty", "affiliation", "agent", "author", "contentSize",
    "datePublished", "description", "email", "encodingFormat", "error", "endTime", "hasPart",
    "identifier", "instrument", "keywords", "license", "mentions", "name", "object",
    "programmingLanguage", "propertyID", "result", "sha256", "softwareRequirements",
    "startTime", "termCode", "unitCode", "url", "value", "version",
)})  # fmt: skip
F = SimpleNamespace(**{name: FL[name] for name in (
    "Aggregation", "AggregationStrategy", "ClientContribution", "FederatedRun", "FinalMetric",
    "ModelState", "RoundParticipation", "RoundValue", "cohortQuery", "contribution", "errorKind",
    "examplesAggregated", "examplesReported", "fabHash", "fabId", "fabVersion", "federationId",
    "modelState", "nodeAuthenticationEnabled", "nodeCount", "nodeDigest", "nodeIdDigest",
    "nodesSampled", "numRounds", "participation", "projectId", "pythonClass", "repliesFailed",
    "repliesReceived", "replyStatus", "round", "roundValue", "runId", "runtimeMode", "savedAs",
    "side", "siteCount", "siteName", "superlinkAddress", "tlsEnabled",
)})  # fmt: skip
P = SimpleNamespace(**{name: PROV[name] for name in (
    "Activity", "Entity", "Person", "endedAtTime", "generated", "startedAtTime", "used",
    "wasAssociatedWith", "wasDerivedFrom", "wasGeneratedBy",
)})  # fmt: skip
TYPE = RDF.type

METADATA_FILE = "ro-crate-metadata.json"
Triple = tuple[Node, Node, Node]


def format_time(moment: datetime) -> str:
    """ISO 8601 in UTC with exactly three fractional digits and a `+00:00` offset.

    That is the form Process Run Crate checks for (flwrCrate wrote microseconds).
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


# `Literal(x)` for a Python float or int takes ~7 µs (its generic conversion rules), and a
# crate has two per round value. For exactly these two types the result is fixed: the
# lexical form `str(x)`, the datatype xsd:double / xsd:integer, the value `x` itself.
# `_make_number` builds that object directly (≈10x faster), but only where a probe shows it
# equal to rdflib's own in every attribute (`_number_factory`); otherwise `Literal(x)`.
XSD_DOUBLE = URIRef("http://www.w3.org/2001/XMLSchema#double")
"""xsd:double: the one datatype object every number literal made here shares, so that
the serializer (`jsonld_fast`) finds it by identity."""
XSD_INTEGER = URIRef("http://www.w3.org/2001/XMLSchema#integer")
"""xsd:integer, likewise."""
_XSD_DOUBLE, _XSD_INTEGER = XSD_DOUBLE, XSD_INTEGER
_LITERAL_SLOTS = ("_language", "_datatype", "_value", "_ill_typed")


def _make_number(value: float | int) -> Literal:
    """`Literal(value)` for a value of exact type float or int, built directly."""
    literal: Literal = str.__new__(Literal, value)
    literal._language = None
    literal._datatype = _XSD_DOUBLE if type(value) is float else _XSD_INTEGER
    literal._value = value
    literal._ill_typed = None
    return literal


def _same_literal(a: Literal, b: Literal) -> bool:
    return (
        type(a) is type(b)
        and str(a) == str(b)
        and a == b
        and hash(a) == hash(b)
        and a.n3() == b.n3()
        and a.datatype == b.datatype
        and a.language == b.language
        and a.ill_typed == b.ill_typed
        and type(a.value) is type(b.value)
        and (a.value == b.value or a.value != a.value)  # NaN
        and all(repr(getattr(a, slot)) == repr(getattr(b, slot)) for slot in _LITERAL_SLOTS)
    )


def _number_factory() -> Callable[[float | int], Literal]:
    """`_make_number` when it makes rdflib's literals exactly, else `Literal` itself."""
    if tuple(getattr(Literal, "__slots__", ())) != _LITERAL_SLOTS:
        return Literal
    probes: list[float | int] = [0.5, -0.0, 1e-05, 1e300, math.nan, math.inf, 0, -7, 2**70]
    try:
        if all(_same_literal(_make_number(v), Literal(v)) for v in probes):
            return _make_number
    except (AttributeError, TypeError):  # another rdflib's Literal layout
        pass
    return Literal


number_literal = _number_factory()
"""`Literal(x)` for x of exact type float or int (see `_make_number`)."""


def literal_value(value: object) -> Literal:
    """A JSON-representable literal: non-finite floats become their text ("nan", "inf")."""
    kind = type(value)
    if kind is float:
        if math.isfinite(value):  # type: ignore[arg-type]
            return number_literal(value)  # type: ignore[arg-type]
        return Literal(str(value))
    if kind is int:
        return number_literal(value)  # type: ignore[arg-type]
    if isinstance(value, float) and not math.isfinite(value):
        return Literal(str(value))
    if value is None:
        return Literal("")
    return Literal(value)


def identifier_term(value: str) -> Node:
    """A registry id: an IRI when it is one (`urn:uuid:…`, a bare UUID), else text."""
    try:
        return URIRef(uuid.UUID(value).urn)
    except ValueError:
        pass
    return URIRef(value) if value.startswith(("urn:", "http://", "https://")) else Literal(value)


UNNAMED_METRIC = Literal("(unnamed metric)")
"""propertyID of a metric whose name is empty and has no IRI."""


class CrateBuilder:
    """Accumulates the triples of one crate; subclasses add what their records say."""

    def __init__(self, run_uuid: str) -> None:
        self.base = base_iri(run_uuid)
        self.root = URIRef(self.base)
        self.triples: list[Triple] = []
        self.sides_described: set[URIRef] = set()
        self.licenses_described: set[URIRef] = set()
        self.metric_cache: dict[Metric, tuple[Literal, Node, str]] = {}
        self.number_cache: dict[object, Literal] = {}

    def add(self, subject: Node, predicate: Node, obj: Node) -> None:
        self.triples.append((subject, predicate, obj))

    def number(self, value: object) -> Literal:
        """`literal_value(value)`, one object per distinct int or float value of the crate.

        Not keyed by the value alone: `1 == 1.0 == True` and `0.0 == -0.0` as dict keys,
        yet they are four literals. NaN is never found again (NaN != NaN): made each time.
        """
        kind = type(value)
        if kind is not int and kind is not float:
            return literal_value(value)
        key = (kind, value) if value != 0 else (kind, value, math.copysign(1.0, value))
        found = self.number_cache.get(key)
        if found is None:
            found = self.number_cache[key] = literal_value(value)
        return found

    def add_text(self, subject: Node, predicate: Node, text: str | None) -> None:
        if text:
            self.triples.append((subject, predicate, Literal(text)))

    def crate_root(
        self,
        *,
        name: str,
        description: str,
        run_uuid: str,
        published: datetime,
        license_: License | None,
        author: Person | None,
    ) -> tuple[URIRef | None, URIRef | None]:
        """The descriptor and the root Dataset with its profiles; (licence, author) IRIs.

        Every crate kind states the same root: RO-Crate 1.2, Process Run Crate, the FL
        profile and fedcrate's profile built on it in `conformsTo`, the run's UUID as
        `identifier` (which gives the base back when the crate is read), the licence and
        the author.
        """
        root = self.root
        descriptor = URIRef(self.base + METADATA_FILE)
        self.add(descriptor, TYPE, S.CreativeWork)
        self.add(descriptor, S.about, root)
        self.add(descriptor, DCT.conformsTo, RO_CRATE_1_2)
        self.add(root, TYPE, S.Dataset)
        self.add(root, S.name, Literal(name))
        self.add(root, S.description, Literal(description))
        self.add(root, S.identifier, Literal(f"urn:uuid:{run_uuid}"))
        self.add(root, S.datePublished, Literal(format_time(published)))
        for iri, profile_name, version in (
            (PROCESS_RUN_CRATE, "Process Run Crate", "0.5"),
            (FL_PROFILE, "Federated Learning RO-Crate profile", "0.1"),
            (FEDCRATE_PROFILE, "fedcrate RO-Crate profile", "0.1"),
        ):
            self.add(root, DCT.conformsTo, self.profile(iri, profile_name, version))
        license_iri = self.license(license_) if license_ is not None else None
        if license_iri is not None:
            self.add(root, S.license, license_iri)
        author_iri = self.person(author) if author is not None else None
        if author_iri is not None:
            self.add(root, S.author, author_iri)
        return license_iri, author_iri

    # -- entities ---------------------------------------------------------------------

    def person(self, person: Person) -> URIRef:
        iri = (
            URIRef(person.orcid)
            if person.orcid
            else fragment(self.base, "person", person.name or "anonymous")
        )
        self.add(iri, TYPE, S.Person)
        self.add(iri, TYPE, P.Person)
        self.add_text(iri, S.name, person.name)
        if person.email:
            self.add(iri, S.email, Literal(person.email))
        if person.affiliation is not None:
            org = person.affiliation
            org_iri = URIRef(org.iri) if org.iri else fragment(self.base, "org", org.name)
            self.add(org_iri, TYPE, S.Organization)
            self.add_text(org_iri, S.name, org.name)
            self.add(iri, S.affiliation, org_iri)
        return iri

    def license(self, license_: License, subject: str = "this crate") -> URIRef:
        iri = URIRef(license_.iri)
        if iri not in self.licenses_described:
            self.licenses_described.add(iri)
            self.add(iri, TYPE, S.CreativeWork)
            self.add_text(iri, S.name, license_.name)
            self.add(iri, S.description, Literal(f"The license of {subject}: {license_.name}."))
        return iri

    def side(self, side: Side) -> URIRef:
        """The side as a contextual entity, so RO-Crate readers can show what it means."""
        iri = side_iri(side)
        if iri not in self.sides_described:
            self.sides_described.add(iri)
            self.add(iri, TYPE, S.DefinedTerm)
            self.add(iri, S.name, Literal(side.label))
            self.add(iri, S.termCode, Literal(side.value))
        return iri

    def profile(self, iri: URIRef, name: str, version: str) -> URIRef:
        self.add(iri, TYPE, S.CreativeWork)
        self.add(iri, TYPE, URIRef("http://www.w3.org/ns/dx/prof/Profile"))
        self.add_text(iri, S.name, name)
        self.add_text(iri, S.version, version)
        return iri

    def software(self, iri: URIRef, facts: SoftwareFacts) -> URIRef:
        self.add(iri, TYPE, S.SoftwareApplication)
        self.add_text(iri, S.name, facts.name)
        if facts.url:
            self.add(iri, S.url, Literal(facts.url))
        # RO-Crate 1.2 requires `version`; Process Run Crate asks for it alone, not
        # next to `softwareVersion`.
        self.add_text(iri, S.version, facts.installed_version)
        self.add_text(iri, S.softwareRequirements, facts.declared_spec)
        return iri

    def parameter(self, iri: URIRef, parameter: Parameter) -> URIRef:
        self.add(iri, TYPE, S.PropertyValue)
        self.add(iri, S.name, Literal(parameter.name))
        self.add(iri, S.value, literal_value(parameter.value))
        if parameter.redacted:
            self.add(iri, S.description, Literal(f"Value withheld: {REDACTED}"))
        return iri

    def metric_terms(self, metric: Metric) -> tuple[Literal, Node, str]:
        """(name literal, propertyID node, quoted name), made once per metric."""
        terms = self.metric_cache.get(metric)
        if terms is None:
            name = Literal(metric.name)
            # The FL profile: a metric MUST have a non-empty propertyID. Without an IRI the
            # name serves; an empty name (a `""` key in a MetricRecord) gets a stand-in.
            property_id: Node = (
                URIRef(metric.iri) if metric.iri else name if metric.name else UNNAMED_METRIC
            )
            terms = (name, property_id, quote(metric.name, safe=""))
            self.metric_cache[metric] = terms
        return terms

    def metric_id(self, subject: URIRef, metric: Metric) -> None:
        name, property_id, _ = self.metric_terms(metric)
        self.add(subject, S.name, name)
        self.add(subject, S.propertyID, property_id)

    def unit(self, subject: URIRef, metric: Metric) -> None:
        if metric.unit:
            code = URIRef(metric.unit) if ":" in metric.unit else Literal(metric.unit)
            self.add(subject, S.unitCode, code)

    def payload(self, file: PayloadFile, license_iri: URIRef | None) -> URIRef:
        iri = crate_path_iri(self.base, file.crate_path)
        self.add(iri, TYPE, S.MediaObject)
        self.add_text(iri, S.name, file.name)
        self.add_text(iri, S.description, file.description)
        self.add_text(iri, S.encodingFormat, file.encoding_format)
        self.add(iri, S.sha256, Literal(file.sha256))
        self.add(iri, S.contentSize, Literal(str(file.size)))
        if license_iri is not None:
            self.add(iri, S.license, license_iri)
        return iri

    # -- the whole crate --------------------------------------------------------------


def new_graph(triples: Iterable[Triple]) -> Graph:
    """A crate's graph holding `triples`, with the prefixes its JSON-LD is written with.

    Its store is a `CrateStore` (a SimpleMemory: no per-triple context bookkeeping; a crate
    graph has one context), filled directly where a probe shows that equal to `add`.
    """
    store = CrateStore() if _BULK_FILL else SimpleMemory()
    graph = Graph(store=store, bind_namespaces="none")
    graph.bind("schema", SDO)
    graph.bind("prov", PROV)
    graph.bind("fl", FL)
    indices = _indices(store) if _BULK_FILL else None
    if indices is None or not isinstance(store, CrateStore):
        graph.addN((s, p, o, graph) for s, p, o in triples)
    else:
        _fill(store, indices, triples)
    return graph


class CrateStore(SimpleMemory):
    """A SimpleMemory whose object index (osp) is made when a query first needs it.

    Filling osp is half the cost of filling the store (a dict and a Literal hash per
    literal object), and writing a crate never asks for a triple by its object alone: the
    serializer reads spo, the preview spo and pos. Until then the triples the store was
    filled with are kept; the first query by object alone, and any `add` or `remove`,
    makes osp from them in their order, so it is then exactly SimpleMemory's.
    """

    def __init__(self, configuration: str | None = None, identifier: Any = None) -> None:
        super().__init__(configuration, identifier)
        self._osp_source: list[Triple] | None = None

    def _osp_ready(self) -> None:
        source = self._osp_source
        if source is not None:
            self._osp_source = None
            osp: _Index = vars(self)["_SimpleMemory__osp"]
            for s, p, o in source:
                osp.setdefault(o, {}).setdefault(s, {})[p] = 1

    def add(self, triple: Any, context: Any, quoted: bool = False) -> None:
        self._osp_ready()
        super().add(triple, context, quoted)

    def remove(self, triple_pattern: Any, context: Any = None) -> None:
        self._osp_ready()
        super().remove(triple_pattern, context)

    def triples(self, triple_pattern: Any, context: Any = None) -> Iterator[Any]:
        if self._osp_source is not None:
            subject, predicate, obj = triple_pattern
            if subject is None and predicate is None and obj is not None:
                self._osp_ready()  # SimpleMemory reads (None, None, o) from osp
        return super().triples(triple_pattern, context)


# `Graph.addN` costs ~5 µs a triple (generators, a node check per term, then the store's
# `add` with three try/except lookups); a crate of 100 rounds × 10 metrics has 12,400. The
# SimpleMemory store is three nested dicts that `add` fills and nothing else; `_fill` fills
# them the same way in one loop (osp when first needed, `CrateStore`). Used only where the
# store is laid out as rdflib 7's (`_STORE_STATE`) and a probe leaves it exactly as `add`
# does; else `addN`.
_Index = dict[Node, dict[Node, dict[Node, int]]]
_STORE_STATE = frozenset(
    {
        "_SimpleMemory__spo",
        "_SimpleMemory__pos",
        "_SimpleMemory__osp",
        "_SimpleMemory__namespace",
        "_SimpleMemory__prefix",
        "_Store__node_pickler",
        "dispatcher",
        "identifier",
        "_osp_source",
    }
)


def _fill(store: CrateStore, indices: tuple[_Index, _Index], triples: Iterable[Triple]) -> None:
    """What `SimpleMemory.add` does for each triple: spo[s][p][o] = pos[p][o][s] = 1, and
    osp[o][s][p] = 1 when first needed (`CrateStore`).

    `setdefault` hashes each key once: a Literal's hash is a Python method (~0.5 µs), and
    half of a crate's objects are literals.
    """
    spo, pos = indices
    source = triples if isinstance(triples, list) else list(triples)
    for s, p, o in source:
        spo.setdefault(s, {}).setdefault(p, {})[o] = 1
        pos.setdefault(p, {}).setdefault(o, {})[s] = 1
    store._osp_source = source


def _indices(store: object) -> tuple[_Index, _Index] | None:
    """A fresh CrateStore's spo and pos dicts, where they are as rdflib 7 keeps them."""
    if type(store) is not CrateStore or set(vars(store)) != _STORE_STATE:
        return None
    state = vars(store)
    spo, pos, osp = (state[f"_SimpleMemory__{name}"] for name in ("spo", "pos", "osp"))
    if not all(type(index) is dict and not index for index in (spo, pos, osp)):
        return None
    return spo, pos


def _bulk_fill_works() -> bool:
    """Whether `_fill` leaves a CrateStore exactly as `add` leaves a SimpleMemory (checked
    once, osp made by a query by object)."""
    a, b = URIRef("urn:fedcrate:a"), URIRef("urn:fedcrate:b")
    probe = [(a, TYPE, b), (a, b, Literal(1)), (b, b, a), (a, TYPE, b), (a, b, Literal("x"))]
    by_add, by_fill = SimpleMemory(), CrateStore()
    graph = Graph(store=by_add, bind_namespaces="none")
    for triple in probe:
        graph.add(triple)
    indices = _indices(by_fill)
    if indices is None:
        return False
    _fill(by_fill, indices, probe)
    by_object = [t for t, _ in by_fill.triples((None, None, b))]
    if by_object != [t for t, _ in by_add.triples((None, None, b))]:
        return False
    return all(
        repr(vars(by_add)[name]) == repr(vars(by_fill)[name])
        for name in ("_SimpleMemory__spo", "_SimpleMemory__pos", "_SimpleMemory__osp")
    )


_BULK_FILL = _bulk_fill_works()
