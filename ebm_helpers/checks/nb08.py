"""Checkers for the exercises of notebook 08 (score matching): the denoising score matching
loss and the variance-reduced sliced score matching loss, each compared with the package's
``score`` losses on the same random numbers (the noise z, the directions v)."""

from __future__ import annotations

import torch

from .. import score
from ._core import Case, checker, close, run_cases

NOTEBOOK = "08_score_matching"

#: each case's seed, keyed by the random tensor it starts with, so that the reference can
#: replay the package's loss on the very stream the candidate was handed
_SEEDS: dict[bytes, int] = {}


def _net(seed: int):
    return score.ScoreNet(2, 16, 2, generator=torch.Generator().manual_seed(seed)).double()


def _points(seed: int, n: int = 32):
    return 1.5 * torch.randn(n, 2, generator=torch.Generator().manual_seed(seed),
                             dtype=torch.float64)


def _gaussian_score(x):
    """The score of N(0, 0.5² I): −x / 0.25."""
    return -x / 0.25


def _dsm_case(label, model, seed, sigma):
    def make():
        x = _points(seed)
        z = torch.randn(x.shape, generator=torch.Generator().manual_seed(200 + seed),
                        dtype=x.dtype)
        _SEEDS[z.numpy().tobytes()] = 200 + seed
        return (model, x, sigma, z), {}
    return Case(label, make=make)


@checker(NOTEBOOK)
def dsm_loss(candidate) -> bool:
    """``candidate(score_fn, x, sigma, z) -> scalar``: ½ mean |σ s(x + σz) + z|² (σ²-weighted)."""
    cases = [
        _dsm_case("the exact score of a Gaussian, σ = 0.5", _gaussian_score, 0, 0.5),
        _dsm_case("a small score network, σ = 0.1", _net(1), 1, 0.1),
        _dsm_case("the same network, σ = 1", _net(1), 2, 1.0),
    ]

    def reference(model, x, sigma, z):
        g = torch.Generator().manual_seed(_SEEDS[z.numpy().tobytes()])
        return score.denoising_score_matching_loss(model, x, sigma, generator=g).detach()

    return run_cases("dsm_loss", candidate, reference, cases, close(rtol=1e-6, atol=1e-9),
                     hint="x̃ = x + σz; per point ½|σ·s(x̃) + z|² (the target of s is −z/σ, "
                          "weighted by σ²); then the mean over the batch")


def _ssm_case(label, model, seed):
    def make():
        x = _points(seed)
        g = torch.Generator().manual_seed(300 + seed)
        v = torch.randint(0, 2, x.shape, generator=g).to(x.dtype) * 2 - 1  # Rademacher
        _SEEDS[v.numpy().tobytes() + bytes([seed])] = 300 + seed
        return (model, x, v), {}
    return Case(label, make=make)


@checker(NOTEBOOK)
def ssm_vr_loss(candidate) -> bool:
    """``candidate(score_fn, x, v) -> scalar``: mean of vᵀ∇ₓs(x) v + ½|s(x)|² with the
    directions v given (one per point)."""
    cases = [
        _ssm_case("the exact score of a Gaussian", _gaussian_score, 0),
        _ssm_case("a small score network", _net(4), 1),
        _ssm_case("another network", _net(5), 2),
    ]

    def reference(model, x, v):
        for seed in range(3):
            key = v.numpy().tobytes() + bytes([seed])
            if key in _SEEDS and torch.equal(_points(seed), x):
                g = torch.Generator().manual_seed(_SEEDS[key])
                return score.sliced_score_matching_loss(model, x, variance_reduction=True,
                                                        generator=g).detach()
        raise RuntimeError("the checker lost track of its random directions")

    return run_cases("ssm_vr_loss", candidate, reference, cases, close(rtol=1e-6, atol=1e-9),
                     hint="x.requires_grad_(True); s = score_fn(x); "
                          "vjv = (torch.autograd.grad((s * v).sum(), x, create_graph=True)[0] "
                          "* v).sum(1); return (vjv + 0.5 * (s ** 2).sum(1)).mean()")
