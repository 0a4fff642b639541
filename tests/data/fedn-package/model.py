"""Build entry point: write the seed model (weights of a linear model) as seed.npz."""

import sys

import numpy as np
from fedn.utils.helpers.helpers import get_helper

HELPER = get_helper("numpyhelper")
N_FEATURES = 4


def init_seed(out_path: str = "seed.npz") -> None:
    rng = np.random.default_rng(0)
    HELPER.save([rng.normal(size=N_FEATURES), np.zeros(1)], out_path)


if __name__ == "__main__":
    init_seed(sys.argv[1] if len(sys.argv) > 1 else "seed.npz")
