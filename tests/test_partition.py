"""The partition function: exact sums against brute force, AIS against exact."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conftest import all_states
from torch.nn.functional import softplus

from deepbelief import BernoulliRBM, partition
from deepbelief.datasets import load_digits
from deepbelief.partition import (
    LogZEstimate,
    ais_log_partition,
    base_rate_bias,
    default_betas,
    exact_log_partition,
    log_likelihood,
    reverse_ais_log_partition,
)

SHORT = np.linspace(0.0, 1.0, 3001)


#: Small models: one thread is fastest, and immune to a busy machine.
pytestmark = pytest.mark.usefixtures("one_thread")


def random_rbm(n_visible: int, n_hidden: int, scale: float, seed: int = 0,
               dtype: str = "float32") -> BernoulliRBM:
    gen = torch.Generator().manual_seed(seed)
    W = scale * torch.randn(n_hidden, n_visible, generator=gen, dtype=torch.float64)
    b = 0.5 * torch.randn(n_visible, generator=gen, dtype=torch.float64) - 0.5
    c = 0.5 * torch.randn(n_hidden, generator=gen, dtype=torch.float64) - 0.5
    return BernoulliRBM.from_weights(W, b, c, dtype=dtype)


def brute_force_log_z(rbm: BernoulliRBM) -> float:
    """logsumexp over every (v, h) pair of -E(v, h)."""
    v, h = all_states(rbm.n_features_in_), all_states(rbm.n_components_)
    V = v.repeat_interleave(len(h), 0)
    H = h.repeat(len(v), 1)
    return float(torch.logsumexp(-rbm.energy(V, H), 0))


@pytest.fixture(scope="module")
def digits_rbm():
    """A 64-15 RBM trained briefly on binarised 8x8 digits, with its exact log Z."""
    X, _ = load_digits()
    X = (X >= 0.5).astype(np.float32)
    rbm = BernoulliRBM(15, k=1, sampler="pcd", learning_rate=0.05, n_iter=30,
                       batch_size=20, dtype="float64", random_state=0).fit(X)
    return rbm, X, exact_log_partition(rbm)


# ---------------------------------------------------------------------- exact
@pytest.mark.parametrize("shape, scale", [((5, 4), 1.0), ((3, 6), 2.5), ((7, 2), 0.3)])
def test_exact_matches_brute_force(shape, scale):
    rbm = random_rbm(*shape, scale=scale, dtype="float64")
    expected = brute_force_log_z(rbm)
    for layer in (None, "hidden", "visible"):
        assert exact_log_partition(rbm, layer=layer) == pytest.approx(expected, abs=1e-10)


def test_exact_layers_agree_with_large_weights():
    rbm = random_rbm(18, 13, scale=2.0, seed=3, dtype="float64")
    by_hidden = exact_log_partition(rbm, layer="hidden")
    assert by_hidden > 40  # large weights: far above the uniform model's 31 log 2 = 21.5
    assert exact_log_partition(rbm, layer="visible") == pytest.approx(by_hidden, rel=1e-12)


def test_exact_float32_model_is_summed_in_float64():
    rbm32 = random_rbm(20, 14, scale=1.0, seed=5)
    rbm64 = BernoulliRBM.from_weights(rbm32.W_, rbm32.b_, rbm32.c_, dtype="float64")
    assert exact_log_partition(rbm32) == pytest.approx(exact_log_partition(rbm64), abs=1e-12)


def test_exact_sums_chunks_like_one_sum(monkeypatch):
    rbm = random_rbm(18, 13, scale=1.5, seed=7, dtype="float64")
    whole = exact_log_partition(rbm)
    monkeypatch.setattr(partition, "_EXACT_CHUNK_ELEMENTS", 18 * 100)  # 64 chunks of 128 rows
    assert exact_log_partition(rbm) == pytest.approx(whole, abs=1e-10)


def test_exact_refuses_large_layers():
    with pytest.raises(ValueError, match="ais_log_partition"):
        exact_log_partition(random_rbm(30, 26, scale=0.1))
    with pytest.raises(ValueError, match="m <= 25"):
        exact_log_partition(random_rbm(30, 10, scale=0.1), layer="visible")
    with pytest.raises(ValueError, match="layer"):
        exact_log_partition(random_rbm(4, 3, scale=0.1), layer="both")


# ----------------------------------------------------------------- base rates
def test_base_model_log_z_closed_form():
    """No weights, no hidden bias: log Z = Σ_j softplus(b_j) + n_hidden · log 2."""
    b = torch.linspace(-3.0, 2.0, 9, dtype=torch.float64)
    rbm = BernoulliRBM.from_weights(torch.zeros(4, 9), b, torch.zeros(4), dtype="float64")
    expected = float(softplus(b).sum()) + 4 * math.log(2.0)
    assert exact_log_partition(rbm) == pytest.approx(expected, abs=1e-12)
    assert brute_force_log_z(rbm) == pytest.approx(expected, abs=1e-10)


def test_base_rate_bias_is_clipped_logit_of_pixel_means():
    rbm = random_rbm(4, 3, scale=0.1)
    data = np.array([[1, 0, 0, 1], [1, 0, 1, 0], [1, 0, 1, 0], [1, 0, 0, 0]], dtype=float)
    p = np.array([1 - 1e-3, 1e-3, 0.5, 0.25])
    np.testing.assert_allclose(base_rate_bias(rbm, data).numpy(), np.log(p / (1 - p)), rtol=1e-5)
    assert torch.equal(base_rate_bias(rbm), torch.zeros(4))


def test_ais_is_exact_without_weights():
    """With W = 0 and b = the base rates every run has the same weight, whatever c is."""
    rng = np.random.default_rng(0)
    data = (rng.random((200, 12)) < rng.random(12)).astype(np.float32)
    probe = BernoulliRBM.from_weights(np.zeros((5, 12)), np.zeros(12), np.zeros(5),
                                      dtype="float64")
    b = base_rate_bias(probe, data)
    c = torch.tensor([-2.0, -0.5, 0.0, 1.0, 3.0], dtype=torch.float64)
    rbm = BernoulliRBM.from_weights(np.zeros((5, 12)), b, c, dtype="float64")
    est = ais_log_partition(rbm, n_runs=20, betas=np.linspace(0, 1, 11), data=data, seed=0)
    expected = float(softplus(b).sum() + softplus(c).sum())
    assert est.log_z == pytest.approx(expected, abs=1e-10)
    assert est.lower == pytest.approx(expected, abs=1e-10)
    assert est.upper == pytest.approx(expected, abs=1e-10)
    rev = reverse_ais_log_partition(rbm, data, n_runs=20, betas=np.linspace(0, 1, 11), seed=0)
    assert rev.log_z == pytest.approx(expected, abs=1e-10)


def test_default_schedule():
    betas = default_betas()
    assert len(betas) == 14_501 and betas[0] == 0.0 and betas[-1] == 1.0
    steps = np.diff(betas)
    assert np.all(steps > 0)
    np.testing.assert_allclose(steps[:500], 1e-3)
    np.testing.assert_allclose(steps[500:4500], 1e-4)
    np.testing.assert_allclose(steps[4500:], 1e-5)


# ------------------------------------------------------------------------ AIS
@pytest.mark.parametrize("n_visible, n_hidden, scale, base", [
    (30, 10, 0.5, "uniform"),
    (30, 10, 1.5, "data"),
    (30, 10, 3.0, "data"),
    (784, 12, 0.1, "data"),
    (784, 12, 1.0, "data"),
    (784, 12, 3.0, "data"),
])
def test_ais_matches_exact(n_visible, n_hidden, scale, base):
    rbm = random_rbm(n_visible, n_hidden, scale=scale, seed=n_visible + int(10 * scale))
    exact = exact_log_partition(rbm)
    data = rbm.sample(200, steps=200, random_state=1)
    est = ais_log_partition(rbm, n_runs=100, betas=SHORT, base=base, data=data, seed=0)
    assert abs(est.log_z - exact) < 0.2
    assert est.lower <= est.log_z <= est.upper
    assert est.lower - 0.05 <= exact <= est.upper + 0.05


def test_ais_with_default_schedule_on_trained_model(digits_rbm):
    """The customary setting: 100 runs, 14,500 betas, base rates from the data."""
    rbm, X, exact = digits_rbm
    est = ais_log_partition(rbm, data=X, seed=0)
    assert isinstance(est, LogZEstimate)
    assert abs(est.log_z - exact) < 0.1
    assert est.lower - 0.05 <= exact <= est.upper + 0.05
    assert est.upper - est.lower < 0.5


def test_reverse_ais_brackets_exact(digits_rbm):
    rbm, X, exact = digits_rbm
    forward = ais_log_partition(rbm, n_runs=100, betas=SHORT, data=X, seed=1)
    reverse = reverse_ais_log_partition(rbm, X, n_runs=100, betas=SHORT, seed=1)
    assert abs(reverse.log_z - exact) < 0.2
    assert reverse.lower <= reverse.log_z <= reverse.upper
    # Each is a stochastic bound; averaged over seeds the forward one sits below
    # the reverse one.
    assert forward.log_z < reverse.log_z + 0.05


def test_ais_is_deterministic_under_a_seed():
    rbm = random_rbm(30, 10, scale=1.0, seed=7)
    betas = np.linspace(0, 1, 501)
    first = ais_log_partition(rbm, n_runs=20, betas=betas, seed=123)
    assert ais_log_partition(rbm, n_runs=20, betas=betas, seed=123) == first
    assert ais_log_partition(rbm, n_runs=20, betas=betas, seed=124) != first
    gen = torch.Generator().manual_seed(123)
    assert ais_log_partition(rbm, n_runs=20, betas=betas, seed=gen) == first


def test_ais_refuses_bad_arguments():
    rbm = random_rbm(6, 3, scale=0.1)
    with pytest.raises(ValueError, match="n_runs"):
        ais_log_partition(rbm, n_runs=0)
    with pytest.raises(ValueError, match="betas"):
        ais_log_partition(rbm, betas=[0.0, 0.5])
    with pytest.raises(ValueError, match="betas"):
        ais_log_partition(rbm, betas=[0.0, 0.6, 0.4, 1.0])
    with pytest.raises(ValueError, match="base"):
        ais_log_partition(rbm, base="model")
    with pytest.raises(ValueError, match="features"):
        ais_log_partition(rbm, data=np.zeros((3, 5)))


# ------------------------------------------------------------- log-likelihood
def test_log_likelihood_with_given_log_z(digits_rbm):
    rbm, X, exact = digits_rbm
    expected = float(np.mean(-rbm.free_energy(X))) - exact
    assert log_likelihood(rbm, X, log_z=exact) == pytest.approx(expected, abs=1e-9)
    assert rbm.log_likelihood(X, log_z=exact) == pytest.approx(expected, abs=1e-9)
    wrapped = LogZEstimate(exact, exact - 1, exact + 1)
    assert log_likelihood(rbm, X, log_z=wrapped) == pytest.approx(expected, abs=1e-9)
    assert expected < 0


def test_log_likelihood_by_ais(digits_rbm):
    rbm, X, exact = digits_rbm
    expected = log_likelihood(rbm, X, log_z=exact)
    estimate = log_likelihood(rbm, X[:500], n_runs=50, betas=SHORT, data=X, seed=0)
    assert estimate == pytest.approx(log_likelihood(rbm, X[:500], log_z=exact), abs=0.2)
    assert rbm.log_likelihood(X, n_runs=50, betas=SHORT, seed=0) == pytest.approx(expected,
                                                                                abs=0.2)


def test_log_likelihood_validates_x(digits_rbm):
    rbm, _, exact = digits_rbm
    with pytest.raises(ValueError, match="features"):
        log_likelihood(rbm, np.zeros((2, 63)), log_z=exact)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        log_likelihood(rbm, np.full((2, 64), 2.0), log_z=exact)
