"""The deep belief net regressor: pre-training, fine-tuning on real targets, outputs, files."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import make_friedman1
from sklearn.linear_model import Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils.estimator_checks import check_estimator

import deepbelief
from deepbelief import DBNRegressor

pytestmark = pytest.mark.usefixtures("one_thread")

SMALL = dict(hidden_layer_sizes=(32, 32), pretrain_epochs=5, finetune_epochs=120,
             n_iter_no_change=30, batch_size=50, rbm_params={"batch_size": 50})


@pytest.fixture(scope="module")
def friedman():
    X, y = make_friedman1(900, noise=0.5, random_state=0)
    return train_test_split(X, y, test_size=0.3, random_state=0)


@pytest.fixture(scope="module")
def fitted(friedman):
    """The defaults (about 20 s on one thread)."""
    X, _, y, _ = friedman
    return DBNRegressor(random_state=0).fit(X, y)


def test_defaults_beat_ridge_on_friedman1(fitted, friedman):
    X, X_test, y, y_test = friedman
    ridge = Ridge().fit(X, y).score(X_test, y_test)
    r2 = fitted.score(X_test, y_test)
    print(f"DBNRegressor() R² {r2:.3f}, Ridge {ridge:.3f}")
    assert r2 > 0.95 > ridge + 0.1
    assert fitted.n_outputs_ == 1 and fitted.predict(X_test).shape == (len(X_test),)
    history = fitted.history_
    assert {"train_loss", "validation_loss", "validation_r2"} <= history.keys()
    assert max(history["validation_r2"]) > 0.95


def test_targets_are_standardised_inside(friedman):
    """The net fits z = (y - mean) / std: scaled and shifted targets give the same net."""
    X, X_test, y, _ = friedman
    params = dict(SMALL, finetune_epochs=5, random_state=0)
    plain = DBNRegressor(**params).fit(X, y)
    scaled = DBNRegressor(**params).fit(X, 1000.0 * y - 7.0)
    np.testing.assert_allclose(scaled.predict(X_test), 1000.0 * plain.predict(X_test) - 7.0,
                               rtol=1e-6)
    np.testing.assert_allclose(scaled.target_transform_.scale.numpy(),
                               1000.0 * y.std(keepdims=True), rtol=1e-9)


def test_several_outputs(friedman):
    X, X_test, y, _ = friedman
    Y = np.column_stack([y, -2.0 * y + X[:, 0]])
    model = DBNRegressor(**dict(SMALL, finetune_epochs=10), random_state=0).fit(X, Y)
    assert model.n_outputs_ == 2
    assert model.predict(X_test).shape == (len(X_test), 2)
    column = DBNRegressor(**dict(SMALL, finetune_epochs=2), random_state=0).fit(X, y[:, None])
    assert column.predict(X_test).shape == (len(X_test), 1)


def test_to_torch_gives_predict(fitted, friedman):
    _, X_test, _, _ = friedman
    net = fitted.to_torch()
    with torch.no_grad():
        out = net(torch.as_tensor(X_test)).numpy().ravel()
    np.testing.assert_allclose(out, fitted.predict(X_test), rtol=1e-9, atol=1e-9)


def test_gaussian_inputs_take_any_scale(friedman):
    X, X_test, y, _ = friedman
    params = dict(SMALL, finetune_epochs=5, visible_units="gaussian", random_state=0)
    plain = DBNRegressor(**params).fit(X, y)
    shifted = DBNRegressor(**params).fit(50.0 * X - 3.0, y)
    np.testing.assert_allclose(shifted.predict(50.0 * X_test - 3.0), plain.predict(X_test),
                               rtol=1e-6, atol=1e-9)


def test_binary_inputs_checked_at_fit_not_after(fitted, friedman):
    X, X_test, y, _ = friedman
    with pytest.raises(ValueError, match=r"Bernoulli units need values in \[0, 1\]"):
        DBNRegressor(**SMALL).fit(X * 2.0, y)
    assert np.isfinite(fitted.predict(X_test * 1.1)).all()


def test_min_max_scaled_pipeline(friedman):
    """A scaler's rounding may put a training value a hair above 1: accepted."""
    X, X_test, y, y_test = friedman
    pipe = make_pipeline(MinMaxScaler(), DBNRegressor(**dict(SMALL, finetune_epochs=3),
                                                      random_state=0))
    X = X.copy()
    X[0, 0] = 1.0 + 2e-16  # as MinMaxScaler maps some maxima
    pipe.fit(np.vstack([X, X[:1] + 1e-13]), np.append(y, y[0]))
    assert np.isfinite(pipe.score(X_test, y_test))


@pytest.mark.parametrize("bad, message", [
    (lambda y: np.append(y, 1.0), "targets but X has"),
    (lambda y: np.where(np.arange(len(y)) == 3, np.nan, y), "NaN"),
    (lambda y: np.array(["a"] * len(y)), "numeric|could not convert|dtype"),
    (lambda y: y[:, None, None].repeat(2, 2), "dim 3"),
])
def test_bad_targets_are_refused(friedman, bad, message):
    X, _, y, _ = friedman
    with pytest.raises(ValueError, match=message):
        DBNRegressor(**SMALL).fit(X, bad(y))
    with pytest.raises(ValueError, match="requires y"):
        DBNRegressor(**SMALL).fit(X, None)


def test_file_round_trip(fitted, friedman, tmp_path):
    _, X_test, _, _ = friedman
    path = tmp_path / "regressor.safetensors"
    fitted.save(path)
    back = deepbelief.load(path)
    assert isinstance(back, DBNRegressor) and back.n_outputs_ == 1
    np.testing.assert_array_equal(back.predict(X_test), fitted.predict(X_test))
    assert back.history_["validation_r2"] == fitted.history_["validation_r2"]


def test_file_with_a_bad_target_scale_is_refused(fitted, tmp_path):
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    path, bad = tmp_path / "ok.safetensors", tmp_path / "bad.safetensors"
    fitted.save(path)
    tensors = load_file(path)
    with safe_open(str(path), "pt") as f:
        metadata = f.metadata()
    tensors["target_scale"] = -tensors["target_scale"]
    save_file(tensors, bad, metadata=metadata)
    with pytest.raises(ValueError, match="target_scale"):
        deepbelief.load(bad)


def test_stream_of_minibatches(friedman):
    X, X_test, y, _ = friedman
    from torch.utils.data import DataLoader, TensorDataset

    batches = DataLoader(TensorDataset(torch.as_tensor(X), torch.as_tensor(y)), batch_size=100)
    model = DBNRegressor(**dict(SMALL, finetune_epochs=3), random_state=0).fit(batches)
    np.testing.assert_allclose(model.target_transform_.shift.numpy(), [y[:100].mean()])
    assert model.predict(X_test).shape == (len(X_test),)


def test_interrupted_fit_resumes_bit_identically(friedman, tmp_path):
    X, X_test, y, _ = friedman
    params = dict(SMALL, finetune_epochs=8, n_iter_no_change=100, random_state=0)
    full = DBNRegressor(**params).fit(X, y)

    def crash(model):
        if len(model.history_["train_loss"]) == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        DBNRegressor(**params, checkpoint_dir=str(tmp_path)).fit(X, y, callback=crash)
    resumed = DBNRegressor(**params, checkpoint_dir=str(tmp_path)).fit(X, y, resume=True)
    np.testing.assert_array_equal(resumed.predict(X_test), full.predict(X_test))


def test_auto_budget_is_ten_times_the_classifiers_updates():
    """60k rows, 54k after the split, 540 minibatches an epoch: ⌈60,000 · √0.9 / 540⌉ = 106
    epochs; the classifier's 6,000 updates take 12 epochs, raised to its 50."""
    reg, clf = DBNRegressor(), deepbelief.DBNClassifier()
    assert reg._finetune_epochs(60000) == 106
    assert clf._finetune_epochs(60000) == 50
    # 630 rows, 567 after the split, 6 minibatches an epoch
    assert reg._finetune_epochs(630) == math.ceil(math.ceil(60000 * math.sqrt(567 / 60000)) / 6)


@pytest.mark.slow
def test_check_estimator():
    params = dict(hidden_layer_sizes=(8,), pretrain_epochs=2, finetune_epochs=60,
                  visible_units="gaussian", batch_size=10, learning_rate=0.01,
                  validation_fraction=0.0, rbm_params={"batch_size": 10}, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(DBNRegressor(**params), on_fail=None)
    failed = [(r["check_name"], str(r["exception"])) for r in results
              if r["status"] == "failed"]
    assert failed == []
    assert sum(r["status"] == "passed" for r in results) >= 30


def test_a_checkpoint_of_earlier_releases_resumes(tmp_path):
    """Fine-tuning checkpoints written before the regressor kept the best validation
    score under "accuracy": a classifier resumes from one as from today's."""
    from deepbelief.checkpoint import load_latest, save_checkpoint
    from deepbelief.datasets import load_digits

    X, y = load_digits()
    X, y = X[:300], y[:300]
    params = dict(hidden_layer_sizes=(16,), pretrain_epochs=1, finetune_epochs=6,
                  n_iter_no_change=100, random_state=0)
    full = deepbelief.DBNClassifier(**params).fit(X, y)

    def crash(model):
        if len(model.history_["train_loss"]) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        deepbelief.DBNClassifier(**params, checkpoint_dir=str(tmp_path)).fit(X, y,
                                                                             callback=crash)
    directory = tmp_path / "finetune"
    state = load_latest(directory)
    state["early"]["accuracy"] = state["early"].pop("score")
    save_checkpoint(directory, 3, state)
    resumed = deepbelief.DBNClassifier(**params, checkpoint_dir=str(tmp_path)).fit(
        X, y, resume=True)
    np.testing.assert_array_equal(resumed.predict_proba(X), full.predict_proba(X))
