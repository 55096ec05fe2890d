"""The notebook tests fail when a stored number or a stored figure changes.

A copy of Chapter 1 gets one printed number and one figure altered; nbval, with the
project's figure plugin, must then fail on exactly those two cells.
"""

from __future__ import annotations

import base64
import io
import re
import subprocess
import sys

import nbformat
from PIL import Image

from tests.course.notebooks import ROOT

# The quickest chapter to run: these tests re-run it under nbval.
CHAPTER = ROOT / "book" / "02_differentiability.ipynb"


def change_a_printed_number(notebook) -> int:
    """Change the last digit of the first printed number; return the cell's index."""
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.output_type == "stream" and re.search(r"\d", output.text):
                match = list(re.finditer(r"\d", output.text))[-1]
                new_digit = str((int(match.group()) + 1) % 10)
                output.text = output.text[: match.start()] + new_digit + output.text[match.end() :]
                return index
    raise AssertionError("no printed number found")


def change_a_figure(notebook) -> int:
    """Flip one pixel of the first figure; return the cell's index."""
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if "image/png" in output.get("data", {}):
                image = Image.open(io.BytesIO(base64.b64decode(output.data["image/png"]))).convert("RGB")
                red, green, blue = image.getpixel((10, 10))
                image.putpixel((10, 10), (255 - red, green, blue))
                buffer = io.BytesIO()
                image.save(buffer, format="PNG")
                output.data["image/png"] = base64.b64encode(buffer.getvalue()).decode()
                return index
    raise AssertionError("no figure found")


def failing_cells(pytest_output: str) -> set[int]:
    return {int(number) for number in re.findall(r"FAILED \S+::Cell (\d+)", pytest_output)}


def code_cell_number(notebook, cell_index: int) -> int:
    """nbval numbers code cells from 0, skipping markdown cells."""
    return sum(1 for cell in notebook.cells[:cell_index] if cell.cell_type == "code")


def test_changed_number_and_changed_figure_both_fail(tmp_path):
    notebook = nbformat.read(CHAPTER, as_version=4)
    number_cell = code_cell_number(notebook, change_a_printed_number(notebook))
    figure_cell = code_cell_number(notebook, change_a_figure(notebook))
    copy = tmp_path / CHAPTER.name
    nbformat.write(notebook, copy)

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.nbval_figures",
            "-p",
            "no:cacheprovider",
            "--nbval",
            "--nbval-current-env",
            "--rootdir",
            str(tmp_path),
            "-q",
            "-rf",
            str(copy),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout[-3000:]
    assert failing_cells(result.stdout) == {number_cell, figure_cell}, result.stdout[-3000:]
