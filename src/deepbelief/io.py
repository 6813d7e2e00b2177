"""Model files: one safetensors file per model, never a pickle.

The file holds the model's tensors; the safetensors header's ``__metadata__``
holds ``format`` ("deepbelief"), ``format_version``, ``class`` and the
hyperparameters as JSON. Loading only parses that header and raw tensor bytes,
so nothing in a file is ever executed. Anything unexpected is a ``ValueError``.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

FORMAT = "deepbelief"
FORMAT_VERSION = 1
_REGISTRY: dict[str, type] = {}


def register(cls: type) -> type:
    """Class decorator: make ``cls`` loadable by :func:`load`.

    The class provides ``_save_state() -> (tensors, extra_metadata)`` and
    ``_from_state(params, tensors, extra_metadata) -> model`` (a classmethod).
    """
    _REGISTRY[cls.__name__] = cls
    return cls


def _registry() -> dict[str, type]:
    # Importing the package registers every model class.
    import deepbelief  # noqa: F401

    return _REGISTRY


def save(model, path: str | os.PathLike) -> None:
    """Write ``model`` to ``path`` atomically (temporary file, fsync, rename)."""
    tensors, extra = model._save_state()
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "class": type(model).__name__,
        "params": json.dumps(_jsonable_params(model)),
        "extra": json.dumps(extra),
    }
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=metadata))


def atomic_write(path: str | os.PathLike, write) -> None:
    """Call ``write(tmp_path)``, fsync the file, then rename it onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        # mkstemp (and safetensors) create 0600 files: give the umask's permissions, as
        # a normally written file has.
        os.chmod(tmp, 0o666 & ~_umask())
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_file(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Tensors and metadata of a safetensors file; any failure is a ``ValueError``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as fh:
            metadata = fh.metadata() or {}
            tensors = {key: fh.get_tensor(key) for key in fh.keys()}
    except (SafetensorError, OSError, RuntimeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not a readable safetensors file: {exc}") from exc
    except Exception as exc:  # the Rust parser raises its own types for hostile headers
        raise ValueError(f"{path} is not a readable safetensors file: {exc!r}") from exc
    return tensors, metadata


def load(path: str | os.PathLike, device: str | torch.device | None = None):
    """Load a model written by ``model.save(path)``.

    Parameters
    ----------
    path : the safetensors file.
    device : where to put the model's tensors; default: the device it was saved with
        when that is available, else the CPU.

    Raises
    ------
    ValueError
        For a truncated, corrupt or foreign file, or unexpected metadata.
    """
    tensors, metadata = read_file(path)
    if metadata.get("format") != FORMAT:
        raise ValueError(f"{path} was not written by deepbelief (no '{FORMAT}' format tag)")
    version = metadata.get("format_version")
    if version != str(FORMAT_VERSION):
        raise ValueError(f"{path}: unsupported format_version {version!r}")
    name = metadata.get("class")
    classes = _registry()
    if name not in classes:
        raise ValueError(f"{path}: unknown model class {name!r}")
    try:
        params = json.loads(metadata["params"])
        extra = json.loads(metadata.get("extra", "{}"))
    except (KeyError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: malformed metadata ({exc})") from exc
    if not isinstance(params, dict) or not isinstance(extra, dict):
        raise ValueError(f"{path}: malformed metadata (params/extra must be JSON objects)")
    cls = classes[name]
    if isinstance(params.get("sampler"), dict):
        from .samplers import from_spec

        params["sampler"] = from_spec(params["sampler"])
    if device is not None:
        params["device"] = str(device)
    elif "device" in params and str(params["device"]).startswith("cuda") \
            and not torch.cuda.is_available():
        params["device"] = "cpu"
    try:
        return cls._from_state(params, tensors, extra)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path}: file does not describe a valid {name}: {exc!r}") from exc


def _jsonable_params(model) -> dict[str, Any]:
    params = {}
    for key, value in model.get_params(deep=False).items():
        if isinstance(value, torch.device):
            value = str(value)
        if isinstance(value, np.generic):  # e.g. np.float32(0.5): its Python number
            value = value.item()
        if isinstance(value, tuple):
            value = list(value)
        if isinstance(value, (np.ndarray, torch.Tensor)):  # e.g. a mixture's means_init
            value = value.tolist()
        if key == "random_state" and not (value is None or isinstance(value, int)):
            value = None
        if key == "sampler" and hasattr(value, "spec"):  # a Sampler object
            value = value.spec()
        try:
            json.dumps(value)
        except TypeError:
            value = repr(value)
        params[key] = value
    return params


def check_tensor(tensors: dict[str, torch.Tensor], name: str, shape: tuple[int, ...],
                 ) -> torch.Tensor:
    """The tensor ``name`` with exactly ``shape`` and a float dtype, all finite."""
    if name not in tensors:
        raise ValueError(f"model file lacks tensor {name!r}")
    t = tensors[name]
    if tuple(t.shape) != tuple(shape):
        raise ValueError(f"tensor {name!r} has shape {tuple(t.shape)}, expected {tuple(shape)}")
    if not t.is_floating_point():
        raise ValueError(f"tensor {name!r} has dtype {t.dtype}, expected a float")
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"tensor {name!r} contains NaN or infinity")
    return t


# ---------------------------------------------------------------------------
# Class labels

#: NumPy kinds of the class labels a model file can hold: booleans, signed and
#: unsigned integers, floats, fixed-width strings and Python objects (strings,
#: numbers or booleans, as pandas gives).
_LABEL_KINDS = ("b", "i", "u", "f", "U", "O")


def encode_classes(classes) -> dict[str, Any]:
    """The metadata that stores a classifier's labels ``classes`` in a model file.

    ``classes`` is a 1-D array of distinct, sorted labels (a fitted ``classes_``) of
    booleans, integers, floats or strings. The result holds ``classes`` (the labels
    as a JSON list), ``classes_kind`` (the NumPy kind) and ``classes_dtype`` (the
    NumPy type), which :func:`decode_classes` reads back to an equal array of the same
    type. Other labels are a ``ValueError``.
    """
    arr = np.asarray(classes)
    if arr.ndim != 1 or not arr.size or arr.dtype.kind not in _LABEL_KINDS:
        raise ValueError(f"only a 1-D array of numbers, booleans or strings can be saved as "
                         f"class labels, got {classes!r}")
    values = [v.item() if isinstance(v, np.generic) else v for v in arr.tolist()]
    if arr.dtype.kind == "O" and not all(isinstance(v, (str, int, float)) for v in values):
        raise ValueError(f"only numbers, booleans and strings can be saved as class labels, "
                         f"got {classes!r}")
    _check_label_values(arr.dtype.kind, values)
    _check_sorted(arr)
    return {"classes": values, "classes_kind": arr.dtype.kind, "classes_dtype": arr.dtype.str}


def decode_classes(extra: dict[str, Any]) -> np.ndarray:
    """The class labels that a model file's metadata ``extra`` holds, as a NumPy array.

    Reads what :func:`encode_classes` writes, and the older form that held only the
    list ``classes`` (``np.asarray`` of it, as it was loaded then). Labels that are
    missing, not a non-empty list of numbers, booleans or strings, of another type
    than the one named, not distinct or not sorted are a ``ValueError``.
    """
    values = extra.get("classes")
    if not isinstance(values, list) or not values or not all(
            isinstance(v, (str, int, float)) for v in values):
        raise ValueError("model file lacks a non-empty list of class labels (numbers, "
                         "booleans or strings)")
    if "classes_kind" not in extra:  # written before the labels' type was stored
        classes = np.asarray(values)
    else:
        classes = _typed_classes(values, extra.get("classes_kind"), extra.get("classes_dtype"))
    _check_sorted(classes)
    return classes


def _typed_classes(values: list, kind, dtype_name) -> np.ndarray:
    """``values`` as an array of NumPy kind ``kind`` and type ``dtype_name``."""
    if kind not in _LABEL_KINDS:
        raise ValueError(f"model file has class labels of unknown kind {kind!r}")
    _check_label_values(kind, values)
    if kind == "O":
        classes = np.empty(len(values), dtype=object)
        classes[:] = values
        return classes
    if kind == "U":
        return np.asarray(values, dtype=str)
    try:
        dtype = np.dtype(str(dtype_name))
    except (TypeError, ValueError):
        dtype = None
    if dtype is None or dtype.kind != kind or dtype.itemsize > 16:
        raise ValueError(f"model file has class labels of type {dtype_name!r}, expected a "
                         f"NumPy type of kind {kind!r}")
    try:
        with np.errstate(over="ignore"):  # a float beyond the type's range: refused below
            classes = np.asarray(values, dtype=dtype)
    except OverflowError:
        raise ValueError(f"model file has class labels out of the range of {dtype}") from None
    if kind == "f" and not np.isfinite(classes).all():
        raise ValueError(f"model file has class labels out of the range of {dtype}")
    return classes


def _check_label_values(kind: str, values: list) -> None:
    """Every label in ``values`` is a JSON value of the kind of label that ``kind`` names."""
    if kind == "b":
        ok = all(isinstance(v, bool) for v in values)
    elif kind in ("i", "u"):
        ok = all(isinstance(v, int) and not isinstance(v, bool) for v in values)
    elif kind == "f":
        ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)
                 for v in values)
    elif kind == "U":
        ok = all(isinstance(v, str) for v in values)
    else:
        ok = all(not isinstance(v, float) or np.isfinite(v) for v in values)
    if not ok:
        raise ValueError(f"class labels {values!r} are not all labels of NumPy kind {kind!r}")


def _check_sorted(classes: np.ndarray) -> None:
    """``classes`` is a 1-D array of distinct labels in increasing order (as ``np.unique``
    gives, which prediction and ``partial_fit`` rely on)."""
    try:
        ok = classes.ndim == 1 and np.array_equal(np.unique(classes), classes)
    except TypeError:  # labels of types that do not compare
        ok = False
    if not ok:
        raise ValueError(f"class labels must be distinct and sorted, got {classes.tolist()!r}")
