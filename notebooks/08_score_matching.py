# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] slideshow={"slide_type": "slide"}
# # 08 · Score matching: learning ∇ log p without the partition function
#
# Every energy-based model so far has fought the partition function $Z$: RBMs approximate its
# gradient with Gibbs chains (notebook 04), neural EBMs with short-run Langevin chains
# (notebook 07). There is another way out. The **score** of a density,
# $s(x) = \nabla_x \log p(x) = -\nabla_x E(x)$, does not contain $Z$ at all — the constant
# disappears under the gradient — and it is all that Langevin dynamics needs to sample.
# So why not learn the score directly?
#
# The obstacle is that the loss we want, $\mathbb E_p|s_\theta(x) - \nabla \log p(x)|^2$,
# contains the unknown true score. Hyvärinen (2005) showed how to rewrite it without it;
# Vincent (2011) and Song et al. (2019) made that rewrite cheap; and Song & Ermon (2019)
# noticed that the learned score is wrong exactly where Langevin chains need it, and fixed
# that with noise — the step from score matching to today's diffusion models (notebook 09).
# This notebook derives each objective, implements it in a few lines, checks it against the
# package and against the closed-form score of a Gaussian mixture, and measures what plain
# and annealed Langevin dynamics do with it.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Learning goals
#
# After this notebook you can
#
# 1. explain why the score is free of the partition function, and draw a score field over an
#    energy landscape;
# 2. derive Hyvärinen's score-matching objective by integration by parts, and implement it
#    with an exact Jacobian trace;
# 3. derive and implement sliced score matching (with its variance-reduced form) and denoising
#    score matching, and say what each costs and where each is biased or noisy;
# 4. measure a learned score against the analytic one (error maps and the mean squared error
#    under $p$) and explain why errors concentrate where $p$ is small;
# 5. show why plain Langevin dynamics gets the weights of separated modes wrong, and how
#    annealed Langevin dynamics over a geometric ladder of noise levels (NCSN) gets them right.

# %% [markdown] slideshow={"slide_type": "notes"}
# ## Prerequisites and run time
#
# Langevin dynamics and the energy–probability link from
# [01 · The Boltzmann distribution](01_boltzmann_distribution.ipynb) and
# [07 · Neural EBMs and Langevin dynamics](07_neural_ebm_langevin.ipynb); gradients with
# autograd; a little multivariate calculus (integration by parts, the trace of a Jacobian).
# Run time on 2 CPU cores: see the table in 00_roadmap (measured by `make bench`); set
# `EBM_FAST=1` for a quick run with shorter training (the numbers then differ, the
# conclusions are asserted in both modes).

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
import math
import time

import numpy as np
import torch
from IPython.display import display

from ebm_helpers import checks, config, energies, plotting, samplers, score, widgets

plotting.apply_style()
config.set_torch_threads()  # one thread: small tensors, and robust on a busy laptop
generator = config.seed_everything(0)
FAST = config.is_fast()
print(config.notebook_header("08_score_matching"))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The score, and why it does not need $Z$
#
# For $p(x) = e^{-E(x)}/Z$,
#
# $$s(x) = \nabla_x \log p(x) = -\nabla_x E(x) - \underbrace{\nabla_x \log Z}_{=\,0}.$$
#
# The score is a vector field that points uphill in probability (downhill in energy), with
# length set by how fast the log-density changes. Our running example is a mixture of two
# Gaussians with **unequal weights**, 0.8 on the left and 0.2 on the right, far apart compared
# with their widths (`score.two_mode_mixture`). For a Gaussian mixture the score has a closed
# form, $\nabla \log p(x) = \sum_k r_k(x)\,(\mu_k - x)/\sigma_k^2$ with the responsibilities
# $r_k(x) = p(k \mid x)$ (`GaussianMixture.score`); the generic `Density.score` gets it by
# autograd of $\log p$. They agree:

# %% slideshow={"slide_type": "-"}
mix = score.two_mode_mixture(weights=(0.8, 0.2), separation=4.0, std=0.5)
weights = mix.weights.float()
bounds = widgets.NOISE_BOUNDS
probe = mix.sample(1000, generator)
closed_form = mix.score(probe)
by_autograd = energies.Density.score(mix, probe)  # the generic autograd version
print(f"{mix.name}: max |closed form - autograd| = "
      f"{float((closed_form - by_autograd).abs().max()):.1e}")
assert torch.allclose(closed_form, by_autograd, atol=1e-5)


def quiver_field(ax, field, bounds, n=17, color="w"):
    """Draw a score field as arrows on a regular grid (length ∝ |s|, clipped for readability)."""
    _, _, pts = plotting.grid_2d(bounds, n)
    pts = pts.float()
    with torch.no_grad():
        s = field(pts).double()
    mag = s.norm(dim=1, keepdim=True)
    s = s / mag.clamp_min(1e-12) * mag.clamp_max(4.0)  # clip the long arrows far from the data
    ax.quiver(pts[:, 0], pts[:, 1], s[:, 0], s[:, 1], color=color, angles="xy",
              scale_units="xy", scale=4.0 / ((bounds[0][1] - bounds[0][0]) / n), width=0.004)


fig, axes = plotting.new_axes(ncols=2, size=(5.2, 3.9))
plotting.plot_field_2d(mix.energy, bounds, ax=axes[0], clip_quantile=0.6,
                       colorbar_label="energy E(x) = -log p(x)",
                       title="energy landscape and score arrows")
quiver_field(axes[0], mix.score, bounds)
plotting.plot_field_2d(lambda x: mix.log_prob(x).exp(), bounds, ax=axes[1],
                       colorbar_label="density p(x)", title="density and exact samples")
plotting.plot_samples(mix.sample(2000, generator), ax=axes[1], bounds=bounds, s=2,
                      alpha=0.3, color="w")
fig.suptitle(f"{mix.name}: the score s(x) = ∇ log p(x) = -∇E(x)")
display(fig)

# %% [markdown] slideshow={"slide_type": "subslide"}
# *Left: the energy $E = -\log p$ (clipped at a quantile so the wells stay visible) with the
# score as arrows (lengths clipped at 4): everything flows into the two wells. Right: the
# density with exact samples; the heavy left mode holds four fifths of them.* Far from the
# data the arrows are long and point straight at the nearest mode; between the modes they
# split at a ridge. That ridge is where trouble will come from in section 6.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Exact score matching (Hyvärinen 2005)
#
# We want a model $s_\theta$ that minimises the **Fisher divergence**
#
# $$\tfrac12\,\mathbb E_{p}\big|s_\theta(x) - \nabla \log p(x)\big|^2
#   = \mathbb E_p\big[\tfrac12|s_\theta|^2\big] - \mathbb E_p\big[s_\theta^\top \nabla\log p\big]
#   + \text{const}.$$
#
# The middle term contains the unknown score, but $p\,\nabla \log p = \nabla p$, and
# integrating by parts (assuming $p\,s_\theta \to 0$ at infinity) moves the derivative onto
# the model:
#
# $$\mathbb E_p\big[s_\theta^\top \nabla \log p\big] = \int s_\theta^\top \nabla p\,dx
#   = -\int p\,\nabla\!\cdot s_\theta\,dx = -\mathbb E_p\big[\operatorname{tr}\nabla_x
#   s_\theta(x)\big].$$
#
# So, up to a constant that does not depend on $\theta$,
#
# $$J_{\text{ESM}}(\theta) = \mathbb E_p\Big[\tfrac12|s_\theta(x)|^2
#   + \operatorname{tr}\nabla_x s_\theta(x)\Big],$$
#
# computable from samples alone. The trace is $\sum_i \partial s_{\theta,i}/\partial x_i$:
# one backward pass per coordinate — exact and cheap in 2D, hopeless for a 784-pixel image.
# Our score model is a small MLP with smooth (SiLU) activations (`score.ScoreNet`): the
# objective differentiates the network, so ReLUs (zero second derivative) would not do.

# %% slideshow={"slide_type": "-"}
def esm_loss(model, x):
    """Hyvärinen's objective, mean over the batch: ½|s(x)|² + Σ_i ∂s_i/∂x_i."""
    x = x.detach().requires_grad_(True)
    s = model(x)
    trace = sum(torch.autograd.grad(s[:, i].sum(), x, create_graph=True)[0][:, i]
                for i in range(x.shape[1]))
    return (0.5 * (s**2).sum(1) + trace).mean()


n_data = config.scaled(full=20_000, fast=10_000)
data = mix.sample(n_data, generator)  # the training set: exact samples from p
test = mix.sample(5000, torch.Generator().manual_seed(1))  # held out, for the errors
net = score.ScoreNet(2, 64, 2, generator=torch.Generator().manual_seed(2))
ours = esm_loss(net, data[:512]).detach()
helper = score.exact_score_matching_loss(net, data[:512]).detach()
print(f"untrained net: our J_ESM = {float(ours):.6f}, score.exact_score_matching_loss = "
      f"{float(helper):.6f}")
assert torch.allclose(ours, helper, atol=1e-6)

# the constant we dropped: at the optimum s_θ = ∇ log p, J_ESM = -½ E_p|∇ log p|²
fisher_scale = float((mix.score(test) ** 2).sum(1).mean())  # E_p|∇ log p|²
print(f"J_ESM of the true score on held-out samples: "
      f"{float(score.exact_score_matching_loss(mix.score, test).detach()):.3f}  "
      f"(-½ E_p|∇ log p|² = {-0.5 * fisher_scale:.3f})")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The first check compares our five lines with the package's `exact_score_matching_loss`; the
# second evaluates the objective at the true score, where its expectation equals
# $-\tfrac12\mathbb E_p|\nabla\log p|^2$ (the dropped constant); both printed numbers are
# Monte-Carlo averages over different samples, so they agree only up to sampling error. Now
# train: `score.train_score` is one Adam loop for every objective in this notebook
# (minibatches, a cosine learning-rate decay that averages out the noise of the stochastic
# losses, and a divergence guard that stops with advice when the loss turns NaN).

# %% slideshow={"slide_type": "-"}
n_steps = config.scaled(full=2000, fast=600)
train_kw = dict(n_steps=n_steps, batch_size=256, lr=3e-3, lr_schedule="cosine")
models, histories, seconds = {}, {}, {}


def fit(name, loss, seed, **kw):
    """Train a fresh ScoreNet with one objective; keep the model, its history and its time."""
    g = torch.Generator().manual_seed(seed)
    model = score.ScoreNet(2, 64, 2, generator=g)
    t0 = time.perf_counter()
    histories[name] = score.train_score(model, data, loss, generator=g, **train_kw, **kw)
    seconds[name] = time.perf_counter() - t0
    models[name] = model
    print(f"{name:>14}: final training loss {histories[name]['loss'][-1]:+.3f}, "
          f"{seconds[name]:.1f} s")


fit("exact SM", "esm", seed=3)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Sliced score matching (Song, Garg, Shi & Ermon 2019)
#
# The trace is the expensive part. For any random vector $v$ with $\mathbb E[vv^\top] = I$
# (Rademacher $\pm1$ entries, or standard Gaussian), $\mathbb E_v[v^\top A v] =
# \operatorname{tr}(A\,\mathbb E[vv^\top]) = \operatorname{tr} A$. And
# $v^\top \nabla_x s_\theta\, v = v^\top \nabla_x (v^\top s_\theta)$ is **one** backward pass
# of the scalar $v^\top s_\theta$, whatever the dimension. Projecting the squared norm the
# same way, $\mathbb E_v[(v^\top s)^2] = |s|^2$, gives
#
# $$J_{\text{SSM}}(\theta) = \mathbb E_p\mathbb E_v\Big[v^\top\nabla_x s_\theta(x)\,v
#   + \tfrac12\big(v^\top s_\theta(x)\big)^2\Big],$$
#
# an unbiased estimate of $J_{\text{ESM}}$. The **variance-reduced** form SSM-VR keeps the
# closed form $\tfrac12|s_\theta|^2$ for the second term, so only the trace is sampled.
# In code (Rademacher directions, one per data point):

# %% slideshow={"slide_type": "skip"}
def ssm_loss(model, x, generator, variance_reduction=False):
    """Sliced score matching with one Rademacher direction per point."""
    v = torch.randint(0, 2, x.shape, generator=generator).to(x.dtype) * 2 - 1
    x = x.detach().requires_grad_(True)
    s = model(x)
    sv = (s * v).sum(1)  # vᵀ s(x)
    vjv = (torch.autograd.grad(sv.sum(), x, create_graph=True)[0] * v).sum(1)  # vᵀ ∇s v
    second = 0.5 * (s**2).sum(1) if variance_reduction else 0.5 * sv**2
    return (vjv + second).mean()


for vr in [False, True]:
    ours = ssm_loss(net, data[:512], torch.Generator().manual_seed(4), vr).detach()
    helper = score.sliced_score_matching_loss(net, data[:512], variance_reduction=vr,
                                              generator=torch.Generator().manual_seed(4)).detach()
    print(f"SSM{'-VR' if vr else '   '}: ours = {float(ours):.6f}, package = {float(helper):.6f}")
    assert torch.allclose(ours, helper, atol=1e-6)

# unbiased: averaged over many directions, the sliced objective is the exact one. On the
# *trained* exact-SM network of section 2: an untrained one has a score near 0, where the
# sampled square (vᵀs)² that SSM-VR removes has nothing to add variance with.
trained = models["exact SM"]
exact = float(score.exact_score_matching_loss(trained, data[:512]).detach())
spread = {}
for vr in [False, True]:
    per = score.sliced_score_matching_loss(
        trained, data[:512].repeat(200, 1), variance_reduction=vr, reduction="none",
        generator=torch.Generator().manual_seed(5)).detach()
    se = float(per.std()) / math.sqrt(per.numel())
    spread[vr] = float(per.std())
    print(f"SSM{'-VR' if vr else '   '} averaged over 200 directions per point: "
          f"{float(per.mean()):.4f} ± {se:.4f} (exact {exact:.4f}); "
          f"single-direction std {spread[vr]:.3f}")
    assert abs(float(per.mean()) - exact) < 5 * se
assert spread[True] < spread[False]  # the variance reduction, measured
print(f"std ratio SSM-VR / SSM on the trained network: {spread[True] / spread[False]:.2f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Same numbers as the package, same random directions. Averaged over many directions, both
# sliced objectives match the exact one to within a few of their printed standard errors
# (asserted: five), and on the trained
# network the spread of a single-direction estimate is smaller for SSM-VR (asserted; the ratio
# is printed): it samples only the trace. The spread includes the variation between data
# points, which both estimates share. Train both:

# %% slideshow={"slide_type": "-"}
fit("sliced SM", "ssm", seed=3)
fit("sliced SM-VR", "ssm_vr", seed=3)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Denoising score matching (Vincent 2011)
#
# A different trick avoids derivatives of the model altogether. Add Gaussian noise,
# $\tilde x = x + \sigma z$ with $z \sim \mathcal N(0, I)$. The noisy points have density
# $p_\sigma = p * \mathcal N(0, \sigma^2 I)$, and Vincent showed that
#
# $$\tfrac12\mathbb E_{p_\sigma}\big|s_\theta(\tilde x) - \nabla\log p_\sigma(\tilde x)\big|^2
#   = \tfrac12\mathbb E_{x\sim p,\,z}\big|s_\theta(\tilde x) - \nabla_{\tilde x}
#   \log q_\sigma(\tilde x\mid x)\big|^2 + \text{const},$$
#
# because $\nabla \log p_\sigma(\tilde x) = \mathbb E[\nabla_{\tilde x}\log q_\sigma(\tilde x
# \mid x) \mid \tilde x]$ and a regression onto a noisy target has the same minimiser as onto
# its conditional mean. The identity takes one line: with
# $p_\sigma(\tilde x) = \int q_\sigma(\tilde x \mid x)\,p(x)\,dx$,
#
# $$\nabla \log p_\sigma(\tilde x) = \frac{\int \nabla_{\tilde x} q_\sigma(\tilde x\mid x)\,
#   p(x)\,dx}{p_\sigma(\tilde x)} = \int \nabla_{\tilde x}\log q_\sigma(\tilde x\mid x)\,
#   \underbrace{\frac{q_\sigma(\tilde x\mid x)\,p(x)}{p_\sigma(\tilde x)}}_{p(x \mid
#   \tilde x)\text{ (Bayes)}}\,dx ,$$
#
# using $\nabla q = q\,\nabla\log q$. (Notebook 09 uses the same identity for its noise
# predictor.) The target is the score of the Gaussian kernel,
# $\nabla_{\tilde x}\log q_\sigma(\tilde x\mid x) = -(\tilde x - x)/\sigma^2 = -z/\sigma$:
#
# $$J_{\text{DSM}}(\theta) = \tfrac12\,\mathbb E_{x, z}\big|s_\theta(x + \sigma z)
#   + z/\sigma\big|^2 .$$
#
# A plain regression. The price: it learns the score of $p_\sigma$, not of $p$ — biased for
# large $\sigma$ — and the target $z/\sigma$ has a variance that explodes as $\sigma \to 0$.
# The package weights the loss by $\lambda(\sigma) = \sigma^2$ (Song & Ermon 2019), i.e.
# minimises $\tfrac12|\sigma s_\theta + z|^2$, which for one fixed $\sigma$ only rescales it:

# %% slideshow={"slide_type": "-"}
def dsm_loss(model, x, sigma, generator):
    """Denoising score matching at one noise level, weighted by λ(σ) = σ²."""
    z = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    return 0.5 * ((sigma * model(x + sigma * z) + z) ** 2).sum(1).mean()


dsm_sigma = 0.1
ours = dsm_loss(net, data[:512], dsm_sigma, torch.Generator().manual_seed(6)).detach()
helper = score.denoising_score_matching_loss(net, data[:512], dsm_sigma,
                                             torch.Generator().manual_seed(6)).detach()
print(f"DSM at σ = {dsm_sigma}: ours = {float(ours):.6f}, package = {float(helper):.6f}")
assert torch.allclose(ours, helper, atol=1e-6)
fit("denoising SM", "dsm", seed=3, sigmas=dsm_sigma)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Learned vs analytic score
#
# How good are the four fields? The natural measure is the quantity score matching minimises,
# the mean squared error under $p$, $\mathbb E_p|s_\theta(x) - \nabla\log p(x)|^2$, estimated
# on held-out samples. We report it relative to $\mathbb E_p|\nabla \log p|^2$, the error of
# the useless field $s_\theta \equiv 0$. For denoising score matching we also compare with
# the score of $p_\sigma$, which is what it actually estimates (`score.PerturbedMixture`: for
# a Gaussian mixture $p_\sigma$ is again a mixture, with variances $\sigma_k^2 + \sigma^2$).

# %% slideshow={"slide_type": "-"}
perturbed = score.PerturbedMixture(mix)
mse = {name: score.score_mse(m, mix.score, test) for name, m in models.items()}
print(f"E_p|∇ log p|² = {fisher_scale:.3f} (the error of s = 0)\n")
print(f"{'objective':>14} | {'MSE under p':>11} | {'relative':>8} | {'train time':>10}")
for name, value in mse.items():
    print(f"{name:>14} | {value:11.4f} | {value / fisher_scale:8.4f} | "
          f"{seconds[name]:8.1f} s")
dsm_vs_own = score.score_mse(models["denoising SM"],
                             lambda x: perturbed.score(x, dsm_sigma), test)
print(f"\ndenoising SM against the score of p_σ (σ = {dsm_sigma}) instead of p: "
      f"{dsm_vs_own:.4f}")
for name, value in mse.items():
    assert value < 0.1 * fisher_scale, (name, value)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Every objective learned the score: each error is a small fraction of
# $\mathbb E_p|\nabla\log p|^2$ (asserted: below a tenth). Where is the remaining error? The
# error maps below show $|s_\theta(x) - \nabla\log p(x)|^2$ over the plane on a log scale,
# with the density's contours in white:

# %% slideshow={"slide_type": "-"}
_, _, grid = plotting.grid_2d(bounds, 120)
grid = grid.float()
with torch.no_grad():
    true_grid = mix.score(grid)
fig, axes = plotting.new_axes(ncols=2, nrows=2, size=(5.0, 3.6))
density_grid = mix.log_prob(grid).exp().reshape(120, 120).numpy()
high = density_grid >= 0.1 * density_grid.max()  # near the modes
low = density_grid <= 1e-4 * density_grid.max()  # between the modes and in the corners
err_ratio = {}
for ax, (name, model) in zip(axes.reshape(-1), models.items(), strict=True):
    with torch.no_grad():
        err = ((model(grid) - true_grid) ** 2).sum(1).reshape(120, 120)
    err_ratio[name] = float(np.median(err.numpy()[low]) / np.median(err.numpy()[high]))
    plotting.plot_field_2d(torch.log10(err + 1e-6), bounds, ax=ax,
                           colorbar_label="log10 |s_θ - ∇ log p|²", cmap="magma",
                           title=f"{name}: MSE under p = {mse[name]:.3f}")
    ax.contour(np.linspace(*bounds[0], 120), np.linspace(*bounds[1], 120), density_grid,
               levels=4, colors="w", linewidths=0.8)
fig.suptitle("where the learned scores are wrong (white: contours of p)")
display(fig)
print("median squared error where p < 1e-4·max over where p > 0.1·max: "
      + ", ".join(f"{name} {r:.0f}×" for name, r in err_ratio.items()))
assert min(err_ratio.values()) > (10 if FAST else 100)  # orders of magnitude, every objective

# %% [markdown] slideshow={"slide_type": "subslide"}
# *The error is small where the data are and grows by orders of magnitude away from them —
# between the modes and in the corners* (printed: the median error where $p$ is below
# $10^{-4}$ of its peak over that where it is above a tenth; asserted above 100, 10 in fast
# mode). Every objective is an expectation under $p$, so regions where $p$ is tiny barely
# contribute to it: the model is free to be wrong there.
# Below, the learned field (red) against the true one (white) for sliced SM-VR:

# %% slideshow={"slide_type": "-"}
fig, ax = plotting.new_axes(size=(6.2, 4.4))
plotting.plot_field_2d(lambda x: mix.log_prob(x).exp(), bounds, ax=ax,
                       colorbar_label="density p(x)",
                       title="true score (white) and sliced SM-VR score (red)")
quiver_field(ax, mix.score, bounds, n=15, color="w")
quiver_field(ax, models["sliced SM-VR"], bounds, n=15, color="C1")
display(fig)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Near the modes the arrows coincide. Far away they do not, and that is exactly where a
# Langevin chain started from noise begins its journey.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Plain Langevin dynamics gets the weights wrong
#
# Langevin dynamics needs only the score: $x \leftarrow x + \varepsilon\,\nabla\log p(x) +
# \sqrt{2\varepsilon}\,\xi$ (`samplers.langevin`, notebook 07). Give it even the **exact**
# score of our mixture, and start many chains uniformly over the plotting box. Each chain
# rolls into the nearest well — and stays: to change wells it must climb the energy barrier
# between them, and the expected waiting time grows like $e^{\Delta E}$ (Kramers' law). So
# the fraction of chains in each mode is the fraction that *started* in its basin, about one
# half each, whatever the true weights.

# %% slideshow={"slide_type": "-"}
n_chains = 5000  # binomial s.d. of a mode fraction near 0.8: √(0.8·0.2/5000) ≈ 0.006
(lo1, hi1), (lo2, hi2) = bounds
start = torch.rand(n_chains, 2, generator=torch.Generator().manual_seed(7))
start = start * torch.tensor([hi1 - lo1, hi2 - lo2]) + torch.tensor([lo1, lo2])
barrier = float(mix.energy(torch.zeros(1, 2)) - mix.energy(mix.means[:1].float()))
print(f"energy barrier from the heavy mode to the midpoint: {barrier:.1f} nats")

langevin_steps = 1000
plain = samplers.langevin(mix.energy, start, n_steps=langevin_steps, step_size=0.01,
                          generator=torch.Generator().manual_seed(8), return_trace=True,
                          thin=50)
plain_fracs = score.mode_fractions(plain.x, mix.means)
over_time = torch.stack([score.mode_fractions(x, mix.means)[0] for x in plain.trace])
print(f"plain Langevin, {langevin_steps} steps: fraction in each mode "
      f"{plain_fracs.numpy().round(3)} vs true weights {weights.numpy().round(3)}")
plain_error = float((plain_fracs - weights.double()).abs().max())
assert plain_error > 0.15  # off by far more than the 0.03 bar (and than the sampling noise)
nearest = torch.cdist(plain.x.double(), mix.means).argmin(1)
plain_sd = [float(plain.x[nearest == k].std(0).mean()) for k in range(2)]
print("spread within each mode (sd per coordinate): "
      + ", ".join(f"{v:.3f}" for v in plain_sd) + f" vs the components' {float(mix.stds[0]):.2f}")
assert all(abs(v / float(mix.stds[0]) - 1) < 0.05 for v in plain_sd)  # locally right

# %% [markdown] slideshow={"slide_type": "subslide"}
# Each sample is assigned to its nearest mean (`score.mode_fractions`). The fraction in the
# heavy mode stays where the starting split put it, far from its true weight, for the whole
# run (the figure in section 8 shows it step by step); Kramers' law puts a crossing at
# $e^{\Delta E}$ times the local relaxation time, far beyond it. The chains are not wrong
# *locally* — the spread within each mode matches the components' (printed; asserted within
# 5 %) — but the relative mass of the modes is set by where the chains started. A *learned*
# score cannot fix this, and adds its own trouble: the chains begin in the low-density region
# where section 5 showed the score to be least accurate.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. Noise to the rescue: perturbed densities
#
# Song & Ermon (2019) fixed both problems with one idea: perturb the data with Gaussian noise
# of several sizes. The perturbed density $p_\sigma = p * \mathcal N(0, \sigma^2 I)$ is, for
# our mixture, the same mixture with every variance increased by $\sigma^2$ — **same weights,
# same means**. For large $\sigma$ the two modes merge into one broad bump: chains mix freely,
# the score is well defined everywhere the chains are, and it is easy to learn because noisy
# samples fill the space. For small $\sigma$, $p_\sigma \approx p$. The static figure shows four
# levels; in the explorer below it, drag $\sigma$ (log scale) and watch the modes merge and the
# midpoint density catch up with the peak. Both are drawn by the same code: the panels by
# `widgets.noise_level_panels`, the explorer by its pure function `widgets.noise_level_figure`
# (arrows have unit length, coloured by the log of the score's magnitude, which grows like
# $1/\sigma^2$ near the data).

# %% slideshow={"slide_type": "-"}
display(widgets.noise_level_panels((0.05, 0.5, 1.5, 4.0), mixture=mix))

# %% slideshow={"slide_type": "subslide"}
widgets.noise_explorer(mixture=mix, sigma=0.5)

# %% [markdown] slideshow={"slide_type": "notes"}
# Things to try: find the $\sigma$ at which the two modes merge into one (the midpoint
# density reaches the peak); compare the arrows between the modes at $\sigma = 0.05$ and at
# $\sigma = 1$: the ridge that separates the basins softens and then disappears.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. Annealed Langevin dynamics (Song & Ermon 2019)
#
# Take a geometric ladder of noise levels $\sigma_1 > \dots > \sigma_L$ (a constant ratio
# between neighbours, `score.geometric_sigmas`), with $\sigma_1$ about the largest distance
# between data points (Song & Ermon 2020) and $\sigma_L$ small. Run $K$ Langevin steps at each
# level, largest first, each level starting where the previous one ended:
#
# $$x \leftarrow x + \varepsilon_i\, s(x, \sigma_i) + \sqrt{2\varepsilon_i}\,z, \qquad
#   \varepsilon_i = \varepsilon\,\sigma_i^2/\sigma_L^2 .$$
#
# The step $\varepsilon_i$ is proportional to $\sigma_i^2$, so every level moves by the same
# fraction of its own length scale. At $\sigma_1$ the chains equilibrate in one broad bump and
# share out their mass by the true weights; as $\sigma$ shrinks each chain is handed to a
# sharper density, close to the previous one, and ends in $p_{\sigma_L} \approx p$. The whole
# algorithm, with the exact noise-conditional score of the mixture, $\nabla\log p_\sigma$:

# %% slideshow={"slide_type": "skip"}
def annealed_langevin(score_fn, x, sigmas, n_steps_each, eps, generator):
    """Song & Ermon's Algorithm 1 in this collection's convention: step ε_i on the score,
    noise √(2ε_i) (their α_i/2 and √α_i)."""
    for sigma in sigmas.tolist():
        eps_i = eps * sigma**2 / float(sigmas[-1]) ** 2
        sig = torch.full((x.shape[0],), sigma)
        for _ in range(n_steps_each):
            z = torch.randn(x.shape, generator=generator, dtype=x.dtype)
            x = x + eps_i * score_fn(x, sig) + math.sqrt(2 * eps_i) * z
    return x


sigmas = score.geometric_sigmas(sigma_max=5.0, sigma_min=0.05, n_levels=10)
n_steps_each, eps = 200, 7.5e-4  # ε_i/σ_i² = eps/σ_L² = 0.3 at every level
print("noise levels:", np.round(sigmas.numpy(), 3))
# Song & Ermon (2019), images in [0, 1]: σ_1 = 1 ... σ_L = 0.01 (L = 10), T = 100 steps per
# level, ε = 2e-5 in x ← x + (α_i/2) s + √α_i z with α_i = ε σ_i²/σ_L²: a step of α_i/2 on
# the score in our convention
song_ermon = dict(eps=2e-5, sigma_min=0.01, sigma_max=1.0, n_levels=10, n_steps_each=100)
ours_ratio = eps / float(sigmas[-1]) ** 2
song_ermon_ratio = song_ermon["eps"] / (2 * song_ermon["sigma_min"] ** 2)
print(f"step on the score relative to σ_i² (the same at every level):\n"
      f"  ours:                ε_i/σ_i²     = {eps:.1e} / {float(sigmas[-1]):.2f}² = "
      f"{ours_ratio:.2f}, {n_steps_each} steps per level\n"
      f"  Song & Ermon (2019): α_i/(2σ_i²) = {song_ermon['eps']:.0e} / (2·"
      f"{song_ermon['sigma_min']:.2f}²) = {song_ermon_ratio:.2f}, "
      f"{song_ermon['n_steps_each']} steps per level")
ours = annealed_langevin(perturbed, start[:500], sigmas, 20, eps,
                         torch.Generator().manual_seed(9))
helper = score.annealed_langevin(perturbed, start[:500], sigmas, 20, eps,
                                 generator=torch.Generator().manual_seed(9)).x
print(f"max |ours - score.annealed_langevin| = {float((ours - helper).abs().max()):.1e}")
assert torch.allclose(ours, helper, atol=1e-4)

annealed = score.annealed_langevin(perturbed, start, sigmas, n_steps_each, eps,
                                   generator=torch.Generator().manual_seed(10),
                                   return_trace=True)
annealed_fracs = score.mode_fractions(annealed.x, mix.means)
annealed_error = float((annealed_fracs - weights.double()).abs().max())
print(f"annealed Langevin (exact score), {len(sigmas)} levels × {n_steps_each} steps: "
      f"fractions {annealed_fracs.numpy().round(3)} vs weights {weights.numpy().round(3)}; "
      f"largest error {annealed_error:.3f}")
print(f"plain Langevin: largest error {plain_error:.3f}")
print(f"binomial s.d. of a mode fraction near {float(weights[0]):.1f} with {n_chains} chains: "
      f"{math.sqrt(float(weights[0] * weights[1]) / n_chains):.3f}")
assert annealed_error < 0.03
eps_se = song_ermon_ratio * float(sigmas[-1]) ** 2  # Song & Ermon's relative step, our levels
se_run = score.annealed_langevin(perturbed, start, sigmas, n_steps_each, eps_se,
                                 generator=torch.Generator().manual_seed(10))
se_error = float((score.mode_fractions(se_run.x, mix.means) - weights.double()).abs().max())
print(f"with Song & Ermon's relative step ({song_ermon_ratio:.2f}, ε = {eps_se:.1e}), same "
      f"levels and steps: largest error {se_error:.3f}")
assert se_error < 0.03

# %% [markdown] slideshow={"slide_type": "subslide"}
# Our loop and the package's `annealed_langevin` agree (same random numbers), and with the
# exact noise-conditional score the mode fractions land within 0.03 of the true weights
# (asserted) — a statistically meaningful bar with 5000 chains, whose binomial standard
# deviation is printed above.
#
# **Our step size is not Song & Ermon's.** Their Algorithm 1 writes the update as
# $x + \tfrac{\alpha_i}{2}\,s + \sqrt{\alpha_i}\,z$, so our $\varepsilon_i$ is their
# $\alpha_i/2$: the same number is twice the step here, and their setting must be halved to be
# compared with ours. For images (Song & Ermon 2019: $\sigma_1 = 1$ down to
# $\sigma_L = 0.01$ over $L = 10$ levels, 100 steps per level, $\varepsilon = 2\times10^{-5}$)
# that gives a step of $\varepsilon_i/\sigma_i^2 = 0.1$ of each level's variance; ours is
# three times larger, $0.3$ — the two are printed side by side above. (Their released code
# steps by $\alpha_i$ with noise $\sqrt{2\alpha_i}$, our convention, at the same
# $\varepsilon$ — twice the paper's step.) Why we can afford more: in 2D with the exact score
# nothing is ill-conditioned, every level's variance is at least $\sigma_i^2$, so a relative
# step of $0.3$ is far below the stability limit of 2 (notebook 07, exercise 1), and at the
# last level the components' own variance makes the ULA bias negligible. The larger step is
# affordable, not needed: with Song & Ermon's relative step, the same levels and steps also
# recover the weights within 0.03 (printed above, asserted). The figure follows the
# heavy mode's fraction along both runs:

# %% slideshow={"slide_type": "-"}
fig, axes = plotting.new_axes(ncols=3, size=(4.3, 3.6))
steps_plain = np.arange(len(over_time)) * 50
ax = axes[0]
ax.plot(steps_plain, over_time.numpy(), label="plain Langevin")
level_fracs = torch.stack([score.mode_fractions(x, mix.means)[0] for x in annealed.trace])
level_steps = np.arange(len(level_fracs)) * n_steps_each
ax.plot(level_steps, level_fracs.numpy(), "o-", label="annealed (end of each level)")
# exact: the mass of p_σ nearer the heavy mean (x₁ < 0) is Σ_k w_k P(x₁ < 0 | k), with
# component k ~ N(μ_k, (σ_k² + σ²) I)
sd_k = torch.sqrt(mix.stds[None] ** 2 + sigmas[:, None] ** 2)  # (L, K)
exact_left = (mix.weights * torch.special.ndtr(-mix.means[:, 0] / sd_k)).sum(1)
ax.plot(level_steps[1:], exact_left.numpy(), "k:", label="exact, $p_{\\sigma_i}$")
ax.axhline(float(weights[0]), color="0.3", ls="--", label="true weight")
ax.set_xlabel("Langevin steps")
ax.set_ylabel("fraction nearest the heavy mode")
ax.set_ylim(0.3, 1.0)
ax.set_title("mass of the heavy mode during sampling")
ax.legend(loc="lower right")
for ax, x, name in [(axes[1], plain.x, "plain Langevin"),
                    (axes[2], annealed.x, "annealed Langevin")]:
    plotting.plot_samples(x[:2000], ax=ax, bounds=bounds, s=2, alpha=0.3,
                          title=f"{name}: {score.mode_fractions(x, mix.means)[0]:.2f} left")
fig.suptitle("exact score, same starting points: plain vs annealed Langevin")
display(fig)
plain_drift = float((over_time - over_time[0]).abs().max())
track_gap = float((level_fracs[1:] - exact_left).abs().max())
print(f"plain Langevin: heavy-mode fraction moves by at most {plain_drift:.3f} over the run; "
      f"annealed: largest gap to the exact fraction of p_σ at the end of a level "
      f"{track_gap:.3f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# *Left: the fraction of chains nearest the heavy mode. Plain Langevin stays at the starting
# split (its largest move over the run is printed). Annealed Langevin follows, level by level,
# the exact fraction of the perturbed density $p_{\sigma_i}$ on the heavy mode's side
# (dotted; the largest gap is printed) — at large $\sigma$ the broad components spill over
# the midpoint, so that fraction is below the weight — and arrives at the true weight as
# $\sigma$ shrinks. Middle and right: 2000 of the final samples.*

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 9. Learning the noise-conditional score (NCSN)
#
# Now without the closed form. A **noise-conditional score network** takes $(x, \sigma)$ and
# is trained by denoising score matching at all levels at once: each example draws a level
# $\sigma$ uniformly from the ladder, and the losses are weighted by $\lambda(\sigma) =
# \sigma^2$ so that every level contributes on the same scale,
#
# $$L(\theta) = \tfrac12\,\mathbb E_{\sigma}\,\mathbb E_{x,z}\big|\sigma\,s_\theta(x + \sigma
#   z, \sigma) + z\big|^2 .$$
#
# `score.NoiseConditionalScoreNet` feeds $(x, \log\sigma)$ to an MLP and divides its output by
# $\sigma$ (Song & Ermon 2020: the true score scales like $1/\sigma$, so the network's output
# stays of order one at every level).

# %% slideshow={"slide_type": "-"}
ncsn = score.NoiseConditionalScoreNet(2, 64, 2, generator=torch.Generator().manual_seed(11))
ncsn_steps = config.scaled(full=6000, fast=2000)
t0 = time.perf_counter()
ncsn_hist = score.train_score(ncsn, data, "dsm", sigmas=sigmas, n_steps=ncsn_steps,
                              batch_size=512, lr=5e-3, lr_schedule="cosine",
                              generator=torch.Generator().manual_seed(12))
print(f"NCSN: {ncsn_steps} steps in {time.perf_counter() - t0:.1f} s, final loss "
      f"{ncsn_hist['loss'][-1]:.3f}")

noise_gen = torch.Generator().manual_seed(13)
level_rel = []
for sig in sigmas.tolist():
    noisy = test + sig * torch.randn(test.shape, generator=noise_gen)  # samples of p_σ
    zero_error = float((perturbed.score(noisy, sig) ** 2).sum(1).mean())  # E_pσ|∇ log p_σ|²
    level_rel.append(score.score_mse(ncsn, perturbed, noisy, sigma=sig) / zero_error)
level_rel = np.array(level_rel)
print("relative error E_pσ|s_θ(x, σ) - ∇ log p_σ|² / E_pσ|∇ log p_σ|² per level:\n",
      level_rel.round(4))
ncsn_p = score.score_mse(lambda x: ncsn(x, float(sigmas[-1])), mix.score, test)
print(f"NCSN at σ_L = {float(sigmas[-1]):.2f} against the score of p, MSE under p: "
      f"{ncsn_p:.4f} (relative {ncsn_p / fisher_scale:.4f})")
assert level_rel.max() < 0.1

# %% [markdown] slideshow={"slide_type": "subslide"}
# The error at each level is measured on samples of $p_\sigma$ (held-out data plus noise)
# against the closed-form $\nabla\log p_\sigma$, relative to the error of $s_\theta \equiv 0$:
# one network is accurate at every noise level (asserted: below a tenth), and at the
# smallest level it is also a good score for $p$ itself. Now sample with it:

# %% slideshow={"slide_type": "-"}
learned = score.annealed_langevin(ncsn, start, sigmas, n_steps_each, eps,
                                  generator=torch.Generator().manual_seed(10))
learned_fracs = score.mode_fractions(learned.x, mix.means)
learned_error = float((learned_fracs - weights.double()).abs().max())
print(f"annealed Langevin (learned NCSN): fractions {learned_fracs.numpy().round(3)} "
      f"vs weights {weights.numpy().round(3)}; largest error {learned_error:.3f}")
print(f"                  (exact score): largest error {annealed_error:.3f}")
print(f"plain Langevin    (exact score): largest error {plain_error:.3f}")
assert learned_error < 0.5 * plain_error  # in both modes: far closer than plain Langevin
if not FAST:
    assert learned_error < 0.03  # the full run meets the same bar as the exact score

fig, axes = plotting.new_axes(ncols=2, size=(4.6, 3.8))
plotting.plot_samples(learned.x[:2000], ax=axes[0], bounds=bounds, s=2, alpha=0.3,
                      title="annealed Langevin with the learned NCSN")
plotting.plot_samples(mix.sample(2000, torch.Generator().manual_seed(14)), ax=axes[1],
                      bounds=bounds, s=2, alpha=0.3, color="C2",
                      title="exact samples from p")
fig.suptitle("learned noise-conditional score: samples vs the truth")
display(fig)

# %% [markdown] slideshow={"slide_type": "subslide"}
# With a learned score the weights come out right too. (In fast mode, with a third of the
# training, they are asserted only to be much closer than plain Langevin's. Expect a
# different training seed to move the full-mode fractions a little: the network's error
# between the modes at the intermediate noise levels is what decides how the mass is split,
# and it is never zero; retrain with another seed to see how much.)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - The score $\nabla\log p = -\nabla E$ does not contain $Z$; Langevin dynamics needs nothing
#   else. The catch is learning it without knowing it.
# - **Exact score matching** (Hyvärinen 2005) rewrites the Fisher divergence by integration by
#   parts as $\mathbb E_p[\tfrac12|s_\theta|^2 + \operatorname{tr}\nabla s_\theta]$: exact,
#   but one backward pass per dimension.
# - **Sliced score matching** (Song et al. 2019) estimates the trace with random projections,
#   one backward pass in any dimension, unbiased (we checked it against the exact objective);
#   SSM-VR takes the other term in closed form and has less variance.
# - **Denoising score matching** (Vincent 2011) is a plain regression onto $-z/\sigma$, with
#   no derivatives of the model; it learns the score of the noisy density $p_\sigma$.
# - All of them fit the score of a 2D mixture with a small error *under p* (printed and
#   asserted per objective), and all are badly wrong where $p$ is small — where chains
#   started from noise begin.
# - **Plain Langevin** with even the exact score gets the weights of separated modes wrong:
#   chains keep the starting split. **Annealed Langevin** over a geometric ladder of noise
#   levels shares the mass out while the modes are still merged, and recovered the true
#   weights within 0.03 with the exact score and with a learned noise-conditional network.
#
# Next: [09 · Diffusion models](09_diffusion_models.ipynb) turns the ladder of noise levels into
# a continuous-time forward process and its learned reverse — the same denoising score
# matching, with a different schedule and sampler (Song et al. 2021 unify the two).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# **1. Gaussian projections.** Repeat the unbiasedness check of section 3 with Gaussian
# instead of Rademacher directions (`projection="gaussian"`). Which has the smaller variance,
# and why?
#
# <details><summary>Solution</summary>
#
# ```python
# for kind in ["rademacher", "gaussian"]:
#     per = score.sliced_score_matching_loss(net, data[:512].repeat(200, 1), projection=kind,
#                                            reduction="none",
#                                            generator=torch.Generator().manual_seed(5))
#     print(kind, float(per.mean()), float(per.std()))
# ```
# Both are unbiased. Rademacher directions have less variance: $v^\top A v = \sum_i A_{ii}
# v_i^2 + \sum_{i\ne j} A_{ij} v_i v_j$, and with $v_i = \pm 1$ the diagonal part is exactly
# the trace (no noise), while Gaussian $v_i^2$ fluctuates (Hutchinson 1989 showed Rademacher
# vectors minimise the variance of this trace estimator).
# </details>
#
# **2. The noise level of DSM.** Train unconditional DSM models at $\sigma \in \{0.02, 0.1,
# 0.5\}$ and report the MSE against $\nabla \log p$ and against $\nabla\log p_\sigma$. Explain
# the pattern.
#
# <details><summary>Solution</summary>
#
# ```python
# for sigma in [0.02, 0.1, 0.5]:
#     g = torch.Generator().manual_seed(3)
#     m = score.ScoreNet(2, 64, 2, generator=g)
#     score.train_score(m, data, "dsm", sigmas=sigma, generator=g, **train_kw)
#     print(sigma, score.score_mse(m, mix.score, test),
#           score.score_mse(m, lambda x: perturbed.score(x, sigma), test))
# ```
# At $\sigma = 0.5$ the model matches $\nabla\log p_\sigma$ well but is biased for $p$ (the
# perturbed modes are wider, so its score is too weak). At $\sigma = 0.02$ there is almost no
# bias, but the regression target $-z/\sigma$ is huge and noisy, so with the same training
# budget the fit is worse. In between is a sweet spot — and a noise-conditional model trained
# on many levels sidesteps the choice.
# </details>
#
# **3. Too few levels.** Run annealed Langevin with the exact score for $L = 2$ (just
# $\sigma_{\max}$ and $\sigma_{\min}$), $L = 5$ and $L = 30$, keeping $K = 100$ steps per
# level. What happens to
# the mode fractions?
#
# <details><summary>Solution</summary>
#
# ```python
# for L in [2, 5, 30]:
#     sig = score.geometric_sigmas(5.0, 0.05, L)
#     out = score.annealed_langevin(perturbed, start, sig, 100, eps,
#                                   generator=torch.Generator().manual_seed(10))
#     print(L, score.mode_fractions(out.x, mix.means))
# ```
# With $L = 2$ the chains jump from one broad bump straight to the sharp target: at
# $\sigma_{\min}$ they roll into whichever basin they happen to be over, and the ridge between
# the modes is not where the broad bump split its mass, so the weights drift. With more levels
# each hand-over is between two similar densities and the weights are preserved (at a higher
# cost). The fraction is decided while the modes are merging, at intermediate $\sigma$: that
# is where steps, levels and score accuracy matter most.
# </details>
#
# **4. Exact score matching of an energy.** Parametrise the score as $s_\theta =
# -\nabla_x E_\theta$ with an MLP energy $E_\theta$ and train it with `loss="esm"`. Is the
# learned field conservative now? What does the trace become?
#
# <details><summary>Solution</summary>
#
# ```python
# class EnergyScore(torch.nn.Module):
#     def __init__(self):
#         super().__init__()
#         self.energy = torch.nn.Sequential(torch.nn.Linear(2, 64), torch.nn.SiLU(),
#                                           torch.nn.Linear(64, 64), torch.nn.SiLU(),
#                                           torch.nn.Linear(64, 1))
#
#     def forward(self, x):
#         with torch.enable_grad():
#             x = x if x.requires_grad else x.requires_grad_(True)
#             e = self.energy(x).sum()
#             return -torch.autograd.grad(e, x, create_graph=True)[0]
#
# m = EnergyScore()
# score.train_score(m, data, "esm", generator=torch.Generator().manual_seed(0), **train_kw)
# print(score.score_mse(m, mix.score, test))
# ```
# Yes: a gradient field is curl-free by construction, and the model is an energy-based model
# trained without ever touching $Z$. The trace of the score's Jacobian is minus the Laplacian
# of the energy, $\operatorname{tr}\nabla s = -\Delta E_\theta$, so the objective is
# $\mathbb E_p[\tfrac12|\nabla E_\theta|^2 - \Delta E_\theta]$ — Hyvärinen's original form —
# and training differentiates the network three times.
# </details>

# %% [markdown] slideshow={"slide_type": "-"}
# **5. The denoising score matching loss (checked).** Write `dsm_given_noise(score_fn, x, sigma, z)`
# for a batch `x` (n, 2), a noise level σ and the standard normal noise `z` (n, 2), given so that
# your loss and the package's see the same numbers: the σ²-weighted loss
# $\tfrac12\,\overline{\lvert\sigma\,s(x + \sigma z) + z\rvert^2}$.
#
# <details><summary>Solution</summary>
#
# ```python
# def dsm_given_noise(score_fn, x, sigma, z):
#     x_noisy = x + sigma * z
#     return (0.5 * ((sigma * score_fn(x_noisy) + z) ** 2).sum(1)).mean()
# ```
# The target of $s$ is $-z/\sigma$ (the score of the Gaussian kernel), so the sign inside the
# square is $+z$; multiplying by $\sigma^2$ is the weighting $\lambda(\sigma) = \sigma^2$.
# </details>

# %% slideshow={"slide_type": "skip"}
def dsm_given_noise(score_fn, x, sigma, z):
    raise NotImplementedError  # your code here


checks.dsm_loss(dsm_given_noise)

# %% [markdown] slideshow={"slide_type": "-"}
# **6. Sliced score matching, variance-reduced (checked).** Write `ssm_vr_loss(score_fn, x, v)`
# with one direction per point in `v` (n, 2): the batch mean of
# $v^\top\nabla_x s(x)\,v + \tfrac12\lvert s(x)\rvert^2$, with one backward pass.
#
# <details><summary>Solution</summary>
#
# ```python
# def ssm_vr_loss(score_fn, x, v):
#     x = x.detach().requires_grad_(True)
#     s = score_fn(x)
#     vjv = (torch.autograd.grad((s * v).sum(), x, create_graph=True)[0] * v).sum(1)
#     return (vjv + 0.5 * (s ** 2).sum(1)).mean()
# ```
# `create_graph=True` keeps the loss differentiable with respect to the network's parameters;
# replacing $\lvert s\rvert^2$ by $(v^\top s)^2$ gives plain SSM, unbiased but noisier.
# </details>

# %% slideshow={"slide_type": "skip"}
def ssm_vr_loss(score_fn, x, v):
    raise NotImplementedError  # your code here


checks.ssm_vr_loss(ssm_vr_loss)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## References
#
# - A. Hyvärinen (2005). Estimation of non-normalized statistical models by score matching.
#   *Journal of Machine Learning Research* 6.
# - P. Vincent (2011). A connection between score matching and denoising autoencoders.
#   *Neural Computation* 23(7).
# - Y. Song, S. Garg, J. Shi, S. Ermon (2019). Sliced score matching: a scalable approach to
#   density and score estimation. *UAI 2019*.
# - Y. Song, S. Ermon (2019). Generative modeling by estimating gradients of the data
#   distribution. *NeurIPS 2019*.
# - Y. Song, S. Ermon (2020). Improved techniques for training score-based generative models.
#   *NeurIPS 2020*.
# - Y. Song, J. Sohl-Dickstein, D. P. Kingma, A. Kumar, S. Ermon, B. Poole (2021). Score-based
#   generative modeling through stochastic differential equations. *ICLR 2021*.
# - M. F. Hutchinson (1989). A stochastic estimator of the trace of the influence matrix for
#   Laplacian smoothing splines. *Communications in Statistics – Simulation and Computation*
#   18(3).
# - H. A. Kramers (1940). Brownian motion in a field of force and the diffusion model of
#   chemical reactions. *Physica* 7(4).
