"""The checkers of notebook 04's exercises accept the reference solutions and reject typical
wrong answers (model minus data, a missing transpose, one batch size for both phases, the mean
of the log weights, a naive exponential)."""

from __future__ import annotations

import math

import pytest
import torch

from ebm_helpers import checks


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
    (checks.cd_gradient_from_chains, cd_solution),
    (checks.ais_log_z, ais_solution),
])
def test_checkers_accept_the_solutions(capsys, checker, solution):
    assert checker(solution) is True
    assert "✓" in capsys.readouterr().out
    assert checker.notebook == "04_contrastive_divergence"


@pytest.mark.parametrize(("checker", "wrong", "says"), [
    (checks.cd_gradient_from_chains, cd_model_minus_data, "8 chains"),
    (checks.cd_gradient_from_chains, cd_wrong_orientation, "shape"),
    (checks.cd_gradient_from_chains, cd_one_batch_size, "different batch sizes"),
    (checks.ais_log_z, ais_mean_of_logs, "Jensen"),
    (checks.ais_log_z, ais_naive, "overflows"),
    (checks.ais_log_z, ais_sum_not_mean, "four equal"),
])
def test_checkers_reject_typical_mistakes(capsys, checker, wrong, says):
    assert checker(wrong) is False
    out = capsys.readouterr().out
    assert "✗" in out and says in out and "hint" in out


def test_stubs_read_as_not_attempted(capsys):
    def stub(*args):
        raise NotImplementedError

    for checker in [checks.cd_gradient_from_chains, checks.ais_log_z]:
        assert checker(stub) is False
        assert "not attempted yet" in capsys.readouterr().out
