"""Hopfield recall explorer of notebook 02: a pure figure function and its ipywidgets layer."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from .. import hopfield
from .._validation import count
from .base import explorer

__all__ = ["hopfield_recall_figure", "recall_explorer"]


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
    seed = count(seed, "seed", minimum=0)
    start = hopfield.corrupt(target, corruption, torch.Generator().manual_seed(seed))
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
    return _recall_build(patterns, shape, pattern, corruption, step, seed, n_sweeps)[0]


def _recall_build(patterns, shape, pattern: int = 0, corruption: float = 0.2, step: int = 0,
                  seed: int = 0, n_sweeps: int = 10):
    """``hopfield_recall_figure`` and the artists ``_recall_update`` moves."""
    w, target, start = _recall_start(patterns, pattern, corruption, seed)
    fig, art = hopfield._recall_build(w, start, step, shape, target=target, n_sweeps=n_sweeps)
    fig.suptitle(f"recall of stored pattern {pattern} from {corruption:.0%} flipped bits "
                 f"({w.shape[0]} units, {len(patterns)} patterns stored)")
    art.update(fig=fig, start=(pattern, corruption), inputs=(patterns, seed, n_sweeps),
               target=fig.axes[1].images[0])
    return fig, art


def _recall_restart(art: dict, pattern: int, corruption: float) -> None:
    """Another run (pattern or corruption changed) in the same figure: the target image, the
    whole energy curve with its sweep boundaries, the energy axis' limits and the titles are
    replaced as ``_recall_build`` would draw them (the step is set by ``_recall_update``)."""
    patterns, seed, n_sweeps = art["inputs"]
    w, target, start = _recall_start(patterns, pattern, corruption, seed)
    path = hopfield.recall_path(w, start, n_sweeps)
    hgt, wid = art["shape"]
    art["path"], art["xi"] = path, hopfield._spins(target, "target", w.shape[0])[0][0]
    art["target"].set_data(art["xi"].reshape(hgt, wid).numpy())
    # the energy panel's lines are drawn again, in _recall_build's order (their number
    # depends on the run's length, and the order is what a full draw shows)
    ax_e, n = art["ax_e"], w.shape[0]
    for line in ax_e.get_lines():
        line.remove()
    for boundary in range(n, path.n_steps, n):
        ax_e.axvline(boundary, color="0.85", lw=1, ls=":", zorder=0)
    steps, en = np.arange(path.n_steps + 1), path.energies.numpy()
    ax_e.plot(steps, en, color="0.75", lw=1.5)
    (art["so_far"],) = ax_e.plot(steps[:1], en[:1], color="C0")
    (art["dot"],) = ax_e.plot([0], [en[0]], "o", color="C1")
    ax_e.relim()
    ax_e.autoscale_view()
    end = "a fixed point" if path.converged else "no fixed point yet"
    ax_e.set_title(f"energy never increases\n({end} after {path.n_steps} updates)")
    art["fig"].suptitle(f"recall of stored pattern {pattern} from {corruption:.0%} flipped bits "
                        f"({w.shape[0]} units, {len(patterns)} patterns stored)")
    art["start"] = (pattern, corruption)


def _recall_update(art: dict, pattern: int, corruption: float, step: int) -> bool:
    """Another step of the run in place; another pattern or corruption starts a new run in
    the same figure first."""
    if (pattern, corruption) != art["start"]:
        _recall_restart(art, pattern, corruption)
    return hopfield._recall_update(art, step)


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
                               continuous_update=True, style=style)
    corr.add_class("ebm-corruption-slider")
    steps = widgets.IntSlider(value=step, min=0, max=max_step or 4 * n, step=1,
                              description="single-unit updates", continuous_update=True,
                              style=style, layout=widgets.Layout(width="420px"))
    steps.add_class("ebm-step-slider")

    def figure_fn(pattern, corruption, step):
        return hopfield_recall_figure(patterns, shape, pattern, corruption, step, seed)

    def build(pattern, corruption, step):
        return _recall_build(patterns, shape, pattern, corruption, step, seed)

    return explorer(
        figure_fn,
        {"pattern": dropdown, "corruption": corr, "step": steps},
        css_class="ebm-recall-explorer",
        live=(build, _recall_update),
    )
