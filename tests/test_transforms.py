"""Input transforms: the logit of the columns on (0, 1), and transforms in a chain."""

import numpy as np
import pytest
import torch

from deepbelief.transforms import Chain, Logit, Standardize


@pytest.fixture
def table():
    """Column 0 inside (0, 1), column 1 on [0, 1) with a zero, column 2 any reals."""
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(0.01, 0.99, 50), rng.uniform(0, 1, 50),
                         rng.normal(0, 3, 50)])
    X[0, 1] = 0.0
    return torch.as_tensor(X)


def test_auto_takes_the_columns_strictly_inside_the_unit_interval(table):
    logit = Logit("auto").fit(table)
    assert logit.unit_columns.tolist() == [True, False, False]
    z = logit.forward(table)
    torch.testing.assert_close(z[:, 0], torch.logit(table[:, 0]))
    torch.testing.assert_close(z[:, 1:], table[:, 1:], rtol=0, atol=0)
    torch.testing.assert_close(logit.inverse(z), table)


def test_log_det_is_the_log_of_the_jacobians_determinant(table):
    logit = Logit("auto").fit(table)
    for row in table[:5]:
        jacobian = torch.autograd.functional.jacobian(lambda x: logit.forward(x[None])[0], row)
        expected = torch.linalg.slogdet(jacobian).logabsdet
        got = logit.log_abs_det_jacobian(row[None])[0]
        torch.testing.assert_close(got, expected)


def test_rows_outside_the_unit_interval_have_zero_density(table):
    logit = Logit("auto").fit(table)
    x = table[:3].clone()
    x[0, 0], x[1, 0], x[2, 2] = 0.0, 1.5, -50.0  # the last is a real column: inside
    log_det = logit.log_abs_det_jacobian(x)
    assert log_det[0] == -torch.inf and log_det[1] == -torch.inf
    assert torch.isfinite(log_det[2])
    assert torch.isfinite(logit.forward(x)).all()  # clipped into (0, 1)


def test_training_values_outside_are_refused(table):
    with pytest.raises(ValueError, match="column 1 is modelled on"):
        Logit("unit").fit(table[:, :2])
    logit = Logit("auto").fit(table)
    later = table[:4].clone()
    later[2, 0] = 1.0
    with pytest.raises(ValueError, match="column 0 is modelled on"):
        logit.check(later)
    nan = table[:4].clone()
    nan[1, 0] = torch.nan  # a missing entry is not a value outside
    assert logit.check(nan) is nan


def test_chain_inverts_in_reverse_and_sums_log_dets(table):
    logit = Logit("auto").fit(table)
    standardize = Standardize().fit(logit.forward(table))
    chain = Chain(logit, standardize)
    z = chain.forward(table)
    torch.testing.assert_close(z, standardize.forward(logit.forward(table)))
    torch.testing.assert_close(chain.inverse(z), table)
    torch.testing.assert_close(
        chain.log_abs_det_jacobian(table),
        logit.log_abs_det_jacobian(table) + standardize.log_abs_det_jacobian(table))
    state = chain.state_dict()
    assert set(state) == {"unit_columns", "shift", "scale"}
    back = Chain(Logit(), Standardize())
    back.load_state_dict(state)
    torch.testing.assert_close(back.forward(table), z)
    with pytest.raises(ValueError, match="no linear map"):
        chain.parts[0].fold(torch.zeros(2, 3), torch.zeros(2))
