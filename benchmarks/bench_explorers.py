"""Benchmark: how long each explorer takes from a control change to new image bytes.

Usage::

    .venv/bin/python benchmarks/bench_explorers.py                 # all explorers
    .venv/bin/python benchmarks/bench_explorers.py --moves 10 --only temperature langevin

Each explorer is built once with inputs shaped like its notebook's (small synthetic ones where
the notebook trains a model first), then its main control (and, in the rows named after one,
a secondary control) is dragged across ``--moves``
neighbouring slider positions, as a mouse drag with ``continuous_update=True`` would send them.
One move is one assignment ``control.value = v``: the explorer's observer runs synchronously and
returns when ``box.image.value`` holds the new PNG, so the time of the assignment is the latency
from the control change to new image bytes (the browser's own decode is not included). Two
warm-up moves are excluded, and the explorers built before are garbage-collected first (in a
notebook's kernel only that notebook's explorers are alive). CPU time (``time.process_time``,
one torch thread) is the headline number because the machine is shared; wall time is reported
beside it.

Writes ``benchmarks/results/explorers.json`` (or ``--out``) and prints a Markdown table with
the median and 90th percentile per explorer and the goal it is held to (≤ 50 ms for a single
-panel figure, ≤ 100 ms otherwise; every explorer here draws two or three panels).
``benchmarks/results/explorers_before.json`` is the same benchmark run on the explorers as they
were before the live redraws (commit 9c8e738: a new figure and ``savefig`` per move), on the
same shared 2-core machine; both runs record the load average they ran under.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

RESULTS = Path(__file__).resolve().parent / "results"


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def _cases() -> dict[str, tuple[Callable, str, int]]:
    """name -> (build the explorer box, the control to drag, the goal in ms)."""
    from ebm_helpers import diffusion, energies, energy_learning, widgets

    g = torch.Generator().manual_seed(0)

    def hopfield():
        pats = torch.where(torch.rand(5, 100, generator=g) < 0.5, -1.0, 1.0)
        return widgets.recall_explorer(pats, (10, 10), pattern=0, corruption=0.2)

    def gibbs():
        trace = torch.rand(101, 16, 64, generator=g)
        fe = torch.randn(101, 16, generator=g)
        return widgets.gibbs_chain_explorer(trace, (8, 8), free_energy=fe)

    def cd():
        rng = np.random.default_rng(0)
        curves = {(k, lr, p): np.cumsum(rng.normal(0.5, 0.3, 16)) - 40.0
                  for k in (1, 3, 10) for lr in (0.01, 0.03, 0.1, 0.3) for p in (False, True)}
        return widgets.cd_explorer(curves, k=1, lr=0.1, baseline=-38.0)

    def diffusion_box():
        schedule = diffusion.linear_beta_schedule(1000)
        density = energies.eight_gaussians()
        x0 = density.sample(1000, g)
        noise = torch.randn(1000, 2, generator=g)
        oracle = diffusion.MixtureEpsilon(density, schedule)
        rev = diffusion.ddpm_sample(oracle, schedule, torch.randn(1000, 2, generator=g), g,
                                    trajectory=True, progress=False)
        return widgets.diffusion_explorer(x0, noise, schedule, rev, density=density, t=100)

    def threshold():
        rng = np.random.default_rng(0)
        s0, s1 = rng.normal(size=400), rng.normal(2.0, 1.0, size=100)
        calib = rng.normal(size=400)
        images = rng.random((500, 64))
        return widgets.threshold_explorer(s0, s1, calibration_scores=calib, images=images,
                                          image_shape=(8, 8))

    def free_energy():
        latent = energy_learning.LatentEBM(n_z=64, hidden=32,
                                           generator=torch.Generator().manual_seed(4))
        t = torch.rand(300, generator=g) * 2 * np.pi
        data = torch.stack([2 * torch.cos(t), torch.sin(t)], 1).double()
        return widgets.free_energy_explorer(energy_fn=latent, data=data, beta=1.0)

    return {
        "temperature (01)": (lambda: widgets.temperature_explorer("tilted double well", 1.0),
                             "temperature", 100),
        "temperature 2D (01)": (lambda: widgets.temperature_explorer("two moons", 1.0),
                                "temperature", 100),
        "hopfield recall (02)": (hopfield, "step", 100),
        "hopfield recall (02), flipped bits": (hopfield, "corruption", 100),
        "gibbs chain (03)": (gibbs, "step", 100),
        "contrastive divergence (04)": (cd, "lr", 100),
        "langevin (07)": (lambda: widgets.langevin_explorer("8 gaussians", 0.01, n_steps=100),
                          "n_steps", 100),
        "langevin (07), step size": (
            lambda: widgets.langevin_explorer("8 gaussians", 0.01, n_steps=100), "step_size", 100),
        "langevin (07), step size, two moons": (
            lambda: widgets.langevin_explorer("two moons", 0.003, n_steps=100), "step_size", 100),
        "langevin (07), step size, rings": (
            lambda: widgets.langevin_explorer("rings", 0.003, n_steps=100), "step_size", 100),
        "noise level (08)": (lambda: widgets.noise_explorer(sigma=0.5), "sigma", 100),
        "diffusion time (09)": (diffusion_box, "t", 100),
        "threshold (11)": (threshold, "fpr", 100),
        "free energy (12)": (free_energy, "beta", 100),
        "transverse field (14)": (lambda: widgets.transverse_field_explorer(0.5, 1.0),
                                  "gamma", 100),
    }


def _drag_values(control, n: int) -> list:
    """``n`` neighbouring positions of a slider from its current value on (bouncing at the
    ends), as a drag visits them."""
    import ipywidgets as ipw

    if isinstance(control, ipw.SelectionSlider):
        opts = [v for _, v in control._options_full] if hasattr(control, "_options_full") \
            else list(control.options)
        opts = [o[1] if isinstance(o, tuple) else o for o in opts]
        i = opts.index(control.value)
        seq = []
        step = 1
        for _ in range(n):
            if not 0 <= i + step < len(opts):
                step = -step
            i += step
            seq.append(opts[i])
        return seq
    if isinstance(control, ipw.FloatLogSlider):
        lo, hi, st = control.min, control.max, control.step
        pos = np.log10(control.value)
        seq, step = [], st
        for _ in range(n):
            if not lo <= pos + step <= hi + 1e-9:
                step = -step
            pos += step
            seq.append(float(10 ** round(pos, 6)))
        return seq
    lo, hi, st = control.min, control.max, control.step
    v, seq, step = control.value, [], st
    for _ in range(n):
        if not lo <= v + step <= hi + 1e-9:
            step = -step
        v = v + step
        v = round(v, 6) if isinstance(st, float) else v
        seq.append(v)
    return seq


def measure(build: Callable, control_name: str, moves: int, warmup: int = 2) -> dict:
    """Build the explorer, drag its control over ``warmup + moves`` positions; per-move
    latencies in ms (CPU and wall), warm-up excluded."""
    gc.collect()  # the explorers measured before this one are garbage: not its cost
    box = build()
    control = box.controls[control_name]
    cpu, wall = [], []
    values = _drag_values(control, warmup + moves)
    for i, v in enumerate(values):
        before = bytes(box.image.value)
        c0, w0 = time.process_time(), time.perf_counter()
        control.value = v
        c1, w1 = time.process_time(), time.perf_counter()
        after = bytes(box.image.value)
        if not after.startswith(b"\x89PNG"):
            raise RuntimeError(f"{control_name} = {v}: the image is not a PNG")
        if after == before:
            raise RuntimeError(f"{control_name} = {v}: the image did not change")
        if i >= warmup:
            cpu.append(1e3 * (c1 - c0))
            wall.append(1e3 * (w1 - w0))
    return {
        "control": control_name,
        "moves": moves,
        "cpu_median_ms": statistics.median(cpu),
        "cpu_p90_ms": _percentile(cpu, 90),
        "wall_median_ms": statistics.median(wall),
        "wall_p90_ms": _percentile(wall, 90),
        "png_bytes": len(bytes(box.image.value)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--moves", type=int, default=15, help="timed moves per explorer")
    parser.add_argument("--only", nargs="*", help="substrings of explorer names to run")
    parser.add_argument("--out", type=Path, default=RESULTS / "explorers.json")
    parser.add_argument("--label", default="", help="a note stored with the results")
    args = parser.parse_args()

    torch.set_num_threads(1)
    from ebm_helpers import plotting

    plotting.apply_style()  # as in every notebook's setup cell (the PNG path depends on it)
    cases = _cases()
    rows = {}
    for name, (build, control, goal) in cases.items():
        if args.only and not any(s in name for s in args.only):
            continue
        row = measure(build, control, args.moves)
        row["goal_ms"] = goal
        rows[name] = row
        print(f"{name:30s} cpu median {row['cpu_median_ms']:7.1f} ms  p90 "
              f"{row['cpu_p90_ms']:7.1f} ms  wall median {row['wall_median_ms']:7.1f} ms",
              flush=True)

    lines = ["| explorer | control | CPU median (ms) | CPU p90 (ms) | wall median (ms) | "
             "wall p90 (ms) | goal (ms) |", "|---|---|---|---|---|---|---|"]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['control']} | {r['cpu_median_ms']:.0f} | "
                     f"{r['cpu_p90_ms']:.0f} | {r['wall_median_ms']:.0f} | "
                     f"{r['wall_p90_ms']:.0f} | {r['goal_ms']} |")
    table = "\n".join(lines)
    print()
    print(table)
    out = {
        "label": args.label,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "torch_threads": torch.get_num_threads(),
                    "load_average": os.getloadavg()},
        "moves": args.moves,
        "explorers": rows,
        "table": table,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
