"""Checks for the exercises of Chapter 3, why ReLU trains deep networks.

``he_normal`` checks He initialization written by hand; ``relu_mean`` and
``relu_mean_square`` the two moments of relu(Z) for a normal Z, derived by hand;
``rms_per_layer`` and ``output_gradient_norms`` per-layer measurements taken with hooks.
The ``predict_*`` checks take the number an "explain" question asks to predict and
compare it with their own measurement: the factor per layer of the mean square with
Xavier's and PyTorch's default weights, the factor per layer of the gradient on its way
back, and the fractions of units and of paths that are on in a deep ReLU network.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from relu_course import depth, diagnostics, networks
from relu_course.checks._engine import (
    _as_float,
    _as_list,
    _call,
    _check_model_left_alone,
    _close,
    _Failed,
    _kind,
    _likely_mistake,
    _number,
    _run_function_check,
    _run_prediction_check,
    _snapshot,
    prediction_check,
)
from relu_course.hooks import layer_values


def _statistics(values: torch.Tensor) -> tuple[float, float, float]:
    """Mean, standard deviation and excess kurtosis of all entries."""
    flat = values.detach().double().ravel()
    mean = flat.mean().item()
    std = flat.std().item()
    kurtosis = (((flat - mean) / std) ** 4).mean().item() - 3.0 if std > 0 else math.nan
    return mean, std, kurtosis


def _std_hint(std: float, fan_in: int, fan_out: int) -> str:
    """Name the formula a wrong standard deviation most likely came from."""
    mistakes = [
        (math.sqrt(2 / fan_out), "sqrt(2 / fan_out): you used fan_out; fan_in is in_features, weight.shape[1]"),
        (math.sqrt(2 / (fan_in + fan_out)), "sqrt(2 / (fan_in + fan_out)), Xavier (Glorot) initialization"),
        (math.sqrt(1 / (3 * fan_in)), "sqrt(1 / (3 fan_in)), nn.Linear's default"),
        (math.sqrt(1 / fan_in), "sqrt(1 / fan_in), without He's factor 2"),
        (2 / fan_in, "2 / fan_in: that is the variance; the standard deviation is its square root"),
    ]
    named = _likely_mistake(std, math.sqrt(2 / fan_in), mistakes, rtol=0.05)
    if named:
        return f"Hint: that is {named}."
    return "Hint: He initialization draws W from N(0, 2 / fan_in): standard deviation sqrt(2 / fan_in)."


_HE_LAYER_SIZES = ((200, 100), (32, 512), (500, 50))  # (fan_in, fan_out) of the hidden layers


def he_normal(initializer: Callable[[nn.Linear], nn.Linear]) -> bool:
    """Check He (Kaiming) normal initialization of a linear layer, written by hand.

    The task: ``he_normal_(layer)`` redraws ``layer.weight`` in place from
    N(0, 2 / fan_in), with fan_in = ``layer.in_features``, sets ``layer.bias`` to 0, and
    returns the layer. The checks are statistical, on layers with 16,000 weights or
    more: standard deviation within 5 % of sqrt(2 / fan_in), mean near 0, and the bell
    shape of a normal distribution (excess kurtosis near 0; a uniform one has -1.2).
    """
    return _run_function_check("he_normal", initializer, _check_he_layers)


def _check_he_layers(initializer: Callable[..., object]) -> str:
    """Every hidden layer initialized right; the summary line."""
    for fan_in, fan_out in _HE_LAYER_SIZES:
        _check_he_layer(initializer, fan_in, fan_out)
    return (
        f"all {len(_HE_LAYER_SIZES)} hidden layers passed (std sqrt(2 / fan_in) within 5 %, mean 0, normal "
        "shape, bias 0, in place)."
    )


def _check_he_layer(initializer: Callable[..., object], fan_in: int, fan_out: int) -> None:
    """One ``nn.Linear(fan_in, fan_out)``: changed in place and returned, weights He-normal, bias 0."""
    torch.manual_seed(fan_in)
    layer = nn.Linear(fan_in, fan_out)
    where = f"for nn.Linear({fan_in}, {fan_out})"
    result = _call(initializer, layer, where=where)
    if result is None:
        raise _Failed(f"returned None {where}: end with `return layer`.")
    if result is not layer:
        raise _Failed(f"returned {_kind(result)} {where}; change the layer in place and return it.")
    weight = layer.weight
    if not isinstance(weight, nn.Parameter) or tuple(weight.shape) != (fan_out, fan_in):
        raise _Failed(
            f"{where} layer.weight is now {_kind(weight)}; it must stay an nn.Parameter of "
            f"shape ({fan_out}, {fan_in}). Write into it with torch.no_grad() and .normal_()."
        )
    if not weight.requires_grad:
        raise _Failed(f"{where} layer.weight no longer requires grad; training could not update it.")
    _check_he_weights(weight, fan_in, fan_out, where)
    if layer.bias is None or not torch.equal(layer.bias.detach(), torch.zeros(fan_out)):
        raise _Failed(f"{where} the bias is not all zeros; He initialization sets it to 0.")


def _check_he_weights(weight: torch.Tensor, fan_in: int, fan_out: int, where: str) -> None:
    """Finite weights with standard deviation sqrt(2 / fan_in) (within 5 %), mean 0, normally distributed."""
    if not torch.isfinite(weight).all():
        raise _Failed(f"{where} the weights contain NaN or inf.")
    mean, std, kurtosis = _statistics(weight)
    target = math.sqrt(2 / fan_in)
    if abs(std / target - 1) > 0.05:
        raise _Failed(
            f"{where} the weights' standard deviation is {std:.4g}; expected sqrt(2 / "
            f"fan_in) = {target:.4g} with fan_in = {fan_in}. {_std_hint(std, fan_in, fan_out)}"
        )
    if abs(mean) > 5 * target / math.sqrt(weight.numel()):
        raise _Failed(f"{where} the weights' mean is {mean:.3g}; expected 0 (within sampling noise).")
    if abs(kurtosis) > 0.3:
        raise _Failed(
            f"{where} the weights do not look normally distributed (excess kurtosis "
            f"{kurtosis:.2f}, expected about 0; a uniform distribution gives -1.2). "
            "Hint: draw from a normal distribution, e.g. weight.normal_(0, std)."
        )


def _layer_models() -> list[tuple[str, nn.Module, torch.Tensor, torch.Tensor]]:
    """Small models, inputs and MSE targets for the hook-based checks of Chapter 3."""
    generator = torch.Generator().manual_seed(3)
    torch.manual_seed(11)
    inplace = nn.Sequential(
        nn.Linear(5, 6), nn.ReLU(inplace=True), nn.Linear(6, 6), nn.ReLU(inplace=True), nn.Linear(6, 2)
    )
    nested = nn.Sequential(nn.Sequential(nn.Linear(4, 7), nn.ReLU()), nn.Linear(7, 3))
    models = [
        ("networks.mlp([8, 16, 16, 4])", networks.mlp([8, 16, 16, 4], seed=1), 8, 4),
        ("an MLP with ReLU(inplace=True)", inplace, 5, 2),
        ("a nested nn.Sequential", nested, 4, 3),
        (
            "networks.mlp([3, 5, 5, 5, 1], activation='sigmoid')",
            networks.mlp([3, 5, 5, 5, 1], activation="sigmoid", seed=2),
            3,
            1,
        ),
    ]
    return [
        (name, model, torch.randn(32, width_in, generator=generator), torch.randn(32, width_out, generator=generator))
        for name, model, width_in, width_out in models
    ]


def _rms_reference(model: nn.Module, inputs: torch.Tensor) -> list[float]:
    """The root mean square of each ``nn.Linear`` output of ``model`` on ``inputs``, in ``modules()`` order."""
    linears = [(name, module) for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    return [output.double().pow(2).mean().sqrt().item() for _, output in layer_values(model, inputs, linears)]


def _output_gradient_norms_reference(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> list[float]:
    """The norm of d MSE loss / d output of each ``nn.Linear`` of ``model``, from :mod:`relu_course.diagnostics`."""
    return [record.output for record in diagnostics.gradient_norms(model, inputs, targets)]


def _check_linear_layer_values(
    function: Callable[..., object],
    name: str,
    model: nn.Module,
    tensors: tuple[torch.Tensor, ...],
    reference: Callable[..., list[float]],
    atol: float,
    hint: str,
) -> None:
    """One hidden model: ``function(model, *tensors)`` gives one float per ``nn.Linear``, as ``reference`` does.

    The learner's code gets copies of ``tensors``; ``reference`` gets a copy of the model taken
    before the call, and the tensors. Values must agree to a relative 1e-4 (plus ``atol``); the
    model must have no hooks left and its parameters unchanged.
    """
    where = f"for {name} on inputs of shape {tuple(tensors[0].shape)}"
    twin, before = copy.deepcopy(model), _snapshot(model)
    result = _call(function, model, *(tensor.clone() for tensor in tensors), where=where)
    _check_model_left_alone(model, before, where)
    expected = reference(twin, *tensors)
    values = _as_list(result, len(expected), where, "numbers")
    for index, (value, want) in enumerate(zip(values, expected)):
        got = _as_float(value, f"for Linear layer {index} {where}", "a float")
        if not _close(got, want, 1e-4, atol):
            raise _Failed(f"Linear layer {index} {where}: expected {want:.6g}, got {got:.6g}. Hint: {hint}")


def _rms_hint(name: str) -> str:
    """The hint for a wrong root mean square on the hidden model called ``name``."""
    if "inplace" in name:
        return (
            "if you kept the output tensor and measured it later, an in-place ReLU had already overwritten "
            "it: compute the number inside the hook (or keep output.detach().clone())."
        )
    return "the root mean square of z is z.pow(2).mean().sqrt(), over the whole batch."


_OUTPUT_GRADIENT_HINT = (
    "use the mean squared error F.mse_loss(model(inputs), targets), and measure the gradient "
    "of the layer's output (a tensor hook registered in a forward hook), not of its weight."
)


def rms_per_layer(function: Callable[[nn.Module, torch.Tensor], list]) -> bool:
    """Check a per-layer measurement of the activation scale, taken with forward hooks.

    The task: ``rms_per_layer(model, inputs)`` returns a list with, for every
    ``nn.Linear`` in ``model.modules()`` order, the root mean square sqrt(mean(z²)) of
    its output z on ``inputs``, as floats. It must leave no hooks on the model and must
    not change its parameters; it must work when an in-place ReLU follows a layer.
    """
    return _run_function_check("rms_per_layer", function, _check_rms_per_layer)


def _check_rms_per_layer(function: Callable[..., object]) -> str:
    """Every hidden model measured right; the summary line."""
    cases = _layer_models()
    for name, model, inputs, _ in cases:
        _check_linear_layer_values(function, name, model, (inputs,), _rms_reference, 0.0, _rms_hint(name))
    return f"all {len(cases)} hidden models passed (in-place ReLU, nested Sequential, sigmoid), no hooks left."


def output_gradient_norms(function: Callable[[nn.Module, torch.Tensor, torch.Tensor], list]) -> bool:
    """Check per-layer gradient norms at the layers' outputs, taken with hooks.

    The task: ``output_gradient_norms(model, inputs, targets)`` does one forward pass,
    the mean squared error loss ``F.mse_loss(model(inputs), targets)`` and one backward
    pass, and returns, for every ``nn.Linear`` in ``model.modules()`` order, the
    Euclidean norm of d loss / d output of that layer, as floats. It leaves no hooks and
    does not change the parameters.
    """
    return _run_function_check("output_gradient_norms", function, _check_output_gradient_norms)


def _check_output_gradient_norms(function: Callable[..., object]) -> str:
    """Every hidden model but the one with in-place ReLUs measured right; the summary line."""
    cases = [case for case in _layer_models() if "inplace" not in case[0]]
    for name, model, inputs, targets in cases:
        _check_linear_layer_values(
            function, name, model, (inputs, targets), _output_gradient_norms_reference, 1e-12, _OUTPUT_GRADIENT_HINT
        )
    return f"all {len(cases)} hidden models passed (nested Sequential, sigmoid), no hooks left."


# =========================================================================== the two moments of relu(Z), derived

_SIGMAS = (1.0, 3.0, 0.5, 2.0, 1e-3, 1e3)  # simplest first; sigma = 1 cannot tell sigma from sigma**2
_MOMENT_RTOL = 1e-6


def _relu_gaussian_moment(sigma: float, power: int) -> float:
    """E[relu(Z)**power] for Z ~ N(0, sigma**2), by numerical integration.

    E[relu(Z)**k] = sigma**k * integral from 0 to inf of u**k phi(u) du, with phi the
    standard normal density. Beyond u = 16 the integrand is below 1e-50, so Gauss-Legendre
    quadrature with 80 nodes on [0, 16] gives the integral to rounding error. This does
    not use the closed forms that the learner derives.
    """
    nodes, weights = np.polynomial.legendre.leggauss(80)
    u = 8.0 * (nodes + 1.0)  # [-1, 1] -> [0, 16]
    density = np.exp(-0.5 * u * u) / math.sqrt(2.0 * math.pi)
    return sigma**power * 8.0 * float(np.sum(weights * u**power * density))


_Mistake = tuple[Callable[[float], float], str]

_MEAN_MISTAKES: tuple[_Mistake, ...] = (
    (
        lambda s: s * math.sqrt(2.0 / math.pi),
        "that is E[|Z|], the integral over both halves of the line; relu(Z) is 0 on the negative half",
    ),
    (
        lambda s: s**2 / math.sqrt(2.0 * math.pi),
        "that grows like sigma**2; relu(c z) = c relu(z) for c > 0, so E[relu(Z)] grows like sigma",
    ),
    (
        lambda s: 1.0 / math.sqrt(2.0 * math.pi),
        "that does not change with sigma; relu(c z) = c relu(z) for c > 0, so E[relu(Z)] grows like sigma",
    ),
    (
        lambda s: 0.4 * s,
        "0.4 rounds the exact constant; compute it with math.sqrt and math.pi",
    ),
    (
        lambda s: s / (2.0 * math.pi),
        "the normal density's constant is 1 / (sigma sqrt(2 pi)): keep the square root",
    ),
    (
        lambda s: 0.0,
        "relu(Z) is never negative and is positive half of the time, so its mean is positive",
    ),
)
_MEAN_HINT = (
    "E[relu(Z)] is the integral from 0 to infinity of z p(z) dz, with p the density of N(0, sigma**2); "
    "-sigma**2 exp(-z**2 / (2 sigma**2)) is an antiderivative of z exp(-z**2 / (2 sigma**2))."
)

_MEAN_SQUARE_MISTAKES: tuple[_Mistake, ...] = (
    (
        lambda s: s**2,
        "that is E[Z**2] = sigma**2; relu(Z)**2 is 0 on the negative half, which holds half of it",
    ),
    (
        lambda s: s / 2.0,
        "that grows like sigma; relu(Z)**2 grows like sigma**2 (relu(c z)**2 = c**2 relu(z)**2 for c > 0)",
    ),
    (
        lambda s: 0.5,
        "that does not change with sigma; relu(Z)**2 grows like sigma**2",
    ),
    (
        lambda s: s**2 / (2.0 * math.pi),
        "that is (E[relu(Z)])**2, the square of the mean; the mean of the square is larger",
    ),
    (
        lambda s: s**2 / 2.0 - s**2 / (2.0 * math.pi),
        "that is Var(relu(Z)) = E[relu(Z)**2] - (E[relu(Z)])**2; the task asks for E[relu(Z)**2] itself",
    ),
    (
        lambda s: s**2 / 4.0,
        "that halves twice; z**2 p(z) is symmetric about 0, so the half z > 0 holds exactly half of E[Z**2]",
    ),
    (
        lambda s: s / math.sqrt(2.0),
        "that is the root mean square sqrt(E[relu(Z)**2]); return the mean square itself",
    ),
)
_MEAN_SQUARE_HINT = (
    "z**2 p(z) is symmetric about 0 (p is the density of N(0, sigma**2)), and relu(Z)**2 equals Z**2 "
    "where Z > 0 and 0 elsewhere: compare with E[Z**2] = sigma**2."
)


def relu_mean(function: Callable[[float], float]) -> bool:
    """Check E[relu(Z)] for Z ~ N(0, sigma**2), derived by hand.

    The task: ``relu_mean(sigma)`` returns E[relu(Z)] as a float, for every sigma > 0.
    The check compares it, within a relative 1e-6, with the integral computed
    numerically, for sigma from 1e-3 to 1e3, and names the usual mistakes (E[abs(Z)],
    sigma**2 for sigma, a rounded constant).
    """
    return _run_function_check(
        "relu_mean", function, lambda answer: _check_moment(answer, 1, _MEAN_MISTAKES, _MEAN_HINT)
    )


def relu_mean_square(function: Callable[[float], float]) -> bool:
    """Check E[relu(Z)**2] for Z ~ N(0, sigma**2), derived by hand.

    The task: ``relu_mean_square(sigma)`` returns E[relu(Z)**2] as a float, for every
    sigma > 0. The check compares it, within a relative 1e-6, with the integral computed
    numerically, for sigma from 1e-3 to 1e3, and names the usual mistakes (E[Z**2]
    without the half, sigma for sigma**2, the variance or the squared mean instead).
    """
    return _run_function_check(
        "relu_mean_square",
        function,
        lambda answer: _check_moment(answer, 2, _MEAN_SQUARE_MISTAKES, _MEAN_SQUARE_HINT),
    )


def _check_moment(
    function: Callable[..., object], power: int, mistakes: tuple[_Mistake, ...], default_hint: str
) -> str:
    """Every hidden sigma gives E[relu(Z)**power] within ``_MOMENT_RTOL``; the summary line."""
    for sigma in _SIGMAS:
        where = f"for sigma = {_number(sigma)}"
        got = _as_float(_call(function, sigma, where=where), where)
        expected = _relu_gaussian_moment(sigma, power)
        if _close(got, expected, _MOMENT_RTOL):
            continue
        if not math.isfinite(got):
            raise _Failed(f"returned {_number(got)} {where}; expected a finite number. Hint: {default_hint}")
        raise _Failed(
            f"wrong value {where}: your function returned {_number(got)}, {got / expected:.4g} times the exact "
            f"value. Hint: {_moment_hint(got, sigma, expected, mistakes, default_hint)}"
        )
    return (
        f"all {len(_SIGMAS)} hidden values of sigma passed (1e-3 to 1e3), within a relative "
        f"{_MOMENT_RTOL:g} of the integral computed numerically."
    )


def _moment_hint(got: float, sigma: float, expected: float, mistakes: tuple[_Mistake, ...], default: str) -> str:
    """The hint that names the mistake ``got`` most likely came from, else ``default``."""
    named = _likely_mistake(got, expected, [(formula(sigma), hint) for formula, hint in mistakes], rtol=_MOMENT_RTOL)
    return named + "." if named else default


# =========================================================================== predictions: the explain questions

_FACTOR_WIDTH, _FACTOR_LAYERS, _FACTOR_SEEDS = 256, 10, (0, 1, 2, 3)


def _mean_square_factor(init: str) -> float:
    """Measured factor by which one ReLU layer multiplies the mean square of the Linear outputs.

    Four networks ``networks.mlp([256] * 11, init=init)`` in float64, every bias set to 0
    (the question is about the weights), each fed 256 standard normal inputs. Each gives
    (mean square of the 10th Linear output / mean square of the 1st) ** (1 / 9); the
    result is their mean. It is about 1 / 2 for Xavier and 1 / 6 for PyTorch's default.
    """
    factors = []
    for seed in _FACTOR_SEEDS:
        model = networks.mlp([_FACTOR_WIDTH] * (_FACTOR_LAYERS + 1), init=init, seed=seed, dtype=torch.float64)
        with torch.no_grad():
            for module in model.modules():
                if isinstance(module, nn.Linear):
                    module.bias.zero_()
        generator = torch.Generator().manual_seed(100 + seed)
        inputs = torch.randn(256, _FACTOR_WIDTH, generator=generator, dtype=torch.float64)
        rms = _rms_reference(model, inputs)
        factors.append((rms[-1] / rms[0]) ** (2.0 / (len(rms) - 1)))
    return sum(factors) / len(factors)


_FORWARD_HINT = (
    "Hint: E[z**2] of a layer is fan_in * Var(W) * E[relu(z')**2] of the layer before (Task 2 gives "
    "E[relu(z')**2] / E[z'**2]). Give the factor of the mean square, not of the RMS."
)


@prediction_check
def predict_xavier_factor(prediction: object) -> bool:
    """Check the predicted factor by which a ReLU layer with Xavier's weights multiplies the mean square.

    The prediction: with weights from N(0, 2 / (fan_in + fan_out)) on square layers and
    biases 0, the factor by which one Linear + ReLU layer multiplies the mean square of
    the Linear outputs. The check measures it (see ``_mean_square_factor``) and accepts
    a prediction within 10 %.
    """
    return _run_prediction_check(
        "predict_xavier_factor",
        prediction,
        lambda: _mean_square_factor("xavier"),
        rtol=0.1,
        what="the factor per layer of the mean square with Xavier's weights",
        hint=_FORWARD_HINT,
    )


@prediction_check
def predict_default_factor(prediction: object) -> bool:
    """Check the predicted factor by which a ReLU layer with PyTorch's default weights multiplies the mean square.

    The prediction: with ``nn.Linear``'s default weights, U(-1/sqrt(fan_in),
    1/sqrt(fan_in)), and the biases set to 0, the factor by which one Linear + ReLU layer
    multiplies the mean square of the Linear outputs. The check measures it (see
    ``_mean_square_factor``) and accepts a prediction within 10 %.
    """
    return _run_prediction_check(
        "predict_default_factor",
        prediction,
        lambda: _mean_square_factor("pytorch"),
        rtol=0.1,
        what="the factor per layer of the mean square with PyTorch's default weights",
        hint=_FORWARD_HINT + " U(-a, a) has variance a**2 / 3.",
    )


_GRADIENT_WIDTH, _GRADIENT_LAYERS, _GRADIENT_SEEDS = 64, 20, (10, 11, 12, 13)


def _backward_factor() -> float:
    """Measured factor by which the gradient norm is multiplied per layer on its way back.

    Four networks ``networks.mlp([64] * 21)`` (ReLU, PyTorch's default initialization,
    biases included) in float64, each with one batch of 256 standard normal inputs and
    targets and the mean squared error. With g_l the norm of d loss / d output of
    Linear layer l (``diagnostics.gradient_norms``), each gives (g_1 / g_20) ** (1 / 19);
    the result is their mean, about sqrt(1 / 6).
    """
    factors = []
    for seed in _GRADIENT_SEEDS:
        model = networks.mlp([_GRADIENT_WIDTH] * (_GRADIENT_LAYERS + 1), seed=seed, dtype=torch.float64)
        generator = torch.Generator().manual_seed(100 + seed)
        inputs = torch.randn(256, _GRADIENT_WIDTH, generator=generator, dtype=torch.float64)
        targets = torch.randn(256, _GRADIENT_WIDTH, generator=generator, dtype=torch.float64)
        norms = _output_gradient_norms_reference(model, inputs, targets)
        factors.append((norms[0] / norms[-1]) ** (1.0 / (len(norms) - 1)))
    return sum(factors) / len(factors)


@prediction_check
def predict_gradient_factor(prediction: object) -> bool:
    """Check the predicted factor by which the gradient norm shrinks per layer, ReLU with PyTorch's default init.

    The prediction: in a deep ReLU network of width 64 with PyTorch's default
    initialization, the factor by which the norm of d loss / d (a layer's output) is
    multiplied from one layer to the one below it. The check measures it (see
    ``_backward_factor``) and accepts a prediction within 10 %.
    """
    return _run_prediction_check(
        "predict_gradient_factor",
        prediction,
        _backward_factor,
        rtol=0.1,
        what="the factor per layer of the gradient norm on its way back",
        hint=(
            "Hint: backward, each layer multiplies the gradient by W transposed and by relu' (1 where a unit is "
            "on, else 0): its mean square changes by the forward factor of Task 3, its norm by the square root."
        ),
    )


_ON_LAYERS, _ON_WIDTH, _ON_SEEDS = 10, 128, range(24)


def _on_fractions() -> tuple[float, float]:
    """Measured (units on at layer 10, paths all on through layers 1 to 10), for one input.

    24 networks ``networks.deep_mlp(10, 128, init="he")`` (biases 0) in float64, each fed
    64 standard normal inputs of 2 features. For input x and layer l, f_l(x) is the
    fraction of the layer's units with output > 0 (``depth.active_fraction_per_input``);
    the fraction of paths through layers 1 to 10 whose units are all on is
    f_1(x) f_2(x) ... f_10(x). Both are averaged over the inputs and the networks.
    """
    units_on, paths_on = [], []
    for seed in _ON_SEEDS:
        model = networks.deep_mlp(_ON_LAYERS, _ON_WIDTH, init="he", seed=seed, dtype=torch.float64)
        inputs = torch.randn(64, 2, generator=torch.Generator().manual_seed(100 + seed), dtype=torch.float64)
        fractions = depth.active_fraction_per_input(model, inputs)  # (layer, input)
        units_on.append(fractions[-1].mean())
        paths_on.append(fractions.prod(axis=0).mean())
    return float(np.mean(units_on)), float(np.mean(paths_on))


@prediction_check
def predict_units_on(prediction: object) -> bool:
    """Check the predicted fraction of units of layer 10 that are on for one input (He initialization).

    The prediction: in a ReLU network at He initialization, biases 0, the fraction of
    the units of hidden layer 10 whose output is > 0 for a given input, on average. The
    check measures it (see ``_on_fractions``) and accepts a prediction within 10 %.
    """
    return _run_prediction_check(
        "predict_units_on",
        prediction,
        lambda: _on_fractions()[0],
        rtol=0.1,
        what="the fraction of the units of layer 10 on for one input",
        hint=(
            "Hint: given the outputs h of layer 9 (not all zero), a unit's pre-activation w . h is symmetric "
            "about 0 (weights symmetric, biases 0). Is it more often negative in layer 10 than in layer 1?"
        ),
    )


@prediction_check
def predict_paths_on(prediction: object) -> bool:
    """Check the predicted fraction of paths through 10 ReLU layers whose units are all on (He initialization).

    The prediction: in a ReLU network at He initialization, biases 0, the fraction of
    the paths from the input to layer 10 (one unit in each of the 10 layers) whose units
    are all on for a given input, on average. The check measures it (see
    ``_on_fractions``) and accepts a prediction within 25 % (a factor of 2 is far
    outside: the sampling spread is about 5 %).
    """
    return _run_prediction_check(
        "predict_paths_on",
        prediction,
        lambda: _on_fractions()[1],
        rtol=0.25,
        what="the fraction of paths through 10 layers all on for one input",
        hint=(
            "Hint: a path is all on when its unit in each of the 10 layers is on. For one input, the fraction "
            "of such paths is the product of the 10 layers' fractions of units on."
        ),
    )
