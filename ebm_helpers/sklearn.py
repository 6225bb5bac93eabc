"""A scikit-learn compatible Bernoulli RBM (float32 NumPy or the torch core of ``ebm_helpers.rbm``).

``BernoulliRBM`` is a drop-in for ``sklearn.neural_network.BernoulliRBM`` (scikit-learn 1.9):
the same constructor parameters and defaults, methods (``fit``, ``partial_fit``, ``transform``,
``fit_transform``, ``score_samples``, ``gibbs``, ``get_feature_names_out``, ``get/set_params``),
fitted attributes (``components_``, ``intercept_hidden_``, ``intercept_visible_``,
``h_samples_``, ``n_features_in_``, ``feature_names_in_``) and input validation, so it works in a
``Pipeline`` and passes ``sklearn.utils.estimator_checks.check_estimator``. With
scikit-learn's algorithm on the CPU (PCD-1, no momentum, no weight decay: the defaults)
training runs in float32 NumPy by ``ebm_helpers.pcd_cpu.CpuPCD`` (three matrix products per
minibatch instead of five, the biases folded into them); otherwise in torch (CPU or CUDA) on
the ``ebm_helpers.rbm.RBM`` module: PCD by ``_pcd_step`` below, whose chains are hidden states
as in scikit-learn, and CD-k (``persistent=False``) by the shared update
``ebm_helpers.rbm.cd_step``.

What is the same as scikit-learn (with its defaults):

* the model E(v, h) = -v·b - h·c - hᵀWv with W = ``components_`` (n_components, n_features),
  b = ``intercept_visible_``, c = ``intercept_hidden_``; initialisation W ~ N(0, 0.01²) drawn
  with NumPy from ``random_state`` exactly as scikit-learn draws it (so the initial
  ``components_`` are identical for the same integer seed), biases 0;
* the algorithm: persistent contrastive divergence (PCD-1, Tieleman 2008) with ``batch_size``
  fantasy chains that start from h = 0, minibatches taken in the data's order (no shuffling),
  positive phase p(h|v), negative phase v⁻ ~ p(v | h_samples_) and p(h|v⁻), new chains
  h_samples_ ~ p(h|v⁻) drawn before the update (the same order of operations), and plain SGD
  θ ← θ + learning_rate · (⟨·⟩_data - ⟨·⟩_chains) on minibatch means;
* ``partial_fit`` makes one update on the whole of X, with the persistent random state
  ``random_state_``;
* ``transform`` = p(h = 1 | v) = σ(X Wᵀ + c), ``gibbs`` (one block-Gibbs step with
  ``random_state_``, boolean result), computed with NumPy as scikit-learn does (identical
  numbers for identical parameters and random state);
* dtypes: the fitted attributes and ``transform`` keep float32/float64 input in that
  precision (``partial_fit`` starts in float64); sparse CSR input is accepted everywhere
  (densified minibatch by minibatch). On the CPU fast path the arithmetic of training is
  float32 whatever the input; ``transform``, ``gibbs`` and ``score_samples`` compute in the
  input's precision, as scikit-learn does. Test log-likelihoods against scikit-learn's
  float64 (``benchmarks/bench_rbm_sklearn.py``, paired by seed; stored in
  ``benchmarks/results/rbm_sklearn_likelihood.json``): with 256 hidden units, batch 100 on
  MNIST-5k the AIS estimates over 24 seeds differ by -1.35 nats/image (95 % interval -5.4 ..
  +2.7), within the spread of training at scikit-learn's rate; float64 arithmetic with the same
  random numbers scored 3.3 nats higher (interval -6.65 .. -0.01 for float32 - float64) at
  twice the fit time, and a float64 copy of the accumulated parameters did not change float32's
  result (``benchmarks/exp_rbm_master_copy.py``).

Deliberate differences (documented, measured in tests/test_sklearn.py):

* the random numbers of the Gibbs sampling during training come from a torch generator seeded
  from ``random_state``: runs are reproducible, but not bit-identical to scikit-learn's (nor
  between the CPU fast path and the torch path);
* a minibatch smaller than ``batch_size`` (the last one of an epoch, or a ``partial_fit`` call)
  averages its positive and its negative statistics separately; scikit-learn divides both sums
  by the minibatch size, which over-weights the negative phase of a short last batch by
  batch_size / rows (and under-weights it for a large ``partial_fit`` batch);
* ``score_samples`` picks the one flipped bit of each row from a hash of the row's contents and
  ``random_state`` instead of the row's position, so a row's score does not depend on which
  other rows are scored with it (scikit-learn's own ``BernoulliRBM`` fails the sample-order and
  subset invariance checks of ``check_estimator`` because of that; this one passes them);
* a divergence guard raises ``RuntimeError`` when the weights become NaN or infinite, and
  warnings (scikit-learn's behaviour is kept otherwise) say when the input holds values outside
  [0, 1] (the sigmoid units saturate; ``ebm_helpers.rbm`` refuses such data) and when the
  weights run away (max |W| above 100, the limit of ``rbm.train_rbm``'s guard).

Extra parameters: ``k`` (Gibbs steps per update), ``persistent`` (PCD; ``False`` gives CD-k,
chains started at the data), ``momentum``, ``weight_decay`` (L2 on W) and ``device``; extra
methods: ``to_rbm`` (an ``ebm_helpers.rbm.RBM`` with copies of the parameters) and
``log_likelihood`` (exact per-example log p(v) when the smaller layer has ≤ 25 units, or given a
log Z such as an AIS estimate). Used by notebooks 03 and 13; benchmarked by
``benchmarks/bench_rbm_sklearn.py``.
"""

from __future__ import annotations

import time
import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
import torch
from scipy.special import expit
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn

from . import config
from .partition import _bernoulli
from .pcd_cpu import CpuPCD
from .rbm import RBM, _cd_step, _log_z_value

__all__ = ["BernoulliRBM"]

_MAX_WEIGHT = 1e10  # the divergence guard only catches NaN/inf weights (scikit-learn has none)
_WARN_WEIGHT = 100.0  # ... but above rbm.train_rbm's default max_weight, fit warns
_DENSE_CHUNK = 2**22  # elements of a densified chunk of sparse rows (32 MiB in float64)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijective, well-mixing hash of uint64 values (wraps mod 2^64)."""
    z = z ^ (z >> np.uint64(30))
    z = z * _M1
    z = z ^ (z >> np.uint64(27))
    z = z * _M2
    return z ^ (z >> np.uint64(31))


def _row_bits(v, salt: int) -> np.ndarray:
    """One pseudo-random column per row of ``v``, a function of the row's contents and ``salt``.

    The hash of a row is the wrapped sum over its nonzero entries (column j, value x) of
    mix(mix(j + salt) ^ bits(float64(x))), mixed once more; the result modulo n_features is
    the column. Dense and sparse versions of the same row give the same column.
    """
    csr = sp.csr_array(v, dtype=np.float64, copy=True)
    csr.eliminate_zeros()
    n, d = csr.shape
    with np.errstate(over="ignore"):
        salt64 = np.uint64(salt)
        keys = _mix64(csr.data.view(np.uint64) ^ _mix64(csr.indices.astype(np.uint64) + salt64))
        sums = np.zeros(n, dtype=np.uint64)
        nonempty = np.diff(csr.indptr) > 0
        if keys.size:
            starts = csr.indptr[:-1][nonempty]
            sums[nonempty] = np.add.reduceat(keys, starts)
        h = _mix64(sums + salt64 * _GOLDEN)
    return (h % np.uint64(d)).astype(np.intp)


def _warn_outside_unit_interval(X) -> None:
    """Warn (scikit-learn's drop-in keeps its behaviour) when X has values outside [0, 1]."""
    values = X.data if sp.issparse(X) else X
    if values.size == 0:
        return
    lo, hi = float(values.min()), float(values.max())
    if sp.issparse(X) and X.nnz < X.shape[0] * X.shape[1]:
        lo, hi = min(lo, 0.0), max(hi, 0.0)  # the implicit zeros
    if lo < 0 or hi > 1:
        warnings.warn(
            f"BernoulliRBM models binary data or probabilities in [0, 1], but X has values in "
            f"[{lo:g}, {hi:g}]: the units saturate and the fitted model is meaningless. Rescale "
            "X first, e.g. with sklearn.preprocessing.MinMaxScaler (scikit-learn's BernoulliRBM "
            "accepts such data silently; ebm_helpers.rbm.train_rbm refuses it).",
            UserWarning, stacklevel=4,
        )


def _warn_runaway(estimator) -> None:
    """Warn once per estimator when the weights run away (but are still finite)."""
    biggest = float(np.abs(estimator.components_).max()) if estimator.components_.size else 0.0
    if biggest > _WARN_WEIGHT and not getattr(estimator, "_warned_runaway", False):
        estimator._warned_runaway = True
        warnings.warn(
            f"BernoulliRBM training is diverging: max |W| = {biggest:.3g} > {_WARN_WEIGHT:g} "
            f"(rbm.train_rbm would stop here). The learning rate is probably too high "
            f"(learning_rate = {estimator.learning_rate:g}): lower it, e.g. 10×, rescale X to "
            "[0, 1], or add weight_decay, and fit again.",
            RuntimeWarning, stacklevel=4,
        )


def _check_finite(rbm: RBM, lr: float) -> None:
    """The divergence guard, once per pass: NaN or infinite weights mean a too-high rate."""
    if not bool(torch.isfinite(rbm.W).all()):
        raise RuntimeError(
            f"RBM training diverged: the weights became NaN or infinite. The learning rate is "
            f"probably too high (learning_rate = {lr:g}); lower it (e.g. 10×) and fit again."
        )


@torch.no_grad()
def _pcd_step(rbm: RBM, v, h_chain, lr, k, momentum, weight_decay, velocity, generator):
    """One PCD-k update in scikit-learn's order, the chains' state being their hidden layer.

    v⁻ ~ p(v | h_chain) (then k - 1 more Gibbs steps), h⁻ = p(h | v⁻); with h⁺ = p(h | v):

        ΔW = lr (⟨h⁺ vᵀ⟩ - ⟨h⁻ v⁻ᵀ⟩),  Δb = lr (⟨v⟩ - ⟨v⁻⟩),  Δc = lr (⟨h⁺⟩ - ⟨h⁻⟩)

    (minibatch means; optional momentum and L2 decay on W as in ``rbm.cd_step``), and the new
    chains h ~ p(h | v⁻) drawn with the parameters before the update, exactly as
    scikit-learn's ``BernoulliRBM._fit``. ``rbm.cd_step`` keeps its PCD chains as visible states
    instead (h is resampled after the update); at scikit-learn's learning rate the two orders
    train measurably different models, so the drop-in follows scikit-learn's.

    Returns:
        (new hidden chains, velocity); velocity stays ``None`` while momentum is 0.
    """
    ph_pos = rbm._p_h(v)
    v_neg = _bernoulli(rbm._p_v(h_chain), generator)
    ph_neg = rbm._p_h(v_neg)
    for _ in range(k - 1):
        v_neg = _bernoulli(rbm._p_v(_bernoulli(ph_neg, generator)), generator)
        ph_neg = rbm._p_h(v_neg)
    h_new = _bernoulli(ph_neg, generator)
    n, m = v.shape[0], v_neg.shape[0]
    W, b, c = rbm.W, rbm.v_bias, rbm.h_bias
    if momentum == 0 and velocity is None:  # plain SGD (scikit-learn): straight into W
        if weight_decay:
            W.mul_(1 - lr * weight_decay)
        W.addmm_(ph_pos.T, v, alpha=lr / n)
        W.addmm_(ph_neg.T, v_neg, alpha=-lr / m)
        b.add_(v.mean(0) - v_neg.mean(0), alpha=lr)
        c.add_(ph_pos.mean(0) - ph_neg.mean(0), alpha=lr)
        return h_new, None
    if velocity is None:
        velocity = tuple(torch.zeros_like(p) for p in (W, b, c))
    u_w, u_b, u_c = velocity
    u_w.mul_(momentum)
    u_w.addmm_(ph_pos.T, v, alpha=lr / n)
    u_w.addmm_(ph_neg.T, v_neg, alpha=-lr / m)
    if weight_decay:
        u_w.add_(W, alpha=-lr * weight_decay)
    u_b.mul_(momentum).add_(v.mean(0) - v_neg.mean(0), alpha=lr)
    u_c.mul_(momentum).add_(ph_pos.mean(0) - ph_neg.mean(0), alpha=lr)
    W.add_(u_w)
    b.add_(u_b)
    c.add_(u_c)
    return h_new, velocity


class BernoulliRBM(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Bernoulli restricted Boltzmann machine, a drop-in for scikit-learn's ``BernoulliRBM``.

    Binary visible and hidden units, trained by persistent contrastive divergence (stochastic
    maximum likelihood) on minibatches, as scikit-learn does, but with the updates computed by
    ``ebm_helpers.rbm.cd_step`` in torch (see the module docstring for the few documented
    differences). Input values are used as they are, as in scikit-learn: the model is meant
    for data in [0, 1] (binary, or pixel intensities as probabilities).

    Parameters:
        n_components: number of binary hidden units (256).
        learning_rate: SGD step size on minibatch-mean gradients (0.1).
        batch_size: examples per minibatch, and the number of persistent chains (10).
        n_iter: passes over the training data in ``fit`` (10).
        verbose: print the pseudo-likelihood after each pass when > 0 (0).
        random_state: int, ``RandomState`` or ``None``: the initial weights, the seed of the
            training's torch generator, and the bits flipped by ``score_samples``.
        k: Gibbs steps per update (1, as scikit-learn).
        persistent: PCD (``True``, scikit-learn's algorithm) or CD-k (``False``).
        momentum: momentum of the updates, in [0, 1) (0.0, as scikit-learn).
        weight_decay: L2 coefficient on the weights (0.0, as scikit-learn).
        device: torch device to train on (``None``: ``ebm_helpers.config.device()``, CUDA when
            available, else the CPU).

    Attributes:
        components_: (n_components, n_features) weights W.
        intercept_hidden_: (n_components,) hidden biases c.
        intercept_visible_: (n_features,) visible biases b.
        h_samples_: (batch_size, n_components) hidden states of the persistent chains.
        n_features_in_: number of features seen in ``fit``.
        feature_names_in_: feature names seen in ``fit`` (only for string column names).
        random_state_: the ``RandomState`` of ``partial_fit`` and ``gibbs`` (created by them).
    """

    #: the arithmetic of the CPU fast path (``pcd_cpu.CpuPCD``); the benchmark sets float64 on a
    #: subclass to measure what float32 costs in likelihood
    _cpu_dtype: ClassVar[type] = np.float32

    _parameter_constraints: ClassVar[dict] = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "k": [Interval(Integral, 1, None, closed="left")],
        "persistent": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "device": [None, str, torch.device],
    }

    def __init__(
        self,
        n_components=256,
        *,
        learning_rate=0.1,
        batch_size=10,
        n_iter=10,
        verbose=0,
        random_state=None,
        k=1,
        persistent=True,
        momentum=0.0,
        weight_decay=0.0,
        device=None,
    ):
        self.n_components = n_components
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.verbose = verbose
        self.random_state = random_state
        self.k = k
        self.persistent = persistent
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.device = device

    # ---- scikit-learn's inference methods (NumPy, as scikit-learn computes them) ---------------

    def transform(self, X):
        """Hidden activation probabilities p(h = 1 | v = X) = σ(X Wᵀ + c).

        Args:
            X: {array-like, sparse matrix} of shape (n_samples, n_features).

        Returns:
            (n_samples, n_components) array (float32 for float32 input and model).
        """
        check_is_fitted(self)
        X = validate_data(
            self, X, accept_sparse="csr", reset=False, dtype=(np.float64, np.float32)
        )
        return self._mean_hiddens(X)

    def _mean_hiddens(self, v):
        p = safe_sparse_dot(v, self.components_.T)
        p += self.intercept_hidden_
        return expit(p, out=p)

    def _free_energy(self, v):
        """F(v) = -v·b - Σ_j softplus(c_j + W_j·v), (n_samples,)."""
        return -safe_sparse_dot(v, self.intercept_visible_) - np.logaddexp(
            0, safe_sparse_dot(v, self.components_.T) + self.intercept_hidden_
        ).sum(axis=1)

    def gibbs(self, v):
        """One block-Gibbs step v → h ~ p(h|v) → v' ~ p(v|h), with ``random_state_``.

        Args:
            v: (n_samples, n_features) visible states to start from.

        Returns:
            (n_samples, n_features) boolean array, the new visible states.
        """
        check_is_fitted(self)
        v = validate_data(
            self, v, accept_sparse="csr", reset=False, dtype=(np.float64, np.float32)
        )
        if not hasattr(self, "random_state_"):
            self.random_state_ = check_random_state(self.random_state)
        rng = self.random_state_
        p = self._mean_hiddens(v)
        h = rng.uniform(size=p.shape) < p
        p = np.dot(h, self.components_)
        p += self.intercept_visible_
        expit(p, out=p)
        return rng.uniform(size=p.shape) < p

    def score_samples(self, X):
        """Pseudo-log-likelihood of each row: n_features · log σ(F(ṽ) - F(v)).

        ṽ is the row with one bit flipped, as in scikit-learn: an unbiased, noisy estimate of
        Σ_i log p(v_i | v_-i). The bit is drawn from a hash of the row's contents and
        ``random_state`` (fixed for an integer seed), so each row's score is a function of that
        row alone. Meant for binary X.

        Returns:
            (n_samples,) array.
        """
        check_is_fitted(self)
        v = validate_data(
            self, X, accept_sparse="csr", reset=False, dtype=(np.float64, np.float32)
        )
        rng = check_random_state(self.random_state)
        salt = int(rng.randint(np.iinfo(np.int64).max, dtype=np.int64))
        ind = (np.arange(v.shape[0]), _row_bits(v, salt))
        if sp.issparse(v):
            data = -2 * np.asarray(v[ind]).ravel() + 1
            flip = sp.csr_array((data, ind), shape=v.shape, dtype=v.dtype)
            v_ = sp.csr_matrix(v + flip) if isinstance(v, sp.spmatrix) else sp.csr_array(v + flip)
        else:
            v_ = v.copy()
            v_[ind] = 1 - v_[ind]
        fe = self._free_energy(v)
        fe_ = self._free_energy(v_)
        return -v.shape[1] * np.logaddexp(0, -(fe_ - fe))

    # ---- training on the torch core --------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the model to X by ``n_iter`` passes of minibatch PCD (or CD-k).

        Args:
            X: {array-like, sparse matrix} of shape (n_samples, n_features).
            y: ignored.

        Returns:
            self.
        """
        X = validate_data(self, X, accept_sparse="csr", dtype=(np.float64, np.float32))
        _warn_outside_unit_interval(X)
        rng = check_random_state(self.random_state)
        self._init_params(X.shape[1], X.dtype, rng)
        self._warned_runaway = False
        device = self._device()
        generator = self._make_generator(rng, device)
        self._train(X, generator, self.n_iter, velocity=None, fit_mode=True)
        _warn_runaway(self)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """One update of the model on the whole of X (a minibatch), with ``random_state_``.

        The first call initialises the model (float64 parameters, as scikit-learn); later calls
        continue the persistent chains and, for ``momentum > 0``, the momentum.

        Returns:
            self.
        """
        first_pass = not hasattr(self, "components_")
        dtype = np.float64 if first_pass else self.components_.dtype
        X = validate_data(self, X, accept_sparse="csr", dtype=dtype, reset=first_pass)
        _warn_outside_unit_interval(X)
        if not hasattr(self, "random_state_"):
            self.random_state_ = check_random_state(self.random_state)
        if first_pass:
            self._init_params(X.shape[1], X.dtype, self.random_state_)
        device = self._device()
        gen = getattr(self, "_generator", None)
        if gen is None or gen.device.type != device.type:
            gen = self._generator = self._make_generator(self.random_state_, device)
        velocity = getattr(self, "_velocity", None)
        self._velocity = self._train(X, gen, 1, velocity=velocity, fit_mode=False)
        _warn_runaway(self)
        return self

    def _init_params(self, n_features, dtype, rng):
        """scikit-learn's initialisation: W ~ N(0, 0.01²) from ``rng``, zero biases, h = 0."""
        self.components_ = np.ascontiguousarray(
            rng.normal(0, 0.01, (self.n_components, n_features)), dtype=dtype
        )
        self._n_features_out = self.components_.shape[0]
        self.intercept_hidden_ = np.zeros(self.n_components, dtype=dtype)
        self.intercept_visible_ = np.zeros(n_features, dtype=dtype)
        self.h_samples_ = np.zeros((self.batch_size, self.n_components), dtype=dtype)
        self._velocity = None

    def _device(self) -> torch.device:
        return config.device(self.device)  # None: CUDA when available; checks names

    @staticmethod
    def _make_generator(rng, device) -> torch.Generator:
        seed = int(rng.randint(np.iinfo(np.int64).max, dtype=np.int64))
        return torch.Generator(device=device).manual_seed(seed)

    def _module(self, device) -> RBM:
        """An ``RBM`` whose parameters are the fitted arrays: views of them on the CPU (updates
        in place write straight into ``components_`` etc.), copies on another device."""
        for name in ("components_", "intercept_hidden_", "intercept_visible_"):
            arr = getattr(self, name)
            fixed = np.require(arr, dtype=self.components_.dtype, requirements=["C", "W"])
            if fixed is not arr:
                setattr(self, name, fixed)
        rbm = RBM.__new__(RBM)
        nn.Module.__init__(rbm)
        for attr, name in (("W", "components_"), ("v_bias", "intercept_visible_"),
                           ("h_bias", "intercept_hidden_")):
            t = torch.from_numpy(getattr(self, name)).to(device)
            setattr(rbm, attr, nn.Parameter(t, requires_grad=False))
        rbm.register_buffer("n_updates", torch.zeros((), dtype=torch.int64, device=device))
        return rbm

    def _write_back(self, rbm: RBM) -> None:
        if rbm.W.device.type != "cpu":
            self.components_[...] = rbm.W.cpu().numpy()
            self.intercept_hidden_[...] = rbm.h_bias.cpu().numpy()
            self.intercept_visible_[...] = rbm.v_bias.cpu().numpy()

    def _batches(self, X, batch_size, device, dtype):
        """Minibatches of rows of X, in order, as torch tensors on ``device`` (sparse X is
        densified a chunk of rows at a time)."""
        n = X.shape[0]
        if not sp.issparse(X):
            X = np.require(X, requirements=["C", "W"])  # a copy only if read-only/strided
            xt = torch.from_numpy(X).to(device=device, dtype=dtype)
            for s in range(0, n, batch_size):
                yield xt[s : s + batch_size]
            return
        rows = max(1, _DENSE_CHUNK // max(X.shape[1], 1) // batch_size) * batch_size
        for c in range(0, n, rows):
            xt = torch.from_numpy(X[c : c + rows].toarray()).to(device=device, dtype=dtype)
            for s in range(0, xt.shape[0], batch_size):
                yield xt[s : s + batch_size]

    def _train(self, X, generator, epochs, velocity, fit_mode):
        """``epochs`` passes over X in minibatches (fit), or one update on all of X
        (partial_fit); updates the fitted attributes in place, returns the momentum buffers."""
        device = self._device()
        if (device.type == "cpu" and self.persistent and self.k == 1 and self.momentum == 0
                and self.weight_decay == 0 and velocity is None):
            self._train_cpu(X, generator, epochs, fit_mode)
            return None
        rbm = self._module(device)
        dtype = rbm.W.dtype
        h = torch.as_tensor(np.asarray(self.h_samples_), dtype=dtype, device=device)
        if h.ndim != 2 or h.shape[1] != self.n_components:
            raise ValueError(
                f"h_samples_ must have shape (n_chains, {self.n_components}), got "
                f"{tuple(h.shape)}"
            )
        lr, k = float(self.learning_rate), int(self.k)
        momentum, decay = float(self.momentum), float(self.weight_decay)
        batch_size = self.batch_size if fit_mode else X.shape[0]
        steps = 0
        begin = time.time()
        for iteration in range(1, epochs + 1):
            for v in self._batches(X, batch_size, device, dtype):
                if self.persistent:
                    h, velocity = _pcd_step(rbm, v, h, lr, k, momentum, decay, velocity,
                                            generator)
                else:  # CD-k: the shared update of ebm_helpers.rbm (X was validated once, so
                    # the private form skips cd_step's per-call input checks)
                    step = _cd_step(rbm, v, lr, k, None, momentum, decay, velocity, generator,
                                    _MAX_WEIGHT)
                    velocity, last = step.velocity, step.chains
                steps += 1
            _check_finite(rbm, lr)
            if fit_mode and self.verbose:
                self._write_back(rbm)
                end = time.time()
                print(
                    f"[{type(self).__name__}] Iteration {iteration}, pseudo-likelihood = "
                    f"{self.score_samples(X).mean():.2f}, time = {end - begin:.2f}s"
                )
                begin = end
        self._write_back(rbm)
        if steps and not self.persistent:
            with torch.no_grad():
                h = _bernoulli(rbm._p_h(last), generator)
        if steps:
            self.h_samples_ = h.cpu().numpy()
        return velocity

    def _train_cpu(self, X, generator, epochs, fit_mode):
        """scikit-learn's PCD-1 on the CPU: float32 NumPy with three products per minibatch
        (``ebm_helpers.pcd_cpu``); the fitted attributes keep their dtype (float64 or float32)."""
        h = np.asarray(self.h_samples_)
        if h.ndim != 2 or h.shape[1] != self.n_components:
            raise ValueError(
                f"h_samples_ must have shape (n_chains, {self.n_components}), got {h.shape}"
            )
        dtype = self.components_.dtype
        pcd = CpuPCD(self.components_, self.intercept_visible_, self.intercept_hidden_, h,
                     float(self.learning_rate), generator, dtype=self._cpu_dtype)
        batch_size = self.batch_size if fit_mode else X.shape[0]

        def write_back():
            self.components_ = pcd.W.astype(dtype)
            self.intercept_hidden_ = pcd.c.astype(dtype)
            self.intercept_visible_ = pcd.b.astype(dtype)

        begin = time.time()
        for iteration in range(1, epochs + 1):
            pcd.epoch(X, batch_size)
            if not pcd.finite():
                raise RuntimeError(
                    "RBM training diverged: the weights became NaN or infinite. The learning "
                    f"rate is probably too high (learning_rate = {self.learning_rate:g}); lower "
                    "it (e.g. 10×) and fit again."
                )
            if fit_mode and self.verbose:
                write_back()
                end = time.time()
                print(
                    f"[{type(self).__name__}] Iteration {iteration}, pseudo-likelihood = "
                    f"{self.score_samples(X).mean():.2f}, time = {end - begin:.2f}s"
                )
                begin = end
        if epochs and X.shape[0]:
            write_back()
            self.h_samples_ = pcd.h_chain.astype(dtype)

    # ---- extras ------------------------------------------------------------------------------

    def to_rbm(self, dtype: torch.dtype = torch.float64, device=None) -> RBM:
        """A new ``ebm_helpers.rbm.RBM`` holding copies of the fitted parameters.

        For exact log Z (``log_partition()``), AIS (``partition.ais_log_partition``), sampling
        (``sample``) and the rest of the RBM toolbox.
        """
        check_is_fitted(self)
        n_h, n_v = self.components_.shape
        rbm = RBM(n_v, n_h, dtype=dtype, device=device)
        with torch.no_grad():
            rbm.W.copy_(torch.as_tensor(self.components_))
            rbm.v_bias.copy_(torch.as_tensor(self.intercept_visible_))
            rbm.h_bias.copy_(torch.as_tensor(self.intercept_hidden_))
        return rbm

    def log_likelihood(self, X, log_z=None) -> np.ndarray:
        """Per-example log p(v) = -F(v) - log Z in nats, (n_samples,) float64.

        Args:
            X: binary (n_samples, n_features) data (dense or sparse).
            log_z: log Z when known (e.g. ``partition.ais_log_partition(self.to_rbm(), ...)``);
                by default computed exactly, which needs min(n_components, n_features) ≤ 25
                (a ``ValueError`` saying so otherwise).
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", reset=False, dtype=np.float64)
        if sp.issparse(X):
            X = X.toarray()
        rbm = self.to_rbm(torch.float64)
        lz = None if log_z is None else torch.as_tensor(float(_log_z_value(log_z)),
                                                        dtype=torch.float64)
        with torch.no_grad():
            return rbm.log_likelihood(torch.from_numpy(np.ascontiguousarray(X)), lz).numpy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
