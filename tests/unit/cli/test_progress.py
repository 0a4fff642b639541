"""Progress output: a live bar on a terminal, plain lines in a pipe, nothing with --quiet."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from fedcrate.cli.progress import counter, demo_log, fraction
from fedcrate.index import CrateIndex
from tests.support.paths import DATA


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    stream = io.StringIO()
    return Console(file=stream, force_terminal=terminal, width=100), stream


def test_demo_in_a_pipe_prints_fedcrate_lines_plainly_and_flower_lines_when_verbose() -> None:
    console, stream = _console(terminal=False)
    with demo_log(console, rounds=3, quiet=False) as log:
        assert log is not None
        log.flower("INFO :      [ROUND 1/3]")
        log.flower("fedcrate WARNING: no license")
        log.note("Flower run 7: finished:completed")
    assert stream.getvalue() == "fedcrate WARNING: no license\nFlower run 7: finished:completed\n"

    console, stream = _console(terminal=False)
    with demo_log(console, rounds=3, quiet=False, verbose=True) as log:
        assert log is not None
        log.flower("INFO :      [ROUND 1/3]")
    assert stream.getvalue() == "INFO :      [ROUND 1/3]\n"


def test_demo_on_a_terminal_draws_a_round_bar_from_flower_lines_it_does_not_print() -> None:
    console, stream = _console(terminal=True)
    with demo_log(console, rounds=3, quiet=False) as log:
        assert log is not None
        for line in ("INFO :      [ROUND 1/3]", "INFO :      [ROUND 2/3]"):
            log.flower(line)
    output = stream.getvalue()
    assert "Flower simulation" in output and "1/3" in output
    assert "[ROUND 2/3]" not in output  # Flower's own lines only with --verbose

    console, stream = _console(terminal=True)
    with demo_log(console, rounds=3, quiet=False, verbose=True) as log:
        assert log is not None
        log.flower("INFO :      [ROUND 2/3]")
    assert "[ROUND 2/3]" in stream.getvalue()  # above the bar


def test_quiet_means_silent() -> None:
    console, stream = _console(terminal=True)
    with demo_log(console, rounds=3, quiet=True) as log:
        assert log is None
    with counter(console, "pushing", quiet=True) as done:
        done("pushed a")
    with fraction(console, "indexing", quiet=True) as progress:
        assert progress is None
    assert stream.getvalue() == ""


def test_counter_lines_in_a_pipe_and_a_count_on_a_terminal() -> None:
    console, stream = _console(terminal=False)
    with counter(console, "pushing crates") as done:
        done("pushed a → g1")
        done("pushed b → g2")
    assert stream.getvalue() == "pushed a → g1\npushed b → g2\n"

    console, stream = _console(terminal=True)
    with counter(console, "pushing crates", total=2) as done:
        done("pushed a → g1")
    assert "pushed a → g1" in stream.getvalue() and "1/2" in stream.getvalue()


def test_indexing_bar_only_on_a_terminal_fed_by_the_index(tmp_path: Path) -> None:
    console, stream = _console(terminal=False)
    with fraction(console, "indexing crates") as progress:
        assert progress is None
    assert stream.getvalue() == ""

    corpus = DATA / "crates" / "fedcrate" / "valid"
    seen: list[tuple[int, int]] = []
    with CrateIndex(corpus, index=tmp_path / "index") as index:
        index.refresh(lambda done, total: seen.append((done, total)))
        assert index.refresh(lambda done, total: seen.append((-done, total))).unchanged == 3
    assert seen == [(1, 3), (2, 3), (3, 3)]  # once per new crate; nothing when unchanged

    console, stream = _console(terminal=True)
    with fraction(console, "indexing crates") as progress:
        assert progress is not None
        progress(2, 3)
    assert "indexing crates" in stream.getvalue() and "2/3" in stream.getvalue()
