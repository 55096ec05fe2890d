"""Checks for the exercises of Chapter 8, What a ReLU network computes.

``kinks_one_layer`` checks where the units of one hidden layer switch along a segment,
t_j = -(w_j . a + b_j) / (w_j . (b - a)), against ``regions.kinks_along_segment``;
``tent_network`` checks a network of 2 ReLU units per hidden layer that computes the
tent map composed L times, against ``regions.tent_map_network`` and its 2**L pieces;
``relu_kernel`` checks the arc-cosine kernel map k(rho) against
``depth.relu_kernel_map``. ``predict_orthogonal_similarity`` takes the similarity of
two orthogonal inputs after five ReLU layers that the kernel predicts, and compares it
with its own measurement in He-initialized networks.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from relu_course import depth, networks, regions
from relu_course.checks._engine import (
    _call,
    _Failed,
    _kind,
    _number,
    _reject_none,
    _run_function_check,
    _run_prediction_check,
    prediction_check,
)

# =========================================================================== Task 1: kinks of one hidden layer

_KINK_ATOL = 1e-9  # the reference computes t another way: a few rounding errors apart


@dataclass(frozen=True)
class _SegmentCase:
    """One hidden case of ``kinks_one_layer``: a first layer and a segment."""

    label: str  # e.g. "a random layer of 16 units"
    w1: np.ndarray  # (units, 2)
    b1: np.ndarray  # (units,)
    start: np.ndarray  # (2,)
    end: np.ndarray  # (2,)

    @property
    def where(self) -> str:
        ends = f"a = {_show_point(self.start)}, b = {_show_point(self.end)}"
        return f"for {self.label} ({len(self.b1)} units; {ends})"


def _show_point(point: np.ndarray) -> str:
    return "(" + ", ".join(_number(float(value)) for value in point) + ")"


def _case(label: str, w1: object, b1: object, start: object, end: object) -> _SegmentCase:
    as64 = [np.array(value, dtype=np.float64) for value in (w1, b1, start, end)]
    return _SegmentCase(label, *as64)


def _random_case(label: str, units: int, seed: int, start: object, end: object) -> _SegmentCase:
    """The first layer of ``networks.mlp([2, units, 1], seed=seed)`` in float64."""
    model = networks.mlp([2, units, 1], seed=seed, dtype=torch.float64)
    first = model[0]
    return _case(label, first.weight.detach().numpy(), first.bias.detach().numpy(), start, end)


def _kink_cases() -> list[_SegmentCase]:
    """The hidden cases, hand-built ones first; every number in them is exact in float64."""
    same = np.array([0.1, 0.7])  # 0.3 * same rounds: its kink differs from same's in the last bit
    return [
        _case(
            "a unit parallel to the segment, one off on it",
            [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]],
            [0.5, -0.5, 1.0, -1.5],
            [-1.0, 0.0],
            [3.0, 0.0],
        ),
        _case(
            "units that switch exactly at an end",
            [[1.0, 1.0], [1.0, 1.0], [1.0, 0.0], [-1.0, 0.0]],
            [0.0, -2.0, -0.25, 0.75],
            [0.0, 0.0],
            [1.0, 1.0],
        ),
        _case(
            "units with the same kink",
            [[1.0, 0.0], [-3.0, 0.0], same, 0.3 * same, 3.0 * same],
            [0.0, 0.0, 0.3, 0.3 * 0.3, 3.0 * 0.3],
            [-1.0, -1.0],
            [1.0, 2.0],
        ),
        _case(
            "units with zero weights",
            [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [2.0, -1.0]],
            [-1.0, 1.0, 0.0, 0.5],
            [-1.0, 1.0],
            [1.0, -1.0],
        ),
        _case(
            "a unit that switches at a, up to rounding",
            [[1.0, 1.0], [0.0, 1.0]],
            [-0.3, 0.25],
            [0.1, 0.2],
            [-0.4, -0.3],
        ),
        _case(
            "a layer that switches nowhere on the segment",
            [[1.0, 0.0], [0.0, -1.0]],
            [0.0, 3.0],
            [1.0, 1.0],
            [2.0, 1.5],
        ),
        _random_case("a random layer of 4 units", 4, 80, [-2.0, -2.0], [2.0, 2.0]),
        _random_case("a random layer of 16 units", 16, 81, [-3.0, 1.0], [2.5, -1.5]),
        _random_case("a random layer of 64 units", 64, 82, [-1.2, -0.4], [1.2, 0.8]),
        _random_case("a random layer of 64 units, a long segment", 64, 83, [40.0, -30.0], [-50.0, 20.0]),
    ]


def _one_layer_network(case: _SegmentCase) -> nn.Sequential:
    """x -> sum of relu(w1 x + b1): the first layer of the case, as ``regions`` reads networks."""
    units = len(case.b1)
    model = nn.Sequential(nn.Linear(2, units), nn.ReLU(), nn.Linear(units, 1)).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(case.w1))
        model[0].bias.copy_(torch.from_numpy(case.b1))
        model[2].weight.fill_(1.0)
        model[2].bias.zero_()
    return model


def _expected_kinks(case: _SegmentCase) -> np.ndarray:
    """``regions.kinks_along_segment`` on the case's layer: the reference."""
    return regions.kinks_along_segment(_one_layer_network(case), case.start, case.end)


def kinks_one_layer(function: Callable[..., object]) -> bool:
    """Check the kinks of one hidden ReLU layer along a segment, computed unit by unit.

    The task: ``kinks_one_layer(w1, b1, start, end)`` takes a first layer's weights
    ``w1``, shape (units, 2), and biases ``b1``, shape (units,), and the ends a and b of
    a segment, shape (2,), all float64 NumPy arrays. On x(t) = a + t (b - a) unit j's
    pre-activation is z_j(t) = w_j . a + b_j + t w_j . (b - a), which is 0 at

        t_j = -(w_j . a + b_j) / (w_j . (b - a))

    unless w_j . (b - a) = 0 (the unit is parallel to the segment: no kink). It returns
    the kinks as ``regions.kinks_along_segment`` counts them: the t_j in (0, 1),
    sorted, as a float64 array of shape (k,); kinks closer than ``regions.TOLERANCE``
    to an end are left out, and kinks closer than it to each other count once. The
    check compares with ``regions.kinks_along_segment`` within 1e-9, on random layers of
    ``networks.mlp([2, h, 1])`` and on hand-built ones: a unit parallel to the segment,
    kinks exactly at an end, units with the same kink, units with zero weights.
    """
    return _run_function_check("kinks_one_layer", function, _check_kink_cases)


def _check_kink_cases(function: Callable[..., Any]) -> str:
    """Every hidden case right; the summary line."""
    cases = _kink_cases()
    for case in cases:
        _check_kink_case(function, case)
    return (
        f"all {len(cases)} hidden cases match regions.kinks_along_segment (random layers of 4 to 64 units, a unit "
        "parallel to the segment, kinks exactly at an end, units with the same kink, zero weights, no kink at all)."
    )


def _check_kink_case(function: Callable[..., Any], case: _SegmentCase) -> None:
    """One case: the arguments left alone, a 1-D float64 array, the reference's kinks."""
    given = (case.w1.copy(), case.b1.copy(), case.start.copy(), case.end.copy())
    try:
        result = _call(function, *given, where=case.where)
    except _Failed as failure:
        if "ZeroDivisionError" not in str(failure):
            raise
        raise _Failed(f"{failure} Hint: {_PARALLEL_HINT}") from None
    for name, mine, pristine in zip(("w1", "b1", "start", "end"), given, (case.w1, case.b1, case.start, case.end)):
        if mine.shape != pristine.shape or mine.tobytes() != pristine.tobytes():
            raise _Failed(f"changed its argument {name} {case.where}; compute new arrays instead.")
    got = _kink_array(result, case)
    expected = _expected_kinks(case)
    if got.shape == expected.shape and bool(np.all(np.abs(got - expected) <= _KINK_ATOL)):
        return
    message = f"wrong kinks {case.where}: expected {_show_kinks(expected)}, got {_show_kinks(got)}."
    raise _Failed(f"{message} Hint: {_kink_hint(got, expected, case)}")


def _kink_array(result: object, case: _SegmentCase) -> np.ndarray:
    """The result, after checking it is a 1-D float64 NumPy array."""
    _reject_none(result, case.where)
    if isinstance(result, torch.Tensor):
        raise _Failed(f"returned a torch.Tensor {case.where}; return a NumPy array of the kinks t.")
    if isinstance(result, (list, tuple)):
        raise _Failed(
            f"returned {_kind(result)} {case.where}; return a NumPy array of float64 (np.array(kinks, "
            "dtype=np.float64) also for no kink at all)."
        )
    if not isinstance(result, np.ndarray):
        raise _Failed(f"returned {_kind(result)} {case.where}; expected a 1-D NumPy array of the kinks t.")
    if result.ndim == 2 and result.shape[-1] == 2:
        raise _Failed(
            f"returned shape {result.shape} {case.where}: those look like points. Return the parameters t of the "
            "kinks, shape (k,), not the points a + t (b - a)."
        )
    if result.ndim != 1:
        raise _Failed(f"returned shape {result.shape} {case.where}; expected a 1-D array (k,), one t per kink.")
    if result.dtype != np.float64:
        raise _Failed(f"returned dtype {result.dtype} {case.where}; expected float64.")
    return result


def _show_kinks(kinks: np.ndarray) -> str:
    """``k kinks [t, ...]``, the values when there are few."""
    count = f"{len(kinks)} kink" + ("" if len(kinks) == 1 else "s")
    if len(kinks) == 0:
        return "no kink"
    if len(kinks) <= 6:
        return f"{count} " + "[" + ", ".join(_number(float(t)) for t in kinks) + "]"
    return count


_PARALLEL_HINT = "a unit parallel to the segment, w_j . (b - a) = 0, has no kink on it: leave it out before dividing."


def _kink_hint(got: np.ndarray, expected: np.ndarray, case: _SegmentCase) -> str:
    """Name the likely mistake behind a wrong list of kinks."""
    tolerance = regions.TOLERANCE
    if not np.all(np.isfinite(got)):
        return f"inf or NaN among your kinks: {_PARALLEL_HINT}"
    if np.any(got <= 0) or np.any(got >= 1):
        outside = float(got[(got <= 0) | (got >= 1)][0])
        return f"t = {_number(outside)} is off the segment: keep only the kinks with 0 < t < 1."
    if np.any(got <= tolerance) or np.any(got >= 1 - tolerance):
        return (
            "a kink within regions.TOLERANCE of an end is a switch at the end (up to rounding), not inside: "
            "keep TOLERANCE < t < 1 - TOLERANCE."
        )
    if _same_kinks(np.sort(got), expected) and not _same_kinks(got, expected):
        return "the kinks are right but not in order: return them sorted (np.sort)."
    if len(got) > len(expected) and _same_kinks(_merged(np.sort(got), tolerance), expected):
        return (
            "count a kink that two units share once, keeping one of any kinks closer than regions.TOLERANCE "
            "(rounding can part equal kinks by 1e-16, so np.unique is not enough)."
        )
    named = [hint for variant, hint in _kink_variants(case) if _same_kinks(got, variant)]
    if len(named) == 1:  # a result that two slips give names neither
        return named[0]
    return (
        "t_j = -(w_j . a + b_j) / (w_j . (b - a)), for the units not parallel to the segment; keep "
        "TOLERANCE < t < 1 - TOLERANCE, sorted, closer kinks once."
    )


def _same_kinks(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= _KINK_ATOL))


def _merged(points: np.ndarray, tolerance: float) -> np.ndarray:
    """Sorted points in (tolerance, 1 - tolerance), one of any run closer than ``tolerance``."""
    points = np.sort(points[(points > tolerance) & (points < 1 - tolerance)])
    kept: list[float] = []
    for point in points:
        if not kept or point - kept[-1] > tolerance:
            kept.append(float(point))
    return np.array(kept, dtype=np.float64)


def _kink_variants(case: _SegmentCase) -> list[tuple[np.ndarray, str]]:
    """The kinks that typical slips of the formula give, filtered as the task asks, with their hints."""
    a, b, w, bias = case.start, case.end, case.w1, case.b1
    at_start, slope = w @ a + bias, w @ (b - a)
    slips = [
        (
            -at_start / (w @ b),
            "you divided by w_j . b; the denominator is w_j . (b - a), the change of z_j from a to b.",
        ),
        (at_start / slope, "the sign: z_j(t) = w_j . a + b_j + t w_j . (b - a) is 0 at t = -(w_j . a + b_j) / ..."),
        (-(w @ a) / slope, "you left out the bias: at t = 0, z_j = w_j . a + b_j."),
        (-(w @ b + bias) / slope, "at t = 0 the point is the start a: z_j(0) = w_j . a + b_j, not w_j . b + b_j."),
    ]
    with np.errstate(all="ignore"):
        return [(_merged(np.asarray(t, dtype=np.float64), regions.TOLERANCE), hint) for t, hint in slips]


# =========================================================================== Task 2: the tent map

_TENT_DEPTHS = (1, 2, 3, 4, 5, 6)
_TENT_VALUE_ATOL = 1e-9


def _tent_grid() -> np.ndarray:
    """[0, 1] sampled at every k / 2**10 (every kink of depth <= 10) and at 1001 even points."""
    return np.union1d(np.arange(2**10 + 1) / 2**10, np.linspace(0.0, 1.0, 1001))


def tent_network(build: Callable[[int], nn.Module]) -> bool:
    """Check a ReLU network with 2 units per hidden layer that computes the tent map composed L times.

    The task: ``build(depth)`` returns an ``nn.Sequential`` of ``nn.Linear`` and
    ``nn.ReLU`` layers in float64, with ``depth`` hidden layers of 2 units, mapping
    (n, 1) to (n, 1), that computes T composed ``depth`` times on [0, 1], where
    T(x) = relu(2x) - relu(4x - 2). For depth 1 to 6 the check compares its values with
    ``regions.tent_map_network(depth)`` on a grid of [0, 1] that holds every kink
    k / 2**depth (within 1e-9), and counts its pieces on [0, 1] with
    ``regions.count_linear_pieces``: 2**depth.
    """
    return _run_function_check("tent_network", build, _check_tent_networks)


def _check_tent_networks(build: Callable[..., Any]) -> str:
    """Every depth right; the summary line."""
    for layers in _TENT_DEPTHS:
        _check_tent_network(build, layers)
    return (
        f"depths {_TENT_DEPTHS[0]} to {_TENT_DEPTHS[-1]} right: T composed L times on a grid of [0, 1] that holds "
        "every kink k / 2^L, 2^L linear pieces, L hidden layers of 2 ReLU units, float64."
    )


def _check_tent_network(build: Callable[..., Any], layers: int) -> None:
    """One depth: a float64 Sequential of Linear and ReLU, T^L on the grid, 2^L pieces, hidden widths 2."""
    where = f"for depth = {layers}"
    model = _tent_model(_call(build, layers, where=where), where)
    grid = _tent_grid()
    got = _tent_values(model, grid, where)
    with torch.no_grad():
        expected = regions.tent_map_network(layers)(torch.from_numpy(grid)[:, None]).numpy().ravel()
    pieces = _call(regions.count_linear_pieces, model, [0.0], [1.0], where=f"when its pieces were counted {where}")
    wrong = np.nonzero(~(np.abs(got - expected) <= _TENT_VALUE_ATOL))[0]
    if wrong.size:
        i = wrong[0]
        message = (
            f"wrong output at x = {_number(float(grid[i]))} {where}: expected {_number(float(expected[i]))}, "
            f"got {_number(float(got[i]))}."
        )
        raise _Failed(f"{message} Hint: {_tent_hint(got, expected, pieces, model, layers)}")
    if pieces != 2**layers:
        raise _Failed(
            f"right values on the grid {where}, but {pieces} linear pieces on [0, 1] instead of 2^{layers} = "
            f"{2**layers}: your network bends between the grid points. Build it from T alone."
        )
    hidden = [layer.out_features for layer in model if isinstance(layer, nn.Linear)][:-1]
    if hidden != [2] * layers:
        raise _Failed(
            f"right values {where}, but hidden layers of widths {hidden}: the task asks for {layers} hidden "
            f"layer{'s' if layers > 1 else ''} of 2 units, one copy of T = relu(2x) - relu(4x - 2) each."
        )


def _tent_model(model: object, where: str) -> nn.Sequential:
    """The result, after checking it is a float64 nn.Sequential of Linear and ReLU layers from 1 to 1 features."""
    _reject_none(model, where)
    if not isinstance(model, nn.Sequential):
        raise _Failed(f"returned {_kind(model)} {where}; expected an nn.Sequential of nn.Linear and nn.ReLU layers.")
    for index, layer in enumerate(model):
        if not isinstance(layer, (nn.Linear, nn.ReLU)):
            raise _Failed(
                f"layer {index} of your network is {type(layer).__name__} {where}; use nn.Linear and nn.ReLU "
                "layers only."
            )
    linears = [layer for layer in model if isinstance(layer, nn.Linear)]
    if not linears:
        raise _Failed(f"your network has no nn.Linear layer {where}.")
    dtypes = {parameter.dtype for parameter in model.parameters()}
    if dtypes != {torch.float64}:
        names = ", ".join(sorted(str(dtype).removeprefix("torch.") for dtype in dtypes))
        raise _Failed(
            f"your network's parameters are {names} {where}; build it in float64 "
            "(nn.Linear(..., dtype=torch.float64), or .double() on the network)."
        )
    if linears[0].in_features != 1 or linears[-1].out_features != 1:
        raise _Failed(
            f"your network maps {linears[0].in_features} features to {linears[-1].out_features} {where}; "
            "T^L maps one number to one number: Linear(1, 2) first, Linear(2, 1) last."
        )
    return model


def _tent_values(model: nn.Sequential, grid: np.ndarray, where: str) -> np.ndarray:
    """The network's output on the grid, shape (n,), after checking it returns shape (n, 1)."""
    inputs = torch.from_numpy(grid)[:, None]
    with torch.no_grad():
        output = _call(model, inputs, where=f"on inputs of shape {tuple(inputs.shape)} {where}")
    if not isinstance(output, torch.Tensor) or tuple(output.shape) != (len(grid), 1):
        shape = tuple(output.shape) if isinstance(output, torch.Tensor) else _kind(output)
        raise _Failed(f"your network returned {shape} for inputs of shape ({len(grid)}, 1) {where}.")
    return output.detach().double().numpy().ravel()


def _tent_hint(got: np.ndarray, expected: np.ndarray, pieces: int, model: nn.Sequential, layers: int) -> str:
    """Name the likely mistake behind a wrong tent network."""
    relus = sum(isinstance(layer, nn.ReLU) for layer in model)
    hidden = [layer.out_features for layer in model if isinstance(layer, nn.Linear)][:-1]
    if hidden == [2] * len(hidden) and relus == len(hidden) and abs(relus - layers) == 1:
        which = "too many" if relus > layers else "too few"
        return (
            f"your network has {relus} hidden layer{'s' if relus > 1 else ''} and {pieces} pieces, one copy of T "
            f"{which}: each hidden layer applies T once, so depth L needs L hidden layers and has 2^L pieces."
        )
    if hidden != [2] * layers:
        return (
            f"your hidden layers have widths {hidden}; the task asks for {layers} of 2 units, each computing "
            "relu(2T) and relu(4T - 2) from the T = h_1 - h_2 of the layer before."
        )
    scale = float(got @ expected / (expected @ expected))
    if abs(scale - 1) > 1e-6 and np.all(np.abs(got - scale * expected) <= _TENT_VALUE_ATOL * max(1.0, abs(scale))):
        return (
            f"your output is {_number(round(scale, 6))} times T^L: T maps [0, 1] onto [0, 1], so T^L reaches 1. "
            "The output layer returns h_1 - h_2 (weights [1, -1], bias 0)."
        )
    top = float(np.max(got))
    if abs(top - 1) > 1e-6:
        return (
            f"the largest output on [0, 1] is {_number(round(top, 6))}, not 1: T(x) = relu(2x) - relu(4x - 2) "
            "gives T(0) = 0, T(1/2) = 1, T(1) = 0, and every later layer must read T = h_1 - h_2 at that scale "
            "(weights [[2, -2], [4, -4]], biases [0, -2])."
        )
    return (
        "T(x) = relu(2x) - relu(4x - 2): T(0) = 0, T(1/2) = 1, T(1) = 0. Layer 1 computes relu(2x) and "
        "relu(4x - 2); every later layer reads T = h_1 - h_2 (weights [[2, -2], [4, -4]], biases [0, -2]); "
        "the output is h_1 - h_2."
    )


# =========================================================================== Task 3: the arc-cosine kernel map

_KERNEL_ATOL = 1e-9  # near rho = +-1 the formula loses digits to cancellation, in any form


def _kernel_inputs() -> list[tuple[str, np.ndarray]]:
    """(how the messages show it, rho): float64 arrays in [-1, 1], and values outside by a rounding error."""
    rng = np.random.default_rng(84)
    above, below = np.nextafter(1.0, 2.0), np.nextafter(-1.0, -2.0)  # 1 + 2.2e-16, -1 - 2.2e-16
    return [
        ("rho = [-1, -0.5, 0, 0.3, 0.9, 1]", np.array([-1.0, -0.5, 0.0, 0.3, 0.9, 1.0])),
        ("rho = np.array(0.5), a 0-d array", np.array(0.5)),
        ("rho of shape (3, 7), -1 to 1 in steps of 0.1", np.arange(-10, 11).reshape(3, 7) / 10),
        ("rho = [-1 + 1e-12, -0.999999, 0.999999, 1 - 1e-12]", np.array([-1 + 1e-12, -0.999999, 0.999999, 1 - 1e-12])),
        ("random rho of shape (4, 5)", rng.uniform(-1.0, 1.0, size=(4, 5))),
        (
            "rho = [1 + 2.2e-16, 1 + 1e-12, -1 - 2.2e-16, -1 - 1e-12], a rounding error outside [-1, 1]",
            np.array([above, 1.0 + 1e-12, below, -1.0 - 1e-12]),
        ),
    ]


def relu_kernel(function: Callable[[np.ndarray], np.ndarray]) -> bool:
    """Check the arc-cosine kernel map of ReLU, k(rho) = (sqrt(1 - rho^2) + (pi - arccos rho) rho) / pi.

    The task: ``relu_kernel(rho)`` takes a float64 NumPy array of correlations, any
    shape, and returns k(rho) as a float64 array of that shape (a NumPy scalar is fine
    for a 0-d array), without changing ``rho``. k(1) must be exactly 1 and k(-1)
    exactly 0, and a correlation that rounding pushed just outside [-1, 1] (by 1e-12 or
    less) counts as -1 or 1: clip it. The check compares with
    ``depth.relu_kernel_map`` within 1e-9, exactly at rho = -1 and 1.
    """
    return _run_function_check("relu_kernel", function, _check_kernel_inputs)


def _check_kernel_inputs(function: Callable[..., Any]) -> str:
    """Every hidden input right; the summary line."""
    inputs = _kernel_inputs()
    for description, rho in inputs:
        _check_kernel_input(function, description, rho)
    return (
        f"all {len(inputs)} hidden inputs match depth.relu_kernel_map (0-d to 2-D arrays, k(-1) = 0 and k(1) = 1 "
        "exactly, correlations a rounding error outside [-1, 1])."
    )


def _check_kernel_input(function: Callable[..., Any], description: str, rho: np.ndarray) -> None:
    """One input: left unchanged, an array of its shape, the values of ``depth.relu_kernel_map``."""
    where = f"for {description}"
    given = rho.copy()
    try:
        result = _call(function, given, where=where)
    except _Failed as failure:
        if "TypeError" not in str(failure):
            raise
        hint = "work on whole arrays with NumPy (np.sqrt, np.arccos, np.clip); math.sqrt and math.acos take one number."
        raise _Failed(f"{failure} Hint: {hint}") from None
    if given.tobytes() != rho.tobytes():
        raise _Failed(
            f"changed its input {where}: np.clip(rho, -1, 1, out=rho) writes into the caller's array; "
            "compute a new one (np.clip(rho, -1.0, 1.0))."
        )
    got = _kernel_array(result, rho, where)
    expected = depth.relu_kernel_map(rho)
    ends = np.abs(np.clip(rho, -1.0, 1.0)) == 1.0
    right = np.where(ends, got == expected, np.abs(got - expected) <= _KERNEL_ATOL)
    if bool(np.all(right)):
        return
    index = tuple(int(i) for i in np.argwhere(~right)[0])
    value, want, have = float(rho[index]), float(expected[index]), float(got[index])
    message = f"wrong value at rho = {value!r} {where}: expected {want!r}, got {have!r}."
    raise _Failed(f"{message} Hint: {_kernel_hint(value, want, have)}")


def _kernel_array(result: object, rho: np.ndarray, where: str) -> np.ndarray:
    """The result as a float64 array of ``rho``'s shape; a NumPy or Python float is fine for 0-d input."""
    _reject_none(result, where)
    if isinstance(result, torch.Tensor):
        raise _Failed(f"returned a torch.Tensor {where}; return a NumPy array (use np.sqrt, np.arccos).")
    if rho.ndim == 0 and isinstance(result, (numbers.Real, np.floating)) and not isinstance(result, bool):
        result = np.asarray(result, dtype=np.float64)
    if isinstance(result, (list, tuple)) or not isinstance(result, np.ndarray):
        raise _Failed(f"returned {_kind(result)} {where}; expected a NumPy array of shape {rho.shape}.")
    if result.shape != rho.shape:
        raise _Failed(f"returned shape {result.shape} {where}; expected the shape of rho, {rho.shape}.")
    if result.dtype != np.float64:
        raise _Failed(f"returned dtype {result.dtype} {where}; expected float64.")
    return result


def _kernel_hint(rho: float, expected: float, got: float) -> str:
    """Name the likely mistake behind a wrong value of k(rho)."""
    if math.isnan(got) and abs(rho) > 1:
        return (
            "rounding can push a correlation just outside [-1, 1], and there sqrt(1 - rho^2) and arccos(rho) "
            "are NaN: clip first, np.clip(rho, -1.0, 1.0)."
        )
    clipped = min(max(rho, -1.0), 1.0)
    if abs(clipped) == 1.0 and abs(got - expected) <= 1e-12:
        return (
            "k(-1) = 0 and k(1) = 1 exactly: clip rho to [-1, 1] and divide by pi last, "
            "(sqrt(1 - rho^2) + (pi - arccos(rho)) rho) / pi."
        )
    root, angle = math.sqrt(1 - clipped * clipped), math.acos(clipped)
    slips = [
        (math.pi * expected, "divide by pi: k(0) = 1 / pi, and k(1) = 1."),
        (
            expected / 2,
            "that is E[relu(u) relu(v)] = k(rho) / 2; k is the cosine, normalized by E[relu(u)^2] = 1/2, "
            "so that k(1) = 1.",
        ),
        ((root + angle * clipped) / math.pi, "the angle term is (pi - arccos(rho)) rho, not arccos(rho) rho."),
        ((-root + (math.pi - angle) * clipped) / math.pi, "the square root is added: + sqrt(1 - rho^2)."),
    ]
    for value, hint in slips:
        if abs(value - expected) > 1e-6 and abs(got - value) <= 1e-6:
            return hint
    return "k(rho) = (sqrt(1 - rho^2) + (pi - arccos(rho)) rho) / pi, elementwise, with rho clipped to [-1, 1]."


# =========================================================================== Task 4: the similarity after five layers

_SIMILARITY_LAYERS, _SIMILARITY_WIDTH = 5, 256
_SIMILARITY_SEEDS = range(800, 928)  # 128 networks


def _measure_orthogonal_similarity() -> float:
    """The mean cosine of two orthogonal inputs after 5 He-initialized ReLU layers, over 128 networks.

    Each network is ``networks.deep_mlp(5, 256, inputs=2, init="he", seed=seed)`` in
    float64: weights N(0, 2 / fan_in), biases 0. Its inputs are e_1 = (1, 0) and
    e_2 = (0, 1), and ``depth.input_similarity`` gives the cosine of their outputs at
    layer 5. A single network of width n scatters about 0.9 / sqrt(n) around the mean
    over networks, and the mean of the cosine differs from its infinite-width limit by
    about 0.3 / n; the mean over 128 networks of width 256 is within about 0.005 of the
    limit. (Many networks of moderate width average the scatter out at a fraction of
    the cost of a few very wide ones.)
    """
    inputs = torch.eye(2, dtype=torch.float64)
    similarities = []
    for seed in _SIMILARITY_SEEDS:
        model = networks.deep_mlp(
            _SIMILARITY_LAYERS, _SIMILARITY_WIDTH, inputs=2, init="he", seed=seed, dtype=torch.float64
        )
        similarities.append(depth.input_similarity(model, inputs)[-1])
    return float(np.mean(similarities))


@prediction_check
def predict_orthogonal_similarity(prediction: object) -> bool:
    """Check the predicted similarity of two orthogonal inputs after five ReLU layers (He initialization).

    The question: two inputs with cosine 0 enter a ReLU network with He initialization
    and biases 0. What is the cosine similarity of their outputs at hidden layer 5, for
    very wide layers? The check measures it in 128 float64 networks of width 256 (see
    ``_measure_orthogonal_similarity``) and accepts a prediction within 2.5 %: that
    covers the measurement's finite width and number of networks, and rejects k
    applied 4 or 6 times.
    """
    rho = depth.relu_kernel_through_depth(0.0, _SIMILARITY_LAYERS + 1)
    return _run_prediction_check(
        "predict_orthogonal_similarity",
        prediction,
        _measure_orthogonal_similarity,
        rtol=0.025,
        what=f"the cosine of two orthogonal inputs after {_SIMILARITY_LAYERS} ReLU layers",
        hint=(
            "Hint: start from rho_0 = 0, the cosine of the inputs, and apply k(rho) = (sqrt(1 - rho^2) + "
            "(pi - arccos(rho)) rho) / pi once per layer: your relu_kernel of Task 3, five times."
        ),
        mistakes=[
            (
                float(rho[3]),
                "Hint: that is k applied 4 times. Layer 1 already applies k once: its pre-activations have "
                "correlation rho_0 = 0, its outputs k(0); layer 5's outputs have k applied 5 times.",
            ),
            (
                float(rho[5]),
                "Hint: that is k applied 6 times, once too often: rho_0 = 0 is the correlation of layer 1's "
                "pre-activations, and each of the 5 layers applies k once.",
            ),
            (1 / math.pi, "Hint: 1/pi = k(0) is the similarity after one layer; every further layer applies k again."),
            (
                1.0,
                "Hint: 1 is where the similarity goes as the network gets deeper (k(1) = 1), but slowly: after "
                "5 layers it is not there yet.",
            ),
            (
                0.0,
                "Hint: orthogonal inputs do not stay orthogonal: ReLU outputs are never negative, so k(0) = 1/pi > 0.",
            ),
            (
                math.pi**-_SIMILARITY_LAYERS,
                "Hint: k is not a multiplication by 1/pi: compose it, rho_l = k(rho_(l-1)), from rho_0 = 0.",
            ),
        ],
    )
