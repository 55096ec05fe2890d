"""The checks of Chapter 4 (the ReLU variants) accept right answers and reject wrong ones, saying why.

The answers here are written independently of the solution notebooks.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from relu_course import activations, checks
from tests.package.checks_helpers import assert_fails, assert_passes


def test_leaky_relu_and_its_derivative(capsys):
    assert_passes(checks.leaky_relu, lambda x, negative_slope=0.01: np.where(x > 0, x, negative_slope * x), capsys)
    assert_passes(checks.leaky_relu, lambda x, negative_slope=0.01: np.maximum(x, negative_slope * x), capsys)
    assert_passes(checks.leaky_relu, activations.leaky_relu, capsys)
    assert_passes(checks.leaky_relu_grad, lambda x, negative_slope=0.01: np.where(x > 0, 1.0, negative_slope), capsys)
    assert_passes(checks.leaky_relu_grad, activations.leaky_relu_grad, capsys)
    assert_fails(
        checks.leaky_relu,
        lambda x, negative_slope=0.1: np.where(x > 0, x, negative_slope * x),
        capsys,
        "default negative_slope is 0.01",
    )
    assert_fails(
        checks.leaky_relu, lambda x, negative_slope=0.01: np.where(x > 0, x, 0.0), capsys, "negative_slope * x"
    )
    assert_fails(
        checks.leaky_relu,
        lambda x, negative_slope=0.01: np.nan_to_num(activations.leaky_relu(x)),
        capsys,
        "NaN in must give NaN out",
    )
    assert_fails(
        checks.leaky_relu_grad,
        lambda x, negative_slope=0.01: np.where(x >= 0, 1.0, negative_slope),
        capsys,
        "at x = 0 return negative_slope",
        "PyTorch",
    )


@settings(max_examples=15, deadline=None)
@given(st.floats(0.0, 1.0).filter(lambda slope: abs(slope - 0.01) > 1e-9))
def test_leaky_relu_rejects_any_other_default_slope(slope):
    assert checks.leaky_relu(lambda x, negative_slope=slope: np.where(x > 0, x, negative_slope * x)) is False


def test_elu_and_its_derivative(capsys):
    assert_passes(checks.elu, lambda x, alpha=1.0: np.where(x > 0, x, alpha * (np.exp(x) - 1)), capsys)
    assert_passes(checks.elu, lambda x, alpha=1.0: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))), capsys)
    assert_passes(checks.elu_grad, lambda x, alpha=1.0: np.where(x > 0, 1.0, alpha * np.exp(x)), capsys)
    assert_fails(checks.elu, lambda x, alpha=1.0: x * (x > 0) + alpha * (np.exp(x) - 1) * (x <= 0), capsys, "overflows")
    assert_fails(
        checks.elu, lambda x, alpha=1.0: np.where(x > 0, x, alpha * np.exp(x) - 1), capsys, "alpha * (exp(x) - 1)"
    )
    assert_fails(
        checks.elu_grad,
        lambda x, alpha=1.0: np.where(x >= 0, 1.0, alpha * np.exp(x)),
        capsys,
        "alpha=0.5",
        "x <= 0 branch",
    )


def gelu_tanh_by_hand(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def gelu_tanh_grad_by_hand(x):
    c = np.sqrt(2 / np.pi)
    t = np.tanh(c * (x + 0.044715 * x**3))
    return 0.5 * (1 + t) + 0.5 * x * (1 - t**2) * c * (1 + 3 * 0.044715 * x**2)


def test_gelu_tanh_and_its_derivative(capsys):
    assert_passes(checks.gelu_tanh, gelu_tanh_by_hand, capsys)
    assert_passes(checks.gelu_tanh_grad, gelu_tanh_grad_by_hand, capsys)
    assert_passes(checks.gelu_tanh, lambda x: activations.gelu(x, approximate="tanh"), capsys)
    assert_fails(checks.gelu_tanh, activations.gelu, capsys, "wrong value", "tanh(sqrt(2 / pi)")
    assert_fails(
        checks.gelu_tanh_grad,
        lambda x: 0.5 * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
        capsys,
        "chain rules",
    )


# --------------------------------------------------------------------------- He's variance for Leaky ReLU


def std_from_torch(fan_in, negative_slope=0.01):
    return torch.nn.init.calculate_gain("leaky_relu", negative_slope) / math.sqrt(fan_in)


def test_leaky_he_std_accepts_right_answers(capsys):
    assert_passes(
        checks.leaky_he_std, lambda fan_in, negative_slope=0.01: (2 / (1 + negative_slope**2) / fan_in) ** 0.5, capsys
    )
    assert_passes(
        checks.leaky_he_std, lambda fan_in, negative_slope=0.01: np.sqrt(2 / ((1 + negative_slope**2) * fan_in)), capsys
    )
    assert_passes(checks.leaky_he_std, std_from_torch, capsys)


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (
            lambda n, negative_slope=0.01: math.sqrt(2 / ((1 + negative_slope) * n)),
            ["negative_slope=0.2", "1 + a instead of 1 + a²"],
        ),
        (lambda n, negative_slope=0.01: math.sqrt(2 / ((1 + negative_slope) ** 2 * n)), ["(1 + a)² instead of 1 + a²"]),
        (lambda n, negative_slope=0.01: 2 / ((1 + negative_slope**2) * n), ["that is the variance", "square root"]),
        (lambda n, negative_slope=0.01: math.sqrt(2 / n), ["negative_slope=1.0", "He's standard deviation for ReLU"]),
        (lambda n, negative_slope=0.01: math.sqrt(1 / ((1 + negative_slope**2) * n)), ["the factor 2 is missing"]),
        (lambda n, negative_slope=0.01: math.sqrt((1 + negative_slope**2) / (2 * n)), ["upside down"]),
        (lambda n, negative_slope=0.01: math.sqrt(2 / (1 + negative_slope**2)) / n, ["not by fan_in"]),
        (lambda n, negative_slope=0.01: math.sqrt(2 / (1 + negative_slope**2)), ["the gain alone"]),
        (  # precedence: multiplies by fan_in
            lambda n, negative_slope=0.01: math.sqrt(2 / (1 + negative_slope**2) * n),
            ["fan_in=100", "(1 + a²) / 2"],
        ),
        (
            lambda n, negative_slope=0.2: std_from_torch(n, negative_slope),
            ["left at its default", "default negative_slope is 0.01"],
        ),
        (lambda n, negative_slope=0.01: torch.tensor(std_from_torch(n, negative_slope)), ["torch.Tensor", ".item()"]),
        (lambda n, negative_slope=0.01: [std_from_torch(n, negative_slope)], ["a list of length 1"]),
        (lambda n: std_from_torch(n), ["raised TypeError", "negative_slope"]),
    ],
)
def test_leaky_he_std_rejects_wrong_answers(answer, phrases, capsys):
    assert_fails(checks.leaky_he_std, answer, capsys, *phrases)


def test_the_drift_prediction_passes_near_one_plus_a_squared(capsys):
    for prediction in (1.04, 1 + 0.2**2, np.float64(1.04), torch.tensor(1.04, dtype=torch.float64), 1.035):
        assert_passes(checks.predict_leaky_he_drift, prediction, capsys)


@pytest.mark.parametrize(
    ("prediction", "phrases"),
    [
        (1.0, ["too low", "fan_in · Var(W) = 2"]),  # "He keeps the mean square"
        (1.2, ["too high"]),  # 1 + a
        (0.52, ["too low"]),  # (1 + a²) / 2, without He's factor 2
        (1.04**30, ["too high"]),  # over 30 layers, not one
        (2.08, ["too high"]),  # 2 (1 + a²)
    ],
)
def test_the_drift_prediction_rejects_wrong_factors(prediction, phrases, capsys):
    assert_fails(checks.predict_leaky_he_drift, prediction, capsys, *phrases)


@settings(max_examples=10, deadline=None)
@given(st.floats(0.0, 10.0).filter(lambda p: abs(p / 1.04 - 1) > 0.02))
def test_the_drift_prediction_rejects_anything_two_percent_off(prediction):
    assert checks.predict_leaky_he_drift(prediction) is False


# --------------------------------------------------------------------------- SELU's fixed point


def normal_cdf(x):
    return 0.5 * math.erfc(-x / math.sqrt(2))


def exp_below_zero(k):
    """E[exp(kZ); Z <= 0] for Z ~ N(0, 1)."""
    return math.exp(k * k / 2) * normal_cdf(-k)


def selu_moments_closed_form(lam, alpha):
    mean = lam / math.sqrt(2 * math.pi) + lam * alpha * (exp_below_zero(1) - 0.5)
    second = lam**2 / 2 + (lam * alpha) ** 2 * (exp_below_zero(2) - 2 * exp_below_zero(1) + 0.5)
    return mean, second


GRID = np.linspace(-14.0, 14.0, 56_001)


def selu_moments_by_trapezoids(lam, alpha):
    values = lam * np.where(GRID > 0, GRID, alpha * np.expm1(np.minimum(GRID, 0)))
    density = np.exp(-(GRID**2) / 2) / np.sqrt(2 * np.pi)
    return np.array([np.trapezoid(values * density, GRID), np.trapezoid(values**2 * density, GRID)])


def selu_moments_by_sampling(lam, alpha):
    z = np.random.default_rng(0).standard_normal(200_000)
    values = lam * np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0)))
    return values.mean(), (values**2).mean()


def test_selu_moments_accepts_right_answers(capsys):
    assert_passes(checks.selu_moments, selu_moments_closed_form, capsys)
    assert_passes(checks.selu_moments, selu_moments_by_trapezoids, capsys)
    assert_passes(checks.selu_moments, lambda lam, alpha: list(selu_moments_closed_form(lam, alpha)), capsys)


def selu_mean_and_variance(lam, alpha):
    mean, second = selu_moments_closed_form(lam, alpha)
    return mean, second - mean**2


def _moments_with(lam, alpha, mean=None, second=None):
    right_mean, right_second = selu_moments_closed_form(lam, alpha)
    return (right_mean if mean is None else mean, right_second if second is None else second)


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (lambda lam, alpha: selu_moments_closed_form(lam, alpha)[::-1], ["(second moment, mean)"]),
        (selu_mean_and_variance, ["lam=1.0, alpha=0.0", "that is the variance"]),
        (
            lambda lam, alpha: _moments_with(lam, alpha, second=selu_moments_closed_form(lam, alpha)[1] / lam),
            ["lam=2.0", "lam², not lam"],
        ),
        (selu_moments_by_sampling, ["lam=1.0, alpha=0.0", "not within 1e-6", "closed form"]),
        (lambda lam, alpha: _moments_with(lam, alpha, mean=lam / 2), ["alpha=0.0", "lam · relu(x)", "1 / sqrt(2π)"]),
        (  # exp(x) instead of exp(x) - 1 for x <= 0
            lambda lam, alpha: _moments_with(
                lam, alpha, mean=lam / math.sqrt(2 * math.pi) + lam * alpha * exp_below_zero(1)
            ),
            ["alpha=1.0", "complete the square"],
        ),
        (  # Φ(1) instead of Φ(-1)
            lambda lam, alpha: _moments_with(
                lam, alpha, mean=lam / math.sqrt(2 * math.pi) + lam * alpha * (math.exp(0.5) * normal_cdf(1) - 0.5)
            ),
            ["E[e^(kZ); Z <= 0] = e^(k²/2) Φ(-k)"],
        ),
        (lambda lam, alpha: _moments_with(lam, alpha, second=lam**2), ["alpha=0.0", "lam² / 2"]),
        (  # (e^Z - 1)² without the cross term
            lambda lam, alpha: _moments_with(
                lam, alpha, second=lam**2 / 2 + (lam * alpha) ** 2 * (exp_below_zero(2) + 0.5)
            ),
            ["alpha=1.0", "expand (e^Z - 1)²"],
        ),
        (lambda lam, alpha: selu_moments_closed_form(lam, alpha)[0], ["expected two numbers"]),
        (lambda lam, alpha: torch.tensor(selu_moments_closed_form(lam, alpha)), ["torch.Tensor"]),
        (lambda lam, alpha: (math.nan, 0.5), ["two finite numbers"]),
    ],
)
def test_selu_moments_rejects_wrong_answers(answer, phrases, capsys):
    assert_fails(checks.selu_moments, answer, capsys, *phrases)


def solve_by_bisection(moments, steps=60):
    low, high = 0.0, 20.0
    for _ in range(steps):
        middle = (low + high) / 2
        low, high = (middle, high) if moments(1.0, middle)[0] > 0 else (low, middle)
    alpha = (low + high) / 2
    return 1 / math.sqrt(moments(1.0, alpha)[1]), alpha


def solve_by_newton(moments, start=(1.0, 1.5), steps=30, h=1e-6):
    """Newton's method on F(lam, alpha) = (mean, second - 1) with a finite-difference Jacobian."""
    x = np.array(start)
    for _ in range(steps):
        f = np.array(moments(*x)) - [0.0, 1.0]
        jacobian = np.column_stack([(np.array(moments(*(x + h * e))) - [0.0, 1.0] - f) / h for e in np.eye(2)])
        x = x - np.linalg.solve(jacobian, f)
    return float(x[0]), float(x[1])


def test_selu_constants_accepts_right_solvers(capsys):
    assert_passes(checks.selu_constants, solve_by_bisection, capsys)
    assert_passes(checks.selu_constants, solve_by_newton, capsys)
    assert_passes(checks.selu_constants, lambda moments: np.array(solve_by_bisection(moments)), capsys)


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (
            lambda moments: (1.0507009873554805, 1.6732632423543772),
            ["SELU(1.5 Z)", "instead of typing in the constants"],
        ),
        (lambda moments: solve_by_bisection(moments)[::-1], ["(alpha, lam)"]),
        (lambda moments: (-solve_by_bisection(moments)[0], solve_by_bisection(moments)[1]), ["return lam > 0"]),
        (
            lambda moments: (1 / moments(1.0, solve_by_bisection(moments)[1])[1], solve_by_bisection(moments)[1]),
            ["The mean is 0", "lam = 1 / sqrt(second moment at lam = 1)"],
        ),
        (lambda moments: solve_by_bisection(moments, steps=5), ["not (0, 1)", "solve mean = 0 for alpha first"]),
        (lambda moments: moments(np.array([1.0, 1.1]), 1.6), ["raised TypeError", "takes two numbers"]),
        (lambda moments: torch.tensor(solve_by_bisection(moments)), ["torch.Tensor"]),
        (lambda moments: solve_by_bisection(moments)[0], ["expected two numbers, (lam, alpha)"]),
    ],
)
def test_selu_constants_rejects_wrong_solvers(answer, phrases, capsys):
    assert_fails(checks.selu_constants, answer, capsys, *phrases)


class RightPReLU(nn.Module):
    def __init__(self, num_parameters=1, init=0.25):
        super().__init__()
        self.weight = nn.Parameter(torch.full((num_parameters,), float(init)))

    def forward(self, x):
        slope = self.weight
        if x.dim() >= 2:
            slope = slope.reshape(1, -1, *([1] * (x.dim() - 2)))
        return torch.where(x > 0, x, slope * x)


class FixedSlope(nn.Module):
    def __init__(self, num_parameters=1, init=0.25):
        super().__init__()
        self.slope = init

    def forward(self, x):
        return torch.where(x > 0, x, self.slope * x)


class NoChannels(RightPReLU):
    def forward(self, x):
        return torch.where(x > 0, x, self.weight * x)


class Detached(RightPReLU):
    def forward(self, x):
        return super().forward(x).detach()


class ScalarWeight(nn.Module):
    def __init__(self, num_parameters=1, init=0.25):
        super().__init__()
        self.weight = nn.Parameter(torch.tensor(float(init)))

    def forward(self, x):
        return torch.where(x > 0, x, self.weight * x)


class ClampSum(RightPReLU):
    """relu(x) + a * min(x, 0) with clamp: right values, but slope 1 + a at exactly 0."""

    def forward(self, x):
        slope = self.weight.reshape(1, -1, *([1] * (x.dim() - 2))) if x.dim() > 1 else self.weight
        return torch.clamp(x, min=0) + slope * torch.clamp(x, max=0)


class InPlace(RightPReLU):
    def forward(self, x):
        return x.mul_(1.0)


def test_prelu_right_and_wrong(capsys):
    assert_passes(checks.prelu, RightPReLU, capsys)
    assert_passes(checks.prelu, nn.PReLU, capsys)
    assert_fails(checks.prelu, RightPReLU(), capsys, "expected a subclass of torch.nn.Module (the class itself)")
    assert_fails(checks.prelu, FixedSlope, capsys, "has no parameters", "nn.Parameter")
    assert_fails(checks.prelu, ScalarWeight, capsys, "weight has shape ()", "expected (1,)")
    assert_fails(checks.prelu, NoChannels, capsys, "(2, 3, 4, 4)", "raised RuntimeError")
    assert_fails(checks.prelu, Detached, capsys, "does not require grad")
    assert_fails(checks.prelu, InPlace, capsys, "raised RuntimeError")
    assert_fails(checks.prelu, ClampSum, capsys, "wrong gradient for x", "only at x = 0 exactly", "1 + a")
