"""Run configuration: fast mode, seeding, device choice and paths.

`EBM_FAST=1` is the one switch between the teaching-quality *full* run and the quick *fast* run
that CI uses; it is read here and nowhere else. Every notebook's setup cell uses this module
(``scaled``, ``seed_everything``, ``device``), and so do the package's own training loops.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch

__all__ = [
    "DATA_DIR",
    "NOTEBOOKS_DIR",
    "REPO_ROOT",
    "describe",
    "device",
    "is_fast",
    "notebook_header",
    "progress_disabled",
    "scaled",
    "seed_everything",
    "set_torch_threads",
]

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
DATA_DIR = REPO_ROOT / "data"
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
NOTEBOOK_TIMES = REPO_ROOT / "benchmarks" / "results" / "notebook_times.json"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def is_fast() -> bool:
    """Whether fast mode is on (environment variable ``EBM_FAST``).

    Read at call time, so a test or a notebook can switch it without re-importing.

    Raises:
        ValueError: if ``EBM_FAST`` holds something other than 1/0/true/false/yes/no/on/off.
    """
    raw = os.environ.get("EBM_FAST", "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(
        f"EBM_FAST={raw!r} is not understood; set EBM_FAST=1 for fast mode or unset it (or "
        "EBM_FAST=0) for the full run."
    )


def scaled(full, fast):
    """Pick the full-mode or the fast-mode value of a setting.

    Example: ``n_samples = scaled(full=20_000, fast=2_000)``.
    """
    return fast if is_fast() else full


def progress_disabled() -> bool:
    """Whether ``tqdm`` progress bars should stay quiet (fast mode or CI)."""
    return is_fast() or os.environ.get("CI", "").lower() in _TRUE


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python's, NumPy's and torch's global generators; return a fresh torch generator.

    The package's own functions never touch global random state: they take an explicit
    ``generator``. Notebooks call this once in their setup cell so that code written *in* the
    notebook (which may use the global generators) is reproducible too.

    Args:
        seed: a non-negative integer.

    Returns:
        A ``torch.Generator`` (on the CPU) seeded with ``seed``, to pass to helpers.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - seeding the legacy global on purpose
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def set_torch_threads(n: int | None = None) -> int:
    """Set torch's intra-op threads (a notebook's setup cell calls this once); return the count.

    The collection's tensors are small (at most 5 000 × 784 images against 500 hidden units), so
    one thread is about as fast as two on an idle machine and far faster on a busy one: with two
    threads on two cores that also run a browser or another kernel, torch's worker threads
    spin-wait for each other and a 1-second training run was measured to take 30 seconds.

    Args:
        n: the number of threads; ``None`` reads ``EBM_THREADS`` and defaults to 1.

    Raises:
        ValueError: if the number is not a positive whole number.
    """
    raw = n if n is not None else os.environ.get("EBM_THREADS", "1")
    try:
        threads = int(raw)
    except (TypeError, ValueError) as err:
        raise ValueError(f"the number of threads must be a whole number, got {raw!r}") from err
    if threads < 1:
        raise ValueError(f"the number of threads must be at least 1, got {threads}")
    torch.set_num_threads(threads)
    return threads


def device(prefer: str | None = None) -> torch.device:
    """The device to compute on: CUDA when present, else the CPU.

    Args:
        prefer: ``"cpu"`` or ``"cuda"`` (or a ``torch.device``) to override; ``None`` reads
            ``EBM_DEVICE`` and otherwise picks CUDA when available.

    Raises:
        ValueError: for an unknown device name, or ``"cuda"`` on a machine without CUDA.
    """
    if prefer is not None and not isinstance(prefer, (str, torch.device)):
        raise ValueError(f"the device must be a name such as 'cpu' or 'cuda' (or a "
                         f"torch.device), got {type(prefer).__name__} {prefer!r}")
    name = (str(prefer) if prefer else os.environ.get("EBM_DEVICE", "")).strip().lower()
    if not name:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name not in {"cpu", "cuda"} and not name.startswith("cuda:"):
        hint = " (PyTorch calls an NVIDIA GPU 'cuda')" if name == "gpu" else ""
        raise ValueError(f"unknown device {name!r}; use 'cpu' or 'cuda'{hint}")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(
            f"device {name!r} was asked for but this machine has no CUDA GPU; use 'cpu' "
            "(or unset EBM_DEVICE to choose automatically)"
        )
    return torch.device(name)


def describe() -> dict:
    """A small dictionary describing the run: mode, device, versions and threads."""
    import matplotlib
    import scipy

    return {
        "mode": "fast" if is_fast() else "full",
        "device": str(device()),
        "python": ".".join(map(str, __import__("sys").version_info[:3])),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "matplotlib": matplotlib.__version__,
        "torch_threads": torch.get_num_threads(),
    }


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def notebook_header(stem: str, times_path: Path | None = None) -> str:
    """The line a notebook's setup cell prints: mode, device and the measured run time.

    The run times are those ``make bench`` measured and stored in
    ``benchmarks/results/notebook_times.json`` (full and fast mode, peak kernel memory, the
    machine and the date), so a notebook states its own cost without hard-coding it.

    Args:
        stem: the notebook's file name without extension, e.g. ``"04_contrastive_divergence"``.
        times_path: the results file (default: the repository's).

    Returns:
        e.g. ``"mode: full; device: cpu. Measured run time (2 CPU cores, AMD EPYC, 2026-11-30):
        full 2.7 min, fast 41 s; peak kernel memory 835 MB."``
    """
    import json

    path = NOTEBOOK_TIMES if times_path is None else Path(times_path)
    head = f"mode: {'fast' if is_fast() else 'full'}; device: {device()}."
    try:
        entry = json.loads(path.read_text()).get(stem, {})
    except (OSError, ValueError):
        entry = {}
    if "full_s" not in entry or "fast_s" not in entry:
        return f"{head} Run time not measured yet: run `make bench`."
    peak = max(entry.get("full_peak_mb", 0.0), entry.get("fast_peak_mb", 0.0))
    where = ", ".join(x for x in (entry.get("measured_on"), entry.get("date")) if x)
    return (
        f"{head} Measured run time ({where}): full {_duration(entry['full_s'])}, fast "
        f"{_duration(entry['fast_s'])}; peak kernel memory {peak:.0f} MB."
    )
