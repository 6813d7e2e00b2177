"""Input transforms: the map from the inputs a user passes to the values a model's units take.

One object with one job, as in ``torch.distributions``: it is fitted explicitly
(never as a side effect of validation), maps forward and back, knows the log of
the absolute determinant of its Jacobian (so that a density of the transformed
values is a density of the inputs) and has a ``state_dict``, saved with the
model under one naming (``shift``, ``scale``).

:class:`ColumnEncoder` maps a table of mixed columns (binary, categorical, real)
to the units of a :class:`~deepbelief.units.Layout`: it reads the table at the
estimator's edge (NumPy) and maps in torch like the others.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
import torch
from torch.distributions.transforms import SigmoidTransform
from torch.nn.functional import one_hot

from .io import check_tensor, decode_classes, encode_classes

#: The logistic function and its inverse (which clips into (0, 1)).
_SIGMOID = SigmoidTransform()


class Identity:
    """The inputs are the units' values (binary units on data in [0, 1])."""

    def fit(self, X: torch.Tensor) -> Identity:
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        return z

    def log_abs_det_jacobian(self, x: torch.Tensor) -> float:
        """log ``|det ∂z/∂x|`` = 0 for every row of ``x``."""
        return 0.0

    def fold(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        """A linear map of z is already one of x."""

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Nothing to restore."""


class Standardize:
    """z = (x - shift) / scale per column, fitted to the columns' means and standard deviations.

    Columns without spread keep scale 1 (they are only centred), as scikit-learn's
    ``StandardScaler`` does. ``Standardize.identity(n)`` is the same transform
    with shift 0 and scale 1 (the inputs modelled as given).
    """

    def __init__(self, shift: torch.Tensor | None = None,
                 scale: torch.Tensor | None = None) -> None:
        self.shift = shift
        self.scale = scale

    @classmethod
    def identity(cls, like: torch.Tensor) -> Standardize:
        """Shift 0 and scale 1 for the columns of ``like`` (a row or a matrix)."""
        row = like if like.ndim == 1 else like[0]
        return cls(torch.zeros_like(row), torch.ones_like(row))

    def fit(self, X: torch.Tensor) -> Standardize:
        """Each column's mean and standard deviation; constant columns get scale 1.

        NaN entries (missing values) are left out of their column's figures.
        """
        mean, std = observed_moments(X)
        constant = std <= 1e-8 * X.abs().nan_to_num(0.0).amax(0).clamp(min=1)
        self.shift, self.scale = mean, torch.where(constant, torch.ones_like(std), std)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """z = (x - shift) / scale."""
        return (x - self.shift) / self.scale

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        """x = z · scale + shift."""
        return z * self.scale + self.shift

    def log_abs_det_jacobian(self, x: torch.Tensor) -> float:
        """log ``|det ∂z/∂x|`` = -Σ_j log scale_j for every row: p(x) = p(z) / Π_j scale_j."""
        return -float(self.scale.double().log().sum())

    def fold(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        """A linear map of z made one of x, in place.

        W z + c = (W / scale) x + (c - (W / scale) shift).
        """
        weight.div_(self.scale)
        bias.sub_(weight @ self.shift)

    def fold_inverse(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        """A linear map giving z made one giving x = z · scale + shift, in place.

        (W h + c) · scale + shift = (scale ⊙ W) h + (scale ⊙ c + shift).
        """
        weight.mul_(self.scale[:, None])
        bias.mul_(self.scale).add_(self.shift)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"shift": self.shift, "scale": self.scale}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Take ``shift`` and ``scale`` (checked: the scales must be positive)."""
        shift, scale = state["shift"], state["scale"]
        if not bool((scale > 0).all()):
            raise ValueError("scale must be positive")
        self.shift, self.scale = shift, scale


class Logit:
    """z_j = log(x_j / (1 - x_j)) on the columns of ``unit_columns``, the others as given.

    The open unit interval onto the real line (the inverse of
    ``torch.distributions.transforms.SigmoidTransform``), so that a Gaussian model of
    z is a density of x on (0, 1) that puts no mass outside it (a logit-normal per
    column). ``support="auto"`` takes, at :meth:`fit`, the columns whose values all
    lie strictly between 0 and 1 (NaN entries left out); ``"unit"`` takes every
    column and ``fit`` refuses values outside (0, 1). Outside (0, 1) the density is
    zero: :meth:`log_abs_det_jacobian` is -inf for such a row, and :meth:`forward`
    clips the values into the interval (``SigmoidTransform``'s inverse does).
    """

    def __init__(self, support: str = "auto", unit_columns: torch.Tensor | None = None) -> None:
        self.support = support
        self.unit_columns = unit_columns

    def fit(self, X: torch.Tensor) -> Logit:
        if self.support == "unit":
            self.unit_columns = torch.ones(X.shape[1], dtype=torch.bool, device=X.device)
            self.check(X)
        else:
            self.unit_columns = (((X > 0) & (X < 1)) | torch.isnan(X)).all(0)
        return self

    def check(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` itself, refused if a unit column holds a value outside (0, 1) (training data)."""
        values = x[:, self.unit_columns]
        bad = (values <= 0) | (values >= 1)
        if bool(bad.any()):
            column = int(torch.nonzero(self.unit_columns)[bad.any(0).nonzero()[0, 0], 0])
            raise ValueError(f"X: column {column} is modelled on (0, 1), but it holds values "
                             "outside that interval; pass support='real' to model it on the "
                             "real line")
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """z = logit(x) on the unit columns (values clipped into (0, 1)), x elsewhere."""
        return torch.where(self.unit_columns, _SIGMOID.inv(x), x)

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        """x = σ(z) on the unit columns, z elsewhere."""
        return torch.where(self.unit_columns, _SIGMOID(z), z)

    def log_abs_det_jacobian(self, x: torch.Tensor) -> torch.Tensor:
        """Per row, -Σ_j (log x_j + log(1 - x_j)) over the unit columns; -inf outside (0, 1)."""
        values = x[:, self.unit_columns]
        inside = ((values > 0) & (values < 1)) | torch.isnan(values)
        log_det = -(values.log() + (-values).log1p()).nansum(1)
        return torch.where(inside.all(1), log_det, -torch.inf)

    def fold(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        """A linear map of z is one of x only without unit columns."""
        if bool(self.unit_columns.any()):
            raise ValueError("the logit of the unit columns is no linear map")

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"unit_columns": self.unit_columns.to(torch.get_default_dtype())}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Take ``unit_columns`` (a 0/1 vector, as files hold floats)."""
        self.unit_columns = state["unit_columns"] != 0


class Chain:
    """Fitted transforms applied in turn: inverted last to first, their
    log-determinants summed, their states in one ``state_dict``.

    ``check`` is the first transform's check of training data.
    """

    def __init__(self, *parts) -> None:
        self.parts = parts

    def check(self, x: torch.Tensor) -> torch.Tensor:
        return self.parts[0].check(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for part in self.parts:
            x = part.forward(x)
        return x

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        for part in reversed(self.parts):
            z = part.inverse(z)
        return z

    def log_abs_det_jacobian(self, x: torch.Tensor) -> torch.Tensor | float:
        """Σ_k log ``|det ∂z_k/∂z_{k-1}|`` along the chain (z_0 = x)."""
        total = 0.0
        for part in self.parts:
            total = total + part.log_abs_det_jacobian(x)
            x = part.forward(x)
        return total

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {name: t for part in self.parts for name, t in part.state_dict().items()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        for part in self.parts:
            part.load_state_dict(state)


def observed_moments(X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each column's mean and standard deviation (correction 0) over its non-NaN entries."""
    if not bool(torch.isnan(X).any()):  # torch's own reductions, bit for bit as ever
        return X.mean(0), X.std(0, correction=0)
    mean = X.nanmean(0)
    return mean, (X - mean).square().nanmean(0).sqrt()


#: The kinds of column :class:`ColumnEncoder` knows.
COLUMN_KINDS = ("binary", "categorical", "real")


class ColumnEncoder:
    """A table's columns as units' values: binary 0/1, categorical one-hot, real standardised.

    The units come grouped by kind: one unit per binary column, then per categorical
    column one group of as many units as it has categories (1 at the category's
    position, 0 elsewhere), then the real columns standardised,
    z = (x - shift) / scale (:class:`Standardize`). A missing entry (NaN) makes
    every unit of its column NaN.

    It works at two levels. At the table's edge (NumPy), :meth:`fit_table` learns
    each categorical column's categories (its distinct values, sorted) and
    :meth:`codes` writes each entry as one number (the binary value, the category's
    index, the real value; NaN where missing); :meth:`values` reads codes back.
    Between codes and units (torch), :meth:`fit` learns the standardisation from the
    observed entries and :meth:`forward` / :meth:`inverse` map; the inverse gives
    each categorical column the category of its largest unit, each binary column 1
    where its unit is at least 1/2 (0 elsewhere) and the real columns de-standardised.

    Parameters
    ----------
    kinds : sequence of {"binary", "categorical", "real"}
        Each column's kind, in the table's order.
    categories : sequence of arrays, optional
        The categories of each categorical column, in order (as :meth:`fit_table`
        learns them).
    names : sequence, optional
        The columns' names (a DataFrame's), for messages and files (by default
        their positions).
    """

    def __init__(self, kinds: Sequence[str], categories: Sequence[np.ndarray] = (),
                 names: Sequence | None = None) -> None:
        unknown = sorted(set(kinds) - set(COLUMN_KINDS))
        if unknown:
            raise ValueError(f"column kinds must be among {COLUMN_KINDS}, got {unknown}")
        self.kinds = list(kinds)
        self.categories = [np.asarray(c) for c in categories]
        self.named = names is not None
        self.names = list(range(len(self.kinds)) if names is None else names)
        self.columns = {kind: [j for j, k in enumerate(self.kinds) if k == kind]
                        for kind in COLUMN_KINDS}
        self.standardize = Standardize()

    @classmethod
    def from_table(cls, table: np.ndarray, column_types="auto", names: Sequence | None = None,
                   dtypes: Sequence | None = None) -> ColumnEncoder:
        """The encoder of ``table``: each column's kind, and the categories (:meth:`fit_table`).

        ``column_types`` is ``"auto"`` (every kind read by :func:`infer_kind` from the
        column's pandas dtype in ``dtypes``, None for a NumPy column, and its values),
        a list of one kind per column, or a dict of kinds by column name (the others
        read as with ``"auto"``).
        """
        labels = list(range(table.shape[1])) if names is None else list(names)
        declared = _declared_kinds(column_types, labels)
        dtypes = [None] * table.shape[1] if dtypes is None else list(dtypes)
        kinds = [declared.get(j) or infer_kind(table[:, j], dtypes[j], labels[j])
                 for j in range(table.shape[1])]
        return cls(kinds, names=names).fit_table(table)

    @property
    def group_sizes(self) -> tuple[int, list[int], int]:
        """The units' groups: binary units, the size of each softmax group, real units."""
        return (len(self.columns["binary"]), [len(c) for c in self.categories],
                len(self.columns["real"]))

    @property
    def n_units(self) -> int:
        """Units of all columns: one per binary and real column, one per category."""
        n_binary, sizes, n_real = self.group_sizes
        return n_binary + sum(sizes) + n_real

    # ------------------------------------------------------- the table's edge
    def fit_table(self, table: np.ndarray) -> ColumnEncoder:
        """Each categorical column's sorted distinct values; every column must have one."""
        for j, name in enumerate(self.names):
            if _missing(table[:, j]).all():
                raise ValueError(f"column {name!r} has no observed values")
        self.categories = [_categories(table[:, j], self.names[j])
                           for j in self.columns["categorical"]]
        return self

    def codes(self, table: np.ndarray, dtype: type = np.float64,
              check_range: bool = True) -> np.ndarray:
        """Each entry as a number of ``dtype``: 0/1, the category's index or the real value.

        Missing entries (NaN, None) are NaN. Categories not seen by :meth:`fit_table`
        are a ``ValueError`` naming the column, and so are binary values outside
        [0, 1] with ``check_range`` (else they pass as they are, as a fitted
        Bernoulli unit's inputs do).
        """
        out = np.empty(table.shape, dtype=dtype)
        for j in self.columns["binary"] + self.columns["real"]:
            out[:, j] = _numbers(table[:, j], self.names[j])
        binary = out[:, self.columns["binary"]]
        outside = ((binary < 0) | (binary > 1)).any(0)  # NaN compares False
        if check_range and outside.any():
            j = self.columns["binary"][int(np.argmax(outside))]
            raise ValueError(f"binary column {self.names[j]!r} has values outside [0, 1]; "
                             "binary columns take 0/1 (declare it 'real' or 'categorical')")
        for j, cats in zip(self.columns["categorical"], self.categories, strict=True):
            out[:, j] = _category_index(table[:, j], cats, self.names[j])
        return out

    def values(self, codes: np.ndarray) -> list[np.ndarray]:
        """The columns that ``codes`` write: numbers, and each categorical column's categories."""
        out = [codes[:, j] for j in range(codes.shape[1])]
        for j, cats in zip(self.columns["categorical"], self.categories, strict=True):
            missing = np.isnan(codes[:, j])
            column = cats[np.where(missing, 0, codes[:, j]).astype(np.intp)].astype(object)
            column[missing] = np.nan
            out[j] = column
        return out

    # --------------------------------------------------- codes and units (torch)
    def fit(self, codes: torch.Tensor) -> ColumnEncoder:
        """The real columns' standardisation, from their observed entries."""
        real = codes[:, self.columns["real"]]
        self.standardize = Standardize().fit(real) if real.shape[1] else Standardize.identity(real)
        return self

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        """Binary codes as they are, categorical ones one-hot, real ones standardised."""
        parts = [codes[:, self.columns["binary"]]]
        parts += [_one_hot(codes[:, j], len(cats))
                  for j, cats in zip(self.columns["categorical"], self.categories, strict=True)]
        parts.append(self.standardize.forward(codes[:, self.columns["real"]]))
        return torch.cat(parts, 1)

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        """Codes of the units' values ``z``: rounded binary units, the index of each
        softmax group's largest unit, de-standardised real units (NaN stays NaN)."""
        n_binary, sizes, _ = self.group_sizes
        out = z.new_empty(z.shape[0], len(self.kinds))
        binary = z[:, :n_binary]
        out[:, self.columns["binary"]] = torch.where(binary.isnan(), binary,
                                                     (binary >= 0.5).to(z.dtype))
        bounds = np.cumsum([n_binary, *sizes]).tolist()
        for j, lo, hi in zip(self.columns["categorical"], bounds[:-1], bounds[1:], strict=True):
            group = z[:, lo:hi]
            out[:, j] = torch.where(group.isnan().any(1), torch.nan,
                                    group.argmax(1).to(z.dtype))
        out[:, self.columns["real"]] = self.standardize.inverse(z[:, bounds[-1]:])
        return out

    def log_abs_det_jacobian(self, x: torch.Tensor) -> float:
        """log ``|det ∂z/∂x|`` of the real columns, -Σ_j log scale_j (the others: counts)."""
        return self.standardize.log_abs_det_jacobian(x)

    def fold(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        """A linear map of the units made one of the real columns as given, in place.

        The real columns' standardisation is folded in (:meth:`Standardize.fold`); the
        binary and one-hot units stay as they are (a one-hot code is no linear map).
        """
        real = weight[:, self.n_units - len(self.columns["real"]):]
        self.standardize.fold(real, bias)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The real columns' ``shift`` and ``scale`` (the categories are metadata)."""
        return self.standardize.state_dict()

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.standardize.load_state_dict(state)

    def metadata(self) -> dict:
        """The columns' kinds, categories and names, as a model file's metadata keeps them."""
        names = [n.item() if isinstance(n, np.generic) else n for n in self.names]
        return {"kinds": self.kinds,
                "categories": [encode_classes(c) for c in self.categories],
                "feature_names": names if self.named else None}

    @classmethod
    def from_file(cls, metadata: dict, tensors: dict[str, torch.Tensor]) -> ColumnEncoder:
        """The encoder :meth:`metadata` and :meth:`state_dict` wrote, checked."""
        try:
            encoder = cls(metadata["kinds"],
                          [decode_classes(c) for c in metadata["categories"]],
                          metadata["feature_names"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"model file has invalid 'columns' metadata ({exc!r})") from None
        if len(encoder.categories) != len(encoder.columns["categorical"]) or (
                encoder.named and len(encoder.names) != len(encoder.kinds)):
            raise ValueError("model file's 'columns' metadata does not match its kinds")
        n_real = len(encoder.columns["real"])
        encoder.load_state_dict({name: check_tensor(tensors, name, (n_real,))
                                 for name in ("shift", "scale")})
        return encoder


def infer_kind(column: np.ndarray, dtype=None, name=0) -> str:
    """A column's kind read from its pandas ``dtype`` (None for a NumPy column) and values.

    A boolean dtype is binary; a category, object or string dtype categorical; numbers
    whose observed values are exactly {0, 1} binary, other numbers real. A NumPy column
    is never read as categorical (its kind must be declared).
    """
    if dtype is not None:
        from pandas.api import types

        if types.is_bool_dtype(dtype):
            return "binary"
        if not types.is_numeric_dtype(dtype):
            return "categorical"
    values = np.unique(_numbers(column, name))
    return "binary" if np.array_equal(values[~np.isnan(values)], [0.0, 1.0]) else "real"


def _declared_kinds(column_types, names: list) -> dict[int, str]:
    """The kinds ``column_types`` declares, by column position ("auto": none)."""
    if isinstance(column_types, str):
        return {}
    if isinstance(column_types, list):
        if len(column_types) != len(names):
            raise ValueError(f"column_types lists {len(column_types)} kinds for {len(names)} "
                             "columns")
        return dict(enumerate(column_types))
    position = {name: j for j, name in enumerate(names)}
    unknown = [key for key in column_types if key not in position]
    if unknown:
        raise ValueError(f"column_types names columns {unknown} that X does not have; "
                         f"its columns are {names}")
    return {position[key]: kind for key, kind in column_types.items()}


def _missing(column: np.ndarray) -> np.ndarray:
    """Where a column of a table is missing: NaN, or None / pandas' NA in an object column."""
    if column.dtype.kind == "f":
        return np.isnan(column)
    if column.dtype.kind != "O":
        return np.zeros(column.shape, dtype=bool)
    pandas = sys.modules.get("pandas")  # pandas' NA can only come from pandas, if loaded
    if pandas is not None:
        return np.asarray(pandas.isna(column), dtype=bool)
    return np.equal(column, None) | (column != column)


def _numbers(column: np.ndarray, name) -> np.ndarray:
    """A binary or real column as float64, NaN where missing."""
    missing = _missing(column)
    try:
        return np.where(missing, np.nan, column).astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"column {name!r}: {exc}; declare a column of categories "
                        "'categorical'") from None


def _categories(column: np.ndarray, name) -> np.ndarray:
    """The sorted distinct observed values of a categorical column."""
    try:
        return np.unique(column[~_missing(column)])
    except TypeError as exc:
        raise TypeError(f"column {name!r}: its categories must be of one type that "
                        f"sorts ({exc})") from None


def _category_index(column: np.ndarray, categories: np.ndarray, name) -> np.ndarray:
    """Each entry's position in ``categories``, NaN where missing; unseen ones refused."""
    missing = _missing(column)
    observed = column[~missing]
    try:
        index = np.minimum(np.searchsorted(categories, observed), len(categories) - 1)
        found = categories[index] == observed
    except TypeError:  # values that do not compare with the categories
        index, found = np.zeros(observed.shape, dtype=np.intp), np.zeros(observed.shape, bool)
    if not np.all(found):
        unseen = list(dict.fromkeys(observed[~found].tolist()))
        raise ValueError(f"Found unknown categories {unseen[:10]} in column {name!r} during "
                         f"transform; the categories seen in training are "
                         f"{categories.tolist()}")
    out = np.full(column.shape, np.nan)
    out[~missing] = index
    return out


def _one_hot(code: torch.Tensor, k: int) -> torch.Tensor:
    """(n, k) one-hot rows of category indices; NaN rows where the index is NaN."""
    missing = code.isnan()
    rows = one_hot(code.nan_to_num(0.0).long(), k).to(code.dtype)
    return rows.masked_fill_(missing[:, None], torch.nan)
