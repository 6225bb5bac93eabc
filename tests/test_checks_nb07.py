"""The checkers of notebook 07's exercises accept the reference solutions and reject typical
wrong answers (uphill steps, noise √ε instead of √(2ε), MALA without the proposal correction,
the correction the wrong way round, acceptance when log u > log α)."""

from __future__ import annotations

import math

import pytest
import torch
from checker_asserts import assert_rejected, assert_stubs_not_attempted

from ebm_helpers import checks


def _grad(energy, x):
    x = x.detach().requires_grad_(True)
    e = energy(x)
    return e.detach(), torch.autograd.grad(e.sum(), x)[0]


def ula_solution(x, energy, eps, xi):
    _, g = _grad(energy, x)
    return x - eps * g + math.sqrt(2 * eps) * xi


def ula_uphill(x, energy, eps, xi):
    _, g = _grad(energy, x)
    return x + eps * g + math.sqrt(2 * eps) * xi


def ula_sqrt_eps_noise(x, energy, eps, xi):
    _, g = _grad(energy, x)
    return x - eps * g + math.sqrt(eps) * xi


def _mala(x, energy, eps, xi, log_u, correction=1.0, accept_above=False):
    e, g = _grad(energy, x)
    y = x - eps * g + math.sqrt(2 * eps) * xi
    e_y, g_y = _grad(energy, y)
    log_q_fwd = -((y - x + eps * g) ** 2).sum(1) / (4 * eps)
    log_q_bwd = -((x - y + eps * g_y) ** 2).sum(1) / (4 * eps)
    log_alpha = -e_y + e + correction * (log_q_bwd - log_q_fwd)
    accept = log_u > log_alpha if accept_above else log_u < log_alpha
    return torch.where(accept[:, None], y, x)


def mala_solution(x, energy, eps, xi, log_u):
    return _mala(x, energy, eps, xi, log_u)


def mala_no_correction(x, energy, eps, xi, log_u):
    return _mala(x, energy, eps, xi, log_u, correction=0.0)


def mala_correction_reversed(x, energy, eps, xi, log_u):
    return _mala(x, energy, eps, xi, log_u, correction=-1.0)


def mala_accept_above(x, energy, eps, xi, log_u):
    return _mala(x, energy, eps, xi, log_u, accept_above=True)


@pytest.mark.parametrize(("checker", "solution"), [
    (checks.ula_step, ula_solution),
    (checks.mala_step, mala_solution),
])
def test_checkers_accept_the_solutions(capsys, checker, solution):
    assert checker(solution) is True
    assert "✓" in capsys.readouterr().out
    assert checker.notebook == "07_neural_ebm_langevin"


@pytest.mark.parametrize(("checker", "wrong", "says"), [
    (checks.ula_step, ula_uphill, "narrow Gaussian"),
    (checks.ula_step, ula_sqrt_eps_noise, "narrow Gaussian"),
    (checks.mala_step, mala_no_correction, "ε ="),
    (checks.mala_step, mala_correction_reversed, "ε ="),
    (checks.mala_step, mala_accept_above, "narrow Gaussian, ε = 0.05"),
])
def test_checkers_reject_typical_mistakes(capsys, checker, wrong, says):
    assert_rejected(capsys, checker, wrong, says)


def test_stubs_read_as_not_attempted(capsys):
    assert_stubs_not_attempted(capsys, [checks.ula_step, checks.mala_step])
