"""`fedcrate validate` against the official `rocrate-validator`, and on 100 crates at once.

Two measurements in one run:

* **one crate, end to end** — a 3-round crate (benchmarks/bench_sparql.py's runs: 5 metrics
  on the server and both client sides), validated by a fresh `fedcrate validate --profile
  fl-crate-0.1` process, as a user runs it (interpreter start, imports, the prepared
  shapes from the cache, reading, checking, printing), and by the official validator on
  the same crate with the same profile (`tests/support/validator.py`:
  `run_official_validator(crate, "fl-crate-0.1", extra_profiles=shapes/,
  severity="REQUIRED")`, offline, from `.venv-validator`), interleaved, `--repeat` times;
  medians and the ratio.
* **many crates, one call** — `--crates` crates of `--rounds` rounds in one `fedcrate
  validate` process (its default parallelism: one process per core): seconds per crate.

The prepared-shapes cache lives in a temporary folder (`FEDCRATE_CACHE_DIR`), filled by
one untimed warm-up call, as it is after a user's first run.

Usage:  python benchmarks/bench_validate.py [--repeat 5] [--crates 100] [--rounds 100]
Prints the medians, the ratio official / fedcrate (> 1: fedcrate faster) and the seconds
per crate; no assertion on timings: the numbers are for people.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_sparql import bench_record
from fedcrate import write_crate

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.support.validator import find_validator_python, run_official_validator  # noqa: E402

PROFILE = "fl-crate-0.1"


def _ours(crates: list[Path], environment: dict[str, str]) -> tuple[float, int]:
    command = [sys.executable, "-m", "fedcrate", "validate", "--profile", PROFILE]
    started = time.perf_counter()
    done = subprocess.run(
        [*command, *map(str, crates)],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        sys.exit(f"fedcrate validate failed (exit {done.returncode}):\n{done.stderr}")
    return elapsed, done.returncode


def _official(crate: Path) -> tuple[float, list[str]]:
    started = time.perf_counter()
    report = run_official_validator(crate, PROFILE, extra_profiles=REPO / "shapes")
    return time.perf_counter() - started, sorted(report.check_ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--crates", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    if find_validator_python() is None:
        sys.exit("no validator venv; see tests/support/README.md")
    work = Path(tempfile.mkdtemp(prefix="fedcrate-bench-validate-"))
    environment = {**os.environ, "FEDCRATE_CACHE_DIR": str(work / "cache")}
    try:
        small = write_crate(bench_record(0, rounds=3), work / "small").path
        _ours([small], environment)  # warm-up: prepares and caches the shapes, writes .pyc
        _official(small)
        ours, official = [], []
        for _ in range(args.repeat):
            elapsed, code = _ours([small], environment)
            ours.append(elapsed)
            elapsed, issues = _official(small)
            official.append(elapsed)
        ours_s, official_s = statistics.median(ours), statistics.median(official)
        size = (small / "ro-crate-metadata.json").stat().st_size
        print(f"one 3-round crate ({size:,} bytes), profile {PROFILE}, end to end:")
        print(f"  fedcrate validate   {ours_s:6.2f} s  (median of {args.repeat}, exit {code})")
        print(f"  rocrate-validator   {official_s:6.2f} s  (median of {args.repeat})")
        print(f"  ratio               {official_s / ours_s:6.1f}x  (official / fedcrate)")
        print(f"  official validator's issues: {issues}")

        started = time.perf_counter()
        many = [
            write_crate(bench_record(i, rounds=args.rounds), work / f"run-{i:03d}").path
            for i in range(args.crates)
        ]
        built = time.perf_counter() - started
        size = sum((c / "ro-crate-metadata.json").stat().st_size for c in many) / len(many)
        elapsed, code = _ours(many, environment)
        print(
            f"{args.crates} crates of {args.rounds} rounds × 5 metrics × 3 sides "
            f"({size / 1e6:.2f} MB each, written in {built:.0f} s), one call, "
            f"{os.cpu_count()} cores:"
        )
        print(f"  fedcrate validate   {elapsed:6.2f} s  (exit {code})")
        print(f"  per crate           {elapsed / args.crates:6.3f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
