"""The checks of Chapter 5 (dead neurons) accept right answers and reject wrong ones, saying why.

The answers here are written independently of the solution notebooks.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from relu_course import checks, networks
from relu_course.checks.chapter5 import _dead_network, _dead_unit_gradient, _layer_off_fraction, _revival_step
from tests.package.checks_helpers import assert_fails, assert_passes


def dead_counts_with_hooks(model, inputs):
    counts = []
    handles = [
        m.register_forward_hook(lambda m, i, o: counts.append(int((o == 0).all(dim=0).sum())))
        for m in model.modules()
        if isinstance(m, nn.ReLU)
    ]
    try:
        with torch.no_grad():
            model(inputs)
    finally:
        for handle in handles:
            handle.remove()
    return counts


def dead_counts_with_pre_hooks(model, inputs):
    counts = []
    handles = [
        m.register_forward_pre_hook(lambda m, i: counts.append(int((i[0] <= 0).all(dim=0).sum())))
        for m in model.modules()
        if isinstance(m, nn.ReLU)
    ]
    try:
        with torch.no_grad():
            model(inputs)
    finally:
        for handle in handles:
            handle.remove()
    return counts


def test_dead_unit_counts_right_and_wrong(capsys):
    assert_passes(checks.dead_unit_counts, dead_counts_with_hooks, capsys)
    assert_passes(checks.dead_unit_counts, dead_counts_with_pre_hooks, capsys)

    def off_for_any_input(model, inputs):
        counts = []
        handles = [
            m.register_forward_hook(lambda m, i, o: counts.append(int((o == 0).any(dim=0).sum())))
            for m in model.modules()
            if isinstance(m, nn.ReLU)
        ]
        with torch.no_grad():
            model(inputs)
        for handle in handles:
            handle.remove()
        return counts

    def fractions(model, inputs):
        return [count / 3 for count in dead_counts_with_hooks(model, inputs)]

    def leaves_hooks(model, inputs):
        counts = []
        for m in model.modules():
            if isinstance(m, nn.ReLU):
                m.register_forward_hook(lambda m, i, o: counts.append(int((o == 0).all(dim=0).sum())))
        with torch.no_grad():
            model(inputs)
        return counts

    assert_fails(checks.dead_unit_counts, off_for_any_input, capsys, "expected dead units per ReLU layer [1]")
    assert_fails(checks.dead_unit_counts, fractions, capsys, "expected a whole number (int)")
    assert_fails(checks.dead_unit_counts, leaves_hooks, capsys, "left 1 hook(s)")


def born_dead_by_hand(depth, width, inputs, seeds):
    dead = 0
    for seed in seeds:
        model = networks.mlp([inputs.shape[1]] + [width] * depth + [1], seed=seed)
        dead += any(count == width for count in dead_counts_with_hooks(model, inputs))
    return dead / len(seeds)


def test_born_dead_fraction_right_and_wrong(capsys):
    assert_passes(checks.born_dead_fraction, born_dead_by_hand, capsys)

    def any_dead_unit(depth, width, inputs, seeds):
        dead = 0
        for seed in seeds:
            model = networks.mlp([inputs.shape[1]] + [width] * depth + [1], seed=seed)
            dead += any(count > 0 for count in dead_counts_with_hooks(model, inputs))
        return dead / len(seeds)

    def count_not_fraction(depth, width, inputs, seeds):
        return born_dead_by_hand(depth, width, inputs, seeds) * len(seeds)

    assert_fails(checks.born_dead_fraction, any_dead_unit, capsys, "depth=3, width=2", "dead count equals its width")
    assert_fails(checks.born_dead_fraction, count_not_fraction, capsys, "divide by the number of seeds")


def revive_by_hand(model, inputs, seed=0, zero_outgoing=True, generator=True, layers=None):
    rng = torch.Generator().manual_seed(seed) if generator else None
    linears = [m for m in model if isinstance(m, nn.Linear)]
    with torch.no_grad():
        masks, activation = [], inputs
        for layer in linears[:-1]:
            pre = layer(activation)
            masks.append((pre <= 0).all(dim=0))
            activation = torch.relu(pre)
        total = 0
        for index, (layer, following) in enumerate(zip(linears[:-1], linears[1:])):
            if layers is not None and index not in layers:
                continue
            mask = masks[index]
            count = int(mask.sum())
            layer.weight[mask] = torch.randn(count, layer.in_features, generator=rng) * math.sqrt(2 / layer.in_features)
            layer.bias[mask] = 0.0
            if zero_outgoing:
                following.weight[:, mask] = 0.0
            total += count
    return total


def test_revive_right_and_wrong(capsys):
    assert_passes(checks.revive, revive_by_hand, capsys)

    def keeps_bias(model, inputs, seed=0):
        linears = [m for m in model if isinstance(m, nn.Linear)]
        old = [layer.bias.detach().clone() for layer in linears]
        count = revive_by_hand(model, inputs, seed)
        with torch.no_grad():
            for layer, bias in zip(linears[:-1], old[:-1]):
                revived = layer.bias == 0
                layer.bias[revived] = torch.where(bias[revived] < -10, torch.tensor(0.5), bias[revived])
        return count

    assert_fails(
        checks.revive,
        lambda m, x, seed=0: revive_by_hand(m, x, seed, zero_outgoing=False),
        capsys,
        "outgoing weights",
        "not 0",
    )
    assert_fails(
        checks.revive,
        lambda m, x, seed=0: revive_by_hand(m, x, seed, generator=False),
        capsys,
        "different weights",
        "torch.Generator",
    )
    assert_fails(
        checks.revive, lambda m, x, seed=0: revive_by_hand(m, x, seed, layers=[0]), capsys, "returned 3; expected 6"
    )
    assert_fails(checks.revive, keeps_bias, capsys, "nonzero bias")
    assert_fails(checks.revive, lambda m, x, seed=0: None, capsys, "returned None")


# --------------------------------------------------------------------------- the born-dead formula, derived


def test_born_dead_probability_accepts_right_answers(capsys):
    assert_passes(checks.born_dead_probability, lambda width, depth: 1 - (1 - 2**-width) ** depth, capsys)
    assert_passes(
        checks.born_dead_probability, lambda width, depth: -math.expm1(depth * math.log1p(-(0.5**width))), capsys
    )

    def layer_by_layer(width, depth):
        alive = 1.0
        for _ in range(depth):
            alive *= 1 - 0.5**width
        return 1 - alive

    assert_passes(checks.born_dead_probability, layer_by_layer, capsys)


WRONG_BORN_DEAD = {
    "survival": (lambda w, L: (1 - 2**-w) ** L, ["width=3, depth=5", "signal survives"]),
    "swapped": (lambda w, L: 1 - (1 - 2**-L) ** w, ["swapped width and depth"]),
    "union bound": (lambda w, L: L * 2**-w, ["counts twice"]),
    "every layer dead": (lambda w, L: 2 ** -(w * L), ["one all-zero layer is enough"]),
    "one layer": (lambda w, L: 2**-w, ["the chance for one layer"]),
    "one layer short": (lambda w, L: 1 - (1 - 2**-w) ** (L - 1), ["count every hidden layer"]),
    "the output layer too": (lambda w, L: 1 - (1 - 2**-w) ** (L + 1), ["hidden layers only"]),
    "1 / (2 width)": (lambda w, L: 1 - (1 - 1 / (2 * w)) ** L, ["multiply 1/2 width times"]),
    "a guess": (lambda w, L: 0.5, ["expected 0.48709106, got 0.5", "none of the depth layers"]),
    "a tensor": (lambda w, L: torch.tensor(0.5), ["torch.Tensor"]),
    "no return": (lambda w, L: None, ["returned None"]),
}


@pytest.mark.parametrize("mistake", WRONG_BORN_DEAD)
def test_born_dead_probability_rejects_wrong_answers(mistake, capsys):
    answer, phrases = WRONG_BORN_DEAD[mistake]
    assert_fails(checks.born_dead_probability, answer, capsys, *phrases)


# --------------------------------------------------------------------------- predictions

RIGHT_PREDICTIONS = {
    "predict_layer_off": 0.5**4,
    "predict_dead_unit_gradient": 0.0,
    "predict_revival_step": 2,
}


@pytest.mark.parametrize("name", RIGHT_PREDICTIONS)
def test_predictions_from_the_derivation_pass(name, capsys):
    assert_passes(getattr(checks, name), RIGHT_PREDICTIONS[name], capsys)


WRONG_PREDICTIONS = [
    # (check, prediction, phrases): the usual slips of each argument
    ("predict_layer_off", 0.5, ["too high", "every unit is off"]),  # one unit, not the layer
    ("predict_layer_off", 0.5**3, ["too high", "about 2", "independently"]),  # 2**-(width - 1), or 1 / (2 width)
    ("predict_layer_off", 0.5**2, ["too high", "about 4"]),  # width 2
    ("predict_dead_unit_gradient", 1e-8, ["too high", "far off", "relu' is 0"]),  # "small", not zero
    ("predict_dead_unit_gradient", 0.5, ["too high"]),
    ("predict_revival_step", 1, ["too low", "outgoing weights"]),  # the outgoing weights are still 0
    ("predict_revival_step", 3, ["too high"]),
    ("predict_revival_step", 0, ["too low"]),
]


@pytest.mark.parametrize(("name", "prediction", "phrases"), WRONG_PREDICTIONS)
def test_predictions_with_the_usual_mistakes_fail(name, prediction, phrases, capsys):
    line = assert_fails(getattr(checks, name), prediction, capsys, *phrases)
    assert "measured" not in line


def test_the_measurements_agree_with_the_theory_and_repeat_exactly():
    assert _layer_off_fraction() == pytest.approx(1 / 16, rel=0.05)
    assert _layer_off_fraction() == _layer_off_fraction()
    assert _dead_unit_gradient() == 0.0
    assert _revival_step() == 2.0


def test_the_dead_network_has_dead_units_in_both_layers():
    _, _, _, masks = _dead_network()
    killed = [3, 2]  # units given a bias of -50 in each hidden layer
    assert all(int(mask.sum()) >= count for mask, count in zip(masks, killed))
