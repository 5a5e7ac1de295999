"""The Pyodide runtime's package options on a built site, with real wheels: ``autoloadImports``
loads a package of the site's lock file that a cell imports without listing it (the package
comes from a local stand-in package index, through ``pip download`` as from PyPI), and
``figureFormats`` chooses what a figure becomes (a pure-Python stand-in for matplotlib, shipped
as the site's ``matplotlib`` wheel, drawn through the kernel's figure display path)."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from tests.browser import figlib
from tests.wheelfactory import make_package_wheel, make_wheel, serve_index

from livecells.site import build

BOOT = 90_000  # ms: loading Pyodide on 2 busy cores
READY = re.compile(r"^(ready|idle)$")
HEAD = "---\ntitle: {title}\nkernelspec: {{name: python3, display_name: Python 3}}\n{extra}---\n"
SHOUT = "def shout(text):\n    return text.upper() + '!'\n"
FIGURE = "import matplotlib.pyplot as plt\nplt.plot([0, 1, 3], [0, 2, 1])"
POINTS = [(0, 0), (1, 2), (3, 1)]


def page(title: str, code: str, extra: str = "") -> str:
    return HEAD.format(title=title, extra=extra) + f"```{{code-cell}} python\n{code}\n```\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("packages-book")
    index = tmp_path_factory.mktemp("index")
    make_wheel(index, "livecells_test_shout", "1.0", SHOUT)
    (source / "livecells.yml").write_text("project:\n  title: Packages\n  jupyter: lite\n")
    # One page lists the package: it is in the site's lock file, for every page.
    lists = "livecells:\n  packages: [livecells-test-shout]\n"
    (source / "lists.md").write_text(page("Lists", "print('listed')", lists))
    (source / "autoload.md").write_text(
        page("Autoload", "import livecells_test_shout\nlivecells_test_shout.shout('loaded')")
    )
    off = "livecells:\n  pyodide: {autoloadImports: false}\n"
    (source / "off.md").write_text(page("Off", "import livecells_test_shout", off))
    figures = source / "figures"
    figures.mkdir()
    wheel = make_package_wheel(
        figures,
        "matplotlib",
        "99.0",
        {"matplotlib/__init__.py": "", "matplotlib/pyplot.py": Path(figlib.__file__).read_text()},
        ["matplotlib"],
    )
    (figures / "requirements.txt").write_text(f"{wheel.name}\n")
    (figures / "svg.md").write_text(page("SVG", FIGURE))
    png = "livecells:\n  pyodide: {figureFormats: [png]}\n"
    (figures / "png.md").write_text(page("PNG", FIGURE, png))
    output = tmp_path_factory.mktemp("packages-site")
    with serve_index(index) as url:
        before = os.environ.get("PIP_EXTRA_INDEX_URL")
        os.environ["PIP_EXTRA_INDEX_URL"] = url
        try:
            built = build(source, output)
        finally:
            if before is None:
                del os.environ["PIP_EXTRA_INDEX_URL"]
            else:
                os.environ["PIP_EXTRA_INDEX_URL"] = before
    assert built.problems == []
    return output


@pytest.fixture
def open_page(browser: Browser, base_url: str) -> Iterator[object]:
    context = browser.new_context()

    def open_(url: str) -> Page:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(base_url + url)
        page.locator("button.lc-power").click()
        expect(page.locator(".lc-panel")).to_have_attribute("data-status", READY, timeout=BOOT)
        return page

    yield open_
    context.close()


def outputs(page: Page) -> Locator:
    return page.locator(".lc-cell").first.locator(".lc-outputs")


def test_a_lock_file_package_a_cell_imports_is_loaded_without_being_listed(
    open_page: object, site: Path
) -> None:
    page = open_page("autoload.html")  # type: ignore[operator]
    expect(outputs(page)).to_have_text("'LOADED!'", timeout=BOOT)
    assert list((site / "_livecells" / "wheels").glob("livecells_test_shout-1.0-*.whl"))


def test_without_autoload_imports_the_same_import_fails(open_page: object) -> None:
    page = open_page("off.html")  # type: ignore[operator]
    expect(outputs(page)).to_contain_text(
        "ModuleNotFoundError: No module named 'livecells_test_shout'", timeout=BOOT
    )


def test_figures_are_svg_by_default(open_page: object) -> None:
    page = open_page("figures/svg.html")  # type: ignore[operator]
    line = outputs(page).locator("svg polyline#figlib")
    expect(line).to_have_attribute("points", "0,0 1,2 3,1", timeout=BOOT)
    expect(outputs(page).locator("img")).to_have_count(0)


def test_figure_formats_png_gives_the_figure_as_png(open_page: object) -> None:
    page = open_page("figures/png.html")  # type: ignore[operator]
    image = outputs(page).locator("img")
    expected = base64.b64encode(figlib.png(POINTS)).decode()
    expect(image).to_have_attribute("src", f"data:image/png;base64,{expected}", timeout=BOOT)
    expect(outputs(page).locator("svg")).to_have_count(0)
    # A PNG the browser decodes: its natural size is the figure's.
    expect(image).to_have_js_property("naturalWidth", figlib.WIDTH)
