"""Noise-level explorer of notebook 08: a pure figure function and its ipywidgets layer."""

from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from ..plotting import grid_2d, new_axes
from .base import explorer

__all__ = ["NOISE_BOUNDS", "noise_explorer", "noise_level_figure", "noise_level_panels"]

#: The box shown by the noise-level explorer (the two-mode mixture sits at x₁ = ∓2).
NOISE_BOUNDS = ((-5.0, 5.0), (-3.5, 3.5))


def _noise_mixture(mixture):
    from .. import score  # lazy: score imports energies and samplers only

    return score.PerturbedMixture(score.two_mode_mixture() if mixture is None else mixture)


def _draw_noise_level(ax, pm, sigma: float, bounds, n_grid: int, n_arrows: int):
    """p_σ as a heat map and its score ∇ log p_σ as unit arrows coloured by their length."""
    _, _, pts = grid_2d(bounds, n_grid)
    with torch.no_grad():
        dens = pm.log_prob(pts, sigma).exp().reshape(n_grid, n_grid).numpy()
    (x0, x1), (y0, y1) = bounds
    im = ax.imshow(dens, origin="lower", extent=(x0, x1, y0, y1), cmap="viridis",
                   aspect="equal")
    ax.figure.colorbar(im, ax=ax, label=r"density $p_\sigma(x)$", shrink=0.8)
    _, _, apts = grid_2d(bounds, n_arrows)
    with torch.no_grad():
        s = pm.score(apts, sigma).numpy()
    mag = np.linalg.norm(s, axis=1)
    u = s / np.maximum(mag, 1e-12)[:, None]
    q = ax.quiver(apts[:, 0].numpy(), apts[:, 1].numpy(), u[:, 0], u[:, 1],
                  np.log10(np.maximum(mag, 1e-6)), cmap="autumn", angles="xy",
                  scale_units="xy", scale=1.6 * n_arrows / (x1 - x0), width=0.004)
    ax.figure.colorbar(q, ax=ax, label=r"$\log_{10} |\nabla \log p_\sigma(x)|$", shrink=0.8)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.grid(False)
    ax.set_title(rf"$\sigma$ = {sigma:.3g}: $p_\sigma = p * \mathcal{{N}}(0, \sigma^2 I)$")
    return s, apts


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
    from .._validation import count, positive

    sigma = positive(sigma, "sigma", "; the noise level of the perturbed density")
    n_grid, n_arrows = count(n_grid, "n_grid", minimum=2), count(n_arrows, "n_arrows", minimum=2)
    pm = _noise_mixture(mixture)
    fig, (ax_f, ax_s) = new_axes(ncols=2, size=(5.0, 3.9))
    _draw_noise_level(ax_f, pm, sigma, bounds, n_grid, n_arrows)
    (x0, x1), _ = bounds
    line = torch.stack([torch.linspace(x0, x1, 401, dtype=torch.float64),
                        torch.zeros(401, dtype=torch.float64)], dim=1)
    with torch.no_grad():
        p0 = pm.mixture.log_prob(line).exp().numpy()
        ps = pm.log_prob(line, sigma).exp().numpy()
    xl = line[:, 0].numpy()
    ax_s.plot(xl, p0, "--", color="0.5", lw=1.5, label="data density $p$")
    ax_s.plot(xl, ps, color="C0", label=rf"$p_\sigma$, $\sigma$ = {sigma:.3g}")
    ax_s.fill_between(xl, ps, alpha=0.2, color="C0")
    order = torch.argsort(pm.mixture.means[:, 0])
    mid = 0.5 * (pm.mixture.means[order[0]] + pm.mixture.means[order[-1]])
    with torch.no_grad():
        ratio = float((pm.log_prob(mid[None], sigma) - pm.log_prob(line, sigma).max()).exp())
    ax_s.set_xlabel("$x_1$ (slice $x_2 = 0$)")
    ax_s.set_ylabel("density")
    ax_s.set_title(f"midpoint density / peak = {ratio:.2f}")
    ax_s.legend(loc="upper right")
    fig.suptitle("noise levels: the perturbed density and its score field")
    return fig


def noise_level_panels(sigmas=(0.05, 0.5, 1.5, 4.0), mixture=None, bounds=NOISE_BOUNDS,
                       n_grid: int = 100, n_arrows: int = 15) -> Figure:
    """A static row of p_σ with its score arrows at several noise levels (beside the widget)."""
    from .._validation import positive

    levels = [positive(s, "sigma") for s in sigmas]
    if not levels:
        raise ValueError("give at least one noise level sigma")
    pm = _noise_mixture(mixture)
    ncols = min(2, len(levels))
    nrows = -(-len(levels) // ncols)
    fig, axes = new_axes(ncols=ncols, nrows=nrows, size=(5.4, 3.4))
    axes = np.atleast_1d(axes).reshape(-1)
    for ax, s in zip(axes, levels, strict=False):
        _draw_noise_level(ax, pm, s, bounds, n_grid, n_arrows)
    for ax in axes[len(levels):]:
        ax.set_visible(False)
    fig.suptitle(f"{pm.mixture.name}: perturbed densities and score fields at "
                 f"{len(levels)} noise levels")
    return fig


def noise_explorer(mixture=None, sigma: float = 0.5) -> widgets.VBox:
    """A log-scale slider for σ (0.02 to 5) redrawing ``noise_level_figure``.

    The slider has the class ``ebm-noise-slider`` and the box ``ebm-noise-explorer``.
    """
    slider = widgets.FloatLogSlider(
        value=sigma, base=10, min=math.log10(0.02), max=math.log10(5.0), step=0.05,
        readout_format=".3g", description="noise level σ", continuous_update=False,
        style={"description_width": "initial"}, layout=widgets.Layout(width="420px"),
    )
    slider.add_class("ebm-noise-slider")

    def figure_fn(sigma):
        return noise_level_figure(sigma, mixture)

    return explorer(figure_fn, {"sigma": slider}, css_class="ebm-noise-explorer")
