"""Options and data loading shared by the subcommands."""

from __future__ import annotations

import argparse
import contextlib
import math
from typing import NamedTuple

import numpy as np
import torch

from .. import distributed

DATASETS = ("digits", "mnist", "fashion-mnist")

DATA_HELP = (
    "your own data instead of --dataset: a .npy array (rows x features, or images x height x "
    "width), an .npz file with arrays X and, optionally, y (labels), a .csv file with a header "
    "row (numeric columns are the features; see --target), or a folder with one subfolder of "
    "images per class (the class names; images read as greyscale, all of one size). Scaling: "
    "images and data of an integer type within 0-255 are divided by 255, values inside "
    "[0, 1] stay, anything else stays as it is, which only Gaussian visible units (--visible "
    "gaussian) take")


class Splits(NamedTuple):
    """Training data, the held-out set (None when there is none) and the images' shape."""

    X: np.ndarray
    y: np.ndarray | None
    X_test: np.ndarray | None
    y_test: np.ndarray | None
    image_shape: tuple[int, int] | None


def add_data_options(parser: argparse.ArgumentParser, default: str = "digits", *,
                     test_data: str | None = None) -> None:
    """``--dataset`` or ``--data``, ``--target``, ``--data-dir``, ``--binarize``.

    ``test_data`` is the help of a ``--test-data`` option; None adds none.
    """
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--dataset", choices=DATASETS, default=default,
                        help="a built-in data set (default: %(default)s)")
    source.add_argument("--data", metavar="PATH", default=None, help=DATA_HELP)
    if test_data is not None:
        parser.add_argument("--test-data", metavar="PATH", default=None, help=test_data)
    parser.add_argument("--target", metavar="COLUMN", default=None,
                        help="with a .csv file: the label column (not a feature)")
    parser.add_argument("--data-dir", default=None,
                        help="directory with the IDX files (default: cache, else download)")
    parser.add_argument("--binarize", choices=("threshold", "stochastic"), default=None,
                        help="binary inputs from grey levels in [0, 1] (after scaling)")


def add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--log-dir", metavar="DIR", default=None,
                        help="also write each epoch's figures, filters and samples to this "
                        "TensorBoard folder (needs the tensorboard package: pip install "
                        "'deepbelief[monitor]'; then tensorboard --logdir DIR)")


def training_logger(args: argparse.Namespace):
    """A :class:`~deepbelief.monitor.TensorBoardLogger` for ``--log-dir``, else a no-op context.

    Only the main process logs under ``torchrun``. Made after the data are read,
    so that a command refused for its input writes nothing.
    """
    if args.log_dir is None or not distributed.is_main_process():
        return contextlib.nullcontext()
    from ..monitor import TensorBoardLogger

    return TensorBoardLogger(args.log_dir)


def load_split(args: argparse.Namespace, split: str, *, binary: bool = True,
               ) -> tuple[np.ndarray, np.ndarray | None]:
    """The data set's ``split`` ("train" or "test"); digits are split 1500/297 by a fixed seed.

    With ``--data`` the file is the data, whatever ``split``: scaled by the rule
    of :mod:`deepbelief.files`, its range checked when ``binary``.
    """
    from .. import datasets

    if _uses_files(args):
        return _from_file(args, args.data, split, binary)
    if args.dataset == "digits":
        X, y = datasets.load_digits()
        order = np.random.default_rng(0).permutation(len(X))
        idx = order[:1500] if split == "train" else order[1500:]
        return datasets.binarize(X[idx], args.binarize, args.seed, split), y[idx]
    loader = datasets.load_mnist if args.dataset == "mnist" else datasets.load_fashion_mnist
    return loader(split, data_dir=args.data_dir, binarize=args.binarize, seed=args.seed)


def load_train_test(args: argparse.Namespace, *, binary: bool = True,
                    labels: bool = False) -> Splits:
    """The training and held-out data of a ``train-*`` command, read and checked at once.

    With ``--data``, the held-out set is ``--test-data`` (scaled as the training
    data), or none. ``labels`` requires labels in both.
    """
    if not _uses_files(args):
        X, y = load_split(args, "train")
        X_test, y_test = load_split(args, "test")
        return Splits(X, y, X_test, y_test, None)
    from .. import files

    train, test = files.load_pair(args.data, args.test_data, target=args.target,
                                  binary=binary)
    for data in (train, test):
        if labels and data is not None and data.y is None:
            raise ValueError(f"{data.path}: no labels; {args.command} needs them: an .npz file "
                             "with y, a .csv file with --target COLUMN, or a folder of images")
    X, y = _prepared(args, train, "train")
    X_test, y_test = (None, None) if test is None else _prepared(args, test, "test")
    return Splits(X, y, X_test, y_test, train.image_shape)


def image_shape(n_features: int, shape: tuple[int, int] | None) -> tuple[int, int] | None:
    """``shape``, else the square one ``n_features`` makes, else None (not images)."""
    if shape is not None:
        return shape
    side = math.isqrt(n_features)
    return (side, side) if side * side == n_features else None


def _uses_files(args: argparse.Namespace) -> bool:
    """Whether ``--data`` is given; the options that go with it are an error without it."""
    if getattr(args, "data", None) is not None:
        return True
    for option in ("target", "test_data"):
        if getattr(args, option, None) is not None:
            raise ValueError(f"--{option.replace('_', '-')} goes with --data")
    return False


def _from_file(args: argparse.Namespace, path: str, split: str,
               binary: bool) -> tuple[np.ndarray, np.ndarray | None]:
    from .. import files

    return _prepared(args, files.load_path(path, target=args.target, binary=binary), split)


def _prepared(args: argparse.Namespace, data, split: str) -> tuple[np.ndarray, np.ndarray | None]:
    """A file's features, binarized as asked, and its labels (a folder's by class name)."""
    from .. import datasets

    y = data.y if data.classes is None else np.asarray(data.classes)[data.y]
    return datasets.binarize(data.X, args.binarize, args.seed, split), y
