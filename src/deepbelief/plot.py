"""Figures for RBMs: image grids (data, samples, filters) and training curves.

Every function builds its figure on an Agg canvas without going through
``pyplot``: nothing is shown, no global figure state is kept, and the returned
:class:`matplotlib.figure.Figure` can be saved, embedded or displayed inline.
matplotlib is imported when the first figure is drawn, not with this module (nor
with ``import deepbelief``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

from ._validation import as_labels, check_positive

if TYPE_CHECKING:  # matplotlib itself is imported where a figure is drawn
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_chains", "plot_class_samples", "plot_history", "plot_misclassified",
           "plot_paper_figures", "tile_images"]

_NORMALIZE = ("each", "all", None)
_PAD = 1
_PAD_COLOR = "white"
_MAX_INCHES = 10.0
_MAX_INCHES_PER_PIXEL = 0.15
_DPI = 100


def tile_images(
    images,
    shape: tuple[int, int] | None = None,
    n_cols: int | None = None,
    path: str | os.PathLike | None = None,
    title: str | None = None,
    cmap="gray",
    normalize: str | None = "each",
    ax: Axes | None = None,
) -> Figure:
    """Lay out a batch of flattened images as a grid.

    Parameters
    ----------
    images : array-like or torch.Tensor of shape (n_images, n_pixels)
        One image per row, e.g. data, model samples or the columns of an RBM
        weight matrix transposed (``W.T``). A 3-D batch ``(n_images, height,
        width)`` or a single 1-D image is accepted too.
    shape : tuple of int (height, width), optional
        Shape of one image. Inferred when ``n_pixels`` is a perfect square
        (8x8 digits, 28x28 MNIST); required otherwise.
    n_cols : int, optional
        Number of grid columns; defaults to ``ceil(sqrt(n_images))``.
    path : str or path-like, optional
        Where to save the figure (format from the extension, PNG by default).
    title : str, optional
        Title above the grid.
    cmap : str or matplotlib.colors.Colormap
        Colormap of the tiles.
    normalize : {"each", "all", None}
        ``"each"`` rescales every tile to its own min/max (suits RBM filters,
        whose weights have arbitrary sign and scale); ``"all"`` rescales all
        tiles with a common min/max; ``None`` shows the values as they are,
        which must lie in [0, 1].
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure is created when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the grid, drawn as one image with a one-pixel gap
        between tiles.

    Raises
    ------
    ValueError
        For an empty batch, non-finite values, a non-square image size without
        ``shape``, a ``shape`` that does not match, or an invalid option.
    """
    tiles = _as_tiles(images, shape)
    tiles = _normalize(tiles, normalize)
    n_cols = _resolve_n_cols(n_cols, len(tiles))
    mosaic = _mosaic(tiles, n_cols)
    fig, ax = _figure_for_image(mosaic.shape, ax, title)
    _show_mosaic(ax, mosaic, cmap)
    ax.set_axis_off()
    _save(fig, path)
    return fig


def plot_history(
    history: Mapping[str, Sequence[float]],
    path: str | os.PathLike | None = None,
    title: str | None = None,
) -> Figure:
    """Plot training curves, one subplot per metric against the epoch.

    Parameters
    ----------
    history : mapping of str to sequence of float
        Metric name to its value after each epoch (epoch 1 first), e.g.
        ``{"reconstruction_error": [...], "pseudo_log_likelihood": [...]}``.
        NaN values are left as gaps.
    path : str or path-like, optional
        Where to save the figure (format from the extension, PNG by default).
    title : str, optional
        Title above all subplots.

    Returns
    -------
    matplotlib.figure.Figure
        Figure with one axes per metric, in the order of ``history``.

    Raises
    ------
    ValueError
        If ``history`` is empty, a series is empty or not 1-D, or a value is
        infinite.
    """
    series = _as_series(history)
    n_cols = min(len(series), 3)
    n_rows = math.ceil(len(series) / n_cols)
    fig = _new_figure((4.0 * n_cols, 3.0 * n_rows))
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    for ax, (name, values) in zip(axes, series.items(), strict=False):
        _plot_curve(ax, name, values)
    for ax in axes[len(series) :]:
        fig.delaxes(ax)
    if title is not None:
        fig.suptitle(title)
    _save(fig, path)
    return fig


def plot_class_samples(
    images,
    labels,
    shape: tuple[int, int] | None = None,
    path: str | os.PathLike | None = None,
    *,
    title: str | None = None,
    cmap="gray",
    normalize: str | None = None,
) -> Figure:
    """Show images grouped by class, one row per class.

    Meant for samples generated per label (e.g. by a deep belief net clamped to
    each digit class); rows are the sorted distinct labels and hold that class's
    images in their original order, shorter rows being left blank at the end.

    Parameters
    ----------
    images : array-like or torch.Tensor of shape (n_images, n_pixels)
        Flattened images (a 3-D batch is accepted, as in :func:`tile_images`).
    labels : array-like of shape (n_images,)
        Class of each image.
    shape : tuple of int (height, width), optional
        Shape of one image; inferred when ``n_pixels`` is a perfect square.
    path : str or path-like, optional
        Where to save the figure (format from the extension, PNG by default).
    title : str, optional
        Title above the grid.
    cmap : str or matplotlib.colors.Colormap
        Colormap of the tiles.
    normalize : {None, "each", "all"}
        As in :func:`tile_images`; the default shows values in [0, 1] as they
        are, so that a faint sample stays faint.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; each row is labelled with its class on the y axis.
    """
    tiles = _normalize(_as_tiles(images, shape), normalize)
    labels = as_labels(labels, len(tiles), name="labels")
    classes, grid = _group_by_class(tiles, labels)
    mosaic = _mosaic(grid, grid.shape[0] // len(classes))
    fig, ax = _figure_for_image(mosaic.shape, None, title)
    _show_mosaic(ax, mosaic, cmap)
    _label_rows(ax, classes, tiles.shape[1])
    _save(fig, path)
    return fig


def plot_misclassified(
    images,
    y_true,
    y_pred,
    shape: tuple[int, int] | None = None,
    path: str | os.PathLike | None = None,
    *,
    n_cols: int | None = None,
    title: str | None = None,
    cmap="gray",
) -> Figure:
    """The images whose prediction is wrong, each marked "true→guess" beneath.

    The paper's figure 6. ``images`` are all the rows that were classified
    (``y_true``, ``y_pred`` their labels and predictions); only the wrong ones
    are drawn, in their original order.
    """
    tiles = _as_tiles(images, shape)
    y_true = as_labels(y_true, len(tiles), name="y_true")
    y_pred = as_labels(y_pred, len(tiles), name="y_pred")
    wrong = np.flatnonzero(y_true != y_pred)
    if len(wrong) == 0:
        raise ValueError("no image is misclassified")
    n_cols = _resolve_n_cols(n_cols, len(wrong))
    tiles = _normalize(tiles[wrong], None)
    height, width = tiles.shape[1:]
    text = max(4, height // 3)
    cells = np.full((len(wrong), height + text, width), np.nan)
    cells[:, :height] = tiles
    mosaic = _mosaic(cells, n_cols)
    fig, ax = _figure_for_image(mosaic.shape, None, title)
    _show_mosaic(ax, mosaic, cmap)
    ax.set_axis_off()
    size = 72 * text * fig.get_size_inches()[1] / mosaic.shape[0] * 0.8
    for i, row in enumerate(wrong):
        r, c = divmod(i, n_cols)
        ax.text(_PAD + c * (width + _PAD) + width / 2,
                _PAD + r * (height + text + _PAD) + height + text / 2,
                f"{y_true[row]}→{y_pred[row]}", ha="center", va="center", fontsize=size)
    _save(fig, path)
    return fig


def plot_chains(model, n_images: int, steps: int, path: str | os.PathLike | None = None, *,
                labels=None, from_noise: bool = False, seed: int = 0) -> Figure:
    """One row per label: a generative DBN's clamped chain, ``steps`` Gibbs steps apart.

    See :meth:`deepbelief.DBN.sample_chain`; ``from_noise`` starts every chain
    from the same random binary image (each pixel on with probability 0.5).
    """
    init = None
    if from_noise:
        noise = np.random.default_rng(seed).random(model.n_features_in_) < 0.5
        init = noise.astype(np.float32)
    chains = model.sample_chain(n_images, steps, labels=labels, init=init, random_state=seed)
    rows = np.repeat(model.classes_ if labels is None else np.asarray(labels).reshape(-1),
                     n_images)
    start = "a random image" if from_noise else "the base rates"
    return plot_class_samples(chains.reshape(len(rows), -1), rows, path=path,
                              title=f"One chain per row from {start}, {steps} Gibbs steps "
                                    "between images")


def plot_paper_figures(model, X, y, out_dir: str | os.PathLike, *, seed: int = 0,
                       prefix: str = "") -> list[str]:
    """The paper's pictures of a generative :class:`~deepbelief.DBN`, as PNG files.

    ``<prefix>samples.png``: one row per label, 1000 top-level Gibbs steps
    between the images of a row (figure 8); ``<prefix>mind.png``: what the net
    has in mind for each label, starting from the same random image, 20 steps
    apart (figure 9); ``<prefix>misclassified.png``: the rows of ``X`` the net
    gets wrong, with its guess (figure 6). Returns the paths.
    """
    out = os.fspath(out_dir)
    os.makedirs(out, exist_ok=True)
    paths = [os.path.join(out, f"{prefix}{name}.png")
             for name in ("samples", "mind", "misclassified")]
    plot_chains(model, 10, 1000, path=paths[0], seed=seed)
    plot_chains(model, 20, 20, path=paths[1], from_noise=True, seed=seed)
    plot_misclassified(X, y, model.predict(X), path=paths[2],
                       title="Misclassified (true→guess)")
    return paths


# ---------------------------------------------------------------------------
# Input handling


def _as_tiles(images, shape) -> np.ndarray:
    """Validate ``images`` and return them as a float array (n, height, width)."""
    if isinstance(images, torch.Tensor):
        images = images.detach().cpu().numpy()
    arr = np.asarray(images, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[np.newaxis]
    if arr.ndim == 3:
        if shape is None:
            shape = arr.shape[1:]
        arr = arr.reshape(len(arr), -1)
    if arr.ndim != 2:
        raise ValueError(f"images must be a 2-D batch (n_images, n_pixels), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"images is empty (shape {arr.shape}); nothing to plot")
    if not np.isfinite(arr).all():
        raise ValueError("images contain NaN or infinity")
    height, width = _image_shape(arr.shape[1], shape)
    return arr.reshape(len(arr), height, width)


def _image_shape(n_pixels: int, shape) -> tuple[int, int]:
    if shape is None:
        side = math.isqrt(n_pixels)
        if side * side != n_pixels:
            raise ValueError(
                f"images have {n_pixels} pixels, not a perfect square; pass shape=(height, width)"
            )
        return side, side
    shape = tuple(shape)
    if len(shape) != 2 or not all(
        isinstance(s, int | np.integer) and not isinstance(s, bool) and s > 0 for s in shape
    ):
        raise ValueError(f"shape must be two positive integers (height, width), got {shape!r}")
    if shape[0] * shape[1] != n_pixels:
        raise ValueError(
            f"shape {shape} holds {shape[0] * shape[1]} pixels, images have {n_pixels}"
        )
    return int(shape[0]), int(shape[1])


def _normalize(tiles: np.ndarray, normalize: str | None) -> np.ndarray:
    """Map tile values to [0, 1]; a constant tile (or batch) becomes 0.5."""
    if normalize not in _NORMALIZE:
        raise ValueError(f"normalize must be 'each', 'all' or None, got {normalize!r}")
    if normalize is None:
        lo, hi = tiles.min(), tiles.max()
        if lo < -1e-6 or hi > 1 + 1e-6:
            raise ValueError(
                f"normalize=None expects values in [0, 1], found [{lo:g}, {hi:g}]; "
                "use normalize='all' or 'each'"
            )
        return np.clip(tiles, 0.0, 1.0)
    axes = (1, 2) if normalize == "each" else None
    lo = tiles.min(axis=axes, keepdims=True)
    span = tiles.max(axis=axes, keepdims=True) - lo
    flat = span == 0
    return np.where(flat, 0.5, (tiles - lo) / np.where(flat, 1.0, span))


def _resolve_n_cols(n_cols, n_images: int) -> int:
    if n_cols is None:
        return math.ceil(math.sqrt(n_images))
    check_positive(n_cols, "n_cols", integer=True)
    return min(int(n_cols), n_images)


def _as_series(history) -> dict[str, np.ndarray]:
    if not isinstance(history, Mapping) or not history:
        raise ValueError("history must be a non-empty mapping of metric name to values")
    series = {}
    for name, values in history.items():
        if isinstance(values, torch.Tensor):
            values = values.detach().cpu().numpy()
        arr = np.asarray(values, dtype=np.float64)
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"history[{name!r}] must be a non-empty 1-D sequence, got {arr.shape}")
        if np.isinf(arr).any():
            raise ValueError(f"history[{name!r}] contains infinite values")
        series[str(name)] = arr
    return series


def _group_by_class(tiles: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Arrange tiles in a (n_classes * n_cols) stack, blank (NaN) tiles padding rows."""
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    n_cols = int(counts.max())
    order = np.argsort(inverse, kind="stable")
    rank = np.arange(len(labels)) - np.repeat(np.cumsum(counts) - counts, counts)
    grid = np.full((len(classes) * n_cols, *tiles.shape[1:]), np.nan)
    grid[inverse[order] * n_cols + rank] = tiles[order]
    return classes, grid


# ---------------------------------------------------------------------------
# Drawing


def _mosaic(tiles: np.ndarray, n_cols: int) -> np.ndarray:
    """One image of tiles in a grid, separated and framed by NaN pixels."""
    n, height, width = tiles.shape
    n_rows = math.ceil(n / n_cols)
    cells = np.full((n_rows * n_cols, height + _PAD, width + _PAD), np.nan)
    cells[:n, _PAD:, _PAD:] = tiles
    rows = cells.reshape(n_rows, n_cols, height + _PAD, width + _PAD).transpose(0, 2, 1, 3)
    mosaic = rows.reshape(n_rows * (height + _PAD), n_cols * (width + _PAD))
    return np.pad(mosaic, ((0, _PAD), (0, _PAD)), constant_values=np.nan)


def _new_figure(figsize: tuple[float, float]) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _figure_for_image(image_shape: tuple[int, int], ax: Axes | None, title: str | None):
    if ax is None:
        height, width = image_shape
        scale = min(_MAX_INCHES / width, _MAX_INCHES / height, _MAX_INCHES_PER_PIXEL)
        extra = 0.4 if title else 0.0
        fig = _new_figure((max(width * scale, 1.0), max(height * scale, 1.0) + extra))
        ax = fig.add_subplot()
    if title is not None:
        ax.set_title(title)
    return ax.figure, ax


def _show_mosaic(ax: Axes, mosaic: np.ndarray, cmap) -> None:
    import matplotlib

    colormap = matplotlib.colormaps[cmap] if isinstance(cmap, str) else cmap
    ax.imshow(
        np.ma.masked_invalid(mosaic),
        cmap=colormap.with_extremes(bad=_PAD_COLOR),
        vmin=0.0,
        vmax=1.0,
        interpolation="nearest",
    )


def _label_rows(ax: Axes, classes: np.ndarray, tile_height: int) -> None:
    centers = _PAD + np.arange(len(classes)) * (tile_height + _PAD) + (tile_height - 1) / 2
    ax.set_yticks(centers, labels=[str(c) for c in classes])
    ax.set_xticks([])
    ax.tick_params(left=False)
    for spine in ax.spines.values():
        spine.set_visible(False)


def _plot_curve(ax: Axes, name: str, values: np.ndarray) -> None:
    from matplotlib.ticker import MaxNLocator

    epochs = np.arange(1, len(values) + 1)
    ax.plot(epochs, values, marker="o" if len(values) <= 30 else None, markersize=3)
    ax.set_title(name)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if len(values) == 1:
        ax.set_xticks([1])
    ax.grid(alpha=0.3)


def _save(fig: Figure, path) -> None:
    if path is not None:
        fig.savefig(path, dpi=_DPI)
