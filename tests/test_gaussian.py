"""The Gaussian-Bernoulli RBM: formulas against integration, training, likelihood, inputs."""

import math

import numpy as np
import pytest
import torch
from scipy import integrate
from sklearn.model_selection import train_test_split
from sklearn.utils.estimator_checks import check_estimator

from deepbelief import GaussianBernoulliRBM, load
from deepbelief import functional as fn
from deepbelief.model import RBM
from deepbelief.partition import (
    ais_log_partition,
    exact_log_partition,
    log_likelihood,
    reverse_ais_log_partition,
)
from deepbelief.samplers import CD
from deepbelief.training import CDTrainer
from deepbelief.units import Gaussian


def tiny(n_visible=1, **kw):
    """A float64 model with 1 or 2 visible units and 2-3 hidden units."""
    if n_visible == 1:
        return GaussianBernoulliRBM.from_weights(
            [[0.8], [-0.5]], [0.3], [0.1, -0.2], log_var=[math.log(0.7)], dtype="float64",
            **kw)
    return GaussianBernoulliRBM.from_weights(
        [[0.8, 0.3], [-0.5, 1.0], [0.2, 0.2]], [0.3, -1.0], [0.1, -0.2, 0.5],
        log_var=[math.log(0.7), math.log(1.5)], mean=[1.0, 2.0], scale=[2.0, 0.5],
        dtype="float64", **kw)


@pytest.fixture(scope="module")
def split(digits):
    X, y = digits
    return train_test_split(X, test_size=1 / 3, stratify=y, random_state=0)


@pytest.fixture(scope="module")
def trained(split):
    X, _ = split
    return GaussianBernoulliRBM(16, random_state=0).fit(X)


# ------------------------------------------------------------------- formulas
def test_exact_log_partition_matches_numerical_integration():
    model = tiny()
    f = lambda x: math.exp(-float(model.free_energy(np.array([[x]]))[0]))  # noqa: E731
    z, _ = integrate.quad(f, -40, 40)
    assert exact_log_partition(model) == pytest.approx(math.log(z), abs=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("n_visible", [1, 2])
def test_density_integrates_to_one(n_visible):
    model = tiny(n_visible)
    if n_visible == 1:
        total, _ = integrate.quad(
            lambda x: math.exp(float(model.score_samples(np.array([[x]]))[0])), -40, 40)
    else:  # standardised by mean (1, 2) and scale (2, 0.5): the density of the raw inputs
        total, _ = integrate.dblquad(
            lambda y, x: math.exp(float(model.score_samples(np.array([[x, y]]))[0])),
            -30, 30, -10, 14)
    assert total == pytest.approx(1.0, abs=1e-6)


def test_density_on_the_unit_interval_integrates_to_one():
    """A column modelled on (0, 1) through its logit: the density of x, Jacobian included."""
    model = tiny(unit_columns=[True])
    total, _ = integrate.quad(
        lambda x: math.exp(float(model.score_samples(np.array([[x]]))[0])), 0, 1, limit=200)
    assert total == pytest.approx(1.0, abs=1e-6)
    assert model.score_samples(np.array([[0.0], [1.0], [-0.5]])).tolist() == [-np.inf] * 3


def test_mixed_support_density_integrates_to_one():
    """A column on (0, 1) beside a real one: Gauss-Legendre on the square (0, 1) x (-4, 8)."""
    model = tiny(2, unit_columns=[True, False])
    nodes, weights = np.polynomial.legendre.leggauss(400)
    x, wx = (nodes + 1) / 2, weights / 2
    y, wy = nodes * 6 + 2, weights * 6
    grid = np.stack(np.meshgrid(x, y, indexing="ij"), -1).reshape(-1, 2)
    density = np.exp(model.score_samples(grid)).reshape(400, 400)
    assert wx @ density @ wy == pytest.approx(1.0, abs=1e-6)


def test_conditionals_match_the_joint():
    model = tiny(2).model_
    units = model.visible
    g = torch.Generator().manual_seed(0)
    v = torch.randn(4, 2, generator=g, dtype=torch.float64)
    hs = torch.tensor([[a, b, c] for a in (0.0, 1.0) for b in (0.0, 1.0) for c in (0.0, 1.0)],
                      dtype=torch.float64)
    for row in v:
        joint = torch.exp(-model.energy(row.expand(8, -1), hs))
        # p(h_i = 1 | v) from the joint over the 8 hidden states
        p_h = (joint[:, None] * hs).sum(0) / joint.sum()
        torch.testing.assert_close(model.p_h_given_v(row[None])[0], p_h)
    # p(v | h) ∝ exp(-E(v, h)) in v: a Gaussian with mean b + Wᵀh and variance σ²
    h = hs[5:6]
    mean, var = model.p_v_given_h(h)[0], units.variance
    xs = torch.randn(6, 2, generator=g, dtype=torch.float64)
    log_joint = -model.energy(xs, h.expand(6, -1))
    log_normal = (-(xs - mean) ** 2 / (2 * var) - 0.5 * torch.log(2 * math.pi * var)).sum(1)
    diffs = log_joint - log_normal  # constant in v
    torch.testing.assert_close(diffs, diffs[:1].expand(6))


def test_free_energy_sums_out_the_hidden_units():
    model = tiny(2).model_
    v = torch.randn(5, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    hs = torch.tensor([[a, b, c] for a in (0.0, 1.0) for b in (0.0, 1.0) for c in (0.0, 1.0)],
                      dtype=torch.float64)
    brute = torch.stack([-torch.logsumexp(-model.energy(row.expand(8, -1), hs), 0) for row in v])
    torch.testing.assert_close(model.free_energy(v), brute)


def test_cd_step_is_the_preconditioned_gradient_of_the_free_energy_loss():
    """The step on W and b is the gradient times σ² per visible unit over 1 + mean ‖p(h|v0)‖²;
    on c and log σ², the gradient."""
    g = torch.Generator().manual_seed(0)
    W = 0.5 * torch.randn(4, 3, generator=g, dtype=torch.float64)
    b, c = torch.randn(3, generator=g, dtype=torch.float64), torch.zeros(4, dtype=torch.float64)
    log_var = torch.tensor([0.2, -0.3, 0.0], dtype=torch.float64)
    model = RBM(W.clone(), b.clone(), c.clone(), Gaussian(log_var.clone()))
    v0 = torch.randn(16, 3, generator=g, dtype=torch.float64)
    trainer = CDTrainer(model, CD(2, sample_visible=True))
    v_k = trainer.step(v0, 1.0, 0.0, 0.0, torch.Generator().manual_seed(5))

    params = [t.clone().requires_grad_(True) for t in (W, b, c, log_var)]

    def free_energy(v, W, b, c, log_var):
        return fn.free_energy(v, W, b, c, visible=Gaussian(log_var))

    loss = (free_energy(v0, *params) - free_energy(v_k, *params)).mean()
    gW, gb, gc, glv = torch.autograd.grad(loss, params)
    var = log_var.exp()
    ph0 = fn.p_h_given_v(v0, W, c, visible=Gaussian(log_var))
    norm = 1 + ph0.square().sum(1).mean()  # the normalised step of W and b
    torch.testing.assert_close(model.W - W, -gW * var / norm)
    torch.testing.assert_close(model.b - b, -gb * var / norm)
    torch.testing.assert_close(model.c - c, -gc)
    torch.testing.assert_close(model.visible.log_var - log_var, -glv)


@pytest.mark.parametrize("reduced", [False, True])
def test_clipped_step_is_the_step_scaled_to_the_largest_norm(reduced):
    """With max_grad_norm the batch-mean statistics of W, b (times σ²), c and log σ² are
    scaled together to that norm, so the whole step shrinks by one factor; below it,
    nothing changes."""
    g = torch.Generator().manual_seed(3)
    W = 0.5 * torch.randn(4, 3, generator=g, dtype=torch.float64)
    b, c = torch.randn(3, generator=g, dtype=torch.float64), torch.zeros(4, dtype=torch.float64)
    log_var = torch.tensor([0.2, -0.3, 0.0], dtype=torch.float64)
    v0 = torch.randn(16, 3, generator=g, dtype=torch.float64)

    def step(max_grad_norm):
        model = RBM(W.clone(), b.clone(), c.clone(), Gaussian(log_var.clone()))
        trainer = CDTrainer(model, CD(2, sample_visible=True), max_grad_norm=max_grad_norm,
                            reducer=(lambda tensors: None) if reduced else None)
        v_k = trainer.step(v0, 1.0, 0.0, 0.0, torch.Generator().manual_seed(5))
        deltas = [t - t0 for t, t0 in zip((model.W, model.b, model.c, model.visible.log_var),
                                          (W, b, c, log_var), strict=True)]
        return deltas, v_k

    plain, v_k = step(None)
    params = [t.clone().requires_grad_(True) for t in (W, b, c, log_var)]
    energy = [fn.free_energy(v, *params[:3], visible=Gaussian(params[3])) for v in (v0, v_k)]
    gW, gb, gc, glv = torch.autograd.grad((energy[0] - energy[1]).mean(), params)
    var = log_var.exp()
    norm = float(torch.cat([(gW * var).ravel(), gb * var, gc, glv]).norm())
    clipped, _ = step(norm / 4)
    for d, d_plain in zip(clipped, plain, strict=True):
        torch.testing.assert_close(d, d_plain / 4)
    for d, d_plain in zip(step(norm * 2)[0], plain, strict=True):
        torch.testing.assert_close(d, d_plain)


def test_gibbs_chain_samples_the_model_distribution():
    """Moments of a long run of many chains match p(v) = Σ_h p(h) N(b + Wᵀh, σ²)."""
    rbm = tiny()
    model = rbm.model_
    hs = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    p_h = torch.softmax(-model.hidden_free_energy(hs), 0)
    means = model.p_v_given_h(hs)[:, 0]
    var = float(model.visible.variance[0])
    exact_mean = float((p_h * means).sum())
    exact_var = float((p_h * (means ** 2 + var)).sum()) - exact_mean ** 2
    draws = rbm.sample(4000, steps=200, random_state=0)[:, 0]
    assert draws.mean() == pytest.approx(exact_mean, abs=0.05)
    assert draws.var() == pytest.approx(exact_var, rel=0.05)


# ------------------------------------------------------------ training, scores
def test_training_raises_the_exact_test_log_likelihood(split, trained):
    X, X_test = split
    early = GaussianBernoulliRBM(16, n_iter=1, random_state=0).fit(X)
    before, after = early.score_samples(X_test).mean(), trained.score_samples(X_test).mean()
    assert np.isfinite(after) and after > before + 10, (before, after)
    assert np.isfinite(trained.variance_).all()
    assert trained.variance_.min() >= trained.min_variance * (1 - 1e-6)


@pytest.mark.slow
def test_ais_matches_the_exact_log_partition(split, trained):
    X, _ = split
    exact = exact_log_partition(trained)
    forward = ais_log_partition(trained, data=X, seed=0)
    reverse = reverse_ais_log_partition(trained, X, seed=0,
                                        burn_in=200)
    assert abs(forward.log_z - exact) < 0.2
    # reverse AIS starts from Gibbs samples of a slowly mixing chain: looser
    assert abs(reverse.log_z - exact) < 1.0
    ll = log_likelihood(trained, X, log_z=exact)
    assert ll == pytest.approx(trained.score_samples(X).mean(), rel=1e-6)


def test_samples_come_back_in_the_inputs_units(split, trained):
    X, _ = split
    samples = trained.sample(500, steps=100, random_state=0)
    assert samples.shape == (500, 64)
    np.testing.assert_allclose(trained.mean_, X.mean(0), atol=1e-5)
    # the average image comes back, not the standardised one (whose mean is 0)
    assert np.abs(samples.mean(0) - X.mean(0)).mean() < 0.1 < X.mean()
    recon = trained.p_v_given_h(trained.transform(X[:5]))
    assert recon.shape == (5, 64) and np.abs(recon - X[:5]).mean() < 0.2


def test_raw_and_standardised_inputs_give_the_same_model(split):
    """Standardising inside the estimator: scaling the inputs changes nothing but units."""
    X, _ = split
    a = GaussianBernoulliRBM(8, n_iter=20, random_state=0, dtype="float64").fit(X)
    b = GaussianBernoulliRBM(8, n_iter=20, random_state=0, dtype="float64").fit(X * 16 + 3)
    np.testing.assert_allclose(a.transform(X), b.transform(X * 16 + 3), atol=1e-4)
    # the density of the scaled inputs is 16^d times smaller, d the varying features
    # (a constant one keeps scale 1)
    d = int((X.std(0) > 0).sum())
    np.testing.assert_allclose(a.score_samples(X[:5]) - d * math.log(16),
                               b.score_samples(X[:5] * 16 + 3), atol=1e-3)


def test_save_load_and_checkpoint_resume(tmp_path, split):
    X, _ = split
    model = GaussianBernoulliRBM(8, n_iter=4, random_state=0).fit(X)
    model.save(tmp_path / "g.safetensors")
    back = load(tmp_path / "g.safetensors")
    assert isinstance(back, GaussianBernoulliRBM)
    np.testing.assert_array_equal(back.variance_, model.variance_)
    np.testing.assert_array_equal(back.score_samples(X[:10]), model.score_samples(X[:10]))

    whole = GaussianBernoulliRBM(8, n_iter=4, random_state=1).fit(X)
    ckpt = tmp_path / "ckpt"
    GaussianBernoulliRBM(8, n_iter=2, random_state=1, checkpoint_dir=ckpt).fit(X)
    resumed = GaussianBernoulliRBM(8, n_iter=4, random_state=1, checkpoint_dir=ckpt)
    resumed.fit(X, resume=True)
    torch.testing.assert_close(resumed.W_, whole.W_, rtol=0, atol=0)
    torch.testing.assert_close(resumed.model_.visible.log_var, whole.model_.visible.log_var,
                               rtol=0, atol=0)


def test_constant_columns_train_without_harm(split):
    X, _ = split
    X = X.copy()
    X[:, 5] = 3.0
    model = GaussianBernoulliRBM(8, n_iter=30, random_state=0).fit(X)
    assert np.isfinite(model.score_samples(X)).all()
    assert model.scale_[5] == 1.0


def dequantised(X: np.ndarray) -> np.ndarray:
    """Pixels in [0, 1] made values strictly inside (0, 1): (16 x + U(0, 1)) / 17."""
    noise = np.random.default_rng(0).random(X.shape)
    return (np.rint(X * 16) + noise) / 17


def test_support_auto_takes_the_logit_of_columns_inside_the_unit_interval(split):
    X, X_test = (dequantised(part) for part in split)
    X[:, 0] = X[:, 0] * 4 - 2  # one column on the real line
    rbm = GaussianBernoulliRBM(8, n_iter=5, random_state=0).fit(X)
    assert rbm.unit_columns_.tolist() == [False] + [True] * 63
    np.testing.assert_allclose(rbm.mean_[1:], np.log(X[:, 1:] / (1 - X[:, 1:])).mean(0),
                               rtol=1e-4, atol=1e-5)
    samples = rbm.sample(50, steps=10, random_state=0)
    assert ((samples[:, 1:] > 0) & (samples[:, 1:] < 1)).all()
    assert samples[:, 0].min() < 0  # the real column is not squashed
    real = GaussianBernoulliRBM(8, n_iter=5, random_state=0, support="real").fit(X)
    assert not real.unit_columns_.any()
    np.testing.assert_allclose(real.mean_, X.mean(0), rtol=1e-5)
    X_test = X_test.copy()
    X_test[0, 5] = 0.0  # outside the support: zero density, finite features
    assert rbm.score_samples(X_test[:2])[0] == -np.inf
    assert np.isfinite(rbm.score_samples(X_test[1:3])).all()
    assert np.isfinite(rbm.transform(X_test[:2])).all()


def test_support_unit_refuses_values_outside_in_training(split):
    X, _ = split  # pixels / 16: zeros in every column
    with pytest.raises(ValueError, match="modelled on \\(0, 1\\).*support='real'"):
        GaussianBernoulliRBM(4, n_iter=1, support="unit").fit(X)
    assert not GaussianBernoulliRBM(4, n_iter=1).fit(X).unit_columns_.any()
    inside = dequantised(X)
    later = inside[100:200].copy()
    later[3, 7] = 1.0
    stream = iter([inside[:100], later])
    with pytest.raises(ValueError, match="column 7 is modelled on"):
        GaussianBernoulliRBM(4, n_iter=1, batch_size=100).fit(stream)
    with pytest.raises(ValueError, match="support"):
        GaussianBernoulliRBM(4, support="bounded").fit(inside)


def test_unit_columns_survive_files_from_weights_and_resume(tmp_path, split):
    X, X_test = (dequantised(part) for part in split)
    rbm = GaussianBernoulliRBM(8, n_iter=3, random_state=0).fit(X)
    rbm.save(tmp_path / "g.safetensors")
    back = load(tmp_path / "g.safetensors")
    np.testing.assert_array_equal(back.unit_columns_, rbm.unit_columns_)
    np.testing.assert_array_equal(back.score_samples(X_test[:10]), rbm.score_samples(X_test[:10]))
    again = GaussianBernoulliRBM.from_weights(
        rbm.W_, rbm.b_, rbm.c_, log_var=rbm.model_.visible.log_var, mean=rbm.mean_,
        scale=rbm.scale_, unit_columns=rbm.unit_columns_)
    np.testing.assert_allclose(again.score_samples(X_test[:10]), rbm.score_samples(X_test[:10]))
    whole = GaussianBernoulliRBM(8, n_iter=4, random_state=1).fit(X)
    GaussianBernoulliRBM(8, n_iter=2, random_state=1, checkpoint_dir=tmp_path / "c").fit(X)
    resumed = GaussianBernoulliRBM(8, n_iter=4, random_state=1, checkpoint_dir=tmp_path / "c")
    resumed.fit(X, resume=True)
    torch.testing.assert_close(resumed.W_, whole.W_, rtol=0, atol=0)
    assert resumed.unit_columns_.all()


@pytest.mark.slow
def test_defaults_on_dequantised_digits_beat_a_gaussian_mixture_of_its_size(split):
    """The exact test log-likelihood of GaussianBernoulliRBM(16) against scikit-learn's
    GaussianMixture with as many parameters (diagonal and spherical, best of 5 starts)."""
    from sklearn.mixture import GaussianMixture

    X, X_test = (dequantised(part) for part in split)
    keep = X.std(0) > 0
    X, X_test = X[:, keep], X_test[:, keep]
    d = X.shape[1]
    rbm = GaussianBernoulliRBM(16, random_state=0).fit(X)
    ours = rbm.score_samples(X_test).mean()
    n_params = 16 * d + 16 + 2 * d
    for kind, per_component in (("diag", 2 * d + 1), ("spherical", d + 2)):
        k = max(1, round(n_params / per_component))
        gmm = GaussianMixture(k, covariance_type=kind, n_init=5, max_iter=500,
                              random_state=0).fit(X)
        assert ours > gmm.score(X_test), (kind, ours, gmm.score(X_test))


@pytest.mark.parametrize("bad, match", [
    (np.array([[0.0, np.nan], [1.0, 2.0]]), "NaN"),
    (np.array([[0.0, np.inf], [1.0, 2.0]]), "NaN or infinity"),
    (np.zeros((0, 3)), "0 sample"),
    (np.zeros(5), "2D"),
])
def test_bad_input_is_refused_clearly(bad, match):
    with pytest.raises(ValueError, match=match):
        GaussianBernoulliRBM(4, n_iter=1).fit(bad)


def test_wrong_feature_count_and_hidden_states(trained):
    with pytest.raises(ValueError, match="64 features"):
        trained.transform(np.zeros((2, 10)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        trained.p_v_given_h(np.full((2, 16), 2.0))


def test_max_grad_norm_reaches_the_trainer_and_is_checked(split):
    X, _ = split
    rbm = GaussianBernoulliRBM(8, n_iter=2, max_grad_norm=5.0, random_state=0).fit(X)
    assert rbm._get_trainer().clipping.max_norm == 5.0
    assert np.isfinite(rbm.score_samples(X[:20])).all()
    assert GaussianBernoulliRBM(8, n_iter=1).fit(X)._get_trainer().clipping is None
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match="max_grad_norm"):
            GaussianBernoulliRBM(8, n_iter=1, max_grad_norm=bad).fit(X)


def test_check_estimator():
    check_estimator(GaussianBernoulliRBM(4, n_iter=2, random_state=0))
