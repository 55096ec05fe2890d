"""The book builds with Jupyter Book 1, warnings as errors, and shows what the notebooks stored."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.notebooks import ROOT
from tools.colab import repository_url

BUILD = ROOT / "_build"
HTML = BUILD / "html"


def toc_files() -> list[str]:
    """Every file named in _toc.yml (without extension), root first."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


@pytest.fixture(scope="module")
def built_book() -> Path:
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "--all", "-W", "-n", "--keep-going"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "build succeeded" in result.stdout
    return HTML


def test_every_toc_page_is_rendered(built_book):
    assert (built_book / "index.html").exists()
    for name in toc_files():
        assert (built_book / f"{name}.html").exists(), name


def test_notebook_pages_show_their_stored_figures(built_book):
    for name in toc_files():
        if not (ROOT / f"{name}.ipynb").exists():
            continue
        page = (built_book / f"{name}.html").read_text(encoding="utf-8")
        images = re.findall(r'<img[^>]+src="([^"]+\.png)"', page)
        assert images, f"{name}: no figures on the page"
        for source in images:
            assert (built_book / Path(name).parent / source).resolve().exists(), source


def test_notebook_pages_have_a_colab_button_to_their_own_notebook(built_book):
    base = repository_url().replace("https://github.com/", "https://colab.research.google.com/github/")
    for name in toc_files():
        if (ROOT / f"{name}.ipynb").exists():
            page = (built_book / f"{name}.html").read_text(encoding="utf-8")
            assert f"{base}/blob/main/{name}.ipynb" in page, name


def test_install_cell_is_left_out_of_the_page(built_book):
    for name in toc_files():
        page = (built_book / f"{name}.html").read_text(encoding="utf-8")
        assert "google.colab" not in page, name


def test_references_are_rendered(built_book):
    page = (built_book / "book" / "01_what_is_relu.html").read_text(encoding="utf-8")
    assert "Rectified linear units improve restricted Boltzmann machines" in page
