"""Hostile and malformed input: refused with ValueError/TypeError naming the argument."""

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from deepbelief import BernoulliRBM
from deepbelief._validation import UNIT_TOLERANCE, as_labels, as_tensor2d, check_positive

FLOAT_DTYPES = st.sampled_from([np.float16, np.float32, np.float64])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hnp.arrays(dtype=st.one_of(FLOAT_DTYPES, st.sampled_from([np.int8, np.uint8, np.int64])),
                  shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5),
                  elements={"allow_nan": True, "allow_infinity": True}))
def test_any_array_is_accepted_exactly_when_valid(arr):
    """A validated tensor is 2-D, non-empty, finite and in [0, 1] (to within a scaler's
    rounding); anything else raises."""
    valid = (arr.ndim == 2 and arr.shape[0] >= 1 and arr.shape[1] >= 1
             and np.isfinite(arr.astype(np.float64)).all()
             and arr.min() >= -UNIT_TOLERANCE and arr.max() <= 1 + UNIT_TOLERANCE)
    try:
        t = as_tensor2d(arr, name="X", unit_interval=True)
    except (ValueError, TypeError) as exc:
        assert not valid, exc
        assert "X" in str(exc)
    else:
        assert valid
        assert t.dtype == torch.float32 and t.ndim == 2
        np.testing.assert_array_equal(t.numpy(), arr.astype(np.float32))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 6))
def test_fitted_rbm_refuses_wrong_feature_counts(n_visible, n_hidden, other):
    rbm = BernoulliRBM.from_weights(np.zeros((n_hidden, n_visible)), np.zeros(n_visible),
                                    np.zeros(n_hidden))
    X = np.zeros((2, other))
    if other == n_visible:
        assert rbm.transform(X).shape == (2, n_hidden)
    else:
        with pytest.raises(ValueError, match=f"expecting {n_visible} features"):
            rbm.transform(X)


@pytest.mark.parametrize("bad", [
    np.array([["a", "b"]]), np.array([[{"k": 1}, 2]], dtype=object), np.array([[1 + 2j]]),
])
def test_strings_objects_and_complex_are_refused(bad):
    with pytest.raises((TypeError, ValueError), match="X"):
        as_tensor2d(bad, name="X")


def test_object_arrays_of_numbers_are_accepted():
    t = as_tensor2d(np.array([[0.5, 1]], dtype=object))
    assert t.tolist() == [[0.5, 1.0]]


def test_labels():
    assert as_labels([1, 2, 3], 3).tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="3 labels but X has 4"):
        as_labels([1, 2, 3], 4)
    with pytest.raises(ValueError, match="1-D"):
        as_labels(np.zeros((3, 2)), 3)
    with pytest.raises(ValueError, match="NaN"):
        as_labels([1.0, np.nan], 2)


@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf"), True, "3", None])
def test_check_positive_names_the_argument(value):
    with pytest.raises(ValueError, match="n_components"):
        check_positive(value, "n_components", integer=True)


@pytest.mark.parametrize("kind", ["scipy", "torch"])
def test_sparse_input_is_refused_or_kept_sparse_with_its_values_checked(kind):
    from scipy import sparse

    dense = np.array([[0.0, 0.5], [1.0, 0.0]])
    X = sparse.csr_matrix(dense) if kind == "scipy" else torch.from_numpy(dense).to_sparse()
    with pytest.raises(TypeError, match="X: sparse input is not supported"):
        as_tensor2d(X, name="X")
    t = as_tensor2d(X, name="X", accept_sparse=True, unit_interval=True)
    assert t.is_sparse and t.is_coalesced() and t.dtype == torch.float32
    np.testing.assert_array_equal(t.to_dense().numpy(), dense)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        as_tensor2d(2 * X, name="X", accept_sparse=True, unit_interval=True)
    with pytest.raises(ValueError, match="NaN or infinity"):
        as_tensor2d(X * float("inf"), name="X", accept_sparse=True)


def test_dtype_none_follows_the_data_and_features_are_checked_first():
    assert as_tensor2d(np.zeros((2, 2), np.float32), dtype=None).dtype == torch.float32
    assert as_tensor2d(np.zeros((2, 2), np.int64), dtype=None).dtype == torch.float64
    assert as_tensor2d(torch.ones(2, 2, dtype=torch.bool), dtype=None).dtype == torch.float32
    with pytest.raises(ValueError, match="X has 2 features, but Model is expecting 3"):
        as_tensor2d(np.full((2, 2), np.nan), n_features=3, owner="Model")


def test_values_are_checked_before_the_cast():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        as_tensor2d(np.array([[-1e-5, 0.5]]), name="X", unit_interval=True)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):  # would round to 1 in float32
        as_tensor2d(np.array([[1 + 2e-6, 0.5]]), name="X", dtype=torch.float32,
                    unit_interval=True)
    with pytest.raises(ValueError, match="NaN or infinity"):  # would overflow to inf
        as_tensor2d(np.array([[1e300]]), name="X")
    assert as_tensor2d(np.array([[1e30]]), name="X").item() == pytest.approx(1e30)


def test_a_scalers_rounding_is_inside_the_unit_interval():
    """MinMaxScaler maps some maxima to 1 + 2.2e-16: within UNIT_TOLERANCE, accepted as is."""
    X = np.array([[1 + 2.2e-16, -1e-98, 1 + UNIT_TOLERANCE]])
    t = as_tensor2d(X, name="X", dtype=torch.float64, unit_interval=True)
    np.testing.assert_array_equal(t.numpy(), X)


@pytest.mark.parametrize("estimator", ["BernoulliRBM", "DBNClassifier", "DBN",
                                       "GaussianMixture", "MultinomialNB", "BernoulliNB",
                                       "ComplementNB", "CategoricalNB"])
def test_unfitted_estimators_raise_not_fitted_error(estimator):
    from sklearn.exceptions import NotFittedError

    import deepbelief

    model = getattr(deepbelief, estimator)()
    method = getattr(model, "transform", None) or model.predict
    with pytest.raises(NotFittedError):
        method(np.zeros((2, 4)))
