"""A learner's first minute, and a lecturer's live presentation, in a real browser.

``test_make_lab_lands_on_the_roadmap`` runs ``make lab`` exactly as the README says (without a
display, so JupyterLab prints its URL instead of opening a browser), opens the printed URL in
headless Chromium with the network blocked, and checks what a new learner sees: 00_roadmap
open and typeset, no "Jupyter news" toast or other pop-up, and a file browser that lists each
notebook once (the ``.py`` twins hidden). JupyterLab reads the user's settings from a fresh
empty folder, so the test sees what a first start sees.

``test_presentation_mode`` checks the live way to present (README, "Teaching with the
collection"): JupyterLab's own Presentation Mode on a notebook with its stored outputs, maths
typeset with no request leaving the machine. (jupyterlab-rise 0.43.1, the RISE build for
JupyterLab 4, renders a blank page with JupyterLab 4.6: its bundled application is built on
JupyterLab 4.3 and fails to load the installed extensions; see the README.)
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from .conftest import REPO_ROOT, _free_port, delete_sessions
from .lab import MATH_COUNTS_JS, RAW_TEX_JS, open_notebook

if TYPE_CHECKING:
    from .conftest import LabServer, NetworkLog

URL_TIMEOUT_S = 120
# The README's recipe for presenting live: Presentation Mode, the Simple Interface (one
# notebook, no tabs) and the left sidebar closed.
_PRESENT_JS = """
async (on) => {
  const commands = window.jupyterapp.commands;
  await commands.execute('application:toggle-presentation-mode');
  const mode = on ? 'single-document' : 'multiple-document';
  await commands.execute('application:set-mode', {mode});
  await commands.execute('application:toggle-left-area');
}
"""
_PRINTED_URL = re.compile(r"http://127\.0\.0\.1:\d+/\S+")


def _notebook_mtimes() -> dict[str, int]:
    # The notebook pairs only: JupyterLab keeps checkpoints in .ipynb_checkpoints/ (git-ignored).
    return {p.name: p.stat().st_mtime_ns
            for p in (REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.*")}


def _wait_for_url(process: subprocess.Popen, log_path: Path) -> str:
    deadline = time.monotonic() + URL_TIMEOUT_S
    while time.monotonic() < deadline:
        match = _PRINTED_URL.search(log_path.read_text(errors="replace"))
        if match:
            return match.group(0)
        if process.poll() is not None:
            break
        time.sleep(0.5)
    raise AssertionError(f"`make lab` printed no URL:\n{log_path.read_text()[-4000:]}")


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_make_lab_lands_on_the_roadmap(
    page: Page, network: NetworkLog, tmp_path: Path, artifacts_dir: Path
) -> None:
    before = _notebook_mtimes()
    for name in ("settings", "workspaces", "runtime"):
        (tmp_path / name).mkdir()
    env = dict(
        os.environ,
        JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
    )
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    flags = f"--no-browser --ServerApp.port={_free_port()} --ServerApp.port_retries=0"
    if os.geteuid() == 0:
        flags += " --allow-root"
    log_path = tmp_path / "make-lab.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "lab", f"LAB_FLAGS={flags}"],
            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = _wait_for_url(process, log_path)
        assert "/lab/tree/00_roadmap.ipynb?token=" in url, (
            f"`make lab` printed {url}, which does not open 00_roadmap.ipynb"
        )
        page.goto(url)
        notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
        expect(notebook.locator("h1").first).to_contain_text("00 · Roadmap")
        current_tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.jp-mod-current")
        expect(current_tab).to_contain_text("00_roadmap.ipynb")
        listing = page.locator(".jp-DirListing-content .jp-DirListing-itemName")
        expect(listing.first).to_be_visible()
        expect(page.locator("#jp-main-statusbar")).to_contain_text("Idle")
        time.sleep(2)  # a news toast appears a moment after start-up
        page.screenshot(path=str(artifacts_dir / "make-lab-first-start.png"))

        names = listing.all_inner_texts()
        assert "00_roadmap.ipynb" in names, names
        twins = [n for n in names if re.fullmatch(r"\d\d_\w+\.py", n)]
        assert not twins, f"the file browser lists the jupytext twins: {twins}"
        toasts = page.locator(".jp-toast-container .Toastify__toast, .jp-Dialog")
        assert toasts.count() == 0, f"pop-ups on first start: {toasts.all_inner_texts()}"
        math = notebook.evaluate(MATH_COUNTS_JS)
        assert math["typeset"] > 0 and math["errors"] == 0, math
        result = delete_sessions(page, url.split("/lab/")[0])
        assert result["kernelsLeft"] == 0, result
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=20)
        (artifacts_dir / "make-lab.log").write_bytes(log_path.read_bytes())
    assert _notebook_mtimes() == before, "opening the collection changed files in notebooks/"
    assert not network.blocked
    assert network.n_local > 0


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_presentation_mode(
    lab_server: LabServer, lab_page: Page, network: NetworkLog, artifacts_dir: Path
) -> None:
    page = lab_page
    open_notebook(page, lab_server, REPO_ROOT / "notebooks" / "01_boltzmann_distribution.ipynb",
                  wait_for_kernel=False)
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    expect(notebook.locator("h1").first).to_be_visible()
    paragraph = notebook.locator(".jp-RenderedMarkdown p").first
    font_px = "el => parseFloat(getComputedStyle(el).fontSize)"
    normal_px = paragraph.evaluate(font_px)
    page.evaluate(_PRESENT_JS, True)
    expect(page.locator("#main.jp-mod-presentationMode")).to_have_count(1)
    page.wait_for_function(
        "() => document.querySelectorAll('.jp-NotebookPanel mjx-container').length > 0"
    )
    page.screenshot(path=str(artifacts_dir / "presentation-mode.png"))
    assert paragraph.evaluate(font_px) > normal_px, "Presentation Mode did not enlarge the text"
    math = notebook.evaluate(MATH_COUNTS_JS)
    raw = notebook.evaluate(RAW_TEX_JS)
    assert math["typeset"] > 20 and math["errors"] == 0, math
    assert not raw, f"maths left as TeX in the rendered notebook: {raw[:5]}"
    page.evaluate(_PRESENT_JS, False)
    expect(page.locator("#main.jp-mod-presentationMode")).to_have_count(0)
    assert not network.blocked
