"""Tables: cell formatting that keeps what matters (-0.0, NaN), HTML and text forms."""

from __future__ import annotations

import math

import pytest

from relu_course.tables import Table, format_value


@pytest.mark.parametrize(
    "value, text",
    [
        (-0.0, "-0.0"),
        (0.0, "0.0"),
        (math.nan, "nan"),
        (math.inf, "inf"),
        (1 / 3, "0.333333"),
        (2.0, "2.0"),
        (-1e20, "-1e+20"),
        (7, "7"),
        (True, "True"),
    ],
)
def test_format_value(value, text):
    assert format_value(value) == text


def test_text_and_html_forms():
    table = Table(["x", "relu(x)"], [[-0.0, -0.0], [2.5, 2.5], ["<b>", math.nan]])
    lines = str(table).splitlines()
    assert lines[0].split() == ["x", "relu(x)"]
    assert lines[2].split() == ["-0.0", "-0.0"]
    html = table._repr_html_()
    assert ">relu(x)</th>" in html and "&lt;b&gt;" in html and ">nan</td>" in html


def test_rows_must_match_the_header():
    with pytest.raises(ValueError, match="row 1 has 1 cells"):
        Table(["a", "b"], [[1, 2], [3]])
