"""The checkers of notebook 04's exercises accept the reference solutions and reject typical
wrong answers (a mean-field shortcut for the sum over h, a transposed or wrongly ordered
transition matrix, model minus data, a missing transpose, one batch size for both phases, the
mean of the log weights, a naive exponential)."""

from __future__ import annotations

import math

import pytest
import torch
from checker_asserts import assert_rejected, assert_stubs_not_attempted

from ebm_helpers import checks
from ebm_helpers.partition import binary_states


def _bernoulli_table(states, p):
    """Π_i p_i^x_i (1 − p_i)^(1 − x_i): rows of p (R, n) against rows of states (S, n)."""
    return torch.exp(torch.log(p) @ states.T + torch.log1p(-p) @ (1 - states).T)


def transition_solution(W, b, c):
    vs, hs = binary_states(W.shape[1]), binary_states(W.shape[0])
    a = _bernoulli_table(hs, torch.sigmoid(vs @ W.T + c))  # (2^n_v, 2^n_h): p(h | v)
    return a @ _bernoulli_table(vs, torch.sigmoid(hs @ W + b))  # (2^n_h, 2^n_v): p(v | h)


def transition_mean_field(W, b, c):
    # skips the sum over h: one deterministic step through h = p(h|v)
    vs = binary_states(W.shape[1])
    return _bernoulli_table(vs, torch.sigmoid(torch.sigmoid(vs @ W.T + c) @ W + b))


def transition_transposed(W, b, c):
    return transition_solution(W, b, c).T


def transition_msb_first(W, b, c):
    # numbers the states with unit 0 as the most significant bit (itertools.product's order)
    n = W.shape[1]
    perm = torch.tensor([int(f"{s:0{n}b}"[::-1], 2) for s in range(2**n)])
    return transition_solution(W, b, c)[perm][:, perm]


def transition_no_visible_bias(W, b, c):
    return transition_solution(W, torch.zeros_like(b), c)


def cd_solution(v0, vk, W, b, c):
    p0, pk = torch.sigmoid(v0 @ W.T + c), torch.sigmoid(vk @ W.T + c)
    return (p0.T @ v0 / len(v0) - pk.T @ vk / len(vk), v0.mean(0) - vk.mean(0),
            p0.mean(0) - pk.mean(0))


def cd_model_minus_data(v0, vk, W, b, c):
    return tuple(-t for t in cd_solution(v0, vk, W, b, c))


def cd_wrong_orientation(v0, vk, W, b, c):
    dw, db, dc = cd_solution(v0, vk, W, b, c)
    return dw.T, db, dc


def cd_one_batch_size(v0, vk, W, b, c):
    p0, pk = torch.sigmoid(v0 @ W.T + c), torch.sigmoid(vk @ W.T + c)
    return ((p0.T @ v0 - pk.T @ vk) / len(v0), v0.mean(0) - vk.mean(0),
            p0.mean(0) - pk.mean(0))


def ais_solution(log_w, log_z_base):
    return log_z_base + torch.logsumexp(log_w, 0) - math.log(len(log_w))


def ais_mean_of_logs(log_w, log_z_base):
    return log_z_base + log_w.mean()


def ais_naive(log_w, log_z_base):
    return log_z_base + torch.log(torch.exp(log_w).mean())


def ais_sum_not_mean(log_w, log_z_base):
    return log_z_base + torch.logsumexp(log_w, 0)


@pytest.mark.parametrize(("checker", "solution"), [
    (checks.gibbs_transition_matrix, transition_solution),
    (checks.cd_gradient_from_chains, cd_solution),
    (checks.ais_log_z, ais_solution),
])
def test_checkers_accept_the_solutions(capsys, checker, solution):
    assert checker(solution) is True
    assert "✓" in capsys.readouterr().out
    assert checker.notebook == "04_contrastive_divergence"


@pytest.mark.parametrize(("checker", "wrong", "says"), [
    (checks.gibbs_transition_matrix, transition_mean_field, "3 visible, 2 hidden"),
    (checks.gibbs_transition_matrix, transition_transposed, "3 visible, 2 hidden"),
    (checks.gibbs_transition_matrix, transition_msb_first, "3 visible, 2 hidden"),
    (checks.gibbs_transition_matrix, transition_no_visible_bias, "3 visible, 2 hidden"),
    (checks.cd_gradient_from_chains, cd_model_minus_data, "8 chains"),
    (checks.cd_gradient_from_chains, cd_wrong_orientation, "shape"),
    (checks.cd_gradient_from_chains, cd_one_batch_size, "different batch sizes"),
    (checks.ais_log_z, ais_mean_of_logs, "Jensen"),
    (checks.ais_log_z, ais_naive, "overflows"),
    (checks.ais_log_z, ais_sum_not_mean, "four equal"),
])
def test_checkers_reject_typical_mistakes(capsys, checker, wrong, says):
    assert_rejected(capsys, checker, wrong, says)


def test_stubs_read_as_not_attempted(capsys):
    assert_stubs_not_attempted(capsys, [
        checks.gibbs_transition_matrix,
        checks.cd_gradient_from_chains,
        checks.ais_log_z,
    ])
