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
# # 03 · Restricted Boltzmann machines
#
# A Boltzmann machine (notebook 02) can represent almost any distribution over binary vectors,
# but learning it needs samples from the model, and Gibbs sampling a densely connected network
# is painfully slow. Smolensky's *harmonium* (1986), renamed the **restricted Boltzmann machine**
# (RBM), keeps the hidden units but removes every visible–visible and hidden–hidden connection.
# That single restriction makes three things exact and cheap: the conditional distributions of
# one layer given the other, the **free energy** of a visible vector, and — for a small hidden
# layer — the partition function itself. RBMs became the workhorse of the 2006–2012 deep
# learning revival (deep belief nets, notebook 05; collaborative filtering, notebook 06), and
# scikit-learn still ships one.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Learning goals
#
# After this notebook you can
#
# 1. write down the RBM energy and derive why $p(h \mid v)$ and $p(v \mid h)$ factorise into
#    independent sigmoid units;
# 2. derive and compute the free energy $F(v)$ and the *exact* log-likelihood of a small RBM
#    by enumerating its smaller layer, and say when that stops being feasible;
# 3. run block Gibbs chains and check them against the exact distribution;
# 4. use scikit-learn's `BernoulliRBM` and this collection's drop-in replacement, and measure
#    honestly what RBM features do for a classifier.

# %% [markdown] slideshow={"slide_type": "notes"}
# ## Prerequisites and run time
#
# Notebooks [01](01_boltzmann_distribution.ipynb) (Boltzmann distribution, Gibbs sampling) and
# [02](02_hopfield_and_boltzmann_machines.ipynb) (Boltzmann machines, positive and negative
# phases). Training here uses the package's `train_rbm`; *how* contrastive divergence works is
# the subject of notebook 04. The set-up cell prints this notebook's measured run time (full and
# fast mode, from `make bench`); `EBM_FAST=1` runs a shorter version.

# %% slideshow={"slide_type": "skip"}
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from IPython.display import Markdown, display
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.neural_network import BernoulliRBM as SklearnBernoulliRBM
from threadpoolctl import threadpool_limits

from ebm_helpers import checks, config, data, metrics, partition, plotting, rbm, widgets
from ebm_helpers.sklearn import BernoulliRBM as DropInBernoulliRBM

plotting.apply_style()
config.set_torch_threads()  # one thread: small tensors, and robust on a busy laptop
threadpool_limits(limits=1)  # one BLAS thread for NumPy/scikit-learn too (section 7)
generator = config.seed_everything(0)
FAST = config.is_fast()
print(config.notebook_header("03_restricted_boltzmann_machines"))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The model
#
# An RBM has $n_v$ binary **visible** units $v$ (the data: here, pixels) and $n_h$ binary
# **hidden** units $h$ (features the model invents), joined by a weight matrix $W$ of shape
# $(n_h, n_v)$, with biases $b$ (visible) and $c$ (hidden):
#
# $$E(v, h) = -b^\top v - c^\top h - h^\top W v, \qquad
#   p(v, h) = \frac{e^{-E(v, h)}}{Z}, \qquad Z = \sum_{v, h} e^{-E(v, h)}.$$
#
# This is the Boltzmann machine energy of notebook 02 with the visible–visible and
# hidden–hidden blocks of the weight matrix set to zero: the graph is **bipartite**.

# %% slideshow={"slide_type": "-"}
def draw_rbm(ax, n_v=6, n_h=4):
    """A bipartite RBM graph: every visible unit connects to every hidden unit, nothing else."""
    xv, xh = np.linspace(0, 1, n_v), np.linspace(0.1, 0.9, n_h)
    for a in xv:
        for b in xh:
            ax.plot([a, b], [0, 1], color="0.7", lw=1, zorder=1)
    ax.scatter(xv, np.zeros(n_v), s=500, color="C0", zorder=2, label="visible $v_i$")
    ax.scatter(xh, np.ones(n_h), s=500, color="C1", zorder=2, label="hidden $h_j$")
    ax.text(1.08, 0.5, "weights $W_{ji}$", va="center")
    ax.set_xlim(-0.15, 1.45)
    ax.set_ylim(-0.4, 1.4)
    ax.set_axis_off()
    ax.legend(loc="lower right", ncol=2)
    ax.set_title("an RBM is a bipartite graph: no edges within a layer")


fig, ax = plt.subplots(figsize=(7, 3.2))
draw_rbm(ax)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The energy in code, for a batch of `(batch, n_v)` visible and `(batch, n_h)` hidden vectors,
# checked against the package's `rbm.RBM.energy`:

# %% slideshow={"slide_type": "-"}
tiny = rbm.RBM(n_visible=6, n_hidden=4, generator=generator, init_std=1.0)
with torch.no_grad():  # random biases too, so that the checks below are not trivial
    tiny.v_bias.copy_(0.5 * torch.randn(6, generator=generator))
    tiny.h_bias.copy_(0.5 * torch.randn(4, generator=generator))
W, b, c = tiny.W.detach(), tiny.v_bias.detach(), tiny.h_bias.detach()


def rbm_energy(v, h, W, b, c):
    """E(v, h) = -b·v - c·h - h·Wv for each row; (batch, n_v), (batch, n_h) -> (batch,)."""
    return -(v @ b) - (h @ c) - ((h @ W) * v).sum(dim=1)


v = torch.bernoulli(torch.full((5, 6), 0.5), generator=generator)
h = torch.bernoulli(torch.full((5, 4), 0.5), generator=generator)
with torch.no_grad():
    mine, helper = rbm_energy(v, h, W, b, c), tiny.energy(v, h)
print("by hand:", mine.numpy().round(4))
print("helper: ", helper.numpy().round(4))
assert torch.allclose(mine, helper, atol=1e-5)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Conditionals factorise
#
# Fix $v$. The energy is then a *sum of separate terms*, one per hidden unit:
# $E(v, h) = -b^\top v - \sum_j h_j\,(c_j + W_j v)$, where $W_j$ is row $j$ of $W$. So
#
# $$p(h \mid v) = \frac{e^{-E(v,h)}}{\sum_{h'} e^{-E(v,h')}}
#   = \prod_j \frac{e^{h_j (c_j + W_j v)}}{1 + e^{c_j + W_j v}}
#   \quad\Longrightarrow\quad p(h_j = 1 \mid v) = \mathrm{sigm}(c_j + W_j v),$$
#
# and by the same argument $p(v_i = 1 \mid h) = \mathrm{sigm}(b_i + (h^\top W)_i)$. Every hidden
# unit
# is an independent logistic unit given the visibles — one matrix product and a sigmoid for the
# whole layer. In a general Boltzmann machine the hidden units interact and no such formula
# exists. Let us check the claim by brute force: enumerate all $2^4$ hidden vectors, normalise
# $e^{-E(v, h)}$ over them, and compare with the product of sigmoids.

# %% slideshow={"slide_type": "-"}
p_h_formula = torch.sigmoid(v @ W.T + c)  # (batch, n_h)
all_h = partition.binary_states(4).to(v.dtype)  # (16, 4): every hidden configuration
with torch.no_grad():
    e = torch.stack([tiny.energy(v, hh.expand(v.shape[0], -1)) for hh in all_h], dim=1)
p_joint = torch.softmax(-e, dim=1)  # p(h | v) over the 16 configurations, (batch, 16)
p_h_brute = p_joint @ all_h  # marginal p(h_j = 1 | v), (batch, n_h)
print("max |brute force - sigmoid formula| =", f"{(p_h_brute - p_h_formula).abs().max():.2e}")
assert torch.allclose(p_h_brute, p_h_formula, atol=1e-6)
with torch.no_grad():
    assert torch.allclose(tiny.sample_h(v, generator=generator)[0], p_h_formula, atol=1e-6)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. The free energy
#
# Because the hidden units are independent given $v$, we can sum them out analytically:
#
# $$\sum_h e^{-E(v,h)} = e^{b^\top v} \prod_j \left(1 + e^{c_j + W_j v}\right)
#   \equiv e^{-F(v)}, \qquad
#   F(v) = -b^\top v - \sum_j \operatorname{softplus}(c_j + W_j v),$$
#
# with $\operatorname{softplus}(x) = \ln(1 + e^x)$. So $p(v) = e^{-F(v)}/Z$: the RBM is an
# energy-based model *of the visible units alone*, with energy $F(v)$ — the same "free energy"
# $F = -T \ln Z$ of notebook 01, for the little system of hidden units clamped to one $v$.

# %% slideshow={"slide_type": "-"}
def free_energy(v, W, b, c):
    """F(v) = -b·v - Σ_j softplus(c_j + W_j·v); (batch, n_v) -> (batch,)."""
    return -(v @ b) - F.softplus(v @ W.T + c).sum(dim=1)


f_brute = -torch.logsumexp(-e, dim=1)  # -log Σ_h exp(-E(v, h)), from the enumeration above
with torch.no_grad():
    f_formula = free_energy(v, W, b, c)
    f_helper = tiny.free_energy(v)
print("brute force:", f_brute.numpy().round(4))
print("formula:    ", f_formula.numpy().round(4))
assert torch.allclose(f_brute, f_formula, atol=1e-5)
assert torch.allclose(f_formula, f_helper, atol=1e-5)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. The exact log-likelihood of a small RBM
#
# $\ln p(v) = -F(v) - \ln Z$, and only $\ln Z$ is hard. By the symmetry of the bipartite graph
# we can just as well sum out $v$ and **enumerate the hidden layer**:
#
# $$Z = \sum_h e^{c^\top h} \prod_i \left(1 + e^{b_i + (h^\top W)_i}\right),$$
#
# a sum of $2^{n_h}$ terms, each costing $O(n_v)$ after one matrix product. With 16 hidden units
# that is 65 536 terms, for *any* number of pixels (the time it takes is printed below). With 25
# hidden units it is 33 million, 512 times as many (the package sums them in chunks to bound the
# memory), and beyond that the package refuses and points to annealed importance sampling
# (notebook 04). We train a 16-hidden-unit RBM on the binarised
# 8×8 digits (pixels ≥ 8 of 16 set to 1) with the package's default recipe, and compute the
# exact log Z in the notebook.

# %% slideshow={"slide_type": "-"}
digits_bin = data.load_digits(binarize=True)
print(digits_bin)
n_hidden = 16
model = rbm.RBM(digits_bin.n_features, n_hidden, generator=generator)
epochs = config.scaled(full=rbm.DEFAULT_RECIPE["epochs"], fast=15)
log_z_per_epoch, test_ll_per_epoch = [], []


def monitor(epoch, model, values):
    """Called by train_rbm after each epoch: record the exact test log-likelihood."""
    with torch.no_grad():
        log_z = model.log_partition()
        test_ll_per_epoch.append(float(model.log_likelihood(digits_bin.x_test, log_z).mean()))
    return {"test_ll": test_ll_per_epoch[-1]}


start = time.perf_counter()
history = rbm.train_rbm(model, digits_bin.x_train, epochs=epochs, generator=generator,
                        callback=monitor)
train_seconds = time.perf_counter() - start
print(f"trained {epochs} epochs of CD-1 in {train_seconds:.1f} s")

# %% slideshow={"slide_type": "-"}
def log_partition_by_hidden_enumeration(W, b, c):
    """ln Z = logsumexp_h [c·h + Σ_i softplus(b_i + (hᵀW)_i)] over all 2^n_h hidden vectors."""
    hs = partition.binary_states(W.shape[0]).to(W.dtype)  # (2^n_h, n_h)
    return torch.logsumexp(hs @ c + F.softplus(hs @ W + b).sum(dim=1), dim=0)


with torch.no_grad():
    Wd, bd, cd = (t.double() for t in (model.W, model.v_bias, model.h_bias))
    t0 = time.perf_counter()
    log_z_mine = float(log_partition_by_hidden_enumeration(Wd, bd, cd))
    enumeration_seconds = time.perf_counter() - t0
    log_z = float(model.log_partition())
    test_ll = float(model.log_likelihood(digits_bin.x_test, log_z).mean())
    train_ll = float(model.log_likelihood(digits_bin.x_train, log_z).mean())
base_rates = rbm.base_rate_log_odds(digits_bin.x_train)
baseline_ll = float(rbm.independent_bernoulli_log_likelihood(digits_bin.x_test, base_rates).mean())
print(f"ln Z: notebook enumeration {log_z_mine:.6f} (2^{n_hidden} hidden states summed in "
      f"{1e3 * enumeration_seconds:.0f} ms), helper {log_z:.6f}")
print(f"average exact log-likelihood (nats/image): train {train_ll:.2f}, test {test_ll:.2f}")
print(f"independent-Bernoulli baseline (each pixel its own coin): test {baseline_ll:.2f}")
assert abs(log_z_mine - log_z) < 1e-6
assert test_ll > baseline_ll + 3, "the hidden units should capture pixel correlations"

# %% [markdown] slideshow={"slide_type": "subslide"}
# The RBM beats the model of independent pixels by several nats per image: its 16 hidden units
# capture how pixels co-occur (strokes), which a per-pixel coin cannot. Below: the learning curve
# (exact test log-likelihood after each epoch — affordable only because the hidden layer is
# small) and the 16 learned **filters**, the rows $W_j$ of the weight matrix shown as images
# (red pixels push hidden unit $j$ on, blue ones off; what each unit responds to is for the eye
# to judge, not measured here).

# %% slideshow={"slide_type": "-"}
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), gridspec_kw={"width_ratios": [1.1, 1]})
axes[0].plot(np.arange(1, epochs + 1), test_ll_per_epoch, marker="o", ms=3, label="RBM, 16 hidden")
axes[0].axhline(baseline_ll, color="C1", ls="--", label="independent pixels")
axes[0].set_xlabel("epoch")
axes[0].set_ylabel("exact test log-likelihood (nats/image)")
axes[0].set_title("learning curve (exact, via enumeration of 2^16 states)")
axes[0].legend()
im = plotting.show_image_grid(axes[1], model.W.detach(), digits_bin.image_shape, ncols=4,
                              signed=True, title="the 16 filters (rows of W) as 8×8 images")
fig.colorbar(im, ax=axes[1], label="weight $W_{ji}$")
axes[1].grid(False)
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Block Gibbs sampling
#
# Because each layer is conditionally independent given the other, a Gibbs sampler can update a
# *whole layer at once*: $h \sim p(h \mid v)$, then $v \sim p(v \mid h)$, and repeat. This
# **block Gibbs** step is two matrix products — compare the site-by-site sweeps of the Ising
# model in notebook 01. First the check that matters: on the tiny 6×4 RBM, where $p(v)$ over all
# $2^6 = 64$ visible vectors is computable exactly, many independent chains must reproduce it.
# As in notebook 01, the yardstick is the TV distance expected of an exact sample of equal size.

# %% slideshow={"slide_type": "-"}
n_chains = config.scaled(full=20_000, fast=5_000)
with torch.no_grad():
    exact_p_v = torch.exp(partition.visible_log_probs(tiny)[1]).numpy()  # over the 64 states
    v_chain = torch.bernoulli(torch.full((n_chains, 6), 0.5), generator=generator)
    v_chain = tiny.gibbs(v_chain, k=200, generator=generator)
codes = (v_chain.long() * (2 ** torch.arange(6))).sum(1)  # state index, bit i = unit i
counts = np.bincount(codes.numpy(), minlength=64)
tv_gibbs = metrics.total_variation(counts, exact_p_v)
tv_expected = 0.5 * np.sum(np.sqrt(2 * exact_p_v * (1 - exact_p_v) / (np.pi * n_chains)))
print(f"TV(block Gibbs, exact p(v)) = {tv_gibbs:.4f}; expected for {n_chains} exact draws "
      f"≈ {tv_expected:.4f}")
assert tv_gibbs < 1.5 * tv_expected

# %% [markdown] slideshow={"slide_type": "subslide"}
# (`partition.visible_log_probs` enumerates the visible states in the same bit order as the
# codes above; the package's tests check that against a brute-force sum over both layers.)
#
# Now the digits model. We start 16 chains from pure noise and watch their free energy $F(v)$
# and their pixel probabilities. The static figure shows a few chosen steps; the viewer below
# lets you scrub through every step.

# %% slideshow={"slide_type": "-"}
n_steps = config.scaled(full=1000, fast=200)
with torch.no_grad():
    v_t = torch.bernoulli(torch.full((16, digits_bin.n_features), 0.5), generator=generator)
    trace, fe_trace = [v_t], [model.free_energy(v_t)]
    for _ in range(n_steps):
        p_h, h_t = model.sample_h(v_t, generator=generator)
        p_v, v_t = model.sample_v(h_t, generator=generator)
        trace.append(p_v)  # show probabilities: smoother to look at than binary samples
        fe_trace.append(model.free_energy(v_t))
trace, fe_trace = torch.stack(trace), torch.stack(fe_trace)
print(f"mean free energy: start {fe_trace[0].mean():.1f}, after 5 steps "
      f"{fe_trace[5].mean():.1f}, after {n_steps} steps {fe_trace[-1].mean():.1f}; "
      f"data {model.free_energy(digits_bin.x_test).mean():.1f}")
assert fe_trace[-20:].mean() < fe_trace[0].mean() - 5, "chains should settle in low F(v)"
# the claim of the paragraph below: most of the drop happens within the first five steps
assert fe_trace[5].mean() < (fe_trace[0].mean() + fe_trace[-20:].mean()) / 2

show_steps = [0, 1, 5, 50, n_steps]
fig, axes = plt.subplots(1, len(show_steps), figsize=(13, 3))
for ax, s in zip(axes, show_steps, strict=True):
    plotting.show_image_grid(ax, trace[s], digits_bin.image_shape, ncols=4, title=f"step {s}")
fig.suptitle("16 block-Gibbs chains started from noise (pixel probabilities p(v|h))")
plt.show()

# %% slideshow={"slide_type": "subslide"}
widgets.gibbs_chain_explorer(trace, digits_bin.image_shape, free_energy=fe_trace)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Most of the drop in free energy happens within the first five steps (printed; asserted: past
# the halfway mark by step 5), and the pictures change from noise into blobs of ink. They are
# blurry partly because they are probabilities, and partly because a 16-unit RBM has only 16
# binary features to describe every digit.
# Whether a chain wanders between digits or lingers near one is the mixing question of notebook
# 01; scrub through the viewer to see what these chains do (we do not measure it here).
# Notebook 04 trains bigger RBMs, and shows how the sampler used *during training* decides what
# the model learns.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. The scikit-learn pattern, and a drop-in replacement
#
# scikit-learn has shipped `sklearn.neural_network.BernoulliRBM` since 2013, trained with
# persistent contrastive divergence (PCD: the negative phase estimated with Gibbs chains that
# continue from one minibatch to the next instead of restarting at the data; notebook 04) on
# inputs in $[0, 1]$ (pixel intensities read as probabilities). The classic usage, with 64
# hidden units and the learning rate of scikit-learn's example "Restricted Boltzmann Machine
# features for digit classification"
# (that example uses 100 hidden units, more iterations, a training set enlarged five-fold by
# shifting every image by one pixel, and $C = 6000$ for the classifier; section 7 comes back to
# it):

# %% slideshow={"slide_type": "-"}
digits = data.load_digits()  # continuous pixels in [0, 1] (digits / 16)
x_train, x_test = digits.x_train.numpy(), digits.x_test.numpy()
y_train, y_test = digits.y_train.numpy(), digits.y_test.numpy()
settings = dict(n_components=64, learning_rate=0.06, n_iter=config.scaled(full=20, fast=5),
                random_state=0)
results = {}
estimators = [("scikit-learn", SklearnBernoulliRBM), ("ebm_helpers drop-in", DropInBernoulliRBM)]
for name, cls in estimators:
    est = cls(**settings)
    start = time.perf_counter()
    est.fit(x_train)
    seconds = time.perf_counter() - start
    features = est.transform(x_test)
    results[name] = {"est": est, "seconds": seconds,
                     "pseudo_ll": float(np.mean(est.score_samples(x_test))),
                     "shape": features.shape}
for name, r in results.items():
    print(f"{name:>20}: fit {r['seconds']:.2f} s; transform -> {r['shape']}; "
          f"mean pseudo-log-likelihood on test {r['pseudo_ll']:.2f}")
assert results["scikit-learn"]["shape"] == results["ebm_helpers drop-in"]["shape"]

# %% [markdown] slideshow={"slide_type": "subslide"}
# Both have the same constructor, `fit` / `transform` / `score_samples` / `gibbs` and fitted
# attributes (`components_`, `intercept_hidden_`, `intercept_visible_`), so the drop-in works
# anywhere scikit-learn's does, including `Pipeline` and `GridSearchCV`; the package's tests run
# scikit-learn's own `check_estimator` on it. It adds `k` (CD-k steps), `persistent` and
# `device` (CUDA when present), with defaults that keep scikit-learn's behaviour. With those
# defaults on a CPU it computes in float32 with three matrix products per minibatch instead of
# scikit-learn's five in float64 (the biases folded into the products); other settings run on
# the same tested torch core as the rest of this notebook. `score_samples` is scikit-learn's
# *pseudo*-log-likelihood (one randomly flipped pixel per image): noisy, and not the real
# likelihood — notebook 04 shows how far apart the two can be.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. Do RBM features help a classifier? Measured
#
# The scikit-learn example feeds the hidden-unit probabilities to a logistic regression and
# concludes that the RBM features *help*, compared with logistic regression on the raw pixels.
# Do they here? A fair comparison tunes each classifier's regularisation $C$ the same way, by
# cross-validation on training data only, and uses more than one split: we pool the 1 797
# images and run a 5-fold outer cross-validation; inside each outer training set, a 3-fold
# inner cross-validation picks $C$ for each method, and the RBM is fitted on the outer training
# fold only. The paired differences over the folds give the interval.

# %% slideshow={"slide_type": "skip"}
x_all = np.concatenate([x_train, x_test])
y_all = np.concatenate([y_train, y_test])
c_grid = [0.1, 1.0, 10.0, 100.0, 1000.0, 6000.0] if not FAST else [1.0, 100.0, 6000.0]
n_outer, n_inner = (5, 3) if not FAST else (3, 2)
cv_settings = dict(settings, random_state=0)


def fold_features(method, x_fit, x_eval):
    """Features of x_eval for one method, fitted on x_fit only (no peeking at x_eval)."""
    if method == "raw pixels":
        return x_fit, x_eval
    est = SklearnBernoulliRBM(**cv_settings).fit(x_fit)
    return est.transform(x_fit), est.transform(x_eval)


def accuracy_at(method, x_fit, y_fit, x_eval, y_eval, cs):
    f_fit, f_eval = fold_features(method, x_fit, x_eval)
    return [LogisticRegression(max_iter=5000, C=c).fit(f_fit, y_fit).score(f_eval, y_eval)
            for c in cs]


methods = ["raw pixels", "scikit-learn RBM features"]
outer = StratifiedKFold(n_outer, shuffle=True, random_state=0)
fold_acc = {m: [] for m in methods}
chosen_c = {m: [] for m in methods}
# one BLAS thread: many small fits, and multi-threaded BLAS on a busy machine was measured to
# make each logistic regression about 100 times slower
with threadpool_limits(limits=1):
    for train_idx, test_idx in outer.split(x_all, y_all):
        x_tr, y_tr = x_all[train_idx], y_all[train_idx]
        inner = StratifiedKFold(n_inner, shuffle=True, random_state=1)
        for m in methods:
            inner_scores = np.mean([accuracy_at(m, x_tr[i], y_tr[i], x_tr[j], y_tr[j], c_grid)
                                    for i, j in inner.split(x_tr, y_tr)], axis=0)
            best_c = c_grid[int(np.argmax(inner_scores))]
            chosen_c[m].append(best_c)
            fold_acc[m].append(accuracy_at(m, x_tr, y_tr, x_all[test_idx], y_all[test_idx],
                                           [best_c])[0])
for m in methods:
    acc = np.array(fold_acc[m])
    print(f"{m:>26}: accuracy {acc.mean():.3f} ± {acc.std(ddof=1) / np.sqrt(len(acc)):.3f} "
          f"(mean ± SE over {n_outer} folds); C chosen per fold: {chosen_c[m]}")
diff = np.array(fold_acc["raw pixels"]) - np.array(fold_acc["scikit-learn RBM features"])
half_width = 2 * diff.std(ddof=1) / np.sqrt(len(diff))
lo, hi = diff.mean() - half_width, diff.mean() + half_width
print(f"raw − RBM: {diff.mean():+.3f}, interval ±2 SE [{lo:+.3f}, {hi:+.3f}]")
if lo > 0:
    finding = "logistic regression on the **raw pixels is more accurate** than on the RBM features"
elif hi < 0:
    finding = "the **RBM features are more accurate** than the raw pixels"
else:
    finding = "the two are **not distinguishable**: the interval of the difference contains 0"
display(Markdown(
    f"Measured here, with $C$ tuned by inner cross-validation for both: {finding} (mean "
    f"difference raw − RBM {diff.mean():+.3f}, ±2 standard errors over {n_outer} outer folds)."
    + (" This **agrees** with" if hi < 0 else " This **differs** from")
    + " the scikit-learn example's conclusion that the RBM features help."))
assert all(np.mean(a) > 0.85 for a in fold_acc.values())

# %% [markdown] slideshow={"slide_type": "subslide"}
# The printed verdict is this notebook's answer. Where it differs from the scikit-learn
# example's conclusion, the settings are the likely reason: the example enlarges the training
# set five-fold with shifted copies (which gives an RBM more to learn from), uses 100 hidden
# units, and tuned its
# hyper-parameters by a grid search that it does not reproduce, while here 64 hidden units see
# the original images only. 64 RBM features are a lossy re-encoding of 64 pixels, and a linear
# classifier on the pixels already separates these clean digits well (the raw-pixel accuracy is
# printed above). Unsupervised RBM features
# helped most in 2006–2010, when they initialised deep networks that could not otherwise be
# trained (notebook 05); notebook 13 compares them with modern methods more broadly.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - The RBM energy $E(v,h) = -b^\top v - c^\top h - h^\top W v$ has no within-layer terms, so
#   $p(h \mid v) = \prod_j \mathrm{sigm}(c_j + W_j v)$ and $p(v \mid h) = \prod_i \mathrm{sigm}(b_i
#   + (h^\top
#   W)_i)$: each layer is one matrix product and a sigmoid.
# - Summing out $h$ gives the free energy $F(v) = -b^\top v - \sum_j \operatorname{softplus}(c_j
#   + W_j v)$ and $p(v) = e^{-F(v)}/Z$: an energy-based model of the data alone.
# - $\ln Z$ is exact by enumerating the smaller layer ($2^{16}$ terms for 16 hidden units); the
#   exact log-likelihood lets us monitor training honestly and compare with a baseline.
# - Block Gibbs sampling alternates whole layers; checked against exact $p(v)$ on a tiny RBM.
# - scikit-learn's `BernoulliRBM` and the drop-in share an API. Whether RBM features help
#   logistic regression on these digits was measured with $C$ tuned for both and 5-fold
#   intervals (the verdict is printed in section 7), not assumed.
#
# Next: [04 · Contrastive divergence](04_contrastive_divergence.ipynb) — how `train_rbm` learns
# $W$, why CD-1 is biased, and why reconstruction error is a misleading monitor.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# **1. The other conditional (open).** Derive $p(v_i = 1 \mid h) = \mathrm{sigm}(b_i + (h^\top
# W)_i)$ and
# check it numerically on `tiny` by enumerating all $2^6$ visible vectors for a fixed $h$.
#
# <details><summary>Solution</summary>
#
# With $h$ fixed, $E = -c^\top h - \sum_i v_i\,(b_i + (h^\top W)_i)$: a sum over visible units,
# so they are independent and each is a logistic unit.
#
# ```python
# all_v = partition.binary_states(6).float()
# hh = h[:1].expand(64, -1)
# with torch.no_grad():
#     p = torch.softmax(-tiny.energy(all_v, hh), dim=0)        # p(v | h) over 64 states
#     print((p @ all_v) - torch.sigmoid(tiny.v_bias + h[0] @ tiny.W))   # ≈ 0
# ```
# </details>
#
# **2. Which layer to enumerate? (open)** An RBM with 784 visible and 20 hidden units: which sum do
# you
# enumerate for $Z$, and how many terms? What about 10 visible and 500 hidden units?
#
# <details><summary>Solution</summary>
#
# Always the smaller layer: $2^{20} \approx 10^6$ hidden configurations in the first case (each
# costs a 784-long softplus sum), $2^{10} = 1024$ visible configurations in the second.
# `rbm.RBM.log_partition` makes that choice itself and refuses when both layers exceed 25 units.
# </details>
#
# **3. The hidden conditional (checked).** Write `p_hidden(v, W, c)` returning $p(h_j = 1 \mid v)$
# for
# every row of `v` (batch, $n_v$), with `W` of shape $(n_h, n_v)$ as in `rbm.RBM`.
#
# <details><summary>Solution</summary>
#
# ```python
# def p_hidden(v, W, c):
#     return torch.sigmoid(v @ W.T + c)
# ```
# `v @ W` fails for a non-square $W$ (or silently uses the wrong weights for a square one), and
# the visible bias $b$ has no place here.
# </details>

# %% slideshow={"slide_type": "skip"}
def p_hidden(v, W, c):
    raise NotImplementedError  # your code here


checks.hidden_probabilities(p_hidden)

# %% [markdown] slideshow={"slide_type": "-"}
# **4. The free energy (checked).** Write `free_energy(v, W, b, c)` returning
# $F(v) = -b^\top v - \sum_j \operatorname{softplus}(c_j + W_j v)$ for every row of `v`. It must
# stay finite when $c_j + W_j v$ is in the hundreds.
#
# <details><summary>Solution</summary>
#
# ```python
# def free_energy(v, W, b, c):
#     return -(v @ b) - F.softplus(v @ W.T + c).sum(1)
# ```
# `torch.log(1 + torch.exp(a))` overflows to inf for $a$ above about 709 in float64 (88 in
# float32); `F.softplus` computes the same function stably.
# </details>

# %% slideshow={"slide_type": "skip"}
def free_energy(v, W, b, c):
    raise NotImplementedError  # your code here


checks.rbm_free_energy(free_energy)

# %% [markdown] slideshow={"slide_type": "-"}
# **5. The pseudo-log-likelihood, one flip (checked).** scikit-learn's `score_samples` flips
# one randomly chosen pixel $i$ of each image $v$ and returns
# $n_v \log \mathrm{sigm}\big(F(\tilde v) - F(v)\big)$, where $\tilde v$ is $v$ with pixel $i$
# flipped (that is $n_v \log p(v_i \mid v_{-i})$). Write `pll_one_flip(v, W, b, c, idx)` that
# does this with the pixel of row $n$ given as `idx[n]` instead of drawn. Then (open) call it
# five times on `digits_bin.x_test` with the trained `model`'s parameters and fresh random
# `idx`: how much does the mean change from call to call, and what does averaging over every
# pixel give?
#
# <details><summary>Solution</summary>
#
# ```python
# def pll_one_flip(v, W, b, c, idx):
#     flipped = v.clone()                                # never flip v itself
#     rows = torch.arange(v.shape[0])
#     flipped[rows, idx] = 1 - flipped[rows, idx]
#     return v.shape[1] * F.logsigmoid(free_energy(flipped, W, b, c) - free_energy(v, W, b, c))
#
# with torch.no_grad():
#     params = (model.W, model.v_bias, model.h_bias)
#     x = digits_bin.x_test
#     g = torch.Generator().manual_seed(0)
#     print([float(pll_one_flip(x, *params, torch.randint(0, 64, (len(x),), generator=g))
#                  .mean()) for _ in range(5)])
#     print(float(model.pseudo_log_likelihood(x, exact=True).mean()))   # all 64 pixels
# ```
# (`free_energy` is exercise 4's.) Each call flips a *random* pixel per image, so the estimate
# changes from call to call; its expectation over the pixel is the exact pseudo-log-likelihood
# $\sum_i \log p(v_i \mid v_{-i})$, which `pseudo_log_likelihood(v, exact=True)` computes. Even
# that is not the likelihood (notebook 04). `torch.log(torch.sigmoid(a))` returns $-\infty$ once
# $\mathrm{sigm}(a)$ underflows; `F.logsigmoid` does not.
# </details>

# %% slideshow={"slide_type": "skip"}
def pll_one_flip(v, W, b, c, idx):
    raise NotImplementedError  # your code here


checks.pseudo_likelihood_one_flip(pll_one_flip)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## References
#
# - P. Smolensky (1986). Information processing in dynamical systems: foundations of harmony
#   theory. In *Parallel Distributed Processing*, vol. 1, MIT Press.
# - Y. Freund, D. Haussler (1992). Unsupervised learning of distributions on binary vectors
#   using two layer networks. *NeurIPS* 4.
# - G. E. Hinton (2002). Training products of experts by minimizing contrastive divergence.
#   *Neural Computation* 14.
# - G. E. Hinton (2010). A practical guide to training restricted Boltzmann machines. UTML TR
#   2010-003, University of Toronto.
# - A. Fischer, C. Igel (2012). An introduction to restricted Boltzmann machines. *CIARP 2012*,
#   LNCS 7441.
# - T. Tieleman (2008). Training restricted Boltzmann machines using approximations to the
#   likelihood gradient. *ICML*.
# - F. Pedregosa et al. (2011). Scikit-learn: machine learning in Python. *JMLR* 12 (the
#   `BernoulliRBM` and its "RBM features for digit classification" example).
