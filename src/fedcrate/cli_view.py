"""Commands for people: `show`, `export`, `zip`."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the human-view commands to the `fedcrate` app."""
