"""The DBM's core: layout, energy, exact and AIS log Z, mean-field, Gibbs chain, pre-training.

Every check is against the DBM written out layer by layer,
E(x) = -Σ_l b_lᵀx_l - Σ_l x_lᵀ W_l x_{l-1}, enumerated over all joint states of
models small enough for that.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import all_states
from torch.nn.functional import softplus

from deepbelief.dbm._core import (
    Layout,
    bottom_up,
    exact_log_p_star,
    lower_bound,
    mean_field,
)
from deepbelief.dbm._pretrain import ScaledRBM, doubling
from deepbelief.model import RBM
from deepbelief.partition import ais_log_z, exact_log_z
from deepbelief.sampling import GibbsSampler

#: Small models: one thread is fastest, and immune to a busy machine.
pytestmark = pytest.mark.usefixtures("one_thread")


# ------------------------------------------------------------------- helpers
def random_dbm(sizes, scale: float = 1.0, seed: int = 0):
    """W_l ~ N(0, scale²) of shape (n_l, n_{l-1}) and b_l ~ N(0, 0.5²), float64."""
    g = torch.Generator().manual_seed(seed)
    weights = [scale * torch.randn(n, m, generator=g, dtype=torch.float64)
               for m, n in zip(sizes[:-1], sizes[1:], strict=True)]
    biases = [0.5 * torch.randn(n, generator=g, dtype=torch.float64) for n in sizes]
    return weights, biases


def dbm_energy(weights, biases, xs) -> torch.Tensor:
    """-Σ_l b_lᵀx_l - Σ_l x_lᵀ W_l x_{l-1} per row, layer by layer."""
    e = -sum((x * b).sum(1) for x, b in zip(xs, biases, strict=True))
    for layer, W in enumerate(weights, start=1):
        e = e - ((xs[layer] @ W) * xs[layer - 1]).sum(1)
    return e


def split_layers(states: torch.Tensor, sizes) -> list[torch.Tensor]:
    """Columns of ``states`` as the layers x_0, x_1, ... side by side."""
    return list(torch.split(states, list(sizes), dim=1))


def to_core(layout: Layout, xs) -> tuple[torch.Tensor, torch.Tensor]:
    """The core's (even, odd) values for layer values ``xs``, written out by hand."""
    even = torch.cat([xs[layer] for layer in range(0, len(xs), 2)], dim=1)
    odd = torch.cat([xs[layer] for layer in range(1, len(xs), 2)], dim=1)
    return even, odd


def brute_force_log_z(weights, biases, sizes) -> float:
    """logsumexp of -E over all 2^(Σ n_l) joint states."""
    xs = split_layers(all_states(sum(sizes)), sizes)
    return float(torch.logsumexp(-dbm_energy(weights, biases, xs), 0))


def brute_force_log_p_star(weights, biases, sizes, v: torch.Tensor) -> torch.Tensor:
    """log Σ_h exp(-E(v, h)) per row of ``v``, over every hidden state."""
    h = all_states(sum(sizes[1:]))
    V = v.repeat_interleave(len(h), 0)
    H = h.repeat(len(v), 1)
    xs = [V, *split_layers(H, sizes[1:])]
    return torch.logsumexp(-dbm_energy(weights, biases, xs).view(len(v), -1), 1)


def core(sizes, scale: float = 1.0, seed: int = 0):
    layout = Layout(sizes)
    weights, biases = random_dbm(sizes, scale, seed)
    return layout, layout.compose(weights, biases), weights, biases


def index_of(bits: torch.Tensor) -> torch.Tensor:
    """Each binary row as the integer whose bits (most significant first) it spells,
    the order of :func:`conftest.all_states`."""
    n = bits.shape[1]
    return (bits.long() * (2 ** torch.arange(n - 1, -1, -1))).sum(1)


# -------------------------------------------------------------------- Layout
@pytest.mark.parametrize("sizes", [(5, 4), (5, 4, 3), (5, 4, 3, 2), (5, 4, 3, 2, 2)])
def test_compose_then_weight_and_bias_give_back_the_inputs(sizes):
    layout, model, weights, biases = core(sizes)
    assert layout.n_layers == len(sizes) - 1
    assert model.W.shape == (sum(sizes[1::2]), sum(sizes[0::2]))
    for layer, W_l in enumerate(weights, start=1):
        got = layout.weight(model.W, layer)
        assert got.shape == (sizes[layer], sizes[layer - 1])
        assert torch.equal(got, W_l)
    for layer, b_l in enumerate(biases):
        assert torch.equal(layout.bias(model, layer), b_l)


def test_core_is_the_block_matrix_of_the_layers():
    """For v-h1-h2-h3: rows (h1; h3), columns (v; h2), W = [[W1, W2ᵀ], [0, W3]]."""
    sizes = (5, 4, 3, 2)
    layout, model, (W1, W2, W3), (b0, b1, b2, b3) = core(sizes)
    expected = torch.zeros(6, 8, dtype=torch.float64)
    expected[:4, :5] = W1
    expected[:4, 5:] = W2.T
    expected[4:, 5:] = W3
    assert torch.equal(model.W, expected)
    assert torch.equal(model.b, torch.cat([b0, b2]))
    assert torch.equal(model.c, torch.cat([b1, b3]))
    assert (layout.n_even, layout.n_odd) == (8, 6)
    assert layout.hidden_even == slice(5, 8)


def test_mask_is_one_exactly_on_adjacent_layers():
    W = torch.zeros(6, 8)
    assert Layout((5, 4)).mask(torch.zeros(4, 5)) is None
    assert Layout((5, 4, 3)).mask(torch.zeros(4, 8)) is None
    mask = Layout((5, 4, 3, 2)).mask(W)
    expected = torch.ones(6, 8)
    expected[4:, :5] = 0.0  # h3 and v do not touch
    assert torch.equal(mask, expected)
    # four hidden layers v-h1-h2-h3-h4: rows (h1 4; h3 2), columns (v 5; h2 3; h4 2)
    mask = Layout((5, 4, 3, 2, 2)).mask(torch.zeros(6, 10))
    expected = torch.zeros(6, 10)
    expected[:4, :5] = 1.0   # h1-v
    expected[:4, 5:8] = 1.0  # h1-h2
    expected[4:, 5:8] = 1.0  # h3-h2
    expected[4:, 8:] = 1.0   # h3-h4
    assert torch.equal(mask, expected)


@pytest.mark.parametrize("sizes", [(5, 4, 3), (5, 4, 3, 2), (4, 3, 3, 2, 2)])
def test_core_energy_is_the_dbm_energy(sizes):
    layout, model, weights, biases = core(sizes, seed=3)
    g = torch.Generator().manual_seed(1)
    xs = [torch.bernoulli(torch.full((50, n), 0.5, dtype=torch.float64), generator=g)
          for n in sizes]
    even, odd = to_core(layout, xs)
    expected = dbm_energy(weights, biases, xs)
    torch.testing.assert_close(model.energy(even, odd), expected, rtol=0, atol=1e-12)
    # and the states sit in the core where the layout says
    for layer, x in enumerate(xs):
        assert torch.equal((odd if layer % 2 else even)[:, layout.slices[layer]], x)


# ---------------------------------------------------------------- exact log Z
@pytest.mark.parametrize("layer", [None, "hidden", "visible"])
def test_exact_log_z_equals_brute_force_on_a_tiny_dbm(layer):
    sizes = (6, 4, 3)  # 2^13 joint states
    layout, model, weights, biases = core(sizes, seed=1)
    assert exact_log_z(model, layer=layer) == pytest.approx(
        brute_force_log_z(weights, biases, sizes), abs=1e-9)


def test_exact_log_z_of_three_hidden_layers_equals_brute_force():
    sizes = (4, 3, 3, 2)  # 2^12 joint states; the core has a zero block
    layout, model, weights, biases = core(sizes, seed=2)
    expected = brute_force_log_z(weights, biases, sizes)
    assert exact_log_z(model, layer="hidden") == pytest.approx(expected, abs=1e-9)
    assert exact_log_z(model, layer="visible") == pytest.approx(expected, abs=1e-9)


@pytest.fixture(scope="module")
def dbm_10_6_4():
    """A 10-6-4 DBM and its log Z with h1 enumerated and v, h2 summed out by hand:
    given h1, v and h2 are independent, so
    log Z = logsumexp_h1 [b1ᵀh1 + Σ softplus(b0 + W1ᵀh1) + Σ softplus(b2 + W2 h1)]."""
    sizes = (10, 6, 4)
    layout, model, (W1, W2), (b0, b1, b2) = core(sizes, seed=5)
    h1 = all_states(6)
    terms = h1 @ b1 + softplus(b0 + h1 @ W1).sum(1) + softplus(b2 + h1 @ W2.T).sum(1)
    return layout, model, float(torch.logsumexp(terms, 0))


def test_exact_log_z_sums_out_the_other_layers(dbm_10_6_4):
    layout, model, log_z = dbm_10_6_4
    assert exact_log_z(model) == pytest.approx(log_z, abs=1e-9)
    assert exact_log_z(model, layer="visible") == pytest.approx(log_z, abs=1e-9)  # 2^14


def test_ais_log_z_is_within_a_tenth_of_a_nat(dbm_10_6_4):
    layout, model, log_z = dbm_10_6_4
    est = ais_log_z(model, torch.zeros(layout.n_even, dtype=torch.float64), 200,
                    np.linspace(0.0, 1.0, 3000).tolist(), torch.Generator().manual_seed(0))
    assert abs(est.log_z - log_z) < 0.1, (est, log_z)
    assert est.lower < est.log_z < est.upper


# ---------------------------------------------------------------- mean-field
def test_exact_log_p_star_equals_brute_force():
    sizes = (6, 4, 3)
    layout, model, weights, biases = core(sizes, seed=1)
    v = all_states(6)
    torch.testing.assert_close(exact_log_p_star(model, layout, v),
                               brute_force_log_p_star(weights, biases, sizes, v),
                               rtol=0, atol=1e-10)
    # and log Z is log Σ_v p*(v)
    assert float(torch.logsumexp(exact_log_p_star(model, layout, v), 0)) == pytest.approx(
        brute_force_log_z(weights, biases, sizes), abs=1e-9)


def test_exact_log_p_star_of_three_hidden_layers_equals_brute_force():
    sizes = (4, 3, 3, 2)
    layout, model, weights, biases = core(sizes, seed=4)
    v = all_states(4)
    torch.testing.assert_close(exact_log_p_star(model, layout, v),
                               brute_force_log_p_star(weights, biases, sizes, v),
                               rtol=0, atol=1e-10)


def test_exact_log_p_star_refuses_too_many_units():
    layout, model, _, _ = core((3, 2, 21))
    with pytest.raises(ValueError, match="21 units"):
        exact_log_p_star(model, layout, torch.zeros(1, 3, dtype=torch.float64))


@pytest.mark.parametrize("sizes, seed", [((6, 4, 3), 1), ((6, 4, 3), 7), ((4, 3, 3, 2), 4)])
def test_lower_bound_is_below_log_p_star_and_tightens(sizes, seed):
    layout, model, _, _ = core(sizes, scale=1.5, seed=seed)
    v = all_states(sizes[0])
    exact = exact_log_p_star(model, layout, v)
    bounds = {}
    for max_iter in (1, 30):
        mu, odd, rounds = mean_field(model, layout, v, max_iter=max_iter, tol=0.0)
        assert rounds == max_iter
        assert mu.shape == (len(v), layout.n_even - sizes[0])
        assert odd.shape == (len(v), layout.n_odd)
        bounds[max_iter] = lower_bound(model, layout, v, mu)
        assert torch.all(bounds[max_iter] <= exact + 1e-10), (bounds[max_iter] - exact).max()
    # coordinate ascent: every row's bound rises (or stays), and on the whole it rises
    assert torch.all(bounds[30] >= bounds[1] - 1e-10)
    assert float((bounds[30] - bounds[1]).mean()) > 1e-4


def test_one_hidden_layer_bound_is_exact():
    layout, model, _, _ = core((5, 3), seed=2)
    v = all_states(5)
    mu, odd, _ = mean_field(model, layout, v)
    assert mu.shape == (32, 0)
    torch.testing.assert_close(odd, model.p_h_given_v(v))
    torch.testing.assert_close(lower_bound(model, layout, v, mu),
                               exact_log_p_star(model, layout, v), rtol=0, atol=1e-12)


@pytest.mark.parametrize("sizes", [(6, 4, 3), (5, 4, 3, 2), (5, 4, 3, 3, 2)])
def test_mean_field_reaches_the_fixed_point_equations(sizes):
    """μ_l = σ(b_l + W_l μ_{l-1} + W_{l+1}ᵀ μ_{l+1}) for every layer at convergence."""
    layout, model, weights, biases = core(sizes, scale=0.7, seed=3)
    v = all_states(sizes[0])[::3]
    mu_even, mu_odd, rounds = mean_field(model, layout, v, max_iter=1000, tol=1e-12)
    assert rounds < 1000
    mus = [v]
    for layer in range(1, len(sizes)):
        s = layout.slices[layer]
        mus.append(mu_odd[:, s] if layer % 2 else mu_even[:, s.start - sizes[0]:s.stop - sizes[0]])
    for layer in range(1, len(sizes)):
        a = biases[layer] + mus[layer - 1] @ weights[layer - 1].T
        if layer + 1 < len(sizes):
            a = a + mus[layer + 1] @ weights[layer]
        torch.testing.assert_close(mus[layer], torch.sigmoid(a), rtol=0, atol=1e-9)


def test_bottom_up_doubles_all_but_the_top():
    sizes = (5, 4, 3, 2)
    layout, model, (W1, W2, W3), (_, b1, b2, b3) = core(sizes, seed=6)
    v = all_states(5)
    mu1, mu2, mu3 = bottom_up(model, layout, v)
    torch.testing.assert_close(mu1, torch.sigmoid(b1 + 2 * v @ W1.T))
    torch.testing.assert_close(mu2, torch.sigmoid(b2 + 2 * mu1 @ W2.T))
    torch.testing.assert_close(mu3, torch.sigmoid(b3 + mu2 @ W3.T))


def test_mean_field_starts_from_a_given_mu():
    layout, model, _, _ = core((6, 4, 3), seed=1)
    v = all_states(6)
    start, _, _ = mean_field(model, layout, v, max_iter=3, tol=0.0)
    resumed, _, _ = mean_field(model, layout, v, max_iter=2, tol=0.0, mu=start)
    full, _, _ = mean_field(model, layout, v, max_iter=5, tol=0.0)
    torch.testing.assert_close(resumed, full, rtol=0, atol=1e-14)


# -------------------------------------------------------------- Gibbs chain
def test_gibbs_chain_samples_the_dbm():
    """20,000 chains of the core's block Gibbs sampler, 300 steps: the visible states'
    law is the DBM's p(v) (and the even layers' law the DBM's p(v, h2))."""
    sizes = (4, 3, 2)
    layout, model, weights, biases = core(sizes, scale=1.0, seed=8)
    xs = split_layers(all_states(sum(sizes)), sizes)
    log_p = -dbm_energy(weights, biases, xs)
    p = torch.softmax(log_p, 0).view(16, 8, 4)  # (v, h1, h2) in all_states' order
    p_v = p.sum((1, 2))
    p_vh2 = p.sum(1).reshape(-1)  # (v, h2): the core's even states in all_states' order

    g = torch.Generator().manual_seed(0)
    start = torch.bernoulli(torch.full((20000, layout.n_even), 0.5, dtype=torch.float64),
                            generator=g)
    x = GibbsSampler(model).sample(start, 300, g)
    assert set(torch.unique(x).tolist()) <= {0.0, 1.0}
    emp_v = torch.bincount(index_of(x[:, :4]), minlength=16).double() / len(x)
    emp_even = torch.bincount(index_of(x), minlength=64).double() / len(x)
    tv_v = 0.5 * float((emp_v - p_v).abs().sum())
    tv_even = 0.5 * float((emp_even - p_vh2).abs().sum())
    assert tv_v < 0.03, tv_v
    assert tv_even < 0.05, tv_even
    # the test can tell: the RBM that drops h2 (only v-h1) has another p(v)
    rbm_xs = split_layers(all_states(7), sizes[:2])
    rbm_p_v = torch.softmax(-dbm_energy(weights[:1], biases[:2], rbm_xs), 0).view(16, 8).sum(1)
    assert 0.5 * float((rbm_p_v - p_v).abs().sum()) > 0.1


# -------------------------------------------------------------- pre-training
def test_doubling():
    assert doubling(1, 1) == (1.0, 1.0)
    assert doubling(1, 2) == (2.0, 1.0)
    assert doubling(2, 2) == (1.0, 2.0)
    assert doubling(1, 3) == (2.0, 1.0)
    assert doubling(2, 3) == (2.0, 2.0)
    assert doubling(3, 3) == (1.0, 2.0)
    assert [doubling(layer, 5) for layer in range(2, 5)] == [(2.0, 2.0)] * 3


@pytest.mark.parametrize("up, down", [(1.0, 1.0), (2.0, 1.0), (1.0, 2.0), (2.0, 2.0), (3.0, 0.5)])
def test_scaled_rbm_conditionals(up, down):
    g = torch.Generator().manual_seed(0)
    W = torch.randn(4, 6, generator=g, dtype=torch.float64)
    b = torch.randn(6, generator=g, dtype=torch.float64)
    c = torch.randn(4, generator=g, dtype=torch.float64)
    m = ScaledRBM(W, b, c, up=up, down=down)
    assert isinstance(m, RBM)
    v = all_states(6)[::5]
    h = all_states(4)
    torch.testing.assert_close(m.p_h_given_v(v), torch.sigmoid(c + up * v @ W.T),
                               rtol=0, atol=1e-14)
    torch.testing.assert_close(m.p_v_given_h(h), torch.sigmoid(b + down * h @ W),
                               rtol=0, atol=1e-14)
    # the energy and free energy are the plain RBM's: only the conditionals double
    plain = RBM(W, b, c)
    torch.testing.assert_close(m.free_energy(v), plain.free_energy(v))
