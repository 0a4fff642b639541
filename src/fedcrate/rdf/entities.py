"""What every crate graph mints, whatever framework captured the run.

One builder base for all crate kinds: the metadata descriptor, the root with its
profiles, licence and author, people, software, settings, metric identity and payload
files. `rdf.graph` (a run of any framework) and the framework modules under `rdf/` extend
it, so a fix to how a person or a licence is stated reaches every crate at once.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable
from datetime import datetime, timezone
from types import SimpleNamespace
from urllib.parse import quote

from rdflib import RDF, Graph, Literal, URIRef
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
    "AggregationStrategy", "FederatedRun", "FinalMetric", "RoundParticipation", "RoundValue",
    "cohortQuery", "examplesAggregated", "fabHash", "fabId", "fabVersion", "federationId",
    "nodeAuthenticationEnabled", "nodeCount", "nodeIdDigest", "nodesSampled", "numRounds",
    "participation", "projectId", "pythonClass", "repliesFailed", "repliesReceived", "round",
    "roundValue", "runId", "runtimeMode", "side", "siteCount", "siteName",
    "superlinkAddress", "tlsEnabled",
)})  # fmt: skip
P = SimpleNamespace(**{name: PROV[name] for name in (
    "Activity", "Person", "endedAtTime", "generated", "startedAtTime", "used",
    "wasAssociatedWith", "wasGeneratedBy",
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


def literal_value(value: object) -> Literal:
    """A JSON-representable literal: non-finite floats become their text ("nan", "inf")."""
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

    def add(self, subject: Node, predicate: Node, obj: Node) -> None:
        self.triples.append((subject, predicate, obj))

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
    """A crate's graph holding `triples`, with the prefixes its JSON-LD is written with."""
    # SimpleMemory: no per-triple context bookkeeping; a crate graph has one context.
    graph = Graph(store="SimpleMemory", bind_namespaces="none")
    graph.bind("schema", SDO)
    graph.bind("prov", PROV)
    graph.bind("fl", FL)
    graph.addN((s, p, o, graph) for s, p, o in triples)
    return graph
