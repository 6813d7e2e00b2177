"""One CD-1 epoch of a 784-500 RBM on binarised MNIST (60k, batch 100), against peers.

Each contender runs in its own process with 2 threads, in this same run:
deepbelief, scikit-learn's BernoulliRBM (n_iter=1), learnergy's RBM (if installed)
and the bare five GEMMs of CD-1 at batch 100 (the compute floor). Prints samples/s
and ratios. ``--baseline SRC`` runs deepbelief a second time from another source
tree (e.g. a checkout of the previous release's ``src``), to compare a change
before and after in one run. ``--matmul-precision medium`` times deepbelief (and
the baseline) a second time under ``torch.set_float32_matmul_precision("medium")``
(float32 matrix products computed from bfloat16 operands where the CPU has the
instructions for it), beside the same GEMMs at that precision; the other
contenders stay at full float32 precision. Usage::

    python bench/rbm_epoch.py [--data-dir ../shared/data/mnist] [--threads 2] [--repeat 2]
        [--baseline ../old/src] [--matmul-precision medium]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

N_HIDDEN, BATCH = 500, 100
HERE = Path(__file__).resolve()


def _data(data_dir: str):
    from deepbelief.datasets import load_mnist

    X, _ = load_mnist("train", data_dir=data_dir, binarize="threshold")
    return X


def run_deepbelief(X, n_hidden: int = N_HIDDEN, batch: int = BATCH) -> float:
    import torch

    from deepbelief import BernoulliRBM

    rbm = BernoulliRBM(n_hidden, n_iter=1, batch_size=batch, random_state=0)
    Xt = torch.from_numpy(X)
    rbm.partial_fit(Xt[:batch])  # initialise; the timed epoch below is a full one
    start = time.perf_counter()
    rbm.train_epoch(Xt)
    return time.perf_counter() - start


def run_sklearn(X, n_hidden: int = N_HIDDEN, batch: int = BATCH) -> float:
    from sklearn.neural_network import BernoulliRBM

    rbm = BernoulliRBM(n_hidden, n_iter=1, batch_size=batch, random_state=0)
    start = time.perf_counter()
    rbm.fit(X)
    return time.perf_counter() - start


def run_learnergy(X, n_hidden: int = N_HIDDEN, batch: int = BATCH) -> float:
    import torch
    from learnergy.models.bernoulli import RBM
    from torch.utils.data import TensorDataset

    data = TensorDataset(torch.from_numpy(X), torch.zeros(len(X)))
    rbm = RBM(n_visible=X.shape[1], n_hidden=n_hidden, steps=1, learning_rate=0.1)
    start = time.perf_counter()
    rbm.fit(data, batch_size=batch, epochs=1)
    return time.perf_counter() - start


def cd1_gemms(X, n_hidden: int = N_HIDDEN, batch: int = BATCH):
    """A function running the five GEMMs of CD-1 over the tensor X, nothing else.

    The compute floor of a CD-1 epoch, on whatever device X lives.
    """
    import torch

    W = torch.randn(n_hidden, X.shape[1], device=X.device) * 0.01
    h = torch.empty(batch, n_hidden, device=X.device)
    v = torch.empty(batch, X.shape[1], device=X.device)
    dW = torch.empty_like(W)

    def run() -> None:
        for i in range(0, len(X) - batch + 1, batch):
            v0 = X[i:i + batch]
            torch.mm(v0, W.T, out=h)
            torch.mm(h, W, out=v)
            torch.mm(v, W.T, out=h)
            torch.mm(h.T, v0, out=dW)
            dW.addmm_(h.T, v, alpha=-1.0)

    return run


def run_gemm(X, n_hidden: int = N_HIDDEN, batch: int = BATCH) -> float:
    import torch

    run = cd1_gemms(torch.from_numpy(X), n_hidden, batch)
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


CONTENDERS = {"deepbelief": run_deepbelief, "scikit-learn": run_sklearn,
              "learnergy": run_learnergy, "bare GEMMs": run_gemm}


def thread_env(threads: int) -> dict[str, str]:
    """This process's environment with the native libraries held to ``threads`` threads."""
    return dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
                MKL_NUM_THREADS=str(threads))


def _child(name: str, data_dir: str, threads: int, repeat: int, precision: str) -> None:
    import torch

    torch.set_num_threads(threads)
    torch.set_float32_matmul_precision(precision)
    X = _data(data_dir)
    times = [CONTENDERS[name](X) for _ in range(repeat)]
    print(json.dumps({"n": len(X), "seconds": min(times)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(HERE.parents[2] / "shared/data/mnist"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--only", nargs="*", default=list(CONTENDERS))
    parser.add_argument("--baseline", default=None,
                        help="source tree of another deepbelief to time as well")
    parser.add_argument("--matmul-precision", choices=("high", "medium"), default=None,
                        help="also time deepbelief and the GEMMs at this float32 matmul "
                             "precision")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--precision", default="highest", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.data_dir, args.threads, args.repeat, args.precision)
        return
    env = thread_env(args.threads)
    runs = [(name, name, env, "highest") for name in args.only]
    if args.baseline:
        runs.append(("baseline", "deepbelief", dict(env, PYTHONPATH=args.baseline), "highest"))
    if args.matmul_precision:
        runs += [(f"{label} ({args.matmul_precision})", name, run_env, args.matmul_precision)
                 for label, name, run_env, _ in list(runs)
                 if name in ("deepbelief", "bare GEMMs")]
    rates = {}
    for label, name, run_env, precision in runs:
        cmd = [sys.executable, str(HERE), "--child", name, "--data-dir", args.data_dir,
               "--threads", str(args.threads), "--repeat", str(args.repeat),
               "--precision", precision]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=run_env)
        if proc.returncode != 0:
            print(f"{label:>24}: failed ({proc.stderr.strip().splitlines()[-1:]})")
            continue
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        rates[label] = res["n"] / res["seconds"]
        print(f"{label:>24}: {rates[label]:9.0f} samples/s  ({res['seconds']:.2f} s per epoch)")
    for ours in [label for label in rates if label.startswith("deepbelief")]:
        for name, rate in rates.items():
            if not name.startswith("deepbelief"):
                print(f"{ours} / {name}: {rates[ours] / rate:.2f}x")


if __name__ == "__main__":
    main()
