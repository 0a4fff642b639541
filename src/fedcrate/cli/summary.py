"""A short, human summary of a crate's graph (used by `fedcrate demo`).

Answers come from the shipped SPARQL queries, so the summary reads the same facts any
query over the crate would.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import Graph
from rdflib.query import ResultRow

from fedcrate.index.queries import load_named_query

__all__ = ["FinalValue", "RunSummary", "summarize"]


@dataclass(frozen=True)
class FinalValue:
    """One final metric of a run."""

    side: str
    metric: str
    property_id: str
    value: str


@dataclass
class RunSummary:
    """What a person wants to know first about a run."""

    name: str
    status: str
    start: str | None
    end: str | None
    error: str | None
    strategy: str | None
    rounds: int | None
    nodes: int | None
    final_metrics: list[FinalValue] = field(default_factory=list)


def _rows(graph: Graph, query_name: str) -> list[ResultRow]:
    return [
        row for row in graph.query(load_named_query(query_name).text) if isinstance(row, ResultRow)
    ]


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _int(value: object) -> int | None:
    return None if value is None else int(str(value))


def summarize(graph: Graph) -> list[RunSummary]:
    """One `RunSummary` per run in `graph`, with its final metrics."""
    runs: dict[str, RunSummary] = {}
    for row in _rows(graph, "run-summary"):
        runs[str(row.run)] = RunSummary(
            name=str(row.name),
            status=_text(row.status) or "unknown",  # the query's word: Completed, Failed
            start=_text(row.start),
            end=_text(row.end),
            error=_text(row.error),
            strategy=_text(row.strategy),
            rounds=_int(row.numRounds) or _int(row.lastRound),
            nodes=_int(row.nodeCount),
        )
    for row in _rows(graph, "final-metrics"):
        summary = runs.get(str(row.run))
        if summary is not None:
            summary.final_metrics.append(
                FinalValue(
                    side=_text(row.side) or "",
                    metric=str(row.metric),
                    property_id=str(row.propertyID),
                    value=str(row.value),
                )
            )
    return list(runs.values())
