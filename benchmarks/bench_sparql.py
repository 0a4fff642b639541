"""SPARQL across many crates: cold index, no-change re-index, warm named queries.

Generates N crates (100 rounds x 5 metrics each) with fedcrate's own writer, cached in a
folder reused between runs (generation dominates otherwise), then times the embedded
index (`fedcrate.query.CrateIndex`) and, on a slice of the corpus, the naive approach
(rdflib `Dataset`, `parse(format="json-ld")` per crate with the context inlined, then
`query`), side by side in one run.

    python benchmarks/bench_sparql.py --crates 1000 --workers 2
    python benchmarks/bench_sparql.py --crates 10000 --naive 1000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
import warnings
from dataclasses import replace
from multiprocessing import Pool
from pathlib import Path

from fedcrate import write_crate
from fedcrate.record import (
    Metric,
    Parameter,
    RoundObservation,
    RunRecord,
    RunStatus,
    Side,
    StrategyFacts,
)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import make_record  # noqa: E402

METRICS = ("loss", "accuracy", "precision", "recall", "f1")
STRATEGIES = ("FedAvg", "FedProx", "FedAdam", "FedYogi")
DEFAULT_CACHE = (
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fedcrate" / "bench-sparql"
)


def bench_record(index: int, rounds: int = 100) -> RunRecord:
    """The `index`-th benchmark run: deterministic, different strategy / values per run."""
    rng = random.Random(index)
    base = make_record(rounds=1)
    observations = []
    for server_round in range(rounds + 1):
        for name in METRICS:
            metric = Metric(name)
            for side in Side:
                if side is not Side.SERVER_EVALUATE and server_round == 0:
                    continue
                observations.append(RoundObservation(server_round, side, metric, rng.random()))
    strategy_name = STRATEGIES[index % len(STRATEGIES)]
    strategy = StrategyFacts(
        strategy_name,
        f"flwr.serverapp.strategy.{strategy_name.lower()}",
        (Parameter("proximal_mu", round(rng.random(), 3)), Parameter("fraction_train", 0.5)),
        version="1.42.0",
    )
    failed = index % 10 == 9
    return replace(
        base,
        name=f"bench run {index}",
        run_uuid=str(uuid.UUID(int=index + 1, version=4)),
        strategy=strategy,
        observations=observations,
        status=RunStatus.FAILED if failed else RunStatus.COMPLETED,
        error="CUDA out of memory" if failed else None,
        federation=replace(base.federation, num_rounds=rounds),
    )


def _write_one(args: tuple[int, str]) -> None:
    index, folder = args
    target = Path(folder) / f"run-{index:05d}"
    if (target / "ro-crate" / "ro-crate-metadata.json").is_file():
        return
    write_crate(bench_record(index), target)


def generate(count: int, folder: Path, workers: int) -> Path:
    """Make sure `folder` holds crates 0..count-1 (missing ones are written)."""
    folder.mkdir(parents=True, exist_ok=True)
    todo = [
        (i, str(folder))
        for i in range(count)
        if not (folder / f"run-{i:05d}" / "ro-crate" / "ro-crate-metadata.json").is_file()
    ]
    if todo:
        started = time.perf_counter()
        print(f"generating {len(todo)} crates in {folder} with {workers} workers …", flush=True)
        if workers > 1:
            with Pool(workers) as pool:
                for _ in pool.imap_unordered(_write_one, todo, chunksize=8):
                    pass
        else:
            for item in todo:
                _write_one(item)
        print(f"  generated in {time.perf_counter() - started:.1f} s", flush=True)
    return folder


def _subset(corpus: Path, count: int, into: Path) -> Path:
    """A folder of symlinks to the first `count` crates (for the naive comparison)."""
    into.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        link = into / f"run-{i:05d}"
        if not link.exists():
            link.symlink_to(corpus / f"run-{i:05d}", target_is_directory=True)
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crates", type=int, default=10_000, help="corpus size")
    parser.add_argument(
        "--naive",
        type=int,
        default=1_000,
        help="crates for the naive run (rdflib holds them all in memory: ~20 GB per 1,000 "
        "100-round crates)",
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="corpus folder")
    args = parser.parse_args()

    corpus = generate(max(args.crates, args.naive), args.cache / "corpus", args.workers)
    print(json.dumps(run(corpus, args.crates, args.naive), indent=2))


def _report(results: dict[str, float], key: str, value: float) -> None:
    """Record and print at once: a long run that is stopped still shows what it measured."""
    results[key] = value
    print(f"  {key}: {value:.4g}", flush=True)


def run(corpus: Path, crates: int, naive: int) -> dict[str, float]:
    from fedcrate.query import CrateIndex, load_named_query

    results: dict[str, float] = {}
    work = Path(tempfile.mkdtemp(prefix="fedcrate-bench-"))
    try:
        full = _subset(corpus, crates, work / f"crates-{crates}")
        index_dir = work / "index-full"
        started = time.perf_counter()
        index = CrateIndex(full, index=index_dir)
        report = index.refresh()
        _report(results, f"cold_index_s@{crates}", time.perf_counter() - started)
        _report(results, "quads", float(index.quad_count()))
        assert not report.errors, report.errors
        started = time.perf_counter()
        index.refresh()
        _report(results, f"nochange_reindex_s@{crates}", time.perf_counter() - started)
        for name in ("runs", "best-runs"):
            query = load_named_query(name)
            index.query(query)  # warm-up
            started = time.perf_counter()
            rows = index.query(query)
            _report(results, f"warm_{name}_s@{crates}", time.perf_counter() - started)
            _report(results, f"rows_{name}@{crates}", float(len(rows)))
        index.close()

        # Side by side on the same `naive` crates: end to end (index + runs query).
        if naive == crates:
            fast = results[f"cold_index_s@{crates}"] + results[f"warm_runs_s@{crates}"]
            fast_count = int(results[f"rows_runs@{crates}"])
        else:
            small = _subset(corpus, naive, work / f"crates-{naive}")
            started = time.perf_counter()
            small_index = CrateIndex(small, index=work / "index-small")
            small_index.refresh()
            fast_count = len(small_index.query(load_named_query("runs")))
            fast = time.perf_counter() - started
            small_index.close()
        small = _subset(corpus, naive, work / f"crates-{naive}")
        started = time.perf_counter()
        naive_rows = _naive(small, load_named_query("runs").text)
        slow = time.perf_counter() - started
        _report(results, f"embedded_end_to_end_s@{naive}", fast)
        _report(results, f"naive_end_to_end_s@{naive}", slow)
        _report(results, "speedup", slow / fast)
        _report(results, "naive_rows", float(naive_rows))
        _report(results, "embedded_rows", float(fast_count))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def _naive(folder: Path, query: str) -> int:
    """rdflib Dataset, one JSON-LD parse per crate (context inlined), then the query."""
    from rdflib import Dataset, URIRef

    from fedcrate.crate import crate_base
    from fedcrate.jsonld import bundled_context
    from fedcrate.namespaces import register_arcp

    register_arcp()
    context = bundled_context()
    dataset = Dataset(default_union=True)
    warnings.simplefilter("ignore", DeprecationWarning)
    for metadata in sorted(folder.glob("*/ro-crate/ro-crate-metadata.json")):
        document = json.loads(metadata.read_text(encoding="utf-8"))
        base = crate_base(document, metadata)
        contexts = document["@context"]
        document["@context"] = [context if isinstance(c, str) else c for c in contexts]
        graph = dataset.graph(URIRef(base))
        graph.parse(data=json.dumps(document), format="json-ld", base=base)
    return len(list(dataset.query(query)))


if __name__ == "__main__":
    main()
