"""A deep belief net fine-tuned by backpropagation as a classifier.

Pre-training as in Hinton, Osindero & Teh (2006); fine-tuning as in Hinton &
Salakhutdinov (2006): the RBM stack is unrolled into a feed-forward net of
sigmoid layers h_l = σ(W_l h_{l-1} + c_l), a softmax output layer is added and the
whole net minimises the cross-entropy -Σ log p(y|x), optionally with dropout
(Srivastava et al. 2014).
"""

from __future__ import annotations

import copy
import math
import time
from functools import partial
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from .. import distributed
from .._sparse import chunks, dense
from .._validation import AUTO_ROWS, CHUNK, dtype_name, resolve_device, resolve_epochs, to_numpy
from ..checkpoint import Checkpointer
from ..data import Minibatches
from ..io import check_tensor, register
from ._base import BaseDBN, Plan
from ._stack import layer_params, pretrain_stack

#: Fine-tuning this long or longer anneals its rate ("auto").
_LONG_FINETUNE = 50


def warm_cosine(t: int, epochs: int) -> float:
    """The rate factor of epoch t (from 0) of T = ``epochs``:
    min(1, (t + 1) / w) · (1 + cos(π t / T)) / 2.

    A linear warm-up over the first w = max(1, T / 20) epochs, then the cosine: the
    first steps, whose gradients come through a random softmax layer, stay small
    and leave the pre-trained features in place.
    """
    warmup = max(1, round(epochs / 20))
    return min(1.0, (t + 1) / warmup) * (1.0 + math.cos(math.pi * t / epochs)) / 2.0


@register
class DBNClassifier(BaseDBN):
    """Deep belief net classifier: greedy RBM pre-training, then backprop fine-tuning.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(500, 500, 2000)
        Hidden units of each RBM in the stack, bottom first.
    pretrain_epochs : int or "auto", default="auto"
        CD epochs per layer (0 skips pre-training: a randomly initialised net).
        ``"auto"`` sizes them in updates as :class:`~deepbelief.BernoulliRBM`'s
        ``n_iter="auto"`` does, on minibatches of about 1/60 of the rows (10
        epochs of 100 rows on MNIST, 14 of 19 rows on 1.2k digits).
    rbm_params : dict or list of dict, optional
        Keyword arguments of :class:`~deepbelief.BernoulliRBM` for every layer (one
        dict) or for each layer (a list), e.g. ``{"learning_rate": 0.05, "k": 1}``.
    sample_hidden : bool, default=False
        Train layer l+1 on binary states drawn from p(h|v) of layer l rather than
        on the probabilities.
    visible_units : {"bernoulli", "gaussian"}, default="bernoulli"
        The first layer's visible units: binary (inputs in [0, 1]) or Gaussian
        (any real inputs, standardised inside the estimator as
        :class:`~deepbelief.GaussianBernoulliRBM` does; the first RBM is one,
        pre-trained on the standardised values, and the net's first layer takes
        its W / σ²).
    finetune_epochs : int or "auto", default="auto"
        Maximum epochs of backprop fine-tuning. ``"auto"``: at least 50 epochs and
        at least the updates :func:`~deepbelief._validation.auto_updates` gives the
        data (6,000 for 60k rows; early stopping may end it sooner).
    optimizer : {"adam", "sgd"}, default="adam"
        Adam, or SGD with Nesterov-free momentum ``momentum``.
    learning_rate : float or "auto", default="auto"
        The optimiser's step size. ``"auto"``: for Adam 1e-3 · min(10, √(60,000 / n))
        for the n rows of ``fit`` (1e-3 on MNIST, 7e-3 on 1.2k digits; a stream: 1e-3),
        for SGD 0.1. Small data needs the larger steps: a sigmoid net fine-tuned at
        1e-3 for 20 epochs of 800 digits stays near chance.
    learning_rate_schedule : {"auto", "constant", "cosine"}, default="auto"
        ``"cosine"`` sets the rate of epoch t (from 0) to
        lr·min(1, (t + 1) / w)·(1 + cos(π t / T))/2 with T = ``finetune_epochs``:
        a cosine after a linear warm-up over w = max(1, T / 20) epochs
        (:func:`warm_cosine`); early stopping keeps the best net either way.
        ``"auto"``: cosine over 50 epochs or more, else constant (annealed over
        a short budget, the rate falls before the net has left its plateau: 0.83
        against 0.92 in 20 epochs on the digits).
    momentum : float, default=0.9
        Momentum of ``optimizer="sgd"``.
    weight_decay : float, default=0.0
        L2 penalty on the weights (added to the gradient).
    dropout : float, default=0.3
        Probability of dropping each hidden unit during fine-tuning (Srivastava
        et al. 2014).
    input_dropout : float, default=0.1
        Probability of dropping each input pixel during fine-tuning.
    batch_size : int or "auto", default=100
        Minibatch of fine-tuning (pre-training uses ``rbm_params``); ``"auto"``:
        about n / 60 of the n rows, between 10 and 100.
    validation_fraction : float, default=0.1
        Share of the training rows held out for early stopping (0 disables it; all
        ``finetune_epochs`` then run). Arrays only: a stream of minibatches is
        trained on whole, without early stopping.
    n_iter_no_change : int, default=10
        Stop after this many epochs in which neither the validation accuracy rose
        nor the validation loss fell below its lowest; the net of the epoch with
        the highest validation accuracy (of equals, the lowest loss) is kept. Not
        the loss alone: with dropout the validation cross-entropy starts rising
        (growing confidence) long before the error stops falling.
    device : str or torch.device, default="cpu"
    dtype : {"float32", "float64"} or None, default=None
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
    checkpoint_every : int, default=1
    random_state : int, numpy or torch generator, or None
        Seeds everything: initialisation, Gibbs draws, shuffling, dropout, split.
    verbose : bool, default=False
        One progress bar over all pre-training and fine-tuning epochs.

    Attributes
    ----------
    classes_ : ndarray of the distinct labels.
    rbms_ : list of BernoulliRBM
        The pre-trained stack (before fine-tuning).
    net_ : torch.nn.Sequential
        The fine-tuned net, output logits (see :meth:`to_torch`).
    history_ : dict of lists
        Per fine-tuning epoch ``train_loss``, ``validation_loss`` and
        ``validation_accuracy`` (when held out) and ``seconds``.
    pretrain_history_ : list of dict
        Each layer's RBM ``history_``.
    times_ : dict
        Seconds spent in ``pretrain`` and ``finetune``.
    n_features_in_ : int

    Notes
    -----
    With binary visible units the training data must lie in [0, 1]; a fitted
    net takes any finite inputs (e.g. test rows that a scaler fitted on the
    training rows maps slightly outside [0, 1]) through the same formulas,
    unclipped, as :class:`~deepbelief.BernoulliRBM` does.
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseDBN._parameter_constraints,
        "optimizer": [StrOptions({"adam", "sgd"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "learning_rate_schedule": [StrOptions({"auto", "constant", "cosine"})],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "input_dropout": [Interval(Real, 0, 1, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    }
    _fitted_attribute = "net_"
    _DTYPE_TENSOR = "weight_0"
    _EPOCH_HISTORY = "train_loss"

    def __init__(self, hidden_layer_sizes=(500, 500, 2000), *, pretrain_epochs: int | str = "auto",
                 rbm_params=None, sample_hidden: bool = False,
                 visible_units: str = "bernoulli", finetune_epochs: int | str = "auto",
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
    def fit(self, X, y=None, *, classes=None, callback=None,
            resume: bool = False) -> DBNClassifier:
        """Pre-train the RBM stack on ``X``, then fine-tune the unrolled net on (X, y).

        The parameters are those of :meth:`BaseDBN.fit
        <deepbelief.dbn._base.BaseDBN.fit>`: ``X`` an array, a sparse matrix
        (binary visible units) or an iterable of ``(X_batch, y_batch)``; ``y``;
        ``classes`` for a stream; ``callback(self)`` after each fine-tuning epoch
        (True stops); ``resume`` from the checkpoints in ``checkpoint_dir``.
        A stream is trained on whole, with no early-stopping split (``validation_fraction`` is
        ignored); a sparse matrix is made dense one minibatch at a time as it goes through
        the net.

        Notes
        -----
        Under ``torchrun`` (an initialised process group) every rank takes its
        share of each global minibatch of an array, rank 0's order broadcast;
        gradients are averaged by ``DistributedDataParallel`` with the loss
        normalised by the global batch size, so the updates equal one process's.
        A stream is each rank's own (e.g. a ``DataLoader`` with a
        ``DistributedSampler``), with equal batch sizes on all ranks.
        """
        return super().fit(X, y, classes=classes, callback=callback, resume=resume)

    def _plan_epochs(self, sizes: tuple[int, ...], n_samples: int | None) -> Plan:
        """Each layer's RBM settings and the fine-tuning epochs, "auto" resolved."""
        layers = []
        if self.pretrain_epochs != 0:
            layers = layer_params(self.rbm_params, len(sizes), self.pretrain_epochs, n_samples)
        n_train = None if n_samples is None else n_samples - self._n_valid(n_samples)
        return Plan(layers, resolve_epochs(self.finetune_epochs, "finetune_epochs", n_train,
                                           self._batch(n_train), minimum=50,
                                           allow_zero=True))

    def _device(self) -> torch.device:
        return resolve_device(self.device)

    def _net_device_dtype(self) -> tuple[torch.device, torch.dtype]:
        """Where the net lives and its floating-point type."""
        weight = next(self.net_.parameters())
        return weight.device, weight.dtype

    def _pretrain(self, data, sizes: tuple[int, ...], bar, resume: bool) -> None:
        self.rbms_ = []
        if self._plan.layers:
            self.rbms_, _ = pretrain_stack(
                data, sizes, self._plan.layers, self._rng, sample_hidden=self.sample_hidden,
                device=self._device(), dtype=dtype_name(self._dtype), bar=bar,
                checkpoint_dir=self.checkpoint_dir, checkpoint_every=self.checkpoint_every,
                resume=resume, visible_units=self.visible_units)
        self.pretrain_history_ = [rbm.history_ for rbm in self.rbms_]
        self.net_ = self._unroll(self.n_features_in_, sizes, len(self.classes_),
                                 self._device(), self._dtype)

    def _unroll(self, n_in: int, sizes: tuple[int, ...], n_out: int,
                device: torch.device, dtype: torch.dtype) -> nn.Sequential:
        """Linear+Sigmoid per RBM (weight = W, bias = c), then a linear softmax layer.

        Without pre-training the hidden weights are Glorot-uniform; the output
        weights are Glorot-uniform always (tiny output weights starve the layers
        below of gradient while they grow); all biases start at zero. Everything is drawn from
        the model's generator, never the global one.
        """
        gen = self._rng_cpu()
        layers: list[nn.Module] = [nn.Dropout(self.input_dropout)] if self.input_dropout else []
        fan_in = n_in
        for i, size in enumerate(sizes):
            linear = _linear(fan_in, size)
            with torch.no_grad():
                if self.rbms_:  # W s(v): W / σ² for Gaussian visible units
                    rbm = self.rbms_[i]
                    linear.weight.copy_(rbm.model_.visible.scale(rbm.W_))
                    linear.bias.copy_(self.rbms_[i].c_)
                else:
                    nn.init.xavier_uniform_(linear.weight, generator=gen)
            layers += [linear, nn.Sigmoid()]
            if self.dropout:
                layers.append(nn.Dropout(self.dropout))
            fan_in = size
        out = _linear(fan_in, n_out)
        with torch.no_grad():
            nn.init.xavier_uniform_(out.weight, generator=gen)
        layers.append(out)
        return nn.Sequential(*layers).to(device, dtype)

    def _rng_cpu(self) -> torch.Generator:
        """Layer initialisation happens on the CPU: a CPU generator seeded from ours."""
        seed = int(torch.randint(2**62, (1,), generator=self._rng, device=self._rng.device))
        return torch.Generator().manual_seed(seed)

    def _n_valid(self, n_samples: int) -> int:
        """Rows held out for early stopping."""
        return int(round(self.validation_fraction * n_samples))

    def _split(self, data: Minibatches) -> tuple[Minibatches, Minibatches | None]:
        """An array's training rows and the rows held out for early stopping (None)."""
        if data.n_samples is None:
            return data, None
        n_valid = self._n_valid(data.n_samples)
        if n_valid == 0 or n_valid == data.n_samples:
            return data, None
        order = torch.randperm(data.n_samples, generator=self._rng, device=data.X.device)
        distributed.broadcast_(order)
        return data.take(order[n_valid:]), data.take(order[:n_valid])

    def _learning_rate(self, n_train: int | None) -> float:
        """``learning_rate``, "auto" resolved for ``n_train`` rows (see the class)."""
        if self.learning_rate != "auto":
            return self.learning_rate
        if self.optimizer == "sgd":
            return 0.1
        if n_train is None:
            return 1e-3
        return 1e-3 * min(10.0, math.sqrt(AUTO_ROWS / max(n_train, 1)))

    def _cosine(self) -> bool:
        """Whether the rate anneals: ``learning_rate_schedule``, "auto" resolved."""
        if self.learning_rate_schedule == "auto":
            return self._plan.finetune_epochs >= _LONG_FINETUNE
        return self.learning_rate_schedule == "cosine"

    def _make_optimizer(self, n_train: int | None) -> torch.optim.Optimizer:
        params, lr = self.net_.parameters(), self._learning_rate(n_train)
        if self.optimizer == "adam":
            return torch.optim.Adam(params, lr=lr, weight_decay=self.weight_decay)
        return torch.optim.SGD(params, lr=lr, momentum=self.momentum,
                               weight_decay=self.weight_decay)

    def _finetune(self, data: Minibatches, bar, callback, resume: bool) -> None:
        train, valid = self._split(data)
        self.history_ = {"train_loss": [], "seconds": []}
        if valid is not None:
            self.history_.update(validation_loss=[], validation_accuracy=[])
        inf = float("inf")
        self._early = {"accuracy": -1.0, "kept_loss": inf, "loss": inf, "waited": 0,
                       "stopped": False}
        self._best_state = None
        opt = self._make_optimizer(data.n_samples)
        schedule = None
        if self._cosine():
            schedule = torch.optim.lr_scheduler.LambdaLR(
                opt, partial(warm_cosine, epochs=self._plan.finetune_epochs))
        checkpoints = Checkpointer(self.checkpoint_dir, self.checkpoint_every).child("finetune")
        if resume:
            self._restore_finetune(checkpoints, opt, schedule, bar)
        model = self._parallel()
        bar.set_description("fine-tuning (backprop)")
        epochs = self._plan.finetune_epochs
        while not self._early["stopped"] and self._epochs_done() < epochs:
            self._finetune_epoch(model, train, valid, opt, schedule, bar, callback)
            epoch = self._epochs_done()
            last = self._early["stopped"] or epoch == epochs
            checkpoints.maybe_save(epoch, last, self._finetune_state(opt, schedule))
        if self._best_state is not None:
            self.net_.load_state_dict(self._best_state)
        self.net_.eval()
        self.n_epochs_ = self._epochs_done()

    def _epochs_done(self) -> int:
        return len(self.history_["train_loss"])

    def _finetune_epoch(self, model: nn.Module, train, valid, opt, schedule, bar,
                        callback) -> None:
        """One epoch, its history entries and the early-stopping bookkeeping."""
        start = time.perf_counter()
        loss = self._train_epoch(model, train, opt)
        if schedule is not None:
            schedule.step()
        self.history_["train_loss"].append(loss)
        self.history_["seconds"].append(time.perf_counter() - start)
        bar.update(1)
        stop = callback is not None and bool(callback(self))
        if valid is None:
            bar.set_postfix(loss=f"{loss:.4g}")
            self._early["stopped"] = stop
            return
        v_loss, v_acc = self._evaluate(valid.X, valid.y)
        self.history_["validation_loss"].append(v_loss)
        self.history_["validation_accuracy"].append(v_acc)
        bar.set_postfix(loss=f"{loss:.4g}", val_loss=f"{v_loss:.4g}", val_acc=f"{v_acc:.4f}")
        early = self._early
        improved = v_acc > early["accuracy"] or v_loss < early["loss"]
        early["waited"] = 0 if improved else early["waited"] + 1
        early["loss"] = min(early["loss"], v_loss)
        if (v_acc, -v_loss) > (early["accuracy"], -early["kept_loss"]):
            early["accuracy"], early["kept_loss"] = v_acc, v_loss
            self._best_state = copy.deepcopy(self.net_.state_dict())
        early["stopped"] = stop or early["waited"] >= self.n_iter_no_change

    def _parallel(self) -> nn.Module:
        """The net, wrapped in ``DistributedDataParallel`` inside a process group.

        DDP starts every rank from rank 0's parameters and averages the gradients.
        """
        if not distributed.is_distributed():
            return self.net_
        device = next(self.net_.parameters()).device
        ids = [device] if device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(self.net_, device_ids=ids)

    def _train_epoch(self, model: nn.Module, train: Minibatches, opt) -> float:
        """One pass of minibatch updates; returns the mean training loss over all ranks.

        Each batch's loss is its sum of per-example losses times world / ``total``:
        for arrays one over the global batch size times the number of ranks (DDP
        then averages to the global batch mean), for streams one over the local size.
        """
        model.train()
        device, dtype = self._net_device_dtype()
        total = torch.zeros((), device=device, dtype=dtype)
        count = torch.zeros((), device=device, dtype=dtype)
        world = distributed.world_size()
        # the order first, then dropout's seed
        batches = train.epoch(self._rng, self._batch(train.n_samples))
        with torch.random.fork_rng(devices=[] if device.type == "cpu" else [device]):
            torch.manual_seed(int(torch.randint(2**62, (1,), generator=self._rng,
                                                device=self._rng.device)))
            for x, target, rows in batches:
                x = dense(x)  # a sparse matrix's rows, dense one minibatch at a time
                loss = nn.functional.cross_entropy(model(x), target, reduction="sum")
                opt.zero_grad(set_to_none=True)
                (loss * (world / rows)).backward()
                opt.step()
                total += loss.detach()
                count += x.shape[0]
        distributed.all_reduce_sum([total, count])
        return float(total / count)

    # ------------------------------------------------------------- checkpoints
    def _finetune_state(self, opt, schedule) -> dict:
        return {"net": self.net_.state_dict(), "optimizer": opt.state_dict(),
                "schedule": None if schedule is None else schedule.state_dict(),
                "rng": self._rng.get_state(), "best": self._best_state,
                "history": self.history_, "early": self._early}

    def _restore_finetune(self, checkpoints: Checkpointer, opt, schedule, bar) -> None:
        state = checkpoints.load()
        if state is None:
            return
        try:
            self.net_.load_state_dict(state["net"])
        except RuntimeError as exc:
            raise ValueError(f"checkpoint in {checkpoints.directory} is for another net: "
                             f"{exc}") from None
        opt.load_state_dict(state["optimizer"])
        if schedule is not None:  # files of earlier releases hold a CosineAnnealingLR's state
            schedule.load_state_dict({"lr_lambdas": [None], **state["schedule"]})
        self._rng.set_state(state["rng"])
        self._best_state = state["best"]
        self.history_, self._early = state["history"], state["early"]
        bar.update(self._epochs_done())

    @torch.no_grad()
    def _evaluate(self, X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
        logits = self._logits(X)
        loss = nn.functional.cross_entropy(logits, y)
        return float(loss), float((logits.argmax(1) == y).float().mean())

    @torch.no_grad()
    def _logits(self, X: torch.Tensor) -> torch.Tensor:
        """The net's outputs, ``CHUNK`` rows at a time (a sparse chunk made dense)."""
        self.net_.eval()
        return torch.cat([self.net_(dense(chunk)) for chunk in chunks(X, CHUNK)])

    # ------------------------------------------------------------------ outputs
    def predict_proba(self, X) -> np.ndarray:
        """p(y = k | x) = softmax(logits)_k, columns in the order of ``classes_``."""
        return to_numpy(torch.softmax(self._logits(self._input(X)), dim=1))

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row."""
        index = to_numpy(self._logits(self._input(X)).argmax(1))
        return self.classes_[index]

    def transform(self, X) -> np.ndarray:
        """Activities of the top hidden layer, σ(W_L h_{L-1} + c_L), fine-tuned net."""
        X = self._input(X)
        hidden = self.net_[:-1].eval()
        with torch.no_grad():
            out = torch.cat([hidden(dense(chunk)) for chunk in chunks(X, CHUNK)])
        return to_numpy(out)

    def to_torch(self, device: Any = "cpu") -> nn.Sequential:
        """A copy of the fine-tuned net as a plain ``nn.Sequential`` (in eval mode).

        It maps inputs (as given to :meth:`predict`) to logits;
        ``torch.softmax(net(x), 1)`` gives the class probabilities, in the order of
        ``classes_``. ``device=None`` keeps the model's device. With Gaussian visible
        units the standardisation is folded into the first linear layer.
        """
        net = copy.deepcopy(self.net_).eval()
        first = next(m for m in net if isinstance(m, nn.Linear))
        with torch.no_grad():  # the input transform folded in: W z + c as a map of x
            self.input_transform_.fold(first.weight, first.bias)
        return net if device is None else net.to(resolve_device(device))

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices of the fine-tuned net, (n_out x n_in) each, bottom first."""
        return [to_numpy(m.weight) for m in self.net_ if isinstance(m, nn.Linear)]

    # -------------------------------------------------------------------- files
    def _net_tensors(self) -> dict[str, torch.Tensor]:
        linears = [m for m in self.net_ if isinstance(m, nn.Linear)]
        tensors = {}
        for i, m in enumerate(linears):
            tensors[f"weight_{i}"], tensors[f"bias_{i}"] = m.weight, m.bias
        return tensors

    def _load_net(self, tensors: dict[str, torch.Tensor], sizes: tuple[int, ...], n_in: int,
                  device: torch.device, dtype: torch.dtype) -> None:
        shapes = list(zip((*sizes, len(self.classes_)), (n_in, *sizes), strict=True))
        self.rbms_ = []
        self.net_ = self._unroll(n_in, sizes, len(self.classes_), device, dtype)
        linears = [m for m in self.net_ if isinstance(m, nn.Linear)]
        with torch.no_grad():
            for i, (m, shape) in enumerate(zip(linears, shapes, strict=True)):
                m.weight.copy_(check_tensor(tensors, f"weight_{i}", shape))
                m.bias.copy_(check_tensor(tensors, f"bias_{i}", shape[:1]))
        self.net_.eval()


def _linear(n_in: int, n_out: int) -> nn.Linear:
    """An ``nn.Linear`` with zero parameters, built without touching the global RNG."""
    linear = nn.Linear(n_in, n_out, device="meta").to_empty(device="cpu")
    with torch.no_grad():
        linear.weight.zero_()
        linear.bias.zero_()
    return linear
