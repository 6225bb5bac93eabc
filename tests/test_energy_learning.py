"""Tests of ``ebm_helpers.energy_learning``: every loss functional against its formula written
out by hand, the free energy's limits and a hand-computed case, inference by enumeration and by
gradient descent against exact minimisers, the latent EBM and the digits experiment's
collapse, and clear errors for bad input."""

from __future__ import annotations

import math

import pytest
import torch

from ebm_helpers import energy_learning as el

E_ALL = torch.tensor([[0.5, 2.0, 1.0, 3.0],
                      [4.0, 1.5, 0.2, 2.5],
                      [1.0, 1.0, 1.0, 1.0]], dtype=torch.float64)
Y = torch.tensor([0, 2, 3])
E_C = torch.tensor([0.5, 0.2, 1.0], dtype=torch.float64)  # E(x, Y)
E_O = torch.tensor([1.0, 1.5, 1.0], dtype=torch.float64)  # E(x, Ȳ): lowest wrong energy
IDX_O = torch.tensor([2, 1, 0])  # ties: the first lowest wrong answer


def _rows(fn):
    """Apply a scalar formula row by row (the oracle, independent of the vectorised code)."""
    return torch.tensor([fn(float(c), float(o)) for c, o in zip(E_C, E_O, strict=True)],
                        dtype=torch.float64)


def test_most_offending_is_the_lowest_wrong_answer():
    idx, energy = el.most_offending(E_ALL, Y)
    assert idx.tolist() == IDX_O.tolist()
    assert torch.equal(energy, E_O)
    assert torch.all(idx != Y)


def test_energy_and_perceptron_losses():
    assert torch.equal(el.energy_loss(E_C), E_C)
    expected = torch.tensor([0.5 - 0.5, 0.2 - 0.2, 1.0 - 1.0], dtype=torch.float64)
    assert torch.allclose(el.perceptron_loss(E_C, E_ALL), expected)
    wrong = torch.tensor([2.0, 4.0, 1.0], dtype=torch.float64)  # the second row is wrong
    assert torch.allclose(el.perceptron_loss(wrong, E_ALL),
                          torch.tensor([1.5, 3.8, 0.0], dtype=torch.float64))


@pytest.mark.parametrize("m", [0.0, 0.5, 2.0])
def test_hinge_loss(m):
    assert torch.allclose(el.hinge_loss(E_C, E_O, m), _rows(lambda c, o: max(0.0, m + c - o)))


def test_log_mce_losses():
    assert torch.allclose(el.log_loss(E_C, E_O), _rows(lambda c, o: math.log1p(math.exp(c - o))))
    assert torch.allclose(el.mce_loss(E_C, E_O), _rows(lambda c, o: 1 / (1 + math.exp(o - c))))


@pytest.mark.parametrize("big_m", [0.1, 1.0])
def test_lvq2_loss(big_m):
    e_c = torch.tensor([0.0, 2.0, 5.0, 1.0])
    e_o = torch.tensor([1.0, 1.95, 1.0, 1.0])
    expected = [min(big_m, max(0.0, c - o)) for c, o in zip(e_c.tolist(), e_o.tolist(),
                                                              strict=True)]
    assert torch.allclose(el.lvq2_loss(e_c, e_o, big_m), torch.tensor(expected))


@pytest.mark.parametrize("m", [0.5, 1.2])
def test_square_square_and_square_exponential_losses(m):
    assert torch.allclose(el.square_square_loss(E_C, E_O, m),
                          _rows(lambda c, o: c**2 + max(0.0, m - o) ** 2))
    assert torch.allclose(el.square_exponential_loss(E_C, E_O, m),
                          _rows(lambda c, o: c**2 + m * math.exp(-o)))


@pytest.mark.parametrize("beta", [0.3, 1.0, 5.0])
def test_nll_loss_is_minus_log_gibbs_probability_over_beta(beta):
    loss = el.nll_loss(E_C, E_ALL, beta)
    for i in range(3):
        z = sum(math.exp(-beta * float(e)) for e in E_ALL[i])
        p = math.exp(-beta * float(E_C[i])) / z
        assert float(loss[i]) == pytest.approx(-math.log(p) / beta)
    # β = 1 is the cross-entropy of the logits −E
    assert torch.allclose(el.nll_loss(E_C, E_ALL, 1.0),
                          torch.nn.functional.cross_entropy(-E_ALL, Y, reduction="none"))


def test_losses_table_matches_the_functions():
    assert list(el.LOSSES) == ["energy", "perceptron", "hinge", "log", "lvq2", "mce",
                               "square_square", "square_exponential", "nll"]
    margins = {name: info.margin for name, info in el.LOSSES.items()}
    assert margins["energy"] == "none" and margins["perceptron"] == "0"
    assert margins["hinge"] == "m" and margins["lvq2"] == "0" and margins["nll"] == "> 0"
    direct = {
        "energy": el.energy_loss(E_C),
        "perceptron": el.perceptron_loss(E_C, E_ALL),
        "hinge": el.hinge_loss(E_C, E_O, 0.7),
        "log": el.log_loss(E_C, E_O),
        "lvq2": el.lvq2_loss(E_C, E_O, 0.7),
        "mce": el.mce_loss(E_C, E_O),
        "square_square": el.square_square_loss(E_C, E_O, 0.7),
        "square_exponential": el.square_exponential_loss(E_C, E_O, 0.7),
        "nll": el.nll_loss(E_C, E_ALL, 0.7),
    }
    params = {"hinge": {"margin": 0.7}, "lvq2": {"M": 0.7}, "square_square": {"margin": 0.7},
              "square_exponential": {"gamma": 0.7}, "nll": {"beta": 0.7}}
    for name, expected in direct.items():
        got = el.loss_from_energies(name, E_ALL, Y, **params.get(name, {}))
        assert torch.allclose(got, expected), name
    with pytest.raises(ValueError, match="unknown loss"):
        el.loss_from_energies("zero_one", E_ALL, Y)
    with pytest.raises(ValueError, match="bad parameter"):
        el.loss_from_energies("hinge", E_ALL, Y, gamma=1.0)


def test_losses_have_the_right_gradients_pull_down_and_push_up():
    e_c = torch.tensor([1.0], requires_grad=True)
    e_o = torch.tensor([1.5], requires_grad=True)
    el.hinge_loss(e_c, e_o, 1.0).sum().backward()
    assert float(e_c.grad) == 1.0 and float(e_o.grad) == -1.0  # down on Y, up on Ȳ
    e_c.grad = e_o.grad = None
    el.energy_loss(e_c).sum().backward()
    assert float(e_c.grad) == 1.0 and e_o.grad is None  # nothing pulls Ȳ up


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("call", [
    lambda: el.hinge_loss(E_C, E_O[:2], 1.0),
    lambda: el.perceptron_loss(E_C[:2], E_ALL),
    lambda: el.nll_loss(E_C, E_ALL[:2], 1.0),
    lambda: el.most_offending(E_ALL, Y[:2]),
])
def test_mismatched_shapes_are_refused(call):
    with pytest.raises(ValueError, match=r"same batch|one per row"):
        call()


def test_bad_labels_energies_and_beta():
    with pytest.raises(ValueError, match=r"labels must be in 0\.\.3"):
        el.most_offending(E_ALL, torch.tensor([0, 4, 1]))
    with pytest.raises(ValueError, match=r"labels must be in 0\.\.3"):
        el.loss_from_energies("hinge", E_ALL, torch.tensor([-1, 0, 1]))
    with pytest.raises(ValueError, match="integers"):
        el.most_offending(E_ALL, torch.tensor([0.0, 1.0, 2.0]))
    bad = E_C.clone()
    bad[1] = float("nan")
    with pytest.raises(ValueError, match="non-finite"):
        el.hinge_loss(bad, E_O)
    with pytest.raises(ValueError, match="non-finite"):
        el.free_energy(torch.tensor([1.0, float("inf")]), 1.0)
    for beta in [0.0, -1.0, float("nan"), float("inf")]:
        with pytest.raises(ValueError, match="beta"):
            el.free_energy(E_ALL, beta)
        with pytest.raises(ValueError, match="beta"):
            el.nll_loss(E_C, E_ALL, beta)
    with pytest.raises(ValueError, match="at least 2 answers"):
        el.most_offending(E_ALL[:, :1], torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match=r"shape \(batch,\)"):
        el.energy_loss(E_ALL)
    with pytest.raises(ValueError, match="margin"):
        el.hinge_loss(E_C, E_O, -1.0)


# ----------------------------------------------------------------------------- inference
def test_infer_by_enumeration():
    answer, energy = el.infer(E_ALL)
    assert answer.tolist() == [0, 2, 0] and torch.equal(energy, E_ALL.min(1).values)


def test_gradient_inference_reaches_the_exact_minimiser_of_a_convex_energy():
    a = torch.tensor([[2.0, 0.5], [0.5, 1.0]], dtype=torch.float64)  # positive definite
    c = torch.tensor([1.0, -2.0], dtype=torch.float64)

    def energy(y):
        d = y - c
        return ((d @ a) * d).sum(1)

    y0 = torch.randn(5, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    out = el.gradient_inference(energy, y0, n_steps=300, step_size=0.1)
    assert torch.allclose(out.y, c.expand(5, 2), atol=1e-8)
    assert torch.allclose(out.energy, torch.zeros(5, dtype=torch.float64), atol=1e-12)
    assert out.trace.shape == (301, 5, 2) and torch.equal(out.trace[0], y0)


def test_gradient_inference_finds_both_answers_of_a_two_valued_target():
    x = 4.0  # E(x, y) = (y² − x)²: answers ±2

    def energy(y):
        return (y[:, 0] ** 2 - x) ** 2

    y0 = torch.tensor([[-3.0], [-0.5], [0.5], [3.0]], dtype=torch.float64)
    out = el.gradient_inference(energy, y0, n_steps=500, step_size=0.005)
    assert torch.allclose(out.y[:, 0], torch.tensor([-2.0, -2.0, 2.0, 2.0],
                                                    dtype=torch.float64), atol=1e-6)


def test_gradient_inference_errors():
    with pytest.raises(RuntimeError, match="lower step_size"):
        el.gradient_inference(lambda y: (y**4).sum(1), torch.full((1, 1), 10.0),
                              n_steps=50, step_size=1.0)
    with pytest.raises(ValueError, match=r"\(batch,\) energies"):
        el.gradient_inference(lambda y: y, torch.zeros(3, 2), n_steps=1)
    with pytest.raises(ValueError, match="step_size"):
        el.gradient_inference(lambda y: y.sum(1), torch.zeros(3, 2), step_size=0.0)


# ----------------------------------------------------------------------------- free energy
def test_free_energy_limits_and_a_hand_computed_case():
    e = torch.tensor([[0.0, 1.0], [2.0, 5.0]], dtype=torch.float64)
    assert torch.equal(el.free_energy(e), torch.tensor([0.0, 2.0], dtype=torch.float64))
    # β = 1, energies 0 and 1: F = −log((1 + e^{−1}) / 2)
    assert float(el.free_energy(e[0], 1.0)) == pytest.approx(-math.log((1 + math.exp(-1)) / 2))
    assert torch.allclose(el.free_energy(e, 1e4), el.free_energy(e), atol=1e-3)  # β → ∞: min
    assert torch.allclose(el.free_energy(e, 1e-6), e.mean(1), atol=1e-5)  # β → 0: mean
    # between the two limits and decreasing in β
    betas = [0.01, 0.1, 1.0, 10.0]
    values = torch.stack([el.free_energy(e, b) for b in betas])
    assert torch.all(values[:-1] >= values[1:])
    assert torch.all(values <= e.mean(1)) and torch.all(values >= e.min(1).values)
    # equal energies: F = E for every β
    assert float(el.free_energy(torch.full((7,), 3.0), 0.5)) == pytest.approx(3.0)


def test_free_energy_of_an_rbm_is_the_latent_free_energy_up_to_log_2_to_the_n_h():
    from ebm_helpers.rbm import RBM

    torch.manual_seed(0)
    rbm = RBM(5, 4)
    v = torch.bernoulli(torch.full((3, 5), 0.5))
    hs = torch.tensor([[(k >> i) & 1 for i in range(4)] for k in range(16)], dtype=v.dtype)
    with torch.no_grad():
        e = torch.stack([rbm.energy(v, h.expand(3, 4)) for h in hs], dim=1)  # (3, 16)
        f = el.free_energy(e, 1.0) - math.log(16)  # sum over h instead of the mean
        assert torch.allclose(f, rbm.free_energy(v), atol=1e-5)


def test_ellipse_data_and_energy():
    g = torch.Generator().manual_seed(0)
    y, z = el.ellipse_data(500, g, noise=0.0)
    assert y.shape == (500, 2) and z.shape == (500,)
    assert torch.allclose((y[:, 0] / 2) ** 2 + y[:, 1] ** 2, torch.ones(500), atol=1e-5)
    e = el.ellipse_energy(y, z)
    assert e.shape == (500, 500) and torch.allclose(e.diagonal(), torch.zeros(500), atol=1e-10)


def test_latent_ebm_learns_the_ellipse_at_zero_temperature():
    g = torch.Generator().manual_seed(1)
    y, _ = el.ellipse_data(600, g, noise=0.05)
    model = el.LatentEBM(generator=torch.Generator().manual_seed(2))
    before = float(model.free_energy(y).mean().detach())
    history = el.train_latent_ebm(model, y, epochs=25, generator=g, progress=False)
    assert history["loss"][-1] < 0.05 * history["loss"][0]
    assert float(model.free_energy(y).mean().detach()) < 0.05 * before
    # the learned curve lies on the true ellipse (within the noise)
    fine = torch.linspace(0, 2 * math.pi, 2000)
    curve = model.curve().detach()
    assert float(el.ellipse_energy(curve, fine).min(1).values.sqrt().max()) < 0.1
    assert model(y).shape == (600, 64)


# ----------------------------------------------------------------------------- digits model
def test_prototype_energy_and_training_with_every_loss():
    g = torch.Generator().manual_seed(3)
    x = torch.rand(64, 64, generator=g)
    y = torch.arange(64) % 4
    for name in el.LOSSES:
        model = el.PrototypeEnergy(64, 4, embed_dim=3, hidden=8,
                                   generator=torch.Generator().manual_seed(4))
        e = model(x)
        assert e.shape == (64, 4) and torch.all(e >= 0)
        hist = el.train_energy_model(model, x, y, name, epochs=2, batch_size=16,
                                     generator=torch.Generator().manual_seed(5))
        assert hist["epoch"] == [1, 2] and all(math.isfinite(v) for v in hist["loss"])
    stats = el.evaluate_energy_model(model, x, y)
    assert set(stats) == {"accuracy", "margin", "e_correct", "spread", "prototype_spread"}


@pytest.mark.slow
def test_energy_loss_collapses_and_hinge_does_not():
    from ebm_helpers import data

    d = data.load_digits()
    out = {}
    for name in ["energy", "hinge"]:
        model = el.PrototypeEnergy(generator=torch.Generator().manual_seed(0))
        el.train_energy_model(model, d.x_train, d.y_train, name, epochs=15, lr=3e-3,
                              generator=torch.Generator().manual_seed(1), progress=False)
        out[name] = el.evaluate_energy_model(model, d.x_test, d.y_test)
    assert out["energy"]["margin"] < 0.05 * out["hinge"]["margin"]
    assert out["energy"]["spread"] < 0.3 * out["hinge"]["spread"]
    assert out["hinge"]["margin"] > 1.0 and out["hinge"]["accuracy"] > 0.9


def test_training_errors():
    model = el.PrototypeEnergy(generator=torch.Generator().manual_seed(0))
    x, y = torch.rand(8, 64), torch.arange(8) % 10
    with pytest.raises(ValueError, match="unknown loss"):
        el.train_energy_model(model, x, y, "zero_one", epochs=1, generator=torch.Generator())
    with pytest.raises(ValueError, match="one label per row"):
        el.train_energy_model(model, x, y[:5], "hinge", epochs=1, generator=torch.Generator())
    with pytest.raises(TypeError, match=r"torch\.Generator"):
        el.train_energy_model(model, x, y, "hinge", epochs=1, generator=0)

    class Huge(torch.nn.Module):  # finite energies whose square overflows float32
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(2))

        def forward(self, x):
            return 1e20 * (x[:, :2] + self.w)

    with pytest.raises(RuntimeError, match=r"diverged in epoch 1.*lower lr"):
        el.train_energy_model(Huge(), x, y % 2, "square_square", epochs=1,
                              generator=torch.Generator())
    with pytest.raises(TypeError, match="LatentEBM"):
        el.train_latent_ebm(model, torch.rand(4, 2), epochs=1, generator=torch.Generator())
