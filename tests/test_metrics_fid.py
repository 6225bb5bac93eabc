"""Tests for the sample-quality metrics of notebook 13: ``metrics.frechet_distance`` and
``metrics.precision_recall_knn``.

Oracles: the closed-form Fréchet (2-Wasserstein) distance between Gaussians — in 1D
(μ_a - μ_b)² + (σ_a - σ_b)², for commuting covariances Σ (√λ_a - √λ_b)², and in general SciPy's
matrix square root applied to the same sample moments; a brute-force double loop for the
k-NN balls; and a mode-dropping sample that must lose recall but not precision.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from ebm_helpers import metrics


def _fd_reference(a: np.ndarray, b: np.ndarray, eps: float) -> float:
    mu_a, mu_b = a.mean(0), b.mean(0)
    ca = np.atleast_2d(np.cov(a.T)) + eps * np.eye(a.shape[1])
    cb = np.atleast_2d(np.cov(b.T)) + eps * np.eye(a.shape[1])
    root = scipy.linalg.sqrtm(ca @ cb).real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(ca + cb - 2 * root))


def test_frechet_matches_scipy_on_the_same_moments(make_generator):
    g = make_generator(0)
    a = torch.randn(500, 6, generator=g) @ torch.randn(6, 6, generator=g)
    b = torch.randn(400, 6, generator=g) * 2 + 1
    for eps in (0.0, 1e-6, 0.1):
        ours = metrics.frechet_distance(a, b, eps)
        ref = _fd_reference(a.double().numpy(), b.double().numpy(), eps)
        assert ours == pytest.approx(ref, rel=1e-8, abs=1e-8)


def test_frechet_one_dimensional_closed_form():
    # samples whose sample mean and (unbiased) standard deviation are exactly set
    z = torch.linspace(-1, 1, 101, dtype=torch.float64)[:, None]
    z = (z - z.mean()) / z.std()
    a, b = 2.0 + 3.0 * z, -1.0 + 0.5 * z
    expected = (2.0 - -1.0) ** 2 + (3.0 - 0.5) ** 2
    assert metrics.frechet_distance(a, b, eps=0.0) == pytest.approx(expected, rel=1e-10)


def test_frechet_commuting_covariances():
    z = torch.linspace(-1, 1, 201, dtype=torch.float64)
    z = (z - z.mean()) / z.std()
    w = torch.roll(z, 37)
    w = w - w.mean() - (w @ z) / (z @ z) * z  # orthogonal to z: a diagonal sample covariance
    w = w / w.std()
    a = torch.stack([1.0 * z, 2.0 * w], 1)
    b = torch.stack([3.0 * z, 0.5 * w], 1) + torch.tensor([1.0, 1.0], dtype=torch.float64)
    expected = 2.0 + (1.0 - 3.0) ** 2 + (2.0 - 0.5) ** 2
    assert metrics.frechet_distance(a, b, eps=0.0) == pytest.approx(expected, rel=1e-8)


def test_frechet_population_value_is_approached(make_generator):
    g = make_generator(1)
    n = 20000
    a = torch.randn(n, 3, generator=g, dtype=torch.float64)
    b = torch.randn(n, 3, generator=g, dtype=torch.float64) * 2 + torch.tensor([1.0, 0, 0])
    # population: |Δμ|² = 1, Σ (1 - 2)² over 3 dimensions = 3
    assert metrics.frechet_distance(a, b) == pytest.approx(4.0, abs=0.1)


def test_frechet_of_a_sample_with_itself_is_zero_and_dead_units_are_fine(make_generator):
    g = make_generator(2)
    a = torch.relu(torch.randn(50, 80, generator=g))  # fewer points than dimensions
    a[:, :10] = 0.0  # dead units: constant zero features
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    b = torch.relu(torch.randn(50, 80, generator=g))
    b[:, :10] = 0.0
    fd = metrics.frechet_distance(a, b, eps=1e-6)
    assert np.isfinite(fd) and fd > 0


def test_frechet_bad_inputs():
    a = torch.randn(10, 3)
    with pytest.raises(ValueError, match="at least 2"):
        metrics.frechet_distance(a, a[:1])
    with pytest.raises(ValueError, match="3 feature"):
        metrics.frechet_distance(a, torch.randn(10, 4))
    with pytest.raises(ValueError, match="non-finite"):
        metrics.frechet_distance(a, a * float("nan"))
    with pytest.raises(ValueError, match="eps"):
        metrics.frechet_distance(a, a, eps=-1.0)


# --------------------------------------------------------------------------------------------
# k-NN precision and recall
# --------------------------------------------------------------------------------------------


def _pr_reference(real: np.ndarray, fake: np.ndarray, k: int) -> tuple[float, float]:
    def radii(x):
        d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
        return np.sort(d, 1)[:, k]

    def covered(points, centres, r):
        return np.mean([any(np.linalg.norm(p - c) <= rc for c, rc in zip(centres, r,
                                                                           strict=True))
                        for p in points])

    return covered(fake, real, radii(real)), covered(real, fake, radii(fake))


def test_precision_recall_match_brute_force(make_generator):
    g = make_generator(3)
    real = torch.randn(40, 2, generator=g, dtype=torch.float64)
    fake = torch.randn(30, 2, generator=g, dtype=torch.float64) * 1.5 + 0.5
    for k in (1, 3, 5):
        ours = metrics.precision_recall_knn(real, fake, k)
        ref = _pr_reference(real.numpy(), fake.numpy(), k)
        assert ours == pytest.approx(ref)


def _modes(n, which, g):
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    idx = torch.tensor(which)[torch.randint(len(which), (n,), generator=g)]
    return centres[idx] + 0.5 * torch.randn(n, 2, generator=g)


def test_precision_recall_separate_mode_dropping_from_faithful(make_generator):
    g = make_generator(4)
    real = _modes(1000, [0, 1, 2, 3], g)
    faithful = _modes(1000, [0, 1, 2, 3], g)
    dropping = _modes(1000, [0, 1], g)  # realistic samples from half of the modes
    far = _modes(1000, [0, 1, 2, 3], g) + 50.0  # unrealistic
    p_f, r_f = metrics.precision_recall_knn(real, faithful, 3)
    p_d, r_d = metrics.precision_recall_knn(real, dropping, 3)
    p_x, r_x = metrics.precision_recall_knn(real, far, 3)
    assert p_f > 0.9 and r_f > 0.9
    assert p_d > 0.9 and r_d < 0.6  # recall exposes the dropped modes, precision does not
    assert p_x == 0.0 and r_x == 0.0


def test_precision_recall_bad_inputs():
    a = torch.randn(5, 2)
    with pytest.raises(ValueError, match="k = 5 needs more than k points"):
        metrics.precision_recall_knn(a, torch.randn(20, 2), k=5)
    with pytest.raises(ValueError, match="fake set has 3"):
        metrics.precision_recall_knn(torch.randn(20, 2), torch.randn(3, 2), k=3)
    with pytest.raises(ValueError, match="2 feature"):
        metrics.precision_recall_knn(a, torch.randn(5, 3), k=1)
    with pytest.raises(ValueError, match="at least 1"):
        metrics.precision_recall_knn(a, a, k=0)


def test_oversized_inputs_are_refused_before_any_work():
    big = torch.zeros(200_000, 2)
    with pytest.raises(ValueError, match="shrink real and fake"):
        metrics.precision_recall_knn(big, big, k=3)
    wide = torch.zeros(3, 20_000)
    with pytest.raises(ValueError, match="covariance matrices"):
        metrics.frechet_distance(wide, wide)
