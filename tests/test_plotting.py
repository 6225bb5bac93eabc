"""Tests for ``ebm_helpers.plotting``: grids, figure contents, PNG export and the style."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from ebm_helpers import plotting


def test_grid_2d_shape_and_order():
    """Points are row-major with x varying fastest, so values.reshape(n, n)[i, j] is the value
    at (xs[j], ys[i]): rows indexed by y."""
    xs, ys, pts = plotting.grid_2d(((-1.0, 3.0), (0.0, 2.0)), n=5)
    assert xs.shape == (5,) and ys.shape == (5,) and pts.shape == (25, 2)
    assert torch.allclose(xs, torch.linspace(-1, 3, 5, dtype=torch.float64))
    assert torch.allclose(ys, torch.linspace(0, 2, 5, dtype=torch.float64))
    values = (10 * pts[:, 0] + pts[:, 1]).reshape(5, 5)  # f(x, y) = 10x + y
    for i in range(5):
        for j in range(5):
            assert values[i, j] == pytest.approx(10 * xs[j].item() + ys[i].item())
    assert pts[0].tolist() == [-1.0, 0.0] and pts[1].tolist() == [0.0, 0.0]
    assert pts[5].tolist() == [-1.0, 0.5]


@pytest.mark.parametrize(
    "bounds, n",
    [(((1.0, 0.0), (0.0, 1.0)), 10), (((0.0, 1.0), (2.0, 2.0)), 10), (((0.0, 1.0), (0.0, 1.0)), 1)],
)
def test_grid_2d_bad_input(bounds, n):
    with pytest.raises(ValueError):
        plotting.grid_2d(bounds, n)


def _quadratic(x):
    return (x**2).sum(1)


@pytest.mark.parametrize("kind", ["heatmap", "contour"])
def test_plot_field_2d_draws_with_colorbar_and_labels(kind):
    ax = plotting.plot_field_2d(_quadratic, ((-2.0, 2.0), (-1.0, 1.0)), n=30, kind=kind,
                                title="bowl")
    fig = ax.figure
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2  # the plot and its colour bar
    assert ax.get_xlabel() == "$x_1$" and ax.get_ylabel() == "$x_2$"
    assert ax.get_title() == "bowl"
    assert ax.get_xlim() == (-2.0, 2.0) and ax.get_ylim() == (-1.0, 1.0)
    cbar_ax = fig.axes[1]
    assert cbar_ax.get_ylabel() == "energy E(x)"
    if kind == "heatmap":
        (im,) = ax.images
        arr = np.asarray(im.get_array())
        assert arr.shape == (30, 30)
        _, _, pts = plotting.grid_2d(((-2.0, 2.0), (-1.0, 1.0)), 30)
        assert np.allclose(arr, _quadratic(pts).numpy().reshape(30, 30))
        assert im.get_cmap().name == plotting.ENERGY_CMAP
    else:
        assert not ax.images and ax.collections  # filled contours, no image


def test_plot_field_2d_from_values_and_clipping():
    values = np.arange(16.0).reshape(4, 4)
    ax = plotting.plot_field_2d(values, ((0.0, 1.0), (0.0, 1.0)), colorbar_label="density",
                                clip_quantile=0.5)
    arr = np.asarray(ax.images[0].get_array())
    assert arr.max() == pytest.approx(np.quantile(values, 0.5))
    assert ax.images[0].get_cmap().name == plotting.DENSITY_CMAP
    with pytest.raises(ValueError, match="2D"):
        plotting.plot_field_2d(np.zeros(5), ((0.0, 1.0), (0.0, 1.0)))


def test_plot_field_2d_bad_kind():
    with pytest.raises(ValueError, match="kind"):
        plotting.plot_field_2d(_quadratic, ((0.0, 1.0), (0.0, 1.0)), kind="surface")


def test_plot_field_2d_into_given_axes():
    fig, axes = plotting.new_axes(ncols=2)
    ax = plotting.plot_field_2d(_quadratic, ((0.0, 1.0), (0.0, 1.0)), ax=axes[1], n=10)
    assert ax is axes[1]
    assert len(fig.axes) == 3


def test_plot_samples():
    pts = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    ax = plotting.plot_samples(pts, bounds=((-3.0, 3.0), (-2.0, 2.0)), label="x", title="s")
    (coll,) = ax.collections
    assert np.allclose(coll.get_offsets(), pts.numpy())
    assert ax.get_xlim() == (-3.0, 3.0) and ax.get_ylim() == (-2.0, 2.0)
    assert ax.get_xlabel() == "$x_1$" and ax.get_title() == "s"


@pytest.mark.parametrize("shape", [(10,), (10, 3), (10, 1), (2, 5, 2)])
def test_plot_samples_bad_shape(shape):
    with pytest.raises(ValueError, match="shape"):
        plotting.plot_samples(np.zeros(shape))


def test_plot_energy_and_density_1d():
    x = torch.linspace(-2, 2, 50)
    ax = plotting.plot_energy_1d(x, x**2, label="E")
    (line,) = ax.get_lines()
    assert np.allclose(line.get_ydata(), (x**2).numpy())
    assert ax.get_xlabel() == "x" and "energy" in ax.get_ylabel()
    ax = plotting.plot_density_1d(x, torch.exp(-(x**2)), ax=ax)
    assert len(ax.get_lines()) == 2 and "density" in ax.get_ylabel()


def test_new_axes_shapes():
    fig, ax = plotting.new_axes()
    assert len(fig.axes) == 1 and ax is fig.axes[0]
    fig, axes = plotting.new_axes(ncols=3, nrows=2, size=(2.0, 1.5))
    assert axes.shape == (2, 3)
    assert tuple(fig.get_size_inches()) == pytest.approx((6.0, 3.0))


def test_figure_to_png():
    ax = plotting.plot_energy_1d(np.arange(5.0), np.arange(5.0) ** 2)
    png = plotting.figure_to_png(ax.figure)
    assert isinstance(png, bytes) and png.startswith(b"\x89PNG\r\n\x1a\n")
    small = plotting.figure_to_png(ax.figure, dpi=30)
    assert small.startswith(b"\x89PNG") and len(small) < len(png)


def test_apply_style_changes_rcparams_and_is_restorable():
    saved = mpl.rcParams.copy()
    try:
        with mpl.rc_context():
            mpl.rcParams["lines.linewidth"] = 0.5
            mpl.rcParams["axes.grid"] = False
            plotting.apply_style()
            assert mpl.rcParams["lines.linewidth"] == plotting.STYLE["lines.linewidth"] == 2.0
            assert mpl.rcParams["axes.grid"] is True
            assert mpl.rcParams["axes.spines.top"] is False
            assert mpl.rcParams["image.cmap"] == "viridis"
        assert mpl.rcParams["lines.linewidth"] == saved["lines.linewidth"]
    finally:
        mpl.rcParams.update(saved)


def test_plotting_does_not_use_pyplot_figures():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    plotting.plot_field_2d(_quadratic, ((0.0, 1.0), (0.0, 1.0)), n=10)
    plotting.plot_samples(np.zeros((3, 2)))
    assert plt.get_fignums() == before


def test_image_grid_tiles_images_with_nan_gaps():
    imgs = torch.arange(5 * 6, dtype=torch.float32).reshape(5, 6)  # five 2×3 images
    grid = plotting.image_grid(imgs, (2, 3), ncols=2)
    assert grid.shape == (3 * 3 - 1, 2 * 4 - 1)
    np.testing.assert_array_equal(grid[0:2, 0:3], imgs[0].reshape(2, 3).numpy())
    np.testing.assert_array_equal(grid[3:5, 4:7], imgs[3].reshape(2, 3).numpy())
    np.testing.assert_array_equal(grid[6:8, 0:3], imgs[4].reshape(2, 3).numpy())
    assert np.isnan(grid[2]).all() and np.isnan(grid[:, 3]).all()  # the gaps
    assert np.isnan(grid[6:8, 4:7]).all()  # the empty last cell
    with pytest.raises(ValueError, match="shape"):
        plotting.image_grid(imgs, (3, 3), ncols=2)


def test_show_image_grid_draws_gaps_in_grey_and_follows_the_colour_convention():
    fig = Figure()
    ax = fig.subplots()
    imgs = torch.zeros(4, 6)  # all-white tiles: only the gaps tell them apart
    im = plotting.show_image_grid(ax, imgs, (2, 3), ncols=2, title="t")
    assert im.get_cmap().name.startswith(plotting.IMAGE_CMAP)
    assert np.allclose(im.get_cmap().get_bad()[:3], mpl.colors.to_rgb(plotting.GAP_COLOR))
    assert im.get_clim() == (0.0, 1.0)
    signed = plotting.show_image_grid(ax, torch.tensor([[-2.0, 1.0]]), (1, 2), 1, signed=True)
    assert signed.get_clim() == (-2.0, 2.0)
    assert signed.get_cmap().name.startswith(plotting.SIGNED_CMAP)
