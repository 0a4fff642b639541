"""`fedcrate validate` against the official `rocrate-validator`, same 100-round crate.

The crate comes from a real tracker lifecycle (see bench_build.py): R rounds × M metrics on
every side. Both tools run as commands, end to end (interpreter start, imports, parsing,
checking), interleaved in one run; the official validator runs our FL profile's shapes
(`--extra-profiles-path shapes -p fl-crate-0.1`, offline, from its own venv) so both
check the same rules.

Usage:  python benchmarks/bench_validate.py [--rounds 100] [--repeat 3]
Prints median seconds of each and the ratio rocrate-validator / fedcrate (> 1: faster).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_build import _inputs, _lifecycle
from fedcrate import FLCrateTracker

REPO = Path(__file__).resolve().parents[1]
OFFLINE_VALIDATOR = REPO / "tests" / "support" / "offline_validator.py"


def _validator_python() -> Path:
    configured = os.environ.get("FEDCRATE_VALIDATOR_PYTHON")
    python = Path(configured) if configured else REPO / ".venv-validator" / "bin" / "python"
    if not python.exists():
        sys.exit(f"no validator venv at {python}; see tests/support/README.md")
    return python


def _crate(rounds: int, metrics: int, work: Path) -> Path:
    (work / "pyproject.toml").write_text('[project]\nname = "bench"\ndependencies = ["numpy"]\n')
    (work / "final_model.pt").write_bytes(os.urandom(1 << 16))
    context, result = _inputs(rounds, metrics)
    _lifecycle(FLCrateTracker, work, rounds, context, result)
    return next((work / "out").glob("ro-crate*"))


def _timed(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--metrics", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    work = Path(tempfile.mkdtemp(prefix="fedcrate-bench-validate-"))
    try:
        crate = _crate(args.rounds, args.metrics, work)
        ours = [sys.executable, "-m", "fedcrate", "validate", str(crate), "--level", "may"]
        official = [
            str(_validator_python()),
            str(OFFLINE_VALIDATOR),
            str(crate),
            "--profile",
            "fl-crate-0.1",
            "--extra-profiles-path",
            str(REPO / "shapes"),
            "--severity",
            "OPTIONAL",
        ]
        times: dict[str, list[float]] = {"fedcrate": [], "rocrate-validator": []}
        for _ in range(args.repeat):
            elapsed, done = _timed(ours)
            # 0 or 1: the bench crate declares no dataset, one SHOULD finding.
            assert done.returncode in (0, 1), done.stdout + done.stderr
            times["fedcrate"].append(elapsed)
            elapsed, done = _timed(official)
            assert done.returncode == 0, done.stderr
            issues = json.loads(done.stdout)["issues"]
            times["rocrate-validator"].append(elapsed)
        medians = {name: statistics.median(values) for name, values in times.items()}
        size = (crate / "ro-crate-metadata.json").stat().st_size
        print(f"crate: {args.rounds} rounds × {args.metrics} metrics × 3 sides, {size:,} bytes")
        print(f"official validator issues on it: {[i['check'] for i in issues]}")
        for name, median in medians.items():
            print(f"{name:>18}: {median:7.2f} s (median of {args.repeat})")
        print(f"{'ratio':>18}: {medians['rocrate-validator'] / medians['fedcrate']:7.1f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
