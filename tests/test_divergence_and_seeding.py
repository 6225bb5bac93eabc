"""No training loop ends a diverging run silently, and every run seeded through ``generator=``
alone is bit-for-bit reproducible (issue 17).

Divergence: each public training loop, given an absurd learning rate, must stop with a
``RuntimeError`` that says it diverged and names the learning rate as the likely cause and what
to do — also when the loss stays finite and only the weights run away (before, several loops ended
with weights of 1e5–1e15 and no word). ``_training.DivergenceGuard`` is the shared guard; its own
rules are tested first, including that a steady or slowly changing loss never trips it.

Seeding: each training function is run twice, seeded only through ``generator=`` (model
constructors included), with the global random generator reseeded differently before each run;
the parameters and recorded histories must be identical, and the global generator must not even
be touched (the package changes no global state).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ebm_helpers import (
    anomaly,
    boltzmann_machine,
    cf,
    data,
    dbn,
    diffusion,
    ebm,
    energies,
    hopfield,
    rbm,
    samplers,
    score,
)
from ebm_helpers._training import DivergenceGuard
from ebm_helpers.sklearn import BernoulliRBM


def _g(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


X2 = energies.eight_gaussians().sample(256, _g(0))
BIN = (torch.rand(60, 8, generator=_g(1)) < 0.4).float()
LABELS = torch.arange(60) % 3
RATINGS = cf.synthetic_ratings(n_users=30, n_items=12, seed=0).train
SCHEDULE = diffusion.linear_beta_schedule(50)

# --------------------------------------------------------------------------------------------
# The shared guard
# --------------------------------------------------------------------------------------------


def test_guard_stops_runaway_loss_and_parameters_and_non_finite_values():
    w = torch.ones(3)
    guard = DivergenceGuard("toy training", "lower lr (now 9)", params=[w], max_param=100,
                            loss_factor=10)
    for step, loss in enumerate([2.0, 1.5, 1.0, 3.0, 19.9]):  # within 10× of the first value
        guard.check(f"at step {step}", loss)
    with pytest.raises(RuntimeError, match=r"toy training diverged at step 5: the loss ran "
                                           r"away to 25.*learning rate.*lower lr \(now 9\)"):
        guard.check("at step 5", 25.0)
    with pytest.raises(RuntimeError, match="the loss became nan"):
        guard.check_loss("at step 6", torch.tensor(math.nan))
    w.fill_(1e3)
    with pytest.raises(RuntimeError, match=r"parameter reached magnitude 1e\+03 > 100.*ruined"):
        guard.check_params("in epoch 2")
    w.fill_(math.inf)
    with pytest.raises(RuntimeError, match="NaN or infinite"):
        guard.check_params("in epoch 3")


def test_guard_reference_has_a_floor_and_an_absolute_limit():
    guard = DivergenceGuard("t", "fix", loss_factor=100, loss_floor=1.0, max_loss=50.0)
    guard.check_loss("a", 1e-6)  # a tiny first loss: the reference is the floor, 1
    guard.check_loss("b", -40.0)  # negative losses (score matching) are compared by size
    with pytest.raises(RuntimeError, match="max_loss = 50"):
        guard.check_loss("c", 60.0)
    DivergenceGuard("t", "fix", loss_factor=None).check_loss("d", 1e30)  # no relative check


# --------------------------------------------------------------------------------------------
# Every public training loop stops a diverging run with the cause and the fix
# --------------------------------------------------------------------------------------------


def _bm():
    p = boltzmann_machine.random_params(3, 2, _g(2))
    boltzmann_machine.train_exact(p, BIN[:, :3].double(), 20, learning_rate=1e3)


def _fine_tune():
    model = dbn.random_classifier([8, 6], 3, generator=_g(3))
    dbn.fine_tune(model, BIN, LABELS, epochs=5, lr=1e4, generator=_g(4), progress=False)


def _fine_tune_adam():
    model = dbn.random_classifier([8, 6], 3, generator=_g(3))
    dbn.fine_tune(model, BIN, LABELS, epochs=20, lr=1e4, optimizer="adam", generator=_g(4),
                  progress=False)


def _softmax_rbm():
    model = cf.SoftmaxRBM(12, 6, generator=_g(5))
    cf.train_softmax_rbm(model, RATINGS, epochs=5, lr=1e4, generator=_g(6), progress=False)


def _matrix_factorization():
    cf.MatrixFactorization(3, epochs=20, lr=1e3, generator=_g(7)).fit(RATINGS)


def _ebm():
    model = ebm.MLPEnergy(2, (16,), generator=_g(8))
    ebm.train_ebm(model, X2, 50, batch_size=32, lr=10.0, n_langevin=2, buffer_size=64,
                  clip_grad=None, generator=_g(9), progress=False, log_every=5)


def _jem():
    model = ebm.MLPClassifier(2, 3, (16,), generator=_g(10))
    ebm.train_jem(model, X2, torch.arange(256) % 3, 50, batch_size=32, lr=10.0, n_langevin=2,
                  buffer_size=64, clip_grad=None, generator=_g(11), progress=False, log_every=5)


def _score(loss):
    def run():
        model = score.ScoreNet(2, 16, 1, generator=_g(12))
        score.train_score(model, X2, loss, n_steps=200, lr=1e3, generator=_g(13),
                          sigmas=0.1 if loss == "dsm" else None, progress=False, log_every=10)
    return run


def _ddpm():
    model = diffusion.TimeMLP(2, 16, 1, generator=_g(14))
    diffusion.train_ddpm(model, X2, SCHEDULE, 200, batch_size=32, lr=1e3, grad_clip=None,
                         generator=_g(15), progress=False, log_every=10)


def _autoencoder():
    model = anomaly.Autoencoder(8, (6,), 2, sigmoid_output=True, generator=_g(16))
    anomaly.train_autoencoder(model, BIN, epochs=20, batch_size=10, lr=1e3, generator=_g(17),
                              progress=False)


def _rbm():
    rbm.train_rbm(rbm.RBM(8, 4, generator=_g(18)), BIN, epochs=3, lr=1e4, generator=_g(19),
                  progress=False)


def _pretrain_dbn():
    dbn.pretrain_dbn([8, 4, 3], BIN, epochs=3, lr=1e4, generator=_g(20), progress=False)


LOOPS = {
    "rbm.train_rbm": (_rbm, "learning rate"),
    "dbn.pretrain_dbn": (_pretrain_dbn, "learning rate"),
    "boltzmann_machine.train_exact": (_bm, "learning_rate"),
    "dbn.fine_tune (sgd)": (_fine_tune, "lr"),
    "dbn.fine_tune (adam)": (_fine_tune_adam, "lr"),
    "cf.train_softmax_rbm": (_softmax_rbm, "lr"),
    "cf.MatrixFactorization.fit": (_matrix_factorization, "lr"),
    "ebm.train_ebm": (_ebm, "learning rate"),
    "ebm.train_jem": (_jem, "learning rate"),
    "score.train_score (dsm)": (_score("dsm"), "learning rate"),
    "score.train_score (esm)": (_score("esm"), "learning rate"),
    "diffusion.train_ddpm": (_ddpm, "lr"),
    "anomaly.train_autoencoder": (_autoencoder, "learning rate"),
}


@pytest.mark.parametrize("loop", list(LOOPS))
def test_every_training_loop_stops_a_diverging_run_with_the_fix(loop):
    run, fix = LOOPS[loop]
    with pytest.raises(RuntimeError, match=rf"diverged.*{fix}.*restart from a fresh model"):
        run()


def test_sklearn_drop_in_keeps_going_but_warns():
    with pytest.warns(RuntimeWarning, match="diverging"):
        BernoulliRBM(4, learning_rate=1e4, n_iter=2, random_state=0).fit(BIN.numpy())


# --------------------------------------------------------------------------------------------
# Seeded only through generator=, every training function is reproducible bit for bit
# --------------------------------------------------------------------------------------------


def _state(*objects) -> list:
    """Every tensor of the arguments (modules' parameters and buffers, tensors, histories)."""
    out = []
    for obj in objects:
        if isinstance(obj, torch.nn.Module):
            out += [t.detach().clone() for t in obj.state_dict().values()]
        elif isinstance(obj, torch.Tensor):
            out.append(obj.detach().clone())
        elif isinstance(obj, np.ndarray):
            out.append(torch.as_tensor(obj.copy()))
        elif hasattr(obj, "metrics"):
            out.append({k: list(v) for k, v in obj.metrics.items() if k != "seconds"})
        else:
            out.append(obj)
    return out


def _rbm_run():
    m = rbm.RBM(8, 4, generator=_g(1))
    h = rbm.train_rbm(m, BIN, epochs=2, persistent=True, generator=_g(2), progress=False)
    return _state(m, h.chains, h)


def _dbn_run():
    net, _ = dbn.pretrain_dbn([8, 5, 4], BIN, epochs=1, generator=_g(1), progress=False)
    clf = dbn.to_classifier(net, 3, generator=_g(2))
    h = dbn.fine_tune(clf, BIN, LABELS, epochs=2, generator=_g(3), progress=False)
    rnd = dbn.random_classifier([8, 5], 3, generator=_g(4))
    p, v = net.sample(4, 3, generator=_g(5))
    return _state(net, clf, h, rnd, p, v)


def _cf_run():
    m = cf.SoftmaxRBM(12, 5, generator=_g(1))
    h = cf.train_softmax_rbm(m, RATINGS, epochs=2, generator=_g(2), progress=False)
    mf = cf.MatrixFactorization(3, epochs=5, generator=_g(3)).fit(RATINGS)
    return _state(m, h, mf.P, mf.Q)


def _ebm_run():
    m = ebm.MLPEnergy(2, (8,), generator=_g(1))
    h = ebm.train_ebm(m, X2, 3, batch_size=16, n_langevin=2, buffer_size=32, generator=_g(2),
                      progress=False, log_every=1)
    c = ebm.MLPClassifier(2, 3, (8,), generator=_g(3))
    hj = ebm.train_jem(c, X2, torch.arange(256) % 3, 3, batch_size=16, n_langevin=2,
                       buffer_size=32, generator=_g(4), progress=False, log_every=1)
    conv = ebm.ConvEnergy((4, 4), (2, 3), generator=_g(5))
    return _state(m, h, h.buffer.x, c, hj, conv)


def _score_run():
    m = score.ScoreNet(2, 8, 1, generator=_g(1))
    h = score.train_score(m, X2, "ssm", n_steps=5, batch_size=32, generator=_g(2),
                          progress=False, log_every=1)
    n = score.NoiseConditionalScoreNet(2, 8, 1, generator=_g(3))
    hn = score.train_score(n, X2, "dsm", sigmas=[1.0, 0.1], n_steps=5, batch_size=32,
                           generator=_g(4), progress=False, log_every=1)
    x = score.annealed_langevin(n, torch.zeros(4, 2), [1.0, 0.1], 3, generator=_g(5)).x
    return _state(m, h, n, hn, x)


def _diffusion_run():
    m = diffusion.TimeMLP(2, 8, 1, generator=_g(1))
    h = diffusion.train_ddpm(m, X2, SCHEDULE, 5, batch_size=32, ema_decay=0.9, generator=_g(2),
                             progress=False, log_every=1)
    x_t = torch.randn(8, 2, generator=_g(3))
    a = diffusion.ddpm_sample(m, SCHEDULE, x_t, _g(4))
    b = diffusion.ddim_sample(m, SCHEDULE, x_t, 10, eta=1.0, generator=_g(5))
    return _state(m, h, h.ema_model, a, b)


def _anomaly_run():
    m = anomaly.Autoencoder(8, (6,), 2, generator=_g(1))
    losses = anomaly.train_autoencoder(m, BIN, epochs=2, generator=_g(2), progress=False)
    return _state(m, torch.tensor(losses))


def _bm_run():
    p = boltzmann_machine.random_params(3, 2, _g(1))
    r = boltzmann_machine.train_exact(p, BIN[:, :3].double(), 3)
    s = boltzmann_machine.gibbs_sample(r.params, torch.zeros(4, 5), 2, _g(2))
    return _state(r.params.W, r.params.b, r.log_likelihood, s)


def _sklearn_run():
    m = BernoulliRBM(4, n_iter=2, random_state=0).fit(BIN.numpy())
    return _state(m.components_, m.intercept_hidden_, m.h_samples_)


def _sampler_and_hopfield_run():
    mix = energies.eight_gaussians()
    a = samplers.langevin(mix.energy, torch.zeros(4, 2), 5, 0.01, generator=_g(1)).x
    b = samplers.mala(mix.energy, torch.zeros(4, 2), 5, 0.01, generator=_g(2)).x
    c = hopfield.capacity_curve(20, [0.1, 0.2], 3, _g(3))
    d = mix.sample(5, _g(4))
    return _state(a, b, c.recalled, c.stable_bits, d)


RUNS = {
    "rbm": _rbm_run, "dbn": _dbn_run, "cf": _cf_run, "ebm": _ebm_run, "score": _score_run,
    "diffusion": _diffusion_run, "anomaly": _anomaly_run, "boltzmann_machine": _bm_run,
    "sklearn": _sklearn_run, "samplers+hopfield": _sampler_and_hopfield_run,
}


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
    return a == b


@pytest.mark.parametrize("name", list(RUNS))
def test_runs_seeded_only_through_generator_are_bit_for_bit_reproducible(name):
    torch.manual_seed(1)
    before = torch.random.get_rng_state()
    first = RUNS[name]()
    assert torch.equal(torch.random.get_rng_state(), before), "the global generator was used"
    torch.manual_seed(12345)  # a different global state must not matter
    np.random.seed(54321)  # noqa: NPY002 - the legacy global, on purpose
    second = RUNS[name]()
    assert len(first) == len(second)
    for i, (a, b) in enumerate(zip(first, second, strict=True)):
        assert _same(a, b), f"{name}: item {i} differs between two identically seeded runs"


MODELS = {
    "rbm.RBM": lambda g: rbm.RBM(6, 3, generator=g),
    "dbn.DBN.from_sizes": lambda g: dbn.DBN.from_sizes([6, 4, 3], generator=g),
    "dbn.random_classifier": lambda g: dbn.random_classifier([6, 4], 3, generator=g),
    "cf.SoftmaxRBM": lambda g: cf.SoftmaxRBM(5, 3, generator=g),
    "ebm.MLPEnergy": lambda g: ebm.MLPEnergy(2, (4,), generator=g),
    "ebm.MLPClassifier": lambda g: ebm.MLPClassifier(2, 3, (4,), generator=g),
    "ebm.ConvEnergy": lambda g: ebm.ConvEnergy((4, 4), (2, 2), generator=g),
    "score.ScoreNet": lambda g: score.ScoreNet(2, 4, 1, generator=g),
    "score.NoiseConditionalScoreNet": lambda g: score.NoiseConditionalScoreNet(2, 4, 1,
                                                                               generator=g),
    "diffusion.TimeMLP": lambda g: diffusion.TimeMLP(2, 4, 1, generator=g),
    "anomaly.Autoencoder": lambda g: anomaly.Autoencoder(3, (4,), 2, generator=g),
    "boltzmann_machine.random_params": lambda g: boltzmann_machine.random_params(2, 2, g).W,
    "ebm.ReplayBuffer": lambda g: ebm.ReplayBuffer(ebm.uniform_init(-1, 1, 2), 8,
                                                   generator=g).x,
}


@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_constructor_draws_only_from_its_generator(name):
    torch.manual_seed(3)
    before = torch.random.get_rng_state()
    a = _state(MODELS[name](_g(7)))
    assert torch.equal(torch.random.get_rng_state(), before), "the global generator was used"
    torch.manual_seed(4)
    b = _state(MODELS[name](_g(7)))
    c = _state(MODELS[name](_g(8)))
    assert all(_same(x, y) for x, y in zip(a, b, strict=True))
    assert not all(_same(x, y) for x, y in zip(a, c, strict=True))  # the seed matters
    mf = cf.MatrixFactorization(2, epochs=2, generator=_g(7)).fit(RATINGS)
    assert torch.equal(mf.P, cf.MatrixFactorization(2, epochs=2).fit(RATINGS, generator=_g(7)).P)


def test_a_model_without_generator_keeps_pytorch_default_initialisation():
    """generator=None draws from the global generator as nn.Linear does (so notebooks that seed
    it with torch.manual_seed keep their numbers)."""
    torch.manual_seed(0)
    a = ebm.MLPEnergy(2, (8,))
    torch.manual_seed(0)
    reference = torch.nn.Linear(2, 8)
    assert torch.equal(a.net[0].weight, reference.weight)
    digits = data.load_digits(binarize=True)
    assert digits.x_train.shape[1] == 64  # (keeps the data module imported and used)
