"""The Binder runtime in the page, against a local stand-in BinderHub (tests/binderhub.py;
mybinder.org cannot be reached from here) that streams the real build events and launches a
real ``jupyter server`` (allow_origin=*), on a built site served from 127.0.0.1."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
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


# One page of a book pointed at another repository (an environment with bash) and kernel.
BASH_PAGE = """---
title: Bash
kernelspec: {{name: bash, display_name: Bash}}
jupyter:
  binder: {{repo: 'https://github.com/owner/bash-env', ref: v2, url: '{hub}'}}
  kernelName: bash
---
```{{code-cell}} bash
echo "$((6 * 7)) from $0"
```
```{{code-cell}} bash
:tags: [raises-exception]
ls /no/such/folder
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
    (source / "culled.md").write_text(PAGE.format(title="Culled", repo="owner/culled", hub=hub.url))
    nosave = PAGE.format(title="No saving", repo="owner/nosave", hub=hub.url)
    (source / "nosave.md").write_text(
        nosave.replace("jupyter:\n", "jupyter:\n  disableSessionSaving: true\n")
    )
    (source / "bash.md").write_text(BASH_PAGE.format(hub=hub.url))
    # MyST's `binder: true`: no repository named, so project.github's is built.
    (source / "myst.yml").write_text("project:\n  github: https://github.com/owner/from-github\n")
    github = PAGE.format(title="GitHub", repo="owner/unused", hub=hub.url)
    (source / "github.md").write_text(github.replace("repo: owner/unused, ", ""))
    (source / "log.md").write_text(PAGE.format(title="Log", repo="owner/log", hub=hub.url))
    output = tmp_path_factory.mktemp("binder-site")
    assert build(source, output).problems == []
    with serve_static(output, isolated=False) as url:
        yield url


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a browser context of its own (its own localStorage), closed after the test."""
    context = browser.new_context()
    yield context.new_page()
    context.close()


def test_the_build_is_shown_live_then_cells_run_and_a_reload_reuses_the_server(
    page: Page, hub: StandInBinderHub, site_url: str
) -> None:
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


def test_a_failed_build_says_why(page: Page, site_url: str) -> None:
    page.goto(site_url + "broken.html")
    page.locator("button.lc-power").click()
    expect(page.locator(".lc-status")).to_contain_text("repository not found", timeout=30_000)
    expect(page.locator(".lc-panel")).to_have_attribute("data-status", "error")


def run_first_cell(page: Page, expected: str | re.Pattern[str]) -> None:
    page.locator("button.lc-power").click()
    expect(page.locator(".lc-cell .lc-outputs").first).to_contain_text(expected, timeout=90_000)


def test_a_saved_server_that_is_gone_is_built_again(
    page: Page, hub: StandInBinderHub, site_url: str
) -> None:
    page.goto(site_url + "culled.html")
    run_first_cell(page, "42")
    assert hub.launches.count("github/owner/culled/main") == 1
    hub.servers[-1].stop()  # Binder culled it
    page.reload()
    run_first_cell(page, "42")
    assert hub.launches.count("github/owner/culled/main") == 2


def test_with_session_saving_off_a_reload_builds_again(
    page: Page, hub: StandInBinderHub, site_url: str
) -> None:
    page.goto(site_url + "nosave.html")
    run_first_cell(page, "42")
    assert not [key for key in page.evaluate("Object.keys(localStorage)") if "nosave" in key]
    page.reload()
    run_first_cell(page, "42")
    assert hub.launches.count("github/owner/nosave/main") == 2


def test_a_page_can_point_at_another_repository_and_kernel(
    page: Page, hub: StandInBinderHub, site_url: str
) -> None:
    page.goto(site_url + "bash.html")
    run_first_cell(page, re.compile(r"42 from \S*bash"))
    assert hub.launches.count("github/owner/bash-env/v2") == 1


def test_binder_without_a_repository_builds_the_projects_github_repository(
    page: Page, hub: StandInBinderHub, site_url: str
) -> None:
    page.goto(site_url + "github.html")
    run_first_cell(page, "42")
    assert hub.launches.count("github/owner/from-github/main") == 1


def test_the_build_log_is_a_panel_of_its_own_closed_once_the_server_is_ready(
    page: Page, site_url: str
) -> None:
    page.goto(site_url + "log.html")
    page.locator("button.lc-power").click()
    log = page.locator("details.lc-log")
    expect(log).to_have_attribute("open", "", timeout=30_000)  # open while Binder builds
    expect(page.locator(".lc-cell .lc-outputs").first).to_contain_text("42", timeout=90_000)
    expect(log).not_to_have_attribute("open", "")
    assert page.locator(".lc-panel details, .lc-panel .lc-log").count() == 0
    expect(log.locator("summary")).to_have_text("Build log")
    box = page.locator(".lc-panel").bounding_box()
    assert box is not None and box["height"] <= 56, "the log made the panel grow"
    log.locator("summary").click()
    expect(log.locator("pre")).to_contain_text("[ready] server running at")


def test_a_failed_bash_command_says_its_exit_status(page: Page, site_url: str) -> None:
    page.goto(site_url + "bash.html")
    run_first_cell(page, re.compile(r"42 from \S*bash"))
    error = page.locator(".lc-cell").nth(1).locator(".lc-error")
    expect(error).to_have_text("The command failed (exit status 2)", timeout=30_000)


def test_a_project_configured_as_myst_configures_binder_runs_there(
    browser: Browser, hub: StandInBinderHub, tmp_path: Path
) -> None:
    """MyST's project-wide form (``jupyter.binder`` with only the BinderHub's URL, the
    repository from ``project.github`` at ``HEAD``): the built page runs on Binder, and the
    ``requirements.txt`` beside it (the Binder image's) is not resolved as Pyodide wheels."""
    source = tmp_path / "book"
    source.mkdir()
    (source / "myst.yml").write_text(
        f"version: 1\nproject:\n  github: owner/myst-book\n  jupyter:\n    binder:\n"
        f"      url: '{hub.url}'\n"
    )
    (source / "page.md").write_text(
        "---\nkernelspec: {name: python3}\n---\n```{code-cell} python\nprint(6 * 7)\n```\n"
    )
    (source / "requirements.txt").write_text("no-such-package-for-pyodide==0.0.1\n")
    output = tmp_path / "site"
    assert build(source, output).problems == []
    assert not (output / "_livecells" / "wheels").exists()
    context = browser.new_context()
    try:
        with serve_static(output, isolated=False) as url:
            page = context.new_page()
            page.goto(url + "page.html")
            run_first_cell(page, "42")
        assert hub.launches.count("github/owner/myst-book/HEAD") == 1
    finally:
        context.close()
