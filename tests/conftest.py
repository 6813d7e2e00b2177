"""Shared fixtures: small RBMs whose every distribution can be enumerated."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch

MNIST_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


@pytest.fixture(scope="module")
def one_thread():
    """torch on one thread for a module of small models (``pytestmark = usefixtures``)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def all_states(n: int) -> torch.Tensor:
    """All 2^n binary vectors as rows, float64."""
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=n)), dtype=torch.float64)


def random_params(n_visible: int, n_hidden: int, scale: float = 1.0, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    W = scale * torch.randn(n_hidden, n_visible, generator=g, dtype=torch.float64)
    b = scale * torch.randn(n_visible, generator=g, dtype=torch.float64)
    c = scale * torch.randn(n_hidden, generator=g, dtype=torch.float64)
    return W, b, c


@pytest.fixture
def tiny_params():
    return random_params(5, 3, scale=1.0, seed=1)


@pytest.fixture(scope="session")
def digits():
    from deepbelief.datasets import load_digits

    X, y = load_digits()
    return X, y


@pytest.fixture(scope="session")
def binary_digits(digits):
    X, y = digits
    return (X >= 0.5).astype(np.float32), y


def _squash(X):
    """Any non-negative array-like mapped into [0, 1), so Bernoulli inputs take every check."""
    if isinstance(X, (list, np.ndarray)) or (hasattr(X, "__array__") and not hasattr(X, "toarray")):
        arr = np.asarray(X)
        if arr.dtype.kind in "fiu" and arr.size and np.isfinite(arr).all():
            return arr / (1.0 + np.abs(arr))
    return X


def squashed(cls, module: str):
    """A subclass of an estimator with Bernoulli inputs that first squashes its inputs.

    Assign it to ``Squashed<cls name>`` at the top level of ``module`` so it pickles.
    """

    def _validate(self, X, *args, **kwargs):
        return super(sub, self)._validate(_squash(X), *args, **kwargs)

    name = f"Squashed{cls.__name__}"
    sub = type(name, (cls,), {"_validate": _validate, "__module__": module,
                              "__qualname__": name})
    return sub


def pytest_collection_modifyitems(config, items):
    """A test module may vet its own items: ``keep_item(item)`` marks an item and
    returns whether to keep it (see ``test_sklearn_suites.py``)."""
    kept, dropped = [], []
    for item in items:
        keep = getattr(getattr(item, "module", None), "keep_item", None)
        (kept if keep is None or keep(item) else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
