"""Tests for ``ebm_helpers.energies`` against independent ground truth.

Oracles: direct formulas on tiny lists, closed-form Gaussians, thermodynamic identities checked
by finite differences, dense quadrature written here in NumPy, a transfer-matrix computation
of the Ising partition function, brute-force enumeration in pure Python, and exact samplers
judged with tolerances derived from the sample size.
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np
import pytest
import torch
from scipy import integrate, special

from ebm_helpers import energies as en
from ebm_helpers import metrics

# --------------------------------------------------------------------------------------------
# boltzmann_stats_discrete
# --------------------------------------------------------------------------------------------

TINY = np.array([0.0, 1.0, 1.0, 3.0, -0.5])


def _direct_stats(e, t):
    """Textbook formulas, no log-space tricks (fine for these small values)."""
    w = np.exp(-e / t)
    z = w.sum()
    p = w / z
    u = (p * e).sum()
    return {
        "log_z": math.log(z),
        "free_energy": -t * math.log(z),
        "mean_energy": u,
        "entropy": -(p * np.log(p)).sum(),  # Gibbs entropy, not via (U - F)/T
        "heat_capacity": ((p * e**2).sum() - u**2) / t**2,
    }


@pytest.mark.parametrize("t", [0.3, 1.0, 2.5, 10.0])
def test_discrete_stats_match_direct_formulas(t):
    st = en.boltzmann_stats_discrete(TINY, t)
    ref = _direct_stats(TINY, t)
    assert st.temperature == t
    for key, value in ref.items():
        assert getattr(st, key) == pytest.approx(value, rel=1e-12, abs=1e-12), key


@pytest.mark.parametrize("t", [0.3, 1.7])
def test_discrete_stats_degeneracy_equals_repeated_energies(t):
    levels, g = np.array([0.0, 1.0, 3.0, -0.5]), np.array([1, 2, 1, 1])
    a = en.boltzmann_stats_discrete(levels, t, degeneracy=g)
    b = en.boltzmann_stats_discrete(TINY, t)
    for key in ("log_z", "free_energy", "mean_energy", "entropy", "heat_capacity"):
        assert getattr(a, key) == pytest.approx(getattr(b, key), rel=1e-12, abs=1e-12), key


@pytest.mark.parametrize("t", [0.4, 1.0, 3.0])
def test_discrete_thermodynamic_identities(t):
    """F = U - T S; C = dU/dT; U = T² d ln Z/dT; S = -dF/dT (central differences)."""
    st = en.boltzmann_stats_discrete(TINY, t)
    assert st.free_energy == pytest.approx(st.mean_energy - t * st.entropy, rel=1e-12)
    h = 1e-5 * t

    def at(tt):
        return en.boltzmann_stats_discrete(TINY, tt)

    lo, hi = at(t - h), at(t + h)
    assert st.heat_capacity == pytest.approx((hi.mean_energy - lo.mean_energy) / (2 * h), rel=1e-7)
    assert st.mean_energy == pytest.approx(t**2 * (hi.log_z - lo.log_z) / (2 * h), rel=1e-7)
    assert st.entropy == pytest.approx(-(hi.free_energy - lo.free_energy) / (2 * h), rel=1e-7)


def test_discrete_high_temperature_limit():
    """As T → ∞ every state is equally likely: ln Z → ln(#states), S → ln(#states), U → mean E.

    |ln Z - ln n| ≤ max|E| / T, so T = 1e8 leaves an error below 1e-7.
    """
    st = en.boltzmann_stats_discrete(TINY, 1e8)
    n = TINY.size
    assert st.log_z == pytest.approx(math.log(n), abs=1e-7)
    assert st.entropy == pytest.approx(math.log(n), abs=1e-7)
    assert st.mean_energy == pytest.approx(TINY.mean(), abs=1e-6)


def test_discrete_low_temperature_limit():
    """As T → 0: U → E_min, S → ln(ground-state degeneracy), C → 0; ln Z ≈ -E_min/T + ln g₀.

    The gap to the first excited level is 0.5, so at T = 0.01 corrections are ~ e^(-50).
    """
    e = np.array([2.0, -1.0, -0.5, -1.0, 4.0])  # doubly degenerate ground state at -1
    t = 0.01
    st = en.boltzmann_stats_discrete(e, t)
    assert st.mean_energy == pytest.approx(-1.0, abs=1e-15)
    assert st.entropy == pytest.approx(math.log(2), abs=1e-12)
    assert st.heat_capacity == pytest.approx(0.0, abs=1e-12)
    assert st.log_z == pytest.approx(1.0 / t + math.log(2), rel=1e-14)


def test_discrete_huge_energy_over_temperature_does_not_overflow():
    """E/T of ±1e5: a naive sum of exp(-E/T) would underflow to 0 or overflow to inf."""
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow is benign
        st = en.boltzmann_stats_discrete([1000.0, 1001.0, 5000.0], 0.01)
        assert st.log_z == pytest.approx(-1e5 + math.log1p(math.exp(-100.0)), rel=1e-15)
        assert st.mean_energy == pytest.approx(1000.0)
        st = en.boltzmann_stats_discrete([-1e4, 0.0], 1.0)
    assert st.log_z == pytest.approx(1e4, rel=1e-15)
    assert math.isfinite(st.heat_capacity) and math.isfinite(st.entropy)


@pytest.mark.parametrize("t", [0.0, -1.0, math.nan, math.inf, -math.inf, "hot", None])
def test_discrete_bad_temperature(t):
    with pytest.raises(ValueError, match="temperature T"):
        en.boltzmann_stats_discrete(TINY, t)


@pytest.mark.parametrize(
    "energies, g",
    [([], None), ([0.0, math.nan], None), ([0.0, math.inf], None), ([0.0, 1.0], [1.0]),
     ([0.0, 1.0], [1.0, 0.0]), ([0.0, 1.0], [1.0, -2.0])],
)
def test_discrete_bad_energies_or_degeneracy(energies, g):
    with pytest.raises(ValueError):
        en.boltzmann_stats_discrete(energies, 1.0, degeneracy=g)


# --------------------------------------------------------------------------------------------
# boltzmann_stats_1d
# --------------------------------------------------------------------------------------------


def _harmonic(x):
    return 0.5 * x[:, 0] ** 2


@pytest.mark.parametrize("t", [0.1, 1.0, 5.0])
def test_1d_stats_harmonic_closed_form(t):
    """E = x²/2: p_T = N(0, T), so ln Z = ½ ln(2πT), U = T/2, C = 1/2, S = ½ ln(2πeT)."""
    st = en.boltzmann_stats_1d(_harmonic, t)
    assert st.log_z == pytest.approx(0.5 * math.log(2 * math.pi * t), abs=1e-8)
    assert st.mean_energy == pytest.approx(t / 2, rel=1e-7)
    assert st.heat_capacity == pytest.approx(0.5, rel=1e-6)
    assert st.entropy == pytest.approx(0.5 * math.log(2 * math.pi * math.e * t), abs=1e-7)
    assert st.free_energy == pytest.approx(-t * st.log_z, rel=1e-12)


def test_1d_stats_shifted_energy_and_half_line():
    """An energy offset c shifts ln Z by -c/T; restricting to x ≥ 0 halves Z."""
    st = en.boltzmann_stats_1d(lambda x: _harmonic(x) + 100.0, 0.5)
    assert st.log_z == pytest.approx(0.5 * math.log(math.pi) - 200.0, rel=1e-10)
    assert st.mean_energy == pytest.approx(100.25, rel=1e-9)
    half = en.boltzmann_stats_1d(_harmonic, 1.0, bounds=(0.0, math.inf))
    assert half.log_z == pytest.approx(0.5 * math.log(2 * math.pi) - math.log(2), abs=1e-8)


def _dense_stats_np(energy_np, t, lo=-4.0, hi=4.0, n=400_001):
    """Independent reference: trapezoid rule on a dense grid (spectrally accurate for a smooth
    integrand that is negligible at the ends)."""
    x = np.linspace(lo, hi, n)
    e = energy_np(x)
    w = np.exp(-(e - e.min()) / t)
    z = np.trapezoid(w, x)
    u = np.trapezoid(e * w, x) / z
    e2 = np.trapezoid(e**2 * w, x) / z
    log_z = math.log(z) - e.min() / t
    return log_z, u, (e2 - u * u) / t**2


@pytest.mark.parametrize("t", [0.25, 0.7, 1.0, 3.0])
def test_1d_stats_double_well_vs_dense_quadrature(t):
    barrier, tilt = 2.0, 0.5

    def e_np(x):
        return barrier * (x**2 - 1) ** 2 + tilt * x

    st = en.boltzmann_stats_1d(lambda x: e_np(x[:, 0]), t)
    log_z, u, c = _dense_stats_np(e_np, t)
    assert st.log_z == pytest.approx(log_z, abs=1e-8)
    assert st.mean_energy == pytest.approx(u, abs=1e-7)
    assert st.heat_capacity == pytest.approx(c, rel=1e-6)
    assert st.entropy == pytest.approx((u + t * log_z) / t, abs=1e-7)


def test_1d_stats_bad_input():
    with pytest.raises(ValueError, match="bounds"):
        en.boltzmann_stats_1d(_harmonic, 1.0, bounds=(1.0, -1.0))
    with pytest.raises(ValueError, match="temperature"):
        en.boltzmann_stats_1d(_harmonic, 0.0)


@pytest.mark.parametrize(
    "energy", [lambda x: 0.0 * x[:, 0], lambda x: -(x[:, 0] ** 2)], ids=["flat", "inverted"]
)
def test_1d_stats_non_integrable_weight_raises(energy):
    """exp(-E/T) with E flat or → -∞ has no finite integral over the real line: the documented
    ValueError, not a meaningless number (or an OverflowError)."""
    with pytest.raises(ValueError, match="integrate"):
        en.boltzmann_stats_1d(energy, 1.0)


# --------------------------------------------------------------------------------------------
# DoubleWell1D
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("tilt", [0.0, 0.5, -0.8])
def test_double_well_energy_and_normalisation(tilt):
    dw = en.DoubleWell1D(barrier=2.0, tilt=tilt)
    x = torch.linspace(-5, 5, 200_001, dtype=torch.float64).reshape(-1, 1)
    e = dw.energy(x)
    expected = 2.0 * (x[:, 0] ** 2 - 1) ** 2 + tilt * x[:, 0]
    assert torch.allclose(e, expected, rtol=0, atol=1e-12)
    lp = dw.log_prob(x)
    assert torch.allclose(lp, -e - dw.log_z, rtol=0, atol=1e-12)
    # trapezoid on [-5, 5]: the density there is ≤ e^(-2·24²+4) ≈ 0, and the rule is spectrally
    # accurate for this smooth integrand, so 1e-9 is generous.
    total = np.trapezoid(torch.exp(lp).numpy(), x[:, 0].numpy())
    assert total == pytest.approx(1.0, abs=1e-9)


def _moments_by_quadrature(dw):
    def p(x):
        return math.exp(float(dw.log_prob(torch.tensor([[x]], dtype=torch.float64))[0]))

    def mom(k):
        return integrate.quad(lambda x: x**k * p(x), -6, 6, points=[-1, 0, 1], limit=200)[0]

    left = integrate.quad(p, -6, 0, points=[-1], limit=200)[0]
    return mom(1), mom(2), mom(4), left


@pytest.mark.parametrize("tilt, seed", [(0.0, 0), (0.5, 1)])
def test_double_well_exact_sampler_moments(tilt, seed, make_generator):
    """Mean, second moment and left-well fraction of 40 000 exact samples agree with
    quadrature within 4 standard errors: SE(mean) = sd/√n, SE(x²) = sqrt((E x⁴ - (E x²)²)/n),
    SE(fraction) = sqrt(q(1-q)/n)."""
    dw = en.DoubleWell1D(barrier=2.0, tilt=tilt)
    n = 40_000
    x = dw.sample(n, make_generator(seed)).double()[:, 0].numpy()
    assert x.shape == (n,)
    m1, m2, m4, left = _moments_by_quadrature(dw)
    assert abs(x.mean() - m1) < 4 * math.sqrt((m2 - m1**2) / n)
    assert abs((x**2).mean() - m2) < 4 * math.sqrt((m4 - m2**2) / n)
    assert abs((x < 0).mean() - left) < 4 * math.sqrt(left * (1 - left) / n)
    if tilt > 0:
        assert left > 0.6  # the tilt makes the left well deeper (about 70 % at T = 1)


def test_double_well_sampler_histogram_and_negative_control(make_generator, tv_bound):
    """TV between the sample histogram and exact cell probabilities is within the iid bound,
    and the same bound rejects samples of a double well with a different tilt (power check)."""
    dw = en.DoubleWell1D(tilt=0.5)
    bounds, bins, n = dw.bounds, 50, 40_000
    q = metrics.cell_probs(dw.log_prob, bounds, bins)
    disc = metrics.total_variation(q, metrics.cell_probs(dw.log_prob, bounds, bins, sub=2))
    bound = tv_bound(q, n, disc)
    good = metrics.histogram_probs(dw.sample(n, make_generator(3)), bounds, bins)
    assert metrics.total_variation(good, q) < bound
    wrong = en.DoubleWell1D(tilt=0.3).sample(n, make_generator(3))
    assert metrics.total_variation(metrics.histogram_probs(wrong, bounds, bins), q) > bound


def test_double_well_bad_parameters_and_names():
    with pytest.raises(ValueError, match="barrier"):
        en.DoubleWell1D(barrier=0.0)
    with pytest.raises(ValueError, match="tilt"):
        en.DoubleWell1D(tilt=math.inf)
    assert en.get_density("double well").tilt == 0.0
    assert en.get_density("tilted double well").tilt == 0.5
    with pytest.raises(ValueError, match="unknown density"):
        en.get_density("banana")
    with pytest.raises(ValueError):
        en.DoubleWell1D().log_prob(torch.zeros(3, 2))  # wrong feature count


def test_density_sample_counts_are_validated(make_generator):
    for n in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="n"):
            en.eight_gaussians().sample(n, make_generator(0))


# --------------------------------------------------------------------------------------------
# 2D toy densities
# --------------------------------------------------------------------------------------------


def _unequal_mixture():
    return en.GaussianMixture(
        [[-1.5, 0.0], [1.0, 1.0], [0.5, -1.2]], stds=[0.3, 0.5, 0.2], weights=[6, 3, 1],
        name="unequal mixture",
    )


DENSITY_FACTORIES = {
    "8 gaussians": en.eight_gaussians,
    "two moons": en.TwoMoons,
    "rings": en.Rings,
    "spirals": en.Spirals,
    "checkerboard": en.Checkerboard,
    "unequal mixture": _unequal_mixture,
}

# Box and grid for the normalisation check: the density's bounds widened so that the mass
# outside is < 1e-9 (every smooth density here is a Gaussian blur of width σ ≥ 0.08 around
# points inside its bounds, and bounds reach ≥ 4σ beyond them; +1 more adds > 12σ), with a
# midpoint spacing h ≤ σ/2. For a Gaussian bump of width σ the midpoint rule's relative error
# is about 2 exp(-2π²σ²/h²) < 1e-15 at h = σ/2, so 1e-7 is a generous tolerance. The
# checkerboard is piecewise constant on unit squares: a grid aligned with them is exact.
SMOOTH_STD = {"8 gaussians": 0.15, "two moons": 0.1, "rings": 0.08, "spirals": 0.08,
              "unequal mixture": 0.2}


def _midpoint_integral(log_prob, bounds, h):
    """Midpoint rule for ∫∫ exp(log_prob) over a box, with cells of side ≤ h."""
    (x0, x1), (y0, y1) = bounds
    nx, ny = math.ceil((x1 - x0) / h), math.ceil((y1 - y0) / h)
    xs = x0 + (np.arange(nx) + 0.5) * (x1 - x0) / nx
    ys = y0 + (np.arange(ny) + 0.5) * (y1 - y0) / ny
    xx, yy = np.meshgrid(xs, ys, indexing="ij")
    pts = torch.as_tensor(np.stack([xx.ravel(), yy.ravel()], 1))
    with torch.no_grad():
        dens = torch.exp(log_prob(pts)).numpy()
    return dens.sum() * (x1 - x0) / nx * (y1 - y0) / ny


@functools.cache
def _fine_grid(name):
    """log p of a smooth toy density at the midpoints of the fine normalisation grid, and the
    cell area (cached: the spirals' density is the slowest to evaluate)."""
    d = DENSITY_FACTORIES[name]()
    (x0, x1), (y0, y1) = ((lo - 1.0, hi + 1.0) for lo, hi in d.bounds)
    h = SMOOTH_STD[name] / 2
    nx, ny = math.ceil((x1 - x0) / h), math.ceil((y1 - y0) / h)
    xs = x0 + (np.arange(nx) + 0.5) * (x1 - x0) / nx
    ys = y0 + (np.arange(ny) + 0.5) * (y1 - y0) / ny
    xx, yy = np.meshgrid(xs, ys, indexing="ij")
    with torch.no_grad():
        lp = d.log_prob(torch.as_tensor(np.stack([xx.ravel(), yy.ravel()], 1))).numpy()
    return lp, (x1 - x0) / nx * (y1 - y0) / ny


@pytest.mark.parametrize("name", sorted(SMOOTH_STD))
def test_smooth_toy_density_integrates_to_one(name):
    lp, cell = _fine_grid(name)
    assert np.exp(lp).sum() * cell == pytest.approx(1.0, abs=1e-7)


def test_checkerboard_integrates_to_one():
    d = en.Checkerboard()
    total = _midpoint_integral(d.log_prob, ((-3.0, 3.0), (-3.0, 3.0)), 0.05)  # aligned cells
    assert total == pytest.approx(1.0, abs=1e-12)


def _hist_setup(name):
    d = DENSITY_FACTORIES[name]()
    # For the checkerboard, align the cells with its unit squares (no cell straddles a jump).
    bounds = ((-2.0, 2.0), (-2.0, 2.0)) if name == "checkerboard" else d.bounds
    return d, bounds


@pytest.mark.parametrize("name", sorted(DENSITY_FACTORIES))
def test_toy_density_exact_samples_match_log_prob(name, make_generator, tv_bound):
    """TV(histogram of n exact samples, exact cell probabilities) ≤ 1.5 E[TV] + δ, where
    E[TV] is the iid expectation (conftest) and δ = TV(cell_probs with sub=4, with sub=2)
    bounds the midpoint-rule error of the sub=4 cell probabilities (the rule is second order,
    so that error is about δ/3)."""
    d, bounds = _hist_setup(name)
    n, bins = 20_000, 40
    q = metrics.cell_probs(d.log_prob, bounds, bins)
    disc = metrics.total_variation(q, metrics.cell_probs(d.log_prob, bounds, bins, sub=2))
    x = d.sample(n, make_generator(42))
    assert x.shape == (n, 2) and x.dtype == torch.get_default_dtype()
    tv = metrics.total_variation(metrics.histogram_probs(x, bounds, bins), q)
    assert tv < tv_bound(q, n, disc)


@pytest.mark.parametrize("name", sorted(DENSITY_FACTORIES))
def test_toy_density_mean_log_prob_of_samples_is_negative_entropy(name, make_generator):
    """E_p[log p(X)] = ∫ p log p = -H(p). The sample mean of log p over n = 20 000 exact samples
    must match the grid integral within 4 SE (SE = sample sd of log p / √n) plus the grid error
    (< 1e-6 with the grids of the normalisation test). Much more sensitive than the histogram
    to a sampler whose spread is slightly off: a 5 % too wide Gaussian component shifts the
    mean by ≈ 0.1 nats, about 14 SE."""
    d = DENSITY_FACTORIES[name]()
    x = d.sample(20_000, make_generator(7)).double()
    lp = d.log_prob(x)
    assert torch.isfinite(lp).all()

    if name == "checkerboard":
        neg_entropy = -math.log(8.0)
    else:
        grid_lp, cell = _fine_grid(name)
        neg_entropy = (np.exp(grid_lp) * grid_lp).sum() * cell
    se = lp.std().item() / math.sqrt(len(lp))
    assert abs(lp.mean().item() - neg_entropy) < 4 * se + 1e-6


def test_toy_density_histogram_test_has_power(make_generator, tv_bound):
    """Negative controls: the same bound rejects a mixture with one of the eight modes missing
    and rings sampled with a 30 % wider blur."""
    n, bins = 20_000, 40
    d = en.eight_gaussians()
    q = metrics.cell_probs(d.log_prob, d.bounds, bins)
    seven = en.GaussianMixture(d.means[1:], 0.15).sample(n, make_generator(0))
    tv = metrics.total_variation(metrics.histogram_probs(seven, d.bounds, bins), q)
    assert tv > tv_bound(q, n, 0.0)
    r = en.Rings()
    q = metrics.cell_probs(r.log_prob, r.bounds, bins)
    blurred = en.Rings(std=0.104).sample(n, make_generator(0))
    tv = metrics.total_variation(metrics.histogram_probs(blurred, r.bounds, bins), q)
    assert tv > tv_bound(q, n, 0.0)


@pytest.mark.parametrize("name", sorted(DENSITY_FACTORIES))
def test_toy_density_energy_is_minus_log_prob(name, make_generator):
    d = DENSITY_FACTORIES[name]()
    x = d.sample(500, make_generator(1)).double()
    x = torch.cat([x, torch.tensor([[2.3, -2.1], [0.0, 0.0], [5.0, 5.0]], dtype=torch.float64)])
    assert torch.equal(d.energy(x), -d.log_prob(x))
    assert d.log_prob(x).shape == (x.shape[0],)


def test_toy_densities_registry():
    table = en.toy_densities()
    assert set(table) == {"8 gaussians", "two moons", "rings", "spirals", "checkerboard"}
    for name, d in table.items():
        assert d.name == name and d.dim == 2
        assert en.get_density(name).name == name


def _mixture_log_prob_np(x, means, stds, weights):
    comps = [
        np.log(w) - ((x - m) ** 2).sum(1) / (2 * s**2) - np.log(2 * np.pi * s**2)
        for m, s, w in zip(means, stds, weights, strict=True)
    ]
    return special.logsumexp(np.stack(comps, 1), axis=1)


def test_gaussian_mixture_log_prob_formula():
    x = np.array([[0.0, 0.0], [1.0, -1.0], [-2.0, 0.3], [4.0, 4.0]])
    means, stds, weights = [[-1.5, 0.0], [1.0, 1.0], [0.5, -1.2]], [0.3, 0.5, 0.2], [0.6, 0.3, 0.1]
    ref = _mixture_log_prob_np(x, np.array(means), stds, weights)
    got = _unequal_mixture().log_prob(torch.as_tensor(x)).numpy()
    assert np.allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_gaussian_mixture_score_closed_form_vs_autograd_and_fd(make_generator):
    """The closed-form score equals autograd of log_prob (the base-class route) and central
    finite differences (step 1e-5, truncation error ~1e-10 relative to curvature 1/σ²)."""
    d = _unequal_mixture()
    x = d.sample(200, make_generator(5)).double()
    closed = d.score(x)
    auto = en.Density.score(d, x)  # autograd of log_prob
    assert torch.allclose(closed, auto, rtol=1e-10, atol=1e-10)
    h = 1e-5
    fd = torch.stack(
        [(d.log_prob(x + h * e) - d.log_prob(x - h * e)) / (2 * h) for e in torch.eye(2).double()],
        dim=1,
    )
    assert torch.allclose(closed, fd, rtol=1e-6, atol=1e-6)


def test_gaussian_mixture_responsibilities_and_validation():
    d = _unequal_mixture()
    r = d.responsibilities(torch.tensor([[-1.5, 0.0], [0.5, -1.2]], dtype=torch.float64))
    assert torch.allclose(r.sum(1), torch.ones(2, dtype=torch.float64))
    assert r[0].argmax() == 0 and r[1].argmax() == 2
    assert torch.allclose(d.weights, torch.tensor([0.6, 0.3, 0.1], dtype=torch.float64))
    with pytest.raises(ValueError, match="means"):
        en.GaussianMixture([1.0, 2.0])
    with pytest.raises(ValueError, match="stds"):
        en.GaussianMixture([[0.0, 0.0]], stds=0.0)
    with pytest.raises(ValueError, match="weights"):
        en.GaussianMixture([[0.0, 0.0], [1.0, 1.0]], weights=[1.0, -1.0])
    with pytest.raises(ValueError, match="weights"):
        en.GaussianMixture([[0.0, 0.0], [1.0, 1.0]], weights=[1.0])


def test_gaussian_mixture_zero_weight_component_never_sampled(make_generator):
    d = en.GaussianMixture([[-3.0, 0.0], [3.0, 0.0]], 0.1, weights=[1.0, 0.0])
    x = d.sample(2000, make_generator(0))
    assert (x[:, 0] < 0).all()
    assert torch.isfinite(d.log_prob(torch.tensor([[3.0, 0.0]])))


def test_eight_gaussians_unequal_weights(make_generator):
    """Unequal weights keep the ring's geometry; the sampler's mode shares follow the weights
    (multinomial standard error of a share at n = 40 000 is below 0.0021, bar 5 of them)."""
    w = np.arange(1, 9, dtype=float)
    d = en.eight_gaussians(weights=w)
    equal = en.eight_gaussians()
    assert d.name == "8 gaussians, unequal weights" and equal.name == "8 gaussians"
    assert torch.equal(d.means, equal.means) and d.bounds == equal.bounds
    assert torch.allclose(d.weights, torch.as_tensor(w / w.sum()))
    x = d.sample(40_000, make_generator(0)).double()
    share = np.bincount(torch.cdist(x, d.means).argmin(1).numpy(), minlength=8) / len(x)
    assert np.abs(share - w / w.sum()).max() < 0.0105
    # log p differs from the equal ring by log(8 w_k) at mode k's centre (overlap ~e^-50)
    diff = (d.log_prob(d.means) - equal.log_prob(d.means)).numpy()
    assert np.allclose(diff, np.log(8 * w / w.sum()), atol=1e-9)
    with pytest.raises(ValueError, match="weights"):
        en.eight_gaussians(weights=[1.0, 2.0])


@pytest.mark.parametrize("name", ["rings", "two moons", "spirals"])
def test_score_vs_autograd_and_finite_differences(name, make_generator):
    """The closed-form scores of the rings (Bessel ratio) and of the quadrature curves (one
    mixture over all nodes) equal autograd of log_prob (the base-class route) to round-off and
    central finite differences, on samples and across the plotting box (far from the mass,
    and at the origin, where the rings' score is 0 by symmetry)."""
    d = DENSITY_FACTORIES[name]()
    (x_lo, x_hi), (y_lo, y_hi) = d.bounds
    u = torch.rand(200, 2, generator=make_generator(3), dtype=torch.float64)
    box = torch.stack([x_lo + (x_hi - x_lo) * u[:, 0], y_lo + (y_hi - y_lo) * u[:, 1]], 1)
    x = torch.cat([d.sample(50, make_generator(2)).double(), box])
    closed = d.score(x)
    auto = en.Density.score(d, x)
    assert torch.allclose(closed, auto, rtol=1e-9, atol=1e-9 * float(auto.abs().max()))
    h = 1e-5
    fd = torch.stack(
        [(d.log_prob(x + h * e) - d.log_prob(x - h * e)) / (2 * h) for e in torch.eye(2).double()],
        dim=1,
    )
    assert torch.allclose(closed, fd, rtol=1e-5, atol=1e-4)
    origin = d.score(torch.zeros(1, 2, dtype=torch.float64))
    assert torch.isfinite(origin).all()
    if name == "rings":
        assert origin.abs().max() == 0
    assert d.score(x.float()).dtype == torch.float32


def test_rings_log_prob_vs_numerical_average_over_angle(make_generator):
    """Brute force: p(x) = Σ_k w_k (1/2π) ∫ N(x; r_k(cos θ, sin θ), σ² I) dθ, by the trapezoid
    rule on 4096 angles (spectrally accurate for a periodic integrand), in log space so that
    points far from the rings (where I₀ overflows naively) work too."""
    d = en.Rings()
    x = torch.cat(
        [d.sample(200, make_generator(3)).double(),
         torch.tensor([[0.0, 0.0], [3.5, 0.2], [0.1, -0.05], [-1.2, 1.25]], dtype=torch.float64)]
    ).numpy()
    theta = np.arange(4096) * (2 * np.pi / 4096)
    s2 = d.std**2
    per_ring = []
    for r, w in zip(d.radii.numpy(), d.weights.numpy(), strict=True):
        cx, cy = r * np.cos(theta), r * np.sin(theta)
        d2 = (x[:, :1] - cx) ** 2 + (x[:, 1:] - cy) ** 2
        per_ring.append(
            math.log(w) + special.logsumexp(-d2 / (2 * s2), axis=1) - math.log(theta.size)
        )
    ref = special.logsumexp(np.stack(per_ring, 1), axis=1) - math.log(2 * math.pi * s2)
    got = d.log_prob(torch.as_tensor(x)).numpy()
    assert np.allclose(got, ref, rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", ["two moons", "spirals"])
def test_noisy_curves_log_prob_vs_dense_curve_integral(name, make_generator):
    """p(x) = Σ_j w_j ∫₀¹ N(x; c_j(t), σ² I) dt; reference: midpoint rule on 200 000 nodes (the
    package uses ~1 000), at points drawn from the density and a few fixed ones."""
    d = DENSITY_FACTORIES[name]()
    x = torch.cat([d.sample(100, make_generator(4)).double(),
                   torch.tensor([[0.0, 0.0], [1.0, 0.5]], dtype=torch.float64)])
    m = 200_000
    t = (torch.arange(m, dtype=torch.float64) + 0.5) / m
    s2 = d.std**2
    terms = []
    for w, c in zip(d.weights.tolist(), d.curves(), strict=True):
        nodes = c(t)
        d2 = torch.cdist(x, nodes) ** 2
        terms.append(math.log(w) - math.log(m) + torch.logsumexp(-d2 / (2 * s2), 1))
    ref = torch.logsumexp(torch.stack(terms, 1), 1) - math.log(2 * math.pi * s2)
    assert torch.allclose(d.log_prob(x), ref, rtol=0, atol=1e-5)


def test_checkerboard_support():
    """log p = -ln 8 at the centres of the 8 dark unit squares ((row + col) even), -inf at the
    centres of the light ones and outside [-2, 2]²; the energy is +inf there."""
    d = en.Checkerboard()
    centres = torch.tensor(
        [[c - 1.5, r - 1.5] for r in range(4) for c in range(4)], dtype=torch.float64
    )
    lp = d.log_prob(centres)
    dark = torch.tensor([(r + c) % 2 == 0 for r in range(4) for c in range(4)])
    assert int(dark.sum()) == 8
    assert torch.allclose(lp[dark], torch.full((8,), -math.log(8.0), dtype=torch.float64))
    assert torch.isneginf(lp[~dark]).all()
    outside = torch.tensor([[2.5, 0.5], [-2.01, -1.5], [0.5, 2.0], [10.0, 10.0]])
    assert torch.isneginf(d.log_prob(outside)).all()
    assert torch.isposinf(d.energy(outside)).all()
    x = d.sample(5000, torch.Generator().manual_seed(0))
    assert torch.isfinite(d.log_prob(x)).all()


# --------------------------------------------------------------------------------------------
# Ising model
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("L", [2, 3, 5])
@pytest.mark.parametrize("J, h", [(1.0, 0.0), (0.7, 0.3), (-1.0, 0.2)])
def test_ising_uniform_configurations(L, J, h):
    """All up: each of the 2N bonds gives -J and each site -h: E = -2NJ - hN; all down flips
    the field term. For even L the Néel state gives +2NJ."""
    m = en.IsingModel(L, J=J, h=h)
    n = L * L
    up, down = torch.ones(1, n), -torch.ones(1, n)
    assert m.energy(up).item() == pytest.approx(-2 * n * J - h * n)
    assert m.energy(down).item() == pytest.approx(-2 * n * J + h * n)
    if L % 2 == 0:
        i, j = np.divmod(np.arange(n), L)
        neel = torch.as_tensor(((-1.0) ** (i + j)).reshape(1, n), dtype=torch.float32)
        assert m.energy(neel).item() == pytest.approx(2 * n * J)


def _brute_energy(spins, L, J, h):
    """Pure-Python energy: every site couples to its right and down neighbour (periodic)."""
    e = 0.0
    for r in range(L):
        for c in range(L):
            s = spins[r * L + c]
            e -= J * s * (spins[r * L + (c + 1) % L] + spins[((r + 1) % L) * L + c])
            e -= h * s
    return e


def test_ising_energy_matches_python_loop(make_generator):
    m = en.IsingModel(3, J=0.8, h=-0.4)
    s = m.random_spins(50, make_generator(0))
    ref = torch.tensor([_brute_energy(row.tolist(), 3, 0.8, -0.4) for row in s])
    assert torch.allclose(m.energy(s), ref.to(s.dtype), atol=1e-5)


def _transfer_matrix_log_z(L, T, J=1.0, h=0.0):
    """ln Z of the L×L periodic lattice by a row-to-row transfer matrix, in NumPy.

    A row state is σ ∈ {±1}^L. The energy splits into rows: E = Σ_r [E_row(σ_r) +
    E_between(σ_r, σ_{r+1})] (rows periodic, σ_L = σ_0) with
      E_row(σ) = -J Σ_c σ_c σ_{(c+1) mod L} - h Σ_c σ_c   (each site's right bond, and field),
      E_between(σ, τ) = -J Σ_c σ_c τ_c                    (each site's down bond).
    With T_{στ} = exp(-(E_row(σ) + E_between(σ, τ))/T), Z = Σ Π_r T_{σ_r σ_{r+1}} = Tr(T^L).
    For L = 2 the modulo makes each right bond appear twice in E_row and each pair of rows is
    joined by two factors (r → r+1 and back), which is exactly the convention of counting every
    pair twice. Computed with the largest exponent factored out to avoid overflow.
    """
    rows = np.array(list(itertools.product([-1.0, 1.0], repeat=L)))
    e_row = -J * (rows * np.roll(rows, -1, axis=1)).sum(1) - h * rows.sum(1)
    e_between = -J * rows @ rows.T
    log_t = -(e_row[:, None] + e_between) / T
    shift = log_t.max()
    power = np.linalg.matrix_power(np.exp(log_t - shift), L)
    return L * shift + math.log(np.trace(power))


ISING_PARAMS = [(1.0, 0.0), (0.7, 0.3), (-1.0, 0.2)]


@pytest.fixture(scope="module")
def ising_models():
    """IsingModel instances keyed by (L, J, h); enumeration results are cached inside."""
    return {(L, J, h): en.IsingModel(L, J=J, h=h) for L in (2, 3, 4) for J, h in ISING_PARAMS}


@pytest.mark.parametrize("L", [2, 3, 4])
@pytest.mark.parametrize("J, h", ISING_PARAMS)
@pytest.mark.parametrize("T", [1.0, 2.269, 3.5])
def test_ising_log_z_vs_transfer_matrix(ising_models, L, J, h, T):
    exact = ising_models[(L, J, h)].exact(T)
    ref = _transfer_matrix_log_z(L, T, J, h)
    assert exact["log_z"] == pytest.approx(ref, rel=1e-9)
    assert exact["free_energy"] == pytest.approx(-T * ref / L**2, rel=1e-9)


@pytest.mark.parametrize("L", [2, 3, 4])
@pytest.mark.parametrize("T", [1.5, 2.5, 3.5])
def test_ising_energy_and_heat_capacity_vs_transfer_matrix_derivatives(ising_models, L, T):
    """U = T² d ln Z/dT and C = dU/dT, with ln Z from the transfer matrix and central
    differences (step 1e-4: truncation ~1e-8, round-off ~1e-15·ln Z/h² ≈ 1e-6 for C)."""
    J, h = 0.7, 0.3
    exact = ising_models[(L, J, h)].exact(T)
    n = L * L
    step = 1e-4

    def u(tt):
        return tt**2 * (_transfer_matrix_log_z(L, tt + step, J, h)
                        - _transfer_matrix_log_z(L, tt - step, J, h)) / (2 * step)

    assert exact["energy"] == pytest.approx(u(T) / n, rel=1e-6)
    c_fd = (u(T + step) - u(T - step)) / (2 * step)
    assert exact["heat_capacity"] == pytest.approx(c_fd / n, rel=1e-4)
    assert exact["entropy"] == pytest.approx((exact["energy"] - exact["free_energy"]) / T)


@pytest.mark.parametrize("T", [1.0, 2.269, 4.0])
def test_ising_abs_magnetisation_vs_python_enumeration(T):
    """⟨|M|⟩/N for L = 3 by a plain loop over all 2^9 states with the pure-Python energy."""
    L, J, h = 3, 1.0, 0.25
    states = list(itertools.product([-1.0, 1.0], repeat=L * L))
    e = np.array([_brute_energy(s, L, J, h) for s in states])
    w = np.exp(-(e - e.min()) / T)
    abs_m = np.array([abs(sum(s)) / (L * L) for s in states])
    expected = (w * abs_m).sum() / w.sum()
    exact = en.IsingModel(L, J=J, h=h).exact(T)
    assert exact["abs_magnetisation"] == pytest.approx(expected, rel=1e-12)
    assert exact["energy"] == pytest.approx((w * e).sum() / w.sum() / (L * L), rel=1e-12)


def test_ising_density_of_states_counts():
    e, m, g = en.IsingModel(3).density_of_states()
    assert g.sum() == 2**9
    assert e.min() == -18.0 and g[e == -18.0].sum() == 2  # two ground states
    assert m.max() == 1.0


def test_ising_enumeration_limit_mentions_monte_carlo():
    m = en.IsingModel(5)
    with pytest.raises(ValueError, match=r"Monte\s+Carlo"):
        m.exact(2.0)
    with pytest.raises(ValueError, match="ising_sweeps"):
        m.all_states()
    assert m.energy(torch.ones(2, 25)).shape == (2,)  # energy itself is fine for L = 5


@pytest.mark.parametrize(
    "spins",
    [
        torch.randint(0, 2, (4, 9)).float(),  # 0/1 bits
        torch.full((2, 9), math.nan),
        torch.ones(2, 8),
        torch.ones(9),
        torch.ones(2, 3, 3),
        torch.ones(2, 9, dtype=torch.int64),
        torch.ones(2, 9) * 0.5,
    ],
    ids=["bits", "nan", "short", "1d", "3d", "int", "half"],
)
def test_ising_bad_spins(spins):
    m = en.IsingModel(3)
    with pytest.raises(ValueError):
        m.energy(spins)
    with pytest.raises(ValueError):
        m.magnetisation(spins)


def test_ising_bits_error_is_helpful():
    with pytest.raises(ValueError, match=r"2\*bits - 1"):
        en.IsingModel(3).energy(torch.zeros(1, 9))


@pytest.mark.parametrize("T", [0.0, -1.0, math.nan, math.inf])
def test_ising_bad_temperature(T):
    with pytest.raises(ValueError, match=r"temperature T.*small or large positive"):
        en.IsingModel(2).exact(T)


def test_ising_local_field_gives_flip_energy(make_generator):
    """Flipping spin i changes E by 2 s_i h_i, checked against full energy differences."""
    m = en.IsingModel(4, J=0.9, h=0.35)
    s = m.random_spins(20, make_generator(1)).double()
    hf = m.local_field(s)
    e0 = m.energy(s)
    for i in range(m.n_spins):
        flipped = s.clone()
        flipped[:, i] *= -1
        assert torch.allclose(m.energy(flipped) - e0, 2 * s[:, i] * hf[:, i], atol=1e-10)


def test_ising_misc(make_generator):
    m = en.IsingModel(3)
    s = m.random_spins(1000, make_generator(0))
    assert s.shape == (1000, 9) and set(s.unique().tolist()) == {-1.0, 1.0}
    assert abs(s.mean().item()) < 4 / math.sqrt(9000)  # fair coins: SE = 1/√(9000)
    assert torch.allclose(m.magnetisation(s), s.mean(1))
    assert m.critical_temperature == pytest.approx(2 / math.log(1 + math.sqrt(2)))
    assert en.IsingModel(3, J=2.0).critical_temperature == pytest.approx(2 * m.ONSAGER_TC)
    assert m.all_states().shape == (512, 9)
    with pytest.raises(ValueError):
        en.IsingModel(1)
    with pytest.raises(ValueError):
        en.IsingModel(3, J=math.inf)
