"""Dead units: off fractions, the monitor, born-dead odds, network variations.

Answers are checked against networks built by hand, against diagnostics.dead_units,
against independent NumPy computations and against the exact formula.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from relu_course.dead_neurons import (
    DeadUnitMonitor,
    born_dead_probability,
    count_activation_patterns,
    dead_fractions,
    simulate_born_dead,
    with_activation,
)
from relu_course.diagnostics import dead_units, off_fractions
from relu_course.networks import mlp, set_hidden_biases, shift_hidden_biases, with_batch_norm
from relu_course.training import train
from tests.package.known_networks import INPUTS, network_with_known_units


def random_inputs(rows: int, columns: int, seed: int) -> torch.Tensor:
    return torch.randn(rows, columns, generator=torch.Generator().manual_seed(seed))


# --------------------------------------------------------------------------- off and dead fractions


def test_off_fractions_of_known_units():
    # Pre-activations: unit 0 = [1, -1, 2, -2], unit 1 = -5 always, unit 2 = [2, 2, -1, -3].
    ((name, off),) = off_fractions(network_with_known_units(), INPUTS).items()
    assert name == "1"
    assert off.dtype == torch.float64
    assert off.tolist() == [0.5, 1.0, 0.5]


def test_zero_pre_activation_counts_as_off():
    model = network_with_known_units()
    (off,) = off_fractions(model, torch.zeros(3, 2)).values()
    assert off.tolist() == [1.0, 1.0, 1.0]  # relu'(0) = 0: a unit at exactly 0 passes no gradient


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), shift=st.floats(-1.5, 0.5))
def test_dead_fractions_agree_with_the_detector(seed, shift):
    model = shift_hidden_biases(mlp([3, 6, 5, 2], seed=seed), shift)
    inputs = random_inputs(20, 3, seed)
    reports = dead_units(model, inputs)
    fractions = dead_fractions(model, inputs)
    assert list(fractions) == [report.layer for report in reports]
    for report in reports:
        assert fractions[report.layer] == report.fraction
    for report, off in zip(reports, off_fractions(model, inputs).values()):
        assert int((off == 1).sum()) == report.dead


def test_off_fractions_match_an_independent_computation():
    model = mlp([4, 7, 3], seed=5)
    inputs = random_inputs(50, 4, 1)
    with torch.no_grad():
        pre = inputs @ model[0].weight.T + model[0].bias
    (off,) = off_fractions(model, inputs).values()
    expected = (pre.numpy() <= 0).mean(axis=0)
    np.testing.assert_array_equal(off.numpy(), expected)


def test_a_diverged_network_reports_nan_not_zero_dead():
    model = network_with_known_units()
    with torch.no_grad():
        model[0].weight[0, 0] = math.nan
    with pytest.raises(ValueError, match="NaN"):  # the detector refuses to guess
        dead_units(model, INPUTS)
    (off,) = off_fractions(model, INPUTS).values()
    assert math.isnan(off[0]) and off[1] == 1.0
    assert math.isnan(dead_fractions(model, INPUTS)["1"])


def test_measuring_leaves_batch_norm_statistics_and_mode_alone():
    model = with_batch_norm(mlp([2, 5, 5, 2], seed=0))
    model.train()
    before = {name: buffer.clone() for name, buffer in model.named_buffers()}
    inputs = random_inputs(30, 2, 0)
    dead_fractions(model, inputs)
    count_activation_patterns(model, inputs)
    assert model.training
    for name, buffer in model.named_buffers():
        assert torch.equal(buffer, before[name]), name


# --------------------------------------------------------------------------- the monitor


def test_monitor_records_every_few_steps_during_training():
    inputs = random_inputs(40, 2, 0)
    targets = inputs.sum(dim=1, keepdim=True)
    model = mlp([2, 8, 8, 1], seed=0)
    monitor = DeadUnitMonitor(inputs, every=5)
    monitor.record(0, model)
    train(model, inputs, targets, steps=20, learning_rate=0.05, callback=monitor)
    assert monitor.steps == [0, 5, 10, 15, 20]
    assert list(monitor.fractions) == ["1", "3"]
    assert all(len(values) == 5 for values in monitor.fractions.values())
    final = dead_fractions(model, inputs)
    assert {name: values[-1] for name, values in monitor.fractions.items()} == final


def test_monitor_sees_units_die_after_a_bias_shift():
    inputs = random_inputs(40, 2, 0)
    model = mlp([2, 8, 1], init="he", seed=0)
    monitor = DeadUnitMonitor(inputs)
    monitor.record(0, model)
    monitor.record(1, shift_hidden_biases(model, -100.0))
    assert monitor.fractions["1"] == [0.0, 1.0]


def test_monitor_arguments():
    with pytest.raises(TypeError, match="torch.Tensor"):
        DeadUnitMonitor([[1.0, 2.0]])
    with pytest.raises(ValueError, match="every"):
        DeadUnitMonitor(INPUTS, every=0)


# --------------------------------------------------------------------------- born dead


@pytest.mark.parametrize("width, depth", [(1, 1), (1, 5), (2, 3), (3, 10), (10, 100)])
def test_born_dead_probability_is_the_formula(width, depth):
    expected = 1 - (1 - 2.0**-width) ** depth
    assert born_dead_probability(width, depth) == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_born_dead_probability_is_accurate_for_wide_layers():
    # 1 - (1 - 2^-60)^7 is 7 * 2^-60 to many digits; the naive formula gives 0.
    assert born_dead_probability(60, 7) == pytest.approx(7 * 2.0**-60, rel=1e-12)
    assert born_dead_probability(5, 0) == 0.0


@given(width=st.integers(1, 30), depth=st.integers(0, 500))
def test_born_dead_probability_grows_with_depth_and_falls_with_width(width, depth):
    p = born_dead_probability(width, depth)
    assert 0.0 <= p <= 1.0
    assert born_dead_probability(width, depth + 1) >= p
    assert born_dead_probability(width + 1, depth) <= p


def test_born_dead_probability_arguments():
    with pytest.raises(ValueError, match="width"):
        born_dead_probability(0, 3)
    with pytest.raises(TypeError, match="depth"):
        born_dead_probability(3, 2.0)


@pytest.mark.parametrize("width", [1, 2, 4])
def test_simulation_matches_the_formula_for_one_input(width):
    trials, depth = 4000, 12
    simulated = simulate_born_dead(width, depth, [[0.3, -1.2, 2.0]], trials=trials, seed=width)
    exact = np.array([born_dead_probability(width, layer) for layer in range(1, depth + 1)])
    standard_error = np.sqrt(exact * (1 - exact) / trials)
    assert np.all(np.abs(simulated - exact) <= 4.5 * standard_error + 1e-12)


def test_simulation_agrees_with_networks_built_by_hand():
    # The same experiment with networks.mlp(init="he") (biases 0): compare the estimates.
    width, depth, trials = 2, 6, 300
    point = torch.tensor([[0.7, -0.4]])
    dead = 0
    for seed in range(trials):
        model = mlp([2] + [width] * depth + [1], init="he", seed=seed)
        dead += dead_units(model, point)[-1].dead == width
    by_hand = dead / trials
    simulated = simulate_born_dead(width, depth, point.numpy(), trials=trials, seed=0)[-1]
    standard_error = math.sqrt(born_dead_probability(width, depth) * (1 - born_dead_probability(width, depth)) / trials)
    assert abs(by_hand - simulated) <= 4.5 * math.sqrt(2) * standard_error


def test_simulation_on_more_inputs_is_never_more_dead():
    # Same seed, same networks: dead on every row implies dead on the first row.
    data = np.random.default_rng(0).standard_normal((30, 2))
    on_data = simulate_born_dead(3, 15, data, trials=300, seed=4)
    on_one = simulate_born_dead(3, 15, data[:1], trials=300, seed=4)
    assert np.all(on_data <= on_one)
    assert np.all(np.diff(on_data) >= 0) and np.all(np.diff(on_one) >= 0)
    assert np.array_equal(on_data, simulate_born_dead(3, 15, data, trials=300, seed=4))


def test_simulation_arguments():
    with pytest.raises(ValueError, match="shape"):
        simulate_born_dead(2, 3, [1.0, 2.0])
    with pytest.raises(ValueError, match="finite"):
        simulate_born_dead(2, 3, [[1.0, math.nan]])
    with pytest.raises(TypeError):
        simulate_born_dead(2, 3, "data")
    with pytest.raises(ValueError, match="trials"):
        simulate_born_dead(2, 3, [[1.0]], trials=0)


# --------------------------------------------------------------------------- linear regions


def test_activation_patterns_of_three_kinks_on_a_line():
    # Units relu(x + 1), relu(x), relu(x - 1), and a dead one: 4 linear regions on [-2, 2].
    hidden = nn.Linear(1, 4)
    with torch.no_grad():
        hidden.weight.copy_(torch.tensor([[1.0], [1.0], [1.0], [0.0]]))
        hidden.bias.copy_(torch.tensor([1.0, 0.0, -1.0, -3.0]))
    model = nn.Sequential(hidden, nn.ReLU(), nn.Linear(4, 1))
    line = torch.linspace(-2, 2, 401).reshape(-1, 1)
    assert count_activation_patterns(model, line) == 4
    assert count_activation_patterns(model, line[:100]) == 1  # x <= -1.01: all off


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_activation_patterns_match_an_independent_count(seed):
    model = mlp([2, 5, 4, 2], seed=seed)
    points = random_inputs(200, 2, seed)
    with torch.no_grad():
        first = points @ model[0].weight.T + model[0].bias
        second = torch.relu(first) @ model[2].weight.T + model[2].bias
    bits = np.concatenate([first.numpy() > 0, second.numpy() > 0], axis=1)
    assert count_activation_patterns(model, points) == len({row.tobytes() for row in bits})


# --------------------------------------------------------------------------- variations of a network


def test_with_activation_copies_weights_and_swaps_every_activation():
    model = mlp([2, 4, 4, 1], seed=0)
    leaky = with_activation(model, "leaky_relu")
    assert [type(module) for module in leaky] == [nn.Linear, nn.LeakyReLU, nn.Linear, nn.LeakyReLU, nn.Linear]
    assert all(isinstance(module, nn.ReLU) for module in (model[1], model[3]))  # original untouched
    for original, copied in zip(model.parameters(), leaky.parameters()):
        assert torch.equal(original, copied) and original is not copied
    inputs = random_inputs(10, 2, 0)
    with torch.no_grad():
        hidden = nn.functional.leaky_relu(model[0](inputs), 0.01)
        expected = model[4](nn.functional.leaky_relu(model[2](hidden), 0.01))
        torch.testing.assert_close(leaky(inputs), expected)


def test_with_activation_reaches_nested_modules():
    model = nn.Sequential(nn.Sequential(nn.Linear(2, 3), nn.ReLU()), nn.Linear(3, 1))
    elu = with_activation(model, "elu")
    assert isinstance(elu[0][1], nn.ELU) and isinstance(model[0][1], nn.ReLU)


def test_with_activation_arguments():
    with pytest.raises(ValueError, match="activation must be one of"):
        with_activation(mlp([2, 3, 1]), "swish2")
    with pytest.raises(ValueError, match="no activation layers"):
        with_activation(nn.Linear(2, 2), "relu")


def test_with_batch_norm_inserts_a_layer_before_each_activation():
    model = mlp([2, 6, 5, 3], seed=0)
    normed = with_batch_norm(model)
    assert [type(module) for module in normed] == [
        nn.Linear,
        nn.BatchNorm1d,
        nn.ReLU,
        nn.Linear,
        nn.BatchNorm1d,
        nn.ReLU,
        nn.Linear,
    ]
    assert [normed[1].num_features, normed[4].num_features] == [6, 5]
    assert len(model) == 5 and torch.equal(model[0].weight, normed[0].weight)
    assert model[0].weight is not normed[0].weight
    inputs = random_inputs(64, 2, 0)
    # Fresh batch norm in eval mode divides by sqrt(1 + eps): nearly the same function.
    normed.eval()
    with torch.no_grad():
        torch.testing.assert_close(normed(inputs), model(inputs), rtol=1e-4, atol=1e-4)
    # In train mode each unit's pre-activation has batch mean 0 and variance 1.
    normed.train()
    with torch.no_grad():
        pre = normed[1](normed[0](inputs))
    torch.testing.assert_close(pre.mean(dim=0), torch.zeros(6), atol=1e-5, rtol=0)
    torch.testing.assert_close(pre.var(dim=0, unbiased=False), torch.ones(6), atol=1e-3, rtol=0)


def test_with_batch_norm_keeps_the_dtype():
    model = mlp([2, 3, 1], seed=0).double()
    assert with_batch_norm(model)[1].weight.dtype == torch.float64


def test_with_batch_norm_arguments():
    with pytest.raises(TypeError, match="Sequential"):
        with_batch_norm(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="nowhere"):
        with_batch_norm(nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1)))


def test_bias_changes_leave_the_output_layer_alone():
    model = mlp([2, 4, 3, 1], seed=0)
    output_bias = model[4].bias.clone()
    first_bias = model[0].bias.clone()
    assert shift_hidden_biases(model, -2.0) is model
    torch.testing.assert_close(model[0].bias, first_bias - 2.0)
    assert set_hidden_biases(model, 0.1) is model
    assert model[0].bias.tolist() == pytest.approx([0.1] * 4)
    assert model[2].bias.tolist() == pytest.approx([0.1] * 3)
    assert torch.equal(model[4].bias, output_bias)


def test_bias_change_arguments():
    with pytest.raises(ValueError, match="finite"):
        shift_hidden_biases(mlp([2, 3, 1]), math.inf)
    with pytest.raises(TypeError, match="real number"):
        set_hidden_biases(mlp([2, 3, 1]), "0.1")
    with pytest.raises(ValueError, match="hidden Linear"):
        set_hidden_biases(nn.Sequential(nn.Linear(2, 1)), 0.1)
    with pytest.raises(TypeError, match="torch.nn.Module"):
        shift_hidden_biases("model", 1.0)
    no_bias = nn.Sequential(nn.Linear(2, 3, bias=False), nn.ReLU(), nn.Linear(3, 1))
    with pytest.raises(ValueError, match="bias"):
        shift_hidden_biases(no_bias, 1.0)


def test_errors_for_bad_models_and_inputs():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        off_fractions("model", INPUTS)
    with pytest.raises(TypeError, match="torch.Tensor"):
        dead_fractions(network_with_known_units(), [[1.0, 2.0]])
    with pytest.raises(ValueError, match="no activation layers"):
        count_activation_patterns(nn.Linear(2, 2), INPUTS)
