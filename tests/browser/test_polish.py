"""What a reader sees of the page's chrome and outputs, on a real ``livecells serve``: the panel
in one row on a phone, the settings dialog inside a phone's screen, dark mode, the status line
while a kernel starts, JupyterLab's look for HTML tables, and the session list's rows."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from tests.browser.conftest import colour, contrast, luminance
from tests.conftest import JupyterServer

OpenPage = Callable[[str], Page]
PHONE = {"width": 390, "height": 844}
READY = re.compile(r"^(ready|idle)$")


@pytest.fixture
def phone(browser: Browser, served: JupyterServer) -> Iterator[BrowserContext]:
    """A 390 px wide browser profile holding the server's cookie."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.new_page().goto(f"{served.url}livecells/?token={served.token}")
    yield context
    context.close()


def open_in(context: BrowserContext, served: JupyterServer, url: str) -> Page:
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{served.url}livecells/{url}")
    return page


def wait_ready(page: Page) -> None:
    expect(page.locator(".lc-panel")).to_have_attribute("data-status", READY, timeout=60_000)


def no_horizontal_overflow(page: Page) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page is {width[0]} px wide in a {width[1]} px window"


def test_the_panel_is_one_compact_row_on_a_phone(
    phone: BrowserContext, served: JupyterServer
) -> None:
    page = open_in(phone, served, "basics.html")
    panel = page.locator(".lc-panel")
    box = panel.bounding_box()
    assert box is not None and box["height"] <= 64, f"panel is {box} before Start"
    page.locator("button.lc-power").click()
    expect(page.locator(".lc-cell").nth(3).locator(".lc-count")).to_have_text(
        re.compile(r"\[\d+\]:"), timeout=60_000
    )
    wait_ready(page)
    box = panel.bounding_box()
    assert box is not None and box["height"] <= 64, f"panel is {box} once running"
    # Every control keeps a name a screen reader says and a tooltip, label shown or not.
    for control in panel.locator("button, a:visible").all():
        assert control.get_attribute("aria-label"), control.inner_html()
        assert control.get_attribute("title"), control.inner_html()
    no_horizontal_overflow(page)


def test_the_panel_shows_its_words_on_a_wide_screen(open_page: OpenPage) -> None:
    page = open_page("basics.html")
    expect(page.locator("button.lc-run-all")).to_contain_text("Run all")
    box = page.locator(".lc-panel").bounding_box()
    assert box is not None and box["height"] <= 56


def test_the_settings_dialog_fits_a_phone(
    phone: BrowserContext, served: JupyterServer, book: Path
) -> None:
    (book / "tests" / "settings-phone.md").write_text(
        "---\nkernelspec: {name: python3, display_name: Python 3}\n"
        "jupyter:\n  binder: {repo: owner/name}\nlivecells: {runtime: livecells}\n---\n"
        "```{code-cell} python\n1\n```\n"
    )
    page = open_in(phone, served, "tests/settings-phone.html")
    page.locator("button.lc-settings-button").click()
    dialog = page.locator("dialog.lc-settings")
    expect(dialog).to_be_visible()
    for runtime in ("server", "binder"):
        page.locator(f'input[name="lc-runtime"][value="{runtime}"]').check()
        box = dialog.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box
        inner = dialog.evaluate("d => [d.scrollWidth, d.clientWidth]")
        assert inner[0] <= inner[1], f"the {runtime} fields overflow the dialog: {inner}"
        for field in dialog.locator(".lc-fields:visible input").all():
            field_box = field.bounding_box()
            assert field_box is not None
            assert field_box["x"] + field_box["width"] <= box["x"] + box["width"]


def test_dark_mode_darkens_page_cells_and_outputs_and_keeps_them_readable(
    browser: Browser, served: JupyterServer
) -> None:
    context = browser.new_context(color_scheme="dark", viewport={"width": 1280, "height": 900})
    try:
        context.new_page().goto(f"{served.url}livecells/?token={served.token}")
        page = open_in(context, served, "basics.html")
        page.locator("button.lc-power").click()
        error = page.locator(".lc-cell").nth(2).locator(".lc-error")
        expect(error).to_contain_text("ZeroDivisionError", timeout=60_000)
        wait_ready(page)
        body = colour(page, "body", "backgroundColor")
        assert luminance(body) < 0.05, f"the page stays light in dark mode: {body}"
        text = colour(page, "body", "color")
        assert contrast(text, body) >= 7
        for selector in (".lc-panel", ".lc-cell .lc-source", ".lc-error", ".lc-toolbar"):
            background = colour(page, selector, "backgroundColor")
            assert luminance(background) < 0.05, f"{selector} is light: {background}"
        output = colour(page, ".lc-cell .lc-outputs pre", "color")
        assert contrast(output, body) >= 7
        # Coloured traceback text (ANSI) reads on the error's dark background.
        error_bg = colour(page, ".lc-error", "backgroundColor")
        for span in page.locator(".lc-error span[class*='ansi-']").all()[:6]:
            rgb = tuple(
                int(n) for n in re.findall(r"\d+", span.evaluate("e => getComputedStyle(e).color"))
            )[:3]
            assert contrast(rgb, error_bg) >= 4.5, (span.get_attribute("class"), rgb)
    finally:
        context.close()


def test_html_tables_in_outputs_look_like_jupyterlabs(open_page: OpenPage) -> None:
    page = open_page("outputs.html")
    page.locator("button.lc-power").click()
    table = page.locator(".lc-cell").first.locator(".lc-outputs table")
    expect(table).to_be_visible(timeout=60_000)
    style = table.evaluate(
        """t => {
          const cell = t.querySelector("td"), head = t.querySelector("th");
          const rows = [...t.querySelectorAll("tbody tr")];
          const s = (e) => getComputedStyle(e);
          return {
            collapse: s(t).borderCollapse, border: s(t).borderTopStyle,
            align: s(cell).textAlign, headWeight: s(head).fontWeight,
            cellBorder: s(cell).borderLeftStyle,
            stripes: [...new Set(rows.map((r) => s(r).backgroundColor))].length,
          };
        }"""
    )
    assert style["collapse"] == "collapse"
    assert style["border"] == "none" and style["cellBorder"] == "none"
    assert style["align"] == "right"
    assert int(style["headWeight"]) >= 700
    assert style["stripes"] == 2, "rows are not striped"
    row = table.locator("tr").nth(2)
    before = row.evaluate("r => getComputedStyle(r).backgroundColor")
    row.hover()
    assert row.evaluate("r => getComputedStyle(r).backgroundColor") != before


STATUS_LOG = """() => {
  window.__statuses = [];
  const status = document.querySelector(".lc-status");
  const record = () => window.__statuses.push(status.textContent);
  const options = {childList: true, characterData: true, subtree: true};
  new MutationObserver(record).observe(status, options);
}"""


def test_the_status_line_speaks_one_language_while_a_kernel_starts(open_page: OpenPage) -> None:
    page = open_page("tests/order.html")
    page.evaluate(STATUS_LOG)
    page.locator("button.lc-power").click()
    expect(page.locator(".lc-cell").nth(2).locator("b.rich")).to_have_text("three", timeout=60_000)
    wait_ready(page)
    seen: list[str] = page.evaluate("window.__statuses")
    assert seen, "no status was shown"
    for text in seen:
        assert text[:1].isupper(), f"{text!r} is not a status a reader is shown ({seen})"
        assert not re.search(r"…: |: (running|idle)$", text), f"{text!r} says it twice ({seen})"
    assert seen[-1] == "Ready"


def test_session_rows_name_their_kernel_its_id_and_when_it_started(
    open_page: OpenPage,
) -> None:
    page = open_page("tests/order.html")
    page.locator("button.lc-power").click()
    wait_ready(page)
    kernel = page.evaluate("window.livecells.runtime.id")
    page.locator("button.lc-sessions-button").click()
    dialog = page.locator("dialog.lc-sessions")
    expect(dialog.locator(".lc-sessions-page")).to_contain_text("/tests/order.html")
    row = dialog.locator("tr.lc-session")
    expect(row.locator(".lc-session-kernel")).to_have_text("python3")
    expect(row.locator(".lc-session-id")).to_have_text(kernel[:8])
    expect(row.locator(".lc-session-status")).to_have_text("Ready")
    expect(row.locator(".lc-session-started time")).to_have_attribute("datetime", re.compile("T"))


def test_the_session_list_fits_a_phone(phone: BrowserContext, served: JupyterServer) -> None:
    page = open_in(phone, served, "tests/order.html")
    page.locator("button.lc-power").click()
    wait_ready(page)
    page.locator("button.lc-sessions-button").click()
    dialog = page.locator("dialog.lc-sessions")
    expect(dialog.locator("tr.lc-session")).to_have_count(1)
    box = dialog.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    inner = dialog.evaluate("d => [d.scrollWidth, d.clientWidth]")
    assert inner[0] <= inner[1], f"the session list scrolls sideways: {inner}"
    expect(dialog.locator("button.lc-session-close")).to_be_in_viewport()
