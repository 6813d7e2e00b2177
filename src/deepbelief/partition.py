"""The RBM's partition function Z and its log-likelihood in nats.

p(v) = exp(-F(v)) / Z with Z = Σ_v Σ_h exp(-E(v, h)), so the mean log-likelihood
of data needs log Z, a sum over 2^(n_visible + n_hidden) states:

- :func:`exact_log_partition` sums over the smaller layer's 2^m configurations
  (m <= 25) with the other layer summed out analytically;
- :func:`ais_log_partition` estimates it by annealed importance sampling (AIS),
  as in Salakhutdinov & Murray (2008), "On the quantitative analysis of deep
  belief networks";
- :func:`reverse_ais_log_partition` anneals the other way, from the model's
  samples to the base-rate model, giving a stochastic *upper* bound on log Z
  (forward AIS gives a stochastic *lower* bound), so the two bracket log Z and a
  gap between them shows when the estimate cannot be trusted;
- :func:`log_likelihood` is mean(-F(v)) - log Z over rows of data.

Each of these takes a fitted estimator and checks its data through it (the
inputs mapped by its input transform, whose log-determinant the likelihood
adds); the computation itself is a function of the RBM core and tensors
(:func:`exact_log_z`, :func:`ais_log_z`, :func:`reverse_ais_log_z`,
:func:`mean_log_likelihood`), which use of the core only its parameters, unit
types, ``free_energy`` and ``hidden_free_energy``: another core offering those
runs through them unchanged, and nothing here reads an estimator's internals.

AIS anneals from a base-rate model A (no weights, no hidden bias, visible bias
b_A) to the RBM B through unnormalised marginals over v,

    f_β(v) = exp((1 - β) b_Aᵀv + β b_Bᵀv) · Π_i (1 + exp(β (c_i + W_i v))),

i.e. the RBM with parameters (β W, (1 - β) b_A + β b_B, β c); f_0 is model A with
n_hidden inert hidden units, Z_A = 2^n_hidden · Π_j (1 + exp(b_A,j)), and f_1 is
the RBM's exp(-F(v)). A run draws v_0 ~ p_A and, for k = 1..K, multiplies its
weight by f_{β_k}(v_{k-1}) / f_{β_{k-1}}(v_{k-1}) and moves v_{k-1} -> v_k by one
block-Gibbs step of the β_k model (which leaves p_{β_k} invariant). The weights
w satisfy E[w] = Z_B / Z_A.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from . import functional as fn
from . import sampling
from ._validation import CHUNK, check_positive, make_generator
from .model import RBM
from .units import Bernoulli

__all__ = [
    "LogZEstimate",
    "ais_log_partition",
    "ais_log_z",
    "base_rate_bias",
    "default_betas",
    "exact_log_partition",
    "exact_log_z",
    "log_likelihood",
    "mean_log_likelihood",
    "reverse_ais_log_partition",
    "reverse_ais_log_z",
]

MAX_EXACT_UNITS = 25
#: Each chunk's largest temporaries hold at least 2^23 float64 (64 MiB), above glibc's
#: highest dynamic mmap threshold (32 MiB), so each is mapped and unmapped on its own.
_EXACT_CHUNK_ELEMENTS = 1 << 23
_BASE_RATE_CLIP = 1e-3
_N_SIGMA = 3.0


class LogZEstimate(NamedTuple):
    """An estimate of log Z with the interval log(mean ± 3 standard errors) of Ẑ.

    ``lower`` is ``-inf`` when mean - 3 s.e. <= 0 (and ``upper`` is ``inf`` for
    the reverse estimate in the mirrored case).
    """

    log_z: float
    lower: float
    upper: float


# ----------------------------------------------------------------------- exact
def exact_log_partition(rbm, *, layer: str | None = None) -> float:
    """log Z summed exactly over one layer's 2^m configurations, in float64.

    Enumerating the hidden layer, log Z = logsumexp_h -F(h) with
    F(h) = -cᵀh - Σ_j softplus(b_j + W_jᵀh) (:func:`~deepbelief.functional.hidden_free_energy`;
    for Gaussian visible units the visible layer is integrated out in closed form);
    enumerating the (binary) visible layer, log Z = logsumexp_v -F(v). The
    configurations go in chunks, so memory stays bounded.

    Parameters
    ----------
    rbm : fitted BernoulliRBM or GaussianBernoulliRBM
    layer : {"hidden", "visible"}, optional
        The layer to enumerate; by default the smaller one (always the hidden
        layer for Gaussian visible units).

    Raises
    ------
    ValueError
        If the enumerated layer has more than 25 units.

    Notes
    -----
    The chunks' temporaries are sized above glibc's highest dynamic mmap threshold
    (32 MiB) and each chunk's input is written in place: with 32 MiB chunks and a
    fresh input per chunk, the heap grew by up to the size of all enumerated inputs
    (2^20 hidden states of a 784-20 RBM: peaks of 5.9-6.9 GB in eight runs of
    twelve; 2^25 states exhausted 24 GB). Now 0.65 GB for 2^20 and for 2^25 states.
    """
    check_is_fitted(rbm, "model_")
    return exact_log_z(rbm.model_, layer=layer)


def exact_log_z(model: RBM, *, layer: str | None = None) -> float:
    """:func:`exact_log_partition` on the RBM core itself."""
    model = model.to(torch.float64)
    n_hidden, n_visible = model.shape
    continuous = not isinstance(model.visible, Bernoulli)
    if layer is None:
        layer = "hidden" if n_hidden <= n_visible or continuous else "visible"
    if layer not in ("hidden", "visible"):
        raise ValueError(f"layer must be 'hidden', 'visible' or None, got {layer!r}")
    if layer == "visible" and continuous:
        raise ValueError(f"{model.visible!r} visible units cannot be enumerated; use "
                         "layer='hidden'")
    m = n_hidden if layer == "hidden" else n_visible
    if m > MAX_EXACT_UNITS:
        raise ValueError(
            f"exact log Z enumerates 2^m states of one layer and allows m <= "
            f"{MAX_EXACT_UNITS}; this RBM has n_visible={n_visible}, n_hidden={n_hidden} "
            f"(layer={layer!r} has {m}); use ais_log_partition instead"
        )
    free_energy = (model.hidden_free_energy if layer == "hidden"
                         else model.free_energy)
    # Chunk k holds the states whose top m - low bits spell k: the low bits are
    # written once, the top ones in place, so no input is allocated per chunk.
    low = min(m, max(0, math.ceil(math.log2(_EXACT_CHUNK_ELEMENTS / max(n_hidden, n_visible)))))
    device = model.W.device
    x = torch.zeros(2**low, m, dtype=torch.float64, device=device)
    x[:, :low] = _bits(torch.arange(2**low, device=device), low)
    high = _bits(torch.arange(2 ** (m - low), device=device), m - low)
    parts = torch.empty(len(high), dtype=torch.float64, device=device)
    for k, top in enumerate(high):
        x[:, low:] = top
        parts[k] = torch.logsumexp(-free_energy(x), 0)
    return float(torch.logsumexp(parts, 0))


def _bits(index: torch.Tensor, n: int) -> torch.Tensor:
    """The n low bits of each integer, least significant first, as float64 0/1."""
    return ((index[..., None] >> torch.arange(n, device=index.device)) & 1).to(torch.float64)


# ------------------------------------------------------------------------ AIS
def default_betas() -> np.ndarray:
    """Salakhutdinov & Murray's schedule: 14,501 inverse temperatures, 14,500 steps.

    Steps of 1e-3 on [0, 0.5), 1e-4 on [0.5, 0.9) and 1e-5 on [0.9, 1].
    """
    return np.concatenate([
        np.linspace(0.0, 0.5, 500, endpoint=False),
        np.linspace(0.5, 0.9, 4000, endpoint=False),
        np.linspace(0.9, 1.0, 10001),
    ])


def base_rate_bias(rbm, data=None) -> torch.Tensor:
    """Visible bias b_A of the base-rate model.

    Binary units: b_A = log(p / (1 - p)) with p the mean of each visible unit over
    ``data``, clipped to [1e-3, 1 - 1e-3]; Gaussian units: b_A = the data's means
    (in the model's standardised coordinates). Without data b_A = 0 (the uniform
    distribution, or N(0, σ²)).
    """
    check_is_fitted(rbm, "model_")
    return _base_bias(rbm.model_, None if data is None else rbm._input(data, "data"))


def _base_bias(model: RBM, X: torch.Tensor | None) -> torch.Tensor:
    """b_A of :func:`base_rate_bias` from the units' values ``X`` (None: b_A = 0)."""
    if X is None:
        return torch.zeros_like(model.b)
    p = model.visible.to(torch.float64).initial_bias(X.to(torch.float64).mean(0))
    return p.to(model.b.dtype)


def ais_log_partition(rbm, n_runs: int = 100, betas=None, base: str = "data", data=None,
                      seed=None) -> LogZEstimate:
    """Estimate log Z by annealed importance sampling from a base-rate model.

    Runs ``n_runs`` independent AIS chains in one batch. With weights w_r
    (E[w] = Z_B / Z_A, module docstring),

        log Ẑ = log Z_A + logsumexp_r(log w_r) - log n_runs,

    and the interval is log Z_A + log(mean(w) ± 3·std(w)/√n_runs). By Jensen's
    inequality E[log Ẑ] <= log Z: AIS tends to underestimate log Z (and so to
    overestimate the log-likelihood); compare with
    :func:`reverse_ais_log_partition`.

    Parameters
    ----------
    rbm : fitted BernoulliRBM
    n_runs : int, default=100
        Number of AIS runs (importance samples).
    betas : array-like, optional
        Non-decreasing inverse temperatures from 0 to 1; default
        :func:`default_betas` (14,500 steps).
    base : {"data", "uniform"}, default="data"
        Base-rate model: visible biases fitted to ``data`` (uniform when ``data``
        is None), or uniform.
    data : array-like of shape (n_samples, n_visible), optional
        Data whose pixel means give the base rates (the training data is best).
    seed : int, numpy or torch generator, or None
        Seeds every draw; the same seed gives the same estimate.
    """
    check_is_fitted(rbm, "model_")
    check_positive(n_runs, "n_runs", integer=True)
    betas = _check_betas(betas)
    X = _base_data(base, data)
    b_base = _base_bias(rbm.model_, None if X is None else rbm._input(X, "data"))
    return ais_log_z(rbm.model_, b_base, n_runs, betas, make_generator(seed, rbm.model_.W.device))


def ais_log_z(model: RBM, b_base: torch.Tensor, n_runs: int, betas: list[float],
              generator: torch.Generator) -> LogZEstimate:
    """:func:`ais_log_partition` on the RBM core, from the base-rate bias ``b_base``."""
    units = model.visible
    v = units.sample(units.mean(b_base).expand(n_runs, -1).contiguous(), generator)
    log_w = _anneal(v, model, b_base, betas, generator)
    log_mean, log_lo, log_hi = _log_mean_interval(log_w)
    log_z_base = _base_log_partition(model, b_base)
    return LogZEstimate(log_z_base + log_mean, log_z_base + log_lo, log_z_base + log_hi)


def reverse_ais_log_partition(rbm, data, n_runs: int = 100, betas=None, base: str = "data",
                              burn_in: int = 1000, seed=None) -> LogZEstimate:
    """Estimate log Z by annealing from the model's samples back to the base rates.

    The chains start at ``n_runs`` rows of ``data`` moved by ``burn_in`` block-Gibbs
    steps of the RBM, and the schedule runs from β = 1 down to 0. The weights
    w'_r = Π_k f_{β_{k-1}}(v) / f_{β_k}(v) then have E[w'] = Z_A / Z_B when the
    start states are exact samples of the RBM, and

        log Ẑ = log Z_A - (logsumexp_r(log w'_r) - log n_runs)

    is a stochastic *upper* bound on log Z: E[log Ẑ] >= log Z and
    P(log Ẑ < log Z - t) <= exp(-t), the mirror image of forward AIS. A
    log-likelihood computed with it is conservative. The guarantee holds only as
    far as the start states are samples of the model: chains that have not
    mixed (a large gap to :func:`ais_log_partition`) mean neither estimate is
    reliable. The interval is log Z_A - log(mean(w') ∓ 3·std(w')/√n_runs).

    Parameters
    ----------
    rbm : fitted BernoulliRBM
    data : array-like of shape (n_samples, n_visible)
        Where the chains start (rows drawn without replacement when there are
        enough) and, for ``base="data"``, the base rates.
    n_runs, betas, base, seed
        As in :func:`ais_log_partition`.
    burn_in : int, default=1000
        Gibbs steps of the RBM before annealing.
    """
    check_is_fitted(rbm, "model_")
    check_positive(n_runs, "n_runs", integer=True)
    check_positive(burn_in, "burn_in", integer=True, allow_zero=True)
    betas = _check_betas(betas)
    X = rbm._input(data, "data")
    b_base = _base_bias(rbm.model_, _base_data(base, X))
    return reverse_ais_log_z(rbm.model_, X, b_base, n_runs, betas, burn_in,
                             make_generator(seed, rbm.model_.W.device))


def reverse_ais_log_z(model: RBM, X: torch.Tensor, b_base: torch.Tensor, n_runs: int,
                      betas: list[float], burn_in: int, generator: torch.Generator,
                      ) -> LogZEstimate:
    """:func:`reverse_ais_log_partition` on the RBM core, its chains started at rows of
    the units' values ``X``."""
    gen = generator
    if X.shape[0] >= n_runs:
        rows = torch.randperm(X.shape[0], generator=gen, device=X.device)[:n_runs]
    else:
        rows = torch.randint(X.shape[0], (n_runs,), generator=gen, device=X.device)
    with torch.no_grad():
        start = model.visible.sample(X[rows], gen)
        v = sampling.GibbsSampler(model).sample(start, burn_in, gen)
    log_w = _anneal(v, model, b_base, betas[::-1], gen)
    log_mean, log_lo, log_hi = _log_mean_interval(log_w)
    log_z_base = _base_log_partition(model, b_base)
    return LogZEstimate(log_z_base - log_mean, log_z_base - log_hi, log_z_base - log_lo)


def log_likelihood(rbm, X, log_z=None, **ais_params) -> float:
    """Mean log p(v) = mean(-F(v)) - log Z in nats over the rows of ``X``.

    For a model that standardises its inputs (``GaussianBernoulliRBM``), the
    density is that of the inputs as given: log p(x) = log p(z) - Σ_j log s_j for
    z = (x - m) / s.

    Parameters
    ----------
    rbm : fitted BernoulliRBM or GaussianBernoulliRBM
    X : array-like of shape (n_samples, n_visible) (values in [0, 1] for binary units)
    log_z : float or LogZEstimate, optional
        log Z; estimated by :func:`ais_log_partition` when omitted.
    **ais_params
        Passed to :func:`ais_log_partition` (``n_runs``, ``betas``, ``base``,
        ``data``, ``seed``). The base rates come from ``data``, by default ``X``;
        pass the training data as ``data=`` for the customary base rates.
    """
    check_is_fitted(rbm, "model_")
    if log_z is None:
        ais_params.setdefault("data", X)
        log_z = ais_log_partition(rbm, **ais_params)
    if isinstance(log_z, LogZEstimate):
        log_z = log_z.log_z
    bounded = getattr(rbm, "_mean_log_p_star", None)
    if bounded is not None:  # a DBM: p*(v) is bounded below by mean-field, not exact
        return bounded(X) - float(log_z)
    # a probability of binary data: values outside [0, 1] are refused
    v, log_det = rbm._input_and_log_det(X, "X", check_range=True)
    return mean_log_likelihood(rbm.model_, v, float(log_z), float(torch.as_tensor(log_det).mean()))


def mean_log_likelihood(model: RBM, v: torch.Tensor, log_z: float,
                        log_det: float = 0.0) -> float:
    """mean(-F(v)) - log Z + log ``|det ∂v/∂x|`` over the rows of the units' values ``v``."""
    model = model.to(torch.float64)
    with torch.no_grad():
        total = sum(float(model.free_energy(chunk.to(torch.float64)).sum())
                    for chunk in v.split(CHUNK))
    return -total / v.shape[0] - log_z + log_det


# -------------------------------------------------------------------- helpers
@torch.no_grad()
def _anneal(v: torch.Tensor, model: RBM, b_base: torch.Tensor, betas: list[float],
            gen: torch.Generator) -> torch.Tensor:
    """log Π_k f_{β_k}(v_{k-1}) / f_{β_{k-1}}(v_{k-1}) per row, along block-Gibbs paths.

    log f_β(v) = -E_{b_β}(v) + Σ_i softplus(β (c_i + W_i s(v))) with
    b_β = b_A + β (b_B - b_A) (-E_b(v) = bᵀv for binary units, so the first term
    changes by (β_k - β_{k-1}) (b_B - b_A)ᵀv); the step v_{k-1} -> v_k is one
    block-Gibbs step of the β_k model, h ~ σ(β_k (c + W s(v))), then v from the
    visible units' distribution with input b_A + β_k (b_B - b_A + Wᵀh). The Gibbs
    products run in the model's dtype, the weights accumulate in float64.
    """
    units, hidden, W, c = model.visible, model.hidden, model.W, model.c
    v = v.to(W.dtype)
    db = model.b - b_base
    units64, b64, db64 = units.to(torch.float64), b_base.double(), db.double()
    log_w = torch.zeros(v.shape[0], dtype=torch.float64, device=v.device)
    last = len(betas) - 1
    for k in range(1, last + 1):
        prev, beta = betas[k - 1], betas[k]
        a = fn.hidden_input(units.scale(v), W, c)
        a64 = a.to(torch.float64)
        log_w += hidden.log_partition(a64 * beta).sub_(hidden.log_partition(a64 * prev))
        if isinstance(units, Bernoulli):
            log_w += (v @ db).mul_(beta - prev)
        else:
            v64 = v.to(torch.float64)
            log_w += units64.bias_energy(v64, b64 + prev * db64).sub_(
                units64.bias_energy(v64, b64 + beta * db64))
        if k == last:
            break
        h = hidden.sample(hidden.mean(a.mul_(beta)), gen)
        v = units.sample(units.mean(fn.visible_input(h, W, db).mul_(beta).add_(b_base)), gen)
    return log_w


def _log_mean_interval(log_w: torch.Tensor) -> tuple[float, float, float]:
    """log mean(w) and log(mean(w) ∓ 3 s.e.), computed with w scaled by max(w)."""
    log_w = log_w.to(torch.float64).cpu()
    n = log_w.numel()
    log_w_max = float(log_w.max())
    r = torch.exp(log_w - log_w_max)
    mean = float(r.mean())
    se = float(r.std(correction=1)) / math.sqrt(n) if n > 1 else math.inf
    lo = mean - _N_SIGMA * se
    return (log_w_max + math.log(mean), log_w_max + math.log(lo) if lo > 0 else -math.inf,
            log_w_max + math.log(mean + _N_SIGMA * se))


def _base_log_partition(model: RBM, b_base: torch.Tensor) -> float:
    """log Z_A = Σ_j softplus(b_A,j) + n_hidden · log 2 (binary visible units).

    In general the visible units' ``log_partition(b_A)`` (Σ_j log(2πσ_j²) / 2 for
    Gaussian ones) plus the inert hidden units' n_hidden · log 2.
    """
    units = model.visible.to(torch.float64)
    return float(units.log_partition(b_base.to(torch.float64))) + model.shape[0] * math.log(2.0)


def _base_data(base: str, X):
    """The data the base rates come from: ``X`` for ``base="data"``, none for "uniform"."""
    if base not in ("data", "uniform"):
        raise ValueError(f"base must be 'data' or 'uniform', got {base!r}")
    return X if base == "data" else None


def _check_betas(betas) -> list[float]:
    if betas is None:
        return default_betas().tolist()
    arr = np.asarray(betas, dtype=np.float64)
    if arr.ndim != 1 or arr.size < 2:
        raise ValueError(f"betas must be a 1-D sequence of at least 2 values, got {arr.shape}")
    if arr[0] != 0.0 or arr[-1] != 1.0 or np.any(np.diff(arr) < 0):
        raise ValueError("betas must be non-decreasing from exactly 0 to exactly 1")
    return arr.tolist()
