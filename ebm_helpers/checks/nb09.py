"""Checkers for the exercises of notebook 09 (diffusion models): the closed-form forward
noising x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, and the mean of the forward posterior
q(x_{t−1} | x_t, x_0) that every DDPM step uses."""

from __future__ import annotations

import torch

from .. import diffusion
from ._core import Case, checker, close, run_cases

NOTEBOOK = "09_diffusion_models"


def _pair(seed: int, n: int = 7, d: int = 2):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, d, generator=g, dtype=torch.float64),
            torch.randn(n, d, generator=g, dtype=torch.float64))


_LINEAR = diffusion.linear_beta_schedule(100)
_COSINE = diffusion.cosine_beta_schedule(50)


@checker(NOTEBOOK)
def forward_noising(candidate) -> bool:
    """``candidate(x0, t, noise, schedule) -> x_t`` for an int t in 1..T."""
    cases = []
    for label, seed, t, schedule in [
        ("t = 1 of a linear schedule (T = 100)", 0, 1, _LINEAR),
        ("t = 40 of the linear schedule", 1, 40, _LINEAR),
        ("t = T = 100 (almost pure noise)", 2, 100, _LINEAR),
        ("t = 25 of a cosine schedule (T = 50)", 3, 25, _COSINE),
    ]:
        x0, noise = _pair(seed)
        cases.append(Case(label, (x0, t, noise, schedule)))
    return run_cases("forward_noising", candidate, diffusion.q_sample, cases,
                     close(rtol=1e-6, atol=1e-9),
                     hint="x_t = schedule.alpha_bar[t].sqrt() · x0 + (1 − schedule.alpha_bar[t])"
                          ".sqrt() · noise: ᾱ_t is the *product* of the α's (alpha_bar), and "
                          "both coefficients carry a square root")


def _posterior_mean_reference(x0, x_t, t, schedule):
    return (schedule.posterior_mean_coef_x0[t] * x0
            + schedule.posterior_mean_coef_xt[t] * x_t)


@checker(NOTEBOOK)
def posterior_mean(candidate) -> bool:
    """``candidate(x0, x_t, t, schedule) -> μ̃_t``, the mean of q(x_{t−1} | x_t, x_0)."""
    cases = []
    for label, seed, t, schedule in [
        ("t = 2 of a linear schedule (T = 100)", 4, 2, _LINEAR),
        ("t = 50 of the linear schedule", 5, 50, _LINEAR),
        ("t = 100 = T", 6, 100, _LINEAR),
        ("t = 30 of a cosine schedule (T = 50)", 7, 30, _COSINE),
        ("t = 1 (the mean is x_0 itself)", 8, 1, _LINEAR),
    ]:
        x0, x_t = _pair(seed)
        cases.append(Case(label, (x0, x_t, t, schedule)))
    return run_cases("posterior_mean", candidate, _posterior_mean_reference, cases,
                     close(rtol=1e-6, atol=1e-9),
                     hint="μ̃_t = √ᾱ_{t−1} β_t / (1 − ᾱ_t) · x_0 + √α_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · "
                          "x_t, with ᾱ_{t−1} = schedule.alpha_bar[t − 1] (ᾱ_0 = 1) and "
                          "α_t = 1 − β_t")
