"""Rebuild the SHACL test corpus: `valid/` crates and one broken crate per shape in `invalid/`.

Run from anywhere with the project's interpreter (stdlib + fedcrate + rdflib)::

    python tests/data/crates/build_corpus.py

`valid/<name>/` are small crates written by `fedcrate.write_crate` from the test fixture
`make_record(rounds=2)` with fixed UUIDs and times. `invalid/<shape>/` is one of them with a
single edit to its JSON that breaks exactly that shape of `shapes/fl-crate` (no other shape of
the profile fires, at any severity), plus `expected.json`::

    {"shape": "<local name>", "severity": "must|should|may", "message": "<its sh:message>"}

The message and severity are read from the shapes, so they stay in sync. Payload files are
copied from the base crate, so every file a crate references exists. The output depends only
on the inputs: running the script twice gives identical folders.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path.insert(0, str(REPO))  # `tests.support`, which conftest imports
sys.path.insert(0, str(REPO / "tests"))  # conftest.make_record: the shared test record
sys.path.insert(0, str(REPO / "src"))

from rdflib import Graph, Namespace, URIRef  # noqa: E402

from conftest import START, make_record  # noqa: E402
from fedcrate import write_crate  # noqa: E402
from fedcrate.capture.deployment import node_id_digest  # noqa: E402
from fedcrate.record import (  # noqa: E402
    ClientContribution,
    ContributionMetric,
    Metric,
    ModelState,
    Parameter,
    ReplyStatus,
    RoundParticipation,
    RunStatus,
    Side,
    StrategyFacts,
)

SHAPES = REPO / "shapes"
SH = Namespace("http://www.w3.org/ns/shacl#")
METADATA = "ro-crate-metadata.json"

MODEL_BYTES = b"fedcrate test corpus: stand-in for a model file\n"
STRATEGY_SOURCE = '''"""A custom aggregation strategy (test corpus stand-in)."""


class ClippedFedAvg:
    """FedAvg that clips each client update to `max_norm`."""

    max_norm = 1.0
'''

Document = dict[str, Any]
Mutation = Callable[[Document], None]


# -- valid crates ---------------------------------------------------------------------------


def _valid_records(scratch: Path) -> dict[str, Any]:
    model = scratch / "model.npz"
    model.write_bytes(MODEL_BYTES)
    source = scratch / "clipped_fedavg.py"
    source.write_text(STRATEGY_SOURCE, encoding="utf-8")
    base = make_record(rounds=2)
    return {
        # A completed run: model, dataset, run config, server- and client-side metrics,
        # a deployment's federation facts and participation per round.
        "completed": dataclasses.replace(
            base,
            run_uuid="1b4c5f2e-0000-4000-8000-00000000c001",
            model_source=model,
            federation=dataclasses.replace(
                base.federation,
                mode="deployment",
                node_id_digests=tuple(sorted(node_id_digest(n) for n in (101, 202))),
                superlink_address="127.0.0.1:9091",
                tls_enabled=True,
                node_authentication=False,
            ),
            participation=[
                RoundParticipation(r, side, 2, 2, 0, 1000)
                for r in (1, 2)
                for side in (Side.CLIENT_TRAIN, Side.CLIENT_EVALUATE)
            ],
            # record_clients=True: what each of the two nodes gave each phase (round 2
            # only, so the participation mutations of round 1 break no contribution rule).
            contributions=[
                ClientContribution(
                    r,
                    side,
                    node_id_digest(node),
                    ReplyStatus.REPLIED,
                    examples=500,
                    metrics=(ContributionMetric(Metric("loss"), 0.5 / r),),
                )
                for r in (2,)
                for side in (Side.CLIENT_TRAIN, Side.CLIENT_EVALUATE)
                for node in (101, 202)
            ],
            # record_model_lineage=True: the global model's digest at rounds 0..2.
            model_states=[ModelState(r, f"{r:x}" * 64, 1024) for r in (0, 1, 2)],
        ),
        # A run that failed before its first round: no model, no metrics, an error.
        "failed": dataclasses.replace(
            base,
            run_uuid="1b4c5f2e-0000-4000-8000-00000000c002",
            status=RunStatus.FAILED,
            error="RuntimeError: ServerApp stopped before round 1 (no node connected)",
            ended_at=START + timedelta(seconds=5),
            observations=[],
        ),
        # A completed run whose strategy is defined in the app: its source ships in code/.
        "custom-strategy": dataclasses.replace(
            base,
            run_uuid="1b4c5f2e-0000-4000-8000-00000000c003",
            model_source=model,
            strategy=StrategyFacts(
                "ClippedFedAvg",
                "app.strategy",
                (Parameter("max_norm", 1.0),),
                version="1.0.0",  # the app's version: the FL profile wants the tool's
                source_file=source,
            ),
        ),
    }


def build_valid(out: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="fedcrate-corpus-") as tmp:
        scratch = Path(tmp)
        for name, record in _valid_records(scratch).items():
            written = write_crate(record, scratch / "out" / name, preview=False)
            shutil.copytree(written.path, out / name)


# -- JSON helpers ---------------------------------------------------------------------------


def entity(doc: Document, entity_id: str) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = doc["@graph"]
    for node in nodes:
        if node.get("@id") == entity_id:
            return node
    raise KeyError(entity_id)


def run(doc: Document) -> dict[str, Any]:
    return entity(doc, "#fl-run")


def root(doc: Document) -> dict[str, Any]:
    return entity(doc, "./")


def refs(node: dict[str, Any], prop: str) -> list[Any]:
    value = node.get(prop, [])
    return value if isinstance(value, list) else [value]


def drop_refs(node: dict[str, Any], prop: str, keep: Callable[[str], bool]) -> None:
    """Keep only the references of `prop` whose @id satisfies `keep`."""
    kept = [v for v in refs(node, prop) if not isinstance(v, dict) or keep(v.get("@id", ""))]
    if not kept:
        node.pop(prop, None)
    else:
        node[prop] = kept if len(kept) > 1 else kept[0]


def add_ref(node: dict[str, Any], prop: str, entity_id: str) -> None:
    node[prop] = [*refs(node, prop), {"@id": entity_id}]


def rename_id(doc: Document, old: str, new: str) -> None:
    """Change an entity's @id and every reference to it."""

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: (new if k == "@id" and v == old else walk(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    doc["@graph"] = walk(doc["@graph"])


def remove_entity(doc: Document, entity_id: str) -> None:
    doc["@graph"] = [n for n in doc["@graph"] if n.get("@id") != entity_id]
    for node in doc["@graph"]:
        for prop in list(node):
            if prop != "@id" and any(
                isinstance(v, dict) and v.get("@id") == entity_id for v in refs(node, prop)
            ):
                drop_refs(node, prop, lambda i: i != entity_id)


# -- fl-crate-0.1: one broken copy of the hand-written complete crate per shape ----------------

FL_BASE = "complete"
FL_RUN = "#training"
SITE_A = "https://doi.org/10.5555/fl-corpus.site-a"
SITE_B = "https://doi.org/10.5555/fl-corpus.site-b"
CROISSANT = "http://mlcommons.org/croissant/1.1"
DATA_MODEL = "https://example.org/data-models/image-cohort/1.0"
WORKFLOW_RUN_CRATE = "https://w3id.org/ro/wfrun/workflow/0.5"


def _training(doc: Document) -> dict[str, Any]:
    return entity(doc, FL_RUN)


def _add_quantitative_result(doc: Document) -> None:
    doc["@graph"].append({"@id": "#metric-f1", "@type": "QuantitativeValue", "value": 0.88})
    add_ref(_training(doc), "result", "#metric-f1")


def _non_spdx_model_license(doc: Document) -> None:
    licence = "https://creativecommons.org/licenses/by/4.0/"
    doc["@graph"].append({"@id": licence, "@type": "CreativeWork", "name": "CC BY 4.0"})
    entity(doc, "model.pt")["license"] = {"@id": licence}


def _remove_property(entity_id: str, prop: str) -> Mutation:
    return lambda d: entity(d, entity_id).pop(prop)


def _remove_entities(*entity_ids: str) -> Mutation:
    def mutate(doc: Document) -> None:
        for entity_id in entity_ids:
            remove_entity(doc, entity_id)

    return mutate


# shape local name -> (what the edit does, the edit); every edit applies to fl-crate/valid/complete
FL_MUTATIONS: dict[str, tuple[str, Mutation]] = {
    # must/
    "TrainingActionPresent": ("the CreateAction removed", _remove_entities(FL_RUN)),
    "TrainingDatasetInObject": (
        "site B's dataset removed from the run's `object`",
        lambda d: drop_refs(_training(d), "object", lambda i: i != SITE_B),
    ),
    "InstrumentDescribed": (
        "the run's `instrument` also references an entity the crate does not describe",
        lambda d: add_ref(_training(d), "instrument", "#undescribed-tool"),
    ),
    "TrainingActionInstrument": (
        "the run has no `instrument`",
        _remove_property(FL_RUN, "instrument"),
    ),
    "ResultOutputModel": (
        "model.pt removed from the run's `result`",
        lambda d: drop_refs(_training(d), "result", lambda i: i != "model.pt"),
    ),
    "OutputModelDataEntity": (
        "model.pt removed from the root's `hasPart`",
        lambda d: drop_refs(root(d), "hasPart", lambda i: i != "model.pt"),
    ),
    "MetricLinkedFromResult": (
        "the loss PropertyValue removed from the run's `result`",
        lambda d: drop_refs(_training(d), "result", lambda i: i != "#metric-loss"),
    ),
    "MetricPropertyID": (
        "the accuracy metric has no `propertyID`",
        _remove_property("#metric-accuracy", "propertyID"),
    ),
    "ModelCardSubjectOf": (
        "the model's `subjectOf` no longer lists MODEL_CARD.md",
        lambda d: drop_refs(entity(d, "model.pt"), "subjectOf", lambda i: i != "MODEL_CARD.md"),
    ),
    # should/
    "TrainingDatasetIsDataEntity": (
        "site B's dataset removed from the root's `hasPart`",
        lambda d: drop_refs(root(d), "hasPart", lambda i: i != SITE_B),
    ),
    "TrainingDatasetPersistentId": (
        "site B's dataset identified by the local id #site-b-cohort",
        lambda d: rename_id(d, SITE_B, "#site-b-cohort"),
    ),
    "TrainingDatasetLicense": (
        "site B's dataset has no `license`",
        _remove_property(SITE_B, "license"),
    ),
    "InstrumentType": (
        "Flower typed CreativeWork instead of SoftwareApplication",
        lambda d: entity(d, "https://flower.ai").update({"@type": "CreativeWork"}),
    ),
    "InstrumentVersion": (
        "Flower has no `version`",
        _remove_property("https://flower.ai", "version"),
    ),
    "ConfigFileInCrate": (
        "pyproject.toml removed from the root's `hasPart`",
        lambda d: drop_refs(root(d), "hasPart", lambda i: i != "pyproject.toml"),
    ),
    "ConfigFileInObject": (
        "pyproject.toml removed from the run's `object`",
        lambda d: drop_refs(_training(d), "object", lambda i: i != "pyproject.toml"),
    ),
    "EnvironmentAsPropertyValue": (
        "the FLWR_SEED environment setting typed CreativeWork instead of PropertyValue",
        lambda d: entity(d, "#env-flwr-seed").update({"@type": "CreativeWork"}),
    ),
    "ObjectTrainingDataset": (
        "both training datasets removed from the crate",
        _remove_entities(SITE_A, SITE_B),
    ),
    "RunName": ("the run has no `name`", _remove_property(FL_RUN, "name")),
    "RunDescription": ("the run has no `description`", _remove_property(FL_RUN, "description")),
    "RunAgent": ("the run has no `agent`", _remove_property(FL_RUN, "agent")),
    "ResourceUsageAsPropertyValue": (
        "the wall-clock time in `resourceUsage` has no `propertyID`",
        _remove_property("#usage-wall-time", "propertyID"),
    ),
    "MetricAsPropertyValue": (
        "an F1 score described as a QuantitativeValue added to the run's `result`",
        _add_quantitative_result,
    ),
    "MetricUnitCode": (
        "the MEX-perf meanSquareError metric has no `unitCode`",
        _remove_property("#metric-loss", "unitCode"),
    ),
    "ModelPersistentId": (
        "the model gains a DOI `identifier` while its @id stays model.pt",
        lambda d: entity(d, "model.pt").update(
            {"identifier": "https://doi.org/10.5555/fl-corpus.model"}
        ),
    ),
    "ModelLicense": ("the model has no `license`", _remove_property("model.pt", "license")),
    "ModelLicenseSpdx": (
        "the model's license is the Creative Commons page, not an SPDX IRI",
        _non_spdx_model_license,
    ),
    "ModelFormat": (
        "the model has no `encodingFormat`",
        _remove_property("model.pt", "encodingFormat"),
    ),
    "GeneratedSupplementaryFileInResult": (
        "MODEL_CARD.md (created during the run) removed from the run's `result`",
        lambda d: drop_refs(_training(d), "result", lambda i: i != "MODEL_CARD.md"),
    ),
    # may/
    "TrainingDatasetDataModel": (
        "site B's dataset conforms to Croissant only",
        lambda d: entity(d, SITE_B).update({"conformsTo": {"@id": CROISSANT}}),
    ),
    "TrainingDatasetDataManagementPlan": (
        "site B's dataset has no `subjectOf`",
        _remove_property(SITE_B, "subjectOf"),
    ),
    "TrainingDatasetCroissant": (
        "site B's dataset conforms to its data model only",
        lambda d: entity(d, SITE_B).update({"conformsTo": {"@id": DATA_MODEL}}),
    ),
    "WorkflowRunCrate": (
        "Workflow Run Crate removed from the root's `conformsTo`",
        _remove_entities(WORKFLOW_RUN_CRATE),
    ),
    "PerformanceMetricsIncluded": (
        "both metric PropertyValues removed from the crate",
        _remove_entities("#metric-accuracy", "#metric-loss"),
    ),
    "EnvironmentIncluded": ("the run has no `environment`", _remove_entities("#env-flwr-seed")),
    "ResourceUsageIncluded": (
        "the run has no `resourceUsage`",
        _remove_entities("#usage-wall-time"),
    ),
    "ModelSupplementaryFiles": (
        "the model card and the model passport removed from the crate",
        _remove_entities("MODEL_CARD.md", "https://example.org/model-passport"),
    ),
}

# -- fedcrate-0.1: one mutation per shape -------------------------------------------------

FINAL_LOSS = "#metric-server-evaluate-loss"
PARTICIPATION = "#participation-1-client-train"
CONTRIBUTION = "#contribution-2-client-train-" + node_id_digest(101)
PARTICIPATION_2 = "#participation-2-client-train"
MODEL = "model.npz"
CSV = "metrics-by-round.csv"
ORCID = "https://orcid.org/0000-0002-1825-0097"
FEDCRATE_PROFILE = "https://w3id.org/fedcrate/profile/0.1"


def _duplicate_observation(doc: Document) -> None:
    copy_ = copy.deepcopy(entity(doc, "#round-1-client-train-loss"))
    copy_["@id"] = "#round-1-client-train-loss-again"
    copy_["value"] = 0.75
    doc["@graph"].append(copy_)
    add_ref(entity(doc, "#metric-client-train-loss"), "fl:roundValue", copy_["@id"])


def _renumber_round(doc: Document) -> None:
    for metric in ("loss", "accuracy"):
        old = f"#round-2-client-train-{metric}"
        entity(doc, old)["fl:round"] = 3
        rename_id(doc, old, f"#round-3-client-train-{metric}")


# shape local name -> (base crate, what the edit does, the edit)
MUTATIONS: dict[str, tuple[str, str, Mutation]] = {
    # must/1_root.ttl
    "RootMentionsTrainingRun": (
        "completed",
        "the root no longer `mentions` the run",
        lambda d: root(d).pop("mentions"),
    ),
    "RootConformsToProcessRunCrate": (
        "completed",
        "Process Run Crate removed from the root's `conformsTo`",
        lambda d: drop_refs(root(d), "conformsTo", lambda i: "/wfrun/process/" not in i),
    ),
    # must/2_run.ttl
    "RunTimeOrder": (
        "completed",
        "`endTime` set before `startTime`",
        lambda d: run(d).update({"endTime": "2026-11-25T09:59:59.000+00:00"}),
    ),
    "ErrorOnlyWhenFailed": (
        "completed",
        "an `error` added to the completed run",
        lambda d: run(d).update({"error": "KeyboardInterrupt"}),
    ),
    "FailedRunHasError": (
        "failed",
        "the failed run's `error` removed",
        lambda d: run(d).pop("error"),
    ),
    # must/3_metrics.ttl
    # must/4_rounds.ttl
    "RoundObservationUnique": (
        "completed",
        "a second observation of client-train loss at round 1",
        _duplicate_observation,
    ),
    "RoundObservationComplete": (
        "completed",
        "client-train accuracy at round 1 removed",
        lambda d: remove_entity(d, "#round-1-client-train-accuracy"),
    ),
    "RoundNumbersContiguous": (
        "completed",
        "client-train round 2 renumbered 3 (rounds 1, 3)",
        _renumber_round,
    ),
    "RoundValueHasValue": (
        "completed",
        "client-train loss at round 1 has no `value`",
        lambda d: entity(d, "#round-1-client-train-loss").pop("value"),
    ),
    "RoundValueInOneSeries": (
        "completed",
        "a round value that no series links",
        lambda d: d["@graph"].append(
            {"@id": "#round-1-orphan", "@type": "fl:RoundValue", "fl:round": 1, "value": 0.5}
        ),
    ),
    "RoundNonNegativeInteger": (
        "completed",
        "the final server-side loss has `fl:round` -1",
        lambda d: entity(d, FINAL_LOSS).update({"fl:round": -1}),
    ),
    "SideIsKnown": (
        "completed",
        "the client-train loss series has `fl:side` fl:ClientTesting",
        lambda d: entity(d, "#metric-client-train-loss").update(
            {"fl:side": {"@id": "fl:ClientTesting"}}
        ),
    ),
    # must/7_federation.ttl
    "RuntimeModeKnown": (
        "completed",
        'the run\'s `fl:runtimeMode` is "cluster"',
        lambda d: run(d).update({"fl:runtimeMode": "cluster"}),
    ),
    "NodeIdDigestForm": (
        "completed",
        'a raw node id ("101") stands where its SHA-256 digest should',
        lambda d: run(d).update({"fl:nodeIdDigest": ["101", *run(d)["fl:nodeIdDigest"][1:]]}),
    ),
    "SecurityPostureBoolean": (
        "completed",
        '`fl:tlsEnabled` is the text "yes"',
        lambda d: run(d).update({"fl:tlsEnabled": "yes"}),
    ),
    "ParticipationRoundAndPhase": (
        "completed",
        "a participation record counts the server-side evaluation phase",
        lambda d: entity(d, PARTICIPATION).update({"fl:side": {"@id": "fl:ServerEvaluation"}}),
    ),
    "ParticipationCounts": (
        "completed",
        "a participation record has `fl:nodesSampled` -1",
        lambda d: entity(d, PARTICIPATION).update({"fl:nodesSampled": -1}),
    ),
    "ParticipationFailedWithinReceived": (
        "completed",
        "a participation record has 3 failed replies out of 2 received",
        lambda d: entity(d, PARTICIPATION).update({"fl:repliesFailed": 3}),
    ),
    # must/8_clients.ttl
    "ContributionNode": (
        "completed",
        "a contribution names no node (its `fl:nodeDigest` removed)",
        lambda d: entity(d, CONTRIBUTION).pop("fl:nodeDigest"),
    ),
    "ContributionReplyStatus": (
        "completed",
        'a contribution\'s `fl:replyStatus` is "ok"',
        lambda d: entity(d, CONTRIBUTION).update({"fl:replyStatus": "ok"}),
    ),
    "ContributionErrorOnlyWhenFailed": (
        "completed",
        "a contribution that replied states an `fl:errorKind`",
        lambda d: entity(d, CONTRIBUTION).update({"fl:errorKind": "NODE_UNAVAILABLE"}),
    ),
    "ContributionInItsPhase": (
        "completed",
        "a contribution is missing from its phase's `fl:contribution` list",
        lambda d: drop_refs(
            entity(d, PARTICIPATION_2), "fl:contribution", lambda i: i != CONTRIBUTION
        ),
    ),
    "ContributionExamples": (
        "completed",
        "a contribution reports -5 examples",
        lambda d: entity(d, CONTRIBUTION).update({"fl:examplesReported": -5}),
    ),
    # must/5_entities.ttl
    "PersonOrcidForm": (
        "completed",
        "the author's ORCID @id uses http://",
        lambda d: rename_id(d, ORCID, ORCID.replace("https://", "http://")),
    ),
    "PayloadFileSha256": (
        "completed",
        "metrics-by-round.csv has no `sha256`",
        lambda d: entity(d, CSV).pop("sha256"),
    ),
    "PayloadFileContentSize": (
        "completed",
        "model.npz has no `contentSize`",
        lambda d: entity(d, MODEL).pop("contentSize"),
    ),
    # must/6_fedn.ttl: the run and the NumPy instrument retyped as FEDn terms
    "EntryPointCommand": (
        "completed",
        "the NumPy instrument is also typed fl:EntryPoint, without `fl:command`",
        lambda d: _as_entry_point(d, command=None),
    ),
    "EntryPointRunInstrument": (
        "completed",
        "the run is also an fl:EntryPointRun (exit code 0) without an fl:EntryPoint instrument",
        lambda d: run(d).update(
            {"@type": [*run(d)["@type"], "fl:EntryPointRun"], "fl:exitCode": 0}
        ),
    ),
    "EntryPointRunExitCode": (
        "completed",
        "the run is an fl:EntryPointRun of an entry point, without `fl:exitCode`",
        lambda d: _as_entry_point_run(d, exit_code=None),
    ),
    "EntryPointRunStatusMatchesExitCode": (
        "completed",
        "the run is an fl:EntryPointRun with exit code 3 and CompletedActionStatus",
        lambda d: _as_entry_point_run(d, exit_code=3),
    ),
    # should/1_root.ttl
    "RootConformsToProfiles": (
        "completed",
        "the fedcrate profile removed from the root's `conformsTo`",
        lambda d: drop_refs(root(d), "conformsTo", lambda i: i != FEDCRATE_PROFILE),
    ),
    # should/2_run.ttl
    "RunEndTime": ("completed", "the run has no `endTime`", lambda d: run(d).pop("endTime")),
    "RunStartTimeFormat": (
        "completed",
        "`startTime` written with a Z offset",
        lambda d: run(d).update({"startTime": "2026-11-25T10:00:00Z"}),
    ),
    "RunResult": ("failed", "the failed run has no `result`", lambda d: run(d).pop("result")),
    "ActionStatusValue": (
        "completed",
        "`actionStatus` written with https://",
        lambda d: run(d).update({"actionStatus": "https://schema.org/CompletedActionStatus"}),
    ),
    "RunObjectConfig": (
        "completed",
        "the run-config PropertyValues removed from the crate",
        lambda d: _remove_prefixed(d, "#param-"),
    ),
    # should/3_model.ttl
    # may/1_run.ttl
    "RunStartTime": (
        "completed",
        "the run has no `startTime`",
        lambda d: run(d).pop("startTime"),
    ),
    "RunActionStatus": (
        "completed",
        "the run has no `actionStatus`",
        lambda d: run(d).pop("actionStatus"),
    ),
    "RunAggregationStrategy": (
        "custom-strategy",
        "the strategy (its source file and hyperparameters) removed from the crate",
        lambda d: _remove_prefixed(d, "code/", "#strategy-param-"),
    ),
}


def _remove_prefixed(doc: Document, *prefixes: str) -> None:
    """Remove every entity whose @id starts with one of `prefixes`, and the references."""
    for node in [n for n in doc["@graph"] if n.get("@id", "").startswith(prefixes)]:
        remove_entity(doc, node["@id"])


def _as_entry_point(doc: Document, command: str | None) -> None:
    numpy = entity(doc, "#software-numpy")
    numpy["@type"] = ["SoftwareApplication", "fl:EntryPoint"]
    if command is not None:
        numpy["fl:command"] = command


def _as_entry_point_run(doc: Document, exit_code: int | None) -> None:
    _as_entry_point(doc, "python train.py")
    run(doc)["@type"] = [*run(doc)["@type"], "fl:EntryPointRun"]
    if exit_code is not None:
        run(doc)["fl:exitCode"] = exit_code


def shape_facts(profile: str) -> dict[str, tuple[str, str]]:
    """Local name -> (severity folder, sh:message) for every shape of `profile`."""
    namespace = f"https://w3id.org/fedcrate/shapes/{profile}#"
    facts: dict[str, tuple[str, str]] = {}
    for level in ("must", "should", "may"):
        for path in sorted((SHAPES / profile / level).glob("*.ttl")):
            graph = Graph().parse(path)
            for shape, message in graph.subject_objects(SH.message):
                if isinstance(shape, URIRef) and str(shape).startswith(namespace):
                    facts[str(shape)[len(namespace) :]] = (level, str(message))
    return facts


def build_invalid(
    profile: str, valid: Path, out: Path, mutations: dict[str, tuple[str, str, Mutation]]
) -> None:
    """One copy of a valid crate per shape of `profile`, broken by that shape's mutation."""
    facts = shape_facts(profile)
    missing = sorted(set(facts) - set(mutations))
    unknown = sorted(set(mutations) - set(facts))
    if missing or unknown:
        raise SystemExit(
            f"{profile}: shapes without a broken crate: {missing}; unknown shapes: {unknown}"
        )
    for shape, (base, _, mutate) in mutations.items():
        source = valid / base
        target = out / shape
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(METADATA))
        document = json.loads((source / METADATA).read_text(encoding="utf-8"))
        mutate(document)
        (target / METADATA).write_text(
            json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        severity, message = facts[shape]
        expected = {
            "profile": f"{profile}-0.1",
            "shape": shape,
            "base": f"valid/{base}",
            "severity": severity,
            "message": message,
        }
        (target / "expected.json").write_text(
            json.dumps(expected, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )


def main() -> None:
    # fl-crate-0.1: valid/ is hand-written (a crate of another tool, not fedcrate's); rebuild
    # the broken copies of it.
    fl = HERE / "fl-crate"
    shutil.rmtree(fl / "invalid", ignore_errors=True)
    fl_mutations = {shape: (FL_BASE, what, edit) for shape, (what, edit) in FL_MUTATIONS.items()}
    build_invalid("fl-crate", fl / "valid", fl / "invalid", fl_mutations)
    # fedcrate-0.1: valid/ is written by fedcrate itself.
    ours = HERE / "fedcrate"
    for name in ("valid", "invalid"):
        shutil.rmtree(ours / name, ignore_errors=True)
        (ours / name).mkdir(parents=True)
    build_valid(ours / "valid")
    build_invalid("fedcrate", ours / "valid", ours / "invalid", MUTATIONS)
    print(
        f"fl-crate: {len(FL_MUTATIONS)} invalid crates; fedcrate: "
        f"{len(list((ours / 'valid').iterdir()))} valid and {len(MUTATIONS)} invalid crates"
    )


if __name__ == "__main__":
    main()
