"""The checkers of notebook 12's exercises accept the reference solutions and reject typical
wrong answers (the correct answer not excluded, a sum instead of a mean, a missing 1/β, a
naive exponential that underflows, unnormalised embeddings, one direction only)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from checker_asserts import assert_rejected, assert_stubs_not_attempted

from ebm_helpers import checks


# ----------------------------------------------------------------------------- most offending
def offending_solution(e_all, y):
    masked = e_all.clone()
    masked[torch.arange(len(y)), y] = float("inf")
    energy, index = masked.min(dim=1)
    return index, energy


def offending_includes_the_correct_answer(e_all, y):
    energy, index = e_all.min(dim=1)
    return index, energy


def offending_wrong_axis(e_all, y):
    masked = e_all.clone()
    masked[torch.arange(len(y)), y] = float("inf")
    energy, index = masked.min(dim=0)
    return index, energy


def offending_highest(e_all, y):
    masked = e_all.clone()
    masked[torch.arange(len(y)), y] = -float("inf")
    energy, index = masked.max(dim=1)
    return index, energy


# ----------------------------------------------------------------------------- free energy
def free_energy_solution(e_z, beta):
    if beta is None:
        return e_z.min(dim=-1).values
    return -(torch.logsumexp(-beta * e_z, dim=-1) - math.log(e_z.shape[-1])) / beta


def free_energy_sum_not_mean(e_z, beta):
    if beta is None:
        return e_z.min(dim=-1).values
    return -torch.logsumexp(-beta * e_z, dim=-1) / beta


def free_energy_missing_one_over_beta(e_z, beta):
    if beta is None:
        return e_z.min(dim=-1).values
    return -(torch.logsumexp(-beta * e_z, dim=-1) - math.log(e_z.shape[-1]))


def free_energy_naive(e_z, beta):
    if beta is None:
        return e_z.min(dim=-1).values
    return -torch.log(torch.exp(-beta * e_z).mean(dim=-1)) / beta


def free_energy_none_as_mean(e_z, beta):
    if beta is None:
        return e_z.mean(dim=-1)
    return free_energy_solution(e_z, beta)


# ----------------------------------------------------------------------------- InfoNCE
def info_nce_solution(z_a, z_b, temperature):
    logits = F.normalize(z_a, dim=1) @ F.normalize(z_b, dim=1).T / temperature
    target = torch.arange(len(z_a))
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def info_nce_dot_products(z_a, z_b, temperature):
    logits = z_a @ z_b.T / temperature
    target = torch.arange(len(z_a))
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def info_nce_one_direction(z_a, z_b, temperature):
    logits = F.normalize(z_a, dim=1) @ F.normalize(z_b, dim=1).T / temperature
    return F.cross_entropy(logits, torch.arange(len(z_a)))


def info_nce_times_temperature(z_a, z_b, temperature):
    return info_nce_solution(z_a, z_b, 1 / temperature)


@pytest.mark.parametrize(("checker", "solution"), [
    (checks.most_offending_answer, offending_solution),
    (checks.latent_free_energy, free_energy_solution),
    (checks.info_nce_loss, info_nce_solution),
])
def test_checkers_accept_the_solutions(capsys, checker, solution):
    assert checker(solution) is True
    assert "✓" in capsys.readouterr().out
    assert checker.notebook == "12_energy_based_learning"


@pytest.mark.parametrize(("checker", "wrong", "says"), [
    (checks.most_offending_answer, offending_includes_the_correct_answer, "correct answer"),
    (checks.most_offending_answer, offending_wrong_axis, "shape"),
    (checks.most_offending_answer, offending_highest, "largest difference"),
    (checks.latent_free_energy, free_energy_sum_not_mean, "β = 1"),
    (checks.latent_free_energy, free_energy_missing_one_over_beta, "β = 0.1"),
    (checks.latent_free_energy, free_energy_naive, "large energies"),
    (checks.latent_free_energy, free_energy_none_as_mean, "zero temperature"),
    (checks.info_nce_loss, info_nce_dot_products, "8 pairs"),
    (checks.info_nce_loss, info_nce_one_direction, "8 pairs"),
    (checks.info_nce_loss, info_nce_times_temperature, "8 pairs"),
])
def test_checkers_reject_typical_mistakes(capsys, checker, wrong, says):
    assert_rejected(capsys, checker, wrong, says)


def test_stubs_read_as_not_attempted(capsys):
    assert_stubs_not_attempted(capsys, [checks.most_offending_answer, checks.latent_free_energy,
                                        checks.info_nce_loss])
