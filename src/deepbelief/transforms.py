"""Input transforms: the map from the inputs a user passes to the values a model's units take.

One object with one job, as in ``torch.distributions``: it is fitted explicitly
(never as a side effect of validation), maps forward and back, knows the log of
the absolute determinant of its Jacobian (so that a density of the transformed
values is a density of the inputs) and has a ``state_dict``, saved with the
model under one naming (``shift``, ``scale``).
"""

from __future__ import annotations

import torch


class Identity:
    """The inputs are the units' values (binary units on data in [0, 1])."""

    def fit(self, X: torch.Tensor) -> Identity:
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        return z

    def log_abs_det_jacobian(self) -> float:
        """log |det ∂z/∂x| = 0."""
        return 0.0

    def fold(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        """A linear map of z is already one of x."""

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Nothing to restore."""


class Standardize:
    """z = (x - shift) / scale per column, fitted to the columns' means and standard deviations.

    Columns without spread keep scale 1 (they are only centred), as scikit-learn's
    ``StandardScaler`` does. ``Standardize.identity(n)`` is the same transform
    with shift 0 and scale 1 (the inputs modelled as given).
    """

    def __init__(self, shift: torch.Tensor | None = None,
                 scale: torch.Tensor | None = None) -> None:
        self.shift = shift
        self.scale = scale

    @classmethod
    def identity(cls, like: torch.Tensor) -> Standardize:
        """Shift 0 and scale 1 for the columns of ``like`` (a row or a matrix)."""
        row = like if like.ndim == 1 else like[0]
        return cls(torch.zeros_like(row), torch.ones_like(row))

    def fit(self, X: torch.Tensor) -> Standardize:
        """Each column's mean and standard deviation; constant columns get scale 1."""
        std = X.std(0, correction=0)
        constant = std <= 1e-8 * X.abs().amax(0).clamp(min=1)
        self.shift, self.scale = X.mean(0), torch.where(constant, torch.ones_like(std), std)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """z = (x - shift) / scale."""
        return (x - self.shift) / self.scale

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        """x = z · scale + shift."""
        return z * self.scale + self.shift

    def log_abs_det_jacobian(self) -> float:
        """log |det ∂z/∂x| = -Σ_j log scale_j: p(x) = p(z) / Π_j scale_j."""
        return -float(self.scale.double().log().sum())

    def fold(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        """A linear map of z made one of x, in place.

        W z + c = (W / scale) x + (c - (W / scale) shift).
        """
        weight.div_(self.scale)
        bias.sub_(weight @ self.shift)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"shift": self.shift, "scale": self.scale}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Take ``shift`` and ``scale`` (checked: the scales must be positive)."""
        shift, scale = state["shift"], state["scale"]
        if not bool((scale > 0).all()):
            raise ValueError("scale must be positive")
        self.shift, self.scale = shift, scale
