"""Looking inside a network with hooks: activation statistics, gradient norms, dead units.

Each function runs the model on data you give it, records what each layer does
through forward or backward hooks (``relu_course.hooks``), removes the hooks, and returns
one record per layer. The arguments are the same throughout: ``model``, an ``nn.Module``
with activation modules (ReLU, Tanh, ...; see ``activation_layers``), and ``inputs``, a
tensor of shape (n, ...) that the model accepts. Each record names its layer by the
module's name in the model (``"1"`` for ``model[1]``, as ``model.named_modules()``
says). For dead units pass all the data, or a large sample of it: a unit off for one
batch may be on for another input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from relu_course.hooks import layer_values, removed_after
from relu_course.networks import ACTIVATION_TYPES
from relu_course.training import loss_function

__all__ = [
    "DeadUnits",
    "GradientNorms",
    "LayerActivity",
    "activation_inputs",
    "activation_layers",
    "activation_outputs",
    "activation_statistics",
    "dead_units",
    "gradient_norms",
    "off_fractions",
]


def activation_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The activation modules of ``model`` (ReLU, Tanh, ...), as (name, module), in order."""
    _check_model(model)
    return [(name, module) for name, module in model.named_modules() if isinstance(module, ACTIVATION_TYPES)]


@dataclass(frozen=True)
class LayerActivity:
    """What one activation layer outputs over a batch.

    Attributes
    ----------
    fraction_zero : float
        Fraction of outputs that are exactly 0.
    mean, std : float
        Mean and standard deviation of all outputs.
    """

    layer: str
    fraction_zero: float
    mean: float
    std: float


def activation_statistics(model: nn.Module, inputs: torch.Tensor) -> list[LayerActivity]:
    """Run ``inputs`` through ``model`` and summarise every activation layer's output.

    Returns
    -------
    list of LayerActivity
        One per activation layer, in forward order.
    """
    outputs = activation_outputs(model, inputs)
    return [
        LayerActivity(
            layer=name,
            fraction_zero=(output == 0).float().mean().item(),
            mean=output.mean().item(),
            std=output.std().item(),
        )
        for name, output in outputs
    ]


@dataclass(frozen=True)
class DeadUnits:
    """Units of one activation layer that are off for every input.

    Attributes
    ----------
    units : int
        Units in the layer (features per example; channels x positions for a CNN).
    dead : int
        Units whose pre-activation is <= 0 for every input of the data.
    """

    layer: str
    units: int
    dead: int

    @property
    def fraction(self) -> float:
        """dead / units."""
        return self.dead / self.units


def off_fractions(model: nn.Module, inputs: torch.Tensor) -> dict[str, torch.Tensor]:
    """For every unit of every activation layer, the fraction of inputs for which it is off.

    Unit j of a layer is off for input x when its pre-activation z_j(x) <= 0:

        off_j = (1 / n) * #{ i : z_j(x_i) <= 0 }.

    off_j = 1 means the unit is dead on these inputs (``dead_units`` counts
    those); off_j = 0 means it is on for every input.

    Returns
    -------
    dict of str -> Tensor of float64, shape (units,)
        Keyed by the activation module's name, in forward order. A unit's entry is
        NaN when one of its pre-activations is NaN (the network has diverged).
    """
    fractions = {}
    for name, pre in activation_inputs(model, inputs):
        per_unit = pre.reshape(pre.shape[0], -1).double()
        off = (per_unit <= 0).double().mean(dim=0)
        fractions[name] = torch.where(torch.isnan(per_unit).any(dim=0), torch.nan, off)
    return fractions


def dead_units(model: nn.Module, inputs: torch.Tensor) -> list[DeadUnits]:
    """Count, per activation layer, the units whose input is <= 0 for every example.

    For ReLU such a unit outputs 0 on the whole dataset and gets zero gradient from
    every example: it is dead. Pass the whole dataset (or a large sample of it): a unit
    off for this batch may switch on for another input.

    Returns
    -------
    list of DeadUnits
        One per activation layer, in forward order.

    Raises
    ------
    ValueError
        If a layer's pre-activations contain NaN (a diverged network).
    """
    reports = []
    for name, off in off_fractions(model, inputs).items():
        if torch.isnan(off).any():
            raise ValueError(
                f"layer {name!r} has NaN pre-activations (has training diverged?): "
                "a unit cannot be called dead or alive there."
            )
        reports.append(DeadUnits(layer=name, units=off.numel(), dead=int((off == 1).sum())))
    return reports


@dataclass(frozen=True)
class GradientNorms:
    """Gradient sizes at one Linear (or convolution) layer after one backward pass.

    Attributes
    ----------
    weight : float
        Euclidean norm of the loss's gradient with respect to the layer's weight.
    output : float
        Euclidean norm of the loss's gradient with respect to the layer's output,
        recorded by a hook on that output tensor during backward.
    """

    layer: str
    weight: float
    output: float


def gradient_norms(
    model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, loss: str = "mse"
) -> list[GradientNorms]:
    """Do one forward and backward pass and report the gradient norm at every layer with weights.

    The model's parameters are not changed; their ``.grad`` is reset to None afterwards.

    Parameters
    ----------
    model : nn.Module
    inputs : Tensor, shape (n, ...)
    targets : Tensor
        As for the loss: shape (n, outputs) for ``"mse"``, class indices (n,) for
        ``"cross_entropy"``.
    loss : {"mse", "cross_entropy"}, default "mse"

    Returns
    -------
    list of GradientNorms
        One per layer that has a ``weight`` (Linear, Conv), from input to output.
    """
    _check_model(model)
    compute_loss = loss_function(loss)
    layers = [(name, module) for name, module in model.named_modules() if _has_weight(module)]
    output_norms: dict[str, float] = {}
    hooks = [module.register_forward_hook(_output_grad_recorder(name, output_norms)) for name, module in layers]
    try:
        with removed_after(hooks):
            model.zero_grad(set_to_none=True)
            compute_loss(model(inputs), targets).backward()
        return [
            GradientNorms(layer=name, weight=module.weight.grad.norm().item(), output=output_norms[name])
            for name, module in layers
        ]
    finally:
        model.zero_grad(set_to_none=True)


def _has_weight(module: nn.Module) -> bool:
    return not list(module.children()) and isinstance(getattr(module, "weight", None), torch.Tensor)


def _output_grad_recorder(name: str, norms: dict[str, float]) -> Callable[..., None]:
    """A forward hook that hooks the layer's output tensor, to catch its gradient in backward."""

    def record_gradient(gradient: torch.Tensor) -> None:
        norms[name] = gradient.norm().item()

    def hook_output(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        output.register_hook(record_gradient)

    return hook_output


def _check_model(model: object) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}.")


def activation_inputs(model: nn.Module, inputs: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
    """The input of every activation layer (its pre-activations), from one forward pass.

    Recorded by forward pre-hooks, before the activation runs, so an in-place ReLU
    does not hide them. The pass runs without gradients and leaves the model's
    buffers (batch-norm running statistics) as they were.

    Returns
    -------
    list of (str, Tensor)
        (layer name, pre-activations) per activation layer, in forward order; each
        tensor has the layer's input shape, (n, units) in an MLP.
    """
    return _record_activation_io(model, inputs, keep="input")


def activation_outputs(model: nn.Module, inputs: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
    """The output of every activation layer, from one forward pass.

    Like ``activation_inputs``, but recorded by forward hooks after each activation.

    Returns
    -------
    list of (str, Tensor)
        (layer name, outputs) per activation layer, in forward order.
    """
    return _record_activation_io(model, inputs, keep="output")


def _record_activation_io(model: nn.Module, inputs: torch.Tensor, keep: str) -> list[tuple[str, torch.Tensor]]:
    """Run the model once (no grad) and return each activation layer's input or output."""
    layers = activation_layers(model)
    if not layers:
        raise ValueError("the model has no activation layers (ReLU, Tanh, ...) to inspect.")
    return layer_values(model, inputs, layers, which=keep)
