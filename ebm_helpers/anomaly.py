"""Anomaly scores, the baselines an energy is measured against, and how to pick a threshold.

An anomaly *score* maps a batch (n, d) to (n,) numbers, higher = more anomalous; an energy
E_θ(x) is one. This module holds

* baselines, each fitted on normal data and returned as a scorer ``x -> (n,) scores``:
  ``gaussian_scorer`` (negative log-likelihood of a full-covariance Gaussian with Ledoit–Wolf or
  ridge shrinkage; ``gaussian_nll`` is the formula), ``isolation_forest_scorer`` (Liu, Ting &
  Zhou 2008, via scikit-learn), and a small MLP ``Autoencoder`` trained by
  ``train_autoencoder`` whose score is ``reconstruction_error``;
* thresholds: ``threshold_at_fpr`` (a quantile of held-out *normal* scores, which fixes the
  false-positive rate) and ``detection_rates`` (precision, recall, FPR, F1 at a threshold);
* ``scores_table``/``format_table``: every method scored on the same normal and anomalous test
  sets, with ROC AUC and the recall at a false-positive rate calibrated on held-out normals.

Used by notebook 11 (anomaly detection) and its threshold explorer in ``widgets``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from . import _nets, config, metrics
from ._training import DivergenceGuard
from ._validation import (
    ArgumentTypeError,
    as_callable,
    as_generator,
    as_model_input,
    as_module,
    as_points,
    check_memory,
    count,
    in_range,
    non_negative,
    positive,
)
from ._validation import widths as layer_widths

__all__ = [
    "Autoencoder",
    "Gaussian",
    "MethodScores",
    "Rates",
    "detection_rates",
    "fit_gaussian",
    "format_table",
    "gaussian_nll",
    "gaussian_scorer",
    "isolation_forest_scorer",
    "reconstruction_error",
    "scores_table",
    "threshold_at_fpr",
    "to_scores",
    "train_autoencoder",
]

Scorer = Callable[[torch.Tensor], torch.Tensor | np.ndarray]


def to_scores(scores, name: str = "scores") -> np.ndarray:
    """Check and convert anomaly scores to a finite float64 NumPy vector (n,).

    Raises:
        ValueError: for a shape other than (n,), an empty vector or non-finite entries.
    """
    if isinstance(scores, torch.Tensor):
        scores = scores.detach().cpu().numpy()
    try:
        s = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a 1-D vector of numbers (one score per example): "
                         f"{err}") from err
    if s.ndim != 1 or s.size == 0:
        raise ValueError(
            f"{name} must be a non-empty 1-D vector with one score per example, got shape "
            f"{s.shape}; a model's energy should map (batch, d) to (batch,)"
        )
    if not np.isfinite(s).all():
        raise ValueError(f"{name} has {int((~np.isfinite(s)).sum())} NaN or infinite entries; "
                         "an anomaly score must be finite (check the model for divergence)")
    return s


# --------------------------------------------------------------------------------------------
# Thresholds
# --------------------------------------------------------------------------------------------


def threshold_at_fpr(normal_scores, fpr: float) -> float:
    """The threshold τ that flags (score > τ) at most a fraction ``fpr`` of normal examples.

    τ is the k-th smallest normal score with k = ⌈(1 - fpr) n⌉, so exactly ⌊fpr · n⌋ of n
    distinct normal scores lie above it (fewer with ties). On held-out normal data this
    is the usual way to set the threshold without seeing any anomaly: it fixes the false-positive
    rate, and the recall is whatever the score achieves at that rate.

    Args:
        normal_scores: (n,) scores of held-out normal examples.
        fpr: the target false-positive rate in [0, 1].

    Returns:
        τ as a float (``-inf`` for ``fpr = 1``: everything is flagged).
    """
    s = np.sort(to_scores(normal_scores, "normal_scores"))
    try:
        fpr = float(fpr)
    except (TypeError, ValueError) as err:
        raise ValueError(f"fpr must be a number in [0, 1], got {fpr!r}") from err
    if not 0.0 <= fpr <= 1.0:
        raise ValueError(f"fpr must be a false-positive rate in [0, 1], got {fpr}")
    # 1e-9 guards against 0.95 * 100 = 94.99999999999999 rounding k up by one
    k = math.ceil((1.0 - fpr) * s.size - 1e-9)
    return -math.inf if k <= 0 else float(s[k - 1])


class Rates(NamedTuple):
    """Detection counts and rates at one threshold (flag = score > threshold).

    ``precision`` is TP / (TP + FP) (NaN when nothing is flagged), ``recall`` TP / (TP + FN)
    (the true-positive rate), ``fpr`` FP / (FP + TN), ``f1`` their harmonic mean (NaN when
    precision is NaN; 0 when both are 0).
    """

    tp: int
    fp: int
    fn: int
    tn: int
    precision: float
    recall: float
    fpr: float
    f1: float


def detection_rates(scores_normal, scores_anomaly, threshold: float) -> Rates:
    """Precision, recall, false-positive rate and F1 of the rule ``score > threshold``.

    Args:
        scores_normal: (n₀,) scores of normal examples (negatives).
        scores_anomaly: (n₁,) scores of anomalies (positives).
        threshold: τ; ±inf allowed.

    Returns:
        ``Rates``. Precision depends on the proportion of anomalies in the test set (the
        contamination), recall and FPR do not.
    """
    s0 = to_scores(scores_normal, "scores_normal")
    s1 = to_scores(scores_anomaly, "scores_anomaly")
    try:
        tau = float(threshold)
    except (TypeError, ValueError) as err:
        raise ValueError(f"threshold must be a number, got {threshold!r}") from err
    if math.isnan(tau):
        raise ValueError("threshold is NaN; pass a number (or ±inf)")
    tp, fp = int((s1 > tau).sum()), int((s0 > tau).sum())
    fn, tn = s1.size - tp, s0.size - fp
    precision = tp / (tp + fp) if tp + fp else math.nan
    recall, fpr = tp / s1.size, fp / s0.size
    if math.isnan(precision):
        f1 = math.nan
    else:
        f1 = 0.0 if tp == 0 else 2 * precision * recall / (precision + recall)
    return Rates(tp, fp, fn, tn, precision, recall, fpr, f1)


# --------------------------------------------------------------------------------------------
# Gaussian density
# --------------------------------------------------------------------------------------------


class Gaussian(NamedTuple):
    """A fitted Gaussian: ``mean`` (d,), ``cov`` (d, d) float64, and the shrinkage used."""

    mean: torch.Tensor
    cov: torch.Tensor
    shrinkage: float


def fit_gaussian(x, shrinkage: float | str = "ledoit-wolf") -> Gaussian:
    """Fit a full-covariance Gaussian to normal data, with shrinkage for a well-posed Σ.

    With ``"ledoit-wolf"``, Σ = (1 - λ) S + λ (tr S / d) I with the sample covariance S (1/n) and
    λ chosen by Ledoit & Wolf's (2004) closed form (``sklearn.covariance.ledoit_wolf``); with a
    number r ≥ 0, Σ = S + r I (a ridge). Shrinkage matters here: images have constant pixels
    (zero variance), where an unshrunk S is singular.

    Args:
        x: (n, d) normal training data.
        shrinkage: ``"ledoit-wolf"`` or a ridge r ≥ 0.
    """
    x = as_points(x, name="x").detach().cpu().double()
    if x.shape[0] < 2:
        raise ValueError("fitting a Gaussian needs at least 2 rows of data")
    check_memory(3 * x.shape[1] ** 2, "the number of features d",
                 f"a {x.shape[1]}×{x.shape[1]} covariance")
    mean = x.mean(0)
    if isinstance(shrinkage, str):
        if shrinkage != "ledoit-wolf":
            raise ValueError(f"shrinkage must be 'ledoit-wolf' or a number ≥ 0, got {shrinkage!r}")
        from sklearn.covariance import ledoit_wolf

        cov, lam = ledoit_wolf(x.numpy())
        return Gaussian(mean, torch.as_tensor(cov), float(lam))
    ridge = non_negative(shrinkage, "shrinkage")
    xc = x - mean
    cov = xc.T @ xc / x.shape[0] + ridge * torch.eye(x.shape[1], dtype=torch.float64)
    return Gaussian(mean, cov, ridge)


def gaussian_nll(x, mean, cov) -> torch.Tensor:
    """-log N(x; μ, Σ) = ½ (x-μ)ᵀ Σ⁻¹ (x-μ) + ½ log det Σ + (d/2) log 2π, per row.

    Computed through the Cholesky factor Σ = L Lᵀ (one triangular solve, log det Σ =
    2 Σ_i log L_ii) in float64.

    Args:
        x: (n, d); mean: (d,); cov: (d, d) symmetric positive definite.

    Returns:
        (n,) float64 negative log-densities (the anomaly score).

    Raises:
        ValueError: wrong shapes, or Σ not positive definite (add shrinkage).
    """
    try:
        mean = torch.as_tensor(np.asarray(mean, dtype=np.float64) if not isinstance(
            mean, torch.Tensor) else mean, dtype=torch.float64)
        cov = torch.as_tensor(np.asarray(cov, dtype=np.float64) if not isinstance(
            cov, torch.Tensor) else cov, dtype=torch.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"mean and cov must be arrays of numbers (e.g. from fit_gaussian): "
                         f"{err}") from err
    d = mean.shape[0] if mean.ndim == 1 else -1
    x = as_points(x, dim=d if d > 0 else None, name="x").detach().cpu().double()
    if mean.ndim != 1 or cov.shape != (d, d):
        raise ValueError(f"mean must be (d,) and cov (d, d), got {tuple(mean.shape)} and "
                         f"{tuple(cov.shape)}")
    chol, info = torch.linalg.cholesky_ex(cov)
    if int(info) != 0:
        raise ValueError("cov is not positive definite; fit with shrinkage (fit_gaussian(x, "
                         "'ledoit-wolf') or a ridge > 0)")
    z = torch.linalg.solve_triangular(chol, (x - mean).T, upper=False)  # L z = (x - μ)
    half_logdet = torch.log(torch.diagonal(chol)).sum()
    return 0.5 * (z ** 2).sum(0) + half_logdet + 0.5 * d * math.log(2 * math.pi)


def gaussian_scorer(x_train, shrinkage: float | str = "ledoit-wolf") -> Callable:
    """Fit ``fit_gaussian`` on normal data; return ``score(x) -> (n,)`` Gaussian NLL."""
    g = fit_gaussian(x_train, shrinkage)
    return lambda x: gaussian_nll(x, g.mean, g.cov)


# --------------------------------------------------------------------------------------------
# Isolation forest
# --------------------------------------------------------------------------------------------


def isolation_forest_scorer(x_train, seed: int = 0, n_estimators: int = 200) -> Callable:
    """Fit scikit-learn's ``IsolationForest`` (Liu, Ting & Zhou 2008) on normal data.

    Anomalies are isolated by fewer random axis-aligned splits; the forest's score is
    s(x) = 2^(-E[h(x)] / c(ψ)) with h the path length and c(ψ) its mean for ψ sub-sampled points.

    Returns:
        ``score(x) -> (n,)`` with higher = more anomalous (scikit-learn's ``-score_samples``).
    """
    from sklearn.ensemble import IsolationForest

    x = as_points(x_train, name="x_train").detach().cpu().numpy()
    forest = IsolationForest(n_estimators=count(n_estimators, "n_estimators"),
                             random_state=count(seed, "seed", minimum=0)).fit(x)

    def score(z) -> np.ndarray:
        z = as_points(z, dim=x.shape[1], name="x").detach().cpu().numpy()
        return -forest.score_samples(z)

    return score


# --------------------------------------------------------------------------------------------
# Autoencoder
# --------------------------------------------------------------------------------------------


class Autoencoder(nn.Module):
    """A small MLP autoencoder x → code → x̂, (batch, d) -> (batch, d).

    Args:
        n_features: d.
        hidden: widths of the encoder's hidden layers (the decoder mirrors them).
        code: width of the bottleneck; well below d, so that only the structure of the
            training data can be reconstructed.
        sigmoid_output: squash x̂ into (0, 1) (for pixels).
        generator: torch generator for the initial weights (``None``: the global one, as
            ``nn.Linear`` does).
    """

    def __init__(self, n_features: int, hidden=(64,), code: int = 8,
                 sigmoid_output: bool = False, generator: torch.Generator | None = None):
        super().__init__()
        generator = as_generator(generator)
        self.n_features = count(n_features, "n_features")
        widths = [self.n_features, *layer_widths(hidden),
                  count(code, "code")]

        def stack(sizes):  # Linear layers with SiLU between them, none after the last
            layers: list[nn.Module] = []
            for i, (a, b) in enumerate(itertools.pairwise(sizes)):
                layers.append(nn.Linear(a, b))
                if i < len(sizes) - 2:
                    layers.append(nn.SiLU())
            return nn.Sequential(*layers)

        with _nets.deferred(generator):
            self.encoder = stack(widths)
            self.decoder = stack(widths[::-1])
        _nets.materialize_(self, generator)
        if sigmoid_output:
            self.decoder.append(nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x̂(x), (batch, d) -> (batch, d) (inputs converted to the weights' dtype)."""
        return self.decoder(self.encoder(as_model_input(x, self.encoder[0].weight,
                                                        self.n_features)))


def reconstruction_error(model: nn.Module, x) -> torch.Tensor:
    """The anomaly score of an autoencoder: ‖x - x̂(x)‖² = Σ_i (x_i - x̂_i)², shape (batch,)."""
    as_callable(model, "model", "an autoencoder mapping (batch, d) to reconstructions")
    x = as_points(x, dim=getattr(model, "n_features", None), name="x")
    with torch.no_grad():
        return ((x - model(x)) ** 2).sum(1)


def train_autoencoder(
    model: nn.Module,
    x,
    epochs: int = 100,
    batch_size: int = 64,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    generator: torch.Generator | None = None,
    progress: bool | None = None,
) -> list[float]:
    """Train an autoencoder on normal data by minimising the mean reconstruction error (Adam).

    Args:
        model: maps (batch, d) to reconstructions (batch, d).
        x: (n, d) normal training data.
        epochs: passes over the data, in a fresh random order each time.
        batch_size, lr, weight_decay: of the Adam updates.
        generator: torch generator for the shuffling.
        progress: tqdm bar; ``None`` follows ``config.progress_disabled()``.

    Returns:
        The mean training reconstruction error ‖x - x̂‖² of each epoch (epochs,).

    Raises:
        RuntimeError: if training diverges: the loss becomes NaN or infinite or runs away, or
            the weights do (lower ``lr``).
    """
    as_module(model, hint="; e.g. anomaly.Autoencoder(n_features)")
    as_generator(generator)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no trainable parameters")
    x = as_points(x, dim=getattr(model, "n_features", None), name="x").to(
        dtype=params[0].dtype, device=params[0].device)
    epochs, batch_size = count(epochs, "epochs"), count(batch_size, "batch_size")
    lr = positive(lr, "lr")
    opt = torch.optim.Adam(params, lr=lr,
                           weight_decay=non_negative(weight_decay, "weight_decay"))
    guard = DivergenceGuard("autoencoder training", f"lower the learning rate (now {lr:g}), "
                            "e.g. 10× (1e-3 is typical for Adam)", params=params)
    show = (not config.progress_disabled()) if progress is None else bool(progress)
    losses = []
    for epoch in tqdm(range(epochs), disable=not show, desc="autoencoder", leave=False):
        perm = torch.randperm(x.shape[0], generator=generator)
        total = 0.0
        for s in range(0, x.shape[0], batch_size):
            batch = x[perm[s: s + batch_size]]
            loss = ((batch - model(batch)) ** 2).sum(1).mean()
            value = guard.check_loss(f"in epoch {epoch + 1}", loss)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += value * batch.shape[0]
        guard.check_params(f"in epoch {epoch + 1}")
        losses.append(total / x.shape[0])
    return losses


# --------------------------------------------------------------------------------------------
# One table for every method
# --------------------------------------------------------------------------------------------


class MethodScores(NamedTuple):
    """One method's test scores and summary: ``normal`` (n₀,), ``anomaly`` (n₁,), ``auroc``,
    and, when calibration data was given, the ``threshold`` at the target FPR and the
    ``recall`` and realised ``fpr`` on the test sets (else NaN)."""

    normal: np.ndarray
    anomaly: np.ndarray
    auroc: float
    threshold: float
    recall: float
    fpr: float


def scores_table(scorers: dict[str, Scorer], x_normal, x_anomaly, x_calibration=None,
                 target_fpr: float = 0.05) -> dict[str, MethodScores]:
    """Score normal and anomalous test data with every method, through one interface.

    Args:
        scorers: name -> ``score(x) -> (n,)`` (tensor or array; higher = more anomalous).
        x_normal: (n₀, d) normal test data; x_anomaly: (n₁, d) anomalies.
        x_calibration: optional (m, d) held-out *normal* data, used only to set each method's
            threshold with ``threshold_at_fpr(score(x_calibration), target_fpr)``.
        target_fpr: the false-positive rate aimed at.

    Returns:
        name -> ``MethodScores`` in the order of ``scorers``. AUROC is threshold-free:
        P(score of a random anomaly > score of a random normal example).
    """
    if not isinstance(scorers, dict):
        raise ArgumentTypeError(f"scorers must be a dict name -> score function, got "
                                f"{type(scorers).__name__}")
    if not scorers:
        raise ValueError("scorers is empty; pass a dict name -> score function")
    for name, score in scorers.items():
        as_callable(score, f"scorers[{name!r}]", "a function x -> (n,) anomaly scores")
    target_fpr = in_range(target_fpr, "target_fpr", 0.0, 1.0)
    out = {}
    for name, score in scorers.items():
        s0 = to_scores(score(x_normal), f"{name}: scores of x_normal")
        s1 = to_scores(score(x_anomaly), f"{name}: scores of x_anomaly")
        labels = np.r_[np.zeros(s0.size), np.ones(s1.size)]
        auc = metrics.auroc(np.r_[s0, s1], labels)
        tau = recall = fpr = math.nan
        if x_calibration is not None:
            tau = threshold_at_fpr(score(x_calibration), target_fpr)
            rates = detection_rates(s0, s1, tau)
            recall, fpr = rates.recall, rates.fpr
        out[name] = MethodScores(s0, s1, auc, tau, recall, fpr)
    return out


def format_table(results: dict[str, MethodScores], target_fpr: float | None = None,
                 digits: int = 3) -> str:
    """A plain-text table of ``scores_table`` results, best AUROC first.

    Args:
        results: output of ``scores_table``.
        target_fpr: the FPR the thresholds were set at (for the column header), if any.
        digits: decimals shown.
    """
    if not isinstance(results, dict) or not all(isinstance(r, MethodScores)
                                                for r in results.values()):
        raise ArgumentTypeError("results must be the dict returned by scores_table")
    digits = count(digits, "digits", minimum=0)
    width = max(len("method"), *(len(n) for n in results))
    calibrated = target_fpr is not None
    head = f"{'method':<{width}}  {'ROC AUC':>8}"
    if calibrated:
        head += f"  {f'recall @ {target_fpr:.0%} FPR':>17}  {'test FPR':>8}"
    lines = [head, "-" * len(head)]
    for name, r in sorted(results.items(), key=lambda kv: -kv[1].auroc):
        line = f"{name:<{width}}  {r.auroc:>8.{digits}f}"
        if calibrated:
            line += f"  {r.recall:>17.{digits}f}  {r.fpr:>8.{digits}f}"
        lines.append(line)
    return "\n".join(lines)
