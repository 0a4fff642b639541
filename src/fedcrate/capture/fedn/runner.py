"""Finding and running FEDn's own command line (`fedn`), which lives in its own venv.

fedn 0.33 pins grpcio 1.70 / protobuf 5, Flower 1.42 needs newer ones, so fedcrate never
imports fedn: it runs the `fedn` executable named by `$FEDCRATE_FEDN`, else the one on
PATH, and that executable's interpreter for API reads.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from fedcrate.errors import FednNotFound

__all__ = [
    "fedn_environment",
    "fedn_version",
    "find_fedn",
    "find_fedn_python",
    "require_fedn",
]

FEDN_ENV_VAR = "FEDCRATE_FEDN"


def find_fedn() -> Path | None:
    """The `fedn` executable: `$FEDCRATE_FEDN`, else `fedn` on PATH, else None."""
    configured = os.environ.get(FEDN_ENV_VAR)
    if configured:
        path = Path(configured).expanduser()
        return path if path.is_file() else None
    found = shutil.which("fedn")
    return Path(found) if found else None


def find_fedn_python() -> Path | None:
    """The interpreter FEDn is installed in (beside its `fedn` script), or None."""
    fedn = find_fedn()
    if fedn is None:
        return None
    for name in ("python", "python3"):
        candidate = fedn.parent / name
        if candidate.is_file():
            return candidate
    return None


def require_fedn() -> Path:
    """`find_fedn()`, or raise `FednNotFound` saying how to install it."""
    fedn = find_fedn()
    if fedn is None:
        where = os.environ.get(FEDN_ENV_VAR)
        detail = f"{FEDN_ENV_VAR}={where} is not a file" if where else "no `fedn` on PATH"
        raise FednNotFound(
            f"FEDn not found ({detail}): install it in its own venv "
            f"(`python -m venv .venv-fedn && .venv-fedn/bin/pip install 'fedn==0.33.*'`) "
            f"and set {FEDN_ENV_VAR}=.venv-fedn/bin/fedn"
        )
    return fedn


def fedn_environment(fedn: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for FEDn subprocesses: its venv's `bin` first on PATH.

    Entry points are shell commands such as `python train.py`; with FEDn's venv first,
    `python` is the interpreter that has FEDn's helpers (`save_metadata`, numpyhelper).
    """
    env = dict(os.environ if base is None else base)
    env["PATH"] = str(fedn.parent) + os.pathsep + env.get("PATH", "")
    return env


@lru_cache(maxsize=8)
def fedn_version(fedn: Path) -> str | None:
    """The installed version of FEDn beside the `fedn` executable (None if unknown)."""
    python = fedn.parent / "python"
    if not python.is_file():
        return None
    try:
        result = subprocess.run(
            [str(python), "-c", "from importlib.metadata import version; print(version('fedn'))"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None
