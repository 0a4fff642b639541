"""SPARQL goes to Oxigraph only where its answer is rdflib's; else rdflib answers itself.

Each case builds a small data graph where the two engines would differ (a double printed
differently, a closure-typed literal, a computed number), checks which engine answered,
and that the answer is rdflib's own.
"""

from __future__ import annotations

from rdflib import RDF, RDFS, Literal, URIRef
from rdflib.namespace import XSD

from fedcrate.validate.closure import rdfs_closure
from fedcrate.validate.reading import Terms
from fedcrate.validate.sparql import Query, QueryEngine, analyse

EX = "https://example.org/"
PREFIX = f"PREFIX ex: <{EX}>\nPREFIX rdfs: <{RDFS}>\n"


def _query(body: str, binds: tuple[str, ...] = ()) -> Query:
    text = PREFIX + body
    return Query(text=text, binds=binds, analysis=analyse(text, frozenset(binds)))


def _data(*triples: tuple) -> set:
    terms = Terms([RDF.type, RDFS.Resource, RDFS.subClassOf])
    return rdfs_closure(terms.triples(triples))


def _answers(data: set, query: Query, bindings: dict | None = None) -> tuple[list, str]:
    engine = QueryEngine(data)
    rows = engine.select(query, dict(bindings or {}))
    reference = QueryEngine(data)._rdflib(query, dict(bindings or {}))
    key = lambda rows: sorted(sorted((k, str(v)) for k, v in r.items()) for r in rows)  # noqa: E731
    assert key(rows) == key(reference)
    used = "oxigraph" if engine.answered_by["oxigraph"] else "rdflib"
    return rows, used


A, B = URIRef(EX + "a"), URIRef(EX + "b")
P, Q = URIRef(EX + "p"), URIRef(EX + "q")


def test_canonical_data_goes_to_oxigraph() -> None:
    data = _data((A, P, Literal(3)), (A, Q, B), (B, RDF.type, URIRef(EX + "C")))
    rows, used = _answers(data, _query("SELECT ?this ?v WHERE { ?this ex:p ?v ; ex:q ?o }"))
    assert used == "oxigraph" and rows[0]["v"] == Literal(3)


def test_a_double_rdflib_prints_otherwise_is_mapped_back_or_left_to_rdflib() -> None:
    data = _data((A, P, Literal(25.0)))
    # Value semantics: Oxigraph's `25` maps back to rdflib's "25.0" term.
    rows, used = _answers(data, _query("SELECT ?v WHERE { ?s ex:p ?v FILTER (?v > 3) }"))
    assert used == "oxigraph" and str(rows[0]["v"]) == "25.0"
    # Lexical semantics (STR): only rdflib prints it as rdflib does.
    _, used = _answers(data, _query('SELECT ?s WHERE { ?s ex:p ?v FILTER (STR(?v) = "25.0") }'))
    assert used == "rdflib"
    # ... unless the query cannot see that predicate.
    _, used = _answers(
        data | _data((B, Q, Literal("x"))),
        _query('SELECT ?s WHERE { ?s ex:q ?v FILTER (STR(?v) = "x") }'),
    )
    assert used == "oxigraph"


def test_closure_typed_literals_are_seen_only_by_rdflib() -> None:
    # fl:round-like: a range makes literals instances of a class.
    data = _data((P, RDFS.range, XSD.integer), (A, P, Literal(3)))
    assert any(isinstance(s, Literal) for s, _, _ in data)
    _, used = _answers(data, _query(f"SELECT ?x WHERE {{ ?x a <{XSD.integer}> }}"))
    assert used == "rdflib"
    _, used = _answers(data, _query("SELECT ?x ?t WHERE { ?x a ?t }"))
    assert used == "rdflib"
    # A class no literal has, or a subject only IRIs can bind, stays in Oxigraph.
    _, used = _answers(data, _query("SELECT ?x WHERE { ?x a ex:Nothing }"))
    assert used == "oxigraph"
    _, used = _answers(data, _query("SELECT ?x ?t WHERE { ?y ex:q ?x . ?x a ?t }"))
    assert used == "oxigraph"
    _, used = _answers(data, _query("SELECT ?x ?t WHERE { ?x ex:p ?v ; a ?t }"))
    assert used == "oxigraph"
    # ... but not when a literal can be the object that binds it.
    _, used = _answers(data, _query("SELECT ?x ?t WHERE { ?y ex:p ?x . ?x a ?t }"))
    assert used == "rdflib"


def test_pre_bound_this_and_computed_numbers() -> None:
    data = _data((A, P, Literal(1)), (A, P, Literal(2)), (B, P, Literal(4)))
    count = _query(
        "SELECT $this (COUNT(?v) AS ?n) WHERE { $this ex:p ?v } GROUP BY $this", ("this",)
    )
    rows, used = _answers(data, count, {"this": A})
    assert used == "oxigraph" and rows == [{"this": A, "n": Literal(2)}]
    average = _query("SELECT (AVG(?v) AS ?n) WHERE { $this ex:p ?v }", ("this",))
    _, used = _answers(data, average, {"this": A})
    assert used == "rdflib"  # a computed decimal: rdflib's own arithmetic


def test_arithmetic_is_left_associative_in_both_engines() -> None:
    # pyoxigraph < 0.5.12 read `a - b + c` as `a - (b + c)`, which made RoundNumbersContiguous
    # fail every valid crate; pyproject.toml's lower bound rests on this.
    data = _data((A, P, Literal(5)))
    query = _query("SELECT $this WHERE { $this ex:p ?v FILTER (?v - 2 + 1 = 4) }", ("this",))
    rows, used = _answers(data, query, {"this": A})
    assert used == "oxigraph" and rows == [{"this": A}]


def test_queries_the_analysis_cannot_vouch_for() -> None:
    # named graphs, and pre-bound variables Oxigraph will not substitute (not projected)
    assert analyse(PREFIX + "SELECT ?x WHERE { GRAPH ?g { ?x ex:p ?v } }", frozenset()) is None
    unprojected = "SELECT ?v WHERE { $this ex:p ?v }"
    assert analyse(PREFIX + unprojected, frozenset({"this"})) is None
    _, used = _answers(_data((A, P, Literal(1))), _query(unprojected, ("this",)), {"this": A})
    assert used == "rdflib"


def test_lexical_functions_are_checked_against_the_literals_their_patterns_reach() -> None:
    identifier, value = URIRef(EX + "identifier"), URIRef(EX + "value")
    doi = URIRef(EX + "doi")
    data = _data(
        (A, identifier, doi), (doi, value, Literal("doi:10.1/x")), (B, value, Literal(25.0))
    )
    # ?v is the value of an identifier: a string, though other values are doubles
    tied = _query(
        "SELECT $this ?value WHERE { $this ex:identifier ?id . OPTIONAL { ?id ex:value ?v } "
        "BIND (STR(COALESCE(?v, ?id)) AS ?value) }",
        ("this",),
    )
    rows, used = _answers(data, tied, {"this": A})
    assert used == "oxigraph" and rows[0]["value"] == Literal("doi:10.1/x")
    # in a UNION branch nothing ties ?id to an identifier: the double is reachable
    loose = _query(
        "SELECT ?value WHERE { { ?s ex:identifier ?id } UNION { ?id ex:value ?v } "
        "BIND (STR(?v) AS ?value) }"
    )
    assert _answers(data, loose)[1] == "rdflib"
    # a pre-bound focus: it depends on the focus itself
    own = _query(
        "SELECT $this ?value WHERE { $this ex:value ?v BIND (STR(?v) AS ?value) }", ("this",)
    )
    assert _answers(data, own, {"this": B})[1] == "rdflib"
    assert _answers(data, own, {"this": doi})[1] == "oxigraph"


def test_two_rdflib_literals_of_one_value_are_left_to_rdflib() -> None:
    # rdflib keeps "1" and "1.0" as two decimals; Oxigraph stores one value
    one, one_point_zero = Literal("1", datatype=XSD.decimal), Literal("1.0", datatype=XSD.decimal)
    assert one != one_point_zero
    data = _data((A, P, one), (B, P, one_point_zero))
    _, used = _answers(data, _query("SELECT DISTINCT ?v WHERE { ?s ex:p ?v }"))
    assert used == "rdflib"
