"""Small PyTorch networks for the course: building them, changing them, and a look inside.

* ``mlp`` and ``deep_mlp``: multilayer perceptrons with a chosen activation, weight
  initialization (``init_weight_variance``), seed and dtype;
* ``replace_activations``, ``with_batch_norm``, ``set_hidden_biases``,
  ``shift_hidden_biases``: variations of a network (copies, or changes in place where
  the name says so);
* ``layer_shapes``: every layer's output shape for an example input.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from relu_course._validation import choice, float_dtype, positive_number, real_number, whole_number
from relu_course.activations import CATALOGUE
from relu_course.hooks import layer_values
from relu_course.tables import Table

__all__ = [
    "ACTIVATION_MODULES",
    "ACTIVATION_TYPES",
    "INITS",
    "deep_mlp",
    "init_weight_variance",
    "layer_shapes",
    "mlp",
    "replace_activations",
    "set_hidden_biases",
    "shift_hidden_biases",
    "with_batch_norm",
]

#: The activation layers ``mlp`` knows by name.
ACTIVATION_MODULES: dict[str, Callable[[], nn.Module]] = {
    **{
        name: getattr(nn, entry.torch_class)
        for name, entry in CATALOGUE.items()
        if not entry.torch_arguments  # GELU's tanh form is nn.GELU with an argument
    },
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "identity": nn.Identity,
}

#: The module classes that count as activation layers (every entry above but Identity).
ACTIVATION_TYPES: tuple[type[nn.Module], ...] = tuple(
    module for name, module in ACTIVATION_MODULES.items() if name != "identity" and isinstance(module, type)
)

#: Weight initialisations ``mlp`` knows: PyTorch's own default, He (Kaiming) and Xavier (Glorot).
INITS = ("pytorch", "he", "xavier", "lecun")


def mlp(
    layer_sizes: Sequence[int],
    activation: str | Callable[[], nn.Module] = "relu",
    *,
    init: str = "pytorch",
    seed: int | None = None,
    dtype: torch.dtype = torch.float32,
) -> nn.Sequential:
    """Build a multilayer perceptron: Linear, activation, Linear, activation, ..., Linear.

    ``mlp([784, 256, 64, 10])`` maps a batch of shape (batch, 784) to (batch, 10)
    through two hidden layers of widths 256 and 64, each followed by ReLU. There is no
    activation after the last layer.

    Parameters
    ----------
    layer_sizes : sequence of int
        Widths from input to output, at least two entries, each >= 1.
    activation : str or callable, default "relu"
        A name from ``ACTIVATION_MODULES``, or a function without arguments that returns
        a new activation layer, e.g. ``functools.partial(nn.LeakyReLU, 0.2)`` for a
        Leaky ReLU of slope 0.2.
    init : {"pytorch", "he", "xavier", "lecun"}, default "pytorch"
        How to draw the weights:

        * ``"pytorch"``: ``nn.Linear``'s default, W ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
          so Var(W) = 1 / (3 fan_in); biases drawn the same way.
        * ``"he"``: W ~ N(0, 2 / fan_in) (He et al., 2015), biases 0.
        * ``"xavier"``: W ~ N(0, 2 / (fan_in + fan_out)) (Glorot & Bengio, 2010), biases 0.
        * ``"lecun"``: W ~ N(0, 1 / fan_in) (LeCun et al., 1998), biases 0: the
          initialization SELU was designed for.
    seed : int, optional
        Seed for the weights. The global random state of PyTorch is left as it was.
    dtype : torch.dtype, default torch.float32
        Floating-point type of the parameters. The weights are drawn in float32 and
        then converted, so a float64 network starts from the same numbers as its
        float32 twin. Use ``torch.float64`` for small trainings: a training run amplifies
        the last-bit differences between the arithmetic kernels of different CPUs, and
        float64 starts those differences 2**29 times smaller than float32 (the ratio of
        their machine epsilons).

    Returns
    -------
    nn.Sequential
    """
    sizes = _check_layer_sizes(layer_sizes)
    make_activation = _activation_factory(activation)
    init = choice(init, "init", INITS)
    dtype = float_dtype(dtype)
    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        layers: list[nn.Module] = []
        for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            linear = nn.Linear(fan_in, fan_out)
            _initialise(linear, init)
            layers.append(linear)
            if index < len(sizes) - 2:
                layers.append(_new_activation_layer(make_activation))
    return nn.Sequential(*layers).to(dtype)


def _activation_factory(activation: object) -> Callable[[], nn.Module]:
    """What builds ``mlp``'s activation layers: a class from ``ACTIVATION_MODULES`` or the caller's function."""
    if isinstance(activation, str):
        return ACTIVATION_MODULES[choice(activation, "activation", tuple(ACTIVATION_MODULES))]
    if callable(activation):
        return activation
    raise TypeError(
        "activation must be a name from networks.ACTIVATION_MODULES or a function that returns an "
        f"nn.Module, got {type(activation).__name__} {activation!r}."
    )


def _new_activation_layer(make_activation: Callable[[], nn.Module]) -> nn.Module:
    """One new activation layer; a clear error when the function gives something else."""
    layer = make_activation()
    if not isinstance(layer, nn.Module):
        raise TypeError(f"the activation function must return an nn.Module, got {type(layer).__name__}.")
    return layer


def _check_layer_sizes(layer_sizes: Sequence[int]) -> list[int]:
    sizes = list(layer_sizes)
    if len(sizes) < 2:
        raise ValueError(f"layer_sizes needs at least an input and an output width, got {sizes}.")
    return [whole_number(size, "every layer size", minimum=1) for size in sizes]


def init_weight_variance(init: str, fan_in: int, fan_out: int) -> float:
    """The variance of one weight under an initialization scheme.

    * ``"pytorch"`` (``nn.Linear``'s default): W ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
      variance 1 / (3 fan_in).
    * ``"he"`` (He et al., 2015): variance 2 / fan_in.
    * ``"xavier"`` (Glorot & Bengio, 2010): variance 2 / (fan_in + fan_out).
    * ``"lecun"`` (LeCun et al., 1998): variance 1 / fan_in.

    Parameters
    ----------
    init : {"pytorch", "he", "xavier", "lecun"}
    fan_in, fan_out : int
        Inputs and outputs of the layer, >= 1.

    Returns
    -------
    float
    """
    init = choice(init, "init", INITS)
    fan_in = whole_number(fan_in, "fan_in", minimum=1)
    fan_out = whole_number(fan_out, "fan_out", minimum=1)
    if init == "pytorch":
        return 1.0 / (3.0 * fan_in)
    if init == "he":
        return 2.0 / fan_in
    if init == "lecun":
        return 1.0 / fan_in
    return 2.0 / (fan_in + fan_out)


def _initialise(linear: nn.Linear, init: str) -> None:
    """Redraw ``linear``'s parameters in place according to ``init`` (see ``mlp``)."""
    if init == "pytorch":
        return
    fan_out, fan_in = linear.weight.shape
    variance = init_weight_variance(init, fan_in, fan_out)
    with torch.no_grad():
        linear.weight.normal_(0.0, math.sqrt(variance))
        linear.bias.zero_()


def replace_activations(
    model: nn.Module,
    make_replacement: Callable[[nn.Module], nn.Module],
    kinds: tuple[type[nn.Module], ...] = ACTIVATION_TYPES,
) -> nn.Module:
    """A copy of ``model`` in which every module of the given kinds is replaced.

    Each module ``old`` that is an instance of one of ``kinds`` (by default every
    activation layer, see ``ACTIVATION_TYPES``) becomes ``make_replacement(old)``. The
    other modules, weights included, are copied, so the copy can be trained on its own;
    ``model`` itself is not changed. A model that is itself of one of the kinds is
    replaced whole.

    Parameters
    ----------
    model : nn.Module
    make_replacement : callable
        Maps the old module to its new module, e.g. ``lambda old: nn.LeakyReLU()``.
    kinds : tuple of module classes
        Which modules to replace, e.g. ``(nn.ReLU,)``.

    Returns
    -------
    nn.Module

    Raises
    ------
    ValueError
        If ``model`` has no module of the given kinds.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    if isinstance(model, kinds):
        return make_replacement(model)
    copied = copy.deepcopy(model)
    names = [name for name, module in copied.named_modules() if name and isinstance(module, kinds)]
    if not names:
        what = (
            "activation layers (ReLU, Tanh, ...)"
            if kinds == ACTIVATION_TYPES
            else (" or ".join(f"nn.{kind.__name__}" for kind in kinds) + " layer")
        )
        raise ValueError(f"the model has no {what} to replace.")
    for name in names:
        parent_name, _, child_name = name.rpartition(".")
        parent = copied.get_submodule(parent_name)
        setattr(parent, child_name, make_replacement(getattr(parent, child_name)))
    return copied


def layer_shapes(model: nn.Module, example_input: torch.Tensor) -> Table:
    """Run ``example_input`` through ``model`` and tabulate every layer's output shape.

    Parameters
    ----------
    model : nn.Module
        Any network; each module without children (Linear, ReLU, Conv2d, ...) is a row.
    example_input : Tensor
        A batch the model accepts, e.g. shape (batch, 784) for an MLP on MNIST-sized
        images or (batch, 1, 28, 28) for a CNN.

    Returns
    -------
    Table
        Columns: layer name, module, output shape, number of parameters; the first
        row is the input.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    if not isinstance(example_input, torch.Tensor):
        raise TypeError(f"example_input must be a torch.Tensor, got {type(example_input).__name__}.")
    leaves = {name: module for name, module in model.named_modules() if name and not list(module.children())}
    rows: list[list[object]] = [["input", "", tuple(example_input.shape), 0]]
    for name, output in layer_values(model, example_input, list(leaves.items())):
        parameters = sum(parameter.numel() for parameter in leaves[name].parameters())
        rows.append([name, type(leaves[name]).__name__, tuple(output.shape), parameters])
    return Table(["layer", "module", "output shape", "parameters"], rows)


# --------------------------------------------------------------------------- deep networks


def deep_mlp(
    depth: int,
    width: int,
    *,
    inputs: int = 2,
    outputs: int = 2,
    activation: str | Callable[[], nn.Module] = "relu",
    init: str = "he",
    weight_scale: float = 1.0,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
) -> nn.Sequential:
    """A deep MLP of constant width: ``depth`` hidden layers, then an output layer.

    The layers are Linear(inputs, width), activation, then ``depth - 1`` times
    Linear(width, width), activation, and Linear(width, outputs): ``depth + 1``
    Linear layers and ``depth`` activation layers, built by ``networks.mlp``.

    Parameters
    ----------
    depth : int
        Number of hidden layers, L >= 1.
    width : int
        Units per hidden layer, >= 1.
    inputs, outputs : int
        Input and output widths, >= 1.
    activation : str or callable, default "relu"
        A name from ``networks.ACTIVATION_MODULES``, or a function that returns a new
        activation layer (see ``mlp``).
    init : {"pytorch", "he", "xavier", "lecun"}, default "he"
        The weight initialization (see ``networks.mlp``).
    weight_scale : float, default 1.0
        Every weight matrix is multiplied by this factor after initialization
        (biases are left alone), so its variance is multiplied by
        ``weight_scale**2``. Above 1 the signal grows layer by layer, below 1 it
        shrinks.
    seed : int, default 0
        Seed of the weights.
    dtype : torch.dtype, default torch.float32
        Type of the parameters (see ``networks.mlp``).

    Returns
    -------
    nn.Sequential
        Maps a batch of shape (n, inputs) to (n, outputs).
    """
    depth = whole_number(depth, "depth", minimum=1)
    width = whole_number(width, "width", minimum=1)
    scale = positive_number(weight_scale, "weight_scale")
    model = mlp(
        [inputs] + [width] * depth + [outputs],
        activation,
        init=init,
        seed=whole_number(seed, "seed"),
        dtype=dtype,
    )
    if scale != 1.0:
        with torch.no_grad():
            for module in model:
                if isinstance(module, nn.Linear):
                    module.weight.mul_(scale)
    return model


# --------------------------------------------------------------------------- variations of a network


def with_batch_norm(model: nn.Sequential) -> nn.Sequential:
    """A copy of ``model`` with a BatchNorm1d layer between each Linear layer and its activation.

    Linear, ReLU, Linear, ReLU, Linear becomes Linear, BatchNorm1d, ReLU, Linear,
    BatchNorm1d, ReLU, Linear. In train mode the batch-norm layer turns each unit's
    pre-activation z into gamma * (z - mean) / sqrt(var + eps) + beta, with the mean
    and variance of the batch: the standardized values have mean 0 over the batch, so
    only the learned gamma and beta can put a unit below 0 for the whole batch.

    Parameters
    ----------
    model : nn.Sequential
        Linear layers and activation modules, e.g. from ``networks.mlp``.

    Returns
    -------
    nn.Sequential
        New modules; the Linear layers start with copies of ``model``'s weights, and
        each batch-norm layer starts as gamma = 1, beta = 0.
    """
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be a torch.nn.Sequential, got {type(model).__name__}.")
    modules = list(copy.deepcopy(model))
    layers: list[nn.Module] = []
    inserted = 0
    for module, following in zip(modules, modules[1:] + [None]):
        layers.append(module)
        if isinstance(module, nn.Linear) and isinstance(following, ACTIVATION_TYPES):
            layers.append(nn.BatchNorm1d(module.out_features, dtype=module.weight.dtype))
            inserted += 1
    if not inserted:
        raise ValueError("the model has no Linear layer followed by an activation: nowhere to add batch norm.")
    return nn.Sequential(*layers)


def set_hidden_biases(model: nn.Module, value: float) -> nn.Module:
    """Set every bias of the hidden Linear layers to ``value``, in place; return ``model``.

    The hidden Linear layers are all Linear modules but the last one (the output
    layer), whose bias is left alone. ``set_hidden_biases(model, 0.1)`` gives every
    hidden unit a small positive bias, so it starts on for more inputs.

    Parameters
    ----------
    model : nn.Module
        A network with at least two Linear layers.
    value : float
        The new bias, a finite number.

    Returns
    -------
    nn.Module
        ``model``.
    """
    value = real_number(value, "value")
    with torch.no_grad():
        for linear in _hidden_linears(model):
            linear.bias.fill_(value)
    return model


def shift_hidden_biases(model: nn.Module, shift: float) -> nn.Module:
    """Add ``shift`` to every bias of the hidden Linear layers, in place; return ``model``.

    Each hidden unit's pre-activation z = w . x + b becomes z + shift: a large negative
    shift switches units off for every input, i.e. kills them. The output layer is
    left alone.

    Parameters
    ----------
    model : nn.Module
        A network with at least two Linear layers.
    shift : float
        Added to each hidden bias, a finite number.

    Returns
    -------
    nn.Module
        ``model``.
    """
    shift = real_number(shift, "shift")
    with torch.no_grad():
        for linear in _hidden_linears(model):
            linear.bias.add_(shift)
    return model


def _hidden_linears(model: nn.Module) -> list[nn.Linear]:
    """Every nn.Linear of ``model`` (in module order) except the last, each with a bias."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    linears = [module for module in model.modules() if isinstance(module, nn.Linear)]
    if len(linears) < 2:
        raise ValueError(f"the model needs a hidden Linear layer and an output layer; it has {len(linears)} Linear.")
    hidden = linears[:-1]
    if any(linear.bias is None for linear in hidden):
        raise ValueError("every hidden Linear layer needs a bias (bias=True).")
    return hidden
