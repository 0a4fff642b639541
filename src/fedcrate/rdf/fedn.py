"""FEDn's crates in the graph: sessions (a run plus FEDn's facts) and local entry-point runs.

FEDn's concepts (compute packages, entry points, the model trail, FEDn rounds) are minted
here and nowhere else; what every crate states (root, people, licence, software, files)
comes from `rdf.entities`, and a session's run itself from `rdf.graph`. Importing
`fedcrate.rdf` registers the session builder, so `build_graph` of a FEDn session record
gives its whole graph.
"""

from __future__ import annotations

from datetime import datetime

from rdflib import Graph, Literal, URIRef

from fedcrate.rdf.entities import (
    TYPE,
    CrateBuilder,
    F,
    P,
    S,
    Triple,
    format_time,
    literal_value,
    new_graph,
)
from fedcrate.rdf.graph import RunGraphBuilder, register_builder
from fedcrate.rdf.namespaces import FL, PROV, SDO, XSD, crate_path_iri, fragment
from fedcrate.record.fedn import FednInvocation, FednLocalRecord, FednSessionRecord
from fedcrate.record.run import PayloadFile, RunStatus, SoftwareFacts

__all__ = ["FednSessionBuilder", "build_fedn_local_graph"]

SDO_IS_PART_OF = SDO["isPartOf"]
PROV_WAS_DERIVED_FROM = PROV["wasDerivedFrom"]


def _fedn_software(builder: CrateBuilder, facts: SoftwareFacts) -> URIRef:
    return builder.software(fragment(builder.base, "software", facts.key), facts)


class FednSessionBuilder(RunGraphBuilder):
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


class _FednLocalBuilder(CrateBuilder):
    """Packaging and local entry-point runs: one action per `fedn` invocation."""

    def __init__(self, record: FednLocalRecord) -> None:
        super().__init__(record.run_uuid)
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
        local = self.local
        package = local.package.name if local.package else "a FEDn compute package"
        ends = [i.ended_at for i in local.invocations]
        if local.packaged:
            ends.append(local.packaged[1])
        license_iri, agent = self.crate_root(
            name=local.name,
            description=f"Provenance of {package}: how it was packaged and the local runs of "
            "its entry points (FEDn), recorded by fedcrate.",
            run_uuid=local.run_uuid,
            published=max(ends, default=local.created_at),
            license_=local.license,
            author=local.author,
        )

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
                # Facts about the training the entry point reported (num_examples, …): the
                # FL profile reads a PropertyValue on an output as a metric of the training
                # process, which it wants in `result` with a propertyID.
                self.add(pv, S.propertyID, Literal(parameter.name or "(unnamed)"))
                self.add(iri, S.result, pv)
        for extra in (run.metadata_file, run.validation, run.log):
            if extra is not None:
                self.makes(iri, self.file(extra, license_iri))
        for metric, value in run.metrics:
            pv = fragment(self.base, "fedn-run", run.index, "metric", metric.name)
            self.add(pv, TYPE, S.PropertyValue)
            self.metric_id(pv, metric)
            self.add(pv, S.value, literal_value(value))
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
    return new_graph(_FednLocalBuilder(record).build())


register_builder(FednSessionRecord, FednSessionBuilder)
