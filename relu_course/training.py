"""Training: a small, seeded loop that returns its history, and many small networks at once.

* ``train``: one network, full-batch or minibatches, SGD or Adam, with a callback;
* ``train_ensemble``: one classifier per seed, all trained together through batched
  matrix products, each exactly as ``train`` would train it alone;
* ``accuracy``, and the losses by name (``LOSSES``, ``loss_function``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from relu_course._validation import choice, positive_number, real_number, whole_number
from relu_course.networks import mlp

__all__ = ["LOSSES", "Ensemble", "History", "accuracy", "loss_function", "train", "train_ensemble"]

LossFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

#: The losses the course trains with, by name: the mean of (prediction - target)^2, and
#: the cross-entropy of class scores against class indices.
LOSSES: dict[str, LossFunction] = {"mse": nn.functional.mse_loss, "cross_entropy": nn.functional.cross_entropy}
_OPTIMIZERS = ("sgd", "adam")


def loss_function(name: str) -> LossFunction:
    """The loss called ``name`` (a key of ``LOSSES``), e.g. ``loss_function("mse")(outputs, targets)``."""
    return LOSSES[choice(name, "loss", tuple(LOSSES))]


@dataclass
class History:
    """What happened during training.

    Attributes
    ----------
    losses : list of float
        The training loss at each step (on that step's batch), before the update.
    seconds : float
        Wall-clock time of the whole loop. It varies from run to run: never print it
        in a checked notebook cell without ``# NBVAL_IGNORE_OUTPUT``.
    """

    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def final_loss(self) -> float:
        """The loss at the last step."""
        return self.losses[-1]


def train(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    loss: str = "mse",
    optimizer: str = "adam",
    learning_rate: float = 1e-2,
    steps: int = 500,
    batch_size: int | None = None,
    momentum: float = 0.0,
    seed: int = 0,
    callback: Callable[[int, nn.Module], None] | None = None,
) -> History:
    """Train ``model`` in place for ``steps`` updates and return the history.

    Each step: take a batch, forward, loss, backward, one optimizer update, then call
    ``callback(step, model)`` if given (steps count from 1).

    Parameters
    ----------
    model : nn.Module
        Maps ``inputs`` of shape (n, ...) to predictions.
    inputs : Tensor, shape (n, ...)
    targets : Tensor
        Shape (n, outputs) for ``"mse"``; class indices of shape (n,) for ``"cross_entropy"``.
    loss : {"mse", "cross_entropy"}, default "mse"
    optimizer : {"adam", "sgd"}, default "adam"
    learning_rate : float, default 1e-2
        Step size, > 0.
    steps : int, default 500
        Number of updates, >= 1.
    batch_size : int, optional
        Rows per step. None (the default) uses the whole data at every step: full-batch
        training, with no random draws. Otherwise each pass over the data visits the
        rows in a new random order drawn from ``seed``.
    momentum : float, default 0.0
        Momentum of SGD (ignored by Adam).
    seed : int, default 0
        Seed of the batch order. The global random state of PyTorch is not touched.
    callback : callable, optional
        Called as ``callback(step, model)`` after every update, e.g. to record a
        diagnostic during training.

    Returns
    -------
    History
        The loss at every step and the time taken.
    """
    compute_loss = loss_function(loss)
    optimizer = choice(optimizer, "optimizer", _OPTIMIZERS)
    learning_rate = positive_number(learning_rate, "learning_rate")
    momentum = real_number(momentum, "momentum")
    steps = whole_number(steps, "steps", minimum=1)
    if len(inputs) != len(targets):
        raise ValueError(f"inputs has {len(inputs)} rows but targets has {len(targets)}.")
    if batch_size is not None:
        batch_size = whole_number(batch_size, "batch_size", minimum=1)
    updater = _make_optimizer(model, optimizer, learning_rate, momentum)
    batches = _batch_indices(len(inputs), batch_size, whole_number(seed, "seed"))
    history = History()
    start = time.perf_counter()
    for step in range(1, steps + 1):
        rows = next(batches)
        batch_inputs, batch_targets = (inputs, targets) if rows is None else (inputs[rows], targets[rows])
        updater.zero_grad()
        step_loss = compute_loss(model(batch_inputs), batch_targets)
        step_loss.backward()
        updater.step()
        history.losses.append(step_loss.item())
        if callback is not None:
            callback(step, model)
    history.seconds = time.perf_counter() - start
    return history


def _make_optimizer(model: nn.Module, name: str, learning_rate: float, momentum: float) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=momentum)
    return torch.optim.Adam(model.parameters(), lr=learning_rate)


def _batch_indices(rows: int, batch_size: int | None, seed: int):
    """Yield None forever (full batch), or index tensors of shuffled batches."""
    if batch_size is None or batch_size >= rows:
        while True:
            yield None
    generator = torch.Generator().manual_seed(seed)
    while True:
        order = torch.randperm(rows, generator=generator)
        for start in range(0, rows, batch_size):
            yield order[start : start + batch_size]


def accuracy(model: nn.Module, inputs: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of rows whose highest-scoring class is the label.

    Parameters
    ----------
    model : nn.Module
        Maps inputs of shape (n, ...) to class scores of shape (n, classes).
    inputs : Tensor, shape (n, ...)
    labels : Tensor of int, shape (n,)

    Returns
    -------
    float
        In [0, 1].
    """
    with torch.no_grad():
        predictions = model(inputs).argmax(dim=1)
    return (predictions == labels).float().mean().item()


# --------------------------------------------------------------------------- several networks at once


@dataclass
class Ensemble:
    """Networks trained together by ``train_ensemble``, one per seed.

    Attributes
    ----------
    models : list of nn.Sequential
        The trained networks, in the order of the seeds.
    losses : list of list of float
        ``losses[j][s]``: the loss of network j at step s + 1, before that step's update.
    seconds : float
        Wall-clock time of the training loop, for all networks together. It varies from
        run to run: never print it in a checked notebook cell.
    accuracies : list of list of float
        ``accuracies[j][s]``: the training accuracy of network j at step s + 1, before
        that step's update (the fraction of its inputs whose highest score is the label).
        Empty for networks trained for regression.
    """

    models: list[nn.Sequential]
    losses: list[list[float]]
    seconds: float
    accuracies: list[list[float]] = field(default_factory=list)

    @property
    def final_losses(self) -> list[float]:
        """The loss of each network at the last step."""
        return [member_losses[-1] for member_losses in self.losses]

    def steps_to_accuracy(self, threshold: float) -> list[int | None]:
        """For each network, the first step whose training accuracy is >= ``threshold``.

        Steps count from 1, as in ``losses``; None for a network that never got there.
        A step count is "time to accuracy" measured in updates, which, unlike seconds,
        is the same on every machine for the same arithmetic.
        """
        threshold = real_number(threshold, "threshold")
        if not self.accuracies:
            raise ValueError("no accuracies were recorded: these networks were trained for regression (mse).")
        return [
            next((step for step, value in enumerate(member, start=1) if value >= threshold), None)
            for member in self.accuracies
        ]


def train_ensemble(
    layer_sizes: Sequence[int],
    activation: str | Callable[[], nn.Module],
    seeds: Sequence[int],
    inputs: torch.Tensor,
    labels: torch.Tensor,
    *,
    steps: int = 200,
    learning_rate: float = 1e-2,
    init: str = "pytorch",
    dtype: torch.dtype = torch.float32,
    loss: str = "cross_entropy",
) -> Ensemble:
    """Train one network per seed, all at once, with full-batch Adam.

    Network j starts as ``networks.mlp(layer_sizes, activation, init=init, seed=seeds[j])``.
    The networks' parameters are stacked along a new first axis, and the networks run
    side by side through batched matrix products (``torch.baddbmm``). The loss is the sum
    of the networks' cross-entropies, so each network's gradient is its own, and Adam
    updates every number separately. The result is the same as ``training.train(model,
    inputs, labels, loss=loss, optimizer="adam", learning_rate=learning_rate,
    steps=steps)`` for each network alone (up to rounding: bit for bit on the machine the
    tests ran on), in much less time: a small network's training time goes mostly into
    the fixed cost of each PyTorch operation, and here one operation serves all networks.

    All networks may learn the same data, or each its own dataset (of the same size):
    pass ``inputs`` of shape (k, n, d) and ``labels`` of shape (k, n) for k networks
    (for ``loss="mse"``: targets of shape (k, n, outputs)).

    Parameters
    ----------
    layer_sizes : sequence of int
        Widths from input to output, as for ``networks.mlp``.
    activation : str or callable
        What ``networks.mlp`` accepts: a name, e.g. ``"gelu"``, or a function that
        returns a new activation layer without parameters, e.g.
        ``functools.partial(nn.LeakyReLU, 0.2)``.
    seeds : sequence of int
        One seed per network, at least one; a seed may repeat (e.g. with other data).
    inputs : Tensor, shape (n, layer_sizes[0]) or (k, n, layer_sizes[0])
        One dataset for all networks, or one per network (k = len(seeds)).
    labels : Tensor
        For ``loss="cross_entropy"``: classes 0, ..., layer_sizes[-1] - 1, of dtype
        int64, shaped like ``inputs`` without its last axis. For ``loss="mse"``: the
        regression targets, of ``dtype`` and shape (n, layer_sizes[-1]) or
        (k, n, layer_sizes[-1]).
    steps : int, default 200
        Updates, >= 1.
    learning_rate : float, default 1e-2
        Adam's step size, > 0.
    init : {"pytorch", "he", "xavier", "lecun"}, default "pytorch"
        Weight initialization, as for ``networks.mlp``.
    dtype : torch.dtype, default torch.float32
        Type of the parameters, as for ``networks.mlp``; ``inputs`` must have it too.
    loss : {"cross_entropy", "mse"}, default "cross_entropy"
        Classification, or regression with the mean squared error of each network.

    Returns
    -------
    Ensemble
        The trained networks, their losses at every step (and, for classification,
        their training accuracies), and the time taken.
    """
    seeds = [whole_number(seed, "every seed") for seed in seeds]
    if not seeds:
        raise ValueError("seeds must name at least one seed.")
    steps = whole_number(steps, "steps", minimum=1)
    learning_rate = positive_number(learning_rate, "learning_rate")
    loss = choice(loss, "loss", _ENSEMBLE_LOSSES)
    classification = loss == "cross_entropy"
    check_data = _check_classification_data if classification else _check_regression_data
    per_network = check_data(inputs, labels, len(seeds))
    models = [mlp(layer_sizes, activation, init=init, seed=seed, dtype=dtype) for seed in seeds]
    if inputs.dtype != dtype:
        raise TypeError(f"inputs have dtype {inputs.dtype} but the networks {dtype}: make both the same.")
    parameters, _ = torch.func.stack_module_state(models)  # name -> tensor (networks, ...)
    layers = list(models[0])
    for layer in layers:
        if not isinstance(layer, (nn.Linear, nn.PReLU)) and any(True for _ in layer.parameters()):
            raise TypeError(f"train_ensemble cannot run the layer {type(layer).__name__}: it has parameters.")
    if not classification and labels.dtype != dtype:
        raise TypeError(f"targets have dtype {labels.dtype} but the networks {dtype}: make both the same.")
    batch = inputs if per_network else inputs.expand(len(seeds), -1, -1)  # (networks, n, d)
    targets = labels if per_network else labels.expand(len(seeds), *labels.shape)  # (networks, n[, out])
    optimizer = torch.optim.Adam(parameters.values(), lr=learning_rate)
    losses: list[list[float]] = [[] for _ in seeds]
    accuracies: list[list[float]] = [[] for _ in seeds] if classification else []
    start = time.perf_counter()
    for _ in range(steps):
        optimizer.zero_grad()
        outputs = _run_stacked(layers, parameters, batch)  # (networks, n, outputs)
        member_losses = _member_losses(outputs, targets, classification)
        member_losses.sum().backward()
        optimizer.step()
        for record, value in zip(losses, member_losses.tolist()):
            record.append(value)
        if classification:
            correct = (outputs.detach().argmax(dim=-1) == targets).to(outputs.dtype).mean(dim=1)
            for record, value in zip(accuracies, correct.tolist()):
                record.append(value)
    seconds = time.perf_counter() - start
    for index, model in enumerate(models):
        model.load_state_dict({name: stacked[index].detach().clone() for name, stacked in parameters.items()})
    return Ensemble(models=models, losses=losses, seconds=seconds, accuracies=accuracies)


_ENSEMBLE_LOSSES = ("cross_entropy", "mse")


def _member_losses(outputs: torch.Tensor, targets: torch.Tensor, classification: bool) -> torch.Tensor:
    """Each network's mean loss, shape (networks,).

    ``outputs`` has shape (networks, n, outputs); ``targets`` (networks, n) class indices
    for the cross-entropy, or (networks, n, outputs) values for the mean squared error.
    """
    if classification:
        per_example = F.cross_entropy(outputs.reshape(-1, outputs.shape[-1]), targets.reshape(-1), reduction="none")
        return per_example.reshape(len(outputs), -1).mean(dim=1)
    return (outputs - targets).pow(2).mean(dim=(1, 2))


def _run_stacked(layers: list[nn.Module], parameters: Mapping[str, torch.Tensor], batch: torch.Tensor) -> torch.Tensor:
    """The forward pass of k stacked ``networks.mlp`` networks.

    Parameters
    ----------
    layers : list of nn.Module
        The modules of one of the networks; only their types are used.
    parameters : mapping of name -> Tensor
        Each network's parameters stacked along a first axis of length k, named as in
        the network (``"0.weight"`` of shape (k, out, in), ...).
    batch : Tensor, shape (k, n, d)
        One batch per network.

    Returns
    -------
    Tensor, shape (k, n, outputs)
    """
    for index, layer in enumerate(layers):
        if isinstance(layer, nn.Linear):  # x W^T + b, network by network
            weight, bias = parameters[f"{index}.weight"], parameters[f"{index}.bias"]
            batch = torch.baddbmm(bias.unsqueeze(1), batch, weight.transpose(1, 2))
        elif isinstance(layer, nn.PReLU):  # x if x >= 0 else a x, with each network's slopes a
            slopes = parameters[f"{index}.weight"].unsqueeze(1)  # (k, 1, 1) or (k, 1, units)
            batch = torch.where(batch >= 0, batch, slopes * batch)
        else:  # an activation without parameters, elementwise
            batch = layer(batch)
    return batch


def _check_regression_data(inputs: object, targets: object, networks: int) -> bool:
    """Check the data of ``train_ensemble(loss="mse")``; True when each network has its own dataset."""
    if not isinstance(inputs, torch.Tensor) or not isinstance(targets, torch.Tensor):
        raise TypeError(
            f"inputs and targets must be torch.Tensors, got {type(inputs).__name__} and {type(targets).__name__}."
        )
    per_network = inputs.ndim == 3
    shapes_agree = targets.ndim == inputs.ndim and targets.shape[:-1] == inputs.shape[:-1]
    if inputs.ndim not in (2, 3) or not shapes_agree or (per_network and len(inputs) != networks):
        raise ValueError(
            f"for {networks} network(s), inputs must have shape (n, d) with targets (n, outputs), or "
            f"({networks}, n, d) with targets ({networks}, n, outputs); got {tuple(inputs.shape)} and "
            f"{tuple(targets.shape)}."
        )
    return per_network


def _check_classification_data(inputs: object, labels: object, networks: int) -> bool:
    """Check the data of ``train_ensemble``; True when each network has its own dataset."""
    if not isinstance(inputs, torch.Tensor) or not isinstance(labels, torch.Tensor):
        raise TypeError(
            f"inputs and labels must be torch.Tensors, got {type(inputs).__name__} and {type(labels).__name__}."
        )
    if labels.dtype != torch.int64:
        raise TypeError(f"labels must be class indices of dtype torch.int64, got {labels.dtype}.")
    per_network = inputs.ndim == 3
    expected = (networks, *inputs.shape[1:2]) if per_network else tuple(inputs.shape[:1])
    if inputs.ndim not in (2, 3) or tuple(labels.shape) != expected or (per_network and len(inputs) != networks):
        raise ValueError(
            f"for {networks} network(s), inputs must have shape (n, d) with labels (n,), or "
            f"({networks}, n, d) with labels ({networks}, n); got {tuple(inputs.shape)} and {tuple(labels.shape)}."
        )
    return per_network
