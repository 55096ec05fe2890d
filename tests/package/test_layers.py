"""The package's layers, enforced: what each kind of module may import.

* The library (activations, networks, training, ...) imports only the library.
* A chapter module (piecewise, differentiation, ...) imports only the library, never
  another chapter module.
* The grader (``relu_course.checks``) may import the library and the chapter modules;
  only the grader's own modules import the grader.

The rule is read from the source with ``ast``, so a planted upward import fails even in
a function body.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.paths import ROOT

PACKAGE = ROOT / "relu_course"

LIBRARY = {
    "_validation",
    "hooks",
    "activations",
    "datasets",
    "diagnostics",
    "networks",
    "plotting",
    "tables",
    "timing",
    "training",
}
CHAPTERS = {"dead_neurons", "depth", "differentiation", "hardware", "piecewise", "regions", "variants"}
GRADER = "checks"


def layer_of(module: str) -> str:
    """'library', 'chapter' or 'grader' for a top-level module name of the package."""
    if module in LIBRARY:
        return "library"
    if module in CHAPTERS:
        return "chapter"
    if module == GRADER:
        return "grader"
    raise AssertionError(f"relu_course.{module} belongs to no layer: add it to LIBRARY or CHAPTERS")


def package_imports(source: str, in_grader: bool = False) -> set[str]:
    """The top-level modules of relu_course that ``source`` imports (relative imports in the grader count as it)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level and in_grader:
                found.add(GRADER)
            elif node.module == "relu_course":
                found.update(alias.name for alias in node.names)
            elif node.module and node.module.startswith("relu_course."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("relu_course."))
    return found


def violations(module: str, imported: set[str]) -> list[str]:
    """The imports of ``module`` that break the layering rule."""
    layer = layer_of(module)
    broken = []
    for target in sorted(imported - {module}):
        target_layer = layer_of(target)
        allowed = target_layer == "library" or layer == "grader"
        if not allowed:
            broken.append(f"relu_course.{module} ({layer}) imports relu_course.{target} ({target_layer})")
    return broken


def modules() -> list[tuple[str, Path]]:
    """(top-level module name, file) for every source file of the package except __init__.py."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative == Path("__init__.py"):
            continue
        found.append((relative.parts[0].removesuffix(".py"), path))
    return found


@pytest.mark.parametrize(("module", "path"), modules(), ids=lambda value: str(value))
def test_module_respects_the_layers(module, path):
    imported = package_imports(path.read_text(encoding="utf-8"), in_grader=module == GRADER)
    assert violations(module, imported) == []


def test_the_front_door_imports_no_submodule():
    assert package_imports((PACKAGE / "__init__.py").read_text(encoding="utf-8")) == set()


@pytest.mark.parametrize(
    ("module", "planted"),
    [
        ("networks", "from relu_course.depth import activation_rms"),  # library -> chapter
        ("networks", "def f():\n    from relu_course import checks"),  # library -> grader, hidden in a body
        ("depth", "import relu_course.variants"),  # chapter -> chapter
        ("variants", "from relu_course.checks import relu"),  # chapter -> grader
    ],
)
def test_a_planted_upward_import_is_found(module, planted):
    assert violations(module, package_imports(planted))


def test_allowed_imports_pass():
    assert violations("depth", package_imports("from relu_course import networks, training")) == []
    assert violations(GRADER, package_imports("from ._engine import _run", in_grader=True)) == []
    assert violations(GRADER, package_imports("from relu_course import piecewise")) == []
