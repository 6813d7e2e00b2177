"""The tabular RBM: binary, categorical and real columns side by side, checked by
enumeration over h and the discrete columns and integration over the real one."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import all_states
from scipy import integrate
from sklearn.utils.estimator_checks import check_estimator

from deepbelief import load
from deepbelief.partition import ais_log_partition, exact_log_partition
from deepbelief.samplers import CD
from deepbelief.tabular import TabularRBM
from deepbelief.training import CDTrainer
from deepbelief.transforms import ColumnEncoder
from deepbelief.units import Bernoulli, Gaussian, Layout, Softmax

pytestmark = pytest.mark.usefixtures("one_thread")

CATEGORIES = np.array(["a", "b", "c"], dtype=object)
LOG_VAR = math.log(0.7)


def encoder(kinds=("binary", "categorical", "real"), shift=1.0, scale=2.0) -> ColumnEncoder:
    """A fitted encoder: the categorical column has categories a, b, c; the real one is
    standardised by (x - shift) / scale."""
    enc = ColumnEncoder(kinds, [CATEGORIES] * kinds.count("categorical"))
    n_real = kinds.count("real")
    enc.load_state_dict({"shift": torch.full((n_real,), shift, dtype=torch.float64),
                         "scale": torch.full((n_real,), scale, dtype=torch.float64)})
    return enc


def tiny(kinds=("binary", "categorical", "real"), seed=0) -> TabularRBM:
    """A float64 model over ``kinds`` with 3 hidden units and σ² = 0.7."""
    enc = encoder(kinds)
    n_units = sum(3 if k == "categorical" else 1 for k in kinds)
    g = torch.Generator().manual_seed(seed)
    W = 0.8 * torch.randn(3, n_units, generator=g, dtype=torch.float64)
    b = 0.5 * torch.randn(n_units, generator=g, dtype=torch.float64)
    c = 0.5 * torch.randn(3, generator=g, dtype=torch.float64)
    return TabularRBM.from_weights(W, b, c, enc, log_var=[LOG_VAR], dtype="float64")


def energy(model: TabularRBM, v: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """E(v, h) of the module docstring for units (binary, a, b, c, z), one per pair of rows."""
    W, b, c = model.W_, model.b_, model.c_
    var = math.exp(LOG_VAR)
    discrete, z = v[:, :4], v[:, 4]
    s = torch.cat([discrete, (z / var)[:, None]], 1)
    return (-(discrete @ b[:4]) + (z - b[4]) ** 2 / (2 * var) - h @ c
            - ((h @ W) * s).sum(1))


def discrete_states() -> torch.Tensor:
    """The 6 states of (binary unit, softmax group of 3)."""
    return torch.tensor([[x, *np.eye(3)[k]] for x in (0.0, 1.0) for k in range(3)],
                        dtype=torch.float64)


# ------------------------------------------------------------------ the model
def test_free_energy_matches_enumeration_over_h():
    model = tiny()
    hs = all_states(3)
    table = np.array([[1, "b", 0.3], [0, "c", 4.0], [1, "a", -2.5]], dtype=object)
    v = model.input_transform_.forward(model._validate(table))
    brute = torch.stack([-torch.logsumexp(-energy(model, row.expand(8, -1), hs), 0)
                         for row in v])
    torch.testing.assert_close(model.model_.free_energy(v), brute)
    np.testing.assert_allclose(model.free_energy(table), brute.numpy())
    torch.testing.assert_close(model.model_.energy(v[:1].expand(8, -1), hs),
                               energy(model, v[:1].expand(8, -1), hs))


def test_each_column_conditional_follows_its_unit_formula():
    model = tiny()
    h = all_states(3)
    p = model.model_.p_v_given_h(h)
    a = model.b_ + h @ model.W_
    torch.testing.assert_close(p[:, 0], torch.sigmoid(a[:, 0]))
    torch.testing.assert_close(p[:, 1:4], torch.softmax(a[:, 1:4], 1))
    torch.testing.assert_close(p[:, 4], a[:, 4])
    # the same from the joint: p(x | h, rest) ∝ exp(-E)
    for row in h:
        hs = row.expand(6, -1)
        states = torch.cat([discrete_states(), torch.full((6, 1), 0.4, dtype=torch.float64)], 1)
        joint = torch.exp(-energy(model, states, hs)).reshape(2, 3)
        p_row = model.model_.p_v_given_h(row[None])[0]
        torch.testing.assert_close(joint[1, 0] / joint[:, 0].sum(), p_row[0])
        torch.testing.assert_close(joint[0] / joint[0].sum(), p_row[1:4])
        # log p(z | h) - log p(z' | h) of N(mean, σ²): the energy's differences in z
        zs = torch.tensor([[1.0, 0, 0, 0, -1.0], [1.0, 0, 0, 0, 2.0]], dtype=torch.float64)
        diff = energy(model, zs[1:], row[None]) - energy(model, zs[:1], row[None])
        normal = torch.distributions.Normal(p_row[4], math.sqrt(math.exp(LOG_VAR)))
        torch.testing.assert_close(-diff[0], normal.log_prob(zs[1, 4]) - normal.log_prob(zs[0, 4]))


def test_exact_log_partition_matches_enumeration_and_integration():
    model = tiny()
    hs = all_states(3)
    pairs_h = hs.repeat_interleave(6, 0)
    pairs_d = discrete_states().repeat(8, 1)

    def unnormalised(z: float) -> float:
        v = torch.cat([pairs_d, torch.full((48, 1), z, dtype=torch.float64)], 1)
        return float(torch.exp(-energy(model, v, pairs_h)).sum())

    z, _ = integrate.quad(unnormalised, -40, 40, epsabs=1e-12, limit=200)
    assert exact_log_partition(model) == pytest.approx(math.log(z), abs=1e-8)
    assert model.log_partition() == pytest.approx(math.log(z), abs=1e-8)


def test_ais_estimate_of_the_mixed_layout_agrees_with_the_exact_log_z():
    model = tiny()
    est = ais_log_partition(model, n_runs=200, betas=np.linspace(0, 1, 1001), base="uniform",
                            seed=0)
    assert est.log_z == pytest.approx(exact_log_partition(model), abs=0.05)


@pytest.mark.parametrize("kinds", [("categorical", "real"), ("binary", "categorical", "real")])
def test_score_samples_is_a_density_of_the_raw_table(kinds):
    model = tiny(kinds)
    grid = np.linspace(-29.0, 31.0, 12001)  # the raw real column: z = (x - 1) / 2
    discrete = [[x, k] for x in (0, 1) for k in CATEGORIES] if "binary" in kinds else \
        [[k] for k in CATEGORIES]
    total = 0.0
    for row in discrete:
        table = np.empty((grid.size, len(kinds)), dtype=object)
        table[:, :-1] = row
        table[:, -1] = grid
        total += integrate.trapezoid(np.exp(model.score_samples(table)), grid)
    assert total == pytest.approx(1.0, abs=1e-6)


# --------------------------------------------------------- the visible layout
def test_layout_steps_each_group_by_its_own_rate():
    """The Gaussian group's columns take its normalised step, the others the plain one."""
    gaussian = Gaussian(torch.zeros(2, dtype=torch.float64))
    layout = Layout(Bernoulli(2), Softmax(3), gaussian)
    ph0 = torch.rand(5, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    sums = layout.step_sums(ph0)
    expected = gaussian.step_rate(0.1, gaussian.step_sums(ph0), 5)
    assert expected < 0.1
    torch.testing.assert_close(layout.step_rate(0.1, sums, 5),
                               torch.tensor([0.1] * 5 + [expected] * 2, dtype=torch.float64))
    plain = Layout(Bernoulli(2), Softmax(3))
    assert plain.step_rate(0.1, plain.step_sums(ph0), 5) == 0.1
    with pytest.raises(ValueError, match="distinct names"):
        Layout(gaussian, Gaussian(torch.zeros(1)))


def test_trainer_steps_a_mixed_layout_by_each_groups_rules():
    """One plain step: W's real columns by the normalised rate, the others by the plain
    one; log σ² by its statistic on the real units."""
    model, before = tiny().model_, tiny().model_  # the same parameters twice
    g = torch.Generator().manual_seed(0)
    v0 = torch.cat([discrete_states(), torch.randn(6, 1, generator=g, dtype=torch.float64)], 1)
    ph0 = before.p_h_given_v(v0)
    v_k = CDTrainer(model, CD(1, sample_visible=True)).step(
        v0, 0.1, 0.0, 0.0, torch.Generator().manual_seed(1))
    ph_k = before.p_h_given_v(v_k)
    rate = 0.1 / 6
    w_rate = before.visible.step_rate(rate, before.visible.step_sums(ph0), 6)
    normalised = rate / (1 + float(ph0.square().sum()) / 6)
    torch.testing.assert_close(w_rate, torch.tensor([rate] * 4 + [normalised],
                                                    dtype=torch.float64))
    torch.testing.assert_close(model.W - before.W, w_rate * (ph0.T @ v0 - ph_k.T @ v_k))
    torch.testing.assert_close(model.b - before.b, w_rate * (v0.sum(0) - v_k.sum(0)))
    gaussian = before.visible.groups[-1]
    stat = gaussian.gradient(v0[:, 4:], ph0, v_k[:, 4:], ph_k, before.W[:, 4:], before.b[4:])
    torch.testing.assert_close(model.visible.groups[-1].log_var,
                               gaussian.log_var + rate * stat["log_var"])


# ------------------------------------------------------------------ the table
@pytest.fixture(scope="module")
def frame():
    """A small mixed table whose columns depend on each other, with missing entries."""
    rng = np.random.default_rng(0)
    n = 600
    cls = rng.choice(["1st", "2nd", "3rd"], n, p=[0.3, 0.2, 0.5])
    survived = (rng.random(n) < np.where(cls == "1st", 0.8, 0.2)).astype(int)
    age = np.select([cls == "1st", cls == "2nd"], [50.0, 30.0], 15.0) + 3 * rng.standard_normal(n)
    df = pd.DataFrame({"survived": survived, "pclass": pd.Categorical(cls),
                       "sex": rng.choice(["female", "male"], n), "age": age},
                      index=pd.RangeIndex(100, 100 + n))
    return df


def with_missing(df: pd.DataFrame, rate: float, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = df.copy()
    for column in ("pclass", "age"):
        out.loc[rng.random(len(out)) < rate, column] = np.nan
    return out


@pytest.fixture(scope="module")
def fitted(frame):
    return TabularRBM(8, n_iter=100, learning_rate_decay=0.03, random_state=0).fit(
        with_missing(frame[:400], 0.2))


def test_encoder_round_trip_gives_the_table_back():
    df = pd.DataFrame({"flag": [True, False, True, False], "n": [0, 1, 1, 0],
                       "kind": pd.Categorical(["x", "y", None, "x"]),
                       "word": ["u", None, "w", "u"], "size": [1.5, np.nan, -2.0, 4.0]})
    model = TabularRBM(2, n_iter=1, random_state=0).fit(df)
    enc = model.input_transform_
    codes = model._validate(df, allow_nan=True)
    units = enc.forward(codes)
    assert units.shape == (4, 2 + 2 + 2 + 1)
    torch.testing.assert_close(units[0, 2:6], torch.tensor([1.0, 0, 1, 0], dtype=units.dtype))
    assert torch.isnan(units[2, 2:4]).all() and torch.isnan(units[1, 4:6]).all()
    assert torch.isnan(units[1, 6]) and not torch.isnan(units[[0, 2, 3], 6]).any()
    observed = units[[0, 2, 3], 6]
    assert float(observed.mean()) == pytest.approx(0.0, abs=1e-12)
    assert float(observed.square().mean()) == pytest.approx(1.0)
    back = model._output(to_numpy(enc.inverse(units)), df)
    pd.testing.assert_frame_equal(back.astype(object).where(df.notna(), None),
                                  df.astype(object).where(df.notna(), None),
                                  check_dtype=False)


def to_numpy(t):
    return t.detach().cpu().numpy()


def test_column_types_are_read_from_dtypes_or_declared(frame):
    df = frame.assign(flag=frame["survived"] == 1, count=frame["survived"] * 2)
    model = TabularRBM(2, n_iter=1, random_state=0).fit(df)
    assert model.column_kinds_ == ["binary", "categorical", "categorical", "real", "binary",
                                   "real"]
    assert [list(c) for c in model.categories_] == [["1st", "2nd", "3rd"], ["female", "male"]]
    assert list(model.feature_names_in_) == list(df.columns)
    declared = TabularRBM(2, n_iter=1, column_types={"survived": "categorical"}).fit(df)
    assert declared.column_kinds_[0] == "categorical"
    arr = np.column_stack([frame["survived"], frame["age"], np.arange(len(frame)) % 3])
    assert TabularRBM(2, n_iter=1).fit(arr).column_kinds_ == ["binary", "real", "real"]
    as_list = TabularRBM(2, n_iter=1, column_types=["binary", "real", "categorical"]).fit(arr)
    assert as_list.column_kinds_[2] == "categorical" and len(as_list.categories_[0]) == 3
    with pytest.raises(ValueError, match="lists 2 kinds for 3 columns"):
        TabularRBM(2, n_iter=1, column_types=["binary", "real"]).fit(arr)
    with pytest.raises(ValueError, match="column kinds must be among"):
        TabularRBM(2, n_iter=1, column_types=["binary", "real", "ordinal"]).fit(arr)


def test_a_category_unseen_in_training_is_refused(fitted, frame):
    new = frame[:5].copy()
    new["sex"] = new["sex"].astype(object)
    new.loc[new.index[2], "sex"] = "unknown"
    with pytest.raises(ValueError, match=r"unknown categories \['unknown'\] in column 'sex'"):
        fitted.transform(new)


def test_binary_values_outside_0_1_are_refused_in_training_only(fitted, frame):
    """A column read as binary from its 0/1 training values may hold a 2 later: a fitted
    model takes it in p(h | v) = σ(c + W s(v)) as a Bernoulli unit's input does."""
    with pytest.raises(ValueError, match="binary column 'survived' has values outside"):
        TabularRBM(2, n_iter=1, column_types={"survived": "binary"}).fit(
            frame.assign(survived=frame["survived"] * 2))
    fresh = TabularRBM(2, n_iter=1, random_state=0).fit(frame)
    with pytest.raises(ValueError, match="binary column 'survived'"):
        fresh.partial_fit(frame[:5].assign(survived=2))
    logit = [torch.logit(torch.as_tensor(fitted.transform(frame[:5].assign(survived=x))),
                         eps=0.0).double() for x in (1, 2)]
    torch.testing.assert_close(logit[1] - logit[0],
                               fitted.W_[:, 0].double().expand(5, -1), atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match="binary column 'survived'"):  # it would come back 1
        fitted.impute(frame[:5].assign(survived=2))


def test_impute_fills_categories_and_reals_and_keeps_the_frame(fitted, frame):
    holes = with_missing(frame[400:], 0.3, seed=2)
    done = fitted.impute(holes)
    assert isinstance(done, pd.DataFrame)
    assert list(done.columns) == list(holes.columns) and done.index.equals(holes.index)
    assert not done.isna().any().any()
    assert set(done["pclass"]) <= {"1st", "2nd", "3rd"}
    ages = frame["age"][:400]
    filled = done["age"][holes["age"].isna()]
    assert filled.between(ages.min(), ages.max()).all()
    observed = holes.notna()
    pd.testing.assert_frame_equal(done.astype(object)[observed], holes.astype(object)[observed],
                                  check_dtype=False)
    # the filled classes follow the age: better than always guessing the commonest class
    truth = frame["pclass"][400:][holes["pclass"].isna()]
    guessed = done["pclass"][holes["pclass"].isna()]
    assert (guessed == truth).mean() > (truth == "3rd").mean() + 0.1


def test_transform_fills_missing_entries_as_in_training(fitted, frame):
    holes = frame[400:420].copy()
    holes.loc[holes.index[::2], "age"] = np.nan  # only real entries: impute gives the units
    steps = fitted.impute_steps
    np.testing.assert_allclose(fitted.transform(holes),
                               fitted.transform(fitted.impute(holes, steps=steps)))
    with pytest.raises(ValueError, match="impute"):
        fitted.score_samples(holes)


def test_training_with_missing_entries_learns(fitted, frame):
    test = frame[400:]
    untrained = TabularRBM(8, n_iter=1, learning_rate=1e-9, random_state=0).fit(
        with_missing(frame[:400], 0.2))
    assert np.isfinite(fitted.history_["reconstruction_error"]).all()
    gain = fitted.score_samples(test).mean() - untrained.score_samples(test).mean()
    assert gain > 0.3


def test_sample_gives_a_frame_of_the_training_columns(fitted):
    rows = fitted.sample(50, steps=20, random_state=0)
    assert list(rows.columns) == ["survived", "pclass", "sex", "age"] and len(rows) == 50
    assert set(rows["pclass"]) <= {"1st", "2nd", "3rd"} and set(rows["survived"]) <= {0.0, 1.0}
    arr = TabularRBM(2, n_iter=1, column_types=["binary", "categorical"], random_state=0).fit(
        np.array([[0, "x"], [1, "y"], [1, "x"]], dtype=object))
    out = arr.sample(4, steps=2, random_state=0)
    assert isinstance(out, np.ndarray) and out.shape == (4, 2) and set(out[:, 1]) <= {"x", "y"}


def test_save_and_load_give_the_same_model(fitted, frame, tmp_path):
    path = tmp_path / "tabular.safetensors"
    fitted.save(path)
    loaded = load(path)
    test = frame[400:450]
    holes = with_missing(test, 0.3)
    assert isinstance(loaded, TabularRBM) and loaded.column_kinds_ == fitted.column_kinds_
    assert list(loaded.feature_names_in_) == list(fitted.feature_names_in_)
    np.testing.assert_array_equal(loaded.transform(holes), fitted.transform(holes))
    np.testing.assert_array_equal(loaded.score_samples(test), fitted.score_samples(test))
    pd.testing.assert_frame_equal(loaded.impute(holes), fitted.impute(holes))
    pd.testing.assert_frame_equal(loaded.sample(5, steps=3, random_state=1),
                                  fitted.sample(5, steps=3, random_state=1))


def test_check_estimator():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(TabularRBM(3, n_iter=2, random_state=0), on_fail=None)
    failed = [(r["check_name"], str(r["exception"])) for r in results if r["status"] == "failed"]
    assert failed == []
    assert sum(r["status"] == "passed" for r in results) >= 40


def test_a_deep_belief_net_stacks_on_its_hidden_units(frame):
    """A DBN whose first layer is the tabular RBM: a DBNClassifier on p(h | v) in a
    pipeline, trained on the table with its NaN; it learns the class from the others."""
    from sklearn.pipeline import make_pipeline

    from deepbelief import DBNClassifier

    X = with_missing(frame, 0.2).drop(columns="pclass")
    y = frame["pclass"].astype(str).to_numpy()
    model = make_pipeline(
        TabularRBM(8, n_iter=60, learning_rate_decay=0.03, random_state=0),
        DBNClassifier((16,), pretrain_epochs=5, finetune_epochs=30, random_state=0))
    model.fit(X[:400], y[:400])
    commonest = np.mean(y[400:] == pd.Series(y[:400]).mode()[0])
    assert model.score(X[400:], y[400:]) > commonest + 0.1  # 0.715 against 0.545
