"""Checkers for the exercises of notebook 14 (quantum Boltzmann machines).

* ``transverse_field_hamiltonian``: H = -Σ Γ_a σˣ_a - Σ b_a σᶻ_a - Σ_{a<b} W_ab σᶻ_a σᶻ_b built
  from Kronecker products, against ``quantum.hamiltonian``;
* ``divided_differences``: the matrix F of the exact gradient, degenerate levels included,
  against ``quantum.divided_differences``.
"""

from __future__ import annotations

import torch

from .. import quantum
from ._core import Case, checker, close, run_cases

__all__ = ["divided_differences", "transverse_field_hamiltonian"]

_NB = "14_quantum_boltzmann_machines"


def _machine(n: int, seed: int, gamma_scale: float = 1.0):
    g = torch.Generator().manual_seed(seed)
    b, W = quantum.random_parameters(n, g, scale=0.8)
    gamma = gamma_scale * torch.rand(n, generator=g, dtype=torch.float64)
    return b, W, gamma


@checker(_NB)
def transverse_field_hamiltonian(candidate) -> bool:
    """Check ``candidate(b, W, gamma) -> H``, (2^n, 2^n), against ``quantum.hamiltonian``.

    ``gamma`` is passed as a vector (n,). Cases: one qubit, two qubits with one coupling, three
    qubits with different fields per qubit (the Kronecker order shows), and Γ = 0.
    """
    two = (torch.tensor([0.3, -0.5], dtype=torch.float64),
           torch.tensor([[0.0, 0.7], [0.7, 0.0]], dtype=torch.float64),
           torch.tensor([0.4, 1.1], dtype=torch.float64))
    b3, W3, g3 = _machine(3, 1)
    cases = [
        Case("one qubit (b = 0.5, Γ = 1.2)",
             (torch.tensor([0.5], dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64),
              torch.tensor([1.2], dtype=torch.float64))),
        Case("two qubits with one coupling", two),
        Case("three qubits, a different Γ_a on each", (b3, W3, g3)),
        Case("three qubits at Γ = 0 (diagonal: the classical energies)",
             (b3, W3, torch.zeros(3, dtype=torch.float64))),
    ]
    return run_cases(
        "transverse_field_hamiltonian", candidate, quantum.hamiltonian, cases,
        close(rtol=1e-10, atol=1e-10),
        hint="every term has a minus sign; qubit a's operator sits at position a of the "
             "Kronecker product (qubit 0 leftmost); each pair a < b is counted once",
    )


@checker(_NB)
def divided_differences(candidate) -> bool:
    """Check ``candidate(energies, beta) -> F``, (d, d), against
    ``quantum.divided_differences``: F_ij = (e^{-βE_j} - e^{-βE_i}) / (E_i - E_j), F_ii =
    β e^{-βE_i}, on distinct, exactly degenerate and nearly degenerate levels (as ``eigh``
    returns them)."""
    f64 = torch.float64
    cases = [
        Case("three distinct levels, β = 1", (torch.tensor([0.0, 0.5, 2.0], dtype=f64), 1.0)),
        Case("distinct levels at β = 2.5", (torch.tensor([0.0, 0.3, 0.9, 1.7], dtype=f64), 2.5)),
        Case("an exactly degenerate pair", (torch.tensor([0.0, 1.0, 1.0], dtype=f64), 1.0)),
        Case("a pair split by 1e-13, as eigh returns degenerate levels",
             (torch.tensor([0.0, 0.7, 0.7 + 1e-13], dtype=f64), 1.5)),
    ]
    return run_cases(
        "divided_differences", candidate, quantum.divided_differences, cases,
        close(rtol=1e-8, atol=1e-12),
        hint="the diagonal is the limit β e^{-βE_i}; for |E_i - E_j| tiny the quotient "
             "cancels catastrophically, so use the limit (or its Taylor series) whenever "
             "|β (E_i - E_j)| is below a small tolerance, not only when it is exactly 0",
    )
