"""Per-round model lineage (issue 15, part 4): digests, the chain, and `fedcrate verify`.

The strategy is a real FedAvg subclass whose `configure_*` send nothing (no network in a
unit test); the tracker wraps the instance as in a real run, so the arrays it hashes are
the ones `Strategy.start` would hand over.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flwr.app import ArrayRecord, ConfigRecord, Context, RecordDict
from flwr.serverapp.strategy import FedAvg, Result
from rdflib import Literal
from typer.testing import CliRunner

from fedcrate import FLCrateTracker, read_crate
from fedcrate.capture.lineage import arrays_digest, save_arrays_npz
from fedcrate.cli import app
from fedcrate.crate.verify import verify_crate
from fedcrate.rdf.namespaces import FL, PROV, SDO

ROUNDS = 3


class Offline(FedAvg):
    """Sends no messages: the rounds' arrays still pass through `configure_*`."""

    def configure_train(self, server_round: int, arrays: Any, config: Any, grid: Any) -> list:
        return []

    def configure_evaluate(self, server_round: int, arrays: Any, config: Any, grid: Any) -> list:
        return []


def _arrays(step: int) -> ArrayRecord:
    return ArrayRecord([np.full((2, 3), float(step), dtype=np.float32), np.arange(4) + step])


def _context() -> Context:
    return Context(
        run_id=3,
        node_id=0,
        node_config={},
        state=RecordDict(),
        run_config={"num-server-rounds": ROUNDS},  # type: ignore[arg-type]
    )


def _lineage_crate(out: Path, *, lineage: bool = True) -> Path:
    strategy = Offline()
    with FLCrateTracker(
        _context(),
        strategy,
        output_dir=out,
        app_name="lineage",
        license="MIT",
        record_model_lineage=lineage,
    ) as tracker:
        for server_round in range(1, ROUNDS + 1):
            strategy.configure_train(server_round, _arrays(server_round - 1), ConfigRecord(), None)
            strategy.configure_evaluate(server_round, _arrays(server_round), ConfigRecord(), None)
        tracker.record_result(Result(arrays=_arrays(ROUNDS)))
    assert tracker.crate is not None
    return tracker.crate.path


def test_the_digest_is_the_saved_files_sha256_and_numpy_reads_it(tmp_path: Path) -> None:
    arrays = _arrays(7)
    digest, size = arrays_digest(arrays)
    assert arrays_digest(_arrays(7)) == (digest, size), "deterministic"
    assert arrays_digest(_arrays(8))[0] != digest
    path = tmp_path / "m.npz"
    assert save_arrays_npz(arrays, path) == (digest, size)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    loaded = np.load(path)
    for key, array in arrays.items():
        np.testing.assert_array_equal(loaded[key], array.numpy())


def test_one_state_per_round_chained_to_the_saved_model(tmp_path: Path) -> None:
    crate = _lineage_crate(tmp_path)
    graph = read_crate(crate)
    run = next(graph.subjects(FL.modelState, None))
    states = {int(graph.value(s, FL.round)): s for s in graph.objects(run, FL.modelState)}  # type: ignore[arg-type]
    assert sorted(states) == list(range(ROUNDS + 1))
    for server_round, state in states.items():
        assert graph.value(state, SDO.sha256) == Literal(arrays_digest(_arrays(server_round))[0])
        if server_round:
            assert (state, PROV.wasDerivedFrom, states[server_round - 1]) in graph
            assert (state, PROV.wasGeneratedBy, run) in graph
    assert (run, PROV.used, states[0]) in graph
    [model] = list(graph.objects(states[ROUNDS], FL.savedAs))
    assert str(model).endswith("final_model.npz")
    assert graph.value(model, SDO.sha256) == graph.value(states[ROUNDS], SDO.sha256)
    report = verify_crate(crate)
    assert report.ok and report.lineage_states == ROUNDS + 1
    result = CliRunner().invoke(app, ["verify", str(crate)])
    assert result.exit_code == 0 and f"{ROUNDS + 1} states chained" in result.output


def _edit(crate: Path, change: Any) -> None:
    path = crate / "ro-crate-metadata.json"
    document = json.loads(path.read_text())
    for entity in document["@graph"]:
        change(entity)
    path.write_text(json.dumps(document))


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (
            lambda e: e.pop("wasDerivedFrom", None) if e["@id"] == "#model-state-2" else None,
            "round 2: not derived from round 1's state",
        ),
        (
            lambda e: e.update(sha256="0" * 64) if e["@id"] == f"#model-state-{ROUNDS}" else None,
            "whose sha256 is not the state's",
        ),
    ],
)
def test_verify_reports_a_broken_chain(tmp_path: Path, tamper: Any, expected: str) -> None:
    crate = _lineage_crate(tmp_path)
    _edit(crate, tamper)
    report = verify_crate(crate)
    assert not report.ok and any(expected in p for p in report.lineage_problems), report
    result = CliRunner().invoke(app, ["verify", str(crate)])
    assert result.exit_code == 1 and expected in result.output


def test_verify_reports_a_gap(tmp_path: Path) -> None:
    crate = _lineage_crate(tmp_path)
    graph_doc = json.loads((crate / "ro-crate-metadata.json").read_text())
    graph_doc["@graph"] = [e for e in graph_doc["@graph"] if e["@id"] != "#model-state-1"]
    for entity in graph_doc["@graph"]:
        if entity["@id"] == "#model-state-2":
            entity.pop("wasDerivedFrom", None)
    (crate / "ro-crate-metadata.json").write_text(json.dumps(graph_doc))
    assert any("a gap" in p for p in verify_crate(crate).lineage_problems)


def test_off_by_default_and_nothing_hashed(tmp_path: Path) -> None:
    crate = _lineage_crate(tmp_path, lineage=False)
    assert not list(read_crate(crate).subjects(None, FL.ModelState))
    assert verify_crate(crate).lineage_states == 0
