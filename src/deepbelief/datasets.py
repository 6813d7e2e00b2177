"""Small image data sets for RBMs: 8x8 digits, MNIST and Fashion-MNIST.

MNIST and Fashion-MNIST are read from IDX files (gzipped or raw). They are looked
up in ``data_dir`` when given, otherwise in a cache directory,
``$DEEPBELIEF_DATA/<name>`` or ``~/.cache/deepbelief/<name>`` with ``<name>`` one
of ``mnist`` and ``fashion-mnist``. Missing files are downloaded into that
directory and kept only when their MD5 matches the official one.
"""

from __future__ import annotations

import gzip
import hashlib
import numbers
import os
import tempfile
import urllib.request
import zlib
from pathlib import Path

import numpy as np
import torch.utils.data

__all__ = [
    "BalancedBatchSampler",
    "DatasetNotAvailableError",
    "balanced_split",
    "get_data_home",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "read_idx",
]

DATA_ENV_VAR = "DEEPBELIEF_DATA"

_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_SPLIT_PREFIX = {"train": "train", "test": "t10k"}
_BINARIZE = (None, "threshold", "stochastic")
_DOWNLOAD_TIMEOUT_S = 60
_CHUNK = 1 << 20

_DATASETS = {
    "mnist": {
        "title": "MNIST",
        "mirrors": (
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
        "md5": {
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
    },
    "fashion-mnist": {
        "title": "Fashion-MNIST",
        "mirrors": (
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        ),
        "md5": {
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
    },
}


class DatasetNotAvailableError(FileNotFoundError):
    """The data set's files are neither on disk nor downloadable."""


# ---------------------------------------------------------------------------
# IDX reader


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzipped or raw.

    Parameters
    ----------
    path : str or path-like
        File to read. Gzip compression is detected from the content, not the name.

    Returns
    -------
    numpy.ndarray
        Array with the file's shape and a native-endian version of its dtype
        (``uint8`` for the usual ``0x08`` type code).

    Raises
    ------
    ValueError
        If the file is not a well-formed IDX file: wrong magic, unknown type code,
        no dimensions, a short header, or a payload that is not exactly the
        product of the dimensions (truncated or trailing bytes). The message
        names the file.
    """
    path = Path(path)
    data = _read_bytes(path)
    dtype, dims, offset = _parse_idx_header(data, path)
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    actual = len(data) - offset
    if actual != expected:
        problem = "truncated" if actual < expected else "has trailing bytes"
        raise ValueError(
            f"{path}: IDX payload {problem}: dimensions {dims} need {expected} bytes "
            f"of {dtype.name}, found {actual}"
        )
    array = np.frombuffer(data, dtype=dtype, offset=offset).reshape(dims)
    return array.astype(dtype.newbyteorder("="))


def _read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"{path}: corrupt gzip data ({exc})") from exc


def _parse_idx_header(data: bytes, path: Path) -> tuple[np.dtype, tuple[int, ...], int]:
    if len(data) < 4:
        raise ValueError(f"{path}: too short to be an IDX file ({len(data)} bytes)")
    if data[0] != 0 or data[1] != 0:
        raise ValueError(
            f"{path}: bad IDX magic number 0x{data[:4].hex()} (must start with 0x0000)"
        )
    type_code, ndim = data[2], data[3]
    if type_code not in _IDX_DTYPES:
        known = ", ".join(f"0x{code:02X}" for code in _IDX_DTYPES)
        raise ValueError(f"{path}: unknown IDX type code 0x{type_code:02X} (known: {known})")
    if ndim == 0:
        raise ValueError(f"{path}: IDX header declares 0 dimensions")
    offset = 4 + 4 * ndim
    if len(data) < offset:
        raise ValueError(
            f"{path}: IDX header truncated: {ndim} dimensions need {offset} header bytes, "
            f"file has {len(data)}"
        )
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    return _IDX_DTYPES[type_code], dims, offset


# ---------------------------------------------------------------------------
# Locating and downloading files


def get_data_home() -> Path:
    """Root of the data cache: ``$DEEPBELIEF_DATA`` or ``~/.cache/deepbelief``.

    Returns
    -------
    pathlib.Path
        Each data set lives in its own subdirectory (``mnist``, ``fashion-mnist``).
    """
    root = os.environ.get(DATA_ENV_VAR)
    if root:
        return Path(root).expanduser()
    return Path.home() / ".cache" / "deepbelief"


def _find_local(directory: Path, gz_name: str) -> Path | None:
    for name in (gz_name, gz_name.removesuffix(".gz")):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def _download_file(url: str, dest: Path, md5: str) -> None:
    """Download ``url`` to ``dest``; keep it only if its MD5 is ``md5``.

    The data go to a temporary file in ``dest``'s directory, renamed atomically
    once verified, so an interrupted or corrupt download never leaves ``dest``.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.md5(usedforsecurity=False)
        with (
            os.fdopen(fd, "wb") as out,
            urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT_S) as response,
        ):
            while chunk := response.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != md5:
            raise ValueError(f"MD5 mismatch for {url}: expected {md5}, got {digest.hexdigest()}")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _fetch(name: str, gz_name: str, directory: Path) -> Path:
    """Download one file from the first mirror that serves it intact."""
    spec = _DATASETS[name]
    dest = directory / gz_name
    errors = []
    for mirror in spec["mirrors"]:
        url = mirror + gz_name
        try:
            _download_file(url, dest, spec["md5"][gz_name])
            return dest
        except (OSError, ValueError) as exc:
            errors.append(f"{url}: {exc}")
    raise OSError("; ".join(errors))


def _unavailable_message(name: str, directory: Path, missing: list[str], reason: str) -> str:
    spec = _DATASETS[name]
    return (
        f"{spec['title']} files not found: {', '.join(missing)} missing from {directory} "
        f"({reason}). Put the IDX files (gzipped or not) there, pass data_dir= pointing "
        f"to a directory holding them, or set {DATA_ENV_VAR} to a directory whose "
        f"'{name}' subdirectory holds them. Official MD5 sums: "
        + ", ".join(f"{f} {m}" for f, m in spec["md5"].items())
    )


def _locate(name: str, split: str, data_dir, download: bool) -> tuple[Path, Path]:
    directory = Path(data_dir).expanduser() if data_dir is not None else get_data_home() / name
    prefix = _SPLIT_PREFIX[split]
    wanted = [f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"]
    found = {f: _find_local(directory, f) for f in wanted}
    missing = [f for f in wanted if found[f] is None]
    if missing and not download:
        raise DatasetNotAvailableError(
            _unavailable_message(name, directory, missing, "download=False")
        )
    for gz_name in missing:
        try:
            found[gz_name] = _fetch(name, gz_name, directory)
        except OSError as exc:
            reason = f"download failed: {exc}"
            raise DatasetNotAvailableError(
                _unavailable_message(name, directory, missing, reason)
            ) from exc
    return found[wanted[0]], found[wanted[1]]


# ---------------------------------------------------------------------------
# Loaders


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 handwritten digits scaled to [0, 1].

    Returns
    -------
    X : numpy.ndarray of shape (1797, 64), float32
        Pixel intensities divided by 16.
    y : numpy.ndarray of shape (1797,), int64
        Digit labels 0-9.
    """
    from sklearn.datasets import load_digits as _sk_load_digits

    X, y = _sk_load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y.astype(np.int64)


def load_mnist(
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
    binarize: str | None = None,
    seed: int = 0,
    download: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST as flattened images in [0, 1].

    Parameters
    ----------
    split : {"train", "test"}
        60,000 training or 10,000 test images.
    data_dir : str or path-like, optional
        Directory holding the IDX files (``train-images-idx3-ubyte.gz`` etc., or
        the same names without ``.gz``). Defaults to the cache directory
        ``get_data_home() / "mnist"``. Missing files are downloaded there.
    binarize : {None, "threshold", "stochastic"}
        ``None`` keeps gray levels; ``"threshold"`` sets pixels above 0.5 to 1;
        ``"stochastic"`` samples every pixel once as Bernoulli(intensity), the
        fixed binarisation customary for RBMs, reproducible through ``seed``.
    seed : int
        Seed of the stochastic binarisation (ignored otherwise).
    download : bool
        Whether to download missing files.

    Returns
    -------
    X : numpy.ndarray of shape (n_samples, 784), float32
    y : numpy.ndarray of shape (n_samples,), int64

    Raises
    ------
    DatasetNotAvailableError
        If the files are missing and cannot be downloaded.
    ValueError
        For an invalid argument or a malformed file.
    """
    return _load_idx_dataset("mnist", split, data_dir, binarize, seed, download)


def load_fashion_mnist(
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
    binarize: str | None = None,
    seed: int = 0,
    download: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Load Fashion-MNIST as flattened images in [0, 1].

    Same parameters and returns as :func:`load_mnist`; the cache directory is
    ``get_data_home() / "fashion-mnist"``.
    """
    return _load_idx_dataset("fashion-mnist", split, data_dir, binarize, seed, download)


def _load_idx_dataset(name, split, data_dir, how, seed, download):
    _check_options(split, how, seed)
    images_path, labels_path = _locate(name, split, data_dir, download)
    images, labels = read_idx(images_path), read_idx(labels_path)
    _check_pair(images, labels, images_path, labels_path)
    X = images.reshape(len(images), -1).astype(np.float32)
    X /= 255.0
    return binarize(X, how, seed, split), labels.astype(np.int64)


def _check_options(split, binarize, seed) -> None:
    if split not in _SPLIT_PREFIX:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if binarize not in _BINARIZE:
        raise ValueError(f"binarize must be None, 'threshold' or 'stochastic', got {binarize!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")


def _check_pair(images: np.ndarray, labels: np.ndarray, images_path: Path, labels_path: Path):
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(
            f"{images_path}: expected uint8 images of shape (N, 28, 28), "
            f"got {images.dtype} {images.shape}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise ValueError(
            f"{labels_path}: expected a 1-D uint8 label vector, got {labels.dtype} {labels.shape}"
        )
    if len(images) != len(labels):
        raise ValueError(
            f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels"
        )
    if labels.size and labels.max() > 9:
        raise ValueError(f"{labels_path}: labels must be 0-9, found {int(labels.max())}")


def binarize(X: np.ndarray, how: str | None, seed: int = 0, split: str = "train",
             ) -> np.ndarray:
    """Binary images from gray levels in [0, 1]: the one rule every loader uses.

    ``"threshold"`` sets pixels above 0.5 to 1; ``"stochastic"`` draws each pixel
    as a Bernoulli variable with its intensity as probability, the training and
    test splits from independent streams of ``seed``; ``None`` returns ``X``.
    """
    if how not in _BINARIZE:
        raise ValueError(f"binarize must be None, 'threshold' or 'stochastic', got {how!r}")
    if how == "threshold":
        return (X > 0.5).astype(np.float32)
    if how == "stochastic":
        rng = np.random.default_rng([seed, list(_SPLIT_PREFIX).index(split)])
        return (rng.random(X.shape, dtype=np.float32) < X).astype(np.float32)
    return X


def balanced_split(y, n_per_class: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a class-balanced subset (``n_per_class`` rows of each label) and the rest.

    The paper's protocol: 44,000 training images (4,400 of each digit) and a
    validation set made of the other 16,000 rows, here returned whole.
    """
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        if len(rows) < n_per_class:
            raise ValueError(f"label {label!r} has {len(rows)} rows, fewer than {n_per_class}")
        chosen.append(rng.choice(rows, n_per_class, replace=False))
    chosen = np.sort(np.concatenate(chosen))
    return chosen, np.setdiff1d(np.arange(len(y)), chosen)


class BalancedBatchSampler(torch.utils.data.Sampler):
    """Minibatches with the same number of rows of every class, reshuffled each pass.

    It yields lists of row indices: batches of ``per_class`` rows of each label
    (the paper's 10 of each digit). ``DataLoader(TensorDataset(X, y),
    sampler=BalancedBatchSampler(y, 10), batch_size=None)`` indexes the tensors
    once per minibatch. A pass ends when the rarest class runs out; the other
    classes' leftover rows are drawn in later passes.
    """

    def __init__(self, y, per_class: int, seed: int = 0) -> None:
        y = np.asarray(y)
        self.per_class = int(per_class)
        self.rows = [np.flatnonzero(y == label) for label in np.unique(y)]
        self.n_batches = min(len(r) for r in self.rows) // self.per_class
        if self.n_batches == 0:
            raise ValueError(f"every class needs at least {per_class} rows")
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return self.n_batches

    def __iter__(self):
        per_class = [self.rng.permutation(r)[:self.n_batches * self.per_class]
                     .reshape(self.n_batches, self.per_class) for r in self.rows]
        order = np.concatenate(per_class, 1)
        for batch in order:
            yield self.rng.permutation(batch).tolist()
