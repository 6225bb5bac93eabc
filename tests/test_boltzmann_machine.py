"""Tests for ``ebm_helpers.boltzmann_machine`` against independent oracles.

* enumeration against brute force with ``itertools.product`` and explicit sums over i < j;
* the phase-difference gradient against autograd of the exact log-likelihood (one free
  parameter per connection, W = U + Uᵀ with U strictly upper triangular) and against central
  finite differences;
* exact training increases the exact log-likelihood at every step for a small learning rate;
* Gibbs sampling against the exact distribution, with the iid TV bound of ``conftest.py``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from ebm_helpers import boltzmann_machine as bm


def _params(nv, nh, seed, scale=0.7):
    p = bm.random_params(nv, nh, torch.Generator().manual_seed(seed), scale=scale)
    p.b = 0.5 * torch.randn(nv + nh, generator=torch.Generator().manual_seed(seed + 100),
                            dtype=torch.float64)
    return p


def _data(nv, m, seed):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(m, nv, generator=g, dtype=torch.float64) < 0.4).double()


def _brute_energy(p, s):
    n = len(s)
    e = -sum(float(p.W[i, j]) * s[i] * s[j] for i in range(n) for j in range(i + 1, n))
    return e - sum(float(p.b[i]) * s[i] for i in range(n))


def test_all_states_and_index_roundtrip():
    s = bm.all_states(5)
    assert s.shape == (32, 5)
    assert torch.equal(bm.state_index(s), torch.arange(32))
    assert s[6].tolist() == [0, 1, 1, 0, 0]  # 6 = 0b110, least significant bit first
    assert len({tuple(r) for r in s.tolist()}) == 32


def test_energy_and_partition_against_brute_force():
    p = _params(3, 2, 0)
    states = list(itertools.product([0, 1], repeat=5))
    e_brute = [_brute_energy(p, s) for s in states]
    e = bm.energy(p, torch.tensor(states, dtype=torch.float64))
    assert np.allclose(e.numpy(), e_brute)
    log_z = math.log(sum(math.exp(-x) for x in e_brute))
    assert bm.log_partition(p) == pytest.approx(log_z, abs=1e-12)


def test_visible_marginal_against_brute_force():
    p = _params(3, 2, 1)
    log_z = bm.log_partition(p)
    lp = bm.visible_log_probs(p)
    assert float(lp.exp().sum()) == pytest.approx(1.0, abs=1e-12)
    for k, v in enumerate(bm.all_states(3).tolist()):
        total = sum(math.exp(-_brute_energy(p, v + list(h)))
                    for h in itertools.product([0, 1], repeat=2))
        assert float(lp[k]) == pytest.approx(math.log(total) - log_z, abs=1e-12)


def test_phases_against_brute_force():
    p = _params(3, 2, 2)
    data = _data(3, 7, 3)
    pos, neg = bm.positive_phase(p, data), bm.negative_phase(p)
    n = 5
    states = [list(s) for s in itertools.product([0, 1], repeat=n)]
    w = np.array([math.exp(-_brute_energy(p, s)) for s in states])
    w /= w.sum()
    ss = sum(wk * np.outer(s, s) for wk, s in zip(w, states, strict=True))
    assert np.allclose(neg.ss.numpy(), ss, atol=1e-12)
    assert np.allclose(neg.s.numpy(), np.diag(ss), atol=1e-12)
    ss_pos = np.zeros((n, n))
    for v in data.tolist():
        full = [v + list(h) for h in itertools.product([0, 1], repeat=2)]
        wh = np.array([math.exp(-_brute_energy(p, s)) for s in full])
        wh /= wh.sum()
        ss_pos += sum(wk * np.outer(s, s) for wk, s in zip(wh, full, strict=True)) / len(data)
    assert np.allclose(pos.ss.numpy(), ss_pos, atol=1e-12)
    # clamped: the visible moments are those of the data
    assert np.allclose(pos.s[:3].numpy(), data.mean(0).numpy(), atol=1e-12)


def _ll_autograd(u, b, nv, data):
    """Exact mean log p(v) as a differentiable function of (U, b), W = U + Uᵀ."""
    W = torch.triu(u, 1) + torch.triu(u, 1).T
    n = W.shape[0]
    s = bm.all_states(n)
    logits = 0.5 * ((s @ W) * s).sum(1) + s @ b
    joint = logits - torch.logsumexp(logits, 0)
    lv = torch.logsumexp(joint.reshape(2 ** (n - nv), 2**nv), 0)
    return lv[bm.state_index(data)].mean()


@pytest.mark.parametrize(("nv", "nh"), [(3, 2), (4, 0), (2, 3)])
def test_gradient_equals_autograd(nv, nh):
    p = _params(nv, nh, 4)
    data = _data(nv, 9, 5)
    dW, db = bm.exact_gradient(p, data)
    u = p.W.clone().requires_grad_(True)
    b = p.b.clone().requires_grad_(True)
    _ll_autograd(u, b, nv, data).backward()
    assert torch.allclose(dW, torch.triu(u.grad, 1) + torch.triu(u.grad, 1).T, atol=1e-12)
    assert torch.allclose(db, b.grad, atol=1e-12)
    assert torch.equal(dW, dW.T) and float(dW.diagonal().abs().max()) == 0.0


def test_gradient_equals_finite_differences():
    p = _params(3, 2, 6)
    data = _data(3, 5, 7)
    dW, _ = bm.exact_gradient(p, data)
    eps = 1e-6
    for i, j in [(0, 1), (1, 4), (3, 4)]:
        plus, minus = p.copy(), p.copy()
        for q, sgn in [(plus, 1), (minus, -1)]:
            q.W[i, j] += sgn * eps
            q.W[j, i] += sgn * eps
        fd = (bm.log_likelihood(plus, data) - bm.log_likelihood(minus, data)) / (2 * eps)
        assert float(dW[i, j]) == pytest.approx(fd, abs=1e-7)


def test_training_increases_exact_log_likelihood():
    data = torch.tensor([[1, 1, 0, 0], [0, 0, 1, 1], [1, 1, 0, 0], [1, 0, 1, 0]],
                        dtype=torch.float64)
    p0 = bm.random_params(4, 2, torch.Generator().manual_seed(0))
    before = p0.W.clone()
    res = bm.train_exact(p0, data, 200, learning_rate=0.5)
    assert torch.equal(p0.W, before)  # input untouched
    ll = res.log_likelihood
    assert ll.shape == (201,) and res.grad_norm.shape == (200,)
    assert np.all(np.diff(ll) > -1e-12)
    assert ll[-1] > ll[0] + 1.0
    # upper bound: the data's own entropy (log-likelihood of the empirical distribution)
    pd = bm.empirical_distribution(data)
    bound = float((pd[pd > 0] * pd[pd > 0].log()).sum())
    assert ll[-1] <= bound + 1e-9
    tv = 0.5 * float((bm.visible_log_probs(res.params).exp() - pd).abs().sum())
    assert tv < 0.2


def test_empirical_distribution():
    data = torch.tensor([[0, 0], [1, 0], [1, 0], [1, 1]])
    assert bm.empirical_distribution(data).tolist() == [0.25, 0.5, 0.0, 0.25]


def test_gibbs_sampling_matches_exact(tv_bound):
    p = _params(3, 2, 8, scale=1.0)
    g = torch.Generator().manual_seed(9)
    n = 4000
    s = bm.gibbs_sample(p, torch.zeros(n, 5), 40, g)
    hist = torch.bincount(bm.state_index(s), minlength=32).double() / n
    exact = bm.model_log_probs(p).exp()
    tv = 0.5 * float((hist - exact).abs().sum())
    assert tv < tv_bound(exact.numpy(), n)


def test_clamped_gibbs_keeps_visible_units():
    p = _params(3, 2, 10)
    v = _data(3, 50, 11)
    s0 = torch.cat([v, torch.zeros(50, 2, dtype=torch.float64)], 1)
    s = bm.gibbs_sample(p, s0, 3, torch.Generator().manual_seed(0), clamp_visible=True)
    assert torch.equal(s[:, :3], v)


def test_too_many_units_is_a_clear_error():
    with pytest.raises(ValueError, match=r"2\^21.*sampling.*RBM"):
        bm.random_params(15, 6)
    with pytest.raises(ValueError, match="limited to 20 units"):
        bm.all_states(25)
    with pytest.raises(ValueError, match=r"2\^1284 ≈ 10\^387 states"):  # no float overflow
        bm.random_params(784, 500)


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda p: setattr(p, "W", p.W + torch.eye(p.n_units)), "zero diagonal"),
        (lambda p: setattr(p, "W", torch.triu(p.W)), "symmetric"),
        (lambda p: setattr(p, "b", p.b[:-1]), "b must have shape"),
        (lambda p: setattr(p, "n_visible", 0), "n_visible"),
        (lambda p: p.W.__setitem__((0, 1), float("nan")), "non-finite"),
    ],
)
def test_bad_params(mutate, match):
    p = _params(3, 1, 0)
    mutate(p)
    with pytest.raises(ValueError, match=match):
        bm.log_partition(p)


def test_bad_data():
    p = _params(3, 1, 0)
    with pytest.raises(ValueError, match=r"\(x \+ 1\) / 2"):
        bm.log_likelihood(p, torch.tensor([[1.0, -1.0, 1.0]]))
    with pytest.raises(ValueError, match="shape"):
        bm.log_likelihood(p, torch.ones(2, 4))
    with pytest.raises(ValueError, match="only 0 and 1"):
        bm.positive_phase(p, torch.full((2, 3), 0.5))
