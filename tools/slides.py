"""Slide metadata for every notebook: the rules, per-notebook overrides, a lecture-length estimate.

Every notebook is also a lecture. This tool writes ``slideshow.slide_type`` (slide, subslide,
fragment, skip, notes or ``-``) into every cell of every notebook pair, in the ``.py`` source
(jupytext percent cell headers) and in the ``.ipynb`` (cell metadata only: outputs, execution
counts and notebook metadata are left as they are), deterministically from the rules below plus
the per-notebook overrides in ``tools/slide_overrides.toml``. nbconvert's reveal.js exporter
(``make slides``) and jupyterlab-rise (live slides in JupyterLab) both read that metadata.

Before classifying, every markdown cell is split at its level-1 to level-3 headings (outside
code fences), so that each heading starts a cell and can start a slide. Splitting touches
markdown cells only, in both files of a pair, so the stored outputs stay valid.

The rules (CONTRIBUTING.md, "Slides", states them for authors):

- the title cell (``# NN · …``) and every ``##`` heading → ``slide``; ``## Prerequisites…``
  (run time, set-up advice: for the lecturer, not the audience) → ``notes``;
- ``###`` headings → ``subslide`` (``-`` inside Exercises and References);
- the set-up cell (the first code cell) → ``skip``;
- a code cell longer than ``LONG_CODE_LINES`` lines without a figure, and a code cell whose only
  output is a long table (more than ``LONG_TABLE_LINES`` lines of text, no figure) → ``skip``;
- an explorer cell (it calls ``widgets.*_explorer(``) → ``subslide`` (live in RISE; in static
  slides the figure drawn beside it carries the slide);
- any other code cell → ``-`` (shown on the current slide with its figures);
- prose that follows code (the discussion of a result) → ``subslide``; prose that follows prose
  → ``-``; prose opening with "Things to try" (hints for the explorer) → ``notes``;
- Exercises and References are condensed to one slide each: their heading cell is a slide, the
  statements continue it (solutions stay folded in ``<details>``), exercise code cells → ``skip``.

Overrides (``tools/slide_overrides.toml``) are keyed by notebook stem and heading text (without
the ``#`` marks, compared case-insensitively with whitespace collapsed). A value is a slide type
for that heading's cell, or ``skip-section`` / ``notes-section`` / ``show-section``, which apply to
the heading's cell and every cell up to the next heading of the same or a higher level
(``notes-section`` puts prose into notes and skips code; ``show-section`` undoes the rules'
``skip`` and ``notes`` inside a section). A key that matches no heading is reported as a warning.

Lecture length. The estimate follows what the static deck shows, at these rates:

- prose: 1 minute per ``PROSE_WORDS_PER_MIN`` words shown (display maths and folded
  ``<details>`` excluded), plus ``EQUATION_MIN`` per display equation;
- each slide or subslide: ``SLIDE_MIN`` (turning to it, orienting the audience);
- each code cell whose input is shown: ``CODE_MIN`` plus ``CODE_LINE_MIN`` per line (a code
  cell longer than ``SHOW_CODE_LINES`` lines, or ``SHOW_DEF_LINES`` when it defines a function,
  is shown by its outputs only);
- each figure: ``FIGURE_MIN``; each explorer: ``EXPLORER_MIN`` (a live demonstration);
  a printed table (text output of ``TABLE_LINES`` lines or more): ``TABLE_MIN``; a shorter
  printout (a check, a number): ``PRINT_MIN``;
- the condensed Exercises slide ``EXERCISES_MIN`` and References slide ``REFERENCES_MIN`` in all;
- ``notes`` and ``skip`` cost nothing.

The target is a 50-minute lecture per notebook (``TARGET_MIN``); ``BAND_MIN`` is the band the
test accepts (``band_for``: 00_roadmap, the course's opening session, may be shorter).

Usage (``make slide-metadata`` runs ``write``; the test runs ``check``)::

    python tools/slides.py write  [notebooks/NN_topic.py ...]
    python tools/slides.py check  [notebooks/NN_topic.py ...]
    python tools/slides.py report [notebooks/NN_topic.py ...]
    python tools/slides.py show   [notebooks/NN_topic.py ...]   # the plan cell by cell
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import nbformat

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
OVERRIDES = REPO / "tools" / "slide_overrides.toml"

SLIDE_TYPES = ("slide", "subslide", "fragment", "skip", "notes", "-")
SECTION_VALUES = ("skip-section", "notes-section", "show-section")

# The rules' thresholds.
LONG_CODE_LINES = 25
LONG_TABLE_LINES = 15
SHOW_CODE_LINES = 15
SHOW_DEF_LINES = 40

# The estimate's rates (minutes).
PROSE_WORDS_PER_MIN = 110
EQUATION_MIN = 0.5
SLIDE_MIN = 0.25
CODE_MIN = 0.25
CODE_LINE_MIN = 0.04
FIGURE_MIN = 1.0
EXPLORER_MIN = 3.0
TABLE_LINES = 5
TABLE_MIN = 1.0
PRINT_MIN = 0.25
EXERCISES_MIN = 2.0
REFERENCES_MIN = 1.0
TARGET_MIN = 50.0
# 50 ± 15 minutes: a shorter path leaves the rest of the session to the live explorer and an
# exercise done in class; a longer one needs overrides (skip-section / notes-section).
BAND_MIN = (35.0, 65.0)
# 00_roadmap opens the course: its slide path is the map of the field, and the rest of that
# first session is the course's own logistics.
BANDS_MIN = {"00_roadmap": (20.0, 65.0)}


def band_for(stem: str) -> tuple[float, float]:
    """The lecture lengths (minutes) the test accepts for notebook ``stem``."""
    return BANDS_MIN.get(stem, BAND_MIN)

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_DISPLAY_MATH = re.compile(r"\$\$.+?\$\$|\\begin\{(equation|align)\*?\}.+?\\end\{\1\*?\}", re.S)
_DETAILS = re.compile(r"<details>.*?</details>", re.S | re.I)
_EXPLORER = re.compile(r"\bwidgets\.\w+_explorer\(")
_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class SlideMetadataError(RuntimeError):
    """A notebook pair cannot be given slide metadata (e.g. its two files are out of sync)."""


# ---------------------------------------------------------------------------------------------
# Headings and splitting


def _heading_lines(source: str) -> list[tuple[int, int, str]]:
    """(line index, level, text) of every markdown heading outside code fences."""
    found, in_fence = [], False
    for i, line in enumerate(source.splitlines()):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        match = None if in_fence else _HEADING.match(line)
        if match:
            found.append((i, len(match.group(1)), match.group(2)))
    return found


def cell_heading(cell) -> tuple[int, str] | None:
    """(level, text) when a markdown cell opens with a heading, else None."""
    if cell.cell_type != "markdown":
        return None
    lines = cell.source.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    for index, level, text in _heading_lines(cell.source):
        if index == first:
            return level, text
    return None


def normalise_heading(text: str) -> str:
    return " ".join(text.split()).casefold()


def _split_source(source: str) -> list[str]:
    """A markdown source cut before each level-1..3 heading that does not open it."""
    lines = source.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), 0)
    cuts = [i for i, level, _ in _heading_lines(source) if level <= 3 and i > first]
    if not cuts:
        return [source]
    pieces = [lines[a:b] for a, b in zip([0, *cuts], [*cuts, len(lines)], strict=True)]
    return ["\n".join(p).strip("\n") for p in pieces if "\n".join(p).strip()]


def split_heading_cells(nb) -> int:
    """Split every markdown cell of ``nb`` at its inner headings (in place); returns the count."""
    cells, n_split = [], 0
    for cell in nb.cells:
        pieces = _split_source(cell.source) if cell.cell_type == "markdown" else [cell.source]
        if len(pieces) == 1:
            cells.append(cell)
            continue
        n_split += 1
        for k, piece in enumerate(pieces):
            new = copy.deepcopy(cell)
            new.source = piece
            if "id" in new:
                # Deterministic ids, so that running the tool twice changes nothing.
                new["id"] = cell["id"] if k == 0 else f"{cell['id'][:56]}-s{k}"
            cells.append(new)
    nb.cells = cells
    return n_split


# ---------------------------------------------------------------------------------------------
# Cell facts


def _outputs(cell) -> list:
    return cell.get("outputs", []) if cell.cell_type == "code" else []


def n_figures(cell) -> int:
    return sum(1 for o in _outputs(cell) if "image/png" in o.get("data", {})
               or "image/svg+xml" in o.get("data", {}))


def text_output_lines(cell) -> int:
    """Lines of text a cell shows (stdout, plain results, markdown/HTML tables)."""
    n = 0
    for o in _outputs(cell):
        if o.get("output_type") == "stream" and o.get("name") == "stdout":
            n += len(o.get("text", "").splitlines())
        data = o.get("data", {})
        if _WIDGET_VIEW in data or "image/png" in data:
            continue
        for mime in ("text/markdown", "text/html", "text/plain"):
            if mime in data:
                text = data[mime] if isinstance(data[mime], str) else "".join(data[mime])
                if mime == "text/html":
                    n += max(1, text.count("<tr"))
                else:
                    n += len(text.splitlines())
                break
    return n


def is_explorer(cell) -> bool:
    return cell.cell_type == "code" and bool(_EXPLORER.search(cell.source))


def code_lines(cell) -> int:
    return sum(1 for line in cell.source.splitlines() if line.strip())


def shows_input(cell) -> bool:
    """Whether the static deck shows a code cell's input (else only its outputs)."""
    limit = SHOW_DEF_LINES if re.search(r"^\s*(def|class) ", cell.source, re.M) else SHOW_CODE_LINES
    return code_lines(cell) <= limit or not _outputs(cell)


# ---------------------------------------------------------------------------------------------
# The rules


@dataclass
class Plan:
    """The slide types of one notebook and what went into them."""

    stem: str
    types: list[str]
    sections: list[str]  # the ## section each cell belongs to (casefolded heading text)
    unmatched_overrides: list[str] = field(default_factory=list)


def _section_kind(section: str) -> str:
    for kind in ("exercises", "references"):
        if section.startswith(kind):
            return kind
    return "body"


def rule_types(nb) -> tuple[list[str], list[str]]:
    """Slide type of every cell by the rules alone, and each cell's ## section."""
    types, sections = [], []
    section, seen_code, prev = "", False, None
    for index, cell in enumerate(nb.cells):
        heading = cell_heading(cell)
        if heading and heading[0] <= 2:
            section = normalise_heading(heading[1])
        kind = _section_kind(section)
        if cell.cell_type == "markdown":
            if index == 0 or (heading and heading[0] == 1):
                slide_type = "slide"
            elif heading and heading[0] == 2:
                slide_type = "notes" if section.startswith("prerequisites") else "slide"
            elif kind != "body":
                slide_type = "-"
            elif heading and heading[0] == 3:
                slide_type = "subslide"
            elif cell.source.lstrip().lower().startswith("things to try"):
                slide_type = "notes"
            elif prev is not None and prev.cell_type == "code":
                slide_type = "subslide"
            else:
                slide_type = "-"
        elif cell.cell_type == "code":
            if not seen_code:
                slide_type = "skip"  # the set-up cell
            elif kind != "body" or "NotImplementedError" in cell.source:
                slide_type = "skip"
            elif is_explorer(cell):
                slide_type = "subslide"
            elif n_figures(cell) == 0 and (
                code_lines(cell) > LONG_CODE_LINES or text_output_lines(cell) > LONG_TABLE_LINES
            ):
                slide_type = "skip"
            else:
                slide_type = "-"
            seen_code = True
        else:
            slide_type = "skip"  # raw cells
        types.append(slide_type)
        sections.append(section)
        prev = cell
    return types, sections


def load_overrides(path: Path = OVERRIDES) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    table = tomllib.loads(path.read_text())
    for stem, entries in table.items():
        for key, value in entries.items():
            if value not in SLIDE_TYPES + SECTION_VALUES:
                raise ValueError(
                    f"{path.name}: [{stem}] {key!r} = {value!r}: use one of "
                    f"{', '.join(SLIDE_TYPES + SECTION_VALUES)}"
                )
    return table


def plan_notebook(nb, stem: str, overrides: dict[str, dict[str, str]]) -> Plan:
    """Slide types for ``nb`` (already split at headings): the rules, then the overrides."""
    types, sections = rule_types(nb)
    wanted = {normalise_heading(k): (k, v) for k, v in overrides.get(stem, {}).items()}
    matched = set()
    region: tuple[int, str] | None = None  # (heading level, section value) while inside one
    for index, cell in enumerate(nb.cells):
        heading = cell_heading(cell)
        if heading and region and heading[0] <= region[0]:
            region = None
        key = normalise_heading(heading[1]) if heading else None
        if key in wanted:
            matched.add(key)
            value = wanted[key][1]
            if value not in SECTION_VALUES:
                types[index] = value
                continue
            region = (heading[0], value)
        if region is None:
            continue
        value = region[1]
        if value == "skip-section":
            types[index] = "skip"
        elif value == "notes-section":
            types[index] = "notes" if cell.cell_type == "markdown" else "skip"
        elif value == "show-section" and types[index] in ("skip", "notes"):
            opens = key in wanted and index > 0
            types[index] = ("slide" if heading[0] <= 2 else "subslide") if opens else "-"
    unmatched = [wanted[k][0] for k in wanted if k not in matched]
    return Plan(stem, types, sections, unmatched)


# ---------------------------------------------------------------------------------------------
# The estimate


def _prose_minutes(source: str) -> float:
    text = _DETAILS.sub(" ", source)
    n_equations = len(_DISPLAY_MATH.findall(text))
    text = _DISPLAY_MATH.sub(" ", text)
    words = len(re.findall(r"[^\s#*|>-]+", text))
    return words / PROSE_WORDS_PER_MIN + EQUATION_MIN * n_equations


def cell_minutes(nb, types: list[str], sections: list[str]) -> list[float]:
    """Estimated lecture minutes of each cell of ``nb`` (rates in the module docstring)."""
    out, condensed = [], set()
    for cell, slide_type, section in zip(nb.cells, types, sections, strict=True):
        minutes = 0.0
        kind = _section_kind(section)
        if slide_type in ("skip", "notes"):
            pass
        elif kind != "body":
            if kind not in condensed:
                condensed.add(kind)
                minutes = EXERCISES_MIN if kind == "exercises" else REFERENCES_MIN
        else:
            if slide_type in ("slide", "subslide"):
                minutes += SLIDE_MIN
            if cell.cell_type == "markdown":
                minutes += _prose_minutes(cell.source)
            else:
                if shows_input(cell):
                    minutes += CODE_MIN + CODE_LINE_MIN * code_lines(cell)
                minutes += FIGURE_MIN * n_figures(cell)
                n_lines = text_output_lines(cell)
                if n_lines:
                    minutes += TABLE_MIN if n_lines >= TABLE_LINES else PRINT_MIN
                if is_explorer(cell):
                    minutes += EXPLORER_MIN
        out.append(minutes)
    return out


def estimate_minutes(nb, types: list[str], sections: list[str]) -> float:
    """Estimated lecture length of the slide path of ``nb``."""
    return sum(cell_minutes(nb, types, sections))


def n_slides(types: list[str]) -> int:
    return sum(t in ("slide", "subslide") for t in types)


# ---------------------------------------------------------------------------------------------
# Reading and writing notebook pairs


def _cells_key(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells if c.source.strip()]


@dataclass
class Pair:
    """A notebook pair as read from disk, and as the tool would write it."""

    py_path: Path
    py_nb: object
    ipynb_nb: object
    plan: Plan

    @property
    def stem(self) -> str:
        return self.py_path.stem


def prepare(py_path: Path, overrides: dict[str, dict[str, str]]) -> Pair:
    """Read a pair, split its heading cells and plan its slide types (nothing written)."""
    ipynb_path = py_path.with_suffix(".ipynb")
    if not ipynb_path.exists():
        raise SlideMetadataError(f"{ipynb_path.name} is missing: run `make sync`")
    py_nb = jupytext.read(py_path)
    ipynb_nb = nbformat.read(ipynb_path, as_version=4)
    if _cells_key(py_nb) != _cells_key(ipynb_nb) or len(py_nb.cells) != len(ipynb_nb.cells):
        raise SlideMetadataError(
            f"{py_path.name} and {ipynb_path.name} hold different cells: run `make sync` first"
        )
    for nb in (py_nb, ipynb_nb):
        split_heading_cells(nb)
    # The rules look at outputs (figures, tables), which only the .ipynb holds.
    plan = plan_notebook(ipynb_nb, py_path.stem, overrides)
    for nb in (py_nb, ipynb_nb):
        for cell, slide_type in zip(nb.cells, plan.types, strict=True):
            cell.metadata["slideshow"] = {"slide_type": slide_type}
    return Pair(py_path, py_nb, ipynb_nb, plan)


def stored_types(nb) -> list[str | None]:
    return [c.metadata.get("slideshow", {}).get("slide_type") for c in nb.cells]


def problems(pair: Pair) -> list[str]:
    """How the files on disk differ from what ``write`` would produce (empty: up to date)."""
    found = []
    for path in (pair.py_path, pair.py_path.with_suffix(".ipynb")):
        on_disk = jupytext.read(path) if path.suffix == ".py" else nbformat.read(path, 4)
        wanted = pair.py_nb if path.suffix == ".py" else pair.ipynb_nb
        if _cells_key(on_disk) != _cells_key(wanted):
            found.append(f"{path.name}: markdown cells not split at their headings")
        elif stored_types(on_disk) != [c.metadata["slideshow"]["slide_type"]
                                       for c in wanted.cells]:
            found.append(f"{path.name}: slide types differ from the rules and overrides")
    return found


def write(pair: Pair) -> bool:
    """Write both files of the pair if anything changed; True when something was written."""
    if not problems(pair):
        return False
    ipynb_path = pair.py_path.with_suffix(".ipynb")
    # The .ipynb first, the .py last: jupytext --sync treats the newer file as the source, and
    # both now hold the same cells.
    ipynb_path.write_text(nbformat.writes(pair.ipynb_nb) + "\n")
    pair.py_path.write_text(jupytext.writes(pair.py_nb, fmt="py:percent"))
    return True


def notebook_sources(args: list[str]) -> list[Path]:
    if args:
        return [Path(a).with_suffix(".py").resolve() for a in args]
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))


def report_line(pair: Pair) -> str:
    minutes = estimate_minutes(pair.ipynb_nb, pair.plan.types, pair.plan.sections)
    counts = {t: pair.plan.types.count(t) for t in ("skip", "notes")}
    low, high = band_for(pair.stem)
    flag = "" if low <= minutes <= high else (
        f"  OUTSIDE {low:.0f}-{high:.0f} min: tune tools/slide_overrides.toml")
    return (f"{pair.stem:40s} {n_slides(pair.plan.types):3d} slides  ~{minutes:4.1f} min  "
            f"({counts['skip']} cells skipped, {counts['notes']} in notes){flag}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["write", "check", "report", "show"])
    parser.add_argument("notebooks", nargs="*", help="notebook paths (default: all)")
    parser.add_argument("--overrides", type=Path, default=OVERRIDES)
    args = parser.parse_args(argv)
    overrides = load_overrides(args.overrides)
    pairs = [prepare(p, overrides) for p in notebook_sources(args.notebooks)]
    if not args.notebooks:
        for stem in sorted(set(overrides) - {p.stem for p in pairs}):
            warnings.warn(f"slide_overrides.toml: no notebook {stem!r}", stacklevel=1)
    for pair in pairs:
        for key in pair.plan.unmatched_overrides:
            warnings.warn(f"slide_overrides.toml: [{pair.stem}] no heading {key!r}", stacklevel=1)
    status = 0
    for pair in pairs:
        if args.command == "write":
            changed = write(pair)
            print(("wrote " if changed else "unchanged ") + report_line(pair))
        elif args.command == "check":
            for problem in problems(pair):
                print(f"{problem}: run `make slide-metadata`")
                status = 1
        else:
            print(report_line(pair))
        if args.command == "show":
            nb, plan = pair.ipynb_nb, pair.plan
            minutes = cell_minutes(nb, plan.types, plan.sections)
            for i, (cell, slide_type) in enumerate(zip(nb.cells, plan.types, strict=True)):
                first = cell.source.strip().splitlines()[0][:70] if cell.source.strip() else ""
                print(f"  {i:3d} {slide_type:8s} {minutes[i]:4.1f} {cell.cell_type[:4]} {first}")
    if args.command == "check" and status == 0:
        print(f"slide metadata up to date in {len(pairs)} notebooks")
    return status


if __name__ == "__main__":
    sys.exit(main())
