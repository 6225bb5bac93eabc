"""The checkers of notebook 10's exercises accept the reference solutions and reject typical
wrong answers (bins averaged with equal weight, the accuracy of all inputs instead of per bin,
confidence of the true class; logits multiplied by T, T chosen by accuracy, a coarse grid)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from checker_asserts import assert_rejected, assert_stubs_not_attempted

from ebm_helpers import checks


def ece_solution(probs, labels, n_bins):
    conf, pred = probs.max(1)
    correct = (pred == labels).double()
    edges = torch.linspace(0, 1, n_bins + 1, dtype=conf.dtype)
    total = 0.0
    for lo, hi in itertools.pairwise(edges):
        in_bin = (conf > lo) & (conf <= hi)
        if in_bin.any():
            total += in_bin.double().mean() * (correct[in_bin].mean() - conf[in_bin].mean()).abs()
    return float(total)


def ece_unweighted(probs, labels, n_bins):
    conf, pred = probs.max(1)
    correct = (pred == labels).double()
    edges = torch.linspace(0, 1, n_bins + 1, dtype=conf.dtype)
    gaps = []
    for lo, hi in itertools.pairwise(edges):
        in_bin = (conf > lo) & (conf <= hi)
        if in_bin.any():
            gaps.append(float((correct[in_bin].mean() - conf[in_bin].mean()).abs()))
    return float(np.mean(gaps))


def ece_global(probs, labels, n_bins):
    conf, pred = probs.max(1)
    return float(((pred == labels).double().mean() - conf.mean()).abs())


def ece_true_class_confidence(probs, labels, n_bins):
    conf = probs[torch.arange(len(labels)), labels]
    pred = probs.argmax(1)
    correct = (pred == labels).double()
    edges = torch.linspace(0, 1, n_bins + 1, dtype=conf.dtype)
    total = 0.0
    for lo, hi in itertools.pairwise(edges):
        in_bin = (conf > lo) & (conf <= hi)
        if in_bin.any():
            total += in_bin.double().mean() * (correct[in_bin].mean() - conf[in_bin].mean()).abs()
    return float(total)


def temperature_solution(logits, labels):
    temps = torch.exp(torch.linspace(np.log(0.05), np.log(20.0), 4001, dtype=torch.float64))
    nll = torch.stack([F.cross_entropy(logits / t, labels) for t in temps])
    return float(temps[int(nll.argmin())])


def temperature_multiplied(logits, labels):
    temps = torch.exp(torch.linspace(np.log(0.05), np.log(20.0), 4001, dtype=torch.float64))
    nll = torch.stack([F.cross_entropy(logits * t, labels) for t in temps])
    return float(temps[int(nll.argmin())])


def temperature_by_accuracy(logits, labels):
    return 1.0  # accuracy does not depend on T, so "the best T" stays at its start


def temperature_coarse(logits, labels):
    temps = torch.tensor([0.5, 1.0, 2.0, 4.0], dtype=torch.float64)
    nll = torch.stack([F.cross_entropy(logits / t, labels) for t in temps])
    return float(temps[int(nll.argmin())])


@pytest.mark.parametrize(("checker", "solution"), [
    (checks.expected_calibration_error, ece_solution),
    (checks.fit_temperature, temperature_solution),
])
def test_checkers_accept_the_solutions(capsys, checker, solution):
    assert checker(solution) is True
    assert "✓" in capsys.readouterr().out
    assert checker.notebook == "10_joint_energy_models"


@pytest.mark.parametrize(("checker", "wrong", "says"), [
    (checks.expected_calibration_error, ece_unweighted, "200 predictions"),
    (checks.expected_calibration_error, ece_global, "200 predictions"),
    (checks.expected_calibration_error, ece_true_class_confidence, "200 predictions"),
    (checks.fit_temperature, temperature_multiplied, "over-confident"),
    (checks.fit_temperature, temperature_by_accuracy, "over-confident"),
    (checks.fit_temperature, temperature_coarse, "logits"),
])
def test_checkers_reject_typical_mistakes(capsys, checker, wrong, says):
    assert_rejected(capsys, checker, wrong, says)


def test_stubs_read_as_not_attempted(capsys):
    assert_stubs_not_attempted(capsys, [checks.expected_calibration_error, checks.fit_temperature])
