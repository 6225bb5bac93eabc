"""Collaborative filtering with a conditional-multinomial (softmax-visible) RBM, and baselines.

Salakhutdinov, Mnih & Hinton (2007), "Restricted Boltzmann machines for collaborative
filtering". Ratings are a dense (n_users, n_items) integer tensor with 0 = missing and
1..K = stars (optionally with an explicit boolean ``mask`` of observed entries, in which case
the values under ``mask == False`` are ignored). Every user is one RBM whose visible units are
the user's *observed* items only, each a one-hot vector v_i ∈ {0,1}^K over the K stars; all
users share the weights W (n_items, K, n_hidden), the visible biases b (n_items, K) and the
hidden biases c (n_hidden,). For a user with observed items O,

    E(V, h) = -Σ_{i∈O,k} v_ik b_ik - Σ_j h_j c_j - Σ_{i∈O,k,j} v_ik h_j W_ikj,

    p(h_j = 1 | V) = σ(c_j + Σ_{i∈O,k} v_ik W_ikj),
    p(v_i = k | h) = softmax_k(b_ik + Σ_j h_j W_ikj),

and CD-k estimates the log-likelihood gradient from each user's observed items only: the
positive statistics use the data, the negative ones a k-step Gibbs reconstruction of the same
observed items, so a missing entry enters neither. A missing rating is predicted by one
mean-field pass, r̂_ui = Σ_k k · p(v_i = k | p̂), p̂ = p(h = 1 | V_u) (as in the paper).

This module also holds the comparison baselines (``global_mean``, ``item_mean`` and a biased
``MatrixFactorization`` trained on the observed entries with L2), the ``rmse`` helper, and
``synthetic_ratings``: users × items ratings with a known low-rank taste structure, sparse
observations and a fixed train/test split. Used by notebook 06_rbm_collaborative_filtering.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from . import config
from ._training import DivergenceGuard, History
from ._validation import (
    ArgumentTypeError,
    as_generator,
    as_module,
    as_points,
    check_memory,
    count,
    in_range,
    non_negative,
    positive,
)

__all__ = [
    "MatrixFactorization",
    "SoftmaxRBM",
    "SyntheticRatings",
    "cd_gradient",
    "global_mean",
    "item_mean",
    "one_hot",
    "rmse",
    "synthetic_ratings",
    "train_softmax_rbm",
]


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------


def _as_int_matrix(x, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        try:
            x = torch.as_tensor(np.asarray(x))
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name} must be a tensor or array of integers: {err}") from err
    if x.ndim != 2:
        raise ValueError(
            f"{name} must be a (n_users, n_items) matrix, got shape {tuple(x.shape)}; for one "
            f"user use {name}.reshape(1, -1)"
        )
    if x.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(x.shape)}); pass at least one rating")
    if x.dtype == torch.bool:
        raise ValueError(f"{name} must hold star ratings (0 = missing, 1..K), got a bool tensor")
    if torch.is_floating_point(x):
        if not bool(torch.isfinite(x).all()) or not bool((x == x.round()).all()):
            raise ValueError(
                f"{name} must hold whole-number star ratings (0 = missing, 1..K), got "
                "non-integer or non-finite values; round them or use an integer tensor"
            )
    return x.long()


def _check_ratings(
    ratings,
    n_stars: int,
    mask=None,
    name: str = "ratings",
    n_items: int | None = None,
    need_every_user: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate ratings (and an optional mask); return (ratings as int64 with 0 where missing,
    bool mask of observed entries)."""
    r = _as_int_matrix(ratings, name)
    if n_items is not None and r.shape[1] != n_items:
        raise ValueError(
            f"{name} has {r.shape[1]} item column(s) but the model was built for {n_items} items; "
            "pass a (n_users, n_items) matrix with the same item columns as the training data"
        )
    if mask is None:
        m = r != 0
        bad = (r < 0) | (r > n_stars)
        if bool(bad.any()):
            raise ValueError(
                f"{name} must hold 0 (missing) or a star rating 1..{n_stars}, got values in "
                f"[{int(r.min())}, {int(r.max())}] ({int(bad.sum())} entries outside the scale); "
                f"map them onto 1..{n_stars} first or pass n_stars matching your scale"
            )
    else:
        m = torch.as_tensor(mask)
        if m.shape != r.shape:
            raise ValueError(
                f"mask must have the shape of {name}, {tuple(r.shape)}, got {tuple(m.shape)}"
            )
        if m.dtype != torch.bool:
            if not bool(((m == 0) | (m == 1)).all()):
                raise ValueError("mask must be boolean (True = observed) or 0/1")
            m = m.bool()
        bad = m & ((r < 1) | (r > n_stars))
        if bool(bad.any()):
            raise ValueError(
                f"observed entries of {name} (mask True) must be star ratings 1..{n_stars}, "
                f"{int(bad.sum())} are not; fix them or mark them missing in the mask"
            )
        r = torch.where(m, r, torch.zeros_like(r))
    if not bool(m.any()):
        raise ValueError(f"{name} has no observed rating at all (every entry is missing)")
    if need_every_user:
        empty = ~m.any(1)
        if bool(empty.any()):
            idx = torch.nonzero(empty).flatten()[:5].tolist()
            raise ValueError(
                f"{int(empty.sum())} user(s) of {name} have no observed rating (rows {idx}...); "
                "a user with no ratings carries no training signal; drop those rows first, "
                "e.g. ratings[(ratings > 0).any(1)]"
            )
    return r, m


def _numeric(x, name: str) -> torch.Tensor:
    try:
        x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"{name} must be a tensor or array of numbers: {err}") from err
    if x.dtype == torch.bool or x.is_complex() or not (x.is_floating_point() or x.dtype in (
            torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)):
        raise ValueError(f"{name} must hold real numbers, got dtype {x.dtype}")
    return x


def _n_stars(n_stars) -> int:
    k = count(n_stars, "n_stars", minimum=2)
    return k


# --------------------------------------------------------------------------------------------
# Synthetic data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyntheticRatings:
    """Synthetic ratings with a known latent structure and a fixed train/test split.

    Attributes:
        train: (n_users, n_items) int64, 0 = missing, 1..n_stars = observed training rating.
        test: (n_users, n_items) int64, the held-out observed ratings (0 elsewhere); its
            non-zero entries are disjoint from ``train``'s.
        user_factors: (n_users, n_factors) true user tastes U.
        item_factors: (n_items, n_factors) true item attributes Q.
        item_bias: (n_items,) true item quality.
        scores: (n_users, n_items) noiseless latent scores U Qᵀ/√F + item_bias.
        thresholds: (n_stars - 1,) score cut points that map noisy scores to stars.
        n_stars: K.
    """

    train: torch.Tensor
    test: torch.Tensor
    user_factors: torch.Tensor
    item_factors: torch.Tensor
    item_bias: torch.Tensor
    scores: torch.Tensor
    thresholds: torch.Tensor
    n_stars: int

    @property
    def train_mask(self) -> torch.Tensor:
        return self.train > 0

    @property
    def test_mask(self) -> torch.Tensor:
        return self.test > 0

    def __repr__(self) -> str:
        return (
            f"SyntheticRatings(users={self.train.shape[0]}, items={self.train.shape[1]}, "
            f"train={int(self.train_mask.sum())}, test={int(self.test_mask.sum())}, "
            f"factors={self.user_factors.shape[1]}, stars=1..{self.n_stars})"
        )


def synthetic_ratings(
    n_users: int = 500,
    n_items: int = 200,
    n_factors: int = 3,
    density: float = 0.1,
    noise: float = 0.5,
    n_stars: int = 5,
    test_fraction: float = 0.2,
    min_per_user: int = 3,
    item_bias_std: float = 0.5,
    star_quantiles=(0.1, 0.3, 0.6, 0.85),
    generator: torch.Generator | None = None,
    seed: int | None = None,
) -> SyntheticRatings:
    """Seeded users × items star ratings with a few latent taste factors and sparse observations.

    Model: U ~ N(0, I) (n_users, F), Q ~ N(0, I) (n_items, F), item quality a ~ N(0, s²);
    the latent score is s_ui = U_u·Q_i / √F + a_i, the noisy score s_ui + noise·ε_ui, and the
    star is 1 + #{thresholds below it}, with thresholds at the ``star_quantiles`` of the
    noiseless scores (so the stars are roughly 10/20/30/25/15 % for the defaults).
    Each entry is observed independently with probability ``density``, plus each user's
    ``min_per_user`` entries with the smallest uniform draws (so no user is empty); each
    observed entry goes to the test set with probability ``test_fraction``, but every user
    keeps at least one training rating.

    Args:
        n_users, n_items, n_factors: sizes.
        density: fraction of observed entries, in (0, 1].
        noise: standard deviation of the score noise (≥ 0).
        n_stars: K (≥ 2); ``star_quantiles`` must then have K - 1 increasing entries in (0, 1).
        test_fraction: in [0, 1).
        min_per_user: each user's guaranteed number of observed ratings (≥ 2 when
            test_fraction > 0, so that a user can have both a train and a test rating).
        item_bias_std: s, the spread of item quality (what the item-mean baseline captures).
        generator: torch random generator; or ``seed`` to make a fresh one (default seed 0).

    Returns:
        ``SyntheticRatings`` (see its attributes); same seed → identical tensors.
    """
    n_users, n_items = count(n_users, "n_users"), count(n_items, "n_items")
    n_factors = count(n_factors, "n_factors")
    n_stars = _n_stars(n_stars)
    check_memory(8 * n_users * max(n_items, n_factors), "n_users or n_items",
                 f"a dense {n_users} × {n_items} ratings matrix (with its latent scores)")
    density = in_range(density, "density", 0.0, 1.0, low_open=True,
                       hint=" (the fraction of observed ratings)")
    noise = non_negative(noise, "noise")
    item_bias_std = non_negative(item_bias_std, "item_bias_std")
    test_fraction = in_range(test_fraction, "test_fraction", 0.0, 1.0, high_open=True)
    min_per_user = count(min_per_user, "min_per_user", minimum=0)
    if min_per_user > n_items:
        raise ValueError(f"min_per_user = {min_per_user} exceeds n_items = {n_items}")
    q = torch.as_tensor(star_quantiles, dtype=torch.float64).flatten()
    if q.numel() != n_stars - 1 or not bool(((q > 0) & (q < 1)).all()) or not bool(
        (q.diff() > 0).all()
    ):
        raise ValueError(
            f"star_quantiles must hold n_stars - 1 = {n_stars - 1} increasing values in (0, 1), "
            f"got {q.tolist()}"
        )
    as_generator(generator)
    if generator is None:
        generator = torch.Generator().manual_seed(0 if seed is None else count(seed, "seed", 0))
    elif seed is not None:
        raise ValueError("pass either generator or seed, not both")

    def randn(*shape):
        return torch.randn(shape, generator=generator, dtype=torch.float64)

    def rand(*shape):
        return torch.rand(shape, generator=generator, dtype=torch.float64)

    u_f, i_f = randn(n_users, n_factors), randn(n_items, n_factors)
    a = randn(n_items) * float(item_bias_std)
    scores = u_f @ i_f.T / math.sqrt(n_factors) + a
    thresholds = torch.quantile(scores.flatten(), q)
    noisy = scores + noise * randn(n_users, n_items)
    stars = 1 + torch.bucketize(noisy, thresholds)  # 1..K

    draw = rand(n_users, n_items)
    observed = draw < density
    if min_per_user:
        idx = draw.topk(min_per_user, dim=1, largest=False).indices
        observed.scatter_(1, idx, True)
    split = rand(n_users, n_items)
    test = observed & (split < test_fraction)
    train = observed & ~test
    no_train = ~train.any(1)
    if bool(no_train.any()):  # give each such user back its test rating with the largest draw
        keep = torch.where(test, split, torch.full_like(split, -1.0)).argmax(1)
        rows = torch.nonzero(no_train).flatten()
        test[rows, keep[rows]] = False
        train[rows, keep[rows]] = True
    zero = torch.zeros_like(stars)
    return SyntheticRatings(
        train=torch.where(train, stars, zero),
        test=torch.where(test, stars, zero),
        user_factors=u_f.float(),
        item_factors=i_f.float(),
        item_bias=a.float(),
        scores=scores.float(),
        thresholds=thresholds.float(),
        n_stars=n_stars,
    )


# --------------------------------------------------------------------------------------------
# Metrics and simple baselines
# --------------------------------------------------------------------------------------------


def rmse(pred, target, mask=None) -> float:
    """Root-mean-square error √(mean over the masked entries of (pred - target)²).

    Args:
        pred: (n_users, n_items) predicted ratings (float).
        target: (n_users, n_items) true ratings, 0 = missing.
        mask: bool (n_users, n_items) of the entries to score; default ``target > 0``.
    """
    p, t = _numeric(pred, "pred"), _numeric(target, "target")
    if p.shape != t.shape:
        raise ValueError(
            f"pred and target must have the same shape, got {tuple(p.shape)} and "
            f"{tuple(t.shape)}"
        )
    m = (t > 0) if mask is None else torch.as_tensor(mask).bool()
    if m.shape != t.shape:
        raise ValueError(f"mask must have the shape of target, {tuple(t.shape)}, got "
                         f"{tuple(m.shape)}")
    if not bool(m.any()):
        raise ValueError("nothing to score: the mask (or target > 0) selects no entry")
    d = p.double()[m] - t.double()[m]
    if not bool(torch.isfinite(d).all()):
        raise ValueError("pred has non-finite values at scored entries")
    return float(d.pow(2).mean().sqrt())


def global_mean(ratings, mask=None, n_stars: int = 5) -> torch.Tensor:
    """Predict every entry by the mean μ of the observed ratings: (n_users, n_items) float32."""
    r, m = _check_ratings(ratings, _n_stars(n_stars), mask)
    mu = r[m].double().mean()
    return torch.full(r.shape, float(mu), dtype=torch.float32)


def item_mean(ratings, mask=None, n_stars: int = 5, damping: float = 0.0) -> torch.Tensor:
    """Predict entry (u, i) by item i's mean observed rating, shrunk towards the global mean:

        r̂_ui = (Σ_{u'} r_u'i + damping · μ) / (n_i + damping),

    with n_i the number of ratings of item i (an item with none gets μ). Returns (n_users,
    n_items) float32.
    """
    r, m = _check_ratings(ratings, _n_stars(n_stars), mask)
    damping = non_negative(damping, "damping")
    rd, md = r.double(), m.double()
    mu = rd.sum() / md.sum()
    n_i = md.sum(0)
    s_i = (rd * md).sum(0)
    mean_i = torch.where(n_i + damping > 0, (s_i + damping * mu) / (n_i + damping).clamp_min(1e-12),
                         mu)
    return mean_i.float().expand(r.shape[0], -1).clone()


class MatrixFactorization:
    """Biased matrix factorisation r̂_ui = μ + b_u + b_i + p_u·q_i, fitted on observed entries.

    Minimises Σ_{(u,i) observed} (r_ui - r̂_ui)² / N + l2 · (‖P‖² + ‖Q‖² + ‖b_u‖² + ‖b_i‖²) / N
    by full-batch Adam (deterministic given ``generator``), P (n_users, F), Q (n_items, F)
    initialised N(0, init_std²).

    Args:
        n_factors: F.
        l2: regularisation strength (≥ 0), per parameter, summed over the data scale.
        epochs: Adam steps (full batch).
        lr: Adam learning rate.
        init_std: initial factor scale.

    Attributes (after ``fit``): ``mu``, ``user_bias`` (n_users,), ``item_bias`` (n_items,),
    ``P``, ``Q``, ``losses`` (training objective per step).
    """

    def __init__(self, n_factors: int = 5, l2: float = 0.05, epochs: int = 300,
                 lr: float = 0.05, init_std: float = 0.1, n_stars: int = 5,
                 generator: torch.Generator | None = None):
        self.n_factors = count(n_factors, "n_factors")
        self.l2 = non_negative(l2, "l2")
        self.epochs = count(epochs, "epochs")
        self.lr = positive(lr, "lr")
        self.init_std = positive(init_std, "init_std")
        self.n_stars = _n_stars(n_stars)
        self.generator = as_generator(generator)

    def fit(self, ratings, mask=None, generator: torch.Generator | None = None):
        """Fit on the observed entries of ``ratings`` (n_users, n_items); returns ``self``.

        ``generator`` draws the initial factors (default: the one given to the constructor).

        Raises:
            ValueError: for bad ratings. RuntimeError: when the fit diverges (lr too high).
        """
        r, m = _check_ratings(ratings, self.n_stars, mask, need_every_user=True)
        generator = self.generator if generator is None else as_generator(generator)
        n_users, n_items = r.shape
        uu, ii = torch.nonzero(m, as_tuple=True)
        y = r[uu, ii].float()
        n = y.numel()
        mu = float(y.mean())
        dev = torch.device("cpu") if generator is None else generator.device
        params = [
            (torch.randn(n_users, self.n_factors, generator=generator, device=dev)
             * self.init_std).requires_grad_(),
            (torch.randn(n_items, self.n_factors, generator=generator, device=dev)
             * self.init_std).requires_grad_(),
            torch.zeros(n_users, requires_grad=True),
            torch.zeros(n_items, requires_grad=True),
        ]
        opt = torch.optim.Adam(params, lr=self.lr)
        guard = DivergenceGuard("matrix factorisation",
                                f"lower lr (now {self.lr:g}), e.g. 10×", params=params)
        self.losses = []
        for epoch in range(1, self.epochs + 1):
            p, q, bu, bi = params
            pred = mu + bu[uu] + bi[ii] + (p[uu] * q[ii]).sum(1)
            reg = sum(t.pow(2).sum() for t in params)
            loss = ((pred - y) ** 2).sum() / n + self.l2 * reg / n
            self.losses.append(guard.check_loss(f"at step {epoch}", loss))
            opt.zero_grad()
            loss.backward()
            opt.step()
        guard.check_params(f"after {self.epochs} steps")
        p, q, bu, bi = (t.detach() for t in params)
        self.mu, self.P, self.Q, self.user_bias, self.item_bias = mu, p, q, bu, bi
        return self

    def predict(self) -> torch.Tensor:
        """All predicted ratings, (n_users, n_items) float32, clipped to [1, n_stars]."""
        if not hasattr(self, "P"):
            raise ValueError("this MatrixFactorization is not fitted yet; call fit(ratings) first")
        r = self.mu + self.user_bias[:, None] + self.item_bias[None, :] + self.P @ self.Q.T
        return r.clamp(1, self.n_stars)


# --------------------------------------------------------------------------------------------
# The softmax RBM
# --------------------------------------------------------------------------------------------


def one_hot(ratings, n_stars: int = 5, mask=None) -> torch.Tensor:
    """The visible units V: (n_users, n_items, K) float, V[u, i, k-1] = 1 iff r_ui = k.

    Missing entries (0, or ``mask`` False) are all-zero rows, so they drop out of every sum
    over observed items.
    """
    k = _n_stars(n_stars)
    r, m = _check_ratings(ratings, k, mask)
    return _one_hot(r, m, k)


def _one_hot(r: torch.Tensor, m: torch.Tensor, k: int, dtype=torch.float32) -> torch.Tensor:
    v = torch.nn.functional.one_hot((r - 1).clamp_min(0), k).to(dtype)
    return v * m[..., None].to(dtype)


class SoftmaxRBM(nn.Module):
    """Conditional-multinomial RBM for ratings (Salakhutdinov, Mnih & Hinton 2007).

    Attributes:
        W: (n_items, n_stars, n_hidden) shared weights, initialised N(0, init_std²).
        v_bias: (n_items, n_stars) visible biases b (see ``init_from_data``).
        h_bias: (n_hidden,) hidden biases c.

    Args:
        n_items, n_hidden: sizes; n_stars: K.
        generator: for the initial weights.
        init_std: scale of the initial weights.
    """

    def __init__(self, n_items: int, n_hidden: int, n_stars: int = 5,
                 generator: torch.Generator | None = None, init_std: float = 0.1,
                 dtype: torch.dtype = torch.float32):
        super().__init__()
        n_items, n_hidden = count(n_items, "n_items"), count(n_hidden, "n_hidden")
        k = _n_stars(n_stars)
        as_generator(generator)
        init_std = non_negative(init_std, "init_std")
        if dtype not in (torch.float32, torch.float64):
            raise ArgumentTypeError(f"dtype must be torch.float32 or torch.float64, got "
                                    f"{dtype!r}")
        check_memory(n_items * k * n_hidden, "n_items or n_hidden",
                     f"the ({n_items}, {k}, {n_hidden}) weights")
        w = torch.randn(n_items, k, n_hidden, generator=generator, dtype=dtype) * init_std
        self.W = nn.Parameter(w)
        self.v_bias = nn.Parameter(torch.zeros(n_items, k, dtype=dtype))
        self.h_bias = nn.Parameter(torch.zeros(n_hidden, dtype=dtype))

    @property
    def n_items(self) -> int:
        return self.W.shape[0]

    @property
    def n_stars(self) -> int:
        return self.W.shape[1]

    @property
    def n_hidden(self) -> int:
        return self.W.shape[2]

    def extra_repr(self) -> str:
        return f"n_items={self.n_items}, n_stars={self.n_stars}, n_hidden={self.n_hidden}"

    def _check(self, ratings, mask=None, need_every_user=False):
        return _check_ratings(ratings, self.n_stars, mask, n_items=self.n_items,
                              need_every_user=need_every_user)

    def visible(self, ratings, mask=None) -> tuple[torch.Tensor, torch.Tensor]:
        """(V, mask): the one-hot visible units (batch, n_items, K) and the observed mask."""
        r, m = self._check(ratings, mask)
        return _one_hot(r, m, self.n_stars, self.W.dtype), m

    # ---- conditionals (on one-hot V and a mask) ---------------------------------------------

    def _hidden_input(self, v: torch.Tensor) -> torch.Tensor:
        b = v.shape[0]
        return self.h_bias + v.reshape(b, -1) @ self.W.reshape(-1, self.n_hidden)

    def _p_h(self, v: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self._hidden_input(v))

    def _visible_logits(self, h: torch.Tensor) -> torch.Tensor:
        lin = h @ self.W.reshape(-1, self.n_hidden).T  # (batch, n_items * K)
        return self.v_bias + lin.reshape(h.shape[0], self.n_items, self.n_stars)

    def _p_v(self, h: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self._visible_logits(h), dim=-1)

    @torch.no_grad()
    def p_h(self, ratings, mask=None) -> torch.Tensor:
        """p(h_j = 1 | V) = σ(c_j + Σ_{observed i, k} v_ik W_ikj): (batch, n_hidden)."""
        v, _ = self.visible(ratings, mask)
        return self._p_h(v)

    @torch.no_grad()
    def p_v(self, h) -> torch.Tensor:
        """p(v_i = k | h) = softmax_k(b_ik + Σ_j h_j W_ikj): (batch, n_items, K), rows sum to 1.

        ``h`` is (batch, n_hidden), binary or probabilities (mean field).
        """
        return self._p_v(self._hidden(h))

    def _hidden(self, h, batch: int | None = None) -> torch.Tensor:
        h = as_points(h, self.n_hidden, name="h").to(self.W.dtype)
        if batch is not None and h.shape[0] != batch:
            raise ValueError(f"h must have shape ({batch}, {self.n_hidden}), one row per user, "
                             f"got {tuple(h.shape)}")
        if bool((h < 0).any()) or bool((h > 1).any()):
            raise ValueError("h must hold hidden states or probabilities in [0, 1]")
        return h

    def energy(self, ratings, h, mask=None) -> torch.Tensor:
        """E(V, h) over each user's observed items: (batch,)."""
        v, _ = self.visible(ratings, mask)
        h = self._hidden(h, v.shape[0])
        vb = (v * self.v_bias).sum((1, 2))
        return -vb - h @ self.h_bias - ((v.reshape(v.shape[0], -1)
                                          @ self.W.reshape(-1, self.n_hidden)) * h).sum(1)

    def free_energy(self, ratings, mask=None) -> torch.Tensor:
        """F(V) = -Σ_{observed i,k} v_ik b_ik - Σ_j softplus(c_j + Σ v_ik W_ikj): (batch,)."""
        v, _ = self.visible(ratings, mask)
        return -(v * self.v_bias).sum((1, 2)) - torch.nn.functional.softplus(
            self._hidden_input(v)).sum(1)

    @torch.no_grad()
    def predict(self, ratings, mask=None) -> torch.Tensor:
        """Expected ratings r̂_ui = Σ_k k · p(v_i = k | p̂_u), p̂_u = p(h = 1 | V_u) (mean field).

        Args:
            ratings: (n_users, n_items) the users' known ratings (0 = missing); a user with no
                rating gets the prediction of the biases alone.

        Returns:
            (n_users, n_items) float predictions for every item (known ones included).
        """
        r, m = self._check(ratings, mask)
        v = _one_hot(r, m, self.n_stars, self.W.dtype)
        pv = self._p_v(self._p_h(v))
        stars = torch.arange(1, self.n_stars + 1, dtype=pv.dtype)
        return pv @ stars

    @torch.no_grad()
    def init_from_data(self, ratings, mask=None, smoothing: float = 1.0) -> SoftmaxRBM:
        """Set b_ik = log of item i's smoothed star frequencies (so the untrained model
        predicts each item's rating distribution), c = 0. Returns ``self``."""
        r, m = self._check(ratings, mask)
        smoothing = positive(smoothing, "smoothing", " (0 would give -inf biases for stars an "
                             "item never received)")
        counts = _one_hot(r, m, self.n_stars, torch.float64).sum(0) + smoothing
        self.v_bias.copy_(torch.log(counts / counts.sum(1, keepdim=True)).to(self.v_bias))
        self.h_bias.zero_()
        return self


# ---- CD training -------------------------------------------------------------------------------


@dataclass
class CFGradient:
    """A CD-k estimate of the average (per user) log-likelihood gradient (ascent direction).

    Attributes: W (n_items, K, n_hidden), v_bias (n_items, K), h_bias (n_hidden,).
    """

    W: torch.Tensor
    v_bias: torch.Tensor
    h_bias: torch.Tensor


def _sample_categorical(p: torch.Tensor, generator) -> torch.Tensor:
    """One-hot samples of the categoricals p (..., K) by inverse CDF (one uniform per row)."""
    u = torch.rand((*p.shape[:-1], 1), generator=generator, dtype=p.dtype)
    idx = (p.cumsum(-1) < u).sum(-1, keepdim=True).clamp_max(p.shape[-1] - 1)
    return torch.zeros_like(p).scatter_(-1, idx, 1.0)


def _cd(model: SoftmaxRBM, v: torch.Tensor, m: torch.Tensor, k: int, generator) -> CFGradient:
    with torch.no_grad():
        mf = m[..., None].to(v.dtype)
        ph = model._p_h(v)
        h = (torch.rand(ph.shape, generator=generator, dtype=ph.dtype) < ph).to(ph.dtype)
        for step in range(k):
            v_neg = _sample_categorical(model._p_v(h), generator) * mf  # observed items only
            ph_neg = model._p_h(v_neg)
            if step < k - 1:
                h = (torch.rand(ph.shape, generator=generator, dtype=ph.dtype) < ph_neg).to(
                    ph.dtype)
        n = v.shape[0]
        flat = model.n_items * model.n_stars
        dw = (v.reshape(n, flat).T @ ph - v_neg.reshape(n, flat).T @ ph_neg) / n
        return CFGradient(dw.reshape(model.W.shape), (v - v_neg).sum(0) / n,
                          (ph - ph_neg).mean(0))


def cd_gradient(model: SoftmaxRBM, ratings, mask=None, k: int = 1,
                generator: torch.Generator | None = None) -> CFGradient:
    """CD-k gradient of the mean log-likelihood of the users' *observed* ratings.

    Positive phase p(h|V) on the data; negative phase: h ~ p(h|V), then k steps of
    v_i ~ p(v_i|h) for the user's observed items only (missing items are neither sampled nor
    counted), h ~ p(h|v):

        ΔW_ikj = ⟨v_ik p(h_j|V)⟩_data - ⟨v'_ik p(h_j|V')⟩_recon,  Δb_ik = ⟨v_ik - v'_ik⟩,
        Δc_j = ⟨p(h_j|V) - p(h_j|V')⟩,

    averaged over the users of the batch. Missing entries contribute nothing: changing a
    rating under ``mask == False`` leaves the result (with the same generator state) unchanged.

    Raises:
        ValueError: for ratings outside 1..K, a wrong number of items, or a user with no
            observed rating.
    """
    as_module(model, "model", SoftmaxRBM, "; build one with cf.SoftmaxRBM(n_items, n_hidden)")
    r, m = model._check(ratings, mask, need_every_user=True)
    v = _one_hot(r, m, model.n_stars, model.W.dtype)
    return _cd(model, v, m, count(k, "k"), as_generator(generator))


@dataclass
class CFHistory(History):
    """Per-epoch record of ``train_softmax_rbm``: ``metrics["epoch"]``, ``["train_rmse"]`` and,
    when ``test`` was given, ``["test_rmse"]`` (mean-field predictions)."""


def train_softmax_rbm(
    model: SoftmaxRBM,
    ratings,
    epochs: int = 40,
    lr: float = 1.0,
    k: int = 1,
    batch_size: int = 25,
    momentum: float = 0.5,
    weight_decay: float = 1e-3,
    test=None,
    generator: torch.Generator | None = None,
    init: bool = True,
    progress: bool | None = None,
    max_weight: float = 100.0,
) -> CFHistory:
    """Train ``model`` in place by minibatch CD-k on each user's observed ratings.

    Update for each parameter θ: u ← momentum·u + lr·(g_θ - weight_decay·θ) (decay on W only),
    θ ← θ + u, with g the ``cd_gradient`` of a minibatch of users and a learning rate decayed
    linearly to lr/epochs. The gradient is a mean over *users*, and each user rates only a
    fraction (the density) of the items, so per-item gradients are small: learning rates near 1
    are needed (0.05 barely moves the weights on the 10 %-dense synthetic data), together with
    initial weights of scale ~0.1 to break the hidden units' symmetry.

    Args:
        model: the ``SoftmaxRBM``.
        ratings: (n_users, n_items) training ratings, 0 = missing; every user needs ≥ 1 rating.
        epochs, lr, k, batch_size, momentum, weight_decay: the recipe.
        test: optional (n_users, n_items) held-out ratings (0 = missing) to monitor RMSE.
        generator: torch random generator (shuffling, sampling).
        init: start from ``init_from_data(ratings)`` (item star frequencies as biases).
        progress: ``tqdm`` bar; ``None`` shows it unless ``config.progress_disabled()``.
        max_weight: divergence guard: a ``RuntimeError`` when max |W| exceeds it or a weight
            turns NaN (the weights of the notebook's runs stay below about 5).

    Raises:
        ValueError: for bad ratings or settings. RuntimeError: when training diverges.
    """
    from tqdm.auto import tqdm

    as_module(model, "model", SoftmaxRBM, "; build one with cf.SoftmaxRBM(n_items, n_hidden)")
    as_generator(generator)
    r, m = model._check(ratings, need_every_user=True)
    if test is not None:
        t, _ = _check_ratings(test, model.n_stars, n_items=model.n_items, name="test")
        if t.shape != r.shape:
            raise ValueError(f"test must have the shape of ratings, {tuple(r.shape)}, got "
                             f"{tuple(t.shape)}")
    epochs, k, batch_size = count(epochs, "epochs"), count(k, "k"), count(batch_size, "batch_size")
    lr = positive(lr, "lr")
    momentum = in_range(momentum, "momentum", 0.0, 1.0, high_open=True)
    weight_decay = non_negative(weight_decay, "weight_decay")
    guard = DivergenceGuard(
        "softmax RBM training", f"lower lr (now {lr:g}) or momentum (now {momentum:g})",
        params=(model.W, model.v_bias, model.h_bias), max_param=None)
    max_weight = positive(max_weight, "max_weight")
    if init:
        model.init_from_data(r)
    v_all = _one_hot(r, m, model.n_stars, model.W.dtype)
    vel = [torch.zeros_like(p) for p in (model.W, model.v_bias, model.h_bias)]
    hist = CFHistory()
    disable = config.progress_disabled() if progress is None else not progress
    n = r.shape[0]
    for epoch in tqdm(range(1, epochs + 1), desc="softmax RBM", unit="epoch", disable=disable):
        lr_e = lr * (1 - (epoch - 1) / epochs)
        order = torch.randperm(n, generator=generator)
        for s in range(0, n, batch_size):
            idx = order[s: s + batch_size]
            g = _cd(model, v_all[idx], m[idx], k, generator)
            with torch.no_grad():
                for u, p, gp in zip(vel, (model.W, model.v_bias, model.h_bias),
                                    (g.W, g.v_bias, g.h_bias), strict=True):
                    u.mul_(momentum).add_(gp, alpha=lr_e)
                    if p is model.W and weight_decay:
                        u.add_(p, alpha=-lr_e * weight_decay)
                    p.add_(u)
        guard.check_params(f"in epoch {epoch}")  # NaN or infinite parameters
        biggest = float(model.W.detach().abs().max())
        if biggest > max_weight:
            raise guard.error(f"in epoch {epoch}",
                              f"max |W| reached {biggest:.3g} > max_weight = {max_weight:g}")
        pred = model.predict(r)
        hist._add("epoch", epoch)
        hist._add("train_rmse", rmse(pred, r))
        if test is not None:
            hist._add("test_rmse", rmse(pred, t))
    return hist
