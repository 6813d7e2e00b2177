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
from deepbelief import BernoulliRBM, GaussianBernoulliRBM, load
from deepbelief.samplers import CD, FPCD, PCD, PT, GibbsLangevin


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


def _flip_header_bits(path, cls) -> None:
    """25 single-byte flips in the header: each load refuses the file (ValueError) or, for
    a flip inside a harmless JSON string, still gives a ``cls``."""
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
        assert type(model) is cls


def test_bit_flips_in_header(fitted, tmp_path):
    path = tmp_path / "rbm.safetensors"
    fitted.save(path)
    _flip_header_bits(path, BernoulliRBM)


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


# ---------------------------------------------------------------------------
# Naive Bayes model files

NB_MODELS = {
    "MultinomialNB": lambda: deepbelief.MultinomialNB(alpha=0.5),
    "BernoulliNB": lambda: deepbelief.BernoulliNB(alpha=0.5, binarize=1.0),
    "GaussianNB": lambda: deepbelief.GaussianNB(var_smoothing=1e-3),
}


def _nb_data(seed: int = 0, n: int = 60, d: int = 6):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = rng.poisson(rng.uniform(0.2, 3.0, size=(3, d))[y]).astype(float)
    return X, y, rng.poisson(1.5, size=(20, d)).astype(float)


def _assert_predicts_the_same(loaded, model, X):
    assert type(loaded) is type(model)
    assert loaded.get_params() == model.get_params()
    assert loaded.classes_.dtype == model.classes_.dtype
    np.testing.assert_array_equal(loaded.classes_, model.classes_)
    assert loaded.n_features_in_ == model.n_features_in_
    for method in ("predict", "predict_proba", "predict_log_proba", "predict_joint_log_proba"):
        np.testing.assert_array_equal(getattr(loaded, method)(X), getattr(model, method)(X))


def _nb_file(name: str, tmp_path):
    """A fitted naive Bayes model of three string labels, and its file."""
    X, y, _ = _nb_data()
    model = NB_MODELS[name]().fit(X, np.array(["ham", "spam", "eggs"])[y])
    path = tmp_path / "nb.safetensors"
    model.save(path)
    return model, path


@pytest.fixture(params=list(NB_MODELS))
def nb_file(request, tmp_path):
    return _nb_file(request.param, tmp_path)


@pytest.mark.parametrize("name", list(NB_MODELS))
@pytest.mark.parametrize("labels", [np.array(["ham", "spam", "eggs"]),
                                    np.array(["ham", "spam", "eggs"], dtype=object),
                                    np.array([3, 1, 2]), np.array([-1, 0, 7], dtype=np.int8),
                                    np.array([0.0, -2.0, 1e10]), np.array([True, False, True])])
def test_naive_bayes_round_trip(name, labels, tmp_path):
    X, y, X_test = _nb_data()
    model = NB_MODELS[name]().fit(X, labels[y])
    model.save(tmp_path / "nb.safetensors")
    _assert_predicts_the_same(deepbelief.load(tmp_path / "nb.safetensors"), model, X_test)


@pytest.mark.parametrize("name", list(NB_MODELS))
def test_naive_bayes_partial_fit_goes_on_after_a_load(name, tmp_path):
    """A model saved between two partial_fit calls (its first chunk lacking a class)
    carries on as the model that was not saved."""
    X, y, X_test = _nb_data(1, n=90)
    first = y[:45] != 2
    model = NB_MODELS[name]().partial_fit(X[:45][first], y[:45][first], classes=[0, 1, 2])
    model.save(tmp_path / "nb.safetensors")
    loaded = deepbelief.load(tmp_path / "nb.safetensors")
    _assert_predicts_the_same(loaded, model, X_test)
    for m in (model, loaded):
        m.partial_fit(X[45:], y[45:])
    _assert_predicts_the_same(loaded, model, X_test)
    for attr in ("class_count_", "feature_count_", "theta_", "var_", "epsilon_"):
        if hasattr(model, attr):
            np.testing.assert_array_equal(getattr(loaded, attr), getattr(model, attr))


@pytest.mark.parametrize("name", ["MultinomialNB", "BernoulliNB"])
def test_naive_bayes_zero_probabilities_round_trip(name, tmp_path):
    """alpha=0 leaves log-probabilities of -inf, which a file keeps."""
    X, y, X_test = _nb_data(2)
    X[y == 0, 0] = 0  # feature 0 never occurs in class 0; class 2 is not seen
    with pytest.warns(RuntimeWarning, match="-inf"):
        model = getattr(deepbelief, name)(alpha=0.0).partial_fit(X[y != 2], y[y != 2],
                                                                  classes=[0, 1, 2])
    assert np.isneginf(model.class_log_prior_[2]) and np.isneginf(model.feature_log_prob_[0, 0])
    model.save(tmp_path / "nb.safetensors")
    _assert_predicts_the_same(deepbelief.load(tmp_path / "nb.safetensors"), model, X_test)


def test_naive_bayes_array_hyperparameters_round_trip(tmp_path):
    X, y, X_test = _nb_data(3)
    model = deepbelief.MultinomialNB(alpha=np.linspace(0.1, 1.0, X.shape[1]),
                                     class_prior=np.array([0.2, 0.3, 0.5])).fit(X, y)
    model.save(tmp_path / "nb.safetensors")
    loaded = deepbelief.load(tmp_path / "nb.safetensors")
    np.testing.assert_array_equal(loaded.alpha, model.alpha)
    np.testing.assert_array_equal(loaded.predict_proba(X_test), model.predict_proba(X_test))


def test_naive_bayes_unfitted_or_unsavable_labels_refused(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        deepbelief.MultinomialNB().save(tmp_path / "nb.safetensors")
    X, y, _ = _nb_data()
    model = deepbelief.BernoulliNB().fit(X, y)
    model.classes_ = np.array([1j, 2j, 3j])
    with pytest.raises(ValueError, match="class labels"):
        model.save(tmp_path / "nb.safetensors")
    assert not (tmp_path / "nb.safetensors").exists()


def test_naive_bayes_truncated_file(nb_file):
    _, path = nb_file
    data = path.read_bytes()
    for cut in (4, 20, len(data) // 2, len(data) - 3):
        path.write_bytes(data[:cut])
        with pytest.raises(ValueError):
            deepbelief.load(path)


def test_naive_bayes_bit_flips_in_header(nb_file):
    model, path = nb_file
    _flip_header_bits(path, type(model))


def _rewrite(path, *, tensors=None, extra=None, params=None, drop=()):
    """Write ``path`` again with some tensors or metadata entries replaced."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(path), framework="pt") as fh:
        metadata = fh.metadata()
    old = load_file(path)
    new = {k: v for k, v in {**old, **(tensors or {})}.items() if k not in drop}
    meta = dict(metadata)
    meta["extra"] = json.dumps({**json.loads(metadata["extra"]), **(extra or {})})
    meta["params"] = json.dumps({**json.loads(metadata["params"]), **(params or {})})
    save_file({k: v.contiguous() for k, v in new.items()}, str(path), metadata=meta)
    return old


def _bad_tensor_files(model):
    """(description, tensors to put in the file, tensors to drop) for ``model``'s file."""
    first, second = list(type(model)._FILE_TENSORS)[:2]
    c, d = len(model.classes_), model.n_features_in_
    yield "missing", {}, (second,)
    yield "missing first", {}, (first,)
    yield "wrong shape", {second: torch.zeros(c + 1, dtype=torch.float64)}, ()
    yield "1-D first", {first: torch.zeros(c, dtype=torch.float64)}, ()
    yield "no features", {first: torch.zeros(c, 0, dtype=torch.float64)}, ()
    yield "integers", {first: torch.zeros(c, d, dtype=torch.int64)}, ()
    yield "float16", {first: torch.zeros(c, d, dtype=torch.float16)}, ()
    yield "NaN", {second: torch.full((c,), float("nan"), dtype=torch.float64)}, ()
    yield "negative counts", {"class_count": -torch.ones(c, dtype=torch.float64)}, ()
    if "feature_log_prob" in type(model)._FILE_TENSORS:
        yield "+inf", {"feature_log_prob": torch.full((c, d), float("inf"),
                                                      dtype=torch.float64)}, ()
        yield "NaN log", {"class_log_prior": torch.full((c,), float("nan"),
                                                        dtype=torch.float64)}, ()
        yield "float32", {first: torch.zeros(c, d, dtype=torch.float32)}, ()
    else:
        yield "-inf", {"theta": torch.full((c, d), -float("inf"), dtype=torch.float64)}, ()


def test_naive_bayes_bad_tensors(nb_file):
    model, path = nb_file
    data = path.read_bytes()
    for what, tensors, drop in _bad_tensor_files(model):
        path.write_bytes(data)
        _rewrite(path, tensors=tensors, drop=drop)
        with pytest.raises(ValueError):
            deepbelief.load(path)
            pytest.fail(f"loaded a file with {what} tensors")


BAD_CLASSES = [
    {"classes": None}, {"classes": []}, {"classes": "abc"}, {"classes": [["a"], ["b"], ["c"]]},
    {"classes": [None, 1, 2]}, {"classes": ["c", "b", "a"]}, {"classes": ["a", "a", "b"]},
    {"classes": ["a", "b"]}, {"classes": ["a", "b", "c", "d"]},
    {"classes": [1, 2, 3], "classes_kind": "x"},
    {"classes": [1, 2, 3], "classes_kind": "i", "classes_dtype": "evil"},
    {"classes": [1, 2, 3], "classes_kind": "i", "classes_dtype": "<f8"},
    {"classes": [1, 2, 3], "classes_kind": "i", "classes_dtype": None},
    {"classes": [1.5, 2, 3], "classes_kind": "i", "classes_dtype": "<i8"},
    {"classes": ["1", "2", "3"], "classes_kind": "i", "classes_dtype": "<i8"},
    {"classes": [1, 200, 300], "classes_kind": "i", "classes_dtype": "|i1"},
    {"classes": [-1, 0, 1], "classes_kind": "u", "classes_dtype": "<u8"},
    {"classes": [0, 1, 2], "classes_kind": "b", "classes_dtype": "|b1"},
    {"classes": [1.0, 2.0, 1e300], "classes_kind": "f", "classes_dtype": "<f4"},
    {"classes": [1, 2, 3], "classes_kind": "U", "classes_dtype": "<U1"},
    {"classes": [1, "a", 2], "classes_kind": "O", "classes_dtype": "|O"},
]


@pytest.mark.parametrize("bad", BAD_CLASSES, ids=range(len(BAD_CLASSES)))
def test_naive_bayes_bad_class_labels(nb_file, bad):
    _, path = nb_file
    _rewrite(path, extra=bad)
    with pytest.raises(ValueError):
        deepbelief.load(path)


_DISCRETE_BAD = [{"alpha": -1.0}, {"alpha": "x"}, {"alpha": True}, {"fit_prior": "maybe"},
                 {"force_alpha": None}, {"class_prior": 3}]


@pytest.mark.parametrize("name, params", [
    *[(name, {"no_such_param": 1}) for name in NB_MODELS],
    *[("MultinomialNB", p) for p in _DISCRETE_BAD],
    *[("BernoulliNB", p) for p in [*_DISCRETE_BAD, {"binarize": "yes"}, {"binarize": True}]],
    *[("GaussianNB", p) for p in [{"var_smoothing": -1.0}, {"var_smoothing": "1"},
                                  {"dtype": "float16"}, {"priors": 3}]],
])
def test_naive_bayes_bad_hyperparameters_in_file(name, params, tmp_path):
    _, path = _nb_file(name, tmp_path)
    _rewrite(path, params=params)
    with pytest.raises(ValueError):
        deepbelief.load(path)


@pytest.mark.parametrize("epsilon", [-1.0, "0.1", None, True, [0.1], float("nan")])
def test_gaussian_nb_bad_epsilon(epsilon, tmp_path):
    X, y, _ = _nb_data()
    deepbelief.GaussianNB().fit(X, y).save(tmp_path / "nb.safetensors")
    _rewrite(tmp_path / "nb.safetensors", extra={"epsilon": epsilon})
    with pytest.raises(ValueError):
        deepbelief.load(tmp_path / "nb.safetensors")


def test_gaussian_nb_file_written_before_the_shared_label_encoding_loads(tmp_path):
    """A GaussianNB file as the code before :func:`deepbelief.io.encode_classes` wrote it."""
    X, y, X_test = _nb_data(4)
    model = deepbelief.GaussianNB().fit(X.astype(np.float32), np.array([-1, 0, 7],
                                                                       dtype=np.int16)[y])
    tensors = {"theta": torch.from_numpy(model.theta_), "var": torch.from_numpy(model.var_),
               "class_count": torch.from_numpy(model.class_count_),
               "class_prior": torch.from_numpy(model.class_prior_)}
    extra = {"classes": [-1, 0, 7], "classes_kind": "i", "classes_dtype": "<i2",
             "epsilon": model.epsilon_}
    metadata = {"format": "deepbelief", "format_version": "1", "class": "GaussianNB",
                "params": json.dumps({"priors": None, "var_smoothing": 1e-9, "dtype": None}),
                "extra": json.dumps(extra)}
    save_file(tensors, str(tmp_path / "old.safetensors"), metadata=metadata)
    loaded = deepbelief.load(tmp_path / "old.safetensors")
    _assert_predicts_the_same(loaded, model, X_test.astype(np.float32))
    assert loaded.classes_.dtype == np.int16


# ---------------------------------------------------------------------------
# Class labels: one encoding for every classifier, older files still read


@pytest.mark.parametrize("labels", [
    np.array([3, 1, 2]), np.array([-1, 0, 7], dtype=np.int8), np.array([2**64 - 1], np.uint64),
    np.array([0.5, -2.0], dtype=np.float32), np.array([True, False]), np.array(["b", "aa"]),
    np.array(["x", "y"], dtype=object), np.array([1, 2.5, True], dtype=object)])
def test_encode_decode_classes_round_trip(labels):
    from deepbelief.io import decode_classes, encode_classes

    classes = np.unique(labels)
    extra = json.loads(json.dumps(encode_classes(classes)))
    back = decode_classes(extra)
    assert back.dtype == classes.dtype
    np.testing.assert_array_equal(back, classes)


@pytest.mark.parametrize("labels", [np.array([2, 1]), np.array([1, 1]), np.array([]),
                                    np.zeros((2, 2)), np.array([1 + 2j, 3j]),
                                    np.array([None, "a"], dtype=object),
                                    np.array([np.nan, 1.0])])
def test_encode_classes_refuses_what_it_cannot_write(labels):
    from deepbelief.io import encode_classes

    with pytest.raises(ValueError, match="class labels"):
        encode_classes(labels)


@pytest.mark.parametrize("old, expected", [
    (list(range(10)), np.arange(10)),
    ([f"digit {i}" for i in range(10)], np.array([f"digit {i}" for i in range(10)])),
    ([i / 2 for i in range(10)], np.arange(10) / 2),
])
@pytest.mark.parametrize("name", ["dbn-classifier", "dbn"])
def test_dbn_files_of_the_older_label_encoding_load_and_save_the_new_one(
        name, old, expected, digits, tmp_path):
    """The release-0.1 files, which hold only the list ``classes``, with other labels
    written in: the labels come back as ``np.asarray`` gave them; saved again, in the
    shared encoding, they come back the same."""
    X = digits[0][:40]
    path = tmp_path / "old.safetensors"
    path.write_bytes((DATA / f"release-0.1-{name}.safetensors").read_bytes())
    _rewrite(path, extra={"classes": old})
    model = deepbelief.load(path)
    assert model.classes_.dtype == expected.dtype
    np.testing.assert_array_equal(model.classes_, expected)
    reference = deepbelief.load(DATA / f"release-0.1-{name}.safetensors")
    np.testing.assert_array_equal(model.predict(X), expected[reference.predict(X)])
    model.save(tmp_path / "new.safetensors")
    from safetensors import safe_open

    with safe_open(str(tmp_path / "new.safetensors"), framework="pt") as fh:
        extra = json.loads(fh.metadata()["extra"])
    assert extra["classes_kind"] == expected.dtype.kind
    again = deepbelief.load(tmp_path / "new.safetensors")
    assert again.classes_.dtype == expected.dtype
    np.testing.assert_array_equal(again.classes_, expected)
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))


@pytest.mark.parametrize("bad", [{"classes": [3, 2, 1] + list(range(4, 11))},
                                 {"classes": [0] * 10}, {"classes": None},
                                 {"classes": list(range(10)), "classes_kind": "i",
                                  "classes_dtype": "evil"}])
def test_dbn_bad_class_labels(bad, tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes((DATA / "release-0.1-dbn-classifier.safetensors").read_bytes())
    _rewrite(path, extra=bad)
    with pytest.raises(ValueError):
        deepbelief.load(path)



@pytest.mark.parametrize("sampler", [CD(2, mean_field=True), PCD(3),
                                     FPCD(1, fast_learning_rate=0.01),
                                     PT(2, betas=[1.0, 0.8, 0.4])])
def test_a_sampler_object_round_trips(sampler, digits, tmp_path):
    X = digits[0][:200]
    model = BernoulliRBM(8, sampler=sampler, n_iter=1, random_state=0).fit(X)
    model.save(tmp_path / "m.safetensors")
    back = load(tmp_path / "m.safetensors")
    assert type(back.sampler) is type(sampler) and back.sampler.spec() == sampler.spec()
    np.testing.assert_array_equal(back.sample(4, steps=3, random_state=1),
                                  model.sample(4, steps=3, random_state=1))


def test_a_gibbs_langevin_sampler_round_trips(tmp_path):
    X = np.random.default_rng(0).normal(size=(100, 4))
    sampler = GibbsLangevin(3, step_size=0.3, from_noise=True)
    model = GaussianBernoulliRBM(4, sampler=sampler, n_iter=1, random_state=0).fit(X)
    model.save(tmp_path / "m.safetensors")
    assert load(tmp_path / "m.safetensors").sampler.spec() == sampler.spec()


@pytest.mark.parametrize("spec", [{"sampler": "nope", "k": 1}, {"sampler": "cd", "k": 1,
                                                                 "temperature": 3},
                                  {"sampler": "langevin", "k": 1, "step_size": 7.0}])
def test_a_bad_sampler_description_is_refused(fitted, tmp_path, spec):
    refused_after_rewrite(fitted, tmp_path / "m.safetensors", "sampler|step_size",
                          params={"sampler": spec})


def refused_after_rewrite(model, path, match: str, **changes) -> None:
    """``model`` saved to ``path``, the file rewritten with ``changes`` (as ``_rewrite``
    takes them), then refused by ``load`` with a ``ValueError`` matching ``match``."""
    model.save(path)
    _rewrite(path, **changes)
    with pytest.raises(ValueError, match=match):
        load(path)
