"""The checkers of notebook 03's exercises accept the reference solutions and reject typical
wrong answers (the visible bias in place of the hidden one, W not transposed, a sign error, a
missing visible term, a naive log(1 + exp) that overflows)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from ebm_helpers import checks


def p_h_solution(v, W, c):
    return torch.sigmoid(v @ W.T + c)


def p_h_no_transpose(v, W, c):
    return torch.sigmoid(W @ v.T + c[:, None])


def p_h_no_bias(v, W, c):
    return torch.sigmoid(v @ W.T)


def p_h_sign_error(v, W, c):
    return torch.sigmoid(-(v @ W.T + c))


def free_energy_solution(v, W, b, c):
    return -(v @ b) - F.softplus(v @ W.T + c).sum(1)


def free_energy_no_visible_term(v, W, b, c):
    return -F.softplus(v @ W.T + c).sum(1)


def free_energy_sign_error(v, W, b, c):
    return (v @ b) + F.softplus(v @ W.T + c).sum(1)


def free_energy_naive(v, W, b, c):
    return -(v @ b) - torch.log(1 + torch.exp(v @ W.T + c)).sum(1)


@pytest.mark.parametrize(("checker", "solution"), [
    (checks.hidden_probabilities, p_h_solution),
    (checks.rbm_free_energy, free_energy_solution),
])
def test_checkers_accept_the_solutions(capsys, checker, solution):
    assert checker(solution) is True
    assert "✓" in capsys.readouterr().out
    assert checker.notebook == "03_restricted_boltzmann_machines"


@pytest.mark.parametrize(("checker", "wrong", "says"), [
    (checks.hidden_probabilities, p_h_no_transpose, "6 visible"),
    (checks.hidden_probabilities, p_h_no_bias, "6 visible"),
    (checks.hidden_probabilities, p_h_sign_error, "6 visible"),
    (checks.rbm_free_energy, free_energy_no_visible_term, "6 visible"),
    (checks.rbm_free_energy, free_energy_sign_error, "6 visible"),
    (checks.rbm_free_energy, free_energy_naive, "overflows"),
])
def test_checkers_reject_typical_mistakes(capsys, checker, wrong, says):
    assert checker(wrong) is False
    out = capsys.readouterr().out
    assert "✗" in out and says in out and "hint" in out


def test_stubs_read_as_not_attempted(capsys):
    def stub(*args):
        raise NotImplementedError

    for checker in [checks.hidden_probabilities, checks.rbm_free_energy]:
        assert checker(stub) is False
        assert "not attempted yet" in capsys.readouterr().out
