"""The SPARQL commands: `sparql` (embedded index or a remote endpoint) and `push`."""

from __future__ import annotations

import enum
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.cells import cell_len
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from fedcrate.cli.console import err, fail, out, print_error
from fedcrate.errors import QueryError
from fedcrate.index.results import QueryResult, Value, final_metrics, query_prefixes, short_value

if TYPE_CHECKING:
    from fedcrate.index.auth import HttpClient
    from fedcrate.index.remote import Endpoints
    from fedcrate.index.store import CrateIndex

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


def _print_result(
    result: QueryResult,
    output_format: ResultFormat,
    query_text: str = "",
    crate_names: Mapping[str, str] | None = None,
) -> None:
    """Write `result` in `output_format`; only the table is shortened for reading."""
    if output_format is ResultFormat.csv:
        sys.stdout.write(result.to_csv())
    elif output_format is ResultFormat.tsv:
        sys.stdout.write(result.to_csv("\t"))
    elif output_format is ResultFormat.json:
        sys.stdout.write(_json(result) + "\n")
    else:
        _print_table(result, query_prefixes(query_text), crate_names or {})


def _json(result: QueryResult) -> str:
    """JSON records; the `runs` query's `finalMetrics` as `[{side, metric, value}]`."""
    records: list[dict[str, object]] = []
    for record in result.records():
        row: dict[str, object] = dict(record)
        if "finalMetrics" in row:
            row["finalMetrics"] = final_metrics(record["finalMetrics"])
        records.append(row)
    return json.dumps(records, ensure_ascii=False, indent=1)


def _cell(
    value: Value, prefixes: Mapping[str, str], crate_names: Mapping[str, str], column: str
) -> str:
    if column == "finalMetrics" and isinstance(value, str):
        return value.replace("; ", "\n")  # one metric a line: the runs table stays narrow
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str):
        return short_value(value, prefixes, crate_names)
    return str(value)


def _print_table(
    result: QueryResult, prefixes: Mapping[str, str], crate_names: Mapping[str, str]
) -> None:
    """A table when every value fits the console's width, else one block per record.

    A value is never cut (rich would end it with "…"): a cut IRI or date is useless, and
    a wide table wrapped cell by cell is no easier to read than `name: value` lines.
    """
    cells = [
        [_cell(v, prefixes, crate_names, c) for v, c in zip(row, result.columns, strict=True)]
        for row in result.rows
    ]
    widths = [
        max([cell_len(name)] + [_width(row[i]) for row in cells])
        for i, name in enumerate(result.columns)
    ]
    # rich's default box: one space either side of every cell, a rule between and around.
    if sum(widths) + 3 * len(widths) + 1 <= out.width:
        table = Table(*result.columns)
        for column in table.columns:
            column.no_wrap = True
        for row in cells:
            table.add_row(*(Text(cell) for cell in row))
        out.print(table)
    else:
        label = max((cell_len(name) for name in result.columns), default=0)
        for number, row in enumerate(cells, 1):
            out.print(Text(f"-- row {number} --", style="dim"))
            for name, cell in zip(result.columns, row, strict=True):
                line = Text(f"{name.rjust(label)}: ", style="bold")
                line.append(cell.replace("\n", "\n" + " " * (label + 2)))
                out.print(line, soft_wrap=True)
    count = len(result)
    out.print(f"{count} row" if count == 1 else f"{count} rows", style="dim", highlight=False)


def _width(cell: str) -> int:
    return max((cell_len(line) for line in cell.splitlines()), default=0)


def _crate_names(crate_index: CrateIndex) -> dict[str, str]:
    """Each indexed crate's base IRI → its folder's name (the zip's name for a zip).

    Crates in folders of one name (`a/ro-crate`, `b/ro-crate`) get as many parent folders
    as tell them apart.
    """
    listing = crate_index.query(
        "SELECT ?base ?file WHERE { GRAPH <urn:fedcrate:index> "
        "{ ?base <https://w3id.org/fedcrate/fl#indexedFrom> ?file } } ORDER BY ?file"
    )
    folders: dict[str, tuple[str, ...]] = {}
    for base, file in listing.rows:
        if isinstance(base, str) and base not in folders:
            path = Path(str(file))
            folders[base] = (path.parent if path.name == "ro-crate-metadata.json" else path).parts
    # The shortest tail of the path that tells crates apart: `a/ro-crate`, `b/ro-crate`.
    depth = {base: 1 for base in folders}
    while True:
        names = {base: "/".join(parts[-depth[base] :]) for base, parts in folders.items()}
        seen: dict[str, list[str]] = {}
        for base, name in names.items():
            seen.setdefault(name, []).append(base)
        grow = [
            base
            for bases in seen.values()
            if len(bases) > 1
            for base in bases
            if depth[base] < len(folders[base])
        ]
        if not grow:
            return names
        for base in grow:
            depth[base] += 1


def _pointed(exc: QueryError, query: str, params: dict[str, str]) -> QueryError:
    """`exc` with the offending line of the query and a caret under the parser's column."""
    from fedcrate.index.queries import point_at_error, resolve_query

    try:
        text = resolve_query(query).bound(params)
    except QueryError:
        return exc
    return QueryError(point_at_error(str(exc), text))


def _query_text(query: str) -> str:
    """The query's text (for its PREFIX declarations), or "" when it cannot be resolved."""
    from fedcrate.index.queries import resolve_query

    try:
        return resolve_query(query).text
    except QueryError:
        return ""


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
        typer.Option(
            help="Index folder (default: one per set of CRATES folders in the user's cache, "
            "$XDG_CACHE_HOME or ~/.cache/fedcrate/index/, ~/Library/Caches on macOS, "
            "%LOCALAPPDATA% on Windows, or $FEDCRATE_INDEX_HOME; never inside the crates)."
        ),
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

    QUERY is SPARQL text, a .rq file or a shipped query's name (`--list` shows them).
    CRATES are folders searched, with their subfolders, for ro-crate-metadata.json
    (hidden folders skipped). The table shortens IRIs (the query's prefixes, a run by its
    crate folder) and shows one block per row when it is wider than the terminal; csv,
    tsv and json are complete (json gives `runs`' finalMetrics as [{side, metric, value}]).

    Exit 0 ok, 1 no crate found or some crates could not be indexed (reported; the rest
    are queried), 2 invalid query or unusable input.
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
        try:
            result = remote_query(
                endpoints, query, params, union_default_graph=union_default_graph, client=client
            )
        except QueryError as exc:
            raise _pointed(exc, query, params) from None
        _print_result(result, output_format, _query_text(query))
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
        try:
            result = crate_index.query(query, params)
        except QueryError as exc:
            raise _pointed(exc, query, params) from None
        found = bool(report.errors) or bool(crate_index.graphs())
        names = _crate_names(crate_index) if output_format is ResultFormat.table else {}
    if not found:
        folders = ", ".join(str(folder) for folder in crates)
        raise fail(
            f"no crate found under {folders}: no ro-crate-metadata.json in the folder or its "
            "subfolders (hidden ones are skipped); pass the folders that hold the crates",
            1,
        )
    _print_result(result, output_format, _query_text(query), names)
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
