"""A run's knowledge graph: `RunRecord` → rdflib Graph, whatever framework ran it.

The graph speaks schema.org (what RO-Crate tools read) and states the PROV-O view too
(the run is a `prov:Activity` with `prov:used`, `prov:generated`, `prov:wasAssociatedWith`
and typed start/end times), so a PROV query matches a crate without any inference.
Everything is an IRI under the crate's base: no blank nodes, so reading a written crate
back yields an isomorphic graph and entities can be addressed from SPARQL.

Metrics are series: one `PropertyValue` + `fl:FinalMetric` per side and metric, in the
run's `result` as the FL profile requires of metric PropertyValues, stating the metric once
(name, propertyID, side, unit) with its final value; each round's value hangs from it
(`fl:roundValue`) as an `fl:RoundValue` of four triples (link, type, round, value).

This module knows no framework: a framework whose records extend `RunRecord` with facts
of their own registers a builder subclass for them (`register_builder`) from its own
module under `rdf/`.
"""

from __future__ import annotations

from dataclasses import replace

from rdflib import Graph, Literal, URIRef

from fedcrate.rdf.entities import (
    TYPE,
    CrateBuilder,
    F,
    P,
    S,
    Triple,
    format_time,
    identifier_term,
    literal_value,
    new_graph,
)
from fedcrate.rdf.namespaces import SDO, XSD, crate_path_iri, fragment
from fedcrate.record.normalize import parse_license
from fedcrate.record.run import (
    DatasetRef,
    FinalMetric,
    Metric,
    RoundObservation,
    RoundParticipation,
    RunRecord,
    RunStatus,
    Side,
    SoftwareFacts,
    StrategyFacts,
    complete_observations,
)

__all__ = [
    "RESULT_ROLES",
    "RunGraphBuilder",
    "build_graph",
    "register_builder",
    "series_finals",
    "strategy_description",
]

RESULT_ROLES = frozenset({"model", "metrics-log"})


def _uriref_of_valid_text(text: str) -> URIRef:
    """`URIRef(text)` for a text known to be a valid IRI, without its per-character check.

    `URIRef()` scans the text for characters no IRI holds (~0.6 µs); a round value's IRI is
    the base, fixed words and percent-encoded parts, so the scan cannot find one.
    """
    return str.__new__(URIRef, text)


# The direct construction only where it makes what `URIRef()` makes (checked once).
_PROBE = "arcp://uuid,00000000-0000-4000-8000-000000000000/#round-1-server-evaluate-a%20b"
_iri = (
    _uriref_of_valid_text
    if type(_uriref_of_valid_text(_PROBE)) is URIRef
    and _uriref_of_valid_text(_PROBE) == URIRef(_PROBE)
    else URIRef
)


def strategy_description(strategy: StrategyFacts) -> str:
    """How a strategy is described, whether as an application or as a source file."""
    return f"Federated aggregation strategy {strategy.class_name} ({strategy.module})."


def series_finals(record: RunRecord) -> list[FinalMetric]:
    """One final value per (side, metric) with any observation: the heads of the series.

    `RunRecord.final_metrics` gives each series' last computed value. A series whose every
    value was "not computed" has none, yet its round values need a series to hang from: it
    gets NaN at its last round, which says exactly that.
    """
    finals = {(f.side, f.metric.name): f for f in record.final_metrics()}
    uncomputed: dict[tuple[Side, str], RoundObservation] = {}
    for obs in record.observations:
        key = (obs.side, obs.metric.name)
        if key in finals:
            continue
        last = uncomputed.get(key)
        if last is None or obs.round >= last.round:
            uncomputed[key] = obs
    finals.update(
        (key, FinalMetric(o.side, o.metric, o.value, o.round)) for key, o in uncomputed.items()
    )
    return [finals[key] for key in sorted(finals, key=lambda k: (k[0].value, k[1]))]


class RunGraphBuilder(CrateBuilder):
    """The triples of one run: the root, the `CreateAction` and everything it links."""

    def __init__(self, record: RunRecord) -> None:
        super().__init__(record.run_uuid)
        self.record = record
        self.run = fragment(self.base, "fl-run")

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

    def final_metric(self, final: FinalMetric) -> URIRef:
        """The series of one metric on one side: what was measured, and its final value.

        The FL profile wants performance metrics as PropertyValues linked from the run's
        `result`; the series is that PropertyValue. It states the metric's identity
        (name, propertyID, side, unit) once, its final value and that value's round, and
        links every per-round value (`observation`) through `fl:roundValue`.
        """
        iri = fragment(self.base, "metric", final.side.value, final.metric.name)
        self.add(iri, TYPE, S.PropertyValue)
        self.add(iri, TYPE, F.FinalMetric)
        self.metric_id(iri, final.metric)
        self.add(iri, S.value, literal_value(final.value))
        self.add(iri, F.side, self.side(final.side))
        self.add(iri, F.round, Literal(final.round))
        self.unit(iri, final.metric)
        return iri

    def observation(self, obs: RoundObservation, series: URIRef, tail: str) -> URIRef:
        """One value of `series` at one round: four triples, everything else is the series'.

        Not a PropertyValue: its name, propertyID, side and unit are its series', so the
        profile's rule that metric PropertyValues hang from `result` is met by the series.
        `tail` is `-<side>-<quoted metric name>`, the end of its IRI.
        """
        # The hot path (rounds × metrics × sides): the IRI `fragment` makes, built directly
        # (`_iri`); a round's and a value's literal made once (`number`), so equal ones
        # are one object, which the store finds by identity instead of rdflib's `__eq__`.
        iri = _iri(f"{self.base}#round-{obs.round}{tail}")
        self.triples += (
            (series, F.roundValue, iri),
            (iri, TYPE, F.RoundValue),
            (iri, F.round, self.number(obs.round)),
            (iri, S.value, self.number(obs.value)),
        )
        return iri

    def build(self) -> list[Triple]:
        record, root, run = self.record, self.root, self.run
        license_iri, author = self.crate_root(
            name=record.name,
            description=record.description
            or f"Provenance of the federated-learning run {record.name!r}.",
            run_uuid=record.run_uuid,
            published=record.ended_at or record.started_at,
            license_=record.license,
            author=record.author,
        )
        # RO-Crate puts a crate's keywords on its root (a CreativeWork property); one
        # value per keyword, so a keyword holding a comma stays one keyword and SPARQL
        # matches each exactly (schema.org allows repeating the property).
        for keyword in record.keywords:
            self.add_text(root, S.keywords, keyword)
        self.add(root, S.mentions, run)
        agent = self.person(record.agent) if record.agent else author

        self.run_entity(agent)
        for file in record.files:
            iri = self.payload(file, license_iri)
            self.add(root, S.hasPart, iri)
            if file.role in RESULT_ROLES:
                self.add(run, S.result, iri)
                self.add(run, P.generated, iri)
                self.add(iri, P.wasGeneratedBy, run)
            if file.role == "metrics-log":
                # The log documents the run; `about` says so, and that it is not the model
                # (the FL profile's output model is a result that documents nothing else).
                self.add(iri, S.about, run)
        model = next(
            (crate_path_iri(self.base, f.crate_path) for f in record.files if f.role == "model"),
            None,
        )
        series: dict[tuple[Side, str], URIRef] = {}
        for final in series_finals(record):
            iri = self.final_metric(final)
            series[final.side, final.metric.name] = iri
            self.add(run, S.result, iri)
            if model is not None:
                self.add(model, S.additionalProperty, iri)
        if model is not None and record.model_identifier:
            self.add(model, S.identifier, identifier_term(record.model_identifier))
        # One lookup per observation: its series and the tail of its IRI, per (side, metric).
        heads: dict[tuple[Side, Metric], tuple[URIRef, str]] = {}
        for obs in record.observations:
            head = heads.get((obs.side, obs.metric))
            if head is None:
                _, _, quoted = self.metric_terms(obs.metric)
                head = (series[obs.side, obs.metric.name], f"-{obs.side.value}-{quoted}")
                heads[obs.side, obs.metric] = head
            self.observation(obs, *head)
        phases = {(p.round, p.side): self.participation(p) for p in record.participation}
        self.contributions(phases)
        self.model_lineage(model)
        return self.triples

    def contributions(self, phases: dict[tuple[int, Side], URIRef]) -> None:
        """Each sampled node's contribution to a phase of a round, in its counts
        (`fl:contribution`) and used by the phase's aggregation (PROV); the metrics of
        its reply are PropertyValues in the run's `result`, as the FL profile wants every
        performance metric, with the aggregates' propertyIDs."""
        run, aggregations = self.run, set()
        for item in self.record.contributions:
            phase = phases.get((item.round, item.side))
            if phase is None:
                phase = phases[(item.round, item.side)] = self.participation(
                    RoundParticipation(item.round, item.side)
                )
            aggregation = fragment(self.base, "aggregation", item.round, item.side.value)
            if aggregation not in aggregations:
                aggregations.add(aggregation)
                self.add(aggregation, TYPE, F.Aggregation)
                self.add(aggregation, TYPE, P.Activity)
                self.add(aggregation, F.round, Literal(item.round))
                self.add(aggregation, F.side, self.side(item.side))
                self.add(phase, P.wasGeneratedBy, aggregation)
            iri = fragment(self.base, "contribution", item.round, item.side.value, item.node_digest)
            self.add(iri, TYPE, F.ClientContribution)
            self.add(iri, TYPE, P.Entity)
            self.add(iri, F.round, Literal(item.round))
            self.add(iri, F.side, self.side(item.side))
            self.add(iri, F.nodeDigest, Literal(item.node_digest))
            self.add(iri, F.replyStatus, Literal(item.status.value))
            if item.error_kind is not None:
                self.add(iri, F.errorKind, Literal(item.error_kind))
            if item.examples is not None:
                self.add(iri, F.examplesReported, Literal(item.examples))
            self.add(phase, F.contribution, iri)
            self.add(aggregation, P.used, iri)
            for entry in item.metrics:
                value = fragment(
                    self.base,
                    "contribution",
                    item.round,
                    item.side.value,
                    item.node_digest,
                    entry.metric.name,
                )
                self.add(value, TYPE, S.PropertyValue)
                self.metric_id(value, entry.metric)
                self.add(value, S.value, literal_value(entry.value))
                self.unit(value, entry.metric)
                self.add(iri, S.additionalProperty, value)
                self.add(run, S.result, value)

    def model_lineage(self, model: URIRef | None) -> None:
        """The global model's states, each derived from the previous round's; the model
        file is `fl:savedAs` of the state whose bytes it holds (same sha256)."""
        run, states = self.run, self.record.model_states
        model_sha = next((f.sha256 for f in self.record.files if f.role == "model"), None)
        previous: URIRef | None = None
        previous_round: int | None = None
        for state in states:
            iri = fragment(self.base, "model-state", state.round)
            self.add(iri, TYPE, F.ModelState)
            self.add(iri, TYPE, P.Entity)
            name = f"global model after round {state.round}" if state.round else "initial model"
            self.add(iri, S.name, Literal(name))
            self.add(iri, F.round, Literal(state.round))
            self.add(iri, S.sha256, Literal(state.sha256))
            self.add(iri, S.contentSize, Literal(str(state.content_size)))
            self.add(run, F.modelState, iri)
            if state.round == 0:
                self.add(run, P.used, iri)
            else:
                self.add(iri, P.wasGeneratedBy, run)
            if previous is not None and previous_round == state.round - 1:
                self.add(iri, P.wasDerivedFrom, previous)
            if model is not None and model_sha == state.sha256:
                self.add(iri, F.savedAs, model)
            previous, previous_round = iri, state.round

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
            # The FL profile wants the tool's version: a strategy shipped with the app is at
            # the app's version (its FAB version), when the run knows it.
            version = strategy.version or self.record.federation.fab_version
            if version:
                self.add(iri, S.version, Literal(version))
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


_BUILDERS: dict[type[RunRecord], type[RunGraphBuilder]] = {}


def register_builder(record_type: type[RunRecord], builder: type[RunGraphBuilder]) -> None:
    """Build records of `record_type` (a `RunRecord` subclass) with `builder`.

    How a framework with facts of its own joins the graph without edits here.
    """
    _BUILDERS[record_type] = builder


def build_graph(record: RunRecord, *, completed: bool = False) -> Graph:
    """The crate's knowledge graph for `record` (RO-Crate 1.2 + Process Run Crate + FL).

    The same graph `write_crate` serialises: rounds a side skipped are stated as NaN
    ("not computed") here, so every entry point gives the crate's own graph.
    `completed`: the observations are `complete_observations`' output already (the
    writer's, which logs the same rows), so they are not completed a second time.
    """
    if not completed:
        record = replace(record, observations=complete_observations(record.observations))
    builder = next(
        (_BUILDERS[kind] for kind in type(record).__mro__ if kind in _BUILDERS), RunGraphBuilder
    )
    return new_graph(builder(record).build())
