"""Where the course's notebooks are, for the tests."""

from __future__ import annotations

from pathlib import Path

import nbformat

from tests.paths import ROOT

NOTEBOOK_DIRS = ("book", "exercises", "solutions")
#: Exercises are stored without outputs (learners start clean); the rest are stored executed.
EXERCISE_DIR = "exercises"


def all_notebooks() -> list[Path]:
    """Every notebook of the course, as paths relative to the repository root."""
    found = []
    for folder in NOTEBOOK_DIRS:
        found += sorted((ROOT / folder).glob("*.ipynb"))
    return [path.relative_to(ROOT) for path in found]


def is_exercise(path: Path) -> bool:
    """True for a notebook in ``exercises/``: generated from its solution, stored unexecuted."""
    return path.parts[0] == EXERCISE_DIR


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / path, as_version=4)
