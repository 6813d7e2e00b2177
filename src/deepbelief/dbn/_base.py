"""What the deep nets share: hyperparameters, inputs, the fit skeleton, files.

:class:`BaseDeepNet` owns what every net trained in two stages (generative
pre-training, then fine-tuning) shares: the input check and input transform,
the opening of ``fit`` (source of minibatches, classes, floating-point type,
the epochs planned), the progress bar and timing, persistence and tags. A child
supplies its plan of epochs (``_plan_epochs``), pre-training and fine-tuning
(``_pretrain``, ``_finetune``), its outputs and the tensors of its net in a model
file (``_net_tensors``, ``_load_net``), and what its labels are: classes
(:class:`ClassLabels`) or real-valued targets (a regressor's). :class:`BaseDBN`
adds what the deep belief nets (:class:`~deepbelief.DBN`,
:class:`~deepbelief.DBNClassifier`, :class:`~deepbelief.DBNRegressor`) share: the
RBM stack's settings and a choice of visible units.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from functools import partial
from numbers import Integral, Real
from typing import ClassVar, NamedTuple

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._validation import (
    CHECKPOINT_CONSTRAINTS,
    RUN_CONSTRAINTS,
    auto_batch_size,
    check_X,
    dtype_name,
    is_sparse,
    make_generator,
    minibatch_check,
    resolve_device,
    resolve_dtype,
)
from ..base import _is_frame
from ..checkpoint import Checkpointer
from ..data import Minibatches, TargetCheck, is_stream
from ..io import check_tensor, decode_classes, encode_classes, save
from ..transforms import ColumnEncoder, Identity, Standardize
from ._stack import check_sizes, progress, saved_dtype


class Plan(NamedTuple):
    """The epochs ``fit`` runs: each layer's RBM settings (``n_iter`` resolved) and fine-tuning."""

    layers: list[dict]
    finetune_epochs: int

    @property
    def total(self) -> int:
        """All epochs, pre-training and fine-tuning: a stream's passes, the bar's length."""
        return sum(p["n_iter"] for p in self.layers) + self.finetune_epochs


class BaseDeepNet(TransformerMixin, BaseEstimator):
    """What every two-stage deep net shares (see the module docstring); not for direct use."""

    _parameter_constraints: ClassVar[dict] = {
        "hidden_layer_sizes": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "pretrain_epochs": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "finetune_epochs": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        **RUN_CONSTRAINTS,
        **CHECKPOINT_CONSTRAINTS,
    }

    #: The least number of hidden layers; the attribute that says the net is fitted.
    _min_layers: ClassVar[int] = 1
    _fitted_attribute: ClassVar[str]
    #: Hyperparameters that JSON gives back as lists.
    _TUPLE_PARAMS: ClassVar[tuple[str, ...]] = ("hidden_layer_sizes",)

    # ------------------------------------------------------------ what a child adds
    def _gaussian_input(self) -> bool:
        """Whether the visible units are Gaussian (any real inputs, standardised)."""
        return False

    def _tabular_input(self) -> bool:
        """Whether the inputs are a table of binary, categorical and real columns."""
        return False

    def _plan_epochs(self, sizes: tuple[int, ...], n_samples: int | None) -> Plan:
        raise NotImplementedError

    def _pretrain(self, data: Minibatches, sizes: tuple[int, ...], bar, resume: bool) -> None:
        raise NotImplementedError

    def _finetune(self, data: Minibatches, bar, callback, resume: bool) -> None:
        raise NotImplementedError

    def _net_tensors(self) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def _target_check(self) -> TargetCheck | None:
        """How the labels of ``fit`` are checked: None for classes, else a target check."""
        raise NotImplementedError

    def _fit_labels(self, data: Minibatches) -> None:
        """Record what the training data's labels are (``classes_``, or the targets' shape)."""
        raise NotImplementedError

    def _labels_state(self) -> tuple[dict[str, torch.Tensor], dict]:
        """The labels' tensors and metadata for a model file."""
        raise NotImplementedError

    def _load_labels(self, tensors: dict[str, torch.Tensor], extra: dict,
                     device: torch.device, dtype: torch.dtype) -> None:
        """Restore what :meth:`_labels_state` wrote, checked."""
        raise NotImplementedError

    def _load_net(self, tensors: dict[str, torch.Tensor], sizes: tuple[int, ...], n_in: int,
                  device: torch.device, dtype: torch.dtype) -> None:
        raise NotImplementedError

    def _batch(self, n_samples: int | None) -> int:
        """The fine-tuning minibatch: ``batch_size``, "auto" resolved for ``n_samples`` rows."""
        if self.batch_size == "auto":
            return auto_batch_size(n_samples)
        return self.batch_size

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> tuple[int, ...]:
        """The declarative constraints; returns ``hidden_layer_sizes`` as a tuple."""
        self._validate_params()
        return check_sizes(self.hidden_layer_sizes, min_layers=self._min_layers)

    def _validate(self, X, *, reset: bool = False, check_range: bool = False) -> torch.Tensor:
        """Inputs as a tensor of the model's dtype on its device (:func:`check_X`); pure.

        The training data (``reset``) has the estimator's ``dtype``, or with
        ``dtype=None`` the data's (float32 stays float32, anything else becomes
        float64); ``fit`` records it as ``_dtype`` and later inputs are cast to it.
        Binary visible units need values in [0, 1] in training data (``reset`` or
        ``check_range``), checked on the stored entries of a sparse matrix, which
        stays a sparse tensor; a fitted net takes any finite inputs (values a
        scaler fitted on other rows maps slightly outside [0, 1] go through the
        same formulas). Gaussian ones take any finite values and refuse sparse
        input (standardising fills in every zero).
        """
        gaussian = self._gaussian_input() or self._tabular_input()
        if gaussian and (is_sparse(X) or hasattr(X, "toarray")):
            raise TypeError(f"X: sparse input is not supported with visible_units="
                            f"{self.visible_units!r} (the inputs are standardised, which fills "
                            "in every zero); pass a dense array (X.toarray())")
        if self._tabular_input():
            X = self._table_codes(X, reset=reset, check_range=check_range)
        dtype = resolve_dtype(self.dtype) if reset else self._dtype
        try:
            return check_X(self, X, reset=reset, dtype=dtype,
                           device=resolve_device(self.device),
                           unit_interval=not gaussian and (reset or check_range),
                           accept_sparse=not gaussian)
        except ValueError as exc:
            if not (self._tabular_input() and "NaN" in str(exc)):
                raise
            raise ValueError(f"{exc}; fill in missing entries first, e.g. with "
                             "TabularRBM(...).fit(X).impute(X)") from None

    def _table_codes(self, X, *, reset: bool, check_range: bool) -> np.ndarray:
        """A table's codes (:meth:`ColumnEncoder.codes
        <deepbelief.transforms.ColumnEncoder.codes>`); training data (``reset``) first
        fixes the encoder: the columns' kinds (``column_types``) and categories."""
        table = validate_data(self, X, reset=reset, dtype=None, ensure_all_finite=False)
        if reset:
            names = getattr(self, "feature_names_in_", None)
            self._encoder = ColumnEncoder.from_table(
                table, self.column_types, None if names is None else names.tolist(),
                list(X.dtypes) if _is_frame(X) else None)
        dtype = np.float32 if table.dtype == np.float32 else np.float64
        return self._encoder.codes(table, dtype, check_range=reset or check_range)

    def _n_units(self) -> int:
        """The visible units: the net's inputs (a table's one-hot codes counted out)."""
        return self._encoder.n_units if self._tabular_input() else self.n_features_in_

    def _input_transform(self):
        """Gaussian image units model standardised inputs; binary ones the inputs
        themselves; a table's units its codes encoded (the fitted encoder)."""
        if self._tabular_input():
            return self._encoder
        return Standardize() if self._gaussian_input() else Identity()

    def _input(self, X) -> torch.Tensor:
        """Inputs of a fitted net, checked and mapped by its input transform."""
        check_is_fitted(self, self._fitted_attribute)
        return self.input_transform_.forward(self._validate(X))

    def _to_input(self, v: torch.Tensor) -> torch.Tensor:
        """Visible values in the inputs' units (undoing the standardisation)."""
        return self.input_transform_.inverse(v)

    def _source(self, X, y, *, fitted: bool, classes=None, passes: int = 1) -> Minibatches:
        """(X, y) as a labelled source of minibatches in the units' values.

        Training data (not ``fitted``) fixes the model's dtype and fits the input
        transform on the array (or a stream's first minibatch).
        """
        if self._tabular_input() and is_stream(X):
            raise TypeError("X: visible_units='tabular' takes an array or a DataFrame, not "
                            "a stream of minibatches")
        validate = partial(self._validate, check_range=True)
        data = Minibatches(X, y, check=minibatch_check(validate, fitted=fitted),
                           labelled=True, classes=classes, passes=passes,
                           target_check=self._target_check())
        if not fitted:
            self._dtype = data.first.dtype
            self.input_transform_ = self._input_transform().fit(data.first)
        transform = self.input_transform_
        if isinstance(transform, Identity):
            return data
        return data.map(lambda x, _: transform.forward(x))

    # ---------------------------------------------------------------- training
    def fit(self, X, y=None, *, classes=None, callback=None, resume: bool = False):
        """Greedy pre-training of the RBM stack on ``X``, then fine-tuning on (X, y).

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features), values
            in [0, 1] for binary visible units; or an iterable of
            ``(X_batch, y_batch)`` minibatches (e.g. a ``torch.utils.data.DataLoader``)
            for data bigger than memory, read once per epoch of every layer and of
            fine-tuning (so it must be re-iterable unless that is once in all).
            Arrays move to the device once and are shuffled every epoch; a
            stream is used in its own order. A SciPy sparse matrix (binary
            visible units only) stays sparse on the device: the first RBM
            pre-trains on sparse minibatches, and fine-tuning makes each
            minibatch dense as it uses it.
        y : array-like of shape (n_samples,), labels of any type; None for a stream.
        classes : array-like, optional
            All labels a stream can hold; by default one extra pass over its
            ``y_batch`` collects them. Ignored for arrays.
        callback : callable, optional
            Called as ``callback(self)`` after each fine-tuning epoch; fine-tuning
            stops when it returns True.
        resume : bool, default=False
            Continue from the newest checkpoints in ``checkpoint_dir`` (finished
            RBM layers are restored, an unfinished one continues, then fine-tuning
            continues from its last saved epoch); with the same ``random_state``
            and data the result is bit-identical to an uninterrupted run.

        Notes
        -----
        Under ``torchrun`` every RBM of the stack trains data-parallel (see
        :class:`~deepbelief.BernoulliRBM`); see the class for fine-tuning.
        """
        sizes = self._check_params()
        Checkpointer(self.checkpoint_dir).start(resume)
        stream = is_stream(X)
        passes = self._plan_epochs(sizes, None).total if stream else 1
        data = self._source(X, y, fitted=False, classes=classes if stream else None,
                            passes=passes)
        self._fit_labels(data)
        self._plan = self._plan_epochs(sizes, data.n_samples)
        self._rng = make_generator(self.random_state, resolve_device(self.device))
        with progress(self._plan.total, self.verbose) as bar:
            start = time.perf_counter()
            self._pretrain(data, sizes, bar, resume)
            self.times_ = {"pretrain": time.perf_counter() - start}
            start = time.perf_counter()
            self._finetune(data, bar, callback, resume)
            self.times_["finetune"] = time.perf_counter() - start
        return self

    # -------------------------------------------------------------------- files
    def save(self, path) -> None:
        """Write the model to one safetensors file (see :func:`deepbelief.load`)."""
        save(self, path)

    def _save_state(self) -> tuple[dict[str, torch.Tensor], dict]:
        labels, label_extra = self._labels_state()
        tensors = {**self._net_tensors(), **self.input_transform_.state_dict(), **labels}
        extra = {**label_extra, "n_features": self.n_features_in_,
                 "dtype": dtype_name(self._dtype), "history": self.history_,
                 "pretrain_history": self.pretrain_history_, "times": self.times_}
        if self._tabular_input():
            extra["columns"] = self._encoder.metadata()
        return tensors, extra

    #: The tensor whose dtype a file without a recorded ``dtype`` was trained in, and
    #: the ``history_`` entry that has one item per fine-tuning epoch.
    _DTYPE_TENSOR: ClassVar[str]
    _EPOCH_HISTORY: ClassVar[str] = "seconds"

    @classmethod
    def _from_state(cls, params: dict, tensors: dict[str, torch.Tensor], extra: dict):
        for key in cls._TUPLE_PARAMS:
            if isinstance(params.get(key), list):
                params[key] = tuple(params[key])
        model = cls(**params)
        sizes = model._check_params()
        n_in = int(extra["n_features"])
        dev = resolve_device(model.device)
        dt = saved_dtype(model, tensors, extra, cls._DTYPE_TENSOR)
        model._load_labels(tensors, extra, dev, dt)
        model.n_features_in_, model._dtype = n_in, dt
        model._rng = make_generator(model.random_state, dev)
        model.input_transform_ = model._load_transform(tensors, n_in, dev, dt, extra)
        model._load_net(tensors, sizes, model._n_units(), dev, dt)
        model.history_ = dict(extra.get("history", {}))
        model.pretrain_history_ = list(extra.get("pretrain_history", []))
        model.times_ = dict(extra.get("times", {}))
        model.n_epochs_ = len(model.history_.get(cls._EPOCH_HISTORY, []))
        return model

    def _load_transform(self, tensors: dict[str, torch.Tensor], n_in: int,
                        device: torch.device, dtype: torch.dtype, extra: dict):
        if self._tabular_input():
            self._encoder = ColumnEncoder.from_file(extra.get("columns"), tensors)
            self._encoder.load_state_dict({k: v.to(device, dtype)
                                           for k, v in self._encoder.state_dict().items()})
            if len(self._encoder.kinds) != n_in:
                raise ValueError(f"model file's columns are {len(self._encoder.kinds)}, "
                                 f"its n_features {n_in}")
            if self._encoder.named:
                self.feature_names_in_ = np.asarray(self._encoder.names, dtype=object)
        transform = self._input_transform()
        if isinstance(transform, Standardize):
            state = {name: check_tensor(tensors, name, (n_in,)).to(device, dtype)
                     for name in ("shift", "scale")}
            if not bool((state["scale"] > 0).all()):
                raise ValueError("model file has a non-positive 'scale'")
            transform.load_state_dict(state)
        return transform

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        binary = not (self._gaussian_input() or self._tabular_input())
        tags.input_tags.positive_only = binary
        tags.input_tags.sparse = binary
        tags.input_tags.categorical = tags.input_tags.string = self._tabular_input()
        tags.transformer_tags.preserves_dtype = (
            ["float64", "float32"] if self.dtype is None else [self.dtype])
        return tags



class ClassLabels(ClassifierMixin):
    """A deep net whose labels are classes: ``classes_``, kept in its model file."""

    def _target_check(self) -> None:
        return None

    def _fit_labels(self, data: Minibatches) -> None:
        self.classes_ = data.classes

    def _labels_state(self) -> tuple[dict[str, torch.Tensor], dict]:
        return {}, encode_classes(self.classes_)

    def _load_labels(self, tensors: dict[str, torch.Tensor], extra: dict,
                     device: torch.device, dtype: torch.dtype) -> None:
        classes = decode_classes(extra)
        if classes.ndim != 1 or len(classes) < 2:
            raise ValueError("model file has an invalid 'classes' list")
        self.classes_ = classes


class BaseDBN(BaseDeepNet):
    """What the deep belief nets share: the RBM stack's settings (see the module docstring)."""

    _parameter_constraints: ClassVar[dict] = {
        **BaseDeepNet._parameter_constraints,
        "rbm_params": [Mapping, Sequence, None],
        "sample_hidden": ["boolean"],
        "visible_units": [StrOptions({"bernoulli", "gaussian"})],
    }

    def _gaussian_input(self) -> bool:
        return self.visible_units == "gaussian"


__all__ = ["BaseDBN", "BaseDeepNet", "ClassLabels", "Plan"]
