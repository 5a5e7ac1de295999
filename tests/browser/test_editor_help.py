"""The editor's help from the kernel, on a server kernel and on Pyodide: Tab after a name lists
its completions, Shift-Tab and hovering show a name's documentation as plain text."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from tests.browser.conftest import write_page
from tests.browser.static_server import serve_static
from tests.conftest import JupyterServer

from livecells.site import build

BOOT = 90_000  # ms: a kernel start or Pyodide's boot on 2 busy cores
LEN_DOC = "Return the number of items in a container."
CELLS = ("import os", "1")


@pytest.fixture(scope="module")
def pyodide_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    source = tmp_path_factory.mktemp("help-book")
    shutil.copy(Path(__file__).parent / "pyodide_book" / "livecells.yml", source)
    body = "".join(f"```{{code-cell}} python\n{cell}\n```\n\n" for cell in CELLS)
    (source / "help.md").write_text(
        f"---\nkernelspec: {{name: python3, display_name: Python 3}}\n---\n{body}"
    )
    output = tmp_path_factory.mktemp("help-site")
    assert build(source, output).problems == []
    with serve_static(output, isolated=False) as url:
        yield url + "help.html"


def check_help(page: Page) -> None:
    page.locator("button.lc-power").click()
    expect(page.locator(".lc-panel")).to_have_attribute("data-status", "idle", timeout=BOOT)
    page.locator(".lc-cell").nth(1).locator("pre.lc-source").click()
    editor = page.locator(".lc-editor .cm-content")
    expect(editor).to_be_visible()
    page.keyboard.press("Control+A")
    page.keyboard.type("os.path.jo")
    page.keyboard.press("Tab")
    options = page.locator(".cm-tooltip-autocomplete li")
    expect(options).to_have_text(["join"], timeout=10_000)
    page.keyboard.press("Tab")  # accepts the completion
    expect(editor).to_have_text("os.path.join")
    page.keyboard.press("Control+A")
    page.keyboard.type("len")
    page.keyboard.press("Shift+Tab")
    tooltip = page.locator(".lc-help")
    expect(tooltip).to_contain_text(LEN_DOC, timeout=10_000)
    assert "\x1b" not in tooltip.inner_text()
    page.keyboard.press("Escape")
    expect(tooltip).to_have_count(0)
    page.mouse.move(0, 0)
    editor.locator(".cm-line").first.hover(position={"x": 12, "y": 8})  # over "len"
    expect(tooltip).to_contain_text(LEN_DOC, timeout=10_000)


def test_completion_and_documentation_on_a_server_kernel(
    context: BrowserContext, served: JupyterServer, book: Path
) -> None:
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{served.url}livecells/{write_page(book, 'help', '', *CELLS)}", timeout=120_000)
    check_help(page)


def test_completion_and_documentation_on_pyodide(browser: Browser, pyodide_site: str) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(pyodide_site)
        check_help(page)
    finally:
        context.close()
