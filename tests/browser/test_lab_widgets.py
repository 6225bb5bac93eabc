"""Real-browser tests of the notebooks' explorers in JupyterLab.

nbval proves that a notebook's cells run; it cannot prove that its widgets work in the browser a
student uses. This test opens a copy of the notebook in JupyterLab inside headless Chromium,
runs every cell, checks that no output shows an error, and then drives the explorer the way a
student would: it moves the temperature slider and switches the landscape dropdown, and checks
that the rendered figure changes each time.

The widgets are found by the CSS classes of the explorer contract in ``ebm_helpers.widgets``:
``ebm-temperature-explorer`` (the VBox), ``ebm-temperature-slider``, ``ebm-landscape-dropdown``
and ``ebm-explorer-image`` (an ``ipywidgets.Image`` holding a PNG). Every other explorer
(notebooks 02, 03, 04, 07, 08, 09 and 11) is driven the same way by ``test_slider_explorer``: run
the notebook, move the explorer's main slider, and the figure must change.

Extra notebooks honouring the same contract can be added with the environment variable
``EBM_BROWSER_NOTEBOOKS`` (paths separated by ``os.pathsep``). Screenshots are written to
``test-artifacts/browser/``.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Locator, Page, expect

if TYPE_CHECKING:
    from .conftest import LabServer

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_PATHS = [
    "notebooks/01_boltzmann_distribution.ipynb",
    *filter(None, os.environ.get("EBM_BROWSER_NOTEBOOKS", "").split(os.pathsep)),
]
NOTEBOOKS = NOTEBOOK_PATHS

# Fast mode keeps each notebook to a minute or two, but kernel start and imports of torch and
# matplotlib are slow on a 2-core machine.
KERNEL_START_TIMEOUT_MS = 120_000
RUN_ALL_TIMEOUT_MS = 240_000
RERENDER_TIMEOUT_S = 60
# A figure counts as redrawn once its <img> src has stopped changing for this long: screenshots
# taken sooner can race a second redraw (e.g. one per key press).
SRC_SETTLE_S = 1.0

IDLE_STATUS = "Python 3 (ipykernel) | Idle"

# `notebook:run-all-cells` resolves once the last cell has finished; keeping the promise's
# outcome on `window` lets Python poll for it instead of holding one long evaluate() open.
_RUN_ALL_JS = """
() => {
  window.__ebmRunAll = undefined;
  window.jupyterapp.commands.execute('notebook:run-all-cells').then(
    ok => { window.__ebmRunAll = {ok: ok !== false}; },
    err => { window.__ebmRunAll = {ok: false, error: String(err)}; });
}
"""

# Error outputs as stored in the notebook model, which also covers cells not rendered yet.
_MODEL_ERRORS_JS = """
() => {
  const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
  const errors = [];
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') continue;
    for (let j = 0; j < cell.outputs.length; j++) {
      const output = cell.outputs.get(j).toJSON();
      if (output.output_type === 'error') {
        errors.push(`cell ${i}: ${output.ename}: ${output.evalue}`);
      }
    }
  }
  return errors;
}
"""


def _open_notebook(page: Page, server: LabServer, notebook: Path) -> None:
    # A fresh copy and ?reset: JupyterLab must not restore a previous workspace or checkpoint.
    shutil.copy(notebook, server.root_dir / notebook.name)
    page.goto(f"{server.url}/lab/tree/{notebook.name}?reset")
    # The status bar, not the toolbar's idle circle: the latter is also "idle" before a kernel
    # exists, and Run All then opens a "Select Kernel" dialog.
    expect(page.locator("#jp-main-statusbar").get_by_text(IDLE_STATUS)).to_be_visible(
        timeout=KERNEL_START_TIMEOUT_MS
    )


def _run_all_cells(page: Page) -> None:
    page.evaluate(_RUN_ALL_JS)
    page.wait_for_function(
        "() => window.__ebmRunAll !== undefined", timeout=RUN_ALL_TIMEOUT_MS, polling=500
    )
    # A failing cell only makes `ok` false and is reported with its traceback later; an
    # `error` means the command itself failed (e.g. no notebook was active).
    outcome = page.evaluate("() => window.__ebmRunAll")
    assert "error" not in outcome, f"Run All failed: {outcome['error']}"
    expect(page.locator(".jp-Notebook .jp-InputPrompt").filter(has_text="[*]")).to_have_count(0)
    expect(page.locator("#jp-main-statusbar").get_by_text(IDLE_STATUS)).to_be_visible()


def _assert_no_error_outputs(page: Page) -> None:
    outputs = page.locator(".jp-OutputArea-output").evaluate_all(
        "els => els.map(el => ({mime: el.dataset.mimeType || '', text: el.innerText}))"
    )
    # tqdm and warnings legitimately write to stderr, so only tracebacks and errors fail.
    bad = [
        o["text"]
        for o in outputs
        if "Traceback" in o["text"]
        or (o["mime"] == "application/vnd.jupyter.stderr" and "Error" in o["text"])
    ]
    bad += page.evaluate(_MODEL_ERRORS_JS)
    assert not bad, "error output in the notebook:\n\n" + "\n\n".join(bad)


def _stable_src(image: Locator, after: str, not_src: str | None = None) -> str:
    """The image's src once it differs from `not_src`, has loaded, and stopped changing."""
    deadline = time.monotonic() + RERENDER_TIMEOUT_S
    last_src, last_change = None, time.monotonic()
    while time.monotonic() < deadline:
        src = image.get_attribute("src")
        if src != last_src:
            last_src, last_change = src, time.monotonic()
        elif (
            src
            and src != not_src
            and time.monotonic() - last_change >= SRC_SETTLE_S
            and image.evaluate("img => img.complete && img.naturalWidth > 0")
        ):
            return src
        time.sleep(0.1)
    raise AssertionError(
        f"explorer image was not drawn {after} within {RERENDER_TIMEOUT_S} s "
        f"(its src stayed {last_src!r})"
    )


def _move_slider(slider: Locator) -> None:
    # ipywidgets 8 draws sliders with noUiSlider, whose handle takes keyboard input; with
    # continuous_update=False each key press commits a value, as releasing a drag would.
    # Step towards whichever end the handle is not already at.
    handle = slider.locator(".noUi-handle")
    now, top = (float(handle.get_attribute(a)) for a in ("aria-valuenow", "aria-valuemax"))
    handle.focus()
    handle.press("ArrowLeft" if now >= top else "ArrowRight")


@pytest.mark.browser
@pytest.mark.timeout(400)
@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_temperature_explorer(
    notebook: str, lab_server: LabServer, lab_page: Page, artifacts_dir: Path
) -> None:
    source = REPO_ROOT / notebook
    page = lab_page
    shot = str(artifacts_dir / source.stem) + "-{}.png"

    _open_notebook(page, lab_server, source)
    _run_all_cells(page)
    page.screenshot(path=shot.format("after-run-all"), full_page=True)
    _assert_no_error_outputs(page)

    explorer = page.locator(".ebm-temperature-explorer").first
    expect(explorer).to_be_visible()
    image = explorer.locator("img.ebm-explorer-image, .ebm-explorer-image img")
    slider = explorer.locator(".ebm-temperature-slider")
    readout = slider.locator(".widget-readout")
    dropdown = explorer.locator(".ebm-landscape-dropdown select")

    src_before = _stable_src(image, "after running all cells")
    explorer.screenshot(path=shot.format("explorer-before"))
    pixels_before = image.screenshot()
    readout_before = readout.inner_text()

    _move_slider(slider)
    expect(readout).not_to_have_text(readout_before)
    src_slider = _stable_src(image, "after moving the slider", not_src=src_before)
    explorer.screenshot(path=shot.format("explorer-after-slider"))
    pixels_slider = image.screenshot()
    assert pixels_slider != pixels_before, "figure looks the same after moving the slider"

    current = dropdown.evaluate("el => el.options[el.selectedIndex].text")
    others = [o for o in dropdown.locator("option").all_inner_texts() if o != current]
    assert others, "the landscape dropdown offers only one landscape"
    dropdown.select_option(label=others[0])
    _stable_src(image, "after changing landscape", not_src=src_slider)
    explorer.screenshot(path=shot.format("explorer-after-dropdown"))
    assert image.screenshot() != pixels_slider, "figure looks the same after changing landscape"

    _assert_no_error_outputs(page)


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
]


@pytest.mark.browser
@pytest.mark.timeout(400)
@pytest.mark.parametrize("notebook, box_class, slider_class", SLIDER_EXPLORERS)
def test_slider_explorer(
    notebook: str, box_class: str, slider_class: str, lab_server: LabServer, lab_page: Page,
    artifacts_dir: Path,
) -> None:
    """Run the notebook in JupyterLab, then move the explorer's slider: the figure must change."""
    source = REPO_ROOT / notebook
    page = lab_page
    shot = str(artifacts_dir / source.stem) + "-{}.png"

    _open_notebook(page, lab_server, source)
    _run_all_cells(page)
    _assert_no_error_outputs(page)

    explorer = page.locator(f".{box_class}").first
    expect(explorer).to_be_visible()
    image = explorer.locator("img.ebm-explorer-image, .ebm-explorer-image img")
    slider = explorer.locator(f".{slider_class}")
    readout = slider.locator(".widget-readout")

    src_before = _stable_src(image, "after running all cells")
    explorer.screenshot(path=shot.format("explorer-before"))
    pixels_before = image.screenshot()
    readout_before = readout.inner_text()

    _move_slider(slider)
    expect(readout).not_to_have_text(readout_before)
    _stable_src(image, "after moving the slider", not_src=src_before)
    explorer.screenshot(path=shot.format("explorer-after-slider"))
    assert image.screenshot() != pixels_before, "figure looks the same after moving the slider"
    _assert_no_error_outputs(page)
