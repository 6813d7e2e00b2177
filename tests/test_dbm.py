"""The DBM estimator on binarised 8x8 digits: shapes, pre-training, joint training,
likelihood bounds, files, checkpoints, bad input and scikit-learn's checks."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import all_states, squashed
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from sklearn.utils.estimator_checks import check_estimator

import deepbelief
from deepbelief import DBM, BernoulliRBM, partition
from deepbelief.datasets import load_digits
from deepbelief.dbm._core import exact_log_p_star, mean_field
from deepbelief.dbm._pretrain import LayerRBM, ScaledRBM
from deepbelief.samplers import FPCD, PCD, PT

#: Small joint-training settings shared by most tests.
FAST = dict(pretrain_epochs=2, n_iter=3, batch_size=50, random_state=0)


#: Small models: one thread is fastest, and immune to a busy machine.
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def data():
    """Binarised digits: 1000 training rows and 297 held-out ones."""
    X, _ = load_digits()
    X = (X >= 0.5).astype(np.float64)
    order = np.random.default_rng(0).permutation(len(X))
    return X[order[:1000]], X[order[1500:]]


@pytest.fixture(scope="module")
def fitted(data):
    return DBM((32, 16), **FAST).fit(data[0][:500])


@pytest.fixture(scope="module")
def joint(data):
    """The same 64-16-12 DBM (odd group 16 units: exact log Z) before and after
    20 epochs of joint training."""
    params = dict(hidden_layer_sizes=(16, 12), pretrain_epochs=5, batch_size=50, random_state=0)
    return (DBM(n_iter=0, **params).fit(data[0]), DBM(n_iter=20, **params).fit(data[0]))


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def layers_of(transformed: np.ndarray, sizes) -> list[np.ndarray]:
    return np.split(transformed, np.cumsum(sizes)[:-1], axis=1)


# ------------------------------------------------------------ outputs, shapes
def test_fit_transform_shapes_and_attributes(fitted, data):
    X_test = data[1]
    H = fitted.transform(X_test)
    assert H.shape == (len(X_test), 48) and H.dtype == np.float64
    assert np.all((H > 0) & (H < 1))
    assert [W.shape for W in fitted.weights_] == [(32, 64), (16, 32)]
    assert [b.shape for b in fitted.biases_] == [(64,), (32,), (16,)]
    assert fitted.n_features_in_ == 64 and fitted.n_epochs_ == 3
    assert fitted.layout_.sizes == (64, 32, 16)
    assert list(fitted.get_feature_names_out()) == [f"dbm{i}" for i in range(48)]
    assert set(fitted.history_) == {"reconstruction_error", "mean_field_rounds", "seconds"}
    assert all(len(v) == 3 for v in fitted.history_.values())
    np.testing.assert_array_equal(fitted.fit_transform(data[0][:500]), fitted.transform(
        data[0][:500]))


def test_transform_is_the_mean_field_fixed_point(fitted, data):
    """transform = [μ1, μ2] with μ1 = σ(b1 + W1 v + W2ᵀ μ2) and μ2 ≈ σ(b2 + W2 μ1)."""
    v = data[1]
    mu1, mu2 = layers_of(fitted.transform(v), (32, 16))
    (W1, W2), (_, b1, b2) = fitted.weights_, fitted.biases_
    np.testing.assert_allclose(mu1, sigmoid(b1 + v @ W1.T + mu2 @ W2), atol=1e-10)
    np.testing.assert_allclose(mu2, sigmoid(b2 + mu1 @ W2.T), atol=1e-3)
    # the same as mean_field on the core, odd and even layers put back in order
    mu_even, mu_odd, _ = mean_field(fitted.model_, fitted.layout_, torch.as_tensor(v),
                                    fitted.mean_field_iter, fitted.mean_field_tol)
    np.testing.assert_array_equal(mu1, mu_odd.numpy())
    np.testing.assert_array_equal(mu2, mu_even.numpy())


def test_three_layer_transform_is_in_layer_order(data):
    dbm = DBM((12, 8, 4), **FAST).fit(data[0][:300])
    v = data[1][:50]
    H = dbm.transform(v)
    assert H.shape == (50, 24)
    mu1, mu2, mu3 = layers_of(H, (12, 8, 4))
    W1, W2, W3 = dbm.weights_
    _, b1, b2, b3 = dbm.biases_
    # odd layers are exact given the even ones; the even (h2) at the fixed point
    np.testing.assert_allclose(mu1, sigmoid(b1 + v @ W1.T + mu2 @ W2), atol=1e-6)
    np.testing.assert_allclose(mu3, sigmoid(b3 + mu2 @ W3.T), atol=1e-6)
    np.testing.assert_allclose(mu2, sigmoid(b2 + mu1 @ W2.T + mu3 @ W3), atol=1e-3)


def test_sample_returns_binary_rows(fitted, data):
    s = fitted.sample(7, steps=20, random_state=0)
    assert s.shape == (7, 64) and set(np.unique(s)) <= {0.0, 1.0}
    np.testing.assert_array_equal(s, fitted.sample(7, steps=20, random_state=0))
    assert not np.array_equal(s, fitted.sample(7, steps=20, random_state=1))
    init = fitted.sample(4, steps=3, init=data[1][:4], random_state=0)
    assert init.shape == (4, 64) and set(np.unique(init)) <= {0.0, 1.0}
    with pytest.raises(ValueError, match="n_samples"):
        fitted.sample(0)


def test_dtype_follows_the_data_unless_set(data):
    X = data[0][:200]
    m32 = DBM((8, 4), **FAST).fit(X.astype(np.float32))
    assert m32.weights_[0].dtype == np.float32
    assert m32.transform(X.astype(np.float32)).dtype == np.float32
    m64 = DBM((8, 4), dtype="float64", **FAST).fit(X.astype(np.float32))
    assert m64.weights_[0].dtype == np.float64 and m64.transform(X).dtype == np.float64


def test_hidden_layer_sizes_may_be_an_int(data):
    dbm = DBM(8, **FAST).fit(data[0][:200])
    assert dbm.layout_.sizes == (64, 8) and dbm.transform(data[1]).shape == (297, 8)


# ------------------------------------------------------------- pre-training
def test_greedy_pretraining_doubles_and_composes(data):
    dbm = DBM((16, 12), pretrain_epochs=2, n_iter=0, batch_size=50, random_state=0)
    dbm.fit(data[0][:300])
    assert dbm.n_epochs_ == 0 and all(v == [] for v in dbm.history_.values())
    first, last = dbm.rbms_
    assert all(isinstance(r, LayerRBM) and isinstance(r.model_, ScaledRBM) for r in dbm.rbms_)
    assert (first.model_.up, first.model_.down) == (2, 1)
    assert (last.model_.up, last.model_.down) == (1, 2)
    assert first.W_.shape == (16, 64) and last.W_.shape == (12, 16)
    for W, rbm in zip(dbm.weights_, dbm.rbms_, strict=True):
        np.testing.assert_array_equal(W, rbm.W_.numpy())
    b0, b1, b2 = dbm.biases_
    np.testing.assert_array_equal(b0, first.b_.numpy())
    np.testing.assert_array_equal(b1, ((first.c_ + last.b_) / 2).numpy())
    np.testing.assert_array_equal(b2, last.c_.numpy())


def test_pretraining_of_three_layers(data):
    dbm = DBM((12, 8, 6), pretrain_epochs=2, n_iter=0, batch_size=50, random_state=0)
    dbm.fit(data[0][:300])
    assert [(r.model_.up, r.model_.down) for r in dbm.rbms_] == [(2, 1), (2, 2), (1, 2)]
    for W, rbm in zip(dbm.weights_, dbm.rbms_, strict=True):
        np.testing.assert_array_equal(W, rbm.W_.numpy())
    np.testing.assert_array_equal(dbm.biases_[2], ((dbm.rbms_[1].c_ + dbm.rbms_[2].b_) / 2)
                                  .numpy())


def test_pretraining_feeds_each_rbm_the_doubled_input(data, monkeypatch):
    """The second RBM trains on p(h1 | v) = σ(c + 2 W v) of the first."""
    seen = []
    fit = LayerRBM.fit

    def spy(self, X, *args, **kwargs):
        seen.append(X.X.clone())
        return fit(self, X, *args, **kwargs)

    monkeypatch.setattr(LayerRBM, "fit", spy)
    X = data[0][:200]
    dbm = DBM((16, 12), pretrain_epochs=2, n_iter=0, batch_size=50, random_state=0).fit(X)
    first = dbm.rbms_[0]
    expected = torch.sigmoid(first.c_ + 2 * torch.as_tensor(X) @ first.W_.T)
    torch.testing.assert_close(seen[1], expected)


# ----------------------------------------------------------- joint training
def test_joint_training_improves_the_held_out_bound(joint, data):
    pre, trained = joint
    X, X_test = data
    for model in joint:  # 16 odd units: log Z is exact, so no AIS noise
        assert model.log_partition() == partition.exact_log_partition(model)
    gain_test = trained.score(X_test) - pre.score(X_test)
    gain_train = trained.score(X) - pre.score(X)
    assert gain_test > 0.2, gain_test
    assert gain_train > 0.2, gain_train
    assert trained.history_["reconstruction_error"][-1] < trained.history_[
        "reconstruction_error"][0]


def test_partition_functions_take_a_dbm(joint, data):
    _, dbm = joint
    X, X_test = data
    exact = partition.exact_log_partition(dbm)
    assert partition.log_likelihood(dbm, X_test, log_z=exact) == pytest.approx(
        dbm.score(X_test), abs=1e-9)
    betas = np.linspace(0.0, 1.0, 3000)
    forward = partition.ais_log_partition(dbm, n_runs=100, betas=betas, data=X, seed=0)
    assert abs(forward.log_z - exact) < 0.1, (forward, exact)
    reverse = partition.reverse_ais_log_partition(dbm, X, n_runs=100, betas=betas,
                                                  burn_in=100, seed=0)
    assert abs(reverse.log_z - exact) < 0.1, (reverse, exact)


def test_score_samples_is_the_bound_less_exact_log_z(data):
    dbm = DBM((6, 4), pretrain_epochs=3, n_iter=5, batch_size=50, random_state=0)
    dbm.fit(data[0][:300])
    X = data[1][:100]
    log_z = partition.exact_log_partition(dbm)
    score = dbm.score_samples(X)
    np.testing.assert_allclose(score, dbm.lower_bound(X) - log_z, rtol=0, atol=1e-9)
    assert dbm.score(X) == pytest.approx(score.mean())
    exact = exact_log_p_star(dbm.model_.to(torch.float64), dbm.layout_,
                             torch.as_tensor(X)).numpy() - log_z
    assert np.all(score <= exact + 1e-9)
    assert np.all(exact < 0)


def test_bound_of_a_tiny_random_dbm_over_every_v():
    """6-4-3 with weights of scale 1.5: exact p(v) sums to 1 over all 64 v; the
    bound is below log p(v) for every one of them."""
    g = torch.Generator().manual_seed(0)
    sizes = (6, 4, 3)
    weights = [1.5 * torch.randn(n, m, generator=g, dtype=torch.float64)
               for m, n in zip(sizes[:-1], sizes[1:], strict=True)]
    biases = [0.5 * torch.randn(n, generator=g, dtype=torch.float64) for n in sizes]
    dbm = DBM.from_weights(weights, biases)
    v = all_states(6)
    log_z = dbm.log_partition()
    exact = exact_log_p_star(dbm.model_, dbm.layout_, v).numpy() - log_z
    assert np.exp(exact).sum() == pytest.approx(1.0, abs=1e-12)
    score = dbm.score_samples(v.numpy())
    assert np.all(score <= exact + 1e-12)
    assert np.exp(score).sum() < 1.0
    assert np.max(exact - score) > 1e-3  # a bound, not the value


def test_one_hidden_layer_score_is_the_rbms_log_likelihood(data):
    dbm = DBM(8, **FAST).fit(data[0][:300])
    rbm = BernoulliRBM.from_weights(dbm.weights_[0], dbm.biases_[0], dbm.biases_[1])
    X = data[1]
    assert dbm.score(X) == pytest.approx(
        partition.log_likelihood(rbm, X, log_z=partition.exact_log_partition(rbm)), abs=1e-9)


@pytest.mark.parametrize("params", [dict(sampler="pt", n_temperatures=3),
                                    dict(centering=0.01), dict(sampler="fpcd")])
def test_other_negative_phases_train(data, params):
    X = data[0][:300]
    dbm = DBM((16, 8), **{**FAST, **params}).fit(X)
    before = DBM((16, 8), **{**FAST, **params, "n_iter": 0}).fit(X)
    assert all(np.isfinite(W).all() for W in dbm.weights_)
    assert not np.array_equal(dbm.weights_[0], before.weights_[0])  # joint training moved it
    assert np.isfinite(dbm.score(data[1]))
    sampler = dbm._trainer.sampler
    assert isinstance(sampler, {"pt": PT, "fpcd": FPCD}.get(params.get("sampler"), PCD))
    if isinstance(sampler, PT):
        acceptance = sampler.tempering.acceptance
        assert acceptance.shape == (2,) and torch.all((acceptance >= 0) & (acceptance <= 1))
    if params.get("centering"):
        assert dbm._trainer.centering is not None
    assert dbm.sample(3, steps=5, random_state=0).shape == (3, 64)


@pytest.mark.parametrize("params", [dict(), dict(sampler="pt", n_temperatures=3),
                                    dict(sampler="fpcd"), dict(centering=0.05)])
def test_three_layers_keep_the_non_adjacent_block_zero(data, params):
    X = data[0][:300]
    dbm = DBM((12, 8, 4), **{**FAST, "n_iter": 4, **params}).fit(X)
    before = DBM((12, 8, 4), **{**FAST, "n_iter": 0, **params}).fit(X)
    layout, W = dbm.layout_, dbm.model_.W
    assert layout.n_odd == 16 and layout.n_even == 72
    assert torch.count_nonzero(W[layout.slices[3], layout.slices[0]]) == 0  # h3-v
    assert torch.equal(dbm._trainer.weight_mask, layout.mask(W))
    for new, old in zip(dbm.weights_, before.weights_, strict=True):
        assert not np.array_equal(new, old)
    assert np.isfinite(dbm.score(data[1]))  # 16 odd units: exact log Z


def test_partial_fit_trains_without_pretraining(data):
    X = data[0][:200]
    dbm = DBM((8, 4), batch_size=50, random_state=0)
    dbm.partial_fit(X)
    assert dbm.n_epochs_ == 1 and not hasattr(dbm, "rbms_")
    W = dbm.weights_[0].copy()
    dbm.partial_fit(X)
    assert dbm.n_epochs_ == 2 and not np.array_equal(W, dbm.weights_[0])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        dbm.partial_fit(X * 2.0)


def test_pretrain_epochs_zero_starts_at_random_weights(data):
    dbm = DBM((8, 4), pretrain_epochs=0, n_iter=1, batch_size=50, random_state=0)
    dbm.fit(data[0][:200])
    assert dbm.rbms_ == []
    assert abs(float(np.std(dbm.weights_[0])) - 0.01) < 0.003


def test_log_z_is_not_stale_after_a_refit(data):
    dbm = DBM((6, 4), **FAST).fit(data[0][:200])
    first = dbm.log_partition()
    dbm.set_params(random_state=1).fit(data[0][200:400])
    assert first != partition.exact_log_partition(dbm)
    assert dbm.log_partition() == partition.exact_log_partition(dbm)



def _copy(dbm, **params):
    """A fitted DBM with ``dbm``'s weights and biases and ``params``."""
    return DBM.from_weights(dbm.weights_, dbm.biases_, **params)


def test_warm_start_runs_joint_epochs_from_the_fitted_weights(fitted, data):
    X = data[0][:200]
    params = dict(warm_start=True, n_iter=2, batch_size=50, random_state=3)
    warm = _copy(fitted, **params).fit(X)
    assert warm.n_epochs_ == 2 and not hasattr(warm, "rbms_")  # no pre-training
    assert not np.array_equal(warm.weights_[0], fitted.weights_[0])
    again = _copy(fitted, **params).fit(X)
    for a, b in zip(warm.weights_, again.weights_, strict=True):
        np.testing.assert_array_equal(a, b)
    still = _copy(fitted, **{**params, "n_iter": 0}).fit(X)
    for a, b in zip(still.weights_ + still.biases_, fitted.weights_ + fitted.biases_,
                    strict=True):
        np.testing.assert_array_equal(a, b)
    cold = _copy(fitted, **{**params, "warm_start": False}).fit(X)
    assert len(cold.rbms_) == 2  # without warm_start, fit starts again


def test_warm_start_checks_the_data_against_the_fitted_model(fitted, data):
    dbm = _copy(fitted, warm_start=True, n_iter=1)
    with pytest.raises(ValueError, match="features"):
        dbm.fit(data[0][:100, :10])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        dbm.fit(data[0][:100] * 2.0)
    dbm.set_params(hidden_layer_sizes=(32, 8))
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        dbm.fit(data[0][:100])


# ------------------------------------------------------------------- files
def test_save_load_round_trip(fitted, data, tmp_path):
    path = tmp_path / "dbm.safetensors"
    fitted.save(path)
    back = deepbelief.load(path)
    assert type(back) is DBM and back.hidden_layer_sizes == (32, 16)
    assert back.get_params() == fitted.get_params()
    for a, b in zip(back.weights_, fitted.weights_, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(back.biases_, fitted.biases_, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(back.transform(data[1]), fitted.transform(data[1]))
    np.testing.assert_array_equal(back.lower_bound(data[1]), fitted.lower_bound(data[1]))
    assert back.n_epochs_ == fitted.n_epochs_ and back.history_ == fitted.history_
    assert back.weights_[0].dtype == fitted.weights_[0].dtype


def test_from_weights_builds_the_given_dbm():
    g = np.random.default_rng(0)
    sizes = (7, 5, 4, 3)
    weights = [g.normal(size=(n, m)) for m, n in zip(sizes[:-1], sizes[1:], strict=True)]
    biases = [g.normal(size=n) for n in sizes]
    dbm = DBM.from_weights(weights, biases)
    assert dbm.hidden_layer_sizes == (5, 4, 3) and dbm.n_features_in_ == 7
    for a, b in zip(dbm.weights_, weights, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(dbm.biases_, biases, strict=True):
        np.testing.assert_array_equal(a, b)
    v = (g.random((10, 7)) < 0.5).astype(np.float64)
    assert dbm.transform(v).shape == (10, 12)
    f32 = DBM.from_weights(weights, biases, dtype="float32")
    assert f32.weights_[0].dtype == np.float32 and f32.dtype == "float32"
    f32.partial_fit(v)  # a built model trains on
    assert f32.n_epochs_ == 1


def test_from_weights_refuses_inconsistent_shapes():
    W1, W2 = np.zeros((3, 4)), np.zeros((2, 3))
    b = [np.zeros(4), np.zeros(3), np.zeros(2)]
    with pytest.raises(ValueError, match="weights"):
        DBM.from_weights([W1, np.zeros((2, 2))], b)
    with pytest.raises(ValueError, match="bias vectors"):
        DBM.from_weights([W1], b)
    with pytest.raises(ValueError, match="bias vectors"):
        DBM.from_weights([], [np.zeros(4)])
    with pytest.raises(ValueError, match=r"biases\[1\]"):
        DBM.from_weights([W1, W2], [np.zeros(4), np.zeros(2), np.zeros(2)])


def _rewrite(path, change_tensors=None, change_extra=None):
    import json

    with safe_open(str(path), framework="pt") as fh:
        metadata = fh.metadata()
    tensors = load_file(path)
    if change_tensors:
        change_tensors(tensors)
    if change_extra:
        extra = json.loads(metadata["extra"])
        change_extra(extra)
        metadata["extra"] = json.dumps(extra)
    save_file(tensors, path, metadata=metadata)


@pytest.mark.parametrize("change_tensors, change_extra, match", [
    (lambda t: t.pop("W2"), None, "W2"),
    (lambda t: t.pop("b0"), None, "b0"),
    (lambda t: t.update(W1=t["W1"][:, :10].contiguous()), None, "W1"),
    (lambda t: t.update(b1=torch.zeros(5, dtype=t["b1"].dtype)), None, "b1"),
    (lambda t: t["W2"].fill_(float("nan")), None, "NaN"),
    (None, lambda e: e.pop("sizes"), "layer sizes"),
    (None, lambda e: e.update(sizes=[64, 0, 16]), "layer sizes"),
    (None, lambda e: e.update(sizes=[64, 32, 8]), "W2"),
])
def test_corrupt_file_is_a_value_error(fitted, tmp_path, change_tensors, change_extra, match):
    path = tmp_path / "dbm.safetensors"
    fitted.save(path)
    _rewrite(path, change_tensors, change_extra)
    with pytest.raises(ValueError, match=match):
        deepbelief.load(path)


# ------------------------------------------------------------- checkpoints
class _Stop(Exception):
    pass


def _stop_after(epoch):
    def callback(model):
        if model.n_epochs_ == epoch:
            raise _Stop
    return callback


@pytest.mark.parametrize("params", [dict(), dict(sampler="pt", n_temperatures=3),
                                    dict(sampler="fpcd"), dict(centering=0.05)])
def test_interrupted_joint_training_resumes_bit_identically(data, tmp_path, params):
    X = data[0][:300]
    params = dict(hidden_layer_sizes=(16, 8), pretrain_epochs=2, n_iter=6, batch_size=25,
                  random_state=4, **params)
    full = DBM(**params).fit(X)
    with pytest.raises(_Stop):
        DBM(checkpoint_dir=str(tmp_path), **params).fit(X, callback=_stop_after(3))
    assert (tmp_path / "joint").is_dir() and (tmp_path / "pretrain" / "layer-2").is_dir()
    resumed = DBM(checkpoint_dir=str(tmp_path), **params).fit(X, resume=True)
    assert resumed.n_epochs_ == 6
    for name in ("W", "b", "c"):
        assert torch.equal(getattr(full.model_, name), getattr(resumed.model_, name)), name
    assert full.history_["reconstruction_error"] == resumed.history_["reconstruction_error"]
    assert resumed.rbms_[0].model_.up == 2  # the restored RBMs still double


def test_interrupted_warm_start_resumes_bit_identically(fitted, data, tmp_path):
    X = data[0][:300]
    params = dict(warm_start=True, n_iter=5, k=3, batch_size=25, random_state=4)
    full = _copy(fitted, **params).fit(X)
    with pytest.raises(_Stop):
        _copy(fitted, checkpoint_dir=str(tmp_path), **params).fit(X, callback=_stop_after(2))
    resumed = _copy(fitted, checkpoint_dir=str(tmp_path), **params).fit(X, resume=True)
    assert resumed.n_epochs_ == 5
    for name in ("W", "b", "c"):
        assert torch.equal(getattr(full.model_, name), getattr(resumed.model_, name)), name


def test_interrupted_pretraining_resumes_bit_identically(data, tmp_path, monkeypatch):
    X = data[0][:300]
    params = dict(hidden_layer_sizes=(16, 8), pretrain_epochs=3, n_iter=3, batch_size=25,
                  random_state=4)
    full = DBM(**params).fit(X)
    passes = []
    train_pass = LayerRBM._train_pass

    def failing(self, *args, **kwargs):
        passes.append(1)
        if len(passes) == 5:  # layer 2's second epoch
            raise _Stop
        return train_pass(self, *args, **kwargs)

    monkeypatch.setattr(LayerRBM, "_train_pass", failing)
    with pytest.raises(_Stop):
        DBM(checkpoint_dir=str(tmp_path), **params).fit(X)
    monkeypatch.setattr(LayerRBM, "_train_pass", train_pass)
    assert not (tmp_path / "joint").exists()
    resumed = DBM(checkpoint_dir=str(tmp_path), **params).fit(X, resume=True)
    for a, b in zip(full.rbms_, resumed.rbms_, strict=True):
        assert torch.equal(a.W_, b.W_)
    assert torch.equal(full.model_.W, resumed.model_.W)
    assert torch.equal(full.model_.c, resumed.model_.c)


def test_resume_needs_a_matching_checkpoint(data, tmp_path):
    X = data[0][:200]
    with pytest.raises(ValueError, match="checkpoint_dir"):
        DBM((8, 4), **FAST).fit(X, resume=True)
    DBM((8, 4), **FAST, checkpoint_dir=str(tmp_path)).fit(X)
    with pytest.raises(ValueError, match="shape"):
        DBM((8, 4, 2), **FAST, checkpoint_dir=str(tmp_path)).fit(X, resume=True)


# --------------------------------------------------------------- bad input
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
        DBM((3, 2), pretrain_epochs=1, n_iter=1).fit(bad)


def test_bad_input_to_a_fitted_model(fitted, data):
    X = data[1]
    with pytest.raises(ValueError, match="features"):
        fitted.transform(X[:, :60])
    with pytest.raises(ValueError, match="NaN"):
        fitted.transform(np.full((2, 64), np.nan))
    with pytest.raises(ValueError, match="infinity"):
        fitted.transform(np.full((2, 64), np.inf))
    with pytest.raises(ValueError, match="2D"):
        fitted.transform(X[0])
    with pytest.raises(ValueError, match="0 sample"):
        fitted.transform(X[:0])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):  # a likelihood needs binary data
        fitted.score_samples(X[:5] * 1.2 - 0.1)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        fitted.lower_bound(X[:5] * 2.0)
    with pytest.raises(ValueError, match="features"):
        fitted.sample(2, steps=1, init=X[:2, :10])
    # inference takes values slightly outside [0, 1] (a scaler fitted on other rows)
    H = fitted.transform(X[:5] * 1.2 - 0.1)
    assert H.shape == (5, 48) and np.isfinite(H).all()
    assert not np.allclose(H, fitted.transform(X[:5]))


def test_unfitted_model_is_refused():
    from sklearn.exceptions import NotFittedError

    for method in ("transform", "score_samples", "lower_bound"):
        with pytest.raises(NotFittedError):
            getattr(DBM(), method)(np.zeros((2, 4)))
    with pytest.raises(NotFittedError):
        DBM().sample(2)


@pytest.mark.parametrize("param, value", [
    ("hidden_layer_sizes", (8, 0)), ("k", 0), ("learning_rate", 0.0), ("batch_size", 0),
    ("mean_field_iter", 0), ("mean_field_tol", -1.0), ("centering", 1.5), ("n_iter", -1),
    ("momentum", 1.0), ("min_beta", 0.0), ("sampler", "gibbs"), ("dtype", "float16"),
    ("pretrain_epochs", "many"),
])
def test_impossible_hyperparameters(param, value):
    with pytest.raises(ValueError, match=param):
        DBM(**{param: value}).fit(np.zeros((4, 3)))


# ------------------------------------------------------------ scikit-learn
SquashedDBM = squashed(DBM, __name__)
CHECK_PARAMS = dict(hidden_layer_sizes=(8, 4), pretrain_epochs=2, n_iter=2, random_state=0)


def test_check_estimator_refuses_only_out_of_range_data():
    """Checks that feed values outside [0, 1] (make_blobs) are refused by design."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(DBM(**CHECK_PARAMS), on_fail=None)
    for r in results:
        if r["status"] == "failed":
            assert "Bernoulli units need values in [0, 1]" in str(r["exception"]), r
    assert sum(r["status"] == "passed" for r in results) > 20


def test_check_estimator_passes_on_unit_interval_data():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(SquashedDBM(**CHECK_PARAMS), on_fail=None)
    bad = [(r["check_name"], str(r["exception"])[:200]) for r in results
           if r["status"] == "failed"]
    assert bad == []
    assert sum(r["status"] == "passed" for r in results) > 40


@pytest.mark.slow
@pytest.mark.skipif(not torch.distributed.is_available(), reason="no torch.distributed")
def test_two_processes_train_as_one(tmp_path):
    """Under torchrun the statistics are summed over the ranks (each its own chains): the
    pre-trained stack is the one process's, and joint training lands as near."""
    worker = Path(__file__).with_name("dbm_worker.py")
    single, double = tmp_path / "one.safetensors", tmp_path / "two.safetensors"
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK")}
    subprocess.run([sys.executable, str(worker), str(single)], check=True, env=env)
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                    "--nproc_per_node", "2", str(worker), str(double)],
                   check=True, env=dict(env, OMP_NUM_THREADS="1"), timeout=300)
    a, b = deepbelief.load(single), deepbelief.load(double)
    ra, rb = (m.history_["reconstruction_error"][-1] for m in (a, b))
    assert abs(ra - rb) / ra < 0.05, (ra, rb)
    X = load_digits()[0][1200:]
    assert abs(a.score(X) - b.score(X)) < 1.0
