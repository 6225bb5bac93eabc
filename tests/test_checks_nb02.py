"""The checkers of notebook 02's exercises accept the reference solutions and reject typical
wrong answers (a kept diagonal, a missing 1/N, the wrong axis, a missing ½, a bias sign, the
signal left in the crosstalk, a missing ξ^ν_i factor)."""

from __future__ import annotations

import pytest
from checker_asserts import assert_rejected, assert_stubs_not_attempted

from ebm_helpers import checks


def hebb_solution(patterns):
    w = patterns.T @ patterns / patterns.shape[1]
    w.fill_diagonal_(0.0)
    return w


def hebb_keeps_diagonal(patterns):
    return patterns.T @ patterns / patterns.shape[1]


def hebb_no_normalisation(patterns):
    w = patterns.T @ patterns
    w.fill_diagonal_(0.0)
    return w


def hebb_wrong_axis(patterns):
    w = patterns @ patterns.T / patterns.shape[1]
    w.fill_diagonal_(0.0)
    return w


def energy_solution(W, s, b):
    return -0.5 * ((s @ W) * s).sum(1) - s @ b


def energy_no_half(W, s, b):
    return -((s @ W) * s).sum(1) - s @ b


def energy_bias_sign(W, s, b):
    return -0.5 * ((s @ W) * s).sum(1) + s @ b


def energy_whole_batch(W, s, b):
    return (-0.5 * ((s @ W) * s) - s * b).sum()


def crosstalk_solution(patterns, nu):
    n = patterns.shape[1]
    w = patterns.T @ patterns / n
    w.fill_diagonal_(0.0)
    return patterns[nu] * (w @ patterns[nu]) - (n - 1) / n


def crosstalk_keeps_signal(patterns, nu):
    n = patterns.shape[1]
    w = patterns.T @ patterns / n
    w.fill_diagonal_(0.0)
    return patterns[nu] * (w @ patterns[nu])


def crosstalk_keeps_diagonal(patterns, nu):
    n = patterns.shape[1]
    w = patterns.T @ patterns / n
    return patterns[nu] * (w @ patterns[nu]) - (n - 1) / n


def crosstalk_no_sign_factor(patterns, nu):
    n = patterns.shape[1]
    w = patterns.T @ patterns / n
    w.fill_diagonal_(0.0)
    return w @ patterns[nu] - (n - 1) / n


@pytest.mark.parametrize(("checker", "solution"), [
    (checks.hebbian_rule, hebb_solution),
    (checks.hopfield_energy, energy_solution),
    (checks.crosstalk, crosstalk_solution),
])
def test_checkers_accept_the_solutions(capsys, checker, solution):
    assert checker(solution) is True
    assert "✓" in capsys.readouterr().out
    assert checker.notebook == "02_hopfield_and_boltzmann_machines"


@pytest.mark.parametrize(("checker", "wrong", "says"), [
    (checks.hebbian_rule, hebb_keeps_diagonal, "one pattern"),
    (checks.hebbian_rule, hebb_no_normalisation, "one pattern"),
    (checks.hebbian_rule, hebb_wrong_axis, "shape"),
    (checks.hopfield_energy, energy_no_half, "no bias"),
    (checks.hopfield_energy, energy_bias_sign, "with a bias"),
    (checks.hopfield_energy, energy_whole_batch, "shape"),
    (checks.crosstalk, crosstalk_keeps_signal, "one pattern"),
    (checks.crosstalk, crosstalk_keeps_diagonal, "one pattern"),
    (checks.crosstalk, crosstalk_no_sign_factor, "one pattern"),
])
def test_checkers_reject_typical_mistakes(capsys, checker, wrong, says):
    assert_rejected(capsys, checker, wrong, says)


def test_stubs_read_as_not_attempted(capsys):
    assert_stubs_not_attempted(capsys, [
        checks.hebbian_rule,
        checks.hopfield_energy,
        checks.crosstalk,
    ])
