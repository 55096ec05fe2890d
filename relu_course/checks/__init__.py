"""Instant feedback for the exercises: one check per task, called with your answer.

Each check is named after what it checks and takes your function, class or value::

    from relu_course import checks

    checks.relu(my_relu)

It runs your code on hidden cases, prints **one line** and returns ``True`` or ``False``:

* ``✓ relu: all 18 hidden cases passed (...).``
* ``✗ relu: <the first failing case: input, expected, got, and a hint>``
* ``○ relu: not implemented yet (Task 1: your code here).``

so a cell can go on only when your code works: ``if checks.relu(my_relu): ...``. A check
never raises, hides what your code prints, and leaves every random state as it was.
Expected values come from the package (:mod:`relu_course.activations`,
:mod:`relu_course.diagnostics`, :mod:`relu_course.piecewise`,
:mod:`relu_course.dead_neurons`, ...), from PyTorch, from an independent computation
(numerical integration) or from a measurement the check runs itself, never from a copy
of the solutions.

A *prediction* check (``predict_...``) takes a number instead of code: the value you
derived on paper before running the measurement below it. It measures, compares, and on
a miss says whether you are too high or too low, by about what factor, and, when your
number matches a typical slip, which slip; it does not reveal the measured value.

Checks by chapter
-----------------
1. ``relu``, ``abs_from_relu``, ``hat``, ``piecewise_network``, ``count_pieces``
2. ``relu_grad``, ``central_difference``, ``gradient_check``, ``autograd_derivative``
3. ``he_normal``, ``relu_mean``, ``relu_mean_square``, ``rms_per_layer``,
   ``predict_xavier_factor``, ``predict_default_factor``, ``output_gradient_norms``,
   ``predict_gradient_factor``, ``predict_units_on``, ``predict_paths_on``
4. ``leaky_relu``, ``leaky_relu_grad``, ``gelu_tanh``, ``gelu_tanh_grad``,
   ``leaky_he_std``, ``predict_leaky_he_drift``, ``selu_moments``, ``selu_constants``,
   ``prelu``; and ``elu``, ``elu_grad`` for practice
5. ``dead_unit_counts``, ``born_dead_fraction``, ``predict_layer_off``,
   ``born_dead_probability``, ``revive``, ``predict_dead_unit_gradient``,
   ``predict_revival_step``
6. ``pre_activation_block``, ``swiglu_hidden``, ``swiglu``, ``predict_max_pool_gap``,
   ``predict_avg_pool_mismatch``, ``predict_residual_growth``
7. ``sparse_down``, ``mask_relu``, ``predict_batch_union``, ``predict_silu_saved_bytes``
8. ``kinks_one_layer``, ``tent_network``, ``relu_kernel``, ``predict_orthogonal_similarity``
"""

from relu_course.checks.chapter1 import abs_from_relu, count_pieces, hat, piecewise_network, relu
from relu_course.checks.chapter2 import autograd_derivative, central_difference, gradient_check, relu_grad
from relu_course.checks.chapter3 import (
    he_normal,
    output_gradient_norms,
    predict_default_factor,
    predict_gradient_factor,
    predict_paths_on,
    predict_units_on,
    predict_xavier_factor,
    relu_mean,
    relu_mean_square,
    rms_per_layer,
)
from relu_course.checks.chapter4 import (
    elu,
    elu_grad,
    gelu_tanh,
    gelu_tanh_grad,
    leaky_he_std,
    leaky_relu,
    leaky_relu_grad,
    predict_leaky_he_drift,
    prelu,
    selu_constants,
    selu_moments,
)
from relu_course.checks.chapter5 import (
    born_dead_fraction,
    born_dead_probability,
    dead_unit_counts,
    predict_dead_unit_gradient,
    predict_layer_off,
    predict_revival_step,
    revive,
)
from relu_course.checks.chapter6 import (
    pre_activation_block,
    predict_avg_pool_mismatch,
    predict_max_pool_gap,
    predict_residual_growth,
    swiglu,
    swiglu_hidden,
)
from relu_course.checks.chapter7 import (
    mask_relu,
    predict_batch_union,
    predict_silu_saved_bytes,
    sparse_down,
)
from relu_course.checks.chapter8 import (
    kinks_one_layer,
    predict_orthogonal_similarity,
    relu_kernel,
    tent_network,
)

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
    "relu_mean",
    "relu_mean_square",
    "rms_per_layer",
    "predict_xavier_factor",
    "predict_default_factor",
    "output_gradient_norms",
    "predict_gradient_factor",
    "predict_units_on",
    "predict_paths_on",
    # Chapter 4
    "leaky_relu",
    "leaky_relu_grad",
    "elu",
    "elu_grad",
    "gelu_tanh",
    "gelu_tanh_grad",
    "leaky_he_std",
    "predict_leaky_he_drift",
    "selu_moments",
    "selu_constants",
    "prelu",
    # Chapter 5
    "dead_unit_counts",
    "born_dead_fraction",
    "predict_layer_off",
    "born_dead_probability",
    "revive",
    "predict_dead_unit_gradient",
    "predict_revival_step",
    # Chapter 6
    "pre_activation_block",
    "swiglu_hidden",
    "swiglu",
    "predict_max_pool_gap",
    "predict_avg_pool_mismatch",
    "predict_residual_growth",
    # Chapter 7
    "sparse_down",
    "mask_relu",
    "predict_batch_union",
    "predict_silu_saved_bytes",
    # Chapter 8
    "kinks_one_layer",
    "tent_network",
    "relu_kernel",
    "predict_orthogonal_similarity",
]
