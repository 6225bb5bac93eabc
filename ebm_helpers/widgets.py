"""Interactive explorers, built in two layers so they can be tested without a browser.

1. A **pure figure function**: parameter values in, a ``matplotlib.figure.Figure`` out, with no
   hidden state (e.g. ``temperature_figure(landscape, temperature)``). Unit tests call it
   directly; notebooks also call it for the static figure shown beside each widget, so the
   lesson survives where widgets do not render (static HTML, a PDF handout).
2. A **thin ipywidgets layer** (``explorer``): controls whose values are passed to the figure
   function, and an ``ipywidgets.Image`` showing the PNG it renders. Every explorer in the
   collection is made with ``explorer``; the CSS classes (``ebm-explorer``,
   ``ebm-explorer-image``, plus one per control) let browser tests find them.

Holds the temperature explorer of notebook 01, the Hopfield recall explorer of notebook 02 and
the Gibbs chain viewer of notebook 03; later notebooks add theirs here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from . import energies
from ._validation import temperature as check_temperature
from .plotting import figure_to_png, grid_2d, image_grid, new_axes

__all__ = [
    "TEMPERATURE_LANDSCAPES",
    "boltzmann_on_grid",
    "explorer",
    "gibbs_chain_explorer",
    "gibbs_chain_figure",
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


def explorer(
    figure_fn: Callable[..., Figure],
    controls: dict[str, widgets.ValueWidget],
    css_class: str | None = None,
    dpi: int = 80,
) -> widgets.VBox:
    """Wire controls to a pure figure function; return the explorer widget.

    Whenever a control's value changes, ``figure_fn(**{name: control.value})`` is called and
    its PNG replaces the image. The returned ``VBox`` has a ``refresh()`` attribute that redraws
    on demand, and ``image`` and ``controls`` attributes for tests.

    Args:
        figure_fn: pure function of the control values returning a ``Figure``.
        controls: keyword name -> ipywidgets control (slider, dropdown, ...).
        css_class: an extra CSS class for the box (e.g. ``"ebm-temperature-explorer"``).
        dpi: resolution of the rendered PNG.
    """
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
    image.add_class("ebm-explorer-image")
    status = widgets.HTML()

    def refresh(_change=None) -> None:
        values = {name: c.value for name, c in controls.items()}
        try:
            image.value = figure_to_png(figure_fn(**values), dpi=dpi)
            status.value = ""
        except ValueError as err:  # bad combination of values: say so instead of a traceback
            status.value = f"<span style='color:#b00'>{err}</span>"

    for control in controls.values():
        control.observe(refresh, names="value")
    box = widgets.VBox([widgets.HBox(list(controls.values())), status, image])
    box.add_class("ebm-explorer")
    if css_class:
        box.add_class(css_class)
    box.refresh, box.image, box.controls = refresh, image, controls
    refresh()
    return box


# --------------------------------------------------------------------------------------------
# Temperature explorer (notebook 01)
# --------------------------------------------------------------------------------------------


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


def _draw_density(ax, landscape: str, temperature: float, reference: bool = True):
    density, x, y, e, cell = _landscape_grid(landscape)
    p, log_z, entropy = boltzmann_on_grid(e, temperature, cell)
    if y is None:
        if reference and temperature != 1.0:
            p1, _, _ = boltzmann_on_grid(e, 1.0, cell)
            ax.plot(x, p1, "--", color="0.5", lw=1.5, label="T = 1")
        ax.plot(x, p, color="C0", label=f"T = {temperature:.3g}")
        ax.fill_between(x, p, alpha=0.2, color="C0")
        ax.set_xlabel("x")
        ax.set_ylabel("density $p_T(x)$")
        ax.legend(loc="upper center")
    else:
        im = ax.imshow(p, origin="lower", extent=(x[0], x[-1], y[0], y[-1]), aspect="equal",
                       cmap="viridis")
        ax.figure.colorbar(im, ax=ax, label="density $p_T(x)$", shrink=0.85)
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        ax.grid(False)
    ax.set_title(f"T = {temperature:.3g}:  ln Z = {_fmt(log_z)},  S = {_fmt(entropy)} nats")
    return density, p


def temperature_figure(landscape: str = "tilted double well", temperature: float = 1.0) -> Figure:
    """The temperature explorer's figure: the energy E(x) and the Boltzmann density
    p_T(x) = exp(-E(x)/T)/Z(T) at the given temperature (pure function).

    For 1D landscapes the T = 1 density is drawn dashed for reference. For the 2D densities
    the energy is E = -ln p, so p_T ∝ p^(1/T): T < 1 sharpens the modes, T > 1 flattens them.
    """
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
    _draw_density(ax_p, landscape, temperature)
    fig.suptitle("Boltzmann distribution $p_T(x) = e^{-E(x)/T} / Z(T)$")
    return fig


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
        description="temperature T", continuous_update=False,
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
    )


# --------------------------------------------------------------------------------------------
# Hopfield recall explorer (notebook 02)
# --------------------------------------------------------------------------------------------

from . import hopfield  # noqa: E402 - appended section; hopfield imports nothing from here

__all__ += ["hopfield_recall_figure", "recall_explorer"]


def _recall_start(patterns, pattern: int, corruption: float, seed: int):
    """The stored patterns as float64 ±1, the Hebbian weights, the target and its corrupted copy
    (exactly ⌊corruption·N + ½⌋ bits flipped, positions drawn from a generator seeded by
    ``seed``)."""
    xi = torch.as_tensor(np.asarray(patterns) if not isinstance(patterns, torch.Tensor)
                         else patterns).to(torch.float64)
    if xi.ndim != 2:
        raise ValueError(f"patterns must have shape (P, N), got {tuple(xi.shape)}")
    n_pat = xi.shape[0]
    if isinstance(pattern, bool) or not isinstance(pattern, (int, np.integer)) or not (
        0 <= pattern < n_pat
    ):
        raise ValueError(f"pattern must be an index in [0, {n_pat}), got {pattern!r}")
    w = hopfield.hebbian_weights(xi)
    target = xi[int(pattern)]
    start = hopfield.corrupt(target, corruption, torch.Generator().manual_seed(int(seed)))
    return w, target, start


def hopfield_recall_figure(
    patterns,
    shape: tuple[int, int],
    pattern: int = 0,
    corruption: float = 0.2,
    step: int = 0,
    seed: int = 0,
    n_sweeps: int = 10,
) -> Figure:
    """The recall explorer's figure (pure function of its arguments).

    Stores ``patterns`` with the Hebb rule (``hopfield.hebbian_weights``), flips a fraction
    ``corruption`` of the bits of stored pattern number ``pattern`` (seeded by ``seed``) and
    shows the state after ``step`` asynchronous single-unit updates in index order, the
    target, and the energy E(s) = -½ sᵀWs along the run (``hopfield.recall_figure``).

    Args:
        patterns: (P, N) ±1 patterns to store.
        shape: (height, width) of one pattern drawn as an image, height·width = N.
        pattern: index of the stored pattern to corrupt and recall.
        corruption: fraction of bits flipped in the starting state, in [0, 1].
        step: number of single-unit updates to show (0 = the corrupted start).
        seed: seed of the corrupted bit positions.
        n_sweeps: the most sweeps of the run.
    """
    w, target, start = _recall_start(patterns, pattern, corruption, seed)
    fig = hopfield.recall_figure(w, start, step, shape, target=target, n_sweeps=n_sweeps)
    fig.suptitle(f"recall of stored pattern {pattern} from {corruption:.0%} flipped bits "
                 f"({w.shape[0]} units, {len(patterns)} patterns stored)")
    return fig


def recall_explorer(
    patterns,
    shape: tuple[int, int],
    names=None,
    pattern: int = 0,
    corruption: float = 0.2,
    step: int = 0,
    seed: int = 0,
    max_step: int | None = None,
) -> widgets.VBox:
    """Corrupt a stored pattern, step the asynchronous dynamics, watch the energy fall.

    Controls: a dropdown of the stored patterns (``ebm-pattern-dropdown``), a slider for the
    fraction of flipped bits (``ebm-corruption-slider``) and one for the number of single-unit
    updates (``ebm-step-slider``, up to ``max_step``, default 4 sweeps = 4N); the box has the
    class ``ebm-recall-explorer``. Redraws ``hopfield_recall_figure``.

    Args:
        patterns: (P, N) ±1 patterns to store.
        shape: (height, width) image shape of a pattern.
        names: optional labels of the patterns for the dropdown (default "pattern 0", ...).
        pattern, corruption, step, seed: the starting values (see ``hopfield_recall_figure``).
        max_step: the slider's largest step.
    """
    n_pat, n = len(patterns), int(np.prod(shape))
    names = [f"pattern {k}" for k in range(n_pat)] if names is None else list(names)
    if len(names) != n_pat:
        raise ValueError(f"got {len(names)} names for {n_pat} patterns")
    style = {"description_width": "initial"}
    dropdown = widgets.Dropdown(options=[(str(nm), k) for k, nm in enumerate(names)],
                                value=pattern, description="stored pattern", style=style)
    dropdown.add_class("ebm-pattern-dropdown")
    corr = widgets.FloatSlider(value=corruption, min=0.0, max=0.5, step=0.05,
                               readout_format=".0%", description="flipped bits",
                               continuous_update=False, style=style)
    corr.add_class("ebm-corruption-slider")
    steps = widgets.IntSlider(value=step, min=0, max=max_step or 4 * n, step=1,
                              description="single-unit updates", continuous_update=False,
                              style=style, layout=widgets.Layout(width="420px"))
    steps.add_class("ebm-step-slider")

    def figure_fn(pattern, corruption, step):
        return hopfield_recall_figure(patterns, shape, pattern, corruption, step, seed)

    return explorer(
        figure_fn,
        {"pattern": dropdown, "corruption": corr, "step": steps},
        css_class="ebm-recall-explorer",
    )


# --------------------------------------------------------------------------------------------
# Gibbs chain viewer (notebook 03)
# --------------------------------------------------------------------------------------------


def gibbs_chain_figure(
    trace, step: int, image_shape: tuple[int, int], free_energy=None, n_show: int = 16
) -> Figure:
    """One frame of a block-Gibbs chain viewer (pure function).

    Args:
        trace: (n_steps + 1, n_chains, n_visible) visible states or probabilities, the start
            included (e.g. recorded with ``rbm.sample_v`` after every Gibbs step).
        step: which Gibbs step to show, 0 ≤ step ≤ n_steps.
        image_shape: (height, width) of one visible vector.
        free_energy: optional (n_steps + 1, n_chains) free energies F(v) of the trace, drawn as
            the chains' mean with the current step marked.
        n_show: how many chains to tile.
    """
    tr = trace.detach().cpu().numpy() if isinstance(trace, torch.Tensor) else np.asarray(trace)
    if tr.ndim != 3 or tr.shape[2] != image_shape[0] * image_shape[1]:
        raise ValueError(
            f"trace must have shape (steps + 1, chains, {image_shape[0] * image_shape[1]}), "
            f"got {tr.shape}"
        )
    if not 0 <= step < tr.shape[0]:
        raise ValueError(f"step must be between 0 and {tr.shape[0] - 1}, got {step}")
    n = min(n_show, tr.shape[1])
    ncols = math.ceil(math.sqrt(n))
    fig, (ax_img, ax_f) = new_axes(ncols=2, size=(4.2, 3.6))
    im = ax_img.imshow(image_grid(tr[step, :n], image_shape, ncols), cmap="gray_r", vmin=0,
                       vmax=1)
    fig.colorbar(im, ax=ax_img, label="pixel value", shrink=0.85)
    ax_img.set_title(f"{n} chains after {step} Gibbs step{'s' if step != 1 else ''}")
    ax_img.set_xticks([])
    ax_img.set_yticks([])
    ax_img.grid(False)
    if free_energy is not None:
        fe = free_energy.detach().cpu().numpy() if isinstance(free_energy, torch.Tensor) \
            else np.asarray(free_energy)
        steps = np.arange(fe.shape[0])
        mean = fe.mean(axis=1)
        ax_f.plot(steps, mean, color="C0", label="mean over chains")
        ax_f.axvline(step, color="C1", ls="--", lw=1.5, label=f"step {step}")
        ax_f.scatter([step], [mean[step]], color="C1", zorder=3)
        ax_f.set_xscale("symlog", linthresh=1)
        ax_f.set_xlabel("Gibbs step")
        ax_f.set_ylabel("free energy F(v)")
        ax_f.set_title("chains settle into low free energy")
        ax_f.legend(loc="upper right")
    else:
        ax_f.set_axis_off()
    return fig


def gibbs_chain_explorer(trace, image_shape: tuple[int, int], free_energy=None,
                         n_show: int = 16) -> widgets.VBox:
    """A slider over the Gibbs steps of a recorded chain, redrawing ``gibbs_chain_figure``."""
    tr_len = int(trace.shape[0])
    slider = widgets.IntSlider(
        value=0, min=0, max=tr_len - 1, step=1, description="Gibbs step",
        continuous_update=False, style={"description_width": "initial"},
        layout=widgets.Layout(width="420px"),
    )
    slider.add_class("ebm-gibbs-step-slider")

    def figure(step: int) -> Figure:
        return gibbs_chain_figure(trace, step, image_shape, free_energy, n_show)

    return explorer(figure, {"step": slider}, css_class="ebm-gibbs-explorer")


# --------------------------------------------------------------------------------------------
# Contrastive-divergence explorer (notebook 04)
# --------------------------------------------------------------------------------------------

from . import rbm as _rbm  # noqa: E402 - appended section; rbm imports nothing from here

__all__ += ["cd_explorer", "cd_ll_figure", "cd_ll_grid"]

_CD_METHODS = {False: "CD", True: "PCD"}


def cd_ll_grid(
    train,
    test,
    ks=(1, 3, 10),
    lrs=(0.01, 0.03, 0.1, 0.3),
    persistent=(False, True),
    n_hidden: int = 16,
    epochs: int = 15,
    batch_size: int = 20,
    momentum: float = 0.0,
    weight_decay: float = 1e-4,
    seed: int = 0,
    progress: bool | None = None,
) -> dict:
    """Exact test log-likelihood curves of small RBMs trained on a grid of (k, lr, persistent).

    Every run starts from the same initialisation (``RBM.init_from_data`` with a generator
    seeded by ``seed``: W ~ N(0, 0.01²), visible biases at the data's log-odds) and trains with
    ``rbm.train_rbm`` at a *constant* learning rate and constant momentum, so that only k, lr
    and CD/PCD differ. After every epoch the exact mean test log-likelihood (nats/image) is
    recorded; entry 0 is the initial model. A run that diverges (``RuntimeError``) records NaN
    from then on. Precompute the grid once, then ``cd_ll_figure`` and ``cd_explorer`` only draw.

    Args:
        train, test: (N, n_v) binary data.
        ks, lrs, persistent: the grid's Gibbs steps, learning rates and CD (False) / PCD (True).
        n_hidden: hidden units (≤ 25 for exact log Z; 16 keeps each evaluation fast).
        epochs, batch_size, momentum, weight_decay: the rest of the recipe, shared by all runs.
        seed: seed of each run's generator (the same for every run).
        progress: a ``tqdm`` bar over the runs (``None``: unless ``config.progress_disabled()``).

    Returns:
        ``{(k, lr, persistent): (epochs + 1,) float64 array}``.
    """
    from tqdm.auto import tqdm

    from . import config

    train = torch.as_tensor(train, dtype=torch.float32)
    test = torch.as_tensor(test, dtype=torch.float32)
    grid = [(int(k), float(lr), bool(p)) for p in persistent for k in ks for lr in lrs]
    if not grid:
        raise ValueError("the grid is empty: give at least one k, one lr and one persistent")
    disable = config.progress_disabled() if progress is None else not progress
    curves = {}
    for k, lr, pers in tqdm(grid, desc="CD grid", unit="run", disable=disable):
        g = torch.Generator().manual_seed(int(seed))
        model = _rbm.RBM(train.shape[1], n_hidden, generator=g)
        model.init_from_data(train, generator=g)
        lls = [float(model.log_likelihood(test).mean())]

        def record(epoch, m, metrics, lls=lls):
            lls.append(float(m.log_likelihood(test).mean()))

        try:
            _rbm.train_rbm(model, train, epochs=epochs, lr=lr, lr_schedule="constant", k=k,
                           persistent=pers, batch_size=batch_size, momentum=momentum,
                           weight_decay=weight_decay, generator=g, callback=record,
                           init="keep", progress=False)
        except RuntimeError:  # diverged: the weights are ruined from here on
            pass
        curve = np.full(epochs + 1, np.nan)
        curve[: len(lls)] = lls
        curves[(k, lr, pers)] = curve
    return curves


def _grid_axes(curves: dict):
    ks = sorted({key[0] for key in curves})
    lrs = sorted({key[1] for key in curves})
    return ks, lrs


def cd_ll_figure(
    curves: dict, k: int = 1, lr: float = 0.1, persistent: bool = False, baseline=None
) -> Figure:
    """The k / learning-rate explorer's figure (pure function of the precomputed ``curves``).

    Left: the exact test log-likelihood per epoch of the chosen run (bold), with the runs of the
    other k at the same lr and method (thin) and, if given, a ``baseline`` (e.g. the independent
    -pixel model's test log-likelihood) dashed. Right: the final log-likelihood of every
    (k, lr) for the chosen method as a heat map, the chosen cell outlined.

    Args:
        curves: the output of ``cd_ll_grid``.
        k, lr, persistent: the run to highlight (must be on the grid).
        baseline: a reference log-likelihood in nats/image, or ``None``.
    """
    key = (int(k), float(lr), bool(persistent))
    if key not in curves:
        raise ValueError(
            f"(k={k}, lr={lr:g}, {_CD_METHODS[bool(persistent)]}) is not on the precomputed "
            "grid; compute it with cd_ll_grid(..., ks=..., lrs=...) first"
        )
    ks, lrs = _grid_axes(curves)
    method = _CD_METHODS[key[2]]
    fig, (ax_c, ax_h) = new_axes(ncols=2, size=(4.6, 3.6))
    curve = curves[key]
    epochs = np.arange(len(curve))
    for other in ks:
        c = curves.get((other, key[1], key[2]))
        if c is not None and other != key[0]:
            ax_c.plot(epochs, c, lw=1.0, alpha=0.6, label=f"{method}-{other}")
    ax_c.plot(epochs, curve, color="k", lw=2.5, label=f"{method}-{key[0]} (chosen)")
    if baseline is not None:
        ax_c.axhline(float(baseline), color="0.5", ls="--", lw=1.2, label="independent pixels")
    finite = np.concatenate([c[np.isfinite(c)] for c in curves.values()])
    if finite.size:
        top = float(finite.max())
        ax_c.set_ylim(top - max(8.0, 1.2 * (top - np.median(finite))), top + 0.5)
    ax_c.set_xlabel("epoch")
    ax_c.set_ylabel("exact test log-likelihood (nats/image)")
    final = curve[np.isfinite(curve)]
    note = f"final {final[-1]:.2f}" if len(final) == len(curve) else "diverged"
    ax_c.set_title(f"{method}-{key[0]}, lr = {key[1]:g}: {note}")
    ax_c.legend(fontsize=8, loc="lower right")

    table = np.full((len(ks), len(lrs)), np.nan)
    for i, kk in enumerate(ks):
        for j, ll in enumerate(lrs):
            c = curves.get((kk, ll, key[2]))
            if c is not None:
                table[i, j] = c[-1]
    im = ax_h.imshow(table, origin="lower", aspect="auto", cmap="viridis")
    fig.colorbar(im, ax=ax_h, label="final test LL (nats/image)", shrink=0.9)
    ax_h.set_xticks(range(len(lrs)), [f"{x:g}" for x in lrs])
    ax_h.set_yticks(range(len(ks)), [str(x) for x in ks])
    ax_h.set_xlabel("learning rate")
    ax_h.set_ylabel("Gibbs steps k")
    ax_h.grid(False)
    for i in range(len(ks)):
        for j in range(len(lrs)):
            text = "div." if np.isnan(table[i, j]) else f"{table[i, j]:.1f}"
            ax_h.text(j, i, text, ha="center", va="center", fontsize=8, color="w")
    i, j = ks.index(key[0]), lrs.index(key[1])
    ax_h.add_patch(_rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="r", lw=2.5))
    ax_h.set_title(f"{method}: final exact test LL over the grid")
    fig.suptitle("contrastive divergence: Gibbs steps k and learning rate vs exact likelihood")
    return fig


def _rectangle(*args, **kwargs):
    """A ``matplotlib.patches.Rectangle`` (imported lazily)."""
    from matplotlib.patches import Rectangle

    return Rectangle(*args, **kwargs)


def cd_explorer(
    curves: dict, k: int = 1, lr: float = 0.1, persistent: bool = False, baseline=None
) -> widgets.VBox:
    """Sliders over the precomputed (k, lr) grid and a CD/PCD choice, redrawing ``cd_ll_figure``.

    Controls: ``ebm-cd-k-slider`` (k), ``ebm-cd-lr-slider`` (learning rate), ``ebm-cd-method``
    (CD or PCD); the box has the class ``ebm-cd-explorer``. Moving a control only redraws (the
    training happened in ``cd_ll_grid``), so it takes well under a second.
    """
    ks, lrs = _grid_axes(curves)
    methods = sorted({key[2] for key in curves})
    style = {"description_width": "initial"}
    k_slider = widgets.SelectionSlider(options=ks, value=int(k), description="Gibbs steps k",
                                       continuous_update=False, style=style)
    k_slider.add_class("ebm-cd-k-slider")
    lr_slider = widgets.SelectionSlider(options=[(f"{x:g}", x) for x in lrs], value=float(lr),
                                        description="learning rate", continuous_update=False,
                                        style=style, layout=widgets.Layout(width="360px"))
    lr_slider.add_class("ebm-cd-lr-slider")
    method = widgets.ToggleButtons(options=[(_CD_METHODS[m], m) for m in methods],
                                   value=bool(persistent), description="method", style=style)
    method.add_class("ebm-cd-method")

    def figure_fn(k, lr, persistent):
        return cd_ll_figure(curves, k, lr, persistent, baseline=baseline)

    return explorer(
        figure_fn,
        {"k": k_slider, "lr": lr_slider, "persistent": method},
        css_class="ebm-cd-explorer",
    )


# --------------------------------------------------------------------------------------------
# --- notebook 08: noise-level explorer ---
# --------------------------------------------------------------------------------------------

__all__ += ["NOISE_BOUNDS", "noise_explorer", "noise_level_figure", "noise_level_panels"]

#: The box shown by the noise-level explorer (the two-mode mixture sits at x₁ = ∓2).
NOISE_BOUNDS = ((-5.0, 5.0), (-3.5, 3.5))


def _noise_mixture(mixture):
    from . import score  # lazy: score imports energies and samplers only

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
    from ._validation import positive

    sigma = positive(sigma, "sigma", "; the noise level of the perturbed density")
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
    from ._validation import positive

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



# --------------------------------------------------------------------------------------------
# --- notebook 07: Langevin landscape explorer ---
# --------------------------------------------------------------------------------------------

__all__ += ["LANGEVIN_DENSITIES", "langevin_explorer", "langevin_figure", "langevin_run",
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

    x_{k+1} = x_k - ε ∇E(x_k)/T + s·√(2ε) ξ_k with E = -ln p of the toy density, step ε,
    temperature T and noise scale s (``samplers.langevin``). The same seed gives the same
    starts and noise, so a run with more steps extends a run with fewer.

    Returns:
        A ``samplers.Chain`` whose ``trace`` is (n_kept, n_chains, 2), the start included.

    Raises:
        ValueError: unknown density or bad arguments. RuntimeError: the chain diverged (step
        size too large for the energy's curvature).
    """
    from . import samplers

    dens = _check_langevin_density(density)[0]
    (x0_lo, x0_hi), (y0_lo, y0_hi) = dens.bounds
    g = torch.Generator().manual_seed(int(seed))
    u = torch.rand(int(n_chains), 2, generator=g, dtype=torch.float64)
    x0 = torch.stack([x0_lo + (x0_hi - x0_lo) * u[:, 0], y0_lo + (y0_hi - y0_lo) * u[:, 1]], 1)
    return samplers.langevin(dens.energy, x0, n_steps, step_size, temperature=temperature,
                             generator=g, return_trace=True, thin=thin, noise_scale=noise_scale)


def langevin_stationary(density: str, temperature: float = 1.0, noise_scale: float = 1.0):
    """The density small-step Langevin approaches, p_eff ∝ exp(-E/(T·s²)), on the plotting grid.

    Noise of standard deviation s·√(2ε) with a drift -ε∇E/T is exact Langevin for the energy
    E/(T s²): the decoupled practice (s < 1) samples a *colder* distribution.

    Returns:
        ``(density, xs, ys, t_eff)``: the (n, n) normalised density (rows indexed by y), the
        grid axes and the effective temperature T·s². ``noise_scale = 0`` (gradient descent,
        T_eff = 0) raises ValueError: the limit is a point mass at the minima.
    """
    _, xs, ys, e, cell = _check_langevin_density(density)
    t_eff = check_temperature(temperature) * float(noise_scale) ** 2
    if not t_eff > 0:
        raise ValueError("noise_scale = 0 is gradient descent: its limit is not a density")
    p, _, _ = boltzmann_on_grid(e, t_eff, cell)
    return p, xs, ys, t_eff


def langevin_figure(density: str = "8 gaussians", step_size: float = 0.01,
                    noise_scale: float = 1.0, temperature: float = 1.0, n_steps: int = 100,
                    n_chains: int = 200, n_paths: int = 6, seed: int = 0) -> Figure:
    """The Langevin explorer's figure (pure function of its arguments).

    Left: the energy E = -ln p (filled contours) with ``n_paths`` seeded trajectories (start ○,
    end ×) and the final states of all ``n_chains`` chains. Right: the density that Langevin
    with these settings approaches for small steps, exp(-E/(T·s²))/Z, under the same final
    states; the title gives the grid total variation of the final states to that prediction
    and to the true density p (T = 1, s = 1), both on a 20×20 grid at the same sample size.
    A diverging chain (step too large) is reported on the figure instead of raising.
    """
    dens, xs, ys, e, _ = _check_langevin_density(density)
    n_steps = int(n_steps)
    fig, (ax_e, ax_p) = new_axes(ncols=2, size=(4.6, 3.9))
    bounds = dens.bounds
    shown = np.minimum(e, np.quantile(e, 0.9))  # the far corners would swamp the colours
    im = ax_e.contourf(xs, ys, shown, levels=15, cmap="magma")
    fig.colorbar(im, ax=ax_e, label="energy E(x) = -ln p(x)", shrink=0.85)
    try:
        chain = langevin_run(density, step_size, noise_scale, temperature, n_steps, n_chains,
                             seed, thin=max(1, n_steps // 150))
        error = None
    except RuntimeError as err:
        chain, error = None, str(err).split(":")[0]  # "the chain diverged at step k"
    t_eff = check_temperature(temperature) * float(noise_scale) ** 2
    if chain is not None:
        tr = chain.trace.numpy()
        for j in range(min(n_paths, tr.shape[1])):
            ax_e.plot(tr[:, j, 0], tr[:, j, 1], color="w", lw=1.0, alpha=0.9)
            ax_e.plot(tr[0, j, 0], tr[0, j, 1], "o", mfc="none", mec="w", ms=6)
            ax_e.plot(tr[-1, j, 0], tr[-1, j, 1], "x", color="c", ms=7, mew=2)
        ax_e.scatter(chain.x[:, 0], chain.x[:, 1], s=6, color="c", alpha=0.8, lw=0)
    else:
        ax_e.text(0.5, 0.5, f"{error}:\nlower the step size", transform=ax_e.transAxes,
                  ha="center", va="center", fontsize=10,
                  bbox={"facecolor": "w", "edgecolor": "r", "alpha": 0.9})
    ax_e.set_title(f"{dens.name}: {n_steps} steps of size {step_size:.3g}")
    if t_eff > 0:
        p, _, _, _ = langevin_stationary(density, temperature, noise_scale)
        im = ax_p.imshow(p, origin="lower", extent=(xs[0], xs[-1], ys[0], ys[-1]),
                         aspect="auto", cmap="viridis")
        fig.colorbar(im, ax=ax_p, label="density", shrink=0.85)
        title = f"prediction $e^{{-E/(T s^2)}}/Z$, T·s² = {t_eff:.3g}"
    else:
        title = "noise 0: gradient descent to the minima"
    if chain is not None:
        ax_p.scatter(chain.x[:, 0], chain.x[:, 1], s=4, color="w", alpha=0.7, lw=0)
        if t_eff > 0:
            from . import metrics

            hist = metrics.histogram_probs(chain.x, bounds, 20)
            pred = metrics.cell_probs(lambda z: -dens.energy(z) / t_eff, bounds, 20, sub=2)
            truth = metrics.cell_probs(dens.log_prob, bounds, 20, sub=2)
            title += (f"\nTV to prediction {metrics.total_variation(hist, pred):.2f}, "
                      f"to p {metrics.total_variation(hist, truth):.2f}")
    ax_p.set_title(title, fontsize=10)
    for ax in (ax_e, ax_p):
        ax.set_xlim(*bounds[0])
        ax.set_ylim(*bounds[1])
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        ax.grid(False)
    fig.suptitle(f"Langevin: x ← x - ε∇E/T + s√(2ε) ξ   (ε = {step_size:.3g}, "
                 f"s = {float(noise_scale):.2f}, T = {float(temperature):.2f})")
    return fig


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
                                            continuous_update=False),
        "noise_scale": widgets.FloatSlider(value=noise_scale, min=0.0, max=1.5, step=0.05,
                                           description="noise scale s", style=style,
                                           continuous_update=False),
        "temperature": widgets.FloatLogSlider(value=temperature, base=10, min=-1, max=1,
                                              step=0.05, readout_format=".3g",
                                              description="temperature T", style=style,
                                              continuous_update=False),
        "n_steps": widgets.IntSlider(value=n_steps, min=0, max=500, step=10,
                                     description="steps", style=style,
                                     continuous_update=False),
    }
    for name, cls in [("density", "density"), ("step_size", "step"), ("noise_scale", "noise"),
                      ("temperature", "temperature"), ("n_steps", "slider")]:
        controls[name].add_class(f"ebm-langevin-{cls}")
    box = explorer(langevin_figure, controls, css_class="ebm-langevin-explorer")
    # five controls do not fit one row: two rows
    row = list(controls.values())
    box.children = (widgets.VBox([widgets.HBox(row[:3]), widgets.HBox(row[3:])]),
                    *box.children[1:])
    return box


# --------------------------------------------------------------------------------------------
# --- notebook 09: diffusion-time explorer ---
# --------------------------------------------------------------------------------------------

__all__ += ["diffusion_explorer", "diffusion_time_figure", "diffusion_time_panels"]


def _diffusion_inputs(x0, noise, schedule, reverse, t):
    """Check the explorer's inputs; return (x0, noise, schedule, t) with t an int in 0..T."""
    from . import diffusion

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
    from . import diffusion

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
    x0, noise, schedule, t = _diffusion_inputs(x0, noise, schedule, reverse, t)
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


# --------------------------------------------------------------------------------------------
# --- notebook 11: threshold explorer ---
# --------------------------------------------------------------------------------------------

__all__ += ["threshold_explorer", "threshold_figure"]


def _fmt_rate(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.3f}"


def threshold_figure(
    scores_normal,
    scores_anomaly,
    threshold: float,
    images=None,
    image_shape: tuple[int, int] = (8, 8),
    n_show: int = 24,
    names: tuple[str, str] = ("normal", "anomaly"),
    title: str | None = None,
) -> Figure:
    """The threshold explorer's figure (pure function): what the rule ``score > threshold`` flags.

    Left: histograms of the normal and anomalous scores on shared bins, the threshold as a
    vertical line, and the counts and rates it gives (precision, recall, false-positive rate,
    F1; ``anomaly.detection_rates``). Middle: the ROC curve with the threshold's operating point.
    Right (when ``images`` is given): the flagged examples with the lowest scores, i.e. the
    borderline ones, false positives (flagged normal examples) framed in red.

    Args:
        scores_normal: (n₀,) scores of normal examples; scores_anomaly: (n₁,) of anomalies.
        threshold: τ; an example is flagged when its score exceeds τ.
        images: optional (n₀ + n₁, H·W) images, the normal examples first, in score order.
        image_shape: (H, W).
        n_show: the most flagged examples shown.
        names: labels of the two groups.
        title: figure title (default: the threshold).
    """
    from matplotlib.patches import Rectangle

    from . import anomaly, metrics

    s0 = anomaly.to_scores(scores_normal, "scores_normal")
    s1 = anomaly.to_scores(scores_anomaly, "scores_anomaly")
    rates = anomaly.detection_rates(s0, s1, threshold)
    imgs = None
    if images is not None:
        imgs = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) \
            else np.asarray(images, dtype=float)
        if imgs.ndim != 2 or imgs.shape != (s0.size + s1.size, image_shape[0] * image_shape[1]):
            raise ValueError(
                f"images must have shape ({s0.size + s1.size}, "
                f"{image_shape[0] * image_shape[1]}): one flattened image per score, the "
                f"normal examples first; got {imgs.shape}"
            )
    fig, axes = new_axes(ncols=3 if imgs is not None else 2, size=(4.3, 3.7))
    ax_h, ax_r = axes[0], axes[1]
    both = np.r_[s0, s1]
    bins = np.linspace(both.min(), both.max(), 41)
    ax_h.hist(s0, bins=bins, alpha=0.6, color="C0", label=f"{names[0]} ({s0.size})")
    ax_h.hist(s1, bins=bins, alpha=0.6, color="C1", label=f"{names[1]} ({s1.size})")
    ax_h.axvline(threshold, color="k", ls="--", lw=1.5, label="threshold τ")
    ax_h.set_xlabel("anomaly score (energy)")
    ax_h.set_ylabel("count")
    ax_h.legend(loc="upper right", fontsize=8)
    ax_h.set_title("scores and the threshold")

    labels = np.r_[np.zeros(s0.size), np.ones(s1.size)]
    fpr, tpr, _ = metrics.roc_curve(both, labels)
    ax_r.plot(fpr, tpr, color="C2", label=f"AUROC {metrics.auroc(both, labels):.3f}")
    ax_r.plot([0, 1], [0, 1], color="0.6", ls=":", lw=1)
    ax_r.scatter([rates.fpr], [rates.recall], color="k", zorder=3, label="τ")
    ax_r.set_xlabel("false-positive rate")
    ax_r.set_ylabel("recall (true-positive rate)")
    ax_r.set_xlim(-0.02, 1.02)
    ax_r.set_ylim(-0.02, 1.02)
    ax_r.legend(loc="center right", fontsize=8)
    ax_r.text(0.97, 0.04,
              f"flagged: {rates.tp + rates.fp} ({rates.tp} TP, {rates.fp} FP)\n"
              f"precision {_fmt_rate(rates.precision)}\nrecall {_fmt_rate(rates.recall)}\n"
              f"FPR {_fmt_rate(rates.fpr)}\nF1 {_fmt_rate(rates.f1)}",
              transform=ax_r.transAxes, va="bottom", ha="right", multialignment="left",
              fontsize=8, family="monospace",
              bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "0.7"})
    ax_r.set_title("ROC curve and operating point")

    if imgs is not None:
        ax_i = axes[2]
        flagged = np.flatnonzero(both > threshold)
        shown = flagged[np.argsort(both[flagged], kind="stable")][:n_show]
        ncols = 6
        ax_i.set_xticks([])
        ax_i.set_yticks([])
        ax_i.grid(False)
        if shown.size:
            ax_i.imshow(image_grid(imgs[shown], image_shape, ncols), cmap="gray_r", vmin=0,
                        vmax=1)
            h, w = image_shape
            for k, idx in enumerate(shown):
                if idx < s0.size:  # a normal example flagged: false positive
                    r, c = divmod(k, ncols)
                    ax_i.add_patch(Rectangle((c * (w + 1) - 0.5, r * (h + 1) - 0.5), w, h,
                                             fill=False, ec="r", lw=2))
            ax_i.set_title(f"borderline flagged ({shown.size} of {flagged.size}); red = FP",
                           fontsize=10)
        else:
            ax_i.set_title("nothing flagged", fontsize=10)
    fig.suptitle(title or f"flag score > τ = {threshold:.4g}")
    return fig


def threshold_explorer(
    scores_normal,
    scores_anomaly,
    calibration_scores=None,
    images=None,
    image_shape: tuple[int, int] = (8, 8),
    fpr: float = 0.05,
    max_fpr: float = 0.5,
    names: tuple[str, str] = ("normal", "anomaly"),
) -> widgets.VBox:
    """A slider over the target false-positive rate; the threshold is the matching quantile of
    the held-out normal ``calibration_scores`` (``anomaly.threshold_at_fpr``; default: the normal
    test scores themselves), and ``threshold_figure`` shows what it flags on the test scores.

    The slider has the class ``ebm-threshold-slider``, the box ``ebm-threshold-explorer``.
    """
    from . import anomaly

    calib = anomaly.to_scores(scores_normal if calibration_scores is None
                              else calibration_scores, "calibration_scores")
    slider = widgets.FloatSlider(
        value=fpr, min=0.0, max=max_fpr, step=0.01, readout_format=".2f",
        description="target false-positive rate", continuous_update=False,
        style={"description_width": "initial"}, layout=widgets.Layout(width="460px"),
    )
    slider.add_class("ebm-threshold-slider")

    def figure_fn(fpr: float) -> Figure:
        tau = anomaly.threshold_at_fpr(calib, fpr)
        return threshold_figure(scores_normal, scores_anomaly, tau, images, image_shape,
                                names=names,
                                title=f"target FPR {fpr:.2f} on held-out normals → τ = {tau:.4g}")

    return explorer(figure_fn, {"fpr": slider}, css_class="ebm-threshold-explorer")
