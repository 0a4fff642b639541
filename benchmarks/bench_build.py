"""Build-and-write time of a crate: fedcrate against flwrcrate 0.4.0, same inputs, one run.

Both trackers go through the same lifecycle a Flower app drives: construct the tracker,
call the wrapped `evaluate_fn` once per round, `record_result(result, model_path=...)`,
leave the `with` block (the crate is written). Inputs: real Flower objects (Context,
FedAvg, Result, MetricRecord) with R rounds × M metrics on every side (server evaluate,
client train, client evaluate) and a 1 MB model file.

Usage:  python benchmarks/bench_build.py [--rounds 100] [--metrics 10] [--repeat 7]
Prints the median time of each and the ratio fedcrate / flwrcrate (< 1: fedcrate faster).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flwr.app import ArrayRecord, Context, MetricRecord, RecordDict
from flwr.serverapp.strategy import FedAvg, Result

PYPROJECT = """
[project]
name = "bench-app"
dependencies = ["flwr[simulation]>=1.42", "numpy>=1.26", "scikit-learn>=1.3"]
"""


def _metrics(server_round: int, count: int) -> MetricRecord:
    return MetricRecord({f"metric_{i}": 1.0 / (server_round + i + 1) for i in range(count)})


def _inputs(rounds: int, metrics: int) -> tuple[Context, Result]:
    context = Context(
        run_id=1,
        node_id=0,
        node_config={},
        state=RecordDict(),
        run_config={"num-server-rounds": rounds, "lr": 0.01, "local-epochs": 1},
    )
    result = Result(
        arrays=ArrayRecord(),
        train_metrics_clientapp={r: _metrics(r, metrics) for r in range(1, rounds + 1)},
        evaluate_metrics_clientapp={r: _metrics(r, metrics) for r in range(1, rounds + 1)},
        evaluate_metrics_serverapp={r: _metrics(r, metrics) for r in range(rounds + 1)},
    )
    return context, result


def make_tracker(tracker_class: Any, work: Path, context: Context) -> Any:
    """The tracker both benchmarks drive: same arguments for fedcrate and flwrcrate."""
    return tracker_class(
        context,
        FedAvg(fraction_train=0.5),
        output_dir=str(work / "out"),
        pyproject_path=str(work / "pyproject.toml"),
        app_name="bench",
        author={"name": "Bench", "orcid": "https://orcid.org/0000-0002-1825-0097"},
        license="https://spdx.org/licenses/MIT.html",
    )


def _lifecycle(
    tracker_class: Any, work: Path, rounds: int, context: Context, result: Result
) -> None:
    with make_tracker(tracker_class, work, context) as tracker:
        evaluate = tracker.wrap_evaluate(lambda rnd, arrays: result.evaluate_metrics_serverapp[rnd])
        for server_round in range(rounds + 1):
            evaluate(server_round, None)
        tracker.record_result(result, model_path=str(work / "final_model.pt"))


def _time_once(tracker_class: Any, rounds: int, context: Context, result: Result) -> float:
    work = Path(tempfile.mkdtemp(prefix="fedcrate-bench-"))
    try:
        (work / "pyproject.toml").write_text(PYPROJECT)
        (work / "final_model.pt").write_bytes(os.urandom(1 << 20))
        started = time.perf_counter()
        _lifecycle(tracker_class, work, rounds, context, result)
        elapsed = time.perf_counter() - started
        crates = list((work / "out").rglob("ro-crate-metadata.json"))
        assert len(crates) == 1, f"{tracker_class.__module__} wrote no crate"
        return elapsed
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(rounds: int, metrics: int, repeat: int) -> dict[str, float]:
    """Median seconds per lifecycle for each tracker, interleaved to share machine noise."""
    from flwrcrate import FLCrateTracker as Baseline

    from fedcrate import FLCrateTracker as Ours

    context, result = _inputs(rounds, metrics)
    timings: dict[str, list[float]] = {"fedcrate": [], "flwrcrate": []}
    runners: dict[str, Callable[[], float]] = {
        "fedcrate": lambda: _time_once(Ours, rounds, context, result),
        "flwrcrate": lambda: _time_once(Baseline, rounds, context, result),
    }
    for run in runners.values():  # warm-up: imports, caches, the bundled context
        run()
    for _ in range(repeat):
        for name, run in runners.items():
            timings[name].append(run())
    return {name: statistics.median(values) for name, values in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, nargs="+", default=[100])
    parser.add_argument("--metrics", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # both trackers warn about unmapped metric names
    print(f"{'rounds':>6} {'metrics':>7} {'fedcrate s':>11} {'flwrcrate s':>12} {'ratio':>6}")
    for rounds in args.rounds:
        with contextlib.redirect_stdout(open(os.devnull, "w")):
            medians = measure(rounds, args.metrics, args.repeat)
        ratio = medians["fedcrate"] / medians["flwrcrate"]
        print(
            f"{rounds:>6} {args.metrics:>7} {medians['fedcrate']:>11.3f} "
            f"{medians['flwrcrate']:>12.3f} {ratio:>6.2f}"
        )


if __name__ == "__main__":
    main()
