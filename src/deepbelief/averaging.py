"""Polyak averaging: the mean of an estimator's parameters over its last epochs.

Stochastic gradient steps leave the parameters jittering around the optimum by an
amount set by the learning rate; the mean of the iterates (Polyak & Juditsky
1992) sits nearer to it. :class:`ParameterAverage` is an epoch callback that any
estimator built on one RBM core (``model_``: :class:`~deepbelief.BernoulliRBM`,
:class:`~deepbelief.GaussianBernoulliRBM`, :class:`~deepbelief.ClassRBM`,
:class:`~deepbelief.DBM`) accepts as ``fit(..., callback=average)``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from .checkpoint import Checkpointer


class ParameterAverage:
    """An epoch callback keeping the running mean of an estimator's parameters.

    After each epoch t ≥ ``start`` (the estimator's ``n_epochs_`` after it), the
    parameters θ_t of ``estimator.model_.state_dict()`` (W, b, c and the unit
    types' own parameters) join the mean, kept in float64:

        θ̄_n = θ̄_{n-1} + (θ_t - θ̄_{n-1}) / n.

    An epoch the mean already holds (a resumed fit re-running epochs after an
    older checkpoint: bit-identical, so the same parameters) is skipped; epochs it
    never saw (an interruption between the estimator's checkpoint and the mean's)
    are listed in ``missed_`` with a warning.

    Parameters
    ----------
    start : int, default=1
        The first epoch averaged.
    directory : str or Path, optional
        Where the mean is checkpointed after each epoch (atomically, as the
        estimators' own checkpoints), for a fit that may be resumed.
    resume : bool, default=False
        Continue the mean saved in ``directory`` (for a fit resumed with
        ``resume=True``); without it the mean's old checkpoints there are removed.

    Attributes
    ----------
    mean_ : dict of str to torch.Tensor or None
        The mean parameters (float64), None before the first averaged epoch.
    n_averaged_ : int
        The epochs in the mean.
    last_epoch_ : int
        The last epoch in the mean (0 before the first).
    missed_ : list of int
        Epochs from ``start`` on that the mean never saw.

    Examples
    --------
    >>> import numpy as np
    >>> from deepbelief import BernoulliRBM
    >>> from deepbelief.averaging import ParameterAverage
    >>> X = (np.random.default_rng(0).random((60, 8)) > 0.5).astype(float)
    >>> average = ParameterAverage(start=3)
    >>> rbm = BernoulliRBM(4, n_iter=5, random_state=0).fit(X, callback=average)
    >>> average.n_averaged_
    3
    >>> average.apply(rbm).W_.shape
    torch.Size([4, 8])
    """

    def __init__(self, start: int = 1, directory: str | Path | None = None,
                 resume: bool = False) -> None:
        if int(start) < 1:
            raise ValueError(f"start must be at least 1, got {start}")
        self.start = int(start)
        self.directory = None if directory is None else Path(directory)
        self.mean_: dict[str, torch.Tensor] | None = None
        self.n_averaged_, self.last_epoch_ = 0, 0
        self.missed_: list[int] = []
        if resume and self.directory is None:
            raise ValueError("resume=True needs the directory the mean was saved in")
        if self.directory is not None:
            Checkpointer(self.directory).start(resume)
        saved = Checkpointer(self.directory).load()
        if saved is not None:
            self.mean_ = saved["mean"]
            self.n_averaged_, self.last_epoch_ = int(saved["n"]), int(saved["epoch"])
            self.missed_ = [int(e) for e in saved["missed"]]

    def __call__(self, estimator) -> None:
        params = _parameters(estimator)
        epoch = int(estimator.n_epochs_)
        if epoch < self.start or epoch <= self.last_epoch_:
            return
        first = max(self.start, self.last_epoch_ + 1)
        if epoch > first:
            self.missed_.extend(range(first, epoch))
            warnings.warn(f"the parameter mean missed epochs {first}-{epoch - 1}",
                          RuntimeWarning, stacklevel=2)
        self.n_averaged_ += 1
        if self.mean_ is None:
            self.mean_ = {k: p.detach().to(torch.float64, copy=True) for k, p in params.items()}
        else:
            for k, m in self.mean_.items():
                m.add_(params[k].to(m.device, torch.float64) - m, alpha=1.0 / self.n_averaged_)
        self.last_epoch_ = epoch
        state = {"mean": self.mean_, "n": self.n_averaged_, "epoch": epoch,
                 "missed": self.missed_}
        Checkpointer(self.directory).maybe_save(epoch, True, state)

    def apply(self, estimator):
        """Load the mean into ``estimator``'s parameters in place (in their dtype and
        device) and return it; ``copy.deepcopy`` the estimator first to keep both."""
        if self.mean_ is None:
            raise ValueError(f"no epoch from {self.start} on has been averaged yet")
        _parameters(estimator)  # the same check as when averaging
        estimator.model_.load_state_dict(self.mean_)
        return estimator


def _parameters(estimator) -> dict[str, torch.Tensor]:
    model = getattr(estimator, "model_", None)
    if model is None or not hasattr(model, "state_dict"):
        raise TypeError(f"{type(estimator).__name__} has no fitted RBM core (model_) "
                        "whose parameters could be averaged")
    return model.state_dict()
