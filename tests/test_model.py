"""The RBM core: its free energy and conditionals against the joint, for any unit layout."""

import itertools

import pytest
import torch
from conftest import all_states, random_params

from deepbelief.model import RBM
from deepbelief.training import cd_chain, cd_statistics
from deepbelief.units import Bernoulli, Layout, Softmax

LABEL_JOINT = Layout(Bernoulli(3), Softmax(3))


def _visible_states(units, n):
    if units is LABEL_JOINT:
        return torch.stack([torch.cat([p, l]) for p, l in itertools.product(
            all_states(3), torch.eye(3, dtype=torch.float64))])
    return all_states(n)


@pytest.mark.parametrize("visible", [Bernoulli(6), LABEL_JOINT])
def test_free_energy_sums_the_hidden_units_out(visible):
    model = RBM(*random_params(6, 4, seed=3), visible=visible)
    v = _visible_states(visible, 6)
    h = all_states(4)
    E = torch.stack([model.energy(v, hh.expand(len(v), -1)) for hh in h], 1)
    torch.testing.assert_close(model.free_energy(v), -torch.logsumexp(-E, 1))


def test_label_group_conditional_is_the_joint_normalised_over_labels():
    model = RBM(*random_params(6, 4, seed=4), visible=LABEL_JOINT)
    v = _visible_states(LABEL_JOINT, 6)
    h = all_states(4)[5:6]
    log_joint = -model.energy(v, h.expand(len(v), -1))        # over all (pen, label) pairs
    p_v = torch.softmax(log_joint, 0)
    label_marginal = (p_v[:, None] * v[:, 3:]).sum(0)
    torch.testing.assert_close(model.p_v_given_h(h)[0, 3:], label_marginal)
    pen_marginal = (p_v[:, None] * v[:, :3]).sum(0)
    torch.testing.assert_close(model.p_v_given_h(h)[0, :3], pen_marginal)


@pytest.mark.parametrize("sample_visible", [False, (True, False)])
def test_label_joint_cd_statistics_are_the_free_energy_gradient(sample_visible):
    model = RBM(*random_params(6, 4, scale=0.5, seed=5), visible=LABEL_JOINT)
    g = torch.Generator().manual_seed(0)
    v0 = _visible_states(LABEL_JOINT, 6)[torch.randint(24, (16,), generator=g)]
    ph0, v_k, ph_k = cd_chain(model, v0, 3, g, sample_visible=sample_visible)
    assert torch.allclose(v_k[:, 3:].sum(1), torch.ones(16, dtype=torch.float64))
    stats = cd_statistics(v0, ph0, v_k, ph_k)
    params = [t.clone().requires_grad_(True) for t in (model.W, model.b, model.c)]
    probe = RBM(*params, visible=LABEL_JOINT)
    loss = (probe.free_energy(v0) - probe.free_energy(v_k.detach())).sum()
    for stat, grad in zip(stats, torch.autograd.grad(loss, params), strict=True):
        torch.testing.assert_close(stat, -grad)


def test_state_dict_round_trip_checks_shapes():
    a, b = RBM(*random_params(5, 3, seed=1)), RBM(*random_params(5, 3, seed=2))
    b.load_state_dict(a.state_dict())
    assert torch.equal(a.W, b.W) and torch.equal(a.c, b.c)
    with pytest.raises(ValueError, match="shape"):
        RBM(*random_params(5, 4)).load_state_dict(a.state_dict())
