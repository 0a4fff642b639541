"""The CLI's two consoles and its one way of failing."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

__all__ = ["err", "fail", "out", "print_error"]

out = Console()
err = Console(stderr=True)


def print_error(message: str) -> None:
    """`error: message` on stderr, for a problem the command reports and carries on after.

    Messages carry user text (paths, `pip install 'fedcrate[demo]'`): never rich markup.
    """
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)


def fail(message: str, code: int) -> typer.Exit:
    """Print `error: message` on stderr; the `typer.Exit` to raise with exit code `code`."""
    print_error(message)
    return typer.Exit(code)
