"""What the browser tests read from a page in headless Chromium: its math, its requests, its layout.

Each check returns a list of problems (empty when the page is fine), so a test can show
every problem of a page at once, and a test can plant a fault and show the check finds it.
"""

from __future__ import annotations

import base64
import html.parser
import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit

#: A phone: a common phone's viewport in CSS pixels, as a mobile browser shows pages.
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
#: Chromium's command line for the tests. The host rule answers every name but the local
#: server's with "not found", so a page can ask for another host (and the request is
#: logged) but no request leaves the machine.
CHROMIUM_ARGUMENTS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)
#: Chromium's logs the checks read: every network request, and the console.
LOGGING_PREFERENCES = {"performance": "ALL", "browser": "ALL"}


# --------------------------------------------------------------------------- the math


class _MathCollector(html.parser.HTMLParser):
    """Collects the TeX source of every element with class ``math`` in a built page.

    Sphinx writes each formula into one such element before MathJax runs: inline math as
    ``<span class="math">\\(...\\)</span>``, display math as ``<div class="math">\\[...\\]</div>``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []
        self._depth = 0  # > 0 while inside a math element

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._depth:
            self._depth += 1
        elif "math" in (dict(attrs).get("class") or "").split():
            self._depth = 1
            self.sources.append("")

    def handle_endtag(self, tag: str) -> None:
        if self._depth:
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.sources[-1] += data


def math_sources(page_html: str) -> list[str]:
    """The TeX of every formula of a built page, in page order (the contents' copies included)."""
    collector = _MathCollector()
    collector.feed(page_html)
    return [source.strip() for source in collector.sources]


#: Waits for MathJax's first typesetting of the page, then describes the result: how many
#: formulas it typeset, the math elements it left as TeX, the formulas it could not parse
#: (``mjx-merror``) and those that show TeX to the reader as text (a backslash in an
#: ``mtext`` of the MathML that MathJax keeps for screen readers: an undefined macro drawn
#: in red, or ``\_`` in ``\text{}``), each with its TeX. Without MathJax on the page,
#: every math element is reported as left as TeX.
_TYPESET_MATH = """
const done = arguments[arguments.length - 1];
const report = () => {
  const errors = [];
  const texAsText = [];
  for (const item of window.MathJax.startup.document.math) {
    const root = item.typesetRoot;
    if (!root) continue;
    for (const error of root.querySelectorAll('mjx-merror')) {
      errors.push(`${item.math.trim()}: ${error.getAttribute('data-mjx-error') || error.textContent}`);
    }
    for (const text of root.querySelectorAll('mjx-assistive-mml mtext')) {
      if (text.textContent.includes('\\\\')) texAsText.push(`${item.math.trim()}: ${text.textContent}`);
    }
  }
  done({
    version: window.MathJax.version,
    typeset: document.querySelectorAll('mjx-container').length,
    raw: Array.from(document.querySelectorAll('.math'))
      .filter((node) => !node.querySelector('mjx-container')).map((node) => node.textContent.slice(0, 80)),
    errors: errors,
    tex_as_text: texAsText,
  });
};
const startup = window.MathJax && window.MathJax.startup;
if (startup && startup.promise) {
  startup.promise.then(report, (error) => done({failed: String(error)}));
} else {
  const raw = Array.from(document.querySelectorAll('.math')).map((node) => node.textContent.slice(0, 80));
  done({raw: raw});
}
"""


@dataclass
class MathReport:
    """What MathJax made of a page's formulas."""

    expected: int
    typeset: int = 0
    version: str | None = None
    raw: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    tex_as_text: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    failed: str | None = None


def typeset_math(driver, page_html: str) -> MathReport:
    """Wait for MathJax on the page open in ``driver`` and report on every formula of ``page_html``.

    Call it right after loading the page: it also reads (and so empties) the console log.
    """
    result = driver.execute_async_script(_TYPESET_MATH)
    report = MathReport(expected=len(math_sources(page_html)), **result)
    report.console = renderer_console_errors(driver)
    return report


def renderer_console_errors(driver) -> list[str]:
    """The console messages of severity error that come from MathJax."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and ("mathjax" in entry["message"].lower())
    ]


def math_problems(report: MathReport) -> list[str]:
    """Everything wrong with a page's math: untypeset, miscounted or broken formulas, MathJax errors."""
    problems = []
    if report.failed:
        problems.append(f"MathJax failed: {report.failed}")
    if report.expected and report.version is None:
        problems.append(f"{report.expected} formulas but MathJax did not load")
    if report.typeset != report.expected:
        problems.append(f"{report.typeset} formulas typeset, the page has {report.expected}")
    problems += [f"left as TeX: {source}" for source in report.raw]
    problems += [f"MathJax error: {message}" for message in report.errors]
    problems += [f"TeX shown as text: {text}" for text in report.tex_as_text]
    problems += [f"console: {message}" for message in report.console]
    return problems


# --------------------------------------------------------------------------- the requests


def requested_urls(driver) -> list[str]:
    """Every URL the browser asked for since the last call (Chromium's performance log).

    The log holds a request even when it failed (an unknown host), so a page that needs
    another host is seen whether or not that host answers.
    """
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
        elif message["method"] == "Network.webSocketCreated":
            urls.append(message["params"]["url"])
    return urls


_NETWORK_SCHEMES = ("http", "https", "ws", "wss")


def foreign_requests(urls: list[str], site_url: str) -> list[str]:
    """The URLs among ``urls`` that go to a host other than the site's (``data:`` and the like stay local)."""
    home = urlsplit(site_url).netloc
    return [url for url in urls if urlsplit(url).scheme in _NETWORK_SCHEMES and urlsplit(url).netloc != home]


# --------------------------------------------------------------------------- the layout

#: The elements whose box or content reaches past the left or right edge of the viewport,
#: the innermost of each, except inside a box that scrolls sideways (code blocks, tables,
#: outputs, display math) or clips (off-canvas drawers); and the page's own width when it
#: scrolls sideways. Returns "tag.class (left to right px): text" for each.
_OVERFLOWING = """
const width = document.documentElement.clientWidth;
const contained = (element) => ['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(element).overflowX);
const sticksOut = (element) => {
  const box = element.getBoundingClientRect();
  if (box.width === 0 || box.height === 0 || getComputedStyle(element).visibility === 'hidden') return false;
  // The content of a box that scrolls or clips stays inside it; only its own box counts.
  const right = contained(element) ? box.right : Math.max(box.right, box.left + element.scrollWidth);
  return box.left < -0.5 || right > width + 0.5;
};
const outside = new Set();
for (const element of document.body.querySelectorAll('*')) {
  if (!sticksOut(element)) continue;
  let parent = element.parentElement;
  while (parent && parent !== document.body && !contained(parent)) parent = parent.parentElement;
  if (!parent || parent === document.body) outside.add(element);
}
const innermost = Array.from(outside).filter(
  (element) => !Array.from(outside).some((other) => other !== element && element.contains(other)));
const found = innermost.map((element) => {
  const box = element.getBoundingClientRect();
  const right = contained(element) ? box.right : Math.max(box.right, box.left + element.scrollWidth);
  const name = element.tagName.toLowerCase() + Array.from(element.classList).map((name) => '.' + name).join('');
  return `${name} (${Math.round(box.left)} to ${Math.round(right)} px): ${element.textContent.trim().slice(0, 60)}`;
});
if (document.documentElement.scrollWidth > width) {
  found.push(`the page is ${document.documentElement.scrollWidth} px wide in a ${width} px viewport`);
}
return found;
"""


def horizontal_overflow(driver) -> list[str]:
    """The elements of the open page that stick out of the viewport sideways (see ``_OVERFLOWING``)."""
    return driver.execute_script(_OVERFLOWING)


#: Every visible inline formula followed directly by text (punctuation, a closing quote)
#: whose first character starts the next line: the line broke between the formula and
#: its punctuation. Returns "formula | text" for each.
_FORMULAS_PARTED_FROM_PUNCTUATION = """
const found = [];
for (const math of document.querySelectorAll('span.math')) {
  const next = math.nextSibling;
  if (!next || next.nodeType !== Node.TEXT_NODE || !/^\\S/.test(next.textContent)) continue;
  const formula = math.getBoundingClientRect();
  const character = document.createRange();
  character.setStart(next, 0);
  character.setEnd(next, 1);
  const glyph = character.getBoundingClientRect();
  if (formula.width === 0 || glyph.width === 0) continue;
  if (glyph.top >= formula.bottom - 2) {
    found.push(`${math.textContent.trim().slice(0, 40)} | ${next.textContent.trim().slice(0, 20)}`);
  }
}
return found;
"""


def formulas_parted_from_punctuation(driver) -> list[str]:
    """The formulas of the open page whose punctuation wrapped onto the next line (see above)."""
    return driver.execute_script(_FORMULAS_PARTED_FROM_PUNCTUATION)


# --------------------------------------------------------------------------- the figures

#: Every figure of the article (an image the build wrote to _images/): its source, whether
#: it loaded, its size in image pixels and its size on screen in CSS pixels.
_FIGURES = """
return Array.from(document.querySelectorAll('article img[src*="_images/"]')).map((image) => {
  const box = image.getBoundingClientRect();
  return {source: image.getAttribute('src'), loaded: image.complete && image.naturalWidth > 0,
          pixels: [image.naturalWidth, image.naturalHeight], shown: [box.width, box.height]};
});
"""

#: The screens the book is made for have up to this many device pixels per CSS pixel.
SCREEN_PIXEL_RATIO = 2
#: How far a figure's shown aspect ratio may stray from its image's (rounding of CSS pixels).
ASPECT_TOLERANCE = 0.02


def figures(driver) -> list[dict]:
    """The figures of the open page, as ``_FIGURES`` describes them."""
    return driver.execute_script(_FIGURES)


def figure_problems(driver) -> list[str]:
    """What is wrong with the figures of the open page: a figure that did not load, one shown
    with fewer than ``SCREEN_PIXEL_RATIO`` image pixels per CSS pixel (blurry on a high-DPI
    screen), and one stretched or squashed out of its proportions."""
    problems = []
    for figure in figures(driver):
        name = figure["source"].rsplit("/", 1)[-1][:16]
        (pixel_width, pixel_height), (shown_width, shown_height) = figure["pixels"], figure["shown"]
        if not figure["loaded"] or shown_width == 0 or shown_height == 0:
            problems.append(f"{name}: not shown")
            continue
        if pixel_width < SCREEN_PIXEL_RATIO * shown_width - 1:
            problems.append(
                f"{name}: {pixel_width} px wide, shown {shown_width:.0f} px wide: "
                f"blurry at {SCREEN_PIXEL_RATIO}x (needs {SCREEN_PIXEL_RATIO * shown_width:.0f} px)"
            )
        aspect, shown_aspect = pixel_height / pixel_width, shown_height / shown_width
        if abs(shown_aspect - aspect) > ASPECT_TOLERANCE * aspect:
            problems.append(
                f"{name}: shown {shown_width:.0f} x {shown_height:.0f} px, "
                f"out of the proportions of its {pixel_width} x {pixel_height} image"
            )
    return problems


def layout_problems(driver) -> list[str]:
    """What is wrong with the layout of the open page: content sticking out sideways, and
    formulas parted from their punctuation."""
    return horizontal_overflow(driver) + [
        f"line break between a formula and its text: {entry}" for entry in formulas_parted_from_punctuation(driver)
    ]


def emulate_phone(driver) -> None:
    """Show pages as a phone does: 390 x 844 CSS pixels, a mobile viewport (meta viewport honoured)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)


def stop_emulating(driver) -> None:
    """Back to the desktop window."""
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def save_full_page_screenshot(driver, path) -> None:
    """Save the whole page, top to bottom, at the current viewport's width (at most 80,000 px tall)."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 80000), "scale": 1}
    options = {"format": "png", "captureBeyondViewport": True, "clip": clip}
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", options)
    path.write_bytes(base64.b64decode(shot["data"]))
