"""The generative deep belief net of Hinton, Osindero & Teh (2006).

Directed sigmoid layers below a top-level RBM that models the joint of the
penultimate layer and a softmax label. Pre-trained greedily, fine-tuned by the
up-down algorithm (see :mod:`._updown` for the formulas), classifying by the
free energy of the top RBM with each label clamped, and drawing digits of a
chosen class.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch.nn.functional import one_hot

from .._sparse import chunks, dense
from .._sparse import rows as sparse_rows
from .._validation import (
    CHUNK,
    check_positive,
    dtype_name,
    make_generator,
    resolve_device,
    resolve_epochs,
    to_numpy,
)
from ..checkpoint import Checkpointer
from ..data import Minibatches, is_stream
from ..io import check_tensor, register
from ..joint import free_energies, label_joint_units, label_vectors
from ..model import RBM
from ..rbm import BernoulliRBM
from ..sampling import GibbsSampler, bernoulli
from ..units import BINARY, Gaussian, Units
from ._base import BaseDBN, ClassLabels, Plan
from ._stack import layer_params, pretrain_stack, progress
from ._updown import Directed, top_trainer, up_down_step

#: "auto" pre-trains every layer for the updates of the paper's 30 epochs of MNIST
#: (fewer for less data, :func:`~deepbelief._validation.auto_updates`), and at
#: least 30 epochs.
_AUTO_PRETRAIN_EPOCHS = 30
_AUTO_PRETRAIN_UPDATES = 18000
#: How fast the budget of a layer below the top shrinks with the data: as the
#: fourth root of the rows (the top RBM's, as the square root). On the 1.2k
#: training digits (one thread), the feature layers' 40 epochs of a square-root
#: rule gave 0.942 / 0.940 / 0.930 test accuracy for seeds 0-2, their 100 epochs
#: 0.953 / 0.953 / 0.950, for a few percent more time (they are cheap beside the
#: CD-5 top RBM); 200 epochs gave 0.947 (seed 0), and the top's 100 epochs 0.952
#: for about five times the time.
_AUTO_FEATURE_POWER = 0.25
#: "auto" up-down runs at least 10 epochs and this many updates.
_AUTO_UPDOWN_UPDATES = 2000

#: The top RBM's pre-training settings unless ``rbm_params`` says otherwise; the
#: rest are :class:`~deepbelief.BernoulliRBM`'s defaults.
TOP_RBM = {"k": 5, "learning_rate": 0.05, "momentum": 0.5, "weight_decay": 2e-4}


@register
class DBN(ClassLabels, BaseDBN):
    """Generative deep belief net with a label-joint top-level RBM, up-down fine-tuning.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(500, 500, 2000)
        Units per layer, bottom first; the last is the top RBM's hidden layer, whose
        visible layer is [penultimate layer, one-hot label].
    pretrain_epochs : int or "auto", default="auto"
        CD epochs per layer, the top RBM included. ``"auto"``: at least the
        paper's 30 epochs and the updates of 30 epochs of MNIST, on minibatches of
        about n / 60 of the n rows (:func:`~deepbelief.dbn._stack.layer_params`):
        18,000 · min(1, (n / 60,000)^¼) for the layers below the top, 18,000 ·
        min(1, √(n / 60,000)) for the top RBM: 30 epochs of 100 images on MNIST;
        on 1.2k digits 106 epochs of 19 below the top and 40 at the top; 30 for a
        stream.
    rbm_params : dict or list of dict, optional
        Pre-training settings for every layer or for each layer (a list with one
        dict per entry of ``hidden_layer_sizes``): any
        :class:`~deepbelief.BernoulliRBM` hyperparameter; the top RBM reads
        ``k``, ``learning_rate``, ``momentum``, ``initial_momentum``,
        ``momentum_epochs``, ``weight_decay``, ``batch_size`` and ``n_iter``, and
        starts from :data:`TOP_RBM` (CD-5: the label must be free to change in the
        negative phase for the free energies to rank the labels).
    sample_hidden : bool, default=False
        Pre-train each layer on binary states rather than probabilities.
    visible_units : {"bernoulli", "gaussian"}, default="bernoulli"
        The image layer's units: binary (inputs in [0, 1]) or Gaussian (any real
        inputs, standardised inside as :class:`~deepbelief.GaussianBernoulliRBM`
        does; the bottom RBM is one, its variances kept fixed in up-down, and
        generated images come back in the inputs' units).
    finetune_epochs : int or "auto", default="auto"
        Epochs of up-down fine-tuning (0: pre-training only). ``"auto"``: at least
        10 epochs and 2,000 · min(1, √(n / 60,000)) minibatch updates (10 epochs
        of MNIST, 24 of 1.2k digits), 10 for a stream.
    gibbs_steps : int or tuple of int, default=3
        Top-level Gibbs steps per up-down update; a tuple splits the epochs into
        equal stages, e.g. the paper's (3, 6, 10).
    learning_rate : float, default=0.01
        Up-down step size (plain SGD on batch means).
    top_params : dict, optional
        The top RBM's up-down settings, any of ``learning_rate`` (default: the one
        above), ``momentum`` and ``weight_decay`` (default 0). Larger steps for the
        top RBM than for the directed layers, e.g. its pre-training settings
        ``{"learning_rate": 0.05, "momentum": 0.5, "weight_decay": 2e-4}``, lower
        the MNIST error faster (``bench/dbn_paper.py``) but spoil the samples of a
        net trained on a small data set such as the 8x8 digits.
    batch_size : int or "auto", default=100
        Up-down minibatch; ``"auto"``: about n / 60 of the n rows, between 10 and 100.
    checkpoint_dir : str, optional
        Where to write checkpoints (atomically), every ``checkpoint_every`` epochs
        and at the end of each stage: directed layer l's RBM in ``layer-<l>``, the
        top RBM in ``top``, up-down fine-tuning in ``updown`` (weights, momentum,
        random state, history). ``fit(..., resume=True)`` continues from them.
    checkpoint_every : int, default=1
    device : str or torch.device, default="cpu"
    dtype : {"float32", "float64"} or None, default=None
        Floating-point type of the model (every RBM, the directed layers, the
        top RBM) and of its outputs and samples. None follows the training data
        as scikit-learn does: float32 data gives a float32 model, float64 (or
        integer) data a float64 one; later inputs are cast to the model's type.
    random_state, verbose
        As in :class:`~deepbelief.BernoulliRBM`; ``verbose`` shows one progress bar.

    Attributes
    ----------
    classes_ : ndarray of the distinct labels (the top RBM's softmax units).
    layers_ : list of Directed
        Recognition and generative weights of the directed layers (tensors).
    top_ : deepbelief.model.RBM
        The top-level RBM core, its visible layer [penultimate units, softmax labels].
    pretrain_history_ : list of dict
        RBM histories of the directed layers.
    history_ : dict
        Per up-down epoch ``reconstruction_error`` (data vs. its up-down
        reconstruction) and ``seconds``.
    times_ : dict
        Seconds spent in ``pretrain`` and ``finetune``.

    Notes
    -----
    Inputs as in :class:`~deepbelief.DBNClassifier` (see its Notes): training
    data in [0, 1] for binary visible units, any finite values once fitted.
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseDBN._parameter_constraints,
        "pretrain_epochs": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "gibbs_steps": [Interval(Integral, 1, None, closed="left"), Sequence],
        "top_params": [dict, None],
    }
    _min_layers = 2
    _fitted_attribute = "top_"
    _TUPLE_PARAMS = ("hidden_layer_sizes", "gibbs_steps")
    _DTYPE_TENSOR = "top_W"

    def __init__(self, hidden_layer_sizes=(500, 500, 2000), *,
                 pretrain_epochs: int | str = "auto", rbm_params=None,
                 sample_hidden: bool = False, visible_units: str = "bernoulli",
                 finetune_epochs: int | str = "auto", gibbs_steps=3,
                 learning_rate: float = 0.01, top_params=None,
                 batch_size: int | str = 100, device: Any = "cpu", dtype: str | None = None,
                 checkpoint_dir: str | None = None, checkpoint_every: int = 1,
                 random_state: Any = None, verbose: bool = False) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.pretrain_epochs = pretrain_epochs
        self.rbm_params = rbm_params
        self.sample_hidden = sample_hidden
        self.visible_units = visible_units
        self.finetune_epochs = finetune_epochs
        self.gibbs_steps = gibbs_steps
        self.learning_rate = learning_rate
        self.top_params = top_params
        self.batch_size = batch_size
        self.device = device
        self.dtype = dtype
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self) -> tuple[int, ...]:
        sizes = super()._check_params()
        self._gibbs_steps()
        self._top_settings()
        return sizes

    def _gibbs_steps(self) -> tuple[int, ...]:
        """``gibbs_steps`` as a tuple of positive ints, one per stage of up-down."""
        steps = self.gibbs_steps
        steps = tuple(steps) if isinstance(steps, (list, tuple)) else (steps,)
        for k in steps:
            check_positive(k, "gibbs_steps", integer=True)
        return steps

    # ---------------------------------------------------------------- training
    def fit(self, X, y=None, *, classes=None, callback=None, resume: bool = False) -> DBN:
        """Greedy pre-training, then ``finetune_epochs`` of up-down fine-tuning.

        The parameters are those of :meth:`BaseDBN.fit
        <deepbelief.dbn._base.BaseDBN.fit>`: ``X`` an array, a sparse matrix
        (binary visible units) or an iterable of ``(X_batch, y_batch)``; ``y``;
        ``classes`` for a stream; ``callback(self)`` after each fine-tuning epoch
        (True stops); ``resume`` from the checkpoints in ``checkpoint_dir``.

        Notes
        -----
        Under ``torchrun`` every RBM of the stack, the top one included, trains
        data-parallel (see :class:`~deepbelief.BernoulliRBM`); up-down fine-tuning
        runs on each rank's own data, and rank 0's model is the one saved.
        """
        return super().fit(X, y, classes=classes, callback=callback, resume=resume)

    def fine_tune(self, X, y=None, *, callback=None, resume: bool = False,
                  stage: str = "updown") -> DBN:
        """``finetune_epochs`` more epochs of up-down on a fitted model.

        E.g. after ``fit`` with ``finetune_epochs=0`` (pre-training alone), or to go
        on with new data, as the paper did on all 60,000 images after choosing
        its settings on 44,000. ``X``, ``y``, ``callback`` as in :meth:`fit`;
        ``history_`` grows. With ``checkpoint_dir`` the epochs are checkpointed
        under ``<checkpoint_dir>/<stage>``, and ``resume`` continues from there.
        """
        check_is_fitted(self, "top_")
        self._check_params()
        Checkpointer(self.checkpoint_dir).start(resume)
        passes = self._updown_epochs(None) if is_stream(X) else 1
        data = self._source(X, y, fitted=True, classes=self.classes_, passes=passes)
        epochs = self._updown_epochs(data.n_samples)
        with progress(epochs, self.verbose) as bar:
            start = time.perf_counter()
            self._up_down(data, epochs, bar, callback, stage, fresh=False, resume=resume)
            self.times_["finetune"] = self.times_.get("finetune", 0.0) + (
                time.perf_counter() - start)
        return self

    def _plan_epochs(self, sizes: tuple[int, ...], n_samples: int | None) -> Plan:
        """Each layer's pre-training settings (the top RBM's last) and the up-down epochs."""
        powers = [_AUTO_FEATURE_POWER] * (len(sizes) - 1) + [0.5]
        params = layer_params(self.rbm_params, len(sizes), self.pretrain_epochs, n_samples,
                              minimum=_AUTO_PRETRAIN_EPOCHS, updates=_AUTO_PRETRAIN_UPDATES,
                              powers=powers)
        params[-1] = {**TOP_RBM, **params[-1]}
        return Plan(params, self._updown_epochs(n_samples))

    def _updown_epochs(self, n_samples: int | None) -> int:
        """``finetune_epochs``, "auto" resolved for ``n_samples`` rows (None: a stream)."""
        return resolve_epochs(self.finetune_epochs, "finetune_epochs", n_samples,
                              self._batch(n_samples), updates=_AUTO_UPDOWN_UPDATES,
                              allow_zero=True)

    def _top_settings(self) -> tuple[float, float, float]:
        """The top RBM's up-down learning rate, momentum and weight decay."""
        given = dict(self.top_params or {})
        unknown = set(given) - {"learning_rate", "momentum", "weight_decay"}
        if unknown:
            raise ValueError(f"top_params may only set learning_rate, momentum and "
                             f"weight_decay, got {sorted(unknown)}")
        settings = {"learning_rate": self.learning_rate, "momentum": 0.0, "weight_decay": 0.0,
                    **given}
        # BernoulliRBM's checks of the same three hyperparameters
        BernoulliRBM(**settings)._check_params()
        return settings["learning_rate"], settings["momentum"], settings["weight_decay"]

    def _one_hot(self, index: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        return one_hot(index, len(self.classes_)).to(dtype)

    def _checkpoints(self) -> Checkpointer:
        return Checkpointer(self.checkpoint_dir, self.checkpoint_every)

    def _pretrain(self, data: Minibatches, sizes: tuple[int, ...], bar, resume: bool) -> None:
        """The directed layers' RBMs greedily, then the top RBM on their output and the labels."""
        params = self._plan.layers
        rbms, pen = pretrain_stack(data, sizes[:-1], params[:-1], self._rng,
                                   sample_hidden=self.sample_hidden,
                                   device=resolve_device(self.device),
                                   dtype=dtype_name(self._dtype), bar=bar,
                                   checkpoint_dir=self.checkpoint_dir,
                                   checkpoint_every=self.checkpoint_every, resume=resume,
                                   visible_units=self.visible_units)
        self.layers_ = [Directed(r.W_.clone(), r.c_.clone(), r.W_.clone(), r.b_.clone(),
                                 _fixed(r.model_.visible)) for r in rbms]
        self.pretrain_history_ = [r.history_ for r in rbms]
        self._pretrain_top(pen, sizes[-1], params[-1], bar, resume)

    def _pretrain_top(self, pen: Minibatches, n_top: int, params: dict, bar,
                      resume: bool) -> None:
        """CD-k on [p, y], the label group a softmax; settings from :data:`TOP_RBM`.

        The top RBM is a :class:`~deepbelief.BernoulliRBM` whose visible layout ends
        in the label group, trained on the penultimate source beside its labels.
        """
        joint = pen.map(lambda x, y: torch.cat([x, self._one_hot(y, x.dtype)], 1))
        bar.set_description(f"pre-training top RBM ({pen.n_features}+{len(self.classes_)}"
                            f"-{n_top})")
        ckpt = self._checkpoints().child("top").directory
        top = _LabelJointRBM(n_top, n_classes=len(self.classes_),
                             device=resolve_device(self.device), dtype=dtype_name(self._dtype),
                             random_state=self._rng, checkpoint_dir=ckpt,
                             checkpoint_every=self.checkpoint_every, **params)
        top.fit(joint, callback=lambda _: bar.update(1), resume=resume and ckpt is not None)
        self.top_ = top.model_

    def _finetune(self, data: Minibatches, bar, callback, resume: bool) -> None:
        self._up_down(data, self._plan.finetune_epochs, bar, callback, "updown", fresh=True,
                      resume=resume)

    def _up_down(self, data: Minibatches, n_epochs: int, bar, callback, stage: str, *,
                 fresh: bool, resume: bool) -> None:
        """``n_epochs`` of up-down, checkpointed as ``stage``; ``history_`` grows unless
        ``fresh``."""
        steps = self._gibbs_steps()
        checkpoints = self._checkpoints().child(stage)
        checkpoints.start(resume)
        trainer, top = top_trainer(self.top_, steps[0]), self._top_settings()
        state = (checkpoints.load() or {}) if resume else {}
        if state:
            self._restore(state, trainer)
            bar.update(int(state["epoch"]))
        history = None if fresh else getattr(self, "history_", None)
        self.history_ = state.get("history",
                                  history or {"reconstruction_error": [], "seconds": []})
        bar.set_description("fine-tuning (up-down)")
        first = data.first
        picked = torch.arange(0, first.shape[0], max(1, first.shape[0] // 1000),
                              device=first.device)[:1000]
        monitor = dense(sparse_rows(first, picked))
        end = 0 if state.get("stopped") else n_epochs
        for epoch in range(int(state.get("epoch", 0)), end):
            start = time.perf_counter()
            stage_of = min(len(steps) - 1, epoch * len(steps) // n_epochs)
            trainer.sampler.k = steps[stage_of]
            # Each rank trains on its own data (rank 0's model is the one saved).
            for x, y, _ in data.epoch(self._rng, self._batch(data.n_samples), shard=False):
                x = dense(x)  # a sparse matrix's rows, dense one minibatch at a time
                up_down_step(self.layers_, trainer, x, self._one_hot(y, x.dtype),
                             self.learning_rate, top, self._rng)
            self.history_["reconstruction_error"].append(self._reconstruction_error(monitor))
            self.history_["seconds"].append(time.perf_counter() - start)
            bar.update(1)
            bar.set_postfix(k=trainer.sampler.k,
                            recon=f"{self.history_['reconstruction_error'][-1]:.4g}")
            stop = callback is not None and bool(callback(self))
            last = stop or epoch + 1 == n_epochs
            checkpoints.maybe_save(epoch + 1, last, {
                "layers": [layer.state_dict() for layer in self.layers_],
                "top": self.top_.state_dict(), "trainer": trainer.state_dict(),
                "rng": self._rng.get_state(), "epoch": epoch + 1, "history": self.history_,
                "stopped": stop})
            if stop:
                break
        self.n_epochs_ = len(self.history_["seconds"])

    def _restore(self, state: dict, trainer) -> None:
        """Load an up-down checkpoint's weights, momentum and random state."""
        try:
            self.top_.load_state_dict(state["top"])
            for layer, saved in zip(self.layers_, state["layers"], strict=True):
                layer.load_state_dict(saved)
        except (ValueError, KeyError) as exc:
            raise ValueError(f"checkpoint in {self.checkpoint_dir} does not fit this model: "
                             f"{exc}") from None
        trainer.load_state_dict(state["trainer"])
        self._rng.set_state(state["rng"])

    @torch.no_grad()
    def _reconstruction_error(self, X: torch.Tensor) -> float:
        """Mean squared error Σ_j (x_j - x̂_j)² of a deterministic up- then down-pass."""
        return float(((X - self._down(self._up(X))) ** 2).sum(1).mean())

    # ------------------------------------------------------------------ outputs
    @torch.no_grad()
    def transform(self, X) -> np.ndarray:
        """Penultimate-layer probabilities of a deterministic recognition up-pass."""
        return to_numpy(self._up_chunks(self._input(X)))

    def _up_chunks(self, X: torch.Tensor) -> torch.Tensor:
        """:meth:`_up` of ``CHUNK`` rows at a time (a sparse chunk made dense)."""
        return torch.cat([self._up(dense(chunk)) for chunk in chunks(X, CHUNK)])

    def _up(self, X: torch.Tensor) -> torch.Tensor:
        h = X
        for layer in self.layers_:
            h = layer.up(h)
        return h

    @torch.no_grad()
    def free_energies(self, X) -> np.ndarray:
        """F(p(x), y = k) of the top RBM for every row and label, shape (n, n_classes).

        p(x) is the deterministic up-pass through the recognition weights. Rows go
        in quarter chunks: each holds a (rows, n_classes, n_top) hidden input.
        """
        pen = self._up_chunks(self._input(X))
        return to_numpy(torch.cat([free_energies(self.top_, c) for c in pen.split(CHUNK // 4)]))

    def predict_proba(self, X) -> np.ndarray:
        """p(y = k | x) = softmax(-F(p(x), k)), columns in the order of ``classes_``."""
        return to_numpy(torch.softmax(-torch.from_numpy(self.free_energies(X)), 1))

    def predict(self, X) -> np.ndarray:
        """The paper's rule: the label with the lowest free energy."""
        index = self.free_energies(X).argmin(1)
        return self.classes_[index]

    @torch.no_grad()
    def sample(self, n_samples: int = 10, label=None, steps: int = 1000, *,
               random_state=None, return_labels: bool = False, mean_field: bool = True):
        """Draw images: a top-level Gibbs chain, then a top-down generative pass.

        Parameters
        ----------
        n_samples : int
        label : a class label, a sequence of ``n_samples`` labels, or None
            Clamped during the chain; None runs it freely, the label drawn as a
            softmax unit at every step.
        steps : int
            Gibbs steps of the top-level chain (started from the penultimate base
            rates σ(b_p) and, when free, a uniform random label).
        random_state : optional seed; default: the model's generator.
        return_labels : also return each image's label (the chain's last one).
        mean_field : run the top-down pass on probabilities, starting from p(p|t) of
            the chain's last top state; otherwise each hidden layer is sampled on
            the way down, as in the paper (noisier images).

        Returns
        -------
        images : ndarray (n_samples, n_features), the bottom layer's probabilities
            (means, for Gaussian units).
        labels : ndarray (n_samples,), only when ``return_labels``.
        """
        check_is_fitted(self, "top_")
        check_positive(n_samples, "n_samples", integer=True)
        check_positive(steps, "steps", integer=True, allow_zero=True)
        gen = self._generator(random_state)
        v = torch.cat([self._penultimate_base_rates(n_samples, gen),
                       self._label_vectors(label, n_samples, gen)], 1)
        v = self._top_sampler(clamp_label=label is not None).sample(v, steps, gen)
        n_pen = self.top_.W.shape[1] - len(self.classes_)
        if mean_field:
            h = self._top_down(v, gen)
        else:
            h = v[:, :n_pen]
        for i, layer in enumerate(reversed(self.layers_)):
            h = layer.down(h)
            if not mean_field and i < len(self.layers_) - 1:
                h = bernoulli(h, gen)
        images = to_numpy(self._to_input(h))
        if return_labels:
            return images, self.classes_[to_numpy(v[:, n_pen:].argmax(1))]
        return images

    @torch.no_grad()
    def sample_chain(self, n_images: int = 10, steps: int = 1000, *, labels=None, init=None,
                     random_state=None) -> np.ndarray:
        """Images along one top-level Gibbs chain per label, ``steps`` steps apart.

        The chain of label k has its label clamped. It starts from the penultimate
        base rates σ(b_p), its first image the top-down pass (mean-field, as
        :meth:`sample`) after ``steps`` Gibbs steps; or, given ``init`` (one image,
        or one per label), from a sampled up-pass of that image, its first image
        the top-down pass of that start. Each next image comes ``steps`` steps on.
        The paper's figure 8 is ``sample_chain(10, 1000)``; its figure 9 (what the
        net has in mind for each label, from a random image) is
        ``sample_chain(20, 20, init=noise)``.

        Returns
        -------
        ndarray (n_labels, n_images, n_features), one row of images per label of
        ``labels`` (default: every class, in the order of ``classes_``).
        """
        check_is_fitted(self, "top_")
        check_positive(n_images, "n_images", integer=True)
        check_positive(steps, "steps", integer=True)
        gen = self._generator(random_state)
        labels = self.classes_ if labels is None else np.asarray(labels).reshape(-1)
        lab = self._label_vectors(labels, len(labels), gen)
        if init is None:
            pen = self._penultimate_base_rates(len(labels), gen)
        else:
            x = self._input(np.reshape(to_numpy(init) if isinstance(init, torch.Tensor)
                                       else init, (-1, self.n_features_in_)))
            if x.shape[0] not in (1, len(labels)):
                raise ValueError(f"init must hold 1 or {len(labels)} images, got {x.shape[0]}")
            pen = x.expand(len(labels), -1).contiguous()
            for layer in self.layers_:
                pen = bernoulli(layer.up(pen), gen)
        v = torch.cat([pen, lab], 1)
        sampler = self._top_sampler(clamp_label=True)
        frames = []
        for i in range(n_images):
            first = i == 0 and init is not None
            v = sampler.sample(v, 0 if first else steps, gen)
            frames.append(self._to_input(self._down(self._top_down(v, gen))))
        return to_numpy(torch.stack(frames, 1))

    def _generator(self, random_state) -> torch.Generator:
        """The model's generator, or a new one for ``random_state``."""
        if random_state is None:
            return self._rng
        return make_generator(random_state, self.top_.W.device)

    def _top_sampler(self, clamp_label: bool) -> GibbsSampler:
        n_pen = self.top_.W.shape[1] - len(self.classes_)
        return GibbsSampler(self.top_, clamp=slice(n_pen, None) if clamp_label else None)

    def _penultimate_base_rates(self, n: int, gen: torch.Generator) -> torch.Tensor:
        """Penultimate states drawn from the base rates σ(b_p): where chains start."""
        n_pen = self.top_.W.shape[1] - len(self.classes_)
        return self.top_.sample_base_rates(n, gen)[:, :n_pen]

    def _top_down(self, v: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """p(p | t) for top states t ~ p(t | v): the mean-field start of the down-pass."""
        n_pen = v.shape[1] - len(self.classes_)
        return self.top_.p_v_given_h(self.top_.sample_h_given_v(v, gen))[:, :n_pen]

    def _down(self, h: torch.Tensor) -> torch.Tensor:
        """The mean-field top-down pass from the penultimate layer to the image."""
        for layer in reversed(self.layers_):
            h = layer.down(h)
        return h

    def _label_vectors(self, label, n: int, gen: torch.Generator) -> torch.Tensor:
        return label_vectors(label, n, self.classes_, self.top_.W, gen)

    # -------------------------------------------------------------------- files
    def _net_tensors(self) -> dict[str, torch.Tensor]:
        tensors = {f"top_{k}": v for k, v in self.top_.state_dict().items()}
        for i, layer in enumerate(self.layers_):
            tensors.update({f"{k}_{i}": v for k, v in layer.state_dict().items()})
        return tensors

    def _load_net(self, tensors: dict[str, torch.Tensor], sizes: tuple[int, ...], n_in: int,
                  device: torch.device, dtype: torch.dtype) -> None:
        dims = (n_in, *sizes[:-1])

        def get(name, shape):
            return check_tensor(tensors, name, shape).to(device, dtype)

        def units(i: int, n: int) -> Units:
            if i > 0 or self.visible_units != "gaussian":
                return BINARY
            return Gaussian(get("log_var_0", (n,)), learn_variance=False)

        self.layers_ = [Directed(get(f"R_{i}", (n_out, n)), get(f"r_{i}", (n_out,)),
                                 get(f"G_{i}", (n_out, n)), get(f"g_{i}", (n,)), units(i, n))
                        for i, (n, n_out) in enumerate(zip(dims[:-1], dims[1:], strict=True))]
        n_classes = len(self.classes_)
        n_vis = dims[-1] + n_classes
        self.top_ = RBM(get("top_W", (sizes[-1], n_vis)), get("top_b", (n_vis,)),
                        get("top_c", (sizes[-1],)), label_joint_units(dims[-1], n_classes))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # A generative model of binary images: on a few real-valued features (as in
        # scikit-learn's estimator checks) its free-energy rule can score poorly.
        tags.classifier_tags.poor_score = True
        return tags


def _fixed(units: Units) -> Units:
    """A directed layer's copy of an RBM's visible units, variances no longer learned."""
    if isinstance(units, Gaussian):
        return Gaussian(units.log_var.clone(), learn_variance=False,
                        min_log_var=units.min_log_var)
    return units


class _LabelJointRBM(BernoulliRBM):
    """The DBN's top RBM as an estimator: its last ``n_classes`` visible units are
    one softmax group (the label), the rest binary (the penultimate layer).

    Internal (never cloned): the keywords besides ``n_classes`` are
    :class:`~deepbelief.BernoulliRBM`'s, checked by :func:`._stack.layer_params`.
    """

    def __init__(self, n_components: int = 256, *, n_classes: int = 2, **params: Any) -> None:
        super().__init__(n_components, **params)
        self.n_classes = n_classes

    def _visible_units(self, like: torch.Tensor) -> Units:
        return label_joint_units(like.shape[-1] - self.n_classes, self.n_classes)
