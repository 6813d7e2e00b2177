"""Every formula of the slides against brute-force enumeration of a tiny RBM."""

import torch
from conftest import all_states, random_params

from deepbelief import functional as fn


def joint_table(W, b, c):
    V, H = all_states(W.shape[1]), all_states(W.shape[0])
    vv = V.repeat_interleave(len(H), 0)
    hh = H.repeat(len(V), 1)
    E = fn.energy(vv, hh, W, b, c).reshape(len(V), len(H))
    log_z = torch.logsumexp(-E.flatten(), 0)
    return V, H, torch.exp(-E - log_z)


def test_energy_matches_definition(tiny_params):
    W, b, c = tiny_params
    v, h = all_states(5)[7:9], all_states(3)[2:4]
    expected = torch.stack([-(b @ v[i]) - (c @ h[i]) - h[i] @ W @ v[i] for i in range(2)])
    torch.testing.assert_close(fn.energy(v, h, W, b, c), expected)


def test_free_energy_gives_marginal(tiny_params):
    W, b, c = tiny_params
    V, _, P = joint_table(W, b, c)
    p_v = P.sum(1)
    F = fn.free_energy(V, W, b, c)
    log_z = torch.logsumexp(-F, 0)
    torch.testing.assert_close(torch.exp(-F - log_z), p_v)


def test_conditionals_are_ratios_of_joint_probabilities(tiny_params):
    W, b, c = tiny_params
    V, H, P = joint_table(W, b, c)
    p_v, p_h = P.sum(1), P.sum(0)
    expected_h = (P @ H) / p_v[:, None]  # E[h | v] = p(h_i = 1 | v)
    torch.testing.assert_close(fn.p_h_given_v(V, W, c), expected_h)
    expected_v = (P.T @ V) / p_h[:, None]
    torch.testing.assert_close(fn.p_v_given_h(H, W, b), expected_v)


def test_pseudo_log_likelihood_is_d_times_log_conditional(tiny_params):
    W, b, c = tiny_params
    V = all_states(5)
    log_p = -fn.free_energy(V, W, b, c)  # up to log Z, which cancels below
    flip = torch.arange(len(V)) % 5
    flipped = V.clone()
    flipped[torch.arange(len(V)), flip] = 1 - flipped[torch.arange(len(V)), flip]
    log_p_flip = -fn.free_energy(flipped, W, b, c)
    expected = 5 * (log_p - torch.logaddexp(log_p, log_p_flip))
    torch.testing.assert_close(fn.pseudo_log_likelihood(V, W, b, c, flip), expected)


def test_stable_for_large_weights():
    W, b, c = random_params(6, 4, scale=1e4)
    V = all_states(6)
    assert torch.isfinite(fn.free_energy(V, W, b, c)).all()
    flip = torch.zeros(64, dtype=torch.long)
    assert torch.isfinite(fn.pseudo_log_likelihood(V, W, b, c, flip)).all()
    p = fn.p_h_given_v(V, W, c)
    assert ((p >= 0) & (p <= 1)).all()
