"""The RBM family's base estimator: one RBM core, one sampler, one input transform.

:class:`BaseRBM` holds everything the RBM estimators share: the training loop
(minibatches, momentum schedule, checkpoints, monitoring), the slides' formulas
exposed on arrays, generation, persistence and the hyperparameters common to
all of them. A subclass adds its visible unit type (``_visible_units``), its
input transform (``_input_transform``), the options of its samplers and what
it monitors; it never switches off an option of its parent.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable
from functools import partial
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from . import distributed, partition
from ._sparse import chunks, column_sum, dense
from ._sparse import rows as sparse_rows
from ._validation import (
    CHECKPOINT_CONSTRAINTS,
    CHUNK,
    RUN_CONSTRAINTS,
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
from .checkpoint import Checkpointer, restore_training, training_state
from .data import Minibatches, is_stream
from .io import check_tensor, save
from .model import RBM
from .samplers import SAMPLERS, Sampler, make_sampler
from .sampling import GibbsSampler
from .training import CDTrainer
from .transforms import Identity
from .units import Units

_MONITOR_ROWS = 1000

#: The deprecated default of ``persistent`` (the spelling is ``sampler="pcd"``).
DEPRECATED = "deprecated"


class BaseRBM(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """What every RBM estimator shares (see the module docstring); not for direct use."""

    _parameter_constraints: ClassVar[dict] = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "k": [Interval(Integral, 1, None, closed="left")],
        "sampler": [StrOptions(set(SAMPLERS)), Sampler],
        "persistent": ["boolean", Hidden(StrOptions({DEPRECATED}))],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "initial_momentum": [Interval(Real, 0, 1, closed="left")],
        "momentum_epochs": [Interval(Integral, 0, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "learning_rate_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_iter": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        **RUN_CONSTRAINTS,
        **CHECKPOINT_CONSTRAINTS,
    }

    #: How inputs are checked: values in [0, 1] (binary units) or any finite
    #: values, and whether a sparse matrix stays sparse.
    _input_domain: ClassVar[dict[str, bool]] = {"unit_interval": True, "accept_sparse": True}

    # ------------------------------------------------------------ what a child adds
    def _visible_units(self, like: torch.Tensor) -> Units:
        """The visible layer's unit type, for parameters like ``like``'s last axis."""
        raise NotImplementedError

    def _input_transform(self):
        """The input transform this estimator fits (:class:`~deepbelief.transforms.Identity`)."""
        return Identity()

    def _fit_input_transform(self, X: torch.Tensor):
        """The input transform fitted to the training data ``X``."""
        return self._input_transform().fit(X)

    def _sampler_options(self) -> dict[str, Any]:
        """The options the samplers take from this estimator (besides ``k``)."""
        return {}

    def _trainer_options(self) -> dict[str, Any]:
        """Keyword arguments of :class:`~deepbelief.training.CDTrainer` besides the sampler."""
        return {}

    def _monitors(self) -> dict[str, Callable[[torch.Tensor], float]]:
        """The per-epoch figures of ``history_`` (besides the free-energy gap and ``seconds``)."""
        return {"reconstruction_error": self._reconstruction_error}

    # ------------------------------------------------------------------ setup
    def _check_params(self) -> None:
        """The declarative constraints, then the sampler the options describe."""
        self._validate_params()
        self._make_sampler()

    def _sampler_spec(self) -> str | Sampler:
        """``sampler``, with the deprecated ``persistent`` translated (and warned about)."""
        spec = self.sampler
        if self.persistent != DEPRECATED:
            warnings.warn(f"persistent is deprecated; pass sampler="
                          f"{'pcd' if self.persistent else 'cd'!r} instead", FutureWarning,
                          stacklevel=4)
            if self.persistent and spec == "cd":
                spec = "pcd"
        return spec

    def _make_sampler(self) -> Sampler:
        """A fresh sampler of the negative phase, from ``sampler`` and its options."""
        sampler = make_sampler(self._sampler_spec(), self.k, **self._sampler_options())
        if sampler.binary_only and not self._input_domain["unit_interval"]:
            raise ValueError(f"sampler {sampler.name!r} runs binary units only; "
                             f"{type(self).__name__} has real-valued visible units")
        if sampler.real_only and self._input_domain["unit_interval"]:
            raise ValueError(f"sampler {sampler.name!r} runs real-valued (Gaussian) visible "
                             f"units only; {type(self).__name__} has binary visible units")
        return sampler

    def _validate(self, X, name: str = "X", *, reset: bool = False, hidden: bool = False,
                  keep_sparse: bool = False, check_range: bool = False,
                  allow_nan: bool = False) -> torch.Tensor:
        """``X`` (or hidden states) checked against the fitted model; see :func:`check_X`.

        A pure check: nothing is fitted or transformed. A sparse matrix (values
        checked on its stored entries) stays a sparse tensor with ``keep_sparse``
        (training, :meth:`transform`), and is made dense otherwise. Binary visible
        units need values in [0, 1] in training data and a likelihood's (``reset``
        or ``check_range``); other inputs of a fitted model may lie outside (see
        :class:`~deepbelief.BernoulliRBM`'s Notes).
        """
        domain = self._input_domain
        try:
            if reset:
                t = check_X(self, X, reset=True, dtype=resolve_dtype(self.dtype),
                            device=resolve_device(self.device), name=name,
                            allow_nan=allow_nan, **domain)
            else:
                check_is_fitted(self, "model_")
                t = check_X(self, X, reset=False, dtype=self.W_.dtype, device=self.W_.device,
                            name=name, n_features=self.n_components_ if hidden else None,
                            unit_interval=hidden or (check_range and domain["unit_interval"]),
                            accept_sparse=not hidden and domain["accept_sparse"],
                            allow_nan=allow_nan)
        except ValueError as exc:
            if "NaN" not in str(exc) or hidden or reset:
                raise
            raise ValueError(f"{exc}; a fitted model fills in missing (NaN) entries with "
                             "impute(X)") from None
        return t if keep_sparse else dense(t)

    def _input(self, X, name: str = "X", *, keep_sparse: bool = False,
               check_range: bool = False) -> torch.Tensor:
        """Inputs checked and mapped by the fitted input transform: the visible units' values."""
        v = self._validate(X, name, keep_sparse=keep_sparse,  # NotFittedError first
                           check_range=check_range)
        return self.input_transform_.forward(v)

    def _input_and_log_det(self, X, name: str = "X", *,
                           check_range: bool = False) -> tuple[torch.Tensor, torch.Tensor | float]:
        """The units' values of ``X`` and log ``|det ∂v/∂x|`` of each row (in float64; a
        float when it is the same for every row)."""
        x = self._validate(X, name, check_range=check_range)
        transform = self.input_transform_
        return transform.forward(x), transform.log_abs_det_jacobian(x.double())

    def _to_input(self, v: torch.Tensor) -> torch.Tensor:
        """Visible units' values mapped back to the inputs' coordinates."""
        return self.input_transform_.inverse(v)

    def _initialize(self, X: torch.Tensor) -> None:
        """W ~ N(0, 0.01²), c = 0, b from the data's means (``X`` already transformed)."""
        self._rng = make_generator(self.random_state, X.device)
        self.n_features_in_ = X.shape[1]
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
        self.history_ = {name: [] for name in (*self._monitors(), "seconds")}
        self._trainer = None

    def _get_trainer(self) -> CDTrainer:
        if getattr(self, "_trainer", None) is None:
            reducer = distributed.all_reduce_sum if distributed.is_distributed() else None
            self._trainer = CDTrainer(self.model_, self._make_sampler(), reducer=reducer,
                                      **self._trainer_options())
        return self._trainer

    # ---------------------------------------------------------------- training
    def fit(self, X, y=None, *, validation_data=None, callback=None, resume: bool = False):
        """Train for ``n_iter`` epochs from a fresh initialisation (or a checkpoint).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or an iterable of such
            minibatches (e.g. a ``torch.utils.data.DataLoader``, whose ``(x, y)``
            items use ``x``), re-iterable when ``n_iter > 1``. Arrays move to the
            device once; iterables are fed batch by batch in their own order.
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
        Checkpointer(self.checkpoint_dir).start(resume)
        data = self._minibatches(X, reset=True)
        n_epochs = self.n_epochs_for(data)
        self.input_transform_ = self._fit_input_transform(data.first)
        data = self._transformed(data)
        self._initialize(data.first)
        if resume:
            self._restore_checkpoint()
        valid = None if validation_data is None else self._input(validation_data,
                                                                 "validation_data")
        self._run_epochs(data, n_epochs - self.n_epochs_, valid, data.first, callback)
        return self

    def _transformed(self, data: Minibatches) -> Minibatches:
        """``data`` mapped by the input transform (as it is when that is the identity)."""
        transform = self.input_transform_
        if isinstance(transform, Identity):
            return data
        return data.map(lambda x, y: transform.forward(x))

    def n_epochs_for(self, X) -> int:
        """The epochs :meth:`fit` runs on ``X`` (``n_iter``, or what ``"auto"`` gives)."""
        if isinstance(X, Minibatches):
            n_samples = X.n_samples
        else:
            n_samples = None if is_stream(X) else np.shape(X)[0]
        return resolve_epochs(self.n_iter, "n_iter", n_samples, self.batch_size)

    def partial_fit(self, X, y=None):
        """One epoch over ``X``, continuing from the current state (initialising if unfitted)."""
        if not hasattr(self, "model_"):
            self._check_params()
            data = self._minibatches(X, reset=True, passes=1)
            self.input_transform_ = self._fit_input_transform(data.first)
            data = self._transformed(data)
            self._initialize(data.first)
        else:
            data = self._transformed(self._minibatches(X, reset=False, passes=1))
        self._run_epochs(data, 1, None, data.first)
        return self

    def _minibatches(self, X, *, reset: bool, passes: int | None = None) -> Minibatches:
        """``X`` as a validated source of minibatches (a given source is used as is)."""
        if isinstance(X, Minibatches):
            return X
        if passes is None:
            passes = self.n_epochs_for(X) if is_stream(X) else 1
        return Minibatches(X, check=self._minibatch_check(reset), passes=passes)

    def _minibatch_check(self, reset: bool):
        """How each minibatch of training data is checked (training data: in range)."""
        # A stream's later minibatches come after _initialize: checked against the model.
        validate = partial(self._validate, keep_sparse=True, check_range=True)
        return minibatch_check(validate, fitted=not reset)

    def _epoch_settings(self) -> tuple[float, float]:
        t = self.n_epochs_
        lr = self._learning_rate() / (1.0 + self._learning_rate_decay() * t)
        momentum = self.initial_momentum if t < self.momentum_epochs else self.momentum
        return lr, momentum

    def _learning_rate(self) -> float:
        """The rate of the first epoch: ``learning_rate``."""
        return self.learning_rate

    def _learning_rate_decay(self) -> float:
        """The decay d of the rate learning_rate / (1 + d · epoch)."""
        return self.learning_rate_decay

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
        """One pass of minibatch updates over ``X`` (inputs, mapped by the input transform).

        A tensor is visited in a random order (rank 0's order in a process group,
        each rank taking its share of every minibatch); an iterable of minibatches
        in its own order.
        """
        self._train_pass(self._transformed(self._minibatches(X, reset=False, passes=1)),
                         trainer)

    def _train_pass(self, data: Minibatches, trainer: CDTrainer | None = None) -> None:
        trainer = trainer or self._get_trainer()
        lr, momentum = self._epoch_settings()
        for batch in data.epoch(self._rng, self.batch_size):
            trainer.step(self._positive_data(batch.x), lr, momentum, self.weight_decay,
                         self._rng)
        self.n_epochs_ += 1

    def _positive_data(self, v: torch.Tensor) -> torch.Tensor:
        """The units' values the positive phase sees for the minibatch ``v``: ``v`` itself
        (an estimator that trains on rows with missing entries fills them in here)."""
        return v

    # ------------------------------------------------------------- checkpoints
    def _state(self) -> dict:
        """Everything a resumed run needs (see :mod:`deepbelief.checkpoint`)."""
        return training_state(self.model_, self._get_trainer(), self._rng, self.n_epochs_,
                              self.history_)

    def _restore_checkpoint(self) -> None:
        state = Checkpointer(self.checkpoint_dir).load()
        if state is not None:
            self.n_epochs_, self.history_ = restore_training(
                state, self.model_, self._get_trainer(), self._rng,
                f"an RBM of shape {list(self.W_.shape)} (in {self.checkpoint_dir})")

    @torch.no_grad()
    def _record(self, monitor: torch.Tensor, valid: torch.Tensor | None, seconds: float) -> None:
        for name, figure in self._monitors().items():
            self.history_.setdefault(name, []).append(figure(monitor))
        if valid is not None:
            f_train = self.model_.free_energy(monitor).mean()
            f_valid = self.model_.free_energy(valid[:_MONITOR_ROWS]).mean()
            self.history_.setdefault("free_energy_gap", []).append(float(f_valid - f_train))
        self.history_.setdefault("seconds", []).append(seconds)

    def _reconstruction_error(self, v: torch.Tensor) -> float:
        """Mean squared distance of ``v`` from its mean-field reconstruction p(v | p(h|v)),
        over the observed (not NaN) units of each row."""
        recon = self.model_.p_v_given_h(self.model_.p_h_given_v(self._positive_data(v)))
        return float(((v - recon) ** 2).nansum(1).mean())

    # ------------------------------------------------------- estimator outputs
    def transform(self, X) -> np.ndarray:
        """Hidden-unit probabilities p(h = 1 | v) for each row of ``X``.

        A sparse ``X`` (SciPy CSR/CSC/COO, e.g. bag-of-words counts scaled into
        [0, 1]) is multiplied as a sparse tensor.
        """
        v = self._input(X, keep_sparse=True)
        with torch.no_grad():
            out = torch.cat([self.model_.p_h_given_v(chunk) for chunk in chunks(v, CHUNK)])
        return to_numpy(out)

    def sample(self, n_samples: int = 1, steps: int = 1000, *, random_state=None,
               init=None) -> np.ndarray:
        """Visible states after ``steps`` steps of the sampler's chain (block Gibbs).

        Chains start from ``init`` (inputs) or, by default, where the sampler
        starts them (:meth:`Sampler.initial <deepbelief.samplers.base.Sampler.initial>`):
        independent draws of the visible units given h = 0 (their base rates), or
        for a chain trained from noise (``GibbsLangevin(from_noise=True)``) N(0, I)
        in the model's units, as in its training. With
        ``sampler="pt"`` the chains are parallel tempering's (the same ladder as
        in training; each step one Gibbs step at every temperature and a round of
        swaps), and the β = 1 chains are returned.
        """
        check_is_fitted(self, "model_")
        check_positive(n_samples, "n_samples", integer=True)
        check_positive(steps, "steps", integer=True, allow_zero=True)
        gen = self._rng if random_state is None else make_generator(random_state, self.W_.device)
        with torch.no_grad():
            sampler = self._make_sampler()
            if init is None:
                v = sampler.initial(self.model_, n_samples, gen)
            else:
                v = self.model_.visible.sample(self._input(init, "init"), gen)
            v = sampler.generate(self.model_, v, steps, gen)
        return to_numpy(self._to_input(v))

    @torch.no_grad()
    def impute(self, X, *, method: str = "mean-field", n_imputations: int = 1,
               steps: int = 100, random_state=None):
        """The rows of ``X`` with their NaN entries filled in from p(v_missing | v_observed).

        Block Gibbs sampling with the observed units clamped: h from p(h | v), then
        the missing units from p(v_j | h), ``steps`` sweeps from the units' means given
        h = 0. ``method="mean-field"`` takes means throughout (h = p(h | v), v_j =
        E[v_j | h]): a deterministic completion by the expected values at its fixed
        point. ``method="sample"`` draws states and returns the last sweep's: with
        ``n_imputations`` > 1, that many independent completions (multiple
        imputation), an array of shape (n_imputations, n_samples, n_features).

        Observed entries come back unchanged; those of binary units must lie in
        [0, 1], as in training data (the states the model imputes given). A pandas
        DataFrame in gives a DataFrame out (a list of them for several imputations),
        with the same columns and index.
        """
        if method not in ("mean-field", "sample"):
            raise ValueError(f"method must be 'mean-field' or 'sample', got {method!r}")
        check_positive(n_imputations, "n_imputations", integer=True)
        check_positive(steps, "steps", integer=True)
        x = self._validate(X, allow_nan=True, check_range=True)
        gen = self._rng if random_state is None else make_generator(random_state, x.device)
        x = x.repeat(n_imputations, 1)
        done = torch.cat([self._complete(part, method == "mean-field", steps, gen)
                          for part in x.split(CHUNK)])
        out = [self._output(a, X) for a in to_numpy(done).reshape(n_imputations, -1, x.shape[1])]
        if n_imputations == 1:
            return out[0]
        return out if _is_frame(X) else np.stack(out)

    def _complete(self, x: torch.Tensor, mean_field: bool, steps: int,
                  gen: torch.Generator) -> torch.Tensor:
        """One chunk of :meth:`impute`: the Gibbs sweeps on the units' values."""
        v = self._fill_in(self.input_transform_.forward(x), mean_field, steps, gen)
        return torch.where(torch.isnan(x), self._to_input(v), x)

    def _fill_in(self, v: torch.Tensor, mean_field: bool, steps: int,
                 gen: torch.Generator | None) -> torch.Tensor:
        """The units' values ``v`` with their NaN units drawn from p(v_missing | v_observed).

        ``steps`` sweeps h from p(h | v), then the missing units from p(v_j | h), the
        observed ones clamped, from the units' means given h = 0 (means throughout
        with ``mean_field``; see :meth:`impute`).
        """
        model, missing = self.model_, torch.isnan(v)
        v = torch.where(missing, model.visible.mean(model.b).expand_as(v), v)
        for _ in range(steps):
            h = model.p_h_given_v(v)
            if not mean_field:
                h = model.hidden.sample(h, gen)
            fill = model.p_v_given_h(h)
            if not mean_field:
                fill = model.visible.sample(fill, gen)
            v = torch.where(missing, fill, v)
        return v

    def _output(self, x: np.ndarray, reference):
        """Values in the inputs' coordinates as the user passed ``reference``: a DataFrame
        with its columns and index when it is one, the array ``x`` otherwise."""
        return _frames([x], reference)[0] if _is_frame(reference) else x

    # -------------------------------------------- the slides' formulas, exposed
    def energy(self, v, h):
        """E(v, h) per row (NumPy in, NumPy out; tensor in, tensor out)."""
        return _like(self.model_.energy(self._input(v, "v"),
                                        self._validate(h, "h", hidden=True)), v)

    def free_energy(self, v):
        """F(v) per row: -log Σ_h exp(-E(v, h))."""
        return _like(self.model_.free_energy(self._input(v, "v")), v)

    def p_h_given_v(self, v):
        """p(h_i = 1 | v)."""
        return _like(self.model_.p_h_given_v(self._input(v, "v")), v)

    def p_v_given_h(self, h):
        """E[v | h], in the inputs' coordinates."""
        mean = self.model_.p_v_given_h(self._validate(h, "h", hidden=True))
        return _like(self._to_input(mean), h)

    def sample_h_given_v(self, v):
        """h ~ p(h | v), drawn with the model's generator."""
        return _like(self.model_.sample_h_given_v(self._input(v, "v"), self._rng), v)

    def sample_v_given_h(self, h):
        """v ~ p(v | h), drawn with the model's generator."""
        v = self.model_.sample_v_given_h(self._validate(h, "h", hidden=True), self._rng)
        return _like(self._to_input(v), h)

    def gibbs(self, v, steps: int = 1):
        """Block Gibbs from ``v``: ``steps`` times h ~ p(h|v), v ~ p(v|h); returns v."""
        check_positive(steps, "steps", integer=True, allow_zero=True)
        out = GibbsSampler(self.model_).sample(self._input(v, "v"), steps, self._rng)
        return _like(self._to_input(out), v)

    # ------------------------------------------------------------ construction
    @classmethod
    def from_weights(cls, W, b, c, **params):
        """A fitted model with given parameters W (n_hidden x n_visible), b, c."""
        W = as_tensor2d(W, name="W", dtype=None)
        params.setdefault("n_components", W.shape[0])
        return cls(**params)._with_weights(W, b, c)

    def _with_weights(self, W: torch.Tensor, b, c):
        """This estimator, its parameters checked, made fitted with W, b, c."""
        self._check_params()
        dev, dt = resolve_device(self.device), resolve_dtype(self.dtype) or W.dtype
        b = as_vector(b, "b", W.shape[1], dt, dev)
        c = as_vector(c, "c", W.shape[0], dt, dev)
        if W.shape[0] != self.n_components:
            raise ValueError(f"W has {W.shape[0]} rows but n_components={self.n_components}")
        # copies: training moves the model's parameters in place, never the caller's arrays
        self._set_parameters(W.to(dev, dt, copy=True), b.clone(), c.clone())
        return self

    def _set_parameters(self, W: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> None:
        self.model_ = RBM(W.contiguous(), b.contiguous(), c.contiguous(),
                          self._visible_units(W))
        self.input_transform_ = Identity()  # parameters given for the inputs as they are
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
        """Mean log p(x) in nats over the rows of ``X`` (log Z by AIS unless given)."""
        return partition.log_likelihood(self, X, log_z=log_z, **ais_params)

    # ------------------------------------------------------------------ files
    def save(self, path) -> None:
        """Write the model to one safetensors file (see :func:`deepbelief.load`)."""
        save(self, path)

    def _save_state(self) -> tuple[dict[str, torch.Tensor], dict]:
        tensors = {**self.model_.state_dict(), **self.input_transform_.state_dict()}
        return tensors, {"n_epochs": self.n_epochs_, "history": self.history_}

    #: The tensors of a model file besides W, b, c, by the shape they have for
    #: ``n_visible`` units, and the keyword of :meth:`from_weights` each one fills.
    _FILE_VECTORS: ClassVar[dict[str, str]] = {}

    @classmethod
    def _from_state(cls, params: dict, tensors: dict[str, torch.Tensor], extra: dict):
        W = tensors.get("W")
        if W is None or W.ndim != 2:
            raise ValueError("model file lacks a 2-D tensor 'W'")
        n_hidden, n_visible = W.shape
        W = check_tensor(tensors, "W", (n_hidden, n_visible))
        b = check_tensor(tensors, "b", (n_visible,))
        c = check_tensor(tensors, "c", (n_hidden,))
        more = {keyword: check_tensor(tensors, name, (n_visible,))
                for name, keyword in cls._file_vectors(tensors).items()}
        model = cls.from_weights(W, b, c, **more, **cls._upgrade_params(params))
        model.n_epochs_ = int(extra.get("n_epochs", 0))
        model.history_ = dict(extra.get("history", {}))
        return model

    @classmethod
    def _file_vectors(cls, tensors: dict[str, torch.Tensor]) -> dict[str, str]:
        """The per-visible-unit tensors a file holds, by keyword (see ``_FILE_VECTORS``)."""
        return dict(cls._FILE_VECTORS)

    @classmethod
    def _upgrade_params(cls, params: dict) -> dict:
        """Hyperparameters of files written before ``sampler`` existed, in today's spelling."""
        params = dict(params)
        if "sampler" not in params and params.pop("persistent", False):
            params["sampler"] = "pcd"
        params.pop("persistent", None)
        return params

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = self._input_domain["unit_interval"]
        tags.input_tags.sparse = self._input_domain["accept_sparse"]
        tags.transformer_tags.preserves_dtype = (
            ["float64", "float32"] if self.dtype is None else [self.dtype])
        return tags


def as_vector(x, name: str, n: int, dtype: torch.dtype, device) -> torch.Tensor:
    """A parameter vector of ``n`` entries (NumPy, tensor or list), checked as a row."""
    row = np.reshape(x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else
                     np.asarray(x), (1, -1))
    return as_tensor2d(row, name=name, dtype=dtype, device=device, n_features=n)[0]


def _is_frame(X) -> bool:
    """A pandas DataFrame (told by its columns and index: pandas need not be imported)."""
    return hasattr(X, "columns") and hasattr(X, "index")


def _frames(out, reference) -> list:
    """Each of ``out``'s arrays as a DataFrame with ``reference``'s columns and index."""
    import pandas as pd

    return [pd.DataFrame(a, columns=reference.columns, index=reference.index) for a in out]


def _like(result: torch.Tensor, reference):
    """Hand back a tensor for tensor input, NumPy otherwise."""
    return result if isinstance(reference, torch.Tensor) else to_numpy(result)
