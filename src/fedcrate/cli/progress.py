"""Progress for long CLI commands: rich bars on a terminal, plain lines otherwise.

On a TTY a live bar (or spinner) is drawn on stderr; when stderr is a pipe or a file the
same events become plain lines (or nothing, for `--quiet`), so logs stay readable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

__all__ = ["DemoLog", "counter", "demo_log", "fraction", "interactive"]

Logger = Callable[[str], None]
# Flower logs "[ROUND 2/3]" when a round starts.
_ROUND = re.compile(r"\[ROUND (\d+)/(\d+)\]")


def interactive(console: Console) -> bool:
    """True when `console` writes to a terminal that can redraw a live display."""
    return console.is_terminal and not console.is_dumb_terminal


def _bar(console: Console, *, total: bool) -> Progress:
    columns = [SpinnerColumn(), TextColumn("{task.description}")]
    if total:
        columns += [BarColumn(), MofNCompleteColumn()]
    columns.append(TimeElapsedColumn())
    return Progress(*columns, console=console, transient=True)


@dataclass(frozen=True)
class DemoLog:
    """The demo's two streams: the runner's own notes, and Flower's output lines."""

    note: Logger
    flower: Logger


def _from_fedcrate(line: str) -> bool:
    """A line the tracker logged inside the ServerApp (its handler's `fedcrate LEVEL:`)."""
    return line.startswith("fedcrate ")


@contextmanager
def demo_log(
    console: Console, *, rounds: int, quiet: bool, verbose: bool = False
) -> Iterator[DemoLog | None]:
    """Callbacks for `run_demo` (`log=`, `flower_log=`), plus a round bar on a TTY.

    Shown: the runner's notes and the tracker's own lines (`fedcrate WARNING: …`), dimmed.
    Flower's and Ray's own lines (rounds, Ray's warnings, actors terminating) are shown
    only when `verbose`: they say nothing a demo user can act on, and a failed demo's error
    carries their tail anyway. They still drive the round bar.
    """
    if quiet:
        yield None
        return

    def plain(line: str) -> None:
        console.print(line, style="dim", markup=False, highlight=False)

    def shown(line: str) -> bool:
        return verbose or _from_fedcrate(line)

    if not interactive(console):
        yield DemoLog(note=plain, flower=lambda line: plain(line) if shown(line) else None)
        return
    with _bar(console, total=True) as progress:
        task = progress.add_task("Flower simulation", total=rounds)

        def note(line: str) -> None:
            progress.console.print(line, style="dim", markup=False, highlight=False)
            if line.startswith("Flower run ") or line.startswith("demo finished"):
                progress.update(task, completed=progress.tasks[0].total)

        def flower(line: str) -> None:
            if shown(line):
                progress.console.print(line, style="dim", markup=False, highlight=False)
            match = _ROUND.search(line)
            if match:  # round k started: k-1 are done
                progress.update(task, completed=int(match.group(1)) - 1, total=int(match.group(2)))

        yield DemoLog(note=note, flower=flower)


@contextmanager
def counter(
    console: Console, description: str, *, total: int | None = None, quiet: bool = False
) -> Iterator[Logger]:
    """A callback to call once per finished item with a line about it.

    TTY: a live count (a bar when `total` is known) with each line above it; otherwise the
    lines alone; `quiet`: nothing.
    """
    if quiet:
        yield lambda _line: None
        return
    if not interactive(console):
        yield lambda line: console.print(line, markup=False, highlight=False)
        return
    with _bar(console, total=total is not None) as progress:
        task = progress.add_task(description, total=total)

        def advance(line: str) -> None:
            progress.console.print(line, markup=False, highlight=False)
            progress.advance(task)

        yield advance


@contextmanager
def fraction(
    console: Console, description: str, *, quiet: bool = False
) -> Iterator[Callable[[int, int], None] | None]:
    """A `progress(done, total)` callback drawing a bar on a TTY; None elsewhere (quiet)."""
    if quiet or not interactive(console):
        yield None
        return
    with _bar(console, total=True) as progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update
