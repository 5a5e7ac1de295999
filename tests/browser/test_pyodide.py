"""The Pyodide runtime in the reader's browser: a site written by ``livecells build``, served
from 127.0.0.1 by a plain static server (with and without cross-origin isolation), nothing
else reachable."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from tests.browser.static_server import serve_static
from tests.conftest import start_livecells_serve
from tests.wheelfactory import make_wheel

from livecells.site import build

BOOK = Path(__file__).parent / "pyodide_book"
BOOT = 90_000  # ms: loading Pyodide on 2 busy cores
READY = re.compile(r"^(ready|idle)$")
OpenPage = Callable[[str], Page]


@pytest.fixture(scope="module")
def hanging_port() -> Iterator[int]:
    """A TCP port that accepts connections and never answers: an index URL that hangs."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, hanging_port: int) -> Path:
    source = tmp_path_factory.mktemp("pyodide-book")
    shutil.copytree(BOOK, source, dirs_exist_ok=True)
    make_wheel(source / "wheel", "greeting", "1.0", "def hello():\n    return 'hi from a wheel'\n")
    (source / "timeout.md").write_text(
        "---\ntitle: Timeout\nkernelspec: {name: python3, display_name: Python 3}\n"
        f"livecells:\n  pyodide:\n    indexURL: ['http://127.0.0.1:{hanging_port}/']\n"
        "    timeoutMs: 1500\n---\n```{code-cell} python\nprint('never')\n```\n"
    )
    (source / "missing.md").write_text(
        "---\ntitle: Missing\nkernelspec: {name: python3, display_name: Python 3}\n---\n"
        "```{code-cell} python\n:tags: [raises-exception]\n"
        "%pip install not-a-real-package-xyz\n```\n"
        "```{code-cell} python\n:tags: [raises-exception]\nimport matplotlib\n```\n"
    )
    output = tmp_path_factory.mktemp("pyodide-site")
    built = build(source, output)
    assert built.problems == []
    return output


@pytest.fixture
def open_page(browser: Browser, base_url: str) -> Iterator[OpenPage]:
    context = browser.new_context()
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))

    def open_(url: str) -> Page:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(base_url + url)
        return page

    yield open_
    context.close()
    outside = [
        url for url in requests if not url.startswith(("http://127.0.0.1", "data:", "blob:"))
    ]
    assert outside == [], "the site reached beyond its own host"


def start(page: Page) -> None:
    page.locator("button.lc-power").click()


def wait_idle(page: Page) -> None:
    expect(page.locator(".lc-panel")).to_have_attribute("data-status", READY, timeout=BOOT)


def cell(page: Page, index: int) -> Locator:
    return page.locator(".lc-cell").nth(index)


def test_cells_run_in_order_and_output_streams(open_page: OpenPage) -> None:
    page = open_page("run.html")
    start(page)
    first = cell(page, 0).locator(".lc-outputs")
    expect(first).to_contain_text("first", timeout=BOOT)
    assert "second" not in first.inner_text()  # the cell is still busy for 2 s
    expect(first).to_contain_text("second", timeout=10_000)
    display = cell(page, 1).locator(".lc-outputs")
    expect(display.locator("b.shown")).to_have_text("after", timeout=10_000)
    expect(display).not_to_contain_text("old")
    expect(display).to_contain_text("new")
    error = cell(page, 2).locator(".lc-outputs")
    expect(error).to_contain_text("ZeroDivisionError", timeout=10_000)
    assert "return 1 / 0" in error.inner_text()
    assert "_pyodide" not in error.inner_text()
    counts = [text.strip() for text in page.locator(".lc-count").all_inner_texts()]
    assert counts == ["[1]:", "[2]:", "[3]:"]


def test_interrupt_stops_an_endless_loop(open_page: OpenPage) -> None:
    page = open_page("interactive.html")
    isolated = page.evaluate("crossOriginIsolated")
    start(page)
    wait_idle(page)
    cell(page, 2).locator("button.lc-run").click()
    expect(cell(page, 2).locator(".lc-count")).to_have_text("[1]:", timeout=30_000)
    cell(page, 1).locator("button.lc-run").click()
    expect(page.locator(".lc-panel")).to_have_attribute("data-status", "busy", timeout=30_000)
    page.wait_for_timeout(500)
    page.locator("button.lc-interrupt").click()
    if isolated:
        expect(cell(page, 1).locator(".lc-outputs")).to_contain_text("KeyboardInterrupt")
        wait_idle(page)
        cell(page, 3).locator("button.lc-run").click()
        expect(cell(page, 3).locator(".lc-outputs")).to_contain_text("42")  # state kept
    else:
        # Nothing reaches a busy worker without isolation: it is replaced, and the reader told.
        expect(cell(page, 1).locator(".lc-outputs")).to_contain_text("variables are lost")
        wait_idle(page)
        cell(page, 3).locator("button.lc-run").click()
        expect(cell(page, 3).locator(".lc-outputs")).to_contain_text("NameError")


def test_input(open_page: OpenPage) -> None:
    page = open_page("interactive.html")
    isolated = page.evaluate("crossOriginIsolated")
    start(page)
    wait_idle(page)
    cell(page, 0).locator("button.lc-run").click()
    outputs = cell(page, 0).locator(".lc-outputs")
    if isolated:
        box = cell(page, 0).locator("input.lc-stdin")
        expect(box).to_be_visible(timeout=30_000)
        box.fill("Ada")
        box.press("Enter")
        expect(outputs).to_contain_text("Hello, Ada!")
    else:
        expect(outputs).to_contain_text("cross-origin isolated", timeout=30_000)


def test_a_local_wheel_is_installed_by_micropip(open_page: OpenPage) -> None:
    page = open_page("wheel/index.html")
    start(page)
    expect(cell(page, 0).locator(".lc-outputs")).to_contain_text("hi from a wheel", timeout=BOOT)


@pytest.fixture
def offline_page(browser: Browser, base_url: str) -> Iterator[Page]:
    """A page of the site in a browser where every other host is unreachable (a package
    index, say), as on a reader's machine without a network."""
    context = browser.new_context()
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda route: route.abort())
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(base_url + "missing.html")
    yield page
    context.close()


def test_a_failed_pip_install_is_one_short_traceback(offline_page: Page) -> None:
    page = offline_page
    start(page)
    outputs = cell(page, 0).locator(".lc-outputs")
    expect(outputs.locator(".lc-error")).to_have_count(1, timeout=BOOT)
    text = outputs.inner_text()
    assert text.count("Traceback") == 1, text
    assert "PipInstallError: could not install not-a-real-package-xyz" in text
    assert "JsException" not in text and "micropip/" not in text, text


def test_a_missing_compiled_package_is_not_sent_to_packages(offline_page: Page) -> None:
    """matplotlib is in Pyodide's distribution but not on this site: `packages` (pure-Python
    wheels) cannot bring it; Pyodide's full distribution as a further indexURL can."""
    page = offline_page
    start(page)
    error = cell(page, 1).locator(".lc-outputs .lc-error")
    expect(error).to_contain_text("ModuleNotFoundError", timeout=BOOT)
    text = error.inner_text()
    assert "Pyodide builds 'matplotlib'" in text, text
    assert "/full/) as a further project.livecells.pyodide.indexURL" in text
    assert "add 'matplotlib' to project.livecells.packages" not in text
    assert "add it to project.livecells.packages" not in text


def test_a_failing_index_url_falls_back_to_the_next(open_page: OpenPage) -> None:
    page = open_page("fallback.html")
    start(page)
    expect(cell(page, 0).locator(".lc-outputs")).to_contain_text("second index URL", timeout=BOOT)


def test_an_index_url_that_hangs_times_out_with_a_clear_error(open_page: OpenPage) -> None:
    page = open_page("timeout.html")
    start(page)
    status = page.locator(".lc-status")
    expect(status).to_contain_text("took longer than 1500 ms", timeout=30_000)
    expect(page.locator(".lc-panel")).to_have_attribute("data-status", "error")


def test_built_pages_load_without_policy_violations_and_refuse_a_tampered_file(
    browser: Browser, tmp_path: Path
) -> None:
    """SRI and the CSP of a built page: the example book loads with no console error; after
    a byte of the client changes on the host, the browser refuses to run it."""
    output = tmp_path / "site"
    assert build(Path(__file__).parents[2] / "examples", output).problems == []
    context = browser.new_context()
    errors: list[str] = []
    with serve_static(output, isolated=True) as url:
        page = context.new_page()
        page.on(
            "console",
            lambda message: errors.append(message.text) if message.type == "error" else None,
        )
        page.goto(url + "outputs.html")
        expect(page.locator("button.lc-power")).to_be_visible()
        assert [e for e in errors if "favicon" not in e and "404" not in e] == []
        entry = output / "_livecells" / "livecells.js"
        entry.write_bytes(entry.read_bytes().replace(b"livecells", b"livecel1s", 1))
        context.close()
        context = browser.new_context()  # nothing cached
        page = context.new_page()
        page.on("console", lambda message: errors.append(message.text))
        with page.expect_console_message(lambda m: "integrity" in m.text, timeout=30_000):
            page.goto(url + "outputs.html")
        page.wait_for_load_state("load")  # the entry module would have run by now
        assert page.locator("button.lc-power").count() == 0
    context.close()


def test_livecells_serve_serves_pyodide_pages_with_their_wheels(
    browser: Browser, tmp_path: Path
) -> None:
    source = tmp_path / "book"
    shutil.copytree(BOOK, source)
    make_wheel(source / "wheel", "greeting", "1.0", "def hello():\n    return 'served wheel'\n")
    server = start_livecells_serve(source)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{server.url}livecells/?token={server.token}")
        page.goto(f"{server.url}livecells/wheel/index.html")
        assert page.evaluate("crossOriginIsolated") is True
        start(page)
        expect(cell(page, 0).locator(".lc-outputs")).to_contain_text("served wheel", timeout=BOOT)
    finally:
        context.close()
        server.stop()


def test_at_most_three_python_sessions_run_on_a_page(open_page: OpenPage) -> None:
    page = open_page("run.html")  # its own session is preloading: the first of three
    outcomes = page.evaluate(
        """async () => {
            const first = window.livecells.runtime;
            const more = [1, 2, 3].map(() => new first.constructor(first.options));
            const outcomes = [];
            const start = (runtime) => runtime.start().then(() => "started", (e) => e.message);
            for (const runtime of more) outcomes.push(await start(runtime));
            await more[0].shutdown();
            outcomes.push(await start(more[2]));
            await Promise.all(more.map((runtime) => runtime.shutdown()));
            return outcomes;
        }"""
    )
    assert outcomes[:2] == ["started", "started"]
    assert "at most 3 Python sessions" in outcomes[2]
    assert outcomes[3] == "started"


def test_a_package_without_a_pure_wheel_comes_from_a_later_index_url(
    browser: Browser, tmp_path: Path
) -> None:
    """The build names the package it cannot ship; the page then loads it from the next index
    URL. That index is a local stand-in for Pyodide's full distribution on a CDN (a lock file
    and the wheel it names, served with CORS from another 127.0.0.1 port)."""
    cdn = tmp_path / "cdn"
    cdn.mkdir()
    wheel = make_wheel(cdn, "notonpypi_ext", "1.0", "def where():\n    return 'from the CDN'\n")
    entry = {"name": "notonpypi-ext", "version": "1.0", "file_name": wheel.name}
    entry |= {"install_dir": "site", "sha256": hashlib.sha256(wheel.read_bytes()).hexdigest()}
    entry |= {"package_type": "package", "imports": ["notonpypi_ext"], "depends": []}
    lock = {"info": {}, "packages": {"notonpypi-ext": entry}}
    (cdn / "pyodide-lock.json").write_text(json.dumps(lock))
    context = browser.new_context()
    with serve_static(cdn, isolated=False, cors=True) as cdn_url:
        source = tmp_path / "src"
        source.mkdir()
        (source / "page.md").write_text(
            "---\nkernelspec: {name: python3, display_name: Python 3}\njupyter: lite\n"
            f"livecells:\n  packages: [notonpypi-ext]\n  pyodide:\n"
            f"    indexURL: [local, '{cdn_url}']\n---\n"
            "```{code-cell} python\nimport notonpypi_ext\nnotonpypi_ext.where()\n```\n"
        )
        built = build(source, tmp_path / "site")
        (problem,) = built.problems  # the build asked the package index, which has none
        assert "notonpypi-ext: no pure-Python wheel" in problem
        with serve_static(tmp_path / "site", isolated=False) as url:
            page = context.new_page()
            page.goto(url + "page.html")
            start(page)
            output = cell(page, 0).locator(".lc-outputs")
            expect(output).to_contain_text("from the CDN", timeout=BOOT)
    context.close()
