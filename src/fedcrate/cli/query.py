"""The SPARQL commands: `sparql` (embedded index or a remote endpoint) and `push`."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from fedcrate.cli.console import err, fail, out, print_error
from fedcrate.index.results import QueryResult

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
        typer.Option(help="Query a SPARQL 1.1 endpoint instead (e.g. http://127.0.0.1:7878)."),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help="Bind a query parameter: NAME=VALUE (repeatable)."),
    ] = None,
    union_default_graph: Annotated[
        bool,
        typer.Option(
            "--union-default-graph",
            help="Remote only: ask Oxigraph for its union default graph (stores not filled "
            "by `fedcrate push`).",
        ),
    ] = False,
    list_queries: Annotated[
        bool, typer.Option("--list", help="List the shipped queries and exit.")
    ] = False,
) -> None:
    """Query many crates with SPARQL: each crate a named graph, their union the default graph.

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
        from fedcrate.index.remote import Endpoints, remote_query

        if crates:
            raise fail("give either crate folders or --endpoint, not both", 2)
        result = remote_query(
            Endpoints.from_url(endpoint), query, params, union_default_graph=union_default_graph
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
            help="The store: a bare Oxigraph URL (http://host:7878) or its Graph Store "
            "endpoint (e.g. Fuseki http://host:3030/ds/data)."
        ),
    ],
    update_endpoint: Annotated[
        str | None, typer.Option(help="SPARQL Update endpoint (default: guessed from --endpoint).")
    ] = None,
    no_default_graph: Annotated[
        bool,
        typer.Option(
            "--no-default-graph",
            help="Only PUT the named graphs; query them with --union-default-graph.",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No per-crate lines.")] = False,
) -> None:
    """Upload every crate as a named graph (SPARQL Graph Store Protocol; pushing again replaces)."""
    from fedcrate.index.remote import Endpoints
    from fedcrate.index.remote import push as push_crates

    for folder in crates:
        if not folder.exists():
            raise fail(f"{folder}: no such folder; pass a folder that holds crates", 2)
    from fedcrate.cli.progress import counter

    endpoints = Endpoints.from_url(endpoint, update=update_endpoint)
    with counter(err, "pushing crates", quiet=quiet) as pushed:
        report = push_crates(
            crates,
            endpoints,
            maintain_default_graph=not no_default_graph,
            progress=lambda path, graph: pushed(f"pushed {path} → {graph}"),
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
