"""The checkers of notebook 08's exercises accept the reference solutions and reject typical
wrong answers (the target +z/σ, no σ² weighting, a sum over the batch; the trace term missing,
½ on the wrong term, the sliced square instead of |s|²)."""

from __future__ import annotations

import pytest
import torch
from checker_asserts import assert_rejected, assert_stubs_not_attempted

from ebm_helpers import checks


def dsm_solution(score_fn, x, sigma, z):
    return (0.5 * ((sigma * score_fn(x + sigma * z) + z) ** 2).sum(1)).mean()


def dsm_wrong_sign(score_fn, x, sigma, z):
    return (0.5 * ((sigma * score_fn(x + sigma * z) - z) ** 2).sum(1)).mean()


def dsm_unweighted(score_fn, x, sigma, z):
    return (0.5 * ((score_fn(x + sigma * z) + z / sigma) ** 2).sum(1)).mean()


def dsm_sum(score_fn, x, sigma, z):
    return (0.5 * ((sigma * score_fn(x + sigma * z) + z) ** 2).sum(1)).sum()


def _ssm(score_fn, x, v, trace=1.0, half_on_trace=False, sliced_square=False):
    x = x.detach().requires_grad_(True)
    s = score_fn(x)
    vjv = (torch.autograd.grad((s * v).sum(), x, create_graph=True)[0] * v).sum(1)
    second = ((s * v).sum(1) ** 2 if sliced_square else (s ** 2).sum(1))
    if half_on_trace:
        return (0.5 * vjv + second).mean()
    return (trace * vjv + 0.5 * second).mean()


def ssm_solution(score_fn, x, v):
    return _ssm(score_fn, x, v)


def ssm_no_trace(score_fn, x, v):
    return _ssm(score_fn, x, v, trace=0.0)


def ssm_half_on_trace(score_fn, x, v):
    return _ssm(score_fn, x, v, half_on_trace=True)


def ssm_not_variance_reduced(score_fn, x, v):
    return _ssm(score_fn, x, v, sliced_square=True)


@pytest.mark.parametrize(("checker", "solution"), [
    (checks.dsm_loss, dsm_solution),
    (checks.ssm_vr_loss, ssm_solution),
])
def test_checkers_accept_the_solutions(capsys, checker, solution):
    assert checker(solution) is True
    assert "✓" in capsys.readouterr().out
    assert checker.notebook == "08_score_matching"


@pytest.mark.parametrize(("checker", "wrong", "says"), [
    (checks.dsm_loss, dsm_wrong_sign, "Gaussian"),
    (checks.dsm_loss, dsm_unweighted, "σ = 0.5"),
    (checks.dsm_loss, dsm_sum, "Gaussian"),
    (checks.ssm_vr_loss, ssm_no_trace, "Gaussian"),
    (checks.ssm_vr_loss, ssm_half_on_trace, "Gaussian"),
    (checks.ssm_vr_loss, ssm_not_variance_reduced, "Gaussian"),
])
def test_checkers_reject_typical_mistakes(capsys, checker, wrong, says):
    assert_rejected(capsys, checker, wrong, says)


def test_stubs_read_as_not_attempted(capsys):
    assert_stubs_not_attempted(capsys, [checks.dsm_loss, checks.ssm_vr_loss])
