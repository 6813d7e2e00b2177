"""Unit types: what a layer's units are, given their total input.

An RBM's energy is E(v, h) = E_b(v) - cᵀh - hᵀW s(v), where a unit type states
its bias term E_b and what the other layer sees of it, s(v). Binary and softmax
units have E_b(v) = -bᵀv and s(v) = v (the slides' E = -bᵀv - cᵀh - hᵀWv);
Gaussian units have E_b(v) = Σ_j (v_j - b_j)² / 2σ_j² and s(v) = v / σ² (Cho et
al. 2011). A unit type fixes which states a unit (or a group) may take, and with
that the following, each stated once here:

- ``mean(a)``: E[x | a], the unit's mean given its total input ``a``
  (σ(a) for a Bernoulli unit, softmax(a) over a softmax group, a for a Gaussian);
  ``mean_(a)`` the same written over a fresh input ``a`` where the type can (the
  conditionals of :mod:`deepbelief.functional` use it: no second buffer per call);
- ``sample(mean, generator)``: a state drawn from that distribution;
- ``bias_energy(x, b)`` and ``scale(x)``: E_b(x) and s(x) above;
- ``log_partition(a)``: log Σ_x exp(-E_a(x)) over the unit's states (an integral
  for Gaussian units), summed over the units: the term a layer adds to the free
  energy when it is summed out (softplus(a) per Bernoulli unit, log Σ_k exp(a_k)
  per softmax group);
- ``integrate_out(b, t)``: log Σ_x exp(-E_b(x) + tᵀs(x)), the same with the input
  t from the other layer (log_partition(b + t) for binary and softmax units);
- ``parameters()``: the unit type's own learned tensors (a Gaussian's log σ²),
  ``gradient(...)`` their statistics in training and ``constrain()`` the bounds
  kept after each step;
- ``step_sums(ph0)`` and ``step_rate(rate, sums, n)``: how the trainer scales the
  step of W and b for these visible units (the plain rate for binary units; the
  normalised step for Gaussian ones, see :mod:`deepbelief.training`).

A :class:`Layout` places unit types side by side over a layer's columns, e.g. the
visible layer of the DBN's top RBM: 500 Bernoulli units beside one softmax group of
10 labels, or a table's columns: binary units, one softmax group per categorical
column and one Gaussian group of the real-valued columns (:class:`~deepbelief.TabularRBM`).
"""

from __future__ import annotations

import math
from typing import Protocol

import torch
from torch.nn.functional import one_hot, softplus

#: The lowest total input σ sees: σ(-80) < 2e-35. Lower inputs are raised to it, so that
#: σ never returns the subnormal floats of a ∈ (-103, -87) (float32), on which every
#: later elementwise operation runs 2-100x slower on x86 CPUs (a trained DBM's mean-field
#: hit them: 60 s a joint epoch instead of 15).
MIN_LOGIT = -80.0


def sigmoid(a: torch.Tensor) -> torch.Tensor:
    """σ(a) = 1 / (1 + exp(-a)), with a raised to at least ``MIN_LOGIT``."""
    return torch.sigmoid(a.clamp(min=MIN_LOGIT))


def sigmoid_(a: torch.Tensor) -> torch.Tensor:
    """:func:`sigmoid` written over ``a``."""
    return a.clamp_(min=MIN_LOGIT).sigmoid_()


def bernoulli(p: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Binary states with P(state = 1) = p: 1 where u < p for u ~ U(0, 1)."""
    u = torch.rand(p.shape, generator=generator, device=p.device, dtype=p.dtype)
    return u.lt_(p)  # in place: 1.0 where u < p, else 0.0


class Units(Protocol):
    """What every unit type states (see the module docstring)."""

    size: int

    def mean(self, a: torch.Tensor) -> torch.Tensor: ...

    def mean_(self, a: torch.Tensor) -> torch.Tensor: ...

    def sample(self, mean: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor: ...

    def log_partition(self, a: torch.Tensor) -> torch.Tensor: ...

    def bias_energy(self, x: torch.Tensor, b: torch.Tensor) -> torch.Tensor: ...

    def scale(self, x: torch.Tensor) -> torch.Tensor: ...

    def integrate_out(self, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor: ...

    def parameters(self) -> dict[str, torch.Tensor]: ...

    def gradient(self, v0: torch.Tensor, ph0: torch.Tensor, v_k: torch.Tensor,
                 ph_k: torch.Tensor, W: torch.Tensor, b: torch.Tensor,
                 ) -> dict[str, torch.Tensor]: ...

    def constrain(self) -> None: ...

    def step_sums(self, ph0: torch.Tensor) -> list[torch.Tensor]: ...

    def step_rate(self, rate: float, sums: list[torch.Tensor], n: float) -> float: ...


class _Discrete:
    """What binary and softmax units share: E_b(x) = -bᵀx, s(x) = x, no own parameters."""

    def mean_(self, a: torch.Tensor) -> torch.Tensor:
        """``mean(a)``, in ``a``'s memory where the type can (``a`` a fresh total input)."""
        return self.mean(a)

    def bias_energy(self, x: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """-bᵀx per row."""
        return -(x @ b)

    def scale(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def integrate_out(self, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """log Σ_x exp((b + t)ᵀx) = log_partition(b + t)."""
        return self.log_partition(b + t)

    def parameters(self) -> dict[str, torch.Tensor]:
        return {}

    def gradient(self, v0: torch.Tensor, ph0: torch.Tensor, v_k: torch.Tensor,
                 ph_k: torch.Tensor, W: torch.Tensor, b: torch.Tensor,
                 ) -> dict[str, torch.Tensor]:
        """No own parameters, no statistics."""
        return {}

    def constrain(self) -> None:
        """Nothing to bound."""

    def step_sums(self, ph0: torch.Tensor) -> list[torch.Tensor]:
        """The plain step needs no sums."""
        return []

    def step_rate(self, rate: float, sums: list[torch.Tensor], n: float) -> float:
        """The plain step: ``rate``."""
        return rate

    def to(self, dtype: torch.dtype) -> _Discrete:
        return self

    def initial_bias(self, data_mean: torch.Tensor) -> torch.Tensor:
        """log(p / (1 - p)) of the data means p, clipped to [1e-3, 1 - 1e-3]."""
        p = data_mean.clamp(1e-3, 1 - 1e-3)
        return torch.log(p / (1 - p))


class Bernoulli(_Discrete):
    """``size`` binary units (any number when None): p(x = 1 | a) = σ(a)."""

    def __init__(self, size: int | None = None) -> None:
        self.size = size

    def mean(self, a: torch.Tensor) -> torch.Tensor:
        return sigmoid(a)

    def mean_(self, a: torch.Tensor) -> torch.Tensor:
        return sigmoid_(a)

    def sample(self, mean: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return bernoulli(mean, generator)

    def log_partition(self, a: torch.Tensor) -> torch.Tensor:
        """Σ_i log(1 + exp(a_i)) per row."""
        return softplus(a).sum(-1)

    def __repr__(self) -> str:
        return f"Bernoulli({'' if self.size is None else self.size})"


class Softmax(_Discrete):
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
        names = [name for g in groups for name in g.parameters()]
        if len(set(names)) < len(names):
            raise ValueError(f"the groups' own parameters {names} must have distinct names: "
                             "put real-valued units in one Gaussian group")
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

    def mean_(self, a: torch.Tensor) -> torch.Tensor:
        return self.mean(a)

    def sample(self, mean: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return torch.cat([g.sample(part, generator) for g, part in self._each(mean)], -1)

    def log_partition(self, a: torch.Tensor) -> torch.Tensor:
        return sum(g.log_partition(part) for g, part in self._each(a))

    def bias_energy(self, x: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return sum(g.bias_energy(part, bias)
                   for (g, part), bias in zip(self._each(x), self.split(b), strict=True))

    def scale(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([g.scale(part) for g, part in self._each(x)], -1)

    def integrate_out(self, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return sum(g.integrate_out(bias, part)
                   for (g, part), bias in zip(self._each(t), self.split(b), strict=True))

    def parameters(self) -> dict[str, torch.Tensor]:
        return {name: p for g in self.groups for name, p in g.parameters().items()}

    def gradient(self, v0: torch.Tensor, ph0: torch.Tensor, v_k: torch.Tensor,
                 ph_k: torch.Tensor, W: torch.Tensor, b: torch.Tensor,
                 ) -> dict[str, torch.Tensor]:
        """Each group's statistics, on its own columns."""
        out: dict[str, torch.Tensor] = {}
        for g, x0, xk, Wg, bg in zip(self.groups, self.split(v0), self.split(v_k),
                                     self.split(W), self.split(b), strict=True):
            out.update(g.gradient(x0, ph0, xk, ph_k, Wg, bg))
        return out

    def constrain(self) -> None:
        for g in self.groups:
            g.constrain()

    def step_sums(self, ph0: torch.Tensor) -> list[torch.Tensor]:
        """Each group's sums packed in one tensor (empty for a group that needs none)."""
        return [torch.stack(sums) if sums else ph0.new_zeros(0)
                for sums in (g.step_sums(ph0) for g in self.groups)]

    def step_rate(self, rate: float, sums: list[torch.Tensor],
                  n: float) -> float | torch.Tensor:
        """Each group's own step for its columns of W and b: one number when the groups
        agree (binary and softmax groups: the plain ``rate``), else one per unit (a
        Gaussian group's normalised step beside the others' plain one, see
        :mod:`deepbelief.training`)."""
        rates = [g.step_rate(rate, list(s), n) for g, s in zip(self.groups, sums, strict=True)]
        if len(set(rates)) <= 1:
            return rates[0] if rates else rate
        like = next(s for s in sums if s.numel())
        return torch.cat([like.new_full((g.size,), r) for g, r in zip(self.groups, rates,
                                                                      strict=True)])

    def initial_bias(self, data_mean: torch.Tensor) -> torch.Tensor:
        return torch.cat([g.initial_bias(part) for g, part in self._each(data_mean)], -1)

    def to(self, dtype: torch.dtype) -> Layout:
        return Layout(*(g.to(dtype) for g in self.groups))

    def split(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The columns of each group."""
        return [x[..., s] for s in self._slices]

    def __repr__(self) -> str:
        return f"Layout({', '.join(map(repr, self.groups))})"


class Gaussian:
    """Real-valued units with variances σ² = exp(``log_var``): p(x | a) = N(a, σ²).

    As visible units of an RBM (Cho, Raiko & Ilin 2011): E_b(v) = Σ_j (v_j - b_j)² / 2σ_j²
    and the hidden units see v / σ², so p(v_j | h) = N(b_j + W_jᵀh, σ_j²) and
    p(h_i = 1 | v) = σ(c_i + Σ_j W_ij v_j / σ_j²). ``log_var`` is a tensor of one
    entry per unit, learned in place by training unless ``learn_variance`` is off;
    ``min_log_var`` is its floor (a variance shrinking to zero would give an unbounded
    density) and ``max_log_var`` its ceiling (a number or one per unit: the data's
    own variance, which the conditional variance of a unit given the hidden layer
    cannot usefully exceed; a rare extreme value otherwise inflates it without bound).
    """

    def __init__(self, log_var: torch.Tensor, *, learn_variance: bool = True,
                 min_log_var: float = math.log(1e-2),
                 max_log_var: float | torch.Tensor = math.inf) -> None:
        self.log_var = log_var
        self.size = log_var.shape[0]
        self.learn_variance = learn_variance
        self.min_log_var = min_log_var
        self.max_log_var = max_log_var

    @property
    def variance(self) -> torch.Tensor:
        return self.log_var.exp()

    def mean(self, a: torch.Tensor) -> torch.Tensor:
        return a

    def mean_(self, a: torch.Tensor) -> torch.Tensor:
        return a

    def sample(self, mean: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """mean + σ·ε, ε ~ N(0, 1)."""
        noise = torch.randn(mean.shape, generator=generator, device=mean.device,
                            dtype=mean.dtype)
        return torch.addcmul(mean, noise, (0.5 * self.log_var).exp())

    def bias_energy(self, x: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Σ_j (x_j - b_j)² / 2σ_j² per row."""
        return ((x - b).square() * (-self.log_var).exp()).sum(-1) / 2

    def scale(self, x: torch.Tensor) -> torch.Tensor:
        """x / σ²."""
        return x * (-self.log_var).exp()

    def log_partition(self, a: torch.Tensor) -> torch.Tensor:
        """log ∫ exp(-Σ_j (x_j - a_j)² / 2σ_j²) dx = Σ_j log(2πσ_j²) / 2, for each row of ``a``."""
        const = 0.5 * (self.log_var + math.log(2 * math.pi)).sum()
        return const.expand(a.shape[:-1])

    def integrate_out(self, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """log ∫ exp(-E_b(x) + tᵀx/σ²) dx = Σ_j t_j (2 b_j + t_j) / 2σ_j² + log_partition.

        (Completing the square: the integrand is N(b + t, σ²) up to that factor.)
        """
        return (t * (2 * b + t) * (-self.log_var).exp()).sum(-1) / 2 + self.log_partition(t)

    def parameters(self) -> dict[str, torch.Tensor]:
        return {"log_var": self.log_var}

    def initial_bias(self, data_mean: torch.Tensor) -> torch.Tensor:
        """The data's means."""
        return data_mean.clone()

    def statistic(self, x: torch.Tensor, b: torch.Tensor, top_down: torch.Tensor,
                  ) -> torch.Tensor:
        """-∂F/∂log σ² summed over rows: Σ_rows ((x - b)² / 2 - x ⊙ Wᵀp(h|x)) / σ².

        ``top_down`` is p(h|x) W per row; the gradient of the log-likelihood is this
        statistic on the data minus the same on the model's samples.
        """
        return ((x - b).square().mul_(0.5).sub_(x * top_down)).sum(0) * (-self.log_var).exp()

    def gradient(self, v0: torch.Tensor, ph0: torch.Tensor, v_k: torch.Tensor,
                 ph_k: torch.Tensor, W: torch.Tensor, b: torch.Tensor,
                 ) -> dict[str, torch.Tensor]:
        """log σ²'s statistic, data minus chain (nothing when the variances are fixed)."""
        if not self.learn_variance:
            return {}
        data = self.statistic(v0, b, ph0 @ W)
        return {"log_var": data.sub_(self.statistic(v_k, b, ph_k @ W))}

    def step_sums(self, ph0: torch.Tensor) -> list[torch.Tensor]:
        """Σ_rows ‖p(h|v0)‖², which the normalised step divides by."""
        return [ph0.square().sum()]

    def step_rate(self, rate: float, sums: list[torch.Tensor], n: float) -> float:
        """The step of W and b divided by 1 + mean ‖p(h|v0)‖² (see :mod:`deepbelief.training`):
        the means b + Wᵀh are linear in h."""
        return rate / (1.0 + float(sums[0]) / n)

    def to(self, dtype: torch.dtype) -> Gaussian:
        """The same units with ``log_var`` in ``dtype`` (a copy when it changes)."""
        ceiling = self.max_log_var
        return Gaussian(self.log_var.to(dtype), learn_variance=self.learn_variance,
                        min_log_var=self.min_log_var,
                        max_log_var=ceiling.to(dtype) if torch.is_tensor(ceiling) else ceiling)

    def limit_to(self, variance: torch.Tensor) -> None:
        """Take log ``variance`` (the data's, per unit) as the ceiling, at least the floor.

        The variances are then kept within the bounds when they are learned.
        """
        self.max_log_var = torch.log(variance).clamp(min=self.min_log_var)
        if self.learn_variance:
            self.constrain()

    def constrain(self) -> None:
        """Keep log σ² between its floor and its ceiling (in place)."""
        self.log_var.clamp_(min=self.min_log_var)
        if torch.is_tensor(self.max_log_var):
            torch.minimum(self.log_var, self.max_log_var, out=self.log_var)
        else:
            self.log_var.clamp_(max=self.max_log_var)

    def __repr__(self) -> str:
        return f"Gaussian({self.size})"


#: Binary units, however many: the default of every layer.
BINARY = Bernoulli()
