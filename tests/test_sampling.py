"""The sampler draws from the right distributions."""

import torch
from conftest import all_states, random_params

from deepbelief import functional as fn
from deepbelief import sampling


def test_bernoulli_frequencies():
    g = torch.Generator().manual_seed(0)
    p = torch.tensor([0.0, 0.1, 0.5, 0.9, 1.0]).expand(20000, 5).contiguous()
    x = sampling.bernoulli(p, g)
    assert set(x.unique().tolist()) <= {0.0, 1.0}
    torch.testing.assert_close(x.mean(0), p[0], atol=0.01, rtol=0)


def test_conditional_samples_follow_probabilities():
    W, b, c = random_params(6, 4, seed=3)
    g = torch.Generator().manual_seed(1)
    v = all_states(6)[[5, 40]].repeat_interleave(20000, 0)
    h = sampling.sample_h_given_v(v, W, c, g)
    torch.testing.assert_close(h[:20000].mean(0), fn.p_h_given_v(v[:1], W, c)[0], atol=0.015,
                               rtol=0)
    vs = sampling.sample_v_given_h(h, W, b, g)
    assert vs.shape == v.shape


def test_gibbs_long_run_distribution_matches_exact():
    """Block Gibbs on a 6x4 RBM: empirical p(v) within 0.03 total variation of exact."""
    W, b, c = random_params(6, 4, scale=1.0, seed=7)
    V = all_states(6)
    F = fn.free_energy(V, W, b, c)
    exact = torch.softmax(-F, 0)
    g = torch.Generator().manual_seed(0)
    v = sampling.bernoulli(torch.full((4000, 6), 0.5, dtype=torch.float64), g)
    v = sampling.gibbs(v, W, b, c, steps=50, generator=g)
    counts = torch.zeros(64, dtype=torch.float64)
    code = 2 ** torch.arange(5, -1, -1, dtype=torch.float64)
    for _ in range(10):
        v = sampling.gibbs(v, W, b, c, steps=5, generator=g)
        counts += torch.bincount((v @ code).long(), minlength=64)
    tv = 0.5 * (counts / counts.sum() - exact).abs().sum()
    assert tv < 0.03, tv


def test_parallel_tempering_samples_the_model_at_beta_one():
    """Gibbs steps at three temperatures with swaps: the β = 1 chains' states follow
    the exact p(v) of a small, strongly coupled RBM (total variation < 0.03)."""
    from deepbelief.model import RBM

    W, b, c = random_params(4, 3, scale=2.0, seed=4)
    model = RBM(W, b, c)
    V = all_states(4)
    exact = torch.softmax(-fn.free_energy(V, W, b, c), 0)
    pt = sampling.ParallelTempering(model, [1.0, 0.6, 0.3])
    g = torch.Generator().manual_seed(0)
    pt.start(torch.full((20000, 4), 0.5, dtype=torch.float64), g)
    for _ in range(200):
        v = pt.step(g)
    index = (v * 2 ** torch.arange(3, -1, -1, dtype=torch.float64)).sum(1).long()
    found = torch.bincount(index, minlength=16).double() / v.shape[0]
    assert 0.5 * (found - exact).abs().sum() < 0.03
    assert bool(((pt.acceptance > 0) & (pt.acceptance < 1)).all())


def test_parallel_tempering_run_of_zero_steps_returns_the_current_states():
    from deepbelief.model import RBM

    W, b, c = random_params(4, 3, scale=2.0, seed=4)
    pt = sampling.ParallelTempering(RBM(W, b, c), [1.0, 0.5])
    g = torch.Generator().manual_seed(0)
    pt.start(torch.full((8, 4), 0.5, dtype=torch.float64), g)
    before = pt.states.clone()
    assert torch.equal(pt.run(0, g), before[0])
    assert torch.equal(pt.states, before) and pt.swaps.sum() == 0
    v = pt.run(3, g)  # swaps proposed on steps 1 and 3 (even pairs), 8 chains each
    assert torch.equal(v, pt.states[0]) and pt.swaps[0].sum() == 16


def test_parallel_tempering_checks_its_temperatures():
    from deepbelief.model import RBM
    from deepbelief.units import Gaussian

    W, b, c = random_params(4, 3)
    model = RBM(W, b, c)
    try:
        sampling.ParallelTempering(RBM(W, b, c, Gaussian(torch.zeros(4, dtype=W.dtype))), [1.0])
    except ValueError:
        pass
    else:
        raise AssertionError("Gaussian units accepted")
    for betas in ([0.9, 0.5], [1.0, 1.0], [1.0, 0.5, 0.0], []):
        try:
            sampling.ParallelTempering(model, betas)
        except ValueError:
            continue
        raise AssertionError(f"{betas} accepted")


def test_estimator_generates_with_parallel_tempering(monkeypatch):
    """BernoulliRBM(n_temperatures > 1).sample runs the tempered chains and returns the
    β = 1 states: they follow the exact p(v) (total variation < 0.03)."""
    from deepbelief import BernoulliRBM

    W, b, c = random_params(4, 3, scale=2.0, seed=4)
    rbm = BernoulliRBM.from_weights(W, b, c, sampler="pt", n_temperatures=3, min_beta=0.3,
                                   random_state=0)
    exact = torch.softmax(-fn.free_energy(all_states(4), W, b, c), 0)
    shapes = []
    step = sampling.ParallelTempering.step

    def counted(self, generator):
        shapes.append(tuple(self.states.shape))
        return step(self, generator)

    monkeypatch.setattr(sampling.ParallelTempering, "step", counted)
    v = torch.as_tensor(rbm.sample(20000, steps=200))
    assert shapes == [(3, 20000, 4)] * 200  # 200 tempered steps of three temperatures
    index = (v * 2 ** torch.arange(3, -1, -1, dtype=torch.float64)).sum(1).long()
    found = torch.bincount(index, minlength=16).double() / v.shape[0]
    assert 0.5 * (found - exact).abs().sum() < 0.03
