"""Checks for the exercises of Chapter 5, dead neurons.

``dead_unit_counts`` checks a dead-unit detector built with hooks; ``born_dead_fraction``
the fraction of networks dead at initialization; ``born_dead_probability`` the formula
for it at one input, derived by hand; ``revive`` a revival of dead units that keeps the
network's output. The ``predict_*`` checks take the number an "explain" question asks to
predict and compare it with their own measurement: the chance that a layer is all zero,
the gradient of a dead unit, and the step at which revived units start to learn.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from relu_course import dead_neurons, diagnostics, networks
from relu_course.checks._engine import (
    _as_float,
    _as_list,
    _as_whole_number,
    _call,
    _check_model_left_alone,
    _close,
    _Failed,
    _hooks_left,
    _likely_mistake,
    _number,
    _run_function_check,
    _run_prediction_check,
    _snapshot,
    prediction_check,
)


def _network_with_dead_units(
    sizes: Sequence[int], dead: dict[int, Sequence[int]], seed: int, inplace: bool = False
) -> nn.Sequential:
    """networks.mlp with the given units (Linear index -> units) made dead by a bias of -50."""
    model = networks.mlp(sizes, init="he", seed=seed)
    linears = [module for module in model if isinstance(module, nn.Linear)]
    with torch.no_grad():
        for layer, units in dead.items():
            linears[layer].bias[list(units)] = -50.0
    if inplace:
        for index, module in enumerate(model):
            if isinstance(module, nn.ReLU):
                model[index] = nn.ReLU(inplace=True)
    return model


def _dead_unit_models() -> list[tuple[str, nn.Module, torch.Tensor]]:
    """(description, model, inputs) for the hidden cases of ``dead_unit_counts``."""
    generator = torch.Generator().manual_seed(8)
    known = nn.Linear(2, 3)
    with torch.no_grad():
        known.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]]))
        known.bias.copy_(torch.tensor([0.0, -5.0, 0.0]))
    inputs_2d = torch.tensor([[1.0, 1.0], [-1.0, 3.0], [2.0, -3.0], [-2.0, -1.0]])
    return [
        ("a 2-3-1 network with one dead unit", nn.Sequential(known, nn.ReLU(), nn.Linear(3, 1)), inputs_2d),
        (
            "the same network on its last two inputs only (unit 2 is off for both)",
            nn.Sequential(copy.deepcopy(known), nn.ReLU(), nn.Linear(3, 1)),
            inputs_2d[2:],
        ),
        (
            "an MLP 3-6-6-2 with three units killed",
            _network_with_dead_units([3, 6, 6, 2], {0: [0, 4], 1: [2]}, 4),
            torch.randn(50, 3, generator=generator),
        ),
        (
            "the same MLP with ReLU(inplace=True)",
            _network_with_dead_units([3, 6, 6, 2], {0: [0, 4], 1: [2]}, 4, inplace=True),
            torch.randn(50, 3, generator=generator),
        ),
        (
            "an MLP 2-5-5-5-1 with a whole layer dead",
            _network_with_dead_units([2, 5, 5, 5, 1], {1: range(5)}, 6),
            torch.randn(40, 2, generator=generator),
        ),
    ]


def _dead_counts_reference(model: nn.Module, inputs: torch.Tensor) -> list[int]:
    """Dead units per ReLU layer, from :func:`relu_course.diagnostics.dead_units` on a copy of ``model``."""
    return [report.dead for report in diagnostics.dead_units(copy.deepcopy(model), inputs)]


def dead_unit_counts(function: Callable[[nn.Module, torch.Tensor], list]) -> bool:
    """Check a dead-unit detector built with forward hooks.

    The task: ``dead_unit_counts(model, inputs)`` returns, for every ``nn.ReLU`` module
    in ``model.modules()`` order, the number of its units (features) whose output is 0
    for every row of ``inputs``, as ints. It leaves no hooks on the model, does not
    change its parameters, and works with ``ReLU(inplace=True)``.
    """
    return _run_function_check("dead_unit_counts", function, _check_dead_unit_counts)


def _check_dead_unit_counts(function: Callable[..., Any]) -> str:
    """Every hidden network counted right; the summary line."""
    cases = _dead_unit_models()
    for name, model, inputs in cases:
        where = f"for {name}"
        expected = _dead_counts_reference(model, inputs)
        before = _snapshot(model)
        result = _call(function, model, inputs.clone(), where=where)
        _check_model_left_alone(model, before, where)
        values = _as_list(result, len(expected), where, "counts")
        got = [_as_whole_number(value, f"for ReLU layer {index} {where}") for index, value in enumerate(values)]
        if got != expected:
            raise _Failed(
                f"{where} expected dead units per ReLU layer {expected}, got {got}. Hint: a unit "
                "is dead when its output is 0 for every row: (output == 0).all(dim=0), summed."
            )
    return f"all {len(cases)} hidden networks passed (known units, killed units, in-place ReLU), no hooks left."


def _born_dead_reference(depth: int, width: int, inputs: torch.Tensor, seeds: Sequence[int]) -> float:
    """The fraction of ``seeds`` whose network has a ReLU layer with every unit dead on ``inputs``."""
    born_dead = 0
    for seed in seeds:
        model = networks.mlp([inputs.shape[1]] + [width] * depth + [1], seed=seed)
        reports = diagnostics.dead_units(model, inputs)
        born_dead += any(report.dead == report.units for report in reports)
    return born_dead / len(seeds)


def born_dead_fraction(function: Callable[..., float]) -> bool:
    """Check the measured fraction of deep, narrow ReLU networks that are dead at initialization.

    The task: ``born_dead_fraction(depth, width, inputs, seeds)`` builds, for each seed,
    ``networks.mlp([inputs.shape[1]] + [width] * depth + [1], seed=seed)`` (PyTorch's
    default initialization), calls it born dead when some ReLU layer has every unit dead
    on ``inputs``, and returns the fraction of seeds that gave a born-dead network, as a
    float. The expected values are computed with :func:`relu_course.diagnostics.dead_units`.
    """
    return _run_function_check("born_dead_fraction", function, _check_born_dead_fractions)


def _born_dead_cases() -> list[tuple[int, int, torch.Tensor, range]]:
    """(depth, width, inputs, seeds) for the hidden cases of ``born_dead_fraction``."""
    generator = torch.Generator().manual_seed(9)
    line = torch.linspace(-3.0, 3.0, 101).reshape(-1, 1)
    return [
        (3, 2, line, range(12)),
        (1, 3, line, range(6)),
        (5, 2, torch.randn(50, 2, generator=generator), range(5, 17)),
    ]


def _check_born_dead_fractions(function: Callable[..., Any]) -> str:
    """Every hidden fraction equal to the reference; the summary line."""
    cases = _born_dead_cases()
    for depth, width, inputs, seeds in cases:
        where = (
            f"for depth={depth}, width={width}, inputs of shape {tuple(inputs.shape)}, "
            f"seeds=range({seeds.start}, {seeds.stop})"
        )
        got = _as_float(_call(function, depth, width, inputs.clone(), seeds, where=where), where, "a fraction")
        want = _born_dead_reference(depth, width, inputs, seeds)
        if not _close(got, want, 0.0, 1e-12):
            raise _Failed(
                f"{where} expected {_number(want)}, got {_number(got)}. Hint: build each network with "
                "networks.mlp([inputs.shape[1]] + [width] * depth + [1], seed=seed), call it born dead "
                "when some layer's dead count equals its width, and divide by the number of seeds."
            )
    return f"all {len(cases)} hidden measurements agree with relu_course.diagnostics."


def _relu_linear_pairs(model: nn.Sequential) -> list[tuple[nn.Linear, nn.Linear]]:
    """(layer before a ReLU, layer after it) for an MLP Linear, ReLU, Linear, ..."""
    linears = [module for module in model if isinstance(module, nn.Linear)]
    return list(zip(linears[:-1], linears[1:]))


def revive(function: Callable[..., int]) -> bool:
    """Check a function-preserving revival of dead ReLU units.

    The task: ``revive(model, inputs, seed=0)`` takes an MLP (Linear, ReLU, ...,
    Linear), finds every unit that is dead on ``inputs`` (all layers measured before
    anything changes), and for each one redraws its incoming weights from
    N(0, 2 / fan_in) with a ``torch.Generator`` seeded with ``seed``, sets its bias to 0
    and sets its outgoing weights (its column in the next Linear) to 0; every other
    number stays as it was. It returns the number of revived units. So the network's
    output does not change, and fewer units are dead afterwards. The check calls
    ``function(model, inputs)`` and ``function(model, inputs, seed=...)``.
    """
    return _run_function_check("revive", function, _check_revivals)


def _revive_cases() -> list[tuple[str, nn.Sequential, torch.Tensor]]:
    """(description, model, inputs) for the hidden cases of ``revive``."""
    generator = torch.Generator().manual_seed(12)
    killed_in = {"2-8-8-1": {0: [0, 3, 5], 1: [1, 2]}, "3-6-6-6-2": {0: [1], 1: [0, 5], 2: [3]}, "2-4-4-1": {}}
    return [
        (
            "an MLP 2-8-8-1 with units killed in both hidden layers",
            _network_with_dead_units([2, 8, 8, 1], killed_in["2-8-8-1"], 3),
            torch.randn(64, 2, generator=generator),
        ),
        (
            "an MLP 3-6-6-6-2 with units killed in every layer",
            _network_with_dead_units([3, 6, 6, 6, 2], killed_in["3-6-6-6-2"], 5),
            torch.randn(64, 3, generator=generator),
        ),
        (
            "an MLP 2-4-4-1 with no dead unit",
            _network_with_dead_units([2, 4, 4, 1], killed_in["2-4-4-1"], 2),
            torch.randn(64, 2, generator=generator),
        ),
    ]


def _check_revivals(function: Callable[..., Any]) -> str:
    """Every hidden network revived right; the summary line."""
    cases = _revive_cases()
    for name, model, inputs in cases:
        _check_revive_case(function, name, model, inputs)
    return f"all {len(cases)} hidden networks revived correctly (output unchanged, live units untouched)."


def _check_revive_case(function: Callable[..., Any], name: str, model: nn.Sequential, inputs: torch.Tensor) -> None:
    """One hidden network: the right count, live units untouched, the output unchanged, the seed respected."""
    where = f"for {name}"
    with torch.no_grad():
        output_before = model(inputs).clone()
    dead_masks = _dead_masks(model, inputs)
    dead_before = sum(int(mask.sum()) for mask in dead_masks)
    before = _snapshot(model)
    twin = copy.deepcopy(model)
    result = _call(function, model, inputs.clone(), where=where)
    revived = _as_whole_number(result, where, "the number of revived units")
    if _hooks_left(model):
        raise _Failed(f"left hook(s) on the model {where}; remove them with handle.remove().")
    if revived != dead_before:
        raise _Failed(
            f"{where} returned {revived}; expected {dead_before}, the number of units dead on the inputs "
            "before any change (find them in every layer first, then change the weights)."
        )
    with torch.no_grad():
        output_after = model(inputs)
    linear_names = [str(i) for i, module in enumerate(model) if isinstance(module, nn.Linear)]
    linears = [model[int(name)] for name in linear_names]
    for index, (name, layer) in enumerate(zip(linear_names, linears)):
        own = dead_masks[index] if index < len(dead_masks) else torch.zeros(layer.out_features, dtype=torch.bool)
        previous = dead_masks[index - 1] if index > 0 else torch.zeros(layer.in_features, dtype=torch.bool)
        _check_revived_layer(
            layer, before[f"{name}.weight"], before[f"{name}.bias"], own, previous, f"{where}, Linear layer {index}"
        )
    if not torch.allclose(output_after, output_before, atol=1e-6):
        raise _Failed(f"{where} the network's output changed after revival; it must stay the same.")
    if dead_before and sum(int(mask.sum()) for mask in _dead_masks(model, inputs)) >= dead_before:
        raise _Failed(f"{where} as many units are dead after revival as before.")
    _call(function, twin, inputs.clone(), seed=0, where=f"{where} (second call, seed=0)")
    if any(not torch.equal(a, b) for a, b in zip(model.state_dict().values(), twin.state_dict().values())):
        raise _Failed(
            f"{where} two calls with the same seed gave different weights: draw them from "
            "torch.Generator().manual_seed(seed)."
        )


def _check_revived_layer(
    layer: nn.Linear,
    old_weight: torch.Tensor,
    old_bias: torch.Tensor,
    own: torch.Tensor,
    previous: torch.Tensor,
    where: str,
) -> None:
    """Rows of dead units (own) redrawn with bias 0; columns of revived inputs (previous) 0; the rest as before."""
    weight, bias = layer.weight.detach(), layer.bias.detach()
    live = ~own
    if not torch.equal(weight[live][:, ~previous], old_weight[live][:, ~previous]) or not torch.equal(
        bias[live], old_bias[live]
    ):
        raise _Failed(
            f"{where}: a weight or bias of a live unit changed; change only the dead units' incoming "
            "weights and biases, and their outgoing weights."
        )
    if previous.any() and not torch.equal(weight[live][:, previous], torch.zeros_like(weight[live][:, previous])):
        raise _Failed(
            f"{where}: the outgoing weights of revived units (their columns in this layer) are not 0; "
            "set them to 0 so that the network's output does not change."
        )
    if own.any():
        if not torch.equal(bias[own], torch.zeros_like(bias[own])):
            raise _Failed(f"{where}: a revived unit has a nonzero bias; set it to 0.")
        rows = weight[own]
        if torch.equal(rows, old_weight[own]) or (rows == 0).all(dim=1).any():
            raise _Failed(
                f"{where}: the incoming weights of the dead units were not redrawn (draw them from N(0, 2 / fan_in))."
            )


def _dead_masks(model: nn.Sequential, inputs: torch.Tensor) -> list[torch.Tensor]:
    """For each ReLU layer, which units are <= 0 before the ReLU for every input."""
    masks = []
    activation = inputs
    with torch.no_grad():
        for module in model:
            activation = module(activation)
            if isinstance(module, nn.Linear) and len(masks) < len(_relu_linear_pairs(model)):
                masks.append((activation <= 0).all(dim=0))
    return masks


# =========================================================================== the born-dead formula, derived

_BORN_DEAD_SHAPES = ((3, 5), (2, 1), (2, 10), (4, 16), (1, 3), (6, 30), (10, 100), (50, 7))  # (width, depth)

_BORN_DEAD_MISTAKES: tuple[tuple[Callable[[int, int], float], str], ...] = (
    (
        lambda w, L: (1.0 - 2.0**-w) ** L,
        "that is the chance that the signal survives every layer; born dead is the other outcome",
    ),
    (
        lambda w, L: 1.0 - (1.0 - 2.0**-L) ** w,
        "you swapped width and depth: the units of one layer must all be off together",
    ),
    (
        lambda w, L: L * 2.0**-w,
        "adding the layers' chances counts twice the networks with two all-zero layers (and can exceed 1); "
        "compute the chance that no layer is all zero instead",
    ),
    (
        lambda w, L: 2.0 ** -(w * L),
        "that is the chance that every layer is all zero; one all-zero layer is enough",
    ),
    (
        lambda w, L: 2.0**-w,
        "that is the chance for one layer; each of the depth layers is one more chance to die",
    ),
    (
        lambda w, L: 1.0 - (1.0 - 2.0**-w) ** (L - 1),
        "count every hidden layer: there are depth of them, each a chance to die",
    ),
    (
        lambda w, L: 1.0 - (1.0 - 2.0**-w) ** (L + 1),
        "count the hidden layers only: depth of them (the output layer has no ReLU)",
    ),
    (
        lambda w, L: 1.0 - (1.0 - 1.0 / (2.0 * w)) ** L,
        "all width units must be off together: multiply 1/2 width times, which is not 1 / (2 width)",
    ),
)
_BORN_DEAD_HINT = (
    "first the chance that one layer is all zero (every unit off, each with probability 1/2, independently), "
    "then the chance that none of the depth layers is; born dead is the other outcome."
)


def born_dead_probability(function: Callable[[int, int], float]) -> bool:
    """Check the chance that a random ReLU network is born dead at one input, derived by hand.

    The task: ``born_dead_probability(width, depth)`` returns, as a float, the chance
    that a network of ``depth`` hidden ReLU layers of ``width`` units, with weights drawn
    symmetric about 0 and biases 0, has an all-zero layer at one fixed input x != 0. The
    reference is :func:`relu_course.dead_neurons.born_dead_probability`; answers must
    agree within a relative 1e-9 (or 1e-12 absolute, for the tiny probabilities of wide
    layers). A failure names the mistake it most likely came from.
    """
    return _run_function_check("born_dead_probability", function, _check_born_dead_probabilities)


def _check_born_dead_probabilities(function: Callable[..., Any]) -> str:
    """Every hidden (width, depth) agrees with the package's formula; the summary line."""
    for width, depth in _BORN_DEAD_SHAPES:
        where = f"for width={width}, depth={depth}"
        got = _as_float(_call(function, width, depth, where=where), where, "a probability")
        expected = dead_neurons.born_dead_probability(width, depth)
        if not _close(got, expected, 1e-9, 1e-12):
            raise _Failed(
                f"{where} expected {_number(expected)}, got {_number(got)}. "
                f"Hint: {_born_dead_hint(got, width, depth, expected)}"
            )
    return (
        f"all {len(_BORN_DEAD_SHAPES)} hidden (width, depth) pairs agree with "
        "relu_course.dead_neurons.born_dead_probability."
    )


def _born_dead_hint(got: float, width: int, depth: int, expected: float) -> str:
    """The hint that names the mistake ``got`` most likely came from, else the general one."""
    candidates = [(formula(width, depth), hint) for formula, hint in _BORN_DEAD_MISTAKES]
    named = _likely_mistake(got, expected, candidates, rtol=1e-9, atol=1e-15)
    return named + "." if named else _BORN_DEAD_HINT


# =========================================================================== predictions: the explain questions

_LAYER_OFF_WIDTH, _LAYER_OFF_LAYERS, _LAYER_OFF_TRIALS = 4, 4, 20000


def _layer_off_fraction() -> float:
    """Measured chance that a layer of width 4 outputs all zeros, given an input that is not all zero.

    ``dead_neurons.simulate_born_dead(4, 4, [[0.8, -1.3]], trials=20000, seed=5)`` draws
    He-initialized networks with biases 0 and gives, for l = 1, ..., 4, the fraction c_l
    of networks already all zero at layer l (c_0 = 0). Of the (1 - c_{l-1}) trials that
    reach layer l with a non-zero signal, (c_l - c_{l-1}) die there; the result pools
    the four layers: sum(c_l - c_{l-1}) / sum(1 - c_{l-1}), about 1/16.
    """
    collapsed = dead_neurons.simulate_born_dead(
        _LAYER_OFF_WIDTH, _LAYER_OFF_LAYERS, [[0.8, -1.3]], trials=_LAYER_OFF_TRIALS, seed=5
    )
    before = [0.0, *collapsed[:-1]]
    died = sum(after - previous for after, previous in zip(collapsed, before))
    reached = sum(1.0 - previous for previous in before)
    return died / reached


@prediction_check
def predict_layer_off(prediction: object) -> bool:
    """Check the predicted chance that one ReLU layer of width 4 outputs all zeros for one input.

    The prediction: weights symmetric about 0 (He initialization), biases 0, and an
    input to the layer that is not all zero; the chance that all 4 units of the layer
    output 0. The check measures it by simulation (see ``_layer_off_fraction``) and
    accepts a prediction within 10 %.
    """
    return _run_prediction_check(
        "predict_layer_off",
        prediction,
        _layer_off_fraction,
        rtol=0.1,
        what="the chance that a layer of width 4 is all zero for one input",
        hint=(
            "Hint: each unit's pre-activation w . h is symmetric about 0 and has its own row of weights, so "
            "each unit is off with probability 1/2, independently of the others; the layer is all zero when every "
            "unit is off."
        ),
    )


def _dead_network() -> tuple[nn.Sequential, torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """An MLP 2-12-12-1 in float64 with five units killed, its inputs, targets and dead masks."""
    model = _network_with_dead_units([2, 12, 12, 1], {0: [1, 4, 9], 1: [2, 7]}, seed=7).double()
    generator = torch.Generator().manual_seed(13)
    inputs = torch.randn(64, 2, generator=generator, dtype=torch.float64)
    targets = torch.randn(64, 1, generator=generator, dtype=torch.float64)
    return model, inputs, targets, _dead_masks(model, inputs)


def _mse_gradients(model: nn.Sequential, inputs: torch.Tensor, targets: torch.Tensor) -> list[nn.Linear]:
    """One backward pass of the mean squared error; the hidden Linear layers, their .grad filled."""
    model.zero_grad()
    torch.nn.functional.mse_loss(model(inputs), targets).backward()
    return [module for module in model if isinstance(module, nn.Linear)][:-1]


def _dead_unit_gradient() -> float:
    """Measured: the largest |gradient| of a dead unit's incoming weights or bias, one full batch.

    The network of ``_dead_network``: five units killed by a bias of -50, the mean
    squared error on 64 inputs. Exactly 0.0: relu' is 0 wherever a unit is off.
    """
    model, inputs, targets, masks = _dead_network()
    largest = 0.0
    for layer, mask in zip(_mse_gradients(model, inputs, targets), masks):
        if mask.any():
            largest = max(largest, layer.weight.grad[mask].abs().max().item(), layer.bias.grad[mask].abs().max().item())
    return largest


@prediction_check
def predict_dead_unit_gradient(prediction: object) -> bool:
    """Check the predicted gradient of a dead unit's incoming weights.

    The prediction: the largest absolute value of the gradient of the loss with respect
    to a dead unit's incoming weights and bias, over a full batch. The check measures it
    (see ``_dead_unit_gradient``); the prediction must be exact.
    """
    return _run_prediction_check(
        "predict_dead_unit_gradient",
        prediction,
        _dead_unit_gradient,
        rtol=0.0,
        what="the largest |gradient| of a dead unit's incoming weights",
        hint=(
            "Hint: a dead unit's pre-activation is <= 0 for every input, where relu' is 0; the chain rule "
            "multiplies the gradient of its incoming weights by that slope for every example."
        ),
    )


def _revival_step(steps: int = 5) -> float:
    """Measured: the first gradient step after revival at which revived units' incoming weights get a gradient.

    The network of ``_dead_network``, its dead units revived: incoming weights redrawn
    from N(0, 2 / fan_in) (a generator seeded with 0), biases 0, outgoing weights 0. Then
    plain SGD (learning rate 0.05) on the mean squared error; at steps 1, 2, ... the
    gradient of the revived units' incoming weights is inspected before the update. The
    number of the first step at which it is not all zero: 2. Infinity if none of the
    first ``steps`` is.
    """
    model, inputs, targets, masks = _dead_network()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for (layer, following), mask in zip(_relu_linear_pairs(model), masks):
            fan_in = layer.in_features
            drawn = torch.randn(int(mask.sum()), fan_in, generator=generator, dtype=torch.float64)
            layer.weight[mask] = drawn * (2.0 / fan_in) ** 0.5
            layer.bias[mask] = 0.0
            following.weight[:, mask] = 0.0
    for step in range(1, steps + 1):
        layers = _mse_gradients(model, inputs, targets)
        if any(bool((layer.weight.grad[mask] != 0).any()) for layer, mask in zip(layers, masks)):
            return float(step)
        with torch.no_grad():
            for parameter in model.parameters():
                parameter -= 0.05 * parameter.grad
    return float("inf")


@prediction_check
def predict_revival_step(prediction: object) -> bool:
    """Check the predicted step at which revived units first get a gradient on their incoming weights.

    The prediction: after a revival that sets the outgoing weights of the revived units
    to 0, number the gradient steps 1, 2, 3, ...; at which step is the gradient of the
    revived units' incoming weights first not zero? The check measures it (see
    ``_revival_step``); the prediction must be exact.
    """
    return _run_prediction_check(
        "predict_revival_step",
        prediction,
        _revival_step,
        rtol=0.0,
        what="the first step at which the revived units' incoming weights get a gradient",
        hint=(
            "Hint: the gradient that reaches a unit is the next layer's gradient multiplied by the unit's outgoing "
            "weights, and revive sets them to 0. At which step do they first differ from 0?"
        ),
    )
