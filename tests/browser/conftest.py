"""Browser tests: Debian's Chromium (``/usr/bin/chromium``; installed on first use where this
runs as root with apt, else one line says how), driven by Playwright, against a real
``livecells serve`` on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from tests.conftest import JupyterServer, start_livecells_serve

CHROMIUM = os.environ.get("LIVECELLS_CHROMIUM", "/usr/bin/chromium")
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


def ensure_chromium() -> str:
    """The Chromium the browser tests drive: ``$LIVECELLS_CHROMIUM`` or Debian's, which is
    installed here (``apt-get install chromium``) when absent and this process may; otherwise
    the tests fail with one line saying how. Playwright's own browser download is never used
    (it needs a CDN)."""
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    how = "install it (`apt-get install chromium`) or set LIVECELLS_CHROMIUM to a Chromium"
    apt = shutil.which("apt-get")
    if "LIVECELLS_CHROMIUM" in os.environ or apt is None or os.geteuid() != 0:
        pytest.fail(f"Chromium not found at {CHROMIUM}: {how}", pytrace=False)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in (["update", "-q"], ["install", "-y", "-q", "chromium"]):
        done = subprocess.run([apt, *step], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            pytest.fail(f"`apt-get {' '.join(step)}` failed ({last}): {how}", pytrace=False)
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"apt-get installed chromium but {CHROMIUM} is missing: {how}", pytrace=False)
    return CHROMIUM


@pytest.fixture(scope="session")
def chromium_path() -> str:
    return ensure_chromium()


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
    """The example book plus the test pages (tests/browser/pages)."""
    root = tmp_path_factory.mktemp("browser-book")
    shutil.copytree(EXAMPLES, root, dirs_exist_ok=True)
    shutil.copytree(PAGES, root / "tests")
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
