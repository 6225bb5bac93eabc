"""Checkers for the exercises of notebook 06 (RBM collaborative filtering): the hidden
probabilities p(h | V) over a user's *observed* ratings, and the mean-field prediction of the
expected number of stars."""

from __future__ import annotations

import torch

from .. import cf
from ._core import Case, checker, close, run_cases

NOTEBOOK = "06_rbm_collaborative_filtering"


def _model(seed: int, n_items: int = 6, n_hidden: int = 4, n_stars: int = 5):
    """Random (W, b, c) of a softmax RBM in float64, biases random too (so no term hides)."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(n_items, n_stars, n_hidden, generator=g, dtype=torch.float64)
    b = 0.5 * torch.randn(n_items, n_stars, generator=g, dtype=torch.float64)
    c = 0.5 * torch.randn(n_hidden, generator=g, dtype=torch.float64)
    return w, b, c


def _package(w, b, c) -> cf.SoftmaxRBM:
    m = cf.SoftmaxRBM(w.shape[0], w.shape[2], w.shape[1], dtype=torch.float64)
    with torch.no_grad():
        m.W.copy_(w)
        m.v_bias.copy_(b)
        m.h_bias.copy_(c)
    return m


_RATINGS = torch.tensor([[5, 0, 3, 0, 0, 1],
                         [0, 2, 0, 4, 4, 0],
                         [1, 1, 0, 0, 0, 0]])


def _random_ratings(seed: int, users: int, items: int, density: float = 0.3):
    g = torch.Generator().manual_seed(seed)
    r = torch.randint(1, 6, (users, items), generator=g)
    r[torch.rand(users, items, generator=g) > density] = 0
    r[:, 0] = torch.where(r[:, 0] == 0, 3, r[:, 0])  # everyone rated something
    return r


@checker(NOTEBOOK)
def softmax_rbm_p_h(candidate) -> bool:
    """``candidate(ratings, W, c) -> (users, hidden)``: sigm(c_j + Σ_{rated i} W[i, r_ui-1, j])."""
    w, _, c = _model(0)
    w2, _, c2 = _model(1, n_items=12, n_hidden=7)
    cases = [
        Case("three users of section 2's shape (0 = missing)", (_RATINGS, w, c)),
        Case("a user who rated every item with 5 stars",
             (torch.full((1, 6), 5), w, c)),
        Case("40 random users, 12 items, 7 hidden units",
             (_random_ratings(2, 40, 12), w2, c2)),
    ]

    def reference(ratings, w, c):
        return _package(w, torch.zeros(w.shape[:2], dtype=w.dtype), c).p_h(ratings)

    return run_cases("softmax_rbm_p_h", candidate, reference, cases,
                     close(rtol=1e-6, atol=1e-8),
                     hint="one-hot the ratings to (users, items, K) with all-zero rows where a "
                          "rating is missing (F.one_hot(r, K + 1)[..., 1:]), then "
                          "torch.sigmoid(c + torch.einsum('uik,ikj->uj', v, W))")


@checker(NOTEBOOK)
def mean_field_prediction(candidate) -> bool:
    """``candidate(ratings, W, b, c) -> (users, items)``: Σ_k k · p(v_ik = 1 | p̂), p̂ = p(h | V)."""
    cases = [
        Case("three users of section 2's shape", (_RATINGS, *_model(0))),
        Case("a user with a single rating", (torch.tensor([[0, 0, 4, 0, 0, 0]]), *_model(3))),
        Case("40 random users, 12 items, 7 hidden units",
             (_random_ratings(4, 40, 12), *_model(5, n_items=12, n_hidden=7))),
    ]

    def reference(ratings, w, b, c):
        return _package(w, b, c).predict(ratings)

    return run_cases("mean_field_prediction", candidate, reference, cases,
                     close(rtol=1e-6, atol=1e-8),
                     hint="p̂ = p(h = 1 | V) (probabilities, not samples); "
                          "p(v | p̂) = softmax over the last axis of b + einsum('ikj,uj->uik', W, "
                          "p̂); then the expected stars Σ_k k·p with k = 1..K (not 0..K-1)")
