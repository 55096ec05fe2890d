"""Training: a small, seeded loop that returns its history, and many small networks at once.

* ``train``: one network, full-batch or minibatches, SGD or Adam, with a callback;
* ``train_each``: one network of any structure per seed, all trained together
  (``torch.func.vmap``), each as ``train`` would train it alone;
* ``train_ensemble``: the same for ``networks.mlp`` networks;
* ``accuracy``, and the losses by name (``LOSSES``, ``loss_function``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from relu_course._validation import choice, float_dtype, positive_number, real_number, whole_number
from relu_course.networks import ACTIVATION_TYPES, mlp

__all__ = ["LOSSES", "Ensemble", "History", "accuracy", "loss_function", "train", "train_each", "train_ensemble"]

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
    """Networks trained together by ``train_each`` or ``train_ensemble``, one per seed.

    Attributes
    ----------
    models : list of nn.Module
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

    models: list[nn.Module]
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


_ENSEMBLE_LOSSES = ("cross_entropy", "mse")


def train_each(
    build: Callable[[int], nn.Module],
    seeds: Sequence[int],
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    loss: str = "cross_entropy",
    steps: int = 200,
    learning_rate: float = 1e-2,
    per_network: bool = False,
) -> Ensemble:
    """Train one network per seed, all at once, each as ``train`` would train it alone.

    Network j is ``build(seeds[j])``: any ``nn.Module``, e.g. ``lambda seed:
    networks.residual_mlp(20, 32, seed=seed, dtype=torch.float64)``. The networks must
    have the same structure (the same modules, parameter names and shapes); only their
    numbers differ. Their parameters are stacked along a new first axis
    (``torch.func.stack_module_state``), and one forward pass runs every network on its
    own slice (``torch.func.vmap`` over ``torch.func.functional_call``; a plain
    ``nn.Sequential`` of Linear layers and activations, such as every ``networks.mlp``,
    runs faster through batched matrix products, ``torch.baddbmm``). The loss is the
    sum of the networks' mean losses, so each network's gradient is its own, and
    full-batch Adam updates every number separately. The result is that of
    ``training.train(build(seed), inputs, targets, loss=loss, optimizer="adam",
    learning_rate=learning_rate, steps=steps)`` for each seed alone, up to rounding (the
    batched kernels add in another order; over many steps of a chaotic training the
    difference can grow, as between two CPUs), in much less time: a small network's
    training time goes mostly into the fixed cost of each PyTorch operation, and here
    one operation serves all networks.

    **Batch norm.** Each network keeps its own running statistics: BatchNorm buffers are
    stacked like the parameters, each network's slice is updated as in training alone,
    and the trained values are copied back, so the returned models behave alone, in
    train and in eval mode, as if ``train`` had trained them. A BatchNorm layer converted
    by ``torch.func.replace_all_batch_norm_modules_`` (no running statistics; it then
    normalizes with the batch's statistics in train and eval mode alike) works too.

    **Randomness.** A network that draws random numbers in its forward pass, e.g.
    ``nn.Dropout`` in train mode, is refused with a ``ValueError`` at the first step:
    the networks would have to share one random draw. Build it without dropout, or in
    eval mode (``model.eval()``), where dropout does nothing.

    Parameters
    ----------
    build : callable
        ``build(seed)`` returns a new ``nn.Module``, e.g. one seeded by ``seed``.
    seeds : sequence of int
        One seed per network, at least one, each >= 0; a seed may repeat (e.g. with
        other data).
    inputs : Tensor
        One dataset for all networks, shape (n, ...), or with ``per_network=True`` one
        per network, shape (k, n, ...) for k = len(seeds). Floating-point inputs must
        have the dtype of the networks' parameters.
    targets : Tensor
        For ``loss="cross_entropy"``: class indices of dtype int64, shape (n,) (or
        (k, n)), and each network returns class scores of shape (n, classes). For
        ``loss="mse"``: values of the networks' dtype and of the shape of one network's
        output, e.g. (n, outputs) (or (k, n, outputs)).
    loss : {"cross_entropy", "mse"}, default "cross_entropy"
        Classification (the training accuracy is recorded at every step too), or
        regression with the mean squared error of each network.
    steps : int, default 200
        Updates, >= 1.
    learning_rate : float, default 1e-2
        Adam's step size, > 0.
    per_network : bool, default False
        False: every network learns ``inputs`` and ``targets``. True: their first axis
        has length k and network j learns ``inputs[j]`` and ``targets[j]``.

    Returns
    -------
    Ensemble
        The trained networks (the modules ``build`` returned, with the trained
        parameters and buffers), their losses at every step (and, for classification,
        their training accuracies), and the time taken.
    """
    seeds = _check_seeds(seeds)
    steps = whole_number(steps, "steps", minimum=1)
    learning_rate = positive_number(learning_rate, "learning_rate")
    classification = choice(loss, "loss", _ENSEMBLE_LOSSES) == "cross_entropy"
    if not callable(build):
        raise TypeError(f"build must be a function that maps a seed to an nn.Module, got {type(build).__name__}.")
    _check_data(inputs, targets, len(seeds), per_network, classification)
    models = _build_each(build, seeds)
    _check_dtypes(models[0], inputs, targets, classification)
    parameters, buffers = torch.func.stack_module_state(models)  # name -> tensor (networks, ...)
    run = _stacked_forward(models[0], parameters, buffers, inputs, per_network)
    stacked_targets = targets if per_network else targets.expand(len(seeds), *targets.shape)
    optimizer = torch.optim.Adam(parameters.values(), lr=learning_rate)
    losses: list[list[float]] = [[] for _ in seeds]
    accuracies: list[list[float]] = [[] for _ in seeds] if classification else []
    start = time.perf_counter()
    for step in range(steps):
        optimizer.zero_grad()
        outputs = run()  # (networks, n, ...)
        if step == 0:
            _check_outputs(outputs, stacked_targets, classification)
        member_losses = _member_losses(outputs, stacked_targets, classification)
        member_losses.sum().backward()
        optimizer.step()
        for record, value in zip(losses, member_losses.tolist()):
            record.append(value)
        if classification:
            correct = (outputs.detach().argmax(dim=-1) == stacked_targets).to(outputs.dtype).mean(dim=1)
            for record, value in zip(accuracies, correct.tolist()):
                record.append(value)
    seconds = time.perf_counter() - start
    _load_each(models, parameters, buffers)
    return Ensemble(models=models, losses=losses, seconds=seconds, accuracies=accuracies)


def _check_seeds(seeds: object) -> list[int]:
    """The seeds as a list of whole numbers >= 0, at least one (any iterable but a string)."""
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise TypeError(f"seeds must be a sequence of whole numbers, e.g. [0, 1, 2], got {seeds!r}.")
    checked = [whole_number(seed, "every seed") for seed in seeds]
    if not checked:
        raise ValueError("seeds must name at least one seed.")
    return checked


def _build_each(build: Callable[[int], nn.Module], seeds: list[int]) -> list[nn.Module]:
    """``build(seed)`` for every seed, checked: new modules of one structure, with parameters to train."""
    models = [build(seed) for seed in seeds]
    for seed, model in zip(seeds, models):
        if not isinstance(model, nn.Module):
            raise TypeError(f"build must return an nn.Module; build({seed}) returned {type(model).__name__}.")
    if not any(True for _ in models[0].parameters()):
        raise ValueError("the networks have no parameters to train.")
    owners: set[int] = set()
    for model in models:
        tensors = {id(tensor) for tensor in (*model.parameters(), *model.buffers())}
        if tensors & owners:
            raise ValueError(
                "build must make a new network for each seed: two of its networks share parameters "
                "(does build return the same module twice?)."
            )
        owners |= tensors
    reference = _structure(models[0])
    for index, model in enumerate(models[1:], start=1):
        difference = _structure_difference(reference, _structure(model))
        if difference:
            raise ValueError(
                "every network that build returns must have the same structure (modules, parameter names and "
                f"shapes); network {index} (seed {seeds[index]}) differs from network 0 (seed {seeds[0]}): "
                f"{difference}."
            )
    return models


def _structure(model: nn.Module) -> tuple[str, dict[str, tuple], dict[str, tuple]]:
    """What must agree between stacked networks: the printed modules, and each tensor's shape and dtype."""
    parameters = {name: (tuple(tensor.shape), tensor.dtype) for name, tensor in model.named_parameters()}
    buffers = {name: (tuple(tensor.shape), tensor.dtype) for name, tensor in model.named_buffers()}
    return repr(model), parameters, buffers


def _structure_difference(reference: tuple, other: tuple) -> str:
    """How ``other`` differs from ``reference`` (see ``_structure``), in words; "" when it does not."""
    for kind, ours, theirs in [("parameter", reference[1], other[1]), ("buffer", reference[2], other[2])]:
        if list(ours) != list(theirs):
            return f"its {kind}s are {list(theirs)}, not {list(ours)}"
        for name, (shape, dtype) in ours.items():
            if theirs[name] != (shape, dtype):
                return f"its {kind} {name!r} has shape {theirs[name][0]} and {theirs[name][1]}, not {shape} and {dtype}"
    if reference[0] != other[0]:
        return f"its modules are\n{other[0]}\nnot\n{reference[0]}"
    return ""


def _check_data(inputs: object, targets: object, networks: int, per_network: object, classification: bool) -> None:
    """Check the data of ``train_each`` against the number of networks; the outputs' shapes are checked later."""
    if not isinstance(inputs, torch.Tensor) or not isinstance(targets, torch.Tensor):
        raise TypeError(
            f"inputs and targets must be torch.Tensors, got {type(inputs).__name__} and {type(targets).__name__}."
        )
    if not isinstance(per_network, bool):
        raise TypeError(f"per_network must be True or False, got {per_network!r}.")
    shapes = f"got shapes {tuple(inputs.shape)} and {tuple(targets.shape)}"
    if per_network and (inputs.ndim < 2 or targets.ndim < 2 or not len(inputs) == len(targets) == networks):
        raise ValueError(
            f"with per_network=True, inputs and targets need a first axis of length {networks} (one dataset per "
            f"network) and a second of length n (rows); {shapes}."
        )
    rows = int(per_network)  # the axis of the rows
    if inputs.ndim <= rows or targets.ndim <= rows or inputs.shape[rows] != targets.shape[rows]:
        raise ValueError(f"inputs and targets must have the same number of rows; {shapes}.")
    if classification:
        if targets.dtype != torch.int64:
            raise TypeError(
                f"for loss='cross_entropy', targets must be class indices of dtype torch.int64, got {targets.dtype}."
            )
        if targets.ndim != rows + 1:
            expected = f"({networks}, n)" if per_network else "(n,) (or pass per_network=True for one per network)"
            raise ValueError(f"class indices must have shape {expected}; {shapes}.")


def _check_dtypes(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, classification: bool) -> None:
    """Floating-point inputs (and regression targets) must have the dtype of the networks' parameters."""
    dtype = next((tensor.dtype for tensor in model.parameters() if tensor.is_floating_point()), None)
    if dtype is None:
        return
    if inputs.is_floating_point() and inputs.dtype != dtype:
        raise TypeError(f"inputs have dtype {inputs.dtype} but the networks {dtype}: make both the same.")
    if not classification and targets.dtype != dtype:
        raise TypeError(f"targets have dtype {targets.dtype} but the networks {dtype}: make both the same.")


def _stacked_forward(
    template: nn.Module,
    parameters: dict[str, torch.Tensor],
    buffers: dict[str, torch.Tensor],
    inputs: torch.Tensor,
    per_network: bool,
) -> Callable[[], torch.Tensor]:
    """The forward pass of k stacked networks of ``template``'s structure, as a function without arguments.

    ``parameters`` and ``buffers`` map names to tensors of shape (k, ...), as
    ``torch.func.stack_module_state`` makes them; ``inputs`` have shape (n, ...), or
    (k, n, ...) when ``per_network``. The function returns the outputs, (k, n, ...).

    A plain ``nn.Sequential`` of Linear layers and elementwise activations (every
    ``networks.mlp``) on inputs of shape (n, d) runs through ``_run_stacked``, batched
    matrix products written out (``torch.baddbmm``), in about 2/3 of the time that
    ``torch.func.vmap`` takes for a small MLP; any other network runs through ``vmap``.
    """
    networks = len(next(iter(parameters.values())))
    if _is_plain_sequential(template) and inputs.ndim == 2 + per_network:
        layers = list(template)
        batch = inputs if per_network else inputs.expand(networks, -1, -1)  # (networks, n, d)
        return lambda: _run_stacked(layers, parameters, batch)

    def run_one(parameters: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor], batch: torch.Tensor):
        return torch.func.functional_call(template, (parameters, buffers), (batch,))

    batched = torch.func.vmap(run_one, in_dims=(0, 0, 0 if per_network else None), randomness="error")

    def run() -> torch.Tensor:
        try:
            return batched(parameters, buffers, inputs)
        except RuntimeError as error:
            if "randomness" not in str(error):
                raise
            raise ValueError(
                "the networks draw random numbers in their forward pass (e.g. nn.Dropout in train mode), which "
                "training them together cannot reproduce: build them without it, or in eval mode (model.eval())."
            ) from error

    return run


def _is_plain_sequential(model: nn.Module) -> bool:
    """True for an nn.Sequential of Linear layers, PReLU and elementwise activations without parameters."""
    if not isinstance(model, nn.Sequential) or any(True for _ in model.buffers()):
        return False
    for layer in model:
        if isinstance(layer, (nn.Linear, nn.PReLU)):
            continue
        elementwise = isinstance(layer, (*ACTIVATION_TYPES, nn.Identity))
        if not elementwise or any(True for _ in layer.parameters()) or list(layer.children()):
            return False
    return True


def _run_stacked(layers: list[nn.Module], parameters: dict[str, torch.Tensor], batch: torch.Tensor) -> torch.Tensor:
    """The forward pass of k stacked plain Sequentials (see ``_is_plain_sequential``).

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
            weight, bias = parameters[f"{index}.weight"], parameters.get(f"{index}.bias")
            if bias is None:
                batch = torch.bmm(batch, weight.transpose(1, 2))
            else:
                batch = torch.baddbmm(bias.unsqueeze(1), batch, weight.transpose(1, 2))
        elif isinstance(layer, nn.PReLU):  # x if x >= 0 else a x, with each network's slopes a
            slopes = parameters[f"{index}.weight"].unsqueeze(1)  # (k, 1, 1) or (k, 1, units)
            batch = torch.where(batch >= 0, batch, slopes * batch)
        else:  # an activation without parameters, elementwise
            batch = layer(batch)
    return batch


def _check_outputs(outputs: torch.Tensor, targets: torch.Tensor, classification: bool) -> None:
    """Check the first step's outputs (networks, n, ...) against the stacked targets."""
    if not classification:
        if outputs.shape != targets.shape:
            raise ValueError(
                f"for loss='mse' each network's output must have the shape of its targets: the networks return "
                f"{tuple(outputs.shape[1:])}, the targets are {tuple(targets.shape[1:])}."
            )
        return
    if outputs.ndim != 3:
        raise ValueError(
            "for loss='cross_entropy' each network must return class scores of shape (n, classes); "
            f"the networks return {tuple(outputs.shape[1:])}."
        )
    classes = outputs.shape[-1]
    low, high = targets.min().item(), targets.max().item()
    if low < 0 or high >= classes:
        raise ValueError(
            f"labels must be classes 0 to {classes - 1} (the networks return {classes} scores); "
            f"got labels from {low} to {high}."
        )


def _member_losses(outputs: torch.Tensor, targets: torch.Tensor, classification: bool) -> torch.Tensor:
    """Each network's mean loss, shape (networks,).

    ``outputs`` has shape (networks, n, ...); ``targets`` (networks, n) class indices for
    the cross-entropy (with outputs (networks, n, classes)), or values of the outputs'
    shape for the mean squared error.
    """
    if classification:
        per_example = F.cross_entropy(outputs.reshape(-1, outputs.shape[-1]), targets.reshape(-1), reduction="none")
        return per_example.reshape(len(outputs), -1).mean(dim=1)
    return (outputs - targets).pow(2).mean(dim=tuple(range(1, outputs.ndim)))


def _load_each(models: list[nn.Module], parameters: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor]) -> None:
    """Copy network j's slice of the stacked parameters and buffers into ``models[j]``, in place."""
    with torch.no_grad():
        for index, model in enumerate(models):
            for name, tensor in (*model.named_parameters(), *model.named_buffers()):
                source = parameters[name] if name in parameters else buffers[name]
                tensor.copy_(source[index])


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
    """Train one ``networks.mlp`` per seed, all at once, with full-batch Adam.

    Network j starts as ``networks.mlp(layer_sizes, activation, init=init, seed=seeds[j],
    dtype=dtype)``, and ``train_each`` trains the networks side by side: the result is
    that of ``training.train(model, inputs, labels, loss=loss, optimizer="adam",
    learning_rate=learning_rate, steps=steps)`` for each network alone, up to rounding,
    in much less time (see ``train_each``).

    All networks may learn the same data, or each its own dataset (of the same size):
    pass ``inputs`` of shape (k, n, d) and ``labels`` of shape (k, n) for k networks
    (for ``loss="mse"``: targets of shape (k, n, outputs)).

    Parameters
    ----------
    layer_sizes : sequence of int
        Widths from input to output, as for ``networks.mlp``.
    activation : str or callable
        What ``networks.mlp`` accepts: a name, e.g. ``"gelu"``, or a function that
        returns a new activation layer, e.g. ``functools.partial(nn.LeakyReLU, 0.2)``.
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
    seeds = _check_seeds(seeds)
    steps = whole_number(steps, "steps", minimum=1)
    learning_rate = positive_number(learning_rate, "learning_rate")
    loss = choice(loss, "loss", _ENSEMBLE_LOSSES)
    check_data = _check_classification_data if loss == "cross_entropy" else _check_regression_data
    per_network = check_data(inputs, labels, len(seeds))
    dtype = float_dtype(dtype)

    def build(seed: int) -> nn.Module:
        return mlp(layer_sizes, activation, init=init, seed=seed, dtype=dtype)

    return train_each(
        build, seeds, inputs, labels, loss=loss, steps=steps, learning_rate=learning_rate, per_network=per_network
    )


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
