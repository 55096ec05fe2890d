"""Each public function of a chapter module says where the book uses it, and says it right.

Its docstring has a line ``Used in: Chapter N (§N.a, §N.b).`` listing the sections of
the chapter whose code or text names it as ``module.function``. The test reads the
chapters and fails when a line is missing or out of date.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections import defaultdict

import pytest

from tests.course.notebooks import read
from tests.package.test_layers import CHAPTERS
from tests.paths import ROOT

CHAPTER_MODULES = tuple(sorted(CHAPTERS))  # the chapter modules, as the layer test lists them
SECTION = re.compile(r"^## (\d+)\.(\d+) ", re.MULTILINE)
MENTION = re.compile(r"\b(" + "|".join(CHAPTER_MODULES) + r")\.([A-Za-z_]\w*)\b")


def sections_by_name() -> dict[tuple[str, str], set[tuple[int, int]]]:
    """(module, name) -> the (chapter, section) pairs of the book that mention it."""
    found: dict[tuple[str, str], set[tuple[int, int]]] = defaultdict(set)
    for path in sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb")):
        section = None
        for cell in read(path.relative_to(ROOT)).cells:
            for line in cell.source.splitlines():
                heading = SECTION.match(line) if cell.cell_type == "markdown" else None
                if heading:
                    section = (int(heading.group(1)), int(heading.group(2)))
                for module, name in MENTION.findall(line):
                    if section is not None:
                        found[module, name].add(section)
    return found


def used_in_line(sections: set[tuple[int, int]]) -> str:
    """The docstring line for these sections, e.g. ``Used in: Chapter 3 (§3.2, §3.3).``"""
    by_chapter: dict[int, list[str]] = defaultdict(list)
    for chapter, number in sorted(sections):
        by_chapter[chapter].append(f"§{chapter}.{number}")
    return "Used in: " + "; ".join(f"Chapter {c} ({', '.join(s)})" for c, s in by_chapter.items()) + "."


def public_functions() -> list[tuple[str, str]]:
    names = []
    for module_name in CHAPTER_MODULES:
        module = importlib.import_module(f"relu_course.{module_name}")
        names += [(module_name, n) for n in module.__all__ if inspect.isfunction(getattr(module, n))]
    return names


USES = sections_by_name()


@pytest.mark.parametrize(("module_name", "name"), public_functions(), ids=lambda value: value)
def test_docstring_says_where_the_book_uses_it(module_name, name):
    sections = USES.get((module_name, name))
    assert sections, f"{module_name}.{name} is named in no chapter: move it into its chapter or out of the API"
    docstring = inspect.getdoc(getattr(importlib.import_module(f"relu_course.{module_name}"), name)) or ""
    assert used_in_line(sections) in docstring.splitlines()


def test_used_in_line_format():
    assert used_in_line({(3, 3), (3, 2)}) == "Used in: Chapter 3 (§3.2, §3.3)."
    assert used_in_line({(2, 6), (4, 1)}) == "Used in: Chapter 2 (§2.6); Chapter 4 (§4.1)."
