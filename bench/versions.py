"""The library's main paths timed under two source trees in one run: PT, AIS, both DBNs.

Each workload runs in a fresh process with 2 threads, first under this tree's
``src`` and then under ``--baseline SRC`` (e.g. an older checkout's ``src``),
``--repeat`` times in alternation; the medians and their ratio are printed. It
uses only spellings both trees accept (``n_temperatures=5`` still chooses
parallel tempering, with a warning, where ``sampler="pt"`` is the spelling).
A CD-1 epoch is ``bench/rbm_epoch.py --baseline SRC``. Usage::

    python bench/versions.py --baseline ../old/src [--repeat 3] [--data-dir ../shared/data/mnist]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve()


def _mnist(data_dir: str, n: int):
    from deepbelief.datasets import load_mnist

    X, _ = load_mnist("train", data_dir=data_dir, binarize="threshold")
    return X[:n]


def pt_epoch(data_dir: str) -> float:
    """One epoch of 10,000 MNIST images, 784-500, parallel tempering at 5 temperatures."""
    import torch

    from deepbelief import BernoulliRBM

    X = torch.from_numpy(_mnist(data_dir, 10000))
    rbm = BernoulliRBM(500, n_temperatures=5, min_beta=0.8, n_iter=1, random_state=0)
    rbm.partial_fit(X[:100])
    start = time.perf_counter()
    rbm.train_epoch(X)
    return time.perf_counter() - start


def ais(data_dir: str) -> float:
    """AIS log Z of a 784-500 RBM: 100 runs, 2,000 inverse temperatures."""
    import numpy as np

    from deepbelief import BernoulliRBM
    from deepbelief.partition import ais_log_partition

    X = _mnist(data_dir, 2000)
    rbm = BernoulliRBM(500, n_iter=1, random_state=0).fit(X)
    start = time.perf_counter()
    ais_log_partition(rbm, n_runs=100, betas=np.linspace(0.0, 1.0, 2000), data=X, seed=0)
    return time.perf_counter() - start


def _digits():
    from deepbelief.datasets import load_digits

    return load_digits()


def dbn(data_dir: str) -> float:
    """DBN((64, 64)) on the 1,797 digits: 20 pre-training epochs a layer, 20 of up-down."""
    from deepbelief import DBN

    X, y = _digits()
    start = time.perf_counter()
    DBN((64, 64), pretrain_epochs=20, finetune_epochs=20, random_state=0).fit(X, y)
    return time.perf_counter() - start


def dbn_classifier(data_dir: str) -> float:
    """DBNClassifier((64, 64)) on the 1,797 digits: 5 pre-training epochs a layer, 10 backprop."""
    from deepbelief import DBNClassifier

    X, y = _digits()
    start = time.perf_counter()
    DBNClassifier((64, 64), pretrain_epochs=5, finetune_epochs=10, random_state=0).fit(X, y)
    return time.perf_counter() - start


WORKLOADS = {"pt": pt_epoch, "ais": ais, "dbn": dbn, "dbn-classifier": dbn_classifier}


def _child(name: str, data_dir: str, threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    warnings.simplefilter("ignore", FutureWarning)
    print(json.dumps({"seconds": WORKLOADS[name](data_dir)}))


def _run(name: str, src: str, args: argparse.Namespace) -> float:
    env = dict(os.environ, PYTHONPATH=src, OMP_NUM_THREADS=str(args.threads),
               OPENBLAS_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    cmd = [sys.executable, str(HERE), "--child", name, "--data-dir", args.data_dir,
           "--threads", str(args.threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{name} under {src} failed: {proc.stderr.strip()[-500:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=False, help="source tree to compare with")
    parser.add_argument("--data-dir", default=str(HERE.parents[2] / "shared/data/mnist"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=list(WORKLOADS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.data_dir, args.threads)
        return
    trees = {"this tree": str(HERE.parents[1] / "src")}
    if args.baseline:
        trees["baseline"] = args.baseline
    for name in args.only:
        times = {label: [] for label in trees}
        for _ in range(args.repeat):
            for label, src in trees.items():
                times[label].append(_run(name, src, args))
        medians = {label: statistics.median(t) for label, t in times.items()}
        line = "  ".join(f"{label} {m:7.2f} s" for label, m in medians.items())
        ratio = (f"  this / baseline {medians['this tree'] / medians['baseline']:.3f}"
                 if args.baseline else "")
        print(f"{name:>15}: {line}{ratio}   (runs: {json.dumps(times)})", flush=True)


if __name__ == "__main__":
    main()
