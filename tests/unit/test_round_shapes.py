"""fedcrate's round rules (shapes/fedcrate/must/4_rounds.ttl).

Each rule is run with pyshacl, as `fedcrate validate` runs it (RDFS closure with the FL
vocabulary), on the graph fedcrate builds, which conforms, and on that graph broken in one
way, which fails exactly that rule.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import pytest
from pyshacl import validate
from rdflib import RDF, Graph, Literal, Namespace, URIRef

from fedcrate.assets import vocabulary
from fedcrate.rdf.graph import build_graph
from fedcrate.rdf.namespaces import FL, SDO, base_iri
from fedcrate.record import RunRecord
from tests.conftest import make_record
from tests.support.paths import REPO
from tests.unit.rdf.test_series import series_record

SH = Namespace("http://www.w3.org/ns/shacl#")
RULES = [REPO / "shapes" / "fedcrate" / "must" / name for name in ("4_rounds.ttl",)]
RECORD = series_record()
BASE = base_iri(RECORD.run_uuid)
RUN = URIRef(BASE + "#fl-run")


@cache
def _shapes() -> Graph:
    shapes = Graph()
    for path in RULES:
        shapes.parse(path, format="turtle")
    return shapes


def violations(graph: Graph) -> set[tuple[str, str]]:
    """(rule, focus) of every result, the focus relative to the crate's base."""
    data = Graph()
    data += graph
    _, results, _ = validate(
        data,
        shacl_graph=_shapes(),
        ont_graph=vocabulary(),
        inference="rdfs",
        advanced=True,
        inplace=True,
    )
    found = set()
    for result in results.subjects(RDF.type, SH.ValidationResult):
        shape = str(results.value(result, SH.sourceShape)).rsplit("#", 1)[-1]
        focus = str(results.value(result, SH.focusNode)).removeprefix(BASE)
        found.add((shape, focus))
    return found


def _series(side: str, name: str) -> URIRef:
    return URIRef(f"{BASE}#metric-{side}-{name}")


def _value(round_: int, side: str, name: str) -> URIRef:
    return URIRef(f"{BASE}#round-{round_}-{side}-{name}")


def _drop(graph: Graph, node: URIRef) -> None:
    for triple in [*graph.triples((node, None, None)), *graph.triples((None, None, node))]:
        graph.remove(triple)


@pytest.mark.parametrize(
    "record", [RECORD, make_record(rounds=20, metrics=("loss", "accuracy", "f1", "mse", "mae"))],
    ids=["gaps-units-nan", "20-rounds-5-metrics"],
)  # fmt: skip
def test_the_graph_fedcrate_builds_conforms(record: RunRecord) -> None:
    assert violations(build_graph(record)) == set()


def _duplicate(graph: Graph) -> None:
    extra = URIRef(BASE + "#round-2-client-train-loss-again")
    graph.add((_series("client-train", "loss"), FL.roundValue, extra))
    graph.add((extra, RDF.type, FL.RoundValue))
    graph.add((extra, FL.round, Literal(2)))
    graph.add((extra, SDO.value, Literal(0.4)))


def _missing(graph: Graph) -> None:
    _drop(graph, _value(2, "client-evaluate", "loss"))


def _gap(graph: Graph) -> None:
    for name in ("loss", "accuracy", "dice"):
        _drop(graph, _value(2, "client-train", name))


def _client_round_zero(graph: Graph) -> None:
    for name in ("loss", "accuracy", "dice"):
        zero = URIRef(BASE + f"#round-0-client-train-{name}")
        graph.add((_series("client-train", name), FL.roundValue, zero))
        graph.add((zero, RDF.type, FL.RoundValue))
        graph.add((zero, FL.round, Literal(0)))
        graph.add((zero, SDO.value, Literal("nan")))


def _negative_final_round(graph: Graph) -> None:
    series = _series("server-evaluate", "rmse")
    graph.set((series, FL.round, Literal(-1)))


def _unknown_side(graph: Graph) -> None:
    series = _series("client-train", "dice")
    graph.set((series, FL.side, FL.SomewhereElse))


def _no_value(graph: Graph) -> None:
    graph.remove((_value(1, "server-evaluate", "rmse"), SDO.value, None))


def _no_round(graph: Graph) -> None:
    graph.remove((_value(1, "server-evaluate", "rmse"), FL.round, None))


def _orphan(graph: Graph) -> None:
    orphan = URIRef(BASE + "#round-9-server-evaluate-rmse")
    graph.add((orphan, RDF.type, FL.RoundValue))
    graph.add((orphan, FL.round, Literal(9)))
    graph.add((orphan, SDO.value, Literal(0.1)))


def _two_series(graph: Graph) -> None:
    graph.add((_series("client-train", "dice"), FL.roundValue, _value(1, "client-train", "loss")))


BROKEN: dict[str, tuple[Callable[[Graph], None], set[tuple[str, str]]]] = {
    "duplicate": (_duplicate, {("RoundObservationUnique", "#fl-run")}),
    "missing": (_missing, {("RoundObservationComplete", "#fl-run")}),
    "gap": (_gap, {("RoundNumbersContiguous", "#fl-run")}),
    "client-round-0": (_client_round_zero, {("RoundNumbersContiguous", "#fl-run")}),
    "negative-round": (
        _negative_final_round, {("RoundNonNegativeInteger", "#metric-server-evaluate-rmse")}
    ),
    "unknown-side": (_unknown_side, {("SideIsKnown", "#metric-client-train-dice")}),
    "no-value": (_no_value, {("RoundValueHasValue", "#round-1-server-evaluate-rmse")}),
    # the RMSE series then lacks round 1 too
    "no-round": (_no_round, {("RoundNonNegativeInteger", "#round-1-server-evaluate-rmse"),
                             ("RoundObservationComplete", "#fl-run")}),
    "orphan": (_orphan, {("RoundValueInOneSeries", "#round-9-server-evaluate-rmse")}),
    # the dice series now has two values at round 1 as well
    "two-series": (_two_series, {("RoundValueInOneSeries", "#round-1-client-train-loss"),
                                 ("RoundObservationUnique", "#fl-run")}),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_break_fails_exactly_its_rule(case: str) -> None:
    breaker, expected = BROKEN[case]
    graph = build_graph(RECORD)
    breaker(graph)
    assert violations(graph) == expected


def test_the_messages_say_what_to_fix() -> None:
    shapes = _shapes()
    named = set(shapes.subjects(SH.name, None))
    assert {str(s).rsplit("#", 1)[-1] for s in named} == {
        "RoundNonNegativeInteger",
        "RoundNumbersContiguous",
        "RoundObservationComplete",
        "RoundObservationUnique",
        "RoundValueInOneSeries",
        "RoundValueHasValue",
        "SideIsKnown",
    }
    for shape in named:
        message = str(shapes.value(shape, SH.message))
        assert " MUST " in f" {message} " and ":" in message, shape
        assert shapes.value(shape, SH.description) is not None, shape
