"""Gaussian mixture: agreement with scikit-learn's EM, fit quality, degenerate data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture as SkGaussianMixture

from deepbelief.mixture import GaussianMixture, kmeans

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
K, D = 4, 3


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=400, n_features=D, centers=K, cluster_std=[0.4, 0.8, 1.0, 0.6],
                      random_state=3)
    return X, y


def _rough_start(X: np.ndarray, covariance_type: str) -> dict:
    """A deliberately poor starting point, so that EM has a trajectory to follow."""
    precisions = {"full": np.tile(np.eye(D), (K, 1, 1)), "tied": np.eye(D),
                  "diag": np.ones((K, D)), "spherical": np.ones(K)}[covariance_type]
    return {"weights_init": np.full(K, 1 / K), "means_init": X[[0, 1, 2, 3]],
            "precisions_init": precisions}


def _quiet_fit(model, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_em_trajectory_matches_sklearn(blobs, covariance_type):
    X, _ = blobs
    start = _rough_start(X, covariance_type)
    trajectory = []
    for max_iter in (1, 2, 5):
        kwargs = dict(covariance_type=covariance_type, max_iter=max_iter, tol=0.0, **start)
        ours = _quiet_fit(GaussianMixture(K, **kwargs), X)
        theirs = _quiet_fit(SkGaussianMixture(K, **kwargs), X)
        assert ours.n_iter_ == theirs.n_iter_ == max_iter
        assert ours.lower_bound_ == pytest.approx(theirs.lower_bound_, abs=1e-4)
        np.testing.assert_allclose(ours.lower_bounds_, theirs.lower_bounds_, atol=1e-4)
        np.testing.assert_allclose(ours.means_, theirs.means_, atol=1e-6)
        np.testing.assert_allclose(ours.covariances_, theirs.covariances_, atol=1e-6)
        np.testing.assert_allclose(ours.precisions_cholesky_, theirs.precisions_cholesky_,
                                   atol=1e-5)
        assert ours.score(X) == pytest.approx(theirs.score(X), abs=1e-4)
        trajectory.append(ours.lower_bound_)
    assert trajectory[0] < trajectory[1] < trajectory[2]  # the start really was poor
    assert np.all(np.diff(ours.lower_bounds_) > 0)  # EM never decreases the likelihood


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_fit_is_as_good_as_sklearn_on_blobs(blobs, covariance_type):
    X, y = blobs
    ours = GaussianMixture(K, covariance_type=covariance_type, random_state=0).fit(X)
    theirs = SkGaussianMixture(K, covariance_type=covariance_type, random_state=0).fit(X)
    assert ours.converged_
    assert ours.score(X) >= theirs.score(X) - 1e-3
    assert adjusted_rand_score(y, ours.predict(X)) > 0.95
    for name in ["weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"]:
        assert getattr(ours, name).shape == getattr(theirs, name).shape, name


@pytest.mark.parametrize("init, covariance_type, n_init",
                         [("kmeans", "tied", 1), ("k-means++", "tied", 1), ("random", "full", 5)])
def test_every_init_separates_blobs(blobs, init, covariance_type, n_init):
    X, y = blobs
    model = GaussianMixture(K, covariance_type=covariance_type, init_params=init, n_init=n_init,
                            random_state=1, max_iter=300).fit(X)
    assert adjusted_rand_score(y, model.predict(X)) > 0.95


def test_kmeans_recovers_blobs(blobs):
    X, y = blobs
    gen = torch.Generator().manual_seed(0)
    labels = kmeans(torch.from_numpy(X), K, gen)
    assert adjusted_rand_score(y, labels.numpy()) > 0.95


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_bic_aic_and_posteriors_equal_sklearn_for_same_parameters(blobs, covariance_type):
    X, _ = blobs
    kwargs = dict(covariance_type=covariance_type, max_iter=3, tol=0.0,
                  **_rough_start(X, covariance_type))
    ours = _quiet_fit(GaussianMixture(K, **kwargs), X)
    theirs = _quiet_fit(SkGaussianMixture(K, **kwargs), X)
    X_new = X[::7] + 0.3
    assert ours.bic(X_new) == pytest.approx(theirs.bic(X_new), rel=1e-9)
    assert ours.aic(X_new) == pytest.approx(theirs.aic(X_new), rel=1e-9)
    np.testing.assert_allclose(ours.score_samples(X_new), theirs.score_samples(X_new),
                               atol=1e-8)
    np.testing.assert_allclose(ours.predict_proba(X_new), theirs.predict_proba(X_new),
                               atol=1e-8)


def test_fit_predict_and_posteriors(blobs):
    X, _ = blobs
    model = GaussianMixture(K, random_state=0)
    labels = model.fit_predict(X)
    np.testing.assert_array_equal(labels, model.predict(X))
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(proba.argmax(axis=1), labels)
    assert model.score(X) == pytest.approx(model.score_samples(X).mean())


def test_far_outlier_does_not_underflow(blobs):
    X, _ = blobs
    model = GaussianMixture(K, random_state=0).fit(X)
    far = np.full((1, D), 1e3)
    log_p = model.score_samples(far)
    assert np.isfinite(log_p).all() and log_p[0] < -1e4
    proba = model.predict_proba(far)
    assert np.isfinite(proba).all()
    assert proba.sum() == pytest.approx(1.0)


def test_n_init_keeps_the_best_and_random_state_reproduces(blobs):
    X, _ = blobs
    common = dict(covariance_type="full", init_params="random", random_state=5, max_iter=5)
    one = _quiet_fit(GaussianMixture(K, n_init=1, **common), X)
    again = _quiet_fit(GaussianMixture(K, n_init=1, **common), X)
    many = _quiet_fit(GaussianMixture(K, n_init=4, **common), X)
    np.testing.assert_array_equal(one.means_, again.means_)
    assert many.lower_bound_ >= one.lower_bound_


def test_not_converged_warns(blobs):
    X, _ = blobs
    with pytest.warns(ConvergenceWarning):
        model = GaussianMixture(K, init_params="random", max_iter=2, random_state=0).fit(X)
    assert not model.converged_ and model.n_iter_ == 2


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_sample_shapes_and_moments(covariance_type):
    X, _ = make_blobs(n_samples=300, n_features=2, centers=[[-5, 0], [5, 0]], random_state=0)
    model = GaussianMixture(2, covariance_type=covariance_type, random_state=0).fit(X)
    for n in (1, 7):
        Xs, ys = model.sample(n)
        assert Xs.shape == (n, 2) and ys.shape == (n,)
    Xs, ys = model.sample(20_000)
    assert np.all(np.diff(ys) >= 0)  # grouped by component
    full_cov = {"full": lambda c, k: c[k], "tied": lambda c, k: c,
                "diag": lambda c, k: np.diag(c[k]),
                "spherical": lambda c, k: c[k] * np.eye(2)}[covariance_type]
    for k in range(2):
        assert np.mean(ys == k) == pytest.approx(model.weights_[k], abs=0.02)
        np.testing.assert_allclose(Xs[ys == k].mean(axis=0), model.means_[k], atol=0.05)
        np.testing.assert_allclose(np.cov(Xs[ys == k].T), full_cov(model.covariances_, k),
                                   atol=0.06)
    with pytest.raises(ValueError, match="n_samples"):
        model.sample(0)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_duplicate_points_stay_finite_with_warning(covariance_type):
    X = np.tile([[1.0, 2.0, 3.0]], (30, 1))
    with pytest.warns(RuntimeWarning, match="lost all its samples"):
        model = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    for name in ["weights_", "means_", "covariances_", "precisions_cholesky_"]:
        assert np.isfinite(getattr(model, name)).all(), name
    assert np.isfinite(model.score_samples(X)).all()
    np.testing.assert_allclose(model.means_, np.tile([1.0, 2.0, 3.0], (3, 1)))


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_singular_covariance_with_reg_covar_zero_raises_as_scikit_learn(covariance_type):
    from sklearn.mixture import GaussianMixture as SkGaussianMixture

    from deepbelief.mixture import ILL_DEFINED_COVARIANCE

    X = np.repeat(np.random.default_rng(0).normal(size=(3, 2)), 10, axis=0)
    for cls in (GaussianMixture, SkGaussianMixture):
        model = cls(3, covariance_type=covariance_type, reg_covar=0.0, random_state=0)
        with pytest.raises(ValueError, match="ill-defined empirical covariance") as info:
            model.fit(X)
    assert str(info.value) == ILL_DEFINED_COVARIANCE


def test_singular_covariance_is_repaired_with_warning():
    """A covariance singular in spite of a (tiny) reg_covar is repaired, with a warning."""
    t = np.random.default_rng(0).normal(size=(30, 1))
    X = np.hstack([t, t])  # on a line: Σ = [[v, v], [v, v]], and v + 1e-20 == v
    with pytest.warns(RuntimeWarning, match="singular"):
        model = GaussianMixture(1, reg_covar=1e-20, random_state=0).fit(X)
    assert np.isfinite(model.precisions_cholesky_).all()
    assert np.isfinite(model.score_samples(X)).all()


def test_component_without_points_is_reseeded(blobs):
    X, _ = blobs
    start = _rough_start(X, "diag")
    start["means_init"] = np.vstack([X[:3], [[1e4, 1e4, 1e4]]])  # nothing near it
    with pytest.warns(RuntimeWarning, match="lost all its samples"):
        model = _quiet_fit(GaussianMixture(K, covariance_type="diag", max_iter=50, **start), X)
    assert np.all(np.abs(model.means_) < 100)
    assert np.all(model.weights_ > 0.01)
    assert np.isfinite(model.score(X))


@pytest.mark.parametrize(
    "kwargs, X, match",
    [
        ({}, [[1.0, np.nan], [0.0, 1.0]], "NaN"),
        ({}, [1.0, 2.0, 3.0], "2D"),
        ({"n_components": 5}, np.zeros((3, 2)), "n_components"),
        ({"covariance_type": "banana"}, np.zeros((3, 2)), "covariance_type"),
        ({"init_params": "kmeans+"}, np.zeros((3, 2)), "init_params"),
        ({"reg_covar": -1.0}, np.zeros((3, 2)), "reg_covar"),
        ({"n_init": 0}, np.zeros((3, 2)), "n_init"),
        ({"means_init": np.zeros((1, 3))}, np.zeros((3, 2)),
         "'means' should have the shape"),
        ({"weights_init": [0.5]}, np.zeros((3, 2)), "'weights' should be normalized"),
        ({"n_components": 2, "weights_init": [0.5, 0.6]}, np.zeros((3, 2)), "normalized"),
        ({"precisions_init": [[[1.0, 2.0], [2.0, 1.0]]]}, np.zeros((3, 2)), "positive"),
        ({"covariance_type": "diag", "precisions_init": [[1.0, -1.0]]}, np.zeros((3, 2)),
         "positive"),
    ],
)
def test_bad_input(kwargs, X, match):
    with pytest.raises(ValueError, match=match):
        GaussianMixture(**kwargs).fit(X)


@pytest.mark.parametrize("param, value", [
    ("n_components", 0), ("n_components", 1.5), ("covariance_type", "banana"),
    ("init_params", "kmeans+"), ("n_init", 0), ("max_iter", -1), ("tol", -1e-3),
    ("tol", float("nan")), ("reg_covar", float("inf")), ("verbose_interval", 0),
    ("dtype", "float16"), ("warm_start", "yes"), ("random_state", "seed"),
    ("device", 1.5), ("means_init", 3.0)])
def test_bad_hyperparameters_raise_before_the_data_are_read(param, value):
    """scikit-learn's InvalidParameterError (a ValueError) names the parameter, even when
    the data are bad too."""
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match=f"'{param}' parameter of GaussianMixture"):
        GaussianMixture(**{param: value}).fit([[np.nan]])
    assert issubclass(InvalidParameterError, ValueError)


@pytest.mark.parametrize("random_state", [None, 3, -3, np.int64(3), np.random.RandomState(0),
                                          np.random.default_rng(0), torch.Generator()])
def test_every_random_state_make_generator_takes_is_accepted(blobs, random_state):
    model = GaussianMixture(2, covariance_type="diag", random_state=random_state,
                            device=None).fit(blobs[0])
    assert model.converged_


def test_a_model_file_with_bad_hyperparameters_is_refused(blobs, tmp_path):
    import json

    from safetensors import safe_open
    from safetensors.torch import save_file

    import deepbelief

    path = tmp_path / "gmm.safetensors"
    GaussianMixture(2, covariance_type="diag", random_state=0).fit(blobs[0]).save(path)
    with safe_open(str(path), "pt") as f:
        metadata = f.metadata()
        tensors = {key: f.get_tensor(key) for key in f.keys()}
    params = json.loads(metadata["params"])
    for key, value in [("reg_covar", -1.0), ("covariance_type", "banana")]:
        save_file(tensors, str(path), metadata=dict(
            metadata, params=json.dumps(dict(params, **{key: value}))))
        with pytest.raises(ValueError, match=key):
            deepbelief.load(path)


def test_bad_input_after_fit(blobs):
    X, _ = blobs
    with pytest.raises(Exception, match="not fitted"):
        GaussianMixture().predict(X)
    model = GaussianMixture(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="features"):
        model.score_samples(X[:, :2])


def test_sklearn_conventions_and_input_types(blobs):
    X, _ = blobs
    model = GaussianMixture(2, covariance_type="diag", random_state=0)
    assert clone(model).get_params()["covariance_type"] == "diag"
    assert not hasattr(model, "means_")
    a = clone(model).fit(X)
    b = clone(model).fit(torch.from_numpy(X))
    c = clone(model).fit(X.astype(np.float32))
    np.testing.assert_array_equal(a.means_, b.means_)
    np.testing.assert_allclose(a.means_, c.means_, atol=1e-4)
    assert a.means_.dtype == np.float64 and isinstance(a.lower_bound_, float)


@pytest.mark.parametrize("init_params", ["k-means++", "random_from_data"])
def test_point_initialisations_start_each_component_at_one_sample(blobs, init_params):
    X = blobs[0]
    model = GaussianMixture(4, init_params=init_params, max_iter=0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X)
    distances = ((model.means_[:, None, :] - X[None]) ** 2).sum(2).min(1)
    np.testing.assert_allclose(distances, 0.0, atol=1e-10)


def test_warm_start_continues_from_the_last_solution(blobs):
    X = blobs[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cold = GaussianMixture(4, max_iter=3, tol=0, random_state=0).fit(X)
        warm = GaussianMixture(4, max_iter=1, tol=0, random_state=0, warm_start=True)
        for _ in range(3):
            warm.fit(X)
    np.testing.assert_allclose(warm.means_, cold.means_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(warm.lower_bound_, cold.lower_bound_, rtol=1e-9)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_float32_data_gives_a_float32_fit_close_to_the_float64_one(blobs, covariance_type):
    """Same start, same 20 EM iterations: float32 attributes and outputs, within
    rtol=1e-4, atol=1e-4 of the float64 fit (float32's resolution is 1.2e-7)."""
    X, _ = blobs
    kwargs = dict(covariance_type=covariance_type, max_iter=20, tol=0.0,
                  **_rough_start(X, covariance_type))
    ref = _quiet_fit(GaussianMixture(K, **kwargs), X)
    X32 = X.astype(np.float32)
    model = _quiet_fit(GaussianMixture(K, **kwargs), X32)
    for name in ["weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"]:
        assert getattr(model, name).dtype == np.float32, name
        np.testing.assert_allclose(getattr(model, name), getattr(ref, name), rtol=1e-4,
                                   atol=1e-4, err_msg=name)
    assert model.lower_bound_ == pytest.approx(ref.lower_bound_, abs=1e-4)
    for method in ("score_samples", "predict_proba"):
        out = getattr(model, method)(X32)
        assert out.dtype == np.float32, method
        np.testing.assert_allclose(out, getattr(ref, method)(X), rtol=1e-4, atol=1e-4)
        # float64 data is converted to the model's type
        np.testing.assert_array_equal(getattr(model, method)(X), out)
    np.testing.assert_array_equal(model.predict(X32), ref.predict(X))
    assert model.sample(5)[0].dtype == np.float32


@pytest.mark.parametrize("data, dtype, expected", [
    (np.float32, None, np.float32), (np.float64, None, np.float64), (int, None, np.float64),
    (np.float64, "float32", np.float32), (np.float32, "float64", np.float64)])
def test_dtype_follows_the_data_unless_set(blobs, data, dtype, expected):
    X = np.round(blobs[0] * 10).astype(data)
    model = GaussianMixture(2, covariance_type="diag", dtype=dtype, random_state=0).fit(X)
    assert model.means_.dtype == model.covariances_.dtype == model.weights_.dtype == expected
    assert model.score_samples(X).dtype == model.predict_proba(X).dtype == expected
    assert clone(model).get_params()["dtype"] == dtype
    with pytest.raises(ValueError, match="dtype"):
        GaussianMixture(dtype="float16").fit(X)


def test_warm_start_and_streams_keep_the_first_type(blobs):
    X32 = blobs[0].astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warm = GaussianMixture(K, max_iter=2, tol=0, random_state=0, warm_start=True).fit(X32)
        warm.fit(X32.astype(np.float64))
    assert warm.means_.dtype == np.float32 and warm.n_iter_ == 2

    class Batches:  # float32 first, float64 after
        def __iter__(self):
            return iter([X32[:200], X32[200:].astype(np.float64)])

    model = GaussianMixture(K, random_state=0).fit(Batches())
    assert model.means_.dtype == np.float32


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_a_float32_model_file_round_trips(blobs, covariance_type, tmp_path):
    import deepbelief

    X = blobs[0].astype(np.float32)
    model = GaussianMixture(K, covariance_type=covariance_type, random_state=0).fit(X)
    model.save(tmp_path / "gmm.safetensors")
    back = deepbelief.load(tmp_path / "gmm.safetensors")
    assert isinstance(back, GaussianMixture) and back.get_params() == model.get_params()
    for name in ["weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"]:
        assert getattr(back, name).dtype == np.float32, name
        np.testing.assert_array_equal(getattr(back, name), getattr(model, name))
    assert (back.converged_, back.n_iter_, back.lower_bound_, back.lower_bounds_) == (
        model.converged_, model.n_iter_, model.lower_bound_, model.lower_bounds_)
    np.testing.assert_array_equal(back.score_samples(X), model.score_samples(X))


def test_a_model_file_keeps_array_initial_parameters(blobs, tmp_path):
    import deepbelief

    X = blobs[0]
    model = _quiet_fit(GaussianMixture(K, covariance_type="diag", max_iter=2,
                                       **_rough_start(X, "diag")), X)
    model.save(tmp_path / "gmm.safetensors")
    back = deepbelief.load(tmp_path / "gmm.safetensors")
    np.testing.assert_array_equal(back.means_init, model.means_init)
    np.testing.assert_array_equal(back.means_, model.means_)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reg_covar_zero_with_empty_components_raises_as_scikit_learn(covariance_type, dtype):
    """Two distinct points, ten components: with reg_covar=0 every covariance type raises
    scikit-learn's own message; with reg_covar > 0 the empty components are re-seeded."""
    X = np.vstack([np.ones((5, 5)), np.zeros((5, 5))]).astype(dtype)
    messages = []
    for cls in (GaussianMixture, SkGaussianMixture):
        model = cls(10, covariance_type=covariance_type, reg_covar=0, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(ValueError, match="ill-defined empirical covariance") as info:
                model.fit(X)
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    with pytest.warns(RuntimeWarning, match="lost all its samples"):
        model = GaussianMixture(10, covariance_type=covariance_type, random_state=0).fit(X)
    assert np.isfinite(model.score_samples(X)).all()
