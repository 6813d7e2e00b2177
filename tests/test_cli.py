"""The train-rbm and evaluate commands, end to end on the digits."""

import re

import pytest

import deepbelief
from deepbelief.cli import main
from deepbelief.partition import exact_log_partition


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
