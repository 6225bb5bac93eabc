"""Building the package's networks from an explicit generator (private).

Every model constructor of the package takes a ``generator``. With one, ``build`` constructs the
network on PyTorch's "meta" device (no memory, no random numbers) and draws every ``Linear`` /
``Conv`` parameter from the generator with PyTorch's default distribution, U(±1/√fan_in) for
weights and biases, so that a run seeded only through ``generator=`` is reproducible and the
global random state is not touched. Without one, the network is built as PyTorch builds it (the
global generator), exactly as before. Used by ``ebm``, ``score``, ``diffusion`` and ``anomaly``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable

import torch
from torch import nn

_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def deferred(generator: torch.Generator | None):
    """A context in which layers are created without initialisation when a generator is given
    (on the meta device); then call ``materialize_``. A no-op context otherwise."""
    return torch.device("meta") if generator is not None else contextlib.nullcontext()


def materialize_(module: nn.Module, generator: torch.Generator | None) -> nn.Module:
    """After ``deferred``: allocate the parameters on the CPU and draw them from ``generator``."""
    if generator is not None:
        module.to_empty(device="cpu")
        reset_parameters_(module, generator)
    return module


def build(factory: Callable[[], nn.Module], generator: torch.Generator | None) -> nn.Module:
    """``factory()``, with its parameters drawn from ``generator`` when one is given."""
    with deferred(generator):
        module = factory()
    return materialize_(module, generator)


@torch.no_grad()
def reset_parameters_(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """Redraw every Linear/Conv weight and bias from ``generator``: U(-1/√fan_in, 1/√fan_in),
    the distribution of PyTorch's default initialisation, in module order (weight, then bias).

    Raises:
        TypeError: if the module has parameters of another kind of layer (no default known).
    """
    for m in module.modules():
        if isinstance(m, _LAYERS):
            bound = 1.0 / math.sqrt(m.weight[0].numel())  # fan_in = in_features (· kernel size)
            for p in (m.weight, m.bias):
                if p is not None:
                    drawn = torch.empty(p.shape, dtype=p.dtype, device=generator.device)
                    p.copy_(drawn.uniform_(-bound, bound, generator=generator))
        elif any(True for _ in m.parameters(recurse=False)):
            raise TypeError(f"no default initialisation known for {type(m).__name__}")
    return module
