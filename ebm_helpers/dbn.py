"""Deep belief networks (DBNs): greedy stacks of RBMs, generation, and classifiers built from them.

A DBN with layers v = h⁰, h¹, …, h^L (sizes ``layer_sizes`` = [n_v, n_1, …, n_L]) is a stack
of L Bernoulli RBMs, RBM l having visible layer h^(l-1) and hidden layer h^l. Hinton, Osindero &
Teh (2006) train it greedily, one RBM at a time:

1. train RBM 1 on the data (``rbm.train_rbm``, CD-k);
2. pass the data up, x ← p(h¹ = 1 | x) = σ(c¹ + W¹x), and train RBM 2 on these
   *probabilities* (not on binary samples: the usual practice, less sampling noise; Hinton
   2010, §3.2), and so on up the stack.

As a generative model the DBN keeps only the top RBM as an undirected model; the lower layers
become a directed sigmoid belief net using the RBMs' *generative* weights,

    p(h^(l-1) = 1 | h^l) = σ(b^l + (h^l)ᵀW^l)   (``v_bias`` of RBM l),

so a sample is drawn by running block Gibbs in the top RBM (on h^(L-1), h^L) and then making
one downward pass. The *recognition* (up) pass uses the same weights transposed,
p(h^l = 1 | h^(l-1)) = σ(c^l + W^l h^(l-1)).

For classification the stack initialises a feed-forward net, Linear(W^l, c^l) + sigmoid per
layer, with a fresh output Linear on top, which is then fine-tuned with backpropagation and
cross-entropy (Hinton & Salakhutdinov 2006). ``random_classifier`` builds the same architecture
with random weights, and ``fine_tune`` trains either kind in the same way, so the benefit of
pre-training can be measured fairly.

Holds: ``DBN``, ``pretrain_dbn`` (which calls ``rbm.train_rbm`` per layer: no copy of the
training loop), ``to_classifier``, ``random_classifier``, ``fine_tune``, ``accuracy`` and
``FineTuneHistory``. Used by notebook 05 (deep belief networks).

Shapes: batches are (batch, n_units) float tensors with values in [0, 1]; labels are (batch,)
int64 tensors with values 0 … n_classes - 1. All randomness comes from explicit
``torch.Generator`` arguments; nothing here touches the global random state.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import rbm as rbm_module
from ._training import DivergenceGuard, History, record_epoch
from ._validation import (
    ArgumentTypeError,
    as_device,
    as_generator,
    as_module,
    as_points,
    choice,
    count,
    in_range,
    non_negative,
    positive,
)
from .partition import _bernoulli
from .rbm import RBM, TrainHistory

__all__ = [
    "DBN",
    "FineTuneHistory",
    "accuracy",
    "fine_tune",
    "pretrain_dbn",
    "random_classifier",
    "to_classifier",
]


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------


def _layer_sizes(layer_sizes) -> list[int]:
    """Check a list of layer sizes [n_v, n_1, …, n_L] (at least two, each ≥ 1)."""
    if isinstance(layer_sizes, (int, np.integer)) or not isinstance(
        layer_sizes, (Sequence, np.ndarray, torch.Tensor)
    ):
        raise ValueError(
            "layer_sizes must be a list of layer sizes [n_visible, n_hidden_1, ...], got "
            f"{layer_sizes!r}"
        )
    sizes = [int(s) if isinstance(s, torch.Tensor) else s for s in list(layer_sizes)]
    if len(sizes) < 2:
        raise ValueError(
            "layer_sizes needs the visible size and at least one hidden size, e.g. [64, 32], "
            f"got {sizes!r}"
        )
    return [count(s, f"layer_sizes[{i}]") for i, s in enumerate(sizes)]


def _n_classes(n_classes) -> int:
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)):
        raise ValueError(f"n_classes must be a whole number ≥ 2, got {n_classes!r}")
    if n_classes < 2:
        raise ValueError(
            f"n_classes must be at least 2 (a classifier needs two or more classes), got "
            f"{n_classes}"
        )
    return int(n_classes)


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


class DBN(nn.Module):
    """A deep belief network: a stack of Bernoulli RBMs, RBM l on layers (h^(l-1), h^l).

    Attributes:
        rbms: ``nn.ModuleList`` of the L RBMs, bottom first; ``rbms[l].n_hidden ==
            rbms[l + 1].n_visible``.

    Args:
        rbms: a non-empty list of ``rbm.RBM``s whose sizes chain. They are used as they are
            (not copied), so training the DBN's RBMs trains the caller's objects.

    Raises:
        ValueError: for an empty list, something that is not an ``RBM``, or sizes that do not
            chain.
    """

    def __init__(self, rbms: Sequence[RBM]):
        super().__init__()
        if isinstance(rbms, RBM):
            rbms = [rbms]
        if not isinstance(rbms, (Sequence, nn.ModuleList)) or isinstance(rbms, str):
            raise ArgumentTypeError(
                f"rbms must be a list of ebm_helpers.rbm.RBM, e.g. [RBM(64, 32), RBM(32, 16)], "
                f"got {type(rbms).__name__}"
            )
        rbms = list(rbms)
        if not rbms:
            raise ValueError(
                "a DBN needs at least one RBM; pass a list such as [RBM(64, 32)], or build one "
                "with DBN.from_sizes([64, 32]) or pretrain_dbn([64, 32], data)"
            )
        for i, r in enumerate(rbms):
            if not isinstance(r, RBM):
                raise ValueError(
                    f"rbms[{i}] must be an ebm_helpers.rbm.RBM, got {type(r).__name__}"
                )
        for i in range(len(rbms) - 1):
            if rbms[i].n_hidden != rbms[i + 1].n_visible:
                raise ValueError(
                    f"layer size mismatch: rbms[{i}] has {rbms[i].n_hidden} hidden units but "
                    f"rbms[{i + 1}] has {rbms[i + 1].n_visible} visible units; each RBM's "
                    "visible layer must be the hidden layer of the RBM below it"
                )
        self.rbms = nn.ModuleList(rbms)

    @classmethod
    def from_sizes(
        cls,
        layer_sizes: Sequence[int],
        generator: torch.Generator | None = None,
        init_std: float = 0.01,
        dtype: torch.dtype = torch.float32,
        device=None,
    ) -> DBN:
        """An untrained DBN with RBMs ``RBM(layer_sizes[l], layer_sizes[l + 1])``, bottom first
        (weights N(0, init_std²) drawn from ``generator``, biases 0)."""
        sizes = _layer_sizes(layer_sizes)
        return cls([
            RBM(a, b, generator=generator, init_std=init_std, dtype=dtype, device=device)
            for a, b in itertools.pairwise(sizes)
        ])

    @property
    def layer_sizes(self) -> list[int]:
        """[n_v, n_1, …, n_L]: the visible size, then each hidden layer's size."""
        return [self.rbms[0].n_visible] + [r.n_hidden for r in self.rbms]

    @property
    def n_layers(self) -> int:
        """L, the number of RBMs (hidden layers)."""
        return len(self.rbms)

    def __len__(self) -> int:
        return len(self.rbms)

    def extra_repr(self) -> str:
        return f"layer_sizes={self.layer_sizes}"

    # ---- passes --------------------------------------------------------------------------------

    @torch.no_grad()
    def up(self, v) -> list[torch.Tensor]:
        """The deterministic recognition pass: hidden probabilities of every layer.

        x⁰ = v,  x^l = σ(c^l + W^l x^(l-1))  (probabilities passed up, as in ``pretrain_dbn``).

        Args:
            v: (batch, n_v) data in [0, 1].

        Returns:
            A list of L tensors, entry l - 1 of shape (batch, n_l); for one layer the entry is
            ``rbm.sample_h(v)[0]``.
        """
        x = self.rbms[0]._visible(v, "v")
        out = []
        for r in self.rbms:
            x = r._p_h(x)
            out.append(x)
        return out

    @torch.no_grad()
    def _down_from(self, layer: int, x, stochastic: bool, generator) -> torch.Tensor:
        """p(v | h^layer) by the generative pass from layer ``layer`` (≥ 1) down to v."""
        p = x
        for i, r in enumerate(reversed(self.rbms[:layer])):
            p = r._p_v(x)
            if i < layer - 1:  # an intermediate layer: pass probabilities or a sample on
                x = _bernoulli(p, generator) if stochastic else p
        return p

    @torch.no_grad()
    def down(
        self, h_top, stochastic: bool = False, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """The generative pass from the top hidden layer to visible probabilities.

        x^L = h_top,  p^(l-1) = σ(b^l + (x^l)ᵀW^l),  x^(l-1) = p^(l-1) (deterministic) or
        x^(l-1) ~ Bernoulli(p^(l-1)) (``stochastic=True``), down to p⁰ = p(v = 1 | x¹).

        Args:
            h_top: (batch, n_L) states or probabilities of the top hidden layer, in [0, 1].
            stochastic: sample the intermediate layers instead of passing probabilities.
            generator: torch random generator (used only when ``stochastic``).

        Returns:
            (batch, n_v) visible probabilities; for one layer ``rbm.sample_v(h_top)[0]``.
        """
        x = self.rbms[-1]._hidden(h_top, "h_top")
        as_generator(generator)
        return self._down_from(self.n_layers, x, bool(stochastic), generator)

    @torch.no_grad()
    def sample(
        self,
        n_samples: int,
        n_gibbs: int = 1000,
        generator: torch.Generator | None = None,
        v0=None,
        stochastic: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Generate: block Gibbs in the top RBM, then one downward pass.

        1. Start ``n_samples`` chains of the top RBM (layers h^(L-1), h^L): from independent
           units with p = σ(b^L) (default, ``RBM.sample``'s start), or from the up-pass
           probabilities p(h^(L-1) | v0) of visible data ``v0`` (v0 itself for one layer).
        2. Run ``n_gibbs`` Gibbs steps there (``RBM.sample``); its last sample of h^(L-1) is
           a binary state x^(L-1).
        3. Pass down through the generative weights (``down``): probabilities (default) or
           samples (``stochastic=True``) in the intermediate layers.

        For one layer this is exactly ``rbm.sample(n_samples, n_gibbs, generator, v0)``.

        Args:
            n_samples: number of independent chains.
            n_gibbs: Gibbs steps in the top RBM (≥ 1).
            generator: torch random generator.
            v0: optional (n_samples, n_v) visible data in [0, 1] to start the chains from.
            stochastic: sample the intermediate layers of the downward pass.

        Returns:
            (p_v, v): the visible probabilities p(v = 1 | x¹) (smooth pictures) and a binary
            sample from them, both (n_samples, n_v).
        """
        n_samples = count(n_samples, "n_samples")
        n_gibbs = count(n_gibbs, "n_gibbs")
        as_generator(generator)
        top = self.rbms[-1]
        start = None
        if v0 is not None:
            v0 = self.rbms[0]._visible(v0, "v0")
            if v0.shape[0] != n_samples:
                raise ValueError(
                    f"v0 must have one row per chain (n_samples = {n_samples}), got "
                    f"{v0.shape[0]} rows; pass n_samples=v0.shape[0]"
                )
            start = v0 if self.n_layers == 1 else self.up(v0)[-2]
        p, x = top.sample(n_samples, n_gibbs, generator=generator, v0=start)
        if self.n_layers == 1:
            return p, x
        p = self._down_from(self.n_layers - 1, x, bool(stochastic), generator)
        return p, _bernoulli(p, generator)


# --------------------------------------------------------------------------------------------
# Greedy layer-wise pre-training
# --------------------------------------------------------------------------------------------


def pretrain_dbn(
    layer_sizes: Sequence[int],
    data,
    epochs: int | Sequence[int] = rbm_module.DEFAULT_RECIPE["epochs"],
    generator: torch.Generator | None = None,
    allow_probabilities: bool = False,
    **train_kwargs,
) -> tuple[DBN, list[TrainHistory]]:
    """Greedy layer-wise pre-training of a DBN (Hinton, Osindero & Teh 2006).

    For l = 1 … L: build ``RBM(layer_sizes[l-1], layer_sizes[l], generator=generator)``, train
    it with ``rbm.train_rbm(rbm, x, epochs_l, generator=generator, **train_kwargs)`` (Hinton's
    recipe: visible biases at x's log-odds, CD-1, momentum, weight decay), then replace x by
    the hidden *probabilities* x ← σ(c^l + W^l x) (not binary samples; deterministic, so no
    random numbers are drawn between layers). x starts as ``data``.

    Args:
        layer_sizes: [n_v, n_1, …, n_L], with n_v = data.shape[1].
        data: (N, n_v) binary training data (0/1).
        epochs: epochs per layer: one number for all layers, or one per layer.
        generator: torch random generator, shared by all layers in order (reproducible).
        allow_probabilities: accept data with values strictly between 0 and 1 (e.g. grey
            levels as probabilities); by default the data must be binary.
        **train_kwargs: further ``rbm.train_rbm`` arguments (``lr``, ``k``, ``persistent``,
            ``batch_size``, ``momentum``, ``weight_decay``, ``callback`` (called for every
            layer), ``progress``, …), the same for every layer.

    Returns:
        (dbn, histories): the trained ``DBN`` and one ``rbm.TrainHistory`` per layer.

    Raises:
        ValueError: for bad layer sizes, data of the wrong width, non-binary data (unless
            ``allow_probabilities``) or values outside [0, 1], a wrong number of epochs, or bad
            ``train_rbm`` arguments.
    """
    sizes = _layer_sizes(layer_sizes)
    as_generator(generator)
    x = as_points(data, name="data")
    if x.shape[1] != sizes[0]:
        raise ValueError(
            f"data has {x.shape[1]} features per row but layer_sizes[0] = {sizes[0]}; the "
            f"first layer size must be the number of visible units (data.shape[1])"
        )
    rbm_module._check_unit_interval(x, "data")
    if not allow_probabilities:
        rbm_module._check_binary(x, "data", "DBN pre-training (allow_probabilities=False)")
    n_layers = len(sizes) - 1
    if isinstance(epochs, (Sequence, np.ndarray)):
        per_layer = list(epochs)
        if len(per_layer) != n_layers:
            raise ValueError(
                f"epochs has {len(per_layer)} entries but the DBN has {n_layers} layers; pass "
                "one number for all layers or one per layer"
            )
    else:
        per_layer = [epochs] * n_layers
    per_layer = [count(e, "epochs", minimum=0) for e in per_layer]
    for key in ("init", "persistent_chains", "velocity"):
        if key in train_kwargs:
            raise ValueError(
                f"pretrain_dbn sets up each layer itself, so {key!r} cannot be passed; train "
                "the RBMs with rbm.train_rbm and build DBN(rbms) to control it"
            )

    rbms, histories = [], []
    for n_in, n_out, ep in zip(sizes[:-1], sizes[1:], per_layer, strict=True):
        r = RBM(n_in, n_out, generator=generator, dtype=x.dtype, device=x.device)
        histories.append(rbm_module.train_rbm(r, x, ep, generator=generator, **train_kwargs))
        rbms.append(r)
        with torch.no_grad():
            x = r._p_h(x)
    return DBN(rbms), histories


# --------------------------------------------------------------------------------------------
# Classifiers
# --------------------------------------------------------------------------------------------


def _linear(n_in: int, n_out: int, dtype, device) -> nn.Linear:
    # skip_init builds the layer without running its default initialisation, which would draw
    # from the global random generator; every caller below fills the parameters itself.
    device = torch.device("cpu") if device is None else as_device(device)
    return nn.utils.skip_init(nn.Linear, n_in, n_out, dtype=dtype, device=device)


@torch.no_grad()
def _init_linear(lin: nn.Linear, init: str, generator) -> nn.Linear:
    gen_device = generator.device if generator is not None else torch.device("cpu")
    shape = lin.weight.shape
    if init == "uniform":
        bound = 1 / math.sqrt(shape[1])
        w = (torch.rand(shape, generator=generator, dtype=lin.weight.dtype, device=gen_device)
             * 2 - 1) * bound
        b = (torch.rand(shape[0], generator=generator, dtype=lin.weight.dtype,
                        device=gen_device) * 2 - 1) * bound
    elif init == "normal":
        w = torch.randn(shape, generator=generator, dtype=lin.weight.dtype,
                        device=gen_device) * 0.01
        b = torch.zeros(shape[0], dtype=lin.weight.dtype)
    else:
        raise ValueError(f"init must be 'uniform' or 'normal', got {init!r}")
    lin.weight.copy_(w.to(lin.weight.device))
    lin.bias.copy_(b.to(lin.bias.device))
    return lin


def random_classifier(
    layer_sizes: Sequence[int],
    n_classes: int,
    generator: torch.Generator | None = None,
    init: str = "uniform",
    dtype: torch.dtype = torch.float32,
    device=None,
) -> nn.Sequential:
    """A randomly initialised classifier with the architecture of ``to_classifier``.

    Linear(n_v, n_1), Sigmoid, …, Linear(n_(L-1), n_L), Sigmoid, Linear(n_L, n_classes): it
    outputs logits (use ``F.cross_entropy`` / ``softmax``).

    Args:
        layer_sizes: [n_v, n_1, …, n_L], as for ``pretrain_dbn``.
        n_classes: number of classes (≥ 2).
        generator: torch random generator for the weights.
        init: ``"uniform"`` (default): weights and biases ~ U(-1/√fan_in, 1/√fan_in), the
            distribution of PyTorch's default ``nn.Linear`` initialisation, but drawn from
            ``generator``: the usual baseline for "no pre-training". ``"normal"``: weights
            N(0, 0.01²) and biases 0, the RBM initialisation (Hinton 2010); in a deep sigmoid
            net such small weights make gradients vanish, so it is a weak baseline.
        dtype, device: of the parameters.

    Returns:
        A ``torch.nn.Sequential``.
    """
    sizes = _layer_sizes(layer_sizes)
    n_classes = _n_classes(n_classes)
    choice(init, "init", ("uniform", "normal"))
    as_generator(generator)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ArgumentTypeError(f"dtype must be a floating torch dtype such as torch.float32, "
                                f"got {dtype!r}")
    mods: list[nn.Module] = []
    for a, b in itertools.pairwise(sizes):
        mods += [_init_linear(_linear(a, b, dtype, device), init, generator), nn.Sigmoid()]
    mods.append(_init_linear(_linear(sizes[-1], n_classes, dtype, device), init, generator))
    return nn.Sequential(*mods)


def to_classifier(
    dbn: DBN,
    n_classes: int,
    generator: torch.Generator | None = None,
    init: str = "uniform",
) -> nn.Sequential:
    """A feed-forward classifier initialised from a DBN's recognition weights.

    Layer l is Linear(n_(l-1), n_l) with weight = W^l (shape (n_l, n_(l-1)), the RBM's
    ``W``) and bias = c^l (``h_bias``), followed by a Sigmoid, so that before fine-tuning the
    hidden activations equal ``dbn.up(v)``. A fresh output Linear(n_L, n_classes) (logits)
    is initialised as in ``random_classifier`` (``init``, ``generator``). The parameters are
    copies: fine-tuning the classifier leaves the DBN unchanged.

    Args:
        dbn: a ``DBN`` (e.g. from ``pretrain_dbn``).
        n_classes: number of classes (≥ 2).
        generator: torch random generator for the output layer.
        init: ``"uniform"`` or ``"normal"``, for the output layer (``random_classifier``).

    Returns:
        A ``torch.nn.Sequential`` on the DBN's device and dtype.
    """
    as_module(dbn, "dbn", DBN, "; build one with pretrain_dbn(layer_sizes, data)")
    n_classes = _n_classes(n_classes)
    choice(init, "init", ("uniform", "normal"))
    as_generator(generator)
    mods: list[nn.Module] = []
    with torch.no_grad():
        for r in dbn.rbms:
            lin = _linear(r.n_visible, r.n_hidden, r.W.dtype, r.W.device)
            lin.weight.copy_(r.W)
            lin.bias.copy_(r.h_bias)
            mods += [lin, nn.Sigmoid()]
    top = dbn.rbms[-1]
    out = _linear(top.n_hidden, n_classes, top.W.dtype, top.W.device)
    mods.append(_init_linear(out, init, generator))
    return nn.Sequential(*mods)


# --------------------------------------------------------------------------------------------
# Supervised fine-tuning
# --------------------------------------------------------------------------------------------


@dataclass
class FineTuneHistory(History):
    """Per-epoch record of ``fine_tune``.

    Attributes:
        metrics: lists with one entry per epoch: ``"epoch"`` (1, 2, …), ``"loss"`` (mean
            training cross-entropy over the epoch's minibatches, in nats, measured while
            training), ``"train_accuracy"`` (on all of ``x`` after the epoch), ``"seconds"``
            (cumulative training time), ``"val_loss"`` and ``"val_accuracy"`` when validation
            data are given, plus every key a callback returned. ``history["loss"]`` reads them.
    """


def _first_linear(model: nn.Module) -> nn.Linear:
    for m in model.modules():
        if isinstance(m, nn.Linear):
            return m
    raise ValueError(
        "model must contain an nn.Linear layer (build it with to_classifier or "
        "random_classifier)"
    )


def _labelled(model: nn.Module, x, y, n_classes: int | None, name_x: str, name_y: str):
    first = _first_linear(model)
    x = as_points(x, first.in_features, name=name_x)
    if not isinstance(y, torch.Tensor):
        y = torch.as_tensor(np.asarray(y))
    if y.ndim != 1 or y.dtype.is_floating_point or y.dtype == torch.bool:
        raise ValueError(
            f"{name_y} must be a 1-D tensor of integer class labels, got dtype {y.dtype} and "
            f"shape {tuple(y.shape)}; convert it with {name_y}.long()"
        )
    if y.shape[0] != x.shape[0]:
        raise ValueError(
            f"{name_x} and {name_y} must have the same number of rows (one label per "
            f"example), got {x.shape[0]} and {y.shape[0]}"
        )
    if n_classes is not None and (bool((y < 0).any()) or bool((y >= n_classes).any())):
        raise ValueError(
            f"{name_y} must hold labels 0 … {n_classes - 1} (the model has {n_classes} "
            f"outputs), got values in [{int(y.min())}, {int(y.max())}]"
        )
    return x.to(device=first.weight.device, dtype=first.weight.dtype), y.long().to(
        first.weight.device
    )


def _n_outputs(model: nn.Module) -> int:
    last = None
    for m in model.modules():
        if isinstance(m, nn.Linear):
            last = m
    return _n_classes(last.out_features) if last is not None else 0


@torch.no_grad()
def _evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    was = model.training
    model.eval()
    logits = model(x)
    model.train(was)
    loss = float(F.cross_entropy(logits, y))
    acc = float((logits.argmax(1) == y).float().mean())
    return loss, acc


def accuracy(model: nn.Module, x, y) -> float:
    """Fraction of rows of ``x`` whose arg-max logit equals the label in ``y`` (in [0, 1])."""
    as_module(model)
    x, y = _labelled(model, x, y, _n_outputs(model), "x", "y")
    return _evaluate(model, x, y)[1]


def fine_tune(
    model: nn.Module,
    x,
    y,
    epochs: int = 30,
    lr: float = 0.1,
    batch_size: int = 32,
    generator: torch.Generator | None = None,
    weight_decay: float = 0.0,
    optimizer: str = "sgd",
    momentum: float = 0.9,
    x_val=None,
    y_val=None,
    callback: Callable | None = None,
    progress: bool | None = None,
) -> FineTuneHistory:
    """Supervised training of a classifier with minibatch backprop and cross-entropy.

    A plain loop, the same for pre-trained (``to_classifier``) and randomly initialised
    (``random_classifier``) nets, so the two can be compared fairly: each epoch visits the rows
    of ``x`` once in a random order (from ``generator``) in minibatches of ``batch_size`` and
    takes one optimiser step on the mean loss

        L = -(1/B) Σ_n log softmax(f(x_n))_(y_n).

    Args:
        model: the classifier (outputs logits), trained in place.
        x: (N, n_v) inputs; y: (N,) integer labels 0 … n_classes - 1.
        epochs: passes over the data (≥ 0).
        lr: learning rate (> 0).
        batch_size: examples per step.
        generator: torch random generator for the shuffling.
        weight_decay: L2 coefficient (≥ 0), the optimiser's ``weight_decay`` (all parameters).
        optimizer: ``"sgd"`` (with ``momentum``) or ``"adam"`` (``momentum`` ignored).
        momentum: SGD momentum in [0, 1).
        x_val, y_val: optional held-out data, evaluated after each epoch.
        callback: ``callback(epoch, model, metrics)`` after each epoch; a returned dict is
            recorded in the history too.
        progress: show a ``tqdm`` bar; ``None`` shows it unless ``config.progress_disabled()``.

    Returns:
        A ``FineTuneHistory``.

    Raises:
        ValueError: for mismatched or out-of-range inputs and labels, or bad hyper-parameters.
    """
    from tqdm.auto import tqdm

    from . import config

    as_module(model, hint="; build one with to_classifier or random_classifier")
    as_generator(generator)
    if callback is not None and not callable(callback):
        raise ArgumentTypeError(f"callback must be None or a function (epoch, model, metrics), "
                                f"got {type(callback).__name__}")
    n_classes = _n_outputs(model)
    x, y = _labelled(model, x, y, n_classes, "x", "y")
    val = None
    if (x_val is None) != (y_val is None):
        raise ValueError("pass both x_val and y_val, or neither")
    if x_val is not None:
        val = _labelled(model, x_val, y_val, n_classes, "x_val", "y_val")
    epochs = count(epochs, "epochs", minimum=0)
    lr = positive(lr, "lr", "; 0.01–0.1 is typical for SGD, 1e-3 for Adam")
    batch_size = count(batch_size, "batch_size")
    weight_decay = non_negative(weight_decay, "weight_decay")
    momentum = in_range(momentum, "momentum", 0.0, 1.0, high_open=True,
                        hint="; 0.9 is typical")
    params = [p for p in model.parameters() if p.requires_grad]
    if choice(optimizer, "optimizer", ("sgd", "adam")) == "sgd":
        opt = torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    else:
        opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    guard = DivergenceGuard(
        "fine-tuning", f"lower lr (now {lr:g}), e.g. 10× (0.01–0.1 is typical for SGD, 1e-3 "
        "for Adam)", params=params)

    gen_device = generator.device if generator is not None else torch.device("cpu")
    history = FineTuneHistory()
    disable = config.progress_disabled() if progress is None else not progress
    seconds = 0.0
    model.train()
    bar = tqdm(range(1, epochs + 1), desc="fine-tuning", unit="epoch", disable=disable)
    for epoch in bar:
        t0 = time.perf_counter()
        perm = torch.randperm(x.shape[0], generator=generator, device=gen_device).to(x.device)
        loss_sum = 0.0
        for s in range(0, x.shape[0], batch_size):
            rows = perm[s : s + batch_size]
            loss = F.cross_entropy(model(x[rows]), y[rows])
            value = guard.check_loss(f"in epoch {epoch}", loss)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += value * rows.shape[0]
        seconds += time.perf_counter() - t0
        guard.check_params(f"in epoch {epoch}")
        metrics = {
            "epoch": epoch,
            "loss": loss_sum / x.shape[0],
            "train_accuracy": _evaluate(model, x, y)[1],
            "seconds": seconds,
        }
        if val is not None:
            metrics["val_loss"], metrics["val_accuracy"] = _evaluate(model, *val)
        metrics = record_epoch(history, metrics, callback, epoch, model)
        bar.set_postfix(loss=f"{metrics['loss']:.3g}")
    return history
