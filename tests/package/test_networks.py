"""mlp, its normalization, residual networks, transformer feed-forward blocks, and layer_shapes."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from relu_course.networks import (
    ACTIVATION_MODULES,
    ACTIVATION_TYPES,
    GATES,
    FeedForward,
    GatedFeedForward,
    ReLUSquared,
    ResidualBlock,
    deep_mlp,
    init_weight_variance,
    layer_shapes,
    matched_gated_width,
    mlp,
    replace_activations,
    residual_mlp,
    with_batch_norm,
)


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


# --------------------------------------------------------------------------- normalization in mlp


@pytest.mark.parametrize(
    ("norm", "position", "kinds"),
    [
        ("batch", "before", ["Linear", "BatchNorm1d", "ReLU", "Linear", "BatchNorm1d", "ReLU", "Linear"]),
        ("batch", "after", ["Linear", "ReLU", "BatchNorm1d", "Linear", "ReLU", "BatchNorm1d", "Linear"]),
        ("layer", "before", ["Linear", "LayerNorm", "ReLU", "Linear", "LayerNorm", "ReLU", "Linear"]),
        ("layer", "after", ["Linear", "ReLU", "LayerNorm", "Linear", "ReLU", "LayerNorm", "Linear"]),
    ],
)
def test_mlp_puts_the_norm_where_asked(norm, position, kinds):
    model = mlp([2, 5, 4, 3], norm=norm, norm_position=position, seed=0, dtype=torch.float64)
    assert [type(layer).__name__ for layer in model] == kinds
    norms = [layer for layer in model if isinstance(layer, (nn.BatchNorm1d, nn.LayerNorm))]
    widths = [layer.normalized_shape[0] if norm == "layer" else layer.num_features for layer in norms]
    assert widths == [5, 4]
    assert all(parameter.dtype == torch.float64 for parameter in model.parameters())
    plain = mlp([2, 5, 4, 3], seed=0, dtype=torch.float64)  # the same weights as without norm
    ours = [layer.weight for layer in model if isinstance(layer, nn.Linear)]
    theirs = [layer.weight for layer in plain if isinstance(layer, nn.Linear)]
    assert len(ours) == 3 and all(torch.equal(a, b) for a, b in zip(ours, theirs))
    assert model(torch.zeros(6, 2, dtype=torch.float64)).shape == (6, 3)


def test_mlp_norm_errors():
    with pytest.raises(ValueError, match="norm must be one of 'batch', 'layer'"):
        mlp([2, 3, 1], norm="group")
    with pytest.raises(ValueError, match="norm_position must be one of 'before', 'after'"):
        mlp([2, 3, 1], norm="batch", norm_position="between")


@pytest.mark.parametrize("position", ["before", "after"])
def test_with_batch_norm_matches_mlp_with_a_batch_norm(position):
    added = with_batch_norm(mlp([2, 5, 4, 3], seed=1), position=position)
    built = mlp([2, 5, 4, 3], norm="batch", norm_position=position, seed=1)
    assert [type(layer) for layer in added] == [type(layer) for layer in built]
    for a, b in zip(added.parameters(), built.parameters()):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="position must be one of"):
        with_batch_norm(mlp([2, 3, 1]), position="middle")


# --------------------------------------------------------------------------- ReLU squared


def test_relu_squared_against_pytorch_and_by_name():
    x = torch.linspace(-3, 3, 61, dtype=torch.float64, requires_grad=True)
    layer = ReLUSquared()
    y = layer(x)
    torch.testing.assert_close(y, torch.nn.functional.relu(x) ** 2, rtol=0, atol=0)
    y.sum().backward()
    torch.testing.assert_close(x.grad, 2 * torch.relu(x.detach()))
    assert ACTIVATION_MODULES["relu_squared"] is ReLUSquared and ReLUSquared in ACTIVATION_TYPES
    assert isinstance(mlp([2, 3, 1], "relu_squared")[1], ReLUSquared)
    assert isinstance(FeedForward(4, 8, "relu_squared").activation, ReLUSquared)


def test_relu_squared_is_not_in_the_catalogue():
    from relu_course.activations import CATALOGUE

    assert "relu_squared" not in CATALOGUE  # Chapter 4's tables iterate over the catalogue


# --------------------------------------------------------------------------- residual networks


@pytest.mark.parametrize("norm", [None, "batch", "layer"])
def test_residual_block_is_x_plus_its_branch(norm):
    block = ResidualBlock(6, "relu", norm, seed=0, dtype=torch.float64)
    x = torch.randn(10, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    normed = x
    if norm == "batch":
        normed = (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + block.norm.eps)
    elif norm == "layer":
        normed = (x - x.mean(1, keepdim=True)) / torch.sqrt(x.var(1, unbiased=False, keepdim=True) + block.norm.eps)
    by_hand = x + torch.relu(normed) @ block.linear.weight.T + block.linear.bias
    torch.testing.assert_close(block(x), by_hand)
    torch.testing.assert_close(block(x), x + block.branch(x))
    assert (block.norm is None) == (norm is None)
    assert block(x).shape == (10, 6)


def test_residual_block_errors():
    with pytest.raises(ValueError, match="width must be >= 1"):
        ResidualBlock(0)
    with pytest.raises(ValueError, match="norm must be one of"):
        ResidualBlock(4, norm="instance")
    with pytest.raises(ValueError, match="activation must be one of"):
        ResidualBlock(4, "relu2")
    with pytest.raises(ValueError, match="weight_scale must be >= 0"):
        ResidualBlock(4, weight_scale=-1.0)


@pytest.mark.parametrize("norm", [None, "batch", "layer"])
def test_residual_mlp_layers_shapes_and_parameter_count(norm):
    depth, width, inputs, outputs = 5, 8, 3, 4
    model = residual_mlp(depth, width, inputs=inputs, outputs=outputs, norm=norm, seed=0)
    kinds = [type(layer).__name__ for layer in model]
    head = [] if norm is None else [{"batch": "BatchNorm1d", "layer": "LayerNorm"}[norm]]
    assert kinds == ["Linear"] + ["ResidualBlock"] * depth + head + ["ReLU", "Linear"]
    assert model(torch.zeros(7, inputs)).shape == (7, outputs)
    weights = sum(layer.weight.numel() for layer in model.modules() if isinstance(layer, nn.Linear))
    assert weights == inputs * width + depth * width**2 + width * outputs
    plain = deep_mlp(depth, width, inputs=inputs, outputs=outputs)
    assert plain(torch.zeros(7, inputs)).shape == model(torch.zeros(7, inputs)).shape


def test_residual_mlp_seed_dtype_and_distinct_blocks():
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    first = residual_mlp(4, 8, seed=5)
    assert torch.rand(1) == expected_next  # the global random state is untouched
    second = residual_mlp(4, 8, seed=5)
    double = residual_mlp(4, 8, seed=5, dtype=torch.float64)
    for a, b, c in zip(first.parameters(), second.parameters(), double.parameters()):
        assert torch.equal(a, b) and c.dtype == torch.float64 and torch.equal(a.double(), c)
    assert not torch.equal(first[1].linear.weight, first[2].linear.weight)
    assert not torch.equal(first[0].weight, residual_mlp(4, 8, seed=6)[0].weight)


def test_residual_mlp_branch_scale():
    depth, width = 16, 400
    default = residual_mlp(depth, width, seed=0)
    branch = torch.cat([block.linear.weight.ravel() for block in default[1 : depth + 1]])
    assert branch.var().item() == pytest.approx(2 / (depth * width), rel=0.02)  # He / depth
    zero = residual_mlp(3, 8, branch_scale=0.0, seed=0)
    x = torch.randn(5, 8)
    assert all(torch.equal(block(x), x) for block in zero[1:4])
    with pytest.raises(ValueError, match="branch_scale must be >= 0"):
        residual_mlp(3, 8, branch_scale=-0.5)


def _mean_squares(model, depth, inputs):
    """The mean square of x after the first layer and after each residual block."""
    with torch.no_grad():
        x = model[0](inputs)
        squares = [x.pow(2).mean().item()]
        for block in model[1 : depth + 1]:
            x = block(x)
            squares.append(x.pow(2).mean().item())
    return squares


def test_residual_mlp_mean_square_doubles_per_block_with_he_and_grows_by_one_over_depth_by_default():
    depth, width = 8, 1024
    inputs = torch.randn(512, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    doubled = _mean_squares(residual_mlp(depth, width, branch_scale=1.0, seed=0, dtype=torch.float64), depth, inputs)
    ratios = [after / before for before, after in zip(doubled, doubled[1:])]
    assert all(1.8 < ratio < 2.2 for ratio in ratios), ratios
    scaled = _mean_squares(residual_mlp(depth, width, seed=0, dtype=torch.float64), depth, inputs)
    ratios = [after / before for before, after in zip(scaled, scaled[1:])]
    assert all(abs(ratio - (1 + 1 / depth)) < 0.05 for ratio in ratios), ratios
    assert scaled[-1] / scaled[0] < math.e


# --------------------------------------------------------------------------- transformer feed-forward blocks


def test_feed_forward_is_its_formula_on_any_leading_shape():
    block = FeedForward(6, 24, "gelu", seed=0, dtype=torch.float64)
    x = torch.randn(3, 5, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    by_hand = torch.nn.functional.gelu(x @ block.w1.weight.T) @ block.w2.weight.T
    torch.testing.assert_close(block(x), by_hand)
    assert block.w1.bias is None and block.w2.bias is None
    assert sum(p.numel() for p in block.parameters()) == 2 * 6 * 24
    with_bias = FeedForward(6, 24, bias=True)
    assert sum(p.numel() for p in with_bias.parameters()) == 2 * 6 * 24 + 24 + 6
    assert [name for name, _ in block.named_children()] == ["w1", "activation", "w2"]


@pytest.mark.parametrize(
    ("gate", "function"),
    [
        ("glu", torch.sigmoid),
        ("reglu", torch.relu),
        ("geglu", torch.nn.functional.gelu),
        ("swiglu", torch.nn.functional.silu),
    ],
)
def test_gated_feed_forward_is_its_formula(gate, function):
    block = GatedFeedForward(6, 10, gate, seed=0, dtype=torch.float64)
    x = torch.randn(4, 3, 6, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    xw, xv = x @ block.w.weight.T, x @ block.v.weight.T
    torch.testing.assert_close(block(x), (function(xw) * xv) @ block.w2.weight.T)
    assert sum(p.numel() for p in block.parameters()) == 3 * 6 * 10
    assert block.gate == gate


def test_glu_gate_matches_pytorchs_glu():
    block = GatedFeedForward(5, 7, "glu", seed=3, dtype=torch.float64)
    x = torch.randn(8, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    # F.glu(cat([a, b])) = a * sigmoid(b): a = x V, b = x W.
    glu = torch.nn.functional.glu(torch.cat([block.v(x), block.w(x)], dim=-1), dim=-1)
    torch.testing.assert_close(block(x), block.w2(glu))


def test_gated_feed_forward_with_biases_and_errors():
    block = GatedFeedForward(6, 10, "reglu", bias=True)
    assert sum(p.numel() for p in block.parameters()) == 3 * 6 * 10 + 2 * 10 + 6
    assert set(GATES) == {"glu", "reglu", "geglu", "swiglu"}
    with pytest.raises(ValueError, match="gate must be one of"):
        GatedFeedForward(6, 10, "gelu")
    with pytest.raises(ValueError, match="activation must be one of"):
        FeedForward(6, 10, "relu2")
    with pytest.raises(TypeError, match="bias must be True or False"):
        FeedForward(6, 10, bias=1)
    with pytest.raises(ValueError, match="hidden must be >= 1"):
        GatedFeedForward(6, 0)
    with pytest.raises(TypeError, match="d_model must be a whole number"):
        FeedForward(6.0, 10)


@pytest.mark.parametrize("hidden", [3, 50, 64, 256, 1000, 3072])
def test_matched_gated_width_matches_the_parameter_count(hidden):
    d_model = 16
    width = matched_gated_width(hidden)
    assert width == round(2 * hidden / 3)
    ungated = sum(p.numel() for p in FeedForward(d_model, hidden).parameters())
    gated = sum(p.numel() for p in GatedFeedForward(d_model, width).parameters())
    assert ungated == 2 * d_model * hidden and gated == 3 * d_model * width
    assert abs(gated - ungated) <= d_model and abs(gated - ungated) / ungated <= 1 / (2 * hidden)
    if hidden >= 50:
        assert abs(gated - ungated) / ungated <= 0.01


def test_matched_gated_width_values_and_errors():
    assert [matched_gated_width(h) for h in [1, 2, 3, 4, 5, 3072]] == [1, 1, 2, 3, 3, 2048]
    with pytest.raises(ValueError):
        matched_gated_width(0)
    with pytest.raises(TypeError):
        matched_gated_width(2.5)


@pytest.mark.parametrize(
    "make",
    [
        lambda seed, dtype: FeedForward(4, 8, seed=seed, dtype=dtype),
        lambda seed, dtype: GatedFeedForward(4, 8, "geglu", seed=seed, dtype=dtype),
        lambda seed, dtype: ResidualBlock(4, "relu", "layer", init="he", seed=seed, dtype=dtype),
    ],
)
def test_blocks_are_seeded_leave_the_global_state_alone_and_take_a_dtype(make):
    torch.manual_seed(7)
    expected_next = torch.rand(1)
    torch.manual_seed(7)
    first = make(3, torch.float32)
    assert torch.rand(1) == expected_next
    second, double, other = make(3, torch.float32), make(3, torch.float64), make(4, torch.float32)
    for a, b, c in zip(first.parameters(), second.parameters(), double.parameters()):
        assert torch.equal(a, b) and c.dtype == torch.float64 and torch.equal(a.double(), c)
    assert not all(torch.equal(a, b) for a, b in zip(first.parameters(), other.parameters()))
    x = torch.zeros(2, 4, dtype=torch.float64)
    assert double(x).dtype == torch.float64
    with pytest.raises(TypeError, match="floating-point torch.dtype"):
        make(3, torch.int64)
