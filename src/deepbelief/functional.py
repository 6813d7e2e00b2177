"""What the model is: the Bernoulli RBM's formulas (slides §4), one function each.

Parameters follow the slides: ``W`` is (n_hidden x n_visible), ``b`` the visible
bias (n_visible,), ``c`` the hidden bias (n_hidden,). ``v`` and ``h`` are batches
of row vectors, shapes (batch, n_visible) and (batch, n_hidden). All functions are
plain torch and differentiable. Binary units are the default; other unit types
(:mod:`deepbelief.units`, e.g. Gaussian visible units) are passed as ``visible``
and ``hidden``, the formulas in their docstrings being the binary ones.
"""

from __future__ import annotations

import torch

from .units import BINARY, Units


def energy(v: torch.Tensor, h: torch.Tensor, W: torch.Tensor, b: torch.Tensor,
           c: torch.Tensor, visible: Units = BINARY) -> torch.Tensor:
    """E(v, h) = -bᵀv - cᵀh - hᵀWv, one value per row.

    In general E_b(v) - cᵀh - hᵀW s(v) (Gaussian visible units:
    Σ_j (v_j - b_j)² / 2σ_j² - cᵀh - hᵀW (v / σ²)).
    """
    return visible.bias_energy(v, b) - (h @ c) - ((h @ W) * visible.scale(v)).sum(dim=1)


def free_energy(v: torch.Tensor, W: torch.Tensor, b: torch.Tensor, c: torch.Tensor,
                hidden: Units = BINARY, visible: Units = BINARY) -> torch.Tensor:
    """F(v) = -bᵀv - Σ_i log(1 + exp(c_i + W_i v)), so that p(v) = exp(-F(v)) / Z.

    The sum is the hidden units' ``log_partition`` (``softplus``, finite for large
    weights, for binary units). In general F(v) = E_b(v) - log_partition(c + W s(v)).
    """
    return visible.bias_energy(v, b) - hidden.log_partition(hidden_input(visible.scale(v), W, c))


def hidden_free_energy(h: torch.Tensor, W: torch.Tensor, b: torch.Tensor, c: torch.Tensor,
                       visible: Units = BINARY) -> torch.Tensor:
    """F(h) = -cᵀh - Σ_j log(1 + exp(b_j + W_jᵀh)): the visible layer summed out.

    In general -cᵀh - integrate_out(b, Wᵀh) (Gaussian visible units: an integral,
    :meth:`~deepbelief.units.Gaussian.integrate_out`); Z = Σ_h exp(-F(h)).
    """
    return -(h @ c) - visible.integrate_out(b, h @ W)


def hidden_input(v: torch.Tensor, W: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Total input to each hidden unit, c_i + W_i v."""
    return torch.addmm(c, v, W.T)


def visible_input(h: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Total input to each visible unit, b_j + W_jᵀ h."""
    return torch.addmm(b, h, W)


def p_h_given_v(v: torch.Tensor, W: torch.Tensor, c: torch.Tensor,
                units: Units = BINARY, visible: Units = BINARY) -> torch.Tensor:
    """p(h_i = 1 | v) = σ(c_i + W_i v) (the mean of other ``units``).

    The hidden units see ``visible.scale(v)`` (v / σ² for Gaussian visible units).
    """
    return units.mean_(hidden_input(visible.scale(v), W, c))


def p_v_given_h(h: torch.Tensor, W: torch.Tensor, b: torch.Tensor,
                units: Units = BINARY) -> torch.Tensor:
    """p(v_j = 1 | h) = σ(b_j + W_jᵀ h); a softmax group: softmax(b + Wᵀh) over it.

    For Gaussian units this is the mean b + Wᵀh of N(b + Wᵀh, σ²).
    """
    return units.mean_(visible_input(h, W, b))


def pseudo_log_likelihood(v: torch.Tensor, W: torch.Tensor, b: torch.Tensor, c: torch.Tensor,
                          flip: torch.Tensor) -> torch.Tensor:
    """Stochastic pseudo-log-likelihood, one unit per row: n_visible · log σ(F(ṽ) - F(v)).

    ``flip`` holds, for each row, the index j of the visible unit to flip in ṽ. The
    caller chooses it (deterministically per sample in ``score_samples``). Flipping
    v_j by s = 1 - 2v_j moves the hidden input x = c + Wv by s·W_{:,j}, so one
    matrix product serves both free energies:

        F(ṽ) - F(v) = -s·b_j - Σ_i [softplus(x_i + s·W_ij) - softplus(x_i)].
    """
    rows = torch.arange(v.shape[0], device=v.device)
    sign = 1.0 - 2.0 * v[rows, flip]
    x = hidden_input(v, W, c)
    x_flip = torch.addcmul(x, sign[:, None], W.T[flip])
    softplus = torch.nn.functional.softplus
    delta = -sign * b[flip] - (softplus(x_flip) - softplus(x)).sum(1)
    return v.shape[1] * torch.nn.functional.logsigmoid(delta)
