"""TensorBoardLogger: what it writes (read back from the event files), where, and that
fits are the same with it; GaussianMixture's callback."""

from __future__ import annotations

import importlib
import inspect
import pickle
import sys

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

import deepbelief
from deepbelief import (
    DBM,
    DBN,
    BernoulliRBM,
    ClassRBM,
    DBMClassifier,
    DBNClassifier,
    GaussianMixture,
    TabularRBM,
    partition,
)

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import (  # noqa: E402
    EventAccumulator,
)

from deepbelief.monitor import TensorBoardLogger  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")

RBM = dict(n_iter=3, batch_size=20, random_state=0)
SMALL = dict(pretrain_epochs=1, batch_size=20, random_state=0)


def _events(directory) -> EventAccumulator:
    """Every scalar and image of the event files in ``directory`` (not below)."""
    return EventAccumulator(str(directory), size_guidance={"scalars": 0, "images": 0}).Reload()


def _scalars(events: EventAccumulator, tag: str) -> tuple[list[int], list[float]]:
    points = events.Scalars(tag)
    return [p.step for p in points], [p.value for p in points]


def _assert_logged(events: EventAccumulator, prefix: str, history: dict) -> None:
    """Every list of ``history`` is ``prefix/<key>``, entry i at step i + 1 (as float32)."""
    assert history
    for key, values in history.items():
        steps, logged = _scalars(events, f"{prefix}/{key}")
        assert steps == list(range(1, len(values) + 1)), key
        np.testing.assert_array_equal(logged, np.float32(values), err_msg=key)


def _image_steps(events: EventAccumulator, tag: str) -> list[int]:
    return [image.step for image in events.Images(tag)]


@pytest.fixture(scope="module")
def data(digits):
    X, y = digits
    return X[:500], y[:500]


# ---------------------------------------------------------------- what is written
def test_rbm_history_and_images(tmp_path, data):
    X, _ = data
    with TensorBoardLogger(tmp_path, images_every=1, n_samples=4, sample_steps=5) as log:
        rbm = BernoulliRBM(16, **RBM).fit(X, validation_data=X[-50:], callback=log)
    assert set(rbm.history_) >= {"reconstruction_error", "pseudo_log_likelihood",
                                 "free_energy_gap", "seconds"}
    events = _events(tmp_path)
    _assert_logged(events, "rbm", rbm.history_)
    assert _image_steps(events, "images/filters") == [1, 2, 3]
    assert _image_steps(events, "images/samples") == [1, 2, 3]
    filters = events.Images("images/filters")[-1]
    assert filters.width > 8 and filters.height > 8  # 16 tiles of 8 x 8 in a grid
    assert log.log_dirs_ == [tmp_path]


def test_images_every_and_ais(tmp_path, data):
    X, _ = data
    ais = dict(n_runs=8, betas=np.linspace(0, 1, 30))
    log = TensorBoardLogger(tmp_path, images_every=2, n_samples=0, ais_every=3,
                            ais_data=X[:100], ais_params=ais)
    rbm = BernoulliRBM(16, **RBM).fit(X, callback=log)
    log.close()
    events = _events(tmp_path)
    assert _image_steps(events, "images/filters") == [2]
    assert "images/samples" not in events.Tags()["images"]
    steps, values = _scalars(events, "rbm/ais_log_likelihood")
    assert steps == [3]
    expected = partition.log_likelihood(rbm, X[:100], seed=0, **ais)
    assert values[0] == pytest.approx(expected, rel=1e-6)


def test_deep_nets_log_fine_tuning_and_pretraining(tmp_path, data):
    X, y = data
    log = TensorBoardLogger(tmp_path / "dbn", images_every=2)
    net = DBNClassifier((16,), finetune_epochs=2, **SMALL).fit(X, y, callback=log)
    log.close()
    events = _events(tmp_path / "dbn")
    assert {"validation_loss", "validation_accuracy"} <= set(net.history_)
    _assert_logged(events, "finetune", net.history_)  # this epoch's validation included
    _assert_logged(events, "pretrain/layer_1", net.pretrain_history_[0])
    assert _image_steps(events, "images/filters") == [2]
    assert "images/samples" not in events.Tags()["images"]

    with TensorBoardLogger(tmp_path / "dbm", images_every=1, n_samples=2,
                           sample_steps=2) as log:
        dbm = DBM((16, 8), n_iter=2, **SMALL).fit(X, callback=log)
    events = _events(tmp_path / "dbm")
    _assert_logged(events, "dbm", dbm.history_)
    for layer, rbm in enumerate(dbm.rbms_, start=1):
        _assert_logged(events, f"pretrain/layer_{layer}", rbm.history_)
    assert _image_steps(events, "images/samples") == [1, 2]


def test_dbm_classifier_and_classrbm(tmp_path, data):
    X, y = data
    with TensorBoardLogger(tmp_path / "a", images_every=1) as log:
        net = DBMClassifier((16, 8), dbm_epochs=1, finetune_epochs=1, **SMALL).fit(
            X, y, callback=log)
    events = _events(tmp_path / "a")
    _assert_logged(events, "finetune", net.history_)
    _assert_logged(events, "dbm", net.dbm_.history_)
    assert _image_steps(events, "images/filters") == [1]  # the 64 input columns of 80
    with TensorBoardLogger(tmp_path / "b", images_every=2, n_samples=2) as log:
        crbm = ClassRBM(16, n_iter=2, random_state=0).fit(X, y, callback=log)
    events = _events(tmp_path / "b")
    _assert_logged(events, "rbm", crbm.history_)
    assert _image_steps(events, "images/samples") == [2]


def test_gaussian_mixture_lower_bounds(tmp_path, data):
    X, _ = data
    with TensorBoardLogger(tmp_path / "one") as log:
        gm = GaussianMixture(3, covariance_type="diag", random_state=0).fit(X, callback=log)
    steps, values = _scalars(_events(tmp_path / "one"), "gmm/lower_bound")
    assert steps == list(range(1, gm.n_iter_ + 1))
    np.testing.assert_array_equal(values, np.float32(gm.lower_bounds_))
    with TensorBoardLogger(tmp_path / "two") as log:
        gm = GaussianMixture(3, covariance_type="diag", n_init=2, random_state=0).fit(
            X, callback=log)
    events = _events(tmp_path / "two")
    assert set(events.Tags()["scalars"]) == {"gmm/init_1/lower_bound", "gmm/init_2/lower_bound"}
    assert log.log_dirs_ == [tmp_path / "two"]  # two initialisations, one fit
    best = [_scalars(events, f"gmm/init_{k}/lower_bound")[1] for k in (1, 2)]
    assert np.float32(gm.lower_bounds_).tolist() in best


# ---------------------------------------------------------------- fits stay the same
def test_logging_leaves_the_fit_as_it_is(tmp_path, data):
    X, y = data
    rbm = BernoulliRBM(16, **RBM)
    plain = clone(rbm).fit(X)
    logged = clone(rbm).fit(X, callback=TensorBoardLogger(tmp_path / "rbm", images_every=1,
                                                          sample_steps=3))
    np.testing.assert_array_equal(plain.components_, logged.components_)
    dbn = DBN((16, 16), finetune_epochs=2, **SMALL)
    plain = clone(dbn).fit(X, y)
    log = TensorBoardLogger(tmp_path / "dbn", images_every=1, n_samples=4, sample_steps=3)
    logged = clone(dbn).fit(X, y, callback=log)
    for a, b in zip(plain.layers_, logged.layers_, strict=True):
        assert torch.equal(a.R, b.R) and torch.equal(a.G, b.G)
    assert _image_steps(_events(tmp_path / "dbn"), "images/samples") == [1, 2]


# ---------------------------------------------------------------- where it is written
def test_clones_with_two_loggers_write_two_directories(tmp_path, data):
    X, _ = data
    base = BernoulliRBM(8, n_iter=2, batch_size=50)
    fits = [clone(base).set_params(random_state=seed) for seed in (0, 1)]
    for seed, rbm in enumerate(fits):
        with TensorBoardLogger(tmp_path / f"seed-{seed}", images_every=None) as log:
            rbm.fit(X, callback=log)
    for seed, rbm in enumerate(fits):
        _assert_logged(_events(tmp_path / f"seed-{seed}"), "rbm", rbm.history_)
    assert fits[0].history_ != fits[1].history_


def test_one_logger_gives_every_fit_of_a_search_its_directory(tmp_path, data):
    X, _ = data
    log = TensorBoardLogger(tmp_path)
    search = GridSearchCV(GaussianMixture(covariance_type="diag", random_state=0),
                          {"n_components": [1, 2]}, cv=2).fit(X[:200], callback=log)
    log.close()
    expected = [tmp_path] + [tmp_path / f"fit-{k}" for k in range(2, 6)]  # 2 x 2 + refit
    assert log.log_dirs_ == expected
    for directory in expected:
        steps, _ = _scalars(_events(directory), "gmm/lower_bound")
        assert steps == list(range(1, len(steps) + 1))
    _, refit = _scalars(_events(expected[-1]), "gmm/lower_bound")
    np.testing.assert_array_equal(refit, np.float32(search.best_estimator_.lower_bounds_))


def test_a_fit_going_on_continues_its_run_and_a_new_one_starts_one(tmp_path, data):
    X, y = data
    log = TensorBoardLogger(tmp_path, images_every=None)
    dbn = DBN((16, 16), finetune_epochs=1, **SMALL).fit(X, y, callback=log)
    dbn.fine_tune(X, y, callback=log)  # history_ grows: the same run
    assert log.log_dirs_ == [tmp_path]
    dbn.fit(X, y, callback=log)  # fitted again from epoch 1: a new run
    log.close()
    assert log.log_dirs_ == [tmp_path, tmp_path / "fit-2"]
    assert _scalars(_events(tmp_path), "finetune/seconds")[0] == [1, 2]
    assert _scalars(_events(tmp_path / "fit-2"), "finetune/seconds")[0] == [1]


def test_a_copy_writes_into_a_subdirectory_of_its_own(tmp_path, data):
    X, _ = data
    log = TensorBoardLogger(tmp_path, images_every=None)
    copies = [pickle.loads(pickle.dumps(log)) for _ in range(2)]  # as parallel workers get
    for seed, copy in enumerate(copies):
        BernoulliRBM(8, n_iter=1, random_state=seed).fit(X, callback=copy)
        copy.close()
    assert [c.log_dirs_ for c in copies] == [[tmp_path / "fit-2"], [tmp_path / "fit-3"]]
    assert not list(tmp_path.glob("events.*"))


# ---------------------------------------------------------------- the callbacks
def test_every_iterative_estimator_takes_a_callback(data):
    naive_bayes = {"BernoulliNB", "CategoricalNB", "ComplementNB", "GaussianNB",
                   "MultinomialNB"}
    estimators = [getattr(deepbelief, name) for name in deepbelief.__all__
                  if isinstance(getattr(deepbelief, name), type) and name not in naive_bayes]
    assert len(estimators) == 10
    for cls in estimators:
        if cls is TabularRBM:  # fit(X, y, **kwargs), passed on to BaseRBM.fit
            continue
        assert "callback" in inspect.signature(cls.fit).parameters, cls.__name__
    epochs = []
    TabularRBM(4, n_iter=2, random_state=0).fit(data[0][:, :5],
                                                callback=lambda m: epochs.append(m.n_epochs_))
    assert epochs == [1, 2]


def test_gaussian_mixture_callback_once_per_iteration(data):
    X, _ = data
    params = dict(n_components=3, covariance_type="diag", n_init=2, random_state=0)
    plain = GaussianMixture(**params).fit(X)
    seen = []
    called = GaussianMixture(**params).fit(
        X, callback=lambda gm: seen.append((gm.n_iter_, gm.lower_bound_,
                                            list(gm.lower_bounds_))))
    runs = [n for n, _, _ in seen]
    assert runs.count(1) == 2 and len(seen) > 2  # each initialisation from iteration 1
    for n, bound, bounds in seen:
        assert len(bounds) == n and bounds[-1] == bound
    assert [b for n, b, _ in seen if n == 1] == [bounds[0] for n, _, bounds in seen if n == 1]
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        np.testing.assert_array_equal(getattr(plain, name), getattr(called, name))
    assert (plain.n_iter_, plain.lower_bounds_) == (called.n_iter_, called.lower_bounds_)
    one = dict(params, n_init=1)
    count = []
    labels = GaussianMixture(**one).fit_predict(X, callback=lambda gm: count.append(1))
    reference = GaussianMixture(**one).fit(X)
    assert len(count) == reference.n_iter_
    np.testing.assert_array_equal(labels, reference.predict(X))


# ---------------------------------------------------------------- options and errors
def test_options_are_checked(tmp_path):
    with pytest.raises(ValueError, match="ais_data"):
        TensorBoardLogger(tmp_path, ais_every=2)
    with pytest.raises(ValueError, match="images_every"):
        TensorBoardLogger(tmp_path, images_every=0)
    assert not list(tmp_path.iterdir())  # nothing is made before the first call


def test_without_tensorboard_the_error_says_what_to_install(tmp_path, monkeypatch):
    monitor = sys.modules["deepbelief.monitor"]
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    try:
        importlib.reload(monitor)  # the module itself needs no tensorboard
        with pytest.raises(ImportError, match=r"pip install 'deepbelief\[monitor\]'"):
            monitor.TensorBoardLogger(tmp_path)
    finally:
        monkeypatch.undo()
        importlib.reload(monitor)
