"""The down projection from active units: checked against the dense product, by hand and by PyTorch.

The reference is the dense computation ``h @ w2_t + bias``, in float64 where rounding
matters. Special inputs: every unit off, every unit on, exact zeros and -0.0, NaN,
one input and a batch, float32 and float64.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.checkpoint import checkpoint

from relu_course import hardware, networks
from relu_course.hardware import active_units, dense_down_projection, sparse_down_projection, union_active_fraction

DTYPES = [torch.float32, torch.float64]
TOLERANCE = {torch.float32: 1e-5, torch.float64: 1e-12}  # relative to the size of the terms


def sparse_hidden(shape: tuple[int, ...], off: float, seed: int, dtype: torch.dtype) -> torch.Tensor:
    """ReLU outputs of standard normal pre-activations shifted so that a fraction ``off`` is 0 on average.

    off = 0 gives |z| + 0.1 instead: no zero at all.
    """
    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(shape, generator=generator, dtype=torch.float64)
    if off == 0:
        return (z.abs() + 0.1).to(dtype)  # every unit on
    shift = math.sqrt(2) * torch.special.erfinv(torch.tensor(2 * off - 1, dtype=torch.float64)).item()
    return torch.relu(z - shift).to(dtype)


def weights(hidden: int, d_out: int, seed: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed + 1000)
    w2_t = torch.randn(hidden, d_out, generator=generator, dtype=torch.float64).to(dtype)
    bias = torch.randn(d_out, generator=generator, dtype=torch.float64).to(dtype)
    return w2_t, bias


def assert_close_to_dense(result: torch.Tensor, h: torch.Tensor, w2_t: torch.Tensor, bias: torch.Tensor | None):
    """result equals h @ w2_t + bias, computed in float64, within rounding of the result's dtype."""
    exact = h.double() @ w2_t.double() + (0 if bias is None else bias.double())
    scale = h.double().abs() @ w2_t.double().abs() + (0 if bias is None else bias.double().abs())
    assert result.dtype == h.dtype
    assert result.shape == exact.shape
    assert torch.all((result.double() - exact).abs() <= TOLERANCE[h.dtype] * (scale + 1))


# --------------------------------------------------------------------------- active units


def test_active_units_of_one_input():
    h = torch.tensor([0.0, 1.5, 0.0, 2.0, -0.0, 0.25])
    assert active_units(h).tolist() == [1, 3, 5]
    assert active_units(h).dtype == torch.int64


def test_negative_zero_is_off_and_nan_is_on():
    h = torch.tensor([-0.0, 0.0, math.nan, 1.0], dtype=torch.float64)
    assert active_units(h).tolist() == [2, 3]


def test_active_units_of_a_batch_are_the_union_of_the_rows():
    h = torch.tensor([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 3.0], [0.0, 2.0, -0.0, 0.0]])
    assert active_units(h).tolist() == [1, 3]
    assert union_active_fraction(h) == 0.5


def test_all_off_and_all_on():
    assert active_units(torch.zeros(5)).tolist() == []
    assert union_active_fraction(torch.zeros(3, 5)) == 0.0
    assert active_units(torch.ones(2, 5)).tolist() == [0, 1, 2, 3, 4]
    assert union_active_fraction(torch.ones(5)) == 1.0


def test_union_fraction_of_one_input_is_its_active_fraction():
    h = torch.tensor([0.0, 1.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.5])
    assert union_active_fraction(h) == 3 / 8
    assert union_active_fraction(h[None]) == 3 / 8


def test_union_grows_with_the_batch_as_for_independent_units():
    # Each unit is on with probability 0.1 for each row: expected union 1 - 0.9^n.
    h = sparse_hidden((64, 20_000), off=0.9, seed=0, dtype=torch.float64)
    for n in (1, 4, 16, 64):
        assert union_active_fraction(h[:n]) == pytest.approx(1 - 0.9**n, abs=0.02)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), rows=st.integers(1, 6), hidden=st.integers(1, 40))
def test_union_fraction_counts_the_columns_with_a_non_zero(seed, rows, hidden):
    h = sparse_hidden((rows, hidden), off=0.7, seed=seed, dtype=torch.float64)
    by_hand = sum(any(h[i, j] != 0 for i in range(rows)) for j in range(hidden)) / hidden
    assert union_active_fraction(h) == by_hand


# --------------------------------------------------------------------------- the projections


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(64,), (8, 64)], ids=["one input", "batch"])
@pytest.mark.parametrize("off", [0.0, 0.5, 0.9, 0.99])
def test_sparse_equals_dense(dtype, shape, off):
    h = sparse_hidden(shape, off=off, seed=1, dtype=dtype)
    w2_t, bias = weights(64, 16, seed=1, dtype=dtype)
    assert_close_to_dense(sparse_down_projection(h, w2_t, bias), h, w2_t, bias)
    assert_close_to_dense(sparse_down_projection(h, w2_t), h, w2_t, None)
    assert_close_to_dense(dense_down_projection(h, w2_t, bias), h, w2_t, bias)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_is_what_an_nn_linear_computes(dtype):
    h = sparse_hidden((8, 32), off=0.5, seed=2, dtype=dtype)
    linear = torch.nn.Linear(32, 12).to(dtype)
    w2_t = linear.weight.detach().T.contiguous()
    with torch.no_grad():
        assert torch.equal(dense_down_projection(h, w2_t, linear.bias.detach()), linear(h))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(16,), (4, 16)], ids=["one input", "batch"])
def test_every_unit_off_gives_the_bias(dtype, shape):
    w2_t, bias = weights(16, 5, seed=3, dtype=dtype)
    h = torch.zeros(shape, dtype=dtype)
    expected = bias.expand(*shape[:-1], 5)
    assert torch.equal(sparse_down_projection(h, w2_t, bias), expected)
    assert torch.equal(sparse_down_projection(h, w2_t), torch.zeros(*shape[:-1], 5, dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_unit_on_uses_every_row(dtype):
    h = sparse_hidden((3, 16), off=0.0, seed=4, dtype=dtype)  # no zero anywhere
    w2_t, bias = weights(16, 5, seed=4, dtype=dtype)
    assert union_active_fraction(h) == 1.0
    assert_close_to_dense(sparse_down_projection(h, w2_t, bias), h, w2_t, bias)


def test_negative_zeros_are_skipped_and_give_the_dense_result():
    h = torch.tensor([-0.0, 2.0, 0.0, -0.0, 1.0], dtype=torch.float64)
    w2_t, bias = weights(5, 3, seed=5, dtype=torch.float64)
    assert active_units(h).tolist() == [1, 4]
    expected = 2.0 * w2_t[1] + 1.0 * w2_t[4] + bias
    assert torch.allclose(sparse_down_projection(h, w2_t, bias), expected, rtol=0, atol=1e-15)
    assert_close_to_dense(sparse_down_projection(h, w2_t, bias), h, w2_t, bias)


def test_the_rows_of_inactive_units_are_never_read():
    # NaN in the rows of the off units: the dense product turns 0 * NaN into NaN, the sparse one skips them.
    h = torch.tensor([[0.0, 1.0, 0.0, 2.0], [0.0, 3.0, -0.0, 0.0]], dtype=torch.float64)
    w2_t, bias = weights(4, 3, seed=6, dtype=torch.float64)
    poisoned = w2_t.clone()
    poisoned[[0, 2]] = math.nan
    result = sparse_down_projection(h, poisoned, bias)
    assert torch.isfinite(result).all()
    assert torch.equal(result, sparse_down_projection(h, w2_t, bias))
    assert torch.isnan(dense_down_projection(h, poisoned, bias)).all()


def test_a_nan_in_an_active_unit_reaches_the_output():
    h = torch.tensor([0.0, math.nan, 1.0], dtype=torch.float64)
    w2_t, _ = weights(3, 2, seed=7, dtype=torch.float64)
    assert torch.isnan(sparse_down_projection(h, w2_t)).all()


def test_a_non_contiguous_w2_t_gives_the_same_result():
    h = sparse_hidden((4, 32), off=0.8, seed=8, dtype=torch.float64)
    w2 = torch.randn(10, 32, dtype=torch.float64, generator=torch.Generator().manual_seed(8))
    contiguous = sparse_down_projection(h, w2.T.contiguous())
    assert torch.allclose(sparse_down_projection(h, w2.T), contiguous, rtol=1e-14, atol=1e-14)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    rows=st.integers(0, 5),
    hidden=st.integers(1, 50),
    d_out=st.integers(1, 9),
    off=st.sampled_from([0.0, 0.3, 0.9, 1.0]),
)
def test_sparse_equals_dense_for_any_shape(seed, rows, hidden, d_out, off):
    shape = (hidden,) if rows == 0 else (rows, hidden)
    h = sparse_hidden(shape, off=min(off, 0.999), seed=seed, dtype=torch.float64)
    if off == 1.0:
        h = torch.zeros_like(h)
    w2_t, bias = weights(hidden, d_out, seed=seed, dtype=torch.float64)
    assert_close_to_dense(sparse_down_projection(h, w2_t, bias), h, w2_t, bias)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("h", "error", "message"),
    [
        ([0.0, 1.0], TypeError, "torch.Tensor"),
        (torch.tensor([0, 1]), TypeError, "floating-point"),
        (torch.zeros(2, 3, 4), ValueError, r"\(hidden,\)"),
        (torch.zeros(()), ValueError, r"\(hidden,\)"),
        (torch.zeros(3, 0), ValueError, "hidden >= 1"),
    ],
)
def test_bad_h_is_refused(h, error, message):
    with pytest.raises(error, match=message):
        active_units(h)
    with pytest.raises(error, match=message):
        union_active_fraction(h)
    with pytest.raises(error, match=message):
        sparse_down_projection(h, torch.zeros(3, 2))


@pytest.mark.parametrize("project", [sparse_down_projection, dense_down_projection])
def test_bad_weights_or_bias_are_refused(project):
    h = torch.zeros(4)
    with pytest.raises(ValueError, match=r"\(hidden, d_out\) = \(4, d_out\)"):
        project(h, torch.zeros(3, 4))  # W2 itself, not transposed
    with pytest.raises(ValueError, match=r"\(hidden, d_out\)"):
        project(h, torch.zeros(4))
    with pytest.raises(TypeError, match="dtype and device"):
        project(h, torch.zeros(4, 2, dtype=torch.float64))
    with pytest.raises(TypeError, match="w2_t must be a torch.Tensor"):
        project(h, [[0.0, 1.0]] * 4)
    with pytest.raises(ValueError, match=r"bias must have shape \(d_out,\) = \(2,\)"):
        project(h, torch.zeros(4, 2), torch.zeros(3))
    with pytest.raises(TypeError, match="bias must have h's dtype"):
        project(h, torch.zeros(4, 2), torch.zeros(2, dtype=torch.float64))


# ------------------------------------------------------------ what autograd saves (§7.3)


N = 6 * 5  # numbers in the test tensor


def leaf(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    return torch.randn(*shape, generator=generator, dtype=dtype).requires_grad_(True)


@pytest.mark.parametrize("function", [F.relu, torch.sigmoid, torch.tanh])
def test_relu_sigmoid_and_tanh_keep_their_output(function):
    saved = hardware.saved_tensor_bytes(function, leaf(6, 5))
    assert saved.saves == 1
    (tensor,) = saved.tensors
    assert (tensor.role, tensor.shape, tensor.dtype, tensor.nbytes) == ("output", (6, 5), torch.float32, 4 * N)
    assert saved.total_bytes == saved.created_bytes == 4 * N
    assert not saved.input_saved


@pytest.mark.parametrize(
    "function",
    [F.leaky_relu, F.elu, F.softplus, F.silu, F.gelu, lambda t: F.gelu(t, approximate="tanh"), F.mish],
)
def test_the_smooth_and_leaky_activations_keep_their_input(function):
    x = leaf(6, 5)
    saved = hardware.saved_tensor_bytes(function, x)
    assert [(t.role, t.nbytes) for t in saved.tensors] == [("input", 4 * N)]
    assert saved.input_saved
    assert saved.total_bytes == saved.bytes_of("input") == 4 * N
    assert saved.created_bytes == 0


def test_where_keeps_a_one_byte_mask():
    saved = hardware.saved_tensor_bytes(lambda t: torch.where(t > 0, t, 0.0), leaf(6, 5))
    (tensor,) = saved.tensors
    assert (tensor.role, tensor.dtype, tensor.nbytes) == ("intermediate", torch.bool, N)
    assert saved.describe() == "intermediate (bool)"


def test_mish_written_out_saves_four_tensors_in_two_storages():
    saved = hardware.saved_tensor_bytes(lambda t: t * torch.tanh(F.softplus(t)), leaf(6, 5))
    assert saved.saves == 4
    assert [(t.role, t.times_saved) for t in saved.tensors] == [("input", 2), ("intermediate", 2)]
    assert saved.total_bytes == 2 * 4 * N
    assert saved.created_bytes == 4 * N
    assert saved.describe() == "input (float32), intermediate (float32)"


def test_a_tensor_saved_twice_is_counted_once():
    saved = hardware.saved_tensor_bytes(lambda t: t * t, leaf(6, 5))
    assert saved.saves == 2
    assert len(saved.tensors) == 1
    assert saved.tensors[0].times_saved == 2
    assert saved.total_bytes == 4 * N


def test_a_saved_view_counts_its_whole_storage_and_the_role_of_its_base():
    x = leaf(6, 5)
    saved = hardware.saved_tensor_bytes(lambda t: t[:, :1].sin(), x)  # sin saves its input
    (tensor,) = saved.tensors
    assert tensor.role == "input"
    assert tensor.shape == (6, 1)
    assert tensor.nbytes == 4 * N  # the whole of x's memory stays alive


def test_bytes_follow_the_element_size():
    saved = hardware.saved_tensor_bytes(F.relu, leaf(6, 5, dtype=torch.float64))
    assert saved.total_bytes == 8 * N
    assert saved.tensors[0].dtype == torch.float64


def test_a_linear_layer_keeps_its_input_and_its_weight_not_its_output():
    torch.manual_seed(0)
    layer = nn.Linear(5, 3)
    x = leaf(6, 5)
    saved = hardware.saved_tensor_bytes(layer, x)
    assert sorted((t.role, t.nbytes) for t in saved.tensors) == [("input", 4 * 6 * 5), ("parameter", 4 * 3 * 5)]
    assert saved.created_bytes == 0
    # Without a gradient for x, the weight is not needed: only the input is kept.
    only_input = hardware.saved_tensor_bytes(layer, x.detach())
    assert [(t.role, t.nbytes) for t in only_input.tensors] == [("input", 4 * 6 * 5)]


@pytest.mark.parametrize("inplace", [False, True])
def test_linear_then_relu_keeps_the_same_bytes_in_place_or_not(inplace):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(inplace=inplace))
    saved = hardware.saved_tensor_bytes(model, torch.ones(6, 5))
    assert sorted(t.role for t in saved.tensors) == ["input", "output"]
    assert saved.created_bytes == 4 * 6 * 4


@pytest.mark.parametrize(
    ("activation", "tensors_per_layer"),
    [("relu", 1), ("sigmoid", 1), ("tanh", 1), ("gelu", 2), ("silu", 2), ("mish", 2), ("elu", 2), ("leaky_relu", 2)],
)
def test_in_a_network_activations_that_keep_their_input_keep_twice_as_much(activation, tensors_per_layer):
    # The next Linear layer keeps its input, the activation's output: shared with
    # activations that keep their output, extra for those that keep their input.
    batch, width, hidden_layers = 8, 16, 3
    model = networks.mlp([4] + [width] * hidden_layers + [2], activation, seed=0)
    saved = hardware.saved_tensor_bytes(model, torch.ones(batch, 4))
    assert saved.created_bytes == tensors_per_layer * hidden_layers * batch * width * 4
    assert saved.bytes_of("input") == 8 * 4 * 4  # the batch, kept by the first layer


@pytest.mark.parametrize("layer", [nn.LeakyReLU, nn.ELU])
def test_in_place_leaky_relu_and_elu_keep_their_output_instead(layer):
    batch, width, hidden_layers = 8, 16, 3
    model = networks.mlp([4] + [width] * hidden_layers + [2], lambda: layer(inplace=True), seed=0)
    saved = hardware.saved_tensor_bytes(model, torch.ones(batch, 4))
    assert saved.created_bytes == hidden_layers * batch * width * 4


def test_nothing_is_saved_when_no_gradient_is_needed():
    saved = hardware.saved_tensor_bytes(F.gelu, torch.ones(6, 5))
    assert saved.tensors == () and saved.saves == 0
    assert saved.total_bytes == 0
    assert saved.describe() == "nothing"


def test_it_records_even_inside_no_grad():
    with torch.no_grad():
        saved = hardware.saved_tensor_bytes(F.relu, leaf(6, 5))
    assert saved.total_bytes == 4 * N


def test_outputs_inside_tuples_and_dicts_get_the_output_role():
    saved = hardware.saved_tensor_bytes(lambda t: {"y": (torch.exp(t), 1)}, leaf(6, 5))  # exp keeps its output
    assert [t.role for t in saved.tensors] == ["output"]


def test_a_checkpoint_keeps_only_its_input():
    block = networks.mlp([4, 16, 16, 16, 2], "relu", seed=0)
    batch = torch.ones(8, 4)
    plain = hardware.saved_tensor_bytes(block, batch)
    checkpointed = hardware.saved_tensor_bytes(lambda v: checkpoint(block, v, use_reentrant=False), batch)
    assert plain.created_bytes == 3 * 8 * 16 * 4
    # PyTorch 2.11 also saves an empty tensor there (0 bytes); 2.13 does not.
    assert checkpointed.bytes_of("input") == checkpointed.total_bytes == 8 * 4 * 4
    assert checkpointed.created_bytes == 0


def test_bytes_of_rejects_an_unknown_role():
    saved = hardware.saved_tensor_bytes(F.relu, leaf(2))
    with pytest.raises(ValueError, match="role must be one of"):
        saved.bytes_of("weights")


@pytest.mark.parametrize("measure", [hardware.saved_tensor_bytes, hardware.tensor_memory])
def test_bad_arguments_give_clear_errors(measure):
    with pytest.raises(TypeError, match="function must be callable"):
        measure("relu", torch.ones(2))
    with pytest.raises(TypeError, match="input 0 must be a torch.Tensor"):
        measure(F.relu, [1.0, 2.0])


# --------------------------------------------------------------------------- tensor_memory


@pytest.mark.parametrize(("inplace", "tensors"), [(False, 2), (True, 1)])
def test_in_place_relu_after_linear_allocates_one_tensor_less(inplace, tensors):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(inplace=inplace))
    memory = hardware.tensor_memory(model, torch.ones(6, 5))
    one = 6 * 4 * 4
    assert memory.allocated_bytes == memory.peak_bytes == tensors * one
    assert memory.kept_bytes == one  # the output


def test_temporaries_count_at_the_peak_and_not_after():
    x = torch.ones(6, 5)
    memory = hardware.tensor_memory(lambda v: (v * 2.0) + 1.0, x)  # v * 2 is freed after the sum
    assert memory.allocated_bytes == memory.peak_bytes == 2 * 4 * N
    assert memory.kept_bytes == 4 * N


def test_views_and_in_place_changes_allocate_nothing():
    x = torch.ones(6, 5)
    assert hardware.tensor_memory(lambda v: v.t()[1:], x) == hardware.TensorMemory(0, 0, 0)
    assert hardware.tensor_memory(lambda v: v.mul_(2.0), x) == hardware.TensorMemory(0, 0, 0)


def test_a_checkpoint_lowers_the_peak_and_keeps_only_the_output():
    block = networks.mlp([16] * 5, "relu", seed=0)  # 4 Linear layers, 3 ReLUs
    batch = torch.ones(8, 16)
    one = 8 * 16 * 4
    plain = hardware.tensor_memory(block, batch)
    checkpointed = hardware.tensor_memory(lambda v: checkpoint(block, v, use_reentrant=False), batch)
    assert plain.allocated_bytes == checkpointed.allocated_bytes == 7 * one
    assert (plain.peak_bytes, plain.kept_bytes) == (4 * one, 4 * one)  # 3 ReLU outputs and the output
    assert (checkpointed.peak_bytes, checkpointed.kept_bytes) == (2 * one, one)
