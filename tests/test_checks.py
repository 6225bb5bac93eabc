"""The checker machinery of ``ebm_helpers.checks``: verdicts, never raising, registration.

The checkers of each notebook's exercises are tested in ``test_checks_nbNN.py``: each accepts
the reference solution and rejects typical wrong answers.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ebm_helpers import checks
from ebm_helpers.checks import _core


def _square(x):
    return x * x


CASES = [_core.Case("a vector", (torch.tensor([1.0, -2.0, 3.0]),)),
         _core.Case("a scalar", (torch.tensor(0.5),))]


def _run(candidate):
    return _core.run_cases("square", candidate, _square, CASES, _core.close(),
                           hint="multiply x by itself")


def test_correct_candidate_passes(capsys):
    assert _run(lambda x: x**2) is True
    assert "✓ square: correct on all 2 inputs" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("candidate", "says"),
    [
        (lambda x: -x * x, "largest difference"),
        (lambda x: (x * x).reshape(-1, 1), "shape"),
        (lambda x: None, "forget `return`"),
        (lambda x: x / 0 * 0, "NaN or inf"),
        (lambda x: 1 / 0, "raised ZeroDivisionError on a vector"),
        (42, "pass your function itself"),
    ],
)
def test_wrong_candidates_fail_with_a_reason(capsys, candidate, says):
    assert _run(candidate) is False
    out = capsys.readouterr().out
    assert says in out
    assert "✗" in out


def test_inputs_are_copied_so_in_place_edits_do_not_leak(capsys):
    def sneaky(x):
        x.mul_(0)
        return x

    assert _run(sneaky) is False  # the reference still sees the original input
    assert CASES[0].args[0].tolist() == [1.0, -2.0, 3.0]


def test_a_registered_checker_never_raises(capsys):
    @_core.checker("tests", name="_test_only_checker")
    def broken(candidate):
        candidate()
        raise KeyError("bug in the checker")

    try:
        def stub():
            raise NotImplementedError

        assert broken(stub) is False
        assert "not attempted yet" in capsys.readouterr().out
        assert broken(lambda: None) is False
        assert "the checker failed (KeyError" in capsys.readouterr().out
        assert broken.notebook == "tests"
    finally:
        _core.CHECKERS.pop("_test_only_checker")


def test_equal_and_tuples():
    _core.equal()(np.array([1, 2]), torch.tensor([1, 2]))
    with pytest.raises(_core.Mismatch, match="item 1"):
        _core.close()((1.0, 2.0), (1.0, 2.5))
    with pytest.raises(_core.Mismatch, match="values differ"):
        _core.equal()(np.array([1, 2]), np.array([2, 1]))


def test_registry_maps_checkers_to_existing_notebooks():
    from ebm_helpers import config

    stems = {p.stem for p in config.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.py")}
    for name, notebook in checks.CHECKERS.items():
        assert notebook in stems, f"checker {name} names a missing notebook {notebook}"
        assert callable(getattr(checks, name)), name
