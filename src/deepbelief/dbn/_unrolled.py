"""A deep belief net unrolled into a feed-forward net and fine-tuned by backpropagation.

What :class:`~deepbelief.DBNClassifier` and :class:`~deepbelief.DBNRegressor`
share: their hyperparameters, the RBM stack pre-trained greedily (Hinton,
Osindero & Teh 2006) and the hidden layers of the net started from it (Hinton &
Salakhutdinov 2006); the fine-tuning is :mod:`deepbelief.dbn._backprop`'s.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

from sklearn.utils._param_validation import StrOptions
from torch import nn

from .._validation import dtype_name
from ._backprop import BackpropNet
from ._base import BaseDBN, Plan
from ._stack import layer_params, pretrain_stack

#: The hyperparameters of every :class:`UnrolledDBN`, for its children's docstrings.
PARAMETERS = """\
    hidden_layer_sizes : tuple of int, default=%(hidden_layer_sizes)s
        Hidden units of each RBM in the stack, bottom first.
    pretrain_epochs : int or "auto", default=%(pretrain_epochs)s
        CD epochs per layer (0 skips pre-training: a randomly initialised net).
        ``"auto"`` sizes them in updates as :class:`~deepbelief.BernoulliRBM`'s
        ``n_iter="auto"`` does, on minibatches of about 1/60 of the rows (10
        epochs of 100 rows on MNIST, 14 of 19 rows on 1.2k digits).
    rbm_params : dict or list of dict, optional
        Keyword arguments of :class:`~deepbelief.BernoulliRBM` for every layer (one
        dict) or for each layer (a list), e.g. ``{"learning_rate": 0.05, "k": 1}``.
    sample_hidden : bool, default=%(sample_hidden)s
        Train layer l+1 on binary states drawn from p(h|v) of layer l rather than
        on the probabilities.
    visible_units : {"bernoulli", "gaussian", "tabular"}, default=%(visible_units)s
        The first layer's visible units: binary (inputs in [0, 1]), Gaussian
        (any real inputs, standardised inside the estimator as
        :class:`~deepbelief.GaussianBernoulliRBM` does; the first RBM is one,
        pre-trained on the standardised values, and the net's first layer takes
        its W / σ²), or a table's (an array or a pandas DataFrame of binary,
        categorical and real columns, as :class:`~deepbelief.TabularRBM` reads
        one: the first RBM is one, and the net's first layer takes its units, the
        categorical columns one-hot and the real ones standardised, through W with
        the real columns' weights divided by σ²). A table must have no missing
        entries (fill them in first, e.g. with ``TabularRBM.impute``).
    column_types : "auto", list or dict, default=%(column_types)s
        Each column's kind with ``visible_units="tabular"``, as
        :class:`~deepbelief.TabularRBM` takes it (``"auto"``: read from a
        DataFrame's dtypes and the values); ignored otherwise.
    finetune_epochs : int or "auto", default=%(finetune_epochs)s
        Maximum epochs of backprop fine-tuning. ``"auto"``: at least 50 epochs and
        at least the updates :func:`~deepbelief._validation.auto_updates` gives the
        data (for 60k rows a classifier's 6,000, a regressor's 60,000: a regression
        fit needs the finer minimum; early stopping may end it sooner).
    optimizer : {"adam", "sgd"}, default=%(optimizer)s
        Adam, or SGD with Nesterov-free momentum ``momentum``.
    learning_rate : float or "auto", default=%(learning_rate)s
        The optimiser's step size. ``"auto"``: for Adam 1e-3 · min(10, √(60,000 / n))
        for the n rows of ``fit`` (1e-3 on MNIST, 7e-3 on 1.2k digits; a stream: 1e-3),
        for SGD 0.1. Small data needs the larger steps: a sigmoid net fine-tuned at
        1e-3 for 20 epochs of 800 digits stays near chance.
    learning_rate_schedule : {"auto", "constant", "cosine"}, default=%(learning_rate_schedule)s
        ``"cosine"`` sets the rate of epoch t (from 0) to
        lr·min(1, (t + 1) / w)·(1 + cos(π t / T))/2 with T = ``finetune_epochs``:
        a cosine after a linear warm-up over w = max(1, T / 20) epochs
        (:func:`~deepbelief.dbn.classifier.warm_cosine`); early stopping keeps the
        best net either way.
        ``"auto"``: cosine over 50 epochs or more, else constant (annealed over
        a short budget, the rate falls before the net has left its plateau: 0.83
        against 0.92 in 20 epochs on the digits).
    momentum : float, default=%(momentum)s
        Momentum of ``optimizer="sgd"``.
    weight_decay : float, default=%(weight_decay)s
        L2 penalty on the weights (added to the gradient).
    dropout : float, default=%(dropout)s
        Probability of dropping each hidden unit during fine-tuning (Srivastava
        et al. 2014).
    input_dropout : float, default=%(input_dropout)s
        Probability of dropping each input (pixel) during fine-tuning.
    batch_size : int or "auto", default=%(batch_size)s
        Minibatch of fine-tuning (pre-training uses ``rbm_params``); ``"auto"``:
        about n / 60 of the n rows, between 10 and 100.
    validation_fraction : float, default=%(validation_fraction)s
        Share of the training rows held out for early stopping (0 disables it; all
        ``finetune_epochs`` then run). Arrays only: a stream of minibatches is
        trained on whole, without early stopping.
    n_iter_no_change : int, default=%(n_iter_no_change)s
        Stop after this many epochs in which neither the validation score (a
        classifier's accuracy, a regressor's R²) rose nor the validation loss fell
        below its lowest; the net of the epoch with the highest validation score
        (of equals, the lowest loss) is kept. Not the loss alone: with dropout a
        classifier's validation cross-entropy starts rising (growing confidence)
        long before the error stops falling.
    device : str or torch.device, default=%(device)s
    dtype : {"float32", "float64"} or None, default=%(dtype)s
        Floating-point type of the model (the RBM stack and the net) and of its
        outputs. None follows the training data as scikit-learn does: float32
        data gives a float32 model, float64 (or integer) data a float64 one;
        later inputs are cast to the model's type.
    checkpoint_dir : str, optional
        Where to write checkpoints (atomically): each RBM layer's in ``layer-<l>``
        (every ``checkpoint_every`` CD epochs and at its end), fine-tuning's in
        ``finetune`` (net, optimiser, scheduler, random state, history and
        early-stopping best net, every ``checkpoint_every`` epochs and at the end).
        ``fit(..., resume=True)`` continues from them. Only rank 0 writes.
    checkpoint_every : int, default=%(checkpoint_every)s
    random_state : int, numpy or torch generator, or None
        Seeds everything: initialisation, Gibbs draws, shuffling, dropout, split.
    verbose : bool, default=%(verbose)s
        One progress bar over all pre-training and fine-tuning epochs.

"""


def with_parameters(cls: type) -> type:
    """Class decorator: put :data:`PARAMETERS`, with the defaults of ``cls.__init__``,
    where ``cls``'s docstring says ``%(parameters)s``."""
    defaults = {name: _shown(p.default)
                for name, p in inspect.signature(cls.__init__).parameters.items()}
    cls.__doc__ = cls.__doc__.replace("    %(parameters)s\n", PARAMETERS % defaults)
    return cls


def _shown(value) -> str:
    """A default as the docstrings write it: strings in double quotes."""
    return f'"{value}"' if isinstance(value, str) else repr(value)


class UnrolledDBN(BaseDBN):
    """The RBM stack of a fine-tuned deep belief net (module docstring); not for direct use."""

    _parameter_constraints: ClassVar[dict] = {
        **BaseDBN._parameter_constraints,
        **BackpropNet._parameter_constraints,
        "visible_units": [StrOptions({"bernoulli", "gaussian", "tabular"})],
        "column_types": [StrOptions({"auto"}), list, dict],
    }

    def __init__(self, hidden_layer_sizes=(500, 500, 2000), *, pretrain_epochs: int | str = "auto",
                 rbm_params=None, sample_hidden: bool = False,
                 visible_units: str = "bernoulli", column_types: Any = "auto",
                 finetune_epochs: int | str = "auto",
                 optimizer: str = "adam", learning_rate: float | str = "auto",
                 learning_rate_schedule: str = "auto", momentum: float = 0.9,
                 weight_decay: float = 0.0, dropout: float = 0.3, input_dropout: float = 0.1,
                 batch_size: int = 100, validation_fraction: float = 0.1,
                 n_iter_no_change: int = 10, device: Any = "cpu", dtype: str | None = None,
                 checkpoint_dir: str | None = None, checkpoint_every: int = 1,
                 random_state: Any = None, verbose: bool = False) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.pretrain_epochs = pretrain_epochs
        self.rbm_params = rbm_params
        self.sample_hidden = sample_hidden
        self.visible_units = visible_units
        self.column_types = column_types
        self.finetune_epochs = finetune_epochs
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.learning_rate_schedule = learning_rate_schedule
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.input_dropout = input_dropout
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.device = device
        self.dtype = dtype
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self.random_state = random_state
        self.verbose = verbose

    # ---------------------------------------------------------------- training
    def _plan_epochs(self, sizes: tuple[int, ...], n_samples: int | None) -> Plan:
        """Each layer's RBM settings and the fine-tuning epochs, "auto" resolved."""
        layers = []
        if self.pretrain_epochs != 0:
            layers = layer_params(self.rbm_params, len(sizes), self.pretrain_epochs, n_samples)
        return Plan(layers, self._finetune_epochs(n_samples))

    def _pretrain(self, data, sizes: tuple[int, ...], bar, resume: bool) -> None:
        self.rbms_ = []
        if self._plan.layers:
            self.rbms_, _ = pretrain_stack(
                data, sizes, self._plan.layers, self._rng, sample_hidden=self.sample_hidden,
                device=self._device(), dtype=dtype_name(self._dtype), bar=bar,
                checkpoint_dir=self.checkpoint_dir, checkpoint_every=self.checkpoint_every,
                resume=resume, visible_units=self.visible_units,
                encoder=getattr(self, "_encoder", None))
        self.pretrain_history_ = [rbm.history_ for rbm in self.rbms_]
        self.net_ = self._unroll(self._n_units(), sizes, self._n_outputs(),
                                 self._device(), self._dtype)

    def _tabular_input(self) -> bool:
        return self.visible_units == "tabular"

    def _init_hidden(self, layer: int, linear: nn.Linear) -> bool:
        """Weight W s(v) (W / σ² for Gaussian visible units) and bias c of RBM ``layer``."""
        if not getattr(self, "rbms_", None):
            return False
        rbm = self.rbms_[layer]
        linear.weight.copy_(rbm.model_.visible.scale(rbm.W_))
        linear.bias.copy_(rbm.c_)
        return True

    def _load_net(self, tensors, sizes: tuple[int, ...], n_in: int, device, dtype) -> None:
        self.rbms_ = []  # a file holds the fine-tuned net, not the stack
        super()._load_net(tensors, sizes, n_in, device, dtype)


__all__ = ["UnrolledDBN"]
