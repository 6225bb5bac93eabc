"""JupyterLab as `make lab` starts it (`jupyter lab --config=tools/lab/jupyter_server_config.py`).

- Serves `notebooks/` and opens `00_roadmap.ipynb`: the URL printed (and opened where there is
  a display) is `…/lab/tree/00_roadmap.ipynb?token=…`.
- No pop-ups on first start: `overrides.json` beside this file (JupyterLab's application
  settings) turns off the "Jupyter news" prompt and the update check, which would also try to
  reach the internet, and drops the file browser's "Modified" column so that the notebooks'
  names fit.
- The file browser lists the notebooks once: the `NN_topic.py` twins (jupytext's source files,
  explained in 00_roadmap) are hidden from the listing only. They can still be opened by path,
  and jupytext still writes them when a paired notebook is saved (`tests/test_lab_config.py`).

Paths are relative to the repository root, where `make lab` runs.
"""

from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

c = get_config()  # noqa: F821 - provided by Jupyter when it loads this file

c.ServerApp.root_dir = str(REPO / "notebooks")
c.LabApp.default_url = "/lab/tree/00_roadmap.ipynb"
c.LabApp.app_settings_dir = str(HERE)
c.ContentsManager.hide_globs = [
    # jupyter_server's defaults
    "__pycache__", "*.pyc", "*.pyo", ".DS_Store", "*~", "*.so", "*.dylib",
    # the jupytext twins of the notebooks
    "[0-9][0-9]_*.py",
]
