"""The deep Boltzmann machine as a scikit-learn estimator (Salakhutdinov & Hinton 2009)."""

from __future__ import annotations

import sys
import time
from numbers import Integral, Real
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from .. import distributed, partition
from .._validation import (
    CHECKPOINT_CONSTRAINTS,
    CHUNK,
    RUN_CONSTRAINTS,
    as_tensor2d,
    check_positive,
    check_X,
    make_generator,
    resolve_device,
    resolve_dtype,
    resolve_epochs,
    to_numpy,
)
from ..checkpoint import Checkpointer, restore_training, training_state
from ..data import Minibatches
from ..dbn._stack import check_sizes, layer_params, pretrain_stack
from ..io import check_tensor, register, save
from ..model import RBM
from ..samplers import Sampler, make_sampler
from ..training import CDTrainer
from ..units import sigmoid_
from ._core import Layout, lower_bound, mean_field
from ._pretrain import LayerRBM, doubling

#: Enumerate a layer group for log Z up to this many units (else AIS).
EXACT_LOG_Z_UNITS = 20
_MONITOR_ROWS = 1000


@register
class DBM(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Deep Boltzmann machine with binary layers (Salakhutdinov & Hinton 2009).

    E(v, h¹, ..., hᴸ) = -Σ_l b_lᵀx_l - Σ_l x_lᵀ W_l x_{l-1} with x_0 = v: an
    undirected model whose hidden layers all see the layers on both sides.
    Training is greedy pre-training by RBMs that double the input they lack
    (:mod:`deepbelief.dbm._pretrain`), then joint training of all layers:
    the data-dependent statistics from mean-field (:func:`~._core.mean_field`),
    the model's from persistent Gibbs chains. The DBM is held as the RBM between
    its odd and even layers (:mod:`deepbelief.dbm._core`), so the library's
    samplers, trainer and partition functions run it unchanged.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default=(500, 1000)
        Units per hidden layer, bottom to top.
    pretrain_epochs : int or "auto", default="auto"
        Epochs of each pre-training RBM (0: no pre-training, the weights start
        at N(0, 0.01²)). ``"auto"`` sizes them in updates as
        :class:`~deepbelief.BernoulliRBM` does.
    n_iter : int or "auto", default="auto"
        Epochs of joint training. ``"auto"``: at least 10 epochs and at least
        6,000 · min(1, √(n / 60,000)) updates for n rows (as
        :class:`~deepbelief.BernoulliRBM`: 10 epochs of MNIST, 71 of 1.2k digits).
    rbm_params : dict or list of dict, optional
        Keyword arguments of each pre-training RBM (one dict for all layers or one
        per layer), as in :class:`~deepbelief.DBN`.
    sampler : {"pcd", "fpcd", "pt"} or Sampler, default="pcd"
        The negative phase of joint training: persistent chains ("fantasy
        particles", one per row of a minibatch), fast-weights PCD, or parallel
        tempering over ``n_temperatures`` temperatures down to ``min_beta``.
    k : int, default=1
        Gibbs steps of the chains per update.
    n_temperatures : int, optional
    min_beta : float, default=0.5
        ``sampler="pt"``'s ladder (see :class:`~deepbelief.BernoulliRBM`).
    learning_rate : float, default=0.003
        Joint training's step size on the batch-averaged statistics.
    learning_rate_decay : float or "auto", default="auto"
        The rate at epoch t is ``learning_rate / (1 + learning_rate_decay * t)``;
        ``"auto"`` = 9 / T for T = ``n_iter`` epochs (the last epoch at a tenth).
    momentum : float, default=0.5
        Joint training's momentum after the first ``momentum_epochs`` epochs. The
        persistent chains must keep up with the model: on MNIST, 0.9 after five
        epochs at 0.5 (rate 0.002) made the reconstruction error jump from 6 to 57.
    initial_momentum : float, default=0.5
    momentum_epochs : int, default=5
    weight_decay : float, default=2e-4
        L2 penalty on the weights in joint training.
    mean_field_iter : int, default=10
        Most rounds of mean-field per minibatch (and in every output), as in the
        authors' code.
    mean_field_tol : float, default=1e-4
        Mean-field stops when no μ moves by more than this.
    centering : float, default=0.0
        Joint training follows the centred gradient (Montavon & Müller 2012) at
        this offset rate; 0 trains with the plain one.
    batch_size : int, default=100
        Rows per update, and the number of persistent chains.
    warm_start : bool, default=False
        When the model is fitted, :meth:`fit` skips pre-training and runs
        ``n_iter`` joint epochs from the fitted weights, with a fresh schedule
        (the learning rate and momentum of epoch 0 onwards) and fresh chains: a
        second stage of training with other settings, e.g. more Gibbs steps at a
        lower rate.
    device, dtype, checkpoint_dir, checkpoint_every, random_state, verbose
        As in :class:`~deepbelief.BernoulliRBM`. Checkpoints go to
        ``checkpoint_dir/pretrain/layer-<l>`` and ``checkpoint_dir/joint``.

    Attributes
    ----------
    model_ : deepbelief.model.RBM
        The core: the RBM between the even layers (visible units v, h², ...) and
        the odd ones (h¹, h³, ...).
    layout_ : deepbelief.dbm._core.Layout
        Where each layer sits in ``model_``.
    weights_ : list of ndarray
        W_l of shape (n_l, n_{l-1}), l = 1..L.
    biases_ : list of ndarray
        b_l, the visible layer's first.
    rbms_ : list of BernoulliRBM
        The pre-training RBMs (a fresh fit only).
    history_ : dict of lists
        Per joint epoch: ``reconstruction_error`` (of v from μ¹ on a fixed subset
        of the training rows), ``mean_field_rounds`` (the mean per minibatch) and
        ``seconds``.
    n_features_in_ : int
    n_epochs_ : int
        Joint epochs trained so far.

    Notes
    -----
    Training data must lie in [0, 1]; outputs take any finite values (as
    :class:`~deepbelief.BernoulliRBM`'s). :meth:`score_samples` is the
    variational lower bound on log p(v); :mod:`deepbelief.partition`'s
    functions take a DBM as they take an RBM (log Z of the DBM; the
    log-likelihood as that bound).
    """

    _parameter_constraints: ClassVar[dict] = {
        "hidden_layer_sizes": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "pretrain_epochs": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "n_iter": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "rbm_params": [dict, list, tuple, None],
        "sampler": [StrOptions({"pcd", "fpcd", "pt"}), Sampler],
        "k": [Interval(Integral, 1, None, closed="left")],
        "n_temperatures": [Interval(Integral, 1, None, closed="left"), None],
        "min_beta": [Interval(Real, 0, 1, closed="neither")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "learning_rate_decay": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "initial_momentum": [Interval(Real, 0, 1, closed="left")],
        "momentum_epochs": [Interval(Integral, 0, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "mean_field_iter": [Interval(Integral, 1, None, closed="left")],
        "mean_field_tol": [Interval(Real, 0, None, closed="left")],
        "centering": [Interval(Real, 0, 1, closed="both")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        **RUN_CONSTRAINTS,
        **CHECKPOINT_CONSTRAINTS,
    }

    def __init__(self, hidden_layer_sizes=(500, 1000), *, pretrain_epochs: int | str = "auto",
                 n_iter: int | str = "auto", rbm_params=None, sampler: Any = "pcd", k: int = 1,
                 n_temperatures: int | None = None, min_beta: float = 0.5,
                 learning_rate: float = 0.003, learning_rate_decay: float | str = "auto",
                 momentum: float = 0.5, initial_momentum: float = 0.5,
                 momentum_epochs: int = 5, weight_decay: float = 2e-4,
                 mean_field_iter: int = 10, mean_field_tol: float = 1e-4,
                 centering: float = 0.0, batch_size: int = 100, warm_start: bool = False,
                 device: Any = "cpu",
                 dtype: str | None = None, checkpoint_dir: str | None = None,
                 checkpoint_every: int = 1, random_state: Any = None,
                 verbose: bool = False) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.pretrain_epochs = pretrain_epochs
        self.n_iter = n_iter
        self.rbm_params = rbm_params
        self.sampler = sampler
        self.k = k
        self.n_temperatures = n_temperatures
        self.min_beta = min_beta
        self.learning_rate = learning_rate
        self.learning_rate_decay = learning_rate_decay
        self.momentum = momentum
        self.initial_momentum = initial_momentum
        self.momentum_epochs = momentum_epochs
        self.weight_decay = weight_decay
        self.mean_field_iter = mean_field_iter
        self.mean_field_tol = mean_field_tol
        self.centering = centering
        self.batch_size = batch_size
        self.warm_start = warm_start
        self.device = device
        self.dtype = dtype
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ inputs
    def _validate(self, X, name: str = "X", *, reset: bool = False,
                  check_range: bool = False) -> torch.Tensor:
        """``X`` as a dense tensor of the model's dtype on its device (:func:`check_X`).

        Training data (``reset``) and a likelihood's (``check_range``) must lie in
        [0, 1]; other inputs of a fitted model may be any finite values.
        """
        if reset:
            return check_X(self, X, reset=True, dtype=resolve_dtype(self.dtype),
                           device=resolve_device(self.device), name=name)
        check_is_fitted(self, "model_")
        W = self.model_.W
        return check_X(self, X, reset=False, dtype=W.dtype, device=W.device, name=name,
                       unit_interval=check_range)

    def _input(self, X, name: str = "X", *, check_range: bool = False) -> torch.Tensor:
        """The core's visible values for the rows of ``X``: v beside the mean-field
        μ of the even hidden layers (what :mod:`deepbelief.partition` anneals from)."""
        v = self._validate(X, name, check_range=check_range)
        return torch.cat([self.layout_.even_states(part, self._mean_field(part)[0])
                          for part in v.split(CHUNK)])

    def _mean_field(self, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, int]:
        with torch.no_grad():
            return mean_field(self.model_, self.layout_, v, self.mean_field_iter,
                              self.mean_field_tol)

    # ---------------------------------------------------------------- training
    def fit(self, X, y=None, *, callback=None, resume: bool = False) -> DBM:
        """Greedy pre-training, then ``n_iter`` epochs of joint training (only the
        joint epochs, from the fitted weights, under ``warm_start``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), values in [0, 1].
        y : ignored.
        callback : callable, optional
            Called as ``callback(self)`` after each joint epoch.
        resume : bool, default=False
            Continue from the checkpoints in ``checkpoint_dir`` (pre-training
            layers and joint epochs); the result is bit-identical to an
            uninterrupted run with the same ``random_state``.
        """
        self._validate_params()
        self._joint_checkpoints().start(resume)
        warm = self.warm_start and hasattr(self, "model_")
        if warm and check_sizes(self.hidden_layer_sizes) != self.layout_.sizes[1:]:
            raise ValueError(f"warm_start trains the fitted layers {self.layout_.sizes[1:]} on; "
                             f"hidden_layer_sizes={self.hidden_layer_sizes} differs (set "
                             f"warm_start=False to fit a new model)")
        X = self._validate(X, reset=not warm, check_range=warm)
        self._rng = make_generator(self.random_state, X.device)
        if not warm:
            sizes = check_sizes(self.hidden_layer_sizes)
            self.layout_ = Layout((X.shape[1], *sizes))
            self.model_ = self._pretrain(X, sizes, resume)
        self._start_joint()
        if resume:
            self._restore_checkpoint()
        self._joint_epochs(X, self._n_joint_epochs(X.shape[0]) - self.n_epochs_, callback)
        return self

    def partial_fit(self, X, y=None) -> DBM:
        """One joint epoch over ``X``; an unfitted model starts without pre-training."""
        if not hasattr(self, "model_"):
            self._validate_params()
            sizes = check_sizes(self.hidden_layer_sizes)
            X = self._validate(X, reset=True)
            self._rng = make_generator(self.random_state, X.device)
            self.layout_ = Layout((X.shape[1], *sizes))
            self.model_ = self._random_core(X)
            self._start_joint()
        else:
            X = self._validate(X, check_range=True)
        self._joint_epochs(X, 1, None)
        return self

    def _pretrain(self, X: torch.Tensor, sizes: tuple[int, ...], resume: bool) -> RBM:
        """The core composed from greedily trained RBMs (or a random one, no pre-training)."""
        if self.pretrain_epochs == 0:
            self.rbms_ = []
            return self._random_core(X)
        n_layers = len(sizes)
        params = layer_params(self.rbm_params, n_layers, self.pretrain_epochs, X.shape[0])
        for layer, p in enumerate(params, start=1):
            p["up"], p["down"] = doubling(layer, n_layers)
        ckpt = None if self.checkpoint_dir is None else Path(self.checkpoint_dir, "pretrain")
        self.rbms_, _ = pretrain_stack(X, sizes, params, self._rng, device=self.device,
                                       dtype=self.dtype, checkpoint_dir=ckpt,
                                       checkpoint_every=self.checkpoint_every, resume=resume,
                                       layer_class=LayerRBM)
        return self._compose(self.rbms_)

    def _compose(self, rbms) -> RBM:
        """W_l from RBM l; b_0 from the first RBM, b_L from the last, each layer between
        the mean of the hidden bias below and the visible bias above."""
        weights = [rbm.W_ for rbm in rbms]
        biases = [rbms[0].b_]
        biases += [(low.c_ + high.b_) / 2 for low, high in zip(rbms, rbms[1:], strict=False)]
        biases.append(rbms[-1].c_)
        return self.layout_.compose(weights, biases)

    def _random_core(self, X: torch.Tensor) -> RBM:
        """W_l ~ N(0, 0.01²), b_0 from the data's means, the other biases 0."""
        sizes = self.layout_.sizes
        weights = [0.01 * torch.randn(n, m, generator=self._rng, device=X.device, dtype=X.dtype)
                   for m, n in zip(sizes, sizes[1:], strict=False)]
        p = X.mean(0).clamp(1e-3, 1 - 1e-3)
        biases = [torch.log(p / (1 - p))] + [X.new_zeros(n) for n in sizes[1:]]
        return self.layout_.compose(weights, biases)

    def _n_joint_epochs(self, n_samples: int) -> int:
        return resolve_epochs(self.n_iter, "n_iter", n_samples, self.batch_size,
                              allow_zero=True)

    def _start_joint(self) -> None:
        """Fresh joint-training state: trainer, epoch counter, history, per-rank generator."""
        if distributed.is_distributed():
            distributed.broadcast_(self.model_.W, self.model_.b, self.model_.c)
            if distributed.rank() > 0:  # each rank its own chains and draws
                seed = self._rng.initial_seed() + distributed.rank()
                self._rng = torch.Generator(self.model_.W.device).manual_seed(seed)
        reducer = distributed.all_reduce_sum if distributed.is_distributed() else None
        sampler = make_sampler(self.sampler, self.k, n_temperatures=self.n_temperatures,
                               min_beta=self.min_beta, fast_learning_rate=self.learning_rate)
        self._trainer = CDTrainer(self.model_, sampler, centering=self.centering,
                                  reducer=reducer, weight_mask=self.layout_.mask(self.model_.W))
        self.n_epochs_ = 0
        self.history_ = {"reconstruction_error": [], "mean_field_rounds": [], "seconds": []}
        self._log_z = None

    def _epoch_settings(self, planned: int) -> tuple[float, float]:
        decay = self.learning_rate_decay
        if decay == "auto":
            decay = 9.0 / max(planned - 1, 1)
        t = self.n_epochs_
        lr = self.learning_rate / (1.0 + decay * t)
        return lr, self.initial_momentum if t < self.momentum_epochs else self.momentum

    def _joint_epochs(self, X: torch.Tensor, n_epochs: int, callback,
                      planned: int | None = None) -> None:
        planned = self._n_joint_epochs(X.shape[0]) if planned is None else planned
        data = Minibatches(X, check=lambda x, n: x)
        monitor = X[torch.linspace(0, X.shape[0] - 1, min(_MONITOR_ROWS, X.shape[0]),
                                   device=X.device).long()]
        checkpoints = self._joint_checkpoints()
        show = self.verbose and distributed.is_main_process()
        for epoch in tqdm(range(n_epochs), desc="DBM", unit="epoch", disable=not show):
            start = time.perf_counter()
            rounds = self._joint_pass(data, planned)
            self._record(monitor, rounds, time.perf_counter() - start)
            if show:
                tqdm.write(f"[DBM] Iteration {self.n_epochs_}, reconstruction error = "
                           f"{self.history_['reconstruction_error'][-1]:.2f}, time = "
                           f"{self.history_['seconds'][-1]:.2f}s", file=sys.stdout)
            checkpoints.maybe_save(self.n_epochs_, epoch == n_epochs - 1, self._state())
            if callback is not None:
                callback(self)

    @torch.no_grad()
    def _joint_pass(self, data: Minibatches, planned: int) -> float:
        """One epoch: per minibatch, mean-field for the data, then the trainer's step
        (persistent chains for the model) on the core's visible values [v, μ_even]."""
        lr, momentum = self._epoch_settings(planned)
        rounds = []
        for batch in data.epoch(self._rng, self.batch_size):
            mu, odd, used = self._mean_field(batch.x)
            self._trainer.step(self.layout_.even_states(batch.x, mu), lr, momentum,
                               self.weight_decay, self._rng, ph0=odd)
            rounds.append(used)
        self.n_epochs_ += 1
        return float(np.mean(rounds))

    @torch.no_grad()
    def _record(self, monitor: torch.Tensor, rounds: float, seconds: float) -> None:
        _, odd, _ = self._mean_field(monitor)
        model, layout = self.model_, self.layout_
        recon = sigmoid_(torch.addmm(layout.bias(model, 0), odd[:, layout.slices[1]],
                                          layout.weight(model.W, 1)))
        self.history_["reconstruction_error"].append(float(((monitor - recon) ** 2).sum(1)
                                                           .mean()))
        self.history_["mean_field_rounds"].append(rounds)
        self.history_["seconds"].append(seconds)

    def _state(self) -> dict:
        return training_state(self.model_, self._trainer, self._rng, self.n_epochs_,
                              self.history_)

    def _joint_checkpoints(self) -> Checkpointer:
        """Where the joint epochs' checkpoints go: ``<checkpoint_dir>/joint``."""
        return Checkpointer(None if self.checkpoint_dir is None else
                            Path(self.checkpoint_dir, "joint"), self.checkpoint_every)

    def _restore_checkpoint(self) -> None:
        checkpoints = self._joint_checkpoints()
        state = checkpoints.load()
        if state is not None:
            self.n_epochs_, self.history_ = restore_training(
                state, self.model_, self._trainer, self._rng,
                f"a DBM of layer sizes {list(self.layout_.sizes)} "
                f"(in {checkpoints.directory})")

    # ------------------------------------------------------------------ outputs
    def transform(self, X) -> np.ndarray:
        """The mean-field posteriors μ of every hidden layer, bottom to top, side by side."""
        v = self._validate(X)
        return to_numpy(torch.cat([self._posteriors(part) for part in v.split(CHUNK)]))

    def _posteriors(self, v: torch.Tensor) -> torch.Tensor:
        mu_even, mu_odd, _ = self._mean_field(v)
        layout, n_v = self.layout_, self.layout_.sizes[0]
        parts = []
        for layer in range(1, len(layout.sizes)):
            s = layout.slices[layer]
            parts.append(mu_odd[:, s] if layer % 2 else
                         mu_even[:, s.start - n_v:s.stop - n_v])
        return torch.cat(parts, dim=1)

    @property
    def _n_features_out(self) -> int:
        return sum(self.layout_.sizes[1:])

    def sample(self, n_samples: int = 1, steps: int = 1000, *, random_state=None,
               init=None) -> np.ndarray:
        """Visible states after ``steps`` Gibbs sweeps (odd layers, then even ones).

        Chains start at ``init`` (rows of data, with their mean-field posteriors)
        or, by default, at draws of the even layers from their biases.
        """
        check_is_fitted(self, "model_")
        check_positive(n_samples, "n_samples", integer=True)
        check_positive(steps, "steps", integer=True, allow_zero=True)
        model = self.model_
        gen = self._rng if random_state is None else make_generator(random_state, model.W.device)
        with torch.no_grad():
            if init is None:
                x = model.sample_base_rates(n_samples, gen)
            else:
                x = model.visible.sample(self._input(init, "init"), gen)
            x = self._trainer_sampler().generate(model, x, steps, gen)
        return to_numpy(x[:, :self.layout_.sizes[0]])

    def _trainer_sampler(self) -> Sampler:
        trainer = getattr(self, "_trainer", None)
        if trainer is not None:
            return trainer.sampler
        return make_sampler(self.sampler, self.k, n_temperatures=self.n_temperatures,
                            min_beta=self.min_beta)

    def lower_bound(self, X) -> np.ndarray:
        """The variational lower bound on log p*(v) = log p(v) + log Z per row (no log Z)."""
        bound = self._lower_bound(self._validate(X, check_range=True))
        return to_numpy(bound.to(self.model_.W.dtype))

    def _lower_bound(self, v: torch.Tensor) -> torch.Tensor:
        model = self.model_.to(torch.float64)
        with torch.no_grad():
            return torch.cat([lower_bound(model, self.layout_, part.double(),
                                          self._mean_field(part)[0].double())
                              for part in v.split(CHUNK)])

    def _mean_log_p_star(self, X) -> float:
        """The mean lower bound on log p*(v) (what :func:`~deepbelief.partition.log_likelihood`
        takes for a DBM)."""
        return float(self._lower_bound(self._validate(X, check_range=True)).mean())

    def log_partition(self, X=None, **ais_params) -> float:
        """log Z: exact when the odd or the even layers have at most 20 units in all,
        else forward AIS (:func:`~deepbelief.partition.ais_log_partition`, base rates
        from ``X`` when given). Kept until the parameters change."""
        check_is_fitted(self, "model_")
        cached = getattr(self, "_log_z", None)
        if cached is not None and cached[0] == self.n_epochs_ and not ais_params:
            return cached[1]
        if min(self.layout_.n_even, self.layout_.n_odd) <= EXACT_LOG_Z_UNITS:
            value = partition.exact_log_partition(self)
        else:
            ais_params.setdefault("seed", 0)
            value = partition.ais_log_partition(self, data=X, **ais_params).log_z
        self._log_z = (self.n_epochs_, value)
        return value

    def score_samples(self, X) -> np.ndarray:
        """The lower bound on log p(v) in nats per row: the mean-field bound less log Z."""
        bound = self._lower_bound(self._validate(X, check_range=True))
        return to_numpy((bound - self.log_partition(X)).to(self.model_.W.dtype))

    def score(self, X, y=None) -> float:
        """Mean of :meth:`score_samples`."""
        return float(np.mean(self.score_samples(X)))

    @property
    def weights_(self) -> list[np.ndarray]:
        check_is_fitted(self, "model_")
        return [to_numpy(self.layout_.weight(self.model_.W, layer).contiguous())
                for layer in range(1, len(self.layout_.sizes))]

    @property
    def biases_(self) -> list[np.ndarray]:
        check_is_fitted(self, "model_")
        return [to_numpy(self.layout_.bias(self.model_, layer).contiguous())
                for layer in range(len(self.layout_.sizes))]

    # ------------------------------------------------------------ construction
    @classmethod
    def from_weights(cls, weights, biases, **params) -> DBM:
        """A fitted DBM with W_l = ``weights[l - 1]`` (n_l x n_{l-1}) and b_l = ``biases[l]``."""
        if len(weights) < 1 or len(biases) != len(weights) + 1:
            raise ValueError(f"a DBM needs L >= 1 weight matrices and L + 1 bias vectors, "
                             f"got {len(weights)} and {len(biases)}")
        dtype = resolve_dtype(params.get("dtype"))
        Ws = [as_tensor2d(W, name=f"weights[{i}]", dtype=dtype, owner=cls.__name__)
              for i, W in enumerate(weights)]
        sizes = [Ws[0].shape[1]] + [W.shape[0] for W in Ws]
        for i, W in enumerate(Ws):
            if W.shape[1] != sizes[i]:
                raise ValueError(f"weights[{i}] has shape {tuple(W.shape)}; layer {i} has "
                                 f"{sizes[i]} units")
        bs = [as_tensor2d(np.reshape(np.asarray(b, dtype=np.float64), (1, -1)),
                          name=f"biases[{i}]", dtype=Ws[0].dtype, n_features=n,
                          owner=cls.__name__)[0]
              for i, (b, n) in enumerate(zip(biases, sizes, strict=True))]
        params.setdefault("hidden_layer_sizes", tuple(sizes[1:]))
        dbm = cls(**params)
        device = resolve_device(dbm.device)
        dbm.layout_ = Layout(sizes)
        dbm.model_ = dbm.layout_.compose([W.to(device) for W in Ws], [b.to(device) for b in bs])
        dbm.n_features_in_ = sizes[0]
        dbm._rng = make_generator(dbm.random_state, device)
        dbm._start_joint()
        return dbm

    def save(self, path) -> None:
        """Write the model to one safetensors file (see :func:`deepbelief.load`)."""
        save(self, path)

    def _save_state(self) -> tuple[dict[str, torch.Tensor], dict]:
        layers = range(len(self.layout_.sizes))
        tensors = {f"W{layer}": self.layout_.weight(self.model_.W, layer) for layer in layers
                   if layer}
        tensors.update({f"b{layer}": self.layout_.bias(self.model_, layer) for layer in layers})
        return tensors, {"n_epochs": self.n_epochs_, "history": self.history_,
                         "sizes": list(self.layout_.sizes)}

    @classmethod
    def _from_state(cls, params: dict, tensors: dict[str, torch.Tensor], extra: dict) -> DBM:
        sizes = extra.get("sizes")
        if not isinstance(sizes, list) or len(sizes) < 2 or \
                not all(isinstance(n, int) and n > 0 for n in sizes):
            raise ValueError("model file lacks the DBM's layer sizes")
        weights = [check_tensor(tensors, f"W{layer}", (sizes[layer], sizes[layer - 1]))
                   for layer in range(1, len(sizes))]
        biases = [check_tensor(tensors, f"b{layer}", (n,)) for layer, n in enumerate(sizes)]
        params["hidden_layer_sizes"] = tuple(sizes[1:])
        dbm = cls.from_weights(weights, biases, **params)
        dbm.n_epochs_ = int(extra.get("n_epochs", 0))
        dbm.history_ = dict(extra.get("history", {}))
        return dbm

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.transformer_tags.preserves_dtype = (
            ["float64", "float32"] if self.dtype is None else [self.dtype])
        return tags

