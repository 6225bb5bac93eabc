# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] slideshow={"slide_type": "slide"}
# # 02 · Hopfield networks and Boltzmann machines: memories and models made of energy
#
# Notebook 01 took an energy as given and asked which states are probable. This notebook turns
# the question around: **can we choose the energy so that the states we care about are its
# valleys?** Hopfield (1982) answered yes for memories: with couplings $W_{ij}$ set by a
# one-line Hebbian rule, a network of binary units rolls downhill from a corrupted image to the
# stored one. Replace the deterministic units by stochastic ones at temperature $T$ and the same
# energy defines a Boltzmann distribution; add hidden units and *learn* $W$ by maximum
# likelihood and you have the Boltzmann machine (Hinton & Sejnowski 1983; Ackley, Hinton &
# Sejnowski 1985). Its learning rule is beautiful — a difference of two correlations — and its
# cost is the partition function again. The 2024 Nobel Prize in Physics went to Hopfield and
# Hinton for exactly these two models.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Learning goals
#
# After this notebook you can
#
# 1. write the Hopfield energy $E(x) = -\tfrac12 x^\top W x$, store patterns with the Hebb rule,
#    and prove that asynchronous updates never increase $E$;
# 2. run associative recall from a corrupted pattern, and explain when it fails: too many
#    patterns (the capacity $\alpha_c \approx 0.138$ of Amit, Gutfreund & Sompolinsky) or
#    correlated patterns;
# 3. replace deterministic units by stochastic heat-bath units,
#    $p(x_i = +1) = \mathrm{sigm}(2u_i/T)$, and connect them to the Gibbs sampler of notebook 01;
# 4. derive the Boltzmann machine learning rule
#    $\partial \log p(v)/\partial W_{ij} = \langle x_i x_j\rangle_\text{data} - \langle x_i
#    x_j\rangle_\text{model}$, compute both phases exactly on a tiny machine, and check it
#    against automatic differentiation;
# 5. explain why exact learning is intractable at scale, and which restriction of the
#    connectivity gives the restricted Boltzmann machine (RBM) of notebook 03.

# %% [markdown] slideshow={"slide_type": "notes"}
# ## Prerequisites and run time
#
# Notebook [01](01_boltzmann_distribution.ipynb) (Boltzmann distribution, partition function,
# Gibbs sampling of the Ising model). Linear algebra (matrix–vector products) and the chain rule.
# The set-up cell prints this notebook's measured run time (full and fast mode, from
# `make bench`); set `EBM_FAST=1` for a quick run with smaller experiments.

# %% slideshow={"slide_type": "skip"}
import functools
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Markdown, display
from scipy.ndimage import zoom
from sklearn.datasets import load_digits
from tqdm.auto import tqdm

from ebm_helpers import boltzmann_machine as bm
from ebm_helpers import checks, config, hopfield, plotting, widgets

plotting.apply_style()
config.set_torch_threads()  # one thread: small tensors, and robust on a busy laptop
generator = config.seed_everything(0)
FAST = config.is_fast()
print(config.notebook_header("02_hopfield_and_boltzmann_machines"))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The Hopfield energy and the Hebb rule
#
# A Hopfield network has $N$ units $x_i \in \{-1, +1\}$ — the spins of the Ising model — and
# symmetric couplings $W_{ij} = W_{ji}$ with $W_{ii} = 0$. Its energy is the Ising energy with a
# different coupling for every pair:
#
# $$E(x) = -\tfrac12 \sum_{i,j} W_{ij} x_i x_j = -\tfrac12 x^\top W x.$$
#
# **Storing.** To make patterns $\xi^1, \dots, \xi^P \in \{-1,+1\}^N$ low-energy states, the
# Hebb rule ("units that fire together wire together") sets
#
# $$W_{ij} = \frac1N \sum_{\mu=1}^P \xi^\mu_i \xi^\mu_j \quad (i \ne j), \qquad W_{ii} = 0.$$
#
# For a single pattern, $E(\xi^1) = -\tfrac{1}{2N}\sum_{i\ne j} 1 = -\tfrac{N-1}{2}$, the lowest
# energy possible with these couplings.
#
# **Recalling.** Update one unit at a time (*asynchronously*) to the sign of its **local
# field** $u_i = \sum_j W_{ij} x_j$. Why this descends the energy: the terms of $E$ that
# contain $x_i$ are $-x_i u_i$ (the factor ½ disappears because $W_{ij}x_i x_j$ and
# $W_{ji}x_j x_i$ are the same term). If $x_i$ flips, $\Delta x_i = -2 x_i$ and
#
# $$\Delta E = -\Delta x_i\, u_i = 2 x_i u_i = -2|u_i| < 0,$$
#
# since it flips only when $x_i$ and $u_i$ disagree in sign. The energy is bounded below and
# the state space finite, so the dynamics must stop at a **fixed point**, a local minimum of
# $E$. Symmetry matters: with $W_{ij} \ne W_{ji}$ there is no energy and the network can cycle.
#
# Both lines of code, written out, and checked against the tested helper `ebm_helpers.hopfield`:

# %% slideshow={"slide_type": "skip"}
def hebbian(patterns):
    """W = (1/N) Σ_μ ξ^μ ξ^μᵀ with zero diagonal, for (P, N) patterns of ±1."""
    n = patterns.shape[1]
    w = patterns.T @ patterns / n
    w.fill_diagonal_(0.0)
    return w


def update_unit(w, x, i):
    """One asynchronous update: x_i ← sign(u_i), keeping x_i on a tie u_i = 0."""
    u = w[i] @ x
    x = x.clone()
    if u != 0:
        x[i] = torch.sign(u)
    return x


xi_random = hopfield.random_patterns(5, 100, generator)
w_random = hebbian(xi_random)
assert torch.allclose(w_random, hopfield.hebbian_weights(xi_random))
x = hopfield.corrupt(xi_random[0], 0.2, generator)
energies_by_hand = [float(hopfield.energy(w_random, x))]
for _sweep in range(3):
    for i in range(100):
        x = update_unit(w_random, x, i)
        energies_by_hand.append(float(hopfield.energy(w_random, x)))
helper = hopfield.recall(w_random, hopfield.corrupt(xi_random[0], 0.2, generator), n_sweeps=3)
print(f"5 random patterns in 100 units: overlap with the stored pattern after 3 sweeps = "
      f"{float(hopfield.overlap(x, xi_random[0])):.2f}")
print(f"energy: start {energies_by_hand[0]:.2f} -> end {energies_by_hand[-1]:.2f} "
      f"(lowest possible for one pattern: {-(100 - 1) / 2})")
assert np.all(np.diff(energies_by_hand) <= 1e-12), "an asynchronous update increased E"
assert torch.equal(x, xi_random[0]) and torch.equal(helper.s, xi_random[0])

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Associative memory for images
#
# Random patterns are what the theory assumes; images are what we can *see*. We take the
# scikit-learn 8×8 digits (shipped with the library, no download), average each class,
# upsample the ten class means to 16×16 ($N = 256$ units) and binarise them. One subtlety,
# which will matter: raw digit images share a large black background, so any two of them agree
# on most pixels — they are strongly **correlated**, and the Hebb rule mixes correlated memories
# (try it in exercise 2). We therefore binarise each class mean against the *average digit*:
# $\xi_i = +1$ where this digit has more ink than the average one. Two things to check below:
# that the ten patterns still look like their digits, and that their mutual overlaps
# $m^{\mu\nu} = \xi^\mu \cdot \xi^\nu / N$ are smaller than those of the raw patterns.

# %% slideshow={"slide_type": "-"}
digits = load_digits()
class_means = np.stack([digits.data[digits.target == k].mean(0) / 16 for k in range(10)])
SIDE = 16
upsampled = np.stack([zoom(m.reshape(8, 8), SIDE // 8, order=1).ravel() for m in class_means])
raw_patterns = torch.tensor(np.where(upsampled >= 0.4, 1.0, -1.0))
digit_patterns = torch.tensor(np.where(upsampled > upsampled.mean(0), 1.0, -1.0))
N_IMG = SIDE * SIDE


def mean_abs_overlap(p):
    o = (p @ p.T / p.shape[1]).abs()
    return float(o[~torch.eye(len(p), dtype=torch.bool)].mean())


def to_unit(x):
    """±1 spins as 0/1 pixels for ``plotting.show_image_grid`` (+1 = ink = black)."""
    return (x + 1) / 2


fig, axes = plt.subplots(2, 1, figsize=(12, 3.4))
for ax, pats, title in [(axes[0], raw_patterns, "thresholded raw class means, digits 0–9"),
                        (axes[1], digit_patterns, "class means compared with the average digit")]:
    plotting.show_image_grid(ax, to_unit(pats), (SIDE, SIDE), ncols=10, title=title)
fig.suptitle("the ten stored patterns (black = +1)")
plt.show()
overlap_raw, overlap_avg = mean_abs_overlap(raw_patterns), mean_abs_overlap(digit_patterns)
# "still look like their digits", measured: each pattern overlaps most with its own digit's
# thresholded class mean among the ten
closest = (digit_patterns @ raw_patterns.T).argmax(1)
n_own = int((closest == torch.arange(10)).sum())
print(f"mean |overlap| between different digits: raw {overlap_raw:.2f}, vs-average "
      f"{overlap_avg:.2f}")
print(f"patterns closest to their own digit's raw pattern: {n_own} of 10")
assert overlap_avg < 0.5 * overlap_raw and n_own == 10

# %% [markdown] slideshow={"slide_type": "subslide"}
# Each pattern overlaps most with its own digit's raw class mean, and the mean overlap between
# different digits is less than half that of the raw patterns (both asserted above).
# Store four digits (load $\alpha = P/N = 4/256$), flip a fifth of the pixels of each, and let
# the network run. The figure follows each recall one sweep at a time and plots the energy after
# every single-unit update.

# %% slideshow={"slide_type": "-"}
STORED = [0, 1, 2, 3]
w_digits = hopfield.hebbian_weights(digit_patterns[STORED])
corruption = 0.2
snapshots = [0, N_IMG // 4, N_IMG // 2, N_IMG, 3 * N_IMG]
fig, axes = plt.subplots(len(STORED), len(snapshots) + 1, figsize=(12, 9.2),
                         gridspec_kw={"width_ratios": [1] * len(snapshots) + [2.2]})
paths = {}
for row, k in enumerate(STORED):
    start = hopfield.corrupt(digit_patterns[k], corruption, torch.Generator().manual_seed(k))
    path = hopfield.recall_path(w_digits, start, n_sweeps=10)
    paths[k] = path
    for col, step in enumerate(snapshots):
        ax = axes[row, col]
        shown = path.states[min(step, path.n_steps)]
        m = float(hopfield.overlap(shown, digit_patterns[k]))
        plotting.show_image_grid(ax, to_unit(shown)[None], (SIDE, SIDE), ncols=1,
                                 title=f"{step} updates\nm = {m:.2f}")
    ax_e = axes[row, -1]
    ax_e.plot(path.energies, color="C0")
    ax_e.set_ylabel("energy E(x)")
    # the last flip, not path.n_steps: a fixed point is only confirmed by one more full sweep
    # in which nothing changes, so the energy is flat over the last N updates of the path
    flips = np.nonzero(np.diff(np.asarray(path.energies)))[0]
    last_flip = int(flips[-1]) + 1 if len(flips) else 0
    ax_e.set_title(f"digit {k}: last flip at update {last_flip} (then a sweep of {N_IMG} "
                   "confirms the fixed point)", fontsize=9)
axes[-1, -1].set_xlabel("single-unit updates")
fig.suptitle(f"recall of {len(STORED)} stored digits from {corruption:.0%} flipped pixels "
             "(m = overlap with the stored digit)")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Every corrupted digit rolls down to its stored pattern, and the energy curves only go down
# (flat stretches are updates that agreed with their field). The checks in code: for every
# stored digit and many different corruptions of it, the energy never increases and the final state
# *is* the stored pattern. Then the failure: store all ten digits. The load is still tiny
# ($10/256 \approx 0.04$, far below 0.138), yet recall breaks down for several digits, because
# the digits, even compared with the average digit, remain correlated, and each stored pattern
# adds a crosstalk term proportional to its overlap with the others.

# %% slideshow={"slide_type": "-"}
def recall_rate(stored, corruption, n_starts, seed):
    """Fraction of corrupted starts (per stored digit) that end exactly at the stored digit."""
    w = hopfield.hebbian_weights(digit_patterns[stored])
    gen = torch.Generator().manual_seed(seed)
    rates, monotone, failed = {}, True, []
    for k in stored:
        starts = hopfield.corrupt(digit_patterns[k].repeat(n_starts, 1), corruption, gen)
        res = hopfield.recall(w, starts, n_sweeps=30, return_trace=True)
        monotone &= bool((res.energy_trace.diff(dim=0) <= 1e-9).all())
        hit = (res.s == digit_patterns[k]).all(1)
        rates[k] = float(hit.double().mean())
        failed.append(res.s[~hit])
    return rates, monotone, torch.cat(failed)


n_starts = config.scaled(full=20, fast=6)
low, low_monotone, _ = recall_rate(STORED, corruption, n_starts, seed=1)
high, high_monotone, failed_ends = recall_rate(list(range(10)), corruption, n_starts, seed=1)
print("4 digits stored :", {k: f"{v:.2f}" for k, v in low.items()})
print("10 digits stored:", {k: f"{v:.2f}" for k, v in high.items()})
assert low_monotone and high_monotone, "energy increased during recall"
assert min(low.values()) == 1.0, "at low load every corrupted digit must be recalled"
assert np.mean(list(high.values())) < 0.7, "with all ten digits stored, recall should often fail"

# %% [markdown] slideshow={"slide_type": "subslide"}
# Where does a failed recall end? The Hebb rule also creates **spurious** minima, such as
# blends of several stored digits (*mixture states*); Hopfield noted them in 1982, the price of
# a purely local learning rule. The cell sorts the end states of the failed recalls above by
# their overlaps $m$ with the ten stored digits (and asserts that most are spurious).

# %% slideshow={"slide_type": "-"}
ends_m = failed_ends @ digit_patterns.T / N_IMG  # (n_failed, 10) overlaps with every digit
at_stored = (ends_m.abs() > 0.999).any(1)  # exactly a stored digit or its inverse
blends = (~at_stored) & ((ends_m.abs() >= 0.3).sum(1) >= 2)  # |m| ≥ 0.3 with 2+ digits
n_failed = len(failed_ends)
display(Markdown(
    f"Of the {n_failed} failed recalls, {int(at_stored.sum())} end exactly at another stored "
    f"digit (or its inverse) and {n_failed - int(at_stored.sum())} at a state that is no "
    f"stored pattern; {int(blends.sum())} of those overlap by $|m| \\ge 0.3$ with two or more "
    f"digits at once, a blend. The median largest overlap of the end states is "
    f"{float(ends_m.abs().max(1).values.median()):.2f}."))
assert n_failed > 0 and int((~at_stored).sum()) > n_failed / 2, "mostly spurious ends"

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Explore: step the dynamics yourself
#
# Below, a static figure for one digit — the same pure function that draws the widget, so the
# lesson survives in a PDF — and then the explorer. Choose a stored digit, set the fraction of
# flipped pixels, and move the step slider: the unit just updated is outlined (red if it
# flipped) and the energy curve fills in. Things to try: at 40–50% flipped pixels some starts
# fall into the basin of *another* digit or of an inverted pattern $-\xi$ (which has the same
# energy: $E(-x) = E(x)$).

# %% slideshow={"slide_type": "-"}
display(widgets.hopfield_recall_figure(digit_patterns[STORED], (SIDE, SIDE), pattern=2,
                                       corruption=0.3, step=N_IMG // 2))

# %% slideshow={"slide_type": "subslide"}
widgets.recall_explorer(digit_patterns[STORED], (SIDE, SIDE),
                        names=[f"digit {k}" for k in STORED], pattern=0, corruption=0.25)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. How many patterns fit? The capacity experiment
#
# For random patterns the local field at a stored pattern splits into signal and crosstalk:
#
# $$\xi^\nu_i u_i = \underbrace{\tfrac{N-1}{N}}_{\text{signal}} + \underbrace{\tfrac1N
#   \sum_{\mu\ne\nu}\sum_{j \ne i} \xi^\nu_i\xi^\mu_i\xi^\mu_j\xi^\nu_j}_{\text{crosstalk, mean
#   0, variance} \approx \alpha},$$
#
# so one bit is unstable with probability $\approx \Phi(-1/\sqrt{\alpha})$ for load
# $\alpha = P/N$ (`hopfield.stable_bit_probability` gives the exact binomial value). That is only
# the first update: flipped bits raise the crosstalk for the others, and the avalanche can carry
# the state away. Amit, Gutfreund & Sompolinsky (1985) solved the $N \to \infty$ limit with the
# replica method (a statistical-physics technique for averaging $\log Z$ over the random
# patterns): retrieval states near the patterns exist only for $\alpha < \alpha_c \approx
# 0.138$, and at $\alpha_c$ they disappear abruptly. (McEliece et al. 1987 showed that if *every*
# pattern must be recalled exactly, the capacity is only $N/(4 \ln N)$.)
#
# We measure it: for each load, many networks each store $P = \alpha N$ random patterns; a
# pattern counts as recalled if the dynamics started *at* it end with overlap $m \ge 0.95$.

# %% slideshow={"slide_type": "-"}
n_cap = config.scaled(full=200, fast=100)
n_trials = config.scaled(full=24, fast=8)
loads = np.round(np.linspace(0.02, 0.32, 16), 3)
t0 = time.perf_counter()
cap = hopfield.capacity_curve(n_cap, loads, n_trials, generator=generator)
cap_small = hopfield.capacity_curve(50, loads, 3 * n_trials, generator=generator)
print(f"capacity curves: {time.perf_counter() - t0:.1f} s")
exact_stable = [hopfield.stable_bit_probability(n_cap, int(p)) for p in cap.n_patterns]

fig, (ax_r, ax_b) = plt.subplots(1, 2, figsize=(12, 4))
ax_r.plot(cap_small.loads, cap_small.recalled, "s--", color="0.55", label="N = 50")
ax_r.plot(cap.loads, cap.recalled, "o-", color="C0", label=f"N = {n_cap}")
ax_r.axvline(hopfield.AGS_CAPACITY, color="C1", ls="--",
             label=r"$\alpha_c \approx 0.138$ ($N \to \infty$)")
ax_r.set_xlabel(r"load $\alpha = P/N$")
ax_r.set_ylabel("fraction of patterns recalled (m ≥ 0.95)")
ax_r.set_title("recall collapses near the theoretical capacity")
ax_r.legend()
ax_b.plot(cap.loads, 1 - cap.stable_bits, "o", color="C0", label="measured")
ax_b.plot(cap.loads, 1 - np.array(exact_stable), color="k", lw=1.2, label="exact (binomial)")
ax_b.set_xlabel(r"load $\alpha = P/N$")
ax_b.set_ylabel("fraction of unstable bits")
ax_b.set_title(f"first-update errors at a stored pattern (N = {n_cap})")
ax_b.legend()
plt.show()
crossover, crossover_small = cap.crossover(), cap_small.crossover()
print(f"50% crossover: N = 50: alpha = {crossover_small:.3f};  N = {n_cap}: alpha = "
      f"{crossover:.3f};  N -> infinity: {hopfield.AGS_CAPACITY}")
collapsed = cap.loads[np.argmax(cap.recalled < 0.5)]  # the first load with recall below 50%
unstable_there = float(1 - cap.stable_bits[cap.loads == collapsed][0])
print(f"N = {n_cap}: at load {collapsed:.2f}, the first with recall below 50%, the fraction of "
      f"unstable bits is {unstable_there:.3f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The measured unstable-bit fractions sit on the exact binomial curve; they are small (printed
# above for the first load where recall is below 50%, and asserted below 5%) even where recall
# has already collapsed — the avalanche, not the first update, decides. The recall curve falls
# from 1 to 0 around the theoretical value, but **smoothly and to the right of it**: at finite
# $N$ the crosstalk of a given network fluctuates, some networks are lucky, and a retrieval
# state with a few wrong bits still passes the $m \ge 0.95$ test. The smaller network's
# crossover lies further right; as $N$ grows the crossover moves down toward 0.138 (the
# docstring of `hopfield.capacity_curve` lists crossovers measured up to $N = 800$). The checks:

# %% slideshow={"slide_type": "-"}
assert cap.recalled[cap.loads <= 0.06].min() > 0.9, "low load: patterns must be recalled"
assert cap.recalled[cap.loads >= 0.28].max() < 0.2, "high load: recall must have collapsed"
assert hopfield.AGS_CAPACITY < crossover < 0.3, "finite-N crossover lies just above 0.138"
assert crossover_small > crossover, "the smaller network's crossover lies further right"
assert unstable_there < 0.05, "few unstable bits where recall has collapsed"
assert np.allclose(cap.stable_bits, exact_stable, atol=0.01)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Stochastic units and temperature
#
# A deterministic unit always follows its field. A **stochastic** unit follows it *usually*:
# Glauber (1963) dynamics, the heat-bath rule of notebook 01, sets
#
# $$p(x_i = +1 \mid \text{rest}) = \frac{e^{u_i/T}}{e^{u_i/T} + e^{-u_i/T}}
#   = \mathrm{sigm}(2u_i/T).$$
#
# This is *exactly* the Gibbs update of the Ising model in notebook 01, with the uniform
# coupling $J$ replaced by the learned $W_{ij}$: the two values of $x_i$ differ in energy by
# $2u_i$, so the chain samples the Boltzmann distribution $p_T(x) = e^{-E(x)/T}/Z$. At $T \to 0$
# the sigmoid becomes a step and we recover the deterministic recall; as $T$ grows, thermal
# noise competes with the memory, and — like the Ising magnet losing its magnetisation above
# $T_c$ — the network loses the stored pattern. For a single stored pattern the overlap obeys
# the Curie–Weiss **mean-field** equation $m = \tanh(m/T)$ for large $N$ (mean field: every
# unit feels the average field of all the others instead of its fluctuating value, which
# becomes exact when every unit is coupled to every other and $N \to \infty$), with a transition at
# $T = 1$; more stored patterns lower it (Amit, Gutfreund & Sompolinsky 1985). The heat-bath
# sweep, written out for a batch of chains with one temperature per chain (the helper
# `hopfield.stochastic_recall` runs the same rule):

# %% slideshow={"slide_type": "-"}
def heat_bath_sweeps(w, x, temperatures, n_sweeps, generator):
    """Glauber dynamics for a batch of ±1 states, one temperature per row: each sweep visits
    the units in order and sets x_i = +1 with probability sigm(2 u_i / T)."""
    x = x.clone()
    t = torch.as_tensor(temperatures, dtype=torch.float64)
    for _ in range(n_sweeps):
        for i in range(x.shape[1]):
            u = x @ w[i]  # (batch,) local fields of unit i
            up = torch.rand(x.shape[0], generator=generator, dtype=torch.float64)
            x[:, i] = torch.where(up < torch.sigmoid(2 * u / t), 1.0, -1.0)
    return x


t_grid = np.round(np.linspace(0.1, 1.5, 15), 2)
n_chains = config.scaled(full=32, fast=12)
n_gl_sweeps = config.scaled(full=40, fast=20)
t_rows = np.repeat(t_grid, n_chains)  # n_chains chains per temperature, all run at once
networks = {"1 digit stored": hopfield.hebbian_weights(digit_patterns[:1]),
            f"{len(STORED)} digits stored": w_digits}
melt = {}
for name, w in tqdm(networks.items(), desc="Glauber dynamics",
                    disable=config.progress_disabled()):
    end = heat_bath_sweeps(w, digit_patterns[0].repeat(len(t_rows), 1), t_rows, n_gl_sweeps,
                           generator)
    m = hopfield.overlap(end, digit_patterns[0]).abs().reshape(len(t_grid), n_chains)
    melt[name] = (m.mean(1).numpy(), end.reshape(len(t_grid), n_chains, N_IMG)[:, 0])
mean_field = []
for t in t_grid:  # the Curie-Weiss solution: iterate m <- tanh(m / T) from m = 1
    m = 1.0
    for _ in range(5000):
        m = math.tanh(m / t)
    mean_field.append(m)
mean_field = np.array(mean_field)

fig, (ax_m, ax_s) = plt.subplots(1, 2, figsize=(12, 3.9), gridspec_kw={"width_ratios": [1.4, 1]})
for name, (m, _) in melt.items():
    ax_m.plot(t_grid, m, "o-", label=f"Glauber, {name}")
ax_m.plot(t_grid, mean_field, color="k", lw=1.2, label=r"mean field, 1 pattern: $m = \tanh(m/T)$")
ax_m.set_xlabel("temperature T")
ax_m.set_ylabel("mean |overlap| with digit 0")
ax_m.set_title(f"memory melts as T grows ({n_gl_sweeps} sweeps from the stored digit)")
ax_m.legend(fontsize=9)
t_show = [0.3, 0.8, 1.5]
snaps = melt[f"{len(STORED)} digits stored"][1]
plotting.show_image_grid(ax_s, to_unit(torch.stack([snaps[int(np.argmin(np.abs(t_grid - t)))]
                                                     for t in t_show])), (SIDE, SIDE), ncols=3,
                         title=f"one chain of the {len(STORED)}-digit network")
ax_s.set_xticks([(SIDE + 1) * k + SIDE / 2 - 0.5 for k in range(3)], [f"T = {t}" for t in t_show])
plt.show()
for name, (m, _) in melt.items():
    print(f"{name}: mean |overlap| " + ", ".join(
        f"T={t}: {x:.2f}" for t, x in zip(t_grid, m, strict=True) if t in (0.3, 0.7, 1.0, 1.5)))
m_one, m_four = melt["1 digit stored"][0], melt[f"{len(STORED)} digits stored"][0]
ordered = t_grid <= 0.7  # well below the transition, where mean field is accurate
print(f"1 digit, T <= 0.7: max |Glauber - mean field| = "
      f"{np.abs(m_one - mean_field)[ordered].max():.3f}; at T = {t_grid[-1]}: mean |m| = "
      f"{m_one[-1]:.3f}, 1/sqrt(N) = {1 / math.sqrt(N_IMG):.3f}")
assert np.abs(m_one - mean_field)[ordered].max() < 0.05, "ordered phase: mean field holds"
assert m_one[t_grid >= 1.4].max() < 0.25 and m_four[t_grid >= 1.4].max() < 0.25, "hot: lost"
assert m_one[-1] < 3 / math.sqrt(N_IMG), "above the transition |m| is of order 1/sqrt(N)"
assert m_four[t_grid <= 0.3].min() > 0.9, "cold: the memory is kept"
onset = (t_grid >= 0.5) & (t_grid <= 0.8)
assert np.all(m_four[onset] < m_one[onset]), "crosstalk makes the memory melt sooner"

# %% [markdown] slideshow={"slide_type": "subslide"}
# With one stored digit the simulation follows the mean-field curve: the memory survives
# moderate noise and melts near $T = 1$ (on a finite network the transition is smoothed, and
# $|m|$ stays of order $1/\sqrt{N}$ above it: printed and asserted within $3/\sqrt{N}$). With
# four stored digits the crosstalk from the other memories adds to the thermal noise and the
# memory starts to melt at a lower temperature (asserted in the cell above). Noise is not
# only a nuisance: in principle it lets the state climb out of shallow spurious minima (not
# measured here), and — the step that matters for the rest of the collection — a stochastic
# network is a **probabilistic model** $p_T(x)$ that we can fit to data.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. The Boltzmann machine and its learning rule
#
# A Boltzmann machine is a stochastic network trained so that its Boltzmann distribution
# matches data. Two changes from Hopfield's net:
#
# * the units are split into **visible** units $v$, clamped to data, and **hidden** units $h$,
#   free to represent structure the visible units cannot express with pairwise couplings alone;
# * we use $0/1$ units (as in Ackley, Hinton & Sejnowski 1985 and every RBM after): with $x =
#   (v, h) \in \{0,1\}^n$, $E(x) = -\sum_{i<j} W_{ij} x_i x_j - \sum_i b_i x_i$ and
#   $p(x) = e^{-E(x)}/Z$ at $T = 1$. Flipping $x_i$ from 0 to 1 changes $E$ by $-u_i$ (not
#   $-2u_i$), so the heat-bath rule reads $p(x_i = 1\mid\text{rest}) = \mathrm{sigm}(u_i)$
#   ($\mathrm{sigm}(a) = 1/(1 + e^{-a})$, the logistic function); the two conventions are related
#   by $x^{\pm} = 2x^{01} - 1$.
#
# **The learning rule.** The model of the data is the marginal $p(v) = \sum_h e^{-E(v,h)}/Z$.
# For one connection,
#
# $$\frac{\partial \log p(v)}{\partial W_{ij}}
# = \frac{\sum_h e^{-E(v,h)}\, x_i x_j}{\sum_h e^{-E(v,h)}} - \frac{\sum_{x} e^{-E(x)}\, x_i
#   x_j}{Z}
# = \mathbb{E}_{p(h\mid v)}[x_i x_j] - \mathbb{E}_{p(x)}[x_i x_j],$$
#
# because $\partial(-E)/\partial W_{ij} = x_i x_j$. Averaged over the training set:
#
# $$\boxed{\;\frac{\partial \langle \log p(v)\rangle_\text{data}}{\partial W_{ij}} = \langle x_i
#   x_j\rangle_\text{data} - \langle x_i x_j\rangle_\text{model}\;}$$
#
# The **positive phase** clamps $v$ to each training vector, lets the hidden units settle to
# $p(h\mid v)$, and measures co-activations — Hebbian learning, as in section 1. The **negative
# phase** lets the whole network run free and measures the same co-activations — *anti*-Hebbian
# unlearning of whatever the model dreams up. Learning stops when the two agree. The rule is
# local (each weight needs only its two units' statistics), but the negative phase needs
# samples from the model at equilibrium: that is the cost.
#
# **A tiny machine, computed exactly.** Data: the 2×3 *bars and stripes* (every image whose rows
# are all constant, or whose columns are all constant): 10 of the $2^6 = 64$ binary images. The
# machine: 6 visible + 2 hidden units, so only $2^8 = 256$ joint states, few enough to list
# and sum over. Both phases, written out:

# %% slideshow={"slide_type": "skip"}
def bars_and_stripes(rows, cols):
    """All rows×cols binary images whose rows are constant or whose columns are constant."""
    images = set()
    for bits in range(2**rows):
        images.add(tuple((bits >> r) & 1 for r in range(rows) for _ in range(cols)))
    for bits in range(2**cols):
        images.add(tuple((bits >> c) & 1 for _ in range(rows) for c in range(cols)))
    return torch.tensor(sorted(images), dtype=torch.float64)


bas = bars_and_stripes(2, 3)
N_V, N_H = 6, 2
n_units = N_V + N_H
params0 = bm.random_params(N_V, N_H, generator, scale=0.5)
all_s = bm.all_states(n_units)  # (256, 8), row k = the bits of k; visible units first


def phases_by_hand(W, b, data):
    """Exact <s sᵀ>_data and <s sᵀ>_model of a 0/1 Boltzmann machine by enumeration."""
    energy = -0.5 * ((all_s @ W) * all_s).sum(1) - all_s @ b  # E(s) for all 2^n states
    p_model = torch.softmax(-energy, 0)  # exp(-E)/Z
    negative = (all_s * p_model[:, None]).T @ all_s  # Σ_s p(s) s sᵀ
    positive = torch.zeros_like(W)
    for v in data:  # clamp v, weight each hidden state by p(h | v)
        match = (all_s[:, :N_V] == v).all(1)
        s_v, p_h = all_s[match], torch.softmax(-energy[match], 0)
        positive += (s_v * p_h[:, None]).T @ s_v / len(data)
    return positive, negative


pos, neg = phases_by_hand(params0.W, params0.b, bas)
dW_by_hand = pos - neg
dW_by_hand.fill_diagonal_(0.0)
dW_helper, db_helper = bm.exact_gradient(params0, bas)
print(f"max |by hand - helper| = {float((dW_by_hand - dW_helper).abs().max()):.1e}")
assert torch.allclose(dW_by_hand, dW_helper, atol=1e-12)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Is it really the gradient? Write the exact log-likelihood as a differentiable function — one
# free parameter per connection, $W = U + U^\top$ with $U$ strictly upper triangular — and let
# autograd differentiate it; check one entry by central finite differences, too.

# %% slideshow={"slide_type": "-"}
def exact_log_likelihood(u, b, data):
    """<log p(v)>_data by enumeration; differentiable in (U, b)."""
    W = torch.triu(u, 1) + torch.triu(u, 1).T
    neg_e = 0.5 * ((all_s @ W) * all_s).sum(1) + all_s @ b
    log_p = neg_e - torch.logsumexp(neg_e, 0)  # log p(s)
    log_pv = torch.logsumexp(log_p.reshape(2**N_H, 2**N_V), 0)  # sum out h
    return log_pv[bm.state_index(data)].mean()


u = params0.W.clone().requires_grad_(True)
b = params0.b.clone().requires_grad_(True)
exact_log_likelihood(u, b, bas).backward()
dW_autograd = torch.triu(u.grad, 1) + torch.triu(u.grad, 1).T
eps, (i, j) = 1e-6, (0, 7)
shift = torch.zeros(n_units, n_units, dtype=torch.float64)
shift[i, j] = eps
with torch.no_grad():
    fd = (exact_log_likelihood(params0.W + shift, params0.b, bas)
          - exact_log_likelihood(params0.W - shift, params0.b, bas)) / (2 * eps)
print(f"max |phases - autograd| = {float((dW_helper - dW_autograd).abs().max()):.1e}; "
      f"dW[{i},{j}]: phases {float(dW_helper[i, j]):+.6f}, finite differences {float(fd):+.6f}")
assert torch.allclose(dW_helper, dW_autograd, atol=1e-12)
assert torch.allclose(db_helper, b.grad, atol=1e-12)
assert abs(float(dW_helper[i, j]) - float(fd)) < 1e-7

# %% [markdown] slideshow={"slide_type": "subslide"}
# Now train by gradient ascent with the exact gradient (`bm.train_exact` runs the same two
# phases at every step) and watch the exact log-likelihood. Its ceiling is the log-likelihood
# of the data distribution itself, $\sum_v p_\text{data}(v)\log p_\text{data}(v) = -\log 10$
# (every image appears once). As a yardstick for the learned distribution we use the best
# model *without* interactions — independent pixels with the data's marginals — whose total
# variation distance (TV) to the data we compute exactly.

# %% slideshow={"slide_type": "-"}
n_train_steps = config.scaled(full=1500, fast=400)
bar = functools.partial(tqdm, desc="exact BM training", disable=config.progress_disabled())
trained = bm.train_exact(params0, bas, n_train_steps, learning_rate=1.0, progress=bar)
p_data = bm.empirical_distribution(bas)
p_init = bm.visible_log_probs(params0).exp()
p_model = bm.visible_log_probs(trained.params).exp()
marg = bas.mean(0)
v_all = bm.all_states(N_V)
p_indep = torch.prod(torch.where(v_all == 1, marg, 1 - marg), 1)


def tv(p, q):
    return 0.5 * float((p - q).abs().sum())


tv_init, tv_model, tv_indep = tv(p_init, p_data), tv(p_model, p_data), tv(p_indep, p_data)
ll = trained.log_likelihood
ceiling = float((p_data[p_data > 0] * p_data[p_data > 0].log()).sum())

fig, (ax_l, ax_p) = plt.subplots(1, 2, figsize=(13, 4), gridspec_kw={"width_ratios": [1, 1.6]})
ax_l.plot(ll, color="C0", label="BM, exact gradient")
ax_l.axhline(ceiling, color="k", ls="--", lw=1.2, label=r"ceiling $-\log 10$")
ax_l.axhline(float(torch.log(p_indep[bm.state_index(bas)]).mean()), color="C1", ls=":",
             label="independent pixels")
ax_l.set_xlabel("gradient step")
ax_l.set_ylabel(r"exact $\langle \log p(v) \rangle_{data}$ (nats)")
ax_l.set_title("the exact log-likelihood rises")
ax_l.legend()
order = torch.argsort(p_data, descending=True, stable=True)
ax_p.bar(np.arange(64) - 0.2, p_data[order], width=0.4, label="data", color="0.4")
ax_p.bar(np.arange(64) + 0.2, p_model[order], width=0.4, label=f"trained BM (TV {tv_model:.3f})",
         color="C0")
ax_p.plot(np.arange(64), p_indep[order], ".", color="C1",
          label=f"independent pixels (TV {tv_indep:.3f})")
ax_p.set_xlabel("the 64 visible images (the 10 bars and stripes first)")
ax_p.set_ylabel("probability")
ax_p.set_title("learned p(v) vs the data distribution")
ax_p.legend()
plt.show()
print(f"log-likelihood: {ll[0]:.3f} -> {ll[-1]:.3f} nats (ceiling {ceiling:.3f})")
print(f"TV to the data: initial {tv_init:.3f}, trained {tv_model:.3f}, "
      f"independent pixels {tv_indep:.3f}")
mass_on_data = float(p_model[p_data > 0].sum())
assert np.all(np.diff(ll) > -1e-10), "exact gradient ascent must not decrease the likelihood"
assert ll[-1] > ll[0] + 1.0 and ll[-1] <= ceiling + 1e-9
assert tv_model < 0.25 * tv_indep and tv_model < 0.25 * tv_init
display(Markdown(
    f"The exact log-likelihood rose at every step (asserted) to {ceiling - ll[-1]:.3f} nats "
    f"below its ceiling, and the learned distribution puts {mass_on_data:.1%} of its mass on "
    f"the ten bars and stripes, against {float(p_indep[p_data > 0].sum()):.1%} for "
    f"independent pixels."))
if not FAST:  # fast mode's 400 steps stop earlier on the way
    assert mass_on_data > 0.95 and ll[-1] > ceiling - 0.1

# %% [markdown] slideshow={"slide_type": "subslide"}
# The printed summary above is this run's result: in the full run the likelihood ends within a
# tenth of a nat of its ceiling with more than 95% of the mass on the data (asserted there),
# far closer to the data than independent pixels can get. Finally, the model can
# *generate*: run heat-bath sweeps, $p(x_i{=}1\mid\text{rest}) =
# \mathrm{sigm}(u_i)$, from random states. At scale these samples are how the negative phase
# must be estimated; here we can check them against the exact $p(v)$.

# %% slideshow={"slide_type": "-"}
n_samples = config.scaled(full=4000, fast=1000)
s0 = (torch.rand(n_samples, n_units, generator=generator) < 0.5).double()
samples = bm.gibbs_sample(trained.params, s0, 50, generator)[:, :N_V]
p_gibbs = bm.empirical_distribution(samples)
tv_gibbs = tv(p_gibbs, p_model)
tv_iid = 0.5 * float(torch.sqrt(2 * p_model * (1 - p_model) / (math.pi * n_samples)).sum())
fig, ax = plt.subplots(figsize=(7, 2.6))
plotting.show_image_grid(ax, samples[:12], (2, 3), ncols=6,
                         title="12 samples from the trained Boltzmann machine (50 Gibbs sweeps "
                               "each)")
plt.show()
print(f"TV(Gibbs samples, exact model) = {tv_gibbs:.3f}; expected for {n_samples} exact draws "
      f"≈ {tv_iid:.3f}")
assert tv_gibbs < 1.5 * tv_iid + 0.01

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Why exact learning does not scale
#
# Both phases above summed over all $2^n$ joint states ($2^n$ hidden states for every data
# vector in the positive phase). Each extra unit doubles the work. Let us time the exact
# negative phase as the machine grows and extrapolate.

# %% slideshow={"slide_type": "-"}
sizes = list(range(10, config.scaled(full=21, fast=19), 2))
seconds = []
for n in tqdm(sizes, desc="timing enumeration", disable=config.progress_disabled()):
    p = bm.random_params(n // 2, n - n // 2, generator)
    best = math.inf
    for _ in range(3):  # best of three: the machine is shared
        t0 = time.perf_counter()
        bm.negative_phase(p)
        best = min(best, time.perf_counter() - t0)
    seconds.append(best)
seconds = np.array(seconds)
per_state = seconds[-1] / 2.0 ** sizes[-1]  # the cost of one state at the largest size


def log10_seconds(n):
    """Extrapolation: the same cost per state, 2^n states (optimistic: ignores the growth of
    the per-state work with n)."""
    return math.log10(per_state) + n * math.log10(2)


fig, ax = plt.subplots(figsize=(7, 3.8))
ax.semilogy(sizes, seconds, "o", label="measured (best of 3)")
n_line = np.arange(sizes[0], 41)
ax.semilogy(n_line, [10 ** log10_seconds(n) for n in n_line], "--", color="C1",
            label=f"{per_state * 1e9:.0f} ns per state × $2^n$")
ax.axhline(3600, color="0.5", lw=1)
ax.text(n_line[0], 3600 * 1.6, "one hour", color="0.4")
ax.set_xlabel("number of units n")
ax.set_ylabel("seconds for one exact negative phase")
ax.set_title(r"exact enumeration costs $\propto 2^n$")
ax.legend(loc="lower right")
plt.show()
for n in [30, 40, 64 + 16, 784 + 500]:
    log_years = log10_seconds(n) - math.log10(3600 * 24 * 365)
    print(f"n = {n:5d} units: 2^n ≈ 10^{n * math.log10(2):.0f} states, one exact negative "
          f"phase ≈ 10^{log_years:.0f} years")
growth = seconds[-1] / seconds[-4]
print(f"measured: {sizes[-4]} -> {sizes[-1]} units multiplied the time by {growth:.0f} "
      f"(the number of states by {2 ** (sizes[-1] - sizes[-4])})")
assert growth > 8, "enumeration time must grow exponentially with the number of units"
AGE_OF_UNIVERSE_YEARS = 1.38e10  # Planck Collaboration (2020)
log_years_digits = log10_seconds(64 + 16) - math.log10(3600 * 24 * 365)
verdict = ("longer" if log_years_digits > math.log10(AGE_OF_UNIVERSE_YEARS) else "shorter")
display(Markdown(
    f"By this (optimistic) extrapolation, a machine for 8×8 digits with 16 hidden units "
    f"(n = 80) needs about 10^{log_years_digits:.0f} years per exact gradient step: "
    f"**{verdict}** than the age of the universe (about 1.4 × 10^10 years), and in any case "
    f"far beyond any training budget."))
try:
    bm.random_params(784, 500)
except ValueError as err:
    print("helper refuses:", str(err)[:140], "...")

# %% [markdown] slideshow={"slide_type": "subslide"}
# At small $n$ fixed overheads can hide the growth; over the last six units the measured time
# grew by the printed factor (asserted above 8; the number of states grew 64-fold), and the
# extrapolation (which is optimistic) leaves no doubt: it multiplies the time by $2^{10} \approx
# 1000$ every ten units, and a 28×28 MNIST machine is beyond any meaningful number. Ackley,
# Hinton & Sejnowski therefore estimated both phases by
# **sampling** with simulated annealing, which is slow and noisy: each gradient step needs the
# network to reach equilibrium twice, once clamped and once free, and the difference of two noisy
# correlations is very noisy. For years this made Boltzmann machines a beautiful theory with few
# applications.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. The restriction that makes it work: the RBM
#
# Smolensky's *harmonium* (1986), now called the **restricted Boltzmann machine**, deletes the
# visible–visible and hidden–hidden connections: $W$ only couples $v$ to $h$. Then, given $v$,
# the energy $-\sum_{ij} W_{ji} h_j v_i - \dots$ is a *sum of separate terms, one per hidden
# unit*, so the hidden units are independent:
#
# $$p(h \mid v) = \prod_j p(h_j \mid v), \qquad p(h_j = 1\mid v) = \mathrm{sigm}\Big(c_j
# + \sum_i W_{ji} v_i\Big),$$
#
# with the hidden biases written $c$ and $W$ of shape $(n_h, n_v)$, the convention of notebook
# 03 and of the notation table in 00_roadmap; and symmetrically for $p(v\mid h)$. Three
# consequences: the positive phase is exact and
# cheap (no sampling at all); a whole layer can be sampled at once (**block Gibbs**: all $h$
# given $v$, then all $v$ given $h$); and summing out $h$ analytically gives the free energy and
# a partition function over only the smaller layer. We check the factorisation on our machine:
# the exact $p(h\mid v)$ by enumeration against the product of the per-unit sigmoids, with and
# without the hidden–hidden connection.

# %% slideshow={"slide_type": "-"}
def factorisation_gap(params):
    """max over v, h of |p(h | v) - Π_j p(h_j | v)|, by enumeration (p(h_j | v) its marginal)."""
    W, b = params.W, params.b
    energy = -0.5 * ((all_s @ W) * all_s).sum(1) - all_s @ b
    gap = 0.0
    for v in v_all:
        match = (all_s[:, :N_V] == v).all(1)
        h, p_h = all_s[match, N_V:], torch.softmax(-energy[match], 0)
        marginals = p_h @ h  # p(h_j = 1 | v)
        product = torch.prod(torch.where(h == 1, marginals, 1 - marginals), 1)
        gap = max(gap, float((p_h - product).abs().max()))
    return gap


restricted = trained.params.copy()
restricted.W[:N_V, :N_V] = 0.0  # no visible-visible connections
restricted.W[N_V:, N_V:] = 0.0  # no hidden-hidden connections
sigmoid_check = torch.sigmoid(restricted.b[N_V] + v_all @ restricted.W[:N_V, N_V])
full_gap, rbm_gap = factorisation_gap(trained.params), factorisation_gap(restricted)
print(f"full BM : max |p(h|v) - Π_j p(h_j|v)| = {full_gap:.3f}")
print(f"RBM     : max |p(h|v) - Π_j p(h_j|v)| = {rbm_gap:.1e}")
assert rbm_gap < 1e-12 and full_gap > 1e-3
# and in the RBM each p(h_j = 1 | v) is a sigmoid of its own input:
energy_r = -0.5 * ((all_s @ restricted.W) * all_s).sum(1) - all_s @ restricted.b
p_h0 = [float(torch.softmax(-energy_r[(all_s[:, :N_V] == v).all(1)], 0)
              @ all_s[(all_s[:, :N_V] == v).all(1), N_V]) for v in v_all]
assert np.allclose(p_h0, sigmoid_check.numpy(), atol=1e-12)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The restriction costs expressiveness per unit, but buys exact, fast conditionals — and with
# them Hinton's contrastive divergence (2002), which made Boltzmann machines practical.
# Notebook [03 · Restricted Boltzmann machines](03_restricted_boltzmann_machines.ipynb) takes
# it from here.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - A Hopfield network stores patterns as minima of $E(x) = -\tfrac12 x^\top W x$ with the Hebb
#   rule $W = \tfrac1N\sum_\mu \xi^\mu\xi^{\mu\top}$ (zero diagonal). Asynchronous updates
#   $x_i \leftarrow \mathrm{sign}(u_i)$ change the energy by $-2|u_i|$, so recall is descent to
#   a fixed point — verified on every run above.
# - Recall works at low load and fails at high load: for random patterns the measured
#   collapse lies near $\alpha_c \approx 0.138$ and approaches it from above as $N$ grows;
#   correlated patterns (like images) fail far earlier, and spurious mixture states appear.
# - Stochastic heat-bath units, $p(x_i = +1) = \mathrm{sigm}(2u_i/T)$, are the Gibbs sampler of
#   the Ising model with learned couplings; the network then defines a Boltzmann distribution, and
#   the memory melts as $T$ rises.
# - The Boltzmann machine learns that distribution: $\partial\langle\log p(v)\rangle/\partial
#   W_{ij} = \langle x_i x_j\rangle_\text{data} - \langle x_i x_j\rangle_\text{model}$. Computed
#   exactly on a 6 + 2 unit machine, the phases match autograd and finite differences, and
#   exact gradient ascent raises the exact likelihood at every step.
# - Exact phases cost $2^n$; sampled phases are slow and noisy. Removing the within-layer
#   connections (the RBM) makes the conditionals factorise and block Gibbs sampling possible.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# **1. Inverted patterns and mixtures (open).** Show that $E(-x) = E(x)$, so $-\xi^\mu$ is stored
# along
# with $\xi^\mu$. Then store three random patterns in $N = 200$ units and test whether the
# *mixture* $\mathrm{sign}(\xi^1 + \xi^2 + \xi^3)$ is a fixed point.
#
# <details><summary>Solution</summary>
#
# $E(-x) = -\tfrac12(-x)^\top W(-x) = E(x)$: the energy is quadratic without a linear term.
#
# ```python
# g = torch.Generator().manual_seed(1)
# xi = hopfield.random_patterns(3, 200, g)
# w = hopfield.hebbian_weights(xi)
# mix = torch.sign(xi.sum(0))
# print(hopfield.is_fixed_point(w, mix), hopfield.is_fixed_point(w, -xi[0]))
# print([float(hopfield.overlap(mix, x)) for x in xi])   # ≈ 0.5 each
# ```
# The symmetric three-pattern mixture is (almost always) a fixed point with overlap ≈ ½ with
# each pattern: a spurious memory created by the Hebb rule (Amit, Gutfreund & Sompolinsky 1985).
# </details>
#
# **2. Crosstalk (checked).** Write `crosstalk(patterns, nu)` that returns, for every unit $i$,
# the crosstalk term of section 3 at stored pattern $\nu$: $\xi^\nu_i u_i - (N-1)/N$, where
# $u = W\xi^\nu$ is the local field of the Hebb weights of all `patterns` (shape $(P, N)$,
# entries $\pm 1$). A unit is unstable at $\xi^\nu$ when its crosstalk is below $-(N-1)/N$.
# Then (open) compare the crosstalk of `raw_patterns[STORED]` with that of
# `digit_patterns[STORED]`, and repeat the four-digit recall of section 2 with `raw_patterns`:
# what happens, and why?
#
# <details><summary>Solution</summary>
#
# ```python
# def crosstalk(patterns, nu):
#     n = patterns.shape[1]
#     w = patterns.T @ patterns / n
#     w.fill_diagonal_(0.0)
#     return patterns[nu] * (w @ patterns[nu]) - (n - 1) / n   # remove the signal
#
# for pats in (raw_patterns, digit_patterns):
#     print([round(float(crosstalk(pats[STORED], k).abs().mean()), 2) for k in range(4)])
# w_raw = hopfield.hebbian_weights(raw_patterns[STORED])
# for k in STORED:
#     start = hopfield.corrupt(raw_patterns[k], 0.2, torch.Generator().manual_seed(k))
#     end = hopfield.recall(w_raw, start).s
#     print(k, [round(float(hopfield.overlap(end, raw_patterns[j])), 2) for j in STORED])
# ```
# Keeping the diagonal adds $P/N$ to every term; forgetting the factor $\xi^\nu_i$ mixes signal
# and crosstalk signs. The raw digits overlap strongly (shared background), so their crosstalk
# $\sum_{\mu\ne\nu}\xi^\mu_i\, m^{\mu\nu}$ is comparable with the signal: recall fails, and the
# end states overlap strongly with several digits at once (here digits 0, 1 and 2 all end in
# the same state). Capacity results for random patterns do not apply to correlated ones; remedies
# include subtracting the mean activity (what we did) and the pseudo-inverse rule (Hertz, Krogh
# & Palmer 1991, ch. 2).
# </details>

# %% slideshow={"slide_type": "skip"}
def crosstalk(patterns, nu):
    raise NotImplementedError  # your code here


checks.crosstalk(crosstalk)

# %% [markdown] slideshow={"slide_type": "-"}
# **3. Why hidden units? (open)** Train a Boltzmann machine with `N_H = 0` and with `N_H = 2` on the
# XOR data $\{(0,0,0), (0,1,1), (1,0,1), (1,1,0)\}$ (3 visible units). Compute the pairwise
# statistics $\langle v_i v_j\rangle_\text{data}$ first: what can a machine without hidden
# units learn?
#
# <details><summary>Solution</summary>
#
# ```python
# xor = torch.tensor([[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]], dtype=torch.float64)
# print(xor.T @ xor / 4)                     # 0.5 on the diagonal, 0.25 off it
# for nh in [0, 2]:
#     p0 = bm.random_params(3, nh, torch.Generator().manual_seed(0), scale=1.0)
#     res = bm.train_exact(p0, xor, 3000, learning_rate=1.0)
#     q = bm.visible_log_probs(res.params).exp()
#     print(nh, res.log_likelihood[-1], tv(q, bm.empirical_distribution(xor)))
# ```
# All means are ½ and all pairwise correlations ¼ — exactly those of 3 independent fair
# coins. A visible-only machine matches only first and second moments, so its best fit is the
# uniform distribution (TV 0.5, log-likelihood $-3\log 2$). Hidden units create an effective
# three-way interaction and can fit XOR (log-likelihood → $-2\log 2$), though training can get
# stuck near the uniform saddle point for some starting weights: try several seeds.
# </details>
#
# **4. The Hebb rule (checked).** Write `hebb(patterns)` that returns the $N \times N$ weights
# $W = \frac1N \sum_\mu \xi^\mu \xi^{\mu\top}$ with a zero diagonal, for `patterns` of shape
# $(P, N)$ with entries $\pm 1$.
#
# <details><summary>Solution</summary>
#
# ```python
# def hebb(patterns):
#     n = patterns.shape[1]
#     w = patterns.T @ patterns / n     # (N, P) @ (P, N): a sum of outer products
#     w.fill_diagonal_(0.0)             # no self-coupling
#     return w
# ```
# `patterns @ patterns.T` is the $P \times P$ matrix of overlaps between patterns, not the
# weights; keeping the diagonal adds $P/N$ to every unit's own field, a bias towards staying put.
# </details>

# %% slideshow={"slide_type": "skip"}
def hebb(patterns):
    raise NotImplementedError  # your code here


checks.hebbian_rule(hebb)

# %% [markdown] slideshow={"slide_type": "-"}
# **5. The Hopfield energy with biases (checked).** Write `energy(W, x, b)` returning
# $E(x) = -\tfrac12 x^\top W x - b^\top x$ for every row of a batch `x` of shape (batch, N).
#
# <details><summary>Solution</summary>
#
# ```python
# def energy(W, x, b):
#     return -0.5 * ((x @ W) * x).sum(1) - x @ b
# ```
# `(x @ W) * x` summed over units is $x^\top W x$ row by row; summing over the whole tensor
# instead returns one number for the batch. Without the ½ each pair would count twice.
# </details>

# %% slideshow={"slide_type": "skip"}
def energy(W, x, b):
    raise NotImplementedError  # your code here


checks.hopfield_energy(energy)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## References
#
# - R. J. Glauber (1963). Time-dependent statistics of the Ising model. *Journal of
#   Mathematical Physics* 4.
# - J. J. Hopfield (1982). Neural networks and physical systems with emergent collective
#   computational abilities. *PNAS* 79.
# - S. Kirkpatrick, C. D. Gelatt, M. P. Vecchi (1983). Optimization by simulated annealing.
#   *Science* 220.
# - G. E. Hinton, T. J. Sejnowski (1983). Optimal perceptual inference. *Proceedings of the IEEE
#   Conference on Computer Vision and Pattern Recognition*.
# - D. J. Amit, H. Gutfreund, H. Sompolinsky (1985). Storing infinite numbers of patterns in a
#   spin-glass model of neural networks. *Physical Review Letters* 55.
# - D. H. Ackley, G. E. Hinton, T. J. Sejnowski (1985). A learning algorithm for Boltzmann
#   machines. *Cognitive Science* 9.
# - G. E. Hinton, T. J. Sejnowski (1986). Learning and relearning in Boltzmann machines. In
#   *Parallel Distributed Processing*, vol. 1, MIT Press.
# - P. Smolensky (1986). Information processing in dynamical systems: foundations of harmony
#   theory. In *Parallel Distributed Processing*, vol. 1, MIT Press.
# - R. J. McEliece, E. C. Posner, E. R. Rodemich, S. S. Venkatesh (1987). The capacity of the
#   Hopfield associative memory. *IEEE Transactions on Information Theory* 33.
# - J. Hertz, A. Krogh, R. G. Palmer (1991). *Introduction to the Theory of Neural
#   Computation*. Addison-Wesley.
# - G. E. Hinton (2002). Training products of experts by minimizing contrastive divergence.
#   *Neural Computation* 14.
