"""Noise-level explorer of notebook 08: a pure figure function and its ipywidgets layer."""

from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from ..plotting import grid_2d, new_axes
from .base import explorer, panel_grid

__all__ = ["NOISE_BOUNDS", "noise_explorer", "noise_level_figure", "noise_level_panels"]

#: The box shown by the noise-level explorer (the two-mode mixture sits at x₁ = ∓2).
NOISE_BOUNDS = ((-5.0, 5.0), (-3.5, 3.5))
_PERTURBED = r"the perturbed density $p_\sigma = p * \mathcal{N}(0, \sigma^2 I)$"


def _noise_mixture(mixture):
    from .. import score  # lazy: score imports energies and samplers only

    return score.PerturbedMixture(score.two_mode_mixture() if mixture is None else mixture)


def _noise_level_artists(ax, pm, sigma: float, bounds, n_grid: int, n_arrows: int) -> dict:
    """The p_σ heat map and score arrows of one panel, drawn at σ (``_update_noise_level``
    moves them to another σ)."""
    _, _, pts = grid_2d(bounds, n_grid)
    _, _, apts = grid_2d(bounds, n_arrows)
    (x0, x1), (y0, y1) = bounds
    art = {"ax": ax, "pm": pm, "pts": pts, "apts": apts, "n_grid": n_grid}
    art["image"] = ax.imshow(np.zeros((n_grid, n_grid)), origin="lower",
                             extent=(x0, x1, y0, y1), cmap="viridis", aspect="equal")
    ax.figure.colorbar(art["image"], ax=ax, label=r"density $p_\sigma(x)$", shrink=0.8)
    zeros = np.zeros(len(apts))
    art["quiver"] = ax.quiver(apts[:, 0].numpy(), apts[:, 1].numpy(), zeros, zeros, zeros,
                              cmap="autumn", angles="xy", scale_units="xy",
                              scale=1.6 * n_arrows / (x1 - x0), width=0.004)
    ax.figure.colorbar(art["quiver"], ax=ax, label=r"$\log_{10} |\nabla \log p_\sigma(x)|$",
                       shrink=0.8)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.grid(False)
    _update_noise_level(art, sigma)
    return art


def _update_noise_level(art: dict, sigma: float) -> None:
    """p_σ as a heat map and its score ∇ log p_σ as unit arrows coloured by their length."""
    pm, n_grid = art["pm"], art["n_grid"]
    with torch.no_grad():
        dens = pm.log_prob(art["pts"], sigma).exp().reshape(n_grid, n_grid).numpy()
        s = pm.score(art["apts"], sigma).numpy()
    art["image"].set_data(dens)
    art["image"].autoscale()  # the colour limits imshow would choose
    mag = np.linalg.norm(s, axis=1)
    u = s / np.maximum(mag, 1e-12)[:, None]
    art["quiver"].set_UVC(u[:, 0], u[:, 1], np.log10(np.maximum(mag, 1e-6)))
    art["quiver"].autoscale()
    # plain text: a title with maths would be parsed again for every new σ
    art["ax"].set_title(f"σ = {sigma:.3g}")
    art["score"] = s


def _draw_noise_level(ax, pm, sigma: float, bounds, n_grid: int, n_arrows: int):
    """p_σ as a heat map and its score ∇ log p_σ as unit arrows coloured by their length."""
    art = _noise_level_artists(ax, pm, sigma, bounds, n_grid, n_arrows)
    return art["score"], art["apts"]


def _noise_build(sigma: float = 0.5, mixture=None, bounds=NOISE_BOUNDS, n_grid: int = 120,
                 n_arrows: int = 17):
    """``noise_level_figure`` and the artists ``_noise_update`` moves."""
    from .._validation import count, positive

    sigma = positive(sigma, "sigma", "; the noise level of the perturbed density")
    n_grid, n_arrows = count(n_grid, "n_grid", minimum=2), count(n_arrows, "n_arrows", minimum=2)
    pm = _noise_mixture(mixture)
    fig, (ax_f, ax_s) = new_axes(ncols=2, size=(5.0, 3.9))
    art = _noise_level_artists(ax_f, pm, sigma, bounds, n_grid, n_arrows)
    (x0, x1), _ = bounds
    line = torch.stack([torch.linspace(x0, x1, 401, dtype=torch.float64),
                        torch.zeros(401, dtype=torch.float64)], dim=1)
    with torch.no_grad():
        p0 = pm.mixture.log_prob(line).exp().numpy()
    xl = line[:, 0].numpy()
    ax_s.plot(xl, p0, "--", color="0.5", lw=1.5, label="data density $p$")
    (curve,) = ax_s.plot(xl, np.zeros_like(xl), color="C0", label=r"$p_\sigma$")
    order = torch.argsort(pm.mixture.means[:, 0])
    mid = 0.5 * (pm.mixture.means[order[0]] + pm.mixture.means[order[-1]])
    ax_s.set_xlabel("$x_1$ (slice $x_2 = 0$)")
    ax_s.set_ylabel("density")
    fig.suptitle(_PERTURBED + " and its score field")
    art.update(ax_s=ax_s, line=line, xl=xl, curve=curve, fill=None, mid=mid)
    _noise_update(art, sigma)
    ax_s.legend(loc="upper right")  # the labels do not depend on σ: one legend
    return fig, art


def _noise_update(art: dict, sigma: float) -> bool:
    """Move the live figure to another noise level σ (always possible in place)."""
    from .._validation import positive

    sigma = positive(sigma, "sigma", "; the noise level of the perturbed density")
    _update_noise_level(art, sigma)
    pm, ax_s, line, xl = art["pm"], art["ax_s"], art["line"], art["xl"]
    with torch.no_grad():
        ps = pm.log_prob(line, sigma).exp().numpy()
        ratio = float((pm.log_prob(art["mid"][None], sigma) - pm.log_prob(line, sigma).max())
                      .exp())
    art["curve"].set_ydata(ps)
    if art["fill"] is not None:
        art["fill"].remove()
    art["fill"] = ax_s.fill_between(xl, ps, alpha=0.2, color="C0")
    ax_s.relim()
    ax_s.autoscale_view()
    ax_s.set_title(f"midpoint density / peak = {ratio:.2f}")
    return True


def noise_level_figure(sigma: float = 0.5, mixture=None, bounds=NOISE_BOUNDS,
                       n_grid: int = 120, n_arrows: int = 17) -> Figure:
    """The noise-level explorer's figure (pure function of its arguments).

    Left: the perturbed density p_σ = p * N(0, σ²I) of a Gaussian mixture — in closed form,
    component variances σ_k² + σ² (``score.PerturbedMixture``) — with its score ∇ log p_σ as
    arrows (unit length, coloured by log₁₀ of the magnitude, which grows like 1/σ² near the
    data). Right: the slice x₂ = 0 of p (dashed) and of p_σ, with the density at the midpoint
    between the two outer modes relative to the highest one: once it is close to one, a
    Langevin chain crosses freely.

    Args:
        sigma: the noise level σ > 0.
        mixture: an ``energies.GaussianMixture`` (default ``score.two_mode_mixture()``).
        bounds: the plotting box.
        n_grid: heat-map resolution per axis.
        n_arrows: arrows per axis.
    """
    return _noise_build(sigma, mixture, bounds, n_grid, n_arrows)[0]


def noise_level_panels(sigmas=(0.05, 0.5, 1.5, 4.0), mixture=None, bounds=NOISE_BOUNDS,
                       n_grid: int = 100, n_arrows: int = 15) -> Figure:
    """A static row of p_σ with its score arrows at several noise levels (beside the widget)."""
    from .._validation import positive

    levels = [positive(s, "sigma") for s in sigmas]
    if not levels:
        raise ValueError("give at least one noise level sigma")
    pm = _noise_mixture(mixture)
    fig, axes = panel_grid(len(levels), size=(5.4, 3.4))
    for ax, s in zip(axes, levels, strict=True):
        _draw_noise_level(ax, pm, s, bounds, n_grid, n_arrows)
    fig.suptitle(f"{pm.mixture.name}: {_PERTURBED} and its score field at {len(levels)} "
                 "noise levels")
    return fig


def noise_explorer(mixture=None, sigma: float = 0.5) -> widgets.VBox:
    """A log-scale slider for σ (0.02 to 5) redrawing ``noise_level_figure``.

    The slider has the class ``ebm-noise-slider`` and the box ``ebm-noise-explorer``.
    """
    slider = widgets.FloatLogSlider(
        value=sigma, base=10, min=math.log10(0.02), max=math.log10(5.0), step=0.05,
        readout_format=".3g", description="noise level σ", continuous_update=True,
        style={"description_width": "initial"}, layout=widgets.Layout(width="420px"),
    )
    slider.add_class("ebm-noise-slider")

    def figure_fn(sigma):
        return noise_level_figure(sigma, mixture)

    def build(sigma):
        return _noise_build(sigma, mixture)

    return explorer(figure_fn, {"sigma": slider}, css_class="ebm-noise-explorer",
                    live=(build, _noise_update))
