"""Deployment runtime for real: `flower-superlink` + two `flower-supernode`s on 127.0.0.1.

The bundled app runs with `flwr run <app> <connection> --stream` against our own
SuperLink (own FLWR_HOME, free ports, --insecure, runtime dependency installation off);
every process is stopped by PID when the runner returns (see fedcrate.demo.runner).
About 40-60 s here, once per session: the session's shared deployment
(tests/integration/conftest.py), which also runs the README's snippet app.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from typer.testing import CliRunner

from fedcrate import read_crate
from fedcrate.cli import app
from fedcrate.crate.journal import JOURNAL_PREFIX
from fedcrate.demo.runner import APP_DIR, DemoResult, run_app
from fedcrate.errors import DemoError
from fedcrate.rdf.namespaces import FL, SDO
from tests.integration.conftest import (
    DEPLOY_NODES,
    DEPLOY_ROUNDS,
    SharedDeployment,
    succeeded,
)
from tests.support.validator import assert_crate_valid

pytestmark = pytest.mark.integration

NODES = DEPLOY_NODES
ROUNDS = DEPLOY_ROUNDS


@pytest.fixture(scope="module")
def deployed(shared_deployment: SharedDeployment) -> DemoResult:
    """The demo app's run on the session's deployment (tests/integration/conftest.py)."""
    return succeeded(shared_deployment.demo)


@pytest.fixture(scope="module")
def graph(deployed: DemoResult) -> Graph:
    return read_crate(deployed.crate_dir)


def _run(graph: Graph) -> URIRef:
    run = next(graph.subjects(FL.runtimeMode, None))
    assert isinstance(run, URIRef)
    return run


def test_federation_facts_match_what_flower_reports(deployed: DemoResult, graph: Graph) -> None:
    run = _run(graph)
    assert graph.value(run, FL.runtimeMode) == Literal("deployment")
    assert graph.value(run, FL.nodeCount).toPython() == NODES  # type: ignore[union-attr]
    assert len(set(graph.objects(run, FL.nodeIdDigest))) == NODES
    # The run id the crate states is the one `flwr ls --format json` lists.
    assert deployed.flwr_ls is not None and deployed.run_id is not None
    assert str(deployed.flwr_ls["run-id"]) == deployed.run_id
    assert str(graph.value(run, FL.runId)) == deployed.run_id
    assert str(graph.value(run, FL.fabHash)) == deployed.flwr_ls["fab-hash"]
    assert str(graph.value(run, FL.federationId)) == deployed.flwr_ls["federation-id"]
    assert str(deployed.flwr_ls["status"]) == "finished:completed"


def test_security_posture_is_stated_as_facts(graph: Graph) -> None:
    run = _run(graph)
    # --insecure everywhere, and SuperNodes registered themselves (no node authentication).
    assert graph.value(run, FL.tlsEnabled) == Literal(False)
    assert graph.value(run, FL.nodeAuthenticationEnabled) == Literal(False)
    address = str(graph.value(run, FL.superlinkAddress))
    assert address.startswith("127.0.0.1:")


def test_participation_every_round(graph: Graph) -> None:
    rows = graph.query(
        """
        PREFIX fl: <https://w3id.org/fedcrate/fl#>
        SELECT ?round ?side ?sampled ?received ?failed ?examples WHERE {
          ?run fl:participation [ fl:round ?round ; fl:side ?side ; fl:nodesSampled ?sampled ;
               fl:repliesReceived ?received ; fl:repliesFailed ?failed ;
               fl:examplesAggregated ?examples ] .
        } ORDER BY ?round ?side"""
    )
    seen = {(int(r.round), str(r.side).rsplit("#", 1)[-1]) for r in rows}  # type: ignore[union-attr]
    assert seen == {(r, s) for r in (1, 2) for s in ("ClientTraining", "ClientEvaluation")}
    for row in rows:
        assert (int(row.sampled), int(row.received), int(row.failed)) == (NODES, NODES, 0)  # type: ignore[union-attr]
        assert int(row.examples) > 0  # type: ignore[union-attr]


def test_run_completed_and_crate_is_valid(
    deployed: DemoResult, graph: Graph, validator_python: Path
) -> None:
    run = _run(graph)
    assert str(graph.value(run, SDO.actionStatus)).endswith("CompletedActionStatus")
    assert_crate_valid(deployed.crate_dir, validator_python)


def _journal_round(out: Path) -> int:
    """The highest round the run's journal holds so far (-1: none yet)."""
    best = -1
    for journal in out.glob(f"{JOURNAL_PREFIX}*.jsonl"):
        for line in journal.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # the line being written right now
            if entry.get("event") == "observations":
                best = max([best, *(int(item["round"]) for item in entry["items"])])
    return best


def test_flwr_stop_never_loses_the_run(tmp_path: Path) -> None:
    """`flwr stop` ends a deployment run mid-way; the rounds done are never lost.

    In flwr 1.42 the ServerApp process then leaves through Flower's own exit path (a
    SystemExit or a KeyboardInterrupt in its main thread, or a signal from the runtime's
    clean-up; all three were seen here). When it unwinds
    through the tracker the crate is written, marked failed; when it is killed before that,
    its journal remains and `fedcrate recover` writes the crate. Either way: a failed run
    with rounds 0-2.
    """
    out, home = tmp_path / "out", tmp_path / "flwr-home"
    home.mkdir()
    seen: dict[str, str] = {}
    stop: dict[str, subprocess.CompletedProcess[str]] = {}

    def watch(line: str) -> None:  # the runner's log: the SuperLink's port and the run id
        if match := re.search(r"listening on 127\.0\.0\.1:(\d+)", line):
            seen["port"] = match.group(1)
        if match := re.search(r"Successfully started run (\d+)", line):
            seen["run"] = match.group(1)

    def stop_after_round_two() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and (
            "run" not in seen or "port" not in seen or _journal_round(out) < 2
        ):
            time.sleep(0.3)
        (home / "config.toml").write_text(
            f'[superlink]\ndefault = "link"\n[superlink.link]\n'
            f'address = "127.0.0.1:{seen.get("port")}"\ninsecure = true\n'
        )
        stop["result"] = subprocess.run(
            [str(Path(sys.executable).parent / "flwr"), "stop", seen.get("run", "0"), "link"],
            env={**os.environ, "FLWR_HOME": str(home)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    stopper = threading.Thread(target=stop_after_round_two, daemon=True)
    stopper.start()
    with pytest.raises(DemoError, match="finished:stopped"):
        run_app(
            APP_DIR,
            out,
            {"num-server-rounds": 50, "min-nodes": NODES},
            nodes=NODES,
            mode="deployment",
            timeout=400,
            log=watch,
        )
    stopper.join(timeout=60)
    assert stop["result"].returncode == 0, stop["result"].stderr
    # Every process is stopped by now.
    if not (out / "ro-crate").exists():
        assert list(out.glob(f"{JOURNAL_PREFIX}*")), "neither a crate nor a journal: run lost"
        recovered = CliRunner().invoke(app, ["recover", str(out)])
        assert recovered.exit_code == 0, recovered.output
    graph = read_crate(out / "ro-crate")
    run = _run(graph)
    assert str(graph.value(run, SDO.actionStatus)).endswith("FailedActionStatus")
    error = str(graph.value(run, SDO.error))
    assert "before the run finished" in error or "Interrupted" in error or "SIGTERM" in error
    rounds = {
        int(graph.value(v, FL.round))  # type: ignore[arg-type]
        for series in graph.objects(run, SDO.result)
        for v in graph.objects(series, FL.roundValue)
    }
    assert {0, 1, 2} <= rounds and max(rounds) < 50
    assert not list(out.glob(f"{JOURNAL_PREFIX}*")), "the journal goes once the crate exists"


def test_model_lineage_across_supernodes(deployed: DemoResult, graph: Graph) -> None:
    from fedcrate.crate.verify import verify_crate

    run = _run(graph)
    rounds = sorted(int(graph.value(s, FL.round)) for s in graph.objects(run, FL.modelState))  # type: ignore[arg-type]
    assert rounds == list(range(ROUNDS + 1))
    report = verify_crate(deployed.crate_dir)
    assert report.ok and report.lineage_states == ROUNDS + 1, report
