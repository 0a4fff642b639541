"""Session-wide real runs: one Flower simulation of the bundled demo app, shared.

A 3-round, 2-node simulation takes ~20-40 s here, so it runs once per session and every
integration test reads its crate.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fedcrate.demo.runner import DemoResult, run_demo
from tests.support.validator import find_validator_python

DEMO_ROUNDS = 3
DEMO_NODES = 2


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
