"""A page's kernel session: one per page of a site, re-attached on reload, noticed when it is
gone from the reader's server, and not left behind when session saving is off.

Servers are real ``jupyter server`` processes on 127.0.0.1 (another origin than the pages,
which come from a real ``livecells serve``), driven by real Chromium."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect
from tests.browser.conftest import kernels, wait_idle, write_page
from tests.conftest import JupyterServer, start_jupyter_server

OpenPage = Callable[[str], Page]


def server_frontmatter(server: JupyterServer, *extra: str) -> str:
    lines = [f"  server: {{url: '{server.url}', token: '{server.token}'}}", *extra]
    return "jupyter:\n" + "".join(f"{line}\n" for line in lines)


def kernel_of(page: Page) -> str:
    kernel: str = page.evaluate("window.livecells.runtime.id")
    return kernel


def count_of(page: Page, index: int) -> str:
    return page.locator(".lc-cell").nth(index).locator(".lc-count").inner_text().strip()


# -- one session per page -----------------------------------------------------------------


def test_each_page_of_a_site_has_its_own_kernel_and_a_reload_reattaches_it(
    open_page: OpenPage, book: Path
) -> None:
    cells = ("import os\nprint('pid', os.getpid())", "n = 1", "n += 1\nn")
    first_url = write_page(book, "session-a", "", *cells)
    second_url = write_page(book, "session-b", "", *cells)
    first = open_page(first_url)
    first.locator("button.lc-power").click()
    expect(first.locator(".lc-cell").nth(2).locator(".lc-outputs")).to_have_text(
        "2", timeout=60_000
    )
    first_kernel = kernel_of(first)
    second = open_page(second_url)
    second.locator("button.lc-power").click()
    expect(second.locator(".lc-cell").nth(2).locator(".lc-outputs")).to_have_text(
        "2", timeout=60_000
    )
    assert kernel_of(second) != first_kernel
    assert [count_of(second, i) for i in range(3)] == ["[1]:", "[2]:", "[3]:"]
    pids = [page.locator(".lc-cell").first.inner_text() for page in (first, second)]
    assert pids[0] != pids[1]
    # A reload of the first page re-attaches to its kernel: its variables are still there.
    first.reload()
    first.locator("button.lc-power").click()
    expect(first.locator(".lc-cell").nth(2).locator(".lc-outputs")).to_have_text(
        "2", timeout=60_000
    )
    assert kernel_of(first) == first_kernel
    assert count_of(first, 0) == "[4]:"
    first.locator(".lc-cell").nth(2).locator("button.lc-run").click()
    expect(first.locator(".lc-cell").nth(2).locator(".lc-outputs")).to_have_text(
        "3", timeout=60_000
    )


def wait_kernels(server: JupyterServer, expected: list[str], page: Page) -> None:
    """Kernels shut down about a second after their DELETE: wait for the list, with a deadline."""
    found: list[str] = []
    for _ in range(150):
        found = kernels(server)
        if found == expected:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"kernels on {server.url}: {found}, expected {expected}")


# -- disableSessionSaving -------------------------------------------------------------------


def run_reloading(page: Page) -> None:
    """Start the page's kernel and run its cell three times, reloading after each (every
    reload a pagehide), then once more."""
    output = page.locator(".lc-cell .lc-outputs").first
    for _ in range(3):
        page.locator("button.lc-power").click()
        expect(output).to_contain_text("ran 42", timeout=60_000)
        page.reload()
    page.locator("button.lc-power").click()
    expect(output).to_contain_text("ran 42", timeout=60_000)


def test_without_session_saving_a_reload_leaves_no_kernel_behind_on_the_readers_server(
    open_page: OpenPage, book: Path, tmp_path: Path, page_origin: str
) -> None:
    """The page is on another origin: the DELETE on pagehide is a keepalive request with the
    token header, preflighted, against a real server that allows the page's origin."""
    (tmp_path / "root").mkdir()
    server = start_jupyter_server(tmp_path / "root", f"--ServerApp.allow_origin={page_origin}")
    try:
        frontmatter = server_frontmatter(server, "  disableSessionSaving: true")
        page = open_page(write_page(book, "no-saving", frontmatter, "print('ran', 6 * 7)"))
        run_reloading(page)
        wait_kernels(server, [kernel_of(page)], page)
        page.close()  # closing the tab is a pagehide too
        wait_kernels(server, [], page.context.new_page())
    finally:
        server.stop()


def test_without_session_saving_a_reload_leaves_no_kernel_behind_on_the_serving_livecells(
    open_page: OpenPage, book: Path, served: JupyterServer
) -> None:
    """Same origin: the DELETE carries the _xsrf header and the login cookie."""
    before = set(kernels(served))
    frontmatter = "jupyter:\n  disableSessionSaving: true\n"
    page = open_page(write_page(book, "no-saving-served", frontmatter, "print('ran', 6 * 7)"))
    run_reloading(page)
    current = kernel_of(page)
    for _ in range(150):
        if set(kernels(served)) - before == {current}:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"new kernels: {set(kernels(served)) - before}, expected {current}")


# -- a kernel gone from the reader's own server ----------------------------------------------

GONE = (
    "the kernel is gone (the server no longer has it: shut down, culled or restarted): "
    "press Start again for a new one"
)
WHERE = "from ipykernel.connect import get_connection_file\nprint(get_connection_file())"
SLEEPER = "import time\nprint('sleeping', flush=True)\ntime.sleep(120)"


def delete_kernel(server: JupyterServer, kernel: str) -> None:
    response = httpx.delete(
        f"{server.url}api/kernels/{kernel}",
        headers={"Authorization": f"token {server.token}"},
        timeout=30,
    )
    assert response.status_code == 204


def expect_stopped(page: Page, reason: str, timeout: float = 30_000) -> None:
    """The page says why, and offers Start again (the one button that works now)."""
    panel = page.locator(".lc-panel")
    expect(panel).to_have_attribute("data-status", "dead", timeout=timeout)
    expect(panel.locator(".lc-status")).to_have_text(f"Kernel stopped: {reason}")
    expect(panel.locator("button.lc-power")).to_have_text("Start again")
    expect(panel.locator("button.lc-power")).to_be_enabled()


def start_again(page: Page, server: JupyterServer, old: str) -> None:
    page.locator("button.lc-power").click()
    # A function, not an expression: the served pages' CSP forbids Playwright's eval.
    page.wait_for_function("old => ![null, old].includes(window.livecells.runtime.id)", arg=old)
    new = kernel_of(page)
    expect(page.locator(".lc-cell").first.locator(".lc-outputs")).to_contain_text(
        f"kernel-{new}.json", timeout=60_000
    )
    assert new in kernels(server)


@pytest.fixture
def reader_server(tmp_path: Path, page_origin: str) -> Iterator[JupyterServer]:
    (tmp_path / "root").mkdir()
    server = start_jupyter_server(tmp_path / "root", f"--ServerApp.allow_origin={page_origin}")
    yield server
    server.stop()


def test_a_kernel_deleted_behind_the_pages_back_while_idle_is_noticed(
    open_page: OpenPage, book: Path, reader_server: JupyterServer
) -> None:
    url = write_page(book, "gone-idle", server_frontmatter(reader_server), WHERE)
    page = open_page(url)
    page.locator("button.lc-power").click()
    wait_idle(page)
    kernel = kernel_of(page)
    delete_kernel(reader_server, kernel)
    expect_stopped(page, GONE)
    start_again(page, reader_server, kernel)


def test_a_kernel_deleted_mid_cell_ends_the_cell_with_the_reason(
    open_page: OpenPage, book: Path, reader_server: JupyterServer
) -> None:
    frontmatter = server_frontmatter(reader_server)
    page = open_page(write_page(book, "gone-busy", frontmatter, WHERE, SLEEPER))
    page.locator("button.lc-power").click()
    sleeper = page.locator(".lc-cell").nth(1).locator(".lc-outputs")
    expect(sleeper).to_contain_text("sleeping", timeout=60_000)
    kernel = kernel_of(page)
    delete_kernel(reader_server, kernel)
    expect(sleeper).to_contain_text(GONE, timeout=30_000)
    expect_stopped(page, GONE)
    start_again(page, reader_server, kernel)


def test_a_server_restarted_on_the_same_port_is_a_kernel_gone(
    open_page: OpenPage, book: Path, reader_server: JupyterServer, page_origin: str
) -> None:
    frontmatter = server_frontmatter(reader_server)
    page = open_page(write_page(book, "gone-restart", frontmatter, WHERE, SLEEPER))
    page.locator("button.lc-power").click()
    sleeper = page.locator(".lc-cell").nth(1).locator(".lc-outputs")
    expect(sleeper).to_contain_text("sleeping", timeout=60_000)
    kernel = kernel_of(page)
    reader_server.stop()
    restarted = start_jupyter_server(
        reader_server.root,
        f"--ServerApp.allow_origin={page_origin}",
        token=reader_server.token,
        port=reader_server.port,
    )
    try:
        expect(sleeper).to_contain_text(GONE, timeout=60_000)
        expect_stopped(page, GONE)
        start_again(page, restarted, kernel)
    finally:
        restarted.stop()


def test_a_server_that_went_down_ends_the_cell_and_says_so(
    open_page: OpenPage, book: Path, reader_server: JupyterServer
) -> None:
    frontmatter = server_frontmatter(reader_server)
    page = open_page(write_page(book, "server-down", frontmatter, WHERE, SLEEPER))
    page.locator("button.lc-power").click()
    sleeper = page.locator(".lc-cell").nth(1).locator(".lc-outputs")
    expect(sleeper).to_contain_text("sleeping", timeout=60_000)
    reader_server.stop()
    down = (
        f"lost the connection to the Jupyter server at {reader_server.url} "
        "(is it still running?): press Start again to reconnect"
    )
    # The page keeps reconnecting for 30 s before it gives up.
    expect(sleeper).to_contain_text(down, timeout=60_000)
    expect_stopped(page, down, timeout=5_000)


def test_restart_of_a_kernel_gone_behind_the_pages_back_does_not_hang(
    open_page: OpenPage, book: Path, reader_server: JupyterServer
) -> None:
    """The restart's 404 lacks CORS headers too: it must not leave the panel at Restarting…"""
    page = open_page(
        write_page(book, "gone-restart-button", server_frontmatter(reader_server), WHERE)
    )
    page.locator("button.lc-power").click()
    wait_idle(page)
    kernel = kernel_of(page)
    delete_kernel(reader_server, kernel)
    # Pressed at once (a disabled button, once the page has noticed, ignores the click).
    page.evaluate("document.querySelector('button.lc-restart').click()")
    expect_stopped(page, GONE)
    start_again(page, reader_server, kernel)
