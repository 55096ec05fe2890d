"""pytest plugin: make nbval compare figures as well as text.

nbval skips ``image/png`` outputs by default. The course's figures are deterministic
(seeded data, pinned matplotlib), so a changed figure is a changed result: this plugin
removes ``image/png`` from the outputs nbval skips. It is loaded for every pytest run
of the project through ``addopts`` in pyproject.toml.
"""

from __future__ import annotations

import pytest
from nbval.plugin import IPyNbFile


def pytest_collectstart(collector: pytest.Collector) -> None:
    if isinstance(collector, IPyNbFile):
        collector.skip_compare = tuple(key for key in collector.skip_compare if key != "image/png")
