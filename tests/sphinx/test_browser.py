"""Sphinx sites, built for real, made live in Chromium: MyST-NB on sphinx-book-theme on the
Pyodide runtime (a plain static host), nbsphinx on furo and a sphinx-thebe site on alabaster
served by ``livecells serve _build/html`` (the server's own kernels), and Binder through the
local stand-in for mybinder.org (tests/binderhub.py)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from tests.binderhub import StandInBinderHub, standin_binderhub
from tests.browser.static_server import serve_static
from tests.conftest import JupyterServer, start_livecells_serve
from tests.sphinx.conftest import html_of, project, sphinx_build
from tests.wheelfactory import make_wheel

from livecells.wheels import LOCK_NAME

BOOT = 120_000  # ms: loading Pyodide, or starting a kernel, on 2 busy cores
LOAD = 30_000  # ms: a page and its module scripts, on 2 busy cores
READY = re.compile(r"^(ready|idle)$")
# An inline script added to the page: [the directive that refused it, what it set].
INJECT_SCRIPT = """() => new Promise(resolve => {
  document.addEventListener("securitypolicyviolation",
    e => resolve([e.violatedDirective, window.injected ?? null]), {once: true});
  const script = document.createElement("script");
  script.textContent = "window.injected = 1";
  document.body.append(script);
  if (window.injected) resolve(["none", window.injected]);  // an inline script runs on append
})"""


def built(tmp: Path, name: str, conf: str = "") -> Path:
    root = project(tmp, name, conf)
    done = sphinx_build(root)
    assert done.returncode == 0, done.stderr
    return html_of(root)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    yield opened
    context.close()


def start(page: Page) -> None:
    page.locator("button.lc-power").click()
    expect(page.locator(".lc-panel")).to_have_attribute("data-status", READY, timeout=BOOT)


def served_url(server: JupyterServer, path: str) -> str:
    """The page at ``path``, its token in the URL: the server logs the browser in (a cookie)
    on the page itself."""
    return f"{server.url}livecells/{path}?token={server.token}"


def test_mystnb_cells_run_on_pyodide_hidden_inputs_stay_hidden(tmp_path: Path, page: Page) -> None:
    site = built(tmp_path, "mystnb")
    with serve_static(site, isolated=True) as url:
        page.goto(url + "analysis.html")
        cells = page.locator(".lc-cell")
        expect(cells).to_have_count(2, timeout=LOAD)
        # the panel sits at the top of the book theme's article, not in its header
        assert page.locator("article .lc-panel").count() == 1
        start(page)  # autoRun: Start runs every cell
        expect(cells.nth(0).locator(".lc-outputs")).to_have_text("45", timeout=BOOT)
        expect(cells.nth(1).locator(".lc-outputs")).to_contain_text("hidden 90", timeout=BOOT)
        hidden = cells.nth(1).locator("details")
        assert hidden.get_attribute("open") is None
        assert not cells.nth(1).locator("pre.lc-source").is_visible()
        assert cells.nth(0).locator(".lc-count").inner_text() == "[1]:"


def test_book_theme_dark_mode_reaches_the_panel(tmp_path: Path, page: Page) -> None:
    site = built(tmp_path, "mystnb")
    with serve_static(site, isolated=False) as url:
        page.goto(url + "analysis.html")
        panel = page.locator(".lc-panel")
        expect(panel).to_be_visible(timeout=LOAD)
        light = panel.evaluate("e => getComputedStyle(e).getPropertyValue('--lc-bg').trim()")
        page.evaluate("document.documentElement.dataset.theme = 'dark'")
        dark = panel.evaluate("e => getComputedStyle(e).getPropertyValue('--lc-bg').trim()")
        assert (light, dark) == ("#ffffff", "#0d1117")


@pytest.fixture(scope="module")
def served_sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    tmp = tmp_path_factory.mktemp("served")
    yield {"nbsphinx": built(tmp, "nbsphinx"), "thebe": built(tmp, "thebe")}


def test_nbsphinx_on_furo_runs_on_the_serving_kernels(
    served_sites: dict[str, Path], page: Page
) -> None:
    server = start_livecells_serve(served_sites["nbsphinx"])
    try:
        page.goto(served_url(server, "numbers.html"))
        cells = page.locator(".lc-cell")
        expect(cells).to_have_count(2, timeout=LOAD)
        expect(page.locator(".lc-panel")).to_have_attribute(
            "data-runtime", "livecells", timeout=LOAD
        )
        start(page)
        expect(cells.nth(1).locator(".lc-outputs")).to_contain_text("pid True 43", timeout=BOOT)
        expect(cells.nth(0).locator(".lc-outputs")).to_contain_text("42", timeout=LOAD)
        # Under the page's CSP, furo's own inline script ran (the theme from localStorage) and
        # a script put in the page afterwards does not.
        assert page.evaluate("document.body.dataset.theme") == "auto"
        refused = page.evaluate(INJECT_SCRIPT)
        assert refused == ["script-src-elem", None]
        # furo's dark mode is on <body>
        page.evaluate("document.body.dataset.theme = 'dark'")
        dark = page.locator(".lc-panel").evaluate(
            "e => getComputedStyle(e).getPropertyValue('--lc-bg').trim()"
        )
        assert dark == "#0d1117"
    finally:
        server.stop()


def test_a_sphinx_thebe_site_is_live_with_no_other_change(
    served_sites: dict[str, Path], page: Page
) -> None:
    server = start_livecells_serve(served_sites["thebe"])
    try:
        page.goto(served_url(server, "index.html"))
        cells = page.locator(".lc-cell")
        expect(cells).to_have_count(1, timeout=LOAD)  # the python block, not the text one
        start(page)
        expect(cells.nth(0).locator(".lc-outputs")).to_have_text("[0, 1, 4, 9, 16]", timeout=BOOT)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandInBinderHub]:
    with standin_binderhub(tmp_path_factory.mktemp("binder-repo")) as running:
        yield running


def test_binder_through_the_stand_in_hub(tmp_path: Path, page: Page, hub: StandInBinderHub) -> None:
    conf = f'livecells_jupyter = {{"binder": {{"url": "{hub.url}", "repo": "owner/sphinx"}}}}'
    site = built(tmp_path, "mystnb", conf)
    with serve_static(site, isolated=False) as url:
        page.goto(url + "analysis.html")
        start(page)
        expect(page.locator(".lc-cell").nth(0).locator(".lc-outputs")).to_have_text(
            "45", timeout=BOOT
        )
    assert hub.launches == ["github/owner/sphinx/HEAD"]


THEMES = {
    # theme: (where the panel goes, how the theme says "dark", or None: it has no dark mode)
    "sphinx_book_theme": ("article.bd-article", "document.documentElement.dataset.theme = 'dark'"),
    "pydata_sphinx_theme": (
        "article.bd-article",
        "document.documentElement.dataset.theme = 'dark'",
    ),
    "furo": ("article[role=main]", "document.body.dataset.theme = 'dark'"),
    "alabaster": ("div.body[role=main]", None),
}
STYLED = ["body", "h1", "div.admonition", "div.cell_input pre", "div.cell_output pre"]
PROPERTIES = ["color", "background-color", "font-family", "font-size", "margin", "padding"]


@pytest.mark.parametrize("theme", list(THEMES))
def test_each_theme_keeps_its_styles_and_its_dark_mode_reaches_the_panel(
    tmp_path: Path, browser: Browser, theme: str
) -> None:
    site = built(tmp_path, "mystnb", f"html_theme = {theme!r}")
    place, dark = THEMES[theme]
    # the system prefers dark: only themes that follow it (furo's "auto") turn the panel dark
    context = browser.new_context(color_scheme="dark")
    try:
        page = context.new_page()
        with serve_static(site, isolated=False) as url:
            page.goto(url + "analysis.html")
            panel = page.locator(".lc-panel")
            expect(panel).to_be_visible(timeout=LOAD)
            assert page.locator(f"{place} > .lc-panel").count() == 1
            styles = """([selectors, properties]) => selectors.map((s) => {
                const element = document.querySelector(s);
                const style = getComputedStyle(element);
                return properties.map((p) => style.getPropertyValue(p));
            })"""
            ours = page.evaluate(styles, [STYLED, PROPERTIES])
            page.evaluate(
                "document.querySelector('link[href*=\"livecells-sphinx.css\"]').disabled = true"
            )
            assert page.evaluate(styles, [STYLED, PROPERTIES]) == ours
            page.evaluate(
                "document.querySelector('link[href*=\"livecells-sphinx.css\"]').disabled = false"
            )
            background = "e => getComputedStyle(e).getPropertyValue('--lc-bg').trim()"
            system = "#0d1117" if theme == "furo" else "#ffffff"
            if theme in ("sphinx_book_theme", "pydata_sphinx_theme"):
                # pydata's "auto" resolves the system's dark into data-theme on <html>
                page.evaluate("document.documentElement.dataset.theme = 'light'")
            # the stylesheet just enabled again applies with the next style recalculation
            settled(page, system)
            assert panel.evaluate(background) == system
            if dark is not None:
                page.evaluate(dark)
                settled(page, "#0d1117")
                assert panel.evaluate(background) == "#0d1117"
    finally:
        context.close()


def settled(page: Page, colour: str) -> None:
    """Wait (up to LOAD) for the panel's ``--lc-bg`` to be ``colour``; the caller asserts."""
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(
            "(c) => getComputedStyle(document.querySelector('.lc-panel'))"
            ".getPropertyValue('--lc-bg').trim() === c",
            arg=colour,
            timeout=LOAD,
        )


def test_a_thebe_button_is_where_the_panel_goes(tmp_path: Path, page: Page) -> None:
    site = built(tmp_path, "thebe")
    with serve_static(site, isolated=False) as url:
        page.goto(url + "index.html")
        expect(page.locator(".lc-panel + .livecells-panel-slot")).to_have_count(1, timeout=LOAD)


def test_livecells_packages_are_shipped_as_wheels_for_pyodide(tmp_path: Path, page: Page) -> None:
    conf = 'livecells = {"packages": ["wheels/greeting-1.0-py3-none-any.whl"]}'
    root = project(tmp_path, "mystnb", conf)
    (root / "wheels").mkdir()
    make_wheel(root / "wheels", "greeting", "1.0", "def hello():\n    return 'hi from a wheel'\n")
    notebook = nbformat.v4.new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}}
    )
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Greet"),
        nbformat.v4.new_code_cell("import greeting\nprint(greeting.hello())"),
    ]
    nbformat.write(notebook, root / "greet.ipynb")
    done = sphinx_build(root)
    assert done.returncode == 0, done.stderr
    site = html_of(root)
    assert (site / "_static" / "livecells" / "wheels" / LOCK_NAME).is_file()
    with serve_static(site, isolated=True) as url:
        page.goto(url + "greet.html")
        start(page)
        expect(page.locator(".lc-cell .lc-outputs")).to_have_text("hi from a wheel", timeout=BOOT)
