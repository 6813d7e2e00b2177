"""Unit types: what a layer's units are, given their total input.

An RBM's energy is E(v, h) = -bᵀv - cᵀh - hᵀWv for binary and softmax units
alike; a unit type fixes which states a unit (or a group of units) may take, and
with that three things, each stated once here:

- ``mean(a)``: E[x | a], the unit's mean given its total input ``a``
  (σ(a) for a Bernoulli unit, softmax(a) over a softmax group);
- ``sample(mean, generator)``: a state drawn from that distribution;
- ``log_partition(a)``: log Σ_x exp(xᵀa) over the unit's states, summed over the
  units: the term a layer adds to the free energy when it is summed out
  (softplus(a) per Bernoulli unit, log(Σ_k exp(a_k)) per softmax group).

A :class:`Layout` places unit types side by side over a layer's columns, e.g. the
visible layer of the DBN's top RBM: 500 Bernoulli units beside one softmax group of
10 labels. Gaussian units add a quadratic visible term and fit the same protocol.
"""

from __future__ import annotations

from typing import Protocol

import torch
from torch.nn.functional import one_hot, softplus


def bernoulli(p: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Binary states with P(state = 1) = p: 1 where u < p for u ~ U(0, 1)."""
    u = torch.rand(p.shape, generator=generator, device=p.device, dtype=p.dtype)
    return (u < p).to(p.dtype)


class Units(Protocol):
    """What every unit type states (see the module docstring)."""

    size: int

    def mean(self, a: torch.Tensor) -> torch.Tensor: ...

    def sample(self, mean: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor: ...

    def log_partition(self, a: torch.Tensor) -> torch.Tensor: ...


class Bernoulli:
    """``size`` binary units (any number when None): p(x = 1 | a) = σ(a)."""

    def __init__(self, size: int | None = None) -> None:
        self.size = size

    def mean(self, a: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(a)

    def sample(self, mean: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return bernoulli(mean, generator)

    def log_partition(self, a: torch.Tensor) -> torch.Tensor:
        """Σ_i log(1 + exp(a_i)) per row."""
        return softplus(a).sum(-1)

    def __repr__(self) -> str:
        return f"Bernoulli({'' if self.size is None else self.size})"


class Softmax:
    """One group of ``size`` units of which exactly one is on: p(x_k = 1 | a) = softmax(a)_k."""

    def __init__(self, size: int) -> None:
        self.size = size

    def mean(self, a: torch.Tensor) -> torch.Tensor:
        return torch.softmax(a, -1)

    def sample(self, mean: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        index = torch.multinomial(mean, 1, generator=generator).squeeze(1)
        return one_hot(index, self.size).to(mean.dtype)

    def log_partition(self, a: torch.Tensor) -> torch.Tensor:
        """log Σ_k exp(a_k) per row."""
        return torch.logsumexp(a, -1)

    def __repr__(self) -> str:
        return f"Softmax({self.size})"


class Layout:
    """Unit types side by side over a layer's columns, in order."""

    def __init__(self, *groups: Units) -> None:
        self.groups = groups
        self.size = sum(g.size for g in groups)
        bounds = [0]
        for g in groups:
            bounds.append(bounds[-1] + g.size)
        self._slices = [slice(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]

    def _each(self, x: torch.Tensor):
        return zip(self.groups, (x[..., s] for s in self._slices), strict=True)

    def mean(self, a: torch.Tensor) -> torch.Tensor:
        return torch.cat([g.mean(part) for g, part in self._each(a)], -1)

    def sample(self, mean: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return torch.cat([g.sample(part, generator) for g, part in self._each(mean)], -1)

    def log_partition(self, a: torch.Tensor) -> torch.Tensor:
        return sum(g.log_partition(part) for g, part in self._each(a))

    def split(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The columns of each group."""
        return [x[..., s] for s in self._slices]

    def __repr__(self) -> str:
        return f"Layout({', '.join(map(repr, self.groups))})"


#: Binary units, however many: the default of every layer.
BINARY = Bernoulli()
