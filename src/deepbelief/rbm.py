"""The Bernoulli RBM as a scikit-learn estimator (slides §4)."""

from __future__ import annotations

import sys
import time
from functools import partial
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from . import distributed
from . import functional as fn
from ._sparse import chunks, column_sum, dense
from ._sparse import rows as sparse_rows
from ._validation import (
    CHUNK,
    as_tensor2d,
    check_positive,
    check_X,
    make_generator,
    minibatch_check,
    resolve_device,
    resolve_dtype,
    resolve_epochs,
    to_numpy,
)
from .checkpoint import Checkpointer
from .data import Minibatches, is_stream
from .io import check_tensor, register, save
from .model import RBM
from .sampling import GibbsSampler, ParallelTempering
from .training import CDTrainer
from .units import BINARY, Units

_MONITOR_ROWS = 1000
#: Multiplier of the hash that picks, from a row's own content, the visible unit
#: whose flip the pseudo-log-likelihood compares (Knuth's multiplicative hash).
_FLIP_HASH = 2654435761


@register
class BernoulliRBM(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Restricted Boltzmann machine with binary visible and hidden units.

    E(v, h) = -bᵀv - cᵀh - hᵀWv, trained by contrastive divergence (CD-k) or
    persistent CD with momentum SGD.

    Parameters
    ----------
    n_components : int, default=256
        Number of hidden units n.
    k : int, default=1
        Gibbs steps per update (CD-k).
    persistent : bool, default=False
        Keep the negative chains across minibatches (persistent CD).
    n_temperatures : int, default=1
        More than 1: the negative phase comes from parallel tempering
        (Desjardins et al. 2010), persistent chains at this many inverse
        temperatures spaced evenly from 1 down to ``min_beta``, neighbours swapping
        states after every Gibbs step (``k`` steps per update); only the β = 1
        chains feed the gradient. Its chains persist whatever ``persistent`` says.
    min_beta : float, default=0.5
        The hottest chain's inverse temperature, in (0, 1).
    fast_learning_rate : float, default=0.0
        Fast-weights PCD (Tieleman & Hinton 2009) when positive: the persistent
        chains sample with the parameters plus fast ones that take every step
        scaled by ``fast_learning_rate / learning_rate`` and decay by 19/20 per
        update. Needs ``persistent=True``; 0 disables it.
    sample_visible : bool, default=False
        Sample binary visible reconstructions in plain CD; by default they are the
        probabilities p(v|h) (practical guide). Persistent chains are always sampled.
    learning_rate : float, default=0.1
        Step size on the batch-averaged statistics.
    momentum : float, default=0.9
        Momentum after the first ``momentum_epochs`` epochs.
    initial_momentum : float, default=0.5
        Momentum during the first ``momentum_epochs`` epochs (practical guide).
    momentum_epochs : int, default=5
        Epochs run at ``initial_momentum``.
    weight_decay : float, default=1e-4
        L2 penalty on W.
    learning_rate_decay : float, default=0.0
        The rate at epoch t is ``learning_rate / (1 + learning_rate_decay * t)``.
    batch_size : int, default=100
    n_iter : int or "auto", default="auto"
        Epochs run by :meth:`fit`. ``"auto"`` sizes training in updates: at least
        10 epochs and at least 6,000 minibatch updates (10 epochs of MNIST, about
        330 of the 1.8k digits), 10 epochs for a stream of minibatches.
    device : str or torch.device, default="cpu"
        Where tensors live and compute happens ("cuda" for a GPU).
    dtype : {"float32", "float64"} or None, default=None
        Floating-point type of the parameters and outputs. None follows the
        training data, as scikit-learn does: float32 data gives float32, float64
        (and integer or boolean) data float64. A stream follows its first minibatch.
    mean_field : bool, default=False
        Deterministic mean-field CD: probabilities instead of samples in the chain.
    centring : float, default=0.0
        Follow the centred gradient (Melchior, Fischer & Wiskott 2016), with
        offsets tracking the data means of v and p(h|v) at this moving-average
        rate (0.01 is theirs); 0 trains with the plain gradient. The model is the
        same RBM either way; centring only changes the path of training.
    checkpoint_dir : str, optional
        Write a checkpoint every ``checkpoint_every`` epochs there (atomically);
        ``fit(..., resume=True)`` continues from the newest.
    checkpoint_every : int, default=1
    random_state : int, numpy or torch generator, or None
        Seeds initialisation, shuffling and every Bernoulli draw.
    verbose : bool, default=False
        Show a progress bar (on stderr) and print one line per epoch on stdout, as
        scikit-learn does: ``[BernoulliRBM] Iteration 3, pseudo-likelihood = -15.37,
        time = 0.05s, reconstruction error = 5.12`` (the figures of ``history_``).

    Attributes
    ----------
    model_ : deepbelief.model.RBM
        The RBM core: tensors ``W_``, ``b_``, ``c_`` and the unit types.
    components_ : ndarray of shape (n_components, n_features)
        W, as NumPy (the tensor itself is ``W_``).
    intercept_hidden_ : ndarray of shape (n_components,)
        c (tensor ``c_``).
    intercept_visible_ : ndarray of shape (n_features,)
        b (tensor ``b_``).
    history_ : dict of lists
        Per-epoch ``reconstruction_error`` and ``pseudo_log_likelihood`` on a fixed
        subset of the training data, ``free_energy_gap`` (held-out minus training
        mean free energy) when ``validation_data`` is given, and ``seconds``.
    n_features_in_ : int
    n_epochs_ : int
        Epochs trained so far.
    """

    def __init__(self, n_components: int = 256, *, k: int = 1, persistent: bool = False,
                 n_temperatures: int = 1, min_beta: float = 0.5,
                 fast_learning_rate: float = 0.0, sample_visible: bool = False,
                 learning_rate: float = 0.1, momentum: float = 0.9,
                 initial_momentum: float = 0.5, momentum_epochs: int = 5,
                 weight_decay: float = 1e-4, learning_rate_decay: float = 0.0,
                 batch_size: int = 100, n_iter: int | str = "auto", device: Any = "cpu",
                 dtype: str | None = None, mean_field: bool = False, centring: float = 0.0,
                 checkpoint_dir: str | None = None, checkpoint_every: int = 1,
                 random_state: Any = None, verbose: bool = False) -> None:
        self.n_components = n_components
        self.k = k
        self.persistent = persistent
        self.n_temperatures = n_temperatures
        self.min_beta = min_beta
        self.fast_learning_rate = fast_learning_rate
        self.sample_visible = sample_visible
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.initial_momentum = initial_momentum
        self.momentum_epochs = momentum_epochs
        self.weight_decay = weight_decay
        self.learning_rate_decay = learning_rate_decay
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.device = device
        self.dtype = dtype
        self.mean_field = mean_field
        self.centring = centring
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ setup
    def _check_params(self) -> None:
        check_positive(self.n_components, "n_components", integer=True)
        check_positive(self.k, "k", integer=True)
        check_positive(self.batch_size, "batch_size", integer=True)
        check_positive(self.n_temperatures, "n_temperatures", integer=True)
        if isinstance(self.min_beta, bool) or not isinstance(self.min_beta, (int, float)) \
                or not 0 < self.min_beta < 1:
            raise ValueError(f"min_beta must be in (0, 1), got {self.min_beta!r}")
        check_positive(self.fast_learning_rate, "fast_learning_rate", allow_zero=True)
        if self.fast_learning_rate and (not self.persistent or self.n_temperatures > 1):
            raise ValueError("fast_learning_rate needs persistent=True and n_temperatures=1")
        if self.n_iter != "auto":
            check_positive(self.n_iter, "n_iter", integer=True)
        check_positive(self.checkpoint_every, "checkpoint_every", integer=True)
        check_positive(self.momentum_epochs, "momentum_epochs", integer=True, allow_zero=True)
        check_positive(self.learning_rate, "learning_rate")
        check_positive(self.weight_decay, "weight_decay", allow_zero=True)
        check_positive(self.learning_rate_decay, "learning_rate_decay", allow_zero=True)
        c = self.centring
        if isinstance(c, bool) or not isinstance(c, (int, float)) or not 0 <= c <= 1:
            raise ValueError(f"centring must be a rate in [0, 1], got {c!r}")
        for name in ("momentum", "initial_momentum"):
            m = getattr(self, name)
            if isinstance(m, bool) or not isinstance(m, (int, float)) or not 0 <= m < 1:
                raise ValueError(f"{name} must be in [0, 1), got {m!r}")
        resolve_dtype(self.dtype)

    def _validate(self, X, name: str = "X", *, reset: bool = False, hidden: bool = False,
                  keep_sparse: bool = False) -> torch.Tensor:
        """``X`` (or hidden states) checked against the fitted model; see :func:`check_X`.

        A sparse matrix (values in [0, 1] checked on its stored entries) stays a
        sparse tensor with ``keep_sparse`` (training, :meth:`transform`), and is
        made dense otherwise.
        """
        if reset:
            t = check_X(self, X, reset=True, dtype=resolve_dtype(self.dtype),
                        device=resolve_device(self.device), name=name, accept_sparse=True)
        else:
            check_is_fitted(self, "model_")
            t = check_X(self, X, reset=False, dtype=self.W_.dtype, device=self.W_.device,
                        name=name, n_features=self.n_components_ if hidden else None,
                        accept_sparse=not hidden)
        return t if keep_sparse else dense(t)

    #: The per-epoch figures of ``history_`` besides ``seconds``.
    _MONITORS: tuple[str, ...] = ("reconstruction_error", "pseudo_log_likelihood")

    def _visible_units(self, like: torch.Tensor) -> Units:
        """The visible layer's unit types (binary) for parameters like ``like``'s last axis."""
        return BINARY

    def _to_input(self, v: torch.Tensor) -> torch.Tensor:
        """Visible states in the coordinates of the inputs (the same for binary units)."""
        return v

    def _input_log_det(self) -> float:
        """log |det| of the map from the inputs to the visible units' values (none: 0)."""
        return 0.0

    def _initialize(self, X: torch.Tensor) -> None:
        """W ~ N(0, 0.01²), c = 0, b = log(p / (1 - p)) of the data's means p."""
        self._rng = make_generator(self.random_state, X.device)
        d = X.shape[1]
        self.n_features_in_ = d
        self.n_components_ = self.n_components
        self.model_ = RBM.initial(self.n_components, column_sum(X) / X.shape[0], self._rng,
                                  self._visible_units(X))
        if distributed.is_distributed():
            # Rank 0's initialisation everywhere; each other rank draws its own samples.
            distributed.broadcast_(self.W_, self.b_)
            if distributed.rank() > 0:  # a new generator: never reseed the caller's
                seed = self._rng.initial_seed() + distributed.rank()
                self._rng = torch.Generator(X.device).manual_seed(seed)
        self.n_epochs_ = 0
        self.history_ = {name: [] for name in (*self._MONITORS, "seconds")}
        self._trainer = None

    def _get_trainer(self) -> CDTrainer:
        if getattr(self, "_trainer", None) is None:
            self._trainer = CDTrainer(
                self.model_, k=self.k, persistent=self.persistent,
                sample_visible=self.sample_visible, mean_field=self.mean_field,
                centring=float(self.centring), tempering=self._betas(),
                fast_learning_rate=float(self.fast_learning_rate),
                reducer=distributed.all_reduce_sum if distributed.is_distributed() else None)
        return self._trainer

    def _betas(self) -> list[float] | None:
        """Parallel tempering's inverse temperatures, 1 down to ``min_beta`` (None: no PT)."""
        n = self.n_temperatures
        if n == 1:
            return None
        return [1.0 - (1.0 - self.min_beta) * i / (n - 1) for i in range(n)]

    # ---------------------------------------------------------------- training
    def fit(self, X, y=None, *, validation_data=None, callback=None,
            resume: bool = False) -> BernoulliRBM:
        """Train for ``n_iter`` epochs from a fresh initialisation (or a checkpoint).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), values in [0, 1]; or an
            iterable of such minibatches (e.g. a ``torch.utils.data.DataLoader``,
            whose ``(x, y)`` items use ``x``), re-iterable when ``n_iter > 1``.
            Arrays move to the device once; iterables are fed batch by batch in
            their own order.
        y : ignored.
        validation_data : array-like, optional
            Held-out rows for the free-energy-gap overfitting signal.
        callback : callable, optional
            Called as ``callback(self)`` after each epoch.
        resume : bool, default=False
            Continue from the newest complete checkpoint in ``checkpoint_dir``
            (if any) up to ``n_iter`` epochs in all; the result is bit-identical
            to an uninterrupted run with the same ``random_state``.
        """
        self._check_params()
        if resume and self.checkpoint_dir is None:
            raise ValueError("resume=True needs checkpoint_dir")
        data = self._minibatches(X, reset=True)
        self._initialize(data.first)
        n_epochs = self.n_epochs_for(data)
        if resume:
            self._restore_checkpoint()
        valid = None
        if validation_data is not None:
            valid = self._validate(validation_data, "validation_data")
        self._run_epochs(data, n_epochs - self.n_epochs_, valid, data.first, callback)
        return self

    def n_epochs_for(self, X) -> int:
        """The epochs :meth:`fit` runs on ``X`` (``n_iter``, or what ``"auto"`` gives)."""
        if isinstance(X, Minibatches):
            n_samples = X.n_samples
        else:
            n_samples = None if is_stream(X) else np.shape(X)[0]
        return resolve_epochs(self.n_iter, "n_iter", n_samples, self.batch_size)

    def partial_fit(self, X, y=None) -> BernoulliRBM:
        """One epoch over ``X``, continuing from the current state (initialising if unfitted)."""
        if not hasattr(self, "model_"):
            self._check_params()
            data = self._minibatches(X, reset=True, passes=1)
            self._initialize(data.first)
        else:
            data = self._minibatches(X, reset=False, passes=1)
        self._run_epochs(data, 1, None, data.first)
        return self

    def _minibatches(self, X, *, reset: bool, passes: int | None = None) -> Minibatches:
        """``X`` as a validated source of minibatches (a given source is used as is)."""
        if isinstance(X, Minibatches):
            return X
        if passes is None:
            passes = self.n_epochs_for(X) if is_stream(X) else 1
        # A stream's later minibatches come after _initialize: checked against the model.
        validate = partial(self._validate, keep_sparse=True)
        return Minibatches(X, check=minibatch_check(validate, fitted=not reset), passes=passes)

    def _epoch_settings(self) -> tuple[float, float]:
        t = self.n_epochs_
        lr = self.learning_rate / (1.0 + self.learning_rate_decay * t)
        momentum = self.initial_momentum if t < self.momentum_epochs else self.momentum
        return lr, momentum

    def _run_epochs(self, data: Minibatches, n_epochs: int, valid: torch.Tensor | None,
                    first: torch.Tensor, callback=None) -> None:
        trainer = self._get_trainer()
        step = max(1, first.shape[0] // _MONITOR_ROWS)
        picked = torch.arange(0, first.shape[0], step, device=first.device)[:_MONITOR_ROWS]
        monitor = dense(sparse_rows(first, picked))
        show = self.verbose and distributed.is_main_process()
        bar = tqdm(range(n_epochs), desc="RBM", unit="epoch", disable=not show)
        checkpoints = Checkpointer(self.checkpoint_dir, self.checkpoint_every)
        for epoch in bar:
            start = time.perf_counter()
            self._train_pass(data, trainer)
            self._record(monitor, valid, time.perf_counter() - start)
            bar.set_postfix({k: f"{v[-1]:.4g}" for k, v in self.history_.items()
                             if k != "seconds"})
            if show:  # tqdm.write keeps the bar (on stderr) intact
                tqdm.write(self._epoch_line(), file=sys.stdout)
            checkpoints.maybe_save(self.n_epochs_, epoch == n_epochs - 1, self._state())
            if callback is not None:
                callback(self)

    #: How :meth:`_epoch_line` names the figures of ``history_``, in its order.
    _EPOCH_FIGURES = {"pseudo_log_likelihood": "pseudo-likelihood",
                      "reconstruction_error": "reconstruction error",
                      "free_energy_gap": "free-energy gap"}

    def _epoch_line(self) -> str:
        """The last epoch as scikit-learn's verbose line: ``[Class] Iteration t,
        pseudo-likelihood = -15.37, time = 0.05s``, then the other figures.

        The first figure monitored (the pseudo-likelihood, or the reconstruction error
        where it is not) comes before the time, as in scikit-learn's line.
        """
        figures = [f"{name} = {self.history_[key][-1]:.2f}"
                   for key, name in self._EPOCH_FIGURES.items() if self.history_.get(key)]
        figures.insert(min(1, len(figures)), f"time = {self.history_['seconds'][-1]:.2f}s")
        return f"[{type(self).__name__}] Iteration {self.n_epochs_}, " + ", ".join(figures)

    def train_epoch(self, X, trainer: CDTrainer | None = None) -> None:
        """One pass of minibatch updates over ``X``.

        A tensor is visited in a random order (rank 0's order in a process group,
        each rank taking its share of every minibatch); an iterable of minibatches
        in its own order.
        """
        self._train_pass(self._minibatches(X, reset=False, passes=1), trainer)

    def _train_pass(self, data: Minibatches, trainer: CDTrainer | None = None) -> None:
        trainer = trainer or self._get_trainer()
        lr, momentum = self._epoch_settings()
        for batch in data.epoch(self._rng, self.batch_size):
            trainer.step(batch.x, lr, momentum, self.weight_decay, self._rng)
        self.n_epochs_ += 1

    # ------------------------------------------------------------- checkpoints
    def _state(self) -> dict:
        """Everything a resumed run needs (see :mod:`deepbelief.checkpoint`)."""
        return {"model": self.model_.state_dict(), "trainer": self._get_trainer().state_dict(),
                "rng": self._rng.get_state(), "n_epochs": self.n_epochs_,
                "history": self.history_}

    def _restore_checkpoint(self) -> None:
        state = Checkpointer(self.checkpoint_dir).load()
        if state is None:
            return
        try:
            self.model_.load_state_dict(state["model"])
        except ValueError as exc:
            raise ValueError(f"checkpoint in {self.checkpoint_dir} does not fit an RBM of "
                             f"shape {list(self.W_.shape)}: {exc}") from None
        self._rng.set_state(state["rng"])
        self._get_trainer().load_state_dict(state["trainer"])
        self.n_epochs_ = int(state["n_epochs"])
        self.history_ = state["history"]

    @torch.no_grad()
    def _record(self, monitor: torch.Tensor, valid: torch.Tensor | None, seconds: float) -> None:
        model = self.model_
        recon = model.p_v_given_h(model.p_h_given_v(monitor))
        err = ((monitor - recon) ** 2).sum(1).mean()
        self.history_["reconstruction_error"].append(float(err))
        if "pseudo_log_likelihood" in self._MONITORS:
            self.history_["pseudo_log_likelihood"].append(
                float(self._pseudo_log_likelihood(monitor).mean()))
        if valid is not None:
            f_train = model.free_energy(monitor).mean()
            f_valid = model.free_energy(valid[:_MONITOR_ROWS]).mean()
            self.history_.setdefault("free_energy_gap", []).append(float(f_valid - f_train))
        self.history_["seconds"].append(seconds)

    # ------------------------------------------------------- estimator outputs
    def transform(self, X) -> np.ndarray:
        """Hidden-unit probabilities p(h = 1 | v) for each row of ``X``.

        A sparse ``X`` (SciPy CSR/CSC/COO, e.g. bag-of-words counts scaled into
        [0, 1]) is multiplied as a sparse tensor.
        """
        v = self._validate(X, keep_sparse=True)
        with torch.no_grad():
            out = torch.cat([self.model_.p_h_given_v(chunk) for chunk in chunks(v, CHUNK)])
        return to_numpy(out)

    def score_samples(self, X) -> np.ndarray:
        """Pseudo-log-likelihood of each row: d · log σ(F(ṽ) - F(v)).

        ṽ flips one visible unit chosen from the row's own content, so a sample
        always gets the same score whatever else is in the batch.
        """
        v = self._validate(X, keep_sparse=True)
        with torch.no_grad():
            out = torch.cat([self._pseudo_log_likelihood(dense(chunk))
                             for chunk in chunks(v, CHUNK)])
        return to_numpy(out)

    def _pseudo_log_likelihood(self, v: torch.Tensor) -> torch.Tensor:
        d = v.shape[1]
        weights = torch.arange(1, d + 1, device=v.device, dtype=torch.int64) * _FLIP_HASH
        flip = ((v * 255).round().to(torch.int64) * weights).sum(1).remainder(d)
        return fn.pseudo_log_likelihood(v, self.W_, self.b_, self.c_, flip)

    def sample(self, n_samples: int = 1, steps: int = 1000, *, random_state=None,
               init=None) -> np.ndarray:
        """Visible states after ``steps`` block-Gibbs steps.

        Chains start from ``init`` (rows in [0, 1]) or, by default, from independent
        draws of σ(b), the visible units' base rates. With ``n_temperatures`` > 1
        the chains are parallel tempering's (the same ladder as in training; each
        step one Gibbs step at every temperature and a round of swaps), and the
        β = 1 chains are returned.
        """
        check_is_fitted(self, "model_")
        check_positive(n_samples, "n_samples", integer=True)
        check_positive(steps, "steps", integer=True, allow_zero=True)
        gen = self._rng if random_state is None else make_generator(random_state, self.W_.device)
        with torch.no_grad():
            if init is None:
                v = self.model_.sample_base_rates(n_samples, gen)
            else:
                v = self.model_.visible.sample(self._validate(init, "init"), gen)
            betas = self._betas()
            if betas is None or steps == 0:
                v = GibbsSampler(self.model_).sample(v, steps, gen)
            else:
                chains = ParallelTempering(self.model_, betas)
                chains.start(v, gen)
                v = chains.run(steps, gen)
        return to_numpy(self._to_input(v))

    # -------------------------------------------- the slides' formulas, exposed
    def energy(self, v, h):
        """E(v, h) = -bᵀv - cᵀh - hᵀWv per row (NumPy in, NumPy out; tensor in, tensor out)."""
        return _like(self.model_.energy(self._validate(v, "v"),
                                        self._validate(h, "h", hidden=True)), v)

    def free_energy(self, v):
        """F(v) = -bᵀv - Σ_i log(1 + exp(c_i + W_i v)) per row."""
        return _like(self.model_.free_energy(self._validate(v, "v")), v)

    def p_h_given_v(self, v):
        """p(h_i = 1 | v) = σ(c_i + W_i v)."""
        return _like(self.model_.p_h_given_v(self._validate(v, "v")), v)

    def p_v_given_h(self, h):
        """p(v_j = 1 | h) = σ(b_j + W_jᵀ h)."""
        return _like(self._to_input(self.model_.p_v_given_h(self._validate(h, "h", hidden=True))),
                     h)

    def sample_h_given_v(self, v):
        """h ~ p(h | v), drawn with the model's generator."""
        return _like(self.model_.sample_h_given_v(self._validate(v, "v"), self._rng), v)

    def sample_v_given_h(self, h):
        """v ~ p(v | h), drawn with the model's generator."""
        v = self.model_.sample_v_given_h(self._validate(h, "h", hidden=True), self._rng)
        return _like(self._to_input(v), h)

    def gibbs(self, v, steps: int = 1):
        """Block Gibbs from ``v``: ``steps`` times h ~ p(h|v), v ~ p(v|h); returns v."""
        check_positive(steps, "steps", integer=True, allow_zero=True)
        out = GibbsSampler(self.model_).sample(self._validate(v, "v"), steps, self._rng)
        return _like(self._to_input(out), v)

    # ------------------------------------------------------------ construction
    @classmethod
    def from_weights(cls, W, b, c, **params) -> BernoulliRBM:
        """A fitted model with given parameters W (n_hidden x n_visible), b, c.

        E.g. ``BernoulliRBM.from_weights(sk.components_, sk.intercept_visible_,
        sk.intercept_hidden_)`` for a scikit-learn BernoulliRBM ``sk``.
        """
        W = as_tensor2d(W, name="W", dtype=None)
        params.setdefault("n_components", W.shape[0])
        model = cls(**params)
        model._check_params()
        dev, dt = resolve_device(model.device), resolve_dtype(model.dtype) or W.dtype
        b = as_vector(b, "b", W.shape[1], dt, dev)
        c = as_vector(c, "c", W.shape[0], dt, dev)
        if W.shape[0] != model.n_components:
            raise ValueError(f"W has {W.shape[0]} rows but n_components={model.n_components}")
        model._set_parameters(W.to(dev, dt), b, c)
        return model

    def _set_parameters(self, W: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> None:
        self.model_ = RBM(W.contiguous(), b.contiguous(), c.contiguous(),
                          self._visible_units(W))
        self.n_features_in_ = W.shape[1]
        self.n_components_ = W.shape[0]
        self.n_epochs_ = getattr(self, "n_epochs_", 0)
        self.history_ = getattr(self, "history_", {})
        self._rng = make_generator(self.random_state, W.device)
        self._trainer = None

    # ---------------------------------------------------------- public arrays
    @property
    def W_(self) -> torch.Tensor:
        return self.model_.W

    @property
    def b_(self) -> torch.Tensor:
        return self.model_.b

    @property
    def c_(self) -> torch.Tensor:
        return self.model_.c

    @property
    def _n_features_out(self) -> int:
        return self.n_components_

    @property
    def components_(self) -> np.ndarray:
        return to_numpy(self.W_)

    @property
    def intercept_hidden_(self) -> np.ndarray:
        return to_numpy(self.c_)

    @property
    def intercept_visible_(self) -> np.ndarray:
        return to_numpy(self.b_)

    def log_likelihood(self, X, log_z: float | None = None, **ais_params) -> float:
        """Mean log p(v) in nats over the rows of ``X`` (log Z by AIS unless given)."""
        from .partition import log_likelihood

        return log_likelihood(self, X, log_z=log_z, **ais_params)

    def save(self, path) -> None:
        """Write the model to one safetensors file (see :func:`deepbelief.load`)."""
        save(self, path)

    def _save_state(self) -> tuple[dict[str, torch.Tensor], dict]:
        return self.model_.state_dict(), {"n_epochs": self.n_epochs_, "history": self.history_}

    @classmethod
    def _from_state(cls, params: dict, tensors: dict[str, torch.Tensor],
                    extra: dict) -> BernoulliRBM:
        W = tensors.get("W")
        if W is None or W.ndim != 2:
            raise ValueError("model file lacks a 2-D tensor 'W'")
        n_hidden, n_visible = W.shape
        W = check_tensor(tensors, "W", (n_hidden, n_visible))
        b = check_tensor(tensors, "b", (n_visible,))
        c = check_tensor(tensors, "c", (n_hidden,))
        model = cls.from_weights(W, b, c, **params)
        model.n_epochs_ = int(extra.get("n_epochs", 0))
        model.history_ = dict(extra.get("history", {}))
        return model

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.transformer_tags.preserves_dtype = (
            ["float64", "float32"] if self.dtype is None else [self.dtype])
        tags.input_tags.sparse = True
        return tags


def as_vector(x, name: str, n: int, dtype: torch.dtype, device) -> torch.Tensor:
    """A parameter vector of ``n`` entries (NumPy, tensor or list), checked as a row."""
    row = np.reshape(x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else
                     np.asarray(x), (1, -1))
    return as_tensor2d(row, name=name, dtype=dtype, device=device, n_features=n)[0]


def _like(result: torch.Tensor, reference):
    """Hand back a tensor for tensor input, NumPy otherwise."""
    return result if isinstance(reference, torch.Tensor) else to_numpy(result)
