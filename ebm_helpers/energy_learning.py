"""Energy-based learning in the sense of LeCun et al. (2006): shape E(x, y) so right answers
sit low.

An energy E(x, y) is any scalar measure of incompatibility between an input x and an answer y;
nothing requires e^{−E} to be normalised. Inference is minimisation over y; learning is a *loss
functional* that pushes the energy of the correct answer down and, unless the architecture
does it for free, pulls the energies of wrong answers up. This module holds

* the loss functionals of "A Tutorial on Energy-Based Learning" (LeCun, Chopra, Hadsell,
  Ranzato & Huang 2006, Table 1), per example, (batch,) in and (batch,) out: ``energy_loss``,
  ``perceptron_loss``, ``hinge_loss``, ``log_loss``, ``lvq2_loss``, ``mce_loss``,
  ``square_square_loss``, ``square_exponential_loss``, ``nll_loss``; ``most_offending`` (the
  lowest-energy wrong answer, Ȳ); ``LOSSES`` (name → margin and a function of (e_all, y)) and
  ``loss_from_energies``;
* inference by minimisation: ``infer`` (enumeration over discrete answers) and
  ``gradient_inference`` (gradient descent over a continuous y from several starts);
* latent-variable EBMs: ``free_energy`` (F∞ = min_z E at zero temperature, F_β = −(1/β) log
  mean_z e^{−βE} at inverse temperature β), the ellipse toy (``ellipse_data``,
  ``ellipse_energy``), a trainable ``LatentEBM`` (E(y, z) = ‖y − dec(z)‖² over a grid of z)
  and ``train_latent_ebm`` (zero-temperature training);
* the digits experiment of notebook 12: ``PrototypeEnergy`` (E(x, y) = ‖enc(x) − g_y‖²),
  ``train_energy_model`` with any loss of ``LOSSES`` and ``evaluate_energy_model`` (accuracy,
  margin E(Ȳ) − E(Y), spread of the embeddings: a collapse indicator).

Training loops take an explicit ``torch.Generator``, show ``tqdm.auto`` progress (quiet in fast
mode), record per-epoch values in ``_training.History`` and stop with a ``RuntimeError`` naming
the fix when the loss or the weights diverge (``_training.DivergenceGuard``).

Used by notebook 12 (energy-based learning) and its widget ``widgets.free_energy``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from . import config
from ._training import DivergenceGuard, History, record_epoch
from ._validation import as_points, count, non_negative, positive

__all__ = [
    "LOSSES",
    "GradientInference",
    "LatentEBM",
    "LossInfo",
    "PrototypeEnergy",
    "ellipse_data",
    "ellipse_energy",
    "energy_loss",
    "evaluate_energy_model",
    "free_energy",
    "gradient_inference",
    "hinge_loss",
    "infer",
    "log_loss",
    "loss_from_energies",
    "lvq2_loss",
    "mce_loss",
    "most_offending",
    "nll_loss",
    "perceptron_loss",
    "square_exponential_loss",
    "square_square_loss",
    "train_energy_model",
    "train_latent_ebm",
]


# ----------------------------------------------------------------------------- input checks
def _energies(e, name: str) -> torch.Tensor:
    if not isinstance(e, torch.Tensor):
        try:
            e = torch.as_tensor(e, dtype=torch.float32)
        except (TypeError, ValueError, RuntimeError) as err:
            raise ValueError(f"{name} must be a tensor of energies: {err}") from err
    if not torch.is_floating_point(e):
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {e.dtype}; use "
                         f"{name}.float()")
    if not torch.isfinite(e).all():
        raise ValueError(
            f"{name} has non-finite energies (NaN or inf); an energy must be a finite number — "
            "check the model (a diverged training run?) or clip the input"
        )
    return e


def _vector(e, name: str) -> torch.Tensor:
    e = _energies(e, name)
    if e.ndim != 1:
        raise ValueError(f"{name} must have shape (batch,), one energy per example, got "
                         f"{tuple(e.shape)}")
    return e


def _matrix(e_all, name: str = "e_all") -> torch.Tensor:
    e = _energies(e_all, name)
    if e.ndim != 2 or e.shape[1] < 2:
        raise ValueError(f"{name} must have shape (batch, n_answers) with at least 2 answers, "
                         f"got {tuple(e.shape)}")
    return e


def _same_batch(a: torch.Tensor, b: torch.Tensor, name_a: str, name_b: str) -> None:
    if a.shape[0] != b.shape[0] or (a.ndim == b.ndim == 1 and a.shape != b.shape):
        raise ValueError(
            f"{name_a} {tuple(a.shape)} and {name_b} {tuple(b.shape)} must describe the same "
            f"batch (one row per example)"
        )


def _labels(y, e_all: torch.Tensor) -> torch.Tensor:
    y = torch.as_tensor(y)
    if y.dtype.is_floating_point or y.dtype == torch.bool:
        raise ValueError(f"labels must be integers, got dtype {y.dtype}")
    if y.ndim != 1 or y.shape[0] != e_all.shape[0]:
        raise ValueError(f"labels must have shape ({e_all.shape[0]},), one per row of e_all, got "
                         f"{tuple(y.shape)}")
    n = e_all.shape[1]
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= n):
        raise ValueError(f"labels must be in 0..{n - 1} (the columns of e_all), got values from "
                         f"{int(y.min())} to {int(y.max())}")
    return y.long()


def _beta(beta) -> float:
    return positive(beta, "beta", "; β = 1/T is an inverse temperature (use beta=None for the "
                    "zero-temperature limit β → ∞)")


# ----------------------------------------------------------------------------- loss functionals
def most_offending(e_all, y) -> tuple[torch.Tensor, torch.Tensor]:
    """The most offending incorrect answer Ȳ: the wrong answer with the lowest energy.

    Args:
        e_all: (batch, n_answers) energies E(x, y) of every answer.
        y: (batch,) index of the correct answer.

    Returns:
        ``(index, energy)``, both (batch,): Ȳ = argmin_{y' ≠ y} E(x, y') and E(x, Ȳ).
    """
    e_all = _matrix(e_all)
    y = _labels(y, e_all)
    masked = e_all.scatter(1, y[:, None], float("inf"))
    energy, index = masked.min(dim=1)
    return index, energy


def energy_loss(e_correct) -> torch.Tensor:
    """L = E(x, Y): push the correct answer down and nothing else (no margin).

    Works only with architectures in which pushing one energy down pulls the others up (e.g. a
    softmax over answers); otherwise it collapses to a flat energy surface.
    """
    return _vector(e_correct, "e_correct")


def perceptron_loss(e_correct, e_all) -> torch.Tensor:
    """Generalised perceptron loss L = E(x, Y) − min_y E(x, y) ≥ 0 (margin 0).

    Zero as soon as the correct answer has the lowest energy, with no gap required.
    """
    e_c = _vector(e_correct, "e_correct")
    e_all = _matrix(e_all)
    _same_batch(e_all, e_c, "e_all", "e_correct")
    return e_c - e_all.min(dim=1).values


def _pair(e_correct, e_offending) -> tuple[torch.Tensor, torch.Tensor]:
    e_c = _vector(e_correct, "e_correct")
    e_o = _vector(e_offending, "e_offending")
    _same_batch(e_c, e_o, "e_correct", "e_offending")
    return e_c, e_o


def hinge_loss(e_correct, e_offending, margin: float = 1.0) -> torch.Tensor:
    """Hinge loss L = max(0, m + E(x, Y) − E(x, Ȳ)): zero once Ȳ is m above Y (margin m)."""
    e_c, e_o = _pair(e_correct, e_offending)
    return F.relu(non_negative(margin, "margin") + e_c - e_o)


def log_loss(e_correct, e_offending) -> torch.Tensor:
    """Log loss L = log(1 + e^{E(x, Y) − E(x, Ȳ)}), a soft hinge with an infinite margin."""
    e_c, e_o = _pair(e_correct, e_offending)
    return F.softplus(e_c - e_o)


def lvq2_loss(e_correct, e_offending, M: float = 1.0) -> torch.Tensor:
    """LVQ2 loss L = min(M, max(0, E(x, Y) − E(x, Ȳ))) (margin 0; saturates at M)."""
    e_c, e_o = _pair(e_correct, e_offending)
    return torch.clamp(e_c - e_o, min=0.0, max=positive(M, "M"))


def mce_loss(e_correct, e_offending) -> torch.Tensor:
    """Minimum classification error loss L = sigm(E(x, Y) − E(x, Ȳ)), sigm(a) = 1/(1 + e^{−a}).

    A smooth count of errors: it saturates for badly wrong examples as well as for right ones.
    """
    e_c, e_o = _pair(e_correct, e_offending)
    return torch.sigmoid(e_c - e_o)


def square_square_loss(e_correct, e_offending, margin: float = 1.0) -> torch.Tensor:
    """Square-square loss L = E(x, Y)² + max(0, m − E(x, Ȳ))² (for energies ≥ 0; margin m)."""
    e_c, e_o = _pair(e_correct, e_offending)
    return e_c**2 + F.relu(non_negative(margin, "margin") - e_o) ** 2


def square_exponential_loss(e_correct, e_offending, gamma: float = 1.0) -> torch.Tensor:
    """Square-exponential loss L = E(x, Y)² + γ e^{−E(x, Ȳ)} (for energies ≥ 0)."""
    e_c, e_o = _pair(e_correct, e_offending)
    return e_c**2 + positive(gamma, "gamma") * torch.exp(-e_o)


def nll_loss(e_correct, e_all, beta: float = 1.0) -> torch.Tensor:
    """Negative log-likelihood / MMI loss L = E(x, Y) + (1/β) log Σ_y e^{−β E(x, y)}.

    −log of the Gibbs probability p(Y | x) = e^{−βE(x,Y)} / Σ_y e^{−βE(x,y)}, divided by β; it
    pulls up every wrong answer, each in proportion to its probability.
    """
    e_c = _vector(e_correct, "e_correct")
    e_all = _matrix(e_all)
    _same_batch(e_all, e_c, "e_all", "e_correct")
    b = _beta(beta)
    return e_c + torch.logsumexp(-b * e_all, dim=1) / b


@dataclass(frozen=True)
class LossInfo:
    """A loss functional of ``LOSSES``: its margin in LeCun et al. (2006, Table 1), its formula,
    and ``fn(e_all, y, **params) -> (batch,)``."""

    name: str
    margin: str
    formula: str
    fn: Callable[..., torch.Tensor]


def _with_offending(loss: Callable, param: str | None = None):
    def fn(e_all, y, **params):
        e_all = _matrix(e_all)
        y = _labels(y, e_all)
        e_c = e_all.gather(1, y[:, None]).squeeze(1)
        _, e_o = most_offending(e_all, y)
        return loss(e_c, e_o, **params)

    return fn


def _with_all(loss: Callable):
    def fn(e_all, y, **params):
        e_all = _matrix(e_all)
        y = _labels(y, e_all)
        return loss(e_all.gather(1, y[:, None]).squeeze(1), e_all, **params)

    return fn


#: The loss functionals by name, with the margin of LeCun et al. (2006, Table 1).
LOSSES: dict[str, LossInfo] = {
    info.name: info
    for info in [
        LossInfo("energy", "none", "E(Y)",
                 lambda e_all, y: energy_loss(
                     _matrix(e_all).gather(1, _labels(y, _matrix(e_all))[:, None]).squeeze(1))),
        LossInfo("perceptron", "0", "E(Y) − min_y E(y)", _with_all(perceptron_loss)),
        LossInfo("hinge", "m", "max(0, m + E(Y) − E(Ȳ))", _with_offending(hinge_loss)),
        LossInfo("log", "> 0", "log(1 + exp(E(Y) − E(Ȳ)))", _with_offending(log_loss)),
        LossInfo("lvq2", "0", "min(M, max(0, E(Y) − E(Ȳ)))", _with_offending(lvq2_loss)),
        LossInfo("mce", "> 0", "sigm(E(Y) − E(Ȳ))", _with_offending(mce_loss)),
        LossInfo("square_square", "m", "E(Y)² + max(0, m − E(Ȳ))²",
                 _with_offending(square_square_loss)),
        LossInfo("square_exponential", "> 0", "E(Y)² + γ exp(−E(Ȳ))",
                 _with_offending(square_exponential_loss)),
        LossInfo("nll", "> 0", "E(Y) + (1/β) log Σ_y exp(−β E(y))", _with_all(nll_loss)),
    ]
}


def loss_from_energies(name: str, e_all, y, **params) -> torch.Tensor:
    """The per-example loss ``name`` (a key of ``LOSSES``) from all answers' energies.

    Args:
        name: e.g. ``"hinge"``.
        e_all: (batch, n_answers) energies; y: (batch,) correct answers.
        params: the loss's parameter (``margin``, ``M``, ``gamma`` or ``beta``).

    Returns:
        (batch,) losses.
    """
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
    try:
        return LOSSES[name].fn(e_all, y, **params)
    except TypeError as err:
        raise ValueError(f"bad parameter for the {name} loss: {err}") from err


# ----------------------------------------------------------------------------- inference
def infer(e_all) -> tuple[torch.Tensor, torch.Tensor]:
    """Inference by enumeration: Ŷ = argmin_y E(x, y) for each row.

    Args:
        e_all: (batch, n_answers) energies.

    Returns:
        ``(answer, energy)``, both (batch,).
    """
    e_all = _matrix(e_all)
    energy, answer = e_all.min(dim=1)
    return answer, energy


@dataclass
class GradientInference:
    """The result of ``gradient_inference``: final answers ``y`` (batch, d), their energies
    (batch,) and the whole path ``trace`` (n_steps + 1, batch, d)."""

    y: torch.Tensor
    energy: torch.Tensor
    trace: torch.Tensor


def gradient_inference(energy: Callable[[torch.Tensor], torch.Tensor], y0,
                       n_steps: int = 200, step_size: float = 0.05) -> GradientInference:
    """Inference by gradient descent over a continuous answer: y ← y − η ∇_y E(y).

    Each row of ``y0`` is an independent start: an energy with several minima (one x, several
    good answers) sends different starts to different answers.

    Args:
        energy: maps answers (batch, d) to energies (batch,) (x fixed, e.g. a closure).
        y0: (batch, d) starting answers.
        n_steps: number of steps.
        step_size: η > 0.

    Returns:
        A ``GradientInference``.

    Raises:
        ValueError: bad arguments, or an energy of the wrong shape. RuntimeError: when the
            iterates become non-finite (η too large for this energy).
    """
    y = as_points(y0, name="y0").detach().clone()
    n_steps = count(n_steps, "n_steps", minimum=0)
    eta = positive(step_size, "step_size")
    trace = [y.clone()]
    for step in range(n_steps):
        y.requires_grad_(True)
        e = energy(y)
        if not isinstance(e, torch.Tensor) or e.shape != (y.shape[0],):
            shape = tuple(e.shape) if isinstance(e, torch.Tensor) else type(e).__name__
            raise ValueError(f"energy must map (batch, d) answers to (batch,) energies, got "
                             f"{shape}")
        (grad,) = torch.autograd.grad(e.sum(), y)
        y = (y - eta * grad).detach()
        if not torch.isfinite(y).all():
            raise RuntimeError(
                f"gradient inference diverged at step {step + 1}: the answers became "
                f"non-finite; lower step_size (now {eta:g})"
            )
        trace.append(y.clone())
    with torch.no_grad():
        e = energy(y)
    return GradientInference(y, e.detach(), torch.stack(trace))


# ----------------------------------------------------------------------------- latent variables
def free_energy(e_z, beta: float | None = None) -> torch.Tensor:
    """Free energy of a latent-variable EBM over the last axis (the values of z).

    F∞ = min_z E(y, z) for ``beta=None`` (zero temperature), else

        F_β = −(1/β) log( (1/K) Σ_k e^{−β E(y, z_k)} ),

    the log-mean-exp over the K latent values (a uniform prior on z). It decreases from the
    mean energy (β → 0) to the minimum (β → ∞); with a sum instead of the mean it would be
    lower by (1/β) log K.

    Args:
        e_z: (..., K) energies E(y, z_k).
        beta: inverse temperature β > 0, or ``None`` for β → ∞.

    Returns:
        (...) free energies.
    """
    e = _energies(e_z, "e_z")
    if e.ndim == 0 or e.shape[-1] == 0:
        raise ValueError("e_z must have a last axis holding at least one latent value")
    if beta is None:
        return e.min(dim=-1).values
    b = _beta(beta)
    return -(torch.logsumexp(-b * e, dim=-1) - math.log(e.shape[-1])) / b


def ellipse_energy(y, z, a: float = 2.0, b: float = 1.0) -> torch.Tensor:
    """E(y, z) = ‖y − (a cos z, b sin z)‖² for every y and every z: (n, K).

    Args:
        y: (n, 2) points; z: (K,) angles.
    """
    y = as_points(y, dim=2, name="y")
    z = torch.as_tensor(z, dtype=y.dtype).reshape(-1)
    curve = torch.stack([a * torch.cos(z), b * torch.sin(z)], dim=1)  # (K, 2)
    return ((y[:, None, :] - curve[None]) ** 2).sum(-1)


def ellipse_data(n: int, generator: torch.Generator, a: float = 2.0, b: float = 1.0,
                 noise: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """Points on an ellipse: y = (a cos z, b sin z) + noise, z ~ U[0, 2π).

    Every x (there is none here) has a whole curve of good answers: the multi-modal toy of the
    NYU deep-learning course's latent-variable EBM lecture.

    Returns:
        ``(y, z)``: (n, 2) points and their (n,) angles.
    """
    n = count(n, "n")
    noise = non_negative(noise, "noise")
    z = 2 * math.pi * torch.rand(n, generator=generator)
    y = torch.stack([a * torch.cos(z), b * torch.sin(z)], dim=1)
    return y + noise * torch.randn(n, 2, generator=generator), z


class LatentEBM(nn.Module):
    """E(y, z) = ‖y − dec(z)‖² with a 1-D latent z on a grid of K angles.

    dec maps (cos z, sin z) through a small MLP to a point of the plane, so the zero-energy set
    {dec(z)} is a closed curve: a model of limited "volume" that cannot make every y low.

    Args:
        n_z: number of latent values K (a uniform grid on [0, 2π)).
        hidden: hidden width of the decoder.
        generator: draws the initial weights (default: PyTorch's global generator).
    """

    def __init__(self, n_z: int = 64, hidden: int = 32,
                 generator: torch.Generator | None = None):
        super().__init__()
        self.n_z = count(n_z, "n_z", minimum=2)
        self.register_buffer("z", torch.arange(self.n_z) * (2 * math.pi / self.n_z))
        self.decoder = nn.Sequential(nn.Linear(2, count(hidden, "hidden")), nn.SiLU(),
                                     nn.Linear(hidden, 2))
        if generator is not None:
            with torch.no_grad():
                for layer in self.decoder:
                    if isinstance(layer, nn.Linear):
                        bound = 1.0 / math.sqrt(layer.in_features)
                        nn.init.uniform_(layer.weight, -bound, bound, generator=generator)
                        nn.init.uniform_(layer.bias, -bound, bound, generator=generator)

    def curve(self) -> torch.Tensor:
        """dec(z_k) for the K grid values: (K, 2)."""
        return self.decoder(torch.stack([torch.cos(self.z), torch.sin(self.z)], dim=1))

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        """E(y, z_k) for every point and latent value: (n, K)."""
        y = as_points(y, dim=2, name="y")
        return ((y[:, None, :] - self.curve()[None]) ** 2).sum(-1)

    def free_energy(self, y: torch.Tensor, beta: float | None = None) -> torch.Tensor:
        """F_β(y) over the latent grid (``free_energy``): (n,)."""
        return free_energy(self(y), beta)


def _minibatch_loop(n: int, loss_fn: Callable[[torch.Tensor], torch.Tensor], params, *,
                    epochs: int, batch_size: int, lr: float, generator: torch.Generator,
                    progress: bool | None, callback: Callable | None, model: nn.Module,
                    what: str) -> History:
    """Adam on shuffled minibatches of row indices; one history entry per epoch (the mean
    loss), shared by ``train_latent_ebm`` and ``train_energy_model``."""
    epochs = count(epochs, "epochs")
    batch_size = count(batch_size, "batch_size")
    lr = positive(lr, "lr")
    if not isinstance(generator, torch.Generator):
        raise TypeError("generator must be a torch.Generator, e.g. torch.Generator()."
                        "manual_seed(0)")
    params = list(params)
    optimizer = torch.optim.Adam(params, lr=lr)
    guard = DivergenceGuard(f"{what} training", f"lower lr (now {lr:g}), e.g. 10×, or the "
                            "loss's parameter (margin, γ, β)", params=params)
    history = History()
    show = (not config.progress_disabled()) if progress is None else bool(progress)
    for epoch in tqdm(range(1, epochs + 1), disable=not show, desc=f"{what} training",
                      leave=False):
        order = torch.randperm(n, generator=generator)
        total = 0.0
        for start in range(0, n, batch_size):
            rows = order[start:start + batch_size]
            loss = loss_fn(rows)
            value = guard.check_loss(f"in epoch {epoch}", loss)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += value * len(rows)
        guard.check_params(f"in epoch {epoch}")
        record_epoch(history, {"epoch": epoch, "loss": total / n}, callback, epoch, model)
    return history


def train_latent_ebm(model: LatentEBM, y, *, epochs: int, generator: torch.Generator,
                     batch_size: int = 128, lr: float = 1e-2, progress: bool | None = None,
                     callback: Callable | None = None) -> History:
    """Train a latent EBM at zero temperature: minimise the mean of F∞(y) = min_z E(y, z).

    For each data point only the best latent value is pulled towards it (the energy loss on
    the free energy). That does not collapse here because the model's low-energy set is a
    curve: its "volume" is limited by the architecture.

    Args:
        model: a ``LatentEBM``.
        y: (n, 2) data points.
        epochs, batch_size, lr: Adam on shuffled minibatches.
        generator: draws the minibatches.
        progress: tqdm bar; ``None`` follows ``config.progress_disabled()``.
        callback: ``callback(epoch, model, metrics)``; may return a dict of values to record.

    Returns:
        A ``History`` with ``epoch`` and ``loss`` (mean F∞ of the data).
    """
    if not isinstance(model, LatentEBM):
        raise TypeError(f"model must be a LatentEBM, got {type(model).__name__}")
    y = as_points(y, dim=2, name="y")
    return _minibatch_loop(len(y), lambda rows: model.free_energy(y[rows]).mean(),
                           model.parameters(), epochs=epochs, batch_size=batch_size, lr=lr,
                           generator=generator, progress=progress, callback=callback,
                           model=model, what="latent EBM")


# ----------------------------------------------------------------------------- digits model
class PrototypeEnergy(nn.Module):
    """E(x, y) = ‖enc(x) − g_y‖²: an encoder and one learned prototype g_y per class.

    ``forward(x)`` returns the energies of all answers, (batch, n_classes); inference is the
    nearest prototype. Every energy is ≥ 0, and the *collapsed* model (enc constant, all g_y
    equal to it) gives every answer energy 0.

    Args:
        n_in: input features (64 for 8×8 digits).
        n_classes: number of answers.
        embed_dim: size of the embedding.
        hidden: width of the encoder's hidden layer.
        generator: draws the initial weights and prototypes.
    """

    def __init__(self, n_in: int = 64, n_classes: int = 10, embed_dim: int = 16,
                 hidden: int = 64, generator: torch.Generator | None = None):
        super().__init__()
        self.n_in = count(n_in, "n_in")
        self.encoder = nn.Sequential(nn.Linear(self.n_in, count(hidden, "hidden")), nn.ReLU(),
                                     nn.Linear(hidden, count(embed_dim, "embed_dim")))
        # prototypes start on the scale of the untrained embeddings (like a linear layer's
        # weights): energies of order 1, so margins of order 1 are neither met nor hopeless
        bound = 1.0 / math.sqrt(embed_dim)
        self.prototypes = nn.Parameter(
            bound * (2 * torch.rand(count(n_classes, "n_classes", minimum=2), embed_dim,
                                    generator=generator) - 1))
        if generator is not None:
            with torch.no_grad():
                for layer in self.encoder:
                    if isinstance(layer, nn.Linear):
                        bound = 1.0 / math.sqrt(layer.in_features)
                        nn.init.uniform_(layer.weight, -bound, bound, generator=generator)
                        nn.init.uniform_(layer.bias, -bound, bound, generator=generator)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """enc(x): (batch, embed_dim)."""
        x = as_points(x, dim=self.n_in, name="x")
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ((self.embed(x)[:, None, :] - self.prototypes[None]) ** 2).sum(-1)


def train_energy_model(model: nn.Module, x, y, loss: str, *, epochs: int,
                       generator: torch.Generator, batch_size: int = 128, lr: float = 1e-3,
                       progress: bool | None = None, callback: Callable | None = None,
                       **loss_params) -> History:
    """Train any model returning energies (batch, n_answers) with a loss of ``LOSSES``.

    Args:
        model: maps x (batch, d) to E(x, y) for every answer, (batch, n_answers).
        x: (n, d) inputs; y: (n,) correct answers.
        loss: a key of ``LOSSES``; ``loss_params`` its parameter (``margin``, ``M``, ...).
        epochs, batch_size, lr: Adam on shuffled minibatches.
        generator: draws the minibatches.
        progress, callback: as in ``train_latent_ebm``.

    Returns:
        A ``History`` with ``epoch`` and ``loss`` (mean over the epoch's examples).

    Raises:
        ValueError: unknown loss, bad data. RuntimeError: a non-finite loss (the fix named).
    """
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    x = as_points(x, name="x")
    y = torch.as_tensor(y)
    if y.shape != (x.shape[0],):
        raise ValueError(f"y must hold one label per row of x, got shape {tuple(y.shape)}")

    def loss_fn(rows):
        return loss_from_energies(loss, model(x[rows]), y[rows], **loss_params).mean()

    return _minibatch_loop(len(x), loss_fn, model.parameters(), epochs=epochs,
                           batch_size=batch_size, lr=lr, generator=generator,
                           progress=progress, callback=callback, model=model,
                           what=f"{loss}-loss")


def evaluate_energy_model(model: PrototypeEnergy, x, y) -> dict[str, float]:
    """Accuracy, margin and collapse indicators of a ``PrototypeEnergy`` on (x, y).

    Returns:
        ``accuracy`` (argmin_y E = y), ``margin`` (mean of E(x, Ȳ) − E(x, Y)), ``e_correct``
        (mean E(x, Y)), ``spread`` (root mean squared distance of the embeddings from their
        mean: 0 for a collapsed encoder) and ``prototype_spread`` (the same for the g_y).
    """
    with torch.no_grad():
        e_all = model(x)
        y = _labels(y, e_all)
        e_c = e_all.gather(1, y[:, None]).squeeze(1)
        _, e_o = most_offending(e_all, y)
        z = model.embed(x)
        g = model.prototypes
        return {
            "accuracy": float((infer(e_all)[0] == y).float().mean()),
            "margin": float((e_o - e_c).mean()),
            "e_correct": float(e_c.mean()),
            "spread": float(((z - z.mean(0)) ** 2).sum(1).mean().sqrt()),
            "prototype_spread": float(((g - g.mean(0)) ** 2).sum(1).mean().sqrt()),
        }
