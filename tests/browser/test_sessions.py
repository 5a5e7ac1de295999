"""A page's kernel session: one per page of a site, re-attached on reload, noticed when it is
gone from the reader's server, and not left behind when session saving is off.

Servers are real ``jupyter server`` processes on 127.0.0.1 (another origin than the pages,
which come from a real ``livecells serve``), driven by real Chromium."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect
from tests.conftest import JupyterServer, start_jupyter_server

OpenPage = Callable[[str], Page]
READY = re.compile(r"^(ready|idle)$")


def wait_idle(page: Page, timeout: float = 60_000) -> None:
    expect(page.locator(".lc-panel")).to_have_attribute("data-status", READY, timeout=timeout)


def write_page(book: Path, name: str, frontmatter: str, *cells: str) -> str:
    body = "".join(f"```{{code-cell}} python\n{cell}\n```\n\n" for cell in cells)
    (book / "tests" / f"{name}.md").write_text(
        f"---\nkernelspec: {{name: python3, display_name: Python 3}}\n{frontmatter}---\n{body}"
    )
    return f"tests/{name}.html"


def server_frontmatter(server: JupyterServer, *extra: str) -> str:
    lines = [f"  server: {{url: '{server.url}', token: '{server.token}'}}", *extra]
    return "jupyter:\n" + "".join(f"{line}\n" for line in lines)


def kernels(server: JupyterServer) -> list[str]:
    response = httpx.get(
        f"{server.url}api/kernels", headers={"Authorization": f"token {server.token}"}
    )
    response.raise_for_status()
    return [kernel["id"] for kernel in response.json()]


def kernel_of(page: Page) -> str:
    kernel: str = page.evaluate("window.livecells.runtime.id")
    return kernel


def count_of(page: Page, index: int) -> str:
    return page.locator(".lc-cell").nth(index).locator(".lc-count").inner_text().strip()


@pytest.fixture(scope="module")
def page_origin(served: JupyterServer) -> str:
    return f"http://127.0.0.1:{served.port}"


@pytest.fixture(scope="module")
def own_server(
    tmp_path_factory: pytest.TempPathFactory, page_origin: str
) -> Iterator[JupyterServer]:
    """A reader's own server on another origin, allowing the pages' origin."""
    server = start_jupyter_server(
        tmp_path_factory.mktemp("own"), f"--ServerApp.allow_origin={page_origin}"
    )
    yield server
    server.stop()


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
        output = page.locator(".lc-cell .lc-outputs").first
        for _ in range(3):
            page.locator("button.lc-power").click()
            expect(output).to_contain_text("ran 42", timeout=60_000)
            page.reload()
        page.locator("button.lc-power").click()
        expect(output).to_contain_text("ran 42", timeout=60_000)
        wait_kernels(server, [kernel_of(page)], page)
        page.close()  # closing the tab is a pagehide too
        wait_kernels(server, [], page.context.new_page())
    finally:
        server.stop()
