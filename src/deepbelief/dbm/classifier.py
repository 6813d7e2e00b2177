"""A deep Boltzmann machine fine-tuned by backpropagation as a classifier.

Salakhutdinov & Hinton (2009, "Deep Boltzmann Machines", AISTATS; 2012, Neural
Computation): a DBM is trained generatively, then a feed-forward net initialised
from it is trained discriminatively. For two hidden layers the net's input is the
data v augmented with the mean-field posterior q(h²|v) of the top layer, computed
once by the trained DBM and held fixed: h¹ = σ(W₁v + W₂ᵀq² + b₁), h² = σ(W₂h¹ + b₂),
then a new softmax layer. The fine-tuning itself (optimiser, schedule, dropout,
early stopping, checkpoints, files) is :class:`~deepbelief.DBNClassifier`'s.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from numbers import Integral
from pathlib import Path
from typing import Any, ClassVar

import torch
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from torch import nn

from .._validation import CHUNK, dtype_name, is_sparse, resolve_device
from ..data import Minibatches, is_stream
from ..dbn._backprop import BackpropClassifier
from ..dbn._base import Plan
from ..io import register
from ..model import RBM
from ._core import Layout, mean_field
from .estimator import DBM

#: DBM hyperparameters that the classifier sets itself (``dbm_params`` may not).
_OWN_DBM_PARAMS = frozenset({"hidden_layer_sizes", "pretrain_epochs", "n_iter", "device",
                             "dtype", "random_state", "verbose", "checkpoint_dir",
                             "checkpoint_every"})
#: The prefix of the DBM's tensors in a model file.
_DBM_PREFIX = "dbm_"


class MeanFieldInput(nn.Module):
    """x ↦ [x, q(h²|x)]: the input beside the mean-field posterior of layer 2 of a DBM.

    q is :func:`~deepbelief.dbm._core.mean_field`'s fixed point (the visible
    layer clamped to x), with the DBM's ``mean_field_iter`` and
    ``mean_field_tol``; the DBM's parameters are buffers (no gradient flows into
    them). The module holds the fitted DBM's tensors themselves, not copies.
    """

    def __init__(self, dbm: DBM) -> None:
        super().__init__()
        if dbm.layout_.n_layers < 2:
            raise ValueError("a DBM with one hidden layer has no layer 2 to augment with")
        core = dbm.model_
        self.register_buffer("W", core.W)
        self.register_buffer("b", core.b)
        self.register_buffer("c", core.c)
        self.layout: Layout = dbm.layout_
        self.max_iter, self.tol = dbm.mean_field_iter, dbm.mean_field_tol

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mu_even, _, _ = mean_field(RBM(self.W, self.b, self.c), self.layout, x, self.max_iter,
                                   self.tol)
        n_v, layer = self.layout.sizes[0], self.layout.slices[2]
        return torch.cat([x, mu_even[:, layer.start - n_v:layer.stop - n_v]], dim=1)


@register
class DBMClassifier(BackpropClassifier):
    """Deep Boltzmann machine classifier: generative DBM training, then backprop fine-tuning.

    The DBM (:class:`~deepbelief.DBM`: greedy pre-training of RBMs with doubled
    inputs, then joint training by mean-field and persistent chains) is trained on
    X alone. It then initialises a feed-forward net (Salakhutdinov & Hinton 2009,
    §4): for L ≥ 2 hidden layers with weights W_l (n_l x n_{l-1}) and biases b_l,

    - input: x = [v, q²], the data beside the mean-field posterior q² = q(h²|v) of
      the DBM's second hidden layer, computed once by the trained DBM and held
      fixed (no gradient flows into it);
    - h¹ = σ(W₁ v + W₂ᵀ q² + b₁): the first layer's weight is [W₁, W₂ᵀ], its input
      from both of the layers it touches in the DBM;
    - h^l = σ(W_l h^{l-1} + b_l) for l = 2..L (for L ≥ 3 the layers above 2 get
      no augmented input: only q² is used, as for the paper's 2-layer DBM);
    - p(y | v) = softmax(U h^L + d), U and d new (Glorot-uniform U, d = 0, as in
      :class:`~deepbelief.DBNClassifier`).

    For L = 1 the input is v alone and h¹ = σ(W₁ v + b₁). Every weight and bias is
    then fine-tuned by minimising the cross-entropy -Σ log p(y | v), exactly as
    :class:`~deepbelief.DBNClassifier` fine-tunes (Adam or SGD, warm-up + cosine
    schedule, dropout, early stopping on a held-out share, checkpoints).

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default=(500, 1000)
        Units per hidden layer of the DBM, bottom first.
    pretrain_epochs : int or "auto", default="auto"
        The DBM's ``pretrain_epochs``: CD epochs of each pre-training RBM (0: no
        pre-training, joint training starts from small random weights).
    dbm_epochs : int or "auto", default="auto"
        The DBM's ``n_iter``: epochs of joint training (0: the pre-trained stack
        composed, no joint training).
    dbm_params : dict, optional
        Other keyword arguments of :class:`~deepbelief.DBM`, e.g.
        ``{"learning_rate": 0.01, "batch_size": 50, "rbm_params": {"batch_size": 20}}``;
        not those set above or by the classifier (``hidden_layer_sizes``,
        ``pretrain_epochs``, ``n_iter``, ``device``, ``dtype``, ``random_state``,
        ``verbose``, ``checkpoint_dir``, ``checkpoint_every``).
    dbm : DBM, optional
        The DBM to start from, fitted on X by :meth:`fit` in place of one built
        from the settings above (which it then ignores); pass
        ``sklearn.frozen.FrozenEstimator(fitted_dbm)`` to reuse a fitted DBM as it
        is. Its hidden layers must be ``hidden_layer_sizes``.
    finetune_epochs : int or "auto", default="auto"
        Maximum epochs of backprop fine-tuning (0: the net as initialised from the
        DBM, with its untrained output layer). ``"auto"`` as in
        :class:`~deepbelief.DBNClassifier`: at least 50 epochs and at least the
        updates :func:`~deepbelief._validation.auto_updates` gives the data.
    optimizer : {"adam", "sgd"}, default="adam"
        Fine-tuning's optimiser (SGD with momentum ``momentum``).
    learning_rate : float or "auto", default="auto"
        Its step size; ``"auto"``: for Adam 1e-3 · min(10, √(60,000 / n)) for n
        rows, for SGD 0.1 (as in :class:`~deepbelief.DBNClassifier`).
    learning_rate_schedule : {"auto", "constant", "cosine"}, default="auto"
        ``"cosine"``: a linear warm-up, then a cosine over ``finetune_epochs``
        (:func:`~deepbelief.dbn.classifier.warm_cosine`); ``"auto"``: cosine for
        50 epochs or more, else constant.
    momentum : float, default=0.9
        Momentum of ``optimizer="sgd"``.
    weight_decay : float, default=0.0
        L2 penalty on the net's weights during fine-tuning.
    dropout : float, default=0.3
        Probability of dropping each hidden unit during fine-tuning.
    input_dropout : float, default=0.1
        Probability of dropping each input of the net, [v, q²], during fine-tuning.
    batch_size : int or "auto", default=100
        Fine-tuning's minibatch (the DBM's is ``dbm_params["batch_size"]``).
    validation_fraction : float, default=0.1
        Share of the training rows held out for early stopping (0: none, all
        ``finetune_epochs`` run).
    n_iter_no_change : int, default=10
        Stop after this many epochs in which neither the validation accuracy rose
        nor its loss fell; the net of the best epoch is kept (as in
        :class:`~deepbelief.DBNClassifier`).
    device : str or torch.device, default="cpu"
        Where the DBM and the net compute.
    dtype : {"float32", "float64"} or None, default=None
        Floating-point type of the DBM and the net; None follows the training data.
    checkpoint_dir : str, optional
        The DBM checkpoints in ``dbm`` there (``dbm/pretrain/layer-<l>``,
        ``dbm/joint``), fine-tuning in ``finetune``; ``fit(..., resume=True)``
        continues from them.
    checkpoint_every : int, default=1
        Epochs between checkpoints.
    random_state : int, numpy or torch generator, or None
        Seeds everything: the DBM's training, the output layer, shuffling,
        dropout, the validation split.
    verbose : bool, default=False
        The DBM's progress, then a bar over the fine-tuning epochs.

    Attributes
    ----------
    classes_ : ndarray of the distinct labels.
    dbm_ : DBM
        The generatively trained DBM (its parameters are not changed by
        fine-tuning; it computes q² for every input).
    net_ : torch.nn.Sequential
        The fine-tuned net on the augmented inputs [v, q²], output logits (see
        :meth:`to_torch` for one that takes v); ``coefs_[0]``, its first weight,
        has n_features + n_2 columns.
    history_ : dict of lists
        Per fine-tuning epoch ``train_loss``, ``validation_loss`` and
        ``validation_accuracy`` (when held out) and ``seconds``.
    pretrain_history_ : list of dict
        Each pre-training RBM's ``history_`` (joint training's is ``dbm_.history_``).
    times_ : dict
        Seconds spent training the DBM (``pretrain``) and fine-tuning (``finetune``).
    n_features_in_ : int
    n_epochs_ : int
        Fine-tuning epochs run.

    Notes
    -----
    Arrays only (no streams of minibatches, no sparse matrices: the DBM takes
    neither). The training data must lie in [0, 1]; a fitted model takes any
    finite inputs. A model file holds the fine-tuned net, the DBM's parameters
    (for q²) and the classes.

    The fine-tuning is :class:`~deepbelief.DBNClassifier`'s (both are
    :class:`~deepbelief.dbn._backprop.BackpropClassifier`).
    """

    _parameter_constraints: ClassVar[dict] = {
        **BackpropClassifier._parameter_constraints,
        "dbm_epochs": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "dbm_params": [Mapping, None],
        "dbm": [HasMethods(["fit"]), None],
    }

    def __init__(self, hidden_layer_sizes=(500, 1000), *, pretrain_epochs: int | str = "auto",
                 dbm_epochs: int | str = "auto", dbm_params: dict | None = None,
                 dbm: Any = None,
                 finetune_epochs: int | str = "auto", optimizer: str = "adam",
                 learning_rate: float | str = "auto", learning_rate_schedule: str = "auto",
                 momentum: float = 0.9, weight_decay: float = 0.0, dropout: float = 0.3,
                 input_dropout: float = 0.1, batch_size: int | str = 100,
                 validation_fraction: float = 0.1, n_iter_no_change: int = 10,
                 device: Any = "cpu", dtype: str | None = None,
                 checkpoint_dir: str | None = None, checkpoint_every: int = 1,
                 random_state: Any = None, verbose: bool = False) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.pretrain_epochs = pretrain_epochs
        self.dbm_epochs = dbm_epochs
        self.dbm_params = dbm_params
        self.dbm = dbm
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

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> tuple[int, ...]:
        sizes = super()._check_params()
        given = dict(self.dbm_params or {})
        own = sorted(_OWN_DBM_PARAMS & given.keys())
        if own:
            raise ValueError(f"dbm_params may not set {own} (the classifier sets them: "
                             "hidden_layer_sizes, pretrain_epochs, dbm_epochs and the run "
                             "settings)")
        unknown = sorted(given.keys() - set(DBM._get_param_names()))
        if unknown:
            raise ValueError(f"dbm_params has keys {unknown} that are not DBM parameters")
        return sizes

    def _dbm(self, sizes: tuple[int, ...], dtype: torch.dtype, random_state) -> DBM:
        """The (unfitted) DBM of these settings."""
        ckpt = None if self.checkpoint_dir is None else str(Path(self.checkpoint_dir, "dbm"))
        return DBM(sizes, pretrain_epochs=self.pretrain_epochs, n_iter=self.dbm_epochs,
                   **dict(self.dbm_params or {}), device=self.device, dtype=dtype_name(dtype),
                   random_state=random_state, verbose=self.verbose, checkpoint_dir=ckpt,
                   checkpoint_every=self.checkpoint_every)

    def _validate(self, X, *, reset: bool = False, check_range: bool = False) -> torch.Tensor:
        """As :class:`~deepbelief.DBNClassifier`'s check, refusing sparse input."""
        if is_sparse(X) or hasattr(X, "toarray"):
            raise TypeError("X: sparse input is not supported by DBMClassifier (the DBM's "
                            "mean-field is dense); pass a dense array (X.toarray())")
        return super()._validate(X, reset=reset, check_range=check_range)

    # ---------------------------------------------------------------- training
    def fit(self, X, y, *, callback=None, resume: bool = False) -> DBMClassifier:
        """Train the DBM on ``X``, then fine-tune the net initialised from it on (X, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), values in [0, 1].
        y : array-like of shape (n_samples,), labels of any type.
        callback : callable, optional
            Called as ``callback(self)`` after each fine-tuning epoch; fine-tuning
            stops when it returns True.
        resume : bool, default=False
            Continue from the checkpoints in ``checkpoint_dir`` (the DBM's, then
            fine-tuning's).
        """
        if is_stream(X):
            raise TypeError("X: DBMClassifier trains on arrays, not on an iterable of "
                            "minibatches")
        return super().fit(X, y, callback=callback, resume=resume)

    def _plan_epochs(self, sizes: tuple[int, ...], n_samples: int | None) -> Plan:
        """Fine-tuning's epochs; the DBM plans its own."""
        return Plan([], self._finetune_epochs(n_samples))

    def _pretrain(self, data: Minibatches, sizes: tuple[int, ...], bar, resume: bool) -> None:
        if self.dbm is None:
            self.dbm_ = self._dbm(sizes, self._dtype, self._rng).fit(data.X, resume=resume)
        else:
            self.dbm_ = self.dbm.fit(data.X, None)
            got = tuple(self.dbm_.layout_.sizes)
            if got != (self.n_features_in_, *sizes):
                raise ValueError(f"dbm has layers {got}; the data and hidden_layer_sizes "
                                 f"need {(self.n_features_in_, *sizes)}")
        self.pretrain_history_ = [rbm.history_ for rbm in getattr(self.dbm_, "rbms_", [])]
        n_in = self._n_net_inputs(self.n_features_in_, sizes)
        self.net_ = self._unroll(n_in, sizes, self._n_outputs(), self._device(), self._dtype)

    def _init_hidden(self, layer: int, linear: nn.Linear) -> bool:
        """The DBM's layer: [W₁, W₂ᵀ] and b₁ for the first (two or more hidden layers),
        then W_l and b_l."""
        layout, core = self.dbm_.layout_, self.dbm_.model_
        weight = layout.weight(core.W, layer + 1)
        if layer == 0 and layout.n_layers >= 2:
            weight = torch.cat([weight, layout.weight(core.W, 2).T], dim=1)
        linear.weight.copy_(weight)
        linear.bias.copy_(layout.bias(core, layer + 1))
        return True

    @staticmethod
    def _n_net_inputs(n_in: int, sizes: tuple[int, ...]) -> int:
        """The net's inputs: v's ``n_in``, and q²'s for two or more hidden layers."""
        return n_in + (sizes[1] if len(sizes) >= 2 else 0)

    def _augmenter(self) -> nn.Module | None:
        """The map v ↦ [v, q²] (None for one hidden layer: the net takes v)."""
        return MeanFieldInput(self.dbm_) if self.dbm_.layout_.n_layers >= 2 else None

    def _augment(self, v: torch.Tensor) -> torch.Tensor:
        """[v, q²] for the rows of ``v``, ``CHUNK`` rows at a time."""
        augment = self._augmenter()
        if augment is None:
            return v
        return torch.cat([augment(part) for part in v.split(CHUNK)])

    def _finetune(self, data: Minibatches, bar, callback, resume: bool) -> None:
        """DBNClassifier's fine-tuning on the augmented rows, computed once."""
        super()._finetune(data.map(lambda x, _: self._augment(x)), bar, callback, resume)

    # ------------------------------------------------------------------ outputs
    def _input(self, X) -> torch.Tensor:
        """The net's inputs [v, q²] for the rows of ``X`` (checked)."""
        return self._augment(super()._input(X))

    def to_torch(self, device: Any = "cpu") -> nn.Sequential:
        """A copy of the model as a plain ``nn.Sequential`` (in eval mode) that takes v.

        For two or more hidden layers its first module is a :class:`MeanFieldInput`
        holding a copy of the DBM (v ↦ [v, q²] by mean-field), followed by the
        fine-tuned net; it maps inputs (as given to :meth:`predict`) to logits.
        ``device=None`` keeps the model's device.
        """
        net = super().to_torch(device=None)
        augment = self._augmenter()
        if augment is not None:
            net = nn.Sequential(copy.deepcopy(augment), *net).eval()
        return net if device is None else net.to(resolve_device(device))

    # -------------------------------------------------------------------- files
    def _save_state(self) -> tuple[dict[str, torch.Tensor], dict]:
        tensors, extra = super()._save_state()
        dbm_tensors, dbm_extra = self.dbm_._save_state()
        tensors.update({_DBM_PREFIX + name: t for name, t in dbm_tensors.items()})
        extra["dbm"] = dbm_extra
        return tensors, extra

    def _load_net(self, tensors: dict[str, torch.Tensor], sizes: tuple[int, ...], n_in: int,
                  device: torch.device, dtype: torch.dtype) -> None:
        dbm_tensors = {name.removeprefix(_DBM_PREFIX): t for name, t in tensors.items()
                       if name.startswith(_DBM_PREFIX)}
        model = self._dbm(sizes, dtype, self.random_state if isinstance(self.random_state, int)
                          else None)
        params = model.get_params()
        params["device"] = str(device)
        self.dbm_ = DBM._from_state(params, dbm_tensors, {"sizes": [n_in, *sizes]})
        super()._load_net(tensors, sizes, self._n_net_inputs(n_in, sizes), device, dtype)

    @classmethod
    def _from_state(cls, params: dict, tensors: dict[str, torch.Tensor], extra: dict):
        params["dbm"] = None  # the file holds the DBM's parameters themselves
        model = super()._from_state(params, tensors, extra)
        saved = extra.get("dbm") or {}
        model.dbm_.n_epochs_ = int(saved.get("n_epochs", 0))
        model.dbm_.history_ = dict(saved.get("history", {}))
        return model

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags


__all__ = ["DBMClassifier", "MeanFieldInput"]
