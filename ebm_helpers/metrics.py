"""Distances between distributions, from samples or on grids.

* ``mmd``: squared maximum mean discrepancy with a Gaussian kernel (unbiased estimate);
* ``median_bandwidth``: the bandwidth rule ``mmd`` uses by default;
* ``TOY_BANDWIDTH`` and ``mmd_floor``: the collection's one convention for MMD² on its 2-D toy
  densities (a fixed kernel width, and a noise floor measured from exact samples);
* ``energy_distance``: Székely's energy distance between two samples;
* ``total_variation`` and ``kl_divergence`` between discrete (or gridded) distributions;
* ``histogram_probs`` and ``cell_probs``: turn samples, or a log-density on a grid, into
  probabilities over the same cells, so that samples can be compared with an exact density;
* ``roc_curve`` and ``auroc``: ranking quality of an anomaly/OOD score;
* ``reliability`` and ``expected_calibration_error``: calibration of a classifier's confidence;
* ``frechet_distance`` and ``precision_recall_knn``: sample quality in a feature space (13).

Used by notebook 01 (Metropolis vs exact density), by every notebook that measures sample
quality (07-09, 13), and by 10-11 (AUROC, calibration). Samples are (n, d) tensors.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from ._validation import as_callable, as_points, check_cost, check_memory, count, positive

__all__ = [
    "TOY_BANDWIDTH",
    "MMDFloor",
    "auroc",
    "cell_probs",
    "energy_distance",
    "expected_calibration_error",
    "histogram_probs",
    "kl_divergence",
    "median_bandwidth",
    "mmd",
    "mmd_floor",
    "reliability",
    "roc_curve",
    "total_variation",
]


_BLOCK = 2**24  # distance-matrix entries computed at once (128 MiB in float64)


def _pair(x, y, what: str = "") -> tuple[torch.Tensor, torch.Tensor]:
    x = as_points(x, name="x")
    y = as_points(y, x.shape[1], name="y")
    if x.shape[0] < 2 or y.shape[0] < 2:
        raise ValueError("each sample needs at least 2 points for an unbiased estimate")
    if what:
        n, m, d = x.shape[0], y.shape[0], x.shape[1]
        # three matrices of pairwise distances (x-x, y-y, x-y), each entry ≈ d + 10 operations
        check_cost((n * n + m * m + n * m) * (d + 10), "the samples (e.g. x[:5000], y[:5000]: "
                   "the estimate's error shrinks like 1/√n)", f"{what} of {n} and {m} points")
    dt = torch.promote_types(x.dtype, y.dtype)
    return x.to(dt), y.to(dt)


def _pairwise_sum(a: torch.Tensor, b: torch.Tensor, fn, mean: bool = False) -> torch.Tensor:
    """Σ_ij fn(|a_i - b_j|) (or the mean), computed a block of rows at a time when the full
    distance matrix would be large (the same sum; memory stays at ``_BLOCK`` entries)."""
    rows = max(1, _BLOCK // max(b.shape[0], 1))
    if a.shape[0] <= rows:
        values = fn(torch.cdist(a, b))
        return values.mean() if mean else values.sum()
    total = sum(fn(torch.cdist(a[s : s + rows], b)).sum() for s in range(0, a.shape[0], rows))
    return total / (a.shape[0] * b.shape[0]) if mean else total


def median_bandwidth(x: torch.Tensor, y: torch.Tensor, max_points: int = 2000) -> float:
    """The median heuristic: the median pairwise distance in the pooled sample.

    Uses at most the first ``max_points`` points of each sample (deterministic), which is
    plenty for a median.
    """
    x, y = _pair(x, y)
    max_points = count(max_points, "max_points", minimum=2)
    check_memory(max_points * (2 * max_points - 1), "max_points",
                 f"the pairwise distances of 2 × {max_points} points")
    z = torch.cat([x[:max_points], y[:max_points]])
    d = torch.pdist(z)
    med = float(d.median()) if d.numel() else 0.0
    if med <= 0:
        raise ValueError("all points coincide, so the median distance is 0; pass a bandwidth")
    return med


def mmd(x: torch.Tensor, y: torch.Tensor, bandwidth: float | None = None) -> float:
    """Unbiased estimate of the squared MMD between the laws of two samples.

    MMD²(P, Q) = E k(x, x') + E k(y, y') - 2 E k(x, y) with the Gaussian kernel
    k(a, b) = exp(-|a - b|² / (2 h²)). The within-sample terms exclude the diagonal (a
    U-statistic), so the estimate is unbiased: it fluctuates around 0 (and can be slightly
    negative) when P = Q, and is clearly positive when they differ, e.g. when a mode is missing.

    Bandwidth rule: ``h`` = the median pairwise distance of the pooled sample (the median
    heuristic, ``median_bandwidth``) unless given. Compare MMD² values only at the same h.

    Args:
        x: (n, d) sample from P.
        y: (m, d) sample from Q.
        bandwidth: kernel width h > 0, or ``None`` for the median heuristic.

    Returns:
        The MMD² estimate (a float, in squared kernel units).
    """
    x, y = _pair(x, y, "the MMD")
    h = median_bandwidth(x, y) if bandwidth is None else positive(bandwidth, "bandwidth")
    n, m = x.shape[0], y.shape[0]

    def k(d):
        return torch.exp(-(d**2) / (2 * h * h))

    kxx = (_pairwise_sum(x, x, k) - n) / (n * (n - 1))
    kyy = (_pairwise_sum(y, y, k) - m) / (m * (m - 1))
    kxy = _pairwise_sum(x, y, k, mean=True)
    return float(kxx + kyy - 2 * kxy)


#: The kernel width of every MMD² on the collection's 2-D toy densities (notebooks 07 and 09).
#: On the 8 gaussians (σ = 0.15 on a ring of radius 2) it is about three mode widths and a
#: third of the gap between neighbouring modes, so mode widths, missing modes and mass between
#: the modes all count; the median heuristic would pick the scale of the whole ring instead.
TOY_BANDWIDTH = 0.5


class MMDFloor(NamedTuple):
    """``floor``: the noise floor of an MMD² measurement; ``null``: the exact-vs-exact values
    it was computed from (``repeats`` of them)."""

    floor: float
    null: np.ndarray


def mmd_floor(sample, n: int, bandwidth: float = TOY_BANDWIDTH, repeats: int = 10,
              n_compare: int = 1, generator: torch.Generator | None = None,
              quantile: float = 0.95) -> MMDFloor:
    """The noise floor of an MMD² measurement, the collection's one convention.

    The unbiased MMD² of two samples from the *same* law scatters around 0, so a model's value
    means something only next to what chance produces at the same sample size and bandwidth.
    This computes the statistic for exact samples against fresh exact samples — ``n`` vs ``n``
    points, averaged over ``n_compare`` comparisons, exactly as a model is measured — ``repeats``
    times, and returns the ``quantile`` (95th percentile) of the **signed** values: one-sided,
    because only a large *positive* MMD² says that two laws differ; exact sampling exceeds the
    floor about one time in twenty.

    Args:
        sample: ``sample(n, generator) -> (n, d)`` exact samples (e.g. a density's ``sample``).
        n: points per sample.
        bandwidth: kernel width h (default ``TOY_BANDWIDTH``); compare MMD² only at equal h.
        repeats: how many null values to draw.
        n_compare: comparisons averaged per value (1 = a single MMD²).
        generator: the random stream for the exact samples.
        quantile: the floor's quantile of the null values.

    Returns:
        ``MMDFloor(floor, null)``.
    """
    as_callable(sample, "sample", "a function (n, generator) -> (n, d) exact samples")
    n = count(n, "n", minimum=2)
    repeats = count(repeats, "repeats", minimum=2)
    n_compare = count(n_compare, "n_compare")
    positive(bandwidth, "bandwidth")
    try:
        quantile = float(quantile)
    except (TypeError, ValueError) as err:
        raise ValueError(f"quantile must be a number in (0, 1), got {quantile!r}") from err
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must be in (0, 1), got {quantile}")
    null = np.array([
        np.mean([mmd(sample(n, generator), sample(n, generator), bandwidth=bandwidth)
                 for _ in range(n_compare)])
        for _ in range(repeats)
    ])
    return MMDFloor(float(np.quantile(null, quantile)), null)


def energy_distance(x: torch.Tensor, y: torch.Tensor) -> float:
    """Székely's energy distance, 2 E|X - Y| - E|X - X'| - E|Y - Y'| (unbiased within terms).

    Zero exactly when the two laws are equal; in the units of x.
    """
    x, y = _pair(x, y, "the energy distance")
    n, m = x.shape[0], y.shape[0]

    def same(d):
        return d

    dxy = _pairwise_sum(x, y, same, mean=True)
    dxx = _pairwise_sum(x, x, same) / (n * (n - 1))
    dyy = _pairwise_sum(y, y, same) / (m * (m - 1))
    return float(2 * dxy - dxx - dyy)


def _probabilities(p, name: str) -> np.ndarray:
    a = np.asarray(p.detach().cpu() if isinstance(p, torch.Tensor) else p, dtype=np.float64)
    if a.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} has NaN or infinite entries")
    if (a < 0).any():
        raise ValueError(f"{name} has negative entries; probabilities must be ≥ 0")
    total = a.sum()
    if total <= 0:
        raise ValueError(f"{name} sums to 0; it must hold at least one positive weight")
    return a / total


def total_variation(p, q) -> float:
    """Total variation distance ½ Σ_i |p_i - q_i| between two discrete distributions.

    Both arrays are normalised to sum to one first (so counts or unnormalised grid values are
    fine); they must have the same shape.
    """
    a, b = _probabilities(p, "p"), _probabilities(q, "q")
    if a.shape != b.shape:
        raise ValueError(f"p and q must have the same shape, got {a.shape} and {b.shape}")
    return float(0.5 * np.abs(a - b).sum())


def kl_divergence(p, q) -> float:
    """KL(p ‖ q) = Σ_i p_i log(p_i / q_i) in nats, after normalising both.

    Returns ``inf`` when p puts mass where q has none.
    """
    a, b = _probabilities(p, "p"), _probabilities(q, "q")
    if a.shape != b.shape:
        raise ValueError(f"p and q must have the same shape, got {a.shape} and {b.shape}")
    mask = a > 0
    if (b[mask] == 0).any():
        return math.inf
    return float((a[mask] * np.log(a[mask] / b[mask])).sum())


def _bounds(bounds) -> list[tuple[float, float]]:
    """Check ((lo, hi),) or ((x0, x1), (y0, y1)): finite numbers with lo < hi."""
    try:
        pairs = [(float(lo), float(hi)) for lo, hi in bounds]
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"bounds must be one (low, high) pair per dimension, e.g. ((-3, 3), (-3, 3)), got "
            f"{bounds!r} (the number of cells per axis is bins)"
        ) from err
    if not pairs or not all(math.isfinite(lo) and math.isfinite(hi) and lo < hi
                            for lo, hi in pairs):
        raise ValueError(f"bounds must hold finite (low, high) pairs with low < high, got "
                         f"{bounds!r}")
    return pairs


def _edges(bounds, bins: int, sub: int = 1) -> list[np.ndarray]:
    if isinstance(bounds, (int, np.integer)) and not isinstance(bins, (int, np.integer)):
        raise ValueError(f"bounds and bins look swapped (bounds={bounds!r}, bins={bins!r}): "
                         "pass the box first, e.g. histogram_probs(x, ((-3, 3), (-3, 3)), 40)")
    bins = count(bins, "bins")
    pairs = _bounds(bounds)
    check_memory(3 * float(bins * sub) ** len(pairs) * len(pairs), "bins"
                 + (" or sub" if sub > 1 else ""),
                 f"a grid of {bins}^{len(pairs)} cells" + (f" × {sub}^{len(pairs)} points" if
                                                            sub > 1 else ""))
    return [np.linspace(lo, hi, bins + 1) for lo, hi in pairs]


def histogram_probs(samples, bounds, bins: int = 40) -> np.ndarray:
    """Fraction of samples in each cell of a regular grid over ``bounds``.

    Args:
        samples: (n, d) points, d = len(bounds) (1 or 2).
        bounds: ((lo, hi),) or ((x0, x1), (y0, y1)).
        bins: cells per axis.

    Returns:
        Array of shape (bins,) or (bins, bins) indexed [x] or [x, y]; sums to the fraction of
        samples inside the box (not renormalised, so mass outside is visible).
    """
    edges = _edges(bounds, bins)
    x = as_points(samples, len(edges), name="samples").detach().cpu().double().numpy()
    h, _ = np.histogramdd(x, bins=edges)
    return h / x.shape[0]


def cell_probs(log_prob, bounds, bins: int = 40, sub: int = 4) -> np.ndarray:
    """Probability of each grid cell under a normalised density, by a ``sub``×``sub`` midpoint
    rule per cell; same layout as ``histogram_probs``.

    Args:
        log_prob: maps (batch, d) points to (batch,) normalised log-densities.
    """
    as_callable(log_prob, "log_prob", "a function mapping (batch, d) points to (batch,) "
                "normalised log-densities")
    sub = count(sub, "sub")
    edges = _edges(bounds, bins, sub)
    mids = [
        (e[:-1, None] + (np.arange(sub) + 0.5) / sub * np.diff(e)[:, None]).reshape(-1)
        for e in edges
    ]
    grids = np.meshgrid(*mids, indexing="ij")
    pts = torch.as_tensor(np.stack([g.reshape(-1) for g in grids], 1))
    with torch.no_grad():
        lp = log_prob(pts)
    if not isinstance(lp, torch.Tensor) or lp.shape != (pts.shape[0],):
        got = tuple(lp.shape) if isinstance(lp, torch.Tensor) else type(lp).__name__
        raise ValueError(f"log_prob must map the ({pts.shape[0]}, {pts.shape[1]}) grid points to "
                         f"a ({pts.shape[0]},) tensor of log-densities, got {got}")
    if torch.isnan(lp).any():
        raise ValueError(f"log_prob returned NaN at {int(torch.isnan(lp).sum())} grid points; "
                         "the cell probabilities would be NaN (check the density there)")
    dens = torch.exp(lp).double().numpy()
    vol = np.prod([np.diff(e)[0] / sub for e in edges])
    shape = [bins, sub] * len(edges)
    dens = dens.reshape([bins * sub] * len(edges)).reshape(shape)
    axes = tuple(range(1, 2 * len(edges), 2))
    return dens.sum(axis=axes) * vol


def _scores_labels(scores, labels) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores.detach().cpu() if isinstance(scores, torch.Tensor) else scores,
                   dtype=np.float64)
    y = np.asarray(labels.detach().cpu() if isinstance(labels, torch.Tensor) else labels)
    if s.ndim != 1 or y.shape != s.shape:
        raise ValueError(
            f"scores and labels must be 1-D of the same length, got {s.shape} and {y.shape}"
        )
    if not np.isfinite(s).all():
        raise ValueError("scores has NaN or infinite entries; an anomaly score must be finite")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 (normal / negative) or 1 (anomaly / positive)")
    y = y.astype(bool)
    if y.all() or not y.any():
        raise ValueError("labels must contain both classes (0 and 1) for a ROC curve")
    return s, y


def roc_curve(scores, labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ROC curve of a score where *higher means more anomalous* (label 1).

    Args:
        scores: (n,) real scores.
        labels: (n,) 0/1 labels, 1 = positive (anomaly, out-of-distribution).

    Returns:
        ``(fpr, tpr, thresholds)``: flagging ``scores >= thresholds[i]`` gives false- and
        true-positive rates ``fpr[i]``, ``tpr[i]``; starts at (0, 0) with threshold +inf and ends
        at (1, 1). Tied scores form one step.
    """
    s, y = _scores_labels(scores, labels)
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    last_of_tie = np.r_[np.diff(s) != 0, True]
    tp = np.cumsum(y)[last_of_tie]
    fp = np.cumsum(~y)[last_of_tie]
    tpr = np.r_[0.0, tp / y.sum()]
    fpr = np.r_[0.0, fp / (~y).sum()]
    return fpr, tpr, np.r_[np.inf, s[last_of_tie]]


def auroc(scores, labels) -> float:
    """Area under the ROC curve: P(score of a random positive > score of a random negative),
    ties counted as ½ (the Mann–Whitney U statistic divided by n₊ n₋)."""
    fpr, tpr, _ = roc_curve(scores, labels)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def reliability(probs, labels, n_bins: int = 10, binning: str = "width"
                ) -> dict[str, np.ndarray]:
    """Reliability diagram data: accuracy against confidence in confidence bins.

    ``binning="width"`` (the classic choice) cuts [0, 1] into equal-width bins. A good
    classifier puts nearly all its inputs in the top one, and the diagram then shows one point;
    ``binning="mass"`` sorts the inputs by confidence and cuts them into bins of (nearly) equal
    size instead (adaptive bins, Nixon et al. 2019), so each bin holds n / n_bins inputs.

    Args:
        probs: (n, n_classes) predicted class probabilities (rows sum to 1).
        labels: (n,) true class indices.
        n_bins: number of bins for the confidence max_y p(y | x).
        binning: ``"width"`` (equal-width bins on [0, 1]) or ``"mass"`` (equal-count bins;
            needs at least n_bins inputs).

    Returns:
        Dict with ``confidence`` (mean confidence per bin), ``accuracy`` (per bin), ``count``
        (examples per bin) and ``edges`` (n_bins + 1; for ``"mass"`` the midpoints between
        neighbouring bins' confidences, with 0 and 1 at the ends); empty bins hold NaN.
    """
    try:
        p = torch.as_tensor(np.asarray(probs) if not isinstance(probs, torch.Tensor) else probs
                            ).detach().cpu().double()
        y = torch.as_tensor(np.asarray(labels) if not isinstance(labels, torch.Tensor)
                            else labels).detach().cpu()
    except (TypeError, ValueError) as err:
        raise ValueError(f"probs and labels must be arrays of numbers: {err}") from err
    if p.ndim != 2 or y.ndim != 1 or y.shape[0] != p.shape[0] or p.shape[0] == 0:
        raise ValueError(f"probs must be (n, n_classes) and labels (n,), got {tuple(p.shape)} "
                         f"and {tuple(y.shape)}")
    if y.dtype == torch.bool or y.is_complex() or (
        y.is_floating_point() and not bool((torch.isfinite(y) & (y == y.round())).all())
    ):
        raise ValueError(f"labels must be integer class indices (dtype {y.dtype} given); "
                         "use labels.long()")
    y = y.long()
    if bool((y < 0).any()) or bool((y >= p.shape[1]).any()):
        raise ValueError(
            f"labels must be class indices 0..{p.shape[1] - 1}, one per column of probs "
            f"(n_classes = {p.shape[1]}), got values in [{int(y.min())}, {int(y.max())}]; "
            "an accuracy against labels outside the columns would be meaningless"
        )
    if not torch.isfinite(p).all() or (p < 0).any() or not torch.allclose(
            p.sum(1), torch.ones(p.shape[0], dtype=p.dtype), atol=1e-4):
        raise ValueError("probs must be finite, non-negative and sum to 1 along each row; "
                         "pass softmax(logits), not the logits")
    n_bins = count(n_bins, "n_bins")
    if binning not in ("width", "mass"):
        raise ValueError(f"binning must be 'width' (equal-width bins) or 'mass' (equal-count "
                         f"bins), got {binning!r}")
    conf, pred = p.max(1)
    correct = (pred == y).double().numpy()
    conf = conf.numpy()
    if binning == "width":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
        which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, n_bins - 1)
    else:
        if len(conf) < n_bins:
            raise ValueError(f"equal-mass binning needs at least n_bins = {n_bins} inputs, got "
                             f"{len(conf)}; use fewer bins")
        order = np.argsort(conf, kind="stable")  # ties keep their input order: deterministic
        groups = np.array_split(order, n_bins)  # sizes differ by at most one
        which = np.empty(len(conf), dtype=np.int64)
        for b, rows in enumerate(groups):
            which[rows] = b
        sorted_conf = conf[order]
        cuts = np.cumsum([len(r) for r in groups])[:-1]
        edges = np.concatenate([[0.0], (sorted_conf[cuts - 1] + sorted_conf[cuts]) / 2, [1.0]])
    counts = np.bincount(which, minlength=n_bins).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(which, conf, n_bins) / counts
        acc = np.bincount(which, correct, n_bins) / counts
    return {"confidence": mean_conf, "accuracy": acc, "count": counts, "edges": edges}


def expected_calibration_error(probs, labels, n_bins: int = 10, binning: str = "width"
                               ) -> float:
    """ECE = Σ_b (n_b / n) |accuracy_b - confidence_b| over confidence bins (Naeini et al.
    2015; Guo et al. 2017): equal-width bins by default, equal-count bins for
    ``binning="mass"`` (the adaptive ECE of Nixon et al. 2019); see ``reliability``."""
    r = reliability(probs, labels, n_bins, binning)
    used = r["count"] > 0
    w = r["count"][used] / r["count"].sum()
    return float(np.sum(w * np.abs(r["accuracy"][used] - r["confidence"][used])))


# --------------------------------------------------------------------------------------------
# Sample quality in a feature space: Fréchet distance, k-NN precision and recall (notebook 13)
# --------------------------------------------------------------------------------------------

__all__ += ["frechet_distance", "precision_recall_knn"]


def _features(a, b, min_points: int, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    a = as_points(a, name="the first feature set")
    b = as_points(b, a.shape[1], name="the second feature set")
    for name, x in (("first", a), ("second", b)):
        if x.shape[0] < min_points:
            raise ValueError(
                f"the {name} feature set has {x.shape[0]} point(s); {what} needs at least "
                f"{min_points}. Draw more samples."
            )
    return a.detach().cpu().double(), b.detach().cpu().double()


def frechet_distance(feat_a, feat_b, eps: float = 1e-6) -> float:
    """Fréchet distance between Gaussians fitted to two feature samples (the "FID" formula).

    FD = |μ_a - μ_b|² + tr(Σ_a + Σ_b - 2 (Σ_a^{1/2} Σ_b Σ_a^{1/2})^{1/2}),

    the squared 2-Wasserstein distance between N(μ_a, Σ_a) and N(μ_b, Σ_b) (Dowson & Landau
    1982; Heusel et al. 2017 use it on Inception features, here any classifier's features).
    A ridge ``eps``·I is added to both covariances: dead ReLU units (always 0) and fewer
    points than dimensions make sample covariances singular, and the matrix square root of a
    singular matrix is numerically fragile. The estimate is biased upwards for small samples,
    so compare FDs only at equal sample sizes, against a real-vs-real floor.

    Args:
        feat_a: (n, d) features of one sample (e.g. real images).
        feat_b: (m, d) features of the other (e.g. model samples).
        eps: ridge ≥ 0 added to the diagonals (float64 arithmetic).

    Returns:
        FD ≥ 0 (squared feature units).

    Raises:
        ValueError: for different widths, non-finite values, fewer than 2 points in a sample
            (no covariance), or a negative ``eps``.
    """
    a, b = _features(feat_a, feat_b, 2, "a covariance")
    check_memory(4 * a.shape[1] ** 2, "the feature width (e.g. a smaller layer's features)",
                 "the covariance matrices of frechet_distance")
    try:
        eps = float(eps)
    except (TypeError, ValueError) as err:
        raise ValueError(f"eps must be a number ≥ 0, got {eps!r}") from err
    if not math.isfinite(eps) or eps < 0:
        raise ValueError(f"eps must be a finite number ≥ 0, got {eps}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    eye = torch.eye(a.shape[1], dtype=torch.float64)
    cov_a = torch.cov(a.T).reshape(a.shape[1], a.shape[1]) + eps * eye
    cov_b = torch.cov(b.T).reshape(b.shape[1], b.shape[1]) + eps * eye
    # tr (Σ_a^{1/2} Σ_b Σ_a^{1/2})^{1/2} from symmetric eigendecompositions (no complex sqrtm)
    w, v = torch.linalg.eigh(cov_a)
    root_a = (v * w.clamp_min(0).sqrt()) @ v.T
    middle = root_a @ cov_b @ root_a
    tr_root = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp_min(0).sqrt().sum()
    fd = (mu_a - mu_b).pow(2).sum() + torch.trace(cov_a) + torch.trace(cov_b) - 2 * tr_root
    return max(float(fd), 0.0)


def _kth_neighbour_radius(x: torch.Tensor, k: int, chunk: int = 2048) -> torch.Tensor:
    """Distance from each point to its k-th nearest *other* point of the same set, (n,)."""
    radii = []
    for s in range(0, x.shape[0], chunk):
        d = torch.cdist(x[s : s + chunk], x)
        # the point itself is at distance 0: the (k+1)-th smallest is the k-th neighbour
        radii.append(d.kthvalue(k + 1, dim=1).values)
    return torch.cat(radii)


def _covered(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor,
             chunk: int = 2048) -> torch.Tensor:
    """Whether each point lies in at least one ball B(centre_j, radius_j): (n,) booleans."""
    out = []
    for s in range(0, points.shape[0], chunk):
        d = torch.cdist(points[s : s + chunk], centres)
        out.append((d <= radii[None, :]).any(1))
    return torch.cat(out)


def precision_recall_knn(real, fake, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall of a generative model (Kynkäänniemi et al. 2019).

    Each sample's manifold is the union of balls around its points, ball j having the radius
    of point j's k-th nearest neighbour within its own sample. Then

    * precision = the fraction of *fake* points inside the real manifold (are the samples
      realistic?), and
    * recall = the fraction of *real* points inside the fake manifold (does the model cover
      the data? a model that drops modes has low recall).

    Both are in [0, 1]. Use features (e.g. a classifier's penultimate layer) rather than raw
    pixels, equal sample sizes for comparisons, and a real-vs-real floor: two real samples
    do not reach (1, 1).

    Args:
        real: (n, d) real features.
        fake: (m, d) generated features.
        k: the neighbour that sets each radius (k = 3 in the paper); 1 ≤ k < number of points
            of each set.

    Returns:
        (precision, recall) as floats.

    Raises:
        ValueError: for different widths, non-finite values, or k ≥ the number of points of a
            set (no k-th neighbour).
    """
    k = count(k, "k")
    a, b = _features(real, fake, 2, "a nearest neighbour")
    n, m, d = a.shape[0], b.shape[0], a.shape[1]
    check_cost((n * n + m * m + 2 * n * m) * (d + 10), "real and fake (e.g. real[:5000])",
               "the k-NN distances of precision_recall_knn")
    for name, x in (("real", a), ("fake", b)):
        if k >= x.shape[0]:
            raise ValueError(
                f"k = {k} needs more than k points per set, but the {name} set has "
                f"{x.shape[0]}; lower k or pass more points"
            )
    r_real = _kth_neighbour_radius(a, k)
    r_fake = _kth_neighbour_radius(b, k)
    precision = float(_covered(b, a, r_real).double().mean())
    recall = float(_covered(a, b, r_fake).double().mean())
    return precision, recall
