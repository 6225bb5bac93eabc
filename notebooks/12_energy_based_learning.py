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
# # 12 · Energy-based learning: compatibility, collapse and joint embeddings
#
# Notebooks 01–11 read an energy as an unnormalised log-density, $p(x) \propto e^{-E(x)}$, and
# spent most of their effort on the partition function: sampling it away (Gibbs, Langevin),
# estimating it (AIS) or side-stepping it (score matching). Yann LeCun's **energy-based
# learning** (LeCun, Chopra, Hadsell, Ranzato & Huang 2006) starts from a weaker promise. An
# energy $E(x, y)$ is any scalar that measures how *incompatible* an answer $y$ is with an input
# $x$: low for good answers, high for bad ones. Nothing requires $e^{-E}$ to be normalised, so
# there is no $Z$ to estimate; **inference** is minimisation over $y$ and **learning** is
# choosing a *loss functional* that shapes the energy surface — down on the right answers and,
# unless something else takes care of it, up on the wrong ones.
#
# That "unless" is the whole story of this notebook. A model that only pushes energies down
# can make every energy low: it **collapses**. We measure that collapse for the loss
# functionals of the 2006 tutorial, then sort every method of this collection into the three
# known ways of preventing it — *contrastive* (push up chosen wrong answers), *regularised*
# (limit the volume of low energy) and *architectural* — and carry the view to modern
# self-supervised learning: joint embeddings of two views of an image (InfoNCE, VICReg, an
# EMA target with a predictor), and a toy version of the Joint Embedding Predictive
# Architecture (JEPA) that LeCun (2022) proposes as a building block of machine intelligence.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Learning goals
#
# After this notebook you can
#
# 1. read any model as an energy $E(x, y)$, do inference by enumeration or gradient descent,
#    and re-read a softmax classifier (notebook 10) and an RBM's free energy (notebook 03) in
#    this frame;
# 2. define the free energy of a latent-variable EBM at zero temperature, $F_\infty = \min_z
#    E$, and at inverse temperature $\beta$, and say what each limit does to the landscape;
# 3. derive the loss functionals of LeCun et al. (2006), state their margins, implement the
#    most offending incorrect answer, and predict — then measure — which ones collapse;
# 4. place every method of notebooks 02–11 in the map *contrastive / regularised /
#    architectural*;
# 5. train joint-embedding self-supervised models on digits, detect collapse with the spread,
#    the effective rank and the singular-value spectrum of the embeddings, and evaluate them
#    with a linear probe tuned on a validation split;
# 6. explain why a JEPA predicts in representation space, build a toy I-JEPA, and describe
#    H-JEPA as a hierarchy of such predictors.

# %% [markdown] slideshow={"slide_type": "notes"}
# ## Prerequisites and run time
#
# Notebook [01](01_boltzmann_distribution.ipynb) (Boltzmann distribution, temperature, free
# energy), [03](03_restricted_boltzmann_machines.ipynb) (RBM free energy),
# [04](04_contrastive_divergence.ipynb) (contrastive divergence) and
# [10](10_joint_energy_models.ipynb) (a classifier's logits as an energy); PyTorch modules and
# autograd; logistic regression. Run time on 2 CPU cores: see the table in
# [00_roadmap](00_roadmap.ipynb) (measured by `make bench`); `EBM_FAST=1` trains for fewer
# epochs with one seed instead of three (the numbers then differ; the lessons are asserted in
# both modes).

# %% slideshow={"slide_type": "skip"}
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from IPython.display import Markdown, display
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from torch import nn

from ebm_helpers import checks, config, data, plotting, rbm, ssl, widgets
from ebm_helpers import energy_learning as el

plotting.apply_style()
config.set_torch_threads()  # one thread: small tensors, and robust on a busy laptop
generator = config.seed_everything(0)
FAST = config.is_fast()
print(config.notebook_header("12_energy_based_learning"))

digits = data.load_digits()  # 8×8 grey-level digits in [0, 1], fixed 1 437 / 360 split
x_train, y_train, x_test, y_test = digits.x_train, digits.y_train, digits.x_test, digits.y_test
print(digits)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Energy as compatibility; inference as minimisation
#
# An energy-based model (EBM) is a function $E_\theta(x, y) \in \mathbb R$. Given $x$, the
# model's answer is
#
# $$\hat y = \operatorname*{arg\,min}_{y \in \mathcal Y} E_\theta(x, y),$$
#
# by enumeration when $\mathcal Y$ is a small set (ten digit classes), by gradient descent
# when $y$ is continuous, by dynamic programming or search when it is structured. If we want
# probabilities we *may* turn energies into a Gibbs distribution,
# $p(y \mid x) = e^{-\beta E(x, y)} / \sum_{y'} e^{-\beta E(x, y')}$ — and then we are back in
# notebooks 01–11 — but nothing in inference needs it. Only the *ranking* of the energies of
# one $x$ matters, and which loss we train them with.
#
# **A classifier is an EBM** (notebook 10): with logits $f_\theta(x)$, set
# $E(x, y) = -f_\theta(x)[y]$. The argmax of the logits is the argmin of the energy, and the
# cross-entropy is the *negative log-likelihood loss* of the tutorial at $\beta = 1$,
# $E(x, Y) + \log \sum_y e^{-E(x, y)}$. Below, a linear energy $E(x, y) = w_y^\top x + b_y$ is
# trained on digits with that loss by `el.train_energy_model`; inference is `el.infer`, an
# argmin over the ten answers.

# %% slideshow={"slide_type": "-"}
torch.manual_seed(0)
linear_energy = nn.Linear(64, 10)  # E(x, y) = w_y·x + b_y for all ten y at once
el.train_energy_model(linear_energy, x_train, y_train, "nll", epochs=config.scaled(30, 15),
                      lr=1e-2, generator=torch.Generator().manual_seed(1))
with torch.no_grad():
    e_test = linear_energy(x_test)  # (360, 10) energies
answer, _ = el.infer(e_test)
print(f"linear energy, inference by argmin over 10 answers: test accuracy "
      f"{float((answer == y_test).float().mean()):.3f}")
logits = -e_test
e_correct = e_test.gather(1, y_test[:, None]).squeeze(1)
assert torch.equal(answer, logits.argmax(1))  # argmin of E = argmax of the logits
assert torch.allclose(el.nll_loss(e_correct, e_test, beta=1.0),
                      F.cross_entropy(logits, y_test, reduction="none"), atol=1e-5)
print("NLL loss of the energies = cross-entropy of the logits −E: checked on 360 digits")

# %% [markdown] slideshow={"slide_type": "notes"}
# ### An RBM's free energy is a latent-variable energy
#
# The RBM of notebook 03 has an energy
# $E(v, h) = -b^\top v - c^\top h - h^\top W v$ over visible $v$ and hidden $h$. The hidden units
# are never observed: they are a *latent variable*, and the energy of $v$ alone is obtained by
# eliminating them. Notebook 03 eliminated them by summing, $F(v) = -\log \sum_h e^{-E(v, h)}$;
# the other natural choice is to minimise, $F_\infty(v) = \min_h E(v, h)$ — the best
# explanation of $v$. Section 2 makes both precise. For a small RBM we can enumerate all $2^{n_h}$
# hidden states and compute both; with the *mean* over $h$ (our convention in
# `el.free_energy`) instead of the sum, the two differ by $\log 2^{n_h}$. For an RBM the
# minimum is also in closed form: $h_j = 1$ exactly when its input $c_j + W_j v$ is positive.

# %% slideshow={"slide_type": "skip"}
torch.manual_seed(0)
small = rbm.RBM(8, 6)
with torch.no_grad():
    small.W.normal_(0.0, 1.0)
    small.h_bias.normal_(0.0, 1.0)
v = torch.bernoulli(torch.full((4, 8), 0.5), generator=torch.Generator().manual_seed(2))
all_h = torch.tensor([[(k >> j) & 1 for j in range(6)] for k in range(2**6)], dtype=v.dtype)
with torch.no_grad():
    e_vh = torch.stack([small.energy(v, h.expand(4, 6)) for h in all_h], dim=1)  # (4, 64)
    f_sum = el.free_energy(e_vh, beta=1.0) - math.log(2**6)  # -log Σ_h e^{-E}
    f_min = el.free_energy(e_vh)  # min_h E
    best_h = (v @ small.W.T + small.h_bias > 0).to(v.dtype)  # h_j = 1 iff its input > 0
    f_closed = small.energy(v, best_h)
print("F(v) by enumeration (β = 1):", np.round(f_sum.numpy(), 4))
print("rbm.free_energy(v)          :", np.round(small.free_energy(v).detach().numpy(), 4))
print("F∞(v) = min_h E(v, h)       :", np.round(f_min.numpy(), 4))
assert torch.allclose(f_sum, small.free_energy(v), atol=1e-5)
assert torch.allclose(f_min, f_closed, atol=1e-5)
assert torch.all(f_sum <= f_min)  # the soft minimum lies below the hard one

# %% [markdown] slideshow={"slide_type": "notes"}
# ### Continuous answers, several of them
#
# Take $E(x, y) = (y^2 - x)^2$ with a scalar answer
# $y$: for $x > 0$ there are two perfect answers, $y = \pm\sqrt{x}$. A regression network
# trained with a squared error would predict their average, $0$, which is no answer at all.
# An EBM represents both, and inference by gradient descent, $y \leftarrow y - \eta\,
# \partial E / \partial y$, finds one of them from each start. The loop below is written out
# and checked against `el.gradient_inference`.

# %% slideshow={"slide_type": "skip"}
x_value = 2.0


def two_answer_energy(y):
    """E(x, y) = (y² − x)² for a batch of scalar answers y, shape (batch, 1) -> (batch,)."""
    return (y[:, 0] ** 2 - x_value) ** 2


starts = torch.linspace(-2.2, 2.2, 12, dtype=torch.float64)[:, None]
eta, n_steps = 0.01, 300
y = starts.clone()
for _ in range(n_steps):
    y.requires_grad_(True)
    (grad,) = torch.autograd.grad(two_answer_energy(y).sum(), y)
    y = (y - eta * grad).detach()
result = el.gradient_inference(two_answer_energy, starts, n_steps=n_steps, step_size=eta)
assert torch.allclose(y, result.y)
print("starts :", np.round(starts[:, 0].numpy(), 2))
print("answers:", np.round(result.y[:, 0].numpy(), 4))
assert torch.allclose(result.y.abs(), torch.full_like(result.y, math.sqrt(x_value)), atol=1e-4)
assert torch.equal(torch.sign(result.y), torch.sign(starts))  # each start picks its side

fig, ax = plt.subplots(figsize=(7.5, 3.4))
grid_y = torch.linspace(-2.3, 2.3, 400, dtype=torch.float64)[:, None]
ax.plot(grid_y[:, 0], two_answer_energy(grid_y), color="0.3", label=r"$E(x, y) = (y^2 - x)^2$")
for path in result.trace.transpose(0, 1)[:, :, 0]:
    ax.plot(path, two_answer_energy(path[:, None]), color="C0", alpha=0.35, lw=1)
ax.scatter(starts[:, 0], two_answer_energy(starts), color="C1", zorder=3, label="starts")
ax.scatter(result.y[:, 0], result.energy, color="C3", marker="*", s=120, zorder=4,
           label="answers after gradient descent")
ax.set(xlabel="answer $y$", ylabel="energy", ylim=(-0.3, 8),
       title=f"x = {x_value:g}: two good answers, ±√x; each start finds the nearer one")
ax.legend(fontsize=8)
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Latent variables: zero-temperature and finite-temperature free energies
#
# Many answers are explained by something we do not observe. In the toy below (the one used in
# the NYU deep-learning course's lecture on latent-variable EBMs) each data point lies near an
# ellipse, $y = (a \cos z, b \sin z) + \text{noise}$ with $a = 2$, $b = 1$, at an unobserved
# angle $z$. A **latent-variable EBM** has an energy $E(y, z)$ over both, here
# $E(y, z) = \lVert y - \operatorname{dec}(z) \rVert^2$, and eliminates $z$ in one of two ways:
#
# $$F_\infty(y) = \min_z E(y, z), \qquad
#   F_\beta(y) = -\frac{1}{\beta} \log \frac{1}{K} \sum_{k=1}^{K} e^{-\beta E(y, z_k)}$$
#
# over a grid of $K$ latent values. $F_\beta$ is a *soft minimum*. As $\beta \to \infty$ the
# smallest term dominates the sum and $F_\beta \to F_\infty$; as $\beta \to 0$, expanding
# $e^{-\beta E} \approx 1 - \beta E$ gives $F_\beta \to \frac{1}{K}\sum_k E(y, z_k)$, the mean
# energy; in between, $F_\infty \le F_\beta \le$ mean. (With a sum instead of the mean over $z$,
# $F_\beta$ would be lower by $\frac1\beta \log K$: the RBM convention of section 1.) The
# code computes $F_\beta$ with the log-sum-exp trick and checks it against `el.free_energy`; the
# plot shows $E(y, z)$ against $z$ for three points.

# %% slideshow={"slide_type": "-"}
def my_free_energy(e_z, beta):
    """F_β = −(1/β) log mean_z exp(−β E), stable: shift by the minimum before exponentiating."""
    m = e_z.min(dim=-1, keepdim=True).values
    mean_exp = torch.exp(-beta * (e_z - m)).mean(dim=-1)  # every term ≤ 1: no overflow
    return m.squeeze(-1) - torch.log(mean_exp) / beta


z_grid = torch.arange(64, dtype=torch.float64) * (2 * math.pi / 64)
points = torch.tensor([[2.0, 0.0], [0.0, 0.0], [2.2, 1.4]], dtype=torch.float64)
names = ["on the ellipse (2, 0)", "the centre (0, 0)", "outside (2.2, 1.4)"]
e_points = el.ellipse_energy(points, z_grid)  # (3, 64): E(y, z_k)
for beta in [0.1, 1.0, 10.0]:
    assert torch.allclose(my_free_energy(e_points, beta), el.free_energy(e_points, beta))
table = {"F∞": el.free_energy(e_points)}
table.update({f"F_β, β={b:g}": el.free_energy(e_points, b) for b in [10.0, 1.0, 0.1]})
table["mean_z E"] = e_points.mean(1)
print(f"{'point':24}" + "".join(f"{k:>13}" for k in table))
for i, name in enumerate(names):
    print(f"{name:24}" + "".join(f"{float(v[i]):>13.3f}" for v in table.values()))
assert torch.all(table["F∞"] <= table["F_β, β=10"]) and torch.all(
    table["F_β, β=0.1"] <= table["mean_z E"])
assert table["F∞"][0] < table["F∞"][1]  # at zero temperature the data point wins ...
assert table["F_β, β=0.1"][1] < table["F_β, β=0.1"][0]  # ... at β = 0.1 the empty centre

fig, ax = plt.subplots(figsize=(7.5, 3.2))
for i, name in enumerate(names):
    ax.plot(z_grid, e_points[i], label=name, color=f"C{i}")
ax.set(xlabel="latent angle $z$ (radians)", ylabel="$E(y, z)$",
       title="E(y, z) against z: a zero on the ellipse, never below 1 at the centre")
ax.legend(fontsize=8)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# At the point on the ellipse, $E(y, z)$ dips to zero at one angle: $F_\infty = 0$, a perfect
# explanation. At the centre no angle explains the point well ($E \ge b^2 = 1$ for every $z$),
# but no angle explains it badly either: its energy varies little with $z$. The table shows
# the order $F_\infty \le F_\beta \le$ mean, and how the free energy of the on-ellipse point
# rises towards its mean energy as $\beta$ falls, until the centre, where there is no data,
# has the lower free energy (checked below the table).
#
# **Training at zero temperature.** Let $\operatorname{dec}$ be a small network of
# $(\cos z, \sin z)$ and train it by minimising the mean $F_\infty$ of the data — the
# *energy loss* on the free energy: for each point only its best latent value is pulled
# closer. `el.train_latent_ebm` does this with Adam; the learned curve
# $\{\operatorname{dec}(z)\}$ should trace the ellipse.

# %% slideshow={"slide_type": "-"}
n_ellipse = config.scaled(600, 300)
y_ellipse, _ = el.ellipse_data(n_ellipse, torch.Generator().manual_seed(3), noise=0.1)
latent = el.LatentEBM(n_z=64, hidden=32, generator=torch.Generator().manual_seed(4))
history_latent = el.train_latent_ebm(latent, y_ellipse, epochs=30,
                                     generator=torch.Generator().manual_seed(5))
with torch.no_grad():
    curve = latent.curve()
    gap = el.ellipse_energy(curve.double(), torch.linspace(0, 2 * math.pi, 4000)).min(1)
    gap = float(gap.values.sqrt().max())
    f_data = float(latent.free_energy(y_ellipse).mean())
    f_true = float(el.free_energy(el.ellipse_energy(y_ellipse, z_grid.float())).mean())
print(f"mean F∞ of the data: {history_latent['loss'][0]:.3f} in epoch 1, "
      f"{history_latent['loss'][-1]:.4f} in epoch {len(history_latent['loss'])}")
print(f"mean F∞ of the data under the true ellipse (the noise floor): {f_true:.4f}")
print(f"largest distance of a learned curve point from the true ellipse: {gap:.3f}")
assert gap < 0.1 and f_data < 2 * f_true

# %% [markdown] slideshow={"slide_type": "subslide"}
# The energy loss worked here, although section 3 will show it collapsing elsewhere. The
# reason is the architecture: $\operatorname{dec}$ has a one-dimensional input, so the set of
# zero free energy is a curve, and a curve cannot cover the plane. Pulling it onto the data is
# all the loss can do. This is a first example of a **regularised** (volume-limited) EBM.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The free-energy explorer
#
# Below: the learned model's $F_\beta$ over the plane with the data, at four inverse
# temperatures (`widgets.free_energy_panels`), and the explorer with a $\beta$ slider
# (`widgets.free_energy_explorer`; log scale, from $\beta = 0.01$ to $100$). At large $\beta$
# the valley *is* the data's ellipse, with equally low free energy all around it: many
# answers, no favourite. As $\beta$ falls, the free energy of every point drifts towards its
# mean energy over $z$, a bowl whose minimum (the star) moves to the centre of the ellipse,
# where no data lies. The right panel of the explorer shows the slice $y_2 = 0$ with both
# limits.

# %% slideshow={"slide_type": "-"}
display(widgets.free_energy_panels((0.1, 1.0, 10.0, None), energy_fn=latent,
                                   data=y_ellipse, n_grid=config.scaled(61, 41)))

# %% slideshow={"slide_type": "subslide"}
widgets.free_energy_explorer(energy_fn=latent, data=y_ellipse, beta=1.0)

# %% slideshow={"slide_type": "-"}
_, _, plane = plotting.grid_2d(widgets.FREE_ENERGY_BOUNDS, 61)
with torch.no_grad():
    e_plane = latent(plane.float())
for beta in [0.02, 20.0]:
    lowest = plane[int(torch.argmin(el.free_energy(e_plane, beta)))]
    off = float(el.ellipse_energy(lowest[None], z_grid).min().sqrt())
    print(f"β = {beta:g}: lowest free energy at y = ({float(lowest[0]):.2f}, "
          f"{float(lowest[1]):.2f}), {off:.2f} from the ellipse")
    if beta < 1:
        assert float(lowest.norm()) < 0.3  # a cold-blooded average: the empty centre
    else:
        assert off < 0.15  # the zero-temperature picture: on the data

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. The loss functionals, and which ones collapse
#
# Training data are pairs $(x^i, Y^i)$. A loss functional looks at the energies of all answers
# for $x^i$ and must push $E(x^i, Y^i)$ down. The tutorial's key object is the **most offending
# incorrect answer** $\bar Y^i = \operatorname{arg\,min}_{y \ne Y^i} E(x^i, y)$, the wrong
# answer that is closest to winning. Writing $E(Y)$ and $E(\bar Y)$ for short (LeCun et al.
# 2006, Table 1; $\operatorname{sigm}(a) = 1/(1 + e^{-a})$):
#
# | loss | per-example $L$ | margin | pulls up |
# |---|---|---|---|
# | energy | $E(Y)$ | none | nothing |
# | generalised perceptron | $E(Y) - \min_y E(y)$ | 0 | the current winner |
# | hinge | $\max(0, m + E(Y) - E(\bar Y))$ | $m$ | $\bar Y$, until it is $m$ above |
# | log | $\log(1 + e^{E(Y) - E(\bar Y)})$ | $> 0$ | $\bar Y$, ever less |
# | LVQ2 | $\min(M, \max(0, E(Y) - E(\bar Y)))$ | 0 | $\bar Y$, while it wins by < $M$ |
# | MCE | $\operatorname{sigm}(E(Y) - E(\bar Y))$ | $> 0$ | $\bar Y$, mostly near the boundary |
# | square-square | $E(Y)^2 + \max(0, m - E(\bar Y))^2$ | $m$ | $\bar Y$, up to the level $m$ |
# | square-exponential | $E(Y)^2 + \gamma e^{-E(\bar Y)}$ | $> 0$ | $\bar Y$, ever less |
# | NLL / MMI | $E(Y) + \frac{1}{\beta}\log \sum_y e^{-\beta E(y)}$ | $> 0$ | every $y$, by $p(y)$ |
#
# Differentiate any row: the derivative with respect to $E(Y)$ is positive (push down on the
# right answer) and, except for the energy loss, the derivative with respect to some wrong
# answer's energy is negative (pull it up). The *margin* says how far above $E(Y)$ the wrong
# answers must end up before the loss stops pulling. The tutorial's condition for a good loss
# is, roughly, that it requires such a gap. The energy loss has no pull-up term at all: if the
# architecture can make every energy small, the energy loss will let it.
#
# Below, three rows written out, checked against `el.loss_from_energies` (which finds $\bar Y$
# with `el.most_offending`); then the shape of the losses that depend only on
# $E(Y) - E(\bar Y)$.

# %% slideshow={"slide_type": "-"}
e_rand = 2.0 * torch.rand(6, 10, generator=torch.Generator().manual_seed(6))
y_rand = torch.arange(6)
e_c = e_rand[torch.arange(6), y_rand]
e_o = e_rand.scatter(1, y_rand[:, None], float("inf")).min(1).values  # most offending wrong
mine = {
    "hinge": torch.clamp(1.0 + e_c - e_o, min=0.0),
    "log": torch.log1p(torch.exp(e_c - e_o)),
    "nll": e_c + torch.logsumexp(-e_rand, dim=1),
}
for name, value in mine.items():
    assert torch.allclose(value, el.loss_from_energies(name, e_rand, y_rand), atol=1e-6), name
print("hinge, log and NLL written out = the package's, on 6 random examples")

gap_axis = torch.linspace(-3, 3, 301)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), layout="constrained")
ones = torch.ones_like(gap_axis)
for name, kw in [("hinge", {"margin": 1.0}), ("log", {}), ("lvq2", {"M": 1.0}), ("mce", {})]:
    loss = el.LOSSES[name].fn(torch.stack([ones + gap_axis, ones], 1),
                              torch.zeros(len(gap_axis), dtype=torch.long), **kw)
    axes[0].plot(gap_axis, loss, label=f"{name}: {el.LOSSES[name].formula}")
axes[0].axvline(0, color="0.6", lw=0.8)
axes[0].set(xlabel=r"$E(Y) - E(\bar Y)$ (negative: right answer wins)", ylabel="loss",
            title="losses of the energy difference (m = M = 1)")
axes[0].legend(fontsize=7)
ec, eo = torch.meshgrid(torch.linspace(0, 2.5, 101), torch.linspace(0, 2.5, 101),
                        indexing="ij")
sq = el.square_square_loss(ec.reshape(-1), eo.reshape(-1), 1.0).reshape(101, 101)
im = axes[1].contourf(eo, ec, sq, levels=20, cmap="viridis")
fig.colorbar(im, ax=axes[1], label="square-square loss (m = 1)")
axes[1].set(xlabel=r"$E(\bar Y)$", ylabel=r"$E(Y)$",
            title=r"square-square: $E(Y) \to 0$, $E(\bar Y) \geq m$")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The same energy model, nine losses
#
# Now a fair experiment. The energy model is
#
# $$E(x, y) = \lVert \operatorname{enc}(x) - g_y \rVert^2,$$
#
# an MLP encoder $64 \to 64 \to 16$ and one learned prototype $g_y \in \mathbb R^{16}$ per
# digit (`el.PrototypeEnergy`); inference is the nearest prototype. All energies are
# $\geq 0$, and the **collapsed** model — the encoder constant, every prototype equal to that
# constant — gives *every* answer energy 0. We train it with each of the nine losses from the
# same initial weights, on the same minibatches, for the same number of epochs (default
# parameters $m = M = \gamma = \beta = 1$), and measure on the test digits: accuracy, the
# average **margin** $E(\bar Y) - E(Y)$, and two collapse indicators, the **spread** of the
# embeddings (root mean squared distance of $\operatorname{enc}(x)$ from its mean) and of the
# prototypes. A callback records the spread on the training digits after every epoch.

# %% slideshow={"slide_type": "-"}
loss_epochs = config.scaled(40, 10)
loss_results, loss_spread = {}, {}
t0 = time.process_time()
for name in el.LOSSES:
    model = el.PrototypeEnergy(64, 10, embed_dim=16, hidden=64,
                               generator=torch.Generator().manual_seed(0))
    history = el.train_energy_model(
        model, x_train, y_train, name, epochs=loss_epochs, lr=3e-3,
        generator=torch.Generator().manual_seed(1),
        callback=lambda epoch, m, _: {"spread": el.evaluate_energy_model(m, x_train,
                                                                          y_train)["spread"]})
    loss_results[name] = el.evaluate_energy_model(model, x_test, y_test)
    loss_results[name]["model"] = model
    loss_spread[name] = history["spread"]
print(f"9 models × {loss_epochs} epochs in {time.process_time() - t0:.1f} s CPU\n")
print(f"{'loss':20}{'margin':>8}{'accuracy':>10}{'E(Ȳ) − E(Y)':>13}{'E(Y)':>9}"
      f"{'spread':>9}{'prototypes':>12}")
for name, r in loss_results.items():
    print(f"{name:20}{el.LOSSES[name].margin:>8}{r['accuracy']:>10.3f}{r['margin']:>13.4f}"
          f"{r['e_correct']:>9.4f}{r['spread']:>9.4f}{r['prototype_spread']:>12.4f}")

# %% slideshow={"slide_type": "-"}
margin_losses = [n for n, info in el.LOSSES.items() if info.margin not in ("none", "0")]
energy = loss_results["energy"]
smallest_margin = min(loss_results[n]["margin"] for n in margin_losses)
smallest_spread = min(loss_results[n]["spread"] for n in margin_losses)
print(f"energy loss: margin {energy['margin']:.4f}, spread {energy['spread']:.4f}; "
      f"the losses with a positive margin ({', '.join(margin_losses)}): margins ≥ "
      f"{smallest_margin:.3f}, spreads ≥ {smallest_spread:.3f}")
assert energy["margin"] < 0.05 * smallest_margin  # the energy loss flattens the surface ...
assert energy["spread"] < 0.3 * smallest_spread  # ... by shrinking the embeddings
assert loss_spread["energy"][-1] < 0.7 * max(loss_spread["energy"])  # and keeps shrinking
assert all(loss_results[n]["accuracy"] > 0.9 and loss_results[n]["margin"] > 0.5
           for n in margin_losses)
assert max(loss_results[n]["margin"] for n in ("perceptron", "lvq2")) < 0.2 * smallest_margin
same = all(torch.equal(a, b) for a, b in zip(loss_results["perceptron"]["model"].parameters(),
                                             loss_results["lvq2"]["model"].parameters(),
                                             strict=True))
display(Markdown(
    "The perceptron and LVQ2 losses trained "
    + ("**identical** models: with energy differences below $M$, "
       "$\\min(M, \\max(0, E(Y) - E(\\bar Y)))$ *is* $E(Y) - \\min_y E(y)$."
       if same else "different models.")
    + f" Their margin stayed near zero ({loss_results['perceptron']['margin']:.3f}): neither"
      " asks for a gap, so training stops as soon as the right answer wins."))

fig, ax = plt.subplots(figsize=(8, 3.6))
for i, (name, values) in enumerate(loss_spread.items()):
    ax.plot(range(1, len(values) + 1), values, label=name, color=plt.cm.tab10(i),
            lw=2.5 if name == "energy" else 1.3, ls="--" if name in ("perceptron", "lvq2")
            else "-")
ax.set(yscale="log", xlabel="epoch", ylabel="spread of enc(x) (training digits)",
       title="collapse: the energy loss shrinks the embeddings, the margin losses spread them")
ax.legend(fontsize=7, ncol=3)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Read the table with "push down on the right answer, pull up on the most offending wrong
# one" in mind:
#
# - The **energy loss** only pushes down. The cheapest way to lower
#   $\lVert \operatorname{enc}(x) - g_Y \rVert^2$ for every example at once is to shrink the
#   whole embedding, prototypes included, towards one point: the spread falls epoch after
#   epoch, and the energy surface becomes flat — every answer nearly as good as every other
#   (a tiny margin). The argmin may still be right for a while, because the ranking of tiny
#   energies survives the shrinking; nothing protects it.
# - The **margin losses** (hinge, log, MCE, square-square, square-exponential, NLL) pull
#   $E(\bar Y)$ up until it sits above $E(Y)$ by their margin. Shrinking no longer pays, the
#   embeddings spread out, and the margins in the table are of the order of $m$ or larger.
# - The **perceptron** and **LVQ2** losses have margin 0: they pull $\bar Y$ up only while it
#   wins. Training stops as soon as every training answer is right, with energies barely
#   apart; they do not collapse further, but nothing prevents a flat surface either.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Three ways to prevent collapse
#
# The same question decides every energy-based method: *what keeps the energy of everything
# that is not data from being low?* There are three families of answers.
#
# - **Contrastive**: choose points $\tilde y$ that are not data and push their energy up. The
#   margin losses above (with $\bar Y$), the NLL (every answer, weighted by its probability),
#   contrastive divergence (notebook 04: samples of the model, from a short Gibbs chain),
#   noise-contrastive estimation (Gutmann & Hyvärinen 2010: samples of a known noise
#   distribution), denoising (corrupted data) and InfoNCE (the other images of a batch).
#   Their weakness is the curse of dimensionality: in high dimension there are very many ways
#   to be wrong, and the method is only as good as its choice of $\tilde y$. (Song & Kingma
#   2021 review the likelihood-based members of this family, with score matching and NCE.)
# - **Regularised (volume-limiting)**: restrict the set of points that *can* have low energy,
#   so that pulling it onto the data is enough. PCA ($E(y) = \min_z \lVert y - Wz \rVert^2$,
#   low only on a subspace), K-means ($E(y) = \min_k \lVert y - c_k \rVert^2$, low only near
#   $K$ points), sparse coding (a code penalty), the VAE's KL term (an information limit on
#   $z$), VICReg's variance and covariance terms (section 5), and the ellipse model of
#   section 2. The plot below shows PCA and K-means fitted to the ellipse data as
#   zero-temperature latent-variable EBMs next to the trained ellipse model.
# - **Architectural**: a structure that makes the collapsed solution unreachable or unstable,
#   e.g. a bottleneck, or a predictor with a stop-gradient and a slowly moving target (BYOL,
#   I-JEPA). The softmax of a classifier is also architectural: pushing one energy down
#   *automatically* pulls the others up, which is why the energy loss is safe there.

# %% slideshow={"slide_type": "-"}
y_np = y_ellipse.numpy()
pca_1 = PCA(n_components=1).fit(y_np)
kmeans = KMeans(n_clusters=8, n_init=4, random_state=0).fit(y_np)
_, _, plane = plotting.grid_2d(widgets.FREE_ENERGY_BOUNDS, 81)
p_np = plane.numpy()
recon = pca_1.inverse_transform(pca_1.transform(p_np))
landscapes = {
    "PCA, 1 component: $\\min_z \\|y - Wz - \\mu\\|^2$": ((p_np - recon) ** 2).sum(1),
    "K-means, K = 8: $\\min_k \\|y - c_k\\|^2$": kmeans.transform(p_np).min(1) ** 2,
}
with torch.no_grad():
    landscapes["trained ellipse model: $F_\\infty(y)$"] = latent.free_energy(
        plane.float()).numpy()
fig, axes = plt.subplots(1, 3, figsize=(14, 3.6), layout="constrained")
for ax, (title, values) in zip(axes, landscapes.items(), strict=True):
    im = ax.imshow(values.reshape(81, 81), origin="lower", cmap="magma_r", vmax=2.0,
                   extent=(-3, 3, -2, 2))
    ax.scatter(y_np[:, 0], y_np[:, 1], s=3, color="C0", alpha=0.4)
    ax.set(xlabel="$y_1$", ylabel="$y_2$", title=title)
    ax.grid(False)
fig.colorbar(im, ax=axes, label="energy (clipped at 2)", shrink=0.85)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# In all three, the low-energy set (light) is small by construction: a line, eight points, a
# closed curve. Fitting only pulls it onto the data, and everywhere else the energy is high
# without a single negative example.
#
# **Every method of this collection, placed in the map.**
#
# | nb | method | family: what keeps the energy of non-data up |
# |---|---|---|
# | 02 | Hopfield, Hebbian storage | regularised: mean energy over all states is 0 |
# | 02 | Boltzmann machine, exact | contrastive: negative phase over all states (NLL) |
# | 03 | RBM, exact likelihood | contrastive: $\log Z$ pulls up every $v$ |
# | 04 | CD-k, PCD | contrastive: negatives from Gibbs chains |
# | 05 | DBN | contrastive: CD per layer, NLL over the labels |
# | 06 | softmax RBM for ratings | contrastive: CD |
# | 07 | neural EBM, Langevin, buffer | contrastive: short-run Langevin negatives |
# | 08 | score matching | no negatives: data become minima; denoising ≈ contrastive |
# | 09 | diffusion models | denoising at every noise level ≈ contrastive |
# | 10 | JEM | contrastive: softmax over labels, SGLD samples for $p(x)$ |
# | 11 | autoencoder score | architectural: the bottleneck |
# | 11 | Gaussian density | regularised: the log-determinant pays for volume |
# | 12 | margin losses, NLL, InfoNCE | contrastive |
# | 12 | energy loss, invariance-only | none: they collapse (sections 3 and 5) |
# | 12 | ellipse model, PCA, K-means, VICReg | regularised |
# | 12 | EMA target + predictor, toy I-JEPA | architectural |

# %% [markdown] slideshow={"slide_type": "notes"}
# ### Three rows that need a word
#
# Three rows need a word. For Hopfield's energy $E(x) = -\frac12 x^\top W x$ with a zero
# diagonal, the average over all $2^d$ states is exactly 0 (each $x_i x_j$, $i \ne j$,
# averages to 0), so Hebbian storage, which only pushes the patterns down, pushes the other
# states up on average: a fixed volume, and capacity is its limit (checked in the next cell).
# Exact and sliced score matching (08) use no negatives: they make the data stationary points
# of the energy with upward curvature, a local shaping; denoising score matching and diffusion
# (09) pull up the energy of corrupted points relative to clean ones, a contrastive flavour.
# The $\alpha E^2$ term of notebook 07 only keeps energies near 0; the Langevin negatives do
# the work.

# %% slideshow={"slide_type": "skip"}
d_spins = 10
states = torch.tensor([[1 if (k >> i) & 1 else -1 for i in range(d_spins)]
                       for k in range(2**d_spins)], dtype=torch.float64)
patterns = states[torch.randperm(2**d_spins, generator=torch.Generator().manual_seed(7))[:2]]
w_hebb = patterns.T @ patterns / d_spins
w_hebb.fill_diagonal_(0.0)
e_states = -0.5 * ((states @ w_hebb) * states).sum(1)
pattern_energies = [round(float(-0.5 * p @ w_hebb @ p), 2) for p in patterns]
print(f"Hopfield, d = {d_spins}, 2 stored patterns: mean energy over all {2**d_spins} states "
      f"{float(e_states.mean()):.1e}; pattern energies {pattern_energies}; lowest state "
      f"{float(e_states.min()):.2f}, highest {float(e_states.max()):.2f}")
assert abs(float(e_states.mean())) < 1e-9  # a fixed total: down on patterns = up elsewhere

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Joint-embedding self-supervised learning on digits
#
# Self-supervised learning (SSL) learns representations from unlabelled images. A
# **joint-embedding architecture** encodes two *views* of one image — two random
# augmentations $a$ and $b$ — and reads the distance between the embeddings as an energy,
#
# $$E(a, b) = D(\operatorname{enc}(a), \operatorname{enc}(b)),$$
#
# low for two views of the same image (Hadsell, Chopra & LeCun 2006 called such networks
# siamese, with a contrastive margin loss). Trained with the energy loss alone, the
# **invariance** term $\lVert z_a - z_b \rVert^2$, it collapses exactly as in section 3: a
# constant encoder is perfectly invariant. The three families of section 4 each have a modern
# representative; all four are implemented in `ssl.train_joint_embedding`, with the same
# encoder (an MLP $64 \to 256 \to 32$, the representation), a projector
# ($32 \to 256 \to 64$ with batch norm, discarded after training) and the same augmentations:
#
# - **invariance** only: $\frac{1}{nd}\sum_i \lVert z_{a,i} - z_{b,i} \rVert^2$ on the
#   projector's output $z$;
# - **InfoNCE** (contrastive; SimCLR, Chen et al. 2020): a softmax over the batch in which
#   view $a$ of image $i$ must pick view $b$ of image $i$ among $n$ candidates, with cosine
#   similarities divided by a temperature $\tau$; the other images are the pushed-up negatives;
# - **VICReg** (regularised; Bardes, Ponce & LeCun 2022): invariance plus a *variance* term, a
#   hinge that keeps the standard deviation of every embedding coordinate over the batch at
#   least 1, plus a *covariance* term that decorrelates the coordinates — no negatives, the
#   volume of the embedding is held open;
# - **EMA + predictor** (architectural; BYOL, Grill et al. 2020): a predictor on the online
#   branch regresses the other view's embedding from a *target* network that gets no gradient
#   and follows the online weights as an exponential moving average.
#
# (Barlow Twins, Zbontar et al. 2021, is a close cousin of VICReg: it drives the
# cross-correlation matrix of the two views' embeddings towards the identity.)
#
# The augmentations (`ssl.augment`): a random shift by up to one pixel, dropping each pixel
# with a small probability and adding Gaussian noise (`dropout=0.1`, `noise=0.1`).

# %% slideshow={"slide_type": "-"}
views = torch.stack([ssl.augment(x_train[:8], torch.Generator().manual_seed(s))
                     for s in range(4)], dim=1).reshape(-1, 64)
fig, ax = plt.subplots(figsize=(6, 3.6))
tiles = torch.cat([x_train[:8, None], views.reshape(8, 4, 64)], dim=1).transpose(0, 1)
ax.imshow(plotting.image_grid(tiles.reshape(-1, 64), (8, 8), ncols=8), cmap="gray_r",
          vmin=0, vmax=1)
ax.set_title("top row: eight training digits; below: four random views of each")
ax.set_axis_off()
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# ### VICReg's three terms, by hand
#
# VICReg's three terms, written out on a batch of embeddings, against `ssl.vicreg_loss` (which
# follows the official implementation: the variance hinge averaged over both views and halved
# per view, unbiased variances, squared off-diagonal covariances divided by $d$):

# %% slideshow={"slide_type": "skip"}
def my_vicreg(z_a, z_b, lam=25.0, mu=25.0, nu=1.0, eps=1e-4):
    n, d = z_a.shape
    invariance = ((z_a - z_b) ** 2).mean()
    variance = covariance = 0.0
    for z in (z_a, z_b):
        z = z - z.mean(0)
        variance = variance + torch.relu(1 - torch.sqrt(z.var(0) + eps)).mean() / 2
        cov = z.T @ z / (n - 1)
        covariance = covariance + (cov**2).sum() / d - (cov.diagonal() ** 2).sum() / d
    return lam * invariance + mu * variance + nu * covariance


z_a = torch.randn(64, 8, generator=torch.Generator().manual_seed(8))
z_b = z_a + 0.3 * torch.randn(64, 8, generator=torch.Generator().manual_seed(9))
print(f"VICReg, ours {float(my_vicreg(z_a, z_b)):.5f}, package "
      f"{float(ssl.vicreg_loss(z_a, z_b)):.5f}")
assert torch.allclose(my_vicreg(z_a, z_b), ssl.vicreg_loss(z_a, z_b), atol=1e-5)
collapsed = torch.ones(64, 8)  # every image mapped to the same point
variance_term = float(ssl.vicreg_terms(collapsed, collapsed)["variance"])
print(f"a collapsed batch: VICReg variance term {variance_term:.3f} (its maximum, 1 − √ε), "
      f"InfoNCE {float(ssl.info_nce(collapsed, collapsed)):.3f} = log 64 = {math.log(64):.3f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Training and evaluation protocol
#
# Each method trains on the 1 437 unlabelled training
# digits; the representation is the encoder's output. A **linear probe**
# (`ssl.linear_probe`: standardised features, multinomial logistic regression) is then fitted
# with labels, in two regimes: *all* 1 437 labels, and **100 labels** (10 per digit, drawn at
# random). Its L2 strength $C$ is chosen on a stratified validation split of the *training*
# features (20 %), never on the test digits, which are used once. The baselines are probes on
# the **raw pixels** and on **PCA** with the same 32 dimensions (fitted on the same unlabelled
# images). Every seed changes the network initialisation, the augmentations and the 100
# labels; we report mean ± standard deviation over the seeds.

# %% slideshow={"slide_type": "skip"}
ssl_epochs = config.scaled(100, 15)
seeds = list(range(config.scaled(3, 1)))
Cs = config.scaled((0.01, 0.1, 1.0, 10.0, 100.0), (0.1, 1.0, 10.0))  # candidate values of C


def hundred_labels(seed):
    """10 random training digits of each class: the indices of a 100-label subset."""
    g = torch.Generator().manual_seed(100 + seed)
    return torch.cat([torch.nonzero(y_train == k)[:, 0][torch.randperm(
        int((y_train == k).sum()), generator=g)[:10]] for k in range(10)])


def probe_both(f_train, f_test, seed):
    """Linear-probe test accuracy with all training labels and with 100 of them."""
    rows = hundred_labels(seed)
    full = ssl.linear_probe(f_train, y_train, f_test, y_test, Cs=Cs, seed=seed)
    few = ssl.linear_probe(f_train[rows], y_train[rows], f_test, y_test, Cs=Cs, seed=seed)
    return {"all labels": full["accuracy"], "100 labels": few["accuracy"]}


pca_32 = PCA(n_components=32, random_state=0).fit(x_train.numpy())
baselines = {"raw pixels": (x_train, x_test),
             "PCA (32)": (torch.tensor(pca_32.transform(x_train.numpy())).float(),
                          torch.tensor(pca_32.transform(x_test.numpy())).float())}
probes = {name: [probe_both(*feats, seed) for seed in seeds]
          for name, feats in baselines.items()}
encoders, histories, spectra, ranks = {}, {}, {}, {}
t0 = time.process_time()
for method in ssl.METHODS:
    for seed in seeds:
        enc, hist = ssl.train_joint_embedding(x_train, method, epochs=ssl_epochs,
                                              generator=torch.Generator().manual_seed(seed))
        f_train, f_test = ssl.embed(enc, x_train), ssl.embed(enc, x_test)
        probes.setdefault(method, []).append(probe_both(f_train, f_test, seed))
        ranks.setdefault(method, []).append(ssl.effective_rank(f_test))
        if seed == 0:
            encoders[method], histories[method] = enc, hist
            spectra[method] = ssl.singular_values(f_test)
print(f"{len(ssl.METHODS)} methods × {len(seeds)} seed(s) × {ssl_epochs} epochs in "
      f"{time.process_time() - t0:.0f} s CPU")

# %% slideshow={"slide_type": "-"}
def mean_std(values):
    values = np.asarray(values, dtype=float)
    return values.mean(), values.std()


def show_probes(rows):
    print(f"{'features':16}{'all labels':>16}{'100 labels':>16}{'effective rank':>16}")
    for name in rows:
        cells = [mean_std([p[k] for p in probes[name]]) for k in ("all labels", "100 labels")]
        rank = f"{np.mean(ranks[name]):.1f}" if name in ranks else "–"
        print(f"{name:16}" + "".join(f"{m:>10.3f} ± {s:.3f}" for m, s in cells)
              + f"{rank:>16}")


for name, (_, f_te) in baselines.items():
    ranks[name] = [ssl.effective_rank(f_te)]
print(f"linear-probe test accuracy, mean ± std over {len(seeds)} seed(s) (360 test digits)")
show_probes(["raw pixels", "PCA (32)", *ssl.METHODS])

# %% slideshow={"slide_type": "-"}
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), layout="constrained")
for i, method in enumerate(ssl.METHODS):
    h = histories[method]
    axes[0].plot(h["epoch"], h["embedding_std"], label=method, color=f"C{i}")
    axes[1].plot(range(1, len(spectra[method]) + 1), spectra[method], marker="o", ms=3,
                 label=f"{method} (effective rank {ranks[method][0]:.1f})", color=f"C{i}")
axes[0].set(yscale="log", xlabel="epoch", ylabel="mean std of an embedding coordinate",
            title="the projector's output during training (seed 0)")
axes[1].set(yscale="log", xlabel="principal direction", ylabel="singular value / √(n − 1)",
            title="spectrum of the 32-d representations (test digits)")
for ax in axes:
    ax.legend(fontsize=8)
plt.show()

# %% slideshow={"slide_type": "skip"}
spread_end = {m: histories[m]["embedding_std"][-1] for m in ssl.METHODS}
few = {m: mean_std([p["100 labels"] for p in probes[m]])[0] for m in probes}
allx = {m: mean_std([p["all labels"] for p in probes[m]])[0] for m in probes}
others = [m for m in ssl.METHODS if m != "invariance"]
print("embedding std at the end of training:",
      ", ".join(f"{m} {v:.3f}" for m, v in spread_end.items()))
assert spread_end["invariance"] < 0.1 * min(spread_end[m] for m in others)  # collapsed
assert np.mean(ranks["invariance"]) < min(np.mean(ranks[m]) for m in others)  # lowest rank
assert few["invariance"] < min(few[m] for m in others) - 0.05  # and the worst probe ...
assert allx["invariance"] < min(allx[m] for m in others)  # ... with all labels too
assert min(spread_end[m] for m in others) > 0.2  # the remedies keep the embeddings spread
order = sorted(few, key=few.get, reverse=True)
print("100-label ranking (mean accuracy):", " > ".join(f"{m} {few[m]:.3f}" for m in order))
best_ssl = max(others, key=few.get)
best_ssl_all = max(others, key=allx.get)


def versus(a, b, regime):
    """How a's mean probe accuracy compares with b's, judged against the seed-to-seed spread."""
    (ma, sa), (mb, sb) = (mean_std([p[regime] for p in probes[m]]) for m in (a, b))
    if len(seeds) == 1:
        return f"{ma - mb:+.3f} (one seed: no spread to judge it by)"
    noise = max(sa, sb)
    if abs(ma - mb) <= noise:
        return (f"{ma - mb:+.3f}, within the seed-to-seed spread (± {noise:.3f}): no "
                "measurable difference")
    return f"{ma - mb:+.3f}, more than the seed-to-seed spread (± {noise:.3f})"


display(Markdown(
    f"With **100 labels** the best joint-embedding method here is **{best_ssl}** "
    f"({few[best_ssl]:.3f}); against raw pixels ({few['raw pixels']:.3f}) the difference is "
    f"{versus(best_ssl, 'raw pixels', '100 labels')}; against PCA ({few['PCA (32)']:.3f}) it "
    f"is {versus(best_ssl, 'PCA (32)', '100 labels')}. With **all labels** the best is "
    f"**{best_ssl_all}** ({allx[best_ssl_all]:.3f}); against raw pixels "
    f"({allx['raw pixels']:.3f}): {versus(best_ssl_all, 'raw pixels', 'all labels')}. "
    f"Invariance-only is last in both regimes ({few['invariance']:.3f} and "
    f"{allx['invariance']:.3f})."))

# %% [markdown] slideshow={"slide_type": "subslide"}
# What the run shows:
#
# - **Invariance-only collapses.** Its projector's output shrinks towards a point (left plot,
#   log scale) — the loss falls to zero — and its representation loses
#   directions: the lowest effective rank (Roy & Vetterli 2007: $\exp$ of the entropy of the
#   normalised singular values, between 1 for a rank-one matrix and $d$ for a flat
#   spectrum) and a spectrum that falls fastest. Its probe is the worst, in both regimes.
# - **Each remedy works**: InfoNCE (negatives), VICReg (variance and covariance) and the EMA
#   target with a predictor (architecture) keep the embeddings spread and their
#   representations support a good probe.
# - **Raw pixels are a strong baseline on 8×8 digits.** The images are tiny, centred and
#   clean, so a linear probe on the 64 pixels is already good (the comparison printed above
#   says whether the best remedy differs from it by more than the seed-to-seed spread). SSL
#   earns its keep where labels are scarce *and* the raw input is a poor feature space:
#   natural images with millions of pixels, where a linear probe on pixels is hopeless, and
#   where the published comparisons (SimCLR, BYOL, VICReg on ImageNet) were made — with
#   ResNets, hundreds of epochs and batches of thousands, not an MLP on 1 437 digits.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. JEPA: predicting in representation space
#
# A joint-embedding method asks two views to have the same embedding. A **Joint Embedding
# Predictive Architecture** (LeCun 2022) asks more: from the representation $s_x$ of one part
# of the input, a predictor — possibly with a latent variable $z$ for what cannot be known —
# predicts the representation $s_y$ of another part, and the energy is the prediction error
# $E(x, y) = D(s_y, \operatorname{pred}(s_x, z))$. Why predict *representations* and not
# pixels? Because many details of $y$ (the exact texture, the noise, the stroke width) cannot
# be predicted from $x$; a pixel-space predictor must spend capacity on them and is penalised
# for what is unpredictable, while an encoder of $y$ can learn to drop them. The price is
# collapse: an encoder that drops *everything* makes prediction trivial, so a JEPA needs one of
# the remedies of section 4 (I-JEPA, Assran et al. 2023, uses the architectural one: an EMA
# target encoder and a predictor).
#
# **A toy I-JEPA on digits** (`ssl.train_ijepa`). Split each 8×8 digit into four 4×4
# quadrants. The *context encoder* sees the digit with one quadrant $q$ blanked; a predictor,
# given the context representation and which quadrant is missing, predicts the
# representation of quadrant $q$ (the digit with everything *but* $q$ blanked) computed by
# an EMA *target encoder* with a stop-gradient; as in the I-JEPA code, targets are
# layer-normalised and compared with a smooth-L1 loss, and the EMA momentum rises linearly
# to 1 during training. The **pixel-space baseline** has the
# same encoder, predictor and budget but predicts the 16 pixels of $q$ (a tiny masked
# autoencoder). Both are read out the same way: the encoder's representations of the four
# quadrants, concatenated (`ssl.quadrant_features`, like the patch representations that
# I-JEPA's probes read), with the same linear probes.

# %% slideshow={"slide_type": "-"}
t0 = time.process_time()
for target, name in [("representation", "I-JEPA (toy)"), ("pixels", "pixel prediction")]:
    for seed in seeds:
        enc, hist = ssl.train_ijepa(x_train, target=target, epochs=ssl_epochs,
                                    generator=torch.Generator().manual_seed(seed))
        f_train, f_test = ssl.quadrant_features(enc, x_train), ssl.quadrant_features(enc, x_test)
        probes.setdefault(name, []).append(probe_both(f_train, f_test, seed))
        ranks.setdefault(name, []).append(ssl.effective_rank(f_test))
        if seed == 0:
            histories[name] = hist
print(f"2 predictive models × {len(seeds)} seed(s) × {ssl_epochs} epochs in "
      f"{time.process_time() - t0:.0f} s CPU")
show_probes(["raw pixels", "invariance", "I-JEPA (toy)", "pixel prediction"])

# %% slideshow={"slide_type": "-"}
few = {m: mean_std([p["100 labels"] for p in probes[m]])[0] for m in probes}
allx = {m: mean_std([p["all labels"] for p in probes[m]])[0] for m in probes}
quadrants = ssl.quadrant_masks(8)
pixel_var = float(torch.stack([x_train[:, m].var(0).mean() for m in quadrants]).mean())
r2 = 1 - histories["pixel prediction"]["loss"][-1] / pixel_var
print(f"pixel prediction explains {r2:.2f} of the variance of a hidden quadrant's pixels "
      f"(training digits, seed 0); {1 - r2:.2f} is left unexplained")
print(f"effective rank of the representations: toy I-JEPA {np.mean(ranks['I-JEPA (toy)']):.1f} "
      f"(of 128 dimensions), pixel prediction {np.mean(ranks['pixel prediction']):.1f}, "
      f"invariance-only {np.mean(ranks['invariance']):.1f} (of 32)")
assert np.mean(ranks["I-JEPA (toy)"]) > 2 * np.mean(ranks["invariance"])  # not collapsed
assert few["I-JEPA (toy)"] > few["invariance"] + 0.05
display(Markdown(
    f"The toy I-JEPA did not collapse (effective rank {np.mean(ranks['I-JEPA (toy)']):.1f}, "
    f"more than twice invariance-only's {np.mean(ranks['invariance']):.1f}, and a far better "
    f"probe). Toy I-JEPA minus pixel prediction, 100 labels ({few['I-JEPA (toy)']:.3f} vs "
    f"{few['pixel prediction']:.3f}): {versus('I-JEPA (toy)', 'pixel prediction', '100 labels')}"
    f"; all labels ({allx['I-JEPA (toy)']:.3f} vs {allx['pixel prediction']:.3f}): "
    f"{versus('I-JEPA (toy)', 'pixel prediction', 'all labels')}."))

# %% [markdown] slideshow={"slide_type": "subslide"}
# The argument for predicting representations is about *unpredictable detail*: textures,
# lighting, noise. Clean, centred 8×8 digits have no texture or lighting to speak of, so the
# part of a hidden quadrant that a pixel predictor misses (the unexplained share printed
# above) is stroke shape — which is what a probe for the digit's class needs, not what it
# should ignore. On this toy, pixel prediction is therefore a reasonable objective, and the
# comparison above is the honest outcome. The toy shows the *mechanics* (masking, a predictor
# conditioned on the target's position, an EMA target, a collapse check); the advantage of
# JEPAs, better semantic features at lower cost than pixel reconstruction, was measured by
# Assran et al. (2023) with vision transformers on ImageNet.

# %% [markdown] slideshow={"slide_type": "notes"}
# ### H-JEPA: a hierarchy of predictors
#
# LeCun (2022) proposes to stack JEPAs. A low level encodes the input at a fine time scale and
# predicts its own representation a short time ahead, with many details; a higher level
# encodes the *low level's representations* over a longer window and predicts further ahead,
# with fewer details — the way one can predict where a car will be in ten seconds (high
# level, abstract) but not the exact position of its wheels in one (low level). Each level is
# an energy-based model trained against collapse like those above; planning uses the
# predictors as world models. Dawid & LeCun (2023) discuss how such hierarchies could be
# trained and used. The diagram below is a sketch of the idea, not a model trained here.

# %% slideshow={"slide_type": "skip"}
fig, ax = plt.subplots(figsize=(11, 5.2))
ax.set_xlim(0, 11)
ax.set_ylim(0, 6.2)
ax.set_axis_off()


def box(x, y, text, color):
    ax.add_patch(FancyBboxPatch((x - 0.62, y - 0.3), 1.24, 0.6, boxstyle="round,pad=0.05",
                                facecolor=color, edgecolor="0.3"))
    ax.text(x, y, text, ha="center", va="center", fontsize=9)


def arrow(x0, y0, x1, y1, style="-|>", color="0.3"):
    ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle=style, mutation_scale=12,
                                 color=color, lw=1.2))


for i, t in enumerate(["$x_t$", "$x_{t+1}$", "$x_{t+2}$", "$x_{t+3}$"]):
    xs = 1.3 + 2.6 * i
    box(xs, 0.5, t, "#eeeeee")
    box(xs, 1.7, "enc$_1$", "#cfe2f3")
    arrow(xs, 0.8, xs, 1.4)
    arrow(xs, 2.0, xs, 2.55)
    ax.text(xs, 2.75, f"$s^1_{{t+{i}}}$" if i else "$s^1_t$", ha="center", fontsize=10)
for i in range(3):
    xs = 1.3 + 2.6 * i
    box(xs + 1.3, 3.45, "pred$_1$", "#fce5cd")
    arrow(xs + 0.2, 2.95, xs + 1.0, 3.2)
    arrow(xs + 1.6, 3.2, xs + 2.4, 2.95, color="crimson")
    ax.text(xs + 2.05, 3.3, "$E_1$", color="crimson", fontsize=9)
box(3.9, 4.5, "enc$_2$", "#d9ead3")
box(9.1, 4.5, "enc$_2$", "#d9ead3")
arrow(1.3, 2.95, 3.6, 4.2)
arrow(3.9, 2.95, 3.9, 4.2)
arrow(9.1, 2.95, 9.1, 4.2)
arrow(6.5, 2.95, 8.8, 4.2)
box(6.5, 5.5, "pred$_2$", "#fce5cd")
arrow(4.2, 4.8, 6.0, 5.4)
arrow(7.0, 5.4, 8.8, 4.8, color="crimson")
ax.text(8.1, 5.35, "$E_2$", color="crimson", fontsize=9)
ax.text(3.1, 4.5, "$s^2_t$", ha="right", fontsize=10)
ax.text(8.3, 4.5, "$s^2_{t+2}$", ha="right", fontsize=10)
ax.text(0.1, 5.9, "level 2: coarser state $s^2$ of several $s^1$, predicted further ahead",
        fontsize=9)
ax.text(0.1, 3.95, "level 1: fine state $s^1$, predicted one step ahead", fontsize=9)
ax.set_title("H-JEPA (after LeCun 2022): each level encodes, predicts its own next "
             "representation, and is scored by an energy (red)", fontsize=10)
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - An energy $E(x, y)$ measures incompatibility; inference is $\arg\min_y E$ (enumeration,
#   gradient descent — which finds *one of several* good answers from each start). A softmax
#   classifier is an EBM trained with the NLL loss; an RBM's free energy eliminates the latent
#   $h$ by a soft minimum.
# - Latent-variable EBMs eliminate $z$ by $F_\infty = \min_z E$ or the soft minimum $F_\beta$,
#   which tends to the mean energy as $\beta \to 0$ and can then be lowest where there is no
#   data (the explorer shows it on the ellipse).
# - Loss functionals push the right answer down and the most offending wrong answer $\bar Y$
#   up. Measured on one energy model and one run: the energy loss shrank the embeddings and
#   flattened the energy surface (collapse); every loss with a positive margin kept a clear
#   gap; the perceptron and LVQ2 (margin 0) stopped with almost no gap.
# - Collapse is prevented in three ways: contrastive (choose negatives), regularised (limit
#   the volume of low energy) and architectural (predictor, stop-gradient, EMA target,
#   bottleneck). Every method of this collection falls into one of them.
# - Joint-embedding SSL on digits: invariance-only collapsed (its embeddings shrank to a
#   point, the lowest effective rank, the worst probe); InfoNCE, VICReg and EMA + predictor did
#   not. On 8×8 digits raw pixels are a strong baseline; the probe table gives the measured
#   differences with their spread over seeds.
# - A JEPA predicts representations rather than pixels; the toy I-JEPA trained without
#   collapsing to a point (its effective rank and probe are far above invariance-only's; its
#   comparison with a pixel-space twin is printed in section 6). H-JEPA stacks such
#   predictors at increasing time scales.
#
# Next: [13 · RBMs vs modern methods](13_rbm_vs_modern_methods.ipynb) compares RBMs with the
# modern density models, samplers and feature learners on one protocol.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# **1. The most offending incorrect answer.** Write `most_offending(e_all, y)` returning the
# index and the energy of the lowest-energy *wrong* answer of each row of `e_all`
# (batch, n_answers), given the correct answers `y` (batch,).
#
# <details><summary>Solution</summary>
#
# ```python
# def most_offending(e_all, y):
#     masked = e_all.clone()
#     masked[torch.arange(len(y)), y] = float("inf")  # the right answer cannot be chosen
#     energy, index = masked.min(dim=1)
#     return index, energy
# ```
# A common mistake is to take the minimum over all answers: whenever the right answer wins, it
# is then "its own" most offending answer, and the hinge loss pushes it down and up at once.
# </details>

# %% slideshow={"slide_type": "skip"}
def most_offending(e_all, y):
    raise NotImplementedError  # your code here


checks.most_offending_answer(most_offending)

# %% [markdown] slideshow={"slide_type": "-"}
# **2. The free energy of a latent-variable EBM.** Write `free_energy(e_z, beta)`: over the
# last axis of `e_z`, the minimum for `beta=None`, otherwise
# $-\frac{1}{\beta}\log \frac1K \sum_k e^{-\beta E_k}$. It must work for energies around 1000
# at $\beta = 2$.
#
# <details><summary>Solution</summary>
#
# ```python
# def free_energy(e_z, beta):
#     if beta is None:
#         return e_z.min(dim=-1).values
#     k = e_z.shape[-1]
#     return -(torch.logsumexp(-beta * e_z, dim=-1) - math.log(k)) / beta
# ```
# `torch.logsumexp` subtracts the largest term before exponentiating (as `my_free_energy` in
# section 2 does by hand); the naive `torch.log(torch.exp(-beta * e_z).mean(-1))` underflows to
# $\log 0$ for large energies. Forgetting $-\log K$ gives the sum convention of the RBM, lower by
# $\frac1\beta \log K$.
# </details>

# %% slideshow={"slide_type": "skip"}
def free_energy(e_z, beta):
    raise NotImplementedError  # your code here


checks.latent_free_energy(free_energy)

# %% [markdown] slideshow={"slide_type": "-"}
# **3. InfoNCE.** Write `info_nce(z_a, z_b, temperature)`: row $i$ of both is image $i$; use
# cosine similarities divided by the temperature as logits, the matching row as the positive,
# and average the cross-entropy over both directions ($a \to b$ and $b \to a$).
#
# <details><summary>Solution</summary>
#
# ```python
# def info_nce(z_a, z_b, temperature):
#     logits = F.normalize(z_a, dim=1) @ F.normalize(z_b, dim=1).T / temperature
#     target = torch.arange(len(z_a))
#     return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))
# ```
# Without the normalisation the loss can be lowered by growing the embeddings instead of
# aligning them; with only one direction it is still a valid loss but not the one SimCLR and
# CLIP use.
# </details>

# %% slideshow={"slide_type": "skip"}
def info_nce(z_a, z_b, temperature):
    raise NotImplementedError  # your code here


checks.info_nce_loss(info_nce)

# %% [markdown] slideshow={"slide_type": "-"}
# **4. Margins and temperature (open).** Retrain the prototype energy of section 3 with the
# hinge loss at margins $m = 0.1, 1, 5$, and the NLL loss at $\beta = 0.1, 1, 10$. How do the
# measured margin and spread scale with $m$ and with $1/\beta$? Which settings change the test
# accuracy?
#
# <details><summary>Solution sketch</summary>
#
# ```python
# for m in [0.1, 1.0, 5.0]:
#     model = el.PrototypeEnergy(generator=torch.Generator().manual_seed(0))
#     el.train_energy_model(model, x_train, y_train, "hinge", epochs=loss_epochs, lr=3e-3,
#                           generator=torch.Generator().manual_seed(1), margin=m)
#     print(m, el.evaluate_energy_model(model, x_test, y_test))
# ```
# The hinge stops pulling once $E(\bar Y) - E(Y) \ge m$, so the measured margin grows with $m$,
# roughly in proportion, and the embeddings spread more for larger $m$ (the energy scale is
# arbitrary: $m$ only sets it). The NLL's gap grows with $1/\beta$ in the same way. Accuracy
# changes far less than the energies, because inference only uses their ranking.
# </details>
#
# **5. Collapse by the numbers (open).** Train VICReg with `ssl.train_joint_embedding` and
# `vicreg_weights=(25.0, 0.0, 1.0)` (no variance term), then with `(25.0, 25.0, 0.0)` (no
# covariance term). Which one collapses completely, which one only loses dimensions? Use
# `history["embedding_std"]`, `history["embedding_rank"]`, `ssl.effective_rank` and
# `ssl.singular_values`.
#
# <details><summary>Solution sketch</summary>
#
# Without the variance term nothing keeps the embeddings from shrinking: the covariance term
# is itself zero for a collapsed batch, so the embedding std falls as for invariance-only.
# Without the covariance term the variance hinge keeps every coordinate's spread near 1, but
# the coordinates can become copies of each other: the std stays up while the embedding's
# effective rank (`history["embedding_rank"]`) drops — *dimensional* collapse (Jing et al.
# 2022), here in the projector's output; compare the encoder's representation too.
# </details>

# %% [markdown] slideshow={"slide_type": "slide"}
# ## References
#
# - Y. LeCun, S. Chopra, R. Hadsell, M. Ranzato, F. J. Huang (2006). A tutorial on
#   energy-based learning. In *Predicting Structured Data*, MIT Press.
# - R. Hadsell, S. Chopra, Y. LeCun (2006). Dimensionality reduction by learning an invariant
#   mapping. *CVPR 2006*.
# - Y. Song, D. P. Kingma (2021). How to train your energy-based models. arXiv:2101.03288.
# - M. Gutmann, A. Hyvärinen (2010). Noise-contrastive estimation: a new estimation principle
#   for unnormalized statistical models. *AISTATS 2010*.
# - T. Chen, S. Kornblith, M. Norouzi, G. Hinton (2020). A simple framework for contrastive
#   learning of visual representations (SimCLR). *ICML 2020*.
# - J.-B. Grill et al. (2020). Bootstrap your own latent: a new approach to self-supervised
#   learning (BYOL). *NeurIPS 2020*.
# - J. Zbontar, L. Jing, I. Misra, Y. LeCun, S. Deny (2021). Barlow Twins: self-supervised
#   learning via redundancy reduction. *ICML 2021*.
# - A. Bardes, J. Ponce, Y. LeCun (2022). VICReg: variance-invariance-covariance
#   regularization for self-supervised learning. *ICLR 2022*.
# - L. Jing, P. Vincent, Y. LeCun, Y. Tian (2022). Understanding dimensional collapse in
#   contrastive self-supervised learning. *ICLR 2022*.
# - O. Roy, M. Vetterli (2007). The effective rank: a measure of effective dimensionality.
#   *EUSIPCO 2007*.
# - M. Assran, Q. Duval, I. Misra, P. Bojanowski, P. Vincent, M. Rabbat, Y. LeCun, N. Ballas
#   (2023). Self-supervised learning from images with a joint-embedding predictive
#   architecture (I-JEPA). *CVPR 2023*.
# - Y. LeCun (2022). A path towards autonomous machine intelligence. OpenReview, version 0.9.2.
# - A. Dawid, Y. LeCun (2023). Introduction to latent variable energy-based models: a path
#   towards autonomous machine intelligence. arXiv:2306.02572.
# - A. Canziani, Y. LeCun (2020–2021). NYU Deep Learning course (DS-GA 1008), lectures on
#   energy-based models and latent-variable EBMs.
