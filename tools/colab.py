"""The Colab install cell: generated from _config.yml and the package version.

The repository URL is set once, in ``_config.yml`` (``repository.url``); the package
version once, in ``relu_course/__init__.py``. Every notebook's first code cell installs
that version from that repository when, and only when, it runs in Colab.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "_config.yml"
PACKAGE_INIT = ROOT / "relu_course" / "__init__.py"
INSTALL_CELL_TAG = "colab-install"
INSTALL_CELL_FIRST_LINE = "# In Colab, install the course package (nothing happens elsewhere)."


def repository_url(config_path: Path = CONFIG) -> str:
    """The repository URL configured in ``_config.yml``, without a trailing slash."""
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    return config["repository"]["url"].rstrip("/")


def package_version(init_path: Path = PACKAGE_INIT) -> str:
    """The package's ``__version__``, read from its ``__init__.py`` without importing it."""
    for node in ast.parse(init_path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__version__" for t in node.targets):
            return ast.literal_eval(node.value)
    raise ValueError(f"{init_path} sets no __version__.")


VERSION = package_version()


def release_tag(version: str = VERSION) -> str:
    """The git tag of a package version, e.g. ``v0.1.0``."""
    return f"v{version}"


def install_cell_source(url: str | None = None, version: str = VERSION) -> str:
    """The source of the install cell for ``version`` of the package at ``url``."""
    url = repository_url() if url is None else url
    requirement = f"relu-course @ git+{url}@{release_tag(version)}"
    return "\n".join(
        [
            INSTALL_CELL_FIRST_LINE,
            "import sys",
            "",
            'if "google.colab" in sys.modules:',
            f'    %pip install -q "{requirement}"',
        ]
    )


def install_cell() -> nbformat.NotebookNode:
    """A new install cell, tagged so the book leaves it out of the page."""
    cell = nbformat.v4.new_code_cell(install_cell_source())
    cell.metadata["tags"] = [INSTALL_CELL_TAG, "remove-cell"]
    return cell


def first_code_cell_index(notebook: nbformat.NotebookNode) -> int | None:
    """Index of the first code cell, or None if there is none."""
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            return index
    return None


def stamp_install_cell(notebook: nbformat.NotebookNode) -> bool:
    """Make the notebook's first code cell the current install cell.

    An existing install cell (tagged ``colab-install``) is rewritten; otherwise the
    cell is inserted before the first code cell. Returns True if anything changed.
    """
    index = first_code_cell_index(notebook)
    fresh = install_cell()
    if index is None:
        notebook.cells.append(fresh)
        return True
    cell = notebook.cells[index]
    if INSTALL_CELL_TAG in cell.metadata.get("tags", []):
        if cell.source == fresh.source and cell.metadata["tags"] == fresh.metadata["tags"]:
            return False
        cell.source = fresh.source
        cell.metadata["tags"] = fresh.metadata["tags"]
        return True
    notebook.cells.insert(index, fresh)
    return True
