"""The ReLU family side by side: a registry of the variants, and tools to measure them.

``VARIANTS`` names each variant of ReLU the course discusses, with its formula, its NumPy
implementation, the PyTorch layer that computes it and the paper it comes from: the
entries of ``activations.CATALOGUE``, with the PyTorch class looked up. The functions
measure what the chapter on the variants claims:

* ``pytorch_spelling``: the PyTorch layer with its default arguments, read from PyTorch;
* ``torch_parity``: the largest difference between a NumPy implementation and PyTorch;
* ``lowest_point``, ``value_bounds``, ``max_abs_difference``: the shape of a function
  on a grid (one-sided slopes come from ``differentiation.one_sided_differences``);
* ``gaussian_expectation``, ``gaussian_moments``: expectations under
  a normal distribution by quadrature, and SELU's constants solved from their equations.

The bake-off trains its networks with ``training.train_ensemble``.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from relu_course import activations
from relu_course._validation import as_real_array, positive_number, real_number, whole_number

__all__ = [
    "VARIANTS",
    "Variant",
    "gaussian_expectation",
    "gaussian_moments",
    "lowest_point",
    "max_abs_difference",
    "pytorch_spelling",
    "torch_parity",
    "value_bounds",
]

Function = Callable[[np.ndarray], np.ndarray]

#: Arguments of PyTorch's activation layers that do not change the function computed.
_NOT_SHAPE_ARGUMENTS = ("inplace", "device", "dtype")


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Variant(activations.CatalogueEntry):
    """A catalogue entry (``activations.CatalogueEntry``) with its PyTorch layer at hand."""

    @property
    def torch_module(self) -> type[nn.Module]:
        """The ``torch.nn`` class, e.g. ``nn.LeakyReLU``."""
        return getattr(nn, self.torch_class)

    def torch_layer(self, dtype: torch.dtype = torch.float64) -> nn.Module:
        """A fresh PyTorch layer computing this variant, with its parameters (PReLU) in ``dtype``."""
        return self.torch_module(**self.torch_arguments).to(dtype)


def _variant(entry: activations.CatalogueEntry) -> Variant:
    return Variant(**{item.name: getattr(entry, item.name) for item in fields(entry)})


#: The variants of the chapter, by name: every entry of ``activations.CATALOGUE``.
VARIANTS: dict[str, Variant] = {name: _variant(entry) for name, entry in activations.CATALOGUE.items()}


def pytorch_spelling(variant: Variant) -> str:
    """The PyTorch layer of ``variant`` with the arguments that shape it, as you would type it.

    Used in: Chapter 4 (§4.1, §4.10).

    The defaults are read from the layer's signature in the installed PyTorch, then
    overridden by ``variant.torch_arguments``; ``inplace``, ``device`` and ``dtype`` are
    left out. For example ``"nn.Softplus(beta=1.0, threshold=20.0)"``.

    Parameters
    ----------
    variant : Variant

    Returns
    -------
    str
    """
    if not isinstance(variant, Variant):
        raise TypeError(f"variant must be a Variant, got {type(variant).__name__}.")
    arguments = {
        name: parameter.default
        for name, parameter in inspect.signature(variant.torch_module).parameters.items()
        if name not in _NOT_SHAPE_ARGUMENTS and parameter.default is not inspect.Parameter.empty
    }
    arguments.update(variant.torch_arguments)
    listed = ", ".join(f"{name}={value!r}" for name, value in arguments.items())
    return f"nn.{variant.torch_module.__name__}({listed})"


# --------------------------------------------------------------------------- shape on a grid


def _grid(x: ArrayLike, name: str = "x") -> np.ndarray:
    """A non-empty 1-D float64 array of finite values."""
    values, _ = as_real_array(x, name)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {values.shape}.")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} must hold finite numbers only.")
    return values


def _evaluate(function: Function, x: np.ndarray, name: str = "function") -> np.ndarray:
    """``function(x)`` as a float64 array of x's shape."""
    if not callable(function):
        raise TypeError(f"{name} must be callable, got {type(function).__name__}.")
    values = np.asarray(function(x), dtype=np.float64)
    if values.shape != x.shape:
        raise ValueError(f"{name} returned shape {values.shape} for input of shape {x.shape}.")
    return values


def max_abs_difference(first: Function, second: Function, x: ArrayLike) -> tuple[float, float]:
    """The largest abs(first(x) - second(x)) over the grid ``x``, and where it occurs.

    Used in: Chapter 4 (§4.4, §4.5).

    Parameters
    ----------
    first, second : callable
        Map an array of shape (n,) to an array of shape (n,).
    x : array_like, shape (n,)
        Finite grid points.

    Returns
    -------
    difference : float
        max_i abs(first(x_i) - second(x_i)).
    where : float
        The grid point x_i where it is reached (the first one, if several).

    Raises
    ------
    ValueError
        If either function returns NaN on the grid.
    """
    grid = _grid(x)
    return _largest_gap(_evaluate(first, grid, "first"), _evaluate(second, grid, "second"), grid)


def _largest_gap(first: np.ndarray, second: np.ndarray, grid: np.ndarray) -> tuple[float, float]:
    """max abs(first - second) and the grid point where it is reached."""
    gaps = np.abs(first - second)
    if np.any(np.isnan(gaps)):
        raise ValueError("a function returned NaN on the grid; the difference is undefined there.")
    index = int(np.argmax(gaps))
    return float(gaps[index]), float(grid[index])


def lowest_point(function: Function, x: ArrayLike) -> tuple[float, float]:
    """Where ``function`` is smallest on the grid ``x``, and its value there.

    Used in: Chapter 4 (§4.4, §4.5, §4.7).

    Parameters
    ----------
    function : callable
        Maps an array of shape (n,) to an array of shape (n,).
    x : array_like, shape (n,)
        Finite grid points.

    Returns
    -------
    where, value : float
        argmin_i f(x_i) and min_i f(x_i), to the grid's resolution.
    """
    grid = _grid(x)
    values = _evaluate(function, grid)
    if np.any(np.isnan(values)):
        raise ValueError("function returned NaN on the grid.")
    index = int(np.argmin(values))
    return float(grid[index]), float(values[index])


def value_bounds(function: Function, x: ArrayLike) -> tuple[float, float]:
    """Lower and upper bound of ``function``: its extremes on the grid and at -inf and +inf.

    Used in: Chapter 4 (§4.9).

    The activations of ``relu_course.activations`` return their limits at ±inf (ELU
    gives -alpha at -inf), so the bounds are right even where they are only approached.
    A NaN at ±inf is ignored.

    Parameters
    ----------
    function : callable
        Maps an array of shape (n,) to an array of shape (n,).
    x : array_like, shape (n,)
        Finite grid points; it should contain the function's extremes, if any.

    Returns
    -------
    lower, upper : float
        min and max of f over the grid and its values at ±inf (possibly ±inf).
    """
    grid = _grid(x)
    inside = _evaluate(function, grid)
    if np.any(np.isnan(inside)):
        raise ValueError("function returned NaN on the grid.")
    ends = np.array([-math.inf, math.inf])
    with np.errstate(invalid="ignore", over="ignore"):
        limits = _evaluate(function, ends)
    values = np.concatenate([inside, limits[~np.isnan(limits)]])
    return float(values.min()), float(values.max())


# --------------------------------------------------------------------------- PyTorch parity


def torch_parity(
    function: Function,
    derivative: Function,
    torch_function: Callable[[torch.Tensor], torch.Tensor],
    x: ArrayLike,
) -> tuple[float, float]:
    """The largest differences between a NumPy activation and PyTorch, in float64.

    Used in: Chapter 4 (§4.10).

    PyTorch's values are ``torch_function(t)`` and its derivatives come from autograd,
    for a float64 tensor ``t`` holding the grid.

    Parameters
    ----------
    function, derivative : callable
        The NumPy activation and its derivative (arrays of shape (n,) in and out).
    torch_function : callable
        Maps a float64 tensor of shape (n,) to one of shape (n,), e.g. ``F.gelu`` or an
        ``nn.Module`` such as ``nn.PReLU().double()``.
    x : array_like, shape (n,)
        Finite grid points.

    Returns
    -------
    value_difference, derivative_difference : float
        max abs(function(x) - torch_function(x)) and max abs(derivative(x) - autograd).
    """
    grid = _grid(x)
    if not callable(torch_function):
        raise TypeError(f"torch_function must be callable, got {type(torch_function).__name__}.")
    t = torch.tensor(grid, dtype=torch.float64, requires_grad=True)
    output = torch_function(t)
    (gradient,) = torch.autograd.grad(output.sum(), t)
    value_gap, _ = _largest_gap(_evaluate(function, grid), output.detach().numpy(), grid)
    slope_gap, _ = _largest_gap(_evaluate(derivative, grid, "derivative"), gradient.numpy(), grid)
    return value_gap, slope_gap


# --------------------------------------------------------------------------- Gaussian expectations


def gaussian_expectation(
    function: Function,
    mean: float = 0.0,
    std: float = 1.0,
    *,
    breakpoints: Sequence[float] = (0.0,),
    nodes: int = 100,
    reach: float = 12.0,
) -> float:
    """E[f(Z)] for Z ~ N(mean, std**2), by Gauss-Legendre quadrature.

    Used in: Chapter 4 (§4.1, §4.3).

    E[f(Z)] = integral of f(z) * exp(-(z - mean)**2 / (2 std**2)) / (std * sqrt(2 pi)) dz,
    taken over [mean - reach * std, mean + reach * std] (the normal density outside is
    below 1e-31 for reach 12). The interval is split at the ``breakpoints`` that lie
    inside it, so a kink (ReLU's at 0) falls between pieces, and each piece gets a
    ``nodes``-point Gauss-Legendre rule, exact for polynomials of degree 2 * nodes - 1.

    Parameters
    ----------
    function : callable
        Maps an array of shape (nodes,) to an array of the same shape.
    mean : float, default 0.0
    std : float, default 1.0
        Standard deviation, > 0.
    breakpoints : sequence of float, default (0.0,)
        Where ``function`` has kinks.
    nodes : int, default 100
        Quadrature points per piece, >= 2.
    reach : float, default 12.0
        Half-width of the interval, in standard deviations, > 0.

    Returns
    -------
    float
    """
    if not callable(function):
        raise TypeError(f"function must be callable, got {type(function).__name__}.")
    mean = real_number(mean, "mean")
    std = positive_number(std, "std")
    nodes = whole_number(nodes, "nodes", minimum=2)
    reach = positive_number(reach, "reach")
    low, high = mean - reach * std, mean + reach * std
    inner = [real_number(point, "every breakpoint") for point in breakpoints]
    cuts = [low, *sorted(point for point in set(inner) if low < point < high), high]
    unit_nodes, unit_weights = _legendre_rule(nodes)
    total = 0.0
    for start, stop in zip(cuts[:-1], cuts[1:]):
        half = (stop - start) / 2
        z = half * unit_nodes + (start + stop) / 2
        density = np.exp(-0.5 * ((z - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))
        total += half * float(np.sum(unit_weights * _evaluate(function, z) * density))
    return total


@functools.lru_cache(maxsize=8)
def _legendre_rule(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [-1, 1] (computing them is the slow part)."""
    unit_nodes, unit_weights = np.polynomial.legendre.leggauss(nodes)
    unit_nodes.flags.writeable = False
    unit_weights.flags.writeable = False
    return unit_nodes, unit_weights


def gaussian_moments(function: Function, mean: float = 0.0, std: float = 1.0) -> tuple[float, float]:
    """Mean and variance of f(Z) for Z ~ N(mean, std**2).

    Used in: Chapter 4 (§4.1, §4.3).

    mean = E[f(Z)] and variance = E[f(Z)**2] - mean**2, each by ``gaussian_expectation``
    (split at 0, where the ReLU family has its kinks).

    Parameters
    ----------
    function : callable
        Maps an array to an array of the same shape.
    mean : float, default 0.0
    std : float, default 1.0
        > 0.

    Returns
    -------
    mean, variance : float
    """
    first = gaussian_expectation(function, mean, std)
    second = gaussian_expectation(lambda z: np.asarray(function(z), dtype=np.float64) ** 2, mean, std)
    return first, second - first**2
