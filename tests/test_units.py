"""Unit types: each states its mean, sampler and free-energy term, checked by enumeration."""

import pytest
import torch
from conftest import all_states

from deepbelief.units import Bernoulli, Layout, Softmax


def _states(units, n):
    """Every state a unit type allows over n columns."""
    if isinstance(units, Softmax):
        return torch.eye(n, dtype=torch.float64)
    return all_states(n)


@pytest.mark.parametrize("units", [Bernoulli(4), Softmax(4)])
def test_mean_and_log_partition_match_enumeration(units):
    a = torch.randn(3, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    x = _states(units, 4)                      # (n_states, 4)
    logits = a @ x.T                          # xᵀa for every row and state
    p = torch.softmax(logits, 1)
    torch.testing.assert_close(units.log_partition(a), torch.logsumexp(logits, 1))
    torch.testing.assert_close(units.mean(a), p @ x)


@pytest.mark.parametrize("units", [Bernoulli(3), Softmax(3)])
def test_samples_follow_the_mean(units):
    g = torch.Generator().manual_seed(1)
    mean = units.mean(torch.tensor([[0.3, -1.0, 1.5]], dtype=torch.float64)).expand(40000, -1)
    x = units.sample(mean.contiguous(), g)
    assert set(x.unique().tolist()) <= {0.0, 1.0}
    if isinstance(units, Softmax):
        assert torch.all(x.sum(1) == 1)
    torch.testing.assert_close(x.mean(0), mean[0], atol=0.01, rtol=0)


def test_layout_places_groups_side_by_side():
    layout = Layout(Bernoulli(2), Softmax(3))
    a = torch.tensor([[0.5, -0.5, 1.0, 2.0, 3.0]], dtype=torch.float64)
    torch.testing.assert_close(layout.mean(a), torch.cat([torch.sigmoid(a[:, :2]),
                                                         torch.softmax(a[:, 2:], 1)], 1))
    torch.testing.assert_close(layout.log_partition(a),
                               Bernoulli(2).log_partition(a[:, :2])
                               + Softmax(3).log_partition(a[:, 2:]))
    x = layout.sample(layout.mean(a).expand(50, -1).contiguous(), torch.Generator())
    assert torch.all(x[:, 2:].sum(1) == 1) and layout.size == 5
