"""Input checks shared by every estimator: one place that turns user data into tensors.

Estimators check their inputs with :func:`check_X` (built on scikit-learn's
``check_array`` and ``check_is_fitted``); minibatches of a stream pass
:func:`as_tensor2d`. Everything that reaches a hot loop has passed one of them,
so the loops themselves never check anything.
"""

from __future__ import annotations

import math
import numbers
import warnings
from numbers import Integral
from os import PathLike

import numpy as np
import torch
from scipy.sparse import issparse
from sklearn.exceptions import DataConversionWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted

#: Rows per chunk when a whole data set goes through a layer (bounds the memory).
CHUNK = 4096

#: The floating-point types an estimator's ``dtype`` may name (None: follow the data).
DTYPES = {"float32": torch.float32, "float64": torch.float64}

#: The declarative constraints of the hyperparameters every torch estimator shares:
#: where it computes (what ``torch.device`` takes; :func:`resolve_device` checks that
#: it exists), its floating-point type, what :func:`make_generator` takes, verbosity.
RUN_CONSTRAINTS = {
    "device": [str, torch.device, Interval(Integral, 0, None, closed="left"), None],
    "dtype": [StrOptions(set(DTYPES)), None],
    "random_state": [Integral, np.random.RandomState, np.random.Generator, torch.Generator,
                     None],
    "verbose": ["verbose"],
}
#: Those of the checkpointing estimators' ``checkpoint_dir`` and ``checkpoint_every``.
CHECKPOINT_CONSTRAINTS = {
    "checkpoint_dir": [str, PathLike, None],
    "checkpoint_every": [Interval(Integral, 1, None, closed="left")],
}


def resolve_dtype(dtype: str | None) -> torch.dtype | None:
    """The torch dtype an estimator's ``dtype`` hyperparameter names; None follows the data."""
    if dtype is not None and dtype not in DTYPES:
        raise ValueError(f"dtype must be None or one of {sorted(DTYPES)}, got {dtype!r}")
    return None if dtype is None else DTYPES[dtype]


def dtype_name(dtype: torch.dtype) -> str:
    """The name of a floating-point torch dtype, as an estimator's ``dtype`` spells it."""
    return str(dtype).removeprefix("torch.")


def data_dtype(dtype) -> torch.dtype:
    """The floating-point type that follows data of ``dtype`` (NumPy or torch), as in
    scikit-learn: float32 stays float32, everything else (float64, integers, bools)
    becomes float64."""
    return torch.float32 if dtype in (np.float32, torch.float32) else torch.float64


def is_sparse(X) -> bool:
    """A SciPy sparse matrix/array or a sparse torch tensor."""
    return issparse(X) or (isinstance(X, torch.Tensor) and X.is_sparse)


def resolve_device(device: str | torch.device | None) -> torch.device:
    """Return a ``torch.device``; ``None`` means CPU. Fails clearly if CUDA is missing."""
    dev = torch.device("cpu" if device is None else device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available")
    return dev


def make_generator(random_state, device: torch.device) -> torch.Generator:
    """The single random-state entry point: an int, ``None`` or a ``torch.Generator``.

    A NumPy ``RandomState``/``Generator`` is accepted too and seeds a torch generator.
    """
    if isinstance(random_state, torch.Generator):
        return random_state
    gen = torch.Generator(device=device)
    if random_state is None:
        gen.seed()
    elif isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        gen.manual_seed(int(random_state))
    elif isinstance(random_state, np.random.RandomState):
        gen.manual_seed(int(random_state.randint(0, 2**31 - 1)))
    elif isinstance(random_state, np.random.Generator):
        gen.manual_seed(int(random_state.integers(0, 2**31 - 1)))
    else:
        raise ValueError(
            f"random_state must be None, an int, a numpy RandomState/Generator or a "
            f"torch.Generator; got {random_state!r}"
        )
    return gen


def as_tensor2d(
    X,
    *,
    name: str = "X",
    dtype: torch.dtype | None = torch.float32,
    device: torch.device | str = "cpu",
    n_features: int | None = None,
    unit_interval: bool = False,
    min_samples: int = 1,
    owner: str = "the_model",
    accept_sparse: bool = False,
    allow_nan: bool = False,
) -> torch.Tensor:
    """Validate ``X`` and return it as a 2-D tensor of ``dtype`` on ``device``.

    Arrays go through scikit-learn's ``check_array``; a tensor takes a fast path
    (no copy off its device). ``dtype=None`` follows the data (:func:`data_dtype`).
    With ``accept_sparse``, a SciPy sparse matrix (any format ``check_array``
    converts to CSR, CSC or COO) or a sparse torch tensor becomes a coalesced
    sparse COO tensor, its stored values checked. Refuses (with
    ``ValueError``/``TypeError`` naming ``name``): other sparse input,
    strings/objects, complex numbers, 1-D or >2-D input, fewer than
    ``min_samples`` rows or no columns, NaN/inf, a wrong number of features, and
    values outside [0, 1] when ``unit_interval`` (Bernoulli units). ``allow_nan``
    lets NaN through (missing entries; the other values are checked as always).
    """
    t = _to_tensor2d(X, name, min_samples, accept_sparse)
    if n_features is not None and t.shape[1] != n_features:
        raise ValueError(
            f"{name} has {t.shape[1]} features, but {owner} is expecting {n_features} "
            "features as input"
        )
    return _cast_checking_values(t, name, dtype, device, unit_interval, allow_nan)


def _to_tensor2d(X, name: str, min_samples: int, accept_sparse: bool) -> torch.Tensor:
    """``X`` as a 2-D tensor (sparse COO for sparse input) of its own type, shape checked."""
    if is_sparse(X) or hasattr(X, "toarray"):
        if not accept_sparse:
            raise TypeError(
                f"{name}: sparse input is not supported; pass a dense array (X.toarray())"
            )
        return _sparse_tensor(X, name, min_samples)
    if isinstance(X, torch.Tensor):
        return _tensor2d(X.detach(), name, min_samples)
    return _dense_tensor(X, name, min_samples)


def _dense_tensor(X, name: str, min_samples: int) -> torch.Tensor:
    """An array checked by ``check_array`` as a tensor sharing its memory where it can."""
    try:
        arr = check_array(X, dtype="numeric", ensure_all_finite=False,
                          ensure_min_samples=min_samples, input_name=name)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{name}: {exc}") from exc
    if arr.dtype.kind == "b":
        arr = arr.view(np.uint8)
    arr = np.ascontiguousarray(arr)
    return torch.from_numpy(arr if arr.flags.writeable else arr.copy())


#: How far outside [0, 1] the values of binary units may lie: the rounding of a scaler
#: (``MinMaxScaler`` maps a training column's maximum to 1 + 2.2e-16 at times).
UNIT_TOLERANCE = 1e-6


def _cast_checking_values(t: torch.Tensor, name: str, dtype: torch.dtype | None, device,
                          unit_interval: bool, allow_nan: bool = False) -> torch.Tensor:
    """``t`` on ``device`` as ``dtype`` (None: :func:`data_dtype`), its values checked.

    One pass: NaN reaches both extremes, ±inf one of them. [0, 1] (to within
    ``UNIT_TOLERANCE``) is checked before
    the cast (which can round a tiny negative value to -0.0), finiteness after it
    (which can overflow a large value to inf).
    """
    dtype = data_dtype(t.dtype) if dtype is None else dtype
    lo, hi = _value_range(_stored_values(t), allow_nan)
    t = t.to(device=device, dtype=dtype)
    if not unit_interval:
        lo, hi = _value_range(_stored_values(t), allow_nan)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"{name}: input contains NaN or infinity")
    if unit_interval and (lo < -UNIT_TOLERANCE or hi > 1.0 + UNIT_TOLERANCE):
        neg = "Negative values in data passed to " + name + ". " if lo < -UNIT_TOLERANCE else ""
        raise ValueError(neg +
            f"{name}: Bernoulli units need values in [0, 1]; found values in "
            f"[{lo:g}, {hi:g}] (scale the data, e.g. MinMaxScaler, first)"
        )
    return t


def _stored_values(t: torch.Tensor) -> torch.Tensor:
    """The values a tensor stores: a sparse tensor's non-zeros, a dense tensor itself."""
    return t.values() if t.is_sparse else t


def _value_range(values: torch.Tensor, skip_nan: bool = False) -> tuple[float, float]:
    """Smallest and largest value (0 for an empty sparse matrix's implicit zeros), of the
    values that are not NaN with ``skip_nan``."""
    if skip_nan and values.is_floating_point():
        values = values[~torch.isnan(values)]
    if values.numel() == 0:
        return 0.0, 0.0
    return tuple(float(x) for x in torch.aminmax(values))


def _sparse_tensor(X, name: str, min_samples: int) -> torch.Tensor:
    """A sparse matrix checked by ``check_array`` as a coalesced sparse COO tensor."""
    if isinstance(X, torch.Tensor):
        return _tensor2d(X.detach().coalesce(), name, min_samples)
    try:
        arr = check_array(X, accept_sparse=("csr", "csc", "coo"), dtype="numeric",
                          ensure_all_finite=False, ensure_min_samples=min_samples,
                          input_name=name)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{name}: {exc}") from exc
    coo = arr.tocoo()
    coo.sum_duplicates()
    data = coo.data.view(np.uint8) if coo.data.dtype.kind == "b" else coo.data
    index = torch.from_numpy(np.vstack([coo.row, coo.col]).astype(np.int64))
    return torch.sparse_coo_tensor(index, torch.from_numpy(np.ascontiguousarray(data)),
                                   coo.shape, is_coalesced=True, check_invariants=False)


def _tensor2d(t: torch.Tensor, name: str, min_samples: int) -> torch.Tensor:
    """The shape and type checks of ``check_array`` for a tensor, without leaving its device."""
    if t.is_complex():
        raise ValueError(f"{name}: Complex data not supported")
    if t.dtype == torch.bool or not (t.is_floating_point() or _is_int(t.dtype)):
        t = t.to(torch.float32)
    if t.ndim > 2:
        raise ValueError(f"{name}: Found array with dim {t.ndim}, while dim <= 2 is required.")
    if t.ndim != 2:
        raise ValueError(
            f"{name}: Expected 2D array, got {t.ndim}D array instead. Reshape your data "
            "either using array.reshape(-1, 1) if your data has a single feature or "
            "array.reshape(1, -1) if it contains a single sample."
        )
    for axis, least, what in ((0, min_samples, "sample"), (1, 1, "feature")):
        if t.shape[axis] < least:
            raise ValueError(
                f"{name}: Found array with {t.shape[axis]} {what}(s) (shape="
                f"{tuple(t.shape)}) while a minimum of {least} is required."
            )
    return t


def check_X(estimator, X, *, reset: bool, dtype: torch.dtype | None, device,
            name: str = "X", unit_interval: bool = True, min_samples: int = 1,
            n_features: int | None = None, accept_sparse: bool = False,
            allow_nan: bool = False) -> torch.Tensor:
    """Every estimator's input check: ``X`` as a 2-D tensor of ``dtype`` on ``device``.

    ``reset`` (in ``fit``) records ``n_features_in_``; otherwise the estimator must
    be fitted (scikit-learn's ``NotFittedError``) and ``X`` must have its
    ``n_features_in_`` features (or ``n_features``, e.g. for hidden states). Values
    must lie in [0, 1] when ``unit_interval`` (Bernoulli units). ``accept_sparse``
    hands sparse input back as a sparse COO tensor (see :func:`as_tensor2d`).
    """
    if not reset:
        check_is_fitted(estimator)
        n_features = n_features or estimator.n_features_in_
    t = as_tensor2d(X, name=name, dtype=dtype, device=device, unit_interval=unit_interval,
                    n_features=n_features, min_samples=min_samples,
                    owner=type(estimator).__name__, accept_sparse=accept_sparse,
                    allow_nan=allow_nan)
    if reset:
        estimator.n_features_in_ = t.shape[1]
    return t


def minibatch_check(validate, *, fitted: bool = False):
    """The ``check(x, n_features)`` of a :class:`~deepbelief.data.Minibatches` source.

    ``validate(x, reset=...)`` is the estimator's own input check (built on
    :func:`check_X`). Training data (``fitted=False``): the array, or a stream's
    first minibatch (``n_features`` None), is checked with ``reset``; later
    minibatches against the features it recorded. ``fitted``: everything is
    checked against the fitted model.
    """
    def check(x, n_features: int | None) -> torch.Tensor:
        return validate(x, reset=not fitted and n_features is None)
    return check


def _is_int(dtype: torch.dtype) -> bool:
    return dtype in (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def _given_targets(y, name: str, what: str):
    """``y`` itself (a tensor as NumPy), refused when missing or sparse."""
    if y is None:
        raise ValueError(f"this estimator requires {name} to be passed, but the target {name} "
                         "is None")
    if hasattr(y, "toarray"):
        raise TypeError(f"{name}: sparse {what} are not supported")
    return y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else y


def as_labels(y, n_samples: int, *, name: str = "y") -> np.ndarray:
    """Validate a 1-D vector of ``n_samples`` class labels; returns a NumPy array.

    Continuous targets are refused with scikit-learn's message ("Unknown label
    type"), as is a missing ``y``.
    """
    arr = np.asarray(_given_targets(y, name, "labels"))
    if arr.ndim == 2 and arr.shape[1] == 1:
        warnings.warn("A column-vector y was passed when a 1d array was expected. Please "
                      "change the shape of y to (n_samples, ), for example using ravel().",
                      DataConversionWarning, stacklevel=3)
        arr = arr.ravel()
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of labels, got shape {arr.shape}")
    if arr.shape[0] != n_samples:
        raise ValueError(
            f"{name} has {arr.shape[0]} labels but X has {n_samples} samples; they must match"
        )
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"{name}: labels contain NaN or infinity")
    check_classification_targets(arr)
    return arr


def as_targets(y, like: torch.Tensor, *, name: str = "y") -> torch.Tensor:
    """Validate real-valued targets for the rows of ``like``, returned as a tensor.

    ``y`` of shape (n,) or (n, n_outputs), numeric and finite, becomes a tensor of
    the same shape in ``like``'s dtype and on its device.
    """
    arr = check_array(_given_targets(y, name, "targets"), ensure_2d=False, dtype="numeric",
                      input_name=name)  # ndim <= 2
    if arr.shape[0] != like.shape[0]:
        raise ValueError(f"{name} has {arr.shape[0]} targets but X has {like.shape[0]} samples; "
                         "they must match")
    arr = arr.astype(np.float64, copy=False)
    return torch.as_tensor(arr, device=like.device).to(like.dtype)


def check_positive(value, name: str, *, integer: bool = False, allow_zero: bool = False):
    """Refuse impossible hyperparameters with a message naming them."""
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        what = "an integer" if integer else "a number"
        raise ValueError(f"{name} must be {what}, got {value!r}")
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    return value


def to_numpy(t: torch.Tensor) -> np.ndarray:
    """Tensor -> NumPy at the library's edge (detached, on the CPU)."""
    return t.detach().cpu().numpy()


#: Minibatch updates that ``"auto"`` training lengths aim for on ``AUTO_ROWS`` rows:
#: ten epochs of MNIST's 60,000 rows in batches of 100.
AUTO_UPDATES = 6000
AUTO_ROWS = 60000
#: ``"auto"`` minibatches hold about 1/60 of the rows, between 10 and 100 of them.
AUTO_BATCHES_PER_EPOCH, AUTO_MIN_BATCH, AUTO_MAX_BATCH = 60, 10, 100


def auto_updates(n_samples: int, updates: int = AUTO_UPDATES, power: float = 0.5) -> int:
    """The updates ``"auto"`` gives ``n_samples`` rows: ``updates`` · min(1, (n / 60,000)^power).

    Fewer rows hold less to learn: by default the budget shrinks with the square
    root of the data (848 updates for 1.2k digits), so that small data trains in
    seconds while 60k rows keep the full budget.
    """
    return math.ceil(updates * min(1.0, (n_samples / AUTO_ROWS) ** power))


def auto_batch_size(n_samples: int | None) -> int:
    """A minibatch of about 1/60 of the rows, clipped to [10, 100] (100 for a stream)."""
    if n_samples is None:
        return AUTO_MAX_BATCH
    return min(AUTO_MAX_BATCH, max(AUTO_MIN_BATCH, n_samples // AUTO_BATCHES_PER_EPOCH))


def resolve_epochs(value, name: str, n_samples: int | None, batch_size: int, *,
                   updates: int = AUTO_UPDATES, minimum: int = 10,
                   allow_zero: bool = False, power: float = 0.5) -> int:
    """Epochs to run: ``value`` itself, or for ``"auto"`` enough for the updates of the data.

    ``"auto"`` sizes training in parameter updates rather than passes: it gives
    max(``minimum``, ⌈u / ⌈n_samples / batch_size⌉⌉) epochs with u =
    :func:`auto_updates` (``updates`` for 60k rows or more, fewer for less
    data, as ``power`` says), and ``minimum`` for a stream of unknown length
    (``n_samples`` None).
    """
    if isinstance(value, str):
        if value != "auto":
            raise ValueError(f"{name} must be an integer or 'auto', got {value!r}")
        if n_samples is None:
            return minimum
        per_epoch = math.ceil(n_samples / batch_size)
        return max(minimum, math.ceil(auto_updates(n_samples, updates, power) / per_epoch))
    return int(check_positive(value, name, integer=True, allow_zero=allow_zero))
