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
from relu_course.checks._engine import (
    FAILED,
    NOT_YET,
    PASSED,
    PREDICTION_CHECK,
    _likely_mistake,
    _run_prediction_check,
)
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


PREDICTIONS = [name for name in checks.__all__ if getattr(getattr(checks, name), PREDICTION_CHECK, False)]
CODE_CHECKS = [name for name in checks.__all__ if name not in PREDICTIONS]


# These take a class; prelu's is tested below, the others' in the tests of chapters 6 and 7.
CLASS_CHECKS = ("prelu", "pre_activation_block", "swiglu", "mask_relu")


@pytest.mark.parametrize("name", [name for name in CODE_CHECKS if name not in CLASS_CHECKS])
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


@pytest.mark.parametrize("name", PREDICTIONS)
def test_a_prediction_not_made_yet_says_so(name, capsys):
    line = assert_fails(getattr(checks, name), None, capsys, "not implemented yet", "replace None")
    assert line.startswith(NOT_YET)


def _predict(prediction, capsys, measured=0.25):
    result = _run_prediction_check(
        "factor", prediction, lambda: measured, rtol=0.1, what="the factor", hint="Hint: E[relu(z)^2]."
    )
    return result, capsys.readouterr().out.strip()


def test_a_prediction_within_the_tolerance_passes_and_shows_the_measurement(capsys):
    result, line = _predict(0.26, capsys)
    assert result is True and line.startswith(PASSED) and "measured 0.25" in line


@pytest.mark.parametrize(
    ("prediction", "phrases"),
    [
        (0.5, ["too high", "about 2 times", "Hint: E[relu(z)^2]."]),
        (0.125, ["too low", "about 0.5 times"]),
        (-0.25, ["too low"]),
        (0, ["too low", "far off"]),
        (True, ["a prediction is a number", "bool"]),
        ("0.25", ["a prediction is a number", "str"]),
        (float("nan"), ["finite"]),
        (float("inf"), ["finite"]),
        (torch.tensor([0.25, 0.5]), ["a prediction is a number", "torch.Tensor"]),
    ],
)
def test_a_wrong_prediction_fails_and_says_which_way_without_the_answer(prediction, phrases, capsys):
    result, line = _predict(prediction, capsys)
    assert result is False and line.startswith(FAILED), line
    assert "0.25" not in line.replace("-0.25", "") or prediction == "0.25", line
    for phrase in phrases:
        assert phrase in line, line


@pytest.mark.parametrize("prediction", [0.25, np.float32(0.25), torch.tensor(0.25), 1 / 4])
def test_a_prediction_may_be_any_real_number_type(prediction, capsys):
    assert _predict(prediction, capsys)[0] is True


def test_a_measurement_that_fails_is_reported_not_raised(capsys):
    result = _run_prediction_check("factor", 0.25, lambda: 1 / 0, rtol=0.1, what="the factor", hint="")
    assert result is False and capsys.readouterr().out.startswith(FAILED)


def test_a_prediction_close_to_a_known_slip_is_told_which_slip(capsys):
    slips = [(1.0, "Hint: you forgot that ReLU removes half."), (0.25, "Hint: the expected answer.")]
    result = _run_prediction_check(
        "factor", 1.02, lambda: 0.5, rtol=0.05, what="the factor", hint="Hint: general.", mistakes=slips
    )
    line = capsys.readouterr().out
    assert result is False and "you forgot that ReLU removes half" in line and "general" not in line


def test_likely_mistake_skips_a_slip_that_equals_the_right_answer():
    slips = [(0.5, "same as right"), (2.0, "doubled")]
    assert _likely_mistake(0.5, 0.5, slips, rtol=1e-6) is None
    assert _likely_mistake(2.0, 0.5, slips, rtol=1e-6) == "doubled"
    assert _likely_mistake(3.0, 0.5, slips, rtol=1e-6) is None
