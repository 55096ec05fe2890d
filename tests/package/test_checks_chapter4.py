"""The checks of Chapter 4 (the ReLU variants) accept right answers and reject wrong ones, saying why.

The answers here are written independently of the solution notebooks.
"""

from __future__ import annotations

import numpy as np
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


def test_silu_and_its_derivative(capsys):
    assert_passes(checks.silu, lambda x: x / (1 + np.exp(-x)), capsys)
    assert_passes(checks.silu, activations.silu, capsys)
    assert_passes(checks.silu_grad, lambda x: (s := 1 / (1 + np.exp(-x))) * (1 + x * (1 - s)), capsys)
    assert_fails(checks.silu, lambda x: x * np.exp(x) / (1 + np.exp(x)), capsys, "overflows")
    assert_fails(checks.silu_grad, lambda x: (s := 1 / (1 + np.exp(-x))) * (1 - s), capsys, "s * (1 + x * (1 - s))")


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
