"""The Gaussian-Bernoulli RBM: real-valued visible units, binary hidden units.

Cho, Raiko & Ilin (2011)'s parameterisation, with one learned variance per
visible unit (log σ²):

    E(v, h) = Σ_j (v_j - b_j)² / 2σ_j² - cᵀh - Σ_ij h_i W_ij v_j / σ_j²
    p(v_j | h) = N(b_j + W_jᵀh, σ_j²),   p(h_i = 1 | v) = σ(c_i + Σ_j W_ij v_j / σ_j²)
    F(v) = Σ_j (v_j - b_j)² / 2σ_j² - Σ_i softplus(c_i + Σ_j W_ij v_j / σ_j²)

The same RBM core, sampler, trainer and AIS as :class:`~deepbelief.BernoulliRBM`
run it; only the visible unit type differs (:class:`~deepbelief.units.Gaussian`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ._validation import (
    CHUNK,
    check_positive,
    check_X,
    resolve_device,
    resolve_dtype,
    to_numpy,
)
from .io import check_tensor, register
from .rbm import BernoulliRBM, as_vector
from .units import Gaussian, Units

#: Exact log Z (2^n_components hidden states) up to this many hidden units in
#: :meth:`GaussianBernoulliRBM.score_samples`; AIS above.
EXACT_SCORE_UNITS = 20


@register
class GaussianBernoulliRBM(BernoulliRBM):
    """Restricted Boltzmann machine with Gaussian visible and binary hidden units.

    E(v, h) = Σ_j (v_j - b_j)² / 2σ_j² - cᵀh - Σ_ij h_i W_ij v_j / σ_j², trained
    by CD-k (or persistent CD) with momentum SGD, the variances σ² learned as
    log σ² beside W, b and c (Cho, Raiko & Ilin 2011).

    Raw inputs work: by default each feature is standardised inside the estimator,
    z = (x - ``mean_``) / ``scale_`` (constant features keep scale 1, as in
    scikit-learn's ``StandardScaler``), the RBM models z, and everything that hands
    back visible values (``sample``, ``gibbs``, ``p_v_given_h``) maps them back to
    the inputs' units. Densities (``score_samples``, ``log_likelihood``) are those
    of the inputs as given.

    What keeps training stable (the failure reported for other Gaussian RBMs is
    divergence unless the learning rate is tiny): standardised data; the step of
    W and b preconditioned by σ² and normalised by the hidden activity (see
    :mod:`deepbelief.training`); σ² starting at 1, bounded below by
    ``min_variance`` (a variance shrinking to zero makes the density unbounded)
    and above by the data's variance; visible states *sampled* in the negative
    phase (the variance's gradient needs the chain's spread, not its mean); and
    CD rather than PCD by default (Melchior et al. 2017).

    Parameters
    ----------
    n_components : int, default=256
    k : int, default=1
        Gibbs steps per update (CD-k).
    persistent : bool, default=False
    learning_rate : float, default=0.1
        Step size of c and log σ² on the batch-averaged statistics, and of W and b
        divided by 1 + mean ‖p(h|v)‖² (the normalised step of
        :mod:`deepbelief.training`, which keeps any rate from 1e-3 to 1 stable).
    momentum, initial_momentum, momentum_epochs, weight_decay, learning_rate_decay,
    batch_size, n_iter, device, dtype, checkpoint_dir, checkpoint_every,
    random_state, verbose
        As in :class:`~deepbelief.BernoulliRBM`.
    learn_variance : bool, default=True
        Learn log σ² per visible unit; otherwise σ = 1 (on the standardised data).
    min_variance : float, default=0.01
        Floor of σ² (in standardised units).
    standardize : bool, default=True
        Standardise the inputs inside the estimator (above); False models the
        inputs as given.

    Attributes
    ----------
    model_ : deepbelief.model.RBM
        The RBM core; ``model_.visible.log_var`` holds log σ².
    variance_ : ndarray of shape (n_features,)
        σ² (in standardised units).
    mean_, scale_ : ndarray of shape (n_features,)
        The standardisation (zeros and ones when ``standardize=False``).
    components_, intercept_hidden_, intercept_visible_, history_, n_features_in_,
    n_epochs_
        As in :class:`~deepbelief.BernoulliRBM`; ``history_`` records the
        reconstruction error (no pseudo-likelihood: the inputs are not binary).
    """

    _MONITORS = ("reconstruction_error",)

    def __init__(self, n_components: int = 256, *, k: int = 1, persistent: bool = False,
                 learning_rate: float = 0.1, momentum: float = 0.9,
                 initial_momentum: float = 0.5, momentum_epochs: int = 5,
                 weight_decay: float = 1e-4, learning_rate_decay: float = 0.0,
                 batch_size: int = 100, n_iter: int | str = "auto",
                 learn_variance: bool = True, min_variance: float = 0.01,
                 standardize: bool = True, device: Any = "cpu", dtype: str | None = None,
                 checkpoint_dir: str | None = None, checkpoint_every: int = 1,
                 random_state: Any = None, verbose: bool = False) -> None:
        self.n_components = n_components
        self.k = k
        self.persistent = persistent
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.initial_momentum = initial_momentum
        self.momentum_epochs = momentum_epochs
        self.weight_decay = weight_decay
        self.learning_rate_decay = learning_rate_decay
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.learn_variance = learn_variance
        self.min_variance = min_variance
        self.standardize = standardize
        self.device = device
        self.dtype = dtype
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self.random_state = random_state
        self.verbose = verbose

    # BernoulliRBM's options that Gaussian units fix: the chain samples its visible
    # states (the variance's statistic needs them), no mean-field chain, no centring, no tempering.
    sample_visible = True
    mean_field = False
    n_temperatures = 1  # parallel tempering runs binary units only
    min_beta = 0.5
    fast_learning_rate = 0.0
    centring = 0.0

    def _check_params(self) -> None:
        super()._check_params()
        check_positive(self.min_variance, "min_variance")

    def _initialize(self, X: torch.Tensor) -> None:
        """BernoulliRBM's initialisation, σ = 1, and the variances' ceiling: the data's."""
        super()._initialize(X)
        units = self.model_.visible
        units.max_log_var = torch.log(X.var(0, correction=0)).clamp(min=units.min_log_var)
        if self.learn_variance:
            units.constrain()

    def _visible_units(self, like: torch.Tensor) -> Units:
        log_var = torch.zeros(like.shape[-1], dtype=like.dtype, device=like.device)
        return Gaussian(log_var, learn_variance=bool(self.learn_variance),
                        min_log_var=math.log(self.min_variance))

    # --------------------------------------------------------------- scaling
    def _validate(self, X, name: str = "X", *, reset: bool = False, hidden: bool = False,
                  keep_sparse: bool = False) -> torch.Tensor:
        """``X`` checked (any finite values) and standardised; hidden states as given.

        ``reset`` (training data: an array, or a stream's first minibatch) fits
        the standardisation first. Sparse input is refused (standardising would
        make it dense).
        """
        if reset:
            X = check_X(self, X, reset=True, dtype=resolve_dtype(self.dtype),
                        device=resolve_device(self.device), name=name, unit_interval=False)
            self._fit_scaling(X)
        else:
            check_is_fitted(self, "model_")
            X = check_X(self, X, reset=False, dtype=self.W_.dtype, device=self.W_.device,
                        name=name, unit_interval=hidden,
                        n_features=self.n_components_ if hidden else None)
            if hidden:
                return X
        return (X - self._shift) / self._scale

    def _fit_scaling(self, X: torch.Tensor) -> None:
        if self.standardize:
            self._shift, self._scale = standardization(X)
        else:
            self._shift, self._scale = torch.zeros_like(X[0]), torch.ones_like(X[0])

    def _to_input(self, v: torch.Tensor) -> torch.Tensor:
        return v * self._scale + self._shift

    def _input_log_det(self) -> float:
        """Σ_j log scale_j: the density of x is that of z divided by Π_j scale_j."""
        return float(self._scale.double().log().sum())

    @property
    def mean_(self) -> np.ndarray:
        return to_numpy(self._shift)

    @property
    def scale_(self) -> np.ndarray:
        return to_numpy(self._scale)

    @property
    def variance_(self) -> np.ndarray:
        return to_numpy(self.model_.visible.variance)

    # ---------------------------------------------------------------- scores
    def score_samples(self, X) -> np.ndarray:
        """log p(x) of each row in nats (the density of the inputs as given).

        log p(x) = -F(z) - log Z - Σ_j log scale_j for z the standardised row; log Z
        is exact (a sum over the 2^n hidden states) up to 20 hidden units, else
        estimated by AIS (100 runs, base means from ``X``) and kept until the
        parameters change.
        """
        z = self._validate(X)
        with torch.no_grad():
            model = self.model_.to(torch.float64)
            neg_f = torch.cat([-model.free_energy(c.double()) for c in z.split(CHUNK)])
        return to_numpy(neg_f - self.log_partition(X) - self._input_log_det())

    def log_partition(self, data=None) -> float:
        """log Z of the model over standardised inputs: exact up to 20 hidden units, else AIS.

        ``data`` (inputs) gives AIS its base means; the value is cached until
        the next training epoch.
        """
        from .partition import ais_log_partition, exact_log_partition

        check_is_fitted(self, "model_")
        key = (self.n_epochs_, self.W_.data_ptr(), float(self.W_.sum()))
        cached = getattr(self, "_log_z", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        if self.n_components_ <= EXACT_SCORE_UNITS:
            log_z = exact_log_partition(self)
        else:
            log_z = ais_log_partition(self, data=data, seed=0).log_z
        self._log_z = (key, log_z)
        return log_z

    # ----------------------------------------------------------------- files
    @classmethod
    def from_weights(cls, W, b, c, log_var=None, mean=None, scale=None,
                     **params) -> GaussianBernoulliRBM:
        """A fitted model from W (n_hidden x n_visible), b, c, log σ² and the standardisation.

        ``log_var`` defaults to zeros (σ = 1), ``mean``/``scale`` to zeros/ones.
        """
        model = super().from_weights(W, b, c, **params)
        b = model.b_
        model._shift, model._scale = torch.zeros_like(b), torch.ones_like(b)
        with torch.no_grad():
            for name, value, target in (("log_var", log_var, model.model_.visible.log_var),
                                        ("mean", mean, model._shift),
                                        ("scale", scale, model._scale)):
                if value is not None:
                    target.copy_(as_vector(value, name, b.shape[0], b.dtype, b.device))
        if not bool((model._scale > 0).all()):
            raise ValueError("scale must be positive")
        return model

    def _save_state(self) -> tuple[dict[str, torch.Tensor], dict]:
        tensors, extra = super()._save_state()
        return {**tensors, "mean": self._shift, "scale": self._scale}, extra

    @classmethod
    def _from_state(cls, params: dict, tensors: dict[str, torch.Tensor],
                    extra: dict) -> GaussianBernoulliRBM:
        W = tensors.get("W")
        if W is None or W.ndim != 2:
            raise ValueError("model file lacks a 2-D tensor 'W'")
        n_hidden, n_visible = W.shape
        parts = {name: check_tensor(tensors, name, shape) for name, shape in (
            ("W", (n_hidden, n_visible)), ("b", (n_visible,)), ("c", (n_hidden,)),
            ("log_var", (n_visible,)), ("mean", (n_visible,)), ("scale", (n_visible,)))}
        model = cls.from_weights(parts.pop("W"), parts.pop("b"), parts.pop("c"), **parts,
                                 **params)
        model.n_epochs_ = int(extra.get("n_epochs", 0))
        model.history_ = dict(extra.get("history", {}))
        return model

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = False
        tags.input_tags.sparse = False
        return tags


def standardization(X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each column's mean and standard deviation; constant columns get scale 1.

    z = (x - mean) / scale is what Gaussian visible units model (as scikit-learn's
    ``StandardScaler`` does, a column without spread is only centred).
    """
    std = X.std(0, correction=0)
    constant = std <= 1e-8 * X.abs().amax(0).clamp(min=1)
    return X.mean(0), torch.where(constant, torch.ones_like(std), std)


