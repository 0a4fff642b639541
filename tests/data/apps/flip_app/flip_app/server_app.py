"""ServerApp: a FedAdagrad subclass (FLIP reports each round from aggregate_train)."""

from __future__ import annotations

import tempfile
from logging import INFO
from pathlib import Path

import numpy as np
from flwr.app import ArrayRecord, Context, Message, MetricRecord
from flwr.common.logger import log
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import FedAdagrad

from fedcrate import FLCrateTracker

from .task import FEATURES

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"

app = ServerApp()


class FlipFedAdagrad(FedAdagrad):
    """FedAdagrad that reports every aggregated round to the FLIP hub (here: the log)."""

    def __init__(self, *, model_id: str, report_every: int = 1, **kwargs: float) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.model_id = model_id
        self.report_every = report_every

    def aggregate_train(
        self, server_round: int, replies: list[Message]
    ) -> tuple[ArrayRecord | None, MetricRecord | None]:
        arrays, metrics = super().aggregate_train(server_round, replies)
        if server_round % self.report_every == 0:
            log(INFO, "FLIP send_metrics(%s, round=%s): %s", self.model_id, server_round, metrics)
        return arrays, metrics


@app.main()
def main(grid: Grid, context: Context) -> None:
    cfg = context.run_config
    nodes = int(cfg["min-nodes"])
    strategy = FlipFedAdagrad(
        model_id=str(cfg["flip-model-id"]),
        eta=0.5,
        eta_l=0.1,
        tau=0.01,
        min_train_nodes=nodes,
        min_evaluate_nodes=nodes,
        min_available_nodes=nodes,
    )
    with (
        tempfile.TemporaryDirectory() as model_dir,
        FLCrateTracker(
            context,
            strategy,
            output_dir=str(cfg["crate-dir"]),
            pyproject_path=PYPROJECT,
            app_name="FLIP-shaped app: FlipFedAdagrad",
            author={"name": "Demo User", "orcid": "https://orcid.org/0000-0002-1825-0097"},
            license="Apache-2.0",
            grid=grid,
        ) as tracker,
    ):
        result = strategy.start(
            grid=grid,
            initial_arrays=ArrayRecord([np.zeros(FEATURES)]),
            num_rounds=int(cfg["num-server-rounds"]),
        )
        model = Path(model_dir) / "model.npz"
        np.savez(model, weights=result.arrays.to_numpy_ndarrays()[0])
        tracker.record_result(result, model_path=model)
