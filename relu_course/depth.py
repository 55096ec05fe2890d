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
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from relu_course import diagnostics
from relu_course._validation import choice, positive_number, whole_number
from relu_course.diagnostics import gradient_norms

__all__ = [
    "active_fraction_per_input",
    "gradient_profile",
    "input_similarity",
    "input_spread",
    "per_layer_factor",
    "relu_signal_gain",
    "units_on_for_every_input",
]


# --------------------------------------------------------------------------- signal through depth


def relu_signal_gain(weight_variance: float, fan_in: int) -> float:
    """Factor by which one ReLU layer multiplies the mean square of the pre-activations.

    Used in: Chapter 3 (§3.2, §3.3); Chapter 6 (§6.4).

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

    Used in: Chapter 3 (§3.5).

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
