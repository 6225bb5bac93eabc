"""Checkers for the exercises of notebook 01 (the Boltzmann distribution): the Boltzmann
probabilities with a stable log-sum-exp, and one Metropolis accept/reject step."""

from __future__ import annotations

import numpy as np
import torch

from .. import energies
from ._core import Case, checker, close, run_cases

NOTEBOOK = "01_boltzmann_distribution"


def _boltzmann_reference(e, temperature):
    """(p, log Z): log Z from the tested ``energies.boltzmann_stats_discrete``, p = e^{-E/T}/Z."""
    e = torch.as_tensor(e, dtype=torch.float64)
    log_z = energies.boltzmann_stats_discrete(e.numpy(), temperature).log_z
    return torch.exp(-e / temperature - log_z), torch.tensor(log_z, dtype=torch.float64)


@checker(NOTEBOOK)
def boltzmann_probabilities(candidate) -> bool:
    """``candidate(e, temperature) -> (p, log_z)`` for a 1D float64 tensor of energies."""
    e3 = torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64)
    cases = [
        Case("three states E = 0, 1, 2 at T = 1", (e3, 1.0)),
        Case("the same at T = 0.5", (e3, 0.5)),
        Case("the same at T = 10 (nearly uniform)", (e3, 10.0)),
        Case("one state", (torch.tensor([3.0], dtype=torch.float64), 1.0)),
        Case("negative energies E = −1, −2, −5 at T = 1",
             (torch.tensor([-1.0, -2.0, -5.0], dtype=torch.float64), 1.0)),
        Case("energies 1000, 1001, 1003 at T = 1: e^{−E/T} underflows unless you shift",
             (torch.tensor([1000.0, 1001.0, 1003.0], dtype=torch.float64), 1.0)),
        Case("energies −800, −799 at T = 1: e^{−E/T} overflows unless you shift",
             (torch.tensor([-800.0, -799.0], dtype=torch.float64), 1.0)),
    ]
    return run_cases("boltzmann_probabilities", candidate, _boltzmann_reference, cases,
                     close(rtol=1e-9, atol=1e-12),
                     hint="logits = −E/T; log Z = m + log Σ exp(logits − m) with m = max(logits) "
                          "(torch.logsumexp does this); p = exp(logits − log Z)")


def _metropolis_reference(energy, x, proposal, u, temperature):
    """Accept row i when u_i < exp(−(E(x'_i) − E(x_i))/T), i.e. log u_i < −ΔE_i/T."""
    delta = energy(proposal) - energy(x)
    accept = torch.log(u) < -delta / temperature
    return torch.where(accept[:, None], proposal, x)


def _double_well(x):
    """E(x) = (x² − 1)² · 2 per row of a (batch, 1) tensor (the notebook's double well)."""
    return 2.0 * (x[:, 0] ** 2 - 1.0) ** 2


def _quadratic_2d(x):
    return 0.5 * (x ** 2).sum(1)


@checker(NOTEBOOK)
def metropolis_step(candidate) -> bool:
    """``candidate(energy, x, proposal, u, temperature) -> x_new``: one accept/reject step."""
    x = torch.tensor([[0.0], [1.0], [1.0], [-1.0], [0.5]], dtype=torch.float64)
    prop = torch.tensor([[1.0], [0.0], [0.2], [1.0], [0.6]], dtype=torch.float64)
    # ΔE per row: −2 (downhill), +2, +1.84, 0 (equal energy), −0.31 (downhill). The u's sit on
    # both sides of the thresholds exp(−ΔE/T), so a sign error or a forgotten T changes a row.
    d = (_double_well(prop) - _double_well(x)).numpy()
    u_at_t1 = torch.tensor(np.clip(np.exp(-d) * np.array([0.5, 1.3, 0.7, 0.5, 1.2]), 0.01, 0.99))
    u_at_t3 = torch.tensor(np.clip(np.exp(-d / 3) * np.array([0.5, 0.9, 1.1, 0.5, 0.8]),
                                   0.01, 0.99))
    g = torch.Generator().manual_seed(5)
    x2 = torch.randn(40, 2, generator=g, dtype=torch.float64)
    p2 = x2 + 0.8 * torch.randn(40, 2, generator=g, dtype=torch.float64)
    u2 = torch.rand(40, generator=g, dtype=torch.float64)
    cases = [
        Case("five 1D double-well moves at T = 1 (downhill, uphill, equal energy)",
             (_double_well, x, prop, u_at_t1, 1.0)),
        Case("the same moves at T = 3 (uphill moves accepted more often)",
             (_double_well, x, prop, u_at_t3, 3.0)),
        Case("40 random moves of a 2D Gaussian energy at T = 0.5",
             (_quadratic_2d, x2, p2, u2, 0.5)),
    ]
    return run_cases("metropolis_step", candidate, _metropolis_reference, cases,
                     close(rtol=0, atol=1e-12),
                     hint="ΔE = E(proposal) − E(x); accept where u < exp(−ΔE/T) (downhill "
                          "moves always); keep x in the rejected rows: "
                          "torch.where(accept[:, None], proposal, x)")


__all__ = ["boltzmann_probabilities", "metropolis_step"]
