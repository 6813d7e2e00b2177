"""Contrastive divergence: the closed-form update is the gradient of the slides' loss."""

import pytest
import torch
from conftest import random_params

from deepbelief import BernoulliRBM
from deepbelief import functional as fn
from deepbelief.model import RBM
from deepbelief.partition import exact_log_partition
from deepbelief.samplers import CD, FPCD, PCD, PT
from deepbelief.training import CDTrainer, cd_chain, cd_statistics


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("persistent", [False, True])
def test_closed_form_equals_autograd_of_free_energy_loss(k, persistent):
    W, b, c = random_params(7, 5, scale=0.5, seed=2)
    g = torch.Generator().manual_seed(0)
    v0 = (torch.rand(16, 7, generator=g, dtype=torch.float64) < 0.4).double()
    chain = (torch.rand(16, 7, generator=g, dtype=torch.float64) < 0.5).double() \
        if persistent else None
    ph0, v_k, ph_k = cd_chain(RBM(W, b, c), v0, k, g, chain)
    dW, db, dc = cd_statistics(v0, ph0, v_k, ph_k)

    params = [t.clone().requires_grad_(True) for t in (W, b, c)]
    loss = (fn.free_energy(v0, *params) - fn.free_energy(v_k.detach(), *params)).sum()
    gW, gb, gc = torch.autograd.grad(loss, params)
    torch.testing.assert_close(dW, -gW)
    torch.testing.assert_close(db, -gb)
    torch.testing.assert_close(dc, -gc)


@pytest.mark.parametrize("reduced", [False, True])
def test_centred_step_follows_autograd_in_centred_coordinates(reduced):
    W, b, c = random_params(7, 5, scale=0.5, seed=3)
    g = torch.Generator().manual_seed(1)
    v0 = (torch.rand(16, 7, generator=g, dtype=torch.float64) < 0.4).double()
    params = [t.clone() for t in (W, b, c)]
    trainer = CDTrainer(RBM(*params), CD(2, mean_field=True), centering=0.1,
                        reducer=(lambda tensors: None) if reduced else None)
    trainer.step(v0, 1.0, 0.0, 0.0, None)
    mu, lam = v0.mean(0), fn.p_h_given_v(v0, W, c).mean(0)  # the first batch sets them
    torch.testing.assert_close(trainer.centering.mu, mu)
    torch.testing.assert_close(trainer.centering.lam, lam)

    # The loss mean(F(v0) - F(v_k)) as a function of centred parameters (W, bₒ, cₒ),
    # with b = bₒ - Wᵀλ and c = cₒ - Wμ.
    _, v_k, _ = cd_chain(RBM(W, b, c), v0, 2, None, mean_field=True)
    Wc, bo, co = (t.clone().requires_grad_(True) for t in (W, b + W.T @ lam, c + W @ mu))
    plain = (Wc, bo - Wc.T @ lam, co - Wc @ mu)
    loss = (fn.free_energy(v0, *plain) - fn.free_energy(v_k, *plain)).mean()
    gW, gb, gc = torch.autograd.grad(loss, (Wc, bo, co))

    W1, b1, c1 = params
    torch.testing.assert_close(W1 - W, -gW)
    torch.testing.assert_close(b1 + W1.T @ lam - (b + W.T @ lam), -gb)
    torch.testing.assert_close(c1 + W1 @ mu - (c + W @ mu), -gc)
    ph0, _, ph_k = cd_chain(RBM(W, b, c), v0, 2, None, mean_field=True)
    plain_dW = cd_statistics(v0, ph0, v_k, ph_k)[0] / 16
    assert not torch.allclose(W1 - W, plain_dW)  # centering changed the step

    ph1 = fn.p_h_given_v(v0, W1, c1).mean(0)
    trainer.step(v0, 1.0, 0.0, 0.0, None)  # later batches move the offsets by the rate
    torch.testing.assert_close(trainer.centering.lam, 0.9 * lam + 0.1 * ph1)
    torch.testing.assert_close(trainer.centering.mu, mu)


def test_step_applies_momentum_and_weight_decay():
    W, b, c = random_params(6, 4, seed=5)
    v0 = (torch.rand(10, 6, generator=torch.Generator().manual_seed(1)) < 0.5).double()
    lr, mom, wd = 0.1, 0.5, 0.01

    def run(reducer):
        params = [t.clone() for t in (W, b, c)]
        trainer = CDTrainer(RBM(*params), CD(1), reducer=reducer)
        for _ in range(3):
            trainer.step(v0, lr, mom, wd, torch.Generator().manual_seed(9))
        return params, trainer

    (W1, b1, c1), fast = run(None)
    (W2, b2, c2), reduced = run(lambda tensors: None)
    torch.testing.assert_close(W1, W2)
    torch.testing.assert_close(c1, c2)

    # One step by hand from the recorded statistics.
    params = [t.clone() for t in (W, b, c)]
    trainer = CDTrainer(RBM(*params))
    ph0, v_k, ph_k = cd_chain(RBM(*params), v0, 1, torch.Generator().manual_seed(9))
    dW, db, dc = cd_statistics(v0, ph0, v_k, ph_k)
    trainer.step(v0, lr, mom, wd, torch.Generator().manual_seed(9))
    torch.testing.assert_close(params[0], W + lr * (dW / 10 - wd * W))
    torch.testing.assert_close(params[1], b + lr * db / 10)


def _exact_mean_log_likelihood(rbm, X):
    v = torch.as_tensor(X, dtype=torch.float64)
    W, b, c = (t.double() for t in (rbm.W_, rbm.b_, rbm.c_))
    return float((-fn.free_energy(v, W, b, c)).mean() - exact_log_partition(rbm))


@pytest.mark.parametrize("params", [
    dict(sampler="cd", learning_rate=0.05, n_iter=15),
    dict(sampler="pcd", learning_rate=0.02, learning_rate_decay=0.1, n_iter=20),
    dict(sampler="pcd", k=3, learning_rate=0.02, learning_rate_decay=0.1, n_iter=20),
    dict(sampler="pcd", centering=0.01, learning_rate=0.02, learning_rate_decay=0.1, n_iter=20),
    dict(sampler="pt", n_temperatures=4, min_beta=0.4, learning_rate=0.02,
         learning_rate_decay=0.1, n_iter=20),
    dict(sampler="fpcd", fast_learning_rate=0.02, learning_rate=0.02, learning_rate_decay=0.1,
         n_iter=20),
    dict(sampler=PCD(1), learning_rate=0.02, learning_rate_decay=0.1, n_iter=20),
])
def test_training_raises_exact_log_likelihood(binary_digits, params):
    X = binary_digits[0][:600]
    rbm = BernoulliRBM(12, batch_size=20, random_state=0, **params)
    rbm._initialize(rbm._validate(X, reset=True))
    before = _exact_mean_log_likelihood(rbm, X)
    rbm.fit(X)
    after = _exact_mean_log_likelihood(rbm, X)
    assert after > before + 1.5, (before, after)
    if rbm.sampler == "pt":  # the estimator's negative phase is parallel tempering
        pt = rbm._get_trainer().sampler.tempering
        torch.testing.assert_close(pt.betas, torch.tensor([1.0, 0.8, 0.6, 0.4]),
                                   check_dtype=False)
        assert pt.states.shape == (4, 20, X.shape[1]) and bool((pt.swaps[0] > 0).all())


def test_fast_weights_drive_the_chains_and_decay():
    """FPCD: the chains sample θ + θ_f, θ_f follows the regular steps scaled by
    fast / regular rate and shrinks by 19/20 per update; the statistics use θ."""
    W, b, c = random_params(6, 4, seed=3)
    g = torch.Generator().manual_seed(0)
    data = (torch.rand(10, 6, generator=g, dtype=torch.float64) < 0.5).double()
    model = RBM(W.clone(), b.clone(), c.clone())
    sampler = FPCD(fast_learning_rate=0.3)
    trainer = CDTrainer(model, sampler)
    trainer.step(data, 0.1, 0.0, 0.0, g)
    torch.testing.assert_close(sampler.fast["W"], 3.0 * (model.W - W))
    torch.testing.assert_close(sampler.fast["c"], 3.0 * (model.c - c))
    W1, fast1 = model.W.clone(), sampler.fast["W"].clone()
    walker = sampler.walker(model)
    torch.testing.assert_close(walker.W, model.W + sampler.fast["W"])
    trainer.step(data, 0.1, 0.0, 0.0, g)
    torch.testing.assert_close(sampler.fast["W"], 0.95 * fast1 + 3.0 * (model.W - W1))
    with pytest.raises(ValueError, match="fast_learning_rate"):
        FPCD(fast_learning_rate=0.0)


def test_persistent_chains_survive_a_short_last_batch():
    W, b, c = random_params(6, 4, seed=8)
    g = torch.Generator().manual_seed(0)
    data = (torch.rand(14, 6, generator=g, dtype=torch.float64) < 0.5).double()
    sampler = PCD()
    trainer = CDTrainer(RBM(W.clone(), b.clone(), c.clone()), sampler)
    trainer.step(data[:10], 0.1, 0.0, 0.0, g)
    after_full = sampler.chains.states.clone()
    trainer.step(data[10:], 0.1, 0.0, 0.0, g)
    assert sampler.chains.states.shape == (10, 6)
    # the waiting chains are untouched
    torch.testing.assert_close(sampler.chains.states[4:], after_full[4:])
    trainer.step(data[:10], 0.1, 0.0, 0.0, g)
    assert sampler.chains.states.shape == (10, 6)


def test_parallel_tempering_trains_and_resumes(binary_digits):
    """PT's chains drive the negative phase: the exact log-likelihood rises, and a
    trainer restored from its state takes the same next step."""
    X = torch.as_tensor(binary_digits[0][:600], dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    model = RBM.initial(12, X.mean(0), g)
    start = BernoulliRBM.from_weights(model.W.clone(), model.b.clone(), model.c.clone(),
                                      dtype="float64")
    trainer = CDTrainer(model, PT(betas=[1.0, 0.8, 0.6, 0.4]))
    for _ in range(100):
        for batch in X.split(100):
            trainer.step(batch, 0.2, 0.5, 0.0, g)
    fitted = BernoulliRBM.from_weights(model.W, model.b, model.c, dtype="float64")
    before = float(-start.model_.free_energy(X).mean()) - exact_log_partition(start)
    after = float(-fitted.model_.free_energy(X).mean()) - exact_log_partition(fitted)
    assert after > before + 2, (before, after)  # -24.5 -> -21.3 nats

    copy = RBM(model.W.clone(), model.b.clone(), model.c.clone())
    twin = CDTrainer(copy, PT(betas=[1.0, 0.8, 0.6, 0.4]))
    twin.load_state_dict({k: v.clone() for k, v in trainer.state_dict().items()})
    g1, g2 = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    trainer.step(X[:100], 0.05, 0.5, 0.0, g1)
    twin.step(X[:100], 0.05, 0.5, 0.0, g2)
    torch.testing.assert_close(copy.W, model.W, rtol=0, atol=0)


@pytest.mark.parametrize("old, new", [
    (dict(k=2, mean_field=True), CD(2, mean_field=True)),
    (dict(persistent=True), PCD()),
    (dict(persistent=True, fast_learning_rate=0.3), FPCD(fast_learning_rate=0.3)),
    (dict(tempering=[1.0, 0.7]), PT(betas=[1.0, 0.7])),
])
def test_the_trainers_old_keywords_build_their_sampler_with_a_warning(old, new):
    """CDTrainer(persistent=..., tempering=..., ...) of earlier releases: the same
    steps as the sampler object, and a DeprecationWarning naming it."""
    W, b, c = random_params(6, 4, seed=2)
    data = (torch.rand(10, 6, generator=torch.Generator().manual_seed(1)) < 0.5).double()
    with pytest.warns(DeprecationWarning, match="sampler"):
        old_trainer = CDTrainer(RBM(W.clone(), b.clone(), c.clone()), **old)
    assert type(old_trainer.sampler) is type(new)
    new_trainer = CDTrainer(RBM(W.clone(), b.clone(), c.clone()), new)
    for trainer in (old_trainer, new_trainer):
        g = torch.Generator().manual_seed(3)
        for _ in range(3):
            trainer.step(data, 0.1, 0.5, 0.0, g)
    torch.testing.assert_close(old_trainer.model.W, new_trainer.model.W, rtol=0, atol=0)
    with pytest.raises(ValueError, match="persistent"):
        CDTrainer(RBM(W, b, c), fast_learning_rate=0.3)
