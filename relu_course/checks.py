"""Instant feedback for the exercises: one check per task, called with your answer.

Each check is named after what it checks and takes your function, class or value::

    from relu_course import checks

    checks.relu(relu)

It runs your code on hidden cases (shapes from 0-d to 3-D and empty arrays, negative
and positive numbers, zero and ``-0.0``, large values, integer and float32 input, NaN
where the task defines it), prints **one line** and returns ``True`` or ``False``:

* ``✓ relu: all 17 hidden cases passed (...).``
* ``✗ relu: <the first failing case: input, expected, got, and a hint>``
* ``○ relu: not implemented yet (Task 1: your code here).``

so a cell can go on only when your code works: ``if checks.relu(relu): ...``.

A check never raises, whatever it is given: a function that raises, returns None, a
list, a number instead of an array, the wrong shape or dtype, NaN, or changes its
input gets a message saying exactly that. ``NotImplementedError`` (the exercise stubs)
means "not implemented yet". While it runs your code, a check hides what your code
prints and the warnings it causes, and afterwards restores the random state of NumPy,
PyTorch and Python's ``random`` module, so checking does not change your results.

Expected values come from :mod:`relu_course.activations`, :mod:`relu_course.diagnostics`,
:mod:`relu_course.piecewise` or PyTorch, never from a copy of the solutions.

Checks by chapter
-----------------
1. ``relu``, ``abs_from_relu``, ``hat``, ``piecewise_network``, ``count_pieces``
2. ``relu_grad``, ``central_difference``, ``gradient_check``, ``autograd_derivative``
3. ``he_normal``, ``rms_per_layer``, ``output_gradient_norms``
4. ``leaky_relu``, ``leaky_relu_grad``, ``elu``, ``elu_grad``, ``gelu_tanh``,
   ``gelu_tanh_grad``, ``silu``, ``silu_grad``, ``prelu``
5. ``dead_unit_counts``, ``born_dead_fraction``, ``revive``
"""

from __future__ import annotations

import ast
import contextlib
import copy
import inspect
import io
import math
import numbers
import random
import textwrap
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from relu_course import activations, diagnostics, networks, piecewise
from relu_course.tables import format_value

__all__ = [
    "abs_from_relu",
    "autograd_derivative",
    "born_dead_fraction",
    "central_difference",
    "count_pieces",
    "dead_unit_counts",
    "elu",
    "elu_grad",
    "gelu_tanh",
    "gelu_tanh_grad",
    "gradient_check",
    "hat",
    "he_normal",
    "leaky_relu",
    "leaky_relu_grad",
    "output_gradient_norms",
    "piecewise_network",
    "prelu",
    "relu",
    "relu_grad",
    "revive",
    "rms_per_layer",
    "silu",
    "silu_grad",
]

PASSED = "✓"
FAILED = "✗"
NOT_YET = "○"
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
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def _error_text(error: BaseException) -> str:
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
    return ", ".join(f"{key}={_number(value)}" for key, value in parameters.items())


def _as_float(value: object, where: str, what: str = "a number") -> float:
    """Accept a Python or NumPy real number; explain anything else."""
    if isinstance(value, torch.Tensor):
        raise _Failed(f"returned a torch.Tensor {where}; return {what} (a Python float: use .item()).")
    if value is None:
        raise _Failed(f"returned None {where}: did you forget `return`?")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise _Failed(f"returned {_kind(value)} {where}; expected {what}.")
    return float(value)


def _as_whole_number(value: object, where: str, what: str = "a whole number (int)") -> int:
    if isinstance(value, torch.Tensor):
        raise _Failed(f"returned a torch.Tensor {where}; return {what}: use int(...) or .item().")
    if value is None:
        raise _Failed(f"returned None {where}: did you forget `return`?")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise _Failed(f"returned {_kind(value)} {where}; expected {what}.")
    return int(value)


def _as_list(value: object, length: int, where: str, what: str) -> list:
    if value is None:
        raise _Failed(f"returned None {where}: did you forget `return`?")
    if isinstance(value, (torch.Tensor, np.ndarray)) or not isinstance(value, (list, tuple)):
        raise _Failed(f"returned {_kind(value)} {where}; expected a list of {length} {what}.")
    if len(value) != length:
        raise _Failed(f"returned a list of {len(value)} {what} {where}; expected {length}, one per layer.")
    return list(value)


def _close(got: float, expected: float, rtol: float, atol: float = 0.0) -> bool:
    if math.isnan(expected):
        return math.isnan(got)
    if math.isinf(expected):
        return got == expected
    return abs(got - expected) <= atol + rtol * abs(expected)


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
        bodies = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.name == name]
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


def _check_elementwise(task: _Elementwise, function: object) -> str:
    _require_callable(function)
    cases = 0
    for parameters in task.parameters:
        for x in _elementwise_inputs(task):
            _check_one_input(task, function, x, parameters)
            cases += 1
    loop = _python_loop_in(function)  # type: ignore[arg-type]
    if loop is not None:
        raise _Failed(
            f"every value is right, but your function uses {loop}; the task asks for whole-array "
            "NumPy operations, which are much faster on large arrays."
        )
    extras = ", NaN" if task.nan else ""
    return (f"all {cases} hidden cases passed (0-d to 3-D and empty arrays, float32 and integers, "
            f"-0.0, large values{extras}).")


def _check_one_input(task: _Elementwise, function: Callable[..., Any], x: np.ndarray,
                     parameters: dict[str, float]) -> None:
    given = x.copy(order="K")  # keeps the memory layout (a transposed input stays transposed)
    pristine = x.copy()
    where = f"for x = {_show_array(x)}" + (f", {_show_parameters(parameters)}" if parameters else "")
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
    if result is None:
        raise _Failed(f"returned None {where}: did you forget `return`?")
    if isinstance(result, torch.Tensor):
        raise _Failed(f"returned a torch.Tensor {where}; return a NumPy array.")
    if isinstance(result, (list, tuple)):
        raise _Failed(f"returned {_kind(result)} {where}; return a NumPy array (use NumPy operations, "
                      "or np.asarray).")
    if isinstance(result, np.generic) and x.ndim == 0:
        result = np.asarray(result)
    if isinstance(result, (numbers.Number, np.generic)):
        raise _Failed(f"returned a single number ({_kind(result)}) {where}; expected an array of shape {x.shape}.")
    if not isinstance(result, np.ndarray):
        raise _Failed(f"returned {_kind(result)} {where}; expected a NumPy array.")
    if result.shape != x.shape:
        raise _Failed(f"returned shape {result.shape} {where}; expected the input's shape {x.shape}.")
    if result.size and np.shares_memory(result, x):
        raise _Failed(f"returned an array that shares memory with its input {where} (x itself or a view "
                      "of it): changing the result would change x. Return a new array.")
    return result


def _check_result_dtype(task: _Elementwise, got: np.ndarray, x: np.ndarray, where: str) -> None:
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


def _compare_values(task: _Elementwise, x: np.ndarray, got: np.ndarray, expected: np.ndarray,
                    parameters: dict[str, float], where: str) -> None:
    values = got.astype(np.float64)
    eps = max(np.finfo(got.dtype).eps if got.dtype.kind == "f" else 0.0,
              np.finfo(x.dtype).eps if x.dtype.kind == "f" else 0.0,
              np.finfo(np.float64).eps)
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
    message = (f"wrong value at x = {_number(x[index])}{place} {where}: expected {_number(want)}, "
               f"got {_number(have)}.")
    raise _Failed(message + " " + _value_hint(task, x_value, want, have, parameters))


def _value_hint(task: _Elementwise, x: float, expected: float, got: float, parameters: dict[str, float]) -> str:
    if math.isnan(expected):
        return ("Hint: NaN in must give NaN out; a comparison with NaN is False, so check what the "
                "branch that NaN falls into computes.")
    if (math.isnan(got) or math.isinf(got)) and abs(x) >= 100:
        return ("Hint: your formula overflows for large |x| (np.exp(1000) is inf, and inf / inf or "
                "0 * inf give NaN): rewrite it so that it only exponentiates numbers <= 0.")
    hint = task.hint(x, parameters) if task.hint else ""
    return f"Hint: {hint}" if hint else "Hint: compare your formula with the definition in the task."


# --------------------------------------------------------------------------- Chapter 1


def _relu_hint(x: float, parameters: dict[str, float]) -> str:
    if x > 0:
        return "for x > 0, relu(x) is x itself."
    if x < 0:
        return "for x < 0, relu(x) is 0."
    return "relu(0) is 0."


_RELU = _Elementwise(
    "relu", activations.relu, keep_float_dtype=True, integer_result_ok=True, hint=_relu_hint,
)


def relu(function: Callable[[np.ndarray], np.ndarray]) -> bool:
    """Check a NumPy ReLU: relu(x) = max(0, x), elementwise.

    The task: any shape, no Python loops, the input left unchanged, a new array of
    the same shape returned; float input keeps its dtype (float32 stays float32);
    integer input may give integers or floats. Inputs are finite; the sign of a zero
    result does not matter (``np.maximum(x, 0)`` and ``np.where(x > 0, x, 0)`` are
    both right).

    Parameters
    ----------
    function : callable
        ``function(x)`` for an ndarray ``x``.

    Returns
    -------
    bool
        True if every hidden case passed.
    """
    return _run("relu", lambda: _check_elementwise(_RELU, function))


def _abs_hint(x: float, parameters: dict[str, float]) -> str:
    return "|x| is x for x >= 0 and -x for x < 0: which ReLU gives each half?"


_ABS = _Elementwise(
    "abs_from_relu", lambda x: np.abs(x), keep_float_dtype=True, integer_result_ok=True, hint=_abs_hint,
)


def abs_from_relu(function: Callable[[np.ndarray], np.ndarray]) -> bool:
    """Check abs(x) written as a sum of ReLUs: same contract as :func:`relu`, values abs(x).

    Parameters
    ----------
    function : callable
        ``function(x)`` for an ndarray ``x``.

    Returns
    -------
    bool
    """
    return _run("abs_from_relu", lambda: _check_elementwise(_ABS, function))


def _hat_values(x: np.ndarray) -> np.ndarray:
    """hat(x) = max(0, 1 - abs(x)): 0 outside [-1, 1], 1 at 0, straight in between."""
    return np.maximum(0.0, 1.0 - np.abs(x))


def _hat_hint(x: float, parameters: dict[str, float]) -> str:
    return ("hat(x) is 0 for |x| >= 1, 1 + x on [-1, 0] and 1 - x on [0, 1]: its slope changes at "
            "-1, 0 and 1, and each change of slope is one ReLU unit.")


_HAT = _Elementwise("hat", _hat_values, keep_float_dtype=True, integer_result_ok=True, hint=_hat_hint)


def hat(function: Callable[[np.ndarray], np.ndarray]) -> bool:
    """Check the hat function max(0, 1 - abs(x)) written as a sum of ReLUs.

    Same contract as :func:`relu`.

    Parameters
    ----------
    function : callable
        ``function(x)`` for an ndarray ``x``.

    Returns
    -------
    bool
    """
    return _run("hat", lambda: _check_elementwise(_HAT, function))


_KNOT_CASES: tuple[tuple[tuple[float, ...], tuple[float, ...]], ...] = (
    ((-2.0, -1.0, 0.0, 1.0, 2.0), (0.0, 1.0, -1.0, 1.0, 0.0)),
    ((0.0, 1.0), (1.0, 3.0)),
    ((-1.0, 0.0, 2.0), (0.0, 1.0, 0.0)),
    ((-3.0, -2.2, -0.4, 0.1, 1.7, 2.5, 3.0), (0.5, -1.0, 2.0, 2.0, -0.3, 1.2, 0.0)),
)


def piecewise_network(build: Callable[[np.ndarray, np.ndarray], nn.Module]) -> bool:
    """Check a one-hidden-layer ReLU network built by hand through given knots.

    The task: ``build(knots_x, knots_y)`` returns ``nn.Sequential(nn.Linear(1, k),
    nn.ReLU(), nn.Linear(k, 1))`` with k = len(knots_x) - 1 hidden units, equal to the
    piecewise-linear function through the knots on [knots_x[0], knots_x[-1]]. It maps
    a batch of shape (n, 1) to (n, 1).

    Parameters
    ----------
    build : callable
        ``build(knots_x, knots_y)`` for 1-D float arrays, ``knots_x`` increasing.

    Returns
    -------
    bool
    """

    def body() -> str:
        _require_callable(build)
        for knots_x, knots_y in _KNOT_CASES:
            _check_piecewise_network(build, np.array(knots_x), np.array(knots_y))
        return f"all {len(_KNOT_CASES)} hidden knot sets reproduced with exactly one unit per piece."

    return _run("piecewise_network", body)


def _check_piecewise_network(build: Callable[..., Any], knots_x: np.ndarray, knots_y: np.ndarray) -> None:
    k = len(knots_x) - 1
    where = f"for knots_x = {_show_array(knots_x)}, knots_y = {_show_array(knots_y)}"
    network = _call(build, knots_x.copy(), knots_y.copy(), where=where)
    if not isinstance(network, nn.Module):
        raise _Failed(f"returned {_kind(network)} {where}; expected a torch.nn.Module (nn.Sequential).")
    linears = [module for module in network.modules() if isinstance(module, nn.Linear)]
    relus = [module for module in network.modules() if isinstance(module, nn.ReLU)]
    shapes = [(layer.in_features, layer.out_features) for layer in linears]
    if len(relus) != 1 or shapes != [(1, k), (k, 1)]:
        raise _Failed(
            f"{where} the network has Linear layers {shapes} and {len(relus)} ReLU; the task asks for "
            f"Linear(1, {k}), ReLU, Linear({k}, 1): one hidden unit per piece, {k} pieces."
        )
    dtype = next(network.parameters()).dtype
    grid = np.union1d(np.linspace(knots_x[0], knots_x[-1], 601), knots_x)
    inputs = torch.tensor(grid, dtype=dtype).reshape(-1, 1)
    try:
        with torch.no_grad():
            output = network(inputs)
    except Exception as error:  # noqa: BLE001
        raise _Failed(f"the network {where} raised {_error_text(error)} on inputs of shape (601, 1).") from None
    if not isinstance(output, torch.Tensor) or tuple(output.shape) != (len(grid), 1):
        shape = tuple(output.shape) if isinstance(output, torch.Tensor) else _kind(output)
        raise _Failed(f"the network {where} returned {shape} for inputs of shape ({len(grid)}, 1); "
                      f"expected ({len(grid)}, 1).")
    got = output.detach().double().numpy().ravel()
    want = np.interp(grid, knots_x, knots_y)
    scale = 1.0 + np.abs(knots_y).max() + np.abs(knots_x).max() * np.abs(np.diff(knots_y) / np.diff(knots_x)).max()
    tolerance = (1e-4 if dtype != torch.float64 else 1e-9) * scale
    wrong = np.nonzero(~(np.abs(got - want) <= tolerance))[0]
    if wrong.size:
        i = wrong[0]
        raise _Failed(
            f"wrong output at x = {_number(grid[i])} {where}: expected {_number(round(want[i], 6))}, "
            f"got {_number(round(float(got[i]), 6))}. Hint: hidden unit i computes relu(x - knots_x[i]) "
            "(weight 1, bias -knots_x[i]); its output weight is the change of slope at that knot; "
            "the output bias is knots_y[0]."
        )


def _count_pieces_cases() -> list[tuple[str, np.ndarray, np.ndarray, dict[str, float], int]]:
    """(description, x, y, keyword arguments, number of pieces), known by construction."""
    rng = np.random.default_rng(7)
    cases = []
    x = np.linspace(-1.0, 1.0, 201)
    cases.append(("a straight line", x, 2.0 * x + 1.0, {}, 1))
    cases.append(("relu(x), kink on a grid point", x, activations.relu(x), {}, 2))
    cases.append(("relu(x - 0.0037), kink inside a grid cell", x, activations.relu(x - 0.0037), {}, 2))
    zigzag = piecewise.relu_expansion([-2.0, -1.0, 0.0, 1.0, 2.0], [0.0, 1.0, -1.0, 1.0, 0.0])
    x = np.linspace(-2.0, 2.0, 2001)
    cases.append(("a zigzag with kinks at -1, 0, 1", x, zigzag(x), {}, 4))
    kinks = np.sort(rng.uniform(-2.8, 2.8, size=6))
    while np.diff(kinks).min() < 0.1:
        kinks = np.sort(rng.uniform(-2.8, 2.8, size=6))
    weights = rng.choice([-1.0, 1.0], size=6) * rng.uniform(0.5, 2.0, size=6)
    x = np.linspace(-3.0, 3.0, 3001)
    y = 0.3 * x + activations.relu(x[:, None] - kinks) @ weights
    cases.append(("6 kinks at random places", x, y, {}, 7))
    uneven = np.sort(np.concatenate([[-3.0, 3.0], rng.uniform(-3.0, 3.0, size=2000)]))
    y = 0.3 * uneven + activations.relu(uneven[:, None] - kinks) @ weights
    cases.append(("the same function on an uneven grid", uneven, y, {}, 7))
    x = np.linspace(-1.0, 1.0, 201)
    tiny = 1e-8 * activations.relu(x - 0.25)
    cases.append(("a change of slope of 1e-8, with the default tol", x, tiny, {}, 1))
    cases.append(("a change of slope of 1e-8, with tol=1e-10", x, tiny, {"tol": 1e-10}, 2))
    return cases


def count_pieces(function: Callable[..., int]) -> bool:
    """Check a counter of the linear pieces of a sampled piecewise-linear function.

    The task: ``count_pieces(x, y, tol=1e-6)`` takes increasing sample points ``x``
    (1-D, possibly uneven) and values ``y``, and returns, as an int, the number of
    straight pieces: 1 plus the number of kinks, where a kink is a change of slope by
    more than ``tol``. A kink strictly inside a grid cell changes the slope twice in a
    row (into the cell and out of it) and must be counted once. Kinks are at least
    three grid cells apart.

    Parameters
    ----------
    function : callable
        ``function(x, y)`` or ``function(x, y, tol=...)``.

    Returns
    -------
    bool
    """

    def body() -> str:
        _require_callable(function)
        cases = _count_pieces_cases()
        for description, x, y, parameters, pieces in cases:
            where = f"for {description}" + (f" ({_show_parameters(parameters)})" if parameters else "")
            got = _as_whole_number(_call(function, x.copy(), y.copy(), where=where, **parameters), where)
            if got != pieces:
                hint = ("a kink inside a grid cell changes the slope twice in a row: count each run of "
                        "consecutive changes once." if got > pieces else
                        "compare each slope with the next one, np.diff(slopes), and flag changes above tol.")
                raise _Failed(f"{where} expected {pieces} pieces, got {got}. Hint: {hint}")
        return f"all {len(cases)} hidden functions counted right (kinks on and between grid points, uneven grid, tol)."

    return _run("count_pieces", body)


# --------------------------------------------------------------------------- Chapter 2


def _relu_grad_expected(x: np.ndarray, at_zero: float = 0.0) -> np.ndarray:
    return np.where(x == 0, at_zero, activations.relu_grad(x))


def _relu_grad_hint(x: float, parameters: dict[str, float]) -> str:
    if x > 0:
        return "relu has slope 1 for x > 0."
    if x < 0:
        return "relu has slope 0 for x < 0."
    at_zero = parameters.get("at_zero")
    if at_zero is None:
        return "at x = 0 return at_zero, whose default is 0.0 (PyTorch's choice). Note that -0.0 == 0 is True."
    return f"at x = 0 return at_zero (here {_number(at_zero)}); -0.0 counts as 0 too (-0.0 == 0 is True)."


_RELU_GRAD = _Elementwise(
    "relu_grad", _relu_grad_expected, parameters=({}, {"at_zero": 0.5}, {"at_zero": 1.0}), hint=_relu_grad_hint,
)


def relu_grad(function: Callable[..., np.ndarray]) -> bool:
    """Check the derivative of ReLU with a chosen value at 0.

    The task: ``relu_grad(x, at_zero=0.0)`` returns 1.0 where x > 0, 0.0 where x < 0
    and ``at_zero`` where x == 0 (both 0.0 and -0.0), as floats of x's shape, for
    finite x, without Python loops and without changing x.

    Parameters
    ----------
    function : callable
        ``function(x)`` and ``function(x, at_zero=...)``.

    Returns
    -------
    bool
    """
    return _run("relu_grad", lambda: _check_elementwise(_RELU_GRAD, function))


def _cube(x: np.ndarray) -> np.ndarray:
    return x**3


def _central_difference_cases() -> list[tuple[str, Callable[..., Any], np.ndarray, dict[str, float]]]:
    return [
        ("f = np.sin", np.sin, np.array([0.0, 0.5, 1.0, 2.0]), {}),
        ("f = np.exp, h=1e-3", np.exp, np.array([[-1.0, 0.0, 1.0], [0.5, 1.5, 2.0]]), {"h": 1e-3}),
        ("f = x**3", _cube, np.array(1.5), {}),
        ("f = relu, next to its kink", activations.relu, np.array([-1.0, -5e-7, 0.0, 5e-7, 1.0]), {}),
        ("f = np.sin, float32 x", np.sin, np.array([0.5, 1.0, 2.0], dtype=np.float32), {}),
        ("f = np.sin, integer x", np.sin, np.array([0, 1, 2]), {}),
        ("f = np.sin, empty x", np.sin, np.zeros((0, 2)), {}),
    ]


def _central_difference_values(f: Callable[..., Any], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    x = x.astype(np.float64)
    return (f(x + h) - f(x - h)) / (2.0 * h)


def central_difference(function: Callable[..., np.ndarray]) -> bool:
    """Check a central finite difference, (f(x + h) - f(x - h)) / (2 h).

    The task: ``central_difference(f, x, h=1e-6)`` for an elementwise NumPy function
    ``f`` and an array ``x`` of any shape returns the central difference at every
    point, computed in float64 (an integer or float32 ``x`` is converted first), as an
    array of x's shape, without changing x.

    Parameters
    ----------
    function : callable
        ``function(f, x)`` and ``function(f, x, h=...)``.

    Returns
    -------
    bool
    """

    def body() -> str:
        _require_callable(function)
        cases = _central_difference_cases()
        for description, f, x, parameters in cases:
            where = f"for {description}, x = {_show_array(x)}"
            given, pristine = x.copy(), x.copy()
            result = _call(function, f, given, where=where, **parameters)
            if given.tobytes() != pristine.tobytes():
                raise _Failed(f"changed its input x {where}.")
            got = _result_array(result, x, where)
            if got.dtype.kind != "f":
                raise _Failed(f"returned dtype {got.dtype} {where}; expected floats.")
            want = _central_difference_values(f, x, **parameters)
            values = got.astype(np.float64)
            right = np.abs(values - want) <= 1e-9 * (1.0 + np.abs(want))
            if not right.all():
                index = tuple(int(i) for i in np.argwhere(~right)[0])
                if x.dtype == np.float32:
                    hint = ("convert x to float64 first: in float32, x + 1e-6 is rounded to about 7 "
                            "digits, which ruins the difference.")
                elif "h" not in parameters:
                    hint = ("use the default h=1e-6 and both neighbours, f(x + h) and f(x - h); a forward "
                            "difference (f(x + h) - f(x)) / h is less accurate.")
                else:
                    hint = "use the h you are given, and divide by 2 h."
                raise _Failed(
                    f"wrong value at x = {_number(x[index])} {where}: expected {_number(want[index])}, "
                    f"got {_number(values[index])}. Hint: {hint}"
                )
        return f"all {len(cases)} hidden cases passed (smooth functions, a kink, float32 and integer x, empty x, h)."

    return _run("central_difference", body)


def _gradient_check_rows(f: Callable[..., Any], f_grad: Callable[..., Any], x: np.ndarray,
                         h: float = 1e-6, tol: float = 1e-4) -> list[tuple[float, float, float, str]]:
    """The reference: failing points of a central-difference gradient check, and why."""
    points = x.astype(np.float64).ravel()
    numerical = (f(points + h) - f(points - h)) / (2.0 * h)
    analytic = np.asarray(f_grad(points), dtype=np.float64)
    left = (f(points) - f(points - h)) / h
    right = (f(points + h) - f(points)) / h
    rows = []
    for i in np.nonzero(np.abs(numerical - analytic) > tol)[0]:
        reason = "kink" if abs(right[i] - left[i]) > tol else "mismatch"
        rows.append((float(points[i]), float(numerical[i]), float(analytic[i]), reason))
    return rows


def _shifted_cos(x: np.ndarray) -> np.ndarray:
    return np.cos(x) + 0.1 * (x > 1)


def _square(x: np.ndarray) -> np.ndarray:
    return x * x


def _double_plus(x: np.ndarray) -> np.ndarray:
    return 2.0 * x + 1e-3


def _relu_grad_half(x: np.ndarray) -> np.ndarray:
    return np.where(x == 0, 0.5, activations.relu_grad(x))


def _gradient_check_cases() -> list[tuple[str, Callable[..., Any], Callable[..., Any], np.ndarray, dict]]:
    return [
        ("f = np.sin, f_grad = np.cos", np.sin, np.cos, np.linspace(-3.0, 3.0, 7), {}),
        ("f = relu, f_grad = relu_grad", activations.relu, activations.relu_grad,
         np.array([-1.0, -5e-7, 0.0, 5e-7, 2e-6, 1.0]), {}),
        ("f = np.sin, f_grad = np.cos + 0.1 for x > 1 (a bug)", np.sin, _shifted_cos, np.linspace(0.0, 2.0, 5), {}),
        ("f = np.abs, f_grad = np.sign", np.abs, np.sign, np.array([-1.0, 0.0, 1.0]), {}),
        ("f = np.exp, f_grad = np.exp, 2-D x", np.exp, np.exp, np.array([[-1.0, 0.0], [1.0, 2.0]]), {}),
        ("f = relu, f_grad with value 0.5 at 0", activations.relu, _relu_grad_half, np.array([0.0]), {}),
        ("f = x**2, f_grad = 2x + 0.001", _square, _double_plus, np.array([1.0]), {}),
        ("f = x**2, f_grad = 2x + 0.001, tol=1e-2", _square, _double_plus, np.array([1.0]), {"tol": 1e-2}),
        ("f = relu, f_grad = relu_grad, h=1e-3", activations.relu, activations.relu_grad,
         np.array([-5e-4, 2e-6, 0.01]), {"h": 1e-3}),
    ]


def gradient_check(function: Callable[..., list]) -> bool:
    """Check a gradient check that explains its failures.

    The task: ``gradient_check(f, f_grad, x, h=1e-6, tol=1e-4)`` compares ``f_grad``
    with the central difference at every point of ``x`` (in ``x.ravel()`` order) and
    returns a list with one tuple ``(x_i, numerical, analytic, reason)`` per point
    where they differ by more than ``tol``: ``reason`` is ``"kink"`` when the one-sided
    slopes (f(x + h) - f(x)) / h and (f(x) - f(x - h)) / h differ by more than ``tol``
    (f bends inside [x - h, x + h], so no difference quotient is the derivative), and
    ``"mismatch"`` otherwise (f_grad is probably wrong). An empty list means all agree.

    Parameters
    ----------
    function : callable
        ``function(f, f_grad, x)``, with keyword arguments ``h`` and ``tol``.

    Returns
    -------
    bool
    """

    def body() -> str:
        _require_callable(function)
        cases = _gradient_check_cases()
        for description, f, f_grad, x, parameters in cases:
            where = f"for {description}, x = {_show_array(x)}" + (
                f", {_show_parameters(parameters)}" if parameters else "")
            result = _call(function, f, f_grad, x.copy(), where=where, **parameters)
            _compare_gradient_check(result, _gradient_check_rows(f, f_grad, x, **parameters), where)
        return f"all {len(cases)} hidden cases passed (smooth functions, a bug, kinks at and next to 0, h and tol)."

    return _run("gradient_check", body)


def _compare_gradient_check(result: object, expected: list[tuple[float, float, float, str]], where: str) -> None:
    if result is None:
        raise _Failed(f"returned None {where}: did you forget `return`? (Return [] when every point agrees.)")
    if not isinstance(result, (list, tuple)):
        raise _Failed(f"returned {_kind(result)} {where}; expected a list of (x, numerical, analytic, reason).")
    want_x = [_number(row[0]) for row in expected]
    try:
        got_x = [_number(float(row[0])) for row in result]
    except Exception:  # noqa: BLE001
        raise _Failed(f"returned a list whose items are not (x, numerical, analytic, reason) tuples {where}.") from None
    if got_x != want_x:
        raise _Failed(f"{where} expected failures at x = [{', '.join(want_x)}], got them at x = "
                      f"[{', '.join(got_x)}]. Hint: a point fails when |numerical - analytic| > tol.")
    for row, (x, numerical, analytic, reason) in zip(result, expected):
        if not isinstance(row, (list, tuple)) or len(row) != 4:
            raise _Failed(f"{where} each item must be a tuple (x, numerical, analytic, reason); got {_kind(row)}.")
        try:
            got_numerical, got_analytic = float(row[1]), float(row[2])
        except Exception:  # noqa: BLE001
            raise _Failed(f"{where} numerical and analytic must be numbers; got {row[1]!r}, {row[2]!r}.") from None
        if not (_close(got_numerical, numerical, 1e-9, 1e-9) and _close(got_analytic, analytic, 1e-12, 1e-12)):
            raise _Failed(
                f"at x = {_number(x)} {where} expected numerical {_number(numerical)} and analytic "
                f"{_number(analytic)}, got {_number(got_numerical)} and {_number(got_analytic)}."
            )
        if row[3] != reason:
            raise _Failed(
                f"at x = {_number(x)} {where} the reason should be {reason!r}, got {row[3]!r}. Hint: compare "
                "the one-sided slopes (f(x + h) - f(x)) / h and (f(x) - f(x - h)) / h: they differ by more "
                "than tol only where f bends inside [x - h, x + h]."
            )


def _clamp_at_zero(t: torch.Tensor) -> torch.Tensor:
    return t.clamp(min=0)


def _maximum_with_zero(t: torch.Tensor) -> torch.Tensor:
    return torch.maximum(t, torch.zeros_like(t))


def _torch_cube(t: torch.Tensor) -> torch.Tensor:
    return t**3


def autograd_derivative(function: Callable[[Callable[..., Any], float], float]) -> bool:
    """Check a one-number derivative taken with PyTorch's autograd.

    The task: ``autograd_derivative(f, x0)`` returns df/dx at the number ``x0`` (int or
    float) as a Python float, computed by autograd in float64, for a function ``f`` of
    a tensor written with PyTorch operations.

    Parameters
    ----------
    function : callable
        ``function(f, x0)``.

    Returns
    -------
    bool
    """
    cases = [
        ("f = torch.sin", torch.sin, 0.3),
        ("f = x**3", _torch_cube, -2.0),
        ("f = torch.relu", torch.relu, 1.5),
        ("f = torch.relu", torch.relu, 0.0),
        ("f = x.clamp(min=0)", _clamp_at_zero, 0.0),
        ("f = torch.maximum(x, 0)", _maximum_with_zero, 0.0),
        ("f = x**3 at an integer x0", _torch_cube, 2),
    ]

    def body() -> str:
        _require_callable(function)
        for description, f, x0 in cases:
            where = f"for {description} at x0 = {x0!r}"
            got = _as_float(_call(function, f, x0, where=where), where, "a Python float")
            point = torch.tensor(float(x0), dtype=torch.float64, requires_grad=True)
            (want,) = torch.autograd.grad(f(point), point)
            want = want.item()
            if not _close(got, want, 1e-12, 1e-15):
                close = "close, but not exact: " if _close(got, want, 1e-5, 1e-8) else ""
                hint = (f"{close}use autograd in float64 (float32 and finite differences are only approximately "
                        "right): x = torch.tensor(float(x0), dtype=torch.float64, requires_grad=True); call "
                        "backward() on f(x) and read x.grad.")
                raise _Failed(f"{where} expected {want!r}, got {got!r}. Hint: {hint}")
        return f"all {len(cases)} hidden cases passed (smooth functions, three spellings of ReLU at 0, integer x0)."

    return _run("autograd_derivative", body)


# --------------------------------------------------------------------------- Chapter 3


def _statistics(values: torch.Tensor) -> tuple[float, float, float]:
    """Mean, standard deviation and excess kurtosis of all entries."""
    flat = values.detach().double().ravel()
    mean = flat.mean().item()
    std = flat.std().item()
    kurtosis = (((flat - mean) / std) ** 4).mean().item() - 3.0 if std > 0 else math.nan
    return mean, std, kurtosis


def _std_hint(std: float, fan_in: int, fan_out: int) -> str:
    """Name the formula a wrong standard deviation most likely came from."""
    candidates = {
        "sqrt(2 / fan_out): you used fan_out; fan_in is in_features, weight.shape[1]": math.sqrt(2 / fan_out),
        "sqrt(2 / (fan_in + fan_out)), Xavier (Glorot) initialization": math.sqrt(2 / (fan_in + fan_out)),
        "sqrt(1 / (3 fan_in)), nn.Linear's default": math.sqrt(1 / (3 * fan_in)),
        "sqrt(1 / fan_in), without He's factor 2": math.sqrt(1 / fan_in),
        "2 / fan_in: that is the variance; the standard deviation is its square root": 2 / fan_in,
    }
    for name, value in candidates.items():
        if abs(std / value - 1) < 0.05:
            return f"Hint: that is {name}."
    return "Hint: He initialization draws W from N(0, 2 / fan_in): standard deviation sqrt(2 / fan_in)."


def he_normal(initializer: Callable[[nn.Linear], nn.Linear]) -> bool:
    """Check He (Kaiming) normal initialization of a linear layer, written by hand.

    The task: ``he_normal_(layer)`` redraws ``layer.weight`` in place from
    N(0, 2 / fan_in), with fan_in = ``layer.in_features``, sets ``layer.bias`` to 0, and
    returns the layer. The checks are statistical, on layers with 16,000 weights or
    more: standard deviation within 5 % of sqrt(2 / fan_in), mean near 0, and the bell
    shape of a normal distribution (excess kurtosis near 0; a uniform one has -1.2).

    Parameters
    ----------
    initializer : callable
        ``initializer(layer)`` for an ``nn.Linear``.

    Returns
    -------
    bool
    """
    sizes = [(200, 100), (32, 512), (500, 50)]

    def body() -> str:
        _require_callable(initializer)
        for fan_in, fan_out in sizes:
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
                raise _Failed(f"{where} layer.weight is now {_kind(weight)}; it must stay an nn.Parameter of "
                              f"shape ({fan_out}, {fan_in}). Write into it with torch.no_grad() and .normal_().")
            if not weight.requires_grad:
                raise _Failed(f"{where} layer.weight no longer requires grad; training could not update it.")
            if not torch.isfinite(weight).all():
                raise _Failed(f"{where} the weights contain NaN or inf.")
            mean, std, kurtosis = _statistics(weight)
            target = math.sqrt(2 / fan_in)
            if abs(std / target - 1) > 0.05:
                raise _Failed(f"{where} the weights' standard deviation is {std:.4g}; expected sqrt(2 / "
                              f"fan_in) = {target:.4g} with fan_in = {fan_in}. {_std_hint(std, fan_in, fan_out)}")
            if abs(mean) > 5 * target / math.sqrt(weight.numel()):
                raise _Failed(f"{where} the weights' mean is {mean:.3g}; expected 0 (within sampling noise).")
            if abs(kurtosis) > 0.3:
                raise _Failed(f"{where} the weights do not look normally distributed (excess kurtosis "
                              f"{kurtosis:.2f}, expected about 0; a uniform distribution gives -1.2). "
                              "Hint: draw from a normal distribution, e.g. weight.normal_(0, std).")
            if layer.bias is None or not torch.equal(layer.bias.detach(), torch.zeros(fan_out)):
                raise _Failed(f"{where} the bias is not all zeros; He initialization sets it to 0.")
        return (f"all {len(sizes)} hidden layers passed (std sqrt(2 / fan_in) within 5 %, mean 0, normal "
                "shape, bias 0, in place).")

    return _run("he_normal", body)


def _layer_models() -> list[tuple[str, nn.Module, torch.Tensor, torch.Tensor]]:
    """Small models, inputs and MSE targets for the hook-based checks of Chapter 3."""
    generator = torch.Generator().manual_seed(3)
    torch.manual_seed(11)
    inplace = nn.Sequential(nn.Linear(5, 6), nn.ReLU(inplace=True), nn.Linear(6, 6), nn.ReLU(inplace=True),
                            nn.Linear(6, 2))
    nested = nn.Sequential(nn.Sequential(nn.Linear(4, 7), nn.ReLU()), nn.Linear(7, 3))
    models = [
        ("networks.mlp([8, 16, 16, 4])", networks.mlp([8, 16, 16, 4], seed=1), 8, 4),
        ("an MLP with ReLU(inplace=True)", inplace, 5, 2),
        ("a nested nn.Sequential", nested, 4, 3),
        ("networks.mlp([3, 5, 5, 5, 1], activation='sigmoid')",
         networks.mlp([3, 5, 5, 5, 1], activation="sigmoid", seed=2), 3, 1),
    ]
    return [
        (name, model, torch.randn(32, width_in, generator=generator), torch.randn(32, width_out, generator=generator))
        for name, model, width_in, width_out in models
    ]


def _hooks_left(model: nn.Module) -> int:
    count = 0
    for module in model.modules():
        for attribute in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks"):
            count += len(getattr(module, attribute, {}) or {})
    return count


def _parameters_unchanged(model: nn.Module, before: dict[str, torch.Tensor]) -> bool:
    after = model.state_dict()
    return after.keys() == before.keys() and all(torch.equal(after[key], before[key]) for key in before)


def _snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {key: value.detach().clone() for key, value in model.state_dict().items()}


def _rms_reference(model: nn.Module, inputs: torch.Tensor) -> list[float]:
    values: list[float] = []

    def record(module: nn.Module, layer_inputs: tuple, output: torch.Tensor) -> None:
        values.append(output.detach().double().pow(2).mean().sqrt().item())

    handles = [m.register_forward_hook(record) for m in model.modules() if isinstance(m, nn.Linear)]
    try:
        with torch.no_grad():
            model(inputs)
    finally:
        for handle in handles:
            handle.remove()
    return values


def rms_per_layer(function: Callable[[nn.Module, torch.Tensor], list]) -> bool:
    """Check a per-layer measurement of the activation scale, taken with forward hooks.

    The task: ``rms_per_layer(model, inputs)`` returns a list with, for every
    ``nn.Linear`` in ``model.modules()`` order, the root mean square sqrt(mean(z²)) of
    its output z on ``inputs``, as floats. It must leave no hooks on the model and must
    not change its parameters; it must work when an in-place ReLU follows a layer.

    Parameters
    ----------
    function : callable
        ``function(model, inputs)``.

    Returns
    -------
    bool
    """

    def body() -> str:
        _require_callable(function)
        cases = _layer_models()
        for name, model, inputs, _ in cases:
            where = f"for {name} on inputs of shape {tuple(inputs.shape)}"
            twin, before = copy.deepcopy(model), _snapshot(model)
            result = _call(function, model, inputs.clone(), where=where)
            _check_model_left_alone(model, before, where)
            expected = _rms_reference(twin, inputs)
            values = _as_list(result, len(expected), where, "numbers")
            for index, (value, want) in enumerate(zip(values, expected)):
                got = _as_float(value, f"for Linear layer {index} {where}", "a float")
                if not _close(got, want, 1e-4):
                    hint = ("if you kept the output tensor and measured it later, an in-place ReLU had "
                            "already overwritten it: compute the number inside the hook (or keep "
                            "output.detach().clone())." if "inplace" in name else
                            "the root mean square of z is z.pow(2).mean().sqrt(), over the whole batch.")
                    raise _Failed(f"Linear layer {index} {where}: expected {want:.6g}, got {got:.6g}. Hint: {hint}")
        return f"all {len(cases)} hidden models passed (in-place ReLU, nested Sequential, sigmoid), no hooks left."

    return _run("rms_per_layer", body)


def _check_model_left_alone(model: nn.Module, before: dict[str, torch.Tensor], where: str) -> None:
    left = _hooks_left(model)
    if left:
        raise _Failed(f"left {left} hook(s) on the model {where}: keep the handles that register_*_hook "
                      "returns and call handle.remove() on each (in a finally: block).")
    if not _parameters_unchanged(model, before):
        raise _Failed(f"changed the model's parameters {where}; a measurement must leave them as they were.")


def output_gradient_norms(function: Callable[[nn.Module, torch.Tensor, torch.Tensor], list]) -> bool:
    """Check per-layer gradient norms at the layers' outputs, taken with hooks.

    The task: ``output_gradient_norms(model, inputs, targets)`` does one forward pass,
    the mean squared error loss ``F.mse_loss(model(inputs), targets)`` and one backward
    pass, and returns, for every ``nn.Linear`` in ``model.modules()`` order, the
    Euclidean norm of d loss / d output of that layer, as floats. It leaves no hooks and
    does not change the parameters.

    Parameters
    ----------
    function : callable
        ``function(model, inputs, targets)``.

    Returns
    -------
    bool
    """

    def body() -> str:
        _require_callable(function)
        cases = [case for case in _layer_models() if "inplace" not in case[0]]
        for name, model, inputs, targets in cases:
            where = f"for {name} on inputs of shape {tuple(inputs.shape)}"
            twin, before = copy.deepcopy(model), _snapshot(model)
            result = _call(function, model, inputs.clone(), targets.clone(), where=where)
            _check_model_left_alone(model, before, where)
            expected = [record.output for record in diagnostics.gradient_norms(twin, inputs, targets)]
            values = _as_list(result, len(expected), where, "numbers")
            for index, (value, want) in enumerate(zip(values, expected)):
                got = _as_float(value, f"for Linear layer {index} {where}", "a float")
                if not _close(got, want, 1e-4, 1e-12):
                    raise _Failed(
                        f"Linear layer {index} {where}: expected {want:.6g}, got {got:.6g}. Hint: use the mean "
                        "squared error F.mse_loss(model(inputs), targets), and measure the gradient of the "
                        "layer's output (a tensor hook registered in a forward hook), not of its weight."
                    )
        return f"all {len(cases)} hidden models passed (nested Sequential, sigmoid), no hooks left."

    return _run("output_gradient_norms", body)


# --------------------------------------------------------------------------- Chapter 4


def _leaky_relu_hint(x: float, parameters: dict[str, float]) -> str:
    slope = parameters.get("negative_slope", 0.01)
    default = "" if "negative_slope" in parameters else " (the default negative_slope is 0.01)"
    if x > 0:
        return "for x > 0, leaky_relu(x) is x."
    return f"for x <= 0, leaky_relu(x) is negative_slope * x, here {_number(slope)} * x{default}."


def _leaky_relu_grad_hint(x: float, parameters: dict[str, float]) -> str:
    slope = parameters.get("negative_slope", 0.01)
    default = "" if "negative_slope" in parameters else " (the default negative_slope is 0.01)"
    if x > 0:
        return "the slope is 1 for x > 0."
    if x < 0:
        return f"the slope is negative_slope for x < 0, here {_number(slope)}{default}."
    return f"at x = 0 return negative_slope (here {_number(slope)}), as PyTorch's autograd does{default}."


_SLOPES = ({}, {"negative_slope": 0.2}, {"negative_slope": 0.0}, {"negative_slope": 1.0})
_LEAKY_RELU = _Elementwise("leaky_relu", activations.leaky_relu, parameters=_SLOPES, nan=True, hint=_leaky_relu_hint)
_LEAKY_RELU_GRAD = _Elementwise("leaky_relu_grad", activations.leaky_relu_grad, parameters=_SLOPES,
                                hint=_leaky_relu_grad_hint)


def leaky_relu(function: Callable[..., np.ndarray]) -> bool:
    """Check Leaky ReLU: x for x > 0, negative_slope * x for x <= 0 (default slope 0.01).

    The task: ``leaky_relu(x, negative_slope=0.01)`` for 0 <= negative_slope <= 1, any
    shape, floats out, NaN in gives NaN out, no Python loops, x left unchanged.

    Parameters
    ----------
    function : callable
        ``function(x)`` and ``function(x, negative_slope=...)``.

    Returns
    -------
    bool
    """
    return _run("leaky_relu", lambda: _check_elementwise(_LEAKY_RELU, function))


def leaky_relu_grad(function: Callable[..., np.ndarray]) -> bool:
    """Check the derivative of Leaky ReLU: 1 for x > 0, negative_slope for x <= 0.

    At x = 0 the value is ``negative_slope``, as PyTorch's autograd returns. Finite x.

    Parameters
    ----------
    function : callable
        ``function(x)`` and ``function(x, negative_slope=...)``.

    Returns
    -------
    bool
    """
    return _run("leaky_relu_grad", lambda: _check_elementwise(_LEAKY_RELU_GRAD, function))


def _elu_hint(x: float, parameters: dict[str, float]) -> str:
    alpha = parameters.get("alpha", 1.0)
    if x > 0:
        return "for x > 0, elu(x) is x."
    return f"for x <= 0, elu(x) is alpha * (exp(x) - 1), here alpha = {_number(alpha)}."


def _elu_grad_hint(x: float, parameters: dict[str, float]) -> str:
    alpha = parameters.get("alpha", 1.0)
    if x > 0:
        return "the slope is 1 for x > 0."
    if x < 0:
        return f"the slope is alpha * exp(x) for x < 0, here alpha = {_number(alpha)}."
    return (f"at x = 0 use the x <= 0 branch, alpha * exp(0) = alpha = {_number(alpha)}, the value PyTorch's "
            "autograd returns.")


_ALPHAS = ({}, {"alpha": 0.5}, {"alpha": 2.0})
_ELU = _Elementwise("elu", activations.elu, parameters=_ALPHAS, nan=True, hint=_elu_hint)
_ELU_GRAD = _Elementwise("elu_grad", activations.elu_grad, parameters=_ALPHAS, hint=_elu_grad_hint)


def elu(function: Callable[..., np.ndarray]) -> bool:
    """Check ELU: x for x > 0 and alpha * (exp(x) - 1) for x <= 0 (default alpha 1.0).

    Any shape, floats out, NaN in gives NaN out, large abs(x) without overflow to NaN, no
    Python loops, x left unchanged.

    Parameters
    ----------
    function : callable
        ``function(x)`` and ``function(x, alpha=...)``.

    Returns
    -------
    bool
    """
    return _run("elu", lambda: _check_elementwise(_ELU, function))


def elu_grad(function: Callable[..., np.ndarray]) -> bool:
    """Check the derivative of ELU: 1 for x > 0, alpha * exp(x) for x <= 0 (alpha at 0).

    Parameters
    ----------
    function : callable
        ``function(x)`` and ``function(x, alpha=...)``.

    Returns
    -------
    bool
    """
    return _run("elu_grad", lambda: _check_elementwise(_ELU_GRAD, function))


def _gelu_tanh_expected(x: np.ndarray) -> np.ndarray:
    return activations.gelu(x, approximate="tanh")


def _gelu_tanh_grad_expected(x: np.ndarray) -> np.ndarray:
    return activations.gelu_grad(x, approximate="tanh")


def _gelu_tanh_hint(x: float, parameters: dict[str, float]) -> str:
    return "gelu(x) = x / 2 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3)))."


def _gelu_tanh_grad_hint(x: float, parameters: dict[str, float]) -> str:
    return ("with u = sqrt(2 / pi) * (x + 0.044715 x³) and t = tanh(u), the product and chain rules give "
            "(1 + t) / 2 + x / 2 * (1 - t²) * sqrt(2 / pi) * (1 + 3 * 0.044715 x²).")


_GELU_TANH = _Elementwise("gelu_tanh", _gelu_tanh_expected, nan=True, hint=_gelu_tanh_hint)
_GELU_TANH_GRAD = _Elementwise("gelu_tanh_grad", _gelu_tanh_grad_expected, large=(30.0, 1e3),
                               hint=_gelu_tanh_grad_hint)


def gelu_tanh(function: Callable[[np.ndarray], np.ndarray]) -> bool:
    """Check GELU in its tanh form, x / 2 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x³))).

    Any shape, floats out, NaN in gives NaN out, finite x up to ±1e300, no Python loops.

    Parameters
    ----------
    function : callable
        ``function(x)``.

    Returns
    -------
    bool
    """
    return _run("gelu_tanh", lambda: _check_elementwise(_GELU_TANH, function))


def gelu_tanh_grad(function: Callable[[np.ndarray], np.ndarray]) -> bool:
    """Check the derivative of the tanh form of GELU, for abs(x) up to 1000.

    Parameters
    ----------
    function : callable
        ``function(x)``.

    Returns
    -------
    bool
    """
    return _run("gelu_tanh_grad", lambda: _check_elementwise(_GELU_TANH_GRAD, function))


def _silu_hint(x: float, parameters: dict[str, float]) -> str:
    return "silu(x) = x * sigmoid(x) = x / (1 + exp(-x))."


def _silu_grad_hint(x: float, parameters: dict[str, float]) -> str:
    return "with s = sigmoid(x), silu'(x) = s * (1 + x * (1 - s))."


_SILU = _Elementwise("silu", activations.silu, nan=True, hint=_silu_hint)
_SILU_GRAD = _Elementwise("silu_grad", activations.silu_grad, hint=_silu_grad_hint)


def silu(function: Callable[[np.ndarray], np.ndarray]) -> bool:
    """Check SiLU (Swish with beta = 1): x * sigmoid(x).

    Any shape, floats out, NaN in gives NaN out, large abs(x) (±1000, ±1e300) without
    NaN from overflow, no Python loops.

    Parameters
    ----------
    function : callable
        ``function(x)``.

    Returns
    -------
    bool
    """
    return _run("silu", lambda: _check_elementwise(_SILU, function))


def silu_grad(function: Callable[[np.ndarray], np.ndarray]) -> bool:
    """Check the derivative of SiLU, s * (1 + x * (1 - s)) with s = sigmoid(x).

    Parameters
    ----------
    function : callable
        ``function(x)``.

    Returns
    -------
    bool
    """
    return _run("silu_grad", lambda: _check_elementwise(_SILU_GRAD, function))


def prelu(module_class: type) -> bool:
    """Check a PReLU module: max(0, x) + a * min(0, x) with a learnable slope a.

    The task: ``PReLU(num_parameters=1, init=0.25)`` is an ``nn.Module`` with one
    parameter, ``weight``, of shape (num_parameters,) filled with ``init``. With one
    parameter the slope is shared by every entry of an input of any shape; with C
    parameters, input of shape (N, C, ...) uses slope ``weight[c]`` for channel c
    (dimension 1). Values and gradients (for the input and for ``weight``) must match
    ``torch.nn.functional.prelu``, and the input must not be modified.

    Parameters
    ----------
    module_class : type
        The class (not an instance).

    Returns
    -------
    bool
    """

    def body() -> str:
        if module_class is None:
            raise _NotYet("the answer is still None")
        if not (isinstance(module_class, type) and issubclass(module_class, nn.Module)):
            raise _Failed(f"expected a subclass of torch.nn.Module (the class itself), got {_kind(module_class)}.")
        generator = torch.Generator().manual_seed(5)
        configurations = [({}, 1, 0.25, [(7,), (4, 3), (2, 3, 4, 4)]),
                          ({"num_parameters": 3, "init": 0.1}, 3, 0.1, [(4, 3), (2, 3, 4, 4)])]
        checked = 0
        for arguments, count, init, shapes in configurations:
            described = f"PReLU({_show_parameters(arguments)})"
            module = _call(module_class, where=f"when creating {described}", **arguments)
            weight = _prelu_weight(module, described, count, init)
            with torch.no_grad():
                weight.copy_(torch.linspace(-0.2, 0.3, count))  # distinct slopes, one of them negative
            for shape in shapes:
                _check_prelu_on(module, weight, torch.randn(shape, generator=generator) * 2, described)
                checked += 1
        return f"all {checked} hidden cases passed (parameter, 1-D to 4-D inputs, per-channel slopes, gradients)."

    return _run("prelu", body)


def _prelu_weight(module: object, described: str, count: int, init: float) -> torch.Tensor:
    if not isinstance(module, nn.Module):
        raise _Failed(f"{described} is {_kind(module)}, not an nn.Module.")
    parameters = list(module.named_parameters())
    if not parameters:
        raise _Failed(f"{described} has no parameters: make the slope an nn.Parameter, so an optimizer "
                      "can learn it.")
    if len(parameters) != 1 or parameters[0][0] != "weight":
        names = ", ".join(name for name, _ in parameters)
        raise _Failed(f"{described} has parameters ({names}); expected exactly one, named weight.")
    weight = parameters[0][1]
    if tuple(weight.shape) != (count,):
        raise _Failed(f"{described}.weight has shape {tuple(weight.shape)}; expected ({count},).")
    if not torch.allclose(weight.detach().double(), torch.full((count,), init, dtype=torch.float64)):
        raise _Failed(f"{described}.weight starts at {weight.detach().tolist()}; expected every entry {init}.")
    return weight


def _check_prelu_on(module: nn.Module, weight: torch.Tensor, x: torch.Tensor, described: str) -> None:
    where = f"for {described} on an input of shape {tuple(x.shape)}"
    given = x.clone().requires_grad_(True)
    pristine = x.clone()
    module.zero_grad(set_to_none=True)
    try:
        output = _call(module, given, where=where)
    except _Failed as failure:
        if weight.numel() > 1 and x.dim() > 2:
            raise _Failed(f"{failure} Hint: channel c is dimension 1, so reshape weight to (1, C, 1, ...) "
                          "before multiplying; it then broadcasts over the other dimensions.") from None
        raise
    if not isinstance(output, torch.Tensor):
        raise _Failed(f"forward returned {_kind(output)} {where}; expected a tensor.")
    if tuple(output.shape) != tuple(x.shape):
        raise _Failed(f"forward returned shape {tuple(output.shape)} {where}; expected {tuple(x.shape)}.")
    if not torch.equal(given.detach(), pristine):
        raise _Failed(f"forward changed its input {where}; compute a new tensor.")
    slopes = weight.detach().clone().requires_grad_(True)
    reference_input = x.clone().requires_grad_(True)
    expected = F.prelu(reference_input, slopes)
    if not torch.allclose(output.detach(), expected.detach(), rtol=1e-5, atol=1e-6):
        index = tuple(int(i) for i in torch.nonzero(~torch.isclose(output.detach(), expected.detach(),
                                                                     rtol=1e-5, atol=1e-6))[0])
        raise _Failed(
            f"wrong output {where} at index {index}: x = {x[index].item():.4g}, expected "
            f"{expected[index].item():.4g}, got {output[index].item():.4g}. Hint: with C parameters, channel c "
            "(dimension 1) uses weight[c]: reshape the weight to (1, C, 1, ...) so it broadcasts."
        )
    upstream = torch.linspace(-1.0, 1.0, x.numel()).reshape(x.shape)
    if not output.requires_grad:
        raise _Failed(f"the output does not require grad {where}: autograd cannot reach weight or x "
                      "(did you use .detach(), .item() or NumPy inside forward?).")
    try:
        (output * upstream).sum().backward()
    except Exception as error:  # noqa: BLE001
        raise _Failed(f"backward failed {where}: {_error_text(error)}") from None
    (expected * upstream).sum().backward()
    for name, got, want in [("x", given.grad, reference_input.grad), ("weight", weight.grad, slopes.grad)]:
        if got is None or not torch.allclose(got, want, rtol=1e-4, atol=1e-5):
            raise _Failed(f"wrong gradient for {name} {where}. Hint: build the output from weight with torch "
                          "operations only, so autograd can differentiate it.")


# --------------------------------------------------------------------------- Chapter 5


def _network_with_dead_units(sizes: Sequence[int], dead: dict[int, Sequence[int]], seed: int,
                             inplace: bool = False) -> nn.Sequential:
    """networks.mlp with the given units (Linear index -> units) made dead by a bias of -50."""
    model = networks.mlp(sizes, init="he", seed=seed)
    linears = [module for module in model if isinstance(module, nn.Linear)]
    with torch.no_grad():
        for layer, units in dead.items():
            linears[layer].bias[list(units)] = -50.0
    if inplace:
        for index, module in enumerate(model):
            if isinstance(module, nn.ReLU):
                model[index] = nn.ReLU(inplace=True)
    return model


def _dead_unit_models() -> list[tuple[str, nn.Module, torch.Tensor]]:
    generator = torch.Generator().manual_seed(8)
    known = nn.Linear(2, 3)
    with torch.no_grad():
        known.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]]))
        known.bias.copy_(torch.tensor([0.0, -5.0, 0.0]))
    inputs_2d = torch.tensor([[1.0, 1.0], [-1.0, 3.0], [2.0, -3.0], [-2.0, -1.0]])
    return [
        ("a 2-3-1 network with one dead unit", nn.Sequential(known, nn.ReLU(), nn.Linear(3, 1)), inputs_2d),
        ("the same network on its last two inputs only (unit 2 is off for both)",
         nn.Sequential(copy.deepcopy(known), nn.ReLU(), nn.Linear(3, 1)), inputs_2d[2:]),
        ("an MLP 3-6-6-2 with three units killed", _network_with_dead_units([3, 6, 6, 2], {0: [0, 4], 1: [2]}, 4),
         torch.randn(50, 3, generator=generator)),
        ("the same MLP with ReLU(inplace=True)",
         _network_with_dead_units([3, 6, 6, 2], {0: [0, 4], 1: [2]}, 4, inplace=True),
         torch.randn(50, 3, generator=generator)),
        ("an MLP 2-5-5-5-1 with a whole layer dead", _network_with_dead_units([2, 5, 5, 5, 1], {1: range(5)}, 6),
         torch.randn(40, 2, generator=generator)),
    ]


def _dead_counts_reference(model: nn.Module, inputs: torch.Tensor) -> list[int]:
    return [report.dead for report in diagnostics.dead_units(copy.deepcopy(model), inputs)]


def dead_unit_counts(function: Callable[[nn.Module, torch.Tensor], list]) -> bool:
    """Check a dead-unit detector built with forward hooks.

    The task: ``dead_unit_counts(model, inputs)`` returns, for every ``nn.ReLU`` module
    in ``model.modules()`` order, the number of its units (features) whose output is 0
    for every row of ``inputs``, as ints. It leaves no hooks on the model, does not
    change its parameters, and works with ``ReLU(inplace=True)``.

    Parameters
    ----------
    function : callable
        ``function(model, inputs)``.

    Returns
    -------
    bool
    """

    def body() -> str:
        _require_callable(function)
        cases = _dead_unit_models()
        for name, model, inputs in cases:
            where = f"for {name}"
            expected = _dead_counts_reference(model, inputs)
            before = _snapshot(model)
            result = _call(function, model, inputs.clone(), where=where)
            _check_model_left_alone(model, before, where)
            values = _as_list(result, len(expected), where, "counts")
            got = [_as_whole_number(value, f"for ReLU layer {index} {where}") for index, value in enumerate(values)]
            if got != expected:
                raise _Failed(f"{where} expected dead units per ReLU layer {expected}, got {got}. Hint: a unit "
                              "is dead when its output is 0 for every row: (output == 0).all(dim=0), summed.")
        return f"all {len(cases)} hidden networks passed (known units, killed units, in-place ReLU), no hooks left."

    return _run("dead_unit_counts", body)


def _born_dead_reference(depth: int, width: int, inputs: torch.Tensor, seeds: Sequence[int]) -> float:
    born_dead = 0
    for seed in seeds:
        model = networks.mlp([inputs.shape[1]] + [width] * depth + [1], seed=seed)
        reports = diagnostics.dead_units(model, inputs)
        born_dead += any(report.dead == report.units for report in reports)
    return born_dead / len(seeds)


def born_dead_fraction(function: Callable[..., float]) -> bool:
    """Check the measured fraction of deep, narrow ReLU networks that are dead at initialization.

    The task: ``born_dead_fraction(depth, width, inputs, seeds)`` builds, for each seed,
    ``networks.mlp([inputs.shape[1]] + [width] * depth + [1], seed=seed)`` (PyTorch's
    default initialization), calls it born dead when some ReLU layer has every unit dead
    on ``inputs``, and returns the fraction of seeds that gave a born-dead network, as a
    float. The expected values are computed with :func:`relu_course.diagnostics.dead_units`.

    Parameters
    ----------
    function : callable
        ``function(depth, width, inputs, seeds)``.

    Returns
    -------
    bool
    """
    generator = torch.Generator().manual_seed(9)
    line = torch.linspace(-3.0, 3.0, 101).reshape(-1, 1)
    cases = [(3, 2, line, range(12)), (1, 3, line, range(6)), (5, 2, torch.randn(50, 2, generator=generator),
                                                                  range(5, 17))]

    def body() -> str:
        _require_callable(function)
        for depth, width, inputs, seeds in cases:
            where = (f"for depth={depth}, width={width}, inputs of shape {tuple(inputs.shape)}, "
                     f"seeds=range({seeds.start}, {seeds.stop})")
            got = _as_float(_call(function, depth, width, inputs.clone(), seeds, where=where), where, "a fraction")
            want = _born_dead_reference(depth, width, inputs, seeds)
            if not _close(got, want, 0.0, 1e-12):
                raise _Failed(
                    f"{where} expected {_number(want)}, got {_number(got)}. Hint: build each network with "
                    "networks.mlp([inputs.shape[1]] + [width] * depth + [1], seed=seed), call it born dead "
                    "when some layer's dead count equals its width, and divide by the number of seeds."
                )
        return f"all {len(cases)} hidden measurements agree with relu_course.diagnostics."

    return _run("born_dead_fraction", body)


def _relu_linear_pairs(model: nn.Sequential) -> list[tuple[nn.Linear, nn.Linear]]:
    """(layer before a ReLU, layer after it) for an MLP Linear, ReLU, Linear, ..."""
    linears = [module for module in model if isinstance(module, nn.Linear)]
    return list(zip(linears[:-1], linears[1:]))


def revive(function: Callable[..., int]) -> bool:
    """Check a function-preserving revival of dead ReLU units.

    The task: ``revive(model, inputs, seed=0)`` takes an MLP (Linear, ReLU, ...,
    Linear), finds every unit that is dead on ``inputs`` (all layers measured before
    anything changes), and for each one redraws its incoming weights from
    N(0, 2 / fan_in) with a ``torch.Generator`` seeded with ``seed``, sets its bias to 0
    and sets its outgoing weights (its column in the next Linear) to 0; every other
    number stays as it was. It returns the number of revived units. So the network's
    output does not change, and fewer units are dead afterwards.

    Parameters
    ----------
    function : callable
        ``function(model, inputs)`` and ``function(model, inputs, seed=...)``.

    Returns
    -------
    bool
    """
    generator = torch.Generator().manual_seed(12)
    killed_in = {"2-8-8-1": {0: [0, 3, 5], 1: [1, 2]}, "3-6-6-6-2": {0: [1], 1: [0, 5], 2: [3]}, "2-4-4-1": {}}
    cases = [
        ("an MLP 2-8-8-1 with units killed in both hidden layers",
         _network_with_dead_units([2, 8, 8, 1], killed_in["2-8-8-1"], 3), torch.randn(64, 2, generator=generator)),
        ("an MLP 3-6-6-6-2 with units killed in every layer",
         _network_with_dead_units([3, 6, 6, 6, 2], killed_in["3-6-6-6-2"], 5), torch.randn(64, 3, generator=generator)),
        ("an MLP 2-4-4-1 with no dead unit",
         _network_with_dead_units([2, 4, 4, 1], killed_in["2-4-4-1"], 2), torch.randn(64, 2, generator=generator)),
    ]

    def body() -> str:
        _require_callable(function)
        for name, model, inputs in cases:
            _check_revive_case(function, name, model, inputs)
        return f"all {len(cases)} hidden networks revived correctly (output unchanged, live units untouched)."

    return _run("revive", body)


def _check_revive_case(function: Callable[..., Any], name: str, model: nn.Sequential, inputs: torch.Tensor) -> None:
    where = f"for {name}"
    with torch.no_grad():
        output_before = model(inputs).clone()
    dead_masks = _dead_masks(model, inputs)
    dead_before = sum(int(mask.sum()) for mask in dead_masks)
    before = _snapshot(model)
    twin = copy.deepcopy(model)
    result = _call(function, model, inputs.clone(), where=where)
    revived = _as_whole_number(result, where, "the number of revived units")
    if _hooks_left(model):
        raise _Failed(f"left hook(s) on the model {where}; remove them with handle.remove().")
    if revived != dead_before:
        raise _Failed(f"{where} returned {revived}; expected {dead_before}, the number of units dead on the inputs "
                      "before any change (find them in every layer first, then change the weights).")
    with torch.no_grad():
        output_after = model(inputs)
    linear_names = [str(i) for i, module in enumerate(model) if isinstance(module, nn.Linear)]
    linears = [model[int(name)] for name in linear_names]
    for index, (name, layer) in enumerate(zip(linear_names, linears)):
        own = dead_masks[index] if index < len(dead_masks) else torch.zeros(layer.out_features, dtype=torch.bool)
        previous = dead_masks[index - 1] if index > 0 else torch.zeros(layer.in_features, dtype=torch.bool)
        _check_revived_layer(layer, before[f"{name}.weight"], before[f"{name}.bias"], own, previous,
                             f"{where}, Linear layer {index}")
    if not torch.allclose(output_after, output_before, atol=1e-6):
        raise _Failed(f"{where} the network's output changed after revival; it must stay the same.")
    if dead_before and sum(int(mask.sum()) for mask in _dead_masks(model, inputs)) >= dead_before:
        raise _Failed(f"{where} as many units are dead after revival as before.")
    _call(function, twin, inputs.clone(), seed=0, where=f"{where} (second call, seed=0)")
    if any(not torch.equal(a, b) for a, b in zip(model.state_dict().values(), twin.state_dict().values())):
        raise _Failed(f"{where} two calls with the same seed gave different weights: draw them from "
                      "torch.Generator().manual_seed(seed).")


def _check_revived_layer(layer: nn.Linear, old_weight: torch.Tensor, old_bias: torch.Tensor, own: torch.Tensor,
                         previous: torch.Tensor, where: str) -> None:
    """Rows of dead units (own) redrawn with bias 0; columns of revived inputs (previous) 0; the rest as before."""
    weight, bias = layer.weight.detach(), layer.bias.detach()
    live = ~own
    if not torch.equal(weight[live][:, ~previous], old_weight[live][:, ~previous]) or not torch.equal(
            bias[live], old_bias[live]):
        raise _Failed(f"{where}: a weight or bias of a live unit changed; change only the dead units' incoming "
                      "weights and biases, and their outgoing weights.")
    if previous.any() and not torch.equal(weight[live][:, previous], torch.zeros_like(weight[live][:, previous])):
        raise _Failed(f"{where}: the outgoing weights of revived units (their columns in this layer) are not 0; "
                      "set them to 0 so that the network's output does not change.")
    if own.any():
        if not torch.equal(bias[own], torch.zeros_like(bias[own])):
            raise _Failed(f"{where}: a revived unit has a nonzero bias; set it to 0.")
        rows = weight[own]
        if torch.equal(rows, old_weight[own]) or (rows == 0).all(dim=1).any():
            raise _Failed(f"{where}: the incoming weights of the dead units were not redrawn (draw them from "
                          "N(0, 2 / fan_in)).")


def _dead_masks(model: nn.Sequential, inputs: torch.Tensor) -> list[torch.Tensor]:
    """For each ReLU layer, which units are <= 0 before the ReLU for every input."""
    masks = []
    activation = inputs
    with torch.no_grad():
        for module in model:
            activation = module(activation)
            if isinstance(module, nn.Linear) and len(masks) < len(_relu_linear_pairs(model)):
                masks.append((activation <= 0).all(dim=0))
    return masks
