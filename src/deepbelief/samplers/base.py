"""What every sampler of the negative phase states.

The gradient of a Boltzmann machine's log-likelihood is a data term minus a
model term; the model term needs samples of the model, the *negative phase*.
A sampler supplies them for one minibatch. It owns whatever it keeps between
minibatches (persistent chains, fast weights, tempered chains) and that state's
``state_dict``; the trainer (:class:`~deepbelief.training.CDTrainer`) steps
without knowing which sampler it holds.

The chains are run through the core's block-Gibbs sampler
(:class:`~deepbelief.sampling.GibbsSampler` for an RBM core): a core with more
than two layers (a deep Boltzmann machine alternating its odd and even layers)
supplies its own chain with the same ``draw_visible`` / ``draw_hidden`` /
``run`` methods, and the samplers here run on it unchanged.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from ..model import RBM
from ..sampling import GibbsSampler


class Sampler:
    """The negative phase of contrastive divergence: CD-k from the data.

    Parameters
    ----------
    k : int, default=1
        Gibbs steps per update.
    sample_visible : bool or tuple of bool, default=False
        Draw visible states in the chain; by default the reconstructions are
        the means p(v|h) (the practical guide's choice for CD). A tuple decides
        per unit group of a :class:`~deepbelief.units.Layout`.
    mean_field : bool, default=False
        Means instead of samples everywhere (deterministic mean-field CD,
        Welling & Hinton 2002).
    """

    #: The name an estimator's ``sampler=`` takes for this class.
    name: ClassVar[str] = "cd"
    #: The estimator options (besides ``k``) that the class takes.
    options: ClassVar[tuple[str, ...]] = ("sample_visible", "mean_field")
    #: Whether the class runs only binary units.
    binary_only: ClassVar[bool] = False
    #: Whether the class runs only real-valued (Gaussian) visible units.
    real_only: ClassVar[bool] = False

    def __init__(self, k: int = 1, *, sample_visible: bool | tuple[bool, ...] = False,
                 mean_field: bool = False) -> None:
        self.k = k
        self.sample_visible = sample_visible
        self.mean_field = mean_field

    @classmethod
    def from_options(cls, k: int, **options: Any) -> Sampler:
        """The sampler for an estimator's ``k`` and options (those it does not take ignored)."""
        return cls(k, **{name: options[name] for name in cls.options if name in options})

    def chain(self, model: RBM, *, sample_visible: bool | tuple[bool, ...] | None = None,
              ) -> GibbsSampler:
        """The block-Gibbs chain on ``model`` with this sampler's settings."""
        visible = self.sample_visible if sample_visible is None else sample_visible
        return GibbsSampler(model, sample_visible=visible, mean_field=self.mean_field)

    def negative(self, model: RBM, v0: torch.Tensor, ph0: torch.Tensor,
                 generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        """The chain's visible states v_k and p(h|v_k) for the minibatch ``v0``.

        ``ph0`` is p(h|v0); CD starts its chain from hidden states drawn from it.
        """
        chain = self.chain(model)
        return chain.run(chain.draw_hidden(ph0, generator), self.k, generator)

    def before_update(self, model: RBM) -> None:
        """Called before the trainer moves the parameters (nothing to do here)."""

    def after_update(self, model: RBM, learning_rate: float) -> None:
        """Called after the trainer moved the parameters (nothing to do here)."""

    def initial(self, model: RBM, n_samples: int,
                generator: torch.Generator | None) -> torch.Tensor:
        """Where generation's chains start by default: the visible units given h = 0
        (their base rates), drawn independently."""
        return model.sample_base_rates(n_samples, generator)

    def generate(self, model: RBM, v: torch.Tensor, steps: int,
                 generator: torch.Generator | None) -> torch.Tensor:
        """Visible states ``steps`` block-Gibbs steps on from ``v`` (generation)."""
        return GibbsSampler(model).sample(v, steps, generator)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The state kept between minibatches (none for CD)."""
        return {}

    def load_state_dict(self, state: dict[str, torch.Tensor], model: RBM) -> None:
        """Restore what :meth:`state_dict` returned, onto ``model``'s device and dtype."""

    def spec(self) -> dict[str, Any]:
        """The sampler as JSON (a model file's ``sampler``): its name, ``k`` and options;
        :func:`~deepbelief.samplers.from_spec` builds it again."""
        return {"sampler": self.name, "k": self.k,
                **{name: getattr(self, name) for name in self.options}}

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in ("k", *self.options))
        return f"{type(self).__name__}({args})"


def own_copy(state: dict[str, torch.Tensor], name: str, like: torch.Tensor,
             ) -> torch.Tensor | None:
    """``state[name]`` copied onto ``like``'s device and dtype (None when absent)."""
    t = state.get(name)
    return None if t is None else t.to(like.device, like.dtype).clone()
