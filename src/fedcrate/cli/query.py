"""The SPARQL commands: `sparql` (embedded index or a remote endpoint) and `push`."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from fedcrate.cli.console import err, fail, out, print_error
from fedcrate.index.results import QueryResult

if TYPE_CHECKING:
    from fedcrate.index.auth import HttpClient
    from fedcrate.index.remote import Endpoints

__all__ = ["register"]


class ResultFormat(str, enum.Enum):
    table = "table"
    csv = "csv"
    tsv = "tsv"
    json = "json"


def _parse_params(items: list[str] | None) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise fail(f"--param {item!r}: write NAME=VALUE, e.g. --param metric=loss", 2)
        params[name.strip().lstrip("?")] = value
    return params


def _print_result(result: QueryResult, output_format: ResultFormat) -> None:
    if output_format is ResultFormat.csv:
        sys.stdout.write(result.to_csv())
    elif output_format is ResultFormat.tsv:
        sys.stdout.write(result.to_csv("\t"))
    elif output_format is ResultFormat.json:
        sys.stdout.write(result.to_json() + "\n")
    else:
        table = Table(*result.columns)
        for row in result.rows:
            table.add_row(
                *("" if v is None else f"{v:.6g}" if isinstance(v, float) else str(v) for v in row)
            )
        out.print(table)
        out.print(f"{len(result)} rows", style="dim", highlight=False)


_CREDENTIALS_HELP = (
    "Logins come from FEDCRATE_SPARQL_USER + FEDCRATE_SPARQL_PASSWORD (HTTP Basic or "
    "Digest) or FEDCRATE_SPARQL_TOKEN (bearer), else the netrc file ($NETRC or ~/.netrc), "
    "never from the command line."
)
_STORE_HELP = (
    "The kind of store: auto (default: a root /sparql… path or port 8890 is Virtuoso, a "
    "bare URL Oxigraph, anything else generic SPARQL 1.1), oxigraph, virtuoso (queries "
    "name fedcrate's union graph as their default graph; with a login, its -auth "
    "endpoints), generic."
)


def _remote(
    endpoint: str, store: str, ca_file: Path | None, update: str | None = None
) -> tuple[Endpoints, HttpClient]:
    """The endpoints and the HTTP client (credentials, TLS) of a remote store."""
    from fedcrate.index.auth import HttpClient
    from fedcrate.index.remote import Endpoints

    client = HttpClient.from_environment(endpoint, ca_file=ca_file)
    endpoints = Endpoints.from_url(
        endpoint, update=update, store=store, authenticated=client.authenticated
    )
    return endpoints, client


def _list_queries() -> None:
    from fedcrate.index.queries import named_queries

    table = Table("query", "description", "parameters")
    for name, query in named_queries().items():
        params = ", ".join(f"{k} (default {v})" for k, v in query.params.items())
        table.add_row(name, query.description, params)
    out.print(table)


def sparql(
    query: Annotated[
        str | None,
        typer.Argument(help="SPARQL text, a .rq file, or a shipped query's name (see --list)."),
    ] = None,
    crates: Annotated[
        list[Path] | None, typer.Argument(help="Folders searched for ro-crate-metadata.json.")
    ] = None,
    output_format: Annotated[
        ResultFormat, typer.Option("--format", help="table, csv, tsv or json (records).")
    ] = ResultFormat.table,
    index: Annotated[
        Path | None,
        typer.Option(help="Index folder (default: CRATES/.fedcrate-index of the first folder)."),
    ] = None,
    endpoint: Annotated[
        str | None,
        typer.Option(
            help="Query a SPARQL 1.1 endpoint instead (e.g. http://127.0.0.1:7878 Oxigraph, "
            "http://host:8890/sparql Virtuoso). " + _CREDENTIALS_HELP
        ),
    ] = None,
    store: Annotated[
        str, typer.Option(help="Remote only. " + _STORE_HELP, show_default=False)
    ] = "auto",
    ca_file: Annotated[
        Path | None,
        typer.Option(
            help="Remote only: PEM file of the CA that signed the store's HTTPS certificate "
            "(default: the system's CAs; certificates are always verified)."
        ),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help="Bind a query parameter: NAME=VALUE (repeatable)."),
    ] = None,
    union_default_graph: Annotated[
        bool,
        typer.Option(
            "--union-default-graph",
            help="Remote only: ask the store for its own union of all graphs (Oxigraph's "
            "union-default-graph; Virtuoso: no default graph named), for stores not filled "
            "by `fedcrate push`.",
        ),
    ] = False,
    list_queries: Annotated[
        bool, typer.Option("--list", help="List the shipped queries and exit.")
    ] = False,
) -> None:
    """Query many crates with SPARQL: the default graph is the union of the crates.

    Exit 0 ok, 1 some crates could not be indexed (reported; the rest are queried),
    2 invalid query or unusable input.
    """
    if list_queries:
        _list_queries()
        return
    if query is None:
        raise fail("give a QUERY (SPARQL, a .rq file or a name from --list)", 2)
    params = _parse_params(param)
    if endpoint is not None:
        from fedcrate.index.remote import remote_query

        if crates:
            raise fail("give either crate folders or --endpoint, not both", 2)
        endpoints, client = _remote(endpoint, store, ca_file)
        result = remote_query(
            endpoints, query, params, union_default_graph=union_default_graph, client=client
        )
        _print_result(result, output_format)
        return
    if not crates:
        raise fail("give the folders holding the crates (or --endpoint URL)", 2)
    from fedcrate.cli.progress import fraction
    from fedcrate.index.store import CrateIndex

    with CrateIndex(crates, index=index) as crate_index:
        with fraction(err, "indexing crates") as progress:
            report = crate_index.refresh(progress)
        for warning in report.warnings:
            err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
        for note in report.notes:
            err.print(f"note: {escape(note)}", highlight=False)
        for problem in report.errors:
            print_error(problem.message)
        result = crate_index.query(query, params)
    _print_result(result, output_format)
    if report.errors:
        err.print(
            f"{len(report.errors)} crate(s) skipped; the results cover the other crates.",
            highlight=False,
        )
        raise typer.Exit(1)


def push(
    crates: Annotated[list[Path], typer.Argument(help="Folders searched for crates.")],
    endpoint: Annotated[
        str,
        typer.Option(
            help="The store: a bare Oxigraph URL (http://host:7878), Virtuoso's "
            "http://host:8890/sparql, or a Graph Store endpoint (e.g. Fuseki "
            "http://host:3030/ds/data). " + _CREDENTIALS_HELP
        ),
    ],
    store: Annotated[str, typer.Option(help=_STORE_HELP, show_default=False)] = "auto",
    ca_file: Annotated[
        Path | None,
        typer.Option(
            help="PEM file of the CA that signed the store's HTTPS certificate (default: "
            "the system's CAs; certificates are always verified)."
        ),
    ] = None,
    update_endpoint: Annotated[
        str | None, typer.Option(help="SPARQL Update endpoint (default: guessed from --endpoint).")
    ] = None,
    no_default_graph: Annotated[
        bool,
        typer.Option(
            "--no-default-graph",
            help="Only PUT the named graphs, keep no union; query them with "
            "--union-default-graph (on Virtuoso a bag: shared triples repeat per crate).",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No per-crate lines.")] = False,
) -> None:
    """Upload every crate as a named graph (SPARQL Graph Store Protocol; pushing again replaces).

    The union of the crates is kept as the default graph queries see (Virtuoso: in the
    named graph urn:fedcrate:default-graph). Exit 0 ok, 1 some crates were skipped, 2 the
    store refused (login, rights) or cannot be reached.
    """
    from fedcrate.index.remote import push as push_crates

    for folder in crates:
        if not folder.exists():
            raise fail(f"{folder}: no such folder; pass a folder that holds crates", 2)
    from fedcrate.cli.progress import counter

    endpoints, client = _remote(endpoint, store, ca_file, update_endpoint)
    with counter(err, "pushing crates", quiet=quiet) as pushed:
        report = push_crates(
            crates,
            endpoints,
            maintain_default_graph=not no_default_graph,
            progress=lambda path, graph: pushed(f"pushed {path} → {graph}"),
            client=client,
        )
    for problem in report.errors:
        print_error(problem.message)
    out.print(f"{len(report.pushed)} crate(s) pushed to {endpoints.graph_store}", highlight=False)
    if report.errors:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the SPARQL commands to the `fedcrate` app."""
    app.command()(sparql)
    app.command()(push)
