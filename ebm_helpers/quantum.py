"""Quantum Boltzmann machines (QBMs) by exact diagonalisation (notebook 14).

A QBM (Amin, Andriyash, Rolfe, Kulchytskyy & Melko 2018) replaces the Boltzmann machine's
energy by the transverse-field Ising Hamiltonian on n qubits,

    H = -Σ_a Γ_a σˣ_a - Σ_a b_a σᶻ_a - Σ_{a<b} W_ab σᶻ_a σᶻ_b,

and its distribution by the Gibbs density matrix ρ = e^{-βH} / Z, Z = Tr e^{-βH}. Measuring the
qubits in the computational (σᶻ) basis returns configuration v with probability
P_v = Tr(Λ_v ρ), Λ_v the projector on v (tensored with the identity on hidden qubits, which
are traced out). With Γ = 0, H is diagonal and the QBM is a classical Boltzmann machine with
±1 spins.

Conventions (DESIGN.md §3): qubit 0 is the leftmost Kronecker factor, so in basis state number
k the bit of qubit a is bit (n - 1 - a) of k, and bit 0 ↔ σᶻ = +1 (spin up), bit 1 ↔ σᶻ = -1.
``configurations(n)`` lists the bits of every basis state in this order, ``spins(n)`` the σᶻ
values z = 1 - 2·bit. The visible qubits are the first ``n_visible`` ones, so visible
configuration number v owns the basis states v·2^{n_h} … (v+1)·2^{n_h} - 1.

What is here (all float64 torch tensors, dense matrices, at most ``MAX_QUBITS`` = 12 qubits):

* operators: ``pauli_operator`` (σˣ_a, σᶻ_a on n qubits by Kronecker products), ``hamiltonian``;
* the Gibbs state: ``gibbs_state`` (eigendecomposition with energies shifted by the ground-state
  energy before exponentiating), ``density_matrix``, ``visible_probabilities``,
  ``expectations`` (⟨σᶻ_a⟩, ⟨σᶻ_a σᶻ_b⟩, ⟨σˣ_a⟩);
* the exact gradient of the negative log-likelihood L = -Σ_v P^data_v log P_v through the
  eigenbasis (``divided_differences``, ``nll_gradient``): the Duhamel / Daleckii–Krein formula;
* the Golden–Thompson bound L̃ ≥ L of the bound-based QBM (bQBM), ``bound_nll`` and
  ``bound_gradient``, and why it cannot learn Γ (its Γ-gradient on a visible qubit is
  β⟨σˣ_a⟩ ≥ 0, which only ever pushes Γ_a to zero);
* ``train``: full-batch Adam (or plain gradient descent) on either objective; Γ = 0 with the
  exact gradient is the classical Boltzmann machine, which ``to_boltzmann_machine`` converts
  into ``ebm_helpers.boltzmann_machine``'s 0/1 convention;
* ``bernoulli_mixture``: Amin et al.'s toy data, a mixture of Bernoulli modes.

Used by notebook 14 (quantum Boltzmann machines) and ``widgets.transverse_field``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from . import boltzmann_machine as bm
from ._training import DivergenceGuard, History
from ._validation import as_generator, check_cost, count, positive

__all__ = [
    "MAX_QUBITS",
    "PAULI_X",
    "PAULI_Z",
    "GibbsState",
    "Gradient",
    "Moments",
    "QBMTrainResult",
    "basis_index",
    "bernoulli_mixture",
    "bound_gradient",
    "bound_nll",
    "configurations",
    "dense_matrix_bytes",
    "density_matrix",
    "divided_differences",
    "expectations",
    "gibbs_state",
    "hamiltonian",
    "kl_divergence",
    "nll",
    "nll_gradient",
    "pauli_operator",
    "random_parameters",
    "spins",
    "to_boltzmann_machine",
    "train",
    "visible_probabilities",
]

MAX_QUBITS = 12
"""The most qubits ``hamiltonian`` accepts: a dense 4096 × 4096 float64 matrix is 128 MiB."""

PAULI_X = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
"""σˣ, the bit flip: σˣ|0⟩ = |1⟩."""

PAULI_Z = torch.tensor([[1.0, 0.0], [0.0, -1.0]], dtype=torch.float64)
"""σᶻ = diag(+1, -1): basis state |0⟩ has σᶻ = +1, |1⟩ has σᶻ = -1."""

_SMALL_GAP = 1e-5  # |β ΔE| below this: divided differences by their Taylor series
_MAX_FIELD = 100.0  # β·|b|, β·|W|, β·|Γ| above this: a training run is running away


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------


def dense_matrix_bytes(n_qubits: int) -> int:
    """Bytes of one dense (2^n, 2^n) float64 matrix: 8 · 4^n."""
    return 8 * 4 ** int(n_qubits)


def _mib(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:,.0f} MiB" if n_bytes < 2**30 else f"{n_bytes / 2**30:,.1f} GiB"


def _check_size(n: int) -> int:
    if n > MAX_QUBITS:
        raise ValueError(
            f"{n} qubits need a dense {2**n} × {2**n} float64 Hamiltonian of "
            f"{_mib(dense_matrix_bytes(n))}, and its eigendecomposition and the exact gradient "
            f"hold about six such matrices ({_mib(6 * dense_matrix_bytes(n))}); exact "
            f"diagonalisation here is limited to {MAX_QUBITS} qubits "
            f"({_mib(dense_matrix_bytes(MAX_QUBITS))} per matrix). Use fewer qubits, or a "
            "sampler (quantum Monte Carlo, a quantum annealer) for larger machines."
        )
    return n


def _tensor(x, name: str) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        t = x.detach()
    else:
        try:
            t = torch.as_tensor(np.asarray(x, dtype=np.float64))
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name} must be a tensor or array of numbers: {err}") from err
    if t.dtype == torch.bool or t.is_complex():
        raise ValueError(f"{name} must hold real numbers, got dtype {t.dtype}")
    return t.to(torch.float64)


def _check_params(b, W, gamma) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Validate (b, W, Γ) and return float64 tensors b (n,), W (n, n), Γ (n,)."""
    b = _tensor(b, "b")
    W = _tensor(W, "W")
    if b.ndim != 1 or b.shape[0] == 0:
        raise ValueError(f"b must be a vector (n,) with one bias per qubit, got shape "
                         f"{tuple(b.shape)}")
    n = b.shape[0]
    if W.shape != (n, n):
        raise ValueError(f"W must have shape ({n}, {n}) to match b, got {tuple(W.shape)}")
    _check_size(n)
    g = _tensor(gamma, "gamma")
    if g.ndim == 0:
        g = g.expand(n).clone()
    if g.shape != (n,):
        raise ValueError(f"gamma must be a number or a vector ({n},), got shape {tuple(g.shape)}")
    if not (torch.isfinite(b).all() and torch.isfinite(W).all() and torch.isfinite(g).all()):
        raise ValueError("b, W or gamma has NaN or infinite entries (a diverged training run? "
                         "lower the learning rate)")
    scale = max(1.0, float(W.abs().max()))
    if float((W - W.T).abs().max()) > 1e-10 * scale:
        raise ValueError("W must be symmetric (W_ab couples qubits a and b once, as the term "
                         "-W_ab σᶻ_a σᶻ_b with a < b): use (A + A.T) / 2")
    if float(W.diagonal().abs().max()) > 1e-10 * scale:
        raise ValueError("W must have a zero diagonal (σᶻ_a σᶻ_a = 1 is a constant, not a "
                         "coupling): use W.fill_diagonal_(0)")
    return b, W, g


def _check_beta(beta) -> float:
    return positive(beta, "beta (the inverse temperature 1/T)",
                    "; β → 0 is infinite temperature and β = ∞ the ground state, so use a "
                    "small or large positive value")


def _check_n_visible(n_visible, n: int) -> int:
    if n_visible is None:
        return n
    if isinstance(n_visible, bool) or not isinstance(n_visible, (int, np.integer)) or not (
        1 <= n_visible <= n
    ):
        raise ValueError(f"n_visible must be a whole number in [1, {n}] (the first n_visible "
                         f"qubits are visible), got {n_visible!r}")
    return int(n_visible)


def _check_distribution(p_data, n_visible: int | None, name: str = "p_data") -> torch.Tensor:
    p = _tensor(p_data, name).reshape(-1)
    if n_visible is not None and p.shape[0] != 2**n_visible:
        raise ValueError(f"{name} must hold one probability per visible configuration, "
                         f"2^{n_visible} = {2**n_visible} values in basis order (see "
                         f"configurations), got {p.shape[0]}")
    if not torch.isfinite(p).all():
        raise ValueError(f"{name} has NaN or infinite entries")
    if float(p.min()) < 0:
        raise ValueError(f"{name} has negative entries (smallest {float(p.min()):.3g}); "
                         "probabilities must be ≥ 0")
    total = float(p.sum())
    if abs(total - 1.0) > 1e-9:
        raise ValueError(f"{name} must sum to 1, got {total:.12g}; normalise it "
                         f"({name} / {name}.sum()) or build it with empirical counts / n")
    return p


# --------------------------------------------------------------------------------------------
# Basis, operators, Hamiltonian
# --------------------------------------------------------------------------------------------


def configurations(n: int) -> torch.Tensor:
    """The bits of all 2^n basis states in basis order: (2^n, n) float64 of 0/1.

    Row k, column a is the bit of qubit a in basis state k: bit (n - 1 - a) of k (qubit 0 is
    the leftmost Kronecker factor, i.e. the most significant bit); bit 0 ↔ σᶻ = +1.
    """
    n = _check_size(count(n, "n"))
    k = torch.arange(2**n, dtype=torch.int64)
    shifts = torch.arange(n - 1, -1, -1, dtype=torch.int64)
    return ((k[:, None] >> shifts) & 1).to(torch.float64)


def spins(n: int) -> torch.Tensor:
    """The σᶻ values z = 1 - 2·bit of all 2^n basis states: (2^n, n) float64 of ±1."""
    return 1.0 - 2.0 * configurations(n)


def basis_index(bits) -> torch.Tensor:
    """The basis-state number of each row of 0/1 bits (inverse of ``configurations``).

    Args:
        bits: (batch, n) or (n,) of 0/1, column a = qubit a.

    Returns:
        (batch,) int64 indices k = Σ_a bit_a 2^{n-1-a}.
    """
    x = _tensor(bits, "bits")
    if x.ndim == 1:
        x = x.reshape(1, -1)
    if x.ndim != 2 or not ((x == 0) | (x == 1)).all():
        raise ValueError("bits must be a (batch, n) array of 0 and 1 (bit 1 ↔ σᶻ = -1)")
    n = x.shape[1]
    weights = 2 ** torch.arange(n - 1, -1, -1, dtype=torch.int64)
    return (x.long() * weights).sum(1)


def pauli_operator(kind: str, site: int, n: int) -> torch.Tensor:
    """σˣ_a or σᶻ_a on n qubits: I ⊗ … ⊗ σ ⊗ … ⊗ I with σ at position ``site`` (qubit 0
    leftmost), a dense (2^n, 2^n) float64 matrix.

    Args:
        kind: ``"x"`` or ``"z"``.
        site: the qubit a, 0 ≤ a < n.
        n: the number of qubits (at most ``MAX_QUBITS``).
    """
    n = _check_size(count(n, "n"))
    if kind not in ("x", "z"):
        raise ValueError(f"kind must be 'x' or 'z', got {kind!r}")
    if isinstance(site, bool) or not isinstance(site, (int, np.integer)) or not 0 <= site < n:
        raise ValueError(f"site must be a qubit number in [0, {n - 1}], got {site!r}")
    single = PAULI_X if kind == "x" else PAULI_Z
    out = torch.ones(1, 1, dtype=torch.float64)
    for a in range(n):
        out = torch.kron(out, single if a == site else torch.eye(2, dtype=torch.float64))
    return out


def _flip_masks(n: int) -> list[int]:
    """σˣ_a maps basis state k to k XOR (1 << (n - 1 - a))."""
    return [1 << (n - 1 - a) for a in range(n)]


def _classical_energies(b: torch.Tensor, W: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """E(z) = -Σ_a b_a z_a - Σ_{a<b} W_ab z_a z_b for rows of ±1 spins (zero-diagonal W)."""
    return -(z @ b) - 0.5 * ((z @ W) * z).sum(1)


def hamiltonian(b, W, gamma) -> torch.Tensor:
    """The transverse-field Ising Hamiltonian as a dense (2^n, 2^n) float64 matrix.

    H = -Σ_a Γ_a σˣ_a - Σ_a b_a σᶻ_a - Σ_{a<b} W_ab σᶻ_a σᶻ_b (Amin et al. 2018).

    Its diagonal is the classical Ising energy of each basis state; σˣ_a contributes -Γ_a at
    the pairs of basis states that differ in qubit a only. (Built that way, without the O(n²)
    Kronecker products of ``pauli_operator``; the tests compare both constructions.)

    Args:
        b: (n,) longitudinal fields (biases).
        W: (n, n) couplings, symmetric with a zero diagonal.
        gamma: transverse field Γ, a number or (n,).

    Raises:
        ValueError: more than ``MAX_QUBITS`` qubits (with the memory it would need), W not
            symmetric or with a non-zero diagonal, shapes that do not match, NaN/inf.
    """
    return _hamiltonian(*_check_params(b, W, gamma))


def _hamiltonian(b: torch.Tensor, W: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    n = b.shape[0]
    H = torch.diag(_classical_energies(b, W, spins(n)))
    idx = torch.arange(2**n)
    for a, mask in enumerate(_flip_masks(n)):
        if g[a] != 0:
            H[idx, idx ^ mask] = -g[a]
    return H


def random_parameters(
    n: int, generator: torch.Generator | None = None, scale: float = 0.1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random b ~ N(0, scale²) (n,) and symmetric zero-diagonal W, W_ab ~ N(0, scale²) (a < b)."""
    n = _check_size(count(n, "n"))
    scale = positive(scale, "scale")
    generator = as_generator(generator)
    b = scale * torch.randn(n, generator=generator, dtype=torch.float64)
    a = torch.triu(scale * torch.randn(n, n, generator=generator, dtype=torch.float64), 1)
    return b, a + a.T


# --------------------------------------------------------------------------------------------
# The Gibbs state
# --------------------------------------------------------------------------------------------


@dataclass
class GibbsState:
    """ρ = e^{-βH}/Z through the eigendecomposition H = U diag(E) Uᵀ.

    Attributes:
        energies: (2^n,) eigenvalues E_i of H (ascending unless H is diagonal).
        vectors: (2^n, 2^n) eigenvectors U (columns); ``None`` when H is diagonal (Γ = 0),
            where U = I and the energies are in basis order.
        weights: (2^n,) Boltzmann weights of the eigenstates, e^{-β(E_i - E_min)} / Σ_j
            e^{-β(E_j - E_min)}: shifted by the smallest eigenvalue, so nothing overflows.
        beta: the inverse temperature β.
        log_partition: log Z = -β E_min + log Σ_i e^{-β(E_i - E_min)}.
        diagonal: whether H was diagonal (Γ = 0), in which case nothing was diagonalised.
    """

    energies: torch.Tensor
    vectors: torch.Tensor | None
    weights: torch.Tensor
    beta: float
    log_partition: float
    diagonal: bool

    @property
    def n_qubits(self) -> int:
        return self.energies.shape[0].bit_length() - 1

    def density_matrix(self) -> torch.Tensor:
        """ρ = U diag(weights) Uᵀ: (2^n, 2^n)."""
        if self.diagonal:
            return torch.diag(self.weights)
        return (self.vectors * self.weights) @ self.vectors.T

    def basis_probabilities(self) -> torch.Tensor:
        """The diagonal of ρ, ⟨k|ρ|k⟩ = Σ_i U_ki² weight_i: (2^n,) probabilities of the basis
        states (what measuring every qubit in the σᶻ basis returns)."""
        if self.diagonal:
            return self.weights.clone()
        return (self.vectors**2) @ self.weights


def gibbs_state(b, W, gamma, beta: float = 1.0) -> GibbsState:
    """Diagonalise H (``torch.linalg.eigh``) and weight its eigenstates by e^{-βE}/Z.

    The energies are shifted by the smallest eigenvalue before exponentiating, so every weight
    is in (0, 1] and nothing overflows at large β or large fields. With Γ = 0 the Hamiltonian is
    diagonal and is not even built: its diagonal is the classical energy (U = I).

    Args:
        b, W, gamma: see ``hamiltonian``.
        beta: inverse temperature β > 0.
    """
    beta = _check_beta(beta)
    b, W, g = _check_params(b, W, gamma)
    diagonal = bool((g == 0).all())
    if diagonal:  # Γ = 0: the classical machine, no matrix at all (U = I)
        energies = _classical_energies(b, W, spins(b.shape[0]))
        vectors = None
    else:
        energies, vectors = torch.linalg.eigh(_hamiltonian(b, W, g))
    e_min = float(energies.min())
    w = torch.exp(-beta * (energies - e_min))
    total = float(w.sum())
    return GibbsState(energies, vectors, w / total, beta, -beta * e_min + math.log(total),
                      diagonal)


def density_matrix(b, W, gamma, beta: float = 1.0) -> torch.Tensor:
    """The Gibbs density matrix ρ = e^{-βH} / Tr e^{-βH}: (2^n, 2^n), symmetric, positive
    definite, unit trace."""
    return gibbs_state(b, W, gamma, beta).density_matrix()


def _visible_from_state(state: GibbsState, n_visible: int) -> torch.Tensor:
    n = state.n_qubits
    diag = state.basis_probabilities()
    return diag.reshape(2**n_visible, 2 ** (n - n_visible)).sum(1)


def visible_probabilities(b, W, gamma, n_visible: int | None = None,
                          beta: float = 1.0) -> torch.Tensor:
    """P_v = Tr(Λ_v ρ) for every visible configuration v: (2^n_visible,), in basis order.

    Λ_v = |v⟩⟨v| ⊗ I_hidden projects the first ``n_visible`` qubits on configuration v and
    leaves the hidden qubits alone, so P_v is the probability that measuring the visible qubits
    in the σᶻ basis returns v, with the hidden qubits traced out.

    Args:
        b, W, gamma: see ``hamiltonian``.
        n_visible: the first ``n_visible`` qubits are visible (default: all of them).
        beta: inverse temperature β > 0.
    """
    state = gibbs_state(b, W, gamma, beta)
    return _visible_from_state(state, _check_n_visible(n_visible, state.n_qubits))


@dataclass
class Moments:
    """Expectation values under ρ.

    Attributes:
        z: (n,) ⟨σᶻ_a⟩.
        zz: (n, n) ⟨σᶻ_a σᶻ_b⟩ (diagonal 1).
        x: (n,) ⟨σˣ_a⟩.
    """

    z: torch.Tensor
    zz: torch.Tensor
    x: torch.Tensor


def _moments_from_state(state: GibbsState) -> Moments:
    n = state.n_qubits
    z = spins(n)
    p = state.basis_probabilities()
    if state.diagonal:
        x = torch.zeros(n, dtype=torch.float64)
    else:
        rho = state.density_matrix()
        idx = torch.arange(2**n)
        x = torch.stack([rho[idx, idx ^ m].sum() for m in _flip_masks(n)])
    return Moments(p @ z, (z * p[:, None]).T @ z, x)


def expectations(b, W, gamma, beta: float = 1.0) -> Moments:
    """⟨σᶻ_a⟩ = Tr(ρ σᶻ_a), ⟨σᶻ_a σᶻ_b⟩ and ⟨σˣ_a⟩ = Tr(ρ σˣ_a) under the Gibbs state.

    For Γ_a ≥ 0 every ⟨σˣ_a⟩ ≥ 0: the off-diagonal entries of -H are ≥ 0 ("stoquastic"), so
    e^{-βH} has no negative entries, and σˣ_a has none either.
    """
    return _moments_from_state(gibbs_state(b, W, gamma, beta))


def kl_divergence(p_data, p_model) -> float:
    """KL(data ‖ model) = Σ_v P^data_v log(P^data_v / P_v) in nats (0 log 0 = 0).

    ``p_data`` is checked (non-negative, sums to 1); ``p_model`` must be positive where the data
    has mass.
    """
    p = _tensor(p_data, "p_data").reshape(-1)
    p = _check_distribution(p, None)
    q = _tensor(p_model, "p_model").reshape(-1)
    if q.shape != p.shape:
        raise ValueError(f"p_model must have the shape of p_data {tuple(p.shape)}, got "
                         f"{tuple(q.shape)}")
    mask = p > 0
    if float(q[mask].min()) <= 0:
        return math.inf
    return float((p[mask] * torch.log(p[mask] / q[mask])).sum())


def nll(b, W, gamma, p_data, n_visible: int | None = None, beta: float = 1.0) -> float:
    """The negative log-likelihood L = -Σ_v P^data_v log P_v (nats), P_v = Tr(Λ_v ρ)."""
    state = gibbs_state(b, W, gamma, beta)
    nv = _check_n_visible(n_visible, state.n_qubits)
    p = _check_distribution(p_data, nv)
    return _nll(p, _visible_from_state(state, nv))


def _nll(p: torch.Tensor, pv: torch.Tensor) -> float:
    mask = p > 0
    if float(pv[mask].min()) <= 0:
        return math.inf
    return float(-(p[mask] * torch.log(pv[mask])).sum())


# --------------------------------------------------------------------------------------------
# The exact gradient
# --------------------------------------------------------------------------------------------


@dataclass
class Gradient:
    """A gradient of a training objective (``nll_gradient`` or ``bound_gradient``).

    Attributes:
        b: (n,) ∂/∂b_a.
        W: (n, n) ∂/∂W_ab, symmetric with zero diagonal: entry (a, b) is the derivative with
            respect to the one coupling W_ab = W_ba of the pair (as in ``boltzmann_machine``).
        gamma: (n,) ∂/∂Γ_a.
        value: the objective at these parameters (nats).
    """

    b: torch.Tensor
    W: torch.Tensor
    gamma: torch.Tensor
    value: float


def divided_differences(energies, beta: float = 1.0) -> torch.Tensor:
    """F_ij = (e^{-βE_j} - e^{-βE_i}) / (E_i - E_j), with F_ii = β e^{-βE_i}: (d, d).

    The first divided differences of f(E) = -e^{-βE}. They give the derivative of the matrix
    exponential in the eigenbasis of H = U diag(E) Uᵀ (the Duhamel formula; Daleckii & Krein):

        ∂e^{-βH} = -U [F ∘ (Uᵀ ∂H U)] Uᵀ        (∘ the elementwise product).

    For (nearly) degenerate pairs, |β(E_i - E_j)| < 1e-5, the quotient would cancel
    catastrophically (eigh returns degenerate levels split by ~1e-15); there the Taylor form
    β e^{-βm} (1 + t²/6), m = (E_i + E_j)/2, t = β(E_i - E_j)/2, is used, exact to ~1e-20.
    Pass energies shifted by their minimum so that e^{-βE} ≤ 1.

    Args:
        energies: (d,) eigenvalues.
        beta: inverse temperature β > 0.
    """
    beta = _check_beta(beta)
    e = _tensor(energies, "energies").reshape(-1)
    if not torch.isfinite(e).all():
        raise ValueError("energies has NaN or infinite entries")
    ei, ej = e[:, None], e[None, :]
    gap = ei - ej
    near = (beta * gap).abs() < _SMALL_GAP
    t = 0.5 * beta * gap
    taylor = beta * torch.exp(-0.5 * beta * (ei + ej)) * (1.0 + t * t / 6.0)
    safe_gap = torch.where(near, torch.ones_like(gap), gap)
    quotient = (torch.exp(-beta * ej) - torch.exp(-beta * ei)) / safe_gap
    return torch.where(near, taylor, quotient)


def _gradient_from_operator(a_diag: torch.Tensor, A: torch.Tensor | None,
                            n: int) -> tuple[torch.Tensor, ...]:
    """∂L/∂θ = Tr(A ∂H/∂θ) for the three kinds of parameters, with ∂H/∂b_a = -σᶻ_a,
    ∂H/∂W_ab = -σᶻ_a σᶻ_b, ∂H/∂Γ_a = -σˣ_a. σᶻ terms need only the diagonal of A; ``A`` is
    ``None`` when it is diagonal (then every Γ-derivative is 0)."""
    z = spins(n)
    db = -(a_diag @ z)
    dW = -((z * a_diag[:, None]).T @ z)
    dW = 0.5 * (dW + dW.T)
    dW.fill_diagonal_(0.0)
    if A is None:
        return db, dW, torch.zeros(n, dtype=torch.float64)
    idx = torch.arange(2**n)
    dg = torch.stack([-A[idx, idx ^ m].sum() for m in _flip_masks(n)])
    return db, dW, dg


def _exact_gradient(state: GibbsState, p: torch.Tensor, nv: int) -> Gradient:
    n = state.n_qubits
    nh = n - nv
    beta = state.beta
    U = state.vectors
    e = state.energies - state.energies.min()
    g = torch.exp(-beta * e)  # e^{-β(H - E_min)} in the eigenbasis, each in (0, 1]
    diag_g = g if state.diagonal else (U**2) @ g  # ⟨k|G|k⟩
    block = diag_g.reshape(2**nv, 2**nh).sum(1)  # Tr(Λ_v G) = Z' P_v
    mask = p > 0
    if not bool((block[mask] > 0).all()):
        raise RuntimeError(
            "a configuration with data probability > 0 has model probability 0 (underflow): "
            "the fields are too large for this β; lower the learning rate or β"
        )
    d_vis = torch.where(mask, p / torch.where(mask, block, torch.ones_like(block)),
                        torch.zeros_like(p))
    d_diag = d_vis.repeat_interleave(2**nh)  # D = Σ_v (P^data_v / Tr(Λ_v G)) Λ_v, diagonal
    # L = -Σ_v P^data_v log Tr(Λ_v G) + log Tr G  ⇒  ∂L = Tr(A ∂H), A = Q - β ρ
    if state.diagonal:  # U = I, Q = D ∘ diag(F) = β D G: the classical machine
        a_diag = beta * (d_diag * g - state.weights)
        db, dW, dg = _gradient_from_operator(a_diag, None, n)
    else:
        F = divided_differences(e, beta)
        D_eig = U.T @ (d_diag[:, None] * U)
        A = U @ (D_eig * F) @ U.T - beta * state.density_matrix()
        db, dW, dg = _gradient_from_operator(A.diagonal(), A, n)
    value = _nll(p, block / g.sum())
    return Gradient(db, dW, dg, value)


def nll_gradient(b, W, gamma, p_data, n_visible: int | None = None,
                 beta: float = 1.0) -> Gradient:
    """The exact gradient of L = -Σ_v P^data_v log P_v through the eigenbasis of H.

    With G = e^{-βH}, log P_v = log Tr(Λ_v G) - log Tr G. The second term is easy,
    ∂ log Tr G = -β ⟨∂H⟩, because the trace is cyclic. The first is not, since ∂H does not
    commute with H: by the Duhamel formula, in the eigenbasis H = U diag(E) Uᵀ,

        ∂ Tr(Λ_v G) = -Σ_ij (Uᵀ Λ_v U)_ij F_ij (Uᵀ ∂H U)_ij,    F = ``divided_differences``.

    Summing over v with D = Σ_v P^data_v Λ_v / Tr(Λ_v G) and Q = U [(Uᵀ D U) ∘ F] Uᵀ gives

        ∂L/∂θ = Tr(Q ∂H/∂θ) - β Tr(ρ ∂H/∂θ),

    i.e. "positive phase minus negative phase" with a positive phase that is no longer an
    average over clamped states. At Γ = 0 (diagonal H, U = I) Q is diagonal with entry
    β P^data_v p(h | v) at basis state (v, h), and this is the classical Boltzmann machine
    gradient (data statistics with the hidden units filled in, minus model statistics).
    Cost: one eigendecomposition and three dense matrix products, O(8^n).

    Args:
        b, W, gamma: see ``hamiltonian``.
        p_data: (2^n_visible,) data distribution over the visible configurations (basis
            order), non-negative, summing to 1.
        n_visible: the first ``n_visible`` qubits are visible (default: all).
        beta: inverse temperature β > 0.

    Returns:
        A ``Gradient`` (derivatives of L, so descend along minus it) with ``value`` = L.
    """
    state = gibbs_state(b, W, gamma, beta)
    nv = _check_n_visible(n_visible, state.n_qubits)
    return _exact_gradient(state, _check_distribution(p_data, nv), nv)


# --------------------------------------------------------------------------------------------
# The Golden–Thompson bound (bQBM)
# --------------------------------------------------------------------------------------------


def _clamped(b, W, g, z_v: torch.Tensor, nv: int):
    """The clamped Hamiltonian H_v on the hidden qubits for visible spins z_v (nv,):
    (const, b_eff, W_hh, Γ_h). Visible σˣ terms vanish: Λ_v σˣ_a Λ_v = 0 for visible a."""
    const = float(-(b[:nv] @ z_v) - 0.5 * (z_v @ W[:nv, :nv] @ z_v))
    return const, b[nv:] + W[nv:, :nv] @ z_v, W[nv:, nv:], g[nv:]


def _bound_terms(b, W, g, p: torch.Tensor, nv: int, beta: float, with_moments: bool):
    """Σ_v P^data_v log Tr e^{-βH_v} and the clamped moments averaged over the data."""
    n = b.shape[0]
    z_vis = spins(nv)
    support = torch.nonzero(p > 0).reshape(-1)
    if nv == n:  # fully visible: H_v is a number, the classical energy of v
        energies = _classical_energies(b, W, z_vis[support])
        w = p[support]
        log_tr = float(-(beta * energies * w).sum())
        if not with_moments:
            return log_tr, None
        zs = z_vis[support]
        return log_tr, Moments(w @ zs, (zs * w[:, None]).T @ zs,
                               torch.zeros(n, dtype=torch.float64))
    log_tr = 0.0
    mz = torch.zeros(n, dtype=torch.float64)
    mzz = torch.zeros(n, n, dtype=torch.float64)
    mx = torch.zeros(n, dtype=torch.float64)
    for v in support.tolist():
        z_v = z_vis[v]
        const, b_h, W_h, g_h = _clamped(b, W, g, z_v, nv)
        st = gibbs_state(b_h, W_h, g_h, beta)
        log_tr += float(p[v]) * (-beta * const + st.log_partition)
        if with_moments:
            h = _moments_from_state(st)
            z_full = torch.cat([z_v, h.z])
            zz = torch.outer(z_full, z_full)
            zz[nv:, nv:] = h.zz
            mz += p[v] * z_full
            mzz += p[v] * zz
            mx[nv:] += p[v] * h.x
    return log_tr, (Moments(mz, mzz, mx) if with_moments else None)


def bound_nll(b, W, gamma, p_data, n_visible: int | None = None, beta: float = 1.0) -> float:
    """The bQBM objective L̃ = -Σ_v P^data_v log(Tr e^{-βH_v} / Tr e^{-βH}) ≥ L (nats).

    Golden–Thompson, Tr e^{A+B} ≤ Tr(e^A e^B), with A = -βH and B = log Λ_v (a limit: Λ_v is
    a projector) gives Tr(Λ_v e^{-βH}) ≥ Tr e^{-βH_v}, where H_v = H - β⁻¹ log Λ_v is the
    *clamped* Hamiltonian: the visible qubits pinned to v by an infinite penalty. So
    P_v ≥ Tr e^{-βH_v} / Z and L̃ is an upper bound on the negative log-likelihood L. In H_v the
    visible σᶻ_a become the numbers z_a(v) and the visible σˣ_a drop out (Λ_v σˣ_a Λ_v = 0); for
    a fully visible machine H_v is just the classical energy of v.
    """
    b_, W_, g = _check_params(b, W, gamma)
    beta = _check_beta(beta)
    nv = _check_n_visible(n_visible, b_.shape[0])
    p = _check_distribution(p_data, nv)
    log_tr, _ = _bound_terms(b_, W_, g, p, nv, beta, with_moments=False)
    return -log_tr + gibbs_state(b_, W_, g, beta).log_partition


def _bound_gradient(b, W, g, p, nv, beta, state: GibbsState) -> Gradient:
    log_tr, pos = _bound_terms(b, W, g, p, nv, beta, with_moments=True)
    neg = _moments_from_state(state)
    # ∂L̃/∂θ = β Σ_v P^data_v ⟨∂H_v/∂θ⟩_v - β ⟨∂H/∂θ⟩, ∂H/∂θ = -(σᶻ_a | σᶻ_a σᶻ_b | σˣ_a)
    db = -beta * (pos.z - neg.z)
    dW = -beta * (pos.zz - neg.zz)
    dW = 0.5 * (dW + dW.T)
    dW.fill_diagonal_(0.0)
    dg = -beta * (pos.x - neg.x)
    return Gradient(db, dW, dg, -log_tr + state.log_partition)


def bound_gradient(b, W, gamma, p_data, n_visible: int | None = None,
                   beta: float = 1.0) -> Gradient:
    """The gradient of the Golden–Thompson bound L̃ (``bound_nll``): clamped minus free moments.

        ∂L̃/∂θ = β Σ_v P^data_v ⟨∂H_v/∂θ⟩_v - β ⟨∂H/∂θ⟩,

    both terms expectation values, which a sampler (a quantum annealer) could estimate: this is
    what makes the bound trainable. For b and W it is the classical rule with quantum
    negative-phase moments. For the transverse field of a *visible* qubit, H_v does not contain
    Γ_a, so ∂L̃/∂Γ_a = β⟨σˣ_a⟩ ≥ 0 for every Γ_a ≥ 0: descending the bound always shrinks Γ_a
    towards 0, where the bound equals the classical NLL. The bound cannot learn Γ; the bQBM
    treats it as a fixed hyperparameter.

    Returns:
        A ``Gradient`` with ``value`` = L̃.
    """
    b_, W_, g = _check_params(b, W, gamma)
    beta = _check_beta(beta)
    nv = _check_n_visible(n_visible, b_.shape[0])
    p = _check_distribution(p_data, nv)
    return _bound_gradient(b_, W_, g, p, nv, beta, gibbs_state(b_, W_, g, beta))


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


@dataclass
class QBMTrainResult:
    """The result of ``train``.

    Attributes:
        b, W, gamma: the trained parameters.
        history: per step (``n_steps + 1`` entries, before every step and after the last):
            ``"kl"`` KL(data ‖ model) of the true P_v, ``"nll"`` L, ``"bound"`` L̃ (objective
            ``"bound"`` only) and ``"gamma"`` the mean |Γ_a|.
    """

    b: torch.Tensor
    W: torch.Tensor
    gamma: torch.Tensor
    history: History

    def curve(self, key: str) -> np.ndarray:
        """One history entry as an array."""
        return np.asarray(self.history[key], dtype=np.float64)


def _entropy(p: torch.Tensor) -> float:
    mask = p > 0
    return float(-(p[mask] * torch.log(p[mask])).sum())


def _adam(lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> Callable:
    """Adam's steps (Kingma & Ba 2015) for the three parameter groups, as a closure."""
    moments: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def update(step: int, grad: Gradient) -> tuple[torch.Tensor, ...]:
        out = []
        for key in ("b", "W", "gamma"):
            g = getattr(grad, key)
            m, v = moments.get(key, (torch.zeros_like(g), torch.zeros_like(g)))
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            moments[key] = (m, v)
            m_hat = m / (1 - beta1 ** (step + 1))
            v_hat = v / (1 - beta2 ** (step + 1))
            out.append(lr * m_hat / (v_hat.sqrt() + eps))
        return tuple(out)

    return update


def train(
    p_data,
    b,
    W,
    gamma,
    n_steps: int,
    learning_rate: float,
    objective: str = "exact",
    learn_gamma: bool = False,
    n_visible: int | None = None,
    beta: float = 1.0,
    optimizer: str = "adam",
    progress: Callable | None = None,
) -> QBMTrainResult:
    """Full-batch training on the exact NLL or on the bQBM bound, with exact gradients.

    Adam (default) or plain gradient descent, θ ← θ - η ∂(objective)/∂θ, for θ = (b, W) and,
    with ``learn_gamma``, Γ. The classical
    Boltzmann machine is ``objective="exact"`` with Γ = 0 and ``learn_gamma=False``; the bQBM
    of Amin et al. is ``objective="bound"`` with a fixed Γ; the exact-gradient QBM is
    ``objective="exact"`` with ``learn_gamma=True`` (start from Γ ≠ 0: Γ = 0 is a stationary
    point, since P_v depends on Γ_a only through Γ_a²).

    Args:
        p_data: (2^n_visible,) data distribution (basis order), non-negative, sums to 1.
        b, W, gamma: the starting parameters (not modified).
        n_steps: number of gradient steps.
        learning_rate: η > 0.
        objective: ``"exact"`` (``nll_gradient``) or ``"bound"`` (``bound_gradient``).
        learn_gamma: also descend along ∂/∂Γ (exact objective only).
        n_visible: the first ``n_visible`` qubits are visible (default: all).
        beta: inverse temperature β > 0.
        optimizer: ``"adam"`` (Kingma & Ba 2015, β₁ = 0.9, β₂ = 0.999) or ``"sgd"`` (plain
            gradient descent).
        progress: optional wrapper for the step range (e.g. ``functools.partial(tqdm, ...)``).

    Raises:
        ValueError: bad input, ``learn_gamma`` with the bound (it drives Γ to 0), or a run
            estimated at more than about a minute of CPU (``n_steps`` · 8^n work).
        RuntimeError: when training diverges (lower η): a parameter with β·|θ| > 100, or a KL
            more than ten times max(its start, n_visible · log 2).
    """
    b, W, g = _check_params(b, W, gamma)
    b, W, g = b.clone(), W.clone(), g.clone()
    beta = _check_beta(beta)
    nv = _check_n_visible(n_visible, b.shape[0])
    p = _check_distribution(p_data, nv)
    n_steps = count(n_steps, "n_steps", minimum=0)
    lr = positive(learning_rate, "learning_rate")
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    if objective not in ("exact", "bound"):
        raise ValueError(f"objective must be 'exact' or 'bound', got {objective!r}")
    if learn_gamma and objective == "bound":
        raise ValueError(
            "the Golden–Thompson bound cannot learn Γ: for a visible qubit ∂L̃/∂Γ_a = β⟨σˣ_a⟩ ≥ 0 "
            "always, so descent only drives Γ_a to 0 (the classical machine). Keep Γ fixed "
            "(learn_gamma=False) or use objective='exact'"
        )
    n = b.shape[0]
    per_step = float(n * n * 2**n) if (not learn_gamma and bool((g == 0).all())) else 8.0**n
    check_cost(n_steps * per_step, "n_steps (or the number of qubits)",
               f"{n_steps} training steps on {n} qubits (each an O(8^n) eigendecomposition)")
    entropy = _entropy(p)
    history = History()
    steps = range(n_steps) if progress is None else progress(range(n_steps))
    state = gibbs_state(b, W, g, beta)

    # β·|θ| above _MAX_FIELD puts probabilities below e^-200, where the KL measures rounding;
    # a KL ten times the uniform model's (n_v log 2) is a run that has left the data behind
    guard = DivergenceGuard(
        "QBM training", f"lower learning_rate (now {lr:g}), e.g. 10×", params=(b, W, g),
        max_param=_MAX_FIELD / beta, loss_factor=10.0, loss_floor=nv * math.log(2),
        cause="the learning rate is probably too high, so each step overshoots")

    def record(state: GibbsState, bound: float | None, when: str) -> None:
        value = _nll(p, _visible_from_state(state, nv))
        kl = guard.check_loss(when, max(value - entropy, 0.0) if math.isfinite(value) else value)
        history._add("nll", value)
        history._add("kl", kl)
        history._add("gamma", float(g.abs().mean()))
        if bound is not None:
            history._add("bound", bound)

    update = _adam(lr) if optimizer == "adam" else (
        lambda _step, grad: (lr * grad.b, lr * grad.W, lr * grad.gamma))
    for step in steps:
        if objective == "exact":
            grad = _exact_gradient(state, p, nv)
        else:
            grad = _bound_gradient(b, W, g, p, nv, beta, state)
        record(state, grad.value if objective == "bound" else None, f"before step {step + 1}")
        db, dW, dg = update(step, grad)
        b.sub_(db)  # in place: the guard watches these tensors
        W.sub_(dW)
        if learn_gamma:
            g.sub_(dg)
        guard.check_params(f"at step {step + 1}")
        state = gibbs_state(b, W, g, beta)
    final_bound = None
    if objective == "bound":
        log_tr, _ = _bound_terms(b, W, g, p, nv, beta, with_moments=False)
        final_bound = -log_tr + state.log_partition
    record(state, final_bound, f"after step {n_steps}")
    return QBMTrainResult(b, W, g, history)


# --------------------------------------------------------------------------------------------
# The classical limit and the toy data
# --------------------------------------------------------------------------------------------


def to_boltzmann_machine(b, W, n_visible: int | None = None, beta: float = 1.0) -> bm.BMParams:
    """The classical (Γ = 0) machine in ``boltzmann_machine``'s 0/1 convention.

    With bits s_a = (1 - z_a)/2 (bit 1 ↔ σᶻ = -1), β E_Ising(z) = E_BM(s) + const for
    W'_ab = 4β W_ab and b'_a = -2β (b_a + Σ_c W_ac), so both machines give the same p(v). Unit a
    of the result is qubit a (visible units first, as in both modules). Note the two modules
    number configurations differently (``boltzmann_machine``: unit 0 least significant; here:
    qubit 0 most significant): ``bm.state_index(configurations(n_visible))`` maps this module's
    order to theirs.
    """
    b, W, _ = _check_params(b, W, 0.0)
    beta = _check_beta(beta)
    nv = _check_n_visible(n_visible, b.shape[0])
    return bm.BMParams(4.0 * beta * W, -2.0 * beta * (b + W.sum(1)), nv)


def bernoulli_mixture(
    n: int, n_modes: int, p: float = 0.9, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Amin et al.'s toy data: a mixture of Bernoulli modes around random centres.

    P^data(v) = (1/M) Σ_k p^{n - d_k(v)} (1 - p)^{d_k(v)}, d_k(v) the Hamming distance between v
    and centre k: each mode copies its centre bit by bit with probability p.

    Args:
        n: number of bits (visible qubits).
        n_modes: M, the number of modes.
        p: probability that a bit agrees with its mode's centre, in (0.5, 1).
        generator: draws the centres uniformly from {0, 1}^n.

    Returns:
        ``(p_data, centres)``: (2^n,) probabilities in basis order, (M, n) 0/1 centres.
    """
    n = _check_size(count(n, "n"))
    m = count(n_modes, "n_modes")
    generator = as_generator(generator)
    p = float(p)
    if not 0.5 < p < 1.0:
        raise ValueError(f"p must be in (0.5, 1) (the probability a bit copies its centre), "
                         f"got {p}")
    centres = torch.randint(0, 2, (m, n), generator=generator).to(torch.float64)
    x = configurations(n)
    dist = (x[:, None, :] != centres[None]).sum(-1).to(torch.float64)  # (2^n, M)
    probs = (p ** (n - dist) * (1 - p) ** dist).mean(1)
    return probs / probs.sum(), centres
