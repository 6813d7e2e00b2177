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
        if isinstance(value, tuple):
            value = list(value)
        if isinstance(value, (np.ndarray, torch.Tensor)):  # e.g. a mixture's means_init
            value = value.tolist()
        if key == "random_state" and not (value is None or isinstance(value, int)):
            value = None
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
