"""A 784-500-500-2000 deep belief net on MNIST: test error and wall time.

Published test errors: 1.25% with up-down fine-tuning (Hinton, Osindero & Teh
2006), 1.2% with backprop fine-tuning (Hinton & Salakhutdinov 2006), 0.92% with
dropout fine-tuning (Srivastava et al. 2014). Usage::

    python bench/dbn_mnist.py [--finetune backprop|up-down] [--pretrain-epochs 10]
        [--finetune-epochs 40] [--minutes 30] [--schedule paper] [--data-dir D]

``--minutes`` caps the fine-tuning wall time (the run stops after the epoch
that crosses it). ``--schedule paper`` runs the paper's schedule (30 epochs per
layer, 300 up-down epochs with 3, 6 then 10 top-level Gibbs steps): GPU work.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from deepbelief.datasets import load_mnist
from deepbelief.dbn import DBN, DBNClassifier

DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist"
LAYERS = (500, 500, 2000)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=str(DATA_DIR.resolve()))
    p.add_argument("--finetune", choices=("backprop", "up-down"), default="backprop")
    p.add_argument("--pretrain-epochs", type=int, default=10)
    p.add_argument("--finetune-epochs", type=int, default=40)
    p.add_argument("--minutes", type=float, default=None, help="fine-tuning time budget")
    p.add_argument("--schedule", choices=("paper",), default=None)
    p.add_argument("--dropout", type=float, default=0.3)
    p.add_argument("--input-dropout", type=float, default=0.1)
    p.add_argument("--learning-rate", type=float, default=None)
    p.add_argument("--train-size", type=int, default=None, help="use the first N images")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def budget(minutes: float | None, log):
    """A fine-tuning callback that logs the test error and stops after ``minutes``."""
    start = None

    def callback(model) -> bool:
        nonlocal start
        if start is None:  # the first fine-tuning epoch has just ended
            start = time.perf_counter() - model.history_["seconds"][0]
        elapsed = time.perf_counter() - start
        log(model, elapsed)
        return minutes is not None and elapsed > 60 * minutes
    return callback


def make_model(args: argparse.Namespace):
    rbm = {"learning_rate": 0.1, "batch_size": 100, "weight_decay": 2e-4}
    common = {"pretrain_epochs": args.pretrain_epochs, "rbm_params": rbm,
              "device": args.device, "random_state": args.seed, "verbose": True}
    if args.finetune == "backprop":
        return DBNClassifier(LAYERS, finetune_epochs=args.finetune_epochs,
                             learning_rate=args.learning_rate or 1e-3,
                             learning_rate_schedule="cosine", dropout=args.dropout,
                             input_dropout=args.input_dropout, validation_fraction=0.0,
                             **common)
    steps = (3, 6, 10) if args.schedule == "paper" else 3
    common["rbm_params"] = None  # the DBN's own pre-training settings (CD-5 at the top)
    return DBN(LAYERS, finetune_epochs=args.finetune_epochs, gibbs_steps=steps,
               learning_rate=args.learning_rate or 0.01, **common)


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    if args.schedule == "paper":
        args.pretrain_epochs, args.finetune_epochs, args.minutes = 30, 300, None
    X, y = load_mnist("train", data_dir=args.data_dir)
    X_test, y_test = load_mnist("test", data_dir=args.data_dir)
    if args.train_size:
        X, y = X[:args.train_size], y[:args.train_size]
    print(f"MNIST {len(X)} train / {len(X_test)} test, 784-{'-'.join(map(str, LAYERS))}, "
          f"{args.finetune} fine-tuning, {torch.get_num_threads()} threads, {args.device}")
    X_test_t = torch.from_numpy(X_test).to(args.device)

    def log(model, elapsed: float) -> None:
        err = 1.0 - model.score(X_test_t, y_test)
        print(f"  fine-tuning epoch {len(model.history_['seconds']):3d}  "
              f"{elapsed / 60:5.1f} min  test error {100 * err:.2f}%", flush=True)

    model = make_model(args)
    model.fit(X, y, callback=budget(args.minutes, log))
    err = 1.0 - model.score(X_test_t, y_test)
    pre, fine = model.times_["pretrain"], model.times_["finetune"]
    print(f"pre-training  {args.pretrain_epochs} epochs/layer: {pre / 60:.1f} min")
    print(f"fine-tuning   {model.n_epochs_} epochs ({args.finetune}): {fine / 60:.1f} min")
    print(f"total {(pre + fine) / 60:.1f} min, test error {100 * err:.2f}%")


if __name__ == "__main__":
    main()
