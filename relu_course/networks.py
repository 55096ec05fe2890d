"""Small PyTorch networks for the course: building them, changing them, and a look inside.

* ``mlp`` and ``deep_mlp``: multilayer perceptrons with a chosen activation, weight
  initialization (``init_weight_variance``), normalization, seed and dtype;
* ``residual_mlp`` and its ``ResidualBlock``: a deep network of pre-activation residual
  blocks, x + Linear(act(norm(x)));
* ``FeedForward``, ``GatedFeedForward`` and ``matched_gated_width``: the feed-forward
  blocks of transformers, plain and gated (GLU, ReGLU, GEGLU, SwiGLU);
* ``ReLUSquared``: relu(x)², by name ``"relu_squared"``;
* ``replace_activations``, ``with_batch_norm``, ``set_hidden_biases``,
  ``shift_hidden_biases``: variations of a network (copies, or changes in place where
  the name says so);
* ``layer_shapes``: every layer's output shape for an example input.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Callable, Iterator, Sequence

import torch
from torch import nn

from relu_course._validation import choice, float_dtype, positive_number, real_number, whole_number
from relu_course.activations import CATALOGUE
from relu_course.hooks import layer_values
from relu_course.tables import Table

__all__ = [
    "ACTIVATION_MODULES",
    "ACTIVATION_TYPES",
    "GATES",
    "INITS",
    "NORMS",
    "NORM_POSITIONS",
    "FeedForward",
    "GatedFeedForward",
    "ReLUSquared",
    "ResidualBlock",
    "deep_mlp",
    "init_weight_variance",
    "layer_shapes",
    "matched_gated_width",
    "mlp",
    "replace_activations",
    "residual_mlp",
    "set_hidden_biases",
    "shift_hidden_biases",
    "with_batch_norm",
]


class ReLUSquared(nn.Module):
    """Squared ReLU, relu(x)² = max(0, x)², elementwise (So et al., 2021, "Primer").

    It is one of the two main changes that Primer's architecture search found for
    transformer language models, used in their feed-forward blocks. Unlike ReLU, its
    derivative 2·max(0, x) is continuous (no kink at 0), and it grows quadratically for
    x > 0. Any shape in, the same shape out. It is not in ``activations.CATALOGUE``
    (PyTorch has no layer for it; Chapter 4's tables list the catalogue): it is known by
    the name ``"relu_squared"`` here only.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """relu(x)², same shape as ``x``."""
        return torch.relu(x).square()


#: The activation layers ``mlp`` knows by name.
ACTIVATION_MODULES: dict[str, Callable[[], nn.Module]] = {
    **{
        name: getattr(nn, entry.torch_class)
        for name, entry in CATALOGUE.items()
        if not entry.torch_arguments  # GELU's tanh form is nn.GELU with an argument
    },
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu_squared": ReLUSquared,
    "identity": nn.Identity,
}

#: The module classes that count as activation layers (every entry above but Identity).
ACTIVATION_TYPES: tuple[type[nn.Module], ...] = tuple(
    module for name, module in ACTIVATION_MODULES.items() if name != "identity" and isinstance(module, type)
)

#: Weight initialisations ``mlp`` knows: PyTorch's own default, He (Kaiming) and Xavier (Glorot).
INITS = ("pytorch", "he", "xavier", "lecun")

#: Normalization layers by name: ``"batch"`` is nn.BatchNorm1d (each unit standardized
#: over the batch), ``"layer"`` is nn.LayerNorm (each example standardized over its units).
NORMS = ("batch", "layer")

#: Where ``mlp`` puts a hidden layer's normalization: ``"before"`` the activation
#: (Linear, norm, act) or ``"after"`` it (Linear, act, norm).
NORM_POSITIONS = ("before", "after")


@contextlib.contextmanager
def _seeded(seed: int | None) -> Iterator[None]:
    """Random draws inside come from ``torch.manual_seed(seed)``; the global random state is restored after.

    With ``seed=None`` nothing is forked: the draws come from, and advance, the current
    random state, as for any ``nn.Module`` (inside a builder's own seeded block, that
    is the builder's state).
    """
    if seed is None:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(whole_number(seed, "seed"))
        yield


def _norm_layer(norm: str, width: int, dtype: torch.dtype | None = None) -> nn.Module:
    """A new normalization layer of ``width`` units: nn.BatchNorm1d for "batch", nn.LayerNorm for "layer"."""
    if choice(norm, "norm", NORMS) == "batch":
        return nn.BatchNorm1d(width, dtype=dtype)
    return nn.LayerNorm(width, dtype=dtype)


def _check_norm(norm: str | None) -> str | None:
    return None if norm is None else choice(norm, "norm", NORMS)


def _in_order(norm_layer: nn.Module, activation_layer: nn.Module, position: str) -> list[nn.Module]:
    """A hidden layer's tail: [norm, act] for position "before", [act, norm] for "after"."""
    if choice(position, "norm_position", NORM_POSITIONS) == "before":
        return [norm_layer, activation_layer]
    return [activation_layer, norm_layer]


def mlp(
    layer_sizes: Sequence[int],
    activation: str | Callable[[], nn.Module] = "relu",
    *,
    init: str = "pytorch",
    norm: str | None = None,
    norm_position: str = "before",
    seed: int | None = None,
    dtype: torch.dtype = torch.float32,
) -> nn.Sequential:
    """Build a multilayer perceptron: Linear, activation, Linear, activation, ..., Linear.

    ``mlp([784, 256, 64, 10])`` maps a batch of shape (batch, 784) to (batch, 10)
    through two hidden layers of widths 256 and 64, each followed by ReLU. There is no
    activation after the last layer.

    With ``norm``, every hidden layer gets a normalization layer too:
    ``mlp([2, 8, 2], norm="batch")`` is Linear, BatchNorm1d, ReLU, Linear, and with
    ``norm_position="after"`` Linear, ReLU, BatchNorm1d, Linear. The weights are the
    same numbers as without ``norm`` (normalization layers start at gamma = 1,
    beta = 0 and draw nothing).

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
    norm : {None, "batch", "layer"}, default None
        Normalization of each hidden layer (see ``NORMS``): none, nn.BatchNorm1d, which
        standardizes each unit over the batch, or nn.LayerNorm, which standardizes each
        example over the layer's units; both then scale by a learned gamma and shift by
        a learned beta.
    norm_position : {"before", "after"}, default "before"
        ``"before"``: Linear, norm, activation (Ioffe & Szegedy, 2015: the norm sees
        the pre-activations). ``"after"``: Linear, activation, norm. Ignored without
        ``norm``.
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
    norm = _check_norm(norm)
    norm_position = choice(norm_position, "norm_position", NORM_POSITIONS)
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
                act = _new_activation_layer(make_activation)
                layers.extend([act] if norm is None else _in_order(_norm_layer(norm, fan_out), act, norm_position))
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
        if linear.bias is not None:
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


# --------------------------------------------------------------------------- residual networks


class ResidualBlock(nn.Module):
    """A pre-activation residual block of width ``width``: x + Linear(act(norm(x))).

    He et al. (2016, "Identity mappings in deep residual networks") put the
    normalization and the activation at the start of the residual branch, so that the
    skip path x -> x + branch(x) is the identity: ``forward(x) = x + branch(x)`` with
    ``branch(x) = linear(activation(norm(x)))``. (Their blocks hold two weight layers;
    this one holds one, the smallest block with the same skip path.)

    Shapes: (n, width) in, (n, width) out (LayerNorm also takes (..., width)).

    Parameters
    ----------
    width : int
        Units of the block, >= 1.
    activation : str or callable, default "relu"
        A name from ``ACTIVATION_MODULES``, or a function that returns a new activation
        layer (see ``mlp``).
    norm : {None, "batch", "layer"}, default None
        Normalization at the start of the branch (see ``NORMS``); None for none.
    init : {"pytorch", "he", "xavier", "lecun"}, default "pytorch"
        Initialization of the branch's Linear layer (see ``mlp``).
    weight_scale : float, default 1.0
        The branch's weights are multiplied by this factor (>= 0) after initialization,
        so their variance by ``weight_scale**2``; 0 starts the block as the identity.
    seed : int, optional
        Seed of the weights; the global random state is then left as it was. Without a
        seed the weights are drawn from the current random state, as for ``nn.Linear``.
    dtype : torch.dtype, default torch.float32
        Type of the parameters; drawn in float32, then converted (see ``mlp``).

    Attributes
    ----------
    norm : nn.Module or None
    activation : nn.Module
    linear : nn.Linear
        The branch's weight layer, (width, width).
    """

    def __init__(
        self,
        width: int,
        activation: str | Callable[[], nn.Module] = "relu",
        norm: str | None = None,
        *,
        init: str = "pytorch",
        weight_scale: float = 1.0,
        seed: int | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        width = whole_number(width, "width", minimum=1)
        make_activation = _activation_factory(activation)
        norm = _check_norm(norm)
        init = choice(init, "init", INITS)
        scale = _non_negative(weight_scale, "weight_scale")
        dtype = float_dtype(dtype)
        with _seeded(seed):
            self.norm = None if norm is None else _norm_layer(norm, width)
            self.activation = _new_activation_layer(make_activation)
            self.linear = nn.Linear(width, width)
            _initialise(self.linear, init)
        with torch.no_grad():
            self.linear.weight.mul_(scale)
        self.to(dtype)

    def branch(self, x: torch.Tensor) -> torch.Tensor:
        """The residual branch, Linear(act(norm(x))): (n, width) -> (n, width)."""
        normed = x if self.norm is None else self.norm(x)
        return self.linear(self.activation(normed))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x + branch(x): (n, width) -> (n, width)."""
        return x + self.branch(x)


def _non_negative(value: object, name: str) -> float:
    number = real_number(value, name)
    if number < 0:
        raise ValueError(f"{name} must be >= 0, got {number}.")
    return number


def residual_mlp(
    depth: int,
    width: int,
    *,
    inputs: int = 2,
    outputs: int = 2,
    activation: str | Callable[[], nn.Module] = "relu",
    norm: str | None = None,
    init: str = "he",
    branch_scale: float | None = None,
    seed: int | None = None,
    dtype: torch.dtype = torch.float32,
) -> nn.Sequential:
    """A deep residual network: Linear, ``depth`` pre-activation ``ResidualBlock`` layers, (norm), act, Linear.

    Linear(inputs, width), then ``depth`` blocks x -> x + Linear(act(norm(x))), then
    the norm (if any), the activation and Linear(width, outputs).

    The residual twin of ``deep_mlp(depth, width)``: the same input and output shapes,
    (n, inputs) -> (n, outputs), ``depth`` activation layers inside the blocks (plus
    the one before the output layer, as in pre-activation ResNets), and
    inputs·width + depth·width² + width·outputs weights (``deep_mlp`` has
    inputs·width + (depth − 1)·width² + width·outputs), plus biases and norm parameters.

    **The scale of a deep stack.** Each block maps x to x + W relu(x). With He
    initialization, Var(W) = 2 / width, the branch W relu(x) has the mean square of x
    (for x symmetric about 0, ReLU halves it and He doubles it back) and is
    uncorrelated with x, so the mean square of x doubles in every block: 2^depth over
    the stack (2^30 ≈ 10^9 for 30 blocks). So the branch's weights are multiplied by
    ``branch_scale`` after initialization, by default 1 / sqrt(depth):
    Var(W) = 2 / (depth · width), each block multiplies the mean square by
    1 + 1/depth, and the whole stack by (1 + 1/depth)^depth < e ≈ 2.72, whatever the
    depth. ``branch_scale=1`` shows the doubling; ``branch_scale=0`` starts every block
    as the identity (branch weights 0, as Fixup, Zhang et al. 2019, starts the last
    layer of each branch). With a norm, the branch sees standardized inputs, so each
    block adds about ``branch_scale**2`` to the mean square instead of multiplying it.

    Parameters
    ----------
    depth : int
        Number of residual blocks, >= 1.
    width : int
        Units of every block, >= 1.
    inputs, outputs : int
        Input and output widths, >= 1.
    activation : str or callable, default "relu"
        A name from ``ACTIVATION_MODULES`` or a function that returns a new activation
        layer (see ``mlp``).
    norm : {None, "batch", "layer"}, default None
        Normalization at the start of every branch and before the final activation.
    init : {"pytorch", "he", "xavier", "lecun"}, default "he"
        Initialization of every Linear layer (see ``mlp``), before ``branch_scale``.
    branch_scale : float, optional
        Factor (>= 0) on the weights of every branch; None (the default) is
        1 / sqrt(depth).
    seed : int, optional
        Seed of the weights. The global random state of PyTorch is left as it was.
    dtype : torch.dtype, default torch.float32
        Type of the parameters; drawn in float32, then converted (see ``mlp``).

    Returns
    -------
    nn.Sequential
        Modules: Linear, ``depth`` ResidualBlock, [norm,] activation, Linear.
    """
    depth = whole_number(depth, "depth", minimum=1)
    width = whole_number(width, "width", minimum=1)
    inputs = whole_number(inputs, "inputs", minimum=1)
    outputs = whole_number(outputs, "outputs", minimum=1)
    make_activation = _activation_factory(activation)
    norm = _check_norm(norm)
    init = choice(init, "init", INITS)
    scale = 1.0 / math.sqrt(depth) if branch_scale is None else _non_negative(branch_scale, "branch_scale")
    dtype = float_dtype(dtype)
    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(whole_number(seed, "seed"))
        first = nn.Linear(inputs, width)
        _initialise(first, init)
        blocks = [ResidualBlock(width, make_activation, norm, init=init, weight_scale=scale) for _ in range(depth)]
        head = [] if norm is None else [_norm_layer(norm, width)]
        head.append(_new_activation_layer(make_activation))
        last = nn.Linear(width, outputs)
        _initialise(last, init)
    return nn.Sequential(first, *blocks, *head, last).to(dtype)


# --------------------------------------------------------------------------- transformer feed-forward blocks


#: The gates of ``GatedFeedForward`` by name, with the activation of each (Shazeer, 2020):
#: GLU uses the sigmoid (Dauphin et al., 2017), ReGLU ReLU, GEGLU GELU (exact, x·Φ(x)),
#: SwiGLU SiLU (Swish with beta = 1).
GATES: dict[str, Callable[[], nn.Module]] = {
    "glu": nn.Sigmoid,
    "reglu": nn.ReLU,
    "geglu": nn.GELU,
    "swiglu": nn.SiLU,
}


def _linears(shapes: Sequence[tuple[int, int]], bias: bool, init: str) -> list[nn.Linear]:
    """New Linear layers (fan_in, fan_out) for each shape, drawn in this order and initialised by ``init``."""
    layers = [nn.Linear(fan_in, fan_out, bias=bias) for fan_in, fan_out in shapes]
    for layer in layers:
        _initialise(layer, init)
    return layers


def _check_bias(bias: object) -> bool:
    if not isinstance(bias, bool):
        raise TypeError(f"bias must be True or False, got {type(bias).__name__} {bias!r}.")
    return bias


class FeedForward(nn.Module):
    """The feed-forward block of a transformer: FFN(x) = act(x W1) W2 (Vaswani et al., 2017).

    ``w1`` maps d_model to ``hidden`` units, the activation acts on each, and ``w2``
    maps back to d_model. The original transformer used ReLU with hidden = 4·d_model;
    BERT and GPT-2 use GELU; Primer (So et al., 2021) relu(x)² (``"relu_squared"``).
    Without biases (the default, as in Shazeer 2020) the block has 2·d_model·hidden
    parameters; with biases hidden + d_model more.

    Shapes: (..., d_model) in, (..., d_model) out: any leading axes, e.g.
    (batch, tokens, d_model).

    Parameters
    ----------
    d_model : int
        Width of the input and output, >= 1.
    hidden : int
        Width of the hidden layer, >= 1.
    activation : str or callable, default "relu"
        A name from ``ACTIVATION_MODULES`` or a function that returns a new activation
        layer (see ``mlp``).
    bias : bool, default False
        Whether ``w1`` and ``w2`` have biases.
    init : {"pytorch", "he", "xavier", "lecun"}, default "pytorch"
        Initialization of both Linear layers (see ``mlp``).
    seed : int, optional
        Seed of the weights; the global random state is then left as it was. Without a
        seed the weights are drawn from the current random state, as for ``nn.Linear``.
    dtype : torch.dtype, default torch.float32
        Type of the parameters; drawn in float32, then converted (see ``mlp``).

    Attributes
    ----------
    w1 : nn.Linear
        d_model -> hidden.
    activation : nn.Module
    w2 : nn.Linear
        hidden -> d_model.
    """

    def __init__(
        self,
        d_model: int,
        hidden: int,
        activation: str | Callable[[], nn.Module] = "relu",
        *,
        bias: bool = False,
        init: str = "pytorch",
        seed: int | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        d_model = whole_number(d_model, "d_model", minimum=1)
        hidden = whole_number(hidden, "hidden", minimum=1)
        make_activation = _activation_factory(activation)
        bias = _check_bias(bias)
        init = choice(init, "init", INITS)
        dtype = float_dtype(dtype)
        with _seeded(seed):
            w1, w2 = _linears([(d_model, hidden), (hidden, d_model)], bias, init)
        self.w1 = w1
        self.activation = _new_activation_layer(make_activation)
        self.w2 = w2
        self.to(dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """act(x W1) W2: (..., d_model) -> (..., d_model)."""
        return self.w2(self.activation(self.w1(x)))


class GatedFeedForward(nn.Module):
    """A gated feed-forward block (Shazeer, 2020, "GLU variants improve transformer"): (act(x W) ⊙ (x V)) W2.

    Two projections of x to ``hidden`` units: one goes through the activation of the
    gate, and multiplies the other elementwise (⊙); ``w2`` maps the product back to
    d_model. The gates (``GATES``): ``"glu"`` sigmoid, ``"reglu"`` ReLU, ``"geglu"``
    GELU, ``"swiglu"`` SiLU (LLaMA's choice). Without biases (the default, as in
    Shazeer 2020) the block has 3·d_model·hidden parameters; with biases
    2·hidden + d_model more. For the parameter count of a ``FeedForward`` of width h,
    use ``hidden = matched_gated_width(h)``.

    Shapes: (..., d_model) in, (..., d_model) out.

    Parameters
    ----------
    d_model : int
        Width of the input and output, >= 1.
    hidden : int
        Width of each projection, >= 1.
    gate : {"glu", "reglu", "geglu", "swiglu"}, default "swiglu"
    bias : bool, default False
        Whether ``w``, ``v`` and ``w2`` have biases.
    init : {"pytorch", "he", "xavier", "lecun"}, default "pytorch"
        Initialization of the three Linear layers (see ``mlp``).
    seed : int, optional
        Seed of the weights (drawn in the order w, v, w2); the global random state is
        then left as it was. Without a seed the weights are drawn from the current
        random state, as for ``nn.Linear``.
    dtype : torch.dtype, default torch.float32
        Type of the parameters; drawn in float32, then converted (see ``mlp``).

    Attributes
    ----------
    gate : str
        The gate's name.
    w : nn.Linear
        d_model -> hidden, through the gate's activation.
    v : nn.Linear
        d_model -> hidden, linear.
    w2 : nn.Linear
        hidden -> d_model.
    activation : nn.Module
        The gate's activation.
    """

    def __init__(
        self,
        d_model: int,
        hidden: int,
        gate: str = "swiglu",
        *,
        bias: bool = False,
        init: str = "pytorch",
        seed: int | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        d_model = whole_number(d_model, "d_model", minimum=1)
        hidden = whole_number(hidden, "hidden", minimum=1)
        self.gate = choice(gate, "gate", tuple(GATES))
        bias = _check_bias(bias)
        init = choice(init, "init", INITS)
        dtype = float_dtype(dtype)
        with _seeded(seed):
            w, v, w2 = _linears([(d_model, hidden), (d_model, hidden), (hidden, d_model)], bias, init)
        self.w, self.v = w, v
        self.activation = GATES[self.gate]()
        self.w2 = w2
        self.to(dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(act(x W) ⊙ (x V)) W2: (..., d_model) -> (..., d_model)."""
        return self.w2(self.activation(self.w(x)) * self.v(x))


def matched_gated_width(hidden: int) -> int:
    """The width of a ``GatedFeedForward`` with the parameters of a ``FeedForward`` of width ``hidden``.

    Without biases, a FeedForward of width h has 2·d·h parameters and a gated block of
    width h' has 3·d·h' (d = d_model), so h' = 2h/3, rounded to the nearest whole
    number (2h/3 is never halfway between two): ``(2 * hidden + 1) // 3``, at least 1.
    The counts then differ by abs(3h' − 2h)·d <= d, a fraction 1/(2h) or less of the
    ungated count (at most 1 % for h >= 50). Shazeer (2020) compares at h = 3072,
    h' = 2048.

    Parameters
    ----------
    hidden : int
        Width of the ungated block, >= 1.

    Returns
    -------
    int
    """
    hidden = whole_number(hidden, "hidden", minimum=1)
    return max(1, (2 * hidden + 1) // 3)


# --------------------------------------------------------------------------- variations of a network


def with_batch_norm(model: nn.Sequential, position: str = "before") -> nn.Sequential:
    """A copy of ``model`` with a BatchNorm1d layer in each hidden layer.

    With ``position="before"`` (the default) the batch norm goes between each Linear
    layer and its activation: Linear, ReLU, Linear, ReLU, Linear becomes Linear,
    BatchNorm1d, ReLU, Linear, BatchNorm1d, ReLU, Linear. With ``position="after"`` it
    follows the activation: Linear, ReLU, BatchNorm1d, ... (the layer order of
    ``mlp(..., norm="batch", norm_position=...)``). In train mode the batch-norm layer
    turns each unit's value z into gamma * (z - mean) / sqrt(var + eps) + beta, with
    the mean and variance of the batch: before the activation, the standardized
    pre-activations have mean 0 over the batch, so only the learned gamma and beta can
    put a unit below 0 for the whole batch.

    Parameters
    ----------
    model : nn.Sequential
        Linear layers and activation modules, e.g. from ``networks.mlp``.
    position : {"before", "after"}, default "before"
        Where the batch norm goes relative to the activation (see ``NORM_POSITIONS``).

    Returns
    -------
    nn.Sequential
        New modules; the Linear layers start with copies of ``model``'s weights, and
        each batch-norm layer starts as gamma = 1, beta = 0.
    """
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be a torch.nn.Sequential, got {type(model).__name__}.")
    position = choice(position, "position", NORM_POSITIONS)
    modules = list(copy.deepcopy(model))
    layers: list[nn.Module] = []
    inserted = 0
    for module in modules:
        previous = layers[-1] if layers else None
        if isinstance(module, ACTIVATION_TYPES) and isinstance(previous, nn.Linear):
            norm_layer = _norm_layer("batch", previous.out_features, previous.weight.dtype)
            layers.extend(_in_order(norm_layer, module, position))
            inserted += 1
        else:
            layers.append(module)
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
