"""relu_course: the companion package of the ReLU course.

Modules
-------
activations
    ReLU and its variants in NumPy, each with its derivative.
plotting
    The course's figure helpers and shared style.
networks
    Small PyTorch networks (MLPs, residual and gated feed-forward blocks) and a look at
    the shapes inside them.
training
    A small, seeded training loop that returns its history, and many seeds trained at once.
datasets
    Small synthetic datasets made from a seed (spirals, 1-D regression).
hooks
    The one place hooks are registered: what each layer received or produced in a forward pass.
diagnostics
    Hooks that look inside a network: activation statistics, gradient norms, dead units.
piecewise
    Piecewise-linear functions written as sums of ReLUs (Chapter 1).
differentiation
    Derivatives at a kink: autograd, finite differences, the relu'(0) convention (Chapter 2).
depth
    Signals and gradients through depth, initialization (Chapter 3).
timing
    Timing elementwise operations against a copy, on torch.utils.benchmark (Chapter 3).
variants
    The ReLU family side by side (Chapter 4).
dead_neurons
    Dead units during training and at initialization (Chapter 5).
hardware
    What ReLU's zeros and an activation's backward cost: skipped work, saved memory (Chapter 7).
regions
    What a ReLU network computes: linear pieces along a segment, regions on a grid, the tent map (Chapter 8).
checks
    Instant feedback for the exercises.
tables
    Small tables that render in notebooks and in the book.
"""

import importlib
from types import ModuleType

__version__ = "0.1.0"

#: The submodules, imported on first use: ``import relu_course`` loads neither PyTorch
#: nor matplotlib, and ``relu_course.activations`` needs only NumPy.
_SUBMODULES = (
    "activations",
    "checks",
    "datasets",
    "dead_neurons",
    "depth",
    "diagnostics",
    "differentiation",
    "hardware",
    "hooks",
    "networks",
    "piecewise",
    "plotting",
    "regions",
    "tables",
    "timing",
    "training",
    "variants",
)


def __getattr__(name: str) -> ModuleType:
    """Import a submodule the first time it is used as ``relu_course.<name>``."""
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_SUBMODULES])


__all__ = ["__version__", *_SUBMODULES]
