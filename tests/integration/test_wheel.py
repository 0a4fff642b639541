"""The built wheel, installed without `-e`: everything a user installs fedcrate for works.

An editable install reads `shapes/` and `vocab/` from the checkout, so it hid that the
wheel once packed `vocab/` only (`fedcrate validate` failed with a FileNotFoundError for
every user of the wheel). Here the wheel is built from this checkout, unpacked into a
folder of its own and run from another folder, so only what the wheel holds is used;
`.ci/wheel-check` does the same in a fresh virtualenv with the dependencies from PyPI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.paths import DATA, REPO

pytestmark = pytest.mark.integration

VALID = DATA / "crates" / "fedcrate" / "valid"


def _pip(*args: str) -> None:
    """pip, offline: no dependency resolution, no index, no build isolation."""
    subprocess.run(
        [sys.executable, "-m", "pip", *args, "--no-deps", "-q"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _pip("wheel", "--no-build-isolation", "-w", str(out), str(REPO))
    [built] = out.glob("fedcrate-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    _pip("install", "--no-index", "--target", str(target), str(wheel))
    return target


def _fedcrate(installed: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # The unpacked wheel comes first on the path: the checkout's editable hook is never used.
    env = {**os.environ, "PYTHONPATH": str(installed), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "fedcrate", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_the_wheel_holds_every_asset(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("shapes", "vocab"):
        shipped = {p.relative_to(REPO).as_posix() for p in (REPO / folder).rglob("*.ttl")}
        packed = {n.removeprefix("fedcrate/_assets/") for n in names}
        assert shipped and shipped <= packed, f"{folder}/ missing from the wheel"
    assert {"fedcrate/queries/runs.rq", "fedcrate/data/preview.html"} <= names
    assert "fedcrate/data/ro-crate-1.2-context.jsonld" in names
    assert "fedcrate/py.typed" in names


def test_the_installed_wheel_is_what_runs(installed: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import fedcrate; print(fedcrate.__file__)"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(installed)},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert Path(done.stdout.strip()).is_relative_to(installed)


def test_validate_show_verify_and_sparql_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    crates = tmp_path / "crates"
    shutil.copytree(VALID, crates)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for args, code in [
        (["validate", *(str(p) for p in sorted(crates.iterdir()))], 0),
        (
            ["validate", str(DATA / "crates" / "fl-crate" / "invalid" / "TrainingDatasetInObject")],
            1,
        ),
        (["validate", str(DATA / "crates" / "fl-crate" / "invalid" / "RunName")], 0),
        (["validate", "--strict", str(DATA / "crates" / "fl-crate" / "invalid" / "RunName")], 1),
        (["show", str(crates / "completed")], 0),
        (["verify", str(crates / "completed")], 0),
        (["sparql", "runs", str(crates), "--format", "json"], 0),
    ]:
        done = _fedcrate(installed, elsewhere, *args)
        assert done.returncode == code, (args, done.stdout[-2000:], done.stderr[-2000:])
        assert "Traceback" not in done.stdout + done.stderr, args
