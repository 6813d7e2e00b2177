"""How the model is trained: contrastive divergence (CD-k) and persistent CD.

The slides' loss for one minibatch is  L = mean(F(v) - F(v_k))  with v_k held
fixed, whose gradient is the closed form used here:

    -∂L/∂W = < p(h|v) vᵀ >_data - < p(h|v_k) v_kᵀ >_chain
    -∂L/∂b = < v >_data - < v_k >_chain
    -∂L/∂c = < p(h|v) >_data - < p(h|v_k) >_chain

Following Hinton's practical guide, the chain is driven by *binary* hidden states,
the statistics use hidden *probabilities*, and in plain CD the visible
reconstructions are probabilities too (unless ``sample_visible``). Updates are momentum SGD with L2
weight decay on W. Everything stays in torch tensors, updated in place.

Gaussian visible units (:class:`~deepbelief.units.Gaussian`): the gradient of W
and b has v / σ² where the binary one has v; the step uses v, i.e. the gradient
multiplied by σ_j² for visible unit j. That diagonal preconditioner matches the
curvature in b (which grows as 1/σ_j²). And the visible means b + Wᵀh are linear
in h (no sigmoid bounds them), so W and b learn like a least-squares regression
on h, whose plain step diverges beyond 2 / λ_max(E[h hᵀ]), a bound that falls as
the hidden layer grows (≈ 0.03 for 256 hidden units at p(h) = 0.5): the step of
W and b is divided by 1 + mean ‖p(h|v0)‖² (normalised least mean squares), which
makes one learning rate safe for any layer size. A unit type's own parameters get
their statistic beside W, b and c (log σ², :meth:`~deepbelief.units.Gaussian.statistic`).

Centering (Montavon & Müller 2012; Melchior, Fischer & Wiskott 2016) writes the
same model with offsets μ (visible) and λ (hidden),

    E(v, h) = -bₒᵀ(v - μ) - cₒᵀ(h - λ) - (h - λ)ᵀW(v - μ),

i.e. b = bₒ - Wᵀλ and c = cₒ - Wμ in the plain form, and follows the gradient in
(W, bₒ, cₒ):  ΔW = ΔW_plain - λ Δbᵀ - Δc μᵀ  (Δb, Δc unchanged). μ and λ track the
data means of v and p(h|v) by exponential moving averages; the model itself is
kept, as always, in the plain (W, b, c).

The negative phase (CD-k, persistent CD, fast-weights PCD, parallel tempering)
is a sampler object of :mod:`deepbelief.samplers`; centering and clipping are
gradient transforms (:class:`Centering`, :class:`GradientClipping`); the
Gaussian step scaling is the visible unit type's (``step_rate``: a number, or one
rate per visible unit, as a :class:`~deepbelief.units.Layout` gives a Gaussian
group beside binary and softmax ones in :class:`~deepbelief.TabularRBM`). The
trainer holds one of each and knows none of them.

Everything here works on the RBM core (:class:`~deepbelief.model.RBM`) whatever
its unit types: the DBN's top RBM, with its softmax label group, trains by the
same step as :class:`~deepbelief.BernoulliRBM`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import NamedTuple

import torch

from ._sparse import column_sum, t_mm
from .model import RBM
from .samplers import CD, FPCD, PCD, PT, Sampler

Reducer = Callable[[list[torch.Tensor]], None]


def cd_chain(model: RBM, v0: torch.Tensor, k: int, generator: torch.Generator | None,
             chain: torch.Tensor | None = None,
             sample_visible: bool | tuple[bool, ...] = False,
             mean_field: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Run the CD-k chain for one minibatch.

    Parameters
    ----------
    model : the RBM core.
    v0 : (batch, n_visible) data.
    chain : visible states where the negative chain starts (persistent CD); ``None``
        starts it at the data (plain CD).
    sample_visible : draw visible states; otherwise the visible reconstructions
        are the means p(v|h) (the practical guide's choice for CD; persistent
        chains are always sampled). A tuple decides per unit group.
    mean_field : use means instead of samples everywhere (deterministic
        mean-field CD, Welling & Hinton 2002).

    Returns
    -------
    ph0 : p(h|v0), the positive statistics' hidden factor.
    v_k : the chain's visible state after ``k`` Gibbs steps.
    ph_k : p(h|v_k), the negative statistics' hidden factor.
    """
    sampler = CD(k, sample_visible=sample_visible or chain is not None, mean_field=mean_field)
    ph0 = model.p_h_given_v(v0)
    start = ph0 if chain is None else model.p_h_given_v(chain)
    return (ph0, *sampler.negative(model, v0 if chain is None else chain, start, generator))


def cd_statistics(v0: torch.Tensor, ph0: torch.Tensor, v_k: torch.Tensor, ph_k: torch.Tensor,
                  *, out: torch.Tensor | None = None, beta: float = 0.0, alpha: float = 1.0,
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The ascent directions summed over the batch (see the module docstring).

    ``v0`` may be a sparse COO tensor: its products are sparse ones.

    With ``out``, the weight statistics accumulate into it in place,
    out ← beta·out + alpha·(p(h|v0)ᵀv0 - p(h|v_k)ᵀv_k) (a momentum buffer), and
    ``out`` is returned as the first item.
    """
    if out is None:
        dW = t_mm(ph0, v0)
    elif v0.is_sparse:
        dW = out.mul_(beta).add_(t_mm(ph0, v0), alpha=alpha)
    else:
        dW = out.addmm_(ph0.T, v0, beta=beta, alpha=alpha)
    dW.addmm_(ph_k.T, v_k, alpha=-alpha if out is not None else -1.0)
    return dW, column_sum(v0) - v_k.sum(0), ph0.sum(0) - ph_k.sum(0)


def momentum_step(buffer: torch.Tensor, statistic: torch.Tensor, momentum: float,
                  rate: float | torch.Tensor) -> None:
    """buffer ← momentum · buffer + rate · statistic, in place; ``rate`` a number, or one
    per visible unit (the statistic's last axis: W's columns, b's entries)."""
    buffer.mul_(momentum)
    if torch.is_tensor(rate):
        buffer.addcmul_(statistic, rate)
    else:
        buffer.add_(statistic, alpha=rate)


class Centering:
    """The centred gradient (module docstring): offsets μ, λ and the weight step's correction.

    Parameters
    ----------
    rate : float
        The moving-average rate of the offsets (0.01 is Melchior et al.'s choice).
    """

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.mu: torch.Tensor | None = None
        self.lam: torch.Tensor | None = None

    def sums(self, v0: torch.Tensor, ph0: torch.Tensor) -> list[torch.Tensor]:
        """Σ v0 and Σ p(h|v0) over the batch (summed over processes with the statistics)."""
        return [column_sum(v0), ph0.sum(0)]

    def correct(self, inc_W: torch.Tensor, db: torch.Tensor, dc: torch.Tensor,
                sums: list[torch.Tensor], n: float, rate: float) -> None:
        """Move the offsets to the batch means, then ΔW ← ΔW - λ Δbᵀ - Δc μᵀ (in place)."""
        mean_v, mean_h = sums[0] / n, sums[1] / n
        if self.mu is None:  # the first batch sets them
            self.mu, self.lam = mean_v.clone(), mean_h.clone()
        else:
            self.mu.lerp_(mean_v, self.rate)
            self.lam.lerp_(mean_h, self.rate)
        inc_W.addr_(self.lam, db, alpha=-rate).addr_(dc, self.mu, alpha=-rate)

    def after_update(self, model: RBM, inc_W: torch.Tensor) -> None:
        """bₒ, cₒ moved by the increments: b = bₒ - Wᵀλ, c = cₒ - Wμ."""
        model.b.addmv_(inc_W.T, self.lam, alpha=-1.0)
        model.c.addmv_(inc_W, self.mu, alpha=-1.0)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {name: t for name, t in (("mu", self.mu), ("lam", self.lam)) if t is not None}

    def load_state_dict(self, state: dict[str, torch.Tensor], model: RBM) -> None:
        W = model.W
        self.mu, self.lam = (None if state.get(name) is None
                             else state[name].to(W.device, W.dtype).clone()
                             for name in ("mu", "lam"))


class GradientClipping:
    """The minibatch's mean statistics rescaled together to an L2 norm of at most ``max_norm``.

    g ← g · min(1, max_norm / ‖g‖) with ‖g‖² = Σ_θ ‖statistic_θ / n‖² over every
    parameter (W, b, c and the unit types' own, e.g. log σ²): the directions the
    step follows, before the learning rate. Liao et al. (2022) clip the Gaussian
    RBM's gradient at norm 10 so that large learning rates stay stable.

    Parameters
    ----------
    max_norm : float
        The largest norm of the batch-mean statistics.
    """

    def __init__(self, max_norm: float) -> None:
        self.max_norm = max_norm

    def __call__(self, statistics: list[torch.Tensor], n: float) -> None:
        """Rescale the summed ``statistics`` of ``n`` rows in place (no host sync)."""
        norm = torch.linalg.vector_norm(
            torch.stack([torch.linalg.vector_norm(s) for s in statistics])) / n
        factor = (self.max_norm / norm.clamp_min(torch.finfo(norm.dtype).tiny)).clamp_max(1.0)
        for s in statistics:
            s.mul_(factor)


class _Step(NamedTuple):
    """One minibatch's statistics after the reduction, as the update uses them."""

    db: torch.Tensor
    dc: torch.Tensor
    own: dict[str, torch.Tensor]
    centering: list[torch.Tensor]
    n: float
    rate: float
    w_rate: float | torch.Tensor


#: The keyword arguments CDTrainer took before samplers were objects.
_OLD_SPELLINGS = ("k", "persistent", "sample_visible", "mean_field", "tempering",
                  "fast_learning_rate")


class CDTrainer:
    """Momentum SGD on the CD statistics of one RBM core's parameters (in place).

    Parameters
    ----------
    model : RBM
        The core whose W, b, c (and unit parameters) :meth:`step` modifies in place.
    sampler : Sampler, default=CD(1)
        The negative phase (:mod:`deepbelief.samplers`).
    centering : float, default=0.0
        Follow the centred gradient (:class:`Centering`) at this offset rate; 0 disables it.
    reducer : optional in-place sum over processes of ``[dW, db, dc, n, ...]``
        (data-parallel training); the update then uses the global statistics.
    weight_mask : tensor like W, optional
        0 where W joins no two units (a deep Boltzmann machine's core, whose
        non-adjacent layers share a block of W): those entries never move.
    max_grad_norm : float, optional
        Clip the batch-mean statistics of all parameters to this L2 norm
        (:class:`GradientClipping`), after the sum over processes; None: no clipping.

    The keywords ``k``, ``persistent``, ``sample_visible``, ``mean_field``,
    ``tempering`` and ``fast_learning_rate`` of earlier releases still build the
    matching sampler, with a ``DeprecationWarning``.
    """

    def __init__(self, model: RBM, sampler: Sampler | None = None, *, centering: float = 0.0,
                 reducer: Reducer | None = None, weight_mask: torch.Tensor | None = None,
                 max_grad_norm: float | None = None, **old) -> None:
        if "centring" in old:
            warnings.warn("CDTrainer(centring=...) is deprecated: pass centering=",
                          DeprecationWarning, stacklevel=2)
            centering = old.pop("centring")
        if old:
            sampler = _sampler_from_old(sampler, old)
        self.model = model
        self.sampler = CD() if sampler is None else sampler
        self.centering = Centering(centering) if centering else None
        self.reducer = reducer
        self.weight_mask = weight_mask
        self.clipping = GradientClipping(max_grad_norm) if max_grad_norm else None
        self.increments = {name: torch.zeros_like(t) for name, t in model.state_dict().items()}

    @torch.no_grad()
    def step(self, v0: torch.Tensor, learning_rate: float, momentum: float,
             weight_decay: float, generator: torch.Generator | None,
             ph0: torch.Tensor | None = None) -> torch.Tensor:
        """One update: θ_inc ← momentum·θ_inc + lr·(statistics/n - weight_decay·θ); θ += θ_inc.

        ``ph0`` is p(h|v0) where the caller has it already (computed here otherwise).
        Returns the negative chain's visible states v_k.
        """
        model = self.model
        if ph0 is None:
            ph0 = model.p_h_given_v(v0)
        v_k, ph_k = self.sampler.negative(model, v0, ph0, generator)
        stats = self._statistics(v0, ph0, v_k, ph_k, learning_rate, momentum)
        self._increments(stats, learning_rate, momentum, weight_decay)
        self._apply(stats, learning_rate)
        return v_k

    def _statistics(self, v0: torch.Tensor, ph0: torch.Tensor, v_k: torch.Tensor,
                    ph_k: torch.Tensor, learning_rate: float, momentum: float) -> _Step:
        """The statistics, summed over processes; W's go into its momentum buffer."""
        model, inc, n = self.model, self.increments, v0.shape[0]
        own = model.visible.gradient(v0, ph0, v_k, ph_k, model.W, model.b)
        sums = self.centering.sums(v0, ph0) if self.centering is not None else []
        step_sums = model.visible.step_sums(ph0)
        if self.reducer is None and self.clipping is None:
            rate = learning_rate / n
            w_rate = model.visible.step_rate(rate, step_sums, n)
            if not torch.is_tensor(w_rate):  # the statistics go straight into the buffer
                _, db, dc = cd_statistics(v0, ph0, v_k, ph_k, out=inc["W"], beta=momentum,
                                          alpha=w_rate)
                return _Step(db, dc, own, sums, n, rate, w_rate)
            dW, db, dc = cd_statistics(v0, ph0, v_k, ph_k)
        else:
            dW, db, dc = cd_statistics(v0, ph0, v_k, ph_k)
            n = self._reduce([dW, db, dc], sums, own, step_sums, n)
            if self.clipping is not None:
                self.clipping([dW, db, dc, *own.values()], n)
            rate = learning_rate / n
            w_rate = model.visible.step_rate(rate, step_sums, n)
        momentum_step(inc["W"], dW, momentum, w_rate)
        return _Step(db, dc, own, sums, n, rate, w_rate)

    def _reduce(self, stats: list[torch.Tensor], sums: list[torch.Tensor],
                own: dict[str, torch.Tensor], step_sums: list[torch.Tensor], n: int) -> float:
        """Sum everything over processes in place (nothing without a reducer); the rows in all."""
        if self.reducer is None:
            return float(n)
        count = stats[0].new_tensor([float(n)])
        self.reducer([*stats, count, *sums, *own.values(), *step_sums])
        return float(count.item())

    def _increments(self, stats: _Step, learning_rate: float, momentum: float,
                    weight_decay: float) -> None:
        inc = self.increments
        if self.centering is not None:
            self.centering.correct(inc["W"], stats.db, stats.dc, stats.centering, stats.n,
                                  stats.rate)
        if weight_decay:
            inc["W"].add_(self.model.W, alpha=-learning_rate * weight_decay)
        if self.weight_mask is not None:
            inc["W"].mul_(self.weight_mask)
        momentum_step(inc["b"], stats.db, momentum, stats.w_rate)
        inc["c"].mul_(momentum).add_(stats.dc, alpha=stats.rate)
        for name, stat in stats.own.items():
            inc[name].mul_(momentum).add_(stat, alpha=stats.rate)

    def _apply(self, stats: _Step, learning_rate: float) -> None:
        """θ += θ_inc, the unit bounds, the centering offsets' share, the sampler's hook."""
        model = self.model
        self.sampler.before_update(model)
        for name, param in model.state_dict().items():
            param.add_(self.increments[name])
        if stats.own:
            model.visible.constrain()
        if self.centering is not None:
            self.centering.after_update(model, self.increments["W"])
        self.sampler.after_update(model, learning_rate)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Momentum buffers, the sampler's state and the centering offsets, for checkpoints."""
        state = {f"{name}_inc": t for name, t in self.increments.items()}
        state.update(self.sampler.state_dict())
        if self.centering is not None:
            state.update(self.centering.state_dict())
        return state

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Restore what :meth:`state_dict` returned."""
        for name, t in self.increments.items():
            t.copy_(state[f"{name}_inc"])
        self.sampler.load_state_dict(state, self.model)
        if self.centering is not None:
            self.centering.load_state_dict(state, self.model)


def _sampler_from_old(sampler: Sampler | None, old: dict) -> Sampler:
    """The sampler that CDTrainer's keywords of earlier releases described."""
    unknown = set(old) - set(_OLD_SPELLINGS)
    if unknown:
        raise TypeError(f"CDTrainer got unexpected keyword arguments {sorted(unknown)}")
    if sampler is not None:
        raise TypeError(f"pass either a sampler or {sorted(old)}, not both")
    sampler = _old_sampler(old)
    warnings.warn(f"CDTrainer({', '.join(f'{k}=' for k in old)}...) is deprecated: pass the "
                  f"sampler, CDTrainer(model, {sampler!r})", DeprecationWarning, stacklevel=3)
    return sampler


def _old_sampler(old: dict) -> Sampler:
    k = old.get("k", 1)
    mean_field = old.get("mean_field", False)
    if old.get("tempering") is not None:
        return PT(k, betas=old["tempering"])
    if old.get("fast_learning_rate"):
        if not old.get("persistent"):
            raise ValueError("fast weights need persistent chains (and no tempering)")
        return FPCD(k, fast_learning_rate=old["fast_learning_rate"], mean_field=mean_field)
    if old.get("persistent"):
        return PCD(k, mean_field=mean_field)
    return CD(k, sample_visible=old.get("sample_visible", False), mean_field=mean_field)
