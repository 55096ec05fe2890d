"""The book: a strict Jupyter Book 1 build, its links, and every page checked in a real browser.

The build runs once per test session (module fixture) with warnings as errors. The
browser tests serve _build/html on localhost and open each page of the table of contents
in headless Chromium (Debian's chromium and chromium-driver; .ci/run installs them): in a
1280 px window every formula is typeset by the book's own MathJax, without an error, the
page asks no other host for anything, and no line breaks between a formula and its
punctuation; at a phone's 390 x 844 nothing sticks out sideways either. Screenshots of
each chapter, desktop and phone, land in _build/screenshots/. The checks live in
tests/course/browser.py; pages with planted faults show that each check fails.
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import itertools
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from tests.course import browser as checks
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


#: A chapter page, its HTML and its figures, stays under this many bytes (the theme's and
#: MathJax's files are shared by every page and cached by the browser).
PAGE_WEIGHT_LIMIT = 2 * 1024 * 1024


def page_weight(built_book: Path, page: str) -> tuple[int, int]:
    """The bytes of a built page's HTML and of the images under _images/ it shows."""
    page_html = built_book / f"{page}.html"
    sources = set(re.findall(r'<img[^>]*src="([^"]*_images/[^"]+)"', page_html.read_text(encoding="utf-8")))
    images = sum((page_html.parent / unquote(source)).stat().st_size for source in sources)
    return page_html.stat().st_size, images


@pytest.mark.parametrize("page", chapter_pages())
def test_chapter_page_with_its_figures_weighs_at_most_2_mb(built_book, page):
    html_bytes, image_bytes = page_weight(built_book, page)
    assert image_bytes > 0, f"{page}: no figures found"
    assert html_bytes + image_bytes <= PAGE_WEIGHT_LIMIT, (
        f"{page}: {html_bytes / 1024:.0f} KiB of HTML and {image_bytes / 1024:.0f} KiB of figures"
    )


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
    for argument in checks.CHROMIUM_ARGUMENTS:
        options.add_argument(argument)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium')}")
    options.add_argument("--window-size=1280,900")
    options.set_capability("goog:loggingPrefs", checks.LOGGING_PREFERENCES)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
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
COLAB_LINKS = "return Array.from(document.querySelectorAll('a[href*=\"colab.research\"]')).map(a => a.href);"


@dataclass
class DesktopVisit:
    """What one page showed in the 1280 px window."""

    title: str
    missing: list[str]
    images: list[list]
    colab_links: list[str]
    math: checks.MathReport
    foreign: list[str]
    layout: list[str]
    figures: list[str]


@pytest.fixture(scope="module")
def desktop_visits() -> dict[str, DesktopVisit]:
    """The pages visited so far, so that each page is loaded once for all its desktop tests."""
    return {}


def _open_and_typeset(browser, url: str, page_html: str) -> checks.MathReport:
    """Open ``url`` with the browser's logs emptied first, and wait for MathJax to typeset it."""
    checks.requested_urls(browser)  # what earlier pages asked for
    browser.get_log("browser")
    _open(browser, url)
    return checks.typeset_math(browser, page_html)


def visit_on_desktop(site, browser, desktop_visits, page: str) -> DesktopVisit:
    """Open a page of the book at 1280 px (once), check it and save a screenshot of each chapter."""
    if page not in desktop_visits:
        site.missing.clear()
        browser.set_window_size(1280, 900)
        page_html = (HTML / f"{page}.html").read_text(encoding="utf-8")
        math = _open_and_typeset(browser, f"{site.url}/{page}.html", page_html)
        layout = checks.layout_problems(browser)
        _show_whole_page(browser)  # which also loads the figures further down
        images, colab_links = browser.execute_script(IMAGES), browser.execute_script(COLAB_LINKS)
        foreign = checks.foreign_requests(checks.requested_urls(browser), site.url)
        figures = checks.figure_problems(browser)
        desktop_visits[page] = DesktopVisit(
            browser.title, list(site.missing), images, colab_links, math, foreign, layout, figures
        )
        if page in chapter_pages():
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            browser.save_screenshot(str(SCREENSHOTS / f"{Path(page).name}.png"))
    return desktop_visits[page]


@pytest.mark.parametrize("page", toc_files())
def test_page_loads_with_its_assets_and_visible_figures(site, browser, desktop_visits, page):
    visit = visit_on_desktop(site, browser, desktop_visits, page)
    assert visit.title, page
    assert visit.missing == [], f"{page}: missing local files {visit.missing}"
    for source, complete, natural_width, shown_width in visit.images:
        assert complete and natural_width > 0 and shown_width > 0, f"{page}: figure {source} is not visible"
    if page in chapter_pages():
        assert visit.images, f"{page}: no figures"


@pytest.mark.parametrize("page", toc_files())
def test_page_math_is_typeset_without_errors(site, browser, desktop_visits, page):
    report = visit_on_desktop(site, browser, desktop_visits, page).math
    assert checks.math_problems(report) == [], f"{page}: {checks.math_problems(report)}"


@pytest.mark.parametrize("page", toc_files())
def test_page_asks_no_other_host(site, browser, desktop_visits, page):
    foreign = visit_on_desktop(site, browser, desktop_visits, page).foreign
    assert foreign == [], f"{page} needs another host: {foreign}"


@pytest.mark.parametrize("page", notebook_pages())
def test_notebook_page_shows_a_colab_button(site, browser, desktop_visits, page):
    links = visit_on_desktop(site, browser, desktop_visits, page).colab_links
    assert any(link.endswith(f"/blob/main/{page}.ipynb") for link in links), links


@pytest.mark.parametrize("page", toc_files())
def test_page_lays_out_in_a_desktop_window(site, browser, desktop_visits, page):
    layout = visit_on_desktop(site, browser, desktop_visits, page).layout
    assert layout == [], f"{page} at 1280 px:\n" + "\n".join(layout[:10])


@pytest.mark.parametrize("page", toc_files())
def test_page_figures_are_sharp_and_in_proportion(site, browser, desktop_visits, page):
    figures = visit_on_desktop(site, browser, desktop_visits, page).figures
    assert figures == [], f"{page} at 1280 px:\n" + "\n".join(figures[:10])


@pytest.mark.parametrize("page", toc_files())
def test_page_lays_out_on_a_phone(site, browser, page):
    """At 390 x 844: nothing sticks out sideways, no formula is parted from its punctuation,
    every figure keeps its proportions and stays sharp."""
    checks.emulate_phone(browser)
    try:
        page_html = (HTML / f"{page}.html").read_text(encoding="utf-8")
        _open_and_typeset(browser, f"{site.url}/{page}.html", page_html)
        layout = checks.layout_problems(browser) + checks.figure_problems(browser)
        if page in chapter_pages():
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            checks.save_full_page_screenshot(browser, SCREENSHOTS / f"{Path(page).name}-phone.png")
    finally:
        checks.stop_emulating(browser)
    assert layout == [], f"{page} on a phone:\n" + "\n".join(layout[:10])


# --------------------------------------------------------------------------- the checks catch faults


def _plant_formulas(page_html: str, formulas: dict[int, str]) -> str:
    """The page with the TeX of its n-th inline formula replaced by ``formulas[n]``."""
    count = itertools.count()

    def replace(match: re.Match) -> str:
        n = next(count)
        return match.group(1) + formulas[n] + match.group(3) if n in formulas else match.group(0)

    return re.sub(r'(<span class="math notranslate nohighlight">\\\()(.*?)(\\\)</span>)', replace, page_html)


@pytest.fixture(scope="module")
def planted_site(built_book, tmp_path_factory):
    """A site of planted pages beside the book's own _static: copies of Chapter 1 with faults."""
    folder = tmp_path_factory.mktemp("planted")
    (folder / "_static").symlink_to(built_book / "_static", target_is_directory=True)
    (folder / "book").mkdir()
    server = _Site(folder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, folder / "book"
    server.shutdown()


def test_math_check_fails_on_broken_formulas(planted_site, browser):
    """An unbalanced brace, an extra brace and an undefined macro in copies of Chapter 1's formulas."""
    server, folder = planted_site
    chapter = (HTML / "book" / "01_what_is_relu.html").read_text(encoding="utf-8")
    broken = _plant_formulas(chapter, {0: r"\frac{1}{", 1: r"x^{2}}", 2: r"\relux(x)"})
    (folder / "broken.html").write_text(broken, encoding="utf-8")
    report = _open_and_typeset(browser, f"{server.url}/book/broken.html", broken)
    problems = checks.math_problems(report)
    assert report.version, "MathJax did not run on the planted page"
    assert "left as TeX: \\(\\frac{1}{\\)" in problems, problems  # unbalanced: MathJax never sees a formula
    assert "MathJax error: x^{2}}: Extra close brace or missing open brace" in problems, problems
    assert "TeX shown as text: \\relux(x): \\relux" in problems, problems  # an undefined macro
    assert f"{report.expected - 1} formulas typeset, the page has {report.expected}" in problems, problems


def test_math_and_host_checks_fail_on_mathjax_from_a_cdn(planted_site, browser):
    """Chapter 1 as it was built before: MathJax from a CDN, which the test's browser cannot reach."""
    server, folder = planted_site
    cdn = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"
    chapter = (HTML / "book" / "01_what_is_relu.html").read_text(encoding="utf-8")
    assert "../_static/mathjax/tex-chtml.js" in chapter
    (folder / "cdn.html").write_text(chapter.replace("../_static/mathjax/tex-chtml.js", cdn), encoding="utf-8")
    report = _open_and_typeset(browser, f"{server.url}/book/cdn.html", chapter)
    foreign = checks.foreign_requests(checks.requested_urls(browser), server.url)
    assert f"{report.expected} formulas but MathJax did not load" in checks.math_problems(report)
    assert [url.split("?")[0] for url in foreign] == [cdn]


def _plant_after_title(page_html: str, snippet: str) -> str:
    """The page with ``snippet`` right after the title the reader sees (the first h1 of the article)."""
    title_end = page_html.index("</h1>", page_html.index("<article")) + len("</h1>")
    return page_html[:title_end] + snippet + page_html[title_end:]


def test_phone_check_fails_on_a_wide_line(planted_site, browser):
    """A paragraph that does not wrap, in Chapter 1 on a phone."""
    server, folder = planted_site
    chapter = (HTML / "book" / "01_what_is_relu.html").read_text(encoding="utf-8")
    wide = '<p style="white-space: nowrap">' + "a long line that does not wrap " * 4 + "</p>"
    (folder / "wide.html").write_text(_plant_after_title(chapter, wide), encoding="utf-8")
    checks.emulate_phone(browser)
    try:
        _open(browser, f"{server.url}/book/wide.html")
        problems = checks.layout_problems(browser)
    finally:
        checks.stop_emulating(browser)
    planted = [problem for problem in problems if problem.startswith("p (") and "a long line that does not" in problem]
    assert planted, problems


def test_layout_check_fails_on_a_quote_parted_from_its_formula_without_the_course_stylesheet(planted_site, browser):
    """In a 1 px wide paragraph every allowed line break is taken: the theme alone allows
    one between a formula and its closing quote (the glitch of 3.5's contents entry), the
    course's stylesheet does not."""
    server, folder = planted_site
    chapter = (HTML / "book" / "01_what_is_relu.html").read_text(encoding="utf-8")
    narrow = '<p style="width: 1px">drops by <span class="math notranslate nohighlight">\\(2^N\\)</span>”</p>'
    stylesheet = re.search(r'<link rel="stylesheet"[^>]*relu-course\.css[^>]*>', chapter).group(0)
    planted = {
        "styled": _plant_after_title(chapter, narrow),
        "unstyled": _plant_after_title(chapter.replace(stylesheet, ""), narrow),
    }
    parted = {}
    for name, page_html in planted.items():
        (folder / f"{name}.html").write_text(page_html, encoding="utf-8")
        _open_and_typeset(browser, f"{server.url}/book/{name}.html", page_html)
        parted[name] = checks.formulas_parted_from_punctuation(browser)
    assert parted["styled"] == []
    assert parted["unstyled"] == ["2N | ”"]


def test_figure_check_fails_on_a_1x_figure_and_on_squashed_figures_without_the_course_stylesheet(planted_site, browser):
    """Chapter 2 with its first figure swapped for a copy at half the pixels (as figures were
    stored before), and Chapter 2 without the rule that keeps figures in proportion."""
    from PIL import Image

    server, folder = planted_site
    chapter = (HTML / "book" / "02_differentiability.html").read_text(encoding="utf-8")
    sources = re.findall(r'src="\.\./_images/([0-9a-f]+\.png)"', chapter)
    images = folder.parent / "_images"
    images.mkdir(exist_ok=True)
    for source in sources:
        shutil.copy(HTML / "_images" / source, images / source)
    with Image.open(images / sources[0]) as figure:
        figure.resize((figure.width // 2, figure.height // 2)).save(images / "half.png")
    stylesheet = re.search(r'<link rel="stylesheet"[^>]*relu-course\.css[^>]*>', chapter).group(0)
    planted = {
        "half": chapter.replace(f'src="../_images/{sources[0]}"', 'src="../_images/half.png"'),
        "unstyled": chapter.replace(stylesheet, ""),
    }
    problems = {}
    for name, page_html in planted.items():
        (folder / f"{name}.html").write_text(page_html, encoding="utf-8")
        _open(browser, f"{server.url}/book/{name}.html")
        problems[name] = checks.figure_problems(browser)
    assert len(problems["half"]) == 1 and problems["half"][0].startswith("half.png: 811 px wide"), problems
    assert "blurry at 2x" in problems["half"][0]
    squashed = [problem for problem in problems["unstyled"] if "out of the proportions" in problem]
    assert len(squashed) == len(sources) == 3, problems["unstyled"]


# --------------------------------------------------------------------------- search


def test_search_page_finds_relu(site, browser):
    from selenium.webdriver.support.ui import WebDriverWait

    checks.requested_urls(browser)  # what earlier pages asked for
    _open(browser, f"{site.url}/search.html?q=ReLU")
    count = "return document.querySelectorAll('#search-results li, ul.search li').length"
    WebDriverWait(browser, 20).until(lambda driver: driver.execute_script(count) > 0)
    assert browser.execute_script(count) > 0
    assert checks.foreign_requests(checks.requested_urls(browser), site.url) == []
