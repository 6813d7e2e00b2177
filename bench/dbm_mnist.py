"""A 784-500-1000 deep Boltzmann machine on binarised MNIST: its test lower bound.

Salakhutdinov & Hinton (2009) report -84.62 nats for this model (the variational
lower bound on the test log-likelihood, log Z by AIS with 20,000 intermediate
distributions); the DBN of the same tables -86.22 and an RBM -86.34.

Trains :class:`deepbelief.DBM` on the stochastically binarised training set
(one fixed binarisation, seed 0): greedy pre-training, then joint training, with
checkpoints in ``--out`` after every epoch (``--resume`` continues an
interrupted run bit-identically, so the schedule may span several sittings).
Then estimates log Z three ways (forward AIS with two seeds, and reverse AIS,
a stochastic upper bound) and reports the mean test lower bound with each; the
figure is reliable when the three agree within 1 nat. The final model goes to
``--model``; ``--score MODEL`` re-scores a saved one without training::

    python bench/dbm_mnist.py [--out bench/runs/dbm] [--resume] [--epochs 300]
        [--pretrain-epochs 100 200] [--mean-field-iter 10] [--device cpu]
    python bench/dbm_mnist.py --init MODEL --epochs 40 --k 5 --learning-rate 1e-3
        --final-learning-rate 1e-4 [--out bench/runs/dbm-stage2] [--resume]
    python bench/dbm_mnist.py --score bench/models/dbm_mnist.safetensors
    python bench/dbm_mnist.py --classify bench/models/dbm_mnist.safetensors [--dropout 0.3]
    python bench/dbm_mnist.py --score-classifier bench/models/dbm_mnist_classifier.safetensors

``--init MODEL`` skips pre-training and trains a saved DBM on (``warm_start``):
a second stage with its own schedule, chains and checkpoints. ``--init-rbm MODEL``
skips it too and starts from a saved RBM (W1, b, c1 from it, W2 ~ N(0, s²) with
s = ``--init-std``, c2 = 0): the DBM starts at about that RBM's likelihood.
With ``--top-rbm-epochs N`` W2 and c2 come instead from the paper's last
pre-training RBM (its top-down input doubled) trained N epochs on that RBM's
p(h1|v), and c1 is the mean of the two RBMs' biases for layer 1.
``--average-last F`` scores (and saves as ``--model``) the mean of the parameters
after each of the last F of the joint epochs, the final ones beside it::

    python bench/dbm_mnist.py --init-rbm bench/models/rbm_mnist_pt.averaged.safetensors
        --epochs 60 --k 5 --learning-rate 2e-3 --final-learning-rate 1e-4 --momentum 0
        --centering 0.01 --weight-decay 1e-4 --average-last 0.5

``--classify`` fine-tunes the saved DBM as a classifier (:class:`deepbelief.DBMClassifier`
on the gray-level images, the input augmented with the top layer's mean-field
posterior, as in the paper) and reports its test error; the classifier goes to
``--classifier``. Pictures of samples from the persistent chains and of the first
layer's filters go to ``dbm_mnist_samples.png`` and ``dbm_mnist_filters.png`` in
``--plot-dir`` (``docs/`` by default).

The settings default to those of the authors' released code where this
library has them (see ``bench/README.md`` for where they differ).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

import deepbelief
from deepbelief import DBM, DBMClassifier
from deepbelief.averaging import ParameterAverage
from deepbelief.datasets import load_mnist
from deepbelief.dbm._pretrain import LayerRBM
from deepbelief.partition import ais_log_partition, log_likelihood, reverse_ais_log_partition
from deepbelief.plot import tile_images

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = (REPO / ".." / "shared" / "data" / "mnist").resolve()


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=str(DEFAULT_DATA))
    p.add_argument("--out", default=str(REPO / "bench" / "runs" / "dbm"),
                   help="checkpoints and the per-epoch log")
    p.add_argument("--model", default=str(REPO / "bench" / "models" / "dbm_mnist.safetensors"))
    p.add_argument("--resume", action="store_true")
    p.add_argument("--score", metavar="MODEL", help="only re-score a saved model")
    p.add_argument("--classify", metavar="MODEL", help="fine-tune a saved DBM as a classifier")
    p.add_argument("--score-classifier", metavar="MODEL",
                   help="only re-score a saved DBMClassifier on the test set")
    p.add_argument("--classifier", default=str(REPO / "bench" / "models" /
                                               "dbm_mnist_classifier.safetensors"))
    p.add_argument("--dropout", type=float, default=0.3, help="fine-tuning's dropout")
    p.add_argument("--finetune-epochs", type=int, default=100)
    p.add_argument("--hidden", type=int, nargs="+", default=[500, 1000])
    p.add_argument("--pretrain-epochs", type=int, nargs="+", default=[100, 150])
    p.add_argument("--pretrain-lr", type=float, nargs="+", default=[0.05, 0.02])
    p.add_argument("--epochs", type=int, default=300, help="joint training epochs")
    p.add_argument("--learning-rate", type=float, default=0.003)
    p.add_argument("--final-learning-rate", type=float, default=None,
                   help="the last epoch's rate (1/t decay to it); default a tenth")
    p.add_argument("--init", metavar="MODEL", help="train on from a saved DBM (no pre-training)")
    p.add_argument("--init-rbm", metavar="MODEL",
                   help="start from a saved RBM in place of pre-training: W1, b and "
                        "c1 from it, W2 ~ N(0, s^2) with s = --init-std, c2 = 0 (the DBM "
                        "starts at about the RBM's likelihood)")
    p.add_argument("--init-std", type=float, default=0.001,
                   help="--init-rbm's W2 scale: 0.01 costs the start 1.3 nats, 0.001 0.2")
    p.add_argument("--top-rbm-epochs", type=int, default=0,
                   help="with --init-rbm: W2, c2 from the paper's last pre-training RBM "
                        "(top-down input doubled) trained this many epochs on the RBM's "
                        "p(h1|v), c1 the mean of the two RBMs' biases (0: W2 ~ N(0, s^2))")
    p.add_argument("--top-rbm-lr", type=float, default=0.02,
                   help="that RBM's learning rate (weight decay 2e-4, batches of 100, as "
                        "the pre-training of layer 2)")
    p.add_argument("--plot-dir", default=str(REPO / "docs"),
                   help="where the pictures of samples and filters go")
    p.add_argument("--momentum", type=float, default=0.5,
                   help="joint training's momentum after its first 5 epochs (0.9 after "
                        "5 epochs at 0.5 of PCD-1 diverged at a rate of 0.002: the "
                        "reconstruction error went 6 -> 57)")
    p.add_argument("--initial-momentum", type=float, default=None,
                   help="the momentum of the first 5 joint epochs (default: --momentum)")
    p.add_argument("--weight-decay", type=float, default=2e-4)
    p.add_argument("--average-last", type=float, default=0.0,
                   help="score the mean of the parameters after each joint epoch in this "
                        "last fraction of the epochs (0: the final parameters)")
    p.add_argument("--centering", type=float, default=0.0,
                   help="joint training's centred gradient at this offset rate (0: plain)")
    p.add_argument("--mean-field-iter", type=int, default=10)
    p.add_argument("--k", type=int, default=1, help="Gibbs steps of the chains per update")
    p.add_argument("--sampler", choices=("pcd", "pt", "fpcd"), default="pcd",
                   help="the negative phase's chains (pt: parallel tempering)")
    p.add_argument("--temperatures", type=int, default=None, help="pt's inverse temperatures")
    p.add_argument("--min-beta", type=float, default=0.5, help="pt's hottest chain's β")
    p.add_argument("--score-mean-field-iter", type=int, default=50,
                   help="mean-field rounds (tolerance 1e-6) of the test lower bound")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--runs", type=int, default=100, help="AIS runs")
    p.add_argument("--betas", type=int, default=20000, help="AIS intermediate distributions")
    p.add_argument("--n-train", type=int, default=None, help="first rows only (a smoke run)")
    args = p.parse_args()
    if args.top_rbm_epochs and not args.init_rbm:
        p.error("--top-rbm-epochs needs --init-rbm")
    return args


def betas(n: int) -> np.ndarray:
    """``n`` + 1 inverse temperatures, spaced as the default schedule (finer near 1)."""
    if n == 14500:
        return deepbelief.partition.default_betas()
    a, b = n * 500 // 14500, n * 4000 // 14500
    return np.concatenate([np.linspace(0.0, 0.5, a, endpoint=False),
                           np.linspace(0.5, 0.9, b, endpoint=False),
                           np.linspace(0.9, 1.0, n - a - b + 1)])


def make_dbm(args: argparse.Namespace) -> DBM:
    layers = zip(args.pretrain_epochs, args.pretrain_lr, strict=True)
    rbm_params = [{"n_iter": n, "learning_rate": lr, "weight_decay": 1e-3 if i == 0 else 2e-4,
                   "batch_size": 100} for i, (n, lr) in enumerate(layers)]
    decay = "auto" if args.final_learning_rate is None else \
        (args.learning_rate / args.final_learning_rate - 1) / max(args.epochs - 1, 1)
    return DBM(tuple(args.hidden), rbm_params=rbm_params, n_iter=args.epochs,
               learning_rate=args.learning_rate, learning_rate_decay=decay,
               momentum=args.momentum,
               initial_momentum=args.momentum if args.initial_momentum is None
               else args.initial_momentum, weight_decay=args.weight_decay,
               centering=args.centering,
               mean_field_iter=args.mean_field_iter, k=args.k, sampler=args.sampler,
               n_temperatures=args.temperatures, min_beta=args.min_beta, batch_size=100,
               device=args.device, dtype="float32", checkpoint_dir=args.out,
               random_state=0, verbose=True)


def initial_weights(args: argparse.Namespace, X: np.ndarray) -> tuple[list, list]:
    """The weights and biases that ``--init`` (a DBM) or ``--init-rbm`` (an RBM) starts from."""
    start_from = deepbelief.load(args.init or args.init_rbm, device=args.device)
    if args.init:
        return start_from.weights_, start_from.biases_
    n_top = args.hidden[-1]
    if len(args.hidden) != 2 or start_from.n_components_ != args.hidden[0]:
        raise SystemExit(f"--init-rbm needs an RBM with {args.hidden[0]} hidden units and "
                         f"two DBM layers, got {start_from.n_components_} and {args.hidden}")
    first = [start_from.components_], [start_from.intercept_visible_]
    if args.top_rbm_epochs:
        top = LayerRBM(n_top, up=1.0, down=2.0, n_iter=args.top_rbm_epochs,
                       learning_rate=args.top_rbm_lr, weight_decay=2e-4, batch_size=100,
                       device=args.device, dtype="float32", random_state=0, verbose=True)
        top.fit(start_from.transform(X))
        c1 = (start_from.intercept_hidden_ + top.intercept_visible_) / 2
        return [*first[0], top.components_], [*first[1], c1, top.intercept_hidden_]
    W2 = args.init_std * np.random.default_rng(0).standard_normal((n_top, args.hidden[0]))
    return ([*first[0], W2.astype(np.float32)],
            [*first[1], start_from.intercept_hidden_, np.zeros(n_top, np.float32)])


def score(dbm: DBM, X_train: np.ndarray, X_test: np.ndarray, args: argparse.Namespace) -> dict:
    """The test lower bound with log Z from forward AIS (two seeds) and reverse AIS."""
    dbm.set_params(mean_field_iter=args.score_mean_field_iter, mean_field_tol=1e-6)
    schedule = betas(args.betas)
    out = {}
    for name, estimate in (
            ("forward", lambda: ais_log_partition(dbm, args.runs, schedule, data=X_train,
                                                  seed=1)),
            ("forward, second seed", lambda: ais_log_partition(dbm, args.runs, schedule,
                                                               data=X_train, seed=2)),
            ("reverse", lambda: reverse_ais_log_partition(dbm, X_train, args.runs, schedule,
                                                          seed=3))):
        start = time.perf_counter()
        log_z = estimate()
        bound = log_likelihood(dbm, X_test, log_z=log_z)
        out[name] = {"log_z": log_z.log_z, "interval": [log_z.lower, log_z.upper],
                     "test_lower_bound": bound, "seconds": time.perf_counter() - start}
        print(f"{name:>22}: log Z = {log_z.log_z:.2f} [{log_z.lower:.2f}, {log_z.upper:.2f}]"
              f"  test lower bound {bound:.2f} nats  ({out[name]['seconds']:.0f} s)",
              flush=True)
    bounds = [v["test_lower_bound"] for v in out.values()]
    out["spread"] = max(bounds) - min(bounds)
    print(f"spread of the three: {out['spread']:.2f} nats "
          f"({'reliable' if out['spread'] <= 1 else 'NOT reliable'})")
    return out


def pictures(dbm: DBM, out_dir: Path) -> None:
    """The persistent chains' visible states and the first layer's filters, as PNGs."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / "dbm_mnist"
    state = dbm._trainer.sampler.state_dict()
    chains = state["tempered"][0] if "tempered" in state else state.get("chains")  # β = 1
    if chains is not None:
        tile_images(chains[:100, :784].cpu().numpy(), path=f"{stem}_samples.png",
                    title="persistent chains (fantasy particles)")
    tile_images(dbm.weights_[0][:100], path=f"{stem}_filters.png", title="W1 filters")


def classify(args: argparse.Namespace) -> None:
    """Fine-tune the saved DBM as a classifier on the gray-level images; the test error."""
    from sklearn.frozen import FrozenEstimator

    dbm = deepbelief.load(args.classify, device=args.device)
    X, y = load_mnist("train", data_dir=args.data_dir)
    X_test, y_test = load_mnist("test", data_dir=args.data_dir)
    if args.n_train:
        X, y = X[:args.n_train], y[:args.n_train]
    clf = DBMClassifier(tuple(dbm.layout_.sizes[1:]), dbm=FrozenEstimator(dbm),
                        finetune_epochs=args.finetune_epochs, dropout=args.dropout,
                        device=args.device, random_state=0, verbose=True)
    start = time.perf_counter()
    clf.fit(X, y)
    error = 100 * (1 - clf.score(X_test, y_test))
    print(f"DBM classifier (dropout {args.dropout}): test error {error:.2f}% "
          f"after {clf.n_epochs_} epochs, {(time.perf_counter() - start) / 60:.1f} min")
    clf.save(args.classifier)


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    if args.classify:
        classify(args)
        return
    if args.score_classifier:
        X_test, y_test = load_mnist("test", data_dir=args.data_dir)
        clf = deepbelief.load(args.score_classifier, device=args.device)
        print(f"DBM classifier: test error {100 * (1 - clf.score(X_test, y_test)):.2f}%")
        return
    X_train, _ = load_mnist("train", data_dir=args.data_dir, binarize="stochastic", seed=0)
    X_test, _ = load_mnist("test", data_dir=args.data_dir, binarize="stochastic", seed=0)
    if args.n_train:
        X_train = X_train[:args.n_train]
    if args.score:
        dbm = deepbelief.load(args.score, device=args.device)
        result = score(dbm, X_train, X_test, args)
        print(json.dumps(result, indent=2))
        return
    Path(args.out).mkdir(parents=True, exist_ok=True)
    dbm = make_dbm(args)
    if args.init or args.init_rbm:
        weights, biases = initial_weights(args, X_train)
        dbm = DBM.from_weights(weights, biases, **{**dbm.get_params(), "warm_start": True})
    average = None
    if args.average_last:
        first = args.epochs - int(round(args.average_last * args.epochs)) + 1
        average = ParameterAverage(first, Path(args.out) / "average", resume=args.resume)
    start = time.perf_counter()
    dbm.fit(X_train, resume=args.resume, callback=average)
    minutes = (time.perf_counter() - start) / 60
    print(f"training: {minutes:.1f} min in this sitting; joint epochs {dbm.n_epochs_}; "
          f"seconds per joint epoch {np.median(dbm.history_['seconds']):.1f}")
    Path(args.model).parent.mkdir(parents=True, exist_ok=True)
    pictures(dbm, Path(args.plot_dir))
    if average is not None and average.n_averaged_:
        print(f"scoring the mean parameters of the last {average.n_averaged_} joint epochs")
        dbm.save(Path(args.model).with_suffix(".final.safetensors"))
        average.apply(dbm)
    dbm.save(args.model)
    result = score(dbm, X_train, X_test, args)
    result["settings"] = vars(args)
    Path(args.out, "result.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
