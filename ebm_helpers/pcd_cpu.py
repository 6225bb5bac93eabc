"""scikit-learn's PCD-1 on the CPU in float32, three BLAS calls per minibatch.

The training loop of ``ebm_helpers.sklearn.BernoulliRBM.fit`` on the CPU with its defaults
(persistent chains, k = 1, no momentum, no weight decay). It is the same algorithm as
``sklearn.neural_network.BernoulliRBM._fit`` (and as ``sklearn._pcd_step``): with h⁺ = p(h|v),
v⁻ ~ p(v | h_chain), h⁻ = p(h|v⁻), the new chains h ~ p(h|v⁻) drawn before the update, and

    W += lr (⟨h⁺ vᵀ⟩ - ⟨h⁻ v⁻ᵀ⟩),  b += lr (⟨v⟩ - ⟨v⁻⟩),  c += lr (⟨h⁺⟩ - ⟨h⁻⟩),

but arranged for a CPU at the limit of its matrix products:

* float32 NumPy arrays and preallocated buffers: torch's per-call overhead (several µs per
  operation) dominated minibatches of 10 rows × 16 hidden units, while NumPy's is ~1 µs
  (only the sigmoids of larger arrays go to torch, in place on views of the same memory);
* the biases live in the parameter matrix Θ = [[W, c], [b, ·]] of shape (n_h + 1, n_v + 1), and
  the visible and hidden states carry a column of ones, so each product includes its bias;
* p(h|v) of the data and of the chains share one product (both use the parameters before the
  update), and the update of W, b and c is one product [h⁺; -h⁻]ᵀ [v; v⁻] accumulated into Θ:
  three products instead of scikit-learn's five, plus a few element-wise passes;
* the uniform numbers of a stretch of minibatches are drawn at once from the explicit
  ``torch.Generator`` (float32), so runs are reproducible for a seed;
* products smaller than ``_THREADED_FLOPS`` run on one BLAS thread: OpenBLAS splits even a
  (20 × 785) · (785 × 257) product across threads, and the hand-over costs more than it saves
  (measured on a loaded 2-core machine: up to 20× slower epochs with two threads);
* torch's element-wise ops (the sigmoids) always run on one thread: beside threaded BLAS calls,
  torch's own thread pool and OpenBLAS's waiting threads competed for the two cores (MNIST-5k,
  256 hidden, batch 100, two threads: 0.70 s an epoch against scikit-learn's 0.29 s; one torch
  thread: 0.11 s).

Used by ``ebm_helpers.sklearn``; ``benchmarks/bench_rbm_sklearn.py`` measures it.
"""

from __future__ import annotations

import contextlib

import numpy as np
import scipy.sparse as sp
import torch
from scipy.special import expit
from threadpoolctl import ThreadpoolController

__all__ = ["CpuPCD"]

_RANDOM_CHUNK = 2**22  # uniforms drawn per torch.rand call (16 MiB of float32)
_DENSE_CHUNK = 2**22  # elements of a densified chunk of sparse rows
_TORCH_SIGMOID = 2048  # arrays from this many elements take torch.sigmoid_, smaller ones expit
_THREADED_FLOPS = 2**25  # smaller products (FLOPs of the largest one) run on one BLAS thread
_controller: ThreadpoolController | None = None


@contextlib.contextmanager
def _one_torch_thread():
    """torch's element-wise ops on one thread (the setting is restored afterwards)."""
    before = torch.get_num_threads()
    if before != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


def _one_blas_thread():
    """A context with NumPy's BLAS on one thread (the controller is built once: ~1 ms)."""
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


class _Buffers:
    """The work arrays of minibatches of ``n`` data rows and ``m`` chains."""

    def __init__(self, n, m, n_v, n_h, lr, dtype=np.float32):
        self.n, self.m = n, m
        self.V = np.ones((n + m, n_v + 1), dtype=dtype)  # [v; v⁻] with a ones column
        self.P = np.empty((n + m, n_h + 1), dtype=dtype)  # [h⁺; h⁻] scaled, last column
        self.P[:n, n_h] = lr / n  # ... the bias terms of the update: lr/n and -lr/m
        self.P[n:, n_h] = -lr / m
        self.pv = np.empty((m, n_v), dtype=dtype)
        # torch views of the same memory, for the sigmoids of larger arrays (vectorised: ~4×
        # faster per element than scipy's expit, but ~3 µs per call against expit's ~1 µs)
        self.pv_t = torch.from_numpy(self.pv) if self.pv.size >= _TORCH_SIGMOID else None
        self.ph_t = (torch.from_numpy(self.P)[:, :n_h] if (n + m) * n_h >= _TORCH_SIGMOID
                     else None)
        self.G = np.empty((n_h + 1, n_v + 1), dtype=dtype)
        self.scale_pos, self.scale_neg = dtype(lr / n), dtype(-lr / m)


class CpuPCD:
    """PCD-1 state on the CPU: the parameter matrix Θ and the persistent hidden chains.

    Args:
        W: (n_h, n_v) weights (scikit-learn's ``components_``), any float dtype.
        b: (n_v,) visible biases; c: (n_h,) hidden biases.
        h_chain: (m, n_h) hidden states of the m persistent chains.
        lr: learning rate (on minibatch means).
        generator: the CPU ``torch.Generator`` of the Gibbs sampling.
        dtype: the arithmetic, ``np.float32`` (the point of this class) or ``np.float64``, to
            measure what float32 costs: the uniforms are float32 draws either way, so both
            precisions see the same random numbers for the same generator.
    """

    def __init__(self, W, b, c, h_chain, lr, generator: torch.Generator, dtype=np.float32):
        n_h, n_v = W.shape
        self.n_h, self.n_v, self.lr, self.generator = n_h, n_v, float(lr), generator
        self.dtype = np.dtype(dtype).type
        if self.dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype must be np.float32 or np.float64, got {dtype!r}")
        self.theta = np.zeros((n_h + 1, n_v + 1), dtype=self.dtype)
        self.theta[:n_h, :n_v] = W
        self.theta[:n_h, n_v] = c
        self.theta[n_h, :n_v] = b
        self.m = h_chain.shape[0]
        self.H = np.ones((self.m, n_h + 1), dtype=self.dtype)  # chains with a ones column
        self.H[:, :n_h] = h_chain
        self._buffers: dict[int, _Buffers] = {}

    # ---- results ----
    @property
    def W(self):
        return self.theta[: self.n_h, : self.n_v]

    @property
    def b(self):
        return self.theta[self.n_h, : self.n_v]

    @property
    def c(self):
        return self.theta[: self.n_h, self.n_v]

    @property
    def h_chain(self):
        return self.H[:, : self.n_h]

    def finite(self) -> bool:
        return bool(np.isfinite(self.theta[: self.n_h]).all() and np.isfinite(self.b).all())

    # ---- training ----
    def _bufs(self, n) -> _Buffers:
        buf = self._buffers.get(n)
        if buf is None:
            buf = self._buffers[n] = _Buffers(n, self.m, self.n_v, self.n_h, self.lr, self.dtype)
        return buf

    def epoch(self, X, batch_size: int) -> None:
        """One pass over the rows of X (dense array or CSR) in minibatches, in order."""
        n = X.shape[0]
        flops = 2 * (min(batch_size, n) + self.m) * (self.n_v + 1) * (self.n_h + 1)
        with _one_blas_thread() if flops < _THREADED_FLOPS else contextlib.nullcontext(), \
                _one_torch_thread():
            if sp.issparse(X):
                rows = max(1, _DENSE_CHUNK // max(X.shape[1], 1) // batch_size) * batch_size
                for s in range(0, n, rows):
                    self._dense_epoch(X[s : s + rows].toarray(), batch_size)
            else:
                self._dense_epoch(X, batch_size)

    def _dense_epoch(self, X, batch_size):
        n, m, n_v, n_h = X.shape[0], self.m, self.n_v, self.n_h
        per_batch = m * (n_v + n_h)
        n_batches = -(-n // batch_size)
        stretch = max(1, _RANDOM_CHUNK // per_batch)  # minibatches per torch.rand call
        for first in range(0, n_batches, stretch):
            count = min(stretch, n_batches - first)
            u = torch.rand((count, m, n_v + n_h), generator=self.generator).numpy()
            for i in range(count):
                s = (first + i) * batch_size
                self._step(X[s : s + batch_size], u[i, :, :n_v], u[i, :, n_v:])

    def _step(self, x, u_v, u_h):
        """One PCD-1 update on the data rows x (n, n_v) with uniforms u_v (m, n_v), u_h (m, n_h)."""
        n, n_v, n_h, theta = x.shape[0], self.n_v, self.n_h, self.theta
        buf = self._bufs(n)
        V, P, pv = buf.V, buf.P, buf.pv
        # negative phase: v⁻ ~ p(v | h_chain) = sigm(h W + b), straight into V's lower rows
        np.matmul(self.H, theta[:, :n_v], out=pv)
        if buf.pv_t is None:
            expit(pv, out=pv)
        else:
            buf.pv_t.sigmoid_()
        np.less(u_v, pv, out=V[n:, :n_v], casting="unsafe")
        V[:n, :n_v] = x
        # p(h|v) for the data and the chains in one product: sigm([v; v⁻] Wᵀ + c)
        ph = P[:, :n_h]
        np.matmul(V, theta[:n_h].T, out=ph)
        if buf.ph_t is None:
            expit(ph, out=ph)
        else:
            buf.ph_t.sigmoid_()
        # the new chains h ~ p(h|v⁻), drawn with the parameters before the update
        np.less(u_h, ph[n:], out=self.H[:, :n_h], casting="unsafe")
        # Θ += [lr/n h⁺, lr/n; -lr/m h⁻, -lr/m]ᵀ [v, 1; v⁻, 1]: ΔW, Δc (last column), Δb (last row)
        ph[:n] *= buf.scale_pos
        ph[n:] *= buf.scale_neg
        # (scipy's sgemm with β = 1 would accumulate into Θ without the temporary, but it calls
        # scipy's own OpenBLAS, whose thread pool ignores limits set before scipy.linalg was
        # imported: 7× slower epochs measured at 256 hidden, batch 100; NumPy's BLAS is the one
        # scikit-learn uses)
        np.matmul(P.T, V, out=buf.G)
        theta += buf.G
