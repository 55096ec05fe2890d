"""What a ReLU network computes: its linear pieces, counted exactly along a segment, and its regions.

A ReLU network is continuous and piecewise affine. Each input x has an *activation
pattern*: for every unit of every ReLU layer, whether its pre-activation z(x) is > 0.
The inputs with one pattern form an *activation region*, a convex polyhedron on which
the network is one affine map. Neighbouring activation regions can carry the same map
(a unit whose outgoing weights are 0, a later layer off on both sides): a *linear
region* is made of one or more activation regions (Hanin & Rolnick, 2019).

* ``kinks_along_segment``: where the activation pattern changes on the segment from
  ``start`` to ``end``, computed piece by piece from the network's weights in float64,
  not by sampling;
* ``count_linear_pieces``: the number of affine pieces of the network on that segment,
  after merging neighbouring pieces with the same slope;
* ``activation_patterns_on_grid``: the activation pattern of every point of a 2-D grid,
  as a label image (a sample: regions smaller than the grid spacing can be missed);
* ``tent_map_network``: the tent map composed ``depth`` times, 2 ReLU units per layer,
  2**depth linear pieces on [0, 1] (Telgarsky, 2016).
* ``hat_2d`` and ``hat_interpolant_network``: the hat function of a triangulated grid,
  and the two-hidden-layer ReLU network that sums one hat per grid node, weighted by a
  function's values: the piecewise-linear interpolant of the function on the triangles.

The segment functions take an ``nn.Sequential`` of ``nn.Linear`` and ``nn.ReLU`` layers,
the networks ``networks.mlp(..., activation="relu")`` builds, and leave it unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from relu_course._validation import as_real_array, float_dtype, positive_number, real_number, whole_number
from relu_course.diagnostics import activation_inputs

__all__ = [
    "SLOPE_TOLERANCE",
    "TOLERANCE",
    "activation_patterns_on_grid",
    "count_linear_pieces",
    "hat_2d",
    "hat_interpolant_network",
    "kinks_along_segment",
    "tent_map_network",
]

#: Kinks closer than this, as a fraction of the segment's length, count as one, and
#: kinks this close to an end of the segment are not counted.
TOLERANCE = 1e-10

#: Two neighbouring pieces have the same affine map when their slopes differ by at most
#: this fraction of the larger slope (largest absolute entry).
SLOPE_TOLERANCE = 1e-9

# A layer as the segment walk sees it: ("linear", weight (out, in), bias (out,)) or ("relu",).
_Layer = tuple


def _layers_of(model: object) -> list[_Layer]:
    """The layers of a plain ReLU network, with its weights as float64 arrays; a clear error otherwise."""
    if not isinstance(model, nn.Sequential):
        raise TypeError(
            "model must be an nn.Sequential of nn.Linear and nn.ReLU layers (as networks.mlp builds with "
            f"activation='relu'), got {type(model).__name__}."
        )
    layers: list[_Layer] = []
    for index, module in enumerate(model):
        if isinstance(module, nn.Linear):
            weight = _float64(module.weight)
            bias = np.zeros(len(weight)) if module.bias is None else _float64(module.bias)
            layers.append(("linear", weight, bias))
        elif isinstance(module, nn.ReLU):
            layers.append(("relu",))
        else:
            raise TypeError(
                f"model[{index}] is {type(module).__name__}: the segment functions handle nn.Sequential networks "
                "of nn.Linear and nn.ReLU layers only."
            )
    if not any(layer[0] == "linear" for layer in layers):
        raise ValueError("model has no nn.Linear layer.")
    return layers


def _float64(tensor: torch.Tensor) -> np.ndarray:
    """A parameter's values as a new float64 array (exact: every float32 is a float64)."""
    return tensor.detach().to("cpu", torch.float64).numpy().copy()


def _input_width(layers: list[_Layer]) -> int:
    return next(layer[1].shape[1] for layer in layers if layer[0] == "linear")


def _segment(layers: list[_Layer], start: ArrayLike, end: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """``start`` and ``end - start`` as float64 vectors of the network's input width, checked."""
    width = _input_width(layers)
    first, _ = as_real_array(start, "start")
    last, _ = as_real_array(end, "end")
    for name, point in (("start", first), ("end", last)):
        if point.shape != (width,):
            raise ValueError(f"{name} must have shape ({width},), the network's input width; got {point.shape}.")
        if not np.all(np.isfinite(point)):
            raise ValueError(f"{name} must be finite, got {point}.")
    direction = last - first
    if not np.any(direction):
        raise ValueError("start and end must differ: the segment has length 0.")
    return first, direction


def _forward(
    layers: list[_Layer], start: np.ndarray, direction: np.ndarray, t: np.ndarray, stop: int
) -> tuple[np.ndarray, np.ndarray]:
    """Values and derivatives d/dt after ``layers[:stop]`` at the points start + t * direction.

    Inside one piece (no unit changes sign) the network is affine in t, so the value
    v and derivative dv at any point of the piece give v(s) = v + dv * (s - t) on all of
    it. Shapes: t (p,); returns two arrays of shape (p, width after ``layers[:stop]``).
    """
    values = start + t[:, None] * direction
    slopes = np.broadcast_to(direction, values.shape)
    for layer in layers[:stop]:
        if layer[0] == "linear":
            _, weight, bias = layer
            values = values @ weight.T + bias
            slopes = slopes @ weight.T
        else:
            on = values > 0
            values = np.where(on, values, 0.0)
            slopes = np.where(on, slopes, 0.0)
    return values, slopes


def _merge_close(points: np.ndarray, tolerance: float) -> np.ndarray:
    """Sorted ``points`` in (tolerance, 1 - tolerance), keeping the first of any run closer than ``tolerance``."""
    points = np.sort(points[(points > tolerance) & (points < 1.0 - tolerance)])
    if points.size == 0:
        return points
    kept = [points[0]]
    for point in points[1:]:
        if point - kept[-1] > tolerance:
            kept.append(point)
    return np.asarray(kept)


def _check_tolerance(tolerance: object) -> float:
    tolerance = positive_number(tolerance, "tolerance")
    if tolerance >= 0.5:
        raise ValueError(f"tolerance is a fraction of the segment's length and must be below 0.5, got {tolerance}.")
    return tolerance


def kinks_along_segment(
    model: nn.Sequential, start: ArrayLike, end: ArrayLike, *, tolerance: float = TOLERANCE
) -> np.ndarray:
    """Where the activation pattern changes on the segment x(t) = start + t (end - start), 0 < t < 1.

    Used in: Chapter 8 (§8.1, §8.2, §8.4).

    The kinks are computed from the weights, layer by layer, in float64; nothing is
    sampled. The kinks of the ReLU layers before layer l cut [0, 1] into pieces on which
    those layers keep one pattern, so on each piece every pre-activation of layer l is
    affine in t: z(t) = z(m) + z'(m) (t - m), with m the piece's midpoint. Unit u of
    layer l crosses 0 inside the piece at

        t* = m - z_u(m) / z_u'(m),

    which becomes a new kink; then the next layer. Each activation piece of the segment
    lies between two consecutive kinks (or an end), so there are ``len(kinks) + 1`` of
    them. A unit whose pre-activation is exactly 0 counts as off (relu'(0) = 0).

    Kinks closer than ``tolerance`` (as a fraction of the segment's length) count as
    one, and kinks closer than it to an end are left out; elsewhere the result is exact
    up to float64 rounding (about 1e-16 relative), so a count changes only if two kinks
    of the network are closer than ``tolerance``.

    Parameters
    ----------
    model : nn.Sequential
        nn.Linear and nn.ReLU layers, e.g. ``networks.mlp(sizes, "relu")``; any
        floating-point dtype (the weights are read as float64).
    start, end : array_like, shape (d,)
        The ends of the segment, d the network's input width; distinct, finite.
    tolerance : float, default 1e-10
        Below 0.5.

    Returns
    -------
    ndarray of float64, shape (k,)
        The kinks t, ascending, in (0, 1); the points are ``start + t * (end - start)``.
    """
    layers = _layers_of(model)
    first, direction = _segment(layers, start, end)
    tolerance = _check_tolerance(tolerance)
    kinks = np.empty(0)
    for stop, layer in enumerate(layers):
        if layer[0] != "relu":
            continue
        edges = np.concatenate([[0.0], kinks, [1.0]])
        middles = (edges[:-1] + edges[1:]) / 2
        values, slopes = _forward(layers, first, direction, middles, stop)  # (pieces, units)
        with np.errstate(divide="ignore", invalid="ignore"):
            crossings = middles[:, None] - values / slopes
        inside = (slopes != 0) & (crossings > edges[:-1, None]) & (crossings < edges[1:, None])
        kinks = _merge_close(np.concatenate([kinks, crossings[inside]]), tolerance)
    return kinks


def count_linear_pieces(
    model: nn.Sequential,
    start: ArrayLike,
    end: ArrayLike,
    *,
    tolerance: float = TOLERANCE,
    slope_tolerance: float = SLOPE_TOLERANCE,
) -> int:
    """How many affine pieces the network has on the segment from ``start`` to ``end``.

    Used in: Chapter 8 (§8.1, §8.2).

    Start from the activation pieces between the kinks of ``kinks_along_segment``. On
    piece i the network's output is y(t) = y_i + s_i t, with s_i = dy/dt the slope
    vector, shape (outputs,). The network is continuous, so two neighbouring pieces
    with the same slope carry the same affine map and are one linear piece: they merge
    when ``max(abs(s_i - s_(i+1))) <= slope_tolerance * max(max(abs(s_i)), max(abs(s_(i+1))))``.
    Exactly
    equal slopes (a unit whose outgoing weights are 0, a later layer off on both sides)
    always merge.

    This counts the pieces of the function t -> y(start + t (end - start)). Two
    neighbouring linear regions of the input space whose gradients differ only across
    the segment's direction would also merge here; for a segment in general position
    that does not happen.

    Parameters
    ----------
    model : nn.Sequential
        nn.Linear and nn.ReLU layers (see ``kinks_along_segment``).
    start, end : array_like, shape (d,)
        The ends of the segment; distinct, finite.
    tolerance : float, default 1e-10
        Passed to ``kinks_along_segment``.
    slope_tolerance : float, default 1e-9
        Relative difference of slopes below which two pieces merge, >= 0.

    Returns
    -------
    int
        At least 1, at most ``len(kinks_along_segment(model, start, end)) + 1``.
    """
    layers = _layers_of(model)
    first, direction = _segment(layers, start, end)
    slope_tolerance = real_number(slope_tolerance, "slope_tolerance")
    if slope_tolerance < 0:
        raise ValueError(f"slope_tolerance must be >= 0, got {slope_tolerance}.")
    kinks = kinks_along_segment(model, start, end, tolerance=tolerance)
    edges = np.concatenate([[0.0], kinks, [1.0]])
    _, slopes = _forward(layers, first, direction, (edges[:-1] + edges[1:]) / 2, len(layers))
    change = np.abs(np.diff(slopes, axis=0)).max(axis=1)
    size = np.abs(slopes).max(axis=1)
    scale = np.maximum(size[:-1], size[1:])
    return 1 + int(np.count_nonzero(change > slope_tolerance * scale))


def activation_patterns_on_grid(model: nn.Module, xs: ArrayLike, ys: ArrayLike) -> np.ndarray:
    """Label every point of a 2-D grid with its activation pattern.

    Used in: Chapter 8 (§8.1, §8.2).

    The pattern of a point x is the vector of bits [z_u(x) > 0] over every unit u of every
    activation layer (recorded by ``diagnostics.activation_inputs``). Points with the
    same pattern get the same label; labels number the patterns 0, 1, ... in the
    lexicographic order of their bits, so they do not depend on the grid's order.

    ``labels.max() + 1`` is the number of activation regions that the grid meets: a
    lower bound on the number of activation regions in the window, since a region
    thinner than the grid spacing can fall between the points.

    Parameters
    ----------
    model : nn.Module
        A network with 2 inputs and activation layers (nn.ReLU, ...).
    xs : array_like, shape (nx,)
        The grid's first coordinates, x1.
    ys : array_like, shape (ny,)
        The grid's second coordinates, x2.

    Returns
    -------
    ndarray of int64, shape (ny, nx)
        ``labels[i, j]`` is the label of the point (xs[j], ys[i]), rows along x2, as
        ``matplotlib``'s ``imshow(..., origin="lower")`` and ``pcolormesh(xs, ys, ...)``
        draw it.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    first, _ = as_real_array(xs, "xs")
    second, _ = as_real_array(ys, "ys")
    if first.ndim != 1 or second.ndim != 1 or first.size == 0 or second.size == 0:
        raise ValueError(f"xs and ys must be non-empty 1-D arrays, got shapes {first.shape} and {second.shape}.")
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
    grid_x, grid_y = np.meshgrid(first, second)
    points = torch.tensor(np.column_stack([grid_x.ravel(), grid_y.ravel()]), dtype=float_dtype(dtype))
    try:
        recorded = activation_inputs(model, points)
    except RuntimeError as error:
        raise ValueError(f"model must accept the grid's points, shape (n, 2); it failed: {error}") from error
    bits = torch.cat([pre.reshape(len(points), -1) > 0 for _, pre in recorded], dim=1)
    # Pack each pattern into bytes (first unit = highest bit), so that comparing the byte
    # strings compares the patterns bit by bit, and number the distinct strings.
    packed = np.ascontiguousarray(np.packbits(bits.numpy(), axis=1))
    _, labels = np.unique(packed.view(np.dtype((np.void, packed.shape[1]))).ravel(), return_inverse=True)
    return labels.reshape(grid_x.shape).astype(np.int64)


def tent_map_network(depth: int, *, dtype: torch.dtype = torch.float64) -> nn.Sequential:
    """The tent map composed ``depth`` times, as a ReLU network with 2 units per layer.

    Used in: Chapter 8 (§8.2).

    On [0, 1] the tent map is

        T(x) = relu(2x) - relu(4x - 2) = 2x for x <= 1/2, 2 - 2x for x >= 1/2,

    and T maps [0, 1] onto [0, 1]. Layer 1 computes the two units relu(2x) and
    relu(4x - 2); every later layer reads T = h_1 - h_2 from the layer before and
    computes relu(2T) and relu(4T - 2); the output layer returns h_1 - h_2. The network
    computes T composed ``depth`` times, a saw-tooth with 2**(depth - 1) teeth: 2**depth
    affine pieces on [0, 1], with kinks at k / 2**depth, k = 1, ..., 2**depth - 1
    (Telgarsky, 2016). Every weight is a small integer, so the network is exact in
    floating point.

    Shapes: (n, 1) in, (n, 1) out.

    Parameters
    ----------
    depth : int
        Hidden layers, L >= 1 (2L ReLU units in all).
    dtype : torch.dtype, default torch.float64
        Type of the parameters.

    Returns
    -------
    nn.Sequential
        Linear(1, 2), ReLU, (Linear(2, 2), ReLU) * (depth - 1), Linear(2, 1).
    """
    depth = whole_number(depth, "depth", minimum=1)
    dtype = float_dtype(dtype)
    biases = torch.tensor([0.0, -2.0])
    first = _set(nn.Linear(1, 2), [[2.0], [4.0]], biases)
    middle = [[2.0, -2.0], [4.0, -4.0]]  # 2T and 4T - 2, with T = h_1 - h_2
    layers: list[nn.Module] = [first, nn.ReLU()]
    for _ in range(depth - 1):
        layers += [_set(nn.Linear(2, 2), middle, biases), nn.ReLU()]
    layers.append(_set(nn.Linear(2, 1), [[1.0, -1.0]], torch.tensor([0.0])))
    return nn.Sequential(*layers).to(dtype)


def _set(linear: nn.Linear, weight: list[list[float]], bias: torch.Tensor) -> nn.Linear:
    with torch.no_grad():
        linear.weight.copy_(torch.tensor(weight))
        linear.bias.copy_(bias)
    return linear


# ------------------------------------------------------------ approximation in two dimensions (§8.3)


def hat_2d(x: ArrayLike, y: ArrayLike) -> np.ndarray:
    """The hat function of the triangulated unit grid at the origin.

    Used in: Chapter 8 (§8.3).

    ``hat(x, y) = relu(1 - (abs(x) + abs(y) + abs(x - y)) / 2)``

    Cut the integer grid's squares into triangles along their diagonals x - y = const.
    The hat is 1 at the node (0, 0), 0 at every other node, and affine on every triangle:
    its support is the hexagon of the six triangles around the origin, with corners
    (1, 0), (1, 1), (0, 1), (-1, 0), (-1, -1), (0, -1). The formula holds because
    ``max(abs(x), abs(y), abs(x - y)) = (abs(x) + abs(y) + abs(x - y)) / 2`` for all x, y,
    and on the hexagon the hat is ``1 - max(abs(x), abs(y), abs(x - y))``, the lowest of
    its six planes. The hats of all
    nodes add up to 1 everywhere (a partition of unity).

    Parameters
    ----------
    x, y : array_like
        Coordinates, in units of the grid spacing; broadcast against each other.

    Returns
    -------
    ndarray of float64
        The broadcast shape of x and y; values in [0, 1].
    """
    first, _ = as_real_array(x, "x")
    second, _ = as_real_array(y, "y")
    spread = (np.abs(first) + np.abs(second) + np.abs(first - second)) / 2
    return np.maximum(0.0, 1.0 - spread)


def hat_interpolant_network(
    function: Callable[[np.ndarray, np.ndarray], ArrayLike],
    cells: int,
    *,
    start: float = -1.0,
    stop: float = 1.0,
    dtype: torch.dtype = torch.float64,
) -> nn.Sequential:
    """Interpolate ``function`` on the square [start, stop]^2 with a two-hidden-layer ReLU network.

    Used in: Chapter 8 (§8.3).

    The grid has n = cells + 1 nodes per side, x_i = start + i h with spacing
    h = (stop - start) / cells, and its squares are cut along the diagonals x - y = const.
    The network is

        F(x, y) = sum_{i, j} f(x_i, y_j) * hat_2d((x - x_i) / h, (y - y_j) / h),

    one hat per node weighted by the function's value there. That is the continuous
    piecewise-linear function that equals f at every node and is affine on every
    triangle, the 2-D counterpart of ``piecewise.relu_interpolant``; it is exact
    (up to rounding) for every affine f. Built by hand, nothing is trained:

    * hidden layer 1, ridges shared by all hats (8n - 2 units):
      relu(+-(x - x_i) / h) and relu(+-(y - y_j) / h) for every grid line, and
      relu(+-(x - y - c_k) / h) for the 2n - 1 diagonals c_k = (k - (n - 1)) h, so that
      ``abs(u) = relu(u) + relu(-u)`` gives ``abs(x - x_i) / h``, ``abs(y - y_j) / h`` and
      the diagonal's;
    * hidden layer 2, one unit per node (n^2 units):
      ``relu(1 - (abs(x - x_i) + abs(y - y_j) + abs((x - y) - (x_i - y_j))) / (2 h))``,
      the node's hat;
    * output: the hats weighted by f(x_i, y_j), bias 0.

    With start = -1, stop = 1 the weights of layer 1 are +-cells / 2 and its biases are
    multiples of 1/2, so they are exact in floating point, as are those of layers 2
    (-1/2 and 1).

    Shapes: (batch, 2) in, (batch, 1) out.

    Parameters
    ----------
    function : callable
        ``function(x, y)`` maps two arrays of the same shape to an array of that shape,
        e.g. ``lambda x, y: np.exp(-2 * (x**2 + y**2))``.
    cells : int
        Grid cells per side, >= 1.
    start, stop : float, default -1.0, 1.0
        The square, start < stop.
    dtype : torch.dtype, default torch.float64
        Type of the parameters.

    Returns
    -------
    nn.Sequential
        Linear(2, 8n - 2), ReLU, Linear(8n - 2, n^2), ReLU, Linear(n^2, 1): n^2 + 8n - 2
        hidden units.
    """
    cells = whole_number(cells, "cells", minimum=1)
    start, stop = real_number(start, "start"), real_number(stop, "stop")
    if not start < stop:
        raise ValueError(f"start must be below stop, got [{start}, {stop}].")
    dtype = float_dtype(dtype)
    n = cells + 1
    h = (stop - start) / cells
    index = np.arange(n, dtype=np.float64)
    grid_x, grid_y = np.meshgrid(start + h * index, start + h * index, indexing="ij")
    values, _ = as_real_array(function(grid_x, grid_y), "function(x, y)")
    if values.shape != (n, n):
        raise ValueError(f"function(x, y) must return an array of the grid's shape {(n, n)}, got {values.shape}.")
    if not np.all(np.isfinite(values)):
        raise ValueError("function(x, y) must be finite at every node of the grid.")
    scale = cells / (stop - start)  # 1 / h, exact when stop - start is a power of 2
    first_weight, first_bias = _ridges(n, start * scale, scale)
    node_i, node_j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    node_i, node_j = node_i.ravel(), node_j.ravel()
    second_weight = np.zeros((n * n, 8 * n - 2))
    rows = np.arange(n * n)
    diagonal = node_i - node_j + (n - 1)
    for column in (2 * node_i, 2 * n + 2 * node_j, 4 * n + 2 * diagonal):
        second_weight[rows, column] = -0.5  # relu(u) ...
        second_weight[rows, column + 1] = -0.5  # ... + relu(-u) = |u|
    layers = [nn.Linear(2, 8 * n - 2), nn.ReLU(), nn.Linear(8 * n - 2, n * n), nn.ReLU(), nn.Linear(n * n, 1)]
    model = nn.Sequential(*layers).to(dtype)
    with torch.no_grad():
        for linear, weight, bias in (
            (model[0], first_weight, first_bias),
            (model[2], second_weight, np.ones(n * n)),
            (model[4], values.reshape(1, -1), np.zeros(1)),
        ):
            linear.weight.copy_(torch.from_numpy(weight))
            linear.bias.copy_(torch.from_numpy(bias))
    return model


def _ridges(n: int, offset: float, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Weights (8n - 2, 2) and biases (8n - 2,) of the ridge layer of ``hat_interpolant_network``.

    Rows 2i, 2i + 1: +-(x - x_i) / h; rows 2n + 2j, 2n + 2j + 1: +-(y - y_j) / h; rows
    4n + 2k, 4n + 2k + 1: +-(x - y - c_k) / h, c_k = (k - (n - 1)) h. In grid units,
    (x - x_i) / h = scale * x - offset - i with scale = 1 / h and offset = start / h.
    """
    weight, bias = [], []
    for i in range(n):
        weight += [[scale, 0.0], [-scale, 0.0]]
        bias += [-offset - i, offset + i]
    for j in range(n):
        weight += [[0.0, scale], [0.0, -scale]]
        bias += [-offset - j, offset + j]
    for k in range(2 * n - 1):
        shift = k - (n - 1)  # c_k / h; x_i - y_j = (i - j) h, so no offset here
        weight += [[scale, -scale], [-scale, scale]]
        bias += [-shift, shift]
    return np.array(weight, dtype=np.float64), np.array(bias, dtype=np.float64)
