"""`make site`: the whole collection as an offline static site in ``_build/site/``.

Sphinx + MyST-NB + the Sphinx Book Theme (``tools/site/conf.py``) render the committed
notebooks from their stored outputs; nothing is executed. This script writes the Sphinx source
tree in ``_build/site-src/`` (with a copy of ``tools/site/conf.py``) and runs ``sphinx-build``:

- ``index.md``, the front page: the README's title, its opening paragraph, a Binder badge, the
  two commands and the README's reading-order table (links rewritten to the site's pages), with
  a table of contents in reading order (the sidebar navigation);
- one copy of every ``notebooks/NN_topic.ipynb``, with a Binder launch badge at its top and
  the live-widget outputs replaced by a note (the static figure beside each explorer carries
  the lesson; a widget needs a kernel); the theme's download button offers the ``.ipynb``;
- ``_static/``: MathJax 3 from ``tools/web/node_modules`` (``make web-assets``), the local
  Binder badge and the site's stylesheet.

Sphinx's own search (``search.html``) works offline. The Binder repository comes from
``tools/publish.toml``.

Usage: ``python tools/build_site.py [--out DIR] [--src DIR] [notebooks/NN_topic.ipynb ...]``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_slides  # tools/build_slides.py: the static-copy rules

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
TOOLS = REPO / "tools"
WEB = TOOLS / "web" / "node_modules"
DEFAULT_OUT = REPO / "_build" / "site"
DEFAULT_SRC = REPO / "_build" / "site-src"

SITE_CSS = """\
/* ebm-notebooks site (tools/build_site.py) */
.ebm-badges { margin: 0 0 1em 0; }
.ebm-badges a { margin-right: 0.6em; }
.ebm-badges img { vertical-align: middle; }
.ebm-live-note { font-style: italic; color: #555; }
"""


def publish_settings() -> dict[str, str]:
    settings = tomllib.loads((TOOLS / "publish.toml").read_text())["binder"]
    settings["repository"] = os.environ.get("EBM_BINDER_REPO", settings["repository"])
    return settings


def binder_url(settings: dict[str, str], path: str) -> str:
    """Binder link that opens ``path`` (relative to the repository root) in JupyterLab."""
    return (f"{settings['binderhub'].rstrip('/')}/v2/gh/{settings['repository']}/"
            f"{settings['ref']}?urlpath={quote('lab/tree/' + path, safe='')}")


def badges_html(settings: dict[str, str], notebook: str | None) -> str:
    target = f"notebooks/{notebook}.ipynb" if notebook else "notebooks/00_roadmap.ipynb"
    return (f'<p class="ebm-badges"><a href="{binder_url(settings, target)}">'
            f'<img src="_static/binder-badge.svg" alt="launch on Binder" height="20"></a></p>')


def readme_parts() -> tuple[str, str, str]:
    """The README's title, first paragraph and reading-order table."""
    text = (REPO / "README.md").read_text()
    title = re.search(r"^# (.+)$", text, re.M).group(1).strip()
    paragraphs = [p.strip() for p in text.split("\n", 1)[1].split("\n\n") if p.strip()]
    intro = next(p for p in paragraphs if not p.startswith(("[![", "<")))  # skip the badges
    match = re.search(r"^## Reading order\s*\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    if not match:
        raise RuntimeError("README.md has no '## Reading order' section for the front page")
    table = "\n".join(line for line in match.group(1).splitlines() if line.startswith("|"))
    # Site pages sit side by side: notebooks/NN_topic.ipynb -> NN_topic.ipynb
    table = re.sub(r"\]\(notebooks/([0-9]{2}_\w+)\.ipynb\)", r"](\1.ipynb)", table)
    return title, intro, table


def front_page(stems: list[str], settings: dict[str, str]) -> str:
    title, intro, table = readme_parts()
    badges = badges_html(settings, None)
    toc = "\n".join(stems)
    return f"""# {title}

{badges}

{intro}

Read the notebooks here with their stored outputs (figures of a full run), open them live on
Binder, or run them on your own machine:

```bash
make lab    # set everything up and open JupyterLab at notebooks/00_roadmap.ipynb
make test   # set everything up and run every test
```

Live explorers (sliders) need a running kernel: on these pages each one is shown by the static
figure drawn beside it. Lecture slides of every notebook: `make slides`.

## Reading order

{table}

```{{toctree}}
:maxdepth: 1
:caption: Notebooks in reading order
:hidden:

{toc}
```
"""


def site_notebook(nb, stem: str, settings: dict[str, str]) -> nbformat.NotebookNode:
    """A notebook copy for the site: launch badges on top, widget outputs replaced."""
    nb = build_slides.static_copy(nb, hide_long_inputs=False)
    badge = nbformat.v4.new_markdown_cell(badges_html(settings, stem))
    badge.metadata["tags"] = ["ebm-badges"]
    nb.cells.insert(0, badge)
    return nb


def write_source(notebooks: list[Path], src: Path) -> list[str]:
    """The Sphinx source tree for ``notebooks``; returns their stems in reading order."""
    settings = publish_settings()
    shutil.rmtree(src, ignore_errors=True)
    static = src / "_static"
    static.mkdir(parents=True)
    if not (WEB / "mathjax3" / "es5").exists():
        raise RuntimeError(f"{WEB / 'mathjax3'} is missing: run `make web-assets` first")
    shutil.copytree(WEB / "mathjax3" / "es5", static / "mathjax")
    shutil.copy2(WEB / "mathjax3" / "LICENSE", static / "mathjax" / "LICENSE")
    shutil.copy2(TOOLS / "site" / "_static" / "binder-badge.svg", static)
    (static / "ebm-site.css").write_text(SITE_CSS)
    shutil.copy2(TOOLS / "site" / "conf.py", src / "conf.py")
    stems = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        nbformat.write(site_notebook(nb, path.stem, settings), src / path.name)
        stems.append(path.stem)
    (src / "index.md").write_text(front_page(stems, settings))
    return stems


def build(notebooks: list[Path], out: Path = DEFAULT_OUT, src: Path = DEFAULT_SRC) -> Path:
    """Write the source tree and run sphinx-build; returns ``out``."""
    write_source(notebooks, src)
    settings = publish_settings()
    env = dict(os.environ, EBM_SITE_REPOSITORY=settings["repository"],
               EBM_SITE_REF=settings["ref"], EBM_SITE_BINDERHUB=settings["binderhub"])
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-j", "1", str(src), str(out)]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"sphinx-build failed:\n{result.stdout}\n{result.stderr}")
    if result.stderr.strip():
        print(result.stderr.strip(), file=sys.stderr)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the offline static site.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC)
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    start = time.time()
    out = build(notebooks, args.out, args.src)
    print(f"site of {len(notebooks)} notebooks in {out} ({time.time() - start:.0f} s wall); "
          f"open {out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
