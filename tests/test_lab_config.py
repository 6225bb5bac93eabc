"""`make lab`'s JupyterLab configuration (tools/lab/): the landing page, no pop-ups, and the
file browser that hides the jupytext twins without breaking the pairing.

The browser test ``tests/browser/test_first_run.py`` checks the same from a learner's seat; this
one checks, through the contents manager JupyterLab uses (jupytext's, on top of
jupyter_server's), that a hidden ``.py`` twin is still opened by path and still rewritten when
its notebook is saved.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from jupytext import build_async_jupytext_contents_manager_class
from traitlets.config.loader import PyFileConfigLoader

REPO = Path(__file__).resolve().parents[1]
LAB = REPO / "tools" / "lab"
PAIR = "03_restricted_boltzmann_machines"


@pytest.fixture(scope="module")
def lab_config():
    return PyFileConfigLoader("jupyter_server_config.py", path=str(LAB)).load_config()


def test_lab_lands_on_the_roadmap(lab_config) -> None:
    assert lab_config.LabApp.default_url == "/lab/tree/00_roadmap.ipynb"
    assert Path(lab_config.ServerApp.root_dir) == REPO / "notebooks"
    assert (REPO / "notebooks" / "00_roadmap.ipynb").exists()
    assert Path(lab_config.LabApp.app_settings_dir) == LAB


def test_no_news_prompt_on_first_start() -> None:
    overrides = json.loads((LAB / "overrides.json").read_text())
    notification = overrides["@jupyterlab/apputils-extension:notification"]
    assert notification["fetchNews"] == "false"
    assert notification["checkForUpdates"] is False


def test_hidden_twins_stay_paired(lab_config, tmp_path: Path) -> None:
    for suffix in (".py", ".ipynb"):
        shutil.copy(REPO / "notebooks" / f"{PAIR}{suffix}", tmp_path)
    shutil.copy(REPO / "jupytext.toml", tmp_path)
    shutil.copy(REPO / "notebooks" / "00_roadmap.ipynb", tmp_path / "helper.py")  # not a twin
    manager_class = build_async_jupytext_contents_manager_class(AsyncLargeFileManager)
    manager = manager_class(root_dir=str(tmp_path), config=lab_config)

    async def exercise():
        listing = await manager.get("", content=True)
        names = sorted(item["name"] for item in listing["content"])
        twin = await manager.get(f"{PAIR}.py", content=True)
        model = await manager.get(f"{PAIR}.ipynb", content=True)
        nb = nbformat.from_dict(model["content"])
        nb.cells.append(nbformat.v4.new_markdown_cell("A note the learner added in JupyterLab."))
        await manager.save({"type": "notebook", "format": "json", "content": nb},
                           f"{PAIR}.ipynb")
        return names, twin

    # A fresh thread, so a fresh event loop: the main thread's may already be running one
    # (Playwright's sync API, from the browser tests earlier in the same session).
    with ThreadPoolExecutor(max_workers=1) as pool:
        names, twin = pool.submit(asyncio.run, exercise()).result()
    assert f"{PAIR}.ipynb" in names and "helper.py" in names
    assert f"{PAIR}.py" not in names, "the .py twin is listed in the file browser"
    assert twin["content"], "a hidden twin must still open by its path"
    assert "A note the learner added in JupyterLab." in (tmp_path / f"{PAIR}.py").read_text(), (
        "saving the notebook no longer updates its hidden .py twin"
    )
