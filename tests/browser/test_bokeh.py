"""Bokeh plots: ``show(p)`` on a real kernel is drawn in Chromium by the self-hosted BokehJS
(lazy chunks), from the plot's data read out of Bokeh's script, which never runs; on an
untrusted page, under the page's CSP, without any other host."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, Route, expect
from tests.browser.conftest import wait_idle, write_page

OpenPage = Callable[[str], Page]

SETUP = """from bokeh.io import output_notebook, show
from bokeh.plotting import figure
output_notebook()"""
PLOT = "p = figure(); p.line([1, 2, 3], [4, 6, 5]); show(p)"
BANNER = "Bokeh plots on this page are drawn by its own copy of BokehJS."
VIOLATIONS = (
    "window.violations = [];"
    "document.addEventListener('securitypolicyviolation',"
    " e => window.violations.push([e.effectiveDirective, e.blockedURI]));"
)
# The canvas pixels of a plot (in BokehJS's shadow roots) that are not white or transparent.
INKED = """element => {
  const canvases = [];
  const walk = node => {
    if (node instanceof HTMLCanvasElement) canvases.push(node);
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.children ?? []) walk(child);
  };
  walk(element);
  let inked = 0;
  for (const canvas of canvases) {
    if (!canvas.width || !canvas.height) continue;
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 0 && (data[i] < 200 || data[i + 1] < 200 || data[i + 2] < 200)) inked++;
    }
  }
  return { canvases: canvases.length, inked };
}"""


@pytest.fixture
def offsite(context: BrowserContext) -> Iterator[list[str]]:
    """Requests the page tried to make to any host but 127.0.0.1 (each refused)."""
    attempted: list[str] = []

    def refuse(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            attempted.append(route.request.url)
            route.abort()

    context.route("**/*", refuse)
    context.add_init_script(VIOLATIONS)
    yield attempted


def cell_outputs(page: Page, index: int) -> Locator:
    return page.locator(".lc-cell").nth(index).locator(".lc-outputs")


def test_a_bokeh_figure_is_drawn_without_other_hosts(
    open_page: OpenPage, book: Path, offsite: list[str]
) -> None:
    page = open_page(write_page(book, "bokeh", "", SETUP, PLOT))
    page.locator("button.lc-power").click()
    plot = cell_outputs(page, 1).locator(".lc-bokeh")
    expect(plot).to_have_attribute("data-bokeh", "drawn", timeout=60_000)
    wait_idle(page)
    print(page.evaluate(INKED, plot.element_handle()))
    print(cell_outputs(page, 0).inner_html())
    print(plot.inner_html())
    page.screenshot(path="/tmp/bokehprobe/shot.png")
    assert offsite == []
    assert page.evaluate("window.violations") == []
