"""A real FEDn session on loopback (controller, combiner, 2 clients, moto S3, SQLite),
read through FEDn's APIClient and recorded with `fedcrate fedn session`.

About 30-60 s: the network starts once per module and is stopped by PID at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fedcrate.cli import app
from fedcrate.crate import read_crate
from fedcrate.index import CrateIndex
from fedcrate.rdf.namespaces import FL, PROV, SDO
from fedcrate.validate import validate
from tests.integration.fedn_network import FednNetwork, fedn_network, run_session, use_fedn

pytestmark = pytest.mark.integration

ROUNDS = 2
TOKEN = "fedn-integration-token-8d8af5fb"
FLOWER_CRATE = (
    Path(__file__).resolve().parents[1] / "data" / "crates" / "fedcrate" / "valid" / "completed"
)


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FednNetwork]:
    python = use_fedn().parent / "python"
    probe = subprocess.run(
        [str(python), "-c", "import moto.server"], capture_output=True, check=False
    )
    if probe.returncode != 0:
        message = "moto[server] is not installed in FEDn's venv (the S3 stand-in)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with fedn_network(tmp_path_factory.mktemp("fedn-network")) as net:
        yield net


@pytest.fixture(scope="module")
def session_crate(network: FednNetwork, tmp_path_factory: pytest.TempPathFactory) -> Path:
    session_id = run_session(network, rounds=ROUNDS)
    out = tmp_path_factory.mktemp("fedn-crates")
    args = ["fedn", "session", "--api", f"127.0.0.1:{network.api_port}", "--session", session_id]
    args += ["--token", TOKEN, "--out", str(out), "--author", "Ada Lovelace"]
    args += ["--license", "Apache-2.0", "--dataset", "https://example.org/synthetic-regression"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return out / "ro-crate"


def test_session_crate_passes_the_fl_profile(session_crate: Path) -> None:
    report = validate(session_crate)
    assert report.profile == "fedcrate-0.1" and report.conforms, report.findings


def test_session_crate_holds_trail_rounds_and_metrics(session_crate: Path) -> None:
    graph = read_crate(session_crate)
    (run,) = graph.subjects(FL.sessionId, None)
    assert int(graph.value(run, FL.numRounds)) == ROUNDS
    rounds = list(graph.objects(run, FL.fednRound))
    assert len(rounds) == ROUNDS
    seed = graph.value(run, FL.seedModel)
    model = next(
        f for f in graph.objects(run, SDO.result) if str(f).endswith(".npz")
    )  # the final model, downloaded from FEDn's object store
    chain = list(graph.transitive_objects(model, PROV.wasDerivedFrom))
    assert chain[-1] == seed and len(chain) == ROUNDS + 1
    metrics = {
        str(graph.value(series, SDO.name))
        for series in graph.objects(run, SDO.result)
        if (series, FL.roundValue, None) in graph
    }
    assert metrics == {"test_loss", "test_r2", "train_loss", "train_r2"}
    parts = list(graph.objects(run, FL.participation))
    assert len(parts) == 2 * ROUNDS


def test_token_and_client_names_stay_out(session_crate: Path) -> None:
    for path in session_crate.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert TOKEN.encode() not in data, path
    document = json.loads((session_crate / "ro-crate-metadata.json").read_text())
    names = {e.get("name") for e in document["@graph"]}
    assert "client-0" not in names and "client-1" not in names
    assert {"client 1", "client 2"} <= names


def test_runs_lists_flower_and_fedn_crates(session_crate: Path, tmp_path: Path) -> None:
    folder = tmp_path / "crates"
    shutil.copytree(FLOWER_CRATE, folder / "flower")
    shutil.copytree(session_crate, folder / "fedn")
    with CrateIndex(folder) as index:
        rows = index.query("runs").records()
    assert {r["strategy"] for r in rows} == {"FedProx", "fedavg"}
    assert all(r["status"] == "Completed" and r["rounds"] is not None for r in rows)
    assert all(r["finalMetrics"] for r in rows)
