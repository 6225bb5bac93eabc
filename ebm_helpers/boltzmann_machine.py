"""Tiny fully connected Boltzmann machines, computed exactly by enumerating every state.

A Boltzmann machine (Hinton & Sejnowski 1983; Ackley, Hinton & Sejnowski 1985) has n binary
units s ∈ {0, 1}^n — the first ``n_visible`` are visible (v), the rest hidden (h) — joined by
symmetric weights W (n, n) with zero diagonal, and biases b (n,):

    E(s) = -½ sᵀWs - bᵀs = -Σ_{i<j} W_ij s_i s_j - Σ_i b_i s_i,      p(s) = exp(-E(s)) / Z.

The model of the data is the marginal p(v) = Σ_h p(v, h), and the gradient of the average
log-likelihood is the famous difference of two correlations,

    ∂⟨log p(v)⟩_data / ∂W_ij = ⟨s_i s_j⟩_data - ⟨s_i s_j⟩_model,
    ∂⟨log p(v)⟩_data / ∂b_i  = ⟨s_i⟩_data - ⟨s_i⟩_model,

where the *positive phase* ⟨·⟩_data clamps v to a training vector and averages the hidden units
over p(h | v), and the *negative phase* ⟨·⟩_model averages over the free-running model p(s).
For n ≤ ``MAX_ENUMERATED_UNITS`` = 20 units all 2^n states can be listed, so every quantity here
is exact (no sampling): ``log_partition``, ``visible_log_probs``, ``log_likelihood``,
``positive_phase``, ``negative_phase``, ``exact_gradient`` and the training loop
``train_exact``. ``gibbs_sample`` runs the stochastic (heat-bath) units, p(s_i = 1 | rest) =
σ(Σ_j W_ij s_j + b_i), which is how the negative phase must be estimated at scale.

Conventions: units are 0/1 floats (for ±1 Hopfield units see ``ebm_helpers.hopfield``); state
number k of ``all_states(n)`` has unit i equal to bit i of k, so with visible units first the
joint state index is ``v_index + 2**n_visible * h_index`` (see ``state_index``). Everything is
float64. Random choices use an explicit ``generator``. Used by notebook 02 (Hopfield networks
and Boltzmann machines); the restricted machine of notebooks 03–05 lives in ``ebm_helpers.rbm``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ._training import DivergenceGuard
from ._validation import (
    ArgumentTypeError,
    as_generator,
    check_cost,
    count,
    non_negative,
    positive,
)

__all__ = [
    "MAX_ENUMERATED_UNITS",
    "BMParams",
    "Phase",
    "TrainResult",
    "all_states",
    "empirical_distribution",
    "energy",
    "exact_gradient",
    "gibbs_sample",
    "log_likelihood",
    "log_partition",
    "model_log_probs",
    "negative_phase",
    "positive_phase",
    "random_params",
    "state_index",
    "train_exact",
    "visible_log_probs",
]

MAX_ENUMERATED_UNITS = 20
"""The most units a machine may have for exact enumeration (2^20 ≈ 10^6 states)."""

_CHUNK = 2**15  # states per chunk when summing over all 2^n states


@dataclass
class BMParams:
    """The parameters of a Boltzmann machine.

    Attributes:
        W: (n, n) float64 symmetric weights with zero diagonal.
        b: (n,) float64 biases.
        n_visible: the first ``n_visible`` units are visible, the rest hidden.
    """

    W: torch.Tensor
    b: torch.Tensor
    n_visible: int

    @property
    def n_units(self) -> int:
        return self.W.shape[0]

    @property
    def n_hidden(self) -> int:
        return self.n_units - self.n_visible

    def copy(self) -> BMParams:
        return BMParams(self.W.clone(), self.b.clone(), self.n_visible)


@dataclass
class Phase:
    """Second and first moments of the units under one distribution.

    Attributes:
        ss: (n, n) ⟨s_i s_j⟩ (its diagonal is ⟨s_i⟩, since s_i² = s_i for 0/1 units).
        s: (n,) ⟨s_i⟩.
    """

    ss: torch.Tensor
    s: torch.Tensor


@dataclass
class TrainResult:
    """The result of ``train_exact``.

    Attributes:
        params: the trained ``BMParams``.
        log_likelihood: (n_steps + 1,) exact average log-likelihood (nats), before every step
            and after the last.
        grad_norm: (n_steps,) Frobenius norm of the weight gradient at every step.
    """

    params: BMParams
    log_likelihood: np.ndarray
    grad_norm: np.ndarray


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------


def _check_size(n: int, what: str = "the machine") -> int:
    if n > MAX_ENUMERATED_UNITS:
        raise ValueError(
            f"{what} has {n} units, i.e. 2^{n} ≈ 10^{n * 0.30103:.0f} states; exact enumeration is "
            f"limited "
            f"to {MAX_ENUMERATED_UNITS} units (2^{MAX_ENUMERATED_UNITS} ≈ 10^6 states). Use "
            "fewer units, estimate the negative phase by sampling (gibbs_sample), or restrict "
            "the connectivity to an RBM (ebm_helpers.rbm), whose hidden layer sums out exactly."
        )
    return n


def _check_params(params: BMParams, enumerate_states: bool = True) -> BMParams:
    if not isinstance(params, BMParams):
        raise ArgumentTypeError(
            f"params must be a BMParams (see random_params), got {type(params).__name__}")
    try:
        W = torch.as_tensor(params.W, dtype=torch.float64)
        b = torch.as_tensor(params.b, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"params.W and params.b must be tensors of numbers: {err}") from err
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be a square (n, n) matrix, got shape {tuple(W.shape)}")
    n = W.shape[0]
    if b.shape != (n,):
        raise ValueError(f"b must have shape ({n},) to match W, got {tuple(b.shape)}")
    if not (torch.isfinite(W).all() and torch.isfinite(b).all()):
        raise ValueError("W or b has non-finite values (NaN or inf): lower the learning rate")
    if not torch.allclose(W, W.T, atol=1e-12) or bool(W.diagonal().abs().max() > 1e-12):
        raise ValueError(
            "W must be symmetric with a zero diagonal (a Boltzmann machine's connections are "
            "undirected and a unit is not connected to itself): use (A + A.T) / 2 and "
            "W.fill_diagonal_(0)"
        )
    nv = params.n_visible
    if isinstance(nv, bool) or not isinstance(nv, (int, np.integer)) or not 1 <= nv <= n:
        raise ValueError(f"n_visible must be a whole number in [1, {n}], got {nv!r}")
    if enumerate_states:
        _check_size(n)
    return BMParams(W, b, int(nv))


def _binary(x, n: int, name: str) -> torch.Tensor:
    try:
        x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"{name} must be an array of 0/1 values: {err}") from err
    if x.is_complex():
        raise ValueError(f"{name} must hold real 0/1 values, got dtype {x.dtype}")
    if x.dtype == torch.bool:
        x = x.double()
    x = x.to(torch.float64)
    if x.ndim == 1:
        x = x.reshape(1, -1)
    if x.ndim != 2 or x.shape[1] != n:
        raise ValueError(f"{name} must have shape (batch, {n}), got {tuple(x.shape)}")
    if x.shape[0] == 0:
        raise ValueError(f"{name} is empty; pass at least one row")
    if not ((x == 0) | (x == 1)).all():
        if ((x == -1) | (x == 1)).all():
            raise ValueError(
                f"{name} holds ±1 values; Boltzmann units here are 0/1: use (x + 1) / 2"
            )
        raise ValueError(f"{name} must contain only 0 and 1; binarise first, e.g. (x > 0.5)")
    return x


# --------------------------------------------------------------------------------------------
# States and energies
# --------------------------------------------------------------------------------------------


def all_states(n_units: int, start: int = 0, stop: int | None = None) -> torch.Tensor:
    """The binary states numbered ``start .. stop-1`` (all 2^n by default): (k, n) float64.

    Row k has unit i equal to bit i of k (least significant bit first).

    Raises:
        ValueError: for more than ``MAX_ENUMERATED_UNITS`` units (2^n rows would not fit).
    """
    n = _check_size(count(n_units, "n_units", minimum=0), "the requested state space")
    start = count(start, "start", minimum=0)
    stop = 2**n if stop is None else count(stop, "stop", minimum=start)
    if stop > 2**n:
        raise ValueError(f"stop must be at most 2^n_units = {2**n}, got {stop}")
    idx = torch.arange(start, stop, dtype=torch.int64)
    return ((idx[:, None] >> torch.arange(n)) & 1).to(torch.float64)


def state_index(s) -> torch.Tensor:
    """The number k of each binary row (inverse of ``all_states``): (batch, n) -> (batch,) long."""
    x = torch.as_tensor(s)
    if x.ndim == 1:
        x = x.reshape(1, -1)
    x = _binary(x, x.shape[1], "s")
    return (x.long() << torch.arange(x.shape[1])).sum(1)


def energy(params: BMParams, s) -> torch.Tensor:
    """E(s) = -½ sᵀWs - bᵀs for a batch of 0/1 states: (batch, n) -> (batch,)."""
    p = _check_params(params)
    x = _binary(s, p.n_units, "s")
    return -0.5 * ((x @ p.W) * x).sum(1) - x @ p.b


def _energy_unchecked(W, b, x):
    return -0.5 * ((x @ W) * x).sum(1) - x @ b


def random_params(
    n_visible: int, n_hidden: int, generator: torch.Generator | None = None, scale: float = 0.1
) -> BMParams:
    """Small random symmetric weights W_ij ~ N(0, scale²) (i < j, mirrored), zero biases."""
    nv = count(n_visible, "n_visible")
    nh = count(n_hidden, "n_hidden", minimum=0)
    n = _check_size(nv + nh)
    scale = non_negative(scale, "scale")
    as_generator(generator)
    a = scale * torch.randn(n, n, generator=generator, dtype=torch.float64)
    W = torch.triu(a, 1)
    W = W + W.T
    return BMParams(W, torch.zeros(n, dtype=torch.float64), nv)


# --------------------------------------------------------------------------------------------
# Exact distributions
# --------------------------------------------------------------------------------------------


def log_partition(params: BMParams) -> float:
    """log Z = log Σ_s exp(-E(s)) over all 2^n states (chunked log-sum-exp)."""
    p = _check_params(params)
    return float(_log_z(p))


def _log_z(p: BMParams) -> torch.Tensor:
    n = p.n_units
    parts = []
    for start in range(0, 2**n, _CHUNK):
        x = all_states(n, start, min(start + _CHUNK, 2**n))
        parts.append(torch.logsumexp(-_energy_unchecked(p.W, p.b, x), 0))
    return torch.logsumexp(torch.stack(parts), 0)


def model_log_probs(params: BMParams) -> torch.Tensor:
    """log p(s) for all 2^n joint states, in ``all_states`` order: (2^n,)."""
    p = _check_params(params)
    x = all_states(p.n_units)
    logits = -_energy_unchecked(p.W, p.b, x)
    return logits - torch.logsumexp(logits, 0)


def visible_log_probs(params: BMParams) -> torch.Tensor:
    """The model's marginal log p(v) = log Σ_h exp(-E(v, h)) - log Z for all 2^n_v visible
    vectors, in ``all_states(n_visible)`` order: (2^n_visible,)."""
    p = _check_params(params)
    joint = model_log_probs(p)  # index = v + 2^nv * h
    return torch.logsumexp(joint.reshape(2**p.n_hidden, 2**p.n_visible), 0)


def empirical_distribution(data, n_visible: int | None = None) -> torch.Tensor:
    """The data distribution over all 2^n_v visible vectors (counts / n): (2^n_v,) float64."""
    try:
        x = torch.as_tensor(np.asarray(data) if not isinstance(data, torch.Tensor) else data)
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"data must be an array of 0/1 values: {err}") from err
    if x.ndim == 1:
        x = x.reshape(1, -1)
    if x.ndim != 2:
        raise ValueError(f"data must have shape (batch, n_visible), got {tuple(x.shape)}")
    nv = x.shape[1] if n_visible is None else count(n_visible, "n_visible")
    _check_size(nv, "the visible layer")
    x = _binary(x, nv, "data")
    counts = torch.bincount(state_index(x), minlength=2**nv).to(torch.float64)
    return counts / counts.sum()


def log_likelihood(params: BMParams, data) -> float:
    """The exact average log-likelihood (1/M) Σ_m log p(v^m) of a (M, n_visible) 0/1 batch."""
    p = _check_params(params)
    v = _binary(data, p.n_visible, "data")
    return float(visible_log_probs(p)[state_index(v)].mean())


# --------------------------------------------------------------------------------------------
# The two phases and the gradient
# --------------------------------------------------------------------------------------------


def positive_phase(params: BMParams, data) -> Phase:
    """The clamped statistics ⟨s_i s_j⟩_data: v fixed to each training row, h ~ p(h | v).

    p(h | v) = exp(-E(v, h)) / Σ_h' exp(-E(v, h')) is computed exactly over the 2^n_h hidden
    states; the moments are averaged over the M rows:
    ⟨s sᵀ⟩_data = (1/M) Σ_m Σ_h p(h | v^m) s sᵀ with s = (v^m, h).

    Args:
        params: the machine.
        data: (M, n_visible) 0/1 training vectors.

    Returns:
        A ``Phase`` with ``ss`` (n, n) and ``s`` (n,).
    """
    p = _check_params(params)
    v = _binary(data, p.n_visible, "data")
    m, nv, nh = v.shape[0], p.n_visible, p.n_hidden
    hs = all_states(nh)  # (H, nh)
    # rows of data at a time, so that the (rows, H, n) joint states stay within _CHUNK·n numbers
    rows = max(1, _CHUNK // hs.shape[0])
    ss = torch.zeros(nv + nh, nv + nh, dtype=torch.float64)
    s1 = torch.zeros(nv + nh, dtype=torch.float64)
    for start in range(0, m, rows):
        vc = v[start : start + rows]
        mc = vc.shape[0]
        s = torch.cat([vc[:, None, :].expand(mc, hs.shape[0], nv),
                       hs[None].expand(mc, -1, -1)], -1)
        logits = -_energy_unchecked(p.W, p.b, s.reshape(-1, nv + nh)).reshape(mc, -1)
        w = torch.softmax(logits, 1) / m  # p(h | v^m) / M, (rows, H)
        part_ss = torch.einsum("mk,mki,mkj->ij", w, s, s)
        part_s = torch.einsum("mk,mki->i", w, s)
        if start == 0:  # one chunk (the usual case): exactly the unchunked sums
            ss, s1 = part_ss, part_s
        else:
            ss, s1 = ss + part_ss, s1 + part_s
    return Phase(ss, s1)


def negative_phase(params: BMParams) -> Phase:
    """The free-running statistics ⟨s_i s_j⟩_model = Σ_s p(s) s_i s_j over all 2^n states."""
    p = _check_params(params)
    n = p.n_units
    log_z = _log_z(p)
    ss = torch.zeros(n, n, dtype=torch.float64)
    s1 = torch.zeros(n, dtype=torch.float64)
    for start in range(0, 2**n, _CHUNK):
        x = all_states(n, start, min(start + _CHUNK, 2**n))
        prob = torch.exp(-_energy_unchecked(p.W, p.b, x) - log_z)
        ss += (x * prob[:, None]).T @ x
        s1 += prob @ x
    return Phase(ss, s1)


def exact_gradient(params: BMParams, data) -> tuple[torch.Tensor, torch.Tensor]:
    """The exact gradient of the average log-likelihood: positive minus negative phase.

    dW_ij = ⟨s_i s_j⟩_data - ⟨s_i s_j⟩_model (i ≠ j; zero diagonal), db_i = ⟨s_i⟩_data -
    ⟨s_i⟩_model. dW_ij is the derivative with respect to the *pair* weight W_ij = W_ji (one
    parameter per connection), as in the learning rule of Ackley, Hinton & Sejnowski (1985).

    Returns:
        ``(dW, db)`` of shapes (n, n) and (n,).
    """
    pos = positive_phase(params, data)
    neg = negative_phase(params)
    dW = pos.ss - neg.ss
    dW = 0.5 * (dW + dW.T)  # exactly symmetric (the sums above round differently per entry)
    dW.fill_diagonal_(0.0)
    return dW, pos.s - neg.s


def train_exact(
    params: BMParams,
    data,
    n_steps: int,
    learning_rate: float = 0.5,
    progress=None,
    max_weight: float = 1e3,
) -> TrainResult:
    """Gradient ascent on the exact average log-likelihood with ``exact_gradient``.

    W ← W + η (⟨ssᵀ⟩_data - ⟨ssᵀ⟩_model), b ← b + η (⟨s⟩_data - ⟨s⟩_model); the input
    ``params`` is not modified.

    Args:
        params: the starting machine (e.g. ``random_params``).
        data: (M, n_visible) 0/1 training vectors.
        n_steps: number of full-batch gradient steps.
        learning_rate: η > 0.
        progress: optional wrapper for the step range (e.g. ``functools.partial(tqdm, ...)``).
        max_weight: divergence guard: a ``RuntimeError`` when a weight or bias exceeds it in
            magnitude, or when the log-likelihood collapses far below its starting value
            (with a step this large, gradient ascent overshoots and oscillates).

    Returns:
        A ``TrainResult`` with the trained parameters and the log-likelihood curve.

    Raises:
        ValueError: for bad data or settings, or a run whose estimated cost (n_steps full
            enumerations) would take many minutes. RuntimeError: when training diverges.
    """
    p = _check_params(params).copy()
    v = _binary(data, p.n_visible, "data")
    n_steps = count(n_steps, "n_steps", minimum=0)
    lr = positive(learning_rate, "learning_rate")
    max_weight = positive(max_weight, "max_weight")
    if progress is not None and not callable(progress):
        raise ArgumentTypeError("progress must be None or a wrapper of the step range, e.g. "
                                "functools.partial(tqdm, desc='training')")
    n, m = p.n_units, v.shape[0]
    # per step: the negative phase and two log-likelihoods (2^n states, n² work each) and the
    # positive phase (M × 2^n_h states)
    check_cost(float(n_steps) * (3 * 2**n + m * 2**p.n_hidden) * n * n,
               "n_steps (or the number of units)", f"{n_steps} exact training steps")
    guard = DivergenceGuard(
        "exact Boltzmann machine training", f"lower learning_rate (now {lr:g}), e.g. 10×",
        params=(p.W, p.b), max_param=max_weight, loss_factor=None,
        cause="the learning rate is probably too high, so each step overshoots")
    ll = [log_likelihood(p, v)]
    norms = []
    steps = range(n_steps) if progress is None else progress(range(n_steps))
    for step in steps:
        dW, db = exact_gradient(p, v)
        p.W += lr * dW
        p.b += lr * db
        norms.append(float(dW.norm()))
        ll.append(log_likelihood(p, v))
        when = f"at step {step + 1}"
        guard.check_params(when)
        if ll[-1] < ll[0] - 10.0 * (1.0 + abs(ll[0])):  # ascent must not lose this much
            raise guard.error(when, f"the log-likelihood fell from {ll[0]:.3g} to {ll[-1]:.3g}")
    return TrainResult(p, np.array(ll), np.array(norms))


# --------------------------------------------------------------------------------------------
# Sampling
# --------------------------------------------------------------------------------------------


def gibbs_sample(
    params: BMParams,
    s0,
    n_sweeps: int,
    generator: torch.Generator | None = None,
    clamp_visible: bool = False,
) -> torch.Tensor:
    """Heat-bath (Gibbs) sweeps over the units of a batch of independent chains.

    Each unit in turn is set to 1 with probability p(s_i = 1 | rest) = σ(Σ_j W_ij s_j + b_i):
    flipping s_i from 0 to 1 changes the energy by -(Σ_j W_ij s_j + b_i). The chains converge
    to p(s) (or to p(h | v) with ``clamp_visible=True``, which updates only hidden units).

    Args:
        params: the machine (any size: sampling needs no enumeration).
        s0: (batch, n) 0/1 starting states.
        n_sweeps: sweeps over all (updated) units.
        generator: torch random generator.
        clamp_visible: keep the visible units fixed (positive-phase sampling).

    Returns:
        The final states, (batch, n) float64.
    """
    p = _check_params(params, enumerate_states=False)
    W, b, n = p.W, p.b, p.n_units
    s = _binary(s0, n, "s0").clone()
    n_sweeps = count(n_sweeps, "n_sweeps", minimum=0)
    as_generator(generator)
    units = range(params.n_visible if clamp_visible else 0, n)
    for _ in range(n_sweeps):
        for i in units:
            h = s @ W[i] + b[i]
            u = torch.rand(s.shape[0], generator=generator, dtype=torch.float64)
            s[:, i] = (u < torch.sigmoid(h)).double()
    return s

