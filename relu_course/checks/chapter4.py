"""Checks for the exercises of Chapter 4, the ReLU variants.

Leaky ReLU, ELU, the tanh form of GELU and SiLU, each with its derivative, as NumPy
functions; ``prelu`` a PReLU module with a learnable slope.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from relu_course import activations
from relu_course.checks._engine import (
    _call,
    _Elementwise,
    _error_text,
    _Failed,
    _kind,
    _NotYet,
    _number,
    _run,
    _run_elementwise,
    _show_parameters,
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


def _silu_hint(x: float, parameters: dict[str, float]) -> str:
    """The hint for a wrong value of SiLU: its formula."""
    return "silu(x) = x * sigmoid(x) = x / (1 + exp(-x))."


def _silu_grad_hint(x: float, parameters: dict[str, float]) -> str:
    """The hint for a wrong derivative of SiLU: its formula."""
    return "with s = sigmoid(x), silu'(x) = s * (1 + x * (1 - s))."


_SILU = _Elementwise("silu", activations.silu, nan=True, hint=_silu_hint)
_SILU_GRAD = _Elementwise("silu_grad", activations.silu_grad, hint=_silu_grad_hint)


def silu(function: Callable[[np.ndarray], np.ndarray]) -> bool:
    """Check SiLU (Swish with beta = 1): x * sigmoid(x).

    Any shape, floats out, NaN in gives NaN out, large abs(x) (±1000, ±1e300) without
    NaN from overflow, no Python loops. The check calls ``function(x)``.
    """
    return _run_elementwise(_SILU, function)


def silu_grad(function: Callable[[np.ndarray], np.ndarray]) -> bool:
    """Check the derivative of SiLU, ``function(x)``: s * (1 + x * (1 - s)) with s = sigmoid(x)."""
    return _run_elementwise(_SILU_GRAD, function)


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
