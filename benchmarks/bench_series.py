"""Per-round metrics as series against the previous model: triples per value, index load.

The previous model (commit 32fba0d) stated every round's value as a `PropertyValue` +
`fl:RoundMetric` carrying name, propertyID, side, round and value, linked from the run by
`fl:roundMetric`; the series model states it as an `fl:RoundValue` (round and value only)
under its series, the `fl:FinalMetric` in the run's `result` (`fl:roundValue`).

N crates of R rounds × 5 metrics × 3 sides (benchmarks/bench_sparql.py's runs) are written
into a temporary folder by each model's own code: the baseline is `git archive <commit> src
vocab`, run in a child process with `PYTHONPATH` pointing at it. Each corpus is then loaded
into a fresh embedded index (`fedcrate.index.CrateIndex`, pyoxigraph) by its own code, in a
child process, old and new interleaved `--repeat` times; the median load is reported.

    python benchmarks/bench_series.py [--crates 500] [--rounds 100] [--repeat 2]

Prints, per model: triples per round value (every triple that has a value node as subject
or object; stated, then with the PROV-O entailments the index adds), stated triples and
loaded quads per crate, metadata bytes per crate, cold index load, index size on disk and
two warm queries; then the new/old ratios. The last lines are the same numbers as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from multiprocessing import Pool
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
BASELINE = "32fba0d"
MODELS = ("old", "new")


# -- children: each runs one model's own code ------------------------------------------


def _write_one(args: tuple[int, str, int]) -> None:
    from bench_sparql import bench_record
    from fedcrate import write_crate

    index, folder, rounds = args
    write_crate(
        bench_record(index, rounds=rounds), Path(folder) / f"run-{index:05d}", preview=False
    )


def child_write(folder: Path, crates: int, rounds: int, workers: int) -> None:
    """Write the corpus with whatever `fedcrate` this process imports."""
    todo = [(i, str(folder), rounds) for i in range(crates)]
    with Pool(workers) as pool:
        for _ in pool.imap_unordered(_write_one, todo, chunksize=8):
            pass


def _warm(index: Any, query: str, params: dict[str, str] | None = None) -> float:
    index.query(query, params)  # warm-up
    times = []
    for _ in range(3):
        started = time.perf_counter()
        index.query(query, params)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def child_load(corpus: Path, index_dir: Path) -> dict[str, float]:
    """Cold-load `corpus` into a new index; quads, size on disk and two warm queries."""
    from fedcrate.index import CrateIndex

    started = time.perf_counter()
    index = CrateIndex(corpus, index=index_dir)
    report = index.refresh()
    load = time.perf_counter() - started
    assert not report.errors, report.errors
    count = index.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }").rows[0][0]
    result = {
        "load_s": load,
        "quads": float(count),  # type: ignore[arg-type]
        "metric_history_loss_s": _warm(index, "metric-history", {"metric": "loss"}),
        "final_metrics_s": _warm(index, "final-metrics"),
    }
    index.close()
    result["index_bytes"] = float(
        sum(p.stat().st_size for p in index_dir.rglob("*") if p.is_file())
    )
    return result


# -- the parent ------------------------------------------------------------------------


def _env(model: str, baseline_src: Path) -> dict[str, str]:
    """The old model's children import the baseline's `fedcrate` (PYTHONPATH comes before
    the editable install); both find bench_sparql and tests.conftest."""
    paths = [str(BENCH), str(ROOT)]
    if model == "old":
        paths.insert(0, str(baseline_src))
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def _child(model: str, baseline_src: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", *args],
        env=_env(model, baseline_src),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"{model} child {args[0]} failed:\n{done.stderr[-4000:]}")
    return done.stdout


def _which_fedcrate(model: str, baseline_src: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", "import fedcrate; print(fedcrate.__file__)"],
        env=_env(model, baseline_src),
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def extract_baseline(commit: str, into: Path) -> Path:
    """`git archive <commit> src vocab` unpacked into `into`; returns its `src`."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, "src", "vocab"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def count_triples(corpus: Path) -> dict[str, float]:
    """Stated triples per crate and per round value (nodes `#round-…`), from the JSON-LD.

    The JSON-LD is read with fedcrate's fast path, which equals rdflib's parse (tested) and
    knows no model, so both corpora are counted the same way.
    """
    from fedcrate.crate import crate_base
    from fedcrate.index.quads import alignment, fast_triples

    crates = sorted(corpus.glob("*/ro-crate/ro-crate-metadata.json"))
    stated = value_triples = value_loaded = values = size = 0
    for metadata in crates:
        document = json.loads(metadata.read_text(encoding="utf-8"))
        triples = fast_triples(document, crate_base(document, metadata))
        nodes = {s for s, _, _ in triples if "#round-" in s}
        stated += len(triples)
        values += len(nodes)
        value_triples += sum(1 for s, _, o in triples if s in nodes or o in nodes)
        # What the index adds for them (as crate_lines: entailments not already stated);
        # the PropertyValue → prov:Entity axiom is the same in both vocabularies.
        derived = set(alignment().entail(triples)) - set(triples)
        value_loaded += sum(1 for s, _, o in derived if s in nodes or o in nodes)
        size += metadata.stat().st_size
    return {
        "crates": float(len(crates)),
        "round_values_per_crate": values / len(crates),
        "triples_per_value": value_triples / values,
        "loaded_triples_per_value": (value_triples + value_loaded) / values,
        "stated_triples_per_crate": stated / len(crates),
        "metadata_bytes_per_crate": size / len(crates),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crates", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=2, help="index loads per model")
    parser.add_argument("--baseline", default=BASELINE, help="commit of the previous model")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--work", type=Path, default=None, help="temp folder (default: system)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        kind, *rest = args.child
        if kind == "write":
            child_write(Path(rest[0]), int(rest[1]), int(rest[2]), int(rest[3]))
        else:
            print(json.dumps(child_load(Path(rest[0]), Path(rest[1]))))
        return

    work = Path(tempfile.mkdtemp(prefix="fedcrate-bench-series-", dir=args.work))
    try:
        baseline_src = extract_baseline(args.baseline, work / "baseline")
        results: dict[str, dict[str, float]] = {}
        for model in MODELS:
            print(f"{model}: fedcrate from {_which_fedcrate(model, baseline_src)}", flush=True)
            corpus = work / model
            started = time.perf_counter()
            _child(
                model, baseline_src, "write", str(corpus), str(args.crates), str(args.rounds),
                str(args.workers),
            )  # fmt: skip
            print(f"  wrote {args.crates} crates in {time.perf_counter() - started:.0f} s")
            results[model] = count_triples(corpus)
        loads: dict[str, list[dict[str, float]]] = {m: [] for m in MODELS}
        for attempt in range(args.repeat):
            for model in MODELS:  # interleaved, so drift hits both alike
                index_dir = work / f"index-{model}-{attempt}"
                out = _child(model, baseline_src, "load", str(work / model), str(index_dir))
                loads[model].append(json.loads(out.strip().splitlines()[-1]))
                shutil.rmtree(index_dir, ignore_errors=True)
                print(
                    f"  {model} load {attempt + 1}: {loads[model][-1]['load_s']:.1f} s", flush=True
                )
        for model in MODELS:
            for key in loads[model][0]:
                results[model][key] = statistics.median(run[key] for run in loads[model])
            results[model]["quads_per_crate"] = results[model].pop("quads") / args.crates
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(
        f"\n{args.crates} crates × {args.rounds} rounds × 5 metrics × 3 sides; "
        f"index load: median of {args.repeat}"
    )
    rows = [
        ("round values per crate", "round_values_per_crate", "{:,.0f}"),
        ("triples per round value", "triples_per_value", "{:.2f}"),
        ("… with PROV-O entailments", "loaded_triples_per_value", "{:.2f}"),
        ("stated triples per crate", "stated_triples_per_crate", "{:,.0f}"),
        ("quads loaded per crate", "quads_per_crate", "{:,.0f}"),
        ("metadata bytes per crate", "metadata_bytes_per_crate", "{:,.0f}"),
        (f"index load of {args.crates} (s)", "load_s", "{:.1f}"),
        ("index size (MB)", "index_bytes", "{:,.0f}"),
        ("warm metric-history loss (s)", "metric_history_loss_s", "{:.3f}"),
        ("warm final-metrics (s)", "final_metrics_s", "{:.3f}"),
    ]
    print(f"{'':>32} {'old':>12} {'new':>12} {'new/old':>8}")
    for label, key, form in rows:
        old, new = results["old"][key], results["new"][key]
        scale = 1e6 if key == "index_bytes" else 1
        print(
            f"{label:>32} {form.format(old / scale):>12} {form.format(new / scale):>12} "
            f"{new / old:>8.3f}"
        )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
