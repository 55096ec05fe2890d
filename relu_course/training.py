"""A small, seeded training loop that returns its history."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from relu_course._validation import choice, positive_number, whole_number

__all__ = ["History", "train"]

_LOSSES = {"mse": nn.MSELoss, "cross_entropy": nn.CrossEntropyLoss}
_OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}


@dataclass
class History:
    """What happened during training.

    Attributes
    ----------
    losses : list of float
        The training loss at each step, before that step's update.
    """

    losses: list[float] = field(default_factory=list)

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
) -> History:
    """Train ``model`` in place on the whole batch (inputs, targets) for ``steps`` steps.

    Each step: forward, loss, backward, one optimizer update. Full-batch training has
    no random draws, so the result depends only on the model's initial weights.

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

    Returns
    -------
    History
        The loss at every step.
    """
    loss_function = _LOSSES[choice(loss, "loss", tuple(_LOSSES))]()
    optimizer_class = _OPTIMIZERS[choice(optimizer, "optimizer", tuple(_OPTIMIZERS))]
    learning_rate = positive_number(learning_rate, "learning_rate")
    steps = whole_number(steps, "steps", minimum=1)
    if len(inputs) != len(targets):
        raise ValueError(f"inputs has {len(inputs)} rows but targets has {len(targets)}.")
    updater = optimizer_class(model.parameters(), lr=learning_rate)
    history = History()
    for _ in range(steps):
        updater.zero_grad()
        step_loss = loss_function(model(inputs), targets)
        step_loss.backward()
        updater.step()
        history.losses.append(step_loss.item())
    return history
