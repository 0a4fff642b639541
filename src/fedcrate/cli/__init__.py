"""The `fedcrate` command line: thin typer commands over the library, one error handler."""

from __future__ import annotations

from fedcrate.cli.root import app, main

__all__ = ["app", "main"]
