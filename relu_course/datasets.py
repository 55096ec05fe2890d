"""Small synthetic datasets, made on the spot from a seed: nothing is downloaded."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from relu_course._validation import float_dtype, real_number, whole_number

__all__ = ["regression_1d", "spirals"]


def spirals(
    points_per_class: int = 200,
    classes: int = 2,
    *,
    turns: float = 1.0,
    noise: float = 0.1,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Interleaved spiral arms in the plane, one arm per class.

    Arm c has points r * (cos(t), sin(t)) with r from 0 to 1 and angle
    t = 2 pi * (turns * r + c / classes), plus Gaussian noise of standard deviation
    ``noise`` on each coordinate.

    Parameters
    ----------
    points_per_class : int, default 200
        Points on each arm, >= 1.
    classes : int, default 2
        Number of arms (and labels), >= 2.
    turns : float, default 1.0
        How many times each arm winds around the centre, > 0.
    noise : float, default 0.1
        Standard deviation of the noise, >= 0.
    seed : int, default 0
        Seed of the noise.
    dtype : torch.dtype, default torch.float32
        Floating-point type of the returned inputs. The values are computed in
        float64 and rounded once to ``dtype``.

    Returns
    -------
    inputs : Tensor of ``dtype``, shape (points_per_class * classes, 2)
    labels : Tensor of int64, shape (points_per_class * classes,)
        Values 0, ..., classes - 1, class by class.
    """
    points_per_class = whole_number(points_per_class, "points_per_class", minimum=1)
    classes = whole_number(classes, "classes", minimum=2)
    dtype = float_dtype(dtype)
    turns = real_number(turns, "turns")
    noise = real_number(noise, "noise")
    if turns <= 0 or noise < 0:
        raise ValueError(f"turns must be > 0 and noise >= 0; got turns={turns}, noise={noise}.")
    rng = np.random.default_rng(whole_number(seed, "seed"))
    radius = np.linspace(0.0, 1.0, points_per_class)
    arms, labels = [], []
    for label in range(classes):
        angle = 2 * math.pi * (turns * radius + label / classes)
        arms.append(np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]))
        labels.append(np.full(points_per_class, label))
    points = np.concatenate(arms) + noise * rng.standard_normal((points_per_class * classes, 2))
    return torch.tensor(points, dtype=dtype), torch.tensor(np.concatenate(labels), dtype=torch.int64)


def regression_1d(
    function: Callable[[np.ndarray], np.ndarray],
    points: int = 256,
    *,
    start: float = -3.0,
    stop: float = 3.0,
    noise: float = 0.0,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Samples y = function(x) + noise on an even grid of x in [start, stop].

    Parameters
    ----------
    function : callable
        Maps an array of x to an array of y of the same shape, e.g. ``np.sin``.
    points : int, default 256
        Number of samples, >= 2.
    start, stop : float
        The interval, start < stop.
    noise : float, default 0.0
        Standard deviation of Gaussian noise added to y, >= 0.
    seed : int, default 0
        Seed of the noise.
    dtype : torch.dtype, default torch.float32
        Floating-point type of the returned inputs and targets. The values are computed in
        float64 and rounded once to ``dtype``.

    Returns
    -------
    inputs, targets : Tensors of ``dtype``, shape (points, 1)
    """
    points = whole_number(points, "points", minimum=2)
    start, stop = real_number(start, "start"), real_number(stop, "stop")
    noise = real_number(noise, "noise")
    dtype = float_dtype(dtype)
    if not start < stop or noise < 0:
        raise ValueError(f"need start < stop and noise >= 0; got [{start}, {stop}], noise={noise}.")
    rng = np.random.default_rng(whole_number(seed, "seed"))
    x = np.linspace(start, stop, points)
    y = np.asarray(function(x), dtype=np.float64) + noise * rng.standard_normal(points)
    as_column = lambda values: torch.tensor(values, dtype=dtype).reshape(-1, 1)  # noqa: E731
    return as_column(x), as_column(y)
