"""The checkers of notebook 03's exercises accept the reference solutions and reject typical
wrong answers (the visible bias in place of the hidden one, W not transposed, a sign error, a
missing visible term, a naive log(1 + exp) that overflows; for the one-flip pseudo-likelihood a
sign error, a missing factor n_v, a flip in place, a naive log(sigmoid))."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from checker_asserts import assert_rejected, assert_stubs_not_attempted

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


def _flip(v, idx):
    out = v.clone()
    rows = torch.arange(v.shape[0])
    out[rows, idx] = 1 - out[rows, idx]
    return out


def pll_solution(v, W, b, c, idx):
    fe = free_energy_solution
    return v.shape[1] * F.logsigmoid(fe(_flip(v, idx), W, b, c) - fe(v, W, b, c))


def pll_sign_error(v, W, b, c, idx):
    fe = free_energy_solution
    return v.shape[1] * F.logsigmoid(fe(v, W, b, c) - fe(_flip(v, idx), W, b, c))


def pll_no_factor(v, W, b, c, idx):
    fe = free_energy_solution
    return F.logsigmoid(fe(_flip(v, idx), W, b, c) - fe(v, W, b, c))


def pll_in_place(v, W, b, c, idx):
    rows = torch.arange(v.shape[0])
    v[rows, idx] = 1 - v[rows, idx]  # v itself is flipped: F(v) is then F of the flipped copy
    fe = free_energy_solution
    return v.shape[1] * F.logsigmoid(fe(v, W, b, c) - fe(v, W, b, c))


def pll_naive_log(v, W, b, c, idx):
    fe = free_energy_solution
    return v.shape[1] * torch.log(torch.sigmoid(fe(_flip(v, idx), W, b, c) - fe(v, W, b, c)))


def test_pll_reference_averages_to_the_exact_sum():
    """Averaged over every bit, the one-flip estimate is the exact pseudo-log-likelihood."""
    from ebm_helpers import rbm

    g = torch.Generator().manual_seed(0)
    m = rbm.RBM(7, 4, generator=g, init_std=1.0, dtype=torch.float64)
    v = torch.randint(0, 2, (5, 7), generator=g).double()
    W, b, c = m.W.detach(), m.v_bias.detach(), m.h_bias.detach()
    mean = torch.stack([pll_solution(v, W, b, c, torch.full((5,), i)) for i in range(7)]).mean(0)
    assert torch.allclose(mean, m.pseudo_log_likelihood(v, exact=True), atol=1e-10)


@pytest.mark.parametrize(("checker", "solution"), [
    (checks.hidden_probabilities, p_h_solution),
    (checks.rbm_free_energy, free_energy_solution),
    (checks.pseudo_likelihood_one_flip, pll_solution),
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
    (checks.pseudo_likelihood_one_flip, pll_sign_error, "6 visible"),
    (checks.pseudo_likelihood_one_flip, pll_no_factor, "6 visible"),
    (checks.pseudo_likelihood_one_flip, pll_in_place, "6 visible"),
    (checks.pseudo_likelihood_one_flip, pll_naive_log, "underflows"),
])
def test_checkers_reject_typical_mistakes(capsys, checker, wrong, says):
    assert_rejected(capsys, checker, wrong, says)


def test_stubs_read_as_not_attempted(capsys):
    assert_stubs_not_attempted(capsys, [checks.hidden_probabilities, checks.rbm_free_energy,
                                        checks.pseudo_likelihood_one_flip])
