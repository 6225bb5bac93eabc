"""The checkers of notebook 05's exercises accept the reference solutions and reject typical
wrong answers (only the top layer, a missing transpose, no bias; a missing entropy term, NaN
from 0 · log 0, the wrong axis; going down: W transposed, the layers in the wrong order, the
top layer fed to every layer). The reference bound is also checked against its theory:
below log p(v), equal to it at the posterior."""

from __future__ import annotations

import pytest
import torch
from checker_asserts import assert_rejected, assert_stubs_not_attempted

from ebm_helpers import checks
from ebm_helpers.checks import nb05


def up_solution(v, layers):
    out, x = [], v
    for W, c in layers:
        x = torch.sigmoid(x @ W.T + c)
        out.append(x)
    return out


def up_top_only(v, layers):
    return up_solution(v, layers)[-1]


def up_no_transpose(v, layers):
    out, x = [], v
    for W, c in layers:
        x = torch.sigmoid(x @ W + c)
        out.append(x)
    return out


def up_no_bias(v, layers):
    return up_solution(v, [(W, 0 * c) for W, c in layers])


def bound_solution(log_joint, q):
    return (q * log_joint).sum(-1) - torch.xlogy(q, q).sum(-1)


def bound_no_entropy(log_joint, q):
    return (q * log_joint).sum(-1)


def bound_nan_at_zero(log_joint, q):
    return (q * (log_joint - torch.log(q))).sum(-1)


def bound_wrong_axis(log_joint, q):
    return (q * log_joint).sum(0) - torch.xlogy(q, q).sum(0)


def test_reference_bound_obeys_jensen():
    g = torch.Generator().manual_seed(0)
    log_joint = torch.randn(5, 6, generator=g, dtype=torch.float64)
    q = torch.softmax(torch.randn(5, 6, generator=g, dtype=torch.float64), -1)
    log_p = torch.logsumexp(log_joint, -1)
    assert (nb05._bound_reference(log_joint, q) < log_p).all()
    assert torch.allclose(nb05._bound_reference(log_joint, torch.softmax(log_joint, -1)), log_p)


def down_solution(h_top, layers):
    x = h_top
    for W, b in reversed(layers):
        x = torch.sigmoid(x @ W + b)
    return x


def down_transposed(h_top, layers):
    x = h_top
    for W, b in reversed(layers):
        x = torch.sigmoid(x @ W.T + b)
    return x


def down_wrong_order(h_top, layers):
    x = h_top
    for W, b in layers:
        x = torch.sigmoid(x @ W + b)
    return x


def down_top_layer_only(h_top, layers):
    W, b = layers[-1]
    return torch.sigmoid(h_top @ W + b)


@pytest.mark.parametrize(("checker", "solution"), [
    (checks.recognition_pass, up_solution),
    (checks.variational_bound, bound_solution),
    (checks.generative_pass, down_solution),
])
def test_checkers_accept_the_solutions(capsys, checker, solution):
    assert checker(solution) is True
    assert "✓" in capsys.readouterr().out
    assert checker.notebook == "05_deep_belief_networks"


@pytest.mark.parametrize(("checker", "wrong", "says"), [
    (checks.recognition_pass, up_top_only, "one layer"),
    (checks.recognition_pass, up_no_transpose, "one layer 6 → 4"),
    (checks.recognition_pass, up_no_bias, "one layer"),
    (checks.variational_bound, bound_no_entropy, "random q"),
    (checks.variational_bound, bound_nan_at_zero, "zero entries"),
    (checks.variational_bound, bound_wrong_axis, "random q"),
    (checks.generative_pass, down_transposed, "one layer 6 → 4"),
    (checks.generative_pass, down_wrong_order, "two layers"),
    (checks.generative_pass, down_top_layer_only, "two layers"),
])
def test_checkers_reject_typical_mistakes(capsys, checker, wrong, says):
    assert_rejected(capsys, checker, wrong, says)


def test_stubs_read_as_not_attempted(capsys):
    assert_stubs_not_attempted(capsys, [checks.recognition_pass, checks.variational_bound,
                                        checks.generative_pass])
