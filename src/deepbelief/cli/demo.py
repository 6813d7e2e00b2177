"""``deepbelief demo``: the main job on the embedded digits set, no download."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from ..plot import tile_images
from ..rbm import BernoulliRBM
from ._common import load_split


def register(sub) -> None:
    p = sub.add_parser("demo", help="train on scikit-learn's 8x8 digits and write pictures")
    p.add_argument("--out-dir", default="deepbelief-demo", help="where the PNGs go")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=run, dataset="digits", binarize=None, data_dir=None)


def run(args: argparse.Namespace) -> int:
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    X, y = load_split(args, "train")
    X_test, y_test = load_split(args, "test")
    print(f"digits: {len(X)} training and {len(X_test)} test images of 8x8 pixels")

    start = time.perf_counter()
    rbm = BernoulliRBM(100, learning_rate=0.1, n_iter=50, batch_size=10,
                       random_state=args.seed, device=args.device)
    rbm.fit(X, validation_data=X_test)
    seconds = time.perf_counter() - start
    h = rbm.history_
    print(f"RBM 64-100 (CD-1), {rbm.n_epochs_} epochs in {seconds:.1f} s")
    print(f"  reconstruction error   {h['reconstruction_error'][0]:.3f} -> "
          f"{h['reconstruction_error'][-1]:.3f}")
    print(f"  pseudo-log-likelihood  {h['pseudo_log_likelihood'][0]:.2f} -> "
          f"{h['pseudo_log_likelihood'][-1]:.2f}")
    print(f"  free-energy gap (test - train): {h['free_energy_gap'][-1]:.3f}")

    raw = _accuracy(X, y, X_test, y_test)
    feats = _accuracy(rbm.transform(X), y, rbm.transform(X_test), y_test)
    print(f"logistic regression test accuracy: pixels {raw:.3f}, RBM features {feats:.3f}")

    tile_images(rbm.components_, path=out / "rbm_filters.png", normalize="each",
                title="RBM filters (rows of W)")
    samples = rbm.sample(100, steps=1000, random_state=args.seed)
    tile_images(samples, path=out / "rbm_samples.png", title="Samples after 1000 Gibbs steps")
    print(f"wrote {out / 'rbm_filters.png'} and {out / 'rbm_samples.png'}")
    return 0


def _accuracy(X: np.ndarray, y: np.ndarray, X_test: np.ndarray, y_test: np.ndarray) -> float:
    clf = LogisticRegression(max_iter=3000, C=10.0).fit(X, y)
    return float(clf.score(X_test, y_test))
