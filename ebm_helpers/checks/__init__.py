"""Checkers for the exercises in which a learner writes a key piece of code.

Every checker is called as ``checks.<exercise>(candidate) -> bool``: it runs the learner's
function against the package's tested implementation on several inputs, edge cases included,
prints "✓ … correct" or the first failing input with the expected and the obtained value and a
hint, returns whether all passed, and never raises. A stub that still raises
``NotImplementedError`` reads as "not attempted yet", so notebooks with unsolved exercises run
cleanly (nbval, Run All).

One module per notebook (``nb01.py`` for notebook 01, …), each registering its checkers with
``@checker("<notebook stem>")``; this package imports them all and re-exports every checker, so
a notebook writes ``from ebm_helpers import checks`` and ``checks.metropolis_step(my_step)``.
``CHECKERS`` maps each checker's name to its notebook. Writing a checker::

    from ._core import Case, checker, close, run_cases

    @checker("01_boltzmann_distribution")
    def boltzmann_probabilities(candidate) -> bool:
        cases = [Case("three states at T = 1", (torch.tensor([0.0, 1.0, 2.0]), 1.0)), ...]
        return run_cases("boltzmann_probabilities", candidate, reference, cases, close(),
                         hint="subtract the smallest energy before exponentiating")

Tests (``tests/test_checks*.py``): each checker accepts the reference solution and rejects at
least two typical wrong answers (a sign error, a missing term, a wrong axis).
"""

from __future__ import annotations

import importlib
import pkgutil

from ._core import CHECKERS, Case, checker, close, equal, run_cases, verdict

__all__ = ["CHECKERS", "Case", "checker", "close", "equal", "run_cases", "verdict"]

def _load_notebook_modules() -> None:
    """Import every ``nbNN`` module (registering its checkers) and re-export the checkers."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("nb"):
            module = importlib.import_module(f"{__name__}.{info.name}")
            for name in CHECKERS:
                if hasattr(module, name) and name not in globals():
                    globals()[name] = getattr(module, name)
                    __all__.append(name)


_load_notebook_modules()
