"""Dead ReLU units: finding them, watching them during training, and the odds of a network born dead.

A unit is *off* for an input when its pre-activation z = w . x + b is <= 0; a ReLU unit
then outputs 0 and passes no gradient back. It is *dead* on a dataset when it is off
for every input of the data: then no example moves its weights. The detector itself is
``relu_course.diagnostics.dead_units``; this module adds what Chapter 5 needs around it:

* ``dead_fractions`` (with ``diagnostics.off_fractions``): per layer,
  which fraction of units is dead (NaN when the network has diverged);
* ``DeadUnitMonitor``: a ``training.train`` callback that records the dead fraction of
  every layer during training;
* ``born_dead_probability`` and ``simulate_born_dead``: the chance that a deep, narrow
  ReLU network is a constant function at initialization (Lu et al., 2019);
* ``count_activation_patterns``: how many linear regions a set of points meets;
* ``with_activation``: a copy of a network with another activation, for the remedies
  (the other variations, batch norm and bias changes, are in ``relu_course.networks``).

The measuring functions take ``model`` and ``inputs`` as in ``relu_course.diagnostics``,
and leave the model they inspect as it was: same parameters, same
train/eval mode, same batch-norm running statistics. ``with_activation`` returns a
changed copy.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from relu_course._validation import as_real_array, choice, whole_number
from relu_course.diagnostics import activation_inputs, off_fractions
from relu_course.networks import ACTIVATION_MODULES, replace_activations

__all__ = [
    "DeadUnitMonitor",
    "born_dead_probability",
    "count_activation_patterns",
    "dead_fractions",
    "simulate_born_dead",
    "with_activation",
]


# --------------------------------------------------------------------------- measuring


def dead_fractions(model: nn.Module, inputs: torch.Tensor) -> dict[str, float]:
    """The fraction of units in each activation layer that are off for every input.

    Used in: Chapter 5 (§5.5).

    The same count as ``diagnostics.dead_units`` (dead / units), with one difference:
    a layer whose pre-activations contain NaN (a diverged network) reports NaN, where
    ``dead_units`` raises, so a training run can be monitored to its end.

    Returns
    -------
    dict of str -> float
        Activation module name -> fraction in [0, 1], or NaN; in forward order.
    """
    return {
        name: math.nan if torch.isnan(off).any() else (off == 1).double().mean().item()
        for name, off in off_fractions(model, inputs).items()
    }


class DeadUnitMonitor:
    """A ``training.train`` callback that records each layer's dead fraction as training goes.

    ``train(model, x, y, callback=DeadUnitMonitor(x))`` calls the monitor after every
    update; every ``every`` steps it measures ``dead_fractions(model, inputs)``. Call
    ``monitor.record(0, model)`` before training to include the starting point.

    The measurement uses the model in its current mode: during training that is train
    mode, so a batch-norm layer normalizes with the statistics of ``inputs``, as a
    full-batch training step does. Running statistics are left untouched.

    Parameters
    ----------
    inputs : Tensor, shape (n, ...)
        The data on which a unit must be off everywhere to count as dead.
    every : int, default 1
        Measure at the steps divisible by ``every``.

    Attributes
    ----------
    steps : list of int
        The steps at which the monitor measured.
    fractions : dict of str -> list of float
        Per activation layer (keyed by module name), the dead fraction at each of
        ``steps`` (NaN once the network has diverged).
    """

    def __init__(self, inputs: torch.Tensor, every: int = 1) -> None:
        if not isinstance(inputs, torch.Tensor):
            raise TypeError(f"inputs must be a torch.Tensor, got {type(inputs).__name__}.")
        self.inputs = inputs
        self.every = whole_number(every, "every", minimum=1)
        self.steps: list[int] = []
        self.fractions: dict[str, list[float]] = {}

    def __call__(self, step: int, model: nn.Module) -> None:
        """Record at this step if it is a multiple of ``every``."""
        if step % self.every == 0:
            self.record(step, model)

    def record(self, step: int, model: nn.Module) -> None:
        """Measure the dead fraction of every layer now, and store it under ``step``."""
        step = whole_number(step, "step")
        for name, fraction in dead_fractions(model, self.inputs).items():
            self.fractions.setdefault(name, []).append(fraction)
        self.steps.append(step)


def count_activation_patterns(model: nn.Module, inputs: torch.Tensor) -> int:
    """How many different on/off patterns the units take over ``inputs``.

    Used in: Chapter 5 (§5.7).

    The pattern of an input x lists, for every unit of every activation layer, whether
    its pre-activation is > 0. For ReLU and Leaky ReLU networks, the inputs that share
    a pattern form one convex region on which the network is a single affine function:
    a linear region. So this counts the linear regions that contain at least one of
    the points. A dead unit has the same bit for every input and adds none.
    Neighbouring regions may carry the same affine function (for instance when a later
    layer is dead on both), so the number of different pieces can be smaller.

    Parameters
    ----------
    model : nn.Module
        A network with activation modules.
    inputs : Tensor, shape (n, ...)
        The points, e.g. a fine grid over the input plane.

    Returns
    -------
    int
        Between 1 and n.
    """
    bits = torch.cat([pre.reshape(pre.shape[0], -1) > 0 for _, pre in activation_inputs(model, inputs)], dim=1)
    # Pack each pattern into bytes, then count the distinct byte strings.
    packed = np.packbits(bits.numpy(), axis=1)
    return len(np.unique(packed.view(np.dtype((np.void, packed.shape[1]))).ravel()))


# --------------------------------------------------------------------------- born dead


def born_dead_probability(width: int, depth: int) -> float:
    """Chance that one fixed input gives an all-zero layer somewhere in a random ReLU network.

    Used in: Chapter 5 (§5.4).

    For a network of ``depth`` hidden ReLU layers, each ``width`` units wide,

        P(born dead at x) = 1 - (1 - 2**-width) ** depth.

    Exact under these assumptions: the input x is not 0; the weights are independent
    and drawn from a distribution symmetric about 0 with no atom at 0 (e.g. He
    initialization, N(0, 2 / fan_in)); all biases are 0. Then, given a non-zero input
    h, each unit's pre-activation w . h is > 0 with probability exactly 1/2,
    independently of the other units, so a layer is all zero with probability
    2**-width. A zero layer stays zero in every layer after it (zero biases), and the
    network's output is then its last bias, whatever the input (Lu et al., 2019).

    Parameters
    ----------
    width : int
        Units per hidden layer, >= 1.
    depth : int
        Number of hidden layers, >= 0.

    Returns
    -------
    float
        In [0, 1].
    """
    width = whole_number(width, "width", minimum=1)
    depth = whole_number(depth, "depth")
    # 1 - (1 - p)^L computed as -expm1(L * log1p(-p)), accurate when p is tiny.
    return -math.expm1(depth * math.log1p(-(2.0**-width)))


def simulate_born_dead(width: int, depth: int, inputs: ArrayLike, *, trials: int = 1000, seed: int = 0) -> np.ndarray:
    """Estimate, by drawing random networks, how often a ReLU network is dead on ``inputs``.

    Used in: Chapter 5 (§5.4).

    Draws ``trials`` networks with ``depth`` hidden layers of ``width`` units, weights
    N(0, 2 / fan_in) (He initialization) and zero biases, as ``born_dead_probability``
    assumes. Layer l of a network is collapsed when it outputs 0 for every row of
    ``inputs``; then every later layer does too, and the network is a constant
    function on the inputs.

    Parameters
    ----------
    width : int
        Units per hidden layer, >= 1.
    depth : int
        Number of hidden layers, >= 1.
    inputs : array_like, shape (n, d)
        The inputs; one input is shape (1, d).
    trials : int, default 1000
        Number of random networks, >= 1.
    seed : int, default 0
        Seed of the weights. The weights do not depend on ``inputs``: with the same
        seed, width and depth, two calls draw the same networks.

    Returns
    -------
    ndarray of float64, shape (depth,)
        Entry l - 1: the fraction of networks whose layer l is collapsed, that is
        whose first l layers already make them constant on ``inputs``. Its standard
        error is sqrt(p (1 - p) / trials).
    """
    width = whole_number(width, "width", minimum=1)
    depth = whole_number(depth, "depth", minimum=1)
    trials = whole_number(trials, "trials", minimum=1)
    points, _ = as_real_array(inputs, "inputs")
    if points.ndim != 2 or points.shape[0] < 1 or points.shape[1] < 1:
        raise ValueError(f"inputs must have shape (n, d) with n, d >= 1; got {points.shape}.")
    if not np.all(np.isfinite(points)):
        raise ValueError("inputs must be finite numbers.")
    generator = torch.Generator().manual_seed(whole_number(seed, "seed"))
    signal = torch.from_numpy(points).expand(trials, *points.shape)  # (alive, n, fan_in)
    alive = torch.arange(trials)  # networks not yet collapsed; a collapsed one stays so
    collapsed = np.empty(depth)
    for layer in range(depth):
        fan_in = signal.shape[-1]
        # Every network's weights are drawn, so the draws do not depend on the inputs.
        weights = torch.randn(trials, fan_in, width, generator=generator, dtype=torch.float64)
        weights = weights[alive] * math.sqrt(2.0 / fan_in)
        signal = torch.relu(torch.einsum("tnd,tdw->tnw", signal, weights))
        still_alive = (signal != 0).flatten(1).any(dim=1)
        alive, signal = alive[still_alive], signal[still_alive]
        collapsed[layer] = 1.0 - len(alive) / trials
    return collapsed


# --------------------------------------------------------------------------- variations of a network


def with_activation(model: nn.Module, activation: str) -> nn.Module:
    """A copy of ``model`` with every activation module replaced by ``activation``.

    Used in: Chapter 5 (§5.6).

    The weights are copied, so the two networks start from the same parameters and
    can be trained separately; ``model`` itself is not changed.

    Parameters
    ----------
    model : nn.Module
        A network with activation modules (``diagnostics.activation_layers``).
    activation : str
        A name from ``networks.ACTIVATION_MODULES``, e.g. ``"leaky_relu"``
        (PyTorch's default negative slope, 0.01).

    Returns
    -------
    nn.Module
    """
    activation = choice(activation, "activation", tuple(ACTIVATION_MODULES))
    return replace_activations(model, lambda old: ACTIVATION_MODULES[activation]())
