"""Per-round cost of the tracker: fedcrate against flwrcrate 0.4.0, same real Flower inputs.

Two numbers per tracker and size, both per round:

* **hook** — the time the wrapped `evaluate_fn` adds to each round (what slows training
  down while it runs). flwrCrate rewrites its whole per-round JSON log in every call, so
  its cost grows with the rounds already run (quadratic in total); fedcrate keeps the
  observation in memory.
* **lifecycle** — the whole tracker lifecycle divided by the rounds: construct, one wrapped
  `evaluate_fn` call per round, `record_result(result, model_path=...)`, leave the `with`
  block (the crate is written). Inputs and lifecycle are those of bench_build.py (real
  `Context`, `FedAvg`, `Result`, `MetricRecord`s; M metrics on every side; a 1 MB model).

Usage:  python benchmarks/bench_tracker.py [--rounds 10 100 1000] [--metrics 10] [--repeat 5]
Prints median µs per round for each and the ratio fedcrate / flwrcrate (< 1: fedcrate
faster). No assertion on timings anywhere: the numbers are for people.

`--profile` instead runs fedcrate's lifecycle once per size under cProfile (after a
warm-up) and prints where its time goes: the functions by cumulative and by own time.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flwr.app import Context, MetricRecord
from flwr.serverapp.strategy import Result

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_build import PYPROJECT, _inputs, make_tracker  # same inputs as bench_build


@contextlib.contextmanager
def _workdir() -> Iterator[Path]:
    work = Path(tempfile.mkdtemp(prefix="fedcrate-bench-tracker-"))
    try:
        (work / "pyproject.toml").write_text(PYPROJECT)
        (work / "final_model.pt").write_bytes(os.urandom(1 << 20))
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _once(tracker_class: Any, rounds: int, context: Context, result: Result) -> tuple[float, float]:
    """(seconds in the wrapped evaluate calls, seconds for the whole lifecycle)."""
    server: dict[int, MetricRecord] = result.evaluate_metrics_serverapp
    with _workdir() as work:
        started = time.perf_counter()
        with make_tracker(tracker_class, work, context) as tracker:
            evaluate = tracker.wrap_evaluate(lambda rnd, arrays: server[rnd])
            hook_started = time.perf_counter()
            for server_round in range(rounds + 1):
                evaluate(server_round, None)
            hook = time.perf_counter() - hook_started
            tracker.record_result(result, model_path=str(work / "final_model.pt"))
        lifecycle = time.perf_counter() - started
        crates = list((work / "out").rglob("ro-crate-metadata.json"))
        assert len(crates) == 1, f"{tracker_class.__module__} wrote no crate"
    return hook, lifecycle


def measure(rounds: int, metrics: int, repeat: int) -> dict[str, tuple[float, float]]:
    """Median µs per round (hook, lifecycle) of each tracker, runs interleaved."""
    from flwrcrate import FLCrateTracker as Baseline

    from fedcrate import FLCrateTracker as Ours

    context, result = _inputs(rounds, metrics)
    trackers = {"fedcrate": Ours, "flwrcrate": Baseline}
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in trackers}
    for tracker_class in trackers.values():  # warm-up: imports, caches, the bundled context
        _once(tracker_class, min(rounds, 10), *_inputs(min(rounds, 10), metrics))
    for _ in range(repeat):
        for name, tracker_class in trackers.items():
            samples[name].append(_once(tracker_class, rounds, context, result))
    per_round = 1e6 / rounds
    return {
        name: (
            statistics.median(h for h, _ in values) * per_round,
            statistics.median(t for _, t in values) * per_round,
        )
        for name, values in samples.items()
    }


def profile(rounds: int, metrics: int, top: int = 25) -> None:
    """cProfile of one fedcrate lifecycle of `rounds` rounds, after a warm-up."""
    import cProfile
    import pstats

    from fedcrate import FLCrateTracker as Ours

    context, result = _inputs(rounds, metrics)
    with contextlib.redirect_stdout(open(os.devnull, "w")):
        _once(Ours, rounds, context, result)  # warm-up: imports, caches
        profiler = cProfile.Profile()
        profiler.enable()
        _once(Ours, rounds, context, result)
        profiler.disable()
    print(f"== fedcrate lifecycle, {rounds} rounds × {metrics} metrics per side")
    for order in ("cumulative", "tottime"):
        pstats.Stats(profiler).sort_stats(order).print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--metrics", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="profile fedcrate instead")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # both trackers warn about unmapped metric names
    if args.profile:
        for rounds in args.rounds:
            profile(rounds, args.metrics)
        return
    print(f"per-round cost, µs (median of {args.repeat}; {args.metrics} metrics per side)")
    print(
        f"{'rounds':>6} | {'hook fedcrate':>13} {'flwrcrate':>10} {'ratio':>6} | "
        f"{'lifecycle fedcrate':>18} {'flwrcrate':>10} {'ratio':>6}"
    )
    for rounds in args.rounds:
        with contextlib.redirect_stdout(open(os.devnull, "w")):
            medians = measure(rounds, args.metrics, args.repeat)
        (ours_hook, ours_all), (base_hook, base_all) = medians["fedcrate"], medians["flwrcrate"]
        print(
            f"{rounds:>6} | {ours_hook:>13.1f} {base_hook:>10.1f} {ours_hook / base_hook:>6.3f} | "
            f"{ours_all:>18.1f} {base_all:>10.1f} {ours_all / base_all:>6.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
