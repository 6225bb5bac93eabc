"""Tests for ``ebm_helpers.partition``: exact enumeration and annealed importance sampling.

Oracles: sums over *all* joint states (v, h) of tiny models written here with itertools and the
energy formula; autograd of the exact log-likelihood; importance-sampling identities
(E[w] = Z / Z_A exactly, for any schedule), judged with standard errors computed from the
sample. AIS on a 64 × 16 RBM trained on binarised digits is compared with the exact log Z.
"""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest
import torch
from rbm_factory import random_rbm

from ebm_helpers import data
from ebm_helpers import partition as pt
from ebm_helpers.rbm import RBM, base_rate_log_odds, train_rbm


def joint_table(m):
    """All (v, h) pairs with p(v, h), by the energy formula in NumPy (no torch algebra)."""
    w, b, c = (t.detach().double().numpy() for t in (m.W, m.v_bias, m.h_bias))
    rows = []
    for v in itertools.product([0.0, 1.0], repeat=m.n_visible):
        for h in itertools.product([0.0, 1.0], repeat=m.n_hidden):
            v_, h_ = np.array(v), np.array(h)
            rows.append((v_, h_, v_ @ b + h_ @ c + h_ @ w @ v_))  # -E(v, h)
    neg_e = np.array([r[2] for r in rows])
    log_z = np.logaddexp.reduce(neg_e)
    p = np.exp(neg_e - log_z)
    return [r[0] for r in rows], [r[1] for r in rows], p, log_z


# --------------------------------------------------------------------------------------------
# Exact enumeration
# --------------------------------------------------------------------------------------------


def test_binary_states_are_the_binary_expansions():
    s = pt.binary_states(3)
    assert s.shape == (8, 3)
    for i in range(8):
        assert s[i].tolist() == [float((i >> j) & 1) for j in range(3)]
    assert torch.equal(pt.binary_states(3, 2, 5), s[2:5])
    with pytest.raises(ValueError, match="start"):
        pt.binary_states(3, 0, 9)


@pytest.mark.parametrize(
    ("n_visible", "n_hidden", "layer"), [(5, 3, "hidden"), (3, 6, "visible"), (4, 4, "hidden")]
)
def test_log_partition_matches_sum_over_all_joint_states(n_visible, n_hidden, layer):
    m = random_rbm(n_visible, n_hidden, seed=n_visible * 10 + n_hidden)
    assert pt.enumerated_layer(m) == layer
    _, _, _, log_z = joint_table(m)
    assert float(pt.log_partition_exact(m)) == pytest.approx(log_z, abs=1e-10)
    assert float(pt.log_partition_brute_force(m)) == pytest.approx(log_z, abs=1e-10)
    assert float(m.log_partition()) == pytest.approx(log_z, abs=1e-10)


@pytest.mark.parametrize(("n_visible", "n_hidden"), [(9, 6), (6, 9)])
@pytest.mark.parametrize("chunk_size", [1, 3, 7, 64])
def test_chunked_enumeration_equals_unchunked(n_visible, n_hidden, chunk_size):
    m = random_rbm(n_visible, n_hidden, seed=3, scale=2.0)
    whole = float(pt.log_partition_exact(m, chunk_size=2**20))  # a single chunk
    chunked = float(pt.log_partition_exact(m, chunk_size=chunk_size))
    assert chunked == pytest.approx(whole, abs=1e-10)
    assert chunked == pytest.approx(float(pt.log_partition_brute_force(m)), abs=1e-10)


def test_log_partition_float32_model_is_summed_in_float64():
    m64 = random_rbm(10, 7, seed=5, scale=1.5)
    m32 = RBM(10, 7)
    m32.load_state_dict({k: v.float() for k, v in m64.state_dict().items()})
    lz = m32.log_partition()
    assert lz.dtype == torch.float64
    assert float(lz) == pytest.approx(float(m64.log_partition()), abs=1e-5)


@pytest.mark.parametrize(("n_visible", "n_hidden"), [(30, 26), (26, 30), (784, 26)])
def test_too_large_smaller_layer_points_to_ais(n_visible, n_hidden):
    m = RBM(n_visible, n_hidden)
    with pytest.raises(ValueError, match="ais_log_partition"):
        m.log_partition()
    with pytest.raises(ValueError, match="26 units"):
        pt.log_partition_exact(m)


def test_twenty_five_units_are_accepted():
    assert pt.enumerated_layer(RBM(784, 25)) == "hidden"
    assert pt.enumerated_layer(RBM(25, 500)) == "visible"


def test_brute_force_refuses_large_models():
    with pytest.raises(ValueError, match="tiny"):
        pt.log_partition_brute_force(RBM(15, 6))


def test_visible_log_probs_is_the_marginal_of_the_joint():
    m = random_rbm(4, 3, seed=11, scale=1.5)
    vs, _, p, _ = joint_table(m)
    states, log_p = pt.visible_log_probs(m)
    assert float(torch.logsumexp(log_p, 0)) == pytest.approx(0.0, abs=1e-12)
    for s in range(16):
        v = states[s].numpy()
        marginal = sum(pj for vj, pj in zip(vs, p, strict=True) if np.array_equal(vj, v))
        assert math.exp(float(log_p[s])) == pytest.approx(marginal, rel=1e-10)


@pytest.mark.parametrize(("n_visible", "n_hidden"), [(4, 3), (3, 5)])
def test_model_expectations_match_the_joint_table(n_visible, n_hidden):
    m = random_rbm(n_visible, n_hidden, seed=2, scale=1.5)
    vs, hs, p, _ = joint_table(m)
    hv = sum(pj * np.outer(h, v) for v, h, pj in zip(vs, hs, p, strict=True))
    ev = sum(pj * v for v, pj in zip(vs, p, strict=True))
    eh = sum(pj * h for h, pj in zip(hs, p, strict=True))
    got = pt.model_expectations(m, chunk_size=3)
    np.testing.assert_allclose(got.hv.numpy(), hv, atol=1e-12)
    np.testing.assert_allclose(got.v.numpy(), ev, atol=1e-12)
    np.testing.assert_allclose(got.h.numpy(), eh, atol=1e-12)


@pytest.mark.parametrize(("n_visible", "n_hidden"), [(5, 3), (3, 6)])
def test_exact_gradient_matches_autograd_of_the_exact_log_likelihood(n_visible, n_hidden):
    """The CD-∞ gradient (positive phase − exact negative phase) is ∇ of the mean exact LL."""
    m = random_rbm(n_visible, n_hidden, seed=7, scale=1.2)
    g = torch.Generator().manual_seed(0)
    v = (torch.rand(25, n_visible, generator=g, dtype=torch.float64) < 0.4).double()
    ll = m.log_likelihood(v, log_z=m.log_partition(differentiable=True)).mean()
    gw, gb, gc = torch.autograd.grad(ll, [m.W, m.v_bias, m.h_bias])
    exact = pt.exact_gradient(m, v)
    torch.testing.assert_close(exact.hv, gw, atol=1e-12, rtol=0)
    torch.testing.assert_close(exact.v, gb, atol=1e-12, rtol=0)
    torch.testing.assert_close(exact.h, gc, atol=1e-12, rtol=0)


def test_gibbs_transition_is_the_joint_table_summed_over_h():
    # oracle: T[s, t] = Σ_h p(h | v_s) p(v_t | h) from the joint table p(v, h), in NumPy
    m = random_rbm(3, 2, seed=5)
    vs, _, p, _ = joint_table(m)
    n_v, n_h = 2**3, 2**2
    joint = np.array(p).reshape(n_v, n_h)  # rows in itertools order: v major, h minor
    # itertools.product lists unit 0 as the most significant bit; binary_states the least
    order = [int("".join(str(int(x)) for x in v[::-1]), 2) for v in vs[::n_h]]
    joint = joint[np.argsort(order)]
    h_given_v = joint / joint.sum(1, keepdims=True)
    v_given_h = (joint / joint.sum(0, keepdims=True)).T
    T = pt.gibbs_transition(m)
    assert T.shape == (8, 8)
    np.testing.assert_allclose(T.numpy(), h_given_v @ v_given_h, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(("n_visible", "n_hidden"), [(4, 3), (3, 5), (6, 1)])
def test_gibbs_transition_is_stochastic_and_leaves_the_model_invariant(n_visible, n_hidden):
    m = random_rbm(n_visible, n_hidden, seed=n_visible + 7 * n_hidden, scale=2.0)
    T = pt.gibbs_transition(m)
    torch.testing.assert_close(T.sum(1), torch.ones(2**n_visible, dtype=T.dtype))
    _, log_p = pt.visible_log_probs(m)
    p = log_p.exp()
    torch.testing.assert_close(p @ T, p, rtol=1e-10, atol=1e-14)


def test_gibbs_transition_matches_sampled_sweeps():
    # the frequency of each end state of one rbm.gibbs sweep from state 5, against T[5]:
    # within 5 binomial standard errors per state
    m = random_rbm(3, 2, seed=11)
    n = 40_000
    v0 = pt.binary_states(3)[5].expand(n, 3)
    v1 = m.gibbs(v0, k=1, generator=torch.Generator().manual_seed(0))
    idx = (v1 * torch.tensor([1.0, 2.0, 4.0], dtype=v1.dtype)).sum(1).long()
    freq = torch.bincount(idx, minlength=8).double() / n
    expected = pt.gibbs_transition(m)[5]
    se = (expected * (1 - expected) / n).sqrt()
    assert bool(((freq - expected).abs() <= 5 * se + 1e-12).all()), (freq, expected)


def test_expected_cd_gradient_limits_and_sampled_average():
    m = random_rbm(4, 3, seed=3, scale=1.5)
    g = torch.Generator().manual_seed(1)
    data = (torch.rand(30, 4, generator=g) < 0.4).double()
    idx = (data * torch.tensor([1.0, 2.0, 4.0, 8.0], dtype=data.dtype)).sum(1).long()
    p_data = torch.bincount(idx, minlength=16).double() / len(data)
    # k = 0: no move, no gradient; k → ∞: the exact gradient
    zero = pt.expected_cd_gradient(m, p_data, 0)
    assert all(float(t.abs().max()) == 0.0 for t in zero)
    exact = pt.exact_gradient(m, data)
    far = pt.expected_cd_gradient(m, p_data, 400)
    for a, b in zip(far, exact, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-9)
    # CD-2 averaged over many sampled chains converges to the expectation (5 standard errors)
    reps = torch.stack([torch.cat([t.flatten() for t in rbm_cd(m, data, g)]) for _ in range(400)])
    want = torch.cat([t.flatten() for t in pt.expected_cd_gradient(m, p_data, 2)])
    se = reps.std(0) / math.sqrt(len(reps))
    assert bool(((reps.mean(0) - want).abs() <= 5 * se + 1e-9).all())


def rbm_cd(m, data, g):
    from ebm_helpers.rbm import cd_gradient

    est = cd_gradient(m, data, k=2, generator=g)
    return est.W, est.v_bias, est.h_bias


def test_gibbs_transition_and_expected_cd_reject_bad_input():
    with pytest.raises(ValueError, match="n_v = 13"):
        pt.gibbs_transition(random_rbm(13, 2, seed=0))
    with pytest.raises(ValueError, match="n_h = 17"):
        pt.gibbs_transition(RBM(2, 17))
    m = random_rbm(3, 2, seed=0)
    with pytest.raises(ValueError, match="shape"):
        pt.expected_cd_gradient(m, torch.ones(4) / 4, 1)
    with pytest.raises(ValueError, match="sums to"):
        pt.expected_cd_gradient(m, torch.ones(8), 1)
    with pytest.raises(ValueError, match="k must"):
        pt.expected_cd_gradient(m, torch.ones(8) / 8, -1)


def test_log_partition_is_not_differentiable_by_default():
    m = random_rbm(4, 3, seed=0)
    assert not m.log_partition().requires_grad
    assert m.log_partition(differentiable=True).requires_grad


# --------------------------------------------------------------------------------------------
# AIS
# --------------------------------------------------------------------------------------------


def test_ais_betas():
    for schedule in ("linear", "sigmoid"):
        b = pt.ais_betas(50, schedule)
        assert b.shape == (50,)
        assert b[0] == 0 and b[-1] == 1 and bool((b[1:] > b[:-1]).all())
    sig = pt.ais_betas(101, "sigmoid")
    assert sig[1] < 0.5 * pt.ais_betas(101, "linear")[1]  # denser near the ends
    with pytest.raises(ValueError, match="schedule"):
        pt.ais_betas(10, "cosine")


@pytest.mark.parametrize("betas", [[0.0, 1.0], pt.ais_betas(6, "linear")])
def test_ais_weights_are_unbiased_for_z_ratio(betas):
    """E[w] = Z / Z_A for any schedule; a wrong transition or weight would bias the mean.

    The model is strongly coupled so that the weights are far from constant; the tolerance is
    4 standard errors of the sample mean of w."""
    m = random_rbm(6, 4, seed=21, scale=1.5)
    log_w, log_z_a = pt.ais_log_weights(m, 40_000, betas, torch.Generator().manual_seed(1))
    ratio = torch.exp(log_w + log_z_a - m.log_partition())  # w / (Z / Z_A), mean 1
    assert float(ratio.std()) > 0.3  # the check has power: the weights vary
    se = float(ratio.std()) / math.sqrt(ratio.numel())
    assert abs(float(ratio.mean()) - 1.0) < 4 * se


def test_ais_on_a_tiny_model_is_within_its_error_bar():
    m = random_rbm(8, 5, seed=4, scale=1.0)
    r = pt.ais_log_partition(m, 200, 300, torch.Generator().manual_seed(0))
    assert isinstance(r, pt.AISResult) and isinstance(r.log_z, float)
    assert 0 < r.error_bar < 0.1
    assert abs(r.log_z - float(m.log_partition())) <= r.error_bar


def test_ais_is_deterministic_given_the_generator():
    m = random_rbm(8, 5, seed=4)
    a = pt.ais_log_partition(m, 20, 50, torch.Generator().manual_seed(3))
    b = pt.ais_log_partition(m, 20, 50, torch.Generator().manual_seed(3))
    c = pt.ais_log_partition(m, 20, 50, torch.Generator().manual_seed(4))
    assert a == b
    assert a != c


def test_ais_rejects_bad_arguments():
    m = random_rbm(4, 3, seed=0)
    with pytest.raises(ValueError, match="increase strictly"):
        pt.ais_log_weights(m, 10, [0.0, 0.5, 0.4, 1.0])
    with pytest.raises(ValueError, match="increase strictly"):
        pt.ais_log_weights(m, 10, [0.1, 1.0])
    with pytest.raises(ValueError, match="n_chains"):
        pt.ais_log_partition(m, 1, 10)
    with pytest.raises(ValueError, match="base_visible_bias"):
        pt.ais_log_partition(m, 10, 10, base_visible_bias=torch.zeros(5))


@pytest.fixture(scope="module")
def digits_rbm():
    """A 64 × 16 RBM trained with the default recipe on binarised digits, its exact log Z,
    and the training data's log-odds (the AIS base model)."""
    d = data.load_digits(binarize=True)
    g = torch.Generator().manual_seed(0)
    m = RBM(64, 16, generator=g)
    train_rbm(m, d.x_train, generator=g, progress=False)
    return m, float(m.log_partition()), base_rate_log_odds(d.x_train)


def test_ais_matches_exact_log_z_of_a_trained_digits_rbm(digits_rbm):
    """The bar: within 0.05 nats of the exact log Z, inside the error bar, under 2 s.

    Settings: 500 chains, 1000 sigmoid-spaced betas (the defaults), base model = independent
    pixels at the training data's log-odds. Measured spread over seeds ≈ 0.01 nats (3σ error
    bar ≈ 0.03), ≈ 0.6 s on one core. Timed in CPU seconds of this process (all its threads), so a
    machine busy with other work does not fail the test; 2 s leaves room for a second thread."""
    m, exact, base = digits_rbm
    times = []
    for seed in range(2):
        t0 = time.process_time()
        r = pt.ais_log_partition(m, generator=torch.Generator().manual_seed(seed),
                                 base_visible_bias=base)
        times.append(time.process_time() - t0)
        assert abs(r.log_z - exact) < 0.05, (r, exact)
        assert abs(r.log_z - exact) <= r.error_bar, (r, exact)
        assert r.error_bar < 0.1
    assert min(times) < 2.0, times


def test_ais_with_too_few_betas_is_noticeably_worse(digits_rbm):
    """The error bar reacts to a poor schedule (plain importance sampling from the base)."""
    m, _, base = digits_rbm
    short = pt.ais_log_partition(m, 500, 2, torch.Generator().manual_seed(0),
                                 base_visible_bias=base)
    assert short.error_bar > 0.3
