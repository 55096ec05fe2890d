"""``import relu_course`` is cheap: no PyTorch, no matplotlib until a submodule needs them."""

from __future__ import annotations

import subprocess
import sys

import pytest

import relu_course


def loaded_after(statement: str) -> set[str]:
    """Which of torch and matplotlib a fresh interpreter has loaded after ``statement``."""
    probe = f"{statement}; import sys; print(' '.join(m for m in ('torch', 'matplotlib') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(result.stdout.split())


def test_import_relu_course_loads_neither_torch_nor_matplotlib():
    assert loaded_after("import relu_course") == set()


def test_activations_need_only_numpy():
    assert loaded_after("from relu_course import activations; activations.relu(1.0)") == set()


def test_submodules_load_on_first_use():
    assert loaded_after("import relu_course; relu_course.networks") == {"torch"}


@pytest.mark.parametrize("name", relu_course.__all__)
def test_every_public_name_resolves(name):
    assert getattr(relu_course, name) is not None


def test_an_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        relu_course.nonexistent  # noqa: B018
