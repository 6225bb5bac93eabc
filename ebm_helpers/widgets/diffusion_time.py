"""Diffusion-time explorer of notebook 09: a pure figure function and its ipywidgets layer."""

from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
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


def _diffusion_forward(ax, x0, noise, schedule, t, density, bounds, colorbar=True) -> dict:
    """The forward panel at step t: x_t = q_sample(x0, t, noise) over the exact q_t; returns
    the artists ``_update_forward`` moves to another t."""
    art = {"ax": ax, "x0": x0, "noise": noise, "schedule": schedule, "density": density,
           "bounds": bounds, "image": None, "q_cache": {}}
    if density is not None:
        art["image"] = ax.imshow(_q_density(art, t), origin="lower",
                                 extent=(*bounds[0], *bounds[1]), cmap="Blues",
                                 aspect="equal", vmin=0)
        if colorbar:
            # The image's colours span 0 .. the peak of q_t at every t (as imshow scales
            # them); the bar shows that relative scale, so it stays fixed while t moves and
            # a live redraw need not redraw it.
            relative = ScalarMappable(Normalize(0.0, 1.0), cmap=art["image"].get_cmap())
            ax.figure.colorbar(relative, ax=ax, label="exact density $q_t(x)$ / its peak",
                               shrink=0.75)
    from .. import diffusion

    xt = diffusion.q_sample(x0, t, noise, schedule).detach().cpu().numpy()
    art["dots"] = ax.scatter(xt[:, 0], xt[:, 1], s=2, alpha=0.5, color="C1",
                             label="$x_t$ from data")
    ax.set_xlim(*bounds[0])
    ax.set_ylim(*bounds[1])
    ax.set_aspect("equal")
    ax.grid(False)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    _update_forward(art, t)
    return art


def _q_density(art: dict, t: int) -> np.ndarray:
    """The exact q_t on the panel's 120×120 grid (kept: a drag revisits steps)."""
    from .. import diffusion

    dens = art["q_cache"].get(t)
    if dens is None:
        q_t = diffusion.noised_mixture(art["density"], t, art["schedule"])
        n = 120
        _, _, pts = grid_2d(art["bounds"], n)
        with torch.no_grad():
            dens = torch.exp(q_t.log_prob(pts)).numpy().reshape(n, n)
        art["q_cache"][t] = dens
    return dens


def _update_forward(art: dict, t: int) -> None:
    from .. import diffusion

    schedule = art["schedule"]
    xt = diffusion.q_sample(art["x0"], t, art["noise"], schedule)
    if art["image"] is not None:
        dens = _q_density(art, t)
        art["image"].set_data(dens)
        art["image"].set_clim(0.0, float(dens.max()))  # as imshow's autoscaling with vmin=0
    art["dots"].set_offsets(xt.detach().cpu().numpy())
    ab = float(schedule.alpha_bar[t])
    # plain text, not mathtext: a title that changes on every move is laid out every time
    art["ax"].set_title(f"forward q(xₜ), t = {t}: √ᾱ = {math.sqrt(ab):.2f}, "
                        f"√(1-ᾱ) = {math.sqrt(1 - ab):.2f}", fontsize=10)


def _diffusion_index(reverse, t: int) -> int:
    """Index of the visited step of ``reverse`` nearest to t."""
    return int(torch.argmin((reverse.times - int(t)).abs()))


def _diffusion_reverse(ax, reverse, t, bounds, n_paths) -> dict:
    """The reverse panel at step t; returns the artists ``_update_reverse`` moves."""
    states = reverse.states.detach().cpu().numpy()
    art = {"ax": ax, "reverse": reverse, "states": states,
           "n_paths": min(n_paths, states.shape[1])}
    art["paths"] = [ax.plot([], [], lw=0.6, alpha=0.5, color="0.4")[0]
                    for _ in range(art["n_paths"])]
    art["dots"] = ax.scatter(states[0, :, 0], states[0, :, 1], s=2, alpha=0.5, color="C2",
                             label="reverse $x_t$")
    ax.set_xlim(*bounds[0])
    ax.set_ylim(*bounds[1])
    ax.set_aspect("equal")
    ax.grid(False)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    _update_reverse(art, t)
    return art


def _update_reverse(art: dict, t: int) -> None:
    reverse, states = art["reverse"], art["states"]
    k = _diffusion_index(reverse, t)
    for i, line in enumerate(art["paths"]):
        line.set_data(states[: k + 1, i, 0], states[: k + 1, i, 1])
    art["dots"].set_offsets(states[k])
    art["ax"].set_title(f"reverse (sampling), t = {int(reverse.times[k])}: "
                        f"{art['n_paths']} paths from T", fontsize=10)


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
    return _diffusion_build(t, x0, noise, schedule, reverse, density, n_paths, bounds)[0]


def _diffusion_build(t: int, x0, noise, schedule, reverse, density=None, n_paths: int = 6,
                     bounds=None):
    """``diffusion_time_figure`` and the artists ``_diffusion_update`` moves."""
    from .._validation import count

    x0, noise, schedule, t = _diffusion_inputs(x0, noise, schedule, reverse, t)
    n_paths = count(n_paths, "n_paths", minimum=0)
    bounds = bounds or _diffusion_bounds(x0)
    fig, (ax_f, ax_r, ax_s) = new_axes(ncols=3, size=(4.0, 3.7))
    art = {"x0": x0, "noise": noise, "schedule": schedule, "reverse": reverse,
           "forward": _diffusion_forward(ax_f, x0, noise, schedule, t, density, bounds),
           "backward": _diffusion_reverse(ax_r, reverse, t, bounds, n_paths)}
    steps = np.arange(schedule.T + 1)
    ax_s.plot(steps, schedule.sqrt_alpha_bar.numpy(), color="C0", label="signal √ᾱ_t")
    ax_s.plot(steps, schedule.sqrt_one_minus_alpha_bar.numpy(), color="C1",
              label="noise √(1-ᾱ_t)")
    art["vline"] = ax_s.axvline(t, color="k", ls="--", lw=1.2)
    ax_s.set_xlabel("diffusion step t")
    ax_s.set_ylabel("scale")
    ax_s.set_title(f"{schedule.name} schedule", fontsize=10)
    ax_s.legend(loc="center right", fontsize=9)
    fig.suptitle("diffusion time: the forward process destroys the data, the reverse process "
                 "rebuilds it")
    return fig, art


def _diffusion_update(art: dict, t: int) -> bool:
    """Move the live figure to another step t (always possible in place)."""
    t = _diffusion_inputs(art["x0"], art["noise"], art["schedule"], art["reverse"], t)[3]
    _update_forward(art["forward"], t)
    _update_reverse(art["backward"], t)
    art["vline"].set_xdata([t, t])
    return True


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
        continuous_update=True, style={"description_width": "initial"},
        layout=widgets.Layout(width="480px"),
    )
    slider.add_class("ebm-diffusion-slider")
    bounds = _diffusion_bounds(x0)

    def figure_fn(t: int) -> Figure:
        return diffusion_time_figure(t, x0, noise, schedule, reverse, density, n_paths, bounds)

    def build(t: int):
        return _diffusion_build(t, x0, noise, schedule, reverse, density, n_paths, bounds)

    return explorer(figure_fn, {"t": slider}, css_class="ebm-diffusion-explorer",
                    live=(build, _diffusion_update))
