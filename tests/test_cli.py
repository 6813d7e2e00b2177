"""The train-rbm and evaluate commands, end to end on the digits."""

import re

import pytest

import deepbelief
from deepbelief.cli import main
from deepbelief.partition import exact_log_partition, log_likelihood


def _number(pattern: str, text: str) -> float:
    match = re.search(pattern, text)
    assert match, text
    return float(match.group(1))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "rbm.safetensors"
    assert main(["train-rbm", "--dataset", "digits", "--hidden", "10", "--epochs", "3",
                 "--persistent", "--centering", "0.01", "--learning-rate", "0.05",
                 "--momentum", "0", "--learning-rate-decay", "0.1",
                 "--out", str(out)]) == 0
    return out


def test_train_rbm_saves_a_centred_pcd_model(trained):
    rbm = deepbelief.load(trained)
    assert rbm.W_.shape == (10, 64)
    assert rbm.sampler == "pcd" and rbm.centering == 0.01 and rbm.n_epochs_ == 3
    assert rbm.momentum == rbm.initial_momentum == 0 and rbm.learning_rate_decay == 0.1


def test_evaluate_exact_and_ais_agree(trained, capsys):
    assert main(["evaluate", str(trained), "--dataset", "digits", "--exact"]) == 0
    exact_text = capsys.readouterr().out
    log_z = _number(r"log Z = (\S+) \(exact\)", exact_text)
    assert log_z == pytest.approx(exact_log_partition(deepbelief.load(trained)), abs=1e-3)
    exact_ll = _number(r"log-likelihood = (\S+) nats", exact_text)

    assert main(["evaluate", str(trained), "--dataset", "digits", "--runs", "20"]) == 0
    ais_text = capsys.readouterr().out
    assert _number(r"log Z = (\S+)\s+\(AIS", ais_text) == pytest.approx(log_z, abs=0.2)
    assert _number(r"log-likelihood = (\S+) nats", ais_text) == pytest.approx(exact_ll, abs=0.2)
    assert "reverse-AIS log Z" in ais_text


def test_train_rbm_with_other_samplers(tmp_path, capsys):
    out = tmp_path / "pt.safetensors"
    assert main(["train-rbm", "--dataset", "digits", "--hidden", "6", "--epochs", "1",
                 "--sampler", "pt", "--temperatures", "3", "--min-beta", "0.6",
                 "--out", str(out)]) == 0
    rbm = deepbelief.load(out)
    assert (rbm.sampler, rbm.n_temperatures, rbm.min_beta) == ("pt", 3, 0.6)
    assert main(["train-rbm", "--dataset", "digits", "--hidden", "6", "--epochs", "1",
                 "--sampler", "fpcd", "--learning-rate", "0.05", "--out", str(out)]) == 0
    rbm = deepbelief.load(out)
    assert (rbm.sampler, rbm.learning_rate, rbm.fast_learning_rate) == ("fpcd", 0.05, None)
    assert rbm._make_sampler().fast_learning_rate == 0.05  # the learning rate by default
    assert main(["train-rbm", "--dataset", "digits", "--visible", "gaussian", "--sampler", "pt",
                 "--out", str(out)]) == 2
    assert "binary visible units only" in capsys.readouterr().err


def test_evaluate_refuses_a_classifier_file(tmp_path, capsys):
    X, y = deepbelief.datasets.load_digits()
    clf = deepbelief.DBNClassifier(hidden_layer_sizes=(8,), pretrain_epochs=1,
                                   finetune_epochs=1).fit(X[:100], y[:100])
    path = tmp_path / "clf.safetensors"
    clf.save(path)
    assert main(["evaluate", str(path), "--dataset", "digits"]) == 2
    assert "does not hold an RBM" in capsys.readouterr().err


def test_gaussian_rbm_trains_and_evaluates_exactly(tmp_path, capsys):
    out = tmp_path / "grbm.safetensors"
    assert main(["train-rbm", "--dataset", "digits", "--visible", "gaussian", "--hidden", "8",
                 "--epochs", "20", "--out", str(out)]) == 0
    rbm = deepbelief.load(out)
    assert isinstance(rbm, deepbelief.GaussianBernoulliRBM) and rbm.W_.shape == (8, 64)
    capsys.readouterr()
    assert main(["evaluate", str(out), "--dataset", "digits", "--exact"]) == 0
    text = capsys.readouterr().out
    assert _number(r"log Z = (\S+) \(exact\)", text) == pytest.approx(
        exact_log_partition(rbm), abs=1e-3)
    X, _ = deepbelief.cli._common.load_split(
        type("Args", (), {"dataset": "digits", "binarize": None, "seed": 0})(), "test")
    assert _number(r"log-likelihood = (\S+) nats", text) == pytest.approx(
        rbm.score_samples(X).mean(), abs=1e-3)


def test_train_dbn_with_gaussian_visible_units(tmp_path, capsys):
    out = tmp_path / "gdbn.safetensors"
    assert main(["train-dbn", "--dataset", "digits", "--visible", "gaussian", "--layers", "64",
                 "--pretrain-epochs", "20", "--finetune-epochs", "60", "--out", str(out)]) == 0
    model = deepbelief.load(out)
    assert model.visible_units == "gaussian"
    assert _number(r"test error: (\S+)%", capsys.readouterr().out) < 20


# ------------------------------------------------------------ --data: the user's own files


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    """The digits as 8-bit files: .npy images, .npz and .csv with labels, a folder per class."""
    import numpy as np
    import pandas as pd
    from PIL import Image

    root = tmp_path_factory.mktemp("own")
    X, y = deepbelief.datasets.load_digits()
    pixels = np.rint(X * 255).astype(np.uint8)
    np.save(root / "train.npy", pixels[:200].reshape(-1, 8, 8))
    np.save(root / "test.npy", pixels[200:300])
    np.save(root / "narrow.npy", pixels[:10, :60])
    np.save(root / "real.npy", X[:20] * 16.0)
    table = pd.DataFrame(pixels[:200], columns=[f"p{i}" for i in range(64)])
    table["digit"] = [f"d{v}" for v in y[:200]]
    table.to_csv(root / "train.csv", index=False)
    for i in range(30):
        path = root / "images" / ["zero", "one", "two"][y[i] % 3] / f"{i}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels[i].reshape(8, 8)).save(path)
    (root / "mixed" / "a").mkdir(parents=True)
    Image.new("L", (8, 8)).save(root / "mixed" / "a" / "small.png")
    Image.new("L", (9, 8)).save(root / "mixed" / "a" / "wide.png")
    return root, pixels / 255


def test_train_rbm_and_evaluate_an_npy_file(own, tmp_path, capsys):
    root, X = own
    out, filters = tmp_path / "rbm.safetensors", tmp_path / "filters.png"
    assert main(["train-rbm", "--data", str(root / "train.npy"), "--test-data",
                 str(root / "test.npy"), "--hidden", "6", "--epochs", "2", "--out", str(out),
                 "--filters", str(filters)]) == 0
    rbm = deepbelief.load(out)
    assert rbm.W_.shape == (6, 64) and len(rbm.history_["free_energy_gap"]) == 2
    assert filters.exists()
    capsys.readouterr()
    log_z = exact_log_partition(rbm)
    for data, rows in ([str(root / "test.npy")], slice(200, 300)), (
            [str(root / "train.csv"), "--target", "digit"], slice(0, 200)), (
            [str(root / "images")], slice(0, 30)):  # the mean: the folder's order is its own
        assert main(["evaluate", str(out), "--data", *data, "--exact"]) == 0
        text = capsys.readouterr().out
        assert f"log-likelihood of {data[0]} = " in text
        assert _number(r"log-likelihood of \S+ = (\S+) nats", text) == pytest.approx(
            log_likelihood(rbm, X[rows].astype("float32"), log_z=log_z), abs=1e-3)


def test_train_dbn_on_a_csv_file_with_target(own, tmp_path, capsys):
    root, _ = own
    out = tmp_path / "dbn.safetensors"
    assert main(["train-dbn", "--data", str(root / "train.csv"), "--target", "digit",
                 "--layers", "8", "--pretrain-epochs", "1", "--finetune-epochs", "1",
                 "--out", str(out)]) == 0
    assert "training error:" in capsys.readouterr().out  # no --test-data: nothing held out
    assert deepbelief.load(out).classes_.tolist() == [f"d{v}" for v in range(10)]
    assert (tmp_path / "dbn_filters.png").exists() and (tmp_path / "dbn_history.png").exists()


def test_train_dbn_on_an_image_folder(own, tmp_path, capsys):
    root, _ = own
    out = tmp_path / "dbn.safetensors"
    assert main(["train-dbn", "--data", str(root / "images"), "--test-data",
                 str(root / "images"), "--layers", "8", "--pretrain-epochs", "1",
                 "--finetune-epochs", "1", "--out", str(out)]) == 0
    assert "test error:" in capsys.readouterr().out
    assert deepbelief.load(out).classes_.tolist() == ["one", "two", "zero"]


@pytest.mark.parametrize("argv, named, message", [
    (["train-rbm", "--data", "real.npy"], "real.npy", "--visible gaussian"),
    (["train-rbm", "--data", "train.npy", "--test-data", "narrow.npy"], "narrow.npy",
     "60 features, but the training data"),
    (["train-rbm", "--data", "missing.npy"], "missing.npy", "no such file"),
    (["train-rbm", "--data", "train.csv", "--target", "label"], "train.csv",
     "no column 'label'"),
    (["train-rbm", "--data", "train.csv"], "train.csv", "non-numeric column(s) digit"),
    (["train-dbn", "--data", "train.npy"], "train.npy", "no labels; train-dbn needs them"),
    (["train-dbn", "--data", "mixed"], "mixed", "images of different sizes"),
])
def test_unreadable_data_fail_before_anything_is_written(own, tmp_path, capsys, argv, named,
                                                        message):
    root, _ = own
    argv = [str(root / a) if a.endswith((".npy", ".csv")) or a == "mixed" else a for a in argv]
    out = tmp_path / "out"
    writes = ["--out", str(out / "m.safetensors"), "--checkpoint-dir", str(out / "ck")]
    writes += ["--filters", str(out / "f.png")] if argv[0] == "train-rbm" else []
    writes += ["--log-dir", str(out / "logs")]
    assert main(argv + writes) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"deepbelief {argv[0]}: error: ") and named in err and message in err
    assert not out.exists()


def test_evaluate_refuses_a_file_of_other_features(own, trained, capsys):
    root, _ = own
    assert main(["evaluate", str(trained), "--data", str(root / "narrow.npy")]) == 2
    assert "narrow.npy: 60 features, but" in capsys.readouterr().err


def test_data_and_dataset_exclude_each_other(own, capsys):
    root, _ = own
    with pytest.raises(SystemExit) as exit_:
        main(["train-rbm", "--dataset", "digits", "--data", str(root / "train.npy")])
    assert exit_.value.code == 2
    assert "not allowed with argument --dataset" in capsys.readouterr().err
    assert main(["train-rbm", "--dataset", "digits", "--target", "digit"]) == 2
    assert "--target goes with --data" in capsys.readouterr().err


def test_a_csv_file_without_pandas_is_a_clear_error(own, tmp_path, capsys, monkeypatch):
    import sys

    root, _ = own
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now fails
    assert main(["train-rbm", "--data", str(root / "train.csv"), "--target", "digit",
                 "--out", str(tmp_path / "m.safetensors")]) == 2
    assert "needs pandas: pip install 'deepbelief[tables]'" in capsys.readouterr().err
    assert not (tmp_path / "m.safetensors").exists()


@pytest.mark.parametrize("command, options, tag", [
    ("train-rbm", ["--hidden", "6", "--epochs", "2"], "rbm/reconstruction_error"),
    ("train-dbn", ["--layers", "8", "--pretrain-epochs", "1", "--finetune-epochs", "2"],
     "finetune/validation_accuracy"),
])
def test_log_dir_writes_each_epoch_to_tensorboard(tmp_path, command, options, tag):
    event_accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator")
    logs = tmp_path / "logs"
    assert main([command, "--dataset", "digits", *options, "--out",
                 str(tmp_path / "m.safetensors"), "--log-dir", str(logs)]) == 0
    events = event_accumulator.EventAccumulator(str(logs))
    events.Reload()
    assert [event.step for event in events.Scalars(tag)] == [1, 2]
