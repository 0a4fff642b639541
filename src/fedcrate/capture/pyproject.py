"""Reading the Flower app's pyproject.toml (declared dependencies, fedcrate settings)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from fedcrate.errors import PyprojectError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["find_pyproject", "load_pyproject", "tool_table"]


def load_pyproject(path: Path) -> dict[str, Any]:
    """Parse `path` as TOML, raising `PyprojectError` that names the file and the problem."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise PyprojectError(
            f"{path}: no such file; pass pyproject_path= the absolute path of your app's "
            "pyproject.toml"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise PyprojectError(f"{path}: not valid TOML ({exc}); fix the file and rerun") from None
    except OSError as exc:
        raise PyprojectError(f"{path}: cannot be read ({exc.strerror})") from None


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above `start` (a file or folder), if any."""
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        path = candidate / "pyproject.toml"
        if path.is_file():
            return path
    return None


def tool_table(pyproject: dict[str, Any], *names: str) -> dict[str, Any]:
    """Merge `[tool.<name>]` tables; earlier names win (new name before legacy ones)."""
    merged: dict[str, Any] = {}
    tools = pyproject.get("tool", {})
    for name in reversed(names):
        table = tools.get(name, {})
        if isinstance(table, dict):
            for key, value in table.items():
                if isinstance(value, dict) and isinstance(merged.get(key), dict):
                    merged[key] = {**merged[key], **value}
                else:
                    merged[key] = value
    return merged
