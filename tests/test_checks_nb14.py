"""The checkers of notebook 14's exercises accept the reference solutions and reject typical
wrong answers (a sign error, the wrong Kronecker order, a double-counted coupling; a quotient
without its degenerate limit)."""

from __future__ import annotations

import torch

from ebm_helpers import checks, quantum

X = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
Z = torch.tensor([[1.0, 0.0], [0.0, -1.0]], dtype=torch.float64)


def _op(single, a, n, reverse=False):
    out = torch.ones(1, 1, dtype=torch.float64)
    sites = range(n - 1, -1, -1) if reverse else range(n)
    for c in sites:
        out = torch.kron(out, single if c == a else torch.eye(2, dtype=torch.float64))
    return out


def _kron_solution(gamma_sign=-1.0, reverse=False, pairs="a<b"):
    def build(b, W, gamma):
        n = len(b)
        H = torch.zeros(2**n, 2**n, dtype=torch.float64)
        for a in range(n):
            H += gamma_sign * gamma[a] * _op(X, a, n, reverse) - b[a] * _op(Z, a, n, reverse)
            for c in range(n):
                if (pairs == "a<b" and c > a) or (pairs == "all" and c != a):
                    H -= W[a, c] * _op(Z, a, n, reverse) @ _op(Z, c, n, reverse)
        return H

    return build


def test_hamiltonian_checker_accepts_the_solutions(capsys):
    assert checks.transverse_field_hamiltonian(quantum.hamiltonian)
    assert checks.transverse_field_hamiltonian(_kron_solution())
    assert "✓ transverse_field_hamiltonian: correct on all 4 inputs" in capsys.readouterr().out


def test_hamiltonian_checker_rejects_typical_mistakes(capsys):
    for wrong, where in [(_kron_solution(gamma_sign=+1.0), "one qubit"),
                         (_kron_solution(reverse=True), "two qubits"),
                         (_kron_solution(pairs="all"), "two qubits")]:
        assert not checks.transverse_field_hamiltonian(wrong)
        out = capsys.readouterr().out
        assert "✗" in out and where in out and "hint" in out


def test_divided_differences_checker(capsys):
    assert checks.divided_differences(quantum.divided_differences)
    assert "✓ divided_differences: correct" in capsys.readouterr().out

    def quotient_only(e, beta):  # 0/0 on the diagonal
        ei, ej = e[:, None], e[None, :]
        return (torch.exp(-beta * ej) - torch.exp(-beta * ei)) / (ei - ej)

    def exact_ties_only(e, beta):  # handles E_i == E_j, not the near-degenerate split
        ei, ej = e[:, None], e[None, :]
        same = ei == ej
        q = (torch.exp(-beta * ej) - torch.exp(-beta * ei)) / torch.where(same, 1.0, ei - ej)
        return torch.where(same, beta * torch.exp(-beta * ei), q)

    def no_beta_on_diagonal(e, beta):
        F = quantum.divided_differences(e, beta)
        return F - torch.diag(F.diagonal()) + torch.diag(torch.exp(-beta * e))

    def sign_error(e, beta):
        return -quantum.divided_differences(e, beta)

    for wrong, says in [(quotient_only, "NaN"), (exact_ties_only, "split by 1e-13"),
                        (no_beta_on_diagonal, "β = 2.5"), (sign_error, "three distinct")]:
        assert not checks.divided_differences(wrong)
        out = capsys.readouterr().out
        assert "✗" in out and says in out, out


def test_stubs_read_as_not_attempted(capsys):
    def stub(*args):
        raise NotImplementedError

    assert not checks.transverse_field_hamiltonian(stub)
    assert not checks.divided_differences(stub)
    assert capsys.readouterr().out.count("not attempted yet") == 2
    assert checks.CHECKERS["divided_differences"] == "14_quantum_boltzmann_machines"
