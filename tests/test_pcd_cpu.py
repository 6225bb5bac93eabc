"""Tests for ``ebm_helpers.pcd_cpu``, the float32 CPU training loop of the scikit-learn drop-in.

Oracle: scikit-learn's own ``BernoulliRBM._fit`` (one PCD-1 update) fed the same uniform
numbers through a stand-in for its ``RandomState``, so both compute the same algorithm on the
same draws; float32 against float64 agree to float32 rounding. A minibatch shorter than the
chains is checked against the documented formula (positive and negative phases averaged
separately), which is where the drop-in deliberately differs from scikit-learn.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.special import expit
from sklearn.neural_network import BernoulliRBM as SkRBM

from ebm_helpers.pcd_cpu import CpuPCD


class _Uniforms:
    """Stands in for scikit-learn's RandomState: hands out prepared uniform arrays in order."""

    def __init__(self, arrays):
        self.arrays = list(arrays)

    def uniform(self, size):
        a = self.arrays.pop(0)
        assert a.shape == tuple(size)
        return a.astype(np.float64)


def _model(n_v=9, n_h=7, m=5, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.normal(0, 0.5, (n_h, n_v))
    b, c = rng.normal(0, 0.5, n_v), rng.normal(0, 0.5, n_h)
    h = (rng.random((m, n_h)) < 0.5).astype(np.float64)
    x = rng.random((15, n_v))  # probabilities in [0, 1], as scikit-learn accepts
    return W, b, c, h, x


def test_epoch_matches_sklearn_fit_on_the_same_uniforms():
    W, b, c, h, x = _model()
    m, (n_h, n_v) = h.shape[0], W.shape
    seed, lr = 3, 0.1
    pcd = CpuPCD(W, b, c, h, lr, torch.Generator().manual_seed(seed))
    pcd.epoch(x, batch_size=m)
    # the same uniforms, drawn as CpuPCD draws them: one (batches, m, n_v + n_h) block
    u = torch.rand((3, m, n_v + n_h), generator=torch.Generator().manual_seed(seed)).numpy()
    sk = SkRBM(n_components=n_h, learning_rate=lr, batch_size=m)
    sk.components_, sk.intercept_visible_, sk.intercept_hidden_ = W.copy(), b.copy(), c.copy()
    sk.h_samples_ = h.copy()
    for i in range(3):
        sk._fit(x[i * m : (i + 1) * m], _Uniforms([u[i, :, :n_v], u[i, :, n_v:]]))
    np.testing.assert_allclose(pcd.W, sk.components_, rtol=0, atol=2e-6)
    np.testing.assert_allclose(pcd.b, sk.intercept_visible_, rtol=0, atol=2e-6)
    np.testing.assert_allclose(pcd.c, sk.intercept_hidden_, rtol=0, atol=2e-6)
    np.testing.assert_array_equal(pcd.h_chain, sk.h_samples_)
    assert not np.allclose(pcd.W, W)  # it did learn something


def test_short_minibatch_averages_each_phase_separately():
    W, b, c, h, x = _model(seed=1)
    x = x[:3]  # 3 data rows, 5 chains
    lr = 0.2
    pcd = CpuPCD(W, b, c, h, lr, torch.Generator())
    rng = np.random.default_rng(5)
    u_v = rng.random((5, W.shape[1]), dtype=np.float32)
    u_h = rng.random((5, W.shape[0]), dtype=np.float32)
    pcd._step(x.astype(np.float32), u_v, u_h)
    ph_pos = expit(x @ W.T + c)
    v_neg = (u_v < expit(h @ W + b)).astype(np.float64)
    ph_neg = expit(v_neg @ W.T + c)
    W_ref = W + lr * (ph_pos.T @ x / 3 - ph_neg.T @ v_neg / 5)
    b_ref = b + lr * (x.mean(0) - v_neg.mean(0))
    c_ref = c + lr * (ph_pos.mean(0) - ph_neg.mean(0))
    np.testing.assert_allclose(pcd.W, W_ref, rtol=0, atol=2e-6)
    np.testing.assert_allclose(pcd.b, b_ref, rtol=0, atol=2e-6)
    np.testing.assert_allclose(pcd.c, c_ref, rtol=0, atol=2e-6)
    np.testing.assert_array_equal(pcd.h_chain, (u_h < ph_neg).astype(np.float32))


def test_same_generator_seed_same_run_and_sparse_equals_dense():
    import scipy.sparse as sp

    W, b, c, h, x = _model(seed=2)
    x = (x > 0.6).astype(np.float64)
    runs = []
    for data in (x, x, sp.csr_matrix(x)):
        pcd = CpuPCD(W, b, c, h, 0.1, torch.Generator().manual_seed(11))
        pcd.epoch(data, batch_size=4)  # 15 rows: the last minibatch has 3
        runs.append(pcd.theta.copy())
    np.testing.assert_array_equal(runs[0], runs[1])
    np.testing.assert_array_equal(runs[0], runs[2])


def test_float64_arithmetic_matches_sklearn_to_float64_rounding():
    """``dtype=np.float64`` (the benchmark's measure of what float32 costs) runs the same
    algorithm on the same uniforms, at float64 precision."""
    W, b, c, h, x = _model(seed=2)
    m, (n_h, n_v) = h.shape[0], W.shape
    pcd = CpuPCD(W, b, c, h, 0.1, torch.Generator().manual_seed(7), dtype=np.float64)
    pcd.epoch(x, batch_size=m)
    assert pcd.W.dtype == np.float64
    u = torch.rand((3, m, n_v + n_h), generator=torch.Generator().manual_seed(7)).numpy()
    sk = SkRBM(n_components=n_h, learning_rate=0.1, batch_size=m)
    sk.components_, sk.intercept_visible_, sk.intercept_hidden_ = W.copy(), b.copy(), c.copy()
    sk.h_samples_ = h.copy()
    for i in range(3):
        sk._fit(x[i * m : (i + 1) * m], _Uniforms([u[i, :, :n_v], u[i, :, n_v:]]))
    np.testing.assert_allclose(pcd.W, sk.components_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(pcd.b, sk.intercept_visible_, rtol=0, atol=1e-12)


def test_bad_dtype():
    W, b, c, h, _ = _model()
    with pytest.raises(TypeError, match=r"float32 or np\.float64"):
        CpuPCD(W, b, c, h, 0.1, torch.Generator(), dtype=np.float16)


def test_sigmoids_run_on_one_torch_thread_beside_threaded_products(monkeypatch):
    """Above ``_THREADED_FLOPS`` the products may use every BLAS thread, but torch's sigmoids
    must run on one thread (two pools on two cores made an epoch 5× slower than with one), and
    the caller's thread setting is restored afterwards."""
    from ebm_helpers import pcd_cpu

    n_v, n_h, m = 785, 257, 100  # MNIST, 256 hidden units + bias column: a threaded product
    assert 2 * (m + m) * (n_v + 1) * (n_h + 1) >= pcd_cpu._THREADED_FLOPS
    rng = np.random.default_rng(0)
    W, b, c = rng.normal(0, 0.01, (n_h, n_v)), np.zeros(n_v), np.zeros(n_h)
    h = (rng.random((m, n_h)) < 0.5).astype(np.float64)
    x = (rng.random((2 * m, n_v)) < 0.3).astype(np.float64)
    seen = []
    sigmoid_ = torch.Tensor.sigmoid_

    def recording(t):
        seen.append(torch.get_num_threads())
        return sigmoid_(t)

    monkeypatch.setattr(torch.Tensor, "sigmoid_", recording)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        CpuPCD(W, b, c, h, 0.01, torch.Generator().manual_seed(0)).epoch(x, batch_size=m)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert seen and set(seen) == {1}
