"""A small, honest CPU benchmark: repeats, medians, forward and backward, a copy baseline.

Timings vary from run to run and from machine to machine. These helpers make them as
fair as a few lines can:

* all operations are first run a few times untimed, in turn (``warmup`` rounds), so that
  one-off costs are not timed: lazy initialization, and above all fresh memory, which
  the operating system hands out page by page on first touch, much more slowly than a
  program reuses memory it already has;
* then each operation is run once more untimed and timed several times in a row: each
  run reuses the memory the previous run freed, as it would in a training loop;
* the result keeps every repeat; report the median, which a few slow repeats (another
  program taking the CPU for a moment) cannot move.

A plain memory copy of a tensor of the same size is the baseline: an elementwise
activation reads its input and writes its output, exactly the bytes a copy moves. An
activation whose time is close to the copy's is limited by moving bytes, not by its
arithmetic.

Never print these numbers in a checked notebook cell without ``# NBVAL_IGNORE_OUTPUT``.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable, Mapping

import torch

from relu_course._validation import whole_number
from relu_course.tables import Table

__all__ = [
    "Timing",
    "activation_benchmark",
    "benchmark",
    "copy_call",
    "elementwise_bytes",
    "forward_backward_call",
    "forward_call",
    "timing_table",
]


@dataclass(frozen=True)
class Timing:
    """The measured durations of one operation.

    Attributes
    ----------
    name : str
        What was timed.
    seconds : tuple of float
        The wall-clock duration of every timed repeat, in order.
    """

    name: str
    seconds: tuple[float, ...]

    @property
    def median(self) -> float:
        """Median duration in seconds."""
        return statistics.median(self.seconds)

    @property
    def fastest(self) -> float:
        """Shortest duration in seconds."""
        return min(self.seconds)


def benchmark(calls: Mapping[str, Callable[[], object]], *, repeats: int = 5, warmup: int = 2) -> dict[str, Timing]:
    """Time several zero-argument calls.

    First ``warmup`` untimed rounds, each running every call once, in order. Then, for
    each call in turn: one untimed run, and ``repeats`` runs in a row, each timed with
    ``time.perf_counter``.

    Parameters
    ----------
    calls : mapping of name -> callable
        The operations, each taking no argument.
    repeats : int, default 5
        Timed runs of each call, >= 1.
    warmup : int, default 2
        Untimed rounds over all the calls before any timing, >= 0.

    Returns
    -------
    dict of name -> Timing
        In the order of ``calls``.
    """
    repeats = whole_number(repeats, "repeats", minimum=1)
    warmup = whole_number(warmup, "warmup", minimum=0)
    if not isinstance(calls, Mapping) or not calls:
        raise TypeError("calls must be a non-empty mapping of name -> callable.")
    for name, call in calls.items():
        if not callable(call):
            raise TypeError(f"calls[{name!r}] must be callable, got {type(call).__name__}.")
    for _ in range(warmup):
        for call in calls.values():
            call()
    return {name: Timing(name, _time_repeats(call, repeats)) for name, call in calls.items()}


def _time_repeats(call: Callable[[], object], repeats: int) -> tuple[float, ...]:
    call()  # untimed: the memory this call needs is now at hand
    durations = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        durations.append(time.perf_counter() - start)
    return tuple(durations)


def forward_call(function: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> Callable[[], torch.Tensor]:
    """A call that computes ``function(x)`` without recording gradients: the forward pass."""
    _check_tensor(x)

    def forward() -> torch.Tensor:
        with torch.no_grad():
            return function(x)

    return forward


def forward_backward_call(
    function: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor
) -> Callable[[], torch.Tensor]:
    """A call that computes y = function(x) and the gradient dL/dx for dL/dy = 1.

    The gradient is returned by ``torch.autograd.grad`` (nothing accumulates in
    ``x.grad``), so every run does the same work: one forward pass that records what
    backward needs, and one backward pass.
    """
    _check_tensor(x)
    leaf = x.detach().clone().requires_grad_(True)
    upstream = torch.ones_like(leaf)

    def forward_backward() -> torch.Tensor:
        (gradient,) = torch.autograd.grad(function(leaf), leaf, upstream)
        return gradient

    return forward_backward


def copy_call(x: torch.Tensor) -> Callable[[], torch.Tensor]:
    """A call that copies ``x`` into a new tensor (``x.clone()``): the baseline.

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
    repeats: int = 5,
    warmup: int = 2,
) -> dict[str, Timing]:
    """Time a copy of ``x``, then each activation's forward, and forward plus backward.

    Parameters
    ----------
    activations : mapping of name -> function
        Elementwise functions of a tensor, e.g. ``{"relu": torch.relu}``.
    x : Tensor
        The input, e.g. a few million float32 numbers.
    repeats, warmup : int
        As for ``benchmark``.

    Returns
    -------
    dict of name -> Timing
        Keys ``"copy"``, then ``"<name> forward"`` for every activation, then
        ``"<name> forward + backward"`` for every activation.
    """
    calls: dict[str, Callable[[], object]] = {"copy": copy_call(x)}
    for name, function in activations.items():
        calls[f"{name} forward"] = forward_call(function, x)
    for name, function in activations.items():
        calls[f"{name} forward + backward"] = forward_backward_call(function, x)
    return benchmark(calls, repeats=repeats, warmup=warmup)


def timing_table(timings: Mapping[str, Timing], *, baseline: str = "copy") -> Table:
    """Tabulate timings in milliseconds, and relative to a baseline.

    The median is robust to a few slow repeats. On a busy machine, other programs can
    slow down most repeats of an operation; the fastest repeat is then the better
    estimate of what the operation itself costs. The table gives both, each divided
    by the same statistic of the baseline.

    Parameters
    ----------
    timings : mapping of name -> Timing
        E.g. the result of ``benchmark`` or ``activation_benchmark``.
    baseline : str, default "copy"
        The key of the timing the last two columns divide by.

    Returns
    -------
    Table
        Columns: operation, median (ms), fastest (ms), median / baseline's median,
        fastest / baseline's fastest.
    """
    if baseline not in timings:
        raise ValueError(f"baseline {baseline!r} is not one of the timings: {', '.join(timings)}.")
    reference = timings[baseline]
    rows = [
        [name, 1e3 * t.median, 1e3 * t.fastest, t.median / reference.median, t.fastest / reference.fastest]
        for name, t in timings.items()
    ]
    header = ["operation", "median (ms)", "fastest (ms)", f"median / {baseline}", f"fastest / {baseline}"]
    return Table(header, rows, digits=3)


def _check_tensor(x: object) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}.")
