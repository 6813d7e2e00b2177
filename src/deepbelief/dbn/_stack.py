"""Greedy layer-wise pre-training of a stack of RBMs (slides §5).

Layer l+1 is trained on p(h|v) of layer l (or on binary states drawn from it),
computed on the device without leaving torch. Data bigger than memory comes as an
iterable of minibatches (e.g. a ``DataLoader``); layer l+1 then trains on a stream
that maps each batch through the trained layers below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from .. import distributed
from .. import functional as fn
from .._validation import (
    as_labels,
    as_tensor2d,
    check_positive,
    resolve_device,
    resolve_epochs,
)
from ..rbm import BernoulliRBM, _batch_data, _is_batch_stream
from ..sampling import bernoulli

DTYPES = {"float32": torch.float32, "float64": torch.float64}
CHUNK = 4096


def layer_params(rbm_params: Mapping | Sequence[Mapping] | None, n_layers: int,
                 n_iter: int | str, n_samples: int | None = None,
                 minimum: int = 10) -> list[dict[str, Any]]:
    """Per-layer RBM keyword arguments: ``{"n_iter": n_iter}`` updated by ``rbm_params``.

    ``rbm_params`` is one dict applied to every layer or a list of one dict per layer.
    An ``"auto"`` epoch count becomes a number for ``n_samples`` rows (None: a
    stream) and the layer's batch size, as :class:`~deepbelief.BernoulliRBM` sizes
    it, with at least ``minimum`` epochs.
    """
    if rbm_params is None or isinstance(rbm_params, Mapping):
        given = [dict(rbm_params or {})] * n_layers
    else:
        given = [dict(p) for p in rbm_params]
        if len(given) != n_layers:
            raise ValueError(f"rbm_params has {len(given)} dicts for {n_layers} layers")
    forbidden = {"n_components", "device", "dtype", "random_state", "verbose",
                 "checkpoint_dir", "checkpoint_every"}
    for params in given:
        if forbidden & params.keys():
            raise ValueError(f"rbm_params may not set {sorted(forbidden & params.keys())}")
    out = []
    for params in given:
        layer = {"n_iter": n_iter, **params}
        rbm = BernoulliRBM(**layer)
        layer["n_iter"] = resolve_epochs(rbm.n_iter, "pretrain_epochs", n_samples,
                                         rbm.batch_size, minimum=minimum)
        out.append(layer)
    return out


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


def is_stream(X) -> bool:
    """An iterable of minibatches (a ``DataLoader``, a generator) rather than one array."""
    return _is_batch_stream(X)


def check_passes(X, passes: int) -> None:
    """Refuse a one-shot iterator that would have to be read more than once."""
    if passes > 1 and iter(X) is X:
        raise ValueError(f"X is a one-shot iterator, but training reads the data {passes} "
                         "times; pass a DataLoader or another re-iterable")


def batch_parts(batch) -> tuple[Any, Any]:
    """``(x, y)`` of a minibatch item; ``y`` is None for unlabelled batches."""
    if isinstance(batch, (tuple, list)) and len(batch) >= 2:
        return batch[0], batch[1]
    return _batch_data(batch), None


def stream_classes(X, classes=None) -> np.ndarray:
    """The sorted distinct labels: ``classes`` if given, else one pass over the y batches."""
    if classes is None:
        seen = [np.unique(_labels(batch_parts(b)[1])) for b in X]
        if not seen:
            raise ValueError("X: the iterable of minibatches is empty")
        classes = np.unique(np.concatenate(seen))
    classes = np.unique(np.asarray(classes))
    if classes.ndim != 1 or len(classes) < 2:
        raise ValueError(f"need at least 2 classes, got {classes.tolist()}")
    return classes


def label_index(y, classes: np.ndarray, device) -> torch.Tensor:
    """Each label's position in ``classes`` (an int64 tensor on ``device``)."""
    y = _labels(y)
    index = np.minimum(np.searchsorted(classes, y), len(classes) - 1)
    if not np.all(classes[index] == y):
        raise ValueError(f"labels {sorted(set(y.tolist()) - set(classes.tolist()))} are not "
                         f"among the classes {classes.tolist()}")
    return torch.as_tensor(index, dtype=torch.int64, device=device)


def _labels(y) -> np.ndarray:
    if y is None:
        raise ValueError("each minibatch must be an (X_batch, y_batch) pair")
    return as_labels(y, len(y))


class MappedStream:
    """A re-iterable view of a minibatch stream with ``fn`` applied to each ``x``."""

    def __init__(self, source: Iterable, fn: Callable[[Any], torch.Tensor]) -> None:
        self.source, self.fn = source, fn

    def __iter__(self) -> Iterator[torch.Tensor]:
        for batch in self.source:
            yield self.fn(batch_parts(batch)[0])


def unwrap(stream) -> tuple[Iterable, list[Callable[[Any], torch.Tensor]]]:
    """The raw minibatch source under nested :class:`MappedStream` s and their maps, in order."""
    fns = []
    while isinstance(stream, MappedStream):
        fns.append(stream.fn)
        stream = stream.source
    return stream, fns[::-1]


def _layer_up(rbm: BernoulliRBM, sample: bool, generator: torch.Generator):
    def fn(x: torch.Tensor) -> torch.Tensor:
        h = up(rbm._check_X(x, "X"), rbm.W_, rbm.c_)
        return bernoulli(h, generator) if sample else h
    return fn


@torch.no_grad()
def up(X: torch.Tensor, W: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """p(h|v) = σ(c + W v) for every row, in chunks."""
    return torch.cat([fn.p_h_given_v(chunk, W, c) for chunk in X.split(CHUNK)])


def pretrain_stack(X, sizes: Sequence[int], params: Sequence[dict],
                   generator: torch.Generator, *, sample_hidden: bool = False,
                   device: Any = "cpu", dtype: str = "float32", bar: tqdm | None = None,
                   checkpoint_dir: str | Path | None = None, checkpoint_every: int = 1,
                   resume: bool = False) -> tuple[list[BernoulliRBM], Any]:
    """Train one RBM per entry of ``sizes``, each on the hidden activities of the last.

    ``X`` is a tensor or an iterable of minibatches. Returns the RBMs and the top
    layer's activities p(h|v) on ``X`` (or states drawn from them when
    ``sample_hidden``): a tensor, or for a stream a re-iterable stream of them.

    With ``checkpoint_dir``, layer l checkpoints its epochs in ``layer-<l>`` there
    (its final epoch always), and ``resume`` restores finished layers and continues
    an unfinished one.
    """
    rbms = []
    data = X
    for size, kwargs in zip(sizes, params, strict=True):
        ckpt = None
        if checkpoint_dir is not None:
            ckpt = str(Path(checkpoint_dir, f"layer-{len(rbms) + 1}"))
        rbm = BernoulliRBM(size, device=device, dtype=dtype, random_state=generator,
                           checkpoint_dir=ckpt, checkpoint_every=checkpoint_every, **kwargs)
        if bar is not None:
            bar.set_description(f"pre-training layer {len(rbms) + 1} ({size} units)")
        rbm.fit(data, callback=None if bar is None else _advance(bar),
                resume=resume and ckpt is not None)
        rbms.append(rbm)
        if isinstance(data, torch.Tensor):
            data = up(data, rbm.W_, rbm.c_)
            if sample_hidden:
                data = bernoulli(data, generator)
        else:
            data = MappedStream(data, _layer_up(rbm, sample_hidden, generator))
    return rbms, data


def _advance(bar: tqdm):
    def callback(rbm: BernoulliRBM) -> None:
        bar.update(1)
        bar.set_postfix(recon=f"{rbm.history_['reconstruction_error'][-1]:.4g}")
    return callback


def progress(total: int, verbose: bool) -> tqdm:
    """The one progress bar over all layers and epochs (rank 0's only)."""
    show = bool(verbose) and distributed.is_main_process()
    return tqdm(total=total, unit="epoch", disable=not show, leave=show)
