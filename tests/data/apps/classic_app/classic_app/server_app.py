"""Classic-API ServerApp: FedAvg from flwr.server.strategy, recorded by fedcrate."""

from __future__ import annotations

import numpy as np
from flwr.common import Context, Metrics, Scalar, ndarrays_to_parameters
from flwr.server import ServerApp, ServerAppComponents, ServerConfig
from flwr.server.strategy import FedAvg

from fedcrate.capture.flower_classic import tracked_components

from .task import FEATURES, mse, partition

SYNTHETIC = {
    "name": "Synthetic linear-regression data",
    "description": "Rows drawn per partition from y = x·w + noise (task.partition); "
    "generated on each node, nothing downloaded.",
}


def weighted_mean(metrics: list[tuple[int, Metrics]]) -> Metrics:
    total = sum(n for n, _ in metrics)
    keys = {k for _, m in metrics for k in m}
    return {k: sum(n * float(m[k]) for n, m in metrics) / total for k in keys}


def central_evaluate(
    server_round: int, parameters: list[np.ndarray], config: dict[str, Scalar]
) -> tuple[float, dict[str, Scalar]]:
    x, y = partition(99)  # a held-out partition no client trains on
    loss = mse(parameters[0], x, y)
    return loss, {"mse": loss}


def server_fn(context: Context) -> ServerAppComponents:
    nodes = int(context.run_config["min-nodes"])
    strategy = FedAvg(
        fraction_fit=1.0,
        fraction_evaluate=1.0,
        min_fit_clients=nodes,
        min_evaluate_clients=nodes,
        min_available_clients=nodes,
        initial_parameters=ndarrays_to_parameters([np.zeros(FEATURES)]),
        evaluate_fn=central_evaluate,
        fit_metrics_aggregation_fn=weighted_mean,
        evaluate_metrics_aggregation_fn=weighted_mean,
    )
    return tracked_components(
        context,
        strategy,
        ServerConfig(num_rounds=int(context.run_config["num-server-rounds"])),
        output_dir=str(context.run_config["crate-dir"]),
        app_name="Classic-API app: FedAvg",
        author={"name": "Demo User", "orcid": "https://orcid.org/0000-0002-1825-0097"},
        license="Apache-2.0",
        datasets=[SYNTHETIC],
    )


app = ServerApp(server_fn=server_fn)
