"""The checks of Chapter 3 (why ReLU trains deep networks) accept right answers and reject wrong ones, saying why.

The answers here are written independently of the solution notebooks.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from relu_course import checks
from tests.package.checks_helpers import assert_fails, assert_passes, he_normal_by_hand


def test_he_normal_accepts_right_answers(capsys):
    assert_passes(checks.he_normal, he_normal_by_hand, capsys)

    def with_torch_init(layer):
        nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        nn.init.zeros_(layer.bias)
        return layer

    def new_parameter(layer):
        std = math.sqrt(2.0 / layer.in_features)
        layer.weight = nn.Parameter(torch.randn(layer.out_features, layer.in_features) * std)
        layer.bias = nn.Parameter(torch.zeros(layer.out_features))
        return layer

    assert_passes(checks.he_normal, with_torch_init, capsys)
    assert_passes(checks.he_normal, new_parameter, capsys)


def _init_with(initializer, zero_bias=True):
    def initialize(layer):
        initializer(layer.weight)
        if zero_bias:
            nn.init.zeros_(layer.bias)
        return layer

    return initialize


def _without_return(layer):
    he_normal_by_hand(layer)


WRONG_HE = {
    "uniform": (_init_with(lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu")), ["kurtosis", "normal"]),
    "fan_out": (_init_with(lambda w: nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")), ["fan_out"]),
    "Xavier": (_init_with(nn.init.xavier_normal_), ["Xavier"]),
    "default": (lambda layer: layer, ["nn.Linear's default"]),
    "variance as std": (_init_with(lambda w: w.data.normal_(0, 2 / w.shape[1])), ["that is the variance"]),
    "bias left": (_init_with(lambda w: nn.init.kaiming_normal_(w), zero_bias=False), ["bias is not all zeros"]),
    "no return": (_without_return, ["returned None", "return layer"]),
    "returns the weight": (lambda layer: he_normal_by_hand(layer).weight, ["torch.Tensor", "return it"]),
    "plain tensor": (lambda layer: setattr(layer, "weight", torch.zeros(3)), ["raised TypeError"]),
}


@pytest.mark.parametrize("mistake", WRONG_HE)
def test_he_normal_rejects_wrong_answers(mistake, capsys):
    answer, phrases = WRONG_HE[mistake]
    assert_fails(checks.he_normal, answer, capsys, *phrases)


def rms_with_hooks(model, inputs):
    values = []
    handles = [
        m.register_forward_hook(lambda m, i, o: values.append(o.pow(2).mean().sqrt().item()))
        for m in model.modules()
        if isinstance(m, nn.Linear)
    ]
    try:
        with torch.no_grad():
            model(inputs)
    finally:
        for handle in handles:
            handle.remove()
    return values


def test_rms_per_layer_right_and_wrong(capsys):
    assert_passes(checks.rms_per_layer, rms_with_hooks, capsys)

    def measures_too_late(model, inputs):
        outputs = []
        handles = [
            m.register_forward_hook(lambda m, i, o: outputs.append(o))
            for m in model.modules()
            if isinstance(m, nn.Linear)
        ]
        with torch.no_grad():
            model(inputs)
        for handle in handles:
            handle.remove()
        return [output.pow(2).mean().sqrt().item() for output in outputs]

    def leaves_hooks(model, inputs):
        values = []
        for module in model.modules():
            if isinstance(module, nn.Linear):
                module.register_forward_hook(lambda m, i, o: values.append(o.pow(2).mean().sqrt().item()))
        with torch.no_grad():
            model(inputs)
        return values

    def standard_deviation(model, inputs):
        values = []
        handles = [
            m.register_forward_hook(lambda m, i, o: values.append(o.std().item()))
            for m in model.modules()
            if isinstance(m, nn.Linear)
        ]
        with torch.no_grad():
            model(inputs)
        for handle in handles:
            handle.remove()
        return values

    assert_fails(checks.rms_per_layer, measures_too_late, capsys, "inplace", "overwritten")
    assert_fails(checks.rms_per_layer, leaves_hooks, capsys, "left 3 hook(s)", "handle.remove()")
    assert_fails(checks.rms_per_layer, standard_deviation, capsys, "Linear layer 0", "z.pow(2).mean().sqrt()")
    assert_fails(checks.rms_per_layer, lambda model, inputs: [1.0], capsys, "list of 1 numbers", "expected 3")


def gradient_norms_with_tensor_hooks(model, inputs, targets):
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    norms = [0.0] * len(layers)

    def hook_for(index):
        def hook(module, layer_inputs, output):
            output.register_hook(lambda gradient: norms.__setitem__(index, gradient.norm().item()))

        return hook

    handles = [layer.register_forward_hook(hook_for(i)) for i, layer in enumerate(layers)]
    try:
        F.mse_loss(model(inputs), targets).backward()
    finally:
        for handle in handles:
            handle.remove()
    return norms


def test_output_gradient_norms_right_and_wrong(capsys):
    assert_passes(checks.output_gradient_norms, gradient_norms_with_tensor_hooks, capsys)

    def with_backward_hooks(model, inputs, targets):
        norms = []
        handles = [
            m.register_full_backward_hook(lambda m, gi, go: norms.append(go[0].norm().item()))
            for m in model.modules()
            if isinstance(m, nn.Linear)
        ]
        try:
            F.mse_loss(model(inputs), targets).backward()
        finally:
            for handle in handles:
                handle.remove()
        return norms[::-1]

    def weight_gradients(model, inputs, targets):
        F.mse_loss(model(inputs), targets).backward()
        return [m.weight.grad.norm().item() for m in model.modules() if isinstance(m, nn.Linear)]

    def summed_loss(model, inputs, targets):
        # The gradient of the summed squared error: numel times the mean's.
        return [value * targets.numel() for value in gradient_norms_with_tensor_hooks(model, inputs, targets)]

    assert_passes(checks.output_gradient_norms, with_backward_hooks, capsys)
    assert_fails(checks.output_gradient_norms, weight_gradients, capsys, "Linear layer 0", "not of its weight")
    assert_fails(checks.output_gradient_norms, summed_loss, capsys, "F.mse_loss")
