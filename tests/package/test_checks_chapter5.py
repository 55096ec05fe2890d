"""The checks of Chapter 5 (dead neurons) accept right answers and reject wrong ones, saying why.

The answers here are written independently of the solution notebooks.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from relu_course import checks, networks
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
