"""The Gibbs-Langevin sampler: its stationary distribution, its training, its options."""

import itertools
import math

import numpy as np
import pytest
import torch
from sklearn.model_selection import train_test_split

from deepbelief import BernoulliRBM, GaussianBernoulliRBM
from deepbelief.samplers import SAMPLERS, GibbsLangevin

pytestmark = pytest.mark.usefixtures("one_thread")


def bimodal():
    """2 visible, 3 hidden units: p(v) a mixture of 8 Gaussians, two of them heavy."""
    return GaussianBernoulliRBM.from_weights(
        [[1.5, 0.5], [-1.0, 1.5], [0.3, -0.8]], [-0.5, -0.4], [0.2, -0.6, 0.1],
        log_var=[math.log(0.4), math.log(0.6)], dtype="float64").model_


def exact_moments(model):
    """Mean and covariance of p(v) = Σ_h p(h) N(b + Wᵀh, σ²), summing the 2^3 states h."""
    hs = torch.tensor(list(itertools.product([0.0, 1.0], repeat=3)), dtype=torch.float64)
    p_h = torch.softmax(-model.hidden_free_energy(hs), 0)
    means = model.p_v_given_h(hs)
    mean = p_h @ means
    second = torch.einsum("k,ki,kj->ij", p_h, means, means) + torch.diag(model.visible.variance)
    return mean, second - torch.outer(mean, mean)


def chain_moments(sampler, model, steps=300, n=20000):
    g = torch.Generator().manual_seed(0)
    start = torch.randn(n, 2, generator=g, dtype=torch.float64)
    v = sampler.generate(model, start, steps, g)
    return v.mean(0), torch.cov(v.T)


@pytest.mark.parametrize("sampler", [GibbsLangevin(step_size=1.5, n_langevin=3),
                                     GibbsLangevin(step_size=0.8, n_langevin=2),
                                     GibbsLangevin(step_size=0.1, n_langevin=1)])
def test_adjusted_chain_samples_the_exact_marginal(sampler):
    model = bimodal()
    mean, cov = exact_moments(model)
    assert abs(float(cov[0, 1])) > 0.3  # correlated units: a real mixture, not one Gaussian
    got_mean, got_cov = chain_moments(sampler, model)
    torch.testing.assert_close(got_mean, mean, atol=0.03, rtol=0)
    torch.testing.assert_close(got_cov, cov, atol=0.04, rtol=0)


def test_unadjusted_chain_is_visibly_biased():
    """Without the Metropolis step the chain widens p(v|h) (σ² · 2 / (2 - η)): the moment
    check above tells it apart."""
    model = bimodal()
    _, cov = exact_moments(model)
    _, got = chain_moments(GibbsLangevin(step_size=1.0, adjust=False), model, steps=100)
    assert float((got - cov).diagonal().min()) > 0.2


def test_composed_langevin_steps_equal_the_closed_form():
    """L steps v ← v + η (μ - v) + √(2η) σ ε, composed: the mean contracts by ρ = (1 - η)^L."""
    sampler = GibbsLangevin(step_size=0.3, n_langevin=4)
    rho, s = sampler.contraction()
    a = 1 - 0.3
    assert rho == pytest.approx(a ** 4)
    assert s ** 2 == pytest.approx(2 * 0.3 * sum(a ** (2 * i) for i in range(4)))


def test_from_noise_starts_the_chains_at_noise_not_the_data():
    model = bimodal()
    far = torch.full((4000, 2), 50.0, dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    ph0 = model.p_h_given_v(far)
    for from_noise, near in ((True, True), (False, False)):
        v, _ = GibbsLangevin(1, step_size=0.1, adjust=False, from_noise=from_noise).negative(
            model, far, ph0, g)
        assert (float(v.abs().mean()) < 5) is near


def test_generation_starts_where_training_chains_start():
    """From noise: N(0, I) in the model's units; from the data: the base rates
    N(b, σ²), here far from it."""
    for from_noise in (True, False):
        rbm = GaussianBernoulliRBM.from_weights(
            [[0.5, -0.3]], [2.0, -1.0], [0.1], log_var=[math.log(0.25)] * 2, dtype="float64",
            sampler=GibbsLangevin(from_noise=from_noise), random_state=0)
        start = torch.as_tensor(rbm.sample(20000, steps=0))
        mean, var = (torch.zeros(2), torch.ones(2)) if from_noise else (rbm.b_, rbm.variance_)
        torch.testing.assert_close(start.mean(0), torch.as_tensor(mean, dtype=start.dtype),
                                   atol=0.03, rtol=0)
        torch.testing.assert_close(start.var(0), torch.as_tensor(var, dtype=start.dtype),
                                   atol=0.05, rtol=0)


def test_fit_and_resume_with_the_sampler(split):
    """A name or an object; stateless (nothing to save), so a resumed fit repeats the whole."""
    X, X_test = split
    sampler = GibbsLangevin(3, from_noise=True)
    assert sampler.state_dict() == {}
    model = GaussianBernoulliRBM(8, sampler=sampler, n_iter=6, random_state=0).fit(X)
    assert np.isfinite(model.score_samples(X_test)).all()
    assert GaussianBernoulliRBM(8, sampler="langevin", n_iter=1, random_state=0).fit(X)
    assert SAMPLERS["langevin"] is GibbsLangevin


@pytest.fixture(scope="module")
def split(digits):
    X, y = digits
    return train_test_split(X, test_size=1 / 3, stratify=y, random_state=0)


def test_checkpoint_resume_repeats_the_whole_fit(tmp_path, split):
    X, _ = split
    sampler = GibbsLangevin(2, from_noise=True)
    whole = GaussianBernoulliRBM(8, sampler=sampler, n_iter=4, random_state=1).fit(X)
    ckpt = tmp_path / "ckpt"
    GaussianBernoulliRBM(8, sampler=sampler, n_iter=2, random_state=1,
                         checkpoint_dir=ckpt).fit(X)
    resumed = GaussianBernoulliRBM(8, sampler=sampler, n_iter=4, random_state=1,
                                   checkpoint_dir=ckpt)
    resumed.fit(X, resume=True)
    torch.testing.assert_close(resumed.W_, whole.W_, rtol=0, atol=0)


def test_bad_options_and_binary_units_are_refused():
    with pytest.raises(ValueError, match="step_size"):
        GibbsLangevin(step_size=2.0)
    with pytest.raises(ValueError, match="n_langevin"):
        GibbsLangevin(n_langevin=0)
    X = (np.random.default_rng(0).random((20, 4)) > 0.5).astype(float)
    with pytest.raises(ValueError, match=r"Gaussian\) visible units only"):
        BernoulliRBM(3, sampler="langevin", n_iter=1).fit(X)
