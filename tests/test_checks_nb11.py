"""The checkers of notebook 11's exercises accept the reference solutions and reject typical
wrong answers (a missing log-determinant, Σ where Σ⁻¹ belongs, a missing ½; an interpolated
quantile, the FPR quantile, a ≥ instead of a >)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from checker_asserts import assert_rejected, assert_stubs_not_attempted

from ebm_helpers import checks


def gaussian_solution(x, mean, cov):
    diff = x - mean
    maha = (diff * torch.linalg.solve(cov, diff.T).T).sum(1)
    d = mean.shape[0]
    return 0.5 * maha + 0.5 * torch.logdet(cov) + 0.5 * d * math.log(2 * math.pi)


def gaussian_no_logdet(x, mean, cov):
    return gaussian_solution(x, mean, cov) - 0.5 * torch.logdet(cov)


def gaussian_cov_not_inverse(x, mean, cov):
    diff = x - mean
    d = mean.shape[0]
    return (0.5 * (diff @ cov * diff).sum(1) + 0.5 * torch.logdet(cov)
            + 0.5 * d * math.log(2 * math.pi))


def gaussian_no_half(x, mean, cov):
    diff = x - mean
    maha = (diff * torch.linalg.solve(cov, diff.T).T).sum(1)
    d = mean.shape[0]
    return maha + torch.logdet(cov) + d * math.log(2 * math.pi)


def _tau(s_normal, fpr):
    s = np.sort(np.asarray(s_normal, dtype=float))
    k = math.ceil((1 - fpr) * len(s) - 1e-9)
    return -math.inf if k == 0 else s[k - 1]


def recall_solution(s_normal, s_anomaly, fpr):
    return float(np.mean(np.asarray(s_anomaly) > _tau(s_normal, fpr)))


def recall_quantile(s_normal, s_anomaly, fpr):
    return float(np.mean(np.asarray(s_anomaly) > np.quantile(s_normal, 1 - fpr)))


def recall_fpr_quantile(s_normal, s_anomaly, fpr):
    return float(np.mean(np.asarray(s_anomaly) > _tau(s_normal, 1 - fpr)))


def recall_greater_equal(s_normal, s_anomaly, fpr):
    return float(np.mean(np.asarray(s_anomaly) >= _tau(s_normal, fpr)))


@pytest.mark.parametrize(("checker", "solution"), [
    (checks.gaussian_score, gaussian_solution),
    (checks.recall_at_fpr, recall_solution),
])
def test_checkers_accept_the_solutions(capsys, checker, solution):
    assert checker(solution) is True
    assert "✓" in capsys.readouterr().out
    assert checker.notebook == "11_anomaly_detection"


@pytest.mark.parametrize(("checker", "wrong", "says"), [
    (checks.gaussian_score, gaussian_no_logdet, "correlated 3D"),
    (checks.gaussian_score, gaussian_cov_not_inverse, "correlated 3D"),
    (checks.gaussian_score, gaussian_no_half, "standard normal"),
    (checks.recall_at_fpr, recall_quantile, "FPR"),
    (checks.recall_at_fpr, recall_fpr_quantile, "FPR 5 %"),
    (checks.recall_at_fpr, recall_greater_equal, "ties"),
])
def test_checkers_reject_typical_mistakes(capsys, checker, wrong, says):
    assert_rejected(capsys, checker, wrong, says)


def test_stubs_read_as_not_attempted(capsys):
    assert_stubs_not_attempted(capsys, [checks.gaussian_score, checks.recall_at_fpr])
