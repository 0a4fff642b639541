"""Validation tests keep prepared shapes in a temporary cache folder, never in ~/.cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True, scope="session")
def _prepared_shapes_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("fedcrate-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FEDCRATE_CACHE_DIR", str(folder))
        yield folder
