"""ReLU and its variants in NumPy, each with its derivative.

Every function takes an array-like ``x`` of real numbers of any shape and returns a
new float ndarray of the same shape; it never modifies ``x``. A float input keeps its
dtype (the arithmetic is done in float64, then rounded once); integer and bool input
give float64. A string, None, complex numbers or a ragged list raise ``TypeError``.

The derivative of ``<name>`` is ``<name>_grad`` and takes the same parameters. The
parameter ``beta`` of Swish and Softplus is their sharpness, a number > 0 (default 1):
as it grows, both tend to ReLU.

Conventions, chosen to match PyTorch (``torch.nn.functional`` and autograd):

* At a kink, where the derivative does not exist, ``<name>_grad`` returns the value
  PyTorch's autograd returns: ``relu_grad(0) == 0``, ``leaky_relu_grad(0) ==
  negative_slope``, ``elu_grad(0) == alpha``, ``relu6_grad(0) == relu6_grad(6) == 0``.
* Signed zero is kept as PyTorch keeps it: ``relu(-0.0)`` is ``-0.0``.
* NaN in gives NaN out, for the functions and for the derivatives. (PyTorch's
  autograd returns 1 for ``relu`` at NaN, 0.01 for ``leaky_relu`` and 0 for ``relu6``:
  a NaN input passes the ``x <= 0`` test as false. A derivative at NaN has no value,
  so this package says NaN.)
* At ±inf the result is the limit of the function or derivative. PyTorch returns NaN
  in some of these places (``gelu(-inf)``, ``silu(-inf)``, ``mish(-inf)``, their
  derivatives at ±inf, and the tanh-GELU derivative for ``abs(x)`` above about 1e102), where
  its formula computes ``inf * 0``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from relu_course._validation import as_real_array, choice, positive_number, real_number

__all__ = [
    "ACTIVATIONS",
    "CATALOGUE",
    "CatalogueEntry",
    "SELU_ALPHA",
    "SELU_SCALE",
    "elu",
    "elu_grad",
    "gelu",
    "gelu_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "mish",
    "mish_grad",
    "relu",
    "relu6",
    "relu6_grad",
    "relu_grad",
    "selu",
    "selu_grad",
    "sigmoid",
    "silu",
    "silu_grad",
    "softplus",
    "softplus_grad",
    "swish",
    "swish_grad",
]

#: SELU's alpha, as PyTorch uses it (Klambauer et al., 2017).
SELU_ALPHA = 1.6732632423543772848170429916717
#: SELU's scale lambda, as PyTorch uses it (Klambauer et al., 2017).
SELU_SCALE = 1.0507009873554804934193349852946

_GELU_TANH_COEFFICIENT = 0.044715
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_erfc = np.frompyfunc(math.erfc, 1, 1)


# --------------------------------------------------------------------------- helpers


def _result(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Return ``values`` as an ndarray of ``dtype`` (0-d for scalar input)."""
    return np.asarray(values, dtype=dtype)


def _nan_where_nan(z: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Put NaN wherever the input ``z`` is NaN."""
    return np.where(np.isnan(z), np.nan, values)


def _limits_at_infinity(z: np.ndarray, values: np.ndarray, at_minus_inf: float, at_plus_inf: float) -> np.ndarray:
    """Replace the entries where ``z`` is -inf or +inf with the given limits."""
    values = np.where(z == -np.inf, at_minus_inf, values)
    return np.where(z == np.inf, at_plus_inf, values)


def _step(z: np.ndarray, low: float, high: float) -> np.ndarray:
    """``high`` where z > 0, ``low`` where z <= 0, NaN where z is NaN."""
    return _nan_where_nan(z, np.where(z > 0, high, low))


def sigmoid(x: ArrayLike) -> np.ndarray:
    """Logistic sigmoid, sigma(x) = 1 / (1 + exp(-x)), without overflow.

    Computed as exp(-log(1 + exp(-x))), which is exact at both tails:
    sigma(-inf) = 0 and sigma(inf) = 1.

    Returns values in [0, 1].
    """
    z, dtype = as_real_array(x)
    return _result(_sigmoid(z), dtype)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):  # NaN in, NaN out, without a warning
        return np.exp(-np.logaddexp(0.0, -z))


def _standard_normal_cdf(z: np.ndarray) -> np.ndarray:
    """Phi(z) = P(Z <= z) for Z ~ N(0, 1), as erfc(-z / sqrt(2)) / 2 (accurate in both tails)."""
    return 0.5 * np.asarray(_erfc(-z / math.sqrt(2.0)), dtype=np.float64)


def _standard_normal_pdf(z: np.ndarray) -> np.ndarray:
    """phi(z) = exp(-z**2 / 2) / sqrt(2 pi)."""
    return np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


# --------------------------------------------------------------------------- ReLU


def relu(x: ArrayLike) -> np.ndarray:
    """Rectified linear unit, relu(x) = max(0, x).

    Piecewise: relu(x) = x for x > 0 and 0 for x <= 0.

    ``relu(-0.0)`` is ``-0.0`` and ``relu(nan)`` is NaN, as with ``torch.relu``.
    """
    z, dtype = as_real_array(x)
    return _result(np.where(z < 0, 0.0, z), dtype)


def relu_grad(x: ArrayLike) -> np.ndarray:
    """Derivative of ReLU: 1 for x > 0, 0 for x < 0.

    At x = 0 ReLU has no derivative (left derivative 0, right derivative 1); this
    returns 0 there, the value PyTorch's autograd uses.

    Returns 0.0 or 1.0 (NaN where ``x`` is NaN).
    """
    z, dtype = as_real_array(x)
    return _result(_step(z, 0.0, 1.0), dtype)


# --------------------------------------------------------------------------- Leaky ReLU


def leaky_relu(x: ArrayLike, negative_slope: float = 0.01) -> np.ndarray:
    """Leaky ReLU (Maas et al., 2013): x for x > 0, negative_slope * x for x <= 0.

    Parameters
    ----------
    negative_slope : float, default 0.01
        Slope for x <= 0 (PyTorch's default is 0.01).
    """
    slope = real_number(negative_slope, "negative_slope")
    z, dtype = as_real_array(x)
    with np.errstate(invalid="ignore"):
        values = np.where(z > 0, z, slope * z)
    at_minus_inf = -math.inf * slope if slope != 0 else -0.0
    return _result(_limits_at_infinity(z, values, at_minus_inf, math.inf), dtype)


def leaky_relu_grad(x: ArrayLike, negative_slope: float = 0.01) -> np.ndarray:
    """Derivative of Leaky ReLU: 1 for x > 0, negative_slope for x < 0.

    At the kink x = 0 this returns ``negative_slope``, as PyTorch's autograd does.

    Parameters
    ----------
    negative_slope : float, default 0.01
        Slope for x <= 0.
    """
    slope = real_number(negative_slope, "negative_slope")
    z, dtype = as_real_array(x)
    return _result(_step(z, slope, 1.0), dtype)


# --------------------------------------------------------------------------- ELU and SELU


def elu(x: ArrayLike, alpha: float = 1.0) -> np.ndarray:
    """Exponential linear unit (Clevert et al., 2015).

    elu(x) = x for x > 0 and alpha * (exp(x) - 1) for x <= 0.

    Parameters
    ----------
    alpha : float, default 1.0
        The value elu approaches as x -> -inf is -alpha.
    """
    alpha = real_number(alpha, "alpha")
    z, dtype = as_real_array(x)
    return _result(_elu(z, alpha), dtype)


def _elu(z: np.ndarray, alpha: float) -> np.ndarray:
    with np.errstate(over="ignore"):  # expm1 of large x is never used, the branch is x
        return np.where(z > 0, z, alpha * np.expm1(z))


def elu_grad(x: ArrayLike, alpha: float = 1.0) -> np.ndarray:
    """Derivative of ELU: 1 for x > 0 and alpha * exp(x) for x <= 0.

    At x = 0 this returns ``alpha``, as PyTorch's autograd does (the derivative is
    continuous there only when alpha = 1).

    Parameters
    ----------
    alpha : float, default 1.0
        ELU's alpha.
    """
    alpha = real_number(alpha, "alpha")
    z, dtype = as_real_array(x)
    return _result(_elu_grad(z, alpha), dtype)


def _elu_grad(z: np.ndarray, alpha: float) -> np.ndarray:
    with np.errstate(over="ignore"):  # exp of large x is never used, the branch is 1
        return _nan_where_nan(z, np.where(z > 0, 1.0, alpha * np.exp(z)))


def selu(x: ArrayLike) -> np.ndarray:
    """Scaled ELU (Klambauer et al., 2017): selu(x) = scale * elu(x, alpha).

    With scale = ``SELU_SCALE`` (about 1.0507) and alpha = ``SELU_ALPHA`` (about 1.6733).
    """
    z, dtype = as_real_array(x)
    with np.errstate(over="ignore"):  # scale * x overflows to inf above about 1.7e308, as in PyTorch
        return _result(SELU_SCALE * _elu(z, SELU_ALPHA), dtype)


def selu_grad(x: ArrayLike) -> np.ndarray:
    """Derivative of SELU: scale for x > 0 and scale * alpha * exp(x) for x <= 0.

    At x = 0 this returns scale * alpha (about 1.7581), as PyTorch's autograd does.
    """
    z, dtype = as_real_array(x)
    return _result(SELU_SCALE * _elu_grad(z, SELU_ALPHA), dtype)


# --------------------------------------------------------------------------- GELU


def gelu(x: ArrayLike, approximate: str = "none") -> np.ndarray:
    """Gaussian error linear unit (Hendrycks & Gimpel, 2016).

    Exact (``approximate="none"``): gelu(x) = x * Phi(x), with Phi the standard
    normal CDF.
    Tanh form (``approximate="tanh"``):
    gelu(x) = x / 2 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3))).

    Parameters
    ----------
    approximate : {"none", "tanh"}, default "none"
        Which form to compute, as in ``torch.nn.functional.gelu``.

    ``gelu(-inf)`` is -0.0, the limit.
    """
    form = choice(approximate, "approximate", ("none", "tanh"))
    z, dtype = as_real_array(x)
    with np.errstate(invalid="ignore", over="ignore"):
        if form == "none":
            values = z * _standard_normal_cdf(z)
        else:
            values = 0.5 * z * (1.0 + np.tanh(_gelu_tanh_argument(z)))
    return _result(_limits_at_infinity(z, values, -0.0, math.inf), dtype)


def _gelu_tanh_argument(z: np.ndarray) -> np.ndarray:
    """u(x) = sqrt(2 / pi) * (x + 0.044715 * x**3)."""
    return _SQRT_2_OVER_PI * (z + _GELU_TANH_COEFFICIENT * z**3)


def gelu_grad(x: ArrayLike, approximate: str = "none") -> np.ndarray:
    """Derivative of GELU.

    Exact: Phi(x) + x * phi(x), with phi the standard normal density.
    Tanh form, with u = sqrt(2 / pi) * (x + 0.044715 * x**3) and t = tanh(u):
    (1 + t) / 2 + x / 2 * (1 - t**2) * sqrt(2 / pi) * (1 + 3 * 0.044715 * x**2).

    Parameters
    ----------
    approximate : {"none", "tanh"}, default "none"
        Which form of GELU to differentiate.

    Its limits are 0 at -inf and 1 at +inf.
    """
    form = choice(approximate, "approximate", ("none", "tanh"))
    z, dtype = as_real_array(x)
    with np.errstate(invalid="ignore", over="ignore"):
        if form == "none":
            values = _standard_normal_cdf(z) + z * _standard_normal_pdf(z)
        else:
            values = _gelu_tanh_grad(z)
    return _result(_limits_at_infinity(z, values, 0.0, 1.0), dtype)


def _gelu_tanh_grad(z: np.ndarray) -> np.ndarray:
    t = np.tanh(_gelu_tanh_argument(z))
    sech_squared = 1.0 - t * t
    inner_slope = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_TANH_COEFFICIENT * z * z)
    # Far in the tails sech^2 is exactly 0 while x * inner_slope overflows; the term is 0.
    tail_term = np.where(sech_squared == 0.0, 0.0, 0.5 * z * sech_squared * inner_slope)
    return 0.5 * (1.0 + t) + tail_term


# --------------------------------------------------------------------------- SiLU / Swish


def swish(x: ArrayLike, beta: float = 1.0) -> np.ndarray:
    """Swish (Ramachandran et al., 2017): swish(x) = x * sigmoid(beta * x).

    beta = 1 gives SiLU; as beta -> inf swish tends to ReLU.

    ``swish(-inf)`` is -0.0, the limit.
    """
    beta = positive_number(beta, "beta")
    z, dtype = as_real_array(x)
    with np.errstate(invalid="ignore"):
        values = z * _sigmoid(beta * z)
    return _result(_limits_at_infinity(z, values, -0.0, math.inf), dtype)


def swish_grad(x: ArrayLike, beta: float = 1.0) -> np.ndarray:
    """Derivative of Swish: s + beta * x * s * (1 - s), with s = sigmoid(beta * x).

    0 at -inf and 1 at +inf, the limits.
    """
    beta = positive_number(beta, "beta")
    z, dtype = as_real_array(x)
    with np.errstate(invalid="ignore"):
        s = _sigmoid(beta * z)
        values = s + beta * z * s * (1.0 - s)
    return _result(_limits_at_infinity(z, values, 0.0, 1.0), dtype)


def silu(x: ArrayLike) -> np.ndarray:
    """Sigmoid linear unit: silu(x) = x * sigmoid(x), i.e. Swish with beta = 1."""
    return swish(x, beta=1.0)


def silu_grad(x: ArrayLike) -> np.ndarray:
    """Derivative of SiLU: s * (1 + x * (1 - s)), with s = sigmoid(x)."""
    return swish_grad(x, beta=1.0)


# --------------------------------------------------------------------------- Softplus and Mish


def softplus(x: ArrayLike, beta: float = 1.0) -> np.ndarray:
    """Softplus: softplus(x) = log(1 + exp(beta * x)) / beta, a smooth ReLU.

    Computed without overflow for large x. As beta -> inf it tends to ReLU.
    PyTorch's ``F.softplus`` switches to the identity where beta * x > 20 (its
    ``threshold``); this function does not, so the two differ there by at most
    log(1 + exp(-20)) / beta, about 2e-9 / beta.

    The values are positive.
    """
    beta = positive_number(beta, "beta")
    z, dtype = as_real_array(x)
    return _result(_softplus(z, beta), dtype)


def _softplus(z: np.ndarray, beta: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):  # NaN in, NaN out, without a warning
        return np.logaddexp(0.0, beta * z) / beta


def softplus_grad(x: ArrayLike, beta: float = 1.0) -> np.ndarray:
    """Derivative of Softplus: sigmoid(beta * x).

    The values lie in [0, 1].
    """
    beta = positive_number(beta, "beta")
    z, dtype = as_real_array(x)
    return _result(_sigmoid(beta * z), dtype)


def mish(x: ArrayLike) -> np.ndarray:
    """Mish (Misra, 2019): mish(x) = x * tanh(softplus(x)).

    ``mish(-inf)`` is -0.0, the limit.
    """
    z, dtype = as_real_array(x)
    with np.errstate(invalid="ignore"):
        values = z * np.tanh(_softplus(z, 1.0))
    return _result(_limits_at_infinity(z, values, -0.0, math.inf), dtype)


def mish_grad(x: ArrayLike) -> np.ndarray:
    """Derivative of Mish: tanh(sp) + x * (1 - tanh(sp)**2) * sigmoid(x), with sp = softplus(x).

    Its limits are 0 at -inf and 1 at +inf.
    """
    z, dtype = as_real_array(x)
    with np.errstate(invalid="ignore"):
        t = np.tanh(_softplus(z, 1.0))
        values = t + z * (1.0 - t * t) * _sigmoid(z)
    return _result(_limits_at_infinity(z, values, 0.0, 1.0), dtype)


# --------------------------------------------------------------------------- ReLU6


def relu6(x: ArrayLike) -> np.ndarray:
    """ReLU capped at 6: relu6(x) = min(max(0, x), 6).

    Returns values in [0, 6] (NaN where ``x`` is NaN).
    """
    z, dtype = as_real_array(x)
    return _result(np.where(z < 0, 0.0, np.where(z > 6, 6.0, z)), dtype)


def relu6_grad(x: ArrayLike) -> np.ndarray:
    """Derivative of ReLU6: 1 for 0 < x < 6, 0 for x < 0 and x > 6.

    At both kinks, x = 0 and x = 6, this returns 0, as PyTorch's autograd does.

    Returns 0.0 or 1.0 (NaN where ``x`` is NaN).
    """
    z, dtype = as_real_array(x)
    inside = (z > 0) & (z < 6)
    return _result(_nan_where_nan(z, np.where(inside, 1.0, 0.0)), dtype)


# --------------------------------------------------------------------------- registry

Activation = Callable[..., np.ndarray]


#: Every activation of the package by name, with its derivative.
@dataclass(frozen=True)
class CatalogueEntry:
    """One activation of the course: how the book names it, its NumPy pair, its PyTorch layer.

    Attributes
    ----------
    label : str
        Its usual name, e.g. ``"Leaky ReLU"``.
    formula : str
        The formula in plain text, with PyTorch's default parameters.
    function, derivative : callable
        The NumPy implementations of this module, with PyTorch's default parameters
        bound (PReLU: its initial slope 0.25).
    torch_class : str
        The name of the ``torch.nn`` class that computes it, e.g. ``"LeakyReLU"`` (a
        name, so that this module needs only NumPy).
    torch_arguments : mapping
        Arguments given to that class (empty: PyTorch's defaults).
    kinks : tuple of float
        Where the function has a kink (no derivative).
    source : str
        Key of the paper that introduced or named it, in the book's references.
    """

    label: str
    formula: str
    function: Activation
    derivative: Activation
    torch_class: str
    torch_arguments: Mapping[str, object] = field(default_factory=dict)
    kinks: tuple[float, ...] = ()
    source: str = ""

    @property
    def binds_a_parameter(self) -> bool:
        """True when ``function`` is another entry's function with a parameter fixed (PReLU, GELU tanh)."""
        return isinstance(self.function, functools.partial)


def _bound(function: Activation, **parameters: object) -> Activation:
    return functools.partial(function, **parameters)


#: The activations of the course, by name: the one catalogue. ``ACTIVATIONS`` below,
#: ``networks.ACTIVATION_MODULES`` and ``variants.VARIANTS`` are derived from it.
CATALOGUE: dict[str, CatalogueEntry] = {
    "relu": CatalogueEntry("ReLU", "max(0, x)", relu, relu_grad, "ReLU", kinks=(0.0,), source="nair2010rectified"),
    "leaky_relu": CatalogueEntry(
        "Leaky ReLU",
        "x if x > 0 else 0.01·x",
        leaky_relu,
        leaky_relu_grad,
        "LeakyReLU",
        kinks=(0.0,),
        source="maas2013rectifier",
    ),
    "prelu": CatalogueEntry(
        "PReLU",
        "x if x > 0 else a·x, a learned (a = 0.25 at start)",
        _bound(leaky_relu, negative_slope=0.25),
        _bound(leaky_relu_grad, negative_slope=0.25),
        "PReLU",
        kinks=(0.0,),
        source="he2015delving",
    ),
    "elu": CatalogueEntry("ELU", "x if x > 0 else eˣ − 1", elu, elu_grad, "ELU", source="clevert2015fast"),
    "selu": CatalogueEntry(
        "SELU", "λ·(x if x > 0 else α(eˣ − 1))", selu, selu_grad, "SELU", kinks=(0.0,), source="klambauer2017self"
    ),
    "gelu": CatalogueEntry("GELU", "x·Φ(x)", gelu, gelu_grad, "GELU", source="hendrycks2016gaussian"),
    "gelu_tanh": CatalogueEntry(
        "GELU (tanh)",
        "x/2·(1 + tanh(√(2/π)·(x + 0.044715x³)))",
        _bound(gelu, approximate="tanh"),
        _bound(gelu_grad, approximate="tanh"),
        "GELU",
        {"approximate": "tanh"},
        source="hendrycks2016gaussian",
    ),
    "silu": CatalogueEntry("SiLU (Swish)", "x·σ(x)", silu, silu_grad, "SiLU", source="ramachandran2017searching"),
    "softplus": CatalogueEntry("Softplus", "log(1 + eˣ)", softplus, softplus_grad, "Softplus", source="glorot2011deep"),
    "mish": CatalogueEntry("Mish", "x·tanh(softplus(x))", mish, mish_grad, "Mish", source="misra2019mish"),
    "relu6": CatalogueEntry(
        "ReLU6", "min(max(0, x), 6)", relu6, relu6_grad, "ReLU6", kinks=(0.0, 6.0), source="krizhevsky2010convolutional"
    ),
}

#: The NumPy pairs (function, derivative) by name, with their parameters free: every
#: catalogue entry that binds none, and Swish, whose ``beta`` no PyTorch layer takes.
ACTIVATIONS: dict[str, tuple[Activation, Activation]] = {
    **{name: (entry.function, entry.derivative) for name, entry in CATALOGUE.items() if not entry.binds_a_parameter},
    "swish": (swish, swish_grad),
}
