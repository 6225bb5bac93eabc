"""Checkers for the exercises of notebook 11 (anomaly detection): the Gaussian anomaly score
−log N(x; μ, Σ), and the recall of two scores compared at a matched false-positive rate."""

from __future__ import annotations

import numpy as np
import torch

from .. import anomaly
from ._core import Case, checker, close, run_cases

NOTEBOOK = "11_anomaly_detection"


def _scores(seed: int, n: int, shift: float = 0.0, ties: bool = False) -> np.ndarray:
    s = np.random.default_rng(seed).normal(shift, 1.0, n)
    return np.round(s, 1) if ties else s


def _gaussian_case(seed: int, n: int, d: int, scale: float):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(d, d, generator=g, dtype=torch.float64)
    cov = scale * (a @ a.T / d + 0.5 * torch.eye(d, dtype=torch.float64))
    mean = torch.randn(d, generator=g, dtype=torch.float64)
    x = mean + torch.randn(n, d, generator=g, dtype=torch.float64)
    return x, mean, cov


@checker(NOTEBOOK)
def gaussian_score(candidate) -> bool:
    """``candidate(x, mean, cov) -> (n,)``: −log N(x; μ, Σ) per row."""
    cases = [
        Case("a standard normal in 2D", (torch.tensor([[0.0, 0.0], [1.0, -2.0]],
                                                      dtype=torch.float64),
                                         torch.zeros(2, dtype=torch.float64),
                                         torch.eye(2, dtype=torch.float64))),
        Case("5 points, a correlated 3D Gaussian", _gaussian_case(0, 5, 3, 1.0)),
        Case("a wide 4D Gaussian (det Σ far from 1)", _gaussian_case(1, 6, 4, 9.0)),
        Case("a narrow 8D Gaussian", _gaussian_case(2, 4, 8, 0.05)),
    ]
    return run_cases("gaussian_score", candidate, anomaly.gaussian_nll, cases,
                     close(rtol=1e-6, atol=1e-8),
                     hint="½ (x−μ)ᵀ Σ⁻¹ (x−μ) + ½ log det Σ + (d/2) log 2π per row: use "
                          "torch.linalg.solve (or a Cholesky factor), torch.logdet, and sum "
                          "over dim=1")


def _recall_reference(s_normal, s_anomaly, fpr) -> float:
    tau = anomaly.threshold_at_fpr(s_normal, fpr)
    return anomaly.detection_rates(s_normal, s_anomaly, tau).recall


@checker(NOTEBOOK)
def recall_at_fpr(candidate) -> bool:
    """``candidate(s_normal, s_anomaly, fpr) -> recall`` at the threshold that flags at most a
    fraction ``fpr`` of the normal scores (flag = score > τ)."""
    cases = [
        Case("100 normal and 80 anomalous scores, FPR 5 %",
             (_scores(0, 100), _scores(1, 80, shift=1.5), 0.05)),
        Case("the same scores at FPR 20 %", (_scores(0, 100), _scores(1, 80, shift=1.5), 0.2)),
        Case("37 normal scores (0.1 · 37 is not an integer), FPR 10 %",
             (_scores(2, 37), _scores(3, 40, shift=1.0), 0.1)),
        Case("scores rounded to 0.1 (ties at the threshold are not flagged)",
             (_scores(4, 60, ties=True), _scores(5, 60, shift=1.0, ties=True), 0.05)),
    ]
    return run_cases("recall_at_fpr", candidate, _recall_reference, cases,
                     close(rtol=0, atol=1e-12),
                     hint="τ = the k-th smallest normal score with k = ceil((1 − fpr)·n) "
                          "(np.quantile interpolates and misses the guarantee); recall = "
                          "mean(s_anomaly > τ), with a strict >")
