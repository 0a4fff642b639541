"""Classic-API ClientApp: a NumPyClient wrapped by `client_fn`."""

from __future__ import annotations

import numpy as np
from flwr.client import ClientApp, NumPyClient
from flwr.common import Context

from .task import mse, partition, train


class LinearClient(NumPyClient):  # type: ignore[misc]
    def __init__(self, partition_id: int) -> None:
        self.x, self.y = partition(partition_id)

    def fit(self, parameters: list[np.ndarray], config: dict) -> tuple[list[np.ndarray], int, dict]:
        weights = train(parameters[0], self.x, self.y)
        return [weights], len(self.x), {"train_mse": mse(weights, self.x, self.y)}

    def evaluate(self, parameters: list[np.ndarray], config: dict) -> tuple[float, int, dict]:
        loss = mse(parameters[0], self.x, self.y)
        return loss, len(self.x), {"mse": loss}


def client_fn(context: Context) -> object:
    return LinearClient(int(context.node_config["partition-id"])).to_client()


app = ClientApp(client_fn=client_fn)
