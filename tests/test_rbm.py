"""The BernoulliRBM estimator: scikit-learn conventions, outputs, and bad input."""

import numpy as np
import pytest
import torch
from conftest import squashed
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import BernoulliRBM as SkRBM
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import check_estimator

from deepbelief import BernoulliRBM


def test_check_estimator_refuses_only_out_of_range_data():
    results = check_estimator(BernoulliRBM(8, n_iter=2, random_state=0), on_fail=None)
    # Checks that feed values outside [0, 1] (e.g. make_blobs) are refused by design;
    # SquashedBernoulliRBM below runs them on data in range.
    for r in results:
        if r["status"] == "failed":
            assert "Bernoulli units need values in [0, 1]" in str(r["exception"]), r
    assert sum(r["status"] == "passed" for r in results) > 20


SquashedBernoulliRBM = squashed(BernoulliRBM, __name__)


def test_check_estimator_passes_on_unit_interval_data():
    results = check_estimator(SquashedBernoulliRBM(8, n_iter=2, random_state=0), on_fail=None)
    bad = [(r["check_name"], str(r["exception"])[:200]) for r in results
           if r["status"] == "failed"]
    assert bad == []


def test_pipeline_and_grid_search(digits):
    X, y = digits
    pipe = Pipeline([("rbm", BernoulliRBM(32, n_iter=5, batch_size=20, random_state=0)),
                     ("clf", LogisticRegression(max_iter=500))])
    search = GridSearchCV(pipe, {"rbm__learning_rate": [0.01, 0.1]}, cv=2)
    search.fit(X[:600], y[:600])
    assert search.best_params_["rbm__learning_rate"] in (0.01, 0.1)
    assert search.score(X[600:900], y[600:900]) > 0.7


def test_fit_is_deterministic_and_records_history(digits):
    X = digits[0][:300]
    a = BernoulliRBM(16, n_iter=3, random_state=3).fit(X, validation_data=digits[0][300:400])
    b = BernoulliRBM(16, n_iter=3, random_state=3).fit(X, validation_data=digits[0][300:400])
    np.testing.assert_array_equal(a.components_, b.components_)
    assert a.components_.shape == (16, 64)
    assert a.intercept_hidden_.shape == (16,) and a.intercept_visible_.shape == (64,)
    assert set(a.history_) == {"reconstruction_error", "pseudo_log_likelihood",
                               "free_energy_gap", "seconds"}
    assert all(len(v) == 3 for v in a.history_.values())
    assert a.history_["reconstruction_error"][-1] < a.history_["reconstruction_error"][0]


def test_initialisation_follows_the_guide(digits):
    X = digits[0]
    rbm = BernoulliRBM(200, n_iter=1, random_state=0)
    rbm._initialize(rbm._validate(X, reset=True))
    p = np.clip(X.mean(0), 1e-3, 1 - 1e-3)
    np.testing.assert_allclose(rbm.intercept_visible_, np.log(p / (1 - p)), rtol=1e-5)
    assert np.all(rbm.intercept_hidden_ == 0)
    assert abs(rbm.components_.std() - 0.01) < 0.001


def test_score_samples_does_not_depend_on_batch(digits):
    X = digits[0][:50]
    rbm = BernoulliRBM(16, n_iter=2, random_state=0).fit(X)
    full = rbm.score_samples(X)
    np.testing.assert_allclose(rbm.score_samples(X[10:11]), full[10:11], rtol=1e-5)
    np.testing.assert_allclose(rbm.score_samples(X[::-1]), full[::-1], rtol=1e-5)
    assert np.all(full <= 0)


def test_transform_matches_scikit_learn_weights(digits):
    X = digits[0][:200]
    sk = SkRBM(n_components=10, n_iter=2, random_state=0).fit(X)
    ours = BernoulliRBM.from_weights(sk.components_, sk.intercept_visible_, sk.intercept_hidden_)
    np.testing.assert_allclose(ours.transform(X), sk.transform(X), atol=1e-5)
    assert ours.n_components == 10


def test_formulas_take_numpy_or_torch(digits):
    rbm = BernoulliRBM(8, n_iter=1, random_state=0).fit(digits[0][:100])
    v_np = (digits[0][:4] > 0.5).astype(np.float32)
    v_t = torch.from_numpy(v_np)
    assert isinstance(rbm.free_energy(v_np), np.ndarray)
    assert isinstance(rbm.free_energy(v_t), torch.Tensor)
    np.testing.assert_allclose(rbm.free_energy(v_np), rbm.free_energy(v_t).numpy())
    h = rbm.sample_h_given_v(v_np)
    assert h.shape == (4, 8) and set(np.unique(h)) <= {0.0, 1.0}
    assert rbm.p_v_given_h(h).shape == (4, 64)
    assert rbm.energy(v_np, h).shape == (4,)
    assert rbm.gibbs(v_np, steps=3).shape == (4, 64)
    s = rbm.sample(5, steps=10, random_state=0)
    assert s.shape == (5, 64) and set(np.unique(s)) <= {0.0, 1.0}
    np.testing.assert_array_equal(s, rbm.sample(5, steps=10, random_state=0))


def test_partial_fit_continues(digits):
    X = digits[0][:200]
    rbm = BernoulliRBM(8, random_state=0)
    rbm.partial_fit(X)
    W1 = rbm.components_.copy()
    rbm.partial_fit(X)
    assert rbm.n_epochs_ == 2 and not np.allclose(W1, rbm.components_)


@pytest.mark.parametrize("bad, match", [
    (np.full((5, 4), np.nan), "NaN"),
    (np.full((5, 4), np.inf), "NaN or infinity"),
    (np.full((5, 4), 1.5), r"\[0, 1\]"),
    (-np.ones((5, 4)), "Negative values"),
    (np.zeros((0, 4)), "0 sample"),
    (np.zeros((5, 0)), "0 feature"),
    (np.zeros(4), "2D"),
    (np.zeros((2, 2, 2)), "dim 3"),
])
def test_bad_training_data(bad, match):
    with pytest.raises(ValueError, match=match):
        BernoulliRBM(3, n_iter=1).fit(bad)


def test_bad_types_and_shapes(digits):
    with pytest.raises(ValueError, match="X"):  # scikit-learn's check_array's error
        BernoulliRBM(3, n_iter=1).fit(np.array([["a", "b"], ["c", "d"]]))
    from scipy import sparse

    with pytest.raises(ValueError, match=r"\[0, 1\]"):  # checked on the stored values
        BernoulliRBM(3, n_iter=1).fit(sparse.csr_matrix(2 * np.eye(3)))
    with pytest.raises(ValueError, match="NaN"):
        BernoulliRBM(3, n_iter=1).fit(sparse.csr_matrix(np.diag([1.0, np.nan, 1.0])))
    rbm = BernoulliRBM(3, n_iter=1, random_state=0).fit(digits[0][:20])
    with pytest.raises(ValueError, match="features"):
        rbm.transform(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="features"):
        rbm.p_v_given_h(np.zeros((2, 5)))


@pytest.mark.parametrize("param, value", [
    ("n_components", 0), ("k", 0), ("learning_rate", 0.0), ("learning_rate", -1.0),
    ("batch_size", 0), ("n_iter", 0), ("momentum", 1.0), ("dtype", "float16"),
    ("weight_decay", -1.0), ("n_components", 2.5), ("n_temperatures", 0),
    ("min_beta", 0.0), ("min_beta", 1.0), ("fast_learning_rate", -0.1),
    ("fast_learning_rate", 0.1),  # without sampler="fpcd"
    ("sampler", "gibbs"), ("persistent", "yes"),
])
def test_impossible_hyperparameters(param, value):
    with pytest.raises(ValueError, match=param):
        BernoulliRBM(**{param: value}).fit(np.zeros((4, 3)))


def test_unavailable_cuda_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    with pytest.raises(ValueError, match="CUDA"):
        BernoulliRBM(3, device="cuda").fit(np.zeros((4, 3)))


@pytest.mark.parametrize("fmt", ["csr", "csc", "lil"])
def test_sparse_input_matches_dense(fmt, monkeypatch):
    """A sparse matrix trains through sparse products and gives the dense result."""
    from scipy import sparse

    from deepbelief.training import CDTrainer

    rng = np.random.RandomState(0)
    X = (rng.rand(120, 40) < 0.1).astype(np.float64)  # bag-of-words-like: 10% non-zero
    layouts = []
    step = CDTrainer.step
    monkeypatch.setattr(CDTrainer, "step",
                        lambda self, v0, *a: layouts.append(v0.is_sparse) or step(self, v0, *a))
    params = dict(n_components=6, n_iter=3, batch_size=20, random_state=0, sampler="pcd")
    Xs = {"csr": sparse.csr_matrix, "csc": sparse.csc_array, "lil": sparse.lil_matrix}[fmt](X)
    sp_rbm = BernoulliRBM(**params).fit(Xs)
    assert layouts and all(layouts)
    dense_rbm = BernoulliRBM(**params).fit(X)
    np.testing.assert_allclose(sp_rbm.components_, dense_rbm.components_, atol=1e-12)
    np.testing.assert_allclose(sp_rbm.transform(Xs), dense_rbm.transform(X), atol=1e-12)
    np.testing.assert_allclose(sp_rbm.score_samples(Xs), dense_rbm.score_samples(X),
                               atol=1e-10)
    assert sp_rbm.gibbs(Xs).shape == X.shape
    sp_rbm.partial_fit(Xs)
    assert sp_rbm.n_epochs_ == 4


@pytest.mark.parametrize("data, dtype, expected", [
    (np.float32, None, np.float32), (np.float64, None, np.float64), (int, None, np.float64),
    (np.float64, "float32", np.float32), (np.float32, "float64", np.float64)])
def test_dtype_follows_the_data_unless_set(digits, data, dtype, expected):
    X = (digits[0][:50] > 0.5).astype(data)
    rbm = BernoulliRBM(4, n_iter=1, random_state=0, dtype=dtype).fit(X)
    assert rbm.components_.dtype == expected
    assert rbm.transform(X).dtype == expected
    assert rbm.score_samples(X).dtype == expected
    tags = rbm.__sklearn_tags__().transformer_tags.preserves_dtype
    assert tags == (["float64", "float32"] if dtype is None else [dtype])


def test_dtype_none_round_trips_through_a_file(digits, tmp_path):
    import deepbelief

    X = (digits[0][:50] > 0.5).astype(np.float64)
    rbm = BernoulliRBM(4, n_iter=1, random_state=0).fit(X)
    rbm.save(tmp_path / "rbm.safetensors")
    back = deepbelief.load(tmp_path / "rbm.safetensors")
    assert back.dtype is None and back.components_.dtype == np.float64
    np.testing.assert_array_equal(back.transform(X), rbm.transform(X))


def test_verbose_prints_scikit_learns_line_every_epoch(digits, capsys):
    import re

    from deepbelief import GaussianBernoulliRBM

    X = (digits[0][:50] > 0.5).astype(np.float64)
    BernoulliRBM(4, n_iter=2, random_state=0, verbose=True).fit(X)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    for t, line in enumerate(lines, 1):
        assert re.fullmatch(rf"\[BernoulliRBM\] Iteration {t}, pseudo-likelihood = -?\d+\.\d\d, "
                            r"time = \d+\.\d\ds, reconstruction error = \d+\.\d\d", line), line
    GaussianBernoulliRBM(4, n_iter=1, random_state=0, verbose=True).fit(digits[0][:50])
    line = capsys.readouterr().out
    assert re.fullmatch(r"\[GaussianBernoulliRBM\] Iteration 1, reconstruction error = "
                        r"\d+\.\d\d, time = \d+\.\d\ds\n", line), line
    BernoulliRBM(4, n_iter=1, random_state=0).fit(X)
    assert capsys.readouterr().out == ""


def test_min_max_scaler_pipeline_scores_rows_outside_the_unit_interval(digits):
    """A scaler fitted on the training rows maps test rows outside [0, 1]: the fitted
    model takes them (p(h|v) is defined for any v), in GridSearchCV too."""
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import MinMaxScaler

    X, y = digits
    X = X * 16.0
    X, X_test, y, y_test = train_test_split(X, y, test_size=1 / 3, stratify=y, random_state=0)
    pipe = Pipeline([("scale", MinMaxScaler()), ("rbm", BernoulliRBM(32, n_iter=3, random_state=0)),
                     ("clf", LogisticRegression(max_iter=300))])
    pipe.fit(X, y)
    scaled = pipe[:1].transform(X_test)
    assert scaled.max() > 1.0  # the case in point
    assert pipe.score(X_test, y_test) > 0.5
    h = pipe["rbm"].transform(scaled)
    W, c = pipe["rbm"].components_, pipe["rbm"].intercept_hidden_
    np.testing.assert_allclose(h, 1 / (1 + np.exp(-(scaled @ W.T + c))), rtol=1e-4, atol=1e-6)
    search = GridSearchCV(pipe, {"rbm__n_components": [8, 16]}, cv=3).fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_training_data_outside_the_unit_interval_is_still_refused(digits):
    rbm = BernoulliRBM(4, n_iter=1, random_state=0).fit(digits[0][:50])
    rbm.transform(digits[0][:5] * 2.0)  # inference: accepted
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        rbm.partial_fit(digits[0][:50] * 2.0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        rbm.train_epoch(digits[0][:50] * 2.0)
    with pytest.raises(ValueError, match="NaN"):
        rbm.transform(np.full((2, 64), np.nan))
