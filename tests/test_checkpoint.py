"""Checkpoints: atomic, resumable, and bit-identical after a crash."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import clone

import deepbelief
from deepbelief import BernoulliRBM
from deepbelief.checkpoint import list_checkpoints, load_latest, save_checkpoint

WORKER = Path(__file__).with_name("rbm_worker.py")


def _run_worker(out, ckpt, mode="resume"):
    return subprocess.Popen([sys.executable, str(WORKER), str(out), str(ckpt), mode])


@pytest.mark.slow
def test_resume_after_sigkill_is_bit_identical(tmp_path):
    reference = tmp_path / "reference.safetensors"
    assert _run_worker(reference, tmp_path / "ref-ckpt").wait(timeout=300) == 0

    ckpt, out = tmp_path / "ckpt", tmp_path / "resumed.safetensors"
    proc = _run_worker(out, ckpt)
    deadline = time.time() + 240
    while len(list_checkpoints(ckpt)) < 1 or list_checkpoints(ckpt)[-1].name < "checkpoint-000002":
        assert proc.poll() is None and time.time() < deadline, "worker ended before epoch 2"
        time.sleep(0.02)
    time.sleep(0.1)  # into the next epoch
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    assert not out.exists()
    epochs_done = int(list_checkpoints(ckpt)[-1].stem.split("-")[1])
    assert 2 <= epochs_done < 6

    assert _run_worker(out, ckpt).wait(timeout=300) == 0
    a, b = deepbelief.load(reference), deepbelief.load(out)
    assert torch.equal(a.W_, b.W_) and torch.equal(a.b_, b.b_) and torch.equal(a.c_, b.c_)
    assert a.history_["reconstruction_error"] == b.history_["reconstruction_error"]
    assert b.n_epochs_ == 6


@pytest.mark.parametrize("sampler", [dict(sampler="pcd"), dict(sampler="pcd", centering=0.05),
                                     dict(sampler="pt", n_temperatures=4),
                                     dict(sampler="fpcd", fast_learning_rate=0.05)])
def test_in_process_resume_matches(tmp_path, digits, sampler):
    X = digits[0][:300]
    params = dict(n_components=16, batch_size=25, random_state=4,
                  checkpoint_dir=str(tmp_path), **sampler)
    full = BernoulliRBM(n_iter=5, **{**params, "checkpoint_dir": None}).fit(X)
    BernoulliRBM(n_iter=3, **params).fit(X)
    resumed = BernoulliRBM(n_iter=5, **params).fit(X, resume=True)
    assert torch.equal(full.W_, resumed.W_) and torch.equal(full.b_, resumed.b_)
    assert resumed.n_epochs_ == 5


def test_only_newest_checkpoints_kept_and_corrupt_one_skipped(tmp_path):
    for epoch in range(1, 5):
        save_checkpoint(tmp_path, epoch, {"x": torch.full((2,), float(epoch)), "n": epoch})
    names = [p.name for p in list_checkpoints(tmp_path)]
    assert names == ["checkpoint-000003.safetensors", "checkpoint-000004.safetensors"]
    newest = list_checkpoints(tmp_path)[-1]
    newest.write_bytes(newest.read_bytes()[:10])
    state = load_latest(tmp_path)
    assert state["n"] == 3 and state["x"][0] == 3
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]


def test_resume_refuses_other_shapes(tmp_path, digits):
    X = digits[0][:100]
    BernoulliRBM(8, n_iter=1, checkpoint_dir=str(tmp_path), random_state=0).fit(X)
    with pytest.raises(ValueError, match="shape"):
        BernoulliRBM(9, n_iter=2, checkpoint_dir=str(tmp_path)).fit(X, resume=True)


def test_iterables_of_minibatches(digits):
    X = digits[0][:400]
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(X), torch.zeros(len(X))),
        batch_size=50, shuffle=False)
    rbm = BernoulliRBM(16, n_iter=2, random_state=0).fit(loader)
    assert rbm.n_epochs_ == 2 and rbm.components_.shape == (16, 64)
    class Batches:  # re-iterable
        def __iter__(self):
            return iter(np.array_split(X, 8))

    one_shot = BernoulliRBM(16, n_iter=1, random_state=0).fit(iter(np.array_split(X, 8)))
    reiterable = BernoulliRBM(16, n_iter=1, random_state=0).fit(Batches())
    np.testing.assert_array_equal(one_shot.components_, reiterable.components_)
    with pytest.raises(ValueError, match="one-shot"):
        BernoulliRBM(16, n_iter=2).fit(iter(np.array_split(X, 8)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        BernoulliRBM(16, n_iter=1).fit([X[:10] * 3, X[10:20]].__iter__())


@pytest.mark.slow
@pytest.mark.skipif(not torch.distributed.is_available(), reason="no torch.distributed")
@pytest.mark.parametrize("mode", ["mean-field", "sampled"])
def test_two_processes_match_one(tmp_path, mode):
    single, double = tmp_path / "one.safetensors", tmp_path / "two.safetensors"
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK")}
    subprocess.run([sys.executable, str(WORKER), str(single), "-", mode], check=True, env=env)
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                    "--nproc_per_node", "2", str(WORKER), str(double), "-", mode],
                   check=True, env=dict(env, OMP_NUM_THREADS="1"), timeout=300)
    a, b = deepbelief.load(single), deepbelief.load(double)
    if mode == "mean-field":
        torch.testing.assert_close(a.W_, b.W_, atol=1e-5, rtol=0)
        torch.testing.assert_close(a.c_, b.c_, atol=1e-5, rtol=0)
    else:
        ra = a.history_["reconstruction_error"][-1]
        rb = b.history_["reconstruction_error"][-1]
        assert abs(ra - rb) / ra < 0.05, (ra, rb)


def test_nested_state_round_trips_with_an_optimiser(tmp_path):
    net = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    net(torch.ones(4, 3)).sum().backward()
    opt.step()
    state = {"net": net.state_dict(), "optimizer": opt.state_dict(), "epoch": 3,
             "history": {"loss": [0.5, 0.25]}, "best": None}
    old = os.umask(0o027)
    try:
        path = save_checkpoint(tmp_path, 3, state)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o640
    back = load_latest(tmp_path)
    assert back["epoch"] == 3 and back["history"] == {"loss": [0.5, 0.25]} and back["best"] is None
    fresh = torch.optim.Adam(torch.nn.Linear(3, 2).parameters(), lr=0.5)
    fresh.load_state_dict(back["optimizer"])
    assert fresh.param_groups[0]["lr"] == 0.01
    assert torch.equal(fresh.state_dict()["state"][0]["exp_avg"],
                       opt.state_dict()["state"][0]["exp_avg"])


def test_checkpoints_of_an_older_version_are_refused_clearly(tmp_path):
    from safetensors.torch import save_file

    save_file({"W": torch.zeros(2, 2)}, str(tmp_path / "checkpoint-000001.safetensors"),
              metadata={"format": "deepbelief-checkpoint", "state": json.dumps({"n": 1})})
    with pytest.raises(ValueError, match="older version"):
        load_latest(tmp_path)


def _estimators(tmp_path):
    small = dict(random_state=0, checkpoint_dir=str(tmp_path))
    return [
        (BernoulliRBM(8, n_iter=6, **small), BernoulliRBM(8, n_iter=2, **small)),
        (deepbelief.ClassRBM(8, n_iter=6, **small), deepbelief.ClassRBM(8, n_iter=2, **small)),
        (deepbelief.DBM((8, 4), pretrain_epochs=2, n_iter=6, **small),
         deepbelief.DBM((8, 4), pretrain_epochs=1, n_iter=2, **small)),
        (deepbelief.DBN((8, 4), pretrain_epochs=3, finetune_epochs=4, **small),
         deepbelief.DBN((8, 4), pretrain_epochs=1, finetune_epochs=2, **small)),
        (deepbelief.DBNClassifier((8, 4), pretrain_epochs=3, finetune_epochs=4, **small),
         deepbelief.DBNClassifier((8, 4), pretrain_epochs=1, finetune_epochs=2, **small)),
    ]


@pytest.mark.parametrize("index", range(5))
def test_fresh_fit_replaces_an_earlier_runs_checkpoints(tmp_path, digits, index):
    """A fresh fit in a directory holding a longer run's checkpoints resumes as itself:
    the older, higher-numbered files neither prune the new ones nor win the resume."""
    X, y = digits[0][:120], digits[1][:120]
    longer, shorter = _estimators(tmp_path)[index]
    longer.fit(X, y)
    shorter.fit(X, y)
    everything = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("checkpoint-*"))
    resumed = clone(shorter).fit(X, y, resume=True)
    assert all(int(p.stem.split("-")[1]) <= 2 for p in everything), everything
    np.testing.assert_array_equal(shorter.transform(X), resumed.transform(X))
