"""Checks of the notebooks as files: pairing, sync, structure, offline use and determinism.

Execution of every notebook (nbval, fast mode) is collected separately by pytest from
``notebooks/*.ipynb`` (see ``addopts`` in pyproject.toml); the browser test lives in
``tests/browser``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jupytext
import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
IPYNBS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
REQUIRED_HEADINGS = ["learning goals", "prerequisites", "summary", "exercises", "references"]


def _cells(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells if c.source.strip()]


def test_there_are_notebooks():
    assert [p.stem for p in SOURCES][:2] == ["00_roadmap", "01_boltzmann_distribution"]


@pytest.mark.parametrize("path", SOURCES + IPYNBS, ids=lambda p: p.name)
def test_every_notebook_is_paired(path):
    other = path.with_suffix(".ipynb" if path.suffix == ".py" else ".py")
    assert other.exists(), f"{path.name} has no paired {other.name}: run `make sync`"


@pytest.mark.parametrize("py", SOURCES, ids=lambda p: p.name)
def test_pair_is_in_sync(py):
    """The .ipynb holds exactly the cells of the .py source (run `make sync` if not)."""
    ipynb = py.with_suffix(".ipynb")
    if not ipynb.exists():
        pytest.fail(f"{ipynb.name} missing: run `make sync`")
    from_py = jupytext.read(py)
    from_ipynb = nbformat.read(ipynb, as_version=4)
    assert _cells(from_py) == _cells(from_ipynb), (
        f"{py.name} and {ipynb.name} differ: run `make sync` (and `make notebooks` to refresh "
        "the outputs)"
    )


@pytest.mark.parametrize("ipynb", IPYNBS, ids=lambda p: p.name)
def test_committed_notebook_carries_outputs(ipynb):
    """The committed .ipynb shows a full run: every code cell executed, no errors stored."""
    nb = nbformat.read(ipynb, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "a notebook without code"
    unexecuted = [i for i, c in enumerate(code) if c.execution_count is None]
    assert not unexecuted, f"cells {unexecuted} were never executed: run `make notebooks`"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"stored error output: {errors[0].get('ename')}: {errors[0].get('evalue')}"
    for c in code:
        for o in c.outputs:
            text = "".join(o.get("text", ""))
            assert "EBM_FAST" not in text and "mode: fast" not in text, (
                "the committed outputs come from a fast-mode run; run `make notebooks`"
            )


def _bench_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "notebook_times", REPO / "benchmarks" / "notebook_times.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "ipynb", [p for p in IPYNBS if p.stem != "00_roadmap"], ids=lambda p: p.name
)
def test_stored_header_states_the_measured_run_time(ipynb):
    """The stored header line is what the set-up cell prints now, from notebook_times.json."""
    bench = _bench_module()
    stored = bench.stored_header_lines(nbformat.read(ipynb, as_version=4))
    assert len(stored) == 1, f"{ipynb.name}: expected one header line, found {stored}"
    assert stored[0] == bench.full_mode_header(ipynb.stem), (
        f"{ipynb.name}'s stored header is stale: run "
        "`python benchmarks/notebook_times.py --refresh-headers`"
    )


def test_refresh_headers_changes_only_the_header_line(tmp_path):
    bench = _bench_module()
    src = next(p for p in IPYNBS if p.stem != "00_roadmap")
    copy = tmp_path / src.name
    copy.write_text(src.read_text())
    times = tmp_path / "times.json"
    entry = {"fast_s": 1.0, "full_s": 2.0, "measured_on": "test", "date": "d"}
    times.write_text(json.dumps({src.stem: entry}))
    assert bench.refresh_headers([copy], times) == [copy]
    before, after = src.read_text().splitlines(), copy.read_text().splitlines()
    assert len(before) == len(after)
    diff = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert len(diff) == 1, diff
    assert "Measured run time (test, d): full 2 s, fast 1 s" in diff[0][1]
    assert bench.refresh_headers([copy], times) == []  # idempotent


@pytest.mark.parametrize("py", SOURCES, ids=lambda p: p.name)
def test_notebook_structure(py):
    """Title, the required sections in order, one setup cell, an asserted learning outcome."""
    nb = jupytext.read(py)
    headings = [
        line.lstrip("#").strip().lower()
        for c in nb.cells if c.cell_type == "markdown"
        for line in c.source.splitlines() if line.startswith("#")
    ]
    assert headings and nb.cells[0].source.startswith("# "), "the notebook must open with a title"
    positions = []
    for required in REQUIRED_HEADINGS:
        found = [i for i, h in enumerate(headings) if h.startswith(required)]
        assert found, f"{py.name}: no '{required.title()}' heading"
        positions.append(found[0])
    assert positions == sorted(positions), f"{py.name}: sections out of order: {headings}"
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert re.search(r"^assert ", code, re.M), f"{py.name} must assert its learning outcome"
    assert "<details>" in py.read_text(), f"{py.name}: exercises need hidden solutions"


@pytest.mark.parametrize("py", SOURCES, ids=lambda p: p.name)
def test_notebook_is_offline_and_installs_nothing(py):
    text = py.read_text()
    for pattern in [r"urlretrieve", r"requests\.get", r"urlopen", r"download=True",
                    r"hf_hub_download", r"^[^#\n]*(%pip|!pip)"]:
        assert not re.search(pattern, text, re.M), f"{py.name} uses {pattern!r}"
