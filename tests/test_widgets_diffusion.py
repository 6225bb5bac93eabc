"""Tests for the diffusion-time explorer of ``ebm_helpers.widgets`` (notebook 09), without a
browser: the pure figure functions and the ipywidgets layer. The reverse trajectory comes from
the exact noise predictor of the 8 gaussians (``diffusion.MixtureEpsilon``), so no training is
needed."""

from __future__ import annotations

import math
import time

import ipywidgets as ipw
import numpy as np
import pytest
import torch

from ebm_helpers import diffusion, energies, widgets


@pytest.fixture(scope="module")
def setup():
    g = torch.Generator().manual_seed(0)
    schedule = diffusion.linear_beta_schedule(100, 1e-3, 0.2)  # short, for speed
    density = energies.eight_gaussians()
    x0 = density.sample(300, g)
    noise = torch.randn(300, 2, generator=g)
    oracle = diffusion.MixtureEpsilon(density, schedule)
    reverse = diffusion.ddpm_sample(oracle, schedule, torch.randn(300, 2, generator=g), g,
                                    trajectory=True, progress=False)
    return x0, noise, schedule, reverse, density


def _scatter_points(ax) -> np.ndarray:
    return np.asarray(ax.collections[-1].get_offsets())


def test_figure_shows_q_sample_and_the_reverse_state(setup):
    x0, noise, schedule, reverse, density = setup
    t0 = time.perf_counter()
    fig = widgets.diffusion_time_figure(40, x0, noise, schedule, reverse, density=density)
    assert time.perf_counter() - t0 < 2.0
    ax_f, ax_r, ax_s = fig.axes[:3]
    # forward panel: exactly the closed-form x_t of the given data and noise
    np.testing.assert_allclose(_scatter_points(ax_f),
                               diffusion.q_sample(x0, 40, noise, schedule).numpy(), rtol=1e-6)
    # reverse panel: the trajectory's state at t = 40 (index T - t)
    np.testing.assert_allclose(_scatter_points(ax_r), reverse.states[100 - 40].numpy(),
                               rtol=1e-6)
    # the exact density q_t drawn under the forward points integrates to ~1 over the box
    img = ax_f.images[0]
    (x_lo, x_hi, y_lo, y_hi) = img.get_extent()
    dens = np.asarray(img.get_array())
    cell = (x_hi - x_lo) / (dens.shape[1] - 1) * (y_hi - y_lo) / (dens.shape[0] - 1)
    assert dens.sum() * cell == pytest.approx(1.0, abs=0.05)
    assert "t = 40" in ax_f.get_title() and "t = 40" in ax_r.get_title()
    ab = float(schedule.alpha_bar[40])
    assert f"{math.sqrt(ab):.2f}" in ax_f.get_title()
    assert ax_s.get_xlabel() == "diffusion step t"
    assert ax_f.get_xlabel() == "$x_1$" and ax_f.get_ylabel() == "$x_2$"
    assert len(fig.axes) == 4  # three panels and the density's colour bar


def test_figure_is_pure_and_endpoints(setup):
    x0, noise, schedule, reverse, _ = setup
    a = widgets.diffusion_time_figure(70, x0, noise, schedule, reverse)
    b = widgets.diffusion_time_figure(70, x0, noise, schedule, reverse)
    np.testing.assert_array_equal(_scatter_points(a.axes[0]), _scatter_points(b.axes[0]))
    # t = 0 shows the data itself; t = T the start of the reverse run
    fig0 = widgets.diffusion_time_figure(0, x0, noise, schedule, reverse)
    np.testing.assert_allclose(_scatter_points(fig0.axes[0]), x0.numpy())
    np.testing.assert_allclose(_scatter_points(fig0.axes[1]), reverse.samples.numpy())
    fig_t = widgets.diffusion_time_figure(100, x0, noise, schedule, reverse)
    np.testing.assert_allclose(_scatter_points(fig_t.axes[1]), reverse.states[0].numpy())
    assert len(a.axes) == 3  # no density: no colour bar


def test_ddim_trajectory_shows_the_nearest_visited_step(setup):
    x0, noise, schedule, _, density = setup
    oracle = diffusion.MixtureEpsilon(density, schedule)
    rev = diffusion.ddim_sample(oracle, schedule, torch.randn(50, 2), n_steps=10,
                                trajectory=True, progress=False)
    fig = widgets.diffusion_time_figure(33, x0, noise, schedule, rev)
    np.testing.assert_allclose(_scatter_points(fig.axes[1]), rev.at(30).numpy())
    assert "t = 30" in fig.axes[1].get_title()


def test_panels(setup):
    x0, noise, schedule, reverse, density = setup
    fig = widgets.diffusion_time_panels([0, 20, 100], x0, noise, schedule, reverse,
                                        density=density)
    titles = [ax.get_title() for ax in fig.axes]
    assert "forward, t = 20" in titles and "reverse, t = 100" in titles
    with pytest.raises(ValueError, match="at least one"):
        widgets.diffusion_time_panels([], x0, noise, schedule, reverse)


@pytest.mark.parametrize("t", [-1, 101, 2.5, True])
def test_bad_step(setup, t):
    x0, noise, schedule, reverse, _ = setup
    with pytest.raises(ValueError, match="t must be a whole step between 0 and T = 100"):
        widgets.diffusion_time_figure(t, x0, noise, schedule, reverse)


def test_bad_inputs(setup):
    x0, noise, schedule, reverse, _ = setup
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        widgets.diffusion_time_figure(5, torch.zeros(10, 3), torch.zeros(10, 3), schedule,
                                      reverse)
    with pytest.raises(ValueError, match="noise must have the shape"):
        widgets.diffusion_time_figure(5, x0, noise[:10], schedule, reverse)
    with pytest.raises(ValueError, match="Trajectory"):
        widgets.diffusion_time_figure(5, x0, noise, schedule, reverse.states)
    with pytest.raises(ValueError, match="Schedule"):
        widgets.diffusion_time_figure(5, x0, noise, schedule.betas, reverse)


def test_explorer_structure_and_redraw(setup):
    x0, noise, schedule, reverse, density = setup
    box = widgets.diffusion_explorer(x0, noise, schedule, reverse, density=density, t=10)
    assert isinstance(box, ipw.VBox)
    assert {"ebm-explorer", "ebm-diffusion-explorer"} <= set(box._dom_classes)
    slider = box.controls["t"]
    assert isinstance(slider, ipw.IntSlider) and "ebm-diffusion-slider" in slider._dom_classes
    assert (slider.min, slider.max, slider.value) == (0, 100, 10)
    first = bytes(box.image.value)
    assert first.startswith(b"\x89PNG")
    t0 = time.perf_counter()
    slider.value = 60
    assert time.perf_counter() - t0 < 3.0
    assert bytes(box.image.value) != first
    # default start: T/10
    assert widgets.diffusion_explorer(x0, noise, schedule, reverse).controls["t"].value == 10
