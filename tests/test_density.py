"""Tests for ``ebm_helpers.density``: independent Bernoulli, mixture of Bernoullis (EM), MADE.

Oracles: exact enumeration of all 2^d binary vectors (every model's probabilities sum to 1,
with one and with several MADE masks), Bayes' rule computed by hand for the E-step, the
monotone EM objective, autograd Jacobians for MADE's autoregressive property, and the
histogram of exact samples against the model's own probabilities (TV within the bound for the
sample size, ``tv_bound`` in conftest.py).
"""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from ebm_helpers import density, rbm
from ebm_helpers.partition import binary_states


def _all_states(d: int) -> torch.Tensor:
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=d)))


def _state_index(x: torch.Tensor) -> torch.Tensor:
    """Row of ``_all_states`` for each binary row of x (first column = most significant)."""
    d = x.shape[1]
    return (x.long() * (2 ** torch.arange(d - 1, -1, -1))).sum(1)


def _toy_data(n: int, d: int = 8, seed: int = 0) -> torch.Tensor:
    """Binary data with strong correlations: two prototypes with 10 % bit flips."""
    g = torch.Generator().manual_seed(seed)
    protos = torch.stack([torch.arange(d) % 2, (torch.arange(d) // 2) % 2]).float()
    which = torch.randint(2, (n,), generator=g)
    flips = (torch.rand(n, d, generator=g) < 0.1).float()
    return (protos[which] + flips) % 2


def _sharpen(model: density.MADE, scale: float = 4.0) -> density.MADE:
    """Scale a fresh MADE's weights so that its distribution is far from uniform."""
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(scale)
    return model


# --------------------------------------------------------------------------------------------
# Independent Bernoulli
# --------------------------------------------------------------------------------------------


def test_independent_bernoulli_is_normalised_and_counts():
    x = _toy_data(200, 6)
    model = density.IndependentBernoulli.fit(x, pseudo_count=1.0)
    assert torch.allclose(model.probs, (x.sum(0).double() + 1) / (200 + 2))
    total = torch.logsumexp(model.log_prob(_all_states(6)), 0)
    assert abs(float(total)) < 1e-10
    # the same formula as rbm's "RBM with no hidden units" baseline
    lo = torch.log(model.probs) - torch.log1p(-model.probs)
    ref = rbm.independent_bernoulli_log_likelihood(x.double(), lo)
    assert torch.allclose(model.log_prob(x), ref, atol=1e-10)


def test_independent_bernoulli_ml_gives_minus_infinity_to_unseen_pixels():
    x = torch.tensor([[0.0, 1.0], [0.0, 1.0]])
    ml = density.IndependentBernoulli.fit(x, pseudo_count=0.0)
    assert ml.log_prob(torch.tensor([[1.0, 1.0]]))[0] == -math.inf
    assert ml.log_prob(x).tolist() == [0.0, 0.0]
    smoothed = density.IndependentBernoulli.fit(x, pseudo_count=1.0)
    assert torch.isfinite(smoothed.log_prob(torch.tensor([[1.0, 0.0]]))).all()


def test_independent_bernoulli_samples_match(tv_bound, make_generator):
    model = density.IndependentBernoulli(torch.tensor([0.1, 0.5, 0.8, 0.3]))
    n = 20000
    s = model.sample(n, make_generator(0))
    counts = torch.bincount(_state_index(s), minlength=16).double()
    q = torch.exp(model.log_prob(_all_states(4)))
    tv = 0.5 * float((counts / n - q).abs().sum())
    assert tv < tv_bound(q.numpy(), n)


# --------------------------------------------------------------------------------------------
# Mixture of Bernoullis and EM
# --------------------------------------------------------------------------------------------


def _random_mixture(k=3, d=5, seed=0) -> density.BernoulliMixture:
    g = torch.Generator().manual_seed(seed)
    return density.BernoulliMixture(torch.rand(k, generator=g) + 0.1,
                                    torch.rand(k, d, generator=g) * 0.9 + 0.05)


def test_mixture_is_normalised_and_its_samples_match(tv_bound, make_generator):
    model = _random_mixture(k=3, d=5)
    lp = model.log_prob(_all_states(5))
    assert abs(float(torch.logsumexp(lp, 0))) < 1e-10
    n = 30000
    s = model.sample(n, make_generator(1))
    counts = torch.bincount(_state_index(s), minlength=32).double()
    q = torch.exp(lp)
    assert 0.5 * float((counts / n - q).abs().sum()) < tv_bound(q.numpy(), n)


def test_e_step_is_bayes_rule():
    model = _random_mixture(k=4, d=6, seed=2)
    x = _all_states(6)[::5]
    r = model.responsibilities(x)
    # by hand, in probabilities (d is small, nothing underflows)
    like = torch.stack([(model.probs[k] ** x.double() * (1 - model.probs[k]) ** (1 - x.double()))
                        .prod(1) for k in range(4)], 1)
    post = like * model.weights
    assert torch.allclose(r, post / post.sum(1, keepdim=True), atol=1e-12)
    assert torch.allclose(r.sum(1), torch.ones(len(x), dtype=torch.float64))


@pytest.mark.parametrize("pseudo_count", [0.0, 0.01, 1.0])
def test_em_never_decreases_its_objective(pseudo_count, make_generator):
    x = _toy_data(300, 8)
    _, hist = density.fit_mixture_em(x, 4, n_iter=40, generator=make_generator(0),
                                     pseudo_count=pseudo_count, tol=0.0)
    obj = torch.tensor(hist["objective"])
    assert len(obj) == 40
    assert (obj[1:] - obj[:-1] >= -1e-9).all()
    if pseudo_count == 0:  # maximum likelihood: the log-likelihood itself never decreases
        assert hist["log_likelihood"] == hist["objective"]


def test_em_recovers_a_planted_mixture(make_generator):
    truth = density.BernoulliMixture(torch.tensor([0.3, 0.7]),
                                     torch.tensor([[0.9] * 4 + [0.1] * 4, [0.1] * 4 + [0.9] * 4]))
    x = truth.sample(4000, make_generator(3))
    model, _ = density.fit_mixture_em(x, 2, n_iter=100, generator=make_generator(4))
    order = torch.argsort(model.weights)
    assert torch.allclose(model.weights[order], truth.weights, atol=0.03)
    assert torch.allclose(model.probs[order], truth.probs, atol=0.04)
    # the fitted model's test likelihood is within sampling error of the truth's
    test = truth.sample(4000, make_generator(5))
    assert float((truth.log_prob(test) - model.log_prob(test)).mean()) < 0.02


def test_mixture_with_more_components_fits_correlated_data_better(make_generator):
    x = _toy_data(600, 8)
    indep = density.IndependentBernoulli.fit(x)
    mix, _ = density.fit_mixture_em(x, 2, n_iter=50, generator=make_generator(0))
    assert float(mix.log_prob(x).mean()) > float(indep.log_prob(x).mean()) + 0.5
    # the data's entropy: log 2 (which prototype) + 8 H(0.1) (the flips), in nats
    entropy = math.log(2) - 8 * (0.1 * math.log(0.1) + 0.9 * math.log(0.9))
    assert float(-mix.log_prob(x).mean()) == pytest.approx(entropy, abs=0.1)


def test_mixture_bad_inputs():
    x = _toy_data(10, 4)
    with pytest.raises(ValueError, match="binary"):
        density.fit_mixture_em(x * 0.5, 2)
    with pytest.raises(ValueError, match="exceeds the number of training examples"):
        density.fit_mixture_em(x, 11)
    model = _random_mixture(k=2, d=5)
    with pytest.raises(ValueError, match="5 feature"):
        model.log_prob(x)
    with pytest.raises(ValueError, match="same K"):
        density.BernoulliMixture(torch.ones(3), torch.full((2, 4), 0.5))
    with pytest.raises(ValueError, match="probabilities"):
        density.BernoulliMixture(torch.ones(2), torch.full((2, 4), 1.5))


# --------------------------------------------------------------------------------------------
# MADE
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hidden", "n_masks", "direct"),
    [([16], 1, False), ([16], 5, False), ([12, 12], 3, True), ([4], 1, True), ([3, 5], 4, False)],
)
def test_made_probabilities_sum_to_one(hidden, n_masks, direct, make_generator):
    model = _sharpen(density.MADE(6, hidden, n_masks=n_masks, direct=direct,
                                  generator=make_generator(0)))
    with torch.no_grad():
        lp = model.log_prob(_all_states(6)).double()
        assert abs(float(torch.logsumexp(lp, 0))) < 1e-5
        # every single mask set is a normalised model too
        per_mask = model.log_prob_per_mask(_all_states(6)).double()
        assert torch.allclose(torch.logsumexp(per_mask, 0), torch.zeros(n_masks).double(),
                              atol=1e-5)
    # and the distribution is far from uniform, so the test has teeth
    assert float(lp.max() - lp.min()) > 1.0


def test_averaging_logits_over_masks_is_not_a_distribution(make_generator):
    """Averaging the K masks' logits (instead of their probabilities) does not normalise."""
    model = _sharpen(density.MADE(6, [16], n_masks=4, direct=True, generator=make_generator(1)))
    x = _all_states(6)
    with torch.no_grad():
        logits = torch.stack([model(x, k) for k in range(4)]).mean(0)
        wrong = -torch.nn.functional.binary_cross_entropy_with_logits(
            logits, x, reduction="none").sum(1)
    assert abs(float(torch.logsumexp(wrong.double(), 0))) > 1e-2


@pytest.mark.parametrize("direct", [False, True])
def test_made_is_autoregressive(direct, make_generator):
    """∂ logit_d / ∂ x_j = 0 unless j comes before d in the mask set's ordering."""
    model = _sharpen(density.MADE(7, [20, 20], n_masks=3, direct=direct,
                                  generator=make_generator(2)))
    x = _toy_data(4, 7).requires_grad_(True)
    for k in range(3):
        order = model.ordering(k)
        position = torch.empty(7, dtype=torch.int64)
        position[order] = torch.arange(7)
        jac = torch.autograd.functional.jacobian(lambda z, k=k: model(z, k).sum(0), x)
        jac = jac.abs().sum(1)  # (D out, D in), summed over the batch
        allowed = position[None, :] < position[:, None]
        assert (jac[~allowed] == 0).all()
        assert (jac[allowed] > 0).float().mean() > 0.5  # it does use its parents


def test_made_masks_follow_germain_et_al(make_generator):
    hidden, out, direct = density.made_masks(5, [8, 6], ordering=torch.tensor([2, 0, 4, 1, 3]),
                                             generator=make_generator(0))
    assert [m.shape for m in hidden] == [torch.Size([8, 5]), torch.Size([6, 8])]
    assert out.shape == (5, 6) and direct.shape == (5, 5)
    # connectivity input j → output d through the hidden layers: only from earlier inputs
    paths = out @ hidden[1] @ hidden[0]
    degree = torch.empty(5, dtype=torch.int64)
    degree[torch.tensor([2, 0, 4, 1, 3])] = torch.arange(1, 6)
    earlier = degree[None, :] < degree[:, None]
    assert (paths[~earlier] == 0).all()
    assert torch.equal(direct.bool(), earlier)
    assert out[2].sum() == 0  # the first input in the ordering sees nothing
    with pytest.raises(ValueError, match="permutation"):
        density.made_masks(3, [4], ordering=torch.tensor([0, 0, 1]))


def test_made_samples_match_its_own_log_prob(tv_bound, make_generator):
    model = _sharpen(density.MADE(4, [12], n_masks=3, direct=True, generator=make_generator(3)),
                     3.0)
    n = 20000
    s = model.sample(n, make_generator(4))
    assert s.shape == (n, 4) and set(s.unique().tolist()) <= {0.0, 1.0}
    counts = torch.bincount(_state_index(s), minlength=16).double()
    with torch.no_grad():
        q = torch.exp(model.log_prob(_all_states(4)).double())
    tv = 0.5 * float((counts / n - q).abs().sum())
    assert tv < tv_bound(q.numpy(), n)
    # a single mask set samples from its own p_k
    s0 = model.sample(n, make_generator(5), mask_index=1)
    with torch.no_grad():
        q0 = torch.exp(model.log_prob(_all_states(4), mask_index=1).double())
    c0 = torch.bincount(_state_index(s0), minlength=16).double()
    assert 0.5 * float((c0 / n - q0).abs().sum()) < tv_bound(q0.numpy(), n)


def test_train_made_learns_correlations_and_keeps_the_best_epoch(make_generator):
    x, xv = _toy_data(800, 8, seed=0), _toy_data(400, 8, seed=1)
    model = density.MADE(8, [32], generator=make_generator(0))
    hist = density.train_made(model, x, epochs=30, batch_size=50, lr=1e-2,
                              generator=make_generator(1), x_val=xv, progress=False)
    with torch.no_grad():
        val = float(-model.log_prob(xv).mean())
    assert val == pytest.approx(min(hist["val_nll"]), rel=1e-6)
    assert hist["val_nll"][hist.best_epoch - 1] == min(hist["val_nll"])
    indep = density.IndependentBernoulli.fit(x)
    assert val < float(-indep.log_prob(xv).mean()) - 0.5
    # the data's entropy: log 2 (which prototype) + 8 H(0.1) (the flips), in nats
    entropy = math.log(2) - 8 * (0.1 * math.log(0.1) + 0.9 * math.log(0.9))
    assert val == pytest.approx(entropy, abs=0.15)


def test_train_made_early_stopping_and_errors(make_generator):
    x, xv = _toy_data(100, 6, seed=0), _toy_data(50, 6, seed=1)
    model = density.MADE(6, [64], generator=make_generator(0))
    hist = density.train_made(model, x, epochs=200, batch_size=10, lr=3e-2,
                              generator=make_generator(1), x_val=xv, patience=3,
                              progress=False)
    assert len(hist["epoch"]) < 200  # it overfits 100 examples and stops
    with pytest.raises(ValueError, match="needs validation data"):
        density.train_made(model, x, epochs=1, patience=2)
    with pytest.raises(ValueError, match="binary"):
        density.train_made(model, x * 0.3, epochs=1)
    with pytest.raises(ValueError, match="6 feature"):
        density.train_made(model, _toy_data(10, 5), epochs=1)
    with pytest.raises(ValueError, match="mask_index"):
        model.log_prob(x, mask_index=1)
    with pytest.raises(RuntimeError, match="diverged"):
        with torch.no_grad():
            model.out.bias.fill_(math.nan)
        density.train_made(model, x, epochs=1, progress=False)


def test_made_rejects_bad_construction():
    with pytest.raises(ValueError, match="n_in"):
        density.MADE(0, [4])
    with pytest.raises(ValueError, match="hidden size"):
        density.MADE(4, [0])
    with pytest.raises(ValueError, match="n_masks"):
        density.MADE(4, [4], n_masks=0)


def test_check_binary_messages():
    with pytest.raises(ValueError, match="Binarise it first"):
        density.check_binary(torch.tensor([[0.2, 1.0]]))
    with pytest.raises(ValueError, match="floating-point"):
        density.check_binary(torch.tensor([[0, 1]]))
    assert density.check_binary(binary_states(3)).shape == (8, 3)


def test_train_made_stops_a_runaway_run_with_advice(make_generator):
    x = _toy_data(200, 8)
    model = density.MADE(8, [32], generator=make_generator(0))
    with pytest.raises(RuntimeError, match=r"diverged.*learning rate"):
        density.train_made(model, x, epochs=20, lr=1e4, generator=make_generator(1),
                           progress=False)


def test_seeded_fits_are_identical_and_leave_the_global_generator_alone():
    x, xv = _toy_data(200, 8, seed=0), _toy_data(100, 8, seed=1)

    def run():
        mix, hist = density.fit_mixture_em(x, 3, n_iter=10, generator=torch.Generator()
                                           .manual_seed(5))
        made = density.MADE(8, [16], n_masks=2, generator=torch.Generator().manual_seed(6))
        mh = density.train_made(made, x, epochs=3, generator=torch.Generator().manual_seed(7),
                                x_val=xv, progress=False)
        s = made.sample(20, torch.Generator().manual_seed(8))
        return mix.probs, hist["objective"], made.state_dict(), mh["val_nll"], s

    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    first = run()
    assert torch.equal(torch.random.get_rng_state(), state), "the global generator was used"
    torch.manual_seed(456)
    second = run()
    assert torch.equal(first[0], second[0]) and first[1] == second[1]
    assert all(torch.equal(first[2][k], second[2][k]) for k in first[2])
    assert first[3] == second[3] and torch.equal(first[4], second[4])


def test_generators_of_the_wrong_kind_are_refused():
    import numpy as np

    with pytest.raises(TypeError, match=r"torch\.Generator"):
        density.MADE(4, [4], generator=np.random.default_rng(0))
    with pytest.raises(TypeError, match=r"torch\.Generator"):
        density.fit_mixture_em(_toy_data(10, 4), 2, generator=3)
    with pytest.raises(TypeError, match="MADE"):
        density.train_made(torch.nn.Linear(4, 4), _toy_data(10, 4), epochs=1)
