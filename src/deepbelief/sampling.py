"""How the model is sampled: draws from the conditionals and block-Gibbs chains.

A unit is *sampled* from its distribution (a binary unit: u ~ U(0,1), unit = 1 if
u < p), never set to it. Every draw takes an explicit ``torch.Generator`` so runs
repeat. :class:`GibbsSampler` is the one chain on an RBM core that contrastive
divergence, persistent chains, the DBN's top-level chain and generation share.
"""

from __future__ import annotations

import torch

from ._sparse import dense
from .functional import energy, hidden_input, p_h_given_v, p_v_given_h, visible_input
from .model import RBM
from .units import BINARY, Bernoulli, Units, bernoulli, sigmoid_

__all__ = ["GibbsSampler", "ParallelTempering", "PersistentChains", "bernoulli", "gibbs",
           "sample_h_given_v", "sample_v_given_h"]


def sample_h_given_v(v: torch.Tensor, W: torch.Tensor, c: torch.Tensor,
                     generator: torch.Generator | None = None,
                     units: Units = BINARY) -> torch.Tensor:
    """h ~ p(h | v): each binary h_i is 1 with probability σ(c_i + W_i v)."""
    return units.sample(p_h_given_v(v, W, c, units), generator)


def sample_v_given_h(h: torch.Tensor, W: torch.Tensor, b: torch.Tensor,
                     generator: torch.Generator | None = None,
                     units: Units = BINARY) -> torch.Tensor:
    """v ~ p(v | h): each binary v_j is 1 with probability σ(b_j + W_jᵀ h)."""
    return units.sample(p_v_given_h(h, W, b, units), generator)


def gibbs(v: torch.Tensor, W: torch.Tensor, b: torch.Tensor, c: torch.Tensor, steps: int = 1,
          generator: torch.Generator | None = None) -> torch.Tensor:
    """Block Gibbs sampling: ``steps`` times, h ~ p(h|v) then v ~ p(v|h); returns v."""
    return GibbsSampler(RBM(W, b, c)).sample(v, steps, generator)


class GibbsSampler:
    """Alternating block-Gibbs steps on an RBM core.

    Parameters
    ----------
    model : RBM
    sample_visible : bool or tuple of bool, default=True
        Draw visible states; False keeps the means p(v|h) (the practical guide's
        reconstructions in CD). A tuple decides per group of a
        :class:`~deepbelief.units.Layout`, e.g. the paper's up-down samples the
        penultimate units and keeps the label probabilities.
    mean_field : bool, default=False
        Means instead of samples everywhere (deterministic mean-field chain).
    clamp : slice, optional
        Visible columns held at their starting values (e.g. a label).
    """

    def __init__(self, model: RBM, *, sample_visible: bool | tuple[bool, ...] = True,
                 mean_field: bool = False, clamp: slice | None = None) -> None:
        self.model = model
        self.sample_visible = sample_visible
        self.mean_field = mean_field
        self.clamp = clamp

    def draw_hidden(self, ph: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return ph if self.mean_field else self.model.hidden.sample(ph, generator)

    def draw_visible(self, pv: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        if self.mean_field:
            return pv
        return _draw(self.model.visible, pv, self.sample_visible, generator)

    def run(self, h: torch.Tensor, steps: int, generator: torch.Generator | None,
            clamped: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``steps`` (≥ 1) steps v ~ p(v|h), h ~ p(h|v) from hidden states ``h``.

        Returns the last visible states and p(h|v) at them (the last hidden
        states are left undrawn: CD's statistics use the probabilities).
        ``clamped`` holds the values of the ``clamp`` columns.
        """
        for step in range(steps):
            v = self.draw_visible(self.model.p_v_given_h(h), generator)
            if self.clamp is not None:
                v[:, self.clamp] = clamped
            ph = self.model.p_h_given_v(v)
            if step + 1 < steps:
                h = self.draw_hidden(ph, generator)
        return v, ph

    def sample(self, v: torch.Tensor, steps: int, generator: torch.Generator | None,
               ) -> torch.Tensor:
        """Visible states ``steps`` steps h ~ p(h|v), v ~ p(v|h) on from ``v``."""
        if steps == 0:
            return v
        clamped = None if self.clamp is None else v[:, self.clamp]
        h = self.draw_hidden(self.model.p_h_given_v(v), generator)
        return self.run(h, steps, generator, clamped)[0]


class PersistentChains:
    """Negative chains kept across minibatches (persistent CD, Tieleman 2008).

    Chains start at (sampled) data rows the first time a minibatch needs them; a
    short minibatch advances the first n chains while the rest wait.
    """

    def __init__(self) -> None:
        self.states: torch.Tensor | None = None

    def take(self, v0: torch.Tensor, sampler: GibbsSampler,
             generator: torch.Generator | None) -> torch.Tensor:
        """Visible states of the first ``len(v0)`` chains, new ones started from ``v0``."""
        n = v0.shape[0]
        have = 0 if self.states is None else self.states.shape[0]
        if have < n:
            fresh = sampler.draw_visible(dense(v0)[have:].clone(), generator)
            self.states = fresh if self.states is None else torch.cat([self.states, fresh])
        return self.states[:n]

    def put(self, v: torch.Tensor) -> None:
        self.states[:v.shape[0]] = v


def _draw(units: Units, mean: torch.Tensor, which: bool | tuple[bool, ...],
          generator: torch.Generator | None) -> torch.Tensor:
    """Samples of ``units`` where ``which`` says so (per group of a Layout), means elsewhere."""
    if which is True:
        return units.sample(mean, generator)
    if which is False:
        return mean
    parts = units.split(mean)
    return torch.cat([_draw(g, part, w, generator)
                      for g, part, w in zip(units.groups, parts, which, strict=True)], -1)


class ParallelTempering:
    """Persistent chains at inverse temperatures 1 = β_1 > β_2 > ... > β_M, with swaps.

    Desjardins et al. (2010): the chains of temperature β sample the tempered RBM
    p_β(v, h) ∝ exp(-β E(v, h)); after one block-Gibbs step at every temperature
    (all in one batch), neighbours β_i, β_{i+1} (even pairs, then odd pairs on the
    next step) exchange their states with probability
    min(1, exp((β_i - β_{i+1}) (E(x_i) - E(x_{i+1})))), which leaves the product of
    the tempered distributions invariant. The hot chains cross between modes and
    hand their states down; only the β = 1 chains are samples of the model. Binary
    units.

    Parameters
    ----------
    model : RBM
    betas : sequence of float, decreasing from 1 (e.g. ``numpy.linspace(1, 0.5, 10)``).
    """

    def __init__(self, model: RBM, betas) -> None:
        if not (isinstance(model.visible, Bernoulli) and isinstance(model.hidden, Bernoulli)):
            raise ValueError("parallel tempering here runs binary units only, not "
                             f"{model.visible!r} / {model.hidden!r}")
        betas = torch.as_tensor(betas, dtype=model.W.dtype, device=model.W.device)
        if betas.ndim != 1 or betas.numel() < 1 or float(betas[0]) != 1.0 \
                or bool((betas[1:] >= betas[:-1]).any()) or float(betas[-1]) <= 0:
            raise ValueError("betas must decrease from exactly 1 and stay above 0")
        self.model = model
        self.betas = betas
        self.states: torch.Tensor | None = None  # (temperatures, chains, n_visible)
        self.parity = 0
        # proposed and taken swaps per pair, kept on the device (no copy per step)
        self.swaps = torch.zeros(2, betas.numel() - 1, dtype=torch.float64, device=betas.device)

    def start(self, v0: torch.Tensor, generator: torch.Generator | None) -> None:
        """Every temperature's chains start at the (sampled) rows of ``v0``."""
        self.states = bernoulli(v0.expand(self.betas.numel(), *v0.shape).contiguous(),
                                generator)

    def step(self, generator: torch.Generator | None) -> torch.Tensor:
        """One Gibbs step at every temperature, then one round of swaps; the β = 1 states."""
        model, states = self.model, self.states
        M, n, d = states.shape
        beta = self.betas.view(M, 1, 1)
        a = hidden_input(states.reshape(M * n, d), model.W, model.c).view(M, n, -1)
        h = bernoulli(sigmoid_(a * beta), generator)
        b = visible_input(h.reshape(M * n, -1), model.W, model.b).view(M, n, d)
        v = bernoulli(sigmoid_(b * beta), generator)
        if M > 1:
            e = energy(v.reshape(M * n, d), h.reshape(M * n, -1), model.W, model.b,
                       model.c).view(M, n)
            i = torch.arange(self.parity, M - 1, 2, device=v.device)
            log_r = (self.betas[i] - self.betas[i + 1]).unsqueeze(1) * (e[i] - e[i + 1])
            u = torch.rand(log_r.shape, generator=generator, device=v.device, dtype=v.dtype)
            take = (torch.log(u) < log_r).unsqueeze(2)
            lower, upper = v[i].clone(), v[i + 1].clone()
            v[i] = torch.where(take, upper, lower)
            v[i + 1] = torch.where(take, lower, upper)
            self.swaps[0, i] += n
            self.swaps[1, i] += take.sum((1, 2)).double()
            self.parity ^= 1
        self.states = v
        return v[0]

    def run(self, steps: int, generator: torch.Generator | None) -> torch.Tensor:
        """``steps`` rounds of :meth:`step`; the β = 1 states after the last."""
        v = self.states[0]
        for _ in range(steps):
            v = self.step(generator)
        return v

    @property
    def acceptance(self) -> torch.Tensor:
        """The share of proposed swaps taken, per neighbouring pair of temperatures."""
        return (self.swaps[1] / self.swaps[0].clamp(min=1)).cpu()
