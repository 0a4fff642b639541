"""Validate entry point: loss (mean squared error) and r2 on train and test data, as JSON."""

import sys

import numpy as np
from fedn.utils.helpers.helpers import get_helper, save_metrics

from data import load

HELPER = get_helper("numpyhelper")


def validate(in_path: str, out_json: str) -> None:
    w, b = HELPER.load(in_path)
    report = {}
    for split in ("train", "test"):
        x, y = load(split)
        pred = x @ w + b[0]
        mse = float(np.mean((pred - y) ** 2))
        report[f"{split}_loss"] = mse
        report[f"{split}_r2"] = float(1 - mse / np.var(y))
    save_metrics(report, out_json)


if __name__ == "__main__":
    validate(sys.argv[1], sys.argv[2])
