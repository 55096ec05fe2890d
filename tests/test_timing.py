"""The benchmark helper: what it runs, how often, in which order, and what it reports."""

from __future__ import annotations

import statistics
import time

import pytest
import torch

from relu_course import timing
from relu_course.tables import Table

X = torch.tensor([[-2.0, -0.5, 0.0], [0.5, 1.0, 3.0]])


def test_timing_median_and_fastest():
    record = timing.Timing("op", (0.3, 0.1, 0.2, 0.5))
    assert record.median == statistics.median([0.3, 0.1, 0.2, 0.5]) == 0.25
    assert record.fastest == 0.1


def test_benchmark_warms_up_in_rounds_then_times_each_call_in_a_block():
    log: list[str] = []
    calls = {"a": lambda: log.append("a"), "b": lambda: log.append("b")}
    results = timing.benchmark(calls, repeats=3, warmup=2)
    # Two warm-up rounds, then per call: one untimed run and three timed runs.
    assert log == ["a", "b", "a", "b"] + ["a"] * 4 + ["b"] * 4
    assert list(results) == ["a", "b"]
    assert all(len(record.seconds) == 3 and record.name == name for name, record in results.items())
    assert all(seconds >= 0 for record in results.values() for seconds in record.seconds)


def test_benchmark_measures_wall_clock_time():
    results = timing.benchmark({"sleep": lambda: time.sleep(0.01), "nothing": lambda: None}, repeats=3, warmup=0)
    assert results["sleep"].fastest >= 0.009
    assert results["nothing"].median < results["sleep"].median


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"calls": {}}, TypeError),
        ({"calls": {"a": 3}}, TypeError),
        ({"calls": {"a": lambda: None}, "repeats": 0}, ValueError),
        ({"calls": {"a": lambda: None}, "warmup": -1}, ValueError),
        ({"calls": {"a": lambda: None}, "repeats": 2.5}, TypeError),
    ],
)
def test_benchmark_rejects_bad_arguments(kwargs, error):
    with pytest.raises(error):
        timing.benchmark(**kwargs)


def test_forward_call_computes_the_function_without_a_graph():
    x = X.clone().requires_grad_(True)
    result = timing.forward_call(torch.relu, x)()
    assert torch.equal(result, torch.relu(X))
    assert not result.requires_grad


def test_forward_backward_call_returns_the_input_gradient_and_accumulates_nothing():
    x = X.clone()
    call = timing.forward_backward_call(torch.sigmoid, x)
    first, second = call(), call()
    reference = X.clone().requires_grad_(True)
    torch.sigmoid(reference).sum().backward()
    assert torch.allclose(first, reference.grad) and torch.equal(first, second)
    assert torch.equal(timing.forward_backward_call(torch.relu, x)(), (X > 0).float())
    assert x.grad is None and not x.requires_grad


def test_copy_call_returns_a_new_tensor_with_the_same_values():
    call = timing.copy_call(X)
    first, second = call(), call()
    assert torch.equal(first, X) and torch.equal(second, X)
    assert first.data_ptr() != X.data_ptr() and second is not first


@pytest.mark.parametrize("maker", [timing.forward_call, timing.forward_backward_call])
def test_calls_reject_non_tensors(maker):
    with pytest.raises(TypeError, match="torch.Tensor"):
        maker(torch.relu, [1.0, 2.0])
    with pytest.raises(TypeError, match="torch.Tensor"):
        timing.copy_call([1.0])


def test_elementwise_bytes():
    assert timing.elementwise_bytes(1000) == 8000
    assert timing.elementwise_bytes(1000, reads=2) == 12000
    assert timing.elementwise_bytes(10, reads=1, writes=1, bytes_per_element=8) == 160
    with pytest.raises(ValueError):
        timing.elementwise_bytes(-1)
    with pytest.raises(TypeError):
        timing.elementwise_bytes(10, reads=1.5)
    with pytest.raises(ValueError):
        timing.elementwise_bytes(10, bytes_per_element=0)


def test_activation_benchmark_names_and_order():
    results = timing.activation_benchmark({"relu": torch.relu, "tanh": torch.tanh}, X, repeats=2, warmup=0)
    assert list(results) == [
        "copy",
        "relu forward",
        "tanh forward",
        "relu forward + backward",
        "tanh forward + backward",
    ]
    assert all(len(record.seconds) == 2 for record in results.values())


def test_timing_table_divides_by_the_baseline():
    timings = {
        "copy": timing.Timing("copy", (0.002, 0.001, 0.003)),
        "op": timing.Timing("op", (0.004, 0.006, 0.005)),
    }
    table = timing.timing_table(timings)
    assert isinstance(table, Table)
    assert table.header == ["operation", "median (ms)", "fastest (ms)", "median / copy", "fastest / copy"]
    assert table.rows[0] == ["copy", "2.0", "1.0", "1.0", "1.0"]
    assert table.rows[1] == ["op", "5.0", "4.0", "2.5", "4.0"]
    with pytest.raises(ValueError, match="baseline 'memcpy'"):
        timing.timing_table(timings, baseline="memcpy")
