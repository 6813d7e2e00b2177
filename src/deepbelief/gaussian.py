"""The Gaussian-Bernoulli RBM: real-valued visible units, binary hidden units.

Cho, Raiko & Ilin (2011)'s parameterisation, with one learned variance per
visible unit (log σ²):

    E(v, h) = Σ_j (v_j - b_j)² / 2σ_j² - cᵀh - Σ_ij h_i W_ij v_j / σ_j²
    p(v_j | h) = N(b_j + W_jᵀh, σ_j²),   p(h_i = 1 | v) = σ(c_i + Σ_j W_ij v_j / σ_j²)
    F(v) = Σ_j (v_j - b_j)² / 2σ_j² - Σ_i softplus(c_i + Σ_j W_ij v_j / σ_j²)

A sibling of :class:`~deepbelief.BernoulliRBM` on the same base
(:class:`~deepbelief.base.BaseRBM`): the same RBM core, samplers, trainer and
AIS run it; it adds the visible unit type (:class:`~deepbelief.units.Gaussian`)
and the input transform (:class:`~deepbelief.transforms.Standardize`).
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._validation import CHUNK, to_numpy
from .base import DEPRECATED, BaseRBM, as_vector
from .io import register
from .partition import ais_log_partition, exact_log_partition
from .samplers import Sampler
from .transforms import Chain, Identity, Logit, Standardize
from .units import Gaussian, Units

#: Exact log Z (2^n_components hidden states) up to this many hidden units in
#: :meth:`GaussianVisibleMixin.score_samples`; AIS above.
EXACT_SCORE_UNITS = 20


#: The hyperparameters of Gaussian visible units, as every estimator with them declares them.
GAUSSIAN_CONSTRAINTS: dict[str, list] = {
    "sampler": [StrOptions({"cd", "pcd", "langevin"}), Sampler],
    "learn_variance": ["boolean"],
    "min_variance": [Interval(Real, 0, None, closed="neither")],
}


class GaussianVisibleMixin:
    """What an RBM estimator with Gaussian visible units adds to :class:`BaseRBM`.

    Real-valued inputs (no [0, 1] range, no sparse input); chains that sample their
    visible states (the variances' statistic needs their spread); and
    :meth:`score_samples` as the density of the inputs,
    log p(x) = -F(v) - log Z + log ``|det ∂v/∂x|`` for v the units' values of x, log Z
    exact up to ``EXACT_SCORE_UNITS`` hidden units and estimated by AIS above.
    The estimator has ``learn_variance`` and ``min_variance``.
    """

    _input_domain: ClassVar[dict[str, bool]] = {"unit_interval": False,
                                                "accept_sparse": False}

    def _sampler_options(self) -> dict[str, Any]:
        """The chain samples its visible states: the variance's statistic needs their spread."""
        return {"sample_visible": True}

    def _make_sampler(self) -> Sampler:
        """The base's sampler, which must sample the visible states to learn the variances."""
        sampler = super()._make_sampler()
        if self.learn_variance and sampler.sample_visible is not True:
            raise ValueError("learning the variances needs sampled visible states: pass a "
                             "sampler with sample_visible=True (e.g. CD(k, sample_visible=True))")
        return sampler

    def score_samples(self, X) -> np.ndarray:
        """log p(x) of each row in nats (the density of the inputs as given).

        log p(x) = -F(v) - log Z + log ``|det ∂v/∂x|`` for v the units' values of the row
        (the standardised row, or its logit's on (0, 1): -inf for a row outside the
        support); log Z is exact (a sum over the 2^n hidden states) up
        to 20 hidden units, else estimated by AIS (100 runs, base means from ``X``)
        and kept until the parameters change.
        """
        z, log_det = self._input_and_log_det(X)
        with torch.no_grad():
            model = self.model_.to(torch.float64)
            neg_f = torch.cat([-model.free_energy(c.double()) for c in z.split(CHUNK)])
        return to_numpy(neg_f - self.log_partition(X) + log_det)

    def log_partition(self, data=None) -> float:
        """log Z of the model over the units' values: exact up to 20 hidden units, else AIS.

        ``data`` (inputs) gives AIS its base means; the value is cached until
        the next training epoch.
        """
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


@register
class GaussianBernoulliRBM(GaussianVisibleMixin, BaseRBM):
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
    sampler : {"cd", "pcd", "langevin"} or Sampler, default="cd"
        The negative phase (:mod:`deepbelief.samplers`): CD-k, persistent CD or
        Gibbs-Langevin (:class:`~deepbelief.samplers.GibbsLangevin`, Liao et al. 2022;
        e.g. ``GibbsLangevin(k, from_noise=True)``, the chains started from noise);
        the visible states of the chain are always sampled.
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
    support : {"auto", "real", "unit"}, default="auto"
        Where each column's values may lie. "unit": on (0, 1), modelled through
        their logit log(x / (1 - x)) (before the standardisation), so that the
        density puts no mass outside (0, 1) and samples stay inside (a logit-normal
        mixture per column; :class:`~deepbelief.transforms.Logit`); training values
        outside are refused. "real": the real line, as given. "auto": "unit" for the
        columns whose training values all lie strictly between 0 and 1 (a stream's
        first minibatch decides), "real" for the others. Rows outside a unit
        column's (0, 1) have density zero (``score_samples`` -inf); elsewhere they
        are clipped into it.
    max_grad_norm : float, optional
        Clip each minibatch's mean statistics of all parameters (W, b, c, log σ²)
        together to this L2 norm before the step
        (:class:`~deepbelief.training.GradientClipping`; Liao et al. 2022 clip at
        10); None: no clipping.
    persistent : bool, deprecated
        Use ``sampler="pcd"`` (True) or ``sampler="cd"`` (False).

    Attributes
    ----------
    model_ : deepbelief.model.RBM
        The RBM core; ``model_.visible.log_var`` holds log σ².
    variance_ : ndarray of shape (n_features,)
        σ² (in standardised units).
    input_transform_ : deepbelief.transforms.Standardize, Identity or Chain
        The fitted standardisation (:class:`~deepbelief.transforms.Identity` when
        ``standardize=False``), after the logit of the unit columns when there are
        any (a :class:`~deepbelief.transforms.Chain`).
    unit_columns_ : ndarray of bool, shape (n_features,)
        The columns modelled on (0, 1) through their logit (``support``).
    mean_, scale_ : ndarray of shape (n_features,)
        The standardisation (zeros and ones when ``standardize=False``), of the
        logits for the unit columns.
    components_, intercept_hidden_, intercept_visible_, history_, n_features_in_,
    n_epochs_
        As in :class:`~deepbelief.BernoulliRBM`; ``history_`` records the
        reconstruction error (no pseudo-likelihood: the inputs are not binary).
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseRBM._parameter_constraints,
        **GAUSSIAN_CONSTRAINTS,
        "standardize": ["boolean"],
        "support": [StrOptions({"auto", "real", "unit"})],
        "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(self, n_components: int = 256, *, k: int = 1, sampler: Any = "cd",
                 learning_rate: float = 0.1, momentum: float = 0.9,
                 initial_momentum: float = 0.5, momentum_epochs: int = 5,
                 weight_decay: float = 1e-4, learning_rate_decay: float = 0.0,
                 batch_size: int = 100, n_iter: int | str = "auto",
                 learn_variance: bool = True, min_variance: float = 0.01,
                 standardize: bool = True, support: str = "auto",
                 max_grad_norm: float | None = None, device: Any = "cpu", dtype: str | None = None,
                 checkpoint_dir: str | None = None, checkpoint_every: int = 1,
                 random_state: Any = None, verbose: bool = False,
                 persistent: bool | str = DEPRECATED) -> None:
        self.n_components = n_components
        self.k = k
        self.sampler = sampler
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
        self.support = support
        self.max_grad_norm = max_grad_norm
        self.device = device
        self.dtype = dtype
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self.random_state = random_state
        self.verbose = verbose
        self.persistent = persistent

    # ------------------------------------------------------- what this adds
    def _visible_units(self, like: torch.Tensor) -> Units:
        log_var = torch.zeros(like.shape[-1], dtype=like.dtype, device=like.device)
        return Gaussian(log_var, learn_variance=bool(self.learn_variance),
                        min_log_var=math.log(self.min_variance))

    def _input_transform(self):
        return Standardize() if self.standardize else Identity()

    def _fit_input_transform(self, X: torch.Tensor):
        """The standardisation, after the logit of the columns on (0, 1) (``support``)."""
        if self.support == "real":
            return super()._fit_input_transform(X)
        logit = Logit(self.support).fit(X)
        if not bool(logit.unit_columns.any()):
            return super()._fit_input_transform(X)
        return Chain(logit, self._input_transform().fit(logit.forward(X)))

    def _transformed(self, data):
        """Training minibatches checked against the unit columns' (0, 1), then mapped."""
        check = getattr(self.input_transform_, "check", None)
        if check is not None:
            if data.n_samples is not None:
                check(data.X)
            else:
                data = data.map(lambda x, y: check(x))
        return super()._transformed(data)

    def _trainer_options(self) -> dict[str, Any]:
        """Gradient clipping (:class:`~deepbelief.training.GradientClipping`) when asked for."""
        return {"max_grad_norm": self.max_grad_norm}

    def _initialize(self, X: torch.Tensor) -> None:
        """The base's initialisation, σ = 1, and the variances' ceiling: the data's."""
        super()._initialize(X)
        self.model_.visible.limit_to(X.var(0, correction=0))

    @property
    def mean_(self) -> np.ndarray:
        return to_numpy(self._standardization()[0])

    @property
    def scale_(self) -> np.ndarray:
        return to_numpy(self._standardization()[1])

    @property
    def unit_columns_(self) -> np.ndarray:
        t = self.input_transform_
        if isinstance(t, Chain):
            return to_numpy(t.parts[0].unit_columns)
        return np.zeros(self.n_features_in_, dtype=bool)

    def _standardization(self) -> tuple[torch.Tensor, torch.Tensor]:
        t = self.input_transform_
        if isinstance(t, Chain):
            t = t.parts[-1]
        if isinstance(t, Identity):
            t = Standardize.identity(self.b_)
        return t.shift, t.scale

    @property
    def variance_(self) -> np.ndarray:
        return to_numpy(self.model_.visible.variance)

    # ----------------------------------------------------------------- files
    @classmethod
    def from_weights(cls, W, b, c, log_var=None, mean=None, scale=None, unit_columns=None,
                     **params) -> GaussianBernoulliRBM:
        """A fitted model from W (n_hidden x n_visible), b, c, log σ² and the input transform.

        ``log_var`` defaults to zeros (σ = 1); without ``mean`` and ``scale`` the
        inputs are modelled as given; ``unit_columns`` (booleans) marks the columns
        modelled on (0, 1) through their logit (before the standardisation).
        """
        model = super().from_weights(W, b, c, **params)
        b = model.b_
        with torch.no_grad():
            if log_var is not None:
                model.model_.visible.log_var.copy_(
                    as_vector(log_var, "log_var", b.shape[0], b.dtype, b.device))
            if mean is not None or scale is not None:
                transform = Standardize.identity(b)
                for name, value, target in (("mean", mean, transform.shift),
                                            ("scale", scale, transform.scale)):
                    if value is not None:
                        target.copy_(as_vector(value, name, b.shape[0], b.dtype, b.device))
                transform.load_state_dict(transform.state_dict())  # checks the scales
                model.input_transform_ = transform
            if unit_columns is not None:
                mask = as_vector(np.asarray(unit_columns, dtype=float), "unit_columns",
                                 b.shape[0], b.dtype, b.device) != 0
                if bool(mask.any()):
                    model.input_transform_ = Chain(Logit("auto", mask), model.input_transform_)
        return model

    #: Today's files name the standardisation ``shift``, ``scale``; earlier ones ``mean``.
    _FILE_VECTORS = {"log_var": "log_var", "shift": "mean", "scale": "scale",
                     "unit_columns": "unit_columns"}

    @classmethod
    def _file_vectors(cls, tensors: dict[str, torch.Tensor]) -> dict[str, str]:
        names = {"log_var": "log_var"}
        if "scale" in tensors:
            names.update({"mean" if "mean" in tensors else "shift": "mean", "scale": "scale"})
        if "unit_columns" in tensors:
            names["unit_columns"] = "unit_columns"
        return names
