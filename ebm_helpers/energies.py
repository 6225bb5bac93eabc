"""Analytic energies, exactly samplable toy densities, Boltzmann statistics and the Ising model.

A Boltzmann distribution turns an energy into probabilities, ``p_T(x) = exp(-E(x)/T) / Z(T)``.
This module holds

* toy densities with a known normaliser and an *exact* sampler, for checking samplers and
  learned models against ground truth: ``DoubleWell1D``, ``GaussianMixture`` (and
  ``eight_gaussians``), ``Rings``, ``TwoMoons``, ``Spirals``, ``Checkerboard``; each exposes
  ``energy(x)``, ``log_prob(x)``, ``sample(n, generator)``, ``score(x)`` and plotting ``bounds``;
* Boltzmann statistics (log Z, free energy, mean energy, entropy, heat capacity) of a 1D energy
  by quadrature (``boltzmann_stats_1d``) and of a list of discrete energies by enumeration
  (``boltzmann_stats_discrete``);
* the 2D Ising model on an L×L periodic lattice with exact enumeration for L ≤ 4 (``IsingModel``).

Used by notebook 01 (and later by the sampler, score-matching and diffusion notebooks).
Shapes: points are (batch, dim) tensors; energies and log-densities are (batch,).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from scipy import integrate

from ._validation import (
    as_callable,
    as_generator,
    as_points,
    check_memory,
    count,
    number,
    positive,
)
from ._validation import temperature as check_temperature

__all__ = [
    "Checkerboard",
    "Density",
    "DoubleWell1D",
    "GaussianMixture",
    "IsingModel",
    "Rings",
    "Spirals",
    "ThermoStats",
    "TwoMoons",
    "boltzmann_stats_1d",
    "boltzmann_stats_discrete",
    "eight_gaussians",
    "get_density",
    "toy_densities",
]

LOG_2PI = math.log(2 * math.pi)


# --------------------------------------------------------------------------------------------
# Boltzmann statistics
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThermoStats:
    """Equilibrium statistics of a Boltzmann distribution at temperature T.

    Attributes:
        temperature: T.
        log_z: ln Z(T), with Z = Σ_x exp(-E(x)/T) (or ∫ dx for continuous x).
        free_energy: F = -T ln Z.
        mean_energy: U = ⟨E⟩.
        entropy: S = (U - F) / T  (differential entropy for continuous x).
        heat_capacity: C = Var(E) / T² = dU/dT.
    """

    temperature: float
    log_z: float
    free_energy: float
    mean_energy: float
    entropy: float
    heat_capacity: float


def boltzmann_stats_discrete(energies, temperature: float, degeneracy=None) -> ThermoStats:
    """Exact Boltzmann statistics of a finite system from its list of energies.

    Implements Z = Σ_i g_i exp(-E_i/T) in log space (shifting by the minimum energy so large
    E/T never overflows), U = Σ p_i E_i, C = (⟨E²⟩ - ⟨E⟩²)/T², S = (U - F)/T.

    Args:
        energies: 1D array of state energies (or of distinct energy levels).
        temperature: T > 0.
        degeneracy: optional 1D array of the number of states at each level (g_i).
    """
    t = check_temperature(temperature)
    try:
        e = np.asarray(energies, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as err:
        raise ValueError(f"energies must be a 1D array of numbers: {err}") from err
    if e.size == 0 or not np.isfinite(e).all():
        raise ValueError("energies must be a non-empty array of finite numbers")
    try:
        g = np.ones_like(e) if degeneracy is None else np.asarray(degeneracy, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"degeneracy must be an array of positive numbers: {err}") from err
    if g.shape != e.shape or not np.isfinite(g).all() or (g <= 0).any():
        raise ValueError("degeneracy must be positive and have the same shape as energies")
    # Everything relative to the ground state e0 and in float64 NumPy arithmetic, so that any
    # T > 0 (1e-300 as well as 1e300) gives numbers, never ZeroDivisionError/OverflowError:
    # F = e0 - T ln Σ g exp(-(E - e0)/T), U = Σ p E, S = Σ p (ln g - ln p), C = Var(E)/T².
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        e0 = e.min()
        logw = np.log(g) - (e - e0) / t
        m = logw.max()
        w = np.exp(logw - m)
        z_shift = w.sum()
        p = w / z_shift
        log_sum = m + np.log(z_shift)  # ln Σ g exp(-(E - e0)/T), finite
        f = float(e0 - t * log_sum)
        log_z = float(log_sum - e0 / t)  # ±inf only when ln Z itself exceeds the float range
        u = float((p * e).sum())
        var = float((p * (e - u) ** 2).sum())
        used = p > 0
        log_p = logw[used] - log_sum
        entropy = float((p[used] * (np.log(g[used]) - log_p)).sum())
        heat_capacity = float((np.sqrt(var) / t) ** 2) if var > 0 else 0.0
    return ThermoStats(t, log_z, f, u, entropy, heat_capacity)


def _energy_minimum_1d(energy_fn, lo: float, hi: float) -> float:
    xs = torch.linspace(lo, hi, 20001, dtype=torch.float64).reshape(-1, 1)
    with torch.no_grad():
        return float(energy_fn(xs).min())


def boltzmann_stats_1d(
    energy_fn, temperature: float = 1.0, bounds: tuple[float, float] = (-math.inf, math.inf)
) -> ThermoStats:
    """Boltzmann statistics of a 1D energy by adaptive quadrature (``scipy.integrate.quad``).

    Z(T) = ∫ exp(-E(x)/T) dx. To avoid overflow the integrand is exp(-(E(x) - E_min)/T), with
    E_min found on a grid over ``bounds`` (or over [-10, 10] for infinite bounds).

    Args:
        energy_fn: maps a (batch, 1) float64 tensor to (batch,) energies.
        temperature: T > 0.
        bounds: integration limits; infinite limits are allowed when exp(-E/T) is integrable.
    """
    as_callable(energy_fn, "energy_fn", "a function mapping (batch, 1) points to (batch,) "
                "energies")
    t = check_temperature(temperature)
    try:
        lo, hi = (float(b) for b in bounds)
    except (TypeError, ValueError) as err:
        raise ValueError(f"bounds must be (lower, upper) numbers (±inf allowed), got "
                         f"{bounds!r}") from err
    if not lo < hi:
        raise ValueError(f"bounds must satisfy lower < upper, got {bounds}")
    glo = lo if math.isfinite(lo) else -10.0
    ghi = hi if math.isfinite(hi) else 10.0
    e0 = _energy_minimum_1d(energy_fn, glo, ghi)

    def e_of(x: float) -> float:
        with torch.no_grad():
            return float(energy_fn(torch.tensor([[x]], dtype=torch.float64))[0])

    # Integrate the bulk on the grid's range, and only the tails to ±inf, so quad sees the wells.
    not_integrable = (
        "the Boltzmann weight exp(-E/T) does not integrate to a finite positive number over "
        f"{bounds} at T = {t:g}; the energy must grow at infinity (or give finite bounds), and "
        "T must not be so large that exp(-E/T) looks flat to the integrator"
    )

    def integral(g) -> float:
        total = integrate.quad(g, glo, ghi, limit=400, points=None)[0]
        # quad warns "probably divergent" on an infinite tail when exp(-E/T) is not integrable
        # there (e.g. a flat energy); its number is then meaningless, so fail instead.
        with warnings.catch_warnings():
            warnings.simplefilter("error", integrate.IntegrationWarning)
            try:
                if not math.isfinite(lo):
                    total += integrate.quad(g, -math.inf, glo, limit=200)[0]
                if not math.isfinite(hi):
                    total += integrate.quad(g, ghi, math.inf, limit=200)[0]
            except integrate.IntegrationWarning as err:
                raise ValueError(not_integrable) from err
        return total

    def w(x):
        arg = -(e_of(x) - e0) / t
        if arg > 700:  # E far below its grid minimum (E → -∞): exp would overflow
            raise ValueError(not_integrable)
        return math.exp(arg)

    z0 = integral(w)
    if z0 == 0.0:
        raise ValueError(
            f"at T = {t:g} the Boltzmann weight exp(-(E - E_min)/T) is too narrow for quadrature "
            "to find (it vanishes everywhere the integrator looks); use a larger temperature, "
            "or boltzmann_stats_discrete on the energies of a fine grid"
        )
    if not (z0 > 0 and math.isfinite(z0)):
        raise ValueError(not_integrable)
    u = integral(lambda x: e_of(x) * w(x)) / z0
    e2 = integral(lambda x: e_of(x) ** 2 * w(x)) / z0
    # F = E_min - T ln z0 and C = Var(E)/T² in NumPy float64: no ZeroDivisionError/OverflowError
    # at extreme T (T² underflows to 0 for T = 1e-200 in Python floats)
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        f = float(e0 - np.float64(t) * math.log(z0))
        log_z = float(math.log(z0) - np.float64(e0) / t)
        entropy = float((np.float64(u) - f) / t)
        var = max(e2 - u * u, 0.0)
        heat_capacity = float((np.sqrt(var) / np.float64(t)) ** 2) if var > 0 else 0.0
    return ThermoStats(t, log_z, f, u, entropy, heat_capacity)


# --------------------------------------------------------------------------------------------
# Toy densities
# --------------------------------------------------------------------------------------------


def _float_array(values, name: str) -> torch.Tensor:
    try:
        return torch.as_tensor(np.asarray(values, dtype=np.float64))
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be numbers (an array or nested list): {err}") from err


class Density:
    """A probability density p(x) = exp(-E(x)) / Z with an exact sampler.

    Subclasses implement ``log_prob`` (normalised) and ``sample``; the energy is
    E(x) = -log p(x) so that Z = 1, and ``score`` is ∇ log p(x) = -∇E(x) (autograd unless a
    closed form is given).

    Attributes:
        dim: the number of coordinates of x.
        name: a short human-readable name.
        bounds: a plotting box holding nearly all the mass, ((lo, hi),) or ((x0, x1), (y0, y1)).
    """

    dim: int = 2
    name: str = "density"
    bounds: tuple = ((-4.0, 4.0), (-4.0, 4.0))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        raise NotImplementedError  # pragma: no cover - abstract

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        """E(x) = -log p(x), shape (batch, dim) -> (batch,)."""
        return -self.log_prob(x)

    def score(self, x: torch.Tensor) -> torch.Tensor:
        """∇_x log p(x), shape (batch, dim) -> (batch, dim)."""
        x = self._check(x).detach().requires_grad_(True)
        with torch.enable_grad():
            lp = self.log_prob(x)
            if not lp.requires_grad:
                raise ValueError(
                    f"the {self.name} density is piecewise constant, so its score ∇ log p is 0 "
                    "inside its support and undefined at the edges; use sample-based methods "
                    "(diffusion, MMD), not gradient-based samplers or score matching"
                )
            (g,) = torch.autograd.grad(lp.sum(), x)
        return g

    def _check(self, x) -> torch.Tensor:
        return as_points(x, self.dim)

    def _n_samples(self, n, generator, per_sample: int = 4) -> int:
        """Check a sample count and the generator; refuse counts that would not fit in memory."""
        n = count(n, "n")
        as_generator(generator)
        check_memory(n * self.dim * per_sample, "n (draw the samples in batches)",
                     f"drawing n = {n} samples")
        return n

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class DoubleWell1D(Density):
    """A 1D double well, E(x) = barrier·(x² - 1)² + tilt·x, at temperature 1.

    With ``tilt`` > 0 the left well is deeper. The normaliser is found by quadrature, and
    ``sample`` is exact rejection sampling from a Gaussian envelope whose bound is found on a
    dense grid (the quartic decays faster than any Gaussian, so the bound exists).
    """

    dim = 1

    def __init__(self, barrier: float = 2.0, tilt: float = 0.0):
        self.barrier = positive(barrier, "barrier")
        self.tilt = number(tilt, "tilt")
        self.name = "double well" if self.tilt == 0 else "tilted double well"
        self.bounds = ((-2.5, 2.5),)
        self._log_z = boltzmann_stats_1d(self.raw_energy, 1.0).log_z
        # Gaussian envelope N(0, s²) with log M = max_x [-E(x) - log N(x; 0, s²)] (+ margin).
        self._s = 1.0
        xs = torch.linspace(-6, 6, 200001, dtype=torch.float64).reshape(-1, 1)
        log_ratio = -self.raw_energy(xs) + 0.5 * (xs[:, 0] / self._s) ** 2
        self._log_m = float(log_ratio.max()) + 1e-3

    def raw_energy(self, x: torch.Tensor) -> torch.Tensor:
        """barrier·(x²-1)² + tilt·x without input checks, (batch, 1) -> (batch,)."""
        x1 = x[:, 0]
        return self.barrier * (x1**2 - 1) ** 2 + self.tilt * x1

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        """The unnormalised energy (what a physicist writes); log_prob = -energy - log Z."""
        return self.raw_energy(self._check(x))

    @property
    def log_z(self) -> float:
        """ln Z at T = 1."""
        return self._log_z

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return -self.energy(x) - self._log_z

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        n = self._n_samples(n, generator, per_sample=8)
        out = torch.empty(0, dtype=torch.float64)
        while out.numel() < n:
            m = max(2 * (n - out.numel()), 64)
            prop = self._s * torch.randn(m, 1, generator=generator, dtype=torch.float64)
            log_acc = -self.raw_energy(prop) + 0.5 * (prop[:, 0] / self._s) ** 2 - self._log_m
            u = torch.rand(m, generator=generator, dtype=torch.float64)
            out = torch.cat([out, prop[:, 0][torch.log(u) < log_acc]])
        return out[:n].reshape(n, 1).to(torch.get_default_dtype())


class GaussianMixture(Density):
    """A mixture of isotropic Gaussians, p(x) = Σ_k w_k N(x; μ_k, σ_k² I).

    Args:
        means: (K, dim) component means.
        stds: a scalar or (K,) standard deviations.
        weights: (K,) non-negative weights (normalised here); equal weights by default.
    """

    def __init__(self, means, stds=0.2, weights=None, name: str = "Gaussian mixture"):
        mu = _float_array(means, "means")
        if mu.ndim != 2 or mu.shape[0] == 0 or mu.shape[1] == 0:
            raise ValueError(f"means must have shape (K, dim) with K ≥ 1, got {tuple(mu.shape)}")
        if not torch.isfinite(mu).all():
            raise ValueError("means must be finite numbers")
        k, self.dim = mu.shape
        sd = _float_array(stds, "stds").reshape(-1)
        if sd.numel() not in (1, k):
            raise ValueError(f"stds must be one number or one per component ({k}), got "
                             f"{sd.numel()} values")
        sd = sd.expand(k).clone()
        if not (torch.isfinite(sd).all() and (sd > 0).all()):
            raise ValueError(f"stds must be positive and finite, got {stds}")
        w = torch.ones(k, dtype=torch.float64) if weights is None else _float_array(
            weights, "weights").reshape(-1)
        if w.shape != (k,) or not torch.isfinite(w).all() or (w < 0).any() or not w.sum() > 0:
            raise ValueError(f"weights must be {k} finite non-negative numbers with a positive "
                             "sum")
        self.means, self.stds, self.weights = mu, sd, w / w.sum()
        self.name = name
        span = float(mu.abs().max() + 4 * sd.max())
        self.bounds = tuple((-span, span) for _ in range(self.dim))

    def _component_log_probs(self, x: torch.Tensor) -> torch.Tensor:
        x = self._check(x)
        mu, sd = self.means.to(x), self.stds.to(x)
        d2 = torch.cdist(x, mu) ** 2  # (batch, K)
        return (
            torch.log(self.weights.to(x))
            - 0.5 * d2 / sd**2
            - self.dim * torch.log(sd)
            - 0.5 * self.dim * LOG_2PI
        )

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return torch.logsumexp(self._component_log_probs(x), dim=1)

    def responsibilities(self, x: torch.Tensor) -> torch.Tensor:
        """p(component k | x), shape (batch, K)."""
        return torch.softmax(self._component_log_probs(x), dim=1)

    def score(self, x: torch.Tensor) -> torch.Tensor:
        """Closed form: ∇ log p(x) = Σ_k r_k(x) (μ_k - x) / σ_k²."""
        x = self._check(x)
        r = self.responsibilities(x)
        mu, var = self.means.to(x), self.stds.to(x) ** 2
        return (r / var) @ mu - (r / var).sum(dim=1, keepdim=True) * x

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        n = self._n_samples(n, generator)
        k = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        z = torch.randn(n, self.dim, generator=generator, dtype=torch.float64)
        x = self.means[k] + self.stds[k, None] * z
        return x.to(torch.get_default_dtype())


def eight_gaussians(radius: float = 2.0, std: float = 0.15, weights=None) -> GaussianMixture:
    """Eight Gaussians evenly spaced on a circle (a classic multi-modal 2D test).

    Mode k sits at angle 2πk/8. With ``weights=None`` the modes are equal ("8 gaussians");
    eight non-negative ``weights`` (normalised) give a ring with unequal modes, which tests
    whether a sampler or model gets the *relative* mass of separated modes right — on the
    symmetric ring, equal shares come for free from symmetry.
    """
    angles = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
    means = radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
    name = "8 gaussians" if weights is None else "8 gaussians, unequal weights"
    return GaussianMixture(means, std, weights=weights, name=name)


class Rings(Density):
    """Concentric rings blurred by isotropic Gaussian noise.

    Generative process: pick ring k with probability w_k (∝ radius by default, i.e. uniform along
    the total arc length), an angle θ ~ U(0, 2π), and x = r_k (cos θ, sin θ) + σ ε. Averaging the
    Gaussian over θ gives a closed form with the modified Bessel function I₀:
    p(x) = Σ_k w_k exp(-(|x|² + r_k²)/(2σ²)) I₀(|x| r_k / σ²) / (2πσ²).
    """

    def __init__(self, radii=(0.8, 1.6, 2.4), std: float = 0.08, weights=None):
        r = _float_array(radii, "radii").reshape(-1)
        if r.numel() == 0 or not torch.isfinite(r).all() or (r <= 0).any():
            raise ValueError(f"radii must be positive, got {radii}")
        w = r.clone() if weights is None else _float_array(weights, "weights").reshape(-1)
        if w.shape != r.shape or not torch.isfinite(w).all() or (w < 0).any() or not w.sum() > 0:
            raise ValueError("weights must be non-negative, one per ring, with a positive sum")
        self.radii, self.weights = r, w / w.sum()
        self.std = positive(std, "std")
        self.name = "rings"
        span = float(r.max() + 4 * self.std)
        self.bounds = ((-span, span), (-span, span))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        x = self._check(x)
        rho = x.norm(dim=1, keepdim=True)  # (batch, 1)
        r, w, s2 = self.radii.to(x), self.weights.to(x), self.std**2
        # I0(z) = i0e(z) e^z keeps the Bessel factor finite for large z.
        z = rho * r / s2
        terms = torch.log(w) - (rho - r) ** 2 / (2 * s2) + torch.log(torch.special.i0e(z))
        return torch.logsumexp(terms, dim=1) - math.log(2 * math.pi * s2)

    def score(self, x: torch.Tensor) -> torch.Tensor:
        """Closed form: ∇ log p(x) = (x/ρ) Σ_k r_k(x) [-(ρ - r_k) + r_k (I₁/I₀(ρ r_k/σ²) - 1)]/σ².

        r_k(x) is the posterior of ring k and ρ = |x|; with i0e, i1e (the exponentially scaled
        Bessel functions) the ratio I₁/I₀ = i1e/i0e stays finite. The bracket vanishes at ρ = 0,
        where the score is 0 by symmetry.
        """
        x = self._check(x)
        rho = x.norm(dim=1, keepdim=True)
        r, w, s2 = self.radii.to(x), self.weights.to(x), self.std**2
        z = rho * r / s2
        i0e = torch.special.i0e(z)
        resp = torch.softmax(torch.log(w) - (rho - r) ** 2 / (2 * s2) + torch.log(i0e), dim=1)
        d_rho = (-(rho - r) + r * (torch.special.i1e(z) / i0e - 1)) / s2  # (batch, K)
        radial = (resp * d_rho).sum(dim=1, keepdim=True)
        return radial * x / rho.clamp_min(torch.finfo(x.dtype).tiny)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        n = self._n_samples(n, generator)
        k = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        theta = 2 * math.pi * torch.rand(n, generator=generator, dtype=torch.float64)
        centre = self.radii[k, None] * torch.stack([torch.cos(theta), torch.sin(theta)], dim=1)
        x = centre + self.std * torch.randn(n, 2, generator=generator, dtype=torch.float64)
        return x.to(torch.get_default_dtype())


class _NoisyCurves(Density):
    """Points on parametric curves c_j(t), t ~ U(0, 1), blurred by isotropic Gaussian noise σ.

    p(x) = Σ_j w_j ∫₀¹ N(x; c_j(t), σ² I) dt, computed by composite Gauss–Legendre quadrature:
    panels no longer than σ along the curve, 4 nodes each (exact for polynomials of degree 7 on
    every panel; the tests check that the density integrates to one to ~1e-6).
    """

    def __init__(self, std: float, weights):
        self.std = positive(std, "std")
        self.weights = torch.as_tensor(np.asarray(weights, dtype=np.float64))
        self.weights = self.weights / self.weights.sum()
        t = torch.linspace(0, 1, 20001, dtype=torch.float64)
        lengths = [float((c(t)[1:] - c(t)[:-1]).norm(dim=1).sum()) for c in self.curves()]
        n_panels = max(16, math.ceil(max(lengths) / self.std))
        # log_prob holds 4096 × (4 nodes per panel) distances at once
        check_memory(4096 * 4 * n_panels, "the resolution by passing a larger std (≥ 1e-3)",
                     f"the quadrature of a {self.name} density with std = "
                     f"{self.std:g}")
        gl_x, gl_w = np.polynomial.legendre.leggauss(4)
        left = np.arange(n_panels)[:, None] / n_panels
        nodes_t = (left + (gl_x[None, :] + 1) / (2 * n_panels)).reshape(-1)
        weights_t = np.tile(gl_w / (2 * n_panels), n_panels)  # sums to 1
        self._t = torch.as_tensor(nodes_t)
        self._log_wt = torch.as_tensor(np.log(weights_t))
        self._nodes = [c(self._t) for c in self.curves()]  # each (M, 2)
        # all nodes as one mixture, for the closed-form score: log weight - |c_m|²/(2σ²)
        self._all_nodes = torch.cat(self._nodes)
        self._score_bias = torch.cat([math.log(w) + self._log_wt for w in self.weights]) - \
            (self._all_nodes**2).sum(1) / (2 * self.std**2)

    def curves(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        x = self._check(x)
        s2 = self.std**2
        log_wt = self._log_wt.to(x.dtype)
        out = []
        for chunk in x.split(4096):  # bounds memory at 4096 × M distances
            per_curve = []
            for w, nodes in zip(self.weights, self._nodes, strict=True):
                d2 = torch.cdist(chunk, nodes.to(x.dtype)) ** 2  # (chunk, M)
                per_curve.append(math.log(w) + torch.logsumexp(log_wt - d2 / (2 * s2), 1))
            out.append(torch.logsumexp(torch.stack(per_curve, 1), 1) - math.log(2 * math.pi * s2))
        return torch.cat(out)

    def score(self, x: torch.Tensor) -> torch.Tensor:
        """Closed form of the quadrature mixture: ∇ log p(x) = (Σ_m r_m(x) c_m - x)/σ².

        The nodes c_m of all curves form one Gaussian mixture with weights w_j·(quadrature
        weight); its responsibilities r_m ∝ exp(log weight_m - |c_m|²/(2σ²) + x·c_m/σ²) (the
        |x|² term is common to all m and cancels), so one matrix product gives the score.
        """
        x = self._check(x)
        s2 = self.std**2
        nodes, bias = self._all_nodes.to(x.dtype), self._score_bias.to(x.dtype)  # (M_all, ·)
        out = []
        for chunk in x.split(4096):
            r = torch.softmax(bias + chunk @ nodes.T / s2, dim=1)
            out.append((r @ nodes - chunk) / s2)
        return torch.cat(out)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        n = self._n_samples(n, generator)
        j = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        t = torch.rand(n, generator=generator, dtype=torch.float64)
        x = torch.empty(n, 2, dtype=torch.float64)
        for idx, c in enumerate(self.curves()):
            sel = j == idx
            x[sel] = c(t[sel])
        x += self.std * torch.randn(n, 2, generator=generator, dtype=torch.float64)
        return x.to(torch.get_default_dtype())


class TwoMoons(_NoisyCurves):
    """Two interleaved half circles (as in ``sklearn.datasets.make_moons``), centred, with noise."""

    def __init__(self, std: float = 0.1):
        self.name = "two moons"
        self.bounds = ((-2.0, 2.0), (-1.5, 1.5))
        super().__init__(std, weights=[0.5, 0.5])

    def curves(self):
        def upper(t):
            a = math.pi * t
            return torch.stack([torch.cos(a) - 0.5, torch.sin(a) - 0.25], dim=1)

        def lower(t):
            a = math.pi * t
            return torch.stack([0.5 - torch.cos(a), 0.25 - torch.sin(a)], dim=1)

        return [upper, lower]


class Spirals(_NoisyCurves):
    """Two interleaved spiral arms of 1.5 turns each: r = 0.3 + 2.2·t at angle 3π·t (+π)."""

    def __init__(self, std: float = 0.08):
        self.name = "spirals"
        self.bounds = ((-3.0, 3.0), (-3.0, 3.0))
        super().__init__(std, weights=[0.5, 0.5])

    def curves(self):
        def arm(offset):
            def c(t):
                r, a = 0.3 + 2.2 * t, 3 * math.pi * t + offset
                return torch.stack([r * torch.cos(a), r * torch.sin(a)], dim=1)

            return c

        return [arm(0.0), arm(math.pi)]


class Checkerboard(Density):
    """Uniform density on the dark squares of a 4×4 board covering [-2, 2]² (8 unit squares).

    p(x) = 1/8 on dark squares and 0 elsewhere, so the energy is +inf off the board's dark
    squares: use it with sample-based methods (diffusion, MMD), not with gradient samplers.
    """

    def __init__(self):
        self.name = "checkerboard"
        self.bounds = ((-2.2, 2.2), (-2.2, 2.2))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        x = self._check(x)
        inside = (x.abs() < 2).all(dim=1)
        cell = torch.floor(x + 2).to(torch.long)
        dark = (cell.sum(dim=1) % 2) == 0
        lp = torch.full((x.shape[0],), -math.inf, dtype=x.dtype)
        lp[inside & dark] = -math.log(8.0)
        return lp

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        n = self._n_samples(n, generator)
        sq = torch.randint(0, 8, (n,), generator=generator)
        row = sq // 2
        col = 2 * (sq % 2) + (row % 2)  # dark squares: (row + col) even
        u = torch.rand(n, 2, generator=generator, dtype=torch.float64)
        x = torch.stack([col + u[:, 0], row + u[:, 1]], dim=1) - 2
        return x.to(torch.get_default_dtype())


def toy_densities() -> dict[str, Density]:
    """The 2D toy densities by name (new instances each call)."""
    return {
        "8 gaussians": eight_gaussians(),
        "two moons": TwoMoons(),
        "rings": Rings(),
        "spirals": Spirals(),
        "checkerboard": Checkerboard(),
    }


def get_density(name: str) -> Density:
    """A toy density by name: any key of ``toy_densities()``, or 'double well' /
    'tilted double well' (1D)."""
    if name == "double well":
        return DoubleWell1D()
    if name == "tilted double well":
        return DoubleWell1D(tilt=0.5)
    table = toy_densities()
    if name not in table:
        known = ", ".join(["double well", "tilted double well", *table])
        raise ValueError(f"unknown density {name!r}; choose one of: {known}")
    return table[name]


# --------------------------------------------------------------------------------------------
# Ising model
# --------------------------------------------------------------------------------------------


class IsingModel:
    """The 2D Ising model on an L×L periodic lattice, E(s) = -J Σ_<ij> s_i s_j - h Σ_i s_i.

    Spins are ±1, stored as (batch, L*L) float tensors in row-major site order. Each site
    interacts with its right and down neighbours (periodic), so there are 2·L² bonds; for L = 2
    the wrap-around makes each neighbouring pair interact twice (the usual convention).

    Exact enumeration of all 2^(L²) states is offered for L ≤ 4 (65 536 states); larger lattices
    raise ``ValueError`` pointing to Monte Carlo (``ebm_helpers.samplers.ising_sweeps``).
    """

    #: Onsager's critical temperature of the infinite lattice for J = 1: 2 / ln(1 + √2).
    ONSAGER_TC = 2.0 / math.log(1.0 + math.sqrt(2.0))
    MAX_ENUMERATION_L = 4

    def __init__(self, L: int, J: float = 1.0, h: float = 0.0):
        self.L = count(L, "L", minimum=2)
        self.J, self.h = number(J, "J"), number(h, "h")
        check_memory(4 * self.L * self.L, "L", f"an {self.L}×{self.L} lattice's neighbour table")
        self.n_spins = self.L * self.L
        idx = torch.arange(self.n_spins).reshape(self.L, self.L)
        # neighbours of every site: right, left, down, up (periodic)
        self.neighbours = torch.stack(
            [
                torch.roll(idx, -1, dims=1).reshape(-1),
                torch.roll(idx, 1, dims=1).reshape(-1),
                torch.roll(idx, -1, dims=0).reshape(-1),
                torch.roll(idx, 1, dims=0).reshape(-1),
            ],
            dim=1,
        )
        self._levels = None

    @property
    def critical_temperature(self) -> float:
        """Onsager's T_c scaled by the coupling J (infinite lattice)."""
        return self.ONSAGER_TC * abs(self.J)

    def check_spins(self, spins) -> torch.Tensor:
        """Validate a (batch, L*L) tensor of ±1 spins."""
        s = as_points(spins, self.n_spins, name="spins")
        if not ((s == 1) | (s == -1)).all():
            raise ValueError("spins must be ±1 (use 2*bits - 1 to convert 0/1 bits)")
        return s

    def energy(self, spins: torch.Tensor) -> torch.Tensor:
        """E(s) for a batch of configurations, (batch, L*L) -> (batch,)."""
        s = self.check_spins(spins)
        right, down = self.neighbours[:, 0], self.neighbours[:, 2]
        return -self.J * (s * (s[:, right] + s[:, down])).sum(1) - self.h * s.sum(1)

    def local_field(self, spins: torch.Tensor) -> torch.Tensor:
        """h_i = J Σ_{j∈N(i)} s_j + h, (batch, L*L); flipping s_i changes E by 2 s_i h_i."""
        spins = self.check_spins(spins)
        return self.J * spins[:, self.neighbours].sum(-1) + self.h

    def magnetisation(self, spins: torch.Tensor) -> torch.Tensor:
        """Magnetisation per spin, M/N = mean_i s_i, (batch,)."""
        return self.check_spins(spins).mean(1)

    def random_spins(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n independent uniformly random configurations (the T = ∞ distribution)."""
        n = count(n, "n")
        as_generator(generator)
        check_memory(2 * n * self.n_spins, "n", f"{n} random configurations")
        bits = torch.randint(0, 2, (n, self.n_spins), generator=generator)
        return (2 * bits - 1).to(torch.get_default_dtype())

    def all_states(self) -> torch.Tensor:
        """All 2^(L²) configurations as a (2^(L²), L²) float tensor (L ≤ 4 only)."""
        if self.L > self.MAX_ENUMERATION_L:
            raise ValueError(
                f"an {self.L}×{self.L} lattice has 2^{self.n_spins} states, too many to enumerate "
                f"(the limit is L ≤ {self.MAX_ENUMERATION_L}); estimate its statistics with Monte "
                "Carlo instead: ebm_helpers.samplers.ising_sweeps"
            )
        codes = torch.arange(2**self.n_spins, dtype=torch.int64)
        bits = (codes[:, None] >> torch.arange(self.n_spins)) & 1
        return (2 * bits - 1).to(torch.float64)

    def density_of_states(self):
        """Distinct (energy, |magnetisation| per spin) levels and how many states have each.

        Returns:
            ``(energies, abs_magnetisation, counts)``, three 1D float64 numpy arrays.
        """
        if self._levels is None:
            s = self.all_states()
            e = self.energy(s).numpy()
            m = np.abs(s.mean(1).numpy())
            # group by rounded values, but keep each level's exact (unrounded) energy and |M|
            _, first, counts = np.unique(
                np.stack([e, m], 1).round(9), axis=0, return_index=True, return_counts=True
            )
            self._levels = (e[first], m[first], counts.astype(np.float64))
        return self._levels

    def exact(self, temperature: float) -> dict:
        """Exact equilibrium statistics by enumeration (L ≤ 4), per spin where noted.

        Returns:
            dict with ``log_z`` (ln Z), ``free_energy`` (F/N), ``energy`` (⟨E⟩/N),
            ``heat_capacity`` (C/N = Var(E)/(N T²)), ``abs_magnetisation`` (⟨|M|⟩/N),
            ``entropy`` (S/N).
        """
        e, m, g = self.density_of_states()
        st = boltzmann_stats_discrete(e, temperature, degeneracy=g)
        with np.errstate(over="ignore", under="ignore"):  # (e - e0)/T → inf: weight 0
            logw = np.log(g) - (e - e.min()) / st.temperature
            p = np.exp(logw - logw.max())
        p /= p.sum()
        n = self.n_spins
        return {
            "temperature": st.temperature,
            "log_z": st.log_z,
            "free_energy": st.free_energy / n,
            "energy": st.mean_energy / n,
            "heat_capacity": st.heat_capacity / n,
            "abs_magnetisation": float((p * m).sum()),
            "entropy": st.entropy / n,
        }
