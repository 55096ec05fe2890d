"""The checks of Chapter 2 (differentiability) accept right answers and reject wrong ones, saying why.

The answers here are written independently of the solution notebooks.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from relu_course import checks
from tests.package.checks_helpers import assert_fails, assert_passes

RIGHT_RELU_GRADS = {
    "nested np.where": lambda x, at_zero=0.0: np.where(x > 0, 1.0, np.where(x < 0, 0.0, at_zero)),
    "np.heaviside": lambda x, at_zero=0.0: np.heaviside(x, at_zero),
    "masks": lambda x, at_zero=0.0: (x > 0) * 1.0 + (x == 0) * at_zero,
}


@pytest.mark.parametrize("spelling", RIGHT_RELU_GRADS)
def test_relu_grad_accepts_right_spellings(spelling, capsys):
    assert_passes(checks.relu_grad, RIGHT_RELU_GRADS[spelling], capsys)


WRONG_RELU_GRADS = {
    "ignores at_zero": (lambda x, at_zero=0.0: np.where(x > 0, 1.0, 0.0), ["at_zero=0.5", "return at_zero"]),
    "-0.0 treated as negative": (
        lambda x, at_zero=0.0: np.where(x > 0, 1.0, np.where(np.signbit(x), 0.0, at_zero)),
        ["x = -0.0", "-0.0 == 0"],
    ),
    "default 1": (lambda x, at_zero=1.0: np.heaviside(x, at_zero), ["whose default is 0.0"]),
    "integers": (lambda x, at_zero=0: (x > 0).astype(int), ["returned dtype int64", "expected floats"]),
    "no at_zero parameter": (lambda x: np.heaviside(x, 0.0), ["unexpected keyword argument 'at_zero'"]),
}


@pytest.mark.parametrize("mistake", WRONG_RELU_GRADS)
def test_relu_grad_rejects_wrong_answers(mistake, capsys):
    answer, phrases = WRONG_RELU_GRADS[mistake]
    assert_fails(checks.relu_grad, answer, capsys, *phrases)


def central(f, x, h=1e-6):
    x = np.asarray(x, dtype=np.float64)
    return (f(x + h) - f(x - h)) / (2 * h)


def test_central_difference_right_and_wrong(capsys):
    assert_passes(checks.central_difference, central, capsys)
    assert_passes(checks.central_difference, lambda f, x, h=1e-6: central(f, np.array(x, dtype=float), h), capsys)

    def forward(f, x, h=1e-6):
        x = np.asarray(x, dtype=np.float64)
        return (f(x + h) - f(x)) / h

    def stays_float32(f, x, h=1e-6):
        return (f(x + h) - f(x - h)) / (2 * h)

    def fixed_step(f, x, h=1e-6):
        return central(f, x)

    assert_fails(checks.central_difference, forward, capsys, "f = np.sin", "forward difference")
    assert_fails(checks.central_difference, stays_float32, capsys, "float32", "convert x to float64")
    assert_fails(checks.central_difference, fixed_step, capsys, "h=1e-3", "use the h you are given")


def gradient_check_by_hand(f, f_grad, x, h=1e-6, tol=1e-4):
    rows = []
    for point in np.asarray(x, dtype=np.float64).ravel():
        numerical = (f(point + h) - f(point - h)) / (2 * h)
        analytic = float(f_grad(np.array(point)))
        if abs(numerical - analytic) > tol:
            left, right = (f(point) - f(point - h)) / h, (f(point + h) - f(point)) / h
            rows.append((point, numerical, analytic, "kink" if abs(right - left) > tol else "mismatch"))
    return rows


def test_gradient_check_right_and_wrong(capsys):
    assert_passes(checks.gradient_check, gradient_check_by_hand, capsys)

    def always_mismatch(f, f_grad, x, h=1e-6, tol=1e-4):
        return [(p, n, a, "mismatch") for p, n, a, _ in gradient_check_by_hand(f, f_grad, x, h, tol)]

    def ignores_tol(f, f_grad, x, h=1e-6, tol=1e-4):
        return gradient_check_by_hand(f, f_grad, x, h, 1e-12)

    def returns_nothing(f, f_grad, x, h=1e-6, tol=1e-4):
        gradient_check_by_hand(f, f_grad, x, h, tol)

    assert_fails(checks.gradient_check, always_mismatch, capsys, "should be 'kink'", "one-sided slopes")
    assert_fails(checks.gradient_check, ignores_tol, capsys, "expected failures at x = []")
    assert_fails(checks.gradient_check, returns_nothing, capsys, "returned None", "Return []")
    assert_fails(checks.gradient_check, lambda *a, **k: [1, 2], capsys, "not (x, numerical, analytic, reason)")


def derivative_by_autograd(f, x0):
    x = torch.tensor(float(x0), dtype=torch.float64, requires_grad=True)
    f(x).backward()
    return x.grad.item()


def test_autograd_derivative_right_and_wrong(capsys):
    assert_passes(checks.autograd_derivative, derivative_by_autograd, capsys)

    def in_float32(f, x0):
        x = torch.tensor(float(x0), requires_grad=True)
        f(x).backward()
        return x.grad.item()

    def returns_the_tensor(f, x0):
        x = torch.tensor(float(x0), dtype=torch.float64, requires_grad=True)
        f(x).backward()
        return x.grad

    def integer_tensor(f, x0):
        x = torch.tensor(x0, dtype=torch.float64 if isinstance(x0, float) else None, requires_grad=True)
        f(x).backward()
        return x.grad.item()

    def by_finite_difference(f, x0):
        x = torch.tensor(float(x0), dtype=torch.float64)
        return ((f(x + 1e-6) - f(x - 1e-6)) / 2e-6).item()

    assert_fails(checks.autograd_derivative, in_float32, capsys, "torch.sin", "close, but not exact", "float64")
    assert_fails(checks.autograd_derivative, returns_the_tensor, capsys, "torch.Tensor", ".item()")
    assert_fails(checks.autograd_derivative, integer_tensor, capsys, "integer x0", "raised RuntimeError")
    assert_fails(checks.autograd_derivative, by_finite_difference, capsys, "torch.sin", "finite differences")
    assert_fails(checks.autograd_derivative, lambda f, x0: 0.5, capsys, "expected 0.955336489125606, got 0.5")
