"""The estimators with no hyperparameters, on the digits and on MNIST.

Digits: scikit-learn's 8x8 set scaled to [0, 1], a stratified 2/3 - 1/3 split
(random_state=0), beside scikit-learn's LogisticRegression and MLPClassifier
with their defaults, trained in the same run; the generative DBN's samples
of each label are judged by the logistic regression. MNIST: the 60,000
training and 10,000 test images. ``--demo`` also times ``deepbelief demo``.

Times are printed in seconds and as multiples of the bare-GEMM CD-1 epoch
(``bench/rbm_epoch.py``'s floor: 784-500, batch 100, 60k images), measured
first in the same run, so machines of different speeds compare.
``--matmul-precision medium`` fits the estimators under
``torch.set_float32_matmul_precision("medium")`` (the floor and the demo stay at
full float32 precision). Usage::

    python bench/defaults.py [--data digits mnist] [--models classifier dbn] [--demo]
        [--matmul-precision medium]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import rbm_epoch  # bench/ is on sys.path when run as a script
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from deepbelief import DBN, DBNClassifier
from deepbelief.datasets import load_digits, load_mnist

DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist"


def timed_fit(model, X, y):
    start = time.perf_counter()
    model.fit(X, y)
    return model, time.perf_counter() - start


def gemm_floor(data_dir: str, repeat: int = 3) -> float:
    """The fastest of ``repeat`` bare-GEMM CD-1 epochs (seconds)."""
    X = rbm_epoch._data(data_dir)
    return min(rbm_epoch.run_gemm(X) for _ in range(repeat))


def time_demo(threads: int) -> float:
    """Wall seconds of ``deepbelief demo`` in a fresh process (pictures in a temporary folder)."""
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "deepbelief", "demo", "--out-dir", out],
                       check=True, stdout=subprocess.DEVNULL, env=rbm_epoch.thread_env(threads))
        return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", nargs="+", choices=("digits", "mnist"), default=["digits", "mnist"])
    p.add_argument("--models", nargs="+", choices=("classifier", "dbn"),
                   default=["classifier", "dbn"])
    p.add_argument("--data-dir", default=str(DATA_DIR.resolve()))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--demo", action="store_true", help="time `deepbelief demo` as well")
    p.add_argument("--matmul-precision", choices=("highest", "high", "medium"),
                   default="highest", help="torch.set_float32_matmul_precision for the fits "
                                           "(the floor and the demo stay at full precision)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    floor = gemm_floor(args.data_dir)
    print(f"bare-GEMM CD-1 epoch (the floor): {floor:.2f} s", flush=True)
    torch.set_float32_matmul_precision(args.matmul_precision)
    if args.demo:
        seconds = time_demo(args.threads)
        print(f"deepbelief demo: {seconds:.1f} s = {seconds / floor:.0f}x the floor", flush=True)
    for name in args.data:
        if name == "digits":
            X, y = load_digits()
            X, X_test, y, y_test = train_test_split(X, y, test_size=1 / 3, stratify=y,
                                                    random_state=0)
        else:
            X, y = load_mnist("train", data_dir=args.data_dir)
            X_test, y_test = load_mnist("test", data_dir=args.data_dir)
        print(f"{name}: {len(X)} training, {len(X_test)} test images", flush=True)
        judge = None
        if name == "digits":
            for peer in (LogisticRegression(max_iter=5000), MLPClassifier(random_state=0)):
                model, seconds = timed_fit(peer, X, y)
                print(f"  {type(peer).__name__:20s} accuracy {model.score(X_test, y_test):.4f}"
                      f"  {seconds:7.1f} s", flush=True)
                judge = judge or model
        for kind in args.models:
            est = DBNClassifier(random_state=0) if kind == "classifier" else DBN(random_state=0)
            model, seconds = timed_fit(est, X, y)
            acc = model.score(X_test, y_test)
            print(f"  {type(est).__name__:20s} accuracy {acc:.4f} (error {100 * (1 - acc):.2f}%)"
                  f"  {seconds:7.1f} s = {seconds / floor:.0f}x the floor", flush=True)
            if kind == "dbn" and judge is not None:
                rates = [float((judge.predict(model.sample(100, label=k, random_state=k)) == k)
                               .mean()) for k in model.classes_]
                print(f"    samples recognised as their label: {np.mean(rates):.0%} "
                      f"(per label {np.round(rates, 2).tolist()})", flush=True)


if __name__ == "__main__":
    main()
