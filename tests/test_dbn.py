"""Tests for ``ebm_helpers.dbn``: DBN passes, greedy pre-training, classifiers, fine-tuning.

Oracles: a one-layer DBN must equal its RBM (up = p(h|v), down = p(v|h), sample = the RBM's own
Gibbs chain with the same generator); greedy pre-training is reproduced step by step with
``rbm.train_rbm`` on the same generator and must give bit-identical weights; a classifier built
from the stack must compute the up-pass before fine-tuning. Fine-tuning is judged on binarised
8×8 digits with fixed seeds.
"""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F

from ebm_helpers import data
from ebm_helpers import dbn as D
from ebm_helpers import rbm as R
from ebm_helpers.rbm import RBM


def gen(seed):
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="module")
def digits():
    return data.load_digits(binarize=True)


def trained_rbm(n_v, n_h, seed):
    """An RBM with non-trivial parameters (random, larger than the N(0, 0.01²) init)."""
    g = gen(seed)
    r = RBM(n_v, n_h, generator=g, init_std=1.0)
    with torch.no_grad():
        r.v_bias.copy_(torch.randn(n_v, generator=g))
        r.h_bias.copy_(torch.randn(n_h, generator=g))
    return r


# --------------------------------------------------------------------------------------------
# Construction and passes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sizes", [[12, 8, 5], [12, 9, 7, 4]])
def test_shapes_of_up_down_sample(sizes):
    net = D.DBN([trained_rbm(a, b, i) for i, (a, b) in enumerate(itertools.pairwise(sizes))])
    assert net.layer_sizes == sizes and len(net) == net.n_layers == len(sizes) - 1
    v = torch.bernoulli(torch.full((6, sizes[0]), 0.5), generator=gen(1))
    ups = net.up(v)
    assert [tuple(u.shape) for u in ups] == [(6, n) for n in sizes[1:]]
    assert all(bool(((u > 0) & (u < 1)).all()) for u in ups)
    p = net.down(ups[-1])
    assert p.shape == (6, sizes[0]) and bool(((p >= 0) & (p <= 1)).all())
    p_s = net.down(ups[-1], stochastic=True, generator=gen(2))
    assert p_s.shape == (6, sizes[0]) and not torch.equal(p_s, p)
    for kwargs in ({}, {"v0": v}, {"stochastic": True}):
        p_v, s = net.sample(6, 5, generator=gen(3), **kwargs)
        assert p_v.shape == s.shape == (6, sizes[0])
        assert bool(((s == 0) | (s == 1)).all())


def test_up_is_the_layerwise_recognition_pass():
    net = D.DBN([trained_rbm(10, 7, 0), trained_rbm(7, 3, 1)])
    v = torch.rand(4, 10, generator=gen(5))
    r1, r2 = net.rbms
    h1 = torch.sigmoid(v @ r1.W.T + r1.h_bias)
    h2 = torch.sigmoid(h1 @ r2.W.T + r2.h_bias)
    ups = net.up(v)
    torch.testing.assert_close(ups[0], h1)
    torch.testing.assert_close(ups[1], h2)
    # the downward pass uses the generative biases b (v_bias) of each RBM
    x = torch.rand(4, 3, generator=gen(6))
    expected = torch.sigmoid(torch.sigmoid(x @ r2.W + r2.v_bias) @ r1.W + r1.v_bias)
    torch.testing.assert_close(net.down(x), expected)


def test_one_layer_dbn_equals_the_rbm():
    r = trained_rbm(9, 6, 0)
    net = D.DBN([r])
    v = torch.bernoulli(torch.full((20, 9), 0.4), generator=gen(1))
    torch.testing.assert_close(net.up(v)[0], r.sample_h(v, generator=gen(0))[0], rtol=0, atol=0)
    h = torch.bernoulli(torch.full((20, 6), 0.5), generator=gen(2))
    torch.testing.assert_close(net.down(h), r.sample_v(h, generator=gen(0))[0], rtol=0, atol=0)
    for v0 in (None, v):
        p_d, s_d = net.sample(20, 7, generator=gen(11), v0=v0)
        p_r, s_r = r.sample(20, 7, generator=gen(11), v0=v0)
        assert torch.equal(p_d, p_r) and torch.equal(s_d, s_r)


def test_multi_layer_sample_is_top_gibbs_then_down_pass():
    net = D.DBN([trained_rbm(10, 7, 0), trained_rbm(7, 5, 1)])
    p, s = net.sample(8, 4, generator=gen(3))
    g = gen(3)
    _, x = net.rbms[1].sample(8, 4, generator=g)
    p_exp = net.rbms[0].sample_v(x)[0]
    torch.testing.assert_close(p, p_exp, rtol=0, atol=0)
    assert torch.equal(s, (torch.rand(p.shape, generator=g) < p_exp).float())


def test_from_sizes_and_dbn_uses_the_given_rbms():
    net = D.DBN.from_sizes([5, 4, 3], generator=gen(0))
    assert net.layer_sizes == [5, 4, 3]
    r = RBM(3, 2)
    assert D.DBN([r]).rbms[0] is r


# --------------------------------------------------------------------------------------------
# Pre-training
# --------------------------------------------------------------------------------------------


def test_pretrain_trains_each_layer_on_the_previous_probabilities(digits):
    x = digits.x_train[:300]
    kw = {"lr": 0.05, "batch_size": 25, "progress": False}
    net, hist = D.pretrain_dbn([64, 20, 12], x, epochs=[3, 2], generator=gen(7), **kw)
    assert len(hist) == 2 and len(hist[0]["epoch"]) == 3 and len(hist[1]["epoch"]) == 2

    g = gen(7)
    r1 = RBM(64, 20, generator=g)
    R.train_rbm(r1, x, 3, generator=g, **kw)
    p1 = r1.sample_h(x)[0]  # probabilities, not samples
    assert not bool(((p1 == 0) | (p1 == 1)).all())
    r2 = RBM(20, 12, generator=g)
    R.train_rbm(r2, p1, 2, generator=g, **kw)
    for got, want in zip(net.rbms, (r1, r2), strict=True):
        for name in ("W", "v_bias", "h_bias"):
            assert torch.equal(getattr(got, name), getattr(want, name)), name
    # the second layer's visible biases are the log-odds of the first layer's probabilities
    # (train_rbm's data initialisation), which differs from those of binary samples
    assert net.rbms[1].v_bias.shape == (20,)


def test_pretrain_is_deterministic_and_leaves_global_rng_alone(digits):
    x = digits.x_train[:200]
    state = torch.random.get_rng_state()
    a, _ = D.pretrain_dbn([64, 16, 8], x, epochs=2, generator=gen(3), progress=False)
    b, _ = D.pretrain_dbn([64, 16, 8], x, epochs=2, generator=gen(3), progress=False)
    c, _ = D.pretrain_dbn([64, 16, 8], x, epochs=2, generator=gen(4), progress=False)
    assert torch.equal(torch.random.get_rng_state(), state)
    for ra, rb in zip(a.rbms, b.rbms, strict=True):
        assert torch.equal(ra.W, rb.W) and torch.equal(ra.h_bias, rb.h_bias)
    assert not torch.equal(a.rbms[0].W, c.rbms[0].W)


def test_pretrain_accepts_probabilities_only_when_asked():
    x = torch.rand(30, 6, generator=gen(0))
    with pytest.raises(ValueError, match="binar"):
        D.pretrain_dbn([6, 4], x, epochs=1, generator=gen(0), progress=False)
    net, _ = D.pretrain_dbn([6, 4], x, epochs=1, generator=gen(0), progress=False,
                            allow_probabilities=True)
    assert net.layer_sizes == [6, 4]


# --------------------------------------------------------------------------------------------
# Classifiers and fine-tuning
# --------------------------------------------------------------------------------------------


def test_to_classifier_copies_the_recognition_weights():
    net = D.DBN([trained_rbm(10, 7, 0), trained_rbm(7, 5, 1)])
    clf = D.to_classifier(net, 4, generator=gen(0))
    lins = [m for m in clf if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in lins] == [(10, 7), (7, 5), (5, 4)]
    for lin, r in zip(lins, net.rbms, strict=False):
        assert torch.equal(lin.weight, r.W) and torch.equal(lin.bias, r.h_bias)
        assert lin.weight.data_ptr() != r.W.data_ptr()
    v = torch.rand(3, 10, generator=gen(1))
    torch.testing.assert_close(clf[:-1](v), net.up(v)[-1])
    assert clf(v).shape == (3, 4)


def test_random_classifier_architecture_and_init():
    state = torch.random.get_rng_state()
    clf = D.random_classifier([64, 50, 40], 10, generator=gen(0))
    assert torch.equal(torch.random.get_rng_state(), state)
    lins = [m for m in clf if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in lins] == [(64, 50), (50, 40), (40, 10)]
    assert sum(isinstance(m, torch.nn.Sigmoid) for m in clf) == 2
    w = lins[0].weight.detach()
    assert float(w.abs().max()) <= 1 / 8 and float(w.abs().max()) > 0.12  # U(-1/√64, 1/√64)
    clf2 = D.random_classifier([64, 50, 40], 10, generator=gen(0))
    assert all(torch.equal(p, q) for p, q in zip(clf.parameters(), clf2.parameters(),
                                                   strict=True))
    small = D.random_classifier([64, 50], 10, generator=gen(0), init="normal")
    assert float(small[0].weight.detach().std()) == pytest.approx(0.01, rel=0.05)
    assert float(small[0].bias.detach().abs().max()) == 0


def test_fine_tune_learns_binarised_digits(digits):
    x, y = digits.x_train, digits.y_train
    net, _ = D.pretrain_dbn([64, 64, 64], x, epochs=5, generator=gen(0), progress=False)
    snapshot = net.rbms[0].W.clone()
    clf = D.to_classifier(net, 10, generator=gen(0))
    with torch.no_grad():
        loss0 = float(F.cross_entropy(clf(x), y))
    hist = D.fine_tune(clf, x, y, epochs=6, lr=0.01, optimizer="adam", generator=gen(0),
                       progress=False, x_val=digits.x_test, y_val=digits.y_test)
    assert hist["loss"][-1] < hist["loss"][0] < loss0
    assert hist["train_accuracy"][-1] > 0.9
    assert hist["val_accuracy"][-1] > 0.8
    assert D.accuracy(clf, x, y) == pytest.approx(hist["train_accuracy"][-1])
    assert torch.equal(net.rbms[0].W, snapshot)  # the DBN itself is untouched


def test_fine_tune_is_deterministic(digits):
    x, y = digits.x_train[:200], digits.y_train[:200]
    runs = []
    for _ in range(2):
        clf = D.random_classifier([64, 20], 10, generator=gen(1))
        h = D.fine_tune(clf, x, y, epochs=2, generator=gen(2), progress=False)
        runs.append((h["loss"], [p.detach().clone() for p in clf.parameters()]))
    assert runs[0][0] == runs[1][0]
    assert all(torch.equal(p, q) for p, q in zip(runs[0][1], runs[1][1], strict=True))


# --------------------------------------------------------------------------------------------
# Bad inputs
# --------------------------------------------------------------------------------------------


def test_bad_dbn_construction():
    with pytest.raises(ValueError, match="at least one RBM"):
        D.DBN([])
    with pytest.raises(ValueError, match="layer size mismatch"):
        D.DBN([RBM(6, 4), RBM(5, 3)])
    with pytest.raises(ValueError, match=r"must be an ebm_helpers\.rbm\.RBM"):
        D.DBN([RBM(6, 4), torch.nn.Linear(4, 3)])
    with pytest.raises(ValueError, match="at least one hidden size"):
        D.DBN.from_sizes([6])
    with pytest.raises(ValueError, match="layer_sizes must be a list"):
        D.DBN.from_sizes(6)


def test_bad_pass_inputs():
    net = D.DBN([RBM(6, 4), RBM(4, 3)])
    with pytest.raises(ValueError, match="6 feature"):
        net.up(torch.rand(2, 5))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        net.up(torch.full((2, 6), 2.0))
    with pytest.raises(ValueError, match="3 feature"):
        net.down(torch.rand(2, 4))
    with pytest.raises(ValueError, match="one row per chain"):
        net.sample(5, 2, v0=torch.rand(3, 6))
    with pytest.raises(ValueError, match="n_gibbs"):
        net.sample(5, 0)


def test_bad_pretraining_inputs():
    x = torch.bernoulli(torch.full((20, 6), 0.5), generator=gen(0))
    kw = {"epochs": 1, "generator": gen(0), "progress": False}
    with pytest.raises(ValueError, match="layer_sizes"):
        D.pretrain_dbn([], x, **kw)
    with pytest.raises(ValueError, match=r"layer_sizes\[0\] = 7"):
        D.pretrain_dbn([7, 4], x, **kw)
    with pytest.raises(ValueError, match="binar"):
        D.pretrain_dbn([6, 4], x * 0.5 + 0.25, **kw)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        D.pretrain_dbn([6, 4], x * 3, **kw)
    with pytest.raises(ValueError, match="one per layer"):
        D.pretrain_dbn([6, 4, 3], x, epochs=[1, 1, 1], generator=gen(0), progress=False)
    with pytest.raises(ValueError, match="'init' cannot be passed"):
        D.pretrain_dbn([6, 4], x, init="keep", **kw)
    with pytest.raises(ValueError, match="layer_sizes\\[1\\] must be at least 1"):
        D.pretrain_dbn([6, 0], x, **kw)


def test_bad_classifier_inputs():
    net = D.DBN([RBM(6, 4)])
    for bad in (1, 0, 2.5):
        with pytest.raises(ValueError, match="n_classes"):
            D.to_classifier(net, bad)
        with pytest.raises(ValueError, match="n_classes"):
            D.random_classifier([6, 4], bad)
    with pytest.raises(ValueError, match="init"):
        D.random_classifier([6, 4], 3, init="xavier")
    clf = D.random_classifier([6, 4], 3, generator=gen(0))
    x = torch.rand(5, 6)
    with pytest.raises(ValueError, match="labels 0 … 2"):
        D.fine_tune(clf, x, torch.tensor([0, 1, 2, 3, 0]), epochs=1)
    with pytest.raises(ValueError, match="same number of rows"):
        D.fine_tune(clf, x, torch.tensor([0, 1]), epochs=1)
    with pytest.raises(ValueError, match="integer class labels"):
        D.fine_tune(clf, x, torch.zeros(5), epochs=1)
    with pytest.raises(ValueError, match="6 feature"):
        D.fine_tune(clf, torch.rand(5, 7), torch.zeros(5, dtype=torch.long), epochs=1)
    with pytest.raises(ValueError, match="optimizer"):
        D.fine_tune(clf, x, torch.zeros(5, dtype=torch.long), epochs=1, optimizer="rmsprop")
    with pytest.raises(ValueError, match="both x_val and y_val"):
        D.fine_tune(clf, x, torch.zeros(5, dtype=torch.long), epochs=1, x_val=x)
