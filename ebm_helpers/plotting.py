"""One figure style for the whole collection, and the plots every notebook draws.

Holds the style (``STYLE``, ``apply_style``), grids for evaluating 2D functions (``grid_2d``),
energy landscapes (``plot_energy_1d``, ``plot_density_1d``, ``plot_field_2d``) and sample scatter
plots (``plot_samples``), and PNG export for widgets (``figure_to_png``). Used by every notebook
and by ``ebm_helpers.widgets``.

All functions draw into an ``Axes`` you pass (or a new ``matplotlib.figure.Figure`` when you
don't), so they never touch pyplot's global current figure; importing this module changes no
global state: call ``apply_style()`` once in a notebook's setup cell.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import matplotlib as mpl
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._validation import ArgumentTypeError, check_memory, count, in_range

__all__ = [
    "GAP_COLOR",
    "IMAGE_CMAP",
    "SIGNED_CMAP",
    "STYLE",
    "apply_style",
    "figure_to_png",
    "grid_2d",
    "image_grid",
    "new_axes",
    "plot_density_1d",
    "plot_energy_1d",
    "plot_field_2d",
    "plot_samples",
]

#: The collection's figure style: readable when projected in a lecture hall.
STYLE: dict = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "figure.constrained_layout.use": True,  # colour bars and labels never overlap
    "savefig.dpi": 100,
    "savefig.bbox": "tight",
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "lines.linewidth": 2.0,
    "image.cmap": "viridis",
    "axes.prop_cycle": mpl.cycler(
        color=["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"]
    ),
}

#: Colour map for energies (low energy = dark) and for densities.
ENERGY_CMAP = "magma"
DENSITY_CMAP = "viridis"


def apply_style() -> None:
    """Set the collection's matplotlib style (call once, in a notebook's setup cell)."""
    mpl.rcParams.update(STYLE)


def new_axes(ncols: int = 1, nrows: int = 1, size: tuple[float, float] = (4.2, 3.6)):
    """A new ``Figure`` (not registered with pyplot) and its axes array, squeezed.

    Using ``Figure`` directly means widget callbacks can make many figures without leaking
    memory in pyplot's registry.
    """
    ncols, nrows = count(ncols, "ncols"), count(nrows, "nrows")
    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, (axes[0, 0] if axes.size == 1 else axes.squeeze())


def figure_to_png(fig: Figure, dpi: int | None = None) -> bytes:
    """Render a figure to PNG bytes (for ``ipywidgets.Image`` and for tests)."""
    if not isinstance(fig, Figure):
        raise ArgumentTypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi or mpl.rcParams["savefig.dpi"])
    return buf.getvalue()


def grid_2d(bounds, n: int = 200):
    """A regular grid over a box, for evaluating 2D energies and densities.

    Args:
        bounds: ``((xmin, xmax), (ymin, ymax))``.
        n: points per axis.

    Returns:
        ``(xs, ys, points)``: 1D tensors of shape (n,), and the grid points as a (n*n, 2)
        tensor in row-major order, so ``values.reshape(n, n)`` has rows indexed by y.
    """
    x0, x1, y0, y1 = _box(bounds)
    n = count(n, "n", minimum=2)
    check_memory(4 * n * n, "n (the points per axis)", f"a {n}×{n} grid")
    xs = torch.linspace(x0, x1, n, dtype=torch.float64)
    ys = torch.linspace(y0, y1, n, dtype=torch.float64)
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")
    return xs, ys, torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)


def _box(bounds) -> tuple[float, float, float, float]:
    try:
        (x0, x1), (y0, y1) = bounds
        x0, x1, y0, y1 = (float(v) for v in (x0, x1, y0, y1))
    except (TypeError, ValueError) as err:
        raise ValueError(f"bounds must be ((xmin, xmax), (ymin, ymax)), got {bounds!r}") from err
    if not (np.isfinite([x0, x1, y0, y1]).all() and x1 > x0 and y1 > y0):
        raise ValueError(f"bounds must be ((xmin, xmax), (ymin, ymax)), min < max; got {bounds}")
    return x0, x1, y0, y1


def image_grid(images, image_shape: tuple[int, int], ncols: int) -> np.ndarray:
    """Tile images into one array for ``imshow``, with 1-pixel NaN gaps (drawn blank).

    Args:
        images: (n, height*width) flattened images.
        image_shape: (height, width).
        ncols: images per row.

    Returns:
        Array of shape (rows*(height+1) - 1, ncols*(width+1) - 1).
    """
    imgs = _np(images)
    try:
        h, w = image_shape
    except (TypeError, ValueError) as err:
        raise ValueError(f"image_shape must be (height, width), got {image_shape!r}") from err
    h, w = count(h, "image_shape height"), count(w, "image_shape width")
    ncols = count(ncols, "ncols")
    if imgs.ndim != 2 or imgs.shape[1] != h * w:
        raise ValueError(f"images must have shape (n, {h * w}), got {imgs.shape}")
    n = imgs.shape[0]
    rows = max(1, -(-n // ncols))
    grid = np.full((rows * (h + 1) - 1, ncols * (w + 1) - 1), np.nan)
    for k in range(n):
        r, c = divmod(k, ncols)
        grid[r * (h + 1): r * (h + 1) + h, c * (w + 1): c * (w + 1) + w] = imgs[k].reshape(h, w)
    return grid


#: The collection's colour-map convention: images and pixel probabilities dark ink on white,
#: signed quantities (weights, filters) diverging around 0, blue negative and red positive.
IMAGE_CMAP, SIGNED_CMAP, GAP_COLOR = "gray_r", "RdBu_r", "0.7"


def show_image_grid(
    ax: Axes,
    images,
    image_shape: tuple[int, int],
    ncols: int,
    signed: bool = False,
    title: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
):
    """Draw ``image_grid(images, image_shape, ncols)`` on ``ax`` with visible gaps.

    The 1-pixel gaps between tiles are drawn in a mid grey (``GAP_COLOR``), so that tiles with
    white backgrounds do not merge. ``signed=False`` uses ``IMAGE_CMAP`` on [0, 1] (pixels,
    probabilities); ``signed=True`` uses ``SIGNED_CMAP`` symmetric around 0 (weights).

    Returns:
        The ``AxesImage`` (for a colour bar).
    """
    grid = image_grid(images, image_shape, ncols)
    cmap = mpl.colormaps[SIGNED_CMAP if signed else IMAGE_CMAP].with_extremes(bad=GAP_COLOR)
    if signed:
        lim = float(np.nanmax(np.abs(grid))) if np.isfinite(grid).any() else 1.0
        vmin, vmax = (-lim if vmin is None else vmin), (lim if vmax is None else vmax)
    else:
        vmin, vmax = (0.0 if vmin is None else vmin), (1.0 if vmax is None else vmax)
    im = ax.imshow(grid, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    if title is not None:
        ax.set_title(title, fontsize=10)
    return im


def _np(a) -> np.ndarray:
    return a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)


def _curve(x, y, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Check that x and y hold one value (or one row) per point, as matplotlib's ``plot``
    needs, so that a mismatch is reported here rather than deep inside matplotlib."""
    xs, ys = np.asarray(_np(x)), np.asarray(_np(y))
    if xs.ndim not in (1, 2) or ys.ndim not in (1, 2) or xs.shape[0] != ys.shape[0]:
        raise ValueError(f"x and {name} must have one value per point (the same length), got "
                         f"shapes {xs.shape} and {ys.shape}")
    return xs, ys


def plot_energy_1d(x, energy, ax: Axes | None = None, label: str | None = None, **kw) -> Axes:
    """Plot an energy curve E(x) with labelled axes."""
    x, energy = _curve(x, energy, "energy")
    if ax is None:
        _, ax = new_axes()
    ax.plot(x, energy, label=label, **kw)
    ax.set_xlabel("x")
    ax.set_ylabel("energy E(x)")
    return ax


def plot_density_1d(x, density, ax: Axes | None = None, label: str | None = None, **kw) -> Axes:
    """Plot a probability density p(x) with labelled axes."""
    x, density = _curve(x, density, "density")
    if ax is None:
        _, ax = new_axes()
    ax.plot(x, density, label=label, **kw)
    ax.set_xlabel("x")
    ax.set_ylabel("density p(x)")
    return ax


def plot_field_2d(
    fn_or_values: Callable | torch.Tensor | np.ndarray,
    bounds,
    ax: Axes | None = None,
    n: int = 150,
    kind: str = "heatmap",
    cmap: str | None = None,
    colorbar_label: str = "energy E(x)",
    title: str | None = None,
    levels: int = 15,
    clip_quantile: float | None = None,
) -> Axes:
    """Draw a scalar field over a 2D box as a heat map or filled contours, with a colour bar.

    Args:
        fn_or_values: a function mapping (batch, 2) points to (batch,) values (evaluated on
            ``grid_2d(bounds, n)``), or an (n, n) array already on that grid.
        bounds: ``((xmin, xmax), (ymin, ymax))``.
        kind: ``"heatmap"`` or ``"contour"``.
        clip_quantile: clip values above this quantile (energies of far-away points can dwarf
            the interesting range); ``None`` to keep all.
    """
    if kind not in {"heatmap", "contour"}:
        raise ValueError(f"kind must be 'heatmap' or 'contour', got {kind!r}")
    if clip_quantile is not None:
        clip_quantile = in_range(clip_quantile, "clip_quantile", 0.0, 1.0)
    x0, x1, y0, y1 = _box(bounds)
    if ax is None:
        _, ax = new_axes()
    if callable(fn_or_values):
        _, _, pts = grid_2d(bounds, n)
        with torch.no_grad():
            values = _np(fn_or_values(pts))
        if values.size != n * n:
            raise ValueError(f"the function must map the ({n * n}, 2) grid points to {n * n} "
                             f"values, one per point, got shape {values.shape}")
        values = values.reshape(n, n)
    else:
        values = _np(fn_or_values)
        if values.ndim != 2:
            raise ValueError(f"values must be a 2D (n, n) grid, got shape {values.shape}")
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    if clip_quantile is not None and finite.any():
        values = np.minimum(values, np.quantile(values[finite], clip_quantile))
    cmap = cmap or (ENERGY_CMAP if "energy" in colorbar_label.lower() else DENSITY_CMAP)
    if kind == "heatmap":
        im = ax.imshow(values, origin="lower", extent=(x0, x1, y0, y1), cmap=cmap, aspect="auto")
    else:
        ny, nx = values.shape
        im = ax.contourf(
            np.linspace(x0, x1, nx), np.linspace(y0, y1, ny), values, levels=levels, cmap=cmap
        )
    ax.figure.colorbar(im, ax=ax, label=colorbar_label)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.grid(False)
    if title:
        ax.set_title(title)
    return ax


def plot_samples(
    samples, ax: Axes | None = None, bounds=None, label: str | None = None, s: float = 3,
    alpha: float = 0.5, title: str | None = None, **kw,
) -> Axes:
    """Scatter plot of 2D samples, shape (n, 2)."""
    x = _np(samples)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"samples must have shape (n, 2), got {x.shape}")
    if ax is None:
        _, ax = new_axes()
    ax.scatter(x[:, 0], x[:, 1], s=s, alpha=alpha, label=label, **kw)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_aspect("equal", adjustable="box")
    if bounds is not None:
        ax.set_xlim(*bounds[0])
        ax.set_ylim(*bounds[1])
    if title:
        ax.set_title(title)
    return ax
