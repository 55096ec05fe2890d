"""The course's figures: one style and a few helpers, so the book looks like one book.

Every figure in the course is drawn with these helpers. They apply the course style
(size, colours, fonts, grid) before drawing, so a figure looks the same in a chapter,
in an exercise and in Colab.

The helpers return the figure. In a notebook, end a figure cell with ``plt.show()``:
it draws the figure once, where a returned Figure object would be drawn a second
time. (A trailing ``;`` is not enough under nbval, which runs cells outside IPython's
history, where IPython ignores the ``;``.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from relu_course._validation import positive_number, whole_number

__all__ = [
    "PALETTE",
    "compare_functions_and_derivatives",
    "new_figure",
    "plot_curves",
    "plot_decision_regions",
    "plot_function_and_derivative",
    "symmetric_grid",
    "use_course_style",
]

#: Colour-blind-safe colours (Okabe & Ito), used in this order for the curves of a figure.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#999999",  # grey
)

# The book's text column is about 680 pixels wide on a laptop screen, so an 800-pixel
# figure is shown at about 85 % of its size: the fonts below are chosen to stay
# readable at that scale.
FIGURE_WIDTH = 8.0  # inches, every figure
PANEL_HEIGHT = 3.4  # inches, per row of panels

#: Matplotlib settings every course figure uses.
_STYLE: dict[str, object] = {
    "figure.dpi": 100,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.titlesize": 13,
    "axes.titlesize": 12,
    "axes.labelsize": 11.5,
    "xtick.labelsize": 10.5,
    "ytick.labelsize": 10.5,
    "legend.fontsize": 10.5,
    # A legend sits where it covers the fewest points ("best"), on a white, slightly
    # see-through box, so that a curve it must cross stays visible.
    "legend.loc": "best",
    "legend.frameon": True,
    "legend.framealpha": 0.85,
    "legend.edgecolor": "none",
    "lines.linewidth": 2.0,
    "axes.prop_cycle": mpl.cycler(color=list(PALETTE)),
    "font.family": "DejaVu Sans",
}


def use_course_style() -> None:
    """Apply the course style (one size, font and colour cycle for every figure) to matplotlib. The helpers call it.

    In Jupyter or Colab it also stores each figure at twice its pixels, shown at its 1x size.
    """
    mpl.rcParams.update(_STYLE)
    _show_sharp_figures_in_notebooks()


def _show_sharp_figures_in_notebooks() -> None:
    """In Jupyter or Colab, store figures as PNGs of twice the pixels, shown at their 1x size.

    IPython calls this the "retina" format: an 8-inch figure at ``figure.dpi`` 100 is stored
    as a PNG about 1600 pixels wide, with ``{"width": 800, "height": ...}`` in the output's
    metadata. Notebook front ends and the book show it 800 pixels wide (or narrower, to fit
    the column), so each CSS pixel gets two image pixels across: sharp on high-DPI screens.
    Outside IPython (a script, the test suite) nothing changes.
    """
    try:
        from IPython import get_ipython
        from matplotlib_inline.config import InlineBackend
    except ImportError:  # matplotlib without a notebook: nothing to configure
        return
    if get_ipython() is None:
        return
    inline = InlineBackend.instance()
    if inline.figure_formats != {"retina"}:
        inline.figure_formats = {"retina"}


def new_figure(ncols: int = 1, nrows: int = 1, *, title: str | None = None) -> tuple[Figure, list[Axes]]:
    """Create a course-sized figure with ``nrows x ncols`` panels.

    Parameters
    ----------
    ncols, nrows : int
        Panels across and down.
    title : str, optional
        Title over the whole figure.

    Returns
    -------
    figure : Figure
        ``FIGURE_WIDTH`` wide and ``PANEL_HEIGHT`` tall per row.
    axes : list of Axes
        The panels, row by row.
    """
    use_course_style()
    figure, axes = plt.subplots(
        nrows, ncols, figsize=(FIGURE_WIDTH, PANEL_HEIGHT * nrows), squeeze=False, layout="constrained"
    )
    if title:
        figure.suptitle(title)
    return figure, list(axes.ravel())


def symmetric_grid(limit: float = 3.0, points_per_unit: int = 100) -> np.ndarray:
    """Evenly spaced points on [-limit, limit] that contain 0 exactly.

    The points are ``k / points_per_unit`` for integer k, so 0 (k = 0) is in the grid
    as an exact zero. Grids built otherwise may miss it: ``torch.linspace(-3, 3, 101)``
    and ``np.arange(-3, 3.01, 0.01)`` have no exact 0 (the entry nearest 0 is about
    7e-8 and 6e-14 away).

    Parameters
    ----------
    limit : float, default 3.0
        Half-width of the interval, > 0.
    points_per_unit : int, default 100
        Points per unit length, >= 1.

    Returns
    -------
    ndarray, shape (2 * ceil(limit * points_per_unit) + 1,)
        The grid, ascending.
    """
    limit = positive_number(limit, "limit")
    points_per_unit = whole_number(points_per_unit, "points_per_unit", minimum=1)
    steps = int(np.ceil(limit * points_per_unit))
    return np.arange(-steps, steps + 1) / points_per_unit


def _break_at_jumps(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Insert NaN between neighbours whose values jump by more than a quarter of the range.

    A line plot then shows a step as a step, without a vertical segment.
    """
    finite = y[np.isfinite(y)]
    if finite.size < 2:
        return x, y
    threshold = 0.25 * (finite.max() - finite.min())
    jumps = np.nonzero(np.abs(np.diff(y)) > threshold)[0] if threshold > 0 else np.array([], dtype=int)
    return np.insert(x, jumps + 1, np.nan), np.insert(y, jumps + 1, np.nan)


def plot_curves(
    ax: Axes,
    x: ArrayLike,
    curves: Mapping[str, ArrayLike],
    *,
    xlabel: str = "x",
    ylabel: str = "",
    title: str | None = None,
    logx: bool = False,
    logy: bool = False,
    marker: str | None = None,
    break_at_jumps: bool = False,
) -> Axes:
    """Draw one or more curves y(x) on ``ax``, in the course colours.

    Parameters
    ----------
    ax : Axes
        Where to draw, e.g. a panel from ``new_figure``.
    x : array_like, shape (n,)
        Shared x values.
    curves : mapping of label -> array_like, each shape (n,)
        The curves; a legend shows the labels when there is more than one.
    xlabel, ylabel, title : str
        Axis labels and panel title.
    logx, logy : bool
        Logarithmic axes.
    marker : str, optional
        A matplotlib marker drawn at every point, e.g. ``"o"``.
    break_at_jumps : bool, default False
        Leave out the line segment wherever a curve jumps by more than a quarter of its
        range, so that a step in a derivative is not drawn as a steep ramp.

    Returns
    -------
    Axes
        ``ax``.
    """
    use_course_style()
    x_values = np.asarray(x, dtype=float)
    for index, (label, y) in enumerate(curves.items()):
        y_values = np.asarray(y, dtype=float)
        if y_values.shape != x_values.shape:
            raise ValueError(f"curve {label!r} has shape {y_values.shape}, x has shape {x_values.shape}.")
        drawn_x, drawn_y = _break_at_jumps(x_values, y_values) if break_at_jumps else (x_values, y_values)
        ax.plot(drawn_x, drawn_y, label=label, marker=marker, color=PALETTE[index % len(PALETTE)])
    _label_axes(ax, xlabel, ylabel, title, logx, logy, legend=len(curves) > 1)
    return ax


def _label_axes(ax: Axes, xlabel: str, ylabel: str, title: str | None, logx: bool, logy: bool, legend: bool) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    if legend:
        ax.legend()


def compare_functions_and_derivatives(
    pairs: Mapping[str, tuple[Callable[[np.ndarray], ArrayLike], Callable[[np.ndarray], ArrayLike]]],
    x: ArrayLike | None = None,
    *,
    kinks: Iterable[float] = (),
    title: str | None = None,
) -> Figure:
    """Draw several functions (left panel) and their derivatives (right panel).

    Steps in a derivative are drawn as steps (no vertical segment). At each kink, a dot
    marks the value each derivative function returns exactly there.

    Parameters
    ----------
    pairs : mapping of label -> (f, df)
        Each ``f`` and ``df`` maps an array of x values to an array of the same shape.
    x : array_like, optional
        Where to evaluate; ``symmetric_grid(3.0)`` by default (it contains 0).
    kinks : iterable of float
        Points where the derivatives are marked with a dot, e.g. ``[0.0]``.
    title : str, optional
        Title over the figure.

    Returns
    -------
    Figure
        The figure, with the panels ``f(x)`` and ``f'(x)``.
    """
    x_values = symmetric_grid(3.0) if x is None else np.asarray(x, dtype=float)
    kink_points = np.asarray(list(kinks), dtype=float)
    figure, (ax_f, ax_df) = new_figure(ncols=2, title=title)
    for index, (label, (function, derivative)) in enumerate(pairs.items()):
        color = PALETTE[index % len(PALETTE)]
        ax_f.plot(*_break_at_jumps(x_values, np.asarray(function(x_values), dtype=float)), color=color, label=label)
        ax_df.plot(*_break_at_jumps(x_values, np.asarray(derivative(x_values), dtype=float)), color=color, label=label)
        if kink_points.size:
            ax_df.plot(kink_points, np.asarray(derivative(kink_points), dtype=float), "o", color=color, markersize=6)
    _label_axes(ax_f, "x", "f(x)", "function", False, False, legend=len(pairs) > 1)
    _label_axes(ax_df, "x", "f'(x)", "derivative", False, False, legend=len(pairs) > 1)
    return figure


def plot_function_and_derivative(
    function: Callable[[np.ndarray], ArrayLike],
    derivative: Callable[[np.ndarray], ArrayLike],
    x: ArrayLike | None = None,
    *,
    name: str = "f",
    kinks: Sequence[float] = (),
    title: str | None = None,
) -> Figure:
    """Draw ``function`` and its ``derivative`` side by side.

    ``plot_function_and_derivative(relu, relu_grad, kinks=[0.0])`` draws ReLU on the
    left and its derivative on the right, with a dot at the value ``relu_grad(0)``.

    Parameters
    ----------
    function, derivative : callable
        Map an array of x values to an array of the same shape.
    x : array_like, optional
        Where to evaluate; ``symmetric_grid(3.0)`` by default (it contains 0).
    name : str
        The function's name, used as the figure title when ``title`` is not given.
    kinks : sequence of float
        Points where the derivative's value is marked with a dot.
    title : str, optional
        Title over the figure.

    Returns
    -------
    Figure
    """
    return compare_functions_and_derivatives(
        {name: (function, derivative)}, x, kinks=kinks, title=title if title is not None else name
    )


def plot_decision_regions(
    ax: Axes,
    model: Callable[[torch.Tensor], torch.Tensor],
    inputs: torch.Tensor,
    labels: torch.Tensor,
    *,
    resolution: int = 200,
    title: str | None = None,
) -> Axes:
    """Shade the class a 2-D classifier predicts everywhere, and draw the data on top.

    Parameters
    ----------
    ax : Axes
        Where to draw.
    model : callable
        Maps a tensor of shape (m, 2), of the same dtype as ``inputs``, to class
        scores of shape (m, classes).
    inputs : Tensor, shape (n, 2)
        The data points (float32 or float64; the grid gets the same type).
    labels : Tensor of int, shape (n,)
        Their classes, drawn in the course colours.
    resolution : int, default 200
        Grid points along each axis, >= 2.
    title : str, optional
        Panel title.

    Returns
    -------
    Axes
        ``ax``.
    """
    use_course_style()
    resolution = whole_number(resolution, "resolution", minimum=2)
    points = np.asarray(inputs, dtype=float)
    classes = np.asarray(labels)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) != len(classes):
        raise ValueError(
            f"inputs must have shape (n, 2) and labels shape (n,); got {points.shape} and {classes.shape}."
        )
    low, high = points.min(axis=0), points.max(axis=0)
    margin = 0.1 * (high - low)
    xs = np.linspace(low[0] - margin[0], high[0] + margin[0], resolution)
    ys = np.linspace(low[1] - margin[1], high[1] + margin[1], resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    grid_dtype = inputs.dtype if isinstance(inputs, torch.Tensor) and inputs.is_floating_point() else torch.float32
    grid = torch.tensor(np.column_stack([grid_x.ravel(), grid_y.ravel()]), dtype=grid_dtype)
    with torch.no_grad():
        predicted = model(grid).argmax(dim=1).numpy().reshape(grid_x.shape)
    class_count = int(max(classes.max(), predicted.max())) + 1
    colours = mpl.colors.ListedColormap(PALETTE[:class_count])
    ax.pcolormesh(grid_x, grid_y, predicted, cmap=colours, alpha=0.25, shading="auto", vmin=0, vmax=class_count - 1)
    ax.scatter(points[:, 0], points[:, 1], c=classes, cmap=colours, s=8, vmin=0, vmax=class_count - 1)
    ax.set_aspect("equal")
    _label_axes(ax, "x₁", "x₂", title, False, False, legend=False)
    return ax
