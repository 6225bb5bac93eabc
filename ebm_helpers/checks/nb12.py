"""Checkers for the exercises of notebook 12 (energy-based learning): the most offending
incorrect answer, the free energy of a latent-variable EBM and the InfoNCE loss."""

from __future__ import annotations

import torch

from .. import energy_learning, ssl
from ._core import Case, Mismatch, checker, close, run_cases

NOTEBOOK = "12_energy_based_learning"


@checker(NOTEBOOK)
def most_offending_answer(candidate) -> bool:
    """``candidate(e_all, y) -> (index, energy)``: the lowest-energy *wrong* answer per row."""
    e = torch.tensor([[0.5, 2.0, 1.0, 3.0],
                      [4.0, 1.5, 0.2, 2.5],
                      [3.0, 0.1, 2.0, 0.4]])
    cases = [
        Case("three examples, the correct answer lowest in the first two",
             (e, torch.tensor([0, 2, 1]))),
        Case("a correct answer that is not the lowest (a misclassified example)",
             (e, torch.tensor([3, 0, 2]))),
        Case("two answers only", (torch.tensor([[1.0, 2.0], [5.0, -1.0]]), torch.tensor([0, 0]))),
        Case("a batch of 50 random energies over 10 answers",
             (torch.randn(50, 10, generator=torch.Generator().manual_seed(0)),
              torch.arange(50) % 10)),
    ]

    def reference(e_all, y):
        return energy_learning.most_offending(e_all, y)

    def compare(expected, obtained):
        if not isinstance(obtained, (tuple, list)) or len(obtained) != 2:
            raise Mismatch("return a pair (index, energy) of (batch,) tensors")
        close(rtol=0, atol=0)(expected[0].float(), torch.as_tensor(obtained[0]).float())
        close()(expected[1], obtained[1])

    return run_cases("most_offending_answer", candidate, reference, cases, compare,
                     hint="set the correct answer's energy to +inf (e.g. with scatter or a "
                          "mask) before taking the minimum over dim=1")


@checker(NOTEBOOK)
def latent_free_energy(candidate) -> bool:
    """``candidate(e_z, beta) -> F``: F∞ = min_z E for β None, else −(1/β) log mean_z e^{−βE}."""
    e = torch.tensor([[0.0, 1.0, 4.0], [2.0, 2.5, 9.0]], dtype=torch.float64)
    cases = [
        Case("β = None (zero temperature)", (e, None)),
        Case("β = 1", (e, 1.0)),
        Case("β = 0.1 (close to the mean energy)", (e, 0.1)),
        Case("β = 5", (e, 5.0)),
        Case("large energies (1000 + E) at β = 2: exp(−βE) underflows unless you shift",
             (e + 1000.0, 2.0)),
        Case("one latent value", (torch.tensor([[3.0], [-1.0]], dtype=torch.float64), 0.7)),
    ]
    return run_cases("latent_free_energy", candidate, energy_learning.free_energy, cases,
                     close(rtol=1e-6, atol=1e-8),
                     hint="use torch.logsumexp(-beta * e_z, dim=-1) − log K, times −1/β; the "
                          "mean over z (not the sum) subtracts log K")


@checker(NOTEBOOK)
def info_nce_loss(candidate) -> bool:
    """``candidate(z_a, z_b, temperature) -> scalar``: symmetric InfoNCE on cosine logits / τ."""
    g = torch.Generator().manual_seed(1)
    a = torch.randn(8, 5, generator=g, dtype=torch.float64)
    b = a + 0.3 * torch.randn(8, 5, generator=g, dtype=torch.float64)
    cases = [
        Case("8 pairs of noisy views, τ = 0.5", (a, b, 0.5)),
        Case("the same at τ = 0.1", (a, b, 0.1)),
        Case("embeddings of very different lengths (cosine similarity ignores them)",
             (10 * a, 0.1 * b, 0.5)),
        Case("unrelated views, τ = 1", (a, torch.randn(8, 5, generator=g, dtype=torch.float64),
                                        1.0)),
    ]
    return run_cases("info_nce_loss", candidate, ssl.info_nce, cases,
                     close(rtol=1e-6, atol=1e-8),
                     hint="normalise the rows (F.normalize), logits = z_a @ z_b.T / τ, targets "
                          "torch.arange(n), and average the cross-entropy of logits and of "
                          "logits.T")
