"""Tests for the Langevin landscape explorer of ``ebm_helpers.widgets`` (notebook 07), without a
browser: the seeded chains, the stationary prediction, the pure figure function and the
ipywidgets layer."""

from __future__ import annotations

import time

import ipywidgets as ipw
import numpy as np
import pytest
import torch

from ebm_helpers import energies, samplers, widgets


def test_run_is_seeded_langevin_from_the_box():
    chain = widgets.langevin_run("8 gaussians", 0.01, n_steps=20, n_chains=50, seed=3)
    assert chain.trace.shape == (21, 50, 2)
    (x0, x1), (y0, y1) = energies.get_density("8 gaussians").bounds
    start = chain.trace[0]
    assert (start[:, 0] >= x0).all() and (start[:, 0] <= x1).all()
    assert (start[:, 1] >= y0).all() and (start[:, 1] <= y1).all()
    # the same generator stream through samplers.langevin gives the same chain
    g = torch.Generator().manual_seed(3)
    u = torch.rand(50, 2, generator=g, dtype=torch.float64)
    x = torch.stack([x0 + (x1 - x0) * u[:, 0], y0 + (y1 - y0) * u[:, 1]], 1)
    ref = samplers.langevin(energies.get_density("8 gaussians").energy, x, 20, 0.01, generator=g)
    torch.testing.assert_close(chain.x, ref.x)
    # more steps extend the same trajectories (same starts, same noise)
    longer = widgets.langevin_run("8 gaussians", 0.01, n_steps=30, n_chains=50, seed=3)
    torch.testing.assert_close(longer.trace[:21], chain.trace)


def test_small_step_chains_have_the_predicted_spread_and_decoupled_ones_are_colder():
    """Within a mode of the 8 gaussians (σ = 0.15), Langevin at effective temperature
    T_eff = T·κ² spreads like N(μ, σ² T_eff I) (ULA inflates the variance by
    1/(1 - ε/(2σ²)) at step ε); chains do not cross between modes, so only the spread is
    compared here, not the mode weights."""
    dens = energies.get_density("8 gaussians")
    sigma, eps = 0.15, 0.002
    rms = {}
    for s in (1.0, 0.5):
        x = widgets.langevin_run("8 gaussians", eps, noise_scale=s, n_steps=600, n_chains=1000,
                                 seed=1).x
        d2 = torch.cdist(x, dens.means).min(1).values ** 2
        rms[s] = float(d2.mean() / 2) ** 0.5  # per-coordinate standard deviation
    # 1000 chains: the relative standard error of an rms over 2000 coordinates is about 1.6 %
    ula = (1 / (1 - eps * 1.0 / (2 * sigma**2))) ** 0.5
    assert rms[1.0] == pytest.approx(sigma * ula, rel=0.06)
    assert rms[0.5] == pytest.approx(0.5 * sigma * (1 / (1 - eps / (2 * sigma**2))) ** 0.5,
                                     rel=0.06)
    assert rms[0.5] / rms[1.0] == pytest.approx(0.5, rel=0.08)


def test_chains_keep_the_ring_of_their_basin():
    """Langevin does not cross the low-density gaps between the rings (std 0.08, 0.8 apart) in
    500 steps: each chain ends on the ring nearest its start, so the ring weights come from
    the start box (basins), not from the density (1/6, 1/3, 1/2 by radius)."""
    chain = widgets.langevin_run("rings", 0.001, n_steps=500, n_chains=1000, seed=2)
    radii = torch.tensor([0.8, 1.6, 2.4], dtype=chain.x.dtype)
    start = (chain.trace[0].norm(dim=1, keepdim=True) - radii).abs().argmin(1)
    end = (chain.x.norm(dim=1, keepdim=True) - radii).abs().argmin(1)
    assert (start == end).float().mean() > 0.97
    share = torch.bincount(end, minlength=3).double() / 1000
    # the square start box favours the outer ring over its density weight 1/2
    assert share[2] > 0.5 + 3 * (0.25 / 1000) ** 0.5


def test_stationary_prediction_is_exp_minus_e_over_t_s2():
    p1, xs, ys, t1 = widgets.langevin_stationary("two moons", temperature=0.25, noise_scale=1.0)
    p2, _, _, t2 = widgets.langevin_stationary("two moons", temperature=1.0, noise_scale=0.5)
    assert t1 == pytest.approx(0.25) and t2 == pytest.approx(0.25)
    np.testing.assert_allclose(p1, p2)
    cell = (xs[1] - xs[0]) * (ys[1] - ys[0])
    assert p1.sum() * cell == pytest.approx(1.0)
    p, _, _, _ = widgets.langevin_stationary("two moons")
    assert p.max() < p1.max()  # colder: sharper
    with pytest.raises(ValueError, match="gradient descent"):
        widgets.langevin_stationary("two moons", noise_scale=0.0)


def test_bad_density_is_a_value_error():
    with pytest.raises(ValueError, match="density must be one of"):
        widgets.langevin_figure("checkerboard")
    with pytest.raises(ValueError, match="step_size"):
        widgets.langevin_run("rings", step_size=-1.0)


def test_figure_is_pure_labelled_and_fast():
    widgets.langevin_figure("8 gaussians", n_steps=0)  # warm the cached landscape
    t0 = time.perf_counter()
    fig = widgets.langevin_figure("8 gaussians", 0.01, 1.0, 1.0, 100, n_paths=4)
    assert time.perf_counter() - t0 < 2.0
    ax_e, ax_p = fig.axes[:2]  # then the two colour bars
    assert len(fig.axes) == 4
    assert ax_e.get_xlabel() == "$x_1$" and ax_p.get_ylabel() == "$x_2$"
    assert "100 steps" in ax_e.get_title() and "TV to prediction" in ax_p.get_title()
    assert len(ax_e.get_lines()) == 3 * 4  # path, start and end of each trajectory
    again = widgets.langevin_figure("8 gaussians", 0.01, 1.0, 1.0, 100, n_paths=4)
    np.testing.assert_array_equal(again.axes[0].get_lines()[0].get_xydata(),
                                  ax_e.get_lines()[0].get_xydata())


def test_figure_reports_divergence_and_gradient_descent():
    fig = widgets.langevin_figure("8 gaussians", step_size=0.3, n_steps=300)
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "diverged at step" in texts and "lower the step size" in texts
    fig = widgets.langevin_figure("rings", noise_scale=0.0, n_steps=50)
    assert "gradient descent" in fig.axes[1].get_title()


def test_langevin_explorer_structure_and_redraw():
    box = widgets.langevin_explorer(n_steps=20)
    assert isinstance(box, ipw.VBox)
    assert {"ebm-explorer", "ebm-langevin-explorer"} <= set(box._dom_classes)
    c = box.controls
    assert "ebm-langevin-slider" in c["n_steps"]._dom_classes
    assert isinstance(c["n_steps"], ipw.IntSlider)
    for name, cls in [("density", "density"), ("step_size", "step"), ("noise_scale", "noise"),
                      ("temperature", "temperature")]:
        assert f"ebm-langevin-{cls}" in c[name]._dom_classes
    assert list(c["density"].options) == list(widgets.LANGEVIN_DENSITIES)
    first = bytes(box.image.value)
    assert first.startswith(b"\x89PNG")
    t0 = time.perf_counter()
    c["n_steps"].value = 60
    assert time.perf_counter() - t0 < 2.0
    assert bytes(box.image.value) != first
    second = bytes(box.image.value)
    c["density"].value = "rings"
    assert bytes(box.image.value) != second
