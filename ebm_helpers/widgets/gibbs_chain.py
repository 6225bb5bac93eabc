"""Gibbs chain viewer of notebook 03: a pure figure function and its ipywidgets layer."""

from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from .._validation import count
from ..plotting import image_grid, new_axes
from .base import explorer

__all__ = ["gibbs_chain_explorer", "gibbs_chain_figure"]


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
    return _gibbs_build(trace, step, image_shape, free_energy, n_show)[0]


def _gibbs_build(trace, step: int, image_shape: tuple[int, int], free_energy=None,
                 n_show: int = 16):
    """``gibbs_chain_figure`` and the artists ``_gibbs_update`` moves."""
    tr = trace.detach().cpu().numpy() if isinstance(trace, torch.Tensor) else np.asarray(trace)
    try:
        height, width = (count(v, "image_shape") for v in image_shape)
    except TypeError as err:
        raise ValueError(f"image_shape must be (height, width), got {image_shape!r}") from err
    image_shape = (height, width)
    n_show = count(n_show, "n_show")
    if tr.ndim != 3 or tr.shape[2] != image_shape[0] * image_shape[1]:
        raise ValueError(
            f"trace must have shape (steps + 1, chains, {image_shape[0] * image_shape[1]}), "
            f"got {tr.shape}"
        )
    n = min(n_show, tr.shape[1])
    ncols = math.ceil(math.sqrt(n))
    fig, (ax_img, ax_f) = new_axes(ncols=2, size=(4.2, 3.6))
    art = {"tr": tr, "n": n, "ncols": ncols, "image_shape": image_shape, "ax_img": ax_img,
           "ax_f": ax_f, "mean": None}
    art["image"] = ax_img.imshow(image_grid(tr[0, :n], image_shape, ncols), cmap="gray_r",
                                 vmin=0, vmax=1)
    fig.colorbar(art["image"], ax=ax_img, label="pixel value", shrink=0.85)
    ax_img.set_xticks([])
    ax_img.set_yticks([])
    ax_img.grid(False)
    if free_energy is not None:
        fe = free_energy.detach().cpu().numpy() if isinstance(free_energy, torch.Tensor) \
            else np.asarray(free_energy)
        if fe.shape != tr.shape[:2]:
            raise ValueError(f"free_energy must have shape (steps + 1, chains) = {tr.shape[:2]} "
                             f"like the trace, got {fe.shape}")
        steps = np.arange(fe.shape[0])
        art["mean"] = fe.mean(axis=1)
        ax_f.plot(steps, art["mean"], color="C0", label="mean over chains")
        art["vline"] = ax_f.axvline(0, color="C1", ls="--", lw=1.5)
        art["dot"] = ax_f.scatter([0], [art["mean"][0]], color="C1", zorder=3)
        ax_f.set_xscale("symlog", linthresh=1)
        ax_f.set_xlabel("Gibbs step")
        ax_f.set_ylabel("free energy F(v)")
        ax_f.set_title("chains settle into low free energy")
    else:
        ax_f.set_axis_off()
    _gibbs_update(art, step)
    return fig, art


def _gibbs_update(art: dict, step: int) -> bool:
    """Move the live figure to another Gibbs step (always possible in place)."""
    tr, n = art["tr"], art["n"]
    step = count(step, "step", minimum=0)
    if not 0 <= step < tr.shape[0]:
        raise ValueError(f"step must be between 0 and {tr.shape[0] - 1}, got {step}")
    art["image"].set_data(image_grid(tr[step, :n], art["image_shape"], art["ncols"]))
    art["ax_img"].set_title(f"{n} chains after {step} Gibbs step{'s' if step != 1 else ''}")
    if art["mean"] is not None:
        art["vline"].set_xdata([step, step])
        art["vline"].set_label(f"step {step}")
        art["dot"].set_offsets([[step, art["mean"][step]]])
        art["ax_f"].legend(loc="upper right")
    return True


def gibbs_chain_explorer(trace, image_shape: tuple[int, int], free_energy=None,
                         n_show: int = 16) -> widgets.VBox:
    """A slider over the Gibbs steps of a recorded chain, redrawing ``gibbs_chain_figure``."""
    tr_len = int(trace.shape[0])
    slider = widgets.IntSlider(
        value=0, min=0, max=tr_len - 1, step=1, description="Gibbs step",
        continuous_update=True, style={"description_width": "initial"},
        layout=widgets.Layout(width="420px"),
    )
    slider.add_class("ebm-gibbs-step-slider")

    def figure(step: int) -> Figure:
        return gibbs_chain_figure(trace, step, image_shape, free_energy, n_show)

    def build(step: int):
        return _gibbs_build(trace, step, image_shape, free_energy, n_show)

    return explorer(figure, {"step": slider}, css_class="ebm-gibbs-explorer",
                    live=(build, _gibbs_update))
