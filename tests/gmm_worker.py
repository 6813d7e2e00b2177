"""A Gaussian-mixture fit started by the tests in its own process (alone or under torchrun).

Usage: python gmm_worker.py OUT.npz COVARIANCE_TYPE SOURCE
SOURCE is "array" (the whole array) or "loader" (a DataLoader of minibatches). Every
rank passes the same data; the fitted parameters of rank 0 are written to OUT.npz.
"""

import sys

import numpy as np
import torch
from sklearn.datasets import make_blobs

from deepbelief import distributed
from deepbelief.mixture import GaussianMixture

K, D = 3, 4


def data() -> np.ndarray:
    return make_blobs(n_samples=501, n_features=D, centers=K, cluster_std=[0.5, 1.0, 1.5],
                      random_state=7)[0]


def start(X: np.ndarray, covariance_type: str) -> dict:
    """Fixed initial parameters, so that 1 and 2 processes start from the same point."""
    precisions = {"full": np.tile(np.eye(D), (K, 1, 1)), "tied": np.eye(D),
                  "diag": np.ones((K, D)), "spherical": np.ones(K)}[covariance_type]
    return {"weights_init": np.full(K, 1 / K), "means_init": X[[0, 1, 2]],
            "precisions_init": precisions}


def main() -> None:
    out, covariance_type, source = sys.argv[1], sys.argv[2], sys.argv[3]
    distributed.init_from_env()
    X = data()
    model = GaussianMixture(K, covariance_type=covariance_type, max_iter=30, tol=0.0,
                            **start(X, covariance_type))
    if source == "loader":
        model.fit(torch.utils.data.DataLoader(torch.utils.data.TensorDataset(
            torch.from_numpy(X)), batch_size=64, shuffle=False))
    else:
        model.fit(X)
    if distributed.is_main_process():
        np.savez(out, means=model.means_, covariances=model.covariances_,
                 weights=model.weights_, lower_bound=model.lower_bound_)
    distributed.finish()


if __name__ == "__main__":
    main()
