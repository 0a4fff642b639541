"""Where the test data and the repository are, for tests at any depth of the tree."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"

__all__ = ["DATA", "REPO"]
