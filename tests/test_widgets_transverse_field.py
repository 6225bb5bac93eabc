"""Tests for the transverse-field explorer of ``ebm_helpers.widgets`` (notebook 14), without a
browser: the pure figure function (the numbers it draws, bad input) and the ipywidgets layer."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from ebm_helpers import quantum, widgets


def _bar_heights(ax) -> np.ndarray:
    return np.array([p.get_height() for p in ax.patches])


def test_figure_draws_p_v_the_classical_reference_and_sigma_x():
    b, W = widgets.DEFAULT_MACHINE
    fig = widgets.transverse_field_figure(gamma=1.2, beta=0.8)
    ax_p, ax_x = fig.axes
    np.testing.assert_allclose(_bar_heights(ax_p),
                               quantum.visible_probabilities(b, W, 1.2, beta=0.8).numpy())
    ticks = ax_p.lines[0].get_ydata()
    np.testing.assert_allclose(ticks, quantum.visible_probabilities(b, W, 0.0, beta=0.8).numpy())
    m = quantum.expectations(b, W, 1.2, beta=0.8)
    heights = _bar_heights(ax_x)
    np.testing.assert_allclose(heights[:4], m.x.numpy())
    np.testing.assert_allclose(heights[4:], m.z.numpy())
    assert "Γ = 1.20" in ax_p.get_title() and "β = 0.80" in ax_p.get_title()
    assert [t.get_text() for t in ax_p.get_xticklabels()][:2] == ["0000", "0001"]
    assert ax_p.get_xlabel() and ax_p.get_ylabel() and ax_x.get_xlabel() and ax_x.get_ylabel()


def test_gamma_zero_matches_the_classical_ticks_and_has_no_transverse_magnetisation():
    fig = widgets.transverse_field_figure(gamma=0.0, beta=1.0)
    ax_p, ax_x = fig.axes
    np.testing.assert_allclose(_bar_heights(ax_p), ax_p.lines[0].get_ydata(), atol=1e-15)
    assert np.all(_bar_heights(ax_x)[:4] == 0)


def test_custom_machine_and_panels():
    b = torch.tensor([0.5, -0.2], dtype=torch.float64)
    W = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    fig = widgets.transverse_field_figure(0.7, 2.0, b=b, W=W)
    np.testing.assert_allclose(_bar_heights(fig.axes[0]),
                               quantum.visible_probabilities(b, W, 0.7, beta=2.0).numpy())
    panels = widgets.transverse_field_panels((0.0, 1.0, 3.0), beta=1.0)
    assert len(panels.axes) == 3
    b0, W0 = widgets.DEFAULT_MACHINE
    sx = float(quantum.expectations(b0, W0, 3.0, beta=1.0).x.mean())
    assert panels.axes[0].get_title().endswith("mean ⟨σˣ⟩ = 0.00")
    assert panels.axes[2].get_title().endswith(f"mean ⟨σˣ⟩ = {sx:.2f}")
    # the distribution spreads as Γ grows: its largest probability falls
    tops = [max(_bar_heights(ax)) for ax in panels.axes]
    assert tops[0] > tops[1] > tops[2]


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"gamma": -0.5}, "≥ 0"),
        ({"gamma": float("nan")}, "finite"),
        ({"beta": 0.0}, "beta"),
        ({"b": torch.zeros(7), "W": torch.zeros(7, 7)}, "at most 6 qubits"),
        ({"b": torch.zeros(3)}, "both b and W"),
        ({"b": torch.zeros(2), "W": torch.tensor([[0.0, 1.0], [2.0, 0.0]])}, "symmetric"),
    ],
)
def test_figure_rejects_bad_input(kwargs, says):
    with pytest.raises(ValueError, match=says):
        widgets.transverse_field_figure(**kwargs)
    with pytest.raises(ValueError, match="at least one"):
        widgets.transverse_field_panels(())


def test_explorer_classes_sliders_and_fast_redraw():
    box = widgets.transverse_field_explorer(gamma=0.5, beta=1.0)
    assert "ebm-transverse-field-explorer" in box._dom_classes
    gamma, beta = box.controls["gamma"], box.controls["beta"]
    assert "ebm-gamma-slider" in gamma._dom_classes and "ebm-beta-slider" in beta._dom_classes
    first = box.image.value
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    t0 = time.process_time()  # CPU time: wall time on a shared 2-core machine says little
    gamma.value = 2.0
    assert time.process_time() - t0 < 2.0
    second = box.image.value
    assert second != first
    beta.value = 3.0
    assert box.image.value != second
