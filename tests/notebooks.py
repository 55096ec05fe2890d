"""Where the course's notebooks are, for the tests."""

from __future__ import annotations

from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIRS = ("book", "exercises", "solutions")


def all_notebooks() -> list[Path]:
    """Every notebook of the course, as paths relative to the repository root."""
    found = []
    for folder in NOTEBOOK_DIRS:
        found += sorted((ROOT / folder).glob("*.ipynb"))
    return [path.relative_to(ROOT) for path in found]


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / path, as_version=4)
