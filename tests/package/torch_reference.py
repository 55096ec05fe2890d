"""PyTorch reference values (float64, autograd) for the package's activations."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F


def _swish(t: torch.Tensor, beta: float) -> torch.Tensor:
    return t * torch.sigmoid(beta * t)


#: name -> (kwargs for the package, PyTorch function taking a tensor)
CASES: dict[str, tuple[str, dict, Callable[[torch.Tensor], torch.Tensor]]] = {
    "relu": ("relu", {}, F.relu),
    "leaky_relu": ("leaky_relu", {}, F.leaky_relu),
    "leaky_relu(0.2)": ("leaky_relu", {"negative_slope": 0.2}, lambda t: F.leaky_relu(t, 0.2)),
    "elu": ("elu", {}, F.elu),
    "elu(alpha=0.5)": ("elu", {"alpha": 0.5}, lambda t: F.elu(t, alpha=0.5)),
    "elu(alpha=2)": ("elu", {"alpha": 2.0}, lambda t: F.elu(t, alpha=2.0)),
    "selu": ("selu", {}, F.selu),
    "gelu": ("gelu", {}, F.gelu),
    "gelu(tanh)": ("gelu", {"approximate": "tanh"}, lambda t: F.gelu(t, approximate="tanh")),
    "silu": ("silu", {}, F.silu),
    "swish(beta=2)": ("swish", {"beta": 2.0}, lambda t: _swish(t, 2.0)),
    "swish(beta=0.5)": ("swish", {"beta": 0.5}, lambda t: _swish(t, 0.5)),
    "softplus": ("softplus", {}, F.softplus),
    "softplus(beta=3)": ("softplus", {"beta": 3.0}, lambda t: F.softplus(t, beta=3.0)),
    "mish": ("mish", {}, F.mish),
    "relu6": ("relu6", {}, F.relu6),
}


def value_and_grad(torch_function: Callable, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f(x) and df/dx from PyTorch autograd, elementwise, in float64."""
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = torch_function(t)
    (grad,) = torch.autograd.grad(y.sum(), t)
    return y.detach().numpy(), grad.numpy()
