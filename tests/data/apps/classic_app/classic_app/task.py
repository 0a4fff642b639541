"""A linear model on synthetic data: each partition draws its own rows from one truth."""

from __future__ import annotations

import numpy as np

FEATURES = 4
TRUE_WEIGHTS = np.array([1.5, -2.0, 0.5, 3.0])


def partition(partition_id: int, rows: int = 64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7 + partition_id)
    x = rng.normal(size=(rows + 16 * partition_id, FEATURES))
    return x, x @ TRUE_WEIGHTS + rng.normal(scale=0.1, size=len(x))


def train(weights: np.ndarray, x: np.ndarray, y: np.ndarray, epochs: int = 5) -> np.ndarray:
    for _ in range(epochs):
        weights = weights - 0.05 * (2 / len(x)) * x.T @ (x @ weights - y)
    return weights


def mse(weights: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((x @ weights - y) ** 2))
