"""The generative DBN of Hinton, Osindero & Teh (2006) under the paper's protocol.

784-500-500-2000 with the 10 label units joined to the top RBM, trained on
44,000 MNIST training images (4,400 of each digit) in minibatches balanced over
the classes (10 of each digit), a balanced 10,000 of the other training images
for validation, and the 10,000 test images. It reports the validation and test
error after greedy pre-training alone and after every up-down epoch; with
``--final`` the net then goes on with up-down on all 60,000 training images.

The paper: 2.49% after pre-training alone (30 epochs per layer), 1.39% after
300 up-down epochs (100 each with 3, 6, then 10 top-level Gibbs steps), 1.25%
after 59 more epochs on all 60,000 images. Usage::

    python bench/dbn_paper.py [--pretrain-epochs 30] [--updown-epochs 300]
        [--gibbs-steps 3 6 10] [--minutes 75] [--final 59] [--learning-rate 0.01]
        [--top-learning-rate 0.05 --top-momentum 0.5 --top-weight-decay 2e-4]
        [--checkpoint-dir D [--resume]] [--plot-dir D] [--device cuda]
        [--matmul-precision medium] [--model-out FILE] [--score FILE]

Up-down trains the directed layers with plain steps of ``--learning-rate`` and
the top RBM with its pre-training settings (learning rate 0.05, momentum 0.5,
weight decay 2e-4), chosen on the validation set as the paper chose its own.
``--minutes`` caps the up-down wall time on 44k images (the schedule's stages
are then cut short). Checkpoints are written every epoch of every stage and
``--resume`` continues a run, so the whole schedule can run across sittings
(wall times then count the present sitting only). ``--matmul-precision medium``
runs under ``torch.set_float32_matmul_precision("medium")``: float32 matrix
products from bfloat16 operands where the CPU has the instructions for them
(parameters, sums and everything else stay float32). ``--model-out FILE`` saves
the final net (safetensors); ``--score FILE`` loads a saved net and prints its
validation and test error, training nothing.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from deepbelief import DBN, load
from deepbelief.datasets import BalancedBatchSampler, balanced_split, load_mnist

DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist"
LAYERS = (500, 500, 2000)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=str(DATA_DIR.resolve()))
    p.add_argument("--pretrain-epochs", type=int, default=30, help="CD epochs per layer")
    p.add_argument("--updown-epochs", type=int, default=300)
    p.add_argument("--gibbs-steps", type=int, nargs="+", default=[3, 6, 10])
    p.add_argument("--learning-rate", type=float, default=None, help="up-down step size")
    p.add_argument("--top-learning-rate", type=float, default=0.05,
                   help="the top RBM's up-down step size (its pre-training one)")
    p.add_argument("--top-momentum", type=float, default=0.5)
    p.add_argument("--top-weight-decay", type=float, default=2e-4)
    p.add_argument("--minutes", type=float, default=None, help="up-down time budget")
    p.add_argument("--final", type=int, default=0,
                   help="up-down epochs on all 60k images after the 44k run")
    p.add_argument("--checkpoint-dir", default=None)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--plot-dir", default=None, help="write the paper's figures there")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--matmul-precision", choices=("highest", "high", "medium"),
                   default="highest")
    p.add_argument("--model-out", default=None, help="save the final net here")
    p.add_argument("--score", default=None, help="a saved net to score instead of training")
    return p.parse_args()


def balanced_loader(X: np.ndarray, y: np.ndarray, seed: int) -> DataLoader:
    """(x, y) minibatches of 10 images of each digit, reshuffled every pass."""
    data = TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
    # batch_size=None: the dataset is indexed once per minibatch, not once per image.
    return DataLoader(data, sampler=BalancedBatchSampler(y, 10, seed=seed), batch_size=None)


def error(model: DBN, X: torch.Tensor, y: np.ndarray) -> float:
    return 100.0 * (1.0 - model.score(X, y))


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.set_float32_matmul_precision(args.matmul_precision)
    X_all, y_all = load_mnist("train", data_dir=args.data_dir)
    X_test, y_test = load_mnist("test", data_dir=args.data_dir)
    train, rest = balanced_split(y_all, 4400, seed=args.seed)
    valid = rest[balanced_split(y_all[rest], 1000, seed=args.seed)[0]]
    assert not set(train) & set(valid)
    dev = args.device
    X_valid, X_test_t = (torch.from_numpy(a).to(dev) for a in (X_all[valid], X_test))
    print(f"MNIST: {len(train)} training / {len(valid)} validation / {len(X_test)} test "
          f"images, 784-{'-'.join(map(str, LAYERS))} + 10 labels, balanced minibatches, "
          f"{torch.get_num_threads()} threads, {dev}, float32 matmul precision "
          f"{args.matmul_precision}", flush=True)

    if args.score:
        model = load(args.score, device=dev)
        print(f"{args.score}: validation {error(model, X_valid, y_all[valid]):.2f}%, "
              f"test {error(model, X_test_t, y_test):.2f}%")
        return
    start = time.perf_counter()
    budget = None if args.minutes is None else 60 * args.minutes

    def log(model: DBN) -> bool:
        n = len(model.history_["seconds"])
        elapsed = sum(model.history_["seconds"])
        print(f"  up-down epoch {n:3d}  {elapsed / 60:6.1f} min  validation "
              f"{error(model, X_valid, y_all[valid]):.2f}%  test "
              f"{error(model, X_test_t, y_test):.2f}%", flush=True)
        return budget is not None and elapsed > budget

    ckpt = args.checkpoint_dir
    model = DBN(LAYERS, pretrain_epochs=args.pretrain_epochs,
                finetune_epochs=args.updown_epochs, gibbs_steps=tuple(args.gibbs_steps),
                device=dev, checkpoint_dir=ckpt, random_state=args.seed, verbose=False,
                top_params={"learning_rate": args.top_learning_rate,
                            "momentum": args.top_momentum,
                            "weight_decay": args.top_weight_decay},
                **({} if args.learning_rate is None else {"learning_rate": args.learning_rate}))
    model.set_params(finetune_epochs=0)
    model.fit(balanced_loader(X_all[train], y_all[train], args.seed), classes=np.arange(10),
              resume=args.resume)
    pre = time.perf_counter() - start
    pre_test = error(model, X_test_t, y_test)
    print(f"pre-training alone ({args.pretrain_epochs} epochs per layer): "
          f"{pre / 60:.1f} min, validation {error(model, X_valid, y_all[valid]):.2f}%, "
          f"test {pre_test:.2f}%", flush=True)
    results = [("pre-training alone, 44k", pre_test, pre)]

    if args.updown_epochs:
        model.set_params(finetune_epochs=args.updown_epochs)
        model.fine_tune(balanced_loader(X_all[train], y_all[train], args.seed + 1),
                        callback=log, resume=args.resume, stage="updown-44k")
        results.append((f"+ up-down, 44k ({model.n_epochs_} epochs)",
                        error(model, X_test_t, y_test), time.perf_counter() - start))
    if args.final:
        model.set_params(finetune_epochs=args.final, gibbs_steps=args.gibbs_steps[-1])
        model.fine_tune(balanced_loader(X_all, y_all, args.seed + 2), callback=log,
                        resume=args.resume, stage="updown-60k")
        results.append((f"+ up-down, 60k ({args.final} epochs)",
                        error(model, X_test_t, y_test), time.perf_counter() - start))

    if args.model_out:
        model.save(args.model_out)
        print(f"wrote {args.model_out}")
    print("\nstage                                  test error   wall time")
    for name, err, seconds in results:
        print(f"{name:38s} {err:8.2f}%   {seconds / 60:6.1f} min")
    if args.plot_dir:
        from deepbelief.plot import plot_paper_figures

        for path in plot_paper_figures(model, X_test, y_test, args.plot_dir, seed=args.seed):
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
