"""The Binder runtime in the page, against a local stand-in BinderHub (tests/binderhub.py;
mybinder.org cannot be reached from here) that streams the real build events and launches a
real ``jupyter server`` (allow_origin=*), on a built site served from 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect
from tests.binderhub import StandInBinderHub, standin_binderhub
from tests.browser.static_server import serve_static

from livecells.site import build

PAGE = """---
title: {title}
kernelspec: {{name: python3, display_name: Python 3}}
jupyter:
  binder: {{repo: {repo}, ref: main, url: '{hub}'}}
---
```{{code-cell}} python
print(6 * 7)
```
"""


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandInBinderHub]:
    with standin_binderhub(tmp_path_factory.mktemp("binder-repo")) as running:
        yield running


@pytest.fixture(scope="module")
def site_url(tmp_path_factory: pytest.TempPathFactory, hub: StandInBinderHub) -> Iterator[str]:
    source = tmp_path_factory.mktemp("binder-book")
    (source / "ok.md").write_text(PAGE.format(title="OK", repo="owner/name", hub=hub.url))
    (source / "broken.md").write_text(PAGE.format(title="Broken", repo="owner/fail", hub=hub.url))
    output = tmp_path_factory.mktemp("binder-site")
    assert build(source, output).problems == []
    with serve_static(output, isolated=False) as url:
        yield url


def test_the_build_is_shown_live_then_cells_run_and_a_reload_reuses_the_server(
    browser: Browser, hub: StandInBinderHub, site_url: str
) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(site_url + "ok.html")
    page.locator("button.lc-power").click()
    output = page.locator(".lc-cell .lc-outputs").first
    expect(output).to_contain_text("42", timeout=90_000)
    log = page.locator(".lc-log pre")
    expect(log).to_contain_text("[building] Step 2/2 : RUN pip install ipykernel")
    expect(log).to_contain_text("[ready] server running at")
    assert hub.launches == ["github/owner/name/main"]
    page.reload()
    page.locator("button.lc-power").click()
    expect(page.locator(".lc-cell .lc-outputs").first).to_contain_text("42", timeout=60_000)
    assert hub.launches == ["github/owner/name/main"], "the saved server was not reused"
    context.close()


def test_a_failed_build_says_why(browser: Browser, site_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(site_url + "broken.html")
    page.locator("button.lc-power").click()
    expect(page.locator(".lc-status")).to_contain_text("repository not found", timeout=30_000)
    expect(page.locator(".lc-panel")).to_have_attribute("data-status", "error")
    context.close()
