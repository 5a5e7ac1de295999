"""Browser tests: Debian's Chromium (``/usr/bin/chromium``; installed on first use where this
runs as root with apt, else one line says how), driven by Playwright, against a real
``livecells serve`` on 127.0.0.1."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
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


def wait_idle(page: Page, timeout: float = 60_000) -> None:
    expect(page.locator(".lc-panel")).to_have_attribute("data-status", READY, timeout=timeout)


def write_page(book: Path, name: str, frontmatter: str, *cells: str) -> str:
    """A page of the served book (rendered from its file on each request); its URL."""
    body = "".join(f"```{{code-cell}} python\n{cell}\n```\n\n" for cell in cells)
    (book / "tests" / f"{name}.md").write_text(
        f"---\nkernelspec: {{name: python3, display_name: Python 3}}\n{frontmatter}---\n{body}"
    )
    return f"tests/{name}.html"


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
