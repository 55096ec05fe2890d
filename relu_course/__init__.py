"""relu_course: the companion package of the ReLU course.

Modules
-------
activations
    ReLU and its variants in NumPy, each with its derivative.
plotting
    The course's figure helpers and shared style.
datasets
    Small synthetic datasets made from a seed (spirals, 1-D regression).
diagnostics
    Hooks that look inside a network: activation statistics, gradient norms, dead units.
networks
    Small PyTorch networks and a look at the shapes inside them.
training
    A small, seeded training loop that returns its history.
piecewise
    Piecewise-linear functions written as sums of ReLUs.
tables
    Small tables that render in notebooks and in the book.
"""

__version__ = "0.1.0"

from relu_course import activations, datasets, diagnostics, networks, piecewise, plotting, tables, training

__all__ = [
    "__version__",
    "activations",
    "datasets",
    "diagnostics",
    "networks",
    "piecewise",
    "plotting",
    "tables",
    "training",
]
