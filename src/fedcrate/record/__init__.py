"""Facts: what fedcrate captured about a run, as plain dataclasses (no rdflib, no flwr).

`run` holds the records every framework shares (`RunRecord`, sides, metrics, datasets);
`fedn` FEDn's own; `normalize` turns what users pass (people, licences, datasets) into
them; `redaction` keeps secrets out; `jsonable` gives records a JSON form (the journal).
Everything downstream is built from these.
"""

from __future__ import annotations

from fedcrate.record.fedn import (
    FednClientParticipation,
    FednEntryPoint,
    FednInvocation,
    FednLocalRecord,
    FednModel,
    FednPackageFacts,
    FednRoundFacts,
    FednSessionRecord,
)
from fedcrate.record.run import (
    NOT_COMPUTED,
    DatasetRef,
    FederationFacts,
    FinalMetric,
    License,
    Metric,
    Organization,
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
    complete_observations,
    side_label,
    side_order,
    utc_now,
)

__all__ = [
    "NOT_COMPUTED",
    "DatasetRef",
    "FederationFacts",
    "FednClientParticipation",
    "FednEntryPoint",
    "FednInvocation",
    "FednLocalRecord",
    "FednModel",
    "FednPackageFacts",
    "FednRoundFacts",
    "FednSessionRecord",
    "FinalMetric",
    "License",
    "Metric",
    "Organization",
    "Parameter",
    "PayloadFile",
    "Person",
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
