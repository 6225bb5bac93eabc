"""Checkers for the exercises of notebook 02 (Hopfield networks and Boltzmann machines): the
Hebb rule, the Hopfield energy, and the crosstalk term of the local field at a stored pattern."""

from __future__ import annotations

import torch

from .. import hopfield
from ._core import Case, checker, close, run_cases

NOTEBOOK = "02_hopfield_and_boltzmann_machines"


def _spins(p: int, n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (2 * torch.randint(0, 2, (p, n), generator=g) - 1).to(torch.float64)


@checker(NOTEBOOK)
def hebbian_rule(candidate) -> bool:
    """``candidate(patterns) -> W``: W = (1/N) Σ_μ ξ^μ ξ^μᵀ with a zero diagonal, (N, N)."""
    cases = [
        Case("one pattern of 4 units", (torch.tensor([[1.0, -1.0, 1.0, 1.0]],
                                                     dtype=torch.float64),)),
        Case("two patterns of 5 units", (_spins(2, 5, 0),)),
        Case("three patterns of 12 units (P ≠ N: a wrong axis changes the shape)",
             (_spins(3, 12, 1),)),
        Case("20 patterns of 50 units", (_spins(20, 50, 2),)),
    ]
    return run_cases("hebbian_rule", candidate, hopfield.hebbian_weights, cases,
                     close(rtol=1e-9, atol=1e-12),
                     hint="patterns is (P, N): W = patterns.T @ patterns / N, then set the "
                          "diagonal to zero (W.fill_diagonal_(0)), no self-coupling")


@checker(NOTEBOOK)
def hopfield_energy(candidate) -> bool:
    """``candidate(W, s, b) -> (batch,)``: E(x) = −½ xᵀWx − bᵀx for each row x of s."""
    xi = _spins(3, 10, 3)
    w = hopfield.hebbian_weights(xi)
    g = torch.Generator().manual_seed(4)
    b = torch.randn(10, generator=g, dtype=torch.float64)
    w_asym = hopfield.hebbian_weights(_spins(5, 7, 5))
    cases = [
        Case("the three stored patterns, no bias", (w, xi, torch.zeros(10, dtype=torch.float64))),
        Case("the stored patterns with a bias b", (w, xi, b)),
        Case("eight random states of 7 units, bias 0.3",
             (w_asym, _spins(8, 7, 6), torch.full((7,), 0.3, dtype=torch.float64))),
        Case("one state (batch of 1)", (w, xi[:1], b)),
    ]
    return run_cases("hopfield_energy", candidate, hopfield.energy, cases,
                     close(rtol=1e-9, atol=1e-12),
                     hint="per row: −0.5 · Σ_ij W_ij x_i x_j − Σ_i b_i x_i; for a batch "
                          "-0.5 * ((s @ W) * s).sum(1) - s @ b (the ½ because each pair is "
                          "counted twice)")



def _crosstalk_reference(patterns, nu):
    """ξ^ν_i u_i − (N − 1)/N with u = W ξ^ν and W the Hebb weights (zero diagonal)."""
    n = patterns.shape[1]
    xi = patterns[nu]
    return xi * (hopfield.hebbian_weights(patterns) @ xi) - (n - 1) / n


@checker(NOTEBOOK)
def crosstalk(candidate) -> bool:
    """``candidate(patterns, nu) -> (N,)``: the crosstalk ξ^ν_i u_i − (N−1)/N at pattern ν."""
    cases = [
        Case("one pattern of 6 units (no other pattern: the crosstalk is 0)",
             (_spins(1, 6, 20), 0)),
        Case("three patterns of 10 units, pattern 1", (_spins(3, 10, 21), 1)),
        Case("five patterns of 40 units, pattern 4 (P ≠ N)", (_spins(5, 40, 22), 4)),
        Case("two identical patterns of 8 units (the other pattern adds (N−1)/N everywhere)",
             (_spins(1, 8, 23).repeat(2, 1), 0)),
    ]
    return run_cases("crosstalk", candidate, _crosstalk_reference, cases,
                     close(rtol=1e-9, atol=1e-12),
                     hint="u = W @ patterns[nu] with the Hebb weights (zero diagonal); the "
                          "crosstalk is patterns[nu] * u minus the signal (N - 1)/N")


__all__ = ["crosstalk", "hebbian_rule", "hopfield_energy"]
