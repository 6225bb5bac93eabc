"""Tests for ``ebm_helpers.metrics``: MMD, energy distance, TV/KL and gridded probabilities.

Oracles: permutation nulls with fixed generators, closed-form population values for 1D
Gaussians (judged over independent replicates, within 4 standard errors of their mean),
SciPy's energy distance, brute-force NumPy computations and hand-computed small arrays.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from ebm_helpers import energies as en
from ebm_helpers import metrics

# --------------------------------------------------------------------------------------------
# MMD
# --------------------------------------------------------------------------------------------


def _permutation_null(x, y, statistic, n_perm, seed):
    pool = torch.cat([x, y])
    n = x.shape[0]
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n_perm):
        p = torch.randperm(pool.shape[0], generator=g)
        out.append(statistic(pool[p[:n]], pool[p[n:]]))
    return np.array(out)


def test_mmd_same_law_is_within_permutation_null(make_generator):
    """Two samples of the 8-gaussians law: the observed MMD² is an ordinary draw from the
    permutation null (≤ its 99th percentile, within ±3 null sd of 0). The bandwidth is held at
    the pooled median distance, which every permutation shares."""
    d = en.eight_gaussians()
    g = make_generator(0)
    x, y = d.sample(500, g).double(), d.sample(500, g).double()
    h = metrics.median_bandwidth(x, y)
    observed = metrics.mmd(x, y, bandwidth=h)
    null = _permutation_null(x, y, lambda a, b: metrics.mmd(a, b, bandwidth=h), 100, seed=1)
    assert observed <= np.percentile(null, 99)
    assert abs(observed) <= 3 * null.std()
    assert abs(null.mean()) < 3 * null.std() / math.sqrt(len(null)) + 1e-4  # centred near 0


def test_mmd_detects_missing_mode(make_generator):
    """A sample with one of the eight modes missing: MMD² (default median bandwidth) exceeds
    every one of 100 permutations."""
    d = en.eight_gaussians()
    seven = en.GaussianMixture(d.means[1:], 0.15)
    g = make_generator(2)
    x, y = d.sample(800, g).double(), seven.sample(800, g).double()
    observed = metrics.mmd(x, y)
    h = metrics.median_bandwidth(x, y)
    assert observed == pytest.approx(metrics.mmd(x, y, bandwidth=h), rel=1e-12)
    null = _permutation_null(x, y, lambda a, b: metrics.mmd(a, b, bandwidth=h), 100, seed=3)
    assert observed > null.max()


def test_mmd_symmetric_and_bandwidth_dependence(make_generator):
    g = make_generator(4)
    x = torch.randn(120, 3, generator=g, dtype=torch.float64)
    y = torch.randn(90, 3, generator=g, dtype=torch.float64) + 0.5
    assert metrics.mmd(x, y) == pytest.approx(metrics.mmd(y, x), rel=1e-12)
    assert metrics.mmd(x, y, 0.7) == pytest.approx(metrics.mmd(y, x, 0.7), rel=1e-12)
    assert metrics.mmd(x, y, 0.7) != pytest.approx(metrics.mmd(x, y, 2.0), rel=1e-3)
    assert metrics.mmd(x, x) < 0  # unbiased: identical samples give -mean off-diagonal k < 0


def test_mmd_matches_direct_formula(make_generator):
    """The U-statistic, written out with explicit loops over pairs in NumPy."""
    g = make_generator(5)
    x = torch.randn(15, 2, generator=g, dtype=torch.float64).numpy()
    y = (torch.randn(11, 2, generator=g, dtype=torch.float64) + 1).numpy()
    h = 0.9

    def k(a, b):
        return math.exp(-float(((a - b) ** 2).sum()) / (2 * h * h))

    n, m = len(x), len(y)
    kxx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    kyy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    kxy = sum(k(a, b) for a in x for b in y) / (n * m)
    assert metrics.mmd(torch.as_tensor(x), torch.as_tensor(y), h) == pytest.approx(
        kxx + kyy - 2 * kxy, rel=1e-10
    )


def test_median_bandwidth_vs_brute_force(make_generator):
    """Median of all pairwise distances of the pooled sample, by a double loop in NumPy. With
    an even number of pairs torch's median is the lower middle value (not their average)."""
    g = make_generator(6)
    x = torch.randn(30, 2, generator=g, dtype=torch.float64)
    y = torch.randn(25, 2, generator=g, dtype=torch.float64) * 2
    z = torch.cat([x, y]).numpy()
    dists = sorted(
        float(np.linalg.norm(z[i] - z[j])) for i in range(len(z)) for j in range(i + 1, len(z))
    )
    k = len(dists)  # 55·54/2 = 1485, odd: a unique middle value
    assert k % 2 == 1
    assert metrics.median_bandwidth(x, y) == pytest.approx(dists[k // 2], rel=1e-12)
    # even number of pairs (56·55/2 = 1540): the lower of the two middle values
    y2 = torch.cat([y, torch.tensor([[0.3, -0.2]], dtype=torch.float64)])
    z = torch.cat([x, y2]).numpy()
    dists = sorted(
        float(np.linalg.norm(z[i] - z[j])) for i in range(len(z)) for j in range(i + 1, len(z))
    )
    assert len(dists) % 2 == 0
    h = metrics.median_bandwidth(x, y2)
    assert dists[len(dists) // 2 - 1] <= h <= dists[len(dists) // 2]
    assert h == pytest.approx(np.median(dists), rel=1e-2)


def test_median_bandwidth_uses_first_max_points(make_generator):
    g = make_generator(7)
    x = torch.randn(50, 2, generator=g, dtype=torch.float64)
    y = torch.randn(50, 2, generator=g, dtype=torch.float64)
    assert metrics.median_bandwidth(x, y, max_points=10) == pytest.approx(
        metrics.median_bandwidth(x[:10], y[:10])
    )


def test_mmd_population_value_for_shifted_gaussians(make_generator):
    """For N(0,1) vs N(δ,1) and k = exp(-(a-b)²/(2h²)): E k(X,X') = (h²/(h²+2))^½ and
    E k(X,Y) = (h²/(h²+2))^½ exp(-δ²/(2(h²+2))), so MMD² = 2 (h²/(h²+2))^½ (1 - e^{-δ²/(2(h²+2))}).
    The mean of 20 independent estimates (n = m = 1000) is within 4 SE (replicate sd / √20) of
    it; with δ = 0 within 4 SE of 0 (the estimator is unbiased, whereas including the
    diagonal would add ≈ 2(1 - (h²/(h²+2))^½)/n, about 8 SE here)."""
    g = make_generator(8)
    h, reps, n = 1.0, 20, 1000
    for delta in (0.0, 1.0):
        values = []
        for _ in range(reps):
            x = torch.randn(n, 1, generator=g, dtype=torch.float64)
            y = torch.randn(n, 1, generator=g, dtype=torch.float64) + delta
            values.append(metrics.mmd(x, y, bandwidth=h))
        values = np.array(values)
        c = math.sqrt(h * h / (h * h + 2))
        exact = 2 * c * (1 - math.exp(-(delta**2) / (2 * (h * h + 2))))
        se = values.std(ddof=1) / math.sqrt(reps)
        assert abs(values.mean() - exact) < 4 * se
        if delta == 0:
            v_bias = 2 * (1 - c) / n
            assert v_bias > 4 * se  # the check above can tell the biased V-statistic apart


@pytest.mark.parametrize(
    "x, y, kwargs, match",
    [
        (torch.zeros(5, 2), torch.zeros(5, 3), {}, "feature"),
        (torch.zeros(1, 2), torch.ones(5, 2), {}, "at least 2"),
        (torch.zeros(5, 2), torch.zeros(5, 2), {}, "pass a bandwidth"),
        (torch.randn(5, 2), torch.randn(5, 2), {"bandwidth": 0.0}, "bandwidth"),
        (torch.randn(5, 2), torch.randn(5, 2), {"bandwidth": math.nan}, "bandwidth"),
        (torch.randn(5, 2), torch.randn(5, 2), {"bandwidth": -1.0}, "bandwidth"),
        (torch.randn(5), torch.randn(5, 1), {}, "shape"),
        (torch.tensor([[0.0], [math.nan]]), torch.randn(5, 1), {}, "non-finite"),
    ],
)
def test_mmd_bad_input(x, y, kwargs, match):
    with pytest.raises(ValueError, match=match):
        metrics.mmd(x, y, **kwargs)


# --------------------------------------------------------------------------------------------
# Energy distance
# --------------------------------------------------------------------------------------------


def test_energy_distance_vs_scipy(make_generator):
    """SciPy returns D = sqrt(2E|X-Y| - E|X-X'| - E|Y-Y'|) with V-statistics (all pairs, the
    zero diagonal included). Ours uses U-statistics within samples: with V_xx the mean of
    |x_i - x_j| over all n² pairs, U_xx = V_xx n/(n-1), so ours = D² - V_xx/(n-1) - V_yy/(m-1)."""
    g = make_generator(9)
    x = torch.randn(200, 1, generator=g, dtype=torch.float64)
    y = 1.3 * torch.randn(150, 1, generator=g, dtype=torch.float64) + 0.4
    a, b = x[:, 0].numpy(), y[:, 0].numpy()
    d_scipy = stats.energy_distance(a, b)
    v_xx = np.abs(a[:, None] - a[None, :]).mean()
    v_yy = np.abs(b[:, None] - b[None, :]).mean()
    expected = d_scipy**2 - v_xx / (len(a) - 1) - v_yy / (len(b) - 1)
    assert metrics.energy_distance(x, y) == pytest.approx(expected, rel=1e-10)


def _mean_abs_normal(mu, s):
    """E|Z| for Z ~ N(mu, s²): s √(2/π) exp(-mu²/(2s²)) + mu (1 - 2 Φ(-mu/s))."""
    return s * math.sqrt(2 / math.pi) * math.exp(-(mu**2) / (2 * s * s)) + mu * (
        1 - 2 * stats.norm.cdf(-mu / s)
    )


def test_energy_distance_population_value_for_shifted_gaussians(make_generator):
    """N(0,1) vs N(δ,1): X - Y ~ N(-δ, 2) and X - X' ~ N(0, 2), so the energy distance is
    2 E|N(δ, 2)| - 2 E|N(0, 2)| = 2 E|N(δ, 2)| - 4/√π. Mean of 20 replicates (n = 1000) within
    4 SE; with δ = 0 within 4 SE of 0 (unbiased)."""
    g = make_generator(10)
    reps, n = 20, 1000
    for delta in (0.0, 0.7):
        values = []
        for _ in range(reps):
            x = torch.randn(n, 1, generator=g, dtype=torch.float64)
            y = torch.randn(n, 1, generator=g, dtype=torch.float64) + delta
            values.append(metrics.energy_distance(x, y))
        values = np.array(values)
        exact = 2 * _mean_abs_normal(delta, math.sqrt(2)) - 4 / math.sqrt(math.pi)
        se = values.std(ddof=1) / math.sqrt(reps)
        assert abs(values.mean() - exact) < 4 * se


def test_energy_distance_same_law_and_different_laws(make_generator):
    d = en.eight_gaussians()
    g = make_generator(11)
    x, y = d.sample(600, g).double(), d.sample(600, g).double()
    z = en.GaussianMixture(d.means[1:], 0.15).sample(600, g).double()
    same = metrics.energy_distance(x, y)
    null = _permutation_null(x, y, metrics.energy_distance, 50, seed=12)
    assert abs(same) <= 3 * null.std()
    different = metrics.energy_distance(x, z)
    assert different > null.max()
    assert metrics.energy_distance(x, z) == pytest.approx(metrics.energy_distance(z, x))
    with pytest.raises(ValueError):
        metrics.energy_distance(x, torch.zeros(5, 3))


# --------------------------------------------------------------------------------------------
# TV and KL
# --------------------------------------------------------------------------------------------


def test_total_variation_and_kl_by_hand():
    p, q = [0.5, 0.5, 0.0], [0.25, 0.25, 0.5]
    assert metrics.total_variation(p, q) == pytest.approx(0.5)
    assert metrics.total_variation(q, p) == pytest.approx(0.5)
    assert metrics.total_variation(p, p) == 0.0
    assert metrics.kl_divergence(p, q) == pytest.approx(math.log(2))  # ½ ln 2 + ½ ln 2
    assert metrics.kl_divergence(q, p) == math.inf  # q has mass where p has none
    assert metrics.kl_divergence(q, q) == 0.0
    r = [0.2, 0.3, 0.5]
    expected = 0.2 * math.log(0.2 / 0.25) + 0.3 * math.log(0.3 / 0.25) + 0.5 * math.log(1.0)
    assert metrics.kl_divergence(r, q) == pytest.approx(expected, rel=1e-12)
    assert metrics.total_variation(r, q) == pytest.approx(0.5 * (0.05 + 0.05 + 0.0))
    assert metrics.total_variation([1, 0], [0, 1]) == 1.0


def test_tv_and_kl_normalise_and_accept_tensors_and_grids():
    counts_p, counts_q = np.array([2, 2, 0]), np.array([1, 1, 2])
    assert metrics.total_variation(counts_p, counts_q) == pytest.approx(0.5)
    assert metrics.kl_divergence(counts_p, counts_q) == pytest.approx(math.log(2))
    assert metrics.total_variation(torch.tensor([2.0, 2.0, 0.0]), [1, 1, 2]) == pytest.approx(0.5)
    grid_p, grid_q = np.array([[1.0, 0.0], [0.0, 1.0]]), np.ones((2, 2))
    assert metrics.total_variation(grid_p, grid_q) == pytest.approx(0.5)
    assert metrics.kl_divergence(grid_p, grid_q) == pytest.approx(math.log(2))


@pytest.mark.parametrize("fn", [metrics.total_variation, metrics.kl_divergence])
@pytest.mark.parametrize(
    "p, q, match",
    [
        ([0.5, 0.5], [0.2, 0.3, 0.5], "same shape"),
        ([0.5, -0.1, 0.6], [0.2, 0.3, 0.5], "negative"),
        ([0.5, math.nan, 0.5], [0.2, 0.3, 0.5], "NaN"),
        ([0.5, math.inf, 0.5], [0.2, 0.3, 0.5], "infinite"),
        ([], [], "empty"),
        ([0.0, 0.0], [0.5, 0.5], "sums to 0"),
    ],
)
def test_tv_kl_bad_input(fn, p, q, match):
    with pytest.raises(ValueError, match=match):
        fn(p, q)


# --------------------------------------------------------------------------------------------
# histogram_probs and cell_probs
# --------------------------------------------------------------------------------------------


def test_uniform_cell_probs_and_histogram_1d(make_generator, tv_bound):
    bounds, bins, n = ((0.0, 1.0),), 10, 20_000
    q = metrics.cell_probs(lambda x: torch.zeros(x.shape[0], dtype=x.dtype), bounds, bins)
    assert q.shape == (bins,)
    assert np.allclose(q, 0.1, rtol=0, atol=1e-15)
    x = torch.rand(n, 1, generator=make_generator(13), dtype=torch.float64)
    h = metrics.histogram_probs(x, bounds, bins)
    assert h.shape == (bins,) and h.sum() == pytest.approx(1.0)
    assert metrics.total_variation(h, q) < tv_bound(q, n)


def test_uniform_cell_probs_and_histogram_2d(make_generator, tv_bound):
    bounds, bins, n = ((-1.0, 1.0), (0.0, 3.0)), 12, 30_000
    q = metrics.cell_probs(
        lambda x: torch.full((x.shape[0],), -math.log(6.0), dtype=x.dtype), bounds, bins
    )
    assert q.shape == (bins, bins)
    assert np.allclose(q, 1 / bins**2, rtol=1e-12)
    u = torch.rand(n, 2, generator=make_generator(14), dtype=torch.float64)
    x = torch.stack([2 * u[:, 0] - 1, 3 * u[:, 1]], 1)
    h = metrics.histogram_probs(x, bounds, bins)
    assert h.shape == (bins, bins) and h.sum() == pytest.approx(1.0)
    assert metrics.total_variation(h, q) < tv_bound(q, n)


def test_histogram_layout_and_mass_outside():
    """Indexed [x, y]; points outside the box are not counted (fractions of all samples)."""
    bounds = ((0.0, 1.0), (0.0, 1.0))
    pts = torch.tensor([[0.05, 0.95], [0.05, 0.95], [0.55, 0.15], [1.5, 0.5]])
    h = metrics.histogram_probs(pts, bounds, bins=10)
    assert h[0, 9] == pytest.approx(0.5) and h[5, 1] == pytest.approx(0.25)
    assert h.sum() == pytest.approx(0.75)


def test_cell_probs_layout_with_a_linear_density():
    """p(x, y) = 2x on the unit square: cell [i, j] has probability ((i+1)² - i²)/bins³, which
    the midpoint rule reproduces exactly for a linear integrand; rows are indexed by x."""
    bins = 10
    q = metrics.cell_probs(lambda x: torch.log(2 * x[:, 0]), ((0.0, 1.0), (0.0, 1.0)), bins)
    i = np.arange(bins)
    expected = np.repeat(((2 * i + 1) / bins**3)[:, None], bins, axis=1)
    assert np.allclose(q, expected, rtol=1e-12)
    assert q.sum() == pytest.approx(1.0)


def test_cell_probs_converge_for_a_gaussian():
    """1D standard normal on [-6, 6]: cell probabilities match differences of Φ."""
    bounds, bins = ((-6.0, 6.0),), 24
    q = metrics.cell_probs(lambda x: -0.5 * x[:, 0] ** 2 - 0.5 * math.log(2 * math.pi), bounds,
                           bins, sub=16)
    edges = np.linspace(-6, 6, bins + 1)
    exact = np.diff(stats.norm.cdf(edges))
    # composite midpoint rule with spacing 0.5/16: error ≤ (b-a) s² max|f''| / 24 ≈ 1e-5 · 0.4
    assert np.abs(q - exact).max() < 1e-5


def test_histogram_and_cell_probs_bad_input():
    with pytest.raises(ValueError):
        metrics.histogram_probs(torch.zeros(5, 2), ((0.0, 1.0),))
    with pytest.raises(ValueError, match="bins"):
        metrics.histogram_probs(torch.zeros(5, 1), ((0.0, 1.0),), bins=0)
    with pytest.raises(ValueError, match="sub"):
        metrics.cell_probs(lambda x: x[:, 0], ((0.0, 1.0),), sub=0)


def _mann_whitney(scores, labels) -> float:
    pos, neg = scores[labels == 1], scores[labels == 0]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(wins / (len(pos) * len(neg)))


def test_auroc_equals_mann_whitney_with_ties():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=300).round(1)  # many ties
    labels = (rng.random(300) < 0.3 + 0.3 * (scores > 0)).astype(int)
    assert metrics.auroc(scores, labels) == pytest.approx(_mann_whitney(scores, labels), abs=1e-12)
    assert metrics.auroc(torch.as_tensor(scores), torch.as_tensor(labels)) == pytest.approx(
        _mann_whitney(scores, labels), abs=1e-12)


def test_auroc_extremes_and_roc_curve_shape():
    labels = np.array([0, 0, 1, 1])
    assert metrics.auroc([0.1, 0.2, 0.8, 0.9], labels) == 1.0
    assert metrics.auroc([0.9, 0.8, 0.2, 0.1], labels) == 0.0
    assert metrics.auroc([0.5, 0.5, 0.5, 0.5], labels) == 0.5
    fpr, tpr, thr = metrics.roc_curve([0.1, 0.4, 0.35, 0.8], labels)
    assert fpr[0] == tpr[0] == 0 and fpr[-1] == tpr[-1] == 1 and thr[0] == np.inf
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    # flagging scores >= thr[i] gives exactly (fpr[i], tpr[i])
    s = np.array([0.1, 0.4, 0.35, 0.8])
    for f, t, th in zip(fpr[1:], tpr[1:], thr[1:], strict=True):
        flagged = s >= th
        assert f == flagged[labels == 0].mean() and t == flagged[labels == 1].mean()


@pytest.mark.parametrize(
    "scores, labels, match",
    [([0.1, 0.2], [0, 0], "both classes"), ([0.1, np.nan], [0, 1], "finite"),
     ([0.1, 0.2], [0, 2], r"0 .normal"), ([0.1, 0.2, 0.3], [0, 1], "same length")],
)
def test_auroc_bad_input(scores, labels, match):
    with pytest.raises(ValueError, match=match):
        metrics.auroc(scores, labels)


def test_ece_of_a_calibrated_and_an_overconfident_model(make_generator):
    """Labels drawn from the predicted probabilities: ECE is only sampling noise. Claiming
    certainty while being right 70 % of the time: ECE = 0.3 exactly."""
    g = make_generator(0)
    n = 20_000
    probs = torch.softmax(2 * torch.randn(n, 5, generator=g), 1)
    labels = torch.multinomial(probs, 1, generator=g).squeeze(1)
    assert metrics.expected_calibration_error(probs, labels, n_bins=10) < 0.02
    onehot = torch.nn.functional.one_hot(torch.zeros(n, dtype=torch.long), 5).double()
    labels = torch.where(torch.rand(n, generator=g) < 0.7, 0, 1)
    ece = metrics.expected_calibration_error(onehot, labels)
    assert ece == pytest.approx(1 - float((labels == 0).double().mean()), abs=1e-12)
    r = metrics.reliability(probs, labels, n_bins=4)
    assert r["count"].sum() == n and len(r["edges"]) == 5


def test_reliability_bad_input():
    with pytest.raises(ValueError, match="softmax"):
        metrics.reliability(torch.randn(4, 3), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="n_classes"):
        metrics.reliability(torch.ones(4) / 4, torch.zeros(4, dtype=torch.long))


def test_mmd_floor_is_the_signed_95th_percentile_of_exact_vs_exact_values():
    from ebm_helpers import energies

    density = energies.get_density("8 gaussians")
    result = metrics.mmd_floor(density.sample, 300, repeats=12,
                               generator=torch.Generator().manual_seed(0))
    assert result.null.shape == (12,)
    assert (result.null < 0).any()  # unbiased: exact samples scatter on both sides of 0
    assert result.floor == pytest.approx(float(np.quantile(result.null, 0.95)))
    # the same stream gives the same floor; a model missing modes is far above it
    again = metrics.mmd_floor(density.sample, 300, repeats=12,
                              generator=torch.Generator().manual_seed(0))
    assert again.floor == result.floor
    one_mode = density.sample(300, torch.Generator().manual_seed(1))[:, :1].repeat(1, 2)
    assert metrics.mmd(one_mode, density.sample(300, torch.Generator().manual_seed(2)),
                       bandwidth=metrics.TOY_BANDWIDTH) > 10 * result.floor


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"sample": "not callable", "n": 10}, "sample"),
    ({"n": 1}, "n"),
    ({"n": 10, "quantile": 1.5}, "quantile"),
    ({"n": 10, "bandwidth": 0.0}, "bandwidth"),
])
def test_mmd_floor_rejects_bad_input(kwargs, match):
    from ebm_helpers import energies

    args = {"sample": energies.get_density("8 gaussians").sample} | kwargs
    with pytest.raises((ValueError, TypeError), match=match):
        metrics.mmd_floor(**args)


def test_equal_mass_bins_hold_equal_counts_and_match_a_direct_computation(make_generator):
    """binning="mass": bins of n / n_bins inputs sorted by confidence; the ECE is the weighted
    gap computed by hand from those groups; equal-width stays the default."""
    g = make_generator(1)
    probs = torch.softmax(3 * torch.randn(103, 4, generator=g, dtype=torch.float64), 1)
    labels = torch.randint(0, 4, (103,), generator=g)
    r = metrics.reliability(probs, labels, n_bins=10, binning="mass")
    assert sorted(r["count"].tolist()) == [10] * 7 + [11] * 3 and r["count"].sum() == 103
    assert np.all(np.diff(r["confidence"]) >= 0) and np.all(np.diff(r["edges"]) >= 0)
    conf, pred = probs.max(1)
    order = torch.argsort(conf, stable=True)
    by_hand = 0.0
    for rows in np.array_split(order.numpy(), 10):
        gap = (pred[rows] == labels[rows]).double().mean() - conf[rows].mean()
        by_hand += len(rows) / 103 * abs(float(gap))
    assert metrics.expected_calibration_error(probs, labels, 10, "mass") == pytest.approx(by_hand)
    assert metrics.expected_calibration_error(probs, labels) == pytest.approx(
        metrics.expected_calibration_error(probs, labels, 10, "width"))
    with pytest.raises(ValueError, match="binning"):
        metrics.reliability(probs, labels, binning="quantile")
    with pytest.raises(ValueError, match="fewer bins"):
        metrics.reliability(probs[:5], labels[:5], n_bins=10, binning="mass")
