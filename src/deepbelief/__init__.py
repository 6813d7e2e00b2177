"""deepbelief: restricted Boltzmann machines and deep belief nets in PyTorch.

The models of Hinton, Osindero & Teh (2006) and the ones leading up to them, as
scikit-learn estimators computing with PyTorch on the CPU or a GPU.
"""

from . import (
    averaging,
    data,
    datasets,
    distributed,
    files,
    functional,
    joint,
    model,
    monitor,
    partition,
    plot,
    samplers,
    sampling,
    training,
    transforms,
    units,
)
from .classrbm import ClassRBM
from .dbm import DBM, DBMClassifier
from .dbn import DBN, DBNClassifier, DBNRegressor
from .gaussian import GaussianBernoulliRBM
from .io import load
from .mixture import GaussianMixture
from .naive_bayes import BernoulliNB, CategoricalNB, ComplementNB, GaussianNB, MultinomialNB
from .rbm import BernoulliRBM
from .tabular import TabularRBM

__version__ = "0.1.0"

__all__ = [
    "BernoulliNB",
    "BernoulliRBM",
    "CategoricalNB",
    "ClassRBM",
    "ComplementNB",
    "DBM",
    "DBMClassifier",
    "DBN",
    "DBNClassifier",
    "DBNRegressor",
    "GaussianBernoulliRBM",
    "GaussianMixture",
    "GaussianNB",
    "MultinomialNB",
    "TabularRBM",
    "averaging",
    "data",
    "datasets",
    "distributed",
    "files",
    "functional",
    "joint",
    "load",
    "model",
    "monitor",
    "partition",
    "plot",
    "samplers",
    "sampling",
    "training",
    "transforms",
    "units",
    "__version__",
]
