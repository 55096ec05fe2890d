"""Helpers shared by the tests of the exercise checks (tests/package/test_checks_*.py)."""

from __future__ import annotations

import math

import torch

from relu_course.checks._engine import FAILED, NOT_YET, PASSED


def verdict(check, answer, capsys) -> tuple[bool, str]:
    """Run a check; assert it printed exactly one line; return (result, line)."""
    result = check(answer)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1, lines
    assert isinstance(result, bool)
    return result, lines[0]


def assert_passes(check, answer, capsys) -> None:
    """Assert the check accepts ``answer``: True and a line that starts with the PASSED mark."""
    result, line = verdict(check, answer, capsys)
    assert result is True, line
    assert line.startswith(PASSED), line


def assert_fails(check, answer, capsys, *phrases: str) -> str:
    """Assert the check rejects ``answer`` with a line that contains every phrase; return the line."""
    result, line = verdict(check, answer, capsys)
    assert result is False, line
    assert line.startswith((FAILED, NOT_YET)), line
    for phrase in phrases:
        assert phrase in line, f"{phrase!r} not in: {line}"
    return line


def stub(*args, **kwargs):
    """An exercise stub, as the exercise notebooks have it."""
    raise NotImplementedError("Task 1: your code here")


def he_normal_by_hand(layer):
    """A right answer to the He initialization task (Chapter 3)."""
    with torch.no_grad():
        layer.weight.normal_(0.0, math.sqrt(2.0 / layer.in_features))
        layer.bias.zero_()
    return layer
