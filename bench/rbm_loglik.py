"""Test log-likelihood of a 784-500 RBM on binarised MNIST after a fixed wall budget.

Trains deepbelief's BernoulliRBM (PCD, or parallel tempering with
``--temperatures``, with a time-based learning-rate decay, plain SGD by default,
optionally centred) and then scikit-learn's BernoulliRBM, each for ``--minutes``
of wall time on the stochastically binarised MNIST training set, and reports each
model's mean test log-likelihood, with log Z estimated by AIS (100 runs, 14,500
inverse temperatures, base rates from the training data) and its ±3 s.e.
interval, a second AIS seed, and reverse AIS (a stochastic upper bound on log Z,
i.e. a conservative log-likelihood); the figure is called reliable when the three
agree within 1 nat. With ``--hidden 25`` or fewer, log Z is also exact. Published
for this setting (Salakhutdinov & Murray 2008): CD-25, 500 hidden: -86.34 nats;
CD-1: about -125. Usage::

    python bench/rbm_loglik.py [--minutes 30] [--data-dir ../shared/data/mnist]
                               [--threads 2] [--runs 100] [--out rbm.safetensors]
                               [--learning-rate 0.05] [--momentum 0] [--centering 0]
                               [--temperatures 1] [--min-beta 0.5] [--hidden 500]
                               [--fast-learning-rate 0]
    python bench/rbm_loglik.py --score bench/models/rbm_mnist_pt.averaged.safetensors
"""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path

import numpy as np
import torch

import deepbelief
from deepbelief import BernoulliRBM
from deepbelief.averaging import ParameterAverage
from deepbelief.datasets import load_mnist
from deepbelief.partition import (
    ais_log_partition,
    exact_log_partition,
    log_likelihood,
    reverse_ais_log_partition,
)

#: Up to this many hidden units log Z is also summed exactly (2^25 hidden states).
EXACT_HIDDEN = 25
REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = (REPO / ".." / "shared" / "data" / "mnist").resolve()


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hidden", type=int, default=500,
                   help="hidden units; up to 25, log Z is also summed exactly (see EXACT_HIDDEN)")
    p.add_argument("--minutes", type=float, default=30.0, help="training wall budget per model")
    p.add_argument("--data-dir", default=str(DEFAULT_DATA))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runs", type=int, default=100, help="AIS runs")
    p.add_argument("--learning-rate", type=float, default=0.05)
    p.add_argument("--final-fraction", type=float, default=0.05,
                   help="learning rate at the end of the budget, as a fraction of the start")
    p.add_argument("--schedule", choices=("hyperbolic", "linear"), default="hyperbolic",
                   help="how the learning rate falls to its final fraction over the budget")
    p.add_argument("--momentum", type=float, default=0.0,
                   help="momentum (PCD's chains track the model better without it)")
    p.add_argument("--centering", type=float, default=0.0,
                   help="centred gradient with this offset rate (e.g. 0.01); 0: plain")
    p.add_argument("--k", type=int, default=1, help="Gibbs steps per PCD update")
    p.add_argument("--temperatures", type=int, default=1,
                   help="parallel tempering with this many inverse temperatures (1: PCD)")
    p.add_argument("--min-beta", type=float, default=0.5, help="the hottest chain's β")
    p.add_argument("--fast-learning-rate", type=float, default=0.0,
                   help="fast-weights PCD with this fast learning rate (0: plain PCD)")
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--weight-decay", type=float, default=1e-4, help="L2 penalty on W")
    p.add_argument("--average-last", type=float, default=0.0,
                   help="also score the mean of the parameters after each epoch of this "
                        "last fraction of the budget (Polyak averaging; 0: off)")
    p.add_argument("--skip-sklearn", action="store_true")
    p.add_argument("--out", default=None, help="save deepbelief's trained model here")
    p.add_argument("--score", metavar="MODEL", help="only re-score a saved model")
    args = p.parse_args()
    if not 0.0 <= args.average_last <= 1.0:
        p.error(f"--average-last must lie in [0, 1], got {args.average_last:g}")
    return args


def train_deepbelief(X: np.ndarray, args: argparse.Namespace,
                     ) -> tuple[BernoulliRBM, BernoulliRBM | None]:
    """PCD with lr(t) = lr0 / (1 + a·t/T), a chosen so that lr(T) = final_fraction·lr0
    (or, with ``--schedule linear``, lr0 · (1 - (1 - final_fraction)·t/T)).

    Returns the trained RBM and, with ``--average-last``, the RBM whose parameters
    are the mean of those after each epoch in that last part of the budget."""
    name = "pt" if args.temperatures > 1 else "fpcd" if args.fast_learning_rate else "pcd"
    rbm = BernoulliRBM(args.hidden, k=args.k, sampler=name, sample_visible=True,
                       n_temperatures=args.temperatures if name == "pt" else None,
                       min_beta=args.min_beta,
                       fast_learning_rate=args.fast_learning_rate if name == "fpcd" else None,
                       learning_rate=args.learning_rate, momentum=args.momentum,
                       initial_momentum=args.momentum, centering=args.centering,
                       weight_decay=args.weight_decay, batch_size=args.batch_size,
                       random_state=0)
    Xt = torch.from_numpy(X)
    budget = 60.0 * args.minutes
    slope = 1.0 / args.final_fraction - 1.0
    average = None
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < budget:
        t = elapsed / budget
        rbm.learning_rate = args.learning_rate * (
            1.0 - (1.0 - args.final_fraction) * t if args.schedule == "linear"
            else 1.0 / (1.0 + slope * t))
        if hasattr(rbm, "W_"):
            rbm.train_epoch(Xt)
        else:
            rbm.partial_fit(Xt)  # the first epoch, initialising from all of X
        if args.average_last and elapsed >= budget * (1.0 - args.average_last):
            if average is None:
                average = ParameterAverage(start=rbm.n_epochs_)
            average(rbm)
        if rbm.n_epochs_ % 10 == 0:
            pt = getattr(rbm._get_trainer().sampler, "tempering", None)
            swaps = "" if pt is None else "  swaps " + " ".join(
                f"{a:.2f}" for a in pt.acceptance.tolist())
            print(f"  deepbelief epoch {rbm.n_epochs_:4d}  {elapsed / 60:5.1f} min  "
                  f"lr {rbm.learning_rate:.4f}{swaps}", flush=True)
    sampler = (f"PT-{args.k} with {args.temperatures} temperatures down to β = "
               f"{args.min_beta:g}" if args.temperatures > 1 else
               f"FPCD-{args.k}, fast rate {args.fast_learning_rate:g}"
               if args.fast_learning_rate else f"PCD-{args.k}")
    print(f"deepbelief: {rbm.n_epochs_} epochs ({sampler}, batch {args.batch_size}, momentum "
          f"{args.momentum:g}, centering {args.centering:g}, weight decay "
          f"{args.weight_decay:g}) in "
          f"{(time.perf_counter() - start) / 60:.1f} min", flush=True)
    if average is None:
        return rbm, None
    print(f"deepbelief: parameters averaged over the last {average.n_averaged_} epochs",
          flush=True)
    return rbm, average.apply(copy.deepcopy(rbm))


def train_sklearn(X: np.ndarray, args: argparse.Namespace) -> BernoulliRBM:
    """scikit-learn's BernoulliRBM (PCD-1, no momentum), minibatch by minibatch."""
    from sklearn.neural_network import BernoulliRBM as SkRBM

    batch = 20
    sk = SkRBM(args.hidden, learning_rate=args.learning_rate, batch_size=batch, random_state=0)
    X64 = X.astype(np.float64)
    rng = np.random.default_rng(0)
    budget = 60.0 * args.minutes
    start, epochs = time.perf_counter(), 0
    while time.perf_counter() - start < budget:
        order = rng.permutation(len(X64))
        for i in range(0, len(X64), batch):
            sk.partial_fit(X64[order[i:i + batch]])
        epochs += 1
    print(f"scikit-learn: {epochs} epochs (batch {batch}) in "
          f"{(time.perf_counter() - start) / 60:.1f} min", flush=True)
    return BernoulliRBM.from_weights(sk.components_, sk.intercept_visible_, sk.intercept_hidden_)


def evaluate(name: str, rbm: BernoulliRBM, X: np.ndarray, X_test: np.ndarray,
             args: argparse.Namespace) -> None:
    """Test log-likelihood by forward AIS (with its interval), a second AIS seed and
    reverse AIS; a figure is called reliable only when the three agree within 1 nat.
    Up to ``EXACT_HIDDEN`` hidden units, log Z is also summed exactly."""
    start = time.perf_counter()
    est = ais_log_partition(rbm, n_runs=args.runs, data=X, seed=0)
    ais_s = time.perf_counter() - start
    test_ll = log_likelihood(rbm, X_test, log_z=est)
    train_ll = log_likelihood(rbm, X, log_z=est)
    # log p = mean(-F) - log Z, so log Z's interval maps to [ll - (upper - Ẑ), ll + (Ẑ - lower)].
    lo, hi = test_ll - (est.upper - est.log_z), test_ll + (est.log_z - est.lower)
    print(f"{name}: log Z = {est.log_z:.3f} [{est.lower:.3f}, {est.upper:.3f}]  "
          f"AIS {args.runs} runs x 14,500 betas: {ais_s:.1f} s")
    print(f"{name}: test log-likelihood {test_ll:.2f} nats [{lo:.2f}, {hi:.2f}], "
          f"train {train_ll:.2f}", flush=True)
    again = ais_log_partition(rbm, n_runs=args.runs, data=X, seed=1)
    second = log_likelihood(rbm, X_test, log_z=again)
    print(f"{name}: a second AIS seed: log Z = {again.log_z:.3f} "
          f"[{again.lower:.3f}, {again.upper:.3f}] -> test log-likelihood {second:.2f} nats",
          flush=True)
    start = time.perf_counter()
    rev = reverse_ais_log_partition(rbm, X, n_runs=args.runs, seed=0)
    reverse = log_likelihood(rbm, X_test, log_z=rev.log_z)
    print(f"{name}: reverse AIS log Z = {rev.log_z:.3f} ({time.perf_counter() - start:.1f} s)"
          f" -> conservative test log-likelihood {reverse:.2f} nats", flush=True)
    spread = max(test_ll, second, reverse) - min(test_ll, second, reverse)
    verdict = "reliable" if spread <= 1.0 else "NOT reliable"
    print(f"{name}: forward, second-seed and reverse AIS within {spread:.2f} nats: {verdict}",
          flush=True)
    if rbm.n_components_ <= EXACT_HIDDEN:
        log_z = exact_log_partition(rbm)
        print(f"{name}: exact log Z = {log_z:.3f} -> exact test log-likelihood "
              f"{log_likelihood(rbm, X_test, log_z=log_z):.2f} nats, train "
              f"{log_likelihood(rbm, X, log_z=log_z):.2f} (forward AIS off by "
              f"{est.log_z - log_z:+.3f})", flush=True)


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    X, _ = load_mnist("train", data_dir=args.data_dir, binarize="stochastic", seed=0)
    X_test, _ = load_mnist("test", data_dir=args.data_dir, binarize="stochastic", seed=0)
    print(f"MNIST stochastic binarisation: train {X.shape}, test {X_test.shape}; "
          f"{args.minutes:g} min per model, {args.threads} threads", flush=True)
    if args.score:
        evaluate(args.score, deepbelief.load(args.score), X, X_test, args)
        return
    rbm, averaged = train_deepbelief(X, args)
    if args.out:
        rbm.save(args.out)
        if averaged is not None:
            averaged.save(Path(args.out).with_suffix(".averaged.safetensors"))
    evaluate("deepbelief", rbm, X, X_test, args)
    if averaged is not None:
        evaluate("deepbelief, averaged", averaged, X, X_test, args)
    if not args.skip_sklearn:
        sk = train_sklearn(X, args)
        evaluate("scikit-learn", sk, X, X_test, args)


if __name__ == "__main__":
    main()
