"""The training loop: it learns, it is deterministic, it checks its arguments."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch
from torch import nn

from relu_course.datasets import spirals
from relu_course.networks import mlp
from relu_course.training import Ensemble, accuracy, loss_function, train, train_ensemble


def regression_data():
    x = torch.linspace(-2, 2, 64).reshape(-1, 1)
    return x, x.abs()


def test_training_reduces_the_loss_and_records_every_step():
    x, y = regression_data()
    history = train(mlp([1, 16, 1], seed=0), x, y, steps=200, learning_rate=0.02)
    assert len(history.losses) == 200
    assert history.final_loss < history.losses[0] / 20


def test_training_is_deterministic():
    x, y = regression_data()
    first = train(mlp([1, 8, 1], seed=3), x, y, steps=50)
    second = train(mlp([1, 8, 1], seed=3), x, y, steps=50)
    assert first.losses == second.losses


def test_cross_entropy_with_sgd():
    x = torch.tensor([[-1.0], [1.0], [-2.0], [2.0]])
    labels = torch.tensor([0, 1, 0, 1])
    history = train(mlp([1, 2], seed=0), x, labels, loss="cross_entropy", optimizer="sgd", learning_rate=0.5, steps=100)
    assert history.final_loss < history.losses[0]


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"loss": "l1"}, ValueError),
        ({"optimizer": "rmsprop"}, ValueError),
        ({"learning_rate": 0}, ValueError),
        ({"steps": 0}, ValueError),
        ({"steps": 2.0}, TypeError),
    ],
)
def test_bad_arguments(kwargs, error):
    x, y = regression_data()
    with pytest.raises(error):
        train(mlp([1, 1]), x, y, **kwargs)


def test_mismatched_lengths():
    x, y = regression_data()
    with pytest.raises(ValueError, match="rows"):
        train(mlp([1, 1]), x, y[:10])


def test_minibatches_are_seeded_and_cover_the_data():
    x, y = regression_data()
    seen = []

    class Recorder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(1, 1)

        def forward(self, inputs):
            seen.append(inputs.detach().clone())
            return self.linear(inputs)

    train(Recorder(), x, y, steps=4, batch_size=16, seed=5)
    first_epoch = torch.cat(seen)
    assert sorted(first_epoch.ravel().tolist()) == sorted(x.ravel().tolist())
    seen.clear()
    train(Recorder(), x, y, steps=4, batch_size=16, seed=5)
    assert torch.equal(torch.cat(seen), first_epoch)


def test_callback_sees_every_step():
    x, y = regression_data()
    steps_seen = []
    train(mlp([1, 4, 1], seed=0), x, y, steps=7, callback=lambda step, model: steps_seen.append(step))
    assert steps_seen == list(range(1, 8))


def test_accuracy():
    from relu_course.training import accuracy

    model = torch.nn.Linear(1, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[-1.0], [1.0]]))
        model.bias.zero_()
    inputs = torch.tensor([[-2.0], [3.0], [1.0], [-1.0]])
    assert accuracy(model, inputs, torch.tensor([0, 1, 0, 0])) == 0.75


def test_loss_function_by_name():
    outputs, targets = torch.tensor([[1.0], [3.0]]), torch.tensor([[0.0], [1.0]])
    assert loss_function("mse")(outputs, targets).item() == pytest.approx((1 + 4) / 2)
    scores, labels = torch.tensor([[0.0, 0.0]]), torch.tensor([1])
    assert loss_function("cross_entropy")(scores, labels).item() == pytest.approx(math.log(2))
    with pytest.raises(ValueError, match="loss must be one of"):
        loss_function("hinge")


# --------------------------------------------------------------------------- accuracy at every step of train_ensemble


def test_ensemble_records_each_networks_accuracy_before_each_update():
    inputs, labels = spirals(20, 2, seed=0)
    shorter = train_ensemble([2, 8, 2], "relu", [0, 4], inputs, labels, steps=10, learning_rate=0.05)
    longer = train_ensemble([2, 8, 2], "relu", [0, 4], inputs, labels, steps=11, learning_rate=0.05)
    for index, seed in enumerate([0, 4]):
        assert len(longer.accuracies[index]) == 11
        assert longer.accuracies[index][0] == accuracy(mlp([2, 8, 2], "relu", seed=seed), inputs, labels)
        assert longer.accuracies[index][10] == accuracy(shorter.models[index], inputs, labels)
        assert all(0.0 <= value <= 1.0 for value in longer.accuracies[index])


def test_steps_to_accuracy_counts_from_one_and_says_none_when_never_reached():
    ensemble = Ensemble(models=[], losses=[], seconds=0.0, accuracies=[[0.5, 0.7, 0.9, 0.8], [0.5, 0.6, 0.6, 0.6]])
    assert ensemble.steps_to_accuracy(0.7) == [2, None]
    assert ensemble.steps_to_accuracy(0.5) == [1, 1]
    assert ensemble.steps_to_accuracy(0.95) == [None, None]
    with pytest.raises(TypeError):
        ensemble.steps_to_accuracy("high")


# --------------------------------------------------------------------------- train_ensemble for regression


def _curve(points=32, dtype=torch.float64):
    x = torch.linspace(-2, 2, points, dtype=dtype).reshape(-1, 1)
    return x, torch.sin(2 * x)


def test_a_regression_ensemble_equals_training_each_network_alone():
    x, y = _curve()
    ensemble = train_ensemble(
        [1, 8, 1], "tanh", [0, 2], x, y, steps=20, learning_rate=0.02, dtype=torch.float64, loss="mse"
    )
    assert ensemble.accuracies == []
    for seed, model, losses in zip([0, 2], ensemble.models, ensemble.losses):
        alone = mlp([1, 8, 1], "tanh", seed=seed, dtype=torch.float64)
        history = train(alone, x, y, loss="mse", learning_rate=0.02, steps=20)
        np.testing.assert_allclose(losses, history.losses, rtol=1e-12)
        for ours, theirs in zip(model.parameters(), alone.parameters()):
            torch.testing.assert_close(ours, theirs, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="regression"):
        ensemble.steps_to_accuracy(0.9)


def test_a_regression_ensemble_with_one_target_per_network():
    x, y = _curve()
    targets = torch.stack([y, -y])
    inputs = torch.stack([x, x])
    ensemble = train_ensemble([1, 8, 1], "relu", [0, 0], inputs, targets, steps=5, dtype=torch.float64, loss="mse")
    assert not torch.equal(ensemble.models[0][0].weight, ensemble.models[1][0].weight)


@pytest.mark.parametrize(
    ("change", "error", "phrase"),
    [
        ({"labels": torch.zeros(32, dtype=torch.int64)}, ValueError, "targets"),
        ({"labels": torch.zeros(31, 1, dtype=torch.float64)}, ValueError, "targets"),
        ({"labels": torch.zeros(32, 1, dtype=torch.float32)}, TypeError, "dtype"),
        ({"labels": [0.0] * 32}, TypeError, "torch.Tensor"),
        ({"loss": "hinge"}, ValueError, "loss"),
    ],
)
def test_a_regression_ensemble_explains_bad_data(change, error, phrase):
    x, y = _curve()
    arguments = {"layer_sizes": [1, 4, 1], "activation": "relu", "seeds": [0], "inputs": x, "labels": y}
    arguments.update({"loss": "mse", **change})
    with pytest.raises(error, match=phrase):
        train_ensemble(**arguments, steps=1, dtype=torch.float64)


def test_an_ensemble_takes_an_activation_with_an_argument():
    inputs, labels = spirals(20, 2, seed=0)
    leaky = functools.partial(nn.LeakyReLU, 0.2)
    ensemble = train_ensemble([2, 8, 2], leaky, [0], inputs, labels, steps=10, learning_rate=0.02)
    alone = mlp([2, 8, 2], leaky, seed=0)
    assert alone[1].negative_slope == 0.2
    history = train(alone, inputs, labels, loss="cross_entropy", learning_rate=0.02, steps=10)
    np.testing.assert_allclose(ensemble.losses[0], history.losses, rtol=1e-5, atol=1e-7)
