"""The label-joint top RBM alone: its settings against the free-energy test error.

Trains the 784-500-500 stack once on the 60,000 MNIST training images (30
epochs per layer, learning rate 0.1, weight decay 2e-4), then the 510-2000 top
RBM on the penultimate probabilities and one-hot labels with the given CD
steps, learning rate and momentum, and prints the test and training error of
the paper's rule (lowest free energy) every few epochs. Usage::

    python bench/top_rbm.py --k 5 [--learning-rate 0.05] [--momentum 0.5] [--epochs 30]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from torch.nn.functional import one_hot

from deepbelief import BernoulliRBM
from deepbelief.datasets import load_mnist
from deepbelief.dbn._updown import free_energies, label_joint_units
from deepbelief.model import RBM
from deepbelief.samplers import CD
from deepbelief.training import CDTrainer

DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--learning-rate", type=float, default=0.05)
    p.add_argument("--momentum", type=float, default=0.5, help="after the first 5 epochs")
    p.add_argument("--weight-decay", type=float, default=2e-4)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--every", type=int, default=5)
    p.add_argument("--data-dir", default=str(DATA_DIR.resolve()))
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    X, y = (torch.from_numpy(a) for a in load_mnist("train", data_dir=args.data_dir))
    X_test, y_test = (torch.from_numpy(a) for a in load_mnist("test", data_dir=args.data_dir))
    for seed, size in enumerate((500, 500)):
        rbm = BernoulliRBM(size, learning_rate=0.1, weight_decay=2e-4, n_iter=30,
                           random_state=seed).fit(X)
        X, X_test = (torch.from_numpy(rbm.transform(a)) for a in (X, X_test))
    gen = torch.Generator().manual_seed(0)
    data = torch.cat([X, one_hot(y.long(), 10).to(X.dtype)], 1)
    top = RBM.initial(2000, data.mean(0), gen, label_joint_units(X.shape[1], 10))
    trainer = CDTrainer(top, CD(args.k))

    def error(pen: torch.Tensor, target: torch.Tensor) -> float:
        F = torch.cat([free_energies(top, chunk) for chunk in pen.split(2000)])
        return 100.0 * float((F.argmin(1) != target).float().mean())

    print(f"top RBM 510-2000, CD-{args.k}, learning rate {args.learning_rate}, momentum "
          f"0.5 then {args.momentum}, weight decay {args.weight_decay}", flush=True)
    start = time.perf_counter()
    for epoch in range(args.epochs):
        momentum = 0.5 if epoch < 5 else args.momentum
        for idx in torch.randperm(len(X), generator=gen).split(100):
            trainer.step(data[idx], args.learning_rate, momentum, args.weight_decay, gen)
        if (epoch + 1) % args.every == 0 or epoch + 1 == args.epochs:
            print(f"  epoch {epoch + 1:3d}  {time.perf_counter() - start:6.0f} s  test "
                  f"{error(X_test, y_test):.2f}%  train (first 10k) "
                  f"{error(X[:10000], y[:10000]):.2f}%", flush=True)


if __name__ == "__main__":
    main()
