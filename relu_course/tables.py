"""Small tables that show as HTML in notebooks and in the book, and as text elsewhere."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

__all__ = ["Table", "format_value"]

_CELL_STYLE = "padding: 0.2em 0.9em; text-align: left; font-family: monospace; white-space: pre"


def format_value(value: object, digits: int = 6) -> str:
    """Format one table cell.

    Floats keep the sign of zero (``-0.0``), show NaN and infinities by name, and
    always look like floats (``2.0``, not ``2``); other floats use ``digits``
    significant digits. Everything else uses ``str``.
    """
    if isinstance(value, bool) or not isinstance(value, float):
        return str(value)
    if math.isnan(value):
        return "nan"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    text = f"{value:.{digits}g}"
    return text if any(mark in text for mark in ".ein") else f"{text}.0"  # 2.0, not 2


class Table:
    """A table of rows under a header.

    In a notebook it renders as an HTML table; ``str(table)`` gives aligned text.

    Parameters
    ----------
    header : sequence of str
        Column names.
    rows : sequence of sequences
        One sequence per row, as long as ``header``. Cells are formatted with
        ``format_value``, so floats, NaN and -0.0 read clearly.
    digits : int, default 6
        Significant digits for float cells.
    """

    def __init__(self, header: Sequence[str], rows: Sequence[Sequence[object]], digits: int = 6) -> None:
        self.header = [str(name) for name in header]
        self.rows = [[format_value(cell, digits) for cell in row] for row in rows]
        for number, row in enumerate(self.rows):
            if len(row) != len(self.header):
                raise ValueError(f"row {number} has {len(row)} cells, the header has {len(self.header)}.")

    def __str__(self) -> str:
        widths = [max(len(cell) for cell in column) for column in zip(self.header, *self.rows)]
        lines = [self.header, ["-" * width for width in widths], *self.rows]
        return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        # Inline styles, so the table looks the same in the book, Jupyter and Colab.
        head = "".join(f'<th style="{_CELL_STYLE}">{html.escape(name)}</th>' for name in self.header)
        body = "".join(
            "<tr>" + "".join(f'<td style="{_CELL_STYLE}">{html.escape(cell)}</td>' for cell in row) + "</tr>"
            for row in self.rows
        )
        return (
            f'<table class="relu-course-table" style="border-collapse: collapse">\n'
            f"<thead><tr>{head}</tr></thead>\n<tbody>{body}</tbody>\n</table>"
        )
