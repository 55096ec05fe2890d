"""Checks for the exercises of Chapter 7, Sparsity, memory and hardware.

``sparse_down`` checks a feed-forward block's down projection computed from the active
units only, y = h[A] W2^T[A] + b with A = {j : h_j != 0}, against
``hardware.dense_down_projection``; ``mask_relu`` checks a ReLU written as a
``torch.autograd.Function`` that keeps a 1-byte mask for its backward pass, against
``torch.relu`` and with ``hardware.saved_tensor_bytes``. The ``predict_*`` checks take
the number an "explain" question asks to predict and compare it with their own
measurement: the fraction of a ReLU layer's units that a batch of independent inputs
needs, and the bytes autograd keeps for ``F.silu``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from relu_course import hardware
from relu_course.checks._engine import (
    _call,
    _Failed,
    _kind,
    _NotYet,
    _run,
    _run_function_check,
    _run_prediction_check,
    prediction_check,
)

# =========================================================================== Task 1: the sparse down projection


@dataclass(frozen=True)
class _DownCase:
    """One hidden case of ``sparse_down``: the arguments and what the messages call them."""

    label: str  # e.g. "a ReLU output with 2 of 5 units off"
    h: torch.Tensor  # (hidden,)
    w2_t: torch.Tensor  # (hidden, d_out)
    bias: torch.Tensor  # (d_out,)

    @property
    def where(self) -> str:
        hidden, d_out = self.w2_t.shape
        dtype = str(self.h.dtype).removeprefix("torch.")
        return f"for {self.label} (hidden = {hidden}, d_out = {d_out}, {dtype})"


def _seeded(shape: tuple[int, ...], generator: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    """Standard normal numbers drawn in float64 from ``generator``, then stored as ``dtype``."""
    return torch.randn(shape, generator=generator, dtype=torch.float64).to(dtype)


def _relu_output(hidden: int, generator: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    """relu(z) for standard normal z, with every zero of an odd index made -0.0 (a ReLU may output either)."""
    h = torch.relu(_seeded((hidden,), generator, dtype))
    odd = torch.arange(hidden) % 2 == 1
    return torch.where((h == 0) & odd, torch.tensor(-0.0, dtype=dtype), h)


def _poison_inactive_rows(h: torch.Tensor, w2_t: torch.Tensor) -> torch.Tensor:
    """``w2_t`` with the rows of the units where h == 0 filled with NaN, inf and -inf in turn."""
    poison = torch.tensor([math.nan, math.inf, -math.inf], dtype=w2_t.dtype)
    filler = poison[torch.arange(w2_t.numel()) % 3].reshape(w2_t.shape)
    return torch.where((h == 0).unsqueeze(1), filler, w2_t)


def _down_cases() -> list[_DownCase]:
    """The hidden cases, simplest first; those with non-finite weights last."""
    g = torch.Generator().manual_seed(70)
    f64, f32 = torch.float64, torch.float32

    def case(label: str, h: torch.Tensor, d_out: int) -> _DownCase:
        hidden = h.shape[0]
        return _DownCase(label, h, _seeded((hidden, d_out), g, h.dtype), 0.5 * _seeded((d_out,), g, h.dtype))

    square = torch.tensor([1.5, 0.0, 0.75, -0.0, 2.0], dtype=f64)
    leaky = F.leaky_relu(_seeded((12,), g, f64), 0.1)
    leaky[::4] = 0.0
    with_nan = torch.tensor([0.5, 0.0, math.nan, 1.0, -0.0, 2.0], dtype=f64)
    cases = [
        case("a ReLU output with 2 of 5 units off", square, 5),
        case("a ReLU output with exact 0.0 and -0.0", _relu_output(8, g, f64), 3),
        case("every unit off (h all 0.0 and -0.0)", torch.tensor([0.0, -0.0, 0.0, -0.0, 0.0, -0.0], dtype=f64), 4),
        case("every unit on", torch.rand(7, generator=g, dtype=f64) + 0.5, 3),
        case("h with negative values, a Leaky ReLU's output", leaky, 4),
        case("a NaN in h", with_nan, 3),
        case("a ReLU output", _relu_output(64, g, f32), 16),
    ]
    poisoned = []
    for label, base in [
        ("NaN and inf in the weights of inactive units", cases[1]),
        ("NaN and inf in the weights of inactive units", cases[6]),
        ("every unit off and every weight NaN or inf", cases[2]),
    ]:
        poisoned.append(_DownCase(label, base.h, _poison_inactive_rows(base.h, base.w2_t), base.bias))
    return cases + poisoned


def sparse_down(function: Callable[..., object]) -> bool:
    """Check the down projection from the active units: y = h[A] @ w2_t[A] + bias, A = {j : h[j] != 0}.

    The task: ``sparse_down(h, w2_t, bias)`` takes one input's hidden layer h, shape
    (hidden,), the down projection's weights stored as W2^T, ``w2_t`` of shape
    (hidden, d_out), one row per hidden unit, and the bias, shape (d_out,). It returns
    y = W2 h + bias, shape (d_out,), in h's dtype, computed from the rows of the
    active units only: a unit j is active when h[j] != 0 (-0.0 is not; NaN is, so a
    NaN reaches the output as in the dense product). The check compares with
    ``hardware.dense_down_projection`` in float64, within (hidden + 2) eps times the
    sum of the absolute values of the terms; with every unit off the result must be
    the bias exactly. Its cases include exact 0.0 and -0.0, negative values and NaN in
    h, float32 and float64, and NaN and inf in the weight rows of inactive units,
    which a sparse product never reads (a dense one turns them into NaN: 0 * inf).
    """
    return _run_function_check("sparse_down", function, _check_sparse_down)


def _check_sparse_down(function: Callable[..., object]) -> str:
    """Every hidden case right; the summary line."""
    cases = _down_cases()
    for case in cases:
        _check_down_case(function, case)
    return (
        f"all {len(cases)} hidden cases passed (float32 and float64; every unit off, every unit on, exact 0.0 "
        "and -0.0, negative values and NaN in h; NaN and inf in the weights of inactive units never read)."
    )


def _check_down_case(function: Callable[..., object], case: _DownCase) -> None:
    """One hidden case: the inputs left alone, a new tensor of the right shape, dtype and values."""
    given = (case.h.clone(), case.w2_t.clone(), case.bias.clone())
    try:
        result = _call(function, *given, where=case.where)
    except _Failed as failure:
        hidden, d_out = case.w2_t.shape
        raise _Failed(
            f"{failure} The shapes: h ({hidden},), w2_t ({hidden}, {d_out}) with one row per hidden unit, "
            f"bias ({d_out},): gather rows, w2_t[active]."
        ) from None
    for name, mine, pristine in zip(("h", "w2_t", "bias"), given, (case.h, case.w2_t, case.bias)):
        if not torch.equal(mine.nan_to_num(), pristine.nan_to_num()) or mine.isnan().ne(pristine.isnan()).any():
            raise _Failed(f"changed its argument {name} {case.where}; compute a new tensor instead.")
    got = _down_result(result, case, given)
    if not bool((case.h != 0).any()):
        if not torch.equal(got, case.bias):
            raise _Failed(
                f"returned {_show(got)} {case.where}; expected the bias {_show(case.bias)} exactly. With no "
                f"active unit, y = bias. {_down_hint(got, case)}"
            )
        return
    expected, tolerance = _expected_down(case)
    _compare_down(got, expected, tolerance, case)


def _down_result(result: object, case: _DownCase, given: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """The result, after checking it is a new tensor of shape (d_out,) and h's dtype."""
    hidden, d_out = case.w2_t.shape
    if result is None:
        raise _Failed(f"returned None {case.where}: did you forget `return`?")
    if not isinstance(result, torch.Tensor):
        raise _Failed(f"returned {_kind(result)} {case.where}; expected a torch.Tensor of shape ({d_out},).")
    if tuple(result.shape) != (d_out,):
        hint = ""
        if tuple(result.shape) == (hidden,):
            hint = (
                " That is one number per hidden unit: row j of w2_t holds unit j's weights (it is W2 "
                "transposed), so gather rows, w2_t[active], and compute h[active] @ w2_t[active]."
            )
        raise _Failed(f"returned shape {tuple(result.shape)} {case.where}; expected ({d_out},) = (d_out,).{hint}")
    if result.dtype != case.h.dtype:
        raise _Failed(f"returned {result.dtype} {case.where}; keep h's dtype, {case.h.dtype}.")
    if any(result.untyped_storage().data_ptr() == t.untyped_storage().data_ptr() for t in given):
        raise _Failed(
            f"returned one of its arguments (or a view of it) {case.where}: changing the result would change "
            "it. Return a new tensor (bias + ..., or bias.clone())."
        )
    return result.detach()


def _expected_down(case: _DownCase) -> tuple[torch.Tensor, torch.Tensor]:
    """The float64 reference and the tolerance per output.

    Reference: ``hardware.dense_down_projection`` with the rows of inactive units set
    to 0 (equal to the dense product wherever those rows are finite). Tolerance:
    (hidden + 2) eps (|h| @ |w2_t| + |bias|), eps of the case's dtype, a bound on the
    rounding error of a sum of hidden + 1 terms in any order.
    """
    h, bias = case.h.double(), case.bias.double()
    active = (h != 0).unsqueeze(1)
    w2_t = torch.where(active, case.w2_t.double(), torch.zeros((), dtype=torch.float64))
    expected = hardware.dense_down_projection(h, w2_t, bias)
    eps = torch.finfo(case.h.dtype).eps
    size = hardware.dense_down_projection(h.abs().nan_to_num(), w2_t.abs(), bias.abs())
    return expected, (w2_t.shape[0] + 2) * eps * size


def _compare_down(got: torch.Tensor, expected: torch.Tensor, tolerance: torch.Tensor, case: _DownCase) -> None:
    """Fail at the first wrong output, naming the typical mistake."""
    values = got.double()
    nan_expected = expected.isnan()
    right = torch.where(nan_expected, values.isnan(), (values - expected).abs() <= tolerance)
    if bool(right.all()):
        return
    index = int(torch.nonzero(~right)[0])
    message = (
        f"wrong output {case.where} at index {index}: expected {expected[index].item():.6g}, "
        f"got {values[index].item():.6g}."
    )
    raise _Failed(f"{message} {_down_hint(got, case)}")


def _down_hint(got: torch.Tensor, case: _DownCase) -> str:
    """The hint that names the most likely mistake behind a wrong output."""
    values = got.double()
    h, w2_t, bias = case.h.double(), case.w2_t.double(), case.bias.double()
    inactive_weights_bad = bool((~w2_t[h == 0].isfinite()).any())
    if inactive_weights_bad and not bool(values.isfinite().all()):
        return (
            "Hint: your function reads the weights of inactive units: their rows of w2_t hold NaN and inf "
            "here, and 0 * NaN = 0 * inf = NaN. Gather the active rows, w2_t[active], and multiply only those."
        )
    if bool(h.isnan().any()) and bool(values.isfinite().all()):
        return (
            "Hint: NaN in h must reach the output, as in the dense product: a NaN unit is active. NaN > 0 "
            "is False, so h > 0 skips it; NaN != 0 is True: select the units with h != 0."
        )
    expected, tolerance = _expected_down(case)
    mistakes = [
        (expected - bias, "you forgot the bias: y = h[active] @ w2_t[active] + bias."),
        (
            hardware.dense_down_projection(torch.relu(h), w2_t, bias),
            "only the positive entries of h were used. Active means h[j] != 0, not h[j] > 0: h need not be "
            "a ReLU output (a Leaky ReLU's output is negative for negative inputs).",
        ),
    ]
    if w2_t.shape[0] == w2_t.shape[1]:
        w2 = w2_t.T  # W2 itself: a square case lets the wrong orientation give the right shape
        mistakes += [
            (
                hardware.dense_down_projection(h, w2, bias),
                "you multiplied by W2 where W2^T belongs: w2_t has one row per hidden unit, so gather rows "
                "(w2_t[active]), not columns (w2_t[:, active]), and compute h[active] @ w2_t[active].",
            ),
            (hardware.dense_down_projection(h, w2, None), "you used columns of w2_t and forgot the bias."),
        ]
    for output, hint in mistakes:
        same = torch.where(expected.isnan(), output.isnan(), (values - output).abs() <= tolerance)
        if not torch.allclose(output, expected, equal_nan=True) and bool(same.all()):
            return f"Hint: {hint}"
    return "Hint: y = h[active] @ w2_t[active] + bias, with active the indices where h != 0."


def _show(t: torch.Tensor) -> str:
    """A short tensor as a list of rounded numbers."""
    return "[" + ", ".join(f"{value:.4g}" for value in t.double().tolist()) + "]"


# =========================================================================== Task 2: a ReLU that keeps a mask

_MASK_BYTES_INPUT = 1000  # float32 numbers in the input of the memory case


def _with_exact_zeros(x: torch.Tensor) -> torch.Tensor:
    """``x`` with every third entry set to an exact zero, alternately 0.0 and -0.0: ReLU's kink."""
    flat = x.reshape(-1).clone()
    zeros = torch.zeros(flat[::3].numel(), dtype=x.dtype)
    zeros[1::2] = -0.0
    flat[::3] = zeros
    return flat.reshape(x.shape)


def _relu_inputs() -> list[tuple[str, torch.Tensor, bool]]:
    """(description, x, whether to check the gradient): exact zeros, huge and tiny values, NaN, two dtypes."""
    g = torch.Generator().manual_seed(72)
    f64, f32 = torch.float64, torch.float32
    return [
        ("x = [-2, -0.5, 0.0, -0.0, 0.5, 2] (float64)", torch.tensor([-2, -0.5, 0.0, -0.0, 0.5, 2], dtype=f64), True),
        (
            "x = [-1e300, -5e-324, 5e-324, 1e300] (float64)",
            torch.tensor([-1e300, -5e-324, 5e-324, 1e300], dtype=f64),
            True,
        ),
        ("x of shape (3, 4) with exact 0.0 and -0.0 (float64)", _with_exact_zeros(_seeded((3, 4), g, f64)), True),
        ("x of shape (5, 6) with exact 0.0 and -0.0 (float32)", _with_exact_zeros(_seeded((5, 6), g, f32)), True),
        ("x = [-3e38, -0.0, 0.0, 3e38] (float32)", torch.tensor([-3e38, -0.0, 0.0, 3e38], dtype=f32), True),
        ("x = [nan, -1, nan, 2] (float64)", torch.tensor([math.nan, -1.0, math.nan, 2.0], dtype=f64), False),
    ]


def mask_relu(function_class: type) -> bool:
    """Check a ReLU ``torch.autograd.Function`` whose backward keeps only the mask x > 0.

    The task: ``MaskReLU`` is a subclass of ``torch.autograd.Function``. Its forward
    returns relu(x) and saves the mask x > 0 with ``ctx.save_for_backward`` (a
    ``torch.bool`` tensor, 1 byte per number); its backward returns the incoming
    gradient where the mask is True and 0 elsewhere, so relu'(0) = 0 at 0.0 and -0.0,
    as for ``torch.relu``. The check calls ``MaskReLU.apply`` on float32 and float64
    inputs with exact 0.0 and -0.0, very large and very small values, and NaN (the
    output must be NaN, as ``torch.relu``'s), compares the output and the gradient of
    (output * upstream).sum() with ``torch.relu``'s, and measures with
    ``hardware.saved_tensor_bytes`` that autograd keeps at most 1 byte per number of a
    float32 input. It is given the class itself.
    """
    return _run("mask_relu", lambda: _check_mask_relu(function_class))


def _check_mask_relu(answer: object) -> str:
    """Forward, gradient and saved bytes right; the summary line."""
    function_class = _function_class(answer)
    inputs = _relu_inputs()
    for described, x, _ in inputs:
        _check_relu_forward(function_class, x, f"for {described}")
    for described, x, with_gradient in inputs:
        if with_gradient:
            _check_relu_gradient(function_class, x, f"for {described}")
    saved = _check_saved_mask(function_class)
    return (
        f"forward and gradient match torch.relu on {len(inputs)} hidden inputs (float32 and float64, exact 0.0 "
        f"and -0.0, huge and tiny values, NaN), and autograd keeps {saved.total_bytes:,} bytes for "
        f"{_MASK_BYTES_INPUT:,} float32 numbers: {saved.describe()}."
    )


def _function_class(answer: object) -> type[torch.autograd.Function]:
    """The learner's class, after checking it is a subclass of torch.autograd.Function (None: not yet)."""
    if answer is None:
        raise _NotYet("the answer is still None")
    owner = getattr(answer, "__self__", None)
    if isinstance(owner, type) and issubclass(owner, torch.autograd.Function):
        raise _Failed(f"expected the class itself: pass {owner.__name__}, not {owner.__name__}.apply.")
    if isinstance(answer, torch.autograd.Function):
        name = type(answer).__name__
        raise _Failed(f"expected the class itself, got an instance ({name}): pass {name}, not {name}().")
    if isinstance(answer, type) and issubclass(answer, torch.autograd.Function):
        if answer is torch.autograd.Function:
            raise _Failed("expected your subclass of torch.autograd.Function, not torch.autograd.Function itself.")
        return answer
    if isinstance(answer, type):
        raise _Failed(
            f"expected a subclass of torch.autograd.Function (the class itself), got the class "
            f"{answer.__name__}, which is not one: write class MaskReLU(torch.autograd.Function)."
        )
    raise _Failed(f"expected a subclass of torch.autograd.Function (the class itself), got {_kind(answer)}.")


def _check_relu_forward(function_class: type[torch.autograd.Function], x: torch.Tensor, where: str) -> None:
    """The output of ``apply`` equals torch.relu(x) (NaN stays NaN; 0.0 and -0.0 count as equal); x unchanged."""
    given = x.clone()
    with torch.no_grad():
        output = _call(function_class.apply, given, where=where)
    if not _same_values(given, x):
        raise _Failed(f"forward changed its input x {where}: compute a new tensor (torch.relu(x)), not relu_ in place.")
    if not isinstance(output, torch.Tensor):
        raise _Failed(f"forward returned {_kind(output)} {where}; expected a tensor.")
    if tuple(output.shape) != tuple(x.shape) or output.dtype != x.dtype:
        raise _Failed(
            f"forward returned shape {tuple(output.shape)} and {output.dtype} {where}; expected x's shape "
            f"{tuple(x.shape)} and dtype {x.dtype}."
        )
    expected = torch.relu(x)
    if _same_values(output.detach(), expected):
        return
    index = tuple(int(i) for i in torch.nonzero(~_equal_or_both_nan(output.detach(), expected))[0])
    message = (
        f"wrong output {where} at x = {x[index].item():.6g}: expected {expected[index].item():.6g}, "
        f"got {output[index].item():.6g}."
    )
    if math.isnan(expected[index].item()):
        raise _Failed(
            f"{message} Hint: NaN in must give NaN out, as torch.relu: torch.where(x > 0, x, 0) turns NaN into 0 "
            "(NaN > 0 is False); return torch.relu(x)."
        )
    raise _Failed(f"{message} Hint: forward returns relu(x) = max(x, 0): return torch.relu(x).")


def _check_relu_gradient(function_class: type[torch.autograd.Function], x: torch.Tensor, where: str) -> None:
    """The gradient of (apply(x) * upstream).sum() for x equals torch.relu's, exactly."""
    upstream = torch.randn(x.shape, generator=torch.Generator().manual_seed(73), dtype=torch.float64).to(x.dtype)
    given = x.clone().requires_grad_(True)
    output = _call(function_class.apply, given, where=where)
    if not isinstance(output, torch.Tensor) or not output.requires_grad:
        raise _Failed(f"the output does not require grad {where}: return the result of forward as a tensor.")
    (got,) = _call(
        torch.autograd.grad, output, given, upstream, allow_unused=True, where=f"in backward (autograd) {where}"
    )
    if got is None:
        raise _Failed(f"no gradient reached x {where}: backward must return the gradient for x, not None.")
    reference = x.clone().requires_grad_(True)
    (expected,) = torch.autograd.grad(torch.relu(reference), reference, upstream)
    if _same_values(got, expected):
        return
    raise _Failed(f"wrong gradient {where}. Hint: {_gradient_hint(got, expected, x, upstream)}")


def _gradient_hint(got: torch.Tensor, expected: torch.Tensor, x: torch.Tensor, upstream: torch.Tensor) -> str:
    """Name the mistake behind a wrong gradient: x >= 0, the mask returned alone, the gradient passed unchanged."""
    wrong = ~_equal_or_both_nan(got, expected)
    at_zeros = x == 0
    if bool((wrong & at_zeros).any()) and not bool((wrong & ~at_zeros).any()):
        return (
            "the gradient is wrong only where x is exactly 0 (0.0 or -0.0). torch.relu uses relu'(0) = 0 there: "
            "save the mask x > 0, not x >= 0."
        )
    if _same_values(got, (x > 0).to(got.dtype)) or _same_values(got, (x >= 0).to(got.dtype)):
        return (
            "your backward returns the mask itself. The gradient for x is the incoming gradient times "
            "relu'(x): return grad_output * mask (or torch.where(mask, grad_output, 0.0))."
        )
    if _same_values(got, upstream):
        return "your backward passes the incoming gradient unchanged: multiply it by the mask, grad_output * mask."
    return "backward returns grad_output where the saved mask x > 0 is True and 0 elsewhere."


def _check_saved_mask(function_class: type[torch.autograd.Function]) -> hardware.SavedBytes:
    """What autograd keeps for ``apply`` on 1000 float32 numbers: at most 1 byte per number, and something."""
    g = torch.Generator().manual_seed(74)
    x = torch.randn(_MASK_BYTES_INPUT, generator=g).requires_grad_(True)
    n = _MASK_BYTES_INPUT
    where = f"on x of {n:,} float32 numbers"
    saved = _call(hardware.saved_tensor_bytes, function_class.apply, x, where=f"when it ran {where}")
    if 0 < saved.total_bytes <= n:
        return saved
    kept = f"autograd keeps {saved.total_bytes:,} bytes {where} ({saved.describe()})"
    raise _Failed(f"{kept}; expected {n:,}, 1 byte per number. Hint: {_saved_hint(saved)}")


def _saved_hint(saved: hardware.SavedBytes) -> str:
    """Name what was saved instead of one bool mask."""
    if saved.saves == 0:
        return (
            "autograd saw nothing saved. Keep the mask with ctx.save_for_backward(mask), not as an attribute "
            "(ctx.mask = ...): only what save_for_backward keeps is managed by autograd and seen by its hooks."
        )
    roles = {tensor.role for tensor in saved.tensors}
    float_roles = {tensor.role for tensor in saved.tensors if tensor.dtype.is_floating_point}
    if "input" in float_roles and "output" in float_roles:
        return "you save both x and the output, 4 bytes per float32 number each; the mask x > 0 alone is enough."
    if float_roles == {"input"} and roles == {"input"}:
        return "you save the input x, 4 bytes per float32 number; save the mask x > 0 instead, a torch.bool tensor."
    if float_roles == {"output"} and roles == {"output"}:
        return "you save the output, 4 bytes per float32 number; save the mask x > 0 instead, a torch.bool tensor."
    if float_roles == {"intermediate"} and roles == {"intermediate"}:
        return (
            "you save a float tensor made in forward, such as the mask converted with .float() (4 bytes per "
            "number); keep the mask as torch.bool: x > 0."
        )
    return "save one thing only, the mask x > 0 (torch.bool): backward needs nothing else."


def _equal_or_both_nan(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Elementwise: a == b (0.0 equals -0.0), or both NaN."""
    return (a == b) | (a.isnan() & b.isnan())


def _same_values(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Whether a and b have the same shape and equal values, NaN matching NaN."""
    return tuple(a.shape) == tuple(b.shape) and bool(_equal_or_both_nan(a.double(), b.double()).all())


# =========================================================================== Task 3: the union of a batch

_UNION_SPARSITY, _UNION_BATCH = 0.9, 8  # each unit off with probability s for each input; n inputs
_UNION_HIDDEN, _UNION_INPUTS, _UNION_BATCHES = 4096, 64, 64


def _union_layer() -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded float64 ReLU layer whose unit j is off for a fraction s of standard normal inputs.

    W ~ N(0, 1 / inputs), shape (4096, 64); b_j = -||w_j|| Phi^{-1}(s), so that the
    pre-activation w_j . x + b_j ~ N(b_j, ||w_j||^2) is <= 0 with probability s.
    """
    generator = torch.Generator().manual_seed(75)
    w = torch.randn(_UNION_HIDDEN, _UNION_INPUTS, generator=generator, dtype=torch.float64)
    w = w / math.sqrt(_UNION_INPUTS)
    quantile = torch.special.ndtri(torch.tensor(_UNION_SPARSITY, dtype=torch.float64))
    return w, -w.norm(dim=1) * quantile


def _measure_batch_union() -> float:
    """Mean over 64 batches of 8 independent standard normal inputs of ``hardware.union_active_fraction``."""
    w, b = _union_layer()
    generator = torch.Generator().manual_seed(76)
    x = torch.randn(_UNION_BATCHES, _UNION_BATCH, _UNION_INPUTS, generator=generator, dtype=torch.float64)
    h = torch.relu(x @ w.T + b)
    return sum(hardware.union_active_fraction(batch) for batch in h) / _UNION_BATCHES


@prediction_check
def predict_batch_union(prediction: object) -> bool:
    """Check the predicted fraction of a ReLU layer's units that a batch of 8 independent inputs needs.

    The question: each unit of a layer is off with probability s = 0.9 for each input,
    independently across 8 independent inputs. What fraction of the units is on for at
    least one input of the batch (the rows ``sparse_down_projection`` must read)? The
    check builds a seeded float64 layer of 4096 units whose biases make each unit off
    with probability 0.9 exactly (b_j = -||w_j|| Phi^{-1}(0.9)), and measures
    ``hardware.union_active_fraction`` on 64 batches of 8 standard normal inputs; a
    prediction within 3 % of the mean passes.
    """
    s, n = _UNION_SPARSITY, _UNION_BATCH
    return _run_prediction_check(
        "predict_batch_union",
        prediction,
        _measure_batch_union,
        rtol=0.03,
        what=f"the fraction of units on for at least one of {n} inputs",
        hint="Hint: a unit can be skipped only if it is off for every input of the batch. What is the "
        "probability of that, for independent inputs?",
        mistakes=[
            (s**n, "Hint: that is the fraction off for all 8 inputs, the units the batch may skip; it needs the rest."),
            (1 - s, "Hint: that is what one input needs; the batch needs every unit that any of its inputs needs."),
            (
                n * (1 - s),
                "Hint: adding 8 probabilities of 0.1 counts twice every unit that is on for two inputs; "
                "compute the probability that a unit is off for all 8 instead.",
            ),
            ((1 - s) ** n, "Hint: that is the probability that a unit is on for all 8 inputs; one is enough."),
            (1 - (1 - s) ** n, "Hint: s = 0.9 is the probability that a unit is off, not on."),
        ],
    )


# =========================================================================== Task 4: what SiLU keeps

_SILU_NUMBERS = 1_000_000


def _measure_silu_saved_bytes() -> float:
    """Bytes autograd keeps for F.silu on a float32 tensor of 1,000,000 numbers (``hardware.saved_tensor_bytes``)."""
    x = torch.zeros(_SILU_NUMBERS, requires_grad=True)
    return float(hardware.saved_tensor_bytes(F.silu, x).total_bytes)


@prediction_check
def predict_silu_saved_bytes(prediction: object) -> bool:
    """Check the predicted number of bytes autograd keeps for F.silu on 1,000,000 float32 numbers.

    The question: y = F.silu(x) for x of 1,000,000 float32 numbers that requires grad.
    How many bytes does autograd keep for the backward pass? The check measures it with
    ``hardware.saved_tensor_bytes`` (distinct storages, each counted once); only the
    exact count passes.
    """
    n = _SILU_NUMBERS
    return _run_prediction_check(
        "predict_silu_saved_bytes",
        prediction,
        _measure_silu_saved_bytes,
        rtol=1e-9,
        what=f"the bytes autograd keeps for F.silu on {n:,} float32 numbers",
        hint="Hint: write silu'(x) = sigmoid(x) (1 + x (1 - sigmoid(x))). Which tensor does it need, and "
        "how many bytes does a float32 number take?",
        mistakes=[
            (n, "Hint: that counts numbers; a float32 number takes 4 bytes."),
            (n / 8, "Hint: that counts bits; autograd keeps whole float32 numbers, 4 bytes each."),
            (4, "Hint: that is one number; the tensor holds 1,000,000 of them."),
            (0, "Hint: silu'(x) depends on x, so autograd must keep something for backward."),
            (
                8 * n,
                "Hint: silu'(x) can be written with x alone; F.silu is one operation that keeps x and "
                "recomputes sigmoid(x) in backward, not x and its output.",
            ),
            (12 * n, "Hint: F.silu is one fused operation: it keeps x alone, not x, sigmoid(x) and the output."),
        ],
    )
