"""Synthetic regression data, different per client (FEDN_CLIENT_INDEX); startup prints a summary."""

import os

import numpy as np

TRUE_WEIGHTS = np.array([1.5, -2.0, 0.5, 3.0])


def load(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    seed = int(os.environ.get("FEDN_CLIENT_INDEX", "0")) * 10 + (0 if split == "train" else 1)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(64 if split == "train" else 32, TRUE_WEIGHTS.size))
    y = x @ TRUE_WEIGHTS + 0.7 + rng.normal(scale=0.1, size=x.shape[0])
    return x, y


if __name__ == "__main__":
    x, y = load()
    print(f"startup: {x.shape[0]} training examples, {x.shape[1]} features")
