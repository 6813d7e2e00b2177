"""Shared fixtures: small RBMs whose every distribution can be enumerated."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch

MNIST_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


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
