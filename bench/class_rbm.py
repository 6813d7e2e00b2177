"""The classification RBM on MNIST: the three settings of Larochelle & Bengio (2008).

Trains ``ClassRBM`` on 50,000 training images, keeps the epoch of lowest error on
the other 10,000 (the paper's validation split), and reports that epoch's test
error and the wall time. The paper's figures: discriminative 1.81% (500 hidden
units), generative 3.39% (6,000), hybrid 1.28% (1,500, generative weight 0.01).
The learning rates below are this library's (the rate is plain SGD on batch means
for the discriminative term, falling as lr / (1 + 3t/T) over T epochs).

    python bench/class_rbm.py [--settings discriminative hybrid generative]
        [--epochs 30] [--minutes 60] [--threads 2] [--seed 0] [--data-dir DIR] [--rows N]
        [--out bench/models] [--average-last 0.3] [--set alpha=0.05 sparsity=1e-4 ...]

``--average-last F`` also scores the mean of the parameters after each of the last
F of the epochs (``class_rbm_<setting>.averaged.safetensors``).

``--set KEY=VALUE`` overrides a ``ClassRBM`` keyword of every chosen setting
(values read as JSON numbers or strings), for trying others on the validation split.

Each best model is saved as ``<out>/class_rbm_<setting>.safetensors``; re-score
one with ``python bench/class_rbm.py --score <file>``.

``--semi-supervised 100`` instead trains ``ClassRBM()`` (the defaults) on 100
labelled images per class drawn from the 50,000, once on those alone and once
with the other images as ``X_unlabeled``, and reports both test errors
(``class_rbm_labelled.safetensors``, ``class_rbm_semi.safetensors``);
``--defaults`` trains ``ClassRBM(random_state=SEED)`` on all 60,000 training images
(``class_rbm_default.safetensors``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

import deepbelief
from deepbelief import ClassRBM
from deepbelief.averaging import ParameterAverage
from deepbelief.datasets import load_mnist

HERE = Path(__file__).resolve()
DATA_DIR = str(HERE.parents[2] / "shared/data/mnist")
SETTINGS = {
    "discriminative": dict(n_components=500, objective="discriminative"),
    "hybrid": dict(n_components=1500, objective="hybrid", alpha=0.01),
    "generative": dict(n_components=6000, objective="generative", learning_rate=0.01),
}


class OutOfTime(Exception):
    """Raised by :class:`Best` to end training at the time budget."""


class Best:
    """An epoch callback: validation error each epoch, the best model kept in memory,
    training ended (by :class:`OutOfTime`) once ``seconds`` have passed."""

    def __init__(self, X_val, y_val, seconds: float) -> None:
        self.X_val, self.y_val, self.deadline = X_val, y_val, time.perf_counter() + seconds
        self.errors: list[float] = []
        self.state: dict | None = None

    def __call__(self, model: ClassRBM) -> None:
        self.errors.append(1.0 - model.score(self.X_val, self.y_val))
        print(f"epoch {model.n_epochs_}: validation {100 * self.errors[-1]:.2f}%, "
              f"{sum(model.history_['seconds']):.0f} s", flush=True)
        if self.errors[-1] == min(self.errors):
            self.state = {k: v.clone() for k, v in model.model_.state_dict().items()}
        if time.perf_counter() > self.deadline:
            raise OutOfTime


def run(name: str, args, data) -> None:
    X, y, X_val, y_val, X_test, y_test = data
    settings = {**SETTINGS[name], **args.set}
    print(f"{name}: ClassRBM({settings})", flush=True)
    model = ClassRBM(n_iter=args.epochs, random_state=args.seed, **settings)
    best = Best(X_val, y_val, 60 * args.minutes)
    average = None
    if args.average_last:
        average = ParameterAverage(args.epochs - int(round(args.average_last * args.epochs)) + 1)
    start = time.perf_counter()
    try:
        model.fit(X, y, callback=best if average is None else
                  lambda m: (average(m), best(m)))
    except OutOfTime:
        pass
    seconds = time.perf_counter() - start
    model.model_.load_state_dict(best.state)
    epoch = int(np.argmin(best.errors)) + 1
    error = 1.0 - model.score(X_test, y_test)
    print(f"{name:15s} best epoch {epoch} of {len(best.errors)}: validation "
          f"{100 * min(best.errors):.2f}%, test {100 * error:.2f}% in {seconds:.0f} s",
          flush=True)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    model.save(Path(args.out) / f"class_rbm_{name}.safetensors")
    if average is not None and average.n_averaged_:
        averaged(name, model, average, args, data)


def averaged(name: str, model: ClassRBM, average: ParameterAverage, args, data) -> None:
    """The model holding the mean parameters: its errors printed, saved beside the best."""
    _, _, X_val, y_val, X_test, y_test = data
    average.apply(model)
    errors = [100 * (1.0 - model.score(X, y)) for X, y in ((X_val, y_val), (X_test, y_test))]
    print(f"{name:15s} mean of epochs {average.start}-{average.last_epoch_}: "
          f"validation {errors[0]:.2f}%, test {errors[1]:.2f}%", flush=True)
    model.save(Path(args.out) / f"class_rbm_{name}.averaged.safetensors")


def few_labels(y: np.ndarray, per_class: int, seed: int = 0) -> np.ndarray:
    """A boolean mask of ``per_class`` rows of each label, drawn at random."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        mask[rng.choice(np.flatnonzero(y == label), per_class, replace=False)] = True
    return mask


def fit_and_report(args, name: str, what: str, X, y, X_test, y_test, **fit) -> None:
    """``ClassRBM(random_state=args.seed)`` fitted, its test error and fit time printed,
    saved as ``<out>/class_rbm_<name>.safetensors``."""
    model = ClassRBM(random_state=args.seed)
    start = time.perf_counter()
    model.fit(X, y, **fit)
    seconds = time.perf_counter() - start
    error = 1.0 - model.score(X_test, y_test)
    print(f"{what}: {model.n_epochs_} epochs, test {100 * error:.2f}% in {seconds:.0f} s",
          flush=True)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    model.save(Path(args.out) / f"class_rbm_{name}.safetensors")


def semi_supervised(args, data) -> None:
    X, y, _, _, X_test, y_test = data
    mask = few_labels(y, args.semi_supervised)
    fit_and_report(args, "labelled", f"{mask.sum()} labelled alone", X[mask], y[mask],
                   X_test, y_test)
    fit_and_report(args, "semi", f"{mask.sum()} labelled + {(~mask).sum()} unlabelled",
                   X[mask], y[mask], X_test, y_test, X_unlabeled=X[~mask])


def defaults(args) -> None:
    """``ClassRBM(random_state=seed)`` on all 60,000 training images, no validation split."""
    X, y = load_mnist("train", data_dir=args.data_dir)
    X_test, y_test = load_mnist("test", data_dir=args.data_dir)
    n = args.rows if args.rows < 50_000 else len(X)  # --rows shrinks it for a smoke test
    fit_and_report(args, "default", "ClassRBM()", X[:n], y[:n], X_test, y_test)


def load(args):
    X, y = load_mnist("train", data_dir=args.data_dir)
    X_test, y_test = load_mnist("test", data_dir=args.data_dir)
    n = min(args.rows, 50_000)
    return X[:n], y[:n], X[50_000:], y[50_000:], X_test, y_test


def keyword(item: str) -> tuple[str, object]:
    """``KEY=VALUE`` as a keyword: the value read as JSON, else kept as a string."""
    key, sep, value = item.partition("=")
    if not sep:
        raise SystemExit(f"--set takes KEY=VALUE, got {item!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS))
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="the models' random_state")
    parser.add_argument("--rows", type=int, default=50_000, help="training rows (<= 50,000)")
    parser.add_argument("--data-dir", default=DATA_DIR)
    parser.add_argument("--out", default=str(HERE.parent / "models"))
    parser.add_argument("--score", help="re-score a saved model on the test images")
    parser.add_argument("--defaults", action="store_true",
                        help="ClassRBM() on all 60,000 training images")
    parser.add_argument("--semi-supervised", type=int, metavar="PER_CLASS",
                        help="labelled images per class; the others unlabelled")
    parser.add_argument("--average-last", type=float, default=0.0, metavar="F",
                        help="also score the mean parameters of the last F of the epochs")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE",
                        help="override ClassRBM keywords of the chosen settings")
    args = parser.parse_args()
    args.set = dict(keyword(item) for item in args.set)
    torch.set_num_threads(args.threads)
    if args.score:
        X_test, y_test = load_mnist("test", data_dir=args.data_dir)
        error = 1.0 - deepbelief.load(args.score).score(X_test, y_test)
        print(f"{args.score}: test error {100 * error:.2f}%")
        return
    if args.defaults:
        defaults(args)
        return
    data = load(args)
    if args.semi_supervised:
        semi_supervised(args, data)
        return
    for name in args.settings:
        run(name, args, data)


if __name__ == "__main__":
    main()
