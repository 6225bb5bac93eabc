"""Live explorers: a control change updates the figure in place, and the updated figure shows
exactly what the pure figure function draws for the new values (compared artist by artist
with ``widgets.base.figure_content``: line data, image arrays and colour limits, scatter
offsets, patches, texts, titles, axis limits)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ebm_helpers import diffusion, energies, energy_learning, widgets
from ebm_helpers.widgets.base import figure_content


def _hopfield():
    g = torch.Generator().manual_seed(0)
    pats = torch.where(torch.rand(3, 36, generator=g) < 0.5, -1.0, 1.0)
    box = widgets.recall_explorer(pats, (6, 6), pattern=0, corruption=0.2)
    return box, lambda step, **kw: widgets.hopfield_recall_figure(
        pats, (6, 6), kw.get("pattern", 0), kw.get("corruption", 0.2), step)


def _gibbs():
    g = torch.Generator().manual_seed(0)
    trace, fe = torch.rand(11, 5, 9, generator=g), torch.randn(11, 5, generator=g)
    box = widgets.gibbs_chain_explorer(trace, (3, 3), free_energy=fe)
    return box, lambda step: widgets.gibbs_chain_figure(trace, step, (3, 3), fe, 16)


def _cd():
    rng = np.random.default_rng(0)
    curves = {(k, lr, p): np.cumsum(rng.normal(0.5, 0.3, 6)) - 40.0
              for k in (1, 3) for lr in (0.01, 0.1) for p in (False, True)}
    curves[(3, 0.1, True)][4:] = np.nan  # a diverged run
    box = widgets.cd_explorer(curves, k=1, lr=0.01, baseline=-38.0)
    return box, lambda **kw: widgets.cd_ll_figure(
        curves, baseline=-38.0, **{"k": 1, "lr": 0.01, "persistent": False, **kw})


def _diffusion():
    g = torch.Generator().manual_seed(0)
    schedule = diffusion.linear_beta_schedule(100, 1e-3, 0.2)
    density = energies.eight_gaussians()
    x0, noise = density.sample(200, g), torch.randn(200, 2, generator=g)
    rev = diffusion.ddpm_sample(diffusion.MixtureEpsilon(density, schedule),
                                schedule, torch.randn(200, 2, generator=g), g,
                                trajectory=True, progress=False)
    box = widgets.diffusion_explorer(x0, noise, schedule, rev, density=density, t=10)
    bounds = widgets.diffusion_time.__dict__["_diffusion_bounds"](x0)
    return box, lambda t: widgets.diffusion_time_figure(t, x0, noise, schedule, rev, density,
                                                        6, bounds)


def _threshold():
    from ebm_helpers import anomaly

    rng = np.random.default_rng(0)
    s0, s1, calib = rng.normal(size=60), rng.normal(2.0, 1.0, size=30), rng.normal(size=60)
    images = rng.random((90, 16))
    box = widgets.threshold_explorer(s0, s1, calibration_scores=calib, images=images,
                                     image_shape=(4, 4))

    def pure(fpr):
        tau = anomaly.threshold_at_fpr(anomaly.to_scores(calib), fpr)
        return widgets.threshold_figure(
            s0, s1, tau, images, (4, 4),
            title=f"target FPR {fpr:.2f} on held-out normals → τ = {tau:.4g}")

    return box, pure


def _free_energy():
    latent = energy_learning.LatentEBM(n_z=16, hidden=8,
                                       generator=torch.Generator().manual_seed(4))
    data = torch.randn(50, 2, generator=torch.Generator().manual_seed(1)).double()
    box = widgets.free_energy_explorer(energy_fn=latent, data=data, beta=1.0)
    return box, lambda beta: widgets.free_energy_figure(beta, latent, data)


# name -> (make (box, pure function of the control values), moves: list of {control: value})
CASES = {
    "temperature 1D": (
        lambda: (widgets.temperature_explorer("tilted double well", 0.5),
                 lambda temperature, landscape="tilted double well":
                 widgets.temperature_figure(landscape, temperature)),
        [{"temperature": 2.0}, {"temperature": 0.2}]),
    "temperature 2D": (
        lambda: (widgets.temperature_explorer("two moons", 0.5),
                 lambda temperature, landscape="two moons":
                 widgets.temperature_figure(landscape, temperature)),
        [{"temperature": 3.0}]),
    "hopfield": (_hopfield, [{"step": 7}, {"step": 30}, {"corruption": 0.4},
                             {"pattern": 1, "step": 12}, {"corruption": 0.05}, {"step": 0}]),
    "gibbs": (_gibbs, [{"step": 4}, {"step": 10}]),
    "cd": (_cd, [{"k": 3}, {"lr": 0.1}, {"persistent": True}]),
    "langevin": (
        lambda: (widgets.langevin_explorer("8 gaussians", 0.01, n_steps=40),
                 lambda **kw: widgets.langevin_figure(
                     **{"density": "8 gaussians", "step_size": 0.01, "noise_scale": 1.0,
                        "temperature": 1.0, "n_steps": 40, **kw})),
        [{"n_steps": 170}, {"n_steps": 490}, {"noise_scale": 0.5}, {"temperature": 2.0},
         {"step_size": 0.02}]),
    "noise level": (
        lambda: (widgets.noise_explorer(sigma=0.5),
                 lambda sigma: widgets.noise_level_figure(sigma)),
        [{"sigma": 2.0}, {"sigma": 0.05}]),
    "diffusion": (_diffusion, [{"t": 50}, {"t": 100}, {"t": 0}]),
    "threshold": (_threshold, [{"fpr": 0.2}, {"fpr": 0.0}, {"fpr": 0.4}]),
    "free energy": (_free_energy, [{"beta": 10.0}, {"beta": 0.05}]),
    "transverse field": (
        lambda: (widgets.transverse_field_explorer(0.5, 1.0),
                 lambda gamma, beta=1.0: widgets.transverse_field_figure(gamma, beta)),
        [{"gamma": 2.0}, {"gamma": 0.0}]),
}


def _move_and_compare(box, pure, moves):
    """Apply the moves one by one; after each, the live figure (the same object as before the
    move) shows what the pure function draws for the controls' current values."""
    values = {}
    for move in moves:
        before_fig = box.figure
        assert before_fig is not None, "the explorer does not keep a live figure"
        before = figure_content(before_fig)
        for name, value in move.items():
            box.controls[name].value = value
            values[name] = box.controls[name].value
        assert box.children[1].value == "", box.children[1].value  # no error shown
        yield before_fig, before, values


@pytest.mark.parametrize("name", list(CASES))
def test_in_place_update_matches_the_pure_function(name):
    make, moves = CASES[name]
    box, pure = make()
    for before_fig, before, values in _move_and_compare(box, pure, moves):
        after = figure_content(box.figure)
        assert box.figure is before_fig, "the figure was rebuilt, not updated in place"
        assert after != before, f"{values}: the figure did not change"
        expected = figure_content(pure(**values))
        assert len(after) == len(expected)
        for got, want in zip(after, expected, strict=True):
            assert got == want, f"{name} at {values}: {str(got)[:300]} != {str(want)[:300]}"
        assert bytes(box.image.value).startswith(b"\x89PNG")


def test_figure_content_sees_a_changed_line():
    """The comparison is not vacuous: one changed data point makes the contents differ."""
    fig = widgets.temperature_figure("tilted double well", 0.5)
    a = figure_content(fig)
    line = fig.axes[1].get_lines()[-1]
    y = np.array(line.get_ydata(), dtype=float)
    y[3] += 1e-6
    line.set_ydata(y)
    assert figure_content(fig) != a


def test_a_landscape_change_rebuilds_and_a_bad_value_recovers():
    box = widgets.temperature_explorer("tilted double well", 0.5)
    first = box.figure
    box.controls["landscape"].value = "rings"
    assert box.figure is not first
    assert figure_content(box.figure) == figure_content(widgets.temperature_figure("rings", 0.5))


def test_sliders_update_continuously():
    """Every explorer's sliders send values while dragged (the explorers are fast enough)."""
    import ipywidgets as ipw

    for name, (make, _) in CASES.items():
        box, _ = make()
        for control in box.controls.values():
            if isinstance(control, (ipw.FloatSlider, ipw.FloatLogSlider, ipw.IntSlider,
                                    ipw.SelectionSlider)):
                assert control.continuous_update, f"{name}: {control.description}"


@pytest.mark.parametrize("name", ["temperature 1D", "langevin", "transverse field", "threshold",
                                  "diffusion", "hopfield"])
def test_blitted_image_matches_a_full_draw_of_the_live_figure(name):
    """The live renderer redraws only what changes over a cached background: after several
    moves its image must equal a full draw of the same figure (nothing stale left behind, e.g.
    an old title). Grid lines are switched off first: blitting draws the data above the
    axes' frame, while a full draw puts semi-transparent fills and bars under the grid."""
    import io

    from PIL import Image

    make, moves = CASES[name]
    box, _ = make()
    for ax in box.figure.axes:
        ax.grid(False)
    for _ in _move_and_compare(box, None, moves):
        pass
    blitted = np.asarray(Image.open(io.BytesIO(bytes(box.image.value))), dtype=int)
    full = np.asarray(Image.open(io.BytesIO(box.renderer.render(full=True))), dtype=int)
    assert blitted.shape == full.shape
    differ = np.abs(full - blitted).sum(axis=2) > 0
    assert differ.mean() < 0.001, f"{differ.mean():.2%} of the pixels differ from a full draw"
