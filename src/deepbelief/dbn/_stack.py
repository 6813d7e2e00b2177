"""Greedy layer-wise pre-training of a stack of RBMs (slides §5).

Layer l+1 is trained on p(h|v) of layer l (or on binary states drawn from it),
computed on the device without leaving torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from .. import functional as fn
from .._validation import as_labels, as_tensor2d, check_positive, resolve_device
from ..rbm import BernoulliRBM
from ..sampling import bernoulli

DTYPES = {"float32": torch.float32, "float64": torch.float64}
CHUNK = 4096


def layer_params(rbm_params: Mapping | Sequence[Mapping] | None, n_layers: int,
                 n_iter: int) -> list[dict[str, Any]]:
    """Per-layer RBM keyword arguments: ``{"n_iter": n_iter}`` updated by ``rbm_params``.

    ``rbm_params`` is one dict applied to every layer or a list of one dict per layer.
    """
    if rbm_params is None or isinstance(rbm_params, Mapping):
        given = [dict(rbm_params or {})] * n_layers
    else:
        given = [dict(p) for p in rbm_params]
        if len(given) != n_layers:
            raise ValueError(f"rbm_params has {len(given)} dicts for {n_layers} layers")
    forbidden = {"n_components", "device", "dtype", "random_state", "verbose"}
    for params in given:
        if forbidden & params.keys():
            raise ValueError(f"rbm_params may not set {sorted(forbidden & params.keys())}")
    return [{"n_iter": n_iter, **params} for params in given]


def check_sizes(sizes, min_layers: int = 1) -> tuple[int, ...]:
    """``hidden_layer_sizes`` as a tuple of positive ints (JSON gives lists back)."""
    if isinstance(sizes, (int, np.integer)):
        sizes = (sizes,)
    sizes = tuple(sizes)
    if len(sizes) < min_layers:
        raise ValueError(f"hidden_layer_sizes needs at least {min_layers} layers, got {sizes}")
    for n in sizes:
        check_positive(n, "hidden_layer_sizes entries", integer=True)
    return tuple(int(n) for n in sizes)


def check_X(X, dtype: str, device, n_features: int | None = None,
            owner: str = "the model") -> torch.Tensor:
    """Inputs in [0, 1] as a 2-D tensor on the model's device."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
    return as_tensor2d(X, name="X", dtype=DTYPES[dtype], device=resolve_device(device),
                       n_features=n_features, unit_interval=True, owner=owner)


def encode_labels(y, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """``classes_`` (sorted distinct labels, any type) and each label's index."""
    y = as_labels(y, n_samples)
    classes, index = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(f"y needs at least 2 classes, got {len(classes)}")
    return classes, index


@torch.no_grad()
def up(X: torch.Tensor, W: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """p(h|v) = σ(c + W v) for every row, in chunks."""
    return torch.cat([fn.p_h_given_v(chunk, W, c) for chunk in X.split(CHUNK)])


def pretrain_stack(X: torch.Tensor, sizes: Sequence[int], params: Sequence[dict],
                   generator: torch.Generator, *, sample_hidden: bool = False,
                   device: Any = "cpu", dtype: str = "float32",
                   bar: tqdm | None = None) -> tuple[list[BernoulliRBM], torch.Tensor]:
    """Train one RBM per entry of ``sizes``, each on the hidden activities of the last.

    Returns the RBMs and the top layer's activities p(h|v) on ``X`` (or states drawn
    from them when ``sample_hidden``): the data of whatever comes next.
    """
    rbms = []
    data = X
    for size, kwargs in zip(sizes, params, strict=True):
        rbm = BernoulliRBM(size, device=device, dtype=dtype, random_state=generator, **kwargs)
        label = f"layer {len(rbms) + 1} ({data.shape[1]}-{size})"
        if bar is not None:
            bar.set_description(f"pre-training {label}")
        rbm.fit(data, callback=None if bar is None else _advance(bar))
        rbms.append(rbm)
        data = up(data, rbm.W_, rbm.c_)
        if sample_hidden:
            data = bernoulli(data, generator)
    return rbms, data


def _advance(bar: tqdm):
    def callback(rbm: BernoulliRBM) -> None:
        bar.update(1)
        bar.set_postfix(recon=f"{rbm.history_['reconstruction_error'][-1]:.4g}")
    return callback


def progress(total: int, verbose: bool) -> tqdm:
    """The one progress bar over all layers and epochs."""
    return tqdm(total=total, unit="epoch", disable=not verbose, leave=bool(verbose))
