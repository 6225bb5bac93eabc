"""Joint-embedding self-supervised learning (SSL) on small images, with collapse measured.

A joint-embedding architecture encodes two augmented views of one image and is trained so that
the two embeddings agree. Read as an energy-based model, E(x, y) = D(enc(x), enc(y)) is low for
two views of one image; the danger is *collapse*, an encoder that maps every input to the same
point and makes every energy low. This module holds the pieces of notebook 12 (section 5–6)
and of notebook 13's feature comparison:

* data: ``augment`` (random shifts, pixel dropout and Gaussian noise of square images given as
  rows in [0, 1]); ``quadrant_masks`` and ``mask_quadrant`` for the toy I-JEPA;
* losses, each on (batch, d) embeddings: ``invariance_loss`` (mean squared distance, which
  collapses), ``info_nce`` (contrastive), ``vicreg_loss`` / ``vicreg_terms`` (regularised, as
  in the official VICReg code of Bardes, Ponce & LeCun 2022) and ``ema_predictor_loss``
  (architectural: a predictor plus an EMA target with stop-gradient, as in BYOL / I-JEPA);
* collapse measures: ``effective_rank`` (Roy & Vetterli 2007) and ``singular_values``;
* models and training: ``MLPEncoder``, ``train_joint_embedding`` (methods ``"invariance"``,
  ``"infonce"``, ``"vicreg"``, ``"ema_predictor"``), ``train_ijepa`` (a toy I-JEPA on 8×8
  digits, predicting a masked quadrant in representation space, or in pixel space for
  comparison), ``quadrant_features`` (its representation of an image), ``ema_update``;
* evaluation: ``embed`` and ``linear_probe`` (multinomial logistic regression whose L2
  strength is chosen on a validation split of the training features, never on test data).

Training follows the package's conventions: an explicit ``torch.Generator`` for weights,
batches and augmentations; ``tqdm.auto`` progress (quiet in fast mode); the per-epoch record in
``_training.History``; and the shared ``_training.DivergenceGuard``, which stops a diverging run
with a ``RuntimeError`` naming the fix.

Used by notebooks 12 (energy-based learning) and 13 (RBM vs modern methods).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from . import config
from ._training import DivergenceGuard, History, record_epoch
from ._validation import as_points, count, non_negative, positive

__all__ = [
    "JEPA_TARGETS",
    "METHODS",
    "MLPEncoder",
    "augment",
    "effective_rank",
    "ema_predictor_loss",
    "ema_update",
    "embed",
    "info_nce",
    "invariance_loss",
    "linear_probe",
    "mask_quadrant",
    "quadrant_features",
    "quadrant_masks",
    "singular_values",
    "train_ijepa",
    "train_joint_embedding",
    "vicreg_loss",
    "vicreg_terms",
]

#: The joint-embedding methods of ``train_joint_embedding``.
METHODS = ("invariance", "infonce", "vicreg", "ema_predictor")
#: What ``train_ijepa`` predicts for the masked quadrant.
JEPA_TARGETS = ("representation", "pixels")


# ----------------------------------------------------------------------------- input checks
def _side(n_features: int) -> int:
    side = math.isqrt(n_features)
    if side * side != n_features:
        raise ValueError(
            f"images must be square and given as rows of side² pixels (64 for 8×8 digits), got "
            f"{n_features} features per row"
        )
    return side


def _generator(generator) -> torch.Generator:
    if not isinstance(generator, torch.Generator):
        raise TypeError(
            f"generator must be a torch.Generator (e.g. torch.Generator().manual_seed(0)), got "
            f"{type(generator).__name__}"
        )
    return generator


def _fraction(value, name: str) -> float:
    v = non_negative(value, name)
    if v >= 1.0:
        raise ValueError(f"{name} must be a fraction in [0, 1), got {value!r}")
    return v


def _pair(z_a, z_b, min_rows: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    z_a = as_points(z_a, name="z_a")
    z_b = as_points(z_b, name="z_b")
    if z_a.shape != z_b.shape:
        raise ValueError(
            f"z_a and z_b must have the same shape (one row per image, the two views in the "
            f"same order), got {tuple(z_a.shape)} and {tuple(z_b.shape)}"
        )
    if z_a.shape[0] < min_rows:
        raise ValueError(f"need a batch of at least {min_rows} rows, got {z_a.shape[0]}")
    return z_a, z_b


# ----------------------------------------------------------------------------- augmentations
def augment(x, generator: torch.Generator, shift: int = 1, dropout: float = 0.1,
            noise: float = 0.1) -> torch.Tensor:
    """A random view of each image: shift, pixel dropout, Gaussian noise, clipped to [0, 1].

    Each image (a row of side² pixels, 8×8 digits by default) is shifted by an integer number
    of pixels drawn uniformly from {-shift, …, shift} in each direction (pixels moved in are
    0, the background), then each pixel is set to 0 with probability ``dropout``, then
    Gaussian noise of standard deviation ``noise`` is added and the result clipped to [0, 1].

    Args:
        x: (batch, side²) images with values in [0, 1].
        generator: the torch generator all randomness is drawn from.
        shift: largest shift in pixels (0 for none), less than the side.
        dropout: probability that a pixel is zeroed, in [0, 1).
        noise: standard deviation of the added noise, ≥ 0.

    Returns:
        (batch, side²) augmented images, a new tensor.

    Raises:
        ValueError: for non-square rows, a bad shift, dropout or noise. TypeError: for a
            missing generator.
    """
    x = as_points(x, name="x")
    gen = _generator(generator)
    side = _side(x.shape[1])
    shift = count(shift, "shift", minimum=0)
    if shift >= side:
        raise ValueError(f"shift must be smaller than the image side {side}, got {shift}")
    dropout = _fraction(dropout, "dropout")
    noise = non_negative(noise, "noise")
    n = x.shape[0]
    out = x.reshape(n, side, side)
    if shift:
        padded = F.pad(out, (shift, shift, shift, shift))
        dy = torch.randint(0, 2 * shift + 1, (n,), generator=gen)
        dx = torch.randint(0, 2 * shift + 1, (n,), generator=gen)
        rows = (dy[:, None] + torch.arange(side))[:, :, None]  # (n, side, 1)
        cols = (dx[:, None] + torch.arange(side))[:, None, :]  # (n, 1, side)
        out = padded[torch.arange(n)[:, None, None], rows, cols]
    out = out.reshape(n, -1)
    if dropout:
        keep = torch.rand(out.shape, generator=gen, dtype=out.dtype) >= dropout
        out = out * keep
    if noise:
        out = out + noise * torch.randn(out.shape, generator=gen, dtype=out.dtype)
    return out.clamp(0.0, 1.0)


def quadrant_masks(side: int = 8) -> torch.Tensor:
    """Boolean masks (4, side²) of the four quadrants of a square image given as a row.

    Quadrant 0 is the top left, 1 the top right, 2 the bottom left, 3 the bottom right.
    """
    side = count(side, "side", minimum=2)
    if side % 2:
        raise ValueError(f"the image side must be even to split it into quadrants, got {side}")
    h = side // 2
    grid = torch.zeros(4, side, side, dtype=torch.bool)
    for q in range(4):
        r, c = divmod(q, 2)
        grid[q, r * h:(r + 1) * h, c * h:(c + 1) * h] = True
    return grid.reshape(4, side * side)


def mask_quadrant(x, quadrant, keep: bool = False) -> torch.Tensor:
    """Zero one quadrant of each image (``keep=False``) or everything else (``keep=True``).

    Args:
        x: (batch, side²) images.
        quadrant: (batch,) integer quadrant per image, or one int for all, in 0..3.
        keep: keep only the quadrant instead of hiding it.

    Returns:
        (batch, side²) masked images.
    """
    x = as_points(x, name="x")
    masks = quadrant_masks(_side(x.shape[1]))
    q = torch.as_tensor(quadrant)
    if q.dtype.is_floating_point or q.dtype == torch.bool:
        raise ValueError(f"quadrant must be integers in 0..3, got dtype {q.dtype}")
    q = q.expand(x.shape[0]) if q.ndim == 0 else q
    if q.shape != (x.shape[0],) or q.min() < 0 or q.max() > 3:
        raise ValueError(f"quadrant must be one integer in 0..3 or one per row of x "
                         f"({x.shape[0]}), got {quadrant!r}")
    m = masks[q]
    return x * (m if keep else ~m).to(x.dtype)


# ----------------------------------------------------------------------------- losses
def invariance_loss(z_a, z_b) -> torch.Tensor:
    """Mean squared distance between the two views' embeddings, (1/(n d)) Σ ‖z_a − z_b‖².

    The energy of a joint-embedding EBM with nothing against collapse: a constant encoder
    makes it zero. (VICReg's invariance term is this, times ``sim_weight``.)
    """
    z_a, z_b = _pair(z_a, z_b)
    return F.mse_loss(z_a, z_b)


def info_nce(z_a, z_b, temperature: float = 0.2) -> torch.Tensor:
    """The InfoNCE loss with matching rows as positives, averaged over both directions.

    With cosine similarities s_ij = ⟨z_a,i, z_b,j⟩ / (‖z_a,i‖ ‖z_b,j‖) as logits divided by the
    temperature τ,

        L = ½ [ mean_i CE(s_i· / τ, i) + mean_j CE(s_·j / τ, j) ],

    i.e. −log of the softmax probability that view a of image i picks its own view b among the
    batch (and the other way round): the n − 1 other images are the negatives, pushed up.

    Args:
        z_a, z_b: (n, d) embeddings of the two views, row i of both from image i; n ≥ 2.
        temperature: τ > 0.

    Returns:
        A scalar tensor (nats).
    """
    z_a, z_b = _pair(z_a, z_b, min_rows=2)
    tau = positive(temperature, "temperature")
    logits = F.normalize(z_a, dim=1) @ F.normalize(z_b, dim=1).T / tau
    target = torch.arange(z_a.shape[0])
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def _off_diagonal(m: torch.Tensor) -> torch.Tensor:
    return m[~torch.eye(m.shape[0], dtype=torch.bool)]


def vicreg_terms(z_a, z_b, eps: float = 1e-4) -> dict[str, torch.Tensor]:
    """The three unweighted terms of the VICReg loss (Bardes, Ponce & LeCun 2022).

    As in the official implementation: invariance = mean squared error between the views;
    variance = ½ Σ_views mean_k relu(1 − √(Var z_k + ε)) with the unbiased variance over the
    batch; covariance = Σ_views Σ_{k≠l} C_kl² / d with C the unbiased covariance matrix.

    Args:
        z_a, z_b: (n, d) embeddings of the two views, n ≥ 2 (the variance of one row is
            undefined).
        eps: ε inside the square root.

    Returns:
        ``{"invariance", "variance", "covariance"}`` scalar tensors.
    """
    z_a, z_b = as_points(z_a, name="z_a"), as_points(z_b, name="z_b")
    if z_a.shape[0] < 2 or z_b.shape[0] < 2:
        raise ValueError(
            f"VICReg needs a batch of at least 2 rows: the variance term is undefined for one "
            f"row (got {z_a.shape[0]}); use a larger batch_size"
        )
    z_a, z_b = _pair(z_a, z_b, min_rows=2)
    eps = positive(eps, "eps")
    n, d = z_a.shape
    invariance = F.mse_loss(z_a, z_b)
    variance = z_a.new_zeros(())
    covariance = z_a.new_zeros(())
    for z in (z_a, z_b):
        z = z - z.mean(dim=0)
        std = torch.sqrt(z.var(dim=0) + eps)
        variance = variance + F.relu(1.0 - std).mean() / 2
        cov = (z.T @ z) / (n - 1)
        covariance = covariance + _off_diagonal(cov).pow(2).sum() / d
    return {"invariance": invariance, "variance": variance, "covariance": covariance}


def vicreg_loss(z_a, z_b, sim_weight: float = 25.0, var_weight: float = 25.0,
                cov_weight: float = 1.0, eps: float = 1e-4) -> torch.Tensor:
    """The VICReg loss: λ·invariance + μ·variance + ν·covariance (``vicreg_terms``).

    The invariance term alone collapses; the variance term (a hinge keeping every embedding
    coordinate's standard deviation at least 1 over the batch) forbids collapse to a point,
    and the covariance term (decorrelating the coordinates) forbids collapse to a line.
    Defaults are the paper's λ = μ = 25, ν = 1.

    Args:
        z_a, z_b: (n, d) embeddings of the two views, n ≥ 2.
        sim_weight, var_weight, cov_weight: λ, μ, ν ≥ 0.
        eps: ε inside the square root of the variance.

    Returns:
        A scalar tensor.
    """
    terms = vicreg_terms(z_a, z_b, eps)
    lam = non_negative(sim_weight, "sim_weight")
    mu = non_negative(var_weight, "var_weight")
    nu = non_negative(cov_weight, "cov_weight")
    return lam * terms["invariance"] + mu * terms["variance"] + nu * terms["covariance"]


def ema_predictor_loss(prediction, target) -> torch.Tensor:
    """BYOL's loss: mean over rows of ‖p/‖p‖ − t/‖t‖‖² = 2 − 2 cos(p, t); no gradient to t.

    Args:
        prediction: (n, d) predictor outputs of the online branch.
        target: (n, d) embeddings from the EMA target branch (detached here: stop-gradient).
    """
    p, t = _pair(prediction, target)
    return (2 - 2 * F.cosine_similarity(p, t.detach(), dim=1)).mean()


# ----------------------------------------------------------------------------- collapse
def singular_values(z, center: bool = True) -> torch.Tensor:
    """The spectrum of a batch of embeddings: singular values / √(n − 1), descending.

    With ``center=True`` these are the standard deviations of the embeddings along their
    principal axes (the square roots of the covariance eigenvalues): a collapsed embedding has
    all of them near zero, a dimensionally collapsed one only a few clearly above zero.

    Args:
        z: (n, d) embeddings, n ≥ 2.
        center: subtract the mean embedding first.

    Returns:
        (min(n, d),) non-negative values, largest first.
    """
    z = as_points(z, name="z").detach().double()
    if z.shape[0] < 2:
        raise ValueError("need at least 2 embeddings to measure a spectrum")
    if center:
        z = z - z.mean(dim=0)
    return (torch.linalg.svdvals(z) / math.sqrt(z.shape[0] - 1)).float()


def effective_rank(z) -> float:
    """Effective rank of a matrix (Roy & Vetterli 2007): exp of the entropy of its spectrum.

    With singular values s_k of z (uncentred) and p_k = s_k / Σ_j s_j,
    erank = exp(−Σ_k p_k log p_k): between 1 (rank one, e.g. every row the same vector — a
    collapsed embedding) and min(n, d) (all singular values equal). A zero matrix has
    effective rank 0 by convention.

    Args:
        z: (n, d) embeddings.

    Returns:
        A float.
    """
    z = as_points(z, name="z").detach().double()
    s = torch.linalg.svdvals(z)
    total = s.sum()
    if total <= 0:
        return 0.0
    p = s / total
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))


# ----------------------------------------------------------------------------- models
def _init_(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """PyTorch's default Linear initialisation, U(−1/√fan_in, 1/√fan_in), drawn from the given
    generator so that training is reproducible without touching the global random state."""
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, nn.Linear):
                bound = 1.0 / math.sqrt(layer.in_features)
                nn.init.uniform_(layer.weight, -bound, bound, generator=generator)
                if layer.bias is not None:
                    nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
    return module


def _mlp(sizes) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _head(n_in: int, width: int, n_out: int) -> nn.Sequential:
    """A projector / predictor head: Linear, batch norm, ReLU, Linear (as in SimCLR, BYOL and
    VICReg)."""
    return nn.Sequential(nn.Linear(n_in, width), nn.BatchNorm1d(width), nn.ReLU(),
                         nn.Linear(width, n_out))


class MLPEncoder(nn.Module):
    """enc(x): a ReLU MLP mapping (batch, n_in) images to (batch, embed_dim) representations.

    Args:
        n_in: input features (64 for 8×8 digits).
        embed_dim: representation size d.
        hidden: widths of the hidden layers.
        generator: draws the initial weights (default: PyTorch's global generator).
    """

    def __init__(self, n_in: int = 64, embed_dim: int = 32, hidden=(256,),
                 generator: torch.Generator | None = None):
        super().__init__()
        self.n_in = count(n_in, "n_in")
        self.embed_dim = count(embed_dim, "embed_dim")
        widths = [count(h, "hidden width") for h in hidden]
        self.net = _mlp([self.n_in, *widths, self.embed_dim])
        if generator is not None:
            _init_(self, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != self.n_in:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"the encoder expects a (batch, {self.n_in}) tensor, got {shape}")
        return self.net(x)


@torch.no_grad()
def ema_update(target: nn.Module, online: nn.Module, momentum: float) -> None:
    """θ_target ← m θ_target + (1 − m) θ_online, parameter by parameter (in place)."""
    m = float(momentum)
    if not 0.0 <= m <= 1.0:
        raise ValueError(f"momentum must be in [0, 1], got {momentum!r}")
    for p_t, p_o in zip(target.parameters(), online.parameters(), strict=True):
        p_t.mul_(m).add_(p_o.detach(), alpha=1.0 - m)


def _frozen_copy(module: nn.Module) -> nn.Module:
    target = copy.deepcopy(module)
    for p in target.parameters():
        p.requires_grad_(False)
    return target


def quadrant_features(encoder: nn.Module, x) -> torch.Tensor:
    """The representations of the four quadrants of each image, concatenated: (n, 4 d).

    Quadrant q's representation is ``embed(encoder, mask_quadrant(x, q, keep=True))``, the
    encoding of the image with everything outside q set to 0 — what the toy I-JEPA's target
    encoder is trained on (``train_ijepa``).
    """
    x = as_points(x, name="x")
    return torch.cat([embed(encoder, mask_quadrant(x, q, keep=True)) for q in range(4)], dim=1)


def embed(encoder: nn.Module, x) -> torch.Tensor:
    """The encoder's representations of ``x``, (n, d), without gradients, in eval mode."""
    if not isinstance(encoder, nn.Module):
        raise TypeError(f"encoder must be a torch module, got {type(encoder).__name__}")
    x = as_points(x, name="x")
    was_training = encoder.training
    encoder.eval()
    try:
        with torch.no_grad():
            z = encoder(x)
    finally:
        encoder.train(was_training)
    return z.detach()


# ----------------------------------------------------------------------------- training
def _fit(x: torch.Tensor, loss_fn: Callable[[torch.Tensor], tuple[torch.Tensor, dict]],
         params: list, epochs: int, batch_size: int, lr: float, generator: torch.Generator,
         progress: bool | None, after_step: Callable[[], None] | None, what: str,
         callback: Callable | None, model: nn.Module, max_loss: float,
         monitor: Callable[[], dict]) -> History:
    """The loop shared by ``train_joint_embedding`` and ``train_ijepa``: shuffled minibatches
    (the last, incomplete one dropped: the batch statistics of VICReg and InfoNCE need full
    batches), Adam on ``loss_fn(batch)``, ``after_step()`` (the EMA update), per-epoch means
    plus the collapse measures ``monitor()`` returns at the end of each epoch."""
    optimizer = torch.optim.Adam(params, lr=lr)
    guard = DivergenceGuard(
        f"{what} training", f"lower lr (now {lr:g}), e.g. 10× (1e-3 is typical for Adam), and "
        "pass images in [0, 1]", params=params, max_loss=max_loss)
    history = History()
    n = x.shape[0]
    batch = min(batch_size, n)
    show = (not config.progress_disabled()) if progress is None else bool(progress)
    for epoch in tqdm(range(1, epochs + 1), disable=not show, desc=f"{what} training",
                      leave=False):
        order = torch.randperm(n, generator=generator)
        sums: dict[str, float] = {}
        n_steps = n // batch
        for b in range(n_steps):
            loss, parts = loss_fn(x[order[b * batch:(b + 1) * batch]])
            value = guard.check_loss(f"in epoch {epoch}", loss)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if after_step is not None:
                after_step()
            for key, v in {"loss": value, **parts}.items():
                sums[key] = sums.get(key, 0.0) + float(v)
        guard.check_params(f"in epoch {epoch}")
        means = {k: v / n_steps for k, v in sums.items()}
        record_epoch(history, {"epoch": epoch, **means, **monitor()}, callback, epoch, model)
    return history


def _collapse_monitor(x: torch.Tensor, encoder: nn.Module,
                      head: nn.Module | None) -> Callable[[], dict]:
    """Collapse measures on a fixed set of (un-augmented) training images, in eval mode:
    ``rank``, the effective rank of the representations, and, with a projector ``head``,
    ``embedding_rank`` and ``embedding_std`` (mean standard deviation of the embedding's
    coordinates over the images), the space in which the loss is computed."""
    probe_x = x[:512]

    def monitor() -> dict:
        z = embed(encoder, probe_x)
        out = {"rank": effective_rank(z)}
        if head is not None:
            e = embed(head, z)
            out["embedding_rank"] = effective_rank(e)
            out["embedding_std"] = float(e.std(dim=0).mean())
        return out

    return monitor


def _check_training_args(x, epochs, batch_size, lr, embed_dim, generator):
    x = as_points(x, name="x")
    if x.shape[0] < 2:
        raise ValueError(f"need at least 2 images to train on, got {x.shape[0]}")
    if float(x.min()) < 0 or float(x.max()) > 1:
        raise ValueError(
            f"images must have values in [0, 1] (got {float(x.min()):.3g} to "
            f"{float(x.max()):.3g}); scale them, e.g. x / x.max()"
        )
    return (x, count(epochs, "epochs"), count(batch_size, "batch_size", minimum=2),
            positive(lr, "lr"), count(embed_dim, "embed_dim"), _generator(generator))


def train_joint_embedding(
    x,
    method: str,
    *,
    epochs: int,
    batch_size: int = 256,
    lr: float = 1e-3,
    embed_dim: int = 32,
    generator: torch.Generator,
    progress: bool | None = None,
    hidden=(256,),
    proj_dim: int = 64,
    head_width: int = 256,
    temperature: float = 0.2,
    momentum: float = 0.99,
    vicreg_weights: tuple[float, float, float] = (25.0, 25.0, 1.0),
    augment_kwargs: dict | None = None,
    callback: Callable | None = None,
    max_loss: float = 1e6,
) -> tuple[MLPEncoder, History]:
    """Train an encoder on pairs of augmented views with one of four joint-embedding methods.

    Each step draws a minibatch, makes two views a, b of every image with ``augment``, embeds
    them with the encoder and a projector (Linear d → ``head_width``, batch norm, ReLU, Linear
    → ``proj_dim``, as in SimCLR, BYOL and VICReg), and minimises

    * ``"invariance"``: ``invariance_loss`` only — nothing stops collapse;
    * ``"infonce"``: ``info_nce`` (contrastive: the other images of the batch are pushed away);
    * ``"vicreg"``: ``vicreg_loss`` (regularised: variance and covariance terms);
    * ``"ema_predictor"``: BYOL's architecture: a predictor on the online branch regresses the
      embedding of the other view computed by a *target* encoder + projector that gets no
      gradient and follows the online weights as an exponential moving average (momentum m);
      the loss is ``ema_predictor_loss``, symmetrised over the two views.

    The projector (and predictor) are discarded: the encoder's output is the representation.

    Args:
        x: (n, side²) training images in [0, 1] (labels are never used).
        method: one of ``METHODS``.
        epochs: passes over the data (the incomplete last minibatch is dropped).
        batch_size: images per step (≥ 2; a batch is also the set of InfoNCE negatives).
        lr: Adam learning rate.
        embed_dim: representation size d.
        generator: draws the initial weights, the minibatches and the augmentations.
        progress: tqdm bar over epochs; ``None`` follows ``config.progress_disabled()``.
        hidden: hidden widths of the encoder.
        proj_dim: output size of the projector.
        head_width: hidden width of the projector and the predictor.
        temperature: τ of InfoNCE.
        momentum: m of the EMA target (``"ema_predictor"``).
        vicreg_weights: (λ, μ, ν) of ``vicreg_loss``.
        augment_kwargs: ``shift``, ``dropout``, ``noise`` passed to ``augment``.
        callback: ``callback(epoch, encoder, metrics)`` after each epoch; may return a dict of
            values to record.
        max_loss: a minibatch loss above this stops training; so do a non-finite loss, a loss
            grown 1000× beyond its first value and runaway weights (``_training.DivergenceGuard``).

    Returns:
        ``(encoder, history)``: the trained ``MLPEncoder`` (in eval mode) and a ``History`` with,
        per epoch, the mean ``loss`` (and, for VICReg, its three terms) and the collapse
        measures on up to 512 un-augmented training images: ``rank`` (effective rank of the
        representations), ``embedding_rank`` and ``embedding_std`` (effective rank and mean
        per-coordinate standard deviation of the projector's output, where the loss lives).

    Raises:
        ValueError: bad data or arguments. TypeError: no ``torch.Generator``.
        RuntimeError: when the loss diverges, naming the fix.
    """
    x, epochs, batch_size, lr, embed_dim, gen = _check_training_args(
        x, epochs, batch_size, lr, embed_dim, generator)
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    tau = positive(temperature, "temperature")
    weights = tuple(non_negative(w, "vicreg weight") for w in vicreg_weights)
    if len(weights) != 3:
        raise ValueError("vicreg_weights must be three numbers (λ, μ, ν)")
    momentum = float(momentum)
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    proj_dim = count(proj_dim, "proj_dim")
    head_width = count(head_width, "head_width")
    views = dict(augment_kwargs or {})
    augment(x[:1], torch.Generator(), **views)  # fail early on bad augmentation settings

    encoder = MLPEncoder(x.shape[1], embed_dim, hidden, generator=gen)
    projector = _init_(_head(embed_dim, head_width, proj_dim), gen)
    online = nn.Sequential(encoder, projector)
    params = list(online.parameters())
    after_step = None
    if method == "ema_predictor":
        predictor = _init_(_head(proj_dim, head_width, proj_dim), gen)
        params += list(predictor.parameters())
        target = _frozen_copy(online)

        def after_step() -> None:
            ema_update(target, online, momentum)

    def loss_fn(batch: torch.Tensor):
        a, b = augment(batch, gen, **views), augment(batch, gen, **views)
        z_a, z_b = online(a), online(b)
        if method == "invariance":
            return invariance_loss(z_a, z_b), {}
        if method == "infonce":
            return info_nce(z_a, z_b, tau), {}
        if method == "vicreg":
            terms = vicreg_terms(z_a, z_b)
            loss = sum(w * t for w, t in zip(weights, terms.values(), strict=True))
            return loss, {k: float(v.detach()) for k, v in terms.items()}
        with torch.no_grad():
            t_a, t_b = target(a), target(b)
        loss = 0.5 * (ema_predictor_loss(predictor(z_a), t_b)
                      + ema_predictor_loss(predictor(z_b), t_a))
        return loss, {}

    history = _fit(x, loss_fn, params, epochs, batch_size, lr, gen, progress, after_step,
                   f"{method} joint-embedding", callback, encoder, max_loss,
                   _collapse_monitor(x, encoder, projector))
    return encoder.eval(), history


def train_ijepa(
    x,
    *,
    epochs: int,
    target: str = "representation",
    batch_size: int = 256,
    lr: float = 1e-3,
    embed_dim: int = 32,
    generator: torch.Generator,
    progress: bool | None = None,
    hidden=(256,),
    momentum: float = 0.996,
    final_momentum: float = 1.0,
    callback: Callable | None = None,
    max_loss: float = 1e6,
) -> tuple[MLPEncoder, History]:
    """A toy I-JEPA on square images: predict a masked quadrant from the rest of the image.

    Each step picks one quadrant q per image. The *context encoder* sees the image with
    quadrant q set to 0; a predictor (an MLP on the context representation and the one-hot
    code of q) predicts

    * ``target="representation"`` (the JEPA): the representation of quadrant q — the image
      with everything but q set to 0 — computed by a *target encoder* that gets no gradient
      and follows the context encoder as an exponential moving average (momentum m). As in the
      I-JEPA code (Assran et al. 2023), each target is layer-normalised over its features and
      the loss is the smooth-L1 distance in representation space;
    * ``target="pixels"``: the pixels of quadrant q (mean squared error in pixel space), a
      masked-autoencoder-style baseline with the same encoder, predictor and budget.

    Args:
        x: (n, side²) images in [0, 1], side even (8×8 digits: 4×4 quadrants).
        epochs, batch_size, lr, embed_dim, generator, progress, hidden, callback, max_loss:
            as in ``train_joint_embedding``.
        target: one of ``JEPA_TARGETS``.
        momentum: m of the EMA target encoder at the first step; it rises linearly to
            ``final_momentum`` at the last step (I-JEPA's schedule; equal values: constant).

    Evaluate the result with ``quadrant_features`` (the representations of the four quadrants,
    like the patch representations I-JEPA's probes read).

    Returns:
        ``(encoder, history)``: the target encoder for the JEPA (I-JEPA evaluates the target
        encoder), the context encoder for the pixel baseline; ``history`` holds the mean
        ``loss`` and the ``rank`` of full-image representations per epoch.

    Raises:
        ValueError, TypeError, RuntimeError: as ``train_joint_embedding``.
    """
    x, epochs, batch_size, lr, embed_dim, gen = _check_training_args(
        x, epochs, batch_size, lr, embed_dim, generator)
    if target not in JEPA_TARGETS:
        raise ValueError(f"unknown target {target!r}; choose one of {', '.join(JEPA_TARGETS)}")
    momentum = float(momentum)
    final_momentum = float(final_momentum)
    if not 0.0 <= momentum < 1.0 or not momentum <= final_momentum <= 1.0:
        raise ValueError(f"need 0 ≤ momentum < 1 and momentum ≤ final_momentum ≤ 1, got "
                         f"{momentum} and {final_momentum}")
    side = _side(x.shape[1])
    masks = quadrant_masks(side)
    n_quadrant = int(masks[0].sum())
    encoder = MLPEncoder(x.shape[1], embed_dim, hidden, generator=gen)
    out_dim = embed_dim if target == "representation" else n_quadrant
    predictor = _init_(_mlp([embed_dim + 4, 128, out_dim]), gen)
    params = list(encoder.parameters()) + list(predictor.parameters())
    target_encoder = _frozen_copy(encoder) if target == "representation" else None
    after_step = None
    if target_encoder is not None:
        n_updates = epochs * (x.shape[0] // min(batch_size, x.shape[0]))
        done = [0]

        def after_step() -> None:
            # I-JEPA's schedule: the momentum rises linearly to final_momentum, so the target
            # changes ever more slowly as training ends
            m = momentum + (final_momentum - momentum) * done[0] / max(n_updates - 1, 1)
            ema_update(target_encoder, encoder, m)
            done[0] += 1

    def loss_fn(batch: torch.Tensor):
        q = torch.randint(0, 4, (batch.shape[0],), generator=gen)
        context = encoder(mask_quadrant(batch, q))
        prediction = predictor(torch.cat([context, F.one_hot(q, 4).to(context.dtype)], 1))
        if target_encoder is None:
            wanted = batch[masks[q]].reshape(batch.shape[0], n_quadrant)
        else:
            with torch.no_grad():
                wanted = target_encoder(mask_quadrant(batch, q, keep=True))
                # as the I-JEPA code: normalise each target over its features, so the targets
                # cannot shrink towards a point, and regress them with a smooth L1 loss
                wanted = F.layer_norm(wanted, (wanted.shape[1],))
            return F.smooth_l1_loss(prediction, wanted), {}
        return F.mse_loss(prediction, wanted), {}

    what = "I-JEPA" if target_encoder is not None else "pixel-prediction"
    history = _fit(x, loss_fn, params, epochs, batch_size, lr, gen, progress, after_step, what,
                   callback, encoder, max_loss, _collapse_monitor(x, encoder, None))
    return (target_encoder if target_encoder is not None else encoder).eval(), history


# ----------------------------------------------------------------------------- evaluation
def _as_numpy_features(f, name: str) -> np.ndarray:
    return as_points(f, name=name).detach().cpu().double().numpy()


def _as_numpy_labels(y, n: int, name: str) -> np.ndarray:
    y = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"{name} must be a vector of {n} labels (one per row of the features), "
                         f"got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{name} must be integer class labels, got dtype {y.dtype}")
    return y


def linear_probe(
    train_features,
    train_labels,
    test_features,
    test_labels,
    *,
    val_fraction: float = 0.2,
    Cs=(0.01, 0.1, 1.0, 10.0, 100.0),
    seed: int = 0,
) -> dict:
    """Linear-probe accuracy: a multinomial logistic regression on frozen features.

    The features are standardised (mean and scale of the training features), and the inverse
    L2 strength C is chosen on a stratified validation split carved from the *training*
    features (``val_fraction`` of them): the C with the best validation accuracy, ties broken
    by the lower validation log-loss. The probe is then refitted on all training features
    with that C and scored once on the test features.

    Args:
        train_features: (n_train, d) features; train_labels: (n_train,) integer labels.
        test_features: (n_test, d) features; test_labels: (n_test,) integer labels.
        val_fraction: share of the training features held out to choose C, in (0, 1).
        Cs: candidate values of C (> 0).
        seed: the validation split's random state.

    Returns:
        ``{"accuracy": test accuracy, "C": the chosen C, "val_accuracy": {C: accuracy}}``.

    Raises:
        ValueError: mismatched shapes, non-integer labels, test classes unseen in training, a
            bad ``val_fraction`` or C, or too few examples per class to carve a validation split.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    f_train = _as_numpy_features(train_features, "train_features")
    f_test = _as_numpy_features(test_features, "test_features")
    if f_train.shape[1] != f_test.shape[1]:
        raise ValueError(f"train and test features differ in width: {f_train.shape[1]} and "
                         f"{f_test.shape[1]}")
    y_train = _as_numpy_labels(train_labels, f_train.shape[0], "train_labels")
    y_test = _as_numpy_labels(test_labels, f_test.shape[0], "test_labels")
    classes = np.unique(y_train)
    if len(classes) < 2:
        raise ValueError("the training labels hold a single class; a probe needs at least two")
    unseen = np.setdiff1d(np.unique(y_test), classes)
    if unseen.size:
        raise ValueError(f"test labels {unseen.tolist()} never occur in the training labels")
    val_fraction = float(val_fraction)
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    Cs = [positive(c, "C") for c in Cs]
    if not Cs:
        raise ValueError("give at least one candidate C")
    n_val = math.ceil(val_fraction * len(y_train))
    smallest = int(np.bincount(np.searchsorted(classes, y_train)).min())
    if smallest < 2 or n_val < len(classes) or len(y_train) - n_val < len(classes):
        raise ValueError(
            f"too few training examples to carve a stratified validation split: {len(y_train)} "
            f"examples, {len(classes)} classes, the smallest with {smallest}; give at least 2 per "
            "class and a val_fraction that leaves one per class on each side"
        )
    fit_rows, val_rows = train_test_split(np.arange(len(y_train)), test_size=n_val,
                                          stratify=y_train, random_state=int(seed))

    def probe(C):
        return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))

    scores = {}
    with warnings.catch_warnings():
        # a large C on separable features stops at max_iter with a slightly unconverged but
        # perfectly usable probe; the validation split judges it like any other
        warnings.simplefilter("ignore", ConvergenceWarning)
        for C in Cs:
            model = probe(C).fit(f_train[fit_rows], y_train[fit_rows])
            proba = model.predict_proba(f_train[val_rows])
            acc = float((model.classes_[proba.argmax(1)] == y_train[val_rows]).mean())
            nll = float(log_loss(y_train[val_rows], proba, labels=model.classes_))
            scores[C] = (acc, -nll)
        best = max(Cs, key=lambda c: scores[c])
        final = probe(best).fit(f_train, y_train)
    accuracy = float((final.predict(f_test) == y_test).mean())
    return {"accuracy": accuracy, "C": best, "val_accuracy": {c: scores[c][0] for c in Cs}}
