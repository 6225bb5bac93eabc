"""Markov chain Monte Carlo samplers for Boltzmann distributions p_T(x) ∝ exp(-E(x)/T).

* ``metropolis``: random-walk Metropolis–Hastings with Gaussian proposals;
* ``langevin``: the unadjusted Langevin algorithm (ULA),
  x ← x - ε ∇E(x)/T + √(2ε) ξ, ξ ~ N(0, I);
* ``mala``: the Metropolis-adjusted Langevin algorithm (ULA proposal + MH correction);
* ``ising_sweeps``: single-site Metropolis or heat-bath (Gibbs) sweeps of the Ising model.

All are batched: ``x0`` has shape (batch, d) and holds one independent chain per row, and
``energy`` maps (batch, d) to (batch,). All take an explicit ``generator`` and never touch the
global random state. They return a ``Chain`` with the final states, optionally the trajectory,
and the acceptance rate. Used by notebook 01 (Metropolis, Ising), 07 (Langevin, MALA) and later.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from ._validation import (
    as_callable,
    as_generator,
    as_module,
    as_points,
    check_memory,
    choice,
    count,
    non_negative,
    positive,
)
from ._validation import temperature as check_temperature

__all__ = ["Chain", "ising_sweeps", "langevin", "mala", "metropolis"]

EnergyFn = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class Chain:
    """The result of running a batch of Markov chains.

    Attributes:
        x: final states, (batch, d).
        trace: states after every ``thin``-th step, (n_kept, batch, d), the start included;
            ``None`` unless ``return_trace=True``.
        acceptance_rate: fraction of accepted proposals per chain, (batch,); ``None`` for ULA.
    """

    x: torch.Tensor
    trace: torch.Tensor | None = None
    acceptance_rate: torch.Tensor | None = None


def _energy_checked(energy: EnergyFn, x: torch.Tensor) -> torch.Tensor:
    e = energy(x)
    if not isinstance(e, torch.Tensor) or e.shape != (x.shape[0],):
        shape = tuple(e.shape) if isinstance(e, torch.Tensor) else type(e).__name__
        raise ValueError(
            f"energy must map (batch, d) = {tuple(x.shape)} to a (batch,) tensor, got {shape}; "
            "sum over the feature dimension inside the energy function"
        )
    return e


def _grad_energy(energy: EnergyFn, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        e = _energy_checked(energy, x)
        g = None
        if e.requires_grad:
            (g,) = torch.autograd.grad(e.sum(), x, allow_unused=True)
        if g is None:
            raise ValueError(
                "the energy is not differentiable in x (its value carries no gradient): gradient "
                "samplers need an energy built from torch operations on x (no .detach(), "
                "no NumPy, no torch.no_grad inside); for a piecewise-constant density use "
                "metropolis instead"
            )
    return e.detach(), g


def _minus_score(score: Callable, x: torch.Tensor) -> torch.Tensor:
    """∇E = -s(x) from a closed-form score, its shape checked."""
    with torch.no_grad():
        s = score(x)
    if not isinstance(s, torch.Tensor) or s.shape != x.shape:
        shape = tuple(s.shape) if isinstance(s, torch.Tensor) else type(s).__name__
        raise ValueError(f"score must map (batch, d) = {tuple(x.shape)} to a tensor of the same "
                         f"shape (the gradient of log p), got {shape}")
    return -s


def _diverged(step: int, what: str, hint: str) -> RuntimeError:
    return RuntimeError(f"the chain diverged at step {step}: {what}. {hint}")


def _prepare(energy, x0, n_steps, step_size, temperature_, thin, generator=None,
             return_trace=False):
    as_callable(energy, "energy", "a function mapping (batch, d) tensors to (batch,) energies")
    as_generator(generator)
    x = as_points(x0, name="x0").detach().clone()
    n_steps = count(n_steps, "n_steps", minimum=0)
    thin = count(thin, "thin")
    if return_trace:
        _check_trace(n_steps // thin + 1, x.numel())
    return (
        x,
        n_steps,
        positive(step_size, "step_size"),
        check_temperature(temperature_),
        thin,
    )


def _check_trace(n_kept: int, per_state: int) -> None:
    check_memory(n_kept * per_state, "n_steps or the batch, or raise thin",
                 f"a trace of {n_kept} states of {per_state} numbers each")


def metropolis(
    energy: EnergyFn,
    x0: torch.Tensor,
    n_steps: int,
    step_size: float,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
    return_trace: bool = False,
    thin: int = 1,
) -> Chain:
    """Random-walk Metropolis–Hastings targeting p(x) ∝ exp(-E(x)/T).

    Proposal x' = x + step_size · ξ with ξ ~ N(0, I), accepted with probability
    min(1, exp(-(E(x') - E(x))/T)). Proposals with E = +inf (zero density) are rejected.

    Args:
        energy: maps (batch, d) to (batch,).
        x0: (batch, d) starting points, one chain per row; E(x0) must be finite.
        n_steps: number of proposals per chain.
        step_size: standard deviation of the Gaussian proposal.
        temperature: T > 0.
        generator: torch random generator (for reproducibility).
        return_trace: keep every ``thin``-th state.

    Returns:
        A ``Chain`` with ``x``, ``trace`` and the per-chain ``acceptance_rate``.
    """
    x, n_steps, step, t, thin = _prepare(energy, x0, n_steps, step_size, temperature, thin,
                                         generator, return_trace)
    with torch.no_grad():
        e = _energy_checked(energy, x)
        if not torch.isfinite(e).all():
            raise ValueError("E(x0) must be finite: start every chain where the density is > 0")
        accepted = torch.zeros(x.shape[0], dtype=x.dtype)
        trace = [x.clone()] if return_trace else None
        for i in range(1, n_steps + 1):
            prop = x + step * torch.randn(x.shape, generator=generator, dtype=x.dtype)
            e_prop = _energy_checked(energy, prop)
            if torch.isnan(e_prop).any():
                raise _diverged(i, "the energy returned NaN", "Check the energy function.")
            log_u = torch.log(torch.rand(x.shape[0], generator=generator, dtype=x.dtype))
            acc = log_u < -(e_prop - e) / t
            x = torch.where(acc[:, None], prop, x)
            e = torch.where(acc, e_prop, e)
            accepted += acc.to(x.dtype)
            if return_trace and i % thin == 0:
                trace.append(x.clone())
    return Chain(x, torch.stack(trace) if return_trace else None, accepted / max(n_steps, 1))


def langevin(
    energy: EnergyFn,
    x0: torch.Tensor,
    n_steps: int,
    step_size: float,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
    return_trace: bool = False,
    thin: int = 1,
    noise_scale: float = 1.0,
    clip: tuple[float, float] | None = None,
    score: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> Chain:
    """Unadjusted Langevin algorithm (ULA) for p(x) ∝ exp(-E(x)/T).

    x_{k+1} = x_k - ε ∇E(x_k)/T + noise_scale · √(2ε) ξ_k, ξ_k ~ N(0, I).

    With ``noise_scale=1`` this discretises the Langevin diffusion whose stationary law is
    p(x); the discretisation bias shrinks with ε (use ``mala`` to remove it). The common
    "decoupled" practice of a smaller noise (``noise_scale < 1``) samples a *colder*
    distribution, approximately exp(-E/(T·noise_scale²)): it is offered here to show that.

    Args:
        energy: differentiable map (batch, d) -> (batch,).
        x0: (batch, d) starting points.
        n_steps: number of Langevin steps.
        step_size: ε > 0.
        temperature: T > 0.
        generator: torch random generator.
        return_trace: keep every ``thin``-th state.
        noise_scale: multiplies the noise (1 = correct Langevin).
        clip: ``(low, high)`` to clamp every state into a box after each step (projected ULA,
            used for images with pixels in [0, 1]); ``None`` leaves the states free.
        score: optional closed form of s(x) = -∇E(x), (batch, d) -> (batch, d), e.g. a toy
            density's ``Density.score``. When given it replaces autograd of ``energy`` (several
            times cheaper on small batches); ``energy`` is then not called, so the two must
            describe the same E.

    Raises:
        RuntimeError: when a state or gradient becomes non-finite (step size too large).
    """
    x, n_steps, eps, t, thin = _prepare(energy, x0, n_steps, step_size, temperature, thin,
                                        generator, return_trace)
    noise_scale = non_negative(noise_scale, "noise_scale")
    sigma = noise_scale * math.sqrt(2 * eps)
    if clip is not None:
        try:
            low, high = (float(c) for c in clip)
        except (TypeError, ValueError) as err:
            raise ValueError(f"clip must be (low, high) numbers, got {clip!r}") from err
        if not low < high:
            raise ValueError(f"clip must be (low, high) with low < high, got {clip!r}")
    if score is not None:
        as_callable(score, "score", "a function mapping (batch, d) tensors to (batch, d) "
                    "scores -∇E")
    trace = [x.clone()] if return_trace else None
    for i in range(1, n_steps + 1):
        g = _grad_energy(energy, x)[1] if score is None else _minus_score(score, x)
        x = x - eps * g / t + sigma * torch.randn(x.shape, generator=generator, dtype=x.dtype)
        if clip is not None:
            x = x.clamp(low, high)
        if not torch.isfinite(x).all():
            raise _diverged(
                i, "a state became NaN or infinite",
                f"Reduce step_size (now {eps:g}); Langevin is stable only when ε is small "
                "compared with the curvature of the energy.",
            )
        if return_trace and i % thin == 0:
            trace.append(x.clone())
    return Chain(x.detach(), torch.stack(trace) if return_trace else None, None)


def mala(
    energy: EnergyFn,
    x0: torch.Tensor,
    n_steps: int,
    step_size: float,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
    return_trace: bool = False,
    thin: int = 1,
) -> Chain:
    """Metropolis-adjusted Langevin algorithm for p(x) ∝ exp(-E(x)/T).

    Proposal x' = x - ε ∇U(x) + √(2ε) ξ with U = E/T, accepted with probability
    min(1, exp(-U(x') + U(x)) q(x | x') / q(x' | x)), where
    q(a | b) ∝ exp(-|a - b + ε ∇U(b)|² / (4ε)). The correction makes p exactly stationary.

    Arguments as in ``langevin``; returns a ``Chain`` with the per-chain acceptance rate.
    """
    x, n_steps, eps, t, thin = _prepare(energy, x0, n_steps, step_size, temperature, thin,
                                        generator, return_trace)
    e, g = _grad_energy(energy, x)
    if not (torch.isfinite(e).all() and torch.isfinite(g).all()):
        raise ValueError("E(x0) and its gradient must be finite at every starting point")
    u, gu = e / t, g / t
    accepted = torch.zeros(x.shape[0], dtype=x.dtype)
    trace = [x.clone()] if return_trace else None
    sq = math.sqrt(2 * eps)
    for i in range(1, n_steps + 1):
        prop = x - eps * gu + sq * torch.randn(x.shape, generator=generator, dtype=x.dtype)
        e_p, g_p = _grad_energy(energy, prop)
        u_p, gu_p = e_p / t, g_p / t
        if torch.isnan(u_p).any():
            raise _diverged(i, "the energy returned NaN", "Check the energy function.")
        log_q_fwd = -((prop - x + eps * gu) ** 2).sum(1) / (4 * eps)
        log_q_bwd = -((x - prop + eps * gu_p) ** 2).sum(1) / (4 * eps)
        log_alpha = -u_p + u + log_q_bwd - log_q_fwd
        log_alpha = torch.nan_to_num(log_alpha, nan=-math.inf)  # inf - inf: reject
        acc = torch.log(torch.rand(x.shape[0], generator=generator, dtype=x.dtype)) < log_alpha
        x = torch.where(acc[:, None], prop, x)
        u = torch.where(acc, u_p, u)
        gu = torch.where(acc[:, None], gu_p, gu)
        accepted += acc.to(x.dtype)
        if return_trace and i % thin == 0:
            trace.append(x.clone())
    return Chain(x.detach(), torch.stack(trace) if return_trace else None,
                 accepted / max(n_steps, 1))


def ising_sweeps(
    model,
    spins0: torch.Tensor,
    n_sweeps: int,
    temperature: float,
    generator: torch.Generator | None = None,
    method: str = "gibbs",
    record_every: int = 0,
    order: str = "auto",
) -> Chain:
    """Single-site Monte Carlo sweeps of an ``IsingModel``, one chain per row of ``spins0``.

    One sweep updates every site once. At site i with local field h_i (see
    ``IsingModel.local_field``), flipping s_i costs ΔE = 2 s_i h_i;

    * ``"metropolis"`` flips with probability min(1, exp(-ΔE/T));
    * ``"gibbs"`` (heat bath) sets s_i = +1 with probability σ(2 h_i / T).

    Both leave the Boltzmann distribution exp(-E/T)/Z invariant, but only the heat bath is safe
    with a fixed visiting order: Metropolis accepts every flip with ΔE ≤ 0 with probability one,
    so a deterministic scan can lock some configurations into cycles of zero-energy flips that
    never leave (seen on the 3×3 periodic lattice, where a few chains stay at high energy for
    ever). The default is therefore ``"gibbs"``; notebook 01 measures the pitfall.

    Sites are visited either one
    by one in row-major order (``order="sequential"``) or colour by colour
    (``"checkerboard"``): on a periodic lattice with even L the sites of one colour have all
    their neighbours in the other colour, so they are conditionally independent and updating
    them together is exactly a sequence of single-site updates — just vectorised. ``"auto"``
    uses the checkerboard whenever L is even.

    Args:
        model: an ``ebm_helpers.energies.IsingModel``.
        spins0: (batch, L*L) ±1 starting configurations.
        n_sweeps: number of sweeps.
        temperature: T > 0.
        generator: torch random generator.
        method: ``"gibbs"`` (heat bath, default) or ``"metropolis"``.
        record_every: if > 0, keep the configurations after every ``record_every`` sweeps in
            ``trace`` (n_kept, batch, L*L).
        order: ``"auto"``, ``"sequential"`` or ``"checkerboard"`` (even L only).

    Returns:
        A ``Chain``; ``acceptance_rate`` is the fraction of site updates that flipped a spin.
    """
    from .energies import IsingModel

    as_module(model, "model", IsingModel, "; build one with energies.IsingModel(L)")
    choice(method, "method", ("metropolis", "gibbs"))
    choice(order, "order", ("auto", "sequential", "checkerboard"))
    as_generator(generator)
    if order == "checkerboard" and model.L % 2:
        raise ValueError(
            f"checkerboard updates need an even L (the periodic {model.L}×{model.L} lattice is "
            "not bipartite); use order='sequential'"
        )
    s = model.check_spins(spins0).clone()
    n_sweeps = count(n_sweeps, "n_sweeps", minimum=0)
    t = check_temperature(temperature)
    record_every = count(record_every, "record_every", minimum=0)
    batch, n = s.shape
    if record_every:
        _check_trace(n_sweeps // record_every, s.numel())
    nbr = model.neighbours
    if order == "sequential" or (order == "auto" and model.L % 2):
        groups = [torch.tensor([i]) for i in range(n)]
    else:
        row, col = torch.arange(n) // model.L, torch.arange(n) % model.L
        colour = (row + col) % 2
        groups = [torch.nonzero(colour == c)[:, 0] for c in (0, 1)]
    flips = torch.zeros(batch, dtype=s.dtype)
    trace = []
    for sweep in range(1, n_sweeps + 1):
        for sites in groups:
            u = torch.rand(batch, sites.numel(), generator=generator, dtype=s.dtype)
            h = model.J * s[:, nbr[sites]].sum(-1) + model.h  # (batch, |group|)
            old = s[:, sites]
            if method == "metropolis":
                new = torch.where(u < torch.exp(-2 * old * h / t), -old, old)
            else:
                new = torch.where(u < torch.sigmoid(2 * h / t), 1.0, -1.0).to(s.dtype)
            flips += (new != old).to(s.dtype).sum(1)
            s[:, sites] = new
        if record_every and sweep % record_every == 0:
            trace.append(s.clone())
    rate = flips / max(n_sweeps * n, 1)
    return Chain(s, torch.stack(trace) if trace else None, rate)
