"""Colab: every notebook installs this version of the package from the configured repository."""

from __future__ import annotations

import re

import pytest
import tomllib
from IPython.core.inputtransformer2 import TransformerManager

import relu_course
from tests.course.notebooks import ROOT, all_notebooks, read
from tools import colab

NOTEBOOKS = all_notebooks()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=str)
def test_first_code_cell_is_the_install_cell(path):
    notebook = read(path)
    first_code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert first_code.source == colab.install_cell_source(), "run `make notebooks` to restamp the install cell"
    assert "remove-cell" in first_code.metadata.tags
    assert first_code.outputs == []  # outside Colab it does nothing


def test_install_cell_names_the_configured_repository_and_this_version():
    source = colab.install_cell_source()
    url = colab.repository_url()
    assert url.startswith("https://github.com/")
    assert f'"relu-course @ git+{url}@v{relu_course.__version__}"' in source
    assert 'if "google.colab" in sys.modules:' in source


def test_install_cell_is_valid_ipython():
    python = TransformerManager().transform_cell(colab.install_cell_source())
    compile(python, "<install cell>", "exec")
    assert "get_ipython().run_line_magic('pip'" in python


def test_stamping_inserts_or_rewrites_the_cell():
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# t"), nbformat.v4.new_code_cell("x = 1")]
    assert colab.stamp_install_cell(notebook) is True
    assert [cell.cell_type for cell in notebook.cells] == ["markdown", "code", "code"]
    assert colab.stamp_install_cell(notebook) is False  # already current
    notebook.cells[1].source = "old"
    assert colab.stamp_install_cell(notebook) is True
    assert notebook.cells[1].source == colab.install_cell_source()


def test_package_dependencies_are_lower_bounds_only():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        assert re.fullmatch(r"[a-z]+>=[0-9.]+", requirement), f"{requirement}: use a lower bound only"
    assert project["requires-python"] == ">=3.10"


def test_the_tools_read_the_version_without_importing_the_package():
    from tools.colab import package_version

    assert package_version() == relu_course.__version__
