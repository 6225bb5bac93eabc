"""Input checks shared by the helper modules, so every bad input gets the same clear message.

Private: used by ``energies``, ``samplers`` and ``metrics``; not part of the public API.
"""

from __future__ import annotations

import math

import numpy as np
import torch


def as_points(
    x, dim: int | None = None, name: str = "x", allow_empty: bool = False
) -> torch.Tensor:
    """Check that ``x`` is a finite floating (batch, features) tensor and return it as a tensor.

    Args:
        x: tensor or array-like of shape (batch, dim).
        dim: the required number of features, or ``None`` for any.
        name: the argument name used in error messages.

    Raises:
        ValueError: for a wrong rank or feature count, an integer/bool dtype, an empty batch,
            or non-finite entries, saying how to fix it.
    """
    if not isinstance(x, torch.Tensor):
        try:
            x = torch.as_tensor(np.asarray(x))
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name} must be a tensor or array of numbers: {err}") from err
    if not torch.is_floating_point(x):
        raise ValueError(
            f"{name} must be a floating-point tensor, got dtype {x.dtype}; convert it with "
            f"{name}.float() (or torch.as_tensor({name}, dtype=torch.float32))"
        )
    if x.ndim != 2:
        hint = f" (use {name}.reshape(-1, {dim}) for a batch)" if dim else ""
        raise ValueError(f"{name} must have shape (batch, features), got {tuple(x.shape)}{hint}")
    if dim is not None and x.shape[1] != dim:
        raise ValueError(f"{name} must have {dim} feature(s) per row, got shape {tuple(x.shape)}")
    if x.shape[0] == 0 and not allow_empty:
        raise ValueError(f"{name} is empty (shape {tuple(x.shape)}); pass at least one row")
    if not torch.isfinite(x).all():
        bad = int((~torch.isfinite(x)).any(dim=1).sum())
        raise ValueError(
            f"{name} has non-finite values (NaN or inf) in {bad} row(s); remove or replace them "
            "before calling (e.g. with torch.nan_to_num or by filtering the rows)"
        )
    return x


def positive(value, name: str, hint: str = "") -> float:
    """Check that a scalar is a finite number > 0 and return it as a float."""
    try:
        v = float(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a positive number, got {value!r}") from err
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}{hint}")
    return v


def non_negative(value, name: str) -> float:
    """Check that a scalar is a finite number ≥ 0 (e.g. a weight decay) and return it as a float."""
    try:
        v = float(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a finite number ≥ 0, got {value!r}") from err
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{name} must be a finite number ≥ 0, got {value!r}")
    return v


def temperature(value) -> float:
    """Check a temperature T (> 0, finite)."""
    return positive(
        value,
        "temperature T",
        "; T → 0 is the ground state and T = ∞ the uniform distribution, so use a small or "
        "large positive value instead",
    )


def count(value, name: str, minimum: int = 1) -> int:
    """Check a whole-number count (e.g. a number of steps or samples)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)
