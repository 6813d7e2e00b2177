"""Persistent CD: the negative chains carry on from one minibatch to the next."""

from __future__ import annotations

import torch

from ..model import RBM
from ..sampling import PersistentChains
from .base import Sampler, own_copy


class PCD(Sampler):
    """Persistent contrastive divergence (Tieleman 2008).

    The chains start at (sampled) data rows the first time a minibatch needs
    them and then run ``k`` steps per update from where they stopped; their
    visible states are always sampled.

    Parameters
    ----------
    k : int, default=1
    mean_field : bool, default=False
        Means instead of samples in the chain.
    """

    name = "pcd"
    options = ("mean_field",)

    def __init__(self, k: int = 1, *, mean_field: bool = False) -> None:
        super().__init__(k, sample_visible=True, mean_field=mean_field)
        self.chains = PersistentChains()

    def walker(self, model: RBM) -> RBM:
        """The RBM the chains sample (the model itself)."""
        return model

    def negative(self, model: RBM, v0: torch.Tensor, ph0: torch.Tensor,
                 generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        walker = self.walker(model)
        chain = self.chain(walker)
        start = self.chains.take(v0, chain, generator)
        v_k, ph_k = chain.run(chain.draw_hidden(walker.p_h_given_v(start), generator), self.k,
                              generator)
        self.chains.put(v_k)
        if walker is not model:
            ph_k = model.p_h_given_v(v_k)
        return v_k, ph_k

    def state_dict(self) -> dict[str, torch.Tensor]:
        states = self.chains.states
        return {} if states is None else {"chains": states}

    def load_state_dict(self, state: dict[str, torch.Tensor], model: RBM) -> None:
        self.chains.states = own_copy(state, "chains", model.W)
