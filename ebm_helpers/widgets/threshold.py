"""Threshold explorer of notebook 11: a pure figure function and its ipywidgets layer."""

from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from ..plotting import image_grid, new_axes
from .base import explorer

__all__ = ["threshold_explorer", "threshold_figure"]


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
    return _threshold_build(scores_normal, scores_anomaly, threshold, images, image_shape,
                            n_show, names, title)[0]


def _threshold_build(scores_normal, scores_anomaly, threshold: float, images=None,
                     image_shape: tuple[int, int] = (8, 8), n_show: int = 24,
                     names: tuple[str, str] = ("normal", "anomaly"), title: str | None = None):
    """``threshold_figure`` and the artists ``_threshold_update`` moves."""
    from .. import anomaly, metrics
    from .._validation import count

    s0 = anomaly.to_scores(scores_normal, "scores_normal")
    s1 = anomaly.to_scores(scores_anomaly, "scores_anomaly")
    rates = anomaly.detection_rates(s0, s1, threshold)
    n_show = count(n_show, "n_show", minimum=0)
    try:
        image_shape = tuple(count(v, "image_shape") for v in image_shape)
    except TypeError as err:
        raise ValueError(f"image_shape must be (height, width), got {image_shape!r}") from err
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
    vline = ax_h.axvline(threshold, color="k", ls="--", lw=1.5, label="threshold τ")
    ax_h.set_xlabel("anomaly score (energy)")
    ax_h.set_ylabel("count")
    ax_h.legend(loc="upper right", fontsize=8)
    ax_h.set_title("scores and the threshold")

    labels = np.r_[np.zeros(s0.size), np.ones(s1.size)]
    fpr, tpr, _ = metrics.roc_curve(both, labels)
    ax_r.plot(fpr, tpr, color="C2", label=f"AUROC {metrics.auroc(both, labels):.3f}")
    ax_r.plot([0, 1], [0, 1], color="0.6", ls=":", lw=1)
    point = ax_r.scatter([rates.fpr], [rates.recall], color="k", zorder=3, label="τ")
    ax_r.set_xlabel("false-positive rate")
    ax_r.set_ylabel("recall (true-positive rate)")
    ax_r.set_xlim(-0.02, 1.02)
    ax_r.set_ylim(-0.02, 1.02)
    ax_r.legend(loc="center right", fontsize=8)
    text = ax_r.text(0.97, 0.04, "", transform=ax_r.transAxes, va="bottom", ha="right",
                     multialignment="left", fontsize=8, family="monospace",
                     bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "0.7"})
    ax_r.set_title("ROC curve and operating point")
    art = {"fig": fig, "s0": s0, "s1": s1, "both": both, "imgs": imgs, "n_show": n_show,
           "image_shape": image_shape, "vline": vline, "point": point, "text": text,
           "ax_i": None, "image": None, "frames": []}
    if imgs is not None:
        ax_i = art["ax_i"] = axes[2]
        ax_i.set_xticks([])
        ax_i.set_yticks([])
        ax_i.grid(False)
    _threshold_update(art, threshold, title)
    return fig, art


def _threshold_update(art: dict, threshold: float, title: str | None = None) -> bool:
    """Move the live figure to another threshold τ; False when the flagged panel switches
    between "nothing flagged" and images (the static figure then has no image at all)."""
    from matplotlib.patches import Rectangle

    from .. import anomaly

    s0, both = art["s0"], art["both"]
    rates = anomaly.detection_rates(s0, art["s1"], threshold)
    art["vline"].set_xdata([threshold, threshold])
    art["point"].set_offsets([[rates.fpr, rates.recall]])
    art["text"].set_text(
        f"flagged: {rates.tp + rates.fp} ({rates.tp} TP, {rates.fp} FP)\n"
        f"precision {_fmt_rate(rates.precision)}\nrecall {_fmt_rate(rates.recall)}\n"
        f"FPR {_fmt_rate(rates.fpr)}\nF1 {_fmt_rate(rates.f1)}")
    if art["ax_i"] is not None:
        ax_i, image_shape = art["ax_i"], art["image_shape"]
        flagged = np.flatnonzero(both > threshold)
        shown = flagged[np.argsort(both[flagged], kind="stable")][: art["n_show"]]
        ncols = 6
        if "any" in art and art["any"] != bool(shown.size):
            return False
        art["any"] = bool(shown.size)
        for frame in art["frames"]:
            frame.remove()
        art["frames"] = []
        if shown.size:
            grid = image_grid(art["imgs"][shown], image_shape, ncols)
            if art["image"] is None:  # first drawn here, as the pure figure draws it
                art["image"] = ax_i.imshow(grid, cmap="gray_r", vmin=0, vmax=1)
            else:
                art["image"].set_data(grid)
                art["image"].set_extent((-0.5, grid.shape[1] - 0.5, grid.shape[0] - 0.5,
                                         -0.5))
            h, w = image_shape
            for k, idx in enumerate(shown):
                if idx < s0.size:  # a normal example flagged: false positive
                    r, c = divmod(k, ncols)
                    art["frames"].append(ax_i.add_patch(Rectangle(
                        (c * (w + 1) - 0.5, r * (h + 1) - 0.5), w, h, fill=False, ec="r",
                        lw=2)))
            ax_i.set_title(f"borderline flagged ({shown.size} of {flagged.size}); red = FP",
                           fontsize=10)
        else:
            ax_i.set_title("nothing flagged", fontsize=10)
    art["fig"].suptitle(title or f"flag score > τ = {threshold:.4g}")
    return True


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
    from .. import anomaly
    from .._validation import in_range

    calib = anomaly.to_scores(scores_normal if calibration_scores is None
                              else calibration_scores, "calibration_scores")
    max_fpr = in_range(max_fpr, "max_fpr", 0.0, 1.0, low_open=True)
    fpr = in_range(fpr, "fpr", 0.0, max_fpr, hint=" (the slider runs from 0 to max_fpr)")
    slider = widgets.FloatSlider(
        value=fpr, min=0.0, max=max_fpr, step=0.01, readout_format=".2f",
        description="target false-positive rate", continuous_update=True,
        style={"description_width": "initial"}, layout=widgets.Layout(width="460px"),
    )
    slider.add_class("ebm-threshold-slider")

    def title(fpr: float, tau: float) -> str:
        return f"target FPR {fpr:.2f} on held-out normals → τ = {tau:.4g}"

    def figure_fn(fpr: float) -> Figure:
        tau = anomaly.threshold_at_fpr(calib, fpr)
        return threshold_figure(scores_normal, scores_anomaly, tau, images, image_shape,
                                names=names, title=title(fpr, tau))

    def build(fpr: float):
        tau = anomaly.threshold_at_fpr(calib, fpr)
        return _threshold_build(scores_normal, scores_anomaly, tau, images, image_shape,
                                names=names, title=title(fpr, tau))

    def update(art: dict, fpr: float) -> bool:
        tau = anomaly.threshold_at_fpr(calib, fpr)
        return _threshold_update(art, tau, title(fpr, tau))

    return explorer(figure_fn, {"fpr": slider}, css_class="ebm-threshold-explorer",
                    live=(build, update))
