"""Checkers for the exercises of notebook 13 (RBMs against modern alternatives).

* ``mixture_e_step``: the E-step of EM for a mixture of Bernoullis, in log space;
* ``made_output_mask``: MADE's output mask from the degrees (strict inequality);
* ``gaussian_frechet``: the Fréchet distance between two Gaussians from their moments.

Each compares the learner's function with the tested implementation in ``ebm_helpers.density``
and ``ebm_helpers.metrics`` on several inputs, edge cases included.
"""

from __future__ import annotations

import torch

from .. import density
from ._core import Case, checker, close, equal, run_cases

NOTEBOOK = "13_rbm_vs_modern_methods"


def _reference_e_step(x, weights, probs):
    return density.BernoulliMixture(weights, probs).responsibilities(x)


def _mixture_case(label, n, k, d, seed, extreme=False):
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(n, d, generator=g) < 0.5).double()
    weights = torch.rand(k, generator=g, dtype=torch.float64) + 0.05
    weights = weights / weights.sum()
    probs = torch.rand(k, d, generator=g, dtype=torch.float64) * 0.9 + 0.05
    if extreme:  # sharp components: products of 784 probabilities underflow to 0
        probs = torch.where(probs > 0.5, 0.999, 0.001).double()
    return Case(label, (x, weights, probs))


@checker(NOTEBOOK)
def mixture_e_step(candidate) -> bool:
    """Check ``candidate(x, weights, probs) -> (n, K)`` responsibilities p(k | x_n)."""
    cases = [
        _mixture_case("3 images of 5 pixels, 2 components", 3, 2, 5, 0),
        _mixture_case("10 images of 64 pixels, 4 components", 10, 4, 64, 1),
        _mixture_case("one component (every responsibility is 1)", 4, 1, 8, 2),
        _mixture_case("784 pixels with sharp components (work in log space)", 5, 3, 784, 3,
                      extreme=True),
    ]
    return run_cases("mixture_e_step", candidate, _reference_e_step, cases,
                     close(rtol=1e-6, atol=1e-8),
                     hint="log r_nk = log π_k + Σ_i [x_ni log μ_ki + (1 - x_ni) log(1 - μ_ki)], "
                          "then torch.softmax over the component axis (dim=1)")


def _reference_output_mask(degree_in, degree_hidden):
    return (degree_in[:, None] > degree_hidden[None, :]).float()


@checker(NOTEBOOK)
def made_output_mask(candidate) -> bool:
    """Check ``candidate(degree_in, degree_hidden) -> (D, H)`` 0/1 output mask of MADE."""
    cases = [
        Case("D = 3 inputs, 4 hidden units",
             (torch.tensor([2, 1, 3]), torch.tensor([1, 2, 1, 2]))),
        Case("a hidden unit with the same degree as an input (strict inequality)",
             (torch.tensor([1, 2]), torch.tensor([1, 1, 1]))),
        Case("D = 6, random degrees",
             (torch.tensor([4, 6, 1, 3, 5, 2]), torch.tensor([5, 1, 3, 3, 2, 4, 1, 5]))),
    ]
    return run_cases("made_output_mask", candidate, _reference_output_mask, cases, equal(),
                     hint="output d may see hidden unit k only if m0(d) > m(k): strictly "
                          "greater, so p(x_d | ...) never sees x_d itself; shape (D, H)")


def _reference_frechet(mu_a, cov_a, mu_b, cov_b):
    w, v = torch.linalg.eigh(cov_a)
    root_a = (v * w.clamp_min(0).sqrt()) @ v.T
    m = root_a @ cov_b @ root_a
    tr_root = torch.linalg.eigvalsh((m + m.T) / 2).clamp_min(0).sqrt().sum()
    return (mu_a - mu_b).pow(2).sum() + torch.trace(cov_a) + torch.trace(cov_b) - 2 * tr_root


def _gaussian_case(label, d, seed):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(d, d, generator=g, dtype=torch.float64)
    b = torch.randn(d, d, generator=g, dtype=torch.float64)
    eye = torch.eye(d, dtype=torch.float64)
    mu_a = torch.randn(d, generator=g, dtype=torch.float64)
    mu_b = torch.randn(d, generator=g, dtype=torch.float64)
    return Case(label, (mu_a, a @ a.T + 0.1 * eye, mu_b, b @ b.T + 0.1 * eye))


@checker(NOTEBOOK)
def gaussian_frechet(candidate) -> bool:
    """Check ``candidate(mu_a, cov_a, mu_b, cov_b) -> FD`` between N(μ_a, Σ_a), N(μ_b, Σ_b)."""
    one = torch.ones(1, dtype=torch.float64)
    cases = [
        Case("1D: N(2, 9) and N(-1, 0.25)",
             (2 * one, 9 * one[:, None], -one, 0.25 * one[:, None])),
        Case("equal Gaussians (distance 0)",
             (torch.zeros(2, dtype=torch.float64), torch.eye(2, dtype=torch.float64),
              torch.zeros(2, dtype=torch.float64), torch.eye(2, dtype=torch.float64))),
        _gaussian_case("3D, full covariances", 3, 0),
        _gaussian_case("5D, full covariances (Σ_a Σ_b is not symmetric)", 5, 1),
    ]
    return run_cases("gaussian_frechet", candidate, _reference_frechet, cases,
                     close(rtol=1e-6, atol=1e-8),
                     hint="|μ_a - μ_b|² + tr(Σ_a) + tr(Σ_b) - 2 tr((Σ_a^½ Σ_b Σ_a^½)^½); build "
                          "Σ_a^½ from torch.linalg.eigh (V diag(√w) Vᵀ)")
