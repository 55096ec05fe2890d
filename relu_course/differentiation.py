"""Derivatives at a kink: what autograd returns, how to check it, and when it matters.

The tools of Chapter 2. Every function here takes a PyTorch function that acts
elementwise (``torch.relu``, ``lambda t: torch.clamp(t, min=0)``, ...) and looks at
its derivative in three ways:

* ``autograd_derivative``: what PyTorch's autograd returns, point by point;
* ``central_difference`` and ``one_sided_differences``: difference quotients built
  from function values only (finite differences);
* ``gradient_check``: both side by side, with the points where they disagree.

``derivative_at_zero_table`` puts these together for a dict of named functions at
exactly x = 0, where ReLU has its kink.

``ReLUWithDerivativeAtZero`` (and ``relu_with_derivative_at_zero``) is a ReLU whose
derivative at 0 is a parameter. That parameter is used only where a pre-activation is
exactly 0: ``exact_zero_preactivations`` counts how often that happens in a given
floating-point type, and ``convention_effect`` measures how much a network's gradient
changes when the parameter changes.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from relu_course._validation import as_real_array, float_dtype, positive_number, real_number, whole_number
from relu_course.diagnostics import activation_inputs
from relu_course.networks import replace_activations
from relu_course.tables import Table
from relu_course.training import loss_function

__all__ = [
    "FLOAT_TYPES",
    "ConventionEffect",
    "ExactZeros",
    "GradientCheck",
    "ReLUWithDerivativeAtZero",
    "autograd_derivative",
    "central_difference",
    "convention_effect",
    "derivative_at_zero_table",
    "exact_zero_preactivations",
    "gradient_check",
    "low_precision_copy",
    "one_sided_differences",
    "relu_with_derivative_at_zero",
    "round_to",
    "with_relu_derivative_at_zero",
]

TorchFunction = Callable[[torch.Tensor], torch.Tensor]

#: The floating-point types the course compares: two 16-bit formats (float16 keeps 11
#: significant bits, bfloat16 8), float32 (24 bits) and float64 (53 bits).
FLOAT_TYPES: tuple[torch.dtype, ...] = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


# --------------------------------------------------------------------------- checks


def _check_function(function: object) -> TorchFunction:
    if not callable(function):
        raise TypeError(f"function must be callable (a tensor -> tensor function), got {type(function).__name__}.")
    return function  # type: ignore[return-value]


def _points(x: ArrayLike) -> np.ndarray:
    """``x`` as a float64 array (any shape), after the package's input checks."""
    values, _ = as_real_array(x)
    return values


def _evaluate(function: TorchFunction, t: torch.Tensor) -> torch.Tensor:
    """``function(t)``, checked to be a tensor of the same shape (an elementwise function)."""
    result = function(t)
    if not isinstance(result, torch.Tensor):
        raise TypeError(f"function must return a torch.Tensor, got {type(result).__name__}.")
    if result.shape != t.shape:
        raise ValueError(
            f"function must act elementwise: input shape {tuple(t.shape)}, output shape {tuple(result.shape)}."
        )
    return result


def _values(function: TorchFunction, x: np.ndarray, dtype: torch.dtype) -> np.ndarray:
    """f(x) computed in ``dtype``, returned as float64 NumPy."""
    with torch.no_grad():
        result = _evaluate(function, torch.tensor(x, dtype=dtype))
    return result.to(torch.float64).numpy()


# --------------------------------------------------------------------------- derivatives


def autograd_derivative(function: TorchFunction, x: ArrayLike, dtype: torch.dtype = torch.float64) -> np.ndarray:
    """The derivative PyTorch's autograd returns for an elementwise function, at every point.

    Used in: Chapter 2 (§2.1, §2.4); Chapter 4 (§4.9).

    Computes ``function(t).sum().backward()`` and returns ``t.grad``: for an
    elementwise function, entry i of the gradient of the sum is f'(x_i). At a kink,
    this is whatever the backward formula of ``function`` returns there.

    Parameters
    ----------
    function : callable
        Maps a tensor to a tensor of the same shape, elementwise, e.g. ``torch.relu``.
    x : array_like
        Points, any shape.
    dtype : torch.dtype, default torch.float64
        The floating-point type in which the points are stored and f is evaluated.

    Returns
    -------
    ndarray of float64
        f'(x), same shape as ``x``.
    """
    function = _check_function(function)
    dtype = float_dtype(dtype)
    t = torch.tensor(_points(x), dtype=dtype, requires_grad=True)
    _evaluate(function, t).sum().backward()
    gradient = t.grad if t.grad is not None else torch.zeros_like(t)  # f does not depend on x
    return gradient.to(torch.float64).numpy()


def central_difference(
    function: TorchFunction, x: ArrayLike, step: float = 1e-6, dtype: torch.dtype = torch.float64
) -> np.ndarray:
    """Central finite difference: (f(x + h) - f(x - h)) / (2 h), at every point.

    Used in: Chapter 2 (§2.2).

    For a smooth f the error is of order h**2. Where f has a kink inside
    [x - h, x + h] it estimates the average of the two one-sided slopes instead of a
    derivative: 1/2 for ReLU at 0.

    Parameters
    ----------
    function : callable
        Elementwise tensor -> tensor function.
    x : array_like
        Points, any shape.
    step : float, default 1e-6
        The step h, > 0.
    dtype : torch.dtype, default torch.float64
        Type in which f is evaluated. In float32 choose h around 1e-3: a smaller h
        loses the digits of f(x + h) - f(x - h) to rounding.

    Returns
    -------
    ndarray of float64
        Same shape as ``x``.
    """
    function = _check_function(function)
    step = positive_number(step, "step")
    dtype = float_dtype(dtype)
    points = _points(x)
    return (_values(function, points + step, dtype) - _values(function, points - step, dtype)) / (2 * step)


def one_sided_differences(
    function: TorchFunction, x: ArrayLike, step: float = 1e-6, dtype: torch.dtype = torch.float64, order: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Left and right difference quotients at every point: estimates of the one-sided slopes.

    Used in: Chapter 2 (§2.2); Chapter 4 (§4.8, §4.9).

    ``order=1``: left = (f(x) - f(x - h)) / h and right = (f(x + h) - f(x)) / h. As
    h -> 0 they tend to the one-sided derivatives; f is differentiable at x only if the
    two limits are equal. For ReLU at 0 they are 0 and 1 for every h > 0.

    ``order=2``: left = (3 f(x) - 4 f(x - h) + f(x - 2h)) / (2h) and
    right = (-3 f(x) + 4 f(x + h) - f(x + 2h)) / (2h), exact for a parabola on each
    side, so where f is smooth both equal f'(x) up to an error of order h**2.

    Parameters
    ----------
    function : callable
        Elementwise tensor -> tensor function, e.g. ``torch.relu`` or a PyTorch layer.
    x : array_like
        Points, any shape.
    step : float, default 1e-6
        The step h, > 0; f must have no other kink within ``order * h`` of x.
    dtype : torch.dtype, default torch.float64
        Type in which f is evaluated.
    order : {1, 2}, default 1
        The formula, as above.

    Returns
    -------
    left, right : ndarray of float64
        Each the same shape as ``x``.
    """
    function = _check_function(function)
    step = positive_number(step, "step")
    dtype = float_dtype(dtype)
    if whole_number(order, "order", minimum=1) > 2:
        raise ValueError(f"order must be 1 or 2, got {order}.")
    points = _points(x)

    def f(shift: float) -> np.ndarray:
        return _values(function, points + shift * step, dtype)

    if order == 1:
        return (f(0) - f(-1)) / step, (f(1) - f(0)) / step
    return (3 * f(0) - 4 * f(-1) + f(-2)) / (2 * step), (-3 * f(0) + 4 * f(1) - f(2)) / (2 * step)


@dataclass(frozen=True)
class GradientCheck:
    """Autograd's derivative next to a finite-difference estimate, point by point.

    Attributes
    ----------
    x : ndarray, shape (n,)
        The points, flattened.
    autograd : ndarray, shape (n,)
        f'(x) from autograd.
    numerical : ndarray, shape (n,)
        The central difference (f(x + h) - f(x - h)) / (2 h).
    agrees : ndarray of bool, shape (n,)
        ``|autograd - numerical| <= tolerance * max(1, |numerical|)``.
    """

    x: np.ndarray
    autograd: np.ndarray
    numerical: np.ndarray
    agrees: np.ndarray

    @property
    def passed(self) -> bool:
        """True when autograd and finite differences agree at every point."""
        return bool(self.agrees.all())

    @property
    def disagreements(self) -> np.ndarray:
        """The points where they disagree (empty when the check passed)."""
        return self.x[~self.agrees]

    def table(self, only_disagreements: bool = False, digits: int = 6) -> Table:
        """The check as a table: x, autograd, finite difference, agree?"""
        keep = ~self.agrees if only_disagreements else np.ones_like(self.agrees)
        rows = [
            [float(x), float(a), float(n), bool(ok)]
            for x, a, n, ok in zip(self.x[keep], self.autograd[keep], self.numerical[keep], self.agrees[keep])
        ]
        return Table(["x", "autograd", "finite difference", "agree"], rows, digits=digits)


def gradient_check(function: TorchFunction, x: ArrayLike, step: float = 1e-6, tolerance: float = 1e-5) -> GradientCheck:
    """Compare autograd with a central finite difference at every point, in float64.

    Used in: Chapter 2 (§2.5).

    The check agrees at a point when
    ``|autograd - numerical| <= tolerance * max(1, |numerical|)``. For a smooth f the
    difference is of order h**2 plus rounding of order 1e-16 / h, far below the
    default tolerance. At a kink, or within h of one, the central difference averages
    the two slopes, and the check fails there whatever convention autograd uses.

    Parameters
    ----------
    function : callable
        Elementwise tensor -> tensor function.
    x : array_like
        Points, any shape (flattened in the result).
    step : float, default 1e-6
        The finite-difference step h, > 0.
    tolerance : float, default 1e-5
        Relative tolerance (absolute for derivatives below 1 in size), > 0.

    Returns
    -------
    GradientCheck
    """
    tolerance = positive_number(tolerance, "tolerance")
    points = _points(x).ravel()
    autograd = autograd_derivative(function, points)
    numerical = central_difference(function, points, step)
    with np.errstate(invalid="ignore"):  # NaN compares as a disagreement
        agrees = np.abs(autograd - numerical) <= tolerance * np.maximum(1.0, np.abs(numerical))
    return GradientCheck(x=points, autograd=autograd, numerical=numerical, agrees=agrees)


def derivative_at_zero_table(functions: Mapping[str, TorchFunction], step: float = 1e-6, digits: int = 3) -> Table:
    """Measure, for each named function, what autograd returns at exactly x = 0.

    Used in: Chapter 2 (§2.3).

    One row per function: f(0), autograd's f'(0), and the left and right difference
    quotients with step h (see ``one_sided_differences``). Where the last two differ,
    f has a kink at 0 and autograd's value is a convention of its backward formula.
    Everything is computed in float64.

    Parameters
    ----------
    functions : mapping of str -> callable
        Name (e.g. the code that spells the function) -> elementwise tensor function.
    step : float, default 1e-6
        The step h of the difference quotients, > 0.
    digits : int, default 3
        Significant digits shown.

    Returns
    -------
    Table
        Columns: function, f(0), autograd f'(0), left slope, right slope.
    """
    if not isinstance(functions, Mapping) or not functions:
        raise TypeError("functions must be a non-empty mapping of name -> tensor function.")
    step = positive_number(step, "step")
    digits = whole_number(digits, "digits", minimum=1)
    zero = np.zeros(1)
    rows = []
    for name, function in functions.items():
        function = _check_function(function)
        left, right = one_sided_differences(function, zero, step)
        rows.append(
            [
                str(name),
                float(_values(function, zero, torch.float64)[0]),
                float(autograd_derivative(function, zero)[0]),
                float(left[0]),
                float(right[0]),
            ]
        )
    return Table(["function", "f(0)", "autograd f'(0)", "left slope", "right slope"], rows, digits=digits)


# --------------------------------------------------------------------------- the convention ReLU'(0)


class _ReLUWithDerivativeAtZeroFunction(torch.autograd.Function):
    """relu(x) forward; backward uses 1 for x > 0, 0 for x < 0 and ``value`` for x == 0."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, value: float) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(x)
        ctx.value = value
        return torch.relu(x)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        (x,) = ctx.saved_tensors
        slope = torch.where(x < 0, 0.0, 1.0).to(grad_output.dtype)  # NaN gets 1, as in torch.relu
        slope = torch.where(x == 0, torch.tensor(ctx.value, dtype=grad_output.dtype), slope)
        return grad_output * slope, None


def relu_with_derivative_at_zero(x: torch.Tensor, derivative_at_zero: float = 0.0) -> torch.Tensor:
    """ReLU whose derivative at exactly 0 is ``derivative_at_zero``.

    Used in: Chapter 2 (§2.6).

    Forward: relu(x) = max(0, x), the same numbers as ``torch.relu``. Backward:
    relu'(x) = 1 for x > 0, 0 for x < 0, and ``derivative_at_zero`` for x == 0 (also
    for -0.0). With the default 0 the gradients equal ``torch.relu``'s bit for bit.
    Only values in [0, 1] are subgradients of ReLU at 0; other values are accepted so
    that their effect can be measured.

    Parameters
    ----------
    x : Tensor
        Any shape, floating point.
    derivative_at_zero : float, default 0.0
        The value used for relu'(0), finite.

    Returns
    -------
    Tensor
        relu(x), same shape and dtype as ``x``.
    """
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(f"x must be a floating-point torch.Tensor, got {type(x).__name__}.")
    value = real_number(derivative_at_zero, "derivative_at_zero")
    return _ReLUWithDerivativeAtZeroFunction.apply(x, value)


class ReLUWithDerivativeAtZero(nn.ReLU):
    """An ``nn.ReLU`` layer whose backward uses ``derivative_at_zero`` for relu'(0).

    It is a subclass of ``nn.ReLU``, so the course's diagnostics treat it as a ReLU
    layer. It never works in place.

    Parameters
    ----------
    derivative_at_zero : float, default 0.0
        The value used for relu'(0); 0 is PyTorch's own choice.
    """

    def __init__(self, derivative_at_zero: float = 0.0) -> None:
        super().__init__(inplace=False)
        self.derivative_at_zero = real_number(derivative_at_zero, "derivative_at_zero")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return relu_with_derivative_at_zero(x, self.derivative_at_zero)

    def extra_repr(self) -> str:
        return f"derivative_at_zero={self.derivative_at_zero}"


def with_relu_derivative_at_zero(model: nn.Module, derivative_at_zero: float) -> nn.Module:
    """A copy of ``model`` in which every ``nn.ReLU`` uses ``derivative_at_zero`` for relu'(0).

    Used in: Chapter 2 (§2.6).

    The copy has the same parameter values and computes the same outputs; only the
    backward pass at pre-activations exactly equal to 0 can differ. ``model`` itself
    is not changed.

    Parameters
    ----------
    model : nn.Module
        A network with at least one ``nn.ReLU`` layer (e.g. from ``networks.mlp``).
    derivative_at_zero : float
        The value used for relu'(0).

    Returns
    -------
    nn.Module
        The copy.
    """
    value = real_number(derivative_at_zero, "derivative_at_zero")
    return replace_activations(model, lambda relu: ReLUWithDerivativeAtZero(value), kinds=(nn.ReLU,))


# --------------------------------------------------------------------------- emulated precision


def round_to(t: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``t`` rounded to the nearest number of ``dtype`` (round half to even), kept in t's own type.

    Used in: Chapter 2 (§2.6).

    Autograd sees the two casts, so a gradient flowing back through this call is rounded
    to ``dtype`` as well.
    """
    return t.to(dtype).to(t.dtype)


def low_precision_copy(model: nn.Module, dtype: torch.dtype) -> nn.Module:
    """A float64 copy of ``model`` that computes as if in ``dtype``, the same on every CPU.

    Used in: Chapter 2 (§2.6).

    The copy's parameters are rounded to ``dtype``, and the output of every module without
    children (Linear, ReLU, ...) is rounded to ``dtype`` (its input must be rounded by the
    caller). In between, each layer computes in float64, where the product of two 16-bit
    numbers is exact and a sum of such products is exact or within float64's rounding,
    far below a 16-bit step: a Linear layer in ``dtype`` is emulated as one exact
    multiply-add per output, rounded once, which is what a processor with a wide
    accumulator computes. Gradients flowing back out of each module are rounded to
    ``dtype`` too.

    Why emulate: PyTorch's own 16-bit kernels differ between CPUs (a vectorised loop, a
    oneDNN or AMX matrix unit) in where they round, so which pre-activations come out
    exactly 0 would depend on the machine. ``model`` itself is not changed.

    Parameters
    ----------
    model : nn.Module
    dtype : torch.dtype
        The type to emulate, e.g. one of ``FLOAT_TYPES``.

    Returns
    -------
    nn.Module
        The copy, in float64; give it inputs rounded with ``round_to(x, dtype)`` in float64.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    dtype = float_dtype(dtype)
    copied = copy.deepcopy(model).to(torch.float64)
    with torch.no_grad():
        for parameter in copied.parameters():
            parameter.copy_(round_to(parameter, dtype))
    for module in copied.modules():
        if not list(module.children()):
            module.register_forward_hook(lambda module, inputs, output: round_to(output, dtype))
    return copied


# --------------------------------------------------------------------------- exact zeros


@dataclass(frozen=True)
class ExactZeros:
    """How many of one activation layer's inputs (pre-activations) are exactly 0.

    Attributes
    ----------
    layer : str
        The activation module's name in the model, e.g. ``"1"``.
    dtype : torch.dtype
        The floating-point type the network ran in.
    zeros : int
        Pre-activations equal to 0 (either sign) over the whole batch.
    total : int
        All pre-activations of the layer over the batch (examples x units).
    """

    layer: str
    dtype: torch.dtype
    zeros: int
    total: int

    @property
    def fraction(self) -> float:
        """zeros / total."""
        return self.zeros / self.total


def exact_zero_preactivations(model: nn.Module, inputs: torch.Tensor, dtype: torch.dtype) -> list[ExactZeros]:
    """Run ``model`` as if in ``dtype`` and count exact zeros among the pre-activations.

    Used in: Chapter 2 (§2.6).

    The network runs as ``low_precision_copy(model, dtype)``: parameters, inputs and
    every layer's output rounded to ``dtype``, each layer computed exactly in between,
    so the counts are the same on every CPU. Each activation layer's input is recorded
    (``diagnostics.activation_inputs``) before the activation runs, so an in-place
    activation cannot hide it. A zero is an entry z with z == 0, the only place where the
    value of relu'(0) enters backpropagation.

    Parameters
    ----------
    model : nn.Module
        A network with activation layers (``diagnostics.activation_layers``). It is
        not changed.
    inputs : Tensor, shape (n, ...)
        A batch of floating-point inputs.
    dtype : torch.dtype
        E.g. one of ``FLOAT_TYPES``: torch.float16, torch.bfloat16, torch.float32,
        torch.float64.

    Returns
    -------
    list of ExactZeros
        One per activation layer, in forward order.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    if not isinstance(inputs, torch.Tensor) or not inputs.is_floating_point():
        raise TypeError(f"inputs must be a floating-point torch.Tensor, got {type(inputs).__name__}.")
    dtype = float_dtype(dtype)
    rounded_inputs = round_to(inputs.to(torch.float64), dtype)
    return [
        ExactZeros(name, dtype, int((pre == 0).sum()), pre.numel())
        for name, pre in activation_inputs(low_precision_copy(model, dtype), rounded_inputs)
    ]


# --------------------------------------------------------------------------- does the convention matter?


@dataclass(frozen=True)
class ConventionEffect:
    """How one gradient of a network changes when relu'(0) changes.

    Attributes
    ----------
    dtype : torch.dtype
        The floating-point type the network ran in.
    exact_zeros : int
        Pre-activations exactly 0, summed over all ReLU layers and examples.
    changed : int
        Entries of the parameter gradient that differ between the two conventions.
    total : int
        Entries of the parameter gradient (the number of parameters).
    largest : float
        The largest absolute difference between the two gradients, entry by entry.
    changed_by_parameter : dict of str -> int
        ``changed`` split by parameter, keyed by the names of ``model.named_parameters()``.
    """

    dtype: torch.dtype
    exact_zeros: int
    changed: int
    total: int
    largest: float
    changed_by_parameter: dict[str, int]


def convention_effect(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    dtype: torch.dtype,
    *,
    loss: str = "mse",
    derivatives_at_zero: tuple[float, float] = (0.0, 1.0),
) -> ConventionEffect:
    """Compute the loss gradient twice, with two values of relu'(0), and compare.

    Used in: Chapter 2 (§2.6).

    Both runs use a copy of ``model`` that computes as if in ``dtype``
    (``low_precision_copy``; its ReLUs from ``with_relu_derivative_at_zero``), the
    same inputs and targets, and one full-batch forward and backward pass; the
    parameter gradients are rounded to ``dtype`` at the end. The two gradients can
    differ only through pre-activations that are exactly 0.

    Parameters
    ----------
    model : nn.Module
        A network with ``nn.ReLU`` layers. It is not changed.
    inputs : Tensor, shape (n, ...)
        Floating-point inputs.
    targets : Tensor
        Shape (n, outputs) for ``"mse"``; class indices of shape (n,) for
        ``"cross_entropy"``.
    dtype : torch.dtype
        E.g. one of ``FLOAT_TYPES``.
    loss : {"mse", "cross_entropy"}, default "mse"
    derivatives_at_zero : pair of float, default (0.0, 1.0)
        The two values of relu'(0) to compare.

    Returns
    -------
    ConventionEffect
    """
    compute_loss = loss_function(loss)
    if len(derivatives_at_zero) != 2:
        raise ValueError(f"derivatives_at_zero must be a pair of numbers, got {derivatives_at_zero!r}.")
    first, second = (real_number(value, "derivatives_at_zero") for value in derivatives_at_zero)
    if not isinstance(targets, torch.Tensor):
        raise TypeError(f"targets must be a torch.Tensor, got {type(targets).__name__}.")
    zeros = exact_zero_preactivations(model, inputs, dtype)  # checks model, inputs, dtype
    if len(inputs) != len(targets):
        raise ValueError(f"inputs has {len(inputs)} rows but targets has {len(targets)}.")
    targets = round_to(targets.to(torch.float64), dtype) if targets.is_floating_point() else targets
    rounded_inputs = round_to(inputs.to(torch.float64), dtype)
    first_gradient, second_gradient = (
        _gradients(model, value, rounded_inputs, targets, dtype, compute_loss) for value in (first, second)
    )
    changed_by_parameter = {name: int((first_gradient[name] != second_gradient[name]).sum()) for name in first_gradient}
    differences = [(first_gradient[name] - second_gradient[name]).abs() for name in first_gradient]
    largest = max((float(difference.max()) for difference in differences if difference.numel()), default=0.0)
    return ConventionEffect(
        dtype=dtype,
        exact_zeros=sum(count.zeros for count in zeros),
        changed=sum(changed_by_parameter.values()),
        total=sum(gradient.numel() for gradient in first_gradient.values()),
        largest=largest,
        changed_by_parameter=changed_by_parameter,
    )


def _gradients(
    model: nn.Module,
    derivative_at_zero: float,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    dtype: torch.dtype,
    loss_function: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
) -> dict[str, torch.Tensor]:
    """The loss gradient of ``model`` in emulated ``dtype`` with the given relu'(0): name -> gradient.

    The gradients are rounded to ``dtype`` and returned in float64.
    """
    copied = low_precision_copy(with_relu_derivative_at_zero(model, derivative_at_zero), dtype)
    round_to(loss_function(copied(inputs), targets), dtype).backward()
    return {
        name: round_to(parameter.grad if parameter.grad is not None else torch.zeros_like(parameter), dtype)
        for name, parameter in copied.named_parameters()
    }
