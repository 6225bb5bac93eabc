"""Benchmark: ``ebm_helpers.sklearn.BernoulliRBM`` vs scikit-learn's BernoulliRBM.

Usage::

    .venv/bin/python benchmarks/bench_rbm_sklearn.py                 # threads = os.cpu_count()
    .venv/bin/python benchmarks/bench_rbm_sklearn.py --threads 1 --repeats 7
    .venv/bin/python benchmarks/bench_rbm_sklearn.py --quick         # smoke run (~1 min)
    .venv/bin/python benchmarks/bench_rbm_sklearn.py --quality-only --seeds 8 --threads 1 \
        --ais-batches 100 --float64          # likelihoods only, 256 hidden at batch 100

One run, the same data and settings for both estimators, the same number of threads for torch
(``torch.set_num_threads``) and for NumPy's BLAS (``threadpoolctl``):

1. speed grid, interleaved: {digits, MNIST-5k} (pixels scaled to [0, 1], float64 as a
   scikit-learn user passes them) × n_components {16, 64, 256} × batch_size {10, 100}, one
   epoch of ``fit`` (scikit-learn's other defaults). Every round times each cell once for
   scikit-learn, once for ours and once for the five CD matrix products alone
   (``torch.matmul``, float32, same shapes and count), the two estimators in alternating
   order; the first round is a warm-up and is dropped, the reported time is the median of the
   ``--repeats`` rounds after it (wall clock, ``time.perf_counter``; CPU time,
   ``time.process_time``, is stored too). Interleaving matters on a shared machine: load that
   comes and goes hits both estimators alike instead of one block of runs. The ratio is
   scikit-learn's median / ours; the throughput fraction is the CD-1 FLOPs (5 products of
   2·b·n_v·n_h per minibatch) per second of ours divided by those of ``torch.matmul`` alone;
2. exact test log-likelihood (nats/image, binarised test images) with n_components=16 (the
   hidden layer is enumerated), scikit-learn's defaults otherwise (10 epochs), batch 10 and
   100, on binarised digits and MNIST-5k, over ``--seeds`` seeds: mean ± standard error;
3. AIS test log-likelihood of the 256-unit models (binarised MNIST-5k, 10 epochs, batch 10 and
   100, ``--seeds`` seeds: one seed is not enough, training at scikit-learn's rate is chaotic
   and a single run moves by tens of nats with the seed or the BLAS thread count): log Z from
   ``ais_log_partition`` (its error bar = 3 standard errors of log Ẑ, the largest one
   reported), and the mean pseudo-log-likelihood (``score_samples``). With ``--float64`` our
   estimator is also trained computing in float64 (``pcd_cpu.CpuPCD(dtype=np.float64)``) with
   the same random numbers as in float32, which isolates what float32 arithmetic costs.

Likelihoods are compared *paired by seed*: for one seed both estimators start from the same
weights (scikit-learn's draw) and AIS uses the same random numbers, so the table gives the mean
of the per-seed differences ours − scikit-learn's with its 95 % t-interval. Training at
scikit-learn's rate is chaotic (the Gibbs random numbers differ between the two), so the
interval, not the sign of the mean, says whether the two are distinguishable.

Writes ``benchmarks/results/rbm_sklearn.json`` (or ``--out``) and prints Markdown tables.
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
HIDDEN = (16, 64, 256)
BATCHES = (10, 100)


def timed_once(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def summary(runs):
    wall = [w for w, _ in runs]
    cpu = [c for _, c in runs]
    return {"median_s": statistics.median(wall), "min_s": min(wall),
            "cpu_median_s": statistics.median(cpu), "runs_s": wall, "cpu_runs_s": cpu}


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


def matmul_epoch(n, n_v, n_h, b):
    """The five CD-1 products of one epoch alone, float32 ``torch.matmul`` (a closure)."""
    g = torch.Generator().manual_seed(0)
    w = torch.randn(n_h, n_v, generator=g) * 0.01
    v = torch.rand(b, n_v, generator=g)
    h = torch.rand(b, n_h, generator=g)
    n_batches = (n + b - 1) // b

    def run():
        for _ in range(n_batches):
            torch.matmul(v, w.T)  # positive phase, p(h|v)
            torch.matmul(h, w)  # negative phase, p(v|h)
            torch.matmul(v, w.T)  # p(h|v⁻)
            torch.matmul(h.T, v)  # gradient, positive
            torch.matmul(h.T, v)  # gradient, negative

    return run


def speed_grid(data, repeats, quick):
    from sklearn.neural_network import BernoulliRBM as SkRBM

    from ebm_helpers.sklearn import BernoulliRBM

    cells = [(ds, nh, bs) for ds in data for nh in HIDDEN for bs in BATCHES]
    runs = {c: {"sklearn": [], "ours": [], "matmul": []} for c in cells}
    for rnd in range(repeats + 1):  # round 0 is the warm-up
        for i, (ds, nh, bs) in enumerate(cells):
            x = data[ds]

            def fit(cls, nh=nh, bs=bs, x=x, seed=rnd):
                return lambda: cls(n_components=nh, batch_size=bs, n_iter=1,
                                   random_state=seed).fit(x)

            order = [("sklearn", fit(SkRBM)), ("ours", fit(BernoulliRBM))]
            if (rnd + i) % 2:
                order.reverse()
            order.append(("matmul", matmul_epoch(x.shape[0], x.shape[1], nh, bs)))
            for name, fn in order:
                t = timed_once(fn)
                if rnd:
                    runs[(ds, nh, bs)][name].append(t)
        print(f"round {rnd}/{repeats} done", flush=True)
    grid = {}
    for (ds, nh, bs), r in runs.items():
        n, n_v = data[ds].shape
        flops = 5 * 2 * n * n_v * nh
        s = {k: summary(v) for k, v in r.items()}
        grid[f"{ds}/h{nh}/b{bs}"] = {
            "dataset": ds, "n_components": nh, "batch_size": bs, "flops_per_epoch": flops,
            **s,
            "ratio_sklearn_over_ours": s["sklearn"]["median_s"] / s["ours"]["median_s"],
            "ratio_cpu": s["sklearn"]["cpu_median_s"] / s["ours"]["cpu_median_s"],
            "ours_gflops": flops / s["ours"]["median_s"] / 1e9,
            "matmul_gflops": flops / s["matmul"]["median_s"] / 1e9,
            "fraction_of_matmul": s["matmul"]["median_s"] / s["ours"]["median_s"],
        }
    return grid


def exact_ll(data_bin, seeds, n_iter):
    from sklearn.neural_network import BernoulliRBM as SkRBM

    from ebm_helpers.sklearn import BernoulliRBM

    out = {}
    for ds, (x_train, x_test) in data_bin.items():
        for bs in BATCHES:
            lls = {"sklearn": [], "ours": []}
            for seed in range(seeds):
                for name, cls in (("sklearn", SkRBM), ("ours", BernoulliRBM)):
                    m = cls(n_components=16, batch_size=bs, n_iter=n_iter,
                            random_state=seed).fit(x_train)
                    helper = m if name == "ours" else as_ours(m, x_train.shape[1])
                    lls[name].append(float(helper.log_likelihood(x_test).mean()))
            res = {n: {"per_seed": v, "mean": float(np.mean(v)),
                       "sem": float(np.std(v, ddof=1) / np.sqrt(len(v))) if len(v) > 1 else 0.0}
                   for n, v in lls.items()}
            res["ours_minus_sklearn"] = paired(lls["ours"], lls["sklearn"])
            out[f"{ds}/h16/b{bs}"] = res
            print(f"exact LL {ds} b{bs}: sklearn {res['sklearn']['mean']:.3f}, "
                  f"ours {res['ours']['mean']:.3f}", flush=True)
    return out


def paired(ours, theirs) -> dict:
    """Per-seed differences ours - scikit-learn's (the same seed: the same initial weights and
    the same AIS random numbers), their mean, standard error and 95 % t-interval."""
    from scipy import stats

    d = np.asarray(ours) - np.asarray(theirs)
    sem = float(np.std(d, ddof=1) / np.sqrt(len(d))) if len(d) > 1 else float("nan")
    half = float(stats.t.ppf(0.975, len(d) - 1) * sem) if len(d) > 1 else float("nan")
    return {"per_seed": d.tolist(), "mean": float(d.mean()), "sem": sem,
            "ci95": [float(d.mean()) - half, float(d.mean()) + half]}


def ais_quality(x_train, x_test, n_iter, seeds, chains, betas, batches=BATCHES,
                float64=False, first_seed=0):
    """AIS test log-likelihoods of 256-unit models; with ``float64``, also of ours computing in
    float64 with the same random numbers as ours in float32 (what float32 costs)."""
    from sklearn.neural_network import BernoulliRBM as SkRBM

    from ebm_helpers import rbm as R
    from ebm_helpers.sklearn import BernoulliRBM

    class Float64RBM(BernoulliRBM):
        _cpu_dtype = np.float64

    estimators = [("sklearn", SkRBM), ("ours", BernoulliRBM)]
    if float64:
        estimators.append(("ours_float64", Float64RBM))
    base = R.base_rate_log_odds(torch.from_numpy(x_train))
    out = {}
    for bs in batches:
        res = {name: [] for name, _ in estimators}
        for seed in range(first_seed, first_seed + seeds):
            for name, cls in estimators:
                w0 = time.perf_counter()
                m = cls(batch_size=bs, n_iter=n_iter, random_state=seed).fit(x_train)
                fit_s = time.perf_counter() - w0
                helper = as_ours(m, x_train.shape[1]) if name == "sklearn" else m
                r = ais_ll(helper, x_test, base, seed, chains, betas)
                r["fit_s"] = fit_s
                r["seed"] = seed
                r["pseudo_ll"] = float(
                    helper.set_params(random_state=seed).score_samples(x_test).mean())
                res[name].append(r)
        summ = {}
        for name, runs in res.items():
            lls = [r["test_ll"] for r in runs]
            summ[name] = {
                "per_seed": runs, "mean": float(np.mean(lls)),
                "sem": float(np.std(lls, ddof=1) / np.sqrt(len(lls))) if len(lls) > 1 else 0.0,
                "max_ais_error_bar": max(r["ais_error_bar"] for r in runs),
                "pseudo_ll_mean": float(np.mean([r["pseudo_ll"] for r in runs])),
            }
        summ["ours_minus_sklearn"] = paired([r["test_ll"] for r in res["ours"]],
                                            [r["test_ll"] for r in res["sklearn"]])
        if float64:
            summ["float32_minus_float64"] = paired(
                [r["test_ll"] for r in res["ours"]], [r["test_ll"] for r in res["ours_float64"]])
        out[f"mnist5k/h256/b{bs}"] = summ
        d = summ["ours_minus_sklearn"]
        print(f"AIS LL b{bs}: sklearn {summ['sklearn']['mean']:.2f}, "
              f"ours {summ['ours']['mean']:.2f}, paired difference {d['mean']:+.2f} "
              f"(95 % CI {d['ci95'][0]:+.2f} .. {d['ci95'][1]:+.2f})", flush=True)
    return out


def main(argv=None):
    from ebm_helpers.data import load_digits, load_mnist5k

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--repeats", type=int, default=5, help="timed rounds after the warm-up")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--ais-chains", type=int, default=100)
    p.add_argument("--ais-betas", type=int, default=1000)
    p.add_argument("--skip-quality", action="store_true", help="speed grid only")
    p.add_argument("--quality-only", action="store_true", help="likelihoods only, no speed grid")
    p.add_argument("--ais-batches", type=int, nargs="+", default=list(BATCHES),
                   help="batch sizes of the 256-unit AIS comparison")
    p.add_argument("--first-seed", type=int, default=0,
                   help="AIS comparison: seeds first-seed .. first-seed + seeds - 1")
    p.add_argument("--skip-exact", action="store_true", help="no 16-unit exact likelihoods")
    p.add_argument("--float64", action="store_true",
                   help="AIS comparison: also ours computing in float64 (same random numbers)")
    p.add_argument("--quick", action="store_true", help="small smoke run")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)
    print(f"torch threads = {torch.get_num_threads()} (NumPy BLAS limited to the same)")

    def arrays(d):
        return d.x_train.numpy().astype(np.float64), d.x_test.numpy().astype(np.float64)

    digits, mnist = arrays(load_digits()), arrays(load_mnist5k())
    digits_bin, mnist_bin = arrays(load_digits(binarize=True)), arrays(load_mnist5k(binarize=True))
    if args.quick:
        mnist, mnist_bin = ((a[:800], b[:200]) for a, b in (mnist, mnist_bin))
    n_iter = 2 if args.quick else 10
    out = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "torch": torch.__version__, "threads": torch.get_num_threads()},
        "data": {"speed": f"digits {digits[0].shape}, MNIST-5k {mnist[0].shape}, pixels in "
                          "[0, 1], float64",
                 "likelihood": "the same images binarised (pixel ≥ 0.5), float64"},
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
    }
    grid = {} if args.quality_only else speed_grid(
        {"digits": digits[0], "mnist5k": mnist[0]}, args.repeats, args.quick)
    out["speed_grid"] = grid
    if not args.skip_quality:
        out["exact_ll_16"] = {} if args.skip_exact else exact_ll(
            {"digits": digits_bin, "mnist5k": mnist_bin}, args.seeds, n_iter)
        out["ais_256"] = ais_quality(*mnist_bin, n_iter, args.seeds, args.ais_chains,
                                     args.ais_betas, tuple(args.ais_batches), args.float64,
                                     args.first_seed)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    print(f"\nthreads: {torch.get_num_threads()}; results written to {args.out}\n")
    print(f"Speed, one epoch of fit, median of {args.repeats} interleaved rounds (wall s):\n")
    print("| data | hidden | batch | scikit-learn | ebm_helpers | sklearn / ours (wall) "
          "| (CPU) | ours GFLOP/s | matmul GFLOP/s | fraction of matmul |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in grid.values():
        print(f"| {r['dataset']} | {r['n_components']} | {r['batch_size']} "
              f"| {r['sklearn']['median_s']:.3f} | {r['ours']['median_s']:.3f} "
              f"| {r['ratio_sklearn_over_ours']:.2f}× | {r['ratio_cpu']:.2f}× "
              f"| {r['ours_gflops']:.2f} | {r['matmul_gflops']:.2f} "
              f"| {r['fraction_of_matmul']:.0%} |")
    if args.skip_quality:
        return
    print("\n| test log-likelihood (nats/image) | scikit-learn | ebm_helpers "
          "| ours − sklearn, paired by seed (mean, 95 % CI) |")
    print("|---|---|---|---|")

    def diff(r):
        d = r["ours_minus_sklearn"]
        return f"{d['mean']:+.2f} ({d['ci95'][0]:+.2f} .. {d['ci95'][1]:+.2f})"

    for key, r in out["exact_ll_16"].items():
        s, o = r["sklearn"], r["ours"]
        print(f"| exact, {key}, {args.seeds} seeds (mean ± s.e.) | {s['mean']:.2f} ± "
              f"{s['sem']:.2f} | {o['mean']:.2f} ± {o['sem']:.2f} | {diff(r)} |")
    for key, r in out["ais_256"].items():
        s, o = r["sklearn"], r["ours"]
        print(f"| AIS, {key}, {n_iter} epochs, {args.seeds} seeds (mean ± s.e.; AIS error bar "
              f"≤ {max(s['max_ais_error_bar'], o['max_ais_error_bar']):.2f}) | {s['mean']:.2f} ± "
              f"{s['sem']:.2f} | {o['mean']:.2f} ± {o['sem']:.2f} | {diff(r)} |")
        print(f"| pseudo-LL (score_samples), {key} | {s['pseudo_ll_mean']:.2f} "
              f"| {o['pseudo_ll_mean']:.2f} | {o['pseudo_ll_mean'] - s['pseudo_ll_mean']:+.2f} |")
        if "float32_minus_float64" in r:
            d = r["float32_minus_float64"]
            print(f"| AIS, {key}: ours in float32 − ours in float64 (same random numbers) "
                  f"| | {r['ours_float64']['mean']:.2f} (float64) | {d['mean']:+.2f} "
                  f"({d['ci95'][0]:+.2f} .. {d['ci95'][1]:+.2f}) |")


if __name__ == "__main__":
    main()
