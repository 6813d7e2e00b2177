"""Fine-tuning by backpropagation: a generatively pre-trained net as a classifier or regressor.

Hinton & Salakhutdinov (2006): the pre-trained model is unrolled into a
feed-forward net of sigmoid layers h_l = σ(W_l h_{l-1} + c_l), a linear output
layer is added and the whole net minimises a loss of its outputs, optionally
with dropout (Srivastava et al. 2014). :class:`BackpropNet` holds that
fine-tuning (optimiser, schedule, early stopping, checkpoints, files) for every
such net; :class:`BackpropClassifier` adds the softmax outputs and the
cross-entropy -Σ log p(y|x), :class:`BackpropRegressor` real outputs and the
squared error Σ ‖f(x) - z(y)‖² on standardised targets z(y). A child of either
adds its pre-training and how its hidden layers start (``_init_hidden``).
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
from sklearn.base import RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from .. import distributed
from .._sparse import chunks, dense
from .._validation import (
    AUTO_ROWS,
    AUTO_UPDATES,
    CHUNK,
    as_targets,
    resolve_device,
    resolve_epochs,
    to_numpy,
)
from ..checkpoint import Checkpointer
from ..data import Minibatches
from ..io import check_tensor
from ..transforms import Standardize
from ._base import BaseDeepNet, ClassLabels

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


class BackpropNet(BaseDeepNet):
    """What every net fine-tuned by backprop shares (module docstring); not for direct
    use. The hyperparameters are documented by each child."""

    _parameter_constraints: ClassVar[dict] = {
        **BaseDeepNet._parameter_constraints,
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
    #: The validation score early stopping keeps the best of (higher is better).
    _SCORE: ClassVar[str]
    #: Updates that ``finetune_epochs="auto"`` gives 60k rows (fewer rows: fewer).
    _FINETUNE_UPDATES: ClassVar[int] = AUTO_UPDATES

    # ------------------------------------------------------------ what a child adds
    def _init_hidden(self, layer: int, linear: nn.Linear) -> bool:
        """Set hidden layer ``layer``'s (from 0) weight and bias from the pre-trained
        model, in place; False leaves it to a Glorot-uniform draw (no pre-training)."""
        return False

    def _n_outputs(self) -> int:
        """Units of the output layer."""
        raise NotImplementedError

    def _loss_sum(self, outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The loss summed over the rows of a minibatch (``y`` as the data source holds it)."""
        raise NotImplementedError

    def _evaluate(self, X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
        """The mean loss and the score (``_SCORE``) of held-out rows."""
        raise NotImplementedError

    # ---------------------------------------------------------------- training
    def _finetune_epochs(self, n_samples: int | None) -> int:
        """``finetune_epochs``, "auto" resolved for the rows left after the split."""
        n_train = None if n_samples is None else n_samples - self._n_valid(n_samples)
        return resolve_epochs(self.finetune_epochs, "finetune_epochs", n_train,
                              self._batch(n_train), updates=self._FINETUNE_UPDATES,
                              minimum=50, allow_zero=True)

    def _device(self) -> torch.device:
        return resolve_device(self.device)

    def _net_device_dtype(self) -> tuple[torch.device, torch.dtype]:
        """Where the net lives and its floating-point type."""
        weight = next(self.net_.parameters())
        return weight.device, weight.dtype

    def _unroll(self, n_in: int, sizes: tuple[int, ...], n_out: int,
                device: torch.device, dtype: torch.dtype, pretrained: bool = True,
                ) -> nn.Sequential:
        """Linear+Sigmoid per hidden layer, then a linear softmax layer.

        The hidden layers start from the pre-trained model (:meth:`_init_hidden`;
        ``pretrained=False``: never); otherwise their weights are Glorot-uniform; the output
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
                if not (pretrained and self._init_hidden(i, linear)):
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
            self.history_.update({"validation_loss": [], f"validation_{self._SCORE}": []})
        inf = float("inf")
        self._early = {"score": -inf, "kept_loss": inf, "loss": inf, "waited": 0,
                       "stopped": False}
        self._best_state = None
        opt = self._make_optimizer(data.n_samples)
        schedule = None
        if self._cosine():
            schedule = torch.optim.lr_scheduler.LambdaLR(
                opt, partial(warm_cosine, epochs=self._plan.finetune_epochs))
        checkpoints = Checkpointer(self.checkpoint_dir, self.checkpoint_every).child("finetune")
        checkpoints.start(resume)
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
        if valid is None:
            bar.set_postfix(loss=f"{loss:.4g}")
            self._early["stopped"] = callback is not None and bool(callback(self))
            return
        v_loss, v_score = self._evaluate(valid.X, valid.y)
        self.history_["validation_loss"].append(v_loss)
        self.history_[f"validation_{self._SCORE}"].append(v_score)
        bar.set_postfix({"loss": f"{loss:.4g}", "val_loss": f"{v_loss:.4g}",
                         f"val_{self._SCORE}": f"{v_score:.4f}"})
        early = self._early
        improved = v_score > early["score"] or v_loss < early["loss"]
        early["waited"] = 0 if improved else early["waited"] + 1
        early["loss"] = min(early["loss"], v_loss)
        if (v_score, -v_loss) > (early["score"], -early["kept_loss"]):
            early["score"], early["kept_loss"] = v_score, v_loss
            self._best_state = copy.deepcopy(self.net_.state_dict())
        stop = callback is not None and bool(callback(self))  # sees this epoch's validation
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
                loss = self._loss_sum(model(x), target)
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
        if "accuracy" in self._early:  # written by earlier releases
            self._early["score"] = self._early.pop("accuracy")
        bar.update(self._epochs_done())

    @torch.no_grad()
    def _outputs(self, X: torch.Tensor) -> torch.Tensor:
        """The net's outputs, ``CHUNK`` rows at a time (a sparse chunk made dense)."""
        self.net_.eval()
        return torch.cat([self.net_(dense(chunk)) for chunk in chunks(X, CHUNK)])

    # ------------------------------------------------------------------ outputs
    def transform(self, X) -> np.ndarray:
        """Activities of the top hidden layer, σ(W_L h_{L-1} + c_L), fine-tuned net."""
        X = self._input(X)
        hidden = self.net_[:-1].eval()
        with torch.no_grad():
            out = torch.cat([hidden(dense(chunk)) for chunk in chunks(X, CHUNK)])
        return to_numpy(out)

    def to_torch(self, device: Any = "cpu") -> nn.Sequential:
        """A copy of the fine-tuned net as a plain ``nn.Sequential`` (in eval mode).

        It maps inputs (as given to :meth:`predict`) to the outputs: a classifier's
        logits (``torch.softmax(net(x), 1)`` gives the class probabilities, in the
        order of ``classes_``), a regressor's targets as :meth:`predict` gives them.
        ``device=None`` keeps the model's device. With Gaussian visible units the
        standardisation is folded into the first linear layer.
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
        shapes = list(zip((*sizes, self._n_outputs()), (n_in, *sizes), strict=True))
        self.net_ = self._unroll(n_in, sizes, self._n_outputs(), device, dtype,
                                 pretrained=False)
        linears = [m for m in self.net_ if isinstance(m, nn.Linear)]
        with torch.no_grad():
            for i, (m, shape) in enumerate(zip(linears, shapes, strict=True)):
                m.weight.copy_(check_tensor(tensors, f"weight_{i}", shape))
                m.bias.copy_(check_tensor(tensors, f"bias_{i}", shape[:1]))
        self.net_.eval()


class BackpropClassifier(ClassLabels, BackpropNet):
    """A net fine-tuned by backprop as a classifier: softmax outputs, cross-entropy loss."""

    _SCORE = "accuracy"

    def _n_outputs(self) -> int:
        return len(self.classes_)

    def _loss_sum(self, outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """-Σ_rows log softmax(outputs)_y (``y`` the class indices)."""
        return nn.functional.cross_entropy(outputs, y, reduction="sum")

    def _evaluate(self, X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
        """The mean cross-entropy and the accuracy."""
        logits = self._outputs(X)
        loss = nn.functional.cross_entropy(logits, y)
        return float(loss), float((logits.argmax(1) == y).float().mean())

    def predict_proba(self, X) -> np.ndarray:
        """p(y = k | x) = softmax(logits)_k, columns in the order of ``classes_``."""
        return to_numpy(torch.softmax(self._outputs(self._input(X)), dim=1))

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row."""
        index = to_numpy(self._outputs(self._input(X)).argmax(1))
        return self.classes_[index]


class BackpropRegressor(RegressorMixin, BackpropNet):
    """A net fine-tuned by backprop as a regressor: linear outputs, squared error.

    The net's outputs model the standardised targets z = (y - shift) / scale
    (``target_transform_``, fitted on the training targets), so that one learning
    rate suits targets of any scale; :meth:`predict` maps them back.
    """

    _SCORE = "r2"
    _FINETUNE_UPDATES = 10 * AUTO_UPDATES

    def _target_check(self):
        return as_targets

    def _fit_labels(self, data: Minibatches) -> None:
        """The targets' standardisation, fitted on an array's targets (a stream's first batch)."""
        y = data.first_y
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        self._target_1d = y.ndim == 1
        self.target_transform_ = Standardize().fit(y.reshape(y.shape[0], -1))

    def _n_outputs(self) -> int:
        return self.n_outputs_

    def _standardised(self, y: torch.Tensor) -> torch.Tensor:
        return self.target_transform_.forward(y.reshape(y.shape[0], -1))

    def _loss_sum(self, outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Σ_rows ‖f(x) - z(y)‖²."""
        return nn.functional.mse_loss(outputs, self._standardised(y), reduction="sum")

    def _evaluate(self, X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
        """The mean squared error per output and R² = 1 - SSE / SST, averaged over the
        outputs (both in standardised units; R² is the same in the targets')."""
        z = self._standardised(y)
        sse = (self._outputs(X) - z).square().sum(0)
        sst = (z - z.mean(0)).square().sum(0)
        r2 = torch.where(sst > 0, 1 - sse / sst.clamp(min=torch.finfo(z.dtype).tiny),
                         torch.zeros_like(sse))
        return float(sse.sum() / z.numel()), float(r2.mean())

    def predict(self, X) -> np.ndarray:
        """f(x) in the targets' units: shape (n_samples,) for a 1-D training ``y``,
        else (n_samples, n_outputs)."""
        z = self._outputs(self._input(X))
        out = to_numpy(self.target_transform_.inverse(z))
        return out.ravel() if self._target_1d else out

    def to_torch(self, device: Any = "cpu") -> nn.Sequential:
        """As :meth:`BackpropNet.to_torch`, with the targets' standardisation undone in
        the output layer: the net gives :meth:`predict`'s values (one column for a 1-D
        ``y``)."""
        net = super().to_torch(device=None)
        last = [m for m in net if isinstance(m, nn.Linear)][-1]
        with torch.no_grad():
            self.target_transform_.fold_inverse(last.weight, last.bias)
        return net if device is None else net.to(resolve_device(device))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _labels_state(self) -> tuple[dict[str, torch.Tensor], dict]:
        tensors = {f"target_{k}": v for k, v in self.target_transform_.state_dict().items()}
        return tensors, {"n_outputs": self.n_outputs_, "target_1d": self._target_1d}

    def _load_labels(self, tensors: dict[str, torch.Tensor], extra: dict,
                     device: torch.device, dtype: torch.dtype) -> None:
        n_out = int(extra.get("n_outputs", 0))
        if n_out < 1:
            raise ValueError("model file has an invalid 'n_outputs'")
        state = {k: check_tensor(tensors, f"target_{k}", (n_out,)).to(device, dtype)
                 for k in ("shift", "scale")}
        self.target_transform_ = Standardize()
        try:
            self.target_transform_.load_state_dict(state)
        except ValueError:
            raise ValueError("model file has a non-positive 'target_scale'") from None
        self.n_outputs_, self._target_1d = n_out, bool(extra.get("target_1d", n_out == 1))


def _linear(n_in: int, n_out: int) -> nn.Linear:
    """An ``nn.Linear`` with zero parameters, built without touching the global RNG."""
    linear = nn.Linear(n_in, n_out, device="meta").to_empty(device="cpu")
    with torch.no_grad():
        linear.weight.zero_()
        linear.bias.zero_()
    return linear
