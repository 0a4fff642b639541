"""The `fedcrate` command: thin wrappers over the library, one clear error per failure.

Exit codes: 0 ok, 1 the data is wrong (e.g. a crate fails a check), 2 the input is
unusable (missing file, bad option, environment problem).
"""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .errors import FedcrateError
from .metrics import shorten_iri
from .results import QueryResult
from .validate import Level

__all__ = ["app", "main"]

app = typer.Typer(
    name="fedcrate",
    help="Record federated-learning runs as FAIR provenance (RO-Crate 1.2, PROV-O, SPARQL).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)


@app.callback()
def _root() -> None:
    """Record federated-learning runs as FAIR provenance."""


def _fail(message: str, code: int) -> typer.Exit:
    # Messages carry user text (paths, `pip install 'fedcrate[demo]'`): never rich markup.
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the crate.")] = Path(
        "fedcrate-demo"
    ),
    rounds: Annotated[int, typer.Option(min=1, help="Federated rounds.")] = 3,
    nodes: Annotated[int, typer.Option(min=2, help="Simulated SuperNodes.")] = 2,
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds.")] = 600.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only print the path.")] = False,
    no_preview: Annotated[
        bool, typer.Option("--no-preview", help="Leave out ro-crate-preview.html.")
    ] = False,
) -> None:
    """Run the bundled Flower app (FedAvg on scikit-learn's digits) and record it."""
    try:
        from .demo.runner import DemoError, run_demo
    except ImportError as exc:
        raise _fail(
            f"the demo needs Flower and scikit-learn ({exc.name} is missing); "
            "install them with: pip install 'fedcrate[demo]'",
            2,
        ) from None
    from .progress import demo_log

    try:
        with demo_log(err, rounds=rounds, quiet=quiet) as log:
            result = run_demo(
                out_dir,
                rounds=rounds,
                nodes=nodes,
                timeout=timeout,
                log=log,
                preview=not no_preview,
            )
    except DemoError as exc:
        raise _fail(str(exc), 1) from None
    except (FedcrateError, OSError) as exc:
        raise _fail(str(exc), 2) from None
    if quiet:
        out.print(str(result.crate_dir), highlight=False)
        return
    _print_summary(result.crate_dir)


class OutputFormat(str, enum.Enum):
    text = "text"
    json = "json"
    junit = "junit"


@app.command()
def validate(
    crates: Annotated[
        list[Path], typer.Argument(help="Crate folders or ro-crate-metadata.json files.")
    ],
    level: Annotated[
        Level, typer.Option(help="Strictest level to report: must, should or may.")
    ] = Level.SHOULD,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="text, json, or junit (JUnit XML) for CI.")
    ] = OutputFormat.text,
    no_inference: Annotated[
        bool, typer.Option("--no-inference", help="Skip the schema.org/PROV-O RDFS closure.")
    ] = False,
) -> None:
    """Check crates against the FL profile's SHACL shapes (exit 0 valid, 1 invalid, 2 unusable)."""
    from .errors import NotACrate
    from .reporting import Outcome, render_json, render_junit, render_text
    from .validate import validate as validate_crate

    outcomes: list[Outcome] = []
    for crate in crates:
        try:
            report = validate_crate(crate, level=level, inference=not no_inference)
            outcomes.append(Outcome(str(crate), report=report))
        except NotACrate as exc:
            outcomes.append(Outcome(str(crate), error=str(exc)))
    if output_format is OutputFormat.json:
        print(render_json(outcomes))
    elif output_format is OutputFormat.junit:
        print(render_junit(outcomes))
    else:
        render_text(outcomes, out)
    if any(o.report is None for o in outcomes):
        raise typer.Exit(2)
    if any(o.report is not None and not o.report.conforms for o in outcomes):
        raise typer.Exit(1)


def _print_summary(crate_dir: Path) -> None:
    from .crate import read_crate
    from .summary import summarize

    runs = summarize(read_crate(crate_dir))
    out.print(f"[bold]RO-Crate[/] {crate_dir}", highlight=False)
    for run in runs:
        out.print(
            f"[bold]{run.name}[/]: {run.status}, strategy {run.strategy or '?'}, "
            f"{run.rounds or '?'} rounds, {run.nodes or '?'} nodes",
            highlight=False,
        )
        table = Table("side", "metric", "value", "propertyID", title="final metrics")
        for metric in run.final_metrics:
            table.add_row(
                metric.side,
                metric.metric,
                _short_number(metric.value),
                shorten_iri(metric.property_id),
            )
        out.print(table)


def _short_number(text: str) -> str:
    try:
        return f"{float(text):.4g}"
    except ValueError:
        return text


# -- SPARQL across crates (issue #4) ------------------------------------------------------


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
            raise _fail(f"--param {item!r}: write NAME=VALUE, e.g. --param metric=loss", 2)
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
    from .named_queries import named_queries

    table = Table("query", "description", "parameters")
    for name, query in named_queries().items():
        params = ", ".join(f"{k} (default {v})" for k, v in query.params.items())
        table.add_row(name, query.description, params)
    out.print(table)


@app.command()
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
        raise _fail("give a QUERY (SPARQL, a .rq file or a name from --list)", 2)
    params = _parse_params(param)
    if endpoint is not None:
        from .remote import Endpoints, remote_query

        if crates:
            raise _fail("give either crate folders or --endpoint, not both", 2)
        result = remote_query(
            Endpoints.from_url(endpoint), query, params, union_default_graph=union_default_graph
        )
        _print_result(result, output_format)
        return
    if not crates:
        raise _fail("give the folders holding the crates (or --endpoint URL)", 2)
    from .progress import fraction
    from .query import CrateIndex

    with CrateIndex(crates, index=index) as crate_index:
        with fraction(err, "indexing crates") as progress:
            report = crate_index.refresh(progress)
        for warning in report.warnings:
            err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
        for problem in report.errors:
            err.print(f"[bold red]error:[/] {escape(problem.message)}", highlight=False)
        result = crate_index.query(query, params)
    _print_result(result, output_format)
    if report.errors:
        err.print(
            f"{len(report.errors)} crate(s) skipped; the results cover the other crates.",
            highlight=False,
        )
        raise typer.Exit(1)


@app.command()
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
    from .remote import Endpoints
    from .remote import push as push_crates

    for folder in crates:
        if not folder.exists():
            raise _fail(f"{folder}: no such folder; pass a folder that holds crates", 2)
    from .progress import counter

    endpoints = Endpoints.from_url(endpoint, update=update_endpoint)
    with counter(err, "pushing crates", quiet=quiet) as pushed:
        report = push_crates(
            crates,
            endpoints,
            maintain_default_graph=not no_default_graph,
            progress=lambda path, graph: pushed(f"pushed {path} → {graph}"),
        )
    for problem in report.errors:
        err.print(f"[bold red]error:[/] {escape(problem.message)}", highlight=False)
    out.print(f"{len(report.pushed)} crate(s) pushed to {endpoints.graph_store}", highlight=False)
    if report.errors:
        raise typer.Exit(1)


@app.command()
def verify(
    crates: Annotated[list[Path], typer.Argument(help="Crate folders to check.")],
) -> None:
    """Re-check every payload file's size and sha256 (exit 0 intact, 1 mismatch, 2 unusable)."""
    from .verify import verify_crate

    mismatched = False
    for crate in crates:
        try:
            report = verify_crate(crate)
        except FedcrateError as exc:
            raise _fail(str(exc), 2) from None
        for check in report.checks:
            if check.problem is None:
                out.print(
                    f"ok        {crate}: {check.entity}",
                    highlight=False,
                    markup=False,
                    soft_wrap=True,
                )
            else:
                mismatched = True
                out.print(
                    f"MISMATCH  {crate}: {check.problem}",
                    highlight=False,
                    markup=False,
                    soft_wrap=True,
                )
        if not report.checks:
            out.print(
                f"{crate}: records no file checksums", highlight=False, markup=False, soft_wrap=True
            )
    if mismatched:
        raise typer.Exit(1)


@app.command()
def recover(
    folder: Annotated[Path, typer.Argument(help="The tracker's output_dir.")],
    no_preview: Annotated[
        bool, typer.Option("--no-preview", help="Leave out ro-crate-preview.html.")
    ] = False,
) -> None:
    """Write crates for runs that were killed before they closed their tracker (from journals)."""
    from .recovery import recover_runs

    try:
        report = recover_runs(folder, preview=not no_preview)
    except FedcrateError as exc:
        raise _fail(str(exc), 2) from None
    for journal, written in report.recovered:
        out.print(
            f"recovered {journal.name} → {written.path}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    for problem in report.problems:
        err.print(f"[bold red]error:[/] {escape(problem)}", highlight=False)
    if not report.recovered and not report.problems:
        out.print(
            f"{folder}: no run journals to recover", highlight=False, markup=False, soft_wrap=True
        )
    if report.problems:
        raise typer.Exit(1)


# Command groups that live in their own modules (they import _fail/out/err from here).
from .cli_view import register as _register_view  # noqa: E402
from .fedn.cli import fedn_app  # noqa: E402

_register_view(app)
app.add_typer(fedn_app, name="fedn")


def main() -> None:
    """Console-script entry point: library errors become one line and an exit code."""
    try:
        app()
    except FedcrateError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(exc.exit_code)
