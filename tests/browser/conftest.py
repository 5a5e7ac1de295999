"""Browser tests: Debian's Chromium (``/usr/bin/chromium``; installed on first use where this
runs as root with apt, else one line says how), driven by Playwright, against a real
``livecells serve`` on 127.0.0.1."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect, sync_playwright
from tests.browser.static_server import serve_static
from tests.conftest import (
    CHROMIUM,
    CHROMIUM_PROBLEM,
    JupyterServer,
    start_jupyter_server,
    start_livecells_serve,
)

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EXAMPLES = Path(__file__).parents[2] / "examples"
PAGES = Path(__file__).parent / "pages"
READY = re.compile(r"^(ready|idle)$")
# Started (Run all queues the cells in the same task) and the queue run dry, or stopped.
RUN_ALL_ENDED = """() => {
  const { queue, runtime } = window.livecells;
  return (queue.runtime !== null && queue.idle) || ["error", "dead"].includes(runtime.status);
}"""


def wait_idle(page: Page, timeout: float = 60_000) -> None:
    expect(page.locator(".lc-panel")).to_have_attribute("data-status", READY, timeout=timeout)


def write_page(book: Path, name: str, frontmatter: str, *cells: str) -> str:
    """A page of the served book (rendered from its file on each request); its URL."""
    body = "".join(f"```{{code-cell}} python\n{cell}\n```\n\n" for cell in cells)
    (book / "tests" / f"{name}.md").write_text(
        f"---\nkernelspec: {{name: python3, display_name: Python 3}}\n{frontmatter}---\n{body}"
    )
    return f"tests/{name}.html"


def colour(page: Page, selector: str, prop: str) -> tuple[int, ...]:
    """The computed colour ``prop`` of the first element ``selector`` matches, as RGB."""
    value = page.eval_on_selector(selector, f"e => getComputedStyle(e).{prop}")
    return tuple(int(float(n)) for n in re.findall(r"[\d.]+", value)[:3])


def luminance(rgb: tuple[int, ...]) -> float:
    """WCAG's relative luminance: 0 black, 1 white."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """WCAG's contrast ratio of two colours (1 to 21)."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


PANEL_MAX = 64  # px: one row of controls


SIZES = {1280: 900, 390: 844}  # a desktop's window and a phone's


def each_view(page: Page) -> Iterator[tuple[int, str]]:
    """The page at each of :data:`SIZES`, light then dark, scrolled to the top and painted;
    yields the width and the scheme."""
    for width, height in SIZES.items():
        for scheme in ("light", "dark"):
            page.set_viewport_size({"width": width, "height": height})
            page.emulate_media(color_scheme=scheme)
            page.evaluate("window.scrollTo(0, 0)")
            page.evaluate("() => new Promise(done => requestAnimationFrame(() => done(null)))")
            yield width, scheme


def layout_problems(page: Page, where: str, *, dark: bool) -> list[str]:
    """What is wrong with the page as the reader sees it now, at the top: a page wider than
    the window, a panel not in one row or not in view, a background of the wrong scheme, body
    text that does not contrast with it."""
    problems = []
    width, window = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    if width > window:
        problems.append(f"{where}: the page is {width} px wide in a {window} px window")
    panel = page.locator(".lc-panel")
    if panel.count():
        box = panel.bounding_box()
        height = page.evaluate("innerHeight")
        if box is None or box["height"] > PANEL_MAX:
            problems.append(f"{where}: the panel is {box} (over {PANEL_MAX} px high)")
        elif box["x"] < 0 or box["x"] + box["width"] > window or box["y"] + box["height"] > height:
            problems.append(f"{where}: the panel {box} is not within the {window} px window")
    background = colour(page, "body", "backgroundColor")
    if dark != (luminance(background) < 0.05):
        problems.append(
            f"{where}: the page's background {background} is not {'dark' if dark else 'light'}"
        )
    text = colour(page, "body", "color")
    if contrast(text, background) < 7:
        problems.append(f"{where}: body text {text} on {background} contrasts under 7:1")
    return problems


def kernels(server: JupyterServer) -> list[str]:
    """The ids of the server's running kernels."""
    response = httpx.get(
        f"{server.url}api/kernels", headers={"Authorization": f"token {server.token}"}
    )
    response.raise_for_status()
    return [kernel["id"] for kernel in response.json()]


@pytest.fixture(scope="session")
def chromium_path(pytestconfig: pytest.Config) -> str:
    """Found (or installed) before the first test ran: see ``tests/conftest.py``."""
    problem = pytestconfig.stash.get(CHROMIUM_PROBLEM, None)
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    # Module scope: Playwright's sync API keeps an event loop running in this thread while it
    # is open, and the asyncio tests of other modules need the thread's loop to themselves.
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example book plus the test pages (tests/browser/pages); its readers may name a
    Jupyter Server or BinderHub of their own (``allowReaderServer``), as the tests do."""
    root = tmp_path_factory.mktemp("browser-book")
    shutil.copytree(EXAMPLES, root, dirs_exist_ok=True)
    shutil.copytree(PAGES, root / "tests")
    with (root / "livecells.yml").open("a") as config:
        config.write("  livecells: {allowReaderServer: true}\n")
    return root


@pytest.fixture(scope="session")
def served(book: Path) -> Iterator[JupyterServer]:
    server = start_livecells_serve(book)
    yield server
    server.stop()


@pytest.fixture
def context(browser: Browser, served: JupyterServer) -> Iterator[BrowserContext]:
    """A fresh browser profile that has opened the tokenised URL once (so holds the cookie)."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.goto(f"{served.url}livecells/?token={served.token}")
    page.close()
    yield context
    context.close()


@pytest.fixture
def open_page(context: BrowserContext, served: JupyterServer) -> Iterator[object]:
    """``open_page("tests/x.html")``: a page of the served book, with its console collected."""
    pages: list[Page] = []

    def open_(url: str) -> Page:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(f"{served.url}livecells/{url}")
        pages.append(page)
        return page

    yield open_
    for page in pages:
        page.close()


@pytest.fixture(scope="module")
def page_origin(served: JupyterServer) -> str:
    """The origin of the served book's pages."""
    return f"http://127.0.0.1:{served.port}"


@pytest.fixture(scope="module")
def allowing_server(
    tmp_path_factory: pytest.TempPathFactory, page_origin: str
) -> Iterator[JupyterServer]:
    """A reader's own server, on another origin, started with the flag the page names."""
    server = start_jupyter_server(
        tmp_path_factory.mktemp("allowing"), f"--ServerApp.allow_origin={page_origin}"
    )
    yield server
    server.stop()


@pytest.fixture(scope="module", params=[True, False], ids=["isolated", "not-isolated"])
def base_url(request: pytest.FixtureRequest, site: Path) -> Iterator[str]:
    """The module's built ``site`` served on 127.0.0.1, with cross-origin isolation (Pyodide's
    SharedArrayBuffer path) and without (its fallback): each test runs on both."""
    with serve_static(site, isolated=request.param) as url:
        yield url


def refuse_offsite(context: BrowserContext) -> list[str]:
    """Refuse every request of the context's pages to a host other than 127.0.0.1; the list
    (filled as they come) of those it tried."""
    attempted: list[str] = []

    def refuse(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            attempted.append(route.request.url)
            route.abort()

    context.route("**/*", refuse)
    return attempted
