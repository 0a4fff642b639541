"""Validating many crates at once: the calling process plus worker processes, one per core.

Validation is CPU-bound Python, so threads do not help; workers are plain Python
processes running this module's `main`, fed over pipes (as the index's parse workers are),
not a multiprocessing pool: multiprocessing's spawn and forkserver children re-run
the caller's main script, which breaks scripts without an `if __name__ == "__main__":`
guard, and fork is unsafe in a process that may run threads. Each worker reads one JSON
request per line (`{"path", "profile", "level", "inference"}`) and answers with one JSON
line (`{"report": …}` or `{"error": …}`). The calling process validates crates too, and
every process takes the next crate when it is free, so big and small crates balance out.
A worker costs a start-up (~0.4 s, the shapes come from the prepared-shapes cache), so
few or small crates are validated in the calling process alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from fedcrate.errors import NotACrate
from fedcrate.validate.profiles import profile as find_profile
from fedcrate.validate.shacl import Level, Outcome, Report, prepared, validate

__all__ = ["validate_many"]

# Below this much metadata, starting a worker costs more than it saves.
_PARALLEL_BYTES = 3_000_000


def _one(path: str, profile: str | None, level: Level, inference: bool) -> Outcome:
    try:
        report = validate(path, profile=profile, level=level, inference=inference)
    except NotACrate as exc:
        return Outcome(path, error=str(exc))
    return Outcome(path, report=report)


def _encode(outcome: Outcome) -> dict[str, Any]:
    if outcome.report is None:
        return {"error": outcome.error}
    report = outcome.report
    return {
        "report": {**report.to_dict(), "engine": report.engine},
        "rules_checked": report.rules_checked,
    }


def _decode(path: str, answer: dict[str, Any]) -> Outcome:
    if "error" in answer:
        return Outcome(path, error=str(answer["error"]))
    checked = [(str(rule), str(name)) for rule, name in answer["rules_checked"]]
    return Outcome(path, report=Report.from_dict(answer["report"], checked))


class WorkerFailed(Exception):
    """A worker could not start, died or answered out of protocol."""


class _Worker:
    def __init__(self) -> None:
        environment = dict(os.environ)
        # The parent's import path, so a worker imports the same fedcrate as its parent.
        environment["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        self.errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
        try:
            self.process = subprocess.Popen(
                # Not `-m fedcrate.validate.batch`: the package imports this module first,
                # and runpy warns about (and runs) a second copy of it.
                [sys.executable, "-c", "from fedcrate.validate.batch import main; main()"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.errors,
                env=environment,
            )
        except OSError as exc:
            self.errors.close()
            raise WorkerFailed(f"cannot start a validation worker ({exc})") from None
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin: IO[bytes] = self.process.stdin
        self.stdout: IO[bytes] = self.process.stdout

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            self.stdin.write(json.dumps(request).encode("utf-8") + b"\n")
            self.stdin.flush()
            line = self.stdout.readline()
            answer = json.loads(line)
        except (OSError, ValueError) as exc:
            raise WorkerFailed(f"validation worker {self.process.pid} failed ({exc})") from None
        if not isinstance(answer, dict):
            raise WorkerFailed(f"validation worker {self.process.pid} answered out of protocol")
        return answer

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.stdout.close()
        self.errors.close()


def _auto_jobs(paths: Sequence[str]) -> int:
    size = 0
    for path in paths:
        candidate = Path(path)
        metadata = candidate / "ro-crate-metadata.json" if candidate.is_dir() else candidate
        with contextlib.suppress(OSError):
            size += metadata.stat().st_size
    if size < _PARALLEL_BYTES or len(paths) < 2:
        return 1
    return max(1, min(os.cpu_count() or 1, len(paths)))


def validate_many(
    sources: Sequence[Path | str],
    *,
    profile: str | None = None,
    level: Level | str = Level.MUST,
    inference: bool = True,
    jobs: int | None = None,
) -> list[Outcome]:
    """An `Outcome` per crate, in order; unusable crates are outcomes too, not exceptions.

    `jobs` is how many processes validate (this one included); None: one per core when
    the crates are big enough to pay for starting workers, else 1.

    Raises:
        UnknownProfile: `profile` names no shipped profile (before anything is validated).
        BrokenInstallation: the shipped shapes or vocabulary are missing.
    """
    level = Level(level) if isinstance(level, str) else level
    if profile is not None:
        find_profile(profile)
    paths = [str(s) for s in sources]
    count = _auto_jobs(paths) if jobs is None else max(1, jobs)
    count = min(count, len(paths))
    if count <= 1:
        return [_one(p, profile, level, inference) for p in paths]
    # Prepare (and cache) what every worker needs, so none of them prepares it again.
    from fedcrate.validate.shacl import _base

    _base(inference)
    for token in [profile] if profile else _tokens():
        prepared(token)
    results: list[Outcome | None] = [None] * len(paths)
    pending: queue.Queue[int] = queue.Queue()
    for index in range(len(paths)):
        pending.put(index)

    def serve(worker: _Worker) -> None:
        try:
            while True:
                try:
                    index = pending.get_nowait()
                except queue.Empty:
                    return
                request = {
                    "path": paths[index],
                    "profile": profile,
                    "level": level.value,
                    "inference": inference,
                }
                try:
                    answer = worker.ask(request)
                except WorkerFailed:
                    pending.put(index)  # someone else validates it
                    return
                results[index] = _decode(paths[index], answer)
        finally:
            worker.stop()

    threads = []
    for _ in range(count - 1):
        try:
            worker = _Worker()
        except WorkerFailed:
            break
        thread = threading.Thread(target=serve, args=(worker,), daemon=True)
        thread.start()
        threads.append(thread)
    while True:
        try:
            index = pending.get_nowait()
        except queue.Empty:
            break
        results[index] = _one(paths[index], profile, level, inference)
    for thread in threads:
        thread.join()
    # A worker that failed put its crate back after this process had finished: do it now.
    for index, outcome in enumerate(results):
        if outcome is None:
            results[index] = _one(paths[index], profile, level, inference)
    return [r for r in results if r is not None]


def _tokens() -> list[str]:
    from fedcrate.validate.profiles import shipped_profiles

    return sorted(shipped_profiles())


def main() -> None:
    """Worker entry point: answer validation requests until standard input closes."""
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    for line in source:
        request = json.loads(line)
        outcome = _one(
            request["path"], request["profile"], Level(request["level"]), request["inference"]
        )
        sink.write(json.dumps(_encode(outcome)).encode("utf-8") + b"\n")
        sink.flush()
