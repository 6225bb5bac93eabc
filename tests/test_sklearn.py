"""Tests for ``ebm_helpers.sklearn.BernoulliRBM``, the drop-in for scikit-learn's BernoulliRBM.

Oracles: scikit-learn itself (its estimator checks, one test per check; its initialisation,
``transform``, ``gibbs`` and free energy with identical parameters), the closed form
σ(X Wᵀ + c), and the exact log-likelihood of ``ebm_helpers.rbm.RBM`` (enumerating 16 hidden
units) to compare what the two implementations learn, averaged over 3 seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from scipy.special import expit
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import BernoulliRBM as SkRBM
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from ebm_helpers.data import load_digits
from ebm_helpers.sklearn import BernoulliRBM


@pytest.fixture(scope="module")
def digits():
    return load_digits()


@pytest.fixture(scope="module")
def bin_digits():
    d = load_digits(binarize=True)
    return d.x_train.numpy().astype(np.float64), d.x_test.numpy().astype(np.float64)


@pytest.mark.filterwarnings("ignore:BernoulliRBM models binary data")  # the checks' data
@pytest.mark.filterwarnings("ignore:BernoulliRBM training is diverging")  # ... is not in [0, 1]
@parametrize_with_checks([BernoulliRBM(n_components=8, n_iter=2, random_state=0, device="cpu")])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_defaults_match_sklearn():
    ours, theirs = BernoulliRBM().get_params(), SkRBM().get_params()
    assert {k: ours[k] for k in theirs} == theirs
    assert ours["k"] == 1 and ours["persistent"] is True
    assert ours["momentum"] == 0.0 and ours["weight_decay"] == 0.0


def test_pipeline_with_logistic_regression(digits):
    pipe = Pipeline([
        ("rbm", BernoulliRBM(n_components=64, learning_rate=0.06, n_iter=5, random_state=0,
                             device="cpu")),
        ("clf", LogisticRegression(max_iter=1000)),
    ])
    # one BLAS thread: OpenBLAS threads waiting beside torch's OpenMP pool on a loaded 2-core
    # machine made the logistic regression ~10× slower
    with threadpool_limits(limits=1, user_api="blas"):
        pipe.fit(digits.x_train.numpy(), digits.y_train.numpy())
        acc = pipe.score(digits.x_test.numpy(), digits.y_test.numpy())
    assert acc > 0.7, acc  # chance is 0.1; measured 0.80


def test_fitted_attributes(bin_digits):
    x, _ = bin_digits
    m = BernoulliRBM(n_components=12, batch_size=7, n_iter=1, random_state=0).fit(x)
    assert m.components_.shape == (12, 64)
    assert m.intercept_hidden_.shape == (12,)
    assert m.intercept_visible_.shape == (64,)
    assert m.h_samples_.shape == (7, 12)
    assert set(np.unique(m.h_samples_)) <= {0.0, 1.0}
    assert m.n_features_in_ == 64
    assert not hasattr(m, "feature_names_in_")
    assert list(m.get_feature_names_out()) == [f"bernoullirbm{i}" for i in range(12)]
    df = pd.DataFrame(x, columns=[f"p{i}" for i in range(64)])
    md = BernoulliRBM(n_components=3, n_iter=1, random_state=0).fit(df)
    assert list(md.feature_names_in_) == list(df.columns)


def test_transform_is_sigmoid_and_dtypes(bin_digits):
    x, xt = bin_digits
    m = BernoulliRBM(n_components=10, n_iter=1, random_state=0).fit(x)
    expected = expit(xt @ m.components_.T + m.intercept_hidden_)
    np.testing.assert_allclose(m.transform(xt), expected, rtol=1e-12)
    np.testing.assert_allclose(m.transform(sp.csr_matrix(xt)), expected, rtol=1e-12)
    m32 = BernoulliRBM(n_components=10, n_iter=1, random_state=0).fit(x.astype(np.float32))
    assert m32.components_.dtype == np.float32
    assert m32.transform(xt.astype(np.float32)).dtype == np.float32


def test_initialisation_identical_to_sklearn(bin_digits):
    x, _ = bin_digits
    ours = BernoulliRBM(n_components=16, n_iter=0, random_state=3).fit(x)
    theirs = SkRBM(n_components=16, n_iter=0, random_state=3).fit(x)
    np.testing.assert_array_equal(ours.components_, theirs.components_)
    np.testing.assert_array_equal(ours.h_samples_, theirs.h_samples_)
    np.testing.assert_array_equal(ours.intercept_visible_, theirs.intercept_visible_)


def test_gibbs_identical_to_sklearn_for_equal_parameters(bin_digits):
    x, _ = bin_digits
    ours = BernoulliRBM(n_components=16, n_iter=1, random_state=5).fit(x)
    theirs = SkRBM(n_components=16, n_iter=0, random_state=5).fit(x)
    theirs.components_ = ours.components_.copy()
    theirs.intercept_hidden_ = ours.intercept_hidden_.copy()
    theirs.intercept_visible_ = ours.intercept_visible_.copy()
    a, b = ours.gibbs(x[:50]), theirs.gibbs(x[:50])
    assert a.dtype == bool and np.array_equal(a, b)


def test_determinism_with_random_state(bin_digits):
    x, _ = bin_digits
    a = BernoulliRBM(n_components=8, n_iter=2, random_state=1).fit(x)
    b = BernoulliRBM(n_components=8, n_iter=2, random_state=1).fit(x)
    c = BernoulliRBM(n_components=8, n_iter=2, random_state=2).fit(x)
    np.testing.assert_array_equal(a.components_, b.components_)
    np.testing.assert_array_equal(a.h_samples_, b.h_samples_)
    assert not np.array_equal(a.components_, c.components_)


def test_partial_fit_incremental(bin_digits):
    x, _ = bin_digits
    m = BernoulliRBM(n_components=8, random_state=0)
    m.partial_fit(x[:10])
    sk = SkRBM(n_components=8, random_state=0)
    sk.partial_fit(x[:10])
    assert m.components_.dtype == np.float64 and m.h_samples_.shape == (10, 8)
    w1 = m.components_.copy()
    for s in range(10, 400, 10):
        m.partial_fit(x[s : s + 10])
    assert not np.allclose(w1, m.components_)
    # the same sequence again gives the same model (random_state_ drives the stream)
    m2 = BernoulliRBM(n_components=8, random_state=0)
    for s in range(0, 400, 10):
        m2.partial_fit(x[s : s + 10])
    np.testing.assert_array_equal(m.components_, m2.components_)
    # partial_fit over one pass ≈ one epoch of fit: the learned statistics agree
    f = BernoulliRBM(n_components=8, n_iter=1, random_state=0).fit(x[:400])
    assert abs(f.intercept_visible_.mean() - m.intercept_visible_.mean()) < 0.3
    with pytest.raises(ValueError, match="features"):
        m.partial_fit(x[:10, :5])


def test_bad_input(bin_digits):
    x, _ = bin_digits
    with pytest.raises(NotFittedError):
        BernoulliRBM().transform(x)
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        BernoulliRBM(n_components=4, n_iter=1).fit(bad)
    m = BernoulliRBM(n_components=4, n_iter=1, random_state=0).fit(x)
    with pytest.raises(ValueError, match="features"):
        m.transform(x[:, :10])
    with pytest.raises(ValueError, match="NaN"):
        m.score_samples(bad)
    with pytest.raises(ValueError, match="learning_rate"):
        BernoulliRBM(learning_rate=-1).fit(x)
    with pytest.raises(ValueError, match="k"):
        BernoulliRBM(k=0).fit(x)
    # like scikit-learn, values outside [0, 1] are not rejected (the model assumes [0, 1]),
    # but the drop-in warns
    with pytest.warns(UserWarning, match=r"values in \[-0.5, 0.5\].*MinMaxScaler"):
        BernoulliRBM(n_components=4, n_iter=1, random_state=0).fit(x - 0.5)
    m.components_[0, 0] = np.nan  # ruined weights: the divergence guard says so
    with pytest.raises(RuntimeError, match="diverged"):
        m.partial_fit(x[:10])


def test_score_samples(bin_digits):
    x, xt = bin_digits
    m = BernoulliRBM(n_components=10, n_iter=2, random_state=0).fit(x)
    s = m.score_samples(xt)
    assert s.shape == (xt.shape[0],) and np.all(s <= 0)
    np.testing.assert_array_equal(s, m.score_samples(xt))  # fixed for an integer seed
    np.testing.assert_allclose(m.score_samples(xt[::-1]), s[::-1])  # a function of each row
    np.testing.assert_allclose(m.score_samples(sp.csr_matrix(xt)), s)
    # the estimator: n_v · log σ(F(ṽ) - F(v)) with one bit flipped; averaged over rows it is
    # close to the exact pseudo-log-likelihood
    exact = m.to_rbm().pseudo_log_likelihood(torch.from_numpy(xt), exact=True).numpy()
    assert abs(s.mean() - exact.mean()) < 4 * s.std() / np.sqrt(len(s))


def test_log_likelihood_matches_rbm(bin_digits):
    x, xt = bin_digits
    m = BernoulliRBM(n_components=10, n_iter=1, random_state=0).fit(x)
    rbm = m.to_rbm()
    expected = rbm.log_likelihood(torch.from_numpy(xt)).numpy()
    np.testing.assert_allclose(m.log_likelihood(xt), expected)
    lz = float(rbm.log_partition())
    np.testing.assert_allclose(m.log_likelihood(xt, log_z=lz), expected)


def test_cd_mode_and_momentum(bin_digits):
    x, xt = bin_digits
    m = BernoulliRBM(n_components=16, n_iter=3, persistent=False, k=2, momentum=0.5,
                     weight_decay=1e-4, random_state=0).fit(x)
    base = BernoulliRBM(n_components=16, n_iter=0, random_state=0).fit(x)
    assert m.log_likelihood(xt).mean() > base.log_likelihood(xt).mean() + 5


def test_exact_log_likelihood_vs_sklearn(bin_digits):
    """sklearn's defaults with 16 hidden units on binarised digits: the exact test
    log-likelihood of ours is within 1 nat of scikit-learn's or better (mean of 3 seeds)."""
    x, xt = bin_digits
    ours, theirs = [], []
    for seed in range(3):
        o = BernoulliRBM(n_components=16, random_state=seed).fit(x)
        t = SkRBM(n_components=16, random_state=seed).fit(x)
        ours.append(o.log_likelihood(xt).mean())
        o.components_, o.intercept_hidden_ = t.components_, t.intercept_hidden_
        o.intercept_visible_ = t.intercept_visible_
        theirs.append(o.log_likelihood(xt).mean())
    assert np.mean(ours) > np.mean(theirs) - 1.0, (ours, theirs)
