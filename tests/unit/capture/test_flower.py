"""The tracker with real Flower objects (Context, FedAvg, Result, records), no simulation.

The end-to-end simulation lives in tests/integration; these pin the tracker's contract:
what it captures, what it refuses to leak, and that it never breaks or hides a failure.
"""

from __future__ import annotations

import importlib.util
import json
import logging
from pathlib import Path

import numpy as np
import pytest
from flwr.app import ArrayRecord, Context, MetricRecord, RecordDict
from flwr.serverapp.strategy import FedAvg, FedProx, Result

from fedcrate import FLCrateTracker, read_crate
from fedcrate.cli.summary import summarize
from fedcrate.crate.journal import read_journal
from fedcrate.record.redaction import REDACTED

PYPROJECT = """
[project]
name = "tracked-app"
dependencies = ["flwr[simulation]>=1.42", "numpy>=1.26", "rdflib>=7"]
[tool.fedcrate.metric-uris]
loss = "https://example.org/metrics/loss"
"""


def _context(**config: object) -> Context:
    run_config = {"num-server-rounds": 2, "lr": 0.1, "api-token": "tok-123-secret", **config}
    return Context(
        run_id=4242, node_id=0, node_config={}, state=RecordDict(), run_config=run_config
    )  # type: ignore[arg-type]


def _result(rounds: int = 2) -> Result:
    return Result(
        arrays=ArrayRecord([np.arange(6, dtype=np.float32).reshape(2, 3), np.ones(3)]),
        train_metrics_clientapp={
            r: MetricRecord({"loss": 0.9 / r, "train_acc": 0.5}) for r in range(1, rounds + 1)
        },
        evaluate_metrics_clientapp={
            r: MetricRecord({"loss": 0.8 / r, "accuracy": 0.6}) for r in range(1, rounds + 1)
        },
        evaluate_metrics_serverapp={
            r: MetricRecord({"loss": 0.7 / (r + 1), "accuracy": 0.1 * r}) for r in range(rounds + 1)
        },
    )


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "pyproject.toml").write_text(PYPROJECT)
    return tmp_path / "app"


def _track(out: Path, app_dir: Path, **kwargs: object) -> FLCrateTracker:
    return FLCrateTracker(
        _context(),
        kwargs.pop("strategy", FedAvg(fraction_train=0.5, min_available_nodes=2)),
        output_dir=out,
        pyproject_path=app_dir / "pyproject.toml",
        app_name="tracked",
        author={"name": "Ada", "orcid": "0000-0002-1825-0097"},
        license="MIT",
        datasets=[{"name": "digits", "url": "https://example.org/datasets/digits"}],
        **kwargs,  # type: ignore[arg-type]
    )


def test_completed_run(tmp_path: Path, app_dir: Path) -> None:
    result = _result()
    with _track(tmp_path / "out", app_dir) as tracker:
        evaluate = tracker.wrap_evaluate(lambda rnd, arrays: result.evaluate_metrics_serverapp[rnd])
        for rnd in range(3):
            evaluate(rnd, result.arrays)
        tracker.record_result(result)
    assert tracker.crate is not None
    [run] = summarize(read_crate(tracker.crate.path))
    assert (run.status, run.strategy, run.rounds) == ("Completed", "FedAvg", 2)
    finals = {(m.side, m.metric): m.value for m in run.final_metrics}
    assert finals[("server-evaluate", "loss")] == str(0.7 / 3)
    assert finals[("client-evaluate", "loss")] == str(0.8 / 2)
    assert finals[("client-train", "loss")] == str(0.9 / 2)
    # Without model_path, result.arrays becomes the model file.
    assert (tracker.crate.path / "final_model.npz").is_file()
    saved = np.load(tracker.crate.path / "final_model.npz")
    assert [saved[k].shape for k in saved.files] == [(2, 3), (3,)]


def test_captures_strategy_config_frameworks_and_metric_iris(tmp_path: Path, app_dir: Path) -> None:
    with _track(tmp_path / "out", app_dir, strategy=FedProx(proximal_mu=0.3)) as tracker:
        tracker.record_result(_result())
    text = (tracker.crate.path / "ro-crate-metadata.json").read_text()  # type: ignore[union-attr]
    nodes = {n["@id"]: n for n in json.loads(text)["@graph"]}
    strategy = nodes["#fl-strategy"]
    assert strategy["name"] == "FedProx" and strategy["version"]
    hyper = {
        nodes[ref["@id"]]["name"]: nodes[ref["@id"]]["value"]
        for ref in strategy["additionalProperty"]
    }
    assert hyper["proximal_mu"] == 0.3 and hyper["fraction_train"] == 1.0
    assert {"#software-numpy", "#software-rdflib"} <= set(nodes)
    assert "#software-flwr" not in nodes and nodes["#flower"]["version"]
    assert nodes["#param-lr"]["value"] == 0.1
    dataset = nodes["https://example.org/datasets/digits"]
    assert dataset["@type"] == "Dataset" and dataset["name"] == "digits"
    assert {"@id": "https://example.org/datasets/digits"} in nodes["#fl-run"]["object"]
    assert nodes["#fl-run"]["fl:runId"] == 4242
    loss = nodes["#metric-server-evaluate-loss"]
    assert loss["propertyID"] == {"@id": "https://example.org/metrics/loss"}
    accuracy = nodes["#metric-client-evaluate-accuracy"]
    assert accuracy["propertyID"] == {"@id": "http://purl.obolibrary.org/obo/STATO_0000415"}


def test_secrets_and_home_paths_stay_out(tmp_path: Path, app_dir: Path) -> None:
    home = str(Path.home())
    context = _context(**{"data-path": f"{home}/datasets/digits", "db-url": "https://u:pw@h/db"})
    with FLCrateTracker(
        context, FedAvg(), output_dir=tmp_path / "out", pyproject_path=app_dir / "pyproject.toml"
    ) as tracker:
        tracker.record_result(_result())
    text = (tracker.crate.path / "ro-crate-metadata.json").read_text()  # type: ignore[union-attr]
    assert "tok-123-secret" not in text and "u:pw" not in text
    assert text.count(REDACTED) >= 2
    assert "~/datasets/digits" in text and f"{home}/datasets" not in text
    assert str(app_dir) not in text


def test_failure_is_recorded_then_reraised_unchanged(tmp_path: Path, app_dir: Path) -> None:
    boom = RuntimeError("round 2 diverged")
    with pytest.raises(RuntimeError) as raised, _track(tmp_path / "out", app_dir) as tracker:
        evaluate = tracker.wrap_evaluate(
            lambda rnd, arrays: MetricRecord({"loss": 1.0 / (rnd + 1)})
        )
        evaluate(0, None)
        evaluate(1, None)
        raise boom
    assert raised.value is boom
    [run] = summarize(read_crate(tracker.crate.path))  # type: ignore[union-attr]
    assert run.status == "Failed" and run.error == "RuntimeError: round 2 diverged"
    assert run.end is not None
    assert {(m.metric, m.value) for m in run.final_metrics} == {("loss", "0.5")}


def test_keyboard_interrupt_is_a_failed_run(tmp_path: Path, app_dir: Path) -> None:
    with pytest.raises(KeyboardInterrupt), _track(tmp_path / "out", app_dir) as tracker:
        raise KeyboardInterrupt
    [run] = summarize(read_crate(tracker.crate.path))  # type: ignore[union-attr]
    assert (run.status, run.error) == (
        "Failed",
        "KeyboardInterrupt: interrupted (SIGINT, e.g. Ctrl-C) before the run finished",
    )


def test_per_round_journal_is_append_only_and_constant_per_round(
    tmp_path: Path, app_dir: Path
) -> None:
    # flwrCrate rewrote its whole metrics log on every round (cost grows with rounds²); the
    # journal appends one line per round and never rewrites what is there.
    out = tmp_path / "out"
    growth = []
    with _track(out, app_dir) as tracker:
        evaluate = tracker.wrap_evaluate(lambda rnd, arrays: MetricRecord({"loss": 1.0}))
        (journal,) = out.glob(".fedcrate-journal-*.jsonl")
        for rnd in range(50):
            before = journal.read_bytes()
            evaluate(rnd, None)
            after = journal.read_bytes()
            assert after.startswith(before)
            growth.append(len(after) - len(before))
        assert [p.name for p in out.iterdir()] == [journal.name]
    assert max(growth) - min(growth) <= 2  # only the round number's digits differ
    assert sorted(p.name for p in out.iterdir()) == ["ro-crate"]  # journal gone once written


def test_model_path_is_copied_and_relative_paths_go_under_fedcrate_home(
    tmp_path: Path, app_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative model_path resolves like output_dir: under $FEDCRATE_HOME, not the cwd."""
    monkeypatch.setenv("FEDCRATE_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "model.pt").write_bytes(b"weights")
    Path("model.pt").write_bytes(b"the working folder's, not used")
    with _track(Path("runs/exp1"), app_dir) as tracker:
        tracker.record_result(_result(), model_path="model.pt")
    assert tracker.crate is not None
    assert tracker.crate.path == tmp_path / "home" / "runs" / "exp1" / "ro-crate"
    assert (tracker.crate.path / "model.pt").read_bytes() == b"weights"


def test_bad_orcid_and_broken_pyproject_never_stop_the_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "pyproject.toml"
    broken.write_text("[project\nname = ")
    with (
        caplog.at_level(logging.ERROR, logger="fedcrate"),
        FLCrateTracker(
            _context(),
            FedAvg(),
            output_dir=tmp_path / "out",
            pyproject_path=broken,
            author={"name": "Ada", "orcid": "0000-0002-1825-0098"},
        ) as tracker,
    ):
        tracker.record_result(_result())
    assert "check digit" in caplog.text and "not valid TOML" in caplog.text
    text = (tracker.crate.path / "ro-crate-metadata.json").read_text()  # type: ignore[union-attr]
    assert '"name": "Ada"' in text and "0000-0002-1825-0098" not in text


def test_evaluate_fn_errors_propagate_and_none_stays_none(tmp_path: Path, app_dir: Path) -> None:
    tracker = _track(tmp_path / "out", app_dir)
    assert tracker.wrap_evaluate(None) is None

    def broken(rnd: int, arrays: object) -> MetricRecord:
        raise ValueError("user bug")

    with pytest.raises(ValueError, match="user bug"):
        tracker.wrap_evaluate(broken)(1, None)


def test_unencodable_metric_values_are_skipped_with_one_warning(
    tmp_path: Path, app_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="fedcrate"),
        _track(tmp_path / "out", app_dir) as tracker,
    ):
        evaluate = tracker.wrap_evaluate(lambda rnd, a: {"loss": 0.5, "hist": [1.0, 2.0]})
        evaluate(1, None)
        evaluate(2, None)
    assert caplog.text.count("'hist' is a list") == 1
    [run] = summarize(read_crate(tracker.crate.path))  # type: ignore[union-attr]
    assert [m.metric for m in run.final_metrics] == ["loss"]


class TrimmedFedAvg(FedAvg):
    """A strategy written in the app: its source file belongs in the crate."""

    def __init__(self, trim: float = 0.1) -> None:
        super().__init__(fraction_train=0.5)
        self.trim = trim


def test_custom_strategy_is_recorded_with_its_source(tmp_path: Path, app_dir: Path) -> None:
    with _track(tmp_path / "out", app_dir, strategy=TrimmedFedAvg(trim=0.2)) as tracker:
        tracker.record_result(_result())
    assert tracker.crate is not None
    source = tracker.crate.path / "code" / Path(__file__).name
    assert source.read_text() == Path(__file__).read_text()
    nodes = {
        n["@id"]: n
        for n in json.loads((tracker.crate.path / "ro-crate-metadata.json").read_text())["@graph"]
    }
    entity = nodes[f"code/{Path(__file__).name}"]
    assert set(entity["@type"]) >= {"File", "SoftwareSourceCode", "fl:AggregationStrategy"}
    assert entity["fl:pythonClass"].endswith("test_flower.TrimmedFedAvg")
    hyper = {
        nodes[r["@id"]]["name"]: nodes[r["@id"]]["value"] for r in entity["additionalProperty"]
    }
    assert hyper["trim"] == 0.2 and hyper["fraction_train"] == 0.5


def test_pyproject_is_found_next_to_the_app_that_creates_the_tracker(tmp_path: Path) -> None:
    # As under `flwr run`: the app is installed in some folder with its pyproject.toml at
    # the top and the tracker is created in <app>/<package>/server_app.py.
    app = tmp_path / "installed_app"
    (app / "found_app").mkdir(parents=True)
    (app / "pyproject.toml").write_text(PYPROJECT)
    (app / "found_app" / "server_app.py").write_text(
        "from fedcrate import FLCrateTracker\n"
        "def make(context, strategy, out):\n"
        "    return FLCrateTracker(context, strategy, output_dir=out)\n"
    )
    spec = importlib.util.spec_from_file_location(
        "found_app.server_app", app / "found_app" / "server_app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tracker = module.make(_context(), FedAvg(), tmp_path / "out")
    assert tracker.pyproject_path == app / "pyproject.toml"
    assert [s.key for s in tracker.record.frameworks] == ["numpy", "rdflib"]


def test_result_is_journaled_in_one_line_without_what_the_hooks_journaled(
    tmp_path: Path, app_dir: Path
) -> None:
    # The server-side hook journals each round as it happens; the Result repeats those
    # values and adds the client sides: one line with only the new or changed values.
    out = tmp_path / "out"
    result = _result(rounds=2)
    with _track(out, app_dir) as tracker:
        server = result.evaluate_metrics_serverapp
        evaluate = tracker.wrap_evaluate(lambda rnd, arrays: server[rnd])
        for rnd in range(3):
            evaluate(rnd, None)
        server[2] = MetricRecord({"loss": 0.01, "accuracy": 0.2})  # loss changed, accuracy not
        (journal,) = out.glob(".fedcrate-journal-*.jsonl")
        before = journal.read_text().splitlines()
        tracker.record_result(result)
        added = [json.loads(line) for line in journal.read_text().splitlines()[len(before) :]]
        lines = [entry for entry in added if entry["event"] == "observations"]
        assert len(lines) == 1
        journaled = {(i["round"], i["side"], i["metric"]["name"]) for i in lines[0]["items"]}
        client = {
            (r, side, name)
            for r in (1, 2)
            for side, names in (
                ("client-train", ("loss", "train_acc")),
                ("client-evaluate", ("loss", "accuracy")),
            )
            for name in names
        }
        assert journaled == client | {(2, "server-evaluate", "loss")}
        recovered = read_journal(journal).record
    by_key = {(o.round, o.side.value, o.metric.name): o.value for o in recovered.observations}
    assert by_key[(2, "server-evaluate", "loss")] == 0.01
    assert by_key[(0, "server-evaluate", "accuracy")] == 0.0
    assert len(by_key) == len(client) + 6
