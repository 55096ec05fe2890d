"""Piecewise-linear functions written as sums of shifted ReLUs.

A continuous piecewise-linear function through the knots (x_0, y_0), ..., (x_k, y_k),
with x_0 < x_1 < ... < x_k, is on [x_0, x_k] exactly

    f(x) = y_0 + sum_{i=0}^{k-1} w_i * relu(x - x_i),

where w_0 = s_0 and w_i = s_i - s_{i-1}, with s_i = (y_{i+1} - y_i) / (x_{i+1} - x_i)
the slope of segment i. Each ReLU unit switches on at one knot and adds the change of
slope there. That is a network with one hidden layer of k ReLU units.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from relu_course._validation import as_real_array, real_number, whole_number
from relu_course.activations import relu

__all__ = ["ReluExpansion", "relu_expansion", "relu_interpolant"]


@dataclass(frozen=True)
class ReluExpansion:
    """f(x) = offset + sum_i weights[i] * relu(x - kinks[i]).

    Attributes
    ----------
    offset : float
        f's value left of the first kink.
    kinks : ndarray, shape (k,)
        Where each unit switches on, ascending.
    weights : ndarray, shape (k,)
        The change of slope each unit adds.
    """

    offset: float
    kinks: np.ndarray
    weights: np.ndarray

    @property
    def units(self) -> int:
        """Number of ReLU units, k."""
        return len(self.kinks)

    def __call__(self, x: ArrayLike) -> np.ndarray:
        """Evaluate f at ``x`` (any shape); returns an array of x's shape."""
        z, _ = as_real_array(x)
        shifted = z[..., np.newaxis] - self.kinks  # shape (*x.shape, k)
        return self.offset + relu(shifted) @ self.weights

    def to_network(self) -> nn.Sequential:
        """The same function as a PyTorch network: Linear(1, k), ReLU, Linear(k, 1), in float64.

        Hidden unit i computes relu(1 * x - kinks[i]); the output layer weighs the
        units by ``weights`` and adds ``offset``. Input and output have shape (batch, 1).
        """
        hidden = nn.Linear(1, self.units, dtype=torch.float64)
        output = nn.Linear(self.units, 1, dtype=torch.float64)
        with torch.no_grad():
            hidden.weight.fill_(1.0)
            hidden.bias.copy_(torch.from_numpy(-self.kinks))
            output.weight.copy_(torch.from_numpy(self.weights).reshape(1, -1))
            output.bias.fill_(self.offset)
        return nn.Sequential(hidden, nn.ReLU(), output)


def relu_expansion(knots_x: ArrayLike, knots_y: ArrayLike) -> ReluExpansion:
    """Write the piecewise-linear function through the knots as a sum of ReLUs.

    Used in: Chapter 1 (§1.4).

    Parameters
    ----------
    knots_x : array_like, shape (k + 1,)
        Strictly increasing x positions, at least two.
    knots_y : array_like, shape (k + 1,)
        Values at those positions.

    Returns
    -------
    ReluExpansion
        k units; exact on [x_0, x_k]. Left of x_0 it is constant (y_0); right of x_k
        it continues with the last segment's slope.
    """
    x, _ = as_real_array(knots_x, "knots_x")
    y, _ = as_real_array(knots_y, "knots_y")
    if x.ndim != 1 or x.shape != y.shape or len(x) < 2:
        raise ValueError(f"knots_x and knots_y must be 1-D, of equal length >= 2; got shapes {x.shape} and {y.shape}.")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("knots must be finite numbers.")
    if np.any(np.diff(x) <= 0):
        raise ValueError("knots_x must be strictly increasing.")
    slopes = np.diff(y) / np.diff(x)
    weights = np.diff(slopes, prepend=0.0)
    return ReluExpansion(offset=float(y[0]), kinks=x[:-1], weights=weights)


def relu_interpolant(
    function: Callable[[np.ndarray], ArrayLike], start: float, stop: float, units: int
) -> ReluExpansion:
    """Approximate ``function`` on [start, stop] with ``units`` ReLU units.

    Used in: Chapter 1 (§1.4); Chapter 4 (§4.11).

    The result interpolates ``function`` at ``units + 1`` equally spaced knots.

    Parameters
    ----------
    function : callable
        Maps an array of x values to an array of the same shape, e.g. ``np.sin``.
    start, stop : float
        The interval, start < stop.
    units : int
        Number of ReLU units, >= 1.

    Returns
    -------
    ReluExpansion
    """
    start = real_number(start, "start")
    stop = real_number(stop, "stop")
    units = whole_number(units, "units", minimum=1)
    if not start < stop:
        raise ValueError(f"start must be below stop, got [{start}, {stop}].")
    knots_x = np.linspace(start, stop, units + 1)
    return relu_expansion(knots_x, function(knots_x))
