"""Checkers for the exercises of notebook 03 (restricted Boltzmann machines): the conditional
p(h = 1 | v), the free energy F(v), and scikit-learn's one-flip pseudo-log-likelihood, with W of
shape (n_h, n_v) as in ``rbm.RBM``."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .. import rbm
from ._core import Case, checker, close, run_cases

NOTEBOOK = "03_restricted_boltzmann_machines"


def _model(n_v: int, n_h: int, seed: int, scale: float = 1.0) -> rbm.RBM:
    g = torch.Generator().manual_seed(seed)
    m = rbm.RBM(n_v, n_h, generator=g, dtype=torch.float64)
    with torch.no_grad():
        m.W.copy_(scale * torch.randn(n_h, n_v, generator=g, dtype=torch.float64))
        m.v_bias.copy_(torch.randn(n_v, generator=g, dtype=torch.float64))
        m.h_bias.copy_(torch.randn(n_h, generator=g, dtype=torch.float64))
    return m


def _binary(n: int, n_v: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 2, (n, n_v), generator=g).to(torch.float64)


def _params(m: rbm.RBM):
    return m.W.detach().clone(), m.v_bias.detach().clone(), m.h_bias.detach().clone()


def _cases(what: str):
    small, wide, sharp = _model(6, 4, 0), _model(5, 9, 1), _model(8, 3, 2, scale=300.0)
    out = []
    for label, m, v in [
        ("6 visible, 4 hidden units, 5 binary vectors", small, _binary(5, 6, 10)),
        ("5 visible, 9 hidden units (more hidden than visible)", wide, _binary(4, 5, 11)),
        ("8 visible, 3 hidden units with weights of size ~300 (log(1 + exp(a)) overflows "
         "unless you use softplus)", sharp, _binary(6, 8, 12)),
        ("the all-zero vector (only the biases act)", small, torch.zeros(1, 6,
                                                                          dtype=torch.float64)),
    ]:
        w, b, c = _params(m)
        args = (v, w, b, c) if what == "free_energy" else (v, w, c)
        out.append(Case(label, args))
    return out


def _p_h_reference(v, W, c):
    m = rbm.RBM(W.shape[1], W.shape[0], dtype=W.dtype)
    with torch.no_grad():
        m.W.copy_(W)
        m.h_bias.copy_(c)
    return m.sample_h(v, generator=torch.Generator().manual_seed(0))[0]


def _free_energy_reference(v, W, b, c):
    m = rbm.RBM(W.shape[1], W.shape[0], dtype=W.dtype)
    with torch.no_grad():
        m.W.copy_(W)
        m.v_bias.copy_(b)
        m.h_bias.copy_(c)
        return m.free_energy(v)


@checker(NOTEBOOK)
def hidden_probabilities(candidate) -> bool:
    """``candidate(v, W, c) -> (batch, n_h)``: p(h_j = 1 | v) = sigm(c_j + Σ_i W_ji v_i)."""
    return run_cases("hidden_probabilities", candidate, _p_h_reference, _cases("p_h"),
                     close(rtol=1e-9, atol=1e-12),
                     hint="W has shape (n_h, n_v): torch.sigmoid(v @ W.T + c)")


@checker(NOTEBOOK)
def rbm_free_energy(candidate) -> bool:
    """``candidate(v, W, b, c) -> (batch,)``: F(v) = −bᵀv − Σ_j softplus(c_j + (Wv)_j)."""
    return run_cases("rbm_free_energy", candidate, _free_energy_reference, _cases("free_energy"),
                     close(rtol=1e-9, atol=1e-9),
                     hint="sum h out: F(v) = -(v @ b) - F.softplus(v @ W.T + c).sum(1); "
                          "softplus(a) = log(1 + e^a) without overflow")


def _pll_reference(v, W, b, c, idx):
    """n_v · log sigm(F(ṽ) − F(v)), ṽ = v with bit idx[n] of row n flipped (the tested F)."""
    flipped = v.clone()
    rows = torch.arange(v.shape[0])
    flipped[rows, idx] = 1 - flipped[rows, idx]
    f_v = _free_energy_reference(v, W, b, c)
    return v.shape[1] * F.logsigmoid(_free_energy_reference(flipped, W, b, c) - f_v)


@checker(NOTEBOOK)
def pseudo_likelihood_one_flip(candidate) -> bool:
    """``candidate(v, W, b, c, idx) -> (batch,)``: n_v · log sigm(F(ṽ) − F(v)), bit idx[n] of
    row n flipped in ṽ (scikit-learn's ``score_samples`` with the random bits given)."""
    g = torch.Generator().manual_seed(30)
    small, square, sharp = _model(6, 4, 0), _model(5, 5, 3), _model(8, 3, 2, scale=3000.0)
    cases = []
    for label, m, v in [
        ("6 visible, 4 hidden units, 5 binary vectors", small, _binary(5, 6, 13)),
        ("5 visible, 5 hidden units (square W: a missing transpose shows only in the values)",
         square, _binary(4, 5, 14)),
        ("8 visible, 3 hidden units with weights of size ~3000 (log(sigm(a)) underflows to "
         "-inf unless you use logsigmoid)", sharp, _binary(6, 8, 15)),
    ]:
        w, b, c = _params(m)
        idx = torch.randint(0, v.shape[1], (v.shape[0],), generator=g)
        cases.append(Case(label, (v, w, b, c, idx)))
    w, b, c = _params(small)
    cases.append(Case("the same bit (bit 0) flipped in every row", (
        _binary(3, 6, 16), w, b, c, torch.zeros(3, dtype=torch.long))))
    return run_cases("pseudo_likelihood_one_flip", candidate, _pll_reference, cases,
                     close(rtol=1e-9, atol=1e-9),
                     hint="flip a copy (v.clone()) at [rows, idx], then "
                          "n_v * F.logsigmoid(free_energy(flipped) - free_energy(v))")


__all__ = ["hidden_probabilities", "pseudo_likelihood_one_flip", "rbm_free_energy"]
