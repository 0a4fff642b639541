"""Find and stop every process a demo run started, by PID.

Flower's simulation spawns a process tree we do not launch ourselves:
``flower-superlink`` -> ``flower-superexec`` (own session) -> ``flwr-simulation``
-> Ray's ``gcs_server``/``raylet``/agents/workers. When Ray shuts down, some of
them are re-parented to init (and Ray may still start one late), so walking the
tree from our SuperLink is not enough. On Linux we therefore also claim:

* every process in a *session* led by one of our processes (SuperLink and
  SuperExec each call setsid; Ray's processes stay in SuperExec's session, and
  Linux never reuses a PID that still names a live session), and
* every process whose ``/proc/<pid>/environ`` has this run's unique marker
  (not sufficient alone: Ray's setproctitle overwrites that memory).

Nothing here ever selects processes by name, and a PID is only signalled after
checking it is still the same process (its start time) that we saw earlier.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")
_POLL_S = 0.2


@dataclass(frozen=True)
class ProcInfo:
    """What we need to know about a process to decide whether to stop it."""

    pid: int
    ppid: int
    sid: int  # session id; -1 where the platform does not tell us
    start: str  # start time as reported by the OS; guards against PID reuse
    zombie: bool


def _read_proc_stat(pid: int) -> ProcInfo | None:
    try:
        raw = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and ')' so split after the last ')'.
    fields = raw[raw.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state); then ppid, pgrp, session; fields[19] is starttime.
    return ProcInfo(
        pid=pid,
        ppid=int(fields[1]),
        sid=int(fields[3]),
        start=fields[19],
        zombie=fields[0] in "ZX",
    )


def _list_linux() -> dict[int, ProcInfo]:
    table: dict[int, ProcInfo] = {}
    for entry in _PROC.iterdir():
        if entry.name.isdigit() and (info := _read_proc_stat(int(entry.name))) is not None:
            table[info.pid] = info
    return table


def _list_ps() -> dict[int, ProcInfo]:
    # Portable fallback (macOS, BSD): no environ access, so only the tree is used.
    out = subprocess.run(
        ["ps", "-A", "-o", "pid=", "-o", "ppid=", "-o", "stat=", "-o", "lstart="],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    table: dict[int, ProcInfo] = {}
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[0].isdigit() and parts[1].isdigit():
            pid = int(parts[0])
            table[pid] = ProcInfo(
                pid, int(parts[1]), -1, parts[3].strip(), parts[2].startswith("Z")
            )
    return table


def list_processes() -> dict[int, ProcInfo]:
    """Snapshot of all processes visible to us."""
    return _list_linux() if _PROC.is_dir() and sys.platform.startswith("linux") else _list_ps()


def _has_marker(pid: int, marker: bytes) -> bool:
    try:
        environ = (_PROC / str(pid) / "environ").read_bytes()
    except OSError:  # gone, or not ours to read
        return False
    return marker in environ.split(b"\0")


def _descendants(table: dict[int, ProcInfo], roots: Iterable[int]) -> set[int]:
    children: dict[int, list[int]] = {}
    for info in table.values():
        children.setdefault(info.ppid, []).append(info.pid)
    found: set[int] = set()
    stack = [pid for pid in roots if pid in table]
    while stack:
        pid = stack.pop()
        if pid not in found:
            found.add(pid)
            stack.extend(children.get(pid, ()))
    return found


class ProcessGroupTracker:
    """Remembers the processes of one demo run so that all of them can be stopped.

    ``marker`` is a ``NAME=value`` string put into the environment of every child
    we launch; ``roots`` are the PIDs we launched ourselves.
    """

    def __init__(self, marker: str) -> None:
        self._marker = marker.encode()
        self._roots: set[int] = set()
        # pid -> start time, for every process ever seen as ours during this run.
        self._seen: dict[int, str] = {}
        # Sessions whose leader was one of ours; members are ours even once orphaned.
        self._sessions: set[int] = set()

    def add_root(self, pid: int) -> None:
        self._roots.add(pid)

    def refresh(self) -> dict[int, ProcInfo]:
        """Record the processes that currently belong to this run; return the live ones."""
        table = list_processes()
        ours = _descendants(table, self._roots)
        if sys.platform.startswith("linux"):
            ours |= {pid for pid in table if _has_marker(pid, self._marker)}
            ours.discard(os.getpid())
            # Never claim the session we run in (e.g. the user's terminal).
            leaders = {pid for pid in ours if table[pid].sid == pid} - {os.getsid(0)}
            self._sessions |= leaders
            ours |= {pid for pid, info in table.items() if info.sid in self._sessions}
        ours.discard(os.getpid())
        for pid in ours:
            self._seen.setdefault(pid, table[pid].start)
        return self._alive(table)

    def _alive(self, table: dict[int, ProcInfo]) -> dict[int, ProcInfo]:
        # Same PID *and* same start time: otherwise the PID was reused by someone else.
        return {
            pid: table[pid]
            for pid, start in self._seen.items()
            if pid in table and table[pid].start == start and not table[pid].zombie
        }

    def stop_all(self, grace_s: float, log: Callable[[str], None]) -> list[ProcInfo]:
        """Wait for leftovers to exit, then SIGTERM, then SIGKILL them; return survivors."""
        alive = self._wait(grace_s)
        for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 2.0)):
            if not alive:
                break
            log(f"stopping {len(alive)} leftover process(es) with {sig.name}: {sorted(alive)}")
            for pid in alive:
                _signal(pid, sig)
            alive = self._wait(wait_s)
        return list(alive.values())

    def _wait(self, timeout_s: float) -> dict[int, ProcInfo]:
        deadline = time.monotonic() + timeout_s
        alive = self.refresh()
        while alive and time.monotonic() < deadline:
            time.sleep(_POLL_S)
            alive = self.refresh()
        return alive


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def stop_popen(proc: subprocess.Popen[bytes], grace_s: float) -> None:
    """Terminate a process we launched, wait for it, and kill it after ``grace_s``."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
    # Always reap it: an unreaped (zombie) SuperLink still "exists" for os.kill(pid, 0),
    # which is how Flower's SuperExec decides whether its parent is alive.
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace_s)
