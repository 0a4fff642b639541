"""Model, data and training loop of the fedcrate demo (pure NumPy).

The model is a multinomial logistic (softmax) regression on scikit-learn's
bundled 8x8 digits, so the demo needs no download and no deep-learning stack.
Everything is deterministic given ``seed``: the same split, the same partitions
and the same mini-batch order on every run, which keeps demo crates comparable.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from sklearn.datasets import load_digits

NUM_FEATURES = 64
NUM_CLASSES = 10
# Share of the digits kept back for the server-side (global) evaluation.
SERVER_TEST_FRACTION = 0.2
# Share of each client's partition used for its local evaluation.
CLIENT_VAL_FRACTION = 0.2

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Params = list[FloatArray]  # [weights (64x10), bias (10,)]


@dataclass(frozen=True)
class Split:
    """Features in [0, 1] and integer labels."""

    x: FloatArray
    y: IntArray

    def __len__(self) -> int:
        return int(self.y.shape[0])


@lru_cache(maxsize=4)
def _shuffled_digits(seed: int) -> tuple[Split, Split]:
    """Return (federated pool, server test set); cached because every round reloads."""
    digits = load_digits()
    x = np.asarray(digits.data, dtype=np.float64) / 16.0  # pixel values are 0..16
    y = np.asarray(digits.target, dtype=np.int64)
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = round(len(y) * SERVER_TEST_FRACTION)
    test_idx, pool_idx = order[:n_test], order[n_test:]
    return Split(x[pool_idx], y[pool_idx]), Split(x[test_idx], y[test_idx])


def load_server_test(seed: int) -> Split:
    """Held-out split that no client ever sees; used by the ServerApp."""
    return _shuffled_digits(seed)[1]


def load_partition(partition_id: int, num_partitions: int, seed: int) -> tuple[Split, Split]:
    """IID partition ``partition_id`` of ``num_partitions``, as (train, validation)."""
    if not 0 <= partition_id < num_partitions:
        raise ValueError(f"partition-id {partition_id} not in [0, {num_partitions})")
    pool, _ = _shuffled_digits(seed)
    # The pool is already shuffled, so contiguous chunks are IID partitions.
    chunk = np.array_split(np.arange(len(pool)), num_partitions)[partition_id]
    n_val = max(1, round(len(chunk) * CLIENT_VAL_FRACTION))
    val_idx, train_idx = chunk[:n_val], chunk[n_val:]
    return Split(pool.x[train_idx], pool.y[train_idx]), Split(pool.x[val_idx], pool.y[val_idx])


def init_params(seed: int) -> Params:
    """Small random weights (not zeros, so the demo shows a real starting point)."""
    rng = np.random.default_rng(seed)
    weights = rng.normal(0.0, 0.01, size=(NUM_FEATURES, NUM_CLASSES))
    return [weights, np.zeros(NUM_CLASSES, dtype=np.float64)]


def _softmax(logits: FloatArray) -> FloatArray:
    shifted = logits - logits.max(axis=1, keepdims=True)  # avoids overflow in exp
    exp = np.exp(shifted)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True), dtype=np.float64)


def _probabilities(params: Params, x: FloatArray) -> FloatArray:
    weights, bias = params
    return _softmax(x @ weights + bias)


def _cross_entropy(probs: FloatArray, y: IntArray) -> float:
    picked = probs[np.arange(len(y)), y]
    return float(-np.mean(np.log(np.clip(picked, 1e-12, 1.0))))


def evaluate(params: Params, data: Split) -> tuple[float, float]:
    """Return (mean cross-entropy loss, accuracy) of ``params`` on ``data``."""
    probs = _probabilities(params, data.x)
    accuracy = float(np.mean(probs.argmax(axis=1) == data.y))
    return _cross_entropy(probs, data.y), accuracy


def train(
    params: Params,
    data: Split,
    *,
    epochs: int,
    learning_rate: float,
    batch_size: int,
    seed: int | tuple[int, ...],
) -> Params:
    """Mini-batch SGD on the softmax cross-entropy; returns new parameters.

    ``seed`` may be a tuple such as (seed, partition, round) so that every
    client and round gets its own, reproducible, mini-batch order.
    """
    weights, bias = (p.astype(np.float64, copy=True) for p in params)
    rng = np.random.default_rng(seed)
    one_hot = np.eye(NUM_CLASSES)[data.y]
    for _ in range(epochs):
        order = rng.permutation(len(data))
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            probs = _softmax(data.x[batch] @ weights + bias)
            # Gradient of the mean cross-entropy w.r.t. the logits is (p - y) / n.
            grad_logits = (probs - one_hot[batch]) / len(batch)
            weights -= learning_rate * (data.x[batch].T @ grad_logits)
            bias -= learning_rate * grad_logits.sum(axis=0)
    return [weights, bias]
