"""`make slides`: reveal.js decks of every notebook, from its stored outputs, that work offline.

Writes ``_build/slides/NN_topic.slides.html`` for every notebook plus ``_build/slides/lib/``
with reveal.js, MathJax 2, require.js and jQuery copied from ``tools/web/node_modules`` (npm
packages pinned in ``tools/web/package.json`` and its lock file, installed by ``make
web-assets``). Every URL in a deck is relative, so the folder works from a USB stick or a
``file://`` path with the network unplugged.

The decks follow each cell's ``slideshow.slide_type`` (``make slide-metadata``, see
``tools/slides.py``). On top of that, for a projector:

- code cells that ``slides.shows_input`` rejects (long code whose point is its figure) show
  their outputs only;
- live widgets cannot work without a kernel: progress bars are dropped, and an explorer's
  output becomes a one-line pointer to the static figure beside it and to live slides (RISE);
- stderr (progress-bar text, warnings) is dropped.

Usage: ``python tools/build_slides.py [--out DIR] [notebooks/NN_topic.ipynb ...]``.
"""

from __future__ import annotations

import argparse
import copy
import html
import shutil
import sys
import time
from pathlib import Path

import nbformat
from nbconvert import SlidesExporter
from traitlets.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))
import slides  # tools/slides.py: the slide rules

REPO = Path(__file__).resolve().parents[1]
WEB = REPO / "tools" / "web" / "node_modules"
TEMPLATES = REPO / "tools" / "templates"
DEFAULT_OUT = REPO / "_build" / "slides"

HIDE_INPUT_TAG = "ebm-slides-hide-input"
_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

# What a deck needs from each npm package: (package directory, files or folders to copy).
# reveal.js keeps one theme (white: its fonts are local, most others import Google Fonts); MathJax 2
# is pruned to the CommonHTML output and the TeX fonts it uses (73 MB -> about 9 MB).
LIB_FILES = {
    "reveal.js": ("reveal.js", [
        "dist/reveal.js", "dist/reveal.css", "dist/reset.css", "dist/theme/white.css",
        "dist/theme/fonts/source-sans-pro", "plugin/notes/notes.js", "LICENSE",
    ]),
    "mathjax": ("mathjax2", [
        "MathJax.js", "LICENSE", "config/TeX-AMS_CHTML-full.js", "config/Safe.js", "extensions",
        "localization",
        "jax/element", "jax/input", "jax/output/CommonHTML", "jax/output/PreviewHTML",
        "fonts/HTML-CSS/TeX/woff",
    ]),
    "requirejs": ("requirejs", ["require.js"]),
    "jquery": ("jquery", ["dist/jquery.min.js", "LICENSE.txt"]),
}

SLIDES_CSS = """\
/* ebm-notebooks slides: readable code and figures on a projector (tools/build_slides.py). */
.reveal .jp-OutputArea-output img { max-height: 62vh; width: auto; }
.reveal .ebm-live-note { font-size: 0.7em; font-style: italic; color: #555; }
.reveal details { font-size: 0.8em; }
.reveal .jp-CodeCell .jp-InputArea pre, .reveal .jp-OutputArea pre { font-size: 15px; }
.reveal h1, .reveal h2, .reveal h3 { text-transform: none !important; }
.reveal h1 { font-size: 1.9em !important; }
.reveal h2 { font-size: 1.4em !important; }
.reveal h3 { font-size: 1.15em !important; }
"""


def install_lib(out: Path) -> Path:
    """Copy the pinned web assets a deck loads into ``out/lib`` (fresh each build)."""
    if not WEB.exists():
        raise RuntimeError(
            f"{WEB} is missing: run `make web-assets` (npm ci in tools/web) first"
        )
    lib = out / "lib"
    shutil.rmtree(lib, ignore_errors=True)
    for name, (package, parts) in LIB_FILES.items():
        for part in parts:
            src, dst = WEB / package / part, lib / name / part
            if not src.exists():
                raise RuntimeError(f"{src} is missing: run `make web-assets` again")
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst)
            else:
                shutil.copy2(src, dst)
    (lib / "ebm-slides.css").write_text(SLIDES_CSS)
    return lib


def exporter() -> SlidesExporter:
    config = Config()
    config.SlidesExporter.reveal_url_prefix = "lib/reveal.js"
    config.SlidesExporter.reveal_scroll = True
    config.SlidesExporter.reveal_number = "c/t"
    config.SlidesExporter.reveal_transition = "none"
    config.SlidesExporter.reveal_theme = "white"  # local fonts; "simple" imports Google Fonts
    config.SlidesExporter.mathjax_url = "lib/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
    config.SlidesExporter.require_js_url = "lib/requirejs/require.js"
    config.SlidesExporter.jquery_url = "lib/jquery/dist/jquery.min.js"
    config.SlidesExporter.font_awesome_url = ""
    config.SlidesExporter.exclude_input_prompt = True
    config.SlidesExporter.exclude_output_prompt = True
    config.SlidesExporter.extra_template_basedirs = [str(TEMPLATES)]
    config.SlidesExporter.template_name = "ebm_reveal"
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_input_tags = {HIDE_INPUT_TAG}
    return SlidesExporter(config=config)


def _live_note() -> nbformat.NotebookNode:
    html = ('<p class="ebm-live-note">Live explorer: run the notebook in JupyterLab (or on '
            "Binder) to drag its sliders; the figure drawn above shows the same lesson.</p>")
    return nbformat.v4.new_output("display_data", data={"text/html": html,
                                                        "text/plain": "(live explorer)"})


def static_copy(nb, hide_long_inputs: bool = True) -> nbformat.NotebookNode:
    """A copy of ``nb`` for static HTML without a kernel (slides; the site without hiding).

    Widget state and views, progress bars and stderr go; an explorer's output becomes a note;
    with ``hide_long_inputs`` long code cells are tagged to show their outputs only.
    """
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.outputs:
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                continue
            if _WIDGET_VIEW in output.get("data", {}):
                continue
            outputs.append(output)
        if slides.is_explorer(cell):
            outputs.append(_live_note())
        if hide_long_inputs and not slides.shows_input(cell):
            cell.metadata.setdefault("tags", []).append(HIDE_INPUT_TAG)
        cell.outputs = outputs
    return nb


def build(notebooks: list[Path], out: Path = DEFAULT_OUT) -> list[Path]:
    """Write one deck per notebook into ``out`` (and the shared ``out/lib``)."""
    out.mkdir(parents=True, exist_ok=True)
    install_lib(out)
    exp = exporter()
    written = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        if not any("slideshow" in c.metadata for c in nb.cells):
            raise RuntimeError(f"{path.name} has no slide metadata: run `make slide-metadata`")
        body, _ = exp.from_notebook_node(static_copy(nb),
                                         resources={"metadata": {"name": path.stem}})
        target = out / f"{path.stem}.slides.html"
        target.write_text(body)
        written.append(target)
    write_index(out, written)
    return written


def write_index(out: Path, decks: list[Path]) -> None:
    """``out/index.html``: the decks in reading order."""
    items = "\n".join(
        f'<li><a href="{d.name}">{html.escape(d.name.removesuffix(".slides.html"))}</a></li>'
        for d in decks
    )
    (out / "index.html").write_text(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>ebm-notebooks slides</title></head>\n<body>\n<h1>ebm-notebooks: slides</h1>\n"
        "<p>One deck per notebook. Arrow keys move; <kbd>S</kbd> opens the speaker notes; "
        "<kbd>Esc</kbd> shows the overview.</p>\n"
        f"<ol start=\"0\">\n{items}\n</ol>\n</body></html>\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build offline reveal.js slides.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    start = time.process_time()
    written = build(notebooks, args.out)
    for path in written:
        print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    print(f"{len(written)} decks in {time.process_time() - start:.1f} s CPU; open "
          f"{args.out / 'index.html'} or any *.slides.html (press S for speaker notes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
