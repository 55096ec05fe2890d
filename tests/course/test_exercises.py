"""Exercises are generated from their solutions, and a hand edit or leftover solution code is caught.

``tools/make_exercises.py`` (``make exercises``) writes ``exercises/NN_*.ipynb`` from
``solutions/NN_*.ipynb``. These tests regenerate every exercise in memory and compare,
check what the solutions must contain, and test the generator on small notebooks.
"""

from __future__ import annotations

import re
import shutil

import nbformat
import pytest

from relu_course import checks
from tests.course.notebooks import ROOT, read
from tools import make_exercises as tool

SOLUTIONS = sorted(path.relative_to(ROOT) for path in (ROOT / "solutions").glob("*.ipynb"))
CHAPTER_TITLES = {
    1: "What is ReLU?",
    2: "Differentiability of ReLU",
    3: "Why ReLU trains deep networks",
    4: "The ReLU family",
    5: "Dead neurons",
    6: "ReLU in real networks",
    7: "Sparsity, memory and hardware",
    8: "What a ReLU network computes",
}


def exercise_of(solution):
    return solution.parent.parent / "exercises" / solution.name


# --------------------------------------------------------------------------- the repository's notebooks


def test_every_chapter_has_a_solution_and_an_exercise():
    chapters = sorted(path.name for path in (ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
    assert [path.name for path in SOLUTIONS] == chapters
    assert sorted(path.name for path in (ROOT / "exercises").glob("*.ipynb")) == [path.name for path in SOLUTIONS]


def test_exercises_are_exactly_what_make_exercises_writes():
    assert tool.differences() == [], "run `make exercises` (exercises/ is generated, never edited by hand)"


def test_generation_is_deterministic_and_leaves_the_solution_alone():
    for solution in SOLUTIONS:
        notebook = read(solution)
        before = nbformat.writes(notebook)
        first = nbformat.writes(tool.make_exercise(notebook))
        assert nbformat.writes(notebook) == before
        assert nbformat.writes(tool.make_exercise(read(solution))) == first


@pytest.mark.parametrize("solution", SOLUTIONS, ids=str)
def test_solution_has_titles_tasks_and_marked_regions(solution):
    notebook = read(solution)
    number = int(solution.name[:2])
    title = notebook.cells[0].source.splitlines()[0]
    assert title == f"# Solutions {number}. {CHAPTER_TITLES[number]}"
    assert f"(../book/{solution.stem}.ipynb)" in notebook.cells[0].source, "link back to the chapter"
    tasks = [
        int(n)
        for cell in notebook.cells
        if cell.cell_type == "markdown"
        for n in tool.TASK_HEADING.findall(cell.source)
    ]
    assert tasks == list(range(1, len(tasks) + 1)) and 3 <= len(tasks) <= 6, tasks
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert code.count(tool.CODE_BEGIN) == code.count(tool.CODE_END) >= 1
    assert set(tasks_with_solutions(notebook)) == set(tasks), "every task needs a solution region or an answer"
    assert "nbval-ignore-output" not in str(notebook), "solutions are compared in full by nbval"


def tasks_with_solutions(notebook) -> list[int]:
    """The tasks that have a code region or a solution-only cell."""
    found, task = [], None
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and tool.TASK_HEADING.findall(cell.source):
            task = int(tool.TASK_HEADING.findall(cell.source)[-1])
        if tool.CODE_BEGIN in cell.source or tool.SOLUTION_TAG in cell.metadata.get("tags", []):
            found.append(task)
    return found


@pytest.mark.parametrize("solution", SOLUTIONS, ids=str)
def test_exercise_keeps_the_tasks_and_contains_no_solution(solution):
    exercise = read(exercise_of(solution))
    number = int(solution.name[:2])
    assert exercise.cells[0].source.splitlines()[0] == f"# Exercises {number}. {CHAPTER_TITLES[number]}"
    text = "\n".join(cell.source for cell in exercise.cells)
    for marker in (tool.CODE_BEGIN, tool.CODE_END, tool.MARKDOWN_BEGIN, tool.MARKDOWN_END, "**Answer.**"):
        assert marker not in text
    exercise_code = "\n".join(cell.source for cell in exercise.cells if cell.cell_type == "code")
    for line in solution_only_lines(read(solution)):
        assert line not in exercise_code, f"solution code left in the exercise: {line}"
    regions = [cell for cell in read(solution).cells if tool.CODE_BEGIN in cell.source]
    assert exercise_code.count(": your code here") + exercise_code.count(": your answer") >= len(regions)


def solution_only_lines(notebook) -> list[str]:
    """Lines inside solution regions that appear nowhere outside them (so the exercise must not have them)."""
    inside, outside = [], []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        in_region = False
        for line in cell.source.splitlines():
            if line.strip() == tool.CODE_BEGIN:
                in_region = True
            elif line.strip() == tool.CODE_END:
                in_region = False
            elif line.strip() and not line.strip().startswith("#"):
                (inside if in_region else outside).append(line.strip())
    return [line for line in inside if line not in outside and len(line) > 12]


@pytest.mark.parametrize("solution", SOLUTIONS, ids=str)
def test_exercise_calls_only_existing_checks(solution):
    text = "\n".join(cell.source for cell in read(exercise_of(solution)).cells)
    called = set(re.findall(r"checks\.(\w+)\(", text))
    assert called and called <= set(checks.__all__), called - set(checks.__all__)


# --------------------------------------------------------------------------- the generator


def solution_notebook(*cells) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = list(cells)
    return notebook


def md(source, tags=()):
    cell = nbformat.v4.new_markdown_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def code(source, outputs=True):
    cell = nbformat.v4.new_code_cell(source)
    if outputs:
        cell.execution_count = 3
        cell.outputs = [nbformat.v4.new_output("stream", text="printed\n")]
    return cell


TITLE = "# Solutions 7. Testing\n\nIntro.\n\n<!-- BEGIN SOLUTION -->\nSolution-only note.\n<!-- END SOLUTION -->"
FUNCTION = (
    'def f(x):\n    """Doc."""\n    # BEGIN SOLUTION\n    y = x + 1\n    return y\n    # END SOLUTION\n\n\nchecks.f(f)'
)
TOP_LEVEL = "# BEGIN SOLUTION\nanswer = 3\nfirst, second = 1, 2\nanswer += 1\n# END SOLUTION\nprint(answer)"


def test_generator_replaces_regions_drops_solutions_and_strips_outputs():
    install = code("%pip install x", outputs=False)
    install.metadata["tags"] = ["colab-install", "remove-cell"]
    notebook = solution_notebook(
        md(TITLE),
        install,
        md("## Task 1. One"),
        code(FUNCTION),
        md("## Task 2. Two"),
        code(TOP_LEVEL),
        md("**Answer.** secret", tags=["solution"]),
    )
    exercise = tool.make_exercise(notebook)
    sources = [cell.source for cell in exercise.cells]
    assert sources[0] == "# Exercises 7. Testing\n\nIntro."
    assert sources[1] == "%pip install x"
    assert sources[3] == (
        'def f(x):\n    """Doc."""\n    raise NotImplementedError("Task 1: your code here")\n\n\nchecks.f(f)'
    )
    assert sources[5] == (
        "answer = None  # Task 2: your answer\nfirst = None  # Task 2: your answer\n"
        "second = None  # Task 2: your answer\nprint(answer)"
    )
    assert len(exercise.cells) == 6  # the answer cell is dropped
    for cell in exercise.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert exercise.cells[1].metadata.tags == ["colab-install", "remove-cell"]
    assert exercise.cells[3].metadata.tags == ["nbval-ignore-output"]
    assert [cell.id for cell in exercise.cells] == [cell.id for cell in notebook.cells[:6]]
    assert notebook.cells[3].outputs, "the solution itself is not changed"


@pytest.mark.parametrize(
    "cells, message",
    [
        ([md("## Task 1"), code("x = 1")], "first cell must start with '# Solutions N. Title'"),
        ([md(TITLE), md("## Task 1"), code("x = 1")], "no solution region"),
        ([md(TITLE), code("# BEGIN SOLUTION\nx = 1\n# END SOLUTION")], "before the first '## Task N' heading"),
        ([md(TITLE), md("## Task 1"), code("# BEGIN SOLUTION\nx = 1")], "without '# END SOLUTION'"),
        ([md(TITLE), md("## Task 1"), code("x = 1\n# END SOLUTION")], "without '# BEGIN SOLUTION'"),
        ([md(TITLE), md("## Task 1"), code("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION")], "nested"),
        ([md(TITLE), md("## Task 1"), code("# BEGIN SOLUTION\nprint(1)\n# END SOLUTION")], "must assign a name"),
        (
            [md(TITLE + "\n<!-- BEGIN SOLUTION -->"), md("## Task 1"), code("# BEGIN SOLUTION\nx = 1\n# END SOLUTION")],
            "without '<!-- END SOLUTION -->'",
        ),
    ],
)
def test_generator_rejects_badly_marked_solutions(cells, message):
    with pytest.raises(tool.SolutionFormatError, match=re.escape(message)):
        tool.make_exercise(solution_notebook(*cells))


def test_a_hand_edit_a_stale_and_a_missing_exercise_are_caught(tmp_path):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    shutil.copytree(ROOT / "solutions", solutions)
    exercises.mkdir()
    assert tool.write_exercises(solutions, exercises)  # writes all of them
    assert tool.differences(solutions, exercises) == []
    assert tool.write_exercises(solutions, exercises) == []  # nothing changes the second time

    edited = exercises / SOLUTIONS[0].name
    notebook = nbformat.read(edited, as_version=4)
    notebook.cells[-1].source += "\nA hand edit."
    nbformat.write(notebook, edited)
    (exercises / "99_stale.ipynb").write_text("{}")
    (exercises / SOLUTIONS[1].name).unlink()
    problems = tool.differences(solutions, exercises)
    assert problems == [
        f"{SOLUTIONS[0].name}: differs from its solution (edited by hand, or not regenerated)",
        f"{SOLUTIONS[1].name}: missing",
        "99_stale.ipynb: no solution notebook generates it",
    ]


def test_check_mode_reports_no_difference_for_the_repository(capsys):
    assert tool.main(["--check"]) == 0
    assert capsys.readouterr().out == ""
