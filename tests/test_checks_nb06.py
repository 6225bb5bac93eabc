"""The checkers of notebook 06's exercises accept the reference solutions and reject typical
wrong answers (missing ratings counted as a star, the hidden bias forgotten, a softmax over
hidden units; hidden samples instead of probabilities, stars counted from 0, the most likely
star instead of the expectation)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from checker_asserts import assert_rejected, assert_stubs_not_attempted

from ebm_helpers import checks


def _one_hot(ratings, k):
    return F.one_hot(ratings.long(), k + 1)[..., 1:].to(torch.float64)


def p_h_solution(ratings, W, c):
    v = _one_hot(ratings, W.shape[1])
    return torch.sigmoid(c + torch.einsum("uik,ikj->uj", v, W))


def p_h_missing_as_star(ratings, W, c):
    v = F.one_hot((ratings.long() - 1) % W.shape[1], W.shape[1]).to(torch.float64)
    return torch.sigmoid(c + torch.einsum("uik,ikj->uj", v, W))


def p_h_no_bias(ratings, W, c):
    return torch.sigmoid(torch.einsum("uik,ikj->uj", _one_hot(ratings, W.shape[1]), W))


def p_h_softmax(ratings, W, c):
    return torch.softmax(c + torch.einsum("uik,ikj->uj", _one_hot(ratings, W.shape[1]), W), 1)


def predict_solution(ratings, W, b, c):
    p_h = p_h_solution(ratings, W, c)
    p_v = torch.softmax(b + torch.einsum("ikj,uj->uik", W, p_h), dim=-1)
    return p_v @ torch.arange(1.0, W.shape[1] + 1, dtype=p_v.dtype)


def predict_sampled_h(ratings, W, b, c):
    p_h = p_h_solution(ratings, W, c)
    h = torch.bernoulli(p_h, generator=torch.Generator().manual_seed(0))
    p_v = torch.softmax(b + torch.einsum("ikj,uj->uik", W, h), dim=-1)
    return p_v @ torch.arange(1.0, W.shape[1] + 1, dtype=p_v.dtype)


def predict_stars_from_zero(ratings, W, b, c):
    p_h = p_h_solution(ratings, W, c)
    p_v = torch.softmax(b + torch.einsum("ikj,uj->uik", W, p_h), dim=-1)
    return p_v @ torch.arange(0.0, W.shape[1], dtype=p_v.dtype)


def predict_argmax(ratings, W, b, c):
    p_h = p_h_solution(ratings, W, c)
    p_v = torch.softmax(b + torch.einsum("ikj,uj->uik", W, p_h), dim=-1)
    return (p_v.argmax(-1) + 1).to(p_v.dtype)


@pytest.mark.parametrize(("checker", "solution"), [
    (checks.softmax_rbm_p_h, p_h_solution),
    (checks.mean_field_prediction, predict_solution),
])
def test_checkers_accept_the_solutions(capsys, checker, solution):
    assert checker(solution) is True
    assert "✓" in capsys.readouterr().out
    assert checker.notebook == "06_rbm_collaborative_filtering"


@pytest.mark.parametrize(("checker", "wrong", "says"), [
    (checks.softmax_rbm_p_h, p_h_missing_as_star, "0 = missing"),
    (checks.softmax_rbm_p_h, p_h_no_bias, "0 = missing"),
    (checks.softmax_rbm_p_h, p_h_softmax, "0 = missing"),
    (checks.mean_field_prediction, predict_sampled_h, "three users"),
    (checks.mean_field_prediction, predict_stars_from_zero, "three users"),
    (checks.mean_field_prediction, predict_argmax, "three users"),
])
def test_checkers_reject_typical_mistakes(capsys, checker, wrong, says):
    assert_rejected(capsys, checker, wrong, says)


def test_stubs_read_as_not_attempted(capsys):
    assert_stubs_not_attempted(capsys, [checks.softmax_rbm_p_h, checks.mean_field_prediction])
