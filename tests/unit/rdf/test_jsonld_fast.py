"""The fast writers against their references: the same document, the same text, the same graph.

`graph_to_jsonld` (one pass, `jsonld_fast.compact_nodes`) is held to rdflib's serializer
(`graph_to_jsonld_reference`): on every crate of the test corpus and on hypothesis records
their documents are equal as parsed JSON, and the fast one reads back isomorphic to the graph
it was made from. Where they differ, the reference loses a triple or writes something that
is not JSON; each such case is stated below (`_as_fast_writes`, the edge-case tests) and the
fast document is the one that reads back. `dumps_indented` is held to `json.dumps(indent=2)`
byte for byte; the builder's literal factory and bulk store fill, and the writer's metrics
log, to the rdflib / csv calls they replace.
"""

from __future__ import annotations

import csv
import io
import json
import math
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import RDF, BNode, ConjunctiveGraph, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.plugins.shared.jsonld.context import Context

from fedcrate.crate.reader import crate_base, load_document, read_crate
from fedcrate.crate.writer import _stage_metrics_log
from fedcrate.rdf import entities, jsonld_fast
from fedcrate.rdf.entities import new_graph, number_literal
from fedcrate.rdf.graph import RunGraphBuilder, build_graph
from fedcrate.rdf.jsonld import (
    _compaction_context,
    graph_to_jsonld,
    graph_to_jsonld_reference,
    jsonld_to_graph,
)
from fedcrate.rdf.jsonld_fast import compact_nodes, dumps_indented, relative_id
from fedcrate.rdf.namespaces import FL, SDO, XSD, base_iri
from fedcrate.record import Metric, RoundObservation, RunRecord, Side
from fedcrate.record.run import complete_observations
from tests.conftest import make_record
from tests.unit.test_properties import examples, records

CORPUS = Path(__file__).resolve().parents[2] / "data" / "crates"
FEDCRATE_CRATES = sorted(p.parent for p in (CORPUS / "fedcrate").rglob("ro-crate-metadata.json"))
OTHER_CRATES = sorted(
    p.parent
    for folder in ("fl-crate", "foreign")
    for p in (CORPUS / folder).rglob("ro-crate-metadata.json")
)
BASE = base_iri("00000000-0000-4000-8000-0000000000aa")
EX = Namespace("http://example.org/")


def _as_json(document: dict[str, Any]) -> Any:
    """The document as a reader sees it (rdflib's document holds URIRefs, which are str)."""
    return json.loads(json.dumps(document))


def _reads_back(document: dict[str, Any], graph: Graph, base: str) -> bool:
    return isomorphic(jsonld_to_graph(_as_json(document), base), _plain_strings(graph))


def _plain_strings(graph: Graph) -> Graph:
    """`graph` with `"x"^^xsd:string` as `"x"`: one literal in RDF 1.1, two in rdflib.

    Both writers write it as a JSON string (rdflib's serializer counts xsd:string among
    the native types), which rdflib reads back without the datatype.
    """
    if (None, None, None) not in graph or not any(
        isinstance(o, Literal) and o.datatype == XSD.string for o in graph.objects()
    ):
        return graph
    plain = Graph(bind_namespaces="none")
    for s, p, o in graph:
        if isinstance(o, Literal) and o.datatype == XSD.string:
            o = Literal(str(o))
        plain.add((s, p, o))
    return plain


def _as_fast_writes(value: Any) -> Any:
    """The reference's document with the deviation `jsonld_fast` documents that built
    crates can have applied: a non-finite double (`NaN`, `Infinity` are not JSON) is its
    typed lexical form. (`literal_value` writes a NaN metric as the text "nan"; a NaN
    double reaches the writer from other graphs.)
    """
    if isinstance(value, dict):
        return {key: _as_fast_writes(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_fast_writes(item) for item in value]
    if type(value) is float and not math.isfinite(value):
        return {"@type": "xsd:double", "@value": str(value)}
    return value


def _assert_fast_is_reference(graph: Graph, base: str) -> None:
    fast = graph_to_jsonld(graph, base)
    reference = graph_to_jsonld_reference(graph, base)
    assert _as_json(fast) == _as_fast_writes(_as_json(reference))
    assert _reads_back(fast, graph, base)


def _corpus_graph(folder: Path) -> tuple[Graph, str]:
    metadata = folder / "ro-crate-metadata.json"
    return read_crate(folder), crate_base(load_document(metadata), metadata)


# -- the corpus and built crates ------------------------------------------------------------


def test_the_corpus_has_fedcrate_crates() -> None:
    assert len(FEDCRATE_CRATES) >= 30  # valid/* and one invalid/<shape> per shape


@pytest.mark.parametrize("folder", FEDCRATE_CRATES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_fedcrate_crate_of_the_corpus_is_written_as_the_reference_writes_it(
    folder: Path,
) -> None:
    graph, base = _corpus_graph(folder)
    # Read back, the graph is in rdflib's default store (read per subject); rebuilt by
    # `new_graph` it is in SimpleMemory (read from its index): both paths.
    for candidate in (graph, new_graph(list(graph))):
        fast = graph_to_jsonld(candidate, base)
        assert _as_json(fast) == _as_json(graph_to_jsonld_reference(candidate, base))
        assert _reads_back(fast, candidate, base)


@pytest.mark.parametrize("folder", OTHER_CRATES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_hand_written_and_foreign_crates_too(folder: Path) -> None:
    graph, base = _corpus_graph(folder)
    fast = graph_to_jsonld(graph, base)
    assert _as_json(fast) == _as_json(graph_to_jsonld_reference(graph, base))
    assert _reads_back(fast, graph, base)


def test_a_built_crate_takes_the_fast_path_and_its_document_is_the_reference() -> None:
    record = make_record(rounds=3)
    graph = build_graph(record)
    base = base_iri(record.run_uuid)
    assert jsonld_fast._subject_index(graph) is vars(graph.store)["_SimpleMemory__spo"]
    assert compact_nodes(graph, base, _compaction_context()) is not None
    fast = graph_to_jsonld(graph, base)
    assert _as_json(fast) == _as_json(graph_to_jsonld_reference(graph, base))
    assert _reads_back(fast, graph, base)
    assert [n["@id"] for n in fast["@graph"][:2]] == ["ro-crate-metadata.json", "./"]


@settings(max_examples=examples(25))
@given(record=records())
def test_any_record_is_written_as_the_reference_writes_it(record: RunRecord) -> None:
    graph = build_graph(record)
    _assert_fast_is_reference(graph, base_iri(record.run_uuid))


# -- edge cases ------------------------------------------------------------------------------


def _edge_graph() -> Graph:
    graph = Graph(bind_namespaces="none")
    run = URIRef(BASE + "#fl-run")
    graph.add((URIRef(BASE), SDO.name, Literal('Crate — ünïcødé ✓ 🚀 "quoted" \n\t\x01')))
    graph.add((URIRef(BASE), SDO.mentions, run))
    graph.add((URIRef(BASE + "ro-crate-metadata.json"), SDO.about, URIRef(BASE)))
    graph.add((run, RDF.type, SDO.CreateAction))
    graph.add((run, RDF.type, FL.FederatedRun))
    graph.add((run, RDF.type, EX.LocalClass))  # a class outside the context: its full IRI
    graph.add((run, SDO.description, Literal("Beschreibung", lang="de")))
    graph.add((run, SDO.description, Literal("description", lang="en-GB")))
    graph.add((run, SDO.startTime, Literal("2026-01-01T00:00:00+00:00", datatype=XSD.dateTime)))
    graph.add((run, SDO.value, Literal(10**400)))  # native, whatever its size
    graph.add((run, FL.round, Literal(2**53 + 1)))
    graph.add((run, FL.nodeCount, Literal(-(10**20))))
    graph.add((run, FL.tlsEnabled, Literal(False)))
    graph.add((run, SDO.version, Literal("1.0", datatype=XSD.string)))
    graph.add((run, SDO.url, Literal("https://example.org/ä")))
    graph.add((run, EX.notATerm, Literal(1.5)))  # a predicate outside the context: full IRI
    graph.add((run, SDO.notATerm, Literal(-0.0)))  # in a known namespace: prefixed name
    graph.add((run, FL.notATerm, Literal(5e-324)))
    graph.add((run, SDO.object, URIRef("https://example.org/data?x=1#y")))  # outside the base
    graph.add((run, SDO.instrument, SDO.Thing))  # a schema.org IRI as object: schema:Thing
    graph.add((run, SDO.agent, URIRef(BASE + "#person-%C3%A9")))
    graph.add((run, SDO.result, URIRef(BASE + "code/strategy.py")))
    graph.add((run, SDO.result, URIRef(BASE + "final_model.npz")))
    graph.add((run, SDO.identifier, Literal("x", datatype=EX.customType)))
    blank, only_object = BNode("b1"), BNode("b2")
    graph.add((run, SDO.additionalProperty, blank))
    graph.add((blank, SDO.name, Literal("a blank node")))
    graph.add((run, SDO.additionalProperty, only_object))  # never a subject: gets a node
    graph.add((URIRef("urn:uuid:2f2d7c5e-1111-4222-8333-444455556666"), SDO.name, Literal("")))
    return graph


def test_edge_cases_are_written_as_the_reference_writes_them_but_where_it_loses_one() -> None:
    graph = _edge_graph()
    fast = _as_json(graph_to_jsonld(graph, BASE))
    reference = _as_json(graph_to_jsonld_reference(graph, BASE))
    assert fast == reference
    assert _reads_back(fast, graph, BASE)
    nodes = {n["@id"]: n for n in fast["@graph"]}
    run = nodes["#fl-run"]
    assert run["value"] == 10**400
    assert run["fl:round"] == 2**53 + 1 and run["fl:nodeCount"] == -(10**20)
    assert run["@type"] == ["CreateAction", "fl:FederatedRun", "http://example.org/LocalClass"]
    assert {"@language": "de", "@value": "Beschreibung"} in run["description"]
    assert run["startTime"] == {"@type": "xsd:dateTime", "@value": "2026-01-01T00:00:00+00:00"}
    assert run["version"] == "1.0"  # xsd:string: a JSON string, as the reference writes it
    assert run["http://example.org/notATerm"] == 1.5
    assert run["schema:notATerm"] == -0.0 and run["fl:notATerm"] == 5e-324
    assert run["object"] == {"@id": "https://example.org/data?x=1#y"}
    assert run["instrument"] == {"@id": "schema:Thing"}
    assert run["agent"] == {"@id": "#person-%C3%A9"}
    assert run["identifier"] == {"@type": "http://example.org/customType", "@value": "x"}
    assert {r["@id"] for r in run["result"]} == {"code/strategy.py", "final_model.npz"}
    assert nodes["_:b2"] == {"@id": "_:b2"}  # as the reference: a node per blank node
    assert nodes["urn:uuid:2f2d7c5e-1111-4222-8333-444455556666"]["name"] == ""
    assert list(nodes)[:2] == ["ro-crate-metadata.json", "./"]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
def test_a_double_json_cannot_carry_is_a_typed_string(value: float) -> None:
    """The reference writes the bare tokens `NaN` / `Infinity`: not JSON (a strict parser
    rejects the whole document), though Python's json and so rdflib read them."""
    graph = Graph(bind_namespaces="none")
    literal = Literal(value)
    graph.add((URIRef(BASE + "#x"), SDO.value, literal))
    fast = graph_to_jsonld(graph, BASE)
    json.loads(dumps_indented(fast), parse_constant=_refuse_constant)  # strict JSON
    assert fast["@graph"][0]["value"] == {"@type": "xsd:double", "@value": str(literal)}
    assert _reads_back(fast, graph, BASE)
    assert _as_json(fast) == _as_fast_writes(_as_json(graph_to_jsonld_reference(graph, BASE)))


@pytest.mark.parametrize(
    "value", [10**400, -(10**21), 2**53 + 1], ids=["10^400", "-10^21", "2^53+1"]
)
def test_an_integer_of_any_size_is_a_native_number_as_the_reference_writes_it(
    value: int,
) -> None:
    """As the reference and `tests/unit/test_properties.py` have it; a JSON-LD 1.1
    processor would read one of 10^21 or more as an xsd:double (see `jsonld_fast`)."""
    graph = Graph(bind_namespaces="none")
    graph.add((URIRef(BASE + "#x"), SDO.value, Literal(value)))
    fast = graph_to_jsonld(graph, BASE)
    assert fast == graph_to_jsonld_reference(graph, BASE)
    assert fast["@graph"][0]["value"] == value
    assert json.loads(dumps_indented(fast))["@graph"][0]["value"] == value
    assert _reads_back(fast, graph, BASE)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def test_literals_the_reference_loses_are_kept() -> None:
    """Three triples the reference drops or changes; the fast path keeps each:

    * `"abc"^^xsd:integer` (ill-typed): the reference writes the bare string "abc";
    * a second value after a falsy first (`0`, `""`): the reference overwrites the first,
      since it tests the existing value's truth;
    * `rdf:type` with a literal: the reference puts it under `@type`, which takes IRIs.
    """
    graph = Graph(bind_namespaces="none")
    subject = URIRef(BASE + "#x")
    graph.add((subject, SDO.value, Literal("abc", datatype=XSD.integer)))
    graph.add((subject, FL.round, Literal(0)))
    graph.add((subject, FL.round, Literal(1)))
    graph.add((subject, SDO.name, Literal("")))
    graph.add((subject, SDO.name, Literal("second")))
    graph.add((subject, RDF.type, Literal("not an IRI")))
    graph.add((subject, RDF.type, SDO.Thing))
    fast = graph_to_jsonld(graph, BASE)
    assert _reads_back(fast, graph, BASE)
    assert not _reads_back(graph_to_jsonld_reference(graph, BASE), graph, BASE)
    node = fast["@graph"][0]
    assert node["value"] == {"@type": "xsd:integer", "@value": "abc"}
    assert sorted(node["fl:round"]) == [0, 1] and sorted(node["name"]) == ["", "second"]
    assert node["@type"] == "Thing" and node["rdf:type"] == "not an IRI"


def test_a_number_literal_not_in_its_normal_form_keeps_it() -> None:
    """Written natively only when the JSON number gives the same lexical form back: a
    literal made by `number_literal` (recognised by its datatype object) always does; one
    made with `normalize=False` from the same datatype object (rdflib copies it) need not."""
    graph = Graph(bind_namespaces="none")
    subject = URIRef(BASE + "#x")
    graph.add((subject, SDO.value, Literal("1.50", datatype=entities.XSD_DOUBLE, normalize=False)))
    graph.add((subject, FL.round, Literal("01", datatype=entities.XSD_INTEGER, normalize=False)))
    graph.add((subject, SDO.version, number_literal(0.5)))
    graph.add((subject, FL.nodeCount, Literal(number_literal(7))))  # a copy: same datatype
    node = graph_to_jsonld(graph, BASE)["@graph"][0]
    assert node["value"] == {"@type": "xsd:double", "@value": "1.50"}
    assert node["fl:round"] == {"@type": "xsd:integer", "@value": "01"}
    assert node["version"] == 0.5 and node["fl:nodeCount"] == 7
    # (rdflib's parser normalises "1.50" to "1.5" as it reads; the document keeps "1.50".)


@pytest.mark.parametrize(
    ("iri", "expected"),
    [
        (BASE, "./"),
        (BASE + "#fl-run", "#fl-run"),
        (BASE + "?q=1", "?q=1"),
        (BASE + "final_model.npz", "final_model.npz"),
        (BASE + "code/x.py#L1", "code/x.py#L1"),
        (BASE + "a:b", BASE + "a:b"),  # would read as scheme `a:`
        (BASE + "x/../y", BASE + "x/../y"),  # resolution removes dot segments
        (BASE + "./y", BASE + "./y"),
        (BASE + "/y", BASE + "/y"),
        ("https://example.org/x", "https://example.org/x"),
    ],
)
def test_an_id_is_relative_only_when_it_resolves_back(iri: str, expected: str) -> None:
    assert relative_id(iri, BASE) == expected
    graph = Graph(bind_namespaces="none")
    graph.add((URIRef(iri), SDO.name, Literal("n")))
    fast = graph_to_jsonld(graph, BASE)
    assert fast["@graph"][0]["@id"] == expected
    assert _reads_back(fast, graph, BASE)


def test_graphs_the_fast_path_does_not_take_get_the_reference() -> None:
    listed = Graph(bind_namespaces="none")
    head = BNode()
    listed.add((URIRef(BASE + "#x"), SDO.itemListElement, head))
    listed.add((head, RDF.first, Literal(1)))
    listed.add((head, RDF.rest, RDF.nil))
    assert compact_nodes(listed, BASE, _compaction_context()) is None
    assert _as_json(graph_to_jsonld(listed, BASE)) == _as_json(
        graph_to_jsonld_reference(listed, BASE)
    )
    dataset = ConjunctiveGraph()
    dataset.add((URIRef(BASE + "#x"), SDO.name, Literal("n")))
    assert compact_nodes(dataset, BASE, _compaction_context()) is None
    coercing = Context([{"name": {"@id": str(SDO.name), "@type": "@id"}}])
    assert compact_nodes(new_graph([]), BASE, coercing) is None


def test_fast_false_is_the_reference() -> None:
    graph = _edge_graph()
    assert graph_to_jsonld(graph, BASE, fast=False) == graph_to_jsonld_reference(graph, BASE)


def test_an_emptied_subject_is_no_node() -> None:
    """SimpleMemory keeps empty entries after removals; the reference sees no such subject."""
    graph = new_graph([(URIRef(BASE + "#x"), SDO.name, Literal("n"))])
    graph.add((URIRef(BASE + "#y"), SDO.name, Literal("gone")))
    graph.remove((URIRef(BASE + "#y"), None, None))
    assert _as_json(graph_to_jsonld(graph, BASE)) == _as_json(
        graph_to_jsonld_reference(graph, BASE)
    )
    assert [n["@id"] for n in graph_to_jsonld(graph, BASE)["@graph"]] == ["#x"]


# -- the text --------------------------------------------------------------------------------

JSON_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12) | st.sampled_from(
    ["}", "},\n      {", '"', "\\", "\n", "{", "[", "]", ",", "é", "🚀", "\u2028", "\x00"]
)
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | JSON_TEXT
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(JSON_TEXT, children, max_size=5)
        | st.builds(lambda target: {"@id": target}, JSON_TEXT)
    ),
    max_leaves=40,
)


@settings(max_examples=examples(200))
@given(document=JSON_VALUES)
def test_the_text_is_json_dumps_indent_2(document: Any) -> None:
    assert dumps_indented(document) == json.dumps(document, indent=2, ensure_ascii=False)


@settings(max_examples=examples(50))
@given(
    nodes=st.lists(
        st.dictionaries(JSON_TEXT, JSON_SCALARS, min_size=1, max_size=4), min_size=1, max_size=6
    )
)
def test_runs_of_flat_dicts_are_json_dumps_indent_2(nodes: list[dict[str, Any]]) -> None:
    """What every round value of a crate is: a run of dicts of scalars, in one C call."""
    document = {"@graph": nodes, "x": [{"@id": "a"}, *nodes, 1, nodes[0]]}
    assert dumps_indented(document) == json.dumps(document, indent=2, ensure_ascii=False)


def test_the_c_encoder_is_used_here() -> None:
    assert jsonld_fast._flat_encoder("\n    ") is not None


@pytest.mark.parametrize(
    "folder", [p for p in FEDCRATE_CRATES if p.parent.name == "valid"], ids=lambda p: p.name
)
def test_a_corpus_crate_is_written_to_the_byte(folder: Path) -> None:
    """The valid corpus crates were written by `write_crate` (json.dumps, rdflib's
    serializer); written again from their graph, the text is the same to the byte."""
    graph, base = _corpus_graph(folder)
    document = graph_to_jsonld(graph, base)
    assert dumps_indented(document) == json.dumps(document, indent=2, ensure_ascii=False)
    on_disk = (folder / "ro-crate-metadata.json").read_text(encoding="utf-8")
    assert dumps_indented(document) + "\n" == on_disk


def test_what_json_does_not_hold_is_refused() -> None:
    with pytest.raises(TypeError):
        dumps_indented({"a": object()})
    with pytest.raises(TypeError):
        dumps_indented({1: "a"})


# -- the builder's and the writer's other fast paths -----------------------------------------

NUMBERS = st.floats(allow_nan=True, allow_infinity=True) | st.integers(
    min_value=-(10**40), max_value=10**40
)


@settings(max_examples=examples(200))
@given(value=NUMBERS)
def test_a_number_literal_is_rdflibs(value: float | int) -> None:
    assert number_literal is entities._make_number  # the fast factory is in use here
    assert entities._same_literal(number_literal(value), Literal(value))


def _indices(store: object) -> list[str]:
    return [repr(vars(store)[f"_SimpleMemory__{name}"]) for name in ("spo", "pos", "osp")]


def _built_triples(record: RunRecord) -> list[tuple[Any, Any, Any]]:
    """The builder's triples in the order `new_graph` gets them (and `addN` below)."""
    completed = replace(record, observations=complete_observations(record.observations))
    return list(RunGraphBuilder(completed).build())


def _by_add(triples: list[tuple[Any, Any, Any]]) -> Graph:
    graph = Graph(store="SimpleMemory", bind_namespaces="none")
    graph.addN((s, p, o, graph) for s, p, o in triples)
    return graph


def test_the_bulk_fill_is_in_use_and_fills_the_store_as_add_does() -> None:
    assert entities._BULK_FILL
    triples = _built_triples(make_record(rounds=2))
    graph, by_add = new_graph(triples), _by_add(triples)
    store = graph.store
    assert type(store) is entities.CrateStore and store._osp_source is not None
    # Queries by subject or predicate leave osp for later; the first by object alone makes
    # it, in the triples' order: then all three indices are SimpleMemory's, key for key.
    some = triples[len(triples) // 2]
    for pattern in [(some[0], None, None), (None, some[1], None), (some[0], None, some[2])]:
        assert list(graph.triples(pattern)) == list(by_add.triples(pattern))
    assert store._osp_source is not None
    assert list(graph.triples((None, None, some[2]))) == list(by_add.triples((None, None, some[2])))
    assert store._osp_source is None
    assert _indices(store) == _indices(by_add.store)
    assert len(graph) == len(by_add) and isomorphic(graph, by_add)


@pytest.mark.parametrize("change", ["add", "remove"])
def test_changing_a_filled_store_makes_its_object_index_first(change: str) -> None:
    triples = _built_triples(make_record(rounds=1))
    graph, by_add = new_graph(triples), _by_add(triples)
    extra = (URIRef(BASE + "#x"), SDO.name, Literal("x"))
    for target in (graph, by_add):
        if change == "add":
            target.add(extra)
        else:
            target.remove((None, SDO.name, None))
    assert graph.store._osp_source is None  # type: ignore[attr-defined]
    assert _indices(graph.store) == _indices(by_add.store)
    assert sorted(graph.subjects(None, Literal("x"))) == sorted(by_add.subjects(None, Literal("x")))


def _csv_reference(record: RunRecord) -> str:
    """The metrics log as the writer wrote it with csv.writer."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["round", "side", "metric", "metric_iri", "value"])
    for obs in sorted(record.observations, key=lambda o: (o.round, o.side.value, o.metric.name)):
        writer.writerow(
            [obs.round, obs.side.value, obs.metric.name, obs.metric.iri or "", obs.value]
        )
    return buffer.getvalue()


LOG_VALUES = (
    st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(min_value=-(2**70), max_value=2**70)
    | JSON_TEXT
    | st.booleans()
)


@settings(max_examples=examples(40))
@given(
    rows=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=3),
            st.sampled_from(list(Side)),
            JSON_TEXT,
            st.none() | JSON_TEXT,
            LOG_VALUES,
        ),
        max_size=20,
    )
)
def test_the_metrics_log_is_what_csv_writer_writes(
    rows: list[tuple[int, Side, str, str | None, Any]],
) -> None:
    observations = [RoundObservation(r, side, Metric(n, iri), v) for r, side, n, iri, v in rows]
    record = replace(make_record(rounds=1), observations=observations)
    with tempfile.TemporaryDirectory() as folder:
        _stage_metrics_log(record, Path(folder))
        written = (Path(folder) / "metrics-by-round.csv").read_bytes()
    assert written == _csv_reference(record).encode("utf-8")
