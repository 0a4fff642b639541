"""`ro-crate-preview.html` rendered by a real headless Chromium, offline.

Skipped only when no Chromium binary exists (CI installs the Debian `chromium` package).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import replace
from html import unescape
from pathlib import Path

import pytest

from fedcrate import read_crate, write_crate
from fedcrate.record import RunRecord, RunStatus
from fedcrate.views.model import describe, format_value
from fedcrate.views.preview import PREVIEW_FILE

pytestmark = pytest.mark.integration

_BINARIES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Offline and reproducible: no sandbox (CI runs as root), no GPU, no background traffic.
_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


@pytest.fixture(scope="module")
def chromium() -> str:
    for name in _BINARIES:
        found = shutil.which(name)
        if found:
            return found
    message = (
        "no Chromium binary (looked for " + ", ".join(_BINARIES) + "); "
        "install it with `apt-get install -y chromium`"
    )
    if os.environ.get("CI"):
        pytest.fail(message)  # .ci/run installs it; a missing browser there is a defect
    pytest.skip(message)


def _browse(chromium: str, page: Path, profile: Path, *extra: str) -> str:
    done = subprocess.run(
        [chromium, *_FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _dom_text(dom: str) -> str:
    """The DOM's text with tags removed and whitespace collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", dom)))


def test_the_demo_crate_preview_renders_in_chromium(
    demo_crate: Path, chromium: str, tmp_path: Path
) -> None:
    page = demo_crate / PREVIEW_FILE
    assert page.is_file(), "the tracker's crate writer must write the preview"
    dom = _browse(chromium, page, tmp_path / "profile", "--dump-dom")
    [view] = describe(read_crate(demo_crate))
    assert '<span class="status status-Completed" id="status">Completed</span>' in dom
    assert f'<span id="rounds">{view.rounds}</span>' in dom and view.rounds == 3
    text = _dom_text(dom)
    assert view.name in text
    assert view.final_metrics, "the demo records final metrics"
    for metric in view.final_metrics:
        assert f"{metric.metric} {format_value(metric.value)} {metric.round}" in text, metric
    assert dom.count("<polyline") == sum(1 for _ in view.history)

    shot = tmp_path / "preview.png"
    _browse(chromium, page, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1200,2000")
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000


def test_a_failed_run_with_hostile_text_renders_safely(
    tmp_path: Path, record_factory: Callable[..., RunRecord], chromium: str
) -> None:
    record = replace(
        record_factory(),
        name='<img src=x onerror="document.title=1">run',
        status=RunStatus.FAILED,
        error="<script>document.body.innerHTML=''</script>boom",
    )
    crate = write_crate(record, tmp_path / "out").path
    dom = _browse(chromium, crate / PREVIEW_FILE, tmp_path / "profile", "--dump-dom")
    assert 'id="status">Failed</span>' in dom
    assert "<script" not in dom and "<img" not in dom
    text = _dom_text(dom)
    assert "<script>document.body.innerHTML=''</script>boom" in text
    assert '<img src=x onerror="document.title=1">run' in text
