"""Benchmark: ``ebm_helpers.sklearn.BernoulliRBM`` (torch core) vs scikit-learn's BernoulliRBM.

Usage::

    .venv/bin/python benchmarks/bench_rbm_sklearn.py            # threads = os.cpu_count()
    .venv/bin/python benchmarks/bench_rbm_sklearn.py --threads 1 --repeats 5
    .venv/bin/python benchmarks/bench_rbm_sklearn.py --quick    # smoke run (small, ~1 min)

One run, the same data and settings for both estimators (binarised MNIST-5k, train 4000×784,
test 1000×784, float64 as NumPy gives it), the same number of threads for torch
(``torch.set_num_threads``) and for NumPy's BLAS (``threadpoolctl``):

1. speed: ``fit`` wall time at scikit-learn's defaults (n_components=256, learning_rate=0.1,
   batch_size=10) and at batch_size=100, ``--timing-epochs`` passes, ``--repeats`` runs each,
   median and min; the ratio is scikit-learn's median / ours;
2. quality of the 256-unit models trained with the full defaults (n_iter=10): test
   log-likelihood with log Z from AIS (``ais_log_partition``, error bar = 3 standard errors of
   log Ẑ) and the mean pseudo-log-likelihood (``score_samples``);
3. exact test log-likelihood (nats/image) with n_components=16, otherwise scikit-learn's
   defaults, over ``--seeds`` seeds: mean ± standard error for both;
4. throughput: one CD-1 epoch of ``ebm_helpers.rbm.cd_step`` at batch 100 with 500 hidden
   units (MNIST-5k), counting 5 matrix products of 2·b·n_v·n_h FLOPs per update (v Wᵀ, h W,
   v' Wᵀ and two hᵀv), against ``torch.matmul`` timed alone on the same shapes.

Writes ``benchmarks/results/rbm_sklearn.json`` (or ``--out``) and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

RESULTS = Path(__file__).resolve().parent / "results" / "rbm_sklearn.json"


def timed(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return {"median_s": statistics.median(times), "min_s": min(times), "runs_s": times}


def ais_ll(est, x_test, base, seed, n_chains, n_betas):
    from ebm_helpers.partition import ais_log_partition

    g = torch.Generator().manual_seed(seed)
    res = ais_log_partition(est.to_rbm(torch.float64), n_chains=n_chains, n_betas=n_betas,
                            generator=g, base_visible_bias=base, dtype=torch.float32)
    ll = est.log_likelihood(x_test, log_z=res.log_z).mean()
    return {"test_ll": float(ll), "ais_error_bar": res.error_bar, "log_z": res.log_z}


def as_ours(sk_model, n_features):
    """Our estimator holding a scikit-learn model's parameters (for the shared helpers)."""
    from ebm_helpers.sklearn import BernoulliRBM

    ours = BernoulliRBM(n_components=sk_model.n_components)
    ours.components_ = sk_model.components_
    ours.intercept_hidden_ = sk_model.intercept_hidden_
    ours.intercept_visible_ = sk_model.intercept_visible_
    ours.n_features_in_ = n_features
    return ours


def main(argv=None):
    from sklearn.neural_network import BernoulliRBM as SkRBM

    from ebm_helpers import rbm as R
    from ebm_helpers.data import load_mnist5k
    from ebm_helpers.sklearn import BernoulliRBM

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--timing-epochs", type=int, default=1)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--ais-chains", type=int, default=100)
    p.add_argument("--ais-betas", type=int, default=1000)
    p.add_argument("--quick", action="store_true", help="small smoke run")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)
    print(f"torch threads = {torch.get_num_threads()} (NumPy BLAS limited to the same)")

    d = load_mnist5k(binarize=True)
    x_train = d.x_train.numpy().astype(np.float64)
    x_test = d.x_test.numpy().astype(np.float64)
    if args.quick:
        x_train, x_test = x_train[:800], x_test[:200]
    n_iter_full = 2 if args.quick else 10
    out = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "torch": torch.__version__, "threads": torch.get_num_threads()},
        "data": f"binarised MNIST-5k, train {x_train.shape}, test {x_test.shape}, float64",
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
    }
    rows = []

    # 1. speed
    speed = {}
    for bs in (10, 100):
        res = {}
        for name, cls in (("sklearn", SkRBM), ("ours", BernoulliRBM)):
            def fit(cls=cls, bs=bs):
                cls(batch_size=bs, n_iter=args.timing_epochs, random_state=0).fit(x_train)
            fit()  # warm-up (imports, allocator, thread pools)
            res[name] = timed(fit, args.repeats)
        res["ratio_sklearn_over_ours"] = res["sklearn"]["median_s"] / res["ours"]["median_s"]
        speed[f"batch_{bs}"] = res
        rows.append((f"fit time, 256 hidden, batch {bs}, {args.timing_epochs} epoch(s) "
                     "[median (min) s]",
                     f"{res['sklearn']['median_s']:.2f} ({res['sklearn']['min_s']:.2f})",
                     f"{res['ours']['median_s']:.2f} ({res['ours']['min_s']:.2f})",
                     f"{res['ratio_sklearn_over_ours']:.2f}×"))
        print(rows[-1], flush=True)
    out["speed"] = speed

    # 2. quality of the 256-unit models (AIS)
    base = R.base_rate_log_odds(torch.from_numpy(x_train))
    quality = {}
    for bs in (10, 100):
        res = {}
        for name, cls in (("sklearn", SkRBM), ("ours", BernoulliRBM)):
            t0 = time.perf_counter()
            m = cls(batch_size=bs, n_iter=n_iter_full, random_state=0).fit(x_train)
            fit_s = time.perf_counter() - t0
            helper = m if name == "ours" else as_ours(m, x_train.shape[1])
            r = ais_ll(helper, x_test, base, 0, args.ais_chains, args.ais_betas)
            r["fit_s"] = fit_s
            r["pseudo_ll"] = float(helper.set_params(random_state=0).score_samples(x_test).mean())
            res[name] = r
        quality[f"batch_{bs}"] = res
        rows.append((f"test LL (AIS ± 3 s.e.), 256 hidden, batch {bs}, {n_iter_full} epochs",
                     f"{res['sklearn']['test_ll']:.2f} ± {res['sklearn']['ais_error_bar']:.2f}",
                     f"{res['ours']['test_ll']:.2f} ± {res['ours']['ais_error_bar']:.2f}",
                     f"{res['ours']['test_ll'] - res['sklearn']['test_ll']:+.2f}"))
        print(rows[-1], flush=True)
        rows.append((f"pseudo-LL (score_samples), batch {bs}",
                     f"{res['sklearn']['pseudo_ll']:.2f}", f"{res['ours']['pseudo_ll']:.2f}",
                     f"{res['ours']['pseudo_ll'] - res['sklearn']['pseudo_ll']:+.2f}"))
        rows.append((f"fit time, 256 hidden, batch {bs}, {n_iter_full} epochs (1 run) [s]",
                     f"{res['sklearn']['fit_s']:.2f}", f"{res['ours']['fit_s']:.2f}",
                     f"{res['sklearn']['fit_s'] / res['ours']['fit_s']:.2f}×"))
        print(rows[-2], rows[-1], flush=True)
    out["quality_256"] = quality

    # 3. exact log-likelihood with 16 hidden units
    exact = {}
    for bs in (10, 100):
        lls = {"sklearn": [], "ours": []}
        for seed in range(args.seeds):
            for name, cls in (("sklearn", SkRBM), ("ours", BernoulliRBM)):
                m = cls(n_components=16, batch_size=bs, n_iter=n_iter_full,
                        random_state=seed).fit(x_train)
                helper = m if name == "ours" else as_ours(m, x_train.shape[1])
                lls[name].append(float(helper.log_likelihood(x_test).mean()))
        res = {n: {"per_seed": v, "mean": float(np.mean(v)),
                   "sem": float(np.std(v, ddof=1) / np.sqrt(len(v))) if len(v) > 1 else 0.0}
               for n, v in lls.items()}
        exact[f"batch_{bs}"] = res
        s, o = res["sklearn"], res["ours"]
        rows.append((f"exact test LL, 16 hidden, batch {bs}, {args.seeds} seeds (mean ± s.e.)",
                     f"{s['mean']:.2f} ± {s['sem']:.2f}", f"{o['mean']:.2f} ± {o['sem']:.2f}",
                     f"{o['mean'] - s['mean']:+.2f}"))
        print(rows[-1], flush=True)
    out["exact_ll_16"] = exact

    # 4. GFLOP/s of a CD-1 epoch vs torch.matmul alone
    n_h, b = 500, 100
    xt = torch.from_numpy(x_train).float()
    n, n_v = xt.shape
    g = torch.Generator().manual_seed(0)
    model = R.RBM(n_v, n_h, generator=g)
    n_batches = (n + b - 1) // b
    flops = 5 * 2 * n * n_v * n_h  # per epoch (the last batch may be smaller: rows sum to n)

    def epoch():
        vel = None
        for s in range(0, n, b):
            vel = R.cd_step(model, xt[s : s + b], 0.01, generator=g, velocity=vel).velocity

    w = model.W.detach().clone()
    v, h = xt[:b].contiguous(), torch.rand(b, n_h, generator=g)

    def matmuls():
        for _ in range(n_batches):
            torch.matmul(v, w.T)  # positive phase
            torch.matmul(h, w)  # negative phase, p(v|h)
            torch.matmul(v, w.T)  # p(h|v')
            torch.matmul(h.T, v)  # gradient, positive
            torch.matmul(h.T, v)  # gradient, negative

    epoch()
    matmuls()
    t_cd = timed(epoch, args.repeats)
    t_mm = timed(matmuls, args.repeats)
    gf_cd = flops / t_cd["median_s"] / 1e9
    gf_mm = flops / t_mm["median_s"] / 1e9
    out["gflops"] = {"shape": f"batch {b}, n_v {n_v}, n_h {n_h}, float32, CD-1 (persistent=False)",
                     "flops_per_epoch": flops, "cd_epoch": t_cd, "matmul_only": t_mm,
                     "cd_gflops": gf_cd, "matmul_gflops": gf_mm, "fraction": gf_cd / gf_mm}
    rows.append((f"GFLOP/s, CD-1 epoch vs matmul alone ({b}×{n_v}×{n_h}, float32)",
                 f"matmul {gf_mm:.1f}", f"cd_step {gf_cd:.1f}", f"{gf_cd / gf_mm:.0%}"))
    print(rows[-1], flush=True)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    print(f"\nthreads: {torch.get_num_threads()}; results written to {args.out}\n")
    print("| measure | scikit-learn | ebm_helpers | ours vs sklearn |")
    print("|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
