"""The label-joint RBM: an RBM over (x, y) whose label y is one softmax group.

It is the top RBM of the generative DBN (x: the penultimate layer) and the
classification RBM (x: the inputs). With o_k = c + W_x x + U_k (U: the label
columns of W), the hidden units sum out in closed form,

    F(x, y = k) = -b_xᵀx - d_k - Σ_i log(1 + exp(o_ki)),

so p(y = k | x) = softmax_k(-F(x, k)) is exact (Larochelle & Bengio 2008).
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn.functional import one_hot

from . import functional as fn
from .model import RBM
from .units import Bernoulli, Layout, Softmax


def label_joint_units(n_features: int, n_classes: int) -> Layout:
    """The visible layer: ``n_features`` binary units, then one softmax label group."""
    return Layout(Bernoulli(n_features), Softmax(n_classes))


def label_inputs(model: RBM, x: torch.Tensor) -> torch.Tensor:
    """o_k = c + W_x x + U_k for every row and label k, shape (n, n_classes, n_hidden).

    The hidden input c + W_x x is shared by the labels; label k adds U's column k.
    """
    n = x.shape[1]
    base = fn.hidden_input(x, model.W[:, :n], model.c)
    # U's columns copied into rows first: the broadcast sum then runs over contiguous
    # memory (7x quicker than over W's strided columns)
    return base.unsqueeze(1) + model.W[:, n:].T.contiguous().unsqueeze(0)


def free_energies(model: RBM, x: torch.Tensor, inputs: torch.Tensor | None = None,
                  ) -> torch.Tensor:
    """F(x, y = k) for every row and every label k, shape (n, n_classes).

    ``inputs``: :func:`label_inputs` of ``x`` where the caller has them already.
    """
    n = x.shape[1]
    inputs = label_inputs(model, x) if inputs is None else inputs
    return -(x @ model.b[:n]).unsqueeze(1) - model.b[n:] - model.hidden.log_partition(inputs)


def label_vectors(label, n: int, classes: np.ndarray, like: torch.Tensor,
                  generator: torch.Generator | None) -> torch.Tensor:
    """One-hot rows of ``label`` (one label or ``n`` labels), or, for None, labels
    drawn uniformly at random; dtype and device of ``like``."""
    n_classes = len(classes)
    if label is None:
        uniform = torch.full((n, n_classes), 1.0 / n_classes, device=like.device,
                             dtype=like.dtype)
        return Softmax(n_classes).sample(uniform, generator)
    labels = np.asarray(label)
    labels = np.full(n, labels) if labels.ndim == 0 else labels
    if labels.shape != (n,):
        raise ValueError(f"label must be one label or {n} labels, got shape {labels.shape}")
    index = np.minimum(np.searchsorted(classes, labels), n_classes - 1)
    if not np.all(classes[index] == labels):
        raise ValueError(f"unknown label(s) {set(labels.tolist()) - set(classes.tolist())}; "
                         f"classes are {classes.tolist()}")
    return one_hot(torch.as_tensor(index, device=like.device), n_classes).to(like.dtype)
