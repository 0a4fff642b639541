"""quickstartnumpy: logistic regression in NumPy on synthetic, seeded data.

Stands in for quickstart-pytorch's ``task.py`` (Net, load_data, train, test), with no
download and no torch: every partition is drawn from a fixed random generator.
"""

import numpy as np

NUM_FEATURES = 8
SAMPLES_PER_PARTITION = 200
CENTRAL_SAMPLES = 500
_TRUE_WEIGHTS = np.random.default_rng(0).normal(size=NUM_FEATURES)


def init_params() -> list[np.ndarray]:
    """The global model: weights and bias, all zero."""
    return [np.zeros(NUM_FEATURES), np.zeros(1)]


def _make_data(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, NUM_FEATURES))
    logits = x @ _TRUE_WEIGHTS + rng.normal(scale=0.5, size=n)
    return x, (logits > 0).astype(np.float64)


def load_data(partition_id: int, num_partitions: int):
    """This partition's (train, validation) split: 80/20 of its own samples."""
    x, y = _make_data(1000 + partition_id * 7919 + num_partitions, SAMPLES_PER_PARTITION)
    cut = int(0.8 * len(y))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def load_centralized_dataset():
    """The server's held-out test set."""
    return _make_data(42, CENTRAL_SAMPLES)


def _loss_and_accuracy(params, x, y) -> tuple[float, float]:
    w, b = params
    p = 1.0 / (1.0 + np.exp(-(x @ w + b[0])))
    eps = 1e-12
    loss = -np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))
    accuracy = np.mean((p > 0.5) == (y > 0.5))
    return float(loss), float(accuracy)


def train(params, data, epochs: int, lr: float, batch_size: int, seed: int) -> float:
    """Mini-batch gradient descent in place; returns the mean training loss."""
    x, y = data
    w, b = (a.copy() for a in params)
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), batch_size):
            idx = order[start : start + batch_size]
            p = 1.0 / (1.0 + np.exp(-(x[idx] @ w + b[0])))
            grad = p - y[idx]
            w -= lr * (x[idx].T @ grad) / len(idx)
            b -= lr * np.array([grad.mean()])
            losses.append(_loss_and_accuracy([w, b], x[idx], y[idx])[0])
    params[0], params[1] = w, b
    return float(np.mean(losses))


def test(params, data) -> tuple[float, float]:
    """(loss, accuracy) of the model on ``data``."""
    x, y = data
    return _loss_and_accuracy(params, x, y)
