"""The checks of Chapter 1 (what ReLU is) accept right answers and reject wrong ones, saying why.

The answers here are written independently of the solution notebooks.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from relu_course import activations, checks
from tests.package.checks_helpers import assert_fails, assert_passes


def relu_with_copy(x):
    result = x.copy()
    result[result < 0] = 0
    return result


# Each of these passes NaN on: nan < 0 and nan > 0 are both False, and NaN * 0 is NaN.
RIGHT_RELUS = {
    "np.maximum(x, 0)": lambda x: np.maximum(x, 0),
    "np.where(x < 0, 0, x)": lambda x: np.where(x < 0, 0, x),
    "np.where(x <= 0, 0, x)": lambda x: np.where(x <= 0, 0, x),
    "x * (x > 0)": lambda x: x * (x > 0),
    "np.clip(x, 0, None)": lambda x: np.clip(x, 0, None),
    "np.maximum(x, 0.0)": lambda x: np.maximum(x, 0.0),
    "(x + np.abs(x)) / 2": lambda x: (x + np.abs(x)) / 2,
    "copy, then mask": relu_with_copy,
    "activations.relu": activations.relu,
}


@pytest.mark.parametrize("spelling", RIGHT_RELUS)
def test_relu_accepts_every_right_spelling(spelling, capsys):
    assert_passes(checks.relu, RIGHT_RELUS[spelling], capsys)


def test_relu_says_that_it_tried_nan(capsys):
    checks.relu(lambda x: np.maximum(x, 0))
    assert "NaN" in capsys.readouterr().out


def relu_in_place(x):
    x[x < 0] = 0
    return x


def relu_with_a_loop(x):
    result = np.empty_like(x)
    for index in np.ndindex(x.shape):
        result[index] = max(x[index], 0)
    return result


def relu_with_a_comprehension(x):
    return np.array([max(value, 0.0) for value in x.ravel()], dtype=x.dtype).reshape(x.shape)


def relu_with_vectorize(x):
    return np.vectorize(lambda value: max(value, 0.0), otypes=[float])(x).astype(x.dtype)


def relu_without_return(x):
    np.maximum(x, 0)


def relu_keeping_the_positives(x):
    result = x.copy()
    result[~(result > 0)] = 0  # nan > 0 is False: NaN is set to 0
    return result


def relu_with_a_loop_max_0_first(x):
    result = np.empty_like(x)
    for index in np.ndindex(x.shape):
        result[index] = max(0, x[index])  # max(0, nan) is 0, max(nan, 0) is nan
    return result


def relu_with_a_comprehension_max_0_first(x):
    return np.array([max(0.0, value) for value in x.ravel()], dtype=x.dtype).reshape(x.shape)


def relu_with_vectorize_max_0_first(x):
    return np.vectorize(lambda value: max(0.0, value), otypes=[float])(x).astype(x.dtype)


# Measured: these spellings turn NaN into 0. np.clip(x, 0, None), x * (x > 0) and the
# masks x[x < 0] = 0 (on a copy) pass NaN on, and are right answers above.
NAN_HIDING_RELUS = {
    "np.where(x > 0, x, 0)": lambda x: np.where(x > 0, x, 0),
    "np.fmax(x, 0)": lambda x: np.fmax(x, 0),
    "copy, then zero where not x > 0": relu_keeping_the_positives,
    "a for loop with max(0, value)": relu_with_a_loop_max_0_first,
    "a comprehension with max(0.0, value)": relu_with_a_comprehension_max_0_first,
    "np.vectorize with max(0.0, value)": relu_with_vectorize_max_0_first,
}


@pytest.mark.parametrize("spelling", NAN_HIDING_RELUS)
def test_relu_rejects_every_spelling_that_hides_nan(spelling, capsys):
    assert_fails(
        checks.relu, NAN_HIDING_RELUS[spelling], capsys, "x = nan", "expected nan, got 0.0", "NaN in must give NaN out"
    )


WRONG_RELUS = {
    "identity": (lambda x: x.copy(), ["wrong value at x = -2.0", "expected 0.0, got -2.0", "for x < 0"]),
    "abs": (lambda x: np.abs(x), ["expected 0.0, got 2.0"]),
    "capped at 1": (lambda x: np.clip(x, 0, 1), ["expected 2.0, got 1.0", "for x > 0"]),
    "in place": (relu_in_place, ["changed its input"]),
    "a for loop": (relu_with_a_loop, ["for loop", "whole-array NumPy"]),
    "a comprehension": (relu_with_a_comprehension, ["comprehension"]),
    "np.vectorize": (relu_with_vectorize, ["vectorize()"]),
    "float64 for float32": (lambda x: np.maximum(x, np.float64(0)), ["returned dtype float64", "float32"]),
    "a view of x": (lambda x: x[...], ["shares memory"]),
    "flattened": (lambda x: np.maximum(x, 0).ravel(), ["returned shape (1,)", "expected the input's shape ()"]),
    "a list": (lambda x: np.maximum(x, 0).tolist(), ["returned a list", "NumPy array"]),
    "a single number": (lambda x: 0.0, ["single number", "expected an array of shape (5,)"]),
    "None": (relu_without_return, ["returned None", "forget `return`"]),
    "a tensor": (lambda x: torch.relu(torch.as_tensor(x)), ["torch.Tensor"]),
    "booleans": (lambda x: x > 0, ["dtype bool"]),
    "NaN": (lambda x: np.full(x.shape, np.nan), ["got nan"]),
    "raises": (lambda x: x.no_such_method(), ["raised AttributeError"]),
    "not callable": (3, ["expected a function, got the Python int 3"]),
}


@pytest.mark.parametrize("mistake", WRONG_RELUS)
def test_relu_rejects_wrong_answers_and_says_why(mistake, capsys):
    answer, phrases = WRONG_RELUS[mistake]
    assert_fails(checks.relu, answer, capsys, *phrases)


def test_relu_reports_the_failing_element_of_a_3d_input(capsys):
    def wrong_only_in_3d(x):
        return np.maximum(x, 0) + (x.ndim == 3)

    assert_fails(checks.relu, wrong_only_in_3d, capsys, "element (0, 0, 0) of x", "shape (2, 3, 4)")


@settings(max_examples=25, deadline=None)
@given(st.floats(0.5, 2.0).filter(lambda scale: abs(scale - 1.0) > 1e-9))
def test_relu_rejects_any_rescaled_relu(scale):
    assert checks.relu(lambda x: scale * np.maximum(x, 0)) is False


def test_abs_and_hat_accept_sums_of_relus_and_reject_wrong_sums(capsys):
    relu = activations.relu
    assert_passes(checks.abs_from_relu, lambda x: relu(x) + relu(-x), capsys)
    assert_passes(checks.abs_from_relu, lambda x: np.maximum(x, 0) + np.maximum(-x, 0), capsys)
    assert_passes(checks.hat, lambda x: relu(x + 1) - 2 * relu(x) + relu(x - 1), capsys)
    assert_passes(checks.hat, lambda x: np.maximum(x + 1, 0) - 2 * np.maximum(x, 0) + np.maximum(x - 1, 0), capsys)
    assert_fails(checks.abs_from_relu, lambda x: relu(x) - relu(-x), capsys, "wrong value", "|x|")
    assert_fails(checks.hat, lambda x: relu(x + 1) - relu(x) + relu(x - 1), capsys, "wrong value", "hat(x)")


def network_through_knots(knots_x, knots_y, dtype=torch.float32):
    k = len(knots_x) - 1
    changes = np.diff(np.diff(knots_y) / np.diff(knots_x), prepend=0.0)
    hidden, output = nn.Linear(1, k, dtype=dtype), nn.Linear(k, 1, dtype=dtype)
    with torch.no_grad():
        hidden.weight.fill_(1.0)
        hidden.bias.copy_(torch.tensor(-knots_x[:-1]))
        output.weight.copy_(torch.tensor(changes).reshape(1, k))
        output.bias.fill_(float(knots_y[0]))
    return nn.Sequential(hidden, nn.ReLU(), output)


def test_piecewise_network_right_and_wrong(capsys):
    from relu_course import piecewise

    assert_passes(checks.piecewise_network, network_through_knots, capsys)
    assert_passes(checks.piecewise_network, lambda x, y: network_through_knots(x, y, torch.float64), capsys)
    assert_passes(checks.piecewise_network, lambda x, y: piecewise.relu_expansion(x, y).to_network(), capsys)

    def one_unit_too_many(knots_x, knots_y):
        return network_through_knots(np.append(knots_x, knots_x[-1] + 1), np.append(knots_y, knots_y[-1]))

    def wrong_bias_sign(knots_x, knots_y):
        network = network_through_knots(knots_x, knots_y)
        with torch.no_grad():
            network[0].bias.neg_()
        return network

    assert_fails(checks.piecewise_network, one_unit_too_many, capsys, "Linear(1, 4), ReLU, Linear(4, 1)")
    assert_fails(checks.piecewise_network, wrong_bias_sign, capsys, "wrong output at x =", "bias -knots_x[i]")
    assert_fails(checks.piecewise_network, lambda x, y: nn.Linear(1, 1), capsys, "Linear layers [(1, 1)]")
    assert_fails(checks.piecewise_network, lambda x, y: "net", capsys, "expected a torch.nn.Module")


def count_pieces_by_runs(x, y, tol=1e-6):
    changed = np.abs(np.diff(np.diff(y) / np.diff(x))) > tol
    return 1 + int((changed & ~np.concatenate([[False], changed[:-1]])).sum())


def count_pieces_by_loop(x, y, tol=1e-6):
    slopes = np.diff(y) / np.diff(x)
    pieces, previous_changed = 1, False
    for left, right in zip(slopes[:-1], slopes[1:]):
        changed = abs(right - left) > tol
        pieces += changed and not previous_changed
        previous_changed = changed
    return pieces


def test_count_pieces_right_and_wrong(capsys):
    assert_passes(checks.count_pieces, count_pieces_by_runs, capsys)
    assert_passes(checks.count_pieces, count_pieces_by_loop, capsys)

    def counts_every_change(x, y, tol=1e-6):
        return 1 + int((np.abs(np.diff(np.diff(y) / np.diff(x))) > tol).sum())

    def ignores_tol(x, y, tol=1e-6):
        return count_pieces_by_runs(x, y, 1e-6)

    assert_fails(checks.count_pieces, counts_every_change, capsys, "expected 2 pieces, got 3", "run")
    assert_fails(checks.count_pieces, ignores_tol, capsys, "tol=1e-10", "expected 2 pieces, got 1")
    assert_fails(checks.count_pieces, lambda x, y, tol=1e-6: 2.0, capsys, "expected a whole number")
