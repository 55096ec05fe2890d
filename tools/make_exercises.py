"""Generate the exercise notebooks from the solution notebooks: ``make exercises``.

Usage: python tools/make_exercises.py [--check]

``solutions/NN_name.ipynb`` is the single source of ``exercises/NN_name.ipynb``. The
exercise is the solution with the solutions taken out:

* In a code cell, the lines from ``# BEGIN SOLUTION`` to ``# END SOLUTION`` are replaced
  by a stub. Inside a function (an indented region) the stub is
  ``raise NotImplementedError("Task N: your code here")``; at the top level of a cell
  it is ``NAME = None  # Task N: your answer`` for every name the region assigns.
  N is the number of the last ``## Task N.`` heading above the cell.
* In a markdown cell, the lines from ``<!-- BEGIN SOLUTION -->`` to
  ``<!-- END SOLUTION -->`` are dropped (the markers are HTML comments, invisible in
  the rendered solution). A cell tagged ``solution`` is dropped whole.
* The title ``# Solutions N. Title`` becomes ``# Exercises N. Title``.
* Outputs and execution counts are removed: learners start from a clean notebook. Each
  code cell but the Colab install cell is tagged ``nbval-ignore-output``, so nbval
  runs the exercise (no cell may raise) and compares nothing.

The output depends only on the solutions, so running the tool twice changes nothing.
With ``--check`` it writes nothing and exits with status 1 if ``exercises/`` differs
from what it would write (a hand edit, a stale or a missing exercise).
"""

from __future__ import annotations

import ast
import re
import sys
import textwrap
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"

CODE_BEGIN = "# BEGIN SOLUTION"
CODE_END = "# END SOLUTION"
MARKDOWN_BEGIN = "<!-- BEGIN SOLUTION -->"
MARKDOWN_END = "<!-- END SOLUTION -->"
SOLUTION_TAG = "solution"
INSTALL_TAG = "colab-install"
NBVAL_TAG = "nbval-ignore-output"
TASK_HEADING = re.compile(r"^#{2,4} Task (\d+)\b", re.MULTILINE)
SOLUTION_TITLE = re.compile(r"^# Solutions (\d+)\. (.+)$")


class SolutionFormatError(ValueError):
    """A solution notebook breaks the marker rules; the message names the notebook and cell."""


def stub_for_region(region: list[str], indent: str, task: int) -> list[str]:
    """The lines that replace one solution region in the exercise.

    Parameters
    ----------
    region : list of str
        The solution's lines between the markers (without them).
    indent : str
        The indentation of the ``# BEGIN SOLUTION`` line.
    task : int
        The task the region belongs to.

    Returns
    -------
    list of str
        ``raise NotImplementedError(...)`` for an indented region (the body of a
        function), ``NAME = None  # Task N: your answer`` lines for a top-level one.
    """
    if indent:
        return [f'{indent}raise NotImplementedError("Task {task}: your code here")']
    names = assigned_names("\n".join(region))
    if not names:
        raise SolutionFormatError("a top-level solution region must assign a name (its stub sets it to None)")
    return [f"{name} = None  # Task {task}: your answer" for name in names]


def assigned_names(code: str) -> list[str]:
    """Names assigned by the top-level statements of ``code``, in order, without repeats."""
    try:
        tree = ast.parse(textwrap.dedent(code))
    except SyntaxError as error:
        raise SolutionFormatError(f"a solution region is not valid Python on its own: {error}") from None
    names: list[str] = []
    for statement in tree.body:
        targets = (
            statement.targets
            if isinstance(statement, ast.Assign)
            else ([statement.target] if isinstance(statement, ast.AnnAssign) else [])
        )
        for target in targets:
            for node in ast.walk(target):
                if isinstance(node, ast.Name) and node.id not in names:
                    names.append(node.id)
    return names


def exercise_code(source: str, task: int | None) -> tuple[str, int]:
    """Replace the solution regions of a code cell; return the new source and the region count."""
    lines = source.split("\n")
    output: list[str] = []
    region: list[str] | None = None
    indent = ""
    regions = 0
    for line in lines:
        marker = line.strip()
        if marker == CODE_BEGIN:
            if region is not None:
                raise SolutionFormatError(f"nested '{CODE_BEGIN}'")
            if task is None:
                raise SolutionFormatError("a solution region before the first '## Task N' heading")
            region, indent = [], line[: len(line) - len(line.lstrip())]
        elif marker == CODE_END:
            if region is None:
                raise SolutionFormatError(f"'{CODE_END}' without '{CODE_BEGIN}'")
            output += stub_for_region(region, indent, task)  # type: ignore[arg-type]
            region = None
            regions += 1
        elif region is not None:
            region.append(line)
        else:
            output.append(line)
    if region is not None:
        raise SolutionFormatError(f"'{CODE_BEGIN}' without '{CODE_END}'")
    return "\n".join(output), regions


def exercise_markdown(source: str) -> tuple[str, int]:
    """Drop the solution-only lines of a markdown cell; return the new source and the region count."""
    output: list[str] = []
    inside = False
    regions = 0
    for line in source.split("\n"):
        marker = line.strip()
        if marker == MARKDOWN_BEGIN:
            if inside:
                raise SolutionFormatError(f"nested '{MARKDOWN_BEGIN}'")
            inside = True
        elif marker == MARKDOWN_END:
            if not inside:
                raise SolutionFormatError(f"'{MARKDOWN_END}' without '{MARKDOWN_BEGIN}'")
            inside = False
            regions += 1
        elif not inside:
            output.append(line)
    if inside:
        raise SolutionFormatError(f"'{MARKDOWN_BEGIN}' without '{MARKDOWN_END}'")
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(output)).strip("\n")
    return text, regions


def exercise_title(source: str) -> str:
    """``# Solutions N. Title`` on the first line becomes ``# Exercises N. Title``."""
    first, _, rest = source.partition("\n")
    match = SOLUTION_TITLE.match(first)
    if not match:
        raise SolutionFormatError("the first cell must start with '# Solutions N. Title'")
    return f"# Exercises {match.group(1)}. {match.group(2)}" + (f"\n{rest}" if rest else "")


def make_exercise(solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The exercise notebook for a solution notebook (the solution is not changed).

    Raises
    ------
    SolutionFormatError
        If the markers are unbalanced or nested, a region lies outside a task, a
        top-level region assigns nothing, the title is not ``# Solutions N. Title``, or
        no code cell has a solution region.
    """
    exercise = nbformat.v4.new_notebook()
    exercise.metadata = _copy(solution.metadata)
    task: int | None = None
    code_regions = 0
    for index, cell in enumerate(solution.cells):
        try:
            new_cell, count = _exercise_cell(cell, index, task)
        except SolutionFormatError as error:
            raise SolutionFormatError(f"cell {index}: {error}") from None
        if cell.cell_type == "markdown":
            headings = TASK_HEADING.findall(cell.source)
            task = int(headings[-1]) if headings else task
        if cell.cell_type == "code":
            code_regions += count
        if new_cell is not None:
            exercise.cells.append(new_cell)
    if code_regions == 0:
        raise SolutionFormatError("no solution region: mark the solutions with '# BEGIN SOLUTION' / '# END SOLUTION'")
    nbformat.validate(exercise)
    return exercise


def _exercise_cell(
    cell: nbformat.NotebookNode, index: int, task: int | None
) -> tuple[nbformat.NotebookNode | None, int]:
    """The exercise version of one cell (None to drop it) and its number of solution regions."""
    tags = list(cell.metadata.get("tags", []))
    if SOLUTION_TAG in tags:
        return None, 1
    new = _copy(cell)
    count = 0
    if cell.cell_type == "markdown":
        new.source, count = exercise_markdown(cell.source)
        if index == 0:
            new.source = exercise_title(new.source)
        if not new.source.strip():
            return None, count
    elif cell.cell_type == "code":
        new.source, count = exercise_code(cell.source, task)
        new.outputs = []
        new.execution_count = None
        if INSTALL_TAG not in tags and NBVAL_TAG not in tags:
            new.metadata["tags"] = tags + [NBVAL_TAG]
    elif index == 0:
        raise SolutionFormatError("the first cell must be a markdown title")
    return new, count


def _copy(node: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A deep copy, so the exercise never shares a list or dict with the solution."""
    return nbformat.from_dict(_deep(node))


def _deep(value: object) -> object:
    if isinstance(value, dict):
        return {key: _deep(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_deep(item) for item in value]
    return value


def exercise_text(solution_path: Path) -> str:
    """The exact text of the exercise notebook generated from ``solution_path``."""
    solution = nbformat.read(solution_path, as_version=4)
    try:
        exercise = make_exercise(solution)
    except SolutionFormatError as error:
        raise SolutionFormatError(f"{solution_path.name}: {error}") from None
    text = nbformat.writes(exercise)
    return text if text.endswith("\n") else text + "\n"


def expected_exercises(solutions: Path = SOLUTIONS, exercises: Path = EXERCISES) -> dict[Path, str]:
    """Every exercise path and the text the tool writes there."""
    return {exercises / path.name: exercise_text(path) for path in sorted(solutions.glob("*.ipynb"))}


def differences(solutions: Path = SOLUTIONS, exercises: Path = EXERCISES) -> list[str]:
    """What in ``exercises`` differs from the tool's output: one line per notebook; empty if none."""
    expected = expected_exercises(solutions, exercises)
    problems = []
    for path, text in expected.items():
        if not path.exists():
            problems.append(f"{path.name}: missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{path.name}: differs from its solution (edited by hand, or not regenerated)")
    for path in sorted(exercises.glob("*.ipynb")):
        if path not in expected:
            problems.append(f"{path.name}: no solution notebook generates it")
    return problems


def write_exercises(solutions: Path = SOLUTIONS, exercises: Path = EXERCISES) -> list[Path]:
    """Write every exercise notebook; return the paths whose content changed."""
    changed = []
    for path, text in expected_exercises(solutions, exercises).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def main(argv: list[str]) -> int:
    if argv not in ([], ["--check"]):
        print(__doc__.split("\n\n")[1])
        return 2
    try:
        if argv == ["--check"]:
            problems = differences()
            for line in problems:
                print(line)
            if problems:
                print("run `make exercises` to regenerate exercises/ from solutions/")
            return 1 if problems else 0
        changed = write_exercises()
    except SolutionFormatError as error:
        print(f"error: {error}")
        return 1
    for path in changed:
        print(f"wrote {path.relative_to(ROOT)}")
    stale = [line for line in differences() if line.endswith("no solution notebook generates it")]
    for line in stale:
        print(f"warning: {line} (delete it or add its solution)")
    print(f"{len(expected_exercises())} exercise notebook(s) up to date")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
