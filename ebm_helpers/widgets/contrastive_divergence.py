"""Contrastive-divergence explorer of notebook 04: k and learning rate against the exact LL."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from .. import rbm as _rbm
from .._validation import ArgumentTypeError, as_points, count
from ..plotting import new_axes
from .base import explorer

__all__ = ["cd_explorer", "cd_ll_figure", "cd_ll_grid"]

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

    from .. import config

    train = as_points(train, name="train").to(torch.float32)
    test = as_points(test, train.shape[1], name="test").to(torch.float32)
    n_hidden = count(n_hidden, "n_hidden", maximum=25)  # exact log Z after every epoch
    epochs = count(epochs, "epochs")
    seed = count(seed, "seed", minimum=0)
    try:
        grid = [(count(k, "k"), float(lr), bool(p)) for p in persistent for k in ks for lr in lrs]
    except TypeError as err:
        raise ValueError("ks, lrs and persistent must be lists, e.g. ks=(1, 3), lrs=(0.01, 0.1)"
                         ) from err
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
    return _cd_build(curves, k, lr, persistent, baseline)[0]


def _cd_key(curves: dict, k, lr, persistent) -> tuple:
    if not isinstance(curves, dict) or not curves:
        raise ArgumentTypeError("curves must be the (non-empty) dict returned by cd_ll_grid")
    try:
        key = (int(k), float(lr), bool(persistent))
    except (TypeError, ValueError) as err:
        raise ValueError(f"k must be a whole number and lr a number, got {k!r}, {lr!r}") from err
    if key not in curves:
        raise ValueError(
            f"(k={k}, lr={lr:g}, {_CD_METHODS[bool(persistent)]}) is not on the precomputed "
            "grid; compute it with cd_ll_grid(..., ks=..., lrs=...) first"
        )
    return key


def _cd_build(curves: dict, k: int = 1, lr: float = 0.1, persistent: bool = False,
              baseline=None):
    """``cd_ll_figure`` and the artists ``_cd_update`` moves."""
    _cd_key(curves, k, lr, persistent)
    ks, lrs = _grid_axes(curves)
    fig, (ax_c, ax_h) = new_axes(ncols=2, size=(4.6, 3.6))
    ax_c.set_xlabel("epoch")
    ax_c.set_ylabel("exact test log-likelihood (nats/image)")
    art = {"fig": fig, "curves": curves, "baseline": baseline, "ks": ks, "lrs": lrs,
           "ax_c": ax_c, "ax_h": ax_h, "method": None}
    art["image"] = ax_h.imshow(np.zeros((len(ks), len(lrs))), origin="lower", aspect="auto",
                               cmap="viridis")
    fig.colorbar(art["image"], ax=ax_h, label="final test LL (nats/image)", shrink=0.9)
    ax_h.set_xticks(range(len(lrs)), [f"{x:g}" for x in lrs])
    ax_h.set_yticks(range(len(ks)), [str(x) for x in ks])
    ax_h.set_xlabel("learning rate")
    ax_h.set_ylabel("Gibbs steps k")
    ax_h.grid(False)
    art["cells"] = [[ax_h.text(j, i, "", ha="center", va="center", fontsize=8, color="w")
                     for j in range(len(lrs))] for i in range(len(ks))]
    art["frame"] = ax_h.add_patch(_rectangle((0, 0), 1, 1, fill=False, ec="r", lw=2.5))
    fig.suptitle("contrastive divergence: Gibbs steps k and learning rate vs exact likelihood")
    _cd_update(art, k, lr, persistent)
    return fig, art


def _cd_update(art: dict, k, lr, persistent) -> bool:
    """Move the live figure to another run of the grid (always possible in place)."""
    curves, ks, lrs = art["curves"], art["ks"], art["lrs"]
    key = _cd_key(curves, k, lr, persistent)
    method = _CD_METHODS[key[2]]
    ax_c, ax_h = art["ax_c"], art["ax_h"]
    for line in list(ax_c.lines):  # the left panel is a handful of lines: draw them afresh
        line.remove()
    curve = curves[key]
    epochs = np.arange(len(curve))
    for other in ks:
        c = curves.get((other, key[1], key[2]))
        if c is not None and other != key[0]:
            ax_c.plot(epochs, c, lw=1.0, alpha=0.6, label=f"{method}-{other}")
    ax_c.plot(epochs, curve, color="k", lw=2.5, label=f"{method}-{key[0]} (chosen)")
    if art["baseline"] is not None:
        ax_c.axhline(float(art["baseline"]), color="0.5", ls="--", lw=1.2,
                     label="independent pixels")
    ax_c.relim()
    ax_c.autoscale_view()
    finite = np.concatenate([c[np.isfinite(c)] for c in curves.values()])
    if finite.size:
        top = float(finite.max())
        ax_c.set_ylim(top - max(8.0, 1.2 * (top - np.median(finite))), top + 0.5)
    final = curve[np.isfinite(curve)]
    note = f"final {final[-1]:.2f}" if len(final) == len(curve) else "diverged"
    ax_c.set_title(f"{method}-{key[0]}, lr = {key[1]:g}: {note}")
    ax_c.legend(fontsize=8, loc="lower right")

    if art["method"] != key[2]:  # the heat map depends on the method only
        table = np.full((len(ks), len(lrs)), np.nan)
        for i, kk in enumerate(ks):
            for j, ll in enumerate(lrs):
                c = curves.get((kk, ll, key[2]))
                if c is not None:
                    table[i, j] = c[-1]
        art["image"].set_data(table)
        art["image"].autoscale()  # the colour limits imshow would choose
        for i in range(len(ks)):
            for j in range(len(lrs)):
                text = "div." if np.isnan(table[i, j]) else f"{table[i, j]:.1f}"
                art["cells"][i][j].set_text(text)
        art["method"] = key[2]
    i, j = ks.index(key[0]), lrs.index(key[1])
    art["frame"].set_xy((j - 0.5, i - 0.5))
    ax_h.set_title(f"{method}: final exact test LL over the grid")
    return True


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
                                       continuous_update=True, style=style)
    k_slider.add_class("ebm-cd-k-slider")
    lr_slider = widgets.SelectionSlider(options=[(f"{x:g}", x) for x in lrs], value=float(lr),
                                        description="learning rate", continuous_update=True,
                                        style=style, layout=widgets.Layout(width="360px"))
    lr_slider.add_class("ebm-cd-lr-slider")
    method = widgets.ToggleButtons(options=[(_CD_METHODS[m], m) for m in methods],
                                   value=bool(persistent), description="method", style=style)
    method.add_class("ebm-cd-method")

    def figure_fn(k, lr, persistent):
        return cd_ll_figure(curves, k, lr, persistent, baseline=baseline)

    def build(k, lr, persistent):
        return _cd_build(curves, k, lr, persistent, baseline=baseline)

    return explorer(
        figure_fn,
        {"k": k_slider, "lr": lr_slider, "persistent": method},
        css_class="ebm-cd-explorer",
        live=(build, _cd_update),
    )
