"""Parallel tempering: persistent chains at several temperatures that swap states."""

from __future__ import annotations

import torch

from .._sparse import dense
from ..model import RBM
from ..sampling import ParallelTempering
from .base import Sampler, own_copy


class PT(Sampler):
    """The negative phase from parallel tempering (Desjardins et al. 2010).

    Persistent chains at ``n_temperatures`` inverse temperatures spaced evenly
    from 1 down to ``min_beta`` (or the given ``betas``), neighbours swapping
    states after every Gibbs step, ``k`` steps per update; only the β = 1
    chains feed the gradient (:class:`~deepbelief.sampling.ParallelTempering`).
    Generation runs the same tempered chains. Binary units.

    Parameters
    ----------
    k : int, default=1
    n_temperatures : int, default=5
    min_beta : float, default=0.5
        The hottest chain's inverse temperature, in (0, 1).
    betas : sequence of float, optional
        The inverse temperatures themselves, decreasing from 1 (overrides the two above).
    """

    name = "pt"
    options = ("n_temperatures", "min_beta")
    binary_only = True

    def __init__(self, k: int = 1, *, n_temperatures: int | None = 5, min_beta: float = 0.5,
                 betas=None) -> None:
        super().__init__(k, sample_visible=True)
        self.n_temperatures = 5 if n_temperatures is None else n_temperatures
        self.min_beta = min_beta
        if betas is None:
            n = self.n_temperatures
            betas = [1.0 - (1.0 - min_beta) * i / max(n - 1, 1) for i in range(n)]
        self.betas = [float(b) for b in betas]
        self.tempering: ParallelTempering | None = None

    def spec(self) -> dict:
        """The base's, with the inverse temperatures themselves."""
        return {**super().spec(), "betas": self.betas}

    def ladder(self, model: RBM) -> ParallelTempering:
        """The tempered chains on ``model`` (made on first use)."""
        if self.tempering is None:
            self.tempering = ParallelTempering(model, self.betas)
        return self.tempering

    def negative(self, model: RBM, v0: torch.Tensor, ph0: torch.Tensor,
                 generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        """``k`` tempering steps; the first ``len(v0)`` β = 1 chains and p(h|v) at them."""
        pt = self.ladder(model)
        if pt.states is None:
            pt.start(dense(v0), generator)
        v_k = pt.run(self.k, generator)[:v0.shape[0]]
        return v_k, model.p_h_given_v(v_k)

    def generate(self, model: RBM, v: torch.Tensor, steps: int,
                 generator: torch.Generator | None) -> torch.Tensor:
        """``steps`` rounds of tempered Gibbs steps and swaps from ``v``; the β = 1 chains."""
        if steps == 0:
            return v
        chains = ParallelTempering(model, self.betas)
        chains.start(v, generator)
        return chains.run(steps, generator)

    def state_dict(self) -> dict[str, torch.Tensor]:
        pt = self.tempering
        if pt is None or pt.states is None:
            return {}
        return {"tempered": pt.states, "tempered_parity": torch.tensor(pt.parity)}

    def load_state_dict(self, state: dict[str, torch.Tensor], model: RBM) -> None:
        pt = self.ladder(model)
        pt.states = own_copy(state, "tempered", model.W)
        pt.parity = int(state.get("tempered_parity", torch.zeros(())).item())

    def __repr__(self) -> str:
        return f"PT(k={self.k!r}, betas={self.betas!r})"
