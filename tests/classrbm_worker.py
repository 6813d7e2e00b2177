"""A ClassRBM training run started by the tests in its own process (alone or under torchrun).

Usage: python classrbm_worker.py OBJECTIVE OUT.safetensors
"""

import sys

import numpy as np

from deepbelief import ClassRBM, distributed
from deepbelief.datasets import load_digits


def main() -> None:
    distributed.init_from_env()
    X, y = load_digits()
    X = (X[:1200] > 0.5).astype(np.float64)
    model = ClassRBM(32, objective=sys.argv[1], n_iter=3, batch_size=40, random_state=0)
    unlabeled = X[900:] if sys.argv[1] == "hybrid" else None  # hybrid: semi-supervised too
    model.fit(X[:900], y[:900], X_unlabeled=unlabeled)
    if distributed.is_main_process():
        model.save(sys.argv[2])
    distributed.finish()


if __name__ == "__main__":
    main()
