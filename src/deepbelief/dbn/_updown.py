"""The generative DBN's directed layers and the up-down step (appendix B of the paper).

Notation (Hinton, Osindero & Teh 2006). Directed layers l = 1..L-1 have
recognition weights R_l (n_l x n_{l-1}) with biases r_l and generative weights
G_l (n_l x n_{l-1}) with biases g_l, used as an RBM's W, c and W, b are:

    up:    q(h_l = 1 | h_{l-1}) = σ(r_l + R_l h_{l-1})      (p_h_given_v)
    down:  p(h_{l-1} = 1 | h_l) = σ(g_l + G_lᵀ h_l)         (p_v_given_h)

The top RBM is the RBM core (:class:`~deepbelief.model.RBM`) whose visible layer
is the penultimate layer p beside a softmax label group y:

    p(t = 1 | p, y) = σ(c + W_p p + W_y y)
    p(p = 1 | t) = σ(b_p + W_pᵀ t),   p(y = k | t) = softmax(b_y + W_yᵀ t)_k
    F(p, y) = -b_pᵀp - b_yᵀy - Σ_i log(1 + exp(c_i + W_p,i p + W_y,i y))
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import functional as fn
from ..model import RBM, copy_state
from ..samplers import CD
from ..training import CDTrainer
from ..units import BINARY, Units, bernoulli


@dataclass
class Directed:
    """One directed layer pair: recognition (R, r) and generative (G, g) weights.

    ``visible`` is the lower layer's unit type: binary, or for the image layer of
    a net on real values Gaussian (up: σ(r + R (x / σ²)); down: the mean
    g + Gᵀh of N(g + Gᵀh, σ²), the variances those of the pre-trained RBM).
    """

    R: torch.Tensor
    r: torch.Tensor
    G: torch.Tensor
    g: torch.Tensor
    visible: Units = BINARY

    def up(self, x: torch.Tensor) -> torch.Tensor:
        return fn.p_h_given_v(x, self.R, self.r, visible=self.visible)

    def down(self, h: torch.Tensor) -> torch.Tensor:
        return fn.p_v_given_h(h, self.G, self.g, self.visible)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"R": self.R, "r": self.r, "G": self.G, "g": self.g,
                **self.visible.parameters()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        copy_state(self.state_dict(), state)


def top_trainer(top: RBM, k: int) -> CDTrainer:
    """The top RBM's CD-k in up-down: penultimate states sampled, label probabilities kept.

    As in the paper's code, the negative chain draws binary penultimate states
    (they start the sleep phase) and carries the label distribution p(y | t).
    """
    return CDTrainer(top, CD(k, sample_visible=(True, False)))


@torch.no_grad()
def up_down_step(layers: list[Directed], trainer: CDTrainer, x: torch.Tensor,
                 lab: torch.Tensor, lr: float, top: tuple[float, float, float],
                 generator: torch.Generator | None) -> None:
    """One up-down (contrastive wake-sleep) update on a minibatch (appendix B).

    Wake: a sampled up-pass; each G_l learns to reconstruct the layer below,
    ΔG_l ∝ h_lᵀ(h_{l-1} - σ(g_l + G_lᵀ h_l)). Top: one CD-k step of ``trainer``
    (its ``k``) on [p, y] with the label clamped in the positive phase, with the
    learning rate, momentum and weight decay ``top``. Sleep: from the chain's
    penultimate states a sampled down-pass; each R_l learns to recognise,
    ΔR_l ∝ (h_l - σ(r_l + R_l h_{l-1}))ᵀ h_{l-1}. The directed layers take plain
    steps of size ``lr`` on batch means. For Gaussian image units both steps are
    the gradients times σ² (the preconditioning of :mod:`deepbelief.training`).
    """
    rate = lr / x.shape[0]
    wake = [x]
    for layer in layers:
        wake.append(bernoulli(layer.up(wake[-1]), generator))
    v_neg = trainer.step(torch.cat([wake[-1], lab], 1), *top, generator)
    sleep = [v_neg[:, :wake[-1].shape[1]]]
    for i, layer in enumerate(reversed(layers)):
        below = layer.down(sleep[-1])
        sleep.append(below if i == len(layers) - 1 else bernoulli(below, generator))
    sleep = sleep[::-1]
    for i, layer in enumerate(layers):
        h_below, h = wake[i], wake[i + 1]
        err = h_below - layer.down(h)
        layer.G.addmm_(h.T, err, alpha=rate)
        layer.g.add_(err.sum(0), alpha=rate)
    for i, layer in enumerate(layers):
        h_below, h = sleep[i], sleep[i + 1]
        err = h - layer.up(h_below)
        layer.R.addmm_(err.T, h_below, alpha=rate)
        layer.r.add_(err.sum(0), alpha=rate)
