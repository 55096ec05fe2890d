"""The training loop, and many networks at once: they learn as alone, deterministically; bad arguments are explained."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch
from torch import nn

from relu_course.datasets import spirals
from relu_course.networks import GatedFeedForward, ResidualBlock, matched_gated_width, mlp, residual_mlp
from relu_course.training import Ensemble, accuracy, loss_function, train, train_each, train_ensemble


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


# --------------------------------------------------------------------------- train_each: any network, one per seed

SPIRALS64 = spirals(20, 2, seed=0, dtype=torch.float64)


def _assert_each_equals_training_alone(build, seeds, inputs, targets, *, loss, steps, rtol=1e-10, atol=1e-12):
    """Train with train_each, then each build(seed) alone with train; compare losses and parameters.

    A bias followed by a batch norm has no effect on the loss: its gradient is rounding
    noise, which Adam, dividing by sqrt(v) + 1e-8, turns into steps of
    about 1e-11. Such biases agree to about 1e-9 after 20 steps (atol=1e-8), the rest
    to rounding.
    """
    learning_rate = 1e-2
    ensemble = train_each(build, seeds, inputs, targets, loss=loss, steps=steps, learning_rate=learning_rate)
    alone_models = []
    for seed, model, losses in zip(seeds, ensemble.models, ensemble.losses):
        alone = build(seed)
        history = train(alone, inputs, targets, loss=loss, learning_rate=learning_rate, steps=steps)
        np.testing.assert_allclose(losses, history.losses, rtol=rtol, atol=1e-14)
        for (name, ours), theirs in zip(model.named_parameters(), alone.parameters()):
            torch.testing.assert_close(ours, theirs, rtol=rtol, atol=atol, msg=name)
        alone_models.append(alone)
    return ensemble, alone_models


def test_train_each_trains_residual_networks_as_alone():
    def build(seed):
        return residual_mlp(6, 16, seed=seed, dtype=torch.float64)

    ensemble, _ = _assert_each_equals_training_alone(build, [0, 1, 2], *SPIRALS64, loss="cross_entropy", steps=25)
    assert all(isinstance(model[1], ResidualBlock) for model in ensemble.models)
    assert all(len(accuracies) == 25 for accuracies in ensemble.accuracies)
    assert all(losses[-1] < losses[0] for losses in ensemble.losses)


def test_train_each_keeps_each_networks_batch_norm_statistics():
    def build(seed):
        return mlp([2, 8, 8, 2], norm="batch", seed=seed, dtype=torch.float64)

    inputs, labels = SPIRALS64
    ensemble, alone_models = _assert_each_equals_training_alone(
        build, [0, 1], inputs, labels, loss="cross_entropy", steps=20, atol=1e-8
    )
    for model, alone in zip(ensemble.models, alone_models):
        ours, theirs = model[1], alone[1]
        assert ours.num_batches_tracked.item() == theirs.num_batches_tracked.item() == 20
        # The running means follow the biases before the batch norms (see above).
        torch.testing.assert_close(ours.running_mean, theirs.running_mean, rtol=0, atol=1e-8)
        torch.testing.assert_close(ours.running_var, theirs.running_var, rtol=0, atol=1e-8)
        model.eval()
        alone.eval()
        torch.testing.assert_close(model(inputs), alone(inputs), rtol=0, atol=1e-7)
    assert not torch.equal(ensemble.models[0][1].running_mean, ensemble.models[1][1].running_mean)


def test_train_each_trains_converted_batch_norm_as_the_converted_model_alone():
    def build(seed):
        model = residual_mlp(3, 8, norm="batch", seed=seed, dtype=torch.float64)
        return torch.func.replace_all_batch_norm_modules_(model)

    ensemble, _ = _assert_each_equals_training_alone(
        build, [0, 4], *SPIRALS64, loss="cross_entropy", steps=20, atol=1e-8
    )
    norms = [module for module in ensemble.models[0].modules() if isinstance(module, nn.BatchNorm1d)]
    assert len(norms) == 4 and all(not norm.track_running_stats and norm.running_mean is None for norm in norms)
    assert all(losses[-1] < losses[0] for losses in ensemble.losses)


def test_train_each_regression_with_any_output_shape():
    tokens = torch.randn(16, 5, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    targets = torch.sin(tokens).flip(-1)

    def build(seed):
        return GatedFeedForward(4, matched_gated_width(12), "swiglu", seed=seed, dtype=torch.float64)

    ensemble, _ = _assert_each_equals_training_alone(build, [0, 1], tokens, targets, loss="mse", steps=15)
    assert ensemble.accuracies == []


def test_train_each_with_one_dataset_per_network():
    easy, hard = (
        spirals(20, 2, turns=0.5, seed=0, dtype=torch.float64),
        spirals(20, 2, turns=1.5, seed=1, dtype=torch.float64),
    )
    inputs, labels = torch.stack([easy[0], hard[0]]), torch.stack([easy[1], hard[1]])

    def build(seed):
        return residual_mlp(2, 8, seed=seed, dtype=torch.float64)

    ensemble = train_each(build, [3, 3], inputs, labels, steps=10, per_network=True)
    for data, model, losses in zip([easy, hard], ensemble.models, ensemble.losses):
        alone = build(3)
        history = train(alone, *data, loss="cross_entropy", steps=10)
        np.testing.assert_allclose(losses, history.losses, rtol=1e-10)
        for ours, theirs in zip(model.parameters(), alone.parameters()):
            torch.testing.assert_close(ours, theirs, rtol=1e-10, atol=1e-12)
    assert not torch.equal(ensemble.models[0][0].weight, ensemble.models[1][0].weight)


def test_train_each_on_an_mlp_runs_vmap_and_the_fast_path_alike():
    inputs, labels = SPIRALS64
    fast = train_each(
        lambda seed: mlp([2, 8, 8, 2], "prelu", seed=seed, dtype=torch.float64), [0, 1], inputs, labels, steps=15
    )
    wrapped = train_each(  # a Sequential inside a Sequential is not plain: it runs through vmap
        lambda seed: nn.Sequential(mlp([2, 8, 8, 2], "prelu", seed=seed, dtype=torch.float64)),
        [0, 1],
        inputs,
        labels,
        steps=15,
    )
    np.testing.assert_allclose(fast.losses, wrapped.losses, rtol=1e-10)
    same = train_ensemble([2, 8, 8, 2], "prelu", [0, 1], inputs, labels, steps=15, dtype=torch.float64)
    assert same.losses == fast.losses


def test_train_each_refuses_networks_of_different_structures():
    inputs, labels = SPIRALS64
    with pytest.raises(ValueError, match=r"network 1 \(seed 1\) differs from network 0.*'0.weight' has shape \(9, 2\)"):
        train_each(lambda seed: mlp([2, 8 + seed, 2], dtype=torch.float64), [0, 1], inputs, labels, steps=1)
    with pytest.raises(ValueError, match="same structure.*its modules are"):
        train_each(
            lambda seed: mlp([2, 8, 2], ["relu", "gelu"][seed], dtype=torch.float64), [0, 1], inputs, labels, steps=1
        )
    shared = mlp([2, 8, 2], dtype=torch.float64)
    with pytest.raises(ValueError, match="new network for each seed"):
        train_each(lambda seed: shared, [0, 1], inputs, labels, steps=1)


class _Noisy(nn.Module):
    def forward(self, x):
        return x + torch.randn_like(x)


@pytest.mark.parametrize("randomness", [nn.Dropout(0.5), _Noisy()])
def test_train_each_refuses_random_draws_in_the_forward_pass(randomness):
    def build(seed):
        return nn.Sequential(mlp([2, 8, 2], seed=seed, dtype=torch.float64), randomness)

    with pytest.raises(ValueError, match="random numbers in their forward pass"):
        train_each(build, [0, 1], *SPIRALS64, steps=1)
    # In eval mode, dropout draws nothing.
    if isinstance(randomness, nn.Dropout):
        train_each(lambda seed: build(seed).eval(), [0, 1], *SPIRALS64, steps=1)


def _small(seed):
    return mlp([2, 4, 2], seed=seed, dtype=torch.float64)


@pytest.mark.parametrize(
    ("change", "error", "phrase"),
    [
        ({"build": "mlp"}, TypeError, "build must be a function"),
        ({"build": lambda seed: "network"}, TypeError, "must return an nn.Module"),
        ({"build": lambda seed: nn.ReLU()}, ValueError, "no parameters"),
        ({"seeds": []}, ValueError, "at least one seed"),
        ({"seeds": 3}, TypeError, "sequence of whole numbers"),
        ({"seeds": "01"}, TypeError, "sequence of whole numbers"),
        ({"seeds": [0, 1.5]}, TypeError, "every seed"),
        ({"seeds": [-1]}, ValueError, "every seed"),
        ({"steps": 0}, ValueError, "steps"),
        ({"learning_rate": 0.0}, ValueError, "learning_rate"),
        ({"loss": "hinge"}, ValueError, "loss must be one of"),
        ({"per_network": "yes"}, TypeError, "per_network"),
        ({"per_network": True}, ValueError, "first axis of length 2"),
        ({"inputs": SPIRALS64[0].numpy()}, TypeError, "torch.Tensors"),
        ({"inputs": SPIRALS64[0].float()}, TypeError, "inputs have dtype torch.float32"),
        ({"targets": SPIRALS64[1][:7]}, ValueError, "same number of rows"),
        ({"targets": SPIRALS64[1].double()}, TypeError, "torch.int64"),
        ({"targets": torch.stack([SPIRALS64[1]] * 2, dim=1)}, ValueError, "class indices must have shape"),
        ({"targets": SPIRALS64[1] + 2}, ValueError, "labels must be classes 0 to 1"),
        ({"targets": torch.zeros(40, 3, dtype=torch.float64), "loss": "mse"}, ValueError, "shape of its targets"),
        ({"targets": torch.zeros(40, 2), "loss": "mse"}, TypeError, "targets have dtype torch.float32"),
    ],
)
def test_train_each_explains_bad_arguments(change, error, phrase):
    arguments = {"build": _small, "seeds": [0, 1], "inputs": SPIRALS64[0], "targets": SPIRALS64[1], "steps": 1}
    arguments.update(change)
    with pytest.raises(error, match=phrase):
        train_each(**arguments)
