"""SPARQL across many crates: cold index, no-change re-index, warm named queries.

Generates N crates (100 rounds x 5 metrics each) with fedcrate's own writer, cached in a
folder reused between runs (generation dominates otherwise), then times the embedded
index (`fedcrate.index.CrateIndex`) and, on a slice of the corpus, the naive approach
(rdflib `Dataset`, `parse(format="json-ld")` per crate with the context inlined, then
`query`), side by side in one run.

The naive run holds every crate in memory (~19 MB per 100-round crate), so it runs in a
child process capped at `--naive-memory-gb`; past the cap it reports the failure instead
of pushing a shared machine into swap or the OOM killer. `--stages N` also times each step
of indexing one crate (JSON read, JSON-LD → triples, entailments and N-Triples text, TriG
bulk load, compaction) on N crates, one after the other in this process.

    python benchmarks/bench_sparql.py --crates 1000 --naive 1000 --naive-memory-gb 21 --stages 30
    python benchmarks/bench_sparql.py --crates 300 1000 2000 --naive 0   # how times scale

`--stages` also loads the same crates in the layouts the index does not use (a named graph
per crate plus the merged default graph, the first design; named graphs only), with the
disk each takes as a multiple of the crates' JSON. Cold index, disk, no-change re-index,
adding one crate, the warm shipped queries and peak memory are reported per corpus size.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import resource
import shutil
import statistics
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
sys.path.insert(0, str(ROOT))  # also in spawned children, which re-import this file
from tests.conftest import make_record  # noqa: E402

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
    parser.add_argument(
        "--crates",
        type=int,
        nargs="+",
        default=[10_000],
        help="corpus sizes to index, one after the other (e.g. 300 1000 2000: how times scale)",
    )
    parser.add_argument(
        "--naive",
        type=int,
        default=1_000,
        help="crates for the side-by-side end-to-end run, 0 for none (rdflib holds them all "
        "in memory: ~19 GB per 1,000 100-round crates)",
    )
    parser.add_argument(
        "--naive-memory-gb", type=float, default=12.0, help="address-space cap of the naive run"
    )
    parser.add_argument("--stages", type=int, default=0, help="crates to time stage by stage")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="corpus folder")
    args = parser.parse_args()

    corpus = generate(max(*args.crates, args.naive) + 1, args.cache / "corpus", args.workers)
    results = run(corpus, args.crates, args.naive, args.naive_memory_gb, args.stages)
    print(json.dumps(results, indent=2))


def _report(results: dict[str, float], key: str, value: float) -> None:
    """Record and print at once: a long run that is stopped still shows what it measured."""
    results[key] = value
    print(f"  {key}: {value:.4g}", flush=True)


def _warm(index: object, name: str, repeats: int = 3, **params: str) -> tuple[float, int]:
    """Median wall time of `repeats` runs of a named query after one warm-up, and its rows."""
    from fedcrate.index import CrateIndex, load_named_query

    assert isinstance(index, CrateIndex)
    query = load_named_query(name)
    rows = len(index.query(query, params))  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        index.query(query, params)
        times.append(time.perf_counter() - started)
    return statistics.median(times), rows


def _bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def run(
    corpus: Path,
    sizes: list[int],
    naive: int,
    naive_memory_gb: float = 12.0,
    stages: int = 0,
) -> dict[str, float]:
    from fedcrate.index import CrateIndex, load_named_query

    results: dict[str, float] = {}
    work = Path(tempfile.mkdtemp(prefix="fedcrate-bench-"))
    try:
        if stages:
            for key, value in stage_times(corpus, stages, work / "stages").items():
                _report(results, key, value)
        for crates in sizes:
            _index_times(corpus, crates, work, results)

        if not naive:
            return results
        # Side by side on the same `naive` crates, one after the other: end to end, from
        # crate files to the `runs` rows (fresh index vs rdflib parse-everything-then-query).
        small = _subset(corpus, naive, work / f"crates-{naive}")
        runs_text = load_named_query("runs").text
        started = time.perf_counter()
        with CrateIndex(small, index=work / "index-small") as small_index:
            fast_count = len(small_index.query(load_named_query("runs")))
        fast = time.perf_counter() - started
        _report(results, f"embedded_end_to_end_s@{naive}", fast)
        _report(results, "embedded_rows", float(fast_count))
        # The query alone, once each side holds the crates: the index reopened (a later
        # `fedcrate sparql` call) vs rdflib's query on the Dataset it has already parsed.
        with CrateIndex(small, index=work / "index-small") as small_index:
            started = time.perf_counter()
            small_index.query(load_named_query("runs"))
            fast_again = time.perf_counter() - started
        _report(results, f"embedded_second_call_s@{naive}", fast_again)
        slow, naive_rows, naive_query = _naive_capped(small, runs_text, naive_memory_gb)
        if naive_rows < 0:
            print(f"  naive run exceeded {naive_memory_gb} GB; no ratio", flush=True)
        else:
            _report(results, f"naive_end_to_end_s@{naive}", slow)
            _report(results, f"naive_query_only_s@{naive}", naive_query)
            _report(results, "naive_rows", float(naive_rows))
            _report(results, f"speedup@{naive}", slow / fast)
            _report(results, f"query_only_speedup@{naive}", naive_query / fast_again)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def _index_times(corpus: Path, crates: int, work: Path, results: dict[str, float]) -> None:
    """Cold index, no-change re-index and warm named queries on the first `crates` crates."""
    from fedcrate.index import CrateIndex

    full = _subset(corpus, crates, work / f"crates-{crates}")
    started = time.perf_counter()
    index = CrateIndex(full, index=work / "index-full")
    report = index.refresh()
    cold = time.perf_counter() - started
    _report(results, f"cold_index_s@{crates}", cold)
    _report(results, f"cold_index_s_per_crate@{crates}", cold / crates)
    _report(results, f"quads@{crates}", float(index.quad_count()))
    assert not report.errors, report.errors
    index.close()
    # A new process would reopen the store: so does the no-change re-index.
    started = time.perf_counter()
    index = CrateIndex(full, index=work / "index-full")
    again = index.refresh()
    _report(results, f"nochange_reindex_s@{crates}", time.perf_counter() - started)
    assert again.unchanged == crates, again
    json_bytes = sum(
        (full / f"run-{i:05d}" / "ro-crate" / "ro-crate-metadata.json").stat().st_size
        for i in range(crates)
    )
    _report(results, f"index_disk_x_json@{crates}", _bytes(work / "index-full") / json_bytes)
    store_bytes = _bytes(work / "index-full" / "store")
    _report(results, f"store_disk_x_json@{crates}", store_bytes / json_bytes)
    for name in ("runs", "best-runs", "failed-runs", "frameworks"):
        seconds, rows = _warm(index, name)
        _report(results, f"warm_{name}_s@{crates}", seconds)
        _report(results, f"rows_{name}@{crates}", float(rows))
    one_run = f"<arcp://uuid,{uuid.UUID(int=crates // 2 + 1, version=4)}/#fl-run>"
    seconds, rows = _warm(index, "metric-history", run=one_run)
    _report(results, f"warm_metric-history-one-run_s@{crates}", seconds)
    _report(results, f"rows_metric-history-one-run@{crates}", float(rows))
    index.close()
    # One more crate in a new process's refresh: `fedcrate sparql` after one more run.
    extra = full / f"run-{crates:05d}"
    if not extra.exists():
        extra.symlink_to(corpus / f"run-{crates:05d}", target_is_directory=True)
    started = time.perf_counter()
    with CrateIndex(full, index=work / "index-full") as index:
        added = index.refresh()
    _report(results, f"add_one_crate_s@{crates}", time.perf_counter() - started)
    assert len(added.added) == 1, added
    extra.unlink()
    _report(results, f"max_rss_gb_so_far@{crates}", _max_rss_gb())
    shutil.rmtree(work / "index-full")


def _max_rss_gb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def stage_times(corpus: Path, count: int, folder: Path) -> dict[str, float]:
    """Seconds per crate of each indexing step, on `count` crates, in this process.

    Also the same crates in the two layouts the index no longer uses, side by side: one
    named graph per crate plus the merged default-graph copy (the first design), and
    named graphs only. Disk is reported as a multiple of the crates' JSON.
    """
    import pyoxigraph as ox

    from fedcrate.crate.reader import crate_base, load_document
    from fedcrate.index.ledger import Ledger
    from fedcrate.index.quads import crate_lines, fast_triples

    folder.mkdir(parents=True)
    paths = [corpus / f"run-{i:05d}" / "ro-crate" / "ro-crate-metadata.json" for i in range(count)]
    json_bytes = sum(path.stat().st_size for path in paths)
    totals = dict.fromkeys(("read", "triples", "text", "ledger", "load", "optimize"), 0.0)
    fast_triples(load_document(paths[0]), "arcp://uuid,warm-up/")  # the context, once
    texts: list[tuple[str, str]] = []
    ledger = Ledger(folder / "ledger")
    ledger.folder.mkdir()
    for path in paths:
        started = time.perf_counter()
        document = load_document(path)
        base = crate_base(document, path)
        totals["read"] += time.perf_counter() - started
        started = time.perf_counter()
        triples = fast_triples(document, base)
        totals["triples"] += time.perf_counter() - started
        started = time.perf_counter()
        lines: list[str] = []
        crate_lines(triples, lines)
        text = "".join(lines)
        totals["text"] += time.perf_counter() - started
        started = time.perf_counter()
        ledger.keep(base, text)
        totals["ledger"] += time.perf_counter() - started
        texts.append((base, text))
    layouts = {
        "load": "".join(text for _, text in texts),
        "load_named_graphs_and_default_copy": "".join(
            f"{text}<{base}> {{\n{text}}}\n" for base, text in texts
        ),
        "load_named_graphs_only": "".join(f"<{base}> {{\n{text}}}\n" for base, text in texts),
    }
    result: dict[str, float] = {}
    for name, text in layouts.items():
        store_folder = folder / name
        store = ox.Store(str(store_folder))
        started = time.perf_counter()
        store.bulk_load(text, ox.RdfFormat.TRIG, lenient=True)
        totals[name] = time.perf_counter() - started
        started = time.perf_counter()
        store.optimize()
        if name == "load":
            totals["optimize"] = time.perf_counter() - started
            result["stage_quads_per_crate"] = len(store) / count
        del store
        result[f"disk_x_json_{name}"] = _bytes(store_folder) / json_bytes
    result["disk_x_json_ledger"] = _bytes(ledger.folder) / json_bytes
    result.update({f"stage_{key}_s_per_crate": value / count for key, value in totals.items()})
    return result


def _naive_child(folder: str, query: str, memory_gb: float, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    limit = int(memory_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        started = time.perf_counter()
        rows, query_seconds = _naive(Path(folder), query)
        queue.put((time.perf_counter() - started, rows, query_seconds))
    except MemoryError:
        queue.put((0.0, -1, 0.0))


def _naive_capped(folder: Path, query: str, memory_gb: float) -> tuple[float, int, float]:
    """`_naive` in a spawned child with an address-space cap: (seconds, rows or -1, query s)."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_naive_child, args=(str(folder), query, memory_gb, queue))
    child.start()
    child.join()
    return queue.get() if not queue.empty() else (0.0, -1, 0.0)


def _naive(folder: Path, query: str) -> tuple[int, float]:
    """rdflib Dataset, one JSON-LD parse per crate (context inlined), then the query.

    Returns the rows and the seconds of the query alone.
    """
    from rdflib import Dataset, URIRef

    from fedcrate.crate import crate_base
    from fedcrate.rdf.jsonld import bundled_context
    from fedcrate.rdf.namespaces import register_arcp

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
    started = time.perf_counter()
    rows = len(list(dataset.query(query)))
    return rows, time.perf_counter() - started


if __name__ == "__main__":
    main()
