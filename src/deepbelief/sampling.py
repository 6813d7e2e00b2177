"""How the model is sampled: Bernoulli draws from the conditionals and block Gibbs.

A unit is *sampled* from its probability (u ~ U(0,1), unit = 1 if u < p), never
set to it. Every draw takes an explicit ``torch.Generator`` so runs repeat.
"""

from __future__ import annotations

import torch

from .functional import p_h_given_v, p_v_given_h


def bernoulli(p: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Binary states with P(state = 1) = p: 1 where u < p for u ~ U(0, 1)."""
    u = torch.rand(p.shape, generator=generator, device=p.device, dtype=p.dtype)
    return (u < p).to(p.dtype)


def sample_h_given_v(v: torch.Tensor, W: torch.Tensor, c: torch.Tensor,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """h ~ p(h | v): each h_i is 1 with probability σ(c_i + W_i v)."""
    return bernoulli(p_h_given_v(v, W, c), generator)


def sample_v_given_h(h: torch.Tensor, W: torch.Tensor, b: torch.Tensor,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """v ~ p(v | h): each v_j is 1 with probability σ(b_j + W_jᵀ h)."""
    return bernoulli(p_v_given_h(h, W, b), generator)


def gibbs(v: torch.Tensor, W: torch.Tensor, b: torch.Tensor, c: torch.Tensor, steps: int = 1,
          generator: torch.Generator | None = None) -> torch.Tensor:
    """Block Gibbs sampling: ``steps`` times, h ~ p(h|v) then v ~ p(v|h); returns v."""
    for _ in range(steps):
        h = sample_h_given_v(v, W, c, generator)
        v = sample_v_given_h(h, W, b, generator)
    return v
