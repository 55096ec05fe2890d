"""Derivatives at the kink: checked against PyTorch, against formulas, and on networks built by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from torch import nn

from relu_course import activations, differentiation
from relu_course.diagnostics import activation_layers
from relu_course.differentiation import (
    FLOAT_TYPES,
    ReLUWithDerivativeAtZero,
    autograd_derivative,
    central_difference,
    convention_effect,
    derivative_at_zero_table,
    exact_zero_preactivations,
    gradient_check,
    one_sided_differences,
    relu_with_derivative_at_zero,
    with_relu_derivative_at_zero,
)
from relu_course.networks import mlp
from relu_course.plotting import symmetric_grid

finite_floats = st.floats(-5.0, 5.0, allow_nan=False, allow_infinity=False)


def clamp_relu(t: torch.Tensor) -> torch.Tensor:
    return torch.clamp(t, min=0)


def maximum_relu(t: torch.Tensor) -> torch.Tensor:
    return torch.maximum(t, torch.zeros_like(t))


# --------------------------------------------------------------------------- autograd_derivative


def test_autograd_derivative_of_a_polynomial():
    x = np.array([-1.0, 0.0, 2.0, 3.5])
    derivative = autograd_derivative(lambda t: t**2 + 3 * t + 1, x)
    np.testing.assert_array_equal(derivative, 2 * x + 3)  # 7 at x = 2
    assert derivative.dtype == np.float64


@given(arrays(np.float64, st.integers(1, 20), elements=finite_floats))
def test_autograd_derivative_of_relu_matches_the_numpy_derivative(x):
    np.testing.assert_array_equal(autograd_derivative(torch.relu, x), activations.relu_grad(x))


def test_autograd_derivative_keeps_the_shape_and_uses_the_dtype():
    x = np.array([[-1.0, 0.5], [2.0, -3.0]])
    assert autograd_derivative(torch.tanh, x).shape == (2, 2)
    in_float32 = autograd_derivative(torch.tanh, x, dtype=torch.float32)
    in_float64 = autograd_derivative(torch.tanh, x)
    np.testing.assert_allclose(in_float32, in_float64, atol=1e-6)
    assert not np.array_equal(in_float32, in_float64)  # rounded to float32 on the way


def test_autograd_derivative_at_zero_depends_on_the_spelling():
    zero = [0.0, -0.0]
    np.testing.assert_array_equal(autograd_derivative(torch.relu, zero), [0.0, 0.0])
    np.testing.assert_array_equal(autograd_derivative(clamp_relu, zero), [1.0, 1.0])
    np.testing.assert_array_equal(autograd_derivative(maximum_relu, zero), [0.5, 0.5])


def test_autograd_derivative_of_a_constant_is_zero():
    np.testing.assert_array_equal(autograd_derivative(lambda t: torch.zeros_like(t, requires_grad=True), [1.0]), [0.0])


@pytest.mark.parametrize(
    "function, x, error",
    [
        ("not callable", [1.0], TypeError),
        (torch.relu, "1.0", TypeError),
        (torch.relu, [1.0, None], TypeError),
        (torch.sum, [1.0, 2.0], ValueError),  # not elementwise
        (lambda t: 1.0, [1.0], TypeError),  # not a tensor
    ],
)
def test_autograd_derivative_rejects_bad_input(function, x, error):
    with pytest.raises(error):
        autograd_derivative(function, x)


def test_autograd_derivative_rejects_a_non_float_dtype():
    with pytest.raises(TypeError, match="dtype"):
        autograd_derivative(torch.relu, [1.0], dtype=torch.int64)
    with pytest.raises(TypeError, match="dtype"):
        autograd_derivative(torch.relu, [1.0], dtype="float64")


# --------------------------------------------------------------------------- finite differences


@settings(max_examples=50)
@given(arrays(np.float64, st.integers(1, 10), elements=finite_floats))
def test_central_difference_of_a_smooth_function_matches_its_derivative(x):
    expected = 1 / np.cosh(x) ** 2
    np.testing.assert_allclose(central_difference(torch.tanh, x, step=1e-5), expected, atol=1e-8)


def test_central_difference_at_the_kink_averages_the_slopes():
    for step in (1e-1, 1e-4, 1e-8):
        assert central_difference(torch.relu, [0.0], step=step)[0] == pytest.approx(0.5)
    # Within h of the kink, neither 0 nor 1: (x + h) / (2 h).
    assert central_difference(torch.relu, [1e-7], step=1e-6)[0] == pytest.approx(0.55)


def test_central_difference_in_float32_with_a_large_enough_step():
    got = central_difference(torch.sin, [0.3], step=1e-2, dtype=torch.float32)[0]
    assert got == pytest.approx(math.cos(0.3), abs=1e-4)


@pytest.mark.parametrize("step", [0.0, -1e-3, math.nan])
def test_difference_steps_must_be_positive(step):
    with pytest.raises(ValueError):
        central_difference(torch.relu, [0.0], step=step)
    with pytest.raises(ValueError):
        one_sided_differences(torch.relu, [0.0], step=step)


def test_one_sided_differences_of_relu_at_zero_are_zero_and_one():
    for step in (1e-1, 1e-6, 1e-12):
        left, right = one_sided_differences(torch.relu, [0.0], step=step)
        assert (left[0], right[0]) == (0.0, 1.0)


def test_one_sided_differences_agree_where_the_function_is_smooth():
    left, right = one_sided_differences(torch.sigmoid, [0.0, 1.0], step=1e-7)
    expected = activations.sigmoid([0.0, 1.0]) * (1 - activations.sigmoid([0.0, 1.0]))
    np.testing.assert_allclose(left, expected, atol=1e-6)
    np.testing.assert_allclose(right, expected, atol=1e-6)


def test_one_sided_differences_of_leaky_relu():
    left, right = one_sided_differences(lambda t: F.leaky_relu(t, 0.2), [0.0], step=1e-3)
    assert left[0] == pytest.approx(0.2) and right[0] == pytest.approx(1.0)


# --------------------------------------------------------------------------- gradient_check


def test_gradient_check_of_relu_fails_only_at_the_kink():
    check = gradient_check(torch.relu, symmetric_grid(1.0, points_per_unit=20))
    assert not check.passed
    np.testing.assert_array_equal(check.disagreements, [0.0])
    assert check.autograd[check.x == 0] == 0.0 and check.numerical[check.x == 0] == pytest.approx(0.5)


def test_gradient_check_fails_within_one_step_of_the_kink():
    check = gradient_check(torch.relu, [-1e-7, 1e-7, 2e-6], step=1e-6)
    np.testing.assert_array_equal(check.agrees, [False, False, True])


def test_gradient_check_passes_for_smooth_functions():
    grid = symmetric_grid(3.0, points_per_unit=10)
    for function in (torch.tanh, F.softplus, F.gelu, F.silu, lambda t: t**3):
        assert gradient_check(function, grid).passed


def test_gradient_check_flattens_and_tabulates():
    check = gradient_check(torch.relu, [[-1.0, 0.0], [1.0, 2.0]])
    assert check.x.shape == (4,)
    assert len(check.table().rows) == 4
    assert check.table(only_disagreements=True).rows == [["0.0", "0.0", "0.5", "False"]]


def test_gradient_check_rejects_a_bad_tolerance():
    with pytest.raises(ValueError):
        gradient_check(torch.relu, [1.0], tolerance=0.0)


def test_gradient_check_catches_a_wrong_backward():
    class WrongSquare(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * x  # should be 2 x

    check = gradient_check(WrongSquare.apply, [1.0, 2.0])
    assert not check.agrees.any()


# --------------------------------------------------------------------------- derivative_at_zero_table


def test_derivative_at_zero_table_measures_each_function():
    table = derivative_at_zero_table({"relu": torch.relu, "clamp": clamp_relu, "maximum": maximum_relu, "silu": F.silu})
    assert table.header == ["function", "f(0)", "autograd f'(0)", "left slope", "right slope"]
    assert table.rows == [
        ["relu", "0.0", "0.0", "0.0", "1.0"],
        ["clamp", "0.0", "1.0", "0.0", "1.0"],
        ["maximum", "0.0", "0.5", "0.0", "1.0"],
        ["silu", "0.0", "0.5", "0.5", "0.5"],
    ]


@pytest.mark.parametrize("functions", [{}, [torch.relu], None])
def test_derivative_at_zero_table_needs_a_mapping(functions):
    with pytest.raises(TypeError):
        derivative_at_zero_table(functions)


def test_derivative_at_zero_table_rejects_a_non_function():
    with pytest.raises(TypeError):
        derivative_at_zero_table({"relu": "torch.relu"})


# --------------------------------------------------------------------------- relu'(0) as a parameter


def gradient(function, x: torch.Tensor) -> torch.Tensor:
    leaf = x.clone().requires_grad_(True)
    function(leaf).sum().backward()
    return leaf.grad


@given(arrays(np.float64, st.integers(1, 20), elements=st.sampled_from([-2.0, -0.0, 0.0, 1e-300, 3.0]) | finite_floats))
def test_default_convention_equals_torch_relu_bit_for_bit(x):
    t = torch.tensor(x)
    ours = relu_with_derivative_at_zero(t)
    theirs = torch.relu(t)
    assert torch.equal(ours, theirs) and torch.equal(torch.signbit(ours), torch.signbit(theirs))
    assert torch.equal(gradient(relu_with_derivative_at_zero, t), gradient(torch.relu, t))


def test_nan_gets_the_same_gradient_as_torch_relu():
    t = torch.tensor([math.nan, -1.0, 0.0])
    assert torch.equal(gradient(relu_with_derivative_at_zero, t), gradient(torch.relu, t))


@given(st.floats(0.0, 1.0))
def test_the_convention_is_used_at_zero_and_only_there(value):
    t = torch.tensor([-1.0, -0.0, 0.0, 2.0], dtype=torch.float64)
    got = gradient(lambda x: relu_with_derivative_at_zero(x, value), t)
    assert got.tolist() == [0.0, value, value, 1.0]


@pytest.mark.parametrize("dtype", FLOAT_TYPES)
def test_the_convention_keeps_the_dtype(dtype):
    t = torch.tensor([0.0, 1.0], dtype=dtype, requires_grad=True)
    out = relu_with_derivative_at_zero(t, 0.5)
    out.sum().backward()
    assert out.dtype == dtype and t.grad.dtype == dtype and t.grad.tolist() == [0.5, 1.0]


def test_the_convention_changes_the_derivative_of_relu_x_minus_relu_minus_x():
    # relu(x) - relu(-x) = x, whose derivative is 1 everywhere; at 0 backprop gives 2 * relu'(0).
    for value, expected in [(0.0, 0.0), (0.5, 1.0), (1.0, 2.0)]:

        def identity(x, value=value):
            return relu_with_derivative_at_zero(x, value) - relu_with_derivative_at_zero(-x, value)

        assert gradient(identity, torch.tensor([0.0])).item() == expected


@pytest.mark.parametrize("x, value, error", [(torch.tensor([1, 2]), 0.0, TypeError), ([1.0], 0.0, TypeError)])
def test_relu_with_derivative_at_zero_rejects_bad_tensors(x, value, error):
    with pytest.raises(error):
        relu_with_derivative_at_zero(x, value)


@pytest.mark.parametrize("value, error", [(math.nan, ValueError), ("1", TypeError), (True, TypeError)])
def test_relu_with_derivative_at_zero_rejects_bad_values(value, error):
    with pytest.raises(error):
        relu_with_derivative_at_zero(torch.zeros(1), value)
    with pytest.raises(error):
        ReLUWithDerivativeAtZero(value)


def test_the_layer_is_a_relu_layer():
    layer = ReLUWithDerivativeAtZero(0.5)
    assert isinstance(layer, nn.ReLU)
    assert repr(layer) == "ReLUWithDerivativeAtZero(derivative_at_zero=0.5)"
    assert gradient(layer, torch.tensor([0.0])).item() == 0.5


def test_with_relu_derivative_at_zero_copies_and_replaces_every_relu():
    model = mlp([3, 4, 4, 2], seed=0)
    model[3] = nn.ReLU(inplace=True)
    nested = nn.Sequential(nn.Sequential(model[0], model[1]), model[2], model[3], model[4])
    copied = with_relu_derivative_at_zero(nested, 1.0)
    assert [type(module) for _, module in activation_layers(copied)] == [ReLUWithDerivativeAtZero] * 2
    assert [type(module) for _, module in activation_layers(nested)] == [nn.ReLU] * 2  # original unchanged
    assert copied[0][0].weight is not nested[0][0].weight
    inputs = torch.randn(5, 3, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(copied(inputs), nested(inputs))


def test_with_relu_derivative_at_zero_on_a_bare_relu_and_bad_models():
    assert isinstance(with_relu_derivative_at_zero(nn.ReLU(), 1.0), ReLUWithDerivativeAtZero)
    with pytest.raises(ValueError, match="no nn.ReLU"):
        with_relu_derivative_at_zero(mlp([2, 3, 1], activation="tanh"), 1.0)
    with pytest.raises(TypeError):
        with_relu_derivative_at_zero(torch.relu, 1.0)


# --------------------------------------------------------------------------- exact zeros


def one_unit_network(weight: float, bias: float) -> nn.Sequential:
    """Linear(1 -> 1) with the given weight and bias, ReLU, then Linear(1 -> 1) with weight 1, bias 0."""
    first, second = nn.Linear(1, 1), nn.Linear(1, 1)
    with torch.no_grad():
        first.weight.fill_(weight)
        first.bias.fill_(bias)
        second.weight.fill_(1.0)
        second.bias.fill_(0.0)
    return nn.Sequential(first, nn.ReLU(), second)


def test_exact_zeros_are_counted_per_layer():
    model = nn.Sequential(nn.Linear(2, 3, bias=False), nn.ReLU(), nn.Linear(3, 2, bias=False), nn.ReLU())
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
        model[2].weight.copy_(torch.tensor([[1.0, -1.0, 0.0], [0.0, 1.0, -1.0]]))  # [1, 2] -> [-1, -1]
    inputs = torch.tensor([[0.0, 0.0], [1.0, 2.0], [0.0, 0.0]])
    counts = exact_zero_preactivations(model, inputs, torch.float64)
    assert [(count.layer, count.zeros, count.total) for count in counts] == [("1", 6, 9), ("3", 4, 6)]
    assert counts[0].dtype == torch.float64 and counts[0].fraction == pytest.approx(6 / 9)
    assert next(model.parameters()).dtype == torch.float32  # the model itself is not converted


def test_rounding_to_a_short_type_can_create_an_exact_zero():
    # w x + b = 1.00001 - 1 in float64, but 1.00001 rounds to 1 in float16 and bfloat16.
    model = one_unit_network(1.0, -1.0)
    inputs = torch.tensor([[1.00001]], dtype=torch.float64)
    zeros = {dtype: exact_zero_preactivations(model, inputs, dtype)[0].zeros for dtype in FLOAT_TYPES}
    assert zeros == {torch.float16: 1, torch.bfloat16: 1, torch.float32: 0, torch.float64: 0}


def test_exact_zeros_see_through_an_inplace_relu():
    model = one_unit_network(1.0, 0.0)
    model[1] = nn.ReLU(inplace=True)
    assert exact_zero_preactivations(model, torch.tensor([[0.0], [-1.0]]), torch.float32)[0].zeros == 1


def test_exact_zeros_reject_bad_input():
    model = one_unit_network(1.0, 0.0)
    with pytest.raises(TypeError):
        exact_zero_preactivations(model, torch.tensor([[1]]), torch.float32)
    with pytest.raises(TypeError):
        exact_zero_preactivations(model, torch.zeros(1, 1), torch.int32)
    with pytest.raises(TypeError):
        exact_zero_preactivations("model", torch.zeros(1, 1), torch.float32)
    with pytest.raises(ValueError, match="no activation layers"):
        exact_zero_preactivations(nn.Linear(1, 1), torch.zeros(1, 1), torch.float32)


# --------------------------------------------------------------------------- convention_effect


def test_convention_effect_on_a_known_zero():
    # x = 0, bias 0: the pre-activation is exactly 0. Loss (relu(0) - 1)^2 has d/d(out) = -2, so the
    # first bias gets -2 * relu'(0): 0 or -2. The first weight gets that times x = 0 either way.
    effect = convention_effect(one_unit_network(1.0, 0.0), torch.zeros(1, 1), torch.ones(1, 1), torch.float64)
    assert (effect.exact_zeros, effect.changed, effect.total, effect.largest) == (1, 1, 4, 2.0)
    assert effect.changed_by_parameter == {"0.weight": 0, "0.bias": 1, "2.weight": 0, "2.bias": 0}
    assert effect.dtype == torch.float64


def test_convention_effect_is_nil_without_exact_zeros():
    model = mlp([2, 8, 8, 3], seed=0)
    inputs = torch.randn(32, 2, generator=torch.Generator().manual_seed(1))
    labels = torch.arange(32) % 3
    effect = convention_effect(model, inputs, labels, torch.float64, loss="cross_entropy")
    assert (effect.exact_zeros, effect.changed, effect.largest) == (0, 0, 0.0)
    assert effect.total == sum(parameter.numel() for parameter in model.parameters())


def test_convention_effect_matches_a_hand_made_comparison():
    model = mlp([1, 16, 16, 1], init="he", seed=0)  # zero biases: x = 0 gives exact zeros
    inputs = torch.linspace(-1, 1, 21).reshape(-1, 1)
    inputs[10] = 0.0
    targets = torch.cos(inputs)
    effect = convention_effect(model, inputs, targets, torch.float32, derivatives_at_zero=(0.0, 0.5))
    grads = []
    for value in (0.0, 0.5):
        copied = with_relu_derivative_at_zero(model, value)
        F.mse_loss(copied(inputs), targets).backward()
        grads.append(torch.cat([parameter.grad.flatten() for parameter in copied.parameters()]))
    assert effect.exact_zeros == 32
    assert effect.changed == int((grads[0] != grads[1]).sum()) > 0
    # The example x = 0 reaches the weights multiplied by 0: only hidden biases can change.
    assert set(effect.changed_by_parameter) == {name for name, _ in model.named_parameters()}
    assert effect.changed == effect.changed_by_parameter["0.bias"] + effect.changed_by_parameter["2.bias"]
    assert effect.largest == pytest.approx((grads[0] - grads[1]).abs().max().item())


def test_convention_effect_rejects_bad_arguments():
    model = one_unit_network(1.0, 0.0)
    inputs, targets = torch.zeros(2, 1), torch.ones(2, 1)
    with pytest.raises(ValueError):
        convention_effect(model, inputs, targets, torch.float32, loss="l1")
    with pytest.raises(ValueError):
        convention_effect(model, inputs, targets[:1], torch.float32)
    with pytest.raises(ValueError):
        convention_effect(model, inputs, targets, torch.float32, derivatives_at_zero=(0.0, 0.5, 1.0))
    with pytest.raises(TypeError):
        convention_effect(model, inputs, targets.numpy(), torch.float32)


# --------------------------------------------------------------------------- emulated precision


def test_round_to_rounds_half_to_even_and_keeps_the_type():
    # bfloat16 keeps 8 significant bits: its numbers next to 1 are 2**-7 apart.
    values = torch.tensor([1 + 2**-8, 1 + 3 * 2**-9, -(2.0**-200)], dtype=torch.float64)
    rounded = differentiation.round_to(values, torch.bfloat16)
    assert rounded.dtype == torch.float64
    assert rounded.tolist() == [1.0, 1 + 2**-7, 0.0] and math.copysign(1, rounded[2]) == -1


def test_low_precision_copy_adds_exactly_and_rounds_once():
    # 1 + 2**-8 + 2**-9 rounded once is 1 + 2**-7; rounded after each addition it would
    # be 1.0 (1 + 2**-8 is a tie, and ties go to the even 1.0).
    layer = nn.Linear(3, 1, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, 1.0, 1.0]]))
    emulated = differentiation.low_precision_copy(layer, torch.bfloat16)
    x = torch.tensor([[1.0, 2**-8, 2**-9]], dtype=torch.float64)  # bfloat16 numbers
    assert emulated(x).item() == 1 + 2**-7
    assert layer.weight.dtype == torch.float32  # the model itself is unchanged
    assert all(parameter.dtype == torch.float64 for parameter in emulated.parameters())


def test_low_precision_copy_rounds_parameters_outputs_and_gradients():
    model = mlp([2, 16, 1], seed=0)
    emulated = differentiation.low_precision_copy(model, torch.float16)
    for parameter in emulated.parameters():
        assert torch.equal(parameter, differentiation.round_to(parameter, torch.float16))
    noise = torch.randn(8, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    output = emulated(differentiation.round_to(noise, torch.float16))
    assert torch.equal(output, differentiation.round_to(output, torch.float16))
    output.sum().backward()
    gradient = emulated[0].weight.grad
    assert gradient.abs().sum() > 0
    with pytest.raises(TypeError, match="floating-point"):
        differentiation.low_precision_copy(model, torch.int8)


def test_second_order_one_sided_differences():
    def slopes(function, at, step=1e-5):
        (left,), (right,) = one_sided_differences(function, [at], step=step, order=2)
        return left, right

    assert slopes(torch.relu, 0.0) == (0.0, 1.0)
    assert slopes(F.leaky_relu, 0.0) == pytest.approx((0.01, 1.0), abs=1e-12)
    assert slopes(F.relu6, 6.0) == pytest.approx((1.0, 0.0), abs=1e-9)  # 6 ± h rounds
    selu_scale, selu_alpha = 1.0507009873554805, 1.6732632423543772
    assert slopes(torch.selu, 0.0) == pytest.approx((selu_scale * selu_alpha, selu_scale), rel=1e-8)
    # Exact for a parabola on each side, where the first-order quotients are not.
    parabola = lambda t: 3 * t**2 + 2 * t  # noqa: E731
    assert slopes(parabola, 1.0, step=1e-3) == pytest.approx((8.0, 8.0), rel=1e-10)
    (left,), (right,) = one_sided_differences(parabola, [1.0], step=1e-3)
    assert left == pytest.approx(8.0 - 3e-3, rel=1e-9) and right == pytest.approx(8.0 + 3e-3, rel=1e-9)


@settings(max_examples=30, deadline=None)
@given(at=st.floats(-5, 5))
def test_second_order_slopes_agree_where_the_function_is_smooth(at):
    for function, derivative in [
        (F.gelu, activations.gelu_grad),
        (F.silu, activations.silu_grad),
        (F.mish, activations.mish_grad),
        (F.softplus, activations.softplus_grad),
    ]:
        (left,), (right,) = one_sided_differences(function, [at], step=1e-5, order=2)
        expected = float(derivative(at))
        assert left == pytest.approx(expected, abs=1e-8) and right == pytest.approx(expected, abs=1e-8)


@pytest.mark.parametrize("order", [0, 3, 1.5, True])
def test_one_sided_differences_order_is_one_or_two(order):
    with pytest.raises((ValueError, TypeError), match="order"):
        one_sided_differences(torch.relu, [0.0], order=order)
