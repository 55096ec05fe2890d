"""Every notebook is stored executed, clean and reproducible, ready for nbval."""

from __future__ import annotations

import base64
import io
import re

import pytest
from PIL import Image

from tests.course.notebooks import all_notebooks, is_exercise, read

NOTEBOOKS = all_notebooks()
EXECUTED = [path for path in NOTEBOOKS if not is_exercise(path)]
EXERCISES = [path for path in NOTEBOOKS if is_exercise(path)]
MEMORY_ADDRESS = re.compile(r"at 0x[0-9a-f]{6,}")
MAX_LINE = 79


def test_there_are_notebooks():
    assert any(str(path).startswith("book/") for path in NOTEBOOKS)


@pytest.mark.parametrize("path", EXECUTED, ids=str)
def test_every_code_cell_was_executed_in_order(path):
    counts = [cell.execution_count for cell in read(path).cells if cell.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1)), "re-execute with `make notebooks`"


@pytest.mark.parametrize("path", EXERCISES, ids=str)
def test_exercise_is_stored_clean_and_only_run_by_nbval(path):
    # Learners start from a clean notebook: no outputs, no execution counts. nbval
    # runs every cell (none may raise) and compares nothing: each code cell but the
    # Colab install cell is tagged nbval-ignore-output by `make exercises`.
    for number, cell in enumerate(read(path).cells):
        if cell.cell_type != "code":
            continue
        assert cell.execution_count is None and cell.outputs == [], f"cell {number}: run `make exercises`"
        tags = cell.metadata.get("tags", [])
        assert "colab-install" in tags or "nbval-ignore-output" in tags, f"cell {number}: run `make exercises`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=str)
def test_no_errors_no_addresses_no_colab_metadata(path):
    notebook = read(path)
    assert "colab" not in notebook.metadata, "outputs saved from Colab: re-execute with `make notebooks`"
    assert notebook.metadata.kernelspec.name == "python3"
    for number, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            assert output.output_type != "error", f"cell {number} stored an error"
            text = output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
            assert not MEMORY_ADDRESS.search(text), f"cell {number} prints a memory address: end the line with ';'"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=str)
def test_no_cell_relies_on_a_trailing_semicolon(path):
    # nbval executes cells with store_history=False, and IPython then ignores a
    # trailing ';': the value is displayed anyway and the stored output no longer
    # matches. End figure cells with plt.show() instead.
    for number, cell in enumerate(read(path).cells):
        if cell.cell_type == "code" and cell.source.rstrip().endswith(";"):
            raise AssertionError(f"cell {number} ends with ';': end it with plt.show() or an assignment")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=str)
def test_code_fits_the_page(path):
    # The book's code column shows about 80 characters; longer lines scroll sideways.
    for number, cell in enumerate(read(path).cells):
        if cell.cell_type != "code" or "colab-install" in cell.metadata.get("tags", []):
            continue
        for line in cell.source.splitlines():
            assert len(line) <= MAX_LINE, f"cell {number}: {len(line)} characters: {line}"


@pytest.mark.parametrize("path", EXECUTED, ids=str)
def test_figures_are_stored_at_twice_the_pixels_of_their_shown_size(path):
    # The course style turns on IPython's "retina" format: a PNG of twice the pixels across
    # and down, with its 1x size in the output's metadata, so figures stay sharp on
    # high-DPI screens in the book, Jupyter and Colab.
    for number, cell in enumerate(read(path).cells):
        for output in cell.get("outputs", []):
            if "image/png" not in output.get("data", {}):
                continue
            shown = output.get("metadata", {}).get("image/png", {})
            assert {"width", "height"} <= set(shown), (
                f"cell {number}: a figure without its 1x size: run `make notebooks`"
            )
            with Image.open(io.BytesIO(base64.b64decode(output.data["image/png"]))) as image:
                pixels = image.size
            assert pixels[0] >= 2 * shown["width"] and pixels[1] >= 2 * shown["height"], (
                f"cell {number}: {pixels[0]} x {pixels[1]} px shown at {shown['width']} x {shown['height']}"
            )


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if str(p).startswith("book/")], ids=str)
def test_chapter_has_a_title_a_figure_and_references(path):
    notebook = read(path)
    assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# ")
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert any("image/png" in output.get("data", {}) for output in outputs)
    assert "{footbibliography}" in notebook.cells[-1].source
