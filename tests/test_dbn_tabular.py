"""Deep belief nets over a table (``visible_units="tabular"``): a TabularRBM first layer,
its units fed to the net, and backprop through it."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import r2_score
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils.estimator_checks import check_estimator
from torch.utils.data import DataLoader, TensorDataset

from deepbelief import DBN, DBNClassifier, DBNRegressor, TabularRBM, load

pytestmark = pytest.mark.usefixtures("one_thread")


def passengers(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """A table in the Titanic's shape whose survival depends on class, sex and age."""
    rng = np.random.default_rng(seed)
    pclass = rng.choice(["1st", "2nd", "3rd"], size=n)
    sex = rng.choice(["female", "male"], size=n)
    grade = (pclass == "2nd") + 2 * (pclass == "3rd")
    age = rng.normal(45 - 6 * grade, 8)
    fare = np.exp(rng.normal(4.5 - 0.9 * grade, 0.4))
    alone = rng.random(n) < 0.4
    logit = -1.2 * (grade - 1) + 2.5 * (sex == "female") - 0.8 - 0.05 * (age - 35)
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "survived", "died")
    table = pd.DataFrame({"pclass": pd.Categorical(pclass), "sex": sex, "age": age,
                          "fare": fare, "alone": alone})
    return table, y


@pytest.fixture(scope="module")
def data():
    return passengers()


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return DBNClassifier((16, 16), visible_units="tabular", finetune_epochs=30,
                         validation_fraction=0.0, random_state=0).fit(X[:400], y[:400])


def units(X: pd.DataFrame, encoder) -> np.ndarray:
    """Binary, one-hot categorical (categories sorted) and real columns standardised by
    ``encoder``'s shift and scale, in the layout's order: written out by hand."""
    shift, scale = (t.numpy() for t in (encoder.standardize.shift, encoder.standardize.scale))
    real = (X[["age", "fare"]].to_numpy() - shift) / scale
    return np.column_stack([X["alone"].to_numpy(float),
                            pd.get_dummies(X["pclass"]).to_numpy(float),
                            pd.get_dummies(X["sex"]).to_numpy(float), real])


def test_the_first_layer_is_a_tabular_rbm_and_the_net_starts_from_it(data):
    X, y = data
    model = DBNClassifier((6,), visible_units="tabular", finetune_epochs=0,
                          random_state=0).fit(X, y)
    rbm = model.rbms_[0]
    assert isinstance(rbm, TabularRBM)
    assert model._encoder.kinds == ["categorical", "categorical", "real", "real", "binary"]
    v = torch.as_tensor(units(X, model._encoder))
    W = rbm.W_.clone()
    W[:, -2:] /= torch.as_tensor(rbm.variance_)   # s(v) = z / σ² for the real columns
    expected = torch.sigmoid(v @ W.T + rbm.c_)
    np.testing.assert_allclose(model.transform(X), expected.numpy(), rtol=1e-6, atol=1e-7)


def test_backprop_reaches_the_first_layer(data, fitted):
    X, y = data
    start = DBNClassifier((16, 16), visible_units="tabular", finetune_epochs=0,
                          random_state=0).fit(X[:400], y[:400])
    moved = (fitted.net_[1].weight - start.net_[1].weight).abs().max()
    assert float(moved.detach()) > 1e-3


def test_it_learns_the_table(data, fitted):
    X, y = data
    encoder = OneHotEncoder(sparse_output=False).fit(X[["pclass", "sex"]])

    def encoded(frame):
        return np.column_stack([encoder.transform(frame[["pclass", "sex"]]),
                                frame[["age", "fare", "alone"]].to_numpy(float)])

    baseline = LogisticRegression(max_iter=2000).fit(encoded(X[:400]), y[:400])
    assert fitted.score(X[400:], y[400:]) >= baseline.score(encoded(X[400:]), y[400:]) - 0.05
    assert fitted.score(X[400:], y[400:]) > 0.7


def test_to_torch_takes_one_hot_columns_and_real_values_as_given(data, fitted):
    X, _ = data
    v = units(X[400:], fitted._encoder)
    raw = np.column_stack([v[:, :-2], X[["age", "fare"]].to_numpy()[400:]])
    with torch.no_grad():
        p = torch.softmax(fitted.to_torch()(torch.as_tensor(raw)), 1).numpy()
    np.testing.assert_allclose(p, fitted.predict_proba(X[400:]), rtol=1e-6, atol=1e-8)


def test_file_round_trip_keeps_the_columns(data, fitted, tmp_path):
    X, _ = data
    fitted.save(tmp_path / "m.safetensors")
    back = load(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(back.feature_names_in_, X.columns)
    np.testing.assert_allclose(back.predict_proba(X[400:]), fitted.predict_proba(X[400:]))
    assert back._encoder.categories[1].tolist() == ["female", "male"]


def test_an_array_with_declared_kinds(data):
    X, y = data
    codes = np.column_stack([X["pclass"].cat.codes, X["age"], X["alone"]])
    model = DBNClassifier((8,), visible_units="tabular", column_types=["categorical", "real",
                                                                       "binary"],
                          finetune_epochs=5, random_state=0).fit(codes, y)
    assert model._encoder.group_sizes == (1, [3], 1)
    assert model.predict(codes[:5]).shape == (5,)


def test_a_regressor_over_a_table():
    rng = np.random.default_rng(1)
    n = 800
    group = rng.choice(["a", "b", "c"], size=n)
    x = rng.normal(size=n)
    level = np.select([group == "a", group == "b"], [-1.0, 0.5], 2.0)
    y = level + np.sin(2 * x) + 0.1 * rng.normal(size=n)
    X = pd.DataFrame({"group": group, "x": x})
    # 5 updates an epoch: the default patience of 50 epochs stops on a plateau near 0.7
    model = DBNRegressor((32, 32), visible_units="tabular", n_iter_no_change=300,
                         random_state=0).fit(X[:600], y[:600])
    assert r2_score(y[600:], model.predict(X[600:])) > 0.9


@pytest.mark.parametrize("bad, message", [
    ("nan", "TabularRBM"),
    ("category", "unknown categories"),
])
def test_bad_tables_are_refused(data, fitted, bad, message):
    X, _ = data
    X = X[400:].copy()
    if bad == "nan":
        X.loc[X.index[0], "age"] = np.nan
    else:
        X["sex"] = X["sex"].replace("male", "other")
    with pytest.raises(ValueError, match=message):
        fitted.predict(X)


def test_training_data_is_checked(data):
    X, y = data
    model = DBNClassifier((4,), visible_units="tabular", finetune_epochs=1, random_state=0)
    bad = X.assign(alone=X["alone"].astype(float))
    bad.loc[bad.index[0], "alone"] = 2.0
    with pytest.raises(ValueError, match="outside"):
        model.set_params(column_types={"alone": "binary"}).fit(bad, y)
    with pytest.raises(ValueError, match="TabularRBM"):
        model.fit(X.assign(age=np.where(X.index == 3, np.nan, X["age"])), y)
    with pytest.raises(TypeError, match="stream"):
        model.fit(DataLoader(TensorDataset(torch.rand(20, 5), torch.zeros(20)), batch_size=10))


def test_the_generative_dbn_does_not_take_tables(data):
    X, y = data
    with pytest.raises(ValueError, match="visible_units"):
        DBN((4,), visible_units="tabular").fit(X, y)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore")
def test_check_estimator():
    """Numeric arrays are tables of real (or 0/1: binary) columns."""
    model = DBNClassifier((16,), visible_units="tabular", pretrain_epochs=10,
                          finetune_epochs=50, batch_size=10, learning_rate=1e-2,
                          learning_rate_schedule="cosine", validation_fraction=0.0,
                          rbm_params={"batch_size": 10}, random_state=0)
    check_estimator(model)


@pytest.mark.parametrize("columns", [
    None,
    {"kinds": ["real"]},
    {"kinds": ["categorical", "categorical", "real", "real", "binary"], "categories": [],
     "feature_names": None},
    {"kinds": ["sideways"] * 5, "categories": [], "feature_names": None},
])
def test_a_file_with_bad_columns_is_refused(fitted, tmp_path, columns):
    from test_io import refused_after_rewrite

    refused_after_rewrite(fitted, tmp_path / "m.safetensors", "columns|column kinds",
                          extra={"columns": columns})
