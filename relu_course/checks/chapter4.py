"""Checks for the exercises of Chapter 4, the ReLU variants.

Leaky ReLU and the tanh form of GELU, each with its derivative, as NumPy functions (and
ELU with its derivative, for practice); two derivations: ``leaky_he_std``, He's
variance for Leaky ReLU and PReLU, with the prediction ``predict_leaky_he_drift``, and
SELU's fixed point, ``selu_moments`` and ``selu_constants``; ``prelu`` a PReLU module
with a learnable slope.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from relu_course import activations, diagnostics, networks, variants
from relu_course.checks._engine import (
    _as_float,
    _call,
    _close,
    _Elementwise,
    _error_text,
    _Failed,
    _kind,
    _NotYet,
    _number,
    _reject_none,
    _run,
    _run_elementwise,
    _run_function_check,
    _run_prediction_check,
    _show_parameters,
    prediction_check,
)


def _negative_slope(parameters: dict[str, float]) -> tuple[float, str]:
    """The negative slope a hidden case uses, and a note for messages when it is the default."""
    slope = parameters.get("negative_slope", 0.01)
    default = "" if "negative_slope" in parameters else " (the default negative_slope is 0.01)"
    return slope, default


def _leaky_relu_hint(x: float, parameters: dict[str, float]) -> str:
    """The hint for a wrong value of Leaky ReLU at ``x``."""
    slope, default = _negative_slope(parameters)
    if x > 0:
        return "for x > 0, leaky_relu(x) is x."
    return f"for x <= 0, leaky_relu(x) is negative_slope * x, here {_number(slope)} * x{default}."


def _leaky_relu_grad_hint(x: float, parameters: dict[str, float]) -> str:
    """The hint for a wrong derivative of Leaky ReLU at ``x``."""
    slope, default = _negative_slope(parameters)
    if x > 0:
        return "the slope is 1 for x > 0."
    if x < 0:
        return f"the slope is negative_slope for x < 0, here {_number(slope)}{default}."
    return f"at x = 0 return negative_slope (here {_number(slope)}), as PyTorch's autograd does{default}."


_SLOPES = ({}, {"negative_slope": 0.2}, {"negative_slope": 0.0}, {"negative_slope": 1.0})
_LEAKY_RELU = _Elementwise("leaky_relu", activations.leaky_relu, parameters=_SLOPES, nan=True, hint=_leaky_relu_hint)
_LEAKY_RELU_GRAD = _Elementwise(
    "leaky_relu_grad", activations.leaky_relu_grad, parameters=_SLOPES, hint=_leaky_relu_grad_hint
)


def leaky_relu(function: Callable[..., np.ndarray]) -> bool:
    """Check Leaky ReLU: x for x > 0, negative_slope * x for x <= 0 (default slope 0.01).

    The task: ``leaky_relu(x, negative_slope=0.01)`` for 0 <= negative_slope <= 1, any
    shape, floats out, NaN in gives NaN out, no Python loops, x left unchanged. The check
    calls ``function(x)`` and ``function(x, negative_slope=...)``.
    """
    return _run_elementwise(_LEAKY_RELU, function)


def leaky_relu_grad(function: Callable[..., np.ndarray]) -> bool:
    """Check the derivative of Leaky ReLU: 1 for x > 0, negative_slope for x <= 0.

    At x = 0 the value is ``negative_slope``, as PyTorch's autograd returns. Finite x.
    The check calls ``function(x)`` and ``function(x, negative_slope=...)``.
    """
    return _run_elementwise(_LEAKY_RELU_GRAD, function)


def _elu_hint(x: float, parameters: dict[str, float]) -> str:
    """The hint for a wrong value of ELU at ``x``."""
    alpha = parameters.get("alpha", 1.0)
    if x > 0:
        return "for x > 0, elu(x) is x."
    return f"for x <= 0, elu(x) is alpha * (exp(x) - 1), here alpha = {_number(alpha)}."


def _elu_grad_hint(x: float, parameters: dict[str, float]) -> str:
    """The hint for a wrong derivative of ELU at ``x``."""
    alpha = parameters.get("alpha", 1.0)
    if x > 0:
        return "the slope is 1 for x > 0."
    if x < 0:
        return f"the slope is alpha * exp(x) for x < 0, here alpha = {_number(alpha)}."
    return (
        f"at x = 0 use the x <= 0 branch, alpha * exp(0) = alpha = {_number(alpha)}, the value PyTorch's "
        "autograd returns."
    )


_ALPHAS = ({}, {"alpha": 0.5}, {"alpha": 2.0})
_ELU = _Elementwise("elu", activations.elu, parameters=_ALPHAS, nan=True, hint=_elu_hint)
_ELU_GRAD = _Elementwise("elu_grad", activations.elu_grad, parameters=_ALPHAS, hint=_elu_grad_hint)


def elu(function: Callable[..., np.ndarray]) -> bool:
    """Check ELU: x for x > 0 and alpha * (exp(x) - 1) for x <= 0 (default alpha 1.0).

    Any shape, floats out, NaN in gives NaN out, large abs(x) without overflow to NaN, no
    Python loops, x left unchanged. The check calls ``function(x)`` and ``function(x, alpha=...)``.
    """
    return _run_elementwise(_ELU, function)


def elu_grad(function: Callable[..., np.ndarray]) -> bool:
    """Check the derivative of ELU: 1 for x > 0, alpha * exp(x) for x <= 0 (alpha at 0).

    The check calls ``function(x)`` and ``function(x, alpha=...)``.
    """
    return _run_elementwise(_ELU_GRAD, function)


def _gelu_tanh_expected(x: np.ndarray) -> np.ndarray:
    """The reference values of the tanh form of GELU."""
    return activations.gelu(x, approximate="tanh")


def _gelu_tanh_grad_expected(x: np.ndarray) -> np.ndarray:
    """The reference derivative of the tanh form of GELU."""
    return activations.gelu_grad(x, approximate="tanh")


def _gelu_tanh_hint(x: float, parameters: dict[str, float]) -> str:
    """The hint for a wrong value of GELU: its tanh formula."""
    return "gelu(x) = x / 2 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3)))."


def _gelu_tanh_grad_hint(x: float, parameters: dict[str, float]) -> str:
    """The hint for a wrong derivative of GELU: the formula the product and chain rules give."""
    return (
        "with u = sqrt(2 / pi) * (x + 0.044715 x³) and t = tanh(u), the product and chain rules give "
        "(1 + t) / 2 + x / 2 * (1 - t²) * sqrt(2 / pi) * (1 + 3 * 0.044715 x²)."
    )


_GELU_TANH = _Elementwise("gelu_tanh", _gelu_tanh_expected, nan=True, hint=_gelu_tanh_hint)
_GELU_TANH_GRAD = _Elementwise("gelu_tanh_grad", _gelu_tanh_grad_expected, large=(30.0, 1e3), hint=_gelu_tanh_grad_hint)


def gelu_tanh(function: Callable[[np.ndarray], np.ndarray]) -> bool:
    """Check GELU in its tanh form, x / 2 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x³))).

    Any shape, floats out, NaN in gives NaN out, finite x up to ±1e300, no Python loops.
    The check calls ``function(x)``.
    """
    return _run_elementwise(_GELU_TANH, function)


def gelu_tanh_grad(function: Callable[[np.ndarray], np.ndarray]) -> bool:
    """Check the derivative of the tanh form of GELU, ``function(x)``, for abs(x) up to 1000."""
    return _run_elementwise(_GELU_TANH_GRAD, function)


# =========================================================================== He's variance for Leaky ReLU and PReLU

# (fan_in, negative_slope) of the hidden cases: ReLU (a = 0, He's variance) and no
# nonlinearity (a = 1) first, then slopes where 1 + a and 1 + a² differ, one of them
# negative (PReLU's learned slopes can go below 0). The default slope is checked last.
_LEAKY_HE_CASES = ((100, 0.0), (64, 1.0), (256, 0.2), (1, 0.25), (1000, 0.01), (300, -0.25), (50, 0.5))
_LEAKY_HE_DEFAULT_CASE = 128


def _leaky_he_expected(fan_in: int, slope: float) -> float:
    """PyTorch's gain for Leaky ReLU, sqrt(2 / (1 + a²)), divided by sqrt(fan_in)."""
    return torch.nn.init.calculate_gain("leaky_relu", slope) / math.sqrt(fan_in)


def _leaky_he_hint(got: float, fan_in: int, slope: float) -> str:
    """Name the formula a wrong standard deviation most likely came from."""
    a, n = slope, fan_in
    candidates = {
        "sqrt(2 / ((1 + a) fan_in)): 1 + a instead of 1 + a². For z <= 0, leaky(z)² = a² z², "
        "so the negative half contributes a² E[z²] / 2": math.sqrt(2 / ((1 + a) * n)),
        "sqrt(2 / ((1 + a)² fan_in)): (1 + a)² instead of 1 + a²; square each half of leaky(z) separately": math.sqrt(
            2 / ((1 + a) ** 2 * n)
        ),
        "sqrt(2 / fan_in), He's standard deviation for ReLU: it leaves out the slope a": math.sqrt(2 / n),
        "2 / ((1 + a²) fan_in): that is the variance; the standard deviation is its square root": 2 / ((1 + a * a) * n),
        "sqrt(1 / ((1 + a²) fan_in)): the factor 2 is missing. E[leaky(z)²] is (1 + a²) / 2 times E[z²], "
        "and the variance must undo that factor": math.sqrt(1 / ((1 + a * a) * n)),
        "sqrt((1 + a²) / (2 fan_in)): the fraction is upside down": math.sqrt((1 + a * a) / (2 * n)),
        "sqrt(2 / (1 + a²)) / fan_in: divide the gain by sqrt(fan_in), not by fan_in": math.sqrt(2 / (1 + a * a)) / n,
        "sqrt(2 / (1 + a²)), the gain alone: divide it by sqrt(fan_in)": math.sqrt(2 / (1 + a * a)),
    }
    right = _leaky_he_expected(fan_in, slope)
    for name, value in candidates.items():
        if not _close(value, right, 1e-6) and _close(got, value, 1e-6):
            return f"Hint: that is {name}."
    return (
        "Hint: for z symmetric around 0, E[leaky(z)²] = (1 + a²) / 2 · E[z²]; choose Var(W) so that "
        "fan_in · Var(W) times that factor is 1."
    )


def leaky_he_std(function: Callable[..., float]) -> bool:
    """Check the standard deviation of He's initialization for Leaky ReLU: sqrt(2 / ((1 + a²) fan_in)).

    The task: ``leaky_he_std(fan_in, negative_slope=0.01)`` returns the standard
    deviation of the weights W ~ N(0, 2 / ((1 + a²) fan_in)) that keeps the mean square
    of the activations from layer to layer, a = negative_slope (He et al., 2015). The
    expected values are PyTorch's ``nn.init.calculate_gain("leaky_relu", a) / sqrt(fan_in)``,
    for a = 0 (He's sqrt(2 / fan_in)), a = 1 (sqrt(1 / fan_in)), slopes in between, a
    negative slope and the default 0.01; within a relative 1e-9.
    """
    return _run_function_check("leaky_he_std", function, _check_leaky_he_std)


def _check_leaky_he_std(function: Callable[..., object]) -> str:
    """Every hidden (fan_in, negative_slope) right; the summary line."""
    calls = [(fan_in, {"negative_slope": slope}) for fan_in, slope in _LEAKY_HE_CASES]
    calls.append((_LEAKY_HE_DEFAULT_CASE, {}))
    for fan_in, parameters in calls:
        slope = parameters.get("negative_slope", 0.01)
        if parameters:
            where = f"for fan_in={fan_in}, {_show_parameters(parameters)}"
        else:
            where = f"for fan_in={fan_in} (negative_slope left at its default)"
        got = _as_float(_call(function, fan_in, where=where, **parameters), where)
        expected = _leaky_he_expected(fan_in, slope)
        if not _close(got, expected, 1e-9):
            if not parameters:
                hint = "Hint: the default negative_slope is 0.01, as in Task 1 and nn.LeakyReLU."
            else:
                hint = _leaky_he_hint(got, fan_in, slope)
            raise _Failed(f"returned {_number(got)} {where}; expected {_number(expected)}. {hint}")
    return (
        f"all {len(calls)} hidden cases passed (a = 0 gives He's sqrt(2 / fan_in), a = 1 gives "
        "sqrt(1 / fan_in), a negative slope, the default 0.01)."
    )


# The layer on which predict_leaky_he_drift measures: fan_in = units = 512, 1024 inputs.
_DRIFT_SLOPE = 0.2
_DRIFT_WIDTH = 512
_DRIFT_INPUTS = 1024


@prediction_check
def predict_leaky_he_drift(prediction: object) -> bool:
    """Check a predicted factor: how one Leaky ReLU layer with He's variance 2 / fan_in changes the mean square.

    The question: a layer computes h' = leaky(W h), negative_slope a = 0.2, with
    W ~ N(0, 2 / fan_in), the variance He et al. derived for ReLU. By what factor is
    E[h'²] larger than E[h²]? The check measures it in float64 on one seeded layer of
    512 units (fan_in 512) with 1024 standard normal inputs, ``networks.deep_mlp`` with
    ``init="he"``; a prediction within 1 % passes.
    """
    return _run_prediction_check(
        "predict_leaky_he_drift",
        prediction,
        _measure_leaky_he_factor,
        rtol=0.01,
        what=f"the factor by which one Leaky ReLU layer (a = {_DRIFT_SLOPE}) with Var(W) = 2 / fan_in "
        "multiplies the mean square",
        hint="Hint: multiply the factor of the linear part, fan_in · Var(W) = 2, by the fraction "
        "E[leaky(z)²] / E[z²] that you derived for z symmetric around 0.",
    )


def _measure_leaky_he_factor() -> float:
    """Mean square of one He-initialized Leaky ReLU layer's output over that of its standard normal input."""
    model = networks.deep_mlp(1, _DRIFT_WIDTH, inputs=_DRIFT_WIDTH, init="he", seed=4, dtype=torch.float64)
    model = networks.replace_activations(model, lambda old: nn.LeakyReLU(_DRIFT_SLOPE))
    generator = torch.Generator().manual_seed(5)
    inputs = torch.randn(_DRIFT_INPUTS, _DRIFT_WIDTH, generator=generator, dtype=torch.float64)
    ((_, outputs),) = diagnostics.activation_outputs(model, inputs)
    return (outputs.pow(2).mean() / inputs.pow(2).mean()).item()


# =========================================================================== SELU's fixed point

# (lam, alpha) of the hidden cases of selu_moments: the ReLU half alone (alpha = 0) first,
# then ELU (lam = 1), a lam other than 1, and a point near SELU's constants.
_SELU_MOMENT_CASES = ((1.0, 0.0), (1.0, 1.0), (2.0, 0.5), (0.5, 3.0), (1.0507, 1.6733))
_SELU_MOMENTS_TOLERANCE = 1e-6  # absolute and relative: closed form or a fine quadrature, not sampling
_SELU_CONSTANTS_TOLERANCE = 1e-4
_OTHER_INPUT_STD = 1.5  # the second moments function given to selu_constants: selu(1.5 Z)


def _selu_moments_reference(lam: float, alpha: float, std: float = 1.0) -> tuple[float, float]:
    """(E[s(Z)], E[s(Z)²]) for Z ~ N(0, std²), s(x) = lam x for x > 0 and lam alpha (e^x - 1) otherwise.

    By Gauss-Legendre quadrature (``variants.gaussian_expectation``), split at the kink 0.
    """

    def scaled_elu(z: np.ndarray) -> np.ndarray:
        return lam * np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0)))

    mean = variants.gaussian_expectation(scaled_elu, 0.0, std)
    second = variants.gaussian_expectation(lambda z: scaled_elu(z) ** 2, 0.0, std)
    return mean, second


def _as_pair(value: object, where: str, what: str) -> tuple[float, float]:
    """Accept a tuple, list or 1-D array of two finite real numbers; explain anything else."""
    _reject_none(value, where)
    if isinstance(value, torch.Tensor):
        raise _Failed(f"returned a torch.Tensor {where}; return two Python floats, {what} (use .item()).")
    if isinstance(value, np.ndarray):
        if value.shape != (2,):
            raise _Failed(f"returned {_kind(value)} {where}; expected two numbers, {what}.")
        value = value.tolist()
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise _Failed(f"returned {_kind(value)} {where}; expected two numbers, {what}.")
    pair = (_as_float(value[0], where, "a number"), _as_float(value[1], where, "a number"))
    if not all(math.isfinite(number) for number in pair):
        raise _Failed(f"returned ({_number(pair[0])}, {_number(pair[1])}) {where}; expected two finite numbers.")
    return pair


def _show_pair(pair: tuple[float, float]) -> str:
    """Two numbers as ``(x, y)``, with 8 significant digits."""
    return f"({_number(pair[0])}, {_number(pair[1])})"


def selu_moments(function: Callable[[float, float], tuple[float, float]]) -> bool:
    """Check the mean and second moment of SELU for a standard normal input, as functions of (lam, alpha).

    The task: ``selu_moments(lam, alpha)`` returns ``(E[s(Z)], E[s(Z)²])`` for
    Z ~ N(0, 1), where s(x) = lam x for x > 0 and lam alpha (e^x - 1) for x <= 0, in
    closed form (with the Gaussian CDF) or by numerical integration. The expected values
    come from an independent quadrature (``variants.gaussian_expectation``), at five
    (lam, alpha), alpha = 0 first; within 1e-6, absolute and relative, which sampling
    does not reach.
    """
    return _run_function_check("selu_moments", function, _check_selu_moments)


def _check_selu_moments(function: Callable[..., object]) -> str:
    """Every hidden (lam, alpha) right; the summary line."""
    for lam, alpha in _SELU_MOMENT_CASES:
        where = f"for lam={_number(lam)}, alpha={_number(alpha)}"
        got = _as_pair(_call(function, lam, alpha, where=where), where, "(mean, second moment)")
        expected = _selu_moments_reference(lam, alpha)
        if not all(_close(g, e, _SELU_MOMENTS_TOLERANCE, _SELU_MOMENTS_TOLERANCE) for g, e in zip(got, expected)):
            raise _Failed(
                f"returned (mean, second moment) = {_show_pair(got)} {where}; expected {_show_pair(expected)}. "
                + _selu_moments_hint(got, expected, lam, alpha)
            )
    return (
        f"all {len(_SELU_MOMENT_CASES)} hidden (lam, alpha) passed (alpha = 0, ELU, lam other than 1, "
        "near the fixed point), within 1e-6."
    )


def _selu_moments_hint(got: tuple[float, float], expected: tuple[float, float], lam: float, alpha: float) -> str:
    """Name the mistake a wrong (mean, second moment) most likely came from."""
    mean, second = expected

    def near(value: float, target: float, rtol: float = 1e-6) -> bool:
        return _close(value, target, rtol, _SELU_MOMENTS_TOLERANCE)

    mean_right = near(got[0], mean)
    if near(got[0], second) and near(got[1], mean):
        return "Hint: that is (second moment, mean); return (mean, second moment)."
    if mean_right and not near(second, second - mean**2) and near(got[1], second - mean**2):
        return (
            "Hint: that is the variance, E[s(Z)²] - E[s(Z)]²; the task asks for the second moment "
            "E[s(Z)²] (at the fixed point the two agree, because the mean is 0)."
        )
    if mean_right and lam != 1 and near(got[1], second / lam):
        return "Hint: the second moment has the factor lam², not lam: s(Z)² = lam² · (...)²."
    if near(got[0], mean, 1e-2) and near(got[1], second, 1e-2):
        return (
            "Hint: close, but not within 1e-6: sampling, or integration on a coarse grid, is not precise "
            "enough. Use the closed form (Φ from math.erf) or a fine numerical integration."
        )
    if not mean_right:
        if alpha == 0:
            return "Hint: for alpha = 0, s(x) = lam · relu(x), and E[Z; Z > 0] = 1 / sqrt(2π)."
        return (
            "Hint: split at 0: E[s(Z)] = lam E[Z; Z > 0] + lam alpha (E[e^Z; Z <= 0] - P(Z <= 0)), "
            "and E[e^(kZ); Z <= 0] = e^(k²/2) Φ(-k) (complete the square)."
        )
    if alpha == 0:
        return "Hint: for alpha = 0, E[s(Z)²] = lam² E[Z²; Z > 0] = lam² / 2."
    return (
        "Hint: E[s(Z)²] = lam² (E[Z²; Z > 0] + alpha² E[(e^Z - 1)²; Z <= 0]); expand (e^Z - 1)² = "
        "e^(2Z) - 2 e^Z + 1 and use E[e^(kZ); Z <= 0] = e^(k²/2) Φ(-k)."
    )


def selu_constants(function: Callable[[Callable[[float, float], tuple[float, float]]], tuple[float, float]]) -> bool:
    """Check a solver of SELU's two equations: ``function(moments)`` returns (lam, alpha) with moments = (0, 1).

    The task: ``selu_constants(moments)`` finds lam > 0 and alpha such that
    ``moments(lam, alpha)`` is (0, 1): mean 0, second moment 1. The check gives it the
    moments of SELU(Z), Z ~ N(0, 1), and expects PyTorch's constants, read off
    ``torch.nn.functional.selu`` (lam = selu(1), alpha = -selu(-inf) / lam); then the
    moments of SELU(1.5 Z), whose solution is different, so that typed-in constants
    fail. Within 1e-4. The moments functions take two numbers and return two floats.
    """
    return _run_function_check("selu_constants", function, _check_selu_constants)


def _torch_selu_constants() -> tuple[float, float]:
    """SELU's (lam, alpha) as PyTorch computes them: lam = selu(1), alpha = -selu(-inf) / lam."""
    at_one, at_minus_infinity = F.selu(torch.tensor([1.0, -math.inf], dtype=torch.float64)).tolist()
    return at_one, -at_minus_infinity / at_one


def _solve_selu_directly(std: float) -> tuple[float, float]:
    """(lam, alpha) for inputs N(0, std²): alpha from the mean (linear in alpha), then lam from the second moment."""
    relu_part, exp_part = _selu_moments_reference(1.0, 0.0, std)[0], _selu_moments_reference(1.0, 1.0, std)[0]
    alpha = -relu_part / (exp_part - relu_part)
    return 1.0 / math.sqrt(_selu_moments_reference(1.0, alpha, std)[1]), alpha


def _given_moments(std: float) -> Callable[[float, float], tuple[float, float]]:
    """The moments function handed to the learner's solver: ``moments(lam, alpha)`` for inputs N(0, std²)."""

    def moments(lam: float, alpha: float) -> tuple[float, float]:
        """(mean, second moment) of lam · elu_alpha(X), X ~ N(0, std²)."""
        if not all(
            isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) for value in (lam, alpha)
        ):
            raise TypeError(f"moments(lam, alpha) takes two numbers, got ({_kind(lam)}, {_kind(alpha)})")
        return _selu_moments_reference(float(lam), float(alpha), std)

    return moments


def _check_selu_constants(function: Callable[..., object]) -> str:
    """Both moments functions solved; the summary line."""
    torch_constants = _torch_selu_constants()
    cases = (
        ("the moments of SELU(Z), Z ~ N(0, 1)", 1.0, torch_constants),
        (
            f"the moments of SELU({_OTHER_INPUT_STD} Z), another function of the same form",
            _OTHER_INPUT_STD,
            _solve_selu_directly(_OTHER_INPUT_STD),
        ),
    )
    for described, std, expected in cases:
        moments = _given_moments(std)
        where = f"for {described}"
        got = _as_pair(_call(function, moments, where=where), where, "(lam, alpha)")
        if not all(_close(g, e, 0.0, _SELU_CONSTANTS_TOLERANCE) for g, e in zip(got, expected)):
            raise _Failed(
                f"returned (lam, alpha) = {_show_pair(got)} {where}; expected {_show_pair(expected)} "
                f"within 1e-4. {_selu_constants_hint(got, expected, moments, torch_constants, std)}"
            )
    return (
        "both hidden equations solved within 1e-4: SELU's, whose solution is PyTorch's lam = selu(1) and "
        "alpha = -selu(-inf) / lam, and another with a different solution."
    )


def _selu_constants_hint(
    got: tuple[float, float],
    expected: tuple[float, float],
    moments: Callable[[float, float], tuple[float, float]],
    torch_constants: tuple[float, float],
    std: float,
) -> str:
    """Name the mistake a wrong (lam, alpha) most likely came from."""

    def near(pair: tuple[float, float], target: tuple[float, float]) -> bool:
        return all(_close(g, e, 0.0, _SELU_CONSTANTS_TOLERANCE) for g, e in zip(pair, target))

    if near(got, expected[::-1]):
        return "Hint: that is (alpha, lam); return (lam, alpha)."
    if std != 1.0 and near(got, torch_constants):
        return (
            "Hint: those are SELU's constants, but this moments function has another solution: solve "
            "moments(lam, alpha) = (0, 1) for the function you are given instead of typing in the constants."
        )
    if near(got, (-expected[0], expected[1])):
        return "Hint: -lam solves the equations too, but flips the sign of every output; return lam > 0."
    mean, second = moments(*got)
    residual = f"moments(lam, alpha) at your answer is {_show_pair((mean, second))}, not (0, 1)."
    if abs(mean) > 1e-6:
        return (
            f"Hint: {residual} The mean is lam times a function of alpha alone, so solve mean = 0 "
            "for alpha first (at lam = 1)."
        )
    return (
        f"Hint: {residual} The mean is 0, so alpha is right; the second moment grows with lam², so "
        "lam = 1 / sqrt(second moment at lam = 1)."
    )


def prelu(module_class: type) -> bool:
    """Check a PReLU module: max(0, x) + a * min(0, x) with a learnable slope a.

    The task: ``PReLU(num_parameters=1, init=0.25)`` is an ``nn.Module`` with one
    parameter, ``weight``, of shape (num_parameters,) filled with ``init``. With one
    parameter the slope is shared by every entry of an input of any shape; with C
    parameters, input of shape (N, C, ...) uses slope ``weight[c]`` for channel c
    (dimension 1). Values and gradients (for the input and for ``weight``) must match
    ``torch.nn.functional.prelu``, and the input must not be modified. The check is given
    the class itself, not an instance.
    """
    return _run("prelu", lambda: _check_prelu_class(module_class))


# (keyword arguments, number of slopes, initial slope, input shapes) of the hidden cases
_PRELU_CONFIGURATIONS: tuple[tuple[dict[str, float], int, float, tuple[tuple[int, ...], ...]], ...] = (
    ({}, 1, 0.25, ((7,), (4, 3), (2, 3, 4, 4))),
    ({"num_parameters": 3, "init": 0.1}, 3, 0.1, ((4, 3), (2, 3, 4, 4))),
)


def _check_prelu_class(module_class: object) -> str:
    """Every hidden configuration and input right; the summary line."""
    if module_class is None:
        raise _NotYet("the answer is still None")
    if not (isinstance(module_class, type) and issubclass(module_class, nn.Module)):
        raise _Failed(f"expected a subclass of torch.nn.Module (the class itself), got {_kind(module_class)}.")
    generator = torch.Generator().manual_seed(5)
    checked = 0
    for arguments, count, init, shapes in _PRELU_CONFIGURATIONS:
        described = f"PReLU({_show_parameters(arguments)})"
        module = _call(module_class, where=f"when creating {described}", **arguments)
        weight = _prelu_weight(module, described, count, init)
        with torch.no_grad():
            weight.copy_(torch.linspace(-0.2, 0.3, count))  # distinct slopes, one of them negative
        for shape in shapes:
            _check_prelu_on(module, weight, _with_exact_kinks(torch.randn(shape, generator=generator) * 2), described)
            checked += 1
    return (
        f"all {checked} hidden cases passed (parameter, 1-D to 4-D inputs, per-channel slopes, "
        "gradients, exact 0 and -0.0)."
    )


def _with_exact_kinks(x: torch.Tensor) -> torch.Tensor:
    """``x`` with its first two entries set to the kink, 0.0 and -0.0, where a slope is a convention."""
    flat = x.reshape(-1).clone()
    flat[:2] = torch.tensor([0.0, -0.0])
    return flat.reshape(x.shape)


def _prelu_weight(module: object, described: str, count: int, init: float) -> torch.Tensor:
    """The module's one parameter, ``weight``, after checking its name, shape and initial value."""
    if not isinstance(module, nn.Module):
        raise _Failed(f"{described} is {_kind(module)}, not an nn.Module.")
    parameters = list(module.named_parameters())
    if not parameters:
        raise _Failed(f"{described} has no parameters: make the slope an nn.Parameter, so an optimizer can learn it.")
    if len(parameters) != 1 or parameters[0][0] != "weight":
        names = ", ".join(name for name, _ in parameters)
        raise _Failed(f"{described} has parameters ({names}); expected exactly one, named weight.")
    weight = parameters[0][1]
    if tuple(weight.shape) != (count,):
        raise _Failed(f"{described}.weight has shape {tuple(weight.shape)}; expected ({count},).")
    if not torch.allclose(weight.detach().double(), torch.full((count,), init, dtype=torch.float64)):
        raise _Failed(f"{described}.weight starts at {weight.detach().tolist()}; expected every entry {init}.")
    return weight


def _check_prelu_on(module: nn.Module, weight: torch.Tensor, x: torch.Tensor, described: str) -> None:
    """One input: the output and the gradients for x and weight match F.prelu; x is left unchanged."""
    where = f"for {described} on an input of shape {tuple(x.shape)}"
    given = x.clone().requires_grad_(True)
    pristine = x.clone()
    module.zero_grad(set_to_none=True)
    try:
        output = _call(module, given, where=where)
    except _Failed as failure:
        if weight.numel() > 1 and x.dim() > 2:
            raise _Failed(
                f"{failure} Hint: channel c is dimension 1, so reshape weight to (1, C, 1, ...) "
                "before multiplying; it then broadcasts over the other dimensions."
            ) from None
        raise
    if not isinstance(output, torch.Tensor):
        raise _Failed(f"forward returned {_kind(output)} {where}; expected a tensor.")
    if tuple(output.shape) != tuple(x.shape):
        raise _Failed(f"forward returned shape {tuple(output.shape)} {where}; expected {tuple(x.shape)}.")
    if not torch.equal(given.detach(), pristine):
        raise _Failed(f"forward changed its input {where}; compute a new tensor.")
    slopes = weight.detach().clone().requires_grad_(True)
    reference_input = x.clone().requires_grad_(True)
    expected = F.prelu(reference_input, slopes)
    if not torch.allclose(output.detach(), expected.detach(), rtol=1e-5, atol=1e-6):
        index = tuple(
            int(i) for i in torch.nonzero(~torch.isclose(output.detach(), expected.detach(), rtol=1e-5, atol=1e-6))[0]
        )
        raise _Failed(
            f"wrong output {where} at index {index}: x = {x[index].item():.4g}, expected "
            f"{expected[index].item():.4g}, got {output[index].item():.4g}. Hint: with C parameters, channel c "
            "(dimension 1) uses weight[c]: reshape the weight to (1, C, 1, ...) so it broadcasts."
        )
    upstream = torch.linspace(-1.0, 1.0, x.numel()).reshape(x.shape)
    if not output.requires_grad:
        raise _Failed(
            f"the output does not require grad {where}: autograd cannot reach weight or x "
            "(did you use .detach(), .item() or NumPy inside forward?)."
        )
    try:
        (output * upstream).sum().backward()
    except Exception as error:  # noqa: BLE001
        raise _Failed(f"backward failed {where}: {_error_text(error)}") from None
    (expected * upstream).sum().backward()
    for name, got, want in [("x", given.grad, reference_input.grad), ("weight", weight.grad, slopes.grad)]:
        if got is None or not torch.allclose(got, want, rtol=1e-4, atol=1e-5):
            raise _Failed(f"wrong gradient for {name} {where}. Hint: {_prelu_gradient_hint(x, got, want, name)}")


def _prelu_gradient_hint(x: torch.Tensor, got: torch.Tensor | None, want: torch.Tensor, name: str) -> str:
    """Point at an exact 0 when that is where the gradient differs; else the general advice."""
    if got is not None and name == "x":
        wrong = ~torch.isclose(got, want, rtol=1e-4, atol=1e-5)
        if bool((wrong & (x == 0)).any()) and not bool((wrong & (x != 0)).any()):
            return (
                "the gradient is wrong only at x = 0 exactly, where F.prelu uses the slope weight (its "
                "left slope). torch.clamp passes gradient 1 at its bound, so clamp(x, min=0) + "
                "a * clamp(x, max=0) gives 1 + a there; torch.where(x > 0, x, a * x) gives a."
            )
    return "build the output from weight with torch operations only, so autograd can differentiate it."
