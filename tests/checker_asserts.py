"""Assertions shared by the checker tests (tests/test_checks_nbNN.py).

Every checker of ``ebm_helpers.checks`` must reject a typical wrong answer with a ✗, a line that
says which case failed and a hint, and must read an unimplemented stub as "not attempted yet".
"""

from __future__ import annotations


def assert_rejected(capsys, checker, wrong, says: str) -> None:
    """``checker(wrong)`` is False and prints ✗, ``says`` (the failing case) and a hint."""
    assert checker(wrong) is False
    out = capsys.readouterr().out
    assert "✗" in out and says in out and "hint" in out, out


def assert_stubs_not_attempted(capsys, checkers) -> None:
    """Each checker reads a stub raising NotImplementedError as not attempted (and False)."""

    def stub(*args):
        raise NotImplementedError

    for checker in checkers:
        assert checker(stub) is False
        assert "not attempted yet" in capsys.readouterr().out
