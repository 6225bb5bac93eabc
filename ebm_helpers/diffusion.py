"""Denoising diffusion models (DDPM, DDIM): noise schedules, ε-prediction, training, sampling.

A diffusion model destroys data by adding Gaussian noise in T small steps,
q(x_t | x_{t-1}) = N(√(1-β_t) x_{t-1}, β_t I), and learns to undo one step at a time. The
forward process has a closed-form marginal, x_t = √ᾱ_t x_0 + √(1-ᾱ_t) ε with
ᾱ_t = ∏_{s≤t} (1 - β_s), so training is regression: predict the noise ε from x_t and t
(Ho, Jain & Abbeel 2020). The optimal noise predictor is a scaled score,
ε̂(x_t, t) = -√(1-ᾱ_t) ∇ log q_t(x_t), so a diffusion model is a stack of denoising score models,
one per noise level (Song & Ermon 2019, Song et al. 2021).

This module holds

* schedules: ``Schedule`` (β_t, α_t, ᾱ_t, the posterior variance β̃_t, ...),
  ``linear_beta_schedule`` (Ho et al. 2020) and ``cosine_beta_schedule`` (Nichol & Dhariwal 2021);
* the forward process: ``q_sample`` (closed form), ``q_step`` (one step of the chain),
  ``noised_mixture`` (the exact q_t of Gaussian-mixture data);
* ε and score: ``eps_to_score``, ``score_to_eps``, ``predict_x0``, and ``MixtureEpsilon``, the
  exact optimal ε-predictor of Gaussian-mixture data (an oracle for tests and baselines);
* training: ``ddpm_loss``, ``train_ddpm`` (Adam, optional EMA, divergence guard), the
  time-conditioned MLP ``TimeMLP`` with ``sinusoidal_embedding``, and ``to_unit_interval`` /
  ``from_unit_interval`` for pixels in [0, 1] <-> [-1, 1];
* sampling: ``ddpm_sample`` (ancestral, T steps) and ``ddim_sample`` (η = 0 deterministic, any
  number of steps along a subsequence ``ddim_timesteps``), returning a ``Trajectory`` on request.

Used by notebook 09 (and the comparison in 13).

**Time index.** Everything uses the paper's t: x_0 is the data, t = 1..T are the noisy levels,
and every schedule array has T + 1 entries with entry t belonging to step t (entry 0: no noise,
β_0 = 0, ᾱ_0 = 1). Models are called as ``model(x_t, t)`` with x_t of shape (batch, d) and t a
(batch,) int64 tensor in 1..T, and return the predicted noise, shape (batch, d).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from . import _nets, config
from ._training import DivergenceGuard, History, record_epoch
from ._validation import (
    ArgumentTypeError,
    as_callable,
    as_generator,
    as_model_input,
    as_module,
    as_points,
    check_memory,
    choice,
    count,
    in_range,
    non_negative,
    positive,
)

__all__ = [
    "DiffusionHistory",
    "MixtureEpsilon",
    "Schedule",
    "TimeMLP",
    "Trajectory",
    "cosine_beta_schedule",
    "ddim_sample",
    "ddim_timesteps",
    "ddpm_loss",
    "ddpm_sample",
    "eps_to_score",
    "from_unit_interval",
    "linear_beta_schedule",
    "noised_mixture",
    "predict_x0",
    "q_sample",
    "q_step",
    "score_to_eps",
    "sinusoidal_embedding",
    "to_unit_interval",
    "train_ddpm",
]


# --------------------------------------------------------------------------------------------
# Schedules
# --------------------------------------------------------------------------------------------


class Schedule:
    """A variance schedule β_1..β_T and the quantities derived from it, indexed by the paper's t.

    Every attribute below is a float64 tensor of shape (T + 1,) whose entry t belongs to step
    t = 0..T; entry 0 is the clean data (β_0 = 0, α_0 = ᾱ_0 = 1, β̃_0 = 0).

    Attributes:
        betas: β_t, the variance added by step t.
        alphas: α_t = 1 - β_t.
        alpha_bar: ᾱ_t = ∏_{s=1}^t α_s, so that q(x_t | x_0) = N(√ᾱ_t x_0, (1 - ᾱ_t) I).
        sqrt_alpha_bar, sqrt_one_minus_alpha_bar: √ᾱ_t and √(1 - ᾱ_t).
        posterior_variance: β̃_t = (1 - ᾱ_{t-1}) / (1 - ᾱ_t) · β_t, the variance of
            q(x_{t-1} | x_t, x_0) (β̃_1 = 0).
        posterior_mean_coef_x0, posterior_mean_coef_xt: the mean of q(x_{t-1} | x_t, x_0) is
            coef_x0 · x_0 + coef_xt · x_t with coef_x0 = β_t √ᾱ_{t-1} / (1 - ᾱ_t) and
            coef_xt = √α_t (1 - ᾱ_{t-1}) / (1 - ᾱ_t).
        T: the number of diffusion steps.
        name: a label for plots.

    Args:
        betas: the T values β_1..β_T, each in (0, 1).
        name: a label.

    Raises:
        ValueError: if ``betas`` is empty, not one-dimensional, or has entries outside (0, 1).
    """

    def __init__(self, betas, name: str = "custom"):
        try:
            b = torch.as_tensor(np.asarray(betas, dtype=np.float64))
        except (TypeError, ValueError) as err:
            raise ValueError(f"betas must be a 1D array of numbers: {err}") from err
        if b.ndim != 1 or b.numel() == 0:
            raise ValueError(
                f"betas must be a non-empty 1D array (β_1..β_T), got shape {tuple(b.shape)}"
            )
        _check_T(b.numel())
        if not torch.isfinite(b).all() or (b <= 0).any() or (b >= 1).any():
            bad = b[~(torch.isfinite(b) & (b > 0) & (b < 1))]
            raise ValueError(
                f"every β_t must lie strictly between 0 and 1 (a variance fraction added per "
                f"step), got {bad[:3].tolist()}; typical values are 1e-4 to 0.02 for T = 1000"
            )
        self.name = str(name)
        self.T = int(b.numel())
        zero = torch.zeros(1, dtype=torch.float64)
        self.betas = torch.cat([zero, b])
        self.alphas = 1.0 - self.betas
        self.alpha_bar = torch.cumprod(self.alphas, 0)
        self.sqrt_alpha_bar = self.alpha_bar.sqrt()
        self.sqrt_one_minus_alpha_bar = (1.0 - self.alpha_bar).sqrt()
        prev = torch.cat([torch.ones(1, dtype=torch.float64), self.alpha_bar[:-1]])
        # 1 - ᾱ_t, with entry 0 (where it is 0) set to 1 so the coefficients stay finite there
        one_minus = torch.where(self.alpha_bar < 1, 1.0 - self.alpha_bar, 1.0)
        self.posterior_variance = torch.where(
            torch.arange(self.T + 1) > 0, (1.0 - prev) / one_minus * self.betas, zero)
        self.posterior_mean_coef_x0 = self.betas * prev.sqrt() / one_minus
        self.posterior_mean_coef_xt = self.alphas.sqrt() * (1.0 - prev) / one_minus

    def __repr__(self) -> str:
        return (f"Schedule({self.name!r}, T={self.T}, β_1={float(self.betas[1]):.3g}, "
                f"β_T={float(self.betas[-1]):.3g}, ᾱ_T={float(self.alpha_bar[-1]):.3g})")

    def __len__(self) -> int:
        return self.T


def _check_T(T: int) -> None:
    check_memory(12 * (T + 1), "T", f"a schedule of T = {T} steps")


def linear_beta_schedule(T: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> Schedule:
    """The linear schedule of Ho et al. (2020): β_t evenly spaced from ``beta_start`` to
    ``beta_end`` over t = 1..T.

    With the defaults and T = 1000, ᾱ_T ≈ 4e-5: x_T is pure noise to within 0.6 % of its scale.

    Args:
        T: the number of steps (≥ 1).
        beta_start, beta_end: β_1 and β_T, in (0, 1).

    Returns:
        A ``Schedule``.
    """
    T = count(T, "the number of diffusion steps T")
    _check_T(T)
    beta_start, beta_end = (in_range(v, nm, 0.0, 1.0, low_open=True, high_open=True,
                                     hint=" (a variance fraction per step)")
                            for v, nm in [(beta_start, "beta_start"), (beta_end, "beta_end")])
    betas = np.linspace(beta_start, beta_end, T, dtype=np.float64)
    return Schedule(betas, name=f"linear (T={T})")


def cosine_beta_schedule(T: int, s: float = 0.008, max_beta: float = 0.999) -> Schedule:
    """The cosine schedule of Nichol & Dhariwal (2021).

    ᾱ_t = f(t) / f(0) with f(t) = cos²(π/2 · (t/T + s) / (1 + s)), and
    β_t = min(1 - ᾱ_t / ᾱ_{t-1}, ``max_beta``) (the clip avoids β_T = 1 at the very end). It
    destroys information more evenly in t than the linear schedule, which spends its last
    steps on almost pure noise.

    Args:
        T: the number of steps (≥ 1).
        s: a small offset so that β_1 is not vanishingly small.
        max_beta: the largest β allowed, in (0, 1).

    Returns:
        A ``Schedule``.
    """
    T = count(T, "the number of diffusion steps T")
    _check_T(T)
    s = non_negative(s, "s")
    max_beta = in_range(max_beta, "max_beta", 0.0, 1.0, low_open=True, high_open=True)
    t = np.arange(T + 1, dtype=np.float64)
    f = np.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
    alpha_bar = f / f[0]
    betas = np.clip(1.0 - alpha_bar[1:] / alpha_bar[:-1], 1e-12, max_beta)
    return Schedule(betas, name=f"cosine (T={T})")


def _as_schedule(schedule) -> Schedule:
    if isinstance(schedule, Schedule):
        return schedule
    if isinstance(schedule, (torch.Tensor, np.ndarray, list, tuple)):
        return Schedule(schedule)
    raise ValueError(
        f"schedule must be a Schedule (e.g. linear_beta_schedule(1000)) or a 1D array of betas, "
        f"got {type(schedule).__name__}"
    )


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------


def _times(t, schedule: Schedule, batch: int, minimum: int = 0) -> torch.Tensor:
    """Check t (an int or a (batch,) integer tensor in [minimum, T]); return a (batch,) int64."""
    if isinstance(t, bool):
        raise ValueError(f"t must be an integer time step, got {t!r}")
    if isinstance(t, (int, np.integer)):
        tt = torch.full((batch,), int(t), dtype=torch.long)
    else:
        tt = torch.as_tensor(t)
        if tt.is_floating_point() or tt.dtype == torch.bool or tt.is_complex():
            raise ValueError(
                f"t must hold integer time steps (dtype int64), got dtype {tt.dtype}; "
                "use t.long() or torch.full((batch,), t)"
            )
        if tt.ndim == 0:
            tt = tt.expand(batch)
        if tt.shape != (batch,):
            raise ValueError(f"t must be an int or have shape ({batch},), got {tuple(tt.shape)}")
        tt = tt.long()
    if batch and (int(tt.min()) < minimum or int(tt.max()) > schedule.T):
        lo, hi = int(tt.min()), int(tt.max())
        raise ValueError(
            f"t must lie in {minimum}..{schedule.T} (T = {schedule.T}), got values in {lo}..{hi}"
        )
    return tt


def _coef(values: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """values[t] as a (batch, 1) column in the dtype/device of ``like``."""
    return values[t].to(dtype=like.dtype, device=like.device).unsqueeze(1)


def _same_shape(a: torch.Tensor, b, name_a: str, name_b: str) -> torch.Tensor:
    b = as_points(b, a.shape[1], name=name_b)
    if b.shape != a.shape:
        raise ValueError(
            f"{name_b} must have the shape of {name_a}, {tuple(a.shape)}, got {tuple(b.shape)}"
        )
    return b.to(a.dtype)


# --------------------------------------------------------------------------------------------
# Forward process
# --------------------------------------------------------------------------------------------


def q_sample(x0: torch.Tensor, t, noise: torch.Tensor, schedule) -> torch.Tensor:
    """Draw x_t ~ q(x_t | x_0) in closed form: x_t = √ᾱ_t x_0 + √(1 - ᾱ_t) ε.

    Args:
        x0: (batch, d) clean data.
        t: an int or a (batch,) int64 tensor of steps in 0..T (t = 0 returns x0).
        noise: (batch, d) standard normal ε (passed in, so that the caller controls it and can
            use it as the regression target).
        schedule: a ``Schedule`` (or a 1D array of betas).

    Returns:
        (batch, d) x_t.
    """
    schedule = _as_schedule(schedule)
    x0 = as_points(x0, name="x0")
    noise = _same_shape(x0, noise, "x0", "noise")
    t = _times(t, schedule, x0.shape[0])
    return (_coef(schedule.sqrt_alpha_bar, t, x0) * x0
            + _coef(schedule.sqrt_one_minus_alpha_bar, t, x0) * noise)


def q_step(x_prev: torch.Tensor, t, noise: torch.Tensor, schedule) -> torch.Tensor:
    """One step of the forward chain, x_t ~ q(x_t | x_{t-1}) = N(√(1-β_t) x_{t-1}, β_t I).

    Iterating it from x_0 for t = 1, 2, ... gives the same marginal as ``q_sample``.

    Args:
        x_prev: (batch, d) x_{t-1}.
        t: the step being taken, an int or (batch,) int64 tensor in 1..T.
        noise: (batch, d) standard normal.
        schedule: a ``Schedule``.

    Returns:
        (batch, d) x_t = √(1 - β_t) x_{t-1} + √β_t ε.
    """
    schedule = _as_schedule(schedule)
    x_prev = as_points(x_prev, name="x_prev")
    noise = _same_shape(x_prev, noise, "x_prev", "noise")
    t = _times(t, schedule, x_prev.shape[0], minimum=1)
    return (_coef(schedule.alphas.sqrt(), t, x_prev) * x_prev
            + _coef(schedule.betas.sqrt(), t, x_prev) * noise)


def noised_mixture(density, t: int, schedule):
    """The exact marginal q_t of Gaussian-mixture data after t forward steps.

    If x_0 ~ Σ_k w_k N(μ_k, σ_k² I) then x_t = √ᾱ_t x_0 + √(1-ᾱ_t) ε is again a mixture,
    q_t = Σ_k w_k N(√ᾱ_t μ_k, (ᾱ_t σ_k² + 1 - ᾱ_t) I), with exact ``log_prob``, ``score`` and
    ``sample``. Its energy E_t = -log q_t is the EBM the diffusion model learns at level t.

    Args:
        density: an ``energies.GaussianMixture`` (e.g. ``energies.eight_gaussians()``).
        t: a step in 0..T.
        schedule: a ``Schedule``.

    Returns:
        An ``energies.GaussianMixture``.
    """
    from .energies import GaussianMixture

    schedule = _as_schedule(schedule)
    if not isinstance(density, GaussianMixture):
        raise ValueError(
            f"noised_mixture needs an energies.GaussianMixture, got {type(density).__name__}; "
            "for other data, noise samples with q_sample instead"
        )
    t = int(_times(t, schedule, 1)[0])
    ab = float(schedule.alpha_bar[t])
    stds = (ab * density.stds**2 + 1.0 - ab).sqrt()
    return GaussianMixture(math.sqrt(ab) * density.means, stds, density.weights,
                           name=f"{density.name}, noised to t={t}")


# --------------------------------------------------------------------------------------------
# ε, x_0 and the score
# --------------------------------------------------------------------------------------------


def eps_to_score(eps: torch.Tensor, t, schedule) -> torch.Tensor:
    """The score implied by a noise prediction: ∇ log q_t(x_t) ≈ -ε̂ / √(1 - ᾱ_t).

    Exact for the optimal predictor ε̂ = E[ε | x_t] (Tweedie's formula; Vincent 2011).

    Args:
        eps: (batch, d) predicted noise at x_t.
        t: an int or (batch,) int64 tensor in 1..T (at t = 0 there is no noise to predict).
        schedule: a ``Schedule``.

    Returns:
        (batch, d) score estimate.
    """
    schedule = _as_schedule(schedule)
    eps = as_points(eps, name="eps")
    t = _times(t, schedule, eps.shape[0], minimum=1)
    return -eps / _coef(schedule.sqrt_one_minus_alpha_bar, t, eps)


def score_to_eps(score: torch.Tensor, t, schedule) -> torch.Tensor:
    """The noise prediction implied by a score: ε̂ = -√(1 - ᾱ_t) ∇ log q_t(x_t).

    The inverse of ``eps_to_score``; with the exact score of q_t it gives the optimal ε̂.

    Args:
        score: (batch, d) ∇ log q_t at x_t.
        t: an int or (batch,) int64 tensor in 1..T.
        schedule: a ``Schedule``.
    """
    schedule = _as_schedule(schedule)
    score = as_points(score, name="score")
    t = _times(t, schedule, score.shape[0], minimum=1)
    return -score * _coef(schedule.sqrt_one_minus_alpha_bar, t, score)


def predict_x0(x_t: torch.Tensor, eps: torch.Tensor, t, schedule) -> torch.Tensor:
    """The clean data implied by a noise prediction: x̂_0 = (x_t - √(1-ᾱ_t) ε̂) / √ᾱ_t.

    With ε̂ = E[ε | x_t] this is E[x_0 | x_t], the denoised estimate.

    Args:
        x_t: (batch, d).
        eps: (batch, d) predicted noise.
        t: an int or (batch,) int64 tensor in 0..T.
        schedule: a ``Schedule``.
    """
    schedule = _as_schedule(schedule)
    x_t = as_points(x_t, name="x_t")
    eps = _same_shape(x_t, eps, "x_t", "eps")
    t = _times(t, schedule, x_t.shape[0])
    return ((x_t - _coef(schedule.sqrt_one_minus_alpha_bar, t, x_t) * eps)
            / _coef(schedule.sqrt_alpha_bar, t, x_t))


class MixtureEpsilon:
    """The exact optimal noise predictor for Gaussian-mixture data (an oracle "model").

    For x_0 ~ Σ_k w_k N(μ_k, σ_k² I), q_t is the mixture of ``noised_mixture`` and the minimiser
    of the ε-prediction loss is ε*(x_t, t) = E[ε | x_t] = -√(1-ᾱ_t) ∇ log q_t(x_t)
    = √(1-ᾱ_t) Σ_k r_k(x_t) (x_t - √ᾱ_t μ_k) / (ᾱ_t σ_k² + 1 - ᾱ_t), with r_k the posterior
    responsibilities of the components under q_t. Called like a trained model,
    ``eps = oracle(x_t, t)``; used to test the samplers and to separate a model's error from a
    sampler's discretisation error.

    Args:
        density: an ``energies.GaussianMixture``.
        schedule: a ``Schedule``.
    """

    def __init__(self, density, schedule):
        from .energies import GaussianMixture

        if not isinstance(density, GaussianMixture):
            raise ValueError(f"MixtureEpsilon needs an energies.GaussianMixture, got "
                             f"{type(density).__name__}")
        self.density = density
        self.schedule = _as_schedule(schedule)

    def score(self, x_t: torch.Tensor, t) -> torch.Tensor:
        """The exact ∇ log q_t(x_t), (batch, d), for per-sample steps t in 0..T."""
        x = as_points(x_t, self.density.dim, name="x_t")
        t = _times(t, self.schedule, x.shape[0])
        ab = self.schedule.alpha_bar[t].to(torch.float64).unsqueeze(1)  # (batch, 1)
        xd = x.to(torch.float64)
        mu = self.density.means  # (K, d)
        var = ab * self.density.stds**2 + 1.0 - ab  # (batch, K)
        centres = ab.sqrt().unsqueeze(2) * mu.unsqueeze(0)  # (batch, K, d)
        diff = centres - xd.unsqueeze(1)
        logits = (torch.log(self.density.weights) - 0.5 * (diff**2).sum(2) / var
                  - 0.5 * self.density.dim * torch.log(var))
        r = torch.softmax(logits, dim=1)
        return ((r / var).unsqueeze(2) * diff).sum(1).to(x.dtype)

    def __call__(self, x_t: torch.Tensor, t) -> torch.Tensor:
        """ε*(x_t, t), (batch, d), for t in 1..T."""
        x = as_points(x_t, self.density.dim, name="x_t")
        t = _times(t, self.schedule, x.shape[0], minimum=1)
        return score_to_eps(self.score(x, t), t, self.schedule)


# --------------------------------------------------------------------------------------------
# The denoiser network
# --------------------------------------------------------------------------------------------


def sinusoidal_embedding(t, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Transformer-style features of the time step (Vaswani et al. 2017; Ho et al. 2020).

    emb(t) = [sin(t ω_1), ..., sin(t ω_h), cos(t ω_1), ..., cos(t ω_h)] with h = dim/2 and
    frequencies ω_i = max_period^(-i/h), i = 0..h-1, from one cycle per step to one per
    ``max_period`` steps: nearby steps get similar features, distant steps different ones.

    Args:
        t: (batch,) time steps (integers or floats).
        dim: the embedding size, even and ≥ 2.
        max_period: the slowest period.

    Returns:
        (batch, dim) float32 features.
    """
    dim = count(dim, "dim", minimum=2)
    if dim % 2:
        raise ValueError(f"the embedding size dim must be even, got {dim}")
    t = torch.as_tensor(t)
    if t.ndim != 1:
        raise ValueError(f"t must have shape (batch,), got {tuple(t.shape)}")
    half = dim // 2
    freqs = torch.exp(-math.log(positive(max_period, "max_period"))
                      * torch.arange(half, dtype=torch.float32) / half)
    args = t.to(torch.float32).unsqueeze(1) * freqs.unsqueeze(0)
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


class TimeMLP(nn.Module):
    """A small time-conditioned residual MLP that predicts the noise, ε̂_θ(x_t, t).

    h = W_in x_t;  for each block: h ← h + W_k SiLU(h + U_k e(t));  ε̂ = W_out SiLU(h), where
    e(t) = SiLU(W_e · sinusoidal_embedding(t)) is shared by the blocks and U_k adds it to every
    block (so every layer knows the noise level). The output layer starts at zero, so an
    untrained model predicts ε̂ = 0 and the loss starts at 1 per coordinate.

    Used for the 2D toys (``dim=2``) and for the 8×8 digits (``dim=64``, pixels scaled to
    [-1, 1] by ``to_unit_interval``).

    Args:
        dim: the number of data features d.
        hidden: width of the hidden layers.
        depth: number of residual blocks.
        time_dim: size of the sinusoidal time features.
        generator: optional torch generator for the initial weights (reproducible init; the
            global generator is then not touched).
    """

    def __init__(self, dim: int = 2, hidden: int = 128, depth: int = 3, time_dim: int = 32,
                 generator: torch.Generator | None = None):
        super().__init__()
        self.dim = count(dim, "dim")
        hidden = count(hidden, "hidden")
        depth = count(depth, "depth", minimum=0)
        self.time_dim = count(time_dim, "time_dim", minimum=2)
        if self.time_dim % 2:
            raise ValueError(f"time_dim must be even (sines and cosines), got {self.time_dim}")
        generator = as_generator(generator)
        with _nets.deferred(generator):  # with a generator: no draws from the global one
            self.inp = nn.Linear(self.dim, hidden)
            self.time = nn.Linear(self.time_dim, hidden)
            self.blocks = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(depth))
            self.time_proj = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(depth))
            self.out = nn.Linear(hidden, self.dim)
        _nets.materialize_(self, generator)  # every Linear redrawn from it, in module order
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """ε̂(x_t, t): x (batch, dim), t (batch,) -> (batch, dim) (x converted to the weights'
        dtype)."""
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else tuple(np.shape(x))
        if len(shape) != 2 or shape[1] != self.dim:
            raise ValueError(f"x must have shape (batch, {self.dim}), got {shape}")
        x = as_model_input(x, self.inp.weight, self.dim)
        e = nn.functional.silu(self.time(sinusoidal_embedding(t, self.time_dim).to(x.dtype)))
        h = self.inp(x)
        for block, proj in zip(self.blocks, self.time_proj, strict=True):
            h = h + block(nn.functional.silu(h + proj(e)))
        return self.out(nn.functional.silu(h))


def to_unit_interval(x: torch.Tensor) -> torch.Tensor:
    """Pixels in [0, 1] -> [-1, 1] (x ↦ 2x - 1), the data scale DDPM assumes (ᾱ_T x_0 ≪ noise)."""
    return 2.0 * x - 1.0


def from_unit_interval(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> pixels in [0, 1] (x ↦ (x + 1)/2, clipped)."""
    return ((x + 1.0) / 2.0).clamp(0.0, 1.0)


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


def _call_model(model, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    eps = model(x, t)
    if not isinstance(eps, torch.Tensor) or eps.shape != x.shape:
        got = tuple(eps.shape) if isinstance(eps, torch.Tensor) else type(eps).__name__
        raise ValueError(
            f"the model must map x_t of shape {tuple(x.shape)} and t of shape ({x.shape[0]},) to "
            f"a noise prediction of the same shape as x_t, got {got}"
        )
    return eps


def ddpm_loss(model, x0: torch.Tensor, schedule, generator: torch.Generator | None = None
              ) -> torch.Tensor:
    """The simplified DDPM loss (Ho et al. 2020, eq. 14) on one minibatch.

    t ~ U{1..T}, ε ~ N(0, I), x_t = √ᾱ_t x_0 + √(1-ᾱ_t) ε, and
    L = mean over batch and coordinates of (ε̂_θ(x_t, t) - ε)².

    Args:
        model: ``model(x_t, t) -> ε̂``, (batch, d), (batch,) -> (batch, d).
        x0: (batch, d) data.
        schedule: a ``Schedule``.
        generator: torch generator for t and ε.

    Returns:
        A scalar tensor (differentiable in the model's parameters).
    """
    schedule = _as_schedule(schedule)
    as_callable(model, "model", "callable as model(x_t, t) -> predicted noise")
    as_generator(generator)
    x0 = as_points(x0, name="x0")
    n = x0.shape[0]
    t = torch.randint(1, schedule.T + 1, (n,), generator=generator)
    noise = torch.randn(x0.shape, generator=generator, dtype=x0.dtype)
    x_t = q_sample(x0, t, noise, schedule)
    return ((_call_model(model, x_t, t) - noise) ** 2).mean()


@dataclass
class DiffusionHistory(History):
    """What ``train_ddpm`` records: ``history["step"]``, ``history["loss"]`` (the mean loss
    over each logging interval) and ``history["lr"]`` (the learning rate of its last step), plus
    anything the callback returns.

    Attributes:
        ema_model: the exponential moving average of the weights (a copy of the model), or
            ``None`` when training ran without EMA.
    """

    ema_model: nn.Module | None = None


def train_ddpm(
    model: nn.Module,
    data,
    schedule,
    n_steps: int,
    batch_size: int = 256,
    lr: float = 1e-3,
    generator: torch.Generator | None = None,
    ema_decay: float | None = None,
    lr_schedule: str = "constant",
    grad_clip: float | None = 1.0,
    log_every: int = 100,
    max_loss: float = 100.0,
    callback: Callable | None = None,
    progress: bool | None = None,
) -> DiffusionHistory:
    """Train a noise predictor with the simplified DDPM loss and Adam (one loop for all data).

    Each step draws a minibatch (rows of ``data`` with replacement, or fresh samples from a
    sampler), a step t ~ U{1..T} and noise ε per example, and takes an Adam step on
    ``ddpm_loss``. Gradients are clipped to norm ``grad_clip`` (as Ho et al. 2020).

    EMA: with ``ema_decay`` = γ a copy of the model tracks θ_ema ← γ_k θ_ema + (1-γ_k) θ with
    γ_k = min(γ, (1 + k) / (10 + k)) at step k (the warm-up lets short runs forget the random
    initialisation); sample from ``history.ema_model``, which usually gives cleaner samples.

    Args:
        model: an ``nn.Module`` with ``model(x_t, t) -> ε̂`` (e.g. ``TimeMLP``); trained in place.
        data: an (N, d) tensor of training examples, or a sampler ``data(n, generator)``
            returning (n, d) fresh examples (e.g. ``energies.eight_gaussians().sample``).
        schedule: a ``Schedule``.
        n_steps: number of optimiser steps.
        batch_size: examples per step.
        lr: Adam learning rate.
        generator: torch generator for minibatches, t and ε.
        ema_decay: γ in (0, 1) for an EMA copy of the weights, or ``None``.
        lr_schedule: ``"constant"``, or ``"cosine"``: lr_k = lr · ½(1 + cos(π k / n_steps)),
            decaying to 0 at the last step (lets the weights settle at the end).
        grad_clip: max gradient norm, or ``None`` for no clipping.
        log_every: record the mean loss every this many steps (the history's "epochs").
        max_loss: divergence guard: a ``RuntimeError`` when a minibatch loss exceeds it or is
            not finite (an untrained model's loss is about 1).
        callback: ``callback(step, model, metrics)`` after each logging interval; may return a
            dict of extra values to record.
        progress: a ``tqdm`` bar (``None``: unless ``config.progress_disabled()``).

    Returns:
        A ``DiffusionHistory``.

    Raises:
        ValueError: for bad data or hyper-parameters.
        RuntimeError: when training diverges, naming the fix (a lower learning rate).
    """
    from tqdm.auto import tqdm

    schedule = _as_schedule(schedule)
    as_module(model, hint="; e.g. diffusion.TimeMLP(dim)")
    as_generator(generator)
    if callback is not None and not callable(callback):
        raise ArgumentTypeError(f"callback must be None or a function (step, model, metrics), "
                                f"got {type(callback).__name__}")
    n_steps = count(n_steps, "n_steps", minimum=0)
    batch_size = count(batch_size, "batch_size")
    lr = positive(lr, "lr")
    log_every = count(log_every, "log_every")
    max_loss = positive(max_loss, "max_loss")
    if grad_clip is not None:
        grad_clip = positive(grad_clip, "grad_clip")
    if ema_decay is not None:
        ema_decay = in_range(ema_decay, "ema_decay", 0.0, 1.0, low_open=True, high_open=True,
                             hint=" (e.g. 0.999), or None")
    choice(lr_schedule, "lr_schedule", ("constant", "cosine"))
    params = list(model.parameters())
    if not params:
        raise ValueError("the model has no parameters to train")
    dtype = params[0].dtype
    if callable(data) and not isinstance(data, torch.Tensor):
        def draw(n):
            return as_points(data(n, generator), name="sampled data").to(dtype)
    else:
        x = as_points(data, name="data").to(dtype)

        def draw(n):
            return x[torch.randint(0, x.shape[0], (n,), generator=generator)]

    opt = torch.optim.Adam(params, lr=lr)
    guard = DivergenceGuard(
        "DDPM training", "lower it, e.g. 10× (1e-3 to 1e-4 is typical for Adam), keep grad_clip "
        "on", params=params, max_loss=max_loss, loss_factor=None,
        cause=f"the learning rate is probably too high (lr = {lr:g}; an untrained model's loss "
        f"is about 1)")
    ema = copy.deepcopy(model).requires_grad_(False) if ema_decay is not None else None
    history = DiffusionHistory(ema_model=ema)
    model.train()
    disable = config.progress_disabled() if progress is None else not progress
    running, seen = 0.0, 0
    bar = tqdm(range(1, n_steps + 1), desc="DDPM training", unit="step", disable=disable)
    for step in bar:
        if lr_schedule == "cosine":
            for group in opt.param_groups:
                group["lr"] = lr * 0.5 * (1.0 + math.cos(math.pi * (step - 1) / n_steps))
        loss = ddpm_loss(model, draw(batch_size), schedule, generator)
        value = guard.check_loss(f"at step {step}", loss)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if grad_clip is not None:
            nn.utils.clip_grad_norm_(params, grad_clip)
        opt.step()
        if ema is not None:
            decay = min(ema_decay, (1.0 + step) / (10.0 + step))
            with torch.no_grad():
                for p_ema, p in zip(ema.parameters(), params, strict=True):
                    p_ema.lerp_(p, 1.0 - decay)
        running, seen = running + value, seen + 1
        if step % log_every == 0 or step == n_steps:
            guard.check_params(f"at step {step}")
            metrics = record_epoch(
                history, {"step": step, "loss": running / seen,
                          "lr": opt.param_groups[0]["lr"]}, callback, step, model)
            bar.set_postfix(loss=f"{metrics['loss']:.4f}")
            running, seen = 0.0, 0
    model.eval()
    if ema is not None:
        ema.eval()
    return history


# --------------------------------------------------------------------------------------------
# Sampling
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trajectory:
    """The states of a reverse (sampling) run.

    Attributes:
        times: (K,) int64 steps visited, descending from T to 0.
        states: (K, n, d) x_t at those steps; ``states[-1]`` are the samples (t = 0).
    """

    times: torch.Tensor
    states: torch.Tensor

    @property
    def samples(self) -> torch.Tensor:
        """(n, d) the final states x_0."""
        return self.states[-1]

    def at(self, t: int) -> torch.Tensor:
        """(n, d) the state at step t, or at the visited step nearest to t."""
        k = int(torch.argmin((self.times - int(t)).abs()))
        return self.states[k]


def _prepare_sampling(model, schedule, x_T, generator=None, n_states: int = 0):
    schedule = _as_schedule(schedule)
    as_callable(model, "model", "callable as model(x_t, t) -> predicted noise, e.g. a "
                "trained TimeMLP")
    as_generator(generator)
    x = as_points(x_T, name="x_T").clone()
    if n_states:
        check_memory(n_states * x.numel(), "the number of samples (x_T's rows) or of steps",
                     f"a trajectory of {n_states} states")
    return schedule, x


def _clip(x0: torch.Tensor, clip: float | None) -> torch.Tensor:
    return x0 if clip is None else x0.clamp(-clip, clip)


class _EvalMode:
    """Run a module in eval mode without gradients, restoring its mode afterwards."""

    def __init__(self, model):
        self.model = model if isinstance(model, nn.Module) else None

    def __enter__(self):
        self.no_grad = torch.no_grad()
        self.no_grad.__enter__()
        if self.model is not None:
            self.was_training = self.model.training
            self.model.eval()

    def __exit__(self, *exc):
        if self.model is not None:
            self.model.train(self.was_training)
        self.no_grad.__exit__(*exc)


def _check_eps(eps: torch.Tensor, t: int) -> None:
    if not torch.isfinite(eps).all():
        raise RuntimeError(
            f"the model predicted non-finite noise at step t = {t}; it has probably diverged "
            "(retrain with a lower learning rate) or x_T held huge values"
        )


def ddpm_sample(
    model,
    schedule,
    x_T: torch.Tensor,
    generator: torch.Generator | None = None,
    variance: str = "posterior",
    clip: float | None = None,
    trajectory: bool = False,
    progress: bool | None = None,
):
    """Ancestral sampling (Ho et al. 2020, Algorithm 2), T steps from x_T ~ N(0, I) to x_0.

    For t = T, ..., 1:  x_{t-1} = (x_t - β_t / √(1-ᾱ_t) · ε̂(x_t, t)) / √α_t + σ_t z,
    z ~ N(0, I), with σ_t² = β̃_t (``variance="posterior"``, the variance of q(x_{t-1}|x_t,x_0))
    or σ_t² = β_t (``"beta"``); no noise is added at the last step (t = 1). The mean is the
    posterior mean of q(x_{t-1} | x_t, x̂_0) at the denoised guess x̂_0 = ``predict_x0``; with
    ``clip`` = c the guess is clipped to [-c, c] first (for data known to lie in [-1, 1]).

    Args:
        model: ``model(x_t, t) -> ε̂`` (a trained network or ``MixtureEpsilon``).
        schedule: the ``Schedule`` it was trained with.
        x_T: (n, d) starting noise (e.g. ``torch.randn(n, d, generator=g)``).
        generator: torch generator for the per-step noise z.
        variance: ``"posterior"`` (β̃_t) or ``"beta"`` (β_t).
        clip: clip x̂_0 to [-clip, clip] at every step, or ``None``.
        trajectory: also return every state.
        progress: a ``tqdm`` bar (``None``: unless ``config.progress_disabled()``).

    Returns:
        (n, d) samples, or a ``Trajectory`` (all T + 1 states) when ``trajectory=True``.
    """
    from tqdm.auto import tqdm

    schedule, x = _prepare_sampling(model, schedule, x_T, generator,
                                    _as_schedule(schedule).T + 1 if trajectory else 0)
    choice(variance, "variance", ("posterior", "beta"))
    if clip is not None:
        clip = positive(clip, "clip")
    var = schedule.posterior_variance if variance == "posterior" else schedule.betas
    states = [x.clone()] if trajectory else None
    disable = config.progress_disabled() if progress is None else not progress
    n = x.shape[0]
    with _EvalMode(model):
        for t in tqdm(range(schedule.T, 0, -1), desc="DDPM sampling", disable=disable,
                      leave=False):
            tt = torch.full((n,), t, dtype=torch.long)
            eps = _call_model(model, x, tt)
            _check_eps(eps, t)
            if clip is None:  # Algorithm 2 as written
                mean = (x - float(schedule.betas[t] / schedule.sqrt_one_minus_alpha_bar[t])
                        * eps) / math.sqrt(float(schedule.alphas[t]))
            else:
                x0 = _clip(predict_x0(x, eps, tt, schedule), clip)
                mean = (float(schedule.posterior_mean_coef_x0[t]) * x0
                        + float(schedule.posterior_mean_coef_xt[t]) * x)
            if t > 1:
                z = torch.randn(x.shape, generator=generator, dtype=x.dtype)
                x = mean + math.sqrt(float(var[t])) * z
            else:
                x = mean
            if states is not None:
                states.append(x.clone())
    if states is None:
        return x
    return Trajectory(torch.arange(schedule.T, -1, -1), torch.stack(states))


def ddim_timesteps(T: int, n_steps: int, spacing: str = "uniform") -> torch.Tensor:
    """The decreasing subsequence T = τ_S > ... > τ_1 > τ_0 = 0 that DDIM visits.

    ``"uniform"``: evenly spaced and rounded, τ_i = round(T i / S). ``"quadratic"``:
    τ_i = round(T (i/S)²), raised where needed to keep the steps distinct (τ_i ≥ τ_{i-1} + 1);
    it spends more steps at small t, where the data's fine structure is formed (Song, Meng &
    Ermon 2021 used quadratic spacing on CIFAR-10). S = T visits every step either way.

    Args:
        T: the schedule's number of steps.
        n_steps: number of sampling steps S, 1 ≤ S ≤ T.
        spacing: ``"uniform"`` or ``"quadratic"``.

    Returns:
        (n_steps + 1,) int64 tensor from T down to 0.
    """
    T = count(T, "T")
    n_steps = count(n_steps, "n_steps")
    if n_steps > T:
        raise ValueError(f"n_steps must be at most T = {T} (DDIM visits a subsequence of the "
                         f"training steps), got {n_steps}")
    if spacing == "uniform":
        return torch.round(torch.linspace(float(T), 0.0, n_steps + 1,
                                          dtype=torch.float64)).long()
    if spacing != "quadratic":
        raise ValueError(f"spacing must be 'uniform' or 'quadratic', got {spacing!r}")
    times = [0]
    for i in range(1, n_steps + 1):
        times.append(max(round(T * (i / n_steps) ** 2), times[-1] + 1))
    return torch.tensor(times[::-1], dtype=torch.long)


def ddim_sample(
    model,
    schedule,
    x_T: torch.Tensor,
    n_steps: int = 50,
    eta: float = 0.0,
    generator: torch.Generator | None = None,
    spacing: str = "uniform",
    clip: float | None = None,
    trajectory: bool = False,
    progress: bool | None = None,
):
    """DDIM sampling (Song, Meng & Ermon 2021) along a subsequence of ``n_steps`` steps.

    From step t to the next visited step s < t, with x̂_0 = ``predict_x0``(x_t, ε̂):

    x_s = √ᾱ_s x̂_0 + √(1 - ᾱ_s - σ²) ε̂ + σ z,  σ = η √((1-ᾱ_s)/(1-ᾱ_t)) √(1 - ᾱ_t/ᾱ_s).

    η = 0 (the default) is deterministic: an Euler-like step of the probability-flow ODE that
    keeps the model's current noise estimate, so a few dozen steps suffice; η = 1 with all T
    steps is DDPM's ancestral sampler with the posterior variance.

    Args:
        model: ``model(x_t, t) -> ε̂``.
        schedule: the ``Schedule`` it was trained with.
        x_T: (n, d) starting noise.
        n_steps: number of steps S ≤ T (``ddim_timesteps``).
        eta: η ≥ 0, the amount of fresh noise.
        generator: torch generator for z (only used when η > 0).
        spacing: ``"uniform"`` or ``"quadratic"`` placement of the steps (``ddim_timesteps``).
        clip: clip x̂_0 to [-clip, clip] (and recompute ε̂ from it), or ``None``.
        trajectory: also return the visited states.
        progress: a ``tqdm`` bar (``None``: unless ``config.progress_disabled()``).

    Returns:
        (n, d) samples, or a ``Trajectory`` over the S + 1 visited steps.
    """
    from tqdm.auto import tqdm

    schedule, x = _prepare_sampling(model, schedule, x_T, generator)
    eta = non_negative(eta, "eta")
    if clip is not None:
        clip = positive(clip, "clip")
    times = ddim_timesteps(schedule.T, n_steps, spacing)
    if trajectory:
        check_memory(len(times) * x.numel(), "n_steps or the number of samples",
                     f"a trajectory of {len(times)} states")
    states = [x.clone()] if trajectory else None
    disable = config.progress_disabled() if progress is None else not progress
    n = x.shape[0]
    ab = schedule.alpha_bar
    with _EvalMode(model):
        for t, s in tqdm(list(zip(times[:-1].tolist(), times[1:].tolist(), strict=True)),
                         desc="DDIM sampling", disable=disable, leave=False):
            tt = torch.full((n,), t, dtype=torch.long)
            eps = _call_model(model, x, tt)
            _check_eps(eps, t)
            x0 = predict_x0(x, eps, tt, schedule)
            if clip is not None:
                x0 = _clip(x0, clip)
                eps = (x - math.sqrt(float(ab[t])) * x0) / math.sqrt(float(1 - ab[t]))
            sigma = eta * math.sqrt(float((1 - ab[s]) / (1 - ab[t]) * (1 - ab[t] / ab[s])))
            direction = math.sqrt(max(float(1 - ab[s]) - sigma**2, 0.0))
            x = math.sqrt(float(ab[s])) * x0 + direction * eps
            if sigma > 0:
                x = x + sigma * torch.randn(x.shape, generator=generator, dtype=x.dtype)
            if states is not None:
                states.append(x.clone())
    if states is None:
        return x
    return Trajectory(times, torch.stack(states))
