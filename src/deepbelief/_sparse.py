"""Row-wise helpers that treat dense tensors and sparse COO tensors alike.

Sparse input (e.g. bag-of-words counts) is kept as a coalesced sparse COO tensor
from validation on; these helpers are all the data path needs of it: rows, chunks
of rows, column sums and, where a computation needs every entry, a dense copy.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch


def rows(X: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``X[index]`` for an index tensor, sparse or dense."""
    return X.index_select(0, index).coalesce() if X.is_sparse else X[index]


def chunks(X: torch.Tensor, size: int) -> Iterator[torch.Tensor]:
    """Consecutive blocks of ``size`` rows (``X.split(size)`` for a dense tensor)."""
    if not X.is_sparse:
        yield from X.split(size)
        return
    for start in range(0, X.shape[0], size):
        stop = min(start + size, X.shape[0])
        yield rows(X, torch.arange(start, stop, device=X.device))


def column_sum(X: torch.Tensor) -> torch.Tensor:
    """Σ over rows, as a dense vector."""
    return torch.sparse.sum(X, 0).to_dense() if X.is_sparse else X.sum(0)


def dense(X: torch.Tensor) -> torch.Tensor:
    """``X`` itself if dense, else a dense copy."""
    return X.to_dense() if X.is_sparse else X


def t_mm(A: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """Aᵀ X for a dense ``A`` and a dense or sparse ``X`` (weight statistics, counts)."""
    return (X.t() @ A).T if X.is_sparse else A.T @ X
