"""The DBM classifier: a DBM trained generatively, then the net it initialises fine-tuned."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from conftest import squashed
from sklearn.model_selection import train_test_split
from sklearn.utils.estimator_checks import check_estimator

import deepbelief
from deepbelief import DBM, DBMClassifier
from deepbelief.datasets import load_digits
from deepbelief.dbm.classifier import MeanFieldInput

SMALL = dict(pretrain_epochs=1, dbm_epochs=1, dbm_params={"batch_size": 50},
             random_state=0)


#: Small models: one thread is fastest, and immune to a busy machine.
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def split():
    """The digits /16, stratified 2/3 - 1/3, random_state=0."""
    X, y = load_digits()
    return train_test_split(X, y, test_size=1 / 3, stratify=y, random_state=0)


@pytest.fixture(scope="module")
def fitted(split):
    X, _, y, _ = split
    return DBMClassifier((64, 64), pretrain_epochs=5, dbm_epochs=5, finetune_epochs=30,
                         random_state=0).fit(X, y)


def _linears(net):
    return [m for m in net if isinstance(m, torch.nn.Linear)]


def test_digits_accuracy(fitted, split):
    _, X_test, _, y_test = split
    accuracy = fitted.score(X_test, y_test)
    assert accuracy >= 0.9, accuracy  # chance is 0.1
    assert isinstance(fitted.dbm_, DBM) and fitted.dbm_.n_epochs_ == 5
    assert len(fitted.pretrain_history_) == 2
    assert {"validation_loss", "validation_accuracy"} <= fitted.history_.keys()
    assert fitted.transform(X_test).shape == (len(X_test), 64)


def test_predict_proba_rows_sum_to_one(fitted, split):
    _, X_test, _, _ = split
    proba = fitted.predict_proba(X_test)
    assert proba.shape == (len(X_test), 10) and proba.min() >= 0
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(fitted.classes_[proba.argmax(1)], fitted.predict(X_test))


@pytest.mark.parametrize("sizes", [(16,), (16, 8), (16, 8, 4)])
def test_net_is_initialised_from_the_dbm(split, sizes):
    """h¹ = σ(W₁v + W₂ᵀq² + b₁), h^l = σ(W_l h^{l-1} + b_l), on the input [v, q²]."""
    X, _, y, _ = split
    clf = DBMClassifier(sizes, finetune_epochs=0, **SMALL).fit(X[:200], y[:200])
    W, b = clf.dbm_.weights_, clf.dbm_.biases_
    first = W[0] if len(sizes) == 1 else np.hstack([W[0], W[1].T])
    expected = [first, *W[1:]]
    linears = _linears(clf.net_)
    assert len(linears) == len(sizes) + 1 and linears[-1].weight.shape == (10, sizes[-1])
    for linear, weight, bias in zip(linears, expected, b[1:], strict=False):
        np.testing.assert_array_equal(linear.weight.detach().numpy(), weight)
        np.testing.assert_array_equal(linear.bias.detach().numpy(), bias)
    v = torch.as_tensor(X[:5])
    inputs = clf._input(X[:5])
    q = clf.dbm_.transform(X[:5])  # every hidden layer's posterior, bottom first
    extra = q[:, sizes[0]:sizes[0] + sizes[1]] if len(sizes) > 1 else np.zeros((5, 0))
    np.testing.assert_allclose(inputs.numpy(), np.hstack([v.numpy(), extra]), rtol=1e-6)


def test_fine_tuning_moves_the_net_but_not_the_dbm(fitted):
    first = _linears(fitted.net_)[0].weight.detach().numpy()
    W = fitted.dbm_.weights_
    assert first.shape == (64, 64 + 64)
    assert not np.allclose(first, np.hstack([W[0], W[1].T]))
    torch.testing.assert_close(fitted.dbm_.layout_.weight(fitted.dbm_.model_.W, 1),
                               torch.as_tensor(W[0]))


def test_string_labels(split):
    X, X_test, y, _ = split
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                      "nine"])
    clf = DBMClassifier((16, 16), finetune_epochs=3, **SMALL).fit(X[:300], names[y[:300]])
    np.testing.assert_array_equal(clf.classes_, np.unique(names))
    assert set(clf.predict(X_test)) <= set(names)
    assert clf.score(X_test[:50], names[split[3][:50]]) >= 0


def test_save_load_round_trip(fitted, split, tmp_path):
    _, X_test, _, _ = split
    path = tmp_path / "dbmc.safetensors"
    fitted.save(path)
    loaded = deepbelief.load(path)
    assert type(loaded) is DBMClassifier
    np.testing.assert_array_equal(loaded.classes_, fitted.classes_)
    np.testing.assert_array_equal(loaded.predict(X_test), fitted.predict(X_test))
    np.testing.assert_array_equal(loaded.predict_proba(X_test), fitted.predict_proba(X_test))
    for a, c in zip(loaded.dbm_.weights_, fitted.dbm_.weights_, strict=True):
        np.testing.assert_array_equal(a, c)
    assert loaded.dbm_.history_ == fitted.dbm_.history_
    assert loaded.history_ == fitted.history_ and loaded.n_epochs_ == fitted.n_epochs_


def test_to_torch_takes_raw_inputs(fitted, split):
    _, X_test, _, _ = split
    net = fitted.to_torch()
    assert isinstance(net, torch.nn.Sequential) and not net.training
    assert isinstance(net[0], MeanFieldInput)
    with torch.no_grad():
        logits = net(torch.as_tensor(X_test))
    np.testing.assert_array_equal(fitted.classes_[logits.argmax(1).numpy()],
                                  fitted.predict(X_test))
    assert net[0].W.data_ptr() != fitted.dbm_.model_.W.data_ptr()  # a copy


def test_bad_input_is_refused(fitted, split):
    X, X_test, y, _ = split
    clf = DBMClassifier((8, 8), finetune_epochs=1, **SMALL)
    bad = X[:50].copy()
    bad[3, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.fit(bad, y[:50])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        clf.fit(X[:50] * 16, y[:50])
    with pytest.raises(ValueError, match="NaN"):
        fitted.predict(bad)
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X_test[:, :10])
    assert fitted.predict(X_test[:5] * 1.1).shape == (5,)  # outputs take any finite inputs
    with pytest.raises(TypeError, match="sparse"):
        clf.fit(sp.csr_matrix(X[:50]), y[:50])
    with pytest.raises(TypeError, match="arrays"):
        clf.fit(iter([(X[:50], y[:50])]), None)
    with pytest.raises(ValueError, match="may not set"):
        DBMClassifier(dbm_params={"n_iter": 3}).fit(X[:50], y[:50])
    with pytest.raises(ValueError, match="not DBM parameters"):
        DBMClassifier(dbm_params={"n_component": 3}).fit(X[:50], y[:50])
    with pytest.raises(ValueError, match="dropout"):
        DBMClassifier(dropout=1.5).fit(X[:50], y[:50])


def test_dtype_follows_the_data_or_the_parameter(split):
    X, _, y, _ = split
    X64 = X[:100].astype(np.float64)
    clf = DBMClassifier((8, 8), finetune_epochs=1, **SMALL).fit(X64, y[:100])
    assert _linears(clf.net_)[0].weight.dtype == torch.float64
    assert clf.dbm_.model_.W.dtype == torch.float64
    assert clf.predict_proba(X[:3]).dtype == np.float64
    clf = DBMClassifier((8, 8), finetune_epochs=1, dtype="float32", **SMALL).fit(X64, y[:100])
    assert clf.dbm_.model_.W.dtype == torch.float32
    assert clf.predict_proba(X64[:3]).dtype == np.float32


def test_auto_finetune_epochs_are_the_dbn_classifiers():
    for n in (1200, 60000):
        assert (DBMClassifier()._plan_epochs((8, 8), n)
                == deepbelief.DBNClassifier()._plan_epochs((8, 8), n)._replace(layers=[]))


def test_resume_matches_an_uninterrupted_fit(split, tmp_path):
    X, X_test, y, _ = split
    params = dict(hidden_layer_sizes=(16, 16), finetune_epochs=6, n_iter_no_change=20,
                  checkpoint_every=2, **SMALL)
    full = DBMClassifier(**params).fit(X[:300], y[:300])

    def crash(model):
        if len(model.history_["train_loss"]) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        DBMClassifier(**params, checkpoint_dir=str(tmp_path)).fit(X[:300], y[:300],
                                                                  callback=crash)
    assert (tmp_path / "dbm").is_dir() and (tmp_path / "finetune").is_dir()
    resumed = DBMClassifier(**params, checkpoint_dir=str(tmp_path)).fit(X[:300], y[:300],
                                                                        resume=True)
    np.testing.assert_array_equal(resumed.predict_proba(X_test), full.predict_proba(X_test))


SquashedDBMClassifier = squashed(DBMClassifier, __name__)
#: check_classifiers_train wants > 0.83 on 2-D blobs: a net of sigmoid layers from a DBM
#: that barely moved (2 features, few updates) stays near chance with dropout and Adam
#: at 1e-2, so the DBM learns fast and the fine-tuning has no dropout.
TINY = dict(hidden_layer_sizes=(8, 8), pretrain_epochs=10, dbm_epochs=2, finetune_epochs=50,
            batch_size=10, learning_rate=0.05, dropout=0.0, input_dropout=0.0,
            validation_fraction=0.0,
            dbm_params={"batch_size": 10, "learning_rate": 0.05,
                        "rbm_params": {"batch_size": 10, "learning_rate": 0.5}})


@pytest.mark.slow
@pytest.mark.parametrize("cls", [DBMClassifier, SquashedDBMClassifier])
def test_check_estimator(cls):
    """Every check passes on data in [0, 1]; on other data only the refusal fails."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(cls(random_state=0, **TINY), on_fail=None)
    failed = [(r["check_name"], str(r["exception"])) for r in results
              if r["status"] == "failed"]
    if cls is SquashedDBMClassifier:
        assert failed == []
    else:
        assert all("Bernoulli units need values in [0, 1]" in f[1] for f in failed), failed
    assert sum(r["status"] == "passed" for r in results) >= 30


def test_a_frozen_fitted_dbm_is_fine_tuned_as_it_is(split, tmp_path):
    from sklearn.frozen import FrozenEstimator

    X, X_test, y, _ = split
    dbm = DBM((16, 8), pretrain_epochs=1, n_iter=1, batch_size=50, random_state=0).fit(X)
    weights = [w.copy() for w in dbm.weights_]
    clf = DBMClassifier((16, 8), dbm=FrozenEstimator(dbm), finetune_epochs=0,
                        random_state=0).fit(X, y)
    for before, after in zip(weights, dbm.weights_, strict=True):  # not trained again
        np.testing.assert_array_equal(before, after)
    first = _linears(clf.net_)[0].weight.detach().numpy()
    np.testing.assert_array_equal(first, np.hstack([weights[0], weights[1].T]))
    path = tmp_path / "clf.safetensors"
    clf.save(path)
    back = deepbelief.load(path)
    assert back.dbm is None
    np.testing.assert_array_equal(back.predict_proba(X_test), clf.predict_proba(X_test))
    with pytest.raises(ValueError, match="dbm has layers"):
        DBMClassifier((16, 9), dbm=FrozenEstimator(dbm), finetune_epochs=0).fit(X, y)
