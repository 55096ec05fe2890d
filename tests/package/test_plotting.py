"""The plotting helpers: grids, figure layout, steps drawn as steps."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from relu_course import plotting
from relu_course.activations import relu, relu_grad, softplus, softplus_grad


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_symmetric_grid_contains_an_exact_zero():
    grid = plotting.symmetric_grid(3.0, points_per_unit=100)
    assert len(grid) == 601
    assert grid[0] == -3.0 and grid[-1] == 3.0
    assert np.count_nonzero(grid == 0.0) == 1
    assert np.all(np.diff(grid) > 0)
    # The pitfall it avoids:
    assert not torch.any(torch.linspace(-3, 3, 101) == 0.0)
    assert not np.any(np.arange(-3, 3.01, 0.01) == 0.0)


@pytest.mark.parametrize("limit, per_unit", [(0, 10), (-1, 10), (1, 0), (1, 2.5)])
def test_symmetric_grid_rejects_bad_arguments(limit, per_unit):
    with pytest.raises((ValueError, TypeError)):
        plotting.symmetric_grid(limit, per_unit)


def test_function_and_derivative_figure_has_two_course_sized_panels():
    figure = plotting.plot_function_and_derivative(relu, relu_grad, name="ReLU", kinks=[0.0])
    assert tuple(figure.get_size_inches()) == (plotting.FIGURE_WIDTH, plotting.PANEL_HEIGHT)
    ax_f, ax_df = figure.axes
    assert ax_f.get_ylabel() == "f(x)" and ax_df.get_ylabel() == "f'(x)"
    assert figure.get_suptitle() == "ReLU"
    # The derivative's step is drawn as two pieces (a NaN gap), and the kink as a dot at relu_grad(0).
    step_line, kink_dot = ax_df.lines
    assert np.isnan(step_line.get_ydata()).sum() == 1
    assert list(kink_dot.get_xdata()) == [0.0] and list(kink_dot.get_ydata()) == [0.0]


def test_smooth_curves_are_not_broken():
    figure = plotting.plot_function_and_derivative(softplus, softplus_grad)
    for ax in figure.axes:
        assert not np.isnan(ax.lines[0].get_ydata()).any()


def test_comparison_uses_the_palette_in_order_and_a_legend():
    pairs = {"relu": (relu, relu_grad), "softplus": (softplus, softplus_grad)}
    figure = plotting.compare_functions_and_derivatives(pairs)
    ax_f = figure.axes[0]
    assert [line.get_color() for line in ax_f.lines] == list(plotting.PALETTE[:2])
    assert [text.get_text() for text in ax_f.get_legend().get_texts()] == ["relu", "softplus"]


def test_plot_curves_checks_shapes_and_sets_log_axes():
    figure, (ax,) = plotting.new_figure()
    plotting.plot_curves(ax, [1, 2, 4], {"error": [1.0, 0.25, 0.0625]}, logx=True, logy=True, ylabel="error")
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log" and ax.get_ylabel() == "error"
    with pytest.raises(ValueError, match="shape"):
        plotting.plot_curves(ax, [1, 2, 3], {"bad": [1.0, 2.0]})


def test_new_figure_applies_the_course_style():
    matplotlib.rcParams["axes.grid"] = False
    figure, axes = plotting.new_figure(ncols=3, nrows=2, title="t")
    assert len(axes) == 6
    assert matplotlib.rcParams["axes.grid"] is True
    assert tuple(figure.get_size_inches()) == (plotting.FIGURE_WIDTH, 2 * plotting.PANEL_HEIGHT)


def test_decision_regions_shade_the_predicted_class():
    from torch import nn

    # Predicts class 1 right of x1 = 0, class 0 left of it.
    model = nn.Linear(2, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[-1.0, 0.0], [1.0, 0.0]]))
        model.bias.zero_()
    inputs = torch.tensor([[-1.0, 0.0], [1.0, 1.0], [0.5, -1.0]])
    figure, (ax,) = plotting.new_figure()
    plotting.plot_decision_regions(ax, model, inputs, torch.tensor([0, 1, 1]), resolution=20)
    mesh = ax.collections[0]
    shaded = np.asarray(mesh.get_array()).reshape(20, 20)
    assert (shaded[:, :9] == 0).all() and (shaded[:, -9:] == 1).all()
    with pytest.raises(ValueError, match="shape"):
        plotting.plot_decision_regions(ax, model, inputs[:, :1], torch.tensor([0, 1, 1]))


def test_decision_regions_of_a_float64_model():
    from torch import nn

    model = nn.Linear(2, 2, dtype=torch.float64)
    inputs = torch.tensor([[-1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    figure, (ax,) = plotting.new_figure()
    plotting.plot_decision_regions(ax, model, inputs, torch.tensor([0, 1]), resolution=5)
    assert np.asarray(ax.collections[0].get_array()).size == 25


def test_plot_curves_can_leave_out_the_segment_across_a_jump():
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    step = np.array([0.0, 0.0, 0.0, 1.0, 1.0])
    figure, (ax,) = plotting.new_figure()
    plotting.plot_curves(ax, x, {"step": step}, break_at_jumps=True)
    drawn = ax.lines[0].get_ydata()
    assert np.isnan(drawn).sum() == 1 and np.nanmax(drawn) == 1.0
    plotting.plot_curves(ax, x, {"step": step})
    assert not np.isnan(ax.lines[1].get_ydata()).any()


# matplotlib-inline's own observer of figure_formats uses a traitlets name it deprecates.
@pytest.mark.filterwarnings("ignore:InlineBackend._figure_formats_changed:DeprecationWarning")
def test_course_style_asks_notebooks_for_figures_at_twice_their_pixels(monkeypatch):
    import IPython
    from matplotlib_inline.config import InlineBackend

    inline = InlineBackend.instance()
    monkeypatch.setattr(inline, "figure_formats", {"png"})
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)  # a script or this test suite
    plotting.use_course_style()
    assert inline.figure_formats == {"png"}

    monkeypatch.setattr(IPython, "get_ipython", lambda: object())  # Jupyter, Colab
    plotting.use_course_style()
    assert inline.figure_formats == {"retina"}
