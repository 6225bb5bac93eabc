"""What browser tests do in JupyterLab: open a notebook, run it, find errors, move a slider.

Plain functions over a Playwright ``Page`` and the ``LabServer`` of ``conftest.py``, shared by
every test module in this folder (explorer tests, first-run and presentation tests, and any
new test such as a continuous-drag latency check): import them with
``from .lab import open_notebook, run_all_cells, ...``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
from playwright.sync_api import Locator, Page, expect

from .explorer_cells import prune

if TYPE_CHECKING:
    from .conftest import LabServer

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


_OPEN_JS = """
async (path) => { await window.jupyterapp.commands.execute('docmanager:open', {path}); }
"""


def open_notebook(page: Page, server: LabServer, notebook: Path, *,
                  wait_for_kernel: bool = True, through_last_explorer: bool = False) -> str:
    """Open a fresh copy of ``notebook`` in its own folder of the server; returns its path.

    A fresh copy in a folder of its own and ``?reset``: JupyterLab must not restore a previous
    workspace or checkpoint, and tests sharing the server must not see each other's files. On a
    page where JupyterLab is already loaded (``notebook_page``) the copy is opened in the
    running app instead of reloading it.
    ``through_last_explorer``: the copy keeps only the code cells the explorers need and ends
    with the last cell that builds one (``explorer_cells.prune``), so Run All runs only what the
    explorers need (nbval runs every cell of every notebook anyway).
    """
    folder = server.new_folder(notebook.stem)
    target = server.root_dir / folder / notebook.name
    if through_last_explorer:
        nb = nbformat.read(notebook, as_version=4)
        try:
            prune(nb)
        except ValueError as err:
            raise AssertionError(f"{notebook.name}: {err}") from None
        nbformat.write(nb, target)
    else:
        target.write_bytes(notebook.read_bytes())
    path = f"{folder}/{notebook.name}"
    if page.url.startswith(f"{server.url}/lab") and page.evaluate("() => !!window.jupyterapp"):
        # a loaded JupyterLab (``notebook_page``): open the copy in it, without a reload
        page.evaluate(_OPEN_JS, path)
    else:
        page.goto(f"{server.url}/lab/tree/{path}?reset")
    if wait_for_kernel:
        wait_for_idle_kernel(page)
    return path


def wait_for_idle_kernel(page: Page, timeout_ms: int = KERNEL_START_TIMEOUT_MS) -> None:
    # The status bar, not the toolbar's idle circle: the latter is also "idle" before a kernel
    # exists, and Run All then opens a "Select Kernel" dialog.
    expect(page.locator("#jp-main-statusbar").get_by_text(IDLE_STATUS)).to_be_visible(
        timeout=timeout_ms
    )


def run_all_cells(page: Page) -> None:
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


def assert_no_error_outputs(page: Page) -> None:
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


def stable_src(image: Locator, after: str, not_src: str | None = None) -> str:
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


def move_slider(slider: Locator) -> None:
    # ipywidgets 8 draws sliders with noUiSlider, whose handle takes keyboard input; with
    # continuous_update=False each key press commits a value, as releasing a drag would.
    # Step towards whichever end the handle is not already at.
    handle = slider.locator(".noUi-handle")
    now, top = (float(handle.get_attribute(a)) for a in ("aria-valuenow", "aria-valuemax"))
    handle.focus()
    handle.press("ArrowLeft" if now >= top else "ArrowRight")


# Text of rendered markdown (and text outputs) that still holds TeX delimiters: maths that was
# not typeset. Code, scripts and MathJax's own hidden copies of the source are left out.
RAW_TEX_JS = r"""
(root) => {
  const skip = 'script, style, pre, code, .jp-InputArea-editor, .jp-CodeMirrorEditor, .highlight, '
             + 'mjx-assistive-mml, .MathJax_Preview, .MJX_Assistive_MathML, aside.notes, '
             + '.aria-status';  // reveal.js's screen-reader copy of the slide's raw text
  const found = [];
  const walker = document.createTreeWalker(root || document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest(skip)) continue;
    const text = node.textContent;
    if (/\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\$[^$\s][^$]*\$/.test(text)) {
      found.push(text.trim().slice(0, 80));
    }
  }
  return found;
}
"""

# Typeset formulas (MathJax 2 CommonHTML or MathJax 3) and MathJax error boxes.
MATH_COUNTS_JS = """
(root) => {
  root = root || document;
  return {
    typeset: root.querySelectorAll('.MathJax_CHTML, .MathJax, mjx-container').length,
    errors: root.querySelectorAll('.MathJax_Error, mjx-merror, merror').length,
  };
}
"""
