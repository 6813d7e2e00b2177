"""One data path: validated minibatches on the device, from arrays or streams.

Every estimator that trains on minibatches reads its data through
:class:`Minibatches`. It takes

- an array (NumPy, a tensor, anything array-like, or a sparse matrix where the
  estimator's check accepts one: kept sparse), validated and moved to the
  device once, visited in a fresh random order every epoch drawn from the
  estimator's generator (under ``torchrun``: rank 0's order, each rank taking its
  rows of every minibatch); or
- a stream: any re-iterable of minibatches ``x`` or ``(x, y)`` (a
  ``torch.utils.data.DataLoader``, a list of arrays, a generator function's
  iterable), each validated as it arrives and used in its own order (each rank
  reading its own stream).

Labels, when the estimator needs them, become indices into ``classes``, or for a
regressor stay real-valued targets (``target_check``). A source
maps through the layers of a stack with :meth:`Minibatches.map`, its labels kept.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import numpy as np
import torch
from sklearn.utils.multiclass import check_classification_targets

from . import distributed
from ._sparse import chunks
from ._sparse import rows as sparse_rows
from ._validation import CHUNK, as_labels

#: ``check(x, n_features)`` validates one array or minibatch and returns a tensor.
Check = Callable[[Any, "int | None"], torch.Tensor]
#: ``target_check(y, x)`` validates a regressor's targets for the rows of ``x`` (a tensor).
TargetCheck = Callable[[Any, torch.Tensor], torch.Tensor]
#: ``fn(x, y)`` maps a minibatch's inputs (``y``: label indices, targets or None).
Map = Callable[[torch.Tensor, "torch.Tensor | None"], torch.Tensor]


class Batch(NamedTuple):
    """A minibatch: inputs, label indices (or None) and the rows the update averages over.

    ``total`` counts the rows of the global minibatch over all ranks: an array's
    minibatch before sharding, a stream's (own) minibatch times the number of ranks.
    """

    x: torch.Tensor
    y: torch.Tensor | None
    total: int


def is_stream(X) -> bool:
    """An iterable of minibatches rather than one array (lists and tuples count as arrays)."""
    if isinstance(X, Minibatches):
        return X.n_samples is None
    if isinstance(X, (np.ndarray, torch.Tensor, list, tuple)) or hasattr(X, "__array__"):
        return False
    return hasattr(X, "__iter__") and not hasattr(X, "toarray")


def batch_parts(batch) -> tuple[Any, Any]:
    """``(x, y)`` of a stream's item; ``y`` is None for an unlabelled minibatch."""
    if isinstance(batch, (tuple, list)) and len(batch) >= 2:
        return batch[0], batch[1]
    return (batch[0] if isinstance(batch, (tuple, list)) else batch), None


class Minibatches:
    """A re-iterable source of validated minibatches on the device (see module docstring).

    Parameters
    ----------
    X : array-like or iterable of minibatches
    y : array-like, optional
        Labels of an array (None for a stream, whose items carry them).
    check : callable
        ``check(x, n_features)`` validates an array or a minibatch (``n_features``
        None for the first), returning a tensor on the device.
    labelled : bool, default=False
        Labels are required; they become indices into :attr:`classes`.
    classes : array-like, optional
        The possible labels: by default an array's distinct labels, and for a
        stream one extra pass collects them.
    target_check : callable, optional
        ``target_check(y, x)`` validates real-valued targets for the rows of ``x``
        (a regressor's, with ``labelled``): they are kept as the tensor it returns,
        not made into classes.
    passes : int, default=1
        Times training reads the data: a one-shot iterator is refused when it
        would have to be read more than once.
    shard_streams : bool, default=False
        Under ``torchrun`` each rank keeps rows ``rank::world`` of a stream's
        minibatches too (the same stream on every rank).

    Attributes
    ----------
    first : tensor, an array's rows or a stream's first minibatch (validated).
    n_samples : int or None (a stream).
    n_features : int
    classes : ndarray of the sorted distinct labels, or None (unlabelled, or targets).
    """

    def __init__(self, X, y=None, *, check: Check, labelled: bool = False, classes=None,
                 passes: int = 1, shard_streams: bool = False,
                 target_check: TargetCheck | None = None) -> None:
        self._check = check
        self._maps: list[Map] = []
        self._shard_streams = shard_streams
        self._labelled = labelled
        self._target_check = target_check
        self.classes = None
        by_class = labelled and target_check is None
        if not is_stream(X):
            if by_class and y is not None:  # scikit-learn's "Unknown label type" before X's errors
                check_classification_targets(np.asarray(y))
            self.X = check(X, None)
            self.n_samples, self.first = self.X.shape[0], self.X
            self.y = self._encode(y, classes) if labelled else None
            self.n_features = self.X.shape[1]
            return
        if y is not None:
            raise ValueError("y must be None when X is an iterable of (X_batch, y_batch)")
        passes += by_class and classes is None
        if iter(X) is X:
            if passes > 1:
                raise ValueError(f"X is a one-shot iterator, but training reads the data "
                                 f"{passes} times; pass a DataLoader or another re-iterable")
            head = next(X, None)
            X = X if head is None else itertools.chain([head], X)
        else:
            head = next(iter(X), None)
        if head is None:
            raise ValueError("X: the iterable of minibatches is empty")
        self._stream, self.n_samples = X, None
        self.first = check(batch_parts(head)[0], None)
        self.n_features = self._stream_features = self.first.shape[1]
        self._head_y = batch_parts(head)[1]
        if by_class:
            self.classes = _stream_classes(X, classes)

    def _encode(self, y, classes) -> torch.Tensor:
        if self._target_check is not None:
            return self._target_check(y, self.X)
        y = as_labels(y, self.n_samples)
        if classes is not None:  # labels of a model that knows its classes
            self.classes = np.asarray(classes)
            return label_index(y, self.classes, self.X.device)
        self.classes, index = np.unique(y, return_inverse=True)
        if len(self.classes) < 2:
            raise ValueError(f"y needs at least 2 classes, got {len(self.classes)} class")
        return torch.as_tensor(index, dtype=torch.int64, device=self.X.device)

    @property
    def first_y(self) -> torch.Tensor | None:
        """The labels of :attr:`first`: an array's, or a stream's first minibatch's."""
        if self.n_samples is not None:
            return self.y
        return self._stream_y(self._head_y, self.first)

    def take(self, rows: torch.Tensor) -> Minibatches:
        """An array source's ``rows`` (e.g. a training / validation split)."""
        out = object.__new__(Minibatches)
        out.__dict__.update(self.__dict__)
        out.X = out.first = sparse_rows(self.X, rows)
        out.y = None if self.y is None else self.y[rows]
        out.n_samples = out.X.shape[0]
        return out

    def label_index(self, y) -> torch.Tensor:
        """Each label's position in :attr:`classes` (an int64 tensor on the device)."""
        return label_index(y, self.classes, self.first.device)

    def map(self, fn: Map) -> Minibatches:
        """The same minibatches with ``fn(x, y)`` applied to their inputs.

        An array's rows are mapped once, now; a stream's batches as they arrive.
        """
        out = object.__new__(Minibatches)
        out.__dict__.update(self.__dict__)
        if self.n_samples is not None:
            y = self.y
            parts = [fn(x, None if y is None else y[i:i + CHUNK])
                     for i, x in zip(range(0, self.n_samples, CHUNK),
                                     chunks(self.X, CHUNK), strict=True)]
            out.X = out.first = torch.cat(parts)
        else:
            out._maps = [*self._maps, fn]
            out.first = fn(self.first, self._stream_y(self._head_y, self.first))
        out.n_features = out.first.shape[1]
        return out

    def epoch(self, generator: torch.Generator | None = None, batch_size: int | None = None,
              *, shuffle: bool = True, shard: bool = True) -> Iterator[Batch]:
        """One pass: an array in a random order (``batch_size`` rows at a time; all at
        once when None), a stream in its own. ``shard=False`` keeps whole minibatches
        on every rank. An array's order is drawn now, when the pass is asked for."""
        if self.n_samples is None:
            return self._stream_epoch(shard)
        n = self.n_samples
        if shuffle:
            order = torch.randperm(n, generator=generator, device=self.X.device)
            distributed.broadcast_(order)
        else:
            order = torch.arange(n, device=self.X.device)
        return self._array_epoch(order.split(batch_size or n), shard)

    def _array_epoch(self, parts, shard: bool) -> Iterator[Batch]:
        for idx in parts:
            part = distributed.shard(idx) if shard else idx
            y = None if self.y is None else self.y[part]
            yield Batch(sparse_rows(self.X, part), y, idx.shape[0])

    def _stream_epoch(self, shard: bool) -> Iterator[Batch]:
        world = distributed.world_size()
        for raw in self._stream:
            x, y = batch_parts(raw)
            x = self._check(x, self._stream_features)
            y = self._stream_y(y, x)
            for fn in self._maps:
                x = fn(x, y)
            if self._shard_streams and shard:
                x, y = distributed.shard(x), None if y is None else distributed.shard(y)
            yield Batch(x, y, x.shape[0] * world)

    def _stream_y(self, y, x: torch.Tensor) -> torch.Tensor | None:
        """A stream's minibatch labels: indices into :attr:`classes`, targets, or None."""
        if not self._labelled:
            return None
        if self._target_check is not None:
            return self._target_check(_present(y), x)
        return self.label_index(y)


def label_index(y, classes: np.ndarray, device) -> torch.Tensor:
    """Each label's position in ``classes`` (an int64 tensor on ``device``)."""
    y = _labels(y)
    index = np.minimum(np.searchsorted(classes, y), len(classes) - 1)
    if not np.all(classes[index] == y):
        raise ValueError(f"labels {sorted(set(y.tolist()) - set(classes.tolist()))} are not "
                         f"among the classes {classes.tolist()}")
    return torch.as_tensor(index, dtype=torch.int64, device=device)


def _present(y):
    if y is None:
        raise ValueError("each minibatch must be an (X_batch, y_batch) pair")
    return y


def _labels(y) -> np.ndarray:
    return as_labels(_present(y), len(y))


def _stream_classes(X: Iterable, classes=None) -> np.ndarray:
    """The sorted distinct labels: ``classes`` if given, else one pass over the y batches."""
    if classes is None:
        seen = [np.unique(_labels(batch_parts(b)[1])) for b in X]
        classes = np.unique(np.concatenate(seen))
    classes = np.unique(np.asarray(classes))
    if classes.ndim != 1 or len(classes) < 2:
        raise ValueError(f"need at least 2 classes, got {classes.tolist()}")
    return classes
