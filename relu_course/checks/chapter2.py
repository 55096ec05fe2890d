"""Checks for the exercises of Chapter 2, differentiability.

``relu_grad`` checks ReLU's derivative with a chosen value at 0; ``central_difference``
and ``gradient_check`` finite differences and a gradient check that explains its
failures; ``autograd_derivative`` a derivative taken with PyTorch's autograd.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from relu_course import activations
from relu_course.checks._engine import (
    _as_float,
    _call,
    _close,
    _Elementwise,
    _Failed,
    _kind,
    _number,
    _result_array,
    _run_elementwise,
    _run_function_check,
    _show_array,
    _with_parameters,
)


def _relu_grad_expected(x: np.ndarray, at_zero: float = 0.0) -> np.ndarray:
    """ReLU's derivative, with ``at_zero`` at x == 0 (both 0.0 and -0.0)."""
    return np.where(x == 0, at_zero, activations.relu_grad(x))


def _relu_grad_hint(x: float, parameters: dict[str, float]) -> str:
    """The hint for a wrong derivative of ReLU at ``x``."""
    if x > 0:
        return "relu has slope 1 for x > 0."
    if x < 0:
        return "relu has slope 0 for x < 0."
    at_zero = parameters.get("at_zero")
    if at_zero is None:
        return "at x = 0 return at_zero, whose default is 0.0 (PyTorch's choice). Note that -0.0 == 0 is True."
    return f"at x = 0 return at_zero (here {_number(at_zero)}); -0.0 counts as 0 too (-0.0 == 0 is True)."


_RELU_GRAD = _Elementwise(
    "relu_grad",
    _relu_grad_expected,
    parameters=({}, {"at_zero": 0.5}, {"at_zero": 1.0}),
    hint=_relu_grad_hint,
)


def relu_grad(function: Callable[..., np.ndarray]) -> bool:
    """Check the derivative of ReLU with a chosen value at 0.

    The task: ``relu_grad(x, at_zero=0.0)`` returns 1.0 where x > 0, 0.0 where x < 0
    and ``at_zero`` where x == 0 (both 0.0 and -0.0), as floats of x's shape, for
    finite x, without Python loops and without changing x. The check calls
    ``function(x)`` and ``function(x, at_zero=...)``.
    """
    return _run_elementwise(_RELU_GRAD, function)


def _cube(x: np.ndarray) -> np.ndarray:
    """x**3, a smooth hidden function."""
    return x**3


def _central_difference_cases() -> list[tuple[str, Callable[..., Any], np.ndarray, dict[str, float]]]:
    """(description, f, x, keyword arguments) for the hidden cases of ``central_difference``."""
    return [
        ("f = np.sin", np.sin, np.array([0.0, 0.5, 1.0, 2.0]), {}),
        ("f = np.exp, h=1e-3", np.exp, np.array([[-1.0, 0.0, 1.0], [0.5, 1.5, 2.0]]), {"h": 1e-3}),
        ("f = x**3", _cube, np.array(1.5), {}),
        ("f = relu, next to its kink", activations.relu, np.array([-1.0, -5e-7, 0.0, 5e-7, 1.0]), {}),
        ("f = np.sin, float32 x", np.sin, np.array([0.5, 1.0, 2.0], dtype=np.float32), {}),
        ("f = np.sin, integer x", np.sin, np.array([0, 1, 2]), {}),
        ("f = np.sin, empty x", np.sin, np.zeros((0, 2)), {}),
    ]


def _central_difference_values(f: Callable[..., Any], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """The reference: the central difference of ``f`` at ``x``, in float64."""
    x = x.astype(np.float64)
    return (f(x + h) - f(x - h)) / (2.0 * h)


def central_difference(function: Callable[..., np.ndarray]) -> bool:
    """Check a central finite difference, (f(x + h) - f(x - h)) / (2 h).

    The task: ``central_difference(f, x, h=1e-6)`` for an elementwise NumPy function
    ``f`` and an array ``x`` of any shape returns the central difference at every
    point, computed in float64 (an integer or float32 ``x`` is converted first), as an
    array of x's shape, without changing x. The check calls ``function(f, x)`` and
    ``function(f, x, h=...)``.
    """
    return _run_function_check("central_difference", function, _check_central_differences)


def _check_central_differences(function: Callable[..., Any]) -> str:
    """Every hidden case right; the summary line."""
    cases = _central_difference_cases()
    for description, f, x, parameters in cases:
        _check_central_difference_case(function, f"for {description}, x = {_show_array(x)}", f, x, parameters)
    return f"all {len(cases)} hidden cases passed (smooth functions, a kink, float32 and integer x, empty x, h)."


def _check_central_difference_case(
    function: Callable[..., Any], where: str, f: Callable[..., Any], x: np.ndarray, parameters: dict[str, float]
) -> None:
    """One hidden case: x left unchanged, floats of x's shape, within 1e-9 (relative) of the reference."""
    given, pristine = x.copy(), x.copy()
    result = _call(function, f, given, where=where, **parameters)
    if given.tobytes() != pristine.tobytes():
        raise _Failed(f"changed its input x {where}.")
    got = _result_array(result, x, where)
    if got.dtype.kind != "f":
        raise _Failed(f"returned dtype {got.dtype} {where}; expected floats.")
    want = _central_difference_values(f, x, **parameters)
    values = got.astype(np.float64)
    right = np.abs(values - want) <= 1e-9 * (1.0 + np.abs(want))
    if not right.all():
        index = tuple(int(i) for i in np.argwhere(~right)[0])
        raise _Failed(
            f"wrong value at x = {_number(x[index])} {where}: expected {_number(want[index])}, "
            f"got {_number(values[index])}. Hint: {_central_difference_hint(x, parameters)}"
        )


def _central_difference_hint(x: np.ndarray, parameters: dict[str, float]) -> str:
    """The likely mistake behind a wrong central difference: float32 arithmetic, a forward difference, or h."""
    if x.dtype == np.float32:
        return (
            "convert x to float64 first: in float32, x + 1e-6 is rounded to about 7 digits, which ruins the difference."
        )
    if "h" not in parameters:
        return (
            "use the default h=1e-6 and both neighbours, f(x + h) and f(x - h); a forward "
            "difference (f(x + h) - f(x)) / h is less accurate."
        )
    return "use the h you are given, and divide by 2 h."


def _gradient_check_rows(
    f: Callable[..., Any], f_grad: Callable[..., Any], x: np.ndarray, h: float = 1e-6, tol: float = 1e-4
) -> list[tuple[float, float, float, str]]:
    """The reference: failing points of a central-difference gradient check, and why."""
    points = x.astype(np.float64).ravel()
    numerical = (f(points + h) - f(points - h)) / (2.0 * h)
    analytic = np.asarray(f_grad(points), dtype=np.float64)
    left = (f(points) - f(points - h)) / h
    right = (f(points + h) - f(points)) / h
    rows = []
    for i in np.nonzero(np.abs(numerical - analytic) > tol)[0]:
        reason = "kink" if abs(right[i] - left[i]) > tol else "mismatch"
        rows.append((float(points[i]), float(numerical[i]), float(analytic[i]), reason))
    return rows


def _shifted_cos(x: np.ndarray) -> np.ndarray:
    """A wrong derivative of sin: cos, plus 0.1 for x > 1."""
    return np.cos(x) + 0.1 * (x > 1)


def _square(x: np.ndarray) -> np.ndarray:
    """x**2, a smooth hidden function."""
    return x * x


def _double_plus(x: np.ndarray) -> np.ndarray:
    """A derivative of x**2 that is off by 0.001."""
    return 2.0 * x + 1e-3


def _relu_grad_half(x: np.ndarray) -> np.ndarray:
    """ReLU's derivative with the value 0.5 at 0."""
    return np.where(x == 0, 0.5, activations.relu_grad(x))


def _gradient_check_cases() -> list[tuple[str, Callable[..., Any], Callable[..., Any], np.ndarray, dict]]:
    """(description, f, f_grad, x, keyword arguments) for the hidden cases of ``gradient_check``."""
    return [
        ("f = np.sin, f_grad = np.cos", np.sin, np.cos, np.linspace(-3.0, 3.0, 7), {}),
        (
            "f = relu, f_grad = relu_grad",
            activations.relu,
            activations.relu_grad,
            np.array([-1.0, -5e-7, 0.0, 5e-7, 2e-6, 1.0]),
            {},
        ),
        ("f = np.sin, f_grad = np.cos + 0.1 for x > 1 (a bug)", np.sin, _shifted_cos, np.linspace(0.0, 2.0, 5), {}),
        ("f = np.abs, f_grad = np.sign", np.abs, np.sign, np.array([-1.0, 0.0, 1.0]), {}),
        ("f = np.exp, f_grad = np.exp, 2-D x", np.exp, np.exp, np.array([[-1.0, 0.0], [1.0, 2.0]]), {}),
        ("f = relu, f_grad with value 0.5 at 0", activations.relu, _relu_grad_half, np.array([0.0]), {}),
        ("f = x**2, f_grad = 2x + 0.001", _square, _double_plus, np.array([1.0]), {}),
        ("f = x**2, f_grad = 2x + 0.001, tol=1e-2", _square, _double_plus, np.array([1.0]), {"tol": 1e-2}),
        (
            "f = relu, f_grad = relu_grad, h=1e-3",
            activations.relu,
            activations.relu_grad,
            np.array([-5e-4, 2e-6, 0.01]),
            {"h": 1e-3},
        ),
    ]


def gradient_check(function: Callable[..., list]) -> bool:
    """Check a gradient check that explains its failures.

    The task: ``gradient_check(f, f_grad, x, h=1e-6, tol=1e-4)`` compares ``f_grad``
    with the central difference at every point of ``x`` (in ``x.ravel()`` order) and
    returns a list with one tuple ``(x_i, numerical, analytic, reason)`` per point
    where they differ by more than ``tol``: ``reason`` is ``"kink"`` when the one-sided
    slopes (f(x + h) - f(x)) / h and (f(x) - f(x - h)) / h differ by more than ``tol``
    (f bends inside [x - h, x + h], so no difference quotient is the derivative), and
    ``"mismatch"`` otherwise (f_grad is probably wrong). An empty list means all agree.
    The check calls ``function(f, f_grad, x)``, with keyword arguments ``h`` and ``tol``.
    """
    return _run_function_check("gradient_check", function, _check_gradient_checks)


def _check_gradient_checks(function: Callable[..., Any]) -> str:
    """Every hidden case right; the summary line."""
    cases = _gradient_check_cases()
    for description, f, f_grad, x, parameters in cases:
        where = _with_parameters(f"for {description}, x = {_show_array(x)}", parameters)
        result = _call(function, f, f_grad, x.copy(), where=where, **parameters)
        _compare_gradient_check(result, _gradient_check_rows(f, f_grad, x, **parameters), where)
    return f"all {len(cases)} hidden cases passed (smooth functions, a bug, kinks at and next to 0, h and tol)."


def _compare_gradient_check(result: object, expected: list[tuple[float, float, float, str]], where: str) -> None:
    """Fail unless ``result`` lists the failing points of ``expected``, with their numbers and reasons."""
    if result is None:
        raise _Failed(f"returned None {where}: did you forget `return`? (Return [] when every point agrees.)")
    if not isinstance(result, (list, tuple)):
        raise _Failed(f"returned {_kind(result)} {where}; expected a list of (x, numerical, analytic, reason).")
    want_x = [_number(row[0]) for row in expected]
    try:
        got_x = [_number(float(row[0])) for row in result]
    except Exception:  # noqa: BLE001
        raise _Failed(f"returned a list whose items are not (x, numerical, analytic, reason) tuples {where}.") from None
    if got_x != want_x:
        raise _Failed(
            f"{where} expected failures at x = [{', '.join(want_x)}], got them at x = "
            f"[{', '.join(got_x)}]. Hint: a point fails when |numerical - analytic| > tol."
        )
    for row, (x, numerical, analytic, reason) in zip(result, expected):
        if not isinstance(row, (list, tuple)) or len(row) != 4:
            raise _Failed(f"{where} each item must be a tuple (x, numerical, analytic, reason); got {_kind(row)}.")
        try:
            got_numerical, got_analytic = float(row[1]), float(row[2])
        except Exception:  # noqa: BLE001
            raise _Failed(f"{where} numerical and analytic must be numbers; got {row[1]!r}, {row[2]!r}.") from None
        if not (_close(got_numerical, numerical, 1e-9, 1e-9) and _close(got_analytic, analytic, 1e-12, 1e-12)):
            raise _Failed(
                f"at x = {_number(x)} {where} expected numerical {_number(numerical)} and analytic "
                f"{_number(analytic)}, got {_number(got_numerical)} and {_number(got_analytic)}."
            )
        if row[3] != reason:
            raise _Failed(
                f"at x = {_number(x)} {where} the reason should be {reason!r}, got {row[3]!r}. Hint: compare "
                "the one-sided slopes (f(x + h) - f(x)) / h and (f(x) - f(x - h)) / h: they differ by more "
                "than tol only where f bends inside [x - h, x + h]."
            )


def _clamp_at_zero(t: torch.Tensor) -> torch.Tensor:
    """ReLU spelled t.clamp(min=0)."""
    return t.clamp(min=0)


def _maximum_with_zero(t: torch.Tensor) -> torch.Tensor:
    """ReLU spelled torch.maximum(t, 0)."""
    return torch.maximum(t, torch.zeros_like(t))


def _torch_cube(t: torch.Tensor) -> torch.Tensor:
    """t**3, a smooth hidden function of a tensor."""
    return t**3


_AUTOGRAD_CASES: tuple[tuple[str, Callable[[torch.Tensor], torch.Tensor], float], ...] = (
    ("f = torch.sin", torch.sin, 0.3),
    ("f = x**3", _torch_cube, -2.0),
    ("f = torch.relu", torch.relu, 1.5),
    ("f = torch.relu", torch.relu, 0.0),
    ("f = x.clamp(min=0)", _clamp_at_zero, 0.0),
    ("f = torch.maximum(x, 0)", _maximum_with_zero, 0.0),
    ("f = x**3 at an integer x0", _torch_cube, 2),
)


def autograd_derivative(function: Callable[[Callable[..., Any], float], float]) -> bool:
    """Check a one-number derivative taken with PyTorch's autograd.

    The task: ``autograd_derivative(f, x0)`` returns df/dx at the number ``x0`` (int or
    float) as a Python float, computed by autograd in float64, for a function ``f`` of
    a tensor written with PyTorch operations.
    """
    return _run_function_check("autograd_derivative", function, _check_autograd_derivatives)


def _check_autograd_derivatives(function: Callable[..., Any]) -> str:
    """Every hidden derivative exact to float64 rounding; the summary line."""
    for description, f, x0 in _AUTOGRAD_CASES:
        where = f"for {description} at x0 = {x0!r}"
        got = _as_float(_call(function, f, x0, where=where), where, "a Python float")
        want = _autograd_reference(f, x0)
        if not _close(got, want, 1e-12, 1e-15):
            close = "close, but not exact: " if _close(got, want, 1e-5, 1e-8) else ""
            hint = (
                f"{close}use autograd in float64 (float32 and finite differences are only approximately "
                "right): x = torch.tensor(float(x0), dtype=torch.float64, requires_grad=True); call "
                "backward() on f(x) and read x.grad."
            )
            raise _Failed(f"{where} expected {want!r}, got {got!r}. Hint: {hint}")
    return (
        f"all {len(_AUTOGRAD_CASES)} hidden cases passed (smooth functions, three spellings of ReLU at 0, integer x0)."
    )


def _autograd_reference(f: Callable[[torch.Tensor], torch.Tensor], x0: float) -> float:
    """df/dx at ``x0``, by autograd in float64."""
    point = torch.tensor(float(x0), dtype=torch.float64, requires_grad=True)
    (derivative,) = torch.autograd.grad(f(point), point)
    return derivative.item()
