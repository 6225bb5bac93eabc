"""Tests for the threshold explorer of ``ebm_helpers.widgets`` (notebook 11), without a browser:
the pure figure function (its numbers, flagged examples and bad input) and the ipywidgets
layer."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from ebm_helpers import anomaly, widgets


@pytest.fixture(scope="module")
def scores():
    rng = np.random.default_rng(0)
    return rng.normal(size=60), rng.normal(2.0, 1.0, size=40)


def _texts(fig) -> str:
    return "\n".join(t.get_text() for ax in fig.axes for t in ax.texts) + fig._suptitle.get_text()


def test_figure_reports_the_rates_of_the_threshold(scores):
    s0, s1 = scores
    fig = widgets.threshold_figure(s0, s1, 1.0)
    r = anomaly.detection_rates(s0, s1, 1.0)
    text = _texts(fig)
    assert f"{r.tp} TP, {r.fp} FP" in text
    assert f"precision {r.precision:.3f}" in text and f"recall {r.recall:.3f}" in text
    assert f"FPR {r.fpr:.3f}" in text
    assert len(fig.axes) == 2  # no images: histogram and ROC only
    # the operating point on the ROC panel sits at (FPR, recall)
    point = fig.axes[1].collections[0].get_offsets()[0]
    np.testing.assert_allclose(point, [r.fpr, r.recall])


def test_figure_shows_borderline_flagged_images_and_marks_false_positives():
    s0 = np.array([0.0, 1.0, 3.0])  # one normal example above τ = 2: a false positive
    s1 = np.array([2.5, 4.0, 1.5])
    images = torch.rand(6, 64, generator=torch.Generator().manual_seed(0))
    fig = widgets.threshold_figure(s0, s1, 2.0, images=images)
    ax = fig.axes[2]
    assert "3 of 3" in ax.get_title()
    # one red frame, around the false positive (score 3.0, second-lowest flagged -> cell 1)
    frames = ax.patches
    assert len(frames) == 1
    assert frames[0].get_xy() == pytest.approx((1 * 9 - 0.5, -0.5))
    shown = ax.images[0].get_array()
    np.testing.assert_allclose(shown[:8, :8], images[3].reshape(8, 8).numpy())  # 2.5 first
    empty = widgets.threshold_figure(s0, s1, 10.0, images=images)
    assert "nothing flagged" in empty.axes[2].get_title()
    assert "precision –" in _texts(empty)


def test_figure_rejects_bad_input(scores):
    s0, s1 = scores
    with pytest.raises(ValueError, match="one flattened image per score"):
        widgets.threshold_figure(s0, s1, 0.0, images=torch.rand(10, 64))
    with pytest.raises(ValueError, match="1-D"):
        widgets.threshold_figure(np.ones((3, 2)), s1, 0.0)
    with pytest.raises(ValueError, match="NaN"):
        widgets.threshold_figure(s0, s1, float("nan"))


def test_explorer_classes_slider_and_fast_redraw(scores):
    s0, s1 = scores
    calib = np.random.default_rng(1).normal(size=200)
    box = widgets.threshold_explorer(s0, s1, calibration_scores=calib,
                                     images=torch.rand(100, 64), fpr=0.05)
    assert "ebm-threshold-explorer" in box._dom_classes
    slider = box.controls["fpr"]
    assert "ebm-threshold-slider" in slider._dom_classes
    first = box.image.value
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    t0 = time.perf_counter()
    slider.value = 0.3
    assert time.perf_counter() - t0 < 1.0
    assert box.image.value != first
    # the threshold the explorer uses is the calibration quantile
    tau = anomaly.threshold_at_fpr(calib, 0.3)
    fig = widgets.threshold_figure(s0, s1, tau)
    assert np.mean(calib > tau) == pytest.approx(0.3)
    assert fig is not None
