"""The exercise checks accept every right answer, reject wrong ones with the right message, and never crash.

Each check is fed a catalogue of right answers (several spellings) and of wrong ones
(with the words its one-line message must contain). The answers here are written
independently of the solution notebooks.
"""

from __future__ import annotations

import math
import random
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from relu_course import activations, checks, networks


def verdict(check, answer, capsys) -> tuple[bool, str]:
    """Run a check; assert it printed exactly one line; return (result, line)."""
    result = check(answer)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1, lines
    assert isinstance(result, bool)
    return result, lines[0]


def assert_passes(check, answer, capsys) -> None:
    result, line = verdict(check, answer, capsys)
    assert result is True, line
    assert line.startswith(checks.PASSED), line


def assert_fails(check, answer, capsys, *phrases: str) -> str:
    result, line = verdict(check, answer, capsys)
    assert result is False, line
    assert line.startswith((checks.FAILED, checks.NOT_YET)), line
    for phrase in phrases:
        assert phrase in line, f"{phrase!r} not in: {line}"
    return line


def stub(*args, **kwargs):
    raise NotImplementedError("Task 1: your code here")


# --------------------------------------------------------------------------- never crash, side effects


def _raises(*args, **kwargs):
    raise ZeroDivisionError("boom")


GARBAGE = {
    "None": None,
    "an int": 42,
    "a string": "relu",
    "an object": object(),
    "returns None": lambda *a, **k: None,
    "returns a list": lambda *a, **k: [1.0, 2.0],
    "raises": _raises,
    "returns NaN": lambda *a, **k: math.nan,
    "returns a tensor": lambda *a, **k: torch.tensor(1.0),
    "a plain class": type("Plain", (), {}),
    "the nn.ReLU class": nn.ReLU,
    "an nn.ReLU instance": nn.ReLU(),
    "a generator": lambda *a, **k: (value for value in [1.0]),
}


@pytest.mark.parametrize("name", checks.__all__)
def test_every_check_survives_garbage(name, capsys):
    for garbage, answer in GARBAGE.items():
        result, line = verdict(getattr(checks, name), answer, capsys)
        assert result is False and line.startswith((checks.FAILED, checks.NOT_YET)), f"{garbage}: {line}"


@pytest.mark.parametrize("name", [name for name in checks.__all__ if name != "prelu"])  # prelu: a class, below
def test_an_unfinished_task_says_not_implemented_yet(name, capsys):
    line = assert_fails(getattr(checks, name), stub, capsys, "not implemented yet", "Task 1")
    assert line.startswith(checks.NOT_YET)


def test_a_class_whose_init_is_unfinished_is_not_implemented_yet(capsys):
    class Unfinished(nn.Module):
        def __init__(self, num_parameters=1, init=0.25):
            super().__init__()
            raise NotImplementedError("Task 5: your code here")

    assert_fails(checks.prelu, Unfinished, capsys, "not implemented yet (Task 5: your code here)")


def test_checks_leave_every_random_state_and_warning_filter_alone(capsys):
    torch.manual_seed(123)
    np.random.seed(123)
    random.seed(123)
    torch_state, numpy_state, python_state = torch.get_rng_state(), np.random.get_state(), random.getstate()

    def draws_everywhere(layer):
        np.random.rand(3)
        random.random()
        return he_normal_by_hand(layer)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert_passes(checks.he_normal, draws_everywhere, capsys)
        assert_passes(checks.elu, lambda x, alpha=1.0: np.where(x > 0, x, alpha * (np.exp(x) - 1)), capsys)
    assert caught == []  # exp overflow warnings are hidden
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], numpy_state[1])
    assert random.getstate() == python_state


def test_what_the_answer_prints_is_hidden(capsys):
    def chatty_relu(x):
        print("debugging", x)
        return np.maximum(x, 0)

    assert_passes(checks.relu, chatty_relu, capsys)


# --------------------------------------------------------------------------- Chapter 1


def relu_with_copy(x):
    result = x.copy()
    result[result < 0] = 0
    return result


RIGHT_RELUS = {
    "np.maximum(x, 0)": lambda x: np.maximum(x, 0),
    "np.where(x > 0, x, 0)": lambda x: np.where(x > 0, x, 0),
    "x * (x > 0)": lambda x: x * (x > 0),
    "np.clip(x, 0, None)": lambda x: np.clip(x, 0, None),
    "np.maximum(x, 0.0)": lambda x: np.maximum(x, 0.0),
    "np.fmax(x, 0)": lambda x: np.fmax(x, 0),
    "(x + np.abs(x)) / 2": lambda x: (x + np.abs(x)) / 2,
    "copy, then mask": relu_with_copy,
    "activations.relu": activations.relu,
}


@pytest.mark.parametrize("spelling", RIGHT_RELUS)
def test_relu_accepts_every_right_spelling(spelling, capsys):
    assert_passes(checks.relu, RIGHT_RELUS[spelling], capsys)


def relu_in_place(x):
    x[x < 0] = 0
    return x


def relu_with_a_loop(x):
    result = np.empty_like(x)
    for index in np.ndindex(x.shape):
        result[index] = max(x[index], 0)
    return result


def relu_with_a_comprehension(x):
    return np.array([max(value, 0.0) for value in x.ravel()], dtype=x.dtype).reshape(x.shape)


def relu_with_vectorize(x):
    return np.vectorize(lambda value: max(value, 0.0), otypes=[float])(x).astype(x.dtype)


def relu_without_return(x):
    np.maximum(x, 0)


WRONG_RELUS = {
    "identity": (lambda x: x.copy(), ["wrong value at x = -2.0", "expected 0.0, got -2.0", "for x < 0"]),
    "abs": (lambda x: np.abs(x), ["expected 0.0, got 2.0"]),
    "capped at 1": (lambda x: np.clip(x, 0, 1), ["expected 2.0, got 1.0", "for x > 0"]),
    "in place": (relu_in_place, ["changed its input"]),
    "a for loop": (relu_with_a_loop, ["for loop", "whole-array NumPy"]),
    "a comprehension": (relu_with_a_comprehension, ["comprehension"]),
    "np.vectorize": (relu_with_vectorize, ["vectorize()"]),
    "float64 for float32": (lambda x: np.maximum(x, np.float64(0)), ["returned dtype float64", "float32"]),
    "a view of x": (lambda x: x[...], ["shares memory"]),
    "flattened": (lambda x: np.maximum(x, 0).ravel(), ["returned shape (1,)", "expected the input's shape ()"]),
    "a list": (lambda x: np.maximum(x, 0).tolist(), ["returned a list", "NumPy array"]),
    "a single number": (lambda x: 0.0, ["single number", "expected an array of shape (5,)"]),
    "None": (relu_without_return, ["returned None", "forget `return`"]),
    "a tensor": (lambda x: torch.relu(torch.as_tensor(x)), ["torch.Tensor"]),
    "booleans": (lambda x: x > 0, ["dtype bool"]),
    "NaN": (lambda x: np.full(x.shape, np.nan), ["got nan"]),
    "raises": (lambda x: x.no_such_method(), ["raised AttributeError"]),
    "not callable": (3, ["expected a function, got the Python int 3"]),
}


@pytest.mark.parametrize("mistake", WRONG_RELUS)
def test_relu_rejects_wrong_answers_and_says_why(mistake, capsys):
    answer, phrases = WRONG_RELUS[mistake]
    assert_fails(checks.relu, answer, capsys, *phrases)


def test_relu_reports_the_failing_element_of_a_3d_input(capsys):
    def wrong_only_in_3d(x):
        return np.maximum(x, 0) + (x.ndim == 3)

    assert_fails(checks.relu, wrong_only_in_3d, capsys, "element (0, 0, 0) of x", "shape (2, 3, 4)")


@settings(max_examples=25, deadline=None)
@given(st.floats(0.5, 2.0).filter(lambda scale: abs(scale - 1.0) > 1e-9))
def test_relu_rejects_any_rescaled_relu(scale):
    assert checks.relu(lambda x: scale * np.maximum(x, 0)) is False


def test_abs_and_hat_accept_sums_of_relus_and_reject_wrong_sums(capsys):
    relu = activations.relu
    assert_passes(checks.abs_from_relu, lambda x: relu(x) + relu(-x), capsys)
    assert_passes(checks.abs_from_relu, lambda x: np.maximum(x, 0) + np.maximum(-x, 0), capsys)
    assert_passes(checks.hat, lambda x: relu(x + 1) - 2 * relu(x) + relu(x - 1), capsys)
    assert_passes(checks.hat, lambda x: np.maximum(x + 1, 0) - 2 * np.maximum(x, 0) + np.maximum(x - 1, 0), capsys)
    assert_fails(checks.abs_from_relu, lambda x: relu(x) - relu(-x), capsys, "wrong value", "|x|")
    assert_fails(checks.hat, lambda x: relu(x + 1) - relu(x) + relu(x - 1), capsys, "wrong value", "hat(x)")


def network_through_knots(knots_x, knots_y, dtype=torch.float32):
    k = len(knots_x) - 1
    changes = np.diff(np.diff(knots_y) / np.diff(knots_x), prepend=0.0)
    hidden, output = nn.Linear(1, k, dtype=dtype), nn.Linear(k, 1, dtype=dtype)
    with torch.no_grad():
        hidden.weight.fill_(1.0)
        hidden.bias.copy_(torch.tensor(-knots_x[:-1]))
        output.weight.copy_(torch.tensor(changes).reshape(1, k))
        output.bias.fill_(float(knots_y[0]))
    return nn.Sequential(hidden, nn.ReLU(), output)


def test_piecewise_network_right_and_wrong(capsys):
    from relu_course import piecewise

    assert_passes(checks.piecewise_network, network_through_knots, capsys)
    assert_passes(checks.piecewise_network, lambda x, y: network_through_knots(x, y, torch.float64), capsys)
    assert_passes(checks.piecewise_network, lambda x, y: piecewise.relu_expansion(x, y).to_network(), capsys)

    def one_unit_too_many(knots_x, knots_y):
        return network_through_knots(np.append(knots_x, knots_x[-1] + 1), np.append(knots_y, knots_y[-1]))

    def wrong_bias_sign(knots_x, knots_y):
        network = network_through_knots(knots_x, knots_y)
        with torch.no_grad():
            network[0].bias.neg_()
        return network

    assert_fails(checks.piecewise_network, one_unit_too_many, capsys, "Linear(1, 4), ReLU, Linear(4, 1)")
    assert_fails(checks.piecewise_network, wrong_bias_sign, capsys, "wrong output at x =", "bias -knots_x[i]")
    assert_fails(checks.piecewise_network, lambda x, y: nn.Linear(1, 1), capsys, "Linear layers [(1, 1)]")
    assert_fails(checks.piecewise_network, lambda x, y: "net", capsys, "expected a torch.nn.Module")


def count_pieces_by_runs(x, y, tol=1e-6):
    changed = np.abs(np.diff(np.diff(y) / np.diff(x))) > tol
    return 1 + int((changed & ~np.concatenate([[False], changed[:-1]])).sum())


def count_pieces_by_loop(x, y, tol=1e-6):
    slopes = np.diff(y) / np.diff(x)
    pieces, previous_changed = 1, False
    for left, right in zip(slopes[:-1], slopes[1:]):
        changed = abs(right - left) > tol
        pieces += changed and not previous_changed
        previous_changed = changed
    return pieces


def test_count_pieces_right_and_wrong(capsys):
    assert_passes(checks.count_pieces, count_pieces_by_runs, capsys)
    assert_passes(checks.count_pieces, count_pieces_by_loop, capsys)

    def counts_every_change(x, y, tol=1e-6):
        return 1 + int((np.abs(np.diff(np.diff(y) / np.diff(x))) > tol).sum())

    def ignores_tol(x, y, tol=1e-6):
        return count_pieces_by_runs(x, y, 1e-6)

    assert_fails(checks.count_pieces, counts_every_change, capsys, "expected 2 pieces, got 3", "run")
    assert_fails(checks.count_pieces, ignores_tol, capsys, "tol=1e-10", "expected 2 pieces, got 1")
    assert_fails(checks.count_pieces, lambda x, y, tol=1e-6: 2.0, capsys, "expected a whole number")


# --------------------------------------------------------------------------- Chapter 2


RIGHT_RELU_GRADS = {
    "nested np.where": lambda x, at_zero=0.0: np.where(x > 0, 1.0, np.where(x < 0, 0.0, at_zero)),
    "np.heaviside": lambda x, at_zero=0.0: np.heaviside(x, at_zero),
    "masks": lambda x, at_zero=0.0: (x > 0) * 1.0 + (x == 0) * at_zero,
}


@pytest.mark.parametrize("spelling", RIGHT_RELU_GRADS)
def test_relu_grad_accepts_right_spellings(spelling, capsys):
    assert_passes(checks.relu_grad, RIGHT_RELU_GRADS[spelling], capsys)


WRONG_RELU_GRADS = {
    "ignores at_zero": (lambda x, at_zero=0.0: np.where(x > 0, 1.0, 0.0), ["at_zero=0.5", "return at_zero"]),
    "-0.0 treated as negative": (
        lambda x, at_zero=0.0: np.where(x > 0, 1.0, np.where(np.signbit(x), 0.0, at_zero)),
        ["x = -0.0", "-0.0 == 0"],
    ),
    "default 1": (lambda x, at_zero=1.0: np.heaviside(x, at_zero), ["whose default is 0.0"]),
    "integers": (lambda x, at_zero=0: (x > 0).astype(int), ["returned dtype int64", "expected floats"]),
    "no at_zero parameter": (lambda x: np.heaviside(x, 0.0), ["unexpected keyword argument 'at_zero'"]),
}


@pytest.mark.parametrize("mistake", WRONG_RELU_GRADS)
def test_relu_grad_rejects_wrong_answers(mistake, capsys):
    answer, phrases = WRONG_RELU_GRADS[mistake]
    assert_fails(checks.relu_grad, answer, capsys, *phrases)


def central(f, x, h=1e-6):
    x = np.asarray(x, dtype=np.float64)
    return (f(x + h) - f(x - h)) / (2 * h)


def test_central_difference_right_and_wrong(capsys):
    assert_passes(checks.central_difference, central, capsys)
    assert_passes(checks.central_difference, lambda f, x, h=1e-6: central(f, np.array(x, dtype=float), h), capsys)

    def forward(f, x, h=1e-6):
        x = np.asarray(x, dtype=np.float64)
        return (f(x + h) - f(x)) / h

    def stays_float32(f, x, h=1e-6):
        return (f(x + h) - f(x - h)) / (2 * h)

    def fixed_step(f, x, h=1e-6):
        return central(f, x)

    assert_fails(checks.central_difference, forward, capsys, "f = np.sin", "forward difference")
    assert_fails(checks.central_difference, stays_float32, capsys, "float32", "convert x to float64")
    assert_fails(checks.central_difference, fixed_step, capsys, "h=1e-3", "use the h you are given")


def gradient_check_by_hand(f, f_grad, x, h=1e-6, tol=1e-4):
    rows = []
    for point in np.asarray(x, dtype=np.float64).ravel():
        numerical = (f(point + h) - f(point - h)) / (2 * h)
        analytic = float(f_grad(np.array(point)))
        if abs(numerical - analytic) > tol:
            left, right = (f(point) - f(point - h)) / h, (f(point + h) - f(point)) / h
            rows.append((point, numerical, analytic, "kink" if abs(right - left) > tol else "mismatch"))
    return rows


def test_gradient_check_right_and_wrong(capsys):
    assert_passes(checks.gradient_check, gradient_check_by_hand, capsys)

    def always_mismatch(f, f_grad, x, h=1e-6, tol=1e-4):
        return [(p, n, a, "mismatch") for p, n, a, _ in gradient_check_by_hand(f, f_grad, x, h, tol)]

    def ignores_tol(f, f_grad, x, h=1e-6, tol=1e-4):
        return gradient_check_by_hand(f, f_grad, x, h, 1e-12)

    def returns_nothing(f, f_grad, x, h=1e-6, tol=1e-4):
        gradient_check_by_hand(f, f_grad, x, h, tol)

    assert_fails(checks.gradient_check, always_mismatch, capsys, "should be 'kink'", "one-sided slopes")
    assert_fails(checks.gradient_check, ignores_tol, capsys, "expected failures at x = []")
    assert_fails(checks.gradient_check, returns_nothing, capsys, "returned None", "Return []")
    assert_fails(checks.gradient_check, lambda *a, **k: [1, 2], capsys, "not (x, numerical, analytic, reason)")


def derivative_by_autograd(f, x0):
    x = torch.tensor(float(x0), dtype=torch.float64, requires_grad=True)
    f(x).backward()
    return x.grad.item()


def test_autograd_derivative_right_and_wrong(capsys):
    assert_passes(checks.autograd_derivative, derivative_by_autograd, capsys)

    def in_float32(f, x0):
        x = torch.tensor(float(x0), requires_grad=True)
        f(x).backward()
        return x.grad.item()

    def returns_the_tensor(f, x0):
        x = torch.tensor(float(x0), dtype=torch.float64, requires_grad=True)
        f(x).backward()
        return x.grad

    def integer_tensor(f, x0):
        x = torch.tensor(x0, dtype=torch.float64 if isinstance(x0, float) else None, requires_grad=True)
        f(x).backward()
        return x.grad.item()

    def by_finite_difference(f, x0):
        x = torch.tensor(float(x0), dtype=torch.float64)
        return ((f(x + 1e-6) - f(x - 1e-6)) / 2e-6).item()

    assert_fails(checks.autograd_derivative, in_float32, capsys, "torch.sin", "close, but not exact", "float64")
    assert_fails(checks.autograd_derivative, returns_the_tensor, capsys, "torch.Tensor", ".item()")
    assert_fails(checks.autograd_derivative, integer_tensor, capsys, "integer x0", "raised RuntimeError")
    assert_fails(checks.autograd_derivative, by_finite_difference, capsys, "torch.sin", "finite differences")
    assert_fails(checks.autograd_derivative, lambda f, x0: 0.5, capsys, "expected 0.955336489125606, got 0.5")


# --------------------------------------------------------------------------- Chapter 3


def he_normal_by_hand(layer):
    with torch.no_grad():
        layer.weight.normal_(0.0, math.sqrt(2.0 / layer.in_features))
        layer.bias.zero_()
    return layer


def test_he_normal_accepts_right_answers(capsys):
    assert_passes(checks.he_normal, he_normal_by_hand, capsys)

    def with_torch_init(layer):
        nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        nn.init.zeros_(layer.bias)
        return layer

    def new_parameter(layer):
        std = math.sqrt(2.0 / layer.in_features)
        layer.weight = nn.Parameter(torch.randn(layer.out_features, layer.in_features) * std)
        layer.bias = nn.Parameter(torch.zeros(layer.out_features))
        return layer

    assert_passes(checks.he_normal, with_torch_init, capsys)
    assert_passes(checks.he_normal, new_parameter, capsys)


def _init_with(initializer, zero_bias=True):
    def initialize(layer):
        initializer(layer.weight)
        if zero_bias:
            nn.init.zeros_(layer.bias)
        return layer

    return initialize


def _without_return(layer):
    he_normal_by_hand(layer)


WRONG_HE = {
    "uniform": (_init_with(lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu")), ["kurtosis", "normal"]),
    "fan_out": (_init_with(lambda w: nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")), ["fan_out"]),
    "Xavier": (_init_with(nn.init.xavier_normal_), ["Xavier"]),
    "default": (lambda layer: layer, ["nn.Linear's default"]),
    "variance as std": (_init_with(lambda w: w.data.normal_(0, 2 / w.shape[1])), ["that is the variance"]),
    "bias left": (_init_with(lambda w: nn.init.kaiming_normal_(w), zero_bias=False), ["bias is not all zeros"]),
    "no return": (_without_return, ["returned None", "return layer"]),
    "returns the weight": (lambda layer: he_normal_by_hand(layer).weight, ["torch.Tensor", "return it"]),
    "plain tensor": (lambda layer: setattr(layer, "weight", torch.zeros(3)), ["raised TypeError"]),
}


@pytest.mark.parametrize("mistake", WRONG_HE)
def test_he_normal_rejects_wrong_answers(mistake, capsys):
    answer, phrases = WRONG_HE[mistake]
    assert_fails(checks.he_normal, answer, capsys, *phrases)


def rms_with_hooks(model, inputs):
    values = []
    handles = [m.register_forward_hook(lambda m, i, o: values.append(o.pow(2).mean().sqrt().item()))
               for m in model.modules() if isinstance(m, nn.Linear)]
    try:
        with torch.no_grad():
            model(inputs)
    finally:
        for handle in handles:
            handle.remove()
    return values


def test_rms_per_layer_right_and_wrong(capsys):
    assert_passes(checks.rms_per_layer, rms_with_hooks, capsys)

    def measures_too_late(model, inputs):
        outputs = []
        handles = [m.register_forward_hook(lambda m, i, o: outputs.append(o))
                   for m in model.modules() if isinstance(m, nn.Linear)]
        with torch.no_grad():
            model(inputs)
        for handle in handles:
            handle.remove()
        return [output.pow(2).mean().sqrt().item() for output in outputs]

    def leaves_hooks(model, inputs):
        values = []
        for module in model.modules():
            if isinstance(module, nn.Linear):
                module.register_forward_hook(lambda m, i, o: values.append(o.pow(2).mean().sqrt().item()))
        with torch.no_grad():
            model(inputs)
        return values

    def standard_deviation(model, inputs):
        values = []
        handles = [m.register_forward_hook(lambda m, i, o: values.append(o.std().item()))
                   for m in model.modules() if isinstance(m, nn.Linear)]
        with torch.no_grad():
            model(inputs)
        for handle in handles:
            handle.remove()
        return values

    assert_fails(checks.rms_per_layer, measures_too_late, capsys, "inplace", "overwritten")
    assert_fails(checks.rms_per_layer, leaves_hooks, capsys, "left 3 hook(s)", "handle.remove()")
    assert_fails(checks.rms_per_layer, standard_deviation, capsys, "Linear layer 0", "z.pow(2).mean().sqrt()")
    assert_fails(checks.rms_per_layer, lambda model, inputs: [1.0], capsys, "list of 1 numbers", "expected 3")


def gradient_norms_with_tensor_hooks(model, inputs, targets):
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    norms = [0.0] * len(layers)

    def hook_for(index):
        def hook(module, layer_inputs, output):
            output.register_hook(lambda gradient: norms.__setitem__(index, gradient.norm().item()))

        return hook

    handles = [layer.register_forward_hook(hook_for(i)) for i, layer in enumerate(layers)]
    try:
        F.mse_loss(model(inputs), targets).backward()
    finally:
        for handle in handles:
            handle.remove()
    return norms


def test_output_gradient_norms_right_and_wrong(capsys):
    assert_passes(checks.output_gradient_norms, gradient_norms_with_tensor_hooks, capsys)

    def with_backward_hooks(model, inputs, targets):
        norms = []
        handles = [m.register_full_backward_hook(lambda m, gi, go: norms.append(go[0].norm().item()))
                   for m in model.modules() if isinstance(m, nn.Linear)]
        try:
            F.mse_loss(model(inputs), targets).backward()
        finally:
            for handle in handles:
                handle.remove()
        return norms[::-1]

    def weight_gradients(model, inputs, targets):
        F.mse_loss(model(inputs), targets).backward()
        return [m.weight.grad.norm().item() for m in model.modules() if isinstance(m, nn.Linear)]

    def summed_loss(model, inputs, targets):
        # The gradient of the summed squared error: numel times the mean's.
        return [value * targets.numel() for value in gradient_norms_with_tensor_hooks(model, inputs, targets)]

    assert_passes(checks.output_gradient_norms, with_backward_hooks, capsys)
    assert_fails(checks.output_gradient_norms, weight_gradients, capsys, "Linear layer 0", "not of its weight")
    assert_fails(checks.output_gradient_norms, summed_loss, capsys, "F.mse_loss")


# --------------------------------------------------------------------------- Chapter 4


def test_leaky_relu_and_its_derivative(capsys):
    assert_passes(checks.leaky_relu, lambda x, negative_slope=0.01: np.where(x > 0, x, negative_slope * x), capsys)
    assert_passes(checks.leaky_relu, lambda x, negative_slope=0.01: np.maximum(x, negative_slope * x), capsys)
    assert_passes(checks.leaky_relu, activations.leaky_relu, capsys)
    assert_passes(checks.leaky_relu_grad, lambda x, negative_slope=0.01: np.where(x > 0, 1.0, negative_slope),
                  capsys)
    assert_passes(checks.leaky_relu_grad, activations.leaky_relu_grad, capsys)
    assert_fails(checks.leaky_relu, lambda x, negative_slope=0.1: np.where(x > 0, x, negative_slope * x), capsys,
                 "default negative_slope is 0.01")
    assert_fails(checks.leaky_relu, lambda x, negative_slope=0.01: np.where(x > 0, x, 0.0), capsys,
                 "negative_slope * x")
    assert_fails(checks.leaky_relu, lambda x, negative_slope=0.01: np.nan_to_num(activations.leaky_relu(x)), capsys,
                 "NaN in must give NaN out")
    assert_fails(checks.leaky_relu_grad, lambda x, negative_slope=0.01: np.where(x >= 0, 1.0, negative_slope),
                 capsys, "at x = 0 return negative_slope", "PyTorch")


@settings(max_examples=15, deadline=None)
@given(st.floats(0.0, 1.0).filter(lambda slope: abs(slope - 0.01) > 1e-9))
def test_leaky_relu_rejects_any_other_default_slope(slope):
    assert checks.leaky_relu(lambda x, negative_slope=slope: np.where(x > 0, x, negative_slope * x)) is False


def test_elu_and_its_derivative(capsys):
    assert_passes(checks.elu, lambda x, alpha=1.0: np.where(x > 0, x, alpha * (np.exp(x) - 1)), capsys)
    assert_passes(checks.elu, lambda x, alpha=1.0: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))), capsys)
    assert_passes(checks.elu_grad, lambda x, alpha=1.0: np.where(x > 0, 1.0, alpha * np.exp(x)), capsys)
    assert_fails(checks.elu, lambda x, alpha=1.0: x * (x > 0) + alpha * (np.exp(x) - 1) * (x <= 0), capsys,
                 "overflows")
    assert_fails(checks.elu, lambda x, alpha=1.0: np.where(x > 0, x, alpha * np.exp(x) - 1), capsys,
                 "alpha * (exp(x) - 1)")
    assert_fails(checks.elu_grad, lambda x, alpha=1.0: np.where(x >= 0, 1.0, alpha * np.exp(x)), capsys,
                 "alpha=0.5", "x <= 0 branch")


def gelu_tanh_by_hand(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def gelu_tanh_grad_by_hand(x):
    c = np.sqrt(2 / np.pi)
    t = np.tanh(c * (x + 0.044715 * x**3))
    return 0.5 * (1 + t) + 0.5 * x * (1 - t**2) * c * (1 + 3 * 0.044715 * x**2)


def test_gelu_tanh_and_its_derivative(capsys):
    assert_passes(checks.gelu_tanh, gelu_tanh_by_hand, capsys)
    assert_passes(checks.gelu_tanh_grad, gelu_tanh_grad_by_hand, capsys)
    assert_passes(checks.gelu_tanh, lambda x: activations.gelu(x, approximate="tanh"), capsys)
    assert_fails(checks.gelu_tanh, activations.gelu, capsys, "wrong value", "tanh(sqrt(2 / pi)")
    assert_fails(checks.gelu_tanh_grad, lambda x: 0.5 * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
                 capsys, "chain rules")


def test_silu_and_its_derivative(capsys):
    assert_passes(checks.silu, lambda x: x / (1 + np.exp(-x)), capsys)
    assert_passes(checks.silu, activations.silu, capsys)
    assert_passes(checks.silu_grad, lambda x: (s := 1 / (1 + np.exp(-x))) * (1 + x * (1 - s)), capsys)
    assert_fails(checks.silu, lambda x: x * np.exp(x) / (1 + np.exp(x)), capsys, "overflows")
    assert_fails(checks.silu_grad, lambda x: (s := 1 / (1 + np.exp(-x))) * (1 - s), capsys, "s * (1 + x * (1 - s))")


class RightPReLU(nn.Module):
    def __init__(self, num_parameters=1, init=0.25):
        super().__init__()
        self.weight = nn.Parameter(torch.full((num_parameters,), float(init)))

    def forward(self, x):
        slope = self.weight
        if x.dim() >= 2:
            slope = slope.reshape(1, -1, *([1] * (x.dim() - 2)))
        return torch.where(x > 0, x, slope * x)


class FixedSlope(nn.Module):
    def __init__(self, num_parameters=1, init=0.25):
        super().__init__()
        self.slope = init

    def forward(self, x):
        return torch.where(x > 0, x, self.slope * x)


class NoChannels(RightPReLU):
    def forward(self, x):
        return torch.where(x > 0, x, self.weight * x)


class Detached(RightPReLU):
    def forward(self, x):
        return super().forward(x).detach()


class ScalarWeight(nn.Module):
    def __init__(self, num_parameters=1, init=0.25):
        super().__init__()
        self.weight = nn.Parameter(torch.tensor(float(init)))

    def forward(self, x):
        return torch.where(x > 0, x, self.weight * x)


class InPlace(RightPReLU):
    def forward(self, x):
        return x.mul_(1.0)


def test_prelu_right_and_wrong(capsys):
    assert_passes(checks.prelu, RightPReLU, capsys)
    assert_passes(checks.prelu, nn.PReLU, capsys)
    assert_fails(checks.prelu, RightPReLU(), capsys, "expected a subclass of torch.nn.Module (the class itself)")
    assert_fails(checks.prelu, FixedSlope, capsys, "has no parameters", "nn.Parameter")
    assert_fails(checks.prelu, ScalarWeight, capsys, "weight has shape ()", "expected (1,)")
    assert_fails(checks.prelu, NoChannels, capsys, "(2, 3, 4, 4)", "raised RuntimeError")
    assert_fails(checks.prelu, Detached, capsys, "does not require grad")
    assert_fails(checks.prelu, InPlace, capsys, "raised RuntimeError")


# --------------------------------------------------------------------------- Chapter 5


def dead_counts_with_hooks(model, inputs):
    counts = []
    handles = [m.register_forward_hook(lambda m, i, o: counts.append(int((o == 0).all(dim=0).sum())))
               for m in model.modules() if isinstance(m, nn.ReLU)]
    try:
        with torch.no_grad():
            model(inputs)
    finally:
        for handle in handles:
            handle.remove()
    return counts


def dead_counts_with_pre_hooks(model, inputs):
    counts = []
    handles = [m.register_forward_pre_hook(lambda m, i: counts.append(int((i[0] <= 0).all(dim=0).sum())))
               for m in model.modules() if isinstance(m, nn.ReLU)]
    try:
        with torch.no_grad():
            model(inputs)
    finally:
        for handle in handles:
            handle.remove()
    return counts


def test_dead_unit_counts_right_and_wrong(capsys):
    assert_passes(checks.dead_unit_counts, dead_counts_with_hooks, capsys)
    assert_passes(checks.dead_unit_counts, dead_counts_with_pre_hooks, capsys)

    def off_for_any_input(model, inputs):
        counts = []
        handles = [m.register_forward_hook(lambda m, i, o: counts.append(int((o == 0).any(dim=0).sum())))
                   for m in model.modules() if isinstance(m, nn.ReLU)]
        with torch.no_grad():
            model(inputs)
        for handle in handles:
            handle.remove()
        return counts

    def fractions(model, inputs):
        return [count / 3 for count in dead_counts_with_hooks(model, inputs)]

    def leaves_hooks(model, inputs):
        counts = []
        for m in model.modules():
            if isinstance(m, nn.ReLU):
                m.register_forward_hook(lambda m, i, o: counts.append(int((o == 0).all(dim=0).sum())))
        with torch.no_grad():
            model(inputs)
        return counts

    assert_fails(checks.dead_unit_counts, off_for_any_input, capsys, "expected dead units per ReLU layer [1]")
    assert_fails(checks.dead_unit_counts, fractions, capsys, "expected a whole number (int)")
    assert_fails(checks.dead_unit_counts, leaves_hooks, capsys, "left 1 hook(s)")


def born_dead_by_hand(depth, width, inputs, seeds):
    dead = 0
    for seed in seeds:
        model = networks.mlp([inputs.shape[1]] + [width] * depth + [1], seed=seed)
        dead += any(count == width for count in dead_counts_with_hooks(model, inputs))
    return dead / len(seeds)


def test_born_dead_fraction_right_and_wrong(capsys):
    assert_passes(checks.born_dead_fraction, born_dead_by_hand, capsys)

    def any_dead_unit(depth, width, inputs, seeds):
        dead = 0
        for seed in seeds:
            model = networks.mlp([inputs.shape[1]] + [width] * depth + [1], seed=seed)
            dead += any(count > 0 for count in dead_counts_with_hooks(model, inputs))
        return dead / len(seeds)

    def count_not_fraction(depth, width, inputs, seeds):
        return born_dead_by_hand(depth, width, inputs, seeds) * len(seeds)

    assert_fails(checks.born_dead_fraction, any_dead_unit, capsys, "depth=3, width=2", "dead count equals its width")
    assert_fails(checks.born_dead_fraction, count_not_fraction, capsys, "divide by the number of seeds")


def revive_by_hand(model, inputs, seed=0, zero_outgoing=True, generator=True, layers=None):
    rng = torch.Generator().manual_seed(seed) if generator else None
    linears = [m for m in model if isinstance(m, nn.Linear)]
    with torch.no_grad():
        masks, activation = [], inputs
        for layer in linears[:-1]:
            pre = layer(activation)
            masks.append((pre <= 0).all(dim=0))
            activation = torch.relu(pre)
        total = 0
        for index, (layer, following) in enumerate(zip(linears[:-1], linears[1:])):
            if layers is not None and index not in layers:
                continue
            mask = masks[index]
            count = int(mask.sum())
            layer.weight[mask] = torch.randn(count, layer.in_features, generator=rng) * math.sqrt(2 / layer.in_features)
            layer.bias[mask] = 0.0
            if zero_outgoing:
                following.weight[:, mask] = 0.0
            total += count
    return total


def test_revive_right_and_wrong(capsys):
    assert_passes(checks.revive, revive_by_hand, capsys)

    def keeps_bias(model, inputs, seed=0):
        linears = [m for m in model if isinstance(m, nn.Linear)]
        old = [layer.bias.detach().clone() for layer in linears]
        count = revive_by_hand(model, inputs, seed)
        with torch.no_grad():
            for layer, bias in zip(linears[:-1], old[:-1]):
                revived = layer.bias == 0
                layer.bias[revived] = torch.where(bias[revived] < -10, torch.tensor(0.5), bias[revived])
        return count

    assert_fails(checks.revive, lambda m, x, seed=0: revive_by_hand(m, x, seed, zero_outgoing=False), capsys,
                 "outgoing weights", "not 0")
    assert_fails(checks.revive, lambda m, x, seed=0: revive_by_hand(m, x, seed, generator=False), capsys,
                 "different weights", "torch.Generator")
    assert_fails(checks.revive, lambda m, x, seed=0: revive_by_hand(m, x, seed, layers=[0]), capsys,
                 "returned 3; expected 6")
    assert_fails(checks.revive, keeps_bias, capsys, "nonzero bias")
    assert_fails(checks.revive, lambda m, x, seed=0: None, capsys, "returned None")
