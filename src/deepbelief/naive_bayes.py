"""Naive Bayes classifiers (slides §2): a generative model of P(X | y) and P(y).

The classifier picks the class maximising the joint probability

    P(y = c) · Π_j P(x_j | y = c),

Bayes' rule with the evidence P(X) dropped (it is the same for every class) and the
features assumed independent given the class. Everything is computed in the log
domain in torch; fitted attributes are NumPy arrays, as in scikit-learn. The discrete
models compute in float64; :class:`GaussianNB` follows its data's floating-point type
(float32 or float64), as scikit-learn's does.

Conventions for the unsmoothed case ``alpha=0`` (the slides' worked example):

- a zero count gives probability 0, i.e. log-probability ``-inf`` (with a
  ``RuntimeWarning``), and terms ``0 · log 0`` count as 0, so nothing becomes NaN;
- a ratio ``0 / 0`` (a class with no counts at all) takes its ``alpha -> 0`` limit,
  the uniform value (1 / n_features for the multinomial, 1/2 for the Bernoulli model);
- a sample that every class gives probability 0 (all joint log-probabilities
  ``-inf``) gets the uniform posterior 1 / n_classes, and ``predict`` returns the
  first class for it;
- :class:`ComplementNB`: a feature never seen outside class c has complement
  probability 0, so weight ``+inf`` for c; a sample with it gets joint
  log-likelihood ``+inf`` for c, and its posterior is shared evenly by the classes
  at ``+inf`` (0 for the others). With ``norm=True`` the weights of such a class
  take their ``alpha -> 0`` limit: 1/m on its m features of complement count 0, 0 on
  the others.
"""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._sparse import dense, t_mm
from ._validation import DTYPES, as_labels, check_X, data_dtype, resolve_dtype, to_numpy
from .io import check_tensor, decode_classes, encode_classes, register, save

_DTYPE = torch.float64
_ALPHA_MIN = 1e-10


def _check_counts(estimator, X, *, reset: bool) -> torch.Tensor:
    """``X`` as a float64 tensor (sparse stays sparse) of non-negative counts."""
    Xt = check_X(estimator, X, reset=reset, dtype=_DTYPE, device="cpu", unit_interval=False,
                 accept_sparse=True)
    if bool(((Xt.values() if Xt.is_sparse else Xt) < 0).any()):
        raise ValueError(f"Negative values in data passed to {type(estimator).__name__} "
                         "(input X): they are not valid counts")
    return Xt


def _sample_weight(sample_weight, n_samples: int) -> torch.Tensor:
    """Per-sample weights: a finite, non-negative vector of length ``n_samples``."""
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.ndim == 0:
        w = np.full(n_samples, float(w))
    if w.shape != (n_samples,):
        raise ValueError(f"sample_weight.shape == {w.shape}, expected ({n_samples},)!")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("sample_weight must be finite and non-negative")
    if n_samples and not np.any(w > 0):
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return torch.from_numpy(w)


class _Number(Interval):
    """scikit-learn's ``Interval`` of real numbers, booleans excluded."""

    def is_satisfied_by(self, val) -> bool:
        return not isinstance(val, bool) and super().is_satisfied_by(val)


#: The infinity each kind of file tensor may hold (see :func:`_file_tensor`).
_FILE_INF = {"log": -math.inf, "weight": math.inf}


def _file_tensor(tensors: dict[str, torch.Tensor], name: str, shape: tuple[int, ...],
                 kind: str) -> torch.Tensor:
    """A model file's tensor ``name`` of ``shape``: finite values (``"real"``), finite
    and non-negative ones (``"count"``), log-probabilities (``"log"``: ``-inf``, a
    probability of 0, allowed; NaN and ``+inf`` refused) or non-negative weights
    (``"weight"``: ``+inf`` allowed, NaN refused)."""
    t = tensors.get(name)
    inf = _FILE_INF.get(kind)
    if inf is not None and t is not None and t.is_floating_point():
        check_tensor({name: torch.where(t == inf, 0.0, t)}, name, shape)
    else:
        t = check_tensor(tensors, name, shape)
    if kind in ("count", "weight") and bool((t < 0).any()):
        raise ValueError(f"tensor {name!r} has negative values")
    return t


def _log_dot(X: torch.Tensor, log_p: torch.Tensor) -> torch.Tensor:
    """Σ_j X_ij · log_p_cj for every sample i and class c, with 0 · log 0 = 0.

    ``log_p`` may hold ``-inf`` (never ``+inf``); a product x · (-inf) with x > 0
    gives ``-inf`` for that sample and class.
    """
    finite = torch.isfinite(log_p)
    out = X @ torch.where(finite, log_p, 0.0).T
    if not bool(finite.all()):
        hits = _nonzero(X) @ (~finite).to(X.dtype).T
        out = out.masked_fill(hits > 0, -math.inf)
    return out


def _nonzero(X: torch.Tensor) -> torch.Tensor:
    """1 where ``X`` is non-zero, 0 elsewhere (sparse stays sparse)."""
    if X.is_sparse:
        return torch.sparse_coo_tensor(X.indices(), (X.values() != 0).to(X.dtype), X.shape,
                                       is_coalesced=True, check_invariants=False)
    return (X != 0).to(X.dtype)


def _log_ratio(num: torch.Tensor, den: torch.Tensor, uniform: float) -> torch.Tensor:
    """log(num / den), with 0 / 0 replaced by its smoothing limit ``uniform``."""
    undefined = (num == 0) & (den == 0)
    out = torch.log(num) - torch.log(den)
    return torch.where(undefined, math.log(uniform), out)


def _normalize(jll: torch.Tensor) -> torch.Tensor:
    """log P(c | x) = jll_c - logsumexp_c' jll_c'; uniform where every jll is -inf, and
    shared evenly by the classes at +inf where some are (:class:`ComplementNB`)."""
    lse = torch.logsumexp(jll, dim=1, keepdim=True)
    dead = torch.isneginf(lse)
    out = jll - torch.where(dead, 0.0, lse)
    out = torch.where(dead, -math.log(jll.shape[1]), out)
    sure = torch.isposinf(jll)
    if bool(sure.any()):
        share = sure.sum(dim=1, keepdim=True)
        out = torch.where(share > 0, torch.log(sure / share), out)
    return out


class _BaseNB(ClassifierMixin, BaseEstimator):
    """Label handling, fitting by chunks and prediction shared by every naive Bayes model.

    A model states ``_validate``, ``_init_counters(classes, X)`` (fresh
    statistics), ``_update(X, labels, sample_weight)`` (add a chunk) and
    ``_joint_log_likelihood(X)``; for its model files, ``_FILE_TENSORS`` and
    ``_FILE_DTYPES`` (and ``_file_extra``, ``_restore_extra`` for anything else;
    ``_restore_tensors`` for tensors of other shapes).
    Hyperparameters are checked by scikit-learn's ``_parameter_constraints`` at
    every ``fit`` and ``partial_fit``.
    """

    #: The fitted arrays a model file holds, by tensor name: attribute, shape (C:
    #: classes, D: features) and kind of values (see :func:`_file_tensor`). The first
    #: is a (C, D) array whose floating-point type, one of ``_FILE_DTYPES``, all share.
    _FILE_TENSORS: dict[str, tuple[str, str, str]] = {}
    _FILE_DTYPES: tuple[torch.dtype, ...] = (_DTYPE,)

    def _validate(self, X, *, reset: bool) -> torch.Tensor:
        raise NotImplementedError

    def _init_counters(self, classes: np.ndarray, X: torch.Tensor) -> None:
        raise NotImplementedError

    def _update(self, X: torch.Tensor, labels: np.ndarray, sample_weight=None):
        raise NotImplementedError

    def _joint_log_likelihood(self, X: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def fit(self, X, y, sample_weight=None):
        """Fit the model to ``X`` and labels ``y`` (counts from scratch).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), optional
            What each sample counts for (1 each by default).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        Xt = self._validate(X, reset=True)
        labels = as_labels(y, Xt.shape[0])
        self._init_counters(np.unique(labels), Xt)
        return self._update(Xt, labels, sample_weight)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Add the counts of one more chunk of data; out-of-core learning.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,)
            Its class labels.
        classes : array-like of shape (n_classes,), default=None
            Every class that can occur. Required on the first call, optional (and
            checked) afterwards.
        sample_weight : array-like of shape (n_samples,), optional
            What each sample counts for (1 each by default).

        Returns
        -------
        self : object
            The updated estimator.
        """
        self._validate_params()
        first_call = not hasattr(self, "classes_")
        if first_call and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        Xt = self._validate(X, reset=first_call)
        labels = as_labels(y, Xt.shape[0])
        if first_call:
            all_classes = np.unique(np.atleast_1d(np.asarray(classes)))
            self._init_counters(all_classes, Xt)
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"`classes={classes!r}` is not the same as on last call to "
                             f"partial_fit, was: {self.classes_!r}")
        return self._update(Xt, labels, sample_weight)

    def _one_hot(self, labels: np.ndarray, dtype: torch.dtype = _DTYPE) -> torch.Tensor:
        if len(self.classes_) == 1:
            pos = np.zeros(len(labels), dtype=np.int64)
            known = labels == self.classes_[0]
        else:
            pos = np.clip(np.searchsorted(self.classes_, labels), 0, len(self.classes_) - 1)
            known = self.classes_[pos] == labels
        if not known.all():
            raise ValueError(f"The target label(s) {np.unique(labels[~known])!r} in y do not "
                             f"exist in the initial classes {self.classes_!r}")
        Y = torch.zeros(len(labels), len(self.classes_), dtype=dtype)
        Y[torch.arange(len(labels)), torch.from_numpy(pos)] = 1.0
        return Y

    def predict_joint_log_proba(self, X) -> np.ndarray:
        """Joint log-probability log P(x, c) = log P(c) + log P(x | c) for every class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        jll : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``; ``-inf`` where the model gives probability 0.
        """
        return to_numpy(self._jll(X))

    def _jll(self, X) -> torch.Tensor:
        check_is_fitted(self)
        return self._joint_log_likelihood(self._validate(X, reset=False))

    def predict_log_proba(self, X) -> np.ndarray:
        """Log posterior log P(c | x) = log P(x, c) - log Σ_c' P(x, c').

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Rows are normalised; a sample with probability 0 under every class gets
            the uniform posterior, log(1 / n_classes).
        """
        return to_numpy(_normalize(self._jll(X)))

    def predict_proba(self, X) -> np.ndarray:
        """Posterior P(c | x), the exponential of :meth:`predict_log_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to 1; columns follow ``classes_``.
        """
        return np.exp(self.predict_log_proba(X))

    def predict(self, X) -> np.ndarray:
        """The class maximising P(c) · Π_j P(x_j | c) (first class on ties).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted labels.
        """
        index = to_numpy(torch.argmax(self._jll(X), dim=1))
        return self.classes_[index]

    # ------------------------------------------------------------ model files

    def save(self, path) -> None:
        """Write the fitted model to one safetensors file (see :func:`deepbelief.load`).

        The fitted arrays keep their floating-point type and the class labels
        (numbers, booleans or strings) theirs; a loaded model predicts as this one
        does and can go on with ``partial_fit``.
        """
        save(self, path)

    def _file_extra(self) -> dict:
        """What a model file's metadata holds besides the hyperparameters and labels."""
        return {}

    def _restore_extra(self, extra: dict) -> None:
        """Set what :meth:`_file_extra` wrote (``ValueError`` if it is invalid)."""

    def _save_state(self) -> tuple[dict[str, torch.Tensor], dict]:
        check_is_fitted(self)
        tensors = {key: torch.from_numpy(np.ascontiguousarray(getattr(self, attr)))
                   for key, (attr, _, _) in self._FILE_TENSORS.items()}
        return tensors, {**encode_classes(self.classes_), **self._file_extra()}

    @classmethod
    def _from_state(cls, params: dict, tensors: dict[str, torch.Tensor], extra: dict):
        params = {k: v for k, v in params.items() if k != "device"}  # computes on the CPU
        model = cls(**params)
        model._validate_params()
        model.classes_ = decode_classes(extra)
        model._restore_extra(extra)
        model._restore_tensors(tensors)
        return model

    def _restore_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        """Set the ``_FILE_TENSORS`` arrays and ``n_features_in_`` from a file's tensors."""
        first = next(iter(self._FILE_TENSORS))
        ref = tensors.get(first)
        if ref is None or ref.ndim != 2 or ref.shape[1] == 0:
            raise ValueError(f"model file lacks a 2-D tensor {first!r}")
        if ref.dtype not in self._FILE_DTYPES:
            raise ValueError(f"tensor {first!r} has dtype {ref.dtype}, expected one of "
                             f"{', '.join(map(str, self._FILE_DTYPES))}")
        self._set_file_tensors(tensors, {"C": len(self.classes_), "D": ref.shape[1]}, ref.dtype)
        self.n_features_in_ = ref.shape[1]

    def _set_file_tensors(self, tensors: dict[str, torch.Tensor], dims: dict[str, int],
                          dtype: torch.dtype) -> None:
        for key, (attr, shape, kind) in self._FILE_TENSORS.items():
            t = _file_tensor(tensors, key, tuple(dims[d] for d in shape), kind)
            setattr(self, attr, to_numpy(t.to(dtype)))


class _BaseDiscreteNB(_BaseNB):
    """Counting shared by the discrete models."""

    _parameter_constraints: dict = {
        "alpha": [_Number(Real, 0, None, closed="left"), "array-like"],
        "force_alpha": ["boolean"],
        "fit_prior": ["boolean"],
        "class_prior": ["array-like", None],
    }

    _FILE_TENSORS = {"feature_count": ("feature_count_", "CD", "count"),
                     "class_count": ("class_count_", "C", "count"),
                     "class_log_prior": ("class_log_prior_", "C", "log"),
                     "feature_log_prob": ("feature_log_prob_", "CD", "log")}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True  # as scikit-learn's own discrete models
        tags.input_tags.sparse = True  # counts and likelihoods by sparse products
        return tags

    def _update_feature_log_prob(self, alpha: float | torch.Tensor) -> None:
        raise NotImplementedError

    def _has_zero_probability(self, alpha: float | torch.Tensor) -> bool:
        return bool(np.isneginf(self.feature_log_prob_).any())

    def _check_alpha(self) -> float | torch.Tensor:
        """α as a number or, for an array, one value per feature; α ≥ 0.

        With ``force_alpha=False`` a value below 1e-10 is raised to 1e-10 (with a
        warning), as scikit-learn does; by default α is used as given, 0 included.
        A number has been checked by ``_parameter_constraints``; an array's values
        are checked here.
        """
        alpha = np.asarray(self.alpha, dtype=np.float64)
        if alpha.ndim and alpha.shape != (self.n_features_in_,):
            raise ValueError(f"When alpha is an array, it should contains `n_features` "
                             f"= {self.n_features_in_} values; got shape {alpha.shape}")
        if not np.all(np.isfinite(alpha)) or np.any(alpha < 0):
            raise ValueError("All values in alpha must be greater than 0 or equal to 0.")
        alpha = float(alpha) if alpha.ndim == 0 else alpha
        if not self.force_alpha and np.min(alpha) < _ALPHA_MIN:
            warnings.warn(f"alpha too small will result in numeric errors, setting alpha = "
                          f"{_ALPHA_MIN:.1e}. Use `force_alpha=True` to keep alpha unchanged.",
                          UserWarning, stacklevel=4)
            alpha = np.maximum(alpha, _ALPHA_MIN)
        return alpha if np.ndim(alpha) == 0 else torch.from_numpy(np.asarray(alpha))

    def _class_log_prior(self, class_count: torch.Tensor) -> torch.Tensor:
        """log P(c): ``class_prior``, else the class frequencies (``fit_prior``), else uniform."""
        n_classes = len(class_count)
        if self.class_prior is not None:
            prior = np.asarray(self.class_prior, dtype=np.float64)
            if prior.shape != (n_classes,):
                raise ValueError("Number of priors must match number of classes.")
            if np.any(prior < 0) or not np.isclose(prior.sum(), 1.0):
                raise ValueError("class_prior must be non-negative and sum to 1")
            return torch.log(torch.from_numpy(prior))
        if self.fit_prior:
            return _log_ratio(class_count, class_count.sum(), 1.0 / n_classes)
        return torch.full((n_classes,), -math.log(n_classes), dtype=_DTYPE)

    def _init_counters(self, classes: np.ndarray, X: torch.Tensor) -> None:
        self.classes_ = classes
        n_features = X.shape[1]
        self.class_count_ = np.zeros(len(classes))
        self.feature_count_ = np.zeros((len(classes), n_features))

    def _count(self, X: torch.Tensor, Y: torch.Tensor) -> None:
        """Add a chunk's feature counts: N_cj += Σ_i Y_ic X_ij (Y: weighted one-hot labels)."""
        self.feature_count_ = to_numpy(torch.from_numpy(self.feature_count_) + t_mm(Y, X))

    def _update(self, X: torch.Tensor, labels: np.ndarray, sample_weight=None):
        alpha = self._check_alpha()
        Y = self._one_hot(labels)
        if sample_weight is not None:
            Y = Y * _sample_weight(sample_weight, len(labels))[:, None]
        self._count(X, Y)
        class_count = torch.from_numpy(self.class_count_) + Y.sum(dim=0)
        self.class_count_ = to_numpy(class_count)
        self.class_log_prior_ = to_numpy(self._class_log_prior(class_count))
        self._update_feature_log_prob(alpha)
        if self._has_zero_probability(alpha):
            warnings.warn(
                "alpha=0 and some feature never occurs in a class (or always does): its "
                "log-probability is -inf; use alpha > 0 (Laplace smoothing) to avoid "
                "zero probabilities",
                RuntimeWarning,
                stacklevel=3,
            )
        return self


@register
class MultinomialNB(_BaseDiscreteNB):
    """Multinomial naive Bayes, for counts such as word counts (the slides' spam filter).

    With N_cj the total count of feature j in class c and N_c = Σ_j N_cj,

        P(x_j | c) = θ_cj = (N_cj + α) / (N_c + α · n_features),

    and the joint log-likelihood of a count vector x is

        log P(x, c) = log P(c) + Σ_j x_j log θ_cj,

    where P(c) = (number of samples of class c) / n_samples. The multinomial
    coefficient, the same for every class, is dropped.

    Parameters
    ----------
    alpha : float or array-like of shape (n_features,), default=1.0
        Additive (Laplace/Lidstone) smoothing, α >= 0. ``alpha=0`` is the unsmoothed
        maximum-likelihood estimate: a word never seen in a class gets probability 0.
    force_alpha : bool, default=True
        Use α as given, even 0; with False, α below 1e-10 becomes 1e-10.
    fit_prior : bool, default=True
        Learn P(c) from the class frequencies; with False, P(c) is uniform.
    class_prior : array-like of shape (n_classes,), optional
        P(c) given in advance (overrides ``fit_prior``).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, sorted.
    class_count_ : ndarray of shape (n_classes,)
        Number of training samples of each class.
    feature_count_ : ndarray of shape (n_classes, n_features)
        N_cj, the summed counts of each feature in each class.
    class_log_prior_ : ndarray of shape (n_classes,)
        log P(c).
    feature_log_prob_ : ndarray of shape (n_classes, n_features)
        log θ_cj.
    n_features_in_ : int
        Number of features seen during fit.

    Examples
    --------
    >>> import numpy as np
    >>> from deepbelief.naive_bayes import MultinomialNB
    >>> X = np.array([[2, 0, 1], [3, 1, 0], [0, 2, 2]])
    >>> MultinomialNB().fit(X, [0, 0, 1]).predict([[1, 0, 0]])
    array([0])
    """

    def __init__(self, alpha=1.0, *, force_alpha: bool = True, fit_prior: bool = True,
                 class_prior=None):
        self.alpha = alpha
        self.force_alpha = force_alpha
        self.fit_prior = fit_prior
        self.class_prior = class_prior

    def _validate(self, X, *, reset: bool) -> torch.Tensor:
        return _check_counts(self, X, reset=reset)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        return tags

    def _update_feature_log_prob(self, alpha: float | torch.Tensor) -> None:
        counts = torch.from_numpy(self.feature_count_) + alpha
        totals = counts.sum(dim=1, keepdim=True)
        self.feature_log_prob_ = to_numpy(
            _log_ratio(counts, totals, 1.0 / self.n_features_in_)
        )

    def _joint_log_likelihood(self, X: torch.Tensor) -> torch.Tensor:
        log_theta = torch.from_numpy(self.feature_log_prob_)
        return _log_dot(X, log_theta) + torch.from_numpy(self.class_log_prior_)


@register
class BernoulliNB(_BaseDiscreteNB):
    """Bernoulli naive Bayes, for binary features (a word occurs or not).

    With N_c the number of samples of class c and N_cj how many of them have
    feature j set,

        P(x_j = 1 | c) = p_cj = (N_cj + α) / (N_c + 2α),

    and the joint log-likelihood of a binary vector x is

        log P(x, c) = log P(c) + Σ_j [x_j log p_cj + (1 - x_j) log(1 - p_cj)].

    Unlike the multinomial model, an absent feature counts as evidence too.

    Parameters
    ----------
    alpha : float or array-like of shape (n_features,), default=1.0
        Additive (Laplace) smoothing, α >= 0; ``alpha=0`` is the unsmoothed estimate.
    force_alpha : bool, default=True
        Use α as given, even 0; with False, α below 1e-10 becomes 1e-10.
    fit_prior : bool, default=True
        Learn P(c) from the class frequencies; with False, P(c) is uniform.
    class_prior : array-like of shape (n_classes,), optional
        P(c) given in advance (overrides ``fit_prior``).
    binarize : float or None, default=0.0
        Threshold: x_j > binarize becomes 1, otherwise 0. ``None`` means the input is
        already binary (values must lie in [0, 1]).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, sorted.
    class_count_ : ndarray of shape (n_classes,)
        N_c, the number of training samples of each class.
    feature_count_ : ndarray of shape (n_classes, n_features)
        N_cj, how many samples of each class have each feature set.
    class_log_prior_ : ndarray of shape (n_classes,)
        log P(c).
    feature_log_prob_ : ndarray of shape (n_classes, n_features)
        log p_cj.
    n_features_in_ : int
        Number of features seen during fit.

    Examples
    --------
    >>> import numpy as np
    >>> from deepbelief.naive_bayes import BernoulliNB
    >>> X = np.array([[1, 0, 1], [1, 1, 0], [0, 1, 1]])
    >>> BernoulliNB().fit(X, [0, 0, 1]).predict([[1, 0, 0]])
    array([0])
    """

    _parameter_constraints: dict = {
        **_BaseDiscreteNB._parameter_constraints,
        "binarize": [None, _Number(Real, None, None, closed="neither")],
    }

    def __init__(self, alpha=1.0, *, force_alpha: bool = True, binarize: float | None = 0.0,
                 fit_prior: bool = True, class_prior=None):
        self.alpha = alpha
        self.force_alpha = force_alpha
        self.binarize = binarize
        self.fit_prior = fit_prior
        self.class_prior = class_prior

    def _validate(self, X, *, reset: bool) -> torch.Tensor:
        Xt = check_X(self, X, reset=reset, dtype=_DTYPE, device="cpu",
                     unit_interval=self.binarize is None, accept_sparse=True)
        if self.binarize is None:
            return Xt
        if Xt.is_sparse and self.binarize >= 0:  # zeros stay zeros: binarise the stored values
            return torch.sparse_coo_tensor(Xt.indices(), (Xt.values() > self.binarize).to(_DTYPE),
                                           Xt.shape, is_coalesced=True, check_invariants=False)
        return (dense(Xt) > self.binarize).to(_DTYPE)

    def _update_feature_log_prob(self, alpha: float | torch.Tensor) -> None:
        counts = torch.from_numpy(self.feature_count_) + alpha
        totals = torch.from_numpy(self.class_count_)[:, None] + 2.0 * alpha
        self.feature_log_prob_ = to_numpy(_log_ratio(counts, totals, 0.5))

    def _has_zero_probability(self, alpha: float | torch.Tensor) -> bool:
        flp = self.feature_log_prob_
        return bool(np.isneginf(flp).any() or (flp == 0).any())

    def _joint_log_likelihood(self, X: torch.Tensor) -> torch.Tensor:
        log_p = torch.from_numpy(self.feature_log_prob_)
        log_not_p = torch.log1p(-torch.exp(log_p))
        prior = torch.from_numpy(self.class_log_prior_)
        if X.is_sparse and bool(torch.isfinite(log_not_p).all()):
            # Σ_j (1 - x_j) log(1 - p_cj) = Σ_j log(1 - p_cj) - Σ_j x_j log(1 - p_cj)
            return _log_dot(X, log_p) - X @ log_not_p.T + log_not_p.sum(1) + prior
        X = dense(X)
        return _log_dot(X, log_p) + _log_dot(1.0 - X, log_not_p) + prior


def _complement_weights(log_theta: torch.Tensor) -> torch.Tensor:
    """ComplementNB's normalised weights, log θ̃_cj / Σ_k log θ̃_ck.

    Where some θ̃_cj = 0 (α = 0) the α -> 0 limit: 1/m on the m features at ``-inf``,
    0 on the others; a row of log θ̃ = 0 (a single feature) gets 1 / n_features.
    """
    dead = torch.isneginf(log_theta)
    total = log_theta.sum(dim=1, keepdim=True)
    out = torch.where(total == 0, 1.0 / log_theta.shape[1], log_theta / total)
    limit = dead / dead.sum(dim=1, keepdim=True)
    return torch.where(dead.any(dim=1, keepdim=True), limit, out)


@register
class ComplementNB(_BaseDiscreteNB):
    """Complement naive Bayes (Rennie et al., 2003), for counts with unbalanced classes.

    Each class is scored by how badly the counts of the *other* classes explain x.
    With N_cj the total count of feature j in class c, Ñ_cj = Σ_{c' ≠ c} N_c'j its
    count outside c (``feature_all_ - feature_count_``) and

        θ̃_cj = (Ñ_cj + α) / Σ_k (Ñ_ck + α),

    the weights are w_cj = -log θ̃_cj, or with ``norm=True`` the normalised
    w_cj = log θ̃_cj / Σ_k log θ̃_ck, and the score of a count vector x is

        jll_c = Σ_j x_j w_cj   (+ log P(c) when there is a single class),

    as in scikit-learn. The scores are not joint log-probabilities; the posteriors
    are their softmax. P(c) only matters in the single-class case.

    Parameters
    ----------
    alpha : float or array-like of shape (n_features,), default=1.0
        Additive (Laplace/Lidstone) smoothing of the complement counts, α >= 0.
    force_alpha : bool, default=True
        Use α as given, even 0; with False, α below 1e-10 becomes 1e-10.
    fit_prior : bool, default=True
        Learn P(c) from the class frequencies; with False, P(c) is uniform.
    class_prior : array-like of shape (n_classes,), optional
        P(c) given in advance (overrides ``fit_prior``).
    norm : bool, default=False
        Normalise each class's weights to sum to 1 (Rennie et al.'s second
        normalisation; the default, as Mahout and Weka, does not).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, sorted.
    class_count_ : ndarray of shape (n_classes,)
        Number of training samples of each class.
    feature_count_ : ndarray of shape (n_classes, n_features)
        N_cj, the summed counts of each feature in each class.
    feature_all_ : ndarray of shape (n_features,)
        Σ_c N_cj, the summed counts of each feature.
    class_log_prior_ : ndarray of shape (n_classes,)
        log P(c).
    feature_log_prob_ : ndarray of shape (n_classes, n_features)
        w_cj, the complement weights.
    n_features_in_ : int
        Number of features seen during fit.

    Examples
    --------
    >>> import numpy as np
    >>> from deepbelief.naive_bayes import ComplementNB
    >>> X = np.array([[2, 0, 1], [3, 1, 0], [0, 2, 2]])
    >>> ComplementNB().fit(X, [0, 0, 1]).predict([[1, 0, 0]])
    array([0])
    """

    _parameter_constraints: dict = {
        **_BaseDiscreteNB._parameter_constraints,
        "norm": ["boolean"],
    }

    _FILE_TENSORS = {**_BaseDiscreteNB._FILE_TENSORS,
                     "feature_log_prob": ("feature_log_prob_", "CD", "weight"),
                     "feature_all": ("feature_all_", "D", "count")}

    def __init__(self, alpha=1.0, *, force_alpha: bool = True, fit_prior: bool = True,
                 class_prior=None, norm: bool = False):
        self.alpha = alpha
        self.force_alpha = force_alpha
        self.fit_prior = fit_prior
        self.class_prior = class_prior
        self.norm = norm

    def _validate(self, X, *, reset: bool) -> torch.Tensor:
        return _check_counts(self, X, reset=reset)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        return tags

    def _count(self, X: torch.Tensor, Y: torch.Tensor) -> None:
        super()._count(X, Y)
        self.feature_all_ = to_numpy(torch.from_numpy(self.feature_count_).sum(dim=0))

    def _complement_count(self, alpha: float | torch.Tensor) -> torch.Tensor:
        """Ñ_cj + α."""
        return (torch.from_numpy(self.feature_all_) + alpha) - torch.from_numpy(self.feature_count_)

    def _update_feature_log_prob(self, alpha: float | torch.Tensor) -> None:
        comp = self._complement_count(alpha)
        log_theta = _log_ratio(comp, comp.sum(dim=1, keepdim=True), 1.0 / self.n_features_in_)
        weights = _complement_weights(log_theta) if self.norm else -log_theta
        self.feature_log_prob_ = to_numpy(weights)

    def _has_zero_probability(self, alpha: float | torch.Tensor) -> bool:
        return bool((self._complement_count(alpha) == 0).any())

    def _joint_log_likelihood(self, X: torch.Tensor) -> torch.Tensor:
        # Σ_j x_j w_cj with 0 · inf = 0: the weights are -log θ̃ (or finite)
        jll = -_log_dot(X, -torch.from_numpy(self.feature_log_prob_))
        if len(self.classes_) == 1:
            jll = jll + torch.from_numpy(self.class_log_prior_)
        return jll


#: Category codes must be below this to be held as int64.
_MAX_CODE = 2.0**63


def _one_hot_codes(X: torch.Tensor, n_categories: torch.Tensor) -> torch.Tensor:
    """The sparse (n_samples, Σ_j K_j) indicator of x_ij = k, at column Σ_{j' < j} K_j' + k.

    Every code must be below its feature's K_j (so the indices come out sorted and
    distinct: a coalesced tensor).
    """
    n_samples, n_features = X.shape
    offsets = torch.cumsum(n_categories, dim=0) - n_categories
    rows = torch.arange(n_samples).repeat_interleave(n_features)
    index = torch.stack([rows, (X + offsets).reshape(-1)])
    return torch.sparse_coo_tensor(index, torch.ones(index.shape[1], dtype=_DTYPE),
                                   (n_samples, int(n_categories.sum())), is_coalesced=True,
                                   check_invariants=False)


@register
class CategoricalNB(_BaseDiscreteNB):
    """Categorical naive Bayes, for features that each take one of a few values.

    Feature j takes the categories 0, 1, …, K_j - 1 (integer codes, e.g. from
    ``OrdinalEncoder``). With N_c the number of training samples of class c and
    N_cjk how many of them have x_j = k,

        P(x_j = k | c) = θ_cjk = (N_cjk + α) / (N_c + α · K_j),

    and the joint log-likelihood of a sample x is

        log P(x, c) = log P(c) + Σ_j log θ_cj,x_j.

    K_j (``n_categories_``) is the largest code of feature j seen in training plus
    one, or ``min_categories`` if that is larger; ``partial_fit`` widens it as larger
    codes arrive (scikit-learn's ``n_categories_`` follows the latest chunk alone,
    although its counts keep every category). A code of K_j or more at prediction
    time is an ``IndexError``, as in scikit-learn. Codes are cast to integers as
    scikit-learn casts them (toward zero, so 1.7 is category 1); negative codes,
    NaN and infinity are a ``ValueError``.

    Parameters
    ----------
    alpha : float, default=1.0
        Additive (Laplace/Lidstone) smoothing, α >= 0; ``alpha=0`` is the unsmoothed
        estimate.
    force_alpha : bool, default=True
        Use α as given, even 0; with False, α below 1e-10 becomes 1e-10.
    fit_prior : bool, default=True
        Learn P(c) from the class frequencies; with False, P(c) is uniform.
    class_prior : array-like of shape (n_classes,), optional
        P(c) given in advance (overrides ``fit_prior``).
    min_categories : int or array-like of shape (n_features,), optional
        Least K_j, for every feature (an int) or for each; None: the codes seen.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, sorted.
    class_count_ : ndarray of shape (n_classes,)
        N_c, the number of training samples of each class.
    category_count_ : list of n_features ndarrays of shape (n_classes, n_categories_[j])
        N_cjk, how many samples of each class have each category of feature j.
    class_log_prior_ : ndarray of shape (n_classes,)
        log P(c).
    feature_log_prob_ : list of n_features ndarrays of shape (n_classes, n_categories_[j])
        log θ_cjk.
    n_categories_ : ndarray of shape (n_features,), dtype int64
        K_j, the number of categories of each feature.
    n_features_in_ : int
        Number of features seen during fit.

    Examples
    --------
    >>> import numpy as np
    >>> from deepbelief.naive_bayes import CategoricalNB
    >>> X = np.array([[0, 2], [0, 1], [1, 0], [2, 0]])
    >>> CategoricalNB().fit(X, [0, 0, 1, 1]).predict([[0, 2]])
    array([0])
    """

    _parameter_constraints: dict = {
        **_BaseDiscreteNB._parameter_constraints,
        "alpha": [_Number(Real, 0, None, closed="left")],
        "min_categories": [None, "array-like", _Number(Integral, 1, None, closed="left")],
    }

    _FILE_TENSORS = {"class_count": ("class_count_", "C", "count"),
                     "class_log_prior": ("class_log_prior_", "C", "log")}
    #: The per-feature arrays a model file holds, as tensors ``<name>.<j>``.
    _FILE_LISTS = {"category_count": ("category_count_", "count"),
                   "feature_log_prob": ("feature_log_prob_", "log")}

    def __init__(self, alpha=1.0, *, force_alpha: bool = True, fit_prior: bool = True,
                 class_prior=None, min_categories=None):
        self.alpha = alpha
        self.force_alpha = force_alpha
        self.fit_prior = fit_prior
        self.class_prior = class_prior
        self.min_categories = min_categories

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.sparse = False
        tags.input_tags.positive_only = True
        return tags

    def _validate(self, X, *, reset: bool) -> torch.Tensor:
        """``X`` as int64 category codes (dense)."""
        Xt = check_X(self, X, reset=reset, dtype=_DTYPE, device="cpu", unit_interval=False)
        if bool((Xt >= _MAX_CODE).any()):
            raise ValueError("Values in data passed to CategoricalNB (input X) are too large "
                             "for category codes (int64)")
        codes = Xt.to(torch.int64)  # toward zero, as scikit-learn's cast to int
        if bool((codes < 0).any()):
            raise ValueError("Negative values in data passed to CategoricalNB (input X): "
                             "category codes are 0, 1, 2, ...")
        return codes

    def _init_counters(self, classes: np.ndarray, X: torch.Tensor) -> None:
        self.classes_ = classes
        n_features = X.shape[1]
        self.class_count_ = np.zeros(len(classes))
        self.category_count_ = [np.zeros((len(classes), 0)) for _ in range(n_features)]
        self.n_categories_ = np.zeros(n_features, dtype=np.int64)

    def _check_min_categories(self) -> np.ndarray:
        """``min_categories`` as int64, one number or one per feature."""
        least = np.asarray(self.min_categories)
        if not np.issubdtype(least.dtype, np.signedinteger):
            raise ValueError(f"'min_categories' should have integral type. Got {least.dtype} "
                             f"instead.")
        if least.shape not in ((), (1,), (self.n_features_in_,)):  # what broadcasts, as theirs
            raise ValueError(f"'min_categories' should have shape ({self.n_features_in_},) "
                             f"when an array-like is provided. Got {least.shape} instead.")
        return least.astype(np.int64)

    def _count(self, X: torch.Tensor, Y: torch.Tensor) -> None:
        """Add the chunk's N_cjk, after widening each feature's counts to its new K_j."""
        n_categories = torch.maximum(X.amax(dim=0) + 1, torch.from_numpy(self.n_categories_))
        if self.min_categories is not None:
            n_categories = torch.maximum(n_categories,
                                         torch.from_numpy(self._check_min_categories()))
        sizes = n_categories.tolist()
        counts = torch.cat([F.pad(torch.from_numpy(count), (0, k - count.shape[1]))
                            for count, k in zip(self.category_count_, sizes, strict=True)],
                           dim=1)
        counts = counts + t_mm(Y, _one_hot_codes(X, n_categories))
        self.n_categories_ = to_numpy(n_categories)
        self.category_count_ = [to_numpy(c.contiguous()) for c in counts.split(sizes, dim=1)]

    def _update_feature_log_prob(self, alpha: float | torch.Tensor) -> None:
        self.feature_log_prob_ = [_categorical_log_prob(count, alpha)
                                  for count in self.category_count_]

    def _has_zero_probability(self, alpha: float | torch.Tensor) -> bool:
        return any(bool(np.isneginf(log_p).any()) for log_p in self.feature_log_prob_)

    def _joint_log_likelihood(self, X: torch.Tensor) -> torch.Tensor:
        n_categories = torch.from_numpy(self.n_categories_)
        beyond = X >= n_categories
        if bool(beyond.any()):
            i, j = beyond.nonzero()[0].tolist()
            raise IndexError(f"category {int(X[i, j])} of feature {j} is out of bounds: "
                             f"CategoricalNB was fitted with n_categories_[{j}] = "
                             f"{int(n_categories[j])} (min_categories can reserve more)")
        log_theta = torch.cat([torch.from_numpy(p) for p in self.feature_log_prob_], dim=1)
        prior = torch.from_numpy(self.class_log_prior_)
        return _log_dot(_one_hot_codes(X, n_categories), log_theta) + prior

    # ------------------------------------------------------------ model files

    def _save_state(self) -> tuple[dict[str, torch.Tensor], dict]:
        tensors, extra = super()._save_state()
        for name, (attr, _) in self._FILE_LISTS.items():
            for j, array in enumerate(getattr(self, attr)):
                tensors[f"{name}.{j}"] = torch.from_numpy(np.ascontiguousarray(array))
        return tensors, extra

    def _file_extra(self) -> dict:
        return {"n_categories": self.n_categories_.tolist()}

    def _restore_extra(self, extra: dict) -> None:
        sizes = extra.get("n_categories")
        if not isinstance(sizes, list) or not sizes or not all(
                isinstance(k, int) and not isinstance(k, bool) and 1 <= k < _MAX_CODE
                for k in sizes):
            raise ValueError(f"model file has an invalid n_categories {sizes!r}")
        self.n_categories_ = np.asarray(sizes, dtype=np.int64)
        self.n_features_in_ = len(sizes)

    def _restore_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        n_classes = len(self.classes_)
        self._set_file_tensors(tensors, {"C": n_classes}, _DTYPE)
        for name, (attr, kind) in self._FILE_LISTS.items():
            setattr(self, attr, [
                to_numpy(_file_tensor(tensors, f"{name}.{j}", (n_classes, k), kind).to(_DTYPE))
                for j, k in enumerate(self.n_categories_.tolist())])


def _categorical_log_prob(count: np.ndarray, alpha: float) -> np.ndarray:
    """log θ_cjk = log(N_cjk + α) - log Σ_k (N_cjk + α) for one feature's counts."""
    smoothed = torch.from_numpy(count) + alpha
    uniform = 1.0 / count.shape[1]
    return to_numpy(_log_ratio(smoothed, smoothed.sum(dim=1, keepdim=True), uniform))


@register
class GaussianNB(_BaseNB):
    """Gaussian naive Bayes, for real-valued features.

    Each feature is normal within each class, x_j | c ~ N(μ_cj, σ²_cj), so

        log P(x, c) = log P(c) - ½ Σ_j [log(2π σ²_cj) + (x_j - μ_cj)² / σ²_cj],

    with μ_cj and σ²_cj the (weighted) mean and variance of feature j over the
    class's samples, and ε = ``var_smoothing`` · max_j Var(x_j) added to every
    variance so that none is zero. ``partial_fit`` merges chunks exactly (Chan,
    Golub & LeVeque's pairwise update of means and variances).

    The fitted attributes and outputs have the training data's floating-point type
    (see ``dtype``), as in scikit-learn. The passes over the data (class means and
    centred variances, joint log-likelihoods) run in that type; merging a chunk's
    statistics into the running ones, which subtracts and rescales sums, is done in
    float64 and stored in the data's type.

    Parameters
    ----------
    priors : array-like of shape (n_classes,), optional
        P(c) given in advance; by default the class frequencies.
    var_smoothing : float, default=1e-9
        Share of the largest feature variance added to every variance.
    dtype : {"float32", "float64"} or None, default=None
        Floating-point type of the fitted attributes and the outputs. None follows
        the training data, as scikit-learn does: float32 data gives float32,
        float64 (and integer or boolean) data float64. ``partial_fit`` keeps the
        type of its first call; later inputs are converted to the fitted type.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    class_count_ : ndarray of shape (n_classes,)
        (Weighted) number of training samples of each class.
    class_prior_ : ndarray of shape (n_classes,)
        P(c).
    theta_ : ndarray of shape (n_classes, n_features)
        μ_cj.
    var_ : ndarray of shape (n_classes, n_features)
        σ²_cj, ε included.
    epsilon_ : float
        ε.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from deepbelief.naive_bayes import GaussianNB
    >>> X = np.array([[-1.0, -1.0], [-2.0, -1.0], [1.0, 1.0], [2.0, 1.0]])
    >>> GaussianNB().fit(X, [1, 1, 2, 2]).predict([[-0.8, -1.0]])
    array([1])
    """

    _parameter_constraints: dict = {
        "priors": ["array-like", None],
        "var_smoothing": [_Number(Real, 0, None, closed="left")],
        "dtype": [StrOptions(set(DTYPES)), None],
    }

    _FILE_TENSORS = {"theta": ("theta_", "CD", "real"), "var": ("var_", "CD", "count"),
                     "class_count": ("class_count_", "C", "count"),
                     "class_prior": ("class_prior_", "C", "count")}
    _FILE_DTYPES = (torch.float32, torch.float64)

    def __init__(self, *, priors=None, var_smoothing: float = 1e-9, dtype: str | None = None):
        self.priors = priors
        self.var_smoothing = var_smoothing
        self.dtype = dtype

    def _validate(self, X, *, reset: bool) -> torch.Tensor:
        """``X`` in the type ``dtype`` names or the data's (``reset``), else the fitted type."""
        if reset:
            dtype = resolve_dtype(self.dtype)
        else:
            check_is_fitted(self)
            dtype = data_dtype(self.theta_.dtype)
        return check_X(self, X, reset=reset, dtype=dtype, device="cpu", unit_interval=False)

    def _init_counters(self, classes: np.ndarray, X: torch.Tensor) -> None:
        self.classes_ = classes
        n_classes, n_features = len(classes), X.shape[1]
        dtype = _numpy_dtype(X.dtype)
        self.epsilon_ = float(self.var_smoothing * X.var(0, correction=0).max())
        self.theta_ = np.zeros((n_classes, n_features), dtype=dtype)
        self.var_ = np.zeros((n_classes, n_features), dtype=dtype)
        self.class_count_ = np.zeros(n_classes, dtype=dtype)
        self.class_prior_ = np.zeros(n_classes, dtype=dtype)
        if self.priors is not None:
            priors = np.asarray(self.priors, dtype=np.float64)
            if priors.shape != (n_classes,):
                raise ValueError("Number of priors must match number of classes.")
            if not np.isclose(priors.sum(), 1.0):
                raise ValueError("The sum of the priors should be 1.")
            if np.any(priors < 0):
                raise ValueError("Priors must be non-negative.")
            self.class_prior_ = priors.astype(dtype)

    def _update(self, X: torch.Tensor, labels: np.ndarray, sample_weight=None):
        dtype = X.dtype
        Y = self._one_hot(labels, dtype)
        if sample_weight is not None:
            Y = Y * _sample_weight(sample_weight, len(labels)).to(dtype)[:, None]
        # This chunk's class means and centred variances, in the data's type.
        n_new = Y.sum(0)                                          # (n_classes,)
        seen = n_new > 0
        tiny = torch.finfo(dtype).tiny
        mean_new = (Y.T @ X) / n_new.clamp_min(tiny)[:, None]
        index = torch.from_numpy(np.searchsorted(self.classes_, labels)).clamp_max(
            len(self.classes_) - 1)
        var_new = (Y.T @ (X - mean_new[index]) ** 2) / n_new.clamp_min(tiny)[:, None]
        # Merged with the running statistics (n_classes × n_features) in float64.
        n_new, mean_new, var_new = (t.to(torch.float64) for t in (n_new, mean_new, var_new))
        n_old = torch.from_numpy(self.class_count_).to(torch.float64)
        mean_old = torch.from_numpy(self.theta_).to(torch.float64)
        var_old = (torch.from_numpy(self.var_).to(torch.float64)
                   - (self.epsilon_ if n_old.sum() > 0 else 0.0))
        n_total = n_old + n_new
        share_new = (n_new / n_total.clamp_min(1e-300))[:, None]
        mean = torch.where(seen[:, None], mean_old + share_new * (mean_new - mean_old), mean_old)
        ssd = (n_old[:, None] * var_old + n_new[:, None] * var_new
               + (n_old * n_new / n_total.clamp_min(1e-300))[:, None] * (mean_old - mean_new) ** 2)
        var = torch.where(seen[:, None], ssd / n_total.clamp_min(1e-300)[:, None], var_old)
        self.theta_ = to_numpy(mean.to(dtype))
        self.var_ = to_numpy((var + self.epsilon_).to(dtype))
        self.class_count_ = to_numpy(n_total.to(dtype))
        if self.priors is None:
            self.class_prior_ = to_numpy((n_total / n_total.sum()).to(dtype))
        return self

    def _joint_log_likelihood(self, X: torch.Tensor) -> torch.Tensor:
        mean, var = torch.from_numpy(self.theta_), torch.from_numpy(self.var_)
        log_norm = -0.5 * torch.log(2.0 * math.pi * var).sum(1)
        rows = max(1, (1 << 22) // mean.numel())  # bounds the (rows, n_classes, n_features) block
        sq = torch.cat([((chunk[:, None, :] - mean) ** 2 / var).sum(2)
                        for chunk in X.split(rows)])
        return torch.log(torch.from_numpy(self.class_prior_)) + log_norm - 0.5 * sq

    def _file_extra(self) -> dict:
        return {"epsilon": float(self.epsilon_)}

    def _restore_extra(self, extra: dict) -> None:
        epsilon = extra.get("epsilon", 0.0)
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) \
                or not 0.0 <= epsilon < math.inf:
            raise ValueError(f"model file has an invalid epsilon {epsilon!r}")
        self.epsilon_ = float(epsilon)


def _numpy_dtype(dtype: torch.dtype) -> type:
    return np.float32 if dtype == torch.float32 else np.float64
