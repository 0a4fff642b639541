"""Per-round metrics as series: each metric of each side is one PropertyValue in `result`.

The FL profile says metric PropertyValues MUST be linked from the run's `result`. A series
(`#metric-<side>-<name>`, `schema:PropertyValue` + `fl:FinalMetric`) is that PropertyValue:
it carries what was measured and the final value, and links its per-round values
(`fl:RoundValue`: round and value only) through `fl:roundValue`. These tests check that
nothing the record says is lost on the way, against the record itself.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.term import Node

from fedcrate.crate import read_crate, write_crate
from fedcrate.rdf.graph import build_graph, series_finals
from fedcrate.rdf.namespaces import FL, SDO, base_iri
from fedcrate.record import Metric, RoundObservation, RunRecord, Side
from fedcrate.record.run import NOT_COMPUTED, complete_observations
from tests.conftest import make_record

RMSE = Metric("rmse", "http://www.w3.org/ns/mex-performance#RMSE", unit="KGM")
DICE = Metric("dice")
AUC = Metric("auc", "http://purl.obolibrary.org/obo/STATO_0000209")


def series_record(rounds: int = 3, factor: float = 1.0) -> RunRecord:
    """make_record's three sides plus what a series must survive.

    A metric with a unit (server-side RMSE), one reported only in the first and last
    client-training rounds (a gap the crate states as "nan"), a client-evaluation value
    that is a float NaN, and a client-evaluation metric that was never computed at all.
    """
    base = make_record(rounds=rounds)
    observations = [replace(o, value=o.value * factor) for o in base.observations]
    observations += [RoundObservation(r, Side.SERVER_EVALUATE, RMSE, 2.0 * factor / (r + 1))
                     for r in range(rounds + 1)]  # fmt: skip
    observations += [
        RoundObservation(1, Side.CLIENT_TRAIN, DICE, 0.5 * factor),
        RoundObservation(rounds, Side.CLIENT_TRAIN, DICE, 0.75 * factor),
    ]
    observations += [RoundObservation(r, Side.CLIENT_EVALUATE, AUC, NOT_COMPUTED)
                     for r in range(1, rounds + 1)]  # fmt: skip
    nan_at = next(
        i
        for i, o in enumerate(observations)
        if o.side is Side.CLIENT_EVALUATE and o.metric.name == "accuracy" and o.round == rounds
    )
    observations[nan_at] = replace(observations[nan_at], value=float("nan"))
    return replace(base, observations=observations)


def as_fact(value: object) -> object:
    """A metric value as the crate can state it: NaN (float or "not computed") is "nan"."""
    if value == NOT_COMPUTED or (isinstance(value, float) and math.isnan(value)):
        return "nan"
    return value


def _python(node: Node | None) -> object:
    assert isinstance(node, Literal), node
    return as_fact(node.toPython())


def recovered_facts(graph: Graph) -> set[tuple[object, ...]]:
    """(run, side, name, propertyID, unit, round, value) of every round value, read back
    through run → result → series → fl:roundValue, the only way the graph states them."""
    facts = set()
    for run in graph.subjects(RDF.type, FL.FederatedRun):
        for series in graph.objects(run, SDO.result):
            if (series, RDF.type, FL.FinalMetric) not in graph:
                continue
            side = graph.value(graph.value(series, FL.side), SDO.termCode)
            identity = (
                str(run),
                str(side),
                str(graph.value(series, SDO.name)),
                str(graph.value(series, SDO.propertyID)),
                graph.value(series, SDO.unitCode),
            )
            for point in graph.objects(series, FL.roundValue):
                round_ = graph.value(point, FL.round)
                assert isinstance(round_, Literal)
                facts.add((*identity, round_.toPython(), _python(graph.value(point, SDO.value))))
    return facts


def expected_facts(record: RunRecord) -> set[tuple[object, ...]]:
    """The same facts, from the record: every observation, gaps filled as the crate does."""
    run = base_iri(record.run_uuid) + "#fl-run"
    return {
        (
            run,
            o.side.value,
            o.metric.name,
            o.metric.iri or o.metric.name,
            Literal(o.metric.unit) if o.metric.unit else None,
            o.round,
            as_fact(o.value),
        )
        for o in complete_observations(record.observations)
    }


def _series(record: RunRecord, side: Side, name: str) -> URIRef:
    return URIRef(f"{base_iri(record.run_uuid)}#metric-{side.value}-{name}")


def _round_values(graph: Graph) -> set[Node]:
    return set(graph.objects(None, FL.roundValue))


# -- the model -------------------------------------------------------------------------


def test_every_observation_is_recoverable_from_the_graph_and_the_crate(tmp_path: Path) -> None:
    record = series_record()
    expected = expected_facts(record)
    assert len(expected) == len(complete_observations(record.observations))
    # The record's own observations are all there, and the gap is stated as "nan".
    assert ("client-train", "dice", 2, "nan") in {(f[1], f[2], f[5], f[6]) for f in expected}
    assert recovered_facts(build_graph(record)) == expected
    written = write_crate(record, tmp_path, preview=False)
    assert recovered_facts(read_crate(written.path)) == expected


def test_series_are_final_metrics_in_result_with_the_records_final_values() -> None:
    record = series_record()
    graph = build_graph(record)
    run = URIRef(base_iri(record.run_uuid) + "#fl-run")
    finals = {(f.side, f.metric.name): f for f in record.final_metrics()}
    keys = {(o.side, o.metric.name) for o in record.observations}
    assert set(finals) < keys  # the never-computed series has no final value in the record
    for side, name in keys:
        series = _series(record, side, name)
        assert (run, SDO.result, series) in graph
        assert set(graph.objects(series, RDF.type)) == {SDO.PropertyValue, FL.FinalMetric}
        final = finals.get((side, name))
        if final is None:  # every value "not computed": NaN at the series' last round
            rounds = [
                o.round for o in record.observations if o.side is side and o.metric.name == name
            ]
            assert _python(graph.value(series, SDO.value)) == "nan"
            assert graph.value(series, FL.round) == Literal(max(rounds))
        else:
            assert _python(graph.value(series, SDO.value)) == as_fact(final.value)
            assert graph.value(series, FL.round) == Literal(final.round)
    assert len(set(graph.subjects(RDF.type, FL.FinalMetric))) == len(keys)


def test_round_values_are_four_triples_and_no_property_value() -> None:
    record = series_record()
    graph = build_graph(record)
    values = _round_values(graph)
    assert len(values) == len(complete_observations(record.observations))
    for value in values:
        assert set(graph.predicate_objects(value)) == {
            (RDF.type, FL.RoundValue),
            (FL.round, graph.value(value, FL.round)),
            (SDO.value, graph.value(value, SDO.value)),
        }
        assert len(list(graph.subject_predicates(value))) == 1  # its series' fl:roundValue
    assert set(graph.subjects(RDF.type, FL.RoundValue)) == values
    assert not values & set(graph.subjects(RDF.type, SDO.PropertyValue))
    mentioning = [t for t in graph if t[0] in values or t[2] in values]
    assert len(mentioning) == 4 * len(values)
    old_terms = {FL.RoundMetric, FL.roundMetric}
    assert not [t for t in graph if old_terms & set(t)]


def test_unit_and_identity_are_stated_once_on_the_series() -> None:
    record = series_record()
    graph = build_graph(record)
    rmse = _series(record, Side.SERVER_EVALUATE, "rmse")
    assert list(graph.objects(rmse, SDO.unitCode)) == [Literal("KGM")]
    assert list(graph.objects(rmse, SDO.propertyID)) == [URIRef(RMSE.iri or "")]
    assert len(list(graph.subjects(SDO.unitCode, None))) == 1
    assert set(graph.objects(rmse, FL.roundValue)) == {
        URIRef(f"{base_iri(record.run_uuid)}#round-{r}-server-evaluate-rmse") for r in range(4)
    }


def test_build_graph_is_the_graph_of_the_written_crate(tmp_path: Path) -> None:
    record = series_record()
    written = write_crate(record, tmp_path, preview=False)
    built = build_graph(replace(record, files=written.record.files))
    assert isomorphic(built, read_crate(written.path))
    assert isomorphic(built, written.graph)


@pytest.mark.parametrize("never", [NOT_COMPUTED, float("nan")], ids=["not-computed", "nan"])
def test_a_series_without_any_computed_value_still_has_a_head(
    never: str | float,
) -> None:
    record = replace(
        make_record(rounds=2),
        observations=[RoundObservation(r, Side.CLIENT_TRAIN, DICE, never) for r in (1, 2)],
    )
    (head,) = series_finals(record)
    assert (head.side, head.metric, head.round, as_fact(head.value)) == (
        Side.CLIENT_TRAIN,
        DICE,
        2,
        "nan",
    )
    graph = build_graph(record)
    series = _series(record, Side.CLIENT_TRAIN, "dice")
    assert len(set(graph.objects(series, FL.roundValue))) == 2
    assert recovered_facts(graph) == expected_facts(record)


def test_series_finals_are_the_records_final_metrics_when_each_series_has_one() -> None:
    record = make_record(rounds=3)
    assert series_finals(record) == record.final_metrics()
