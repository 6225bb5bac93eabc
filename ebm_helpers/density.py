"""Tractable density models for binary data: the baselines an RBM's likelihood is measured against.

Each model gives the exact log-probability log p(x) (nats, one number per example) of binary
vectors x ∈ {0, 1}^d and draws exact samples, with no partition function to estimate:

* ``IndependentBernoulli``: p(x) = Π_i μ_i^{x_i} (1 - μ_i)^{1 - x_i}, fitted by counting (with a
  pseudo-count, i.e. a Beta prior, so that a pixel never seen "on" keeps a small probability);
* ``BernoulliMixture``: p(x) = Σ_k π_k Π_i μ_ki^{x_i} (1 - μ_ki)^{1 - x_i}, fitted by
  expectation-maximisation (``fit_mixture_em``), whose objective never decreases;
* ``MADE`` (Germain, Gregor, Murray & Larochelle 2015): an autoregressive model
  p(x) = Π_d p(x_{o(d)} | x_{o(<d)}) computed in *one* pass of a masked autoencoder. Binary masks
  on the weights make output o(d) depend only on the inputs before it in the ordering o; with
  K mask sets ("connectivity-agnostic" training, several orderings) the model is the mixture
  p(x) = (1/K) Σ_k p_k(x), so log p(x) = logsumexp_k log p_k(x) - log K. (Averaging the
  *logits* of the K masks instead does not give a normalised distribution.)
  ``train_made`` fits it by Adam on the exact negative log-likelihood with early stopping on a
  validation split.

Used by notebook 13 (RBMs against modern alternatives), next to ``rbm`` (exact log Z, AIS).

Shapes: data are (n, d) float tensors holding only 0 and 1; ``log_prob`` returns (n,) in nats;
``sample(n, generator)`` returns (n, d) binary float tensors. Every random draw takes an
explicit ``torch.Generator``.
"""

from __future__ import annotations

import copy
import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from . import config
from ._training import DivergenceGuard, History, record_epoch
from ._validation import as_generator, as_module, as_points, count, non_negative, positive

__all__ = [
    "MADE",
    "BernoulliMixture",
    "DensityHistory",
    "IndependentBernoulli",
    "check_binary",
    "fit_mixture_em",
    "made_masks",
    "train_made",
]


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------


def check_binary(x, dim: int | None = None, name: str = "x") -> torch.Tensor:
    """Check that ``x`` is an (n, dim) floating tensor of zeros and ones and return it.

    Raises:
        ValueError: for a wrong shape or dtype, non-finite values, or values other than 0/1,
            saying how to binarise grey levels.
    """
    x = as_points(x, dim, name=name)
    if not bool(((x == 0) | (x == 1)).all()):
        lo, hi = float(x.min()), float(x.max())
        raise ValueError(
            f"{name} must be binary (0/1 values only): these models are distributions over "
            f"{{0, 1}}^d, but {name} has values in [{lo:g}, {hi:g}] other than 0 and 1. "
            f"Binarise it first, e.g. ({name} >= 0.5).float(), or load the data with "
            "binarize=True."
        )
    return x


def _log_bernoulli(x: torch.Tensor, mu: torch.Tensor) -> torch.Tensor:
    """Σ_i x_i log μ_i + (1 - x_i) log(1 - μ_i) for each pair (row of x, row of mu).

    x (n, d), mu (k, d) → (n, k); 0·log 0 = 0, so μ may be exactly 0 or 1.
    """
    if bool(((mu > 0) & (mu < 1)).all()):  # the usual case: one matrix product
        log_1m = torch.log1p(-mu)
        return x @ (torch.log(mu) - log_1m).T + log_1m.sum(1)
    log_mu = torch.where(mu > 0, torch.log(mu.clamp_min(1e-300)), torch.zeros_like(mu))
    log_1m = torch.where(mu < 1, torch.log1p(-mu.clamp_max(1 - 1e-16)), torch.zeros_like(mu))
    out = x @ log_mu.T + (1 - x) @ log_1m.T
    # where μ is exactly 0 (or 1) and x disagrees, the probability is exactly 0
    impossible = x @ (mu == 0).to(x.dtype).T + (1 - x) @ (mu == 1).to(x.dtype).T
    return torch.where(impossible > 0, torch.full_like(out, -math.inf), out)


def _bernoulli(p: torch.Tensor, generator) -> torch.Tensor:
    u = torch.rand(p.shape, generator=generator, dtype=p.dtype)
    return (u < p).to(p.dtype)


# --------------------------------------------------------------------------------------------
# Independent Bernoulli
# --------------------------------------------------------------------------------------------


class IndependentBernoulli:
    """Independent pixels: log p(x) = Σ_i x_i log μ_i + (1 - x_i) log(1 - μ_i).

    Args:
        probs: (d,) probabilities μ_i in [0, 1].

    ``IndependentBernoulli.fit(x, pseudo_count)`` estimates μ_i = (Σ_n x_ni + a) / (n + 2a),
    the posterior mean under a Beta(a, a) prior (a = 0: the maximum-likelihood frequency).
    """

    def __init__(self, probs):
        p = torch.as_tensor(probs).detach().double().reshape(-1)
        if p.numel() == 0 or not torch.isfinite(p).all() or (p < 0).any() or (p > 1).any():
            raise ValueError("probs must be a non-empty vector of probabilities in [0, 1]")
        self.probs = p

    @classmethod
    def fit(cls, x, pseudo_count: float = 1.0) -> IndependentBernoulli:
        """Fit to binary data x (n, d) by counting, with ``pseudo_count`` a ≥ 0."""
        x = check_binary(x).double()
        a = non_negative(pseudo_count, "pseudo_count")
        return cls((x.sum(0) + a) / (x.shape[0] + 2 * a))

    @property
    def n_in(self) -> int:
        return self.probs.shape[0]

    def log_prob(self, x) -> torch.Tensor:
        """Exact log p(x), nats, (n,) float64."""
        x = check_binary(x, self.n_in).double()
        return _log_bernoulli(x, self.probs[None])[:, 0]

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """(n, d) exact samples (float32)."""
        n = count(n, "n")
        return _bernoulli(self.probs.expand(n, -1), as_generator(generator)).float()

    def __repr__(self) -> str:
        return f"IndependentBernoulli(n_in={self.n_in})"


# --------------------------------------------------------------------------------------------
# Mixture of Bernoullis, fitted by EM
# --------------------------------------------------------------------------------------------


class BernoulliMixture:
    """A mixture of K independent-Bernoulli components.

    log p(x) = logsumexp_k [log π_k + Σ_i x_i log μ_ki + (1 - x_i) log(1 - μ_ki)].

    Args:
        weights: (K,) mixing weights π_k ≥ 0 (normalised to sum to 1).
        probs: (K, d) component probabilities μ_ki in [0, 1].
    """

    def __init__(self, weights, probs):
        w = torch.as_tensor(weights).detach().double().reshape(-1)
        mu = torch.as_tensor(probs).detach().double()
        if mu.ndim != 2 or mu.shape[0] != w.shape[0] or w.numel() == 0:
            raise ValueError(
                f"weights must be (K,) and probs (K, d) with the same K, got {tuple(w.shape)} "
                f"and {tuple(mu.shape)}"
            )
        if not torch.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise ValueError("weights must be finite, non-negative and not all zero")
        if not torch.isfinite(mu).all() or (mu < 0).any() or (mu > 1).any():
            raise ValueError("probs must hold probabilities in [0, 1]")
        self.weights = w / w.sum()
        self.probs = mu

    @property
    def n_components(self) -> int:
        return self.probs.shape[0]

    @property
    def n_in(self) -> int:
        return self.probs.shape[1]

    def joint_log_prob(self, x) -> torch.Tensor:
        """log π_k + log p(x | k) for every example and component: (n, K) float64."""
        x = check_binary(x, self.n_in).double()
        return torch.log(self.weights)[None] + _log_bernoulli(x, self.probs)

    def log_prob(self, x) -> torch.Tensor:
        """Exact log p(x), nats, (n,) float64."""
        return torch.logsumexp(self.joint_log_prob(x), 1)

    def responsibilities(self, x) -> torch.Tensor:
        """The E-step: r_nk = p(k | x_n) = π_k p(x_n | k) / Σ_j π_j p(x_n | j), (n, K)."""
        return torch.softmax(self.joint_log_prob(x), 1)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """(n, d) exact ancestral samples: k ~ π, then x ~ Bernoulli(μ_k) (float32)."""
        n = count(n, "n")
        generator = as_generator(generator)
        k = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        return _bernoulli(self.probs[k], generator).float()

    def __repr__(self) -> str:
        return f"BernoulliMixture(n_components={self.n_components}, n_in={self.n_in})"


@dataclass
class DensityHistory(History):
    """Per-iteration (EM) or per-epoch (MADE) record of a density model's fit.

    Attributes:
        metrics: lists by name, e.g. ``history["log_likelihood"]`` (EM) or
            ``history["val_nll"]`` (MADE); ``"seconds"`` is the cumulative fitting time.
        best_epoch: the epoch whose weights were kept (MADE with a validation set).
    """

    best_epoch: int | None = None


def _m_step(x: torch.Tensor, r: torch.Tensor, a: float) -> tuple[torch.Tensor, torch.Tensor]:
    """M-step: π_k = N_k / n and μ_k = (Σ_n r_nk x_n + a) / (N_k + 2a), N_k = Σ_n r_nk."""
    nk = r.sum(0)
    weights = nk / x.shape[0]
    probs = (r.T @ x + a) / (nk[:, None] + 2 * a)
    return weights.clamp_min(1e-300), probs.clamp(0.0, 1.0)


def _log_prior(model: BernoulliMixture, a: float) -> float:
    """log of the Beta(a + 1, a + 1) prior density on every μ_ki (up to a constant): the
    objective that EM with pseudo-count a maximises is log-likelihood + this."""
    if a == 0:
        return 0.0
    mu = model.probs
    return float(a * (torch.log(mu) + torch.log1p(-mu)).sum())


def fit_mixture_em(
    x,
    n_components: int,
    n_iter: int = 100,
    generator: torch.Generator | None = None,
    pseudo_count: float = 0.01,
    tol: float = 1e-6,
    init: BernoulliMixture | None = None,
    callback: Callable | None = None,
) -> tuple[BernoulliMixture, DensityHistory]:
    """Fit a mixture of Bernoullis to binary data by expectation-maximisation.

    E-step: r_nk = p(k | x_n) (``BernoulliMixture.responsibilities``). M-step:
    π_k = N_k / n, μ_k = (Σ_n r_nk x_n + a) / (N_k + 2a) with N_k = Σ_n r_nk and a the
    ``pseudo_count``: the maximum a posteriori update under a Beta(a + 1, a + 1) prior on each
    μ_ki (a = 0: maximum likelihood, which can set μ_ki to exactly 0 or 1 and then gives a test
    image an infinite negative log-likelihood). Each iteration cannot decrease the objective
    (average log-likelihood + log prior / n); ``history["objective"]`` records it and
    ``history["log_likelihood"]`` the average log-likelihood alone, both per example (nats).

    Initialisation (unless ``init``): π uniform, μ_k = ½ (the data mean) + ½ (a random training
    example) — centres spread over the data, not all at the mean (where EM would stay put).

    Args:
        x: (n, d) binary training data.
        n_components: K ≥ 1.
        n_iter: maximum number of EM iterations.
        generator: torch random generator (initialisation).
        pseudo_count: a ≥ 0 (0.01 by default: a negligible prior that keeps μ inside (0, 1)).
        tol: stop when the objective improves by less than this (nats per example).
        init: a ``BernoulliMixture`` to start from instead.
        callback: ``callback(iteration, model, metrics)`` after each iteration.

    Returns:
        (model, history).

    Raises:
        ValueError: for non-binary data, n_components > n, or bad settings.
    """
    x = check_binary(x).double()
    n, d = x.shape
    k = count(n_components, "n_components")
    generator = as_generator(generator)
    if k > n:
        raise ValueError(f"n_components = {k} exceeds the number of training examples ({n})")
    n_iter = count(n_iter, "n_iter", minimum=0)
    a = non_negative(pseudo_count, "pseudo_count")
    tol = non_negative(tol, "tol")
    if init is None:
        rows = torch.randperm(n, generator=generator)[:k]
        probs = 0.5 * x.mean(0, keepdim=True) + 0.5 * x[rows]
        model = BernoulliMixture(torch.full((k,), 1.0 / k, dtype=torch.float64), probs)
    else:
        if init.n_in != d:
            raise ValueError(f"init has {init.n_in} inputs but the data have {d}")
        model = BernoulliMixture(init.weights.clone(), init.probs.clone())
    history = DensityHistory()
    start = time.perf_counter()
    previous = -math.inf
    joint = model.joint_log_prob(x)
    for it in range(1, n_iter + 1):
        r = torch.softmax(joint, 1)  # E-step at the current parameters
        model = BernoulliMixture(*_m_step(x, r, a))
        # one evaluation per iteration: the new parameters' log-likelihood, reused by the
        # next E-step
        joint = torch.log(model.weights)[None] + _log_bernoulli(x, model.probs)
        ll = float(torch.logsumexp(joint, 1).mean())
        objective = ll + _log_prior(model, a) / n
        record_epoch(history, {"iteration": it, "log_likelihood": ll, "objective": objective,
                               "seconds": time.perf_counter() - start}, callback, it, model)
        if objective - previous < tol:
            break
        previous = objective
    return model, history


# --------------------------------------------------------------------------------------------
# MADE
# --------------------------------------------------------------------------------------------


def made_masks(
    n_in: int,
    hidden_sizes: Sequence[int],
    ordering: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    natural_ordering: bool = False,
) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
    """One set of MADE masks (Germain et al. 2015, Algorithm 1, with degrees starting at 1).

    Each input d gets a degree m⁰(d) = its position in the ordering (1 … D); each hidden unit k
    of layer l a degree m^l(k) drawn uniformly from {min_j m^{l-1}(j), …, D - 1}. A unit may
    see a unit of the layer below when its degree is at least as large,
    M^l[k, j] = [m^l(k) ≥ m^{l-1}(j)], and output d may see hidden unit k of the last layer
    when M^out[d, k] = [m⁰(d) > m^L(k)] (strict, so output d never sees input d or a later
    one). The direct input→output mask is M^dir[d, j] = [m⁰(d) > m⁰(j)].

    Args:
        n_in: D, the number of binary inputs (≥ 1).
        hidden_sizes: widths of the hidden layers (each ≥ 1).
        ordering: (D,) a permutation of 0 … D-1: ``ordering[i]`` is the input visited i-th;
            default random from ``generator`` (or the natural order with ``natural_ordering``).
        generator: torch random generator.
        natural_ordering: use 0, 1, …, D-1 when ``ordering`` is not given.

    Returns:
        (hidden_masks, output_mask, direct_mask): a list of (h_l, h_{l-1}) 0/1 float tensors,
        the (D, h_L) output mask and the (D, D) direct mask.
    """
    d = count(n_in, "n_in")
    sizes = [count(h, "each hidden size") for h in hidden_sizes]
    generator = as_generator(generator)
    if ordering is None:
        ordering = torch.arange(d) if natural_ordering else torch.randperm(d, generator=generator)
    ordering = torch.as_tensor(ordering, dtype=torch.int64).reshape(-1)
    if ordering.numel() != d or not torch.equal(torch.sort(ordering).values, torch.arange(d)):
        raise ValueError(f"ordering must be a permutation of 0 … {d - 1}")
    degree_in = torch.empty(d, dtype=torch.int64)
    degree_in[ordering] = torch.arange(1, d + 1)
    degrees = [degree_in]
    masks = []
    for h in sizes:
        low = int(degrees[-1].min())
        high = max(low, d - 1)  # with D = 1 there is nothing to condition on
        deg = torch.randint(low, high + 1, (h,), generator=generator)
        masks.append((deg[:, None] >= degrees[-1][None, :]).float())
        degrees.append(deg)
    out = (degree_in[:, None] > degrees[-1][None, :]).float()
    direct = (degree_in[:, None] > degree_in[None, :]).float()
    return masks, out, direct


class MADE(nn.Module):
    """Masked autoencoder for distribution estimation over {0, 1}^D (Germain et al. 2015).

    logits = W_out·(M_out ⊙) h_L + b_out [+ (M_dir ⊙ V) x], h_l = relu((M_l ⊙ W_l) h_{l-1} + b_l),
    h_0 = x; p(x_d = 1 | x_{<d}) = sigm(logit_d) under the ordering of the active mask set.
    With K mask sets the model is the uniform mixture of the K autoregressive models.

    Args:
        n_in: D, the number of binary inputs.
        hidden_sizes: hidden layer widths, e.g. ``[500]``.
        n_masks: K, the number of mask sets (orderings and connectivities) drawn once at
            construction; training cycles through them (connectivity-agnostic training) and
            ``log_prob`` averages the K *probabilities* (a normalised mixture).
        direct: add the masked direct input→output connections.
        natural_ordering: mask set 0 uses the order 0 … D-1 (the others stay random).
        generator: torch random generator (weights and masks).

    Attributes:
        masks: buffers ``mask_{l}_{k}`` per layer and mask set (read them with ``mask(k)``).
    """

    def __init__(
        self,
        n_in: int,
        hidden_sizes: Sequence[int],
        n_masks: int = 1,
        direct: bool = False,
        natural_ordering: bool = False,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        self.n_in = count(n_in, "n_in")
        if isinstance(hidden_sizes, int):
            hidden_sizes = [hidden_sizes]
        self.hidden_sizes = [count(h, "each hidden size") for h in hidden_sizes]
        self.n_masks = count(n_masks, "n_masks")
        self.direct = bool(direct)
        generator = as_generator(generator)
        sizes = [self.n_in, *self.hidden_sizes]
        # skip_init: no draw from the global generator; _init_weights fills every parameter
        self.layers = nn.ModuleList(nn.utils.skip_init(nn.Linear, a, b)
                                    for a, b in itertools.pairwise(sizes))
        self.out = nn.utils.skip_init(nn.Linear, sizes[-1], self.n_in)
        self.skip = (nn.utils.skip_init(nn.Linear, self.n_in, self.n_in, bias=False)
                     if self.direct else None)
        self._init_weights(generator)
        for k in range(self.n_masks):
            hidden, out, direct_mask = made_masks(
                self.n_in, self.hidden_sizes, generator=generator,
                natural_ordering=natural_ordering and k == 0)
            for layer, m in enumerate([*hidden, out, direct_mask]):
                self.register_buffer(f"mask_{layer}_{k}", m)
        self.active = 0

    def _init_weights(self, generator) -> None:
        # PyTorch's default nn.Linear initialisation (uniform ±1/√fan_in), from our generator
        with torch.no_grad():
            for lin in [*self.layers, self.out, *([self.skip] if self.skip else [])]:
                bound = 1.0 / math.sqrt(lin.in_features)
                lin.weight.copy_(torch.rand(lin.weight.shape, generator=generator) * 2 * bound
                                 - bound)
                if lin.bias is not None:
                    lin.bias.copy_(torch.rand(lin.bias.shape, generator=generator) * 2 * bound
                                   - bound)

    def mask(self, k: int) -> list[torch.Tensor]:
        """The masks of mask set k: hidden layers …, output, direct."""
        n = len(self.hidden_sizes) + 2
        return [getattr(self, f"mask_{layer}_{k}") for layer in range(n)]

    def ordering(self, k: int = 0) -> torch.Tensor:
        """The input ordering of mask set k: (D,) indices, first-visited first."""
        direct = self.mask(self._mask_index(k))[-1]
        return torch.argsort(direct.sum(1), stable=True)  # degree - 1 = number of parents

    def _mask_index(self, k) -> int:
        k = count(k, "mask_index", minimum=0)
        if k >= self.n_masks:
            raise ValueError(f"mask_index must be in 0 … {self.n_masks - 1}, got {k}")
        return k

    def forward(self, x: torch.Tensor, mask_index: int | None = None) -> torch.Tensor:
        """Logits (n, D) of p(x_d = 1 | x_{<d}) under mask set ``mask_index`` (default: the
        active one, which ``train_made`` cycles)."""
        k = self.active if mask_index is None else self._mask_index(mask_index)
        masks = self.mask(k)
        h = x
        for lin, m in zip(self.layers, masks[:-2], strict=True):
            h = F.relu(F.linear(h, lin.weight * m, lin.bias))
        logits = F.linear(h, self.out.weight * masks[-2], self.out.bias)
        if self.skip is not None:
            logits = logits + F.linear(x, self.skip.weight * masks[-1])
        return logits

    def _check(self, x) -> torch.Tensor:
        x = check_binary(x, self.n_in)
        p = next(self.parameters())
        return x.to(device=p.device, dtype=p.dtype)

    def log_prob_per_mask(self, x) -> torch.Tensor:
        """log p_k(x) for every mask set: (n, K), nats."""
        x = self._check(x)
        return torch.stack(
            [-F.binary_cross_entropy_with_logits(self(x, k), x, reduction="none").sum(1)
             for k in range(self.n_masks)], 1)

    def log_prob(self, x, mask_index: int | None = None) -> torch.Tensor:
        """Exact log p(x) in nats, (n,).

        With ``mask_index`` None: the mixture over all K mask sets,
        log p(x) = logsumexp_k log p_k(x) - log K; else the single model p_k.
        """
        if mask_index is not None:
            x = self._check(x)
            logits = self(x, self._mask_index(mask_index))
            return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
        return torch.logsumexp(self.log_prob_per_mask(x), 1) - math.log(self.n_masks)

    @torch.no_grad()
    def sample(
        self, n: int, generator: torch.Generator | None = None, mask_index: int | None = None
    ) -> torch.Tensor:
        """(n, D) exact ancestral samples: for each sample a mask set k (uniform, unless
        ``mask_index``), then x_{o(1)}, x_{o(2)}, … one at a time — D network passes.

        Returns float tensors of 0/1 on the model's device.
        """
        n = count(n, "n")
        generator = as_generator(generator)
        p = next(self.parameters())
        if mask_index is None:
            which = torch.randint(self.n_masks, (n,), generator=generator)
        else:
            which = torch.full((n,), self._mask_index(mask_index), dtype=torch.int64)
        x = torch.zeros(n, self.n_in, dtype=p.dtype, device=p.device)
        for k in range(self.n_masks):
            rows = torch.nonzero(which == k).reshape(-1)
            if rows.numel() == 0:
                continue
            xk = torch.zeros(rows.numel(), self.n_in, dtype=p.dtype)
            for d in self.ordering(k).tolist():
                prob = torch.sigmoid(self(xk.to(p.device), k)[:, d]).cpu()
                u = torch.rand(prob.shape, generator=generator, dtype=prob.dtype)
                xk[:, d] = (u < prob).to(xk.dtype)
            x[rows.to(p.device)] = xk.to(p.device)
        return x


def train_made(
    model: MADE,
    x_train,
    epochs: int,
    batch_size: int = 100,
    lr: float = 1e-3,
    generator: torch.Generator | None = None,
    x_val=None,
    patience: int | None = None,
    weight_decay: float = 0.0,
    callback: Callable | None = None,
    progress: bool | None = None,
) -> DensityHistory:
    """Fit a ``MADE`` by Adam on the exact negative log-likelihood (nats per example).

    Each epoch visits the training rows once in a fresh random order; minibatch b uses mask
    set b mod K (with K = 1 always the same). With ``x_val`` the validation NLL of the mixture
    over all K mask sets is recorded after each epoch, the weights of the best epoch are kept
    (restored at the end), and with ``patience`` training stops after that many epochs
    without improvement (early stopping: the model's capacity is chosen on validation data,
    never on the test set).

    Args:
        model: the ``MADE``, trained in place.
        x_train: (n, D) binary training data.
        epochs: maximum passes over the data.
        batch_size: examples per Adam step.
        lr: Adam learning rate.
        generator: torch random generator (shuffling).
        x_val: (m, D) binary validation data, or ``None``.
        patience: epochs without validation improvement before stopping (needs ``x_val``).
        weight_decay: Adam's L2 coefficient.
        callback: ``callback(epoch, model, metrics)`` after each epoch.
        progress: a ``tqdm`` bar (``None``: unless ``config.progress_disabled()``).

    Returns:
        A ``DensityHistory`` with ``"epoch"``, ``"train_nll"``, ``"val_nll"`` (with
        ``x_val``) and ``"seconds"`` per epoch, and ``best_epoch``.

    Raises:
        ValueError: for bad data or settings (``TypeError`` too for a model that is not a
            ``MADE`` or a generator that is not a ``torch.Generator``).
        RuntimeError: when the loss or the weights become non-finite or run away (lower the
            learning rate), from the package's shared divergence guard.
    """
    from tqdm.auto import tqdm

    as_module(model, cls=MADE, hint="; build one with density.MADE(n_in, hidden_sizes)")
    generator = as_generator(generator)
    x = model._check(x_train)
    xv = None if x_val is None else model._check(x_val)
    epochs = count(epochs, "epochs", minimum=0)
    batch_size = count(batch_size, "batch_size")
    lr = positive(lr, "lr", "; 1e-3 is Adam's usual value")
    weight_decay = non_negative(weight_decay, "weight_decay")
    if patience is not None:
        patience = count(patience, "patience")
        if xv is None:
            raise ValueError("patience (early stopping) needs validation data: pass x_val")
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    guard = DivergenceGuard("MADE training", f"lower the learning rate (now {lr:g}), e.g. 10× "
                            "(1e-3 is Adam's usual value)", params=list(model.parameters()))
    history = DensityHistory()
    best, best_state, since_best = math.inf, None, 0
    show = (not config.progress_disabled()) if progress is None else bool(progress)
    start = time.perf_counter()
    step = 0
    for epoch in tqdm(range(1, epochs + 1), desc="MADE", disable=not show, leave=False):
        model.train()
        order = torch.randperm(x.shape[0], generator=generator).to(x.device)
        total = 0.0
        for s in range(0, x.shape[0], batch_size):
            xb = x[order[s : s + batch_size]]
            model.active = step % model.n_masks
            step += 1
            loss = F.binary_cross_entropy_with_logits(model(xb), xb, reduction="sum") / len(xb)
            value = guard.check_loss(f"in epoch {epoch}", loss)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += value * len(xb)
        guard.check_params(f"in epoch {epoch}")
        model.active = 0
        metrics = {"epoch": epoch, "train_nll": total / x.shape[0]}
        if xv is not None:
            model.eval()
            with torch.no_grad():
                val = float(-model.log_prob(xv).mean())
            metrics["val_nll"] = val
            if val < best:
                best, since_best = val, 0
                best_state = copy.deepcopy(model.state_dict())
                history.best_epoch = epoch
            else:
                since_best += 1
        metrics["seconds"] = time.perf_counter() - start
        record_epoch(history, metrics, callback, epoch, model)
        if patience is not None and since_best >= patience:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history
