"""Benchmark: EM for a full-covariance Gaussian mixture, deepbelief vs scikit-learn.

Both fits start from the same parameters (one k-means initialisation, computed once)
and run exactly ``--iters`` EM iterations (tol=0), so they should end at the same
mean log-likelihood; only the time differs.

Run: ``python bench/gmm.py`` (defaults: 200k x 32 points, 16 components, 100 iterations,
2 threads). ``--samples 20000`` gives a quick run.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SkGaussianMixture

from deepbelief.mixture import GaussianMixture


def make_data(n_samples: int, n_features: int, n_components: int, seed: int) -> np.ndarray:
    """Samples of a random mixture with correlated, differently shaped components."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=2.0, size=(n_components, n_features))
    shapes = rng.normal(size=(n_components, n_features, n_features)) / np.sqrt(n_features)
    labels = rng.integers(n_components, size=n_samples)
    noise = rng.standard_normal((n_samples, n_features))
    return centres[labels] + np.einsum("nd,nde->ne", noise, shapes[labels]) + 0.1 * noise


def timed(label: str, fit):
    start = time.perf_counter()
    model = fit()
    seconds = time.perf_counter() - start
    print(f"{label:<26s} {seconds:8.2f} s   lower_bound_ = {model.lower_bound_:.10f}")
    return model, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--components", type=int, default=16)
    parser.add_argument("--iters", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    X = make_data(args.samples, args.features, args.components, args.seed)
    print(f"data {X.shape}, {args.components} full-covariance components, "
          f"{args.iters} EM iterations, {torch.get_num_threads()} threads")

    init, init_s = timed("k-means init (deepbelief)", lambda: GaussianMixture(
        args.components, max_iter=0, random_state=args.seed).fit(X))
    start = {"weights_init": init.weights_, "means_init": init.means_,
             "precisions_init": init.precisions_}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours, ours_s = timed("deepbelief EM", lambda: GaussianMixture(
            args.components, max_iter=args.iters, tol=0.0, **start).fit(X))
        theirs, theirs_s = timed("scikit-learn EM", lambda: SkGaussianMixture(
            args.components, max_iter=args.iters, tol=0.0, init_params="random_from_data",
            random_state=args.seed, **start).fit(X))

    ours_ll, theirs_ll = ours.score(X), theirs.score(X)
    print(f"final mean log-likelihood: deepbelief {ours_ll:.10f}  scikit-learn {theirs_ll:.10f}"
          f"  (difference {abs(ours_ll - theirs_ll):.2e})")
    print(f"deepbelief is {theirs_s / ours_s:.1f}x faster "
          f"({ours_s / args.iters * 1e3:.0f} ms vs {theirs_s / args.iters * 1e3:.0f} ms "
          "per iteration)")


if __name__ == "__main__":
    main()
