"""Commands for people: `show`, `export mlflow`, `zip`.

Each command parses its options and calls a library function (`show`, `export_mlflow`,
`zipcrate`); library errors become one line on stderr and an exit code.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from fedcrate.cli.console import err, fail, out, print_error

__all__ = ["register"]


class ShowFormat(str, enum.Enum):
    text = "text"
    json = "json"


def show(
    crate: Annotated[
        Path,
        typer.Argument(
            help="A crate folder, its ro-crate-metadata.json, a zipped crate, or a folder "
            "holding one crate (e.g. the demo's --out folder)."
        ),
    ],
    output_format: Annotated[
        ShowFormat, typer.Option("--format", help="text (for people) or json (for scripts).")
    ] = ShowFormat.text,
) -> None:
    """Summarise a crate: run, status, people, strategy, software, federation, metrics.

    Exit 0 ok, 2 not a crate (or no federated run in it, or a folder of several crates:
    they are listed).
    """
    from fedcrate.crate.locate import one_crate
    from fedcrate.crate.reader import read_crate
    from fedcrate.views.model import as_json, describe
    from fedcrate.views.terminal import render_terminal

    crate = one_crate(crate)
    views = describe(read_crate(crate))
    if not views:
        raise fail(f"{crate}: no federated run (schema:CreateAction) in this crate", 2)
    if output_format is ShowFormat.json:
        print(as_json(views, str(crate)))
        return
    render_terminal(views, out, str(crate))


export_app = typer.Typer(
    help="Copy crates into other tools (MLflow).", no_args_is_help=True, add_completion=False
)


@export_app.command("mlflow")
def export_mlflow(
    crates: Annotated[
        list[Path],
        typer.Argument(help="Crate folders, zipped crates, or folders searched for crates."),
    ],
    tracking_uri: Annotated[
        str, typer.Option(help="MLflow tracking URI, e.g. sqlite:///mlflow.db or http://host:5000.")
    ],
    experiment: Annotated[
        str, typer.Option(help="MLflow experiment (created when missing).")
    ] = "fedcrate",
    artifact_location: Annotated[
        str | None,
        typer.Option(help="Artifact root for a new experiment (default: MLflow's, ./mlruns)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No per-crate lines.")] = False,
) -> None:
    """One MLflow run per crate: params, per-round metrics as steps, final metrics, artifacts.

    Exporting a crate again updates its run (found by the crate's identifier tag).
    Exit 0 ok, 1 some crates could not be exported, 2 MLflow missing or no crates found.
    """
    import logging

    from fedcrate.export.mlflow import export_crates

    # MLflow logs its database migrations at INFO; our own lines say what happened.
    logging.getLogger("mlflow").setLevel(logging.WARNING)

    report = export_crates(
        crates,
        tracking_uri=tracking_uri,
        experiment=experiment,
        artifact_location=artifact_location,
        progress=None
        if quiet
        else (
            lambda exported: err.print(
                f"{exported.action} {exported.crate} → run {exported.run_id}",
                highlight=False,
            )
        ),
    )
    for problem in report.errors:
        print_error(problem)
    out.print(
        f"{len(report.exported)} crate(s) exported to experiment {experiment!r} at {tracking_uri}",
        highlight=False,
    )
    if report.errors:
        raise typer.Exit(1)


def zip_command(
    crate: Annotated[Path, typer.Argument(help="A crate folder, or a folder holding one crate.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="The zip file (default: CRATE.zip beside the folder)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", "-f", help="Replace the zip file when it exists.")
    ] = False,
) -> None:
    """Pack a crate into one zip file, ro-crate-metadata.json at its root.

    Exit 0 written, 2 not a crate folder, or the zip exists (without --force).
    """
    from fedcrate.crate.locate import one_crate
    from fedcrate.crate.zip import zip_crate

    written = zip_crate(one_crate(crate), output, overwrite=force)
    out.print(str(written), highlight=False, markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the human-view commands to the `fedcrate` app."""
    app.command("show")(show)
    app.command("zip")(zip_command)
    app.add_typer(export_app, name="export")
