"""Synthetic datasets: shapes, labels, seeds, validation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from relu_course.datasets import regression_1d, spirals


def test_spirals_shapes_labels_and_seed():
    inputs, labels = spirals(50, classes=3, seed=1)
    assert inputs.shape == (150, 2) and inputs.dtype == torch.float32
    assert labels.dtype == torch.int64 and torch.equal(torch.bincount(labels), torch.tensor([50, 50, 50]))
    again, _ = spirals(50, classes=3, seed=1)
    other, _ = spirals(50, classes=3, seed=2)
    assert torch.equal(inputs, again) and not torch.equal(inputs, other)


def test_spirals_without_noise_lie_on_the_unit_disc_and_start_at_the_centre():
    inputs, labels = spirals(100, noise=0.0)
    radii = inputs.norm(dim=1)
    assert radii.max().item() == pytest.approx(1.0, abs=1e-6)
    assert radii[labels == 0][0].item() == 0.0


def test_spiral_arms_are_rotations_of_each_other():
    inputs, labels = spirals(40, classes=2, noise=0.0)
    # Two arms: the second is the first turned by half a turn, i.e. negated.
    torch.testing.assert_close(inputs[labels == 1], -inputs[labels == 0], atol=1e-6, rtol=0)


@pytest.mark.parametrize("kwargs", [{"classes": 1}, {"noise": -0.1}, {"turns": 0}, {"points_per_class": 0}])
def test_spirals_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        spirals(**kwargs)


def test_regression_1d():
    inputs, targets = regression_1d(np.sin, 11, start=0.0, stop=1.0)
    assert inputs.shape == targets.shape == (11, 1)
    torch.testing.assert_close(targets, torch.sin(inputs))
    _, noisy = regression_1d(np.sin, 1000, noise=0.5, seed=3)
    _, clean = regression_1d(np.sin, 1000)
    assert (noisy - clean).std().item() == pytest.approx(0.5, rel=0.1)
    with pytest.raises(ValueError):
        regression_1d(np.sin, 10, start=1.0, stop=0.0)


def test_datasets_in_float64_round_once_from_the_same_values():
    x32, labels32 = spirals(20, seed=3)
    x64, labels64 = spirals(20, seed=3, dtype=torch.float64)
    assert x32.dtype == torch.float32 and x64.dtype == torch.float64
    assert torch.equal(x64.float(), x32) and torch.equal(labels32, labels64)
    inputs, targets = regression_1d(np.sin, 11, dtype=torch.float64)
    assert inputs.dtype == targets.dtype == torch.float64
    torch.testing.assert_close(targets, torch.sin(inputs), rtol=1e-15, atol=1e-15)
    with pytest.raises(TypeError, match="floating-point"):
        spirals(5, dtype=torch.int32)
