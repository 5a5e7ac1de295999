"""Interactive charts: plotly and altair figures run on a real kernel are drawn in Chromium by
the self-hosted libraries (lazy chunks), on an untrusted page, without any other host."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from tests.browser.conftest import refuse_offsite, wait_idle, write_page

OpenPage = Callable[[str], Page]

PLOTLY = """import plotly.express as px
px.scatter(x=[1, 2, 3], y=[4, 1, 2], title="three points")"""
ALTAIR = """import altair as alt
alt.renderers.enable("mimetype")
data = alt.Data(values=[{"a": "x", "b": 3}, {"a": "y", "b": 5}])
alt.Chart(data).mark_bar().encode(x="a:N", y="b:Q")"""
BAD_PLOTLY = """from IPython.display import display
display({"application/vnd.plotly.v1+json": {"data": "nope"}, "text/plain": "bad"}, raw=True)"""
BAD_VEGA_LITE = """from IPython.display import display
display({"application/vnd.vegalite.v5+json": {"mark": "nosuchmark", "data": {"values": [{"a": 1}]}},
         "text/plain": "bad"}, raw=True)"""


@pytest.fixture
def offsite(context: BrowserContext) -> Iterator[list[str]]:
    """Requests the page tried to make to any host but 127.0.0.1 (each refused)."""
    yield refuse_offsite(context)


def cell_outputs(page: Page, index: int) -> object:
    return page.locator(".lc-cell").nth(index).locator(".lc-outputs")


def test_plotly_and_altair_figures_are_drawn_without_other_hosts(
    open_page: OpenPage, book: Path, offsite: list[str]
) -> None:
    page = open_page(write_page(book, "charts", "", PLOTLY, ALTAIR))
    page.locator("button.lc-power").click()
    cells = page.locator(".lc-cell")
    plotly = cells.nth(0).locator(".lc-chart-plotly")
    expect(plotly).to_have_attribute("data-chart", "drawn", timeout=60_000)
    expect(plotly.locator("svg.main-svg .scatterlayer .point")).to_have_count(3)
    expect(plotly.locator("svg.main-svg .gtitle")).to_have_text("three points")
    vega = cells.nth(1).locator(".lc-chart-vega-lite")
    expect(vega).to_have_attribute("data-chart", "drawn", timeout=60_000)
    expect(vega.locator("svg g.mark-rect path")).to_have_count(2)
    wait_idle(page)
    # The HTML fallbacks (plotly's notebook script, altair's) were not used.
    assert page.locator(".lc-outputs script").count() == 0
    assert offsite == []


def test_a_malformed_spec_is_one_error_line_and_the_next_cell_runs(
    open_page: OpenPage, book: Path, offsite: list[str]
) -> None:
    page = open_page(write_page(book, "bad-charts", "", BAD_PLOTLY, BAD_VEGA_LITE, "print(6 * 7)"))
    page.locator("button.lc-power").click()
    cells = page.locator(".lc-cell")
    expect(cells.nth(2).locator(".lc-outputs")).to_have_text("42", timeout=60_000)
    expect(cells.nth(0).locator(".lc-chart-error")).to_have_text(
        "Could not draw this plotly chart: its `data` is not a list of traces"
    )
    expect(cells.nth(1).locator(".lc-chart-error")).to_have_text(
        'Could not draw this vega-lite chart: its mark "nosuchmark" is not a Vega-Lite mark'
    )
    assert offsite == []
