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
# # 10 · Joint energy models: your classifier is secretly an energy-based model
#
# A classifier ends in a vector of logits $f_\theta(x) \in \mathbb R^K$, and the softmax turns
# them into class probabilities. The softmax does not care about the overall level of the
# logits: add the same number to all of them and $p(y \mid x)$ does not change. Grathwohl et
# al. (2019) noticed that this unused degree of freedom is exactly what an energy-based model
# needs. Read the logits as negative energies, $E_\theta(x, y) = -f_\theta(x)[y]$, and the
# same network defines a joint density $p_\theta(x, y)$, a marginal density $p_\theta(x)$ and
# the usual classifier $p_\theta(y \mid x)$, all at once. Training the marginal as well — a
# **joint energy model (JEM)** — costs Langevin sampling (notebook 07), and buys three things
# the paper reported: better calibrated confidences, an input density that flags
# out-of-distribution inputs, and a class-conditional generator.
#
# This notebook derives JEM, implements its loss in a few lines and checks them against
# `ebm_helpers.ebm`, then trains JEM and a plain classifier *with the same loop, architecture,
# iterations and seed* on the 8×8 digits, and measures the three claims instead of assuming
# them: accuracy, calibration (reliability diagrams and ECE), out-of-distribution detection
# (AUROC on noise, transformed digits and held-out digit classes) and class-conditional samples.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Learning goals
#
# After this notebook you can
#
# 1. read a classifier's logits as an energy $E(x, y) = -f(x)[y]$ and derive $p(y|x)$ (a
#    softmax, blind to the logsumexp) and $p(x) \propto \sum_y e^{f(x)[y]}$ (the logsumexp);
# 2. show numerically that shifting all logits by $c(x)$ leaves $p(y|x)$ unchanged but
#    moves $\log p(x)$ by $c(x)$, and that cross-entropy never trains that direction;
# 3. implement one JEM training step (cross-entropy + contrastive divergence on
#    $E(x) = -\operatorname{logsumexp}_y f(x)[y]$ with short-run Langevin and a replay buffer)
#    and check it against `ebm.train_jem`;
# 4. measure calibration with reliability diagrams and the expected calibration error, and
#    explain why a plain classifier becomes over-confident as it trains;
# 5. use $\log p(x)$ and $\max_y p(y|x)$ as out-of-distribution scores, measure them with
#    AUROC, and say which kinds of outliers each one catches;
# 6. sample digits of a chosen class by Langevin dynamics on $E(x, y)$.

# %% [markdown] slideshow={"slide_type": "notes"}
# ## Prerequisites and run time
#
# Notebook [07 · Neural EBMs and Langevin](07_neural_ebm_langevin.ipynb) (Langevin dynamics,
# short-run sampling, replay buffers, the contrastive loss); softmax classifiers and
# cross-entropy. Run time on 2 CPU cores: see the table in [00_roadmap](00_roadmap.ipynb)
# (measured by `make bench`); `EBM_FAST=1` trains for fewer iterations and one seed instead of
# three (the numbers then differ; assertions that need full-mode training run only there).

# %% slideshow={"slide_type": "skip"}
import copy
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from IPython.display import Markdown, display

from ebm_helpers import checks, config, data, ebm, metrics, plotting

plotting.apply_style()
config.set_torch_threads()  # one thread: small tensors, and robust on a busy laptop
generator = config.seed_everything(0)
FAST = config.is_fast()
print(config.notebook_header("10_joint_energy_models"))

digits = data.load_digits()  # 8×8 grey-level digits in [0, 1], fixed 1 437 / 360 split
x_train, y_train, x_test, y_test = digits.x_train, digits.y_train, digits.x_test, digits.y_test
print(digits)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. A classifier's logits are an energy
#
# Let $f_\theta : \mathbb R^D \to \mathbb R^K$ be any classifier network. Define the energy
# of an (input, label) pair as the negative logit, $E_\theta(x, y) = -f_\theta(x)[y]$, and
# the Boltzmann distribution it induces (notebook 01):
#
# $$p_\theta(x, y) = \frac{\exp\big(f_\theta(x)[y]\big)}{Z(\theta)}, \qquad
#   Z(\theta) = \int \sum_{y} \exp\big(f_\theta(x)[y]\big)\, dx .$$
#
# Condition on $x$: the partition function cancels, and what is left is the softmax the
# classifier already computes,
#
# $$p_\theta(y \mid x) = \frac{p_\theta(x, y)}{\sum_{y'} p_\theta(x, y')}
#   = \frac{e^{f_\theta(x)[y]}}{\sum_{y'} e^{f_\theta(x)[y']}}
#   = \operatorname{softmax}\big(f_\theta(x)\big)[y].$$
#
# Marginalise $y$ instead: the input density is
#
# $$p_\theta(x) = \sum_y p_\theta(x, y) = \frac{\sum_y e^{f_\theta(x)[y]}}{Z(\theta)},
# \qquad
# \log p_\theta(x) = \underbrace{\operatorname{logsumexp}_y f_\theta(x)[y]}_{=\,-E_\theta(x)}
#   - \log Z(\theta),$$
#
# an EBM with energy $E_\theta(x) = -\operatorname{logsumexp}_y f_\theta(x)[y]$ (its "free
# energy", in the language of notebook 03). Now add any function $c(x)$ to every logit:
# $f(x)[y] \to f(x)[y] + c(x)$. The softmax is unchanged (the factor $e^{c(x)}$ cancels),
# but $\operatorname{logsumexp}$ moves by exactly $c(x)$, so $p(x)$ changes. A classifier
# trained by cross-entropy $-\log p(y|x)$ never constrains $c(x)$; in fact the gradient of the
# cross-entropy with respect to the logits, $\operatorname{softmax}(f) - \text{onehot}(y)$, sums
# to zero over classes, so it has no component along the direction $(1, \dots, 1)$ that
# $c(x)$ moves. Whatever $\log p(x)$ a plain classifier ends up with is an accident of its
# architecture. **JEM trains this free degree of freedom** to model the inputs.
#
# Below: the logsumexp written out (shifting by the maximum so that $e^{f}$ cannot overflow),
# checked against `ebm.jem_log_px`; then the shift, and the cross-entropy gradient.

# %% slideshow={"slide_type": "skip"}
def log_px_unnormalised(logits):
    """log p(x) + log Z = logsumexp_y f(x)[y], computed as m + log Σ_y exp(f(x)[y] - m)."""
    m = logits.max(dim=1, keepdim=True).values  # largest logit: exp(f - m) <= 1, no overflow
    return (m + torch.log(torch.exp(logits - m).sum(dim=1, keepdim=True))).squeeze(1)


torch.manual_seed(0)
untrained = ebm.MLPClassifier(64, 10, hidden=(128, 128))
with torch.no_grad():
    logits = untrained(x_test[:6])
ours = log_px_unnormalised(logits)
print("logsumexp, ours:       ", np.round(ours.numpy(), 4))
print("ebm.jem_log_px:        ", np.round(ebm.jem_log_px(logits).numpy(), 4))
assert torch.allclose(ours, ebm.jem_log_px(logits), atol=1e-6)
big = logits + 1000.0  # the naive log(sum(exp(.))) overflows to inf here; ours does not
assert torch.isinf(torch.log(torch.exp(big).sum(1))).all()
assert torch.allclose(log_px_unnormalised(big), ours + 1000.0, atol=1e-3)

c = 5.0 * torch.randn(6, 1, generator=generator)  # an arbitrary c(x), one number per input
shifted = logits + c
change_p = float((shifted.softmax(1) - logits.softmax(1)).abs().max())
change_log_px = log_px_unnormalised(shifted) - ours
print(f"max |Δ p(y|x)| after the shift: {change_p:.1e}")
print("Δ log p(x) after the shift:     ", np.round(change_log_px.numpy(), 4))
print("c(x):                           ", np.round(c.squeeze(1).numpy(), 4))
assert torch.allclose(shifted.softmax(1), logits.softmax(1), atol=1e-6)
assert torch.allclose(change_log_px, c.squeeze(1), atol=1e-4)

free = logits.clone().requires_grad_(True)
F.cross_entropy(free, y_test[:6]).backward()
along_ones = free.grad.sum(dim=1)  # component of ∂CE/∂f along (1, ..., 1), per input
print(f"max |Σ_y ∂CE/∂f[y]| = {float(along_ones.abs().max()):.1e}: cross-entropy ignores c(x)")
assert along_ones.abs().max() < 1e-6

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Training JEM: cross-entropy plus contrastive divergence on the logsumexp
#
# JEM maximises the joint log-likelihood, split into the two parts we just derived:
#
# $$\log p_\theta(x, y) = \log p_\theta(y \mid x) + \log p_\theta(x).$$
#
# The first part is the ordinary cross-entropy. The second is an EBM likelihood with energy
# $E_\theta(x) = -\operatorname{logsumexp}_y f_\theta(x)[y]$, whose gradient (notebooks 04
# and 07) is a data term minus a model term,
#
# $$\nabla_\theta \log p_\theta(x) = -\nabla_\theta E_\theta(x)
#   + \mathbb E_{x^- \sim p_\theta}\big[\nabla_\theta E_\theta(x^-)\big],$$
#
# with the model expectation estimated by **short-run stochastic-gradient Langevin dynamics
# (SGLD)** (Welling & Teh 2011): a few steps
# $x \leftarrow x - \epsilon \nabla_x E_\theta(x) + \sigma \xi$ started from a **replay buffer**
# of earlier samples, with a small fraction restarted from uniform noise (Du & Mordatch
# 2019). This is notebook 07's unadjusted Langevin algorithm (ULA) under the name the JEM
# literature uses; "stochastic-gradient" refers to the minibatch *parameter* updates of
# Welling & Teh's original method, not to anything different in the sampler. In the loss
# that is the contrastive surrogate of `ebm.contrastive_loss`,
# $\bar E(x^+) - \bar E(x^-) + \alpha\,(\overline{E(x^+)^2} + \overline{E(x^-)^2})$, whose
# $\alpha$ term keeps the energies near zero. One JEM iteration minimises
#
# $$\mathcal L = \operatorname{CE}\big(f_\theta(x^+), y^+\big)
#   + \gamma\,\Big[\bar E(x^+) - \bar E(x^-) + \alpha\,(\overline{E(x^+)^2}
#   + \overline{E(x^-)^2})\Big],$$
#
# and $\gamma = 0$ is the plain classifier. Two practical choices, both measured while writing
# this notebook, not guessed:
#
# - **Noise.** With the noise that makes SGLD a correct sampler of $p_\theta$,
#   $\sigma = \sqrt{2\epsilon}$, ten steps from noise never reach the digits; the model then
#   learns to tell its own noisy samples from data, and the contrastive loss settles at the
#   $\alpha$-term's optimum $\bar E(x^+) = -1/(2\alpha)$, $\bar E(x^-) = +1/(2\alpha)$
#   (exercise 1). Like Grathwohl et al. (who take $\epsilon = 1$, $\sigma = 0.01$) we use a
#   larger step and a much smaller noise, `noise_scale` $= 0.05$ times $\sqrt{2\epsilon}$.
#   That samples a *colder* distribution, roughly $\propto e^{-E/T}$ with
#   $T = 0.05^2$ (`samplers.langevin`): the learned $E$ is the one whose cold short-run
#   samples look like the data. The healthy sign, shown below in this section, is
#   $\bar E(x^+) \approx \bar E(x^-)$: the sampler keeps up with the model.
# - **Weight** $\gamma$. With $\gamma = 1$ (the paper's) the generative term dominates early
#   training on these small images and JEM stays *under*-confident for thousands of
#   iterations (exercise 2); $\gamma = 0.3$ reaches the same accuracy and samples quickly.
#
# **A cold sampler and a calibrated softmax are not in conflict.** Two temperatures appear in
# this notebook and they act on different variables. The sampler's $T = 0.05^2$ acts on the
# *input* $x$: it decides which images the generative term contrasts with the data, and so,
# indirectly, which logits training produces. The classifier $p(y \mid x) =
# \operatorname{softmax} f(x)$ has no temperature in it (equivalently $T = 1$ over $y$): the
# cross-entropy term fits it to the labels, and nothing in the loss rescales it by the
# sampler's $T$. Section 3's temperature scaling is a third use of the word, a $T$ dividing the
# logits inside the softmax over $y$. So "JEM is trained with a cold sampler" says nothing
# either way about whether softmax$(f)$ is calibrated; section 3 measures that directly on
# test digits.
#
# Here is one iteration written out, run side by side with `ebm.train_jem` from the same seed;
# after a few iterations the two networks must have identical weights.

# %% slideshow={"slide_type": "skip"}
JEM = dict(gen_weight=0.3, n_langevin=10, step_size=0.1, noise_scale=0.05, alpha=0.1,
           clip=(0.0, 1.0), reinit_prob=0.05, buffer_size=10_000)
BATCH, LR = 64, 3e-3
pixel_box = ebm.uniform_init(0.0, 1.0, 64)  # fresh chains start from uniform noise


def marginal_energy(model):
    """E(x) = -logsumexp_y f(x)[y]: the JEM energy of an input, (batch, 64) -> (batch,)."""
    return lambda x: -log_px_unnormalised(model(x))


def jem_iteration(model, optimizer, buffer, x, y, gen, s=JEM):
    """One JEM update: data batch, SGLD negatives from the buffer, CE + γ·contrastive loss."""
    rows = torch.randint(len(x), (BATCH,), generator=gen)
    x_pos, y_pos = x[rows], y[rows]
    x0, idx, _ = buffer.sample(BATCH)  # mostly old samples, a few fresh noise images
    energy = marginal_energy(model)
    x_neg = ebm.short_run_samples(energy, x0, s["n_langevin"], s["step_size"],
                                  s["noise_scale"], s["clip"], gen)
    buffer.update(idx, x_neg)  # the chains continue from here next time they are drawn
    e_pos, e_neg = energy(x_pos), energy(x_neg)
    generative = (e_pos.mean() - e_neg.mean()
                  + s["alpha"] * ((e_pos ** 2).mean() + (e_neg ** 2).mean()))
    loss = F.cross_entropy(model(x_pos), y_pos) + s["gen_weight"] * generative
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # as train_jem's default
    optimizer.step()
    return loss.item()


mine, helper = copy.deepcopy(untrained), copy.deepcopy(untrained)
gen_mine = torch.Generator().manual_seed(7)
buffer = ebm.ReplayBuffer(pixel_box, JEM["buffer_size"], JEM["reinit_prob"], gen_mine)
adam = torch.optim.Adam(mine.parameters(), lr=LR, betas=(0.0, 0.999))  # β₁ = 0 as for EBMs
losses = [jem_iteration(mine, adam, buffer, x_train, y_train, gen_mine) for _ in range(3)]
check = ebm.train_jem(helper, x_train, y_train, 3, batch_size=BATCH, lr=LR, init=pixel_box,
                      generator=torch.Generator().manual_seed(7), log_every=1, progress=False,
                      **JEM)
print("loss per iteration, ours:  ", np.round(losses, 5))
print("loss per iteration, helper:", np.round(check["loss"], 5))
with torch.no_grad():
    gap = max(float((a - b).abs().max())
              for a, b in zip(mine.parameters(), helper.parameters(), strict=True))
print(f"max |weight difference| after 3 iterations: {gap:.1e}")
assert gap < 1e-5 and np.allclose(losses, check["loss"], atol=1e-5)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### A fair comparison
#
# The plain classifier is trained by the *same* function with $\gamma = 0$ and no Langevin
# steps: same architecture (64 → 128 → 128 → 10, SiLU), same initial weights, same data
# batches, optimiser, learning rate and number of iterations. Only the generative term
# differs. Every 100 iterations a callback records the test accuracy and calibration error,
# so that we can watch both models develop (in a real project, use a validation split for
# such curves; here they are only plotted, never used to choose anything). "Same iterations"
# is fair to the *training procedure*, not to the plain classifier as people deploy it: that
# one is early-stopped, regularised and temperature-scaled on validation data, and section 3
# compares JEM with it too.

# %% slideshow={"slide_type": "skip"}
n_iters = config.scaled(full=3000, fast=1400)
seeds = list(range(config.scaled(full=3, fast=1)))
PLAIN = dict(gen_weight=0.0, n_langevin=0)
ECE_BINS = 10  # equal-mass bins of 36 test digits each; section 3 says why


def fit(x, y, n_classes, settings, seed, x_eval, y_eval, n_iters=n_iters):
    """Train an MLP classifier with train_jem (settings: JEM or PLAIN); record test metrics."""
    torch.manual_seed(seed)  # the same initial weights for JEM and the plain classifier
    model = ebm.MLPClassifier(64, n_classes, hidden=(128, 128))

    def track(iteration, net, _):
        with torch.no_grad():
            p = net(x_eval).double().softmax(1)  # float64: confidences near 1 stay below 1
        return {"test_acc": float((p.argmax(1) == y_eval).float().mean()),
                "test_conf": float(p.max(1).values.mean()),
                "test_ece": metrics.expected_calibration_error(p, y_eval, ECE_BINS, "mass")}

    t0 = time.process_time()
    history = ebm.train_jem(model, x, y, n_iters, batch_size=BATCH, lr=LR, init=pixel_box,
                            generator=torch.Generator().manual_seed(seed), callback=track,
                            log_every=100, **settings)
    history.cpu_seconds = time.process_time() - t0
    return model.eval(), history


runs = {}
for seed in seeds:
    for name, settings in [("plain", PLAIN), ("JEM", JEM)]:
        runs[name, seed] = fit(x_train, y_train, 10, settings, seed, x_test, y_test)
        print(f"seed {seed}, {name:5s}: {n_iters} iterations in "
              f"{runs[name, seed][1].cpu_seconds:.1f} s CPU")
models = {name: runs[name, 0][0] for name in ["plain", "JEM"]}
histories = {name: runs[name, 0][1] for name in ["plain", "JEM"]}

# %% [markdown] slideshow={"slide_type": "subslide"}
# First, the training curves of the seed-0 pair. The left panel is the JEM health check: the
# mean energy of data and of the SGLD samples should stay close (the sampler keeps up); for
# the plain classifier the same quantities are computed but never trained.

# %% slideshow={"slide_type": "-"}
fig, axes = plt.subplots(1, 3, figsize=(14, 3.8), layout="constrained")
for name, style in [("plain", "--"), ("JEM", "-")]:
    h = histories[name]
    axes[0].plot(h["iteration"], h["e_pos"], style, color="C0", label=f"{name}: data $E(x^+)$")
    axes[0].plot(h["iteration"], h["e_neg"], style, color="C3",
                 label=f"{name}: samples $E(x^-)$")
    axes[1].plot(h["iteration"], h["test_acc"], style, label=name)
    axes[2].plot(h["iteration"], h["test_ece"], style, label=name)
axes[0].set(xlabel="iteration", ylabel="mean energy $-$logsumexp $f$",
            title="data vs sample energy")
axes[1].set(xlabel="iteration", ylabel="test accuracy", title="accuracy")
axes[2].set(xlabel="iteration", ylabel="test ECE (10 equal-mass bins)",
            title="expected calibration error")
for ax in axes:
    ax.legend(fontsize=8)
plt.show()
e_gap = abs(np.mean(histories["JEM"]["e_pos"][-5:]) - np.mean(histories["JEM"]["e_neg"][-5:]))
print(f"JEM, last 500 iterations: |mean E(data) - mean E(samples)| = {e_gap:.3f} "
      f"(saturation would be 1/α = {1 / JEM['alpha']:g})")
assert e_gap < 1.0  # the sampler keeps up: far from the saturated, discriminator-like regime


def confidence_story(name):
    """Mean test confidence minus test accuracy at the first and the last record, in words."""
    h = histories[name]
    gaps = [h["test_conf"][i] - h["test_acc"][i] for i in (0, -1)]
    words = ["over-confident" if g > 0 else "under-confident" for g in gaps]
    return (f"{name}: mean confidence minus accuracy {gaps[0]:+.3f} at iteration "
            f"{h['iteration'][0]} ({words[0]}), {gaps[1]:+.3f} at iteration "
            f"{h['iteration'][-1]} ({words[1]})")


display(Markdown("Measured on the test digits: " + "; ".join(
    confidence_story(name) for name in ["plain", "JEM"]) + "."))

# %% [markdown] slideshow={"slide_type": "subslide"}
# *Left:* JEM's data and sample energies stay together (solid lines; the assertion above
# checks the gap), while the plain classifier's logsumexp, which nothing trains, goes wherever
# the architecture takes it (dashed). *Middle and right:* test accuracy and calibration error
# (the ECE of section 3) during training. A calibration error can come from either side: the
# line printed above says, for each model, whether its confidence was above its accuracy
# (over-confident) or below it (under-confident) at the first and the last record.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Accuracy and calibration
#
# A classifier is **calibrated** when its confidence means what it says: among the inputs
# on which it reports confidence $\max_y p(y|x) \approx 0.9$, it is right about 90 % of the
# time. The **reliability diagram** bins the test inputs by confidence and plots each bin's
# accuracy against its mean confidence; a calibrated model lies on the diagonal. The
# **expected calibration error** summarises it (Naeini et al. 2015; Guo et al. 2017):
#
# $$\text{ECE} = \sum_{b=1}^{B} \frac{n_b}{n}\,\big|\operatorname{acc}(b)
#   - \operatorname{conf}(b)\big| .$$
#
# *Which bins.* The classic choice is $B = 10$ equal-width bins of $[0, 1]$. Our classifiers
# put nearly every test digit in the top one, $(0.9, 1]$ (the table below counts them), so that
# diagram has one point and that ECE is one gap. We use **equal-mass bins** instead (adaptive
# bins, Nixon et al. 2019): sort the 360 test digits by confidence and cut them into $B = 10$
# bins of 36, `metrics.expected_calibration_error(p, y, 10, "mass")`. Every ECE in this
# notebook — table, training curves, bootstrap — is this one, and it is exactly the weighted sum
# of the gaps drawn in the diagrams; the first table also prints the equal-width ECE, for
# comparison with the literature (exercise 5 writes that one). Confidences are computed in
# float64, since in float32 many of them round to exactly 1.
#
# Guo et al. found modern networks over-confident: once the training data are fitted, the
# cross-entropy keeps decreasing by scaling the logits up, which sharpens every prediction,
# including the wrong ones. The test negative log-likelihood (NLL) rises while the accuracy
# stays flat. Below, all three numbers for the seed-0 pair, then the reliability diagrams.

# %% slideshow={"slide_type": "-"}
def evaluate(model, x, y):
    with torch.no_grad():
        logits = model(x).double()  # float64: confidences near 1 do not round to 1
    p = logits.softmax(1)
    return {"probs": p, "acc": float((p.argmax(1) == y).float().mean()),
            "nll": float(F.cross_entropy(logits, y)), "conf": float(p.max(1).values.mean()),
            "ece": metrics.expected_calibration_error(p, y, ECE_BINS, "mass"),
            "ece_width": metrics.expected_calibration_error(p, y, ECE_BINS, "width"),
            "top_bin": int((p.max(1).values > 0.9).sum())}


results = {name: evaluate(m, x_test, y_test) for name, m in models.items()}
print(f"{'':8}{'accuracy':>10}{'mean conf':>11}{'NLL':>8}{'ECE':>8}{'ECE, width':>12}"
      f"{'conf > 0.9':>12}   (360 test digits)")
for name, r in results.items():
    print(f"{name:8}{r['acc']:>10.3f}{r['conf']:>11.3f}{r['nll']:>8.3f}{r['ece']:>8.4f}"
          f"{r['ece_width']:>12.4f}{r['top_bin']:>12}")

# Confidences crowd just below 1, so the diagram is drawn on the error scale: a bin's claimed
# error 1 - conf (log axis) against its observed error 1 - acc. The diagonal is still perfect
# calibration, and the vertical gaps are the |acc - conf| that the ECE weights and sums.
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained", sharey=True)
for ax, (name, r) in zip(axes, results.items(), strict=True):
    rel = metrics.reliability(r["probs"], y_test, ECE_BINS, "mass")
    claimed, observed = 1 - rel["confidence"], 1 - rel["accuracy"]
    grid = np.logspace(-12, 0, 200)
    ax.plot(grid, grid, "k:", label="perfect calibration")
    ax.vlines(claimed, np.minimum(claimed, observed), np.maximum(claimed, observed), color="C3",
              lw=1.5, label="|acc − conf| (ECE weights and sums these)")
    ax.plot(claimed, observed, "o", color="C0", label="one bin of 36 digits")
    for xc, yc, n, a in zip(claimed, observed, rel["count"], rel["accuracy"], strict=True):
        ax.annotate(f"{round(n * (1 - a))}", (xc, yc), xytext=(0, 4), textcoords="offset points",
                    ha="center", fontsize=7)
    ax.set(xscale="log", xlim=(1e-12, 1), ylim=(-0.01, 0.2),
           xlabel="claimed error  1 − mean confidence of the bin",
           title=f"{name}: ECE ({ECE_BINS} equal-mass bins) = {r['ece']:.4f}")
    ax.legend(loc="upper left", fontsize=8)
axes[0].set_ylabel("observed error  1 − accuracy of the bin")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Reliability diagrams of the plain classifier (left) and JEM (right) on the 360 test digits,
# one point per equal-mass bin, the number above it counting the misclassified digits of that
# bin. Read them from the right, where the numbers show the errors; bins further left claim
# error rates far below what 36 digits can resolve (one error in a bin is already 1/36). A
# point above the diagonal is over-confident (it errs more than it claims), one below it
# under-confident. The printed table and the assertions below say which
# model has the lower ECE in this run, and, in full mode, over three seeds (each a new
# initialisation and new data order for both models).

# %% slideshow={"slide_type": "-"}
gap_acc = results["JEM"]["acc"] - results["plain"]["acc"]
print(f"accuracy, JEM minus plain: {gap_acc:+.3f}")
assert gap_acc > -0.02  # JEM keeps the classifier's accuracy (within 2 points)
assert results["plain"]["conf"] > results["plain"]["acc"]  # the plain classifier is over-confident
assert results["JEM"]["ece"] < results["plain"]["ece"]  # measured: JEM is better calibrated
assert results["JEM"]["nll"] < results["plain"]["nll"]

per_seed = {(name, s): evaluate(runs[name, s][0], x_test, y_test) for name, s in runs}
print(f"\n{'seed':>4}{'acc plain':>11}{'acc JEM':>9}{'ECE plain':>11}{'ECE JEM':>9}")
for s in seeds:
    rp, rj = per_seed["plain", s], per_seed["JEM", s]
    print(f"{s:>4}{rp['acc']:>11.3f}{rj['acc']:>9.3f}{rp['ece']:>11.4f}{rj['ece']:>9.4f}")
ece_mean = {n: np.mean([per_seed[n, s]["ece"] for s in seeds]) for n in ["plain", "JEM"]}
print(f"mean ECE over {len(seeds)} seed(s): plain {ece_mean['plain']:.4f}, "
      f"JEM {ece_mean['JEM']:.4f}")
if not FAST:  # measured in full mode: JEM has the lower ECE for every seed
    assert all(per_seed["JEM", s]["ece"] < per_seed["plain", s]["ece"] for s in seeds)
    assert all(per_seed["JEM", s]["acc"] > per_seed["plain", s]["acc"] - 0.02 for s in seeds)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Against a tuned baseline
#
# The plain classifier above ran 3000 iterations with no early stopping, no weight decay and
# no temperature scaling: an easy opponent for a calibration claim. The baseline a
# practitioner would use is tuned on **validation** data: we hold out 300 of the training
# digits, train the plain classifier on the other 1137 with a weight-decay grid, keep the
# checkpoint (every 100 iterations) with the lowest validation NLL, and then fit a temperature
# $T$ on the same validation digits (Guo et al. 2017: divide the logits by the one number that
# minimises the validation NLL). The test digits are used once, for the final comparison with
# JEM's seed-0 model, with paired bootstrap intervals (1000 resamples of the 360 test digits).
# The tuned baseline sees 300 fewer training digits than JEM — a handicap to keep in mind when
# reading the result.

# %% slideshow={"slide_type": "skip"}
split = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(11))
x_val, y_val = x_train[split[:300]], y_train[split[:300]]
x_fit, y_fit = x_train[split[300:]], y_train[split[300:]]
decays = config.scaled(full=[0.0, 1e-2, 1e-1, 0.3, 1.0], fast=[0.0, 1e-1])


def fit_early_stopped(weight_decay, seed=0):
    """Plain classifier on x_fit (AdamW, same batch and rate); the checkpoint with the lowest
    validation NLL among every 100 iterations. Returns (val NLL, iteration, model)."""
    torch.manual_seed(seed)
    model = ebm.MLPClassifier(64, 10, hidden=(128, 128))
    opt = torch.optim.AdamW(model.parameters(), lr=LR, betas=(0.0, 0.999),
                            weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)
    best = (float("inf"), 0, None)
    for it in range(1, n_iters + 1):
        rows = torch.randint(len(x_fit), (BATCH,), generator=gen)
        loss = F.cross_entropy(model(x_fit[rows]), y_fit[rows])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if it % 100 == 0:
            with torch.no_grad():
                val_nll = float(F.cross_entropy(model(x_val), y_val))
            if val_nll < best[0]:
                best = (val_nll, it, copy.deepcopy(model))
    return best


t0 = time.process_time()
tuning = {wd: fit_early_stopped(wd) for wd in decays}
for wd, (v, it, _) in tuning.items():
    print(f"weight decay {wd:g}: best validation NLL {v:.4f} at iteration {it}")
best_wd = min(tuning, key=lambda wd: tuning[wd][0])
_, best_it, tuned_model = tuning[best_wd]
with torch.no_grad():
    val_logits = tuned_model(x_val)
temps = torch.linspace(np.log(0.25), np.log(8.0), 400).exp()
val_nll_t = [float(F.cross_entropy(val_logits / t, y_val)) for t in temps]
temperature = float(temps[int(np.argmin(val_nll_t))])
print(f"chosen on validation: weight decay {best_wd:g}, iteration {best_it}, temperature "
      f"{temperature:.3f} ({time.process_time() - t0:.1f} s CPU)")
wd_inside = best_wd not in (min(decays), max(decays))
t_inside = 0.25 < temperature < 8.0
print(f"weight decay inside its grid: {wd_inside}; temperature inside its range: {t_inside}")


class Scaled(torch.nn.Module):
    """Logits divided by a fixed temperature: the same classifier, softer or sharper."""

    def __init__(self, net, t):
        super().__init__()
        self.net, self.t = net, t

    def forward(self, x):
        return self.net(x) / self.t


tuned = evaluate(Scaled(tuned_model, temperature), x_test, y_test)
results_tuned = {"plain, 3000 it.": results["plain"],
                 "plain, tuned + T": tuned, "JEM": results["JEM"]}
print(f"\n{'':18}{'accuracy':>10}{'mean conf':>11}{'NLL':>8}{'ECE':>8}   (360 test digits, "
      f"ECE over {ECE_BINS} equal-mass bins)")
for name, r in results_tuned.items():
    print(f"{name:18}{r['acc']:>10.3f}{r['conf']:>11.3f}{r['nll']:>8.3f}{r['ece']:>8.4f}")

rng = np.random.default_rng(0)
diffs = {"ECE": [], "NLL": []}
for _ in range(1000):
    i = torch.as_tensor(rng.integers(0, len(y_test), len(y_test)))
    pj, pt = results["JEM"]["probs"][i], tuned["probs"][i]
    diffs["ECE"].append(metrics.expected_calibration_error(pj, y_test[i], ECE_BINS, "mass")
                        - metrics.expected_calibration_error(pt, y_test[i], ECE_BINS, "mass"))
    diffs["NLL"].append(float(F.nll_loss(pj.clamp_min(1e-12).log(), y_test[i])
                              - F.nll_loss(pt.clamp_min(1e-12).log(), y_test[i])))
intervals = {k: np.quantile(v, [0.025, 0.975]) for k, v in diffs.items()}
for k, (lo, hi) in intervals.items():
    print(f"JEM minus tuned baseline, test {k}: 95 % bootstrap interval [{lo:+.4f}, {hi:+.4f}]")


# %% slideshow={"slide_type": "-"}
def say(metric):
    lo, hi = intervals[metric]
    if hi < 0:
        return f"JEM's {metric} is lower (interval [{lo:+.4f}, {hi:+.4f}] excludes 0)"
    if lo > 0:
        return f"the tuned baseline's {metric} is lower (interval [{lo:+.4f}, {hi:+.4f}])"
    return f"the {metric} difference is within noise (interval [{lo:+.4f}, {hi:+.4f}])"


display(Markdown(
    f"Measured against the early-stopped, weight-decay-tuned, temperature-scaled classifier: "
    f"{say('ECE')}; {say('NLL')}. The untuned plain classifier's ECE was "
    f"{results['plain']['ece']:.4f}, the tuned one's is {tuned['ece']:.4f}. "
    + ("" if wd_inside else "(The chosen weight decay is on the edge of its grid: a larger one "
       "might tune the baseline further.) ")
    + "So the calibration "
    "advantage of JEM measured above is "
    + ("still there against the tuned baseline."
       if intervals["ECE"][1] < 0 else
       "an advantage over an untuned baseline; with 360 test digits this run cannot tell JEM "
       "from a tuned, temperature-scaled classifier on calibration.")))
if not FAST:  # what the summary states, measured in full mode
    assert intervals["ECE"][0] < 0 < intervals["ECE"][1]  # ECE: within noise
    assert intervals["NLL"][1] < 0  # NLL: JEM lower, the interval excludes 0

# %% [markdown] slideshow={"slide_type": "subslide"}
# Why can the generative term help calibration at all? Cross-entropy alone is minimised by
# pushing the logits of training digits ever further apart; nothing stops the scale from
# growing. In JEM the same logits must also make $\operatorname{logsumexp} f$ a density whose
# Langevin samples look like digits, with energies kept near zero by the $\alpha$ term, which
# restrains the logit scale that over-confidence is made of. Early stopping, weight decay and
# temperature scaling restrain the same scale by other means, and the tuned baseline uses all
# three. Grathwohl et al. saw the largest effect on CIFAR-100, where
# plain networks are badly over-confident; on these easy digits, with 360 test digits, the
# measured answer is the one printed above. It also depends on training length: the
# confidence line printed under the training curves says on which side of the accuracy each
# model started.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Out-of-distribution detection
#
# A classifier deployed in the world will see inputs unlike its training data. Two scores can
# flag them, both read off the same logits:
#
# - $\max_y p(y|x)$, the **maximum softmax probability** (Hendrycks & Gimpel 2017): low
#   confidence suggests an unfamiliar input;
# - $\log p(x) + \log Z = \operatorname{logsumexp}_y f(x)[y]$, JEM's **input density**
#   (unnormalised, which does not matter for ranking).
#
# For a score $q(x)$ where low means "out of distribution" (we write $q$, since $s$ is the
# score function $\nabla_x \log p$ in this collection), the **AUROC** is the probability
# that a random out-of-distribution input scores lower than a random test digit (`metrics.auroc`
# takes "higher = more anomalous", so we pass $-q$): 1 is perfect, 0.5 is chance, below 0.5 the
# score ranks the wrong way round. The out-of-distribution (OOD) sets, each 360 images unless
# noted, compared with the 360 test digits:
#
# | set | what it is |
# |---|---|
# | uniform noise | every pixel uniform on [0, 1] |
# | smoothed noise | uniform noise blurred by a Gaussian (σ = 1 pixel), rescaled to [0, 1]: blobs |
# | flipped | test digits mirrored left–right |
# | rotated 90° | test digits rotated by 90° |
# | inverted | $1 - x$: white digits on a black background |
# | shifted | test digits moved 2 pixels to the right (zeros fill in) |
# | held-out classes | test digits 5–9, for a second pair of models trained on digits 0–4 only |
#
# The last set needs its own models, since a model trained on all ten digits has seen every
# class: we train a JEM and a plain classifier on the training digits 0–4 with exactly the
# settings above, and compare their scores on test digits 0–4 (in distribution) and 5–9
# (unseen classes). Held-out classes are the hardest case: real, clean digits, only of a kind
# the model never saw.

# %% slideshow={"slide_type": "skip"}
ood_gen = torch.Generator().manual_seed(2)
n_test = len(x_test)
images = x_test.reshape(-1, 8, 8)
blur = torch.exp(-torch.arange(-2.0, 3.0) ** 2 / 2)
blur = (blur[:, None] * blur[None, :]) / blur.sum() ** 2  # 5×5 Gaussian kernel, σ = 1 pixel
smooth = F.conv2d(torch.rand(n_test, 1, 8, 8, generator=ood_gen), blur[None, None],
                  padding=2).reshape(n_test, 64)
low, high = smooth.min(1, keepdim=True).values, smooth.max(1, keepdim=True).values
shifted_digits = torch.zeros_like(images)
shifted_digits[:, :, 2:] = images[:, :, :-2]
ood_sets = {
    "uniform noise": torch.rand(n_test, 64, generator=ood_gen),
    "smoothed noise": (smooth - low) / (high - low),
    "flipped": images.flip(2).reshape(n_test, 64),
    "rotated 90°": images.rot90(1, dims=(1, 2)).reshape(n_test, 64),
    "inverted": 1.0 - x_test,
    "shifted": shifted_digits.reshape(n_test, 64),
}

seen = y_train < 5
subset_iters = config.scaled(full=3000, fast=700)
t0 = time.process_time()
subset_models = {name: fit(x_train[seen], y_train[seen], 5, settings, 0, x_test[y_test < 5],
                           y_test[y_test < 5], n_iters=subset_iters)[0]
                 for name, settings in [("plain", PLAIN), ("JEM", JEM)]}
print(f"models on digits 0-4: {subset_iters} iterations each, trained in "
      f"{time.process_time() - t0:.1f} s CPU")
held_in, held_out = x_test[y_test < 5], x_test[y_test >= 5]
subset_acc = {name: evaluate(m, held_in, y_test[y_test < 5])["acc"]
              for name, m in subset_models.items()}
print("test accuracy on digits 0-4:", {k: round(v, 3) for k, v in subset_acc.items()})


def ood_scores(model, x):
    """Two scores where LOW means out of distribution: logsumexp f(x) and max_y p(y|x)."""
    with torch.no_grad():
        logits = model(x)
    return {"log p(x)": log_px_unnormalised(logits), "max p(y|x)": logits.softmax(1).max(1).values}


def ood_auroc(model, x_in, x_out):
    s_in, s_out = ood_scores(model, x_in), ood_scores(model, x_out)
    labels = torch.cat([torch.zeros(len(x_in)), torch.ones(len(x_out))])
    return {k: metrics.auroc(-torch.cat([s_in[k], s_out[k]]), labels) for k in s_in}


table = {}
for set_name, x_ood in ood_sets.items():
    for name, model in models.items():
        table[set_name, name] = ood_auroc(model, x_test, x_ood)
for name, model in subset_models.items():
    table["held-out classes 5-9", name] = ood_auroc(model, held_in, held_out)
set_names = [*ood_sets, "held-out classes 5-9"]
columns = [(m, k) for m in ["plain", "JEM"] for k in ["log p(x)", "max p(y|x)"]]
print("\nOOD AUROC (1 = perfect, 0.5 = chance, < 0.5 = ranked the wrong way round)")
print(f"{'':22}" + "".join(f"{m + ': ' + k:>20}" for m, k in columns))
for set_name in set_names:
    print(f"{set_name:22}" + "".join(f"{table[set_name, m][k]:>20.3f}" for m, k in columns))

# %% [markdown] slideshow={"slide_type": "subslide"}
# Read the table by column. The plain classifier's logsumexp is the untrained degree of
# freedom of section 1: on several sets it ranks the outliers as *more* likely than the
# digits (AUROC below 0.5), on others it happens to work, held-out classes included. Nothing
# in its training asked for either, and the noise rows show that it cannot be relied on. Its
# maximum softmax probability is the classic baseline: mostly better than chance, far from
# perfect, because a classifier is often confidently wrong on inputs unlike anything it was
# trained on. JEM's $\log p(x)$ was trained for exactly this, and it separates noise and
# transformed digits from real digits almost perfectly — mirrored digits excepted, since a
# mirrored 0, 1 or 8 is still a digit. Held-out classes are a different matter: a 5–9 is a
# clean, digit-like image, and its density under a model of 0–4 need not be low — the failure
# Nalisnick et al. (2019) documented for deep generative models. There JEM's own confidence is
# the better of its two scores. The assertions below state what this run measured.

# %% slideshow={"slide_type": "-"}
jem_px = {s: table[s, "JEM"]["log p(x)"] for s in set_names}
plain_px = {s: table[s, "plain"]["log p(x)"] for s in set_names}
clear = ["uniform noise", "smoothed noise", "rotated 90°", "inverted", "shifted"]
assert min(jem_px[s] for s in clear) > 0.95  # JEM's density catches noise and transforms
for s in clear:  # ... better than either score of the plain classifier
    assert jem_px[s] > max(table[s, "plain"].values()) + 0.05, s
assert min(plain_px.values()) < 0.5  # the plain logsumexp ranks some outliers as more likely
if not FAST:  # "on several sets" below chance, and mirrored digits JEM's hardest transform
    assert sum(a < 0.5 for a in plain_px.values()) >= 3
    assert min(ood_sets, key=jem_px.get) == "flipped"
held = table["held-out classes 5-9", "JEM"]
assert held["max p(y|x)"] > max(held["log p(x)"], 0.8)  # new classes: confidence beats density

# %% [markdown] slideshow={"slide_type": "subslide"}
# The score distributions behind two rows of the table: JEM's $\log p(x)$ and the plain
# classifier's, for test digits and three OOD sets.

# %% slideshow={"slide_type": "-"}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
for ax, name in zip(axes, ["plain", "JEM"], strict=True):
    sets = {"test digits": x_test, **{k: ood_sets[k] for k in ["uniform noise", "inverted",
                                                                "flipped"]}}
    values = {k: ood_scores(models[name], v)["log p(x)"].numpy() for k, v in sets.items()}
    bins = np.linspace(min(v.min() for v in values.values()),
                       max(v.max() for v in values.values()), 50)
    for k, v in values.items():
        ax.hist(v, bins=bins, alpha=0.5, label=k)
    ax.set(xlabel="logsumexp$_y$ f(x)[y]  (= log p(x) + log Z)", ylabel="number of images",
           title=f"{name}: input log-density")
    ax.legend(fontsize=8)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Histograms of $\operatorname{logsumexp}_y f(x)[y]$. For the plain classifier (left) the
# value is whatever the architecture produces, and noise or inverted digits can sit at or
# above the real digits. For JEM (right) the digits have the highest density and the
# outliers lie to the left; mirrored digits overlap most, since a mirrored 0, 1 or 8 is still
# a digit.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Sampling a chosen class
#
# $p_\theta(x \mid y) \propto \exp(f_\theta(x)[y])$ is an EBM with energy
# $E(x, y) = -f_\theta(x)[y]$ (`ebm.class_energy`), so Langevin dynamics on it draws digits of
# class $y$. We start 12 chains per class from uniform noise and run the same (cold) SGLD as
# in training, for more steps, since these chains do not start from a buffer. Is the result
# really a digit of class $y$? Asking JEM itself would be circular (the chains climb its
# logit $y$), so we also ask the plain classifier, an independently trained network. And we
# run the same sampler on the plain classifier's logits, for comparison.
#
# A classifier's verdict alone is a weak test of a sample (classifiers accept images no human
# would call a digit), so we also measure how far each sample lies from the nearest of the
# 1 437 training digits, in Euclidean pixel distance, against the same distance for the test
# digits; and how different the samples of one class are from each other (mean pairwise
# distance within a class), against the test digits of that class.

# %% slideshow={"slide_type": "-"}
n_per_class, n_steps = 12, config.scaled(full=200, fast=100)
wanted = torch.arange(10).repeat_interleave(n_per_class)
start = pixel_box(len(wanted), torch.Generator().manual_seed(3))
samples, rates = {}, {}
for name, model in models.items():
    sample_gen = torch.Generator().manual_seed(4)
    x = torch.empty_like(start)
    for digit in range(10):
        rows = wanted == digit
        x[rows] = ebm.short_run_samples(ebm.class_energy(model, digit), start[rows], n_steps,
                                        JEM["step_size"], JEM["noise_scale"], JEM["clip"],
                                        sample_gen)
    samples[name] = x
    with torch.no_grad():
        for judge, judge_model in models.items():
            hit = judge_model(x).argmax(1) == wanted
            rates[name, judge] = float(hit.float().mean())
for name in models:
    print(f"samples from {name:5s} classified as the intended digit by plain: "
          f"{rates[name, 'plain']:.2f}, by JEM: {rates[name, 'JEM']:.2f}")

fig, axes = plt.subplots(1, 3, figsize=(14, 5.4), layout="constrained")
for ax, (imgs, title) in zip(axes, [
        (samples["JEM"].reshape(10, n_per_class, 64)[:, :10].transpose(0, 1).reshape(-1, 64),
         f"JEM: x ~ p(x | y), column = y, {n_steps} SGLD steps"),
        (samples["plain"].reshape(10, n_per_class, 64)[:, :10].transpose(0, 1).reshape(-1, 64),
         "plain classifier, same sampler"),
        (histories["JEM"].buffer.x[:100], "JEM replay buffer: x ~ p(x)")], strict=True):
    im = ax.imshow(plotting.image_grid(imgs, digits.image_shape, ncols=10), cmap="gray_r",
                   vmin=0, vmax=1)
    ax.set_title(title, fontsize=10)
    ax.set_axis_off()
fig.colorbar(im, ax=axes, shrink=0.7, label="pixel value")
plt.show()
assert rates["JEM", "plain"] > 0.8  # JEM's class-conditional samples: the intended digits


def within_class_spread(x, labels):
    """Mean pairwise distance between images of the same class, averaged over classes."""
    return float(torch.stack([torch.pdist(x[labels == k]).mean() for k in range(10)]).mean())


nearest = {"test digits": x_test, **{f"{k} samples": v for k, v in samples.items()}}
nearest = {k: float(torch.cdist(v, x_train).min(dim=1).values.median())
           for k, v in nearest.items()}
spread = {"test digits": within_class_spread(x_test, y_test),
          **{f"{k} samples": within_class_spread(v, wanted) for k, v in samples.items()}}
print(f"\n{'':16}{'median distance to nearest training digit':>44}{'within-class spread':>22}")
for k in nearest:
    print(f"{k:16}{nearest[k]:>44.2f}{spread[k]:>22.2f}")
assert nearest["JEM samples"] < nearest["plain samples"] / 2  # JEM's samples look like digits
assert spread["JEM samples"] > 2 * spread["plain samples"]  # ... and differ from each other

# %% [markdown] slideshow={"slide_type": "subslide"}
# *Left:* class-conditional JEM samples, column $y$ holding ten chains of class $y$ started
# from noise: recognisable digits. *Middle:* the same sampler on the plain classifier's logits:
# its class energies are minimised by saturated ink blobs with only a hint of the digit's
# shape; the gradient of an ordinary classifier's logit need not point towards the data.
# *Right:* the replay buffer after training, i.e. samples of JEM's marginal $p(x)$ (all classes
# mixed). Both classifiers assign the intended class to most samples of both kinds (the rates
# printed above; JEM's samples pass the plain classifier's test at a rate above 0.8, asserted),
# which is why the distances matter: JEM's samples lie much closer to the
# training digits than the plain classifier's (compare both with real test digits in the
# table); and the plain classifier's chains of one class all end in nearly the same blob (a
# tiny within-class spread), while JEM's differ from each other. Remember that the sampler is cold
# ($T = 0.05^2$): it climbs towards the modes of $p(x \mid y)$ rather than sampling it exactly.

# %% slideshow={"slide_type": "-"}
with torch.no_grad():
    buffer_classes = models["plain"](histories["JEM"].buffer.x).argmax(1)
counts = torch.bincount(buffer_classes, minlength=10)
print("digits the plain classifier sees in JEM's replay buffer:", counts.tolist())
assert counts.min() > 0.03 * len(buffer_classes)  # every digit is represented in p(x)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - Any classifier defines $E(x, y) = -f(x)[y]$, hence $p(x, y) \propto e^{f(x)[y]}$.
#   Conditioning gives the softmax $p(y|x)$; marginalising gives
#   $\log p(x) = \operatorname{logsumexp}_y f(x)[y] - \log Z$. A per-input shift $c(x)$ of all
#   logits changes $\log p(x)$ but not $p(y|x)$, and cross-entropy has zero gradient along it:
#   that is the free degree of freedom JEM trains.
# - JEM's loss is cross-entropy plus the contrastive loss of the energy
#   $-\operatorname{logsumexp} f$, with negatives from short-run SGLD and a replay buffer; ten
#   lines in the notebook, identical to `ebm.train_jem`. Watch the data and sample energies:
#   if they split to $\mp 1/(2\alpha)$, the sampler has lost the model.
# - With the same loop, architecture, iterations and seed, JEM matched the plain classifier's
#   accuracy and, at the end of training, had the lower calibration error (equal-mass bins)
#   and test NLL, for each of the three seeds; the plain classifier was over-confident.
#   Against a baseline tuned on validation (early stopping, weight decay, temperature
#   scaling), the 95 % paired bootstrap interval of the ECE difference contains 0 (within
#   noise on 360 test digits) and that of the NLL difference lies below 0 (JEM's NLL lower):
#   that, not the untuned comparison, is the result to quote.
# - JEM's $\log p(x)$ detected noise and shifted, rotated and inverted digits almost
#   perfectly (mirrored digits, often still digits, less so), where the plain
#   classifier's logsumexp was often worse than chance; for unseen digit *classes* JEM's
#   confidence $\max_y p(y|x)$ was its better score — a density is not automatically an OOD
#   detector (Nalisnick et al. 2019).
# - Langevin dynamics on $-f(x)[y]$ draws recognisable digits of class $y$ from JEM, close to
#   the training digits; on the plain classifier it draws ink blobs that both classifiers
#   nevertheless label as the intended class.
#
# Next: [11 · Anomaly detection](11_anomaly_detection.ipynb) uses energies as anomaly scores
# and measures them against classical baselines.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# **1. Correct Langevin noise.** Train JEM with the noise that makes SGLD a correct sampler
# (`noise_scale=1.0`, `step_size=0.01`) and plot `history["e_pos"]` and `history["e_neg"]`.
# What happens, and what do the samples in `history.buffer` look like?
#
# <details><summary>Solution</summary>
#
# ```python
# bad = dict(JEM, noise_scale=1.0, step_size=0.01)
# model, h = fit(x_train, y_train, 10, bad, 0, x_test, y_test)
# plt.plot(h["iteration"], h["e_pos"], label="data"); plt.plot(h["iteration"], h["e_neg"])
# plt.imshow(plotting.image_grid(h.buffer.x[:100], (8, 8), 10), cmap="gray_r")
# ```
# With noise of standard deviation $\sqrt{2 \cdot 0.01} \approx 0.14$ per pixel and step, ten
# steps (or even a few hundred, across buffer visits) cannot turn noise into digits while the
# energies are kept small by $\alpha$. The samples stay grainy, the model separates them from
# the data easily, and the contrastive loss
# $\bar E^+ - \bar E^- + \alpha(\bar E^{+2} + \bar E^{-2})$ is minimised at
# $\bar E^+ = -1/(2\alpha) = -5$, $\bar E^- = +5$: the energies split and stay there. The model
# is then a noise-vs-digit discriminator, not a density of digits, and its class-conditional
# samples are not recognisable. A correct sampler would need an energy with much larger
# gradients (smaller $\alpha$, many more steps); the colder sampler is the practical way out.
# </details>
#
# **2. The weight of the generative term.** Retrain JEM with `gen_weight=1.0` (the paper's
# choice) and compare the ECE curve with the one above. Then try 0.1.
#
# <details><summary>Solution</summary>
#
# ```python
# for w in [0.1, 1.0]:
#     _, h = fit(x_train, y_train, 10, dict(JEM, gen_weight=w), 0, x_test, y_test)
#     plt.plot(h["iteration"], h["test_ece"], label=f"γ = {w}")
# plt.legend()
# ```
# What we saw while writing this notebook (your run prints its own curves): with
# $\gamma = 1$ the generative term dominates, and the confidences lag behind the accuracy
# for much longer (JEM is under-confident, mean confidence below accuracy), so its ECE is
# *worse* than the plain classifier's for the first few thousand iterations before it drops
# below. With $\gamma = 0.1$ the generative term has less say; check whether the calibration
# gain, the OOD scores and the samples of sections 4–5 survive. The calibration benefit is a
# property of the trained model, not a guarantee at every point of training: measure it on a
# validation split.
# </details>
#
# **3. Temperature scaling (checked).** Section 3 fitted the temperature of the tuned
# baseline on a grid. Write `fit_temperature(logits, labels)` returning the $T > 0$ that
# minimises the NLL of $\operatorname{softmax}(\text{logits}/T)$ on held-out data. Then apply
# it to the *untuned* plain classifier (`models["plain"]`) with the validation digits of
# section 3 — careful: that model was trained on them — and see how far the ECE moves.
#
# <details><summary>Solution</summary>
#
# ```python
# def fit_temperature(logits, labels):
#     temps = torch.exp(torch.linspace(math.log(0.05), math.log(20.0), 4001,
#                                      dtype=logits.dtype))
#     nll = torch.stack([F.cross_entropy(logits / t, labels) for t in temps])
#     return float(temps[int(nll.argmin())])
# ```
# A grid on $\log T$ is enough for one number (or minimise with `scipy.optimize.
# minimize_scalar`). The accuracy does not depend on $T$, so "choosing $T$ by accuracy" does
# nothing; multiplying instead of dividing gives $1/T$. On the untuned classifier the fitted
# $T$ is optimistic, because its own training digits look easier than new ones: this is why
# section 3 held the validation digits out of the baseline's training.
# </details>

# %% slideshow={"slide_type": "skip"}
def fit_temperature(logits, labels):
    raise NotImplementedError  # your code here


checks.fit_temperature(fit_temperature)

# %% [markdown] slideshow={"slide_type": "-"}
# **4. OOD with a different split.** Train the subset models on digits 5–9 and use 0–4 as the
# held-out classes. Is the ranking of the two scores the same?
#
# <details><summary>Solution</summary>
#
# ```python
# other = y_train >= 5
# sub = {n: fit(x_train[other], y_train[other] - 5, 5, s, 0, x_test[y_test >= 5],
#               y_test[y_test >= 5] - 5)[0] for n, s in [("plain", PLAIN), ("JEM", JEM)]}
# for n, m in sub.items():
#     print(n, ood_auroc(m, x_test[y_test >= 5], x_test[y_test < 5]))
# ```
# The numbers change with the split (some digit pairs, like 1 and 7 or 3 and 8, are closer than
# others), which is why held-out-class results should be reported for more than one split.
# </details>

# %% [markdown] slideshow={"slide_type": "-"}
# **5. The expected calibration error (checked).** Write `ece(probs, labels, n_bins)`: bin the
# inputs by their confidence $\max_y p(y \mid x)$ into `n_bins` equal-width bins
# $(\tfrac{b-1}{B}, \tfrac{b}{B}]$ and return $\sum_b \frac{n_b}{n}|\operatorname{acc}(b) -
# \operatorname{conf}(b)|$. This is the classic equal-width ECE (the "ECE, width" column of
# section 3); `metrics.expected_calibration_error(..., binning="mass")` is the equal-mass one
# the notebook uses.
#
# <details><summary>Solution</summary>
#
# ```python
# def ece(probs, labels, n_bins):
#     conf, pred = probs.max(1)
#     correct = (pred == labels).double()
#     edges = torch.linspace(0, 1, n_bins + 1, dtype=conf.dtype)
#     total = 0.0
#     for lo, hi in zip(edges[:-1], edges[1:]):
#         in_bin = (conf > lo) & (conf <= hi)
#         if in_bin.any():  # weight n_b / n, not 1 / B
#             total += in_bin.double().mean() * (correct[in_bin].mean()
#                                                - conf[in_bin].mean()).abs()
#     return float(total)
# ```
# Averaging the bins with equal weight lets a bin with two digits count as much as one with
# three hundred; comparing the overall accuracy with the overall confidence lets
# over-confident and under-confident bins cancel.
# </details>

# %% slideshow={"slide_type": "skip"}
def ece(probs, labels, n_bins):
    raise NotImplementedError  # your code here


checks.expected_calibration_error(ece)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## References
#
# - W. Grathwohl, K.-C. Wang, J.-H. Jacobsen, D. Duvenaud, M. Norouzi, K. Swersky (2020).
#   Your classifier is secretly an energy based model and you should treat it like one.
#   *ICLR 2020* (arXiv:1912.03263, 2019).
# - Y. LeCun, S. Chopra, R. Hadsell, M. Ranzato, F. J. Huang (2006). A tutorial on
#   energy-based learning. In *Predicting Structured Data*, MIT Press.
# - M. Welling, Y. W. Teh (2011). Bayesian learning via stochastic gradient Langevin dynamics.
#   *ICML 2011*.
# - Y. Du, I. Mordatch (2019). Implicit generation and modeling with energy-based models.
#   *NeurIPS 2019*.
# - C. Guo, G. Pleiss, Y. Sun, K. Q. Weinberger (2017). On calibration of modern neural
#   networks. *ICML 2017*.
# - M. P. Naeini, G. F. Cooper, M. Hauskrecht (2015). Obtaining well calibrated probabilities
#   using Bayesian binning. *AAAI 2015*.
# - J. Nixon, M. W. Dusenberry, L. Zhang, G. Jerfel, D. Tran (2019). Measuring calibration in
#   deep learning. *CVPR Workshops 2019*.
# - D. Hendrycks, K. Gimpel (2017). A baseline for detecting misclassified and
#   out-of-distribution examples in neural networks. *ICLR 2017*.
# - E. Nalisnick, A. Matsukawa, Y. W. Teh, D. Gorur, B. Lakshminarayanan (2019). Do deep
#   generative models know what they don't know? *ICLR 2019*.
