"""What the model is: one RBM core, its parameters and unit layout (slides §4).

:class:`RBM` holds W (n_hidden x n_visible), the visible bias b and the hidden
bias c, and the unit types of both layers (binary by default; the DBN's top RBM
has a softmax label group among its visible units). Its methods are the slides'
formulas of :mod:`deepbelief.functional` bound to those parameters; every
estimator, sampler, trainer and AIS run works on this core.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from . import functional as fn
from .units import BINARY, Units

#: The standard deviation of :meth:`RBM.initial`'s weights.
INIT_STD = 0.01


@dataclass
class RBM:
    """A restricted Boltzmann machine's tensors and unit types."""

    W: torch.Tensor
    b: torch.Tensor
    c: torch.Tensor
    visible: Units = BINARY
    hidden: Units = BINARY

    @classmethod
    def initial(cls, n_hidden: int, data_mean: torch.Tensor, generator: torch.Generator,
                visible: Units = BINARY) -> RBM:
        """W ~ N(0, 0.01²), c = 0, b from the data's means p (practical guide).

        b = log(p / (1 - p)) for binary units, b = p for Gaussian ones
        (``visible.initial_bias``).
        """
        p = data_mean
        W = INIT_STD * torch.randn(n_hidden, p.shape[0], generator=generator, device=p.device,
                               dtype=p.dtype)
        return cls(W, visible.initial_bias(p), torch.zeros(n_hidden, device=p.device,
                                                           dtype=p.dtype), visible)

    @property
    def shape(self) -> tuple[int, int]:
        """(n_hidden, n_visible)."""
        return tuple(self.W.shape)

    def energy(self, v: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return fn.energy(v, h, self.W, self.b, self.c, self.visible)

    def free_energy(self, v: torch.Tensor) -> torch.Tensor:
        return fn.free_energy(v, self.W, self.b, self.c, self.hidden, self.visible)

    def hidden_free_energy(self, h: torch.Tensor) -> torch.Tensor:
        return fn.hidden_free_energy(h, self.W, self.b, self.c, self.visible)

    def p_h_given_v(self, v: torch.Tensor) -> torch.Tensor:
        return fn.p_h_given_v(v, self.W, self.c, self.hidden, self.visible)

    def p_v_given_h(self, h: torch.Tensor) -> torch.Tensor:
        return fn.p_v_given_h(h, self.W, self.b, self.visible)

    def sample_h_given_v(self, v: torch.Tensor, generator: torch.Generator | None,
                         ) -> torch.Tensor:
        return self.hidden.sample(self.p_h_given_v(v), generator)

    def sample_v_given_h(self, h: torch.Tensor, generator: torch.Generator | None,
                         ) -> torch.Tensor:
        return self.visible.sample(self.p_v_given_h(h), generator)

    def sample_base_rates(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        """``n`` visible states drawn from the visible biases alone: p(v | h = 0)."""
        return self.sample_v_given_h(self.c.new_zeros(n, self.W.shape[0]), generator)

    def to(self, dtype: torch.dtype) -> RBM:
        """The same RBM in ``dtype`` (copies of the tensors when the dtype changes)."""
        return RBM(self.W.to(dtype), self.b.to(dtype), self.c.to(dtype),
                   self.visible.to(dtype), self.hidden.to(dtype))

    def state_dict(self) -> dict[str, torch.Tensor]:
        """W, b, c and the unit types' own parameters (e.g. ``log_var``)."""
        return {"W": self.W, "b": self.b, "c": self.c, **self.visible.parameters()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        copy_state(self.state_dict(), state)


def copy_state(targets: dict[str, torch.Tensor], state: dict[str, torch.Tensor]) -> None:
    """Copy each tensor of ``state`` into the same-named target in place; shapes must match."""
    for name, target in targets.items():
        source = state.get(name)
        if source is None or source.shape != target.shape:
            got = None if source is None else tuple(source.shape)
            raise ValueError(f"state for {name} has shape {got}, expected {tuple(target.shape)}")
        target.copy_(source)
