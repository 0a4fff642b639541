"""quickstartnumpy: a NumPy / Flower ClientApp (the shape of quickstart-pytorch's)."""

from flwr.app import ArrayRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from quickstartnumpy.task import load_data, test
from quickstartnumpy.task import train as train_fn

# Flower ClientApp
app = ClientApp()


@app.train()
def train(msg: Message, context: Context):
    """Train the model on local data."""
    params = msg.content["arrays"].to_numpy_ndarrays()
    partition_id = context.node_config["partition-id"]
    num_partitions = context.node_config["num-partitions"]
    trainset, _ = load_data(partition_id, num_partitions)

    train_loss = train_fn(
        params,
        trainset,
        context.run_config["local-epochs"],
        msg.content["config"]["lr"],
        context.run_config["batch-size"],
        seed=partition_id,
    )

    model_record = ArrayRecord(params)
    metrics = {"train_loss": train_loss, "num-examples": len(trainset[1])}
    content = RecordDict({"arrays": model_record, "metrics": MetricRecord(metrics)})
    return Message(content=content, reply_to=msg)


@app.evaluate()
def evaluate(msg: Message, context: Context):
    """Evaluate the model on local data."""
    params = msg.content["arrays"].to_numpy_ndarrays()
    partition_id = context.node_config["partition-id"]
    num_partitions = context.node_config["num-partitions"]
    _, valset = load_data(partition_id, num_partitions)

    eval_loss, eval_acc = test(params, valset)

    metrics = {"eval_loss": eval_loss, "eval_acc": eval_acc, "num-examples": len(valset[1])}
    content = RecordDict({"metrics": MetricRecord(metrics)})
    return Message(content=content, reply_to=msg)
