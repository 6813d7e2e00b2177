"""Deep Boltzmann machines (Salakhutdinov & Hinton 2009) on the library's RBM core."""

from .classifier import DBMClassifier
from .estimator import DBM

__all__ = ["DBM", "DBMClassifier"]
