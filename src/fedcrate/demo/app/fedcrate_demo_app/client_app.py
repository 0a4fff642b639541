"""ClientApp of the fedcrate demo: local SGD and local evaluation on one partition."""

from __future__ import annotations

from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from .task import Params, Split, evaluate, load_partition, train

app = ClientApp()


def _number(record: ConfigRecord, key: str) -> float:
    """A numeric ConfigRecord value (records may also hold arrays, strings, lists)."""
    value = record[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"config value {key!r} must be a number, got {value!r}")
    return float(value)


def _local_data(context: Context) -> tuple[Split, Split]:
    """This node's (train, validation) split; the simulation sets partition-id."""
    partition_id = int(context.node_config["partition-id"])
    num_partitions = int(context.node_config["num-partitions"])
    seed = int(context.run_config["seed"])
    return load_partition(partition_id, num_partitions, seed)


def _received_params(msg: Message) -> Params:
    return msg.content.array_records["arrays"].to_numpy_ndarrays()


@app.train()
def train_fn(msg: Message, context: Context) -> Message:
    """Train the received global model locally and return it with train metrics."""
    config = msg.content.config_records["config"]
    train_split, _ = _local_data(context)
    new_params = train(
        _received_params(msg),
        train_split,
        epochs=int(context.run_config["local-epochs"]),
        learning_rate=_number(config, "lr"),
        batch_size=int(context.run_config["batch-size"]),
        # Per node and per round, so reruns reproduce the exact batch order.
        seed=(
            int(context.run_config["seed"]),
            int(context.node_config["partition-id"]),
            int(_number(config, "server-round")),
        ),
    )
    loss, accuracy = evaluate(new_params, train_split)
    metrics = MetricRecord(
        {"train_loss": loss, "train_accuracy": accuracy, "num-examples": len(train_split)}
    )
    content = RecordDict({"arrays": ArrayRecord(new_params), "metrics": metrics})
    return Message(content=content, reply_to=msg)


@app.evaluate()
def evaluate_fn(msg: Message, context: Context) -> Message:
    """Evaluate the received global model on this node's validation split."""
    _, val_split = _local_data(context)
    loss, accuracy = evaluate(_received_params(msg), val_split)
    metrics = MetricRecord({"loss": loss, "accuracy": accuracy, "num-examples": len(val_split)})
    return Message(content=RecordDict({"metrics": metrics}), reply_to=msg)
