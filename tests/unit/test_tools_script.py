"""Issue 18, item 9: `tests/tools.sh` is quiet about Pythons it cannot use and says what it
installs system-wide (Chromium, through apt) before it installs it.

The script runs on a copy of itself in a scratch "repository" whose PATH holds only
stand-ins: pyenv-style shims that print a page of advice and exit 127 (what `python3.12`
does under pyenv when 3.12 is not active), and an `apt-get` that only reports its call.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.support.paths import REPO

PYENV_NOISE = """pyenv: {name}: command not found

The `{name}' command exists in these Python versions:
  3.12.1
"""


def _executable(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def scratch_repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    shutil.copy(REPO / "tests" / "tools.sh", repo / "tests" / "tools.sh")
    # The validator's venv is "there", so that block does nothing.
    validator = repo / ".venv-validator" / "bin"
    validator.mkdir(parents=True)
    _executable(validator / "rocrate-validator", "#!/bin/sh\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("python3.12", "python3.11", "python3.10", "python3"):
        noise = PYENV_NOISE.format(name=name)
        _executable(bin_dir / name, f"#!/bin/sh\ncat >&2 <<'NOISE'\n{noise}NOISE\nexit 127\n")
    _executable(bin_dir / "apt-get", '#!/bin/sh\necho "STAND-IN apt-get $*"\n')
    _executable(bin_dir / "sudo", '#!/bin/sh\n[ "$1" = -n ] && shift\nexec "$@"\n')
    for tool in ("dirname", "id", "cat"):
        found = shutil.which(tool)
        assert found is not None, tool
        os.symlink(found, bin_dir / tool)
    return repo, {"PATH": str(bin_dir), "HOME": str(tmp_path)}


def _run(repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    bash = shutil.which("bash")
    assert bash is not None
    return subprocess.run(
        [bash, str(repo / "tests" / "tools.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_missing_pythons_make_no_pyenv_noise(scratch_repo: tuple[Path, dict[str, str]]) -> None:
    done = _run(*scratch_repo)
    assert done.returncode == 0, done.stderr
    assert "pyenv" not in done.stderr and "command exists" not in done.stderr
    assert "no Python 3.9-3.12 for FEDn; its tests will say so" in done.stderr
    assert not (scratch_repo[0] / ".venv-fedn").exists()


def test_chromium_is_announced_before_apt_runs(scratch_repo: tuple[Path, dict[str, str]]) -> None:
    lines = _run(*scratch_repo).stdout.splitlines()
    announced = next(i for i, line in enumerate(lines) if "installing Chromium" in line)
    assert "apt-get install chromium" in lines[announced]
    # Said first, then done: the next line is the block's own first apt-get call.
    assert lines[announced + 1].startswith("STAND-IN apt-get update"), lines
