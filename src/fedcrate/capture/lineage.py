"""Per-round model lineage: the SHA-256 of the global arrays at every round.

The digest of an `ArrayRecord` is the SHA-256 of its arrays written as a *deterministic*
`.npz` (stored, not compressed; every member dated 1980-01-01; arrays in the record's
order, `<key>.npy` each, in NumPy's own `.npy` format). fedcrate saves `result.arrays` as
`final_model.npz` with exactly these bytes, so the last state's digest is the model file's
`sha256`, and anyone can recompute a state's digest from arrays they hold
(`numpy.load` reads the file as any other `.npz`).

The bytes are streamed into the hash (and, when saving, the file) through one unseekable
sink, so hashing a multi-GB model needs no extra copy in memory, and the file written and
the digest computed are the same bytes by construction.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from fedcrate.record.run import ModelState

__all__ = ["LineageRecorder", "ModelState", "arrays_digest", "save_arrays_npz"]

logger = logging.getLogger("fedcrate")

_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can carry


class _Sink:
    """Write-only and unseekable: zipfile then writes the same bytes wherever they go."""

    def __init__(self, file: IO[bytes] | None = None) -> None:
        self.hash = hashlib.sha256()
        self.size = 0
        self._file = file

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        self.hash.update(view)
        self.size += len(view)
        if self._file is not None:
            self._file.write(view)
        return len(view)

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()


def _named_arrays(arrays: Any) -> Iterator[tuple[str, Any]]:
    """(key, numpy array) of a Flower `ArrayRecord` (or any mapping of arrays), in order.

    The classic API's `Parameters` are keyed "0", "1", … as `ArrayRecord(list)` keys them,
    so a classic run's states and saved model hash alike.
    """
    if hasattr(arrays, "tensors") and not hasattr(arrays, "items"):
        from flwr.common import parameters_to_ndarrays

        yield from ((str(i), a) for i, a in enumerate(parameters_to_ndarrays(arrays)))
        return
    for key, array in arrays.items():
        yield str(key), array.numpy() if hasattr(array, "numpy") else array


def _write_npz(arrays: Any, sink: _Sink) -> None:
    import numpy as np

    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:  # type: ignore[call-overload]
        for key, array in _named_arrays(arrays):
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_EPOCH)
            info.external_attr = 0o600 << 16
            with archive.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def arrays_digest(arrays: Any) -> tuple[str, int]:
    """(SHA-256 hex, size in bytes) of `arrays` as the deterministic `.npz` above."""
    sink = _Sink()
    _write_npz(arrays, sink)
    return sink.hash.hexdigest(), sink.size


def save_arrays_npz(arrays: Any, path: Path) -> tuple[str, int]:
    """Write `arrays` to `path` as the deterministic `.npz`; returns its (sha256, size)."""
    with path.open("wb") as handle:
        sink = _Sink(handle)
        _write_npz(arrays, sink)
    return sink.hash.hexdigest(), sink.size


class LineageRecorder:
    """The global arrays' digest per round, each computed once.

    `configure_train(r, arrays, …)` hands the strategy the model *before* round r's
    training, that is state r - 1; `configure_evaluate(r, arrays, …)` the model after it,
    state r; the `Result`'s arrays are the last state. A state already hashed is not hashed
    again (FedAvg passes the same arrays to both calls of a round).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[int, ModelState] = {}

    def note(self, state: int, arrays: Any) -> ModelState | None:
        """Hash `arrays` as state `state` unless that state is known; never raises."""
        if arrays is None or state < 0:
            return None
        with self._lock:
            if state in self._states:
                return None
        try:
            sha256, size = arrays_digest(arrays)
        except Exception as exc:  # provenance must never break training
            logger.error("model state %s not hashed (%s: %s)", state, type(exc).__name__, exc)
            return None
        recorded = ModelState(round=state, sha256=sha256, content_size=size)
        with self._lock:
            self._states.setdefault(state, recorded)
        return recorded

    def note_final(self, arrays: Any) -> ModelState | None:
        """The `Result`'s arrays: the state after the last round recorded so far."""
        with self._lock:
            last = max(self._states, default=-1)
        if last < 0:
            return self.note(0, arrays)
        try:
            sha256, size = arrays_digest(arrays)
        except Exception as exc:  # provenance must never break training
            logger.error("final model state not hashed (%s: %s)", type(exc).__name__, exc)
            return None
        if sha256 == self._states[last].sha256:
            return None  # the final arrays are the last state already recorded
        recorded = ModelState(round=last + 1, sha256=sha256, content_size=size)
        with self._lock:
            self._states.setdefault(last + 1, recorded)
        return recorded

    def states(self) -> list[ModelState]:
        """Every state, by round."""
        with self._lock:
            return [self._states[r] for r in sorted(self._states)]
