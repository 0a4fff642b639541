"""SIGTERM as an exception inside the tracker's `with` block.

`flwr stop`, Kubernetes, Slurm and most schedulers end a process with SIGTERM, whose
default action kills Python without unwinding: no `finally`, no `__exit__`, no crate.
While a tracker is active in the main thread, SIGTERM instead raises `RunTerminated` (a
`SystemExit`, so `except Exception` in user code does not swallow it); the tracker records
the run as failed, writes the crate, restores the previous handler and lets the exit go
on — calling the previous Python handler (e.g. Flower's graceful exit) if there was one.

Signal handlers can only be set from the main thread. In Flower's simulation runtime the
ServerApp runs in a worker thread, so there SIGTERM keeps its default action and the run
journal (`fedcrate recover`) is what remains.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

__all__ = ["RunTerminated", "SigtermGuard"]

logger = logging.getLogger("fedcrate")

Handler = Callable[[int, FrameType | None], Any] | int | None


class RunTerminated(SystemExit):
    """The run's process received SIGTERM; exits with 128 + 15 like an unhandled SIGTERM."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(128 + int(signum))
        self.signum = int(signum)

    def __str__(self) -> str:
        return f"terminated by {signal.Signals(self.signum).name}"


class SigtermGuard:
    """Installs the SIGTERM → `RunTerminated` handler for the duration of a run."""

    def __init__(self) -> None:
        self._previous: Handler = None
        self._installed = False

    def install(self) -> bool:
        """Install the handler; False (and nothing changed) outside the main thread."""
        if threading.current_thread() is not threading.main_thread():
            return False
        try:
            self._previous = signal.getsignal(signal.SIGTERM)
            signal.signal(signal.SIGTERM, _raise_terminated)
        except (ValueError, OSError) as exc:  # no signals here (e.g. an embedded interpreter)
            logger.warning("SIGTERM cannot be intercepted here (%s)", exc)
            return False
        self._installed = True
        return True

    def restore(self, terminated: BaseException | None) -> None:
        """Put the previous handler back; pass it the signal if it was ours to hand on."""
        if not self._installed:
            return
        self._installed = False
        previous = self._previous
        try:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
        except (ValueError, OSError):
            return
        if isinstance(terminated, RunTerminated) and callable(previous):
            previous(terminated.signum, None)


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise RunTerminated(signum)
