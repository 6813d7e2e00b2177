"""CUDA check: the RBM epoch benchmark, AIS, and a short DBN pipeline on one GPU.

Sized for a 10-minute slot on one H100/H200. Prints each time next to the bare
GEMM floor measured on the same device in the same run. Usage::

    python bench/gpu_check.py [--data-dir ../shared/data/mnist] [--device cuda] [--quick]

``--quick`` shrinks everything (for trying the script on a CPU).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from rbm_epoch import cd1_gemms  # bench/ is on sys.path when run as a script

from deepbelief import BernoulliRBM
from deepbelief.datasets import load_mnist
from deepbelief.dbn import DBNClassifier
from deepbelief.partition import ais_log_partition, log_likelihood

HERE = Path(__file__).resolve()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn, device):
    _sync(device)
    start = time.perf_counter()
    out = fn()
    _sync(device)
    return time.perf_counter() - start, out


def gemm_floor(X: torch.Tensor, n_hidden: int, batch: int) -> float:
    """Seconds for the five GEMMs of CD-1 over X at this batch size (after a warm-up)."""
    run = cd1_gemms(X, n_hidden, batch)
    run()
    return _timed(run, X.device)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(HERE.parents[2] / "shared/data/mnist"))
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    device = torch.device(args.device)
    n_train = 6000 if args.quick else 60000
    X, y = load_mnist("train", data_dir=args.data_dir, binarize="stochastic")
    Xt, yt = load_mnist("test", data_dir=args.data_dir, binarize="stochastic")
    X, y = X[:n_train], y[:n_train]
    print(f"device: {torch.cuda.get_device_name(device) if device.type == 'cuda' else device}")

    Xd = torch.from_numpy(X).to(device)
    rbm = BernoulliRBM(500, batch_size=100, random_state=0, device=device)
    rbm.partial_fit(Xd[:100])
    rbm.train_epoch(Xd)  # warm-up
    ours, _ = _timed(lambda: rbm.train_epoch(Xd), device)
    floor = gemm_floor(Xd, 500, 100)
    print(f"RBM CD-1 epoch 784-500, batch 100, {len(X)} rows: {ours:.2f} s "
          f"({len(X) / ours:.0f} samples/s); bare GEMMs {floor:.2f} s; "
          f"ratio to floor {floor / ours:.2f}x")

    runs, n_betas = (20, 1000) if args.quick else (100, 14500)
    betas = torch.linspace(0, 1, n_betas).tolist() if args.quick else None
    secs, est = _timed(lambda: ais_log_partition(rbm, n_runs=runs, betas=betas, data=X,
                                                 seed=0), device)
    print(f"AIS {runs} runs x {n_betas} betas: {secs:.1f} s, log Z = {est.log_z:.2f}")
    ll = log_likelihood(rbm, Xt, log_z=est.log_z)
    print(f"test log-likelihood after 2 epochs: {ll:.2f} nats")

    layers = (100, 100, 200) if args.quick else (500, 500, 2000)
    clf = DBNClassifier(layers, pretrain_epochs=2 if args.quick else 10,
                        finetune_epochs=2 if args.quick else 30, device=device, random_state=0)
    secs, _ = _timed(lambda: clf.fit(X, y), device)
    err = 1.0 - clf.score(Xt, yt)
    print(f"DBN {'-'.join(map(str, (784, *layers)))}: fit {secs:.1f} s, test error {err:.2%}")


if __name__ == "__main__":
    main()
