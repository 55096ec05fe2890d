"""The ReLU family's registry and measuring tools, against PyTorch and closed forms."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from relu_course import activations as A
from relu_course import variants as V
from relu_course.datasets import spirals
from relu_course.differentiation import one_sided_differences
from relu_course.networks import ACTIVATION_MODULES, mlp
from relu_course.training import train, train_ensemble
from tests.paths import ROOT

GRID = np.arange(-30_000, 30_001) / 1000.0  # step 0.001, contains 0 and 6; beyond softplus's threshold 20
SQRT_2PI = math.sqrt(2 * math.pi)


@pytest.fixture(autouse=True)
def one_thread():
    # Tiny networks run fastest on one thread; on a busy machine the second thread
    # mostly waits. Restored afterwards for the other tests.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2))


def normal_pdf(x: float) -> float:
    return math.exp(-x * x / 2) / SQRT_2PI


# --------------------------------------------------------------------------- registry


def test_registry_names_match_the_network_builder():
    assert set(V.VARIANTS) - {"gelu_tanh"} <= set(ACTIVATION_MODULES)
    for name, variant in V.VARIANTS.items():
        if name in ACTIVATION_MODULES:
            assert variant.torch_module is ACTIVATION_MODULES[name], name


@pytest.mark.parametrize("name", V.VARIANTS)
def test_every_variant_matches_its_pytorch_layer(name):
    variant = V.VARIANTS[name]
    value_gap, slope_gap = V.torch_parity(variant.function, variant.derivative, variant.torch_layer(), GRID)
    # PyTorch's softplus returns x itself where x > 20 (its threshold): off by log(1 + e^-20).
    tolerance = 2.1e-9 if name == "softplus" else 1e-13
    assert value_gap <= tolerance and slope_gap <= tolerance, (value_gap, slope_gap)


def test_softplus_gap_is_pytorchs_threshold():
    variant = V.VARIANTS["softplus"]
    value_gap, slope_gap = V.torch_parity(variant.function, variant.derivative, variant.torch_layer(), GRID)
    # The largest gap is at the first grid point above 20, x = 20.001.
    assert value_gap == pytest.approx(math.log1p(math.exp(-20.001)), rel=1e-6)
    assert slope_gap == pytest.approx(1 - 1 / (1 + math.exp(-20.001)), rel=1e-6)
    below = GRID[GRID <= 20]
    assert max(V.torch_parity(variant.function, variant.derivative, variant.torch_layer(), below)) < 1e-13


@pytest.mark.parametrize("name", V.VARIANTS)
def test_kinks_are_where_the_one_sided_slopes_differ(name):
    variant = V.VARIANTS[name]
    for point in (0.0, 6.0):
        (left,), (right,) = one_sided_differences(variant.torch_layer(), [point], step=1e-5, order=2)
        assert (abs(left - right) > 1e-3) == (point in variant.kinks), (point, left, right)


def test_torch_layers_are_fresh_and_float64():
    first, second = V.VARIANTS["prelu"].torch_layer(), V.VARIANTS["prelu"].torch_layer()
    assert first is not second
    assert first.weight.dtype == torch.float64 and first.weight.item() == 0.25
    assert V.VARIANTS["gelu_tanh"].torch_layer().approximate == "tanh"


def test_pytorch_spelling_reads_the_defaults_from_pytorch():
    spell = {name: V.pytorch_spelling(variant) for name, variant in V.VARIANTS.items()}
    assert spell["relu"] == "nn.ReLU()"
    assert spell["leaky_relu"] == "nn.LeakyReLU(negative_slope=0.01)"
    assert spell["prelu"] == "nn.PReLU(num_parameters=1, init=0.25)"
    assert spell["elu"] == "nn.ELU(alpha=1.0)"
    assert spell["gelu"] == "nn.GELU(approximate='none')"
    assert spell["gelu_tanh"] == "nn.GELU(approximate='tanh')"
    assert spell["softplus"] == "nn.Softplus(beta=1.0, threshold=20.0)"
    for text in spell.values():
        assert "inplace" not in text and "dtype" not in text
    with pytest.raises(TypeError):
        V.pytorch_spelling("relu")


def test_sources_are_in_the_references():
    bibliography = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    keys = set(re.findall(r"@\w+\{([^,]+),", bibliography))
    for variant in V.VARIANTS.values():
        assert variant.source in keys, variant.source


# --------------------------------------------------------------------------- shape on a grid


def test_max_abs_difference_and_where():
    x = np.linspace(-1, 2, 31)
    assert V.max_abs_difference(np.square, np.zeros_like, x) == pytest.approx((4.0, 2.0))
    gap, where = V.max_abs_difference(np.sin, np.sin, x)
    assert gap == 0.0 and where == -1.0  # the first point, if several


def test_gelu_tanh_error_is_even_and_below_5e_4():
    grid = np.arange(-8000, 8001) / 1000
    exact = V.VARIANTS["gelu"].function
    gap, where = V.max_abs_difference(exact, V.VARIANTS["gelu_tanh"].function, grid)
    assert 4e-4 < gap < 5e-4 and 2.6 < abs(where) < 2.8
    mirrored = V.max_abs_difference(lambda x: exact(-x), lambda x: A.gelu(-x, approximate="tanh"), grid)
    assert mirrored[0] == pytest.approx(gap, rel=1e-12)


def test_lowest_point():
    x = np.linspace(-3, 3, 601)
    where, value = V.lowest_point(lambda z: (z - 1) ** 2 + 3, x)
    assert where == pytest.approx(1.0) and value == pytest.approx(3.0)
    where, value = V.lowest_point(A.silu, np.arange(-3000, 1) / 1000)
    # SiLU's minimum: x = -1 - W(1/e) = -1.27846..., value x * sigmoid(x) = -0.27846...
    assert where == pytest.approx(-1.278, abs=1e-3) and value == pytest.approx(-0.2784645, abs=1e-6)


def test_value_bounds_use_the_limits_at_infinity():
    x = np.linspace(-10, 10, 2001)
    assert V.value_bounds(A.elu, x) == (-1.0, math.inf)
    assert V.value_bounds(A.relu6, x) == (0.0, 6.0)
    assert V.value_bounds(A.leaky_relu, x) == (-math.inf, math.inf)
    assert V.value_bounds(A.sigmoid, x) == (0.0, 1.0)
    # A NaN at infinity (inf - inf) is ignored; the grid gives the bounds.
    assert V.value_bounds(lambda z: z - z + np.cos(z), x) == (pytest.approx(-1, abs=1e-4), 1.0)


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: V.max_abs_difference(np.sin, np.cos, [[0.0, 1.0]]), ValueError),
        (lambda: V.max_abs_difference(np.sin, np.cos, []), ValueError),
        (lambda: V.max_abs_difference(np.sin, np.cos, [0.0, math.nan]), ValueError),
        (lambda: V.max_abs_difference(np.sin, np.cos, ["a"]), TypeError),
        (lambda: V.max_abs_difference(np.sin, "cos", [0.0]), TypeError),
        (lambda: V.max_abs_difference(np.sin, lambda z: np.full_like(z, math.nan), [0.0]), ValueError),
        (lambda: V.max_abs_difference(np.sin, lambda z: z[:1], [0.0, 1.0]), ValueError),
        (lambda: V.lowest_point(np.log, [-1.0, 1.0]), ValueError),
        (lambda: V.value_bounds(None, [0.0]), TypeError),
        (lambda: V.torch_parity(A.relu, A.relu_grad, "relu", [0.0]), TypeError),
    ],
)
def test_bad_arguments_raise(call, error):
    with np.errstate(invalid="ignore", divide="ignore"):
        with pytest.raises(error):
            call()


def test_torch_parity_catches_a_wrong_implementation():
    x = np.linspace(-3, 3, 61)
    value_gap, slope_gap = V.torch_parity(A.relu, A.relu_grad, F.leaky_relu, x)
    assert value_gap == pytest.approx(0.03) and slope_gap == pytest.approx(0.01)


def test_torch_parity_with_swish_beta():
    x = np.linspace(-20, 20, 4001)
    gaps = V.torch_parity(
        lambda z: A.swish(z, 2.0), lambda z: A.swish_grad(z, 2.0), lambda t: t * torch.sigmoid(2 * t), x
    )
    assert max(gaps) < 1e-13


# --------------------------------------------------------------------------- Gaussian expectations


@settings(max_examples=25, deadline=None)
@given(mean=st.floats(-5, 5), std=st.floats(0.05, 5))
def test_gaussian_expectation_of_polynomials_and_exponential(mean, std):
    assert V.gaussian_expectation(np.ones_like, mean, std) == pytest.approx(1.0, rel=1e-13)
    assert V.gaussian_expectation(lambda z: z, mean, std) == pytest.approx(mean, abs=1e-12 * (1 + std))
    assert V.gaussian_expectation(np.square, mean, std) == pytest.approx(mean**2 + std**2, rel=1e-12)
    expected = math.exp(mean + std**2 / 2)
    assert V.gaussian_expectation(np.exp, mean, std) == pytest.approx(expected, rel=1e-11)


@settings(max_examples=25, deadline=None)
@given(mean=st.floats(-5, 5), std=st.floats(0.05, 5))
def test_gaussian_expectation_of_relu_matches_the_closed_form(mean, std):
    # E[relu(Z)] = mean * Phi(mean / std) + std * phi(mean / std).
    ratio = mean / std
    expected = mean * normal_cdf(ratio) + std * normal_pdf(ratio)
    assert V.gaussian_expectation(A.relu, mean, std) == pytest.approx(expected, rel=1e-12, abs=1e-14)


def test_gaussian_expectation_needs_the_breakpoint_at_a_kink():
    split = V.gaussian_expectation(A.relu)
    unsplit = V.gaussian_expectation(A.relu, breakpoints=(), nodes=20)
    assert split == pytest.approx(1 / SQRT_2PI, rel=1e-14)
    assert abs(unsplit - 1 / SQRT_2PI) > 1e-6  # a kink inside a piece spoils the rule


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"std": 0.0}, ValueError),
        ({"std": -1.0}, ValueError),
        ({"mean": math.nan}, ValueError),
        ({"nodes": 1}, ValueError),
        ({"nodes": 2.5}, TypeError),
        ({"reach": 0}, ValueError),
        ({"breakpoints": ["0"]}, TypeError),
    ],
)
def test_gaussian_expectation_checks_its_arguments(kwargs, error):
    with pytest.raises(error):
        V.gaussian_expectation(A.relu, **kwargs)
    with pytest.raises(TypeError):
        V.gaussian_expectation("relu")


def test_gaussian_moments():
    mean, variance = V.gaussian_moments(A.relu)
    assert mean == pytest.approx(1 / SQRT_2PI, rel=1e-14)
    assert variance == pytest.approx(0.5 - 1 / (2 * math.pi), rel=1e-13)
    mean, variance = V.gaussian_moments(lambda z: 2 * z + 1, mean=3.0, std=0.5)
    assert mean == pytest.approx(7.0, rel=1e-14) and variance == pytest.approx(1.0, rel=1e-12)


def selu_constants_by_quadrature() -> tuple[float, float]:
    """alpha from E[selu(Z)] = 0, then lambda from E[selu(Z)^2] = 1, as Chapter 4 solves them."""
    alpha = -V.gaussian_expectation(A.relu) / V.gaussian_expectation(lambda z: np.expm1(np.minimum(z, 0.0)))
    return alpha, 1 / math.sqrt(V.gaussian_expectation(lambda z: A.elu(z, alpha) ** 2))


def test_selu_constants_solve_their_equations_and_match_pytorch():
    alpha, scale = selu_constants_by_quadrature()
    assert alpha == pytest.approx(A.SELU_ALPHA, rel=1e-13)
    assert scale == pytest.approx(A.SELU_SCALE, rel=1e-13)
    assert F.selu(torch.tensor(1.0, dtype=torch.float64)).item() == pytest.approx(scale, rel=1e-14)
    mean, variance = V.gaussian_moments(lambda z: scale * A.elu(z, alpha))
    assert abs(mean) < 1e-14 and variance == pytest.approx(1.0, rel=1e-14)


def test_selu_constants_match_the_closed_forms():
    # alpha = -sqrt(2/pi) / (erfc(1/sqrt 2) e^(1/2) - 1) (Klambauer et al., 2017), and
    # 1 / lambda^2 = 1/2 + alpha^2 (e^2 Phi(-2) - 2 e^(1/2) Phi(-1) + 1/2), both with math.erfc.
    alpha, scale = selu_constants_by_quadrature()
    closed_alpha = -math.sqrt(2 / math.pi) / (math.erfc(1 / math.sqrt(2)) * math.exp(0.5) - 1)
    negative_square = math.exp(2) * normal_cdf(-2) - 2 * math.exp(0.5) * normal_cdf(-1) + 0.5
    closed_scale = 1 / math.sqrt(0.5 + closed_alpha**2 * negative_square)
    assert alpha == pytest.approx(closed_alpha, rel=1e-13)
    assert scale == pytest.approx(closed_scale, rel=1e-13)


# --------------------------------------------------------------------------- training several seeds at once

DATA = spirals(20, 2, seed=0)


@pytest.mark.parametrize("activation", ["relu", "prelu", "gelu"])
def test_ensemble_equals_training_each_network_alone(activation):
    inputs, labels = DATA
    ensemble = train_ensemble([2, 8, 8, 2], activation, [0, 3], inputs, labels, steps=15, learning_rate=0.02)
    for seed, model, losses in zip([0, 3], ensemble.models, ensemble.losses):
        alone = mlp([2, 8, 8, 2], activation, seed=seed)
        history = train(alone, inputs, labels, loss="cross_entropy", learning_rate=0.02, steps=15)
        np.testing.assert_allclose(losses, history.losses, rtol=1e-5, atol=1e-7)
        for ours, theirs in zip(model.parameters(), alone.parameters()):
            torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)


def test_ensemble_with_one_dataset_per_network():
    easy, hard = spirals(20, 2, turns=0.5, seed=0), spirals(20, 2, turns=1.5, seed=1)
    inputs = torch.stack([easy[0], hard[0], easy[0]])
    labels = torch.stack([easy[1], hard[1], easy[1]])
    ensemble = train_ensemble([2, 8, 2], "elu", [0, 0, 5], inputs, labels, steps=15, learning_rate=0.02)
    for (data, seed), model in zip([(easy, 0), (hard, 0), (easy, 5)], ensemble.models):
        alone = mlp([2, 8, 2], "elu", seed=seed)
        train(alone, *data, loss="cross_entropy", learning_rate=0.02, steps=15)
        for ours, theirs in zip(model.parameters(), alone.parameters()):
            torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)
    # The same seed on different data ends in different networks.
    assert not torch.equal(ensemble.models[0][0].weight, ensemble.models[1][0].weight)


def test_ensemble_members_are_independent_and_learn():
    inputs, labels = DATA
    ensemble = train_ensemble([2, 16, 2], "relu", [0, 1, 2], inputs, labels, steps=60)
    assert len(ensemble.models) == 3 and all(len(losses) == 60 for losses in ensemble.losses)
    assert ensemble.final_losses == [losses[-1] for losses in ensemble.losses]
    assert all(losses[-1] < losses[0] for losses in ensemble.losses)
    first_layers = [model[0].weight for model in ensemble.models]
    assert not torch.equal(first_layers[0], first_layers[1])
    assert ensemble.seconds > 0
    # PReLU: each network learns its own slope.
    prelu = train_ensemble([2, 8, 2], "prelu", [0, 1], inputs, labels, steps=30)
    slopes = [model[1].weight.item() for model in prelu.models]
    assert slopes[0] != slopes[1] and all(slope != 0.25 for slope in slopes)
    assert all(isinstance(model[1], nn.PReLU) for model in prelu.models)


@pytest.mark.parametrize(
    "change, error",
    [
        ({"seeds": []}, ValueError),
        ({"seeds": [0, -1]}, ValueError),
        ({"seeds": [1.5]}, TypeError),
        ({"steps": 0}, ValueError),
        ({"learning_rate": -1.0}, ValueError),
        ({"activation": "swish"}, ValueError),
        ({"labels": DATA[1][:5]}, ValueError),
        ({"labels": DATA[1].float()}, TypeError),
        ({"labels": DATA[1].numpy()}, TypeError),
        ({"init": "orthogonal"}, ValueError),
        ({"inputs": DATA[0].expand(2, -1, -1)}, ValueError),
        ({"inputs": DATA[0].expand(1, -1, -1), "labels": DATA[1]}, ValueError),
        ({"inputs": DATA[0][:, :, None]}, ValueError),
    ],
)
def test_ensemble_checks_its_arguments(change, error):
    arguments = {
        "layer_sizes": [2, 4, 2],
        "activation": "relu",
        "seeds": [0],
        "inputs": DATA[0],
        "labels": DATA[1],
        "steps": 2,
    }
    arguments.update(change)
    with pytest.raises(error):
        train_ensemble(**arguments)


class _Scaled(nn.Module):
    """An activation with a parameter of its own: train_ensemble runs any layer (through train_each)."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x):
        return self.scale * torch.relu(x)


def test_ensemble_trains_layers_with_parameters_of_their_own(monkeypatch):
    monkeypatch.setitem(ACTIVATION_MODULES, "scaled", _Scaled)
    inputs, labels = DATA
    ensemble = train_ensemble([2, 4, 2], "scaled", [0, 1], inputs, labels, steps=10, learning_rate=0.02)
    for seed, model, losses in zip([0, 1], ensemble.models, ensemble.losses):
        alone = mlp([2, 4, 2], "scaled", seed=seed)
        history = train(alone, inputs, labels, loss="cross_entropy", learning_rate=0.02, steps=10)
        np.testing.assert_allclose(losses, history.losses, rtol=1e-5, atol=1e-7)
        assert model[1].scale.item() == pytest.approx(alone[1].scale.item(), rel=1e-5)
        assert model[1].scale.item() != 1.0


def test_ensemble_in_float64_equals_training_each_network_alone():
    inputs, labels = spirals(20, 2, seed=0, dtype=torch.float64)
    ensemble = train_ensemble(
        [2, 8, 2], "prelu", [1], inputs, labels, steps=10, learning_rate=0.02, dtype=torch.float64
    )
    alone = mlp([2, 8, 2], "prelu", seed=1, dtype=torch.float64)
    history = train(alone, inputs, labels, loss="cross_entropy", learning_rate=0.02, steps=10)
    np.testing.assert_allclose(ensemble.losses[0], history.losses, rtol=1e-12)
    assert all(p.dtype == torch.float64 for p in ensemble.models[0].parameters())


def test_ensemble_refuses_inputs_of_another_dtype():
    inputs, labels = DATA  # float32
    with pytest.raises(TypeError, match="dtype"):
        train_ensemble([2, 4, 2], "relu", [0], inputs, labels, steps=1, dtype=torch.float64)
