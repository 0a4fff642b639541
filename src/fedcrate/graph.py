"""RunRecord → rdflib Graph: the only place that mints triples.

The graph speaks schema.org (what RO-Crate tools read) and states the PROV-O view too
(the run is a `prov:Activity` with `prov:used`, `prov:generated`, `prov:wasAssociatedWith`
and typed start/end times), so a PROV query matches a crate without any inference.
Everything is an IRI under the crate's base: no blank nodes, so reading a written crate
back yields an isomorphic graph and entities can be addressed from SPARQL.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timezone
from types import SimpleNamespace
from urllib.parse import quote

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.term import Node

from .namespaces import (
    DCT,
    FL,
    FL_PROFILE,
    PROCESS_RUN_CRATE,
    PROV,
    RO_CRATE_1_2,
    SDO,
    XSD,
    base_iri,
    crate_path_iri,
    fragment,
    side_iri,
)
from .people import parse_license
from .record import (
    DatasetRef,
    FinalMetric,
    License,
    Metric,
    Parameter,
    PayloadFile,
    Person,
    RoundObservation,
    RoundParticipation,
    RunRecord,
    RunStatus,
    Side,
    SoftwareFacts,
    StrategyFacts,
)
from .redaction import REDACTED

__all__ = ["METADATA_FILE", "RESULT_ROLES", "build_graph", "format_time", "strategy_description"]

# Attribute access on rdflib namespaces builds a URIRef each time (microseconds); a crate
# of 100 rounds mints ~25,000 triples, so the terms are looked up once here.
S = SimpleNamespace(**{name: SDO[name] for name in (
    "CreateAction", "CreativeWork", "Dataset", "DefinedTerm", "MediaObject", "Organization",
    "Person", "PropertyValue", "SoftwareApplication", "SoftwareSourceCode", "about",
    "actionStatus", "additionalProperty", "affiliation", "agent", "author", "contentSize",
    "datePublished", "description", "email", "encodingFormat", "error", "endTime", "hasPart",
    "identifier", "instrument", "license", "mentions", "name", "object", "programmingLanguage",
    "propertyID", "result", "sha256", "softwareRequirements", "startTime", "termCode",
    "unitCode", "url", "value", "version",
)})  # fmt: skip
F = SimpleNamespace(**{name: FL[name] for name in (
    "AggregationStrategy", "FederatedRun", "FinalMetric", "RoundMetric", "RoundParticipation",
    "cohortQuery", "examplesAggregated", "fabHash", "fabId", "fabVersion", "federationId",
    "nodeAuthenticationEnabled", "nodeCount", "nodeIdDigest", "nodesSampled", "numRounds",
    "participation", "projectId", "pythonClass", "repliesFailed", "repliesReceived", "round",
    "roundMetric", "runId", "runtimeMode", "side", "siteCount", "siteName",
    "superlinkAddress", "tlsEnabled",
)})  # fmt: skip
P = SimpleNamespace(**{name: PROV[name] for name in (
    "Activity", "Person", "endedAtTime", "generated", "startedAtTime", "used",
    "wasAssociatedWith", "wasGeneratedBy",
)})  # fmt: skip
TYPE = RDF.type

METADATA_FILE = "ro-crate-metadata.json"
FLOWER_URL = "https://flower.ai/"
Triple = tuple[Node, Node, Node]


RESULT_ROLES = frozenset({"model", "metrics-log"})


def strategy_description(strategy: StrategyFacts) -> str:
    """How a strategy is described, whether as an application or as a source file."""
    return f"Federated aggregation strategy {strategy.class_name} ({strategy.module})."


def format_time(moment: datetime) -> str:
    """ISO 8601 in UTC with exactly three fractional digits and a `+00:00` offset.

    That is the form Process Run Crate checks for (flwrCrate wrote microseconds).
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def _value(value: object) -> Literal:
    """A JSON-representable literal: non-finite floats become their text ("nan", "inf")."""
    if isinstance(value, float) and not math.isfinite(value):
        return Literal(str(value))
    if value is None:
        return Literal("")
    return Literal(value)


def _identifier(value: str) -> Node:
    """A registry id: an IRI when it is one (`urn:uuid:…`, a bare UUID), else text."""
    try:
        return URIRef(uuid.UUID(value).urn)
    except ValueError:
        pass
    return URIRef(value) if value.startswith(("urn:", "http://", "https://")) else Literal(value)


class _Builder:
    """Accumulates triples for one record; `build_graph` is its only user."""

    def __init__(self, record: RunRecord) -> None:
        self.record = record
        self.base = base_iri(record.run_uuid)
        self.root = URIRef(self.base)
        self.run = fragment(self.base, "fl-run")
        self.triples: list[Triple] = []
        self.sides_described: set[URIRef] = set()
        self.licenses_described: set[URIRef] = set()
        self.metric_cache: dict[Metric, tuple[Literal, Node, str]] = {}

    def add(self, subject: Node, predicate: Node, obj: Node) -> None:
        self.triples.append((subject, predicate, obj))

    def add_text(self, subject: Node, predicate: Node, text: str | None) -> None:
        if text:
            self.triples.append((subject, predicate, Literal(text)))

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

    def dataset(self, dataset: DatasetRef) -> URIRef:
        iri = URIRef(dataset.url) if dataset.url else fragment(self.base, "dataset", dataset.name)
        self.add(iri, TYPE, S.Dataset)
        self.add(iri, S.name, Literal(dataset.name))
        self.add_text(iri, S.description, dataset.description)
        if dataset.url:
            self.add(iri, S.url, Literal(dataset.url))
        if dataset.license:
            license_ = parse_license(dataset.license)
            if license_ is not None:
                self.add(iri, S.license, self.license(license_, subject="this dataset"))
        self.add_text(iri, F.cohortQuery, dataset.query)
        self.add_text(iri, F.projectId, dataset.project_id)
        return iri

    def parameter(self, iri: URIRef, parameter: Parameter) -> URIRef:
        self.add(iri, TYPE, S.PropertyValue)
        self.add(iri, S.name, Literal(parameter.name))
        self.add(iri, S.value, _value(parameter.value))
        if parameter.redacted:
            self.add(iri, S.description, Literal(f"Value withheld: {REDACTED}"))
        return iri

    def metric_terms(self, metric: Metric) -> tuple[Literal, Node, str]:
        """(name literal, propertyID node, quoted name), made once per metric."""
        terms = self.metric_cache.get(metric)
        if terms is None:
            name = Literal(metric.name)
            terms = (name, URIRef(metric.iri) if metric.iri else name, quote(metric.name, safe=""))
            self.metric_cache[metric] = terms
        return terms

    def metric_id(self, subject: URIRef, metric: Metric) -> None:
        name, property_id, _ = self.metric_terms(metric)
        self.add(subject, S.name, name)
        self.add(subject, S.propertyID, property_id)

    def final_metric(self, final: FinalMetric) -> URIRef:
        iri = fragment(self.base, "metric", final.side.value, final.metric.name)
        self.add(iri, TYPE, S.PropertyValue)
        self.add(iri, TYPE, F.FinalMetric)
        self.metric_id(iri, final.metric)
        self.add(iri, S.value, _value(final.value))
        self.add(iri, F.side, self.side(final.side))
        self.add(iri, F.round, Literal(final.round))
        self.unit(iri, final.metric)
        return iri

    def unit(self, subject: URIRef, metric: Metric) -> None:
        if metric.unit:
            code = URIRef(metric.unit) if ":" in metric.unit else Literal(metric.unit)
            self.add(subject, S.unitCode, code)

    def observation(self, obs: RoundObservation) -> URIRef:
        # The hot path (rounds × metrics × sides): same IRIs as `fragment`, built directly.
        name, property_id, quoted = self.metric_terms(obs.metric)
        iri = URIRef(f"{self.base}#round-{obs.round}-{obs.side.value}-{quoted}")
        self.triples += (
            (iri, TYPE, F.RoundMetric),
            (iri, TYPE, S.PropertyValue),
            (iri, S.name, name),
            (iri, S.propertyID, property_id),
            (iri, S.value, _value(obs.value)),
            (iri, F.round, Literal(obs.round)),
            (iri, F.side, self.side(obs.side)),
            (self.run, F.roundMetric, iri),
        )
        self.unit(iri, obs.metric)
        return iri

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

    def build(self) -> list[Triple]:
        record, root, run = self.record, self.root, self.run
        descriptor = URIRef(self.base + "ro-crate-metadata.json")
        self.add(descriptor, TYPE, S.CreativeWork)
        self.add(descriptor, S.about, root)
        self.add(descriptor, DCT.conformsTo, RO_CRATE_1_2)

        self.add(root, TYPE, S.Dataset)
        self.add(root, S.name, Literal(record.name))
        self.add(
            root,
            S.description,
            Literal(
                record.description or f"Provenance of the federated-learning run {record.name!r}."
            ),
        )
        self.add(root, S.identifier, Literal(f"urn:uuid:{record.run_uuid}"))
        published = record.ended_at or record.started_at
        self.add(root, S.datePublished, Literal(format_time(published)))
        self.add(root, S.mentions, run)
        for iri, name, version in (
            (PROCESS_RUN_CRATE, "Process Run Crate", "0.5"),
            (FL_PROFILE, "Federated Learning RO-Crate profile", "0.1"),
        ):
            self.add(root, DCT.conformsTo, self.profile(iri, name, version))

        license_iri = self.license(record.license) if record.license else None
        if license_iri is not None:
            self.add(root, S.license, license_iri)
        author = self.person(record.author) if record.author else None
        if author is not None:
            self.add(root, S.author, author)
        agent = self.person(record.agent) if record.agent else author

        self.run_entity(agent)
        for file in record.files:
            iri = self.payload(file, license_iri)
            self.add(root, S.hasPart, iri)
            if file.role in RESULT_ROLES:
                self.add(run, S.result, iri)
                self.add(run, P.generated, iri)
                self.add(iri, P.wasGeneratedBy, run)
        model = next(
            (crate_path_iri(self.base, f.crate_path) for f in record.files if f.role == "model"),
            None,
        )
        for final in record.final_metrics():
            iri = self.final_metric(final)
            self.add(run, S.result, iri)
            if model is not None:
                self.add(model, S.additionalProperty, iri)
        if model is not None and record.model_identifier:
            self.add(model, S.identifier, _identifier(record.model_identifier))
        for obs in record.observations:
            self.observation(obs)
        for participation in record.participation:
            self.participation(participation)
        return self.triples

    def run_entity(self, agent: URIRef | None) -> None:
        record, run = self.record, self.run
        self.add(run, TYPE, S.CreateAction)
        self.add(run, TYPE, P.Activity)
        self.add(run, TYPE, F.FederatedRun)
        self.add(run, S.name, Literal(record.name))
        self.add(run, S.description, Literal(self.run_description()))
        start = format_time(record.started_at)
        self.add(run, S.startTime, Literal(start))
        self.add(run, P.startedAtTime, Literal(start, datatype=XSD.dateTime))
        if record.ended_at is not None:
            end = format_time(record.ended_at)
            self.add(run, S.endTime, Literal(end))
            self.add(run, P.endedAtTime, Literal(end, datatype=XSD.dateTime))
        # Process Run Crate (and its validator) expect the status IRI as a string.
        self.add(run, S.actionStatus, Literal(str(SDO[record.status.value])))
        if record.status is RunStatus.FAILED:
            self.add(run, S.error, Literal(record.error or "unknown error"))
        if agent is not None:
            self.add(run, S.agent, agent)
            self.add(run, P.wasAssociatedWith, agent)

        instruments: list[URIRef] = []
        if record.flower is not None:
            instruments.append(self.software(fragment(self.base, "flower"), record.flower))
        for facts in record.frameworks:
            instruments.append(self.software(fragment(self.base, "software", facts.key), facts))
        if record.strategy is not None:
            instruments.append(self.strategy())
        for iri in instruments:
            self.add(run, S.instrument, iri)

        for dataset in record.datasets:
            iri = self.dataset(dataset)
            # A Dataset is a data entity: RO-Crate wants every one reachable via hasPart.
            self.add(self.root, S.hasPart, iri)
            self.add(run, S.object, iri)
            self.add(run, P.used, iri)
        for parameter in record.config:
            iri = self.parameter(fragment(self.base, "param", parameter.name), parameter)
            self.add(run, S.object, iri)
            self.add(run, P.used, iri)
        self.federation()

    def strategy(self) -> URIRef:
        strategy = self.record.strategy
        assert strategy is not None
        source = next((f for f in self.record.files if f.role == "strategy-source"), None)
        if source is not None and not (strategy.url and strategy.version):
            # A strategy written in the app has no release of its own: the crate holds the
            # source file that defines it (name and description come with the file).
            iri = crate_path_iri(self.base, source.crate_path)
            self.add(iri, TYPE, S.SoftwareSourceCode)
            self.add(iri, S.programmingLanguage, Literal("Python"))
        else:
            iri = fragment(self.base, "fl-strategy")
            facts = SoftwareFacts(
                "fl-strategy", strategy.class_name, strategy.version, url=strategy.url
            )
            self.software(iri, facts)
            self.add(iri, S.description, Literal(strategy_description(strategy)))
        self.add(iri, TYPE, F.AggregationStrategy)
        self.add(iri, F.pythonClass, Literal(f"{strategy.module}.{strategy.class_name}"))
        for parameter in strategy.hyperparameters:
            hp = self.parameter(fragment(self.base, "strategy-param", parameter.name), parameter)
            self.add(iri, S.additionalProperty, hp)
        return iri

    def federation(self) -> None:
        facts, run = self.record.federation, self.run
        for predicate, value in (
            (F.runId, facts.run_id),
            (F.fabId, facts.fab_id),
            (F.fabVersion, facts.fab_version),
            (F.fabHash, facts.fab_hash),
            (F.federationId, facts.federation_id),
            (F.nodeCount, facts.node_count),
            (F.numRounds, facts.num_rounds),
            (F.runtimeMode, facts.mode),
            (F.superlinkAddress, facts.superlink_address),
            (F.tlsEnabled, facts.tls_enabled),
            (F.nodeAuthenticationEnabled, facts.node_authentication),
            (F.siteCount, facts.site_count),
        ):
            if value is not None and value != "":
                self.add(run, predicate, Literal(value))
        for digest in facts.node_id_digests:
            self.add(run, F.nodeIdDigest, Literal(digest))
        for site in facts.site_names:
            self.add(run, F.siteName, Literal(site))

    def participation(self, part: RoundParticipation) -> URIRef:
        iri = fragment(self.base, "participation", part.round, part.side.value)
        self.add(iri, TYPE, F.RoundParticipation)
        self.add(iri, F.round, Literal(part.round))
        self.add(iri, F.side, self.side(part.side))
        for predicate, count in (
            (F.nodesSampled, part.nodes_sampled),
            (F.repliesReceived, part.replies_received),
            (F.repliesFailed, part.replies_failed),
            (F.examplesAggregated, part.examples_aggregated),
        ):
            if count is not None:
                self.add(iri, predicate, Literal(count))
        self.add(self.run, F.participation, iri)
        return iri

    def run_description(self) -> str:
        record = self.record
        parts = []
        if record.strategy is not None:
            parts.append(f"strategy {record.strategy.class_name}")
        rounds = record.federation.num_rounds or (
            max(record.rounds()) if record.observations else None
        )
        if rounds:
            parts.append(f"{rounds} rounds")
        if record.federation.node_count:
            parts.append(f"{record.federation.node_count} nodes")
        detail = f" ({', '.join(parts)})" if parts else ""
        return f"Federated learning with Flower{detail}, recorded by fedcrate."


def build_graph(record: RunRecord) -> Graph:
    """The crate's knowledge graph for `record` (RO-Crate 1.2 + Process Run Crate + FL)."""
    # SimpleMemory: no per-triple context bookkeeping; a crate graph has one context.
    graph = Graph(store="SimpleMemory", bind_namespaces="none")
    graph.bind("schema", SDO)
    graph.bind("prov", PROV)
    graph.bind("fl", FL)
    graph.addN((s, p, o, graph) for s, p, o in _Builder(record).build())
    return graph
