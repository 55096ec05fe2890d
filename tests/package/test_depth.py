"""Signal and gradient propagation through depth, checked by hand and against autograd."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from relu_course import depth
from relu_course.diagnostics import activation_inputs, activation_outputs, dead_units, gradient_norms
from relu_course.networks import deep_mlp, init_weight_variance
from tests.package.known_networks import INPUTS, network_with_known_units

GENERATOR_SEED = 0


def rms_per_layer(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    """sqrt(mean(h_l^2)) of every activation layer's output (the chapter's measurement)."""
    return np.array([h.pow(2).mean().sqrt().item() for _, h in activation_outputs(model, x)])


def gaussian(rows: int, columns: int, seed: int = GENERATOR_SEED) -> torch.Tensor:
    return torch.randn(rows, columns, generator=torch.Generator().manual_seed(seed))


# Pre-activations of network_with_known_units on INPUTS, unit by unit:
PRE = torch.tensor([[1.0, -5.0, 2.0], [-1.0, -5.0, 2.0], [2.0, -5.0, -1.0], [-2.0, -5.0, -3.0]])


# --------------------------------------------------------------------------- building


def test_deep_mlp_has_depth_hidden_layers_of_one_width():
    model = deep_mlp(4, 7, inputs=3, outputs=2, activation="tanh", seed=1)
    kinds = [type(layer).__name__ for layer in model]
    assert kinds == ["Linear", "Tanh"] * 4 + ["Linear"]
    assert [layer.out_features for layer in model if isinstance(layer, nn.Linear)] == [7, 7, 7, 7, 2]
    assert model(torch.zeros(5, 3)).shape == (5, 2)


def test_weight_scale_multiplies_the_weights_and_leaves_the_biases():
    plain = deep_mlp(3, 5, init="pytorch", seed=2)
    scaled = deep_mlp(3, 5, init="pytorch", seed=2, weight_scale=1.5)
    for a, b in zip(plain, scaled):
        if isinstance(a, nn.Linear):
            assert torch.allclose(b.weight, 1.5 * a.weight)
            assert torch.equal(b.bias, a.bias)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"depth": 0, "width": 4}, ValueError),
        ({"depth": 2, "width": 0}, ValueError),
        ({"depth": 2.0, "width": 4}, TypeError),
        ({"depth": 2, "width": 4, "weight_scale": 0.0}, ValueError),
        ({"depth": 2, "width": 4, "weight_scale": "big"}, TypeError),
        ({"depth": 2, "width": 4, "init": "kaiming"}, ValueError),
        ({"depth": 2, "width": 4, "activation": "step"}, ValueError),
    ],
)
def test_deep_mlp_rejects_bad_arguments(kwargs, error):
    with pytest.raises(error):
        deep_mlp(**kwargs)


def test_relu_signal_gain_formula_and_errors():
    assert depth.relu_signal_gain(2 / 64, 64) == pytest.approx(1.0)
    assert depth.relu_signal_gain(1 / (3 * 64), 64) == pytest.approx(1 / 6)
    with pytest.raises(ValueError):
        depth.relu_signal_gain(-1.0, 4)
    with pytest.raises(TypeError):
        depth.relu_signal_gain(0.1, 4.5)


def test_half_of_a_symmetric_variance_survives_relu():
    # The fact behind relu_signal_gain: E[relu(z)^2] = Var(z) / 2 for z ~ N(0, s^2).
    z = 3.0 * np.random.default_rng(0).standard_normal(1_000_000)
    assert np.mean(np.maximum(z, 0.0) ** 2) == pytest.approx(9.0 / 2, rel=0.01)


@pytest.mark.parametrize("init", ["pytorch", "he", "xavier"])
def test_measured_rms_follows_the_predicted_gain_in_a_wide_network(init):
    # Biases would add their own variance; zero them so the prediction is exact in expectation.
    width, layers = 512, 6
    model = deep_mlp(layers, width, inputs=width, init=init, seed=0)
    with torch.no_grad():
        for module in model:
            if isinstance(module, nn.Linear):
                module.bias.zero_()
    rms = rms_per_layer(model, gaussian(256, width))
    gain = depth.relu_signal_gain(init_weight_variance(init, width, width), width)
    assert depth.per_layer_factor(rms) == pytest.approx(math.sqrt(gain), rel=0.03)


# --------------------------------------------------------------------------- looking inside


def test_activation_outputs_and_pre_activations_match_a_manual_forward_pass():
    model = deep_mlp(3, 6, inputs=4, seed=3)
    x = gaussian(10, 4)
    outputs = [h for _, h in activation_outputs(model, x)]
    pres = [z for _, z in activation_inputs(model, x)]
    h = x
    for index in range(3):
        z = model[2 * index](h)
        h = torch.relu(z)
        assert torch.allclose(pres[index], z) and torch.allclose(outputs[index], h)
    assert not any(t.requires_grad for t in outputs + pres)


def test_pre_activations_survive_an_inplace_relu():
    model = network_with_known_units()
    model[1] = nn.ReLU(inplace=True)
    ((_, pre),) = activation_inputs(model, INPUTS)
    assert torch.equal(pre, PRE)


def test_statistics_of_the_known_network():
    model = network_with_known_units()
    h = torch.relu(PRE)
    assert depth.input_spread(model, INPUTS)[0] == pytest.approx(h.std(dim=0, unbiased=False).mean().item())
    active = depth.active_fraction_per_input(model, INPUTS)
    np.testing.assert_allclose(active, [[2 / 3, 1 / 3, 1 / 3, 0.0]])
    assert depth.units_on_for_every_input(model, INPUTS)[0] == 0.0
    # Unit 1 is off for all inputs: dead_units counts it; no unit is on for every input.
    assert dead_units(model, INPUTS)[0].dead == 1


def test_input_spread_is_zero_when_the_input_is_forgotten():
    model = deep_mlp(2, 4, inputs=3, seed=0)
    with torch.no_grad():
        model[0].weight.zero_()  # layer 1 ignores x: its output is relu(b) for every input
    spread = depth.input_spread(model, gaussian(20, 3))
    assert spread[0] == 0.0 and spread[1] == 0.0


def test_input_similarity_by_hand_and_against_torch():
    # Outputs of the known network: (1, 0, 2), (0, 0, 2), (2, 0, 0) and the zero vector,
    # which has no direction and is left out. Cosines 2/sqrt(5), 1/sqrt(5) and 0.
    (similarity,) = depth.input_similarity(network_with_known_units(), INPUTS)
    assert similarity == pytest.approx(1 / math.sqrt(5))
    model = deep_mlp(2, 8, inputs=3, seed=6)
    x = gaussian(6, 3)
    h = activation_outputs(model, x)[1][1].double()
    pairs = [nn.functional.cosine_similarity(h[i], h[j], dim=0).item() for i in range(6) for j in range(6) if i != j]
    assert depth.input_similarity(model, x)[1] == pytest.approx(np.mean(pairs))
    assert np.isnan(depth.input_similarity(network_with_known_units(), INPUTS[3:])[0])


def test_units_on_for_every_input():
    model = network_with_known_units()
    with torch.no_grad():
        model[0].bias.copy_(torch.tensor([10.0, -5.0, 0.0]))  # unit 0 is now on for every input
    assert depth.units_on_for_every_input(model, INPUTS)[0] == pytest.approx(1 / 3)


def test_paths_halve_per_layer_while_units_stay_half_on():
    model = deep_mlp(8, 256, inputs=64, seed=0)
    x = gaussian(128, 64)
    active = depth.active_fraction_per_input(model, x).mean(axis=1)
    np.testing.assert_allclose(active, 0.5, atol=0.08)
    paths = np.cumprod(depth.active_fraction_per_input(model, x), axis=0).mean(axis=1)
    np.testing.assert_allclose(np.log2(paths), -np.arange(1, 9), atol=0.5)


def test_inspection_errors_are_clear():
    with pytest.raises(ValueError, match="no activation layers"):
        depth.input_spread(nn.Linear(2, 2), INPUTS)
    with pytest.raises(TypeError, match="torch.Tensor"):
        depth.input_spread(network_with_known_units(), [[1.0, 2.0]])
    with pytest.raises(TypeError, match="torch.nn.Module"):
        depth.input_similarity("model", INPUTS)


# --------------------------------------------------------------------------- gradients


def test_gradient_profile_matches_autograd():
    model = deep_mlp(3, 4, inputs=2, outputs=1, seed=5)
    x, y = gaussian(8, 2), gaussian(8, 1, seed=1)
    weights = depth.gradient_profile(model, x, y, kind="weight")
    outputs = depth.gradient_profile(model, x, y)
    assert outputs.tolist() == [record.output for record in gradient_norms(model, x, y)]
    nn.functional.mse_loss(model(x), y).backward()
    linears = [module for module in model if isinstance(module, nn.Linear)]
    np.testing.assert_allclose(weights, [layer.weight.grad.norm().item() for layer in linears], rtol=1e-6)
    with pytest.raises(ValueError, match="kind must be one of"):
        depth.gradient_profile(model, x, y, kind="bias")


def test_gradient_shrinks_by_the_weight_scale_per_layer():
    # He init keeps ||dL/dz_l|| roughly constant; scaling every weight by s multiplies it by about s per layer.
    x, labels = gaussian(256, 64), torch.arange(256) % 2
    factors = {}
    for scale in (0.7, 1.0):
        model = deep_mlp(12, 256, inputs=64, weight_scale=scale, seed=0)
        profile = depth.gradient_profile(model, x, labels, loss="cross_entropy")[:-1]
        factors[scale] = 1 / depth.per_layer_factor(profile)  # from the output back to the input
    assert factors[1.0] == pytest.approx(1.0, abs=0.05)
    assert factors[0.7] == pytest.approx(0.7, abs=0.05)


@settings(max_examples=50, deadline=None)
@given(
    start=st.floats(1e-6, 1e6),
    ratio=st.floats(0.01, 100.0),
    length=st.integers(2, 40),
)
def test_per_layer_factor_recovers_a_geometric_ratio(start, ratio, length):
    values = start * ratio ** np.arange(length)
    assert depth.per_layer_factor(values) == pytest.approx(ratio, rel=1e-9)


@pytest.mark.parametrize("values", [[1.0], [[1.0, 2.0]], [1.0, 0.0], [1.0, -2.0], [1.0, np.nan]])
def test_per_layer_factor_rejects_what_it_cannot_fit(values):
    with pytest.raises(ValueError):
        depth.per_layer_factor(values)


# --------------------------------------------------------------------------- training


# --------------------------------------------------------------------------- the infinitely wide limit


def test_relu_kernel_map_at_known_points():
    k = depth.relu_kernel_map([1.0, 0.0, -1.0])
    assert k[0] == 1.0 and k[2] == 0.0  # exact at the ends
    assert k[1] == pytest.approx(1 / math.pi, rel=1e-15)
    assert depth.relu_kernel_map(np.zeros((2, 3))).shape == (2, 3)
    # cos 60 degrees: (sin 60 + (pi - pi / 3) cos 60) / pi
    assert depth.relu_kernel_map(0.5) == pytest.approx((math.sqrt(0.75) + math.pi / 3) / math.pi)


def test_relu_kernel_map_clips_rounding_and_rejects_the_rest():
    assert depth.relu_kernel_map(1 + 1e-12) == 1.0
    assert depth.relu_kernel_map(-1 - 1e-12) == 0.0
    for bad in (1.5, -1.01, math.nan):
        with pytest.raises(ValueError, match=r"\[-1, 1\]"):
            depth.relu_kernel_map(bad)
    with pytest.raises(TypeError):
        depth.relu_kernel_map("0.5")


def test_relu_kernel_map_is_increasing_with_the_stated_slope():
    rho = np.linspace(-1.0, 1.0, 2001)
    k = depth.relu_kernel_map(rho)
    assert np.all(np.diff(k) > 0)
    inner = rho[1:-1]
    step = 1e-6
    numeric = (depth.relu_kernel_map(inner + step) - depth.relu_kernel_map(inner - step)) / (2 * step)
    np.testing.assert_allclose(numeric, 1 - np.arccos(inner) / math.pi, atol=1e-6)


@settings(max_examples=100, deadline=None)
@given(rho=st.floats(-1.0, 1.0))
def test_relu_kernel_map_raises_every_correlation_below_1(rho):
    k = float(depth.relu_kernel_map(rho))
    assert 0.0 <= k <= 1.0
    assert k >= rho
    if rho < 1.0 - 1e-6:
        assert k > rho


def test_one_is_the_fixed_point_and_every_correlation_goes_there():
    assert np.all(depth.relu_kernel_through_depth(1.0, 50) == 1.0)
    through = depth.relu_kernel_through_depth(np.array([-1.0, 0.0, 0.9]), 2000)
    assert through.shape == (2000, 3)
    assert np.all(np.diff(through, axis=0) >= 0)
    assert np.all(through[-1] > 0.9999)


def test_relu_kernel_through_depth_iterates_the_map():
    rho = np.array([[-0.5, 0.2], [0.7, 1.0]])
    through = depth.relu_kernel_through_depth(rho, 3)
    assert through.shape == (3, 2, 2)
    np.testing.assert_array_equal(through[0], depth.relu_kernel_map(rho))
    np.testing.assert_array_equal(through[2], depth.relu_kernel_map(depth.relu_kernel_map(through[0])))
    with pytest.raises(ValueError):
        depth.relu_kernel_through_depth(0.5, 0)


@pytest.mark.parametrize("rho", [-0.9, -0.5, 0.0, 0.3, 0.8, 0.99])
def test_relu_kernel_map_matches_sampled_gaussian_pairs(rho):
    # E[relu(u) relu(v)] = k(rho) / 2 for standard normal u, v of correlation rho. Seeded, and
    # the tolerance is 6 standard errors of the sample mean, computed from the sample.
    rng = np.random.default_rng(GENERATOR_SEED)
    g1, g2 = rng.standard_normal((2, 400_000))
    u, v = g1, rho * g1 + math.sqrt(1 - rho**2) * g2
    products = np.maximum(u, 0.0) * np.maximum(v, 0.0)
    standard_error = products.std() / math.sqrt(len(products))
    assert abs(products.mean() - depth.relu_kernel_map(rho) / 2) < 6 * standard_error


def test_kernel_input_similarity_by_hand():
    # Cosines of (1, 0), (0, 1), (2, 2): 0, 1/sqrt(2), 1/sqrt(2); the zero vector is left out.
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0], [0.0, 0.0]])
    r = 1 / math.sqrt(2)
    k = depth.relu_kernel_map
    expected = [np.mean(k([0.0, r, r])), np.mean(k(k([0.0, r, r])))]
    np.testing.assert_allclose(depth.kernel_input_similarity(x, 2), expected, rtol=1e-12)
    np.testing.assert_allclose(depth.kernel_input_similarity(3.0 * x, 2), expected, rtol=1e-12)


def test_kernel_input_similarity_errors():
    with pytest.raises(TypeError, match="torch.Tensor"):
        depth.kernel_input_similarity([[1.0, 0.0], [0.0, 1.0]], 2)
    with pytest.raises(ValueError, match="two inputs"):
        depth.kernel_input_similarity(torch.tensor([[1.0, 0.0], [0.0, 0.0]]), 2)
    with pytest.raises(ValueError):
        depth.kernel_input_similarity(torch.eye(2), 0)


def test_a_wide_network_measures_what_the_kernel_predicts():
    # Width 2048, weights N(0, 2 / fan_in), biases 0: the measured similarity is within a few
    # hundredths of the infinitely wide prediction (the gap shrinks like 1 / sqrt(width)).
    x = gaussian(20, 2)
    model = deep_mlp(3, 2048, inputs=2, init="he", seed=0, dtype=torch.float64)
    measured = depth.input_similarity(model, x.double())
    np.testing.assert_allclose(measured, depth.kernel_input_similarity(x, 3), atol=0.03)
