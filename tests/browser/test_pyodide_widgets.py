"""Jupyter widgets (ipywidgets 8) on the Pyodide runtime: a built site whose pages import
ipywidgets ships its wheels (without IPython), and the page's widgets talk to Python in the
reader's browser over the worker's comms, with every host but 127.0.0.1 unreachable."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.browser.test_widget_modules import ALLOW, COUNTER, counter_clicks_reach_the_kernel
from tests.browser.test_widgets import LIVE, cell_outputs, drag_to_the_end, md_page, run_cell

from livecells.site import build

BOOT = 90_000  # ms: loading Pyodide on 2 busy cores
READY = re.compile(r"^(ready|idle)$")

# The server kernels' pages (tests/browser/test_widgets.py), the slider's with one more cell.
PAGES = {
    "slider": [*LIVE["slider"], "import ipywidgets as w\nw.IntSlider(value=6, max=9)"],
    "interact": LIVE["interact"],
    "image": LIVE["image"],
    "bad": [
        "import ipywidgets\nfrom comm import create_comm\n"
        "c = create_comm(target_name='no.such.target')",
        "stray = create_comm(\n"
        "    target_name='jupyter.widget', comm_id='no-such-model', primary=False\n"
        ")\n"
        "stray.send({'method': 'update', 'state': {}})",
        "print('still running', 6 * 7)",
    ],
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("pyodide-widget-book")
    (source / "livecells.yml").write_text("project:\n  title: Widgets\n  jupyter: lite\n")
    for name, cells in PAGES.items():
        (source / f"{name}.md").write_text(md_page(cells))
    counter = md_page([COUNTER, "print(counter.value)", "counter.value = 42"], ALLOW)
    (source / "counter.md").write_text(counter)
    output = tmp_path_factory.mktemp("pyodide-widget-site")
    built = build(source, output)
    assert built.problems == []
    return output


@pytest.fixture
def open_page(browser: Browser, base_url: str) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    # The reader's machine has no network: ipywidgets and all it imports come from the site.
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda route: route.abort())

    def open_(name: str) -> Page:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(f"{base_url}{name}.html")
        page.locator("button.lc-power").click()
        expect(page.locator(".lc-panel")).to_have_attribute("data-status", READY, timeout=BOOT)
        return page

    yield open_
    context.close()


def test_the_site_ships_ipywidgets_comm_and_traitlets_but_not_ipython(site: Path) -> None:
    wheels = sorted(
        p.name.split("-")[0].lower() for p in (site / "_livecells/wheels").glob("*.whl")
    )
    assert wheels == [
        "anywidget",  # counter.md imports it
        "comm",
        "ipywidgets",
        "micropip",
        "packaging",
        "psygnal",
        "traitlets",
        "typing_extensions",
    ]


def test_an_anywidget_counter_talks_both_ways_with_python(open_page: object) -> None:
    page = open_page("counter")  # type: ignore[operator]
    counter_clicks_reach_the_kernel(page)
    run_cell(page, 2)
    expect(cell_outputs(page, 0).locator("button.counter")).to_have_text(
        "count is 42", timeout=30_000
    )


def test_a_dragged_slider_reaches_python_and_python_moves_it(open_page: object) -> None:
    page = open_page("slider")  # type: ignore[operator]
    slider = cell_outputs(page, 0).locator(".widget-slider")
    expect(slider.locator(".widget-readout")).to_have_text("3", timeout=BOOT)
    drag_to_the_end(page, slider)
    expect(slider.locator(".widget-readout")).to_have_text("10")
    run_cell(page, 1)
    expect(cell_outputs(page, 1)).to_have_text("10 10", timeout=30_000)
    run_cell(page, 2)
    expect(slider.locator(".widget-readout")).to_have_text("7", timeout=30_000)
    assert slider.locator(".noUi-handle").get_attribute("aria-valuenow") == "7.0"


def test_interact_redraws_its_output_when_its_control_changes(open_page: object) -> None:
    page = open_page("interact")  # type: ignore[operator]
    output = cell_outputs(page, 0).locator(".widget-output")
    expect(output).to_have_text("double 4", timeout=BOOT)
    run_cell(page, 1)
    expect(output).to_have_text("double 10", timeout=30_000)
    assert cell_outputs(page, 0).locator(":scope > pre.lc-stream").count() == 0


def test_an_image_widget_shows_its_binary_buffer(open_page: object) -> None:
    page = open_page("image")  # type: ignore[operator]
    image = cell_outputs(page, 0).locator("img.widget-image")
    expect(image).to_have_count(1, timeout=BOOT)
    page.wait_for_function(
        "el => el.complete && el.naturalWidth > 0", arg=image.element_handle(), timeout=10_000
    )
    assert image.evaluate("el => [el.naturalWidth, el.naturalHeight]") == [2, 1]


def test_after_a_restart_a_new_slider_works(open_page: object) -> None:
    page = open_page("slider")  # type: ignore[operator]
    expect(cell_outputs(page, 0).locator(".widget-readout")).to_have_text("3", timeout=BOOT)
    page.locator("button.lc-restart").click()
    expect(page.locator(".lc-panel")).to_have_attribute("data-status", READY, timeout=BOOT)
    run_cell(page, 3)
    slider = cell_outputs(page, 3).locator(".widget-slider")
    expect(slider.locator(".widget-readout")).to_have_text("6", timeout=BOOT)
    drag_to_the_end(page, slider)
    expect(slider.locator(".widget-readout")).to_have_text("9")
    # The old kernel's slider is gone with its kernel: the new Python has no `s`.
    run_cell(page, 1)
    expect(cell_outputs(page, 1)).to_contain_text("NameError: name 'seen' is not defined")


def test_unknown_targets_and_models_are_one_line_errors_and_the_page_goes_on(
    open_page: object,
) -> None:
    page = open_page("bad")  # type: ignore[operator]
    run_cell(page, 0)
    expect(cell_outputs(page, 0)).to_have_text(
        'Widget error: no handler for comm target "no.such.target" on this page (comm closed)',
        timeout=BOOT,
    )
    run_cell(page, 1)
    expect(cell_outputs(page, 1)).to_have_text(
        "Widget error: a comm_msg for unknown model no-such-model", timeout=30_000
    )
    run_cell(page, 2)
    expect(cell_outputs(page, 2)).to_have_text("still running 42", timeout=30_000)
