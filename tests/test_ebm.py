"""Tests for ``ebm_helpers.ebm``: energy networks, replay buffer, CD training and JEM.

Oracles: the exact stationary variance of ULA on a Gaussian; the maximum-likelihood fixed
point of a quadratic energy trained by contrastive divergence; JEM's log p(x) against a
normalisation by quadrature over a 1D grid; binomial tolerances for the buffer's restarts.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from ebm_helpers import ebm


def test_energy_networks_map_rows_to_one_energy_each():
    torch.manual_seed(0)
    x = torch.rand(5, 64)
    assert ebm.MLPEnergy(64, (16, 8))(x).shape == (5,)
    assert ebm.ConvEnergy((8, 8), (4, 8))(x).shape == (5,)
    assert ebm.MLPClassifier(64, 10, (16,))(x).shape == (5, 10)


@pytest.mark.parametrize("model", [ebm.MLPEnergy(3), ebm.ConvEnergy((8, 8)),
                                   ebm.MLPClassifier(3, 2)])
def test_energy_networks_reject_wrong_shapes(model):
    with pytest.raises(ValueError, match="flatten"):
        model(torch.zeros(4, 7))
    with pytest.raises(ValueError, match="flatten"):
        model(torch.zeros(4))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="hidden"):
        ebm.MLPEnergy(2, ())
    with pytest.raises(ValueError, match="n_classes"):
        ebm.MLPClassifier(2, 1)
    with pytest.raises(ValueError, match="low < high"):
        ebm.uniform_init(1.0, 0.0, 2)


def test_uniform_init_box_and_determinism(make_generator):
    init = ebm.uniform_init(-2.0, 3.0, 4)
    a, b = init(1000, make_generator(1)), init(1000, make_generator(1))
    assert torch.equal(a, b) and a.shape == (1000, 4)
    assert a.min() >= -2.0 and a.max() <= 3.0
    assert abs(float(a.mean()) - 0.5) < 4 * 5 / math.sqrt(12 * 4000)


def test_replay_buffer_restart_proportion_and_uniform_indices(make_generator):
    """Fresh rows ~ Binomial(n, p); drawn indices uniform over the buffer."""
    init = ebm.uniform_init(10.0, 11.0, 2)  # fresh rows are recognisable: far from stored ones
    buf = ebm.ReplayBuffer(init, size=50, reinit_prob=0.2, generator=make_generator(0))
    buf.x.zero_()
    n = 20_000
    x, idx, fresh = buf.sample(n)
    sd = math.sqrt(0.2 * 0.8 / n)
    assert abs(float(fresh.float().mean()) - 0.2) < 4 * sd
    assert torch.equal(fresh, x[:, 0] >= 10.0)  # exactly the fresh rows were re-initialised
    assert torch.all(x[~fresh] == 0)
    counts = torch.bincount(idx, minlength=50).double()
    chi2 = float(((counts - n / 50) ** 2 / (n / 50)).sum())
    assert chi2 < 49 + 5 * math.sqrt(2 * 49)  # 49 dof: mean 49, sd ≈ 9.9


def test_replay_buffer_update_and_extremes(make_generator):
    buf = ebm.ReplayBuffer(ebm.uniform_init(0, 1, 3), size=10, reinit_prob=0.0,
                           generator=make_generator(0))
    x, idx, fresh = buf.sample(4)
    assert not fresh.any() and torch.equal(x, buf.x[idx])
    buf.update(idx, torch.full((4, 3), 7.0))
    assert torch.all(buf.x[idx] == 7.0)
    always = ebm.ReplayBuffer(ebm.uniform_init(5, 6, 3), size=10, reinit_prob=1.0,
                              generator=make_generator(0))
    always.x.zero_()
    assert always.sample(100)[2].all()
    with pytest.raises(ValueError, match="shape"):
        buf.update(idx, torch.zeros(3, 3))
    with pytest.raises(ValueError, match="reinit_prob"):
        ebm.ReplayBuffer(ebm.uniform_init(0, 1, 3), size=10, reinit_prob=1.5)
    with pytest.raises(ValueError, match="init"):
        ebm.ReplayBuffer("noise", size=10)


def test_short_run_langevin_reproduces_the_exact_ula_gaussian(make_generator):
    """ULA on E = x²/(2s²) is the AR(1) chain x' = (1 - ε/s²) x + √(2ε) ξ, whose stationary
    variance is s² / (1 - ε / (2 s²)) exactly (mean 0)."""
    s2, eps, n = 0.5, 0.05, 20_000
    x = ebm.short_run_samples(lambda x: (x ** 2).sum(1) / (2 * s2),
                              torch.zeros(n, 2, dtype=torch.float64), 300, eps,
                              generator=make_generator(3))
    var = s2 / (1 - eps / (2 * s2))
    assert torch.allclose(x.mean(0), torch.zeros(2, dtype=x.dtype), atol=4 * math.sqrt(var / n))
    assert torch.allclose(x.var(0), torch.full((2,), var, dtype=x.dtype),
                          atol=4 * var * math.sqrt(2 / n))
    cov = float(torch.cov(x.T)[0, 1])
    assert abs(cov) < 4 * var / math.sqrt(n)


def test_short_run_clip_keeps_states_in_the_box(make_generator):
    x = ebm.short_run_samples(lambda x: -(x ** 2).sum(1), torch.rand(100, 4), 50, 0.1,
                              clip=(0.0, 1.0), generator=make_generator(0))
    assert x.min() >= 0 and x.max() <= 1
    assert (x == 1).float().mean() > 0.5 or (x == 0).float().mean() > 0.0
    with pytest.raises(ValueError, match="low < high"):
        ebm.short_run_samples(lambda x: x.sum(1), torch.rand(3, 2), 1, 0.1, clip=(1, 0))


def test_contrastive_loss_gradient_is_the_ml_gradient():
    """With α = 0 the surrogate's gradient is E_data[∇θE] - E_model[∇θE]."""
    theta = torch.tensor([0.7, -0.3], requires_grad=True)
    x_pos, x_neg = torch.randn(50, 2), torch.randn(40, 2)
    loss = ebm.contrastive_loss(x_pos @ theta, x_neg @ theta, alpha=0.0)
    (g,) = torch.autograd.grad(loss, theta)
    assert torch.allclose(g, x_pos.mean(0) - x_neg.mean(0), atol=1e-6)
    e_pos, e_neg = torch.tensor([1.0, 3.0]), torch.tensor([2.0])
    assert float(ebm.contrastive_loss(e_pos, e_neg, 0.5)) == pytest.approx(
        2.0 - 2.0 + 0.5 * (5.0 + 4.0))
    with pytest.raises(ValueError, match="alpha"):
        ebm.contrastive_loss(e_pos, e_neg, -1.0)


class _Quadratic(nn.Module):
    """E(x) = a x²/2 - b x: the Gaussian family N(b/a, 1/a) in one dimension."""

    n_features = 1

    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(torch.tensor(1.0))
        self.b = nn.Parameter(torch.tensor(0.0))

    def forward(self, x):
        return (0.5 * self.a * x ** 2 - self.b * x).squeeze(1)


def test_train_ebm_finds_the_maximum_likelihood_gaussian(make_generator):
    """The ML fixed point of CD with exact-enough samples: a = 1/var, b/a = mean."""
    g = make_generator(0)
    mean, sd = 1.5, 0.5
    data = mean + sd * torch.randn(4000, 1, generator=g)
    model = _Quadratic()
    hist = ebm.train_ebm(model, data, n_iters=600, batch_size=256, lr=0.05, n_langevin=20,
                         step_size=0.01, alpha=0.0, clip_grad=None, buffer_size=2000,
                         generator=g, progress=False, log_every=100)
    a, b = model.a.item(), model.b.item()
    assert a == pytest.approx(1 / float(data.var()), rel=0.1)
    assert b / a == pytest.approx(float(data.mean()), abs=0.1)
    assert hist["iteration"] == [100, 200, 300, 400, 500, 600]
    assert hist.buffer is not None and hist.buffer.x.shape == (2000, 1)
    buffered = hist.buffer.x
    assert float(buffered.mean()) == pytest.approx(mean, abs=0.1)


def test_train_ebm_is_deterministic_and_records_callback(make_generator):
    def run():
        torch.manual_seed(0)
        model = ebm.MLPEnergy(2, (8,))
        seen = []
        hist = ebm.train_ebm(model, torch.randn(64, 2, generator=make_generator(1)), n_iters=6,
                             batch_size=16, n_langevin=3, buffer_size=32,
                             generator=make_generator(2), progress=False, log_every=4,
                             callback=lambda i, m, metrics: seen.append(i) or {"extra": i})
        return hist, seen

    (h1, s1), (h2, _) = run(), run()
    assert h1["loss"] == h2["loss"] and s1 == [4, 6] and h1["extra"] == [4, 6]
    assert set(h1.metrics) >= {"iteration", "loss", "loss_gen", "e_pos", "e_neg"}


def test_divergence_guard_names_the_fix(make_generator):
    with pytest.raises(RuntimeError, match=r"alpha.*learning rate"):
        ebm.train_ebm(ebm.MLPEnergy(2, (8,)), torch.randn(32, 2), n_iters=5, batch_size=8,
                      n_langevin=1, buffer_size=16, max_energy=1e-9,
                      generator=make_generator(0), progress=False)

    class Nan(nn.Module):
        n_features = 2

        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.ones(2))

        def forward(self, x):
            return (x @ self.w) * float("nan")

    with pytest.raises(RuntimeError, match="NaN or infinite"):
        ebm.train_ebm(Nan(), torch.randn(32, 2), n_iters=2, n_langevin=0, buffer_size=16,
                      generator=make_generator(0), progress=False)


def test_train_ebm_bad_input(make_generator):
    model = ebm.MLPEnergy(2, (8,))
    with pytest.raises(ValueError, match="features"):
        ebm.train_ebm(model, torch.randn(10, 3), n_iters=1)
    with pytest.raises(ValueError, match="non-finite"):
        ebm.train_ebm(model, torch.tensor([[0.0, float("nan")]]), n_iters=1)
    with pytest.raises(ValueError, match="n_iters"):
        ebm.train_ebm(model, torch.randn(10, 2), n_iters=0)
    with pytest.raises(ValueError, match="lr"):
        ebm.train_ebm(model, torch.randn(10, 2), n_iters=1, lr=-1.0)


def test_jem_log_px_is_log_density_up_to_a_constant():
    """Normalise p(x, y) = exp(f(x)[y]) / Z over a fine 1D grid: log p(x) - logsumexp f(x) is
    the same constant -log Z at every x, and p(y|x) is the classifier's softmax."""
    torch.manual_seed(0)
    clf = ebm.MLPClassifier(1, 3, (16,)).double()
    x = torch.linspace(-4, 4, 4001, dtype=torch.float64)[:, None]
    dx = float(x[1] - x[0])
    with torch.no_grad():
        logits = clf(x)
        joint = torch.exp(logits)
        log_z = math.log(float(joint.sum()) * dx)
        log_px = torch.log(joint.sum(1)) - log_z
        diff = log_px - ebm.jem_log_px(logits)
        assert torch.allclose(diff, torch.full_like(diff, -log_z), atol=1e-10)
        p_y_given_x = joint / joint.sum(1, keepdim=True)
        assert torch.allclose(p_y_given_x, torch.softmax(logits, 1), atol=1e-12)
        e_x = ebm.marginal_energy(clf)(x)
        e_xy = ebm.class_energy(clf, 2)(x)
        assert torch.allclose(torch.exp(e_x - e_xy), p_y_given_x[:, 2], atol=1e-12)
    with pytest.raises(ValueError, match="n_classes"):
        ebm.jem_log_px(torch.zeros(3))
    with pytest.raises(ValueError, match="class y"):
        ebm.class_energy(clf, -1)


def _toy_labelled(g, n=200):
    y = torch.randint(2, (n,), generator=g)
    x = torch.randn(n, 2, generator=g) + 3.0 * y[:, None].float()
    return x, y


def test_train_jem_with_zero_weight_is_the_plain_classifier(make_generator):
    x, y = _toy_labelled(make_generator(0))
    torch.manual_seed(0)
    clf = ebm.MLPClassifier(2, 2, (16,))
    hist = ebm.train_jem(clf, x, y, n_iters=200, batch_size=50, lr=1e-2, n_langevin=0,
                         gen_weight=0.0, buffer_size=32, generator=make_generator(1),
                         progress=False, log_every=50)
    assert hist["loss"] == pytest.approx(hist["loss_clf"])
    with torch.no_grad():
        acc = float((clf(x).argmax(1) == y).float().mean())
    assert acc > 0.9


def test_train_jem_learns_both_heads(make_generator):
    """JEM keeps classifying, and its log p(x) ranks data above far-away points."""
    x, y = _toy_labelled(make_generator(0), 400)
    torch.manual_seed(0)
    clf = ebm.MLPClassifier(2, 2, (32, 32))
    ebm.train_jem(clf, x, y, n_iters=400, batch_size=64, lr=3e-3, n_langevin=10,
                  step_size=0.05, alpha=0.1, buffer_size=500, generator=make_generator(1),
                  progress=False)
    with torch.no_grad():
        logits = clf(x)
        far = 8.0 * torch.randn(400, 2, generator=make_generator(5)) + 1.5
        far = far[(far - 1.5).norm(dim=1) > 6]
        acc = float((logits.argmax(1) == y).float().mean())
        assert acc > 0.9
        assert float(ebm.jem_log_px(logits).mean()) > float(ebm.jem_log_px(clf(far)).mean())


def test_train_jem_bad_labels():
    clf = ebm.MLPClassifier(2, 3, (8,))
    x = torch.randn(6, 2)
    with pytest.raises(ValueError, match="integer"):
        ebm.train_jem(clf, x, torch.zeros(6), n_iters=1)
    with pytest.raises(ValueError, match="labels must lie"):
        ebm.train_jem(clf, x, torch.tensor([0, 1, 2, 3, 0, 1]), n_iters=1)
    with pytest.raises(ValueError, match="6 labels"):
        ebm.train_jem(clf, x, torch.tensor([0, 1]), n_iters=1)
