"""Every public module of the package is on the book's API page."""

from __future__ import annotations

import re

import relu_course
from tests.paths import ROOT


def test_every_public_module_is_on_the_api_page():
    page = (ROOT / "book" / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"automodule:: relu_course\.(\w+)", page))
    public = {name for name in relu_course.__all__ if name != "__version__"}
    assert public - documented == set(), "add these modules to book/api.md"
    assert documented - public == set(), "the API page names modules the package does not have"
