"""Temperature explorer of notebook 01: a pure figure function and its ipywidgets layer."""

from __future__ import annotations

import math
from functools import lru_cache

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from .. import energies
from .._validation import temperature as check_temperature
from ..plotting import grid_2d, new_axes
from .base import explorer

__all__ = [
    "TEMPERATURE_LANDSCAPES",
    "boltzmann_on_grid",
    "temperature_explorer",
    "temperature_figure",
    "temperature_panels",
]

#: Landscapes offered by the temperature explorer (1D first, then 2D).
TEMPERATURE_LANDSCAPES = (
    "tilted double well",
    "double well",
    "8 gaussians",
    "two moons",
    "rings",
)


@lru_cache(maxsize=16)
def _landscape_grid(landscape: str, n1d: int = 801, n2d: int = 140):
    """Energies of a landscape on a plotting grid (cached: slider moves only rescale them)."""
    density = energies.get_density(landscape)
    if density.dim == 1:
        (lo, hi), = density.bounds
        x = torch.linspace(lo, hi, n1d, dtype=torch.float64).reshape(-1, 1)
        e = density.energy(x)
        return density, x[:, 0].numpy(), None, e.numpy(), (hi - lo) / (n1d - 1)
    xs, ys, pts = grid_2d(density.bounds, n2d)
    with torch.no_grad():
        e = density.energy(pts).numpy().reshape(n2d, n2d)
    cell = float((xs[1] - xs[0]) * (ys[1] - ys[0]))
    return density, xs.numpy(), ys.numpy(), e, cell


def boltzmann_on_grid(energy: np.ndarray, temperature: float, cell: float):
    """Boltzmann probabilities of grid points, p_i = exp(-E_i/T) / Z, Z ≈ Σ_i exp(-E_i/T)·cell.

    Args:
        energy: energies on a regular grid, any shape.
        temperature: T > 0.
        cell: the length/area of one grid cell.

    Returns:
        ``(density, log_z, entropy)``: the density on the grid (same shape as ``energy``),
        ln Z and the differential entropy S = -Σ p ln p · cell.
    """
    t = check_temperature(temperature)
    logits = -np.asarray(energy, dtype=np.float64) / t
    m = np.max(logits)
    w = np.exp(logits - m)
    z = w.sum() * cell
    density = w / z
    log_z = float(m + math.log(z))
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(density > 0, density * np.log(density), 0.0)
    return density, log_z, float(-plogp.sum() * cell)


def _fmt(value: float) -> str:
    """Two decimals, never '-0.00'."""
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text


def _density_artists(ax, landscape: str, temperature: float, reference: bool = True) -> dict:
    """The density panel's artists, drawn at ``temperature`` (``_update_density`` moves them)."""
    _, x, y, e, cell = _landscape_grid(landscape)
    art = {"ax": ax, "landscape": landscape, "want_reference": reference,
           "reference": reference and temperature != 1.0}
    if y is None:
        if art["reference"]:
            p1, _, _ = boltzmann_on_grid(e, 1.0, cell)
            ax.plot(x, p1, "--", color="0.5", lw=1.5, label="T = 1")
        (art["line"],) = ax.plot(x, np.zeros_like(x), color="C0")
        art["fill"] = None
        ax.set_xlabel("x")
        ax.set_ylabel("density $p_T(x)$")
    else:
        art["image"] = ax.imshow(np.zeros_like(e), origin="lower",
                                 extent=(x[0], x[-1], y[0], y[-1]), aspect="equal",
                                 cmap="viridis")
        ax.figure.colorbar(art["image"], ax=ax, label="density $p_T(x)$", shrink=0.85)
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        ax.grid(False)
    _update_density(art, temperature)
    return art


def _update_density(art: dict, temperature: float) -> bool:
    """Redraw the density panel at another temperature in place; False if the panel's set of
    artists would differ (the dashed T = 1 reference comes and goes with T = 1)."""
    ax = art["ax"]
    if "line" in art and art["reference"] != (art["want_reference"] and temperature != 1.0):
        return False
    _, x, y, e, cell = _landscape_grid(art["landscape"])
    p, log_z, entropy = boltzmann_on_grid(e, temperature, cell)
    if y is None:
        art["line"].set_ydata(p)
        art["line"].set_label(f"T = {temperature:.3g}")
        if art["fill"] is not None:
            art["fill"].remove()
        art["fill"] = ax.fill_between(x, p, alpha=0.2, color="C0")
        ax.relim()
        ax.autoscale_view()
        ax.legend(loc="upper center")
    else:
        art["image"].set_data(p)
        art["image"].autoscale()  # colour limits of the new density, as imshow would choose
    ax.set_title(f"T = {temperature:.3g}:  ln Z = {_fmt(log_z)},  S = {_fmt(entropy)} nats")
    art["density"] = p
    return True


def _draw_density(ax, landscape: str, temperature: float, reference: bool = True):
    art = _density_artists(ax, landscape, temperature, reference)
    return _landscape_grid(landscape)[0], art["density"]


def _temperature_build(landscape: str = "tilted double well", temperature: float = 1.0):
    """``temperature_figure`` and the artists ``_temperature_update`` moves."""
    if landscape not in TEMPERATURE_LANDSCAPES:
        raise ValueError(f"landscape must be one of {TEMPERATURE_LANDSCAPES}, got {landscape!r}")
    check_temperature(temperature)
    fig, (ax_e, ax_p) = new_axes(ncols=2, size=(4.4, 3.6))
    density, x, y, e, _ = _landscape_grid(landscape)
    if y is None:
        ax_e.plot(x, e, color="C1")
        ax_e.set_ylim(e.min() - 0.5, e.min() + 8)  # the wells, not the steep quartic walls
        ax_e.set_xlabel("x")
        ax_e.set_ylabel("energy E(x)")
    else:
        shown = np.minimum(e, np.quantile(e, 0.9))  # far corners would swamp the colour scale
        im = ax_e.imshow(shown, origin="lower", extent=(x[0], x[-1], y[0], y[-1]),
                         aspect="equal", cmap="magma")
        fig.colorbar(im, ax=ax_e, label="energy E(x) = -ln p(x)", shrink=0.85)
        ax_e.set_xlabel("$x_1$")
        ax_e.set_ylabel("$x_2$")
        ax_e.grid(False)
    ax_e.set_title(f"energy landscape: {density.name}")
    art = _density_artists(ax_p, landscape, temperature)
    fig.suptitle("Boltzmann distribution $p_T(x) = e^{-E(x)/T} / Z(T)$")
    return fig, art


def _temperature_update(art: dict, landscape: str, temperature: float) -> bool:
    """Move the live figure to another temperature; False for another landscape."""
    if landscape != art["landscape"]:
        return False
    check_temperature(temperature)
    return _update_density(art, temperature)


def temperature_figure(landscape: str = "tilted double well", temperature: float = 1.0) -> Figure:
    """The temperature explorer's figure: the energy E(x) and the Boltzmann density
    p_T(x) = exp(-E(x)/T)/Z(T) at the given temperature (pure function).

    For 1D landscapes the T = 1 density is drawn dashed for reference. For the 2D densities
    the energy is E = -ln p, so p_T ∝ p^(1/T): T < 1 sharpens the modes, T > 1 flattens them.
    """
    return _temperature_build(landscape, temperature)[0]


def temperature_panels(landscape: str = "tilted double well", temperatures=(0.25, 1.0, 4.0)):
    """A static row of p_T(x) at several temperatures (the figure shown beside the widget)."""
    temps = [check_temperature(t) for t in temperatures]
    if not temps:
        raise ValueError("give at least one temperature")
    fig, axes = new_axes(ncols=len(temps), size=(4.0, 3.4))
    for ax, t in zip(np.atleast_1d(axes), temps, strict=True):
        _draw_density(ax, landscape, t, reference=False)
    fig.suptitle(f"{landscape}: the same energy at {len(temps)} temperatures")
    return fig


def temperature_explorer(
    landscape: str = "tilted double well", temperature: float = 1.0
) -> widgets.VBox:
    """A slider for T (log scale, 0.1 to 10) and a choice of landscape, redrawing
    ``temperature_figure``."""
    slider = widgets.FloatLogSlider(
        value=temperature, base=10, min=-1, max=1, step=0.05, readout_format=".3g",
        description="temperature T", continuous_update=True,
        style={"description_width": "initial"}, layout=widgets.Layout(width="420px"),
    )
    slider.add_class("ebm-temperature-slider")
    dropdown = widgets.Dropdown(
        options=list(TEMPERATURE_LANDSCAPES), value=landscape, description="landscape",
        style={"description_width": "initial"},
    )
    dropdown.add_class("ebm-landscape-dropdown")
    return explorer(
        temperature_figure,
        {"landscape": dropdown, "temperature": slider},
        css_class="ebm-temperature-explorer",
        live=(_temperature_build, _temperature_update),
    )
