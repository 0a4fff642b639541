"""Crates parsed to N-Triples in worker processes, for indexing thousands at once.

The workers are plain `python -m fedcrate.index.workers` processes fed over pipes, not a
multiprocessing pool. multiprocessing's spawn and forkserver children re-run the caller's
main script before they work, so a script that calls `CrateIndex(...).query(...)` at
module level, without an `if __name__ == "__main__":` guard, would die in their bootstrap;
fork is no option either, because the open store runs threads a forked child must not
inherit. A worker reads one JSON-encoded metadata path per line (a path may hold a
newline) and answers each with a JSON header line (`{"graph": …, "error": …, "size": n}`)
followed by n bytes of UTF-8 N-Triples.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from typing import IO

from fedcrate.index.quads import ParseResult, parse_job

__all__ = ["WorkerFailed", "parse_in_workers"]


class WorkerFailed(Exception):
    """A worker could not start, died or answered out of protocol."""


def _serve(parse: Callable[[str], ParseResult], source: IO[bytes], sink: IO[bytes]) -> None:
    for line in source:
        path = json.loads(line)
        _, graph, text = parse(path)
        body = text.encode("utf-8") if graph is not None else b""
        header = {"graph": graph, "error": None if graph is not None else text, "size": len(body)}
        sink.write(json.dumps(header).encode("utf-8") + b"\n")
        sink.write(body)
        sink.flush()


class _Worker:
    def __init__(self) -> None:
        environment = dict(os.environ)
        # The parent's import path, so a worker imports the same fedcrate as its parent.
        environment["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        # Its stderr goes to a file: a crashing worker's traceback belongs in the warning
        # that reports it, not on the user's terminal.
        self.errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "fedcrate.index.workers"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.errors,
                env=environment,
            )
        except OSError as exc:
            self.errors.close()
            raise WorkerFailed(f"cannot start a parse worker ({exc})") from None
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin: IO[bytes] = self.process.stdin
        self.stdout: IO[bytes] = self.process.stdout

    def send(self, paths: list[str]) -> None:
        try:
            self.stdin.write("".join(json.dumps(p) + "\n" for p in paths).encode("utf-8"))
            self.stdin.flush()
        except OSError as exc:
            raise WorkerFailed(
                f"parse worker {self.process.pid} is gone ({exc.strerror}){self._why()}"
            ) from None

    def receive(self, path: str) -> ParseResult:
        line = self.stdout.readline()
        try:
            header = json.loads(line)
            body = self.stdout.read(header["size"]) if header["size"] else b""
        except (ValueError, KeyError, TypeError):
            raise WorkerFailed(
                f"parse worker {self.process.pid} stopped answering{self._why()}"
            ) from None
        if len(body) != header["size"]:
            raise WorkerFailed(f"parse worker {self.process.pid} died mid-answer{self._why()}")
        if header["graph"] is None:
            return path, None, str(header["error"])
        return path, str(header["graph"]), body.decode("utf-8")

    def _why(self) -> str:
        """Its exit code and the last line of its stderr, for the error message."""
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return ""
        self.errors.seek(0)
        lines = self.errors.read().decode("utf-8", "replace").strip().splitlines()
        return f" (exit {code}{': ' + lines[-1] if lines else ''})"

    def stop(self, *, finished: bool) -> None:
        """Close its input so it exits; kill it by PID if it was cut short or does not exit."""
        with contextlib.suppress(OSError):  # a dead worker's pipe is already broken
            self.stdin.close()
        if not finished:
            self.process.kill()  # it may still be parsing paths nobody will read
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.stdout.close()
        self.errors.close()


def parse_in_workers(paths: list[str], workers: int, window: int) -> Iterator[ParseResult]:
    """Results for `paths`, in order, parsed by `workers` processes, `window` at a time.

    Windows bound memory: a parsed 100-round crate is ~2.5 MB of N-Triples and loading is
    slower than parsing, so results would otherwise pile up. Raises `WorkerFailed` (after
    stopping every worker) when one fails; the results yielded before it are complete.
    """
    pool: list[_Worker] = []
    finished = False
    try:
        for _ in range(workers):
            pool.append(_Worker())
        for start in range(0, len(paths), window):
            chunk = paths[start : start + window]
            for number, worker in enumerate(pool):
                worker.send(chunk[number :: len(pool)])
            for offset, path in enumerate(chunk):
                yield pool[offset % len(pool)].receive(path)
        finished = True
    finally:
        for worker in pool:
            worker.stop(finished=finished)


def main() -> None:
    """Worker entry point: serve parse requests until standard input closes."""

    _serve(parse_job, sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    main()
