"""Input checks shared by the package: clear errors instead of silent wrong answers."""

from __future__ import annotations

import math
import numbers

import numpy as np
from numpy.typing import ArrayLike

_REAL_KINDS = "biuf"  # bool, signed int, unsigned int, float


def as_real_array(x: ArrayLike, name: str = "x") -> tuple[np.ndarray, np.dtype]:
    """Convert ``x`` to a new float64 array and say which dtype the result should have.

    Parameters
    ----------
    x : array_like
        Real numbers of any shape: a scalar, a (nested) list, an ndarray.
    name : str
        The argument's name, used in error messages.

    Returns
    -------
    values : ndarray of float64
        A copy of ``x``; the caller may change it without touching ``x``.
    result_dtype : numpy.dtype
        ``x``'s own dtype when it is a float type, float64 otherwise.

    Raises
    ------
    TypeError
        If ``x`` is None, a string, ragged, complex, or holds anything but numbers.
    """
    if x is None:
        raise TypeError(f"{name} must be an array-like of real numbers, got None.")
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be an array-like of real numbers, got the string {x!r}.")
    try:
        array = np.asarray(x)
    except (ValueError, TypeError, RuntimeError) as error:
        raise TypeError(
            f"{name} must be an array-like of real numbers with a regular shape "
            f"(every row the same length); NumPy could not convert it: {error}"
        ) from error
    kind = array.dtype.kind
    if kind == "c":
        raise TypeError(f"{name} must hold real numbers, got complex numbers (dtype {array.dtype}).")
    if kind not in _REAL_KINDS:
        raise TypeError(
            f"{name} must hold real numbers only, got dtype {array.dtype}: "
            "check for strings, None, or a ragged nested list."
        )
    result_dtype = array.dtype if kind == "f" else np.dtype(np.float64)
    return array.astype(np.float64, copy=True), result_dtype


def real_number(value: object, name: str) -> float:
    """Return ``value`` as a float after checking it is a finite real number.

    Raises
    ------
    TypeError
        If ``value`` is not a real number (bool, str, None, array, ...).
    ValueError
        If ``value`` is NaN or infinite.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}.")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {number}.")
    return number


def positive_number(value: object, name: str) -> float:
    """Return ``value`` as a float after checking it is finite and > 0."""
    number = real_number(value, name)
    if number <= 0:
        raise ValueError(f"{name} must be > 0, got {number}.")
    return number


def choice(value: object, name: str, allowed: tuple[str, ...]) -> str:
    """Return ``value`` after checking it is one of the ``allowed`` strings."""
    if not isinstance(value, str) or value not in allowed:
        options = ", ".join(repr(option) for option in allowed)
        raise ValueError(f"{name} must be one of {options}; got {value!r}.")
    return str(value)


def whole_number(value: object, name: str, minimum: int = 0) -> int:
    """Return ``value`` as an int after checking it is a whole number >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a whole number, got {type(value).__name__} {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")
    return int(value)


def float_dtype(dtype: object, name: str = "dtype") -> torch.dtype:  # noqa: F821
    """Check that ``dtype`` is a floating-point ``torch.dtype`` and return it."""
    import torch  # here, so that importing this module does not load PyTorch

    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"{name} must be a floating-point torch.dtype such as torch.float64, got {dtype!r}.")
    return dtype
