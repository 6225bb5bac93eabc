"""Input checks shared by the helper modules, so every bad input gets the same clear message.

Private: used by every module of the package; not part of the public API. Besides the checks of
points, numbers and counts it holds the checks of *kinds* of argument (``as_generator``,
``as_module``, ``as_callable``, ``as_device``; a wrong kind raises ``ArgumentTypeError``, which
is both a ``TypeError`` and a ``ValueError``), the conversion of inputs to a model's dtype at the
boundary (``as_model_input``), and the estimates that refuse work which could not finish
(``check_memory``, ``check_cost``: a ``ValueError`` naming the argument to shrink and the
estimate, before anything is allocated).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

#: The most memory one array the package allocates may take (1 GiB): a laptop kernel has a
#: budget of about 1.5 GB for everything (README), so anything larger is refused up front.
MEMORY_LIMIT_BYTES = 2**30

#: The most multiply-adds one exact computation may take: 10^11, i.e. about a minute
#: on one laptop CPU core (measured: 1–5·10^9 multiply-adds per second with exp/log work).
COST_LIMIT = 1e11

_OPS_PER_SECOND = 2e9  # mixed matmul + exp/log work on one laptop core, for the message


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong kind (e.g. a NumPy generator where a ``torch.Generator`` is
    expected). Both a ``TypeError`` and a ``ValueError``, like scikit-learn's
    ``InvalidParameterError``, so code that catches the package's ``ValueError``s still does."""


def as_points(
    x, dim: int | None = None, name: str = "x", allow_empty: bool = False
) -> torch.Tensor:
    """Check that ``x`` is a finite floating (batch, features) tensor and return it as a tensor.

    Args:
        x: tensor or array-like of shape (batch, dim).
        dim: the required number of features, or ``None`` for any.
        name: the argument name used in error messages.

    Half-precision input (float16, bfloat16) is converted to float32.

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
    if x.dtype in (torch.float16, torch.bfloat16):
        # half precision has no CPU kernels for several operations used here (cdist, ...) and
        # too few digits for energies: compute in float32
        x = x.float()
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


def _float(value, name: str, what: str) -> float:
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{name} must be {what}, got {value!r}")
    if isinstance(value, (torch.Tensor, np.ndarray)) and np.size(value) != 1:
        raise ValueError(f"{name} must be {what} (a single number), got an array of shape "
                         f"{tuple(value.shape)}")
    try:
        return float(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be {what}, got {value!r}") from err


def number(value, name: str) -> float:
    """Check that a scalar is a finite number and return it as a float."""
    v = _float(value, name, "a finite number")
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return v


def in_range(value, name: str, low: float, high: float, low_open: bool = False,
             high_open: bool = False, hint: str = "") -> float:
    """Check that a scalar lies in the interval from ``low`` to ``high`` (open or closed ends,
    NaN rejected) and return it as a float."""
    interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    v = _float(value, name, f"a number in {interval}")
    ok = (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if not ok:  # also NaN
        raise ValueError(f"{name} must be in {interval}, got {value!r}{hint}")
    return v


def positive(value, name: str, hint: str = "") -> float:
    """Check that a scalar is a finite number > 0 and return it as a float."""
    v = _float(value, name, "a positive number")
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}{hint}")
    return v


def non_negative(value, name: str) -> float:
    """Check that a scalar is a finite number ≥ 0 (e.g. a weight decay) and return it as a float."""
    v = _float(value, name, "a finite number ≥ 0")
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


def count(value, name: str, minimum: int = 1, maximum: int | None = None) -> int:
    """Check a whole-number count (e.g. a number of steps or samples)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value}")
    return int(value)


def widths(value, name: str = "hidden") -> list[int]:
    """Check a list of layer widths, e.g. (128, 128); return it as a list of ints."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ValueError(f"{name} must be a list of layer widths, e.g. (128, 128), got "
                         f"{value!r}")
    return [count(w, f"{name} width") for w in value]


def choice(value, name: str, options) -> str:
    """Check that ``value`` is one of ``options`` (strings); return it."""
    options = tuple(options)
    if not isinstance(value, str) or value not in options:
        listed = ", ".join(repr(o) for o in options)
        raise ValueError(f"{name} must be one of {listed}, got {value!r}")
    return value


# --------------------------------------------------------------------------------------------
# Kinds of argument
# --------------------------------------------------------------------------------------------


def as_generator(generator, name: str = "generator") -> torch.Generator | None:
    """Check that ``generator`` is ``None`` or a ``torch.Generator``; return it.

    Raises:
        ArgumentTypeError: for anything else (a NumPy generator, an int seed, ...), saying how
            to make a torch generator.
    """
    if generator is None or isinstance(generator, torch.Generator):
        return generator
    make = "torch.Generator().manual_seed(seed)"
    if isinstance(generator, (np.random.Generator, np.random.RandomState)):
        what = f"a NumPy {type(generator).__name__}; the package draws with torch, so pass {make}"
    elif isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        what = f"the integer {generator!r}; to seed, pass {make} with seed={generator!r}"
    else:
        what = f"{type(generator).__name__} {generator!r}; pass {make} (or None)"
    raise ArgumentTypeError(f"{name} must be a torch.Generator, got {what}")


def as_module(model, name: str = "model", cls=torch.nn.Module, hint: str = ""):
    """Check that ``model`` is an instance of ``cls`` (a ``torch.nn.Module`` by default)."""
    if not isinstance(model, cls):
        raise ArgumentTypeError(
            f"{name} must be a {cls.__module__.replace('torch.nn.modules.module', 'torch.nn')}."
            f"{cls.__name__}, got {type(model).__name__} {_short(model)}{hint}"
        )
    return model


def as_callable(fn, name: str, what: str):
    """Check that ``fn`` is callable; ``what`` describes the expected function."""
    if not callable(fn):
        raise ArgumentTypeError(f"{name} must be {what}, got {type(fn).__name__} {_short(fn)}")
    return fn


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def as_device(device) -> torch.device | None:
    """``None`` (the default device, the CPU) or a device checked by ``config.device``.

    Raises:
        ValueError: for an unknown name (e.g. ``"gpu"``) or CUDA on a machine without it.
    """
    if device is None:
        return None
    from . import config

    if not isinstance(device, (str, torch.device)):
        raise ArgumentTypeError(
            f"device must be a string such as 'cpu' or 'cuda', or a torch.device, got "
            f"{type(device).__name__} {_short(device)}"
        )
    return config.device(str(device))


def as_model_input(x, like: torch.Tensor, dim: int | None = None, name: str = "x"):
    """Check a (batch, dim) input of a network and convert it to the dtype and device of
    ``like`` (one of the network's parameters), so that NumPy float64 data meet float32 weights
    without "mat1 and mat2 must have the same dtype". The conversion keeps autograd."""
    if isinstance(x, torch.Tensor) and torch.is_floating_point(x) and x.ndim == 2 and (
        dim is None or x.shape[1] == dim
    ) and x.dtype == like.dtype and x.device == like.device:
        return x  # the fast path of every training step (no finiteness pass either)
    x = as_points(x, dim, name=name)
    return x.to(dtype=like.dtype, device=like.device)


# --------------------------------------------------------------------------------------------
# Work that could not finish
# --------------------------------------------------------------------------------------------


def _bytes(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if n < 1024 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} PB"  # pragma: no cover


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.3g} days"


def check_memory(n_elements: float, argument: str, what: str, bytes_per_element: int = 8,
                 limit: float | None = None) -> None:
    """Refuse an allocation larger than ``MEMORY_LIMIT_BYTES`` before it is made.

    Args:
        n_elements: the number of array elements the computation would hold at once.
        argument: the argument(s) to shrink, named in the message.
        what: what would be allocated (e.g. "the trace of 10 000 states").

    Raises:
        ValueError: naming ``argument`` and the estimate.
    """
    limit = MEMORY_LIMIT_BYTES if limit is None else limit
    need = float(n_elements) * bytes_per_element
    if need > limit:
        raise ValueError(
            f"{what} would need about {_bytes(need)} of memory, more than the {_bytes(limit)} "
            f"allowed for one array here; shrink {argument}"
        )


def check_cost(n_operations: float, argument: str, what: str, limit: float | None = None
               ) -> None:
    """Refuse a computation of more than ``COST_LIMIT`` multiply-adds before it starts.

    Raises:
        ValueError: naming ``argument`` and the estimated operations and run time.
    """
    limit = COST_LIMIT if limit is None else limit
    if n_operations > limit:
        seconds = n_operations / _OPS_PER_SECOND
        raise ValueError(
            f"{what} would take about {n_operations:.2g} multiply-adds, roughly "
            f"{_duration(seconds)} on a laptop CPU core (the limit here is {limit:.2g}); "
            f"shrink {argument}"
        )
