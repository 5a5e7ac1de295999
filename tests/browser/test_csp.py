"""The CSP of a built page, in Chromium: a fetch to an origin the page's runtimes do not name
is blocked by the browser, and the same fetch from a page whose configured server is on that
origin goes through (so it is the policy that blocks it, not the other host)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser
from tests.browser.static_server import serve_static

from livecells.site import build

CELL = "```{code-cell} python\n1\n```\n"
FETCH = """async url => {
    const violations = [];
    let seen;
    const violated = new Promise(resolve => { seen = resolve; });
    document.addEventListener("securitypolicyviolation", event => {
        violations.push([event.effectiveDirective, event.blockedURI]);
        seen();
    });
    try {
        const response = await fetch(url);
        return { text: await response.text(), violations };
    } catch (error) {
        // The violation's event may come after the rejection: wait for it, 10 s at most.
        await Promise.race([violated, new Promise(resolve => setTimeout(resolve, 10000))]);
        return { error: String(error), violations };
    }
}"""


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Another origin, which answers any page (CORS allows every origin)."""
    root = tmp_path_factory.mktemp("elsewhere")
    (root / "hello.txt").write_text("hello from elsewhere")
    with serve_static(root, isolated=False, cors=True) as url:
        yield url


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, elsewhere: str) -> Iterator[str]:
    source, output = tmp_path_factory.mktemp("csp-book"), tmp_path_factory.mktemp("csp-site")
    (source / "closed.md").write_text(CELL)
    (source / "listed.md").write_text(
        f"---\njupyter:\n  server: {{url: '{elsewhere}', token: ''}}\n---\n{CELL}"
    )
    assert build(source, output).problems == []
    with serve_static(output, isolated=False) as url:
        yield url


def fetch_from(browser: Browser, page_url: str, url: str) -> dict[str, Any]:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(page_url)
        result: dict[str, Any] = page.evaluate(FETCH, url)
        return result
    finally:
        context.close()


def test_a_fetch_to_an_origin_no_runtime_names_is_blocked(
    browser: Browser, site: str, elsewhere: str
) -> None:
    target = elsewhere + "hello.txt"
    blocked = fetch_from(browser, site + "closed.html", target)
    assert "text" not in blocked, blocked
    assert blocked["violations"] == [["connect-src", target]]
    allowed = fetch_from(browser, site + "listed.html", target)
    assert allowed == {"text": "hello from elsewhere", "violations": []}
