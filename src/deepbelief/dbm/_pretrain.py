"""Greedy pre-training of a DBM: RBMs whose conditionals count a layer twice.

A hidden layer of a DBM sees the layer below and the layer above; an RBM of the
stack sees only one of them. Salakhutdinov & Hinton (2009) let each RBM count
the missing neighbour by doubling the input from the one it has: the first RBM
doubles its bottom-up input (p(h|v) = σ(c + 2Wv), two tied copies of v), the
last one its top-down input (p(v|h) = σ(b + 2Wᵀh)), the ones between both. The
stored W is not doubled: composed into the DBM each W_l is counted once from
each side, which is the double counting the pre-training anticipated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ..model import RBM
from ..rbm import BernoulliRBM


@dataclass
class ScaledRBM(RBM):
    """An RBM core whose conditionals take the other layer's input ``up`` / ``down`` times:
    p(h|v) = σ(c + up · W v), p(v|h) = σ(b + down · Wᵀ h)."""

    up: float = 1.0
    down: float = 1.0

    def p_h_given_v(self, v: torch.Tensor) -> torch.Tensor:
        return self.hidden.mean_(torch.addmm(self.c, v, self.W.T, alpha=self.up))

    def p_v_given_h(self, h: torch.Tensor) -> torch.Tensor:
        return self.visible.mean_(torch.addmm(self.b, h, self.W, alpha=self.down))


def doubling(layer: int, n_layers: int) -> tuple[float, float]:
    """(up, down) of the pre-training RBM of hidden layer ``layer`` (1-based) of ``n_layers``."""
    if n_layers == 1:
        return 1.0, 1.0
    return (2.0 if layer < n_layers else 1.0), (2.0 if layer > 1 else 1.0)


class LayerRBM(BernoulliRBM):
    """A :class:`~deepbelief.BernoulliRBM` on a :class:`ScaledRBM` core (internal,
    never cloned: the keywords besides ``up`` and ``down`` are BernoulliRBM's)."""

    def __init__(self, n_components: int = 256, *, up: float = 1.0, down: float = 1.0,
                 **params: Any) -> None:
        super().__init__(n_components, **params)
        self.up = up
        self.down = down

    def _initialize(self, X: torch.Tensor) -> None:
        super()._initialize(X)
        m = self.model_
        self.model_ = ScaledRBM(m.W, m.b, m.c, m.visible, m.hidden, up=self.up, down=self.down)
