"""``livecells serve --public`` in the browser: two visitors (two browser contexts, two cookie
jars) on one real server, each on a kernel of their own; limits reported in the page."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.conftest import JupyterServer, start_livecells_serve

PAGE = """---
kernelspec: {name: python3, display_name: Python 3}
---
```{code-cell} python
import os
# A process's pid within its PID namespace (each sandboxed kernel is 2 in its own)
print("kernel pid", f"{os.getpid()}@{os.stat('/proc/self/ns/pid').st_ino}")
```

```{code-cell} python
print(globals().get("mine", "nothing here"))
mine = "set by this visitor"
```
"""
BUSY = """---
kernelspec: {name: python3, display_name: Python 3}
livecells: {autoRun: false}
---
```{code-cell} python
while True:
    pass
```
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    root = tmp_path_factory.mktemp("public-site")
    (root / "index.md").write_text(PAGE)
    (root / "busy.md").write_text(BUSY)
    server = start_livecells_serve(
        root,
        "--public",
        "--max-kernels-per-visitor=1",
        "--kernel-cpu-time=4",
        "--pool-size=1",
        "--trust-forwarded-headers",  # each browser context's own address (limits bind it)
    )
    yield server
    server.stop()


def started(browser: Browser, url: str) -> Page:
    """A new visitor (a context of its own, from an address of its own) with the page open
    and its kernel asked for."""
    address = f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.9"
    page = browser.new_context(extra_http_headers={"X-Forwarded-For": address}).new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.locator("button.lc-power").click()
    return page


def test_two_visitors_each_get_their_own_kernel_and_no_token(
    browser: Browser, site: JupyterServer
) -> None:
    alice = started(browser, f"{site.url}livecells/index.html")
    bob = started(browser, f"{site.url}livecells/index.html")
    for page in (alice, bob):
        second = page.locator(".lc-cell").nth(1).locator(".lc-outputs")
        expect(second).to_contain_text("nothing here", timeout=60_000)
    pids = [
        re.search(r"kernel pid (\d+@\d+)", page.locator(".lc-cell").first.inner_text())
        for page in (alice, bob)
    ]
    assert all(pids) and pids[0].group(1) != pids[1].group(1)  # type: ignore[union-attr]
    assert site.token not in alice.content()
    assert alice.evaluate("document.cookie").find("livecells-visitor") == -1  # HttpOnly
    alice.context.close()
    bob.context.close()


def test_the_per_visitor_limit_is_told_in_the_page(browser: Browser, site: JupyterServer) -> None:
    first = started(browser, f"{site.url}livecells/index.html")
    expect(first.locator(".lc-cell").first.locator(".lc-outputs")).to_contain_text("kernel pid")
    # A second tab of the same visitor that does not re-attach to the saved kernel.
    second = first.context.new_page()
    second.goto(f"{site.url}livecells/index.html")
    second.evaluate("localStorage.clear()")
    second.locator("button.lc-power").click()
    status = second.locator(".lc-panel .lc-status")
    expect(status).to_contain_text("you already have 1 running kernel", timeout=30_000)
    expect(status).to_contain_text("close one (Sessions)")
    first.context.close()


def test_a_kernel_past_its_cpu_time_is_restarted_and_the_page_says_so(
    browser: Browser, site: JupyterServer
) -> None:
    page = started(browser, f"{site.url}livecells/busy.html")
    expect(page.locator(".lc-panel")).to_have_attribute(
        "data-status", re.compile("ready|idle"), timeout=60_000
    )
    page.locator(".lc-cell button.lc-run").click()
    expect(page.locator(".lc-cell .lc-outputs")).to_contain_text(
        "reached a limit of the server", timeout=60_000
    )
    expect(page.locator(".lc-panel")).to_have_attribute(
        "data-status", re.compile("ready|idle"), timeout=60_000
    )
    page.context.close()
