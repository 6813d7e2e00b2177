"""Deep belief nets at scale: minibatch streams, several processes, checkpoints."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import deepbelief
from deepbelief.checkpoint import list_checkpoints
from deepbelief.dbn import DBN, DBNClassifier

WORKER = Path(__file__).with_name("dbn_worker.py")
RBM = {"batch_size": 20, "learning_rate": 0.05}


def _loader(X, y, batch_size=50):
    dataset = TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
    return DataLoader(dataset, batch_size=batch_size, shuffle=False)


def _params(model):
    return [p.detach() for p in model.net_.parameters()]


def test_classifier_from_a_dataloader(digits):
    X, y = digits
    clf = DBNClassifier((64,), pretrain_epochs=2, rbm_params=RBM, finetune_epochs=8,
                        optimizer="sgd", learning_rate=0.1, random_state=0)
    clf.fit(_loader(X[:1500], y[:1500], 20))
    np.testing.assert_array_equal(clf.classes_, np.arange(10))
    assert len(clf.history_["train_loss"]) == 8 and "validation_loss" not in clf.history_
    assert clf.score(X[1500:], y[1500:]) > 0.85
    named = DBNClassifier((8,), pretrain_epochs=1, finetune_epochs=1, random_state=0)
    named.fit(_loader(X[:200], y[:200]), classes=np.arange(12))
    assert named.predict_proba(X[:3]).shape == (3, 12)


def test_generative_dbn_from_a_dataloader(digits):
    X, y = digits
    dbn = DBN((32, 32, 64), pretrain_epochs=2, rbm_params=RBM, finetune_epochs=1,
              batch_size=20, random_state=0).fit(_loader(X[:600], y[:600], 20))
    assert dbn.n_features_in_ == 64 and len(dbn.history_["seconds"]) == 1
    assert set(dbn.predict(X[:50])) <= set(range(10))
    first_layer = dbn.pretrain_history_[0]["reconstruction_error"]
    assert len(dbn.pretrain_history_) == 2 and first_layer[-1] < first_layer[0]


def test_one_shot_iterators_and_bad_streams(digits):
    X, y = digits
    batches = [(X[i:i + 50], y[i:i + 50]) for i in range(0, 300, 50)]
    with pytest.raises(ValueError, match="one-shot"):
        DBNClassifier((8,), pretrain_epochs=1, finetune_epochs=1).fit(iter(batches))
    clf = DBNClassifier((8,), pretrain_epochs=0, finetune_epochs=1, random_state=0)
    clf.fit(iter(batches), classes=np.arange(10))
    assert clf.n_epochs_ == 1
    with pytest.raises(ValueError, match="y must be None"):
        clf.fit(_loader(X[:300], y[:300]), y[:300])
    with pytest.raises(ValueError, match="not among the classes"):
        clf.fit(_loader(X[:300], y[:300]), classes=np.arange(5))
    with pytest.raises(ValueError, match="checkpoint_dir"):
        clf.fit(X[:100], y[:100], resume=True)


def test_in_process_resume_matches(tmp_path, digits):
    X, y = digits[0][:600], digits[1][:600]
    params = dict(hidden_layer_sizes=(32, 16), pretrain_epochs=3, rbm_params=RBM,
                  finetune_epochs=7, optimizer="sgd", learning_rate=0.1, dropout=0.1,
                  learning_rate_schedule="cosine", n_iter_no_change=20, batch_size=25,
                  checkpoint_every=2, random_state=5)
    full = DBNClassifier(**params).fit(X, y)

    def crash(model):
        if len(model.history_["train_loss"]) == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        DBNClassifier(**params, checkpoint_dir=str(tmp_path)).fit(X, y, callback=crash)
    assert list_checkpoints(tmp_path / "finetune")[-1].name == "checkpoint-000004.safetensors"
    assert list_checkpoints(tmp_path / "layer-2")[-1].name == "checkpoint-000003.safetensors"
    resumed = DBNClassifier(**params, checkpoint_dir=str(tmp_path)).fit(X, y, resume=True)
    for a, b in zip(_params(full), _params(resumed), strict=True):
        assert torch.equal(a, b)
    assert full.history_["validation_loss"] == resumed.history_["validation_loss"]
    assert resumed.n_epochs_ == 7


def test_generative_dbn_resume_matches(tmp_path, digits):
    X, y = digits[0][:400], digits[1][:400]
    params = dict(hidden_layer_sizes=(32, 32, 64), pretrain_epochs=2, rbm_params=RBM,
                  finetune_epochs=5, gibbs_steps=(1, 2), batch_size=20, checkpoint_every=2,
                  random_state=1)
    full = DBN(**params).fit(X, y)

    def crash(model):
        if len(model.history_["seconds"]) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        DBN(**params, checkpoint_dir=str(tmp_path)).fit(X, y, callback=crash)
    assert list_checkpoints(tmp_path / "updown")[-1].name == "checkpoint-000002.safetensors"
    resumed = DBN(**params, checkpoint_dir=str(tmp_path)).fit(X, y, resume=True)
    assert torch.equal(full.top_.W, resumed.top_.W)
    for a, b in zip(full.layers_, resumed.layers_, strict=True):
        assert torch.equal(a.R, b.R) and torch.equal(a.G, b.G) and torch.equal(a.g, b.g)
    assert full.history_["reconstruction_error"] == resumed.history_["reconstruction_error"]
    assert resumed.n_epochs_ == 5


def _run_worker(out, ckpt, mode="resume"):
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK")}
    return subprocess.Popen([sys.executable, str(WORKER), str(out), str(ckpt), mode],
                            env=dict(env, OMP_NUM_THREADS="1"))


@pytest.mark.slow
def test_resume_after_sigkill_is_bit_identical(tmp_path):
    reference = tmp_path / "reference.safetensors"
    assert _run_worker(reference, tmp_path / "ref-ckpt").wait(timeout=300) == 0

    ckpt, out = tmp_path / "ckpt", tmp_path / "resumed.safetensors"
    proc = _run_worker(out, ckpt)
    deadline = time.time() + 240

    def epochs_saved():
        found = list_checkpoints(ckpt / "finetune")
        return int(found[-1].stem.split("-")[1]) if found else 0

    while epochs_saved() < 2:
        assert proc.poll() is None and time.time() < deadline, "worker ended before epoch 2"
        time.sleep(0.02)
    time.sleep(0.1)  # into the next epoch
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    assert not out.exists()
    assert 2 <= epochs_saved() < 6

    assert _run_worker(out, ckpt).wait(timeout=300) == 0
    a, b = deepbelief.load(reference), deepbelief.load(out)
    for pa, pb in zip(_params(a), _params(b), strict=True):
        assert torch.equal(pa, pb)
    assert a.history_["validation_loss"] == b.history_["validation_loss"]
    assert b.n_epochs_ == 6


@pytest.mark.slow
@pytest.mark.skipif(not torch.distributed.is_available(), reason="no torch.distributed")
def test_two_processes_match_one(tmp_path):
    single, double = tmp_path / "one.safetensors", tmp_path / "two.safetensors"
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK")}
    env["OMP_NUM_THREADS"] = "1"
    subprocess.run([sys.executable, str(WORKER), str(single), "-", "mean-field"], check=True,
                   env=env, timeout=300)
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                    "--nproc_per_node", "2", str(WORKER), str(double), "-", "mean-field"],
                   check=True, env=env, timeout=300)
    a, b = deepbelief.load(single), deepbelief.load(double)
    for pa, pb in zip(_params(a), _params(b), strict=True):
        torch.testing.assert_close(pa, pb, atol=1e-5, rtol=0)
    np.testing.assert_allclose(a.history_["train_loss"], b.history_["train_loss"], rtol=1e-5)
