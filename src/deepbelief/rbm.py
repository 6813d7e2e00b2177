"""The Bernoulli RBM as a scikit-learn estimator (slides §4)."""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.utils._param_validation import Hidden, Interval, StrOptions

from . import functional as fn
from ._sparse import chunks, dense
from ._validation import CHUNK, to_numpy
from .base import DEPRECATED, BaseRBM
from .io import register
from .units import BINARY, Units

#: Multiplier of the hash that picks, from a row's own content, the visible unit
#: whose flip the pseudo-log-likelihood compares (Knuth's multiplicative hash).
_FLIP_HASH = 2654435761


@register
class BernoulliRBM(BaseRBM):
    """Restricted Boltzmann machine with binary visible and hidden units.

    E(v, h) = -bᵀv - cᵀh - hᵀWv, trained by contrastive divergence (CD-k) or
    persistent CD with momentum SGD.

    Parameters
    ----------
    n_components : int, default=256
        Number of hidden units n.
    k : int, default=1
        Gibbs steps per update (CD-k).
    sampler : {"cd", "pcd", "fpcd", "pt"} or Sampler, default="cd"
        The negative phase (:mod:`deepbelief.samplers`): CD-k from the data,
        persistent CD (Tieleman 2008), fast-weights PCD (Tieleman & Hinton 2009)
        or parallel tempering (Desjardins et al. 2010); or a sampler object
        (copied at ``fit``).
    n_temperatures : int, optional
        ``sampler="pt"``: persistent chains at this many inverse temperatures
        spaced evenly from 1 down to ``min_beta``, neighbours swapping states
        after every Gibbs step (``k`` steps per update); only the β = 1 chains
        feed the gradient. None: 5.
    min_beta : float, default=0.5
        ``sampler="pt"``: the hottest chain's inverse temperature, in (0, 1).
    fast_learning_rate : float, optional
        ``sampler="fpcd"``: the persistent chains sample with the parameters plus
        fast ones that take every step scaled by ``fast_learning_rate /
        learning_rate`` and decay by 19/20 per update. None: ``learning_rate``.
    sample_visible : bool, default=False
        ``sampler="cd"``: sample binary visible reconstructions; by default they
        are the probabilities p(v|h) (practical guide). Persistent chains are
        always sampled.
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
        10 epochs and at least 6,000 · min(1, √(n / 60,000)) minibatch updates for
        n rows (10 epochs of MNIST; 1,039 updates, 58 epochs, of the 1.8k
        digits), 10 epochs for a stream of minibatches.
    device : str or torch.device, default="cpu"
        Where tensors live and compute happens ("cuda" for a GPU).
    dtype : {"float32", "float64"} or None, default=None
        Floating-point type of the parameters and outputs. None follows the
        training data, as scikit-learn does: float32 data gives float32, float64
        (and integer or boolean) data float64. A stream follows its first minibatch.
    mean_field : bool, default=False
        Deterministic mean-field CD: probabilities instead of samples in the chain.
    centering : float, default=0.0
        Follow the centred gradient (Melchior, Fischer & Wiskott 2016), with
        offsets tracking the data means of v and p(h|v) at this moving-average
        rate (0.01 is theirs); 0 trains with the plain gradient. The model is the
        same RBM either way; centering only changes the path of training.
    centring : float, deprecated
        Use ``centering``.
    persistent : bool, deprecated
        Use ``sampler="pcd"`` (True) or ``sampler="cd"`` (False). Likewise
        ``n_temperatures`` > 1 without ``sampler="pt"`` and ``fast_learning_rate``
        > 0 without ``sampler="fpcd"`` still choose those samplers, with a
        ``FutureWarning``.
    checkpoint_dir : str, optional
        Write a checkpoint every ``checkpoint_every`` epochs there (atomically);
        ``fit(..., resume=True)`` continues from the newest, a fresh ``fit`` first
        removes those an earlier run left.
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

    Notes
    -----
    Training data must lie in [0, 1] (binary units' probabilities). A fitted
    model takes any finite values in :meth:`transform`, :meth:`score_samples`
    and the other outputs, as scikit-learn's ``BernoulliRBM`` does: p(h|v) =
    σ(W v + c) is defined for every real v, so test rows that a scaler fitted on
    the training rows maps slightly outside [0, 1] go through unchanged (no
    clipping) and a ``Pipeline`` of ``MinMaxScaler`` and this model scores them.
    :func:`~deepbelief.partition.log_likelihood`, a probability of binary data,
    still refuses them.
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseRBM._parameter_constraints,
        "n_temperatures": [Interval(Integral, 1, None, closed="left"), None],
        "min_beta": [Interval(Real, 0, 1, closed="neither")],
        "fast_learning_rate": [Interval(Real, 0, None, closed="left"), None],
        "sample_visible": ["boolean"],
        "mean_field": ["boolean"],
        "centering": [Interval(Real, 0, 1, closed="both")],
        "centring": [Interval(Real, 0, 1, closed="both"), Hidden(StrOptions({DEPRECATED}))],
    }

    def __init__(self, n_components: int = 256, *, k: int = 1, sampler: Any = "cd",
                 n_temperatures: int | None = None, min_beta: float = 0.5,
                 fast_learning_rate: float | None = None, sample_visible: bool = False,
                 learning_rate: float = 0.1, momentum: float = 0.9,
                 initial_momentum: float = 0.5, momentum_epochs: int = 5,
                 weight_decay: float = 1e-4, learning_rate_decay: float = 0.0,
                 batch_size: int = 100, n_iter: int | str = "auto", device: Any = "cpu",
                 dtype: str | None = None, mean_field: bool = False, centering: float = 0.0,
                 checkpoint_dir: str | None = None, checkpoint_every: int = 1,
                 random_state: Any = None, verbose: bool = False,
                 persistent: bool | str = DEPRECATED, centring: float | str = DEPRECATED) -> None:
        self.n_components = n_components
        self.k = k
        self.sampler = sampler
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
        self.centering = centering
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self.random_state = random_state
        self.verbose = verbose
        self.persistent = persistent
        self.centring = centring

    # ------------------------------------------------------- what this adds
    def _visible_units(self, like: torch.Tensor) -> Units:
        return BINARY

    def _sampler_spec(self):
        """``sampler``, the deprecated spellings of PT and FPCD translated (with a warning)."""
        spec = super()._sampler_spec()
        tempered, fast = (self.n_temperatures or 1) > 1, bool(self.fast_learning_rate)
        if spec in ("cd", "pcd") and tempered and not fast:
            warnings.warn("n_temperatures > 1 without sampler='pt' is deprecated; pass "
                          "sampler='pt'", FutureWarning, stacklevel=4)
            spec = "pt"
        elif spec == "pcd" and fast and not tempered:
            warnings.warn("fast_learning_rate with persistent chains is deprecated; pass "
                          "sampler='fpcd'", FutureWarning, stacklevel=4)
            spec = "fpcd"
        if fast and spec != "fpcd":
            raise ValueError("fast_learning_rate applies to sampler='fpcd' only, got "
                             f"sampler={spec!r}")
        if tempered and spec != "pt":
            raise ValueError(f"n_temperatures applies to sampler='pt' only, got sampler={spec!r}")
        return spec

    def _sampler_options(self) -> dict[str, Any]:
        return {"sample_visible": self.sample_visible, "mean_field": self.mean_field,
                "n_temperatures": self.n_temperatures, "min_beta": self.min_beta,
                "fast_learning_rate": self.fast_learning_rate or self.learning_rate}

    def _trainer_options(self) -> dict[str, Any]:
        """The centred gradient (:class:`~deepbelief.training.Centering`) when ``centering`` > 0."""
        rate = self.centering
        if self.centring != DEPRECATED:
            warnings.warn("centring is deprecated; pass centering instead", FutureWarning,
                          stacklevel=4)
            rate = self.centring
        return {"centering": float(rate)}

    def _monitors(self):
        return {**super()._monitors(),
                "pseudo_log_likelihood": lambda v: float(self._pseudo_log_likelihood(v).mean())}

    @classmethod
    def _upgrade_params(cls, params: dict) -> dict:
        """Files of earlier releases: ``n_temperatures`` > 1 and ``fast_learning_rate`` > 0
        chose parallel tempering and fast-weights PCD."""
        params = dict(params)
        centring = params.pop("centring", DEPRECATED)  # this release's files: "deprecated"
        if centring != DEPRECATED:
            params["centering"] = centring
        if "sampler" not in params:
            if (params.get("n_temperatures") or 1) > 1:
                params["sampler"] = "pt"
            elif params.get("persistent") and params.get("fast_learning_rate"):
                params["sampler"] = "fpcd"
        params = super()._upgrade_params(params)
        if params.get("sampler") != "fpcd" and not params.get("fast_learning_rate"):
            params["fast_learning_rate"] = None
        if params.get("sampler") != "pt" and params.get("n_temperatures") == 1:
            params["n_temperatures"] = None
        return params

    # ------------------------------------------------------- estimator outputs
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

    @classmethod
    def from_weights(cls, W, b, c, **params) -> BernoulliRBM:
        """A fitted model with given parameters W (n_hidden x n_visible), b, c.

        E.g. ``BernoulliRBM.from_weights(sk.components_, sk.intercept_visible_,
        sk.intercept_hidden_)`` for a scikit-learn BernoulliRBM ``sk``.
        """
        return super().from_weights(W, b, c, **params)
