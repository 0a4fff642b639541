"""quickstartnumpy: a NumPy / Flower ServerApp, integrated with flwrCrate.

Follows flwrCrate 0.4.0's own example (examples/quickstart-pytorch/server_app.py):
the stock ServerApp plus the three flwrCrate touchpoints marked ``# flwrCrate``:

  1. the FLCrateTracker context manager wrapping strategy.start(...)
  2. tracker.wrap_evaluate(...) around the server-side evaluate function
  3. tracker.record_result(...) handing over the final Result

Differences from that example: NumPy instead of torch (``np.savez`` instead of
``torch.save``), and the model is saved under the absolute output directory instead
of the ServerApp's working directory. The ``/absolute/path/to/flwrcrate-app``
placeholder is the example's own; ``make_crate.py`` replaces it with the real
absolute path of its scratch copy of this app before ``flwr run``.
"""

import numpy as np
from flwr.app import ArrayRecord, ConfigRecord, Context, MetricRecord
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import FedAvg
from flwrcrate import FLCrateTracker  # flwrCrate (1/3): import

from quickstartnumpy.task import init_params, load_centralized_dataset, test

APP_DIR = "/absolute/path/to/flwrcrate-app"

# Create ServerApp
app = ServerApp()


@app.main()
def main(grid: Grid, context: Context) -> None:
    """Main entry point for the ServerApp."""

    # Read run config
    fraction_evaluate: float = context.run_config["fraction-evaluate"]
    num_rounds: int = context.run_config["num-server-rounds"]
    lr: float = context.run_config["learning-rate"]

    # Load global model
    arrays = ArrayRecord(init_params())

    # Initialize FedAvg strategy
    strategy = FedAvg(fraction_evaluate=fraction_evaluate)

    # flwrCrate (2/3): wrap strategy.start(...) in the tracker context manager.
    # ABSOLUTE paths: flwr runs the ServerApp from $FLWR_HOME/apps/<hash>/.
    with FLCrateTracker(
        context,
        strategy,
        output_dir=f"{APP_DIR}/fl_crate_out",
        pyproject_path=f"{APP_DIR}/pyproject.toml",
        app_name="Quickstart NumPy (fedcrate test input)",
        author={"name": "fedcrate developers", "orcid": "https://orcid.org/0000-0000-0000-0000"},
        license="https://spdx.org/licenses/MIT.html",
    ) as tracker:
        result = strategy.start(
            grid=grid,
            initial_arrays=arrays,
            train_config=ConfigRecord({"lr": lr}),
            num_rounds=num_rounds,
            evaluate_fn=tracker.wrap_evaluate(global_evaluate),  # flwrCrate (3/3a)
        )
        model_path = f"{APP_DIR}/final_model.npz"
        weights, bias = result.arrays.to_numpy_ndarrays()
        np.savez(model_path, weights=weights, bias=bias)
        tracker.record_result(result, model_path=model_path)  # flwrCrate (3/3b)
    # On clean exit the RO-Crate is written to <output_dir>/ro-crate/


def global_evaluate(server_round: int, arrays: ArrayRecord) -> MetricRecord:
    """Evaluate model on central data."""
    test_loss, test_acc = test(arrays.to_numpy_ndarrays(), load_centralized_dataset())
    return MetricRecord({"accuracy": test_acc, "loss": test_loss})
