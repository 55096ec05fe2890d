"""Looking inside a forward pass with PyTorch hooks: the one place the package registers them.

A forward hook runs after a module computes its output, a forward pre-hook before, when
it receives its input. ``layer_values`` runs a model once and returns what chosen layers
received or produced; ``removed_after`` is the context manager behind it, which takes
hooks off again even when the forward pass fails, so that no hook outlives its use.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

__all__ = ["layer_values", "removed_after"]

NamedModules = Sequence[tuple[str, nn.Module]]


@contextmanager
def removed_after(handles: Iterable[RemovableHandle]) -> Iterator[None]:
    """Run the ``with`` block, then remove every hook in ``handles``, even on error."""
    registered = list(handles)
    try:
        yield
    finally:
        for handle in registered:
            handle.remove()


def layer_values(
    model: nn.Module, inputs: torch.Tensor, layers: NamedModules, *, which: str = "output"
) -> list[tuple[str, torch.Tensor]]:
    """Run ``model(inputs)`` once, without gradients, and return what each layer saw.

    Parameters
    ----------
    model : nn.Module
    inputs : Tensor, shape (n, ...)
        A batch the model accepts.
    layers : sequence of (name, module)
        The modules of ``model`` to watch, e.g. ``model.named_modules()`` filtered.
    which : {"output", "input"}, default "output"
        ``"output"``: each layer's output, recorded by a forward hook; ``"input"``: its
        first input, recorded by a forward pre-hook before the layer runs, so an in-place
        layer (``nn.ReLU(inplace=True)``) cannot overwrite it first.

    Returns
    -------
    list of (str, Tensor)
        (name, detached copy) in the order the layers ran; a layer that runs twice
        appears twice. The model's buffers (batch-norm running statistics) are left as
        they were.
    """
    if which not in ("output", "input"):
        raise ValueError(f"which must be 'output' or 'input', got {which!r}.")
    if not isinstance(inputs, torch.Tensor):
        raise TypeError(f"inputs must be a torch.Tensor, got {type(inputs).__name__}.")
    recorded: list[tuple[str, torch.Tensor]] = []
    handles = [_recorder(module, name, which, recorded) for name, module in layers]
    saved_buffers = {name: buffer.clone() for name, buffer in model.named_buffers()}
    try:
        with removed_after(handles), torch.no_grad():
            model(inputs)
    finally:
        with torch.no_grad():
            for name, buffer in model.named_buffers():
                buffer.copy_(saved_buffers[name])
    return recorded


def _recorder(module: nn.Module, name: str, which: str, recorded: list[tuple[str, torch.Tensor]]) -> RemovableHandle:
    """Register on ``module`` the hook that appends (name, copy of its input or output)."""
    if which == "input":
        return module.register_forward_pre_hook(
            lambda module, layer_inputs: recorded.append((name, layer_inputs[0].detach().clone()))
        )
    return module.register_forward_hook(
        lambda module, layer_inputs, output: recorded.append((name, output.detach().clone()))
    )
