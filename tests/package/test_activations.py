"""The package's activations against PyTorch (float64, autograd), and their contracts."""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from relu_course import activations as A
from tests.package.torch_reference import CASES, value_and_grad

DENSE_GRID = np.arange(-12_000, 12_001) / 1000.0  # step 0.001; contains 0 and 6 exactly
EDGE_VALUES = np.array(
    [
        0.0,
        -0.0,
        5e-324,
        -5e-324,
        1e-300,
        -1e-300,
        1e-8,
        -1e-8,
        6.0,
        20.0,
        -20.0,
        40.0,
        -40.0,
        800.0,
        -800.0,
        1e300,
        -1e300,
        math.inf,
        -math.inf,
        math.nan,
    ]
)
# Mathematical limits where PyTorch's formula computes inf * 0 and returns NaN.
LIMITS = {"value at -inf": -0.0, "derivative at -inf": 0.0, "derivative at +inf": 1.0}
# Softplus: PyTorch returns x itself (derivative 1) where beta * x > 20; the exact
# value differs there by log(1 + exp(-20)) / beta and the derivative by about exp(-20),
# both below 2.1e-9.
ABSOLUTE_TOLERANCE = {"softplus": 2.1e-9, "softplus(beta=3)": 2.1e-9}


def package_pair(case: str):
    name, kwargs, _ = CASES[case]
    function, derivative = A.ACTIVATIONS[name]
    return (lambda x: function(x, **kwargs)), (lambda x: derivative(x, **kwargs))


@pytest.mark.parametrize("case", CASES)
def test_matches_pytorch_on_a_dense_grid(case):
    function, derivative = package_pair(case)
    expected_value, expected_grad = value_and_grad(CASES[case][2], DENSE_GRID)
    atol = ABSOLUTE_TOLERANCE.get(case, 1e-14)
    np.testing.assert_allclose(function(DENSE_GRID), expected_value, rtol=1e-12, atol=atol)
    np.testing.assert_allclose(derivative(DENSE_GRID), expected_grad, rtol=1e-12, atol=atol)


@pytest.mark.parametrize("case", CASES)
def test_matches_pytorch_at_edge_values(case):
    function, derivative = package_pair(case)
    expected_value, expected_grad = value_and_grad(CASES[case][2], EDGE_VALUES)
    ours_value, ours_grad = function(EDGE_VALUES), derivative(EDGE_VALUES)
    atol = ABSOLUTE_TOLERANCE.get(case, 1e-14)
    for x, ours, theirs, kind in [
        *zip(EDGE_VALUES, ours_value, expected_value, ["value"] * len(EDGE_VALUES)),
        *zip(EDGE_VALUES, ours_grad, expected_grad, ["derivative"] * len(EDGE_VALUES)),
    ]:
        where = f"{case} {kind} at x={x!r}"
        if math.isnan(x):
            assert math.isnan(ours), f"{where}: NaN must give NaN, got {ours}"
        elif math.isnan(theirs):
            # PyTorch computes inf * 0 here; the package returns the limit.
            assert abs(x) > 1e100, f"{where}: PyTorch gives NaN at a moderate input"
            side = "-inf" if x < 0 else "+inf"
            limit = LIMITS[f"{kind} at {side}"]
            assert ours == limit and math.copysign(1, ours) == math.copysign(1, limit), f"{where}: {ours}"
        else:
            assert ours == pytest.approx(theirs, rel=1e-12, abs=atol), where
            if theirs == 0 and ours == 0 and kind == "value":
                assert math.copysign(1, ours) == math.copysign(1, theirs), f"{where}: sign of zero"


def test_derivatives_at_kinks_follow_autograd():
    assert A.relu_grad(0.0) == 0.0
    assert A.relu_grad(-0.0) == 0.0
    assert A.leaky_relu_grad(0.0, negative_slope=0.3) == 0.3
    assert A.elu_grad(0.0) == 1.0
    assert A.elu_grad(0.0, alpha=2.0) == 2.0
    assert A.selu_grad(0.0) == pytest.approx(A.SELU_SCALE * A.SELU_ALPHA, rel=1e-15)
    assert A.relu6_grad(0.0) == 0.0
    assert A.relu6_grad(6.0) == 0.0
    for x, torch_function in [(0.0, torch.relu), (0.0, torch.nn.functional.relu6), (6.0, torch.nn.functional.relu6)]:
        _, grad = value_and_grad(torch_function, np.array([x]))
        assert grad[0] == 0.0


def test_nan_propagates_where_pytorch_autograd_does_not():
    # PyTorch: relu'(nan) = 1, leaky_relu'(nan) = 0.01, relu6'(nan) = 0. The package: NaN.
    for name, (function, derivative) in A.ACTIVATIONS.items():
        assert np.isnan(function(math.nan)), name
        assert np.isnan(derivative(math.nan)), name


def test_sigmoid_matches_pytorch_and_its_tails():
    x = np.concatenate([DENSE_GRID, [-800.0, 800.0, -math.inf, math.inf]])
    np.testing.assert_allclose(A.sigmoid(x), torch.sigmoid(torch.tensor(x)).numpy(), rtol=1e-14, atol=1e-300)
    assert A.sigmoid(-math.inf) == 0.0 and A.sigmoid(math.inf) == 1.0


# --------------------------------------------------------------------------- shapes and dtypes

ALL_FUNCTIONS = [f for pair in A.ACTIVATIONS.values() for f in pair]
FUNCTION_IDS = [f.__name__ for f in ALL_FUNCTIONS]


@pytest.mark.parametrize("function", ALL_FUNCTIONS, ids=FUNCTION_IDS)
def test_shape_and_dtype_rules(function):
    cube = np.arange(-12, 12, dtype=np.float64).reshape(2, 3, 4) / 4
    assert function(cube).shape == (2, 3, 4)
    assert function(cube).dtype == np.float64
    assert function(cube.astype(np.float32)).dtype == np.float32
    assert function([[-1, 0, 2]]).dtype == np.float64  # integers become float64
    assert function(np.array([True, False])).dtype == np.float64
    scalar = function(1.5)
    assert isinstance(scalar, np.ndarray) and scalar.shape == ()
    assert function(np.empty((0, 3))).shape == (0, 3)


@pytest.mark.parametrize("case", CASES)
def test_float32_input_matches_pytorch_float32(case):
    function, _ = package_pair(case)
    x = DENSE_GRID.astype(np.float32)
    expected = CASES[case][2](torch.from_numpy(x)).numpy()
    # PyTorch's float32 arithmetic is good to about 1e-6 here (GELU's tail loses more
    # to 1 + erf(x) cancelling); the package rounds a float64 result once.
    np.testing.assert_allclose(function(x), expected, rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("function", ALL_FUNCTIONS, ids=FUNCTION_IDS)
@settings(max_examples=25, deadline=None)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=5), elements=st.floats(allow_nan=True)))
def test_never_modifies_its_input(function, x):
    before = x.copy()
    result = function(x)
    np.testing.assert_array_equal(x, before)
    assert result is not x and not np.shares_memory(result, x)


def test_never_modifies_a_list():
    data = [-1.0, 0.0, 2.0]
    A.relu(data)
    assert data == [-1.0, 0.0, 2.0]


# --------------------------------------------------------------------------- properties

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(x=hnp.arrays(np.float64, hnp.array_shapes(max_dims=2), elements=finite))
def test_relu_splits_x_into_positive_and_negative_parts(x):
    np.testing.assert_array_equal(A.relu(x) - A.relu(-x), x)
    assert np.all(A.relu(x) >= 0) and np.all(A.relu(x) >= x)


@given(x=hnp.arrays(np.float64, 20, elements=finite), slope=st.floats(0, 1))
def test_leaky_relu_is_relu_plus_a_scaled_negative_part(x, slope):
    np.testing.assert_allclose(A.leaky_relu(x, slope), A.relu(x) - slope * A.relu(-x), rtol=1e-15, atol=0)


@given(x=hnp.arrays(np.float64, 20, elements=finite), beta=st.floats(0.1, 50))
def test_softplus_lies_above_relu_by_at_most_log2_over_beta(x, beta):
    gap = A.softplus(x, beta) - A.relu(x)
    assert np.all(gap >= -1e-15 * np.abs(x))  # rounding of beta * x / beta
    assert np.all(gap <= math.log(2) / beta * (1 + 1e-12))


@given(x=hnp.arrays(np.float64, 20, elements=finite))
def test_relu6_stays_between_0_and_6(x):
    y = A.relu6(x)
    assert np.all((0 <= y) & (y <= 6))


DIFFERENTIABLE_AWAY_FROM_KINKS = [
    ("relu", {}, [0.0]),
    ("leaky_relu", {"negative_slope": 0.1}, [0.0]),
    ("elu", {"alpha": 1.5}, [0.0]),
    ("selu", {}, [0.0]),
    ("gelu", {}, []),
    ("gelu", {"approximate": "tanh"}, []),
    ("silu", {}, []),
    ("swish", {"beta": 3.0}, []),
    ("softplus", {"beta": 2.0}, []),
    ("mish", {}, []),
    ("relu6", {}, [0.0, 6.0]),
]


@pytest.mark.parametrize("name,kwargs,kinks", DIFFERENTIABLE_AWAY_FROM_KINKS)
@settings(max_examples=50, deadline=None)
@given(x=st.floats(-20, 20))
def test_derivative_matches_central_differences_away_from_kinks(name, kwargs, kinks, x):
    step = 1e-5
    if any(abs(x - kink) < 10 * step for kink in kinks):
        return
    function, derivative = A.ACTIVATIONS[name]
    numeric = (function(x + step, **kwargs) - function(x - step, **kwargs)) / (2 * step)
    assert derivative(x, **kwargs) == pytest.approx(numeric, abs=1e-6)


def test_silu_is_swish_with_beta_one():
    np.testing.assert_array_equal(A.silu(DENSE_GRID), A.swish(DENSE_GRID, beta=1.0))


def test_every_activation_has_its_derivative_named_after_it():
    for name, (function, derivative) in A.ACTIVATIONS.items():
        assert function.__name__ == name
        assert derivative.__name__ == f"{name}_grad"


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "bad, message",
    [
        ("1.0", "string"),
        (None, "None"),
        ([[1.0, 2.0], [3.0]], "regular shape"),
        ([1.0, None], "real numbers only"),
        ([1.0, "a"], "real numbers only"),
        (np.array([1 + 2j]), "complex"),
        ({"x": 1.0}, "real numbers only"),
    ],
)
@pytest.mark.parametrize("function", ALL_FUNCTIONS, ids=FUNCTION_IDS)
def test_non_numeric_input_raises_a_clear_type_error(function, bad, message):
    with pytest.raises(TypeError, match=message):
        function(bad)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: A.leaky_relu(1.0, negative_slope="0.1"), TypeError, "negative_slope must be a real number"),
        (lambda: A.leaky_relu_grad(1.0, negative_slope=math.nan), ValueError, "negative_slope must be finite"),
        (lambda: A.elu(1.0, alpha=None), TypeError, "alpha must be a real number"),
        (lambda: A.softplus(1.0, beta=0), ValueError, "beta must be > 0"),
        (lambda: A.softplus_grad(1.0, beta=-1.0), ValueError, "beta must be > 0"),
        (lambda: A.swish(1.0, beta=math.inf), ValueError, "beta must be finite"),
        (lambda: A.gelu(1.0, approximate="exact"), ValueError, "approximate must be one of 'none', 'tanh'"),
        (lambda: A.gelu_grad(1.0, approximate=None), ValueError, "approximate must be one of"),
        (lambda: A.leaky_relu(1.0, negative_slope=True), TypeError, "negative_slope must be a real number"),
    ],
)
def test_bad_parameters_raise_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_the_catalogue_is_the_one_home_of_every_activation():
    from torch import nn

    from relu_course import networks, variants

    for name, entry in A.CATALOGUE.items():
        assert isinstance(getattr(nn, entry.torch_class), type), name
        assert variants.VARIANTS[name].function is entry.function
        if not entry.torch_arguments:
            assert networks.ACTIVATION_MODULES[name] is getattr(nn, entry.torch_class)
    assert list(variants.VARIANTS) == list(A.CATALOGUE)
    for name, (function, derivative) in A.ACTIVATIONS.items():
        if name != "swish":
            assert (A.CATALOGUE[name].function, A.CATALOGUE[name].derivative) == (function, derivative)
