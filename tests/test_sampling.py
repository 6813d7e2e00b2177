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
