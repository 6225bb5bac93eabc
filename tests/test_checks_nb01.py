"""The checkers of notebook 01's exercises accept the reference solutions and reject typical
wrong answers (no shift before exponentiating, a sign error, a forgotten temperature)."""

from __future__ import annotations

import pytest
import torch
from checker_asserts import assert_rejected, assert_stubs_not_attempted

from ebm_helpers import checks


def probs_solution(e, temperature):
    logits = -e / temperature
    log_z = torch.logsumexp(logits, 0)
    return torch.exp(logits - log_z), log_z


def probs_naive(e, temperature):
    w = torch.exp(-e / temperature)
    return w / w.sum(), torch.log(w.sum())


def probs_sign_error(e, temperature):
    return probs_solution(-e, temperature)


def probs_no_temperature(e, temperature):
    return probs_solution(e, 1.0)


def step_solution(energy, x, proposal, u, temperature):
    accept = u < torch.exp(-(energy(proposal) - energy(x)) / temperature)
    return torch.where(accept[:, None], proposal, x)


def step_sign_error(energy, x, proposal, u, temperature):
    accept = u < torch.exp((energy(proposal) - energy(x)) / temperature)
    return torch.where(accept[:, None], proposal, x)


def step_no_temperature(energy, x, proposal, u, temperature):
    return step_solution(energy, x, proposal, u, 1.0)


def step_always_accept(energy, x, proposal, u, temperature):
    return proposal


@pytest.mark.parametrize(("checker", "solution"), [
    (checks.boltzmann_probabilities, probs_solution),
    (checks.metropolis_step, step_solution),
])
def test_checkers_accept_the_solutions(capsys, checker, solution):
    assert checker(solution) is True
    assert "✓" in capsys.readouterr().out
    assert checker.notebook == "01_boltzmann_distribution"


@pytest.mark.parametrize(("checker", "wrong", "says"), [
    (checks.boltzmann_probabilities, probs_naive, "underflows"),
    (checks.boltzmann_probabilities, probs_sign_error, "T = 1"),
    (checks.boltzmann_probabilities, probs_no_temperature, "T = 0.5"),
    (checks.metropolis_step, step_sign_error, "T = 1"),
    (checks.metropolis_step, step_no_temperature, "T = 3"),
    (checks.metropolis_step, step_always_accept, "T = 1"),
])
def test_checkers_reject_typical_mistakes(capsys, checker, wrong, says):
    assert_rejected(capsys, checker, wrong, says)


def test_stubs_read_as_not_attempted(capsys):
    assert_stubs_not_attempted(capsys, [checks.boltzmann_probabilities, checks.metropolis_step])
