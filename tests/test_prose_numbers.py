"""Prose states no number that the notebook's own outputs do not show (DESIGN.md §4).

Every decimal number written in a notebook's markdown (``0.94``, ``1.5``, not whole numbers
such as "8 qubits", which are settings) must appear in that notebook's stored outputs — text
printed by a cell, a displayed Markdown/HTML result — to the precision written, or be on the
short allow-list ``tests/prose_numbers_allowed.toml`` with a reason (a year range, a version, a
constant of an equation, a value cited from a paper with its reference).

Not checked: arXiv identifiers, numbers inside maths (``$…$``, ``$$…$$``: equation
constants), inline code, link targets and HTML tags. A result belongs in prose only when a
rerun cannot change it, so the usual fix for a failure is to print the sentence from code
(``display(Markdown(f"…"))``) or to state the claim without the number beside an ``assert``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
IPYNBS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ALLOWED_PATH = Path(__file__).with_name("prose_numbers_allowed.toml")

_MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$|\\\[.*?\\\]|\\\(.*?\\\)", re.S)
_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)
_LINK_TARGET = re.compile(r"\]\([^)]*\)|<[^>\n]+>|https?://\S+")
_ARXIV = re.compile(r"\b\d{4}\.\d{4,5}(v\d+)?\b")  # arXiv identifiers, e.g. 1912.03263
# not after "§" (a section of a cited paper, e.g. Hinton 2010, §3.2)
_DECIMAL = re.compile(r"(?<![\w.,§])(?<!§ )[-−]?\d+\.\d+(?![\w.]*\d)")
_OUTPUT_NUMBER = re.compile(r"[-−]?\d+\.\d+(?:[eE][-+]?\d+)?|[-−]?\d+(?:[eE][-+]?\d+)?")


def prose_decimals(markdown: str) -> list[str]:
    """The decimal numbers of a markdown text, outside maths, code, links and tags."""
    text = _CODE.sub(" ", markdown)
    text = _MATH.sub(" ", text)
    text = _LINK_TARGET.sub(" ", text)
    text = _ARXIV.sub(" ", text)
    return [m.group(0).replace("−", "-") for m in _DECIMAL.finditer(text)]


def output_texts(nb) -> list[str]:
    """Every text a notebook's cells output (streams, plain text, Markdown, HTML, errors)."""
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                texts.append(out.get("text", ""))
            for mime in ("text/plain", "text/markdown", "text/html", "text/latex"):
                value = out.get("data", {}).get(mime)
                if value:
                    texts.append(value if isinstance(value, str) else "".join(value))
    return texts


def output_numbers(texts: list[str]) -> list[float]:
    numbers = []
    for text in texts:
        for m in _OUTPUT_NUMBER.finditer(text.replace("−", "-")):
            try:
                numbers.append(float(m.group(0)))
            except ValueError:  # pragma: no cover - the pattern only matches numbers
                pass
    return numbers


def shown(number: str, outputs: list[float]) -> bool:
    """Whether ``number`` (as written, e.g. "0.94") is some output rounded to its precision,
    or the same value as a percentage ("94.0" for 0.940) or as a fraction."""
    decimals = len(number.split(".")[1])
    value = float(number)
    tol = 0.5 * 10.0**-decimals + 1e-12
    return any(
        abs(o - value) <= tol or abs(100 * o - value) <= tol or abs(o / 100 - value) <= tol
        for o in outputs
    )


def load_allowed() -> dict[str, dict[str, str]]:
    return tomllib.loads(ALLOWED_PATH.read_text()) if ALLOWED_PATH.exists() else {}


def test_allow_list_entries_have_reasons():
    for notebook, entries in load_allowed().items():
        assert (REPO / "notebooks" / f"{notebook}.ipynb").exists() or notebook == "all", notebook
        for number, why in entries.items():
            assert isinstance(why, str) and len(why) > 10, f"{notebook}: {number} needs a reason"


@pytest.mark.parametrize("ipynb", IPYNBS, ids=lambda p: p.stem)
def test_decimal_numbers_in_prose_are_in_the_outputs(ipynb):
    nb = nbformat.read(ipynb, as_version=4)
    outputs = output_numbers(output_texts(nb))
    allowed = {**load_allowed().get("all", {}), **load_allowed().get(ipynb.stem, {})}
    missing = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for number in prose_decimals(cell.source):
            if number not in allowed and not shown(number, outputs):
                first_line = cell.source.strip().splitlines()[0][:60]
                missing.append(f"cell {i} ({first_line!r}): {number}")
    assert not missing, (
        f"{ipynb.name}: decimal numbers in prose that no output shows — print them from code, "
        "drop them, or allow-list them with a reason in tests/prose_numbers_allowed.toml:\n  "
        + "\n  ".join(missing)
    )


def test_the_checker_itself():
    md = ("Accuracy 0.94 beat $\\beta = 0.5$ and `lr=0.01`, see [x](http://a.b/1.2), v2.0.1, "
          "arXiv:1912.03263.")
    assert prose_decimals(md) == ["0.94"]
    assert shown("0.94", [0.9381]) and not shown("0.94", [0.93])
    assert shown("94.1", [0.9412]) and shown("0.25", [25.0])
    assert output_numbers(["loss 1.5e-03, n=3"]) == [1.5e-03, 3.0]
