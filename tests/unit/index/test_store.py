"""SPARQL across crates: fast JSON-LD path, named queries, engines agree, incremental index.

The corpus is three crates written by fedcrate's own writer with values chosen so every
named query has one known answer, plus a foreign (hand-written, schema.org-only) crate.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import subprocess
import sys
import warnings
from dataclasses import replace
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Dataset, Literal, URIRef
from rdflib.query import ResultRow

from fedcrate import read_crate, write_crate
from fedcrate.capture.deployment import node_id_digest
from fedcrate.crate import crate_base
from fedcrate.errors import QueryError
from fedcrate.index import CrateIndex, find_crates
from fedcrate.index.quads import (
    alignment,
    crate_lines,
    crate_nquads,
    fallback_lines,
    fast_triples,
    nt_iri,
    nt_literal,
)
from fedcrate.index.queries import load_named_query, named_queries
from fedcrate.index.results import QueryResult, python_value
from fedcrate.index.store import INDEX_GRAPH
from fedcrate.record import (
    ClientContribution,
    ContributionMetric,
    Metric,
    Parameter,
    ReplyStatus,
    RunStatus,
    Side,
    StrategyFacts,
)
from tests.conftest import make_record

UUID = "1b4c5f2e-0000-4000-8000-00000000000{}"
FL_NS = "https://w3id.org/fedcrate/fl#"
ROUNDS = 3
FOREIGN = {
    "@context": [
        "https://w3id.org/ro/crate/1.2/context",
        {"ex": "https://example.org/terms#"},
    ],
    "@graph": [
        {
            "@id": "ro-crate-metadata.json",
            "@type": "CreativeWork",
            "about": {"@id": "./"},
            "conformsTo": {"@id": "https://w3id.org/ro/crate/1.2"},
        },
        {
            "@id": "./",
            "@type": "Dataset",
            "name": "foreign crate",
            "hasPart": [{"@id": "data/out.csv"}],
            "datePublished": "2025-01-01",
        },
        {
            "@id": "#training",
            "@type": "CreateAction",
            "name": "foreign training",
            "startTime": "2025-01-01T00:00:00+00:00",
            "actionStatus": {"@id": "http://schema.org/FailedActionStatus"},
            "error": "disk full",
            "object": {"@id": "#input"},
            "result": {"@id": "data/out.csv"},
            "ex:note": {"@value": "note", "@language": "en"},
            "ex:count": 3,
            "ex:ok": True,
            "ex:when": {"@value": "2025-01-01T00:00:00Z", "@type": "xsd:dateTime"},
        },
        {"@id": "#input", "@type": "Dataset", "name": "input data"},
        {"@id": "data/out.csv", "@type": "File", "name": "output", "ex:ratio": 0.25},
    ],
}


def _record(name: str, number: int, factor: float, **changes: object):  # type: ignore[no-untyped-def]
    base = make_record(rounds=ROUNDS)
    observations = [replace(o, value=o.value * factor) for o in base.observations]
    return replace(
        base, name=name, run_uuid=UUID.format(number), observations=observations, **changes
    )


def write_corpus(folder: Path) -> Path:
    """a (FedProx mu 0.1), b (FedAvg), c (FedProx mu 0.3, failed); factors 1, 0.8, 1.2."""
    prox = make_record().strategy
    assert prox is not None
    fedavg = StrategyFacts(
        "FedAvg", "flwr.serverapp.strategy.fedavg", (Parameter("fraction_train", 0.5),), "1.42.0"
    )
    write_crate(_record("run a", 1, 1.0), folder / "a")
    # b recorded its clients (record_clients=True): round 1's training, one node failed.
    contributions = [
        ClientContribution(
            1,
            Side.CLIENT_TRAIN,
            node_id_digest(7),
            ReplyStatus.REPLIED,
            examples=40,
            metrics=(ContributionMetric(Metric("loss"), 0.25),),
        ),
        ClientContribution(
            1,
            Side.CLIENT_TRAIN,
            node_id_digest(8),
            ReplyStatus.FAILED,
            error_kind="CLIENT_APP_RAISED_EXCEPTION: RuntimeError",
        ),
    ]
    write_crate(
        _record("run b", 2, 0.8, strategy=fedavg, contributions=contributions), folder / "b"
    )
    failed_strategy = replace(
        prox, hyperparameters=(Parameter("proximal_mu", 0.3), Parameter("fraction_train", 0.5))
    )
    write_crate(
        _record("run c", 3, 1.2, status=RunStatus.FAILED, error="boom", strategy=failed_strategy),
        folder / "c",
    )
    return folder


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def index(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> CrateIndex:
    return CrateIndex(corpus, index=tmp_path_factory.mktemp("index"))


def _write_foreign(folder: Path, document: dict[str, object] = FOREIGN) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ro-crate-metadata.json").write_text(json.dumps(document), encoding="utf-8")
    return folder


# -- the JSON-LD fast path equals rdflib's parser ---------------------------------------


def _rdflib_triples(path: Path) -> set[ox.Triple]:
    text = "".join(f"{nt_term(s)} {nt_term(p)} {nt_term(o)} .\n" for s, p, o in read_crate(path))
    return set(ox.parse(text, format=ox.RdfFormat.N_TRIPLES))


def nt_term(node: object) -> str:
    if isinstance(node, URIRef):
        return nt_iri(str(node))
    if isinstance(node, Literal):
        return nt_literal(str(node), str(node.datatype) if node.datatype else None, node.language)
    raise AssertionError(f"unexpected term {node!r}")


def _fast(path: Path) -> set[ox.Triple]:
    metadata = path / "ro-crate-metadata.json"
    document = json.loads(metadata.read_text(encoding="utf-8"))
    triples = fast_triples(document, crate_base(document, metadata))
    text = "".join(f"{s} {p} {o} .\n" for s, p, o in triples)
    return set(ox.parse(text, format=ox.RdfFormat.N_TRIPLES))


def test_fast_path_equals_rdflib_for_fedcrate_crates(corpus: Path) -> None:
    for crate in sorted(corpus.glob("*/ro-crate")):
        fast = _fast(crate)
        assert fast == _rdflib_triples(crate)
        assert len(fast) > 200  # the whole crate, not the part before some unsupported node


def test_fast_path_equals_rdflib_for_a_foreign_crate(tmp_path: Path) -> None:
    crate = _write_foreign(tmp_path / "foreign")
    fast = _fast(crate)
    assert fast == _rdflib_triples(crate)
    objects = {str(t.object) for t in fast}
    assert '"note"@en' in objects and '"0.25"^^<http://www.w3.org/2001/XMLSchema#double>' in objects


def test_fallback_handles_blank_nodes(tmp_path: Path) -> None:
    document = json.loads(json.dumps(FOREIGN))
    document["@graph"][2]["agent"] = {"@type": "Person", "name": "Anonymous"}
    crate = _write_foreign(tmp_path / "bnode", document)
    metadata = crate / "ro-crate-metadata.json"
    lines = fallback_lines(document, crate_base(document, metadata), "x")
    assert any(s.startswith("_:x") for s, _, _ in lines)
    assert len(lines) == len(read_crate(crate))


def test_entailments_are_written_once_and_never_restate_the_crate(corpus: Path) -> None:
    metadata = next(corpus.glob("a/*/ro-crate-metadata.json"))
    document = json.loads(metadata.read_text(encoding="utf-8"))
    triples = fast_triples(document, crate_base(document, metadata))
    lines: list[str] = []
    crate_lines(triples, lines)
    stated = {f"{s} {p} {o} .\n" for s, p, o in triples}
    derived = lines[len(triples) :]
    assert derived and len(set(derived)) == len(derived)
    assert not stated & set(derived)
    entailed = {f"{s} {p} {o} .\n" for s, p, o in alignment().entail(triples)}
    assert set(lines) == stated | entailed


@pytest.mark.parametrize("bad_id", ["http://example.org/%zz", "data/out%zz.csv"])
def test_an_iri_the_store_would_reject_is_reported_not_loaded(tmp_path: Path, bad_id: str) -> None:
    # The index bulk-loads leniently, so crate_quads must catch what Oxigraph would.
    document = json.loads(json.dumps(FOREIGN))
    document["@graph"][4]["@id"] = bad_id
    crates = tmp_path / "crates"
    bad = _write_foreign(crates / "bad", document) / "ro-crate-metadata.json"
    _write_foreign(crates / "good")
    with pytest.raises(ValueError, match="not a valid IRI"):
        nt_iri("http://example.org/%zz")
    with CrateIndex(crates, index=tmp_path / "index") as crate_index:
        report = crate_index.refresh()
        assert [(e.path, "not a valid IRI" in e.message) for e in report.errors] == [(bad, True)]
        assert len(crate_index.graphs()) == 1


def test_blank_node_labels_with_spaces_are_loaded(tmp_path: Path) -> None:
    document = json.loads(json.dumps(FOREIGN))
    document["@graph"][2]["result"] = {"@id": "_:the output"}
    document["@graph"].append({"@id": "_:the output", "@type": "File", "name": "spaced"})
    _write_foreign(tmp_path / "crates" / "bnode", document)
    with CrateIndex(tmp_path / "crates", index=tmp_path / "index") as crate_index:
        assert not crate_index.refresh().errors
        result = crate_index.query(
            "ASK { ?a <http://schema.org/result> ?r . ?r <http://schema.org/name> 'spaced' }"
        )
        assert result.rows == [(True,)]


# -- named queries: known answers -------------------------------------------------------


def test_every_shipped_query_has_a_description() -> None:
    queries = named_queries()
    for name in ("runs", "metric-history", "best-runs", "compare", "frameworks", "failed-runs"):
        assert queries[name].description, name
    assert queries["best-runs"].params == {"metric": '"accuracy"'}


def test_runs(index: CrateIndex) -> None:
    result = index.query("runs")
    by_name = {r["name"]: r for r in result.records()}
    assert sorted(by_name) == ["run a", "run b", "run c"]
    assert by_name["run a"]["strategy"] == "FedProx"
    assert by_name["run b"]["strategy"] == "FedAvg"
    assert by_name["run c"]["status"] == "Failed"
    assert by_name["run a"]["status"] == "Completed"
    assert by_name["run a"]["rounds"] == ROUNDS
    assert by_name["run a"]["start"] == "2026-11-25T10:00:00.123+00:00"
    finals = _finals(by_name["run b"]["finalMetrics"])
    assert finals["server-evaluate accuracy"] == pytest.approx(0.8 / (ROUNDS + 2))
    assert finals["client-evaluate loss"] == pytest.approx(0.8 * 0.25 * ROUNDS)
    assert len(finals) == 6


def _finals(text: object) -> dict[str, float]:
    assert isinstance(text, str)
    pairs = (part.rsplit("=", 1) for part in text.split("; "))
    return {key: float(value) for key, value in pairs}


def test_metric_history_is_long_format(index: CrateIndex) -> None:
    result = index.query("metric-history", {"metric": "accuracy"})
    assert result.columns == ["run", "name", "round", "side", "metric", "value"]
    # per run: round 0 server only, rounds 1..3 three sides
    assert len(result) == 3 * (1 + 3 * ROUNDS)
    rows = [r for r in result.records() if r["name"] == "run c" and r["round"] == 2]
    values = {r["side"]: r["value"] for r in rows}
    assert values == pytest.approx(
        {"server-evaluate": 1.2 / 4, "client-train": 1.2 * 0.5, "client-evaluate": 1.2 * 0.5}
    )


def test_best_runs_default_metric_and_param(index: CrateIndex) -> None:
    best = {(r["strategy"], r["side"]): r for r in index.query("best-runs").records()}
    assert {r["metric"] for r in best.values()} == {"accuracy"}
    assert best[("FedProx", "server-evaluate")]["name"] == "run c"
    assert best[("FedProx", "server-evaluate")]["best"] == pytest.approx(1.2 / (ROUNDS + 2))
    assert best[("FedAvg", "server-evaluate")]["name"] == "run b"
    loss = {
        (r["strategy"], r["side"]): r
        for r in index.query("best-runs", {"metric": "loss"}).records()
    }
    # lower is better for a loss
    assert loss[("FedProx", "server-evaluate")]["name"] == "run a"
    assert loss[("FedProx", "server-evaluate")]["best"] == pytest.approx(1 / (ROUNDS + 2))


def test_compare_lists_only_parameters_that_differ(index: CrateIndex) -> None:
    rows = index.query("compare").records()
    differing = {(r["scope"], r["parameter"]) for r in rows}
    assert differing == {("strategy", "class"), ("strategy", "proximal_mu")}
    mu = {r["name"]: r["value"] for r in rows if r["parameter"] == "proximal_mu"}
    assert mu == {"run a": 0.1, "run c": 0.3}  # run b (FedAvg) has no proximal_mu


def test_frameworks(index: CrateIndex) -> None:
    rows = index.query("frameworks").records()
    assert {(r["name"], r["framework"], r["version"]) for r in rows} == {
        (run, framework, version)
        for run in ("run a", "run b", "run c")
        for framework, version in (("Flower", "1.42.0"), ("NumPy", "2.4.6"))
    }
    assert {r["requirement"] for r in rows if r["framework"] == "NumPy"} == {"numpy>=1.26"}


def test_failed_runs(index: CrateIndex) -> None:
    rows = index.query("failed-runs").records()
    assert [(r["name"], r["error"]) for r in rows] == [("run c", "boom")]


def test_unknown_param_of_a_named_query_is_an_error(index: CrateIndex) -> None:
    with pytest.raises(QueryError, match="no parameter 'metrc'"):
        index.query("best-runs", {"metrc": "loss"})


def test_invalid_sparql_names_line_and_column(index: CrateIndex) -> None:
    with pytest.raises(QueryError, match=r"2:\d+"):
        index.query("SELECT * WHERE {\n ?s ?p ?o FILTER( }")


# -- PROV-O phrasing, union default graph, named graphs --------------------------------


def test_prov_phrasing_matches_schema_org_only_crate(tmp_path: Path) -> None:
    _write_foreign(tmp_path / "crates" / "foreign")
    crate_index = CrateIndex(tmp_path / "crates")
    result = crate_index.query(
        """PREFIX prov: <http://www.w3.org/ns/prov#>
        SELECT ?activity ?used ?generated ?entity_from WHERE {
          ?activity a prov:Activity ; prov:used ?used ; prov:generated ?generated ;
                    prov:startedAtTime ?start .
          ?generated prov:wasGeneratedBy ?entity_from .
          ?generated a prov:Entity .
        }"""
    )
    (row,) = result.records()
    assert str(row["used"]).endswith("#input")
    assert str(row["generated"]).endswith("/data/out.csv")
    assert row["entity_from"] == row["activity"]
    crate_index.close()


def test_the_index_graph_names_each_crates_file_and_the_default_graph_is_their_union(
    index: CrateIndex, corpus: Path
) -> None:
    assert index.graphs() == [f"arcp://uuid,{UUID.format(n)}/" for n in (1, 2, 3)]
    files = index.query(
        f"SELECT ?crate ?file WHERE {{ GRAPH <{INDEX_GRAPH}> "
        f"{{ ?crate <{FL_NS}indexedFrom> ?file }} }}"
    )
    by_crate = dict(files.rows)
    for metadata in corpus.glob("*/ro-crate/ro-crate-metadata.json"):
        base = crate_base(json.loads(metadata.read_text("utf-8")), metadata)
        assert by_crate[base] == str(metadata.resolve())
    # which crate a triple came from: its subject is under that crate's base IRI
    runs = index.query(
        f"SELECT ?file ?name WHERE {{ GRAPH <{INDEX_GRAPH}> "
        f"{{ ?crate <{FL_NS}indexedFrom> ?file }} "
        "?run a <http://schema.org/CreateAction> ; <http://schema.org/name> ?name . "
        "FILTER(STRSTARTS(STR(?run), STR(?crate))) }"
    )
    assert sorted(Path(str(f)).parent.parent.name + str(n)[-1] for f, n in runs.rows) == [
        "aa", "bb", "cc"
    ]  # fmt: skip
    # the side terms are stated by every crate, yet appear once in the default graph
    count = index.query(
        "SELECT (COUNT(*) AS ?n) WHERE { "
        "<https://w3id.org/fedcrate/fl#ServerEvaluation> <http://schema.org/termCode> ?c }"
    )
    assert count.rows == [(1,)]


def _spo(quads: object) -> set[tuple[str, str, str]]:
    return {(str(q.subject), str(q.predicate), str(q.object)) for q in quads}  # type: ignore[attr-defined]


def _stored(text: str) -> set[tuple[str, str, str]]:
    """The triples of N-Triples `text` as Oxigraph stores them (it normalises dateTimes)."""
    memory = ox.Store()
    memory.load(text, ox.RdfFormat.N_TRIPLES)
    return _spo(memory)


def _default_graph(crate_index: CrateIndex) -> set[tuple[str, str, str]]:
    return _spo(crate_index.store.quads_for_pattern(None, None, None, ox.DefaultGraph()))


def test_store_holds_the_set_union_of_the_crates_once(corpus: Path, tmp_path: Path) -> None:
    crates = [crate_nquads(m) for m in sorted(corpus.glob("*/ro-crate/ro-crate-metadata.json"))]
    with CrateIndex(corpus, index=tmp_path / "index") as crate_index:
        crate_index.refresh()
        union: set[tuple[str, str, str]] = set()
        for _, text in crates:
            union |= _stored(text)
        assert _default_graph(crate_index) == union
        assert crate_index.quad_count() == len(union)
        assert list(crate_index.store.named_graphs()) == [ox.NamedNode(INDEX_GRAPH)]


def test_oxigraph_union_default_graph_is_still_a_bag() -> None:
    """Why query.py materialises the default graph instead of asking for the union.

    pyoxigraph 0.5 returns a triple stated in two graphs twice (oxigraph/oxigraph#1919,
    fixed for 0.6 by #1920). When this fails, the copy can go: query with
    `use_default_graph_as_union=True` and compare load and query times.
    """
    store = ox.Store()
    for graph in ("urn:g1", "urn:g2"):
        store.add(ox.Quad(ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), ox.Literal("x"),
                          ox.NamedNode(graph)))  # fmt: skip
    rows = store.query("SELECT * WHERE { ?s ?p ?o }", use_default_graph_as_union=True)
    assert isinstance(rows, ox.QuerySolutions)
    assert len(list(rows)) == 2


# -- the embedded engine agrees with rdflib's SPARQL engine -----------------------------


def _rdflib_dataset(corpus: Path) -> Dataset:
    """rdflib's own JSON-LD parser per crate + the same PROV-O entailment, union default."""
    warnings.simplefilter("ignore", DeprecationWarning)
    dataset = Dataset(default_union=True)
    entail = alignment()
    for metadata in sorted(corpus.glob("*/ro-crate/ro-crate-metadata.json")):
        document = json.loads(metadata.read_text(encoding="utf-8"))
        graph = dataset.graph(URIRef(crate_base(document, metadata)))
        parsed = read_crate(metadata)
        terms: dict[str, object] = {}
        triples = []
        for s, p, o in parsed:
            key = (s.n3(), p.n3(), o.n3())
            terms.update(zip(key, (s, p, o), strict=True))
            triples.append(key)
            graph.add((s, p, o))
        for derived in entail.entail(triples):
            # entailments add only vocabulary IRIs (classes, properties) to known terms
            s, p, o = (terms.get(t) or URIRef(t[1:-1]) for t in derived)
            graph.add((s, p, o))
    return dataset


@pytest.fixture(scope="module")
def rdflib_dataset(corpus: Path) -> Dataset:
    return _rdflib_dataset(corpus)


def _rdflib_rows(dataset: Dataset, text: str) -> QueryResult:
    result = dataset.query(text)
    columns = [str(v) for v in (result.vars or [])]
    rows = []
    for row in result:
        assert isinstance(row, ResultRow)
        values = []
        for term in row:
            if term is None:
                values.append(None)
            elif isinstance(term, Literal):
                values.append(
                    python_value(str(term), str(term.datatype) if term.datatype else None)
                )
            elif isinstance(term, BNode):
                values.append(f"_:{term}")
            else:
                values.append(str(term))
        rows.append(tuple(values))
    return QueryResult(columns, rows)


def _normalised(result: QueryResult) -> list[tuple[object, ...]]:
    rows = []
    for record in result.records():
        if "finalMetrics" in record:
            record["finalMetrics"] = tuple(sorted(_finals(record["finalMetrics"]).items()))
        rows.append(tuple(sorted(record.items(), key=lambda kv: kv[0])))
    return sorted(rows, key=repr)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("name", sorted(named_queries()))
def test_embedded_engine_equals_rdflib_engine(
    name: str, rdflib_dataset: Dataset, index: CrateIndex
) -> None:
    dataset = rdflib_dataset
    text = load_named_query(name).bound()
    embedded = index.query(load_named_query(name))
    expected = _rdflib_rows(dataset, text)
    assert embedded.columns == expected.columns
    assert len(embedded) > 0
    assert _normalised(embedded) == _normalised(expected)


# -- incremental index ------------------------------------------------------------------


def test_incremental_reindex_add_change_delete(tmp_path: Path) -> None:
    crates = write_corpus(tmp_path / "crates")
    crate_index = CrateIndex(crates)
    first = crate_index.refresh()
    assert len(first.added) == 3 and not first.errors
    assert (crate_index.path / "manifest.json").is_file()
    assert not (crates / ".fedcrate-index").exists()  # the index stays out of the crates
    again = crate_index.refresh()
    assert (again.unchanged, again.added, again.changed, again.removed) == (3, [], [], [])

    write_crate(_record("run d", 4, 2.0), crates / "d")
    metadata = next((crates / "a").glob("*/ro-crate-metadata.json"))
    metadata.write_text(
        metadata.read_text(encoding="utf-8").replace('"run a"', '"run a renamed"'),
        encoding="utf-8",
    )
    shutil.rmtree(crates / "b")
    report = crate_index.refresh()
    assert [p.parent.parent.name for p in report.added] == ["d"]
    assert [p.parent.parent.name for p in report.changed] == ["a"]
    assert [p.parent.parent.name for p in report.removed] == ["b"]
    names = sorted(str(n) for n in crate_index.query("runs").column("name"))
    assert names == ["run a renamed", "run c", "run d"]
    # the removed crate's triples left the default graph too, the shared ones stayed
    assert crate_index.query('ASK { ?r <http://schema.org/name> "run b" }').rows == [(False,)]
    sides = crate_index.query(
        "SELECT ?c WHERE { <https://w3id.org/fedcrate/fl#ServerEvaluation> "
        "<http://schema.org/termCode> ?c }"
    )
    assert sides.rows == [("server-evaluate",)]
    crate_index.close()

    reopened = CrateIndex(crates)  # persisted: nothing to re-parse
    assert reopened.refresh().unchanged == 3
    reopened.close()


def test_a_byte_identical_copy_is_one_run_and_an_edited_copy_a_conflict(
    corpus: Path, tmp_path: Path
) -> None:
    crates = tmp_path / "crates"
    shutil.copytree(corpus / "a", crates / "a")
    shutil.copytree(corpus / "a", crates / "backup-of-a")  # a second download, say
    shutil.copytree(corpus / "b", crates / "b")
    with CrateIndex(crates, index=tmp_path / "index") as crate_index:
        report = crate_index.refresh()
        assert not report.errors
        (note,) = report.notes
        assert "a/ro-crate" in note and "backup-of-a/ro-crate" in note and "indexed once" in note
        names = sorted(str(n) for n in crate_index.query("runs").column("name"))
        assert names == ["run a", "run b"]
        union = _default_graph(crate_index)
        # The copy is gone: the run stays, stated by the other file.
        shutil.rmtree(crates / "a")
        report = crate_index.refresh()
        assert [p.parent.parent.name for p in report.removed] == ["a"]
        assert _default_graph(crate_index) == union
        (row,) = crate_index.query(
            f"SELECT ?f WHERE {{ GRAPH <{INDEX_GRAPH}> {{ ?c <{FL_NS}indexedFrom> ?f }} "
            f'FILTER(STRSTARTS(STR(?c), "arcp://uuid,{UUID.format(1)}")) }}'
        ).rows
        assert "backup-of-a" in str(row[0])
        # An edited copy with the same identifier is a different crate: a conflict.
        metadata = crates / "edited" / "ro-crate" / "ro-crate-metadata.json"
        shutil.copytree(crates / "backup-of-a", crates / "edited")
        metadata.write_text(metadata.read_text("utf-8").replace('"run a"', '"run a2"'), "utf-8")
        report = crate_index.refresh()
        (problem,) = report.errors
        assert "edited/ro-crate" in problem.message and "backup-of-a/ro-crate" in problem.message
        assert "same run identifier" in problem.message
        names = sorted(str(n) for n in crate_index.query("runs").column("name"))
        assert names == ["run a", "run b"]
        again = crate_index.refresh()  # still a conflict next time: it is not in the index
        assert len(again.errors) == 1


def test_cli_duplicate_exits_0_with_a_note_and_a_conflict_exits_1(
    corpus: Path, tmp_path: Path
) -> None:
    crates = tmp_path / "crates"
    shutil.copytree(corpus / "a", crates / "a")
    shutil.copytree(corpus / "a", crates / "copy")
    index = str(tmp_path / "index")
    ok = _cli("sparql", "runs", str(crates), "--index", index, "--format", "csv")
    assert ok.returncode == 0, ok.stderr
    assert "byte-identical copy" in ok.stderr and ok.stdout.count("run a") == 1
    metadata = crates / "copy" / "ro-crate" / "ro-crate-metadata.json"
    metadata.write_text(metadata.read_text("utf-8").replace('"run a"', '"run z"'), "utf-8")
    conflict = _cli("sparql", "runs", str(crates), "--index", index, "--format", "csv")
    assert conflict.returncode == 1
    assert "same run identifier" in conflict.stderr and "run a" in conflict.stdout


def test_removing_every_crate_empties_the_store(corpus: Path, tmp_path: Path) -> None:
    crates = tmp_path / "crates"
    for name in ("a", "b", "c"):
        shutil.copytree(corpus / name, crates / name)
    _write_foreign(crates / "foreign" / "ro-crate")
    with CrateIndex(crates, index=tmp_path / "index") as crate_index:
        crate_index.refresh()
        for name in ("b", "foreign", "a", "c"):
            shutil.rmtree(crates / name)
            report = crate_index.refresh()
            assert len(report.removed) == 1 and not report.errors
        assert crate_index.quad_count() == 0 and crate_index.graphs() == []
        assert not list((tmp_path / "index" / "crates").iterdir())


def test_a_crate_with_blank_nodes_is_taken_out_exactly(tmp_path: Path) -> None:
    crates = tmp_path / "crates"
    document = json.loads(json.dumps(FOREIGN))
    for node in document["@graph"]:
        if node.get("@id") == "./":
            node["author"] = {"@type": "Person", "name": "Ann"}  # an embedded node: a blank node
    _write_foreign(crates / "x" / "ro-crate", document)
    with CrateIndex(crates, index=tmp_path / "index") as crate_index:
        crate_index.refresh()
        assert crate_index.query('ASK { ?p <http://schema.org/name> "Ann" }').rows == [(True,)]
        assert any(isinstance(q.subject, ox.BlankNode) for q in crate_index.store)
        shutil.rmtree(crates / "x")
        crate_index.refresh()
        assert crate_index.quad_count() == 0


def test_an_interrupted_refresh_is_repaired_by_the_next(corpus: Path, tmp_path: Path) -> None:
    crates = tmp_path / "crates"
    for name in ("a", "b", "c"):
        shutil.copytree(corpus / name, crates / name)
    with CrateIndex(crates, index=tmp_path / "index") as crate_index:
        crate_index.refresh()
        union = _default_graph(crate_index)
        answer = crate_index.query("runs").rows
    # What a refresh killed mid-way leaves: the manifest marked dirty, half a batch in the
    # store, and a crate whose kept text was already gone.
    manifest_path = tmp_path / "index" / "manifest.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    manifest["clean"] = False
    manifest_path.write_text(json.dumps(manifest), "utf-8")
    store = ox.Store(str(tmp_path / "index" / "store"))
    store.add(ox.Quad(ox.NamedNode("urn:half"), ox.NamedNode("urn:p"), ox.Literal("loaded")))
    del store
    b_graph = f"arcp://uuid,{UUID.format(2)}/"
    (tmp_path / "index" / "crates" / f"{hashlib.sha1(b_graph.encode()).hexdigest()}.nt.z").unlink()
    with CrateIndex(crates, index=tmp_path / "index") as crate_index:
        report = crate_index.refresh()
        assert report.warnings and "did not finish" in report.warnings[0]
        assert [p.parent.parent.name for p in report.added] == ["b"]  # parsed again
        assert _default_graph(crate_index) == union
        assert sorted(crate_index.query("runs").rows, key=repr) == sorted(answer, key=repr)
        assert crate_index.refresh().unchanged == 3


def test_a_batch_the_store_rejects_is_loaded_crate_by_crate(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fedcrate.index.quads

    def broken_for_b(metadata: Path) -> tuple[str, str]:
        graph, text = crate_nquads(metadata)
        return (
            (graph, text + '<urn:x> <urn:p> "unterminated .\n')
            if "/b/" in str(metadata)
            else (graph, text)
        )

    monkeypatch.setattr(fedcrate.index.quads, "crate_nquads", broken_for_b)
    with CrateIndex(corpus, index=tmp_path / "index") as crate_index:
        report = crate_index.refresh()
        assert [e.path.parent.parent.name for e in report.errors] == ["b"]
        assert "rejected by the store" in report.errors[0].message
        names = sorted(str(n) for n in crate_index.query("runs").column("name"))
        assert names == ["run a", "run c"]


def test_find_crates_follows_symlinks_once_and_skips_hidden_folders(tmp_path: Path) -> None:
    crates = tmp_path / "crates"
    real = _write_foreign(crates / "a" / "ro-crate") / "ro-crate-metadata.json"
    _write_foreign(crates / ".ro-crate-staging-x")  # half-written: never indexed
    (crates / "again").symlink_to(crates / "a", target_is_directory=True)
    (crates / "a" / "loop").symlink_to(crates, target_is_directory=True)
    outside = _write_foreign(tmp_path / "elsewhere" / "b") / "ro-crate-metadata.json"
    (crates / "linked").symlink_to(outside.parent, target_is_directory=True)
    assert find_crates([crates, crates / "again"]) == sorted([outside.resolve(), real.resolve()])
    assert find_crates([real]) == [real.resolve()]


# -- the command ------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from fedcrate.cli import main; main()", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_cli_malformed_crate_is_reported_and_skipped(tmp_path: Path) -> None:
    crates = write_corpus(tmp_path / "crates")
    bad = crates / "broken" / "ro-crate-metadata.json"
    bad.parent.mkdir()
    bad.write_text('{"@context": "https://w3id.org/ro/crate/1.2/context", "@graph": [', "utf-8")
    done = _cli("sparql", "failed-runs", str(crates), "--format", "csv")
    assert done.returncode == 1, done.stderr
    assert str(bad) in done.stderr.replace("\n", "")
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [(r["name"], r["error"]) for r in rows] == [("run c", "boom")]


def test_cli_bad_sparql_exits_2_with_line_and_column(corpus: Path, tmp_path: Path) -> None:
    done = _cli("sparql", "SELECT * WHERE {\n  ?s ?p }", str(corpus), "--index", str(tmp_path))
    assert done.returncode == 2
    assert "error at 2:" in done.stderr


def test_cli_json_and_tsv_formats_and_query_file(corpus: Path, tmp_path: Path) -> None:
    query = tmp_path / "names.rq"
    query.write_text(
        "SELECT ?name WHERE { ?r a <http://schema.org/CreateAction> ; "
        "<http://schema.org/name> ?name } ORDER BY ?name"
    )
    done = _cli("sparql", str(query), str(corpus), "--format", "json", "--index", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{"name": f"run {x}"} for x in "abc"]
    done = _cli(
        "sparql", "best-runs", str(corpus), "--format", "tsv", "--param", "metric=loss",
        "--index", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.splitlines()
    assert header.split("\t") == ["metric", "side", "strategy", "best", "run", "name"]
    assert {row.split("\t")[0] for row in rows} == {"loss"}


def test_cli_list(corpus: Path) -> None:
    done = _cli("sparql", "--list")
    assert done.returncode == 0
    for name in ("runs", "metric-history", "best-runs", "compare", "frameworks", "failed-runs"):
        assert name in done.stdout


def test_to_dataframe(index: CrateIndex) -> None:
    pandas = pytest.importorskip("pandas")
    frame = index.query("failed-runs").to_dataframe()
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame["error"]) == ["boom"]


def test_parallel_parsing_gives_the_same_index(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fedcrate.index.store

    monkeypatch.setattr(fedcrate.index.store, "_PARALLEL_THRESHOLD", 2)
    monkeypatch.setattr(fedcrate.index.store, "_WINDOW", 2)
    monkeypatch.setattr(fedcrate.index.store, "_OPTIMIZE_AFTER", 2)  # and compacted after
    with CrateIndex(corpus, index=tmp_path / "parallel", workers=2) as parallel:
        report = parallel.refresh()
        assert len(report.added) == 3 and not report.errors
        rows = parallel.query("runs")
    with CrateIndex(corpus, index=tmp_path / "serial", workers=1) as serial:
        assert _normalised(serial.query("runs")) == _normalised(rows)


def test_a_script_without_a_main_guard_indexes_in_parallel(corpus: Path, tmp_path: Path) -> None:
    """Workers must not re-run the caller's script (spawn would, and die in its bootstrap)."""
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import fedcrate.index.store as q\n"
        "q._PARALLEL_THRESHOLD = 2\n"
        f"index = q.CrateIndex({str(corpus)!r}, index={str(tmp_path / 'index')!r}, workers=2)\n"
        "report = index.refresh()\n"
        "print(len(report.added), len(report.errors), len(report.warnings),"
        " len(index.query('runs')))\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["3", "0", "0", "3"]
    # Parsed by the workers, not by the serial fallback after they died re-running it.
    assert "Traceback" not in done.stderr and "parsing crates in one process" not in done.stderr


@pytest.mark.parametrize("answers", [0, 1], ids=["worker-never-starts", "worker-dies-midway"])
def test_a_failing_parse_worker_falls_back_to_parsing_in_process(
    corpus: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    answers: int,
) -> None:
    """Injected fault: workers that exit at once, or after answering one crate."""
    import fedcrate.index.store

    dying = tmp_path / "dying-python"
    dying.write_text(
        f'#!/bin/sh\nhead -n {answers} | "{sys.executable}" -m fedcrate.index.workers\n'
        if answers
        else "#!/bin/sh\nexit 3\n",
        encoding="utf-8",
    )
    dying.chmod(0o755)
    monkeypatch.setattr(fedcrate.index.store, "_PARALLEL_THRESHOLD", 2)
    monkeypatch.setattr(sys, "executable", str(dying))
    with CrateIndex(corpus, index=tmp_path / "index", workers=2) as index:
        report = index.refresh()
        monkeypatch.undo()
        assert len(report.added) == 3 and not report.errors
        assert len(index.graphs()) == 3
        assert len(index.query("runs")) == 3
    # Reported, not only logged (a library's logging set-up may silence the log).
    assert len(report.warnings) == 1
    assert report.warnings[0].startswith("parsing crates in one process: parse worker")
    assert "(exit " in report.warnings[0]  # with the worker's exit code


def test_parse_workers_keep_crates_apart_whatever_their_paths(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Folder names with a newline or non-ASCII letters must not shift answers between crates."""
    import fedcrate.index.store

    folder = tmp_path / "crates"
    placed = {"a": "run a", "line\nbreak": "run b", "ünïcode": "run c"}
    for name, run in placed.items():
        shutil.copytree(corpus / run[-1], folder / name)
    monkeypatch.setattr(fedcrate.index.store, "_PARALLEL_THRESHOLD", 2)
    with CrateIndex(folder, index=tmp_path / "index", workers=2) as index:
        report = index.refresh()
        # Parsed by the workers (no fallback), so their path protocol is what is tested.
        assert len(report.added) == 3 and not report.errors and not report.warnings
        rows = index.query(
            f"SELECT ?g ?name WHERE {{ GRAPH <{INDEX_GRAPH}> {{ ?g <{FL_NS}indexedFrom> ?f }} "
            "?run a <http://schema.org/CreateAction> ; <http://schema.org/name> ?name . "
            "FILTER(STRSTARTS(STR(?run), STR(?g))) }"
        )
    expected = {}
    for name, run in placed.items():
        metadata = next((folder / name).rglob("ro-crate-metadata.json"))
        expected[crate_base(json.loads(metadata.read_text("utf-8")), metadata)] = run
    assert dict(rows.rows) == expected
