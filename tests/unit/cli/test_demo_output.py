"""Issue 18, item 7: the demo's output says only what its user can act on.

* The demo app maps or declares every metric it reports, so no warning asks the user to
  edit a pyproject they do not own (cross-entropy losses are declared `unmapped-metrics`).
* Its summary table words the sides as `show` does ("client evaluation"), from the one
  table of sides (`Side.short_label`).
* Flower's and Ray's own lines stay out of it unless `--verbose` (test_progress.py checks
  the filter; the README snippet's real run checks the runner feeds Flower's lines apart).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fedcrate import write_crate
from fedcrate.capture.metrics import MetricResolver
from fedcrate.capture.pyproject import load_pyproject
from fedcrate.cli import app
from fedcrate.demo.runner import APP_DIR, DemoResult
from fedcrate.errors import MetricIRIError
from fedcrate.record.run import Side
from tests.conftest import make_record

# Every metric the demo's ClientApp and ServerApp report (client_app.py, server_app.py).
DEMO_METRICS = ("loss", "accuracy", "train_loss", "train_accuracy")


def test_the_demo_app_leaves_no_metric_to_map(caplog: pytest.LogCaptureFixture) -> None:
    resolver = MetricResolver.from_pyproject(load_pyproject(APP_DIR / "pyproject.toml"))
    with caplog.at_level(logging.WARNING, logger="fedcrate"):
        resolved = {name: resolver.resolve(name).iri for name in DEMO_METRICS}
    assert caplog.text == ""
    assert resolved["accuracy"] and resolved["train_accuracy"]  # STATO terms
    assert resolved["loss"] is None and resolved["train_loss"] is None  # declared, by name


def test_unmapped_metrics_silence_only_the_names_listed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    resolver = MetricResolver.from_pyproject({"tool": {"fedcrate": {"unmapped-metrics": ["loss"]}}})
    with caplog.at_level(logging.WARNING, logger="fedcrate"):
        assert resolver.resolve("loss").iri is None
        assert resolver.resolve("dice").iri is None
    assert "'loss'" not in caplog.text and "'dice' has no IRI" in caplog.text
    assert "unmapped-metrics" in caplog.text  # the warning names both ways out


def test_unmapped_metrics_must_be_names() -> None:
    with pytest.raises(MetricIRIError, match="unmapped-metrics must be an array"):
        MetricResolver.from_pyproject({"tool": {"fedcrate": {"unmapped-metrics": "loss"}}})


def test_the_demo_summary_words_sides_as_show_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crate = write_crate(make_record(), tmp_path / "out", preview=False).path
    seen: dict[str, object] = {}

    def fake_run_demo(out_dir: Path, **kwargs: object) -> DemoResult:
        seen.update(kwargs)
        return DemoResult(crate, 1.0, "")

    monkeypatch.setattr("fedcrate.demo.runner.run_demo", fake_run_demo)
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for side in Side:
        assert side.short_label in result.stdout
        assert f"│ {side.value} " not in result.stdout  # no code where show has words
    shown = CliRunner().invoke(app, ["show", str(crate)], env={"COLUMNS": "200"}).stdout
    assert {s.short_label for s in Side if s.short_label in shown} == {s.short_label for s in Side}
    # Flower's lines and the runner's notes go to two callbacks, so they can be told apart.
    assert callable(seen["log"]) and callable(seen["flower_log"])
    assert "Completed" in result.stdout
