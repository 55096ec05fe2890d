"""Checks for the exercises of Chapter 6, ReLU in real networks.

``pre_activation_block`` checks a pre-activation residual block, x + Linear(relu(x)),
against ``networks.ResidualBlock``; ``swiglu_hidden`` the widest SwiGLU block that fits
a parameter budget, and ``swiglu`` a SwiGLU module, against
``networks.GatedFeedForward``. The ``predict_*`` checks take the number an "explain"
question asks to predict and compare it with their own measurement: how far
relu(maxpool(x)) and maxpool(relu(x)) differ, the fraction of pooling windows where
relu(avgpool(x)) and avgpool(relu(x)) differ, and the factor by which a pre-activation
block with He's weights multiplies the mean square.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from relu_course import networks
from relu_course.checks._engine import (
    _as_whole_number,
    _call,
    _error_text,
    _Failed,
    _kind,
    _NotYet,
    _run,
    _run_function_check,
    _run_prediction_check,
    prediction_check,
)

_OUTPUT_RTOL, _OUTPUT_ATOL = 1e-9, 1e-12  # float64: only the order of the additions may differ
_GRADIENT_RTOL, _GRADIENT_ATOL = 1e-8, 1e-11

#: A candidate output that a typical mistake gives, with the hint that names the mistake.
_Mistake = tuple[torch.Tensor, str]


# =========================================================================== modules given as classes


def _module_class(answer: object, name: str) -> type[nn.Module]:
    """The learner's class, after checking it is a subclass of nn.Module (None: not yet)."""
    if answer is None:
        raise _NotYet("the answer is still None")
    if isinstance(answer, nn.Module):
        raise _Failed(
            f"expected the class itself, got an instance ({type(answer).__name__}): pass {name}, not {name}(...)."
        )
    if not (isinstance(answer, type) and issubclass(answer, nn.Module)):
        raise _Failed(f"expected a subclass of torch.nn.Module (the class itself), got {_kind(answer)}.")
    return answer


def _new_module(module_class: type[nn.Module], arguments: tuple[int, ...], described: str) -> nn.Module:
    """An instance built by the learner's class, converted to float64."""
    module = _call(module_class, *arguments, where=f"when creating {described}")
    if not isinstance(module, nn.Module):
        raise _Failed(f"{described} is {_kind(module)}, not an nn.Module.")
    _call(module.to, torch.float64, where=f"when converting {described} to float64 with .to(torch.float64)")
    return module


def _named_linear(module: nn.Module, name: str, fan_in: int, fan_out: int, described: str) -> nn.Linear:
    """The learner's layer ``name``: an nn.Linear(fan_in, fan_out)."""
    layer = getattr(module, name, None)
    if layer is None:
        raise _Failed(f"{described} has no attribute {name}: keep the layer in self.{name}, as the task names it.")
    if not isinstance(layer, nn.Linear):
        raise _Failed(f"{described}.{name} is {_kind(layer)}; expected an nn.Linear.")
    if (layer.in_features, layer.out_features) != (fan_in, fan_out):
        raise _Failed(
            f"{described}.{name} is nn.Linear({layer.in_features}, {layer.out_features}); "
            f"expected nn.Linear({fan_in}, {fan_out})."
        )
    return layer


def _require_only_parameters_of(module: nn.Module, names: Sequence[str], described: str, hint: str) -> None:
    """Fail if ``module`` has parameters outside the layers ``names``."""
    extra = [key for key, _ in module.named_parameters() if key.split(".")[0] not in names]
    if extra:
        raise _Failed(f"{described} has parameters outside {', '.join(names)}: {', '.join(extra)}. {hint}")


def _copy_seeded_weights(pairs: Sequence[tuple[nn.Linear, nn.Linear]], generator: torch.Generator) -> None:
    """Draw float64 weights (and biases, where the learner's layer has one) into each (learner, reference) pair.

    Weights are N(0, 2 / fan_in), biases N(0, 0.25); a reference bias is 0 when the
    learner's layer has none.
    """
    with torch.no_grad():
        for mine, reference in pairs:
            fan_out, fan_in = reference.weight.shape
            weight = torch.randn(fan_out, fan_in, generator=generator, dtype=torch.float64) * math.sqrt(2.0 / fan_in)
            mine.weight.copy_(weight)
            reference.weight.copy_(weight)
            if reference.bias is not None:
                bias = torch.zeros(fan_out, dtype=torch.float64)
                if mine.bias is not None:
                    bias = 0.5 * torch.randn(fan_out, generator=generator, dtype=torch.float64)
                    mine.bias.copy_(bias)
                reference.bias.copy_(bias)


def _with_exact_zeros(x: torch.Tensor) -> torch.Tensor:
    """``x`` with every third entry set to an exact zero, alternately 0.0 and -0.0: ReLU's kink."""
    flat = x.reshape(-1).clone()
    zeros = torch.zeros(flat[::3].numel(), dtype=x.dtype)
    zeros[1::2] = -0.0
    flat[::3] = zeros
    return flat.reshape(x.shape)


def _where_they_differ(got: torch.Tensor, want: torch.Tensor, rtol: float, atol: float) -> tuple[int, ...]:
    """The index of the first entry where ``got`` and ``want`` differ."""
    wrong = ~torch.isclose(got, want, rtol=rtol, atol=atol)
    return tuple(int(i) for i in torch.nonzero(wrong)[0])


def _check_forward(module: nn.Module, x: torch.Tensor, where: str) -> torch.Tensor:
    """Run the module without gradients; the output, after checking its type and shape and that x is unchanged."""
    given, pristine = x.clone(), x.clone()
    with torch.no_grad():
        output = _call(module, given, where=where)
    if not torch.equal(given, pristine):
        raise _Failed(
            f"forward changed its input x {where}. An in-place operation (nn.ReLU(inplace=True), "
            "torch.relu_, x.clamp_, x += ...) overwrites x, which the skip connection still needs: "
            "compute a new tensor (torch.relu(x) or nn.ReLU())."
        )
    if not isinstance(output, torch.Tensor):
        raise _Failed(f"forward returned {_kind(output)} {where}; expected a tensor.")
    if tuple(output.shape) != tuple(x.shape):
        raise _Failed(f"forward returned shape {tuple(output.shape)} {where}; expected {tuple(x.shape)}.")
    return output


def _compare_output(got: torch.Tensor, expected: torch.Tensor, mistakes: Sequence[_Mistake], where: str) -> None:
    """Fail at the first wrong entry of the output, naming the typical mistake whose output it is."""
    got = got.detach().double()
    if torch.allclose(got, expected, rtol=_OUTPUT_RTOL, atol=_OUTPUT_ATOL):
        return
    index = _where_they_differ(got, expected, _OUTPUT_RTOL, _OUTPUT_ATOL)
    message = (
        f"wrong output {where} at index {index}: expected {expected[index].item():.6g}, got {got[index].item():.6g}."
    )
    for output, hint in mistakes:
        if torch.allclose(got, output, rtol=_OUTPUT_RTOL, atol=_OUTPUT_ATOL):
            raise _Failed(f"{message} Hint: that is {hint}")
    raise _Failed(f"{message} Hint: compare your forward with the formula in the task, step by step.")


def _check_gradients(
    module: nn.Module,
    reference: nn.Module,
    layer_names: Sequence[str],
    x: torch.Tensor,
    where: str,
    kink_hint: str,
) -> None:
    """The gradients of (output · upstream).sum() for x and every parameter match the reference's."""
    given = x.clone().requires_grad_(True)
    module.zero_grad(set_to_none=True)
    output = _call(module, given, where=where)
    if not isinstance(output, torch.Tensor) or not output.requires_grad:
        raise _Failed(
            f"the output does not require grad {where}: autograd cannot reach x or the weights "
            "(did you use .detach(), .item(), torch.no_grad() or NumPy inside forward?)."
        )
    upstream = torch.randn(x.shape, generator=torch.Generator().manual_seed(606), dtype=torch.float64)
    try:
        (output * upstream).sum().backward()
    except Exception as error:  # noqa: BLE001 - a check must never crash
        raise _Failed(f"backward failed {where}: {_error_text(error)}") from None
    reference.zero_grad(set_to_none=True)
    reference_input = x.clone().requires_grad_(True)
    (reference(reference_input) * upstream).sum().backward()
    pairs = [("x", given.grad, reference_input.grad)]
    for name in layer_names:
        for kind in ("weight", "bias"):
            mine = getattr(getattr(module, name), kind)
            if mine is not None:
                pairs.append((f"{name}.{kind}", mine.grad, getattr(getattr(reference, name), kind).grad))
    for name, got, want in pairs:
        if got is None:
            raise _Failed(f"no gradient reached {name} {where}: build the output from {name} with torch operations.")
        if not torch.allclose(got.double(), want, rtol=_GRADIENT_RTOL, atol=_GRADIENT_ATOL):
            raise _Failed(
                f"wrong gradient for {name} {where}. Hint: {_gradient_hint(x, got.double(), want, name, kink_hint)}"
            )


def _gradient_hint(x: torch.Tensor, got: torch.Tensor, want: torch.Tensor, name: str, kink_hint: str) -> str:
    """Point at the kink when the gradient for x is wrong only where x is exactly 0; else the general advice."""
    if name == "x":
        wrong = ~torch.isclose(got, want, rtol=_GRADIENT_RTOL, atol=_GRADIENT_ATOL)
        only_at_zeros = bool((wrong & (x == 0)).any()) and not bool((wrong & (x != 0)).any())
        if kink_hint and only_at_zeros:
            return kink_hint
    return "the output is right, so look for a step autograd does not see (.detach(), .data, a copy through NumPy)."


# =========================================================================== Task 1: a pre-activation residual block

_BLOCK_WIDTHS = (1, 3, 8)
_KINK_HINT = (
    "the gradient is wrong only where x is exactly 0 (0.0 or -0.0), at ReLU's kink. PyTorch's ReLU "
    "(torch.relu, F.relu, nn.ReLU) uses relu'(0) = 0 there; clamp(x, min=0) passes 1 and "
    "torch.maximum(x, zeros) passes 1/2. Use torch.relu or nn.ReLU."
)


def pre_activation_block(module_class: type) -> bool:
    """Check a pre-activation residual block: forward(x) = x + linear(relu(x)).

    The task: ``PreActivationBlock(width)`` is an ``nn.Module`` whose one weight layer
    is ``self.linear = nn.Linear(width, width)``, and whose forward maps x of shape
    (..., width) to x + linear(relu(x)): the skip path carries x unchanged, and the
    branch is ReLU, then the Linear layer (He et al., 2016). For widths 1, 3 and 8 the
    check draws seeded float64 weights into the learner's ``linear`` and into
    ``networks.ResidualBlock(width, "relu")``, and compares the outputs and the
    gradients for x, the weight and the bias, on inputs with exact zeros (0.0 and
    -0.0), where PyTorch's relu'(0) = 0. The input must be left unchanged. The check is
    given the class itself, not an instance.
    """
    return _run("pre_activation_block", lambda: _check_pre_activation_block(module_class))


def _check_pre_activation_block(answer: object) -> str:
    """Every hidden width and input right; the summary line."""
    module_class = _module_class(answer, "PreActivationBlock")
    generator = torch.Generator().manual_seed(61)
    cases = 0
    for width in _BLOCK_WIDTHS:
        described = f"PreActivationBlock({width})"
        block = _new_module(module_class, (width,), described)
        linear = _named_linear(block, "linear", width, width, described)
        _require_only_parameters_of(
            block, ["linear"], described, "The block has one weight layer, self.linear; ReLU has no parameters."
        )
        reference = networks.ResidualBlock(width, "relu", dtype=torch.float64)
        _copy_seeded_weights([(linear, reference.linear)], generator)
        for shape in ((6, width), (2, 3, width)):
            x = _with_exact_zeros(torch.randn(shape, generator=generator, dtype=torch.float64))
            where = f"for {described} on an input of shape {shape}"
            output = _check_forward(block, x, where)
            with torch.no_grad():
                _compare_output(output, reference(x), _pre_activation_mistakes(reference.linear, x), where)
            _check_gradients(block, reference, ["linear"], x, where, _KINK_HINT)
            cases += 1
    return (
        f"all {cases} hidden cases passed (widths {', '.join(map(str, _BLOCK_WIDTHS))}; output and gradients "
        "for x, weight and bias match networks.ResidualBlock, exact 0.0 and -0.0 in x, x left unchanged)."
    )


def _pre_activation_mistakes(linear: nn.Linear, x: torch.Tensor) -> list[_Mistake]:
    """The outputs of the usual wrong blocks, with the same weights, each with the hint that names it."""
    relu = torch.relu
    return [
        (linear(relu(x)), "linear(relu(x)) without the skip connection: add x, forward(x) = x + linear(relu(x))."),
        (
            relu(x + linear(x)),
            "relu(x + linear(x)), a post-activation block: the ReLU comes first, inside the branch, "
            "and the sum x + branch is not passed through a ReLU.",
        ),
        (
            relu(x + linear(relu(x))),
            "relu(x + linear(relu(x))): a ReLU after the sum clips the skip path; in a pre-activation block "
            "the sum is the output.",
        ),
        (
            x + relu(linear(x)),
            "x + relu(linear(x)): the ReLU comes after the Linear layer; in a pre-activation block it "
            "comes before it, x + linear(relu(x)).",
        ),
        (
            relu(x) + linear(relu(x)),
            "relu(x) + linear(relu(x)): the skip path must carry x itself, not relu(x) (an in-place ReLU "
            "on x does this).",
        ),
        (x + linear(x), "x + linear(x), without the ReLU: apply relu to x before the Linear layer."),
    ]


# =========================================================================== Task 2: SwiGLU with a parameter budget

# (d_model, budget) of the hidden cases of swiglu_hidden: the budget of an ungated block
# of width 2048 (d = 512) and 16384 (d = 4096), a budget met exactly, small ones, and
# one a parameter short of the next width.
_BUDGET_CASES = (
    (512, 2 * 512 * 2048),
    (512, 3 * 512 * 1365),
    (4096, 2 * 4096 * 16384),
    (7, 100),
    (1, 3),
    (3, 44),
    (64, 3 * 64 * 11 - 1),
)


def _swiglu_parameter_count(d_model: int, hidden: int) -> int:
    """Parameters of ``networks.GatedFeedForward(d_model, hidden, "swiglu")``, counted on the meta device."""
    with torch.device("meta"):
        block = networks.GatedFeedForward(d_model, hidden, "swiglu")
    return sum(parameter.numel() for parameter in block.parameters())


def _largest_fitting_width(d_model: int, budget: int) -> int:
    """The largest hidden width whose GatedFeedForward has at most ``budget`` parameters (counted, linear in h)."""
    per_unit = _swiglu_parameter_count(d_model, 1)
    hidden = budget // per_unit
    if not _swiglu_parameter_count(d_model, hidden) <= budget < _swiglu_parameter_count(d_model, hidden + 1):
        raise RuntimeError("the parameter count of GatedFeedForward is not per_unit * hidden")
    return hidden


def swiglu_hidden(function: Callable[[int, int], int]) -> bool:
    """Check the widest SwiGLU block that fits a parameter budget: the largest h with 3·d·h <= budget.

    The task: ``swiglu_hidden(d_model, budget)`` returns, as an int, the largest hidden
    width h of a SwiGLU block with three bias-free matrices (d_model x h, d_model x h,
    h x d_model) whose parameter count does not exceed ``budget`` (budget >= 3 d_model).
    The expected widths come from counting the parameters of
    ``networks.GatedFeedForward(d_model, h, "swiglu")``; the hidden cases include the
    budget of an ungated block of width 2048 for d_model = 512 (Shazeer, 2020) and a
    budget met exactly.
    """
    return _run_function_check("swiglu_hidden", function, _check_swiglu_hidden)


def _check_swiglu_hidden(function: Callable[..., object]) -> str:
    """Every hidden (d_model, budget) right; the summary line."""
    for d_model, budget in _BUDGET_CASES:
        where = f"for d_model={d_model}, budget={budget}"
        got = _as_whole_number(_call(function, d_model, budget, where=where), where)
        expected = _largest_fitting_width(d_model, budget)
        if got != expected:
            raise _Failed(f"returned {got} {where}; expected {expected}. {_swiglu_hidden_hint(got, d_model, budget)}")
    return (
        f"all {len(_BUDGET_CASES)} hidden budgets passed (the budget of an ungated block of width 2048 "
        "and of 16384, a budget met exactly, small ones)."
    )


def _swiglu_hidden_hint(got: int, d_model: int, budget: int) -> str:
    """Name the mistake a wrong width most likely came from; else say whether it fits."""
    d = d_model
    mistakes = [
        (budget // (2 * d), "budget // (2 d_model) counts an ungated block, 2·d·h; the gated one has three matrices"),
        ((budget - d) // (3 * d + 2), "that counts biases (3·d·h + 2h + d); the block of the task has none"),
        (budget // 3, "budget // 3 leaves out d_model: each matrix has d_model·h entries"),
        (-(-budget // (3 * d)), "rounded up: that block has more parameters than the budget"),
        (round(budget / (3 * d)), "rounded to the nearest: a width that rounds up exceeds the budget; round down"),
    ]
    expected = _largest_fitting_width(d_model, budget)
    for value, hint in mistakes:
        if value != expected and got == value:
            return f"Hint: {hint}."
    if got > expected:
        return f"Hint: a block of width {got} has 3·{d}·{got} = {3 * d * got} parameters, more than the budget."
    return f"Hint: a block of width {got + 1} has 3·{d}·{got + 1} = {3 * d * (got + 1)} parameters: it fits too."


# (d_model, hidden) of the hidden SwiGLU modules
_SWIGLU_SIZES = ((4, 6), (5, 3), (1, 2))
_SWIGLU_LAYERS = ("w", "v", "w2")


def swiglu(module_class: type) -> bool:
    """Check a SwiGLU feed-forward block: forward(x) = w2(silu(w(x)) * v(x)).

    The task: ``SwiGLU(d_model, hidden)`` is an ``nn.Module`` with three bias-free
    layers, ``w = nn.Linear(d_model, hidden, bias=False)``, ``v`` the same shape and
    ``w2 = nn.Linear(hidden, d_model, bias=False)``, and maps x of shape (..., d_model)
    to w2(silu(w(x)) * v(x)) (Shazeer, 2020). The check counts the parameters (those of
    ``networks.GatedFeedForward(d_model, hidden, "swiglu")``), draws seeded float64
    weights into both modules, and compares the outputs and the gradients for x, w, v
    and w2, on inputs with rows of 0.0 and -0.0. The check is given the class itself.
    """
    return _run("swiglu", lambda: _check_swiglu(module_class))


def _check_swiglu(answer: object) -> str:
    """Every hidden size and input right; the summary line."""
    module_class = _module_class(answer, "SwiGLU")
    generator = torch.Generator().manual_seed(62)
    cases = 0
    for d_model, hidden in _SWIGLU_SIZES:
        described = f"SwiGLU({d_model}, {hidden})"
        block = _new_module(module_class, (d_model, hidden), described)
        shapes = ((d_model, hidden), (d_model, hidden), (hidden, d_model))
        layers = [_named_linear(block, name, *shape, described) for name, shape in zip(_SWIGLU_LAYERS, shapes)]
        _check_swiglu_parameters(block, d_model, hidden, described)
        reference = networks.GatedFeedForward(d_model, hidden, "swiglu", dtype=torch.float64)
        _copy_seeded_weights(list(zip(layers, [reference.w, reference.v, reference.w2])), generator)
        for shape in ((5, d_model), (2, 3, d_model)):
            x = _with_zero_rows(torch.randn(shape, generator=generator, dtype=torch.float64))
            where = f"for {described} on an input of shape {shape}"
            output = _check_forward(block, x, where)
            with torch.no_grad():
                _compare_output(output, reference(x), _swiglu_mistakes(reference, x), where)
            _check_gradients(block, reference, _SWIGLU_LAYERS, x, where, "")
            cases += 1
    return (
        f"all {cases} hidden cases passed (3·d·h parameters as networks.GatedFeedForward; output and "
        "gradients for x, w, v and w2 match it, on 2-D and 3-D inputs with rows of 0.0 and -0.0)."
    )


def _with_zero_rows(x: torch.Tensor) -> torch.Tensor:
    """``x`` with its first row (the last axis) all 0.0 and its second all -0.0."""
    rows = x.reshape(-1, x.shape[-1]).clone()
    rows[0] = 0.0
    rows[1] = -0.0
    return rows.reshape(x.shape)


def _check_swiglu_parameters(block: nn.Module, d_model: int, hidden: int, described: str) -> None:
    """No biases, nothing outside w, v and w2, and as many parameters as GatedFeedForward."""
    biases = [name for name in _SWIGLU_LAYERS if getattr(block, name).bias is not None]
    if biases:
        raise _Failed(
            f"{described}.{biases[0]} has a bias: the block of the task has three bias-free matrices, "
            "nn.Linear(..., bias=False), 3·d_model·hidden parameters."
        )
    _require_only_parameters_of(block, _SWIGLU_LAYERS, described, "The block has three weight matrices: w, v and w2.")
    count = sum(parameter.numel() for parameter in block.parameters())
    expected = _swiglu_parameter_count(d_model, hidden)
    if count != expected:
        raise _Failed(f"{described} has {count} parameters; expected {expected}, 3·d_model·hidden.")


def _swiglu_mistakes(reference: nn.Module, x: torch.Tensor) -> list[_Mistake]:
    """The outputs of the usual wrong gated blocks, with the same weights, each with the hint that names it."""
    w, v, w2 = reference.w(x), reference.v(x), reference.w2
    return [
        (
            w2(F.silu(v) * w),
            "w2(silu(v(x)) * w(x)): silu on the wrong branch. The two branches play different roles: "
            "silu goes on w(x), and v(x) stays linear.",
        ),
        (w2(torch.sigmoid(w) * v), "w2(sigmoid(w(x)) * v(x)), GLU: SwiGLU's gate is silu(z) = z · sigmoid(z)."),
        (w2(torch.relu(w) * v), "w2(relu(w(x)) * v(x)), ReGLU: SwiGLU's gate is silu, F.silu."),
        (w2(F.gelu(w) * v), "w2(gelu(w(x)) * v(x)), GEGLU: SwiGLU's gate is silu, F.silu."),
        (w2(F.silu(w)), "w2(silu(w(x))) without the gate: multiply by v(x) elementwise."),
        (w2(F.silu(w) + v), "w2(silu(w(x)) + v(x)): the gate multiplies, elementwise (*), it does not add."),
        (w2(F.silu(w * v)), "w2(silu(w(x) * v(x))): silu acts on w(x) alone, before the product."),
        (w2(w * v), "w2(w(x) * v(x)), without silu: apply F.silu to w(x)."),
    ]


# =========================================================================== Task 3: commuting orders, predicted

_POOL_SHAPE = (16, 4, 32, 32)  # 16384 windows of 2 x 2
_POOL_SEED = 63


def _pool_input() -> torch.Tensor:
    """Standard normal float64 feature maps, seeded: the input of both pooling measurements."""
    return torch.randn(_POOL_SHAPE, generator=torch.Generator().manual_seed(_POOL_SEED), dtype=torch.float64)


def _measure_max_pool_gap() -> float:
    """max abs(relu(maxpool(x)) - maxpool(relu(x))) over 2 x 2 windows of standard normal x."""
    x = _pool_input()
    return (F.relu(F.max_pool2d(x, 2)) - F.max_pool2d(F.relu(x), 2)).abs().max().item()


def _measure_avg_pool_mismatch() -> float:
    """The fraction of 2 x 2 windows of standard normal x where relu(avgpool(x)) != avgpool(relu(x))."""
    x = _pool_input()
    return (F.relu(F.avg_pool2d(x, 2)) != F.avg_pool2d(F.relu(x), 2)).double().mean().item()


@prediction_check
def predict_max_pool_gap(prediction: object) -> bool:
    """Check the predicted largest difference between relu(maxpool(x)) and maxpool(relu(x)).

    The question: for x of standard normal entries and 2 x 2 max pooling, what is the
    largest absolute difference between the two orders? The check measures it in
    float64 on 16 x 4 x 32 x 32 seeded entries (16384 windows); only the exact value
    passes.
    """
    return _run_prediction_check(
        "predict_max_pool_gap",
        prediction,
        _measure_max_pool_gap,
        rtol=0.0,
        what="the largest abs(relu(maxpool(x)) - maxpool(relu(x)))",
        hint="Hint: both max and relu are monotone: compare max(relu(a), relu(b)) with relu(max(a, b)) "
        "for a >= b, case by case.",
    )


@prediction_check
def predict_avg_pool_mismatch(prediction: object) -> bool:
    """Check the predicted fraction of 2 x 2 windows where relu(avgpool(x)) and avgpool(relu(x)) differ.

    The question: for x of independent standard normal entries, in what fraction of
    the 2 x 2 windows do the two orders give different values? The check measures it
    in float64 on 16384 seeded windows; a prediction within 3 % passes.
    """
    return _run_prediction_check(
        "predict_avg_pool_mismatch",
        prediction,
        _measure_avg_pool_mismatch,
        rtol=0.03,
        what="the fraction of 2 x 2 windows where relu(avgpool(x)) and avgpool(relu(x)) differ",
        hint="Hint: in which windows is relu the identity on all four entries, and in which does it set "
        "all four to 0? In the rest, the negative entries lower the mean but not the mean of the relus.",
        mistakes=[
            (0.0, "Hint: averaging is linear, not monotone like max: try a window with entries 1 and -1."),
            (1.0, "Hint: in a window whose four entries are all positive, relu changes nothing in either order."),
            (
                1 - 0.5**4,
                "Hint: 1 - (1/2)^4 counts only the all-negative windows as agreeing; all-positive windows agree too.",
            ),
            (0.5, "Hint: that is the chance that one entry is negative; a window has four entries."),
            (2 * 0.5**4, "Hint: that is the fraction where the orders agree; the question asks where they differ."),
        ],
    )


# =========================================================================== Task 4: the scale of a residual stack

_RESIDUAL_WIDTH, _RESIDUAL_BLOCKS, _RESIDUAL_INPUTS = 256, 16, 1024


def _measure_residual_growth() -> float:
    """Mean over 16 blocks x + W relu(x), W ~ N(0, 2 / width), bias 0, of E[out²] / E[x²].

    Each of 16 seeded ``networks.ResidualBlock(256, init="he")`` (float64) maps the same
    1024 standard normal inputs; one block's factor varies by a few percent with its
    weights, the mean of 16 by well under 1 %.
    """
    generator = torch.Generator().manual_seed(64)
    x = torch.randn(_RESIDUAL_INPUTS, _RESIDUAL_WIDTH, generator=generator, dtype=torch.float64)
    factors = []
    with torch.no_grad():
        for seed in range(70, 70 + _RESIDUAL_BLOCKS):
            block = networks.ResidualBlock(_RESIDUAL_WIDTH, init="he", seed=seed, dtype=torch.float64)
            factors.append((block(x).pow(2).mean() / x.pow(2).mean()).item())
    return sum(factors) / len(factors)


@prediction_check
def predict_residual_growth(prediction: object) -> bool:
    """Check the predicted factor by which one pre-activation block with He's weights multiplies the mean square.

    The question: a block maps x to x + W relu(x), W ~ N(0, 2 / width) (He), bias 0, no
    normalization and no scaling of the branch. By what factor is E[out²] larger than
    E[x²], for x symmetric about 0? The check measures it on 16 blocks of width 256
    (``networks.ResidualBlock`` with ``init="he"``, float64), each fed the same 1024
    standard normal inputs, and takes the mean; a prediction within 5 % passes.
    """
    return _run_prediction_check(
        "predict_residual_growth",
        prediction,
        _measure_residual_growth,
        rtol=0.05,
        what="the factor per pre-activation block of the mean square with He's weights",
        hint="Hint: write out = x + b with b = W relu(x); E[out²] = E[x²] + 2 E[x b] + E[b²]. What are "
        "E[x b] and E[b²] with He's variance?",
        mistakes=[
            (
                1.0,
                "Hint: He's weights keep the branch b = W relu(x) at the mean square of x, but the skip adds x "
                "on top of it: E[(x + b)²] = E[x²] + E[b²].",
            ),
            (
                4.0,
                "Hint: (1 + 1)² would hold if b were equal to x; b = W relu(x) is uncorrelated with x, so the "
                "mean squares add: 2 E[x b] = 0.",
            ),
            (1.5, "Hint: ReLU halves the mean square, but He's variance 2 / width doubles it back: E[b²] = E[x²]."),
            (3.0, "Hint: fan_in · Var(W) = 2 is multiplied by ReLU's 1/2: E[b²] = E[x²], not 2 E[x²]."),
            (math.sqrt(2.0), "Hint: that is the factor of the RMS; the question asks for the mean square."),
        ],
    )
