"""Transverse-field explorer of notebook 14: a pure figure function and its ipywidgets layer.

The figure shows what a quantum Boltzmann machine's Gibbs state ρ = e^{-βH}/Z returns when its
qubits are measured in the σᶻ basis — P_v for every configuration, beside the classical (Γ = 0)
distribution of the same b, W, β — and the transverse magnetisation ⟨σˣ_a⟩ of every qubit.
"""

from __future__ import annotations

import functools

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from .. import quantum
from ..plotting import new_axes
from .base import explorer

__all__ = [
    "DEFAULT_MACHINE",
    "transverse_field_explorer",
    "transverse_field_figure",
    "transverse_field_panels",
]


def _ring(n: int = 4, coupling: float = 1.0, field: float = 0.3):
    b = torch.full((n,), field, dtype=torch.float64)
    W = torch.zeros(n, n, dtype=torch.float64)
    for a in range(n):
        W[a, (a + 1) % n] = W[(a + 1) % n, a] = coupling
    return b, W


#: The explorer's default machine: a ferromagnetic ring of 4 qubits (W_{a,a+1} = 1) in a small
#: longitudinal field (b_a = 0.3), so that at Γ = 0 "all up" (0000) and "all down" (1111) carry
#: most of the probability.
DEFAULT_MACHINE = _ring()


def _labels(n: int) -> list[str]:
    return ["".join(str(int(x)) for x in row) for row in quantum.configurations(n).tolist()]


def _state(b, W, gamma: float, beta: float):
    gamma = float(gamma)
    if not np.isfinite(gamma) or gamma < 0:
        raise ValueError(f"gamma (the transverse field Γ) must be a finite number ≥ 0, got "
                         f"{gamma!r}")
    n = len(b)
    if n > 6:
        raise ValueError(f"the explorer draws one bar per configuration: use at most 6 qubits "
                         f"(64 bars), got {n}")
    quantum_p = quantum.visible_probabilities(b, W, gamma, beta=beta).numpy()
    classical_p = quantum.visible_probabilities(b, W, 0.0, beta=beta).numpy()
    moments = quantum.expectations(b, W, gamma, beta=beta)
    return quantum_p, classical_p, moments


def _draw(ax_p, ax_x, b, W, gamma: float, beta: float, legend: bool = True) -> None:
    p, p0, moments = _state(b, W, gamma, beta)
    n = len(b)
    pos = np.arange(2**n)
    ax_p.bar(pos, p, color="C0", width=0.8, label=f"quantum, Γ = {gamma:.2f}")
    ax_p.plot(pos, p0, "_", color="k", markersize=12, mew=2, label="classical, Γ = 0")
    ax_p.set_xticks(pos)
    ax_p.set_xticklabels(_labels(n), rotation=90, fontsize=8, family="monospace")
    ax_p.set_xlabel("measured configuration v (bit 0 ↔ σᶻ = +1)")
    ax_p.set_ylabel("probability $P_v$")
    ax_p.set_ylim(0, 1.05 * max(p.max(), p0.max()))
    entropy = float(-(p[p > 0] * np.log(p[p > 0])).sum())
    ax_p.set_title(f"$P_v = \\mathrm{{Tr}}(\\Lambda_v \\rho)$: Γ = {gamma:.2f}, β = {beta:.2f}, "
                   f"entropy {entropy:.2f} nats")
    if legend:
        ax_p.legend(loc="upper center", fontsize=8)
    if ax_x is not None:
        qubits = np.arange(n)
        ax_x.bar(qubits - 0.2, moments.x.numpy(), width=0.4, color="C2",
                 label="$\\langle\\sigma^x_a\\rangle$")
        ax_x.bar(qubits + 0.2, moments.z.numpy(), width=0.4, color="C3",
                 label="$\\langle\\sigma^z_a\\rangle$")
        ax_x.axhline(0, color="0.5", lw=0.8)
        ax_x.set_ylim(-1.05, 1.05)
        ax_x.set_xticks(qubits)
        ax_x.set_xlabel("qubit a")
        ax_x.set_ylabel("expectation value")
        ax_x.set_title(f"mean ⟨σˣ⟩ = {float(moments.x.mean()):.2f}")
        ax_x.legend(loc="lower right", fontsize=8)


def _transverse_build(gamma: float = 1.0, beta: float = 1.0, b=None, W=None):
    """``transverse_field_figure`` and the artists ``_transverse_update`` moves."""
    if b is None and W is None:
        b, W = DEFAULT_MACHINE
    elif b is None or W is None:
        raise ValueError("give both b and W, or neither (for the default machine)")
    fig, (ax_p, ax_x) = new_axes(ncols=2, size=(4.6, 3.8))
    _draw(ax_p, ax_x, b, W, gamma, beta)
    fig.suptitle("measuring a quantum Boltzmann machine in the σᶻ basis")
    n = len(b)
    art = {"b": b, "W": W, "ax_p": ax_p, "ax_x": ax_x,
           "bars_p": ax_p.patches[: 2**n], "ticks": ax_p.get_lines()[0],
           "bars_x": ax_x.patches[:n], "bars_z": ax_x.patches[n: 2 * n]}
    return fig, art


def _transverse_update(art: dict, gamma: float, beta: float) -> bool:
    """Move the live figure to another (Γ, β): new bar heights, ticks, limits and titles."""
    p, p0, moments = _state(art["b"], art["W"], gamma, beta)
    ax_p, ax_x = art["ax_p"], art["ax_x"]
    for bar, h in zip(art["bars_p"], p, strict=True):
        bar.set_height(h)
    ax_p.containers[0].set_label(f"quantum, Γ = {gamma:.2f}")  # the legend entry of the bars
    art["ticks"].set_ydata(p0)
    ax_p.set_ylim(0, 1.05 * max(p.max(), p0.max()))
    entropy = float(-(p[p > 0] * np.log(p[p > 0])).sum())
    ax_p.set_title(f"$P_v = \\mathrm{{Tr}}(\\Lambda_v \\rho)$: Γ = {gamma:.2f}, "
                   f"β = {beta:.2f}, entropy {entropy:.2f} nats")
    ax_p.legend(loc="upper center", fontsize=8)
    for bars, values in ((art["bars_x"], moments.x.numpy()), (art["bars_z"], moments.z.numpy())):
        for bar, h in zip(bars, values, strict=True):
            bar.set_height(h)
    ax_x.set_title(f"mean ⟨σˣ⟩ = {float(moments.x.mean()):.2f}")
    return True


def transverse_field_figure(gamma: float = 1.0, beta: float = 1.0, b=None, W=None) -> Figure:
    """The transverse-field explorer's figure (pure function).

    Left: P_v = Tr(Λ_v ρ) of every configuration of a small fully visible QBM at transverse
    field Γ (the same on every qubit) and inverse temperature β, with the classical Γ = 0
    distribution of the same b, W and β as black ticks. Right: ⟨σˣ_a⟩ and ⟨σᶻ_a⟩ per qubit.

    Args:
        gamma: transverse field Γ ≥ 0.
        beta: inverse temperature β > 0.
        b, W: the machine (default ``DEFAULT_MACHINE``, a 4-qubit ferromagnetic ring); at
            most 6 qubits.

    Raises:
        ValueError: Γ < 0 or not finite, β ≤ 0, more than 6 qubits, or a bad machine.
    """
    return _transverse_build(gamma, beta, b, W)[0]


def transverse_field_panels(gammas=(0.0, 0.5, 2.0), beta: float = 1.0, b=None,
                            W=None) -> Figure:
    """A static row of P_v at several transverse fields (the figure shown beside the widget),
    each panel titled with Γ, β and the mean transverse magnetisation ⟨σˣ⟩."""
    gammas = [float(g) for g in gammas]
    if not gammas:
        raise ValueError("give at least one value of gamma")
    if b is None and W is None:
        b, W = DEFAULT_MACHINE
    elif b is None or W is None:
        raise ValueError("give both b and W, or neither (for the default machine)")
    fig, axes = new_axes(ncols=len(gammas), size=(4.0, 3.6))
    for i, (ax, g) in enumerate(zip(np.atleast_1d(axes), gammas, strict=True)):
        _draw(ax, None, b, W, g, beta, legend=i == 0)
        # the static figure stands in for the explorer: it carries ⟨σˣ⟩ in its titles
        sx = float(quantum.expectations(b, W, g, beta=beta).x.mean())
        ax.set_title(f"Γ = {g:.2f}, β = {beta:.2f}: mean ⟨σˣ⟩ = {sx:.2f}")
    fig.suptitle("the same couplings and fields, growing transverse field: P_v spreads out")
    return fig


def transverse_field_explorer(gamma: float = 1.0, beta: float = 1.0, b=None,
                              W=None) -> widgets.VBox:
    """Sliders for Γ (0 to 3) and β (log scale, 0.1 to 10), redrawing
    ``transverse_field_figure`` for the machine (b, W)."""
    gamma_slider = widgets.FloatSlider(
        value=gamma, min=0.0, max=3.0, step=0.05, readout_format=".2f",
        description="transverse field Γ", continuous_update=True,
        style={"description_width": "initial"}, layout=widgets.Layout(width="360px"),
    )
    gamma_slider.add_class("ebm-gamma-slider")
    beta_slider = widgets.FloatLogSlider(
        value=beta, base=10, min=-1, max=1, step=0.05, readout_format=".2f",
        description="inverse temperature β", continuous_update=True,
        style={"description_width": "initial"}, layout=widgets.Layout(width="360px"),
    )
    beta_slider.add_class("ebm-beta-slider")
    figure = functools.partial(transverse_field_figure, b=b, W=W)
    build = functools.partial(_transverse_build, b=b, W=W)
    return explorer(figure, {"gamma": gamma_slider, "beta": beta_slider},
                    css_class="ebm-transverse-field-explorer",
                    live=(build, _transverse_update))
