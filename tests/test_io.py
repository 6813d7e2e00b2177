"""Model files: round trips, and every kind of bad file refused without executing it."""

import json
import os
import pickle
import stat
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import deepbelief
from deepbelief import BernoulliRBM


@pytest.fixture
def fitted(digits):
    return BernoulliRBM(16, n_iter=2, random_state=0).fit(digits[0][:200])


def test_round_trip(fitted, digits, tmp_path):
    path = tmp_path / "rbm.safetensors"
    fitted.save(path)
    loaded = deepbelief.load(path)
    assert isinstance(loaded, BernoulliRBM)
    assert loaded.get_params() == fitted.get_params()
    np.testing.assert_array_equal(loaded.components_, fitted.components_)
    np.testing.assert_array_equal(loaded.transform(digits[0][:5]), fitted.transform(digits[0][:5]))
    assert loaded.history_ == fitted.history_
    assert loaded.n_epochs_ == fitted.n_epochs_


def test_save_leaves_no_temporary_files(fitted, tmp_path):
    fitted.save(tmp_path / "a.safetensors")
    fitted.save(tmp_path / "a.safetensors")
    assert [p.name for p in tmp_path.iterdir()] == ["a.safetensors"]


def test_truncated_file(fitted, tmp_path):
    path = tmp_path / "rbm.safetensors"
    fitted.save(path)
    data = path.read_bytes()
    for cut in (4, 20, len(data) // 2, len(data) - 3):
        path.write_bytes(data[:cut])
        with pytest.raises(ValueError):
            deepbelief.load(path)


def test_bit_flips_in_header(fitted, tmp_path):
    path = tmp_path / "rbm.safetensors"
    fitted.save(path)
    data = bytearray(path.read_bytes())
    header_len = int.from_bytes(data[:8], "little")
    rng = np.random.default_rng(0)
    for pos in rng.integers(0, 8 + header_len, size=25):
        corrupt = bytearray(data)
        corrupt[pos] ^= 0xFF
        path.write_bytes(bytes(corrupt))
        try:
            model = deepbelief.load(path)
        except ValueError:
            continue
        assert isinstance(model, BernoulliRBM)  # a flip inside a harmless JSON string


def test_foreign_safetensors_file(tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"weight": torch.zeros(3, 3)}, str(path))
    with pytest.raises(ValueError, match="not written by deepbelief"):
        deepbelief.load(path)


def test_wrong_metadata(tmp_path):
    path = tmp_path / "m.safetensors"
    base = {"format": "deepbelief", "format_version": "1", "class": "BernoulliRBM",
            "params": json.dumps({"n_components": 2}), "extra": "{}"}
    tensors = {"W": torch.zeros(2, 3), "b": torch.zeros(3), "c": torch.zeros(2)}
    bad = [
        dict(base, format_version="99"),
        dict(base, **{"class": "os.system"}),
        dict(base, params="{not json"),
        dict(base, params=json.dumps({"no_such_param": 1})),
    ]
    for meta in bad:
        save_file(tensors, str(path), metadata=meta)
        with pytest.raises(ValueError):
            deepbelief.load(path)
    for wrong in ({"W": torch.zeros(2, 3), "b": torch.zeros(4), "c": torch.zeros(2)},
                  {"W": torch.zeros(2, 3), "b": torch.zeros(3)},
                  {"W": torch.full((2, 3), float("nan")), "b": torch.zeros(3),
                   "c": torch.zeros(2)}):
        save_file(wrong, str(path), metadata=base)
        with pytest.raises(ValueError):
            deepbelief.load(path)


class _Boom:
    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_pickles_are_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    for name, writer in [
        ("pickle", lambda p: p.write_bytes(pickle.dumps(_Boom(marker)))),
        ("torch", lambda p: torch.save({"W": torch.zeros(2)}, p)),
    ]:
        path = tmp_path / f"{name}.safetensors"
        writer(path)
        with pytest.raises(ValueError):
            deepbelief.load(path)
    assert not marker.exists()


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        deepbelief.load(tmp_path / "nope.safetensors")


DATA = Path(__file__).with_name("data")


def test_files_saved_by_release_0_1_load_and_give_the_same_outputs(digits):
    X = digits[0][:40]
    expected = np.load(DATA / "release-0.1-outputs.npz")
    rbm = deepbelief.load(DATA / "release-0.1-rbm.safetensors")
    clf = deepbelief.load(DATA / "release-0.1-dbn-classifier.safetensors")
    dbn = deepbelief.load(DATA / "release-0.1-dbn.safetensors")
    np.testing.assert_allclose(rbm.transform(X), expected["rbm_transform"], rtol=1e-5)
    np.testing.assert_allclose(clf.predict_proba(X), expected["clf_proba"], rtol=1e-5)
    np.testing.assert_allclose(dbn.free_energies(X), expected["dbn_free_energies"], rtol=1e-5)
    assert dbn.sample(2, label=dbn.classes_[0], steps=3).shape == (2, 64)


def test_model_files_get_the_umasks_permissions(tmp_path, digits):
    old = os.umask(0o022)
    try:
        rbm = BernoulliRBM(4, n_iter=1, random_state=0).fit(digits[0][:20])
        rbm.save(tmp_path / "m.safetensors")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "m.safetensors").stat().st_mode) == 0o644
