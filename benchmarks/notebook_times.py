"""Time every notebook of the collection in fast and full mode, and record its peak memory.

Usage (from the repository root; ``make bench`` runs the first line)::

    python benchmarks/notebook_times.py                  # every notebook, fast and full mode
    python benchmarks/notebook_times.py --mode fast      # fast mode only (EBM_FAST=1)
    python benchmarks/notebook_times.py --only 01 07     # notebooks whose number/stem starts so
    python benchmarks/notebook_times.py --table          # print the stored table, run nothing
    python benchmarks/notebook_times.py --refresh-headers  # stored header lines <- the table
    python benchmarks/notebook_times.py --only 04 --write-full  # measure, and keep the full run

What is measured, for each ``notebooks/NN_*.ipynb`` (sorted) and each mode:

* **wall time** (seconds) of executing the whole notebook with ``nbclient``, kernel start and
  shutdown included (about a second of the total), the way a reader's "Run All" would;
* **peak memory** (MB) of the kernel process: each notebook runs in a fresh worker subprocess
  of this script, which starts the kernel as its only child; once the kernel has exited, the
  worker reads ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``, the largest resident set
  of any of its (waited-for) descendants, i.e. the kernel's high-water mark. A fresh worker per
  run keeps one notebook's peak from leaking into the next one's.

Fast mode sets ``EBM_FAST=1`` in the kernel's environment; full mode removes ``EBM_FAST``. The
notebooks are never modified: each is read into memory and executed as a copy, in a temporary
working directory (notebooks find the repository through ``ebm_helpers.config.REPO_ROOT``).

Results are merged into ``benchmarks/results/notebook_times.json``: one entry per notebook stem,
``{"fast_s", "full_s", "fast_peak_mb", "full_peak_mb", "measured_on", "date"}``. Entries and modes
that were not re-run are kept; ``measured_on`` and ``date`` describe the latest run of that
entry. The notebook ``00_roadmap`` shows these numbers in its reading-order table. The script
ends by printing the merged results as a Markdown table, flagging runs over the budgets of
DESIGN.md §4 (fast < 60 s, full < 5 min, peak < 1.5 GB on 2 CPU cores).

Each notebook's set-up cell prints ``config.notebook_header(stem)``, a pure function of this
file, and its stored full-mode output carries that line. After a measurement, the stored line is
stale until the notebook is re-executed; ``--refresh-headers`` (also run after every measurement)
rewrites exactly that line of the stored output to what the set-up cell would print now in full
mode, and touches nothing else. ``tests/test_notebooks.py`` checks that every stored header line
equals it. Notebook 00's reading-order table is a rendered output: re-execute 00 to refresh it.

With ``--write-full`` a successful full-mode run is also written back as the notebook's stored
outputs (what ``make notebooks`` would store), so one run both measures the notebook and
refreshes it; its header line is then refreshed like the others.

The exit status is 1 when a notebook failed to execute (its old numbers are kept).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
RESULTS_PATH = REPO_ROOT / "benchmarks" / "results" / "notebook_times.json"

MODES = ("fast", "full")
# budgets of DESIGN.md §4 (on 2 CPU cores)
BUDGET_S = {"fast": 60.0, "full": 300.0}
BUDGET_FAST_TOTAL_S = 600.0
BUDGET_PEAK_MB = 1536.0


def machine_description() -> str:
    """A short description of this machine, e.g. ``"2 CPU cores, AMD EPYC"``."""
    try:
        n_cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        n_cores = os.cpu_count() or 0
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    model = model or platform.processor() or platform.machine() or "unknown CPU"
    return f"{n_cores} CPU cores, {model}"


def find_notebooks(only: list[str] | None) -> list[Path]:
    """The notebooks ``notebooks/NN_*.ipynb``, sorted, filtered by stem prefixes in ``only``."""
    paths = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
    if only:
        paths = [p for p in paths if any(p.stem.startswith(prefix) for prefix in only)]
    return paths


def mode_env(mode: str) -> dict[str, str]:
    """The environment for a run in ``mode``: ``EBM_FAST=1`` for fast, no ``EBM_FAST`` for full."""
    env = dict(os.environ)
    env.pop("EBM_FAST", None)
    if mode == "fast":
        env["EBM_FAST"] = "1"
    return env


def _maxrss_children_mb() -> float:
    """Peak resident set (MB) of this process's terminated, waited-for descendants."""
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss is in kilobytes on Linux and in bytes on macOS
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10


def worker(notebook: Path, timeout: int, write: bool = False) -> int:
    """Execute one notebook (a copy, in a temporary directory); print one JSON line of results.

    Runs in its own subprocess (``--worker``), so that ``RUSAGE_CHILDREN`` sees this kernel only.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(notebook, as_version=4)  # an in-memory copy; the file is never written
    result: dict = {"notebook": notebook.stem}
    with tempfile.TemporaryDirectory(prefix="ebm-bench-") as workdir:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": workdir}},
            record_timing=False,
        )
        start = time.perf_counter()
        try:
            client.execute()
        except CellExecutionError as exc:
            result["error"] = str(exc)[-2000:]
        except Exception as exc:  # kernel death, timeout, ...
            result["error"] = f"{type(exc).__name__}: {exc}"[-2000:]
        result["seconds"] = time.perf_counter() - start
    if write and "error" not in result:
        notebook.write_text(nbformat.writes(nb) + "\n")
        result["written"] = True
    # nbclient has shut the kernel down and reaped it by now
    result["peak_mb"] = _maxrss_children_mb()
    print(json.dumps(result), flush=True)
    return 0


def run_one(notebook: Path, mode: str, timeout: int, write: bool = False) -> dict:
    """Run ``notebook`` in ``mode`` in a fresh worker subprocess and return its result dict.

    ``write``: store the executed notebook back in place (only used for full mode).
    """
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(notebook)]
    cmd += ["--timeout", str(timeout)] + (["--write"] if write else [])
    proc = subprocess.run(
        cmd, env=mode_env(mode), capture_output=True, text=True, check=False, cwd=REPO_ROOT
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {"error": f"worker exited with status {proc.returncode}:\n{proc.stderr[-2000:]}"}


def load_results(path: Path = RESULTS_PATH) -> dict:
    """The stored results (an empty dict when the file does not exist yet)."""
    if path.exists():
        return json.loads(path.read_text())
    return {}


def save_results(results: dict, path: Path = RESULTS_PATH) -> None:
    """Write ``results`` sorted by notebook, atomically (a rename), with a trailing newline."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    order = ("fast_s", "full_s", "fast_peak_mb", "full_peak_mb", "measured_on", "date")

    def rank(key: str) -> tuple[int, str]:  # the documented keys first, others after, by name
        return (order.index(key), "") if key in order else (len(order), key)

    tidy = {
        stem: {key: entry[key] for key in sorted(entry, key=rank)}
        for stem, entry in sorted(results.items())
    }
    tmp.write_text(json.dumps(tidy, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(path)


def _fmt(value: float | None, budget: float | None, digits: int) -> str:
    if value is None:
        return "–"
    text = f"{value:.{digits}f}"
    return f"{text} ⚠" if budget is not None and value > budget else text


def markdown_table(results: dict) -> str:
    """The results as a Markdown table; values over the DESIGN.md budgets are marked ⚠."""
    lines = [
        "| notebook | fast (s) | full (s) | fast peak (MB) | full peak (MB) | measured on | date |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for stem, entry in sorted(results.items()):
        lines.append(
            f"| {stem} | {_fmt(entry.get('fast_s'), BUDGET_S['fast'], 1)} "
            f"| {_fmt(entry.get('full_s'), BUDGET_S['full'], 1)} "
            f"| {_fmt(entry.get('fast_peak_mb'), BUDGET_PEAK_MB, 0)} "
            f"| {_fmt(entry.get('full_peak_mb'), BUDGET_PEAK_MB, 0)} "
            f"| {entry.get('measured_on', '–')} | {entry.get('date', '–')} |"
        )
    fast_times = [e["fast_s"] for e in results.values() if e.get("fast_s") is not None]
    if fast_times:
        total = sum(fast_times)
        flag = " ⚠" if total > BUDGET_FAST_TOTAL_S else ""
        lines.append("")
        lines.append(
            f"Fast mode, all {len(fast_times)} measured notebooks: {total:.1f} s{flag} "
            f"(budget {BUDGET_FAST_TOTAL_S:.0f} s). Budgets per notebook: fast "
            f"{BUDGET_S['fast']:.0f} s, full {BUDGET_S['full']:.0f} s, peak "
            f"{BUDGET_PEAK_MB:.0f} MB; ⚠ marks a value over budget."
        )
    return "\n".join(lines)


#: the start of the line ``config.notebook_header`` prints in full mode
HEADER_PREFIX = "mode: full; device: "


def full_mode_header(stem: str, times_path: Path = RESULTS_PATH) -> str:
    """What ``config.notebook_header(stem)`` prints in full mode (``EBM_FAST`` unset)."""
    from ebm_helpers import config

    saved = os.environ.pop("EBM_FAST", None)
    try:
        return config.notebook_header(stem, times_path)
    finally:
        if saved is not None:
            os.environ["EBM_FAST"] = saved


def stored_header_lines(nb) -> list[str]:
    """The full-mode header lines in the stored stdout of cells that call ``notebook_header``."""
    found = []
    for cell in nb.cells:
        if cell.cell_type != "code" or "notebook_header(" not in cell.source:
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stdout":
                found += [ln for ln in out["text"].splitlines() if ln.startswith(HEADER_PREFIX)]
    return found


def refresh_headers(notebooks: list[Path], times_path: Path = RESULTS_PATH) -> list[Path]:
    """Rewrite each notebook's stored header line to the current table; return those changed.

    Only the line that ``notebook_header`` printed changes (the set-up cell's other output and
    every other cell are left byte for byte), which is exactly what re-running the set-up cell
    in full mode would print now.
    """
    import nbformat

    changed = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        want = full_mode_header(path.stem, times_path)
        dirty = False
        for cell in nb.cells:
            if cell.cell_type != "code" or "notebook_header(" not in cell.source:
                continue
            for out in cell.get("outputs", []):
                if out.get("output_type") != "stream" or out.get("name") != "stdout":
                    continue
                lines = out["text"].splitlines(keepends=True)
                new = [
                    want + ("\n" if ln.endswith("\n") else "")
                    if ln.startswith(HEADER_PREFIX)
                    else ln
                    for ln in lines
                ]
                if new != lines:
                    out["text"] = "".join(new)
                    dirty = True
        if dirty:
            path.write_text(nbformat.writes(nb) + "\n")
            changed.append(path)
    return changed


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time every notebook in fast and/or full mode and record peak memory.",
    )
    parser.add_argument(
        "--mode", choices=["fast", "full", "both"], default="both", help="default: both"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="PREFIX",
        help="run only notebooks whose stem starts with one of these, e.g. --only 01 07",
    )
    parser.add_argument(
        "--timeout", type=int, default=900, help="seconds allowed per cell (default 900)"
    )
    parser.add_argument(
        "--table", action="store_true", help="print the stored results table and exit"
    )
    parser.add_argument(
        "--refresh-headers",
        action="store_true",
        help="rewrite the stored header lines from the table and exit (runs nothing)",
    )
    parser.add_argument(
        "--write-full",
        action="store_true",
        help="store each successful full-mode run as the notebook's outputs",
    )
    parser.add_argument("--worker", metavar="NOTEBOOK", help=argparse.SUPPRESS)
    parser.add_argument("--write", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker(Path(args.worker), args.timeout, args.write)
    if args.table:
        print(markdown_table(load_results()))
        return 0

    notebooks = find_notebooks(args.only)
    if not notebooks:
        print(f"no notebooks matched in {NOTEBOOKS_DIR} (only={args.only})", file=sys.stderr)
        return 1
    if args.refresh_headers:
        for path in refresh_headers(notebooks):
            print(f"header refreshed: {path.relative_to(REPO_ROOT)}")
        return 0
    modes = MODES if args.mode == "both" else (args.mode,)
    measured_on = machine_description()
    today = dt.date.today().isoformat()
    failed = []

    for notebook in notebooks:
        for mode in modes:
            print(f"{notebook.stem} [{mode}] ...", end=" ", flush=True)
            res = run_one(notebook, mode, args.timeout, write=args.write_full and mode == "full")
            if "error" in res:
                print("FAILED")
                print(res["error"], file=sys.stderr)
                failed.append(f"{notebook.stem} [{mode}]")
                continue
            print(f"{res['seconds']:.1f} s, peak {res['peak_mb']:.0f} MB", flush=True)
            # re-read before merging, so parallel edits of other entries are not lost
            results = load_results()
            entry = results.setdefault(notebook.stem, {})
            entry[f"{mode}_s"] = round(res["seconds"], 2)
            entry[f"{mode}_peak_mb"] = round(res["peak_mb"], 1)
            entry["measured_on"] = measured_on
            entry["date"] = today
            save_results(results)

    for path in refresh_headers(notebooks):
        print(f"header refreshed: {path.relative_to(REPO_ROOT)}")
    print()
    print(markdown_table(load_results()))
    print(f"\n(results in {RESULTS_PATH.relative_to(REPO_ROOT)})")
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
