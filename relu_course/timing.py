"""Time elementwise operations against a copy baseline, with ``torch.utils.benchmark``.

Each operation is a zero-argument call, timed on its own:

* first it runs ``warmup`` times, untimed, so that one-off costs are not timed: lazy
  initialization, and above all fresh memory, which the operating system hands out page
  by page on first touch, much more slowly than a program reuses memory it already has.
  An operation that allocates several large tensors, such as a backward pass, can take
  several runs to settle;
* then ``torch.utils.benchmark.Timer``'s ``blocked_autorange`` runs it untimed in blocks
  of 1, 10, 100, ... calls until a block takes long enough that reading the clock costs
  nothing next to it (its own warm-up, as short as a single call for a slow operation);
* and times blocks of that size, one after another, until ``min_run_time`` seconds are
  spent, dividing each block's time by its number of calls. Each run reuses the memory
  the previous one freed, as in a training loop.

The result is a ``torch.utils.benchmark.Measurement``: ``.times`` (seconds per call, one
per block), ``.median`` and ``.iqr``. The ``Timer`` runs with the number of threads
PyTorch uses when the benchmark starts (``torch.set_num_threads``), and on a GPU it
waits for the GPU to finish before it reads the clock.

A plain memory copy of a tensor of the same size is the baseline: an elementwise
activation reads its input and writes its output, exactly the bytes a copy moves. An
activation whose time is close to the copy's is limited by moving bytes, not by its
arithmetic.

Never print these numbers in a checked notebook cell without ``# NBVAL_IGNORE_OUTPUT``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from torch.utils.benchmark import Measurement, Timer

from relu_course._validation import positive_number, whole_number
from relu_course.tables import Table

__all__ = [
    "activation_benchmark",
    "benchmark",
    "copy_call",
    "default_device",
    "elementwise_bytes",
    "forward_backward_call",
    "forward_call",
    "timing_table",
]


def default_device() -> str:
    """``"cuda"`` when PyTorch sees a CUDA GPU, ``"cpu"`` otherwise: where benchmarks run by default."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def benchmark(
    calls: Mapping[str, Callable[[], object]], *, min_run_time: float = 0.05, warmup: int = 10
) -> dict[str, Measurement]:
    """Time several zero-argument calls, one ``Measurement`` each, in the order given.

    Each call in turn runs ``warmup`` times untimed, then is timed by
    ``Timer(...).blocked_autorange(min_run_time=min_run_time)`` (see the module's
    docstring), with the thread count ``torch.get_num_threads()`` returns now.

    Parameters
    ----------
    calls : mapping of name -> callable
        The operations, each taking no argument.
    min_run_time : float, default 0.05
        Seconds of timed runs per call, > 0. More gives more blocks and a steadier
        median; a call slower than this is timed in a single block.
    warmup : int, default 10
        Untimed runs of each call just before it is timed, >= 0.

    Returns
    -------
    dict of name -> torch.utils.benchmark.Measurement
        In the order of ``calls``; each measurement's ``label`` is its name.
    """
    min_run_time = positive_number(min_run_time, "min_run_time")
    warmup = whole_number(warmup, "warmup")
    if not isinstance(calls, Mapping) or not calls:
        raise TypeError("calls must be a non-empty mapping of name -> callable.")
    for name, call in calls.items():
        if not callable(call):
            raise TypeError(f"calls[{name!r}] must be callable, got {type(call).__name__}.")
    return {name: _measure(name, call, min_run_time, warmup) for name, call in calls.items()}


def _measure(name: str, call: Callable[[], object], min_run_time: float, warmup: int) -> Measurement:
    for _ in range(warmup):
        call()
    timer = Timer(stmt="call()", globals={"call": call}, label=str(name), num_threads=torch.get_num_threads())
    return timer.blocked_autorange(min_run_time=min_run_time)


def forward_call(function: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> Callable[[], torch.Tensor]:
    """A call that computes ``function(x)`` without recording gradients: the forward pass.

    The result has the shape ``function`` gives (that of ``x`` for an activation), on
    ``x``'s device.
    """
    _check_function(function)
    _check_tensor(x)

    def forward() -> torch.Tensor:
        with torch.no_grad():
            return function(x)

    return forward


def forward_backward_call(
    function: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor
) -> Callable[[], torch.Tensor]:
    """A call that computes y = function(x), of x's shape, and returns dL/dx for dL/dy = 1.

    The gradient comes from ``torch.autograd.grad`` on a detached copy of ``x``, so
    nothing accumulates in any ``.grad`` and every run does the same work: one forward
    pass that records what backward needs, and one backward pass.
    """
    _check_function(function)
    _check_tensor(x)
    leaf = x.detach().clone().requires_grad_(True)
    upstream = torch.ones_like(leaf)

    def forward_backward() -> torch.Tensor:
        (gradient,) = torch.autograd.grad(function(leaf), leaf, upstream)
        return gradient

    return forward_backward


def copy_call(x: torch.Tensor) -> Callable[[], torch.Tensor]:
    """A call that copies ``x`` into a new tensor of its shape (``x.clone()``): the baseline.

    It reads every number of ``x`` and writes it to a newly allocated tensor, as an
    out-of-place activation does, without any arithmetic.
    """
    _check_tensor(x)

    def copy() -> torch.Tensor:
        return x.clone()

    return copy


def elementwise_bytes(elements: int, *, reads: int = 1, writes: int = 1, bytes_per_element: int = 4) -> int:
    """Bytes an elementwise operation moves: (reads + writes) * elements * bytes_per_element.

    A forward activation or a copy reads one tensor and writes one (8 bytes per
    float32 element). ReLU's backward reads the upstream gradient and what it saved
    from the forward pass, and writes the gradient: 2 reads, 1 write.

    Parameters
    ----------
    elements : int
        Elements per tensor, >= 0.
    reads, writes : int
        Tensors read and written, >= 0.
    bytes_per_element : int, default 4
        4 for float32, 8 for float64.

    Returns
    -------
    int
    """
    elements = whole_number(elements, "elements")
    reads = whole_number(reads, "reads")
    writes = whole_number(writes, "writes")
    return (reads + writes) * elements * whole_number(bytes_per_element, "bytes_per_element", minimum=1)


def activation_benchmark(
    activations: Mapping[str, Callable[[torch.Tensor], torch.Tensor]],
    x: torch.Tensor,
    *,
    device: str | torch.device | None = None,
    min_run_time: float = 0.05,
    warmup: int = 10,
) -> dict[str, Measurement]:
    """Time a copy of ``x``, then each activation's forward, and forward plus backward.

    Parameters
    ----------
    activations : mapping of name -> function
        Elementwise functions of a tensor, e.g. ``{"relu": torch.relu}``.
    x : Tensor
        The input, of any shape, e.g. a few million float32 numbers.
    device : str or torch.device, optional
        Where to run: ``x`` is copied there first. Default: ``default_device()``,
        the GPU when PyTorch sees one.
    min_run_time, warmup
        As for ``benchmark``.

    Returns
    -------
    dict of name -> torch.utils.benchmark.Measurement
        Keys ``"copy"``, then ``"<name> forward"`` for every activation, then
        ``"<name> forward + backward"`` for every activation.
    """
    if not isinstance(activations, Mapping) or not activations:
        raise TypeError("activations must be a non-empty mapping of name -> function.")
    _check_tensor(x)
    x = x.to(_device(device))
    calls: dict[str, Callable[[], object]] = {"copy": copy_call(x)}
    for name, function in activations.items():
        calls[f"{name} forward"] = forward_call(function, x)
    for name, function in activations.items():
        calls[f"{name} forward + backward"] = forward_backward_call(function, x)
    return benchmark(calls, min_run_time=min_run_time, warmup=warmup)


def timing_table(timings: Mapping[str, Measurement], *, baseline: str = "copy") -> Table:
    """Tabulate measurements in milliseconds, and relative to a baseline.

    Each measurement holds one time per call for every timed block (the block's time
    divided by its number of calls). The table gives their median, which a few slow
    blocks (another program taking the processor for a moment) cannot move, and their
    interquartile range (IQR, the spread of the middle half of the blocks), which says
    how far to trust the median: when it is a sizeable fraction of the median, the
    machine was busy and the ratios are rough; over a single block it is 0 and says
    nothing. These are the statistics ``torch.utils.benchmark`` itself reports. The
    fastest block (``min(m.times)``) is left out: it measures the luckiest moment, not
    a typical run, and the IQR already shows whether the machine was quiet.

    Parameters
    ----------
    timings : mapping of name -> torch.utils.benchmark.Measurement
        E.g. the result of ``benchmark`` or ``activation_benchmark``.
    baseline : str, default "copy"
        The key of the measurement whose median the last column divides by.

    Returns
    -------
    Table
        One row per measurement, in order. Columns: operation, median (ms), IQR (ms),
        blocks x calls (how many blocks were timed, of how many calls each),
        median / baseline's median.
    """
    if not isinstance(timings, Mapping) or not timings:
        raise TypeError("timings must be a non-empty mapping of name -> Measurement.")
    for name, measurement in timings.items():
        if not isinstance(measurement, Measurement):
            raise TypeError(
                f"timings[{name!r}] must be a torch.utils.benchmark.Measurement, got {type(measurement).__name__}."
            )
    if baseline not in timings:
        raise ValueError(f"baseline {baseline!r} is not one of the timings: {', '.join(map(str, timings))}.")
    reference = timings[baseline].median
    rows = [
        [name, 1e3 * m.median, 1e3 * m.iqr, f"{len(m.times)} x {m.number_per_run}", m.median / reference]
        for name, m in timings.items()
    ]
    header = ["operation", "median (ms)", "IQR (ms)", "blocks x calls", f"median / {baseline}"]
    return Table(header, rows, digits=3)


def _device(device: object) -> torch.device:
    if device is None:
        return torch.device(default_device())
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"device must be 'cpu', 'cuda' or a torch.device, got {type(device).__name__}.")
    try:
        resolved = torch.device(device)
    except RuntimeError as error:
        raise ValueError(f"device {device!r} is not a device PyTorch knows: {error}") from error
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r}: PyTorch sees no CUDA GPU on this machine; use 'cpu'.")
    return resolved


def _check_function(function: object) -> None:
    if not callable(function):
        raise TypeError(f"function must be callable, got {type(function).__name__}.")


def _check_tensor(x: object) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}.")
