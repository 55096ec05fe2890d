"""Checks for the exercises of Chapter 1, what ReLU is.

``relu``, ``abs_from_relu`` and ``hat`` check NumPy functions built from ReLU;
``piecewise_network`` a ReLU network through given knots; ``count_pieces`` a counter of
the linear pieces of a sampled function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from relu_course import activations, piecewise
from relu_course.checks._engine import (
    _as_whole_number,
    _call,
    _Elementwise,
    _error_text,
    _Failed,
    _kind,
    _number,
    _run_elementwise,
    _run_function_check,
    _show_array,
    _show_parameters,
)


def _relu_hint(x: float, parameters: dict[str, float]) -> str:
    """The hint for a wrong value of ReLU at ``x``."""
    if x > 0:
        return "for x > 0, relu(x) is x itself."
    if x < 0:
        return "for x < 0, relu(x) is 0."
    return "relu(0) is 0."


_RELU = _Elementwise(
    "relu",
    activations.relu,
    nan=True,
    keep_float_dtype=True,
    integer_result_ok=True,
    hint=_relu_hint,
)


def relu(function: Callable[[np.ndarray], np.ndarray]) -> bool:
    """Check a NumPy ReLU, ``function(x)`` for an ndarray ``x``: relu(x) = max(0, x), elementwise.

    The task: any shape, no Python loops, the input left unchanged, a new array of
    the same shape returned; float input keeps its dtype (float32 stays float32);
    integer input may give integers or floats. NaN in gives NaN out, so the spellings
    that hide NaN fail (``np.where(x > 0, x, 0)``, ``np.fmax(x, 0)``, ``max(0, v)``
    per element: each turns NaN into 0), while ``np.maximum(x, 0)`` and
    ``np.where(x < 0, 0, x)`` pass. The other inputs are finite; the sign of a zero
    result does not matter.
    """
    return _run_elementwise(_RELU, function)


def _abs_hint(x: float, parameters: dict[str, float]) -> str:
    """The hint for a wrong value of abs(x) written with ReLUs."""
    return "|x| is x for x >= 0 and -x for x < 0: which ReLU gives each half?"


_ABS = _Elementwise(
    "abs_from_relu",
    lambda x: np.abs(x),
    nan=True,
    keep_float_dtype=True,
    integer_result_ok=True,
    hint=_abs_hint,
)


def abs_from_relu(function: Callable[[np.ndarray], np.ndarray]) -> bool:
    """Check abs(x) written as a sum of ReLUs: same contract as :func:`relu`, values abs(x)."""
    return _run_elementwise(_ABS, function)


def _hat_values(x: np.ndarray) -> np.ndarray:
    """hat(x) = max(0, 1 - abs(x)): 0 outside [-1, 1], 1 at 0, straight in between."""
    return np.maximum(0.0, 1.0 - np.abs(x))


def _hat_hint(x: float, parameters: dict[str, float]) -> str:
    """The hint for a wrong value of the hat function."""
    return (
        "hat(x) is 0 for |x| >= 1, 1 + x on [-1, 0] and 1 - x on [0, 1]: its slope changes at "
        "-1, 0 and 1, and each change of slope is one ReLU unit."
    )


_HAT = _Elementwise("hat", _hat_values, nan=True, keep_float_dtype=True, integer_result_ok=True, hint=_hat_hint)


def hat(function: Callable[[np.ndarray], np.ndarray]) -> bool:
    """Check the hat function max(0, 1 - abs(x)) written as a sum of ReLUs: same contract as :func:`relu`."""
    return _run_elementwise(_HAT, function)


_KNOT_CASES: tuple[tuple[tuple[float, ...], tuple[float, ...]], ...] = (
    ((-2.0, -1.0, 0.0, 1.0, 2.0), (0.0, 1.0, -1.0, 1.0, 0.0)),
    ((0.0, 1.0), (1.0, 3.0)),
    ((-1.0, 0.0, 2.0), (0.0, 1.0, 0.0)),
    ((-3.0, -2.2, -0.4, 0.1, 1.7, 2.5, 3.0), (0.5, -1.0, 2.0, 2.0, -0.3, 1.2, 0.0)),
)


def piecewise_network(build: Callable[[np.ndarray, np.ndarray], nn.Module]) -> bool:
    """Check a one-hidden-layer ReLU network built by hand through given knots.

    The task: ``build(knots_x, knots_y)`` returns ``nn.Sequential(nn.Linear(1, k),
    nn.ReLU(), nn.Linear(k, 1))`` with k = len(knots_x) - 1 hidden units, equal to the
    piecewise-linear function through the knots on [knots_x[0], knots_x[-1]], for 1-D
    float arrays with ``knots_x`` increasing. It maps a batch of shape (n, 1) to (n, 1).
    """
    return _run_function_check("piecewise_network", build, _check_piecewise_networks)


def _check_piecewise_networks(build: Callable[..., Any]) -> str:
    """Every hidden knot set reproduced; the summary line."""
    for knots_x, knots_y in _KNOT_CASES:
        _check_piecewise_network(build, np.array(knots_x), np.array(knots_y))
    return f"all {len(_KNOT_CASES)} hidden knot sets reproduced with exactly one unit per piece."


def _check_piecewise_network(build: Callable[..., Any], knots_x: np.ndarray, knots_y: np.ndarray) -> None:
    """One knot set: Linear(1, k), ReLU, Linear(k, 1), equal to the interpolant of the knots on a fine grid."""
    k = len(knots_x) - 1
    where = f"for knots_x = {_show_array(knots_x)}, knots_y = {_show_array(knots_y)}"
    network = _call(build, knots_x.copy(), knots_y.copy(), where=where)
    if not isinstance(network, nn.Module):
        raise _Failed(f"returned {_kind(network)} {where}; expected a torch.nn.Module (nn.Sequential).")
    linears = [module for module in network.modules() if isinstance(module, nn.Linear)]
    relus = [module for module in network.modules() if isinstance(module, nn.ReLU)]
    shapes = [(layer.in_features, layer.out_features) for layer in linears]
    if len(relus) != 1 or shapes != [(1, k), (k, 1)]:
        raise _Failed(
            f"{where} the network has Linear layers {shapes} and {len(relus)} ReLU; the task asks for "
            f"Linear(1, {k}), ReLU, Linear({k}, 1): one hidden unit per piece, {k} pieces."
        )
    dtype = next(network.parameters()).dtype
    grid = np.union1d(np.linspace(knots_x[0], knots_x[-1], 601), knots_x)
    inputs = torch.tensor(grid, dtype=dtype).reshape(-1, 1)
    try:
        with torch.no_grad():
            output = network(inputs)
    except Exception as error:  # noqa: BLE001
        raise _Failed(f"the network {where} raised {_error_text(error)} on inputs of shape (601, 1).") from None
    if not isinstance(output, torch.Tensor) or tuple(output.shape) != (len(grid), 1):
        shape = tuple(output.shape) if isinstance(output, torch.Tensor) else _kind(output)
        raise _Failed(
            f"the network {where} returned {shape} for inputs of shape ({len(grid)}, 1); expected ({len(grid)}, 1)."
        )
    got = output.detach().double().numpy().ravel()
    want = np.interp(grid, knots_x, knots_y)
    scale = 1.0 + np.abs(knots_y).max() + np.abs(knots_x).max() * np.abs(np.diff(knots_y) / np.diff(knots_x)).max()
    tolerance = (1e-4 if dtype != torch.float64 else 1e-9) * scale
    wrong = np.nonzero(~(np.abs(got - want) <= tolerance))[0]
    if wrong.size:
        i = wrong[0]
        raise _Failed(
            f"wrong output at x = {_number(grid[i])} {where}: expected {_number(round(want[i], 6))}, "
            f"got {_number(round(float(got[i]), 6))}. Hint: hidden unit i computes relu(x - knots_x[i]) "
            "(weight 1, bias -knots_x[i]); its output weight is the change of slope at that knot; "
            "the output bias is knots_y[0]."
        )


def _count_pieces_cases() -> list[tuple[str, np.ndarray, np.ndarray, dict[str, float], int]]:
    """(description, x, y, keyword arguments, number of pieces), known by construction."""
    rng = np.random.default_rng(7)
    cases = []
    x = np.linspace(-1.0, 1.0, 201)
    cases.append(("a straight line", x, 2.0 * x + 1.0, {}, 1))
    cases.append(("relu(x), kink on a grid point", x, activations.relu(x), {}, 2))
    cases.append(("relu(x - 0.0037), kink inside a grid cell", x, activations.relu(x - 0.0037), {}, 2))
    zigzag = piecewise.relu_expansion([-2.0, -1.0, 0.0, 1.0, 2.0], [0.0, 1.0, -1.0, 1.0, 0.0])
    x = np.linspace(-2.0, 2.0, 2001)
    cases.append(("a zigzag with kinks at -1, 0, 1", x, zigzag(x), {}, 4))
    kinks = np.sort(rng.uniform(-2.8, 2.8, size=6))
    while np.diff(kinks).min() < 0.1:
        kinks = np.sort(rng.uniform(-2.8, 2.8, size=6))
    weights = rng.choice([-1.0, 1.0], size=6) * rng.uniform(0.5, 2.0, size=6)
    x = np.linspace(-3.0, 3.0, 3001)
    y = 0.3 * x + activations.relu(x[:, None] - kinks) @ weights
    cases.append(("6 kinks at random places", x, y, {}, 7))
    uneven = np.sort(np.concatenate([[-3.0, 3.0], rng.uniform(-3.0, 3.0, size=2000)]))
    y = 0.3 * uneven + activations.relu(uneven[:, None] - kinks) @ weights
    cases.append(("the same function on an uneven grid", uneven, y, {}, 7))
    x = np.linspace(-1.0, 1.0, 201)
    tiny = 1e-8 * activations.relu(x - 0.25)
    cases.append(("a change of slope of 1e-8, with the default tol", x, tiny, {}, 1))
    cases.append(("a change of slope of 1e-8, with tol=1e-10", x, tiny, {"tol": 1e-10}, 2))
    return cases


def count_pieces(function: Callable[..., int]) -> bool:
    """Check a counter of the linear pieces of a sampled piecewise-linear function.

    The task: ``count_pieces(x, y, tol=1e-6)`` takes increasing sample points ``x``
    (1-D, possibly uneven) and values ``y``, and returns, as an int, the number of
    straight pieces: 1 plus the number of kinks, where a kink is a change of slope by
    more than ``tol``. A kink strictly inside a grid cell changes the slope twice in a
    row (into the cell and out of it) and must be counted once. Kinks are at least
    three grid cells apart. The check calls ``function(x, y)`` and ``function(x, y, tol=...)``.
    """
    return _run_function_check("count_pieces", function, _check_piece_counts)


def _check_piece_counts(function: Callable[..., Any]) -> str:
    """Every hidden function counted right; the summary line."""
    cases = _count_pieces_cases()
    for description, x, y, parameters, pieces in cases:
        where = f"for {description}" + (f" ({_show_parameters(parameters)})" if parameters else "")
        got = _as_whole_number(_call(function, x.copy(), y.copy(), where=where, **parameters), where)
        if got != pieces:
            hint = (
                "a kink inside a grid cell changes the slope twice in a row: count each run of "
                "consecutive changes once."
                if got > pieces
                else "compare each slope with the next one, np.diff(slopes), and flag changes above tol."
            )
            raise _Failed(f"{where} expected {pieces} pieces, got {got}. Hint: {hint}")
    return f"all {len(cases)} hidden functions counted right (kinks on and between grid points, uneven grid, tol)."
