"""The `fedcrate` command: thin wrappers over the library, one clear error per failure.

Exit codes: 0 ok, 1 the data is wrong (e.g. a crate fails a check), 2 the input is
unusable (missing file, bad option, environment problem).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from .errors import FedcrateError
from .metrics import shorten_iri

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
    err.print(f"[bold red]error:[/] {message}", highlight=False)
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
    log = (
        None
        if quiet
        else (lambda line: err.print(line, style="dim", markup=False, highlight=False))
    )
    try:
        result = run_demo(out_dir, rounds=rounds, nodes=nodes, timeout=timeout, log=log)
    except DemoError as exc:
        raise _fail(str(exc), 1) from None
    except (FedcrateError, OSError) as exc:
        raise _fail(str(exc), 2) from None
    if quiet:
        out.print(str(result.crate_dir), highlight=False)
        return
    _print_summary(result.crate_dir)


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


def main() -> None:
    """Console-script entry point: library errors become one line and an exit code."""
    try:
        app()
    except FedcrateError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(exc.exit_code)
