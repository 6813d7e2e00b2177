"""Fast-weights PCD: persistent chains that sample the parameters plus fast ones."""

from __future__ import annotations

import dataclasses

import torch

from ..model import RBM
from .pcd import PCD

#: Fast weights shrink by this factor per update (Tieleman & Hinton 2009: 19/20).
FAST_DECAY = 0.95


class FPCD(PCD):
    """Fast-weights persistent CD (Tieleman & Hinton 2009).

    The persistent chains sample the RBM with parameters θ + θ_f, where the fast
    parameters θ_f take every step of the regular ones scaled by
    ``fast_learning_rate / learning_rate`` and shrink by :data:`FAST_DECAY` per
    update. They push the chains away from the modes the model just visited, so
    the chains mix at small learning rates. The statistics use θ alone.

    Parameters
    ----------
    k : int, default=1
    fast_learning_rate : float, default=0.05
        Must be positive.
    mean_field : bool, default=False
    """

    name = "fpcd"
    options = ("fast_learning_rate", "mean_field")

    def __init__(self, k: int = 1, *, fast_learning_rate: float = 0.05,
                 mean_field: bool = False) -> None:
        if not fast_learning_rate > 0:
            raise ValueError(f"fast_learning_rate must be positive, got {fast_learning_rate!r}")
        super().__init__(k, mean_field=mean_field)
        self.fast_learning_rate = fast_learning_rate
        self.fast: dict[str, torch.Tensor] | None = None
        self._before: dict[str, torch.Tensor] | None = None

    def _fast(self, model: RBM) -> dict[str, torch.Tensor]:
        if self.fast is None:
            self.fast = {name: torch.zeros_like(getattr(model, name)) for name in "Wbc"}
        return self.fast

    def walker(self, model: RBM) -> RBM:
        """The RBM the chains sample: regular + fast parameters."""
        f = self._fast(model)
        return dataclasses.replace(model, W=model.W + f["W"], b=model.b + f["b"],
                                   c=model.c + f["c"])

    def before_update(self, model: RBM) -> None:
        self._before = {name: getattr(model, name).clone() for name in self._fast(model)}

    def after_update(self, model: RBM, learning_rate: float) -> None:
        """θ_f ← decay·θ_f + (fast rate / rate)·Δθ."""
        scale = self.fast_learning_rate / learning_rate
        for name, fast in self._fast(model).items():
            delta = getattr(model, name) - self._before[name]
            fast.mul_(FAST_DECAY).add_(delta, alpha=scale)
        self._before = None

    def state_dict(self) -> dict[str, torch.Tensor]:
        state = super().state_dict()
        if self.fast is not None:
            state.update({f"fast_{name}": t for name, t in self.fast.items()})
        return state

    def load_state_dict(self, state: dict[str, torch.Tensor], model: RBM) -> None:
        super().load_state_dict(state, model)
        for name, fast in self._fast(model).items():
            saved = state.get(f"fast_{name}")
            if saved is None:  # a state taken before the first update
                fast.zero_()
            else:
                fast.copy_(saved)
