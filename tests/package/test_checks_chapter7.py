"""The checks of Chapter 7 (Sparsity, memory and hardware) accept right answers and reject wrong ones, saying why.

The answers here are written independently of the solution notebooks.
"""

from __future__ import annotations

import math
import warnings

import pytest
import torch

from relu_course import checks, hardware
from relu_course.checks._engine import NOT_YET
from relu_course.checks.chapter7 import (
    _down_cases,
    _expected_down,
    _measure_batch_union,
    _measure_silu_saved_bytes,
    _union_layer,
)
from tests.package.checks_helpers import assert_fails, assert_passes, stub

# --------------------------------------------------------------------------- Task 1: the sparse down projection


def gather_rows(h, w2_t, bias):
    active = torch.nonzero(h != 0).squeeze(1)
    return h[active] @ w2_t[active] + bias


def boolean_index(h, w2_t, bias):
    on = h != 0
    return h[on] @ w2_t[on] + bias


def index_select(h, w2_t, bias):
    active = torch.nonzero(h).flatten()
    return torch.addmv(bias, w2_t.index_select(0, active).T, h.index_select(0, active))


def with_the_package(h, w2_t, bias):
    return hardware.sparse_down_projection(h, w2_t, bias)


@pytest.mark.parametrize("answer", [gather_rows, boolean_index, index_select, with_the_package])
def test_sparse_down_accepts_right_answers(answer, capsys):
    assert_passes(checks.sparse_down, answer, capsys)


def dense(h, w2_t, bias):
    return h @ w2_t + bias


def masked_dense(h, w2_t, bias):
    return (h * (h != 0)) @ w2_t + bias


def without_bias(h, w2_t, bias):
    active = torch.nonzero(h != 0).squeeze(1)
    return h[active] @ w2_t[active]


def positive_only(h, w2_t, bias):
    on = h > 0
    return h[on] @ w2_t[on] + bias


def skips_nan(h, w2_t, bias):
    on = h.abs() > 0  # False for NaN
    return h[on] @ w2_t[on] + bias


def columns(h, w2_t, bias):
    active = torch.nonzero(h != 0).squeeze(1)
    return w2_t[:, active] @ h[active] + bias


def columns_without_bias(h, w2_t, bias):
    active = torch.nonzero(h != 0).squeeze(1)
    return w2_t[:, active] @ h[active]


def a_row(h, w2_t, bias):
    return gather_rows(h, w2_t, bias).unsqueeze(0)


def in_float64(h, w2_t, bias):
    return gather_rows(h.double(), w2_t.double(), bias.double())


def the_bias_itself(h, w2_t, bias):
    active = torch.nonzero(h != 0).squeeze(1)
    return bias if active.numel() == 0 else h[active] @ w2_t[active] + bias


def relu_in_place(h, w2_t, bias):
    h.clamp_(min=0)
    return gather_rows(h, w2_t, bias)


def a_list(h, w2_t, bias):
    return gather_rows(h, w2_t, bias).tolist()


def forgets_return(h, w2_t, bias):
    gather_rows(h, w2_t, bias)


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (dense, ["NaN and inf in the weights of inactive units", "reads the weights of inactive units"]),
        (masked_dense, ["reads the weights of inactive units"]),
        (without_bias, ["2 of 5 units off", "you forgot the bias"]),
        (positive_only, ["negative values", "not h[j] > 0"]),
        (skips_nan, ["a NaN in h", "expected nan", "NaN != 0 is True"]),
        (columns, ["hidden = 5, d_out = 5", "gather rows (w2_t[active]), not columns"]),
        (columns_without_bias, ["used columns of w2_t and forgot the bias"]),
        (a_row, ["returned shape (1, 5)", "expected (5,)"]),
        (in_float64, ["returned torch.float64", "float32"]),
        (the_bias_itself, ["every unit off", "returned one of its arguments", "bias.clone()"]),
        (relu_in_place, ["changed its argument h", "negative values"]),
        (a_list, ["returned a list", "expected a torch.Tensor"]),
        (forgets_return, ["returned None", "forget `return`"]),
    ],
)
def test_sparse_down_names_the_mistake(answer, phrases, capsys):
    assert_fails(checks.sparse_down, answer, capsys, *phrases)


def test_sparse_down_gives_a_hint_for_columns_when_the_shapes_differ(capsys):
    def columns_from_the_second_case(h, w2_t, bias):
        return columns(h, w2_t, bias) if w2_t.shape[0] != w2_t.shape[1] else gather_rows(h, w2_t, bias)

    assert_fails(
        checks.sparse_down,
        columns_from_the_second_case,
        capsys,
        "raised IndexError",
        "w2_t (8, 3) with one row per hidden unit",
    )


def test_an_unfinished_sparse_down_is_not_implemented_yet(capsys):
    line = assert_fails(checks.sparse_down, stub, capsys, "not implemented yet")
    assert line.startswith(NOT_YET)


def test_the_hidden_cases_cover_what_the_summary_says():
    cases = _down_cases()
    assert {case.h.dtype for case in cases} == {torch.float32, torch.float64}
    assert any(bool((case.h == 0).all()) for case in cases)
    assert any(bool((case.h != 0).all()) for case in cases)
    assert any(bool(((case.h == 0) & case.h.signbit()).any()) for case in cases)  # -0.0
    assert any(bool((case.h < 0).any()) for case in cases)
    assert any(bool(case.h.isnan().any()) for case in cases)
    assert any(case.w2_t.shape[0] == case.w2_t.shape[1] for case in cases)
    poisoned = [case for case in cases if not bool(case.w2_t.isfinite().all())]
    assert len(poisoned) == 3
    for case in poisoned:
        assert bool(case.w2_t[case.h != 0].isfinite().all())  # only inactive units' rows
        assert not bool(hardware.dense_down_projection(case.h, case.w2_t, case.bias).isfinite().all())


def test_the_reference_is_the_dense_product_and_the_packages_sparse_one():
    for case in _down_cases():
        expected, tolerance = _expected_down(case)
        sparse = hardware.sparse_down_projection(case.h, case.w2_t, case.bias).double()
        assert bool(torch.where(expected.isnan(), sparse.isnan(), (sparse - expected).abs() <= tolerance).all())
        if bool(case.w2_t.isfinite().all()):
            dense_product = hardware.dense_down_projection(case.h.double(), case.w2_t.double(), case.bias.double())
            assert torch.allclose(dense_product, expected, rtol=0, atol=1e-12, equal_nan=True)


# --------------------------------------------------------------------------- Task 2: a ReLU that keeps a mask


class MaskReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x > 0)
        return torch.relu(x)

    @staticmethod
    def backward(ctx, grad_output):
        (mask,) = ctx.saved_tensors
        return grad_output * mask


class WhereBackward(MaskReLU):
    @staticmethod
    def backward(ctx, grad_output):
        (mask,) = ctx.saved_tensors
        return torch.where(mask, grad_output, torch.zeros_like(grad_output))


class ByteMask(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward((x > 0).to(torch.uint8))
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (mask,) = ctx.saved_tensors
        return grad_output * mask.to(grad_output.dtype)


@pytest.mark.parametrize("answer", [MaskReLU, WhereBackward, ByteMask])
def test_mask_relu_accepts_right_answers(answer, capsys):
    assert_passes(checks.mask_relu, answer, capsys)


class MaskAtZero(MaskReLU):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x >= 0)
        return torch.relu(x)


class SavesInput(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.relu(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (x > 0)


class SavesOutput(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = torch.relu(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        return grad_output * (y > 0)


class SavesBoth(SavesInput):
    @staticmethod
    def forward(ctx, x):
        y = torch.relu(x)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        x, _ = ctx.saved_tensors
        return grad_output * (x > 0)


class FloatMask(MaskReLU):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward((x > 0).float())
        return torch.relu(x)


class MaskAsAttribute(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.mask = x > 0
        return torch.relu(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.mask


class ReturnsTheMask(MaskReLU):
    @staticmethod
    def backward(ctx, grad_output):
        (mask,) = ctx.saved_tensors
        return mask.to(grad_output.dtype)


class PassesTheGradient(MaskReLU):
    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


class WhereForward(MaskReLU):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x > 0)
        return torch.where(x > 0, x, 0.0)


class InPlaceForward(MaskReLU):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x > 0)
        return x.clamp_(min=0)


class NoGradient(MaskReLU):
    @staticmethod
    def backward(ctx, grad_output):
        return None


class Identity(MaskReLU):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x > 0)
        return x.clone()


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (MaskAtZero, ["wrong gradient", "only where x is exactly 0", "not x >= 0"]),
        (SavesInput, ["4,000 bytes", "input (float32)", "you save the input x"]),
        (SavesOutput, ["4,000 bytes", "output (float32)", "you save the output"]),
        (SavesBoth, ["8,000 bytes", "you save both x and the output"]),
        (FloatMask, ["4,000 bytes", "intermediate (float32)", "keep the mask as torch.bool"]),
        (MaskAsAttribute, ["0 bytes", "nothing", "ctx.save_for_backward(mask)"]),
        (ReturnsTheMask, ["wrong gradient", "returns the mask itself", "grad_output * mask"]),
        (PassesTheGradient, ["wrong gradient", "passes the incoming gradient unchanged"]),
        (WhereForward, ["wrong output", "expected nan, got 0", "NaN in must give NaN out"]),
        (InPlaceForward, ["forward changed its input x"]),
        (NoGradient, ["no gradient reached x", "not None"]),
        (Identity, ["wrong output", "max(x, 0)"]),
        (MaskReLU.apply, ["expected the class itself", "pass MaskReLU, not MaskReLU.apply"]),
        (torch.autograd.Function, ["not torch.autograd.Function itself"]),
        (torch.nn.ReLU, ["the class ReLU, which is not one"]),
        (torch.relu, ["expected a subclass of torch.autograd.Function"]),
    ],
)
def test_mask_relu_names_the_mistake(answer, phrases, capsys):
    assert_fails(checks.mask_relu, answer, capsys, *phrases)


def test_mask_relu_wants_the_class_not_an_instance(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # PyTorch warns against instances
        instance = MaskReLU()
    assert_fails(checks.mask_relu, instance, capsys, "expected the class itself", "not MaskReLU()")


class UnfinishedForward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        raise NotImplementedError("Task 2: your code here")

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError("Task 2: your code here")


class UnfinishedBackward(MaskReLU):
    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError("Task 2: your code here")


@pytest.mark.parametrize("answer", [None, UnfinishedForward, UnfinishedBackward])
def test_an_unfinished_mask_relu_is_not_implemented_yet(answer, capsys):
    line = assert_fails(checks.mask_relu, answer, capsys, "not implemented yet")
    assert line.startswith(NOT_YET)


def test_a_mask_relu_saves_one_byte_per_number():
    x = torch.randn(100, requires_grad=True)
    saved = hardware.saved_tensor_bytes(MaskReLU.apply, x)
    assert saved.total_bytes == 100 and saved.describe() == "intermediate (bool)"


# --------------------------------------------------------------------------- predictions

RIGHT_PREDICTIONS = {
    "predict_batch_union": 1 - 0.9**8,
    "predict_silu_saved_bytes": 4 * 1_000_000,
}


@pytest.mark.parametrize("name", sorted(RIGHT_PREDICTIONS))
def test_predictions_from_the_derivation_pass(name, capsys):
    assert_passes(getattr(checks, name), RIGHT_PREDICTIONS[name], capsys)


WRONG_PREDICTIONS = [
    # (check, prediction, phrases): the usual slips of each derivation
    ("predict_batch_union", 0.9**8, ["too low", "off for all 8 inputs"]),
    ("predict_batch_union", 0.1, ["too low", "what one input needs"]),
    ("predict_batch_union", 8 * 0.1, ["too high", "counts twice"]),
    ("predict_batch_union", 0.1**8, ["too low", "on for all 8 inputs"]),
    ("predict_batch_union", 1 - 0.1**8, ["too high", "probability that a unit is off, not on"]),
    ("predict_batch_union", 0.7, ["too high", "off for every input of the batch"]),
    ("predict_silu_saved_bytes", 1_000_000, ["too low", "counts numbers"]),
    ("predict_silu_saved_bytes", 8_000_000, ["too high", "not x and its output"]),
    ("predict_silu_saved_bytes", 12_000_000, ["too high", "fused"]),
    ("predict_silu_saved_bytes", 0, ["too low", "must keep something"]),
    ("predict_silu_saved_bytes", 4, ["too low", "one number"]),
    ("predict_silu_saved_bytes", 125_000, ["too low", "counts bits"]),
    ("predict_silu_saved_bytes", 4_000_004, ["too high", "silu'(x)"]),
]


@pytest.mark.parametrize(("name", "prediction", "phrases"), WRONG_PREDICTIONS)
def test_predictions_with_the_usual_mistakes_fail(name, prediction, phrases, capsys):
    assert_fails(getattr(checks, name), prediction, capsys, *phrases)


def test_the_measurements_agree_with_the_derivations():
    assert abs(_measure_batch_union() - (1 - 0.9**8)) < 0.005
    assert _measure_silu_saved_bytes() == 4_000_000


def test_each_unit_of_the_union_layer_is_off_with_probability_s():
    w, b = _union_layer()
    z_over_norm = b / w.norm(dim=1)  # the mean of the pre-activation in units of its standard deviation
    off = torch.special.ndtr(-z_over_norm)  # P(w . x + b <= 0) for standard normal x
    assert torch.allclose(off, torch.full_like(off, 0.9), rtol=0, atol=1e-12)
    x = torch.randn(2000, w.shape[1], generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    measured_off = (x @ w.T + b <= 0).double().mean().item()
    assert math.isclose(measured_off, 0.9, abs_tol=0.005)
