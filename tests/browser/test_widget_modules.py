"""Widget libraries beyond ipywidgets' own, in a reader's page on a real ``livecells serve``
kernel: anywidget (its front end is the ES module its model carries, run only where the page
allows it) and ipympl (``%matplotlib widget``: jupyter-matplotlib, bundled as a lazy chunk)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from tests.browser.static_server import serve_static
from tests.browser.test_widgets import cell_outputs, md_page, open_widget_page, run_cell, start
from tests.conftest import JupyterServer, start_jupyter_server, start_livecells_serve

from livecells.site import build

ALLOW = "livecells: {allowWidgetESM: true}\n"
COUNTER = '''import anywidget, traitlets

class Counter(anywidget.AnyWidget):
    _esm = """
    export default {
      render({ model, el }) {
        const button = document.createElement("button");
        button.className = "counter";
        const show = () => { button.textContent = `count is ${model.get("value")}`; };
        button.addEventListener("click", () => {
          model.set("value", model.get("value") + 1);
          model.save_changes();
        });
        model.on("change:value", show);
        const note = document.createElement("span");
        note.className = "note";
        model.on("msg:custom", (content) => { note.textContent = content.greeting; });
        show();
        el.append(button, note);
      }
    };
    """
    _css = ".counter { background-color: rgb(200, 0, 0); }"
    value = traitlets.Int(3).tag(sync=True)

counter = Counter()
counter'''
PAGES = {
    "counter": (
        ALLOW,
        [
            COUNTER,
            "print(counter.value)",
            "counter.value = 42",
            "counter.send({'greeting': 'hello from the kernel'})",
            "counter._esm = counter._esm.replace('count is', 'clicks:')",
        ],
    ),
    "refused": ("", [COUNTER, "print('still running', 6 * 7)"]),
    "command": (
        ALLOW,
        [
            "import anywidget\n"
            "from anywidget.experimental import command\n\n"
            "class Doubler(anywidget.AnyWidget):\n"
            '    _esm = """export default { async render({ model, el, experimental }) {\n'
            '      const [answer] = await experimental.invoke("double", 21);\n'
            "      el.textContent = `answer ${answer}`;\n"
            '    } }"""\n\n'
            "    @command\n"
            "    def double(self, msg, buffers):\n"
            "        return msg * 2, []\n\n"
            "Doubler()",
        ],
    ),
    "broken": (
        ALLOW,
        [
            "import anywidget\n"
            "class Throws(anywidget.AnyWidget):\n"
            "    _esm = 'throw new Error(\"boom at import\")'\n"
            "Throws()",
            "class Unparsable(anywidget.AnyWidget):\n    _esm = 'export default {'\nUnparsable()",
            "class BadRender(anywidget.AnyWidget):\n"
            "    _esm = 'export default { render() { throw new Error(\"boom in render\") } }'\n"
            "BadRender()",
            "print('still running', 6 * 7)",
        ],
    ),
    "unknown": (
        "",
        [
            "import ipywidgets as w, traitlets\n\n"
            "def widget(module, version, name):\n"
            "    class Other(w.DOMWidget):\n"
            "        _model_module = traitlets.Unicode(module).tag(sync=True)\n"
            "        _model_module_version = traitlets.Unicode(version).tag(sync=True)\n"
            "        _model_name = traitlets.Unicode(name + 'Model').tag(sync=True)\n"
            "        _view_module = traitlets.Unicode(module).tag(sync=True)\n"
            "        _view_module_version = traitlets.Unicode(version).tag(sync=True)\n"
            "        _view_name = traitlets.Unicode(name + 'View').tag(sync=True)\n"
            "    return Other()\n\n"
            "widget('jupyter-matplotlib', '^0.99', 'MPLCanvas')",
            "widget('no-such-module', '1.0.0', 'Thing')",
            "print('still running', 6 * 7)",
        ],
    ),
    "figure": (
        "",
        [
            "%matplotlib widget\n"
            "import matplotlib.pyplot as plt\n"
            "fig, ax = plt.subplots(figsize=(4, 3))\n"
            "line, = ax.plot([1, 2, 3], color='red', linewidth=6)\n"
            "plt.show()",
            "ax.set_facecolor((0, 0, 1))\nfig.canvas.draw_idle()",
            "low, high = ax.get_xlim()\nprint(ax.get_navigate_mode(), 0 < high - low < 1.2)",
        ],
    ),
}


@pytest.fixture(scope="module")
def module_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("widget-modules")
    for name, (frontmatter, cells) in PAGES.items():
        (root / f"{name}.md").write_text(md_page(cells, frontmatter))
    return root


@pytest.fixture(scope="module")
def module_server(module_book: Path) -> Iterator[JupyterServer]:
    server = start_livecells_serve(module_book)
    yield server
    server.stop()


@pytest.fixture
def module_context(browser: Browser, module_server: JupyterServer) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.goto(f"{module_server.url}livecells/?token={module_server.token}")
    page.close()
    yield context
    context.close()


def counter_clicks_reach_the_kernel(page: Page) -> None:
    """The counter's button shows the kernel's value; two clicks make it 5 there."""
    button = cell_outputs(page, 0).locator("button.counter")
    expect(button).to_have_text("count is 3", timeout=30_000)
    button.click()
    expect(button).to_have_text("count is 4")
    button.click()
    expect(button).to_have_text("count is 5")
    run_cell(page, 1)
    expect(cell_outputs(page, 1)).to_have_text("5", timeout=30_000)


def test_an_anywidget_counter_talks_both_ways_with_the_kernel(
    module_context: BrowserContext, module_server: JupyterServer
) -> None:
    page = open_widget_page(module_context, module_server, "counter")
    start(page)
    counter_clicks_reach_the_kernel(page)
    button = cell_outputs(page, 0).locator("button.counter")
    # _css is one inline <style>.
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(200, 0, 0)"
    run_cell(page, 2)
    expect(button).to_have_text("count is 42", timeout=30_000)
    run_cell(page, 3)
    expect(cell_outputs(page, 0).locator(".note")).to_have_text(
        "hello from the kernel", timeout=30_000
    )
    # A new _esm from the kernel renders the view again with the new module.
    run_cell(page, 4)
    expect(cell_outputs(page, 0).locator("button.counter")).to_have_text(
        "clicks: 42", timeout=30_000
    )
    expect(cell_outputs(page, 0).locator("button.counter")).to_have_count(1)


def test_an_anywidget_without_the_option_is_one_line_and_the_page_goes_on(
    module_context: BrowserContext, module_server: JupyterServer
) -> None:
    page = open_widget_page(module_context, module_server, "refused")
    start(page)
    expect(cell_outputs(page, 0)).to_have_text(
        "Widget error: this page does not run anywidget modules (JavaScript the kernel sends);"
        " its author may allow them with livecells: {allowWidgetESM: true}",
        timeout=30_000,
    )
    run_cell(page, 1)
    expect(cell_outputs(page, 1)).to_have_text("still running 42", timeout=30_000)
    # Nor is the kernel's _css added to the page.
    assert page.locator("style[data-livecells=anywidget]").count() == 0


def test_experimental_invoke_calls_a_kernel_command_and_gets_its_answer(
    module_context: BrowserContext, module_server: JupyterServer
) -> None:
    page = open_widget_page(module_context, module_server, "command")
    start(page)
    expect(cell_outputs(page, 0)).to_have_text("answer 42", timeout=30_000)


def test_a_module_that_fails_is_one_line_in_its_output_and_the_page_goes_on(
    module_context: BrowserContext, module_server: JupyterServer
) -> None:
    page = open_widget_page(module_context, module_server, "broken")
    start(page)
    expect(cell_outputs(page, 0)).to_have_text(
        "Widget error: the anywidget module failed to load: boom at import", timeout=30_000
    )
    for index in (1, 2, 3):
        run_cell(page, index)
    expect(cell_outputs(page, 1)).to_have_text(
        "Widget error: the anywidget module failed to load: Unexpected end of input",
        timeout=30_000,
    )
    expect(cell_outputs(page, 2)).to_have_text(
        "Widget error: the anywidget module's render failed: boom in render", timeout=30_000
    )
    expect(cell_outputs(page, 3)).to_have_text("still running 42", timeout=30_000)


def test_a_model_of_a_module_not_on_the_page_is_one_line_and_the_page_goes_on(
    module_context: BrowserContext, module_server: JupyterServer
) -> None:
    page = open_widget_page(module_context, module_server, "unknown")
    start(page)
    expect(cell_outputs(page, 0)).to_have_text(
        "Widget error: the kernel's ipympl asks for jupyter-matplotlib ^0.99; this page has"
        " 0.12.0 (ipympl 0.10's)",
        timeout=30_000,
    )
    run_cell(page, 1)
    expect(cell_outputs(page, 1)).to_have_text(
        "Widget error: Could not load module no-such-module@1.0.0", timeout=30_000
    )
    run_cell(page, 2)
    expect(cell_outputs(page, 2)).to_have_text("still running 42", timeout=30_000)


# The colour of the canvas pixel at the middle of the plot area, and how many pixels are red.
CANVAS_PIXELS = """canvas => {
    const context = canvas.getContext("2d");
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    let red = 0, blue = 0;
    for (let i = 0; i < data.length; i += 4) {
        const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
        if (r > 200 && g < 60 && b < 60) red += 1;
        if (b > 200 && r < 60 && g < 60) blue += 1;
    }
    return { red, blue };
}"""


def test_an_ipympl_figure_draws_on_its_canvas_and_redraws_when_the_kernel_changes_it(
    module_context: BrowserContext, module_server: JupyterServer
) -> None:
    requests: list[str] = []
    module_context.on("request", lambda request: requests.append(request.url))
    page = open_widget_page(module_context, module_server, "figure")
    start(page)
    figure = cell_outputs(page, 0).locator(".jupyter-matplotlib-figure")
    expect(figure).to_have_count(1, timeout=60_000)
    canvas = figure.locator("canvas").first
    page.wait_for_function(
        f"c => ({CANVAS_PIXELS})(c).red > 500", arg=canvas.element_handle(), timeout=30_000
    )
    assert canvas.evaluate(CANVAS_PIXELS)["blue"] == 0
    toolbar = cell_outputs(page, 0).locator(".jupyter-matplotlib-toolbar")
    expect(toolbar.locator("button[title='Reset original view']")).to_have_count(1)
    # The toolbar lies over the figure's corner, not somewhere above the cell.
    bar, frame = toolbar.bounding_box(), figure.bounding_box()
    assert bar is not None and frame is not None
    assert frame["y"] <= bar["y"] < frame["y"] + 10 and frame["x"] <= bar["x"] < frame["x"] + 10
    run_cell(page, 1)
    page.wait_for_function(
        f"c => ({CANVAS_PIXELS})(c).blue > 5000", arg=canvas.element_handle(), timeout=30_000
    )
    # Zoom to a rectangle with the mouse: the kernel's axes follow.
    figure.hover()
    box = canvas.bounding_box()
    assert box is not None
    toolbar.locator("button[title^='Zoom to rectangle']").click()
    page.mouse.move(box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.7, steps=8)
    page.mouse.up()
    run_cell(page, 2)
    expect(cell_outputs(page, 2)).to_have_text("ZOOM True", timeout=30_000)
    assert all(url.startswith(("http://127.0.0.1", "blob:", "data:")) for url in requests)


@pytest.fixture(scope="module")
def kernel_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    """A stock ``jupyter server`` the built pages run on (their origin is the static
    server's, on a port not known before the build)."""
    server = start_jupyter_server(
        tmp_path_factory.mktemp("kernel-server"), "--ServerApp.allow_origin=*"
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def built_site(
    tmp_path_factory: pytest.TempPathFactory, kernel_server: JupyterServer
) -> Iterator[str]:
    source, output = tmp_path_factory.mktemp("modules-book"), tmp_path_factory.mktemp("site")
    server = f"jupyter:\n  server: {{url: '{kernel_server.url}', token: '{kernel_server.token}'}}\n"
    cells = PAGES["counter"][1][:2]
    (source / "allowed.md").write_text(md_page(cells, server + ALLOW))
    (source / "strict.md").write_text(md_page(cells, server))
    (source / "figure.md").write_text(md_page(PAGES["figure"][1][:1], server))
    assert build(source, output).problems == []
    with serve_static(output, isolated=False) as url:
        yield url


VIOLATIONS = (
    "window.violations = [];"
    "document.addEventListener('securitypolicyviolation',"
    " e => window.violations.push([e.effectiveDirective, e.blockedURI]));"
)
IMPORT_BLOB = """async () => {
    const url = URL.createObjectURL(new Blob(["export default 1"], { type: "text/javascript" }));
    try { return String((await import(url)).default); } catch (error) { return error.name; }
}"""


def test_a_built_page_with_the_option_runs_an_anywidget_under_its_policy(
    browser: Browser, built_site: str
) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.add_init_script(VIOLATIONS)
        page.goto(f"{built_site}allowed.html")
        start(page)
        counter_clicks_reach_the_kernel(page)
        assert page.evaluate("window.violations") == []
    finally:
        context.close()


def test_a_built_page_without_the_option_refuses_blob_modules(
    browser: Browser, built_site: str
) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.add_init_script(VIOLATIONS)
        page.goto(f"{built_site}strict.html")
        assert page.evaluate(IMPORT_BLOB) == "TypeError"
        page.wait_for_function("window.violations.length > 0", timeout=10_000)
        [[directive, blocked]] = page.evaluate("window.violations")
        assert (directive, blocked) == ("script-src-elem", "blob")
        page.goto(f"{built_site}allowed.html")
        assert page.evaluate(IMPORT_BLOB) == "1"
    finally:
        context.close()


def test_a_built_page_shows_an_ipympl_figure_under_its_default_policy(
    browser: Browser, built_site: str
) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.add_init_script(VIOLATIONS)
        page.goto(f"{built_site}figure.html")
        start(page)
        canvas = cell_outputs(page, 0).locator(".jupyter-matplotlib-figure canvas").first
        expect(canvas).to_have_count(1, timeout=60_000)
        page.wait_for_function(
            f"c => ({CANVAS_PIXELS})(c).red > 500", arg=canvas.element_handle(), timeout=30_000
        )
        assert page.evaluate("window.violations") == []
    finally:
        context.close()
