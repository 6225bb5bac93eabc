"""Tests for ``ebm_helpers.rbm``: the RBM's energies, sampling, likelihoods and training.

Oracles: the energy formula evaluated with explicit loops; free energies and conditionals from
sums over all hidden (or visible) states of tiny models; exact p(v) and the exact gradient
(``partition``, itself checked against joint-state sums and autograd in test_partition.py);
statistical comparisons with tolerances derived from the sample size (4 standard errors, or the
iid total-variation bound of conftest.py). Training is judged by the exact log-likelihood.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from rbm_factory import random_rbm

from ebm_helpers import data
from ebm_helpers import partition as pt
from ebm_helpers import rbm as R
from ebm_helpers.rbm import RBM


def all_states(n):
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=n)), dtype=torch.float64)


def gen(seed):
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="module")
def digits():
    return data.load_digits(binarize=True)


# --------------------------------------------------------------------------------------------
# Construction and energies
# --------------------------------------------------------------------------------------------


def test_parameters_shapes_and_initialisation():
    m = RBM(784, 500, generator=gen(0))
    assert isinstance(m, torch.nn.Module)
    assert m.W.shape == (500, 784) and m.v_bias.shape == (784,) and m.h_bias.shape == (500,)
    assert m.n_visible == 784 and m.n_hidden == 500
    assert {n for n, _ in m.named_parameters()} == {"W", "v_bias", "h_bias"}
    # W ~ N(0, 0.01²): the sample std of 392 000 draws is within 1% of 0.01
    assert float(m.W.detach().std()) == pytest.approx(0.01, rel=0.01)
    assert not m.v_bias.detach().any() and not m.h_bias.detach().any()
    assert torch.equal(RBM(5, 3, generator=gen(1)).W, RBM(5, 3, generator=gen(1)).W)
    with pytest.raises(ValueError, match="n_hidden"):
        RBM(5, 0)


def test_energy_matches_explicit_sums():
    m = random_rbm(4, 3, seed=0)
    w, b, c = m.W.detach().numpy(), m.v_bias.detach().numpy(), m.h_bias.detach().numpy()
    v = all_states(4)[[0, 5, 10, 15]]
    h = all_states(3)[[7, 2, 0, 4]]
    e = m.energy(v, h).detach()
    assert e.shape == (4,)
    for n in range(4):
        ref = -sum(v[n, i] * b[i] for i in range(4)) - sum(h[n, j] * c[j] for j in range(3))
        ref -= sum(h[n, j] * w[j, i] * v[n, i] for i in range(4) for j in range(3))
        assert float(e[n]) == pytest.approx(float(ref), abs=1e-12)


def test_free_energy_sums_out_the_hidden_units():
    m = random_rbm(4, 5, seed=1, scale=1.5)
    vs, hs = all_states(4), all_states(5)
    for v in vs:
        energies = m.energy(v.expand(len(hs), -1), hs)
        ref = -torch.logsumexp(-energies, 0)
        assert m.free_energy(v[None])[0].item() == pytest.approx(ref.item(), abs=1e-12)


def test_free_energy_accepts_probabilities_and_is_differentiable():
    m = random_rbm(3, 2, seed=2)
    f = m.free_energy(torch.tensor([[0.2, 0.5, 1.0]], dtype=torch.float64))
    f.sum().backward()
    assert m.W.grad is not None and torch.isfinite(m.W.grad).all()


# --------------------------------------------------------------------------------------------
# Sampling
# --------------------------------------------------------------------------------------------


def test_conditionals_match_ratios_of_the_joint():
    """p(h_j = 1 | v) from exp(-E) summed over the other hidden units, and likewise for v."""
    m = random_rbm(3, 2, seed=3, scale=1.5)
    vs, hs = all_states(3), all_states(2)
    for v in vs:
        w = torch.exp(-m.energy(v.expand(len(hs), -1), hs)).detach()
        p_h, _ = m.sample_h(v[None])
        torch.testing.assert_close(p_h[0], (w[:, None] * hs).sum(0) / w.sum())
    for h in hs:
        w = torch.exp(-m.energy(vs, h.expand(len(vs), -1))).detach()
        p_v, _ = m.sample_v(h[None])
        torch.testing.assert_close(p_v[0], (w[:, None] * vs).sum(0) / w.sum())


def test_samples_follow_their_probabilities():
    m = random_rbm(6, 5, seed=4)
    v = (torch.rand(1, 6, generator=gen(0), dtype=torch.float64) < 0.5).double()
    n = 20_000
    p_h, h = m.sample_h(v.expand(n, -1), generator=gen(1))
    assert set(h.unique().tolist()) <= {0.0, 1.0}
    se = torch.sqrt(p_h[0] * (1 - p_h[0]) / n)
    assert bool(((h.mean(0) - p_h[0]).abs() < 4 * se).all())
    p_v, v_s = m.sample_v(h[:1].expand(n, -1), generator=gen(2))
    se = torch.sqrt(p_v[0] * (1 - p_v[0]) / n)
    assert bool(((v_s.mean(0) - p_v[0]).abs() < 4 * se).all())


def test_gibbs_chains_reach_the_exact_distribution(tv_bound):
    """Final states of many independent chains vs exact p(v) over all 2^5 states."""
    m = random_rbm(5, 3, seed=5, scale=1.5)
    _, log_p = pt.visible_log_probs(m)
    q = torch.exp(log_p).numpy()
    n = 20_000
    start = torch.zeros(n, 5, dtype=torch.float64)  # one corner, far from p(v)

    def tv_after(k):
        v = m.gibbs(start, k=k, generator=gen(6))
        idx = (v * 2 ** torch.arange(5, dtype=torch.float64)).sum(1).long()  # binary_states order
        freq = np.bincount(idx.numpy(), minlength=32) / n
        return 0.5 * np.abs(freq - q).sum()

    bound = tv_bound(q, n)
    assert tv_after(30) < bound
    assert tv_after(0) > 5 * bound  # the check has power: the start is far from p(v)


def test_sample_shapes_and_determinism():
    m = random_rbm(6, 4, seed=0)
    p, v = m.sample(50, n_steps=10, generator=gen(1))
    assert p.shape == v.shape == (50, 6)
    assert torch.equal(v, m.sample(50, n_steps=10, generator=gen(1))[1])


# --------------------------------------------------------------------------------------------
# Likelihoods
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n_visible", "n_hidden"), [(5, 3), (3, 6)])
def test_log_likelihood_is_a_normalised_distribution(n_visible, n_hidden):
    m = random_rbm(n_visible, n_hidden, seed=8, scale=1.5)
    vs = all_states(n_visible)
    ll = m.log_likelihood(vs)
    assert ll.shape == (2**n_visible,)
    assert float(torch.logsumexp(ll, 0)) == pytest.approx(0.0, abs=1e-12)
    # brute force: log Σ_h exp(-E(v, h)) - log Σ_{v,h} exp(-E(v, h))
    log_z = float(pt.log_partition_brute_force(m))
    hs = all_states(n_hidden)
    for v, lv in zip(vs, ll, strict=True):
        ref = torch.logsumexp(-m.energy(v.expand(len(hs), -1), hs), 0).item() - log_z
        assert float(lv) == pytest.approx(ref, abs=1e-10)
    torch.testing.assert_close(m.log_likelihood(vs, log_z=m.log_partition()), ll)


def test_exact_pseudo_log_likelihood_matches_conditionals_of_the_exact_distribution():
    m = random_rbm(4, 3, seed=9, scale=1.5)
    vs = all_states(4)
    p = torch.exp(m.log_likelihood(vs))
    pll = m.pseudo_log_likelihood(vs, exact=True)
    for s, v in enumerate(vs):
        ref = 0.0
        for i in range(4):
            flipped = v.clone()
            flipped[i] = 1 - flipped[i]
            t = int((flipped * 2 ** torch.arange(3, -1, -1, dtype=torch.float64)).sum())
            ref += math.log(p[s] / (p[s] + p[t]))  # log p(v_i | v_-i)
        assert float(pll[s]) == pytest.approx(ref, abs=1e-10)


def test_stochastic_pseudo_log_likelihood_is_unbiased_for_the_exact_one():
    """scikit-learn's one-random-bit estimate n_v · log p(v_i | v_-i), i uniform: its mean over
    many draws is the exact sum; tolerance 4 standard errors from the exact per-bit spread."""
    m = random_rbm(6, 4, seed=10, scale=1.5)
    v = (torch.rand(1, 6, generator=gen(0), dtype=torch.float64) < 0.5).double()
    exact = float(m.pseudo_log_likelihood(v, exact=True)[0])
    n = 20_000
    est = m.pseudo_log_likelihood(v.expand(n, -1), generator=gen(1))
    per_bit = []
    for i in range(6):
        fl = v.clone()
        fl[0, i] = 1 - fl[0, i]
        gap = (m.free_energy(fl) - m.free_energy(v)).detach()
        per_bit.append(6 * torch.nn.functional.logsigmoid(gap).item())
    se = float(np.std(per_bit)) / math.sqrt(n)
    assert float(np.std(per_bit)) > 0.5  # the bits differ: the estimate is noisy
    assert abs(float(est.mean()) - exact) < 4 * se


def test_pseudo_log_likelihood_is_deterministic_given_generator():
    m = random_rbm(6, 4, seed=10)
    v = all_states(6)[:20]
    assert torch.equal(m.pseudo_log_likelihood(v, gen(3)), m.pseudo_log_likelihood(v, gen(3)))


def test_independent_bernoulli_baseline_matches_formula():
    x = torch.tensor([[1.0, 0.0, 1.0], [1.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    lo = R.base_rate_log_odds(x)  # means 0.75, 0.25, 0.25
    p = torch.tensor([0.75, 0.25, 0.25])
    torch.testing.assert_close(torch.sigmoid(lo), p)
    ll = R.independent_bernoulli_log_likelihood(x, lo)
    ref = (x * p.log() + (1 - x) * (1 - p).log()).sum(1)
    torch.testing.assert_close(ll, ref)
    # always-off pixels get the clipped log-odds, not -inf
    clipped = float(R.base_rate_log_odds(torch.zeros(5, 2))[0])
    assert clipped == pytest.approx(math.log(1e-3 / 0.999))


# --------------------------------------------------------------------------------------------
# Gradients and updates
# --------------------------------------------------------------------------------------------


def _cd_check(m, v, k, reps, seed):
    """Mean CD-k gradient over ``reps`` copies of the batch, the exact gradient, and the
    standard errors of the negative-phase averages (from the per-chain values)."""
    x = v.repeat(reps, 1)
    g = R.cd_gradient(m, x, k=k, generator=gen(seed))
    exact = pt.exact_gradient(m, v)
    with torch.no_grad():
        ph = torch.sigmoid(m.h_bias + g.chains @ m.W.T)
        n = x.shape[0]
        se_w = (ph[:, :, None] * g.chains[:, None, :]).std(0) / math.sqrt(n)
        se_b = g.chains.std(0) / math.sqrt(n)
        se_c = ph.std(0) / math.sqrt(n)
    z = torch.cat([
        ((g.W - exact.hv) / se_w.clamp_min(1e-9)).flatten(),
        (g.v_bias - exact.v) / se_b.clamp_min(1e-9),
        (g.h_bias - exact.h) / se_c.clamp_min(1e-9),
    ])
    return z.abs().max().item()


def test_cd_with_many_steps_approaches_the_exact_gradient():
    """CD-k's negative phase becomes the exact model expectation as k grows: every entry of the
    CD-50 estimate (20 000 chains) lies within 4 standard errors of the exact gradient, while
    CD-1 from the same data is off by many standard errors (its bias)."""
    m = random_rbm(5, 3, seed=12, scale=1.5)
    v = torch.tensor([[1.0, 1, 1, 0, 0], [1, 1, 0, 0, 0], [0, 0, 0, 1, 1], [1, 1, 1, 1, 0]],
                     dtype=torch.float64)
    assert _cd_check(m, v, k=50, reps=5000, seed=0) < 4.0
    assert _cd_check(m, v, k=1, reps=5000, seed=0) > 10.0


def test_cd_step_applies_lr_weight_decay_and_momentum():
    m = random_rbm(6, 4, seed=13)
    v = (torch.rand(8, 6, generator=gen(0), dtype=torch.float64) < 0.5).double()
    lr, wd, mom = 0.1, 0.01, 0.5
    ref = random_rbm(6, 4, seed=13)
    g1 = R.cd_gradient(ref, v, k=2, generator=gen(1))
    w0 = m.W.detach().clone()
    step = R.cd_step(m, v, lr, k=2, momentum=mom, weight_decay=wd, generator=gen(1))
    torch.testing.assert_close(m.W.detach(), w0 + lr * (g1.W - wd * w0))
    torch.testing.assert_close(m.v_bias.detach(), ref.v_bias.detach() + lr * g1.v_bias)
    torch.testing.assert_close(m.h_bias.detach(), ref.h_bias.detach() + lr * g1.h_bias)
    assert int(m.n_updates) == 1
    # second step: u ← mom · u + lr · (g - wd W)
    with torch.no_grad():
        ref.load_state_dict(m.state_dict())
    g2 = R.cd_gradient(ref, v, k=2, generator=gen(2))
    w1 = m.W.detach().clone()
    R.cd_step(m, v, lr, k=2, momentum=mom, weight_decay=wd, velocity=step.velocity,
              generator=gen(2))
    torch.testing.assert_close(m.W.detach(), w1 + mom * (w1 - w0) + lr * (g2.W - wd * w1))


def test_pcd_chains_persist_between_calls():
    """Two sticky modes, all-off and all-on: data at all-off, chains at all-on. PCD keeps the
    chains where they were (so the visible-bias gradient is 0 - 1), CD restarts at the data."""
    m = RBM(4, 1, dtype=torch.float64)
    with torch.no_grad():
        m.W.fill_(30.0)  # h = 1 iff most pixels are on; v_i = h (flip probability σ(-15))
        m.v_bias.fill_(-15.0)
        m.h_bias.fill_(-60.0)
    v = torch.zeros(50, 4, dtype=torch.float64)
    chains = torch.ones(50, 4, dtype=torch.float64)
    pcd = R.cd_gradient(m, v, persistent_chains=chains, generator=gen(0))
    cd = R.cd_gradient(m, v, generator=gen(0))
    assert float(pcd.chains.mean()) == 1.0 and float(cd.chains.mean()) == 0.0
    torch.testing.assert_close(pcd.v_bias, -torch.ones(4, dtype=torch.float64))
    step = R.cd_step(m, v, 1e-3, persistent_chains=chains, generator=gen(0))
    again = R.cd_step(m, v, 1e-3, persistent_chains=step.chains, generator=gen(1))
    assert float(again.chains.mean()) == 1.0


def test_train_rbm_returns_pcd_chains_and_can_continue(digits):
    m = RBM(64, 8, generator=gen(0))
    h = R.train_rbm(m, digits.x_train[:200], epochs=2, persistent=True, n_chains=30,
                    generator=gen(0), progress=False)
    assert h.chains.shape == (30, 64) and set(h.chains.unique().tolist()) <= {0.0, 1.0}
    assert int(m.n_updates) == 2 * 10
    h2 = R.train_rbm(m, digits.x_train[:200], epochs=1, persistent=True,
                     persistent_chains=h.chains, velocity=h.velocity, generator=gen(1),
                     progress=False)
    assert int(m.n_updates) == 30  # init="auto" kept the trained parameters (no reset to 0)
    assert h2.chains.shape == (30, 64)
    assert R.train_rbm(m, digits.x_train[:200], epochs=1, persistent=False,
                       generator=gen(2), progress=False).chains is None


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(digits):
    """The default recipe on binarised digits, 16 hidden units, seed 0."""
    g = gen(0)
    m = RBM(64, 16, generator=g)
    m.init_from_data(digits.x_train, generator=g)
    before = float(m.log_likelihood(digits.x_test).mean())
    calls = []

    def callback(epoch, rbm, metrics):
        calls.append((epoch, rbm, dict(metrics)))
        if epoch % 10 == 0:
            return {"train_ll": float(rbm.log_likelihood(digits.x_train).mean())}
        return None

    hist = R.train_rbm(m, digits.x_train, generator=g, callback=callback, progress=False)
    return m, hist, before, calls


def test_training_increases_the_exact_log_likelihood(trained, digits):
    m, hist, before, _ = trained
    after = m.log_likelihood(digits.x_test).mean().item()
    baseline = R.independent_bernoulli_log_likelihood(
        digits.x_test, R.base_rate_log_odds(digits.x_train)).mean().item()
    # at initialisation the RBM *is* the baseline up to the tiny random weights
    assert before == pytest.approx(baseline, abs=0.1)
    assert after > baseline + 5.0, (after, baseline)
    ll = hist["train_ll"]
    assert len(ll) == 5 and ll[-1] > ll[0]
    assert hist["recon_error"][-1] < hist["recon_error"][0]


def test_default_recipe_beats_scikit_learn(trained, digits):
    """Exact test log-likelihood of the default recipe vs scikit-learn's BernoulliRBM
    (n_components=16, learning_rate=0.1, batch_size=10, n_iter=10), scored by copying its
    parameters into an RBM. Measured: ours ≈ -18.25 nats/image; sklearn -20.2 to -22.8 over
    random_state 0-2; independent pixels -25.2."""
    from sklearn.neural_network import BernoulliRBM

    ours = trained[0].log_likelihood(digits.x_test).mean().item()
    theirs = []
    for seed in range(3):
        sk = BernoulliRBM(n_components=16, random_state=seed).fit(digits.x_train.numpy())
        m = RBM(64, 16)
        with torch.no_grad():
            m.W.copy_(torch.as_tensor(sk.components_))
            m.v_bias.copy_(torch.as_tensor(sk.intercept_visible_))
            m.h_bias.copy_(torch.as_tensor(sk.intercept_hidden_))
        theirs.append(m.log_likelihood(digits.x_test).mean().item())
    assert ours > max(theirs) + 1.0, (ours, theirs)


def test_callback_and_history(trained):
    m, hist, _, calls = trained
    epochs = R.DEFAULT_RECIPE["epochs"]
    assert [c[0] for c in calls] == list(range(1, epochs + 1))
    assert all(c[1] is m for c in calls)
    assert set(calls[0][2]) == {"epoch", "recon_error", "seconds", "lr", "momentum"}
    assert hist["epoch"] == list(range(1, epochs + 1))
    assert "recon_error" in hist and len(hist["recon_error"]) == epochs
    assert hist["lr"][0] == pytest.approx(0.1) and hist["lr"][-1] == pytest.approx(0.1 / epochs)
    assert hist["momentum"][4] == 0.5 and hist["momentum"][5] == 0.9
    assert hist["seconds"] == sorted(hist["seconds"])
    assert hist.chains is None  # CD


def test_training_is_deterministic_given_the_generator(digits):
    x = digits.x_train[:300]

    def fit(seed):
        g = gen(seed)
        m = RBM(64, 8, generator=g)
        R.train_rbm(m, x, epochs=3, persistent=True, generator=g, progress=False)
        return m.W.detach().clone()

    assert torch.equal(fit(1), fit(1))
    assert not torch.equal(fit(1), fit(2))


def test_init_from_data_is_hintons_recipe(digits):
    m = RBM(64, 16).init_from_data(digits.x_train, generator=gen(0))
    torch.testing.assert_close(m.v_bias.detach(), R.base_rate_log_odds(digits.x_train))
    assert not m.h_bias.detach().any()
    assert float(m.W.detach().std()) == pytest.approx(0.01, rel=0.1)


def test_divergence_guard_names_the_learning_rate(digits):
    m = RBM(64, 16, generator=gen(0))
    with pytest.raises(RuntimeError, match="learning rate") as err:
        R.train_rbm(m, digits.x_train[:100], epochs=2, lr=1e4, generator=gen(0),
                    progress=False)
    assert "lower it" in str(err.value)
    broken = RBM(64, 4)
    with torch.no_grad():
        broken.W[0, 0] = float("nan")
    with pytest.raises(RuntimeError, match="NaN or infinite"):
        R.cd_step(broken, digits.x_train[:10], lr=0.1, generator=gen(0))


def test_progress_bar_is_quiet_in_fast_mode(digits, monkeypatch, capsys):
    monkeypatch.setenv("EBM_FAST", "1")
    R.train_rbm(RBM(64, 4), digits.x_train[:40], epochs=1, generator=gen(0))
    assert capsys.readouterr().err == ""


def test_float64_models_train():
    x = (torch.rand(64, 6, generator=gen(0), dtype=torch.float64) < 0.3).double()
    m = RBM(6, 3, generator=gen(0), dtype=torch.float64)
    R.train_rbm(m, x, epochs=2, generator=gen(1), progress=False)
    assert m.W.dtype == torch.float64 and torch.isfinite(m.W).all()


# --------------------------------------------------------------------------------------------
# Bad inputs
# --------------------------------------------------------------------------------------------


def test_log_likelihood_requires_binary_data():
    m = RBM(4, 2)
    with pytest.raises(ValueError, match=r"binarise it first, e\.g\. \(v > 0\.5\)\.float\(\)"):
        m.log_likelihood(torch.full((2, 4), 0.5))
    with pytest.raises(ValueError, match="binarise"):
        m.pseudo_log_likelihood(torch.full((2, 4), 0.5))


@pytest.mark.parametrize(
    ("x", "match"),
    [
        (torch.full((2, 4), 2.0), r"\[0, 1\]"),
        (-torch.ones(2, 4), r"\[0, 1\]"),
        (torch.ones(2, 5), "4 feature"),
        (torch.ones(4), "shape"),
        (torch.tensor([[0.0, float("nan"), 1.0, 0.0]]), "NaN"),
        (torch.ones(0, 4), "empty"),
        (torch.ones(2, 4, dtype=torch.int64), "float"),
    ],
)
def test_bad_visible_inputs_raise_value_error(x, match):
    m = RBM(4, 2)
    for fn in (m.free_energy, m.log_likelihood, lambda v: m.sample_h(v),
               lambda v: R.train_rbm(m, v, epochs=1, progress=False)):
        with pytest.raises(ValueError, match=match):
            fn(x)


def test_bad_hyper_parameters_raise_value_error():
    m = RBM(4, 2)
    x = torch.ones(5, 4)
    for kwargs, match in [
        ({"lr": 0.0}, "lr"),
        ({"momentum": 1.0}, "momentum"),
        ({"weight_decay": -1.0}, "weight_decay"),
        ({"k": 0}, "k"),
        ({"batch_size": 0}, "batch_size"),
        ({"init": "random"}, "init"),
        ({"lr_schedule": "cosine"}, "lr_schedule"),
    ]:
        with pytest.raises(ValueError, match=match):
            R.train_rbm(m, x, epochs=1, progress=False, **kwargs)
    with pytest.raises(ValueError, match="same number of rows"):
        m.energy(torch.ones(2, 4), torch.ones(3, 2))
    with pytest.raises(ValueError, match="PCD"):
        R.cd_step(m, x, 0.1, persistent_chains=torch.full((3, 4), 0.5))
