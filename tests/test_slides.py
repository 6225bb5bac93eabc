"""Slide metadata: the tool (tools/slides.py) on a made-up notebook, and every real notebook.

The first group checks the tool itself on a small notebook pair written here: headings split
into cells of their own (never inside code fences), each rule of the convention, the overrides
(and the warning for one that matches nothing), that writing touches only cell metadata and
markdown cells (outputs stay byte-identical), that a second write changes nothing, and the
lecture-length arithmetic.

The second group checks every notebook of the collection: its slide metadata is what
``make slide-metadata`` writes (the tool's check mode; the message says to run it), every cell
has a slide type, the title is a slide, the set-up cell is skipped, and the estimated lecture
is within the band around 50 minutes (CONTRIBUTING.md, "Slides").
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_SOURCES = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.py"))


def _load_tool():
    spec = importlib.util.spec_from_file_location("slides", REPO / "tools" / "slides.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("slides", module)
    spec.loader.exec_module(module)
    return module


slides = _load_tool()

PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJ"
       "RU5ErkJggg==")
WIDGET = {"model_id": "abc", "version_major": 2, "version_minor": 0}


def _figure_output():
    return new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})


def _made_up_notebook() -> nbformat.NotebookNode:
    long_code = "\n".join(f"x{i} = {i}" for i in range(slides.LONG_CODE_LINES + 5))
    cells = [
        new_markdown_cell("# 99 · A made-up lecture\n\nMotivation with $E(x)$.\n\n"
                          "## Learning goals\n\n1. one\n2. two\n\n"
                          "## Prerequisites and run time\n\nNothing."),
        new_code_cell("import math\nprint('mode: full')",
                      outputs=[new_output("stream", name="stdout", text="mode: full\n")]),
        new_markdown_cell("## 1. Energy\n\n$$E(x) = x^2$$\n\nSome words here.\n\n"
                          "```python\n# not a heading: a comment in a fence\n```\n\n"
                          "### A detail\n\nMore words."),
        new_code_cell("plt.plot([1, 2])", outputs=[_figure_output()]),
        new_markdown_cell("What the figure shows."),
        new_code_cell(long_code, outputs=[]),
        new_code_cell("widgets.temperature_explorer(landscape='x')", outputs=[
            new_output("display_data", data={"application/vnd.jupyter.widget-view+json": WIDGET,
                                             "text/plain": "VBox()"})]),
        new_markdown_cell("Things to try: drag the slider."),
        new_markdown_cell("## 2. A section the overrides skip\n\nWords."),
        new_code_cell("y = 1"),
        new_markdown_cell("### Kept by the overrides\n\nWords."),
        new_markdown_cell("## Summary\n\n- a\n- b\n\n## Exercises\n\n**1.** Do it.\n\n"
                          "<details><summary>Solution</summary>\n\nlong solution text\n"
                          "</details>"),
        new_code_cell("def f():\n    raise NotImplementedError\n\nchecks.f(f)"),
        new_markdown_cell("## References\n\n- A. Author (1999). A paper."),
    ]
    for i, cell in enumerate(cells):
        if cell.cell_type == "code":
            cell.execution_count = i
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    return nb


@pytest.fixture
def pair(tmp_path: Path) -> Path:
    """A made-up notebook pair (.ipynb with outputs, .py written by jupytext) in tmp_path."""
    nb = _made_up_notebook()
    ipynb = tmp_path / "99_made_up.ipynb"
    ipynb.write_text(nbformat.writes(nb) + "\n")
    py = ipynb.with_suffix(".py")
    py.write_text(jupytext.writes(nb, fmt="py:percent"))
    return py


OVERRIDES = {"99_made_up": {
    "2. A section the overrides skip": "skip-section",
    "Kept by the overrides": "subslide",
    "A heading that does not exist": "skip",
}}


def _types(py: Path, overrides=None) -> list[tuple[str, str]]:
    pair = slides.prepare(py, overrides or {})
    return [(c.source.splitlines()[0][:40], t)
            for c, t in zip(pair.ipynb_nb.cells, pair.plan.types, strict=True)]


def test_headings_are_split_outside_code_fences(pair: Path) -> None:
    sources = [c.source for c in slides.prepare(pair, {}).py_nb.cells]
    firsts = [s.splitlines()[0] for s in sources]
    assert firsts[:4] == ["# 99 · A made-up lecture", "## Learning goals",
                          "## Prerequisites and run time", "import math"]
    assert "### A detail" in firsts
    fenced = next(s for s in sources if s.startswith("## 1. Energy"))
    assert "# not a heading: a comment in a fence" in fenced
    assert {"## Summary", "## Exercises"} <= set(firsts)


def test_rules(pair: Path) -> None:
    types = dict(_types(pair))
    assert types["# 99 · A made-up lecture"] == "slide"
    assert types["## Learning goals"] == "slide"
    assert types["## Prerequisites and run time"] == "notes"
    assert types["import math"] == "skip"  # the set-up cell
    assert types["## 1. Energy"] == "slide"
    assert types["### A detail"] == "subslide"
    assert types["plt.plot([1, 2])"] == "-"
    assert types["What the figure shows."] == "subslide"  # prose after code
    assert types["x0 = 0"] == "skip"  # long code, no figure
    assert types["widgets.temperature_explorer(landscape='"] == "subslide"
    assert types["Things to try: drag the slider."] == "notes"
    assert types["## Exercises"] == "slide"
    assert types["def f():"] == "skip"  # the exercise stub
    assert types["## References"] == "slide"


def test_overrides_and_unmatched_warning(pair: Path) -> None:
    plan = slides.prepare(pair, OVERRIDES).plan
    types = dict(_types(pair, OVERRIDES))
    assert types["## 2. A section the overrides skip"] == "skip"
    assert types["y = 1"] == "skip"
    # A same-level heading ends the region; the cell override applies to its heading only.
    assert types["### Kept by the overrides"] == "subslide"
    assert types["## Summary"] == "slide"
    assert plan.unmatched_overrides == ["A heading that does not exist"]

    toml = pair.parent / "overrides.toml"
    toml.write_text('["99_made_up"]\n"A heading that does not exist" = "skip"\n')
    with pytest.warns(UserWarning, match="no heading 'A heading that does not exist'"):
        assert slides.main(["report", str(pair), "--overrides", str(toml)]) == 0
    toml.write_text('["99_made_up"]\n"x" = "sldie"\n')
    with pytest.raises(ValueError, match="sldie"):
        slides.load_overrides(toml)


def test_write_keeps_outputs_and_is_idempotent(pair: Path) -> None:
    ipynb = pair.with_suffix(".ipynb")
    before = nbformat.read(ipynb, as_version=4)
    assert slides.problems(slides.prepare(pair, {}))  # no metadata yet
    assert slides.write(slides.prepare(pair, {})) is True
    after = nbformat.read(ipynb, as_version=4)
    code_before = [c for c in before.cells if c.cell_type == "code"]
    code_after = [c for c in after.cells if c.cell_type == "code"]
    assert [(c.source, c.outputs, c.execution_count) for c in code_before] == [
        (c.source, c.outputs, c.execution_count) for c in code_after]
    assert after.metadata == before.metadata
    assert "".join(c.source for c in before.cells).replace("\n", "") == "".join(
        c.source for c in after.cells).replace("\n", "")
    assert all("slide_type" in c.metadata.get("slideshow", {}) for c in after.cells)
    text = pair.read_text()
    assert '# %% [markdown] slideshow={"slide_type": "slide"}' in text
    assert '# %% slideshow={"slide_type": "skip"}' in text
    # The pair is in sync (same cells), and a second write changes nothing.
    assert [(c.cell_type, c.source.strip()) for c in jupytext.read(pair).cells] == [
        (c.cell_type, c.source.strip()) for c in after.cells]
    snapshot = (pair.read_bytes(), ipynb.read_bytes())
    assert slides.problems(slides.prepare(pair, {})) == []
    assert slides.write(slides.prepare(pair, {})) is False
    assert (pair.read_bytes(), ipynb.read_bytes()) == snapshot


def test_out_of_sync_pair_is_refused(pair: Path) -> None:
    pair.write_text(pair.read_text().replace("Some words here.", "Edited words."))
    with pytest.raises(slides.SlideMetadataError, match="make sync"):
        slides.prepare(pair, {})


def test_estimate_follows_the_stated_rates() -> None:
    nb = new_notebook(cells=[
        new_markdown_cell("# T\n\n" + "word " * 110 + "\n\n$$a = b$$"),
        new_code_cell("a = 1\nb = 2", outputs=[_figure_output()]),
        new_markdown_cell("## Exercises\n\n" + "word " * 500),
    ])
    types = ["slide", "-", "slide"]
    sections = slides.rule_types(nb)[1]
    minutes = slides.cell_minutes(nb, types, sections)
    # title: slide + 111 words (the "#" mark is not a word) + one display equation
    assert minutes[0] == pytest.approx(slides.SLIDE_MIN + 111 / slides.PROSE_WORDS_PER_MIN
                                       + slides.EQUATION_MIN)
    assert minutes[1] == pytest.approx(slides.CODE_MIN + 2 * slides.CODE_LINE_MIN
                                       + slides.FIGURE_MIN)
    assert minutes[2] == pytest.approx(slides.EXERCISES_MIN)  # condensed, whatever its length
    assert slides.estimate_minutes(nb, ["slide", "skip", "notes"], sections) == minutes[0]


# ---------------------------------------------------------------------------------------------
# Every notebook of the collection


@pytest.mark.parametrize("py", NOTEBOOK_SOURCES, ids=lambda p: p.stem)
def test_slide_metadata_is_current(py: Path) -> None:
    pair = slides.prepare(py, slides.load_overrides())
    found = slides.problems(pair)
    assert not found, "; ".join(found) + ": run `make slide-metadata` (tools/slides.py)"


@pytest.mark.parametrize("py", NOTEBOOK_SOURCES, ids=lambda p: p.stem)
def test_every_notebook_is_a_lecture(py: Path) -> None:
    nb = nbformat.read(py.with_suffix(".ipynb"), as_version=4)
    types = slides.stored_types(nb)
    missing = [i for i, t in enumerate(types) if t not in slides.SLIDE_TYPES]
    assert not missing, f"cells {missing} have no slide type: run `make slide-metadata`"
    assert types[0] == "slide" and nb.cells[0].source.startswith("# "), "title slide"
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    assert types[first_code] == "skip", "the set-up cell must be skipped"
    sections = slides.rule_types(nb)[1]
    minutes = slides.estimate_minutes(nb, types, sections)
    low, high = slides.band_for(py.stem)
    assert low <= minutes <= high, (
        f"the slide path is an estimated {minutes:.0f}-minute lecture, outside {low:.0f}-"
        f"{high:.0f} min: adjust tools/slide_overrides.toml and run `make slide-metadata`"
    )
    assert slides.n_slides(types) >= 8, "fewer than 8 slides"


def test_overrides_name_existing_notebooks() -> None:
    stems = {p.stem for p in NOTEBOOK_SOURCES}
    unknown = set(slides.load_overrides()) - stems
    assert not unknown, f"tools/slide_overrides.toml names missing notebooks: {unknown}"


def test_overrides_file_is_valid_toml_with_known_values() -> None:
    table = slides.load_overrides()
    assert json.dumps(table)  # loads and validates the values (ValueError otherwise)
