"""Tests for the free-energy explorer of ``ebm_helpers.widgets`` (notebook 12), without a
browser: the pure figure function against ``energy_learning.free_energy`` on the exact ellipse,
a trained latent EBM as input, the static panels and the ipywidgets layer."""

from __future__ import annotations

import math
import time

import ipywidgets as ipw
import numpy as np
import pytest
import torch

from ebm_helpers import energy_learning as el
from ebm_helpers import widgets
from ebm_helpers.plotting import grid_2d


def _exact(points):
    z = torch.arange(64, dtype=torch.float64) * (2 * math.pi / 64)
    return el.ellipse_energy(points, z)


@pytest.mark.parametrize("beta", [0.05, 2.0, None])
def test_heat_map_is_the_free_energy_of_the_ellipse(beta):
    fig = widgets.free_energy_figure(beta, n_grid=30)
    ax_f, ax_s = fig.axes[:2]
    _, _, pts = grid_2d(widgets.FREE_ENERGY_BOUNDS, 30)
    expected = el.free_energy(_exact(pts), beta).reshape(30, 30).numpy()
    np.testing.assert_allclose(np.asarray(ax_f.images[0].get_array()), expected, rtol=1e-10)
    assert ax_f.get_xlabel() == "$y_1$" and ax_f.get_ylabel() == "$y_2$"
    assert ("infty" in ax_f.get_title()) if beta is None else (f"{beta:.3g}" in ax_f.get_title())
    # the slice: F∞ (dashed), the mean energy (dotted) and F_β, which lies between them
    f_inf, mean, f_beta = (line.get_ydata() for line in ax_s.get_lines())
    assert ax_s.get_lines()[0].get_linestyle() == "--"
    assert np.all(f_beta >= f_inf - 1e-9) and np.all(f_beta <= mean + 1e-9)
    assert len(fig.axes) == 3  # one colour bar


def test_low_beta_moves_the_minimum_to_the_centre_high_beta_onto_the_ellipse():
    def star(beta):
        ax = widgets.free_energy_figure(beta, n_grid=41).axes[0]
        marker = next(line for line in ax.get_lines() if line.get_marker() == "*")
        return float(marker.get_xdata()[0]), float(marker.get_ydata()[0])

    x, y = star(0.01)
    assert abs(x) < 0.2 and abs(y) < 0.2  # the mean energy is lowest at the centre: no data
    x, y = star(20.0)
    assert abs((x / 2) ** 2 + y**2 - 1) < 0.3  # F_β is lowest on the ellipse


def test_a_trained_latent_ebm_and_data_can_be_shown():
    g = torch.Generator().manual_seed(0)
    y, _ = el.ellipse_data(200, g)
    model = el.LatentEBM(generator=torch.Generator().manual_seed(1))
    fig = widgets.free_energy_figure(1.0, energy_fn=model, data=y, n_grid=20)
    ax_f = fig.axes[0]
    _, _, pts = grid_2d(widgets.FREE_ENERGY_BOUNDS, 20)
    with torch.no_grad():
        expected = model.free_energy(pts.float(), 1.0).reshape(20, 20).double().numpy()
    np.testing.assert_allclose(np.asarray(ax_f.images[0].get_array()), expected, rtol=1e-5)
    offsets = ax_f.collections[-1].get_offsets()
    np.testing.assert_allclose(np.asarray(offsets), y.numpy(), rtol=1e-6)


def test_bad_input():
    for bad in [0.0, -1.0, float("nan")]:
        with pytest.raises(ValueError, match="beta"):
            widgets.free_energy_figure(bad, n_grid=10)
    with pytest.raises(ValueError, match="energy_fn"):
        widgets.free_energy_figure(1.0, energy_fn="ellipse", n_grid=10)
    with pytest.raises(ValueError, match=r"\(m, K\)"):
        widgets.free_energy_figure(1.0, energy_fn=lambda p: p[:, 0], n_grid=10)
    with pytest.raises(ValueError, match="at least one"):
        widgets.free_energy_panels(())


def test_panels_one_landscape_per_beta():
    fig = widgets.free_energy_panels((0.1, 1.0, None), n_grid=20)
    maps = [ax for ax in fig.axes if ax.images and ax.get_visible()]
    assert [ax.get_title().split(":")[0] for ax in maps] == [
        r"$\beta$ = 0.1", r"$\beta$ = 1", r"$\beta \to \infty$"]


def test_explorer_structure_and_redraw():
    box = widgets.free_energy_explorer(beta=1.0)
    assert isinstance(box, ipw.VBox)
    assert {"ebm-explorer", "ebm-free-energy-explorer"} <= set(box._dom_classes)
    slider = box.controls["beta"]
    assert isinstance(slider, ipw.FloatLogSlider) and "ebm-beta-slider" in slider._dom_classes
    first = bytes(box.image.value)
    assert first.startswith(b"\x89PNG")
    t0 = time.perf_counter()
    slider.value = 0.05
    assert time.perf_counter() - t0 < 10.0  # one redraw (a few seconds on a busy machine)
    assert bytes(box.image.value) != first
