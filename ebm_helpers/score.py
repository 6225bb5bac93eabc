"""Score matching: learning ∇ₓ log p(x) from samples, and sampling with it (notebook 08).

The *score* of a density is s(x) = ∇ₓ log p(x) = -∇ₓE(x): it needs no normaliser, so a model
of the score can be fitted without ever computing Z. This module holds

* the three score-matching objectives, each with the equation in its docstring:
  ``exact_score_matching_loss`` (Hyvärinen 2005, with the Jacobian trace by autograd, one
  backward pass per coordinate — exact, and cheap in 2D), ``sliced_score_matching_loss``
  (Song, Garg, Shi & Ermon 2019; Rademacher or Gaussian projections, and the variance-reduced
  SSM-VR form) and ``denoising_score_matching_loss`` (Vincent 2011; one or several noise levels
  with the NCSN weighting λ(σ) = σ²);
* score models for 2D data: ``ScoreNet`` (an MLP x ↦ s(x)) and ``NoiseConditionalScoreNet``
  (an MLP of (x, log σ) whose output is divided by σ, Song & Ermon 2019/2020);
* ``train_score``: one Adam loop for every loss, with a divergence guard;
* the noise-level machinery of NCSN: ``geometric_sigmas`` and ``annealed_langevin``
  (Song & Ermon 2019);
* ground truth for checking all of it: ``PerturbedMixture`` (the closed-form density and score
  of a Gaussian mixture convolved with N(0, σ²I)), ``two_mode_mixture`` (the notebook's
  unequal-weight example), ``score_mse`` and ``mode_fractions``.

Conventions. Points are (batch, dim) tensors. An *unconditional* score model is a callable
x ↦ s(x), (batch, dim) → (batch, dim). A *noise-conditional* one is a callable
(x, σ) ↦ s(x, σ) with σ a (batch,) tensor, and says so with an attribute
``noise_conditional = True`` (set it on a plain function with ``fn.noise_conditional = True``).
Every random draw takes an explicit ``torch.Generator``. Used by notebook 08 (and 09 reads the
same ideas as diffusion).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from . import _nets
from ._training import DivergenceGuard, History
from ._validation import (
    ArgumentTypeError,
    as_generator,
    as_model_input,
    as_module,
    as_points,
    check_memory,
    choice,
    count,
    positive,
)
from .energies import GaussianMixture
from .samplers import Chain

__all__ = [
    "NoiseConditionalScoreNet",
    "PerturbedMixture",
    "ScoreHistory",
    "ScoreNet",
    "annealed_langevin",
    "denoising_score_matching_loss",
    "exact_score_matching_loss",
    "geometric_sigmas",
    "is_noise_conditional",
    "mode_fractions",
    "score_mse",
    "sliced_score_matching_loss",
    "train_score",
    "two_mode_mixture",
]

ScoreFn = Callable[..., torch.Tensor]
LOSSES = ("esm", "ssm", "ssm_vr", "dsm")


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------


def is_noise_conditional(score_fn) -> bool:
    """Whether ``score_fn`` takes (x, σ) (it has ``noise_conditional = True``) rather than x."""
    return bool(getattr(score_fn, "noise_conditional", False))


def _check_fn(score_fn) -> None:
    if not callable(score_fn):
        raise ArgumentTypeError(
            "score_fn must be a callable mapping (batch, dim) points to (batch, dim) scores "
            "(an nn.Module or a function)"
        )


def _scores(score_fn, x: torch.Tensor, sigma: torch.Tensor | None = None) -> torch.Tensor:
    """Call a score model and check that it returned a (batch, dim) tensor."""
    s = score_fn(x, sigma) if sigma is not None else score_fn(x)
    if not isinstance(s, torch.Tensor) or s.shape != x.shape:
        shape = tuple(s.shape) if isinstance(s, torch.Tensor) else type(s).__name__
        raise ValueError(
            f"the score model must return one score per point, shape {tuple(x.shape)}, got "
            f"{shape}; a score is a vector field (batch, dim) → (batch, dim), not an energy"
        )
    return s


def _sigmas(sigmas, name: str = "sigmas") -> torch.Tensor:
    """A 1D float64 tensor of positive, finite noise levels."""
    try:
        s = torch.as_tensor(np.asarray(sigmas, dtype=np.float64)).reshape(-1)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a positive number or a 1D list of them: {err}") from err
    if s.numel() == 0:
        raise ValueError(f"{name} is empty; give at least one noise level σ > 0")
    if not (torch.isfinite(s).all() and (s > 0).all()):
        raise ValueError(
            f"every noise level in {name} must be a finite number > 0, got {s.tolist()}; "
            "σ = 0 would leave the data unperturbed, and the DSM target -z/σ would blow up"
        )
    return s


def _check_reduction(reduction: str) -> None:
    if reduction not in {"mean", "none"}:
        raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")


def _reduce(per_sample: torch.Tensor, reduction: str) -> torch.Tensor:
    return per_sample.mean() if reduction == "mean" else per_sample


# --------------------------------------------------------------------------------------------
# The three objectives
# --------------------------------------------------------------------------------------------


def exact_score_matching_loss(score_fn: ScoreFn, x, reduction: str = "mean") -> torch.Tensor:
    """Hyvärinen's (2005) score-matching objective, with the Jacobian trace computed exactly.

    J(θ) = E_p[ ½ |s_θ(x)|² + tr ∇ₓ s_θ(x) ],

    which equals ½ E_p |s_θ(x) - ∇ log p(x)|² minus a constant (integration by parts), so it
    is minimised by the true score without knowing it. The trace needs the diagonal of the
    Jacobian: entry i is ∂s_i/∂x_i, one backward pass of Σ_batch s_i per coordinate (samples
    do not interact, so the batch sum separates). Cost: ``dim`` backward passes, fine in 2D,
    hopeless for images — hence the sliced and denoising objectives.

    Args:
        score_fn: unconditional score model, (batch, dim) → (batch, dim), differentiable
            twice (smooth activations: a ReLU network has a zero trace almost everywhere).
        x: (batch, dim) data points.
        reduction: ``"mean"`` (a scalar, differentiable in θ) or ``"none"`` ((batch,)).

    Returns:
        The objective, a scalar or (batch,) per-sample values.
    """
    _check_fn(score_fn)
    _check_reduction(reduction)
    x = as_points(x).detach().requires_grad_(True)
    with torch.enable_grad():
        s = _scores(score_fn, x)
        trace = torch.zeros(x.shape[0], dtype=s.dtype, device=s.device)
        if s.requires_grad:  # a constant field has a zero Jacobian
            for i in range(x.shape[1]):
                (g,) = torch.autograd.grad(s[:, i].sum(), x, create_graph=True, allow_unused=True)
                if g is not None:
                    trace = trace + g[:, i]
        per_sample = 0.5 * (s**2).sum(dim=1) + trace
    return _reduce(per_sample, reduction)


def _projections(n: int, dim: int, kind: str, generator, dtype) -> torch.Tensor:
    if kind == "rademacher":
        return torch.randint(0, 2, (n, dim), generator=generator).to(dtype) * 2 - 1
    if kind == "gaussian":
        return torch.randn(n, dim, generator=generator, dtype=dtype)
    raise ValueError(f"projection must be 'rademacher' or 'gaussian', got {kind!r}")


def sliced_score_matching_loss(
    score_fn: ScoreFn,
    x,
    n_projections: int = 1,
    projection: str = "rademacher",
    variance_reduction: bool = False,
    generator: torch.Generator | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    """Sliced score matching (Song, Garg, Shi & Ermon 2019): the trace by random projections.

    For random directions v with E[v vᵀ] = I (Rademacher ±1 or standard Gaussian),
    E_v[vᵀ A v] = tr A, so

    J_SSM(θ) = E_p E_v[ vᵀ ∇ₓs_θ(x) v + ½ (vᵀ s_θ(x))² ]

    has the same expectation as the exact objective, and vᵀ∇s v = vᵀ ∇ₓ(vᵀ s) needs a single
    backward pass whatever the dimension. The variance-reduced form (SSM-VR) keeps the
    projection only where it is needed and takes the other expectation in closed form,
    E_v[½ (vᵀs)²] = ½ |s|²:

    J_SSM-VR(θ) = E_p E_v[ vᵀ ∇ₓs_θ(x) v + ½ |s_θ(x)|² ].

    Args:
        score_fn: unconditional score model, (batch, dim) → (batch, dim).
        x: (batch, dim) data points.
        n_projections: directions per data point (averaged).
        projection: ``"rademacher"`` or ``"gaussian"``.
        variance_reduction: use the SSM-VR form.
        generator: torch random generator for the directions.
        reduction: ``"mean"`` or ``"none"`` (per data point, averaged over its projections).

    Returns:
        The objective, a scalar or (batch,).
    """
    _check_fn(score_fn)
    _check_reduction(reduction)
    m = count(n_projections, "n_projections")
    as_generator(generator)
    x = as_points(x).detach()
    n, d = x.shape
    check_memory(4 * m * n * d, "n_projections or the batch",
                 f"{m} projections of {n} points (with their autograd graph)")
    v = _projections(m * n, d, projection, generator, x.dtype)  # (m·n, d), rows k·n + b
    xr = x.repeat(m, 1).requires_grad_(True)
    with torch.enable_grad():
        s = _scores(score_fn, xr)
        sv = (s * v).sum(dim=1)  # vᵀ s(x)
        if sv.requires_grad:
            (g,) = torch.autograd.grad(sv.sum(), xr, create_graph=True, allow_unused=True)
            vjv = (g * v).sum(dim=1) if g is not None else torch.zeros_like(sv)
        else:
            vjv = torch.zeros_like(sv)
        second = 0.5 * (s**2).sum(dim=1) if variance_reduction else 0.5 * sv**2
        per = (vjv + second).reshape(m, n).mean(dim=0)
    return _reduce(per, reduction)


def denoising_score_matching_loss(
    score_fn: ScoreFn,
    x,
    sigmas,
    generator: torch.Generator | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    """Denoising score matching (Vincent 2011), over one or several noise levels (NCSN).

    Perturb the data, x̃ = x + σz with z ~ N(0, I). The score of the Gaussian kernel is
    ∇ₓ̃ log q_σ(x̃ | x) = -(x̃ - x)/σ² = -z/σ, and regressing onto it,

    ℓ(θ; σ) = ½ E_{x, z}| s_θ(x̃, σ) + z/σ |²,

    has the same minimiser as ½ E|s_θ(x̃, σ) - ∇ log p_σ(x̃)|², the score of the *perturbed*
    density p_σ = p * N(0, σ²I): no derivatives of the model at all. With several levels each
    example draws one σ uniformly from ``sigmas`` and the loss is weighted by λ(σ) = σ²
    (Song & Ermon 2019), which makes every level contribute on the same scale:

    L(θ) = E_σ[ λ(σ) ℓ(θ; σ) ] = ½ E_{σ, x, z} | σ s_θ(x̃, σ) + z |².

    Args:
        score_fn: a noise-conditional model (x, σ) ↦ s(x, σ) (``noise_conditional = True``),
            or, for a single noise level only, an unconditional model x ↦ s(x).
        x: (batch, dim) clean data.
        sigmas: a noise level σ > 0 or a 1D list of them.
        generator: torch random generator for σ and z.
        reduction: ``"mean"`` or ``"none"`` ((batch,)).

    Returns:
        The σ²-weighted loss, a scalar or (batch,).
    """
    _check_fn(score_fn)
    _check_reduction(reduction)
    x = as_points(x)
    as_generator(generator)
    levels = _sigmas(sigmas).to(x.dtype)
    conditional = is_noise_conditional(score_fn)
    if levels.numel() > 1 and not conditional:
        raise ValueError(
            f"{levels.numel()} noise levels need a noise-conditional model s(x, σ) that can "
            "tell them apart (e.g. NoiseConditionalScoreNet, or set fn.noise_conditional = "
            "True on a function of (x, sigma)); an unconditional model takes one sigma"
        )
    n = x.shape[0]
    if levels.numel() == 1:
        sigma = levels.expand(n)
    else:
        sigma = levels[torch.randint(0, levels.numel(), (n,), generator=generator)]
    z = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    x_noisy = x + sigma[:, None] * z
    s = _scores(score_fn, x_noisy, sigma if conditional else None)
    per_sample = 0.5 * ((sigma[:, None] * s + z) ** 2).sum(dim=1)
    return _reduce(per_sample, reduction)


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------


def _mlp(in_dim: int, out_dim: int, hidden: int, n_layers: int, generator) -> nn.Sequential:
    """An MLP with SiLU activations (smooth, so second derivatives exist for exact SM),
    initialised like ``nn.Linear`` but from ``generator``."""
    hidden = count(hidden, "hidden")
    n_layers = count(n_layers, "n_layers")
    generator = as_generator(generator)
    sizes = [in_dim] + [hidden] * n_layers + [out_dim]
    layers: list[nn.Module] = []
    for k, (a, b) in enumerate(itertools.pairwise(sizes)):
        with _nets.deferred(generator):  # with a generator: no global random numbers drawn
            lin = nn.Linear(a, b)
        if generator is None:
            bound = 1 / math.sqrt(a)  # nn.Linear's default: U(-1/√fan_in, 1/√fan_in)
            with torch.no_grad():
                nn.init.uniform_(lin.weight, -bound, bound)
                nn.init.uniform_(lin.bias, -bound, bound)
        layers.append(lin)
        if k < len(sizes) - 2:
            layers.append(nn.SiLU())
    return _nets.materialize_(nn.Sequential(*layers), generator)


class ScoreNet(nn.Module):
    """An unconditional score model s_θ(x): an MLP from (batch, dim) to (batch, dim).

    SiLU activations keep s_θ twice differentiable, which exact and sliced score matching need
    (they differentiate the score itself while training).

    Args:
        dim: data dimension.
        hidden: units per hidden layer.
        n_layers: number of hidden layers.
        generator: torch random generator for the initial weights.
    """

    noise_conditional = False

    def __init__(self, dim: int = 2, hidden: int = 64, n_layers: int = 2,
                 generator: torch.Generator | None = None):
        super().__init__()
        self.dim = count(dim, "dim")
        self.net = _mlp(self.dim, self.dim, hidden, n_layers, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """s_θ(x), (batch, dim) → (batch, dim) (inputs converted to the weights' dtype)."""
        return self.net(as_model_input(x, self.net[0].weight, self.dim))


class NoiseConditionalScoreNet(nn.Module):
    """A noise-conditional score model for low-dimensional data (NCSN, Song & Ermon 2019).

    s_θ(x, σ) = f_θ([x, log σ]) / σ, with f_θ an MLP. The input log σ tells the levels apart;
    dividing by σ is Song & Ermon's (2020) observation that ‖∇ log p_σ‖ ∝ 1/σ, so f_θ has
    outputs of order one at every level (and the σ²-weighted DSM loss becomes
    ½|f_θ(x̃, σ) + z|²).

    Args:
        dim: data dimension.
        hidden: units per hidden layer.
        n_layers: number of hidden layers.
        generator: torch random generator for the initial weights.
    """

    noise_conditional = True

    def __init__(self, dim: int = 2, hidden: int = 128, n_layers: int = 3,
                 generator: torch.Generator | None = None):
        super().__init__()
        self.dim = count(dim, "dim")
        self.net = _mlp(self.dim + 1, self.dim, hidden, n_layers, generator)

    def forward(self, x: torch.Tensor, sigma) -> torch.Tensor:
        """s_θ(x, σ), x (batch, dim) and σ > 0 a number or (batch,) → (batch, dim)."""
        x = as_model_input(x, self.net[0].weight, self.dim)
        try:
            sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).reshape(-1)
        except (TypeError, ValueError, RuntimeError) as err:
            raise ValueError(f"sigma must be a number or a ({x.shape[0]},) tensor of noise "
                             f"levels: {err}") from err
        sigma = sigma.expand(x.shape[0]) if sigma.numel() == 1 else sigma
        if sigma.shape != (x.shape[0],):
            raise ValueError(f"sigma must be a number or have shape ({x.shape[0]},), "
                             f"got {tuple(sigma.shape)}")
        if not bool((torch.isfinite(sigma) & (sigma > 0)).all()):
            raise ValueError(
                f"every noise level sigma must be a finite number > 0, got values in "
                f"[{float(sigma.min()):g}, {float(sigma.max()):g}]; the network takes log σ and "
                "divides by σ, so σ = 0 gives NaN (the score of unperturbed data is not defined "
                "by this model: use the smallest σ it was trained on)"
            )
        h = torch.cat([x, torch.log(sigma)[:, None]], dim=1)
        return self.net(h) / sigma[:, None]


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


@dataclass
class ScoreHistory(History):
    """Record of ``train_score``: ``"step"`` (the last step of each logging interval),
    ``"loss"`` (the mean training loss over that interval) and ``"seconds"`` (cumulative
    training time), one entry per interval of ``log_every`` steps."""


def _loss_fn(loss, sigmas, n_projections, projection):
    if callable(loss):
        return loss
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES} or a callable, got {loss!r}")
    if loss == "dsm":
        if sigmas is None:
            raise ValueError("loss='dsm' needs the noise level(s): pass sigmas=0.1 or a list")
        levels = _sigmas(sigmas)
        return lambda model, x, g: denoising_score_matching_loss(model, x, levels, generator=g)
    if sigmas is not None:
        raise ValueError(f"sigmas is only used by loss='dsm', not {loss!r}")
    if loss == "esm":
        return lambda model, x, g: exact_score_matching_loss(model, x)
    vr = loss == "ssm_vr"
    return lambda model, x, g: sliced_score_matching_loss(
        model, x, n_projections, projection, variance_reduction=vr, generator=g)


def train_score(
    model: nn.Module,
    data,
    loss: str | Callable = "dsm",
    n_steps: int = 2000,
    batch_size: int = 256,
    lr: float = 1e-3,
    sigmas=None,
    n_projections: int = 1,
    projection: str = "rademacher",
    generator: torch.Generator | None = None,
    log_every: int = 100,
    progress: bool | None = None,
    lr_schedule: str = "constant",
) -> ScoreHistory:
    """Fit a score model with Adam on minibatches drawn (with replacement) from ``data``.

    One loop for every objective: ``loss`` is ``"esm"`` (exact, Hyvärinen),
    ``"ssm"`` / ``"ssm_vr"`` (sliced, plain or variance-reduced), ``"dsm"`` (denoising, with
    ``sigmas``), or a callable ``loss(model, batch, generator) -> scalar``.

    Args:
        model: the score model (``ScoreNet``, ``NoiseConditionalScoreNet`` or any module).
        data: (n, dim) training points.
        loss: which objective (see above).
        n_steps: number of Adam updates.
        batch_size: points per update.
        lr: Adam's learning rate.
        sigmas: the noise level(s) for ``"dsm"``.
        n_projections, projection: for the sliced objectives.
        generator: torch random generator (minibatches, projections, noise).
        log_every: steps per entry of the returned history.
        progress: show a tqdm bar; ``None`` follows ``config.progress_disabled()``.
        lr_schedule: ``"constant"``, or ``"cosine"`` (lr·½(1 + cos(π·step/n_steps)), down to
            zero at the end: the stochastic losses are noisy, and a decaying rate averages
            the noise out of the final weights).

    Returns:
        A ``ScoreHistory``.

    Raises:
        ValueError: for bad data or settings, saying what to change.
        RuntimeError: when the loss becomes NaN or infinite (training diverged), with the fix.
    """
    from tqdm.auto import tqdm

    from . import config

    as_module(model, hint="; with parameters to train, e.g. score.ScoreNet(dim)")
    as_generator(generator)
    x = as_points(data, name="data")
    n_steps = count(n_steps, "n_steps", minimum=0)
    batch_size = count(batch_size, "batch_size")
    lr = positive(lr, "lr", "; 1e-3 is a good start for Adam")
    log_every = count(log_every, "log_every")
    fn = _loss_fn(loss, sigmas, n_projections, projection)
    choice(lr_schedule, "lr_schedule", ("constant", "cosine"))
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no trainable parameters")
    x = x.to(params[0].dtype)
    opt = torch.optim.Adam(params, lr=lr)
    name = loss if isinstance(loss, str) else "loss"
    guard = DivergenceGuard(
        f"score training ({name})",
        f"lower the learning rate (lr = {lr:g}; try 10× smaller), and for 'dsm' check that the "
        "smallest sigma is not tiny compared with the data scale (standardise the data)",
        params=params)
    history = ScoreHistory()
    disable = config.progress_disabled() if progress is None else not progress
    running, n_run, elapsed = 0.0, 0, 0.0
    model.train()
    for step in tqdm(range(1, n_steps + 1), desc=f"train_score ({name})", disable=disable):
        t0 = time.perf_counter()
        if lr_schedule == "cosine":
            for group in opt.param_groups:
                group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * (step - 1) / n_steps))
        idx = torch.randint(0, x.shape[0], (min(batch_size, x.shape[0]),), generator=generator)
        value = fn(model, x[idx], generator)
        if not isinstance(value, torch.Tensor) or value.numel() != 1:
            raise ValueError(f"the loss must return a scalar tensor, got "
                             f"{tuple(value.shape) if isinstance(value, torch.Tensor) else value}")
        number = guard.check_loss(f"at step {step}", value)
        opt.zero_grad(set_to_none=True)
        value.backward()
        opt.step()
        elapsed += time.perf_counter() - t0
        running += number
        n_run += 1
        if step % log_every == 0 or step == n_steps:
            guard.check_params(f"at step {step}")
            history._add("step", step)
            history._add("loss", running / n_run)
            history._add("seconds", elapsed)
            running, n_run = 0.0, 0
    model.eval()
    return history


# --------------------------------------------------------------------------------------------
# Annealed Langevin dynamics (NCSN)
# --------------------------------------------------------------------------------------------


def geometric_sigmas(sigma_max: float, sigma_min: float, n_levels: int) -> torch.Tensor:
    """Noise levels σ_1 > σ_2 > … > σ_L in a geometric progression (Song & Ermon 2019).

    σ_i = σ_max · (σ_min/σ_max)^((i-1)/(L-1)), so σ_1 = σ_max, σ_L = σ_min and every ratio
    σ_i/σ_{i+1} is the same constant (σ_max/σ_min)^(1/(L-1)).

    Args:
        sigma_max: the largest level (≳ the largest distance between data points, Song & Ermon
            2020, so that the chains can travel between modes).
        sigma_min: the smallest level (small compared with the data's own spread).
        n_levels: L ≥ 1; with L = 1, sigma_max must equal sigma_min.

    Returns:
        A (L,) float64 tensor, decreasing.
    """
    hi = positive(sigma_max, "sigma_max")
    lo = positive(sigma_min, "sigma_min")
    try:
        n = count(n_levels, "n_levels (L)")
    except ValueError as err:
        raise ValueError(f"{err}; give L ≥ 1 noise levels (10 is typical in 2D)") from None
    if lo > hi:
        raise ValueError(f"sigma_min = {lo:g} must not exceed sigma_max = {hi:g}; swap them")
    if n == 1:
        if lo != hi:
            raise ValueError("with one level (L = 1) sigma_max must equal sigma_min; use L ≥ 2 "
                             "for a schedule from sigma_max down to sigma_min")
        return torch.tensor([hi], dtype=torch.float64)
    k = torch.arange(n, dtype=torch.float64) / (n - 1)
    return hi * (lo / hi) ** k


def annealed_langevin(
    score_fn: ScoreFn,
    x0,
    sigmas,
    n_steps_each: int = 100,
    eps: float = 2e-5,
    generator: torch.Generator | None = None,
    return_trace: bool = False,
) -> Chain:
    """Annealed Langevin dynamics (Song & Ermon 2019, Algorithm 1).

    For each level σ_i (largest first), T = ``n_steps_each`` Langevin steps on p_{σ_i}:

    x ← x + α_i s(x, σ_i) + √(2α_i) z,   z ~ N(0, I),   α_i = ε σ_i² / σ_L²,

    so α_i/σ_i² = ε/σ_L² is the same at every level: each level's step is the same fraction
    of its own length scale. At large σ the perturbed density is nearly one broad Gaussian,
    where chains mix in a few steps and the mass is shared out between modes by the right
    weights; as σ shrinks the chains are handed over to sharper and sharper densities and end
    near p = p_{σ_L}. (Same convention as ``samplers.langevin``: step α on ∇ log p, noise √(2α).)

    Args:
        score_fn: noise-conditional score (x, σ) ↦ s(x, σ), σ a (batch,) tensor
            (``noise_conditional = True``), e.g. ``NoiseConditionalScoreNet`` or
            ``PerturbedMixture``.
        x0: (batch, dim) starting points (e.g. uniform noise), one chain per row.
        sigmas: the levels, decreasing (``geometric_sigmas``).
        n_steps_each: T, Langevin steps per level.
        eps: ε, the step size at the smallest level.
        generator: torch random generator.
        return_trace: keep the states at the end of every level, (L + 1, batch, dim).

    Returns:
        A ``samplers.Chain`` (``acceptance_rate`` is ``None``: no Metropolis correction).

    Raises:
        RuntimeError: when a state becomes non-finite (ε too large), with the fix.
    """
    _check_fn(score_fn)
    if not is_noise_conditional(score_fn):
        raise ValueError(
            "annealed Langevin needs a noise-conditional score s(x, σ) (noise_conditional = "
            "True, e.g. NoiseConditionalScoreNet or PerturbedMixture); for one fixed density "
            "use samplers.langevin"
        )
    x = as_points(x0, name="x0").detach().clone()
    as_generator(generator)
    levels = _sigmas(sigmas)
    if return_trace:
        check_memory((levels.numel() + 1) * x.numel(), "the batch or the number of levels",
                     f"a trace of {levels.numel() + 1} states")
    if (levels[1:] > levels[:-1]).any():
        raise ValueError("sigmas must be in decreasing order (largest noise first), e.g. "
                         "geometric_sigmas(sigma_max, sigma_min, L)")
    t_each = count(n_steps_each, "n_steps_each")
    eps = positive(eps, "eps", "; e.g. 2e-5 with sigma_min = 0.01 (Song & Ermon 2019)")
    sigma_last = float(levels[-1])
    trace = [x.clone()] if return_trace else None
    for i, sigma in enumerate(levels.tolist()):
        alpha = eps * sigma**2 / sigma_last**2
        sig = torch.full((x.shape[0],), sigma, dtype=x.dtype)
        noise_scale = math.sqrt(2 * alpha)
        for _ in range(t_each):
            with torch.no_grad():
                s = _scores(score_fn, x, sig)
            x = x + alpha * s + noise_scale * torch.randn(x.shape, generator=generator,
                                                          dtype=x.dtype)
            if not torch.isfinite(x).all():
                raise RuntimeError(
                    f"annealed Langevin diverged at level {i + 1} (σ = {sigma:.3g}, step "
                    f"α = {alpha:.3g}): a state became NaN or infinite. Lower eps (now "
                    f"{eps:g}); α_i/σ_i² = eps/σ_L² should stay well below 1."
                )
        if return_trace:
            trace.append(x.clone())
    return Chain(x.detach(), torch.stack(trace) if return_trace else None, None)


# --------------------------------------------------------------------------------------------
# Ground truth: perturbed Gaussian mixtures, errors, mode fractions
# --------------------------------------------------------------------------------------------


def two_mode_mixture(weights=(0.8, 0.2), separation: float = 4.0, std: float = 0.5,
                     ) -> GaussianMixture:
    """Two isotropic Gaussians on the x₁ axis at ∓separation/2 with unequal weights.

    The example of notebook 08 (after Song & Ermon 2019, Fig. 3): with well separated modes,
    a Langevin chain stays in the basin it starts in, so plain Langevin gets the weights wrong.
    """
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"weights must be two numbers, got {weights!r}") from err
    if w.shape != (2,):
        raise ValueError(f"weights must be two numbers, got {weights!r}")
    half = positive(separation, "separation") / 2
    return GaussianMixture([[-half, 0.0], [half, 0.0]], positive(std, "std"), w,
                           name=f"two modes, weights {w[0]:g}/{w[1]:g}")


class PerturbedMixture:
    """A Gaussian mixture convolved with N(0, σ²I), in closed form: the ground truth of NCSN.

    p_σ(x) = Σ_k w_k N(x; μ_k, (σ_k² + σ²) I): adding independent Gaussian noise adds its
    variance to every component, and leaves the weights and means unchanged. Its score is

    ∇ log p_σ(x) = Σ_k r_k(x; σ) (μ_k - x) / (σ_k² + σ²),

    with r_k the responsibilities under p_σ. Called as ``fn(x, sigma)`` it is a
    noise-conditional score (``noise_conditional = True``) for ``annealed_langevin``.

    Args:
        mixture: an ``energies.GaussianMixture``.
    """

    noise_conditional = True

    def __init__(self, mixture: GaussianMixture):
        if not isinstance(mixture, GaussianMixture):
            raise ValueError("PerturbedMixture needs an energies.GaussianMixture (closed form)")
        self.mixture = mixture

    def at(self, sigma: float) -> GaussianMixture:
        """p_σ as a ``GaussianMixture`` (for sampling and plotting at one level; σ = 0 is p)."""
        s = float(sigma)
        if not (math.isfinite(s) and s >= 0):
            raise ValueError(f"sigma must be a finite number ≥ 0, got {sigma!r}")
        m = self.mixture
        return GaussianMixture(m.means, torch.sqrt(m.stds**2 + s**2), m.weights,
                               name=f"{m.name} * N(0, {s:.3g}²I)")

    def _terms(self, x, sigma):
        m = self.mixture
        x = as_points(x, m.dim)
        sig = torch.as_tensor(sigma, dtype=x.dtype).reshape(-1)
        sig = sig.expand(x.shape[0]) if sig.numel() == 1 else sig
        if sig.shape != (x.shape[0],) or not (torch.isfinite(sig).all() and (sig >= 0).all()):
            raise ValueError(f"sigma must be a number ≥ 0 or a ({x.shape[0]},) tensor of them")
        var = m.stds.to(x)[None, :] ** 2 + sig[:, None] ** 2  # (batch, K)
        d2 = ((x[:, None, :] - m.means.to(x)[None]) ** 2).sum(-1)
        logits = (torch.log(m.weights.to(x))[None] - 0.5 * d2 / var
                  - 0.5 * m.dim * torch.log(2 * math.pi * var))
        return x, var, logits

    def log_prob(self, x, sigma) -> torch.Tensor:
        """log p_σ(x), (batch, dim) → (batch,)."""
        _, _, logits = self._terms(x, sigma)
        return torch.logsumexp(logits, dim=1)

    def score(self, x, sigma) -> torch.Tensor:
        """∇ log p_σ(x), (batch, dim) → (batch, dim), σ a number or (batch,)."""
        x, var, logits = self._terms(x, sigma)
        r = torch.softmax(logits, dim=1) / var  # (batch, K)
        return r @ self.mixture.means.to(x) - r.sum(dim=1, keepdim=True) * x

    __call__ = score


def score_mse(score_fn: ScoreFn, true_score: ScoreFn, x, sigma: float | None = None,
              ) -> float:
    """Mean squared error of a score model at points x: mean_x |s_θ(x) - s(x)|².

    With x ~ p this estimates the Fisher divergence 2·F(p‖p_θ) = E_p|s_θ - ∇ log p|², the
    quantity score matching minimises. For noise-conditional models pass ``sigma``: both
    functions are then called with it.
    """
    _check_fn(score_fn)
    _check_fn(true_score)
    x = as_points(x)
    with torch.no_grad():
        if sigma is None:
            a, b = _scores(score_fn, x), _scores(true_score, x)
        else:
            sig = torch.full((x.shape[0],), positive(sigma, "sigma"), dtype=x.dtype)
            a, b = _scores(score_fn, x, sig), _scores(true_score, x, sig)
    return float(((a.to(torch.float64) - b.to(torch.float64)) ** 2).sum(dim=1).mean())


def mode_fractions(samples, means) -> torch.Tensor:
    """The fraction of samples nearest to each mean, (K,) summing to one.

    Args:
        samples: (n, dim) points.
        means: (K, dim) mode locations.
    """
    x = as_points(samples, name="samples")
    try:
        mu = torch.as_tensor(np.asarray(means, dtype=np.float64)).to(x.dtype)
    except (TypeError, ValueError) as err:
        raise ValueError(f"means must be a (K, {x.shape[1]}) array of numbers: {err}") from err
    if mu.ndim != 2 or mu.shape[1] != x.shape[1]:
        raise ValueError(f"means must have shape (K, {x.shape[1]}), got {tuple(mu.shape)}")
    nearest = torch.cdist(x, mu).argmin(dim=1)
    return torch.bincount(nearest, minlength=mu.shape[0]).to(torch.float64) / x.shape[0]
