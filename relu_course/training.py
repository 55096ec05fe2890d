"""A small, seeded training loop that returns its history."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from relu_course._validation import choice, positive_number, real_number, whole_number

__all__ = ["LOSSES", "History", "accuracy", "loss_function", "train"]

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
