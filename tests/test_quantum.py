"""Tests of ``ebm_helpers.quantum`` against exact oracles: an independent Kronecker-product
Hamiltonian (NumPy), the one-qubit closed form, the classical Boltzmann machine at Γ = 0
(``boltzmann_machine``, hidden units marginalised), autograd through the matrix exponential and
finite differences for the gradients, and the Golden–Thompson inequality for the bound."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch

from ebm_helpers import boltzmann_machine as bm
from ebm_helpers import quantum

F64 = torch.float64
X = np.array([[0.0, 1.0], [1.0, 0.0]])
Z = np.array([[1.0, 0.0], [0.0, -1.0]])


def _kron_hamiltonian(b, W, gamma) -> np.ndarray:
    """H by Kronecker products in NumPy, written independently of the package."""
    b, W = np.asarray(b, float), np.asarray(W, float)
    n = len(b)
    gamma = np.broadcast_to(np.asarray(gamma, float), (n,))

    def op(single, a):
        out = np.ones((1, 1))
        for c in range(n):
            out = np.kron(out, single if c == a else np.eye(2))
        return out

    H = np.zeros((2**n, 2**n))
    for a in range(n):
        H -= gamma[a] * op(X, a) + b[a] * op(Z, a)
        for c in range(a + 1, n):
            H -= W[a, c] * op(Z, a) @ op(Z, c)
    return H


def _machine(n, seed, scale=0.7, gamma_scale=1.0):
    g = torch.Generator().manual_seed(seed)
    b, W = quantum.random_parameters(n, g, scale=scale)
    gamma = gamma_scale * torch.rand(n, generator=g, dtype=F64)
    return b, W, gamma


def _distribution(n_visible, seed, zeros=0):
    p = torch.rand(2**n_visible, generator=torch.Generator().manual_seed(seed), dtype=F64)
    p[:zeros] = 0.0
    return p / p.sum()


# --------------------------------------------------------------------------------------------
# Basis, operators and the Hamiltonian
# --------------------------------------------------------------------------------------------


def test_basis_order_qubit0_leftmost_and_bit0_is_spin_up():
    assert quantum.configurations(2).tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert quantum.spins(1).tolist() == [[1.0], [-1.0]]
    n = 3
    for a in range(n):
        sz = quantum.pauli_operator("z", a, n)
        assert torch.equal(sz.diagonal(), quantum.spins(n)[:, a])
    np.testing.assert_array_equal(quantum.pauli_operator("x", 0, 2).numpy(), np.kron(X, np.eye(2)))
    x = quantum.configurations(4)
    assert torch.equal(quantum.basis_index(x), torch.arange(16))
    with pytest.raises(ValueError, match="0 and 1"):
        quantum.basis_index(torch.tensor([[0.5, 1.0]]))


@pytest.mark.parametrize("n", [1, 2, 4, 5])
def test_hamiltonian_matches_an_independent_kronecker_construction(n):
    b, W, gamma = _machine(n, seed=n)
    H = quantum.hamiltonian(b, W, gamma)
    H_ref = _kron_hamiltonian(b.numpy(), W.numpy(), gamma.numpy())
    assert H.shape == (2**n, 2**n) and H.dtype == F64
    np.testing.assert_allclose(H.numpy(), H_ref, atol=1e-12)
    np.testing.assert_allclose(torch.linalg.eigvalsh(H).numpy(), np.linalg.eigvalsh(H_ref),
                               atol=1e-10)


def test_scalar_gamma_is_the_same_field_on_every_qubit():
    b, W, _ = _machine(3, seed=0)
    assert torch.equal(quantum.hamiltonian(b, W, 0.7),
                       quantum.hamiltonian(b, W, torch.full((3,), 0.7, dtype=F64)))


def test_h_does_not_commute_with_its_classical_part_unless_gamma_is_zero():
    b, W, gamma = _machine(3, seed=2)
    H = quantum.hamiltonian(b, W, gamma)
    H0 = quantum.hamiltonian(b, W, 0.0)
    assert torch.count_nonzero(H0 - torch.diag(H0.diagonal())) == 0
    assert float((H @ H0 - H0 @ H).abs().max()) > 1e-3


# --------------------------------------------------------------------------------------------
# The Gibbs state
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("b", "gamma", "beta"), [(0.7, 1.3, 0.8), (-0.4, 0.5, 2.0),
                                                   (0.0, 2.0, 1.0), (1.2, 0.0, 0.5),
                                                   (0.3, 4.0, 30.0)])
def test_one_qubit_closed_form(b, gamma, beta):
    p = quantum.visible_probabilities([b], [[0.0]], gamma, beta=beta)
    lam = math.hypot(gamma, b)
    expected = 0.5 * (1 + (b / lam) * math.tanh(beta * lam)) if lam > 0 else 0.5
    assert float(p[0]) == pytest.approx(expected, abs=1e-13)  # index 0: σᶻ = +1
    assert float(p.sum()) == pytest.approx(1.0, abs=1e-14)
    m = quantum.expectations([b], [[0.0]], gamma, beta=beta)
    x_expected = (gamma / lam) * math.tanh(beta * lam) if lam > 0 else 0.0
    assert float(m.x[0]) == pytest.approx(x_expected, abs=1e-12)
    assert float(m.z[0]) == pytest.approx(2 * expected - 1, abs=1e-12)


@pytest.mark.parametrize(("n", "n_visible", "beta"), [(4, 4, 1.0), (5, 3, 0.7), (4, 1, 2.0)])
def test_gamma_zero_is_the_classical_boltzmann_machine(n, n_visible, beta):
    b, W, _ = _machine(n, seed=10 + n)
    p = quantum.visible_probabilities(b, W, 0.0, n_visible=n_visible, beta=beta)
    # independent enumeration with ±1 spins, hidden spins summed out
    z = quantum.spins(n)
    e = -(z @ b) - 0.5 * ((z @ W) * z).sum(1)
    joint = torch.softmax(-beta * e, 0)
    np.testing.assert_allclose(p.numpy(), joint.reshape(2**n_visible, -1).sum(1).numpy(),
                               atol=1e-14)
    # and boltzmann_machine's 0/1 machine with the converted parameters
    params = quantum.to_boltzmann_machine(b, W, n_visible=n_visible, beta=beta)
    p_bm = bm.visible_log_probs(params).exp()[bm.state_index(quantum.configurations(n_visible))]
    np.testing.assert_allclose(p.numpy(), p_bm.numpy(), atol=1e-13)


def test_small_gamma_approaches_the_classical_limit_quadratically():
    b, W, _ = _machine(4, seed=3)
    p0 = quantum.visible_probabilities(b, W, 0.0)
    gaps = [float((quantum.visible_probabilities(b, W, g) - p0).abs().max())
            for g in (0.1, 0.01)]
    assert gaps[0] > gaps[1] > 0
    assert gaps[0] / gaps[1] == pytest.approx(100, rel=0.05)  # P_v depends on Γ²


@pytest.mark.parametrize("beta", [0.3, 1.0, 50.0])
def test_density_matrix_is_hermitian_positive_with_unit_trace(beta):
    b, W, gamma = _machine(4, seed=4, scale=1.5)
    rho = quantum.density_matrix(b, W, gamma, beta=beta)
    assert torch.isfinite(rho).all()
    assert float((rho - rho.T).abs().max()) < 1e-14
    assert float(torch.trace(rho)) == pytest.approx(1.0, abs=1e-12)
    assert float(torch.linalg.eigvalsh(rho).min()) > -1e-14
    # against the matrix exponential itself
    H = quantum.hamiltonian(b, W, gamma)
    if beta < 10:
        G = torch.linalg.matrix_exp(-beta * H)
        np.testing.assert_allclose(rho.numpy(), (G / torch.trace(G)).numpy(), atol=1e-12)


def test_large_fields_and_beta_do_not_overflow():
    b = torch.tensor([40.0, -30.0, 25.0], dtype=F64)
    W = torch.zeros(3, 3, dtype=F64)
    W[0, 1] = W[1, 0] = 50.0
    state = quantum.gibbs_state(b, W, 3.0, beta=100.0)
    assert torch.isfinite(state.weights).all() and math.isfinite(state.log_partition)
    p = quantum.visible_probabilities(b, W, 3.0, beta=100.0)
    assert int(p.argmax()) == 0  # all up: -40 + 30 - 25 - 50 beats every other state
    assert float(p.max()) > 0.99


def test_expectations_match_traces_with_the_operators():
    n = 4
    b, W, gamma = _machine(n, seed=5)
    rho = quantum.density_matrix(b, W, gamma, beta=1.3)
    m = quantum.expectations(b, W, gamma, beta=1.3)
    for a in range(n):
        sx, sz = quantum.pauli_operator("x", a, n), quantum.pauli_operator("z", a, n)
        assert float(m.x[a]) == pytest.approx(float(torch.trace(rho @ sx)), abs=1e-13)
        assert float(m.z[a]) == pytest.approx(float(torch.trace(rho @ sz)), abs=1e-13)
        for c in range(n):
            szc = quantum.pauli_operator("z", c, n)
            assert float(m.zz[a, c]) == pytest.approx(float(torch.trace(rho @ sz @ szc)),
                                                      abs=1e-13)
    assert (m.x >= 0).all()  # stoquastic: Γ ≥ 0 gives ⟨σˣ⟩ ≥ 0
    assert torch.equal(quantum.expectations(b, W, 0.0).x, torch.zeros(n, dtype=F64))


def test_kl_divergence():
    p = _distribution(3, seed=0, zeros=2)
    assert quantum.kl_divergence(p, p) == pytest.approx(0.0, abs=1e-15)
    q = torch.full((8,), 1 / 8, dtype=F64)
    assert quantum.kl_divergence(p, q) == pytest.approx(
        float((p[p > 0] * torch.log(p[p > 0] * 8)).sum()), abs=1e-14)
    assert quantum.kl_divergence(q, p) == math.inf


# --------------------------------------------------------------------------------------------
# Divided differences and the exact gradient
# --------------------------------------------------------------------------------------------


def test_divided_differences_definition_and_degenerate_limits():
    e = torch.tensor([0.0, 0.4, 0.4, 1.5, 0.4 + 1e-13], dtype=F64)
    beta = 1.7
    F = quantum.divided_differences(e, beta)
    assert torch.isfinite(F).all() and torch.equal(F, F.T)
    assert float(F[0, 3]) == pytest.approx(
        (math.exp(-beta * 1.5) - 1.0) / (0.0 - 1.5), rel=1e-14)
    limit = beta * math.exp(-beta * 0.4)
    for i, j in [(1, 1), (1, 2), (2, 4), (1, 4)]:
        assert float(F[i, j]) == pytest.approx(limit, rel=1e-12)
    # continuity across the switch between the two formulas
    for d in [1e-7, 9e-6, 1.1e-5, 1e-4]:
        Fd = quantum.divided_differences(torch.tensor([0.3, 0.3 + d], dtype=F64), 1.0)
        exact = (math.exp(-0.3) * -math.expm1(-d)) / d
        assert float(Fd[0, 1]) == pytest.approx(exact, rel=1e-10)


def test_divided_differences_give_the_derivative_of_the_matrix_exponential():
    b, W, gamma = _machine(3, seed=6)
    beta = 0.9
    H = quantum.hamiltonian(b, W, gamma)
    dH = quantum.hamiltonian(torch.zeros(3, dtype=F64), torch.zeros(3, 3, dtype=F64),
                             torch.tensor([0.0, 1.0, 0.0], dtype=F64))  # -σˣ_1
    E, U = torch.linalg.eigh(H)
    F = quantum.divided_differences(E, beta)
    duhamel = -U @ (F * (U.T @ dH @ U)) @ U.T
    eps = 1e-6
    fd = (torch.linalg.matrix_exp(-beta * (H + eps * dH))
          - torch.linalg.matrix_exp(-beta * (H - eps * dH))) / (2 * eps)
    np.testing.assert_allclose(duhamel.numpy(), fd.numpy(), atol=1e-8)
    # the naive "classical" rule -β ∂H e^{-βH} is wrong because [H, ∂H] ≠ 0
    naive = -beta * dH @ torch.linalg.matrix_exp(-beta * H)
    assert float((naive - fd).abs().max()) > 1e-3


def _fd_gradient(fn, b, W, gamma, eps=1e-5):
    n = len(b)
    db = torch.zeros(n, dtype=F64)
    dg = torch.zeros(n, dtype=F64)
    dW = torch.zeros(n, n, dtype=F64)
    for a in range(n):
        e = torch.zeros(n, dtype=F64)
        e[a] = eps
        db[a] = (fn(b + e, W, gamma) - fn(b - e, W, gamma)) / (2 * eps)
        dg[a] = (fn(b, W, gamma + e) - fn(b, W, gamma - e)) / (2 * eps)
        for c in range(a + 1, n):
            E = torch.zeros(n, n, dtype=F64)
            E[a, c] = E[c, a] = eps
            dW[a, c] = dW[c, a] = (fn(b, W + E, gamma) - fn(b, W - E, gamma)) / (2 * eps)
    return db, dW, dg


@pytest.mark.parametrize(("n", "n_visible", "beta"), [(4, 4, 1.0), (4, 3, 1.3), (5, 2, 0.6)])
def test_exact_gradient_matches_finite_differences(n, n_visible, beta):
    b, W, gamma = _machine(n, seed=20 + n_visible)
    p = _distribution(n_visible, seed=n_visible, zeros=1)
    grad = quantum.nll_gradient(b, W, gamma, p, n_visible=n_visible, beta=beta)
    assert grad.value == pytest.approx(quantum.nll(b, W, gamma, p, n_visible, beta), abs=1e-13)
    db, dW, dg = _fd_gradient(lambda b_, W_, g_: quantum.nll(b_, W_, g_, p, n_visible, beta),
                              b, W, gamma)
    np.testing.assert_allclose(grad.b.numpy(), db.numpy(), atol=1e-8)
    np.testing.assert_allclose(grad.W.numpy(), dW.numpy(), atol=1e-8)
    np.testing.assert_allclose(grad.gamma.numpy(), dg.numpy(), atol=1e-8)
    assert torch.equal(grad.W, grad.W.T) and torch.count_nonzero(grad.W.diagonal()) == 0


def test_exact_gradient_matches_autograd_through_the_matrix_exponential():
    n, nv, beta = 4, 3, 1.1
    b, W, gamma = _machine(n, seed=7)
    p = _distribution(nv, seed=7)
    ops_x = [torch.from_numpy(_kron_hamiltonian(np.zeros(n), np.zeros((n, n)),
                                                np.eye(n)[a])) for a in range(n)]  # -σˣ_a
    ops_z = [torch.from_numpy(_kron_hamiltonian(np.eye(n)[a], np.zeros((n, n)), 0.0))
             for a in range(n)]  # -σᶻ_a
    b_, g_ = b.clone().requires_grad_(True), gamma.clone().requires_grad_(True)
    H = sum(g_[a] * ops_x[a] + b_[a] * ops_z[a] for a in range(n))
    H = H + torch.from_numpy(_kron_hamiltonian(np.zeros(n), W.numpy(), 0.0))
    G = torch.linalg.matrix_exp(-beta * H)
    pv = G.diagonal().reshape(2**nv, -1).sum(1) / G.diagonal().sum()
    (-(p * pv.log()).sum()).backward()
    grad = quantum.nll_gradient(b, W, gamma, p, n_visible=nv, beta=beta)
    np.testing.assert_allclose(grad.b.numpy(), b_.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(grad.gamma.numpy(), g_.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize(("n", "n_visible"), [(4, 4), (5, 3)])
def test_gradient_at_gamma_zero_is_the_boltzmann_machine_learning_rule(n, n_visible):
    """The Ising gradient equals boltzmann_machine.exact_gradient after the change of variables
    W' = 4βW, b' = -2β(b + W1) (chain rule), on data rows."""
    beta = 0.8
    b, W, _ = _machine(n, seed=30 + n)
    rows = (torch.rand(40, n_visible, generator=torch.Generator().manual_seed(1)) < 0.4).double()
    p = torch.bincount(quantum.basis_index(rows), minlength=2**n_visible).double() / 40
    grad = quantum.nll_gradient(b, W, 0.0, p, n_visible=n_visible, beta=beta)
    assert torch.equal(grad.gamma, torch.zeros(n, dtype=F64))
    params = quantum.to_boltzmann_machine(b, W, n_visible=n_visible, beta=beta)
    dWp, dbp = bm.exact_gradient(params, rows)  # ascent directions of the log-likelihood
    db_expected = 2 * beta * dbp
    dW_expected = -4 * beta * dWp + 2 * beta * (dbp[:, None] + dbp[None, :])
    dW_expected.fill_diagonal_(0.0)
    np.testing.assert_allclose(grad.b.numpy(), db_expected.numpy(), atol=1e-12)
    np.testing.assert_allclose(grad.W.numpy(), dW_expected.numpy(), atol=1e-12)
    assert grad.value == pytest.approx(-bm.log_likelihood(params, rows), abs=1e-12)


# --------------------------------------------------------------------------------------------
# The Golden–Thompson bound
# --------------------------------------------------------------------------------------------


def test_the_bound_is_never_below_the_true_nll():
    gaps = []
    for seed in range(40):
        gen = torch.Generator().manual_seed(seed)
        n = int(torch.randint(1, 6, (1,), generator=gen))
        nv = int(torch.randint(1, n + 1, (1,), generator=gen))
        b, W, gamma = _machine(n, seed, scale=1.5, gamma_scale=3.0)
        beta = float(torch.rand(1, generator=gen)) * 3 + 0.1
        p = _distribution(nv, seed)
        gaps.append(quantum.bound_nll(b, W, gamma, p, nv, beta) - quantum.nll(b, W, gamma, p,
                                                                                nv, beta))
    assert min(gaps) >= -1e-12
    assert max(gaps) > 0.1  # and it is not tight in general
    # tight when H commutes with the projectors: Γ = 0 on a fully visible machine
    b, W, _ = _machine(4, 1)
    p = _distribution(4, 1)
    assert quantum.bound_nll(b, W, 0.0, p) == pytest.approx(quantum.nll(b, W, 0.0, p),
                                                             abs=1e-12)
    # and with hidden qubits (notebook 14: "exact at Γ = 0")
    p2 = _distribution(2, 2)
    assert quantum.bound_nll(b, W, 0.0, p2, 2, 0.8) == pytest.approx(
        quantum.nll(b, W, 0.0, p2, 2, 0.8), abs=1e-12)


def test_fully_visible_bound_is_convex_in_b_and_w():
    """Notebook 14 breaks learning-rate ties by convexity: -Σ P^data log Tr e^{-βH_v} is linear
    in (b, W) for a fully visible machine and log Tr e^{-βH} is convex, so the midpoint of every
    segment lies below the chord."""
    _, _, gamma = _machine(4, seed=11, gamma_scale=2.0)
    p = _distribution(4, seed=11)
    gen = torch.Generator().manual_seed(5)
    for _ in range(20):
        b1, W1 = quantum.random_parameters(4, gen, scale=1.5)
        b2, W2 = quantum.random_parameters(4, gen, scale=1.5)
        ends = [quantum.bound_nll(b1, W1, gamma, p), quantum.bound_nll(b2, W2, gamma, p)]
        mid = quantum.bound_nll((b1 + b2) / 2, (W1 + W2) / 2, gamma, p)
        assert mid <= sum(ends) / 2 + 1e-12


@pytest.mark.parametrize(("n", "n_visible", "beta"), [(4, 4, 1.0), (4, 2, 0.7)])
def test_bound_gradient_matches_finite_differences(n, n_visible, beta):
    b, W, gamma = _machine(n, seed=40 + n_visible)
    p = _distribution(n_visible, seed=3, zeros=1)
    grad = quantum.bound_gradient(b, W, gamma, p, n_visible=n_visible, beta=beta)
    assert grad.value == pytest.approx(quantum.bound_nll(b, W, gamma, p, n_visible, beta),
                                       abs=1e-13)
    db, dW, dg = _fd_gradient(
        lambda b_, W_, g_: quantum.bound_nll(b_, W_, g_, p, n_visible, beta), b, W, gamma)
    np.testing.assert_allclose(grad.b.numpy(), db.numpy(), atol=1e-8)
    np.testing.assert_allclose(grad.W.numpy(), dW.numpy(), atol=1e-8)
    np.testing.assert_allclose(grad.gamma.numpy(), dg.numpy(), atol=1e-8)


def test_the_bound_cannot_learn_gamma_of_a_visible_qubit():
    b, W, gamma = _machine(4, seed=8)
    p = _distribution(3, seed=8)
    beta = 1.4
    grad = quantum.bound_gradient(b, W, gamma, p, n_visible=3, beta=beta)
    x = quantum.expectations(b, W, gamma, beta).x
    np.testing.assert_allclose(grad.gamma[:3].numpy(), beta * x[:3].numpy(), atol=1e-13)
    assert (grad.gamma[:3] > 0).all()
    with pytest.raises(ValueError, match="cannot learn Γ"):
        quantum.train(p, b, W, gamma, 5, 0.1, objective="bound", learn_gamma=True, n_visible=3)


# --------------------------------------------------------------------------------------------
# Training and data
# --------------------------------------------------------------------------------------------


def test_training_lowers_the_kl_and_records_history():
    gen = torch.Generator().manual_seed(0)
    p, _ = quantum.bernoulli_mixture(4, 3, 0.9, gen)
    b0, W0 = quantum.random_parameters(4, gen)
    b_copy, W_copy = b0.clone(), W0.clone()
    runs = {
        "bm": quantum.train(p, b0, W0, 0.0, 30, 0.1),
        "bqbm": quantum.train(p, b0, W0, 1.0, 30, 0.1, objective="bound"),
        "qbm": quantum.train(p, b0, W0, 1.0, 30, 0.1, learn_gamma=True),
        "sgd": quantum.train(p, b0, W0, 0.0, 30, 0.2, optimizer="sgd"),
    }
    for name, r in runs.items():
        kl = r.curve("kl")
        assert kl.shape == (31,), name
        assert kl[-1] < 0.7 * kl[0], name
        assert np.allclose(kl, r.curve("nll") - float(-(p * p.log()).sum()), atol=1e-12)
    assert np.all(runs["bqbm"].curve("bound") >= runs["bqbm"].curve("nll") - 1e-12)
    assert np.all(runs["bqbm"].curve("gamma") == 1.0)
    assert runs["qbm"].curve("gamma")[-1] != 1.0
    assert torch.equal(runs["bm"].gamma, torch.zeros(4, dtype=F64))
    # plain gradient descent with the exact gradient never increases the (convex) classical NLL
    assert np.all(np.diff(runs["sgd"].curve("nll")) <= 1e-12)
    assert torch.equal(b0, b_copy) and torch.equal(W0, W_copy)  # the start is not modified


def test_training_with_hidden_qubits_and_deterministic():
    gen = torch.Generator().manual_seed(1)
    p, _ = quantum.bernoulli_mixture(3, 2, 0.9, gen)
    b0, W0 = quantum.random_parameters(5, gen)
    r1 = quantum.train(p, b0, W0, 0.5, 10, 0.05, learn_gamma=True, n_visible=3)
    r2 = quantum.train(p, b0, W0, 0.5, 10, 0.05, learn_gamma=True, n_visible=3)
    assert r1.curve("kl")[-1] < r1.curve("kl")[0]
    assert torch.equal(r1.W, r2.W) and r1.history.metrics == r2.history.metrics


def test_training_divergence_is_a_clear_runtime_error():
    gen = torch.Generator().manual_seed(2)
    p, _ = quantum.bernoulli_mixture(4, 2, 0.99, gen)
    b0, W0 = quantum.random_parameters(4, gen)
    with pytest.raises(RuntimeError, match=r"QBM training diverged at step 1: a parameter.*"
                                           r"lower learning_rate \(now 10000\)"):
        quantum.train(p, b0, W0, 1.0, 50, 1e4, optimizer="sgd", beta=5.0)
    with pytest.raises(RuntimeError, match="QBM training diverged"):
        quantum.train(p, b0, W0, 0.0, 50, 30.0, optimizer="sgd")


def test_training_that_would_take_minutes_is_refused_up_front():
    b, W = torch.zeros(12, dtype=F64), torch.zeros(12, 12, dtype=F64)
    p = torch.full((2**12,), 2.0**-12, dtype=F64)
    t0 = time.process_time()
    with pytest.raises(ValueError, match="shrink n_steps"):
        quantum.train(p, b, W, 1.0, 10, 0.1)
    assert time.process_time() - t0 < 1.0
    with pytest.raises(TypeError, match=r"torch\.Generator"):
        quantum.bernoulli_mixture(4, 2, 0.9, generator=0)


def test_bernoulli_mixture():
    gen = torch.Generator().manual_seed(3)
    p, centres = quantum.bernoulli_mixture(5, 4, 0.9, gen)
    assert p.shape == (32,) and centres.shape == (4, 5)
    assert float(p.sum()) == pytest.approx(1.0, abs=1e-14)
    top = set(quantum.basis_index(centres).tolist())
    assert set(torch.argsort(p, descending=True)[: len(top)].tolist()) == top
    one, c = quantum.bernoulli_mixture(3, 1, 0.8, torch.Generator().manual_seed(0))
    d = (quantum.configurations(3) != c).sum(1).double()
    np.testing.assert_allclose(one.numpy(), (0.8 ** (3 - d) * 0.2**d).numpy(), atol=1e-15)
    with pytest.raises(ValueError, match="p must be in"):
        quantum.bernoulli_mixture(3, 2, 1.0)


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


def test_more_than_twelve_qubits_is_refused_with_the_memory_it_needs():
    with pytest.raises(ValueError, match=r"13 qubits need .*512 MiB.*limited to 12"):
        quantum.hamiltonian(torch.zeros(13), torch.zeros(13, 13), 1.0)
    with pytest.raises(ValueError, match="limited to 12"):
        quantum.configurations(20)
    assert quantum.dense_matrix_bytes(12) == 128 * 2**20


@pytest.mark.parametrize(
    ("W", "says"),
    [
        (torch.tensor([[0.0, 1.0], [0.5, 0.0]]), "symmetric"),
        (torch.tensor([[0.3, 1.0], [1.0, 0.0]]), "zero diagonal"),
        (torch.zeros(3, 3), r"shape \(2, 2\)"),
        (torch.tensor([[0.0, float("nan")], [float("nan"), 0.0]]), "NaN"),
    ],
)
def test_bad_couplings_are_refused(W, says):
    with pytest.raises(ValueError, match=says):
        quantum.hamiltonian(torch.zeros(2), W, 1.0)


@pytest.mark.parametrize("beta", [0.0, -1.0, float("nan"), float("inf"), "hot"])
def test_beta_must_be_positive_and_finite(beta):
    with pytest.raises(ValueError, match="beta"):
        quantum.visible_probabilities(torch.zeros(2), torch.zeros(2, 2), 1.0, beta=beta)


@pytest.mark.parametrize(
    ("p", "says"),
    [
        (torch.tensor([0.5, 0.7, -0.2, 0.0]), "negative"),
        (torch.tensor([0.5, 0.2, 0.2, 0.0]), "sum to 1"),
        (torch.tensor([0.5, 0.5]), "2\\^2 = 4"),
        (torch.tensor([0.5, float("nan"), 0.5, 0.0]), "NaN"),
    ],
)
def test_bad_data_distributions_are_refused(p, says):
    b, W = torch.zeros(2), torch.zeros(2, 2)
    for fn in (quantum.nll, quantum.nll_gradient, quantum.bound_nll, quantum.bound_gradient):
        with pytest.raises(ValueError, match=says):
            fn(b, W, 1.0, p)
    with pytest.raises(ValueError, match=says):
        quantum.train(p, b, W, 1.0, 3, 0.1)


def test_other_bad_arguments():
    b, W = torch.zeros(3), torch.zeros(3, 3)
    p = torch.full((8,), 1 / 8)
    with pytest.raises(ValueError, match="gamma must be a number or a vector"):
        quantum.hamiltonian(b, W, torch.ones(2))
    with pytest.raises(ValueError, match="n_visible"):
        quantum.visible_probabilities(b, W, 1.0, n_visible=4)
    with pytest.raises(ValueError, match="objective"):
        quantum.train(p, b, W, 1.0, 3, 0.1, objective="cd")
    with pytest.raises(ValueError, match="optimizer"):
        quantum.train(p, b, W, 1.0, 3, 0.1, optimizer="lbfgs")
    with pytest.raises(ValueError, match="learning_rate"):
        quantum.train(p, b, W, 1.0, 3, -0.1)
    with pytest.raises(ValueError, match="kind"):
        quantum.pauli_operator("y", 0, 2)
    with pytest.raises(ValueError, match="site"):
        quantum.pauli_operator("x", 2, 2)
    with pytest.raises(ValueError, match="b must be a vector"):
        quantum.hamiltonian(torch.zeros(2, 2), W, 1.0)
