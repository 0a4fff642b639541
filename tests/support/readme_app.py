"""The README's "Recording a Flower app" snippet, made into a Flower app the tests run.

The snippet is the ServerApp of the bundled demo app (its `task.py` holds the model and
the data), so the app is the demo app's folder with the snippet as its `server_app.py`,
exactly as the README tells a reader to try it. It is read from the README each time, so
CI runs what the README shows, not a copy that could drift from it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from fedcrate.demo.runner import APP_DIR
from tests.support.paths import REPO

README = REPO / "README.md"
MARKER = "<!-- readme:app -->"
APP_NAME = "readme-app"
"""The FAB's name: not the demo's, so a shared federation keeps the two FABs apart."""


def readme_snippet(readme: Path = README) -> str:
    """The Python code block right after the README's `<!-- readme:app -->` marker.

    Raises:
        AssertionError: the marker or its code block is missing (the README was edited).
    """
    text = readme.read_text(encoding="utf-8")
    found = re.search(re.escape(MARKER) + r"\s*```python\n(.*?)```", text, flags=re.DOTALL)
    assert found, f"{readme}: no ```python block right after {MARKER}"
    return found.group(1)


def build_readme_app(dest: Path) -> Path:
    """The demo app copied to `dest`, with the README's snippet as its ServerApp."""
    shutil.copytree(APP_DIR, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (dest / "fedcrate_demo_app" / "server_app.py").write_text(readme_snippet(), encoding="utf-8")
    pyproject = dest / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    renamed = text.replace('name = "fedcrate-demo"', f'name = "{APP_NAME}"', 1)
    assert renamed != text, "the demo app's pyproject no longer names its project fedcrate-demo"
    pyproject.write_text(renamed, encoding="utf-8")
    return dest
