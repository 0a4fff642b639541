"""The CLI's two consoles and its one way of failing."""

from __future__ import annotations

import contextlib
import os
import sys

import typer
from rich.console import Console
from rich.markup import escape

__all__ = ["err", "fail", "out", "pipe_closed", "print_error"]


class _Console(Console):
    """A console for which a reader that stops early (`fedcrate show | head`) is success."""

    def on_broken_pipe(self) -> None:
        """Stop writing and exit 0: the reader has all it asked for (rich exits 1)."""
        self.quiet = True
        raise pipe_closed()


def pipe_closed() -> typer.Exit:
    """The exit for a closed standard output: 0, with nothing more written to the pipe.

    Standard output is pointed at the null device first, so Python's flush at exit does
    not fail again and print `Exception ignored … BrokenPipeError` (see the Python docs'
    note on SIGPIPE).
    """
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return typer.Exit(0)


out = _Console()
err = _Console(stderr=True)


def print_error(message: str) -> None:
    """`error: message` on stderr, for a problem the command reports and carries on after.

    Messages carry user text (paths, `pip install 'fedcrate[demo]'`): never rich markup.
    """
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)


def fail(message: str, code: int) -> typer.Exit:
    """Print `error: message` on stderr; the `typer.Exit` to raise with exit code `code`."""
    print_error(message)
    return typer.Exit(code)
