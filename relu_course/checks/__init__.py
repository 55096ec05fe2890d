"""Instant feedback for the exercises: one check per task, called with your answer.

Each check is named after what it checks and takes your function, class or value::

    from relu_course import checks

    checks.relu(my_relu)

It runs your code on hidden cases, prints **one line** and returns ``True`` or ``False``:

* ``✓ relu: all 17 hidden cases passed (...).``
* ``✗ relu: <the first failing case: input, expected, got, and a hint>``
* ``○ relu: not implemented yet (Task 1: your code here).``

so a cell can go on only when your code works: ``if checks.relu(my_relu): ...``. A check
never raises, hides what your code prints, and leaves every random state as it was.
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

from relu_course.checks.chapter1 import abs_from_relu, count_pieces, hat, piecewise_network, relu
from relu_course.checks.chapter2 import autograd_derivative, central_difference, gradient_check, relu_grad
from relu_course.checks.chapter3 import he_normal, output_gradient_norms, rms_per_layer
from relu_course.checks.chapter4 import (
    elu,
    elu_grad,
    gelu_tanh,
    gelu_tanh_grad,
    leaky_relu,
    leaky_relu_grad,
    prelu,
    silu,
    silu_grad,
)
from relu_course.checks.chapter5 import born_dead_fraction, dead_unit_counts, revive

__all__ = [
    # Chapter 1
    "relu",
    "abs_from_relu",
    "hat",
    "piecewise_network",
    "count_pieces",
    # Chapter 2
    "relu_grad",
    "central_difference",
    "gradient_check",
    "autograd_derivative",
    # Chapter 3
    "he_normal",
    "rms_per_layer",
    "output_gradient_norms",
    # Chapter 4
    "leaky_relu",
    "leaky_relu_grad",
    "elu",
    "elu_grad",
    "gelu_tanh",
    "gelu_tanh_grad",
    "silu",
    "silu_grad",
    "prelu",
    # Chapter 5
    "dead_unit_counts",
    "born_dead_fraction",
    "revive",
]
