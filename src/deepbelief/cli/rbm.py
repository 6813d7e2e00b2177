"""``deepbelief train-rbm``: train a Bernoulli (or Gaussian-Bernoulli) RBM and save it."""

from __future__ import annotations

import argparse

from .. import distributed
from ..gaussian import GaussianBernoulliRBM
from ..plot import tile_images
from ..rbm import BernoulliRBM
from ..samplers import SAMPLERS
from ._common import (
    add_data_options,
    add_run_options,
    image_shape,
    load_train_test,
    training_logger,
)

TEST_DATA_HELP = ("with --data: held-out data (any form --data takes, scaled as the training "
                  "data) for the per-epoch free-energy gap, an overfitting signal; without it "
                  "nothing is held out (with --dataset: the test split)")


def register(sub) -> None:
    p = sub.add_parser("train-rbm", help="train an RBM (CD-k or PCD)")
    add_data_options(p, default="mnist", test_data=TEST_DATA_HELP)
    add_run_options(p)
    p.add_argument("--hidden", type=int, default=500)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--visible", choices=("bernoulli", "gaussian"), default="bernoulli",
                   help="binary visible units (inputs in [0, 1]) or Gaussian ones (any "
                   "real inputs, standardised inside)")
    p.add_argument("--learning-rate", type=float, default=None,
                   help="default: the estimator's (0.1)")
    p.add_argument("--learning-rate-decay", type=float, default=0.0,
                   help="rate at epoch t: learning_rate / (1 + decay * t)")
    p.add_argument("--momentum", type=float, default=None,
                   help="one momentum throughout (default: 0.5 for 5 epochs, then 0.9)")
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--k", type=int, default=1, help="Gibbs steps per update")
    p.add_argument("--sampler", choices=sorted(SAMPLERS), default="cd",
                   help="negative phase: CD-k, persistent CD-k, fast-weights PCD, or "
                   "parallel tempering (binary units)")
    p.add_argument("--persistent", action="store_true", help="the same as --sampler pcd")
    p.add_argument("--temperatures", type=int, default=10,
                   help="--sampler pt: inverse temperatures, evenly from 1 to --min-beta")
    p.add_argument("--min-beta", type=float, default=0.5,
                   help="--sampler pt: the hottest chain's inverse temperature")
    p.add_argument("--fast-learning-rate", type=float, default=None,
                   help="--sampler fpcd: the fast weights' rate (default: the learning rate)")
    p.add_argument("--centering", "--centring", type=float, default=0.0,
                   help="centred gradient with this offset moving-average rate (e.g. 0.01)")
    p.add_argument("--out", default="rbm.safetensors")
    p.add_argument("--checkpoint-dir", default=None)
    p.add_argument("--checkpoint-every", type=int, default=1, help="epochs between checkpoints")
    p.add_argument("--resume", action="store_true",
                   help="continue from the newest checkpoint in --checkpoint-dir")
    p.add_argument("--filters", default=None,
                   help="also write a PNG of the first filters (image data only)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    distributed.init_from_env(args.device)
    rbm = build_model(args)
    data = load_train_test(args, binary=args.visible == "bernoulli")
    shape = _filter_shape(args, data.X.shape[1], data.image_shape)
    main = distributed.is_main_process()
    with training_logger(args) as logger:  # one line per epoch on the console
        rbm.fit(data.X, validation_data=data.X_test, callback=logger, resume=args.resume)
    distributed.finish()
    if not main:
        return 0
    rbm.save(args.out)
    print(f"saved {args.out}")
    if args.filters:
        tile_images(rbm.components_[:100], shape=shape, path=args.filters, normalize="each",
                    title="RBM filters (rows of W)")
        print(f"wrote {args.filters}")
    return 0


def build_model(args: argparse.Namespace):
    """The estimator the options describe."""
    momentum = {} if args.momentum is None else {"momentum": args.momentum,
                                                 "initial_momentum": args.momentum}
    options = dict(momentum)
    if args.learning_rate is not None:
        options["learning_rate"] = args.learning_rate
    sampler = "pcd" if args.persistent and args.sampler == "cd" else args.sampler
    if args.visible == "gaussian":
        if args.centering or sampler in ("pt", "fpcd"):
            raise ValueError("--centering and --sampler pt/fpcd apply to binary visible units "
                             "only")
        cls = GaussianBernoulliRBM
    else:
        cls = BernoulliRBM
        options.update(centering=args.centering, n_temperatures=args.temperatures,
                       min_beta=args.min_beta, fast_learning_rate=args.fast_learning_rate)
        if sampler != "pt":
            options["n_temperatures"] = None
    return cls(args.hidden, k=args.k, sampler=sampler, weight_decay=args.weight_decay,
               learning_rate_decay=args.learning_rate_decay, **options,
               batch_size=args.batch_size, n_iter=args.epochs, device=args.device,
               random_state=args.seed, verbose=True,
               checkpoint_dir=args.checkpoint_dir, checkpoint_every=args.checkpoint_every)


def _filter_shape(args: argparse.Namespace, n_features: int,
                  shape: tuple[int, int] | None) -> tuple[int, int] | None:
    """The filters' image shape; --filters on data that are not images is an error."""
    shape = image_shape(n_features, shape)
    if args.filters and shape is None:
        raise ValueError(f"--filters draws images, but {args.data} has {n_features} features, "
                         "not a square number: give images as a 3-D .npy (images, height, "
                         "width) or a folder, or leave --filters out")
    return shape
