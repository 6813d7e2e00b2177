"""Options and data loading shared by the subcommands."""

from __future__ import annotations

import argparse

import numpy as np
import torch

DATASETS = ("digits", "mnist", "fashion-mnist")


def add_data_options(parser: argparse.ArgumentParser, default: str = "digits") -> None:
    parser.add_argument("--dataset", choices=DATASETS, default=default)
    parser.add_argument("--data-dir", default=None,
                        help="directory with the IDX files (default: cache, else download)")
    parser.add_argument("--binarize", choices=("threshold", "stochastic"), default=None)


def add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")


def load_split(args: argparse.Namespace, split: str) -> tuple[np.ndarray, np.ndarray]:
    """The data set's ``split`` ("train" or "test"); digits are split 1500/297 by a fixed seed."""
    from .. import datasets

    if args.dataset == "digits":
        X, y = datasets.load_digits()
        order = np.random.default_rng(0).permutation(len(X))
        idx = order[:1500] if split == "train" else order[1500:]
        return datasets.binarize(X[idx], args.binarize, args.seed, split), y[idx]
    loader = datasets.load_mnist if args.dataset == "mnist" else datasets.load_fashion_mnist
    return loader(split, data_dir=args.data_dir, binarize=args.binarize, seed=args.seed)
