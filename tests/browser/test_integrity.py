"""Sub-resource integrity of a built site, in Chromium: the client's lazy chunks (import map
``integrity``), KaTeX's stylesheet, on a root page and a nested one, at the host's root and
under a sub-path. A chunk changed on the host after the build is refused, and the page says
so where the chunk was needed; its code never runs."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.browser.static_server import serve_static

from livecells.site import build

BOOT = 90_000  # ms: loading Pyodide on 2 busy cores
PAGE = """---
kernelspec: {name: python3, display_name: Python 3}
---
# Integrity

Math in prose: $x^2 + 1$.

```{code-cell} python
from IPython.display import Markdown
Markdown("**bold** output")
```
"""
CHUNKS = {
    "editor": "editor-*.js",
    "math": "auto-render-*.js",
    "markdown": "marked.esm-*.js",
    "shared": "chunk-*.js",  # imported by the entry itself, before the first paint
}
PAGES = ["index.html", "part/nested.html"]


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A host's document root with the site at the root and again under ``/docs/v1/``."""
    source = tmp_path_factory.mktemp("integrity-book")
    (source / "livecells.yml").write_text(
        "project:\n  jupyter: lite\n  toc:\n    - file: index.md\n    - file: part/nested.md\n"
        "  livecells:\n    autoRun: false\n"
    )
    (source / "index.md").write_text(PAGE)
    (source / "part").mkdir()
    (source / "part" / "nested.md").write_text(PAGE)
    host = tmp_path_factory.mktemp("host")
    assert build(source, host).problems == []
    shutil.copytree(host, host / "docs" / "v1", ignore=shutil.ignore_patterns("docs"))
    return host


@dataclass
class Visit:
    page: Page
    errors: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def tampered(self) -> object:
        return self.page.evaluate("globalThis.__tampered ?? null")

    def wait_for_refusal(self, timeout: float = 30.0) -> None:
        """Until the browser has said it refused a file for its integrity (its console)."""
        deadline = time.monotonic() + timeout
        while not any("integrity" in error for error in self.errors):
            assert time.monotonic() < deadline, f"no integrity refusal: {self.errors}"
            self.page.wait_for_timeout(50)  # lets Playwright deliver console events


@pytest.fixture
def visit(browser: Browser, deployed: Path) -> Iterator[object]:
    """``visit(path)``: the page in a fresh profile (nothing cached), its console collected."""
    contexts = []
    with serve_static(deployed, isolated=False) as url:

        def open_(path: str) -> Visit:
            context = browser.new_context()
            contexts.append(context)
            page = context.new_page()
            page.set_default_timeout(30_000)
            seen = Visit(page)
            page.on("console", lambda m: seen.errors.append(m.text) if m.type == "error" else None)
            page.on("response", lambda r: seen.missing.append(r.url) if r.status == 404 else None)
            page.goto(url + path)
            return seen

        yield open_
        for context in contexts:
            context.close()


@pytest.fixture
def tamper(deployed: Path) -> Iterator[object]:
    """``tamper(chunk)``: code that marks ``globalThis.__tampered`` is put in front of the
    chunk's bytes on the host (every copy), and taken out again after the test."""
    originals: dict[Path, bytes] = {}

    def tamper_(chunk: str) -> None:
        for path in deployed.rglob(f"_livecells/chunks/{CHUNKS[chunk]}"):
            originals[path] = path.read_bytes()
            path.write_bytes(f"globalThis.__tampered = {chunk!r};\n".encode() + originals[path])

    yield tamper_
    for path, data in originals.items():
        path.write_bytes(data)


def run_first_cell(page: Page) -> None:
    page.locator("button.lc-power").click()
    expect(page.locator(".lc-panel")).to_have_attribute(
        "data-status", re.compile("^(ready|idle)$"), timeout=BOOT
    )
    page.locator(".lc-cell").first.locator("button.lc-run").click()


@pytest.mark.parametrize("prefix", ["", "docs/v1/"], ids=["at-root", "under-a-sub-path"])
@pytest.mark.parametrize("path", PAGES)
def test_untouched_chunks_and_katex_load_with_their_integrity(
    visit: object, prefix: str, path: str
) -> None:
    seen: Visit = visit(prefix + path)  # type: ignore[operator]
    page = seen.page
    expect(page.locator(".lc-markdown .katex").first).to_be_visible()
    sheet = page.locator('link[href$="katex/katex.min.css"]')
    expect(sheet).to_have_attribute("integrity", re.compile(r"^sha384-"))
    assert page.evaluate(
        """() => [...document.styleSheets].some((s) => (s.href || "").endsWith("katex.min.css"))"""
    )
    page.locator(".lc-cell").first.locator(".lc-source").click()
    expect(page.locator(".lc-cell .cm-editor").first).to_be_visible()
    run_first_cell(page)
    output = page.locator(".lc-cell").first.locator(".lc-outputs")
    expect(output.locator("strong")).to_have_text("bold", timeout=30_000)
    assert [url for url in seen.missing if not url.endswith("/favicon.ico")] == []
    assert [e for e in seen.errors if "404 (File not found)" not in e] == []


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("chunk", ["editor", "math", "markdown", "shared"])
def test_a_tampered_chunk_is_refused_and_the_page_says_so(
    visit: object, tamper: object, chunk: str, path: str
) -> None:
    tamper(chunk)  # type: ignore[operator]
    seen: Visit = visit(path)  # type: ignore[operator]
    page = seen.page
    cell = page.locator(".lc-cell").first
    if chunk == "shared":
        # The entry's own module graph fails: nothing of the client runs, not even the panel.
        seen.wait_for_refusal()  # the graph has failed once one of its modules is refused
        assert page.locator("button.lc-power").count() == 0
    elif chunk == "editor":
        cell.locator(".lc-source").click()
        expect(cell.locator(".lc-chunk-problem, .lc-problem")).to_contain_text(
            "livecells could not load the editor"
        )
        assert cell.locator(".cm-editor").count() == 0
    elif chunk == "math":
        problem = page.locator(".lc-markdown .lc-chunk-problem")
        expect(problem).to_contain_text("livecells could not load math typesetting (KaTeX)")
        assert page.locator(".lc-markdown .katex").count() == 0
    else:
        run_first_cell(page)
        expect(cell.locator(".lc-outputs .lc-chunk-problem")).to_contain_text(
            "livecells could not load Markdown rendering", timeout=30_000
        )
    seen.wait_for_refusal()
    assert seen.tampered() is None
