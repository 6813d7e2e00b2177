"""Deep belief nets: greedy RBM pre-training and two kinds of fine-tuning.

:class:`DBNClassifier` and :class:`DBNRegressor` fine-tune the unrolled stack by
backpropagation;
:class:`DBN` is the generative model of Hinton, Osindero & Teh (2006) with a
label-joint top-level RBM, fine-tuned by the up-down algorithm.
"""

from ._stack import pretrain_stack
from .classifier import DBNClassifier
from .generative import DBN
from .regressor import DBNRegressor

__all__ = ["DBN", "DBNClassifier", "DBNRegressor", "pretrain_stack"]
