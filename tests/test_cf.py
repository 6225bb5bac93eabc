"""Tests for ``ebm_helpers.cf``: the softmax RBM for ratings, baselines and synthetic data.

Oracles: brute-force enumeration of the joint p(V, h) ∝ exp(-E(V, h)) of a tiny model (2 items ×
3 stars × 2 hidden) for both conditionals; perturbation of masked vs observed ratings for the
gradient; held-out RMSE against the global-mean and item-mean baselines (seeded).
"""

from __future__ import annotations

import itertools

import pytest
import torch

from ebm_helpers import cf


def gen(seed):
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="module")
def data():
    return cf.synthetic_ratings(seed=0)


def tiny_model():
    torch.manual_seed(0)
    m = cf.SoftmaxRBM(2, 2, n_stars=3, generator=gen(3), init_std=1.0, dtype=torch.float64)
    with torch.no_grad():
        m.v_bias.copy_(torch.randn(2, 3, generator=gen(4), dtype=torch.float64))
        m.h_bias.copy_(torch.randn(2, generator=gen(5), dtype=torch.float64))
    return m


# --------------------------------------------------------------------------------------------
# Conditionals against enumeration
# --------------------------------------------------------------------------------------------


def test_conditionals_match_enumeration():
    m = tiny_model()
    vs = torch.tensor(list(itertools.product([1, 2, 3], repeat=2)))  # (9, 2) all ratings
    hs = torch.tensor(list(itertools.product([0.0, 1.0], repeat=2)), dtype=torch.float64)
    with torch.no_grad():
        e = torch.stack([m.energy(vs, h.expand(9, -1)) for h in hs], 1)  # (9 V, 4 h)
    joint = torch.exp(-e)
    joint = joint / joint.sum()
    # p(h_j = 1 | V) by summing the joint over h
    p_h_enum = (joint[:, :, None] * hs[None]).sum(1) / joint.sum(1, keepdim=True)
    torch.testing.assert_close(m.p_h(vs), p_h_enum)
    # p(v_i = k | h): marginalise the joint over the other item
    pv = m.p_v(hs)  # (4, 2, 3)
    torch.testing.assert_close(pv.sum(-1), torch.ones(4, 2, dtype=torch.float64))
    for a, _ in enumerate(hs):
        col = joint[:, a] / joint[:, a].sum()
        for i in range(2):
            enum = torch.stack([col[vs[:, i] == k].sum() for k in (1, 2, 3)])
            torch.testing.assert_close(pv[a, i], enum)
    # free energy: -log Σ_h exp(-E)
    torch.testing.assert_close(m.free_energy(vs), -torch.logsumexp(-e, 1))


def test_missing_item_drops_out_of_p_h():
    m = tiny_model()
    r = torch.tensor([[2, 0]])
    one_item = cf.SoftmaxRBM(1, 2, n_stars=3, dtype=torch.float64)
    with torch.no_grad():
        one_item.W.copy_(m.W[:1])
        one_item.h_bias.copy_(m.h_bias)
    torch.testing.assert_close(m.p_h(r), one_item.p_h(torch.tensor([[2]])))


def test_conditionals_sum_to_one_and_predictions_in_range(data):
    m = cf.SoftmaxRBM(200, 8, generator=gen(0), init_std=1.0)
    pv = m.p_v(m.p_h(data.train[:50]))
    torch.testing.assert_close(pv.sum(-1), torch.ones(50, 200))
    pred = m.predict(data.train[:50])
    assert pred.shape == (50, 200) and bool((pred >= 1).all()) and bool((pred <= 5).all())


# --------------------------------------------------------------------------------------------
# Gradient ignores missing entries
# --------------------------------------------------------------------------------------------


def test_masked_rating_does_not_affect_gradient(data):
    m = cf.SoftmaxRBM(200, 8, generator=gen(0))
    r = data.train[:30].clone()
    mask = r > 0
    u, i = torch.nonzero(~mask)[7].tolist()
    r[u, i] = 1  # a value under mask False: ignored
    g0 = cf.cd_gradient(m, r, mask, generator=gen(1))
    r2 = r.clone()
    r2[u, i] = 5
    g1 = cf.cd_gradient(m, r2, mask, generator=gen(1))
    for a, b in zip((g0.W, g0.v_bias, g0.h_bias), (g1.W, g1.v_bias, g1.h_bias), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    # and missing-as-zero gives the same gradient as the explicit mask
    g2 = cf.cd_gradient(m, data.train[:30], generator=gen(1))
    torch.testing.assert_close(g0.W, g2.W, rtol=0, atol=0)
    # perturbing an observed rating changes it
    uo, io = torch.nonzero(mask)[3].tolist()
    r3 = r.clone()
    r3[uo, io] = 1 + r3[uo, io] % 5
    g3 = cf.cd_gradient(m, r3, mask, generator=gen(1))
    assert not torch.equal(g0.W, g3.W)
    assert not torch.equal(g0.W[io], g3.W[io])


def test_unrated_items_get_zero_gradient():
    """An item no user in the batch rated gets exactly zero W and b gradient (both phases)."""
    m = tiny_model()
    g = cf.cd_gradient(m, torch.tensor([[3, 0], [1, 0]]), generator=gen(0))
    assert torch.count_nonzero(g.W[1]) == 0 and torch.count_nonzero(g.v_bias[1]) == 0


# --------------------------------------------------------------------------------------------
# Synthetic data
# --------------------------------------------------------------------------------------------


def test_synthetic_determinism_scale_density_split(data):
    again = cf.synthetic_ratings(seed=0)
    assert torch.equal(again.train, data.train) and torch.equal(again.test, data.test)
    assert not torch.equal(cf.synthetic_ratings(seed=1).train, data.train)
    obs = data.train_mask | data.test_mask
    assert bool((data.train[data.train_mask] >= 1).all())
    assert bool((data.train[data.train_mask] <= 5).all())
    assert set(data.test[data.test_mask].unique().tolist()) <= {1, 2, 3, 4, 5}
    assert not bool((data.train_mask & data.test_mask).any())  # disjoint
    density = float(obs.double().mean())
    assert 0.09 < density < 0.12  # 0.1 plus the guaranteed 3 per user
    assert 0.15 < float(data.test_mask.sum() / obs.sum()) < 0.25
    assert bool(data.train_mask.any(1).all())  # every user has a training rating
    assert data.user_factors.shape == (500, 3) and data.item_factors.shape == (200, 3)
    assert len(torch.bincount(data.train[data.train_mask])) == 6  # all five stars occur


# --------------------------------------------------------------------------------------------
# Baselines and the RBM on held-out ratings
# --------------------------------------------------------------------------------------------


def test_baselines(data):
    g = cf.rmse(cf.global_mean(data.train), data.test)
    i = cf.rmse(cf.item_mean(data.train), data.test)
    assert i < g
    mf = cf.MatrixFactorization(n_factors=3, l2=1.0).fit(data.train, generator=gen(0))
    assert cf.rmse(mf.predict(), data.test) < i - 0.2
    assert cf.rmse(torch.full((2, 2), 3.0), torch.tensor([[3, 0], [0, 5]])) == pytest.approx(
        2 ** 0.5)


def test_softmax_rbm_beats_item_mean(data):
    """Measured (seed 0 data, seeds 1/2): item mean 1.173, RBM ≈ 0.99, MF ≈ 0.75."""
    torch.set_num_threads(1)
    item = cf.rmse(cf.item_mean(data.train), data.test)
    glob = cf.rmse(cf.global_mean(data.train), data.test)
    m = cf.SoftmaxRBM(200, 20, generator=gen(1))
    hist = cf.train_softmax_rbm(m, data.train, epochs=30, test=data.test, generator=gen(2),
                                progress=False)
    rbm = hist["test_rmse"][-1]
    assert rbm < glob and rbm < item - 0.1
    assert hist["train_rmse"][-1] < hist["train_rmse"][0]


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ratings, match",
    [
        (torch.tensor([[1, 6], [2, 0]]), "outside the scale"),
        (torch.tensor([[1, -1], [2, 0]]), "outside the scale"),
        (torch.tensor([[1, 2], [0, 0]]), "no observed rating"),
        (torch.tensor([[1, 2, 3], [2, 1, 1]]), "item column"),
        (torch.tensor([1, 2]), "matrix"),
        (torch.tensor([[1.5, 2.0], [1.0, 1.0]]), "whole-number"),
        (torch.zeros(2, 2, dtype=torch.long), "no observed rating"),
    ],
)
def test_bad_ratings(ratings, match):
    m = cf.SoftmaxRBM(2, 3)
    with pytest.raises(ValueError, match=match):
        cf.cd_gradient(m, ratings)


def test_bad_other_inputs(data):
    with pytest.raises(ValueError, match="same shape"):
        cf.rmse(torch.zeros(3, 2), torch.ones(2, 2))
    with pytest.raises(ValueError, match="shape of ratings"):
        cf.cd_gradient(cf.SoftmaxRBM(2, 3), torch.ones(2, 2, dtype=torch.long),
                       mask=torch.ones(3, 2, dtype=torch.bool))
    with pytest.raises(ValueError, match="mask True"):
        cf.global_mean(torch.tensor([[0, 2]]), mask=torch.tensor([[True, True]]))
    with pytest.raises(ValueError, match="no observed rating"):
        cf.MatrixFactorization().fit(torch.tensor([[1, 2], [0, 0]]))
    with pytest.raises(ValueError, match="density"):
        cf.synthetic_ratings(density=0)
    with pytest.raises(ValueError, match="not fitted"):
        cf.MatrixFactorization().predict()
    with pytest.raises(ValueError, match="test"):
        cf.train_softmax_rbm(cf.SoftmaxRBM(200, 2), data.train, epochs=1,
                             test=data.test[:, :10], progress=False)
