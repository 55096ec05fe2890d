"""The engine behind every check: verdict lines, the sandbox, messages, and elementwise tasks.

A check runs the learner's code on hidden cases, prints **one line** that starts with
``PASSED``, ``FAILED`` or ``NOT_YET``, and returns True only when every case passed.
It never raises, whatever it is given: a function that raises, returns None, a
list, a number instead of an array, the wrong shape or dtype, NaN, or changes its input
gets a message saying exactly that. ``NotImplementedError`` (the exercise stubs) means
"not implemented yet". While it runs the learner's code, a check hides what that code
prints and the warnings it causes, and afterwards restores the random state of NumPy,
PyTorch and Python's ``random`` module, so checking does not change the learner's results.

The chapter modules hold the checks themselves; this module holds what they share.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import io
import math
import numbers
import random
import textwrap
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from relu_course.tables import format_value

PASSED = "✓"  # starts the line of a check that passed
FAILED = "✗"  # starts the line of a check that failed
NOT_YET = "○"  # starts the line of a task not implemented yet
_MAX_MESSAGE = 400  # characters; a longer line is cut with "..."


# =========================================================================== machinery


class _NotYet(Exception):
    """The task is unfinished: the code raised NotImplementedError, or the answer is None."""


class _Failed(Exception):
    """A hidden case failed; the message says which case, what was expected, what came back."""


def _run(name: str, body: Callable[[], str]) -> bool:
    """Run one check: print one line with the verdict and return True if it passed."""
    try:
        with _sandbox():
            summary = body()
    except _NotYet as note:
        detail = str(note)
        line, passed = f"{NOT_YET} {name}: not implemented yet" + (f" ({detail})." if detail else "."), False
    except _Failed as failure:
        line, passed = f"{FAILED} {name}: {failure}", False
    except Exception as error:  # noqa: BLE001 - a check must never crash
        line, passed = f"{FAILED} {name}: the check could not use your answer: {_error_text(error)}", False
    else:
        line, passed = f"{PASSED} {name}: {summary}", True
    print(_one_line(line))
    return passed


def _run_function_check(name: str, function: object, check: Callable[[Callable[..., Any]], str]) -> bool:
    """Run the check ``name`` of the learner's function and print its verdict line; True if it passed.

    None means "not implemented yet", anything that cannot be called fails; otherwise
    ``check(function)`` runs the hidden cases and returns the summary of a pass.
    """

    def body() -> str:
        _require_callable(function)
        return check(function)

    return _run(name, body)


@contextlib.contextmanager
def _sandbox() -> Iterator[None]:
    """Hide prints and warnings, ignore floating-point warnings, restore every random state."""
    numpy_state = np.random.get_state()
    python_state = random.getstate()
    with contextlib.ExitStack() as stack:
        stack.enter_context(torch.random.fork_rng(devices=[]))
        stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        stack.enter_context(contextlib.redirect_stderr(io.StringIO()))
        stack.enter_context(warnings.catch_warnings())
        warnings.simplefilter("ignore")
        stack.enter_context(np.errstate(all="ignore"))
        stack.enter_context(torch.enable_grad())
        try:
            yield
        finally:
            np.random.set_state(numpy_state)
            random.setstate(python_state)


def _one_line(text: str) -> str:
    """``text`` on one line, its runs of white space made single spaces, cut at ``_MAX_MESSAGE`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def _error_text(error: BaseException) -> str:
    """The type of ``error`` and the first line of its message, for a verdict line."""
    lines = str(error).strip().splitlines()
    first = lines[0] if lines else ""
    first = first if len(first) <= 160 else first[:157] + "..."
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def _call(function: Callable[..., Any], *args: Any, where: str, **kwargs: Any) -> Any:
    """Call the learner's code; its exceptions become a verdict, never a crash."""
    try:
        return function(*args, **kwargs)
    except NotImplementedError as error:
        raise _NotYet(str(error).strip().splitlines()[0] if str(error).strip() else "") from None
    except (Exception, SystemExit) as error:  # noqa: BLE001
        raise _Failed(f"raised {_error_text(error)} {where}.") from None


def _require_callable(answer: object, what: str = "a function") -> None:
    """Say "not implemented yet" for None, and fail for anything that cannot be called."""
    if answer is None:
        raise _NotYet("the answer is still None")
    if not callable(answer):
        raise _Failed(f"expected {what}, got {_kind(answer)}.")


def _kind(value: object) -> str:
    """A short description of a value's type, for messages."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"a NumPy array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, torch.Tensor):
        return f"a torch.Tensor of shape {tuple(value.shape)}"
    if isinstance(value, np.generic):
        return f"a NumPy scalar ({type(value).__name__}) {_number(value)}"
    if isinstance(value, bool):
        return f"the bool {value}"
    if isinstance(value, (int, float)):
        return f"the Python {type(value).__name__} {_number(value)}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"a {type(value).__name__}"


def _number(value: object) -> str:
    """A number as text, keeping -0.0 and NaN visible."""
    if isinstance(value, (np.floating, float)):
        return format_value(float(value), digits=8)
    if isinstance(value, (np.integer, np.bool_)):
        return str(value.item())
    return str(value)


def _show_array(x: np.ndarray) -> str:
    """Describe an input array: its values when short, else its shape; and its dtype."""
    if x.ndim == 0:
        return f"np.array({_number(x[()])}) (0-d, {x.dtype})"
    if x.size == 0:
        return f"an empty array of shape {x.shape} ({x.dtype})"
    if x.ndim == 1 and x.size <= 8:
        return "[" + ", ".join(_number(v) for v in x) + f"] ({x.dtype})"
    return f"an array of shape {x.shape} ({x.dtype})"


def _show_parameters(parameters: dict[str, object]) -> str:
    """Keyword arguments as ``key=value, ...``."""
    return ", ".join(f"{key}={_number(value)}" for key, value in parameters.items())


def _with_parameters(where: str, parameters: dict[str, object]) -> str:
    """``where``, followed by ``, key=value, ...`` when there are keyword arguments."""
    return where + (f", {_show_parameters(parameters)}" if parameters else "")


def _reject_none(value: object, where: str) -> None:
    """Fail when the learner's code returned None, the usual sign of a forgotten ``return``."""
    if value is None:
        raise _Failed(f"returned None {where}: did you forget `return`?")


def _as_float(value: object, where: str, what: str = "a number") -> float:
    """Accept a Python or NumPy real number; explain anything else."""
    return float(_checked_number(value, numbers.Real, where, what, " (a Python float: use .item())"))


def _as_whole_number(value: object, where: str, what: str = "a whole number (int)") -> int:
    """Accept a Python or NumPy integer; explain anything else."""
    return int(_checked_number(value, numbers.Integral, where, what, ": use int(...) or .item()"))


def _checked_number(value: object, number_type: type, where: str, what: str, tensor_advice: str) -> numbers.Real:
    """``value`` if it is a ``number_type`` other than a bool; otherwise fail, saying what came back.

    ``tensor_advice`` follows "return <what>" when the value is a tensor: how to turn it into a number.
    """
    if isinstance(value, torch.Tensor):
        raise _Failed(f"returned a torch.Tensor {where}; return {what}{tensor_advice}.")
    _reject_none(value, where)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, number_type):
        raise _Failed(f"returned {_kind(value)} {where}; expected {what}.")
    return value  # type: ignore[return-value]


def _as_list(value: object, length: int, where: str, what: str) -> list:
    """Accept a list or tuple of ``length`` items (one per layer); explain anything else."""
    _reject_none(value, where)
    if isinstance(value, (torch.Tensor, np.ndarray)) or not isinstance(value, (list, tuple)):
        raise _Failed(f"returned {_kind(value)} {where}; expected a list of {length} {what}.")
    if len(value) != length:
        raise _Failed(f"returned a list of {len(value)} {what} {where}; expected {length}, one per layer.")
    return list(value)


def _close(got: float, expected: float, rtol: float, atol: float = 0.0) -> bool:
    """Whether ``got`` is within atol + rtol * abs(expected) of ``expected``; NaN matches NaN, inf matches inf."""
    if math.isnan(expected):
        return math.isnan(got)
    if math.isinf(expected):
        return got == expected
    return abs(got - expected) <= atol + rtol * abs(expected)


# ------------------------------------------------------------------ naming the likely mistake


def _likely_mistake(
    got: float, expected: float, mistakes: Iterable[tuple[float, str]], *, rtol: float, atol: float = 0.0
) -> str | None:
    """The hint of the first known mistake whose value ``got`` matches, or None.

    ``mistakes`` pairs the value a typical slip would give (e.g. the variance where the
    standard deviation was asked) with the hint that names it. A mistake whose value
    equals ``expected`` for this case is skipped: it cannot be told apart here.
    """
    for value, hint in mistakes:
        if not _close(value, expected, rtol, atol) and _close(got, value, rtol, atol):
            return hint
    return None


# ------------------------------------------------------------------ predictions

#: The marker a prediction check carries, so that tools can tell it takes a number, not code.
PREDICTION_CHECK = "takes_a_prediction"


def prediction_check(check: Callable[..., bool]) -> Callable[..., bool]:
    """Mark ``check`` as a check of a number the learner predicts (see ``_run_prediction_check``)."""
    setattr(check, PREDICTION_CHECK, True)
    return check


def _run_prediction_check(
    name: str,
    prediction: object,
    measure: Callable[[], float],
    *,
    rtol: float,
    what: str,
    hint: str,
    mistakes: Iterable[tuple[float, str]] = (),
) -> bool:
    """Compare the learner's predicted number with a measurement; print the verdict; True if close.

    The "explain" questions ask for a prediction first: a number the learner derives on
    paper (e.g. "the factor by which the mean square shrinks per layer"). ``measure()``
    runs the experiment that the prediction is about and returns the measured value; the
    prediction passes when it is within ``rtol`` (relative) of it. ``None`` means "not
    predicted yet". A failing line says whether the prediction is too high or too low and
    by what factor, then gives ``hint``; it does not give the measured value away, which
    the cell after the check measures anyway.

    Parameters
    ----------
    name : str
        The check's name, for the verdict line.
    prediction : object
        What the learner wrote: a real number (int or float, NumPy or Python), or None.
    measure : callable () -> float
        The measurement the prediction is compared with.
    rtol : float
        Relative tolerance, e.g. 0.1 for 10 %.
    what : str
        What was predicted, e.g. "the mean square after 10 layers".
    hint : str
        One sentence that points to the derivation.
    mistakes : iterable of (float, str)
        Values that typical slips give, each with a hint that names the slip; a failing
        prediction close to one of them (within ``rtol``) gets that hint instead of ``hint``.
    """

    def body() -> str:
        value = _prediction_value(prediction)
        measured = float(measure())
        if _close(value, measured, rtol):
            return f"you predicted {_number(value)} for {what}; measured {format_value(measured, digits=4)}."
        direction = "too high" if value > measured else "too low"
        factor = abs(value / measured) if measured != 0 and value != 0 else math.inf
        size = f"about {factor:.2g} times the measurement" if math.isfinite(factor) and factor > 0 else "far off"
        named = _likely_mistake(value, measured, mistakes, rtol=rtol)
        raise _Failed(f"your prediction {_number(value)} for {what} is {direction} ({size}). {named or hint}")

    return _run(name, body)


def _prediction_value(prediction: object) -> float:
    """The learner's prediction as a finite float; None is "not yet"; anything else is explained."""
    if prediction is None or prediction is Ellipsis:
        raise _NotYet("replace None with your predicted number")
    if isinstance(prediction, torch.Tensor) and prediction.numel() == 1:
        prediction = prediction.item()
    if isinstance(prediction, (bool, np.bool_)) or not isinstance(prediction, numbers.Real):
        raise _Failed(f"a prediction is a number (int or float); got {_kind(prediction)}.")
    value = float(prediction)
    if not math.isfinite(value):
        raise _Failed(f"a prediction must be a finite number; got {_number(value)}.")
    return value


# ------------------------------------------------------------------ "no Python loops"

_LOOP_NODES = (ast.For, ast.While, ast.AsyncFor, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_LOOP_CALLS = {"vectorize", "frompyfunc", "apply_along_axis", "map"}


def _python_loop_in(function: Callable[..., Any]) -> str | None:
    """Describe the first Python loop in ``function``'s own source, or None.

    Returns None when the source cannot be read (built-ins, functions typed into a
    console) or when it cannot be told apart from other code on the same lines.
    """
    try:
        source = textwrap.dedent(inspect.getsource(function))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None
    name = getattr(function, "__name__", "")
    if name == "<lambda>":
        bodies = [node for node in ast.walk(tree) if isinstance(node, ast.Lambda)]
    else:
        bodies = [
            node
            for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name
        ]
    if len(bodies) != 1:
        return None
    for node in ast.walk(bodies[0]):
        if isinstance(node, _LOOP_NODES):
            kind = {ast.For: "a for loop", ast.While: "a while loop"}.get(type(node), "a comprehension")
            return f"{kind} (`{_source_line(source, node)}`)"
        if isinstance(node, ast.Call):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if called in _LOOP_CALLS:
                return f"{called}(), a Python loop in disguise (`{_source_line(source, node)}`)"
    return None


def _source_line(source: str, node: ast.AST) -> str:
    """The stripped source line on which ``node`` starts."""
    return source.splitlines()[node.lineno - 1].strip()


# =========================================================================== elementwise NumPy functions


@dataclass(frozen=True)
class _Elementwise:
    """What an elementwise NumPy task demands, and how to check it.

    ``expected(x, **parameters)`` gives the right values in float64 for float64 ``x``.
    """

    name: str
    expected: Callable[..., np.ndarray]
    parameters: tuple[dict[str, float], ...] = ({},)
    nan: bool = False
    large: tuple[float, ...] = (1e3, 1e300)
    keep_float_dtype: bool = False
    integer_result_ok: bool = False
    hint: Callable[[float, dict[str, float]], str] | None = None


def _elementwise_inputs(task: _Elementwise) -> list[np.ndarray]:
    """The hidden inputs, simplest first, so the first failure is easy to read."""
    rng = np.random.default_rng(20240605)
    inputs = [
        np.array([-2.0, -0.5, 0.0, 0.5, 2.0]),
        np.array(-1.5),
        np.array(2.5),
        np.array(0.0),
        np.array([-0.0, 0.0, -0.0]),
        np.linspace(-3.0, 3.0, 12).reshape(3, 4),
        rng.normal(0.0, 3.0, size=(2, 3, 4)),
        rng.normal(0.0, 3.0, size=(4, 5)).astype(np.float32),
        np.arange(12.0).reshape(3, 4).T - 5.5,  # a transposed view: not C-contiguous
        np.array([], dtype=np.float64),
        np.zeros((2, 0, 3)),
        np.array([-3, -1, 0, 2, 5]),
        np.array([[-7, 0], [4, 1]], dtype=np.int32),
        np.array([-1e-300, 1e-300, -5e-324, 5e-324]),
    ]
    biggest_float32 = min(max(task.large), 1e30)
    inputs.append(np.array([-biggest_float32, -3.5, 3.5, biggest_float32], dtype=np.float32))
    for magnitude in task.large:
        inputs.append(np.array([-magnitude, -1.0, 1.0, magnitude]))
    if task.nan:
        inputs.append(np.array([np.nan, -1.0, np.nan, 2.0]))
    return inputs


def _run_elementwise(task: _Elementwise, function: object) -> bool:
    """Check ``function`` against an elementwise task; print the verdict line and return True if it passed."""
    return _run_function_check(task.name, function, lambda answer: _check_elementwise(task, answer))


def _check_elementwise(task: _Elementwise, function: Callable[..., Any]) -> str:
    """Run ``function`` on every hidden input with every parameter set; the summary line when all pass."""
    cases = 0
    for parameters in task.parameters:
        for x in _elementwise_inputs(task):
            _check_one_input(task, function, x, parameters)
            cases += 1
    loop = _python_loop_in(function)
    if loop is not None:
        raise _Failed(
            f"every value is right, but your function uses {loop}; the task asks for whole-array "
            "NumPy operations, which are much faster on large arrays."
        )
    extras = ", NaN" if task.nan else ""
    return (
        f"all {cases} hidden cases passed (0-d to 3-D and empty arrays, float32 and integers, "
        f"-0.0, large values{extras})."
    )


def _check_one_input(
    task: _Elementwise, function: Callable[..., Any], x: np.ndarray, parameters: dict[str, float]
) -> None:
    """One hidden case: the input left unchanged, an array of the right shape, dtype and values."""
    given = x.copy(order="K")  # keeps the memory layout (a transposed input stays transposed)
    pristine = x.copy()
    where = _with_parameters(f"for x = {_show_array(x)}", parameters)
    result = _call(function, given, where=where, **parameters)
    if given.shape != pristine.shape or given.tobytes() != pristine.tobytes():
        raise _Failed(
            f"changed its input {where}: it wrote into the array it was given. Compute a new array "
            "instead (np.maximum(x, 0) rather than x[x < 0] = 0)."
        )
    got = _result_array(result, given, where)
    _check_result_dtype(task, got, x, where)
    expected = np.asarray(task.expected(x.astype(np.float64), **parameters), dtype=np.float64)
    _compare_values(task, x, got, expected, parameters, where)


def _result_array(result: object, x: np.ndarray, where: str) -> np.ndarray:
    """The result as an ndarray, after checking it is one (a NumPy scalar is fine for 0-d input)."""
    _reject_none(result, where)
    if isinstance(result, torch.Tensor):
        raise _Failed(f"returned a torch.Tensor {where}; return a NumPy array.")
    if isinstance(result, (list, tuple)):
        raise _Failed(f"returned {_kind(result)} {where}; return a NumPy array (use NumPy operations, or np.asarray).")
    if isinstance(result, np.generic) and x.ndim == 0:
        result = np.asarray(result)
    if isinstance(result, (numbers.Number, np.generic)):
        raise _Failed(f"returned a single number ({_kind(result)}) {where}; expected an array of shape {x.shape}.")
    if not isinstance(result, np.ndarray):
        raise _Failed(f"returned {_kind(result)} {where}; expected a NumPy array.")
    if result.shape != x.shape:
        raise _Failed(f"returned shape {result.shape} {where}; expected the input's shape {x.shape}.")
    if result.size and np.shares_memory(result, x):
        raise _Failed(
            f"returned an array that shares memory with its input {where} (x itself or a view "
            "of it): changing the result would change x. Return a new array."
        )
    return result


def _check_result_dtype(task: _Elementwise, got: np.ndarray, x: np.ndarray, where: str) -> None:
    """Real numbers out; floats for float input (of the same type where the task keeps it)."""
    kind = got.dtype.kind
    if kind not in "iuf":
        raise _Failed(f"returned an array of dtype {got.dtype} {where}; expected real numbers (floats).")
    if x.dtype.kind == "f":
        if kind != "f":
            raise _Failed(f"returned dtype {got.dtype} {where}; expected floats for float input.")
        if task.keep_float_dtype and got.dtype != x.dtype:
            raise _Failed(
                f"returned dtype {got.dtype} {where}; keep the input's float type. NumPy keeps float32 "
                "when you combine it with Python numbers such as 0 or 0.5 (np.maximum(x, 0)), "
                "not with np.float64 values."
            )
    elif kind != "f" and not task.integer_result_ok:
        raise _Failed(f"returned integers ({got.dtype}) {where}; expected floats (write 1.0, not 1).")


def _compare_values(
    task: _Elementwise, x: np.ndarray, got: np.ndarray, expected: np.ndarray, parameters: dict[str, float], where: str
) -> None:
    """Fail at the first element whose value is off by more than a few rounding errors, with a hint."""
    values = got.astype(np.float64)
    eps = max(
        np.finfo(got.dtype).eps if got.dtype.kind == "f" else 0.0,
        np.finfo(x.dtype).eps if x.dtype.kind == "f" else 0.0,
        np.finfo(np.float64).eps,
    )
    x64 = x.astype(np.float64)
    with np.errstate(all="ignore"):
        tolerance = 64 * eps * (1.0 + np.abs(x64) + np.abs(expected))
        close = (values == expected) | (np.abs(values - expected) <= tolerance)
        right = np.where(np.isnan(expected), np.isnan(values), np.where(np.isinf(expected), values == expected, close))
    if right.all():
        return
    index = tuple(int(i) for i in np.argwhere(~right)[0])
    x_value, want, have = float(x64[index]), float(expected[index]), float(values[index])
    place = "" if x.ndim == 0 else f" (element {index if x.ndim > 1 else index[0]} of x)"
    message = f"wrong value at x = {_number(x[index])}{place} {where}: expected {_number(want)}, got {_number(have)}."
    raise _Failed(message + " " + _value_hint(task, x_value, want, have, parameters))


def _value_hint(task: _Elementwise, x: float, expected: float, got: float, parameters: dict[str, float]) -> str:
    """The hint for a wrong value: NaN handling, overflow for large abs(x), else the task's own hint."""
    if math.isnan(expected):
        return (
            "Hint: NaN in must give NaN out; a comparison with NaN is False, so check what the "
            "branch that NaN falls into computes."
        )
    if (math.isnan(got) or math.isinf(got)) and abs(x) >= 100:
        return (
            "Hint: your formula overflows for large |x| (np.exp(1000) is inf, and inf / inf or "
            "0 * inf give NaN): rewrite it so that it only exponentiates numbers <= 0."
        )
    hint = task.hint(x, parameters) if task.hint else ""
    return f"Hint: {hint}" if hint else "Hint: compare your formula with the definition in the task."


# =========================================================================== models given to the learner's code


def _snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    """A copy of every parameter and buffer of ``model``, to compare with after the learner's code ran."""
    return {key: value.detach().clone() for key, value in model.state_dict().items()}


def _hooks_left(model: nn.Module) -> int:
    """How many forward and backward hooks (and pre-hooks) are registered on ``model``'s modules."""
    count = 0
    for module in model.modules():
        for attribute in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks"):
            count += len(getattr(module, attribute, {}) or {})
    return count


def _parameters_unchanged(model: nn.Module, before: dict[str, torch.Tensor]) -> bool:
    """Whether ``model``'s parameters and buffers are exactly those of the snapshot ``before``."""
    after = model.state_dict()
    return after.keys() == before.keys() and all(torch.equal(after[key], before[key]) for key in before)


def _check_model_left_alone(model: nn.Module, before: dict[str, torch.Tensor], where: str) -> None:
    """Fail if the learner's measurement left hooks on ``model`` or changed its parameters."""
    left = _hooks_left(model)
    if left:
        raise _Failed(
            f"left {left} hook(s) on the model {where}: keep the handles that register_*_hook "
            "returns and call handle.remove() on each (in a finally: block)."
        )
    if not _parameters_unchanged(model, before):
        raise _Failed(f"changed the model's parameters {where}; a measurement must leave them as they were.")
