"""Checkers for the exercises of notebook 04 (contrastive divergence): one block-Gibbs sweep of a
tiny RBM as a transition matrix, the CD gradient from the ends of the Gibbs chains, and the AIS
estimate of log Z from the log importance weights."""

from __future__ import annotations

import math

import torch

from .. import partition, rbm
from ._core import Case, checker, close, run_cases

NOTEBOOK = "04_contrastive_divergence"


def _model(n_v: int, n_h: int, seed: int) -> rbm.RBM:
    g = torch.Generator().manual_seed(seed)
    m = rbm.RBM(n_v, n_h, generator=g, dtype=torch.float64)
    with torch.no_grad():
        m.W.copy_(torch.randn(n_h, n_v, generator=g, dtype=torch.float64))
        m.v_bias.copy_(0.5 * torch.randn(n_v, generator=g, dtype=torch.float64))
        m.h_bias.copy_(0.5 * torch.randn(n_h, generator=g, dtype=torch.float64))
    return m


def _cd_reference(v0, vk, W, b, c):
    """The CD/PCD estimate of ``rbm.cd_gradient`` given the chain ends: positive phase on the
    data v0, negative phase at the chain states vk, both with p(h | v) (Rao–Blackwellised)."""
    m = rbm.RBM(W.shape[1], W.shape[0], dtype=W.dtype)
    with torch.no_grad():
        m.W.copy_(W)
        m.v_bias.copy_(b)
        m.h_bias.copy_(c)
        p0, pk = m._p_h(v0), m._p_h(vk)
    return (p0.T @ v0 / len(v0) - pk.T @ vk / len(vk), v0.mean(0) - vk.mean(0),
            p0.mean(0) - pk.mean(0))


@checker(NOTEBOOK)
def cd_gradient_from_chains(candidate) -> bool:
    """``candidate(v0, vk, W, b, c) -> (dW, db, dc)``, dW of W's shape (n_h, n_v)."""
    cases = []
    for label, (n_v, n_h, n0, nk, seed) in [
        ("6 visible, 4 hidden, 8 data rows and 8 chains", (6, 4, 8, 8, 0)),
        ("5 visible, 7 hidden, 10 data rows and 3 persistent chains (different batch sizes)",
         (5, 7, 10, 3, 1)),
        ("one data row, one chain", (4, 2, 1, 1, 2)),
    ]:
        m = _model(n_v, n_h, seed)
        g = torch.Generator().manual_seed(100 + seed)
        v0 = torch.randint(0, 2, (n0, n_v), generator=g).to(torch.float64)
        vk = torch.randint(0, 2, (nk, n_v), generator=g).to(torch.float64)
        cases.append(Case(label, (v0, vk, m.W.detach().clone(), m.v_bias.detach().clone(),
                                  m.h_bias.detach().clone())))
    same = cases[0].args
    cases.append(Case("chains that did not move (vk = v0): every term is zero",
                      (same[0], same[0].clone(), *same[2:])))
    return run_cases("cd_gradient_from_chains", candidate, _cd_reference, cases,
                     close(rtol=1e-9, atol=1e-12),
                     hint="p0 = sigmoid(v0 @ W.T + c), pk = sigmoid(vk @ W.T + c); "
                          "dW = p0.T @ v0 / len(v0) − pk.T @ vk / len(vk) (data minus model), "
                          "db = mean of v0 − mean of vk, dc = mean of p0 − mean of pk")


def _transition_reference(W, b, c):
    """``partition.gibbs_transition`` of the RBM with these parameters."""
    m = rbm.RBM(W.shape[1], W.shape[0], dtype=W.dtype)
    with torch.no_grad():
        m.W.copy_(W)
        m.v_bias.copy_(b)
        m.h_bias.copy_(c)
    return partition.gibbs_transition(m, dtype=W.dtype)


@checker(NOTEBOOK)
def gibbs_transition_matrix(candidate) -> bool:
    """``candidate(W, b, c) -> T`` of shape (2^n_v, 2^n_v), T[s, t] = p(v' = t | v = s) for one
    sweep v → h → v', states numbered as in ``partition.binary_states``."""
    cases = []
    for label, (n_v, n_h, scale, seed) in [
        ("3 visible, 2 hidden units, N(0, 1) parameters", (3, 2, 1.0, 0)),
        ("2 visible, 4 hidden units (more hidden than visible)", (2, 4, 1.0, 1)),
        ("4 visible, 1 hidden unit, large weights (moves nearly deterministic)", (4, 1, 8.0, 2)),
    ]:
        m = _model(n_v, n_h, seed)
        with torch.no_grad():
            m.W.mul_(scale)
        cases.append(Case(label, (m.W.detach().clone(), m.v_bias.detach().clone(),
                                  m.h_bias.detach().clone())))
    zero = _model(3, 2, 3)
    cases.append(Case("zero weights (v' forgets v: every row is the same distribution)",
                      (torch.zeros(2, 3, dtype=torch.float64), zero.v_bias.detach().clone(),
                       zero.h_bias.detach().clone())))
    return run_cases("gibbs_transition_matrix", candidate, _transition_reference, cases,
                     close(rtol=1e-9, atol=1e-12),
                     hint="list states with partition.binary_states(n) for both layers; the table "
                          "A[s, j] = p(h_j | v_s) = Π_units (sigm(c + W v_s) if on, else 1 − it) "
                          "over all 2^n_h hidden states h_j, B[j, t] = p(v_t | h_j) likewise with "
                          "sigm(b + h_j W); T = A @ B sums over h, and each row sums to 1")


def _ais_reference(log_w, log_z_base):
    """log Ẑ = log Z_A + log((1/M) Σ_m w_m), as in ``partition.ais_log_partition``."""
    return log_z_base + torch.logsumexp(log_w, 0) - math.log(len(log_w))


@checker(NOTEBOOK)
def ais_log_z(candidate) -> bool:
    """``candidate(log_w, log_z_base) -> log Ẑ``: the log of the mean weight, plus log Z_A."""
    g = torch.Generator().manual_seed(7)
    spread = 2.0 * torch.randn(200, generator=g, dtype=torch.float64)
    cases = [
        Case("four equal weights (log Ẑ = log Z_A + log w)",
             (torch.full((4,), 0.7, dtype=torch.float64), 3.0)),
        Case("200 log weights with spread 2 (the mean of the log weights is too low: Jensen)",
             (spread, 10.0)),
        Case("log weights around 900 (exp overflows unless you shift)",
             (900.0 + spread[:50], -5.0)),
        Case("log weights around −900 (exp underflows unless you shift)",
             (-900.0 + spread[:50], 1.0)),
    ]
    return run_cases("ais_log_z", candidate, _ais_reference, cases,
                     close(rtol=1e-9, atol=1e-9),
                     hint="average the weights, not their logs: log_z_base + "
                          "torch.logsumexp(log_w, 0) − log(len(log_w))")


__all__ = ["ais_log_z", "cd_gradient_from_chains", "gibbs_transition_matrix"]
