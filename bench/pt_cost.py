"""The cost of one parallel-tempering update against PCD-1 updates, measured in the same run.

784-500 RBM, minibatches of 100 stochastically binarised MNIST images (the first
10,000), the best of three passes of 100 updates each. A PT update with N
temperatures runs N Gibbs steps (one batch for all temperatures) and one round of
swaps; it is compared with N PCD-1 updates. Usage::

    python bench/pt_cost.py [--temperatures 4 10] [--threads 2]
"""

from __future__ import annotations

import argparse
import time
from functools import partial
from pathlib import Path

import torch

from deepbelief.datasets import load_mnist
from deepbelief.model import RBM
from deepbelief.samplers import PCD, PT
from deepbelief.training import CDTrainer

DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist"


def seconds_per_update(X: torch.Tensor, gen: torch.Generator, make_sampler, reps: int = 3,
                       ) -> float:
    best = float("inf")
    for _ in range(reps):
        model = RBM.initial(500, X.mean(0), gen)
        cd = CDTrainer(model, make_sampler())
        cd.step(X[:100], 0.01, 0.0, 0.0, gen)  # chains started outside the timing
        start = time.perf_counter()
        for batch in X.split(100):
            cd.step(batch, 0.01, 0.0, 0.0, gen)
        best = min(best, time.perf_counter() - start)
    return best / (X.shape[0] // 100)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--temperatures", type=int, nargs="+", default=[4, 10])
    p.add_argument("--data-dir", default=str(DATA_DIR.resolve()))
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    X, _ = load_mnist("train", data_dir=args.data_dir, binarize="stochastic")
    X = torch.as_tensor(X[:10000])
    gen = torch.Generator().manual_seed(0)
    pcd = seconds_per_update(X, gen, PCD)
    print(f"PCD-1: {1e3 * pcd:.2f} ms per update")
    for n in args.temperatures:
        betas = torch.linspace(1.0, 0.5, n).tolist()
        pt = seconds_per_update(X, gen, partial(PT, betas=betas))
        print(f"PT, {n} temperatures: {1e3 * pt:.2f} ms per update = {pt / (n * pcd):.2f} x "
              f"{n} PCD-1 updates")


if __name__ == "__main__":
    main()
