"""deepbelief: restricted Boltzmann machines and deep belief nets in PyTorch."""

from .io import load
from .rbm import BernoulliRBM

__version__ = "0.1.0"

__all__ = ["BernoulliRBM", "load", "__version__"]
