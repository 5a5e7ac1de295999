"""Every runtime from one page: the settings dialog (a reader's own Jupyter Server, on another
origin, with "Test connection"), switching runtimes without losing edits, the session
explorer, "open in Jupyter", and a kernel connection that survives the network dropping it.

The servers are real ``jupyter server`` processes on 127.0.0.1; Binder is the local stand-in
BinderHub of tests/binderhub.py (mybinder.org cannot be reached from here)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, WebSocketRoute, expect
from tests.binderhub import StandInBinderHub, standin_binderhub
from tests.browser.conftest import kernels, wait_idle, write_page
from tests.conftest import JupyterServer, start_jupyter_server
from tests.tcpproxy import TcpProxy, tcp_proxy

from livecells.messages import V1Codec

OpenPage = Callable[[str], Page]


def wait_gone(server: JupyterServer, kernel: str, page: Page) -> None:
    """A kernel shuts down in about a second after its DELETE."""
    for _ in range(100):
        if kernel not in kernels(server):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"kernel {kernel} is still running on {server.url}")


def open_settings(page: Page) -> None:
    page.locator("button.lc-settings-button").click()
    expect(page.locator("dialog.lc-settings")).to_be_visible()


def enter_server(page: Page, url: str, token: str) -> None:
    open_settings(page)
    page.locator('input[name="lc-runtime"][value="server"]').check()
    page.locator(".lc-server-url").fill(url)
    page.locator(".lc-server-token").fill(token)


@pytest.fixture(scope="module")
def closed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    """A server started without allow_origin: it refuses pages of other origins."""
    server = start_jupyter_server(tmp_path_factory.mktemp("closed"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandInBinderHub]:
    with standin_binderhub(tmp_path_factory.mktemp("switch-binder-repo")) as running:
        yield running


@pytest.fixture
def proxy(allowing_server: JupyterServer) -> Iterator[TcpProxy]:
    with tcp_proxy(allowing_server.port) as running:
        yield running


# -- a reader's own Jupyter Server ------------------------------------------------------------


def test_test_connection_lists_the_kernelspecs_of_a_server_that_allows_the_page(
    open_page: OpenPage, book: Path, allowing_server: JupyterServer
) -> None:
    page = open_page(write_page(book, "own-server", "", "print('on', 6 * 7)"))
    enter_server(page, allowing_server.url, allowing_server.token)
    page.locator("button.lc-test").click()
    result = page.locator(".lc-test-result")
    expect(result).to_contain_text("Connected: 2 kernels found", timeout=20_000)
    expect(result).to_contain_text("python3")
    expect(result).to_contain_text("bash")
    assert page.locator(".lc-kernel").input_value() == "python3"
    before = set(kernels(allowing_server))
    page.locator("button.lc-switch").click()
    expect(page.locator(".lc-cell .lc-outputs").first).to_contain_text("on 42", timeout=60_000)
    assert len(set(kernels(allowing_server)) - before) == 1, "the kernel did not start there"
    expect(page.locator(".lc-panel")).to_have_attribute("data-runtime", "server")
    # The reader's choice holds for the site's pages, after a reload too.
    page.reload()
    expect(page.locator(".lc-panel")).to_have_attribute("data-runtime", "server")
    page.locator("button.lc-power").click()
    expect(page.locator(".lc-cell .lc-outputs").first).to_contain_text("on 42", timeout=60_000)


def test_a_server_that_does_not_allow_the_page_gets_the_exact_flag_to_set(
    open_page: OpenPage, book: Path, closed_server: JupyterServer, page_origin: str
) -> None:
    page = open_page(write_page(book, "closed-server", "", "1"))
    enter_server(page, closed_server.url, closed_server.token)
    page.locator("button.lc-test").click()
    result = page.locator(".lc-test-result")
    expect(result).to_contain_text(f"--ServerApp.allow_origin={page_origin}", timeout=20_000)
    expect(result).to_contain_text("does not allow pages from")
    page.locator("button.lc-switch").click()
    expect(page.locator(".lc-settings-error")).to_contain_text("Not switched")
    expect(page.locator(".lc-panel")).to_have_attribute("data-runtime", "livecells")


def test_a_wrong_token_is_named_as_such(
    open_page: OpenPage, book: Path, allowing_server: JupyterServer
) -> None:
    page = open_page(write_page(book, "wrong-token", "", "1"))
    enter_server(page, allowing_server.url, "not-the-token")
    page.locator("button.lc-test").click()
    expect(page.locator(".lc-test-result")).to_contain_text("refused the token", timeout=20_000)


def test_a_server_that_is_down_is_named_as_such(open_page: OpenPage, book: Path) -> None:
    page = open_page(write_page(book, "down-server", "", "1"))
    enter_server(page, "http://127.0.0.1:9/", "t")
    page.locator("button.lc-test").click()
    expect(page.locator(".lc-test-result")).to_contain_text(
        "cannot reach the Jupyter server at http://127.0.0.1:9/", timeout=20_000
    )


def test_an_empty_token_on_a_server_that_needs_one_asks_for_it(
    open_page: OpenPage, book: Path, allowing_server: JupyterServer
) -> None:
    page = open_page(write_page(book, "empty-token", "", "1"))
    enter_server(page, allowing_server.url, "")
    page.locator("button.lc-test").click()
    expect(page.locator(".lc-test-result")).to_have_text(
        f"the Jupyter server at {allowing_server.url} needs a token: enter it "
        "(`jupyter server list` shows the running servers' tokens)",
        timeout=20_000,
    )


@pytest.mark.parametrize("url", ["127.0.0.1:8888/", "localhost:8888", "ftp://127.0.0.1/"])
def test_a_url_without_http_or_https_is_named_as_such(
    open_page: OpenPage, book: Path, url: str
) -> None:
    # A page of its own per URL: rewriting one page while the previous test's tab is open
    # makes serve reload it mid-test.
    page = open_page(write_page(book, "no-scheme-" + re.sub(r"\W+", "-", url), "", "1"))
    enter_server(page, url, "t")
    page.locator("button.lc-test").click()
    expect(page.locator(".lc-test-result")).to_have_text(
        f"not a server URL: {url}: it must start with http:// or https://, "
        "as http://127.0.0.1:8888/",
        timeout=20_000,
    )


def test_a_failed_test_clears_the_kernel_list(
    open_page: OpenPage, book: Path, allowing_server: JupyterServer
) -> None:
    page = open_page(write_page(book, "clear-kernels", "", "1"))
    enter_server(page, allowing_server.url, allowing_server.token)
    page.locator("button.lc-test").click()
    result = page.locator(".lc-test-result")
    expect(result).to_contain_text("Connected: 2 kernels found", timeout=20_000)
    expect(page.locator(".lc-kernel option")).to_have_count(2)
    page.locator(".lc-server-token").fill("not-the-token")
    page.locator("button.lc-test").click()
    expect(result).to_contain_text("refused the token", timeout=20_000)
    expect(page.locator(".lc-kernel option")).to_have_count(0)
    expect(page.locator(".lc-kernel")).to_be_disabled()


def test_open_in_jupyter_opens_the_servers_own_ui_in_a_new_tab(
    open_page: OpenPage, context: BrowserContext, book: Path, allowing_server: JupyterServer
) -> None:
    page = open_page(write_page(book, "launch", "", "1 + 1"))
    enter_server(page, allowing_server.url, allowing_server.token)
    page.locator("button.lc-switch").click()
    wait_idle(page)
    link = page.locator("a.lc-open-jupyter")
    expect(link).to_be_visible()
    assert link.get_attribute("href") == f"{allowing_server.url}?token={allowing_server.token}"
    with context.expect_page() as opened:
        link.click()
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url.startswith(allowing_server.url)
    tab.close()


def test_a_dropped_connection_reconnects_to_the_same_session_and_loses_nothing(
    open_page: OpenPage, book: Path, allowing_server: JupyterServer, proxy: TcpProxy
) -> None:
    slow = "import time\nprint('before', flush=True)\ntime.sleep(3)\nprint('after', x + 1)"
    url = write_page(
        book,
        "dropped",
        f"jupyter:\n  server: {{url: '{proxy.url}', token: '{allowing_server.token}'}}\n",
        "x = 41",
        slow,
    )
    page = open_page(url)
    page.locator("button.lc-power").click()
    cell = page.locator(".lc-cell").nth(1).locator(".lc-outputs")
    expect(cell).to_contain_text("before", timeout=60_000)
    assert proxy.cut() >= 1
    # The reply and the output printed while the socket was down arrive after the reconnect.
    expect(cell).to_contain_text("after 42", timeout=30_000)
    assert cell.inner_text().count("before") == 1
    wait_idle(page)
    page.locator(".lc-cell").nth(1).locator("button.lc-run").click()
    expect(page.locator(".lc-cell").nth(1).locator(".lc-count")).to_have_text(
        "[3]:", timeout=30_000
    )


def test_a_server_without_the_v1_protocol_is_spoken_to_in_json(
    open_page: OpenPage,
    book: Path,
    allowing_server: JupyterServer,
    tmp_path: Path,
    page_origin: str,
) -> None:
    """Servers before jupyter_server 2 (and any configured so) offer no binary v1 framing."""
    (tmp_path / "legacy").mkdir()
    legacy = start_jupyter_server(
        tmp_path / "legacy",
        f"--ServerApp.allow_origin={page_origin}",
        "--ZMQChannelsWebsocketConnection.kernel_ws_protocol=",
    )
    try:
        code = "from IPython.display import HTML\nprint('printed')\nHTML('<b>shown</b>')"
        for server, binary in ((allowing_server, True), (legacy, False)):
            frontmatter = f"jupyter:\n  server: {{url: '{server.url}', token: '{server.token}'}}\n"
            page = open_page(write_page(book, f"framing-{binary}", frontmatter, code))
            page.locator("button.lc-power").click()
            outputs = page.locator(".lc-cell .lc-outputs").first
            expect(outputs).to_contain_text("printed", timeout=60_000)
            expect(outputs.locator("b")).to_have_text("shown")
            assert page.evaluate("window.livecells.runtime.binary") is binary
    finally:
        legacy.stop()


# -- switching and the session explorer ---------------------------------------------------------


def test_every_runtime_is_offered_and_switching_keeps_the_readers_edits(
    open_page: OpenPage, book: Path, served: JupyterServer, hub: StandInBinderHub
) -> None:
    frontmatter = (
        f"jupyter:\n  binder: {{repo: owner/name, url: '{hub.url}'}}\n  lite: true\n"
        "livecells: {runtime: livecells}\n"
    )
    page = open_page(
        write_page(book, "switch", frontmatter, "x = 20", "import sys\nprint(sys.platform, x * 2)")
    )
    page.locator("button.lc-power").click()
    second = page.locator(".lc-cell").nth(1)
    expect(second.locator(".lc-outputs")).to_contain_text("linux 40", timeout=60_000)
    server_kernel = page.evaluate("window.livecells.runtime.id")
    # The reader edits the second cell.
    second.locator("pre.lc-source").click()
    expect(second.locator(".lc-editor")).to_be_visible()
    page.keyboard.press("Control+A")
    page.keyboard.type("import sys\nprint(sys.platform, x * 3)")

    open_settings(page)
    offered = page.locator('input[name="lc-runtime"]')
    assert [offered.nth(i).get_attribute("value") for i in range(offered.count())] == [
        "livecells",
        "server",
        "binder",
        "pyodide",
    ]
    page.locator('input[name="lc-runtime"][value="pyodide"]').check()
    page.locator("button.lc-switch").click()
    # Pyodide runs the page again (autoRun), with the edit.
    expect(second.locator(".lc-outputs")).to_contain_text("emscripten 60", timeout=90_000)
    expect(second.locator(".lc-editor")).to_contain_text("x * 3")

    # The old session lives on until the reader closes it.
    page.locator("button.lc-sessions-button").click()
    rows = page.locator("dialog.lc-sessions tr.lc-session")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-runtime", "livecells")
    expect(rows.nth(1)).to_have_attribute("data-runtime", "pyodide")
    expect(rows.nth(1)).to_contain_text("(this page)")
    assert server_kernel in kernels(served)
    rows.nth(0).locator("button.lc-session-close").click()
    expect(rows).to_have_count(1)
    wait_gone(served, server_kernel, page)
    wait_idle(page)  # the page's own (Pyodide) session is untouched


def test_switching_to_binder_follows_the_build_then_runs_there(
    open_page: OpenPage, book: Path, hub: StandInBinderHub
) -> None:
    frontmatter = (
        f"jupyter:\n  binder: {{repo: owner/other, ref: v1, url: '{hub.url}'}}\n"
        "livecells: {runtime: livecells}\n"
    )
    page = open_page(write_page(book, "tobinder", frontmatter, "print('where', 7 * 6)"))
    open_settings(page)
    page.locator('input[name="lc-runtime"][value="binder"]').check()
    expect(page.locator(".lc-binder-repo")).to_have_value("owner/other")
    page.locator("button.lc-switch").click()
    expect(page.locator(".lc-log pre")).to_contain_text("[ready]", timeout=60_000)
    expect(page.locator(".lc-cell .lc-outputs").first).to_contain_text("where 42", timeout=60_000)
    assert "github/owner/other/v1" in hub.launches
    expect(page.locator("a.lc-open-jupyter")).to_be_visible()


def errors_of(page: Page, code: str, timeout: float = 60) -> list[str]:
    """Run ``code`` on the page's current runtime (its JS API); the names of the errors it
    raised, or the runtime's own failure (e.g. mid-restart) as its message."""
    return list(
        page.evaluate(
            """async ([code, timeout]) => {
                const errors = [];
                const late = new Promise((_, reject) => setTimeout(
                    () => reject(new Error(`no reply in ${timeout} s`)), timeout * 1000));
                try {
                    await Promise.race([late, window.livecells.runtime.execute(code, {
                        onIOPub: (m) => {
                            if (m.header.msg_type === "error") errors.push(m.content.ename);
                        },
                        stopOnError: false,
                    })]);
                } catch (e) { errors.push(String(e.message)); }
                return errors;
            }""",
            [code, timeout],
        )
    )


def test_a_restarted_kernel_is_ready_only_once_its_outputs_reach_the_page(
    open_page: OpenPage, book: Path
) -> None:
    """After a restart the server's iopub subscription reconnects in its own time (ZeroMQ's late
    joiner): what the new kernel publishes meanwhile is lost. Here the kernel WebSocket drops
    every iopub message from the restart until the page has sent its third kernel_info request
    (a slow reconnect, made certain): a page that called the kernel ready on its first shell
    reply would lose the next cell's outputs and idle, and that cell would never end."""
    page = open_page(write_page(book, "late-iopub", "", "y = 1"))
    window = {"dropping": False, "asked": 0, "dropped": 0}
    codec = V1Codec()

    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def to_page(frame: str | bytes) -> None:
            if window["dropping"] and codec.decode(frame).channel == "iopub":
                window["dropped"] += 1
                return
            ws.send(frame)

        def to_server(frame: str | bytes) -> None:
            if window["dropping"] and codec.decode(frame).msg_type == "kernel_info_request":
                window["asked"] += 1
                window["dropping"] = window["asked"] < 3
            server.send(frame)

        server.on_message(to_page)
        ws.on_message(to_server)

    page.route_web_socket(re.compile(r"/api/kernels/[^/]+/channels"), route)
    page.locator("button.lc-power").click()
    expect(page.locator(".lc-panel")).to_have_attribute("data-status", "idle", timeout=60_000)
    assert errors_of(page, "y") == []
    window["dropping"] = True
    page.evaluate("window.livecells.runtime.restart()")
    assert window == {"dropping": False, "asked": 3, "dropped": window["dropped"]}
    assert window["dropped"] > 0
    assert errors_of(page, "y", timeout=20) == ["NameError"]


def test_the_explorer_interrupts_restarts_and_closes_a_session(
    open_page: OpenPage, book: Path, served: JupyterServer
) -> None:
    page = open_page(
        write_page(book, "explorer", "", "y = 1", "import time\nwhile True:\n    time.sleep(0.05)")
    )
    page.locator("button.lc-power").click()
    expect(page.locator(".lc-panel")).to_have_attribute("data-status", "busy", timeout=60_000)
    kernel = page.evaluate("window.livecells.runtime.id")
    page.locator("button.lc-sessions-button").click()
    row = page.locator("dialog.lc-sessions tr.lc-session")
    expect(row).to_have_count(1)
    expect(row.locator(".lc-session-kernel")).to_have_text("python3")
    expect(row.locator(".lc-session-status")).to_have_text("Running…")
    row.locator("button.lc-session-interrupt").click()
    expect(page.locator(".lc-cell").nth(1).locator(".lc-outputs")).to_contain_text(
        "KeyboardInterrupt", timeout=30_000
    )
    expect(row.locator(".lc-session-status")).to_have_text("Ready", timeout=30_000)
    assert errors_of(page, "y") == []  # the kernel has the page's state
    page.evaluate(
        "() => { window.__seen = []; window.livecells.runtime.onStatus((s) => __seen.push(s)); }"
    )
    row.locator("button.lc-session-restart").click()
    back = "() => __seen.includes('restarting') && ['ready', 'idle'].includes(__seen.at(-1))"
    page.wait_for_function(back, timeout=60_000)
    assert errors_of(page, "y") == ["NameError"]  # proven by lost state: `y` is gone
    expect(row.locator(".lc-session-status")).to_have_text("Ready", timeout=60_000)
    row.locator("button.lc-session-close").click()
    expect(row).to_have_count(0)
    expect(page.locator("dialog.lc-sessions .lc-sessions-empty")).to_be_visible()
    page.locator("dialog.lc-sessions button.lc-cancel").click()
    expect(page.locator(".lc-panel")).to_have_attribute("data-status", "dead", timeout=30_000)
    wait_gone(served, kernel, page)
