"""Gaussian mixture model fitted by expectation-maximisation (slides §3), in torch.

    p(x) = Σ_k φ_k N(x | μ_k, Σ_k),   Σ_k φ_k = 1.

Everything inside the EM loop is a torch tensor operation on the whole data set (in
row blocks that fit in cache): log densities for all components come from one GEMM
against the stacked precision Cholesky factors, covariances from one batched GEMM.
The M-step only needs sufficient statistics, which add up over minibatches and over
ranks, so the same code fits a stream of minibatches larger than memory and runs
data-parallel under ``torchrun`` (see :meth:`GaussianMixture.fit`).
The parametrisation follows scikit-learn: each precision matrix Λ_k = Σ_k⁻¹ is kept
as an upper-triangular factor U_k with Λ_k = U_k U_kᵀ (``precisions_cholesky_``).

The passes over the data (E-step, sufficient statistics) run in the data's floating-point
type, float32 or float64; the parameters, which are small (K × D × D at most), are
estimated in float64 and stored in the data's type (see :class:`GaussianMixture`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import torch
from sklearn.base import BaseEstimator, DensityMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import distributed
from ._validation import (
    RUN_CONSTRAINTS,
    check_X,
    data_dtype,
    make_generator,
    minibatch_check,
    resolve_device,
    resolve_dtype,
    to_numpy,
)
from .data import Minibatches
from .io import check_tensor, register, save

#: The covariance types, and the shape of ``covariances_`` (and of ``precisions_`` and
#: ``precisions_cholesky_``) for each, given K components and D features.
_COVARIANCE_SHAPES: dict[str, Callable[[int, int], tuple[int, ...]]] = {
    "full": lambda K, D: (K, D, D),
    "tied": lambda K, D: (D, D),
    "diag": lambda K, D: (K, D),
    "spherical": lambda K, D: (K,),
}
_INITS = ("kmeans", "k-means++", "random", "random_from_data")
#: The parameters' type during a fit, whatever the data's: the M-step subtracts sums
#: (E[x²] - μ²), tells empty components (N_k < 1e-6) from rounding, and factorises nearly
#: singular covariances, all of which float32 does too coarsely; at O(K D³) it costs little
#: next to the O(N K D²) passes over the data, which run in the data's type.
_PARAM_DTYPE = torch.float64
_BLOCK_ELEMENTS = 1 << 20  # rows per block ≈ this / (n_components · n_features)
_EMPTY_MASS = 1e-6  # a component with less responsibility than this has lost its points
_LLOYD_MAX_ITER = 100


# ---------------------------------------------------------------- k-means seeding


def _squared_distances(X: torch.Tensor, C: torch.Tensor) -> torch.Tensor:
    """‖x_n - c_k‖² for every row of X and of C, via one GEMM; shape (n, k)."""
    d = (X * X).sum(dim=1, keepdim=True) - 2.0 * X @ C.T + (C * C).sum(dim=1)
    return d.clamp_min_(0.0)


def _sample_proportional(weights: torch.Tensor, n: int, gen: torch.Generator) -> torch.Tensor:
    """Draw ``n`` indices with probability ∝ ``weights`` (uniform if they are all 0)."""
    total = weights.sum()
    if float(total) <= 0.0:
        return torch.randint(len(weights), (n,), generator=gen, device=weights.device)
    u = torch.rand(n, generator=gen, dtype=weights.dtype, device=weights.device) * total
    return torch.searchsorted(weights.cumsum(0), u).clamp_max_(len(weights) - 1)


def kmeans_plusplus(X: torch.Tensor, n_clusters: int, gen: torch.Generator) -> torch.Tensor:
    """Greedy k-means++ seeds (Arthur & Vassilvitskii 2007), as in scikit-learn.

    Each new seed is the best of 2 + ⌊log k⌋ candidates drawn with probability
    ∝ D(x)², the squared distance to the nearest seed chosen so far.

    Parameters
    ----------
    X : Tensor of shape (n_samples, n_features)
        Data.
    n_clusters : int
        Number of seeds k.
    gen : torch.Generator
        Source of randomness.

    Returns
    -------
    seeds : Tensor of shape (n_clusters, n_features)
        Rows of ``X``.
    """
    n_trials = 2 + int(math.log(n_clusters))
    seed0 = torch.randint(X.shape[0], (1,), generator=gen, device=X.device)
    chosen = [seed0]
    closest = _squared_distances(X, X[seed0])[:, 0]
    for _ in range(1, n_clusters):
        candidates = _sample_proportional(closest, n_trials, gen)
        candidate_closest = torch.minimum(closest[:, None], _squared_distances(X, X[candidates]))
        best = torch.argmin(candidate_closest.sum(dim=0))
        closest = candidate_closest[:, best]
        chosen.append(candidates[best].reshape(1))
    return X[torch.cat(chosen)]


def _nearest(X: torch.Tensor, C: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Index of, and squared distance to, the nearest row of C for every row of X."""
    d, labels = _squared_distances(X, C).min(dim=1)
    return labels, d


def _centroids(X: torch.Tensor, labels: torch.Tensor, dist: torch.Tensor,
               n_clusters: int) -> torch.Tensor:
    """Cluster means; an empty cluster moves to one of the points farthest from theirs."""
    counts = torch.bincount(labels, minlength=n_clusters).to(X.dtype)
    sums = torch.zeros(n_clusters, X.shape[1], dtype=X.dtype, device=X.device)
    centres = sums.index_add_(0, labels, X) / counts.clamp_min(1.0)[:, None]
    empty = counts == 0
    if bool(empty.any()):
        far = torch.topk(dist, int(empty.sum())).indices
        centres[empty] = X[far]
    return centres


def kmeans(X: torch.Tensor, n_clusters: int, gen: torch.Generator,
           max_iter: int = _LLOYD_MAX_ITER) -> torch.Tensor:
    """Lloyd's algorithm from k-means++ seeds: labels of every sample.

    Alternates assigning each point to its nearest centre and moving each centre to
    the mean of its points, until no assignment changes (or ``max_iter`` rounds).

    Parameters
    ----------
    X : Tensor of shape (n_samples, n_features)
        Data.
    n_clusters : int
        Number of clusters.
    gen : torch.Generator
        Source of randomness for the seeds.
    max_iter : int, default=100
        Maximum number of Lloyd iterations.

    Returns
    -------
    labels : Tensor of shape (n_samples,)
        Cluster index of every sample.
    """
    labels, dist = _nearest(X, kmeans_plusplus(X, n_clusters, gen))
    for _ in range(max_iter):
        new_labels, dist = _nearest(X, _centroids(X, labels, dist, n_clusters))
        if torch.equal(new_labels, labels):
            break
        labels = new_labels
    return labels


# ---------------------------------------------------------------- Gaussian algebra


def _covariance_shape(covariance_type: str, n_components: int,
                      n_features: int) -> tuple[int, ...]:
    """Shape of the covariances (and precisions, and their Cholesky factors) of a mixture."""
    return _COVARIANCE_SHAPES[covariance_type](n_components, n_features)


def _n_covariance_parameters(covariance_type: str, n_components: int, n_features: int) -> int:
    """Free parameters of the covariances: D(D+1)/2 per symmetric D × D matrix."""
    shape = _covariance_shape(covariance_type, n_components, n_features)
    if covariance_type in ("full", "tied"):
        return math.prod(shape[:-1]) * (n_features + 1) // 2
    return math.prod(shape)


def _row_blocks(n_rows: int, row_width: int) -> Iterator[slice]:
    step = max(1, _BLOCK_ELEMENTS // max(1, row_width))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def _add_to_diagonal(A: torch.Tensor, value: float) -> torch.Tensor:
    A.diagonal(dim1=-2, dim2=-1).add_(value)
    return A


def _scatter_full(X, resp, centre):
    """S_k = Σ_n r_nk (x_n - c_k)(x_n - c_k)ᵀ, as a batched GEMM per row block."""
    K, D = centre.shape
    scatter = torch.zeros(K, D, D, dtype=X.dtype, device=X.device)
    for rows in _row_blocks(X.shape[0], K * D):
        Y = (X[rows][None] - centre[:, None]) * resp[rows].T.sqrt()[:, :, None]
        scatter.baddbmm_(Y.mT, Y)
    return scatter


def _accumulate_statistics(X: torch.Tensor, resp: torch.Tensor, centre: torch.Tensor | None,
                           covariance_type: str) -> list[torch.Tensor]:
    """Sufficient statistics of one block of rows, additive over blocks and ranks.

    Parameters
    ----------
    X : Tensor of shape (n_samples, n_features)
        Samples (already centred by the fit's offset).
    resp : Tensor of shape (n_samples, n_components)
        Responsibilities r_nk.
    centre : Tensor of shape (n_components, n_features) or None
        Centres c_k of the second moments ('full' and 'tied'); the current means
        keep the sums well conditioned. ``None`` uses the means of this block, which
        is exact when the block is the whole data set.
    covariance_type : {'full', 'tied', 'diag', 'spherical'}
        Which second moment is kept.

    Returns
    -------
    stats : list of Tensor
        Σ_n r_nk, Σ_n r_nk x_n and the second moment: Σ_n r_nk (x_n - c_k)(x_n - c_k)ᵀ
        for 'full', Σ_n (x_n - Σ_k r_nk c_k) x_nᵀ for 'tied', Σ_n r_nk x_n² otherwise.
    """
    nk, sx = resp.sum(dim=0), resp.T @ X
    if centre is None:
        centre = sx / (nk + 10.0 * torch.finfo(resp.dtype).eps)[:, None]
    if covariance_type == "full":
        second = _scatter_full(X, resp, centre)
    elif covariance_type == "tied":
        second = (X - resp @ centre).T @ X
    else:
        second = resp.T @ (X * X)
    return [nk, sx, second]


def _estimate_gaussian_parameters(stats: list[torch.Tensor], centre: torch.Tensor | None,
                                  reg_covar: float, covariance_type: str):
    """M-step from summed statistics: N_k, μ_k = Σ_n r_nk x_n / N_k and Σ_k.

    With centres c_k, Σ_n r_nk (x_n - μ_k)(x_n - μ_k)ᵀ = S_k - N_k (μ_k - c_k)(μ_k - c_k)ᵀ;
    for 'tied', Σ_k Σ_n r_nk (x_n - μ_k) x_nᵀ = T + Σ_k (c_k - μ_k) (Σ_n r_nk x_n)ᵀ.
    ``centre`` is the ``centre`` given to :func:`_accumulate_statistics`.
    """
    nk_raw, sx, second = stats[:3]
    nk = nk_raw + 10.0 * torch.finfo(nk_raw.dtype).eps
    means = sx / nk[:, None]
    if covariance_type == "full":
        if centre is not None:
            d = means - centre
            second = second - nk[:, None, None] * d[:, :, None] * d[:, None, :]
        return nk, means, _add_to_diagonal(second / nk[:, None, None], reg_covar)
    if covariance_type == "tied":
        if centre is not None:
            second = second + (centre - means).T @ sx
        return nk, means, _add_to_diagonal((second + second.T) / (2.0 * nk.sum()), reg_covar)
    variances = second / nk[:, None] - means * means + reg_covar
    return nk, means, variances if covariance_type == "diag" else variances.mean(dim=1)


#: scikit-learn's error when a covariance is singular and may not be repaired.
ILL_DEFINED_COVARIANCE = (
    "Fitting the mixture model failed because some components have ill-defined empirical "
    "covariance (for instance caused by singleton or collapsed samples). Try to decrease the "
    "number of components, increase reg_covar, or scale the input data.")
#: What scikit-learn adds to that error for float32 data.
_FLOAT32_ADVICE = (" The numerical accuracy can also be improved by passing float64 data "
                   "instead of float32.")


def _ill_defined(dtype: torch.dtype) -> str:
    """scikit-learn's error message for data of ``dtype``."""
    return ILL_DEFINED_COVARIANCE + (_FLOAT32_ADVICE if dtype == torch.float32 else "")


def _cholesky_with_jitter(cov: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """Lower Cholesky factor, adding growing multiples of I where a matrix is singular."""
    L, info = torch.linalg.cholesky_ex(cov)
    if not bool((info > 0).any()):
        return cov, L, False
    scale = cov.diagonal(dim1=-2, dim2=-1).abs().mean(dim=-1).clamp_min(1.0)
    for power in range(-12, 1):
        failed = (info > 0)[..., None, None]
        eye = torch.eye(cov.shape[-1], dtype=cov.dtype, device=cov.device)
        cov = torch.where(failed, cov + (10.0**power) * scale[..., None, None] * eye, cov)
        L, info = torch.linalg.cholesky_ex(cov)
        if not bool((info > 0).any()):
            return cov, L, True
    raise ValueError("a covariance matrix is not positive definite even after regularisation")


def _precision_cholesky(cov: torch.Tensor, covariance_type: str, repair: bool = True,
                        message: str = ILL_DEFINED_COVARIANCE):
    """U with Λ = U Uᵀ = Σ⁻¹: U = L⁻ᵀ for the lower Cholesky factor L of Σ.

    Returns the (possibly repaired) covariances, U and whether a repair was needed:
    singular matrices get a diagonal jitter, non-positive variances a small floor.
    Without ``repair`` such a covariance raises scikit-learn's ``ValueError``
    (``message``).
    """
    if covariance_type in ("full", "tied"):
        cov, L, repaired = _cholesky_with_jitter(cov)
        if repaired and not repair:
            raise ValueError(message)
        eye = torch.eye(cov.shape[-1], dtype=cov.dtype, device=cov.device).expand_as(L)
        return cov, torch.linalg.solve_triangular(L, eye, upper=False).mT, repaired
    floor = torch.finfo(cov.dtype).eps * cov.abs().max().clamp_min(1.0)
    repaired = bool((cov <= 0).any())
    if repaired and not repair:
        raise ValueError(message)
    cov = cov.clamp_min(floor) if repaired else cov
    return cov, cov.rsqrt(), repaired


def _precision_cholesky_from_precisions(precisions: torch.Tensor, covariance_type: str):
    """U upper-triangular with Λ = U Uᵀ: U = J chol(J Λ J) J, J the exchange matrix."""
    if covariance_type in ("full", "tied"):
        flipped = precisions.flip(-1, -2)
        return torch.linalg.cholesky(flipped).flip(-1, -2)
    return precisions.sqrt()


def _covariances_from_precision_cholesky(prec_chol: torch.Tensor, covariance_type: str):
    """Σ = (U Uᵀ)⁻¹ = U⁻ᵀ U⁻¹."""
    if covariance_type in ("full", "tied"):
        eye = torch.eye(prec_chol.shape[-1], dtype=prec_chol.dtype,
                        device=prec_chol.device).expand_as(prec_chol)
        U_inv = torch.linalg.solve_triangular(prec_chol, eye, upper=True)
        return U_inv.mT @ U_inv
    return 1.0 / (prec_chol * prec_chol)


def _log_det_cholesky(prec_chol: torch.Tensor, covariance_type: str, n_features: int):
    """log det U = ½ log det Λ, per component (a scalar for 'tied')."""
    if covariance_type in ("full", "tied"):
        return prec_chol.diagonal(dim1=-2, dim2=-1).log().sum(dim=-1)
    if covariance_type == "diag":
        return prec_chol.log().sum(dim=1)
    return n_features * prec_chol.log()


def _mahalanobis_full(X, means, prec_chol):
    """‖(x_n - μ_k)ᵀ U_k‖² for all n, k: one GEMM of X against [U_1 … U_K] per block."""
    K, D = means.shape
    stacked = prec_chol.permute(1, 0, 2).reshape(D, K * D)
    bias = -torch.einsum("kd,kde->ke", means, prec_chol).reshape(K * D)
    out = torch.empty(X.shape[0], K, dtype=X.dtype, device=X.device)
    for rows in _row_blocks(X.shape[0], K * D):
        Y = torch.addmm(bias, X[rows], stacked)
        out[rows] = Y.square_().view(-1, K, D).sum(dim=2)
    return out


def _mahalanobis_tied(X, means, prec_chol):
    """‖(x_n - μ_k)ᵀ U‖² with one shared U."""
    K, D = means.shape
    shifted_means = means @ prec_chol
    out = torch.empty(X.shape[0], K, dtype=X.dtype, device=X.device)
    for rows in _row_blocks(X.shape[0], K * D):
        Y = (X[rows] @ prec_chol)[:, None, :] - shifted_means[None]
        out[rows] = Y.square_().sum(dim=2)
    return out


def _mahalanobis_diag(X, means, prec_chol):
    """Σ_d λ_kd (x_nd - μ_kd)², expanded into GEMMs."""
    prec = prec_chol * prec_chol
    return ((means * means * prec).sum(dim=1) - 2.0 * X @ (means * prec).T
            + (X * X) @ prec.T)


def _mahalanobis_spherical(X, means, prec_chol):
    """λ_k ‖x_n - μ_k‖²."""
    return _squared_distances(X, means) * (prec_chol * prec_chol)


_MAHALANOBIS = {
    "full": _mahalanobis_full,
    "tied": _mahalanobis_tied,
    "diag": _mahalanobis_diag,
    "spherical": _mahalanobis_spherical,
}


def log_gaussian_prob(X, means, prec_chol, covariance_type: str) -> torch.Tensor:
    """log N(x_n | μ_k, Σ_k) = -½ (D log 2π + (x_n - μ_k)ᵀ Λ_k (x_n - μ_k)) + log det U_k.

    Parameters
    ----------
    X : Tensor of shape (n_samples, n_features)
        Samples.
    means : Tensor of shape (n_components, n_features)
        Component means μ_k.
    prec_chol : Tensor
        Precision Cholesky factors U_k, shaped as ``precisions_cholesky_``.
    covariance_type : {'full', 'tied', 'diag', 'spherical'}
        How the covariances are parametrised.

    Returns
    -------
    log_prob : Tensor of shape (n_samples, n_components)
    """
    n_features = X.shape[1]
    maha = _MAHALANOBIS[covariance_type](X, means, prec_chol)
    log_det = _log_det_cholesky(prec_chol, covariance_type, n_features)
    return -0.5 * (n_features * math.log(2.0 * math.pi) + maha) + log_det


@dataclass
class _Params:
    """Mixture parameters as tensors: φ, μ, Σ and U (Λ = U Uᵀ)."""

    weights: torch.Tensor
    means: torch.Tensor
    covariances: torch.Tensor
    prec_chol: torch.Tensor


class _FitResult(NamedTuple):
    """What EM from one initialisation ends with (see ``GaussianMixture._fit_single``)."""

    params: _Params
    lower_bound: float
    n_iter: int
    converged: bool
    lower_bounds: list[float]


@dataclass
class _TrainingData:
    """A fit's data as this rank sees it.

    ``source`` is the validated data; ``first`` this rank's rows of the array or of the
    stream's first minibatch, centred on ``offset`` (rank 0's mean of them), as every
    block is; ``whole_data``: ``first`` is all the data (one array, one process).
    """

    source: Minibatches
    first: torch.Tensor
    offset: torch.Tensor
    whole_data: bool

    def blocks(self) -> Iterator[torch.Tensor]:
        """This rank's rows of the training data, centred, block by block."""
        if self.source.n_samples is not None:
            yield self.first
            return
        for batch in self.source.epoch(shuffle=False):
            yield batch.x - self.offset


def _e_step(X: torch.Tensor, p: _Params, covariance_type: str):
    """log p(x_n) = logsumexp_k [log φ_k + log N(x_n | μ_k, Σ_k)] and log r_nk, in X's type."""
    weighted = _weighted_log_prob(X, p, covariance_type)
    log_norm = torch.logsumexp(weighted, dim=1)
    return log_norm, weighted - log_norm[:, None]


def _weighted_log_prob(X: torch.Tensor, p: _Params, covariance_type: str) -> torch.Tensor:
    """log φ_k + log N(x_n | μ_k, Σ_k), computed in X's floating-point type."""
    dt = X.dtype
    return (log_gaussian_prob(X, p.means.to(dt), p.prec_chol.to(dt), covariance_type)
            + p.weights.log().to(dt))


# ---------------------------------------------------------------- the estimator


@register
class GaussianMixture(DensityMixin, BaseEstimator):
    """Gaussian mixture model p(x) = Σ_k φ_k N(x | μ_k, Σ_k), fitted by EM.

    The E-step computes responsibilities in the log domain,

        log r_nk = log φ_k + log N(x_n | μ_k, Σ_k) - log Σ_j φ_j N(x_n | μ_j, Σ_j),

    and the M-step re-estimates, with N_k = Σ_n r_nk,

        φ_k = N_k / N,   μ_k = Σ_n r_nk x_n / N_k,
        Σ_k = Σ_n r_nk (x_n - μ_k)(x_n - μ_k)ᵀ / N_k + reg_covar · I.

    Each iteration cannot decrease the mean log-likelihood (1/N) Σ_n log p(x_n),
    which is reported as ``lower_bound_`` (the value at the E-step of the last
    iteration, as in scikit-learn). Iteration stops when it changes by less than
    ``tol``.

    The fitted attributes and outputs have the data's floating-point type, as in
    scikit-learn (see ``dtype``). With float32 data the E-step and the sums over
    the data run in float32; the M-step (parameters from the sums, Cholesky
    factors) and the mean log-likelihood, which decides convergence, are computed
    in float64 and the parameters stored in float32.

    Parameters
    ----------
    n_components : int, default=1
        Number of mixture components K.
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        'full': one covariance matrix per component; 'tied': one matrix shared by
        all; 'diag': a diagonal matrix per component; 'spherical': σ_k² I per
        component.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, default='kmeans'
        Initial responsibilities, as in scikit-learn. 'kmeans': hard labels of
        k-means (Lloyd's algorithm from k-means++ seeds). 'k-means++': each
        component starts from one k-means++ seed point. 'random': uniform random
        responsibilities, normalised per sample. 'random_from_data': each
        component starts from one data point drawn at random.
    n_init : int, default=1
        Number of initialisations; the fit with the highest ``lower_bound_`` is kept.
    max_iter : int, default=100
        Maximum number of EM iterations per initialisation (0 keeps the initial
        parameters).
    tol : float, default=1e-3
        Convergence threshold on the change of the mean log-likelihood.
    reg_covar : float, default=1e-6
        Non-negative value added to the covariance diagonals, keeping them positive
        definite. With ``reg_covar > 0`` a covariance that is still singular is
        repaired (a small multiple of I is added, with a ``RuntimeWarning``), and a
        component that loses all its samples is re-seeded (with a
        ``RuntimeWarning``); with ``reg_covar=0`` either raises scikit-learn's
        ``ValueError`` ("ill-defined empirical covariance"), as scikit-learn does,
        whatever the ``covariance_type``.
    device : str or torch.device, default='cpu'
        Where the computation runs.
    dtype : {"float32", "float64"} or None, default=None
        Floating-point type of the fitted attributes and the outputs. None follows
        the training data, as scikit-learn does: float32 data gives float32,
        float64 (and integer or boolean) data float64; a stream follows its first
        minibatch, and a warm-started fit the last fit's type. Later inputs are
        converted to the fitted type. Float32 halves memory and time but, as in
        scikit-learn, 'tied', 'diag' and 'spherical' fits stay accurate only while
        each component's variance is well above 1e-7 times the squared distance of
        its mean from the data's mean (tight clusters far apart need float64).
    random_state : int, numpy or torch generator, or None, default=None
        Seeds the initialisation and :meth:`sample`.
    warm_start : bool, default=False
        Start a new :meth:`fit` from the last fit's solution (one initialisation).
    verbose : int, default=0
        Print each initialisation and, every ``verbose_interval`` iterations, the
        log-likelihood change.
    verbose_interval : int, default=10
    weights_init : array-like of shape (n_components,), default=None
        Initial weights φ (non-negative, summing to 1) instead of those from ``init``.
    means_init : array-like of shape (n_components, n_features), default=None
        Initial means.
    precisions_init : array-like, default=None
        Initial precision matrices Λ_k = Σ_k⁻¹, shaped like ``covariances_``.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
        Mixture weights φ_k.
    means_ : ndarray of shape (n_components, n_features)
        Component means μ_k.
    covariances_ : ndarray
        (n_components, n_features, n_features) for 'full', (n_features, n_features)
        for 'tied', (n_components, n_features) for 'diag', (n_components,) for
        'spherical'.
    precisions_ : ndarray
        Λ_k = Σ_k⁻¹, shaped like ``covariances_``.
    precisions_cholesky_ : ndarray
        Upper-triangular U_k with Λ_k = U_k U_kᵀ (square roots of the precisions for
        'diag' and 'spherical'), shaped like ``covariances_``.
    converged_ : bool
        Whether the best initialisation met ``tol``.
    n_iter_ : int
        EM iterations run by the best initialisation.
    lower_bound_ : float
        Mean log-likelihood of the training data at the last E-step of the best
        initialisation.
    lower_bounds_ : list of float
        That value at every iteration of the best initialisation.
    n_features_in_ : int
        Number of features seen during fit.

    Examples
    --------
    >>> import numpy as np
    >>> from deepbelief.mixture import GaussianMixture
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> gm = GaussianMixture(n_components=2, random_state=0).fit(X)
    >>> np.sort(gm.means_[:, 0])
    array([ 1., 10.])
    """

    #: The hyperparameters' types and ranges, checked by ``_validate_params`` (scikit-learn's
    #: ``InvalidParameterError``, a ``ValueError``) when a fit starts.
    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "covariance_type": [StrOptions(set(_COVARIANCE_SHAPES))],
        "init_params": [StrOptions(set(_INITS))],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "reg_covar": [Interval(Real, 0.0, None, closed="left")],
        **RUN_CONSTRAINTS,
        "warm_start": ["boolean"],
        "verbose_interval": [Interval(Integral, 1, None, closed="left")],
        "weights_init": ["array-like", None],
        "means_init": ["array-like", None],
        "precisions_init": ["array-like", None],
    }

    def __init__(
        self,
        n_components: int = 1,
        *,
        covariance_type: str = "full",
        init_params: str = "kmeans",
        n_init: int = 1,
        max_iter: int = 100,
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        device: str | torch.device = "cpu",
        dtype: str | None = None,
        random_state=None,
        warm_start: bool = False,
        verbose: int = 0,
        verbose_interval: int = 10,
        weights_init=None,
        means_init=None,
        precisions_init=None,
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.init_params = init_params
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.reg_covar = reg_covar
        self.device = device
        self.dtype = dtype
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init

    # ------------------------------------------------------------ validation

    def _user_tensor(self, value, name: str, shape: tuple[int, ...], device) -> torch.Tensor:
        arr = np.asarray(value, dtype=np.float64)
        if arr.shape != shape:
            raise ValueError(f"The parameter '{name}' should have the shape of {shape}, but "
                             f"got {arr.shape}")
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} contains NaN or infinity")
        return torch.as_tensor(arr, dtype=_PARAM_DTYPE, device=device)

    def _check_initial_parameters(self, n_features: int, device) -> dict:
        K, D = self.n_components, n_features
        out = {}
        if self.weights_init is not None:
            w = self._user_tensor(self.weights_init, "weights", (K,), device)
            if bool((w < 0).any()) or bool((w > 1).any()):
                raise ValueError(f"The parameter 'weights' should be in the range [0, 1], "
                                 f"but got max value {float(w.max()):.5f}, min value "
                                 f"{float(w.min()):.5f}")
            if abs(float(w.sum()) - 1.0) > 1e-6:  # float32 input rounds its sum
                raise ValueError(f"The parameter 'weights' should be normalized, but got "
                                 f"sum(weights) = {float(w.sum()):.5f}")
            out["weights"] = w / w.sum()
        if self.means_init is not None:
            out["means"] = self._user_tensor(self.means_init, "means", (K, D), device)
        if self.precisions_init is not None:
            out["prec_chol"] = self._check_precisions(self.precisions_init, K, D, device)
        return out

    def _check_precisions(self, value, K: int, D: int, device) -> torch.Tensor:
        kind = self.covariance_type
        P = self._user_tensor(value, f"{kind} precision", _covariance_shape(kind, K, D), device)
        if kind in ("diag", "spherical"):
            if bool((P <= 0).any()):
                raise ValueError(f"'{kind} precision' should be positive")
        elif not torch.allclose(P, P.mT) or bool(
            (torch.linalg.cholesky_ex(P.flip(-1, -2)).info > 0).any()
        ):
            raise ValueError(f"'{kind} precision' should be symmetric, positive-definite")
        return _precision_cholesky_from_precisions(P, self.covariance_type)

    def _validate(self, X, device, *, reset: bool, fitting: bool = False) -> torch.Tensor:
        """``X`` on ``device`` in the fit's type (``fitting``: a block of the data being
        fitted, the first one with ``reset``; see :meth:`fit`) or else the fitted model's.

        Only ``reset`` changes the estimator (``n_features_in_``, as in scikit-learn)."""
        if fitting:
            dtype = self._fit_dtype
        else:
            check_is_fitted(self, "means_")
            dtype = self._model_dtype()
        return check_X(self, X, reset=reset, dtype=dtype, device=device,
                       unit_interval=False, min_samples=2 if reset else 1)

    def _model_dtype(self) -> torch.dtype:
        """The fitted attributes' floating-point type."""
        return data_dtype(self.means_.dtype)

    # ------------------------------------------------------------ fitting

    def fit(self, X, y=None, *, callback=None):
        """Estimate φ, μ, Σ with EM, keeping the best of ``n_init`` initialisations.

        Each EM iteration sums the sufficient statistics (Σ_n r_nk, Σ_n r_nk x_n and
        a second moment) over the data, then takes one M-step from the sums. The
        data may be one array, moved to ``device`` once, or, for data larger than
        memory, a re-iterable of minibatches (a ``DataLoader``, whose ``(x, y)``
        items use ``x``) streamed once per iteration; then the initialisation
        (``init``, unless ``weights_init``, ``means_init`` and ``precisions_init``
        are all given) sees the first minibatch only.

        Inside a ``torch.distributed`` process group (``torchrun``, see
        :mod:`deepbelief.distributed`), every rank fits on rows ``rank::world_size``
        of each array or minibatch it is given, so passing the same data on every
        rank just works. The statistics and the log-likelihood are summed over
        ranks, the initialisation is rank 0's, and all ranks take the same M-steps
        and stop together.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or iterable of minibatches
            Training data. A one-shot iterator is refused: EM needs one pass per
            iteration.
        y : Ignored
            Present for API consistency.
        callback : callable, optional
            Called as ``callback(self)`` after each EM iteration (its return value is
            ignored); ``n_iter_``, ``lower_bound_`` and ``lower_bounds_`` are then those
            of the initialisation running, and the fitted parameters come at the end.
            The fit is the same with or without it.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        device = resolve_device(self.device)
        warm = self.warm_start and hasattr(self, "converged_")
        # The type the data are validated in: ``dtype`` or a warm start's, else (None) the
        # first block's own, which every later minibatch of a stream is converted to.
        self._fit_dtype = self._requested_dtype(warm)
        data = self._training_data(X, device)
        self._fit_dtype = data.first.dtype
        user = self._check_initial_parameters(data.first.shape[1], device)
        if "means" in user:
            user["means"] = user["means"] - data.offset
        gen = make_generator(self.random_state, device)
        if warm:
            self._check_warm_start(data.first.shape[1])
        self._repairs = {"empty": 0, "singular": 0}
        best = None
        for trial in range(1 if warm else self.n_init):
            if self.verbose:
                print(f"Initialisation {trial}")
            start, previous = self._starting_point(data, user, gen, device, warm)
            result = self._fit_single(data, start, previous, callback)
            if best is None or result.lower_bound > best.lower_bound:
                best = result
        self._store(best, data.offset, data.first.shape[1])
        self._warn_repairs()
        return self

    def _requested_dtype(self, warm: bool) -> torch.dtype | None:
        """The fit's type before the data are seen: ``dtype``, or a warm start's, or None."""
        return resolve_dtype(self.dtype) or (self._model_dtype() if warm else None)

    def _training_data(self, X, device) -> _TrainingData:
        """``X`` validated (in ``self._fit_dtype``), this rank's part of its first block,
        and the offset that centres the data (broadcast from rank 0)."""
        # EM reads the data once per iteration: a one-shot iterator cannot feed it.
        source = Minibatches(X, check=minibatch_check(
            lambda x, reset: self._validate(x, device, reset=reset, fitting=True)),
            passes=2, shard_streams=True)
        first = distributed.shard(source.first)
        if first.shape[0] < self.n_components:
            raise ValueError(f"n_samples={first.shape[0]} (of this process's first "
                             f"block) must be >= n_components={self.n_components}")
        offset = first.mean(dim=0)
        distributed.broadcast_(offset)
        whole_data = source.n_samples is not None and not distributed.is_distributed()
        return _TrainingData(source, first - offset, offset, whole_data)

    def _check_warm_start(self, n_features: int) -> None:
        """A warm start continues the last fit: the data must have its features."""
        if self.means_.shape[1] != n_features:
            raise ValueError(f"warm_start: X has {n_features} features, the last fit "
                             f"had {self.means_.shape[1]}")

    def _starting_point(self, data: _TrainingData, user: dict, gen: torch.Generator, device,
                        warm: bool) -> tuple[_Params, float]:
        """One initialisation's parameters, and the last lower bound known (a warm
        start's previous fit, so that convergence is detected across fits)."""
        if warm:  # the last solution, in this fit's centred coordinates
            start = self._fitted_params(device)
            start.means = start.means - data.offset
            return start, self.lower_bound_
        return self._initial_params(data.first, user, gen), -math.inf

    def fit_predict(self, X, y=None, *, callback=None) -> np.ndarray:
        """Fit, then return the most probable component of every training sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : Ignored
            Present for API consistency.
        callback : callable, optional
            As in :meth:`fit`.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            argmax_k r_nk under the fitted parameters.
        """
        return self.fit(X, callback=callback).predict(X)

    def _fit_single(self, data: _TrainingData, params: _Params,
                    lower_bound: float = -math.inf, callback=None) -> _FitResult:
        """EM from ``params`` until the lower bound changes by less than ``tol``.

        ``lower_bound`` is the last one known (a warm start's previous fit), so that
        convergence is detected across warm-started fits. ``callback`` (see :meth:`fit`)
        follows every iteration.
        """
        bounds, converged, n_iter = [], False, 0
        for n_iter in range(1, self.max_iter + 1):
            previous = lower_bound
            params, lower_bound = self._em_iteration(data, params)
            bounds.append(lower_bound)
            if callback is not None:
                self.n_iter_, self.lower_bound_, self.lower_bounds_ = n_iter, lower_bound, bounds
                callback(self)
            if self.verbose and n_iter % self.verbose_interval == 0:
                print(f"  Iteration {n_iter}\tlog-likelihood change {lower_bound - previous:.5g}")
            if abs(lower_bound - previous) < self.tol:
                converged = True
                break
        return _FitResult(params, lower_bound, n_iter, converged, bounds)

    def _em_iteration(self, data: _TrainingData, params: _Params) -> tuple[_Params, float]:
        """One E-step over all the data and one M-step: the new parameters, and the mean
        log-likelihood under the old ones.

        With ``data.whole_data`` the one block is all the data, so the second moments
        are centred on the new means in the same pass; otherwise on the old means.
        ``data.first`` supplies re-seeded means.
        """
        # The centres the data's second moments are taken about, in the data's type.
        centre = None if data.whole_data else params.means.to(data.first.dtype)
        stats, log_norm = self._summed_statistics(data, params, centre)
        misfit = -log_norm if data.whole_data else None
        params = self._m_step(stats[:3], centre, data.first, misfit)
        return params, float(stats[3] / stats[4])

    def _summed_statistics(self, data: _TrainingData, params: _Params, centre: torch.Tensor | None
                           ) -> tuple[list[torch.Tensor], torch.Tensor]:
        """E-step block by block: the sufficient statistics, Σ_n log p(x_n) and N, summed
        over blocks and ranks in float64, and the last block's log p(x_n).

        Each block's statistics are computed in the data's type and summed over blocks
        in float64. The log-likelihood is summed in float64 too, so that the test of
        its change against ``tol`` never sees the rounding of a float32 sum over many
        samples.
        """
        stats = None
        for X in data.blocks():
            log_norm, log_resp = _e_step(X, params, self.covariance_type)
            block = [s.to(_PARAM_DTYPE) for s in _accumulate_statistics(
                X, log_resp.exp(), centre, self.covariance_type)]
            block += [log_norm.sum(dtype=_PARAM_DTYPE),
                      log_norm.new_tensor(float(X.shape[0]), dtype=_PARAM_DTYPE)]
            stats = block if stats is None else [
                a + b for a, b in zip(stats, block, strict=True)]
        distributed.all_reduce_sum(stats)
        return stats, log_norm

    def _initial_resp(self, X: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        K, init = self.n_components, self.init_params
        if init == "random":
            resp = torch.rand(X.shape[0], K, generator=gen, dtype=X.dtype, device=X.device)
            return resp / resp.sum(dim=1, keepdim=True)
        if init == "kmeans":
            return torch.nn.functional.one_hot(kmeans(X, K, gen), K).to(X.dtype)
        if init == "k-means++":
            rows = _nearest(kmeans_plusplus(X, K, gen), X)[0]  # the seeds' own rows
        else:
            rows = torch.randperm(X.shape[0], generator=gen, device=X.device)[:K]
        resp = torch.zeros(X.shape[0], K, dtype=X.dtype, device=X.device)
        resp[rows, torch.arange(K, device=X.device)] = 1.0
        return resp

    def _initial_params(self, X: torch.Tensor, user: dict, gen: torch.Generator) -> _Params:
        if len(user) == 3:
            weights, means, prec_chol = user["weights"], user["means"], user["prec_chol"]
            cov = _covariances_from_precision_cholesky(prec_chol, self.covariance_type)
            return _Params(weights, means, cov, prec_chol)
        resp = self._initial_resp(X, gen)
        stats = _accumulate_statistics(X, resp, None, self.covariance_type)
        params = self._m_step(stats, None, X, None)
        distributed.broadcast_(params.weights, params.means, params.covariances,
                               params.prec_chol)
        if "weights" in user:
            params.weights = user["weights"]
        if "means" in user:
            params.means = user["means"]
        if "prec_chol" in user:
            params.prec_chol = user["prec_chol"]
            params.covariances = _covariances_from_precision_cholesky(
                params.prec_chol, self.covariance_type)
        return params

    def _m_step(self, stats: list[torch.Tensor], centre: torch.Tensor | None, X: torch.Tensor,
                misfit: torch.Tensor | None) -> _Params:
        """φ, μ, Σ (float64) from summed statistics; with ``reg_covar > 0`` empty
        components are re-seeded from ``X``.

        ``misfit`` ranks the rows of ``X`` for re-seeding (the negative
        log-likelihood after an E-step); ``None`` uses the distance to the nearest mean.
        With ``reg_covar=0`` an empty component keeps its zero covariance, and raises
        scikit-learn's error below, as in scikit-learn.
        """
        stats = [s.to(_PARAM_DTYPE) for s in stats]
        centre = None if centre is None else centre.to(_PARAM_DTYPE)
        nk, means, cov = _estimate_gaussian_parameters(stats, centre, self.reg_covar,
                                                       self.covariance_type)
        empty = nk < _EMPTY_MASS
        repair = self.reg_covar > 0
        if repair and bool(empty.any()):
            nk, means, cov = self._reseed(X, empty, nk, means, cov, misfit)
        cov, prec_chol, repaired = _precision_cholesky(cov, self.covariance_type, repair=repair,
                                                       message=_ill_defined(X.dtype))
        self._repairs["singular"] += int(repaired)
        return _Params(nk / nk.sum(), means, cov, prec_chol)

    def _reseed(self, X, empty, nk, means, cov, misfit):
        """Move each empty component to a worst-explained sample, weight of one sample.

        Its covariance becomes the average of the other components' (for 'tied' the
        shared matrix is kept).
        """
        self._repairs["empty"] += int(empty.sum())
        if misfit is None:
            misfit = _squared_distances(X, means[~empty].to(X.dtype)).min(dim=1).values
        worst = torch.topk(misfit, int(empty.sum())).indices
        means, nk = means.clone(), nk.clone()
        means[empty] = X[worst].to(means.dtype)
        nk[empty] = 1.0
        if self.covariance_type != "tied":
            cov = cov.clone()
            cov[empty] = cov[~empty].mean(dim=0)
        distributed.broadcast_(means, cov)
        return nk, means, cov

    def _warn_repairs(self) -> None:
        if self._repairs["empty"]:
            warnings.warn(
                f"{self._repairs['empty']} time(s) a mixture component lost all its "
                "samples; it was re-seeded at a poorly explained sample. The data may "
                "have fewer distinct clusters (or points) than n_components.",
                RuntimeWarning, stacklevel=3)
        if self._repairs["singular"]:
            warnings.warn(
                f"{self._repairs['singular']} time(s) a covariance was singular (e.g. "
                "duplicate points with reg_covar=0); a small multiple of the identity "
                "was added. Consider increasing reg_covar.",
                RuntimeWarning, stacklevel=3)

    def _store(self, best: _FitResult, offset: torch.Tensor, n_features: int) -> None:
        """Keep the best initialisation's parameters (uncentred, in the fit's type)."""
        if not best.converged and self.max_iter > 0:
            warnings.warn(
                f"Best performing initialization did not converge. Try different init "
                f"parameters, or increase max_iter, tol, or check for degenerate data. "
                f"(EM ran max_iter={self.max_iter} iterations, tol={self.tol}.)",
                ConvergenceWarning, stacklevel=3)

        def out(t: torch.Tensor) -> np.ndarray:  # float64 parameters in the data's type
            return to_numpy(t.to(self._fit_dtype))

        params = best.params
        self.weights_ = out(params.weights)
        self.means_ = out(params.means + offset)
        self.covariances_ = out(params.covariances)
        self.precisions_cholesky_ = out(params.prec_chol)
        U = params.prec_chol
        self.precisions_ = out(U @ U.mT if self.covariance_type in ("full", "tied") else U * U)
        self.converged_, self.n_iter_ = best.converged, best.n_iter
        self.lower_bound_, self.lower_bounds_ = best.lower_bound, best.lower_bounds
        self.n_features_in_ = n_features

    # ------------------------------------------------------------ inference

    def _fitted_params(self, device) -> _Params:
        """The fitted parameters as float64 tensors (exact for a float32 model too)."""
        def t(a):
            return torch.as_tensor(a, dtype=_PARAM_DTYPE, device=device)
        return _Params(t(self.weights_), t(self.means_), t(self.covariances_),
                       t(self.precisions_cholesky_))

    def _weighted_log_prob(self, X) -> torch.Tensor:
        """log φ_k + log N(x_n | μ_k, Σ_k), in the fitted type (``X`` is converted to it)."""
        device = resolve_device(self.device)
        Xt = self._validate(X, device, reset=False)
        return _weighted_log_prob(Xt, self._fitted_params(device), self.covariance_type)

    def score_samples(self, X) -> np.ndarray:
        """log p(x) = logsumexp_k [log φ_k + log N(x | μ_k, Σ_k)] for every sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_prob : ndarray of shape (n_samples,)
        """
        return to_numpy(torch.logsumexp(self._weighted_log_prob(X), dim=1))

    def score(self, X, y=None) -> float:
        """Mean log-likelihood (1/N) Σ_n log p(x_n).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        y : Ignored
            Present for API consistency.

        Returns
        -------
        log_likelihood : float
        """
        return float(self.score_samples(X).mean())

    def predict_proba(self, X) -> np.ndarray:
        """Responsibilities r_nk = φ_k N(x_n | μ_k, Σ_k) / p(x_n).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        resp : ndarray of shape (n_samples, n_components)
        """
        weighted = self._weighted_log_prob(X)
        return to_numpy((weighted - torch.logsumexp(weighted, dim=1, keepdim=True)).exp())

    def predict(self, X) -> np.ndarray:
        """Most probable component argmax_k r_nk of every sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return to_numpy(torch.argmax(self._weighted_log_prob(X), dim=1))

    def sample(self, n_samples: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Draw from the mixture: k ~ Categorical(φ), then x = μ_k + U_k⁻ᵀ z, z ~ N(0, I).

        Samples come grouped by component, as in scikit-learn; with an integer
        ``random_state`` every call returns the same draws.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            Samples, in the fitted type.
        y : ndarray of shape (n_samples,)
            Component of each sample.
        """
        check_is_fitted(self, "means_")
        if isinstance(n_samples, bool) or not isinstance(n_samples, Integral) \
                or n_samples < 1:
            raise ValueError(f"Invalid value for 'n_samples': {n_samples!r} . The sampling "
                             "requires at least one sample.")
        device = resolve_device(self.device)
        gen = make_generator(self.random_state, device)
        p = self._fitted_params(device)
        y = torch.multinomial(p.weights, n_samples, replacement=True, generator=gen).sort().values
        z = torch.randn(n_samples, self.n_features_in_, generator=gen, dtype=_PARAM_DTYPE,
                        device=device)
        X = p.means[y] + self._color(z, y, p.prec_chol)
        return to_numpy(X.to(self._model_dtype())), to_numpy(y)

    def _color(self, z: torch.Tensor, y: torch.Tensor, U: torch.Tensor) -> torch.Tensor:
        """U⁻ᵀ z for each sample's component (Cov(U⁻ᵀ z) = (U Uᵀ)⁻¹ = Σ)."""
        if self.covariance_type == "diag":
            return z / U[y]
        if self.covariance_type == "spherical":
            return z / U[y][:, None]
        U = U.expand(self.n_components, -1, -1) if self.covariance_type == "tied" else U
        return torch.linalg.solve_triangular(U[y].mT, z[:, :, None], upper=False)[:, :, 0]

    # ------------------------------------------------------------ model selection

    def _n_parameters(self) -> int:
        K, D = self.means_.shape
        return _n_covariance_parameters(self.covariance_type, K, D) + K * D + K - 1

    def bic(self, X) -> float:
        """Bayesian information criterion -2 log L + p log N (lower is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        bic : float
            With log L = Σ_n log p(x_n) and p the number of free parameters.
        """
        log_prob = self.score_samples(X)
        return -2.0 * float(log_prob.sum()) + self._n_parameters() * math.log(len(log_prob))

    def aic(self, X) -> float:
        """Akaike information criterion -2 log L + 2p (lower is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        aic : float
            With log L = Σ_n log p(x_n) and p the number of free parameters.
        """
        log_prob = self.score_samples(X)
        return -2.0 * float(log_prob.sum()) + 2.0 * self._n_parameters()

    # ------------------------------------------------------------ model files

    #: The fitted arrays a model file holds, by tensor name.
    _FILE_TENSORS = {"weights": "weights_", "means": "means_", "covariances": "covariances_",
                     "precisions": "precisions_",
                     "precisions_cholesky": "precisions_cholesky_"}

    def save(self, path) -> None:
        """Write the fitted model to one safetensors file (see :func:`deepbelief.load`).

        The arrays keep their floating-point type, so a float32 model loads back as
        float32.
        """
        save(self, path)

    def _save_state(self) -> tuple[dict[str, torch.Tensor], dict]:
        check_is_fitted(self, "means_")
        tensors = {key: torch.from_numpy(np.ascontiguousarray(getattr(self, attr)))
                   for key, attr in self._FILE_TENSORS.items()}
        extra = {"converged": bool(self.converged_), "n_iter": int(self.n_iter_),
                 "lower_bound": float(self.lower_bound_),
                 "lower_bounds": [float(b) for b in self.lower_bounds_]}
        return tensors, extra

    @classmethod
    def _from_state(cls, params: dict, tensors: dict[str, torch.Tensor],
                    extra: dict) -> GaussianMixture:
        model = cls(**params)
        model._validate_params()
        means = tensors.get("means")
        if means is None or means.ndim != 2 or means.shape[0] != model.n_components:
            raise ValueError(f"model file lacks a tensor 'means' of shape "
                             f"({model.n_components}, n_features)")
        K, D = means.shape
        cov_shape = _covariance_shape(model.covariance_type, K, D)
        shapes = {"weights": (K,), "means": (K, D), "covariances": cov_shape,
                  "precisions": cov_shape, "precisions_cholesky": cov_shape}
        dtype = means.dtype
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"tensor 'means' has dtype {dtype}, expected float32 or float64")
        for key, attr in cls._FILE_TENSORS.items():
            t = check_tensor(tensors, key, shapes[key])
            setattr(model, attr, to_numpy(t.to(dtype)))
        model.n_features_in_ = D
        model.converged_ = bool(extra.get("converged", False))
        model.n_iter_ = int(extra.get("n_iter", 0))
        model.lower_bound_ = float(extra.get("lower_bound", -math.inf))
        model.lower_bounds_ = [float(b) for b in extra.get("lower_bounds", [])]
        return model


__all__ = ["GaussianMixture", "kmeans", "kmeans_plusplus", "log_gaussian_prob"]
