"""A deep Boltzmann machine written as the RBM between its odd and its even layers.

A DBM with binary layers x_0 = v, x_1, ..., x_L has the energy

    E(x) = -Σ_l b_lᵀx_l - Σ_{l≥1} x_lᵀ W_l x_{l-1},        W_l of shape (n_l, n_{l-1}),

and every W_l joins an odd layer to an even one. Gathered into two groups, the even
layers e = (x_0, x_2, ...) and the odd ones o = (x_1, x_3, ...), the energy is
-b_eᵀe - c_oᵀo - oᵀ W e: an RBM whose "visible" units are the even layers and whose
"hidden" units are the odd ones, W holding each W_l in its block (W_l for odd l,
W_lᵀ for even l) and zeros where layers do not touch (for three or more hidden
layers). Given the even layers the odd ones are independent, and the other way
round, so that RBM's block-Gibbs chain is the DBM's Gibbs sampler, its free energy
F(e) sums the odd layers out exactly, and its partition function is the DBM's:
the RBM core (:class:`~deepbelief.model.RBM`), its samplers, its trainer and the
partition functions of :mod:`deepbelief.partition` run a DBM unchanged.

:class:`Layout` says where each layer sits in that core. The data-dependent
statistics come from mean-field (:func:`mean_field`), and with the fixed point μ
the variational lower bound on log p(v) is :func:`lower_bound`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.special import entr

from ..model import RBM
from ..units import sigmoid_


class Layout:
    """Where each layer of a DBM with layer sizes ``sizes`` (visible first) sits in its core.

    Even layers are the core's visible units in the order x_0, x_2, ...; odd
    layers its hidden units in the order x_1, x_3, ...
    """

    def __init__(self, sizes: Sequence[int]) -> None:
        self.sizes = tuple(int(n) for n in sizes)
        self.slices: list[slice] = []
        ends = [0, 0]
        for layer, n in enumerate(self.sizes):
            start = ends[layer % 2]
            self.slices.append(slice(start, start + n))
            ends[layer % 2] += n
        self.n_even, self.n_odd = ends
        #: The even hidden layers' units among the core's visible units (after v).
        self.hidden_even = slice(self.sizes[0], self.n_even)

    @property
    def n_layers(self) -> int:
        """Hidden layers L."""
        return len(self.sizes) - 1

    def weight(self, W: torch.Tensor, layer: int) -> torch.Tensor:
        """W_l (n_l x n_{l-1}) as a view of the core's W."""
        upper, lower = self.slices[layer], self.slices[layer - 1]
        return W[upper, lower] if layer % 2 else W[lower, upper].T

    def bias(self, model: RBM, layer: int) -> torch.Tensor:
        """b_l as a view of the core's b (even layers) or c (odd layers)."""
        return (model.c if layer % 2 else model.b)[self.slices[layer]]

    def compose(self, weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor]) -> RBM:
        """The core of the DBM with these W_l (l = 1..L) and b_l (l = 0..L)."""
        like = weights[0]
        W = like.new_zeros(self.n_odd, self.n_even)
        b, c = like.new_zeros(self.n_even), like.new_zeros(self.n_odd)
        model = RBM(W, b, c)
        for layer, W_l in enumerate(weights, start=1):
            self.weight(W, layer).copy_(W_l)
        for layer, b_l in enumerate(biases):
            self.bias(model, layer).copy_(b_l)
        return model

    def mask(self, like: torch.Tensor) -> torch.Tensor | None:
        """1 where the core's W joins two adjacent layers, 0 elsewhere; None if all do."""
        if self.n_layers < 3:
            return None
        mask = torch.zeros_like(like)
        for layer in range(1, len(self.sizes)):
            self.weight(mask, layer).fill_(1.0)
        return mask

    def even_states(self, v: torch.Tensor, mu: torch.Tensor) -> torch.Tensor:
        """The core's visible values for data ``v`` and even hidden layers ``mu``."""
        return torch.cat([v, mu], dim=1)


def bottom_up(model: RBM, layout: Layout, v: torch.Tensor) -> list[torch.Tensor]:
    """The starting point of mean-field: one pass up, the input from below doubled
    for every layer but the top (which has no layer above it to stand in for),

        μ_l = σ(b_l + 2 W_l μ_{l-1}),   μ_L = σ(b_L + W_L μ_{L-1}),

    as in Salakhutdinov & Hinton's recognition pass. Returns μ_1, ..., μ_L.
    """
    mu, below = [], v
    for layer in range(1, layout.n_layers + 1):
        scale = 1.0 if layer == layout.n_layers else 2.0
        a = torch.addmm(layout.bias(model, layer), below, layout.weight(model.W, layer).T,
                        alpha=scale)
        below = sigmoid_(a)
        mu.append(below)
    return mu


def _even_hidden(layout: Layout, mu: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat([mu[layer - 1] for layer in range(2, len(layout.sizes), 2)], dim=1)


@torch.no_grad()
def mean_field(model: RBM, layout: Layout, v: torch.Tensor, max_iter: int = 50,
               tol: float = 1e-4, mu: torch.Tensor | None = None,
               ) -> tuple[torch.Tensor, torch.Tensor, int]:
    """The factorial q(h) = Π_l Π_i μ_{l,i} closest to p(h | v) (v clamped).

    Fixed-point iteration of μ_l = σ(b_l + W_l μ_{l-1} + W_{l+1}ᵀ μ_{l+1}), the
    odd layers all at once given the even ones, then the even hidden layers
    given the odd ones, from :func:`bottom_up` (or the even hidden layers' ``mu``),
    until no μ moves by more than ``tol`` or after ``max_iter`` rounds.

    Returns
    -------
    mu_even : (batch, even hidden units) the even hidden layers' μ, in layout order.
    mu_odd : (batch, odd units) the odd layers' μ = p(o | v, mu_even).
    rounds : the rounds run.
    """
    W, n_v = model.W, layout.sizes[0]
    from_v = torch.addmm(model.c, v, W[:, :n_v].T)  # the clamped data's input, once
    W_eh, b_eh = W[:, layout.hidden_even], model.b[layout.hidden_even]
    if mu is None:
        mu = _even_hidden(layout, bottom_up(model, layout, v)) if W_eh.shape[1] else \
            v.new_zeros(v.shape[0], 0)
    rounds = 0
    while W_eh.shape[1] and rounds < max_iter:  # one hidden layer: p(h | v) is exact
        rounds += 1
        odd = sigmoid_(torch.addmm(from_v, mu, W_eh.T))
        new = sigmoid_(torch.addmm(b_eh, odd, W_eh))
        moved = float((new - mu).abs().max()) if new.numel() else 0.0
        mu = new
        if moved < tol:
            break
    return mu, sigmoid_(torch.addmm(from_v, mu, W_eh.T)), rounds


def lower_bound(model: RBM, layout: Layout, v: torch.Tensor, mu_even: torch.Tensor,
                ) -> torch.Tensor:
    """The variational lower bound on log p*(v) = log p(v) + log Z, one value per row.

    log p*(v) ≥ E_q[-E(v, h)] + H(q). With the odd layers' μ at their optimum given
    the even ones (mean-field's), that is -F(v, μ_even) + H(μ_even): the core's
    free energy sums the odd layers out exactly (and so is never below the fully
    factorial bound), and H(μ) = -Σ μ log μ + (1 - μ) log(1 - μ).
    """
    x = layout.even_states(v, mu_even)
    entropy = (entr(mu_even) + entr(1.0 - mu_even)).sum(1)
    return -model.free_energy(x) + entropy


def exact_log_p_star(model: RBM, layout: Layout, v: torch.Tensor) -> torch.Tensor:
    """log p*(v) = log Σ_{h_even} exp(-F(v, h_even)) by enumerating the even hidden
    layers (small models only: 2^units states), one value per row."""
    n = layout.n_even - layout.sizes[0]
    if n > 20:
        raise ValueError(f"the even hidden layers have {n} units; enumerating them needs "
                         "at most 20")
    states = torch.arange(2 ** n, device=v.device)
    h = ((states[:, None] >> torch.arange(n, device=v.device)) & 1).to(v.dtype)
    x = layout.even_states(v.repeat_interleave(h.shape[0], 0), h.repeat(v.shape[0], 1))
    return torch.logsumexp(-model.free_energy(x).view(v.shape[0], -1), 1)
