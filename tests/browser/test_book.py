"""Every page of the example book (examples/), run to its end by a reader in Chromium on each
runtime a build offers: Pyodide with and without cross-origin isolation, ``livecells serve``, a
reader's own ``jupyter server`` (chosen in the settings, remembered), and Binder (the local
stand-in). No error output but the ones a page means to show, and screenshots at 1280 px and
390 px, light and dark, kept as CI artefacts under ``$LIVECELLS_ARTIFACTS/screenshots`` (default
``tests/artifacts/``, ignored by git), each checked for what a reader would notice: a page wider
than the screen, a panel that covers the page, a light page in dark mode."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from tests.binderhub import standin_binderhub
from tests.browser.conftest import RUN_ALL_ENDED, SIZES, each_view, layout_problems
from tests.browser.static_server import serve_static
from tests.conftest import start_jupyter_server, start_livecells_serve

from livecells.site import build

EXAMPLES = Path(__file__).parents[2] / "examples"
TITLE = "  title: livecells examples\n"
"""The line of examples/livecells.yml after which a test adds its settings."""
ARTIFACTS = (
    Path(os.environ.get("LIVECELLS_ARTIFACTS") or Path(__file__).parents[1] / "artifacts")
    / "screenshots"
)
PAGES = ["index.html", "basics.html", "outputs.html", "interactive.html"]
RUNTIMES = ["pyodide-isolated", "pyodide", "serve", "server", "binder"]
RUN = 120_000  # ms: a kernel's start and a page's cells, on 2 busy cores
RUNTIME = {
    "pyodide-isolated": "pyodide",
    "pyodide": "pyodide",
    "serve": "livecells",
    "server": "server",
    "binder": "binder",
}


@dataclass
class Reader:
    """Where the book is read with one runtime: its base URL, and what a reader's browser
    holds before the first page (a cookie, a remembered choice of runtime)."""

    runtime: str
    base_url: str
    first_url: str | None = None
    storage: dict[str, str] = field(default_factory=dict)
    #: Error outputs a page shows on purpose here: (page, cell index) -> pattern.
    expected: dict[tuple[str, int], str] = field(default_factory=dict)


def book_copy(root: Path, jupyter: object = None, livecells: object = None) -> Path:
    """The example book, with ``project.jupyter`` and ``project.livecells`` as given."""
    shutil.copytree(EXAMPLES, root, dirs_exist_ok=True)
    settings = f"  jupyter: {json.dumps(jupyter)}\n" if jupyter is not None else ""
    if livecells is not None:
        settings += f"  livecells: {json.dumps(livecells)}\n"
    if settings:
        config = (root / "livecells.yml").read_text()
        (root / "livecells.yml").write_text(config.replace(TITLE, f"{TITLE}{settings}"))
    return root


@pytest.fixture(scope="module", params=RUNTIMES)
def reader(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Reader]:
    runtime: str = request.param
    interrupt = {("interactive.html", 1): "KeyboardInterrupt"}
    with ExitStack() as stack:
        if runtime == "serve":
            server = start_livecells_serve(book_copy(tmp_path_factory.mktemp("serve-book")))
            stack.callback(server.stop)
            yield Reader(
                runtime,
                f"{server.url}livecells/",
                first_url=f"{server.url}livecells/?token={server.token}",
                expected=interrupt,
            )
            return
        if runtime == "binder":
            hub = stack.enter_context(standin_binderhub(tmp_path_factory.mktemp("binder-repo")))
            source = book_copy(
                tmp_path_factory.mktemp("binder-book"),
                {"binder": {"repo": "owner/book", "url": hub.url}},
            )
        else:
            # A server the reader names (remembered from an earlier visit): the author allows it.
            options = {"allowReaderServer": True} if runtime == "server" else None
            source = book_copy(tmp_path_factory.mktemp("static-book"), livecells=options)
        site = tmp_path_factory.mktemp(f"{runtime}-site")
        assert build(source, site).problems == []
        isolated = runtime == "pyodide-isolated"
        url = stack.enter_context(serve_static(site, isolated=isolated))
        if runtime == "server":
            server = start_jupyter_server(
                tmp_path_factory.mktemp("reader-server"), "--ServerApp.allow_origin=*"
            )
            stack.callback(server.stop)
            choice = {"runtime": "server", "server": {"url": server.url, "token": server.token}}
            yield Reader(
                runtime, url, storage={"livecells:choice": json.dumps(choice)}, expected=interrupt
            )
            return
        if runtime == "pyodide":
            # Without isolation input() cannot block and an interrupt replaces Python: the
            # page says so, and the next cell finds its variables gone.
            expected = {
                ("interactive.html", 0): "cross-origin isolated",
                ("interactive.html", 1): "variables are lost",
                ("interactive.html", 2): "NameError",
            }
            yield Reader(runtime, url, expected=expected)
            return
        yield Reader(runtime, url, expected=interrupt)


@pytest.fixture
def context(browser: Browser, reader: Reader) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": SIZES[1280]})
    if reader.storage:
        context.add_init_script(
            f"for (const [k, v] of Object.entries({json.dumps(reader.storage)}))"
            " localStorage.setItem(k, v);"
        )
    if reader.first_url:
        context.new_page().goto(reader.first_url)
    yield context
    context.close()


def count_is_set(cell: Locator) -> None:
    expect(cell.locator(".lc-count")).to_have_text(re.compile(r"^\[\d+\]:$"), timeout=RUN)


def wait_ready(page: Page) -> None:
    expect(page.locator(".lc-panel")).to_have_attribute(
        "data-status", re.compile("^(ready|idle)$"), timeout=RUN
    )


def run_interactive(page: Page, reader: Reader) -> None:
    """What a reader does on the Interactive page: answers input(), stops the endless loop,
    reads what it counted."""
    cells = page.locator(".lc-cell")
    wait_ready(page)
    cells.nth(0).locator("button.lc-run").click()
    if ("interactive.html", 0) not in reader.expected:
        box = cells.nth(0).locator("input.lc-stdin")
        expect(box).to_be_visible(timeout=RUN)
        box.fill("Ada")
        box.press("Enter")
        expect(cells.nth(0).locator(".lc-outputs")).to_contain_text("Hello, Ada!", timeout=RUN)
    count_is_set(cells.nth(0))
    wait_ready(page)
    cells.nth(1).locator("button.lc-run").click()
    expect(page.locator(".lc-panel")).to_have_attribute("data-status", "busy", timeout=RUN)
    # Pressed again while the loop runs on: on isolated Pyodide an interrupt sent in the
    # moment the cell starts is lost (the worker clears its flag as it begins).
    stopped = cells.nth(1).locator(".lc-error")
    for _ in range(30):
        if page.locator("button.lc-interrupt").is_enabled():
            page.locator("button.lc-interrupt").click()
        try:
            expect(stopped).to_be_visible(timeout=4_000)
            break
        except AssertionError:
            continue
    expect(stopped).to_be_visible(timeout=RUN)
    wait_ready(page)
    cells.nth(2).locator("button.lc-run").click()
    count_is_set(cells.nth(2))


def unexpected_errors(page: Page, name: str, reader: Reader) -> list[str]:
    found = []
    cells = page.locator(".lc-cell")
    for index in range(cells.count()):
        cell = cells.nth(index)
        errors = cell.locator(".lc-outputs .lc-error")
        if not errors.count():
            continue
        text = "\n".join(errors.all_inner_texts())
        if "raises-exception" in (cell.get_attribute("data-tags") or "").split():
            continue
        pattern = reader.expected.get((name, index))
        if pattern and re.search(pattern, text):
            continue
        found.append(f"{name} cell {index}: {text[-600:]}")
    return found


def screenshots(page: Page, runtime: str, name: str) -> list[str]:
    """Four screenshots of the page as it ends, and what is wrong with each layout."""
    problems = []
    folder = ARTIFACTS / runtime
    folder.mkdir(parents=True, exist_ok=True)
    for width, scheme in each_view(page):
        where = f"{runtime} {name} at {width} px, {scheme}"
        problems += layout_problems(page, where, dark=scheme == "dark")
        path = folder / f"{name.removesuffix('.html')}-{width}-{scheme}.png"
        page.screenshot(path=str(path), full_page=True)
    return problems


@pytest.mark.timeout(400)
@pytest.mark.parametrize("name", PAGES)
def test_every_page_of_the_book_runs_to_its_end(
    context: BrowserContext, reader: Reader, name: str
) -> None:
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(reader.base_url + name)
    cells = page.locator(".lc-cell")
    if page.locator(".lc-panel").count() or cells.count():
        expect(page.locator(".lc-panel")).to_have_attribute("data-runtime", RUNTIME[reader.runtime])
        page.locator("button.lc-power").click()
        if name == "interactive.html":
            run_interactive(page, reader)
        else:
            # Stored outputs carry counts too: a count alone does not say a cell ran.
            page.wait_for_function(RUN_ALL_ENDED, timeout=RUN)
        wait_ready(page)
    problems = unexpected_errors(page, name, reader)
    counts = [text.strip() for text in page.locator(".lc-count").all_inner_texts()]
    if name != "interactive.html" and not all(re.match(r"^\[\d+\]:$", c) for c in counts):
        problems.append(f"{name}: not every cell ran: {counts}")
    problems += screenshots(page, reader.runtime, name)
    assert problems == []
