"""Fast-mode determinism of the notebooks, checked against nbval's own run.

nbval executes every notebook once (``--nbval-lax``: every cell must run; cells marked
``# NBVAL_CHECK_OUTPUT`` must match their stored output). While it does, a second kernel runs a
copy of the same notebook in the background, and an extra item ``NN_topic.ipynb::determinism``,
placed after the notebook's cells, compares the text the two runs printed (stdout and plain-text
results, wall-clock times masked). Both kernels use one BLAS/torch thread, so on a 2-core
machine each run has a core: a notebook is executed twice in the wall time of one run, instead
of three times (nbval, then two runs for the comparison) as before.

Set ``EBM_SKIP_DETERMINISM=1`` to run nbval alone (e.g. while editing one notebook).

``make test`` runs the suite on two pytest-xdist workers with ``--dist loadfile``: a file's
items stay together on one worker, in order, so a notebook's cells share one kernel and its
determinism item finds that worker's background run. While one worker runs a notebook and its
twin, the other runs unit tests, browser tests or another notebook, so both cores stay busy
where a single process left one idle (unit and browser tests). (``--dist loadgroup`` would keep
the browser tests on one worker too, but pytest-xdist 3.8 cannot tag the ids of pytest 9.)
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# Printed wall-clock measurements differ between runs; everything else printed must not. Besides
# plain durations, notebook 02 extrapolates measured times to years and prints a time ratio.
_TIMES = re.compile(
    r"\d+(\.\d+)? ?(s|ms|min|seconds)\b|10\^-?\d+ years|the time by \d+(\.\d+)?"
)


def checked_text(outputs_per_cell) -> list[str]:
    """The text each cell printed (stdout and plain-text results), minus widget model ids and
    wall-clock times; one string per cell that printed anything. A cell's stdout is joined
    first: how it is split into stream messages depends on timing, not on the numbers."""
    found = []
    for outputs in outputs_per_cell:
        text = []
        for o in outputs or []:
            if o.get("output_type") == "stream" and o.get("name") == "stdout":
                text.append(o["text"])
            elif o.get("output_type") == "execute_result" and "text/plain" in o["data"]:
                if "application/vnd.jupyter.widget-view+json" not in o["data"]:
                    text.append(o["data"]["text/plain"])
        if text:
            # times are right-aligned in tables: their width, hence the padding, varies too
            found.append(re.sub(r" +TIME", " TIME", _TIMES.sub("TIME", "".join(text))))
    return found


def _is_nbval_cell(item) -> bool:
    return type(item).__name__ == "IPyNbCell"


class _Twin:
    """The background run of one notebook, and what nbval's run printed, cell by cell."""

    def __init__(self, path: Path):
        self.path = path
        self.future: Future | None = None
        self.nbval_outputs: dict[int, list] = {}
        self.nbval_failed = False
        self.workdir: str | None = None

    def start(self, pool: ThreadPoolExecutor) -> None:
        import nbformat
        from nbclient import NotebookClient

        nb = nbformat.read(self.path, as_version=4)
        self.workdir = tempfile.mkdtemp(prefix=f"ebm-{self.path.stem}-")
        client = NotebookClient(nb, timeout=300, kernel_name="python3",
                                resources={"metadata": {"path": self.workdir}})
        # one worker thread: the client gets its own event loop there (the main thread's may
        # already be running one, e.g. Playwright's in the same pytest session)
        self.future = pool.submit(client.execute)  # returns the executed notebook

    def finish(self) -> None:
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


class DeterminismItem(pytest.Item):
    """Compares nbval's run of a notebook with the background run of the same notebook."""

    def __init__(self, *, twin: _Twin, **kwargs):
        super().__init__(**kwargs)
        self.twin = twin

    def runtest(self) -> None:
        twin = self.twin
        if twin.future is None:
            pytest.skip("the notebook's cells did not run (deselected or skipped)")
        try:
            background = twin.future.result(timeout=900)
        finally:
            twin.finish()
        if twin.nbval_failed:
            pytest.skip("a cell failed in nbval's run: see that failure first")
        code_cells = [c for c in background.cells if c.cell_type == "code"]
        ours = checked_text(c.get("outputs", []) for c in code_cells)
        theirs = checked_text(twin.nbval_outputs.get(i) for i in range(len(code_cells)))
        assert ours, "the notebook printed nothing to compare"
        assert theirs == ours, "two fast-mode runs of the notebook printed different numbers"

    def repr_failure(self, excinfo, style=None):
        return str(excinfo.value)  # the diff, without a traceback through pytest's hooks

    def reportinfo(self):
        return self.path, None, f"{self.path.name}::determinism"


_TWINS: dict[str, _Twin] = {}
_POOL: ThreadPoolExecutor | None = None


# Rough seconds per JupyterLab test (each opens a notebook copy in JupyterLab and runs it).
_BROWSER_TEST_S = 15.0
_NOTEBOOK_TIMES = Path(__file__).resolve().parent / "benchmarks" / "results" / "notebook_times.json"


def _longest_files_first(items) -> None:
    """Order whole files by how long they take, longest first (each file's items keep their
    order), so that on two xdist workers (``make test`` passes ``--no-loadscope-reorder``) the
    long files start early and the short unit-test files fill the end, instead of a long file
    starting last while the other worker waits: notebooks by their measured fast-mode time
    (``benchmarks/results/notebook_times.json``), browser files by their number of tests that
    run JupyterLab, unit test files last."""
    import json

    try:
        fast = {stem: row["fast_s"] for stem, row in json.loads(_NOTEBOOK_TIMES.read_text())
                .items() if isinstance(row, dict) and "fast_s" in row}
    except (OSError, ValueError):
        fast = {}
    files: dict[Path, list] = {}
    for item in items:
        files.setdefault(Path(str(item.path)), []).append(item)

    def estimate(path: Path) -> float:
        if path.suffix == ".ipynb":
            return fast.get(path.stem, 30.0)
        in_lab = [i for i in files[path] if "lab_server" in getattr(i, "fixturenames", ())]
        return _BROWSER_TEST_S * len(in_lab)

    items[:] = [item for path in sorted(files, key=lambda p: -estimate(p))
                for item in files[path]]


def pytest_collection_modifyitems(session, config, items):
    if os.environ.get("PYTEST_XDIST_WORKER"):
        _longest_files_first(items)
    if os.environ.get("EBM_SKIP_DETERMINISM") == "1":
        return
    last_cell: dict[str, int] = {}
    for index, item in enumerate(items):
        if _is_nbval_cell(item):
            last_cell[item.parent.nodeid] = index
    if not last_cell:
        return
    # set before any notebook kernel starts (nbval's kernels inherit this process's environment);
    # this process's own torch has already read its thread settings at import
    for var in _THREAD_VARS:
        os.environ[var] = "1"
    for nodeid, index in sorted(last_cell.items(), key=lambda kv: -kv[1]):
        parent = items[index].parent
        twin = _TWINS.setdefault(nodeid, _Twin(Path(str(parent.path))))
        items.insert(index + 1, DeterminismItem.from_parent(parent, name="determinism",
                                                            twin=twin))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    global _POOL
    if not _is_nbval_cell(item):
        return
    twin = _TWINS.get(item.parent.nodeid)
    if twin is not None and twin.future is None:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=1)
        twin.start(_POOL)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if call.when != "call" or not _is_nbval_cell(item):
        return
    twin = _TWINS.get(item.parent.nodeid)
    if twin is None:
        return
    report = outcome.get_result()
    if report.failed:
        twin.nbval_failed = True
    twin.nbval_outputs[item.cell_num] = item.test_outputs


def pytest_sessionfinish(session, exitstatus):
    for twin in _TWINS.values():
        if twin.future is not None and not twin.future.done():
            twin.future.cancel()
    if _POOL is not None:
        _POOL.shutdown(wait=False, cancel_futures=True)
