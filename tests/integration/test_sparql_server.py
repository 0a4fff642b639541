"""Scale-out against a real Oxigraph server: push crates, run the shipped queries remotely.

The server (PyPI `oxigraph`, its `oxigraph serve` command) runs on a free 127.0.0.1 port
for this module and is stopped by its PID. Results must equal the embedded engine's.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from fedcrate.index import CrateIndex
from fedcrate.index.quads import crate_nquads
from fedcrate.index.queries import load_named_query, named_queries
from fedcrate.index.remote import Endpoints, push, remote_query
from tests.unit.index.test_store import _normalised, write_corpus

pytestmark = pytest.mark.integration


def _oxigraph_binary() -> str | None:
    beside = Path(sys.executable).with_name("oxigraph")
    return str(beside) if beside.is_file() else shutil.which("oxigraph")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = _oxigraph_binary()
    if binary is None:
        message = "the Oxigraph server is not installed: pip install oxigraph"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs the test extra; missing there is a defect
        pytest.skip(message)
    port = _free_port()
    location = tmp_path_factory.mktemp("oxigraph")
    log = (location / "server.log").open("w")
    process = subprocess.Popen(
        [binary, "serve", "--location", str(location / "db"), "--bind", f"127.0.0.1:{port}"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/query?query=ASK%7B%7D", timeout=1):
                    break
            except (urllib.error.URLError, OSError):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"oxigraph serve did not start: {(location / 'server.log').read_text()}"
                    )
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()  # by PID: only the process this fixture started
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("crates"))


def _quad_count(endpoints: Endpoints) -> int:
    result = remote_query(endpoints, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    value = result.rows[0][0]
    assert isinstance(value, int)
    return value


def test_push_is_idempotent_and_remote_results_equal_embedded(
    server: str, corpus: Path, tmp_path: Path
) -> None:
    endpoints = Endpoints.from_url(server)
    report = push([corpus], endpoints)
    assert len(report.pushed) == 3 and not report.errors
    count = _quad_count(endpoints)
    again = push([corpus], endpoints)
    assert len(again.pushed) == 3
    assert _quad_count(endpoints) == count  # replaced, not duplicated

    with CrateIndex(corpus, index=tmp_path / "index") as index:
        index.refresh()
        # The store holds each crate as its own named graph: their sizes add up.
        crates = sorted(corpus.glob("*/ro-crate/ro-crate-metadata.json"))
        assert count == sum(len(set(crate_nquads(m)[1].splitlines())) for m in crates)
        for name in named_queries():
            query = load_named_query(name)
            remote = remote_query(endpoints, query)
            local = index.query(query)
            assert remote.columns == local.columns, name
            assert len(remote) > 0, name
            assert _normalised(remote) == _normalised(local), name
        loss_remote = remote_query(endpoints, "best-runs", {"metric": "loss"})
        assert _normalised(loss_remote) == _normalised(index.query("best-runs", {"metric": "loss"}))


def test_cli_push_and_remote_sparql(server: str, corpus: Path) -> None:
    cli = [sys.executable, "-c", "from fedcrate.cli import main; main()"]
    pushed = subprocess.run(
        [*cli, "push", str(corpus), "--endpoint", server, "-q"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert pushed.returncode == 0, pushed.stderr
    done = subprocess.run(
        [*cli, "sparql", "failed-runs", "--endpoint", server, "--format", "json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [(r["name"], r["error"]) for r in json.loads(done.stdout)] == [("run c", "boom")]
    bad = subprocess.run(
        [*cli, "sparql", "SELECT * WHERE {\n ?s ?p }", "--endpoint", server],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "2:" in bad.stderr


def test_union_default_graph_parameter_reaches_named_graphs(server: str, corpus: Path) -> None:
    endpoints = Endpoints.from_url(server)
    push([corpus], endpoints, maintain_default_graph=False)
    result = remote_query(
        endpoints,
        "SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE { ?r a <http://schema.org/CreateAction> }",
        union_default_graph=True,
    )
    assert result.rows == [(3,)]
