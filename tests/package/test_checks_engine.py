"""The engine of the exercise checks: no check crashes, and a check has no side effects.

Every check, whatever it is given, prints one line and returns False for garbage, says
"not implemented yet" for the exercise stubs, hides what the answer prints and leaves
every random state and warning filter as it was.
"""

from __future__ import annotations

import math
import random
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from relu_course import checks
from relu_course.checks._engine import FAILED, NOT_YET
from tests.package.checks_helpers import assert_fails, assert_passes, he_normal_by_hand, stub, verdict


def _raises(*args, **kwargs):
    raise ZeroDivisionError("boom")


GARBAGE = {
    "None": None,
    "an int": 42,
    "a string": "relu",
    "an object": object(),
    "returns None": lambda *a, **k: None,
    "returns a list": lambda *a, **k: [1.0, 2.0],
    "raises": _raises,
    "returns NaN": lambda *a, **k: math.nan,
    "returns a tensor": lambda *a, **k: torch.tensor(1.0),
    "a plain class": type("Plain", (), {}),
    "the nn.ReLU class": nn.ReLU,
    "an nn.ReLU instance": nn.ReLU(),
    "a generator": lambda *a, **k: (value for value in [1.0]),
}


@pytest.mark.parametrize("name", checks.__all__)
def test_every_check_survives_garbage(name, capsys):
    for garbage, answer in GARBAGE.items():
        result, line = verdict(getattr(checks, name), answer, capsys)
        assert result is False and line.startswith((FAILED, NOT_YET)), f"{garbage}: {line}"


@pytest.mark.parametrize("name", [name for name in checks.__all__ if name != "prelu"])  # prelu: a class, below
def test_an_unfinished_task_says_not_implemented_yet(name, capsys):
    line = assert_fails(getattr(checks, name), stub, capsys, "not implemented yet", "Task 1")
    assert line.startswith(NOT_YET)


def test_a_class_whose_init_is_unfinished_is_not_implemented_yet(capsys):
    class Unfinished(nn.Module):
        def __init__(self, num_parameters=1, init=0.25):
            super().__init__()
            raise NotImplementedError("Task 5: your code here")

    assert_fails(checks.prelu, Unfinished, capsys, "not implemented yet (Task 5: your code here)")


def test_checks_leave_every_random_state_and_warning_filter_alone(capsys):
    torch.manual_seed(123)
    np.random.seed(123)
    random.seed(123)
    torch_state, numpy_state, python_state = torch.get_rng_state(), np.random.get_state(), random.getstate()

    def draws_everywhere(layer):
        np.random.rand(3)
        random.random()
        return he_normal_by_hand(layer)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert_passes(checks.he_normal, draws_everywhere, capsys)
        assert_passes(checks.elu, lambda x, alpha=1.0: np.where(x > 0, x, alpha * (np.exp(x) - 1)), capsys)
    assert caught == []  # exp overflow warnings are hidden
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], numpy_state[1])
    assert random.getstate() == python_state


def test_what_the_answer_prints_is_hidden(capsys):
    def chatty_relu(x):
        print("debugging", x)
        return np.maximum(x, 0)

    assert_passes(checks.relu, chatty_relu, capsys)
