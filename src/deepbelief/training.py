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

Centring (Montavon & Müller 2012; Melchior, Fischer & Wiskott 2016) writes the
same model with offsets μ (visible) and λ (hidden),

    E(v, h) = -bₒᵀ(v - μ) - cₒᵀ(h - λ) - (h - λ)ᵀW(v - μ),

i.e. b = bₒ - Wᵀλ and c = cₒ - Wμ in the plain form, and follows the gradient in
(W, bₒ, cₒ):  ΔW = ΔW_plain - λ Δbᵀ - Δc μᵀ  (Δb, Δc unchanged). μ and λ track the
data means of v and p(h|v) by exponential moving averages; the model itself is
kept, as always, in the plain (W, b, c).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .functional import p_h_given_v
from .sampling import bernoulli

Reducer = Callable[[list[torch.Tensor]], None]


def cd_chain(v0: torch.Tensor, W: torch.Tensor, b: torch.Tensor, c: torch.Tensor, k: int,
             generator: torch.Generator | None, chain: torch.Tensor | None = None,
             sample_visible: bool = False, mean_field: bool = False,
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Run the CD-k chain for one minibatch.

    Parameters
    ----------
    v0 : (batch, n_visible) data.
    chain : visible states where the negative chain starts (persistent CD); ``None``
        starts it at the data (plain CD).
    sample_visible : draw binary visible states; otherwise the visible
        reconstructions are the probabilities p(v|h) (the practical guide's choice
        for CD; persistent chains are always sampled).
    mean_field : use probabilities instead of samples everywhere (deterministic
        mean-field CD, Welling & Hinton 2002).

    Returns
    -------
    ph0 : p(h|v0), the positive statistics' hidden factor.
    v_k : the chain's visible state after ``k`` Gibbs steps.
    ph_k : p(h|v_k), the negative statistics' hidden factor.
    """
    draw = (lambda p: p) if mean_field else (lambda p: bernoulli(p, generator))
    ph0 = p_h_given_v(v0, W, c)
    if chain is None:
        h = draw(ph0)
    else:
        h = draw(p_h_given_v(chain, W, c))
        sample_visible = True
    for step in range(k):
        v_k = torch.sigmoid_(torch.addmm(b, h, W))
        if sample_visible:
            v_k = draw(v_k)
        ph_k = p_h_given_v(v_k, W, c)
        if step + 1 < k:
            h = draw(ph_k)
    return ph0, v_k, ph_k


def cd_statistics(v0: torch.Tensor, ph0: torch.Tensor, v_k: torch.Tensor, ph_k: torch.Tensor,
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The ascent directions summed over the batch (see the module docstring)."""
    dW = torch.mm(ph0.T, v0)
    dW.addmm_(ph_k.T, v_k, alpha=-1.0)
    return dW, v0.sum(0) - v_k.sum(0), ph0.sum(0) - ph_k.sum(0)


class CDTrainer:
    """Momentum SGD on CD-k / PCD statistics for one RBM's parameters (in place).

    Parameters
    ----------
    W, b, c : the model's parameter tensors, modified in place by :meth:`step`.
    k : Gibbs steps per update.
    persistent : keep the negative chains across minibatches (PCD, Tieleman 2008).
    sample_visible, mean_field : see :func:`cd_chain`.
    centring : follow the centred gradient (module docstring); 0 disables it,
        otherwise it is the moving-average rate of the offsets μ and λ (0.01 is
        Melchior et al.'s choice).
    reducer : optional in-place sum over processes of ``[dW, db, dc, n, ...]``
        (data-parallel training); the update then uses the global statistics.
    """

    def __init__(self, W: torch.Tensor, b: torch.Tensor, c: torch.Tensor, *, k: int = 1,
                 persistent: bool = False, sample_visible: bool = False,
                 mean_field: bool = False, centring: float = 0.0,
                 reducer: Reducer | None = None) -> None:
        self.W, self.b, self.c = W, b, c
        self.k = k
        self.persistent = persistent
        self.sample_visible = sample_visible
        self.mean_field = mean_field
        self.centring = centring
        self.reducer = reducer
        self.W_inc = torch.zeros_like(W)
        self.b_inc = torch.zeros_like(b)
        self.c_inc = torch.zeros_like(c)
        self.chains: torch.Tensor | None = None
        self.mu: torch.Tensor | None = None
        self.lam: torch.Tensor | None = None

    @torch.no_grad()
    def step(self, v0: torch.Tensor, learning_rate: float, momentum: float,
             weight_decay: float, generator: torch.Generator | None) -> None:
        """One update: θ_inc ← momentum·θ_inc + lr·(statistics/n - weight_decay·θ); θ += θ_inc."""
        chain = None
        n = v0.shape[0]
        if self.persistent:
            have = 0 if self.chains is None else self.chains.shape[0]
            if have < n:  # new chains start at the data
                rows = v0[have:]
                fresh = rows.clone() if self.mean_field else bernoulli(rows, generator)
                self.chains = fresh if self.chains is None else torch.cat([self.chains, fresh])
            # A short (last) minibatch advances the first n chains; the rest wait.
            chain = self.chains[:n]
        ph0, v_k, ph_k = cd_chain(v0, self.W, self.b, self.c, self.k, generator, chain,
                                  self.sample_visible, self.mean_field)
        if self.persistent:
            self.chains[:n] = v_k
        if self.reducer is None:
            # Same update as below, with the two statistics GEMMs accumulated in place.
            rate = learning_rate / n
            sum_v0, sum_h0 = v0.sum(0), ph0.sum(0)
            if self.centring:
                self._update_offsets(sum_v0 / n, sum_h0 / n)
            self.W_inc.addmm_(ph0.T, v0, beta=momentum, alpha=rate)
            self.W_inc.addmm_(ph_k.T, v_k, alpha=-rate)
            db, dc = sum_v0 - v_k.sum(0), sum_h0 - ph_k.sum(0)
        else:
            dW, db, dc = cd_statistics(v0, ph0, v_k, ph_k)
            count = torch.tensor([float(n)], dtype=dW.dtype, device=dW.device)
            sums = [v0.sum(0), ph0.sum(0)] if self.centring else []
            self.reducer([dW, db, dc, count, *sums])
            n_total = float(count.item())
            rate = learning_rate / n_total
            if self.centring:
                self._update_offsets(sums[0] / n_total, sums[1] / n_total)
            self.W_inc.mul_(momentum).add_(dW, alpha=rate)
        if self.centring:  # ΔW in centred coordinates: ΔW - λ Δbᵀ - Δc μᵀ
            self.W_inc.addr_(self.lam, db, alpha=-rate).addr_(dc, self.mu, alpha=-rate)
        if weight_decay:
            self.W_inc.add_(self.W, alpha=-learning_rate * weight_decay)
        self.b_inc.mul_(momentum).add_(db, alpha=rate)
        self.c_inc.mul_(momentum).add_(dc, alpha=rate)
        self.W.add_(self.W_inc)
        self.b.add_(self.b_inc)
        self.c.add_(self.c_inc)
        if self.centring:  # bₒ, cₒ moved by the increments: b = bₒ - Wᵀλ, c = cₒ - Wμ
            self.b.addmv_(self.W_inc.T, self.lam, alpha=-1.0)
            self.c.addmv_(self.W_inc, self.mu, alpha=-1.0)

    def _update_offsets(self, mean_v: torch.Tensor, mean_h: torch.Tensor) -> None:
        """μ, λ ← (1 - ν)·(μ, λ) + ν·(batch means); the first batch sets them."""
        if self.mu is None:
            self.mu, self.lam = mean_v.clone(), mean_h.clone()
        else:
            self.mu.lerp_(mean_v, self.centring)
            self.lam.lerp_(mean_h, self.centring)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Momentum buffers, persistent chains and centring offsets, for checkpoints."""
        state = {"W_inc": self.W_inc, "b_inc": self.b_inc, "c_inc": self.c_inc}
        for name in ("chains", "mu", "lam"):
            if getattr(self, name) is not None:
                state[name] = getattr(self, name)
        return state

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.W_inc.copy_(state["W_inc"])
        self.b_inc.copy_(state["b_inc"])
        self.c_inc.copy_(state["c_inc"])
        for name in ("chains", "mu", "lam"):
            t = state.get(name)
            setattr(self, name, None if t is None else t.to(self.W.device, self.W.dtype).clone())
