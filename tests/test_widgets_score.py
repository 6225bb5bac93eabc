"""Tests for the noise-level explorer of ``ebm_helpers.widgets`` (notebook 08), without a
browser: the pure figure function against the closed-form perturbed mixture, the static panels
and the ipywidgets layer."""

from __future__ import annotations

import time

import ipywidgets as ipw
import numpy as np
import pytest
import torch

from ebm_helpers import score, widgets
from ebm_helpers.energies import GaussianMixture


def test_figure_shows_the_closed_form_perturbed_density_and_score():
    fig = widgets.noise_level_figure(0.7, n_grid=40, n_arrows=9)
    ax_f, ax_s = fig.axes[:2]  # then the field's two colour bars
    pm = score.PerturbedMixture(score.two_mode_mixture())
    # the heat map is p_σ on the grid
    shown = np.asarray(ax_f.images[0].get_array())
    from ebm_helpers.plotting import grid_2d

    _, _, pts = grid_2d(widgets.NOISE_BOUNDS, 40)
    expected = pm.log_prob(pts, 0.7).exp().reshape(40, 40).numpy()
    np.testing.assert_allclose(shown, expected, rtol=1e-6)
    # the arrows point along the analytic score ∇ log p_σ, with unit length
    quiver = ax_f.collections[0]
    _, _, apts = grid_2d(widgets.NOISE_BOUNDS, 9)
    s = pm.score(apts, 0.7).numpy()
    u = np.stack([quiver.U, quiver.V], 1)
    np.testing.assert_allclose(u, s / np.linalg.norm(s, axis=1, keepdims=True), atol=1e-6)
    assert ax_f.get_xlabel() == "$x_1$" and ax_f.get_ylabel() == "$x_2$"
    assert "0.7" in ax_f.get_title()
    # the slice: p (dashed) and p_σ along x₂ = 0
    lines = ax_s.get_lines()
    assert len(lines) == 2 and lines[0].get_linestyle() == "--"
    xl = lines[1].get_xdata()
    line = torch.tensor(np.stack([xl, np.zeros_like(xl)], 1))
    np.testing.assert_allclose(lines[1].get_ydata(), pm.log_prob(line, 0.7).exp().numpy())
    assert "density" in ax_s.get_ylabel()
    assert len(fig.axes) == 4  # two colour bars: density and score magnitude


def test_modes_merge_as_sigma_grows():
    def midpoint_ratio(sigma):
        title = widgets.noise_level_figure(sigma, n_grid=20, n_arrows=5).axes[1].get_title()
        return float(title.rsplit("=", 1)[1])

    small, large = midpoint_ratio(0.1), midpoint_ratio(4.0)
    assert small < 0.01 and large > 0.9


def test_figure_takes_another_mixture_and_rejects_bad_sigma():
    mix = GaussianMixture([[-1.0, 1.0], [1.0, -1.0], [0.0, 2.0]], 0.3)
    fig = widgets.noise_level_figure(0.3, mixture=mix, n_grid=20, n_arrows=5)
    assert len(fig.axes) == 4
    for bad in [0.0, -1.0, float("nan")]:
        with pytest.raises(ValueError, match="sigma"):
            widgets.noise_level_figure(bad)
    with pytest.raises(ValueError, match="GaussianMixture"):
        widgets.noise_level_figure(0.5, mixture="rings")


def test_panels_one_field_per_sigma():
    fig = widgets.noise_level_panels((0.1, 1.0, 3.0), n_grid=20, n_arrows=5)
    fields = [ax for ax in fig.axes if ax.images and ax.get_visible()
              and ax.get_xlabel() == "$x_1$"]
    assert [ax.get_title() for ax in fields] == ["σ = 0.1", "σ = 1", "σ = 3"]
    with pytest.raises(ValueError, match="at least one"):
        widgets.noise_level_panels(())


def test_noise_explorer_structure_and_redraw():
    box = widgets.noise_explorer(sigma=0.5)
    assert isinstance(box, ipw.VBox)
    assert {"ebm-explorer", "ebm-noise-explorer"} <= set(box._dom_classes)
    slider = box.controls["sigma"]
    assert isinstance(slider, ipw.FloatLogSlider) and "ebm-noise-slider" in slider._dom_classes
    first = bytes(box.image.value)
    assert first.startswith(b"\x89PNG")
    t0 = time.perf_counter()
    slider.value = 2.0
    assert time.perf_counter() - t0 < 5.0  # one redraw (about a second here)
    assert bytes(box.image.value) != first
