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

Run: ``python examples/generative_vs_discriminative.py [out.png] [--seeds 20]``
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

from deepbelief.naive_bayes import BernoulliNB

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TRAIN_SIZES = (10, 15, 20, 30, 50, 80, 130, 200, 300, 450, 700, 1000, 1300)
MODELS = {
    "naive Bayes, alpha=0.5 (generative)": lambda: BernoulliNB(alpha=0.5, binarize=None),
    "naive Bayes, alpha=1 (generative)": lambda: BernoulliNB(alpha=1.0, binarize=None),
    "logistic regression (discriminative)": lambda: LogisticRegression(C=1.0, max_iter=500),
}


def _test_error(model, X_train, y_train, X_test, y_test) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
    return float(np.mean(model.predict(X_test) != y_test))


def learning_curves(train_sizes=TRAIN_SIZES, n_seeds: int = 20,
                    test_size: int = 450) -> dict[str, np.ndarray]:
    """Test error of every model in ``MODELS``, shape (n_seeds, len(train_sizes)) each.

    Each seed draws a stratified test set of ``test_size`` digits and a random order of
    the rest; the training set of size m is the first m digits of that order, so the
    sets are nested along a curve. Pixels (0..16) become 1 above 8, else 0.
    """
    X, y = load_digits(return_X_y=True)
    X = (X > 8).astype(np.float64)
    errors = {name: np.empty((n_seeds, len(train_sizes))) for name in MODELS}
    for seed in range(n_seeds):
        X_pool, X_test, y_pool, y_test = train_test_split(
            X, y, test_size=test_size, stratify=y, random_state=seed)
        order = np.random.default_rng(seed).permutation(len(y_pool))
        for j, m in enumerate(train_sizes):
            rows = order[:m]
            for name, make in MODELS.items():
                errors[name][seed, j] = _test_error(make(), X_pool[rows], y_pool[rows],
                                                    X_test, y_test)
    return errors


def plot_learning_curves(errors: dict[str, np.ndarray], train_sizes, path: str) -> None:
    """Mean test error ± one standard error against training-set size (log x-axis)."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for (name, err), style in zip(errors.items(), ["o-", "s-", "^-"], strict=False):
        mean = err.mean(axis=0)
        sem = err.std(axis=0, ddof=1) / np.sqrt(len(err)) if len(err) > 1 else 0 * mean
        ax.plot(train_sizes, mean, style, label=name, markersize=4)
        ax.fill_between(train_sizes, mean - sem, mean + sem, alpha=0.2)
    ax.set_xscale("log")
    ax.set_xlabel("training-set size m")
    ax.set_ylabel("test error")
    ax.set_title("Binarised digits: naive Bayes vs logistic regression")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", default="generative_vs_discriminative.png")
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    errors = learning_curves(n_seeds=args.seeds)
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
        where = "at every size" if m == TRAIN_SIZES[0] else f"from m = {m} on"
        print(f"logistic regression beats {name.split(' (')[0]} {where}")
    plot_learning_curves(errors, TRAIN_SIZES, args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
