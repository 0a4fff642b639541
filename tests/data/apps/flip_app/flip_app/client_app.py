"""ClientApp: trains on its partition, reports training_time and its site like FLIP apps."""

from __future__ import annotations

import os
import time

from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from .task import mse, partition, train

app = ClientApp()


def _site(context: Context) -> str:
    # FLIP sets SUPERNODE_NAME on each trust's SuperNode; simulated nodes share one
    # environment, so fall back to the partition.
    return os.environ.get("SUPERNODE_NAME") or f"site-{context.node_config['partition-id']}"


@app.train()
def train_fn(msg: Message, context: Context) -> Message:
    started = time.perf_counter()
    x, y = partition(int(context.node_config["partition-id"]))
    weights = train(msg.content["arrays"].to_numpy_ndarrays()[0], x, y)
    metrics = MetricRecord(
        {
            "train_mse": mse(weights, x, y),
            "training_time": time.perf_counter() - started,
            "num-examples": len(x),
        }
    )
    content = RecordDict(
        {
            "arrays": ArrayRecord([weights]),
            "metrics": metrics,
            "site": ConfigRecord({"site": _site(context)}),
        }
    )
    return Message(content, reply_to=msg)


@app.evaluate()
def evaluate_fn(msg: Message, context: Context) -> Message:
    x, y = partition(int(context.node_config["partition-id"]))
    weights = msg.content["arrays"].to_numpy_ndarrays()[0]
    metrics = MetricRecord({"mse": mse(weights, x, y), "num-examples": len(x)})
    return Message(RecordDict({"metrics": metrics}), reply_to=msg)
