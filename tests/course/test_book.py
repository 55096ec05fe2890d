"""The book: a strict Jupyter Book 1 build, its links, and every page checked in a real browser.

The build runs once per test session (module fixture) with warnings as errors. The
browser tests serve _build/html on localhost and open each page of the table of contents
in headless Chromium (Debian's chromium and chromium-driver; .ci/run installs them), and
save a screenshot of each chapter under _build/screenshots/.
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from tests.course.notebooks import ROOT
from tools.colab import repository_url

HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"


def toc_files() -> list[str]:
    """Every file named in _toc.yml (without extension), root first."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def notebook_pages() -> list[str]:
    return [name for name in toc_files() if (ROOT / f"{name}.ipynb").exists()]


def chapter_pages() -> list[str]:
    return [name for name in notebook_pages() if name.startswith("book/")]


@pytest.fixture(scope="module")
def built_book() -> Path:
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "--all", "-W", "-n", "--keep-going"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "build succeeded" in result.stdout
    return HTML


# --------------------------------------------------------------------------- the built files


def test_every_toc_page_is_rendered(built_book):
    assert (built_book / "index.html").exists()
    for name in toc_files():
        assert (built_book / f"{name}.html").exists(), name


def test_chapter_pages_show_their_stored_figures(built_book):
    for name in chapter_pages():
        page = (built_book / f"{name}.html").read_text(encoding="utf-8")
        images = re.findall(r'<img[^>]+src="([^"]+\.png)"', page)
        assert images, f"{name}: no figures on the page"
        for source in images:
            assert (built_book / Path(name).parent / source).resolve().exists(), source


def test_notebook_pages_have_a_colab_button_to_their_own_notebook(built_book):
    base = repository_url().replace("https://github.com/", "https://colab.research.google.com/github/")
    for name in notebook_pages():
        page = (built_book / f"{name}.html").read_text(encoding="utf-8")
        assert f"{base}/blob/main/{name}.ipynb" in page, name


def test_install_cell_is_left_out_of_the_pages(built_book):
    for name in toc_files():
        page = (built_book / f"{name}.html").read_text(encoding="utf-8")
        assert "google.colab" not in page, name


def test_references_are_rendered(built_book):
    page = (built_book / "book" / "01_what_is_relu.html").read_text(encoding="utf-8")
    assert "Rectified linear units improve restricted Boltzmann machines" in page


class _LinkCollector(html.parser.HTMLParser):
    """Collects the ids defined in a page and the local links it makes."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)
            if name in ("href", "src") and value and not urlsplit(value).scheme and not value.startswith("//"):
                self.links.append(value)


@functools.cache
def _parse(page: Path) -> _LinkCollector:
    collector = _LinkCollector()
    collector.feed(page.read_text(encoding="utf-8"))
    return collector


def test_every_internal_link_resolves(built_book):
    broken = []
    pages = [page for page in built_book.rglob("*.html") if "_static" not in page.parts]
    for page in pages:
        for link in _parse(page).links:
            parts = urlsplit(link)
            target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(built_book)} -> {link}")
            elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in _parse(target).ids:
                broken.append(f"{page.relative_to(built_book)} -> {link} (no such anchor)")
    assert not broken, "\n".join(broken[:30])


# --------------------------------------------------------------------------- in a browser


class _Site(http.server.ThreadingHTTPServer):
    """Serves _build/html on a free localhost port and remembers every 404."""

    def __init__(self, folder: Path) -> None:
        self.missing: list[str] = []
        handler = functools.partial(_QuietHandler, directory=str(folder))
        super().__init__(("127.0.0.1", 0), handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        if code == 404:
            self.server.missing.append(self.path)
        super().send_error(code, message, explain)


@pytest.fixture(scope="module")
def site(built_book):
    server = _Site(built_book)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or chromedriver is None:
        pytest.skip("Chromium is not installed (Debian packages chromium and chromium-driver; .ci/run installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
        "--window-size=1280,900",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _open(browser, url: str) -> None:
    browser.get(url)
    browser.execute_script("return document.readyState")


def _show_whole_page(browser) -> None:
    """Make the window as tall as the page, so every figure is on screen (and in the screenshot)."""
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1280, min(max(height, 900), 30000))


IMAGES = """return Array.from(document.querySelectorAll('article img')).map(
    image => [image.getAttribute('src'), image.complete, image.naturalWidth, image.getBoundingClientRect().width]);"""


@pytest.mark.parametrize("page", toc_files())
def test_page_loads_with_its_assets_and_visible_figures(site, browser, page):
    site.missing.clear()
    browser.set_window_size(1280, 900)
    _open(browser, f"{site.url}/{page}.html")
    _show_whole_page(browser)
    assert browser.title, page
    assert site.missing == [], f"{page}: missing local files {site.missing}"
    for source, complete, natural_width, shown_width in browser.execute_script(IMAGES):
        assert complete and natural_width > 0 and shown_width > 0, f"{page}: figure {source} is not visible"
    if page in chapter_pages():
        assert browser.execute_script(IMAGES), f"{page}: no figures"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(SCREENSHOTS / f"{Path(page).name}.png"))


@pytest.mark.parametrize("page", notebook_pages())
def test_notebook_page_shows_a_colab_button(site, browser, page):
    _open(browser, f"{site.url}/{page}.html")
    links = browser.execute_script(
        "return Array.from(document.querySelectorAll('a')).map(a => a.href).filter(h => h.includes('colab.research'));"
    )
    assert any(link.endswith(f"/blob/main/{page}.ipynb") for link in links), links


def test_search_page_finds_relu(site, browser):
    from selenium.webdriver.support.ui import WebDriverWait

    _open(browser, f"{site.url}/search.html?q=ReLU")
    count = "return document.querySelectorAll('#search-results li, ul.search li').length"
    WebDriverWait(browser, 20).until(lambda driver: driver.execute_script(count) > 0)
    assert browser.execute_script(count) > 0
