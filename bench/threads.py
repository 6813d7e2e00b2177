"""Compute threads under scikit-learn's parallel search: no oversubscription.

``GridSearchCV(n_jobs=k)`` runs its fits in joblib's worker processes, and
joblib gives each worker cpu_count // k threads of the native libraries
(``OMP_NUM_THREADS``), which PyTorch's CPU kernels follow. This prints the
threads PyTorch reports inside a worker, and times one grid search (a
``MinMaxScaler`` + ``BernoulliRBM`` + ``LogisticRegression`` pipeline on the 8x8
digits, 4 candidates x 3 folds) with n_jobs=1 and n_jobs=2, then with n_jobs=2
while every worker is forced to all cores (the oversubscription joblib
prevents). Usage::

    python bench/threads.py
"""

from __future__ import annotations

import os
import time

import torch
from joblib import Parallel, delayed
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from deepbelief import BernoulliRBM
from deepbelief.datasets import load_digits


class AllCoresRBM(BernoulliRBM):
    """A BernoulliRBM that takes every core whatever its process was given."""

    def fit(self, X, y=None, **kw):
        torch.set_num_threads(os.cpu_count())
        return super().fit(X, y, **kw)


def _worker_threads() -> int:
    return torch.get_num_threads()


def search(n_jobs: int, rbm_cls=BernoulliRBM) -> float:
    X, y = load_digits()
    pipe = Pipeline([("scale", MinMaxScaler()),
                     ("rbm", rbm_cls(256, n_iter=20, random_state=0)),
                     ("clf", LogisticRegression(max_iter=1000))])
    grid = {"rbm__learning_rate": [0.02, 0.05, 0.1, 0.2]}
    start = time.perf_counter()
    GridSearchCV(pipe, grid, cv=3, n_jobs=n_jobs).fit(X, y)
    return time.perf_counter() - start


def main() -> None:
    print(f"cores {os.cpu_count()}, threads in this process {torch.get_num_threads()}, "
          f"in each of 2 joblib workers "
          f"{Parallel(n_jobs=2)(delayed(_worker_threads)() for _ in range(2))}")
    one = search(1)
    two = search(2)
    over = search(2, AllCoresRBM)
    print(f"GridSearchCV n_jobs=1: {one:.1f} s; n_jobs=2: {two:.1f} s ({one / two:.2f}x); "
          f"n_jobs=2 with every worker on all cores: {over:.1f} s ({one / over:.2f}x)")


if __name__ == "__main__":
    main()
