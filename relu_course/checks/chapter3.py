"""Checks for the exercises of Chapter 3, why ReLU trains deep networks.

``he_normal`` checks He initialization written by hand; ``rms_per_layer`` and
``output_gradient_norms`` per-layer measurements taken with hooks.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import torch
from torch import nn

from relu_course import diagnostics, networks
from relu_course.checks._engine import (
    _as_float,
    _as_list,
    _call,
    _check_model_left_alone,
    _close,
    _Failed,
    _kind,
    _run_function_check,
    _snapshot,
)
from relu_course.hooks import layer_values


def _statistics(values: torch.Tensor) -> tuple[float, float, float]:
    """Mean, standard deviation and excess kurtosis of all entries."""
    flat = values.detach().double().ravel()
    mean = flat.mean().item()
    std = flat.std().item()
    kurtosis = (((flat - mean) / std) ** 4).mean().item() - 3.0 if std > 0 else math.nan
    return mean, std, kurtosis


def _std_hint(std: float, fan_in: int, fan_out: int) -> str:
    """Name the formula a wrong standard deviation most likely came from."""
    candidates = {
        "sqrt(2 / fan_out): you used fan_out; fan_in is in_features, weight.shape[1]": math.sqrt(2 / fan_out),
        "sqrt(2 / (fan_in + fan_out)), Xavier (Glorot) initialization": math.sqrt(2 / (fan_in + fan_out)),
        "sqrt(1 / (3 fan_in)), nn.Linear's default": math.sqrt(1 / (3 * fan_in)),
        "sqrt(1 / fan_in), without He's factor 2": math.sqrt(1 / fan_in),
        "2 / fan_in: that is the variance; the standard deviation is its square root": 2 / fan_in,
    }
    for name, value in candidates.items():
        if abs(std / value - 1) < 0.05:
            return f"Hint: that is {name}."
    return "Hint: He initialization draws W from N(0, 2 / fan_in): standard deviation sqrt(2 / fan_in)."


_HE_LAYER_SIZES = ((200, 100), (32, 512), (500, 50))  # (fan_in, fan_out) of the hidden layers


def he_normal(initializer: Callable[[nn.Linear], nn.Linear]) -> bool:
    """Check He (Kaiming) normal initialization of a linear layer, written by hand.

    The task: ``he_normal_(layer)`` redraws ``layer.weight`` in place from
    N(0, 2 / fan_in), with fan_in = ``layer.in_features``, sets ``layer.bias`` to 0, and
    returns the layer. The checks are statistical, on layers with 16,000 weights or
    more: standard deviation within 5 % of sqrt(2 / fan_in), mean near 0, and the bell
    shape of a normal distribution (excess kurtosis near 0; a uniform one has -1.2).
    """
    return _run_function_check("he_normal", initializer, _check_he_layers)


def _check_he_layers(initializer: Callable[..., object]) -> str:
    """Every hidden layer initialized right; the summary line."""
    for fan_in, fan_out in _HE_LAYER_SIZES:
        _check_he_layer(initializer, fan_in, fan_out)
    return (
        f"all {len(_HE_LAYER_SIZES)} hidden layers passed (std sqrt(2 / fan_in) within 5 %, mean 0, normal "
        "shape, bias 0, in place)."
    )


def _check_he_layer(initializer: Callable[..., object], fan_in: int, fan_out: int) -> None:
    """One ``nn.Linear(fan_in, fan_out)``: changed in place and returned, weights He-normal, bias 0."""
    torch.manual_seed(fan_in)
    layer = nn.Linear(fan_in, fan_out)
    where = f"for nn.Linear({fan_in}, {fan_out})"
    result = _call(initializer, layer, where=where)
    if result is None:
        raise _Failed(f"returned None {where}: end with `return layer`.")
    if result is not layer:
        raise _Failed(f"returned {_kind(result)} {where}; change the layer in place and return it.")
    weight = layer.weight
    if not isinstance(weight, nn.Parameter) or tuple(weight.shape) != (fan_out, fan_in):
        raise _Failed(
            f"{where} layer.weight is now {_kind(weight)}; it must stay an nn.Parameter of "
            f"shape ({fan_out}, {fan_in}). Write into it with torch.no_grad() and .normal_()."
        )
    if not weight.requires_grad:
        raise _Failed(f"{where} layer.weight no longer requires grad; training could not update it.")
    _check_he_weights(weight, fan_in, fan_out, where)
    if layer.bias is None or not torch.equal(layer.bias.detach(), torch.zeros(fan_out)):
        raise _Failed(f"{where} the bias is not all zeros; He initialization sets it to 0.")


def _check_he_weights(weight: torch.Tensor, fan_in: int, fan_out: int, where: str) -> None:
    """Finite weights with standard deviation sqrt(2 / fan_in) (within 5 %), mean 0, normally distributed."""
    if not torch.isfinite(weight).all():
        raise _Failed(f"{where} the weights contain NaN or inf.")
    mean, std, kurtosis = _statistics(weight)
    target = math.sqrt(2 / fan_in)
    if abs(std / target - 1) > 0.05:
        raise _Failed(
            f"{where} the weights' standard deviation is {std:.4g}; expected sqrt(2 / "
            f"fan_in) = {target:.4g} with fan_in = {fan_in}. {_std_hint(std, fan_in, fan_out)}"
        )
    if abs(mean) > 5 * target / math.sqrt(weight.numel()):
        raise _Failed(f"{where} the weights' mean is {mean:.3g}; expected 0 (within sampling noise).")
    if abs(kurtosis) > 0.3:
        raise _Failed(
            f"{where} the weights do not look normally distributed (excess kurtosis "
            f"{kurtosis:.2f}, expected about 0; a uniform distribution gives -1.2). "
            "Hint: draw from a normal distribution, e.g. weight.normal_(0, std)."
        )


def _layer_models() -> list[tuple[str, nn.Module, torch.Tensor, torch.Tensor]]:
    """Small models, inputs and MSE targets for the hook-based checks of Chapter 3."""
    generator = torch.Generator().manual_seed(3)
    torch.manual_seed(11)
    inplace = nn.Sequential(
        nn.Linear(5, 6), nn.ReLU(inplace=True), nn.Linear(6, 6), nn.ReLU(inplace=True), nn.Linear(6, 2)
    )
    nested = nn.Sequential(nn.Sequential(nn.Linear(4, 7), nn.ReLU()), nn.Linear(7, 3))
    models = [
        ("networks.mlp([8, 16, 16, 4])", networks.mlp([8, 16, 16, 4], seed=1), 8, 4),
        ("an MLP with ReLU(inplace=True)", inplace, 5, 2),
        ("a nested nn.Sequential", nested, 4, 3),
        (
            "networks.mlp([3, 5, 5, 5, 1], activation='sigmoid')",
            networks.mlp([3, 5, 5, 5, 1], activation="sigmoid", seed=2),
            3,
            1,
        ),
    ]
    return [
        (name, model, torch.randn(32, width_in, generator=generator), torch.randn(32, width_out, generator=generator))
        for name, model, width_in, width_out in models
    ]


def _rms_reference(model: nn.Module, inputs: torch.Tensor) -> list[float]:
    """The root mean square of each ``nn.Linear`` output of ``model`` on ``inputs``, in ``modules()`` order."""
    linears = [(name, module) for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    return [output.double().pow(2).mean().sqrt().item() for _, output in layer_values(model, inputs, linears)]


def _output_gradient_norms_reference(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> list[float]:
    """The norm of d MSE loss / d output of each ``nn.Linear`` of ``model``, from :mod:`relu_course.diagnostics`."""
    return [record.output for record in diagnostics.gradient_norms(model, inputs, targets)]


def _check_linear_layer_values(
    function: Callable[..., object],
    name: str,
    model: nn.Module,
    tensors: tuple[torch.Tensor, ...],
    reference: Callable[..., list[float]],
    atol: float,
    hint: str,
) -> None:
    """One hidden model: ``function(model, *tensors)`` gives one float per ``nn.Linear``, as ``reference`` does.

    The learner's code gets copies of ``tensors``; ``reference`` gets a copy of the model taken
    before the call, and the tensors. Values must agree to a relative 1e-4 (plus ``atol``); the
    model must have no hooks left and its parameters unchanged.
    """
    where = f"for {name} on inputs of shape {tuple(tensors[0].shape)}"
    twin, before = copy.deepcopy(model), _snapshot(model)
    result = _call(function, model, *(tensor.clone() for tensor in tensors), where=where)
    _check_model_left_alone(model, before, where)
    expected = reference(twin, *tensors)
    values = _as_list(result, len(expected), where, "numbers")
    for index, (value, want) in enumerate(zip(values, expected)):
        got = _as_float(value, f"for Linear layer {index} {where}", "a float")
        if not _close(got, want, 1e-4, atol):
            raise _Failed(f"Linear layer {index} {where}: expected {want:.6g}, got {got:.6g}. Hint: {hint}")


def _rms_hint(name: str) -> str:
    """The hint for a wrong root mean square on the hidden model called ``name``."""
    if "inplace" in name:
        return (
            "if you kept the output tensor and measured it later, an in-place ReLU had already overwritten "
            "it: compute the number inside the hook (or keep output.detach().clone())."
        )
    return "the root mean square of z is z.pow(2).mean().sqrt(), over the whole batch."


_OUTPUT_GRADIENT_HINT = (
    "use the mean squared error F.mse_loss(model(inputs), targets), and measure the gradient "
    "of the layer's output (a tensor hook registered in a forward hook), not of its weight."
)


def rms_per_layer(function: Callable[[nn.Module, torch.Tensor], list]) -> bool:
    """Check a per-layer measurement of the activation scale, taken with forward hooks.

    The task: ``rms_per_layer(model, inputs)`` returns a list with, for every
    ``nn.Linear`` in ``model.modules()`` order, the root mean square sqrt(mean(z²)) of
    its output z on ``inputs``, as floats. It must leave no hooks on the model and must
    not change its parameters; it must work when an in-place ReLU follows a layer.
    """
    return _run_function_check("rms_per_layer", function, _check_rms_per_layer)


def _check_rms_per_layer(function: Callable[..., object]) -> str:
    """Every hidden model measured right; the summary line."""
    cases = _layer_models()
    for name, model, inputs, _ in cases:
        _check_linear_layer_values(function, name, model, (inputs,), _rms_reference, 0.0, _rms_hint(name))
    return f"all {len(cases)} hidden models passed (in-place ReLU, nested Sequential, sigmoid), no hooks left."


def output_gradient_norms(function: Callable[[nn.Module, torch.Tensor, torch.Tensor], list]) -> bool:
    """Check per-layer gradient norms at the layers' outputs, taken with hooks.

    The task: ``output_gradient_norms(model, inputs, targets)`` does one forward pass,
    the mean squared error loss ``F.mse_loss(model(inputs), targets)`` and one backward
    pass, and returns, for every ``nn.Linear`` in ``model.modules()`` order, the
    Euclidean norm of d loss / d output of that layer, as floats. It leaves no hooks and
    does not change the parameters.
    """
    return _run_function_check("output_gradient_norms", function, _check_output_gradient_norms)


def _check_output_gradient_norms(function: Callable[..., object]) -> str:
    """Every hidden model but the one with in-place ReLUs measured right; the summary line."""
    cases = [case for case in _layer_models() if "inplace" not in case[0]]
    for name, model, inputs, targets in cases:
        _check_linear_layer_values(
            function, name, model, (inputs, targets), _output_gradient_norms_reference, 1e-12, _OUTPUT_GRADIENT_HINT
        )
    return f"all {len(cases)} hidden models passed (nested Sequential, sigmoid), no hooks left."
