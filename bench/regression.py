"""DBNRegressor with its defaults against scikit-learn's regressors, on real and generated data.

Tables:

- ``friedman1``: scikit-learn's ``make_friedman1(3000, noise=0.5)`` (10 inputs in
  [0, 1], 5 of them used through sin(π x1 x2), (x3 - 0.5)², x4 and x5);
- ``cars``: the 392 complete rows of the car models of 1970-1982 shipped by
  ``vega_datasets`` (miles per gallon from cylinders, displacement, horsepower,
  weight, acceleration, model year and origin, one-hot): real data whose target
  bends with weight and horsepower;
- ``diabetes``: scikit-learn's 442 patients (disease progression from 10
  measurements): real data, close to linear.

Each table is split 70 / 30 at random (``--seeds`` splits). Every model sees
the same split, inputs scaled inside a pipeline fitted on the training rows:
``MinMaxScaler`` before ``DBNRegressor()`` (binary visible units take values in
[0, 1]; the held-out rows may leave it slightly, which a fitted net accepts),
``StandardScaler`` before ``MLPRegressor`` and ``Ridge``, none before the
gradient-boosted trees. ``DBNRegressor(visible_units="gaussian")`` takes the
standardised inputs instead. Prints the held-out R² (mean ± std over the
splits) and the fit time of each model; writes one JSON line per fit to
``--out``. Usage::

    python bench/regression.py [--tables friedman1 cars diabetes] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.datasets import load_diabetes, make_friedman1
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from deepbelief import DBNRegressor

RESULTS = Path(__file__).resolve().parent / "results" / "regression.jsonl"


def friedman1() -> tuple[np.ndarray, np.ndarray]:
    return make_friedman1(3000, noise=0.5, random_state=0)


def cars() -> tuple[np.ndarray, np.ndarray]:
    """The complete rows of ``vega_datasets``' cars: 9 inputs (origin one-hot), mpg."""
    import pandas as pd
    from vega_datasets import local_data

    df = local_data.cars().dropna()
    numeric = df[["Cylinders", "Displacement", "Horsepower", "Weight_in_lbs",
                  "Acceleration"]].astype(float)
    numeric["Year"] = pd.to_datetime(df["Year"]).dt.year.astype(float)
    X = pd.concat([numeric, pd.get_dummies(df["Origin"], dtype=float)], axis=1)
    return X.to_numpy(), df["Miles_per_Gallon"].to_numpy(dtype=float)


def diabetes() -> tuple[np.ndarray, np.ndarray]:
    return load_diabetes(return_X_y=True)


TABLES: dict[str, Callable[[], tuple[np.ndarray, np.ndarray]]] = {
    "friedman1": friedman1, "cars": cars, "diabetes": diabetes}


def models(seed: int) -> dict[str, object]:
    """Each model to compare, seeded with ``seed``; one entry each."""
    return {
        "DBNRegressor()": make_pipeline(MinMaxScaler(), DBNRegressor(random_state=seed)),
        "DBNRegressor(gaussian)": make_pipeline(
            StandardScaler(), DBNRegressor(visible_units="gaussian", random_state=seed)),
        "MLPRegressor()": make_pipeline(StandardScaler(), MLPRegressor(random_state=seed)),
        "MLPRegressor(max_iter=2000)": make_pipeline(
            StandardScaler(), MLPRegressor(max_iter=2000, random_state=seed)),
        "Ridge()": make_pipeline(StandardScaler(), Ridge()),
        "HistGradientBoosting()": HistGradientBoostingRegressor(random_state=seed),
    }


def run(table: str, seed: int, only: list[str] | None) -> list[dict]:
    """Every model's held-out R² and fit seconds on one split of ``table``."""
    X, y = TABLES[table]()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3,
                                                        random_state=seed)
    rows = []
    for name, model in models(seed).items():
        if only and name not in only:
            continue
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        rows.append({"table": table, "seed": seed, "model": name, "seconds": seconds,
                     "r2": float(model.score(X_test, y_test))})
        print(f"  {table} seed {seed} {name}: R² {rows[-1]['r2']:.4f} in {seconds:.1f} s",
              flush=True)
    return rows


def table(rows: list[dict]) -> str:
    """Markdown: one row per model, a column per table, R² mean ± std and mean seconds."""
    tables = list(dict.fromkeys(r["table"] for r in rows))
    names = list(dict.fromkeys(r["model"] for r in rows))
    lines = ["| model | " + " | ".join(tables) + " |", "| --- |" + " --- |" * len(tables)]
    for name in names:
        cells = []
        for t in tables:
            got = [r for r in rows if r["model"] == name and r["table"] == t]
            r2 = np.array([r["r2"] for r in got])
            secs = np.mean([r["seconds"] for r in got])
            cells.append(f"{r2.mean():.3f} ± {r2.std():.3f} ({secs:.1f} s)")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tables", nargs="+", default=list(TABLES), choices=list(TABLES))
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--models", nargs="+", help="only these models (names as printed)")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args()
    rows = [r for t in args.tables for s in args.seeds for r in run(t, s, args.models)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    print(table(rows))


if __name__ == "__main__":
    main()
