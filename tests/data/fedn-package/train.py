"""Train entry point: a few gradient steps of least squares; writes the model and its metadata."""

import sys

import numpy as np
from fedn.utils.helpers.helpers import get_helper, save_metadata

from data import load

HELPER = get_helper("numpyhelper")


def train(in_path: str, out_path: str, epochs: int = 5, lr: float = 0.05) -> None:
    if "--fail" in sys.argv or "FAIL" in in_path:
        print("simulated training failure", file=sys.stderr)
        sys.exit(3)
    w, b = HELPER.load(in_path)
    x, y = load("train")
    for _ in range(epochs):
        error = x @ w + b[0] - y
        w = w - lr * 2 * x.T @ error / len(y)
        b = b - lr * 2 * np.array([error.mean()])
    save_metadata(
        {"num_examples": len(y), "epochs": epochs, "lr": lr, "batch_size": len(y)}, out_path
    )
    HELPER.save([w, b], out_path)


if __name__ == "__main__":
    train(sys.argv[1], sys.argv[2])
