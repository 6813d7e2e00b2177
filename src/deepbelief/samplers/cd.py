"""CD-k: the negative chain starts at the data (Hinton 2002)."""

from __future__ import annotations

from .base import Sampler


class CD(Sampler):
    """Contrastive divergence: ``k`` block-Gibbs steps from each minibatch's own rows."""

    name = "cd"
