"""Checkers for the exercises of notebook 05 (deep belief networks): the deterministic
recognition pass up a stack of RBMs, the variational lower bound on log p(v), and the
deterministic generative pass down the stack."""

from __future__ import annotations

import itertools

import torch

from .. import dbn, rbm
from ._core import Case, Mismatch, checker, close, run_cases

NOTEBOOK = "05_deep_belief_networks"


def _stack(sizes, seed: int, bias: str = "hidden") -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(W, bias) per RBM, bottom first: W (n_out, n_in); the hidden bias (n_out,) for the upward
    pass, the visible bias (n_in,) for the downward one."""
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(n_out, n_in, generator=g, dtype=torch.float64),
             torch.randn(n_out if bias == "hidden" else n_in, generator=g, dtype=torch.float64))
            for n_in, n_out in itertools.pairwise(sizes)]


def _dbn(layers, bias: str) -> dbn.DBN:
    """A DBN of RBMs with the given weights and (hidden or visible) biases."""
    rbms = []
    for W, b in layers:
        r = rbm.RBM(W.shape[1], W.shape[0], dtype=W.dtype)
        with torch.no_grad():
            r.W.copy_(W)
            (r.h_bias if bias == "hidden" else r.v_bias).copy_(b)
        rbms.append(r)
    return dbn.DBN(rbms)


def _up_reference(v, layers):
    with torch.no_grad():
        return _dbn(layers, "hidden").up(v)


@checker(NOTEBOOK)
def recognition_pass(candidate) -> bool:
    """``candidate(v, layers) -> list``: x^l = sigm(c^l + x^(l−1) W^lᵀ), every layer's output."""
    g = torch.Generator().manual_seed(3)
    cases = [
        Case("one layer 6 → 4", (torch.rand(5, 6, generator=g, dtype=torch.float64),
                                 _stack([6, 4], 0))),
        Case("two layers 6 → 8 → 3", (torch.rand(5, 6, generator=g, dtype=torch.float64),
                                      _stack([6, 8, 3], 1))),
        Case("three layers 5 → 5 → 5 → 5 (square weights: a missing transpose shows only in "
             "the values)", (torch.rand(4, 5, generator=g, dtype=torch.float64),
                             _stack([5, 5, 5, 5], 2))),
    ]

    def compare(expected, obtained):
        if not isinstance(obtained, (list, tuple)):
            raise Mismatch("return a list with one tensor per layer, not only the top layer")
        close(rtol=1e-9, atol=1e-12)(list(expected), list(obtained))

    return run_cases("recognition_pass", candidate, _up_reference, cases, compare,
                     hint="x = v; for W, c in layers: x = torch.sigmoid(x @ W.T + c) and keep "
                          "every x (the probabilities, not samples, go up)")


def _bound_reference(log_joint, q):
    """Σ_h q(h) (log p(v, h) − log q(h)) per row, with 0 · log 0 = 0."""
    safe = torch.where(q > 0, q, torch.ones_like(q))
    return torch.where(q > 0, q * (log_joint - torch.log(safe)), torch.zeros_like(q)).sum(-1)


@checker(NOTEBOOK)
def variational_bound(candidate) -> bool:
    """``candidate(log_joint, q) -> (batch,)``: E_q[log p(v, h)] + H(q) over the last axis."""
    g = torch.Generator().manual_seed(8)
    log_joint = torch.randn(3, 4, generator=g, dtype=torch.float64) - 2.0
    posterior = torch.softmax(log_joint, -1)
    q_rand = torch.softmax(torch.randn(3, 4, generator=g, dtype=torch.float64), -1)
    q_zero = torch.tensor([[0.5, 0.5, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.2, 0.3, 0.0, 0.5]],
                          dtype=torch.float64)
    cases = [
        Case("3 visible vectors, 4 hidden states, a random q (the bound is below log p(v))",
             (log_joint, q_rand)),
        Case("q equal to the posterior p(h | v) (the bound is tight: log p(v))",
             (log_joint, posterior)),
        Case("q with zero entries (0 · log 0 counts as 0)", (log_joint, q_zero)),
        Case("8 hidden states, one row", (torch.randn(1, 8, generator=g, dtype=torch.float64),
                                          torch.full((1, 8), 0.125, dtype=torch.float64))),
    ]
    return run_cases("variational_bound", candidate, _bound_reference, cases,
                     close(rtol=1e-9, atol=1e-12),
                     hint="(q * (log_joint − log q)).sum(-1), with the terms where q = 0 set "
                          "to 0 (torch.xlogy(q, q) computes q log q with 0 log 0 = 0)")


def _down_reference(h_top, layers):
    return _dbn(layers, "visible").down(h_top)


@checker(NOTEBOOK)
def generative_pass(candidate) -> bool:
    """``candidate(h_top, layers) -> (batch, n_v)``: from x^L = h_top down,
    p^(l−1) = sigm(b^l + x^l W^l), probabilities passed on, p⁰ = p(v = 1 | x¹) returned."""
    g = torch.Generator().manual_seed(9)

    def top(n, k):
        return torch.bernoulli(torch.full((n, k), 0.5, dtype=torch.float64), generator=g)

    cases = [
        Case("one layer 6 → 4 (p(v | h) of a single RBM)",
             (top(5, 4), _stack([6, 4], 10, bias="visible"))),
        Case("two layers 6 → 8 → 3", (top(5, 3), _stack([6, 8, 3], 11, bias="visible"))),
        Case("three layers 5 → 5 → 5 → 5 (square weights: a missing transpose or the wrong "
             "order of the layers shows only in the values)",
             (top(4, 5), _stack([5, 5, 5, 5], 12, bias="visible"))),
        Case("top layer given as probabilities, two layers 7 → 6 → 4",
             (torch.rand(3, 4, generator=g, dtype=torch.float64),
              _stack([7, 6, 4], 13, bias="visible"))),
    ]
    return run_cases("generative_pass", candidate, _down_reference, cases,
                     close(rtol=1e-9, atol=1e-12),
                     hint="x = h_top; for W, b in reversed(layers): x = torch.sigmoid(x @ W + b) "
                          "(W is (n_out, n_in): going down multiplies by W, not W.T)")


__all__ = ["generative_pass", "recognition_pass", "variational_bound"]
