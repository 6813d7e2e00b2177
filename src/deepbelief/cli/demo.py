"""``deepbelief demo``: the whole deep-belief-net pipeline on the embedded digits, no download.

Both deep belief nets with their default settings (the paper's 500-500-2000):
greedy pre-training and backprop fine-tuning into a classifier (against logistic
regression on the pixels), and the generative DBN, fine-tuned by up-down, that
classifies by free energy and draws digits of each class. Pictures: first-layer
filters, the paper's figures (samples of each class along one Gibbs chain, what
the net has in mind for each label, the misclassified test digits) and
training curves.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from ..dbn import DBN, DBNClassifier
from ..plot import plot_class_samples, plot_history, plot_paper_figures, tile_images
from ._common import load_split


def register(sub) -> None:
    p = sub.add_parser("demo", help="deep belief nets on scikit-learn's 8x8 digits, with pictures")
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
    pixels = LogisticRegression(max_iter=3000, C=10.0).fit(X, y)
    print(f"logistic regression on pixels: test accuracy {pixels.score(X_test, y_test):.3f} "
          f"({time.perf_counter() - start:.1f} s)")

    clf = DBNClassifier(device=args.device, random_state=args.seed).fit(X, y)
    _report("DBN classifier 64-500-500-2000-10, default settings", clf)
    for i, h in enumerate(clf.pretrain_history_, 1):
        err = h["reconstruction_error"]
        print(f"  layer {i} reconstruction error {err[0]:.3f} -> {err[-1]:.3f}")
    print(f"  test accuracy {clf.score(X_test, y_test):.3f} (backprop fine-tuning)")

    gen = DBN(device=args.device, random_state=args.seed).fit(X, y)
    _report("generative DBN 64-500-500-(2000+10 labels), default settings", gen)
    print(f"  test accuracy {gen.score(X_test, y_test):.3f} (lowest free energy, up-down)")
    labels = np.repeat(gen.classes_, 10)
    images = gen.sample(len(labels), label=labels, steps=1000, random_state=args.seed)
    agree = float((pixels.predict(images) == labels).mean())
    print(f"  generated digits recognised as their label by the pixel classifier: {agree:.0%}")

    _pictures(out, clf, gen, images, labels)
    paths = plot_paper_figures(gen, X_test, y_test, out, seed=args.seed, prefix="dbn_paper_")
    print("wrote " + ", ".join(paths))
    return 0


def _report(name: str, model) -> None:
    t = model.times_
    print(f"{name}: pre-training {t['pretrain']:.1f} s, fine-tuning {t['finetune']:.1f} s")


def _pictures(out: Path, clf: DBNClassifier, gen: DBN, images, labels) -> None:
    paths = {
        "dbn_filters.png": lambda p: tile_images(
            clf.rbms_[0].components_[:100], path=p, normalize="each",
            title="First-layer filters (pre-trained RBM)"),
        "dbn_samples.png": lambda p: plot_class_samples(
            images, labels, path=p, title="Generated digits, one row per clamped label"),
        "dbn_classifier_history.png": lambda p: plot_history(
            {**_pretrain_curves(clf), **clf.history_}, path=p,
            title="Pre-training and backprop fine-tuning"),
        "dbn_generative_history.png": lambda p: plot_history(
            gen.history_, path=p, title="Up-down fine-tuning"),
    }
    for name, draw in paths.items():
        draw(out / name)
    print("wrote " + ", ".join(str(out / name) for name in paths))


def _pretrain_curves(clf: DBNClassifier) -> dict[str, list[float]]:
    return {f"layer {i} reconstruction error": h["reconstruction_error"]
            for i, h in enumerate(clf.pretrain_history_, 1)}
