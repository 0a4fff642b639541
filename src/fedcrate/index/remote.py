"""Scale-out: crates pushed to any SPARQL 1.1 store, and the same queries run there.

`push` uploads each crate as one named graph (named by its base IRI, as in the embedded
index) with the SPARQL 1.1 Graph Store HTTP Protocol: `PUT ?graph=<iri>` replaces the
graph, so pushing again never duplicates. As in the embedded index, the store's default
graph is kept equal to the union of the crate graphs with two SPARQL 1.1 Updates per
crate (remove the crate's old triples no other graph states, then `ADD` the new ones);
Oxigraph's own `union-default-graph` is a bag (a triple every crate states comes back
once per crate), which would multiply rows. Stores that take no updates can still be
queried with `union_default_graph=True` (Oxigraph's query parameter).

Only the standard library speaks HTTP here; results come back as SPARQL JSON.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedcrate.errors import EndpointError, NotACrate, QueryError
from fedcrate.index.quads import crate_nquads
from fedcrate.index.queries import NamedQuery, resolve_query
from fedcrate.index.results import QueryResult, Value, python_value
from fedcrate.index.store import CrateProblem, find_crates

__all__ = ["Endpoints", "PushReport", "push", "remote_query"]

_TIMEOUT_S = 300.0
_UNMERGE = """
DELETE { ?s ?p ?o }
WHERE {
  GRAPH <%s> { ?s ?p ?o }
  FILTER NOT EXISTS { GRAPH ?other { ?s ?p ?o } FILTER(?other != <%s>) }
}
"""


@dataclass(frozen=True)
class Endpoints:
    """The three URLs of a SPARQL 1.1 service.

    A bare server URL (`http://host:7878`) means Oxigraph's layout: `/query`, `/store`,
    `/update`. Otherwise the given URL is used for its purpose and the others are
    guessed from its siblings (`…/query` or `…/sparql` → `…/update`; `…/store` or
    `…/data` (Fuseki) → `…/update`), unless given explicitly.
    """

    query: str
    graph_store: str
    update: str | None

    @classmethod
    def from_url(
        cls, url: str, *, graph_store: str | None = None, update: str | None = None
    ) -> Endpoints:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise EndpointError(
                f"{url}: not an http(s) URL; pass the store's address, e.g. "
                "http://127.0.0.1:7878 (Oxigraph) or http://host:3030/ds/query (Fuseki)"
            )
        root = url.rstrip("/")
        if parsed.path in ("", "/"):
            return cls(root + "/query", graph_store or root + "/store", update or root + "/update")
        parent, _, last = root.rpartition("/")
        guessed_update = (
            parent + "/update" if last in ("query", "sparql", "store", "data") else None
        )
        return cls(root, graph_store or root, update or guessed_update)


@dataclass
class PushReport:
    """What a push did."""

    pushed: list[tuple[Path, str]]
    errors: list[CrateProblem]


def _request(
    url: str, *, method: str, body: bytes | None, headers: dict[str, str]
) -> tuple[str, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
            return response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace").strip()
        if exc.code == 400:
            raise QueryError(f"{url}: the store rejected the request: {detail}") from None
        raise EndpointError(f"{url}: HTTP {exc.code} {exc.reason}: {detail[:500]}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise EndpointError(
            f"{url}: cannot reach the SPARQL store ({reason}); is it running, and is the URL right?"
        ) from None


def _update(endpoints: Endpoints, text: str) -> None:
    assert endpoints.update is not None
    _request(
        endpoints.update,
        method="POST",
        body=urllib.parse.urlencode({"update": text}).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def push(
    folders: Sequence[Path],
    endpoints: Endpoints,
    *,
    maintain_default_graph: bool = True,
    progress: Callable[[Path, str], None] | None = None,
) -> PushReport:
    """Upload every crate under `folders` as a named graph (idempotent).

    Raises:
        EndpointError: the store cannot be reached or refuses a request (the message says which).
    """
    report = PushReport([], [])
    if maintain_default_graph and endpoints.update is None:
        raise EndpointError(
            f"{endpoints.graph_store}: no SPARQL Update endpoint known to keep the default "
            "graph equal to the union of the crates; pass --update-endpoint URL, or "
            "--no-default-graph and query with --union-default-graph"
        )
    for path in find_crates(folders):
        try:
            graph, text = crate_nquads(path)
        except NotACrate as exc:
            report.errors.append(CrateProblem(path, str(exc)))
            continue
        if maintain_default_graph:
            _update(endpoints, _UNMERGE % (graph, graph))
        separator = "&" if "?" in endpoints.graph_store else "?"
        _request(
            f"{endpoints.graph_store}{separator}{urllib.parse.urlencode({'graph': graph})}",
            method="PUT",
            body=text.encode("utf-8"),
            headers={"Content-Type": "application/n-triples"},
        )
        if maintain_default_graph:
            _update(endpoints, f"ADD <{graph}> TO DEFAULT")
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
) -> QueryResult:
    """Run a query (text, shipped name, `.rq` path) on the endpoint; rows as locally.

    Raises:
        EndpointError: the endpoint cannot be reached or answers with an HTTP error.
        QueryError: the store rejects the query, or the query is unknown or invalid.
    """
    named = query if isinstance(query, NamedQuery) else resolve_query(query)
    form = {"query": named.bound(params)}
    if union_default_graph:
        form["union-default-graph"] = ""  # Oxigraph's switch; other stores ignore it
    content_type, body = _request(
        endpoints.query,
        method="POST",
        body=urllib.parse.urlencode(form).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/sparql-results+json",
        },
    )
    try:
        data = json.loads(body)
    except ValueError:
        raise EndpointError(
            f"{endpoints.query}: answered {content_type or 'something'} that is not SPARQL "
            "JSON results; is this the query endpoint?"
        ) from None
    if "boolean" in data:
        return QueryResult(["boolean"], [(bool(data["boolean"]),)])
    names = list(data.get("head", {}).get("vars", []))
    rows = [
        tuple(_json_term(binding.get(name)) for name in names)
        for binding in data.get("results", {}).get("bindings", [])
    ]
    return QueryResult(names, rows)
