"""The Colab situation: the package alone, from its wheel, beside numpy, torch and matplotlib.

tools/colab_simulation.py (run by ``make test`` before pytest) builds the environment, the
wheel, the dry-run report and the isolated notebook copies that nbval then runs. These
tests check that the simulation is what it claims to be.
"""

from __future__ import annotations

import json
import subprocess

import pytest

import relu_course
from tests.course.notebooks import ROOT, all_notebooks
from tools import colab_simulation as simulation

DEVELOPMENT_ONLY = ("jupyter-book", "sphinx", "nbval", "pytest", "hypothesis", "selenium", "nbclient")


@pytest.fixture(scope="module")
def colab_python():
    if not simulation.COLAB_PYTHON.exists() or not simulation.INSTALL_REPORT.exists():
        pytest.fail("the Colab simulation is missing: run `python tools/colab_simulation.py` (make test does)")
    return str(simulation.COLAB_PYTHON)


def installed_distributions(python: str) -> set[str]:
    listing = subprocess.run(
        [python, "-m", "pip", "list", "--format", "json"], capture_output=True, text=True, check=True
    )
    return {entry["name"].lower() for entry in json.loads(listing.stdout)}


def test_environment_holds_the_preinstalled_packages_and_no_development_tools(colab_python):
    installed = installed_distributions(colab_python)
    assert set(simulation.PREINSTALLED) <= installed
    assert not installed & set(DEVELOPMENT_ONLY)


def test_package_comes_from_the_wheel_not_the_repository(colab_python, tmp_path):
    probe = "import relu_course; print(relu_course.__file__); print(relu_course.__version__)"
    result = subprocess.run([colab_python, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True)
    location, version = result.stdout.split()
    assert location.startswith(str(simulation.COLAB_VENV))
    assert version == relu_course.__version__


def test_installing_the_package_adds_nothing_else(colab_python):
    # pip's dry-run report from installing the wheel (with its dependencies) into an
    # environment that already has numpy, torch and matplotlib: only the package is new.
    report = json.loads(simulation.INSTALL_REPORT.read_text())
    planned = [(item["metadata"]["name"], item["metadata"]["version"]) for item in report["install"]]
    assert planned == [("relu-course", relu_course.__version__)]


def test_every_notebook_has_an_isolated_copy():
    copies = sorted(
        path.relative_to(simulation.NOTEBOOK_COPIES) for path in simulation.NOTEBOOK_COPIES.rglob("*.ipynb")
    )
    expected = sorted(path.parent / path.stem / path.name for path in all_notebooks())
    assert copies == expected
    for copy in simulation.NOTEBOOK_COPIES.rglob("*.ipynb"):
        assert [entry.name for entry in copy.parent.iterdir()] == [copy.name]


def test_kernel_spec_points_at_the_colab_environment():
    spec = json.loads((simulation.OUTPUT / "kernels" / simulation.KERNEL_NAME / "kernel.json").read_text())
    assert spec["argv"][0] == str(simulation.COLAB_PYTHON)
    assert ROOT in simulation.COLAB_PYTHON.parents
