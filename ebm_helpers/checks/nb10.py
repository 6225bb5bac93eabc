"""Checkers for the exercises of notebook 10 (joint energy models): the expected calibration
error, and temperature scaling (the one-number recalibration a calibration claim must beat)."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import minimize_scalar

from .. import metrics
from ._core import Case, Mismatch, checker, close, run_cases

NOTEBOOK = "10_joint_energy_models"


def _probs(seed: int, n: int, n_classes: int, scale: float):
    g = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(n, n_classes, generator=g, dtype=torch.float64)
    labels = torch.randint(0, n_classes, (n,), generator=g)
    # make the argmax right most of the time, as for a trained classifier
    right = torch.rand(n, generator=g) < 0.7
    logits[right, labels[right]] += 2.0 * scale
    return logits, labels


@checker(NOTEBOOK)
def expected_calibration_error(candidate) -> bool:
    """``candidate(probs, labels, n_bins) -> float``: Σ_b (n_b/n) |acc_b − conf_b| over equal-width
    bins (lo, hi] of the confidence max_y p(y|x)."""
    cases = []
    for label, seed, n, k, scale, bins in [
        ("200 predictions over 10 classes, 10 bins", 0, 200, 10, 1.0, 10),
        ("the same with 5 bins", 0, 200, 10, 1.0, 5),
        ("an over-confident classifier (large logits), 15 bins", 1, 300, 4, 4.0, 15),
        ("a nearly uniform classifier over 3 classes", 2, 150, 3, 0.1, 10),
    ]:
        logits, labels = _probs(seed, n, k, scale)
        cases.append(Case(label, (logits.softmax(1), labels, bins)))
    return run_cases("expected_calibration_error", candidate, metrics.expected_calibration_error,
                     cases, close(rtol=1e-6, atol=1e-9),
                     hint="conf, pred = probs.max(1); assign each input to the bin of its "
                          "confidence; in each non-empty bin take |mean(pred == label) − "
                          "mean(conf)| and weight it by the bin's share n_b / n (not 1 / B)")


def _fit_temperature_reference(logits, labels) -> float:
    """argmin_T NLL(softmax(logits / T), labels) over T > 0, by a bounded search on log T."""
    def nll(log_t):
        return float(F.cross_entropy(logits / math.exp(log_t), labels))

    res = minimize_scalar(nll, bounds=(math.log(0.05), math.log(20.0)), method="bounded",
                          options={"xatol": 1e-6})
    return math.exp(res.x)


@checker(NOTEBOOK)
def fit_temperature(candidate) -> bool:
    """``candidate(logits, labels) -> T``: the temperature minimising the NLL of
    softmax(logits / T) on held-out data (accepted within 2 % of the exact minimiser)."""
    cases = []
    for label, seed, scale in [
        ("over-confident logits (the optimum is T > 1)", 3, 4.0),
        ("under-confident logits (the optimum is T < 1)", 4, 0.3),
        ("moderate logits", 5, 1.0),
    ]:
        logits, labels = _probs(seed, 400, 10, scale)
        cases.append(Case(label, (logits, labels)))

    def compare(expected, obtained):
        try:
            t = float(obtained)
        except (TypeError, ValueError):
            raise Mismatch("return the temperature as one number") from None
        if not np.isfinite(t) or t <= 0:
            raise Mismatch(f"a temperature must be a positive number, got {t}")
        if abs(t - expected) > 0.02 * expected:
            raise Mismatch(f"T = {t:.4g}, the NLL is minimised at T = {expected:.4g}")

    return run_cases("fit_temperature", candidate, _fit_temperature_reference, cases, compare,
                     hint="minimise F.cross_entropy(logits / T, labels) over T > 0, e.g. on a "
                          "fine grid of log T between log 0.05 and log 20 (divide the logits "
                          "by T, do not multiply; the accuracy does not depend on T)")
