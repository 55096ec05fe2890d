"""Piecewise-linear functions as sums of ReLUs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from relu_course.piecewise import relu_expansion, relu_interpolant


def linear_interpolation(knots_x, knots_y, x):
    return np.interp(x, knots_x, knots_y)


@given(
    steps=st.lists(st.floats(0.1, 3), min_size=1, max_size=8),
    values=st.lists(st.floats(-5, 5), min_size=9, max_size=9),
)
def test_expansion_reproduces_the_interpolant_on_its_interval(steps, values):
    knots_x = np.cumsum([0.0, *steps]) - 2.0
    knots_y = np.array(values[: len(knots_x)])
    expansion = relu_expansion(knots_x, knots_y)
    assert expansion.units == len(knots_x) - 1
    x = np.linspace(knots_x[0], knots_x[-1], 301)
    np.testing.assert_allclose(expansion(x), linear_interpolation(knots_x, knots_y, x), atol=1e-9)


def test_expansion_outside_the_interval():
    expansion = relu_expansion([0.0, 1.0, 2.0], [1.0, 3.0, 2.0])
    assert expansion(-5.0) == 1.0  # constant to the left
    assert expansion(4.0) == pytest.approx(0.0)  # last slope (-1) to the right


def test_network_form_computes_the_same_function():
    expansion = relu_expansion([-1.0, 0.0, 0.5, 2.0], [0.0, 1.0, -1.0, 3.0])
    network = expansion.to_network()
    x = np.linspace(-3, 3, 61)
    with torch.no_grad():
        y = network(torch.from_numpy(x).reshape(-1, 1)).numpy().ravel()
    np.testing.assert_allclose(y, expansion(x), atol=1e-12)


def test_interpolating_sin_error_falls_like_one_over_k_squared():
    x = np.linspace(0, 2 * np.pi, 5001)
    errors = [np.max(np.abs(relu_interpolant(np.sin, 0, 2 * np.pi, k)(x) - np.sin(x))) for k in (8, 16, 32)]
    assert errors[0] / errors[1] == pytest.approx(4, rel=0.1)
    assert errors[1] / errors[2] == pytest.approx(4, rel=0.1)


@pytest.mark.parametrize(
    "knots_x, knots_y, message",
    [
        ([0.0], [1.0], "length >= 2"),
        ([0.0, 1.0], [1.0], "equal length"),
        ([1.0, 0.0], [0.0, 1.0], "increasing"),
        ([0.0, 1.0], [np.nan, 1.0], "finite"),
    ],
)
def test_bad_knots(knots_x, knots_y, message):
    with pytest.raises(ValueError, match=message):
        relu_expansion(knots_x, knots_y)


def test_bad_interval():
    with pytest.raises(ValueError, match="below"):
        relu_interpolant(np.sin, 1.0, 0.0, 4)
    with pytest.raises(ValueError):
        relu_interpolant(np.sin, 0.0, 1.0, 0)
