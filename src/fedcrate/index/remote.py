"""Scale-out: crates pushed to a SPARQL 1.1 store, and the same queries run there.

`push` uploads each crate as one named graph (named by its base IRI, as in the embedded
index) with the SPARQL 1.1 Graph Store HTTP Protocol: `PUT ?graph=<iri>` replaces the
graph, so pushing again never duplicates. Queries over the default graph must see the
union (an RDF merge: each distinct triple once) of the crate graphs, as in the embedded
index. How that union is kept depends on the store (`Endpoints.store`):

* Oxigraph and other SPARQL 1.1 stores: the store's default graph is kept equal to the
  union with two SPARQL Updates per crate (remove the crate's old triples that no other
  graph states, then `ADD` the new ones). Oxigraph's own `union-default-graph` is a bag
  (a triple every crate states comes back once per crate), which would multiply rows.
* Virtuoso: it has no separate default graph (`ADD … TO DEFAULT` is refused), and a query
  without FROM spans every graph as a bag, its own system graphs included. The union is
  kept the same way in one named graph, `UNION_GRAPH`, and every query names it as its
  default graph (the protocol's `default-graph-uri`). `GRAPH ?g` still ranges over all
  graphs there: filter with `STRSTARTS(STR(?g), "arcp:")` to see only the crates.

Virtuoso also cuts results at its `ResultSetMaxRows` (10000 in Debian's INI) and says so
only in a header: that is an error here, not a silently short answer.

Credentials and TLS are `fedcrate.index.auth`'s; only the standard library speaks HTTP.
Results come back as SPARQL JSON.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from fedcrate.errors import EndpointError, NotACrate, QueryError
from fedcrate.index.auth import HttpClient, Reply
from fedcrate.index.quads import crate_nquads
from fedcrate.index.queries import NamedQuery, resolve_query
from fedcrate.index.results import QueryResult, Value, python_value
from fedcrate.index.store import CrateProblem, find_crates

__all__ = [
    "UNION_GRAPH",
    "Endpoints",
    "PushReport",
    "StoreKind",
    "detect_store",
    "push",
    "remote_query",
]

StoreKind = Literal["oxigraph", "virtuoso", "generic"]
STORE_KINDS: tuple[str, ...] = ("auto", "oxigraph", "virtuoso", "generic")

# The named graph that holds the union of the crates where the store has no default graph
# of its own to keep it in (Virtuoso).
UNION_GRAPH = "urn:fedcrate:default-graph"

_TIMEOUT_S = 300.0
_VIRTUOSO_PATHS = frozenset(
    ("/sparql", "/sparql-auth", "/sparql-graph-crud", "/sparql-graph-crud-auth")
)
_VIRTUOSO_PORT = 8890
# Remove from the union the crate's triples that no other crate graph states. `%(keep)s`
# excludes the union graph itself where it is a named graph.
_UNMERGE = """
DELETE { %(target)s }
WHERE {
  GRAPH <%(graph)s> { ?s ?p ?o }
  FILTER NOT EXISTS { GRAPH ?other { ?s ?p ?o } FILTER(?other != <%(graph)s>%(keep)s) }
}
"""


def detect_store(url: str) -> StoreKind:
    """The kind of store a URL names, from its shape alone (no request is sent).

    Virtuoso: a root-level `/sparql`, `/sparql-auth`, `/sparql-graph-crud(-auth)` path, or
    a bare URL on Virtuoso's port 8890. Oxigraph: any other bare URL (`http://host:7878`).
    Anything else (Fuseki's `/ds/query`, QLever behind a proxy, …) is a generic SPARQL 1.1
    store, used exactly at the URLs given.
    """
    parsed = urllib.parse.urlsplit(url)
    path = parsed.path.rstrip("/")
    if path in _VIRTUOSO_PATHS:
        return "virtuoso"
    if path == "":
        return "virtuoso" if parsed.port == _VIRTUOSO_PORT else "oxigraph"
    return "generic"


@dataclass(frozen=True)
class Endpoints:
    """The URLs of a SPARQL 1.1 service, the kind of store, and where its union lives.

    `default_graph` is the named graph queries use as their default graph (`None`: the
    store's own default graph).
    """

    query: str
    graph_store: str
    update: str | None
    store: StoreKind = "generic"
    default_graph: str | None = None

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        graph_store: str | None = None,
        update: str | None = None,
        store: str = "auto",
        authenticated: bool = False,
    ) -> Endpoints:
        """The endpoints of the store at `url`.

        A bare Oxigraph URL (`http://host:7878`) means `/query`, `/store`, `/update`. For
        Virtuoso (detected, or `store="virtuoso"`) any of its URLs means `/sparql` for
        queries and updates and `/sparql-graph-crud` for the Graph Store, or their
        `-auth` siblings (HTTP Digest) when `authenticated` or when the URL names one.
        Otherwise the given URL is used for its purpose and the others are guessed from
        its siblings (`…/query` or `…/sparql` → `…/update`; `…/store` or `…/data`
        (Fuseki) → `…/update`), unless given explicitly.

        Raises:
            EndpointError: `url` is not an http(s) URL, or `store` is not a known kind.
        """
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise EndpointError(
                f"{url}: not an http(s) URL; pass the store's address, e.g. "
                "http://127.0.0.1:7878 (Oxigraph), http://host:8890/sparql (Virtuoso) "
                "or http://host:3030/ds/query (Fuseki)"
            )
        if store not in STORE_KINDS:
            raise EndpointError(
                f"--store {store!r}: not a kind of store; use one of {', '.join(STORE_KINDS)}"
            )
        kind: StoreKind = detect_store(url) if store == "auto" else store  # type: ignore[assignment]
        root = url.rstrip("/")
        if kind == "virtuoso":
            origin = f"{parsed.scheme}://{parsed.netloc}"
            suffix = "-auth" if authenticated or parsed.path.rstrip("/").endswith("-auth") else ""
            sparql = f"{origin}/sparql{suffix}"
            return cls(
                sparql,
                graph_store or f"{origin}/sparql-graph-crud{suffix}",
                update or sparql,
                "virtuoso",
                UNION_GRAPH,
            )
        if parsed.path in ("", "/"):
            return cls(
                root + "/query",
                graph_store or root + "/store",
                update or root + "/update",
                kind if store != "auto" else "oxigraph",
            )
        parent, _, last = root.rpartition("/")
        guessed_update = (
            parent + "/update" if last in ("query", "sparql", "store", "data") else None
        )
        return cls(root, graph_store or root, update or guessed_update, kind)


@dataclass
class PushReport:
    """What a push did."""

    pushed: list[tuple[Path, str]]
    errors: list[CrateProblem]


def _client_for(endpoints: Endpoints, client: HttpClient | None) -> HttpClient:
    return client if client is not None else HttpClient.from_environment(endpoints.query)


def _request(
    client: HttpClient,
    url: str,
    *,
    method: str,
    body: bytes | None,
    headers: dict[str, str],
) -> Reply:
    reply = client.request(url, method=method, body=body, headers=headers, timeout=_TIMEOUT_S)
    if reply.status < 400:
        return reply
    detail = client.redact(reply.body.decode("utf-8", "replace").strip())
    if reply.status == 401:
        if client.credentials is None:
            raise EndpointError(
                f"{url}: the store asks for a login (HTTP 401); set FEDCRATE_SPARQL_USER and "
                "FEDCRATE_SPARQL_PASSWORD (or FEDCRATE_SPARQL_TOKEN), or add the host to "
                "your netrc file"
            )
        raise EndpointError(
            f"{url}: the store rejected {client.credentials.describe()} (HTTP 401): wrong "
            f"{client.credentials.kind}, or no such account"
        )
    if reply.status == 403 or (reply.status == 500 and "SECURITY:" in detail):
        # Virtuoso answers a write without rights with 403 (Graph Store) or with a 500 whose
        # text says "SR186:SECURITY: No permission to execute procedure …" (SPARQL Update).
        who = client.credentials.describe() if client.credentials else "anonymous access"
        hint = (
            "use an account with update rights (Virtuoso: GRANT SPARQL_UPDATE TO the user)"
            if client.credentials
            else "log in: set FEDCRATE_SPARQL_USER and FEDCRATE_SPARQL_PASSWORD, or add the "
            "host to your netrc file"
        )
        raise EndpointError(
            f"{url}: the store does not allow this request to {who} "
            f"(HTTP {reply.status} {reply.reason}); {hint}"
        )
    if reply.status == 400:
        raise QueryError(f"{url}: the store rejected the request: {detail}")
    if "estimated execution time" in detail:
        # Virtuoso refuses queries its optimizer guesses are slow before running them; on
        # fedcrate's corpora the guesses are 1000x off (runs: "26333 s", done in 0.07 s).
        raise EndpointError(
            f"{url}: the store refused to run the query because it guessed it too slow; "
            "set [SPARQL] MaxQueryCostEstimationTime = 0 in virtuoso.ini (no guess-based "
            f"refusal; MaxQueryExecutionTime still limits): {detail[:200]}"
        )
    raise EndpointError(f"{url}: HTTP {reply.status} {reply.reason}: {detail[:500]}")


def _update(client: HttpClient, endpoints: Endpoints, text: str) -> None:
    assert endpoints.update is not None
    _request(
        client,
        endpoints.update,
        method="POST",
        body=urllib.parse.urlencode({"update": text}).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def _unmerge(endpoints: Endpoints, graph: str) -> str:
    union = endpoints.default_graph
    if union is None:
        return _UNMERGE % {"target": "?s ?p ?o", "graph": graph, "keep": ""}
    return _UNMERGE % {
        "target": f"GRAPH <{union}> {{ ?s ?p ?o }}",
        "graph": graph,
        "keep": f" && ?other != <{union}>",
    }


def push(
    folders: Sequence[Path],
    endpoints: Endpoints,
    *,
    maintain_default_graph: bool = True,
    progress: Callable[[Path, str], None] | None = None,
    client: HttpClient | None = None,
) -> PushReport:
    """Upload every crate under `folders` as a named graph (idempotent).

    With `maintain_default_graph`, the union of the crate graphs is kept where the
    store's queries find it (see the module docstring). `client` carries credentials
    and TLS settings (default: from the environment and netrc, for `endpoints.query`).

    Raises:
        EndpointError: the store cannot be reached, refuses the credentials or a request,
            or the credential settings are unusable (the message says which).
    """
    client = _client_for(endpoints, client)
    report = PushReport([], [])
    if maintain_default_graph and endpoints.update is None:
        raise EndpointError(
            f"{endpoints.graph_store}: no SPARQL Update endpoint known to keep the default "
            "graph equal to the union of the crates; pass --update-endpoint URL, or "
            "--no-default-graph and query with --union-default-graph"
        )
    add_to = f"<{endpoints.default_graph}>" if endpoints.default_graph else "DEFAULT"
    for path in find_crates(folders):
        try:
            graph, text = crate_nquads(path)
        except NotACrate as exc:
            report.errors.append(CrateProblem(path, str(exc)))
            continue
        if maintain_default_graph:
            _update(client, endpoints, _unmerge(endpoints, graph))
        separator = "&" if "?" in endpoints.graph_store else "?"
        _request(
            client,
            f"{endpoints.graph_store}{separator}{urllib.parse.urlencode({'graph': graph})}",
            method="PUT",
            body=text.encode("utf-8"),
            headers={"Content-Type": "application/n-triples"},
        )
        if maintain_default_graph:
            _update(client, endpoints, f"ADD <{graph}> TO {add_to}")
        report.pushed.append((path, graph))
        if progress is not None:
            progress(path, graph)
    return report


def _json_term(term: dict[str, Any] | None) -> Value:
    if term is None:
        return None
    kind = term.get("type")
    value = str(term.get("value", ""))
    if kind == "uri":
        return value
    if kind == "bnode":
        return f"_:{value}"
    datatype = term.get("datatype")
    return python_value(value, str(datatype) if datatype else None)


def remote_query(
    endpoints: Endpoints,
    query: str | NamedQuery,
    params: dict[str, str] | None = None,
    *,
    union_default_graph: bool = False,
    client: HttpClient | None = None,
) -> QueryResult:
    """Run a query (text, shipped name, `.rq` path) on the endpoint; rows as locally.

    `union_default_graph` asks for the store's own union of all graphs instead of the
    one `push` keeps (Oxigraph: its `union-default-graph` switch; Virtuoso: no default
    graph named, so every graph, as a bag): for stores not filled by `fedcrate push`.

    Raises:
        EndpointError: the endpoint cannot be reached, refuses the credentials, answers
            with an HTTP error, or cut the result short.
        QueryError: the store rejects the query, or the query is unknown or invalid.
    """
    client = _client_for(endpoints, client)
    named = query if isinstance(query, NamedQuery) else resolve_query(query)
    form = {"query": named.bound(params)}
    if union_default_graph:
        if endpoints.store != "virtuoso":
            form["union-default-graph"] = ""  # Oxigraph's switch; other stores ignore it
    elif endpoints.default_graph is not None:
        form["default-graph-uri"] = endpoints.default_graph
    reply = _request(
        client,
        endpoints.query,
        method="POST",
        body=urllib.parse.urlencode(form).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/sparql-results+json",
        },
    )
    cut = reply.headers.get("X-SPARQL-MaxRows")
    if cut:
        raise EndpointError(
            f"{endpoints.query}: the store cut the result at {cut} rows (Virtuoso's "
            "[SPARQL] ResultSetMaxRows); raise it in virtuoso.ini, or add a LIMIT below it"
        )
    if reply.headers.get("X-SQL-State") == "S1TAT":
        raise EndpointError(
            f"{endpoints.query}: the store stopped the query at its time limit and returned "
            "partial results (Virtuoso's [SPARQL] MaxQueryExecutionTime); raise it"
        )
    try:
        data = json.loads(reply.body)
    except ValueError:
        raise EndpointError(
            f"{endpoints.query}: answered {reply.content_type or 'something'} that is not "
            "SPARQL JSON results; is this the query endpoint?"
        ) from None
    if "boolean" in data:
        return QueryResult(["boolean"], [(bool(data["boolean"]),)])
    names = list(data.get("head", {}).get("vars", []))
    rows = [
        tuple(_json_term(binding.get(name)) for name in names)
        for binding in data.get("results", {}).get("bindings", [])
    ]
    return QueryResult(names, rows)
