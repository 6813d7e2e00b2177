"""Greedy layer-wise pre-training of a stack of RBMs (slides §5).

Layer l+1 is trained on p(h|v) of layer l (or on binary states drawn from it),
computed on the device without leaving torch: the data source is mapped through
each trained layer (an array once, a stream of minibatches batch by batch, its
labels kept for the layers above).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from .. import distributed
from .._validation import (
    AUTO_UPDATES,
    DTYPES,
    as_tensor2d,
    auto_batch_size,
    check_positive,
    data_dtype,
    resolve_device,
    resolve_dtype,
    resolve_epochs,
)
from ..data import Minibatches, is_stream
from ..gaussian import GaussianBernoulliRBM
from ..rbm import BernoulliRBM
from ..sampling import bernoulli
from ..tabular import TabularRBM
from ..transforms import ColumnEncoder


def layer_params(rbm_params: Mapping | Sequence[Mapping] | None, n_layers: int,
                 n_iter: int | str, n_samples: int | None = None,
                 minimum: int = 10, updates: int = AUTO_UPDATES,
                 powers: Sequence[float] | None = None) -> list[dict[str, Any]]:
    """Per-layer RBM keyword arguments: ``{"n_iter": n_iter}`` updated by ``rbm_params``.

    ``rbm_params`` is one dict applied to every layer or a list of one dict per layer.
    Unless ``rbm_params`` sets it, a layer's minibatch holds about 1/60 of the
    ``n_samples`` rows (:func:`~deepbelief._validation.auto_batch_size`: 100 for
    60k rows or a stream, 19 for 1.2k). An ``"auto"`` epoch count becomes a
    number for ``n_samples`` rows and that batch size, as
    :class:`~deepbelief.BernoulliRBM` sizes it (``updates`` for 60k rows, fewer for
    less data by each layer's entry of ``powers``: see
    :func:`~deepbelief._validation.auto_updates`; default 0.5), with at least
    ``minimum`` epochs.
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
    for params, power in zip(given, powers or [0.5] * n_layers, strict=True):
        layer = {"n_iter": n_iter, "batch_size": auto_batch_size(n_samples), **params}
        rbm = BernoulliRBM(**layer)
        layer["n_iter"] = resolve_epochs(rbm.n_iter, "pretrain_epochs", n_samples,
                                         rbm.batch_size, minimum=minimum, updates=updates,
                                         power=power)
        out.append(layer)
    return out


def saved_dtype(model, tensors: Mapping[str, torch.Tensor], extra: Mapping,
                like: str) -> torch.dtype:
    """The floating-point type of a model read from a file.

    The estimator's ``dtype`` when it names one, else the type the model was
    trained in (``extra["dtype"]``; files without it: the type of tensor ``like``).
    """
    dtype = resolve_dtype(model.dtype)
    if dtype is not None:
        return dtype
    name = extra.get("dtype")
    if name is not None:
        if name not in DTYPES:
            raise ValueError(f"model file has an invalid dtype {name!r}")
        return DTYPES[name]
    tensor = tensors.get(like)
    return data_dtype(None if tensor is None else tensor.dtype)


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


def pretrain_stack(data, sizes: Sequence[int], params: Sequence[dict],
                   generator: torch.Generator, *, sample_hidden: bool = False,
                   device: Any = "cpu", dtype: str | None = None, bar: tqdm | None = None,
                   checkpoint_dir: str | Path | None = None, checkpoint_every: int = 1,
                   resume: bool = False, visible_units: str = "bernoulli",
                   layer_class: type[BernoulliRBM] = BernoulliRBM,
                   encoder: ColumnEncoder | None = None,
                   ) -> tuple[list[BernoulliRBM], Any]:
    """Train one RBM per entry of ``sizes``, each on the hidden activities of the last.

    ``visible_units="gaussian"`` makes the first RBM a
    :class:`~deepbelief.GaussianBernoulliRBM` on the data as given (already
    standardised by the caller); ``"tabular"`` a :class:`~deepbelief.TabularRBM`
    (:meth:`~deepbelief.TabularRBM.on_units`) on the units' values of a table that
    ``encoder`` encoded; the layers above are binary, of ``layer_class``
    (a :class:`~deepbelief.BernoulliRBM` or a child of it).

    ``data`` is an array, a stream of minibatches or a
    :class:`~deepbelief.data.Minibatches` source; with binary first-layer units
    it may be sparse (a SciPy sparse matrix: the first RBM trains on sparse
    minibatches). ``dtype`` is the RBMs' floating-point type, None: the data's
    (float32 stays float32, anything else becomes float64). Returns the RBMs and the data
    mapped through all of them, p(h|v) of the top layer (or states drawn from it
    when ``sample_hidden``): a tensor for an array, else a source (labels kept).

    With ``checkpoint_dir``, layer l checkpoints its epochs in ``layer-<l>`` there
    (its final epoch always), and ``resume`` restores finished layers and continues
    an unfinished one.
    """
    given = data
    if not isinstance(data, Minibatches):
        dt, dev = resolve_dtype(dtype), resolve_device(device)
        passes = sum(p.get("n_iter", 1) for p in params) if is_stream(data) else 1
        binary = visible_units == "bernoulli"

        def check(x, n_features: int | None) -> torch.Tensor:
            nonlocal dt  # a stream's later minibatches take its first one's type
            t = as_tensor2d(x, dtype=dt, device=dev, n_features=n_features,
                            unit_interval=binary, accept_sparse=binary)
            dt = t.dtype
            return t

        data = Minibatches(data, passes=passes, check=check)
    rbms = []
    for size, kwargs in zip(sizes, params, strict=True):
        ckpt = None
        if checkpoint_dir is not None:
            ckpt = str(Path(checkpoint_dir, f"layer-{len(rbms) + 1}"))
        make, extra = layer_class, {}
        if visible_units == "gaussian" and not rbms:
            make, extra = GaussianBernoulliRBM, {"standardize": False}
        if visible_units == "tabular" and not rbms:
            make = partial(TabularRBM.on_units, encoder)
        rbm = make(size, device=device, dtype=dtype, random_state=generator,
                   checkpoint_dir=ckpt, checkpoint_every=checkpoint_every, **extra, **kwargs)
        if bar is not None:
            bar.set_description(f"pre-training layer {len(rbms) + 1} ({size} units)")
        rbm.fit(data, callback=None if bar is None else _advance(bar),
                resume=resume and ckpt is not None)
        rbms.append(rbm)
        data = data.map(_layer_up(rbm, sample_hidden, generator))
    if not isinstance(given, Minibatches) and data.n_samples is not None:
        return rbms, data.X
    return rbms, data


def _layer_up(rbm: BernoulliRBM, sample: bool, generator: torch.Generator):
    @torch.no_grad()
    def up(x: torch.Tensor, y) -> torch.Tensor:
        h = rbm.model_.p_h_given_v(x)
        return bernoulli(h, generator) if sample else h
    return up


def _advance(bar: tqdm):
    def callback(rbm: BernoulliRBM) -> None:
        bar.update(1)
        bar.set_postfix(recon=f"{rbm.history_['reconstruction_error'][-1]:.4g}")
    return callback


def progress(total: int, verbose: bool) -> tqdm:
    """The one progress bar over all layers and epochs (rank 0's only)."""
    show = bool(verbose) and distributed.is_main_process()
    return tqdm(total=total, unit="epoch", disable=not show, leave=show)
