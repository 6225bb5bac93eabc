"""The rule that cuts a notebook down to what its explorers need (``explorer_cells.py``).

No browser here: these tests read notebooks. That the cut copies run and their explorers work
in JupyterLab is what ``test_lab_widgets.py`` checks.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from .explorer_cells import EXPLORER_CALL, cell_names, needed_cells, prune

REPO_ROOT = Path(__file__).resolve().parents[2]


def _notebook(*sources, tags=None):
    cells = [new_markdown_cell(s[3:]) if s.startswith("md:") else new_code_cell(s)
             for s in sources]
    for i, tag in (tags or {}).items():
        cells[i].metadata["tags"] = [tag]
    return new_notebook(cells=cells)


SETUP = "import torch\nfrom ebm_helpers import widgets\ngenerator = torch.Generator()"


def test_keeps_what_the_explorer_reads_and_what_changes_it():
    nb = _notebook(
        SETUP,                                              # 0: binds widgets, generator
        "md:some prose",                                    # 1
        "data = torch.randn(10, generator=generator)",      # 2: binds data
        "slow = sum(range(10**6))\nprint(slow)",            # 3: unrelated
        "data.mul_(2)",                                     # 4: changes data in place
        "fig, ax = 1, 2\nax = data + 1\nprint(ax)",         # 5: reads data, binds scratch only
        "widgets.some_explorer(data)",                      # 6: the explorer
        "after = 1",                                        # 7: after the last explorer
    )
    assert needed_cells(nb.cells) == [0, 1, 2, 4, 6]


def test_follows_functions_and_their_globals():
    nb = _notebook(
        SETUP,
        "table = {'a': 1}",
        "def lookup(key):\n    local = table[key]\n    return local",
        "local = 'unrelated'",
        "widgets.x_explorer(lookup('a'))",
    )
    assert needed_cells(nb.cells) == [0, 1, 2, 4]


def test_statement_calls_that_may_change_a_needed_name():
    nb = _notebook(
        SETUP,
        "model = make()",
        "train(model, steps=3)",        # passed to a call: may change it
        "print(model)",                 # only printed
        "torch.manual_seed(0)",         # a method of a module: not a change of `model`
        "widgets.m_explorer(model)",
    )
    assert needed_cells(nb.cells) == [0, 1, 2, 5]


def test_advancing_the_random_stream_is_not_a_dependency():
    """A cell that only draws from the shared generator (to train a model the explorer does
    not use) is left out; the cell that creates the generator stays."""
    nb = _notebook(
        SETUP,                                             # 0: binds generator
        "other = make()\ntrain(other, generator=generator)",  # 1: advances the stream only
        "model = make()",                                  # 2
        "train(model, generator=generator)",               # 3: changes model (needed)
        "widgets.g_explorer(model, generator)",
    )
    assert needed_cells(nb.cells) == [0, 2, 3, 4]


def test_a_notebook_function_that_fills_a_global():
    nb = _notebook(
        SETUP,
        "models = {}",
        "def fit(name):\n    models[name] = name * 2",
        "fit('a')",                          # changes `models` through fit's body
        "plot(ax, models.keys)",             # an attribute passed: read only
        "widgets.s_explorer(models)",
    )
    assert needed_cells(nb.cells) == [0, 1, 2, 3, 5]


def test_names_bound_before_they_are_read_are_not_dependencies():
    names = cell_names("t0 = now()\nx = [r for r in rows]\nfor i in range(3):\n    y = i + t0")
    assert names.reads == {"now", "rows", "range"}
    assert {"t0", "x", "i", "y"} <= names.binds


def test_magics_parse_and_keep_tag_and_opt_out():
    nb = _notebook(SETUP, "%matplotlib inline\nextra = 1", "other = 2",
                   "widgets.e_explorer()", tags={2: "browser-keep"})
    assert needed_cells(nb.cells) == [0, 2, 3]
    nb.metadata["ebm_browser"] = {"prune": False}
    assert prune(nb) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="no cell that builds an explorer"):
        prune(_notebook(SETUP, "x = 1"))


def test_environment_variable_turns_pruning_off(monkeypatch):
    nb = _notebook(SETUP, "x = 1", "widgets.e_explorer()")
    monkeypatch.setenv("EBM_BROWSER_PRUNE", "0")
    assert prune(nb) == [0, 1, 2]


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")),
                         ids=lambda p: p.stem[:2])
def test_the_notebooks_parse_and_keep_their_setup_cell(path):
    nb = nbformat.read(path, as_version=4)
    keep = needed_cells(nb.cells)
    if keep is None:
        pytest.skip("no explorer")
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    assert code[0] in keep, "the set-up cell (imports, style) must run first"
    assert EXPLORER_CALL.search(nb.cells[keep[-1]].source), "the copy ends with an explorer"
    assert len(keep) < len(nb.cells), "nothing was left out"
