"""What per-round model lineage costs: hashing the global arrays once per round.

`record_model_lineage=True` hashes the arrays `configure_train` / `configure_evaluate`
receive (each state once) as fedcrate's deterministic `.npz`. The baseline is the floor
for any content digest: `hashlib.sha256` over the arrays' raw bytes, already in memory.
Both run on the same Flower `ArrayRecord` (float32 arrays of a CNN-like shape mix).

Usage:  python benchmarks/bench_lineage.py [--mb 10 100] [--repeat 7]
Prints the median ms per round for each size and the ratio against the floor. No
assertion on timings anywhere: the numbers are for people.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import time

import numpy as np
from flwr.app import ArrayRecord

from fedcrate.capture.lineage import arrays_digest


def _model(megabytes: int) -> ArrayRecord:
    """float32 arrays summing to `megabytes` MB: a few large layers and small biases."""
    total = megabytes * 1024 * 1024 // 4
    shapes = [
        (total // 2,),
        (total // 4,),
        (total // 8,),
        (total - total // 2 - total // 4 - total // 8 - 64,),
        (64,),
    ]
    rng = np.random.default_rng(0)
    return ArrayRecord([rng.standard_normal(s, dtype=np.float32) for s in shapes])


def _median_ms(step: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        step()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(f"{'model':>8} {'fedcrate ms/round':>18} {'raw sha256 ms':>14} {'ratio':>6}")
    for megabytes in args.mb:
        arrays = _model(megabytes)
        raw = [a.numpy() for a in arrays.values()]

        def floor(raw: list[np.ndarray] = raw) -> None:
            digest = hashlib.sha256()
            for array in raw:
                digest.update(memoryview(np.ascontiguousarray(array)).cast("B"))

        ours = _median_ms(lambda arrays=arrays: arrays_digest(arrays), args.repeat)
        base = _median_ms(floor, args.repeat)
        print(f"{megabytes:>6}MB {ours:>18.1f} {base:>14.1f} {ours / base:>6.2f}")


if __name__ == "__main__":
    main()
