"""Linear regions: kinks along a segment, linear pieces, activation patterns on a grid, the tent map.

Answers are checked against networks built by hand whose kinks are known, against the
tent map's 2**L pieces, against dense sampling of random networks, and against
``dead_neurons.count_activation_patterns``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from relu_course.dead_neurons import count_activation_patterns
from relu_course.diagnostics import activation_inputs
from relu_course.networks import mlp, shift_hidden_biases
from relu_course.piecewise import relu_expansion
from relu_course.regions import (
    activation_patterns_on_grid,
    count_linear_pieces,
    hat_2d,
    hat_interpolant_network,
    kinks_along_segment,
    tent_map_network,
)


def hand_set(*layers: tuple[list[list[float]], list[float]], dtype: torch.dtype = torch.float64) -> nn.Sequential:
    """Linear layers with the given (weight, bias), a ReLU between consecutive ones."""
    modules: list[nn.Module] = []
    for weight, bias in layers:
        linear = nn.Linear(len(weight[0]), len(weight), dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(weight, dtype=torch.float64))
            linear.bias.copy_(torch.tensor(bias, dtype=torch.float64))
        modules += [linear, nn.ReLU()]
    return nn.Sequential(*modules[:-1])


#: Three first-layer units: relu(x1), relu(x2), relu(x1 + x2 - 1).
THREE_LINES = ([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [0.0, 0.0, -1.0])
#: On the segment (-2, -1) -> (2, 1.5), x(t) = (-2 + 4t, -1 + 2.5t): x2 = 0 at t = 0.4,
#: x1 = 0 at t = 0.5, x1 + x2 = 1 at t = 4 / 6.5.
SEGMENT = ([-2.0, -1.0], [2.0, 1.5])
SEGMENT_KINKS = [0.4, 0.5, 4 / 6.5]


def tent_composed(x: np.ndarray, depth: int) -> np.ndarray:
    for _ in range(depth):
        x = np.where(x <= 0.5, 2 * x, 2 - 2 * x)
    return x


def sampled_pattern_changes(model: nn.Module, start, end, samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Sample t on [0, 1]; return the t values and, per gap between samples, whether the pattern changed."""
    t = np.linspace(0.0, 1.0, samples)
    points = torch.tensor(np.asarray(start) + t[:, None] * (np.asarray(end) - np.asarray(start)))
    bits = torch.cat([pre > 0 for _, pre in activation_inputs(model, points)], dim=1).numpy()
    return t, (bits[1:] != bits[:-1]).any(axis=1)


# --------------------------------------------------------------------------- hand-set networks


def test_kinks_of_three_lines_are_where_each_line_is_crossed():
    model = hand_set(THREE_LINES, ([[1.0, 1.0, 1.0]], [0.0]))
    np.testing.assert_allclose(kinks_along_segment(model, *SEGMENT), SEGMENT_KINKS, rtol=1e-14)
    assert count_linear_pieces(model, *SEGMENT) == 4


def test_a_unit_with_zero_outgoing_weight_changes_the_pattern_but_not_the_function():
    model = hand_set(THREE_LINES, ([[1.0, 1.0, 0.0]], [0.0]))
    assert len(kinks_along_segment(model, *SEGMENT)) == 3
    assert count_linear_pieces(model, *SEGMENT) == 3


def test_a_dead_second_layer_makes_one_linear_piece():
    model = hand_set(THREE_LINES, ([[-1.0, -1.0, -1.0]], [-1.0]), ([[1.0]], [0.5]))
    assert len(kinks_along_segment(model, *SEGMENT)) == 3  # the first layer still switches
    assert count_linear_pieces(model, *SEGMENT) == 1


def test_kinks_of_a_relu_expansion_are_its_knots():
    knots_x = np.array([-1.5, -0.25, 0.5, 2.0])
    network = relu_expansion(knots_x, [0.0, 2.0, -1.0, 0.5]).to_network()
    kinks = kinks_along_segment(network, [-3.0], [3.0])
    np.testing.assert_allclose(-3.0 + 6.0 * kinks, knots_x[:-1], rtol=0, atol=1e-14)  # the last knot is no kink
    assert count_linear_pieces(network, [-3.0], [3.0]) == 4


def test_collinear_knots_give_an_activation_kink_and_no_linear_kink():
    # the slope is 1 on both sides of x = 1, so that unit's weight is 0
    network = relu_expansion([0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 2.0, 0.0]).to_network()
    assert len(kinks_along_segment(network, [-1.0], [4.0])) == 3
    assert count_linear_pieces(network, [-1.0], [4.0]) == 3


def test_kinks_are_found_in_both_directions_of_the_segment():
    model = hand_set(THREE_LINES, ([[1.0, 1.0, 1.0]], [0.0]))
    forward = kinks_along_segment(model, *SEGMENT)
    backward = kinks_along_segment(model, SEGMENT[1], SEGMENT[0])
    np.testing.assert_allclose(np.sort(1.0 - backward), forward, rtol=1e-14)


def test_a_network_without_relu_is_one_piece():
    model = nn.Sequential(nn.Linear(2, 5), nn.Linear(5, 3)).double()
    assert kinks_along_segment(model, [-5.0, 1.0], [4.0, -2.0]).size == 0
    assert count_linear_pieces(model, [-5.0, 1.0], [4.0, -2.0]) == 1


def test_a_dead_network_is_one_piece():
    model = shift_hidden_biases(mlp([2, 16, 16, 1], seed=3, dtype=torch.float64), -100.0)
    assert kinks_along_segment(model, [-2.0, -2.0], [2.0, 2.0]).size == 0
    assert count_linear_pieces(model, [-2.0, -2.0], [2.0, 2.0]) == 1


def test_a_segment_inside_one_region_has_no_kink():
    model = hand_set(THREE_LINES, ([[1.0, 1.0, 1.0]], [0.0]))
    assert kinks_along_segment(model, [2.0, 2.0], [3.0, 5.0]).size == 0  # every unit on throughout
    assert count_linear_pieces(model, [2.0, 2.0], [3.0, 5.0]) == 1


def test_a_kink_at_an_end_of_the_segment_is_not_counted():
    model = hand_set(THREE_LINES, ([[1.0, 1.0, 1.0]], [0.0]))
    # on x2 = 2: x1 + x2 = 1 at x1 = -1, x1 = 0 at x1 = 0
    assert kinks_along_segment(model, [-1.0, 2.0], [0.0, 2.0]).size == 0  # one at each end
    assert kinks_along_segment(model, [-1.0, 2.0], [1.0, 2.0]).tolist() == [0.5]
    assert kinks_along_segment(model, [-2.0, 2.0], [2.0, 2.0]).tolist() == [0.25, 0.5]


def test_kinks_closer_than_the_tolerance_count_as_one():
    gap = 1e-12
    model = hand_set(([[1.0], [1.0]], [-0.5, -0.5 - gap]), ([[1.0, 1.0]], [0.0]))
    assert len(kinks_along_segment(model, [0.0], [1.0])) == 1
    assert len(kinks_along_segment(model, [0.0], [1.0], tolerance=1e-14)) == 2


def test_a_network_ending_in_relu_and_consecutive_linear_layers_are_walked():
    model = nn.Sequential(nn.Linear(1, 3), nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 2), nn.ReLU()).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0], [2.0], [0.0]]))
        model[0].bias.zero_()
        model[1].weight.copy_(torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))
        model[1].bias.copy_(torch.tensor([-0.25, -1.0]))  # kinks at x = 0.25 and x = 0.5
        model[3].weight.copy_(torch.eye(2))
        model[3].bias.copy_(torch.tensor([-0.5, 0.0]))  # relu(x - 0.25) - 0.5 = 0 at x = 0.75
    np.testing.assert_allclose(kinks_along_segment(model, [0.0], [1.0]), [0.25, 0.5, 0.75], rtol=1e-15)


def test_pieces_of_several_outputs_merge_only_when_every_slope_agrees():
    # output 0 = relu(x), output 1 = relu(x - 1): one kink each
    model = hand_set(([[1.0], [1.0]], [0.0, -1.0]), ([[1.0, 0.0], [0.0, 1.0]], [0.0, 0.0]))
    assert count_linear_pieces(model, [-1.0], [2.0]) == 3
    only_first = hand_set(([[1.0], [1.0]], [0.0, -1.0]), ([[1.0, 0.0], [0.0, 0.0]], [0.0, 0.0]))
    assert count_linear_pieces(only_first, [-1.0], [2.0]) == 2


# --------------------------------------------------------------------------- the tent map


@pytest.mark.parametrize("depth", [1, 2, 3, 5, 8, 12])
def test_tent_map_has_two_to_the_depth_pieces_with_dyadic_kinks(depth):
    network = tent_map_network(depth)
    kinks = kinks_along_segment(network, [0.0], [1.0])
    assert np.array_equal(kinks, np.arange(1, 2**depth) / 2**depth)  # exact, not approximate
    assert count_linear_pieces(network, [0.0], [1.0]) == 2**depth


@pytest.mark.parametrize("depth", [1, 4, 7])
def test_tent_map_network_computes_the_composed_tent_map_exactly(depth):
    x = np.arange(2**10 + 1) / 2**10
    with torch.no_grad():
        y = tent_map_network(depth)(torch.tensor(x)[:, None]).numpy().ravel()
    assert np.array_equal(y, tent_composed(x, depth))


def test_tent_map_network_shape_and_dtype():
    network = tent_map_network(3, dtype=torch.float32)
    linears = [layer for layer in network if isinstance(layer, nn.Linear)]
    assert [tuple(layer.weight.shape) for layer in linears] == [(2, 1), (2, 2), (2, 2), (1, 2)]
    assert all(parameter.dtype == torch.float32 for parameter in network.parameters())
    assert tent_map_network(3)[0].weight.dtype == torch.float64
    assert count_linear_pieces(network, [0.0], [1.0]) == 8


# --------------------------------------------------------------------------- random networks


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), widths=st.lists(st.integers(1, 12), min_size=1, max_size=4))
def test_kinks_agree_with_dense_sampling(seed, widths):
    model = mlp([2, *widths, 1], seed=seed, dtype=torch.float64)
    start, end = [-2.0, -1.5], [1.5, 2.0]
    kinks = kinks_along_segment(model, start, end)
    t, changed = sampled_pattern_changes(model, start, end, 20_001)
    # every kink lies in a gap of the samples where the pattern changed ...
    gaps = np.searchsorted(t, kinks) - 1
    assert changed[gaps].all()
    # ... and every change between samples has a kink in its gap
    assert set(np.nonzero(changed)[0]) <= set(gaps.tolist())


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_the_network_is_affine_between_consecutive_kinks(seed):
    model = mlp([2, 6, 5, 3], seed=seed, dtype=torch.float64)
    start, end = np.array([-3.0, 1.0]), np.array([2.5, -2.0])
    edges = np.concatenate([[0.0], kinks_along_segment(model, start, end), [1.0]])
    left, right = edges[:-1], edges[1:]
    t = np.stack([0.9 * left + 0.1 * right, 0.5 * (left + right), 0.1 * left + 0.9 * right], axis=1)
    with torch.no_grad():
        y = model(torch.tensor(start + t.reshape(-1, 1) * (end - start))).numpy().reshape(len(left), 3, -1)
    middle_by_line = (y[:, 0] + y[:, 2]) / 2  # the midpoint of an affine function is the mean of its ends
    np.testing.assert_allclose(y[:, 1], middle_by_line, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_random_networks_have_as_many_linear_pieces_as_activation_pieces(seed):
    model = mlp([2, 8, 8, 2], seed=seed, dtype=torch.float64)
    kinks = kinks_along_segment(model, [-2.0, -2.0], [2.0, 2.0])
    assert count_linear_pieces(model, [-2.0, -2.0], [2.0, 2.0]) == len(kinks) + 1


def test_a_float32_network_is_walked_in_float64_with_the_same_kinks():
    model = mlp([2, 8, 8, 1], seed=0)
    twin = mlp([2, 8, 8, 1], seed=0, dtype=torch.float64)
    np.testing.assert_array_equal(
        kinks_along_segment(model, [-2.0, 0.0], [2.0, 1.0]), kinks_along_segment(twin, [-2.0, 0.0], [2.0, 1.0])
    )


def test_the_model_is_left_unchanged():
    model = mlp([2, 8, 1], seed=1, dtype=torch.float64)
    before = [parameter.clone() for parameter in model.parameters()]
    count_linear_pieces(model, [-1.0, -1.0], [1.0, 1.0])
    activation_patterns_on_grid(model, np.linspace(-1, 1, 5), np.linspace(-1, 1, 7))
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


# --------------------------------------------------------------------------- patterns on a grid


def test_three_lines_cut_the_window_into_seven_activation_regions():
    model = hand_set(THREE_LINES, ([[1.0, 1.0, 0.0]], [0.0]))
    axis = np.arange(-200, 201) / 100
    labels = activation_patterns_on_grid(model, axis, axis)
    assert labels.shape == (401, 401)
    assert labels.dtype == np.int64
    assert labels.max() + 1 == 7
    assert set(np.unique(labels)) == set(range(7))


def test_grid_labels_are_rows_along_x2_and_number_patterns_in_bit_order():
    model = hand_set(([[1.0, 0.0]], [0.0]), ([[1.0]], [0.0]))  # one unit, on where x1 > 0
    labels = activation_patterns_on_grid(model, [-1.0, 1.0, 2.0], [5.0, 6.0])
    assert labels.tolist() == [[0, 1, 1], [0, 1, 1]]  # pattern (off) < pattern (on)


@pytest.mark.parametrize("seed", range(3))
def test_grid_labels_agree_with_counting_and_sorting_the_patterns(seed):
    model = mlp([2, 10, 7, 2], seed=seed, dtype=torch.float64)
    xs, ys = np.linspace(-2, 2, 61), np.linspace(-1.5, 1.5, 47)
    labels = activation_patterns_on_grid(model, xs, ys)
    grid_x, grid_y = np.meshgrid(xs, ys)
    points = torch.tensor(np.column_stack([grid_x.ravel(), grid_y.ravel()]))
    assert labels.max() + 1 == count_activation_patterns(model, points)
    bits = torch.cat([pre > 0 for _, pre in activation_inputs(model, points)], dim=1).numpy()
    _, expected = np.unique(bits, axis=0, return_inverse=True)
    np.testing.assert_array_equal(labels.ravel(), expected.ravel())


def test_grid_points_get_the_models_dtype():
    labels32 = activation_patterns_on_grid(mlp([2, 5, 1], seed=0), [0.0, 1.0], [0.0, 1.0])
    labels64 = activation_patterns_on_grid(mlp([2, 5, 1], seed=0, dtype=torch.float64), [0.0, 1.0], [0.0, 1.0])
    assert labels32.shape == labels64.shape == (2, 2)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "model, error, message",
    [
        (nn.Linear(2, 1), TypeError, "nn.Sequential"),
        (nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)), TypeError, r"model\[1\] is Tanh"),
        (nn.Sequential(nn.ReLU()), ValueError, "no nn.Linear"),
    ],
)
def test_unsupported_models_are_refused(model, error, message):
    with pytest.raises(error, match=message):
        kinks_along_segment(model, [0.0, 0.0], [1.0, 1.0])
    with pytest.raises(error, match=message):
        count_linear_pieces(model, [0.0, 0.0], [1.0, 1.0])


@pytest.mark.parametrize(
    "start, end, keywords, message",
    [
        ([0.0], [1.0, 1.0], {}, r"start must have shape \(2,\)"),
        ([0.0, 0.0], [[1.0, 1.0]], {}, r"end must have shape \(2,\)"),
        ([0.0, np.nan], [1.0, 1.0], {}, "finite"),
        ([1.0, 2.0], [1.0, 2.0], {}, "length 0"),
        ([0.0, 0.0], [1.0, 1.0], {"tolerance": 0.0}, "tolerance must be > 0"),
        ([0.0, 0.0], [1.0, 1.0], {"tolerance": 0.5}, "below 0.5"),
    ],
)
def test_bad_segments_are_refused(start, end, keywords, message):
    model = mlp([2, 4, 1], seed=0, dtype=torch.float64)
    with pytest.raises(ValueError, match=message):
        kinks_along_segment(model, start, end, **keywords)


def test_bad_slope_tolerances_are_refused():
    model = mlp([2, 4, 1], seed=0, dtype=torch.float64)
    with pytest.raises(ValueError, match=">= 0"):
        count_linear_pieces(model, [0.0, 0.0], [1.0, 1.0], slope_tolerance=-1e-9)
    with pytest.raises(TypeError, match="real number"):
        count_linear_pieces(model, [0.0, 0.0], [1.0, 1.0], slope_tolerance="tight")


def test_bad_grids_and_models_for_the_grid_are_refused():
    model = mlp([2, 4, 1], seed=0)
    with pytest.raises(ValueError, match="1-D"):
        activation_patterns_on_grid(model, [[0.0, 1.0]], [0.0, 1.0])
    with pytest.raises(ValueError, match="non-empty"):
        activation_patterns_on_grid(model, [], [0.0, 1.0])
    with pytest.raises(TypeError, match="nn.Module"):
        activation_patterns_on_grid(lambda x: x, [0.0], [0.0])
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        activation_patterns_on_grid(mlp([3, 4, 1], seed=0), [0.0], [0.0])
    with pytest.raises(ValueError, match="no activation layers"):
        activation_patterns_on_grid(nn.Sequential(nn.Linear(2, 1)), [0.0], [0.0])


def test_bad_tent_depths_are_refused():
    with pytest.raises(ValueError, match=">= 1"):
        tent_map_network(0)
    with pytest.raises(TypeError, match="whole number"):
        tent_map_network(2.0)
    with pytest.raises(TypeError, match="floating-point"):
        tent_map_network(2, dtype=torch.int64)


# ------------------------------------------------------------ the 2-D hat (§8.3)


def gaussian(x, y):
    return np.exp(-2 * (x**2 + y**2))


def six_planes(x, y):
    """The hat as the lowest of its six planes, clipped at 0 (the textbook form)."""
    planes = [1 - x, 1 - y, 1 + x, 1 + y, 1 + x - y, 1 - x + y]
    return np.maximum(0.0, np.minimum.reduce(planes))


def evaluate(model, x, y):
    points = torch.tensor(np.column_stack([np.ravel(x), np.ravel(y)]), dtype=torch.float64)
    with torch.no_grad():
        return model(points).numpy().reshape(np.shape(x))


def sum_of_hats(function, cells, x, y, start=-1.0, stop=1.0):
    h = (stop - start) / cells
    nodes = start + h * np.arange(cells + 1)
    total = np.zeros(np.shape(x))
    for xi in nodes:
        for yj in nodes:
            total += function(xi, yj) * hat_2d((x - xi) / h, (y - yj) / h)
    return total


def test_hat_is_the_lowest_of_six_planes():
    points = np.random.default_rng(0).uniform(-2, 2, (2, 10_000))
    np.testing.assert_allclose(hat_2d(*points), six_planes(*points), atol=1e-15)


def test_hat_at_nodes_and_outside_the_hexagon():
    assert hat_2d(0.0, 0.0) == 1.0
    for node in [(1, 0), (1, 1), (0, 1), (-1, 0), (-1, -1), (0, -1), (1, -1), (-1, 1), (2, 0)]:
        assert hat_2d(*node) == 0.0
    assert hat_2d(0.0, 5.0) == 0.0  # a sum of ridges would not vanish here


def test_hats_of_the_integer_grid_add_up_to_one():
    x, y = np.random.default_rng(1).uniform(-0.5, 0.5, (2, 2000))
    total = sum(hat_2d(x - i, y - j) for i in range(-2, 3) for j in range(-2, 3))
    np.testing.assert_allclose(total, 1.0, atol=1e-14)


def test_hat_broadcasts():
    assert hat_2d(np.zeros((3, 1)), np.zeros(4)).shape == (3, 4)


@pytest.mark.parametrize("cells", [1, 2, 3, 5, 8])
def test_network_layout_and_unit_count(cells):
    n = cells + 1
    model = hat_interpolant_network(gaussian, cells)
    kinds = [type(layer) for layer in model]
    assert kinds == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU, nn.Linear]
    assert (model[0].out_features, model[2].out_features) == (8 * n - 2, n * n)
    assert all(p.dtype == torch.float64 for p in model.parameters())


@pytest.mark.parametrize("cells", [1, 3, 4, 7])
def test_network_is_the_sum_of_hats(cells):
    x, y = np.random.default_rng(cells).uniform(-1.2, 1.2, (2, 3000))
    model = hat_interpolant_network(gaussian, cells)
    np.testing.assert_allclose(evaluate(model, x, y), sum_of_hats(gaussian, cells, x, y), atol=1e-12)


def test_network_interpolates_at_the_nodes():
    cells = 6
    nodes = -1 + 2 / cells * np.arange(cells + 1)
    x, y = np.meshgrid(nodes, nodes, indexing="ij")
    model = hat_interpolant_network(gaussian, cells)
    np.testing.assert_allclose(evaluate(model, x, y), gaussian(x, y), atol=1e-13)


def test_network_reproduces_affine_functions_on_the_square():
    def plane(x, y):
        return 0.3 - 1.7 * x + 2.5 * y

    x, y = np.random.default_rng(2).uniform(-1, 1, (2, 3000))
    model = hat_interpolant_network(plane, 5)
    np.testing.assert_allclose(evaluate(model, x, y), plane(x, y), atol=1e-12)


def test_network_is_affine_on_each_triangle():
    # the triangle with corners (0, 0), (h, 0), (h, h) of the grid on [0, 1]^2, h = 1/4
    def f(x, y):
        return np.sin(3 * x) + y**2

    h = 0.25
    model = hat_interpolant_network(f, 4, start=0.0, stop=1.0)
    a, b = np.random.default_rng(3).uniform(0, 1, (2, 500))
    a, b = np.maximum(a, b), np.minimum(a, b)  # 0 <= b <= a <= 1
    x, y = h * a, h * b
    plane = f(0, 0) + (f(h, 0) - f(0, 0)) * (x / h) + (f(h, h) - f(h, 0)) * (y / h)
    np.testing.assert_allclose(evaluate(model, x, y), plane, atol=1e-13)


def test_error_falls_like_h_squared():
    x, y = np.meshgrid(np.linspace(-1, 1, 81), np.linspace(-1, 1, 81))
    errors = [np.abs(evaluate(hat_interpolant_network(gaussian, c), x, y) - gaussian(x, y)).max() for c in (8, 16)]
    assert 3.0 < errors[0] / errors[1] < 5.0


def test_float32_and_other_squares():
    model = hat_interpolant_network(gaussian, 2, start=0.0, stop=3.0, dtype=torch.float32)
    assert all(p.dtype == torch.float32 for p in model.parameters())
    with torch.no_grad():
        value = model(torch.tensor([[1.5, 1.5]])).item()
    assert value == pytest.approx(gaussian(1.5, 1.5), rel=1e-6)


@pytest.mark.parametrize(
    "arguments, error",
    [
        ({"cells": 0}, ValueError),
        ({"cells": 2.5}, (TypeError, ValueError)),
        ({"cells": 2, "start": 1.0, "stop": 1.0}, ValueError),
        ({"cells": 2, "dtype": torch.int64}, (TypeError, ValueError)),
    ],
)
def test_bad_arguments(arguments, error):
    with pytest.raises(error):
        hat_interpolant_network(gaussian, **arguments)


def test_function_of_the_wrong_shape():
    with pytest.raises(ValueError, match="grid's shape"):
        hat_interpolant_network(lambda x, y: 1.0, 3)
    with pytest.raises(ValueError, match="finite"):
        hat_interpolant_network(lambda x, y: np.full_like(x, np.nan), 3)


@pytest.mark.parametrize("cells", [2, 3, 7, 12])
def test_weights_are_exact_on_the_square_from_minus_one_to_one(cells):
    model = hat_interpolant_network(gaussian, cells)
    weight, bias = model[0].weight.detach().numpy(), model[0].bias.detach().numpy()
    assert set(np.unique(np.abs(weight))) == {0.0, cells / 2}
    assert np.array_equal(2 * bias, np.round(2 * bias))
    assert set(np.unique(model[2].weight.detach().numpy())) == {-0.5, 0.0}
    assert np.all(model[2].bias.detach().numpy() == 1.0)
