"""``livecells run --runtime pyodide`` tells an author what the reader's browser will do: the same
pages, run on a built site in Chromium and by the command, give the same outcome, cell by cell.

Both restore the same memory snapshot with the same worker core, and both can stack switch
(JSPI), so what suspends (``time.sleep``, ``run_sync``, awaiting a JavaScript promise) passes or
fails the same way in both.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from playwright.sync_api import Browser, Page, expect
from tests.browser.static_server import serve_static

from livecells.node import node_executable
from livecells.reports import strip_ansi
from livecells.site import build

EXAMPLES = Path(__file__).parents[2] / "examples"
BOOT = 120_000  # ms: loading Pyodide on 2 busy cores
HEADER = "---\nkernelspec: {name: python3, display_name: Python 3}\n---\n"

SUSPENDING = HEADER + "\n".join(
    f"```{{code-cell}} python\n{source}\n```\n"
    for source in (
        "import time\nstart = time.monotonic()\ntime.sleep(0.3)\n"
        "print('slept', time.monotonic() - start >= 0.29)",
        "from pyodide.ffi import can_run_sync, run_sync\nprint('can_run_sync', can_run_sync())",
        "import asyncio\nprint(run_sync(asyncio.sleep(0.05, result='resumed')))",
        "from js import Promise\nprint(run_sync(Promise.resolve('a promise, synchronously')))",
        "print(await Promise.resolve('a promise, awaited'))",
    )
)
FAILING = HEADER + "\n".join(
    f"```{{code-cell}} python\n{source}\n```\n"
    for source in (
        "print('before')",
        "def check():\n    raise ValueError('the page fails here')\n\ncheck()",
        "print('never run')",
    )
)
NODE_HAS_JSPI = (
    int(
        subprocess.run([node_executable(), "--version"], capture_output=True, text=True)
        .stdout[1:]
        .split(".")[0]
    )
    >= 24
)
RUNTIME = HEADER + (
    "```{code-cell} python\nimport os, sys\nfrom js import navigator\n"
    "print(sys._emscripten_info.runtime == navigator.userAgent)\n"
    "print(os.environ['_'], os.environ['LANG'])\n```\n"
)
Outcome = list[tuple[str, list[tuple[str, str]]]]
"""Per cell: its execution count as the page shows it, and its outputs as (kind, text)."""


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("parity-book")
    (root / "livecells.yml").write_text("project:\n  jupyter: lite\n")
    shutil.copy(EXAMPLES / "basics.md", root / "basics.md")  # the book's first code page
    (root / "suspending.md").write_text(SUSPENDING)
    plain = "livecells: {pyodide: {snapshot: false}}\n"
    (root / "suspending-plain.md").write_text(SUSPENDING.replace("---\n", "---\n" + plain, 1))
    (root / "failing.md").write_text(FAILING)
    (root / "runtime.md").write_text(RUNTIME)
    return root


@pytest.fixture(scope="module")
def site(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("parity-site")
    assert build(source, output).problems == []
    return output


@pytest.fixture(scope="module")
def command_outcomes(source: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every page run once by ``livecells run --runtime pyodide`` (a subprocess, as a user runs
    it): the JSON report, and each page's executed notebook."""
    cwd = tmp_path_factory.mktemp("parity-run")
    pages = [str(source / f"{name}.md") for name in ("basics", "suspending", "failing")]
    done = subprocess.run(
        [sys.executable, "-m", "livecells", "run", "--runtime", "pyodide", "--json", *pages],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_COLOR": "1"},
    )
    report = json.loads(done.stdout)
    outcomes: dict[str, Any] = {}
    for entry in report["notebooks"]:
        name = Path(entry["source"]).stem
        notebook = nbformat.read(cwd / entry["output"], as_version=4)
        outcomes[name] = (entry, notebook_outcome(notebook))
    return outcomes


def notebook_outcome(notebook: Any) -> Outcome:
    """What the page would show for each cell of an executed notebook."""
    cells: Outcome = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        outputs: list[tuple[str, str]] = []
        for output in cell.outputs:
            kind = output["output_type"]
            if kind == "stream":
                if outputs and outputs[-1][0] == f"stream:{output['name']}":
                    outputs[-1] = (outputs[-1][0], outputs[-1][1] + output["text"])
                else:
                    outputs.append((f"stream:{output['name']}", output["text"]))
            elif kind == "error":
                outputs.append(("error", strip_ansi("\n".join(output["traceback"]))))
            else:
                outputs.append(("display", output["data"].get("text/plain", "")))
        count = cell.execution_count
        cells.append((f"[{count}]:" if count is not None else "[ ]:", outputs))
    return cells


def browser_outcome(page: Page) -> Outcome:
    return [
        (entry["count"], [(kind, text) for kind, text in entry["outputs"]])
        for entry in page.evaluate(
            """() => [...document.querySelectorAll(".lc-cell")].map((cell) => ({
                count: cell.querySelector(".lc-count").textContent.trim(),
                outputs: [...cell.querySelectorAll(".lc-outputs > .lc-output")].map((o) => [
                    o.classList.contains("lc-error") ? "error"
                        : o.classList.contains("lc-stream")
                        ? (o.classList.contains("lc-stderr") ? "stream:stderr" : "stream:stdout")
                        : "display",
                    o.textContent,
                ]),
            }))"""
        )
    ]


def run_in_browser(browser: Browser, url: str) -> Outcome:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(url)
        page.locator("button.lc-power").click()  # Start runs every cell (autoRun)
        counts = page.locator(".lc-count")
        expect(counts.first).to_have_text(re.compile(r"^\[\d+\]:$"), timeout=BOOT)
        page.wait_for_function(
            """() => document.querySelector(".lc-panel").dataset.status.match(/^(ready|idle)$/)
                && ![...document.querySelectorAll(".lc-count")].some(
                    (c) => c.textContent.trim() === "[*]:")""",
            timeout=60_000,
        )
        return browser_outcome(page)
    finally:
        context.close()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", ["basics", "failing"])
def test_a_page_runs_the_same_in_chromium_and_in_livecells_run(
    name: str, browser: Browser, site: Path, command_outcomes: dict[str, Any]
) -> None:
    """The book's first code page (``time.sleep`` after the snapshot restore) and a page that
    fails: the same counts, outputs and tracebacks, cell by cell."""
    entry, command = command_outcomes[name]
    with serve_static(site, isolated=True) as url:
        browser_cells = run_in_browser(browser, f"{url}{name}.html")
    assert browser_cells == command
    outputs = "".join(text for _, cell in command for _, text in cell)
    assert "RuntimeWarning" not in outputs and "stack switching" not in outputs
    if name == "failing":
        assert entry["status"] == "failed"
        assert (entry["failure"]["ename"], entry["failure"]["evalue"]) == (
            "ValueError",
            "the page fails here",
        )
        assert command[2] == ("[ ]:", [])  # not run after the failure, in both
    else:
        assert entry["status"] == "passed", entry
        assert command[1] == ("[2]:", [("stream:stdout", "step 0\nstep 1\nstep 2\n")])


@pytest.mark.timeout(300)
def test_what_suspends_works_after_the_snapshot_restore_as_in_livecells_run(
    browser: Browser, site: Path, command_outcomes: dict[str, Any]
) -> None:
    """``time.sleep``, ``run_sync`` of a coroutine and of a JavaScript promise, and ``await``:
    in Chromium, from the snapshot, all stack switch. ``livecells run`` matches it where
    Node.js has JSPI (24+); older Node.js runs Python as a browser without JSPI does, and only
    the cells that need JSPI differ."""
    entry, command = command_outcomes["suspending"]
    with serve_static(site, isolated=False) as url:
        browser_cells = run_in_browser(browser, f"{url}suspending.html")
    expected = [
        "slept True\n",
        "can_run_sync True\n",
        "resumed\n",
        "a promise, synchronously\n",
        "a promise, awaited\n",
    ]
    assert browser_cells == [
        (f"[{n}]:", [("stream:stdout", text)]) for n, text in enumerate(expected, 1)
    ]
    if NODE_HAS_JSPI:
        assert command == browser_cells
        assert entry["status"] == "passed"
    else:
        assert command[:2] == [
            ("[1]:", [("stream:stdout", "slept True\n")]),
            ("[2]:", [("stream:stdout", "can_run_sync False\n")]),
        ]
        assert "stack switching not supported" in entry["failure"]["evalue"]


def test_a_restored_interpreter_describes_the_browser_it_runs_in_not_the_build_machine(
    browser: Browser, site: Path
) -> None:
    with serve_static(site, isolated=False) as url:
        cells = run_in_browser(browser, f"{url}runtime.html")
    assert cells == [("[1]:", [("stream:stdout", "True\n./this.program en_US.UTF-8\n")])]


@pytest.mark.timeout(300)
def test_after_a_snapshot_restore_python_suspends_exactly_as_after_a_plain_start(
    browser: Browser, site: Path
) -> None:
    with serve_static(site, isolated=True) as url:
        restored = run_in_browser(browser, f"{url}suspending.html")
        started = run_in_browser(browser, f"{url}suspending-plain.html")
    assert restored == started
    assert '"snapshot":false' in (site / "suspending-plain.html").read_text()
    assert '"snapshot":true' in (site / "suspending.html").read_text()
    assert [text for _, cell in restored for _, text in cell][1] == "can_run_sync True\n"
