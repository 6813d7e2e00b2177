"""Gaussian-Bernoulli RBMs: stability, density quality and use in a DBN, beside peers.

Three parts, each measured in one run (peers trained in the same process):

- ``stability``: grayscale MNIST (``--n-train`` training images; pixels as they
  are in [0, 1], and standardised), learning rates 1e-3, 1e-2 and 1e-1, ``--seeds``
  seeds each, ``--epochs`` epochs of minibatches of 100, ``--hidden`` hidden units,
  every estimator with its other settings at their defaults. A run *diverges* when
  its reconstruction error becomes NaN/inf or grows tenfold over its first
  epoch's. Ours against learnergy's ``GaussianRBM``.
- ``quality``: scikit-learn's digits (pixels / 16, and dequantised: (pixel + U(0, 1)) /
  17; a stratified third held out, columns constant on the training images dropped
  for every model), 16 hidden units, the exact test log-likelihood in nats per image
  after the same wall-clock budget of training (``--budget`` seconds): the defaults,
  CD-10, and the Gibbs-Langevin sampler from the data and from noise. Ours against
  learnergy's ``VarianceGaussianRBM`` (the same energy, learned variances, evaluated
  with our exact log Z) and scikit-learn's ``GaussianMixture`` with about as many
  parameters (diagonal and spherical covariances, 5 starts each; on the dequantised
  pixels, which lie in (0, 1), also the mixture of their logits, as the RBM's default
  ``support="auto"`` models them, beside ``support="real"``).
- ``usefulness``: grayscale MNIST (60,000 / 10,000), ``DBNClassifier()`` (a
  784-500-500-2000 net, backprop fine-tuning, defaults) with a Gaussian first
  layer beside the Bernoulli one on the same pixels.
- ``pictures`` (with ``--plot-dir``): a ``GaussianBernoulliRBM(256)`` trained on the
  60,000 grayscale MNIST images with its defaults; its filters and 100 samples
  (1000 Gibbs steps from the visible base rates; shown is the mean of p(v|h) at
  the chain's last hidden state, as the sampled pixels carry the noise σ).
- ``ceiling``: what the 16-hidden-unit model of ``quality`` with ``support="real"``
  (the pixels on the real line) can reach at all. On each
  digits split the same RBM trained by exact maximum likelihood: Adam on the mean
  negative log-likelihood F(v) + log Z, log Z summed exactly over the 2^16 hidden
  states, the gradient by autograd (``--ceiling-steps`` full-batch steps from a CD
  start); the exact training and test log-likelihood every 500 steps.
- ``samples`` (with ``--plot-dir``): a ``GaussianBernoulliRBM`` trained on the 60,000
  grayscale MNIST images by the modified CD of Liao et al. (2022), every update's
  negative chains started from noise and run ``k`` Gibbs-Langevin steps (``SAMPLES``;
  written to ``--model-out``), then ``--n-samples`` (2,000) samples from each of the
  noise starts ``--sample-seeds`` (``--sample-steps`` steps). A recogniser trained on the real
  training images (scikit-learn's ``MLPClassifier((256,))``, 20 epochs) scores the
  mean of p(v|h) of each: the share it recognises as some digit with probability at
  least 0.9, and each digit's share of all samples; beside it the same for 1,000
  real test images, uniform noise, the mean training image and the samples of
  ``GaussianBernoulliRBM(256)`` with its defaults. ``--model FILE`` re-scores a
  saved model instead of training one. ``--sample-k K`` and ``--sample-epochs T``
  change the training's Gibbs-Langevin steps and epochs, ``--set KEY=VALUE`` (a JSON
  number or string) any other keyword of ``SAMPLES``, and ``--score-every N`` scores
  1,000 samples (noise start 0) of the model being trained every N epochs as well.

Usage::

    python bench/gaussian_rbm.py [--parts stability quality usefulness pictures]
        [--n-train 10000] [--hidden 256] [--epochs 10] [--seeds 5] [--budget 30]
        [--plot-dir docs] [--model FILE] [--sample-steps 1000] [--sample-seeds 1 2 3]
        [--n-samples 2000]
        [--sample-k 30] [--sample-epochs 14] [--set KEY=VALUE ...] [--score-every N]

learnergy is installed with ``pip install learnergy`` (its parts are skipped
without it).
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from class_rbm import keyword  # bench/ is on sys.path when run as a script
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import train_test_split

from deepbelief import DBNClassifier, GaussianBernoulliRBM
from deepbelief.datasets import load_digits, load_mnist
from deepbelief.samplers import GibbsLangevin
from deepbelief.transforms import Logit

DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist"
RATES = (1e-3, 1e-2, 1e-1)
#: Our settings of the quality part, each trained for ``--budget`` seconds: the defaults;
#: CD-10 at rate 0.03 (chosen in a few 10-second runs on this very split, so that row is
#: optimistic); the Gibbs-Langevin chain (Liao et al. 2022) from the data, and from noise
#: (the paper's modified CD), Metropolis-adjusted or not.
QUALITY = ({}, {"k": 10, "learning_rate": 0.03},
           {"sampler": GibbsLangevin(10), "learning_rate": 0.03},
           {"sampler": GibbsLangevin(10, from_noise=True), "learning_rate": 0.03},
           {"sampler": GibbsLangevin(50, from_noise=True, adjust=False), "learning_rate": 0.03})
#: The model of the samples part: 500 hidden units, each update's negative chains
#: started from noise and run 30 Gibbs-Langevin steps (Liao et al. 2022's modified CD),
#: each minibatch's statistics clipped to norm 100; 14 epochs, the epoch whose samples
#: were best balanced among the scores of a 20-epoch run (every second epoch, 1,000
#: samples of 30 and 100 steps from noise start 0; the figures reported come from other
#: starts).
SAMPLES = {"n_components": 500, "sampler": GibbsLangevin(30, from_noise=True),
           "learning_rate": 0.03, "max_grad_norm": 100.0, "n_iter": 14}
#: A recogniser's confidence that counts a sample as a digit.
CONFIDENT = 0.9
#: Starts of each GaussianMixture.
GMM_STARTS = 5

try:
    from learnergy.models.gaussian import GaussianRBM, VarianceGaussianRBM
except ImportError:  # the peer is optional
    GaussianRBM = VarianceGaussianRBM = None


def diverged(errors: list[float]) -> bool:
    """NaN/inf, or a reconstruction error ten times the first epoch's."""
    errors = np.asarray(errors, dtype=np.float64)
    return not np.isfinite(errors).all() or errors.max() > 10 * errors[0]


def standardised(X: np.ndarray) -> np.ndarray:
    std = X.std(0)
    return ((X - X.mean(0)) / np.where(std > 0, std, 1.0)).astype(np.float32)


def ours_run(X: np.ndarray, lr: float, seed: int, args) -> list[float]:
    model = GaussianBernoulliRBM(args.hidden, learning_rate=lr, n_iter=args.epochs,
                                 random_state=seed)
    with np.errstate(all="ignore"):
        model.fit(X)
    return model.history_["reconstruction_error"]


def learnergy_run(X: np.ndarray, lr: float, seed: int, args) -> list[float]:
    torch.manual_seed(seed)
    model = GaussianRBM(n_visible=X.shape[1], n_hidden=args.hidden, learning_rate=lr)
    data = torch.utils.data.TensorDataset(torch.from_numpy(X), torch.zeros(len(X)))
    try:
        model.fit(data, batch_size=100, epochs=args.epochs)
    except RuntimeError:  # NaN probabilities reach torch.bernoulli: it diverged
        return [*model.history.get("mse", [1.0]), float("nan")]
    return [float(e) for e in model.history["mse"]]


def stability(args) -> None:
    X, _ = load_mnist("train", data_dir=args.data_dir)
    X = X[np.random.default_rng(0).permutation(len(X))[:args.n_train]]
    peers = [("deepbelief GaussianBernoulliRBM", ours_run)]
    if GaussianRBM is not None:
        peers.append(("learnergy GaussianRBM", learnergy_run))
    print(f"stability: grayscale MNIST, {len(X)} images, {args.hidden} hidden units, "
          f"{args.epochs} epochs, {args.seeds} seeds per learning rate")
    print(f"{'model':34s} {'inputs':13s} " + "  ".join(f"lr {lr:g}" for lr in RATES)
          + "   diverged   seconds")
    for name, run in peers:
        for scaling, data in (("[0, 1] pixels", X), ("standardised", standardised(X))):
            counts, start = [], time.perf_counter()
            for lr in RATES:
                counts.append(sum(diverged(run(data, lr, seed, args))
                                  for seed in range(args.seeds)))
            seconds = time.perf_counter() - start
            cells = "  ".join(f"{c:>2d}/{args.seeds:<4d}" for c in counts)
            print(f"{name:34s} {scaling:13s} {cells}   {sum(counts):2d}/{len(RATES) * args.seeds}"
                  f"    {seconds:7.1f}", flush=True)


def digits_split(dequantise: bool) -> tuple[np.ndarray, np.ndarray]:
    """The digits (pixels / 16, or dequantised: (pixel + U(0, 1)) / 17), a stratified third
    held out, the columns constant on the training images dropped."""
    X, y = load_digits()
    if dequantise:
        noise = np.random.default_rng(0).random(X.shape)
        X = ((np.rint(X * 16) + noise) / 17).astype(np.float32)
    X, X_test = train_test_split(X, test_size=1 / 3, stratify=y, random_state=0)
    keep = X.std(0) > 0
    return X[:, keep], X_test[:, keep]


def quality(args) -> None:
    for dequantise in (False, True):
        quality_on(*digits_split(dequantise), "dequantised" if dequantise else "pixels / 16",
                   args)


def budget_fit(settings: dict, X: np.ndarray, X_test: np.ndarray, budget: float) -> None:
    """One of our rows: ``budget`` seconds of epochs, then the exact test log-likelihood."""
    ours = GaussianBernoulliRBM(16, n_iter=1, random_state=0, **settings)
    start = time.perf_counter()
    ours.fit(X)
    while time.perf_counter() - start < budget:
        ours.partial_fit(X)
    seconds = time.perf_counter() - start
    label = ", ".join(f"{k}={v!r}" for k, v in settings.items()) or "defaults"
    print(f"  deepbelief GaussianBernoulliRBM   {ours.score_samples(X_test).mean():9.2f}   "
          f"({ours.n_epochs_} epochs, {seconds:.0f} s, {label})", flush=True)


def quality_on(X: np.ndarray, X_test: np.ndarray, name: str, args) -> None:
    d, n_hidden = X.shape[1], 16
    n_params = n_hidden * d + n_hidden + 2 * d
    print(f"quality: digits ({name}), {len(X)} training / {len(X_test)} test images, {d} "
          f"varying pixels, {n_hidden} hidden units ({n_params} parameters), {args.budget:g} s "
          "of training each; exact test log-likelihood in nats per image")

    for support in ("auto", "real"):
        start = time.perf_counter()
        ours = GaussianBernoulliRBM(n_hidden, support=support, random_state=0).fit(X)
        print(f"  deepbelief GaussianBernoulliRBM   {ours.score_samples(X_test).mean():9.2f}   "
              f"(fit() with support={support!r}, its other defaults: {ours.n_epochs_} epochs, "
              f"{time.perf_counter() - start:.1f} s; {ours.unit_columns_.sum()} of {d} "
              "columns modelled on (0, 1) by their logit)", flush=True)
    for settings in QUALITY:
        budget_fit(settings, X, X_test, args.budget)
    if VarianceGaussianRBM is not None:
        learnergy_quality(X, X_test, args)
    gmm_quality(X, X_test, n_params)
    if ((X > 0) & (X < 1)).all():
        gmm_quality(X, X_test, n_params, logit=True)


def learnergy_quality(X: np.ndarray, X_test: np.ndarray, args) -> None:
    d, n_hidden = X.shape[1], 16
    for lr in (0.1, 0.01, 0.001):  # its default, then smaller steps
        torch.manual_seed(0)
        peer = VarianceGaussianRBM(n_visible=d, n_hidden=n_hidden, learning_rate=lr)
        data = torch.utils.data.TensorDataset(torch.from_numpy(X), torch.zeros(len(X)))
        start, epochs = time.perf_counter(), 0
        while time.perf_counter() - start < args.budget:
            peer.fit(data, batch_size=100, epochs=1)
            epochs += 1
        with torch.no_grad():
            finite = all(bool(torch.isfinite(t).all()) for t in (peer.W, peer.a, peer.b,
                                                                  peer.sigma))
            ll = float("nan")
            if finite:
                variance = peer.sigma.double() ** 2 + torch.finfo(torch.float32).eps
                as_ours = GaussianBernoulliRBM.from_weights(
                    peer.W.T.double(), peer.a.double(), peer.b.double(),
                    log_var=torch.log(variance), standardize=False, dtype="float64")
                ll = as_ours.score_samples(X_test).mean()
        print(f"  learnergy VarianceGaussianRBM     {ll:9.2f}   ({epochs} epochs, "
              f"learning_rate={lr:g})", flush=True)


def gmm_quality(X: np.ndarray, X_test: np.ndarray, n_params: int, logit: bool = False) -> None:
    """GaussianMixture with about ``n_params`` parameters: the first start, the best of
    ``GMM_STARTS`` by training likelihood (``n_init``), and the best by test likelihood.

    ``logit``: the mixture models log(x / (1 - x)), as the RBM's ``support="unit"``
    does, its test density the density of x (the Jacobian added).
    """
    d, log_det, name = X.shape[1], 0.0, "GaussianMixture"
    if logit:  # the library's own transform, as the RBM uses it
        x, x_test = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(X_test,
                                                                             dtype=torch.float64)
        t = Logit("unit").fit(x)
        log_det = float(t.log_abs_det_jacobian(x_test).mean())
        X, X_test, name = t.forward(x).numpy(), t.forward(x_test).numpy(), "... on logits"
    for kind, per_component in (("diag", 2 * d + 1), ("spherical", d + 2)):
        k = max(1, round(n_params / per_component))
        start = time.perf_counter()
        tests = [GaussianMixture(k, covariance_type=kind, random_state=seed,
                                 max_iter=500).fit(X).score(X_test) + log_det
                 for seed in range(GMM_STARTS)]
        chosen = GaussianMixture(k, covariance_type=kind, random_state=0, max_iter=500,
                                 n_init=GMM_STARTS).fit(X).score(X_test) + log_det
        print(f"  scikit-learn {name:20s} {tests[0]:9.2f}   ({k} {kind} components, "
              f"{k * per_component - 1} parameters; best of {GMM_STARTS} starts by training "
              f"likelihood {chosen:.2f}, by test likelihood {max(tests):.2f}; "
              f"{(time.perf_counter() - start) / (2 * GMM_STARTS):.1f} s a fit)", flush=True)


def usefulness(args) -> None:
    X, y = load_mnist("train", data_dir=args.data_dir)
    X_test, y_test = load_mnist("test", data_dir=args.data_dir)
    print(f"usefulness: grayscale MNIST, {len(X)} / {len(X_test)} images, DBNClassifier() "
          "defaults (784-500-500-2000, backprop)")
    for units in ("bernoulli", "gaussian"):
        start = time.perf_counter()
        model = DBNClassifier(visible_units=units, random_state=0).fit(X, y)
        seconds = time.perf_counter() - start
        error = 100 * (1 - model.score(X_test, y_test))
        print(f"  visible_units={units!r:12s} test error {error:5.2f}%   {seconds / 60:5.1f} min "
              f"(pre-training {model.times_['pretrain'] / 60:.1f} min, "
              f"{model.n_epochs_} fine-tuning epochs)", flush=True)


def pictures(args) -> None:
    from deepbelief.plot import tile_images

    X, _ = load_mnist("train", data_dir=args.data_dir)
    start = time.perf_counter()
    rbm = GaussianBernoulliRBM(256, random_state=0).fit(X)
    print(f"pictures: GaussianBernoulliRBM(256) on {len(X)} grayscale MNIST images, "
          f"{rbm.n_epochs_} epochs, {time.perf_counter() - start:.0f} s; reconstruction "
          f"error {rbm.history_['reconstruction_error'][-1]:.1f} (standardised units)")
    v = rbm.sample(100, steps=1000, random_state=0)
    means = rbm.p_v_given_h(rbm.sample_h_given_v(v))
    out = Path(args.plot_dir)
    out.mkdir(parents=True, exist_ok=True)
    tile_images(rbm.components_[:100], path=out / "gaussian_rbm_filters.png",
                title="Gaussian-Bernoulli RBM filters (rows of W)")
    tile_images(np.clip(means, 0, 1), path=out / "gaussian_rbm_samples.png", normalize=None,
                title="Gaussian-Bernoulli RBM samples (1000 Gibbs steps)")
    print(f"wrote {out / 'gaussian_rbm_filters.png'} and {out / 'gaussian_rbm_samples.png'}")


def ceiling(args) -> None:
    for dequantise in (False, True):
        X, X_test = digits_split(dequantise)
        print(f"ceiling: digits ({'dequantised' if dequantise else 'pixels / 16'}), 16 hidden "
              "units trained by exact maximum likelihood; nats per image, train / test")
        exact_maximum_likelihood(X, X_test, args.ceiling_steps)


def exact_maximum_likelihood(X: np.ndarray, X_test: np.ndarray, steps: int) -> None:
    """Adam on F(v) + log Z from a 5-epoch CD start (in float64); prints the exact
    log-likelihoods every 500 steps."""
    from deepbelief.model import RBM
    from deepbelief.units import Gaussian

    start = GaussianBernoulliRBM(16, n_iter=5, dtype="float64", support="real",
                                 random_state=0).fit(X)
    transform = start.input_transform_
    z = transform.forward(torch.as_tensor(X, dtype=torch.float64))
    params = [t.detach().clone().requires_grad_() for t in
              (start.W_, start.b_, start.c_, start.model_.visible.log_var)]
    states = ((torch.arange(2**16)[:, None] >> torch.arange(16)) & 1).to(torch.float64)
    opt = torch.optim.Adam(params, lr=0.01)
    for step in range(1, steps + 1):
        W, b, c, log_var = params
        model = RBM(W, b, c, Gaussian(log_var))
        nll = model.free_energy(z).mean() + torch.logsumexp(-model.hidden_free_energy(states), 0)
        opt.zero_grad()
        nll.backward()
        opt.step()
        if step % 500 == 0 or step == steps:
            rbm = GaussianBernoulliRBM.from_weights(
                *(t.detach() for t in params[:3]), log_var=params[3].detach(),
                mean=transform.shift, scale=transform.scale, dtype="float64")
            print(f"  step {step:5d}: {rbm.score_samples(X).mean():7.2f} / "
                  f"{rbm.score_samples(X_test).mean():7.2f}", flush=True)


def recognised(clf, images: np.ndarray) -> tuple[float, np.ndarray]:
    """The share of ``images`` that ``clf`` gives some digit with probability ≥ CONFIDENT,
    and each digit's share of all the images."""
    p = clf.predict_proba(np.clip(images, 0.0, 1.0))
    sure = p.max(1) >= CONFIDENT
    return float(sure.mean()), np.bincount(p.argmax(1)[sure], minlength=10) / len(images)


def _noise_samples(rbm: GaussianBernoulliRBM, n: int, steps: int, seed: int = 0) -> np.ndarray:
    """The mean of p(v | h) at the last hidden states of ``n`` chains of ``steps`` steps
    (noise start ``seed``; every draw from generators of ``seed``, never the model's own,
    so that scoring during training leaves the training's random stream alone)."""
    v = rbm.sample(n, steps=steps, random_state=seed)
    h = torch.bernoulli(torch.as_tensor(rbm.transform(v)),
                        generator=torch.Generator().manual_seed(seed))
    return rbm.p_v_given_h(h.numpy())


def _every(n: int | None, clf, steps: int):
    """An epoch callback printing the recognised share of 1,000 samples every ``n`` epochs."""
    if not n:
        return None

    def score(rbm: GaussianBernoulliRBM) -> None:
        if rbm.n_epochs_ % n == 0:
            share, per_class = recognised(clf, _noise_samples(rbm, 1000, steps))
            print(f"  epoch {rbm.n_epochs_}: recognised {share:.3f}; per digit "
                  f"{' '.join(f'{c:.3f}' for c in per_class)}", flush=True)
    return score


def samples(args) -> None:
    from sklearn.neural_network import MLPClassifier

    from deepbelief import load
    from deepbelief.plot import tile_images

    X, y = load_mnist("train", data_dir=args.data_dir)
    X_test, y_test = load_mnist("test", data_dir=args.data_dir)
    X, X_test = X.astype(np.float32), X_test.astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 20 epochs do not converge, as meant
        clf = MLPClassifier((256,), max_iter=20, random_state=0).fit(X, y)
    print(f"samples: recogniser MLPClassifier((256,)) on {len(X)} real images, test accuracy "
          f"{clf.score(X_test, y_test):.4f}; 'recognised' = probability ≥ {CONFIDENT}")
    start = time.perf_counter()
    if args.model:
        rbm = load(args.model)
        print(f"  model {args.model}")
    else:
        settings = {**SAMPLES, "sampler": GibbsLangevin(args.sample_k, from_noise=True),
                    "n_iter": args.sample_epochs, **args.set}
        rbm = GaussianBernoulliRBM(**settings, random_state=0).fit(
            X, callback=_every(args.score_every, clf, args.sample_steps))
        print(f"  GaussianBernoulliRBM({settings}) {rbm.n_epochs_} epochs, "
              f"{time.perf_counter() - start:.0f} s")
        rbm.save(args.model_out)
        print(f"  wrote {args.model_out}")
    rng = np.random.default_rng(0)
    default = GaussianBernoulliRBM(256, random_state=0).fit(X)
    rows = {f"samples from noise, {args.sample_steps} steps, noise {seed}": _noise_samples(
                rbm, args.n_samples, args.sample_steps, seed) for seed in args.sample_seeds}
    rows |= {"real test images": X_test[:1000], "uniform noise": rng.random((1000, 784)),
             "the mean training image": np.repeat(X.mean(0, keepdims=True), 10, 0),
             "GaussianBernoulliRBM(256) defaults, 1000 steps": _noise_samples(default, 1000,
                                                                              1000)}
    for name, images in rows.items():
        share, per_class = recognised(clf, images)
        print(f"  {name:48s} recognised {share:.3f}; per digit "
              f"{' '.join(f'{c:.3f}' for c in per_class)}")
    out = Path(args.plot_dir)
    out.mkdir(parents=True, exist_ok=True)
    first = next(iter(rows.values()))[:100]
    tile_images(np.clip(first, 0, 1), path=out / "gaussian_rbm_noise_samples.png",
                normalize=None, title=f"Gaussian-Bernoulli RBM samples from noise "
                                      f"({args.sample_steps} Gibbs-Langevin steps)")
    print(f"  wrote {out / 'gaussian_rbm_noise_samples.png'}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--parts", nargs="+",
                   choices=("stability", "quality", "usefulness", "pictures", "ceiling",
                            "samples"),
                   default=["stability", "quality", "usefulness"])
    p.add_argument("--plot-dir", default="docs")
    p.add_argument("--data-dir", default=str(DATA_DIR.resolve()))
    p.add_argument("--n-train", type=int, default=10000)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--budget", type=float, default=30.0, help="seconds of training (quality)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--model", help="a saved model to re-score (samples)")
    p.add_argument("--model-out", default=str(Path(__file__).parent / "models"
                                              / "grbm_mnist_noise_clip.safetensors"))
    p.add_argument("--sample-steps", type=int, default=1000)
    p.add_argument("--sample-seeds", type=int, nargs="+", default=[1, 2, 3],
                   help="noise starts of the samples scored (samples)")
    p.add_argument("--n-samples", type=int, default=2000,
                   help="samples scored from each noise start (samples)")
    p.add_argument("--ceiling-steps", type=int, default=3000)
    p.add_argument("--sample-k", type=int, default=30,
                   help="Gibbs-Langevin steps from noise in training (samples)")
    p.add_argument("--sample-epochs", type=int, default=14)
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                   help="other GaussianBernoulliRBM keywords of the samples part")
    p.add_argument("--score-every", type=int, default=None,
                   help="score the samples every N epochs of training")
    args = p.parse_args()
    args.set = dict(keyword(item) for item in args.set)
    torch.set_num_threads(args.threads)
    if GaussianRBM is None:
        print("learnergy is not installed: its rows are skipped")
    for part in args.parts:
        globals()[part](args)
        print()


if __name__ == "__main__":
    main()
