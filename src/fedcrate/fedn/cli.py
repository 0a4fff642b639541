"""`fedcrate fedn …` commands."""

from __future__ import annotations

import typer

__all__ = ["fedn_app"]

fedn_app = typer.Typer(
    name="fedn",
    help="Record FEDn compute packages, local entry-point runs and sessions as crates.",
    no_args_is_help=True,
)
