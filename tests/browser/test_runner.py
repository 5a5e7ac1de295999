"""The Execution Tool in the page: "Run every page" runs each page of a built Pyodide site in a
fresh session, up to three at once, and reports each page's outcome (Chromium, real Pyodide)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from tests.browser.static_server import serve_static

from livecells.site import build

BOOT = 240_000  # ms: three Pythons loading at once on 2 busy cores
HEADER = "---\ntitle: {title}\nkernelspec: {{name: python3, display_name: Python 3}}\n---\n"


def page(title: str, *cells: str) -> str:
    blocks = "".join(f"\n```{{code-cell}} python\n{cell}\n```\n" for cell in cells)
    return HEADER.format(title=title) + f"# {title}\n{blocks}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("runner-book")
    (source / "livecells.yml").write_text(
        "project:\n  title: Runner\n  jupyter: lite\n  livecells:\n    autoRun: false\n"
        "    pyodide: {preload: false}\n"
        "  toc:\n    - file: index.md\n    - file: sums.md\n    - file: broken.md\n"
        "    - file: tagged.md\n    - file: prose.md\n    - file: loop.md\n"
    )
    (source / "index.md").write_text(page("Index", "print('index')"))
    (source / "sums.md").write_text(page("Sums", "total = sum(range(10))", "print(total)"))
    (source / "broken.md").write_text(
        page("Broken", "x = 1", "def f():\n    return 1 / 0\nf()", "print('never')")
    )
    (source / "tagged.md").write_text(
        HEADER.format(title="Tagged")
        + "```{code-cell} python\n:tags: [raises-exception]\nraise ValueError('fine')\n```\n"
        + "```{code-cell} python\nprint('after')\n```\n"
    )
    (source / "prose.md").write_text("# Prose\n\nNo code here.\n")
    (source / "loop.md").write_text(page("Loop", "while True:\n    pass"))
    output = tmp_path_factory.mktemp("runner-site")
    built = build(source, output)
    assert built.problems == []
    return output


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    with serve_static(site, isolated=True) as url:
        yield url


def test_run_every_page_reports_each_page_and_the_failing_one(
    browser: Browser, base_url: str
) -> None:
    context = browser.new_context()
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    tab.goto(base_url + "index.html")
    tab.locator("button.lc-runner-button").click()
    dialog = tab.locator("dialog.lc-runner")
    expect(dialog).to_be_visible()
    # A page may run 5 s here (120 s by default): then its running cell is interrupted.
    tab.evaluate("async () => { (await window.livecells.runner).pageTimeout = 5; }")
    dialog.locator("button.lc-runner-start").click()
    summary = dialog.locator(".lc-runner-summary")
    expect(summary).to_contain_text("6 pages: 2 failed", timeout=BOOT)
    rows = dialog.locator("tbody tr")
    statuses = {
        rows.nth(i).locator("td").nth(0).inner_text(): rows.nth(i).get_attribute("data-status")
        for i in range(rows.count())
    }
    assert statuses == {
        "Index": "passed",
        "Sums": "passed",
        "Broken": "failed",
        "Tagged": "passed",
        "Prose": "no code",
        "Loop": "failed",
    }
    broken = rows.filter(has_text="Broken")
    assert broken.locator("td").nth(2).inner_text() == "2/3"
    error = broken.locator("a.lc-runner-error")
    assert error.inner_text() == "cell 2: ZeroDivisionError: division by zero"
    assert error.get_attribute("href", timeout=1000).endswith("broken.html#cell-2")
    looping = rows.filter(has_text="Loop").locator("a.lc-runner-error")
    assert looping.inner_text() == "cell 1: did not finish within 5 s: interrupted"
    # Three sessions at once: this page holds none (no preload, nothing started).
    peak = tab.evaluate("async () => (await window.livecells.runner).peak")
    assert peak == 3
    context.close()
