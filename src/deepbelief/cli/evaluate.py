"""``deepbelief evaluate``: a saved RBM's log Z (AIS) and mean test log-likelihood."""

from __future__ import annotations

import argparse
import time

import numpy as np

from ._common import add_data_options, load_split


def register(sub) -> None:
    p = sub.add_parser("evaluate",
                       help="estimate an RBM's log Z by AIS and its mean log-likelihood")
    p.add_argument("model", metavar="MODEL", help="a model file written by train-rbm / save()")
    add_data_options(p, default="mnist")
    p.add_argument("--split", choices=("train", "test"), default=None,
                   help="with --dataset: the split to score (default: test); with --data the "
                   "file is scored (and is the AIS base rates' data), scaled as train-rbm "
                   "scales it")
    p.add_argument("--runs", type=int, default=100, help="AIS runs (importance samples)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--reverse", action=argparse.BooleanOptionalAction, default=True,
                   help="also run reverse AIS, a stochastic upper bound on log Z")
    p.add_argument("--exact", action="store_true",
                   help="sum Z exactly instead (needs a layer of at most 25 units)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .. import load
    from ..partition import (
        ais_log_partition,
        exact_log_partition,
        log_likelihood,
        reverse_ais_log_partition,
    )

    rbm = load(args.model)
    if not hasattr(rbm, "W_"):
        raise ValueError(f"{args.model} does not hold an RBM")
    X, base, subject = _data(args, rbm)
    start = time.perf_counter()
    if args.exact:
        log_z = exact_log_partition(rbm)
        print(f"log Z = {log_z:.4f} (exact)")
    else:
        est = ais_log_partition(rbm, n_runs=args.runs, data=base, seed=args.seed)
        log_z = est.log_z
        print(f"log Z = {est.log_z:.4f}  (AIS, {args.runs} runs; ±3 s.e. interval "
              f"[{est.lower:.4f}, {est.upper:.4f}])")
        if args.reverse:
            rev = reverse_ais_log_partition(rbm, base, n_runs=args.runs, seed=args.seed)
            print(f"reverse-AIS log Z = {rev.log_z:.4f}  (a stochastic upper bound; "
                  f"conservative mean {subject} "
                  f"{log_likelihood(rbm, X, log_z=rev.log_z):.4f} nats)")
    ll = log_likelihood(rbm, X, log_z=log_z)
    seconds = time.perf_counter() - start
    print(f"mean {subject} = {ll:.4f} nats over {len(X)} rows "
          f"({seconds:.1f} s)")
    return 0


def _data(args: argparse.Namespace, rbm) -> tuple[np.ndarray, np.ndarray, str]:
    """The rows to score, the AIS base rates' data, and what the scores are called."""
    from ..gaussian import GaussianBernoulliRBM

    if args.data is None:
        split = args.split or "test"
        X, _ = load_split(args, split)
        base = load_split(args, "train")[0] if split != "train" else X
        return X, base, f"{split} log-likelihood"
    if args.split is not None:
        raise ValueError("--split goes with --dataset; with --data the file is scored")
    X, _ = load_split(args, "test", binary=not isinstance(rbm, GaussianBernoulliRBM))
    if X.shape[1] != rbm.n_features_in_:
        raise ValueError(f"{args.data}: {X.shape[1]} features, but {args.model} takes "
                         f"{rbm.n_features_in_}")
    return X, X, f"log-likelihood of {args.data}"
