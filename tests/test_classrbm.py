"""The classification RBM: exact p(y|x), its gradient, the three objectives, files."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import squashed
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.utils.estimator_checks import check_estimator

import deepbelief
from deepbelief import ClassRBM
from deepbelief.classrbm import discriminative_gradient
from deepbelief.datasets import load_digits
from deepbelief.joint import free_energies, label_joint_units
from deepbelief.model import RBM

SquashedClassRBM = squashed(ClassRBM, __name__)


def _tiny(d=5, K=3, H=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(H, d + K, generator=g, dtype=torch.float64)
    b = torch.randn(d + K, generator=g, dtype=torch.float64)
    c = torch.randn(H, generator=g, dtype=torch.float64)
    return W, b, c


@pytest.fixture(scope="module")
def binary_digits():
    """The digits binarised at 0.5, the stratified 2/3 - 1/3 split (random_state=0)."""
    X, y = load_digits()
    X = (X > 0.5).astype(np.float32)
    return train_test_split(X, y, test_size=1 / 3, stratify=y, random_state=0)


def test_predict_proba_is_the_enumerated_posterior():
    """p(y | x) by summing exp(-E(x, y, h)) over every h equals softmax(-F(x, ·))."""
    W, b, c = _tiny()
    d, K, H = 5, 3, 4
    model = ClassRBM.from_weights(W, b, c, classes=np.array([2, 5, 7]))
    x = torch.tensor(list(itertools.product([0.0, 1.0], repeat=d)), dtype=torch.float64)
    hs = torch.tensor(list(itertools.product([0.0, 1.0], repeat=H)), dtype=torch.float64)
    joint = torch.empty(len(x), K, dtype=torch.float64)
    for k in range(K):
        v = torch.cat([x, torch.nn.functional.one_hot(torch.full((len(x),), k), K)
                       .double()], 1)
        energy = -(v @ b)[:, None] - (hs @ c)[None] - (v @ W.T) @ hs.T
        joint[:, k] = torch.logsumexp(-energy, 1)
    expected = torch.softmax(joint, 1).numpy()
    np.testing.assert_allclose(model.predict_proba(x.numpy()), expected, rtol=1e-10)
    np.testing.assert_array_equal(model.predict(x.numpy()),
                                  np.array([2, 5, 7])[expected.argmax(1)])


def test_discriminative_gradient_equals_autograd():
    W, b, c = _tiny(d=7, K=4, H=6, seed=1)
    g = torch.Generator().manual_seed(2)
    x = torch.rand(13, 7, generator=g, dtype=torch.float64).round()
    y = torch.randint(4, (13,), generator=g)
    t = torch.nn.functional.one_hot(y, 4).double()
    dW, db, dc = discriminative_gradient(RBM(W, b, c, label_joint_units(7, 4)), x, t)
    params = [p.clone().requires_grad_() for p in (W, b, c)]
    core = RBM(*params, label_joint_units(7, 4))
    torch.log_softmax(-free_energies(core, x), 1)[torch.arange(13), y].mean().backward()
    for closed, auto in zip((dW, db, dc), params, strict=True):
        torch.testing.assert_close(closed, auto.grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("sampler", ["cd", "mean-field"])
def test_generative_step_is_the_label_joint_rbms_cd_step(sampler):
    """objective="generative" updates W, b, c as the DBN's label-joint top RBM does."""
    from deepbelief.dbn.generative import _LabelJointRBM
    from deepbelief.samplers import CD

    W, b, c = _tiny(d=6, K=3, H=5)
    g = torch.Generator().manual_seed(1)
    X = (torch.rand(40, 6, generator=g) > 0.5).double().numpy()
    y = np.arange(40) % 3
    kw = dict(learning_rate=0.05, momentum=0.5, initial_momentum=0.5, weight_decay=0.0,
              batch_size=40, random_state=0, dtype="float64",
              sampler=CD(1, mean_field=True) if sampler == "mean-field" else "cd")
    clf = ClassRBM.from_weights(W, b, c, classes=np.arange(3), objective="generative",
                                **kw).partial_fit(X, y)
    top = _LabelJointRBM.from_weights(W, b, c, n_classes=3, **kw).partial_fit(
        np.hstack([X, np.eye(3)[y]]))
    assert not np.allclose(clf.W_.numpy(), W.numpy())
    for name in ("W", "b", "c"):
        np.testing.assert_array_equal(getattr(clf.model_, name).numpy(),
                                      getattr(top.model_, name).numpy())


def test_hybrid_with_alpha_zero_is_discriminative(binary_digits):
    X, _, y, _ = binary_digits
    kw = dict(n_components=16, n_iter=3, random_state=0)
    hybrid = ClassRBM(objective="hybrid", alpha=0.0, **kw).fit(X[:300], y[:300])
    plain = ClassRBM(objective="discriminative", **kw).fit(X[:300], y[:300])
    np.testing.assert_array_equal(hybrid.W_.numpy(), plain.W_.numpy())
    np.testing.assert_array_equal(hybrid.predict_proba(X[300:]), plain.predict_proba(X[300:]))


def test_transform_sums_the_label_out():
    """p(h | x) = Σ_k p(k | x) p(h | x, k), p(h | x, k) from the joint core's conditional."""
    W, b, c = _tiny()
    model = ClassRBM.from_weights(W, b, c, classes=[0, 1, 2])
    x = np.random.default_rng(0).integers(0, 2, (9, 5)).astype(float)
    p = model.predict_proba(x)
    expected = sum(p[:, [k]] * model.p_h_given_v(np.hstack([x, np.eye(3)[[k] * 9]]))
                   for k in range(3))
    np.testing.assert_allclose(model.transform(x), expected, rtol=1e-10)


@pytest.mark.parametrize("objective", ["discriminative", "hybrid", "generative"])
def test_each_objective_learns_the_digits(binary_digits, objective):
    X, X_test, y, y_test = binary_digits
    model = ClassRBM(100, objective=objective, n_iter=40, random_state=0).fit(X, y)
    assert model.score(X_test, y_test) > 0.85
    assert model.history_["log_loss"][-1] < model.history_["log_loss"][0]


def test_generative_default_learns_from_fifty_digits(binary_digits):
    """The generative CD step at the discriminative rate (0.5) gave one class for every
    test digit after training on 50; "auto" takes 0.05 for it."""
    X, X_test, y, y_test = binary_digits
    model = ClassRBM(objective="generative", random_state=0).fit(X[:50], y[:50])
    assert model._learning_rate() == 0.05
    assert ClassRBM(objective="hybrid")._learning_rate() == 0.5
    assert len(np.unique(model.predict(X_test))) == 10
    assert model.score(X_test, y_test) > 0.5


@pytest.mark.slow
def test_default_beats_logistic_regression(binary_digits, capsys):
    X, X_test, y, y_test = binary_digits
    ours = ClassRBM(random_state=0).fit(X, y).score(X_test, y_test)
    pixels = LogisticRegression(max_iter=5000).fit(X, y).score(X_test, y_test)
    with capsys.disabled():
        print(f"\ndefault ClassRBM {ours:.3f}, logistic regression {pixels:.3f}")
    assert ours >= pixels


@pytest.mark.slow
def test_unlabeled_rows_help_with_few_labels(binary_digits, capsys):
    """20% of the training labels: the other rows unlabelled do not hurt (they help)."""
    X, X_test, y, y_test = binary_digits
    L, U, y_l, _ = train_test_split(X, y, train_size=0.2, stratify=y, random_state=0)
    alone = ClassRBM(random_state=0).fit(L, y_l).score(X_test, y_test)
    semi = ClassRBM(random_state=0).fit(L, y_l, X_unlabeled=U).score(X_test, y_test)
    with capsys.disabled():
        print(f"\nClassRBM on 20% of the labels: {alone:.3f}, with the rest unlabelled {semi:.3f}")
    assert semi >= alone


def test_unlabeled_rows_need_the_generative_term(binary_digits):
    """Unlabelled rows move the model (by their generative term) and are checked."""
    X, _, y, _ = binary_digits
    kw = dict(n_components=32, objective="discriminative", n_iter=3, random_state=0)
    plain = ClassRBM(alpha=0.5, **kw).fit(X[:200], y[:200])
    used = ClassRBM(alpha=0.5, **kw).fit(X[:200], y[:200], X_unlabeled=X[200:])
    assert not np.allclose(used.W_.numpy(), plain.W_.numpy())
    assert used.score(X[:200], y[:200]) > 0.3  # chance: 0.1
    with pytest.raises(ValueError, match="X_unlabeled"):
        ClassRBM(**kw).fit(X[:200], y[:200], X_unlabeled=X[200:, :10])


def test_sparsity_lowers_every_hidden_bias_after_each_update(binary_digits):
    """One update: the same W and b, c lower by δ; longer training: sparser hidden units."""
    X, _, y, _ = binary_digits
    kw = dict(n_components=32, objective="discriminative", batch_size=200, random_state=0)
    plain = ClassRBM(n_iter=1, **kw).fit(X[:200], y[:200])
    sparse = ClassRBM(n_iter=1, sparsity=0.05, **kw).fit(X[:200], y[:200])
    np.testing.assert_array_equal(sparse.W_.numpy(), plain.W_.numpy())
    np.testing.assert_allclose(sparse.model_.c.numpy(), plain.model_.c.numpy() - 0.05,
                               atol=1e-6)
    kw.update(objective="hybrid", batch_size=50, n_iter=10)
    activity = [ClassRBM(sparsity=delta, **kw).fit(X, y).transform(X).mean()
                for delta in (0.0, 0.02)]
    assert activity[1] < 0.8 * activity[0]
    with pytest.raises(ValueError, match="sparsity"):
        ClassRBM(sparsity=-0.1).fit(X[:50], y[:50])


def test_sample_clamps_the_label(binary_digits):
    X, _, y, _ = binary_digits
    model = ClassRBM(64, n_iter=10, random_state=0).fit(X, y)
    x, labels = model.sample(12, steps=20, label=3, random_state=0, return_labels=True)
    assert x.shape == (12, 64) and set(np.unique(x)) <= {0.0, 1.0}
    assert (labels == 3).all()
    _, free = model.sample(40, steps=20, random_state=1, return_labels=True)
    assert set(free) <= set(model.classes_) and len(set(free)) > 1
    with pytest.raises(ValueError, match="unknown label"):
        model.sample(2, label=11)


def test_save_load_and_resume(binary_digits, tmp_path):
    X, X_test, y, _ = binary_digits
    labels = np.array(["abcdefghij"[i] for i in y])
    whole = ClassRBM(32, n_iter=4, random_state=0).fit(X, labels)
    path = tmp_path / "m.safetensors"
    whole.save(path)
    loaded = deepbelief.load(path)
    for name in ("W_", "b_", "c_"):
        assert torch.equal(getattr(loaded, name), getattr(whole, name))
    # the same tensors in other buffers: BLAS may round a row's last bit otherwise
    np.testing.assert_allclose(loaded.predict_proba(X_test), whole.predict_proba(X_test),
                               rtol=1e-5, atol=1e-7)
    assert list(loaded.classes_) == list(whole.classes_)
    def stop(model):
        if model.n_epochs_ == 2:
            raise KeyboardInterrupt

    interrupted = ClassRBM(32, n_iter=4, random_state=0, checkpoint_dir=tmp_path / "ck")
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(X, labels, callback=stop)
    resumed = ClassRBM(32, n_iter=4, random_state=0, checkpoint_dir=tmp_path / "ck")
    resumed.fit(X, labels, resume=True)
    torch.testing.assert_close(resumed.W_, whole.W_, rtol=0, atol=0)


def test_inputs_outside_the_unit_interval(binary_digits):
    X, X_test, y, _ = binary_digits
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ClassRBM(8, n_iter=1).fit(X * 2, y)
    model = ClassRBM(8, n_iter=1, random_state=0).fit(X, y)
    assert model.predict(X_test * 1.5 - 0.1).shape == (len(X_test),)
    with pytest.raises(ValueError, match="y"):
        ClassRBM(8, n_iter=1).fit(X)


def test_partial_fit_needs_classes_first(binary_digits):
    X, _, y, _ = binary_digits
    model = ClassRBM(16, random_state=0)
    with pytest.raises(ValueError, match="classes"):
        model.partial_fit(X[:50], y[:50])
    model.partial_fit(X[:50], y[:50], classes=np.arange(10))
    model.partial_fit(X[50:100], y[50:100])
    assert model.n_epochs_ == 2 and list(model.classes_) == list(range(10))


@pytest.mark.slow
def test_check_estimator_with_defaults():
    """The defaults (hybrid, "auto" epochs) pass every check on data in [0, 1]."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(SquashedClassRBM(random_state=0), on_fail=None)
    assert [r["check_name"] for r in results if r["status"] == "failed"] == []


@pytest.mark.slow
def test_check_estimator():
    """Every check passes on data in [0, 1]; on other data only the refusal fails."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for cls in (ClassRBM, SquashedClassRBM):
            model = cls(32, objective="discriminative", n_iter=50, batch_size=10,
                        learning_rate=1.0, random_state=0)
            results = check_estimator(model, on_fail=None)
            failed = [(r["check_name"], str(r["exception"])) for r in results
                      if r["status"] == "failed"]
            if cls is SquashedClassRBM:
                assert failed == []
            else:
                assert all("Bernoulli units need values in [0, 1]" in f[1] for f in failed), failed
            assert sum(r["status"] == "passed" for r in results) >= 30


@pytest.mark.slow
@pytest.mark.skipif(not torch.distributed.is_available(), reason="no torch.distributed")
@pytest.mark.parametrize("objective", ["discriminative", "hybrid"])
def test_two_processes_train_as_one(tmp_path, objective):
    """Under torchrun the discriminative gradient is the mean over both ranks' rows: the
    discriminative model lands on the one process's to rounding; the hybrid's generative
    term (and its unlabelled rows') draws its own chains on each rank: it lands near."""
    worker = Path(__file__).with_name("classrbm_worker.py")
    single, double = tmp_path / "one.safetensors", tmp_path / "two.safetensors"
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK")}
    env = dict(env, OMP_NUM_THREADS="1")
    subprocess.run([sys.executable, str(worker), objective, str(single)], check=True, env=env)
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                    "--nproc_per_node", "2", str(worker), objective, str(double)],
                   check=True, env=env, timeout=300)
    a, b = deepbelief.load(single), deepbelief.load(double)
    X, y = load_digits()
    X_test, y_test = (X[1200:] > 0.5).astype(np.float64), y[1200:]
    if objective == "discriminative":
        np.testing.assert_allclose(b.W_.numpy(), a.W_.numpy(), atol=1e-8)
    else:
        assert abs(a.score(X_test, y_test) - b.score(X_test, y_test)) < 0.03
