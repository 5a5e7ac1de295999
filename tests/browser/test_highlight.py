"""Code cells are highlighted from the first paint (by the server, no JavaScript needed), and
the editor that replaces a cell's code keeps its colours, on light and dark pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from tests.browser.conftest import write_page
from tests.conftest import JupyterServer

SOURCE = 'def twice(x):\n    return x * 2  # "doubled"'
KEYWORD = {"light": (119, 0, 136), "dark": (255, 123, 114)}


def rgb(value: str) -> tuple[int, ...]:
    return tuple(int(part) for part in value[value.index("(") + 1 : -1].split(","))


def test_without_javascript_the_keyword_def_is_in_a_highlighted_span(
    browser: Browser, book: Path, served: JupyterServer
) -> None:
    url = write_page(book, "highlight-static", "", SOURCE)
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        # The session's first page waits for mystmd to start.
        page.goto(f"{served.url}livecells/{url}?token={served.token}", timeout=120_000)
        keyword = page.locator("pre.lc-source span.tok-keyword").first
        expect(keyword).to_have_text("def")
        assert rgb(keyword.evaluate("e => getComputedStyle(e).color")) == KEYWORD["light"]
        assert page.locator("pre.lc-source span.tok-comment").inner_text() == '# "doubled"'
        assert page.locator("pre.lc-source").inner_text() == SOURCE
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_editor_keeps_the_first_paints_colours(
    browser: Browser, book: Path, served: JupyterServer, scheme: str
) -> None:
    url = write_page(book, f"highlight-{scheme}", "", SOURCE)
    context = browser.new_context(color_scheme=scheme)  # type: ignore[arg-type]
    try:
        page = context.new_page()
        page.goto(f"{served.url}livecells/{url}?token={served.token}", timeout=120_000)
        colours = "els => els.map(e => [e.textContent, getComputedStyle(e).color])"
        before = page.locator("pre.lc-source [class^=tok-]").evaluate_all(colours)
        assert before[0] == ["def", f"rgb{KEYWORD[scheme]}"]
        page.locator("pre.lc-source").click()
        editor = page.locator(".lc-editor .cm-content")
        expect(editor).to_be_visible()
        expect(editor.locator(".tok-comment")).to_have_text('# "doubled"')
        after = editor.locator("[class^=tok-]").evaluate_all(colours)
        assert after == before
    finally:
        context.close()
