"""Checkers for the exercises of notebook 07 (neural EBMs and Langevin dynamics): one step of
the unadjusted Langevin algorithm (ULA) and one step of MALA, each compared with the
package's samplers on the same random numbers."""

from __future__ import annotations

import torch

from .. import samplers
from ._core import Case, checker, close, run_cases

NOTEBOOK = "07_neural_ebm_langevin"


def _quadratic(x):
    """E(x) = |x|² / (2 · 0.5²): a narrow Gaussian."""
    return 2.0 * (x ** 2).sum(1)


def _double_well(x):
    """E(x) = (x₁² − 1)² + x₂² / 2: two wells, a non-linear gradient."""
    return (x[:, 0] ** 2 - 1) ** 2 + 0.5 * x[:, 1] ** 2


def _start(seed: int, n: int = 6):
    return 1.5 * torch.randn(n, 2, generator=torch.Generator().manual_seed(seed),
                             dtype=torch.float64)


def _ula_case(label, energy, seed, eps):
    def make():
        g = torch.Generator().manual_seed(100 + seed)
        x = _start(seed)
        xi = torch.randn(x.shape, generator=g, dtype=x.dtype)  # what samplers.langevin draws
        _SEEDS[xi.numpy().tobytes()] = 100 + seed
        return (x, energy, eps, xi), {}
    return Case(label, make=make)


@checker(NOTEBOOK)
def ula_step(candidate) -> bool:
    """``candidate(x, energy, eps, xi) -> x'``: x − ε∇E(x) + √(2ε) ξ, ξ given."""
    cases = [
        _ula_case("a narrow Gaussian, ε = 0.01", _quadratic, 0, 0.01),
        _ula_case("a double well, ε = 0.05", _double_well, 1, 0.05),
        _ula_case("a double well, ε = 0.2", _double_well, 2, 0.2),
    ]

    def reference(x, energy, eps, xi):
        return samplers.langevin(energy, x, 1, eps,
                                 generator=torch.Generator().manual_seed(_seed_of(xi))).x

    return run_cases("ula_step", candidate, reference, cases, close(rtol=1e-6, atol=1e-9),
                     hint="g = torch.autograd.grad(energy(x).sum(), x)[0] on a copy of x with "
                          "requires_grad; return x − eps·g + math.sqrt(2·eps)·xi (downhill: "
                          "minus the gradient; noise √(2ε), not √ε)")


#: the seed of each case's random stream, keyed by the noise it starts with: the reference
#: replays the package's sampler on that very stream, so both see the same ξ (and u).
_SEEDS: dict[bytes, int] = {}


def _seed_of(xi) -> int:
    return _SEEDS[xi.detach().numpy().tobytes()]


def _mala_case(label, energy, seed, eps):
    def make():
        g = torch.Generator().manual_seed(100 + seed)
        x = _start(seed, n=40)
        xi = torch.randn(x.shape, generator=g, dtype=x.dtype)  # what samplers.mala draws,
        log_u = torch.log(torch.rand(x.shape[0], generator=g, dtype=x.dtype))  # in this order
        _SEEDS[xi.numpy().tobytes()] = 100 + seed
        return (x, energy, eps, xi, log_u), {}
    return Case(label, make=make)


@checker(NOTEBOOK)
def mala_step(candidate) -> bool:
    """``candidate(x, energy, eps, xi, log_u) -> x'``: one Metropolis-adjusted Langevin step
    with the proposal noise ξ and the log-uniforms log u given (accept when log u < log α)."""
    cases = [
        _mala_case("a narrow Gaussian, ε = 0.05 (most proposals accepted)", _quadratic, 3, 0.05),
        _mala_case("a double well, ε = 0.3 (many rejections)", _double_well, 4, 0.3),
        _mala_case("a narrow Gaussian, ε = 0.4 (large steps)", _quadratic, 5, 0.4),
    ]

    def reference(x, energy, eps, xi, log_u):
        return samplers.mala(energy, x, 1, eps,
                             generator=torch.Generator().manual_seed(_seed_of(xi))).x

    return run_cases("mala_step", candidate, reference, cases, close(rtol=1e-6, atol=1e-9),
                     hint="proposal y = x − ε∇E(x) + √(2ε)ξ; log α = −E(y) + E(x) + log q(x|y) "
                          "− log q(y|x) with log q(a|b) = −|a − b + ε∇E(b)|²/(4ε); keep y "
                          "where log_u < log α, else x (row by row)")
