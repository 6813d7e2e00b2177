"""Naive Bayes: the slides' spam example, agreement with scikit-learn, alpha=0 edge cases."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn.naive_bayes as sk
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.feature_extraction.text import CountVectorizer

import deepbelief
from deepbelief.naive_bayes import BernoulliNB, CategoricalNB, ComplementNB, MultinomialNB

MAILS = [
    "me free lottery",
    "free get free you",
    "you free scholarship",
    "free to contact me",
    "you won award",
    "you ticket lottery",
]
LABELS = ["spam", "spam", "normal", "normal", "normal", "spam"]
QUERY = "you free lottery"


@pytest.fixture(scope="module")
def spam_data():
    vectorizer = CountVectorizer()
    X = vectorizer.fit_transform(MAILS).toarray()
    x = vectorizer.transform([QUERY]).toarray()
    return vectorizer, X, x


def test_spam_example_unsmoothed_matches_slides(spam_data):
    vectorizer, X, x = spam_data
    assert x.sum() == 3  # every query word is in the vocabulary
    with pytest.warns(RuntimeWarning, match="-inf"):
        model = MultinomialNB(alpha=0).fit(X, LABELS)
    assert list(model.classes_) == ["normal", "spam"]
    np.testing.assert_array_equal(model.feature_count_.sum(axis=1), [10, 10])
    np.testing.assert_allclose(np.exp(model.class_log_prior_), [0.5, 0.5], atol=1e-15)
    np.testing.assert_allclose(np.exp(model.feature_log_prob_), model.feature_count_ / 10,
                               atol=1e-15)
    vocab = vectorizer.vocabulary_
    theta = np.exp(model.feature_log_prob_)
    for word, normal, spam in [("you", 2, 2), ("free", 2, 3), ("lottery", 0, 2)]:
        np.testing.assert_allclose(theta[:, vocab[word]], [normal / 10, spam / 10], atol=1e-15)
    jll = model.predict_joint_log_proba(x)
    likelihood = np.exp(jll - model.class_log_prior_)
    np.testing.assert_allclose(likelihood, [[0.0, 0.012]], rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.exp(jll), [[0.0, 0.006]], rtol=0, atol=1e-12)
    assert jll[0, 0] == -np.inf
    np.testing.assert_array_equal(model.predict_proba(x), [[0.0, 1.0]])
    assert model.predict(x)[0] == "spam"


def test_spam_example_laplace_smoothing(spam_data):
    _, X, x = spam_data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = MultinomialNB(alpha=1.0).fit(X, LABELS)
    # 11 words in the vocabulary: θ = (count + 1) / (10 + 11)
    np.testing.assert_allclose(np.exp(model.feature_log_prob_), (model.feature_count_ + 1) / 21)
    joint = np.exp(model.predict_joint_log_proba(x))
    np.testing.assert_allclose(joint, [[0.5 * 3 * 3 * 1 / 21**3, 0.5 * 3 * 4 * 3 / 21**3]],
                               rtol=1e-12)
    np.testing.assert_allclose(model.predict_proba(x), [[0.2, 0.8]], rtol=1e-12)


def _count_data(seed: int, n: int = 60, d: int = 12, k: int = 3):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    X = rng.poisson(rng.uniform(0.2, 3.0, size=(k, d))[y])
    return X, y, rng.poisson(1.5, size=(25, d))


def _assert_same_as_sklearn(ours, theirs, X_test):
    for name in ["class_count_", "feature_count_", "class_log_prior_", "feature_log_prob_"]:
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), atol=1e-10)
    np.testing.assert_allclose(ours.predict_joint_log_proba(X_test),
                               theirs.predict_joint_log_proba(X_test), atol=1e-6)
    np.testing.assert_allclose(ours.predict_log_proba(X_test),
                               theirs.predict_log_proba(X_test), atol=1e-6)
    np.testing.assert_array_equal(ours.predict(X_test), theirs.predict(X_test))


@pytest.mark.parametrize("alpha", [0.01, 0.5, 1.0, 2.5])
def test_multinomial_matches_sklearn(alpha):
    X, y, X_test = _count_data(int(alpha * 100))
    ours = MultinomialNB(alpha=alpha).fit(X, y)
    _assert_same_as_sklearn(ours, sk.MultinomialNB(alpha=alpha).fit(X, y), X_test)


@pytest.mark.parametrize("alpha", [0.01, 0.5, 1.0, 2.5])
@pytest.mark.parametrize("binarize", [0.0, 1.5, None])
def test_bernoulli_matches_sklearn(alpha, binarize):
    X, y, X_test = _count_data(int(alpha * 100) + 1)
    if binarize is None:
        X, X_test = (X > 0).astype(float), (X_test > 0).astype(float)
    ours = BernoulliNB(alpha=alpha, binarize=binarize).fit(X, y)
    theirs = sk.BernoulliNB(alpha=alpha, binarize=binarize).fit(X, y)
    _assert_same_as_sklearn(ours, theirs, X_test)


@pytest.mark.parametrize("make", [lambda: MultinomialNB(alpha=0.3),
                                  lambda: BernoulliNB(alpha=0.7, binarize=1.0)])
def test_partial_fit_over_chunks_equals_fit(make):
    X, y, X_test = _count_data(7, n=90)
    y[:30] = np.where(y[:30] == 2, 0, y[:30])  # first chunk lacks class 2
    full = make().fit(X, y)
    chunked = make()
    for start in range(0, 90, 30):
        chunked.partial_fit(X[start:start + 30], y[start:start + 30], classes=[0, 1, 2])
    for name in ["class_count_", "feature_count_", "class_log_prior_", "feature_log_prob_"]:
        np.testing.assert_allclose(getattr(chunked, name), getattr(full, name), atol=1e-12)
    np.testing.assert_allclose(chunked.predict_log_proba(X_test),
                               full.predict_log_proba(X_test), atol=1e-12)


def test_partial_fit_unseen_class_has_zero_prior_and_no_nan():
    X, y, X_test = _count_data(3)
    model = MultinomialNB(alpha=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model.partial_fit(X[y != 2], y[y != 2], classes=[0, 1, 2])
    assert model.class_log_prior_[2] == -np.inf
    # 0/0 for the unseen class takes the alpha -> 0 limit, the uniform 1 / n_features
    np.testing.assert_allclose(np.exp(model.feature_log_prob_[2]), 1 / X.shape[1])
    proba = model.predict_proba(X_test)
    assert not np.isnan(proba).any()
    np.testing.assert_array_equal(proba[:, 2], 0.0)


def test_bernoulli_alpha_zero_has_no_nan_and_dead_samples_are_uniform():
    X = np.array([[1, 0, 1], [1, 0, 0], [0, 1, 1], [0, 1, 0]])
    y = np.array([0, 0, 1, 1])
    with pytest.warns(RuntimeWarning):
        model = BernoulliNB(alpha=0.0).fit(X, y)
    # p = 1 and p = 0 occur, so both log p and log(1 - p) hit -inf
    jll = model.predict_joint_log_proba(X)
    assert not np.isnan(jll).any()
    np.testing.assert_allclose(np.exp(jll), [[0.25, 0], [0.25, 0], [0, 0.25], [0, 0.25]])
    dead = np.array([[1, 1, 0]])  # feature 0 excludes class 1, feature 1 excludes class 0
    assert np.isneginf(model.predict_joint_log_proba(dead)).all()
    np.testing.assert_array_equal(model.predict_proba(dead), [[0.5, 0.5]])
    np.testing.assert_allclose(model.predict_log_proba(dead), np.log([[0.5, 0.5]]))
    assert model.predict(dead)[0] == 0


@settings(max_examples=30, deadline=None)
@given(
    counts=st.lists(st.lists(st.integers(0, 3), min_size=4, max_size=4), min_size=2,
                    max_size=8),
    alpha=st.sampled_from([0.0, 1e-3, 1.0]),
    bernoulli=st.booleans(),
)
def test_posteriors_are_distributions(counts, alpha, bernoulli):
    X = np.array(counts)
    y = np.arange(len(X)) % 2
    model = BernoulliNB(alpha=alpha) if bernoulli else MultinomialNB(alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model.fit(X, y)
    queries = np.vstack([X, np.eye(4, dtype=int), np.zeros((1, 4), dtype=int)])
    proba = model.predict_proba(queries)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    assert not np.isnan(model.predict_joint_log_proba(queries)).any()


@pytest.mark.parametrize(
    "X, y, match",
    [
        ([[1, -1], [0, 2]], [0, 1], "Negative values"),
        ([[1, np.nan], [0, 2]], [0, 1], "NaN"),
        ([[1, 0], [0, 2]], [0, 1, 1], "labels"),
        (np.empty((0, 2)), [], "0 sample"),
        ([1, 2, 3], [0, 1, 1], "2D"),
    ],
)
def test_bad_training_input(X, y, match):
    with pytest.raises(ValueError, match=match):
        MultinomialNB().fit(X, y)


def test_bad_input_after_fit_and_bad_hyperparameters():
    X, y, _ = _count_data(0)
    model = MultinomialNB().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :-1])
    with pytest.raises(ValueError, match="do not exist in the initial classes"):
        model.partial_fit(X, y + 10)
    with pytest.raises(ValueError, match="classes"):
        MultinomialNB().partial_fit(X, y)
    with pytest.raises(ValueError, match="alpha"):
        MultinomialNB(alpha=-1.0).fit(X, y)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        BernoulliNB(binarize=None).fit(X, y)
    with pytest.raises(ValueError, match="binarize"):
        BernoulliNB(binarize="yes").fit(X, y)


def test_sklearn_conventions():
    model = BernoulliNB(alpha=0.2, binarize=None)
    assert clone(model).get_params() == {"alpha": 0.2, "binarize": None, "force_alpha": True,
                                         "fit_prior": True, "class_prior": None}
    assert not hasattr(model, "classes_")
    X, y, _ = _count_data(1)
    assert MultinomialNB().fit(X, y).score(X, y) > 0.8


@pytest.mark.parametrize("make, theirs", [
    (lambda **kw: MultinomialNB(**kw), lambda **kw: sk.MultinomialNB(**kw)),
    (lambda **kw: BernoulliNB(binarize=1.0, **kw), lambda **kw: sk.BernoulliNB(binarize=1.0, **kw)),
])
@pytest.mark.parametrize("params", [
    {"fit_prior": False}, {"class_prior": [0.2, 0.3, 0.5]}, {"alpha": "array"},
    {"alpha": 1e-12, "force_alpha": False}, {"sample_weight": True},
])
def test_scikit_learn_options_match_scikit_learn(make, theirs, params):
    X, y, X_test = _count_data(7)
    params = dict(params)
    fit_kw = {}
    if params.pop("sample_weight", False):
        fit_kw["sample_weight"] = np.random.default_rng(0).uniform(0, 3, len(y))
    if params.get("alpha") == "array":
        params["alpha"] = alpha = np.linspace(0.1, 2.0, X.shape[1])
        if isinstance(make(), BernoulliNB):  # scikit-learn 1.9's BernoulliNB cannot do this
            ours = make(**params).fit(X, y)
            p = (ours.feature_count_ + alpha) / (ours.class_count_[:, None] + 2 * alpha)
            np.testing.assert_allclose(np.exp(ours.feature_log_prob_), p)
            return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ours = make(**params).fit(X, y, **fit_kw)
        ref = theirs(**params).fit(X, y, **fit_kw)
    _assert_same_as_sklearn(ours, ref, X_test)


def test_bad_priors_alpha_and_weights_are_refused():
    X, y, _ = _count_data(8)
    with pytest.raises(ValueError, match="priors"):
        MultinomialNB(class_prior=[0.5, 0.5]).fit(X, y)
    with pytest.raises(ValueError, match="alpha"):
        MultinomialNB(alpha=np.ones(3)).fit(X, y)
    with pytest.raises(ValueError, match="sample_weight"):
        MultinomialNB().fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.warns(UserWarning, match="alpha too small"):
        MultinomialNB(alpha=0.0, force_alpha=False).fit(X, y)


def _gaussian_data(seed: int, n: int = 90, d: int = 5, k: int = 3):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    X = rng.normal(rng.normal(0, 2, size=(k, d))[y], rng.uniform(0.5, 2, size=(k, d))[y])
    return X, y, rng.normal(0, 3, size=(30, d))


@pytest.mark.parametrize("params", [{}, {"priors": [0.5, 0.3, 0.2]}, {"var_smoothing": 1e-3}])
@pytest.mark.parametrize("weighted", [False, True])
def test_gaussian_nb_matches_scikit_learn(params, weighted):
    from deepbelief.naive_bayes import GaussianNB

    X, y, X_test = _gaussian_data(3)
    w = np.random.default_rng(1).uniform(0, 2, len(y)) if weighted else None
    ours, theirs = GaussianNB(**params).fit(X, y, w), sk.GaussianNB(**params).fit(X, y, w)
    for name in ("theta_", "var_", "class_count_", "class_prior_", "epsilon_"):
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-10,
                                   atol=1e-12)
    np.testing.assert_allclose(ours.predict_joint_log_proba(X_test),
                               theirs.predict_joint_log_proba(X_test), rtol=1e-9)
    np.testing.assert_array_equal(ours.predict(X_test), theirs.predict(X_test))


def test_gaussian_nb_partial_fit_merges_chunks_exactly():
    from deepbelief.naive_bayes import GaussianNB

    X, y, X_test = _gaussian_data(4)
    whole = GaussianNB(var_smoothing=0.0).fit(X, y)
    parts = GaussianNB(var_smoothing=0.0)
    for rows in np.array_split(np.arange(len(y)), 4):
        parts.partial_fit(X[rows], y[rows], classes=[0, 1, 2])
    np.testing.assert_allclose(parts.theta_, whole.theta_, rtol=1e-12)
    np.testing.assert_allclose(parts.var_, whole.var_, rtol=1e-10)
    with pytest.raises(ValueError, match="priors"):
        GaussianNB(priors=[0.5, 0.5]).fit(X, y)


@pytest.mark.parametrize("name", ["MultinomialNB", "BernoulliNB", "GaussianNB", "ComplementNB",
                                  "CategoricalNB"])
def test_check_estimator_passes(name):
    from sklearn.utils.estimator_checks import check_estimator

    import deepbelief.naive_bayes as nb

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(getattr(nb, name)(), on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results
              if r["status"] == "failed"]
    assert failed == []
    assert sum(r["status"] == "passed" for r in results) >= 55


@pytest.mark.parametrize("cls, binarize", [(MultinomialNB, None), (BernoulliNB, 0.0),
                                           (BernoulliNB, 0.5), (BernoulliNB, -0.5)])
@pytest.mark.parametrize("alpha", [1.0, 0.0])
def test_sparse_input_matches_dense(cls, binarize, alpha):
    """A bag-of-words matrix in CSR/CSC gives the counts and posteriors of its dense twin."""
    from scipy import sparse

    rng = np.random.RandomState(0)
    X = rng.poisson(0.3, size=(60, 25)).astype(float)  # mostly zeros
    X = X if cls is MultinomialNB else np.minimum(X, 1.0) * rng.rand(*X.shape)
    y = rng.randint(3, size=60)
    params = {"alpha": alpha} if cls is MultinomialNB else {"alpha": alpha, "binarize": binarize}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        dense_nb = cls(**params).fit(X, y)
        for fmt in (sparse.csr_matrix, sparse.csc_array):
            sparse_nb = cls(**params).fit(fmt(X), y)
            np.testing.assert_allclose(sparse_nb.feature_count_, dense_nb.feature_count_)
            np.testing.assert_allclose(sparse_nb.predict_joint_log_proba(fmt(X)),
                                       dense_nb.predict_joint_log_proba(X), atol=1e-9)
            np.testing.assert_array_equal(sparse_nb.predict(fmt(X)), dense_nb.predict(X))


def test_sparse_input_is_checked_on_its_values():
    from scipy import sparse

    from deepbelief.naive_bayes import GaussianNB

    X = sparse.csr_matrix(np.array([[1.0, 0.0], [0.0, -2.0]]))
    with pytest.raises(ValueError, match="Negative"):
        MultinomialNB().fit(X, [0, 1])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        BernoulliNB(binarize=None).fit(X, [0, 1])
    with pytest.raises(TypeError, match="sparse"):
        GaussianNB().fit(X, [0, 1])


def test_gaussian_nb_float32_data_gives_a_float32_fit_close_to_the_float64_one():
    """Attributes and outputs within rtol=1e-5, atol=1e-5 of the float64 fit (float32's
    resolution is 1.2e-7); the same predictions."""
    from deepbelief.naive_bayes import GaussianNB

    X, y, X_test = _gaussian_data(5)
    ref = GaussianNB().fit(X, y)
    model = GaussianNB().fit(X.astype(np.float32), y)
    for name in ("theta_", "var_", "class_count_", "class_prior_"):
        assert getattr(model, name).dtype == np.float32, name
        np.testing.assert_allclose(getattr(model, name), getattr(ref, name), rtol=1e-5,
                                   atol=1e-5, err_msg=name)
    for method in ("predict_proba", "predict_log_proba", "predict_joint_log_proba"):
        out = getattr(model, method)(X_test.astype(np.float32))
        assert out.dtype == np.float32, method
        np.testing.assert_allclose(out, getattr(ref, method)(X_test), rtol=1e-5, atol=1e-5)
        # float64 data is converted to the model's type
        np.testing.assert_array_equal(getattr(model, method)(X_test), out)
    np.testing.assert_array_equal(model.predict(X_test), ref.predict(X_test))


@pytest.mark.parametrize("data, dtype, expected", [
    (np.float32, None, np.float32), (np.float64, None, np.float64), (int, None, np.float64),
    (np.float64, "float32", np.float32), (np.float32, "float64", np.float64)])
def test_gaussian_nb_dtype_follows_the_data_unless_set(data, dtype, expected):
    from deepbelief.naive_bayes import GaussianNB

    X, y, _ = _gaussian_data(6)
    X = np.round(X * 10).astype(data)
    model = GaussianNB(dtype=dtype, priors=[0.2, 0.3, 0.5]).fit(X, y)
    assert model.theta_.dtype == model.var_.dtype == model.class_prior_.dtype == expected
    assert model.predict_proba(X).dtype == expected
    assert clone(model).get_params()["dtype"] == dtype
    with pytest.raises(ValueError, match="dtype"):
        GaussianNB(dtype="float16").fit(X, y)


def test_gaussian_nb_partial_fit_keeps_the_first_type():
    from deepbelief.naive_bayes import GaussianNB

    X, y, _ = _gaussian_data(7)
    whole = GaussianNB().fit(X, y)
    parts = GaussianNB().partial_fit(X[:45].astype(np.float32), y[:45], classes=[0, 1, 2])
    parts.partial_fit(X[45:], y[45:])
    assert parts.theta_.dtype == parts.var_.dtype == parts.class_prior_.dtype == np.float32
    np.testing.assert_allclose(parts.theta_, whole.theta_, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(parts.var_, whole.var_, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("labels", [np.array(["ham", "spam", "eggs"]), np.array([3, 1, 2]),
                                    np.array([-1, 0, 7], dtype=np.int8)])
def test_gaussian_nb_float32_model_file_round_trips(labels, tmp_path):
    import deepbelief
    from deepbelief.naive_bayes import GaussianNB

    X, y, X_test = _gaussian_data(8)
    model = GaussianNB(priors=np.array([0.2, 0.3, 0.5])).fit(X.astype(np.float32), labels[y])
    model.save(tmp_path / "gnb.safetensors")
    back = deepbelief.load(tmp_path / "gnb.safetensors")
    assert isinstance(back, GaussianNB)
    assert back.classes_.dtype == model.classes_.dtype
    np.testing.assert_array_equal(back.classes_, model.classes_)
    for name in ("theta_", "var_", "class_count_", "class_prior_"):
        assert getattr(back, name).dtype == np.float32, name
        np.testing.assert_array_equal(getattr(back, name), getattr(model, name))
    assert back.epsilon_ == model.epsilon_
    np.testing.assert_array_equal(back.predict_proba(X_test), model.predict_proba(X_test))
    np.testing.assert_array_equal(back.predict(X_test), model.predict(X_test))


@pytest.mark.parametrize("name, params", [
    ("MultinomialNB", {"alpha": -0.1}), ("MultinomialNB", {"alpha": float("inf")}),
    ("MultinomialNB", {"alpha": float("nan")}), ("MultinomialNB", {"alpha": True}),
    ("MultinomialNB", {"alpha": "1"}), ("MultinomialNB", {"fit_prior": "yes"}),
    ("MultinomialNB", {"force_alpha": 1}), ("MultinomialNB", {"class_prior": 0.5}),
    ("BernoulliNB", {"binarize": "yes"}), ("BernoulliNB", {"binarize": True}),
    ("BernoulliNB", {"binarize": float("nan")}), ("BernoulliNB", {"alpha": -1}),
    ("GaussianNB", {"var_smoothing": -1e-9}), ("GaussianNB", {"var_smoothing": True}),
    ("GaussianNB", {"var_smoothing": float("inf")}), ("GaussianNB", {"dtype": "float16"}),
    ("GaussianNB", {"priors": 0.5}),
])
def test_hyperparameters_are_checked_by_their_constraints(name, params):
    """scikit-learn's InvalidParameterError (a ValueError) naming the parameter, at fit
    and at every partial_fit."""
    from sklearn.utils._param_validation import InvalidParameterError

    import deepbelief.naive_bayes as nb

    X, y, _ = _count_data(9)
    (key, value), = params.items()
    for fit in (lambda m: m.fit(X, y), lambda m: m.partial_fit(X, y, classes=[0, 1, 2])):
        with pytest.raises(InvalidParameterError, match=f"'{key}' parameter of {name}"):
            fit(getattr(nb, name)(**params))
    model = getattr(nb, name)().partial_fit(X, y, classes=[0, 1, 2])
    model.set_params(**params)
    with pytest.raises(ValueError, match=key):
        model.partial_fit(X, y)


@pytest.mark.parametrize("name, params", [
    ("MultinomialNB", {"alpha": 0}), ("MultinomialNB", {"alpha": np.float32(0.5)}),
    ("MultinomialNB", {"alpha": [0.5] * 12}), ("MultinomialNB", {"alpha": np.array(0.5)}),
    ("MultinomialNB", {"fit_prior": np.bool_(False)}), ("BernoulliNB", {"binarize": None}),
    ("BernoulliNB", {"binarize": -1}), ("GaussianNB", {"var_smoothing": 0}),
    ("GaussianNB", {"dtype": "float32", "priors": (0.2, 0.3, 0.5)}),
])
def test_valid_hyperparameters_pass_their_constraints(name, params):
    import deepbelief.naive_bayes as nb

    X, y, _ = _count_data(10)
    X = np.minimum(X, 1) if params.get("binarize", 0) is None else X
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model = getattr(nb, name)(**params).fit(X, y)
    assert np.isin(model.predict(X), [0, 1, 2]).all()


@pytest.mark.parametrize("alpha", [[1.0, -1.0] + [1.0] * 10, [np.nan] * 12, [[1.0] * 12]])
def test_alpha_arrays_are_checked_on_their_values(alpha):
    X, y, _ = _count_data(11)
    with pytest.raises(ValueError, match="alpha"):
        MultinomialNB(alpha=alpha).fit(X, y)


# ---------------------------------------------------------------------------
# ComplementNB and CategoricalNB


def _assert_complement_same(ours, theirs, X_test):
    for name in ["class_count_", "feature_count_", "feature_all_", "class_log_prior_",
                 "feature_log_prob_"]:
        assert getattr(ours, name).shape == getattr(theirs, name).shape
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-12,
                                   atol=1e-12)
    np.testing.assert_allclose(ours.predict_joint_log_proba(X_test),
                               theirs.predict_joint_log_proba(X_test), rtol=1e-10)
    np.testing.assert_allclose(ours.predict_proba(X_test), theirs.predict_proba(X_test),
                               atol=1e-12)
    np.testing.assert_array_equal(ours.predict(X_test), theirs.predict(X_test))


@pytest.mark.parametrize("alpha", [0.01, 0.5, 1.0, 2.5, "array"])
@pytest.mark.parametrize("norm", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_complement_matches_sklearn(alpha, norm, weighted):
    X, y, X_test = _count_data(11)
    alpha = np.linspace(0.1, 2.0, X.shape[1]) if alpha == "array" else alpha
    w = np.random.default_rng(2).uniform(0, 3, len(y)) if weighted else None
    ours = ComplementNB(alpha=alpha, norm=norm).fit(X, y, sample_weight=w)
    theirs = sk.ComplementNB(alpha=alpha, norm=norm).fit(X, y, sample_weight=w)
    _assert_complement_same(ours, theirs, X_test)


@pytest.mark.parametrize("params", [{"fit_prior": False}, {"class_prior": [0.2, 0.3, 0.5]},
                                    {"alpha": 1e-12, "force_alpha": False}])
@pytest.mark.parametrize("single_class", [False, True])
def test_complement_options_and_single_class_match_sklearn(params, single_class):
    """With one class scikit-learn adds log P(c) to the scores; otherwise P(c) is unused."""
    X, y, X_test = _count_data(12)
    if single_class:
        if "class_prior" in params:
            params = {"class_prior": [1.0]}
        y = np.zeros_like(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ours = ComplementNB(**params).fit(X, y)
        theirs = sk.ComplementNB(**params).fit(X, y)
    _assert_complement_same(ours, theirs, X_test)


def test_complement_sparse_input_matches_dense():
    from scipy import sparse

    X, y, X_test = _count_data(13)
    dense_nb = ComplementNB(alpha=0.5).fit(X, y)
    sparse_nb = ComplementNB(alpha=0.5).fit(sparse.csr_matrix(X), y)
    np.testing.assert_allclose(sparse_nb.feature_log_prob_, dense_nb.feature_log_prob_)
    np.testing.assert_allclose(sparse_nb.predict_joint_log_proba(sparse.csc_array(X_test)),
                               dense_nb.predict_joint_log_proba(X_test), rtol=1e-12)


@pytest.mark.parametrize("norm", [False, True])
def test_complement_alpha_zero_has_no_nan(norm):
    """Feature 2 never occurs outside class 1: with alpha=0 it decides for class 1."""
    X = np.array([[1, 0, 0], [0, 1, 1], [1, 1, 0]])
    y = np.array([0, 1, 1])
    with pytest.warns(RuntimeWarning, match="-inf"):
        model = ComplementNB(alpha=0.0, norm=norm).fit(X, y)
    assert not np.isnan(model.feature_log_prob_).any()
    if norm:  # the alpha -> 0 limit: all weight on the features of complement count 0
        np.testing.assert_allclose(model.feature_log_prob_[1], [0.0, 0.5, 0.5])
        near = sk.ComplementNB(alpha=1e-12, norm=True).fit(X, y).feature_log_prob_
        np.testing.assert_allclose(model.feature_log_prob_, near, atol=1e-12)
    else:
        assert np.isposinf(model.feature_log_prob_[1, 1:]).all()
    queries = np.array([[1, 0, 1], [0, 0, 0], [5, 0, 0]])
    proba = model.predict_proba(queries)
    assert not np.isnan(proba).any()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(proba[1], [0.5, 0.5])  # no evidence: equal scores
    if not norm:  # +inf for class 1 only
        np.testing.assert_array_equal(proba[0], [0.0, 1.0])
        assert model.predict(queries[:1])[0] == 1


def test_complement_refuses_negative_counts():
    with pytest.raises(ValueError, match=r"Negative values in data passed to ComplementNB"):
        ComplementNB().fit([[1, -1], [0, 2]], [0, 1])
    with pytest.raises(ValueError, match="NaN"):
        ComplementNB().fit([[1, np.nan], [0, 2]], [0, 1])


def _category_data(seed: int, n: int = 90, k: int = 3):
    """Codes with 4, 2, 6 and 3 categories, their distribution depending on the class."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    sizes = [4, 2, 6, 3]
    X = np.column_stack([(rng.integers(0, m, n) + y) % m for m in sizes])
    X_test = np.column_stack([rng.integers(0, m, 30) for m in sizes])
    return X, y, X_test


def _assert_categorical_same(ours, theirs, X_test):
    assert ours.n_categories_.dtype == np.int64
    np.testing.assert_array_equal(ours.n_categories_, theirs.n_categories_)
    for name in ["class_count_", "class_log_prior_"]:
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), atol=1e-12)
    for name in ["category_count_", "feature_log_prob_"]:
        assert isinstance(getattr(ours, name), list)
        assert len(getattr(ours, name)) == len(getattr(theirs, name)) == ours.n_features_in_
        for a, b in zip(getattr(ours, name), getattr(theirs, name), strict=True):
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.predict_joint_log_proba(X_test),
                               theirs.predict_joint_log_proba(X_test), rtol=1e-10)
    np.testing.assert_allclose(ours.predict_proba(X_test), theirs.predict_proba(X_test),
                               atol=1e-12)
    np.testing.assert_array_equal(ours.predict(X_test), theirs.predict(X_test))


@pytest.mark.parametrize("alpha", [0.01, 0.5, 1.0, 2.5])
@pytest.mark.parametrize("min_categories", [None, 1, 7, [5, 1, 6, 9], np.array([2, 3, 2, 4])])
def test_categorical_matches_sklearn(alpha, min_categories):
    X, y, X_test = _category_data(int(alpha * 100))
    ours = CategoricalNB(alpha=alpha, min_categories=min_categories).fit(X, y)
    theirs = sk.CategoricalNB(alpha=alpha, min_categories=min_categories).fit(X, y)
    _assert_categorical_same(ours, theirs, X_test)


@pytest.mark.parametrize("params", [{"fit_prior": False}, {"class_prior": [0.2, 0.3, 0.5]},
                                    {"alpha": 1e-12, "force_alpha": False}, {}])
def test_categorical_options_and_weights_match_sklearn(params):
    X, y, X_test = _category_data(5)
    w = np.random.default_rng(0).uniform(0, 3, len(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ours = CategoricalNB(**params).fit(X, y, sample_weight=w)
        theirs = sk.CategoricalNB(**params).fit(X, y, sample_weight=w)
    _assert_categorical_same(ours, theirs, X_test)


def test_categorical_float_codes_are_truncated_as_in_sklearn():
    X, y, X_test = _category_data(6)
    X = X + np.random.default_rng(1).uniform(0, 0.99, X.shape)
    _assert_categorical_same(CategoricalNB().fit(X, y), sk.CategoricalNB().fit(X, y), X_test)


@pytest.mark.parametrize("make", [lambda: ComplementNB(alpha=0.3),
                                  lambda: ComplementNB(alpha=0.7, norm=True),
                                  lambda: CategoricalNB(alpha=0.4),
                                  lambda: CategoricalNB(alpha=1.0, min_categories=[5, 1, 7, 1])])
def test_new_models_partial_fit_over_chunks_equals_fit(make):
    """Chunks (the first lacking class 2 and the largest codes) add up to one fit."""
    X, y, X_test = _category_data(7)
    order = np.argsort(X.sum(axis=1), kind="stable")  # small codes first
    X, y = X[order], y[order]
    y[:30] = np.where(y[:30] == 2, 0, y[:30])
    w = np.random.default_rng(3).uniform(0.5, 2, len(y))
    full = make().fit(X, y, sample_weight=w)
    chunked = make()
    for start in range(0, len(y), 30):
        rows = slice(start, start + 30)
        chunked.partial_fit(X[rows], y[rows], classes=[0, 1, 2], sample_weight=w[rows])
    lists = ["category_count_", "feature_log_prob_"] if isinstance(full, CategoricalNB) else []
    for name in ["class_count_", "class_log_prior_", "feature_count_", "feature_all_",
                 "feature_log_prob_", "n_categories_"]:
        if hasattr(full, name) and name not in lists:
            np.testing.assert_allclose(getattr(chunked, name), getattr(full, name), atol=1e-12)
    for name in lists:
        for a, b in zip(getattr(chunked, name), getattr(full, name), strict=True):
            np.testing.assert_allclose(a, b, atol=1e-12)
    np.testing.assert_allclose(chunked.predict_log_proba(X_test), full.predict_log_proba(X_test),
                               atol=1e-12)


def test_categorical_partial_fit_keeps_every_category():
    """n_categories_ only grows (scikit-learn's follows the last chunk, its counts do not)."""
    model = CategoricalNB().partial_fit([[0, 3]], [0], classes=[0, 1])
    model.partial_fit([[1, 0]], [1])
    np.testing.assert_array_equal(model.n_categories_, [2, 4])
    assert [c.shape for c in model.category_count_] == [(2, 2), (2, 4)]
    theirs = sk.CategoricalNB().partial_fit([[0, 3]], [0], classes=[0, 1]).partial_fit([[1, 0]],
                                                                                         [1])
    for a, b in zip(model.category_count_, theirs.category_count_, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(model.predict_proba([[1, 3]]), theirs.predict_proba([[1, 3]]))


def test_categorical_unsmoothed_zero_probabilities():
    with pytest.warns(RuntimeWarning, match="-inf"):
        model = CategoricalNB(alpha=0.0).fit([[0, 1], [1, 1]], [0, 1])
    np.testing.assert_array_equal(model.feature_log_prob_[0], [[0.0, -np.inf], [-np.inf, 0.0]])
    np.testing.assert_array_equal(model.predict_proba([[0, 1], [1, 1]]), [[1.0, 0.0],
                                                                          [0.0, 1.0]])
    # unseen category 0 of feature 1: 0 under both classes, uniform posterior
    assert np.isneginf(model.predict_joint_log_proba([[0, 0]])).all()
    np.testing.assert_array_equal(model.predict_proba([[0, 0]]), [[0.5, 0.5]])


@pytest.mark.parametrize("X, match", [
    ([[0, -1], [1, 2]], "Negative values in data passed to CategoricalNB"),
    ([[0, np.nan], [1, 2]], "NaN"),
    ([[0, np.inf], [1, 2]], "NaN or infinity"),
    ([[0, 1e19], [1, 2]], "too large"),
    ([["a", "b"], ["c", "d"]], "X"),
])
def test_categorical_bad_training_input(X, match):
    with pytest.raises(ValueError, match=match):
        CategoricalNB().fit(X, [0, 1])


def test_categorical_bad_input_after_fit_and_bad_hyperparameters():
    from scipy import sparse

    X, y, _ = _category_data(8)
    model = CategoricalNB().fit(X, y)
    with pytest.raises(IndexError, match=r"category 6 of feature 0 is out of bounds"):
        model.predict([[6, 0, 0, 0]])
    with pytest.raises(IndexError):  # so is scikit-learn's
        sk.CategoricalNB().fit(X, y).predict([[6, 0, 0, 0]])
    with pytest.raises(ValueError, match="Negative values"):
        model.predict([[0, -1, 0, 0]])
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :-1])
    with pytest.raises(TypeError, match="sparse"):
        CategoricalNB().fit(sparse.csr_matrix(X), y)
    with pytest.raises(ValueError, match="alpha"):
        CategoricalNB(alpha=np.ones(4)).fit(X, y)
    with pytest.raises(ValueError, match="min_categories"):
        CategoricalNB(min_categories=0).fit(X, y)
    with pytest.raises(ValueError, match="integral type"):
        CategoricalNB(min_categories=[1.5, 2, 2, 2]).fit(X, y)
    with pytest.raises(ValueError, match=r"should have shape \(4,\)"):
        CategoricalNB(min_categories=[3, 3]).fit(X, y)


def test_new_models_sklearn_conventions():
    assert clone(CategoricalNB(min_categories=[2, 3])).get_params() == {
        "alpha": 1.0, "force_alpha": True, "fit_prior": True, "class_prior": None,
        "min_categories": [2, 3]}
    assert ComplementNB(0.5).get_params() == {"alpha": 0.5, "force_alpha": True,
                                              "fit_prior": True, "class_prior": None,
                                              "norm": False}
    assert CategoricalNB().__sklearn_tags__().input_tags.categorical
    assert not CategoricalNB().__sklearn_tags__().input_tags.sparse
    assert deepbelief.CategoricalNB is CategoricalNB and deepbelief.ComplementNB is ComplementNB


@pytest.mark.parametrize("make, data", [
    (lambda: ComplementNB(alpha=0.5), "counts"),
    (lambda: ComplementNB(alpha=np.linspace(0.1, 1, 12), norm=True), "counts"),
    (lambda: CategoricalNB(alpha=0.5), "codes"),
    (lambda: CategoricalNB(min_categories=[6, 3, 6, 5], class_prior=[0.2, 0.3, 0.5]), "codes"),
])
def test_new_models_save_load_round_trip(make, data, tmp_path):
    X, y, X_test = _count_data(9) if data == "counts" else _category_data(9)
    labels = np.array(["ham", "spam", "eggs"])
    model = make().partial_fit(X[y != 2], labels[y[y != 2]], classes=labels)
    model.save(tmp_path / "nb.safetensors")
    loaded = deepbelief.load(tmp_path / "nb.safetensors")
    assert type(loaded) is type(model) and loaded.n_features_in_ == model.n_features_in_
    np.testing.assert_array_equal(loaded.classes_, model.classes_)
    for method in ("predict", "predict_proba", "predict_joint_log_proba"):
        np.testing.assert_array_equal(getattr(loaded, method)(X_test),
                                      getattr(model, method)(X_test))
    for m in (model, loaded):  # carries on as the model that was not saved
        m.partial_fit(X[y == 2], labels[y[y == 2]])
    np.testing.assert_array_equal(loaded.predict_proba(X_test), model.predict_proba(X_test))
    if isinstance(model, CategoricalNB):
        np.testing.assert_array_equal(loaded.n_categories_, model.n_categories_)
        for a, b in zip(loaded.category_count_, model.category_count_, strict=True):
            np.testing.assert_array_equal(a, b)


def test_complement_infinite_weights_round_trip(tmp_path):
    X = np.array([[1, 0, 0], [0, 1, 1], [1, 1, 0]])
    with pytest.warns(RuntimeWarning):
        model = ComplementNB(alpha=0.0).fit(X, [0, 1, 1])
    model.save(tmp_path / "nb.safetensors")
    loaded = deepbelief.load(tmp_path / "nb.safetensors")
    np.testing.assert_array_equal(loaded.feature_log_prob_, model.feature_log_prob_)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def _categorical_file(tmp_path):
    X, y, _ = _category_data(10)
    CategoricalNB().fit(X, y).save(tmp_path / "nb.safetensors")
    return tmp_path / "nb.safetensors"


@pytest.mark.parametrize("what", ["missing", "wrong shape", "negative", "nan log",
                                  "n_categories", "n_categories bool", "no n_categories"])
def test_categorical_bad_files_are_refused(what, tmp_path):
    import json

    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    path = _categorical_file(tmp_path)
    with safe_open(str(path), framework="pt") as fh:
        meta = dict(fh.metadata())
    tensors = load_file(path)
    extra = json.loads(meta["extra"])
    if what == "missing":
        del tensors["category_count.2"]
    elif what == "wrong shape":
        tensors["feature_log_prob.1"] = torch.zeros(3, 5, dtype=torch.float64)
    elif what == "negative":
        tensors["category_count.0"] = -tensors["category_count.0"] - 1
    elif what == "nan log":
        tensors["feature_log_prob.3"] = torch.full_like(tensors["feature_log_prob.3"], np.nan)
    elif what == "n_categories":
        extra["n_categories"] = [4, 2, 6, 0]
    elif what == "n_categories bool":
        extra["n_categories"] = [4, True, 6, 3]
    else:
        del extra["n_categories"]
    meta["extra"] = json.dumps(extra)
    save_file(tensors, str(path), metadata=meta)
    with pytest.raises(ValueError):
        deepbelief.load(path)
