"""Gaussian mixture on data streamed in minibatches and data-parallel under torchrun."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from deepbelief.mixture import GaussianMixture

sys.path.insert(0, str(Path(__file__).parent))
import gmm_worker  # noqa: E402

WORKER = Path(__file__).with_name("gmm_worker.py")
COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]


def _fit(X, covariance_type: str, data=None, **kwargs) -> GaussianMixture:
    model = GaussianMixture(gmm_worker.K, covariance_type=covariance_type, max_iter=30,
                            tol=0.0, **gmm_worker.start(X, covariance_type), **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X if data is None else data)


def _assert_same_fit(a, b, atol: float) -> None:
    for name in ("means_", "covariances_", "weights_", "precisions_cholesky_"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), atol=atol, rtol=0)
    assert a.lower_bound_ == pytest.approx(b.lower_bound_, abs=atol, rel=0)
    np.testing.assert_allclose(a.lower_bounds_, b.lower_bounds_, atol=atol, rtol=0)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_data_loader_fits_like_the_array(covariance_type):
    X = gmm_worker.data()
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(X), torch.zeros(len(X))),
        batch_size=64, shuffle=False)
    _assert_same_fit(_fit(X, covariance_type), _fit(X, covariance_type, loader), 1e-8)


def test_stream_of_plain_minibatches_and_kmeans_start_from_first_batch():
    X = gmm_worker.data()

    class Batches:  # re-iterable, minibatches of unequal size
        def __iter__(self):
            return iter(np.array_split(X, 7))

    model = GaussianMixture(3, random_state=0).fit(Batches())
    reference = GaussianMixture(3, random_state=0).fit(X)
    order = np.argsort(model.means_[:, 0])
    np.testing.assert_allclose(model.means_[order],
                               reference.means_[np.argsort(reference.means_[:, 0])], atol=1e-3)
    assert model.score(X) == pytest.approx(reference.score(X), abs=1e-4)


def test_one_shot_iterator_and_empty_stream_are_refused():
    X = gmm_worker.data()
    with pytest.raises(ValueError, match="one-shot"):
        GaussianMixture(3).fit(iter(np.array_split(X, 4)))
    with pytest.raises(ValueError, match="empty"):
        GaussianMixture(3).fit(torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(torch.zeros(0, 2))))
    with pytest.raises(ValueError, match="features"):
        GaussianMixture(3).fit(_Stream([X[:50], X[50:100, :2]]))


class _Stream:
    def __init__(self, parts):
        self.parts = parts

    def __iter__(self):
        return iter(self.parts)


@pytest.mark.skipif(not torch.distributed.is_available(), reason="no torch.distributed")
@pytest.mark.slow
@pytest.mark.parametrize(("covariance_type", "source"),
                         [("full", "array"), ("tied", "array"), ("diag", "loader"),
                          ("spherical", "array")])
def test_two_processes_match_one(tmp_path, covariance_type, source):
    single, double = tmp_path / "one.npz", tmp_path / "two.npz"
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK")}
    env["OMP_NUM_THREADS"] = "1"
    subprocess.run([sys.executable, str(WORKER), str(single), covariance_type, source],
                   check=True, env=env, timeout=300)
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                    "--nproc_per_node", "2", str(WORKER), str(double), covariance_type, source],
                   check=True, env=env, timeout=300)
    a, b = np.load(single), np.load(double)
    for name in ("means", "covariances", "weights", "lower_bound"):
        np.testing.assert_allclose(a[name], b[name], atol=1e-6, rtol=0, err_msg=name)
