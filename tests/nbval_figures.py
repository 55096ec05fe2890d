"""pytest plugin: make nbval compare figures as well as text.

nbval skips ``image/png`` outputs by default. The course's figures are deterministic
(seeded data, pinned matplotlib), so a changed figure is a changed result: this plugin
removes ``image/png`` from the outputs nbval skips. It is loaded for every pytest run
of the project through ``addopts`` in pyproject.toml.

Figures are compared with matplotlib's own image comparison
(``matplotlib.testing.compare.compare_images``): two figures match when the RMS of
their pixel difference, on the 0-255 scale, is at most ``FIGURE_RMS_TOLERANCE``.
Figures are stored at twice their pixels (1623 x 703 for one row of panels). The
same curves drawn from data that differ in the last bits on another CPU antialias a
few pixels differently. Measured under tools/portability.py's CPU variants: RMS up
to 0.016 for every stored figure but one, and 0.054 for Chapter 6's gradient along a
line through 50 layers, where weights drawn in float32 (PyTorch's float32 ``normal_``
differs in the last bits between its AVX2 and scalar kernels) move one point of the
curve by about a fifth of an image pixel. One changed image pixel gives an RMS near
0.14, a changed pixel of the 1x figure (2 x 2 image pixels) near 0.28, and the curve
of a chaotic training run that ends elsewhere 20 or more. Text outputs are compared
exactly.
"""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path

import pytest
from nbval.plugin import IPyNbCell, IPyNbFile

FIGURE_RMS_TOLERANCE = 0.08


def figures_match(reference_png: str, test_png: str, tolerance: float) -> bool:
    """True when two base64 PNGs differ by an RMS of at most ``tolerance`` (0-255 scale)."""
    from matplotlib.testing.compare import compare_images

    with tempfile.TemporaryDirectory() as folder:
        expected, actual = Path(folder, "expected.png"), Path(folder, "actual.png")
        expected.write_bytes(base64.b64decode(reference_png))
        actual.write_bytes(base64.b64decode(test_png))
        try:
            return compare_images(str(expected), str(actual), tol=tolerance) is None
        except Exception:  # e.g. the images have different sizes
            return False


def _pngs(outputs) -> list[dict]:
    return [output["data"] for output in outputs if "image/png" in output.get("data", {})]


_exact_compare_outputs = IPyNbCell.compare_outputs


def compare_outputs_with_figure_tolerance(self, test, ref, skip_compare=None):
    """nbval's exact comparison, after accepting figures that match within the tolerance."""
    for test_data, reference_data in zip(_pngs(test), _pngs(ref)):
        if test_data["image/png"] != reference_data["image/png"] and figures_match(
            reference_data["image/png"], test_data["image/png"], FIGURE_RMS_TOLERANCE
        ):
            test_data["image/png"] = reference_data["image/png"]
    return _exact_compare_outputs(self, test, ref, skip_compare)


IPyNbCell.compare_outputs = compare_outputs_with_figure_tolerance


def pytest_collectstart(collector: pytest.Collector) -> None:
    if isinstance(collector, IPyNbFile):
        collector.skip_compare = tuple(key for key in collector.skip_compare if key != "image/png")
