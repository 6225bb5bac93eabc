"""Neural energy-based models: energies given by networks, trained with short-run Langevin.

* ``MLPEnergy`` and ``ConvEnergy``: networks mapping (batch, features) to energies (batch,);
  ``MLPClassifier``: logits (batch, classes), read as an energy by JEM.
* ``ReplayBuffer``: the persistent sample buffer of Du & Mordatch (2019): Langevin chains start
  from stored samples, except a fraction ``reinit_prob`` that restarts from noise.
* ``contrastive_loss`` and ``train_ebm``: maximum likelihood by contrastive divergence,
  ∇_θ L = E_data[∇_θ E] - E_model[∇_θ E], with the model expectation taken over short-run
  Langevin samples, plus the energy-magnitude penalty α (E(x⁺)² + E(x⁻)²).
* JEM (Grathwohl et al. 2019): ``jem_log_px`` (log p(x) = logsumexp_y f(x)[y] - log Z),
  ``class_energy`` (E(x, y) = -f(x)[y]), ``marginal_energy`` and ``train_jem`` (cross-entropy
  for p(y|x) plus the contrastive loss for p(x) with SGLD samples).

Langevin noise and step size are coupled (noise std √(2ε), ``samplers.langevin``); the common
decoupled practice is available through ``noise_scale`` so notebooks can show its effect.
Training stops with a ``RuntimeError`` naming the fix when energies explode or turn non-finite.

Used by notebooks 07 (MLP EBMs on 2D toys and digits), 10 (JEM) and 11 (anomaly detection).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from . import _nets, config
from ._training import DivergenceGuard, History, record_epoch
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
    number,
    positive,
    widths,
)
from .samplers import langevin

__all__ = [
    "ConvEnergy",
    "EBMHistory",
    "MLPClassifier",
    "MLPEnergy",
    "ReplayBuffer",
    "class_energy",
    "contrastive_loss",
    "jem_log_px",
    "marginal_energy",
    "short_run_samples",
    "train_ebm",
    "train_jem",
    "uniform_init",
]

InitFn = Callable[[int, torch.Generator | None], torch.Tensor]


def _mlp(n_in: int, hidden, n_out: int) -> nn.Sequential:
    hidden = widths(hidden)
    if not hidden:
        raise ValueError("hidden must list at least one layer width, e.g. (128, 128)")
    layers: list[nn.Module] = []
    for width in hidden:
        # SiLU, not ReLU: Langevin follows ∇_x E, and ReLU's piecewise-constant gradient makes
        # the landscape flat almost everywhere.
        layers += [nn.Linear(n_in, width), nn.SiLU()]
        n_in = width
    layers.append(nn.Linear(n_in, n_out))
    return nn.Sequential(*layers)


class MLPEnergy(nn.Module):
    """E_θ(x) = MLP(x): a fully connected energy, (batch, n_features) -> (batch,).

    Inputs of another floating dtype (e.g. NumPy's float64) are converted to the weights' dtype.

    Args:
        n_features: input dimension.
        hidden: widths of the hidden layers (SiLU activations).
        generator: torch generator for the initial weights (PyTorch's default distribution);
            ``None`` uses the global generator, as ``nn.Linear`` does.
    """

    def __init__(self, n_features: int, hidden=(128, 128),
                 generator: torch.Generator | None = None):
        super().__init__()
        self.n_features = count(n_features, "n_features")
        self.net = _nets.build(lambda: _mlp(self.n_features, hidden, 1), as_generator(generator))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(_features(x, self.n_features, self.net[0].weight)).squeeze(1)


class MLPClassifier(nn.Module):
    """f_θ(x): logits (batch, n_classes) of an MLP; JEM reads them as energies E(x, y) = -f(x)[y].

    Args:
        n_features: input dimension.
        n_classes: number of classes.
        hidden: widths of the hidden layers (SiLU activations).
        generator: torch generator for the initial weights (``None``: the global one).
    """

    def __init__(self, n_features: int, n_classes: int, hidden=(128, 128),
                 generator: torch.Generator | None = None):
        super().__init__()
        self.n_features = count(n_features, "n_features")
        self.n_classes = count(n_classes, "n_classes", minimum=2)
        self.net = _nets.build(lambda: _mlp(self.n_features, hidden, self.n_classes),
                               as_generator(generator))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(_features(x, self.n_features, self.net[0].weight))


class ConvEnergy(nn.Module):
    """A small convolutional energy for images given as rows, (batch, H·W) -> (batch,).

    Two 3×3 convolutions (the second with stride 2), SiLU activations, global average pooling
    and a linear read-out: translation-aware features for 8×8 digits at a few thousand weights.

    Args:
        image_shape: (H, W) of one image; rows of the input are the flattened images.
        channels: channels of the two convolutions.
        generator: torch generator for the initial weights (``None``: the global one).
    """

    def __init__(self, image_shape: tuple[int, int] = (8, 8), channels=(32, 64),
                 generator: torch.Generator | None = None):
        super().__init__()
        try:
            self.image_shape = tuple(count(s, "image side") for s in image_shape)
            c1, c2 = (count(c, "channels") for c in channels)
        except TypeError as err:
            raise ValueError(f"image_shape must be (H, W) and channels two numbers, got "
                             f"{image_shape!r} and {channels!r}") from err
        if len(self.image_shape) != 2:
            raise ValueError(f"image_shape must be (H, W), got {image_shape!r}")
        self.n_features = self.image_shape[0] * self.image_shape[1]
        generator = as_generator(generator)
        with _nets.deferred(generator):
            self.conv = nn.Sequential(
                nn.Conv2d(1, c1, 3, padding=1), nn.SiLU(),
                nn.Conv2d(c1, c2, 3, stride=2, padding=1), nn.SiLU(),
                nn.Conv2d(c2, c2, 3, padding=1), nn.SiLU(),
            )
            self.head = nn.Linear(c2, 1)
        _nets.materialize_(self, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _features(x, self.n_features, self.head.weight).reshape(-1, 1, *self.image_shape)
        return self.head(self.conv(x).mean(dim=(2, 3))).squeeze(1)


def _features(x, n_features: int, like: torch.Tensor) -> torch.Tensor:
    """Check a (batch, n_features) input and convert it to the dtype/device of ``like``."""
    shape = tuple(np.shape(x)) if not isinstance(x, torch.Tensor) else tuple(x.shape)
    if len(shape) != 2 or shape[1] != n_features:
        raise ValueError(
            f"expected a (batch, {n_features}) tensor, got shape {shape}; flatten images to rows "
            f"with x.reshape(len(x), -1)"
        )
    return as_model_input(x, like, n_features)


def uniform_init(low, high, n_features: int, dtype=torch.float32) -> InitFn:
    """A start distribution for Langevin chains: uniform on the box [low, high]^n_features.

    Returns:
        ``init(n, generator) -> (n, n_features)`` tensor.
    """
    low, high = number(low, "low"), number(high, "high")
    if not low < high:
        raise ValueError(f"need low < high for the uniform start box, got {low} and {high}")
    n_features = count(n_features, "n_features")

    def init(n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        n = count(n, "n")
        check_memory(n * n_features, "n", f"{n} starting points")
        u = torch.rand((n, n_features), generator=as_generator(generator), dtype=dtype)
        return low + (high - low) * u

    return init


class ReplayBuffer:
    """Stored Langevin samples that later chains restart from (Du & Mordatch 2019).

    ``sample(n)`` draws n stored samples uniformly with replacement and replaces each, with
    probability ``reinit_prob``, by a fresh draw from ``init``; after the chains have run,
    ``update(idx, x)`` writes the new states back. Long effective chains at the cost of short
    runs, while the fresh starts keep exploring.

    Args:
        init: ``init(n, generator) -> (n, d)`` fresh starting points (e.g. ``uniform_init``).
        size: number of stored samples.
        reinit_prob: probability that a drawn sample restarts from ``init``.
        generator: torch generator for the buffer's own randomness.
    """

    def __init__(self, init: InitFn, size: int = 10_000, reinit_prob: float = 0.05,
                 generator: torch.Generator | None = None):
        as_callable(init, "init", "a function (n, generator) -> (n, d) tensor, e.g. "
                    "uniform_init(low, high, d)")
        self.init = init
        self.size = count(size, "buffer size")
        check_memory(self.size, "size", f"a replay buffer of {self.size} samples")
        self.reinit_prob = in_range(reinit_prob, "reinit_prob", 0.0, 1.0,
                                    hint=" (a probability)")
        self.generator = as_generator(generator)
        self.x = as_points(init(self.size, generator), name="init(size)").detach().clone()

    def sample(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Draw ``n`` starting points.

        Returns:
            ``(x, idx, fresh)``: states (n, d), their buffer indices (n,), and a boolean mask
            (n,) of the rows that were re-initialised from ``init``.
        """
        n = count(n, "n")
        idx = torch.randint(self.size, (n,), generator=self.generator)
        x = self.x[idx].clone()
        fresh = torch.rand(n, generator=self.generator) < self.reinit_prob
        n_fresh = int(fresh.sum())
        if n_fresh:
            x[fresh] = self.init(n_fresh, self.generator).to(x.dtype)
        return x, idx, fresh

    def update(self, idx: torch.Tensor, x: torch.Tensor) -> None:
        """Store the chains' new states ``x`` (n, d) at buffer positions ``idx`` (n,)."""
        if not isinstance(idx, torch.Tensor) or idx.ndim != 1 or idx.is_floating_point():
            raise ValueError("idx must be the (n,) integer tensor of buffer positions returned "
                             "by sample(n)")
        if not isinstance(x, torch.Tensor) or x.shape != (idx.shape[0], self.x.shape[1]):
            raise ValueError(
                f"x must have shape ({idx.shape[0]}, {self.x.shape[1]}), got {tuple(x.shape)}"
            )
        self.x[idx] = x.detach().to(self.x.dtype)


def short_run_samples(energy, x0: torch.Tensor, n_steps: int, step_size: float,
                      noise_scale: float = 1.0, clip=None,
                      generator: torch.Generator | None = None) -> torch.Tensor:
    """Run ``n_steps`` of Langevin x ← x - ε∇E(x) + noise_scale·√(2ε) ξ from ``x0``.

    Thin wrapper over ``samplers.langevin`` (which holds and tests the update) that returns the
    final states (batch, d) detached from the graph; ``clip=(low, high)`` projects onto a box.
    """
    return langevin(energy, x0, n_steps, step_size, generator=generator,
                    noise_scale=noise_scale, clip=clip).x


def contrastive_loss(e_pos: torch.Tensor, e_neg: torch.Tensor, alpha: float = 0.1):
    """The contrastive-divergence surrogate with energy regularisation (Du & Mordatch 2019).

    L = mean E(x⁺) - mean E(x⁻) + α (mean E(x⁺)² + mean E(x⁻)²); its gradient in θ is the
    maximum-likelihood gradient when x⁻ ~ p_θ, and the α term keeps energies near zero so
    that they cannot drift without bound (the loss is invariant to adding a constant to E).

    Args:
        e_pos: energies of data, (batch,).
        e_neg: energies of model samples, (batch,).
        alpha: weight of the energy-magnitude penalty, ≥ 0.
    """
    alpha = non_negative(alpha, "alpha")
    for name, e in (("e_pos", e_pos), ("e_neg", e_neg)):
        if not isinstance(e, torch.Tensor) or e.ndim != 1:
            shape = tuple(e.shape) if isinstance(e, torch.Tensor) else type(e).__name__
            raise ValueError(f"{name} must be a (batch,) tensor of energies, got {shape}")
    return e_pos.mean() - e_neg.mean() + alpha * ((e_pos ** 2).mean() + (e_neg ** 2).mean())


class EBMHistory(History):
    """Per-iteration records of ``train_ebm``/``train_jem`` (``history["loss"]`` etc.) and the
    replay buffer used (``history.buffer``), whose samples approximate the trained model."""

    buffer: ReplayBuffer | None = None


def _ebm_guard(model, lr: float, alpha: float, step_size: float) -> DivergenceGuard:
    return DivergenceGuard(
        "EBM training",
        f"fixes: raise the energy penalty alpha (now {alpha:g}), lower the learning rate (now "
        f"{lr:g}), lower the Langevin step size (now {step_size:g}), or keep gradient clipping "
        "on; for images pass clip=(0, 1) so samples stay in the data box",
        params=list(model.parameters()), loss_factor=None,
        cause="energies run away when the model pushes sample energies up faster than data "
        "energies down",
    )


def _guard(guard: DivergenceGuard, i: int, loss: torch.Tensor, energies: torch.Tensor,
           max_energy: float) -> None:
    if not torch.isfinite(loss) or not torch.isfinite(energies).all():
        what = "the loss or an energy became NaN or infinite"
    elif energies.abs().max() > max_energy:
        what = f"|E| reached {float(energies.abs().max()):.3g} > max_energy = {max_energy:g}"
    else:
        return
    raise guard.error(f"at iteration {i}", what)


def _check_data(data, n_features: int | None, model=None) -> torch.Tensor:
    x = as_points(data, name="data")
    if n_features is not None and x.shape[1] != n_features:
        raise ValueError(
            f"data has {x.shape[1]} features but the model expects {n_features}; "
            "flatten images to rows of the right length"
        )
    if model is not None:  # e.g. NumPy float64 data for float32 weights: convert here
        param = next(iter(model.parameters()))
        x = x.to(dtype=param.dtype, device=param.device)
    return x


def _trainable(model) -> nn.Module:
    as_module(model, hint="; e.g. ebm.MLPEnergy(n_features)")
    if not any(p.requires_grad for p in model.parameters()):
        raise ValueError("model has no trainable parameters")
    return model


def _buffer(buffer, init, x, buffer_size, reinit_prob, generator) -> ReplayBuffer:
    if buffer is not None:
        as_module(buffer, "buffer", ReplayBuffer, "; or pass None for a new one")
        if buffer.x.shape[1] != x.shape[1]:
            raise ValueError(f"the buffer holds {buffer.x.shape[1]}-dimensional samples but the "
                             f"data has {x.shape[1]} features")
        return buffer
    return ReplayBuffer(init or _box_init(x), buffer_size, reinit_prob, as_generator(generator))


def _train_loop(model, x_data, y_data, n_iters, batch_size, lr, n_langevin, step_size,
                noise_scale, buffer, alpha, clip, clip_grad, max_energy, gen_weight,
                generator, progress, callback, log_every, energy_fn) -> EBMHistory:
    n_iters = count(n_iters, "n_iters")
    batch_size = count(batch_size, "batch_size")
    lr = positive(lr, "lr")
    step_size = positive(step_size, "step_size")
    n_langevin = count(n_langevin, "n_langevin", minimum=0)
    clip_grad = None if clip_grad is None else positive(clip_grad, "clip_grad")
    max_energy = positive(max_energy, "max_energy")
    log_every = count(log_every, "log_every")
    as_generator(generator)
    if callback is not None and not callable(callback):
        raise ArgumentTypeError(f"callback must be None or a function (iteration, model, "
                                f"metrics), got {type(callback).__name__}")
    guard = _ebm_guard(model, lr, alpha, step_size)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.0, 0.999))
    history = EBMHistory()
    history.buffer = buffer
    show = (not config.progress_disabled()) if progress is None else bool(progress)
    n = x_data.shape[0]
    sums: dict[str, float] = {}
    for i in tqdm(range(1, n_iters + 1), disable=not show, desc="EBM training", leave=False):
        rows = torch.randint(n, (min(batch_size, n),), generator=generator)
        x_pos = x_data[rows]
        x0, idx, _ = buffer.sample(len(rows))
        x_neg = short_run_samples(energy_fn, x0, n_langevin, step_size, noise_scale, clip,
                                  generator) if n_langevin else x0
        buffer.update(idx, x_neg)
        e_pos, e_neg = energy_fn(x_pos), energy_fn(x_neg)
        loss_gen = contrastive_loss(e_pos, e_neg, alpha)
        metrics = {"loss_gen": loss_gen.detach(), "e_pos": e_pos.detach().mean(),
                   "e_neg": e_neg.detach().mean()}
        loss = gen_weight * loss_gen
        if y_data is not None:
            logits = model(x_pos)
            loss_clf = nn.functional.cross_entropy(logits, y_data[rows])
            loss = loss + loss_clf
            metrics["loss_clf"] = loss_clf.detach()
            metrics["acc"] = (logits.argmax(1) == y_data[rows]).float().mean()
        _guard(guard, i, loss, torch.cat([e_pos.detach(), e_neg.detach()]), max_energy)
        optimizer.zero_grad()
        loss.backward()
        if clip_grad is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip_grad)
        optimizer.step()
        metrics["loss"] = loss.detach()
        for key, value in metrics.items():
            sums[key] = sums.get(key, 0.0) + float(value)
        if i % log_every == 0 or i == n_iters:
            guard.check_params(f"at iteration {i}")
            k = log_every if i % log_every == 0 else i % log_every
            means = {key: value / k for key, value in sums.items()}
            record_epoch(history, {"iteration": i, **means}, callback, i, model)
            sums = {}
    return history


def train_ebm(
    model: nn.Module,
    data: torch.Tensor,
    n_iters: int,
    batch_size: int = 128,
    lr: float = 1e-3,
    n_langevin: int = 40,
    step_size: float = 0.01,
    noise_scale: float = 1.0,
    buffer: ReplayBuffer | None = None,
    init: InitFn | None = None,
    buffer_size: int = 10_000,
    reinit_prob: float = 0.05,
    alpha: float = 0.1,
    clip=None,
    clip_grad: float | None = 1.0,
    max_energy: float = 1e4,
    generator: torch.Generator | None = None,
    progress: bool | None = None,
    callback: Callable | None = None,
    log_every: int = 50,
) -> EBMHistory:
    """Train an energy network by contrastive divergence with short-run Langevin and a buffer.

    Each iteration: draw a data batch x⁺; draw chain starts from the replay buffer (a fraction
    ``reinit_prob`` fresh from ``init``); run ``n_langevin`` Langevin steps of size ε on
    E_θ to get x⁻; store x⁻ back; take an Adam step on ``contrastive_loss(E(x⁺), E(x⁻), α)``.

    Args:
        model: maps (batch, d) to energies (batch,).
        data: (n, d) training data.
        n_iters: number of parameter updates.
        batch_size: data and sample batch size.
        lr: Adam learning rate (β₁ = 0, as is usual for EBMs, since sample noise makes momentum
            chase a moving target).
        n_langevin: Langevin steps per iteration (0: negatives are the buffer's states).
        step_size: ε; the noise std is noise_scale·√(2ε).
        noise_scale: 1 for correct Langevin; < 1 is the "decoupled" practice (a colder target).
        buffer: a ``ReplayBuffer`` to continue from; by default a new one built from ``init``.
        init: start distribution for fresh chains; default uniform on the data's bounding box
            widened by 10 % on each side.
        buffer_size, reinit_prob: for the default buffer.
        alpha: energy-magnitude penalty.
        clip: ``(low, high)`` box for the samples (e.g. (0, 1) for pixels), or ``None``.
        clip_grad: max gradient norm for the parameters, ``None`` for no clipping.
        max_energy: |E| above this stops training with advice (divergence guard).
        generator: torch generator for batches, buffer and Langevin noise.
        progress: tqdm bar; ``None`` follows ``config.progress_disabled()``.
        callback: ``callback(iteration, model, metrics)`` every ``log_every`` iterations; may
            return a dict of extra values to record.
        log_every: iterations averaged into one history entry.

    Returns:
        ``EBMHistory`` with ``iteration``, ``loss``, ``loss_gen``, ``e_pos``, ``e_neg`` per log
        entry and ``history.buffer``.

    Raises:
        ValueError: bad data or arguments. RuntimeError: diverging energies (with the fix).
    """
    model = _trainable(model)
    x = _check_data(data, getattr(model, "n_features", None), model)
    buffer = _buffer(buffer, init, x, buffer_size, reinit_prob, generator)
    return _train_loop(model, x, None, n_iters, batch_size, lr, n_langevin, step_size,
                       noise_scale, buffer, alpha, clip, clip_grad, max_energy, 1.0, generator,
                       progress, callback, log_every, model)


def _box_init(x: torch.Tensor) -> InitFn:
    low, high = x.min(0).values, x.max(0).values
    pad = 0.1 * (high - low).clamp_min(1e-6)
    low, high = low - pad, high + pad

    def init(n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        u = torch.rand((n, x.shape[1]), generator=generator, dtype=x.dtype)
        return low + (high - low) * u

    return init


def jem_log_px(logits: torch.Tensor) -> torch.Tensor:
    """Unnormalised log p(x) of JEM: logsumexp_y f(x)[y] = log p(x) + log Z, shape (batch,).

    JEM defines p(x, y) = exp(f(x)[y]) / Z, so p(x) = Σ_y exp(f(x)[y]) / Z and
    p(y | x) = softmax(f(x))[y]: the classifier's logits carry a density over x for free
    (softmax ignores the logsumexp, which is why an ordinary classifier leaves it untrained).

    Args:
        logits: (batch, n_classes).
    """
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2:
        raise ValueError("logits must be a (batch, n_classes) tensor")
    return torch.logsumexp(logits, dim=1)


def marginal_energy(classifier: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    """E(x) = -logsumexp_y f(x)[y] for a classifier ``f``: (batch, d) -> (batch,)."""
    as_callable(classifier, "classifier", "a classifier mapping (batch, d) to logits")
    return lambda x: -jem_log_px(classifier(x))


def class_energy(classifier: nn.Module, y: int) -> Callable[[torch.Tensor], torch.Tensor]:
    """E(x, y) = -f(x)[y] for one fixed class ``y``: sample it to draw x ~ p(x | y)."""
    as_callable(classifier, "classifier", "a classifier mapping (batch, d) to logits")
    y = count(y, "class y", minimum=0)
    n_classes = getattr(classifier, "n_classes", None)
    if n_classes is not None and y >= n_classes:
        raise ValueError(f"class y must be in [0, {n_classes}), got {y}")
    return lambda x: -classifier(x)[:, y]


def train_jem(
    classifier: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    n_iters: int,
    batch_size: int = 128,
    lr: float = 1e-3,
    n_langevin: int = 20,
    step_size: float = 0.01,
    noise_scale: float = 1.0,
    buffer: ReplayBuffer | None = None,
    init: InitFn | None = None,
    buffer_size: int = 10_000,
    reinit_prob: float = 0.05,
    alpha: float = 0.1,
    gen_weight: float = 1.0,
    clip=None,
    clip_grad: float | None = 1.0,
    max_energy: float = 1e4,
    generator: torch.Generator | None = None,
    progress: bool | None = None,
    callback: Callable | None = None,
    log_every: int = 50,
) -> EBMHistory:
    """JEM training (Grathwohl et al. 2019): log p(y|x) + log p(x) with SGLD samples.

    Loss per iteration = cross-entropy(f(x⁺), y⁺) + gen_weight · contrastive_loss(E(x⁺), E(x⁻)),
    with E(x) = -logsumexp_y f(x)[y] and x⁻ from short-run Langevin on E from a replay buffer.
    ``gen_weight=0`` trains the plain classifier with the same loop (a fair baseline; set
    ``n_langevin=0`` too so that no sampling time is spent).

    Args:
        classifier: maps (batch, d) to logits (batch, n_classes).
        x: (n, d) inputs; y: (n,) integer labels in [0, n_classes).
        gen_weight: weight of the generative term, ≥ 0.
        Others as in ``train_ebm``.

    Returns:
        ``EBMHistory`` with ``loss``, ``loss_clf``, ``loss_gen``, ``acc`` (training batches),
        ``e_pos``, ``e_neg`` per log entry and ``history.buffer``.
    """
    classifier = _trainable(classifier)
    x = _check_data(x, getattr(classifier, "n_features", None), classifier)
    try:
        y = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y)
    except (TypeError, ValueError) as err:
        raise ValueError(f"y must be a 1-D integer tensor of labels: {err}") from err
    if y.ndim != 1 or y.shape[0] != x.shape[0] or y.dtype.is_floating_point:
        raise ValueError(
            f"y must be a 1-D integer tensor of {x.shape[0]} labels, got shape "
            f"{tuple(y.shape)} and dtype {y.dtype}"
        )
    n_classes = getattr(classifier, "n_classes", None)
    if y.min() < 0 or (n_classes is not None and y.max() >= n_classes):
        raise ValueError(f"labels must lie in [0, {n_classes}), got [{int(y.min())}, "
                         f"{int(y.max())}]")
    gen_weight = non_negative(gen_weight, "gen_weight")
    buffer = _buffer(buffer, init, x, buffer_size, reinit_prob, generator)
    return _train_loop(classifier, x, y.long(), n_iters, batch_size, lr, n_langevin, step_size,
                       noise_scale, buffer, alpha, clip, clip_grad, max_energy, gen_weight,
                       generator, progress, callback, log_every, marginal_energy(classifier))
