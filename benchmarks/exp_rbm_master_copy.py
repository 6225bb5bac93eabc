"""Experiment: does float32 *accumulation* of the parameters cost the drop-in likelihood?

Usage (after the runs recorded in ``benchmarks/results/rbm_sklearn_likelihood.json``)::

    .venv/bin/python benchmarks/exp_rbm_master_copy.py 0 24

Trains ``ebm_helpers.sklearn.BernoulliRBM`` (256 hidden, batch 100, 10 epochs, binarised
MNIST-5k) with float32 products but a float64 master copy of the parameters Θ (each float32
update is added to the float64 copy, and the float32 Θ used by the next products is rounded
from it), for seeds ``first`` .. ``last - 1``, with the same random numbers as the float32 and
float64 runs of those seeds; AIS as in ``bench_rbm_sklearn.py`` (100 chains, 1000 betas, the
seed's AIS random numbers). Prints the paired differences to the stored runs and adds them to
the JSON under ``master_copy``. If the master copy closed the gap between float32 and float64,
accumulation would be the cause.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_rbm_sklearn import ais_ll, paired

import ebm_helpers.sklearn as sk_module
from ebm_helpers import rbm as R
from ebm_helpers.data import load_mnist5k
from ebm_helpers.pcd_cpu import CpuPCD

RESULTS = Path(__file__).resolve().parent / "results" / "rbm_sklearn_likelihood.json"


class MasterCopyPCD(CpuPCD):
    """``CpuPCD`` whose float32 Θ is rounded, after each update, from a float64 master copy."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.theta64 = self.theta.astype(np.float64)

    def _step(self, x, u_v, u_h):
        super()._step(x, u_v, u_h)  # Θ += G in float32; G is still in the buffer
        self.theta64 += self._bufs(x.shape[0]).G
        self.theta[...] = self.theta64


def main() -> None:
    first, last = int(sys.argv[1]), int(sys.argv[2])
    torch.set_num_threads(1)
    threadpool_limits(1)
    sk_module.CpuPCD = MasterCopyPCD  # what BernoulliRBM._train_cpu builds
    d = load_mnist5k(binarize=True)
    x_train, x_test = (a.numpy().astype(np.float64) for a in (d.x_train, d.x_test))
    base = R.base_rate_log_odds(torch.from_numpy(x_train))
    ref = json.loads(RESULTS.read_text())
    runs = []
    for seed in range(first, last):
        t0 = time.perf_counter()
        m = sk_module.BernoulliRBM(batch_size=100, n_iter=10, random_state=seed).fit(x_train)
        r = {"seed": seed, "fit_s": time.perf_counter() - t0,
             **ais_ll(m, x_test, base, seed, 100, 1000)}
        runs.append(r)
        print(f"seed {seed}: master copy {r['test_ll']:.2f}", flush=True)
    lls = [r["test_ll"] for r in runs]
    out = {"per_seed": runs}
    for name in ("ours", "ours_float64", "sklearn"):
        other = [ref["per_seed"][name][s]["test_ll"] for s in range(first, last)]
        out[f"minus_{name}"] = p = paired(lls, other)
        print(f"master copy - {name}: {p['mean']:+.2f} (95 % CI {p['ci95'][0]:+.2f} .. "
              f"{p['ci95'][1]:+.2f})")
    ref["master_copy"] = out
    RESULTS.write_text(json.dumps(ref, indent=2))


if __name__ == "__main__":
    main()
