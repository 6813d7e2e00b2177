"""Polyak averaging: the running mean of each epoch's parameters, across resumes."""

import copy

import numpy as np
import pytest
import torch

from deepbelief import DBM, BernoulliRBM, ClassRBM, GaussianBernoulliRBM
from deepbelief.averaging import ParameterAverage

pytestmark = pytest.mark.usefixtures("one_thread")


class Record:
    """An epoch callback keeping a copy of every epoch's W."""

    def __init__(self) -> None:
        self.W: list[np.ndarray] = []

    def __call__(self, estimator) -> None:
        self.W.append(estimator.model_.W.double().numpy().copy())


class Stop(Exception):
    pass


def both(*callbacks):
    def call(estimator):
        for callback in callbacks:
            callback(estimator)
    return call


@pytest.fixture(scope="module")
def X(binary_digits):
    return binary_digits[0][:300]


def rbm(**kw):
    return BernoulliRBM(16, **{"n_iter": 6, "batch_size": 25, "random_state": 3, **kw})


def test_the_mean_of_the_epochs_from_start_on(X):
    record, average = Record(), ParameterAverage(start=3)
    fitted = rbm().fit(X, callback=both(record, average))
    assert average.n_averaged_ == 4 and average.last_epoch_ == 6 and average.missed_ == []
    expected = np.mean(record.W[2:], axis=0)
    np.testing.assert_allclose(average.mean_["W"].numpy(), expected, rtol=0, atol=1e-12)
    assert not np.allclose(expected, record.W[-1], atol=1e-4)  # the mean is not the last
    final = copy.deepcopy(fitted)
    average.apply(fitted)
    assert fitted.W_.dtype == final.W_.dtype
    torch.testing.assert_close(fitted.W_, torch.from_numpy(expected).float())
    assert not torch.equal(fitted.b_, final.b_)


def test_resume_continues_the_mean_exactly(X, tmp_path):
    """An interrupted fit and its mean, resumed, give the uninterrupted run's mean; with
    the estimator's checkpoint older than the mean's, the epochs re-run are not counted
    twice."""
    reference = ParameterAverage(start=2)
    rbm().fit(X, callback=reference)

    def stop_at_5(estimator):
        if estimator.n_epochs_ == 5:
            raise Stop

    ckpt, kept = tmp_path / "ckpt", tmp_path / "mean"
    first = ParameterAverage(start=2, directory=kept)
    with pytest.raises(Stop):  # the estimator's checkpoint: epoch 4; the mean's: epoch 5
        rbm(checkpoint_dir=str(ckpt), checkpoint_every=2).fit(X, callback=both(first, stop_at_5))
    resumed = ParameterAverage(start=2, directory=kept, resume=True)
    assert resumed.last_epoch_ == 5 and resumed.n_averaged_ == 4
    rbm(checkpoint_dir=str(ckpt), checkpoint_every=2).fit(X, callback=resumed, resume=True)
    assert resumed.n_averaged_ == reference.n_averaged_ == 5 and resumed.missed_ == []
    for name, mean in reference.mean_.items():
        assert torch.equal(resumed.mean_[name], mean), name


def test_without_resume_an_old_mean_is_dropped(X, tmp_path):
    ParameterAverage(start=2, directory=tmp_path)(rbm(n_iter=2).fit(X))
    assert list(tmp_path.iterdir())
    fresh = ParameterAverage(directory=tmp_path)
    assert fresh.mean_ is None and fresh.n_averaged_ == 0 and not list(tmp_path.iterdir())


def test_missed_epochs_are_reported(X):
    model = rbm(n_iter=1).fit(X)
    average = ParameterAverage()
    average(model)
    model.partial_fit(X)
    model.partial_fit(X)
    with pytest.warns(RuntimeWarning, match="missed epochs 2-2"):
        average(model)
    assert average.missed_ == [2] and average.n_averaged_ == 2


@pytest.mark.parametrize("make", [
    lambda: ClassRBM(16, n_iter=3, random_state=0),
    lambda: DBM((16, 8), pretrain_epochs=1, n_iter=3, batch_size=50, random_state=0),
    lambda: GaussianBernoulliRBM(8, n_iter=3, random_state=0),
], ids=["ClassRBM", "DBM", "GaussianBernoulliRBM"])
def test_every_estimator_on_one_core(binary_digits, make):
    X, y = binary_digits[0][:200], binary_digits[1][:200]
    average, model = ParameterAverage(start=2), make()
    if isinstance(model, ClassRBM):
        model.fit(X, y, callback=average)
    else:
        model.fit(X, callback=average)
    assert average.n_averaged_ == 2
    assert set(average.mean_) == set(model.model_.state_dict())
    average.apply(model)
    for name, tensor in model.model_.state_dict().items():
        torch.testing.assert_close(tensor.double(), average.mean_[name], rtol=0, atol=1e-6)


def test_bad_use_is_refused(X):
    with pytest.raises(ValueError, match="start must be at least 1"):
        ParameterAverage(start=0)
    with pytest.raises(ValueError, match="resume=True needs the directory"):
        ParameterAverage(resume=True)
    with pytest.raises(ValueError, match="no epoch from 5 on"):
        ParameterAverage(start=5).apply(rbm(n_iter=1).fit(X))
    with pytest.raises(TypeError, match="no fitted RBM core"):
        ParameterAverage()(BernoulliRBM())
