"""The benchmark helpers: which calls they build, what they run, on which device, and what they report."""

from __future__ import annotations

import time

import pytest
import torch
from torch.utils.benchmark import Measurement, TaskSpec

from relu_course import timing
from relu_course.tables import Table

X = torch.tensor([[-2.0, -0.5, 0.0], [0.5, 1.0, 3.0]])
QUICK = 0.005  # seconds of timed runs per call: enough to run, not to compare


def measurement(name: str, seconds: list[float], calls_per_block: int = 1) -> Measurement:
    """A Measurement built by hand: blocks of ``calls_per_block`` calls taking ``seconds`` each."""
    return Measurement(calls_per_block, seconds, TaskSpec(stmt="call()", setup="pass", label=name))


def test_default_device_is_the_gpu_when_pytorch_sees_one(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert timing.default_device() == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert timing.default_device() == "cpu"


def test_benchmark_runs_every_call_and_returns_one_measurement_each_in_order():
    counts = {"b": 0, "a": 0}

    def counter(name):
        def call():
            counts[name] += 1

        return call

    results = timing.benchmark({"b": counter("b"), "a": counter("a")}, min_run_time=QUICK, warmup=7)
    assert list(results) == ["b", "a"]
    for name, record in results.items():
        assert isinstance(record, Measurement) and record.label == name
        timed_calls = len(record.times) * record.number_per_run
        # 7 warm-up runs, at least one more while the Timer picks its block size, then the timed ones
        assert counts[name] >= 7 + 1 + timed_calls and timed_calls >= 1


def test_benchmark_warms_each_call_up_just_before_timing_it():
    log = []
    timing.benchmark({"a": lambda: log.append("a"), "b": lambda: log.append("b")}, min_run_time=QUICK, warmup=3)
    assert log[:3] == ["a"] * 3 and "a" not in log[log.index("b") :]


def test_benchmark_measures_wall_clock_time():
    results = timing.benchmark(
        {"sleep": lambda: time.sleep(0.01), "nothing": lambda: None}, min_run_time=0.03, warmup=0
    )
    assert min(results["sleep"].times) >= 0.009
    assert results["nothing"].median < results["sleep"].median


def test_benchmark_runs_with_the_thread_count_pytorch_uses_now():
    before = torch.get_num_threads()
    wanted = 2 if before != 2 else 3
    seen = []
    torch.set_num_threads(wanted)
    try:
        record = timing.benchmark({"threads": lambda: seen.append(torch.get_num_threads())}, min_run_time=QUICK)
    finally:
        torch.set_num_threads(before)
    assert set(seen) == {wanted} and record["threads"].num_threads == wanted


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"calls": {}}, TypeError),
        ({"calls": [lambda: None]}, TypeError),
        ({"calls": {"a": 3}}, TypeError),
        ({"calls": {"a": lambda: None}, "min_run_time": 0}, ValueError),
        ({"calls": {"a": lambda: None}, "min_run_time": float("nan")}, ValueError),
        ({"calls": {"a": lambda: None}, "min_run_time": "0.1"}, TypeError),
        ({"calls": {"a": lambda: None}, "warmup": -1}, ValueError),
        ({"calls": {"a": lambda: None}, "warmup": 2.5}, TypeError),
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
    s = torch.sigmoid(X)
    assert torch.allclose(first, s * (1 - s)) and torch.equal(first, second)
    assert torch.equal(timing.forward_backward_call(torch.relu, x)(), (X > 0).float())
    assert x.grad is None and not x.requires_grad


def test_forward_backward_call_leaves_the_grad_of_a_leaf_none():
    x = X.clone().requires_grad_(True)
    gradient = timing.forward_backward_call(torch.tanh, x)()
    assert torch.allclose(gradient, 1 - torch.tanh(X) ** 2)
    assert x.grad is None


def test_copy_call_returns_a_new_tensor_with_the_same_values():
    call = timing.copy_call(X)
    first, second = call(), call()
    assert torch.equal(first, X) and torch.equal(second, X)
    assert first.data_ptr() != X.data_ptr() and second is not first


@pytest.mark.parametrize("maker", [timing.forward_call, timing.forward_backward_call])
def test_calls_reject_bad_input(maker):
    with pytest.raises(TypeError, match="torch.Tensor"):
        maker(torch.relu, [1.0, 2.0])
    with pytest.raises(TypeError, match="callable"):
        maker("relu", X)
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


def test_activation_benchmark_builds_the_copy_then_forwards_then_backwards(monkeypatch):
    built = {}

    def capture(calls, *, min_run_time, warmup):
        built.update(calls)
        return {}

    monkeypatch.setattr(timing, "benchmark", capture)
    timing.activation_benchmark({"relu": torch.relu, "tanh": torch.tanh}, X, device="cpu")
    assert list(built) == ["copy", "relu forward", "tanh forward", "relu forward + backward", "tanh forward + backward"]
    assert torch.equal(built["copy"](), X)
    forward = built["tanh forward"]()
    assert torch.equal(forward, torch.tanh(X)) and not forward.requires_grad
    assert torch.equal(built["relu forward + backward"](), (X > 0).float())
    assert torch.allclose(built["tanh forward + backward"](), 1 - torch.tanh(X) ** 2)


def test_activation_benchmark_times_every_operation_and_the_table_starts_with_the_copy():
    results = timing.activation_benchmark({"relu": torch.relu}, X, device="cpu", min_run_time=QUICK)
    assert list(results) == ["copy", "relu forward", "relu forward + backward"]
    assert all(isinstance(record, Measurement) and record.median > 0 for record in results.values())
    table = timing.timing_table(results)
    assert [row[0] for row in table.rows] == list(results)
    assert table.rows[0][-1] == "1.0"


def test_activation_benchmark_runs_on_the_default_device(monkeypatch):
    seen = []
    monkeypatch.setattr(timing, "default_device", lambda: "meta")
    monkeypatch.setattr(timing, "benchmark", lambda calls, **options: seen.append(calls["copy"]().device))
    timing.activation_benchmark({"relu": torch.relu}, X)
    assert seen == [torch.device("meta")]


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"activations": {}}, TypeError, "activations"),
        ({"activations": [torch.relu]}, TypeError, "activations"),
        ({"activations": {"relu": 3}}, TypeError, "callable"),
        ({"x": [1.0, 2.0]}, TypeError, "torch.Tensor"),
        ({"device": 0}, TypeError, "device"),
        ({"device": "gpu"}, ValueError, "'gpu'"),
        ({"min_run_time": -1.0}, ValueError, "min_run_time"),
    ],
)
def test_activation_benchmark_rejects_bad_arguments(kwargs, error, message):
    arguments = {"activations": {"relu": torch.relu}, "x": X, "device": "cpu", "min_run_time": QUICK, **kwargs}
    with pytest.raises(error, match=message):
        timing.activation_benchmark(**arguments)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_activation_benchmark_says_when_there_is_no_gpu():
    with pytest.raises(ValueError, match="no CUDA GPU"):
        timing.activation_benchmark({"relu": torch.relu}, X, device="cuda")


def test_timing_table_gives_milliseconds_spread_and_ratios_to_the_baseline():
    timings = {
        "op": measurement("op", [0.004, 0.006, 0.005, 0.009, 0.008]),  # median 6 ms, quartiles 5 and 8 ms
        "copy": measurement("copy", [0.030, 0.010, 0.020], calls_per_block=10),  # 2, 1, 3 ms per call
    }
    table = timing.timing_table(timings)
    assert isinstance(table, Table)
    assert table.header == ["operation", "median (ms)", "IQR (ms)", "blocks x calls", "median / copy"]
    assert table.rows == [["op", "6.0", "3.0", "5 x 1", "3.0"], ["copy", "2.0", "1.0", "3 x 10", "1.0"]]
    other = timing.timing_table(timings, baseline="op")
    assert other.header[-1] == "median / op" and [row[-1] for row in other.rows] == ["1.0", "0.333"]


def test_timing_table_rejects_bad_input():
    with pytest.raises(ValueError, match="baseline 'memcpy'"):
        timing.timing_table({"copy": measurement("copy", [0.001])}, baseline="memcpy")
    with pytest.raises(TypeError, match="Measurement"):
        timing.timing_table({"copy": 0.001})
    with pytest.raises(TypeError, match="non-empty"):
        timing.timing_table({})
