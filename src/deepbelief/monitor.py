"""Watching a fit in TensorBoard: :class:`TensorBoardLogger`, a ``callback`` of ``fit``.

Every iterative estimator of :mod:`deepbelief` takes ``fit(..., callback=...)`` and calls
``callback(self)`` after each epoch: :class:`~deepbelief.BernoulliRBM`,
:class:`~deepbelief.GaussianBernoulliRBM`, :class:`~deepbelief.TabularRBM` and
:class:`~deepbelief.ClassRBM` after each training epoch, :class:`~deepbelief.DBN`,
:class:`~deepbelief.DBNClassifier`, :class:`~deepbelief.DBNRegressor` and
:class:`~deepbelief.DBMClassifier` after each fine-tuning epoch, :class:`~deepbelief.DBM`
after each joint epoch and :class:`~deepbelief.GaussianMixture` after each EM iteration.
The naive Bayes classifiers (:class:`~deepbelief.BernoulliNB` and the others) fit in one
pass over the data and take no callback.

TensorBoard is an optional dependency, imported when a logger is made (never by
``import deepbelief``): ``pip install 'deepbelief[monitor]'``, then
``tensorboard --logdir runs``.
"""

from __future__ import annotations

import math
import os
import weakref
from collections.abc import Mapping, Sequence
from numbers import Real
from pathlib import Path
from typing import Any

import numpy as np

from . import partition
from ._validation import check_positive
from .base import BaseRBM
from .dbm import DBM
from .dbn import DBN
from .dbn._base import BaseDeepNet
from .gaussian import GaussianBernoulliRBM
from .mixture import GaussianMixture
from .plot import _as_tiles, _normalize
from .rbm import BernoulliRBM
from .tabular import TabularRBM

__all__ = ["TensorBoardLogger"]

#: The estimators whose log-likelihood :func:`deepbelief.partition.log_likelihood`
#: estimates by AIS.
_AIS_ESTIMATORS = (BernoulliRBM, GaussianBernoulliRBM, DBM)


def _summary_writer():
    """``torch.utils.tensorboard.SummaryWriter``, or an ImportError that says what to install."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as exc:
        raise ImportError("TensorBoardLogger needs the tensorboard package: "
                          "pip install 'deepbelief[monitor]'") from exc
    return SummaryWriter


class TensorBoardLogger:
    """A ``fit`` callback that writes each epoch's figures to TensorBoard event files.

    Pass it to ``fit``: ``est.fit(X, callback=TensorBoardLogger("runs/x"))``. Each call
    (``callback(est)``, after an epoch) writes at step t, the estimator's epoch count
    (its number of entries of ``history_["seconds"]``; a GaussianMixture's ``n_iter_``):

    Scalars, every numeric per-epoch list the estimator records, entry i at step i + 1:

    - ``rbm/<key>`` for each list of an RBM's ``history_`` (BernoulliRBM,
      GaussianBernoulliRBM, TabularRBM, ClassRBM): ``reconstruction_error``,
      ``pseudo_log_likelihood``, ``free_energy_gap`` (with ``validation_data``),
      ``log_loss`` (ClassRBM), ``seconds``.
    - ``finetune/<key>`` for a deep net's fine-tuning ``history_``: ``train_loss``,
      ``validation_loss`` and ``validation_accuracy`` (DBNClassifier, DBMClassifier) or
      ``validation_r2`` (DBNRegressor), ``seconds``; the generative DBN's up-down
      ``reconstruction_error`` and ``seconds``.
    - ``dbm/<key>`` for a DBM's joint training (a DBMClassifier's ``dbm_``):
      ``reconstruction_error``, ``mean_field_rounds``, ``seconds``.
    - ``pretrain/layer_<l>/<key>`` for the histories of the greedily pre-trained RBMs
      of a deep net (layer l = 1 at the bottom), written at its first call: a deep net
      calls back during fine-tuning (or a DBM's joint training) only, so nothing is
      written without it.
    - ``gmm/lower_bound`` for a GaussianMixture's mean log-likelihood per EM iteration
      (``gmm/init_<k>/lower_bound`` for initialisation k when ``n_init > 1``).
    - ``<prefix>/ais_log_likelihood`` every ``ais_every`` epochs: the mean
      log-likelihood of ``ais_data`` with log Z by AIS (BernoulliRBM,
      GaussianBernoulliRBM, DBM; see :func:`deepbelief.partition.log_likelihood`).

    Images every ``images_every`` epochs, when the inputs are square images (64 or 784
    pixels): ``images/filters``, the first ``n_filters`` rows of the first weight
    matrix (an RBM's ``components_``, a DBM's ``weights_[0]``, a generative DBN's
    recognition weights, a fine-tuned net's ``coefs_[0]``; a ClassRBM's and a
    DBMClassifier's input columns), each tile scaled to its own range; and for the
    generative models (the RBMs but TabularRBM, DBN, DBM) ``images/samples``,
    ``n_samples`` draws of ``sample(steps=sample_steps)``.

    Logging leaves the fit as it is: samples and AIS runs use their own generator
    (seeded by ``seed``), never the estimator's.

    Parameters
    ----------
    log_dir : str or path-like
        The directory of the first fit's event files (made at the first call). Point
        ``tensorboard --logdir`` at it or at a directory above.
    images_every : int or None, default=5
        Write the images every this many epochs; None writes none.
    n_filters : int, default=64
        Rows of the first weight matrix shown.
    n_samples : int, default=16
        Samples shown (0: none).
    sample_steps : int, default=100
        Gibbs steps of each sample's chain.
    ais_every : int or None, default=None
        Estimate the log-likelihood of ``ais_data`` by AIS every this many epochs;
        None never does.
    ais_data : array-like, optional
        The rows whose mean log-likelihood is estimated (and whose means give the AIS
        base rates); needed with ``ais_every``.
    ais_params : mapping, optional
        Keyword arguments of :func:`deepbelief.partition.log_likelihood` (``n_runs``,
        ``betas``, ...); ``seed`` defaults to ``seed``.
    seed : int, default=0
        Seeds the samples and the AIS runs.

    Attributes
    ----------
    log_dirs_ : list of pathlib.Path
        The directory of each fit logged, in order.

    Notes
    -----
    One logger may watch several fits, one after the other: a call for another
    estimator, or for the same one whose epoch count did not go up (fitted again),
    starts a new run. The first fit writes into ``log_dir``, each later one into a
    fresh subdirectory ``log_dir/fit-2``, ``log_dir/fit-3``, ... (the first name not
    yet taken). A fit that goes on (``resume``, ``fine_tune``) continues its run.
    Passed to ``GridSearchCV(...).fit(X, y, callback=logger)``, it gives every
    candidate and split its own directory; parallel workers get copies of the
    logger, each of which writes only into subdirectories it makes itself, so no two
    fits share one. A new logger on a directory that holds event files adds to them:
    a run resumed in a new process continues its curves (TensorBoard replaces the
    steps written again). The writer is flushed after each call; :meth:`close` (or a
    ``with`` block) closes it, and a later call starts a new run.

    Examples
    --------
    >>> from deepbelief import BernoulliRBM
    >>> from deepbelief.datasets import load_digits
    >>> from deepbelief.monitor import TensorBoardLogger
    >>> X, _ = load_digits()
    >>> with TensorBoardLogger("runs/rbm") as log:  # doctest: +SKIP
    ...     BernoulliRBM(64, n_iter=20).fit(X, callback=log)
    """

    def __init__(self, log_dir: str | os.PathLike, *, images_every: int | None = 5,
                 n_filters: int = 64, n_samples: int = 16, sample_steps: int = 100,
                 ais_every: int | None = None, ais_data=None,
                 ais_params: Mapping[str, Any] | None = None, seed: int = 0):
        self._writer_class = _summary_writer()
        for name, value in (("images_every", images_every), ("ais_every", ais_every)):
            if value is not None:
                check_positive(value, name, integer=True)
        check_positive(n_filters, "n_filters", integer=True)
        check_positive(n_samples, "n_samples", integer=True, allow_zero=True)
        check_positive(sample_steps, "sample_steps", integer=True, allow_zero=True)
        if ais_every is not None and ais_data is None:
            raise ValueError("ais_every needs ais_data, the rows whose log-likelihood "
                             "is estimated")
        self.log_dir = Path(log_dir)
        self.images_every, self.n_filters = images_every, n_filters
        self.n_samples, self.sample_steps = n_samples, sample_steps
        self.ais_every, self.ais_data = ais_every, ais_data
        self.ais_params, self.seed = dict(ais_params or {}), seed
        self.log_dirs_: list[Path] = []
        self._writer = None
        self._estimator = None  # a weak reference to the estimator of the run
        self._step, self._init, self._written = 0, 1, {}
        self._copy = False  # an unpickled copy writes into subdirectories only

    def __repr__(self) -> str:
        return f"{type(self).__name__}({os.fspath(self.log_dir)!r})"

    # ------------------------------------------------------------------ the callback
    def __call__(self, estimator) -> None:
        """Write the estimator's new figures (and images, AIS when due) at its epoch count.

        Returns None, so that a fit that stops when its callback returns True goes on.
        """
        step = _epoch(estimator)
        self._follow(estimator, step)
        for tag, values in _series(estimator, self._init).items():
            self._write_series(tag, values)
        if self.images_every is not None and step % self.images_every == 0:
            self._write_images(estimator, step)
        if self.ais_every is not None and step % self.ais_every == 0:
            self._write_ais(estimator, step)
        self._writer.flush()

    def _follow(self, estimator, step: int) -> None:
        """Keep the run of this fit, or start a new one (see the Notes)."""
        same = self._writer is not None and self._estimator() is estimator
        if same and step > self._step:
            pass
        elif same and isinstance(estimator, GaussianMixture) and self._init < estimator.n_init:
            self._init += 1  # the fit's next initialisation
        else:
            self._start_run(estimator)
        self._step = step

    def _start_run(self, estimator) -> None:
        self.close()
        directory = self._claim_directory()
        self._writer = self._writer_class(log_dir=os.fspath(directory))
        self.log_dirs_.append(directory)
        self._estimator = weakref.ref(estimator)
        self._init, self._written = 1, {}

    def _claim_directory(self) -> Path:
        """``log_dir`` for the first fit, else the first free ``log_dir/fit-<k>``, made here."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if not self.log_dirs_ and not self._copy:
            return self.log_dir
        k = max(len(self.log_dirs_), 1)
        while True:
            k += 1
            directory = self.log_dir / f"fit-{k}"
            try:
                directory.mkdir()  # atomic: parallel copies never claim the same one
            except FileExistsError:
                continue
            return directory

    def _write_series(self, tag: str, values: Sequence) -> None:
        """The entries of ``values`` not written yet, entry i at step i + 1."""
        done = self._written.get(tag, 0)
        for i in range(done, len(values)):
            if isinstance(values[i], Real):
                self._writer.add_scalar(tag, float(values[i]), i + 1)
        self._written[tag] = max(done, len(values))

    def _write_images(self, estimator, step: int) -> None:
        filters = _filters(estimator)
        if filters is not None:
            self._add_images("images/filters", filters[:self.n_filters], "each", step)
        if self.n_samples and _is_generative(estimator):
            samples = estimator.sample(self.n_samples, steps=self.sample_steps,
                                       random_state=self.seed)
            if _is_square(samples.shape[1]):
                self._add_images("images/samples", samples, None, step)

    def _add_images(self, tag: str, rows: np.ndarray, normalize: str | None,
                    step: int) -> None:
        """Rows of pixels as one grid of square tiles (values mapped to [0, 1])."""
        tiles = _as_tiles(rows, None)
        if normalize is None and (tiles.min() < 0 or tiles.max() > 1):
            normalize = "each"  # real-valued units: each tile to its own range
        tiles = _normalize(tiles, normalize)
        self._writer.add_images(tag, tiles[:, np.newaxis], step, dataformats="NCHW")

    def _write_ais(self, estimator, step: int) -> None:
        if not isinstance(estimator, _AIS_ESTIMATORS):
            raise TypeError(f"ais_every: the AIS log-likelihood is estimated for "
                            f"BernoulliRBM, GaussianBernoulliRBM and DBM, not "
                            f"{type(estimator).__name__}")
        params = {"seed": self.seed, **self.ais_params}
        value = partition.log_likelihood(estimator, self.ais_data, **params)
        self._writer.add_scalar(f"{_prefix(estimator)}/ais_log_likelihood", value, step)

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        """Flush and close the event file; a later call starts a new run."""
        if self._writer is not None:
            self._writer.close()
        self._writer, self._estimator = None, None

    def __enter__(self) -> TensorBoardLogger:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __getstate__(self) -> dict:
        """A copy (pickled for a parallel worker) holds no writer and writes each fit
        into a subdirectory of its own."""
        state = dict(self.__dict__)
        state.update(_writer=None, _estimator=None, _copy=True)
        return state


# ---------------------------------------------------------------- what an estimator holds
def _epoch(estimator) -> int:
    """The epochs (EM iterations) done: entries of ``history_["seconds"]``, or ``n_iter_``."""
    history = getattr(estimator, "history_", None)
    if isinstance(history, Mapping) and "seconds" in history:
        return len(history["seconds"])
    return int(getattr(estimator, "n_iter_", getattr(estimator, "n_epochs_", 0)))


def _prefix(estimator) -> str:
    """The tags' prefix of an estimator's own ``history_``."""
    if isinstance(estimator, BaseRBM):
        return "rbm"
    if isinstance(estimator, DBM):
        return "dbm"
    if isinstance(estimator, BaseDeepNet):  # the DBNs and the DBMClassifier
        return "finetune"
    return type(estimator).__name__.lower()


def _series(estimator, init: int) -> dict[str, Sequence]:
    """Every per-epoch list the estimator records, by tag."""
    if isinstance(estimator, GaussianMixture):
        prefix = "gmm" if estimator.n_init == 1 else f"gmm/init_{init}"
        return {f"{prefix}/lower_bound": estimator.lower_bounds_}
    histories = {_prefix(estimator): getattr(estimator, "history_", {})}
    dbm = getattr(estimator, "dbm_", None)
    if dbm is not None:
        histories["dbm"] = dbm.history_
    pretrain = getattr(estimator, "pretrain_history_", None)
    if pretrain is None:  # a DBM keeps its RBMs
        pretrain = [rbm.history_ for rbm in getattr(estimator, "rbms_", [])]
    for layer, history in enumerate(pretrain, start=1):
        histories[f"pretrain/layer_{layer}"] = history
    return {f"{prefix}/{key}": values for prefix, history in histories.items()
            for key, values in history.items() if isinstance(values, Sequence)}


def _first_weights(estimator) -> np.ndarray | None:
    """The bottom weight matrix, one row per hidden unit (None for a TabularRBM, whose
    columns are encoded, and for models without weights)."""
    if isinstance(estimator, TabularRBM):
        return None
    if isinstance(estimator, BaseRBM):
        return estimator.components_
    if isinstance(estimator, DBM):
        return estimator.weights_[0]
    if isinstance(estimator, DBN):
        return estimator.layers_[0].R.detach().cpu().numpy()
    coefs = getattr(estimator, "coefs_", None)
    return None if not coefs else coefs[0]


def _filters(estimator) -> np.ndarray | None:
    """The first weight matrix's input columns, when the inputs are square images."""
    weights = _first_weights(estimator)
    n = getattr(estimator, "n_features_in_", None)
    if weights is None or n is None or not _is_square(n) or weights.shape[1] < n:
        return None
    return weights[:, :n]  # a ClassRBM's label columns, a DBMClassifier's extra inputs


def _is_generative(estimator) -> bool:
    """Whether the estimator draws inputs with ``sample(n, steps=...)``."""
    return (isinstance(estimator, BaseRBM | DBN | DBM)
            and not isinstance(estimator, TabularRBM))


def _is_square(n: int) -> bool:
    return n > 0 and math.isqrt(n) ** 2 == n
