"""The checkers of notebook 09's exercises accept the reference solutions and reject typical
wrong answers (α_t where ᾱ_t belongs, missing square roots; ᾱ_t where ᾱ_{t−1} belongs, the
two coefficients swapped, a missing √α_t)."""

from __future__ import annotations

import pytest
from checker_asserts import assert_rejected, assert_stubs_not_attempted

from ebm_helpers import checks


def noising_solution(x0, t, noise, schedule):
    ab = schedule.alpha_bar[t]
    return ab.sqrt() * x0 + (1 - ab).sqrt() * noise


def noising_alpha_not_alpha_bar(x0, t, noise, schedule):
    a = schedule.alphas[t]
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


def noising_no_sqrt(x0, t, noise, schedule):
    ab = schedule.alpha_bar[t]
    return ab * x0 + (1 - ab) * noise


def posterior_solution(x0, x_t, t, schedule):
    ab, ab_prev = schedule.alpha_bar[t], schedule.alpha_bar[t - 1]
    beta, alpha = schedule.betas[t], schedule.alphas[t]
    return (ab_prev.sqrt() * beta / (1 - ab) * x0
            + alpha.sqrt() * (1 - ab_prev) / (1 - ab) * x_t)


def posterior_alpha_bar_t(x0, x_t, t, schedule):
    ab = schedule.alpha_bar[t]
    beta, alpha = schedule.betas[t], schedule.alphas[t]
    return ab.sqrt() * beta / (1 - ab) * x0 + alpha.sqrt() * (1 - ab) / (1 - ab) * x_t


def posterior_swapped(x0, x_t, t, schedule):
    return posterior_solution(x_t, x0, t, schedule)


def posterior_no_sqrt_alpha(x0, x_t, t, schedule):
    ab, ab_prev = schedule.alpha_bar[t], schedule.alpha_bar[t - 1]
    beta = schedule.betas[t]
    return ab_prev.sqrt() * beta / (1 - ab) * x0 + (1 - ab_prev) / (1 - ab) * x_t


@pytest.mark.parametrize(("checker", "solution"), [
    (checks.forward_noising, noising_solution),
    (checks.posterior_mean, posterior_solution),
])
def test_checkers_accept_the_solutions(capsys, checker, solution):
    assert checker(solution) is True
    assert "✓" in capsys.readouterr().out
    assert checker.notebook == "09_diffusion_models"


@pytest.mark.parametrize(("checker", "wrong", "says"), [
    (checks.forward_noising, noising_alpha_not_alpha_bar, "t = 40"),
    (checks.forward_noising, noising_no_sqrt, "t = 1 "),
    (checks.posterior_mean, posterior_alpha_bar_t, "t = 2 "),
    (checks.posterior_mean, posterior_swapped, "t = 2 "),
    (checks.posterior_mean, posterior_no_sqrt_alpha, "t = 2 "),
])
def test_checkers_reject_typical_mistakes(capsys, checker, wrong, says):
    assert_rejected(capsys, checker, wrong, says)


def test_stubs_read_as_not_attempted(capsys):
    assert_stubs_not_attempted(capsys, [checks.forward_noising, checks.posterior_mean])
