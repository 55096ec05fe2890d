"""The checks of Chapter 3 (why ReLU trains deep networks) accept right answers and reject wrong ones, saying why.

The answers here are written independently of the solution notebooks.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from relu_course import checks
from relu_course.checks.chapter3 import _backward_factor, _mean_square_factor, _on_fractions, _relu_gaussian_moment
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


# --------------------------------------------------------------------------- the two moments of relu(Z), derived


def test_the_reference_moments_are_the_gaussian_integrals():
    # The check computes its expected values by quadrature; they agree with the closed forms.
    for sigma in (1e-3, 0.5, 1.0, 3.7, 1e3):
        assert _relu_gaussian_moment(sigma, 1) == pytest.approx(sigma / math.sqrt(2 * math.pi), rel=1e-13)
        assert _relu_gaussian_moment(sigma, 2) == pytest.approx(sigma**2 / 2, rel=1e-13)


def test_relu_mean_accepts_right_answers(capsys):
    assert_passes(checks.relu_mean, lambda sigma: sigma / math.sqrt(2 * math.pi), capsys)
    assert_passes(checks.relu_mean, lambda sigma: np.float64(sigma) * np.exp(0.0) / np.sqrt(2 * np.pi), capsys)
    assert_passes(checks.relu_mean, lambda sigma: math.sqrt(sigma**2 / (2 * math.pi)), capsys)


WRONG_MEANS = {
    "E[|Z|]": (lambda s: s * math.sqrt(2 / math.pi), ["2 times the exact value", "E[|Z|]", "negative half"]),
    "sigma squared": (lambda s: s**2 / math.sqrt(2 * math.pi), ["sigma = 3.0", "grows like sigma**2"]),
    "no sigma": (lambda s: 1 / math.sqrt(2 * math.pi), ["sigma = 3.0", "does not change with sigma"]),
    "rounded constant": (lambda s: 0.4 * s, ["rounds the exact constant"]),
    "no square root": (lambda s: s / (2 * math.pi), ["keep the square root"]),
    "zero, as for Z": (lambda s: 0.0, ["its mean is positive"]),
    "something else": (lambda s: s / 2, ["1.253 times the exact value", "antiderivative"]),
    "by sampling": (lambda s: float(np.maximum(s * np.random.randn(1000), 0).mean()), ["for sigma = 1.0"]),
    "a tensor": (lambda s: torch.tensor(s / math.sqrt(2 * math.pi)), ["torch.Tensor", ".item()"]),
    "no return": (lambda s: None, ["returned None", "return"]),
    "nan": (lambda s: math.nan, ["nan", "finite"]),
}


@pytest.mark.parametrize("mistake", WRONG_MEANS)
def test_relu_mean_rejects_wrong_answers(mistake, capsys):
    answer, phrases = WRONG_MEANS[mistake]
    assert_fails(checks.relu_mean, answer, capsys, *phrases)


def test_relu_mean_square_accepts_right_answers(capsys):
    assert_passes(checks.relu_mean_square, lambda sigma: sigma**2 / 2, capsys)
    assert_passes(checks.relu_mean_square, lambda sigma: 0.5 * np.float64(sigma) * sigma, capsys)


WRONG_MEAN_SQUARES = {
    "E[Z^2]": (lambda s: s**2, ["2 times the exact value", "E[Z**2] = sigma**2"]),
    "sigma for sigma squared": (lambda s: s / 2, ["sigma = 3.0", "grows like sigma**2"]),
    "no sigma": (lambda s: 0.5, ["sigma = 3.0", "does not change with sigma"]),
    "square of the mean": (lambda s: s**2 / (2 * math.pi), ["square of the mean"]),
    "variance": (lambda s: s**2 / 2 - s**2 / (2 * math.pi), ["Var(relu(Z))"]),
    "halved twice": (lambda s: s**2 / 4, ["halves twice"]),
    "root mean square": (lambda s: s / math.sqrt(2), ["root mean square"]),
    "something else": (lambda s: s**2 / 3, ["symmetric about 0"]),
}


@pytest.mark.parametrize("mistake", WRONG_MEAN_SQUARES)
def test_relu_mean_square_rejects_wrong_answers(mistake, capsys):
    answer, phrases = WRONG_MEAN_SQUARES[mistake]
    assert_fails(checks.relu_mean_square, answer, capsys, *phrases)


# --------------------------------------------------------------------------- predictions

RIGHT_PREDICTIONS = {
    "predict_xavier_factor": 128 * (2 / (128 + 128)) / 2,
    "predict_default_factor": 1 / 6,
    "predict_gradient_factor": math.sqrt(1 / 6),
    "predict_units_on": 0.5,
    "predict_paths_on": 0.5**10,
}


@pytest.mark.parametrize("name", RIGHT_PREDICTIONS)
def test_predictions_from_the_derivation_pass(name, capsys):
    assert_passes(getattr(checks, name), RIGHT_PREDICTIONS[name], capsys)


WRONG_PREDICTIONS = [
    # (check, prediction, phrases): the usual slips of each derivation
    ("predict_xavier_factor", 1.0, ["too high", "about 2"]),  # forgot that ReLU halves the mean square
    ("predict_xavier_factor", math.sqrt(0.5), ["too high", "not of the RMS"]),  # the RMS factor
    ("predict_xavier_factor", 0.25, ["too low", "about 0.5"]),  # halved twice
    ("predict_default_factor", 1 / 3, ["too high", "about 2"]),  # forgot ReLU's half
    ("predict_default_factor", math.sqrt(1 / 6), ["too high", "not of the RMS"]),
    ("predict_default_factor", 1 / 2, ["too high", "a**2 / 3"]),  # Var(W) = 1 / fan_in, as for Xavier
    ("predict_default_factor", 1.0, ["too high"]),  # He's factor
    ("predict_gradient_factor", 1.0, ["too high", "relu'"]),  # "ReLU's slope is 1"
    ("predict_gradient_factor", 1 / 6, ["too low", "square root"]),  # the mean-square factor
    ("predict_gradient_factor", 0.25, ["too low"]),  # sigmoid's largest slope
    ("predict_gradient_factor", math.sqrt(1 / 3), ["too high"]),  # forgot the units that are off
    ("predict_units_on", 0.5**10, ["too low", "symmetric about 0"]),  # the claim of section 3.5
    ("predict_units_on", 1.0, ["too high"]),
    ("predict_paths_on", 0.5, ["too high", "product"]),  # units, not paths
    ("predict_paths_on", 0.5**9, ["too high", "about 2"]),  # one layer short
    ("predict_paths_on", 0.5**11, ["too low", "about 0.5"]),  # one layer too many
    ("predict_paths_on", 0.5 * 10, ["too high"]),  # a sum, not a product
]


@pytest.mark.parametrize(("name", "prediction", "phrases"), WRONG_PREDICTIONS)
def test_predictions_with_the_usual_mistakes_fail(name, prediction, phrases, capsys):
    line = assert_fails(getattr(checks, name), prediction, capsys, *phrases)
    assert "measured" not in line


def test_the_measurements_agree_with_the_theory_and_repeat_exactly():
    assert _mean_square_factor("xavier") == pytest.approx(1 / 2, rel=0.05)
    assert _mean_square_factor("pytorch") == pytest.approx(1 / 6, rel=0.05)
    assert _backward_factor() == pytest.approx(math.sqrt(1 / 6), rel=0.05)
    units_on, paths_on = _on_fractions()
    assert units_on == pytest.approx(1 / 2, rel=0.05)
    assert paths_on == pytest.approx(2.0**-10, rel=0.1)
    assert _on_fractions() == (units_on, paths_on)
