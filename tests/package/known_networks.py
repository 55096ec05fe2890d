"""A network whose units are known by construction, shared by the diagnostics tests."""

from __future__ import annotations

import torch
from torch import nn

#: Four inputs in the plane.
INPUTS = torch.tensor([[1.0, 1.0], [-1.0, 3.0], [2.0, -3.0], [-2.0, -1.0]])


def network_with_known_units() -> nn.Sequential:
    """Linear(2 -> 3), ReLU, Linear(3 -> 1).

    Unit 0's pre-activation is x0, unit 1's is always -5 (off for every input, dead),
    unit 2's is x0 + x1.
    """
    linear = nn.Linear(2, 3)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]]))
        linear.bias.copy_(torch.tensor([0.0, -5.0, 0.0]))
    return nn.Sequential(linear, nn.ReLU(), nn.Linear(3, 1))
