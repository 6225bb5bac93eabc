"""Langevin landscape explorer of notebook 07: a pure figure function and its ipywidgets layer."""

from __future__ import annotations

from functools import lru_cache

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from .. import energies
from .._validation import count
from .._validation import temperature as check_temperature
from ..plotting import grid_2d, new_axes
from .base import explorer
from .temperature import boltzmann_on_grid

__all__ = ["LANGEVIN_DENSITIES", "langevin_explorer", "langevin_figure", "langevin_run",
            "langevin_stationary"]

#: Toy densities offered by the Langevin explorer: smooth energies (not the checkerboard's) that
#: are cheap enough to run a few hundred chains for 500 steps in well under a second.
LANGEVIN_DENSITIES = ("8 gaussians", "two moons", "rings")


def _check_langevin_density(density: str):
    if density not in LANGEVIN_DENSITIES:
        raise ValueError(f"density must be one of {LANGEVIN_DENSITIES}, got {density!r}")
    return _langevin_landscape(density)


@lru_cache(maxsize=8)
def _langevin_landscape(density: str, n: int = 120):
    """The density object and its energy E = -ln p on an n×n plotting grid (cached)."""
    dens = energies.get_density(density)
    xs, ys, pts = grid_2d(dens.bounds, n)
    with torch.no_grad():
        e = dens.energy(pts).numpy().reshape(n, n)
    cell = float((xs[1] - xs[0]) * (ys[1] - ys[0]))
    return dens, xs.numpy(), ys.numpy(), e, cell


def langevin_run(density: str = "8 gaussians", step_size: float = 0.01,
                 noise_scale: float = 1.0, temperature: float = 1.0, n_steps: int = 100,
                 n_chains: int = 200, seed: int = 0, thin: int = 1):
    """Langevin chains on a toy energy, started uniformly in its plotting box (seeded).

    x_{k+1} = x_k - ε ∇E(x_k)/T + κ·√(2ε) ξ_k with E = -ln p of the toy density, step ε,
    temperature T and noise scale κ (``samplers.langevin``, with the density's closed-form
    score -∇E instead of autograd). The same seed gives the same starts and noise, so a run
    with more steps extends a run with fewer.

    Returns:
        A ``samplers.Chain`` whose ``trace`` is (n_kept, n_chains, 2), the start included.

    Raises:
        ValueError: unknown density or bad arguments. RuntimeError: the chain diverged (step
        size too large for the energy's curvature).
    """
    from .. import samplers

    dens = _check_langevin_density(density)[0]
    (x0_lo, x0_hi), (y0_lo, y0_hi) = dens.bounds
    n_chains = count(n_chains, "n_chains")
    g = torch.Generator().manual_seed(count(seed, "seed", minimum=0))
    u = torch.rand(n_chains, 2, generator=g, dtype=torch.float64)
    x0 = torch.stack([x0_lo + (x0_hi - x0_lo) * u[:, 0], y0_lo + (y0_hi - y0_lo) * u[:, 1]], 1)
    return samplers.langevin(dens.energy, x0, n_steps, step_size, temperature=temperature,
                             generator=g, return_trace=True, thin=thin, noise_scale=noise_scale,
                             score=dens.score)


def langevin_stationary(density: str, temperature: float = 1.0, noise_scale: float = 1.0):
    """The density small-step Langevin approaches, p_eff ∝ exp(-E/(T·κ²)), on the plotting grid.

    Noise of standard deviation κ·√(2ε) with a drift -ε∇E/T is exact Langevin for the energy
    E/(T κ²): the decoupled practice (κ < 1) samples a *colder* distribution.

    Returns:
        ``(density, xs, ys, t_eff)``: the (n, n) normalised density (rows indexed by y), the
        grid axes and the effective temperature T·κ². ``noise_scale = 0`` (gradient descent,
        T_eff = 0) raises ValueError: the limit is a point mass at the minima.
    """
    _, xs, ys, e, cell = _check_langevin_density(density)
    t_eff = check_temperature(temperature) * float(noise_scale) ** 2
    if not t_eff > 0:
        raise ValueError("noise_scale = 0 is gradient descent: its limit is not a density")
    p, _, _ = boltzmann_on_grid(e, t_eff, cell)
    return p, xs, ys, t_eff


class _GrowingRun:
    """A seeded ``langevin_run`` that can be extended: the explorer's steps slider only ever
    needs a prefix of the longest run asked for so far, and more steps continue the same
    chains with the same generator (so the states equal a direct run of that length)."""

    def __init__(self, density, step_size, noise_scale, temperature, n_chains, seed):
        dens = _check_langevin_density(density)[0]
        (x0_lo, x0_hi), (y0_lo, y0_hi) = dens.bounds
        self.g = torch.Generator().manual_seed(seed)  # the same stream as langevin_run
        u = torch.rand(n_chains, 2, generator=self.g, dtype=torch.float64)
        self.trace = torch.stack([x0_lo + (x0_hi - x0_lo) * u[:, 0],
                                  y0_lo + (y0_hi - y0_lo) * u[:, 1]], 1)[None]
        self.args = (dens, step_size, temperature, noise_scale)
        self.broken = False  # diverged while extending: callers run directly

    def states(self, n_steps: int):
        """The full trace of the first ``n_steps`` steps, or None after a divergence."""
        from .. import samplers

        have = self.trace.shape[0] - 1
        if n_steps > have and not self.broken:
            dens, step_size, temperature, noise_scale = self.args
            try:
                more = samplers.langevin(dens.energy, self.trace[-1], n_steps - have, step_size,
                                         temperature=temperature, generator=self.g,
                                         return_trace=True, noise_scale=noise_scale,
                                         score=dens.score).trace
                self.trace = torch.cat([self.trace, more[1:]])
            except RuntimeError:
                self.broken = True
        return None if n_steps > self.trace.shape[0] - 1 else self.trace[: n_steps + 1]


@lru_cache(maxsize=16)
def _growing_run(density: str, step_size: float, noise_scale: float, temperature: float,
                 n_chains: int, seed: int) -> _GrowingRun:
    return _GrowingRun(density, step_size, noise_scale, temperature, n_chains, seed)


def _chain_states(density, step_size, noise_scale, temperature, n_steps, n_chains, seed,
                  cached: bool):
    """(trace thinned as ``langevin_figure`` draws it, final states), or the divergence message.

    With ``cached`` the states are sliced from a cached run (``_GrowingRun``), which equals
    running ``n_steps`` directly (a run with more steps extends a run with fewer)."""
    thin = max(1, n_steps // 150)
    if cached:
        full = _growing_run(density, float(step_size), float(noise_scale), float(temperature),
                            n_chains, seed).states(n_steps)
        if full is not None:
            return full[:: thin].numpy(), full[-1], None
    try:
        chain = langevin_run(density, step_size, noise_scale, temperature, n_steps, n_chains,
                             seed, thin=thin)
    except RuntimeError as err:
        return None, None, str(err).split(":")[0]  # "the chain diverged at step k"
    return chain.trace.numpy(), chain.x, None


@lru_cache(maxsize=64)
def _tv_references(density: str, t_eff: float):
    """Cell probabilities of the small-step prediction and of the true density (20×20 grid)."""
    from .. import metrics

    dens = energies.get_density(density)
    pred = metrics.cell_probs(lambda z: -dens.energy(z) / t_eff, dens.bounds, 20, sub=2)
    truth = metrics.cell_probs(dens.log_prob, dens.bounds, 20, sub=2)
    return pred, truth


def _langevin_build(density: str = "8 gaussians", step_size: float = 0.01,
                    noise_scale: float = 1.0, temperature: float = 1.0, n_steps: int = 100,
                    n_chains: int = 200, n_paths: int = 6, seed: int = 0,
                    cached: bool = False):
    """``langevin_figure`` and the artists ``_langevin_update`` moves."""
    dens, xs, ys, e, _ = _check_langevin_density(density)
    n_steps = count(n_steps, "n_steps", minimum=0)
    n_paths = count(n_paths, "n_paths", minimum=0)
    n_chains = count(n_chains, "n_chains")
    seed = count(seed, "seed", minimum=0)
    fig, (ax_e, ax_p) = new_axes(ncols=2, size=(4.6, 3.9))
    shown = np.minimum(e, np.quantile(e, 0.9))  # the far corners would swamp the colours
    im = ax_e.contourf(xs, ys, shown, levels=15, cmap="magma")
    fig.colorbar(im, ax=ax_e, label="energy E(x) = -ln p(x)", shrink=0.85)
    trace, x, error = _chain_states(density, step_size, noise_scale, temperature, n_steps,
                                    n_chains, seed, cached)
    t_eff = check_temperature(temperature) * float(noise_scale) ** 2
    art = {"fig": fig, "ax_e": ax_e, "ax_p": ax_p, "density": density, "n_chains": n_chains,
           "n_paths": n_paths, "seed": seed, "cached": cached, "ok": error is None,
           "hot": t_eff > 0, "paths": [], "image": None}
    if error is None:
        for _ in range(min(n_paths, n_chains)):
            art["paths"].append((
                ax_e.plot([], [], color="w", lw=1.0, alpha=0.9)[0],
                ax_e.plot([], [], "o", mfc="none", mec="w", ms=6)[0],
                ax_e.plot([], [], "x", color="c", ms=7, mew=2)[0]))
        art["dots_e"] = ax_e.scatter(x[:, 0], x[:, 1], s=6, color="c", alpha=0.8, lw=0)
    else:
        ax_e.text(0.5, 0.5, f"{error}:\nlower the step size", transform=ax_e.transAxes,
                  ha="center", va="center", fontsize=10,
                  bbox={"facecolor": "w", "edgecolor": "r", "alpha": 0.9})
    if t_eff > 0:
        art["image"] = ax_p.imshow(np.zeros_like(e), origin="lower",
                                   extent=(xs[0], xs[-1], ys[0], ys[-1]), aspect="auto",
                                   cmap="viridis")
        fig.colorbar(art["image"], ax=ax_p, label="density", shrink=0.85)
    if error is None:
        art["dots_p"] = ax_p.scatter(x[:, 0], x[:, 1], s=4, color="w", alpha=0.7, lw=0)
    for ax in (ax_e, ax_p):
        ax.set_xlim(*dens.bounds[0])
        ax.set_ylim(*dens.bounds[1])
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        ax.grid(False)
    _langevin_update(art, density, step_size, noise_scale, temperature, n_steps,
                     _states=(trace, x, error))
    return fig, art


def _langevin_update(art: dict, density: str, step_size: float, noise_scale: float,
                     temperature: float, n_steps: int, _states=None) -> bool:
    """Move the live figure to new settings; False when the figure needs other artists
    (another density, a chain that diverges or recovers, noise switched off or on)."""
    n_steps = count(n_steps, "n_steps", minimum=0)
    t_eff = check_temperature(temperature) * float(noise_scale) ** 2
    if density != art["density"] or (t_eff > 0) != art["hot"]:
        return False
    trace, x, error = _states or _chain_states(density, step_size, noise_scale, temperature,
                                               n_steps, art["n_chains"], art["seed"],
                                               art["cached"])
    if (error is None) != art["ok"]:
        return False
    dens = _check_langevin_density(density)[0]
    ax_e, ax_p = art["ax_e"], art["ax_p"]
    if error is None:
        for j, (path, start, end) in enumerate(art["paths"]):
            path.set_data(trace[:, j, 0], trace[:, j, 1])
            start.set_data([trace[0, j, 0]], [trace[0, j, 1]])
            end.set_data([trace[-1, j, 0]], [trace[-1, j, 1]])
        art["dots_e"].set_offsets(x.numpy())
        art["dots_p"].set_offsets(x.numpy())
    ax_e.set_title(f"{dens.name}: {n_steps} steps")  # ε is in the suptitle
    if t_eff > 0:
        # the prediction depends on T·κ² only: another step size or number of steps leaves the
        # image and its colour bar as they are (a new colour scale redraws the bar)
        if art.get("t_eff") != t_eff:
            p, _, _, _ = langevin_stationary(density, temperature, noise_scale)
            art["image"].set_data(p)
            art["image"].autoscale()
            art["t_eff"] = t_eff
        title = f"prediction $e^{{-E/(T \\kappa^2)}}/Z$, T·κ² = {t_eff:.3g}"
    else:
        title = "noise 0: gradient descent to the minima"
    if error is None and t_eff > 0:
        from .. import metrics

        hist = metrics.histogram_probs(x, dens.bounds, 20)
        pred, truth = _tv_references(density, t_eff)
        title += (f"\nTV to prediction {metrics.total_variation(hist, pred):.2f}, "
                  f"to p {metrics.total_variation(hist, truth):.2f}")
    ax_p.set_title(title, fontsize=10)
    art["fig"].suptitle(f"Langevin: x ← x - ε∇E/T + κ√(2ε) ξ   (ε = {step_size:.3g}, "
                        f"κ = {float(noise_scale):.2f}, T = {float(temperature):.2f})")
    return True


def langevin_figure(density: str = "8 gaussians", step_size: float = 0.01,
                    noise_scale: float = 1.0, temperature: float = 1.0, n_steps: int = 100,
                    n_chains: int = 200, n_paths: int = 6, seed: int = 0) -> Figure:
    """The Langevin explorer's figure (pure function of its arguments).

    Left: the energy E = -ln p (filled contours) with ``n_paths`` seeded trajectories (start ○,
    end ×) and the final states of all ``n_chains`` chains. Right: the density that Langevin
    with these settings approaches for small steps, exp(-E/(T·κ²))/Z, under the same final
    states; the title gives the grid total variation of the final states to that prediction
    and to the true density p (T = 1, κ = 1), both on a 20×20 grid at the same sample size.
    A diverging chain (step too large) is reported on the figure instead of raising.
    """
    return _langevin_build(density, step_size, noise_scale, temperature, n_steps, n_chains,
                           n_paths, seed)[0]


def langevin_explorer(density: str = "8 gaussians", step_size: float = 0.01,
                      noise_scale: float = 1.0, temperature: float = 1.0,
                      n_steps: int = 100) -> widgets.VBox:
    """Controls for ``langevin_figure``: density, step size, noise scale, temperature, steps.

    CSS classes: box ``ebm-langevin-explorer``; the number-of-steps slider (the main one)
    ``ebm-langevin-slider``; ``ebm-langevin-density``, ``ebm-langevin-step``,
    ``ebm-langevin-noise``, ``ebm-langevin-temperature`` for the others.
    """
    style = {"description_width": "initial"}
    controls = {
        "density": widgets.Dropdown(options=list(LANGEVIN_DENSITIES), value=density,
                                    description="density", style=style),
        "step_size": widgets.FloatLogSlider(value=step_size, base=10, min=-3.5, max=-0.5,
                                            step=0.05, readout_format=".3g",
                                            description="step size ε", style=style,
                                            continuous_update=True),
        "noise_scale": widgets.FloatSlider(value=noise_scale, min=0.0, max=1.5, step=0.05,
                                           description="noise scale κ", style=style,
                                           continuous_update=True),
        "temperature": widgets.FloatLogSlider(value=temperature, base=10, min=-1, max=1,
                                              step=0.05, readout_format=".3g",
                                              description="temperature T", style=style,
                                              continuous_update=True),
        "n_steps": widgets.IntSlider(value=n_steps, min=0, max=500, step=10,
                                     description="steps", style=style,
                                     continuous_update=True),
    }
    for name, cls in [("density", "density"), ("step_size", "step"), ("noise_scale", "noise"),
                      ("temperature", "temperature"), ("n_steps", "slider")]:
        controls[name].add_class(f"ebm-langevin-{cls}")

    def build(density, step_size, noise_scale, temperature, n_steps):
        return _langevin_build(density, step_size, noise_scale, temperature, n_steps,
                               cached=True)

    box = explorer(langevin_figure, controls, css_class="ebm-langevin-explorer",
                   live=(build, _langevin_update))
    # five controls do not fit one row: two rows
    row = list(controls.values())
    box.children = (widgets.VBox([widgets.HBox(row[:3]), widgets.HBox(row[3:])]),
                    *box.children[1:])
    return box
