"""An append-only journal per run, so a killed process still leaves a recoverable record.

The tracker keeps its facts in memory and writes the crate when the run ends. A hard kill
(SIGKILL, the OOM killer, a power cut of the node) skips that, so every fact is also
appended, as one JSON line, to `.fedcrate-journal-<run uuid>.jsonl` in the output folder:
the run's facts at the start (and again when they change), each round's metrics, the
participation counts and the final model's file. Appending costs the same at round 1,000
as at round 1 (flwrCrate rewrote its whole log every round). The journal is removed once
the crate is written; `fedcrate recover DIR` turns leftover journals into crates marked
as interrupted.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from fedcrate.errors import NotACrate
from fedcrate.record.jsonable import from_jsonable, to_jsonable
from fedcrate.record.run import (
    ClientContribution,
    Metric,
    ModelState,
    RoundObservation,
    RoundParticipation,
    RunRecord,
    RunStatus,
    Side,
    utc_now,
)

__all__ = ["JOURNAL_PREFIX", "Journal", "RecoveredRun", "find_journals", "read_journal"]

logger = logging.getLogger("fedcrate")

JOURNAL_PREFIX = ".fedcrate-journal-"
INTERRUPTED = (
    "Interrupted: the run's process ended without closing the tracker (killed, or crashed "
    "hard); this crate was recovered from its journal by `fedcrate recover`, and anything "
    "after the last journal entry is missing."
)


_OBSERVATION_FIELDS = ("round", "side", "metric", "value")
_METRIC_FIELDS = ("name", "iri", "unit")
_FAST_OBSERVATIONS = (
    tuple(f.name for f in fields(RoundObservation)) == _OBSERVATION_FIELDS
    and tuple(f.name for f in fields(Metric)) == _METRIC_FIELDS
)


def observation_json(obs: RoundObservation) -> Any:
    """`to_jsonable(obs)`, written out: the hooks journal every round's values, and the
    generic walk over dataclass fields was most of a round's bookkeeping (a test proves
    both equal). Falls back to `to_jsonable` if either record type gains a field."""
    if not _FAST_OBSERVATIONS or type(obs) is not RoundObservation:
        return to_jsonable(obs)
    metric = obs.metric
    return {
        "round": obs.round,
        "side": obs.side._value_,  # the documented member attribute; `.value` is a slow property
        "metric": {"name": metric.name, "iri": metric.iri, "unit": metric.unit},
        "value": obs.value,
    }


class Journal:
    """Appends facts about one run; every method is fail-soft (logs once, then stops)."""

    def __init__(self, output_dir: Path, run_uuid: str) -> None:
        self.path = output_dir / f"{JOURNAL_PREFIX}{run_uuid}.jsonl"
        self._handle: IO[str] | None = None
        self._broken = False

    def _append(self, event: str, **data: Any) -> None:
        if self._broken:
            return
        line = json.dumps({"event": event, "at": utc_now().isoformat(), **data})
        try:
            if self._handle is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._handle = self.path.open("a", encoding="utf-8")
            self._handle.write(line + "\n")
            self._handle.flush()  # in the kernel now: survives a kill of this process
        except (OSError, ValueError) as exc:
            self._broken = True
            logger.error(
                "run journal %s not written (%s); a killed run could not be recovered",
                self.path,
                exc,
            )

    def facts(self, record: RunRecord) -> None:
        """The record's facts, without the per-round data (appended separately)."""
        self._append(
            "facts",
            record=to_jsonable(
                replace(
                    record, observations=[], participation=[], model_states=[], contributions=[]
                )
            ),
        )

    def observations(self, observations: Iterable[RoundObservation]) -> None:
        items = [observation_json(o) for o in observations]
        if items:
            self._append("observations", items=items)

    def participation(self, server_round: int, side: Side, counts: dict[str, int]) -> None:
        self._append("participation", round=server_round, side=side.value, counts=counts)

    def model(self, path: Path) -> None:
        self._append("model", path=str(path))

    def contributions(self, items: Iterable[ClientContribution]) -> None:
        listed = [to_jsonable(c) for c in items]
        if listed:
            self._append("contributions", items=listed)

    def model_state(self, state: ModelState) -> None:
        self._append("model-state", state=to_jsonable(state))

    def close(self, *, remove: bool) -> None:
        """Stop journaling; `remove` once the crate holds everything."""
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self._handle.close()
            self._handle = None
        self._broken = True
        if remove:
            try:
                self.path.unlink(missing_ok=True)
            except OSError as exc:
                logger.warning("could not remove the run journal %s (%s)", self.path, exc)


@dataclass(frozen=True)
class RecoveredRun:
    """A run rebuilt from its journal."""

    journal: Path
    record: RunRecord
    entries: int
    """Journal lines read (a torn last line from a kill mid-write is skipped)."""


def find_journals(folder: Path) -> list[Path]:
    """Journals left in `folder` (the tracker's output folder)."""
    if not folder.is_dir():
        raise NotACrate(f"{folder}: no such folder; pass the tracker's output_dir")
    return sorted(folder.glob(f"{JOURNAL_PREFIX}*.jsonl"))


def read_journal(path: Path) -> RecoveredRun:
    """The run a journal describes, as a failed run marked interrupted."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise NotACrate(f"{path}: cannot read the journal ({exc})") from None
    record: RunRecord | None = None
    observations: dict[tuple[int, Side, str], RoundObservation] = {}
    participation: dict[tuple[int, Side], dict[str, int]] = {}
    model: Path | None = None
    states: dict[int, ModelState] = {}
    contributions: dict[tuple[int, Side, str], ClientContribution] = {}
    last_at: datetime | None = None
    entries = 0
    for number, line in enumerate(lines, start=1):
        try:
            entry = json.loads(line)
            event = entry["event"]
            last_at = datetime.fromisoformat(entry["at"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            if number == len(lines):
                break  # torn by a kill in the middle of a write: everything before counts
            raise NotACrate(f"{path}:{number}: not a fedcrate journal line") from None
        entries += 1
        if event == "facts":
            record = from_jsonable(RunRecord, entry["record"])
        elif event == "observations":
            for item in entry["items"]:
                obs = from_jsonable(RoundObservation, item)
                observations[(obs.round, obs.side, obs.metric.name)] = obs
        elif event == "participation":
            key = (int(entry["round"]), Side(entry["side"]))
            counts = participation.setdefault(key, {})
            for name, value in entry["counts"].items():
                counts[name] = counts.get(name, 0) + int(value)
        elif event == "model":
            model = Path(entry["path"])
        elif event == "contributions":
            for item in entry["items"]:
                c = from_jsonable(ClientContribution, item)
                contributions[(c.round, c.side, c.node_digest)] = c
        elif event == "model-state":
            state = from_jsonable(ModelState, entry["state"])
            states[state.round] = state
    if record is None:
        raise NotACrate(f"{path}: the journal holds no run facts; nothing to recover")
    recovered = replace(
        record,
        status=RunStatus.FAILED,
        error=INTERRUPTED,
        ended_at=last_at,
        observations=sorted(
            observations.values(), key=lambda o: (o.round, o.side.value, o.metric.name)
        ),
        participation=[
            RoundParticipation(round=r, side=side, **counts)
            for (r, side), counts in sorted(
                participation.items(), key=lambda kv: (kv[0][0], kv[0][1].value)
            )
        ],
        model_states=[states[r] for r in sorted(states)] or record.model_states,
        contributions=[
            contributions[k] for k in sorted(contributions, key=lambda k: (k[0], k[1].value, k[2]))
        ]
        or record.contributions,
        model_source=model if model is not None and model.is_file() else record.model_source,
    )
    if recovered.model_source is not None and not Path(recovered.model_source).is_file():
        recovered = replace(recovered, model_source=None)
    return RecoveredRun(journal=path, record=recovered, entries=entries)
