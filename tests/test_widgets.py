"""Tests for ``ebm_helpers.widgets``: the pure figure functions and the ipywidgets layer, without
a browser (the browser tests live in tests/browser/)."""

from __future__ import annotations

import itertools
import math

import ipywidgets as ipw
import numpy as np
import pytest
import torch

from ebm_helpers import energies as en
from ebm_helpers import plotting, widgets
from ebm_helpers.plotting import figure_to_png, new_axes
from ebm_helpers.widgets.base import figure_content


def _density_axes(fig):
    return fig.axes[1]  # [energy axes, density axes, colour bars...]


def _density_data(fig):
    """The plotted density: the solid T line (1D) or the image array (2D)."""
    ax = _density_axes(fig)
    if ax.images:
        return np.asarray(ax.images[0].get_array(), dtype=float)
    (line,) = [ln for ln in ax.get_lines() if ln.get_linestyle() == "-"]
    return np.asarray(line.get_ydata(), dtype=float)


@pytest.mark.parametrize("landscape", ["tilted double well", "two moons"])
def test_temperature_figure_is_pure_and_depends_on_t(landscape):
    a = _density_data(widgets.temperature_figure(landscape, 0.5))
    b = _density_data(widgets.temperature_figure(landscape, 2.0))
    again = _density_data(widgets.temperature_figure(landscape, 0.5))
    assert a.shape == b.shape
    assert np.array_equal(a, again)
    assert not np.allclose(a, b)
    assert a.max() > b.max()  # colder = sharper peaks


def test_temperature_figure_png_differs_between_temperatures():
    cold = figure_to_png(widgets.temperature_figure("tilted double well", 0.5), dpi=40)
    hot = figure_to_png(widgets.temperature_figure("tilted double well", 2.0), dpi=40)
    cold2 = figure_to_png(widgets.temperature_figure("tilted double well", 0.5), dpi=40)
    assert cold.startswith(b"\x89PNG") and cold != hot
    assert cold == cold2


def test_temperature_figure_contents_1d():
    fig = widgets.temperature_figure("tilted double well", 0.5)
    ax_e, ax_p = fig.axes[:2]
    assert ax_e.get_xlabel() == "x" and "energy" in ax_e.get_ylabel()
    assert "T = 0.5" in ax_p.get_title()
    labels = [ln.get_label() for ln in ax_p.get_lines()]
    assert labels == ["T = 1", "T = 0.5"]  # dashed T = 1 reference, then the chosen T
    (e_line,) = ax_e.get_lines()
    x = torch.as_tensor(e_line.get_xdata()).reshape(-1, 1)
    assert np.allclose(e_line.get_ydata(), en.DoubleWell1D(tilt=0.5).energy(x).numpy())
    fig1 = widgets.temperature_figure("tilted double well", 1.0)
    assert [ln.get_label() for ln in fig1.axes[1].get_lines()] == ["T = 1"]


def _tilted_grid():
    dw = en.DoubleWell1D(tilt=0.5)
    (lo, hi), = dw.bounds
    x = torch.linspace(lo, hi, 801, dtype=torch.float64).reshape(-1, 1)
    return x[:, 0].numpy(), dw.energy(x).numpy(), (hi - lo) / 800


def test_low_temperature_concentrates_in_the_deeper_well():
    """Tilt > 0 makes the left well deeper by ≈ 2·tilt = 1: at T = 0.1 the right well has
    relative weight ≈ e^(-10), so > 95 % of the mass is at x < 0; at T = 5 both wells share it."""
    x, e, cell = _tilted_grid()
    p, _, _ = widgets.boltzmann_on_grid(e, 0.1, cell)
    assert (p[x < 0].sum() * cell) > 0.95
    p, _, _ = widgets.boltzmann_on_grid(e, 5.0, cell)
    assert 0.3 < p[x < 0].sum() * cell < 0.7
    # the figure shows the same density
    shown = _density_data(widgets.temperature_figure("tilted double well", 0.1))
    assert np.allclose(shown, widgets.boltzmann_on_grid(e, 0.1, cell)[0])


def test_entropy_increases_with_temperature():
    """dS/dT = C/T > 0 for every Boltzmann family; on the grid too."""
    _, e, cell = _tilted_grid()
    entropies = [widgets.boltzmann_on_grid(e, t, cell)[2] for t in (0.2, 0.5, 1, 2, 5)]
    assert all(b > a for a, b in itertools.pairwise(entropies))


@pytest.mark.parametrize("t", [0.1, 1.0, 7.0])
def test_boltzmann_on_grid_normalises(t):
    _, e, cell = _tilted_grid()
    p, log_z, entropy = widgets.boltzmann_on_grid(e, t, cell)
    assert p.shape == e.shape
    assert p.sum() * cell == pytest.approx(1.0, rel=1e-12)
    # the definitions: p = exp(-E/T)/Z, S = -Σ p ln p · cell
    assert np.allclose(np.log(p), -e / t - log_z, atol=1e-9)
    assert entropy == pytest.approx(-(p * np.log(p)).sum() * cell, rel=1e-12)
    grid2 = np.array([[0.0, 1.0], [2.0, 3.0]])  # any shape
    p2, _, _ = widgets.boltzmann_on_grid(grid2, t, 0.25)
    assert p2.shape == (2, 2) and p2.sum() * 0.25 == pytest.approx(1.0)


@pytest.mark.parametrize("t", [0.5, 1.0, 2.0])
def test_boltzmann_on_grid_log_z_matches_quadrature(t):
    """The grid sum Σ exp(-E/T)·cell over 801 points on [-2.5, 2.5] is a Riemann sum of a
    smooth integrand that is ≤ e^(-40) at the ends; it matches quad's ln Z to ~1e-9."""
    _, e, cell = _tilted_grid()
    _, log_z, _ = widgets.boltzmann_on_grid(e, t, cell)
    exact = en.boltzmann_stats_1d(en.DoubleWell1D(tilt=0.5).raw_energy, t).log_z
    assert log_z == pytest.approx(exact, abs=1e-7)


def test_boltzmann_on_grid_bad_temperature():
    for t in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="temperature"):
            widgets.boltzmann_on_grid(np.zeros(3), t, 1.0)


@pytest.mark.parametrize("landscape", widgets.TEMPERATURE_LANDSCAPES)
def test_every_landscape_renders(landscape):
    fig = widgets.temperature_figure(landscape, 1.5)
    data = _density_data(fig)
    assert np.isfinite(data).all() and data.max() > 0
    assert fig.axes[1].get_title().startswith("T = 1.5")
    assert figure_to_png(fig, dpi=30).startswith(b"\x89PNG")


def test_temperature_figure_bad_input():
    with pytest.raises(ValueError, match="landscape"):
        widgets.temperature_figure("banana", 1.0)
    for t in (0.0, -2.0, math.nan):
        with pytest.raises(ValueError, match="temperature"):
            widgets.temperature_figure("double well", t)


def test_temperature_panels():
    fig = widgets.temperature_panels("double well", (0.25, 1.0, 4.0))
    assert len(fig.axes) == 3
    assert [ax.get_title().split(":")[0] for ax in fig.axes] == ["T = 0.25", "T = 1", "T = 4"]
    with pytest.raises(ValueError):
        widgets.temperature_panels("double well", ())
    with pytest.raises(ValueError):
        widgets.temperature_panels("double well", (1.0, -1.0))


# --------------------------------------------------------------------------------------------
# ipywidgets layer
# --------------------------------------------------------------------------------------------


@pytest.fixture
def explorer_box():
    return widgets.temperature_explorer("tilted double well", 1.0)


def _slider(box):
    return box.controls["temperature"]


def test_temperature_explorer_structure(explorer_box):
    box = explorer_box
    assert isinstance(box, ipw.VBox)
    assert {"ebm-explorer", "ebm-temperature-explorer"} <= set(box._dom_classes)
    slider, dropdown = _slider(box), box.controls["landscape"]
    assert isinstance(slider, ipw.FloatLogSlider)
    assert "ebm-temperature-slider" in slider._dom_classes
    assert "ebm-landscape-dropdown" in dropdown._dom_classes
    assert "ebm-explorer-image" in box.image._dom_classes
    assert slider.value == pytest.approx(1.0)
    assert list(dropdown.options) == list(widgets.TEMPERATURE_LANDSCAPES)
    assert bytes(box.image.value).startswith(b"\x89PNG")  # drawn immediately


def test_slider_and_dropdown_redraw_the_image(explorer_box):
    box = explorer_box
    first = bytes(box.image.value)
    _slider(box).value = 2.0
    second = bytes(box.image.value)
    assert second != first and second.startswith(b"\x89PNG")
    # the live figure shows exactly what the pure function draws (artist by artist; the live
    # image keeps its first layout, so its pixels may differ)
    expected = widgets.temperature_figure("tilted double well", 2.0)
    assert figure_content(box.figure) == figure_content(expected)
    box.controls["landscape"].value = "rings"
    third = bytes(box.image.value)
    assert third != second and third.startswith(b"\x89PNG")


def test_explorer_shows_value_error_in_status():
    def figure_fn(a):
        if a < 0:
            raise ValueError("a must be non-negative")
        fig, ax = new_axes()
        ax.plot([0, 1], [0, a])
        return fig

    control = ipw.FloatSlider(value=1.0, min=-5, max=5)
    box = widgets.explorer(figure_fn, {"a": control}, css_class="ebm-test")
    status = box.children[1]
    assert isinstance(status, ipw.HTML) and status.value == ""
    good = bytes(box.image.value)
    control.value = -1.0  # must not raise
    assert "a must be non-negative" in status.value
    assert bytes(box.image.value) == good  # the last good image stays
    control.value = 2.0
    assert status.value == "" and bytes(box.image.value) != good
    assert "ebm-test" in box._dom_classes and "ebm-explorer" in box._dom_classes
    box.refresh()  # on demand
    assert status.value == ""


# --- Gibbs chain viewer (notebook 03) ------------------------------------------------------


def _chain(steps=6, chains=5, side=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    trace = torch.rand(steps + 1, chains, side * side, generator=g)
    fe = torch.randn(steps + 1, chains, generator=g)
    return trace, fe


def test_gibbs_chain_figure_shows_the_requested_step():
    """The tiled image is exactly the trace at that step (pure function of its inputs)."""
    trace, fe = _chain()
    for step in (0, 4):
        fig = widgets.gibbs_chain_figure(trace, step, (3, 3), free_energy=fe, n_show=4)
        shown = fig.axes[0].images[0].get_array().filled(np.nan)
        expected = plotting.image_grid(trace[step, :4], (3, 3), ncols=2)
        np.testing.assert_array_equal(np.isnan(shown), np.isnan(expected))
        np.testing.assert_allclose(shown[~np.isnan(shown)], expected[~np.isnan(expected)])
        marker = next(ln for ln in fig.axes[1].lines if ln.get_linestyle() == "--")
        assert marker.get_xdata()[0] == step
        assert fig.axes[0].get_title().startswith("4 chains after")


def test_gibbs_chain_figure_rejects_bad_input():
    trace, _ = _chain()
    with pytest.raises(ValueError, match="between 0 and 6"):
        widgets.gibbs_chain_figure(trace, 7, (3, 3))
    with pytest.raises(ValueError, match="shape"):
        widgets.gibbs_chain_figure(trace, 0, (2, 2))


def test_gibbs_chain_explorer_redraws_on_slider_move():
    trace, fe = _chain()
    box = widgets.gibbs_chain_explorer(trace, (3, 3), free_energy=fe)
    assert "ebm-gibbs-explorer" in box._dom_classes
    slider = box.controls["step"]
    assert "ebm-gibbs-step-slider" in slider._dom_classes and slider.max == 6
    before = box.image.value
    slider.value = 5
    assert box.image.value != before


def test_panel_grid_gives_one_visible_axes_per_panel_two_per_row():
    from ebm_helpers.widgets.base import panel_grid

    for n, rows in [(1, 1), (2, 1), (3, 2), (4, 2)]:
        fig, axes = panel_grid(n, size=(2.0, 2.0))
        assert len(axes) == n and all(ax.get_visible() for ax in axes)
        hidden = [ax for ax in fig.axes if not ax.get_visible()]
        assert len(fig.axes) == rows * min(2, n) and len(hidden) == rows * min(2, n) - n
