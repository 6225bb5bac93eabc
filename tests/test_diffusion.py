"""Tests of ``ebm_helpers.diffusion`` against closed forms.

Oracles: the schedules' defining formulas; the Gaussian marginal of the forward process
(checked by sampling, with tolerances from the sample size); the optimal noise predictor of
Gaussian data, derived independently here by Gaussian conditioning and by least squares on
samples; the analytic score of the noised data; and the data moments, which ancestral and DDIM
sampling with the exact optimal predictor must reproduce. Standard errors: a sample mean of n
draws with variance v has SE √(v/n); a sample variance has SE ≈ v √(2/(n-1)).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ebm_helpers import diffusion as D
from ebm_helpers import energies, metrics

MU = torch.tensor([1.0, -0.5], dtype=torch.float64)
S = 0.5  # standard deviation of the Gaussian test data N(MU, S² I)


@pytest.fixture(scope="module")
def linear():
    return D.linear_beta_schedule(1000)


@pytest.fixture(scope="module")
def gaussian():
    return energies.GaussianMixture(MU.reshape(1, 2), S)


def mean_tol(var: float, n: int, k: float = 5.0) -> float:
    return k * math.sqrt(var / n)


def var_tol(var: float, n: int, k: float = 5.0) -> float:
    return k * var * math.sqrt(2.0 / (n - 1))


# ------------------------------------------------------------------------------------------
# Schedules
# ------------------------------------------------------------------------------------------


def test_linear_schedule_is_the_formula(linear):
    assert linear.T == len(linear) == 1000
    assert linear.betas.shape == (1001,) and linear.betas.dtype == torch.float64
    assert float(linear.betas[0]) == 0.0
    np.testing.assert_allclose(linear.betas[1:].numpy(), np.linspace(1e-4, 0.02, 1000))
    np.testing.assert_allclose(linear.alpha_bar.numpy(),
                               np.cumprod(np.r_[1.0, 1 - np.linspace(1e-4, 0.02, 1000)]))
    # ᾱ_T of the linear schedule: pure noise at t = T (Ho et al. 2020)
    assert float(linear.alpha_bar[-1]) < 1e-4


def test_cosine_schedule_is_the_formula():
    T, s = 1000, 0.008
    sched = D.cosine_beta_schedule(T, s=s)
    t = np.arange(T + 1)
    f = np.cos((t / T + s) / (1 + s) * np.pi / 2) ** 2
    # away from the clipped last steps, ᾱ_t = f(t)/f(0) exactly
    np.testing.assert_allclose(sched.alpha_bar[: T - 20].numpy(), (f / f[0])[: T - 20],
                               rtol=1e-10)
    assert float(sched.betas.max()) <= 0.999


@pytest.mark.parametrize("make", [lambda: D.linear_beta_schedule(1000),
                                  lambda: D.cosine_beta_schedule(1000),
                                  lambda: D.linear_beta_schedule(7, 0.05, 0.3)])
def test_schedule_properties(make):
    sch = make()
    ab = sch.alpha_bar[1:]
    assert bool((ab > 0).all() and (ab < 1).all()), "ᾱ_t must lie in (0, 1) for t ≥ 1"
    assert bool((torch.diff(sch.alpha_bar) < 0).all()), "ᾱ_t must decrease"
    np.testing.assert_allclose(sch.alphas.numpy(), 1 - sch.betas.numpy())
    pv = sch.posterior_variance
    assert float(pv[0]) == 0.0 and float(pv[1]) == 0.0  # no noise at the last reverse step
    assert bool((pv[2:] > 0).all() and (pv[1:] <= sch.betas[1:] + 1e-15).all())
    # the posterior mean coefficients: for x_t built from x_0 with ε = 0 at both t and t-1 the
    # posterior mean of x_{t-1} must be √ᾱ_{t-1} x_0 (a consistency identity)
    t = torch.arange(2, sch.T + 1)
    lhs = sch.posterior_mean_coef_x0[t] + sch.posterior_mean_coef_xt[t] * sch.sqrt_alpha_bar[t]
    np.testing.assert_allclose(lhs.numpy(), sch.sqrt_alpha_bar[t - 1].numpy(), rtol=1e-10)


@pytest.mark.parametrize("T", [0, -3, 2.5, True, "10"])
def test_bad_number_of_steps(T):
    with pytest.raises(ValueError, match="T"):
        D.linear_beta_schedule(T)
    with pytest.raises(ValueError, match="T"):
        D.cosine_beta_schedule(T)


@pytest.mark.parametrize("betas", [[0.1, 0.0], [0.1, 1.0], [-0.1, 0.2], [0.1, float("nan")],
                                   [1.5]])
def test_betas_outside_unit_interval(betas):
    with pytest.raises(ValueError, match="between 0 and 1"):
        D.Schedule(betas)


def test_bad_schedule_arguments():
    with pytest.raises(ValueError, match="1D"):
        D.Schedule([[0.1, 0.2]])
    with pytest.raises(ValueError, match="1D"):
        D.Schedule([])
    with pytest.raises(ValueError, match="beta_end"):
        D.linear_beta_schedule(10, 1e-4, 1.0)
    with pytest.raises(ValueError, match="beta_start"):
        D.linear_beta_schedule(10, 0.0, 0.02)
    with pytest.raises(ValueError, match="Schedule"):
        D.q_sample(torch.zeros(2, 2), 1, torch.zeros(2, 2), schedule="linear")


# ------------------------------------------------------------------------------------------
# Forward process
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("t", [1, 10, 250, 1000])
def test_q_sample_marginal_of_a_point(linear, t, make_generator):
    n = 100_000
    x0 = MU.float().expand(n, 2)
    eps = torch.randn(n, 2, generator=make_generator(t))
    xt = D.q_sample(x0, t, eps, linear).double()
    ab = float(linear.alpha_bar[t])
    v = 1 - ab
    np.testing.assert_allclose(xt.mean(0).numpy(), math.sqrt(ab) * MU.numpy(),
                               atol=mean_tol(v, n))
    np.testing.assert_allclose(xt.var(0).numpy(), [v, v], atol=var_tol(v, n) + 1e-7)


def test_q_sample_at_zero_is_the_data_and_per_sample_times(linear, make_generator):
    g = make_generator(0)
    x0 = torch.randn(5, 3, generator=g)
    eps = torch.randn(5, 3, generator=g)
    torch.testing.assert_close(D.q_sample(x0, 0, eps, linear), x0)
    t = torch.tensor([0, 1, 10, 500, 1000])
    out = D.q_sample(x0, t, eps, linear)
    for i, ti in enumerate(t.tolist()):
        torch.testing.assert_close(out[i:i + 1], D.q_sample(x0[i:i + 1], ti, eps[i:i + 1],
                                                            linear))
    # a schedule given as bare betas works the same
    torch.testing.assert_close(D.q_sample(x0, 3, eps, linear.betas[1:].numpy()),
                               D.q_sample(x0, 3, eps, linear))


@pytest.mark.parametrize("t", [1, 20, 300])
def test_iterated_one_step_kernel_matches_the_closed_form(linear, gaussian, t,
                                                          make_generator):
    """x_t reached by t steps of q(x_s | x_{s-1}) has the closed-form marginal of q_sample."""
    n = 40_000
    g = make_generator(100 + t)
    x = gaussian.sample(n, g)
    for s in range(1, t + 1):
        x = D.q_step(x, s, torch.randn(n, 2, generator=g), linear)
    ab = float(linear.alpha_bar[t])
    v = ab * S**2 + 1 - ab
    xd = x.double()
    np.testing.assert_allclose(xd.mean(0).numpy(), math.sqrt(ab) * MU.numpy(),
                               atol=mean_tol(v, n))
    np.testing.assert_allclose(xd.var(0).numpy(), [v, v], atol=var_tol(v, n))
    # and the same law as the closed form applied to fresh data, by MMD against the noise floor
    y = D.q_sample(gaussian.sample(n, g), t, torch.randn(n, 2, generator=g), linear)
    z = D.q_sample(gaussian.sample(n, g), t, torch.randn(n, 2, generator=g), linear)
    floor = abs(metrics.mmd(y[:2000], z[:2000], bandwidth=0.5))
    assert metrics.mmd(x[:2000], y[:2000], bandwidth=0.5) < max(5 * floor, 3e-3)


def test_first_step_equals_closed_form(linear, make_generator):
    g = make_generator(1)
    x0, eps = torch.randn(50, 2, generator=g), torch.randn(50, 2, generator=g)
    torch.testing.assert_close(D.q_step(x0, 1, eps, linear), D.q_sample(x0, 1, eps, linear))


def test_noised_mixture_matches_noised_samples(linear, tv_bound, make_generator):
    dens = energies.eight_gaussians()
    n, t = 40_000, 150
    g = make_generator(7)
    xt = D.q_sample(dens.sample(n, g), t, torch.randn(n, 2, generator=g), linear)
    q_t = D.noised_mixture(dens, t, linear)
    ab = float(linear.alpha_bar[t])
    torch.testing.assert_close(q_t.means, math.sqrt(ab) * dens.means)
    torch.testing.assert_close(q_t.stds**2, ab * dens.stds**2 + 1 - ab)
    bounds = ((-3.5, 3.5), (-3.5, 3.5))
    p_hat = metrics.histogram_probs(xt, bounds, bins=30)
    q = metrics.cell_probs(q_t.log_prob, bounds, bins=30)
    assert metrics.total_variation(p_hat, q) < tv_bound(q, n, discretisation=0.01)
    with pytest.raises(ValueError, match="GaussianMixture"):
        D.noised_mixture(energies.TwoMoons(), t, linear)


# ------------------------------------------------------------------------------------------
# ε, x_0 and the score
# ------------------------------------------------------------------------------------------


def test_eps_score_round_trip(linear, make_generator):
    g = make_generator(3)
    eps = torch.randn(64, 3, generator=g, dtype=torch.float64)
    t = torch.randint(1, 1001, (64,), generator=g)
    score = D.eps_to_score(eps, t, linear)
    torch.testing.assert_close(score, -eps / (1 - linear.alpha_bar[t]).sqrt().unsqueeze(1))
    torch.testing.assert_close(D.score_to_eps(score, t, linear), eps)
    torch.testing.assert_close(D.eps_to_score(D.score_to_eps(eps, t, linear), t, linear), eps)
    with pytest.raises(ValueError, match=r"1\.\.1000"):
        D.eps_to_score(eps, 0, linear)  # no noise at t = 0, so no ε to convert


def test_predict_x0_inverts_q_sample(linear, make_generator):
    g = make_generator(4)
    x0 = torch.randn(20, 2, generator=g, dtype=torch.float64)
    eps = torch.randn(20, 2, generator=g, dtype=torch.float64)
    t = torch.randint(1, 1001, (20,), generator=g)
    torch.testing.assert_close(D.predict_x0(D.q_sample(x0, t, eps, linear), eps, t, linear), x0)


@pytest.mark.parametrize("t", [5, 100, 600])
def test_optimal_eps_of_gaussian_data(linear, gaussian, t, make_generator):
    """The optimal ε-predictor of Gaussian data, three ways: Gaussian conditioning (closed
    form), least squares on samples, and the implied score = the analytic noised score."""
    oracle = D.MixtureEpsilon(gaussian, linear)
    ab = float(linear.alpha_bar[t])
    v = ab * S**2 + 1 - ab
    g = make_generator(200 + t)
    # closed form: Cov(ε, x_t) = √(1-ᾱ) I and Var(x_t) = v I, so E[ε|x_t] = √(1-ᾱ)(x_t - √ᾱ μ)/v
    x = torch.randn(500, 2, generator=g, dtype=torch.float64) * 2
    closed = math.sqrt(1 - ab) * (x - math.sqrt(ab) * MU) / v
    torch.testing.assert_close(oracle(x, t), closed)
    # least squares of sampled ε on (x_t, 1): the minimiser of the ε-prediction loss among
    # affine predictors, which contains the optimum for Gaussian data
    n = 200_000
    x0 = gaussian.sample(n, g).double()
    eps = torch.randn(n, 2, generator=g, dtype=torch.float64)
    xt = D.q_sample(x0, t, eps, linear)
    design = torch.cat([xt, torch.ones(n, 1, dtype=torch.float64)], 1)
    coef = torch.linalg.lstsq(design, eps).solution  # (3, 2)
    slope = math.sqrt(1 - ab) / v
    # SE of a regression slope: residual sd / (√n · sd of x_t)
    resid_sd = math.sqrt(1 - (1 - ab) / v)
    tol = 6 * resid_sd / math.sqrt(n * v)
    np.testing.assert_allclose(torch.diag(coef[:2]).numpy(), [slope, slope], atol=tol)
    np.testing.assert_allclose(coef[2].numpy(), -slope * math.sqrt(ab) * MU.numpy(),
                               atol=6 * resid_sd * math.sqrt((1 + ab * 1.25 / v) / n))
    # the implied score is the analytic score of q_t = N(√ᾱ μ, v I)
    q_t = D.noised_mixture(gaussian, t, linear)
    torch.testing.assert_close(D.eps_to_score(oracle(x, t), t, linear), q_t.score(x))
    torch.testing.assert_close(q_t.score(x), -(x - math.sqrt(ab) * MU) / v)


def test_mixture_oracle_score_is_the_noised_mixture_score(linear, make_generator):
    dens = energies.eight_gaussians()
    oracle = D.MixtureEpsilon(dens, linear)
    x = 3 * torch.randn(300, 2, generator=make_generator(5), dtype=torch.float64)
    for t in [1, 40, 400]:
        q_t = D.noised_mixture(dens, t, linear)
        torch.testing.assert_close(oracle.score(x, t), q_t.score(x))
        # and against autograd of the exact log-density (a different code path)
        xg = x.clone().requires_grad_(True)
        (auto,) = torch.autograd.grad(q_t.log_prob(xg).sum(), xg)
        torch.testing.assert_close(oracle.score(x, t), auto)
    # t = 0 is the data's own score
    torch.testing.assert_close(oracle.score(x, 0), dens.score(x))
    with pytest.raises(ValueError, match="GaussianMixture"):
        D.MixtureEpsilon(energies.Rings(), linear)


# ------------------------------------------------------------------------------------------
# Sampling with the exact optimal ε reproduces the data
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("variance", ["posterior", "beta"])
def test_ancestral_sampling_with_exact_eps_reproduces_gaussian(linear, gaussian, variance,
                                                               make_generator):
    n = 10_000
    g = make_generator(11)
    x_T = torch.randn(n, 2, generator=g)
    x = D.ddpm_sample(D.MixtureEpsilon(gaussian, linear), linear, x_T, g, variance=variance,
                      progress=False).double()
    np.testing.assert_allclose(x.mean(0).numpy(), MU.numpy(), atol=mean_tol(S**2, n))
    # T = 1000 steps are not infinitely many: with σ_t² = β̃_t the variance comes out about
    # 1.5 % low for this data (measured with n = 50 000); allow 3 %
    np.testing.assert_allclose(x.var(0).numpy(), [S**2, S**2],
                               atol=var_tol(S**2, n) + 0.03 * S**2)


def test_ddim_with_exact_eps_reproduces_gaussian(linear, gaussian, make_generator):
    n = 10_000
    oracle = D.MixtureEpsilon(gaussian, linear)
    x_T = torch.randn(n, 2, generator=make_generator(12))
    x = D.ddim_sample(oracle, linear, x_T, n_steps=1000, progress=False).double()
    np.testing.assert_allclose(x.mean(0).numpy(), MU.numpy(), atol=mean_tol(S**2, n))
    np.testing.assert_allclose(x.var(0).numpy(), [S**2, S**2],
                               atol=var_tol(S**2, n) + 0.01 * S**2)
    # with fewer steps DDIM stays close; at 10 steps its Euler-like steps visibly under-disperse
    # (a discretisation error, not a model error: the predictor here is exact)
    x100 = D.ddim_sample(oracle, linear, x_T, n_steps=100, progress=False).double()
    x10 = D.ddim_sample(oracle, linear, x_T, n_steps=10, progress=False).double()
    np.testing.assert_allclose(x100.mean(0).numpy(), MU.numpy(), atol=mean_tol(S**2, n))
    assert float(x100.var(0).min()) > 0.9 * S**2
    assert float(x10.var(0).max()) < float(x100.var(0).min())
    # quadratic spacing (more steps at small t) shrinks the discretisation error at 50 steps
    uniform50 = D.ddim_sample(oracle, linear, x_T, n_steps=50, progress=False).double()
    quad50 = D.ddim_sample(oracle, linear, x_T, n_steps=50, spacing="quadratic",
                           progress=False).double()
    assert float((quad50.var(0) - S**2).abs().max()) < float((uniform50.var(0) - S**2).abs().min())
    # deterministic: the same x_T gives the same samples
    torch.testing.assert_close(D.ddim_sample(oracle, linear, x_T[:50], n_steps=10,
                                             progress=False), x10[:50].float())


def test_ddim_with_eta_one_on_every_step_is_ancestral(linear, gaussian, make_generator):
    oracle = D.MixtureEpsilon(gaussian, linear)
    x_T = torch.randn(200, 2, generator=make_generator(13), dtype=torch.float64)
    a = D.ddpm_sample(oracle, linear, x_T, make_generator(14), progress=False)
    b = D.ddim_sample(oracle, linear, x_T, n_steps=1000, eta=1.0,
                      generator=make_generator(14), progress=False)
    torch.testing.assert_close(a, b)


def test_trajectories_and_timesteps(linear, gaussian, make_generator):
    oracle = D.MixtureEpsilon(gaussian, linear)
    x_T = torch.randn(30, 2, generator=make_generator(15))
    tr = D.ddpm_sample(oracle, linear, x_T, make_generator(16), trajectory=True, progress=False)
    assert tr.states.shape == (1001, 30, 2)
    assert tr.times[0] == 1000 and tr.times[-1] == 0
    torch.testing.assert_close(tr.states[0], x_T)
    torch.testing.assert_close(tr.samples, D.ddpm_sample(oracle, linear, x_T, make_generator(16),
                                                         progress=False))
    torch.testing.assert_close(tr.at(250), tr.states[750])
    times = D.ddim_timesteps(1000, 20)
    assert times.shape == (21,) and times[0] == 1000 and times[-1] == 0
    assert bool((torch.diff(times) < 0).all())
    assert torch.equal(D.ddim_timesteps(5, 5), torch.tensor([5, 4, 3, 2, 1, 0]))
    tr = D.ddim_sample(oracle, linear, x_T, n_steps=20, trajectory=True, progress=False)
    assert torch.equal(tr.times, times) and tr.states.shape == (21, 30, 2)
    torch.testing.assert_close(tr.at(952), tr.states[1])  # nearest visited step is 950
    with pytest.raises(ValueError, match="at most T"):
        D.ddim_timesteps(10, 11)
    for n_steps in (1, 7, 50, 999, 1000):
        quad = D.ddim_timesteps(1000, n_steps, spacing="quadratic")
        assert quad.shape == (n_steps + 1,) and quad[0] == 1000 and quad[-1] == 0
        assert bool((torch.diff(quad) < 0).all())
    # quadratic: τ_i = round(T (i/S)²) where distinct
    assert D.ddim_timesteps(1000, 10, "quadratic").tolist() == [
        1000, 810, 640, 490, 360, 250, 160, 90, 40, 10, 0]
    assert torch.equal(D.ddim_timesteps(5, 5, "quadratic"), D.ddim_timesteps(5, 5))
    with pytest.raises(ValueError, match="spacing"):
        D.ddim_timesteps(10, 5, spacing="cubic")


def test_clipping_keeps_the_denoised_guess_in_range(linear, make_generator):
    far = energies.GaussianMixture([[3.0, 3.0]], 0.1)  # data outside [-1, 1]
    oracle = D.MixtureEpsilon(far, linear)
    x_T = torch.randn(100, 2, generator=make_generator(17))
    for x in [D.ddpm_sample(oracle, linear, x_T, make_generator(18), clip=1.0, progress=False),
              D.ddim_sample(oracle, linear, x_T, 20, clip=1.0, progress=False)]:
        assert float(x.abs().max()) <= 1.0 + 1e-5


# ------------------------------------------------------------------------------------------
# The network and the training loop
# ------------------------------------------------------------------------------------------


def test_sinusoidal_embedding():
    e = D.sinusoidal_embedding(torch.tensor([0, 1, 500]), 16)
    assert e.shape == (3, 16)
    torch.testing.assert_close(e[0], torch.cat([torch.zeros(8), torch.ones(8)]))
    torch.testing.assert_close(e[1, 0], torch.tensor(math.sin(1.0)))
    torch.testing.assert_close((e**2).reshape(3, 2, 8).sum(1), torch.ones(3, 8))
    with pytest.raises(ValueError, match="even"):
        D.sinusoidal_embedding(torch.tensor([1]), 15)


def test_time_mlp_shapes_init_and_reproducibility(make_generator):
    m = D.TimeMLP(dim=3, hidden=16, depth=2, generator=make_generator(0))
    x, t = torch.randn(7, 3), torch.randint(1, 100, (7,))
    out = m(x, t).detach()
    assert out.shape == (7, 3)
    assert float(out.abs().max()) == 0.0  # zero-initialised output layer: ε̂ = 0 at the start
    m2 = D.TimeMLP(dim=3, hidden=16, depth=2, generator=make_generator(0))
    for a, b in zip(m.parameters(), m2.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match=r"\(batch, 3\)"):
        m(torch.randn(7, 2), t)


def test_unit_interval_round_trip():
    x = torch.rand(10, 64)
    y = D.to_unit_interval(x)
    assert float(y.min()) >= -1 and float(y.max()) <= 1
    torch.testing.assert_close(D.from_unit_interval(y), x)


def optimal_loss(schedule) -> float:
    """The minimum of the simplified loss for N(μ, S² I) data: per coordinate the MMSE of ε
    given x_t is 1 - (1-ᾱ_t)/(ᾱ_t S² + 1 - ᾱ_t), averaged over t ~ U{1..T}."""
    ab = schedule.alpha_bar[1:]
    return float((1 - (1 - ab) / (ab * S**2 + 1 - ab)).mean())


def test_training_approaches_the_optimal_loss(gaussian, make_generator):
    sched = D.linear_beta_schedule(200, 1e-3, 0.1)
    best = optimal_loss(sched)
    g = make_generator(21)
    oracle = D.MixtureEpsilon(gaussian, sched)
    # the oracle's Monte-Carlo loss estimates the optimum (checks both)
    n = 50_000
    mc = [float(D.ddpm_loss(oracle, gaussian.sample(n, g), sched, g)) for _ in range(4)]
    assert np.mean(mc) == pytest.approx(best, abs=0.01)
    model = D.TimeMLP(2, hidden=32, depth=2, generator=g)
    hist = D.train_ddpm(model, gaussian.sample, sched, n_steps=1500, batch_size=256, lr=3e-3,
                        generator=g, ema_decay=0.99, log_every=500, progress=False)
    assert hist["step"] == [500, 1000, 1500] and len(hist["loss"]) == 3
    assert hist["loss"][0] < 1.0  # an untrained model (ε̂ = 0) has loss 1
    for m in (model, hist.ema_model):
        with torch.no_grad():
            loss = np.mean([float(D.ddpm_loss(m, gaussian.sample(n, g), sched, g))
                            for _ in range(4)])
        # cannot beat the optimum (beyond Monte-Carlo noise) and gets within 0.02 of it
        assert best - 0.01 < loss < best + 0.02
    assert not model.training


def test_training_is_deterministic_and_takes_tensor_data(make_generator):
    sched = D.linear_beta_schedule(50, 1e-3, 0.2)
    data = torch.randn(300, 2, generator=make_generator(0))
    models = []
    for _ in range(2):
        g = make_generator(5)
        m = D.TimeMLP(2, hidden=16, depth=1, generator=g)
        h = D.train_ddpm(m, data, sched, n_steps=30, batch_size=32, generator=g, log_every=10,
                         progress=False)
        models.append(m)
        assert h.ema_model is None
    for a, b in zip(models[0].parameters(), models[1].parameters(), strict=True):
        torch.testing.assert_close(a, b)


def test_callback_values_are_recorded(make_generator):
    sched = D.linear_beta_schedule(20, 1e-3, 0.2)
    g = make_generator(0)
    m = D.TimeMLP(2, hidden=8, depth=1, generator=g)
    h = D.train_ddpm(m, torch.randn(50, 2, generator=g), sched, 20, batch_size=10, generator=g,
                     log_every=10, callback=lambda step, model, metrics: {"twice": 2 * step},
                     progress=False)
    assert h["twice"] == [20, 40]


def test_cosine_learning_rate_decays_to_zero(make_generator):
    sched = D.linear_beta_schedule(20, 1e-3, 0.2)
    data = torch.randn(50, 2, generator=make_generator(0))
    n = 8
    for name, expected in [("cosine", [0.05 * 0.5 * (1 + math.cos(math.pi * k / n))
                                       for k in range(n)]),
                           ("constant", [0.05] * n)]:
        m = D.TimeMLP(2, hidden=8, depth=1, generator=make_generator(1))
        h = D.train_ddpm(m, data, sched, n, batch_size=10, lr=0.05, generator=make_generator(2),
                         lr_schedule=name, log_every=1, progress=False)
        np.testing.assert_allclose(h["lr"], expected, rtol=1e-12)
    with pytest.raises(ValueError, match="lr_schedule"):
        D.train_ddpm(m, data, sched, 5, lr_schedule="linear", progress=False)


def test_divergence_guard_names_the_fix(make_generator):
    sched = D.linear_beta_schedule(100)
    g = make_generator(0)
    m = D.TimeMLP(2, hidden=16, depth=2, generator=g)
    with pytest.raises(RuntimeError, match=r"diverged.*lower it"):
        D.train_ddpm(m, torch.randn(200, 2, generator=g) * 3, sched, n_steps=300, lr=100.0,
                     grad_clip=None, generator=g, progress=False)


# ------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("t", [-1, 1001, torch.tensor([0, 1001]), 2.0, torch.tensor([1.0, 2.0]),
                               torch.tensor([1, 2, 3]), True])
def test_q_sample_rejects_bad_t(linear, t):
    with pytest.raises(ValueError, match="t must"):
        D.q_sample(torch.zeros(2, 2), t, torch.zeros(2, 2), linear)


def test_bad_shapes_and_nan(linear, gaussian):
    x = torch.zeros(4, 2)
    with pytest.raises(ValueError, match="noise must have 2 feature"):
        D.q_sample(x, 1, torch.zeros(4, 3), linear)
    with pytest.raises(ValueError, match="shape of x0"):
        D.q_sample(x, 1, torch.zeros(3, 2), linear)
    with pytest.raises(ValueError, match=r"\(batch, features\)"):
        D.q_sample(torch.zeros(4), 1, torch.zeros(4), linear)
    with pytest.raises(ValueError, match="non-finite"):
        D.q_sample(torch.tensor([[float("nan"), 0.0]]), 1, torch.zeros(1, 2), linear)
    with pytest.raises(ValueError, match="non-finite"):
        D.q_step(x, 1, torch.full((4, 2), float("inf")), linear)
    with pytest.raises(ValueError, match="t must lie in 1"):
        D.q_step(x, 0, x, linear)
    with pytest.raises(ValueError, match="floating-point"):
        D.q_sample(torch.zeros(2, 2, dtype=torch.long), 1, torch.zeros(2, 2), linear)
    with pytest.raises(ValueError, match="non-finite"):
        D.ddpm_sample(D.MixtureEpsilon(gaussian, linear), linear,
                      torch.tensor([[float("nan"), 0.0]]), progress=False)


def test_bad_models_and_sampler_arguments(linear, gaussian):
    oracle = D.MixtureEpsilon(gaussian, linear)
    x_T = torch.zeros(3, 2)
    with pytest.raises(ValueError, match="same shape as x_t"):
        D.ddpm_sample(lambda x, t: x[:, :1], linear, x_T, progress=False)
    with pytest.raises(RuntimeError, match="non-finite noise"):
        D.ddim_sample(lambda x, t: x * float("nan"), linear, x_T, 5, progress=False)
    with pytest.raises(ValueError, match="variance"):
        D.ddpm_sample(oracle, linear, x_T, variance="learned", progress=False)
    with pytest.raises(ValueError, match="eta"):
        D.ddim_sample(oracle, linear, x_T, 10, eta=-1.0, progress=False)
    with pytest.raises(ValueError, match="at most T"):
        D.ddim_sample(oracle, linear, x_T, 2000, progress=False)
    with pytest.raises(ValueError, match="callable"):
        D.ddpm_sample("model", linear, x_T, progress=False)


def test_bad_training_arguments(make_generator):
    sched = D.linear_beta_schedule(10, 1e-3, 0.2)
    m = D.TimeMLP(2, hidden=8, depth=1)
    data = torch.randn(20, 2, generator=make_generator(0))
    with pytest.raises(ValueError, match="lr"):
        D.train_ddpm(m, data, sched, 5, lr=0.0, progress=False)
    with pytest.raises(ValueError, match="ema_decay"):
        D.train_ddpm(m, data, sched, 5, ema_decay=1.0, progress=False)
    with pytest.raises(ValueError, match="n_steps"):
        D.train_ddpm(m, data, sched, -1, progress=False)
    with pytest.raises(ValueError, match=r"nn\.Module"):
        D.train_ddpm(lambda x, t: x, data, sched, 5, progress=False)
    with pytest.raises(ValueError, match=r"\(batch, 2\)"):
        D.train_ddpm(m, torch.randn(20, 3), sched, 5, batch_size=4, progress=False)
    with pytest.raises(ValueError, match="non-finite"):
        D.train_ddpm(m, torch.full((20, 2), float("nan")), sched, 5, progress=False)
