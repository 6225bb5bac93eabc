"""Shared helpers for the unit tests of ``ebm_helpers``.

``tests/`` is not a package, so helpers are handed to tests as fixtures that return plain
functions (``expected_tv``, ``tv_bound``, ``make_generator``).

Statistical tests use fixed seeds and tolerances derived from the sample size. For histograms
compared with exact cell probabilities q_i the yardstick is the expected total variation of an
iid sample of size n. Each count is Binomial(n, q_i); by the normal approximation
E|p̂_i − q_i| ≈ sqrt(2 q_i (1 − q_i) / (π n)), so E[TV] ≈ ½ Σ_i sqrt(2 q_i (1 − q_i) / (π n)).
(For cells with n q_i ≲ 1 the Poisson mean absolute deviation is smaller than the normal one,
so the formula errs on the generous side there.) TV is a sum over many cells of nearly
independent terms, so its relative fluctuation is small and 1.5× the expectation is many
standard deviations above it, while a wrong density (a missing mode, a wrong width) gives a
TV several times larger.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch


def _expected_tv(q, n: int) -> float:
    """E[TV(p̂, q)] for an iid sample of size n, normal approximation (see module docstring)."""
    q = np.asarray(q, dtype=np.float64).reshape(-1)
    q = q / q.sum()
    return float(0.5 * np.sqrt(2.0 * q * (1.0 - q) / (np.pi * n)).sum())


def _tv_bound(q, n: int, discretisation: float = 0.0) -> float:
    """Acceptance bound for TV(sample histogram, q): 1.5 E[TV] + a discretisation allowance."""
    return 1.5 * _expected_tv(q, n) + discretisation


@pytest.fixture
def expected_tv():
    """The function ``expected_tv(q, n)``."""
    return _expected_tv


@pytest.fixture
def tv_bound():
    """The function ``tv_bound(q, n, discretisation=0.0)``."""
    return _tv_bound


@pytest.fixture
def make_generator():
    """The function ``make_generator(seed)``: a CPU ``torch.Generator`` seeded with ``seed``."""

    def make(seed: int) -> torch.Generator:
        return torch.Generator().manual_seed(seed)

    return make


@pytest.fixture
def restore_global_rng():
    """Save and restore Python's, NumPy's and torch's global RNG states around a test."""
    import random

    py_state = random.getstate()
    np_state = np.random.get_state()  # noqa: NPY002 - saving the legacy global on purpose
    torch_state = torch.random.get_rng_state()
    yield
    random.setstate(py_state)
    np.random.set_state(np_state)  # noqa: NPY002
    torch.random.set_rng_state(torch_state)


@pytest.fixture(scope="session", autouse=True)
def _single_torch_thread():
    """Run torch on one thread during the tests (restored afterwards).

    The unit tests work on small tensors, where intra-op threading only adds overhead; on the
    2-core CI machine, with a notebook kernel busy on the other core, two torch threads made the
    sampler tests about 10× slower (spin-waiting) and their timings erratic.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
