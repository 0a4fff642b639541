"""The `fedcrate` command's surface: help, usage errors and their exit codes.

The demo itself runs for real in CI through the README's set-up command, and the shared
simulation in tests/integration covers what it records.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
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


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["show", "{missing}"], 2, "no such file or folder"),
        (["verify", "{missing}"], 2, "no such file or folder"),
        (["zip", "{missing}"], 2, ""),
        (["recover", "{missing}"], 2, ""),
        (["fedn", "package", "{missing}", "--crate", "{tmp}/crate"], 2, ""),
        (["export", "mlflow", "{missing}", "--tracking-uri", "sqlite:///{tmp}/m.db"], 2, ""),
    ],
    ids=["show", "verify", "zip", "recover", "fedn package", "export mlflow"],
)
def test_every_command_group_maps_library_errors_to_one_line_and_its_exit_code(
    tmp_path: Path, args: list[str], code: int, says: str
) -> None:
    """One handler (the root group) serves every command, nested groups included."""
    missing = tmp_path / "missing"
    argv = [a.format(missing=missing, tmp=tmp_path) for a in args]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines and lines[0].startswith("error:"), result.output
    assert says in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_demo_without_the_demo_extra_names_it_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Injected fault: scikit-learn is not installed (a plain `pip install fedcrate`)."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a, **k: None if name == "sklearn" else real(name, *a, **k),
    )
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path)], env={"COLUMNS": "400"})
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        "error: the demo needs Flower and scikit-learn (sklearn missing); install them "
        "with: pip install 'fedcrate[demo]'"
    ]
    assert not any(tmp_path.iterdir()), "nothing started, nothing written"
