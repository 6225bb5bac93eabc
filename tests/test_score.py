"""Tests of ebm_helpers.score against closed forms for Gaussians (notebook 08).

For a Gaussian N(μ, Σ) and a linear score model s(x) = A x + b everything is known:
the exact score-matching objective J(A, b) = ½ tr(A Σ Aᵀ) + ½ |Aμ + b|² + tr A, its minimiser
(the true score, A = -Σ⁻¹, b = Σ⁻¹μ), the DSM optimum -(x - μ)/(s² + σ²) for isotropic data,
and the identity J(s) - J(s*) = ½ E|s - s*|². Monte Carlo checks use tolerances of a few
standard errors computed from the sample itself.
"""

from __future__ import annotations

import math

import pytest
import torch

from ebm_helpers import score as S
from ebm_helpers.energies import GaussianMixture

MU = torch.tensor([0.5, -1.0], dtype=torch.float64)
COV = torch.tensor([[1.0, 0.6], [0.6, 2.0]], dtype=torch.float64)


def gaussian_sample(n, seed):
    g = torch.Generator().manual_seed(seed)
    chol = torch.linalg.cholesky(COV)
    return MU + torch.randn(n, 2, generator=g, dtype=torch.float64) @ chol.T


def linear(a, b):
    a = torch.as_tensor(a, dtype=torch.float64)
    b = torch.as_tensor(b, dtype=torch.float64)
    return lambda x: x @ a.T + b


def exact_objective(a, b):
    """J(A, b) = ½ tr(A Σ Aᵀ) + ½ |Aμ + b|² + tr A for x ~ N(μ, Σ)."""
    return float(0.5 * torch.trace(a @ COV @ a.T) + 0.5 * ((a @ MU + b) ** 2).sum()
                 + torch.trace(a))


def within(value, target, samples, k=5.0):
    """|mean - target| < k standard errors of the mean of ``samples``."""
    se = float(samples.std()) / math.sqrt(samples.numel())
    assert abs(value - target) < k * se + 1e-12, (value, target, se)


# --- geometric schedule ---------------------------------------------------------------------


def test_geometric_sigmas_endpoints_and_constant_ratio():
    s = S.geometric_sigmas(5.0, 0.05, 10)
    assert s.shape == (10,) and s.dtype == torch.float64
    assert float(s[0]) == pytest.approx(5.0) and float(s[-1]) == pytest.approx(0.05)
    ratios = s[:-1] / s[1:]
    assert torch.allclose(ratios, torch.full_like(ratios, 100 ** (1 / 9)))
    assert torch.equal(S.geometric_sigmas(0.3, 0.3, 1), torch.tensor([0.3], dtype=torch.float64))


@pytest.mark.parametrize(
    "args, match",
    [((0.0, 0.1, 5), "sigma_max"), ((1.0, -0.1, 5), "sigma_min"), ((1.0, 0.1, 0), "L ≥ 1"),
     ((0.1, 1.0, 5), "swap"), ((1.0, 0.1, 1), "L = 1"), ((1.0, 0.1, 2.5), "whole number"),
     ((float("nan"), 0.1, 3), "sigma_max")],
)
def test_geometric_sigmas_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        S.geometric_sigmas(*args)


# --- exact (Hyvärinen) score matching -------------------------------------------------------


def test_exact_sm_per_sample_is_the_closed_form_for_a_linear_model():
    a = torch.tensor([[-0.7, 0.2], [0.1, -0.4]], dtype=torch.float64)
    b = torch.tensor([0.3, -0.2], dtype=torch.float64)
    x = gaussian_sample(50, 0)
    per = S.exact_score_matching_loss(linear(a, b), x, reduction="none")
    expected = 0.5 * ((x @ a.T + b) ** 2).sum(1) + torch.trace(a)
    assert torch.allclose(per, expected, atol=1e-12)


def test_exact_sm_objective_expectation_and_minimiser():
    x = gaussian_sample(40_000, 1)
    prec = torch.linalg.inv(COV)
    a_star, b_star = -prec, prec @ MU  # the true score -Σ⁻¹(x - μ)
    a = torch.tensor([[-0.5, 0.0], [0.2, -0.8]], dtype=torch.float64)
    b = torch.tensor([0.1, 0.4], dtype=torch.float64)
    for aa, bb in [(a, b), (a_star, b_star)]:
        per = S.exact_score_matching_loss(linear(aa, bb), x, reduction="none").detach()
        within(float(per.mean()), exact_objective(aa, bb), per)
    # at the optimum J = -½ tr Σ⁻¹, and J(s) - J(s*) = ½ E|s - s*|² (Hyvärinen 2005)
    assert exact_objective(a_star, b_star) == pytest.approx(-0.5 * float(torch.trace(prec)))
    d_a, d_b = a - a_star, b - b_star
    half_fisher = 0.5 * float(torch.trace(d_a @ COV @ d_a.T) + ((d_a @ MU + d_b) ** 2).sum())
    assert exact_objective(a, b) - exact_objective(a_star, b_star) == pytest.approx(half_fisher)


def test_exact_sm_trace_of_a_nonlinear_score_matches_finite_differences():
    mix = GaussianMixture([[-1.0, 0.0], [1.0, 0.5]], [0.6, 0.8], [0.3, 0.7])
    x = mix.sample(20, torch.Generator().manual_seed(2)).double()
    per = S.exact_score_matching_loss(mix.score, x, reduction="none")
    h, trace = 1e-5, torch.zeros(20, dtype=torch.float64)
    for i in range(2):
        e = torch.zeros(2, dtype=torch.float64)
        e[i] = h
        trace += (mix.score(x + e)[:, i] - mix.score(x - e)[:, i]) / (2 * h)
    expected = 0.5 * (mix.score(x) ** 2).sum(1) + trace
    assert torch.allclose(per, expected, atol=1e-6)


def test_exact_sm_of_a_constant_field_has_no_trace():
    x = gaussian_sample(10, 3)
    per = S.exact_score_matching_loss(lambda z: torch.ones_like(z), x, reduction="none")
    assert torch.allclose(per, torch.ones(10, dtype=torch.float64))


# --- sliced score matching ------------------------------------------------------------------


@pytest.mark.parametrize("projection", ["rademacher", "gaussian"])
@pytest.mark.parametrize("vr", [False, True])
def test_sliced_sm_is_unbiased_for_the_exact_objective(projection, vr):
    net = S.ScoreNet(2, 16, 2, generator=torch.Generator().manual_seed(0)).double()
    x = gaussian_sample(100, 4)
    exact = float(S.exact_score_matching_loss(net, x).detach())
    reps = 400  # 400 independent projections per point, one per row
    per = S.sliced_score_matching_loss(
        net, x.repeat(reps, 1), projection=projection, variance_reduction=vr,
        generator=torch.Generator().manual_seed(5), reduction="none").detach()
    # compare point by point averages: the mean over rows of a fixed x set
    within(float(per.mean()), exact, per - per.reshape(reps, 100).mean(0).repeat(reps))


def test_sliced_sm_variance_reduction_and_projection_count():
    net = S.ScoreNet(2, 16, 2, generator=torch.Generator().manual_seed(1)).double()
    x = gaussian_sample(200, 5).repeat(50, 1)
    kw = dict(reduction="none", generator=torch.Generator().manual_seed(6))
    plain = S.sliced_score_matching_loss(net, x, projection="gaussian", **kw).detach()
    vr = S.sliced_score_matching_loss(net, x, projection="gaussian", variance_reduction=True,
                                      **kw).detach()
    assert float(vr.var()) < float(plain.var())
    many = S.sliced_score_matching_loss(net, x[:200], n_projections=7, reduction="none",
                                        generator=torch.Generator().manual_seed(7))
    assert many.shape == (200,)


def test_sliced_sm_vr_of_a_linear_model_takes_the_two_rademacher_values():
    # With v ∈ {±1}², vᵀAv = tr A + (A12 + A21) v1 v2: every per-point SSM-VR value is
    # ½|s|² + tr A ± (A12 + A21), and the two signs average to the exact objective.
    a = torch.tensor([[-0.7, 0.5], [-0.1, -0.4]], dtype=torch.float64)
    x = gaussian_sample(1, 8).repeat(4000, 1)
    per = S.sliced_score_matching_loss(linear(a, torch.zeros(2)), x, variance_reduction=True,
                                       generator=torch.Generator().manual_seed(9),
                                       reduction="none").detach()
    exact = S.exact_score_matching_loss(linear(a, torch.zeros(2)), x[:1],
                                        reduction="none").detach()
    offset = per - exact
    cross = float(a[0, 1] + a[1, 0])
    assert torch.allclose(offset.abs(), torch.full_like(offset, abs(cross)), atol=1e-12)
    within(float(per.mean()), float(exact), per)


# --- denoising score matching ---------------------------------------------------------------


def test_dsm_excess_loss_is_half_sigma2_fisher_on_the_perturbed_density():
    """L(s) - L(s*_σ) = ½ σ² E_{p_σ}|s - s*_σ|² (Vincent 2011), with s*_σ the perturbed score."""
    std, sigma, n = 0.8, 0.5, 200_000
    g = torch.Generator().manual_seed(10)
    x = 1.0 + std * torch.randn(n, 2, generator=g, dtype=torch.float64)
    var = std**2 + sigma**2
    true = linear(-torch.eye(2) / var, torch.ones(2) / var)  # -(x - 1)/(s² + σ²)
    other_a = -torch.eye(2, dtype=torch.float64) / var + torch.tensor([[0.3, 0.1], [0.0, -0.2]])
    other = linear(other_a, torch.tensor([0.2, 0.0]))
    l_true = S.denoising_score_matching_loss(true, x, sigma, torch.Generator().manual_seed(11),
                                             reduction="none")
    l_other = S.denoising_score_matching_loss(other, x, sigma,
                                              torch.Generator().manual_seed(11), "none")
    d_a = other_a + torch.eye(2) / var
    d_b = torch.tensor([0.2, 0.0], dtype=torch.float64) - torch.ones(2) / var
    # x̃ ~ N(1, var·I): E|d_a x̃ + d_b|² in closed form
    m = torch.ones(2, dtype=torch.float64)
    fisher = float(var * torch.trace(d_a @ d_a.T) + ((d_a @ m + d_b) ** 2).sum())
    diff = l_other - l_true
    within(float(diff.mean()), 0.5 * sigma**2 * fisher, diff)
    assert float(diff.mean()) > 0


def test_dsm_fit_of_a_linear_model_recovers_the_perturbed_gaussian_score():
    std, sigma = 0.7, 0.4
    g = torch.Generator().manual_seed(12)
    data = torch.tensor([1.0, -2.0]) + std * torch.randn(20_000, 2, generator=g)
    model = torch.nn.Linear(2, 2)
    torch.nn.init.zeros_(model.weight)
    torch.nn.init.zeros_(model.bias)
    hist = S.train_score(model, data, "dsm", sigmas=sigma, n_steps=3000, batch_size=512,
                         lr=2e-2, generator=g, progress=False, lr_schedule="cosine")
    var = std**2 + sigma**2
    w, b = model.weight.detach(), model.bias.detach()
    # closed form: -(x - μ)/(s² + σ²); the noisy minibatch gradients leave a few % of error
    assert torch.allclose(w, -torch.eye(2) / var, atol=0.05 / var)
    assert torch.allclose(b, torch.tensor([1.0, -2.0]) / var, atol=0.1 / var)
    assert len(hist["loss"]) == 30 and hist["step"][-1] == 3000


def test_dsm_several_levels_need_a_conditional_model_and_weight_by_sigma2():
    x = gaussian_sample(100, 13)
    with pytest.raises(ValueError, match="noise-conditional"):
        S.denoising_score_matching_loss(linear(-torch.eye(2), torch.zeros(2)), x, [1.0, 0.5])

    # a conditional model that is exactly -z/σ-blind: s = 0 gives ½ E|z|² = dim/2 per level
    def zero(x, sigma):
        return torch.zeros_like(x)

    zero.noise_conditional = True
    per = S.denoising_score_matching_loss(zero, x.repeat(200, 1), [2.0, 0.1],
                                          torch.Generator().manual_seed(0), "none")
    within(float(per.mean()), 1.0, per)


@pytest.mark.parametrize("sigmas", [0.0, -1.0, [], [0.5, float("nan")], "a"])
def test_dsm_bad_sigmas(sigmas):
    with pytest.raises(ValueError, match="sigma"):
        S.denoising_score_matching_loss(lambda x: x, gaussian_sample(4, 0), sigmas)


# --- models ---------------------------------------------------------------------------------


def test_noise_conditional_net_divides_by_sigma_and_is_seeded():
    a = S.NoiseConditionalScoreNet(2, 16, 2, generator=torch.Generator().manual_seed(0))
    b = S.NoiseConditionalScoreNet(2, 16, 2, generator=torch.Generator().manual_seed(0))
    x = torch.randn(5, 2, generator=torch.Generator().manual_seed(1))
    sig = torch.tensor([0.1, 0.5, 1.0, 2.0, 4.0])
    out = a(x, sig)
    assert out.shape == (5, 2) and torch.equal(out, b(x, sig))
    raw = a.net(torch.cat([x, sig.log()[:, None]], 1))
    assert torch.allclose(out * sig[:, None], raw, atol=1e-6)
    assert torch.allclose(a(x, 0.5), a(x, torch.full((5,), 0.5)))
    with pytest.raises(ValueError, match="sigma"):
        a(x, torch.ones(3))
    assert S.is_noise_conditional(a) and not S.is_noise_conditional(S.ScoreNet())


# --- perturbed mixture (the closed-form ground truth) ---------------------------------------


def test_perturbed_mixture_density_and_score():
    mix = GaussianMixture([[-2.0, 0.0], [2.0, 1.0]], [0.5, 0.3], [0.8, 0.2])
    pm = S.PerturbedMixture(mix)
    x = torch.randn(30, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    assert torch.allclose(pm.score(x, 0.0), mix.score(x), atol=1e-10)
    for sigma in [0.1, 1.0, 3.0]:
        at = pm.at(sigma)
        assert torch.allclose(at.stds, torch.sqrt(mix.stds**2 + sigma**2))
        assert torch.allclose(pm.log_prob(x, sigma), at.log_prob(x), atol=1e-10)
        assert torch.allclose(pm(x, sigma), at.score(x), atol=1e-10)
    # per-row noise levels: each row uses its own σ
    sig = torch.linspace(0.1, 3.0, 30, dtype=torch.float64)
    rows = torch.stack([pm.score(x[i:i + 1], float(sig[i]))[0] for i in range(30)])
    assert torch.allclose(pm.score(x, sig), rows, atol=1e-10)
    with pytest.raises(ValueError, match="GaussianMixture"):
        S.PerturbedMixture("not a mixture")
    with pytest.raises(ValueError, match="sigma"):
        pm.at(-1.0)


def test_two_mode_mixture():
    mix = S.two_mode_mixture((0.8, 0.2), separation=4.0, std=0.5)
    assert torch.allclose(mix.weights, torch.tensor([0.8, 0.2], dtype=torch.float64))
    assert torch.allclose(mix.means, torch.tensor([[-2.0, 0.0], [2.0, 0.0]], dtype=torch.float64))
    with pytest.raises(ValueError, match="two numbers"):
        S.two_mode_mixture((0.5, 0.3, 0.2))


def test_mode_fractions_and_score_mse():
    pts = torch.tensor([[-1.0, 0.0], [-2.0, 0.1], [3.0, 0.0], [-0.5, 2.0]])
    fr = S.mode_fractions(pts, [[-2.0, 0.0], [2.0, 0.0]])
    assert torch.allclose(fr, torch.tensor([0.75, 0.25], dtype=torch.float64))
    with pytest.raises(ValueError, match="means"):
        S.mode_fractions(pts, [[0.0, 0.0, 0.0]])
    mix = S.two_mode_mixture()
    x = mix.sample(100, torch.Generator().manual_seed(0))
    assert S.score_mse(mix.score, mix.score, x) == 0.0
    zero_mse = S.score_mse(lambda z: torch.zeros_like(z), mix.score, x)
    assert zero_mse == pytest.approx(float((mix.score(x) ** 2).sum(1).mean()))
    pm = S.PerturbedMixture(mix)
    assert S.score_mse(pm, pm, x, sigma=0.5) == 0.0


# --- annealed Langevin ----------------------------------------------------------------------


def _annealed_moments(sigmas, n_steps_each, eps, m0, c0):
    """Exact mean and covariance of annealed Langevin on N(μ, Σ): with a linear score each
    step is x ← (I - αP)(x - μ) + μ + √(2α) z, P = (Σ + σ²I)⁻¹, so
    m ← (I - αP)(m - μ) + μ and C ← (I - αP) C (I - αP)ᵀ + 2α I."""
    m, c = m0.clone(), c0.clone()
    eye = torch.eye(2, dtype=torch.float64)
    for sigma in sigmas.tolist():
        alpha = eps * sigma**2 / float(sigmas[-1]) ** 2
        step = eye - alpha * torch.linalg.inv(COV + sigma**2 * eye)
        for _ in range(n_steps_each):
            m = step @ (m - MU) + MU
            c = step @ c @ step.T + 2 * alpha * eye
    return m, c


def test_annealed_langevin_on_a_gaussian_reproduces_mean_and_covariance():
    def score(x, sigma):
        prec = torch.linalg.inv(COV[None] + sigma[:, None, None] ** 2 * torch.eye(2))
        return -torch.einsum("bij,bj->bi", prec, x - MU)

    score.noise_conditional = True
    n, t_each, eps = 8000, 200, 5e-3
    g = torch.Generator().manual_seed(3)
    x0 = 8 * torch.rand(n, 2, generator=g, dtype=torch.float64) - 4  # U(-4, 4)²
    sigmas = S.geometric_sigmas(3.0, 0.1, 6)
    chain = S.annealed_langevin(score, x0, sigmas, n_steps_each=t_each, eps=eps, generator=g,
                                return_trace=True)
    x = chain.x
    assert chain.trace.shape == (7, n, 2) and chain.acceptance_rate is None
    # 1. the sampler does exactly what the recursion says (5 standard errors)
    m, c = _annealed_moments(sigmas, t_each, eps, torch.zeros(2, dtype=torch.float64),
                             torch.eye(2, dtype=torch.float64) * 64 / 12)
    sd = torch.sqrt(torch.diag(c))
    assert ((x.mean(0) - m).abs() < 5 * sd / math.sqrt(n)).all()
    cov = torch.cov(x.T)
    se = torch.sqrt((c**2 + torch.outer(torch.diag(c), torch.diag(c))) / n)  # Wishart s.e.
    assert ((cov - c).abs() < 5 * se).all(), (cov, c)
    # 2. and that is the target p_σL = N(μ, Σ + σ_L² I), up to ULA's step-size bias (< 2%)
    target = COV + float(sigmas[-1]) ** 2 * torch.eye(2, dtype=torch.float64)
    assert torch.allclose(m, MU, atol=1e-6)
    assert ((c - target).abs() < 0.02 * target.abs().max()).all(), c


def test_annealed_langevin_checks_and_divergence_guard():
    pm = S.PerturbedMixture(S.two_mode_mixture())
    x0 = torch.zeros(10, 2)
    with pytest.raises(ValueError, match="noise-conditional"):
        S.annealed_langevin(lambda x: -x, x0, [1.0, 0.5])
    with pytest.raises(ValueError, match="decreasing"):
        S.annealed_langevin(pm, x0, [0.5, 1.0])
    with pytest.raises(ValueError, match="non-finite"):
        S.annealed_langevin(pm, torch.full((3, 2), float("nan")), [1.0])
    with pytest.raises(ValueError, match="shape"):
        S.annealed_langevin(pm, torch.zeros(10), [1.0])
    with pytest.raises(RuntimeError, match="Lower eps"):
        S.annealed_langevin(pm, x0, [1.0, 0.01], n_steps_each=50, eps=1.0,
                            generator=torch.Generator().manual_seed(0))


def test_annealed_langevin_is_deterministic_given_the_generator():
    pm = S.PerturbedMixture(S.two_mode_mixture())
    x0 = torch.zeros(50, 2)
    sig = S.geometric_sigmas(3.0, 0.1, 4)
    a = S.annealed_langevin(pm, x0, sig, 10, 1e-3, torch.Generator().manual_seed(4)).x
    b = S.annealed_langevin(pm, x0, sig, 10, 1e-3, torch.Generator().manual_seed(4)).x
    assert torch.equal(a, b)


# --- training loop --------------------------------------------------------------------------


def test_train_score_esm_and_ssm_learn_a_gaussian_score():
    data = gaussian_sample(5000, 14)
    prec = torch.linalg.inv(COV)
    truth = linear(-prec, prec @ MU)
    for loss in ["esm", "ssm_vr"]:
        g = torch.Generator().manual_seed(15)
        model = S.ScoreNet(2, 32, 2, generator=g).double()
        before = S.score_mse(model, truth, data)
        S.train_score(model, data, loss, n_steps=600, batch_size=256, lr=3e-3, generator=g,
                      progress=False, lr_schedule="cosine")
        after = S.score_mse(model, truth, data)
        # E_p|s*|² = tr Σ⁻¹ ≈ 1.6: the fitted field must be far closer than zero or the init
        assert after < 0.05 * float(torch.trace(prec)) and after < 0.1 * before, (loss, after)


def test_train_score_bad_input_and_divergence_guard():
    data = gaussian_sample(100, 16).float()
    model = S.ScoreNet(2, 8, 1, generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="loss must be one of"):
        S.train_score(model, data, "mle")
    with pytest.raises(ValueError, match="needs the noise level"):
        S.train_score(model, data, "dsm")
    with pytest.raises(ValueError, match="only used by loss='dsm'"):
        S.train_score(model, data, "esm", sigmas=0.1)
    with pytest.raises(ValueError, match="non-finite"):
        S.train_score(model, torch.full((5, 2), float("inf")), "esm")
    with pytest.raises(ValueError, match="shape"):
        S.train_score(model, torch.zeros(5), "esm")
    with pytest.raises(ValueError, match=r"nn\.Module"):
        S.train_score(lambda x: x, data, "esm")
    with pytest.raises(ValueError, match="lr_schedule"):
        S.train_score(model, data, "esm", lr_schedule="step")
    with pytest.raises(ValueError, match="one score per point"):
        S.train_score(_EnergyNotScore(), data, "esm", n_steps=1)
    lin = torch.nn.Linear(2, 2)
    with pytest.raises(RuntimeError, match=r"(?i)lower the learning rate"):
        S.train_score(lin, data, "dsm", sigmas=0.1, n_steps=20, lr=1e30,
                      generator=torch.Generator().manual_seed(0), progress=False)


class _EnergyNotScore(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(2))

    def forward(self, x):
        return (x * self.w).sum(1)


def test_train_score_with_a_callable_loss_and_is_deterministic():
    data = gaussian_sample(500, 17).float()

    def run():
        g = torch.Generator().manual_seed(18)
        model = S.ScoreNet(2, 8, 1, generator=g)
        hist = S.train_score(model, data, lambda m, x, gen: (m(x) ** 2).mean(), n_steps=50,
                             log_every=10, generator=g, progress=False)
        return model, hist

    (m1, h1), (m2, h2) = run(), run()
    assert h1["loss"] == h2["loss"] and len(h1["loss"]) == 5
    assert h1["loss"][-1] < h1["loss"][0]
    for p, q in zip(m1.parameters(), m2.parameters(), strict=True):
        assert torch.equal(p, q)
