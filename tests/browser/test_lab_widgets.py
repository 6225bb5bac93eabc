"""Real-browser tests of the notebooks' explorers in JupyterLab.

nbval proves that a notebook's cells run; it cannot prove that its widgets work in the browser a
student uses. This test opens a copy of the notebook in JupyterLab inside headless Chromium,
runs its cells, checks that no output shows an error, and then drives the explorer the way a
student would: it moves the temperature slider and switches the landscape dropdown, and checks
that the rendered figure changes each time.

The widgets are found by the CSS classes of the explorer contract in ``ebm_helpers.widgets``:
``ebm-temperature-explorer`` (the VBox), ``ebm-temperature-slider``, ``ebm-landscape-dropdown``
and ``ebm-explorer-image`` (an ``ipywidgets.Image`` holding a PNG). Every other explorer
(notebooks 02, 03, 04, 07, 08, 09, 11, 12 and 14) is driven the same way by
``test_slider_explorer``: run the notebook, move the explorer's main slider, and the figure must
change. Every copy keeps only the code cells its explorers need (``explorer_cells.py``: the
explorer cells and, found by reading the code, the cells that define or change what they use);
nbval runs every cell of every notebook, so the browser need not run them again.
``test_temperature_explorer`` then drags the temperature slider with the mouse held down and
checks that the figure follows the drag (``continuous_update=True``), not only the release (in
the same page: opening and running the notebook a second time would only repeat the set-up).

Extra notebooks honouring the same contract can be added with the environment variable
``EBM_BROWSER_NOTEBOOKS`` (paths separated by ``os.pathsep``). Screenshots are written to
``test-artifacts/browser/``. All tests share one JupyterLab server and one loaded JupyterLab page
(``notebook_page`` in ``conftest.py``); the helpers that drive it are in ``lab.py``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from .lab import (
    assert_no_error_outputs,
    move_slider,
    open_notebook,
    run_all_cells,
    stable_src,
)

if TYPE_CHECKING:
    from .conftest import LabServer

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_PATHS = [
    "notebooks/01_boltzmann_distribution.ipynb",
    *filter(None, os.environ.get("EBM_BROWSER_NOTEBOOKS", "").split(os.pathsep)),
]
NOTEBOOKS = NOTEBOOK_PATHS

# The helpers under their former names, for modules that import them from here.
_open_notebook, _run_all_cells, _assert_no_error_outputs = (
    open_notebook, run_all_cells, assert_no_error_outputs)
_stable_src, _move_slider = stable_src, move_slider


@pytest.mark.browser
@pytest.mark.timeout(400)
@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_temperature_explorer(
    notebook: str, lab_server: LabServer, notebook_page: Page, artifacts_dir: Path
) -> None:
    source = REPO_ROOT / notebook
    page = notebook_page
    shot = str(artifacts_dir / source.stem) + "-{}.png"

    open_notebook(page, lab_server, source, through_last_explorer=True)
    run_all_cells(page)
    page.screenshot(path=shot.format("after-run-all"), full_page=True)
    assert_no_error_outputs(page)

    explorer = page.locator(".ebm-temperature-explorer").first
    expect(explorer).to_be_visible()
    image = explorer.locator("img.ebm-explorer-image, .ebm-explorer-image img")
    slider = explorer.locator(".ebm-temperature-slider")
    readout = slider.locator(".widget-readout")
    dropdown = explorer.locator(".ebm-landscape-dropdown select")

    src_before = stable_src(image, "after running all cells")
    explorer.screenshot(path=shot.format("explorer-before"))
    pixels_before = image.screenshot()
    readout_before = readout.inner_text()

    move_slider(slider)
    expect(readout).not_to_have_text(readout_before)
    src_slider = stable_src(image, "after moving the slider", not_src=src_before)
    explorer.screenshot(path=shot.format("explorer-after-slider"))
    pixels_slider = image.screenshot()
    assert pixels_slider != pixels_before, "figure looks the same after moving the slider"

    current = dropdown.evaluate("el => el.options[el.selectedIndex].text")
    others = [o for o in dropdown.locator("option").all_inner_texts() if o != current]
    assert others, "the landscape dropdown offers only one landscape"
    dropdown.select_option(label=others[0])
    stable_src(image, "after changing landscape", not_src=src_slider)
    explorer.screenshot(path=shot.format("explorer-after-dropdown"))
    assert image.screenshot() != pixels_slider, "figure looks the same after changing landscape"

    _drag_and_check_redraws(page, explorer, artifacts_dir)
    assert_no_error_outputs(page)


# The other explorers follow the same contract (ebm_helpers.widgets.explorer): a box with a CSS
# class, a slider with a CSS class, and an `.ebm-explorer-image`. Each entry: notebook, box
# class, slider class.
SLIDER_EXPLORERS = [
    ("notebooks/02_hopfield_and_boltzmann_machines.ipynb", "ebm-recall-explorer",
     "ebm-step-slider"),
    ("notebooks/03_restricted_boltzmann_machines.ipynb", "ebm-gibbs-explorer",
     "ebm-gibbs-step-slider"),
    ("notebooks/04_contrastive_divergence.ipynb", "ebm-cd-explorer", "ebm-cd-k-slider"),
    ("notebooks/07_neural_ebm_langevin.ipynb", "ebm-langevin-explorer", "ebm-langevin-slider"),
    ("notebooks/08_score_matching.ipynb", "ebm-noise-explorer", "ebm-noise-slider"),
    ("notebooks/09_diffusion_models.ipynb", "ebm-diffusion-explorer", "ebm-diffusion-slider"),
    ("notebooks/11_anomaly_detection.ipynb", "ebm-threshold-explorer", "ebm-threshold-slider"),
    ("notebooks/12_energy_based_learning.ipynb", "ebm-free-energy-explorer", "ebm-beta-slider"),
    ("notebooks/14_quantum_boltzmann_machines.ipynb", "ebm-transverse-field-explorer",
     "ebm-gamma-slider"),
]


@pytest.mark.browser
@pytest.mark.timeout(400)
@pytest.mark.parametrize("notebook, box_class, slider_class", SLIDER_EXPLORERS)
def test_slider_explorer(
    notebook: str, box_class: str, slider_class: str, lab_server: LabServer, notebook_page: Page,
    artifacts_dir: Path,
) -> None:
    """Run the notebook's explorer cells (and what they need) in JupyterLab, then move the
    explorer's slider: the figure must change."""
    source = REPO_ROOT / notebook
    page = notebook_page
    shot = str(artifacts_dir / source.stem) + "-{}.png"

    open_notebook(page, lab_server, source, through_last_explorer=True)
    run_all_cells(page)
    assert_no_error_outputs(page)

    explorer = page.locator(f".{box_class}").first
    expect(explorer).to_be_visible()
    image = explorer.locator("img.ebm-explorer-image, .ebm-explorer-image img")
    slider = explorer.locator(f".{slider_class}")
    readout = slider.locator(".widget-readout")

    src_before = stable_src(image, "after running all cells")
    explorer.screenshot(path=shot.format("explorer-before"))
    pixels_before = image.screenshot()
    readout_before = readout.inner_text()

    move_slider(slider)
    expect(readout).not_to_have_text(readout_before)
    stable_src(image, "after moving the slider", not_src=src_before)
    explorer.screenshot(path=shot.format("explorer-after-slider"))
    assert image.screenshot() != pixels_before, "figure looks the same after moving the slider"
    assert_no_error_outputs(page)


def _next_src(image, not_src: str, timeout_s: float) -> str | None:
    """The image's src once it differs from ``not_src`` (None if it does not within the time)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        src = image.get_attribute("src")
        if src and src != not_src:
            return src
        time.sleep(0.05)
    return None


def _drag_and_check_redraws(page: Page, explorer, artifacts_dir: Path) -> None:
    """Hold the mouse on the temperature slider's handle and move it in small steps: with
    ``continuous_update=True`` the kernel redraws at intermediate values, so the image changes
    several times before the mouse is released."""
    explorer.scroll_into_view_if_needed()
    image = explorer.locator("img.ebm-explorer-image, .ebm-explorer-image img")
    slider = explorer.locator(".ebm-temperature-slider")
    readout = slider.locator(".widget-readout")
    src = stable_src(image, "before the drag")
    handle = slider.locator(".noUi-handle")
    track = slider.locator(".noUi-target, .noUi-base").first.bounding_box()
    box = handle.bounding_box()
    assert track and box, "the slider is not laid out"
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    # the handle sits near T = 1, the middle of the log scale: drag right, towards T = 10
    step = (track["x"] + track["width"] - x) / 8
    page.mouse.move(x, y)
    page.mouse.down()
    seen, readouts = [src], [readout.inner_text()]
    try:
        for i in range(1, 7):
            page.mouse.move(x + i * step, y, steps=2)
            new = _next_src(image, seen[-1], timeout_s=20)
            if new is not None:
                seen.append(new)
            readouts.append(readout.inner_text())
        explorer.screenshot(path=str(artifacts_dir / "01-drag-before-release.png"))
    finally:
        page.mouse.up()
    assert len(set(readouts)) >= 4, f"the slider did not move while dragged: {readouts}"
    # at least three new images arrived while the mouse was still down
    assert len(set(seen)) >= 4, (
        f"the figure changed {len(set(seen)) - 1} times during a 6-step drag; "
        "continuous_update should redraw at intermediate values")
