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
    FednInvocation,
    FednLocalRecord,
    FednSessionRecord,
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

__all__ = [
    "METADATA_FILE",
    "RESULT_ROLES",
    "build_fedn_local_graph",
    "build_graph",
    "format_time",
    "strategy_description",
]

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
    builder = (
        _FednSessionBuilder(record) if isinstance(record, FednSessionRecord) else _Builder(record)
    )
    graph.addN((s, p, o, graph) for s, p, o in builder.build())
    return graph


# --- FEDn ------------------------------------------------------------------------------
# Builders for FEDn records (src/fedcrate/fedn/ collects the facts). A session is a
# RunRecord plus FEDn facts, so it extends `_Builder`; a crate of local entry-point runs
# and packaging holds several actions and has its own root.

SDO_IS_PART_OF = SDO["isPartOf"]
PROV_WAS_DERIVED_FROM = PROV["wasDerivedFrom"]


def _fedn_software(builder: _Builder, facts: SoftwareFacts) -> URIRef:
    return builder.software(fragment(builder.base, "software", facts.key), facts)


class _FednSessionBuilder(_Builder):
    """A FEDn session: the run as for Flower, plus model trail, rounds and clients."""

    def __init__(self, record: FednSessionRecord) -> None:
        super().__init__(record)
        self.session = record
        self.model_iris: dict[str, URIRef] = {}

    def build(self) -> list[Triple]:
        super().build()
        self.fedn_session()
        return self.triples

    def run_description(self) -> str:
        session = self.session
        parts = []
        if session.strategy is not None:
            parts.append(f"aggregator {session.strategy.class_name}")
        if session.federation.num_rounds:
            parts.append(f"{session.federation.num_rounds} rounds")
        if session.federation.node_count:
            parts.append(f"{session.federation.node_count} clients")
        detail = f" ({', '.join(parts)})" if parts else ""
        return (
            f"Federated learning with FEDn, session {session.session_id}{detail}, "
            "read from the FEDn API and recorded by fedcrate."
        )

    def model(self, model_id: str) -> URIRef:
        iri = self.model_iris.get(model_id)
        if iri is None:
            iri = fragment(self.base, "fedn-model", model_id)
            self.model_iris[model_id] = iri
            self.add(iri, TYPE, S.CreativeWork)
            self.add(iri, TYPE, PROV["Entity"])
            self.add(iri, S.name, Literal(f"FEDn model {model_id}"))
            self.add(iri, S.identifier, Literal(model_id))
        return iri

    def fedn_session(self) -> None:
        session, run = self.session, self.run
        for predicate, value in (
            (FL.sessionId, session.session_id),
            (FL.networkId, session.network_id),
            (FL.helper, session.helper),
            (FL.packageChecksum, session.package_checksum),
        ):
            if value:
                self.add(run, predicate, Literal(value))
        model_file = next(
            (crate_path_iri(self.base, f.crate_path) for f in session.files if f.role == "model"),
            None,
        )
        if model_file is not None and session.final_model:
            # The final model is the File in the crate (its FEDn id: `model_identifier`).
            self.model_iris[session.final_model] = model_file
        for model in session.model_trail:
            iri = self.model(model.model_id)
            if model.round is not None:
                self.add(iri, F.round, Literal(model.round))
            if model.committed_at is not None:
                self.add(iri, SDO["dateCreated"], Literal(format_time(model.committed_at)))
            if model.parent_id:
                self.add(iri, PROV_WAS_DERIVED_FROM, self.model(model.parent_id))
            if model.model_id != session.seed_model:
                self.add(run, P.generated, iri)
                self.add(iri, P.wasGeneratedBy, run)
        if session.seed_model:
            seed = self.model(session.seed_model)
            self.add(run, FL.seedModel, seed)
            self.add(run, S.object, seed)
            self.add(run, P.used, seed)
        if session.package_name:
            package = fragment(self.base, "fedn-package", session.package_name)
            self.add(package, TYPE, S.SoftwareSourceCode)
            self.add(package, TYPE, FL.ComputePackage)
            self.add(package, S.name, Literal(session.package_name))
            if session.package_checksum:
                self.add(package, S.sha256, Literal(session.package_checksum))
            self.add(run, S.instrument, package)
        for facts in session.round_facts:
            iri = fragment(self.base, "fedn-round", facts.round)
            self.add(iri, TYPE, FL.FednRound)
            self.add(iri, S.name, Literal(f"Round {facts.round}"))
            self.add(iri, F.round, Literal(facts.round))
            self.add_text(iri, FL.roundStatus, facts.status)
            if facts.input_model:
                self.add(iri, FL.inputModel, self.model(facts.input_model))
            if facts.output_model:
                self.add(iri, FL.outputModel, self.model(facts.output_model))
            for predicate, count in (
                (FL.requiredUpdates, facts.required_updates),
                (FL.validationCount, facts.validations),
            ):
                if count is not None:
                    self.add(iri, predicate, Literal(count))
            if facts.committed_at is not None:
                self.add(iri, S.endTime, Literal(format_time(facts.committed_at)))
            self.add(run, FL.fednRound, iri)
        for index, client in enumerate(session.clients, start=1):
            iri = fragment(self.base, "fedn-participant", client.label if client.named else index)
            self.add(iri, TYPE, FL.ClientParticipation)
            self.add(iri, S.name, Literal(client.label))
            self.add(iri, FL.updateCount, Literal(client.updates))
            self.add(iri, FL.validationCount, Literal(client.validations))
            self.add(run, FL.clientParticipation, iri)


class _FednLocalBuilder(_Builder):
    """Packaging and local entry-point runs: one action per `fedn` invocation."""

    def __init__(self, record: FednLocalRecord) -> None:
        super().__init__(
            RunRecord(
                name=record.name,
                started_at=record.created_at,
                run_uuid=record.run_uuid,
                author=record.author,
                license=record.license,
            )
        )
        self.local = record
        self.files_described: set[str] = set()

    def file(self, file: PayloadFile, license_iri: URIRef | None) -> URIRef:
        iri = crate_path_iri(self.base, file.crate_path)
        if file.crate_path not in self.files_described:
            self.files_described.add(file.crate_path)
            self.payload(file, license_iri)
            self.add(self.root, S.hasPart, iri)
        return iri

    def build(self) -> list[Triple]:
        local, root = self.local, self.root
        descriptor = URIRef(self.base + "ro-crate-metadata.json")
        self.add(descriptor, TYPE, S.CreativeWork)
        self.add(descriptor, S.about, root)
        self.add(descriptor, DCT.conformsTo, RO_CRATE_1_2)
        self.add(root, TYPE, S.Dataset)
        self.add(root, S.name, Literal(local.name))
        package = local.package.name if local.package else "a FEDn compute package"
        self.add(
            root,
            S.description,
            Literal(
                f"Provenance of {package}: how it was packaged and the local runs of its "
                "entry points (FEDn), recorded by fedcrate."
            ),
        )
        self.add(root, S.identifier, Literal(f"urn:uuid:{local.run_uuid}"))
        ends = [i.ended_at for i in local.invocations]
        if local.packaged:
            ends.append(local.packaged[1])
        self.add(root, S.datePublished, Literal(format_time(max(ends, default=local.created_at))))
        for iri, name, version in (
            (PROCESS_RUN_CRATE, "Process Run Crate", "0.5"),
            (FL_PROFILE, "Federated Learning RO-Crate profile", "0.1"),
        ):
            self.add(root, DCT.conformsTo, self.profile(iri, name, version))
        license_iri = self.license(local.license) if local.license else None
        if license_iri is not None:
            self.add(root, S.license, license_iri)
        agent = self.person(local.author) if local.author else None
        if agent is not None:
            self.add(root, S.author, agent)

        # `#fedn`, like `#flower`: the package may declare fedn too (`#software-fedn`).
        fedn = self.software(fragment(self.base, "fedn"), local.fedn) if local.fedn else None
        package_iri, entry_points = self.package(license_iri)
        for file in local.extra_files:
            self.file(file, license_iri)
        if local.packaged and local.package and local.package.archive:
            self.packaging(package_iri, fedn, agent, license_iri)
        for invocation in local.invocations:
            self.invocation(invocation, entry_points, fedn, agent, license_iri)
        return self.triples

    def package(self, license_iri: URIRef | None) -> tuple[URIRef | None, dict[str, URIRef]]:
        facts = self.local.package
        if facts is None:
            return None, {}
        if facts.archive is not None:
            iri = self.file(facts.archive, license_iri)
        else:
            iri = fragment(self.base, "fedn-package", facts.name)
            self.add(iri, S.name, Literal(facts.name))
        self.add(iri, TYPE, S.SoftwareSourceCode)
        self.add(iri, TYPE, FL.ComputePackage)
        self.add(iri, S.programmingLanguage, Literal("Python"))
        self.add_text(iri, FL.pythonEnvironment, facts.python_env)
        if facts.archive is None:  # with an archive, the sources are what packaging read
            for source in self.local.package_sources:
                self.add(iri, S.hasPart, self.file(source, license_iri))
        for dependency in (*facts.build_dependencies, *facts.dependencies):
            self.add(iri, S.softwareRequirements, _fedn_software(self, dependency))
        entry_points: dict[str, URIRef] = {}
        for entry in facts.entry_points:
            ep = fragment(self.base, "fedn-entry-point", entry.name)
            entry_points[entry.name] = ep
            # Code inside the package (SoftwareSourceCode), not a released application: it
            # has no version of its own, and the `frameworks` query leaves it out.
            self.add(ep, TYPE, FL.EntryPoint)
            self.add(ep, TYPE, S.SoftwareSourceCode)
            self.add(ep, S.name, Literal(entry.name))
            self.add(ep, FL.command, Literal(entry.command))
            self.add(
                ep,
                S.description,
                Literal(f"FEDn entry point {entry.name!r} of {facts.name}: `{entry.command}`."),
            )
            self.add(ep, SDO_IS_PART_OF, iri)
            self.add(iri, FL.entryPoint, ep)
        return iri, entry_points

    def action(
        self,
        iri: URIRef,
        name: str,
        description: str,
        times: tuple[datetime, datetime],
        agent: URIRef | None,
    ) -> None:
        self.add(iri, TYPE, S.CreateAction)
        self.add(iri, TYPE, P.Activity)
        self.add(iri, S.name, Literal(name))
        self.add(iri, S.description, Literal(description))
        for schema_term, prov_term, moment in (
            (S.startTime, P.startedAtTime, times[0]),
            (S.endTime, P.endedAtTime, times[1]),
        ):
            text = format_time(moment)
            self.add(iri, schema_term, Literal(text))
            self.add(iri, prov_term, Literal(text, datatype=XSD.dateTime))
        if agent is not None:
            self.add(iri, S.agent, agent)
            self.add(iri, P.wasAssociatedWith, agent)
        self.add(self.root, S.mentions, iri)

    def uses(self, action: URIRef, entity: URIRef) -> None:
        self.add(action, S.object, entity)
        self.add(action, P.used, entity)

    def makes(self, action: URIRef, entity: URIRef) -> None:
        self.add(action, S.result, entity)
        self.add(action, P.generated, entity)
        self.add(entity, P.wasGeneratedBy, action)

    def packaging(
        self,
        package: URIRef | None,
        fedn: URIRef | None,
        agent: URIRef | None,
        license_iri: URIRef | None,
    ) -> None:
        local = self.local
        assert local.packaged is not None and local.package is not None
        iri = fragment(self.base, "fedn-package-create")
        self.action(
            iri,
            "fedn package create",
            f"The compute package {local.package.name} archived by `fedn package create`; "
            "the archive's sha256 is the checksum FEDn computes for it.",
            local.packaged,
            agent,
        )
        self.add(iri, S.actionStatus, Literal(str(SDO[RunStatus.COMPLETED.value])))
        if fedn is not None:
            self.add(iri, S.instrument, fedn)
        for source in local.package_sources:
            self.uses(iri, self.file(source, license_iri))
        if package is not None:
            self.makes(iri, package)

    def invocation(
        self,
        run: FednInvocation,
        entry_points: dict[str, URIRef],
        fedn: URIRef | None,
        agent: URIRef | None,
        license_iri: URIRef | None,
    ) -> None:
        iri = fragment(self.base, "fedn-run", run.index)
        entry = run.entry_point
        self.action(
            iri,
            f"fedn run {entry.name} ({run.index})",
            f"Local run of the FEDn entry point {entry.name!r} (`{entry.command}`) "
            "through `fedn run`, recorded by fedcrate.",
            (run.started_at, run.ended_at),
            agent,
        )
        self.add(iri, TYPE, FL.EntryPointRun)
        failed = run.exit_code != 0
        status = RunStatus.FAILED if failed else RunStatus.COMPLETED
        self.add(iri, S.actionStatus, Literal(str(SDO[status.value])))
        if failed:
            self.add(iri, S.error, Literal(run.error or f"exit code {run.exit_code}"))
        self.add(iri, FL.exitCode, Literal(run.exit_code))
        entry_iri = entry_points.get(entry.name)
        if entry_iri is None:  # an entry point the package no longer declares
            entry_iri = fragment(self.base, "fedn-entry-point", entry.name)
            self.add(entry_iri, TYPE, FL.EntryPoint)
            self.add(entry_iri, TYPE, S.SoftwareSourceCode)
            self.add(entry_iri, S.name, Literal(entry.name))
            self.add(entry_iri, FL.command, Literal(entry.command))
        self.add(iri, S.instrument, entry_iri)
        if fedn is not None:
            self.add(iri, S.instrument, fedn)
        model_in = self.file(run.model_in, license_iri) if run.model_in else None
        if model_in is not None:
            self.uses(iri, model_in)
        if run.model_out is not None:
            model_out = self.file(run.model_out, license_iri)
            self.makes(iri, model_out)
            if model_in is not None and model_in != model_out:
                self.add(model_out, PROV_WAS_DERIVED_FROM, model_in)
            for parameter in run.metadata:
                pv = fragment(self.base, "fedn-run", run.index, "metadata", parameter.name)
                self.parameter(pv, parameter)
                self.add(model_out, S.additionalProperty, pv)
        for extra in (run.metadata_file, run.validation, run.log):
            if extra is not None:
                self.makes(iri, self.file(extra, license_iri))
        for metric, value in run.metrics:
            pv = fragment(self.base, "fedn-run", run.index, "metric", metric.name)
            self.add(pv, TYPE, S.PropertyValue)
            self.metric_id(pv, metric)
            self.add(pv, S.value, _value(value))
            self.unit(pv, metric)
            self.add(iri, S.result, pv)
            if run.validation is not None:
                self.add(
                    crate_path_iri(self.base, run.validation.crate_path), S.additionalProperty, pv
                )
            if model_in is not None:
                self.add(model_in, S.additionalProperty, pv)


def build_fedn_local_graph(record: FednLocalRecord) -> Graph:
    """The graph of a crate of FEDn packaging and local entry-point runs."""
    graph = Graph(store="SimpleMemory", bind_namespaces="none")
    graph.bind("schema", SDO)
    graph.bind("prov", PROV)
    graph.bind("fl", FL)
    graph.addN((s, p, o, graph) for s, p, o in _FednLocalBuilder(record).build())
    return graph
