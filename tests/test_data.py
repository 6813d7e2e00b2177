"""The one data path: arrays and streams become validated minibatches on the device."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from deepbelief._validation import as_tensor2d
from deepbelief.data import Minibatches


def check(x, n_features):
    return as_tensor2d(x, n_features=n_features, unit_interval=True)


class Stream:
    """A re-iterable stream of minibatches (a list would be read as one array)."""

    def __init__(self, *batches):
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)


def test_an_array_is_shuffled_every_epoch_and_covered_once():
    X = np.linspace(0, 1, 50, dtype=np.float32).reshape(25, 2)
    data = Minibatches(X, np.arange(25) % 3, check=check, labelled=True)
    g = torch.Generator().manual_seed(0)
    epochs = [[b for b in data.epoch(g, 10)] for _ in range(2)]
    for batches in epochs:
        assert [len(b.x) for b in batches] == [10, 10, 5]
        assert [b.total for b in batches] == [10, 10, 5]
        rows = torch.cat([b.x for b in batches])
        assert sorted(rows[:, 0].tolist()) == sorted(X[:, 0].tolist())
        labels = torch.cat([b.y for b in batches])
        torch.testing.assert_close(labels, (rows[:, 0] * 49 / 2).round().long() % 3)
    assert not torch.equal(epochs[0][0].x, epochs[1][0].x)
    assert data.classes.tolist() == [0, 1, 2]


def test_a_stream_is_validated_batch_by_batch_with_its_labels():
    X = torch.rand(30, 4)
    loader = DataLoader(TensorDataset(X, torch.arange(30) % 3), batch_size=8)
    data = Minibatches(loader, check=check, labelled=True, passes=3)
    assert data.n_samples is None and data.classes.tolist() == [0, 1, 2]
    batches = list(data.epoch())
    assert [len(b.x) for b in batches] == [8, 8, 8, 6]
    torch.testing.assert_close(torch.cat([b.x for b in batches]), X)
    torch.testing.assert_close(torch.cat([b.y for b in batches]), torch.arange(30) % 3)
    bad = Stream((X[:8], torch.zeros(8)), (X[:8, :3], torch.zeros(8)))
    with pytest.raises(ValueError, match="features"):
        list(Minibatches(bad, check=check).epoch())


def test_map_keeps_the_labels_of_arrays_and_streams():
    X = torch.rand(12, 3)
    y = torch.arange(12) % 2

    def up(x, labels):
        return torch.cat([x[:, :1], labels[:, None].to(x.dtype)], 1)

    for source in (Minibatches(X, y, check=check, labelled=True),
                   Minibatches(Stream((X[:6], y[:6]), (X[6:], y[6:])), check=check,
                               labelled=True)):
        mapped = source.map(up)
        assert mapped.n_features == 2 and mapped.first.shape[1] == 2
        for batch in mapped.epoch(torch.Generator().manual_seed(0), 4):
            torch.testing.assert_close(batch.x[:, 1], batch.y.to(batch.x.dtype))


def test_one_shot_iterators_and_unknown_labels_are_refused():
    X = torch.rand(6, 2)
    with pytest.raises(ValueError, match="one-shot"):
        Minibatches(iter([X[:3], X[3:]]), check=check, passes=2)
    once = Minibatches(iter([X[:3], X[3:]]), check=check, passes=1)
    assert sum(len(b.x) for b in once.epoch()) == 6  # the first batch is not lost
    with pytest.raises(ValueError, match="not among the classes"):
        Minibatches(X, [0, 1, 2, 0, 1, 5], check=check, labelled=True, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="empty"):
        Minibatches(iter([]), check=check)
