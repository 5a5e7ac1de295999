"""The synthetic MyST page (tests/myst/constructs) in Chromium, served by ``livecells serve``:
tabs switch by mouse and keyboard, dropdowns open, a hidden-input cell runs, and an edit on
disk shows in the open page."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.conftest import JupyterServer, start_livecells_serve

CONSTRUCTS = Path(__file__).parents[1] / "myst" / "constructs"


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("myst") / "book"
    shutil.copytree(CONSTRUCTS, root)
    return root


@pytest.fixture(scope="module")
def served_book(book: Path) -> Iterator[JupyterServer]:
    server = start_livecells_serve(book)
    yield server
    server.stop()


@pytest.fixture
def page(browser: Browser, served_book: JupyterServer) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{served_book.url}livecells/?token={served_book.token}")
    yield page
    context.close()


def test_tabs_switch_by_mouse_and_keyboard(page: Page) -> None:
    first = page.get_by_role("tabpanel").filter(has_text="Content of the first tab.")
    second = page.locator(".lc-tab-panel").filter(has_text="Content of the second tab.")
    expect(first).to_be_visible()
    expect(second).to_be_hidden()
    page.get_by_role("tab", name="Second tab").click()
    expect(second).to_be_visible()
    expect(page.locator(".lc-tab-panel").first).to_be_hidden()
    expect(page.get_by_role("tab", name="Second tab")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("tab", name="First tab")).to_be_focused()
    expect(page.locator(".lc-tab-panel").first).to_be_visible()
    expect(second).to_be_hidden()


def test_dropdowns_and_solutions_open(page: Page) -> None:
    content = page.get_by_text("Hidden content of the dropdown.")
    expect(content).to_be_hidden()
    page.locator(".lc-dropdown > summary").click()
    expect(content).to_be_visible()
    answer = page.get_by_text("The answer is 3.")
    expect(answer).to_be_hidden()
    page.locator(".lc-solution > summary").click()
    expect(answer).to_be_visible()


def test_a_hidden_input_cell_runs_with_the_others(page: Page) -> None:
    expect(page.locator(".lc-hide-input .lc-source")).to_be_hidden()
    page.locator("button.lc-power").click()
    cells = page.locator(".lc-cell")
    expect(cells.nth(2).locator(".lc-outputs")).to_have_text("visible 42\n", timeout=90_000)
    expect(cells.first.locator(".lc-outputs")).to_have_text("hidden input ran 42\n")
    expect(page.locator(".lc-hide-input .lc-source")).to_be_hidden()


def test_an_edit_on_disk_shows_in_the_open_page(page: Page, book: Path) -> None:
    expect(page.locator(".lc-markdown").first).to_contain_text("Intro text")
    page.wait_for_function("() => document.readyState === 'complete'")
    source = book / "index.md"
    source.write_text(source.read_text().replace("Intro text", "Edited intro"))
    expect(page.locator(".lc-markdown").first).to_contain_text("Edited intro", timeout=30_000)
    expect(page.locator("h1.lc-title")).to_have_text(re.compile("Every construct"))
