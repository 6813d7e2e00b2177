"""deepbelief: restricted Boltzmann machines and deep belief nets in PyTorch."""

__version__ = "0.1.0"
