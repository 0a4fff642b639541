"""FLIP apps: the run-config keys the FLIP platform injects, read as provenance.

A FLIP-compatible Flower app declares `flip-model-id`, `flip-project-id` and
`flip-cohort-query` in `[tool.flwr.app.config]` with placeholder values (`"uuid"`, `"*"`)
that FLIP overrides at submit time. Placeholders are recognised as such and never stated
as data: a local run of a FLIP app has no model id and no cohort.

Reading the keys needs no `flip-utils` (which requires Python ≥ 3.12 and torch).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fedcrate.record.run import DatasetRef

__all__ = ["FLIP_KEYS", "FlipFacts", "flip_facts"]

MODEL_KEY = "flip-model-id"
PROJECT_KEY = "flip-project-id"
QUERY_KEY = "flip-cohort-query"
FLIP_KEYS = (MODEL_KEY, PROJECT_KEY, QUERY_KEY)

# Values the FLIP docs tell apps to declare locally; FLIP replaces them when it submits.
_ID_PLACEHOLDERS = {"", "uuid", "none", "null", "<uuid>", "model-id", "project-id"}
_QUERY_PLACEHOLDERS = {"", "*"}


@dataclass(frozen=True, slots=True)
class FlipFacts:
    """What a FLIP run config says: the model's registry id and the training cohort."""

    model_identifier: str | None
    cohort: DatasetRef | None


def _real_id(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return None if text.lower() in _ID_PLACEHOLDERS else text


def _as_identifier(model_id: str) -> str:
    """`urn:uuid:…` for a UUID (FLIP model ids are UUIDs), the text otherwise."""
    try:
        return uuid.UUID(model_id).urn
    except ValueError:
        return model_id


def flip_facts(config: Mapping[str, Any]) -> FlipFacts | None:
    """FLIP facts from a run config, or None when the app is not a FLIP app."""
    if not any(key in config for key in FLIP_KEYS):
        return None
    model_id = _real_id(config.get(MODEL_KEY))
    project_id = _real_id(config.get(PROJECT_KEY))
    query_text = str(config.get(QUERY_KEY) or "").strip()
    query = None if query_text in _QUERY_PLACEHOLDERS else query_text
    cohort = None
    if project_id is not None or query is not None:
        where = f" of FLIP project {project_id}" if project_id else ""
        cohort = DatasetRef(
            name=f"FLIP cohort{where}",
            description="The records the FLIP cohort query selected at each site; the data "
            "never left the sites.",
            query=query,
            project_id=project_id,
        )
    return FlipFacts(model_identifier=_as_identifier(model_id) if model_id else None, cohort=cohort)
