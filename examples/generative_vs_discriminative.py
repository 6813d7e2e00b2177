"""Generative vs discriminative, shown: learning curves of naive Bayes and logistic regression.

Ng & Jordan (2002) compare a generative model with its discriminative counterpart,
the pair that shares a hypothesis class: naive Bayes on binary features and logistic
regression on the *same* binary features (both classify with a linear function of
them). Naive Bayes approaches its (higher) asymptotic error with few examples;
logistic regression needs more data but ends lower. Here both learn scikit-learn's
8x8 digits with pixels binarised at half intensity; test error is measured against
the training-set size m (random training sets, as in the paper), averaged over
several random splits, and plotted to a PNG.

How much naive Bayes gains with little data depends on its smoothing: the Jeffreys
prior (alpha=0.5) beats logistic regression for small m, while Laplace smoothing
(alpha=1) pulls the few-example estimates so far towards 1/2 that it never does.

The classification RBM (Larochelle & Bengio 2008) spans the same contrast in one
model: an RBM over (x, y) trained by the generative gradient of log p(x, y), the
discriminative gradient of log p(y | x), or the hybrid sum (generative weight
alpha = 0.01), each with its defaults (500 hidden units), on the first
``--rbm-seeds`` splits. Semi-supervised, the hybrid model takes the rest of the
training pool as unlabelled rows (``fit(X, y, X_unlabeled=U)``: the generative term
of log p(x) only), against the same model on the labelled rows alone.

Run: ``python examples/generative_vs_discriminative.py [out.png] [--seeds 20]
[--rbm-seeds 5]`` (the ClassRBM curves take about 40 minutes on one CPU thread;
``--rbm-seeds 0`` leaves them out).
"""

from __future__ import annotations

import argparse
import warnings

import matplotlib
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from deepbelief import ClassRBM
from deepbelief.naive_bayes import BernoulliNB

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TRAIN_SIZES = (10, 15, 20, 30, 50, 80, 130, 200, 300, 450, 700, 1000, 1300)
#: The sizes of the ClassRBM curves (fewer: each fit takes seconds).
RBM_SIZES = (10, 20, 50, 100, 200, 500, 1000, 1300)
MODELS = {
    "naive Bayes, alpha=0.5 (generative)": lambda seed: BernoulliNB(alpha=0.5, binarize=None),
    "naive Bayes, alpha=1 (generative)": lambda seed: BernoulliNB(alpha=1.0, binarize=None),
    "logistic regression (discriminative)": lambda seed: LogisticRegression(C=1.0,
                                                                            max_iter=500),
}
#: The classification RBM's three objectives, each with its defaults otherwise.
RBM_MODELS = {
    f"ClassRBM, {objective}": (lambda seed, objective=objective:
                               ClassRBM(objective=objective, random_state=seed))
    for objective in ("generative", "hybrid", "discriminative")
}
#: Labelled rows of the semi-supervised curve (the rest of the pool unlabelled).
SEMI_SIZES = (20, 50, 100, 200, 500)


def _test_error(model, X_train, y_train, X_test, y_test) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
    return float(np.mean(model.predict(X_test) != y_test))


def split(seed: int, test_size: int = 450):
    """A stratified test set of ``test_size`` binarised digits (pixels above 8 are 1),
    the rest as the pool, and a random order of the pool: the training set of size m
    is its first m digits, so the sets are nested along a curve."""
    X, y = load_digits(return_X_y=True)
    X = (X > 8).astype(np.float64)
    X_pool, X_test, y_pool, y_test = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=seed)
    order = np.random.default_rng(seed).permutation(len(y_pool))
    return X_pool[order], y_pool[order], X_test, y_test


def learning_curves(models: dict, train_sizes, n_seeds: int) -> dict[str, np.ndarray]:
    """Test error of every model of ``models`` (name: ``make(seed)``), shape
    (n_seeds, len(train_sizes)) each."""
    errors = {name: np.empty((n_seeds, len(train_sizes))) for name in models}
    for seed in range(n_seeds):
        X_pool, y_pool, X_test, y_test = split(seed)
        for j, m in enumerate(train_sizes):
            for name, make in models.items():
                errors[name][seed, j] = _test_error(make(seed), X_pool[:m], y_pool[:m],
                                                    X_test, y_test)
    return errors


def semi_supervised(rbm_seeds: int, sizes: tuple[int, ...]) -> np.ndarray:
    """Test error of the hybrid ClassRBM given m labelled digits and the rest of the pool
    unlabelled, shape (rbm_seeds, len(sizes))."""
    errors = np.empty((rbm_seeds, len(sizes)))
    for seed in range(rbm_seeds):
        X_pool, y_pool, X_test, y_test = split(seed)
        for j, m in enumerate(sizes):
            model = ClassRBM(random_state=seed).fit(X_pool[:m], y_pool[:m],
                                                    X_unlabeled=X_pool[m:])
            errors[seed, j] = float(np.mean(model.predict(X_test) != y_test))
    return errors


def _curve(ax, sizes, err: np.ndarray, style: str, label: str) -> None:
    """Mean ± one standard error of ``err`` (seeds × sizes) against ``sizes``."""
    mean = err.mean(axis=0)
    sem = err.std(axis=0, ddof=1) / np.sqrt(len(err)) if len(err) > 1 else 0 * mean
    ax.plot(sizes, mean, style, label=label, markersize=4)
    ax.fill_between(sizes, mean - sem, mean + sem, alpha=0.2)


def plot_learning_curves(curves: list[tuple[tuple, dict[str, np.ndarray]]], path: str,
                         semi: np.ndarray | None = None) -> None:
    """Mean test error ± one standard error against training-set size (log x-axis), for
    each (sizes, errors) of ``curves``; with ``semi``, a second panel: the hybrid
    ClassRBM with and without the unlabelled rows."""
    panels = 1 if semi is None else 2
    fig, axes = plt.subplots(1, panels, figsize=(7 * panels, 4.5), squeeze=False)
    styles = iter(["o-", "s-", "^-", "D--", "v--", "x--"])
    for sizes, errors in curves:
        for name, err in errors.items():
            _curve(axes[0, 0], sizes, err, next(styles), name)
    axes[0, 0].set_title("Binarised digits: generative vs discriminative")
    if semi is not None:
        hybrid = dict(curves[-1][1])["ClassRBM, hybrid"]
        alone = hybrid[:, [RBM_SIZES.index(m) for m in SEMI_SIZES]]
        _curve(axes[0, 1], SEMI_SIZES, alone, "s-", "ClassRBM, hybrid: labelled rows only")
        _curve(axes[0, 1], SEMI_SIZES, semi, "o-", "ClassRBM, hybrid: + the rest unlabelled")
        axes[0, 1].set_title("Semi-supervised")
    for ax in axes[0]:
        ax.set_xscale("log")
        ax.set_xlabel("labelled training digits m")
        ax.set_ylabel("test error")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def crossover(errors: np.ndarray, reference: np.ndarray, train_sizes) -> int | None:
    """The first size from which ``reference`` stays at or below ``errors`` on average."""
    better = reference.mean(axis=0) <= errors.mean(axis=0)
    for j in range(len(train_sizes)):
        if better[j:].all():
            return train_sizes[j]
    return None


def print_table(errors: dict[str, np.ndarray], sizes) -> None:
    """Mean test error of each model (columns) at each size (rows)."""
    print(f"{'m':>6s}" + "".join(f"{n.split(' (')[0]:>26s}" for n in errors))
    for j, m in enumerate(sizes):
        print(f"{m:6d}" + "".join(f"{err[:, j].mean():26.3f}" for err in errors.values()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", default="generative_vs_discriminative.png")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--rbm-seeds", type=int, default=5)
    args = parser.parse_args()
    errors = learning_curves(MODELS, TRAIN_SIZES, args.seeds)
    names = list(errors)
    logistic = errors[names[-1]]
    paired = errors[names[0]] - logistic
    print(f"test error, mean over {args.seeds} splits; last column: paired difference "
          "naive Bayes (alpha=0.5) - logistic regression ± standard error")
    print(f"{'m':>6s}" + "".join(f"{n.split(' (')[0]:>26s}" for n in names))
    for j, m in enumerate(TRAIN_SIZES):
        sem = paired[:, j].std(ddof=1) / np.sqrt(len(paired)) if len(paired) > 1 else 0.0
        print(f"{m:6d}" + "".join(f"{errors[n][:, j].mean():26.3f}" for n in names)
              + f"   {paired[:, j].mean():+.3f} ± {sem:.3f}")
    for name in names[:-1]:
        m = crossover(errors[name], logistic, TRAIN_SIZES)
        where = ("at every size" if m == TRAIN_SIZES[0] else "at no size" if m is None
                 else f"from m = {m} on")
        print(f"logistic regression beats {name.split(' (')[0]} {where}")
    curves, semi = [(TRAIN_SIZES, errors)], None
    if args.rbm_seeds:
        rbm = learning_curves(RBM_MODELS, RBM_SIZES, args.rbm_seeds)
        print(f"\nthe classification RBM, mean over {args.rbm_seeds} splits")
        print_table(rbm, RBM_SIZES)
        semi = semi_supervised(args.rbm_seeds, SEMI_SIZES)
        alone = rbm["ClassRBM, hybrid"][:, [RBM_SIZES.index(m) for m in SEMI_SIZES]]
        print("\nsemi-supervised, the hybrid ClassRBM's test error: m labelled rows alone / "
              "with the rest of the pool unlabelled")
        for j, m in enumerate(SEMI_SIZES):
            print(f"{m:6d} {alone[:, j].mean():10.3f} {semi[:, j].mean():10.3f}")
        curves.append((RBM_SIZES, rbm))
    plot_learning_curves(curves, args.output, semi)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
