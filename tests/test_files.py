"""Reading the user's own data: each form, the scaling rule and every refusal."""

import zipfile

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from deepbelief.files import Data, load_pair, load_path


def _image(path, array) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(array, dtype=np.uint8)).save(path)


@pytest.fixture
def folder(tmp_path):
    """Two classes of 3x4 images, one of them RGB (read as grey)."""
    root = tmp_path / "images"
    rng = np.random.default_rng(0)
    for name, count in (("dog", 2), ("cat", 3)):
        for i in range(count):
            _image(root / name / f"{i}.png", rng.integers(0, 256, (3, 4)))
    _image(root / "dog" / "rgb.jpg", rng.integers(0, 256, (3, 4, 3)))
    (root / "dog" / "notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()
    return root


# ---------------------------------------------------------------- the forms


def test_npy_2d_stays_in_unit_interval(tmp_path):
    X = np.random.default_rng(0).random((5, 3))
    np.save(tmp_path / "x.npy", X)
    data = load_path(tmp_path / "x.npy", binary=True)
    assert isinstance(data, Data) and data.X.dtype == np.float32
    np.testing.assert_allclose(data.X, X, rtol=1e-6)
    assert data.y is None and data.classes is None and data.image_shape is None
    assert data.scale == 1.0


def test_npy_3d_uint8_images_are_flattened_and_divided(tmp_path):
    X = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4) * 10
    np.save(tmp_path / "x.npy", X)
    data = load_path(tmp_path / "x.npy")
    assert data.X.shape == (2, 12) and data.image_shape == (3, 4) and data.scale == 255.0
    np.testing.assert_allclose(data.X, X.reshape(2, -1) / 255, rtol=1e-6)


def test_binary_integers_stay_and_other_values_need_gaussian_units(tmp_path):
    np.save(tmp_path / "bits.npy", np.array([[0, 1], [1, 1]]))
    assert load_path(tmp_path / "bits.npy", binary=True).scale == 1.0
    np.save(tmp_path / "big.npy", np.array([[0, 300], [1, 2]]))
    np.save(tmp_path / "real.npy", np.array([[0.0, 16.0], [1.0, 2.0]]))
    for name in ("big.npy", "real.npy"):
        with pytest.raises(ValueError, match=rf"{name}: values lie in .*--visible gaussian"):
            load_path(tmp_path / name, binary=True)
        data = load_path(tmp_path / name)  # fine for Gaussian visible units, unscaled
        assert data.scale == 1.0 and data.X.max() in (300, 16)


def test_npz_with_and_without_labels(tmp_path):
    X = np.eye(3)
    np.savez(tmp_path / "xy.npz", X=X, y=np.array(["a", "b", "a"]), other=np.zeros(2))
    data = load_path(tmp_path / "xy.npz")
    np.testing.assert_array_equal(data.y, ["a", "b", "a"])
    np.savez(tmp_path / "x.npz", X=X)
    assert load_path(tmp_path / "x.npz").y is None


def test_csv_with_target(tmp_path):
    pd.DataFrame({"a": [0, 128, 255], "b": [1, 2, 3], "kind": ["x", "y", "x"]}).to_csv(
        tmp_path / "t.csv", index=False)
    data = load_path(tmp_path / "t.csv", target="kind")
    assert data.X.shape == (3, 2) and data.scale == 255.0
    np.testing.assert_array_equal(data.y, ["x", "y", "x"])
    pd.DataFrame({"a": [0.5, 0.25], "flag": [True, False], "n": [1, 0]}).to_csv(
        tmp_path / "n.csv", index=False)
    data = load_path(tmp_path / "n.csv", target="n")
    np.testing.assert_allclose(data.X, [[0.5, 1], [0.25, 0]])
    np.testing.assert_array_equal(data.y, [1, 0])


def test_image_folder_is_read_as_imagefolder(folder):
    data = load_path(folder, binary=True)
    assert data.classes == ["cat", "dog"]  # sorted; the hidden folder left out
    np.testing.assert_array_equal(data.y, [0, 0, 0, 1, 1, 1])
    assert data.X.shape == (6, 12) and data.image_shape == (3, 4) and data.scale == 255.0
    expected = np.asarray(Image.open(folder / "cat" / "0.png").convert("L")) / 255
    np.testing.assert_allclose(data.X[0], expected.ravel(), rtol=1e-6)


def test_pair_shares_the_training_scaling(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "train.npy", rng.integers(0, 256, (4, 6)))
    np.save(tmp_path / "test.npy", rng.integers(0, 256, (2, 2, 3)).astype(np.uint8))
    train, test = load_pair(tmp_path / "train.npy", tmp_path / "test.npy", binary=True)
    assert train.scale == test.scale == 255.0 and test.X.shape == (2, 6)
    assert load_pair(tmp_path / "train.npy")[1] is None


# ---------------------------------------------------------------- refusals


def test_missing_path_and_unknown_extension(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.npy: no such file"):
        load_path(tmp_path / "nope.npy")
    (tmp_path / "x.txt").write_text("1,2")
    with pytest.raises(ValueError, match=r"x\.txt: unknown file type '\.txt'"):
        load_path(tmp_path / "x.txt")


def test_object_arrays_are_never_unpickled(tmp_path):
    hostile = np.array([{"a": 1}, None], dtype=object)
    np.save(tmp_path / "obj.npy", hostile, allow_pickle=True)
    with pytest.raises(ValueError, match=r"obj\.npy: not a readable \.npy file without unpickl"):
        load_path(tmp_path / "obj.npy")
    np.savez(tmp_path / "obj.npz", X=hostile.reshape(1, 2))
    with pytest.raises(ValueError, match=r"obj\.npz: array 'X' is not readable without unpickl"):
        load_path(tmp_path / "obj.npz")
    (tmp_path / "p.npy").write_bytes(b"\x80\x04garbage")  # a pickle's first bytes
    with pytest.raises(ValueError, match=r"p\.npy: not a \.npy file .*never loaded"):
        load_path(tmp_path / "p.npy")


@pytest.mark.parametrize("array, message", [
    (np.ones(3), r"the array has shape \(3,\); expected 2-D"),
    (np.ones((1, 2, 2, 2)), r"the array has shape \(1, 2, 2, 2\); expected 2-D"),
    (np.array([["a", "b"]]), r"the array has dtype <U1; the features must be numbers"),
    (np.array([[1 + 2j]]), r"the array has dtype complex128"),
    (np.array([[0.5, np.nan], [np.inf, 0]]), r"2 NaN or infinite value\(s\), the first in row 0"),
    (np.zeros((0, 3)), r"no data"),
])
def test_bad_arrays(tmp_path, array, message):
    np.save(tmp_path / "bad.npy", array)
    with pytest.raises(ValueError, match=r"bad\.npy: " + message):
        load_path(tmp_path / "bad.npy")


def test_bad_npz(tmp_path):
    np.savez(tmp_path / "lower.npz", x=np.eye(2))
    with pytest.raises(ValueError, match=r"lower\.npz: no array 'X' \(it holds: x\)"):
        load_path(tmp_path / "lower.npz")
    np.savez(tmp_path / "short.npz", X=np.eye(3), y=np.arange(2))
    with pytest.raises(ValueError, match=r"short\.npz: y has shape \(2,\)"):
        load_path(tmp_path / "short.npz")
    with zipfile.ZipFile(tmp_path / "broken.npz", "w") as archive:
        archive.writestr("X.npy", b"not an array")
    with pytest.raises(ValueError, match=r"broken\.npz: array 'X' is not readable"):
        load_path(tmp_path / "broken.npz")
    np.savez(tmp_path / "ok.npz", X=np.eye(2))
    with pytest.raises(ValueError, match=r"ok\.npz: a label column .* CSV files only"):
        load_path(tmp_path / "ok.npz", target="y")


def test_bad_csv(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"a": [1, 2], "name": ["p", "q"], "when": ["x", "y"]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"t\.csv: non-numeric column\(s\) name, when"):
        load_path(path)
    with pytest.raises(ValueError, match=r"t\.csv: no column 'label'; the columns are: a, "
                                         r"name, when"):
        load_path(path, target="label")
    pd.DataFrame({"a": [1.0, None, 3.0], "b": [1, 2, 3], "y": [0, 1, None]}).to_csv(
        path, index=False)
    with pytest.raises(ValueError, match=r"t\.csv: missing, NaN or infinite values in "
                                         r"column\(s\) a"):
        load_path(path, target="b")
    with pytest.raises(ValueError, match=r"t\.csv: column 'y' has 1 missing label"):
        load_path(path, target="y")
    path.write_text("a,b\n")
    with pytest.raises(ValueError, match=r"t\.csv: a header row but no data rows"):
        load_path(path)
    path.write_text("")
    with pytest.raises(ValueError, match=r"t\.csv: not a readable CSV file"):
        load_path(path)


def test_csv_without_pandas(tmp_path, monkeypatch):
    import sys

    (tmp_path / "t.csv").write_text("a\n1\n")
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now fails
    with pytest.raises(ImportError, match=r"needs pandas: pip install 'deepbelief\[tables\]'"):
        load_path(tmp_path / "t.csv")


def test_bad_folders(tmp_path, folder):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"empty: no class folders"):
        load_path(tmp_path / "empty")
    (folder / "bird").mkdir()
    with pytest.raises(ValueError, match=r"bird: no images \(files ending in \.bmp"):
        load_path(folder)
    (folder / "bird").rmdir()
    _image(folder / "dog" / "wide.png", np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"images: images of different sizes: .*cat/0\.png is "
                                         r"4x3, .*dog/wide\.png is 5x3"):
        load_path(folder)
    (folder / "dog" / "wide.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match=r"dog/wide\.png: not a readable image"):
        load_path(folder)
    with pytest.raises(ValueError, match=r"images: a label column .* CSV files only"):
        load_path(folder, target="kind")


def test_pairs_that_do_not_match(tmp_path):
    np.save(tmp_path / "train.npy", np.zeros((3, 4), dtype=np.uint8) + 200)
    np.save(tmp_path / "narrow.npy", np.zeros((3, 5), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"narrow\.npy: 5 features, but the training data "
                                         r".*train\.npy have 4"):
        load_pair(tmp_path / "train.npy", tmp_path / "narrow.npy")
    np.save(tmp_path / "floats.npy", np.full((3, 4), 0.5))
    with pytest.raises(ValueError, match=r"floats\.npy: would be divided by 1, but the "
                                         r"training data .*train\.npy are divided by 255"):
        load_pair(tmp_path / "train.npy", tmp_path / "floats.npy")
    with pytest.raises(FileNotFoundError, match=r"gone\.npy"):
        load_pair(tmp_path / "train.npy", tmp_path / "gone.npy")
