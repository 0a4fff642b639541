"""The `fedcrate` command's surface: help, usage errors and their exit codes.

The demo itself runs for real in CI through the README's set-up command, and the shared
simulation in tests/integration covers what it records.
"""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from fedcrate.cli import app

runner = CliRunner()


def test_help_lists_the_demo() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "demo" in result.output


def test_bad_option_is_a_usage_error_with_exit_code_2() -> None:
    result = runner.invoke(app, ["demo", "--nodes", "1"])
    assert result.exit_code == 2
    assert "--nodes" in result.output


def test_console_script_entry_point() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from fedcrate.cli import main; main()", "demo", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "--rounds" in done.stdout and "--out" in done.stdout
