"""Tests of the data set loaders and the IDX reader."""

from __future__ import annotations

import gzip
import io
import re
import shutil
import struct
import tempfile
import urllib.error
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepbelief import datasets
from deepbelief.datasets import (
    DatasetNotAvailableError,
    get_data_home,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    read_idx,
)

MNIST_DIR = Path("/work/shared/data/mnist")
MNIST_FILES = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]
TEST_FILES = MNIST_FILES[2:]


@pytest.fixture(scope="module")
def mnist_dir() -> Path:
    if not all((MNIST_DIR / name).is_file() for name in MNIST_FILES):
        pytest.skip(f"official MNIST files not found in {MNIST_DIR}")
    return MNIST_DIR


@pytest.fixture(scope="module")
def mnist_test(mnist_dir):
    return load_mnist("test", data_dir=mnist_dir, download=False)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Any real network access in these tests is a bug."""

    def refuse(url, *args, **kwargs):
        raise AssertionError(f"unexpected network access to {url}")

    monkeypatch.setattr("urllib.request.urlopen", refuse)


def idx_bytes(type_code: int, dims: tuple[int, ...], payload: bytes) -> bytes:
    header = bytes([0, 0, type_code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)
    return header + payload


def write(path: Path, data: bytes, compress: bool) -> Path:
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


# ---------------------------------------------------------------------------
# load_digits


def test_load_digits_scaled_float32_with_int64_labels():
    X, y = load_digits()
    assert X.shape == (1797, 64)
    assert X.dtype == np.float32
    assert y.shape == (1797,)
    assert y.dtype == np.int64
    assert X.min() == 0.0
    assert X.max() == 1.0
    assert set(np.unique(y)) == set(range(10))
    # Pixel counts are integers 0..16, so every value is a multiple of 1/16.
    np.testing.assert_allclose(X * 16, np.round(X * 16), atol=1e-5)


# ---------------------------------------------------------------------------
# Real MNIST


@pytest.mark.parametrize(
    ("split", "n", "first_labels"),
    [
        ("train", 60000, [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]),
        ("test", 10000, [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]),
    ],
)
def test_load_mnist_shapes_dtypes_ranges(mnist_dir, split, n, first_labels):
    X, y = load_mnist(split, data_dir=mnist_dir, download=False)
    assert X.shape == (n, 784)
    assert X.dtype == np.float32
    assert y.shape == (n,)
    assert y.dtype == np.int64
    assert X.min() == 0.0
    assert X.max() == 1.0
    assert 0.12 < X.mean() < 0.14
    np.testing.assert_allclose(X[:500] * 255, np.round(X[:500] * 255), atol=1e-3)
    assert list(y[:10]) == first_labels
    assert np.array_equal(np.unique(y), np.arange(10))


def test_threshold_binarisation(mnist_dir, mnist_test):
    X_gray, y_gray = mnist_test
    X, y = load_mnist("test", data_dir=mnist_dir, binarize="threshold", download=False)
    assert X.dtype == np.float32
    assert set(np.unique(X)) == {0.0, 1.0}
    assert np.array_equal(X, (X_gray > 0.5).astype(np.float32))
    assert np.array_equal(y, y_gray)


def test_stochastic_binarisation_is_reproducible_binary_and_unbiased(mnist_dir, mnist_test):
    X_gray, _ = mnist_test
    X1, _ = load_mnist("test", data_dir=mnist_dir, binarize="stochastic", seed=3, download=False)
    X2, _ = load_mnist("test", data_dir=mnist_dir, binarize="stochastic", seed=3, download=False)
    X3, _ = load_mnist("test", data_dir=mnist_dir, binarize="stochastic", seed=4, download=False)
    assert X1.dtype == np.float32
    assert set(np.unique(X1)) == {0.0, 1.0}
    assert np.array_equal(X1, X2)
    assert not np.array_equal(X1, X3)
    # 7.84e6 Bernoulli draws: the standard error of the mean is below 1.5e-4.
    assert abs(X1.mean() - X_gray.mean()) < 2e-3
    assert np.all(X1[X_gray == 0.0] == 0.0)
    assert np.all(X1[X_gray == 1.0] == 1.0)
    # Pixels of intermediate gray are genuinely sampled, not thresholded.
    mid = (X_gray > 0.3) & (X_gray < 0.7)
    assert 0.3 < X1[mid].mean() < 0.7
    assert not np.array_equal(X1[mid], (X_gray[mid] > 0.5).astype(np.float32))


def test_raw_uncompressed_files_are_read(mnist_dir, mnist_test, tmp_path):
    for name in TEST_FILES:
        with gzip.open(mnist_dir / name) as src, open(tmp_path / name[:-3], "wb") as dst:
            shutil.copyfileobj(src, dst)
    X, y = load_mnist("test", data_dir=tmp_path, download=False)
    assert np.array_equal(X, mnist_test[0])
    assert np.array_equal(y, mnist_test[1])


def test_cache_dir_from_environment(mnist_dir, mnist_test, tmp_path, monkeypatch):
    (tmp_path / "mnist").mkdir()
    for name in TEST_FILES:
        (tmp_path / "mnist" / name).symlink_to(mnist_dir / name)
    monkeypatch.setenv("DEEPBELIEF_DATA", str(tmp_path))
    assert get_data_home() == tmp_path
    X, y = load_mnist("test", download=False)
    assert np.array_equal(X, mnist_test[0])
    assert np.array_equal(y, mnist_test[1])
    # Fashion-MNIST has its own subdirectory, so MNIST files never stand in for it.
    with pytest.raises(DatasetNotAvailableError, match="fashion-mnist"):
        load_fashion_mnist("test", download=False)


def test_default_cache_dir(monkeypatch):
    monkeypatch.delenv("DEEPBELIEF_DATA", raising=False)
    assert get_data_home() == Path.home() / ".cache" / "deepbelief"


# ---------------------------------------------------------------------------
# Argument checks and consistency checks


@pytest.mark.parametrize(
    "kwargs",
    [
        {"split": "validation"},
        {"split": "TRAIN"},
        {"binarize": "bernoulli"},
        {"binarize": True},
        {"binarize": "stochastic", "seed": -1},
        {"binarize": "stochastic", "seed": 1.5},
    ],
)
@pytest.mark.parametrize("loader", [load_mnist, load_fashion_mnist])
def test_invalid_arguments(loader, kwargs, tmp_path):
    with pytest.raises(ValueError):
        loader(data_dir=tmp_path, download=False, **kwargs)


def test_wrong_image_shape_is_rejected(tmp_path):
    write(tmp_path / "t10k-images-idx3-ubyte", idx_bytes(0x08, (2, 27, 27), bytes(2 * 729)), False)
    write(tmp_path / "t10k-labels-idx1-ubyte", idx_bytes(0x08, (2,), bytes(2)), False)
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte.*\(N, 28, 28\)"):
        load_mnist("test", data_dir=tmp_path, download=False)


def test_image_label_count_mismatch_is_rejected(tmp_path):
    write(tmp_path / "t10k-images-idx3-ubyte", idx_bytes(0x08, (3, 28, 28), bytes(3 * 784)), False)
    write(tmp_path / "t10k-labels-idx1-ubyte", idx_bytes(0x08, (2,), bytes(2)), False)
    with pytest.raises(ValueError, match="3 images.*2 labels"):
        load_mnist("test", data_dir=tmp_path, download=False)


def test_tiny_local_files_load(tmp_path):
    images = (np.arange(2 * 784).reshape(2, 28, 28) % 256).astype(np.uint8)
    payload = idx_bytes(0x08, (2, 28, 28), images.tobytes())
    write(tmp_path / "t10k-images-idx3-ubyte.gz", payload, True)
    write(tmp_path / "t10k-labels-idx1-ubyte", idx_bytes(0x08, (2,), bytes([3, 9])), False)
    X, y = load_fashion_mnist("test", data_dir=tmp_path, download=False)
    np.testing.assert_allclose(X, images.reshape(2, 784) / 255.0, rtol=1e-6)
    assert y.tolist() == [3, 9]


# ---------------------------------------------------------------------------
# Offline errors and downloads


def test_offline_error_names_files_directory_and_variable(tmp_path, monkeypatch):
    def fail(url, dest, md5):
        raise OSError("network unreachable")

    monkeypatch.setattr(datasets, "_download_file", fail)
    with pytest.raises(DatasetNotAvailableError) as info:
        load_mnist("train", data_dir=tmp_path)
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert "train-images-idx3-ubyte.gz" in message
    assert "train-labels-idx1-ubyte.gz" in message
    assert str(tmp_path) in message
    assert "DEEPBELIEF_DATA" in message
    assert "network unreachable" in message


def test_download_false_never_downloads(tmp_path, monkeypatch):
    def forbidden(url, dest, md5):
        raise AssertionError("download attempted with download=False")

    monkeypatch.setattr(datasets, "_download_file", forbidden)
    monkeypatch.setenv("DEEPBELIEF_DATA", str(tmp_path))
    with pytest.raises(DatasetNotAvailableError, match=re.escape(str(tmp_path / "mnist"))):
        load_mnist("test", download=False)


def serve_from(directory: Path, requested: list[str], fail_hosts: tuple[str, ...] = ()):
    """A stand-in for ``urlopen`` that serves files of ``directory`` by name."""

    def fake_urlopen(url, timeout=None):
        requested.append(url)
        if any(host in url for host in fail_hosts):
            raise urllib.error.URLError("host unreachable")
        return io.BytesIO((directory / url.rsplit("/", 1)[1]).read_bytes())

    return fake_urlopen


def test_download_with_matching_md5_is_kept(mnist_dir, mnist_test, tmp_path, monkeypatch):
    requested: list[str] = []
    monkeypatch.setattr("urllib.request.urlopen", serve_from(mnist_dir, requested))
    monkeypatch.setenv("DEEPBELIEF_DATA", str(tmp_path))
    X, y = load_mnist("test")
    assert np.array_equal(X, mnist_test[0])
    assert np.array_equal(y, mnist_test[1])
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == sorted(TEST_FILES)
    assert all(url.startswith("https://") for url in requested)
    assert len(requested) == 2
    # A second call uses the cache.
    load_mnist("test", download=False)
    assert len(requested) == 2


def test_download_falls_back_to_next_mirror(mnist_dir, tmp_path, monkeypatch):
    requested: list[str] = []
    first_host = datasets._DATASETS["mnist"]["mirrors"][0]
    monkeypatch.setattr("urllib.request.urlopen", serve_from(mnist_dir, requested, (first_host,)))
    X, _ = load_mnist("test", data_dir=tmp_path)
    assert X.shape == (10000, 784)
    assert len(requested) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(TEST_FILES)


def test_download_with_wrong_md5_is_rejected_and_removed(tmp_path, monkeypatch):
    # Well-formed IDX files that are not the official ones.
    fake = tmp_path / "served"
    fake.mkdir()
    write(fake / "t10k-images-idx3-ubyte.gz", idx_bytes(0x08, (1, 28, 28), bytes(784)), True)
    write(fake / "t10k-labels-idx1-ubyte.gz", idx_bytes(0x08, (1,), bytes(1)), True)
    cache = tmp_path / "cache"
    requested: list[str] = []
    monkeypatch.setattr("urllib.request.urlopen", serve_from(fake, requested))
    with pytest.raises(DatasetNotAvailableError, match="MD5 mismatch"):
        load_mnist("test", data_dir=cache)
    assert len(requested) == len(datasets._DATASETS["mnist"]["mirrors"])
    assert list(cache.iterdir()) == []


# ---------------------------------------------------------------------------
# IDX reader


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize(
    ("type_code", "dtype"),
    [(0x08, ">u1"), (0x09, ">i1"), (0x0B, ">i2"), (0x0C, ">i4"), (0x0D, ">f4"), (0x0E, ">f8")],
)
def test_read_idx_round_trips_every_type(tmp_path, compress, type_code, dtype):
    offset = 0 if dtype == ">u1" else 7
    values = (np.arange(24).reshape(2, 3, 4) - offset).astype(dtype)
    path = write(tmp_path / "x.idx", idx_bytes(type_code, values.shape, values.tobytes()), compress)
    out = read_idx(path)
    assert out.shape == (2, 3, 4)
    assert out.dtype == np.dtype(dtype).newbyteorder("=")
    assert out.dtype.isnative
    assert np.array_equal(out, values)
    assert out.flags.writeable


@settings(max_examples=30, deadline=None)
@given(
    dims=st.lists(st.integers(0, 5), min_size=1, max_size=4),
    compress=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_read_idx_round_trips_any_shape(dims, compress, seed):
    values = np.random.default_rng(seed).integers(0, 256, size=dims, dtype=np.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp) / "x", idx_bytes(0x08, tuple(dims), values.tobytes()), compress)
        assert np.array_equal(read_idx(path), values)
        assert read_idx(path).shape == tuple(dims)


GOOD_PAYLOAD = bytes(range(6))
BAD_FILES = {
    "wrong magic": (b"\x01\x00\x08\x02" + struct.pack(">2I", 2, 3) + GOOD_PAYLOAD, "magic"),
    "unknown type": (idx_bytes(0x0A, (2, 3), GOOD_PAYLOAD), "type code"),
    "zero dims": (bytes([0, 0, 8, 0]) + GOOD_PAYLOAD, "0 dimensions"),
    "short header": (bytes([0, 0, 8, 3]) + struct.pack(">2I", 2, 3), "header truncated"),
    "tiny": (b"\x00\x00", "too short"),
    "truncated": (idx_bytes(0x08, (2, 3), GOOD_PAYLOAD[:-1]), "truncated"),
    "trailing": (idx_bytes(0x08, (2, 3), GOOD_PAYLOAD + b"\x00"), "trailing"),
    "truncated wide": (idx_bytes(0x0C, (2, 3), GOOD_PAYLOAD * 3), "truncated"),
    "wrong dims": (idx_bytes(0x08, (3, 3), GOOD_PAYLOAD), "truncated"),
}


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_read_idx_rejects_malformed_files(tmp_path, case, compress):
    data, reason = BAD_FILES[case]
    path = write(tmp_path / f"bad-{case.replace(' ', '_')}-idx", data, compress)
    with pytest.raises(ValueError, match=reason) as info:
        read_idx(path)
    assert path.name in str(info.value)


def test_read_idx_rejects_corrupt_gzip(tmp_path):
    good = gzip.compress(idx_bytes(0x08, (100,), bytes(range(100))))
    path = tmp_path / "cut.gz"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match="cut.gz"):
        read_idx(path)


def test_read_idx_real_labels(mnist_dir):
    labels = read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz")
    assert labels.shape == (10000,)
    assert labels.dtype == np.uint8


def test_balanced_split_is_balanced_and_disjoint():
    y = np.repeat(np.arange(4), [30, 25, 40, 22])
    chosen, rest = datasets.balanced_split(y, 20, seed=1)
    assert np.bincount(y[chosen]).tolist() == [20, 20, 20, 20]
    assert not set(chosen) & set(rest)
    assert sorted(np.concatenate([chosen, rest]).tolist()) == list(range(len(y)))
    again, _ = datasets.balanced_split(y, 20, seed=1)
    np.testing.assert_array_equal(chosen, again)
    with pytest.raises(ValueError, match="fewer than 23"):
        datasets.balanced_split(y, 23)


def test_balanced_batches_hold_every_class_equally():
    y = np.repeat(np.arange(3), [9, 7, 12])
    sampler = datasets.BalancedBatchSampler(y, 2, seed=0)
    assert len(sampler) == 3
    for _ in range(2):  # reshuffled every pass
        batches = list(sampler)
        assert len(batches) == 3
        for batch in batches:
            assert np.bincount(y[batch], minlength=3).tolist() == [2, 2, 2]
        seen = np.concatenate(batches)
        assert len(set(seen.tolist())) == len(seen)  # no row twice in a pass
    with pytest.raises(ValueError, match="at least 8"):
        datasets.BalancedBatchSampler(y, 8)


@pytest.mark.skipif(not MNIST_DIR.exists(), reason="MNIST files not present")
def test_the_papers_split_of_mnist():
    """44,000 balanced training images, a balanced 10,000 of the rest, the test set apart."""
    _, y = load_mnist("train", data_dir=MNIST_DIR)
    train, rest = datasets.balanced_split(y, 4400)
    valid = rest[datasets.balanced_split(y[rest], 1000)[0]]
    assert len(train) == 44000 and len(valid) == 10000
    assert (np.bincount(y[train]) == 4400).all() and (np.bincount(y[valid]) == 1000).all()
    assert not set(train.tolist()) & set(valid.tolist())
