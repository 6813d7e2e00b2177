"""Samplers of the negative phase, one class a file, chosen by name.

============  ==========================================================  ==========================
name          sampler                                                     its options
============  ==========================================================  ==========================
``cd``        :class:`CD`: CD-k, the chain starts at the data             ``sample_visible``,
                                                                          ``mean_field``
``pcd``       :class:`PCD`: persistent chains (Tieleman 2008)             ``mean_field``
``fpcd``      :class:`FPCD`: persistent chains on fast weights            ``fast_learning_rate``,
              (Tieleman & Hinton 2009)                                    ``mean_field``
``pt``        :class:`PT`: parallel tempering (Desjardins et al. 2010)    ``n_temperatures``,
                                                                          ``min_beta``
``langevin``  :class:`GibbsLangevin`: Langevin steps on v between         ``step_size``,
              Gibbs draws of h, optionally from noise (Liao et            ``n_langevin``,
              al. 2022); Gaussian visible units                           ``adjust``, ``from_noise``
============  ==========================================================  ==========================

A new sampler is a subclass of :class:`Sampler` in a file of its own, named in
:data:`SAMPLERS`; every estimator's ``sampler=`` then takes its name.
"""

from __future__ import annotations

import copy
from typing import Any

from .base import Sampler
from .cd import CD
from .fpcd import FPCD
from .langevin import GibbsLangevin
from .pcd import PCD
from .pt import PT

#: The samplers by the name an estimator's ``sampler=`` takes.
SAMPLERS: dict[str, type[Sampler]] = {cls.name: cls for cls in (CD, PCD, FPCD, PT,
                                                             GibbsLangevin)}

__all__ = ["CD", "FPCD", "PCD", "PT", "GibbsLangevin", "SAMPLERS", "Sampler", "from_spec",
           "make_sampler"]


def make_sampler(spec: str | Sampler, k: int = 1, **options: Any) -> Sampler:
    """A fresh sampler: the class named ``spec`` built from ``k`` and the options it
    takes, or a copy of a given :class:`Sampler` (so that the caller's object keeps no
    chains of a fit)."""
    if isinstance(spec, Sampler):
        return copy.deepcopy(spec)
    if spec not in SAMPLERS:
        raise ValueError(f"sampler must be one of {sorted(SAMPLERS)} or a Sampler, "
                         f"got {spec!r}")
    return SAMPLERS[spec].from_options(k, **options)


def from_spec(spec: dict[str, Any]) -> Sampler:
    """The sampler that :meth:`Sampler.spec` describes (a ``ValueError`` for anything else)."""
    cls = SAMPLERS.get(spec.get("sampler")) if isinstance(spec, dict) else None
    if cls is None:
        raise ValueError(f"not the description of a known sampler: {spec!r}")
    options = {key: value for key, value in spec.items() if key not in ("sampler", "k")}
    try:
        return cls(spec.get("k", 1), **options)
    except TypeError as exc:
        raise ValueError(f"not the description of a {cls.__name__}: {spec!r} ({exc})") from None
