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
# # 01 · The Boltzmann distribution: from energy to probability
#
# Every model in this collection — Hopfield nets, Boltzmann machines, RBMs, neural EBMs,
# score-based and diffusion models — starts from one formula that physics has used since
# Boltzmann (1877) and Gibbs (1902): a system at temperature $T$ visits a state $x$ with
# probability
#
# $$p_T(x) = \frac{e^{-E(x)/T}}{Z(T)}, \qquad Z(T) = \int e^{-E(x)/T}\,dx
# \quad\Big(\text{or } \sum_x e^{-E(x)/T}\Big).$$
#
# Low energy means high probability; the temperature decides *how much* lower energy is
# preferred; and the normaliser $Z$, the **partition function**, is the source of almost every
# difficulty in energy-based modelling. This notebook makes each of those statements concrete,
# computes $Z$ exactly where we can, and samples where we cannot.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Learning goals
#
# After this notebook you can
#
# 1. turn an energy function into a probability distribution at any temperature, and predict
#    what lowering or raising $T$ does;
# 2. compute the partition function by quadrature (continuous $x$) and by enumeration
#    (discrete $x$), and from it the free energy $F$, mean energy $U$, entropy $S$ and heat
#    capacity $C$;
# 3. explain why the Metropolis algorithm samples $p_T$ **without ever knowing $Z$**, implement
#    one Metropolis step, and check a sampler against an exact density;
# 4. compute the exact thermodynamics of a 4×4 Ising model by enumerating all $2^{16}$ states,
#    compare it with Monte Carlo estimates, and locate the ferromagnetic phase transition.

# %% [markdown] slideshow={"slide_type": "notes"}
# ## Prerequisites and run time
#
# Calculus and basic probability (expectations, variance). No physics is assumed. Notebook
# [00_roadmap](00_roadmap.ipynb) explains how to run the collection and lists the notation. The
# set-up cell prints this notebook's measured run time (full and fast mode, from `make bench`);
# set `EBM_FAST=1` for a quick run with fewer samples.

# %% slideshow={"slide_type": "skip"}
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import display
from tqdm.auto import tqdm

from ebm_helpers import checks, config, energies, metrics, plotting, samplers, widgets

plotting.apply_style()
config.set_torch_threads()  # one thread: small tensors, and robust on a busy laptop
generator = config.seed_everything(0)
FAST = config.is_fast()
print(config.notebook_header("01_boltzmann_distribution"))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. From energy to probability
#
# Take a one-dimensional **tilted double well**,
# $E(x) = 2\,(x^2-1)^2 + 0.5\,x$: two valleys near $x = \pm 1$, the left one slightly deeper.
# On a fine grid $x_1, \dots, x_n$ with spacing $\Delta x$, the integral for $Z$ becomes a sum,
# and the whole distribution is three lines of code. Call $-E(x)/T$ the **logit** of $x$ (the
# logarithm of its unnormalised probability). We subtract the largest logit before
# exponentiating — the **log-sum-exp trick** — because $e^{-E/T}$ overflows or underflows for
# small $T$, while $p$ does not change if we shift every energy by the same constant.

# %% slideshow={"slide_type": "-"}
well = energies.DoubleWell1D(barrier=2.0, tilt=0.5)
x_grid = torch.linspace(-2.5, 2.5, 2001, dtype=torch.float64).reshape(-1, 1)
dx = float(x_grid[1] - x_grid[0])
energy_grid = well.energy(x_grid)  # shape (2001,)


def boltzmann_density(energy, temperature, dx):
    """p_T on a grid: exp(-E/T) / Z with Z ≈ Σ exp(-E/T) Δx, computed stably in log space."""
    logits = -energy / temperature
    log_z = torch.logsumexp(logits, dim=0) + math.log(dx)
    return torch.exp(logits - log_z), float(log_z)


temperatures = [0.25, 1.0, 4.0]
fig, (ax_e, ax_p) = plt.subplots(1, 2, figsize=(11, 3.8))
plotting.plot_energy_1d(x_grid[:, 0], energy_grid, ax=ax_e, color="C1")
ax_e.set_title("energy $E(x) = 2(x^2-1)^2 + 0.5x$")
left_mass = {}
for t in temperatures:
    p, _ = boltzmann_density(energy_grid, t, dx)
    plotting.plot_density_1d(x_grid[:, 0], p, ax=ax_p, label=f"T = {t}")
    left_mass[t] = float(p[x_grid[:, 0] < 0].sum() * dx)
ax_p.set_title("Boltzmann density $p_T(x)$ at three temperatures")
ax_p.legend()
plt.show()
for t, m in left_mass.items():
    print(f"T = {t:4}: probability of the deeper (left) well = {m:.3f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **What the figure shows.** At low temperature almost all the probability sits in the deeper
# well: the Boltzmann factor $e^{-\Delta E/T}$ turns a small energy difference into a large
# probability ratio. At high temperature the two wells are nearly equally likely (the deeper
# one holds less than 60% at $T = 4$) and the density spreads over the barrier. As $T \to 0$ the
# distribution collapses onto the global minimum
# (optimisation); as $T \to \infty$ it becomes uniform over the box (pure noise).
# The code below checks these claims rather than trusting the picture.

# %% slideshow={"slide_type": "-"}
assert left_mass[0.25] > left_mass[1.0] > left_mass[4.0] > 0.5, left_mass
assert left_mass[0.25] > 0.95, "at T = 0.25 the deeper well should hold > 95% of the mass"
assert left_mass[4.0] < 0.6, "at T = 4 the two wells are nearly equally likely"

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. The partition function, free energy and entropy
#
# $Z(T)$ is not just a normaliser: its logarithm generates the thermodynamics. With
# $\beta = 1/T$,
#
# | quantity | definition | from $\ln Z$ |
# |---|---|---|
# | free energy | $F = -T \ln Z$ | |
# | mean energy | $U = \langle E \rangle_{p_T}$ | $U = T^2\, \partial_T \ln Z$ |
# | entropy | $S = -\int p_T \ln p_T = (U - F)/T$ | $S = -\partial_T F$ |
# | heat capacity | $C = \mathrm{Var}_{p_T}(E)/T^2$ | $C = \partial_T U$ |
#
# The identity $F = U - TS$ says the distribution trades low energy against high entropy, and
# $T$ sets the exchange rate. In machine learning the same $F$ appears as the *free energy* of
# an RBM (notebook 03) and $\ln Z$ as the term that makes likelihoods hard.
#
# Our grid sum is one estimate of $\ln Z$; `energies.boltzmann_stats_1d` computes the same
# quantities with adaptive quadrature (`scipy.integrate.quad`) over the whole real line.
# They must agree.

# %% slideshow={"slide_type": "-"}
_, log_z_grid = boltzmann_density(energy_grid, 1.0, dx)
stats = energies.boltzmann_stats_1d(well.energy, temperature=1.0)
print(f"ln Z(T=1): grid sum = {log_z_grid:.6f}   adaptive quadrature = {stats.log_z:.6f}")
assert abs(log_z_grid - stats.log_z) < 1e-5

# %% [markdown] slideshow={"slide_type": "subslide"}
# Now the thermodynamic curves over a range of temperatures. We also check two identities by
# finite differences — $S = -\partial F/\partial T$ and $C = \partial U/\partial T$ — which is
# a good habit: a derivative identity catches sign and factor errors that eyeballing misses.

# %% slideshow={"slide_type": "-"}
t_curve = np.geomspace(0.1, 10, 41)
curve = [energies.boltzmann_stats_1d(well.energy, temperature=t) for t in t_curve]
F = np.array([s.free_energy for s in curve])
U = np.array([s.mean_energy for s in curve])
S = np.array([s.entropy for s in curve])
C = np.array([s.heat_capacity for s in curve])

fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
axes[0].plot(t_curve, F, label="free energy F")
axes[0].plot(t_curve, U, label="mean energy U")
axes[0].set_ylabel("energy units")
axes[0].legend()
axes[1].plot(t_curve, S, color="C2")
axes[1].set_ylabel("entropy S (nats)")
axes[2].plot(t_curve, C, color="C3")
axes[2].set_ylabel("heat capacity C")
axes[1].axhline(0, color="0.6", lw=0.8)
for ax, title in zip(axes, ["F and U", "entropy grows with T", "heat capacity"], strict=True):
    ax.set_xscale("log")
    ax.set_xlabel("temperature T")
    ax.set_title(title)
plt.show()

# identities by central differences (log-spaced grid: use np.gradient with the T values)
dF_dT = np.gradient(F, t_curve)
dU_dT = np.gradient(U, t_curve)
inner = slice(2, -2)
print("max |S + dF/dT| =", f"{np.max(np.abs(S + dF_dT)[inner]):.2e}")
print("max |C - dU/dT| / max C =", f"{np.max(np.abs(C - dU_dT)[inner]) / C.max():.2e}")
print(f"entropy: S = {S[0]:.2f} nats at T = {t_curve[0]:.1f}, {S[-1]:.2f} nats at "
      f"T = {t_curve[-1]:.0f}; negative below T = {t_curve[np.argmax(S > 0)]:.2f}")
assert np.all(np.diff(S) > 0), "entropy must increase with temperature"
assert S[0] < 0 < S[-1], "the differential entropy of a narrow density is negative"
assert np.allclose(S[inner], -dF_dT[inner], atol=0.02)
assert np.allclose(C[inner], dU_dT[inner], atol=0.02 * C.max())

# where the heat capacity peaks, against the energy gap between the two wells' minima
e_fine = well.energy(x_grid)
gap = float(e_fine[x_grid[:, 0] > 0].min() - e_fine[x_grid[:, 0] < 0].min())
t_bump = float(t_curve[np.argmax(C)])
print(f"heat capacity: peak C = {C.max():.2f} at T = {t_bump:.2f}; energy gap between the "
      f"well minima = {gap:.2f}; C = {C[0]:.2f} at T = {t_curve[0]:.1f} and {C[-1]:.2f} at "
      f"T = {t_curve[-1]:.0f}")
assert 0.2 * gap < t_bump < gap, "the bump sits at a temperature of the order of the gap"
assert C[-1] > C[-5] and C[-1] < 0.25, "at the high-T end C rises slowly toward 1/4"

# %% [markdown] slideshow={"slide_type": "subslide"}
# Three more things to notice in the curves. The entropy is *negative* at low temperature
# (printed above). For a continuous $x$, $S = -\int p \ln p$ is a **differential** entropy: it
# is measured relative to the unit of $x$, and a density narrower than one unit (here, most of
# the mass in a well of width below 1) has $\ln p > 0$ where it lives, so $S < 0$. Only
# differences of differential entropies are meaningful; the entropy of a discrete distribution
# (section 4) is never negative. The heat capacity has a bump at a temperature of the order of
# the energy gap between the two wells' minima (printed above; asserted between a fifth of the
# gap and the gap): there the shallower well starts to fill up, and raising $T$ costs extra
# energy — a two-level (Schottky) effect, a smooth cousin of the sharp peak of the *phase
# transition* in section 4. And at high $T$, $C$ does not vanish: far from the wells the
# quartic term dominates, and for $E \propto x^4$ one can show $U = T/4$, so $C \to 1/4$ as
# $T \to \infty$; at $T = 10$ it is still on its way (printed, and asserted to be rising
# toward it). Exercise 1 asks for the quadratic case.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Sampling without $Z$: the Metropolis algorithm
#
# In 1D we can integrate; in the $784$ binary pixels of an MNIST image there are $2^{784}$
# states, and no computer will ever sum over them. **Markov chain Monte Carlo** sidesteps $Z$:
# it builds a random walk whose long-run distribution is $p_T$, using only energy *differences*.
#
# Metropolis et al. (1953): from $x$, propose $x' = x + \varepsilon\,\xi$ (step size
# $\varepsilon$) with $\xi \sim
# \mathcal{N}(0, 1)$ and accept with probability
#
# $$a(x \to x') = \min\left(1, \frac{p_T(x')}{p_T(x)}\right)
#   = \min\left(1, e^{-(E(x') - E(x))/T}\right).$$
#
# $Z$ cancels in the ratio. Because the proposal is symmetric, the chain satisfies **detailed
# balance**, $p_T(x)\,q(x'|x)\,a(x\to x') = p_T(x')\,q(x|x')\,a(x'\to x)$ (both sides equal
# $q \cdot \min(p_T(x), p_T(x'))$), so $p_T$ is stationary. Here is one step, for a batch of
# independent chains:

# %% slideshow={"slide_type": "-"}
def metropolis_step(x, energy_fn, step_size, temperature, generator):
    """One random-walk Metropolis step for a batch of chains x of shape (batch, d)."""
    proposal = x + step_size * torch.randn(x.shape, generator=generator, dtype=x.dtype)
    log_accept = -(energy_fn(proposal) - energy_fn(x)) / temperature
    accept = torch.log(torch.rand(x.shape[0], generator=generator, dtype=x.dtype)) < log_accept
    return torch.where(accept[:, None], proposal, x), accept


# One chain, watched over time, at two temperatures.
n_trace = config.scaled(full=20_000, fast=4_000)
fig, axes = plt.subplots(1, 2, figsize=(12, 3.4), sharey=True)
crossings = {}
for ax, t in zip(axes, [1.0, 0.25], strict=True):
    x = torch.zeros(1, 1, dtype=torch.float64)
    trace = []
    for _ in range(n_trace):
        x, _ = metropolis_step(x, well.energy, 0.5, t, generator)
        trace.append(float(x))
    trace = np.array(trace)
    hops = int(np.sum(np.diff(np.sign(trace)) != 0))
    crossings[t] = hops
    ax.plot(trace, lw=0.6)
    ax.set_xlabel("Metropolis step")
    ax.set_title(f"T = {t}: the chain crossed x = 0 {hops} times")
axes[0].set_ylabel("x")
plt.show()
assert crossings[1.0] > 10 * crossings[0.25], crossings  # the claim of the next paragraph

# %% [markdown] slideshow={"slide_type": "subslide"}
# At $T = 1$ the chain hops between the wells all the time; at $T = 0.25$ it crosses the
# barrier more than ten times less often (the titles count the crossings, the cell asserts the
# ratio): the barrier costs $e^{-\Delta E/T}$. The chain is still *correct* —
# run long enough, it visits each well in proportion to its probability — but it **mixes
# slowly**. Slow mixing in multi-modal landscapes is the central practical difficulty of MCMC,
# and it returns in contrastive divergence (notebook 04) and in Langevin EBMs (notebook 07).
#
# To check a sampler against the truth we run **many independent chains** and compare the
# distribution of their final states with the exact density, cell by cell, with the total
# variation distance $\mathrm{TV}(p, q) = \tfrac12 \sum_i |p_i - q_i|$. Even a perfect sampler
# shows some TV from the finite sample, so we compare with the TV expected from $n$ exact,
# independent draws. The fraction $\hat q_i$ of draws in cell $i$ has mean $q_i$ and variance
# $q_i(1-q_i)/n$, and is close to normal for large $n$; for a normal error,
# $\mathbb{E}\,|\mathcal{N}(0, s^2)| = s\sqrt{2/\pi}$, so
# $\mathbb{E}\,\mathrm{TV} \approx \tfrac12 \sum_i \sqrt{q_i (1-q_i)/n}\,\sqrt{2/\pi}
# = \tfrac12 \sum_i \sqrt{2 q_i (1-q_i) / (\pi n)}$. From here on we use the tested helper
# `samplers.metropolis`, which runs the same step as above.

# %% slideshow={"slide_type": "-"}
def expected_tv(q, n):
    """Expected TV between n iid draws from q and q itself (normal approx. per cell)."""
    q = np.asarray(q, dtype=float)
    return 0.5 * np.sum(np.sqrt(2 * q * (1 - q) / (np.pi * n)))


n_chains = config.scaled(full=20_000, fast=4_000)
n_steps = config.scaled(full=2_000, fast=1_000)
bins = 50
x0 = 2.0 * torch.randn(n_chains, 1, generator=generator, dtype=torch.float64)
chain_1d = samplers.metropolis(well.energy, x0, n_steps, step_size=0.7, generator=generator)
exact_cells = metrics.cell_probs(well.log_prob, well.bounds, bins)
sample_cells = metrics.histogram_probs(chain_1d.x, well.bounds, bins)
tv_1d = metrics.total_variation(sample_cells, exact_cells)
tv_iid_1d = expected_tv(exact_cells, n_chains)
# the yardstick: TV of exact samples of the same size (20 repeats show its spread)
tv_exact_1d = np.array([
    metrics.total_variation(metrics.histogram_probs(well.sample(n_chains, generator),
                                                    well.bounds, bins), exact_cells)
    for _ in range(20)
])

centres = np.linspace(*well.bounds[0], bins + 1)
centres = 0.5 * (centres[1:] + centres[:-1])
width = centres[1] - centres[0]
fig, ax = plt.subplots(figsize=(7, 3.6))
ax.bar(centres, sample_cells / width, width=width, alpha=0.5, label="Metropolis (final states)")
ax.plot(x_grid[:, 0], torch.exp(well.log_prob(x_grid)), color="k", label="exact $p(x)$")
ax.set_xlabel("x")
ax.set_ylabel("density")
ax.set_title(f"{n_chains} chains × {n_steps} steps vs the exact density (T = 1)")
ax.legend()
plt.show()
print(f"acceptance rate: {chain_1d.acceptance_rate.mean():.2f}")
print(f"TV(Metropolis, exact) = {tv_1d:.4f}")
print(f"TV(exact sampler, exact) = {tv_exact_1d.mean():.4f} ± {tv_exact_1d.std():.4f} "
      f"(20 draws of {n_chains}); formula for {n_chains} iid draws: {tv_iid_1d:.4f}")
assert tv_1d < 1.5 * tv_iid_1d, "Metropolis should be indistinguishable from exact sampling"
# the claims of the next paragraph: within the exact sampler's spread, formula within it too
assert abs(tv_1d - tv_exact_1d.mean()) < 3 * tv_exact_1d.std()
assert abs(tv_iid_1d - tv_exact_1d.mean()) < tv_exact_1d.std()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The Metropolis histogram is as close to the exact density as an equally large exact sample
# is: its TV lies within 3 standard deviations of the exact sampler's mean TV, and the formula
# lies within one standard deviation of that mean (both asserted above).
# The same code works in any dimension; here are the two-moons density in 2D (its exact
# density is known: points on two half circles blurred by Gaussian noise) and the effect of the
# proposal's step size on the acceptance rate.

# %% slideshow={"slide_type": "-"}
moons = energies.TwoMoons()
n_chains_2d = config.scaled(full=10_000, fast=3_000)
bins_2d = 30
x0_2d = torch.randn(n_chains_2d, 2, generator=generator)
n_steps_2d = config.scaled(full=600, fast=300)
chain_2d = samplers.metropolis(moons.energy, x0_2d, n_steps_2d, step_size=0.4,
                              generator=generator)
exact_2d = metrics.cell_probs(moons.log_prob, moons.bounds, bins_2d)
tv_2d = metrics.total_variation(metrics.histogram_probs(chain_2d.x, moons.bounds, bins_2d),
                                exact_2d)
tv_iid_2d = expected_tv(exact_2d, n_chains_2d)

fig, axes = plt.subplots(1, 2, figsize=(11, 4))
plotting.plot_field_2d(lambda x: moons.log_prob(x).exp(), moons.bounds, ax=axes[0],
                       colorbar_label="density p(x)", title="exact density")
plotting.plot_samples(chain_2d.x[:3000], ax=axes[1], bounds=moons.bounds,
                      title="Metropolis final states (3000 shown)")
plt.show()
print(f"2D: TV(Metropolis, exact) = {tv_2d:.4f}; expected for {n_chains_2d} iid draws "
      f"≈ {tv_iid_2d:.4f}")
assert tv_2d < 1.5 * tv_iid_2d

step_sizes = [0.05, 0.2, 0.5, 1.0, 2.0, 4.0]
rates = [
    float(samplers.metropolis(moons.energy, chain_2d.x[:500], 100, s, generator=generator)
          .acceptance_rate.mean())
    for s in step_sizes
]
print("step size -> acceptance rate:",
      ", ".join(f"{s}: {r:.2f}" for s, r in zip(step_sizes, rates, strict=True)))
assert all(np.diff(rates) < 0), "acceptance falls as steps grow"
assert rates[0] > 0.8 and rates[-1] < 0.05, "tiny steps mostly accepted, huge ones rejected"

# %% [markdown] slideshow={"slide_type": "subslide"}
# The acceptance rate falls with every increase of the step (asserted): tiny steps are mostly
# accepted (above 80%) but move almost nowhere; huge steps go far but are almost always rejected
# (below 5%). A rule of thumb from the theory of random-walk Metropolis (Roberts, Gelman &
# Gilks 1997) is to aim for an acceptance rate of roughly 0.2–0.5.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. The 2D Ising model: exact enumeration vs Monte Carlo
#
# The Ising model (Lenz 1920, Ising 1925) is the Boltzmann distribution of binary spins
# $x_i \in \{-1, +1\}$ on a lattice,
#
# $$E(x) = -J \sum_{\langle i j \rangle} x_i x_j - B \sum_i x_i,$$
#
# with the first sum over neighbouring pairs and an external field $B$ (the helper's argument
# `h`; we keep $B = 0$). Neighbours want to align ($J > 0$). It is the
# physicist's ancestor of the Hopfield network and the Boltzmann machine (notebook 02), which
# simply let every pair have its own coupling $J_{ij}$. On an $L\times L$ lattice with periodic
# boundaries, the infinite-lattice model has a phase transition at Onsager's (1944)
# $T_c = 2J/\ln(1+\sqrt{2}) \approx 2.269$: below it the spins order (non-zero magnetisation),
# above it they are disordered.
#
# First, the energy written out, and checked against the helper on several random
# configurations (one configuration could have $E = 0$, which cannot catch a sign error):

# %% slideshow={"slide_type": "-"}
L = 4
ising = energies.IsingModel(L)
spins = ising.random_spins(6, generator).reshape(-1, L, L)
spins[0] = 1.0  # the all-up ground state, E = -2N: a sign error shows at once
# each site with its right and down neighbour (torch.roll wraps around: periodic boundaries)
e_by_hand = -(spins * torch.roll(spins, -1, dims=2) + spins * torch.roll(spins, -1, dims=1)
              ).sum(dim=(1, 2))
print(spins[1].int())
e_helper = ising.energy(spins.reshape(len(spins), -1))
print("E by hand:", e_by_hand.int().tolist())
print("helper:   ", e_helper.int().tolist())
assert torch.equal(e_by_hand.to(e_helper.dtype), e_helper) and e_helper[0] == -2 * L * L

# %% [markdown] slideshow={"slide_type": "subslide"}
# A 4×4 lattice has $2^{16} = 65\,536$ states: few enough to enumerate. `IsingModel.exact`
# groups them by energy and magnetisation (the *density of states*) and evaluates, exactly, the
# free energy, mean energy, heat capacity and mean absolute magnetisation per spin at any $T$.
# These numbers do not depend on fast or full mode, so nbval checks them against the stored
# output.

# %% slideshow={"slide_type": "-"}
# NBVAL_CHECK_OUTPUT
for t in [1.5, 2.0, ising.critical_temperature, 2.5, 3.5]:
    ex = ising.exact(t)
    print(f"T = {t:.3f}: ln Z = {ex['log_z']:9.4f}  F/N = {ex['free_energy']:.4f}  "
          f"U/N = {ex['energy']:.4f}  C/N = {ex['heat_capacity']:.4f}  "
          f"<|M|>/N = {ex['abs_magnetisation']:.4f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Now Monte Carlo. `samplers.ising_sweeps` visits the sites in turn and resamples spin $i$ from
# its conditional distribution given its neighbours — the **heat-bath** or **Gibbs** update.
# With the local field $u_i = J \sum_{j \sim i} x_j + B$, the two values $x_i = \pm 1$ have
# energies $\mp u_i$ plus terms that do not involve $x_i$, so
#
# $$p(x_i = +1 \mid \text{neighbours}) = \frac{e^{u_i/T}}{e^{u_i/T} + e^{-u_i/T}}
#   = \mathrm{sigm}(2 u_i / T), \qquad \mathrm{sigm}(a) = \frac{1}{1 + e^{-a}},$$
#
# a local computation with no $Z$ anywhere. (The same logistic function will be the activation of a
# stochastic unit in a Boltzmann machine, notebook 02.) Sites of one colour of the checkerboard
# have all their neighbours in the other colour, so the helper updates a whole colour at once.
# We run many independent chains from random configurations, let them equilibrate, and compare
# the averages over the chains' final states (independent draws, so the error bar is the
# standard error $\mathrm{sd}/\sqrt{n}$) with the exact curves.

# %% slideshow={"slide_type": "-"}
t_exact = np.linspace(1.0, 5.0, 161)
exact_curves = [ising.exact(t) for t in t_exact]
n_ising_chains = config.scaled(full=2_000, fast=400)
n_sweeps = config.scaled(full=400, fast=150)
t_mc = [1.5, 2.0, 2.25, 2.5, 3.0, 3.5, 4.5]
mc = {"energy": [], "energy_se": [], "abs_m": [], "abs_m_se": []}
for t in tqdm(t_mc, desc="Ising Monte Carlo", disable=config.progress_disabled()):
    run = samplers.ising_sweeps(ising, ising.random_spins(n_ising_chains, generator), n_sweeps,
                                temperature=t, generator=generator, method="gibbs")
    e_per_spin = ising.energy(run.x) / ising.n_spins
    abs_m = ising.magnetisation(run.x).abs()
    mc["energy"].append(float(e_per_spin.mean()))
    mc["energy_se"].append(float(e_per_spin.std() / math.sqrt(n_ising_chains)))
    mc["abs_m"].append(float(abs_m.mean()))
    mc["abs_m_se"].append(float(abs_m.std() / math.sqrt(n_ising_chains)))

fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
for ax, key, label in zip(axes, ["energy", "heat_capacity", "abs_magnetisation"],
                          ["energy per spin U/N", "heat capacity per spin C/N",
                           "mean |magnetisation| per spin"], strict=True):
    ax.plot(t_exact, [c[key] for c in exact_curves], color="k", label="exact (enumeration)")
    ax.axvline(ising.critical_temperature, color="C3", ls="--", lw=1.2,
               label="Onsager $T_c$ (infinite lattice)")
    ax.set_xlabel("temperature T")
    ax.set_ylabel(label)
axes[0].errorbar(t_mc, mc["energy"], yerr=3 * np.array(mc["energy_se"]), fmt="o", color="C0",
                 label="Gibbs sampling (±3 SE)")
axes[2].errorbar(t_mc, mc["abs_m"], yerr=3 * np.array(mc["abs_m_se"]), fmt="o", color="C0",
                 label="Gibbs sampling (±3 SE)")
axes[0].legend(fontsize=9)
axes[0].set_title("energy")
axes[1].set_title("heat capacity peaks near $T_c$")
axes[2].set_title("order parameter")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The Gibbs-sampling points sit on the exact curves. The checks, in code: every estimate lies
# within 4 standard errors of the exact value, and the heat-capacity peak of the 4×4 lattice
# lies close to Onsager's $T_c$ — on a finite lattice the transition is smoothed and shifted,
# and it sharpens toward $T_c$ as $L$ grows (exercise 4).

# %% slideshow={"slide_type": "-"}
z_scores = []
for i, t in enumerate(t_mc):
    ex = ising.exact(t)
    z_scores.append((mc["energy"][i] - ex["energy"]) / mc["energy_se"][i])
    z_scores.append((mc["abs_m"][i] - ex["abs_magnetisation"]) / mc["abs_m_se"][i])
c_curve = np.array([c["heat_capacity"] for c in exact_curves])
t_peak = float(t_exact[np.argmax(c_curve)])
print(f"largest |z| of the Monte Carlo estimates: {np.max(np.abs(z_scores)):.2f}")
print(f"4x4 heat-capacity peak at T = {t_peak:.3f}; Onsager T_c = "
      f"{ising.critical_temperature:.3f}")
assert np.max(np.abs(z_scores)) < 4, "Gibbs sampling disagrees with exact enumeration"
assert abs(t_peak - ising.critical_temperature) < 0.3

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### A pitfall: Metropolis with a fixed visiting order
#
# Why the heat bath and not the Metropolis rule of section 3? Each single-site Metropolis update
# also leaves $p_T$ invariant, so sweeping the sites in a fixed order *looks* just as correct.
# But Metropolis accepts every move with $\Delta E \le 0$ with probability one. On the 3×3
# periodic lattice, the staggered pattern (alternating spins; the odd wrap-around leaves some
# neighbours equal) has $\Delta E = 0$ at every site along the sweep, so a fixed-order sweep
# flips it deterministically into its mirror image and back, for ever: the chain can never
# leave, although all states with $E > 0$ together have a Boltzmann probability of about
# $10^{-4}$ at $T = 1.5$.
# A chain that cannot reach every state is not *ergodic*, and invariance alone proves nothing.
# Exact enumeration exposes it immediately:

# %% slideshow={"slide_type": "-"}
tiny = energies.IsingModel(3)
t_pit = 1.5
levels, _, degeneracy = tiny.density_of_states()
weights = degeneracy * np.exp(-(levels - levels.min()) / t_pit)
p_high_exact = float(weights[levels > 0].sum() / weights.sum())
n_pit = config.scaled(full=20_000, fast=5_000)
start = tiny.random_spins(n_pit, generator)
exact_u = tiny.exact(t_pit)["energy"]
print(f"3×3 lattice, T = {t_pit}: exact U/N = {exact_u:.4f}, exact P(E > 0) = {p_high_exact:.1e}")
pitfall = {}
for method in ["metropolis", "gibbs"]:
    run = samplers.ising_sweeps(tiny, start, 300, temperature=t_pit, generator=generator,
                                method=method, order="sequential")
    e = tiny.energy(run.x)
    z = float((e.mean() / tiny.n_spins - exact_u) / (e.std() / tiny.n_spins / math.sqrt(n_pit)))
    pitfall[method] = (float((e > 0).float().mean()), z)
    print(f"{method:>10}: fraction of chains with E > 0 = {pitfall[method][0]:.4f}, "
          f"z-score of U/N = {z:+.1f}")
assert pitfall["metropolis"][0] > 10 * p_high_exact + 3 * math.sqrt(p_high_exact / n_pit)
assert abs(pitfall["gibbs"][1]) < 4 and abs(pitfall["metropolis"][1]) > 4

# %% [markdown] slideshow={"slide_type": "subslide"}
# The heat bath never flips with probability one (a sigmoid is strictly between 0 and 1), so
# it cannot lock into a cycle; choosing sites at random, instead of in a fixed order, would also
# cure Metropolis. The general lesson: **test every sampler against an exact answer** on a
# problem small enough to have one.
#
# What do typical configurations look like? Exact enumeration stops at $L = 4$ (a 5×5 lattice
# already has $2^{25} \approx 3.4\times 10^7$ states, and `IsingModel(5).exact` refuses with an
# explanation), but Monte Carlo does not care about the size. Here are snapshots of a 32×32
# lattice below, near and above $T_c$ (the checkerboard updates make even a 32×32 lattice
# cheap).

# %% slideshow={"slide_type": "-"}
side = 32
big = energies.IsingModel(side)
snap_sweeps = config.scaled(full=1_000, fast=200)
fig, axes = plt.subplots(1, 3, figsize=(10, 3.6))
for ax, t in zip(axes, [1.5, 2.27, 4.0], strict=True):
    run = samplers.ising_sweeps(big, big.random_spins(1, generator), snap_sweeps, temperature=t,
                                generator=generator)
    ax.imshow(run.x.reshape(side, side), cmap=plotting.IMAGE_CMAP, vmin=-1, vmax=1)
    ax.set_title(f"T = {t}: |M|/N = {float(big.magnetisation(run.x).abs()):.2f}")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(True)
fig.suptitle(f"{side}×{side} Ising snapshots after {snap_sweeps} sweeps (black = +1, "
             "white = −1)")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Explore: the temperature explorer
#
# The static figure below shows one landscape at three temperatures, so the lesson survives in
# a PDF or on a page without a running kernel. Underneath it, the interactive explorer: drag
# the slider (log scale, $T$ from 0.1 to 10) and choose a landscape. For the 2D densities the
# energy is $E = -\ln p$, so $p_T \propto p^{1/T}$: cooling sharpens every mode, heating melts
# them together. Both are drawn by the same pure function, `widgets.temperature_figure`.

# %% slideshow={"slide_type": "-"}
display(widgets.temperature_panels("8 gaussians", temperatures=(0.3, 1.0, 3.0)))

# %% slideshow={"slide_type": "subslide"}
widgets.temperature_explorer(landscape="tilted double well", temperature=1.0)

# %% [markdown] slideshow={"slide_type": "notes"}
# Things to try: on the tilted double well, find the temperature at which the right well holds
# about a quarter of the mass; on *rings* (each ring's weight is proportional to its length, so
# its density along the arc is about the same), predict whether cooling moves mass between the
# rings, then check; on *8 gaussians*, notice that the modes stay put and only sharpen —
# temperature changes weights and widths, never locations.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - An energy $E(x)$ defines a family of distributions $p_T(x) = e^{-E(x)/T}/Z(T)$. Low energy
#   = high probability; $T$ sets how strongly. $T \to 0$ is optimisation, $T \to \infty$ is
#   uniform noise.
# - The partition function $Z$ normalises, and $\ln Z$ generates the thermodynamics: $F = -T\ln
#   Z$, $U = T^2 \partial_T \ln Z$, $S = (U - F)/T$, $C = \mathrm{Var}(E)/T^2$. We computed it
#   by quadrature (1D) and by enumeration (4×4 Ising) and verified the identities numerically.
# - Metropolis sampling needs only energy *differences*, so it works when $Z$ is unknown; it is
#   exact in the long run but can mix slowly across energy barriers, especially at low $T$.
# - Check samplers against ground truth: many independent chains, a distance to the exact
#   density (TV), and the same distance for an exact sample of equal size as the yardstick.
# - The 4×4 Ising model shows a smoothed phase transition whose heat-capacity peak lies near
#   Onsager's $T_c \approx 2.269$; Gibbs sampling agrees with enumeration within its error bars,
#   while fixed-order Metropolis on the 3×3 lattice is provably stuck — found by comparing with
#   the exact answer.
#
# Next: [02 · Hopfield networks and Boltzmann machines](02_hopfield_and_boltzmann_machines.ipynb)
# replace the lattice's uniform $J$ by learned couplings $J_{ij}$, turning the Ising model into
# a memory and then into a generative model.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# **1. Equipartition (open).** For the harmonic energy $E(x) = x^2/2$ derive $Z(T)$, $F$, $U$, $S$
# and $C$ in closed form, then check your formulas with `energies.boltzmann_stats_1d`.
#
# <details><summary>Solution</summary>
#
# $Z = \int e^{-x^2/(2T)}dx = \sqrt{2\pi T}$, so $F = -\tfrac{T}{2}\ln(2\pi T)$,
# $U = T^2 \partial_T \ln Z = T/2$ (equipartition: $T/2$ per quadratic degree of freedom),
# $S = (U-F)/T = \tfrac12(1 + \ln 2\pi T)$ and $C = 1/2$.
#
# ```python
# for t in [0.5, 1.0, 2.0]:
#     s = energies.boltzmann_stats_1d(lambda x: 0.5 * x[:, 0] ** 2, temperature=t)
#     print(t, s.log_z - 0.5 * math.log(2 * math.pi * t), s.mean_energy - t / 2,
#           s.heat_capacity - 0.5)   # all ≈ 0
# ```
# </details>
#
# **2. Boltzmann probabilities, stably (checked).** Write `boltzmann_probs(e, temperature)` that
# returns
# the probabilities $p_i = e^{-E_i/T}/Z$ of a finite set of states (a 1D float64 tensor of
# energies) and $\ln Z$, using the log-sum-exp trick of section 1. It must work for energies
# around $\pm 1000$.
#
# <details><summary>Solution</summary>
#
# ```python
# def boltzmann_probs(e, temperature):
#     logits = -e / temperature
#     log_z = torch.logsumexp(logits, 0)      # = m + log Σ exp(logits − m), m = max logit
#     return torch.exp(logits - log_z), log_z
# ```
# The naive `w = torch.exp(-e / temperature); w / w.sum()` gives `nan` when every $e^{-E/T}$
# underflows to 0 (energies around 1000) or overflows to inf (energies around −800).
# </details>

# %% slideshow={"slide_type": "skip"}
def boltzmann_probs(e, temperature):
    raise NotImplementedError  # your code here


checks.boltzmann_probabilities(boltzmann_probs)

# %% [markdown] slideshow={"slide_type": "-"}
# **3. One Metropolis step (checked).** Write `accept_reject(energy, x, proposal, u, temperature)`:
# for a
# batch of chains `x` (batch, d) with proposals `proposal` (batch, d) and uniform numbers `u`
# (batch,), return the new states: the proposal in the rows where
# $u < e^{-(E(x') - E(x))/T}$, the old state elsewhere. (Section 3's `metropolis_step` draws
# the proposal and `u` itself; here they are given, so the answer is checkable.)
#
# <details><summary>Solution</summary>
#
# ```python
# def accept_reject(energy, x, proposal, u, temperature):
#     delta = energy(proposal) - energy(x)
#     accept = torch.log(u) < -delta / temperature   # the same test in log space
#     return torch.where(accept[:, None], proposal, x)
# ```
# A sign error (`+delta`) accepts uphill moves and rejects downhill ones: the chain then
# samples $e^{+E/T}$. Forgetting $T$ samples the $T = 1$ distribution at every temperature.
# </details>

# %% slideshow={"slide_type": "skip"}
def accept_reject(energy, x, proposal, u, temperature):
    raise NotImplementedError  # your code here


checks.metropolis_step(accept_reject)

# %% [markdown] slideshow={"slide_type": "-"}
# **4. Finite-size scaling (open).** Enumerate the 2×2 and 3×3 lattices too
# (`energies.IsingModel(L)`)
# and plot $C/N$ against $T$ for $L = 2, 3, 4$. How do the height and position of the peak
# change with $L$?
#
# <details><summary>Solution</summary>
#
# ```python
# ts = np.linspace(1.0, 5.0, 161)
# for L_ in [2, 3, 4]:
#     m = energies.IsingModel(L_)
#     plt.plot(ts, [m.exact(t)["heat_capacity"] for t in ts], label=f"L = {L_}")
# plt.axvline(m.critical_temperature, ls="--"); plt.legend(); plt.xlabel("T"); plt.ylabel("C/N")
# ```
# The peak grows and moves toward $T_c$ as $L$ increases; on the infinite lattice $C$ diverges
# logarithmically at $T_c$ (Onsager 1944). The $L = 3$ ferromagnet is not frustrated (its
# ground states are the two aligned states, as for every $L$); only its staggered state is
# special, the trap of section 4's pitfall.
# </details>
#
# **5. A constant shift (open).** Add a constant $c$ to an energy. What happens to $p_T$, $Z$, $F$
# and
# $S$? Why does this make the log-sum-exp trick legitimate?
#
# <details><summary>Solution</summary>
#
# $e^{-(E+c)/T} = e^{-c/T} e^{-E/T}$, so $Z \to e^{-c/T}Z$ and $p_T$ is unchanged; $F \to F + c$
# and $U \to U + c$, so $S = (U-F)/T$ is unchanged. Subtracting the largest logit is exactly such
# a shift: it changes nothing we compute except an additive constant that we add back to $\ln Z$.
# </details>

# %% [markdown] slideshow={"slide_type": "slide"}
# ## References
#
# - L. Boltzmann (1877). Über die Beziehung zwischen dem zweiten Hauptsatze der mechanischen
#   Wärmetheorie und der Wahrscheinlichkeitsrechnung. *Wiener Berichte* 76.
# - J. W. Gibbs (1902). *Elementary Principles in Statistical Mechanics*. Scribner.
# - E. Ising (1925). Beitrag zur Theorie des Ferromagnetismus. *Zeitschrift für Physik* 31.
# - L. Onsager (1944). Crystal statistics. I. A two-dimensional model with an order-disorder
#   transition. *Physical Review* 65.
# - N. Metropolis, A. Rosenbluth, M. Rosenbluth, A. Teller, E. Teller (1953). Equation of state
#   calculations by fast computing machines. *J. Chemical Physics* 21.
# - W. K. Hastings (1970). Monte Carlo sampling methods using Markov chains and their
#   applications. *Biometrika* 57.
# - G. O. Roberts, A. Gelman, W. R. Gilks (1997). Weak convergence and optimal scaling of random
#   walk Metropolis algorithms. *Annals of Applied Probability* 7.
# - D. J. C. MacKay (2003). *Information Theory, Inference, and Learning Algorithms*, chapters
#   29–31. Cambridge University Press.
# - Y. LeCun, S. Chopra, R. Hadsell, M. Ranzato, F. J. Huang (2006). A tutorial on energy-based
#   learning. In *Predicting Structured Data*, MIT Press.
