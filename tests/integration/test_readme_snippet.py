"""The README's "Recording a Flower app" snippet, run for real as its reader would run it.

The code block after `<!-- readme:app -->` in README.md becomes the ServerApp of a copy of
the demo app (tests/support/readme_app.py) and runs with `flwr run`: once in a simulation
(here) and once in the session's shared deployment (tests/integration/conftest.py, a second
`flwr run` on the SuperNodes the deployment tests use). Its relative `output_dir` lands
under `$FEDCRATE_HOME`; the model file it writes must be in the crate with its sha256, and
the crate must be valid, complete and say that it holds the model.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from rdflib import Graph, Literal, URIRef
from typer.testing import CliRunner

from fedcrate import read_crate
from fedcrate.cli import app
from fedcrate.demo.runner import DemoResult, run_app
from fedcrate.rdf.namespaces import FL, SDO
from tests.integration.conftest import DEPLOY_ROUNDS, SharedDeployment, succeeded
from tests.support.readme_app import build_readme_app, readme_snippet
from tests.support.validator import assert_crate_valid

pytestmark = pytest.mark.integration

ROUNDS = 2
MODEL = "final_model.npz"


NOTES: list[str] = []
FLOWER_LINES: list[str] = []


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoResult, Path]:
    """The snippet app in a Flower simulation; (its result, its $FEDCRATE_HOME)."""
    root = tmp_path_factory.mktemp("readme-simulation")
    home = root / "home"
    readme_app = build_readme_app(root / "app")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FEDCRATE_HOME", str(home))
        result = run_app(
            readme_app,
            home / "crates",
            {"num-server-rounds": ROUNDS},
            nodes=2,
            log=NOTES.append,
            flower_log=FLOWER_LINES.append,
        )
    return result, home


def _model(graph: Graph) -> URIRef:
    run = next(graph.subjects(SDO.instrument, None))
    [model] = [o for o in graph.objects(run, SDO.result) if str(o).endswith(MODEL)]
    assert isinstance(model, URIRef)
    return model


def _assert_records_the_model(crate: Path, home: Path, rounds: int) -> None:
    # The relative output_dir "crates" resolved under $FEDCRATE_HOME, not the SuperLink's cwd.
    assert crate.parent == (home / "crates").resolve()
    graph = read_crate(crate)
    model = _model(graph)
    data = (crate / MODEL).read_bytes()
    assert str(graph.value(model, SDO.sha256)) == hashlib.sha256(data).hexdigest()
    assert int(graph.value(model, SDO.contentSize)) == len(data)  # type: ignore[arg-type]
    with np.load(crate / MODEL) as arrays:  # what the snippet saved: weights and bias
        assert [arrays[k].shape for k in arrays.files] == [(64, 10), (10,)]
    run = next(graph.subjects(SDO.instrument, None))
    assert str(graph.value(run, SDO.actionStatus)).endswith("CompletedActionStatus")
    assert str(graph.value(run, SDO.name)) == "My federated run"  # the snippet's app_name
    shown = CliRunner().invoke(app, ["show", str(crate), "--format", "json"])
    assert shown.exit_code == 0, shown.output
    [view] = json.loads(shown.stdout)["runs"]
    assert [m["name"] for m in view["models"]] == [MODEL] and view["rounds"] == rounds
    verified = CliRunner().invoke(app, ["verify", str(crate)])
    assert verified.exit_code == 0, verified.output
    assert f"ok        {crate}: {MODEL}" in verified.stdout
    assert "NO MODEL" not in verified.stdout


def test_the_snippet_is_a_complete_app() -> None:
    snippet = readme_snippet()
    for needed in ("import", "app = ServerApp()", "@app.main()", "np.savez(", "record_result("):
        assert needed in snippet, needed
    compile(snippet, "README.md <!-- readme:app -->", "exec")  # valid Python as written


def test_the_snippet_records_its_model_in_a_simulation(
    simulated: tuple[DemoResult, Path],
) -> None:
    result, home = simulated
    _assert_records_the_model(result.crate_dir, home, ROUNDS)


def test_the_runner_keeps_flowers_lines_apart_from_its_own(
    simulated: tuple[DemoResult, Path],
) -> None:
    """What lets `fedcrate demo` show its own lines and leave Flower's out (issue 18, 7)."""
    assert any("Successfully started run" in line for line in FLOWER_LINES)
    assert any("[ROUND 1/" in line for line in FLOWER_LINES)
    assert any(line.startswith("fedcrate INFO: RO-Crate written to") for line in FLOWER_LINES)
    assert any(line.startswith("SuperLink (pid") for line in NOTES)
    assert any(line.startswith("Flower run ") for line in NOTES)
    assert not any("Successfully started run" in line or "[ROUND" in line for line in NOTES)
    # The snippet's metrics are the demo app's, all mapped or declared: no warning to act on.
    assert not any("has no IRI" in line for line in FLOWER_LINES)


def test_the_snippet_crate_from_a_simulation_is_valid(
    simulated: tuple[DemoResult, Path], validator_python: Path
) -> None:
    assert_crate_valid(simulated[0].crate_dir, validator_python)


def test_the_snippet_records_its_model_in_a_deployment(
    shared_deployment: SharedDeployment,
) -> None:
    result = succeeded(shared_deployment.readme)
    _assert_records_the_model(result.crate_dir, shared_deployment.readme_home, DEPLOY_ROUNDS)
    graph = read_crate(result.crate_dir)
    run = next(graph.subjects(SDO.instrument, None))
    assert graph.value(run, FL.runtimeMode) == Literal("deployment")


def test_the_snippet_crate_from_a_deployment_is_valid(
    shared_deployment: SharedDeployment, validator_python: Path
) -> None:
    assert_crate_valid(succeeded(shared_deployment.readme).crate_dir, validator_python)
