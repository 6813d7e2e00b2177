"""The user's own data from a file or a folder: arrays, tables and images.

:func:`load_path` reads one data set, :func:`load_pair` a training set and the
held-out set that goes with it. Four forms are read:

``.npy``
    A 2-D array (rows, features), or a 3-D array of images (images, height,
    width), flattened row by row. No labels.
``.npz``
    Array ``X`` (the features, 2-D or 3-D as for ``.npy``) and, optionally,
    ``y`` (one label per row, 1-D). Other arrays in the file are ignored.
``.csv``
    A header row, then one row per sample. Every column but the label column
    ``target`` (when given) is a feature and must be numeric.
A folder
    One subfolder per class, as torchvision's ``ImageFolder``: the class names
    are the sorted names of the subfolders (hidden ones left out), the labels
    their indices. Every image (``.png``, ``.jpg``, ``.jpeg``, ``.bmp``,
    ``.gif``, ``.pgm``, ``.ppm``, ``.tif``, ``.tiff``, ``.webp``; other files
    are ignored) is read with Pillow, converted to 8-bit greyscale and
    flattened; all must have one size.

Arrays are read with ``allow_pickle=False``: object arrays are refused, never
unpickled. CSV files are read with pandas (``pip install deepbelief[tables]``),
imported only when a CSV file is read.

Scaling
-------
The features become ``float32`` divided by one number, chosen from the data:

* images from a folder: 255;
* values already inside [0, 1]: 1 (they stay);
* integers (any integer or boolean dtype) between 0 and 255: 255;
* anything else: 1. Binary (Bernoulli) visible units need inputs in [0, 1],
  so with ``binary=True`` such data are a ``ValueError`` that suggests
  Gaussian visible units, which take any real values.

A held-out set is divided by the training set's number; a held-out file
whose own data would call for another number is a ``ValueError``, so the two
are never scaled differently.

Errors
------
A missing file or folder is a ``FileNotFoundError``, anything else that cannot
be read (unknown extension, wrong shape, non-numeric features, missing label
column, NaN or infinite values, mixed image sizes, empty folders, unreadable
images, ``.npz`` without ``X``, training and held-out feature counts that
differ) a ``ValueError``; every message starts with the path it is about.
A CSV file without pandas installed is an ``ImportError``.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

__all__ = ["IMAGE_EXTENSIONS", "NPZ_KEYS", "Data", "load_pair", "load_path"]

#: The file endings of the images read from a folder (compared in lower case).
IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".pgm", ".png", ".ppm", ".tif", ".tiff",
                    ".webp")
#: The arrays read from an ``.npz`` file: the features and the optional labels.
NPZ_KEYS = ("X", "y")
_SUFFIXES = (".npy", ".npz", ".csv")
_NUMBER_KINDS = "biuf"


class Data(NamedTuple):
    """One data set read by :func:`load_path`.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features), float32
        The features, scaled.
    y : ndarray of shape (n_samples,) or None
        The labels: class indices for a folder of images, the ``.npz`` file's
        ``y`` or the CSV file's ``target`` column; None when the file has none.
    classes : list of str or None
        A folder's class names (``classes[y[i]]`` is row ``i``'s); else None.
    image_shape : tuple of int (height, width) or None
        The images' shape for a folder or a 3-D array; else None.
    scale : float
        The number the stored values were divided by.
    path : Path
        Where the data came from.
    """

    X: np.ndarray
    y: np.ndarray | None
    classes: list[str] | None
    image_shape: tuple[int, int] | None
    scale: float
    path: Path


class _Raw(NamedTuple):
    """Values as stored (numeric, 2-D, finite), before scaling."""

    values: np.ndarray
    y: np.ndarray | None
    classes: list[str] | None
    image_shape: tuple[int, int] | None
    images: bool
    path: Path


def load_path(path: str | os.PathLike, *, target: str | None = None, binary: bool = False,
              scale: float | None = None) -> Data:
    """Read a data set from an ``.npy``, ``.npz`` or ``.csv`` file or a folder of images.

    Parameters
    ----------
    path : str or path-like
        The file, or the folder with one subfolder of images per class.
    target : str, optional
        A CSV file's label column; the other columns are the features. Only
        CSV files take it.
    binary : bool, default=False
        Whether the data are for binary visible units: scaled values outside
        [0, 1] are then a ``ValueError``.
    scale : float, optional
        Divide by this number instead of the one the scaling rule (see the
        module's description) chooses.

    Returns
    -------
    Data
        The scaled ``float32`` features, labels, class names, image shape,
        the divisor and the path.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        When it cannot be read as data; the message names the file.
    ImportError
        When a CSV file is read without pandas installed.
    """
    raw = _read(Path(path), target)
    return _finish(raw, _auto_scale(raw) if scale is None else scale, binary)


def load_pair(train: str | os.PathLike, test: str | os.PathLike | None = None, *,
              target: str | None = None, binary: bool = False) -> tuple[Data, Data | None]:
    """Read training data and, optionally, a held-out set scaled the same way.

    Parameters
    ----------
    train : str or path-like
        The training data, in any form :func:`load_path` reads.
    test : str or path-like, optional
        The held-out data, in any such form; it must have as many features as
        ``train`` and call for the same scaling.
    target : str, optional
        The label column of whichever of the two is a CSV file.
    binary : bool, default=False
        Whether the data are for binary visible units (values in [0, 1]).

    Returns
    -------
    train : Data
    test : Data or None
        None when ``test`` is None.

    Raises
    ------
    FileNotFoundError, ValueError, ImportError
        As :func:`load_path`; a ``ValueError`` too when the two sets' feature
        counts or scalings differ. Both files are read and checked before
        either is returned.
    """
    raw = _read(Path(train), target)
    scale = _auto_scale(raw)
    if test is None:
        return _finish(raw, scale, binary), None
    raw_test = _read(Path(test), target)
    _check_pair(raw, scale, raw_test)
    return _finish(raw, scale, binary), _finish(raw_test, scale, binary)


# ---------------------------------------------------------------------------
# Scaling


def _auto_scale(raw: _Raw) -> float:
    """The divisor of the module's scaling rule."""
    if raw.images:
        return 255.0
    values = raw.values
    lo, hi = (values.min(), values.max())
    if lo >= 0 and hi <= 1:
        return 1.0
    if values.dtype.kind in "biu" and lo >= 0 and hi <= 255:
        return 255.0
    return 1.0


def _finish(raw: _Raw, scale: float, binary: bool) -> Data:
    """Scale ``raw`` and, for binary units, check the range."""
    X = (raw.values / scale).astype(np.float32)
    if binary:
        lo, hi = float(X.min()), float(X.max())
        if lo < 0 or hi > 1:
            divided = f" once divided by {scale:g}" if scale != 1 else ""
            raise ValueError(
                f"{raw.path}: values lie in [{lo:g}, {hi:g}]{divided}, outside [0, 1] (only "
                "data of an integer type within 0-255 are divided by 255); binary visible "
                "units need inputs in [0, 1]: rescale the data, or use Gaussian visible units "
                "(--visible gaussian)")
    return Data(X, raw.y, raw.classes, raw.image_shape, float(scale), raw.path)


def _check_pair(raw: _Raw, scale: float, raw_test: _Raw) -> None:
    """The held-out set must match the training set's features and scaling."""
    n, m = raw.values.shape[1], raw_test.values.shape[1]
    if n != m:
        raise ValueError(f"{raw_test.path}: {m} features, but the training data {raw.path} "
                         f"have {n}")
    own = _auto_scale(raw_test)
    if own != scale:
        raise ValueError(
            f"{raw_test.path}: would be divided by {own:g}, but the training data "
            f"{raw.path} are divided by {scale:g}; store both alike (e.g. both as 8-bit "
            "integers, or both as floats in [0, 1])")


# ---------------------------------------------------------------------------
# Reading


def _read(path: Path, target: str | None) -> _Raw:
    """Dispatch on the kind of ``path``, then check the values are usable."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if path.is_dir():
        _no_target(path, target)
        raw = _read_folder(path)
    else:
        suffix = path.suffix.lower()
        if suffix not in _SUFFIXES:
            raise ValueError(f"{path}: unknown file type {path.suffix or '(none)'!r}; expected "
                             ".npy, .npz, .csv or a folder of images")
        if suffix == ".csv":
            raw = _read_csv(path, target)
        else:
            _no_target(path, target)
            raw = _read_npy(path) if suffix == ".npy" else _read_npz(path)
    _check_values(raw)
    return raw


def _no_target(path: Path, target: str | None) -> None:
    if target is not None:
        raise ValueError(f"{path}: a label column (target={target!r}) applies to CSV files "
                         "only; .npz files hold their labels as y, folders as subfolders")


def _check_values(raw: _Raw) -> None:
    """At least one row and one feature, and every value finite."""
    values, path = raw.values, raw.path
    if values.shape[0] == 0 or values.shape[1] == 0:
        raise ValueError(f"{path}: no data (shape {values.shape})")
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        row, col = np.argwhere(~np.isfinite(values))[0]
        count = int((~np.isfinite(values)).sum())
        raise ValueError(f"{path}: {count} NaN or infinite value(s), the first in row {row}, "
                         f"feature {col} (counting from 0)")


def _features(arr: np.ndarray, path: Path, what: str) -> tuple[np.ndarray, tuple | None]:
    """A numeric 2-D array, and the image shape of a 3-D one."""
    if arr.dtype.kind not in _NUMBER_KINDS:
        raise ValueError(f"{path}: {what} has dtype {arr.dtype}; the features must be numbers "
                         "(booleans, integers or floats)")
    if arr.ndim == 2:
        return arr, None
    if arr.ndim == 3:
        return arr.reshape(len(arr), -1), (int(arr.shape[1]), int(arr.shape[2]))
    raise ValueError(f"{path}: {what} has shape {arr.shape}; expected 2-D (rows, features) "
                     "or 3-D (images, height, width)")


def _read_npy(path: Path) -> _Raw:
    arr = _np_load(path, ".npy")
    if not isinstance(arr, np.ndarray):
        arr.close()
        raise ValueError(f"{path}: holds several arrays (an .npz archive); name it .npz")
    values, shape = _features(arr, path, "the array")
    return _Raw(values, None, None, shape, False, path)


def _read_npz(path: Path) -> _Raw:
    archive = _np_load(path, ".npz")
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: a single array, not an .npz archive; name it .npy")
    with archive:
        if "X" not in archive.files:
            held = ", ".join(archive.files) or "no arrays"
            raise ValueError(f"{path}: no array 'X' (it holds: {held}); an .npz file needs X "
                             "(the features) and, optionally, y (the labels)")
        X = _np_access(archive, "X", path)
        y = _np_access(archive, "y", path) if "y" in archive.files else None
    values, shape = _features(X, path, "X")
    return _Raw(values, _labels(y, len(values), path), None, shape, False, path)


def _np_load(path: Path, kind: str):
    """``np.load`` that never unpickles; unreadable files are a ``ValueError``."""
    with open(path, "rb") as file:
        magic = file.read(6)
    if not magic.startswith((b"\x93NUMPY", b"PK")):
        raise ValueError(f"{path}: not a {kind} file (it starts neither as NumPy's format nor "
                         "as a zip archive); pickled data are never loaded")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path}: not a readable {kind} file without unpickling "
                         f"({exc})") from None


def _np_access(archive, key: str, path: Path) -> np.ndarray:
    """One array of an ``.npz`` archive (object arrays refused)."""
    try:
        array = archive[key]
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path}: array {key!r} is not readable without unpickling "
                         f"({exc})") from None
    if not isinstance(array, np.ndarray):  # a member not in NumPy's format comes as bytes
        raise ValueError(f"{path}: array {key!r} is not readable: not in NumPy's .npy format")
    return array


def _labels(y: np.ndarray | None, n: int, path: Path) -> np.ndarray | None:
    """An ``.npz`` file's ``y``: one number or string per row."""
    if y is None:
        return None
    if y.ndim != 1 or len(y) != n:
        raise ValueError(f"{path}: y has shape {y.shape}; expected one label per row of X, "
                         f"shape ({n},)")
    if y.dtype.kind == "S":
        y = y.astype(str)
    if y.dtype.kind not in _NUMBER_KINDS + "U":
        raise ValueError(f"{path}: y has dtype {y.dtype}; labels must be numbers or strings")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ValueError(f"{path}: y holds NaN or infinite values")
    return y


def _read_csv(path: Path, target: str | None) -> _Raw:
    pd = _pandas()
    try:
        frame = pd.read_csv(path)
    except (ValueError, OSError) as exc:  # pandas' parser errors are ValueErrors
        raise ValueError(f"{path}: not a readable CSV file ({exc})") from None
    frame.columns = [str(c) for c in frame.columns]
    if len(frame) == 0:
        raise ValueError(f"{path}: a header row but no data rows")
    y = None if target is None else _target_column(frame, target, path)
    return _Raw(_csv_features(frame, path, target), y, None, None, False, path)


def _pandas():
    try:
        import pandas
    except ImportError:
        raise ImportError("reading CSV files needs pandas: pip install 'deepbelief[tables]'"
                          ) from None
    return pandas


def _target_column(frame, target: str, path: Path) -> np.ndarray:
    """Remove the label column from ``frame`` and return it."""
    if target not in frame.columns:
        raise ValueError(f"{path}: no column {target!r}; the columns are: "
                         f"{', '.join(frame.columns)}")
    column = frame.pop(target)
    missing = column.isna().to_numpy()
    if missing.any():
        raise ValueError(f"{path}: column {target!r} has {int(missing.sum())} missing "
                         f"label(s), the first in row {int(np.argmax(missing))} (counting "
                         "data rows from 0)")
    y = column.to_numpy()
    return y.astype(str) if y.dtype.kind not in _NUMBER_KINDS else y


def _csv_features(frame, path: Path, target: str | None) -> np.ndarray:
    """The numeric columns as one array; any other column is an error."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    bad = [c for c in frame.columns
           if not (is_numeric_dtype(frame[c]) or is_bool_dtype(frame[c]))]
    if bad:
        hint = "" if target is not None else " (name a label column with --target)"
        raise ValueError(f"{path}: non-numeric column(s) {', '.join(bad)}; the features must "
                         f"be numbers{hint}")
    if frame.shape[1] == 0:
        raise ValueError(f"{path}: no feature columns")
    values = frame.to_numpy(dtype=np.result_type(*frame.dtypes))
    if values.dtype.kind == "f":
        broken = ~np.isfinite(values).all(axis=0)
        if broken.any():
            raise ValueError(f"{path}: missing, NaN or infinite values in column(s) "
                             f"{', '.join(frame.columns[broken])}")
    return values


def _read_folder(path: Path) -> _Raw:
    """One subfolder per class, read as ``ImageFolder`` does."""
    classes = sorted(d.name for d in path.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise ValueError(f"{path}: no class folders; a folder of images needs one subfolder "
                         "per class")
    files, labels = [], []
    for index, name in enumerate(classes):
        found = sorted(f for f in (path / name).iterdir()
                       if f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS)
        if not found:
            raise ValueError(f"{path / name}: no images (files ending in "
                             f"{', '.join(IMAGE_EXTENSIONS)})")
        files += found
        labels += [index] * len(found)
    images = _read_images(files, path)
    shape = images.shape[1:]
    return _Raw(images.reshape(len(images), -1), np.asarray(labels, dtype=np.int64), classes,
                (int(shape[0]), int(shape[1])), True, path)


def _read_images(files: list[Path], folder: Path) -> np.ndarray:
    """The images as 8-bit grey levels, stacked (n, height, width); one size for all."""
    from PIL import Image

    arrays, first = [], None
    for file in files:
        try:
            with Image.open(file) as image:
                arrays.append(np.asarray(image.convert("L")))
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise ValueError(f"{file}: not a readable image ({exc})") from None
        if first is None:
            first = file, arrays[-1].shape
        elif arrays[-1].shape != first[1]:
            raise ValueError(f"{folder}: images of different sizes: {first[0]} is "
                             f"{_size(first[1])}, {file} is {_size(arrays[-1].shape)}; all "
                             "must have one size")
    return np.stack(arrays)


def _size(shape: tuple[int, ...]) -> str:
    """An image's size as width x height, as image viewers state it."""
    return f"{shape[1]}x{shape[0]}"
