"""Gibbs-Langevin: Langevin steps on Gaussian visible units between Gibbs draws of h.

Liao, Kornblith, Ren, Fleet & Hinton (2022), "Gaussian-Bernoulli RBMs without
tears". One step of the chain from (v, h), h ~ p(h|v): ``n_langevin`` Langevin
steps of size η on v with h held, preconditioned by σ²,

    v ← v - η σ² ∇_v E(v, h) + √(2η) σ ε = v + η (μ_h - v) + √(2η) σ ε,   μ_h = b + Wᵀh,

then h' ~ p(h|v'). The steps are linear in v, so L of them compose into one
Gaussian draw (drawn here in one go):

    v' = μ_h + ρ (v - μ_h) + s σ ε,   ρ = (1 - η)^L,   s² = 2 (1 - ρ²) / (2 - η).

Without adjustment the chain leaves p(v|h) slightly widened (variance
σ² · 2 / (2 - η) as L grows); the Metropolis-Hastings adjustment of the joint
move (v, h) → (v', h') accepts with probability min(1, r),

    log r = F(v) - F(v') + log q(v | v', h') - log q(v' | v, h),

(the energies and p(h|v) of the joint ratio collapse into the free energy F), which
leaves the model's distribution exactly invariant. The modified CD of the paper
starts the negative chains of every minibatch from noise, N(0, I) in the model's
units (the standardised inputs), rather than from the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..model import RBM
from ..units import Gaussian
from .base import Sampler


class GibbsLangevin(Sampler):
    """The Gibbs-Langevin negative phase (module docstring) for Gaussian visible units.

    Parameters
    ----------
    k : int, default=1
        Chain steps per update, each ``n_langevin`` Langevin steps on v then a
        Gibbs draw of h.
    step_size : float, default=0.5
        η of the preconditioned Langevin step, in (0, 2).
    n_langevin : int, default=1
        Langevin steps per chain step.
    adjust : bool, default=True
        Metropolis-Hastings adjustment of each chain step (exact invariance).
    from_noise : bool, default=False
        Start the negative chains of every minibatch at N(0, I) (the paper's
        modified CD) instead of at hidden states drawn from p(h|data).
    """

    name = "langevin"
    options = ("step_size", "n_langevin", "adjust", "from_noise")
    real_only = True

    def __init__(self, k: int = 1, *, step_size: float = 0.5, n_langevin: int = 1,
                 adjust: bool = True, from_noise: bool = False) -> None:
        if not 0 < step_size < 2:
            raise ValueError(f"step_size must lie in (0, 2), got {step_size!r}")
        if n_langevin < 1:
            raise ValueError(f"n_langevin must be at least 1, got {n_langevin!r}")
        super().__init__(k, sample_visible=True)
        self.step_size = step_size
        self.n_langevin = n_langevin
        self.adjust = adjust
        self.from_noise = from_noise

    def contraction(self) -> tuple[float, float]:
        """ρ = (1 - η)^L and s = √(2 (1 - ρ²) / (2 - η)) of the composed Langevin steps."""
        rho = (1.0 - self.step_size) ** self.n_langevin
        return rho, (2.0 * (1.0 - rho * rho) / (2.0 - self.step_size)) ** 0.5

    def negative(self, model: RBM, v0: torch.Tensor, ph0: torch.Tensor,
                 generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        """``k`` chain steps from noise (``from_noise``) or from v0 with h ~ p(h|v0)."""
        if self.from_noise:
            v = self.initial(model, v0.shape[0], generator)
            ph0 = model.p_h_given_v(v)
        else:
            v = v0
        return self.run(model, v, ph0, self.k, generator)

    def initial(self, model: RBM, n_samples: int,
                generator: torch.Generator | None) -> torch.Tensor:
        """N(0, I) in the model's units with ``from_noise`` (the states its training
        chains started from, so that ``k`` steps give what training saw), else the
        base rates."""
        if not self.from_noise:
            return super().initial(model, n_samples, generator)
        b = model.b
        return torch.randn((n_samples, b.shape[-1]), generator=generator, device=b.device,
                           dtype=b.dtype)

    def generate(self, model: RBM, v: torch.Tensor, steps: int,
                 generator: torch.Generator | None) -> torch.Tensor:
        """Visible states ``steps`` chain steps on from ``v``."""
        if steps == 0:
            return v
        return self.run(model, v, model.p_h_given_v(v), steps, generator)[0]

    def run(self, model: RBM, v: torch.Tensor, ph: torch.Tensor, steps: int,
            generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        """``steps`` chain steps from v (p(h|v) = ``ph``); the last v and p(h|v) at it."""
        if not isinstance(model.visible, Gaussian):
            raise ValueError(f"the Gibbs-Langevin sampler runs Gaussian visible units, "
                             f"not {model.visible!r}")
        state = _State.at(model, v, ph, generator, with_free=self.adjust)
        for _ in range(steps):
            state = self._step(model, state, generator)
        return state.v, state.ph

    def _step(self, model: RBM, old: _State, generator: torch.Generator | None) -> _State:
        """One chain step: the composed Langevin proposal, h' ~ p(h|v'), the adjustment."""
        rho, s = self.contraction()
        spread = s * (0.5 * model.visible.log_var).exp()
        noise = torch.randn(old.v.shape, generator=generator, device=old.v.device,
                            dtype=old.v.dtype)
        v = torch.lerp(old.mean, old.v, rho).addcmul_(noise, spread)
        new = _State.at(model, v, model.p_h_given_v(v), generator, with_free=self.adjust)
        if not self.adjust:
            return new
        # -2 log q(v | v', h') and -2 log q(v' | v, h), up to the constant they share
        back = ((old.v - torch.lerp(new.mean, v, rho)) / spread).square().sum(-1)
        log_r = old.free - new.free + 0.5 * (noise.square().sum(-1) - back)
        u = torch.rand(log_r.shape, generator=generator, device=v.device, dtype=v.dtype)
        return old.where(torch.log(u) < log_r, new)


@dataclass
class _State:
    """A chain's visible states, p(h|v), hidden states, μ_h = b + Wᵀh and F(v) (or None)."""

    v: torch.Tensor
    ph: torch.Tensor
    h: torch.Tensor
    mean: torch.Tensor
    free: torch.Tensor | None

    @classmethod
    def at(cls, model: RBM, v: torch.Tensor, ph: torch.Tensor,
           generator: torch.Generator | None, *, with_free: bool) -> _State:
        """The state at ``v``, h drawn from ``ph`` = p(h|v)."""
        h = model.hidden.sample(ph, generator)
        return cls(v, ph, h, model.p_v_given_h(h), model.free_energy(v) if with_free else None)

    def where(self, take: torch.Tensor, new: _State) -> _State:
        """``new`` in the rows where ``take`` (one flag a row) holds, this state elsewhere."""
        rows = take.unsqueeze(-1)
        return _State(*(torch.where(rows, a, b) for a, b in ((new.v, self.v), (new.ph, self.ph),
                                                             (new.h, self.h),
                                                             (new.mean, self.mean))),
                      torch.where(take, new.free, self.free))
