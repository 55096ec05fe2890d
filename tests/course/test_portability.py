"""make portability fails when a stored number or figure changes, under an emulated CPU.

A copy of Chapter 1 gets one printed number and one figure altered (the same changes as
in test_nbval_catches_changes); tools/portability.py, run for one variant on that copy,
must report exactly those two cells and exit with a failure.
"""

from __future__ import annotations

import re
import subprocess
import sys

import nbformat

from tests.course.notebooks import ROOT
from tests.course.test_nbval_catches_changes import CHAPTER, change_a_figure, change_a_printed_number, code_cell_number
from tools.portability import VARIANTS


def test_a_variant_fails_on_a_changed_number_and_figure(tmp_path):
    notebook = nbformat.read(CHAPTER, as_version=4)
    number_cell = code_cell_number(notebook, change_a_printed_number(notebook))
    figure_cell = code_cell_number(notebook, change_a_figure(notebook))
    nbformat.write(notebook, tmp_path / CHAPTER.name)

    variant = VARIANTS[0].name
    result = subprocess.run(
        [sys.executable, "tools/portability.py", variant, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout[-3000:]
    failed = {int(n) for n in re.findall(r"FAILED \S+::Cell (\d+)", result.stdout)}
    assert failed == {number_cell, figure_cell}, result.stdout[-3000:]
    assert f"FAIL {variant}" in result.stdout
