"""The `fedcrate` command: the app, its command groups, and the one error handler.

Exit codes: 0 ok, 1 the data is wrong (e.g. a crate fails a check), 2 the input is
unusable (missing file, bad option, environment problem). A reader that stops early
(`fedcrate show CRATE | head`) is not an error: the command stops writing and exits 0.
Every `FedcrateError` a command raises, in any group, is turned into one line on stderr
and its `exit_code` here, so commands call the library and need no error mapping of
their own.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from fedcrate.cli import commands, fedn, query, view
from fedcrate.cli.console import fail, out, pipe_closed
from fedcrate.errors import FedcrateError

__all__ = ["app", "main"]


class _HandledGroup(TyperGroup):
    """The root group: library errors of any subcommand become a message and an exit code."""

    def invoke(self, ctx: Any) -> Any:  # a click.Context (typer may vendor click)
        try:
            return super().invoke(ctx)
        except FedcrateError as exc:
            raise fail(str(exc), exc.exit_code) from None
        except BrokenPipeError:  # `fedcrate show --format json | head`: the reader is done
            raise pipe_closed() from None


app = typer.Typer(
    name="fedcrate",
    cls=_HandledGroup,
    help="Record federated-learning runs as FAIR provenance (RO-Crate 1.2, PROV-O, SPARQL).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from fedcrate import __version__

        out.print(f"fedcrate {__version__}", highlight=False)
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print fedcrate's version and exit.",
        ),
    ] = False,
) -> None:
    """Record federated-learning runs as FAIR provenance."""


commands.register(app)
query.register(app)
view.register(app)
app.add_typer(fedn.fedn_app, name="fedn")


def main() -> None:
    """Console-script entry point."""
    app()
