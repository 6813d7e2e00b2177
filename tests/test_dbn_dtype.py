"""Deep belief nets follow the data's floating-point type and take sparse input."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch import nn

import deepbelief
from deepbelief.datasets import load_digits
from deepbelief.dbn import DBN, DBNClassifier

SMALL = {"pretrain_epochs": 2, "finetune_epochs": 2, "batch_size": 20,
         "rbm_params": {"batch_size": 20}, "random_state": 0}
MODELS = [(DBNClassifier, (16,)), (DBN, (16, 16))]


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits()
    return X[:300], y[:300]


def _parameters(model) -> list[torch.Tensor]:
    """Every tensor a fitted net computes with."""
    if isinstance(model, DBNClassifier):
        return [*model.net_.parameters(), *(r.W_ for r in model.rbms_)]
    layers = [t for layer in model.layers_ for t in layer.state_dict().values()]
    return [*layers, *model.top_.state_dict().values()]


@pytest.mark.parametrize("cls, sizes", MODELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_the_model_follows_the_data(cls, sizes, dtype, digits):
    X, y = digits
    data = (X > 0.5).astype(dtype) if dtype == np.int64 else X.astype(dtype)
    model = cls(sizes, **SMALL).fit(data, y)
    expected = np.float32 if dtype == np.float32 else np.float64
    want = torch.float32 if expected == np.float32 else torch.float64
    assert {t.dtype for t in _parameters(model)} == {want}
    assert model.transform(data).dtype == expected
    assert model.predict_proba(data).dtype == expected
    # later inputs of the other type are cast to the model's
    assert model.transform(X.astype(np.float64)).dtype == expected
    if cls is DBN:
        assert model.sample(2, label=y[0], steps=2, random_state=0).dtype == expected
        assert model.sample_chain(2, 2, random_state=0).dtype == expected


@pytest.mark.parametrize("cls, sizes", MODELS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_an_explicit_dtype_wins(cls, sizes, dtype, digits):
    X, y = digits
    other = X.astype(np.float64) if dtype == "float32" else X
    model = cls(sizes, dtype=dtype, **SMALL).fit(other, y)
    assert {t.dtype for t in _parameters(model)} == {getattr(torch, dtype)}
    assert model.transform(other).dtype == np.dtype(dtype)
    assert model.__sklearn_tags__().transformer_tags.preserves_dtype == [dtype]


@pytest.mark.parametrize("cls, sizes", MODELS)
def test_a_saved_model_keeps_its_dtype(cls, sizes, digits, tmp_path):
    X, y = digits
    for data in (X, X.astype(np.float64)):
        model = cls(sizes, **SMALL).fit(data, y)
        model.save(tmp_path / "m.safetensors")
        back = deepbelief.load(tmp_path / "m.safetensors")
        assert back.dtype is None
        assert {t.dtype for t in _parameters(back)} == {_parameters(model)[0].dtype}
        np.testing.assert_array_equal(back.transform(data), model.transform(data))
        np.testing.assert_array_equal(back.predict(data), model.predict(data))


def test_sparse_input_predicts_as_dense(digits):
    X, y = digits
    X_sparse = sp.csr_matrix(X)
    params = {**SMALL, "finetune_epochs": 3, "validation_fraction": 0.2}
    dense = DBNClassifier((16,), **params).fit(X, y)
    sparse = DBNClassifier((16,), **params).fit(X_sparse, y)
    for a, b in zip(sparse.pretrain_history_, dense.pretrain_history_, strict=True):
        np.testing.assert_allclose(a["reconstruction_error"], b["reconstruction_error"],
                                   rtol=1e-4)
    np.testing.assert_array_equal(sparse.predict(X_sparse), dense.predict(X))
    np.testing.assert_array_equal(sparse.predict(X), dense.predict(X))
    np.testing.assert_allclose(sparse.predict_proba(X_sparse), dense.predict_proba(X),
                               atol=1e-5)
    np.testing.assert_allclose(sparse.transform(sp.csc_matrix(X)), dense.transform(X),
                               atol=1e-5)
    assert isinstance(sparse.net_, nn.Sequential)


def test_sparse_input_to_the_generative_net(digits):
    X, y = digits
    dense = DBN((16, 16), **SMALL).fit(X, y)
    sparse = DBN((16, 16), **SMALL).fit(sp.csr_matrix(X), y)
    np.testing.assert_array_equal(sparse.predict(sp.csr_matrix(X)), dense.predict(X))
    np.testing.assert_allclose(sparse.transform(sp.csr_matrix(X)), dense.transform(X),
                               atol=1e-4)


@pytest.mark.parametrize("cls, sizes", MODELS)
def test_sparse_input_is_checked(cls, sizes, digits):
    X, y = digits
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        cls(sizes, **SMALL).fit(sp.csr_matrix(X * 16), y)
    with pytest.raises(TypeError, match="sparse input is not supported with visible_units"):
        cls(sizes, visible_units="gaussian", **SMALL).fit(sp.csr_matrix(X), y)
    model = cls(sizes, visible_units="gaussian", **SMALL).fit(X, y)
    with pytest.raises(TypeError, match="sparse"):
        model.predict(sp.csr_matrix(X))
    assert not model.__sklearn_tags__().input_tags.sparse
    assert cls(sizes).__sklearn_tags__().input_tags.sparse


@pytest.mark.parametrize("sparse", [False, True])
def test_resume_in_float64_is_bit_identical(sparse, digits, tmp_path):
    """A float64 model (dtype None) resumed from its checkpoints, sparse input too."""
    X, y = digits
    data = sp.csr_matrix(X.astype(np.float64)) if sparse else X.astype(np.float64)
    params = {**SMALL, "finetune_epochs": 4, "checkpoint_every": 1, "dropout": 0.1}
    full = DBNClassifier((16,), **params).fit(data, y)

    def crash(model):
        if len(model.history_["train_loss"]) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        DBNClassifier((16,), **params, checkpoint_dir=str(tmp_path)).fit(data, y, callback=crash)
    resumed = DBNClassifier((16,), **params, checkpoint_dir=str(tmp_path)).fit(
        data, y, resume=True)
    for a, b in zip(full.net_.parameters(), resumed.net_.parameters(), strict=True):
        assert a.dtype == torch.float64
        assert torch.equal(a, b)
    assert full.history_ == {**resumed.history_, "seconds": full.history_["seconds"]}


@pytest.mark.parametrize("cls, sizes", MODELS)
def test_a_stream_follows_its_first_minibatch(cls, sizes, digits):
    X, y = digits
    batches = [(X[i:i + 50].astype(np.float64), y[i:i + 50]) for i in range(0, 300, 50)]
    batches[1] = (batches[1][0].astype(np.float32), batches[1][1])  # cast to the first's type
    model = cls(sizes, **SMALL).fit(_Stream(batches), classes=np.arange(10))
    assert {t.dtype for t in _parameters(model)} == {torch.float64}


class _Stream:
    """A re-iterable of minibatches (a list would count as one array)."""

    def __init__(self, batches) -> None:
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)
