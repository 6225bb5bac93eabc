"""Diffusion-time explorer of notebook 09: a pure figure function and its ipywidgets layer."""

from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from ..plotting import grid_2d, new_axes
from .base import explorer

__all__ = ["diffusion_explorer", "diffusion_time_figure", "diffusion_time_panels"]


def _diffusion_inputs(x0, noise, schedule, reverse, t):
    """Check the explorer's inputs; return (x0, noise, schedule, t) with t an int in 0..T."""
    from .. import diffusion

    if not isinstance(schedule, diffusion.Schedule):
        raise ValueError("schedule must be a diffusion.Schedule, e.g. linear_beta_schedule(1000)")
    x0 = torch.as_tensor(x0)
    noise = torch.as_tensor(noise)
    if x0.ndim != 2 or x0.shape[1] != 2:
        raise ValueError(f"x0 must be 2D points of shape (n, 2), got {tuple(x0.shape)}")
    if noise.shape != x0.shape:
        raise ValueError(f"noise must have the shape of x0, {tuple(x0.shape)}, got "
                         f"{tuple(noise.shape)}")
    if not isinstance(reverse, diffusion.Trajectory) or reverse.states.ndim != 3 or \
            reverse.states.shape[2] != 2:
        raise ValueError("reverse must be a diffusion.Trajectory of 2D states, e.g. "
                         "ddpm_sample(model, schedule, x_T, trajectory=True)")
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 0 <= t <= schedule.T:
        raise ValueError(f"t must be a whole step between 0 and T = {schedule.T}, got {t!r}")
    return x0, noise, schedule, int(t)


def _diffusion_bounds(x0) -> tuple:
    lim = max(3.5, 1.1 * float(torch.as_tensor(x0).abs().max()))
    return ((-lim, lim), (-lim, lim))


def _diffusion_forward(ax, x0, noise, schedule, t, density, bounds, colorbar=True):
    from .. import diffusion

    xt = diffusion.q_sample(x0, t, noise, schedule)
    if density is not None:
        q_t = diffusion.noised_mixture(density, t, schedule)
        n = 120
        _, _, pts = grid_2d(bounds, n)
        with torch.no_grad():
            dens = torch.exp(q_t.log_prob(pts)).numpy().reshape(n, n)
        im = ax.imshow(dens, origin="lower", extent=(*bounds[0], *bounds[1]), cmap="Blues",
                       aspect="equal", vmin=0)
        if colorbar:
            ax.figure.colorbar(im, ax=ax, label="exact density $q_t(x)$", shrink=0.75)
    pts = xt.detach().cpu().numpy()
    ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.5, color="C1", label="$x_t$ from data")
    ax.set_xlim(*bounds[0])
    ax.set_ylim(*bounds[1])
    ax.set_aspect("equal")
    ax.grid(False)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ab = float(schedule.alpha_bar[t])
    ax.set_title(f"forward $q(x_t)$, t = {t}: √ᾱ = {math.sqrt(ab):.2f}, "
                 f"√(1-ᾱ) = {math.sqrt(1 - ab):.2f}", fontsize=10)


def _diffusion_index(reverse, t: int) -> int:
    """Index of the visited step of ``reverse`` nearest to t."""
    return int(torch.argmin((reverse.times - int(t)).abs()))


def _diffusion_reverse(ax, reverse, t, bounds, n_paths):
    k = _diffusion_index(reverse, t)
    states = reverse.states.detach().cpu().numpy()
    shown = states[k]
    for i in range(min(n_paths, states.shape[1])):
        ax.plot(states[: k + 1, i, 0], states[: k + 1, i, 1], lw=0.6, alpha=0.5, color="0.4")
    ax.scatter(shown[:, 0], shown[:, 1], s=2, alpha=0.5, color="C2", label="reverse $x_t$")
    ax.set_xlim(*bounds[0])
    ax.set_ylim(*bounds[1])
    ax.set_aspect("equal")
    ax.grid(False)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(f"reverse (sampling), t = {int(reverse.times[k])}: "
                 f"{min(n_paths, states.shape[1])} paths from T", fontsize=10)


def diffusion_time_figure(
    t: int, x0, noise, schedule, reverse, density=None, n_paths: int = 6, bounds=None
) -> Figure:
    """The diffusion-time explorer's figure at step t (pure function of its arguments).

    Left: the forward process, the data ``x0`` noised to step t with ``diffusion.q_sample``
    (fixed ``noise``, so moving t moves each point smoothly), over the exact density q_t when
    ``density`` (the data's ``energies.GaussianMixture``) is given. Middle: the reverse
    process at the same t, the states of a sampling run ``reverse`` with a few paths from
    x_T. Right: the signal and noise scales √ᾱ_t and √(1-ᾱ_t) against t, t marked.

    Args:
        t: the step, 0 ≤ t ≤ T.
        x0: (n, 2) data.
        noise: (n, 2) standard normal noise (fixed).
        schedule: a ``diffusion.Schedule``.
        reverse: a ``diffusion.Trajectory`` (e.g. ``ddpm_sample(..., trajectory=True)``);
            steps it did not visit show the nearest visited one.
        density: optional ``energies.GaussianMixture`` of the data, for the exact q_t.
        n_paths: reverse paths to draw.
        bounds: plotting box, default ±max(3.5, 1.1·max|x0|).
    """
    from .._validation import count

    x0, noise, schedule, t = _diffusion_inputs(x0, noise, schedule, reverse, t)
    n_paths = count(n_paths, "n_paths", minimum=0)
    bounds = bounds or _diffusion_bounds(x0)
    fig, (ax_f, ax_r, ax_s) = new_axes(ncols=3, size=(4.0, 3.7))
    _diffusion_forward(ax_f, x0, noise, schedule, t, density, bounds)
    _diffusion_reverse(ax_r, reverse, t, bounds, n_paths)
    steps = np.arange(schedule.T + 1)
    ax_s.plot(steps, schedule.sqrt_alpha_bar.numpy(), color="C0", label="signal √ᾱ_t")
    ax_s.plot(steps, schedule.sqrt_one_minus_alpha_bar.numpy(), color="C1",
              label="noise √(1-ᾱ_t)")
    ax_s.axvline(t, color="k", ls="--", lw=1.2)
    ax_s.set_xlabel("diffusion step t")
    ax_s.set_ylabel("scale")
    ax_s.set_title(f"{schedule.name} schedule", fontsize=10)
    ax_s.legend(loc="center right", fontsize=9)
    fig.suptitle("diffusion time: the forward process destroys the data, the reverse process "
                 "rebuilds it")
    return fig


def diffusion_time_panels(
    times, x0, noise, schedule, reverse, density=None, n_paths: int = 0, bounds=None
) -> Figure:
    """A static grid for the figure beside the widget: forward q(x_t) (top row) and the
    reverse states (bottom row) at each step in ``times``."""
    times = [int(t) for t in times]
    if not times:
        raise ValueError("give at least one step t")
    for t in times:
        x0, noise, schedule, _ = _diffusion_inputs(x0, noise, schedule, reverse, t)
    bounds = bounds or _diffusion_bounds(x0)
    fig, axes = new_axes(ncols=len(times), nrows=2, size=(2.9, 2.9))
    axes = np.asarray(axes).reshape(2, len(times))
    for j, t in enumerate(times):
        _diffusion_forward(axes[0, j], x0, noise, schedule, t, density, bounds)
        _diffusion_reverse(axes[1, j], reverse, t, bounds, n_paths)
        axes[0, j].set_title(f"forward, t = {t}", fontsize=10)
        shown = int(reverse.times[_diffusion_index(reverse, t)])
        axes[1, j].set_title(f"reverse, t = {shown}", fontsize=10)
    fig.suptitle(f"forward noising (top, over the exact $q_t$ in blue) and reverse sampling "
                 f"(bottom) at the same steps; {schedule.name} schedule")
    return fig


def diffusion_explorer(
    x0, noise, schedule, reverse, density=None, t: int | None = None, n_paths: int = 6
) -> widgets.VBox:
    """A slider over the diffusion step t, redrawing ``diffusion_time_figure``.

    The slider has the class ``ebm-diffusion-slider`` and the box ``ebm-diffusion-explorer``.
    Each move only evaluates q_sample and (optionally) q_t on a grid, well under a second.
    """
    x0, noise, schedule, t0 = _diffusion_inputs(
        x0, noise, schedule, reverse, schedule.T // 10 if t is None else t)
    slider = widgets.IntSlider(
        value=t0, min=0, max=schedule.T, step=1, description="diffusion step t",
        continuous_update=False, style={"description_width": "initial"},
        layout=widgets.Layout(width="480px"),
    )
    slider.add_class("ebm-diffusion-slider")
    bounds = _diffusion_bounds(x0)

    def figure_fn(t: int) -> Figure:
        return diffusion_time_figure(t, x0, noise, schedule, reverse, density, n_paths, bounds)

    return explorer(figure_fn, {"t": slider}, css_class="ebm-diffusion-explorer")
