"""Tests for ``ebm_helpers.anomaly``: thresholds against known data, the Gaussian score against
scipy, the autoencoder, the table, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal

from ebm_helpers import anomaly, metrics

# ---- thresholds ------------------------------------------------------------------------------

@pytest.mark.parametrize("fpr", [0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.99])
def test_threshold_at_fpr_gives_the_stated_rate_on_distinct_scores(fpr):
    normal = np.random.default_rng(0).permutation(np.arange(1000.0))  # 1000 distinct scores
    tau = anomaly.threshold_at_fpr(normal, fpr)
    assert np.mean(normal > tau) == pytest.approx(math.floor(fpr * 1000 + 1e-9) / 1000)


def test_threshold_at_fpr_known_values():
    s = torch.arange(1.0, 101.0)  # scores 1..100
    assert anomaly.threshold_at_fpr(s, 0.05) == 95.0  # flags 96..100, 5 %
    assert anomaly.threshold_at_fpr(s, 0.0) == 100.0  # flags nothing
    assert anomaly.threshold_at_fpr(s, 1.0) == -math.inf  # flags everything
    # ties: never more than the target rate
    tied = np.r_[np.zeros(90), np.ones(10)]
    assert np.mean(tied > anomaly.threshold_at_fpr(tied, 0.05)) <= 0.05


def test_threshold_from_held_out_normals_controls_the_fpr_of_new_normals():
    rng = np.random.default_rng(1)
    calib, test = rng.normal(size=20_000), rng.normal(size=20_000)
    tau = anomaly.threshold_at_fpr(calib, 0.05)
    assert tau == pytest.approx(1.6449, abs=0.05)  # the N(0, 1) 95 % quantile
    # binomial standard error of the test FPR: sqrt(0.05 · 0.95 / 20 000) ≈ 0.0015
    assert np.mean(test > tau) == pytest.approx(0.05, abs=5 * 0.0016)


def test_detection_rates_counts():
    normal = np.array([0.0, 1.0, 2.0, 3.0])
    anomal = np.array([1.5, 2.5, 3.5])
    r = anomaly.detection_rates(normal, anomal, 2.0)  # flags > 2: normal 3; anomalies 2.5, 3.5
    assert (r.tp, r.fp, r.fn, r.tn) == (2, 1, 1, 3)
    assert r.precision == pytest.approx(2 / 3)
    assert r.recall == pytest.approx(2 / 3)
    assert r.fpr == pytest.approx(1 / 4)
    assert r.f1 == pytest.approx(2 / 3)
    none = anomaly.detection_rates(normal, anomal, math.inf)
    assert none.tp == none.fp == 0 and math.isnan(none.precision) and math.isnan(none.f1)
    everything = anomaly.detection_rates(normal, anomal, -math.inf)
    assert everything.recall == 1.0 and everything.fpr == 1.0
    assert everything.precision == pytest.approx(3 / 7)


def test_detection_rates_agree_with_roc_curve():
    rng = np.random.default_rng(2)
    s0, s1 = rng.normal(size=300), rng.normal(1.0, 1.0, size=200)
    fpr, tpr, thr = metrics.roc_curve(np.r_[s0, s1], np.r_[np.zeros(300), np.ones(200)])
    # roc_curve flags score >= thr; with continuous scores, > (thr - tiny) is the same rule
    for i in [5, 50, 200, 400]:
        r = anomaly.detection_rates(s0, s1, np.nextafter(thr[i], -np.inf))
        assert (r.fpr, r.recall) == pytest.approx((fpr[i], tpr[i]))


# ---- Gaussian density ------------------------------------------------------------------------

def test_gaussian_nll_equals_scipy_logpdf():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(5, 5))
    cov = a @ a.T + 0.5 * np.eye(5)
    mean = rng.normal(size=5)
    x = rng.normal(size=(50, 5)) * 2
    ours = anomaly.gaussian_nll(torch.tensor(x), torch.tensor(mean), torch.tensor(cov))
    assert ours.shape == (50,)
    np.testing.assert_allclose(ours.numpy(), -multivariate_normal(mean, cov).logpdf(x),
                               rtol=1e-10, atol=1e-10)


def test_fit_gaussian_ridge_and_ledoit_wolf():
    rng = np.random.default_rng(4)
    x = torch.tensor(rng.normal(size=(400, 3)) @ np.diag([1.0, 2.0, 0.5]) + 1.0)
    g = anomaly.fit_gaussian(x, shrinkage=0.1)
    xc = x - x.mean(0)
    torch.testing.assert_close(g.cov, xc.T @ xc / 400 + 0.1 * torch.eye(3, dtype=torch.float64))
    from sklearn.covariance import ledoit_wolf

    lw = anomaly.fit_gaussian(x)
    cov, lam = ledoit_wolf(x.numpy())
    np.testing.assert_allclose(lw.cov.numpy(), cov)
    assert lw.shrinkage == pytest.approx(lam) and 0 <= lam <= 1
    score = anomaly.gaussian_scorer(x)
    np.testing.assert_allclose(score(x[:7]).numpy(),
                               -multivariate_normal(x.mean(0).numpy(), cov).logpdf(x[:7].numpy()))


def test_gaussian_needs_shrinkage_for_constant_features():
    x = torch.randn(100, 3, generator=torch.Generator().manual_seed(0)).double()
    x[:, 2] = 0.0  # a constant pixel: singular sample covariance
    g = anomaly.fit_gaussian(x, shrinkage=0.0)
    with pytest.raises(ValueError, match="positive definite"):
        anomaly.gaussian_nll(x, g.mean, g.cov)
    lw = anomaly.fit_gaussian(x)
    assert torch.isfinite(anomaly.gaussian_nll(x, lw.mean, lw.cov)).all()


# ---- isolation forest and autoencoder ----------------------------------------------------------

def _blob_and_outliers(seed=0):
    g = torch.Generator().manual_seed(seed)
    normal = torch.randn(500, 4, generator=g) * 0.5
    outliers = torch.randn(100, 4, generator=g) * 0.5 + 3.0
    return normal[:400], normal[400:], outliers


def test_isolation_forest_is_seeded_and_separates_far_outliers():
    train, test, out = _blob_and_outliers()
    s1 = anomaly.isolation_forest_scorer(train, seed=0)
    s2 = anomaly.isolation_forest_scorer(train, seed=0)
    np.testing.assert_array_equal(s1(out), s2(out))
    scores = np.r_[s1(test), s1(out)]
    assert metrics.auroc(scores, np.r_[np.zeros(100), np.ones(100)]) > 0.99


def test_autoencoder_training_decreases_reconstruction_error():
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    # data on a 2-D linear subspace of R^8: a code of 2 can reconstruct it
    basis = torch.randn(2, 8, generator=g)
    x = torch.randn(512, 2, generator=g) @ basis
    model = anomaly.Autoencoder(8, hidden=(32,), code=2)
    before = anomaly.reconstruction_error(model, x).mean()
    losses = anomaly.train_autoencoder(model, x, epochs=60, batch_size=64, lr=3e-3,
                                       generator=g, progress=False)
    after = anomaly.reconstruction_error(model, x)
    assert len(losses) == 60 and after.shape == (512,)
    assert float(after.mean()) < 0.1 * float(before)
    assert losses[-1] < 0.2 * losses[0]
    # points off the subspace reconstruct worse than points on it
    off = x[:100] + 2.0 * torch.randn(100, 8, generator=g)
    auc = metrics.auroc(np.r_[after[:100].numpy(), anomaly.reconstruction_error(model, off)],
                        np.r_[np.zeros(100), np.ones(100)])
    assert auc > 0.95


def test_autoencoder_sigmoid_output_in_unit_interval():
    model = anomaly.Autoencoder(6, hidden=(8, 4), code=2, sigmoid_output=True)
    out = model(torch.randn(10, 6) * 10)
    assert out.shape == (10, 6) and (out > 0).all() and (out < 1).all()


def test_autoencoder_divergence_raises():
    x = torch.randn(64, 4, generator=torch.Generator().manual_seed(0))
    model = anomaly.Autoencoder(4, code=2)
    with pytest.raises(RuntimeError, match="learning rate"):
        anomaly.train_autoencoder(model, x * 1e30, epochs=3, lr=1.0, progress=False)


# ---- the table ---------------------------------------------------------------------------------

def test_scores_table_and_format():
    train, test, out = _blob_and_outliers()
    calib = torch.randn(2000, 4, generator=torch.Generator().manual_seed(9)) * 0.5
    scorers = {
        "gaussian": anomaly.gaussian_scorer(train),
        "norm": lambda x: x.norm(dim=1),
        "constant-ish": lambda x: x[:, 0],
    }
    table = anomaly.scores_table(scorers, test, out, x_calibration=calib, target_fpr=0.1)
    assert list(table) == list(scorers)
    g = table["gaussian"]
    assert g.normal.shape == (100,) and g.anomaly.shape == (100,)
    assert g.auroc > 0.99 and table["constant-ish"].auroc > 0.9
    # the threshold was set on the calibration normals: about 10 % of new normals exceed it
    # (binomial s.e. with 100 test normals is 0.03)
    assert abs(g.fpr - 0.1) < 0.1 and g.recall > 0.9
    text = anomaly.format_table(table, target_fpr=0.1)
    lines = text.splitlines()
    assert "ROC AUC" in lines[0] and "recall @ 10% FPR" in lines[0]
    assert len(lines) == 2 + len(scorers)
    plain = anomaly.scores_table({"norm": scorers["norm"]}, test, out)
    assert math.isnan(plain["norm"].recall)
    assert "recall" not in anomaly.format_table(plain)


# ---- bad input ---------------------------------------------------------------------------------

def test_bad_input_errors():
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        anomaly.threshold_at_fpr([1.0, 2.0], 1.5)
    with pytest.raises(ValueError, match="NaN"):
        anomaly.threshold_at_fpr([1.0, float("nan")], 0.1)
    with pytest.raises(ValueError, match="1-D"):
        anomaly.threshold_at_fpr(np.ones((3, 2)), 0.1)  # energies must be (batch,)
    with pytest.raises(ValueError, match="1-D"):
        anomaly.detection_rates([], [1.0], 0.0)
    with pytest.raises(ValueError, match="NaN"):
        anomaly.detection_rates([1.0], [2.0], float("nan"))
    with pytest.raises(ValueError, match="shrinkage"):
        anomaly.fit_gaussian(torch.randn(10, 2), shrinkage="oas")
    with pytest.raises(ValueError, match="≥ 0"):
        anomaly.fit_gaussian(torch.randn(10, 2), shrinkage=-1.0)
    with pytest.raises(ValueError, match="shape"):
        anomaly.gaussian_nll(torch.randn(4, 3), torch.zeros(2), torch.eye(2))
    with pytest.raises(ValueError, match="feature"):
        anomaly.Autoencoder(4)(torch.randn(3, 5))
    with pytest.raises(ValueError, match="floating"):
        anomaly.reconstruction_error(anomaly.Autoencoder(2), torch.ones(3, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="empty"):
        anomaly.scores_table({}, torch.randn(3, 2), torch.randn(3, 2))
    with pytest.raises(ValueError, match="one score per example"):
        anomaly.scores_table({"bad": lambda x: x}, torch.randn(3, 2), torch.randn(3, 2))
    with pytest.raises(ValueError, match="non-finite"):
        anomaly.isolation_forest_scorer(torch.tensor([[0.0, float("inf")], [1.0, 1.0]]))
