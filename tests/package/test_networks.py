"""mlp and layer_shapes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from relu_course.networks import init_weight_variance, layer_shapes, mlp, replace_activations


def test_mlp_layers_and_shapes():
    model = mlp([784, 256, 64, 10])
    kinds = [type(layer).__name__ for layer in model]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert model(torch.zeros(5, 784)).shape == (5, 10)


def test_mlp_activation_by_name():
    assert isinstance(mlp([2, 3, 1], activation="tanh")[1], nn.Tanh)
    with pytest.raises(ValueError, match="activation must be one of"):
        mlp([2, 3, 1], activation="sigmoidal")


def test_mlp_activation_by_function_builds_a_new_layer_each_time():
    model = mlp([2, 3, 3, 1], activation=lambda: nn.LeakyReLU(0.3))
    assert [model[1].negative_slope, model[3].negative_slope] == [0.3, 0.3]
    assert model[1] is not model[3]
    with pytest.raises(TypeError, match="must return an nn.Module"):
        mlp([2, 3, 1], activation=lambda: torch.relu)
    with pytest.raises(TypeError, match="a name from networks.ACTIVATION_MODULES"):
        mlp([2, 3, 1], activation=3)


def test_mlp_seed_is_reproducible_and_leaves_the_global_state_alone():
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    first = mlp([3, 4, 2], seed=7)
    assert torch.rand(1) == expected_next
    second = mlp([3, 4, 2], seed=7)
    for a, b in zip(first.parameters(), second.parameters()):
        assert torch.equal(a, b)


@pytest.mark.parametrize(
    "init, variance",
    [
        ("he", lambda fan_in, fan_out: 2 / fan_in),
        ("xavier", lambda fan_in, fan_out: 2 / (fan_in + fan_out)),
        ("pytorch", lambda fan_in, fan_out: 1 / (3 * fan_in)),
    ],
)
def test_mlp_init_variances(init, variance):
    fan_in, fan_out = 400, 300
    weight = mlp([fan_in, fan_out], init=init, seed=0)[0].weight
    assert weight.var().item() == pytest.approx(variance(fan_in, fan_out), rel=0.02)
    if init != "pytorch":
        assert torch.count_nonzero(mlp([fan_in, fan_out], init=init, seed=0)[0].bias) == 0


@pytest.mark.parametrize("sizes", [[3], [3, 0, 1], [3, 2.5, 1], [3, True, 1]])
def test_mlp_rejects_bad_sizes(sizes):
    with pytest.raises((ValueError, TypeError)):
        mlp(sizes)


def test_layer_shapes_of_a_cnn():
    cnn = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 14 * 14, 10)
    )
    table = layer_shapes(cnn, torch.zeros(4, 1, 28, 28))
    assert table.header == ["layer", "module", "output shape", "parameters"]
    assert table.rows[0] == ["input", "", "(4, 1, 28, 28)", "0"]
    assert [row[2] for row in table.rows[1:]] == [
        "(4, 8, 28, 28)",
        "(4, 8, 28, 28)",
        "(4, 8, 14, 14)",
        "(4, 1568)",
        "(4, 10)",
    ]
    assert table.rows[1][3] == str(8 * 1 * 3 * 3 + 8)
    assert not cnn[0]._forward_hooks  # hooks are removed


def test_layer_shapes_validates_its_arguments():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        layer_shapes("model", torch.zeros(1))
    with pytest.raises(TypeError, match="torch.Tensor"):
        layer_shapes(mlp([2, 1]), [[1.0, 2.0]])


def test_default_init_matches_nn_linear():
    torch.manual_seed(0)
    expected = nn.Linear(5, 3).weight
    assert torch.equal(mlp([5, 3], seed=0)[0].weight, expected)


def test_mlp_in_float64_starts_from_the_float32_weights():
    single = mlp([3, 8, 2], init="he", seed=4)
    double = mlp([3, 8, 2], init="he", seed=4, dtype=torch.float64)
    assert all(p.dtype == torch.float64 for p in double.parameters())
    for p32, p64 in zip(single.parameters(), double.parameters()):
        assert torch.equal(p32.double(), p64)
    assert double(torch.zeros(5, 3, dtype=torch.float64)).dtype == torch.float64


@pytest.mark.parametrize("dtype", [torch.int64, "float64", None])
def test_mlp_refuses_a_dtype_that_is_not_a_float_type(dtype):
    with pytest.raises(TypeError, match="floating-point torch.dtype"):
        mlp([2, 3, 1], dtype=dtype)


@pytest.mark.parametrize("init", ["pytorch", "he", "xavier", "lecun"])
def test_init_weight_variance_matches_the_weights_drawn(init):
    fan_in, fan_out = 500, 300
    weight = mlp([fan_in, fan_out, 1], init=init, seed=0)[0].weight
    assert weight.var().item() == pytest.approx(init_weight_variance(init, fan_in, fan_out), rel=0.02)


def test_init_weight_variance_formulas_and_errors():
    assert init_weight_variance("he", 50, 10) == pytest.approx(2 / 50)
    assert init_weight_variance("xavier", 50, 10) == pytest.approx(2 / 60)
    assert init_weight_variance("pytorch", 50, 10) == pytest.approx(1 / 150)
    assert init_weight_variance("lecun", 50, 10) == pytest.approx(1 / 50)
    with pytest.raises(ValueError, match="init must be one of"):
        init_weight_variance("glorot", 5, 5)
    with pytest.raises(ValueError):
        init_weight_variance("he", 0, 5)


def test_replace_activations_copies_and_replaces_only_the_given_kinds():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Sequential(nn.Linear(3, 3), nn.Tanh()), nn.Linear(3, 1))
    replaced = replace_activations(model, lambda old: nn.LeakyReLU(0.5))
    assert [type(m).__name__ for m in replaced.modules() if not list(m.children())] == [
        "Linear",
        "LeakyReLU",
        "Linear",
        "LeakyReLU",
        "Linear",
    ]
    assert isinstance(model[1], nn.ReLU) and isinstance(model[2][1], nn.Tanh)  # the original is unchanged
    assert torch.equal(replaced[0].weight, model[0].weight) and replaced[0].weight is not model[0].weight
    only_relu = replace_activations(model, lambda old: nn.Identity(), kinds=(nn.ReLU,))
    assert isinstance(only_relu[1], nn.Identity) and isinstance(only_relu[2][1], nn.Tanh)
    assert isinstance(replace_activations(nn.ReLU(), lambda old: nn.ELU()), nn.ELU)


def test_replace_activations_errors():
    with pytest.raises(ValueError, match="no activation layers"):
        replace_activations(nn.Linear(2, 2), lambda old: old)
    with pytest.raises(ValueError, match="no nn.GELU layer"):
        replace_activations(mlp([2, 3, 1]), lambda old: old, kinds=(nn.GELU,))
    with pytest.raises(TypeError, match="torch.nn.Module"):
        replace_activations("not a model", lambda old: old)
