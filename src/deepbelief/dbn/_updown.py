"""The generative DBN's tensor algebra: a label-joint top-level RBM and the up-down step.

Notation (Hinton, Osindero & Teh 2006, appendix B). Directed layers l = 1..L-1
have recognition weights R_l (n_l x n_{l-1}) with biases r_l and generative
weights G_l (n_l x n_{l-1}) with biases g_l:

    up:    q(h_l = 1 | h_{l-1}) = σ(r_l + R_l h_{l-1})
    down:  p(h_{l-1} = 1 | h_l) = σ(g_l + G_lᵀ h_l)

The top RBM joins the penultimate layer p and the one-hot label y to the top
layer t, with W = [W_p, W_y] (n_top x (n_pen + n_classes)), visible bias
b = [b_p, b_y] and hidden bias c:

    p(t = 1 | p, y) = σ(c + W_p p + W_y y)
    p(p = 1 | t) = σ(b_p + W_pᵀ t),   p(y = k | t) = softmax(b_y + W_yᵀ t)_k
    F(p, y) = -b_pᵀp - b_yᵀy - Σ_i log(1 + exp(c_i + W_p,i p + W_y,i y))
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch.nn.functional import one_hot, softplus

from ..sampling import bernoulli


@dataclass
class Directed:
    """One directed layer pair: recognition (R, r) and generative (G, g) weights."""

    R: torch.Tensor
    r: torch.Tensor
    G: torch.Tensor
    g: torch.Tensor

    def up(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(torch.addmm(self.r, x, self.R.T))

    def down(self, h: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(torch.addmm(self.g, h, self.G))


@dataclass
class TopRBM:
    """The label-joint RBM: W (n_top x (n_pen + n_classes)), b, c; see module docstring."""

    W: torch.Tensor
    b: torch.Tensor
    c: torch.Tensor
    n_classes: int
    increments: list[torch.Tensor] = field(default_factory=list)

    @property
    def n_pen(self) -> int:
        return self.W.shape[1] - self.n_classes

    def p_top(self, pen: torch.Tensor, lab: torch.Tensor) -> torch.Tensor:
        """p(t = 1 | p, y) = σ(c + W_p p + W_y y)."""
        return torch.sigmoid(torch.addmm(self.c, torch.cat([pen, lab], 1), self.W.T))

    def down(self, top: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """p(p = 1 | t) and the label distribution softmax(b_y + W_yᵀ t)."""
        act = torch.addmm(self.b, top, self.W)
        return torch.sigmoid(act[:, :self.n_pen]), torch.softmax(act[:, self.n_pen:], 1)

    def free_energies(self, pen: torch.Tensor) -> torch.Tensor:
        """F(p, y = k) for every row and every label k, shape (n, n_classes)."""
        n = self.n_pen
        base = torch.addmm(self.c, pen, self.W[:, :n].T)
        act = base.unsqueeze(1) + self.W[:, n:].T.unsqueeze(0)
        return -(pen @ self.b[:n]).unsqueeze(1) - self.b[n:] - softplus(act).sum(2)


def sample_labels(probs: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """One-hot rows drawn from the softmax distributions ``probs``."""
    idx = torch.multinomial(probs, 1, generator=generator).squeeze(1)
    return one_hot(idx, probs.shape[1]).to(probs.dtype)


def top_gibbs(top: TopRBM, pen: torch.Tensor, lab: torch.Tensor, steps: int,
              generator: torch.Generator | None, clamp_label: bool) -> tuple[torch.Tensor, ...]:
    """``steps`` block-Gibbs steps t ~ p(t|p,y), p ~ p(p|t), y ~ p(y|t) (unless clamped).

    Returns the final binary top states, penultimate states and label vector.
    """
    t = bernoulli(top.p_top(pen, lab), generator)
    for _ in range(steps):
        p_pen, p_lab = top.down(t)
        pen = bernoulli(p_pen, generator)
        if not clamp_label:
            lab = sample_labels(p_lab, generator)
        t = bernoulli(top.p_top(pen, lab), generator)
    return t, pen, lab


@torch.no_grad()
def top_cd_step(top: TopRBM, pen: torch.Tensor, lab: torch.Tensor, k: int, lr: float,
                momentum: float, weight_decay: float, generator: torch.Generator | None) -> None:
    """One CD-k update of the top RBM with momentum; the label group is a softmax.

    Positive statistics use p(t | p, y) at the data; the negative chain samples the
    penultimate units and draws the label as one softmax unit (its probabilities
    enter the statistics, as in the paper's code).
    """
    v0 = torch.cat([pen, lab], 1)
    pt0 = top.p_top(pen, lab)
    t = bernoulli(pt0, generator)
    for step in range(k):
        p_pen, p_lab = top.down(t)
        v_k = torch.cat([p_pen, p_lab], 1)
        pt_k = torch.sigmoid(torch.addmm(top.c, v_k, top.W.T))
        if step + 1 < k:
            t = bernoulli(pt_k, generator)
    if not top.increments:
        top.increments = [torch.zeros_like(x) for x in (top.W, top.b, top.c)]
    grads = (pt0.T @ v0 - pt_k.T @ v_k - weight_decay * v0.shape[0] * top.W,
             (v0 - v_k).sum(0), (pt0 - pt_k).sum(0))
    for param, inc, grad in zip((top.W, top.b, top.c), top.increments, grads, strict=True):
        inc.mul_(momentum).add_(grad, alpha=lr / v0.shape[0])
        param.add_(inc)


@torch.no_grad()
def up_down_step(layers: list[Directed], top: TopRBM, x: torch.Tensor, lab: torch.Tensor,
                 k: int, lr: float, generator: torch.Generator | None) -> None:
    """One up-down (contrastive wake-sleep) update on a minibatch (appendix B).

    Wake: a sampled up-pass; each G_l learns to reconstruct the layer below,
    ΔG_l ∝ h_lᵀ(h_{l-1} - σ(g_l + G_lᵀ h_l)). Top: CD-k with the label clamped in
    the positive phase. Sleep: from the chain's penultimate states a sampled
    down-pass; each R_l learns to recognise, ΔR_l ∝ (h_l - σ(r_l + R_l h_{l-1}))ᵀ h_{l-1}.
    """
    rate = lr / x.shape[0]
    wake = [x]
    for layer in layers:
        wake.append(bernoulli(layer.up(wake[-1]), generator))
    t0 = bernoulli(top.p_top(wake[-1], lab), generator)
    pos = t0.T @ torch.cat([wake[-1], lab], 1)
    t = t0
    for _ in range(k):
        p_pen, p_lab = top.down(t)
        pen = bernoulli(p_pen, generator)
        t = bernoulli(top.p_top(pen, p_lab), generator)
    v_neg = torch.cat([pen, p_lab], 1)
    neg = t.T @ v_neg
    sleep = [pen]
    for i, layer in enumerate(reversed(layers)):
        below = layer.down(sleep[-1])
        sleep.append(below if i == len(layers) - 1 else bernoulli(below, generator))
    for i, layer in enumerate(layers):
        h_below, h = wake[i], wake[i + 1]
        err = h_below - layer.down(h)
        layer.G.addmm_(h.T, err, alpha=rate)
        layer.g.add_(err.sum(0), alpha=rate)
    top.W.add_(pos - neg, alpha=rate)
    top.b.add_(torch.cat([wake[-1], lab], 1).sum(0) - v_neg.sum(0), alpha=rate)
    top.c.add_(t0.sum(0) - t.sum(0), alpha=rate)
    sleep = sleep[::-1]
    for i, layer in enumerate(layers):
        h_below, h = sleep[i], sleep[i + 1]
        err = h - layer.up(h_below)
        layer.R.addmm_(err.T, h_below, alpha=rate)
        layer.r.add_(err.sum(0), alpha=rate)
