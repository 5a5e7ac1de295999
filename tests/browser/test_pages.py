"""A reader's view: pages of a real ``livecells serve`` in headless Chromium."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect
from tests.conftest import JupyterServer, start_jupyter_server

OpenPage = Callable[[str], Page]


READY = re.compile(r"^(ready|idle)$")


def wait_idle(page: Page) -> None:
    expect(page.locator(".lc-panel")).to_have_attribute("data-status", READY, timeout=60_000)


def outputs(page: Page, index: int) -> str:
    return page.locator(".lc-cell").nth(index).locator(".lc-outputs").inner_text()


def test_power_runs_every_cell_and_outputs_appear_in_order(open_page: OpenPage) -> None:
    page = open_page("tests/order.html")
    page.locator("button.lc-power").click()
    expect(page.locator(".lc-cell").nth(2).locator("b.rich")).to_have_text("three", timeout=60_000)
    assert outputs(page, 0).strip() == "one"
    assert outputs(page, 1).strip() == "two"
    counts = page.locator(".lc-count").all_inner_texts()
    assert [text.strip() for text in counts] == ["[1]:", "[2]:", "[3]:"]


def test_output_streams_while_the_cell_runs(open_page: OpenPage) -> None:
    page = open_page("tests/stream.html")
    page.locator("button.lc-power").click()
    cell = page.locator(".lc-cell").first
    expect(cell.locator(".lc-outputs")).to_contain_text("first", timeout=60_000)
    assert "second" not in outputs(page, 0)  # the cell sleeps 3 s before printing it
    expect(cell.locator(".lc-outputs")).to_contain_text("second", timeout=10_000)


def test_input_asks_in_the_page_and_the_kernel_gets_the_answer(open_page: OpenPage) -> None:
    page = open_page("tests/interactive.html")
    page.locator("button.lc-power").click()
    wait_idle(page)
    cell = page.locator(".lc-cell").first
    cell.locator("button.lc-run").click()
    box = cell.locator("input.lc-stdin")
    expect(box).to_be_visible(timeout=30_000)
    expect(cell.locator(".lc-outputs")).to_contain_text("Your name:")
    box.fill("Ada")
    box.press("Enter")
    expect(cell.locator(".lc-outputs")).to_contain_text("Hello, Ada!", timeout=30_000)


def test_interrupt_stops_an_endless_loop(open_page: OpenPage) -> None:
    page = open_page("tests/interactive.html")
    page.locator("button.lc-power").click()
    wait_idle(page)
    cell = page.locator(".lc-cell").nth(1)
    cell.locator("button.lc-run").click()
    expect(page.locator(".lc-panel")).to_have_attribute("data-status", "busy", timeout=30_000)
    page.wait_for_timeout(500)
    page.locator("button.lc-interrupt").click()
    expect(cell.locator(".lc-outputs")).to_contain_text("KeyboardInterrupt", timeout=30_000)
    wait_idle(page)


def test_shift_enter_runs_the_focused_cell(open_page: OpenPage) -> None:
    page = open_page("tests/interactive.html")
    page.locator("button.lc-power").click()
    wait_idle(page)
    page.locator(".lc-cell").nth(2).locator(".lc-source").focus()
    page.keyboard.press("Shift+Enter")
    expect(page.locator(".lc-cell").nth(2).locator(".lc-count")).to_have_text("[1]:")


def test_a_reload_re_attaches_to_the_saved_session(open_page: OpenPage) -> None:
    page = open_page("tests/interactive.html")
    page.locator("button.lc-power").click()
    wait_idle(page)
    page.locator(".lc-cell").nth(2).locator("button.lc-run").click()
    expect(page.locator(".lc-cell").nth(2).locator(".lc-count")).to_have_text("[1]:")
    wait_idle(page)
    page.reload()
    page.locator("button.lc-power").click()
    wait_idle(page)
    last = page.locator(".lc-cell").nth(3)
    last.locator("button.lc-run").click()
    expect(last.locator(".lc-outputs")).to_contain_text("42", timeout=30_000)


def test_no_xss_payload_in_html_svg_or_markdown_outputs_runs(open_page: OpenPage) -> None:
    page = open_page("tests/xss.html")
    hits: list[str] = []
    page.on("dialog", lambda dialog: (hits.append(dialog.message), dialog.dismiss()))
    page.expose_function("__pwned", lambda n: hits.append(f"payload {n}"))
    page.reload()
    assert page.evaluate("typeof window.__pwned") == "function"  # the tripwire is armed
    page.locator("button.lc-power").click()
    cell = page.locator(".lc-cell").first
    expect(cell.locator(".lc-outputs")).to_contain_text("51 payloads shown", timeout=60_000)
    # Delayed vectors: let every image load or fail and two animation frames pass, then poke
    # the clickables and let their handlers (if any survived) run.
    settled = """() => [...document.querySelectorAll('.lc-outputs img')].every(i => i.complete)"""
    page.wait_for_function(settled, timeout=30_000)
    frames = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
    page.evaluate(frames)
    for target in cell.locator(".lc-outputs a, .lc-outputs button, .lc-outputs x").all():
        target.click(timeout=2000, no_wait_after=True, force=True)
    page.evaluate(frames)
    assert hits == []
    assert page.evaluate("document.querySelectorAll('.lc-outputs script').length") == 0


def test_a_page_with_jupyter_false_has_no_panel_and_reads_statically(
    open_page: OpenPage,
) -> None:
    page = open_page("tests/off.html")
    expect(page.locator(".lc-source")).to_contain_text('print("never runs here")')
    page.wait_for_load_state("load")  # module scripts (the client) have run before "load"
    assert page.evaluate("typeof window.livecells") == "undefined"  # it ran, and mounted nothing
    assert page.locator(".lc-panel").count() == 0


def test_the_example_book_screenshot(open_page: OpenPage, tmp_path: Path) -> None:
    """Runs the README's example page and keeps a screenshot of it (docs/screenshot.png is
    refreshed from this by hand)."""
    page = open_page("outputs.html")
    page.locator("button.lc-power").click()
    expect(page.locator(".lc-cell").nth(4).locator(".lc-outputs")).to_contain_text(
        "100% done", timeout=60_000
    )
    page.screenshot(path=str(tmp_path / "outputs.png"), full_page=True)
    assert (tmp_path / "outputs.png").stat().st_size > 10_000


def test_run_all_goes_past_raises_exception_and_stops_at_other_errors(
    open_page: OpenPage,
) -> None:
    page = open_page("tests/errors.html")
    page.locator("button.lc-power").click()
    cells = page.locator(".lc-cell")
    expect(cells.nth(2).locator(".lc-outputs")).to_contain_text("ValueError", timeout=60_000)
    assert "ZeroDivisionError" in outputs(page, 0)
    assert "after the expected error" in outputs(page, 1)
    wait_idle(page)
    assert "never printed" not in outputs(page, 3)
    assert cells.nth(3).locator(".lc-count").inner_text().strip() == "[ ]:"


def test_a_config_error_shows_the_file_and_key_instead_of_the_page(open_page: OpenPage) -> None:
    page = open_page("tests/badconfig.html")
    expect(page.locator("h1")).to_have_text("This page cannot be shown")
    expect(page.locator("pre")).to_contain_text(
        "badconfig.md: jupyter.kernelName: expected a string"
    )


def server_page(book: Path, name: str, url: str, token: str) -> str:
    """A page whose runtime is a Jupyter Server named in its frontmatter (written now: pages
    are rendered from their files on each request)."""
    (book / "tests" / f"{name}.md").write_text(
        f"---\njupyter:\n  server: {{url: '{url}', token: '{token}'}}\n"
        "kernelspec: {name: python3, display_name: Python 3}\n---\n"
        "```{code-cell} python\nprint('hi')\n```\n"
    )
    return f"tests/{name}.html"


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    """A Jupyter Server that lets pages of other origins use it (ServerApp.allow_origin)."""
    server = start_jupyter_server(
        tmp_path_factory.mktemp("open-server"), "--ServerApp.allow_origin=*"
    )
    yield server
    server.stop()


def test_a_wrong_token_is_an_error_that_says_so(
    open_page: OpenPage, book: Path, open_server: JupyterServer
) -> None:
    page = open_page(server_page(book, "wrongtoken", open_server.url, "wrong"))
    page.locator("button.lc-power").click()
    panel = page.locator(".lc-panel")
    expect(panel).to_have_attribute("data-status", "error", timeout=30_000)
    expect(panel.locator(".lc-status")).to_contain_text("refused the token")


def test_a_named_server_runs_the_pages_cells(
    open_page: OpenPage, book: Path, open_server: JupyterServer
) -> None:
    page = open_page(server_page(book, "named", open_server.url, open_server.token))
    page.locator("button.lc-power").click()
    expect(page.locator(".lc-cell .lc-outputs")).to_contain_text("hi", timeout=60_000)


def test_an_unreachable_server_is_an_error_that_says_so(open_page: OpenPage, book: Path) -> None:
    page = open_page(server_page(book, "unreachable", "http://127.0.0.1:9/", "t"))
    page.locator("button.lc-power").click()
    panel = page.locator(".lc-panel")
    expect(panel).to_have_attribute("data-status", "error", timeout=30_000)
    expect(panel.locator(".lc-status")).to_contain_text("cannot reach the Jupyter server")
    expect(page.locator("button.lc-power")).to_be_enabled()


def test_a_kernel_that_goes_away_is_reported_dead_and_can_be_started_again(
    open_page: OpenPage, served: JupyterServer
) -> None:
    page = open_page("tests/interactive.html")
    page.locator("button.lc-power").click()
    wait_idle(page)
    kernel_id = page.evaluate("window.livecells.runtime.id")
    response = httpx.delete(
        f"{served.url}api/kernels/{kernel_id}",
        headers={"Authorization": f"token {served.token}"},
    )
    assert response.status_code == 204
    panel = page.locator(".lc-panel")
    expect(panel).to_have_attribute("data-status", "dead", timeout=30_000)
    expect(panel.locator(".lc-status")).to_contain_text("the kernel is gone")
    page.locator("button.lc-power").click()
    wait_idle(page)
    cell = page.locator(".lc-cell").nth(2)
    cell.locator("button.lc-run").click()
    expect(cell.locator(".lc-count")).to_have_text("[1]:", timeout=30_000)


# -- raw HTML in a notebook's Markdown, under `livecells serve` ----------------------------

# What a downloaded notebook's Markdown could do on the server's origin, with the author's
# login: write a file through the contents API.
ATTACK = (
    'fetch("/api/contents/{name}", {{method: "PUT", headers: {{"Content-Type": '
    '"application/json", "X-XSRFToken": document.cookie.match(/_xsrf=([^;]+)/)[1]}}, '
    'body: JSON.stringify({{type: "file", format: "text", content: "pwned"}})}})'
)


def raw_html_notebook(book: Path, name: str, *, trusted: bool) -> str:
    markdown = (
        "# Downloaded\n\nEuler: $e^{i\\pi} + 1 = 0$\n\n"
        f"<script>{ATTACK.format(name=f'{name}-script.txt')}</script>\n\n"
        f"<img src=\"nowhere.png\" onerror='{ATTACK.format(name=f'{name}-img.txt')}'>\n\n"
        '<details><summary class="kept">More</summary>Raw HTML.</details>\n'
    )
    metadata: dict[str, object] = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
    }
    if trusted:
        metadata["livecells"] = {"trusted": True}
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": metadata,
        "cells": [
            {"id": "md", "cell_type": "markdown", "metadata": {}, "source": markdown},
            {
                "id": "code",
                "cell_type": "code",
                "metadata": {},
                "source": "print(6 * 7)",
                "outputs": [],
                "execution_count": None,
            },
        ],
    }
    (book / "tests" / f"{name}.ipynb").write_text(json.dumps(notebook))
    return f"tests/{name}.html"


def open_watching_contents(open_page: OpenPage, url: str) -> tuple[Page, list[str]]:
    """The page, after a reload that every request to the contents API is recorded from."""
    page = open_page(url)
    writes: list[str] = []
    page.on("request", lambda r: writes.append(r.url) if "/api/contents" in r.url else None)
    page.reload(wait_until="load")
    return page, writes


def test_raw_html_in_an_untrusted_notebooks_markdown_does_not_run_when_served(
    open_page: OpenPage, book: Path
) -> None:
    page, writes = open_watching_contents(open_page, raw_html_notebook(book, "dl", trusted=False))
    # The page still works: KaTeX typesets, the client mounts and runs the cell.
    expect(page.locator(".lc-markdown .katex").first).to_be_visible(timeout=30_000)
    page.locator("button.lc-power").click()
    expect(page.locator(".lc-cell .lc-outputs")).to_have_text("42", timeout=60_000)
    assert writes == []
    assert not (book / "dl-script.txt").exists() and not (book / "dl-img.txt").exists()
    markdown = page.locator(".lc-markdown").first
    assert markdown.locator("script").count() == 0
    assert markdown.locator("img").get_attribute("onerror") is None
    expect(markdown.locator("details summary")).to_have_text("More")


def test_served_pages_carry_the_built_pages_script_policy(open_page: OpenPage, book: Path) -> None:
    """Sanitising aside, a script that reaches the page some other way does not run."""
    page = open_page(raw_html_notebook(book, "policy", trusted=False))
    policy = page.locator('meta[http-equiv="Content-Security-Policy"]').get_attribute("content")
    assert policy is not None and "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    ran = page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.body.append(script);
            return window.injected === true;
        }"""
    )
    assert ran is False


def test_a_trusted_notebooks_raw_html_is_what_mystmd_keeps(open_page: OpenPage, book: Path) -> None:
    """mystmd reads raw HTML into its AST and drops scripts and event handlers, trusted or not
    (as a MyST site does); trust still embeds what it keeps (the details) and lets
    application/javascript outputs run."""
    page = open_page(raw_html_notebook(book, "own", trusted=True))
    expect(page.locator(".lc-markdown .katex").first).to_be_visible(timeout=30_000)
    markdown = page.locator(".lc-markdown").first
    expect(markdown.locator("details summary")).to_have_text("More")
    assert markdown.locator("script").count() == 0
    assert markdown.locator("img").get_attribute("onerror") is None


def test_a_served_page_reloads_itself_when_its_file_changes(
    open_page: OpenPage, book: Path
) -> None:
    """Live reload (an EventSource to the server) within the served pages' script policy."""
    source = book / "tests" / "changing.md"
    source.write_text("# Before\n\n```{code-cell} python\n1\n```\n")
    page = open_page("tests/changing.html")
    # Watching starts once the server answered the page's EventSource.
    with page.expect_response(lambda response: "api/changes" in response.url):
        page.reload()
    expect(page.locator("h1")).to_have_text("Before")
    expect(page.locator("button.lc-power")).to_be_visible()
    source.write_text("# After\n\n```{code-cell} python\n1\n```\n")
    expect(page.locator("h1")).to_have_text("After", timeout=30_000)
