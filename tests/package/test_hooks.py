"""The one hook recorder: what it records, in which order, and that it leaves nothing behind."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from relu_course.hooks import layer_values, removed_after


def small_model() -> nn.Sequential:
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(inplace=True), nn.BatchNorm1d(3), nn.Linear(3, 1))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
        model[0].bias.copy_(torch.tensor([0.0, -1.0, -3.0]))
    return model


X = torch.tensor([[1.0, 2.0], [-1.0, 0.5]])


def test_outputs_and_inputs_by_hand():
    model = small_model()
    linear_out = X @ model[0].weight.T + model[0].bias
    ((name, out),) = layer_values(model, X, [("0", model[0])])
    assert name == "0" and torch.equal(out, linear_out)
    ((_, relu_input),) = layer_values(model, X, [("1", model[1])], which="input")
    assert torch.equal(relu_input, linear_out)  # recorded before the in-place ReLU overwrote it
    assert relu_input.min() < 0


def test_order_is_the_order_the_layers_ran_and_values_are_detached_copies():
    model = small_model()
    names = [name for name, _ in layer_values(model, X, [("3", model[3]), ("0", model[0])])]
    assert names == ["0", "3"]
    values = layer_values(model, X, [("0", model[0])])
    assert not values[0][1].requires_grad


def test_buffers_and_hooks_are_left_as_they_were():
    model = small_model()
    running_mean = model[2].running_mean.clone()
    layer_values(model, X, list(model.named_children()))
    assert torch.equal(model[2].running_mean, running_mean)
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def test_hooks_are_removed_when_the_forward_pass_fails():
    model = small_model()
    with pytest.raises(RuntimeError):
        layer_values(model, torch.zeros(2, 5), [("0", model[0])])  # wrong input width
    assert not model[0]._forward_hooks


def test_removed_after_removes_on_error():
    layer = nn.Linear(2, 2)
    with pytest.raises(ZeroDivisionError), removed_after([layer.register_forward_hook(lambda *a: None)]):
        raise ZeroDivisionError
    assert not layer._forward_hooks


def test_bad_arguments():
    model = small_model()
    with pytest.raises(ValueError, match="which"):
        layer_values(model, X, [("0", model[0])], which="gradient")
    with pytest.raises(TypeError, match="torch.Tensor"):
        layer_values(model, [[1.0, 2.0]], [("0", model[0])])
