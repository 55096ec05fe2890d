"""Diagnostics with hooks, checked on networks whose answers are known by construction."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from relu_course.diagnostics import activation_layers, activation_statistics, dead_units, gradient_norms
from relu_course.networks import mlp
from tests.package.known_networks import INPUTS, network_with_known_units


def test_activation_layers_finds_activations_in_order():
    model = mlp([2, 4, 4, 1], activation="tanh")
    assert [name for name, _ in activation_layers(model)] == ["1", "3"]


def test_activation_statistics_on_known_outputs():
    (record,) = activation_statistics(network_with_known_units(), INPUTS)
    outputs = torch.relu(INPUTS @ torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]]) + torch.tensor([0.0, -5.0, 0.0]))
    assert record.layer == "1"
    assert record.fraction_zero == pytest.approx((outputs == 0).float().mean().item())
    assert record.mean == pytest.approx(outputs.mean().item())
    assert record.std == pytest.approx(outputs.std().item())


def test_dead_units_counts_the_unit_that_is_always_off():
    (report,) = dead_units(network_with_known_units(), INPUTS)
    assert (report.layer, report.units, report.dead) == ("1", 3, 1)
    assert report.fraction == pytest.approx(1 / 3)
    # Unit 0 is off for the last two inputs only: not dead on the whole batch.
    (on_two_inputs,) = dead_units(network_with_known_units(), INPUTS[2:])
    assert on_two_inputs.dead == 2


def test_dead_units_sees_inputs_of_an_inplace_relu():
    model = network_with_known_units()
    model[1] = nn.ReLU(inplace=True)
    assert dead_units(model, INPUTS)[0].dead == 1


def test_half_of_relu_outputs_are_zero_at_init():
    model = mlp([100, 400, 400, 1], init="he", seed=0)
    stats = activation_statistics(model, torch.randn(256, 100, generator=torch.Generator().manual_seed(0)))
    for record in stats:
        assert record.fraction_zero == pytest.approx(0.5, abs=0.05)


def test_gradient_norms_match_autograd_and_leave_no_grad_behind():
    model = mlp([3, 5, 2], seed=0)
    inputs, targets = torch.randn(8, 3), torch.randn(8, 2)
    records = gradient_norms(model, inputs, targets)
    assert [record.layer for record in records] == ["0", "2"]
    assert all(parameter.grad is None for parameter in model.parameters())

    model(inputs).sub(targets).pow(2).mean().backward()
    assert records[0].weight == pytest.approx(model[0].weight.grad.norm().item())
    assert records[1].weight == pytest.approx(model[2].weight.grad.norm().item())
    prediction = model(inputs)
    expected_output_grad = 2 * (prediction - targets) / prediction.numel()
    assert records[1].output == pytest.approx(expected_output_grad.norm().item())


def test_gradient_norms_cross_entropy():
    model = mlp([2, 4, 3], seed=0)
    records = gradient_norms(model, torch.randn(6, 2), torch.tensor([0, 1, 2, 0, 1, 2]), loss="cross_entropy")
    assert len(records) == 2 and all(record.weight > 0 for record in records)


def test_errors_are_clear():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        dead_units("model", INPUTS)
    with pytest.raises(ValueError, match="no activation layers"):
        activation_statistics(nn.Linear(2, 2), INPUTS)
    with pytest.raises(TypeError, match="torch.Tensor"):
        dead_units(network_with_known_units(), [[1.0, 2.0]])
    with pytest.raises(ValueError, match="loss must be one of"):
        gradient_norms(mlp([2, 1]), INPUTS, torch.zeros(4, 1), loss="l2")


def test_dead_units_refuses_nan_pre_activations():
    model = network_with_known_units()
    with torch.no_grad():
        model[0].weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN pre-activations"):
        dead_units(model, INPUTS)


def test_recording_leaves_batch_norm_statistics_alone():
    from relu_course.diagnostics import activation_inputs, activation_outputs

    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 1))
    model.train()
    before = {name: buffer.clone() for name, buffer in model.named_buffers()}
    ((name, pre),) = activation_inputs(model, INPUTS)
    ((_, post),) = activation_outputs(model, INPUTS)
    assert name == "2" and torch.equal(post, torch.relu(pre))
    for key, buffer in model.named_buffers():
        assert torch.equal(buffer, before[key]), key
