"""The checks of Chapter 8 (What a ReLU network computes) accept right answers and reject wrong ones, saying why.

The answers here are written independently of the solution notebooks.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from relu_course import checks, depth, regions
from relu_course.checks import chapter8
from relu_course.checks._engine import NOT_YET
from relu_course.checks.chapter8 import (
    _SIMILARITY_LAYERS,
    _expected_kinks,
    _kink_cases,
    _measure_orthogonal_similarity,
)
from tests.package.checks_helpers import assert_fails, assert_passes, stub

TOLERANCE = regions.TOLERANCE

# --------------------------------------------------------------------------- Task 1: kinks of one hidden layer


def _crossings(w1, b1, start, end):
    """t_j for every unit, inf or NaN for the parallel ones."""
    with np.errstate(all="ignore"):
        return -(w1 @ start + b1) / (w1 @ (end - start))


def _keep_inside_once(t):
    """Sorted t in (TOLERANCE, 1 - TOLERANCE), one of any run closer than TOLERANCE."""
    t = np.sort(t[(t > TOLERANCE) & (t < 1 - TOLERANCE)])
    return t[np.diff(t, prepend=-np.inf) > TOLERANCE]


def vectorized(w1, b1, start, end):
    return _keep_inside_once(_crossings(w1, b1, start, end))


def unit_by_unit(w1, b1, start, end):
    kept = []
    for w, b in zip(w1.tolist(), b1.tolist()):
        value = w[0] * start[0] + w[1] * start[1] + b
        slope = w[0] * (end[0] - start[0]) + w[1] * (end[1] - start[1])
        if slope == 0:
            continue
        t = -value / slope
        if TOLERANCE < t < 1 - TOLERANCE and all(abs(t - other) > TOLERANCE for other in kept):
            kept.append(t)
    return np.array(sorted(kept), dtype=np.float64)


def through_the_package(w1, b1, start, end):
    layer = nn.Linear(2, len(b1)).double()
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(w1))
        layer.bias.copy_(torch.from_numpy(b1))
    return regions.kinks_along_segment(nn.Sequential(layer, nn.ReLU(), nn.Linear(len(b1), 1).double()), start, end)


@pytest.mark.parametrize("answer", [vectorized, unit_by_unit, through_the_package])
def test_kinks_one_layer_accepts_right_answers(answer, capsys):
    assert_passes(checks.kinks_one_layer, answer, capsys)


def every_crossing(w1, b1, start, end):
    t = _crossings(w1, b1, start, end)
    return np.sort(t[np.isfinite(t)])


def open_interval_and_unique(w1, b1, start, end):
    t = _crossings(w1, b1, start, end)
    return np.unique(t[(t > 0) & (t < 1)])


def open_interval_merged(w1, b1, start, end):
    t = _crossings(w1, b1, start, end)
    t = np.sort(t[(t > 0) & (t < 1)])
    return t[np.diff(t, prepend=-np.inf) > TOLERANCE]


def not_merged(w1, b1, start, end):
    t = _crossings(w1, b1, start, end)
    return np.sort(t[(t > TOLERANCE) & (t < 1 - TOLERANCE)])


def unique_only(w1, b1, start, end):
    t = _crossings(w1, b1, start, end)
    return np.unique(t[(t > TOLERANCE) & (t < 1 - TOLERANCE)])


def unsorted(w1, b1, start, end):
    return vectorized(w1, b1, start, end)[::-1].copy()


def divides_by_w_dot_end(w1, b1, start, end):
    with np.errstate(all="ignore"):
        return _keep_inside_once(-(w1 @ start + b1) / (w1 @ end))


def wrong_sign(w1, b1, start, end):
    with np.errstate(all="ignore"):
        return _keep_inside_once((w1 @ start + b1) / (w1 @ (end - start)))


def without_bias(w1, b1, start, end):
    with np.errstate(all="ignore"):
        return _keep_inside_once(-(w1 @ start) / (w1 @ (end - start)))


def keeps_nan(w1, b1, start, end):
    t = np.sort(_crossings(w1, b1, start, end))  # NaN sorts last
    inside = ~((t <= TOLERANCE) | (t >= 1 - TOLERANCE))  # NaN passes
    finite = t[inside & np.isfinite(t)]
    return np.concatenate([finite[np.diff(finite, prepend=-np.inf) > TOLERANCE], t[np.isnan(t)]])


def pure_python_division(w1, b1, start, end):
    kept = []
    for w, b in zip(w1.tolist(), b1.tolist()):
        value = w[0] * start[0] + w[1] * start[1] + b
        slope = w[0] * (end[0] - start[0]) + w[1] * (end[1] - start[1])
        t = -float(value) / float(slope)  # ZeroDivisionError for a parallel unit
        if TOLERANCE < t < 1 - TOLERANCE:
            kept.append(t)
    return _keep_inside_once(np.array(kept, dtype=np.float64))


def as_a_list(w1, b1, start, end):
    return vectorized(w1, b1, start, end).tolist()


def as_points(w1, b1, start, end):
    t = vectorized(w1, b1, start, end)
    return start + t[:, None] * (end - start)


def as_float32(w1, b1, start, end):
    return vectorized(w1, b1, start, end).astype(np.float32)


def changes_its_input(w1, b1, start, end):
    end -= start
    return _keep_inside_once(-(w1 @ start + b1) / (w1 @ end))


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (every_crossing, ["off the segment", "0 < t < 1"]),
        (open_interval_and_unique, ["units with the same kink", "np.unique is not enough"]),
        (open_interval_merged, ["switches at a, up to rounding", "within regions.TOLERANCE of an end"]),
        (not_merged, ["units with the same kink", "count a kink that two units share once"]),
        (unique_only, ["units with the same kink", "regions.TOLERANCE"]),
        (unsorted, ["not in order", "np.sort"]),
        (divides_by_w_dot_end, ["divided by w_j . b", "w_j . (b - a)"]),
        (wrong_sign, ["the sign"]),
        (without_bias, ["left out the bias"]),
        (keeps_nan, ["units with zero weights", "NaN", "parallel"]),
        (pure_python_division, ["ZeroDivisionError", "parallel to the segment"]),
        (as_a_list, ["a list", "NumPy array"]),
        (as_points, ["look like points", "shape (k,)"]),
        (as_float32, ["float32", "float64"]),
        (changes_its_input, ["changed its argument end"]),
        (stub, ["not implemented yet", "Task 1"]),
    ],
)
def test_kinks_one_layer_names_the_mistake(answer, phrases, capsys):
    assert_fails(checks.kinks_one_layer, answer, capsys, *phrases)


def test_the_hand_built_cases_have_the_kinks_they_are_built_for():
    kinks = {case.label: _expected_kinks(case) for case in _kink_cases()}
    assert kinks["a unit parallel to the segment, one off on it"].tolist() == [0.125, 0.375]
    assert kinks["units that switch exactly at an end"].tolist() == [0.25, 0.75]
    assert len(kinks["units with the same kink"]) == 2
    assert np.allclose(kinks["units with zero weights"], [2.5 / 6])
    assert np.allclose(kinks["a unit that switches at a, up to rounding"], [0.9])
    assert len(kinks["a layer that switches nowhere on the segment"]) == 0
    for label, found in kinks.items():
        if label.startswith("a random layer"):
            assert len(found) >= 2, label


def test_the_rescaled_copies_really_part_their_kinks_by_rounding():
    # np.unique must not be enough: the shared kink comes out as two different floats
    case = next(case for case in _kink_cases() if case.label == "units with the same kink")
    crossings = _crossings(case.w1, case.b1, case.start, case.end)
    inside = crossings[(crossings > 0) & (crossings < 1)]
    assert len(np.unique(inside)) > len(_expected_kinks(case))


def test_the_start_case_has_a_kink_a_rounding_error_inside():
    case = next(case for case in _kink_cases() if case.label == "a unit that switches at a, up to rounding")
    crossings = _crossings(case.w1, case.b1, case.start, case.end)
    assert 0 < crossings.min() < TOLERANCE


# --------------------------------------------------------------------------- Task 2: the tent map


def _linear(weight, bias, dtype=torch.float64):
    layer = nn.Linear(len(weight[0]), len(weight), dtype=dtype)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight, dtype=dtype))
        layer.bias.copy_(torch.tensor(bias, dtype=dtype))
    return layer


FIRST = ([[2.0], [4.0]], [0.0, -2.0])
MIDDLE = ([[2.0, -2.0], [4.0, -4.0]], [0.0, -2.0])
OUTPUT = ([[1.0, -1.0]], [0.0])


def tent(layers, first=FIRST, middle=MIDDLE, output=OUTPUT, dtype=torch.float64):
    modules = [_linear(*first, dtype=dtype), nn.ReLU()]
    for _ in range(layers - 1):
        modules += [_linear(*middle, dtype=dtype), nn.ReLU()]
    modules.append(_linear(*output, dtype=dtype))
    return nn.Sequential(*modules)


def tent_by_hand(layers):
    return tent(layers)


def tent_halved_and_doubled(layers):
    # the same function with other weights: relu(cz) = c relu(z), so a layer may carry a factor
    half = ([[1.0], [2.0]], [0.0, -1.0]), ([[2.0, -2.0], [4.0, -4.0]], [0.0, -1.0]), ([[2.0, -2.0]], [0.0])
    return tent(layers, *half)  # every hidden layer carries T / 2


def tent_from_the_package(layers):
    return regions.tent_map_network(layers)


@pytest.mark.parametrize("answer", [tent_by_hand, tent_halved_and_doubled, tent_from_the_package])
def test_tent_network_accepts_right_answers(answer, capsys):
    assert_passes(checks.tent_network, answer, capsys)


def one_layer_too_many(layers):
    return tent(layers + 1)


def one_layer_too_few(layers):
    return tent(max(layers - 1, 1)) if layers > 1 else tent(2)


def wrong_second_unit(layers):
    return tent(layers, first=([[2.0], [2.0]], [0.0, -1.0]))  # relu(2x) - relu(2x - 1): a ramp


def wrong_bias(layers):
    return tent(layers, first=([[2.0], [4.0]], [0.0, -1.0]))  # relu(2x) - relu(4x - 1)


def doubled_output(layers):
    return tent(layers, output=([[2.0, -2.0]], [0.0]))


def middle_reads_half(layers):
    return tent(layers, middle=([[1.0, -1.0], [2.0, -2.0]], [0.0, -2.0]))


def in_float32(layers):
    return tent(layers, dtype=torch.float32)


def one_wide_layer(layers):
    units = 2**layers - 1
    return nn.Sequential(nn.Linear(1, units), nn.ReLU(), nn.Linear(units, 1)).double()


def with_an_identity(layers):
    return nn.Sequential(nn.Identity(), *tent(layers))


def three_units_per_layer(layers):
    # the right function with a third, silent unit per layer
    first = ([[2.0], [4.0], [1.0]], [0.0, -2.0, 0.0])
    middle = ([[2.0, -2.0, 0.0], [4.0, -4.0, 0.0], [1.0, 1.0, 0.0]], [0.0, -2.0, 0.0])
    return tent(layers, first=first, middle=middle, output=([[1.0, -1.0, 0.0]], [0.0]))


def a_plain_module(layers):
    return nn.ReLU()


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (one_layer_too_many, ["depth = 1", "one copy of T too many", "2 hidden layers"]),
        (one_layer_too_few, ["one copy of T too"]),
        (wrong_second_unit, ["depth = 1", "T(1) = 0"]),
        (wrong_bias, ["largest output on [0, 1] is 0.5"]),
        (doubled_output, ["2.0 times T^L"]),
        (middle_reads_half, ["depth = 2", "weights [[2, -2], [4, -4]]"]),
        (in_float32, ["float32", "float64"]),
        (one_wide_layer, ["hidden layers have widths [1]", "2 units"]),
        (with_an_identity, ["Identity", "nn.Linear and nn.ReLU"]),
        (three_units_per_layer, ["right values", "widths [3]"]),
        (a_plain_module, ["expected an nn.Sequential"]),
        (stub, ["not implemented yet", "Task 1"]),
    ],
)
def test_tent_network_names_the_mistake(answer, phrases, capsys):
    assert_fails(checks.tent_network, answer, capsys, *phrases)


def test_a_network_that_bends_between_the_grid_points_fails(capsys):
    # T plus a narrow spike between two grid points (0 and 1/1024): right on the grid, 5 pieces
    def with_a_spike(layers):
        centre, half, height = 0.0004, 1e-5, 1.0
        first = ([[2.0], [4.0], [1.0], [1.0], [1.0]], [0.0, -2.0, -(centre - half), -centre, -(centre + half)])
        output = ([[1.0, -1.0, height / half, -2 * height / half, height / half]], [0.0])
        return nn.Sequential(_linear(*first), nn.ReLU(), _linear(*output))

    assert_fails(checks.tent_network, with_a_spike, capsys, "right values on the grid", "5 linear pieces")


# --------------------------------------------------------------------------- Task 3: the kernel map


def kernel_clipped(rho):
    rho = np.clip(rho, -1.0, 1.0)
    return (np.sqrt(1.0 - rho**2) + (np.pi - np.arccos(rho)) * rho) / np.pi


def kernel_from_the_package(rho):
    return depth.relu_kernel_map(rho)


@pytest.mark.parametrize("answer", [kernel_clipped, kernel_from_the_package])
def test_relu_kernel_accepts_right_answers(answer, capsys):
    assert_passes(checks.relu_kernel, answer, capsys)


def not_clipped(rho):
    return (np.sqrt(1.0 - rho**2) + (np.pi - np.arccos(rho)) * rho) / np.pi


def without_pi(rho):
    return kernel_clipped(rho) * np.pi


def halved(rho):
    return kernel_clipped(rho) / 2


def arccos_term(rho):
    rho = np.clip(rho, -1.0, 1.0)
    return (np.sqrt(1.0 - rho**2) + np.arccos(rho) * rho) / np.pi


def root_subtracted(rho):
    rho = np.clip(rho, -1.0, 1.0)
    return (-np.sqrt(1.0 - rho**2) + (np.pi - np.arccos(rho)) * rho) / np.pi


def clips_in_place(rho):
    np.clip(rho, -1.0, 1.0, out=rho)
    return (np.sqrt(1.0 - rho**2) + (np.pi - np.arccos(rho)) * rho) / np.pi


def with_math(rho):
    return (math.sqrt(1.0 - rho**2) + (math.pi - math.acos(rho)) * rho) / math.pi


def as_tensor(rho):
    return torch.from_numpy(kernel_clipped(rho))


def in_float32_kernel(rho):
    return kernel_clipped(rho).astype(np.float32)


def flattened(rho):
    return kernel_clipped(rho).ravel()


def with_the_angle(rho):
    # the same formula in the angle theta = arccos(rho), not exact at rho = -1: sin(pi) is 1.2e-16
    angle = np.arccos(np.clip(rho, -1.0, 1.0))
    return (np.sin(angle) + (np.pi - angle) * np.cos(angle)) / np.pi


def off_by_a_bit_at_one(rho):
    rho = np.clip(rho, -1.0, 1.0)
    return np.where(rho == 1.0, np.nextafter(1.0, 0.0), kernel_clipped(rho))


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (not_clipped, ["rho = 1.0000000000000002", "got nan", "np.clip"]),
        (without_pi, ["divide by pi"]),
        (halved, ["k(rho) / 2", "E[relu(u)^2] = 1/2"]),
        (arccos_term, ["(pi - arccos(rho)) rho"]),
        (root_subtracted, ["square root is added"]),
        (clips_in_place, ["changed its input", "out=rho"]),
        (with_math, ["TypeError", "np.sqrt, np.arccos"]),
        (as_tensor, ["torch.Tensor"]),
        (in_float32_kernel, ["float32", "float64"]),
        (flattened, ["returned shape (1,)", "expected the shape of rho"]),
        (off_by_a_bit_at_one, ["k(-1) = 0 and k(1) = 1 exactly"]),
        (with_the_angle, ["rho = -1.0", "k(-1) = 0 and k(1) = 1 exactly"]),
        (stub, ["not implemented yet", "Task 1"]),
    ],
)
def test_relu_kernel_names_the_mistake(answer, phrases, capsys):
    assert_fails(checks.relu_kernel, answer, capsys, *phrases)


def test_relu_kernel_accepts_a_numpy_scalar_for_a_0d_input(capsys):
    def scalar_out(rho):
        result = kernel_clipped(rho)
        return result.item() if np.ndim(result) == 0 else result

    assert_passes(checks.relu_kernel, scalar_out, capsys)


# --------------------------------------------------------------------------- Task 4: the prediction


RHO = depth.relu_kernel_through_depth(0.0, _SIMILARITY_LAYERS + 1)  # rho_1, ..., rho_6


@pytest.fixture(scope="module")
def measured_similarity():
    return _measure_orthogonal_similarity()


@pytest.fixture
def measured_once(measured_similarity, monkeypatch):
    """The check's own measurement, taken once for the tests of this section (it takes a while)."""
    monkeypatch.setattr(chapter8, "_measure_orthogonal_similarity", lambda: measured_similarity)


def test_the_prediction_from_the_kernel_passes(capsys):
    assert_passes(checks.predict_orthogonal_similarity, float(RHO[4]), capsys)


def test_a_rounded_prediction_passes(capsys, measured_once):
    assert_passes(checks.predict_orthogonal_similarity, round(float(RHO[4]), 2), capsys)


@pytest.mark.parametrize(
    ("prediction", "phrases"),
    [
        (float(RHO[3]), ["too low", "k applied 4 times"]),
        (float(RHO[5]), ["too high", "k applied 6 times"]),
        (1 / math.pi, ["too low", "similarity after one layer"]),
        (1.0, ["too high", "not there yet"]),
        (0.0, ["too low", "do not stay orthogonal"]),
        (math.pi**-5, ["too low", "not a multiplication by 1/pi"]),
        (0.5, ["too low", "once per layer"]),
        (None, ["not implemented yet", "replace None"]),
    ],
)
def test_the_usual_slips_fail_and_are_named(prediction, phrases, capsys, measured_once):
    line = assert_fails(checks.predict_orthogonal_similarity, prediction, capsys, *phrases)
    if prediction is None:
        assert line.startswith(NOT_YET)


def test_the_measurement_is_close_to_the_kernel_and_far_from_the_slips(measured_similarity):
    measured = measured_similarity
    window = 0.025 * measured  # the check's rtol
    assert abs(measured - RHO[4]) < 0.006  # the sampling error the docstring states, about 0.005
    assert abs(RHO[4] - measured) < window / 2  # the right answer passes with room to spare
    for slip in (RHO[3], RHO[5]):
        assert abs(slip - measured) > 1.5 * window
