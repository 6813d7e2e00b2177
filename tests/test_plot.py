"""Tests of the plotting helpers."""

from __future__ import annotations

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from deepbelief.plot import plot_class_samples, plot_history, plot_misclassified, tile_images

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def grid_array(fig: Figure, index: int = 0) -> np.ma.MaskedArray:
    return fig.axes[index].images[0].get_array()


def tile(mosaic, row: int, col: int, height: int, width: int):
    top, left = 1 + row * (height + 1), 1 + col * (width + 1)
    return mosaic[top : top + height, left : left + width]


def assert_png(path, min_size: int = 50):
    assert path.read_bytes()[:8] == PNG_MAGIC
    pixels = mpimg.imread(path)
    assert pixels.ndim == 3
    assert pixels.shape[0] >= min_size
    assert pixels.shape[1] >= min_size
    return pixels


# ---------------------------------------------------------------------------
# tile_images


def test_tile_images_writes_png(tmp_path, rng):
    path = tmp_path / "tiles.png"
    fig = tile_images(rng.random((12, 784)), path=path, title="samples")
    assert isinstance(fig, Figure)
    pixels = assert_png(path)
    # The image is not blank: gray tiles on a white background.
    assert pixels[..., :3].std() > 0.05
    assert fig.axes[0].get_title() == "samples"
    plt.close(fig)


@pytest.mark.parametrize(
    ("n", "n_pixels", "n_cols", "expected"),
    [
        (10, 784, 5, (2 * 29 + 1, 5 * 29 + 1)),
        (10, 784, None, (3 * 29 + 1, 4 * 29 + 1)),
        (16, 64, None, (4 * 9 + 1, 4 * 9 + 1)),
        (3, 64, 10, (1 * 9 + 1, 3 * 9 + 1)),
        (1, 64, None, (10, 10)),
    ],
)
def test_tile_images_grid_size(rng, n, n_pixels, n_cols, expected):
    fig = tile_images(rng.random((n, n_pixels)), n_cols=n_cols, normalize=None)
    mosaic = grid_array(fig)
    assert mosaic.shape == expected
    # Only the gaps are masked: every pixel of every image is shown.
    assert mosaic.count() == n * n_pixels
    plt.close(fig)


def test_tile_images_places_images_in_row_major_order(rng):
    images = rng.random((7, 20))
    fig = tile_images(images, shape=(4, 5), n_cols=3, normalize=None)
    mosaic = grid_array(fig)
    assert mosaic.shape == (3 * 5 + 1, 3 * 6 + 1)
    for i, image in enumerate(images):
        np.testing.assert_allclose(tile(mosaic, i // 3, i % 3, 4, 5), image.reshape(4, 5))
    assert tile(mosaic, 2, 1, 4, 5).mask.all()
    assert tile(mosaic, 2, 2, 4, 5).mask.all()
    plt.close(fig)


def test_normalize_each_rescales_every_tile(rng):
    filters = rng.normal(size=(4, 64)) * np.array([[0.01], [1.0], [100.0], [0.0]])
    fig = tile_images(filters, n_cols=4, normalize="each")
    mosaic = grid_array(fig)
    for i in range(3):
        t = tile(mosaic, 0, i, 8, 8)
        assert t.min() == pytest.approx(0.0)
        assert t.max() == pytest.approx(1.0)
        expected = (filters[i] - filters[i].min()) / np.ptp(filters[i])
        np.testing.assert_allclose(t, expected.reshape(8, 8))
    # A constant filter is drawn mid-gray rather than dividing by zero.
    np.testing.assert_allclose(tile(mosaic, 0, 3, 8, 8), 0.5)
    plt.close(fig)


def test_normalize_all_uses_one_range(rng):
    images = rng.normal(size=(2, 64)) * np.array([[0.1], [10.0]])
    fig = tile_images(images, n_cols=2, normalize="all")
    mosaic = grid_array(fig)
    lo, hi = images.min(), images.max()
    for i in range(2):
        expected = (images[i] - lo) / (hi - lo)
        np.testing.assert_allclose(tile(mosaic, 0, i, 8, 8), expected.reshape(8, 8))
    # The small-scale image stays nearly uniform next to the large one.
    assert np.ptp(tile(mosaic, 0, 0, 8, 8)) < 0.1
    plt.close(fig)


def test_normalize_none_requires_unit_interval(rng):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        tile_images(rng.random((2, 64)) * 255, normalize=None)
    with pytest.raises(ValueError, match="normalize"):
        tile_images(rng.random((2, 64)), normalize="minmax")


def test_torch_and_3d_inputs_match_numpy(rng):
    images = rng.random((5, 784)).astype(np.float32)
    reference = grid_array(tile_images(images))
    from_torch = grid_array(tile_images(torch.from_numpy(images).requires_grad_()))
    from_3d = grid_array(tile_images(images.reshape(5, 28, 28)))
    np.testing.assert_allclose(from_torch, reference)
    np.testing.assert_allclose(from_3d, reference)


def test_non_square_images_need_shape(rng):
    images = rng.random((4, 20))
    with pytest.raises(ValueError, match="perfect square"):
        tile_images(images)
    with pytest.raises(ValueError, match="pixels"):
        tile_images(images, shape=(4, 4))
    with pytest.raises(ValueError, match="shape"):
        tile_images(images, shape=(-4, -5))
    fig = tile_images(images, shape=(5, 4), n_cols=4)
    assert grid_array(fig).shape == (6 + 1, 4 * 5 + 1)
    plt.close(fig)


@pytest.mark.parametrize("images", [np.empty((0, 64)), np.empty((3, 0)), [], torch.empty(0, 784)])
def test_empty_input_is_rejected(images):
    with pytest.raises(ValueError, match="empty"):
        tile_images(images)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_is_rejected(rng, bad):
    images = rng.random((2, 64))
    images[1, 5] = bad
    with pytest.raises(ValueError, match="NaN"):
        tile_images(images)


@pytest.mark.parametrize("n_cols", [0, -1, 2.5])
def test_invalid_n_cols(rng, n_cols):
    with pytest.raises(ValueError, match="n_cols"):
        tile_images(rng.random((4, 64)), n_cols=n_cols)


def test_draws_into_given_axes(rng, tmp_path):
    fig = Figure()
    left, right = fig.subplots(1, 2)
    path = tmp_path / "panel.png"
    returned = tile_images(rng.random((4, 64)), ax=right, title="filters", path=path)
    assert returned is fig
    assert len(right.images) == 1
    assert len(left.images) == 0
    assert right.get_title() == "filters"
    assert_png(path)
    plt.close(fig)


def test_no_pyplot_figures_are_left_open(rng, tmp_path):
    plt.close("all")
    tile_images(rng.random((4, 64)), path=tmp_path / "a.png")
    plot_history({"loss": [1.0, 0.5]}, path=tmp_path / "b.png")
    plot_class_samples(rng.random((4, 64)), [0, 1, 0, 1], path=tmp_path / "c.png")
    assert plt.get_fignums() == []


# ---------------------------------------------------------------------------
# plot_history


def test_plot_history_one_subplot_per_metric(tmp_path):
    history = {
        "reconstruction_error": [0.3, 0.2, 0.15, 0.12],
        "pseudo_log_likelihood": np.array([-90.0, -80.0, np.nan, -75.0]),
        "free_energy_gap": torch.tensor([0.1, 0.2, 0.1, 0.3]),
        "learning_rate": [0.1],
    }
    path = tmp_path / "history.png"
    fig = plot_history(history, path=path, title="training")
    assert_png(path)
    assert len(fig.axes) == 4
    assert fig.get_suptitle() == "training"
    for ax, (name, values) in zip(fig.axes, history.items(), strict=True):
        assert ax.get_title() == name
        assert ax.get_xlabel() == "epoch"
        (line,) = ax.get_lines()
        values = np.asarray(values, dtype=float)
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, len(values) + 1))
        np.testing.assert_array_equal(line.get_ydata(), values)
    plt.close(fig)


@pytest.mark.parametrize(
    ("history", "match"),
    [
        ({}, "non-empty mapping"),
        ([("loss", [1.0])], "mapping"),
        ({"loss": []}, "loss"),
        ({"loss": [[1.0, 2.0]]}, "loss"),
        ({"loss": [1.0, np.inf]}, "infinite"),
    ],
)
def test_plot_history_rejects_bad_input(history, match):
    with pytest.raises(ValueError, match=match):
        plot_history(history)


# ---------------------------------------------------------------------------
# plot_class_samples


def test_plot_class_samples_one_row_per_class(tmp_path, rng):
    labels = np.array([2, 0, 2, 1, 0, 2, 2])
    images = rng.random((7, 64))
    path = tmp_path / "classes.png"
    fig = plot_class_samples(images, labels, path=path, title="generated")
    assert_png(path)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "1", "2"]
    assert ax.get_title() == "generated"
    mosaic = grid_array(fig)
    assert mosaic.shape == (3 * 9 + 1, 4 * 9 + 1)
    for row, cls in enumerate([0, 1, 2]):
        members = images[labels == cls]
        for col in range(4):
            cell = tile(mosaic, row, col, 8, 8)
            if col < len(members):
                np.testing.assert_allclose(cell, members[col].reshape(8, 8))
            else:
                assert cell.mask.all()
    plt.close(fig)


def test_plot_class_samples_accepts_torch_and_checks_labels(rng):
    images = torch.rand(6, 784)
    fig = plot_class_samples(images, torch.tensor([0, 1, 2, 0, 1, 2]))
    assert grid_array(fig).shape == (3 * 29 + 1, 2 * 29 + 1)
    plt.close(fig)
    with pytest.raises(ValueError, match="labels"):
        plot_class_samples(images, [0, 1, 2])
    with pytest.raises(ValueError, match="perfect square"):
        plot_class_samples(rng.random((2, 10)), [0, 1])


def test_plot_misclassified_draws_only_the_wrong_ones(tmp_path, rng):
    images = rng.random((12, 64))
    y_true = np.arange(12) % 3
    y_pred = y_true.copy()
    y_pred[[2, 7, 11]] = 0
    path = tmp_path / "wrong.png"
    fig = plot_misclassified(images, y_true, y_pred, path=path, n_cols=2)
    assert path.stat().st_size > 0
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["2→0", "1→0", "2→0"]
    with pytest.raises(ValueError, match="no image is misclassified"):
        plot_misclassified(images, y_true, y_true)
    with pytest.raises(ValueError):
        plot_misclassified(images, y_true[:5], y_pred)


@pytest.mark.slow
def test_import_deepbelief_does_not_import_matplotlib():
    """matplotlib is imported when a figure is drawn, not with the package or this module."""
    import subprocess
    import sys

    subprocess.run([sys.executable, "-c",
                    "import deepbelief, sys; assert 'matplotlib' not in sys.modules"], check=True)
    subprocess.run([sys.executable, "-c",
                    "import sys, deepbelief, deepbelief.plot, deepbelief.cli; "
                    "from deepbelief import plot; from deepbelief.plot import tile_images; "
                    "assert plot is deepbelief.plot and plot.tile_images is tile_images; "
                    "assert 'matplotlib' not in sys.modules; "
                    "tile_images([[0.0, 1.0, 0.5, 0.2]]); "
                    "assert 'matplotlib' in sys.modules"], check=True)
