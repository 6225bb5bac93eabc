"""Benchmark: the kernel work of the browser tests' notebook copies, pruned vs truncated.

Usage::

    EBM_FAST=1 .venv/bin/python benchmarks/bench_browser_copies.py  # all explorer notebooks
    EBM_FAST=1 .venv/bin/python benchmarks/bench_browser_copies.py --only 09 11

For each notebook with an explorer, the copy a browser test runs is executed with nbclient in
fast mode, as JupyterLab's kernel would run it (one BLAS/torch thread, a fresh temporary
folder): once cut down to the cells its explorers need (``tests/browser/explorer_cells.py``,
``prune``) and, with ``--truncated``, once truncated after its last explorer cell (the copies
before the rule). Reported per copy: the code cells run, the wall time and the kernel's CPU
time (user + system of the kernel process, from ``getrusage(RUSAGE_CHILDREN)``), kernel start
included. The browser test's own overhead (JupyterLab, Chromium) is not included. Writes
``benchmarks/results/browser_copies.json`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "browser_copies.json"


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_copy(nb) -> dict:
    from nbclient import NotebookClient

    workdir = tempfile.mkdtemp(prefix="ebm-browser-copy-")
    try:
        client = NotebookClient(nb, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": workdir}})
        c0, w0 = _children_cpu(), time.perf_counter()
        client.execute()
        wall, cpu = time.perf_counter() - w0, _children_cpu() - c0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    if errors:
        raise RuntimeError(f"error output: {errors[0].get('ename')}: {errors[0].get('evalue')}")
    return {"code_cells": sum(c.cell_type == "code" for c in nb.cells),
            "wall_s": round(wall, 2), "kernel_cpu_s": round(cpu, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", help="notebook number prefixes, e.g. 09 11")
    parser.add_argument("--truncated", action="store_true",
                        help="also run the copies truncated after the last explorer cell")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if os.environ.get("EBM_FAST") != "1":
        sys.exit("run with EBM_FAST=1: the browser tests run the notebooks in fast mode")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    sys.path.insert(0, str(ROOT / "tests" / "browser"))
    import nbformat
    from explorer_cells import needed_cells, prune

    rows = {}
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        if args.only and not any(path.name.startswith(p) for p in args.only):
            continue
        nb = nbformat.read(path, as_version=4)
        keep = needed_cells(nb.cells)
        if keep is None:
            continue
        row = {}
        pruned = copy.deepcopy(nb)
        row["kept_cells"] = prune(pruned)
        row["pruned"] = run_copy(pruned)
        if args.truncated:
            truncated = copy.deepcopy(nb)
            truncated.cells = truncated.cells[:keep[-1] + 1]
            row["truncated"] = run_copy(truncated)
        rows[path.stem] = row
        print(path.stem, {k: v for k, v in row.items() if k != "kept_cells"}, flush=True)
    out = {"load_average": os.getloadavg(), "cpus": os.cpu_count(), "notebooks": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
