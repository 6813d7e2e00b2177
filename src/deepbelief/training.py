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

Centring (Montavon & Müller 2012; Melchior, Fischer & Wiskott 2016) writes the
same model with offsets μ (visible) and λ (hidden),

    E(v, h) = -bₒᵀ(v - μ) - cₒᵀ(h - λ) - (h - λ)ᵀW(v - μ),

i.e. b = bₒ - Wᵀλ and c = cₒ - Wμ in the plain form, and follows the gradient in
(W, bₒ, cₒ):  ΔW = ΔW_plain - λ Δbᵀ - Δc μᵀ  (Δb, Δc unchanged). μ and λ track the
data means of v and p(h|v) by exponential moving averages; the model itself is
kept, as always, in the plain (W, b, c).

Everything here works on the RBM core (:class:`~deepbelief.model.RBM`) whatever
its unit types: the DBN's top RBM, with its softmax label group, trains by the
same step as :class:`~deepbelief.BernoulliRBM`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ._sparse import column_sum, dense, t_mm
from .model import RBM
from .sampling import GibbsSampler, ParallelTempering, PersistentChains

Reducer = Callable[[list[torch.Tensor]], None]

#: Fast weights shrink by this factor per update (Tieleman & Hinton 2009: 19/20).
FAST_DECAY = 0.95


def cd_chain(model: RBM, v0: torch.Tensor, k: int, generator: torch.Generator | None,
             chain: torch.Tensor | None = None,
             sample_visible: bool | tuple[bool, ...] = False,
             mean_field: bool = False, chain_model: RBM | None = None,
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
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
    chain_model : the RBM whose Gibbs chain runs (fast-weights PCD samples
        regular + fast parameters); by default ``model``. The statistics always
        use ``model``.

    Returns
    -------
    ph0 : p(h|v0), the positive statistics' hidden factor.
    v_k : the chain's visible state after ``k`` Gibbs steps.
    ph_k : p(h|v_k), the negative statistics' hidden factor.
    """
    walker = model if chain_model is None else chain_model
    sampler = GibbsSampler(walker, sample_visible=sample_visible or chain is not None,
                           mean_field=mean_field)
    ph0 = model.p_h_given_v(v0)
    start = ph0 if chain is None else walker.p_h_given_v(chain)
    v_k, ph_k = sampler.run(sampler.draw_hidden(start, generator), k, generator)
    if walker is not model:
        ph_k = model.p_h_given_v(v_k)
    return ph0, v_k, ph_k


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


class CDTrainer:
    """Momentum SGD on CD-k / PCD statistics for one RBM core's parameters (in place).

    Parameters
    ----------
    model : RBM
        The core whose W, b, c :meth:`step` modifies in place.
    k : Gibbs steps per update.
    persistent : keep the negative chains across minibatches (PCD, Tieleman 2008).
    sample_visible, mean_field : see :func:`cd_chain`.
    centring : follow the centred gradient (module docstring); 0 disables it,
        otherwise it is the moving-average rate of the offsets μ and λ (0.01 is
        Melchior et al.'s choice).
    reducer : optional in-place sum over processes of ``[dW, db, dc, n, ...]``
        (data-parallel training); the update then uses the global statistics.
    tempering : sequence of float, optional
        Inverse temperatures, decreasing from 1: the negative statistics come from
        the β = 1 chains of parallel tempering
        (:class:`~deepbelief.sampling.ParallelTempering`, ``k`` steps per update)
        instead of CD or PCD chains. Binary units.
    fast_learning_rate : float, default=0.0
        Fast-weights PCD (Tieleman & Hinton 2009) when positive: the persistent
        chains sample the RBM with parameters θ + θ_f, where the fast parameters
        θ_f take every step of the regular ones scaled by
        ``fast_learning_rate / learning_rate`` and shrink by :data:`FAST_DECAY`
        per update. They push the chains away from the modes the model just
        visited, so the chains mix at small learning rates. Needs ``persistent``.
    """

    def __init__(self, model: RBM, *, k: int = 1, persistent: bool = False,
                 sample_visible: bool | tuple[bool, ...] = False, mean_field: bool = False,
                 centring: float = 0.0, reducer: Reducer | None = None,
                 tempering=None, fast_learning_rate: float = 0.0) -> None:
        if fast_learning_rate and (not persistent or tempering is not None):
            raise ValueError("fast weights need persistent chains (and no tempering)")
        self.model = model
        self.k = k
        self.sample_visible = sample_visible
        self.mean_field = mean_field
        self.centring = centring
        self.reducer = reducer
        self.increments = {name: torch.zeros_like(t) for name, t in model.state_dict().items()}
        self.chains = PersistentChains() if persistent and tempering is None else None
        self.tempering = None if tempering is None else ParallelTempering(model, tempering)
        self.mu: torch.Tensor | None = None
        self.lam: torch.Tensor | None = None
        self.fast_learning_rate = fast_learning_rate
        self.fast = ({name: torch.zeros_like(getattr(model, name)) for name in "Wbc"}
                     if fast_learning_rate else None)

    def _chain_model(self) -> RBM | None:
        """The RBM the persistent chains sample: regular + fast parameters (FPCD)."""
        if self.fast is None:
            return None
        m, f = self.model, self.fast
        return RBM(m.W + f["W"], m.b + f["b"], m.c + f["c"], m.visible, m.hidden)

    @torch.no_grad()
    def step(self, v0: torch.Tensor, learning_rate: float, momentum: float,
             weight_decay: float, generator: torch.Generator | None) -> torch.Tensor:
        """One update: θ_inc ← momentum·θ_inc + lr·(statistics/n - weight_decay·θ); θ += θ_inc.

        Returns the negative chain's visible states v_k.
        """
        model, n = self.model, v0.shape[0]
        chain = None
        walker = self._chain_model()
        if self.chains is not None:
            sampler = GibbsSampler(walker or model, mean_field=self.mean_field)
            chain = self.chains.take(v0, sampler, generator)
        if self.tempering is not None:
            ph0, v_k, ph_k = self._tempered_chain(v0, generator)
        else:
            ph0, v_k, ph_k = cd_chain(model, v0, self.k, generator, chain, self.sample_visible,
                                      self.mean_field, walker)
        if self.chains is not None:
            self.chains.put(v_k)
        inc = self.increments
        own = self._unit_statistics(v0, ph0, v_k, ph_k)
        sums = [column_sum(v0), ph0.sum(0)] if self.centring else []
        # Gaussian visible units: Σ_rows ‖p(h|v0)‖², for the normalised step of W and b
        h2 = [ph0.square().sum()] if getattr(model.visible, "normalized_step", False) else []
        if self.reducer is None:  # the weight statistics go straight into the momentum buffer
            rate = learning_rate / n
            w_rate = rate / (1.0 + float(h2[0]) / n) if h2 else rate
            _, db, dc = cd_statistics(v0, ph0, v_k, ph_k, out=inc["W"], beta=momentum,
                                      alpha=w_rate)
        else:
            dW, db, dc = cd_statistics(v0, ph0, v_k, ph_k)
            count = torch.tensor([float(n)], dtype=dW.dtype, device=dW.device)
            self.reducer([dW, db, dc, count, *sums, *own.values(), *h2])
            n = float(count.item())
            rate = learning_rate / n
            w_rate = rate / (1.0 + float(h2[0]) / n) if h2 else rate
            inc["W"].mul_(momentum).add_(dW, alpha=w_rate)
        if self.centring:  # ΔW in centred coordinates: ΔW - λ Δbᵀ - Δc μᵀ
            self._update_offsets(sums[0] / n, sums[1] / n)
            inc["W"].addr_(self.lam, db, alpha=-rate).addr_(dc, self.mu, alpha=-rate)
        if weight_decay:
            inc["W"].add_(model.W, alpha=-learning_rate * weight_decay)
        inc["b"].mul_(momentum).add_(db, alpha=w_rate)
        inc["c"].mul_(momentum).add_(dc, alpha=rate)
        for name, stat in own.items():
            inc[name].mul_(momentum).add_(stat, alpha=rate)
        before = None if self.fast is None else {name: getattr(model, name).clone()
                                                 for name in self.fast}
        for name, param in model.state_dict().items():
            param.add_(inc[name])
        if own:
            model.visible.constrain()
        if self.centring:  # bₒ, cₒ moved by the increments: b = bₒ - Wᵀλ, c = cₒ - Wμ
            model.b.addmv_(inc["W"].T, self.lam, alpha=-1.0)
            model.c.addmv_(inc["W"], self.mu, alpha=-1.0)
        if before is not None:  # θ_f ← decay·θ_f + (fast rate / rate)·Δθ
            scale = self.fast_learning_rate / learning_rate
            for name, fast in self.fast.items():
                delta = getattr(model, name) - before[name]
                fast.mul_(FAST_DECAY).add_(delta, alpha=scale)
        return v_k

    def _tempered_chain(self, v0: torch.Tensor, generator: torch.Generator | None,
                        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """p(h|v0), then ``k`` tempering steps: the first ``len(v0)`` β = 1 chains and p(h|v)."""
        pt = self.tempering
        if pt.states is None:
            pt.start(dense(v0), generator)
        v_k = pt.run(self.k, generator)[:v0.shape[0]]
        return self.model.p_h_given_v(v0), v_k, self.model.p_h_given_v(v_k)

    def _unit_statistics(self, v0: torch.Tensor, ph0: torch.Tensor, v_k: torch.Tensor,
                         ph_k: torch.Tensor) -> dict[str, torch.Tensor]:
        """The visible unit type's own parameters' statistics, data minus chain.

        Gaussian units with learned variances: -∂F/∂log σ² on v0 minus on v_k
        (:meth:`~deepbelief.units.Gaussian.statistic`); nothing for binary units.
        """
        units, model = self.model.visible, self.model
        if not units.parameters() or not getattr(units, "learn_variance", False):
            return {}
        data = units.statistic(v0, model.b, ph0 @ model.W)
        return {"log_var": data.sub_(units.statistic(v_k, model.b, ph_k @ model.W))}

    def _update_offsets(self, mean_v: torch.Tensor, mean_h: torch.Tensor) -> None:
        """μ, λ ← (1 - ν)·(μ, λ) + ν·(batch means); the first batch sets them."""
        if self.mu is None:
            self.mu, self.lam = mean_v.clone(), mean_h.clone()
        else:
            self.mu.lerp_(mean_v, self.centring)
            self.lam.lerp_(mean_h, self.centring)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Momentum buffers, persistent chains and centring offsets, for checkpoints."""
        state = {f"{name}_inc": t for name, t in self.increments.items()}
        extra = {"chains": None if self.chains is None else self.chains.states,
                 "tempered": None if self.tempering is None else self.tempering.states,
                 "mu": self.mu, "lam": self.lam}
        state.update({name: t for name, t in extra.items() if t is not None})
        if self.tempering is not None:
            state["tempered_parity"] = torch.tensor(self.tempering.parity)
        if self.fast is not None:
            state.update({f"fast_{name}": t for name, t in self.fast.items()})
        return state

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Restore what :meth:`state_dict` returned."""
        W = self.model.W
        for name, t in self.increments.items():
            t.copy_(state[f"{name}_inc"])

        def own(name):
            t = state.get(name)
            return None if t is None else t.to(W.device, W.dtype).clone()

        if self.chains is not None:
            self.chains.states = own("chains")
        if self.tempering is not None:
            self.tempering.states = own("tempered")
            self.tempering.parity = int(state.get("tempered_parity", torch.zeros(())).item())
        self.mu, self.lam = own("mu"), own("lam")
        if self.fast is not None:
            for name, t in self.fast.items():
                t.copy_(state[f"fast_{name}"])
