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

Tables (all offline): scikit-learn's diabetes (442 x 10, unscaled), wine (178 x 13),
breast cancer (569 x 30), digits (1797 x 64 pixels 0-16) and, when the
``palmerpenguins`` package is installed, the penguins' four body measurements
(342 complete rows; stratified by species).

Usage::

    python bench/impute.py [--tables diabetes wine breast_cancer digits penguins]
        [--seeds 1 2 3] [--fractions 0.1 0.3] [--rbm-sizes 128]
        [--out bench/results/impute.jsonl] [--quick]

Each record of ``--out`` (JSON lines) is one table, fraction, seed and method, with
the RMSE in training standard deviations (``rmse``) and in the table's own units
(``rmse_raw``) and the seconds of fit and fill. A new imputer is one entry of the
dict :func:`methods` returns: how to build it for a table and a seed (any object
with ``fit(X)``), and how its fitted model fills an array in; ``Framed`` hands a
model whose ``fit`` and ``impute`` take DataFrames the table's column names, e.g.
``"tabular": Method(lambda t, s: Framed(TabularRBM(random_state=s), t.columns),
rbm_fills())``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.model_selection import train_test_split

from deepbelief import BernoulliRBM, GaussianBernoulliRBM

OUT = Path(__file__).resolve().parent / "results" / "impute.jsonl"
TABLES = ("diabetes", "wine", "breast_cancer", "digits", "penguins")
#: Hidden units of the Gaussian RBM beside its default (256), chosen on seed 0.
CHOSEN_HIDDEN = 128
#: Steps of the Gibbs chains of ``impute`` (its default).
STEPS = 100
N_IMPUTATIONS = 10
QUICK = {"tables": ["wine", "digits"], "seeds": [1], "fractions": [0.3], "n_iter": 5, "steps": 5,
         "rows": 300}


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

    make: Callable[[Table, int], Any]
    fills: dict[str, Fill] = field(default_factory=lambda: {"": transform_fill})
    runs_on: Callable[[Table], bool] = lambda table: True


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
                    "table": table.name, "fraction": fraction, "seed": seed,
                    "method": f"{name} {label}".strip(), "rmse": scaled_rmse(
                        filled, test, mask, np.where(scale > 0, scale, 1.0)),
                    "rmse_raw": scaled_rmse(filled, test, mask, np.ones_like(scale)),
                    "hidden_entries": int(mask.sum()), "fit_s": fit_s, "fill_s": fill_s,
                    "n_train": len(train), "n_test": len(test)})
    return records


# ---------------------------------------------------------------------- report
def summary(records: list[dict],
            figure: Callable[[dict], float]) -> dict[tuple, tuple[float, float]]:
    """Mean and standard deviation over seeds of ``figure``, by (table, fraction, method)."""
    groups: dict[tuple, list[float]] = {}
    for r in records:
        groups.setdefault((r["table"], r["fraction"], r["method"]), []).append(figure(r))
    return {k: (float(np.mean(v)), float(np.std(v))) for k, v in groups.items()}


def markdown(records: list[dict]) -> str:
    """The RMSE table (rows: table x fraction; columns: methods) and the wall-time table."""
    names = list(dict.fromkeys(r["method"] for r in records))
    rows = list(dict.fromkeys((r["table"], r["fraction"]) for r in records))
    rmse = summary(records, lambda r: r["rmse"])
    seconds = summary(records, lambda r: r["fit_s"] + r["fill_s"])
    head = "| table | hidden | " + " | ".join(names) + " |\n|" + " --- |" * (len(names) + 2)
    lines = ["RMSE over the hidden entries (training standard deviations; mean ± std over "
             "seeds), best in bold:", "", head]
    for table, fraction in rows:
        cells = {n: rmse.get((table, fraction, n)) for n in names}
        best = min(v[0] for v in cells.values() if v)
        lines.append(f"| {table} | {fraction:.0%} | " + " | ".join(
            "–" if v is None else (f"**{v[0]:.3f}**" if v[0] == best else f"{v[0]:.3f}")
            + f" ± {v[1]:.3f}" for v in cells.values()) + " |")
    lines += ["", "Wall time of fit + fill (seconds, mean over seeds):", "", head]
    for table, fraction in rows:
        lines.append(f"| {table} | {fraction:.0%} | " + " | ".join(
            "–" if (table, fraction, n) not in seconds else
            f"{seconds[(table, fraction, n)][0]:.2f}" for n in names) + " |")
    return "\n".join(lines)


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
    start, records = time.perf_counter(), []
    for name in args.tables:
        table = load_table(name, rows)
        if table is None:
            print(f"{name}: skipped (pip install palmerpenguins)")
            continue
        for seed in args.seeds:
            records += run_table(table, seed, args.fractions, contenders)
    print(markdown(records))
    print(f"\n{time.perf_counter() - start:.0f} s in all")
    out = args.out or (None if args.quick else OUT)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("".join(json.dumps(r) + "\n" for r in records))
        print(f"raw figures in {out}")


if __name__ == "__main__":
    main()
