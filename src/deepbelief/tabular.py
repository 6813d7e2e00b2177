"""The tabular RBM: one RBM over a table of binary, categorical and real-valued columns.

The visible layer holds the columns side by side (a :class:`~deepbelief.units.Layout`):
a Bernoulli unit per binary column, a softmax group per categorical column (one
unit per category, exactly one on: Potts units) and Gaussian units with learned
variances for the real columns, on standardised values
(:class:`~deepbelief.transforms.ColumnEncoder` maps the table to the units). With
v_B the binary units, v_k the one-hot group of categorical column k and z the
standardised real columns,

    E(v, h) = -b_Bᵀv_B - Σ_k b_kᵀv_k + Σ_j (z_j - b_j)² / 2σ_j² - cᵀh
              - hᵀ(W_B v_B + Σ_k W_k v_k + W_R (z / σ²))
    p(v_B = 1 | h) = σ(b_B + W_Bᵀh),  p(v_k | h) = softmax(b_k + W_kᵀh),
    p(z_j | h) = N(b_j + W_jᵀh, σ_j²),  p(h_i = 1 | v) = σ(c_i + W_i s(v))

with s(v) the units' values, z / σ² for the real ones. The same RBM core,
trainer, samplers and AIS run it as every other RBM of the library.
"""

from __future__ import annotations

import math
from functools import partial
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._validation import CHUNK, as_tensor2d, minibatch_check, to_numpy
from .base import BaseRBM, _is_frame, as_vector
from .gaussian import GAUSSIAN_CONSTRAINTS, GaussianVisibleMixin
from .io import check_tensor, register
from .transforms import ColumnEncoder, Identity, observed_moments
from .units import Bernoulli, Gaussian, Layout, Softmax


@register
class TabularRBM(GaussianVisibleMixin, BaseRBM):
    """Restricted Boltzmann machine over a table of binary, categorical and real columns.

    Binary columns are Bernoulli units, p(x = 1 | h) = σ(b + Wᵀh); each categorical
    column is one softmax group, p(x = k | h) = softmax(b + Wᵀh)_k over its
    categories; real columns are Gaussian units on standardised values
    z = (x - ``mean``) / ``scale``, p(z_j | h) = N(b_j + W_jᵀh, σ_j²) with σ² learned
    (as in :class:`~deepbelief.GaussianBernoulliRBM`). The hidden units are binary,
    p(h_i = 1 | v) = σ(c_i + Σ_j W_ij s_j(v)) with s(v) = v for the binary and
    categorical units and z / σ² for the real ones. The free energy is

        F(v) = -b_Bᵀv_B - Σ_k b_kᵀv_k + Σ_j (z_j - b_j)² / 2σ_j²
               - Σ_i softplus(c_i + Σ_j W_ij s_j(v)),

    trained by CD-k (or persistent CD) with momentum SGD.

    Missing entries (NaN, None) may appear in the training data: in the positive
    phase each row's missing units are filled in from the model given its observed
    ones, by ``impute_steps`` mean-field sweeps with the observed units clamped (the
    sweeps of :meth:`impute`); :meth:`transform` fills them in the same way.
    :meth:`impute` fills the missing entries of a table in. The column statistics
    (categories, means, scales) are those of the observed entries.

    Parameters
    ----------
    n_components : int, default=64
        Number of binary hidden units.
    column_types : "auto", list or dict, default="auto"
        Each column's kind, "binary", "categorical" or "real": a list in the columns'
        order, or a dict from column names (a DataFrame's) or positions to kinds,
        the other columns read as by "auto". "auto" reads a DataFrame's dtypes:
        bool, or numbers whose observed values are exactly {0, 1}, is binary;
        category, object or string is categorical; other numbers are real. Of a
        NumPy array, "auto" reads 0/1 columns as binary and the others as real
        (categorical columns must be declared).
    k : int, default=1
        Gibbs steps per update (CD-k).
    sampler : {"cd", "pcd"} or Sampler, default="cd"
        The negative phase (:mod:`deepbelief.samplers`); the visible states of
        the chain are always sampled.
    learning_rate : float, default=0.1
        Step size on the batch-averaged statistics; the columns of W and b of the
        real units take it divided by 1 + mean ‖p(h|v)‖²
        (:meth:`~deepbelief.units.Layout.step_rate`).
    learn_variance : bool, default=True
        Learn log σ² per real column; otherwise σ = 1 (on the standardised values).
    min_variance : float, default=0.01
        Floor of σ² (in standardised units).
    impute_steps : int, default=10
        Mean-field sweeps that fill in the missing units of a training row (and of
        :meth:`transform`'s rows).
    momentum, initial_momentum, momentum_epochs, weight_decay, learning_rate_decay,
    batch_size, n_iter, device, dtype, checkpoint_dir, checkpoint_every,
    random_state, verbose
        As in :class:`~deepbelief.BernoulliRBM`.

    Attributes
    ----------
    model_ : deepbelief.model.RBM
        The RBM core; ``model_.visible`` is the :class:`~deepbelief.units.Layout`
        of the units: binary, then one softmax group per categorical column, then
        the real columns.
    input_transform_ : deepbelief.transforms.ColumnEncoder
        The map from the table to the units' values.
    column_kinds_ : list of str
        Each column's kind.
    categories_ : list of ndarray
        The categories of each categorical column, in the columns' order (as
        scikit-learn's ``OneHotEncoder`` has them).
    variance_ : ndarray of shape (n_real_columns,)
        σ² of the real columns (in standardised units).
    feature_names_in_ : ndarray of str
        The columns' names, when fitted on a DataFrame with string column names.
    components_, intercept_hidden_, intercept_visible_, history_, n_features_in_,
    n_epochs_
        As in :class:`~deepbelief.BernoulliRBM` (over the units, for the first
        three); ``history_`` records the reconstruction error of the observed units.

    Notes
    -----
    :meth:`score_samples` is log p(x), a probability of the binary and categorical
    entries times a density of the real ones (of the inputs as given: the
    standardisation's log-determinant is added). :meth:`sample` and :meth:`impute`
    give tables back (a DataFrame when fitted on, or given, one), categories as
    their values and binary columns as 0/1. A category not seen in training is a
    ``ValueError``, and so is a binary column's value outside [0, 1] in training
    data; a fitted model takes such values as a Bernoulli unit's inputs
    (:class:`~deepbelief.BernoulliRBM`'s Notes), so a count column read as binary
    from its 0/1 training values still transforms a 2. The methods of the slides'
    formulas (``energy``, ``p_v_given_h``, ``gibbs``...) take and give the
    columns' codes: 0/1, the category's position in ``categories_``, the real
    value.
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseRBM._parameter_constraints,
        **GAUSSIAN_CONSTRAINTS,
        "column_types": [StrOptions({"auto"}), list, dict],
        "impute_steps": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, n_components: int = 64, *, column_types: Any = "auto", k: int = 1,
                 sampler: Any = "cd", learning_rate: float = 0.1, momentum: float = 0.9,
                 initial_momentum: float = 0.5, momentum_epochs: int = 5,
                 weight_decay: float = 1e-4, learning_rate_decay: float = 0.0,
                 batch_size: int = 100, n_iter: int | str = "auto",
                 learn_variance: bool = True, min_variance: float = 0.01,
                 impute_steps: int = 10, device: Any = "cpu", dtype: str | None = None,
                 checkpoint_dir: str | None = None, checkpoint_every: int = 1,
                 random_state: Any = None, verbose: bool = False) -> None:
        self.n_components = n_components
        self.column_types = column_types
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
        self.impute_steps = impute_steps
        self.device = device
        self.dtype = dtype
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------- training
    def fit(self, X, y=None, **kwargs):
        """Learn the columns' kinds and categories, then train as
        :meth:`BaseRBM.fit <deepbelief.base.BaseRBM.fit>` does.

        ``X`` is an array-like or a pandas DataFrame (not a stream of minibatches);
        it may have missing entries (see the class docstring). ``validation_data``
        must have none.
        """
        self._check_params()
        self._encoder = getattr(self, "_units_of", None) or self._table_encoder(X)
        return super().fit(X, y, **kwargs)

    @classmethod
    def on_units(cls, encoder: ColumnEncoder, n_components: int, **params) -> TabularRBM:
        """An unfitted model of the tables that ``encoder`` (fitted) reads, whose ``fit``
        takes their units' values (``encoder.forward`` of the codes, or a source of
        them) as they are: the first layer of a deep net that encodes its table itself.
        """
        model = cls(n_components, column_types=list(encoder.kinds), **params)
        model._units_of = encoder
        return model

    def partial_fit(self, X, y=None):
        """One epoch over ``X``; the first call learns the columns as :meth:`fit` does."""
        if not hasattr(self, "model_"):
            self._check_params()
            self._encoder = self._table_encoder(X)
        return super().partial_fit(X, y)

    def _table_encoder(self, X) -> ColumnEncoder:
        """The columns' kinds (``column_types``) and the categorical columns' categories."""
        table = self._table(X, reset=True)
        names = getattr(self, "feature_names_in_", None)
        return ColumnEncoder.from_table(table, self.column_types,
                                        None if names is None else names.tolist(),
                                        list(X.dtypes) if _is_frame(X) else None)

    def _table(self, X, reset: bool) -> np.ndarray:
        """``X`` checked as a 2-D table (any dtype; NaN and None allowed), its names recorded."""
        return validate_data(self, X, reset=reset, dtype=None, ensure_all_finite=False)

    def _validate(self, X, name: str = "X", *, reset: bool = False, hidden: bool = False,
                  **options) -> torch.Tensor:
        """The table's codes (:meth:`ColumnEncoder.codes
        <deepbelief.transforms.ColumnEncoder.codes>`) checked as the base checks inputs."""
        if hidden or hasattr(self, "_units_of"):
            return super()._validate(X, name, reset=reset, hidden=hidden, **options)
        if not reset:
            check_is_fitted(self, "model_")
        table = self._table(X, reset)
        dtype = np.float32 if table.dtype == np.float32 else np.float64
        codes = self._encoder.codes(table, dtype, check_range=reset or options.get(
            "check_range", False))
        return super()._validate(codes, name, reset=reset, **options)

    def _minibatch_check(self, reset: bool):
        """Training rows are checked as the base's, missing entries allowed."""
        validate = partial(self._validate, keep_sparse=True, check_range=True, allow_nan=True)
        return minibatch_check(validate, fitted=not reset)

    def _sampler_spec(self):
        """``sampler`` as given (no earlier spelling of it to translate)."""
        return self.sampler

    def _input_transform(self) -> ColumnEncoder | Identity:
        """The table's encoder; the identity for a model :meth:`on_units`."""
        return Identity() if hasattr(self, "_units_of") else self._encoder

    def _visible_units(self, like: torch.Tensor) -> Layout:
        """Bernoulli units, one softmax group per categorical column, one Gaussian group."""
        n_binary, sizes, n_real = self._encoder.group_sizes
        groups = [Bernoulli(n_binary)] if n_binary else []
        groups += [Softmax(size) for size in sizes]
        if n_real:
            groups.append(Gaussian(like.new_zeros(n_real),
                                   learn_variance=bool(self.learn_variance),
                                   min_log_var=math.log(self.min_variance)))
        return Layout(*groups)

    def _initialize(self, X: torch.Tensor) -> None:
        """The base's initialisation from the observed entries' means; σ = 1, its ceiling
        the data's variance."""
        super()._initialize(torch.where(X.isnan(), X.nanmean(0), X))
        if not hasattr(self, "_units_of"):
            self.n_features_in_ = len(self._encoder.kinds)
        gaussian = self._gaussian()
        if gaussian is not None:
            z = X[:, X.shape[1] - gaussian.size:]
            gaussian.limit_to(observed_moments(z)[1].square())

    def _positive_data(self, v: torch.Tensor) -> torch.Tensor:
        """``v`` with its missing (NaN) units filled in: ``impute_steps`` mean-field sweeps
        of :meth:`impute`, the observed units clamped."""
        if not bool(v.isnan().any()):
            return v
        return self._fill_in(v, True, self.impute_steps, None)

    def _gaussian(self) -> Gaussian | None:
        """The Gaussian group of the real columns (None without real columns)."""
        return next((g for g in self.model_.visible.groups if isinstance(g, Gaussian)), None)

    # ------------------------------------------------------ estimator outputs
    def transform(self, X) -> np.ndarray:
        """Hidden-unit probabilities p(h = 1 | v) for each row of ``X``.

        Missing entries are first filled in as in training (``impute_steps``
        mean-field sweeps with the observed units clamped).
        """
        v = self.input_transform_.forward(self._validate(X, allow_nan=True))
        with torch.no_grad():
            out = torch.cat([self.model_.p_h_given_v(self._positive_data(part))
                             for part in v.split(CHUNK)])
        return to_numpy(out)

    def sample(self, n_samples: int = 1, steps: int = 1000, *, random_state=None, init=None):
        """Rows after ``steps`` steps of block Gibbs sampling (see ``BaseRBM.sample``).

        A DataFrame of the training columns when fitted on a DataFrame, else an array
        (of objects when there are categorical columns); categories as their values.
        """
        codes = super().sample(n_samples, steps, random_state=random_state, init=init)
        return self._output(codes, None)

    def _output(self, x: np.ndarray, reference):
        """The codes ``x`` as a table: a DataFrame like ``reference`` (or with the training
        columns when ``reference`` is None), else an array."""
        columns = self._encoder.values(x)
        names = getattr(self, "feature_names_in_", None)
        if _is_frame(reference) or (reference is None and names is not None):
            import pandas as pd

            frame = pd.DataFrame(dict(enumerate(columns)),
                                 index=reference.index if _is_frame(reference) else None)
            frame.columns = reference.columns if _is_frame(reference) else names
            return frame
        return np.array(columns, dtype=object).T if self._encoder.categories else x

    @property
    def column_kinds_(self) -> list[str]:
        check_is_fitted(self, "model_")
        return list(self._encoder.kinds)

    @property
    def categories_(self) -> list[np.ndarray]:
        check_is_fitted(self, "model_")
        return list(self._encoder.categories)

    @property
    def variance_(self) -> np.ndarray:
        check_is_fitted(self, "model_")
        gaussian = self._gaussian()
        return np.zeros(0) if gaussian is None else to_numpy(gaussian.variance)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    # ----------------------------------------------------------------- files
    @classmethod
    def from_weights(cls, W, b, c, encoder: ColumnEncoder, log_var=None,
                     feature_names=None, **params) -> TabularRBM:
        """A fitted model from W (n_hidden x n_units), b, c, a fitted ``encoder`` of the
        columns, log σ² of the real columns (zeros by default) and the columns' names."""
        W = as_tensor2d(W, name="W", dtype=None)
        params.setdefault("n_components", W.shape[0])
        model = cls(**params)
        model._encoder = encoder
        model._with_weights(W, b, c)
        if feature_names is not None:
            model.feature_names_in_ = np.asarray(feature_names, dtype=object)
        gaussian = model._gaussian()
        if log_var is not None and gaussian is not None:
            with torch.no_grad():
                gaussian.log_var.copy_(as_vector(log_var, "log_var", gaussian.size,
                                                 model.b_.dtype, model.b_.device))
        return model

    def _set_parameters(self, W: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> None:
        """The base's, the table's encoder kept as the input transform."""
        n_binary, sizes, n_real = self._encoder.group_sizes
        if W.shape[1] != n_binary + sum(sizes) + n_real:
            raise ValueError(f"W has {W.shape[1]} columns but the encoder's columns have "
                             f"{n_binary + sum(sizes) + n_real} units")
        super()._set_parameters(W, b, c)
        self.input_transform_ = self._encoder
        self.n_features_in_ = len(self._encoder.kinds)

    def _save_state(self) -> tuple[dict[str, torch.Tensor], dict]:
        """The base's tensors (with the real columns' ``shift``, ``scale``); the columns'
        kinds, categories and names in the metadata."""
        tensors, extra = super()._save_state()
        extra["columns"] = self._encoder.metadata()
        return tensors, extra

    @classmethod
    def _from_state(cls, params: dict, tensors: dict[str, torch.Tensor], extra: dict):
        columns = extra.get("columns")
        encoder = ColumnEncoder.from_file(columns, tensors)
        n_real = len(encoder.columns["real"])
        W = tensors.get("W")
        if W is None or W.ndim != 2:
            raise ValueError("model file lacks a 2-D tensor 'W'")
        n_hidden, n_units = W.shape
        log_var = check_tensor(tensors, "log_var", (n_real,)) if n_real else None
        model = cls.from_weights(
            check_tensor(tensors, "W", (n_hidden, n_units)),
            check_tensor(tensors, "b", (n_units,)), check_tensor(tensors, "c", (n_hidden,)),
            encoder, log_var, columns["feature_names"], **params)
        model.n_epochs_ = int(extra.get("n_epochs", 0))
        model.history_ = dict(extra.get("history", {}))
        return model
