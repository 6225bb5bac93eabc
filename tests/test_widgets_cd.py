"""Tests for the contrastive-divergence explorer of ``ebm_helpers.widgets`` (notebook 04),
without a browser: the grid of exact learning curves, the pure figure function and the
ipywidgets layer."""

from __future__ import annotations

import time

import ipywidgets as ipw
import numpy as np
import pytest
import torch

from ebm_helpers import data, widgets
from ebm_helpers import rbm as R


@pytest.fixture(scope="module")
def digits():
    return data.load_digits(binarize=True)


@pytest.fixture(scope="module")
def curves(digits):
    return widgets.cd_ll_grid(digits.x_train[:200], digits.x_test[:100], ks=(1, 3),
                              lrs=(0.03, 0.1), epochs=3, n_hidden=8, progress=False)


def test_grid_keys_shapes_and_start(curves, digits):
    assert set(curves) == {(k, lr, p) for k in (1, 3) for lr in (0.03, 0.1)
                           for p in (False, True)}
    starts = {float(c[0]) for c in curves.values()}
    assert len(starts) == 1  # every run starts from the same initial model
    for c in curves.values():
        assert c.shape == (4,) and np.all(np.isfinite(c))
    # the initial model: visible biases at the log-odds and tiny weights, close to the
    # independent-pixel baseline of the training subset
    base = R.independent_bernoulli_log_likelihood(
        digits.x_test[:100], R.base_rate_log_odds(digits.x_train[:200])).mean()
    assert starts.pop() == pytest.approx(float(base), abs=0.5)


def test_grid_is_deterministic_and_matches_train_rbm(digits, curves):
    again = widgets.cd_ll_grid(digits.x_train[:200], digits.x_test[:100], ks=(1,),
                               lrs=(0.1,), persistent=(False,), epochs=3, n_hidden=8,
                               progress=False)
    np.testing.assert_array_equal(again[(1, 0.1, False)], curves[(1, 0.1, False)])
    g = torch.Generator().manual_seed(0)
    model = R.RBM(64, 8, generator=g)
    model.init_from_data(digits.x_train[:200], generator=g)
    R.train_rbm(model, digits.x_train[:200], epochs=3, lr=0.1, lr_schedule="constant",
                momentum=0.0, generator=g, init="keep", progress=False)
    ll = float(model.log_likelihood(digits.x_test[:100]).mean())
    assert curves[(1, 0.1, False)][-1] == pytest.approx(ll, abs=1e-5)


def test_diverged_run_is_nan(digits):
    out = widgets.cd_ll_grid(digits.x_train[:100], digits.x_test[:50], ks=(1,), lrs=(1e4,),
                             persistent=(False,), epochs=2, n_hidden=4, progress=False)
    assert np.isnan(out[(1, 1e4, False)][-1])
    fig = widgets.cd_ll_figure(out, k=1, lr=1e4)
    assert "diverged" in fig.axes[0].get_title()


def test_figure_is_pure_labelled_and_fast(curves):
    t0 = time.perf_counter()
    fig = widgets.cd_ll_figure(curves, k=3, lr=0.1, persistent=True, baseline=-25.0)
    assert time.perf_counter() - t0 < 1.0
    ax_c, ax_h = fig.axes[:2]
    bold = [ln for ln in ax_c.get_lines() if "chosen" in (ln.get_label() or "")]
    np.testing.assert_array_equal(bold[0].get_ydata(), curves[(3, 0.1, True)])
    assert "nats/image" in ax_c.get_ylabel() and ax_c.get_xlabel() == "epoch"
    assert ax_h.get_xlabel() == "learning rate" and ax_h.get_ylabel() == "Gibbs steps k"
    table = np.asarray(ax_h.images[0].get_array())
    assert table.shape == (2, 2)
    assert table[1, 1] == pytest.approx(curves[(3, 0.1, True)][-1])
    assert len(fig.axes) == 3  # the colour bar
    again = widgets.cd_ll_figure(curves, k=3, lr=0.1, persistent=True, baseline=-25.0)
    np.testing.assert_array_equal(np.asarray(again.axes[1].images[0].get_array()), table)


def test_figure_off_grid_raises(curves):
    with pytest.raises(ValueError, match="not on the precomputed grid"):
        widgets.cd_ll_figure(curves, k=10, lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        widgets.cd_ll_grid(torch.zeros(4, 3), torch.zeros(2, 3), ks=())


def test_cd_explorer_structure_and_redraw(curves):
    box = widgets.cd_explorer(curves, k=1, lr=0.03, persistent=False)
    assert isinstance(box, ipw.VBox)
    assert {"ebm-explorer", "ebm-cd-explorer"} <= set(box._dom_classes)
    k, lr, method = (box.controls[n] for n in ("k", "lr", "persistent"))
    assert isinstance(k, ipw.SelectionSlider) and "ebm-cd-k-slider" in k._dom_classes
    assert isinstance(lr, ipw.SelectionSlider) and "ebm-cd-lr-slider" in lr._dom_classes
    assert isinstance(method, ipw.ToggleButtons) and "ebm-cd-method" in method._dom_classes
    assert list(k.options) == [1, 3]
    first = bytes(box.image.value)
    assert first.startswith(b"\x89PNG")
    t0 = time.perf_counter()
    lr.value = 0.1
    method.value = True
    assert time.perf_counter() - t0 < 2.0  # two redraws
    assert bytes(box.image.value) != first
