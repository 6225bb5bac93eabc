"""Tests for the Hopfield recall explorer of ``ebm_helpers.widgets`` (notebook 02), without a
browser: the pure figure function and the ipywidgets layer."""

from __future__ import annotations

import ipywidgets as ipw
import numpy as np
import pytest
import torch

from ebm_helpers import hopfield as hp
from ebm_helpers import widgets
from ebm_helpers.widgets.base import figure_content

SHAPE = (6, 6)


@pytest.fixture(scope="module")
def patterns():
    return hp.random_patterns(3, 36, torch.Generator().manual_seed(0))


def _state_image(fig):
    return np.asarray(fig.axes[0].images[0].get_array(), dtype=float)


def _energy_line(fig):
    """The whole run's energy curve: the longest line (the others are sweep boundaries, the
    part so far and the current-step marker)."""
    lines = [np.asarray(ln.get_ydata(), dtype=float) for ln in fig.axes[2].get_lines()]
    return max(lines, key=len)


def test_figure_is_pure_and_starts_from_the_corrupted_pattern(patterns):
    fig = widgets.hopfield_recall_figure(patterns, SHAPE, pattern=1, corruption=0.2, step=0)
    again = widgets.hopfield_recall_figure(patterns, SHAPE, pattern=1, corruption=0.2, step=0)
    start = _state_image(fig).reshape(-1)
    assert np.array_equal(start, _state_image(again).reshape(-1))
    flipped = int((start != patterns[1].numpy()).sum())
    assert flipped == round(0.2 * 36)  # exactly the requested number of bits
    target = np.asarray(fig.axes[1].images[0].get_array(), dtype=float).reshape(-1)
    assert np.array_equal(target, patterns[1].numpy())


def test_energy_never_increases_and_recall_succeeds_at_low_load(patterns):
    fig = widgets.hopfield_recall_figure(patterns, SHAPE, pattern=0, corruption=0.15,
                                         step=10_000)
    e = _energy_line(fig)
    assert np.all(np.diff(e) <= 1e-12) and e[-1] < e[0]
    final = _state_image(fig).reshape(-1)
    assert np.array_equal(final, patterns[0].numpy())  # 3 patterns in 36 units: recalled
    w = hp.hebbian_weights(patterns)
    assert e[-1] == pytest.approx(float(hp.energy(w, patterns[0])))


def test_step_moves_through_the_run(patterns):
    a = widgets.hopfield_recall_figure(patterns, SHAPE, 2, 0.3, step=0)
    b = widgets.hopfield_recall_figure(patterns, SHAPE, 2, 0.3, step=36)
    assert not np.array_equal(_state_image(a), _state_image(b))
    assert np.array_equal(_energy_line(a), _energy_line(b))  # the same run, another step


def test_figure_bad_input(patterns):
    with pytest.raises(ValueError, match="pattern must be an index"):
        widgets.hopfield_recall_figure(patterns, SHAPE, pattern=3)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        widgets.hopfield_recall_figure(patterns, SHAPE, corruption=1.5)
    with pytest.raises(ValueError, match="pixels"):
        widgets.hopfield_recall_figure(patterns, (5, 5))


def test_recall_explorer_structure_and_redraw(patterns):
    box = widgets.recall_explorer(patterns, SHAPE, names=["a", "b", "c"], corruption=0.2)
    assert isinstance(box, ipw.VBox)
    assert {"ebm-explorer", "ebm-recall-explorer"} <= set(box._dom_classes)
    dropdown, corr, step = (box.controls[k] for k in ("pattern", "corruption", "step"))
    assert isinstance(dropdown, ipw.Dropdown) and "ebm-pattern-dropdown" in dropdown._dom_classes
    assert isinstance(corr, ipw.FloatSlider) and "ebm-corruption-slider" in corr._dom_classes
    assert isinstance(step, ipw.IntSlider) and "ebm-step-slider" in step._dom_classes
    assert dropdown.options == (("a", 0), ("b", 1), ("c", 2))
    assert step.max == 4 * 36
    first = bytes(box.image.value)
    assert first.startswith(b"\x89PNG")
    step.value = 20
    second = bytes(box.image.value)
    assert second != first
    expected = widgets.hopfield_recall_figure(patterns, SHAPE, 0, 0.2, 20)
    # the live figure shows exactly what the pure function draws (artist by artist)
    assert figure_content(box.figure) == figure_content(expected)
    dropdown.value = 2
    assert bytes(box.image.value) != second
    corr.value = 0.4
    assert bytes(box.image.value).startswith(b"\x89PNG")


def test_recall_explorer_wrong_names(patterns):
    with pytest.raises(ValueError, match="names"):
        widgets.recall_explorer(patterns, SHAPE, names=["only one"])
