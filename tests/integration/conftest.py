"""Session-wide real runs: one Flower simulation of the bundled demo app, shared, and one
local deployment (a SuperLink and two SuperNodes) that runs two apps.

A 3-round, 2-node simulation takes ~20-40 s here, so it runs once per session and every
integration test reads its crate. The deployment (~40-60 s to start and run the demo app)
also runs the README's snippet app with a second `flwr run` on the same SuperNodes, which
costs that run only (~15 s) instead of a second deployment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from fedcrate.demo.runner import APP_DIR, AppRun, DemoResult, run_apps, run_demo
from fedcrate.errors import DemoError
from tests.support.readme_app import build_readme_app
from tests.support.validator import find_validator_python

DEMO_ROUNDS = 3
DEMO_NODES = 2
DEPLOY_NODES = 2
DEPLOY_ROUNDS = 2


@dataclass(frozen=True)
class SharedDeployment:
    """The two runs of the session's deployment, each its crate or why it failed."""

    demo: DemoResult | DemoError
    readme: DemoResult | DemoError
    readme_home: Path
    """$FEDCRATE_HOME of the README app's run: its relative output_dir is under it."""


def succeeded(outcome: DemoResult | DemoError) -> DemoResult:
    """The run's result; a failed run fails the test that needs it (and only that one)."""
    if isinstance(outcome, DemoError):
        raise outcome
    return outcome


@pytest.fixture(scope="session")
def shared_deployment(tmp_path_factory: pytest.TempPathFactory) -> SharedDeployment:
    """The bundled app, then the README's snippet app, on one real local deployment."""
    root = tmp_path_factory.mktemp("deployment")
    home = root / "readme-home"
    readme_app = build_readme_app(root / "readme-app")
    config = {"num-server-rounds": DEPLOY_ROUNDS, "min-nodes": DEPLOY_NODES}
    with pytest.MonkeyPatch.context() as patch:
        # The snippet's output_dir is relative: under $FEDCRATE_HOME, set for the SuperLink
        # and SuperNodes, whose environment the ServerApp inherits.
        patch.setenv("FEDCRATE_HOME", str(home))
        demo, readme = run_apps(
            [AppRun(APP_DIR, root / "demo", config), AppRun(readme_app, home / "crates", config)],
            nodes=DEPLOY_NODES,
            mode="deployment",
            timeout=600,
        )
    return SharedDeployment(demo, readme, home)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    """The bundled app run for real: Flower simulation, own FLWR_HOME and ports."""
    return run_demo(tmp_path_factory.mktemp("demo"), rounds=DEMO_ROUNDS, nodes=DEMO_NODES)


@pytest.fixture(scope="session")
def demo_crate(demo_run: DemoResult) -> Path:
    return demo_run.crate_dir


@pytest.fixture(scope="session")
def validator_python() -> Path:
    """The official validator's interpreter (its own venv: it needs rich<14, flwr rich>=14)."""
    python = find_validator_python()
    if python is None:
        message = (
            "the official rocrate-validator is not installed: create it with "
            "`python -m venv .venv-validator && "
            ".venv-validator/bin/pip install roc-validator==0.13.0` "
            "or set FEDCRATE_VALIDATOR_PYTHON"
        )
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it; a missing validator there is a defect
        pytest.skip(message)
    return python
