"""``deepbelief train-dbn`` and ``deepbelief sample``: deep belief nets from the shell."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .. import distributed
from ..dbn import DBN, DBNClassifier
from ..io import load
from ..plot import (
    plot_chains,
    plot_class_samples,
    plot_history,
    plot_paper_figures,
    tile_images,
)
from ._common import (
    add_data_options,
    add_run_options,
    image_shape,
    load_train_test,
    training_logger,
)

TEST_DATA_HELP = ("with --data: held-out labelled data (any form --data takes, scaled as the "
                  "training data) for the error reported and the figures; without it nothing "
                  "is held out and both are on the training data (with --dataset: the test "
                  "split)")
PAPER = {"pretrain_epochs": 30, "finetune_epochs": 300, "gibbs_steps": (3, 6, 10)}


def register(sub) -> None:
    p = sub.add_parser("train-dbn", help="pre-train and fine-tune a deep belief net")
    add_data_options(p, default="mnist", test_data=TEST_DATA_HELP)
    add_run_options(p)
    p.add_argument("--layers", type=int, nargs="+", default=[500, 500, 2000])
    p.add_argument("--pretrain-epochs", type=int, default=None,
                   help="CD epochs per layer (default: the estimator's 'auto', sized in updates)")
    p.add_argument("--finetune", choices=("backprop", "up-down"), default="backprop")
    p.add_argument("--finetune-epochs", type=int, default=None,
                   help="fine-tuning epochs (default: the estimator's 'auto')")
    p.add_argument("--schedule", choices=("paper",), default=None,
                   help="the paper's schedule: 30 epochs per layer, 300 up-down epochs "
                        "with 3/6/10 Gibbs steps")
    p.add_argument("--learning-rate", type=float, default=None)
    p.add_argument("--dropout", type=float, default=None,
                   help="hidden units' dropout of backprop fine-tuning (default: the estimator's)")
    p.add_argument("--visible", choices=("bernoulli", "gaussian"), default="bernoulli",
                   help="the first layer's visible units: binary (inputs in [0, 1]) or Gaussian "
                   "(any real inputs, standardised inside)")
    p.add_argument("--batch-size", type=int, default=None,
                   help="minibatch of pre-training and fine-tuning (default: 100)")
    p.add_argument("--out", default="dbn.safetensors")
    p.add_argument("--plot-dir", default=None, help="where the PNGs go (default: beside --out)")
    p.add_argument("--checkpoint-dir", default=None,
                   help="write resumable checkpoints there")
    p.add_argument("--checkpoint-every", type=int, default=1,
                   help="epochs between checkpoints (default: 1)")
    p.add_argument("--resume", action="store_true",
                   help="continue from the newest checkpoint in --checkpoint-dir")
    p.set_defaults(func=run_train)

    s = sub.add_parser("sample", help="draw images of a class from a generative DBN file")
    s.add_argument("model", help="a DBN written by train-dbn --finetune up-down")
    s.add_argument("--label", default=None, help="class to clamp (default: every class)")
    s.add_argument("--n", type=int, default=100, help="number of images")
    s.add_argument("--steps", type=int, default=None,
                   help="top-level Gibbs steps (default: 1000; 20 for --figure mind)")
    s.add_argument("--figure", choices=("independent", "chain", "mind"), default="independent",
                   help="independent chains per image; one chain per label, --steps between "
                   "images (the paper's figure 8); or one chain per label from a random "
                   "image (figure 9)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", default="samples.png")
    s.set_defaults(func=run_sample)


def build_model(args: argparse.Namespace):
    """The estimator the options describe (``--schedule paper`` overrides epochs)."""
    common = {"device": args.device, "random_state": args.seed, "verbose": True,
              "checkpoint_dir": args.checkpoint_dir, "checkpoint_every": args.checkpoint_every}
    if args.batch_size is not None:
        common.update(batch_size=args.batch_size, rbm_params={"batch_size": args.batch_size})
    for name in ("pretrain_epochs", "finetune_epochs", "learning_rate"):
        if getattr(args, name) is not None:
            common[name] = getattr(args, name)
    if args.finetune == "backprop":
        if args.dropout is not None:
            common["dropout"] = args.dropout
        return DBNClassifier(tuple(args.layers), visible_units=args.visible, **common)
    return DBN(tuple(args.layers), visible_units=args.visible,
               **{**common, **(PAPER if args.schedule == "paper" else {})})


def run_train(args: argparse.Namespace) -> int:
    """Train, report the test error and, on rank 0 only, save the model and its plots.

    Under ``torchrun`` every process runs this; they train together. Without a
    held-out set (``--data`` without ``--test-data``) the error and the figures
    are the training data's.
    """
    if args.resume and args.checkpoint_dir is None:
        raise ValueError("--resume needs --checkpoint-dir")
    distributed.init_from_env(args.device)
    data = load_train_test(args, binary=args.visible == "bernoulli", labels=True)
    held_out = data.X_test is not None
    X_eval, y_eval = (data.X_test, data.y_test) if held_out else (data.X, data.y)
    if args.schedule == "paper" and args.finetune == "backprop":
        args.pretrain_epochs = PAPER["pretrain_epochs"]
    model = build_model(args)
    start = time.perf_counter()
    with training_logger(args) as logger:
        model.fit(data.X, data.y, callback=logger, resume=args.resume)
    total = time.perf_counter() - start
    error = 1.0 - model.score(X_eval, y_eval)
    if distributed.is_main_process():
        which = "test" if held_out else "training"
        _report(model, args, (which, error), total, X_eval, y_eval, data.image_shape)
    distributed.finish()
    return 0


def _report(model, args: argparse.Namespace, error: tuple[str, float], seconds: float,
            X_test, y_test, shape: tuple[int, int] | None) -> None:
    tqdm.write(f"pre-training: {model.times_['pretrain']:.1f} s, fine-tuning "
               f"({args.finetune}): {model.times_['finetune']:.1f} s, total {seconds:.1f} s")
    rows = "images" if args.data is None else "rows"
    print(f"{error[0]} error: {100 * error[1]:.2f}% on {len(X_test)} {rows}")
    model.save(args.out)
    print(f"saved {args.out}")
    for path in write_plots(model, Path(args.plot_dir or Path(args.out).parent),
                            Path(args.out).stem, args.seed, X_test, y_test, shape=shape):
        print(f"wrote {path}")


def write_plots(model, out_dir: Path, stem: str, seed: int, X_test=None,
                y_test=None, *, shape: tuple[int, int] | None = None) -> list[Path]:
    """First-layer filters, training curves and, for a DBN, the paper's figures.

    The filters need images (of ``shape``, or a square number of features)
    and the paper's figures square ones; for other data only the curves are drawn.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{stem}_history.png"]
    plot_history(model.history_, path=paths[0], title=f"{type(model).__name__} fine-tuning")
    if isinstance(model, DBNClassifier):
        W = model.coefs_[0]
    else:
        W = model.layers_[0].R.cpu().numpy()
    shape = image_shape(W.shape[1], shape)
    if shape is None:
        return paths
    paths.insert(0, out_dir / f"{stem}_filters.png")
    tile_images(W[:100], shape=shape, path=paths[0], normalize="each",
                title="First-layer filters")
    if isinstance(model, DBN) and shape[0] == shape[1]:
        paths += map(Path, plot_paper_figures(model, X_test, y_test, out_dir, seed=seed,
                                              prefix=f"{stem}_"))
    return paths


def run_sample(args: argparse.Namespace) -> int:
    model = load(args.model)
    if not isinstance(model, DBN):
        raise ValueError(f"{args.model} holds a {type(model).__name__}; sampling needs a DBN "
                         "(train-dbn --finetune up-down)")
    steps = args.steps or (20 if args.figure == "mind" else 1000)
    label = None if args.label is None else _parse_label(args.label, model.classes_)
    if args.figure == "independent":
        labels = np.resize(model.classes_, args.n) if label is None else np.full(args.n, label)
        images = model.sample(args.n, label=labels, steps=steps, random_state=args.seed)
        plot_class_samples(images, labels, path=args.out,
                           title=f"{args.n} samples after {steps} Gibbs steps")
    else:
        rows = None if label is None else [label]
        per_row = max(1, args.n // (len(model.classes_) if rows is None else 1))
        plot_chains(model, per_row, steps, path=args.out, labels=rows,
                    from_noise=args.figure == "mind", seed=args.seed)
    print(f"wrote {args.out}")
    return 0


def _parse_label(text: str, classes: np.ndarray):
    """The class whose string form is ``text``."""
    for c in classes:
        if str(c) == text:
            return c
    raise ValueError(f"--label {text!r} is not a class of this model: {classes.tolist()}")
