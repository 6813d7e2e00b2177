"""The RBM family's base: samplers chosen by name or object, deprecated spellings,
the input transform, and files written before samplers were objects."""

from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

import deepbelief
from deepbelief import BernoulliRBM, GaussianBernoulliRBM
from deepbelief.samplers import CD, FPCD, PCD, PT, SAMPLERS, Sampler
from deepbelief.transforms import Identity, Standardize

DATA = Path(__file__).with_name("data")


@pytest.fixture(scope="module")
def binary(digits):
    return (digits[0][:300] > 0.5).astype(np.float64)


@pytest.mark.parametrize("name, params", [
    ("rbm-pcd", dict(sampler="pcd", centering=0.01)),
    ("rbm-pt", dict(sampler="pt", n_temperatures=3, min_beta=0.6)),
    ("rbm-fpcd", dict(sampler="fpcd", fast_learning_rate=0.05)),
    ("gaussian", dict(sampler="cd")),
])
def test_files_written_before_samplers_load_with_todays_spelling(name, params, digits):
    """Files of 05748b0 (``persistent``, ``n_temperatures``, ``fast_learning_rate``; a
    Gaussian RBM's ``mean``): today's hyperparameters, no warning, the same outputs."""
    expected = np.load(DATA / "0.2-dev-outputs.npz")
    X = digits[0][:20]
    data = (X > 0.5).astype(np.float64) if name.startswith("rbm") else X
    with warnings_as_errors():
        model = deepbelief.load(DATA / f"0.2-dev-{name}.safetensors")
    for key, value in params.items():
        assert model.get_params()[key] == value
    np.testing.assert_allclose(model.transform(data), expected[f"{name}-transform"], rtol=1e-12)
    np.testing.assert_allclose(model.score_samples(data), expected[f"{name}-score"],
                               rtol=1e-10)
    # the same draws; real-valued samples may differ in the last bit with the thread count
    np.testing.assert_allclose(model.sample(4, steps=5, random_state=1),
                               expected[f"{name}-sample"], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ["dbn-gaussian", "dbn-classifier-gaussian"])
def test_deep_belief_net_files_written_before_the_input_transform_load(name, digits):
    """Their standardisation (``shift``, ``scale``) becomes the input transform: the same
    outputs, the same net from ``to_torch``."""
    expected = np.load(DATA / "0.2-dev-outputs.npz")
    X = digits[0][:20]
    model = deepbelief.load(DATA / f"0.2-dev-{name}.safetensors")
    assert isinstance(model.input_transform_, Standardize)
    np.testing.assert_allclose(model.transform(X), expected[f"{name}-transform"], rtol=1e-10)
    np.testing.assert_allclose(model.predict_proba(X), expected[f"{name}-proba"], rtol=1e-10)
    if name == "dbn-classifier-gaussian":
        net = model.to_torch()
        probs = torch.softmax(net(torch.as_tensor(X, dtype=next(net.parameters()).dtype)), 1)
        np.testing.assert_allclose(probs.detach().numpy(), expected[f"{name}-proba"],
                                   rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("old, new", [
    (dict(persistent=True), dict(sampler="pcd")),
    (dict(persistent=False), dict(sampler="cd")),
    (dict(n_temperatures=3, min_beta=0.6), dict(sampler="pt", n_temperatures=3, min_beta=0.6)),
    (dict(persistent=True, fast_learning_rate=0.05),
     dict(sampler="fpcd", fast_learning_rate=0.05)),
    (dict(sampler="pcd", centring=0.05), dict(sampler="pcd", centering=0.05)),
])
def test_old_spellings_warn_and_train_the_same_model(binary, old, new):
    params = dict(n_components=8, n_iter=2, batch_size=50, random_state=0)
    with pytest.warns(FutureWarning, match="sampler=|centering"):
        a = BernoulliRBM(**params, **old).fit(binary)
    with warnings_as_errors():
        b = BernoulliRBM(**params, **new).fit(binary)
    assert torch.equal(a.W_, b.W_) and torch.equal(a.c_, b.c_)
    assert type(a._get_trainer().sampler) is type(b._get_trainer().sampler)


def test_a_sampler_object_is_used_as_a_copy(binary):
    """``sampler=PCD(3)`` trains as ``sampler="pcd", k=3``; the object itself keeps no chains,
    so clones (GridSearchCV's) never share them."""
    given = PCD(3)
    a = BernoulliRBM(8, sampler=given, n_iter=2, random_state=0).fit(binary)
    b = BernoulliRBM(8, sampler="pcd", k=3, n_iter=2, random_state=0).fit(binary)
    assert torch.equal(a.W_, b.W_)
    assert given.chains.states is None and a.sampler is given
    assert clone(a).sampler is not given


def test_every_named_sampler_trains(binary):
    """Each sampler trains a BernoulliRBM, or a GaussianBernoulliRBM when it runs real-valued
    units only (a BernoulliRBM then refuses it before training)."""
    for name, cls in SAMPLERS.items():
        if cls.real_only:
            with pytest.raises(ValueError, match="real-valued .* units only"):
                BernoulliRBM(8, sampler=name, n_iter=1, random_state=0).fit(binary)
            rbm = GaussianBernoulliRBM(8, sampler=name, n_iter=1, random_state=0).fit(binary)
        else:
            rbm = BernoulliRBM(8, sampler=name, n_iter=1, random_state=0).fit(binary)
        assert type(rbm._get_trainer().sampler) is cls
        assert issubclass(cls, Sampler) and cls.name == name


@pytest.mark.parametrize("params, match", [
    (dict(sampler="cd", fast_learning_rate=0.1), "fast_learning_rate"),
    (dict(sampler="pcd", n_temperatures=3, fast_learning_rate=0.1), "fast_learning_rate"),
    (dict(sampler="fpcd", n_temperatures=3), "n_temperatures"),
])
def test_options_of_another_sampler_are_refused(binary, params, match):
    with pytest.raises(ValueError, match=match):
        BernoulliRBM(4, **params).fit(binary)


def test_real_valued_units_refuse_binary_only_samplers(digits):
    X = digits[0][:50]
    with pytest.raises(InvalidParameterError, match="sampler"):
        GaussianBernoulliRBM(4, sampler="pt").fit(X)
    with pytest.raises(ValueError, match="binary units only"):
        GaussianBernoulliRBM(4, sampler=PT()).fit(X)
    with pytest.raises(ValueError, match="sample_visible=True"):
        GaussianBernoulliRBM(4, sampler=CD(2)).fit(X)  # means would hide the chain's spread
    rbm = GaussianBernoulliRBM(4, sampler=CD(2, sample_visible=True), n_iter=1,
                               random_state=0).fit(X)
    assert rbm._get_trainer().sampler.k == 2
    assert GaussianBernoulliRBM(4, n_iter=1).fit(X)._get_trainer().sampler.sample_visible


def test_the_input_transform_is_fitted_by_fit_not_by_validation(digits):
    X = digits[0][:100] * 3.0 + 1.0
    rbm = GaussianBernoulliRBM(4, n_iter=1, random_state=0)
    rbm._validate(X, reset=True)
    assert not hasattr(rbm, "input_transform_")  # validation is pure
    rbm.fit(X)
    t = rbm.input_transform_
    assert isinstance(t, Standardize)
    np.testing.assert_allclose(rbm.mean_, X.mean(0))
    z = t.forward(torch.as_tensor(X))
    torch.testing.assert_close(t.inverse(z), torch.as_tensor(X))
    assert t.log_abs_det_jacobian(z) == pytest.approx(-np.log(rbm.scale_).sum())
    raw = GaussianBernoulliRBM(4, n_iter=1, standardize=False, random_state=0).fit(X)
    assert isinstance(raw.input_transform_, Identity)
    np.testing.assert_array_equal(raw.mean_, np.zeros(64))
    assert isinstance(BernoulliRBM(4, n_iter=1).fit(X / X.max()).input_transform_, Identity)


def test_the_siblings_expose_only_their_own_options():
    binary, gaussian = BernoulliRBM().get_params(), GaussianBernoulliRBM().get_params()
    assert {"n_temperatures", "min_beta", "fast_learning_rate", "centering"} <= set(binary)
    assert not {"n_temperatures", "min_beta", "fast_learning_rate", "centering",
                "sample_visible", "mean_field"} & set(gaussian)
    assert not issubclass(GaussianBernoulliRBM, BernoulliRBM)
    for cls in (BernoulliRBM, GaussianBernoulliRBM):
        assert set(cls._parameter_constraints) == set(cls().get_params())


def test_fpcd_takes_the_learning_rate_by_default(binary):
    rbm = BernoulliRBM(4, sampler="fpcd", learning_rate=0.07, n_iter=1).fit(binary)
    sampler = rbm._get_trainer().sampler
    assert isinstance(sampler, FPCD) and sampler.fast_learning_rate == 0.07


class warnings_as_errors:
    """No warning at all inside the block."""

    def __enter__(self):
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("error")

    def __exit__(self, *exc):
        self._catch.__exit__(*exc)


# ------------------------------------------------------------------ imputation
def _exact_conditional(rbm: BernoulliRBM, row: np.ndarray) -> dict[tuple, float]:
    """p(v_missing | v_observed) of a small binary RBM by enumerating the missing units."""
    from conftest import all_states

    missing = np.flatnonzero(np.isnan(row))
    fill = all_states(len(missing)).numpy()
    v = np.tile(np.nan_to_num(row), (len(fill), 1))
    v[:, missing] = fill
    log_p = -rbm.free_energy(v)
    p = np.exp(log_p - log_p.max())
    return {tuple(f): q for f, q in zip(fill, p / p.sum(), strict=True)}


def test_sampled_imputations_follow_the_exact_conditional():
    from conftest import random_params

    rbm = BernoulliRBM.from_weights(*random_params(6, 4, scale=1.0), random_state=0)
    row = np.array([1.0, np.nan, 0.0, np.nan, np.nan, 1.0])
    exact = _exact_conditional(rbm, row)
    draws = rbm.impute(row[None], method="sample", n_imputations=20000, steps=30)
    assert draws.shape == (20000, 1, 6)
    np.testing.assert_array_equal(draws[:, 0, [0, 2, 5]], np.tile([1.0, 0.0, 1.0], (20000, 1)))
    filled = [tuple(d) for d in draws[:, 0, [1, 3, 4]]]
    tv = 0.5 * sum(abs(filled.count(k) / len(filled) - p) for k, p in exact.items())
    assert tv < 0.03, tv
    # the same draws from the same seed
    again = rbm.impute(row[None], method="sample", n_imputations=50, steps=5, random_state=1)
    np.testing.assert_array_equal(again, rbm.impute(row[None], method="sample",
                                                    n_imputations=50, steps=5, random_state=1))


def test_mean_field_imputation_is_a_fixed_point_and_exact_without_weights():
    from conftest import random_params

    W, b, c = random_params(6, 4, scale=1.0)
    X = np.array([[1.0, np.nan, 0.0, np.nan, 1.0, 0.0], [0.2, 0.4, 0.6, 0.8, 1.0, 0.0]])
    rbm = BernoulliRBM.from_weights(W, b, c)
    filled = rbm.impute(X, steps=200)
    np.testing.assert_array_equal(filled[1], X[1])  # a row without NaN is left as it is
    assert np.all((filled[0, [1, 3]] > 0) & (filled[0, [1, 3]] < 1))
    h = rbm.p_h_given_v(filled[:1])
    np.testing.assert_allclose(rbm.p_v_given_h(h)[0, [1, 3]], filled[0, [1, 3]], atol=1e-6)
    # no weights: the missing units are independent of the rest, p = σ(b)
    free = BernoulliRBM.from_weights(0 * W, b, c)
    np.testing.assert_allclose(free.impute(X, steps=3)[0, [1, 3]],
                               1 / (1 + np.exp(-b[[1, 3]].numpy())), atol=1e-12)


def test_gaussian_imputation_is_in_the_inputs_units(digits):
    X = digits[0][:400] * 16 + 3.0  # raw, shifted: standardised inside the model
    rbm = GaussianBernoulliRBM(8, n_iter=3, random_state=0).fit(X)
    holes = X[:20].copy()
    holes[:, 10] = np.nan
    filled = rbm.impute(holes)
    assert np.all(np.isfinite(filled))
    np.testing.assert_array_equal(np.delete(filled, 10, axis=1), np.delete(X[:20], 10, axis=1))
    assert abs(filled[:, 10].mean() - X[:, 10].mean()) < 3 * X[:, 10].std()


def test_imputation_keeps_a_data_frame_and_transform_names_impute():
    pd = pytest.importorskip("pandas")
    from conftest import random_params

    rbm = BernoulliRBM.from_weights(*random_params(3, 2))
    frame = pd.DataFrame({"a": [1.0, np.nan], "b": [0.0, 1.0], "c": [np.nan, 0.5]},
                         index=["x", "y"])
    out = rbm.impute(frame)
    assert list(out.columns) == ["a", "b", "c"] and list(out.index) == ["x", "y"]
    assert not out.isna().any().any() and out.loc["x", "a"] == 1.0
    several = rbm.impute(frame, method="sample", n_imputations=3)
    assert len(several) == 3 and all(list(f.index) == ["x", "y"] for f in several)
    with pytest.raises(ValueError, match="impute"):
        rbm.transform(frame)
    with pytest.raises(ValueError, match="NaN"):
        BernoulliRBM(2, n_iter=1).fit(frame)
    with pytest.raises(ValueError, match="method"):
        rbm.impute(frame, method="median")


def test_from_weights_copies_and_trains_on():
    """A model made from arrays trains on (partial_fit) and never moves the caller's arrays."""
    W, b, c = np.full((3, 4), 0.1), np.zeros(4), np.zeros(3)
    rbm = BernoulliRBM.from_weights(W, b, c, random_state=0)
    rbm.partial_fit(np.eye(4))
    assert not np.allclose(rbm.W_.numpy(), 0.1)
    np.testing.assert_array_equal(W, np.full((3, 4), 0.1))
    assert rbm.n_epochs_ == 1 and len(rbm.history_["seconds"]) == 1
