"""The machinery of the exercise checkers (private): registration, cases, comparison, verdicts.

A checker runs the learner's function against the package's tested implementation on several
inputs (edge cases included), prints one verdict and returns a bool. It never raises: a stub that
raises ``NotImplementedError`` reads as "not attempted yet", any other exception from the
learner's code is reported with the input that caused it, and a bug in a checker itself is
reported as such instead of a traceback.
"""

from __future__ import annotations

import copy
import functools
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

#: checker name -> the notebook (stem) whose exercise it checks; filled by ``@checker``.
CHECKERS: dict[str, str] = {}

PASS, FAIL = "✓", "✗"


@dataclass
class Case:
    """One input on which the learner's function is compared with the reference.

    Args:
        label: what the case is, in words a learner understands ("three states at T = 1").
        args, kwargs: the call's arguments. They are deep-copied for each call, so a candidate
            that modifies its input in place cannot change what the reference sees.
        make: instead of ``args``/``kwargs``, a function returning ``(args, kwargs)`` afresh for
            each call (use it when an argument is a ``torch.Generator`` that must start in the
            same state for the candidate and the reference).
    """

    label: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    make: Callable[[], tuple[tuple, dict]] | None = None

    def fresh(self) -> tuple[tuple, dict]:
        if self.make is not None:
            return self.make()
        return copy.deepcopy(self.args), copy.deepcopy(self.kwargs)


class Mismatch(Exception):
    """Raised by a comparison: the obtained value differs from the expected one (the message
    says how)."""


def _array(value, what: str) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    try:
        return np.asarray(value)
    except Exception as err:  # pragma: no cover - exotic objects
        raise Mismatch(f"{what} is a {type(value).__name__}, not an array of numbers") from err


def _short(value, limit: int = 300) -> str:
    """A compact, readable rendering of a value for a verdict."""
    if isinstance(value, torch.Tensor):
        array = np.array2string(value.detach().cpu().numpy(), precision=4, threshold=12)
        text = f"tensor{tuple(value.shape)} {array}"
    elif isinstance(value, np.ndarray):
        text = f"array{value.shape} {np.array2string(value, precision=4, threshold=12)}"
    elif isinstance(value, float):
        text = f"{value:.6g}"
    else:
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def close(rtol: float = 1e-5, atol: float = 1e-6, check_shape: bool = True) -> Callable:
    """A comparison for numbers, arrays and tensors (and tuples/lists of them).

    Raises ``Mismatch`` naming the first difference: a shape, a non-finite value, or the largest
    deviation and where it is.
    """

    def compare(expected, obtained) -> None:
        if isinstance(expected, (tuple, list)):
            if not isinstance(obtained, (tuple, list)) or len(obtained) != len(expected):
                raise Mismatch(
                    f"expected a tuple of {len(expected)} values, got {_short(obtained)}"
                )
            for i, (e, o) in enumerate(zip(expected, obtained, strict=True)):
                try:
                    compare(e, o)
                except Mismatch as err:
                    raise Mismatch(f"item {i} of the result: {err}") from None
            return
        if obtained is None:
            raise Mismatch("the function returned None: did you forget `return`?")
        e, o = _array(expected, "the reference"), _array(obtained, "your result")
        if check_shape and e.shape != o.shape:
            raise Mismatch(f"shape {o.shape} where {e.shape} was expected")
        try:
            o = o.astype(np.float64)
        except (TypeError, ValueError) as err:
            raise Mismatch(f"your result is not numeric ({o.dtype})") from err
        e = e.astype(np.float64)
        if not np.isfinite(o).all() and np.isfinite(e).all():
            raise Mismatch("your result has NaN or inf entries where the reference is finite")
        if not np.allclose(o, e, rtol=rtol, atol=atol, equal_nan=True):
            diff = np.abs(o - e)
            diff = np.where(np.isnan(diff), np.inf, diff)
            where = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
            at = f" at index {tuple(int(i) for i in where)}" if where else ""
            raise Mismatch(
                f"largest difference {float(diff.max()):.3g}{at} (tolerance {atol:g} + "
                f"{rtol:g}·|expected|)"
            )

    return compare


def equal() -> Callable:
    """A comparison for exact results (integers, booleans, labels, index arrays)."""

    def compare(expected, obtained) -> None:
        e = _array(expected, "the reference")
        o = _array(obtained, "your result")
        if e.shape != o.shape:
            raise Mismatch(f"shape {o.shape} where {e.shape} was expected")
        if not np.array_equal(e, o):
            raise Mismatch("the values differ")

    return compare


def checker(notebook: str, name: str | None = None) -> Callable:
    """Register a checker for an exercise of ``notebook`` and make it safe to call.

    The decorated function takes the learner's function (and maybe options), prints its own
    verdict and returns a bool. The wrapper turns a stub's ``NotImplementedError`` into "not
    attempted yet" and any unexpected exception into a printed message, so that a checker
    never raises in a learner's notebook (or under nbval).
    """

    def decorate(fn: Callable[..., bool]) -> Callable[..., bool]:
        key = name or fn.__name__
        if key in CHECKERS and CHECKERS[key] != notebook:
            raise RuntimeError(f"two checkers are named {key!r} ({CHECKERS[key]}, {notebook})")
        CHECKERS[key] = notebook

        @functools.wraps(fn)
        def safe(*args, **kwargs) -> bool:
            try:
                return bool(fn(*args, **kwargs))
            except NotImplementedError:
                print(f"… {key}: not attempted yet — replace the `raise NotImplementedError` "
                      "with your code and run the cell again.")
                return False
            except Exception as err:  # a bug in the checker itself: report, do not raise
                last = traceback.extract_tb(err.__traceback__)[-1]
                print(f"{FAIL} {key}: the checker failed ({type(err).__name__}: {err}, at "
                      f"{last.filename.split('/')[-1]}:{last.lineno}); please report this.")
                return False

        safe.notebook = notebook
        return safe

    return decorate


def run_cases(
    name: str,
    candidate: Callable,
    reference: Callable,
    cases: Sequence[Case],
    compare: Callable[[Any, Any], None] | None = None,
    hint: str = "",
) -> bool:
    """Compare ``candidate(*args, **kwargs)`` with ``reference(*args, **kwargs)`` on each case.

    Prints "✓ name: correct on N inputs" or the first failing input with the expected and the
    obtained value and ``hint``; returns whether every case passed. ``NotImplementedError``
    from the candidate propagates (``@checker`` reports it as "not attempted yet").
    """
    if not callable(candidate):
        print(f"{FAIL} {name}: pass your function itself (e.g. `checks.{name}(my_function)`), "
              f"not {_short(candidate)}")
        return False
    compare = compare or close()
    for case in cases:
        args, kwargs = case.fresh()
        expected = reference(*args, **kwargs)
        args, kwargs = case.fresh()
        try:
            obtained = candidate(*args, **kwargs)
        except NotImplementedError:
            raise
        except Exception as err:
            print(f"{FAIL} {name}: your function raised {type(err).__name__} on {case.label}: "
                  f"{err}")
            if hint:
                print(f"  hint: {hint}")
            return False
        try:
            compare(expected, obtained)
        except Mismatch as err:
            print(f"{FAIL} {name}: wrong on {case.label}: {err}")
            print(f"  expected: {_short(expected)}")
            print(f"  obtained: {_short(obtained)}")
            if hint:
                print(f"  hint: {hint}")
            return False
    print(f"{PASS} {name}: correct on all {len(cases)} inputs.")
    return True


def verdict(name: str, ok: bool, message: str = "", hint: str = "") -> bool:
    """Print a verdict for checks that are not a plain input/output comparison."""
    if ok:
        print(f"{PASS} {name}: correct{'. ' + message if message else '.'}")
    else:
        print(f"{FAIL} {name}: {message}")
        if hint:
            print(f"  hint: {hint}")
    return bool(ok)


def finite(value) -> bool:
    """Whether a number/array/tensor is entirely finite."""
    try:
        return bool(np.isfinite(_array(value, "value")).all())
    except (Mismatch, TypeError):
        return False


__all__ = ["CHECKERS", "Case", "Mismatch", "checker", "close", "equal", "finite", "run_cases",
           "verdict"]
