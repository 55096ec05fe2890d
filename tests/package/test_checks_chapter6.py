"""The checks of Chapter 6 (ReLU in real networks) accept right answers and reject wrong ones, saying why.

The answers here are written independently of the solution notebooks.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from relu_course import checks, networks
from relu_course.checks._engine import NOT_YET
from relu_course.checks.chapter6 import (
    _BUDGET_CASES,
    _largest_fitting_width,
    _measure_avg_pool_mismatch,
    _measure_max_pool_gap,
    _measure_residual_growth,
)
from tests.package.checks_helpers import assert_fails, assert_passes

# --------------------------------------------------------------------------- Task 1: pre-activation block


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.activation = nn.ReLU()
        self.linear = nn.Linear(width, width)

    def forward(self, x):
        return x + self.linear(self.activation(x))


class FunctionalBlock(Block):
    def forward(self, x):
        return x + self.linear(F.relu(x))


class BiasFreeBlock(Block):
    def __init__(self, width):
        super().__init__(width)
        self.linear = nn.Linear(width, width, bias=False)


class PostActivation(Block):
    def forward(self, x):
        return torch.relu(x + self.linear(x))


class NoSkip(Block):
    def forward(self, x):
        return self.linear(torch.relu(x))


class ReLUAfterLinear(Block):
    def forward(self, x):
        return x + torch.relu(self.linear(x))


class ReLUAfterSum(Block):
    def forward(self, x):
        return torch.relu(x + self.linear(torch.relu(x)))


class SkipFromReLU(Block):
    def forward(self, x):
        h = torch.relu(x)
        return h + self.linear(h)


class InPlaceModule(Block):
    def __init__(self, width):
        super().__init__(width)
        self.activation = nn.ReLU(inplace=True)


class InPlaceMethod(Block):
    def forward(self, x):
        return x + self.linear(x.relu_())


class ClampAtZero(Block):
    def forward(self, x):
        return x + self.linear(x.clamp(min=0))


class MaximumAtZero(Block):
    def forward(self, x):
        return x + self.linear(torch.maximum(x, torch.zeros_like(x)))


class Detached(Block):
    def forward(self, x):
        return (x + self.linear(torch.relu(x))).detach()


class OtherName(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc = nn.Linear(width, width)

    def forward(self, x):
        return x + self.fc(torch.relu(x))


class TwoLayers(Block):
    def __init__(self, width):
        super().__init__(width)
        self.second = nn.Linear(width, width)


class UnfinishedInit(nn.Module):
    def __init__(self, width):
        super().__init__()
        raise NotImplementedError("Task 1: your code here")


class UnfinishedForward(Block):
    def forward(self, x):
        raise NotImplementedError("Task 1: your code here")


def test_pre_activation_block_accepts_right_blocks(capsys):
    for answer in (Block, FunctionalBlock, BiasFreeBlock):
        assert_passes(checks.pre_activation_block, answer, capsys)


def test_pre_activation_block_accepts_the_package_block(capsys):
    class PackageBlock(networks.ResidualBlock):
        def __init__(self, width):
            super().__init__(width, "relu")

    assert_passes(checks.pre_activation_block, PackageBlock, capsys)


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (PostActivation, ["wrong output", "relu(x + linear(x)), a post-activation block"]),
        (NoSkip, ["wrong output", "without the skip connection"]),
        (ReLUAfterLinear, ["wrong output", "x + relu(linear(x))", "comes after the Linear layer"]),
        (ReLUAfterSum, ["wrong output", "a ReLU after the sum"]),
        (SkipFromReLU, ["wrong output", "must carry x itself, not relu(x)"]),
        (InPlaceModule, ["changed its input x", "in-place"]),
        (InPlaceMethod, ["changed its input x", "in-place"]),
        (ClampAtZero, ["wrong gradient for x", "only where x is exactly 0", "relu'(0) = 0", "clamp"]),
        (MaximumAtZero, ["wrong gradient for x", "only where x is exactly 0", "torch.maximum"]),
        (Detached, ["does not require grad"]),
        (OtherName, ["has no attribute linear"]),
        (TwoLayers, ["parameters outside linear", "second.weight"]),
        (Block(3), ["expected the class itself", "not PreActivationBlock(...)"]),
        (lambda width: Block(width), ["expected a subclass of torch.nn.Module"]),
        (nn.Linear, ["raised TypeError", "when creating PreActivationBlock(1)"]),
    ],
)
def test_pre_activation_block_names_the_mistake(answer, phrases, capsys):
    assert_fails(checks.pre_activation_block, answer, capsys, *phrases)


@pytest.mark.parametrize("answer", [None, UnfinishedInit, UnfinishedForward])
def test_an_unfinished_pre_activation_block_is_not_implemented_yet(answer, capsys):
    line = assert_fails(checks.pre_activation_block, answer, capsys, "not implemented yet")
    assert line.startswith(NOT_YET)


# --------------------------------------------------------------------------- Task 2: SwiGLU


def test_the_expected_widths_are_the_largest_that_fit():
    for d_model, budget in _BUDGET_CASES:
        width = _largest_fitting_width(d_model, budget)
        assert 3 * d_model * width <= budget < 3 * d_model * (width + 1)
    assert _largest_fitting_width(512, 2 * 512 * 2048) == networks.matched_gated_width(2048) == 1365


def test_swiglu_hidden_right_and_wrong(capsys):
    assert_passes(checks.swiglu_hidden, lambda d_model, budget: budget // (3 * d_model), capsys)
    assert_passes(checks.swiglu_hidden, lambda d_model, budget: math.floor(budget / (3 * d_model)), capsys)
    assert_fails(
        checks.swiglu_hidden, lambda d, budget: budget // (2 * d), capsys, "expected 1365", "ungated block, 2·d·h"
    )
    assert_fails(checks.swiglu_hidden, lambda d, budget: round(budget / (3 * d)), capsys, "expected 10922")
    assert_fails(checks.swiglu_hidden, lambda d, budget: math.ceil(budget / (3 * d)), capsys, "rounded up")
    assert_fails(checks.swiglu_hidden, lambda d, budget: (budget - d) // (3 * d + 2), capsys, "counts biases")
    assert_fails(checks.swiglu_hidden, lambda d, budget: budget // 3, capsys, "leaves out d_model")
    assert_fails(checks.swiglu_hidden, lambda d, budget: (budget - 1) // (3 * d), capsys, "expected 1365", "fits too")
    assert_fails(checks.swiglu_hidden, lambda d, budget: budget / (3 * d), capsys, "float", "whole number")


def test_swiglu_hidden_names_the_rounding_to_the_nearest(capsys):
    def nearest_for_small_budgets(d_model, budget):
        return round(budget / (3 * d_model)) if d_model == 7 else budget // (3 * d_model)

    assert_fails(checks.swiglu_hidden, nearest_for_small_budgets, capsys, "expected 4", "rounded")


class SwiGLU(nn.Module):
    def __init__(self, d_model, hidden):
        super().__init__()
        self.w = nn.Linear(d_model, hidden, bias=False)
        self.v = nn.Linear(d_model, hidden, bias=False)
        self.w2 = nn.Linear(hidden, d_model, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w(x)) * self.v(x))


class SwiGLUByHand(SwiGLU):
    def forward(self, x):
        a = self.w(x)
        return self.w2(a * torch.sigmoid(a) * self.v(x))


class SwappedBranches(SwiGLU):
    def forward(self, x):
        return self.w2(F.silu(self.v(x)) * self.w(x))


class SigmoidGate(SwiGLU):
    def forward(self, x):
        return self.w2(torch.sigmoid(self.w(x)) * self.v(x))


class ReLUGate(SwiGLU):
    def forward(self, x):
        return self.w2(torch.relu(self.w(x)) * self.v(x))


class GELUGate(SwiGLU):
    def forward(self, x):
        return self.w2(F.gelu(self.w(x)) * self.v(x))


class Ungated(SwiGLU):
    def forward(self, x):
        return self.w2(F.silu(self.w(x)))


class SumGate(SwiGLU):
    def forward(self, x):
        return self.w2(F.silu(self.w(x)) + self.v(x))


class SiLUOfProduct(SwiGLU):
    def forward(self, x):
        return self.w2(F.silu(self.w(x) * self.v(x)))


class WithBiases(SwiGLU):
    def __init__(self, d_model, hidden):
        super().__init__(d_model, hidden)
        self.w = nn.Linear(d_model, hidden)


class WrongOutputLayer(SwiGLU):
    def __init__(self, d_model, hidden):
        super().__init__(d_model, hidden)
        self.w2 = nn.Linear(d_model, hidden, bias=False)


class DetachedGate(SwiGLU):
    def forward(self, x):
        return self.w2(F.silu(self.w(x)).detach() * self.v(x))


class UnfinishedSwiGLU(nn.Module):
    def __init__(self, d_model, hidden):
        super().__init__()
        raise NotImplementedError("Task 2: your code here")


def test_swiglu_accepts_right_blocks(capsys):
    class PackageSwiGLU(networks.GatedFeedForward):
        def __init__(self, d_model, hidden):
            super().__init__(d_model, hidden, "swiglu")

    for answer in (SwiGLU, SwiGLUByHand, PackageSwiGLU):
        assert_passes(checks.swiglu, answer, capsys)


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (SwappedBranches, ["wrong output", "silu on the wrong branch"]),
        (SigmoidGate, ["wrong output", "GLU"]),
        (ReLUGate, ["wrong output", "ReGLU"]),
        (GELUGate, ["wrong output", "GEGLU"]),
        (Ungated, ["wrong output", "without the gate"]),
        (SumGate, ["wrong output", "it does not add"]),
        (SiLUOfProduct, ["wrong output", "before the product"]),
        (WithBiases, ["w has a bias", "bias=False"]),
        (WrongOutputLayer, ["w2 is nn.Linear(4, 6); expected nn.Linear(6, 4)"]),
        (DetachedGate, ["wrong gradient for x", ".detach()"]),
        (SwiGLU(4, 6), ["expected the class itself", "not SwiGLU(...)"]),
    ],
)
def test_swiglu_names_the_mistake(answer, phrases, capsys):
    assert_fails(checks.swiglu, answer, capsys, *phrases)


@pytest.mark.parametrize("answer", [None, UnfinishedSwiGLU])
def test_an_unfinished_swiglu_is_not_implemented_yet(answer, capsys):
    line = assert_fails(checks.swiglu, answer, capsys, "not implemented yet")
    assert line.startswith(NOT_YET)


# --------------------------------------------------------------------------- predictions

RIGHT_PREDICTIONS = {
    "predict_max_pool_gap": 0,
    "predict_avg_pool_mismatch": 1 - 2 * 0.5**4,
    "predict_residual_growth": 1 + 2 / 2,
}


@pytest.mark.parametrize("name", sorted(RIGHT_PREDICTIONS))
def test_predictions_from_the_derivation_pass(name, capsys):
    assert_passes(getattr(checks, name), RIGHT_PREDICTIONS[name], capsys)


WRONG_PREDICTIONS = [
    # (check, prediction, phrases): the usual slips of each derivation
    ("predict_max_pool_gap", 0.5, ["too high", "monotone"]),
    ("predict_max_pool_gap", 1e-12, ["too high"]),
    ("predict_avg_pool_mismatch", 0, ["too low", "linear, not monotone"]),  # "pooling commutes"
    ("predict_avg_pool_mismatch", 1, ["too high", "all positive"]),
    ("predict_avg_pool_mismatch", 1 - 0.5**4, ["too high", "all-positive windows agree too"]),
    ("predict_avg_pool_mismatch", 0.5, ["too low", "one entry"]),
    ("predict_avg_pool_mismatch", 2 * 0.5**4, ["too low", "where the orders agree"]),
    ("predict_residual_growth", 1, ["too low", "the skip adds x"]),  # "He keeps the scale"
    ("predict_residual_growth", 4, ["too high", "uncorrelated"]),
    ("predict_residual_growth", 1.5, ["too low", "doubles it back"]),
    ("predict_residual_growth", 3, ["too high", "not 2 E[x²]"]),
    ("predict_residual_growth", math.sqrt(2), ["too low", "RMS"]),
]


@pytest.mark.parametrize(("name", "prediction", "phrases"), WRONG_PREDICTIONS)
def test_predictions_with_the_usual_mistakes_fail(name, prediction, phrases, capsys):
    assert_fails(getattr(checks, name), prediction, capsys, *phrases)


def test_the_measurements_agree_with_the_derivations():
    assert _measure_max_pool_gap() == 0.0
    assert abs(_measure_avg_pool_mismatch() - 7 / 8) < 0.01
    assert abs(_measure_residual_growth() - 2) < 0.03
