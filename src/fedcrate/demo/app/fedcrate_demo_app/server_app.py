"""ServerApp of the fedcrate demo: FedAvg, recorded by fedcrate's FLCrateTracker."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from logging import INFO, WARNING
from pathlib import Path

import numpy as np
from flwr.app import ArrayRecord, ConfigRecord, Context, MetricRecord
from flwr.common.logger import log
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import FedAvg

from fedcrate import FLCrateTracker

from .task import evaluate, init_params, load_server_test

# Under Flower the ServerApp runs from the installed FAB ($FLWR_HOME/apps/<fab>/),
# with the SuperLink's working directory; the FAB's pyproject.toml sits next to
# this package, so locate it from this file rather than from the cwd.
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"

# What the clients and the server train and evaluate on (shipped inside scikit-learn).
app = ServerApp()


def _crate_dir(context: Context) -> Path:
    """Absolute crate directory (a relative one would land in the SuperLink's cwd)."""
    configured = str(context.run_config["crate-dir"])
    if configured:
        return Path(configured).expanduser().resolve()
    fallback = Path.cwd().resolve() / "fedcrate-demo-output"
    log(WARNING, "run config 'crate-dir' is empty; writing the crate under %s", fallback)
    return fallback


def _make_global_evaluate(seed: int) -> Callable[[int, ArrayRecord], MetricRecord]:
    """Build the server-side evaluation on the held-out split no client sees."""
    test_split = load_server_test(seed)

    def global_evaluate(server_round: int, arrays: ArrayRecord) -> MetricRecord:
        loss, accuracy = evaluate(arrays.to_numpy_ndarrays(), test_split)
        log(INFO, "global_evaluate round %s: loss=%.4f accuracy=%.4f", server_round, loss, accuracy)
        return MetricRecord({"loss": loss, "accuracy": accuracy})

    return global_evaluate


def _save_model(arrays: ArrayRecord, directory: Path) -> Path:
    """Write the final global model as an .npz whose keys are the ArrayRecord's keys."""
    path = directory / "global_model.npz"
    ndarrays = dict(zip(arrays.keys(), arrays.to_numpy_ndarrays(), strict=True))
    np.savez(path, **ndarrays)  # type: ignore[arg-type]
    return path


@app.main()
def main(grid: Grid, context: Context) -> None:
    """Run FedAvg for ``num-server-rounds`` rounds and record the run as an RO-Crate."""
    cfg = context.run_config
    num_rounds = int(cfg["num-server-rounds"])
    lr = float(cfg["learning-rate"])
    seed = int(cfg["seed"])
    min_nodes = int(cfg["min-nodes"])

    strategy = FedAvg(
        fraction_train=float(cfg["fraction-train"]),
        fraction_evaluate=float(cfg["fraction-evaluate"]),
        min_train_nodes=min_nodes,
        min_evaluate_nodes=min_nodes,
        min_available_nodes=min_nodes,
    )
    arrays = ArrayRecord(init_params(seed))
    global_evaluate = _make_global_evaluate(seed)

    # The model file must outlive record_result(): the tracker may only copy it
    # into the crate when the `with` block exits, so the temp dir encloses it.
    with (
        tempfile.TemporaryDirectory(prefix="fedcrate-demo-model-") as model_dir,
        FLCrateTracker(
            context,
            strategy,
            output_dir=_crate_dir(context),
            pyproject_path=PYPROJECT,
            app_name="fedcrate demo: FedAvg on digits",
            # Author, license, datasets, description and keywords: pyproject.toml's
            # [tool.fedcrate] table.
            preview=bool(context.run_config.get("crate-preview", True)),
            record_model_lineage=True,  # the model is tiny: hashing it costs microseconds
        ) as tracker,
    ):
        result = strategy.start(
            grid=grid,
            initial_arrays=arrays,
            num_rounds=num_rounds,
            train_config=ConfigRecord({"lr": lr}),
            evaluate_fn=tracker.wrap_evaluate(global_evaluate),
        )
        model_path = _save_model(result.arrays, Path(model_dir))
        tracker.record_result(result, model_path=model_path)
