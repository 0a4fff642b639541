"""Captured facts about one federated-learning run, as plain dataclasses.

Adapters (Flower, FEDn, FLIP) fill a `RunRecord`; `fedcrate.rdf.graph` turns it into RDF.
FEDn's own records extend these in `fedcrate.record.fedn`.
Nothing here knows about rdflib or flwr, so records are cheap to build in tests and
benchmarks and easy to extend with new sources of facts.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

__all__ = [
    "NOT_COMPUTED",
    "ClientContribution",
    "ContributionMetric",
    "DatasetRef",
    "FederationFacts",
    "FinalMetric",
    "License",
    "Metric",
    "ModelState",
    "Organization",
    "Parameter",
    "PayloadFile",
    "Person",
    "ReplyStatus",
    "RoundObservation",
    "RoundParticipation",
    "RunRecord",
    "RunStatus",
    "Side",
    "SoftwareFacts",
    "StrategyFacts",
    "complete_observations",
    "side_label",
    "side_order",
    "utc_now",
]

ParameterValue = str | int | float | bool | None


def utc_now() -> datetime:
    """Now, in UTC: crates state times with an explicit `+00:00` offset."""
    return datetime.now(timezone.utc)


class RunStatus(enum.Enum):
    """How the run ended (schema.org ActionStatusType)."""

    COMPLETED = "CompletedActionStatus"
    FAILED = "FailedActionStatus"
    ACTIVE = "ActiveActionStatus"


class Side(enum.Enum):
    """Which part of the federation produced a metric value: the one table of sides.

    Each side's code (the enum value, also its `termCode` in crates), its FL vocabulary
    term, its wording in the graph and in views, and its display order live here; the
    graph, `show`, the preview and the exports all read them from this table.
    """

    SERVER_EVALUATE = "server-evaluate"
    CLIENT_TRAIN = "client-train"
    CLIENT_EVALUATE = "client-evaluate"

    @property
    def term(self) -> str:
        """Local name of the side's individual in the FL vocabulary (`fl:ServerEvaluation`)."""
        return _SIDE_TABLE[self][0]

    @property
    def label(self) -> str:
        """The side's `schema:name` in crates (names and descriptions)."""
        return _SIDE_TABLE[self][1]

    @property
    def short_label(self) -> str:
        """The side's wording in tables and charts (`server evaluation`)."""
        return _SIDE_TABLE[self][2]

    @property
    def order(self) -> int:
        """Position in displays: server evaluation, client evaluation, client training."""
        return _SIDE_TABLE[self][3]

    @classmethod
    def from_code(cls, code: str) -> Side | None:
        """The side whose code is `code` (None for a code fedcrate does not know)."""
        try:
            return cls(code)
        except ValueError:
            return None

    @classmethod
    def from_term(cls, term: str) -> Side | None:
        """The side whose FL vocabulary local name (or full IRI) is `term`, else None."""
        local = term.rsplit("#", 1)[-1]
        return next((side for side in cls if side.term == local), None)


_SIDE_TABLE: dict[Side, tuple[str, str, str, int]] = {
    Side.SERVER_EVALUATE: ("ServerEvaluation", "server-side evaluation", "server evaluation", 0),
    Side.CLIENT_EVALUATE: (
        "ClientEvaluation",
        "client-side evaluation (aggregated)",
        "client evaluation",
        1,
    ),
    Side.CLIENT_TRAIN: (
        "ClientTraining",
        "client-side training (aggregated)",
        "client training",
        2,
    ),
}


def side_label(code: str) -> str:
    """`server evaluation` for `server-evaluate`; a code fedcrate does not know, unchanged."""
    side = Side.from_code(code)
    return side.short_label if side is not None else code


def side_order(code: str) -> int:
    """Display position of a side code (unknown codes last)."""
    side = Side.from_code(code)
    return side.order if side is not None else 9


@dataclass(frozen=True, slots=True)
class Organization:
    """An affiliation; `iri` is a ROR or other persistent id when known."""

    name: str
    iri: str | None = None


@dataclass(frozen=True, slots=True)
class Person:
    """A person: author or agent of a run.

    `orcid` is the full https://orcid.org/ IRI, already checksum-verified.
    """

    name: str | None
    orcid: str | None = None
    email: str | None = None
    affiliation: Organization | None = None


@dataclass(frozen=True, slots=True)
class License:
    """The crate's license as a contextual entity."""

    iri: str
    name: str


@dataclass(frozen=True, slots=True)
class SoftwareFacts:
    """A piece of software used as an instrument of the run."""

    key: str
    """Stable identifier within the crate (distribution name for Python packages)."""
    name: str
    installed_version: str | None = None
    declared_spec: str | None = None
    """The requirement as declared in the app's pyproject (PEP 508), if any."""
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Parameter:
    """A named setting: a run-config entry or a strategy hyperparameter."""

    name: str
    value: ParameterValue
    redacted: bool = False
    """True when `value` is the redaction marker, not the real value."""


@dataclass(frozen=True, slots=True)
class StrategyFacts:
    """The aggregation strategy instance handed to the tracker."""

    class_name: str
    module: str
    hyperparameters: tuple[Parameter, ...] = ()
    version: str | None = None
    url: str | None = None
    source_file: Path | None = None
    """The module file defining a strategy written in the app (copied into the crate)."""


@dataclass(frozen=True, slots=True)
class Metric:
    """A metric name and, when resolvable, the IRI of its published definition."""

    name: str
    iri: str | None = None
    unit: str | None = None
    """`unitCode` for measures with units (RMSE of a regression in mmHg, …): a UN/CEFACT
    common code such as `KGM`, or a unit IRI (QUDT, UO). None for dimensionless ones."""


@dataclass(frozen=True, slots=True)
class RoundObservation:
    """One metric value at one round, from one side of the federation."""

    round: int
    side: Side
    metric: Metric
    value: float | int | str


@dataclass(frozen=True, slots=True)
class FinalMetric:
    """A metric's value at the last round its side reported it."""

    side: Side
    metric: Metric
    value: float | int | str
    round: int


@dataclass(frozen=True, slots=True)
class DatasetRef:
    """A training or evaluation dataset the run used (Flower cannot see these itself)."""

    name: str
    url: str | None = None
    """Where the dataset is published; becomes its `@id` when given."""
    description: str | None = None
    license: str | None = None
    query: str | None = None
    """The query that selected it (a FLIP cohort query), when it is a selection."""
    project_id: str | None = None
    """The project it belongs to (FLIP project id)."""


@dataclass(frozen=True, slots=True)
class FederationFacts:
    """What the runtime tells about the federation (from the Context and the Grid).

    Security posture is recorded as facts only (on/off), never key or certificate material.
    """

    run_id: int | None = None
    fab_id: str | None = None
    fab_version: str | None = None
    fab_hash: str | None = None
    federation_id: str | None = None
    node_count: int | None = None
    num_rounds: int | None = None
    mode: str | None = None
    """`simulation` or `deployment`."""
    node_id_digests: tuple[str, ...] = ()
    """SHA-256 of each node id available at start: comparable across crates, not reversible
    to the raw id without knowing it."""
    superlink_address: str | None = None
    """The SuperLink API the ServerApp talked to (deployment only)."""
    tls_enabled: bool | None = None
    """Whether the ServerApp's link to the SuperLink used TLS (None: not observable)."""
    node_authentication: bool | None = None
    """Whether SuperNodes authenticate with registered keys (None: not observable)."""
    site_count: int | None = None
    """Distinct sites (FLIP `site` / SUPERNODE_NAME) that replied; names only on opt-in."""
    site_names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RoundParticipation:
    """Who took part in one phase of one round: counts only, never node ids.

    `side` is CLIENT_TRAIN for the training phase and CLIENT_EVALUATE for evaluation.
    """

    round: int
    side: Side
    nodes_sampled: int | None = None
    replies_received: int | None = None
    replies_failed: int | None = None
    examples_aggregated: int | None = None


@dataclass(frozen=True, slots=True)
class PayloadFile:
    """A file inside the crate folder, described by its checksum and size."""

    crate_path: str
    """POSIX path relative to the crate root, e.g. `final_model.npz`."""
    name: str
    description: str
    encoding_format: str
    sha256: str
    size: int
    role: str
    """`model`, `metrics-log` (results of the run) or `strategy-source` (code it used)."""


class ReplyStatus(enum.Enum):
    """What came back from one sampled node in one phase of one round."""

    REPLIED = "replied"
    FAILED = "failed"  # the reply carried an error
    NO_REPLY = "no-reply"  # sampled, nothing came back (timeout, node gone)


@dataclass(frozen=True, slots=True)
class ContributionMetric:
    """One metric of one node's reply (the aggregates' metric identity: name, IRI, unit)."""

    metric: Metric
    value: float | int | str


@dataclass(frozen=True, slots=True)
class ClientContribution:
    """What one sampled node gave one phase of one round (opt-in: `record_clients=True`).

    The node is named by `node_digest`, the SHA-256 of its id, never by the id; a failed
    reply keeps only the error's kind (Flower's code name, the exception's class), never
    its message.
    """

    round: int
    side: Side
    node_digest: str
    status: ReplyStatus
    examples: int | None = None
    error_kind: str | None = None
    metrics: tuple[ContributionMetric, ...] = ()


@dataclass(frozen=True)
class ModelState:
    """The global model at one round (0 = the initial model), by the digest of its arrays.

    `sha256` / `content_size` are those of the arrays written as fedcrate's deterministic
    `.npz` (`fedcrate.capture.lineage`), so a saved `final_model.npz` has the last state's.
    """

    round: int
    sha256: str
    content_size: int


@dataclass(slots=True)
class RunRecord:
    """Everything captured about one run; the single input of `graph.build_graph`."""

    name: str
    started_at: datetime
    run_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    description: str | None = None
    keywords: tuple[str, ...] = ()
    """Tags for the run (`schema:keywords` on the crate root), e.g. from `[tool.fedcrate]`."""
    ended_at: datetime | None = None
    status: RunStatus = RunStatus.ACTIVE
    error: str | None = None
    author: Person | None = None
    agent: Person | None = None
    license: License | None = None
    flower: SoftwareFacts | None = None
    frameworks: list[SoftwareFacts] = field(default_factory=list)
    strategy: StrategyFacts | None = None
    config: list[Parameter] = field(default_factory=list)
    datasets: list[DatasetRef] = field(default_factory=list)
    federation: FederationFacts = field(default_factory=FederationFacts)
    observations: list[RoundObservation] = field(default_factory=list)
    participation: list[RoundParticipation] = field(default_factory=list)
    model_states: list[ModelState] = field(default_factory=list)
    contributions: list[ClientContribution] = field(default_factory=list)
    """Per-node contributions (opt-in, `record_clients=True`), by round, phase and node."""
    """Per-round model lineage (opt-in, `record_model_lineage=True`), by round."""
    files: list[PayloadFile] = field(default_factory=list)
    model_source: Path | None = None
    """Where the final model lives before it is copied into the crate."""
    model_identifier: str | None = None
    """A registry's id for the model (FLIP model id); `urn:uuid:…` when it is a UUID."""

    def final_metrics(self) -> list[FinalMetric]:
        """Each (side, metric)'s value at the last round that side reported it."""
        last: dict[tuple[Side, str], RoundObservation] = {}
        for obs in self.observations:
            if obs.value == NOT_COMPUTED:
                continue  # a gap filled in for the profile is not a final value
            key = (obs.side, obs.metric.name)
            if key not in last or obs.round >= last[key].round:
                last[key] = obs
        return [
            FinalMetric(side=o.side, metric=o.metric, value=o.value, round=o.round)
            for o in sorted(last.values(), key=lambda o: (o.side.value, o.metric.name))
        ]

    def rounds(self) -> list[int]:
        """Distinct round numbers with at least one observation, ascending."""
        return sorted({o.round for o in self.observations})


NOT_COMPUTED = "nan"
"""The value of an observation a side did not make (written "nan" like a NaN float)."""


def complete_observations(observations: list[RoundObservation]) -> list[RoundObservation]:
    """Observations with the gaps a side left stated as NaN ("not computed").

    The FL profile wants, per side, every metric at every round, rounds numbered without
    gaps from 1 (or 0, the initial model, for server-side evaluation). A metric reported
    only some rounds, or an `evaluate_fn` that runs every k rounds, leaves gaps; the crate
    states them as NaN instead of leaving the reader to guess.
    """
    by_side: dict[Side, dict[tuple[int, str], RoundObservation]] = {}
    for obs in observations:
        by_side.setdefault(obs.side, {})[(obs.round, obs.metric.name)] = obs
    completed = list(observations)
    for side, seen in by_side.items():
        rounds = {r for r, _ in seen}
        first = 0 if min(rounds) == 0 and side is Side.SERVER_EVALUATE else min(min(rounds), 1)
        metrics = {obs.metric.name: obs.metric for obs in seen.values()}
        for server_round in range(first, max(rounds) + 1):
            for name, metric in metrics.items():
                if (server_round, name) not in seen:
                    completed.append(RoundObservation(server_round, side, metric, NOT_COMPUTED))
    return sorted(completed, key=lambda o: (o.round, o.side.value, o.metric.name))
