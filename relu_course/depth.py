"""Signals and gradients through depth: how deep networks start, and which ones learn.

The functions measure, layer by layer, what a deep network does to its inputs at
initialization (scale of the activations, how much of it still depends on the input,
which units are on) and how the gradient shrinks or grows on the way back. They are
the measurements of Chapter 3.

Notation: a network has hidden layers l = 1, ..., L. Layer l computes the
pre-activation z_l = W_l h_{l-1} + b_l and the activation h_l = phi(z_l), with h_0 = x.
For a ReLU layer whose weights have variance v and mean 0, and biases 0,

    E[z_l**2] = fan_in * v * E[h_{l-1}**2] = fan_in * v / 2 * E[z_{l-1}**2],

because E[relu(z)**2] = E[z**2] / 2 for z symmetric around 0. ``relu_signal_gain``
computes the factor fan_in * v / 2.

The last section gives the same network's infinitely wide limit (Chapter 8): how the
cosine similarity of two inputs changes from layer to layer (``relu_kernel_map``).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from relu_course import diagnostics
from relu_course._validation import as_real_array, choice, positive_number, whole_number
from relu_course.diagnostics import gradient_norms

__all__ = [
    "active_fraction_per_input",
    "gradient_profile",
    "input_similarity",
    "input_spread",
    "kernel_input_similarity",
    "per_layer_factor",
    "relu_kernel_map",
    "relu_kernel_through_depth",
    "relu_signal_gain",
    "units_on_for_every_input",
]


# --------------------------------------------------------------------------- signal through depth


def relu_signal_gain(weight_variance: float, fan_in: int) -> float:
    """Factor by which one ReLU layer multiplies the mean square of the pre-activations.

    Used in: Chapter 3 (§3.2, §3.3); Chapter 6 (§6.4); Chapter 8 (§8.2).

    gain = fan_in * weight_variance / 2, from E[z_l**2] = fan_in * v * E[relu(z_{l-1})**2]
    and E[relu(z)**2] = E[z**2] / 2 (weights of mean 0, biases 0). After L layers the
    mean square is multiplied by gain**L and the root mean square by gain**(L / 2).
    He initialization (v = 2 / fan_in) is the choice that makes gain = 1. Here v =
    ``weight_variance`` (> 0) and ``fan_in`` is the layer's number of inputs (>= 1).
    """
    variance = positive_number(weight_variance, "weight_variance")
    return whole_number(fan_in, "fan_in", minimum=1) * variance / 2.0


# --------------------------------------------------------------------------- looking inside


def _outputs(model: nn.Module, inputs: torch.Tensor) -> list[torch.Tensor]:
    """The output h_l of every activation layer, in forward order (``diagnostics.activation_outputs``)."""
    return [outputs for _, outputs in diagnostics.activation_outputs(model, inputs)]


def input_spread(model: nn.Module, inputs: torch.Tensor) -> np.ndarray:
    """How much each layer's output still depends on the input.

    Used in: Chapter 3 (§3.3).

    For every unit, the standard deviation of its output over the inputs; then the
    mean over the units. A unit whose output is the same for every input has spread 0,
    whatever its value.

    Returns
    -------
    ndarray, shape (L,)
    """
    spreads = []
    for output in _outputs(model, inputs):
        per_unit = output.double().reshape(len(output), -1)
        spreads.append(per_unit.std(dim=0, unbiased=False).mean().item())
    return np.array(spreads)


def input_similarity(model: nn.Module, inputs: torch.Tensor) -> np.ndarray:
    """How alike each layer's outputs are for different inputs: the mean cosine similarity.

    Used in: Chapter 3 (§3.5); Chapter 8 (§8.6).

    For layer l, cos(h_l(x_i), h_l(x_j)) = h_l(x_i) . h_l(x_j) / (norm(h_l(x_i)) norm(h_l(x_j))),
    averaged over all pairs i != j of inputs whose output is not the zero vector
    (a zero vector has no direction). 1 means every input is mapped to the same
    direction.

    Returns
    -------
    ndarray, shape (L,)
        NaN for a layer where fewer than two inputs have a non-zero output.
    """
    similarities = []
    for output in _outputs(model, inputs):
        rows = output.double().reshape(len(output), -1)
        norms = rows.norm(dim=1)
        kept = norms > 0
        count = int(kept.sum())
        if count < 2:
            similarities.append(math.nan)
            continue
        unit_rows = rows[kept] / norms[kept, None]
        gram = unit_rows @ unit_rows.T
        similarities.append(((gram.sum() - gram.diagonal().sum()) / (count * (count - 1))).item())
    return np.array(similarities)


def active_fraction_per_input(model: nn.Module, inputs: torch.Tensor) -> np.ndarray:
    """For each layer and each input, the fraction of units that are on (output > 0).

    Used in: Chapter 3 (§3.5).

    Returns
    -------
    ndarray, shape (L, n)
        Entry [l, i] is the fraction of layer l + 1's units with h > 0 for input i.
    """
    outputs = _outputs(model, inputs)
    return torch.stack([(out.reshape(len(out), -1) > 0).double().mean(dim=1) for out in outputs]).numpy()


def units_on_for_every_input(model: nn.Module, inputs: torch.Tensor) -> np.ndarray:
    """Per layer, the fraction of units whose output is > 0 for every input.

    Used in: Chapter 3 (§3.5).

    The counterpart of ``diagnostics.dead_units`` (off for every input). A ReLU unit
    that is on for every input acts as a linear unit on this data.

    Returns
    -------
    ndarray, shape (L,)
    """
    outputs = _outputs(model, inputs)
    return np.array([(out.reshape(len(out), -1) > 0).all(dim=0).double().mean().item() for out in outputs])


# --------------------------------------------------------------------------- gradients


def gradient_profile(
    model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *, loss: str = "mse", kind: str = "output"
) -> np.ndarray:
    """Gradient norms of every Linear layer, from the first to the last, as an array.

    Used in: Chapter 3 (§3.2); Chapter 6 (§6.2).

    A thin wrapper of ``diagnostics.gradient_norms``: one forward and backward pass;
    the model is not changed.

    Parameters
    ----------
    model, inputs, targets, loss
        As for ``diagnostics.gradient_norms``.
    kind : {"output", "weight"}, default "output"
        ``"output"``: the norm of dL/dz_l, the gradient that backpropagation passes
        down at each layer's output (pre-activation). ``"weight"``: the norm of dL/dW_l.

    Returns
    -------
    ndarray, shape (number of Linear layers,)
    """
    kind = choice(kind, "kind", ("output", "weight"))
    return np.array([getattr(record, kind) for record in gradient_norms(model, inputs, targets, loss=loss)])


def per_layer_factor(values: np.ndarray) -> float:
    """The average factor from one layer to the next, fitted on a log scale.

    Used in: Chapter 3 (§3.2, §3.3).

    Fits log(values[l]) = a + l * log(r) by least squares and returns r. For a
    geometric sequence c * r**l it returns r exactly (up to rounding).

    Parameters
    ----------
    values : array_like, shape (m,)
        Positive, finite, m >= 2, e.g. a quantity measured at layers 1, ..., m.

    Returns
    -------
    float
        r > 0.
    """
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or len(array) < 2:
        raise ValueError(f"values must be a 1-D sequence of at least 2 numbers, got shape {array.shape}.")
    if not np.all(np.isfinite(array)) or np.any(array <= 0):
        raise ValueError("values must be finite and > 0 to fit on a log scale.")
    slope = np.polyfit(np.arange(len(array)), np.log(array), deg=1)[0]
    return float(math.exp(slope))


# --------------------------------------------------------------------------- helpers


# --------------------------------------------------------------------------- the infinitely wide limit

_CORRELATION_SLACK = 1e-9  # how far outside [-1, 1] rounding may push a correlation


def relu_kernel_map(rho: ArrayLike) -> np.ndarray:
    """The correlation of two inputs after one ReLU layer, from their correlation before it.

    Used in: Chapter 8 (§8.6).

    The formula, the arc-cosine kernel of degree 1 (Cho & Saul, 2009), normalized::

        k(rho) = (sqrt(1 - rho^2) + (pi - arccos(rho)) * rho) / pi

    If u and v are standard normal with correlation rho, then
    E[relu(u) relu(v)] = k(rho) / 2 and E[relu(u)^2] = E[relu(v)^2] = 1 / 2, so k(rho)
    is the cosine similarity of the outputs of an infinitely wide ReLU layer whose
    pre-activations have correlation rho for the two inputs. With weights of mean 0 and
    biases 0, the next layer's pre-activations have a correlation equal to that cosine,
    so the map repeats layer after layer (``relu_kernel_through_depth``); the first
    layer's correlation is the cosine of the two inputs.

    k(1) = 1, k(0) = 1 / pi, k(-1) = 0; k is increasing, with slope
    k'(rho) = 1 - arccos(rho) / pi, and k(rho) >= rho, with equality only at rho = 1.

    Parameters
    ----------
    rho : array_like
        Correlations in [-1, 1], any shape. Values outside by at most 1e-9 (rounding)
        are clipped to the interval; values further out raise a ``ValueError``.

    Returns
    -------
    ndarray of float64, the shape of ``rho``
        k(rho); exactly 1.0 at rho = 1 and exactly 0.0 at rho = -1.
    """
    values, _ = as_real_array(rho, "rho")
    if np.any(np.isnan(values)) or np.any(np.abs(values) > 1 + _CORRELATION_SLACK):
        raise ValueError("rho must hold correlations in [-1, 1].")
    values = np.clip(values, -1.0, 1.0)
    result = (np.sqrt(1.0 - values * values) + (math.pi - np.arccos(values)) * values) / math.pi
    result = np.where(values == 1.0, 1.0, np.where(values == -1.0, 0.0, result))
    return np.asarray(result, dtype=np.float64)


def relu_kernel_through_depth(rho: ArrayLike, layers: int) -> np.ndarray:
    """The correlation of two inputs after 1, 2, ..., ``layers`` ReLU layers.

    Used in: Chapter 8 (§8.6).

    Applies ``relu_kernel_map`` again and again, the infinitely wide limit of a ReLU
    network with weights of mean 0 and biases 0::

        rho_0 = rho,  rho_l = k(rho_{l-1})  for l = 1, ..., layers

    Parameters
    ----------
    rho : array_like
        The correlations of the first layer's pre-activations, in [-1, 1], any shape: for
        the first layer of a network, the cosines of pairs of inputs.
    layers : int
        Number of layers, >= 1.

    Returns
    -------
    ndarray of float64, shape ``(layers,) + rho.shape``
        Row l - 1 holds rho_l, the cosine similarity of the outputs of layer l (the
        indexing of ``input_similarity``).
    """
    layers = whole_number(layers, "layers", minimum=1)
    current = relu_kernel_map(rho)
    rows = [current]
    for _ in range(layers - 1):
        current = relu_kernel_map(current)
        rows.append(current)
    return np.stack(rows)


def kernel_input_similarity(inputs: torch.Tensor, layers: int) -> np.ndarray:
    """What ``input_similarity`` gives for an infinitely wide ReLU network, per layer.

    Used in: Chapter 8 (§8.6).

    For every pair i != j of non-zero inputs, the cosine cos(x_i, x_j) is the
    correlation of the first layer's pre-activations; ``relu_kernel_through_depth``
    carries it through the layers, and the result for layer l is the mean over the pairs::

        mean over i != j of k(k(...k(cos(x_i, x_j))...))   (k applied l times)

    This is the limit, as every hidden layer gets wider, of ``input_similarity`` for a
    network of Linear layers with weights of mean 0 and biases 0 and ReLU activations
    (e.g. ``networks.deep_mlp(..., init="he")``), at any weight variance. The mean is
    taken over the pairs, not inside k: k is not linear, so k(mean) would differ.
    Cost: one evaluation of k per pair and layer, n (n - 1) / 2 pairs for n inputs.

    Parameters
    ----------
    inputs : Tensor, shape (n, ...)
        At least two inputs that are not the zero vector (a zero vector has no
        direction and is left out, as ``input_similarity`` leaves out zero outputs).
    layers : int
        Number of hidden layers, >= 1.

    Returns
    -------
    ndarray, shape (layers,)
    """
    if not isinstance(inputs, torch.Tensor):
        raise TypeError(f"inputs must be a torch.Tensor, got {type(inputs).__name__}.")
    layers = whole_number(layers, "layers", minimum=1)
    rows = inputs.detach().cpu().double().reshape(len(inputs), -1)
    norms = rows.norm(dim=1)
    kept = norms > 0
    count = int(kept.sum())
    if count < 2:
        raise ValueError(f"need at least two inputs that are not the zero vector, got {count}.")
    unit_rows = rows[kept] / norms[kept, None]
    first, second = np.triu_indices(count, k=1)  # each pair once: cos is symmetric
    correlation = (unit_rows @ unit_rows.T).numpy()[first, second]
    similarities = []
    for _ in range(layers):
        correlation = relu_kernel_map(correlation)
        similarities.append(correlation.mean())
    return np.array(similarities)
