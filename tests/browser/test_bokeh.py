"""Bokeh plots: ``show(p)`` on a real kernel is drawn in Chromium by the self-hosted BokehJS
(lazy chunks) from the plot's data read out of Bokeh's script, which never runs: on an
untrusted page, under the page's CSP, without any other host; saved plots before Start, on a
served page and on a built one."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest
from nbclient import NotebookClient
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from tests.browser.conftest import refuse_offsite, wait_idle, write_page
from tests.browser.static_server import serve_static

from livecells.site import build

OpenPage = Callable[[str], Page]

SETUP = """from bokeh.io import output_notebook, show
from bokeh.plotting import figure
output_notebook()"""
PLOT = "p = figure(); p.line([1, 2, 3], [4, 6, 5]); show(p)"
# show()'s script with its document replaced by code: display() it as Bokeh would.
HOSTILE = """import re
from bokeh.embed.notebook import notebook_content
from IPython.display import display
script, div, _ = notebook_content(figure())
script = re.sub(r"const docs_json = .*;", "const docs_json = (window.pwned = 1, {});", script)
display({"application/javascript": script, "application/vnd.bokehjs_exec.v0+json": ""}, raw=True)"""
CUSTOM_JS = """from bokeh.models import CustomJS
q = figure(); q.line([1, 2], [3, 4]); q.js_on_event("tap", CustomJS(code="window.pwned = 2"))
show(q)"""
UPDATED = """from bokeh.embed.notebook import notebook_content
from IPython.display import display
script, div, _ = notebook_content(p)
h = display({"text/plain": "soon"}, raw=True, display_id=True)
exec_mime = "application/vnd.bokehjs_exec.v0+json"
h.update({"application/javascript": script, exec_mime: ""}, raw=True)"""
DIV = """from bokeh.models import Div
show(Div(text='<b>bold</b><img src="data:," onerror="window.pwned = 3">'))"""
OTHER_VERSION = """from bokeh.embed.notebook import notebook_content
from IPython.display import display
script, div, _ = notebook_content(p)
script = script.replace('"version":"3.9.2"', '"version":"3.8.0"')
display({"application/javascript": script, "application/vnd.bokehjs_exec.v0+json": ""}, raw=True)"""
WIDGETS = """from bokeh.layouts import column
from bokeh.models import ColumnDataSource, DataTable, Slider, TableColumn
table = DataTable(source=ColumnDataSource({"a": [7, 8]}), columns=[TableColumn(field="a")])
show(column(Slider(start=0, end=10, value=4, title="n"), table))"""
BANNER = "Bokeh plots on this page are drawn by its own copy of BokehJS."
TOOLS = [
    "bk-tool-icon-pan",
    "bk-tool-icon-auto-box-zoom",
    "bk-tool-icon-wheel-zoom",
    "bk-tool-icon-save",
    "bk-tool-icon-reset",
    "bk-tool-icon-help",
]
VIOLATIONS = (
    "window.violations = [];"
    "document.addEventListener('securitypolicyviolation',"
    " e => window.violations.push([e.effectiveDirective, e.blockedURI]));"
)
# The pixels of a plot's canvases (in BokehJS's shadow roots) in the line's colour, #1f77b4.
LINE_PIXELS = """element => {
  const canvases = [];
  const walk = node => {
    if (node instanceof HTMLCanvasElement) canvases.push(node);
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.children ?? []) walk(child);
  };
  walk(element);
  let blue = 0;
  for (const canvas of canvases) {
    if (!canvas.width || !canvas.height) continue;
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
      if (a > 0 && b > 150 && r < 120 && b - r > 60) blue++;
    }
  }
  return blue;
}"""


@pytest.fixture
def offsite(context: BrowserContext) -> Iterator[list[str]]:
    """Requests the page tried to make to any host but 127.0.0.1 (each refused); the page's
    CSP violations are collected in ``window.violations``."""
    attempted = refuse_offsite(context)
    context.add_init_script(VIOLATIONS)
    yield attempted


def cell_outputs(page: Page, index: int) -> Locator:
    return page.locator(".lc-cell").nth(index).locator(".lc-outputs")


def assert_drawn(page: Page, plot: Locator) -> None:
    """A figure of one line, drawn on canvas, with Bokeh's default toolbar."""
    expect(plot).to_have_attribute("data-bokeh", "drawn", timeout=60_000)
    assert page.evaluate(LINE_PIXELS, plot.element_handle()) > 300
    icons = plot.locator(".bk-Toolbar .bk-tool-icon").evaluate_all(
        "icons => icons.map(icon => icon.classList[1])"
    )
    assert icons == TOOLS
    assert plot.locator(".bk-logo").get_attribute("title") == "Bokeh 3.9.2"


def saved_notebook(path: Path) -> None:
    """A notebook run by nbclient on a real kernel, its Bokeh outputs saved."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.cells = [nbformat.v4.new_code_cell(SETUP), nbformat.v4.new_code_cell(PLOT)]
    NotebookClient(notebook, timeout=60, kernel_name="python3").execute()
    nbformat.write(notebook, path)


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bokeh-saved") / "bokeh-saved.ipynb"
    saved_notebook(path)
    return path


def test_a_bokeh_figure_is_drawn_without_other_hosts(
    open_page: OpenPage, book: Path, offsite: list[str]
) -> None:
    page = open_page(write_page(book, "bokeh", "", SETUP, PLOT))
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(urlsplit(request.url).path))
    page.locator("button.lc-power").click()
    assert_drawn(page, cell_outputs(page, 1).locator(".lc-bokeh"))
    wait_idle(page)
    # BokehJS's widgets and tables are left for documents that use them.
    assert [path for path in fetched if re.search(r"bokeh-(widgets|tables)", path)] == []
    # output_notebook()'s banner says what draws the plots; its loader is not shown.
    expect(cell_outputs(page, 0)).to_have_text(BANNER)
    assert page.locator(".lc-outputs script").count() == 0
    assert offsite == []
    assert page.evaluate("window.violations") == []


def test_a_plot_shown_by_a_display_update_is_drawn_where_the_display_is(
    open_page: OpenPage, book: Path, offsite: list[str]
) -> None:
    page = open_page(write_page(book, "bokeh-update", "", SETUP, PLOT, UPDATED))
    page.locator("button.lc-power").click()
    updated = cell_outputs(page, 2)
    expect(updated.locator(".bk-Figure")).to_have_count(1, timeout=60_000)
    expect(updated.locator(".bk-Toolbar .bk-tool-icon")).to_have_count(len(TOOLS))
    assert page.evaluate(LINE_PIXELS, updated.element_handle()) > 300
    assert "soon" not in updated.inner_text()
    assert offsite == []


def test_a_plot_from_another_bokeh_version_says_so_in_one_line_and_is_drawn(
    open_page: OpenPage, book: Path, offsite: list[str]
) -> None:
    page = open_page(write_page(book, "bokeh-version", "", SETUP, PLOT, OTHER_VERSION))
    page.locator("button.lc-power").click()
    plot = cell_outputs(page, 2).locator(".lc-bokeh")
    assert_drawn(page, plot)
    expect(plot.locator(".lc-bokeh-note")).to_have_text(
        "This plot was made by Bokeh 3.8.0 and is drawn by BokehJS 3.9.2."
    )
    assert offsite == []


def test_bokeh_widgets_and_tables_are_drawn_by_their_own_chunks(
    open_page: OpenPage, book: Path, offsite: list[str]
) -> None:
    page = open_page(write_page(book, "bokeh-widgets", "", SETUP, WIDGETS))
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(urlsplit(request.url).path))
    page.locator("button.lc-power").click()
    layout = cell_outputs(page, 1).locator(".lc-bokeh")
    expect(layout).to_have_attribute("data-bokeh", "drawn", timeout=60_000)
    expect(layout.locator(".bk-Slider .bk-slider-title")).to_have_text("n: 4")
    expect(layout.locator(".bk-DataTable .slick-row .slick-cell.l1")).to_have_text(["7", "8"])
    chunks = sorted(
        re.sub(r"\.esm\.min-\w+\.js$", "", path.rsplit("/", 1)[1])
        for path in fetched
        if "/chunks/bokeh-" in path
    )
    assert chunks == ["bokeh-tables", "bokeh-widgets"]
    assert offsite == []
    assert page.evaluate("window.violations") == []


@pytest.mark.parametrize("trusted", [True, False], ids=["trusted", "untrusted"])
def test_a_hostile_bokeh_script_is_one_line_and_never_runs(
    open_page: OpenPage, book: Path, offsite: list[str], trusted: bool
) -> None:
    """Not even on a trusted page, where other JavaScript outputs run."""
    dialogs: list[str] = []
    front = f"livecells: {{trusted: {str(trusted).lower()}}}\n"
    page = open_page(
        write_page(book, f"bokeh-hostile-{trusted}", front, SETUP, HOSTILE, "print(6 * 7)")
    )
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.locator("button.lc-power").click()
    expect(cell_outputs(page, 2)).to_have_text("42", timeout=60_000)
    expect(cell_outputs(page, 1).locator(".lc-bokeh-error")).to_have_text(
        "Could not draw this Bokeh plot: its `docs_json` is not JSON data"
    )
    assert page.evaluate("window.pwned") is None
    assert dialogs == []
    assert page.locator(".lc-outputs script").count() == 0
    assert offsite == []


@pytest.mark.parametrize("trusted", [True, False], ids=["trusted", "untrusted"])
def test_a_plot_with_custom_js_is_drawn_only_on_a_trusted_page(
    open_page: OpenPage, book: Path, offsite: list[str], trusted: bool
) -> None:
    front = f"livecells: {{trusted: {str(trusted).lower()}}}\n"
    page = open_page(write_page(book, f"bokeh-customjs-{trusted}", front, SETUP, CUSTOM_JS))
    page.locator("button.lc-power").click()
    plot = cell_outputs(page, 1).locator(".lc-bokeh")
    expect(plot).to_have_attribute("data-bokeh", "drawn" if trusted else "failed", timeout=60_000)
    if not trusted:
        expect(plot).to_have_text(
            "Could not draw this Bokeh plot: it holds JavaScript (CustomJS), "
            "which runs only on trusted pages"
        )
    assert page.evaluate("window.pwned") is None
    assert offsite == []


def test_html_a_bokeh_document_holds_is_cleaned_on_an_untrusted_page(
    open_page: OpenPage, book: Path, offsite: list[str]
) -> None:
    """BokehJS puts a Div's text into the page as HTML: its event handlers are removed (not
    only refused by the CSP, which a host embedding livecells may not have)."""
    page = open_page(write_page(book, "bokeh-div", "", SETUP, DIV))
    page.locator("button.lc-power").click()
    div = cell_outputs(page, 1).locator(".lc-bokeh")
    expect(div).to_have_attribute("data-bokeh", "drawn", timeout=60_000)
    expect(div.locator(".bk-Div b")).to_have_text("bold")
    assert div.locator(".bk-Div img").evaluate("img => img.getAttributeNames().sort()") == ["src"]
    assert page.evaluate("window.pwned") is None
    assert offsite == []


def test_a_saved_notebooks_bokeh_plot_is_drawn_before_start(
    open_page: OpenPage, book: Path, saved: Path, offsite: list[str]
) -> None:
    shutil.copy(saved, book / "tests" / "bokeh-saved.ipynb")
    page = open_page("tests/bokeh-saved.html")
    assert_drawn(page, cell_outputs(page, 1).locator(".lc-bokeh"))
    expect(cell_outputs(page, 0)).to_have_text(BANNER)
    # Nothing ran: the kernel was never started.
    expect(page.locator("button.lc-power")).to_be_enabled()
    assert offsite == []
    assert page.evaluate("window.violations") == []


def test_a_built_page_draws_a_saved_bokeh_plot_under_its_csp(
    browser: Browser, saved: Path, tmp_path: Path
) -> None:
    source, output = tmp_path / "book", tmp_path / "site"
    source.mkdir()
    shutil.copy(saved, source / "saved.ipynb")
    assert build(source, output).problems == []
    policy = re.search(
        r'http-equiv="Content-Security-Policy" content="([^"]*)"',
        (output / "saved.html").read_text(),
    )
    assert policy and "unsafe-eval" not in policy[1].replace("wasm-unsafe-eval", "")
    context = browser.new_context()
    try:
        page = context.new_page()
        page.add_init_script(VIOLATIONS)
        with serve_static(output, isolated=False) as url:
            page.goto(f"{url}saved.html")
            assert_drawn(page, cell_outputs(page, 1).locator(".lc-bokeh"))
            assert page.evaluate("window.violations") == []
    finally:
        context.close()
