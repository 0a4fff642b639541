"""Facts captured from FEDn: compute packages, local entry-point runs and sessions.

Plain data like the rest of `fedcrate.record`; `fedcrate.rdf.fedn` turns them into triples.
A session is a `RunRecord` plus FEDn's own facts, so Flower and FEDn runs answer the same
queries.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from fedcrate.record.run import (
    License,
    Metric,
    Parameter,
    PayloadFile,
    Person,
    RunRecord,
    SoftwareFacts,
    utc_now,
)

__all__ = [
    "FednClientParticipation",
    "FednEntryPoint",
    "FednInvocation",
    "FednLocalRecord",
    "FednModel",
    "FednPackageFacts",
    "FednRoundFacts",
    "FednSessionRecord",
]


@dataclass(frozen=True, slots=True)
class FednEntryPoint:
    """One entry point of a FEDn compute package (`fedn.yaml` → `entry_points`)."""

    name: str
    """`build`, `startup`, `train`, `validate` (or any other key the package declares)."""
    command: str
    """The shell command FEDn runs, e.g. `python train.py`."""


@dataclass(frozen=True, slots=True)
class FednPackageFacts:
    """A FEDn compute package: entry points, declared environment, packaged archive."""

    name: str
    """The package folder's name (FEDn's "client" folder)."""
    entry_points: tuple[FednEntryPoint, ...] = ()
    python_env: str | None = None
    """The `python_env` file named in `fedn.yaml` (None: FEDn uses the current Python)."""
    environment_name: str | None = None
    python_version: str | None = None
    dependencies: tuple[SoftwareFacts, ...] = ()
    """`python_env.yaml` dependencies: declared spec, installed version where known."""
    build_dependencies: tuple[SoftwareFacts, ...] = ()
    archive: PayloadFile | None = None
    """`package.tgz` as `fedn package create` builds it; its sha256 is FEDn's checksum."""


@dataclass(frozen=True, slots=True)
class FednInvocation:
    """One local run of an entry point (`fedn run train|validate|build|startup`)."""

    index: int
    """1, 2, … in the order the invocations were recorded into the crate."""
    entry_point: FednEntryPoint
    started_at: datetime
    ended_at: datetime
    exit_code: int
    """Exit code of `fedn run`; 0 is success."""
    error: str | None = None
    """For a failed run: what failed and the tail of its stderr."""
    model_in: PayloadFile | None = None
    model_out: PayloadFile | None = None
    metadata: tuple[Parameter, ...] = ()
    """What `save_metadata` wrote beside the output model (`OUT-metadata`): num_examples…"""
    metadata_file: PayloadFile | None = None
    validation: PayloadFile | None = None
    """The validation JSON a `validate` run wrote."""
    metrics: tuple[tuple[Metric, float | int | str], ...] = ()
    """The validation JSON's numeric entries, with resolved metric IRIs."""
    log: PayloadFile | None = None
    """stdout and stderr of the run."""


@dataclass(slots=True)
class FednLocalRecord:
    """A crate of local entry-point runs: the package and every recorded invocation."""

    name: str
    run_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    author: Person | None = None
    license: License | None = None
    fedn: SoftwareFacts | None = None
    package: FednPackageFacts | None = None
    packaged: tuple[datetime, datetime] | None = None
    """Start and end of `fedn package create`, when the crate holds the archive."""
    package_sources: tuple[PayloadFile, ...] = ()
    """Copies of `fedn.yaml` and the python_env file: what packaging read."""
    invocations: list[FednInvocation] = field(default_factory=list)
    created_at: datetime = field(default_factory=utc_now)
    extra_files: list[PayloadFile] = field(default_factory=list)
    """Files described by the crate beyond the invocations' (the invocation log)."""


@dataclass(frozen=True, slots=True)
class FednModel:
    """A model of a FEDn session's model trail (stored in FEDn's object store)."""

    model_id: str
    parent_id: str | None = None
    committed_at: datetime | None = None
    round: int | None = None
    """The round that produced it; 0 for the session's seed model."""


@dataclass(frozen=True, slots=True)
class FednRoundFacts:
    """What FEDn's round store says about one round of a session."""

    round: int
    status: str | None = None
    input_model: str | None = None
    output_model: str | None = None
    required_updates: int | None = None
    """Updates required before aggregating; expected and aggregated counts are the
    round's `RoundParticipation` (shared with Flower)."""
    validations: int | None = None
    committed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class FednClientParticipation:
    """One client's share of a session: counts always, its name only when asked for."""

    label: str
    """The client's name with `--client-names`, else `client 1`, `client 2`, …"""
    updates: int = 0
    validations: int = 0
    named: bool = False


@dataclass(slots=True)
class FednSessionRecord(RunRecord):
    """A finished FEDn session as a `RunRecord` plus FEDn's own facts."""

    session_id: str | None = None
    network_id: str | None = None
    seed_model: str | None = None
    final_model: str | None = None
    model_trail: list[FednModel] = field(default_factory=list)
    round_facts: list[FednRoundFacts] = field(default_factory=list)
    clients: list[FednClientParticipation] = field(default_factory=list)
    package_name: str | None = None
    package_checksum: str | None = None
    helper: str | None = None
