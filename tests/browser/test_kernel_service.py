"""The kernel service for other sites' pages: thebe-core (what MyST / Jupyter Book 2 sites run),
bundled for the test only (tests/kernel_service/), on a page of another origin (another
127.0.0.1 port), against a real ``livecells serve --public --allow-origin``, in Chromium."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect
from tests.browser.static_server import serve_static
from tests.conftest import JupyterServer, start_livecells_serve
from tests.kernel_service.bundles import build_bundles

PAGE = "```{code-cell} python\nprint('hello')\n```\n"
THEBE_PAGE = (
    "<!doctype html><meta charset=utf-8><title>A MyST-like page</title>"
    '<pre id="result" data-state="pending"></pre><script type="module" src="thebe.js"></script>'
)


@pytest.fixture(scope="module")
def other_sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Two static sites with the thebe page: one listed with --allow-origin, one not."""
    root = build_bundles(tmp_path_factory.mktemp("thebe-site"))
    (root / "index.html").write_text(THEBE_PAGE)
    with serve_static(root, isolated=False) as listed, serve_static(root, isolated=False) as other:
        yield listed, other


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory, other_sites: tuple[str, str]
) -> Iterator[JupyterServer]:
    root = tmp_path_factory.mktemp("kernel-service")
    (root / "index.md").write_text(PAGE)
    listed = other_sites[0].rstrip("/")
    server = start_livecells_serve(
        root,
        "--public",
        "--pool-size=0",
        "--max-kernels-per-visitor=10",  # every page here comes from 127.0.0.1
        "--kernel-starts-per-minute=30",
        f"--allow-origin={listed}",
    )
    yield server
    server.stop()


@pytest.mark.parametrize("cookies", ["1", "0"])
def test_thebe_on_a_listed_sites_page_starts_a_session_and_runs_a_cell(
    browser: Browser, service: JupyterServer, other_sites: tuple[str, str], cookies: str
) -> None:
    """With the visitor's cookie (credentials "include"), or as a MyST site configures thebe
    (``jupyter: {server: {url}}``): no cookie crosses sites, the reader is thebe's random
    token at their address."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{other_sites[0]}index.html?server={service.url}&cookies={cookies}")
    result = page.locator("#result")
    expect(result).not_to_have_attribute("data-state", "pending", timeout=60_000)
    outcome = (result.get_attribute("data-state"), result.inner_text())
    assert outcome == ("done", "42"), service.log.read_text()[-3000:]
    context.close()


def test_thebe_on_a_page_of_a_site_not_listed_is_refused(
    browser: Browser, service: JupyterServer, other_sites: tuple[str, str]
) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{other_sites[1]}index.html?server={service.url}")
    result = page.locator("#result")
    expect(result).not_to_have_attribute("data-state", "pending", timeout=60_000)
    assert result.get_attribute("data-state") == "failed"
    assert "Failed to fetch" in result.inner_text()
    context.close()


START_SESSION = """async ([server, simple]) => {
    const kernel = {name: "python3"};
    const body = JSON.stringify({path: `x-${simple}.ipynb`, type: "notebook", kernel});
    const init = {method: "POST", credentials: "include", body};
    if (simple) Object.assign(init, {mode: "no-cors", headers: {"Content-Type": "text/plain"}});
    else init.headers = {"Content-Type": "application/json"};
    try {
        const response = await fetch(server + "api/sessions", init);
        return response.type === "opaque" ? "sent" : `answered ${response.status}`;
    } catch (error) {
        return "refused";
    }
}"""


@pytest.mark.parametrize(
    ("site", "outcomes", "kernels"), [(0, ["answered 201", "sent"], 2), (1, ["refused", "sent"], 0)]
)
def test_only_a_listed_sites_pages_may_start_kernels_with_the_visitors_cookie(
    browser: Browser,
    service: JupyterServer,
    other_sites: tuple[str, str],
    site: int,
    outcomes: list[str],
    kernels: int,
) -> None:
    """A page of another site may not start a kernel with the visitor's cookie: not with a
    fetch the browser preflights (no CORS answer), nor with a "simple" one the browser sends
    without asking (no _xsrf); the page of a listed site may (the control)."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{other_sites[site]}index.html?server={service.url}")
    expect(page.locator("#result")).not_to_have_attribute("data-state", "pending", timeout=60_000)
    before = service.log.read_text().count("livecells: kernel ")
    seen = [page.evaluate(START_SESSION, [service.url, simple]) for simple in (False, True)]
    assert seen == outcomes
    deadline = time.monotonic() + 30  # the "simple" request is not waited for by the page
    while service.log.read_text().count("livecells: kernel ") - before < kernels:
        assert time.monotonic() < deadline, "the listed site's kernels did not start"
        time.sleep(0.2)
    assert service.log.read_text().count("livecells: kernel ") - before == kernels
    context.close()
