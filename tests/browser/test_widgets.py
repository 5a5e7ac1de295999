"""Jupyter widgets (ipywidgets 8) in a reader's page: live on a real ``livecells serve`` kernel,
and from a notebook's saved widget state before Start."""

from __future__ import annotations

import base64
import json
import shutil
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from tests.browser.conftest import colour, contrast, kernels, luminance, wait_idle
from tests.browser.static_server import serve_static
from tests.conftest import JupyterServer, start_jupyter_server, start_livecells_serve

from livecells.site import build


def png(width: int, height: int) -> bytes:
    """A red RGB PNG of that size, written by hand (zlib and CRCs from the standard library)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# A 2x1 PNG, as the Image widget's binary buffer.
PNG = base64.b64encode(png(2, 1)).decode()

LIVE = {
    "slider": [
        "import ipywidgets as w\n"
        "seen = []\n"
        "s = w.IntSlider(value=3, min=0, max=10, description='n')\n"
        "s.observe(lambda change: seen.append(change['new']), 'value')\n"
        "s",
        "print(seen[-1], s.value)",
        "s.value = 7",
    ],
    "interact": [
        "from ipywidgets import interact, IntSlider\n"
        "slider = IntSlider(value=2, min=0, max=10)\n"
        "def double(x):\n"
        "    print('double', x * 2)\n"
        "interact(double, x=slider);",
        "slider.value = 5",
    ],
    "image": [
        f"import base64, ipywidgets as w\nw.Image(value=base64.b64decode('{PNG}'), format='png')",
    ],
    "bad": [
        "from comm import create_comm\nc = create_comm(target_name='no.such.target')",
        "k = get_ipython().kernel\n"
        "k.session.send(k.iopub_socket, 'comm_msg',\n"
        "    {'comm_id': 'no-such-model', 'data': {'method': 'update', 'state': {}}},\n"
        "    parent=k.get_parent());",
        "print('still running', 6 * 7)",
    ],
}


def md_page(cells: list[str], frontmatter: str = "") -> str:
    """A MyST page: Start runs its first cell, the reader the others (``skip-execution``);
    ``frontmatter``: lines added to its frontmatter."""
    body = "".join(
        f"```{{code-cell}} python\n{':tags: [skip-execution]' if index else ''}\n{cell}\n```\n\n"
        for index, cell in enumerate(cells)
    )
    return f"---\n{frontmatter}kernelspec: {{name: python3, display_name: Python 3}}\n---\n{body}"


def saved_notebook(path: Path) -> None:
    """A notebook run by nbclient, which stores its widgets' state in the metadata."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "import ipywidgets as w\nw.IntSlider(value=4, max=9, description='saved')"
        ),
        nbformat.v4.new_code_cell("w.Checkbox(value=True, description='kept')"),
    ]
    NotebookClient(notebook, timeout=60, kernel_name="python3", store_widget_state=True).execute()
    nbformat.write(notebook, path)


@pytest.fixture(scope="module")
def widget_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("widget-book")
    (root / "livecells.yml").write_text("project:\n  livecells: {allowReaderServer: true}\n")
    for name, cells in LIVE.items():
        (root / f"{name}.md").write_text(md_page(cells))
    saved_notebook(root / "saved.ipynb")
    broken = nbformat.read(root / "saved.ipynb", as_version=4)
    state = broken.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    view = broken.cells[0].outputs[0]["data"]["application/vnd.jupyter.widget-view+json"]
    del state[view["model_id"]]  # the first view's model is missing; the second is fine
    nbformat.write(broken, root / "missing.ipynb")
    broken.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["version_major"] = 1
    nbformat.write(broken, root / "malformed.ipynb")
    return root


@pytest.fixture(scope="module")
def widget_server(widget_book: Path) -> Iterator[JupyterServer]:
    server = start_livecells_serve(widget_book)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def own_server(
    tmp_path_factory: pytest.TempPathFactory, widget_server: JupyterServer
) -> Iterator[JupyterServer]:
    """A reader's own stock ``jupyter server`` that allows the widget book's pages."""
    origin = f"http://127.0.0.1:{widget_server.port}"
    server = start_jupyter_server(
        tmp_path_factory.mktemp("own-server"), f"--ServerApp.allow_origin={origin}"
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def public_server(widget_book: Path) -> Iterator[JupyterServer]:
    """The widget book served ``--public``: sandboxed kernels, one set per visitor."""
    server = start_livecells_serve(widget_book, "--public")
    yield server
    server.stop()


@pytest.fixture
def widget_context(browser: Browser, widget_server: JupyterServer) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.goto(f"{widget_server.url}livecells/?token={widget_server.token}")
    page.close()
    yield context
    context.close()


def open_widget_page(context: BrowserContext, server: JupyterServer, name: str) -> Page:
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{server.url}livecells/{name}.html")
    return page


def run_cell(page: Page, index: int) -> None:
    page.locator(".lc-cell").nth(index).locator("button.lc-run").click()


def cell_outputs(page: Page, index: int) -> Locator:
    return page.locator(".lc-cell").nth(index).locator(".lc-outputs")


def start(page: Page) -> None:
    page.locator("button.lc-power").click()
    wait_idle(page)


def drag_to_the_end(page: Page, slider: Locator) -> None:
    """Drag the slider's handle past the right end of its track."""
    track = slider.locator(".noUi-target").bounding_box()
    box = slider.locator(".noUi-handle").bounding_box()
    assert track is not None and box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(track["x"] + track["width"] + 40, box["y"] + box["height"] / 2, steps=8)
    page.mouse.up()


def test_a_dragged_slider_reaches_the_kernel_and_the_kernel_moves_it(
    widget_context: BrowserContext, widget_server: JupyterServer
) -> None:
    page = open_widget_page(widget_context, widget_server, "slider")
    start(page)
    slider = cell_outputs(page, 0).locator(".widget-slider")
    expect(slider.locator(".widget-readout")).to_have_text("3", timeout=30_000)
    handle = slider.locator(".noUi-handle")
    drag_to_the_end(page, slider)
    expect(slider.locator(".widget-readout")).to_have_text("10")
    run_cell(page, 1)
    expect(cell_outputs(page, 1)).to_have_text("10 10", timeout=30_000)
    run_cell(page, 2)
    expect(slider.locator(".widget-readout")).to_have_text("7", timeout=30_000)
    assert handle.get_attribute("aria-valuenow") == "7.0"


def test_widgets_work_on_a_readers_own_jupyter_server(
    widget_context: BrowserContext, widget_server: JupyterServer, own_server: JupyterServer
) -> None:
    page = open_widget_page(widget_context, widget_server, "slider")
    before = set(kernels(own_server))
    page.locator("button.lc-settings-button").click()
    page.locator('input[name="lc-runtime"][value="server"]').check()
    page.locator(".lc-server-url").fill(own_server.url)
    page.locator(".lc-server-token").fill(own_server.token)
    page.locator("button.lc-switch").click()
    slider = cell_outputs(page, 0).locator(".widget-slider")
    expect(slider.locator(".widget-readout")).to_have_text("3", timeout=60_000)
    assert len(set(kernels(own_server)) - before) == 1
    wait_idle(page)
    drag_to_the_end(page, slider)
    expect(slider.locator(".widget-readout")).to_have_text("10")
    run_cell(page, 1)
    expect(cell_outputs(page, 1)).to_have_text("10 10", timeout=30_000)


def test_interact_redraws_its_output_when_its_control_changes(
    widget_context: BrowserContext, widget_server: JupyterServer
) -> None:
    page = open_widget_page(widget_context, widget_server, "interact")
    start(page)
    output = cell_outputs(page, 0).locator(".widget-output")
    expect(output).to_have_text("double 4", timeout=30_000)
    run_cell(page, 1)
    expect(output).to_have_text("double 10", timeout=30_000)
    # Its printed output went into the Output widget, not into the cell beside it.
    assert cell_outputs(page, 0).locator(":scope > pre.lc-stream").count() == 0


def test_an_image_widget_shows_its_binary_buffer(
    widget_context: BrowserContext, widget_server: JupyterServer
) -> None:
    page = open_widget_page(widget_context, widget_server, "image")
    start(page)
    image = cell_outputs(page, 0).locator("img.widget-image")
    expect(image).to_have_count(1, timeout=30_000)
    page.wait_for_function(
        "el => el.complete && el.naturalWidth > 0", arg=image.element_handle(), timeout=10_000
    )
    assert image.evaluate("el => [el.naturalWidth, el.naturalHeight]") == [2, 1]


def test_unknown_targets_and_models_are_one_line_errors_and_the_page_goes_on(
    widget_context: BrowserContext, widget_server: JupyterServer
) -> None:
    page = open_widget_page(widget_context, widget_server, "bad")
    start(page)
    run_cell(page, 0)
    expect(cell_outputs(page, 0)).to_have_text(
        'Widget error: no handler for comm target "no.such.target" on this page (comm closed)',
        timeout=30_000,
    )
    run_cell(page, 1)
    expect(cell_outputs(page, 1)).to_have_text(
        "Widget error: a comm_msg for unknown model no-such-model", timeout=30_000
    )
    run_cell(page, 2)
    expect(cell_outputs(page, 2)).to_have_text("still running 42", timeout=30_000)


def test_saved_widget_state_shows_the_widgets_before_start_with_no_kernel(
    widget_context: BrowserContext, widget_server: JupyterServer
) -> None:
    before = kernels(widget_server)
    requests: list[str] = []
    widget_context.on("request", lambda request: requests.append(request.url))
    page = open_widget_page(widget_context, widget_server, "saved")
    slider = cell_outputs(page, 0).locator(".widget-slider")
    expect(slider.locator(".widget-readout")).to_have_text("4", timeout=30_000)
    expect(slider.locator(".widget-label")).to_have_text("saved")
    checkbox = cell_outputs(page, 1).locator(".widget-checkbox input[type=checkbox]")
    expect(checkbox).to_be_checked()
    # The text the notebook stored beside the view is gone; no kernel was asked for.
    assert "IntSlider(" not in cell_outputs(page, 0).inner_text()
    assert not [url for url in requests if "/api/kernels" in url]
    assert kernels(widget_server) == before
    # Start: the cells run and live widgets replace the saved ones.
    start(page)
    expect(cell_outputs(page, 0).locator(".lc-widget-saved")).to_have_count(0, timeout=30_000)
    expect(slider.locator(".widget-readout")).to_have_text("4", timeout=30_000)


def test_widgets_follow_the_pages_light_and_dark_scheme(
    widget_context: BrowserContext, widget_server: JupyterServer
) -> None:
    page = open_widget_page(widget_context, widget_server, "saved")
    label = cell_outputs(page, 0).locator(".widget-slider .widget-label")
    expect(label).to_have_text("saved", timeout=30_000)
    for scheme, dark in (("light", False), ("dark", True)):
        page.emulate_media(color_scheme=scheme)
        background = colour(page, "body", "backgroundColor")
        assert (luminance(background) < 0.05) == dark
        for part in (".widget-label", ".widget-readout"):
            text = colour(page, f".lc-cell .widget-slider {part}", "color")
            assert contrast(text, background) >= 7, (scheme, part, text, background)
        track = colour(page, ".lc-cell .noUi-target", "backgroundColor")
        assert (luminance(track) < 0.05) == dark, (scheme, track)
        edge = colour(page, ".lc-cell .noUi-target", "borderTopColor")
        assert contrast(edge, background) > 1.3, (scheme, edge, background)


def test_a_built_site_shows_saved_widgets_under_its_strict_policy(
    browser: Browser, widget_book: Path, tmp_path: Path
) -> None:
    source, output = tmp_path / "book", tmp_path / "site"
    source.mkdir()
    shutil.copy(widget_book / "saved.ipynb", source / "saved.ipynb")
    assert build(source, output).problems == []
    assert "Content-Security-Policy" in (output / "saved.html").read_text()
    context = browser.new_context()
    try:
        page = context.new_page()
        page.add_init_script(
            "window.violations = [];"
            "document.addEventListener('securitypolicyviolation',"
            " e => window.violations.push([e.effectiveDirective, e.blockedURI]));"
        )
        with serve_static(output, isolated=False) as url:
            page.goto(f"{url}saved.html")
            slider = cell_outputs(page, 0).locator(".widget-slider")
            expect(slider.locator(".widget-readout")).to_have_text("4", timeout=30_000)
            expect(cell_outputs(page, 1).locator(".widget-checkbox input")).to_be_checked()
            assert page.evaluate("window.violations") == []
    finally:
        context.close()


def test_a_saved_view_without_its_model_keeps_its_text_and_says_why(
    widget_context: BrowserContext, widget_server: JupyterServer, widget_book: Path
) -> None:
    notebook = json.loads((widget_book / "missing.ipynb").read_text())
    view = notebook["cells"][0]["outputs"][0]["data"]["application/vnd.jupyter.widget-view+json"]
    page = open_widget_page(widget_context, widget_server, "missing")
    first = cell_outputs(page, 0)
    expect(first.locator(".lc-problem")).to_have_text(
        f"Widget error: the notebook's saved widget state has no model {view['model_id']}",
        timeout=30_000,
    )
    assert "IntSlider(" in first.inner_text()
    expect(cell_outputs(page, 1).locator(".widget-checkbox input")).to_be_checked()


def test_a_malformed_saved_state_is_one_line_beneath_the_first_view(
    widget_context: BrowserContext, widget_server: JupyterServer
) -> None:
    page = open_widget_page(widget_context, widget_server, "malformed")
    first = cell_outputs(page, 0)
    expect(first.locator(".lc-problem")).to_have_text(
        "Widget error: the saved widget state has version 1 (this page reads version 2:"
        " ipywidgets 8)",
        timeout=30_000,
    )
    assert "IntSlider(" in first.inner_text()
    assert "Checkbox(" in cell_outputs(page, 1).inner_text()
    # The page goes on: Start runs its cells, whose live widgets replace the text.
    start(page)
    expect(first.locator(".widget-slider .widget-readout")).to_have_text("4", timeout=30_000)


def test_widgets_work_on_a_public_servers_sandboxed_kernel(
    browser: Browser, public_server: JupyterServer
) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{public_server.url}livecells/slider.html")
        start(page)
        slider = cell_outputs(page, 0).locator(".widget-slider")
        expect(slider.locator(".widget-readout")).to_have_text("3", timeout=60_000)
        drag_to_the_end(page, slider)
        run_cell(page, 1)
        expect(cell_outputs(page, 1)).to_have_text("10 10", timeout=30_000)
        run_cell(page, 2)
        expect(slider.locator(".widget-readout")).to_have_text("7", timeout=30_000)
    finally:
        context.close()
