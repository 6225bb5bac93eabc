"""Free-energy explorer of notebook 12: a pure figure function and its ipywidgets layer.

A latent-variable EBM E(y, z) defines the free energy F_β(y) = −(1/β) log mean_z e^{−βE(y, z)}
(``energy_learning.free_energy``). At large β it is the zero-temperature F∞ = min_z E, low on
the whole curve of good answers; as β falls it is smoothed towards the mean energy over z,
whose minimum can sit where there is no data at all. The explorer draws F_β over the (y₁, y₂)
plane with the data for a β chosen on a slider.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from ..plotting import grid_2d, new_axes
from .base import explorer, panel_grid

__all__ = ["FREE_ENERGY_BOUNDS", "free_energy_explorer", "free_energy_figure",
           "free_energy_panels"]

#: The plane shown by the free-energy explorer (the ellipse toy has semi-axes 2 and 1).
FREE_ENERGY_BOUNDS = ((-3.0, 3.0), (-2.0, 2.0))


def _ellipse_energies(points: torch.Tensor) -> torch.Tensor:
    from ..energy_learning import ellipse_energy

    z = torch.arange(64, dtype=torch.float64) * (2 * math.pi / 64)
    return ellipse_energy(points, z)


def _energies(energy_fn: Callable | None, points: torch.Tensor) -> torch.Tensor:
    """E(y, z_k) of every point for every latent value, (m, K), from ``energy_fn``."""
    if energy_fn is None:
        return _ellipse_energies(points)
    if not callable(energy_fn):
        raise ValueError("energy_fn must map (m, 2) points to (m, K) energies E(y, z_k), e.g. a "
                         "trained energy_learning.LatentEBM")
    params = next(iter(getattr(energy_fn, "parameters", lambda: iter(()))()), None)
    dtype = params.dtype if params is not None else points.dtype
    with torch.no_grad():
        e = energy_fn(points.to(dtype))
    if not isinstance(e, torch.Tensor) or e.ndim != 2 or e.shape[0] != points.shape[0]:
        shape = tuple(e.shape) if isinstance(e, torch.Tensor) else type(e).__name__
        raise ValueError(f"energy_fn must return (m, K) energies for m points, got {shape}")
    return e.double()


def _beta_label(beta) -> str:
    return r"$\beta \to \infty$" if beta is None else rf"$\beta$ = {beta:.3g}"


def _free_energy_artists(ax, energies: torch.Tensor, beta, bounds, n_grid: int, data) -> dict:
    """The F_β heat map, contours, data and lowest point of one panel, drawn at β
    (``_update_free_energy`` moves them to another β)."""
    (x0, x1), (y0, y1) = bounds
    art = {"ax": ax, "energies": energies, "n_grid": n_grid, "contour": None,
           "gx": np.linspace(x0, x1, n_grid), "gy": np.linspace(y0, y1, n_grid)}
    art["image"] = ax.imshow(np.zeros((n_grid, n_grid)), origin="lower",
                             extent=(x0, x1, y0, y1), cmap="magma_r", aspect="equal")
    ax.figure.colorbar(art["image"], ax=ax, label=r"free energy $F_\beta(y)$", shrink=0.8)
    art["dots"] = None
    if data is not None:
        d = np.asarray(torch.as_tensor(data).detach().cpu())
        art["dots"] = ax.scatter(d[:, 0], d[:, 1], s=4, color="C0", alpha=0.5, label="data")
    (art["star"],) = ax.plot([], [], marker="*", color="C2", markersize=14,
                             markeredgecolor="k", linestyle="none", label=r"lowest $F_\beta$")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("$y_1$")
    ax.set_ylabel("$y_2$")
    ax.grid(False)
    ax.legend(loc="upper right", fontsize=8, frameon=True, framealpha=0.85)
    _update_free_energy(art, beta)
    return art


def _update_free_energy(art: dict, beta) -> None:
    from ..energy_learning import free_energy

    ax, n_grid = art["ax"], art["n_grid"]
    f = free_energy(art["energies"], beta).reshape(n_grid, n_grid).numpy()
    art["image"].set_data(f)
    art["image"].autoscale()  # the colour limits imshow would choose
    if art["contour"] is not None:
        art["contour"].remove()
    art["contour"] = ax.contour(art["gx"], art["gy"], f, levels=12, colors="white",
                                linewidths=0.5, alpha=0.6)
    if art["dots"] is not None:  # the data stay above the new contour lines (drawn after)
        art["dots"].remove()
        ax.add_collection(art["dots"], autolim=False)
    row, col = np.unravel_index(int(np.argmin(f)), f.shape)
    art["star"].set_data([art["gx"][col]], [art["gy"][row]])
    ax.set_title(f"{_beta_label(beta)}: free energy over the plane")


def _draw_free_energy(ax, energies: torch.Tensor, beta, bounds, n_grid: int, data) -> None:
    _free_energy_artists(ax, energies, beta, bounds, n_grid, data)


def _check_beta(beta):
    if beta is None:
        return None
    from .._validation import positive

    return positive(beta, "beta", "; the inverse temperature β = 1/T (None for β → ∞)")


def free_energy_figure(beta: float | None = 1.0, energy_fn: Callable | None = None, data=None,
                       bounds=FREE_ENERGY_BOUNDS, n_grid: int = 81) -> Figure:
    """The free-energy explorer's figure (pure function of its arguments).

    Left: F_β(y) over the plane as a heat map with contour lines, the data as dots and the
    grid point of lowest F_β as a star. Right: the slice y₂ = 0 of F_β together with its two
    limits, F∞ = min_z E (β → ∞, dashed) and the mean energy over z (β → 0, dotted).

    Args:
        beta: inverse temperature β > 0, or ``None`` for β → ∞.
        energy_fn: maps (m, 2) points to (m, K) energies E(y, z_k) over K latent values (e.g. a
            trained ``energy_learning.LatentEBM``); default the exact ellipse
            E(y, z) = ‖y − (2 cos z, sin z)‖² on 64 angles.
        data: (n, 2) points to overlay, or ``None``.
        bounds: the plane shown.
        n_grid: heat-map resolution per axis.
    """
    return _free_energy_build(beta, energy_fn, data, bounds, n_grid)[0]


def _free_energy_build(beta: float | None = 1.0, energy_fn: Callable | None = None, data=None,
                       bounds=FREE_ENERGY_BOUNDS, n_grid: int = 81):
    """``free_energy_figure`` and the artists ``_free_energy_update`` moves (the energies
    E(y, z_k) on the grid are computed here once; a new β only re-weights them)."""
    from ..energy_learning import free_energy

    beta = _check_beta(beta)
    _, _, pts = grid_2d(bounds, n_grid)
    energies = _energies(energy_fn, pts)
    fig, (ax_f, ax_s) = new_axes(ncols=2, size=(5.2, 3.9))
    art = _free_energy_artists(ax_f, energies, beta, bounds, n_grid, data)
    (x0, x1), _ = bounds
    line = torch.stack([torch.linspace(x0, x1, 301, dtype=torch.float64),
                        torch.zeros(301, dtype=torch.float64)], dim=1)
    e_line = _energies(energy_fn, line)
    xl = line[:, 0].numpy()
    ax_s.plot(xl, free_energy(e_line, None).numpy(), "--", color="0.4",
              label=r"$F_\infty = \min_z E$")
    ax_s.plot(xl, e_line.mean(dim=1).numpy(), ":", color="0.4", label=r"mean$_z$ E ($\beta \to 0$)")
    (curve,) = ax_s.plot(xl, np.zeros_like(xl), color="C3", lw=2)
    ax_s.set_xlabel("$y_1$ (slice $y_2 = 0$)")
    ax_s.set_ylabel("energy")
    ax_s.set_title("from the minimum (β → ∞) to the mean (β → 0)")
    fig.suptitle(r"latent-variable EBM: $F_\beta(y) = -\frac{1}{\beta}\log "
                 r"\mathrm{mean}_z\, e^{-\beta E(y, z)}$")
    art.update(ax_s=ax_s, e_line=e_line, curve=curve)
    _free_energy_update(art, beta, _drawn=True)
    return fig, art


def _free_energy_update(art: dict, beta, _drawn: bool = False) -> bool:
    """Move the live figure to another β (always possible in place)."""
    from ..energy_learning import free_energy

    beta = _check_beta(beta)
    if not _drawn:
        _update_free_energy(art, beta)
    ax_s = art["ax_s"]
    art["curve"].set_ydata(free_energy(art["e_line"], beta).numpy())
    art["curve"].set_label(rf"$F_\beta$, {_beta_label(beta)}")
    ax_s.relim()
    ax_s.autoscale_view()
    ax_s.legend(loc="upper center", fontsize=8)
    return True


def free_energy_panels(betas=(0.1, 1.0, 10.0, None), energy_fn: Callable | None = None,
                       data=None, bounds=FREE_ENERGY_BOUNDS, n_grid: int = 81) -> Figure:
    """A static row of F_β landscapes at several β (``None`` for β → ∞), beside the widget."""
    levels = [_check_beta(b) for b in betas]
    if not levels:
        raise ValueError("give at least one beta (None for β → ∞)")
    _, _, pts = grid_2d(bounds, n_grid)
    energies = _energies(energy_fn, pts)
    fig, axes = panel_grid(len(levels), size=(5.0, 3.2))
    for ax, b in zip(axes, levels, strict=True):
        _draw_free_energy(ax, energies, b, bounds, n_grid, data)
    fig.suptitle(rf"free energy $F_\beta$ at {len(levels)} inverse temperatures")
    return fig


def free_energy_explorer(energy_fn: Callable | None = None, data=None,
                         beta: float = 1.0) -> widgets.VBox:
    """A log-scale slider for β (0.01 to 100) redrawing ``free_energy_figure``.

    The slider has the class ``ebm-beta-slider`` and the box ``ebm-free-energy-explorer``.
    """
    slider = widgets.FloatLogSlider(
        value=beta, base=10, min=-2.0, max=2.0, step=0.05, readout_format=".3g",
        description="inverse temperature β", continuous_update=True,
        style={"description_width": "initial"}, layout=widgets.Layout(width="420px"),
    )
    slider.add_class("ebm-beta-slider")

    def figure_fn(beta):
        return free_energy_figure(beta, energy_fn, data)

    def build(beta):
        return _free_energy_build(beta, energy_fn, data)

    return explorer(figure_fn, {"beta": slider}, css_class="ebm-free-energy-explorer",
                    live=(build, _free_energy_update))
